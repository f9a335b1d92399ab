#!/usr/bin/env bash
# status_page.sh: the status page at / as an operator's browser gets it: the host probes, a
# failing probe, a firing and a pending alert (one label holding markup); the HTML read by
# Python's parser (the alerts, the probes up and down, every graph a data: URI holding a PNG of
# its stated size, the markup escaped), the headers (CSP, nosniff), HEAD and other methods,
# headless Chromium (no console message, a screenshot that shows the alert and the graphs),
# and with a read token: 401 without it, 200 with it, and the empty states.
. "$TEST_LIB"
plan 19
PY=/usr/bin/python3
# in the sanitizer build: librrd's and fontconfig's own leaks are not reeve's (tests/lsan.supp)
export LSAN_OPTIONS="suppressions=$T_LIBDIR/../lsan.supp:fast_unwind_on_malloc=0"
port=$(free_port)
url=http://127.0.0.1:$port/
write_config "$T_DIR/reeve.conf" "$port" '
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
[probe broken]
type = test_fail

[alert always_on]
expr = load1 >= 0
severity = critical
labels.evil = <script>alert(1)</script>
annotations.summary = load is {{ value }} & <b>fine</b>
eval_interval = 1s

[alert slow_one]
expr = load1 >= 0
for = 1h
severity = warning
eval_interval = 1s'
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log"
wait_for 15 curl -sf -o /dev/null "http://127.0.0.1:$port/healthz"

# page_ok HTML WANT...: Python's html.parser reads the page; each WANT is a claim about it:
#   firing:RULE  pending:RULE  up:PROBE  down:PROBE  graphs:N  empty:TEXT  noscript
cat > "$T_DIR/page_ok.py" <<'EOF'
import base64, html.parser, struct, sys

class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables = {}      # id -> rows of cell texts
        self.table = None
        self.row = self.cell = None
        self.imgs = []
        self.scripts = 0
        self.text = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == 'script':
            self.scripts += 1
        elif tag == 'table':
            self.table = self.tables.setdefault(a.get('id', ''), [])
        elif tag == 'tr':
            self.row = []
        elif tag in ('td', 'th'):
            self.cell = []
        elif tag == 'img':
            self.imgs.append(a)

    def handle_endtag(self, tag):
        if tag in ('td', 'th') and self.cell is not None and self.row is not None:
            self.row.append(' '.join(''.join(self.cell).split()))
            self.cell = None
        elif tag == 'tr' and self.row is not None and self.table is not None:
            self.table.append(self.row)
            self.row = None
        elif tag == 'table':
            self.table = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)
        self.text.append(data)

raw = open(sys.argv[1], encoding='utf-8').read()
p = Page()
p.feed(raw)
p.close()

def rows(tid):
    return {r[0]: r for r in p.tables.get(tid, [])[1:]}

def png_size(uri):
    head = 'data:image/png;base64,'
    assert uri.startswith(head), 'not a data: URI of a PNG: ' + uri[:40]
    d = base64.b64decode(uri[len(head):], validate=True)
    assert d[:8] == b'\x89PNG\r\n\x1a\n' and d[12:16] == b'IHDR', 'not a PNG'
    return struct.unpack('>II', d[16:24])

for want in sys.argv[2:]:
    kind, _, arg = want.partition(':')
    if kind == 'firing' or kind == 'pending':
        r = rows(kind)
        assert arg in r, '%s not in the %s table: %s' % (arg, kind, p.tables.get(kind))
        print(kind, r[arg])
    elif kind in ('up', 'down'):
        r = rows('probes-table')
        assert arg in r, 'probe %s not listed: %s' % (arg, list(r))
        assert r[arg][2] == kind, 'probe %s is %s, not %s' % (arg, r[arg][2], kind)
    elif kind == 'graphs':
        titles = [i.get('alt') for i in p.imgs]
        assert len(p.imgs) == int(arg), 'graphs: %s' % titles
        for i in p.imgs:
            w, h = png_size(i['src'])
            assert (str(w), str(h)) == (i.get('width'), i.get('height')), (w, h, i.get('alt'))
        print('graphs:', titles)
    elif kind == 'alt':
        assert arg in [i.get('alt') for i in p.imgs], 'no graph ' + arg
    elif kind == 'empty':
        assert arg in ' '.join(''.join(p.text).split()), 'no "%s" on the page' % arg
    elif kind == 'noscript':
        assert p.scripts == 0, 'a <script> element on the page'
    else:
        raise SystemExit('unknown claim ' + want)
