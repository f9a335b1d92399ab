#!/usr/bin/env bash
# rules_cli.sh: `reeve rules test` with passing, failing and malformed test files.
. "$TEST_LIB"
plan 7

D="$TEST_DATA/rulestest"
# run the tests from a copy so that file names in messages are short and known
cp "$D"/rules.conf "$D"/*.test "$T_DIR/"
cd "$T_DIR" || exit 1

out=$("$REEVE" rules test pass.test 2>&1); rc=$?
check "a passing test file exits 0 and counts its tests" -- \
	bash -c "[ $rc = 0 ] && [ \"\$0\" = '10 tests passed, 0 failed' ]" "$out"

out=$("$REEVE" rules test fail.test 2>&1); rc=$?
check "a failing test file exits 1, naming the line, what was expected and what was found" -- \
	bash -c "[ $rc = 1 ] && grep -qxF 'fail.test:10: at 3m, alert HighLoad: expected firing {host=\"web1\", team=\"ops\"}, found pending {host=\"web1\", team=\"ops\"}' <<<\"\$0\" &&
	grep -qxF 'fail.test:13: at 4m, expr load1: expected load1{host=\"web1\"} 7; found load1{host=\"web1\"} 8' <<<\"\$0\" &&
	grep -qxF '0 tests passed, 2 failed' <<<\"\$0\"" "$out"

out=$("$REEVE" rules test bad.test 2>&1); rc=$?
check "a malformed test file exits 2 with every error as file:line" -- \
	bash -c "[ $rc = 2 ] && grep -q '^bad.test:6: series: \"1-x3\" is not a value' <<<\"\$0\" &&
	grep -q '^bad.test:9: alert: \"burning\" is not firing' <<<\"\$0\"" "$out"

out=$("$REEVE" rules test pass.test fail.test 2>&1); rc=$?
check "several files: the counts add up and any failure makes it exit 1" -- \
	bash -c "[ $rc = 1 ] && grep -qxF '10 tests passed, 2 failed' <<<\"\$0\"" "$out"

# a test naming a rule the rules file lacks, and a rules file with a bad expression
sed 's/HighLoad none/NoSuchRule none/' pass.test > unknown.test
printf '[alert X]\nexpr = rat(x[5m]) > 1\n' > broken.conf
sed 's/^rules = rules.conf/rules = broken.conf/' pass.test > broken.test
out=$("$REEVE" rules test unknown.test broken.test 2>&1); rc=$?
check "an unknown rule or a broken rules file exits 2 with file:line" -- \
	bash -c "[ $rc = 2 ] && grep -q '^unknown.test:12: .*has no .alert NoSuchRule.' <<<\"\$0\" &&
	grep -q '^broken.conf:2: \[alert X\] expr: 1:1: unknown function' <<<\"\$0\"" "$out"

out=$("$REEVE" rules test 2>&1); rc=$?
check "rules test without a file exits 2" -- test "$rc" = 2
out=$("$REEVE" help rules); rc=$?
check "reeve help rules describes rules test" -- \
	bash -c "[ $rc = 0 ] && grep -q 'rules test FILE' <<<\"\$0\"" "$out"

t_done
