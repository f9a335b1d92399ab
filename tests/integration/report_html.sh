#!/usr/bin/env bash
# report_html.sh: the renderers' output as readers get it. tests/report_sample writes the sample
# report (every kind of section, real graphs) as HTML, text and CSV; headless Chromium shows the
# HTML (a screenshot that is not blank and shows the level colours; every graph loaded, at its
# size; the text decoded as UTF-8), Python's csv module reads the CSV, and the text is checked
# for its names and its aligned columns.
. "$TEST_LIB"
plan 9
PY=/usr/bin/python3
: "${REPORT_SAMPLE:?REPORT_SAMPLE must point at tests/report_sample (make check sets it)}"
OUT="$T_DIR/out"

# ---- the sample ----
# in the sanitizer build: librrd's and fontconfig's own leaks are not reeve's (tests/lsan.supp)
LSAN_OPTIONS="suppressions=$(dirname "$TEST_LIB")/../lsan.supp:fast_unwind_on_malloc=0" \
	"$REPORT_SAMPLE" --out "$OUT" >"$T_DIR/sample.out" 2>&1
rc=$?
files_ok() {
	local f
	[ "$rc" -eq 0 ] || { cat "$T_DIR/sample.out"; return 1; }
	for f in sample.html sample.txt sample.csv graph-orders.png graph-queue.png; do
		[ -s "$OUT/$f" ] || { echo "missing: $f"; return 1; }
	done
	# the failed graph has no file
	[ ! -e "$OUT/graph-latency.png" ]
}
check "report_sample writes the HTML, the text, the CSV and the PNGs of the drawn graphs" -- files_ok

# ---- (a) a screenshot ----
chromium --screenshot="$T_DIR/shot.png" --window-size=900,2600 "file://$OUT/sample.html" >/dev/null
check "headless Chromium takes a screenshot of sample.html" -- test -s "$T_DIR/shot.png"

# the screenshot is not blank: dark pixels (text, graph lines) and the colours of the header
# bar, a WARNING cell (amber), a CRITICAL cell (red) and the met availability (green)
check "the screenshot is not blank and shows the header and the level colours" -- \
	"$PY" "$T_LIBDIR/png_check.py" "$T_DIR/shot.png" --dark 0.005 \
	--colour 'header bar:344054:201' --colour 'amber WARNING cell:FEF0C7:201' \
	--colour 'red CRITICAL cell:FEE4E2:201' --colour 'green met cell:DCFAE6:201'

# ---- (b) every image loaded ----
# a page of the test's own (not part of the report) that loads sample.html in an iframe and,
# once it has loaded, writes what it found into its DOM for --dump-dom
make_wrapper() {
	cat > "$2" <<EOF
<!DOCTYPE html>
<html><head><meta charset="utf-8"></head><body>
<iframe id="f" src="file://$1/sample.html" width="900" height="2600"></iframe>
<pre id="result">pending</pre>
<script>
document.getElementById('f').addEventListener('load', function () {
  var out = document.getElementById('result');
  try {
    var doc = this.contentDocument, imgs = doc.images, ok = 0, text = doc.body.innerText;
    for (var i = 0; i < imgs.length; i++)
      if (imgs[i].complete && imgs[i].naturalWidth > 0 &&
          imgs[i].naturalWidth == imgs[i].getAttribute('width') &&
          imgs[i].naturalHeight == imgs[i].getAttribute('height'))
        ok++;
    out.textContent = 'images ok ' + ok + ' of ' + imgs.length +
      '; names ' + (text.indexOf('Umsatz München') >= 0 && text.indexOf('日本語') >= 0 &&
        text.indexOf('<b>&"x"</b>') >= 0 ? 'shown' : 'garbled');
  } catch (e) {
    out.textContent = 'error ' + e;
  }
});
</script>
</body></html>
EOF
}
# loaded DIR: what the wrapper page found for DIR/sample.html
loaded() {
	make_wrapper "$1" "$T_DIR/wrapper.html"
	chromium --dump-dom --virtual-time-budget=5000 --allow-file-access-from-files \
		"file://$T_DIR/wrapper.html" | sed -n 's:.*<pre id="result">\(.*\)</pre>.*:\1:p'
}
got=$(loaded "$OUT")
diag "wrapper: $got"
check "every graph of the HTML loaded, at the size its <img> gives (2 of 2)" -- \
	grep -q "^images ok 2 of 2;" <<<"$got"
check "the page shows the non-ASCII names and the escaped name as text" -- \
	grep -q "; names shown$" <<<"$got"
# the check above can fail: the same page with one PNG missing
mkdir "$T_DIR/broken" && cp "$OUT"/sample.html "$OUT"/graph-orders.png "$T_DIR/broken/"
got=$(loaded "$T_DIR/broken")
check "a missing PNG is noticed (1 of 2)" -- grep -q "^images ok 1 of 2;" <<<"$got"

# ---- (c) the CSV and the text ----
cat > "$T_DIR/csv_ok.py" <<'EOF'
import csv, sys

