#!/usr/bin/env bash
# sighup_storm.sh: 20 SIGHUPs in about 100 ms, the config file swapped atomically (a temporary
# file renamed over it) before each, alternately a good config and a broken one of seven kinds
# (a syntax error, a line that is not INI, an unknown probe key, a bad expression, a token's
# secret_file readable by others, a TLS certificate that does not exist, a route naming no
# notifier). Four storms, two ending on a good file and two on a broken one. Then: the process
# lives; /healthz and /metrics answered all along; reeve_config_last_reload_successful says
# whether the last file was good; /api/v1/rules shows the rules of the last good file, read
# with its token; no token, rule or webhook URL of a broken file ever worked (tokens tried
# during the storms too); each rejection is logged with the file:line of the mistake.
. "$TEST_LIB"
plan 50
port=$(free_port)
url="http://127.0.0.1:$port"
here=$(dirname "$TEST_LIB")
conf=$T_DIR/reeve.conf
rnd=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
# in the sanitizer build: librrd's own leaks are not reeve's (tests/lsan.supp)
export LSAN_OPTIONS="suppressions=$here/../lsan.supp:fast_unwind_on_malloc=0"

/usr/bin/python3 "$here/webhookd.py" --log "$T_DIR/hooks.jsonl" --port-file "$T_DIR/hook.port" &
HOOK_PID=$!
T_PIDS+=("$HOOK_PID")
wait_for 15 test -s "$T_DIR/hook.port"
H=http://127.0.0.1:$(cat "$T_DIR/hook.port")

token() { echo "storm-token-$1-$rnd"; }
kinds=(syntax not_ini unknown_key bad_expr secret644 bad_tls no_notifier)

# make_conf TAG N [KIND]: write $T_DIR/pre/TAG.conf: rules Base (threshold -N) and Gen_TAG, the
# token storm-token-TAG-..., the webhook URL .../good/TAG; with KIND, broken that way (its
# URL .../broken/TAG) and the line of the mistake in $T_DIR/pre/TAG.line
make_conf() {
	local tag=$1 n=$2 kind=${3:-} f=$T_DIR/pre/$1.conf tls='' secret kindurl=good
	secret="secret = $(token "$tag")"
	[ -n "$kind" ] && kindurl=broken
	if [ "$kind" = secret644 ]; then
		token "$tag" > "$T_DIR/tok644-$tag"
		chmod 644 "$T_DIR/tok644-$tag"
		secret="secret_file = $T_DIR/tok644-$tag"
	fi
	[ "$kind" = bad_tls ] && tls="tls_cert = /nonexistent/reeve-storm-$tag.pem"$'\n'"tls_key = /nonexistent/reeve-storm-$tag.key"
	{
		cat <<EOC
[reeve]
data_dir = $T_DIR/data
interval = 1s
log_level = info

[http]
listen = 127.0.0.1:$port
timeout = 5s
open = healthz, metrics
$tls

[store]
preset = compact
flush_timeout = 10s

[probe load]
type = load

[token storm]
$secret
roles = read

[notifier hook]
type = webhook
url = $H/$kindurl/$tag
timeout = 5s

[route default]
notify = hook
group_wait = 0
group_interval = 1s

[alert Base]
expr = reeve_build_info > -$n
eval_interval = 1s

[alert Gen_$tag]
expr = reeve_build_info > -$n
eval_interval = 1s
EOC
		case $kind in
		syntax) printf '[probe unterminated\n' ;;
		not_ini) printf 'this line is not INI\n' ;;
		unknown_key) printf '[probe load_%s]\ntype = load\nfrobnicate = yes\n' "$tag" ;;
		bad_expr) printf '[alert Bad_%s]\nexpr = rate(reeve_build_info[5m] >\n' "$tag" ;;
		no_notifier) printf '[route extra]\nmatch = alertname="x"\nnotify = nosuch_%s\n' "$tag" ;;
		esac
	} > "$f"
	case $kind in
	'') return ;;
	syntax) grep -n '^\[probe unterminated' "$f" ;;
	not_ini) grep -n '^this line' "$f" ;;
	unknown_key) grep -n '^frobnicate' "$f" ;;
	bad_expr) grep -n '^expr = rate' "$f" ;;
	secret644) grep -n '^secret_file' "$f" ;;
	bad_tls) grep -n '^tls_cert' "$f" ;;
	no_notifier) grep -n '^notify = nosuch' "$f" ;;
	esac | cut -d: -f1 > "$T_DIR/pre/$tag.line"
}
# said KIND TAG: the message a file of this kind is rejected with (a regex after
# "reeve.conf:LINE: "); all but syntax and not_ini name the file's TAG
said() {
	case $1 in
	syntax) echo "section header without a closing '\]'" ;;
	not_ini) echo "expected 'key = value', a \[section\] header or a comment" ;;
	unknown_key) echo "\[probe load_$2\]: unknown key 'frobnicate' for a load probe" ;;
	bad_expr) echo "\[alert Bad_$2\] expr: 1:[0-9]*: " ;;
	secret644) echo "\[token storm\] secret_file [^ ]*/tok644-$2 is readable by others: chmod 600 it" ;;
	bad_tls) echo "\[http\] tls_cert \"/nonexistent/reeve-storm-$2.pem\": No such file or directory" ;;
	no_notifier) echo "\[route extra\] notify: no \[notifier nosuch_$2\] is defined" ;;
	esac
}
# swap_in TAG: rename the prepared file over the config (atomic)
swap_in() { mv -f "$T_DIR/pre/$1.conf" "$conf"; }
mkdir -p "$T_DIR/pre"

