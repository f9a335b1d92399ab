#!/usr/bin/env bash
# kill9.sh: kill -9 under load, 20 times. Load: the load, memory and cpu probes every second,
# a steady push of 300 series (a background loop POSTing to /api/v1/push), an alert that
# fires at once and repeats every 3 s to a webhook receiver that is down, so messages pile
# up in the spool. Each cycle: start reeve, wait until it answers and has written, wait a
# random 1 to 3.5 s, kill -9; then every RRD file must read back (rrdtool info and
# lastupdate), `reeve outbox list` must read every spool file, nothing may be set aside as
# corrupt; the restarted reeve must show the alert firing with its first activeAt (state
# restored, not pending again). At the end, for every series of the 1 s probes, each hole in
# the RRD data around a kill may span at most the downtime (kill to the restarted reeve's
# first answer) + 1 s (the spacing of samples) + 1 s (at most one interval lost) + 1 row
# (whole seconds); then the receiver comes up and every queued message arrives, each spool
# file once (with its idempotency key; a message made again after a crash carries the same
# key, as docs/notifications.md says).
. "$TEST_LIB"
plan 13
port=$(free_port)
hport=$(free_port)
api=http://127.0.0.1:$port
here=$(dirname "$TEST_LIB")
rrd=$T_DIR/data/rrd
cycles=20
diag "daemon: $REEVE (sanitizer build: ${REEVE_SANITIZERS:-unknown})"
# in the sanitizer build: librrd's own leaks are not reeve's (tests/lsan.supp)
export LSAN_OPTIONS="suppressions=$here/../lsan.supp:fast_unwind_on_malloc=0"

# [reeve] interval 10s: pushed series and reeve's own get 10 s files (321 KiB each with the
# default preset); the probes collect every second into 1 s files (2.1 MiB each).
write_config "$T_DIR/reeve.conf" "$port" "
[probe load]
type = load
interval = 1s

[probe memory]
type = memory
interval = 1s

[probe cpu]
type = cpu
interval = 1s

[alert Kill9Always]
expr = load1 >= 0
eval_interval = 1s

[notifier hook]
type = webhook
url = http://127.0.0.1:$hport/hook
timeout = 5s

[outbox]
retry_initial = 200ms
retry_max = 1s

[route default]
notify = hook
group_wait = 0s
group_interval = 1s
repeat_interval = 3s"
sed -i -e '/^\[reeve\]/,/^$/s/^interval = 1s$/interval = 10s/' -e 's/^preset = compact$/preset = default/' \
	"$T_DIR/reeve.conf"

# the push loop: 300 series, about twice a second, for as long as it lives
cat > "$T_DIR/pusher.sh" <<EOF
body=""
for i in \$(seq 1 300); do body+="k9_push{i=\"\$i\"} \$i"\$'\n'; done
while :; do
	printf '%s' "\$body" | curl -s -o /dev/null --max-time 5 --data-binary @- "$api/api/v1/push"
	sleep 0.5
done
EOF
bash "$T_DIR/pusher.sh" &
PUSHER=$!
T_PIDS+=("$PUSHER")

trouble=$T_DIR/trouble # what went wrong in the cycles, for the checks and the diagnosis
: > "$trouble"
: > "$T_DIR/kills"      # one line per kill: the kill time and the restarted reeve's first answer
now() { date +%s.%N; }
alert_state() { # "STATE ACTIVEAT" of Kill9Always, or nothing
	curl -sf --max-time 10 "$api/api/v1/alerts" | /usr/bin/python3 -c '
import json, sys
for a in json.load(sys.stdin)["data"]["alerts"]:
    if a["labels"].get("alertname") == "Kill9Always":
        print(a["state"], a["activeAt"])' 2>/dev/null
}
check_rrd_files() { # every .rrd file through one rrdtool in pipe mode: info and lastupdate
	find "$rrd" -name '*.rrd' -type f | sed 's/.*/info &\nlastupdate &/' | rrdtool - 2>&1 |
		grep '^ERROR' | head -5
}
up() { # start $1: wait for the first answer; record it
	if ! wait_for 120 curl -sf -o /dev/null "$api/healthz"; then
		echo "start $1: no answer within 120 s" >> "$trouble"
		return 1
	fi
	answered=$(now)
}

start_reeve "$T_DIR/reeve.conf" "$T_DIR/log.0"
up 0 || true
check "reeve answers and the alert fires" -- wait_for 60 bash -c "
	curl -sf '$api/api/v1/alerts' | grep -q '\"state\":\"firing\"'"