EOF

# the page once every probe reported, both alerts are active and every graph is drawn
page() { curl -s -D "$1.h" -o "$1" -w '%{http_code}' "$url"; }
# the graphs: cpu, load, memory, network received and sent; filesystem when it reports a mount
graphs_expected() {
	local n=5
	metrics "$port" | grep -q '^filesystem_size_bytes{' && n=6
	echo $n
}
ready_page() {
	[ "$(page "$T_DIR/p.html")" = 200 ] &&
		"$PY" "$T_DIR/page_ok.py" "$T_DIR/p.html" firing:always_on pending:slow_one \
			up:cpu up:load up:memory up:network up:filesystem down:broken \
			"graphs:$(graphs_expected)"
}
wait_for 60 ready_page
check "GET / answers 200 text/html with every probe, both alerts and every graph" -- ready_page
headers_ok() {
	grep -qi '^content-type: text/html; charset=utf-8' "$1" &&
	grep -qi "^content-security-policy: default-src 'none'; img-src data:; style-src 'unsafe-inline'" "$1" &&
	grep -qi '^x-content-type-options: nosniff' "$1"
}
check "the page is sent with a strict Content-Security-Policy and nosniff" -- headers_ok "$T_DIR/p.html.h"
firing_ok() {
	local row
	row=$("$PY" "$T_DIR/page_ok.py" "$T_DIR/p.html" firing:always_on) &&
	grep -qF "'always_on', 'critical', 'evil=<script>alert(1)</script>'" <<<"$row" &&
	grep -qF '& <b>fine</b>' <<<"$row"
}
check "the firing alert is listed with its rule, severity, labels and summary" -- firing_ok
pending_ok() {
	"$PY" "$T_DIR/page_ok.py" "$T_DIR/p.html" pending:slow_one | grep -qF "'slow_one', 'warning', 'pending'"
}
check "the pending alert is in a table of its own" -- pending_ok
escaped_ok() {
	grep -qF 'evil=&lt;script&gt;alert(1)&lt;/script&gt;' "$T_DIR/p.html" &&
	grep -qF '&amp; &lt;b&gt;fine&lt;/b&gt;' "$T_DIR/p.html" &&
	"$PY" "$T_DIR/page_ok.py" "$T_DIR/p.html" noscript
}
check "markup in a label and an annotation is escaped, no <script> element" -- escaped_ok
check "the graphs of the host are there by their titles" -- \
	"$PY" "$T_DIR/page_ok.py" "$T_DIR/p.html" 'alt:CPU use (share of all cpus, idle excluded)' \
	'alt:Load average' 'alt:Memory used (bytes)' 'alt:Network received (bytes per second)' \
	'alt:Network sent (bytes per second)'
# the parser's claims can fail: a probe that is down is not reported up
check "the checker notices a wrong claim (broken is not up)" -- \
	bash -c "! '$PY' '$T_DIR/page_ok.py' '$T_DIR/p.html' up:broken"

# a browser reloading quickly gets the same page: it is made at most every few seconds (two
# re-renders between three back-to-back requests would take seconds each)
cached_ok() {
	curl -s -o "$T_DIR/c1" "$url" && curl -s -o "$T_DIR/c2" "$url" && curl -s -o "$T_DIR/c3" "$url" &&
	{ cmp -s "$T_DIR/c1" "$T_DIR/c2" || cmp -s "$T_DIR/c2" "$T_DIR/c3"; }
}
check "requests in quick succession are answered from one render" -- cached_ok
head_ok() {
	[ "$(curl -s -I -D "$T_DIR/head.h" -o /dev/null -w '%{http_code} %{size_download}' "$url")" = "200 0" ] &&
	headers_ok "$T_DIR/head.h"
}
check "HEAD / answers 200 with the page's headers and no body" -- head_ok
post_ok() {
	[ "$(curl -s -D "$T_DIR/post.h" -o "$T_DIR/post" -w '%{http_code}' -X POST -d x "$url")" = 405 ] &&
	grep -qi '^allow: GET, HEAD' "$T_DIR/post.h" && grep -q '"status":"error"' "$T_DIR/post"
}
check "POST / answers 405 in JSON with Allow" -- post_ok
check "only / itself is the page: /index.html is 404" -- \
	test "$(curl -s -o /dev/null -w '%{http_code}' "${url}index.html")" = 404

