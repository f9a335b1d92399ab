#!/usr/bin/env bash
# cli.sh: the reeve command line: version, help, unknown commands and options, check.
. "$TEST_LIB"
plan 18

out=$("$REEVE" version); rc=$?
check "reeve version prints the version" -- test "$rc" = 0 -a "${out#reeve }" != "$out"
out=$("$REEVE" --help); rc=$?
check "reeve --help lists the commands" -- bash -c "[ $rc = 0 ] && grep -q 'run' <<<'$out' && grep -q 'check' <<<'$out'"
out=$("$REEVE" run --help); rc=$?
check "reeve run --help shows run's options" -- bash -c "[ $rc = 0 ] && grep -q -- '--config' <<<'$out'"
out=$("$REEVE" help check); rc=$?
check "reeve help check shows check's help" -- bash -c "[ $rc = 0 ] && grep -q 'configuration OK' <<<'$out'"

out=$("$REEVE" frobnicate 2>&1); rc=$?
check "an unknown command exits 2 and names it" -- bash -c "[ $rc = 2 ] && grep -q \"unknown command 'frobnicate'\" <<<\"\$0\"" "$out"
out=$("$REEVE" run --bogus 2>&1); rc=$?
check "an unknown option exits 2 and names it" -- bash -c "[ $rc = 2 ] && grep -q \"unknown option '--bogus'\" <<<\"\$0\"" "$out"
out=$("$REEVE" check -c 2>&1); rc=$?
check "a missing option argument exits 2" -- bash -c "[ $rc = 2 ] && grep -q 'missing argument' <<<\"\$0\"" "$out"
out=$("$REEVE" 2>&1); rc=$?
check "no command exits 2 with usage" -- bash -c "[ $rc = 2 ] && grep -q 'usage' <<<\"\$0\"" "$out"

out=$("$REEVE" check -c "$TEST_DATA/../../etc/reeve.conf" 2>&1); rc=$?
check "the shipped etc/reeve.conf is accepted" -- bash -c "[ $rc = 0 ] && [ \"\$0\" = 'configuration OK' ]" "$out"
out=$("$REEVE" check 2>&1); rc=$?
check "the built-in default config is accepted" -- bash -c "[ $rc = 0 ] && [ \"\$0\" = 'configuration OK' ]" "$out"

# bad configs: every error with its file:line, exit 1, probe keys validated by the probe
cat > "$T_DIR/bad.conf" <<'EOC'
[reeve]
interval = 10
colour = blue

[probe d]
type = disk
include = ([unclosed

[probe x]
type = nosuchprobe

[probe c]
type = cpu
frequency = 3
EOC
out=$("$REEVE" check -c "$T_DIR/bad.conf" 2>&1); rc=$?
check "a bad config exits 1" -- test "$rc" = 1
check "core key errors carry file:line" -- bash -c "grep -q '^$T_DIR/bad.conf:2: ' <<<\"\$0\" && grep -q '^$T_DIR/bad.conf:3: .*colour' <<<\"\$0\"" "$out"
diag "$out"
# probe errors are only checked once the core config is valid
sed -i -e 's/^interval = 10$/interval = 10s/' -e '/^colour/d' "$T_DIR/bad.conf"
out=$("$REEVE" check -c "$T_DIR/bad.conf" 2>&1); rc=$?
check "probe errors carry file:line: bad regex, unknown module, unknown probe key" -- bash -c "[ $rc = 1 ] &&
	grep -q '^$T_DIR/bad.conf:6: .*include' <<<\"\$0\" &&
	grep -q '^$T_DIR/bad.conf:9: .*nosuchprobe' <<<\"\$0\" &&
	grep -q '^$T_DIR/bad.conf:13: .*frequency' <<<\"\$0\"" "$out"
diag "$out"
out=$("$REEVE" run -c "$T_DIR/bad.conf" 2>&1); rc=$?
check "reeve run with a bad config exits 1 with the same errors, starting nothing" -- bash -c "[ $rc = 1 ] && grep -q '^$T_DIR/bad.conf:13: .*frequency' <<<\"\$0\" && [ ! -d '$T_DIR/reeve-data' ]" "$out"
out=$("$REEVE" check -c "$T_DIR/missing.conf" 2>&1); rc=$?
check "a missing config file is an error naming it" -- bash -c "[ $rc = 1 ] && grep -q 'missing.conf' <<<\"\$0\"" "$out"
diag "$out"

# a probe module in a directory every user may write to is not loaded: anyone could put code there
mkdir "$T_DIR/mods"
cp "$PROBE_DIR/load.so" "$T_DIR/mods/"
printf '[reeve]\nplugin_dir = %s\n[probe load]\ntype = load\n' "$T_DIR/mods" > "$T_DIR/mods.conf"
check "a module in a safe directory loads" -- env -u REEVE_PLUGIN_DIR "$REEVE" check -c "$T_DIR/mods.conf"
chmod 777 "$T_DIR/mods"
out=$(env -u REEVE_PLUGIN_DIR "$REEVE" check -c "$T_DIR/mods.conf" 2>&1); rc=$?
check "a module in a world-writable directory is refused at the probe's line" -- bash -c "[ $rc = 1 ] && grep -q '^$T_DIR/mods.conf:4: .*refusing to load $T_DIR/mods/load.so: $T_DIR/mods is writable by every user (chmod o-w it)' <<<\"\$0\"" "$out"
diag "$out"
chmod 755 "$T_DIR/mods"
chmod 666 "$T_DIR/mods/load.so"
out=$(env -u REEVE_PLUGIN_DIR "$REEVE" check -c "$T_DIR/mods.conf" 2>&1); rc=$?
check "a world-writable module file is refused" -- bash -c "[ $rc = 1 ] && grep -q 'refusing to load $T_DIR/mods/load.so: $T_DIR/mods/load.so is writable by every user' <<<\"\$0\"" "$out"
t_done