first=$(alert_state)
first_active=${first#* }
diag "Kill9Always: $first"
wait_for 120 test -f "$rrd/k9_push/i=300.rrd"
t_begin=$(rrd_last "$rrd/load1.rrd")

for c in $(seq 1 $cycles); do
	# serving and written: load1.rrd has an update from after this start's first answer
	wait_for 60 rrd_last_ge "$rrd/load1.rrd" "${answered%.*}" ||
		echo "start $((c - 1)): load1.rrd not updated within 60 s of its first answer" >> "$trouble"
	# a life of 1 to 3.5 s: two collections at least (cpu_usage_ratio needs two)
	sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 1 + r % 250 / 100 }')"
	killed=$(now)
	kill -KILL "$REEVE_PID"
	wait "$REEVE_PID" 2>/dev/null
	bad=$(check_rrd_files)
	[ -z "$bad" ] || echo "kill $c: $bad" >> "$trouble"
	if ! "$REEVE" outbox list -c "$T_DIR/reeve.conf" > "$T_DIR/outbox.$c" 2>&1; then
		echo "kill $c: reeve outbox list failed: $(head -3 "$T_DIR/outbox.$c")" >> "$trouble"
	elif grep -q '(unreadable)' "$T_DIR/outbox.$c"; then
		echo "kill $c: an unreadable spool file: $(grep '(unreadable)' "$T_DIR/outbox.$c" | head -3)" >> "$trouble"
	fi
	start_reeve "$T_DIR/reeve.conf" "$T_DIR/log.$c"
	up "$c" || break
	echo "$killed $answered" >> "$T_DIR/kills"
	st=$(alert_state)
	[ "$st" = "firing $first_active" ] ||
		echo "start $c: Kill9Always is '$st', not 'firing $first_active'" >> "$trouble"
done
wait_for 60 rrd_last_ge "$rrd/load1.rrd" "${answered%.*}"
diag "$(wc -l < "$T_DIR/kills") kills; $(find "$rrd" -name '*.rrd' | wc -l) RRD files"
check "after each of the $cycles kills every RRD file reads back (rrdtool info, lastupdate)" -- \
	bash -c "! grep -q ': ERROR' '$trouble'"
check "after each kill reeve outbox list reads every spool file" -- \
	bash -c "! grep -q 'outbox list\|unreadable spool' '$trouble'"
check "each restart answered and wrote again" -- bash -c "! grep -q 'no answer\|not updated' '$trouble'"
check "each restart shows Kill9Always firing since its first activeAt ($first_active)" -- \
	bash -c "! grep -q 'Kill9Always is' '$trouble'"
# reeve's own metrics are collected every [reeve] interval (10 s): wait for the first round
wait_for 30 bash -c "curl -sf '$api/metrics' | grep -q '^reeve_notifications_corrupt_total '"
ncorrupt=$(metric_value "$port" reeve_notifications_corrupt_total)
check "no restart wrote a second twice (no \"minimum one second step\" error)" -- \
	bash -c "! grep -h 'minimum one second step' '$T_DIR'/log.*"
check "no spool file was set aside as corrupt (log, corrupt/, reeve_notifications_corrupt_total $ncorrupt)" -- \
	bash -c "! grep -h 'is unreadable' '$T_DIR'/log.* && [ -z \"\$(ls -A '$T_DIR/data/spool/corrupt')\" ] &&
	[ '$ncorrupt' = 0 ]"
[ -s "$trouble" ] && diag "$(head -30 "$trouble")"
st=$(alert_state)
check "after $cycles kills Kill9Always still fires since $first_active" -- test "$st" = "firing $first_active"

# ---- the holes in the 1 s series around each kill
kill -TERM "$PUSHER"
wait "$PUSHER" 2>/dev/null
t_end=$(($(rrd_last "$rrd/load1.rrd") - 2))
/usr/bin/python3 - "$rrd" "$T_DIR/kills" "$t_begin" "$t_end" > "$T_DIR/gaps" 2>&1 <<'PYEOF'
import math, os, subprocess, sys
rrd, kills_file, t_begin, t_end = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
kills = [tuple(map(float, l.split())) for l in open(kills_file) if l.strip()]
files = []
for d, _, names in os.walk(rrd):
    for n in names:
        if n.endswith(".rrd"):
            files.append(os.path.join(d, n))