# rules TAG N: the rules API, read with TAG's token, lists exactly Base and Gen_TAG at -N
rules() {
	curl -sf --max-time 10 -H "Authorization: Bearer $(token "$1")" "$url/api/v1/rules" |
		/usr/bin/python3 -c "
import json, sys
d = json.load(sys.stdin)
rules = {r['name']: r['query'] for g in d['data']['groups'] if g['name'] != '(built-in rules)'
         for r in g['rules']}
sys.exit(rules != {'Base': 'reeve_build_info > -$2', 'Gen_$1': 'reeve_build_info > -$2'})"
}
reload_ok() { test "$(metric_value "$port" reeve_config_last_reload_successful)" = "$1"; }
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 20 "$@"; }

# rejected_at FILE LINE REGEX: reeve check refuses FILE, printing FILE:LINE: REGEX
rejected_at() {
	local out rc=0
	out=$("$REEVE" check -c "$1" 2>&1) || rc=$?
	[ "$rc" = 1 ] && grep -q -- "^$1:$2: $3" <<<"$out" || { echo "rc $rc: $out"; false; }
}
for k in "${kinds[@]}"; do
	make_conf "check_$k" 1 "$k"
	check "reeve check refuses the $k file at the line of the mistake" -- \
		rejected_at "$T_DIR/pre/check_$k.conf" "$(cat "$T_DIR/pre/check_$k.line")" "$(said "$k" "check_$k")"
done

make_conf start 1
swap_in start
start_reeve "$conf" "$T_DIR/log"
check "the daemon runs the first file's rules, read with its token" -- wait_for 30 rules start 1

