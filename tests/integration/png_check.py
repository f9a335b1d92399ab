# png_check.py: judges a screenshot (an 8-bit RGB or RGBA PNG, decoded here: zlib and the five
# scanline filters) so the integration tests can tell a rendered page from a blank one.
# Usage: png_check.py PNG [--size WxH] [--dark FRACTION] [--colour NAME:RRGGBB:MIN_PIXELS]...
#   --size    the image must be exactly W x H pixels
#   --dark    at least this fraction of the pixels is dark (text, lines): not blank
#   --colour  at least MIN_PIXELS pixels within 3 of RRGGBB in each channel
# Prints what it measured; exits 1 with the reason when a condition does not hold.
import struct
import sys
import zlib


def decode(path):
    """The width, the height and a {(r, g, b): count} histogram of a PNG file."""
    data = open(path, 'rb').read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
    pos, idat = 8, b''
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b'IHDR':
            w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
        elif kind == b'IDAT':
            idat += body
        pos += 12 + n
    assert depth == 8 and ctype in (2, 6), 'unexpected PNG format %d/%d' % (depth, ctype)
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    colours = {}
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        prev = line
        for x in range(0, stride, bpp):
            px = bytes(line[x:x + 3])
            colours[px] = colours.get(px, 0) + 1
    return w, h, colours


def near(colours, hexcol):
    want = bytes.fromhex(hexcol)
    return sum(n for px, n in colours.items() if all(abs(p - q) <= 3 for p, q in zip(px, want)))


def main(argv):
    path, args = argv[1], argv[2:]
    w, h, colours = decode(path)
    dark = sum(n for px, n in colours.items() if sum(px) < 3 * 100)
    print('%dx%d: %d dark pixels, %d colours' % (w, h, dark, len(colours)))
    ok = True
    for opt, val in zip(args[::2], args[1::2]):
        if opt == '--size':
            if '%dx%d' % (w, h) != val:
                print('size %dx%d, not %s' % (w, h, val))
                ok = False
        elif opt == '--dark':
            if dark <= float(val) * w * h:
                print('hardly any dark pixels: blank?')
                ok = False
        elif opt == '--colour':
            name, col, least = val.rsplit(':', 2)
            n = near(colours, col)
            print('%s (#%s): %d pixels' % (name, col, n))
            if n < int(least):
                print('  %s not seen (fewer than %s pixels)' % (name, least))
                ok = False
        else:
            raise SystemExit('png_check.py: unknown option ' + opt)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
