#!/usr/bin/env bash
# screenshots.sh: the pictures of docs/reports.md, made by the project's own tooling: the
# sample report of tests/report_sample (every kind of section, real rrd_graph graphs) as
# headless Chromium shows its HTML, and the first pages of its PDF by pdftoppm.
# Usage: docs/screenshots.sh [BUILD_DIR] (default build; run `./dev test` or make first)
set -euo pipefail
docs=$(cd "$(dirname "$0")" && pwd)
build=${1:-$docs/../build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

make -C "$build" tests/report_sample >/dev/null
"$build/tests/report_sample" --out "$tmp"
timeout 60 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
	--user-data-dir="$tmp/chrome" --screenshot="$docs/report-html.png" \
	--window-size=820,1400 "file://$tmp/sample.html" 2>/dev/null
pdftoppm -r 60 -png -f 1 -l 3 "$tmp/sample.pdf" "$tmp/page"
for i in 1 2 3; do
	cp "$(ls "$tmp"/page-*"$i".png | head -1)" "$docs/report-pdf-$i.png"
done
ls -l "$docs"/report-*.png