bad = 0
checked = 0
worst = {}
uptime_holes = []
for f in sorted(files):
    info = subprocess.run(["rrdtool", "info", f], capture_output=True, text=True).stdout
    if "step = 1\n" not in info:
        continue
    checked += 1
    out = subprocess.run(["rrdtool", "fetch", f, "AVERAGE", "-r", "1", "-s", str(t_begin),
                          "-e", str(t_end)], capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        if ":" in line and line.split(":")[0].strip().isdigit():
            t, v = line.split(":", 1)
            rows.append((int(t), "nan" in v.lower()))
    known = [i for i, (t, nan) in enumerate(rows) if not nan]
    if not known:
        print("%s: no data at all" % f)
        bad += 1
        continue
    # cpu_usage_ratio is computed over the interval between two collections: a restarted
    # probe has its first ratio one collection later
    extra = 1 if "cpu_usage_ratio" in f else 0
    name = os.path.relpath(f, rrd)
    i = known[0]
    while i <= known[-1]:
        if not rows[i][1]:
            i += 1
            continue
        j = i
        while rows[j][1]:
            j += 1
        a, b = rows[i][0], rows[j - 1][0]  # the unknown rows a..b
        n = b - a + 1
        near = [(k, s) for k, s in kills if a - 4 <= k <= b + 1]
        if not near:
            uptime_holes.append("%s: %d unknown rows %d..%d, no kill near" % (name, n, a, b))
        else:
            k, s = min(near, key=lambda ks: abs(ks[0] - a))
            allowed = math.ceil(s - k) + 3 + extra
            slack = allowed - n
            if name not in worst or slack < worst[name][0]:
                worst[name] = (slack, n, s - k, allowed)
            if n > allowed:
                bad += 1
                print("%s: %d unknown rows %d..%d around the kill at %.2f (down %.2f s): more "
                      "than %d" % (name, n, a, b, k, s - k, allowed))
        i = j
print("series of the 1 s probes: %d" % checked)
tight = sorted(worst.items(), key=lambda kv: kv[1][0])[:3]
for name, (slack, n, down, allowed) in tight:
    print("tightest: %s: %d unknown rows after %.2f s down (allowed %d)" % (name, n, down, allowed))
for h in uptime_holes[:10]:
    print("while up: " + h)
print("series with a hole around a kill: %d; holes while reeve ran: %d" % (len(worst), len(uptime_holes)))
print("verdict: %s" % ("ok" if bad == 0 and checked >= 20 else "bad (%d)" % bad))
PYEOF
diag "$(cat "$T_DIR/gaps")"
check "no hole in a 1 s series exceeds its kill's downtime + 1 s + 1 lost interval + 1 row" -- \
	grep -qx 'verdict: ok' "$T_DIR/gaps"

# ---- the receiver comes up: every queued message arrives, each spool file once
for f in "$T_DIR"/data/spool/queue/*; do
	[ -f "$f" ] && sed -n 's/^key: //p;/^$/q' "$f"
done | sort > "$T_DIR/queued.keys"
nqueued=$(wc -l < "$T_DIR/queued.keys")
diag "$nqueued messages queued for the receiver ($(sort -u "$T_DIR/queued.keys" | wc -l) distinct keys)"
check "messages piled up in the spool while the receiver was down" -- test "$nqueued" -ge 10
/usr/bin/python3 "$here/webhookd.py" --log "$T_DIR/hooks.jsonl" --port-file "$T_DIR/hook.port" \
	--port "$hport" &
T_PIDS+=("$!")
delivered() { # every queued key has arrived
	[ -s "$T_DIR/hooks.jsonl" ] || return 1
	/usr/bin/python3 -c '
import json, sys
got = set()
for line in open(sys.argv[1]):
    r = json.loads(line)
    got.update(v for k, v in r["headers"] if k.lower() == "idempotency-key")
want = set(l.strip() for l in open(sys.argv[2]) if l.strip())
sys.exit(0 if want <= got else 1)' "$T_DIR/hooks.jsonl" "$T_DIR/queued.keys"
}
wait_for 120 delivered
stop_reeve
check "SIGTERM exits 0" -- test "$REEVE_STATUS" = 0
/usr/bin/python3 - "$T_DIR/hooks.jsonl" "$T_DIR/queued.keys" > "$T_DIR/delivery" <<'PYEOF'
import collections, json, sys
got = collections.Counter()
for line in open(sys.argv[1]):
    r = json.loads(line)
    got.update(v for k, v in r["headers"] if k.lower() == "idempotency-key")
queued = collections.Counter(l.strip() for l in open(sys.argv[2]) if l.strip())
missing = [k for k in queued if k not in got]
# a key arrives once per spool file that carries it (one file each but for a message made
# again after a crash); keys made after the receiver came up: once
extra = {k: n for k, n in got.items() if n > max(queued.get(k, 0), 1)}
print("received %d messages, %d keys; queued keys missing: %d; keys received more often than "
      "spooled: %d; keys spooled twice (made again after a crash): %d" %
      (sum(got.values()), len(got), len(missing), len(extra),
       sum(1 for n in queued.values() if n > 1)))
for k in missing[:5]:
    print("missing: " + k)
for k, n in list(extra.items())[:5]:
    print("received %d times: %s" % (n, k))
print("verdict: %s" % ("ok" if not missing and not extra else "bad"))
PYEOF
diag "$(cat "$T_DIR/delivery")"
check "every queued message arrived, each spool file exactly once" -- grep -qx 'verdict: ok' "$T_DIR/delivery"
check "no sanitizer report in the logs" -- bash -c "! grep -n 'Sanitizer\|runtime error' '$T_DIR'/log.*"
[ "$T_FAILED" = 0 ] || cp -r "$T_DIR" "${TMPDIR:-/tmp}/kill9.failed" 2>/dev/null
t_done
