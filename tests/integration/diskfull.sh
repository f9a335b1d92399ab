#!/usr/bin/env bash
# diskfull.sh: the data directory's disk fills up while reeve collects, then space returns.
# tests/shim/enospc.so (LD_PRELOAD) makes every write, fsync, ftruncate, fallocate and stdio
# write to a regular file under data_dir fail with ENOSPC while the file $T_DIR/full exists,
# and statvfs there say no block is free. Updates of existing RRD files go through mmap of
# blocks they already own and go on, as on a real full disk; new RRD files, spool files,
# the alert state and the history log cannot be written.
# While full: reeve stays up and answers /healthz; new series' creates fail, counted in
# reeve_store_errors_total and logged as "No space left on device", without a flood; an alert
# that fires cannot be spooled: that is counted (reeve_notifications_spool_errors_total) and
# logged, and the message is not lost. Once space returns: the new series are created and
# updated, the alert's message arrives (once), every RRD file is valid (rrdtool info), the
# data stored before the full period reads back unchanged (rrdtool fetch), the spool is
# clean, SIGTERM exits 0, and the log has no sanitizer report.
. "$TEST_LIB"
plan 22
port=$(free_port)
api=http://127.0.0.1:$port
here=$(dirname "$TEST_LIB")
rrd=$T_DIR/data/rrd
diag "daemon: $REEVE (sanitizer build: ${REEVE_SANITIZERS:-unknown})"
# in the sanitizer build: librrd's own leaks are not reeve's (tests/lsan.supp)
export LSAN_OPTIONS="suppressions=$here/../lsan.supp:fast_unwind_on_malloc=0"
# The shim comes before the ASan runtime in the list of libraries: ASan must not refuse that.
export ASAN_OPTIONS="verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
shim=${ENOSPC_SHIM:?make check sets ENOSPC_SHIM}

/usr/bin/python3 "$here/webhookd.py" --log "$T_DIR/hooks.jsonl" --port-file "$T_DIR/hook.port" &
T_PIDS+=("$!")
wait_for 15 test -s "$T_DIR/hook.port"
hport=$(cat "$T_DIR/hook.port")

# [reeve] interval 10s: pushed series and reeve's own get 10 s files (321 KiB each with the
# default preset), the load probe 1 s ones, whose rows are one second each.
write_config "$T_DIR/reeve.conf" "$port" "
[probe load]
type = load
interval = 1s

[alert DiskFullTest]
expr = df_trigger > 0
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
group_interval = 1s"
sed -i -e 's/^interval = 1s$/interval = 10s/' -e 's/^preset = compact$/preset = default/' "$T_DIR/reeve.conf"
sed -i -e '/^\[probe load\]/,/^$/s/^interval = 10s$/interval = 1s/' "$T_DIR/reeve.conf"

mkdir -p "$T_DIR/data"
full=$T_DIR/full
LD_PRELOAD=$shim REEVE_ENOSPC_DIR=$T_DIR/data REEVE_ENOSPC_FLAG=$full \
	REEVE_ENOSPC_COUNT=$T_DIR/refusals start_reeve "$T_DIR/reeve.conf" "$T_DIR/log"
wait_for 60 curl -sf -o /dev/null "$api/healthz"

push() { # push TEXT: one POST of the lines of TEXT (each ended with a newline)
	printf '%s\n' "${1%$'\n'}" | curl -sf -o /dev/null --max-time 10 --data-binary @- "$api/api/v1/push"
}
mval() { metric_value "$port" "$1"; }
mval_ge() { local v; v=$(mval "$1"); [ -n "$v" ] && awk -v v="$v" -v w="$2" 'BEGIN { exit !(v >= w) }'; }
export -f mval mval_ge metric_value metrics
export port

# ---- before: collect a while; the pushed series df_before{n="1".."5"} get files too
before_body=""
for n in 1 2 3 4 5; do before_body+="df_before{n=\"$n\"} $n"$'\n'; done
push "$before_body"
push "df_trigger 0"
wait_for 60 test -f "$rrd/load1.rrd"
t0=$(rrd_last "$rrd/load1.rrd")
wait_for 60 rrd_last_ge "$rrd/load1.rrd" $((t0 + 8))
wait_for 30 test -f "$rrd/df_before/n=5.rrd"
check "before: load1 and the pushed series are stored" -- \
	bash -c "rrd_last_ge() { t=\$(rrdtool lastupdate \"\$1\" | awk 'NR == 3 { sub(\":\", \"\", \$1); print \$1 }'); [ -n \"\$t\" ] && [ \"\$t\" -ge \"\$2\" ]; }
	rrd_last_ge '$rrd/load1.rrd' $((t0 + 8)) && test -f '$rrd/df_before/n=1.rrd'"