# in_force TAGS...: exactly one of these files' tokens is accepted, and that file's rules run
in_force() {
	local t ok=()
	for t in "$@"; do
		[ "$(code -H "Authorization: Bearer $(token "$t")" "$url/api/v1/rules")" = 200 ] && ok+=("$t")
	done
	[ ${#ok[@]} = 1 ] || { echo "tokens accepted: ${ok[*]:-none}"; return 1; }
	rules "${ok[0]}" "${NUM[${ok[0]}]}" && echo "${ok[0]}"
}
# last_rejected TAG KIND: the last rejection in the log is that of file TAG, at its line
last_rejected() {
	local n
	n=$(grep -n 'new configuration rejected' "$T_DIR/log" | tail -1 | cut -d: -f1)
	[ -n "$n" ] && tail -n +"$n" "$T_DIR/log" |
		grep -q -- "$conf:$(cat "$T_DIR/pre/$1.line"): $(said "$2" "$1")"
}
# settled_good TAG: its rules (with its token) and reload status 1
settled_good() { rules "$1" "${NUM[$1]}" && reload_ok 1; }
# settled_broken TAG KIND: the last rejection is TAG's, and reload status 0
settled_broken() { last_rejected "$1" "$2" && reload_ok 0; }
declare -A NUM=([start]=1)
IN_FORCE=start
tagged=(unknown_key bad_expr secret644 bad_tls no_notifier)

# storm R good|broken: 20 renames and SIGHUPs, good and broken files in turn, ending as said.
# Signals that come while a reload runs coalesce, so some files are never read: the last one
# always is. After a storm ending on a good file, that file is in force; after one ending on
# a broken file, one of the good files the daemon read (this storm's, or the one in force
# before), and the last rejection logged is the last file's.
storm() {
	local r=$1 ends=$2 i tag order=() broken=() goods=("$IN_FORCE") hz tk last kind
	for ((i = 0; i < 20; i++)); do
		tag=s${r}n$i
		NUM[$tag]=$((100 * r + i))
		if [ $((i % 2)) = "$([ "$ends" = good ] && echo 1 || echo 0)" ]; then
			make_conf "$tag" "${NUM[$tag]}"
			goods+=("$tag")
		else
			kind=${kinds[$(((r + i / 2) % ${#kinds[@]}))]}
			# the last one's message names it, so the log tells when it was read
			[ "$i" = 19 ] && kind=${tagged[$((r % ${#tagged[@]}))]}
			make_conf "$tag" "${NUM[$tag]}" "$kind"
			broken+=("$tag")
		fi
		order+=("$tag")
	done
	rm -f "$T_DIR/stop"
	# while the storm lasts and until the daemon settles: /healthz, and every broken file's token
	( while [ ! -e "$T_DIR/stop" ]; do code "$url/healthz"; echo; done ) > "$T_DIR/healthz.$r" &
	hz=$!
	( while [ ! -e "$T_DIR/stop" ]; do
		for tag in "${broken[@]}"; do
			code -H "Authorization: Bearer $(token "$tag")" "$url/api/v1/rules"; echo
		done
	done ) > "$T_DIR/tokens.$r" &
	tk=$!
	T_PIDS+=("$hz" "$tk")
	# one process renames and signals, 4 ms apart: 20 SIGHUPs in about 100 ms
	/usr/bin/python3 - "$T_DIR/pre" "$conf" "$REEVE_PID" "${order[@]}" > "$T_DIR/storm.$r" <<'EOF'
import os, signal, sys, time
pre, conf, pid, tags = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
t0 = time.monotonic()
for i, tag in enumerate(tags):
    if i:
        time.sleep(0.004)
    os.rename(os.path.join(pre, tag + ".conf"), conf)
    os.kill(pid, signal.SIGHUP)
print("%d SIGHUPs in %.0f ms" % (len(tags), (time.monotonic() - t0) * 1000))
EOF
	diag "storm $r: $(cat "$T_DIR/storm.$r"), the last file $ends$([ "$ends" = broken ] && echo " ($kind)")"
	last=s${r}n19
	if [ "$ends" = good ]; then
		check "storm $r: settles on the last file's rules (read with its token), reload status 1" -- \
			wait_for 60 settled_good "$last"
	else
		check "storm $r: the last file is rejected (its $kind at its line), reload status 0" -- \
			wait_for 60 settled_broken "$last" "$kind"
	fi
	touch "$T_DIR/stop"
	wait "$hz" "$tk"
	check "storm $r: the process lives" -- kill -0 "$REEVE_PID"
	check "storm $r: /healthz answered 200 all along" -- bash -c "
		test -s '$T_DIR/healthz.$r' && ! grep -v '^200$' '$T_DIR/healthz.$r'"
	check "storm $r: no token of a broken file was ever accepted (401 every time)" -- bash -c "
		test -s '$T_DIR/tokens.$r' && ! grep -v '^401$' '$T_DIR/tokens.$r'"
	check "storm $r: exactly one good file's token is accepted, and that file's rules run" -- \
		in_force "${goods[@]}"
	IN_FORCE=$(in_force "${goods[@]}" 2>/dev/null | tail -1)
	[ "$ends" = broken ] && diag "storm $r: in force: ${IN_FORCE:-?}"
	check "storm $r: /metrics answers and promtool accepts it" -- bash -c "
		curl -sf --max-time 10 '$url/metrics' > '$T_DIR/metrics.$r' && promtool check metrics < '$T_DIR/metrics.$r'"
	if [ "$ends" = good ]; then
		check "storm $r: the last reload logged succeeded" -- bash -c "
			grep 'configuration reloaded\|new configuration rejected' '$T_DIR/log' | tail -1 |
			grep -q 'configuration reloaded: [0-9]* probes'"
	else
		check "storm $r: the last file is rejected for good: no reload follows its rejection" -- bash -c "
			n=\$(grep -n 'new configuration rejected' '$T_DIR/log' | tail -1 | cut -d: -f1)
			! tail -n +\$n '$T_DIR/log' | grep -q 'configuration reloaded'"
	fi
}
storm 1 broken
storm 2 good
storm 3 broken
storm 4 good
diag "$(grep -c 'reloading the configuration' "$T_DIR/log") reloads logged for 80 SIGHUPs (signals that arrive during a reload coalesce)"

# each kind once more, one SIGHUP at a time: the rejection names the file and line
for k in "${kinds[@]}"; do
	make_conf "one_$k" 999 "$k"
	line=$(cat "$T_DIR/pre/one_$k.line")
	before=$(grep -c -- "$conf:$line: $(said "$k" "one_$k")" "$T_DIR/log")
	swap_in "one_$k"
	kill -HUP "$REEVE_PID"
	check "a file with $k is rejected, logged as reeve.conf:$line: ..." -- wait_for 30 bash -c "
		test \"\$(grep -c -- '$conf:$line: $(said "$k" "one_$k" | sed "s/'/'\\\\''/g")' '$T_DIR/log')\" -gt $before"
done
check "after them the reload status is 0" -- wait_for 30 reload_ok 0
check "and the rules and token of the file in force before are still in force" -- \
	test "$(in_force "$IN_FORCE" one_syntax one_bad_tls)" = "$IN_FORCE"
check "every rejection in the log is followed by a file:line error" -- bash -c "
	awk '/new configuration rejected/ { want = 1; n++; next }
	     want { if (\$0 !~ /reeve\\[error\\]:   \\/.*\\/reeve\\.conf:[0-9]+: /) bad++; want = 0 }
	     END { exit !(n > 0 && bad == 0) }' '$T_DIR/log'"
check "webhook messages arrived" -- wait_for 30 test -s "$T_DIR/hooks.jsonl"
check "none went to the URL of a broken file" -- bash -c "
	grep -q '\"path\": \"/good/' '$T_DIR/hooks.jsonl' && ! grep -q '\"path\": \"/broken/' '$T_DIR/hooks.jsonl'"
stop_reeve
check "SIGTERM after the storms exits 0" -- test "$REEVE_STATUS" = 0
check "no sanitizer report in the log" -- bash -c "! grep -n 'Sanitizer\|runtime error' '$T_DIR/log'"
t_done