# ---- headless Chromium ----
console_messages "$url" "$T_DIR/dom.html" >"$T_DIR/console"
[ -s "$T_DIR/console" ] && diag "console: $(cat "$T_DIR/console")"
check "Chromium loads the page with no console message (no error, no CSP violation)" -- \
	bash -c "[ ! -s '$T_DIR/console' ] && grep -q 'Firing alerts' '$T_DIR/dom.html'"
# the capture can fail: a page that logs an error and breaks its own policy is caught
console_messages "data:text/html,<meta http-equiv=\"Content-Security-Policy\" content=\"img-src data:\"><img src=\"http://127.0.0.1:1/x.png\"><script>console.error('seen')</script>" \
	"$T_DIR/bad.html" >"$T_DIR/bad-console"
check "the console capture sees an error and a CSP violation of a bad page" -- \
	bash -c "grep -q seen '$T_DIR/bad-console' && grep -q 'Content Security Policy' '$T_DIR/bad-console'"
chromium --screenshot="$T_DIR/shot.png" --window-size=1200,2000 "$url" >/dev/null
# the header bar, the firing alert's row, a down and an up badge, and the graphs' own colours
# (rrd_graph's grey frame and pink grid: nothing else on the page has them)
check "the screenshot is 1200x2000, not blank, and shows the alert, the probes and the graphs" -- \
	"$PY" "$T_LIBDIR/png_check.py" "$T_DIR/shot.png" --size 1200x2000 --dark 0.003 \
	--colour 'header bar:344054:20000' --colour 'firing row:FEE4E2:5000' \
	--colour 'down badge and firing count:D92D20:300' --colour 'up badge:DCFAE6:300' \
	--colour 'graph frame:F3F3F3:50000' --colour 'graph grid:F3BFBF:5000'
stop_reeve
check "SIGTERM exits 0" -- test "$REEVE_STATUS" = 0

# ---- with a read token: the page needs it; no rules, no failing probe: the empty states ----
write_config "$T_DIR/auth.conf" "$port" '
[probe load]
type = load
[token viewer]
secret = 0123456789abcdef0123456789abcdef
roles = read'
start_reeve "$T_DIR/auth.conf" "$T_DIR/log2"
wait_for 15 curl -sf -o /dev/null "http://127.0.0.1:$port/healthz"
noauth_ok() {
	[ "$(curl -s -D "$T_DIR/a.h" -o "$T_DIR/a" -w '%{http_code}' "$url")" = 401 ] &&
	grep -qi '^www-authenticate: Bearer' "$T_DIR/a.h" && grep -q '"errorType":"unauthorized"' "$T_DIR/a"
}
check "without a token: 401 with WWW-Authenticate, in JSON" -- noauth_ok
check "with a wrong token: 401" -- test "$(curl -s -o /dev/null -w '%{http_code}' \
	-H 'Authorization: Bearer wrong-wrong-wrong-wrong' "$url")" = 401
tok() { curl -s -o "$T_DIR/t.html" -w '%{http_code}' -H 'Authorization: Bearer 0123456789abcdef0123456789abcdef' "$url"; }
empty_ok() {
	[ "$(tok)" = 200 ] && "$PY" "$T_DIR/page_ok.py" "$T_DIR/t.html" up:load 'empty:No alerts firing.'
}
wait_for 30 empty_ok
check "with the read token: 200, and an empty state says no alerts are firing" -- empty_ok
stop_reeve
check "SIGTERM exits 0 (second run)" -- test "$REEVE_STATUS" = 0
t_done