# the last rows stop short of the last update: the newest row may not be consolidated yet
span_end=$(($(rrd_last "$rrd/load1.rrd") - 2))
span_start=$((t0 - 1))
fetch_span() { # the stored span before the full period, every file that existed then
	local f
	for f in "$rrd/load1.rrd" "$rrd/load5.rrd" "$rrd"/df_before/*.rrd; do
		echo "== ${f#$rrd/}"
		rrdtool fetch "$f" AVERAGE -s "$span_start" -e "$span_end" -r 1
	done
}
fetch_span > "$T_DIR/span.before"
errors0=$(mval reeve_store_errors_total)
: "${errors0:=0}"
lines0=$(wc -l < "$T_DIR/log")

# ---- the disk is full
touch "$full"
t_full=$(date +%s)
new_body=""
for n in 1 2 3 4 5 6 7 8; do new_body+="df_new{n=\"$n\"} $n"$'\n'; done
push "$new_body"
check "full: creating new series' files fails, counted in reeve_store_errors_total" -- \
	wait_for 60 mval_ge reeve_store_errors_total $((errors0 + 1))
push "df_trigger 1"
check "full: the alert fires all the same" -- wait_for 60 bash -c \
	"curl -sf '$api/api/v1/alerts' | grep -q '\"state\":\"firing\"'"
check "full: its message cannot be spooled: counted in reeve_notifications_spool_errors_total" -- \
	wait_for 60 mval_ge reeve_notifications_spool_errors_total 1
check "full: its transitions the history log could not keep are counted" -- \
	wait_for 60 mval_ge reeve_alert_history_write_errors_total 1
# a while longer: the pushes, rule rounds and retries of the full period go on
for i in 1 2 3 4 5 6 7 8; do
	push "$new_body"
	push "df_trigger 1"
	sleep 1
done
check "full: reeve is up and /healthz answers 200" -- \
	bash -c "kill -0 $REEVE_PID && curl -sf -o /dev/null '$api/healthz'"
check "full: the shim refused writes (it was at work)" -- test -s "$T_DIR/refusals"
diag "$(wc -c < "$T_DIR/refusals") writes refused"
check "full: nothing reached the receiver (the message was never spooled)" -- \
	bash -c "! grep -q DiskFullTest '$T_DIR/hooks.jsonl' 2>/dev/null"
sed -n "$((lines0 + 1)),\$p" "$T_DIR/log" > "$T_DIR/log.full"
check "full: the store's failure is logged with its reason" -- \
	grep -q "store: cannot create .*No space left on device" "$T_DIR/log.full"
check "full: the spool's failure is logged with its reason" -- \
	grep -q "outbox refused the message for hook: .*No space left on device" "$T_DIR/log.full"
# not a flood: a failure that repeats (every second here) is logged once, then rate-limited
nlines=$(wc -l < "$T_DIR/log.full")
full_secs=$(($(date +%s) - t_full))
diag "the full period: $full_secs s, $nlines log lines:"
diag "$(sed 's/^[0-9-]* [0-9:]* //' "$T_DIR/log.full" | sort | uniq -c | sort -rn | head -12)"
check "full: no log flood (each kind of failure logged at most 3 times)" -- bash -c "
	sed -e 's/^[0-9-]* [0-9:]* //' -e 's/[0-9]\\{6,\\}[-0-9a-f]*/N/g' -e 's|$T_DIR[^ :]*|PATH|g' \
		'$T_DIR/log.full' | sort | uniq -c | awk '\$1 > 3 { print; bad = 1 } END { exit bad }'"
check "full: the spool holds no partial file (tmp/ and queue/ clean, nothing corrupt)" -- bash -c "
	[ -z \"\$(ls -A '$T_DIR/data/spool/tmp')\" ] && [ -z \"\$(ls -A '$T_DIR/data/spool/queue')\" ] &&
	[ -z \"\$(ls -A '$T_DIR/data/spool/corrupt')\" ]"

# ---- space returns
rm -f "$full"
t_back=$(date +%s)
check "after: the alert's message is spooled and arrives" -- \
	wait_for 60 grep -q DiskFullTest "$T_DIR/hooks.jsonl"
new_files() { local n; for n in 1 2 3 4 5 6 7 8; do test -f "$rrd/df_new/n=$n.rrd" || return 1; done; }
# pushed series are stored once a step (10 s): push on while waiting
for i in $(seq 1 60); do push "$new_body"; new_files && break; sleep 1; done
check "after: the new series' files are created" -- new_files
for i in $(seq 1 15); do push "$new_body"; rrd_last_ge "$rrd/df_new/n=3.rrd" "$t_back" && break; sleep 1; done
check "after: load1 goes on being updated" -- wait_for 30 rrd_last_ge "$rrd/load1.rrd" $((t_back + 2))
check "after: df_new goes on being updated" -- wait_for 30 rrd_last_ge "$rrd/df_new/n=3.rrd" "$t_back"
bad=0
nfiles=0
while read -r f; do
	nfiles=$((nfiles + 1))
	rrdtool info "$f" >/dev/null 2>&1 && rrdtool lastupdate "$f" >/dev/null 2>&1 ||
		{ bad=$((bad + 1)); diag "broken: $f"; }
done < <(find "$rrd" -type f)
check "after: every RRD file is valid ($nfiles files, rrdtool info and lastupdate)" -- test "$bad" = 0
fetch_span > "$T_DIR/span.after"
check "after: the data stored before the full period reads back unchanged" -- \
	cmp "$T_DIR/span.before" "$T_DIR/span.after"
check "after: the span compared holds data (not only unknowns)" -- bash -c "
	grep -A1000 '== load1.rrd' '$T_DIR/span.before' | awk '/^[0-9]+:/ && \$2 !~ /nan/ { n++ } END { exit !(n >= 5) }'"
wait_for 30 bash -c "curl -sf '$api/metrics' | grep -q 'reeve_notifications_queued{receiver=\"hook\"} 0'"
check "after: the message was delivered once, the spool is empty and nothing is corrupt" -- bash -c "
	[ \"\$(grep -c DiskFullTest '$T_DIR/hooks.jsonl')\" = 1 ] &&
	[ \"\$(metric_value $port reeve_notifications_corrupt_total)\" = 0 ] &&
	'$REEVE' outbox list -c '$T_DIR/reeve.conf' | tail -1 | grep -qx '0 messages'"
stop_reeve
check "SIGTERM exits 0" -- test "$REEVE_STATUS" = 0
check "no sanitizer report in the log" -- bash -c "! grep -n 'Sanitizer\|runtime error' '$T_DIR/log'"
[ "$T_FAILED" = 0 ] || cp -r "$T_DIR" "${TMPDIR:-/tmp}/diskfull.failed" 2>/dev/null
t_done