raw = open(sys.argv[1], 'rb').read()
assert raw.startswith(b'\xef\xbb\xbf'), 'no UTF-8 BOM'
assert raw.endswith(b'\r\n') and raw.count(b'\n') == raw.count(b'\r\n'), 'not CRLF'
rows = list(csv.reader(open(sys.argv[1], encoding='utf-8-sig', newline='')))
assert rows[0] == ['table', 'section', 'name', 'unit', 'last', 'min', 'avg', 'max', 'p95',
                   'previous_avg', 'change_percent', 'objective', 'up_ratio', 'downtime_seconds',
                   'maintenance_seconds', 'nodata_seconds', 'objective_met'], rows[0]
assert all(len(r) == 17 for r in rows), [len(r) for r in rows]
kpi = {r[2]: r for r in rows if r[0] == 'kpi'}
av = {r[2]: r for r in rows if r[0] == 'availability'}
assert len(rows) == 1 + 4 + 3 and len(kpi) == 4 and len(av) == 3, rows
assert [r[2] for r in rows[1:]] == ['Umsatz München', 'Größe', '日本語', '<b>&"x"</b>',
    'instance=web1, job="node"', 'instance=db1', 'instance=größe-1'], rows
u = kpi['Umsatz München']
assert u[1] == 'Key figures' and u[3] == 'EUR', u
assert [float(x) for x in u[4:11]] == [12345.6, 8020.25, 10250.5, 15010, 14500.75, 9111.555555,
                                       12.5], u
assert u[11:] == [''] * 6, u
assert float(kpi['Größe'][4]) == 1610612736 and float(kpi['Größe'][10]) == -3
assert kpi['<b>&"x"</b>'][4:] == [''] * 13, kpi['<b>&"x"</b>']
w = av['instance=web1, job="node"']
assert w[1] == 'Web shop' and w[3:11] == [''] * 8, w
assert [float(x) for x in w[11:16]] == [0.999, 0.99953, 40.5, 7200, 0] and w[16] == 'yes', w
assert av['instance=db1'][16] == 'no' and float(av['instance=db1'][12]) == 0.98712
g = av['instance=größe-1']
assert g[12] == '' and g[13] == '' and g[15] == '79200' and g[16] == 'no', g
print('%d rows' % len(rows))
EOF
check "the CSV: BOM, CRLF, the header, every KPI and availability row with its numbers" -- \
	"$PY" "$T_DIR/csv_ok.py" "$OUT/sample.csv"

# text_ok TXT: the names in UTF-8 as they are, the graphs named, the KPI table's rows all as
# wide on screen (its last column is right-aligned), wide characters counted as two columns
cat > "$T_DIR/text_ok.py" <<'EOF'
import sys, unicodedata

text = open(sys.argv[1], encoding='utf-8').read()
for want in ('Umsatz München', 'Größe', '日本語', '<b>&"x"</b>', 'instance=größe-1',
             '[graph: Orders per 5 minutes, see the HTML part or the PDF]',
             '[graph: Größe der Warteschlange, see the HTML part or the PDF]',
             "[graph: Latency p95 <api>, not available: rrd_graph: opening '"):
    assert want in text, want

def width(s):
    return sum(2 if unicodedata.east_asian_width(c) in 'WF' else 1 for c in s)

lines = text.split('\n')
i = lines.index('Key figures')
table = lines[i + 2:i + 7]
assert table[0].startswith('Name ') and table[1].startswith('Umsatz München '), table
assert len({width(l) for l in table}) == 1, [(width(l), l) for l in table]
units = [width(l[:l.index(u)]) for l, u in zip(table[1:4], ('EUR', 'bytes', 'ratio'))]
assert len(set(units)) == 1, units
print('ok')
EOF
check "the text: the names in UTF-8, the graphs named, the columns aligned" -- \
	"$PY" "$T_DIR/text_ok.py" "$OUT/sample.txt"

# ---- the CSV's numbers do not follow the locale ----
# a locale whose decimal point is ',' (compiled here: Debian has no de_DE unless configured)
mkdir -p "$T_DIR/locale"
if localedef -i de_DE -f UTF-8 "$T_DIR/locale/de_DE.UTF-8" >"$T_DIR/localedef.out" 2>&1 &&
	[ "$(LOCPATH="$T_DIR/locale" LC_ALL=de_DE.UTF-8 /usr/bin/printf '%.1f' 1.5)" = "1,5" ]; then
	LOCPATH="$T_DIR/locale" LC_ALL=de_DE.UTF-8 \
	LSAN_OPTIONS="suppressions=$(dirname "$TEST_LIB")/../lsan.supp:fast_unwind_on_malloc=0" \
		"$REPORT_SAMPLE" --out "$T_DIR/de" >"$T_DIR/sample-de.out" 2>&1
	check "in a locale with a decimal comma the CSV is the same" -- \
		cmp "$OUT/sample.csv" "$T_DIR/de/sample.csv"
else
	# localedef needs Debian's locales package (its /usr/share/i18n/locales)
	T_NUM=$((T_NUM + 1))
	echo "ok $T_NUM # SKIP no de_DE locale to be made here: $(head -1 "$T_DIR/localedef.out")"
fi

t_done
