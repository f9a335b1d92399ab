#!/usr/bin/env bash
# screenshots.sh: the pictures of the docs, made by the project's own tooling: for
# docs/reports.md the sample report of tests/report_sample (every kind of section, real
# rrd_graph graphs) as headless Chromium shows its HTML, and the first pages of its PDF by
# pdftoppm; for docs/http-api.md the status page of a reeve from the build, after a minute
# of collecting (a failing probe and a firing alert included).
# Usage: docs/screenshots.sh [BUILD_DIR] (default build; run `./dev test` or make first)
set -euo pipefail
docs=$(cd "$(dirname "$0")" && pwd)
build=${1:-$docs/../build}
tmp=$(mktemp -d)
pid=
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

make -C "$build" tests/report_sample >/dev/null
"$build/tests/report_sample" --out "$tmp"
timeout 60 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
	--user-data-dir="$tmp/chrome" --screenshot="$docs/report-html.png" \
	--window-size=820,1400 "file://$tmp/sample.html" 2>/dev/null
pdftoppm -r 60 -png -f 1 -l 3 "$tmp/sample.pdf" "$tmp/page"
for i in 1 2 3; do
	cp "$(ls "$tmp"/page-*"$i".png | head -1)" "$docs/report-pdf-$i.png"
done

# ---- the status page ----
make -C "$build" reeve tests/probes/test_fail.la >/dev/null
port=$((20000 + RANDOM % 10000))
cat > "$tmp/reeve.conf" <<EOF
[reeve]
data_dir = $tmp/data
interval = 2s
hostname = web01
[http]
listen = 127.0.0.1:$port
[probe cpu]
type = cpu
[probe load]
type = load
[probe memory]
type = memory
[probe network]
type = network
[probe filesystem]
type = filesystem
mount_include = ^/\$
[probe payments_api]
type = test_fail
[alert disk_in_use]
expr = max by (mountpoint) (1 - filesystem_avail_bytes / filesystem_size_bytes) >= 0
severity = critical
labels.team = ops
annotations.summary = {{ labels.mountpoint }} is {{ humanizePercentage value }} full
[alert busy_cpu]
expr = sum without (mode) (cpu_usage_ratio{mode!="idle"}) >= 0
for = 1h
severity = warning
EOF
REEVE_PLUGIN_DIR="$build/probes/.libs:$build/tests/probes/.libs" "$build/reeve" run \
	-c "$tmp/reeve.conf" >"$tmp/reeve.log" 2>&1 &
pid=$!
sleep 75
timeout 60 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
	--user-data-dir="$tmp/chrome" --screenshot="$docs/status-page.png" \
	--window-size=1200,1500 "http://127.0.0.1:$port/" 2>/dev/null
kill "$pid"
wait "$pid" || true
pid=
ls -l "$docs"/report-*.png "$docs"/status-page.png
