#!/usr/bin/env bash
# notify_exec.sh: exec notifiers. Through `reeve notify test`: the document on stdin (valid
# against the generic schema), the clean environment, argument splitting, descriptors, how
# exits, timeouts and missing programs are classified, a timed-out command's group killed.
# Through the daemon: a firing alert reaches the command after a temporary failure (exit
# 75, retried by the outbox), then its resolution; no zombie is left.
. "$TEST_LIB"
plan 23

here=$(dirname "$TEST_LIB")
schema="$here/../../docs/webhook-generic.schema.json"
msgs=$T_DIR/msgs
mkdir -p "$msgs"

# record.sh DIR: keep the message (stdin), the environment, the arguments and the open
# descriptors of each run in DIR/N.json, N.env, N.args, N.fds
cat > "$T_DIR/record.sh" <<'EOF'
#!/bin/sh
dir=$1
shift
f=$(mktemp "$dir/msg.XXXXXX")
cat > "$f.json"
env > "$f.env"
printf '%s\n' "$@" > "$f.args"
/bin/ls /proc/self/fd > "$f.fds"
mv "$f" "$f.done"
echo "recorded $(basename "$f")"
EOF
# flaky.sh DIR: exit 75 on the first run, then record.sh
cat > "$T_DIR/flaky.sh" <<EOF
#!/bin/sh
if [ ! -e "\$1/failed-once" ]; then
	touch "\$1/failed-once"
	echo "paging service down" >&2
	exit 75
fi
exec $T_DIR/record.sh "\$@"
EOF
printf '#!/bin/sh\nexit 0\n' > "$T_DIR/notexec.sh"
chmod +x "$T_DIR/record.sh" "$T_DIR/flaky.sh"

port=$(free_port)
write_config "$T_DIR/reeve.conf" "$port" "
[reeve]
hostname = mon01

[outbox]
retry_initial = 1s
retry_max = 1s

[notifier pager]
type = exec
command = $T_DIR/record.sh $msgs \"two words\" a\\ b \$HOME
timeout = 20s

[notifier tempfail]
type = exec
command = /bin/sh -c \"echo 'paging service down' >&2; exit 75\"

[notifier fail]
type = exec
command = /bin/sh -c \"echo 'no such recipient' >&2; exit 2\"

[notifier slow]
type = exec
command = /bin/sh -c \"echo \$\$ > $T_DIR/slow.pid; sleep 100 & echo \$! > $T_DIR/slow-child.pid; wait\"
timeout = 1s

[notifier deaf]
type = exec
command = /bin/sh -c \"head -c 3000000 /dev/zero; echo 'did not read it' >&2\"

[notifier pager_d]
type = exec
command = $T_DIR/flaky.sh $msgs/daemon

[alert orders_backlog]
expr = orders_pending > 10
severity = critical
annotations.summary = {{ labels.shop }} has {{ value }} orders waiting
eval_interval = 1s

[route default]
notify = pager_d
group_wait = 0s
group_interval = 1s"
mkdir -p "$msgs/daemon"
# (the [reeve] section above adds hostname to the one write_config writes)

# notify NAME: run reeve notify test NAME (bounded by timeout); sets OUT and RC
notify() {
	RC=0
	OUT=$(timeout 60 "$REEVE" notify test "$1" -c "$T_DIR/reeve.conf" 2>&1) || RC=$?
}

# expect DESC RC PATTERN: the last notify exited RC and its output matches PATTERN
expect() {
	local desc=$1 rc=$2 pat=$3
	if [ "$RC" -eq "$rc" ] && printf '%s\n' "$OUT" | grep -Eq -- "$pat"; then
		t_result 0 "$desc"
	else
		t_result 1 "$desc"
		diag "exit $RC: $OUT"
	fi
}

# jcheck FILE EXPR: EXPR (Python) holds for the JSON document d in FILE (one line and a
# newline), s being the schema's list of errors
jcheck() {
	/usr/bin/python3 - "$1" "$schema" "$2" <<'EOF'
import json, sys
import jsonschema
path, schema_path, expr = sys.argv[1:]
raw = open(path).read()
d = json.loads(raw)
v = jsonschema.Draft202012Validator(json.load(open(schema_path)))
s = [e.message for e in v.iter_errors(d)]
if not eval("(" + expr + ")"):
    print(raw[:3000], s)
    sys.exit(1)
EOF
}

# pid_gone FILE: the process whose pid FILE holds is gone (or a zombie left to init)
pid_gone() {
	local pid state
	pid=$(cat "$1") || return 1
	state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) || return 0
	[ -z "$state" ] || [ "$state" = Z ]
}

check "reeve check accepts the exec notifiers" -- "$REEVE" check -c "$T_DIR/reeve.conf"

notify pager
expect "a command exiting 0: sent, with the first line of its output" 0 \
	'^pager: sent \(exec\) after [0-9.]+ s: exit 0: recorded msg\.[A-Za-z0-9]+$'
f=$(ls "$msgs"/msg.*.done 2>/dev/null | head -1)
f=${f%.done}
check "the message arrives on stdin: one line, valid against the generic schema" -- \
	jcheck "$f.json" 's == [] and raw.endswith("}\n") and raw.count("\n") == 1'
