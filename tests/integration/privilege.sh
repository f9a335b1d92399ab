#!/usr/bin/env bash
# privilege.sh: [reeve] user. Started as root, reeve binds a port below 1024, then becomes
# the user for good (uid, gid and groups in /proc), makes a new data_dir the user's and
# writes its files as the user; a data_dir of someone else, an unknown user, and a non-root
# start asking for another user are refused with a message that says what to do.
. "$TEST_LIB"
plan 13
if [ "$(id -u)" != 0 ]; then
	echo "# privilege.sh needs root (CI runs as root)" >&2
fi
nobody_uid=$(id -u nobody)
nobody_gid=$(id -g nobody)
chmod 755 "$T_DIR" # nobody must reach its data_dir
# a free port below 1024 on loopback
port=$(/usr/bin/python3 - <<'EOP'
import socket
for p in range(1023, 900, -1):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
EOP
)
write_config "$T_DIR/reeve.conf" "$port" "
[probe load]
type = load"
sed -i 's/^interval = 1s$/interval = 1s\nuser = nobody/' "$T_DIR/reeve.conf"
chmod 644 "$T_DIR/reeve.conf"
check "reeve check accepts user = nobody" -- "$REEVE" check -c "$T_DIR/reeve.conf"
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log"
check "it serves on port $port (below 1024, bound as root)" -- wait_for 10 curl -sf "http://127.0.0.1:$port/healthz"
ids() { awk -v k="$1" '$1 == k ":" { print $2, $3, $4, $5 }' "/proc/$REEVE_PID/status"; }
check "every uid of the process is nobody's" -- test "$(ids Uid)" = "$nobody_uid $nobody_uid $nobody_uid $nobody_uid"
check "every gid of the process is nobody's" -- test "$(ids Gid)" = "$nobody_gid $nobody_gid $nobody_gid $nobody_gid"
check "root's groups are gone" -- bash -c "! awk '\$1 == \"Groups:\"' /proc/$REEVE_PID/status | grep -qw 0"
check "the log says who it runs as" -- grep -q "running as user nobody (uid $nobody_uid, gid $nobody_gid)" "$T_DIR/log"
check "the new data_dir belongs to nobody" -- test "$(stat -c %u "$T_DIR/data")" = "$nobody_uid"
check "RRD files are written as nobody" -- wait_for 15 bash -c "f=\$(find '$T_DIR/data' -name '*.rrd' | head -1); [ -n \"\$f\" ] && [ \"\$(stat -c %u \"\$f\")\" = $nobody_uid ]"
kill -HUP "$REEVE_PID"
check "a reload as nobody reads the config again" -- wait_for 10 grep -q "configuration reloaded" "$T_DIR/log"
stop_reeve
check "SIGTERM exits 0" -- test "$REEVE_STATUS" = 0

# a data_dir that is not the user's: refused before anything is written
mkdir "$T_DIR/rootdata"
sed "s|$T_DIR/data|$T_DIR/rootdata|" "$T_DIR/reeve.conf" > "$T_DIR/root.conf"
out=$(timeout 20 "$REEVE" run -c "$T_DIR/root.conf" 2>&1); rc=$?
check "a data_dir of root's is refused, with the fix" -- bash -c "[ $rc = 1 ] && grep -q 'data_dir $T_DIR/rootdata does not belong to user nobody, who reeve runs as (\[reeve\] user): chown -R nobody: $T_DIR/rootdata' <<<\"\$0\"" "$out"
# an unknown user: a config error at its line
sed 's/^user = nobody$/user = no-such-user-here/' "$T_DIR/reeve.conf" > "$T_DIR/nouser.conf"
out=$("$REEVE" check -c "$T_DIR/nouser.conf" 2>&1); rc=$?
line=$(grep -n '^user = ' "$T_DIR/nouser.conf" | cut -d: -f1)
check "an unknown user is an error at its line" -- bash -c "[ $rc = 1 ] && grep -q '^$T_DIR/nouser.conf:$line: \[reeve\] user: no user \"no-such-user-here\" on this system' <<<\"\$0\"" "$out"
# not root: it cannot become someone else
sed -e 's/^user = nobody$/user = root/' -e "s/:$port\$/:$(free_port)/" "$T_DIR/reeve.conf" > "$T_DIR/asroot.conf"
chmod 644 "$T_DIR/asroot.conf"
out=$(cd / && timeout 20 setpriv --reuid=nobody --regid=nogroup --clear-groups \
	env REEVE_PLUGIN_DIR="$REEVE_PLUGIN_DIR" "$REEVE" run -c "$T_DIR/asroot.conf" 2>&1); rc=$?
check "started as nobody, user = root is refused" -- bash -c "[ $rc = 1 ] && grep -q 'reeve runs as uid $nobody_uid, not root, and cannot become another user' <<<\"\$0\"" "$out"
diag "$out"
t_done
