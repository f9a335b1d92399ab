#!/usr/bin/env bash
# report_pdf.sh: the PDF of a report (reports/render_pdf.c) as poppler-utils read it. The
# document is the one tests/unit/test_render_pdf builds by hand (every kind of section, an
# 80-row KPI table, non-ASCII text, a vector graph drawn by rrd_graph, a graph with only its
# PNG, one with only an error), written to a file through REPORT_PDF_OUT.
. "$TEST_LIB"
plan 20
PY=/usr/bin/python3
: "${TEST_RENDER_PDF:?TEST_RENDER_PDF must point at tests/unit/test_render_pdf (make check sets it)}"
TITLE='Wochenbericht München – Größe'
pdf="$T_DIR/report.pdf"

# in the sanitizer build: leaks inside librrd, fontconfig, pango and poppler are not reeve's
LSAN_OPTIONS="suppressions=$(dirname "$TEST_LIB")/../lsan.supp:fast_unwind_on_malloc=0" \
REPORT_PDF_OUT="$pdf" CMOCKA_MESSAGE_OUTPUT=TAP "$TEST_RENDER_PDF" >"$T_DIR/unit.out" 2>&1
unit_rc=$?
check "test_render_pdf passed and wrote the PDF" -- test "$unit_rc" -eq 0 -a -s "$pdf"
[ "$unit_rc" -eq 0 ] || sed 's/^/#   /' "$T_DIR/unit.out"

# ---- pdfinfo: pages, metadata, A4 ----
pdfinfo "$pdf" >"$T_DIR/info" 2>&1
pages=$(awk '/^Pages:/ { print $2 }' "$T_DIR/info")
diag "pages: ${pages:-none}"
check "pdfinfo: 3 pages or more" -- test "${pages:-0}" -ge 3
check "pdfinfo: the report's title" -- grep -qx "Title: *$TITLE" "$T_DIR/info"
check "pdfinfo: made by reeve" -- grep -qx 'Creator: *reeve' "$T_DIR/info"
check "pdfinfo: A4 portrait" -- grep -q '^Page size: *595 x 842 pts (A4)' "$T_DIR/info"

# ---- pdftotext: the words are text, umlauts and all ----
pdftotext -enc UTF-8 "$pdf" "$T_DIR/report.txt"
has() { grep -qF -- "$1" "$T_DIR/report.txt"; }
check "pdftotext: the title" -- has "$TITLE"
check "pdftotext: München and Größe" -- bash -c 'grep -qF "Bestellungen München" "$1" && grep -qF "Größe db-42" "$1"' _ "$T_DIR/report.txt"
check "pdftotext: a KPI number" -- has "4711.5 req/s"
check "pdftotext: Page 1 of $pages" -- has "Page 1 of $pages"
check "pdftotext: Page $pages of $pages" -- has "Page $pages of $pages"
check "pdftotext: every page has its number" -- \
	test "$(grep -cE "Page [0-9]+ of $pages" "$T_DIR/report.txt")" -eq "${pages:-0}"
# the graph's legend and title were drawn by rrd_graph: found as text, the graph is vectors
check "pdftotext: the rrd_graph legend is text" -- has "Antwortzeit"
check "pdftotext: the rrd_graph title is text" -- has "Größe in München"

# ---- pdfimages: one raster image, the graph that had only its PNG ----
pdfimages -list "$pdf" >"$T_DIR/images" 2>&1
nimages=$(awk 'NR > 2' "$T_DIR/images" | wc -l)
diag "images: $nimages"
check "pdfimages: exactly one image (the PNG fallback; the vector graph is none)" -- test "$nimages" -eq 1
check "pdfimages: it is the graph's PNG (wider than 500 pixels)" -- \
	awk 'NR == 3 && $4 > 500 { ok = 1 } END { exit !ok }' "$T_DIR/images"

# ---- pdffonts: the fonts are embedded ----
pdffonts "$pdf" >"$T_DIR/fonts" 2>&1
check "pdffonts: DejaVu Sans in the text" -- grep -q 'DejaVuSans[-A-Za-z]* ' "$T_DIR/fonts"
# the graph's text keeps a font of its own: rrd_graph's DejaVu Sans Mono, under that name or the
# one cairo gives a font poppler hands it (which depends on the fonts installed)
check "pdffonts: rrd_graph's font in the graph" -- grep -qE 'DejaVuSansMono|CairoFont' "$T_DIR/fonts"
# columns: name type encoding emb sub uni object ID; "Type 1C" and "CID Type 0C" are two words
check "pdffonts: every font embedded" -- awk 'NR > 2 { n++; if ($(NF-4) != "yes") bad++ }
	END { exit !(n > 0 && bad == 0) }' "$T_DIR/fonts"

# ---- pdftoppm: every page renders, and none is blank ----
pdftoppm -r 50 -png "$pdf" "$T_DIR/page" 2>"$T_DIR/ppm.err"
check "pdftoppm: one image per page" -- test "$(ls "$T_DIR"/page-*.png 2>/dev/null | wc -l)" -eq "${pages:-0}"
# decodes each PNG (zlib, the PNG row filters undone) and counts the dark pixels above the
# footer: the body of every page has something on it
cat > "$T_DIR/ink.py" <<'EOF'
import struct, sys, zlib
CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}
def rows(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and color in CHANNELS and not interlace, "unexpected PNG format"
            bpp = CHANNELS[color]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, out, stride = zlib.decompress(idat), [], w * bpp
    prev = bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out.append(line)
        prev = line
    return w, h, bpp, out
bad = 0
for path in sys.argv[1:]:
    w, h, bpp, lines = rows(path)
    # dark: the darkest colour channel below half (black text, red lines); alpha ignored
    body = lines[:h * 770 // 842]
    dark = sum(1 for r in body for x in range(0, len(r), bpp) if min(r[x:x + min(bpp, 3)]) < 128)
    print("%s: %dx%d, %d dark pixels above the footer" % (path.rsplit("/", 1)[-1], w, h, dark))
    if dark < 300:
        bad += 1
sys.exit(1 if bad else 0)
EOF
"$PY" "$T_DIR/ink.py" "$T_DIR"/page-*.png >"$T_DIR/ink.out" 2>&1
ink_rc=$?
diag "$(cat "$T_DIR/ink.out")"
check "pdftoppm: no page is blank" -- test "$ink_rc" -eq 0

t_done