check "... it is the test message" -- jcheck "$f.json" '
d["receiver"] == "pager" and d["status"] == "firing" and d["test"] is True and
d["firing"] == 1 and d["alerts"][0]["labels"] == {"alertname": "ReeveTest", "instance": "mon01",
"severity": "info"} and d["alerts"][0]["endsAt"] is None'
check "the environment is PATH and the three REEVE_ variables (and the shell's PWD=/)" -- bash -c "
	sort '$f.env' | tr '\n' ' ' | grep -Eqx 'PATH=/usr/bin:/bin PWD=/ REEVE_IDEMPOTENCY_KEY=reeve-test-[0-9a-f]{16} REEVE_NOTIFIER=pager REEVE_STATUS=firing '"
check "arguments are split without a shell" -- \
	bash -c "[ \"\$(cat '$f.args')\" = \"\$(printf '%s\n' 'two words' 'a b' '\$HOME')\" ]"
check "only stdin, stdout and stderr are open (3 is ls's own)" -- \
	bash -c "[ \"\$(cat '$f.fds' | tr '\n' ' ')\" = '0 1 2 3 ' ]"

notify tempfail
expect "exit 75: retried later, with stderr's first line" 1 \
	'^tempfail: failed, will be retried \(exec\) after [0-9.]+ s: exit 75: paging service down$'
notify fail
expect "another exit status: failed permanently" 1 \
	'^fail: failed permanently \(exec\) after [0-9.]+ s: exit 2: no such recipient$'
notify slow
expect "at the timeout: killed, retried later" 1 \
	'^slow: failed, will be retried \(exec\) after [0-9.]+ s: killed by signal 15 after timeout 1s$'
check "... the shell is gone" -- wait_for 10 pid_gone "$T_DIR/slow.pid"
check "... and so is the job it started (its process group was killed)" -- \
	wait_for 10 pid_gone "$T_DIR/slow-child.pid"
notify deaf
expect "a command that never reads its stdin and writes 3 MB: no deadlock" 0 \
	'^deaf: sent \(exec\) after [0-9.]+ s: exit 0: did not read it$'
# a program that cannot run is reported by reeve check at its line
cat > "$T_DIR/bad.conf" <<EOF
[notifier missing]
type = exec
command = /nonexistent/notify --now
[notifier relative]
type = exec
command = notify-send hello
[notifier notexec]
type = exec
command = $T_DIR/notexec.sh
EOF
"$REEVE" check -c "$T_DIR/bad.conf" > "$T_DIR/bad.out" 2>&1
check "reeve check: a program that does not exist" -- grep -q \
	"bad.conf:3: \[notifier missing\] command: /nonexistent/notify: No such file or directory" "$T_DIR/bad.out"
check "reeve check: a relative program" -- grep -q \
	"bad.conf:6: \[notifier relative\] command: 'notify-send' is not an absolute path" "$T_DIR/bad.out"
check "reeve check: a file that is not executable" -- grep -q \
	"bad.conf:9: \[notifier notexec\] command: $T_DIR/notexec.sh is not executable" "$T_DIR/bad.out"

# ---- through the daemon: rule, route, outbox, retry ----
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log"
check "the daemon answers /healthz" -- wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$port/healthz"
push() { curl -sf -o /dev/null --data-binary "orders_pending{shop=\"north\"} $1
" "http://127.0.0.1:$port/api/v1/push"; }
delivered() { grep -l "\"status\":\"$1\"" "$msgs"/daemon/msg.*.json 2>/dev/null | head -1; }
push 20
check "a firing alert reaches the command after its first attempt exited 75" -- \
	wait_for 30 bash -c "[ -e '$msgs/daemon/failed-once' ] && ls '$msgs'/daemon/msg.*.done"
f=$(delivered firing)
check "... the message is the alert, not a test" -- jcheck "$f" '
s == [] and d["receiver"] == "pager_d" and d["status"] == "firing" and d["test"] is False and
d["alerts"][0]["labels"]["alertname"] == "orders_backlog" and d["alerts"][0]["value"] == 20 and
d["alerts"][0]["annotations"]["summary"] == "north has 20 orders waiting"'
check "... with REEVE_STATUS=firing and a key" -- bash -c "
	grep -qx 'REEVE_STATUS=firing' '${f%.json}.env' && grep -qx 'REEVE_NOTIFIER=pager_d' '${f%.json}.env' &&
	grep -Eqx 'REEVE_IDEMPOTENCY_KEY=.{8,}' '${f%.json}.env'"
check "/metrics counts the retry and the delivery" -- wait_for 10 bash -c "
	curl -sf http://127.0.0.1:$port/metrics | grep -Eq '^reeve_notifications_retries_total\{receiver=\"pager_d\"\} [1-9]' &&
	curl -sf http://127.0.0.1:$port/metrics | grep -Eq '^reeve_notifications_sent_total\{receiver=\"pager_d\"\} [1-9]'"
push 1
check "its resolution arrives with REEVE_STATUS=resolved" -- wait_for 30 bash -c "
	f=\$(grep -l '\"status\":\"resolved\"' '$msgs'/daemon/msg.*.json 2>/dev/null | head -1) &&
	[ -n \"\$f\" ] && grep -qx 'REEVE_STATUS=resolved' \"\${f%.json}.env\""
stop_reeve
check "SIGTERM: the daemon exits 0" -- [ "$REEVE_STATUS" = 0 ]
t_done
