#!/bin/sh
# Integration: the HTML report renders in a real browser.
#
# check_report writes its multi-unit fixture page to $REPORT_OUT; headless
# Chromium screenshots it, and a small PNG decoder (python3 + zlib, no
# third-party modules) checks that the picture is not blank: the size is
# the window's, there are many distinct colours, and the chart's first
# line colour and the promoter bar colour are really painted.
#
# Chromium is installed with apt-get when missing and we are root
# (SMSGW_NO_INSTALL=1 prevents that); without it the test is skipped
# (exit 77, automake's SKIP).  CHECK_REPORT names the test binary
# (default $BUILDDIR/check_report).
set -u
. "${SMSGW_SRCDIR:-.}/tests/integration/lib.sh"

CHECK_REPORT=${CHECK_REPORT:-$BUILDDIR/check_report}
if [ ! -x "$CHECK_REPORT" ]; then
	echo "FAIL: no $CHECK_REPORT (build it first)" >&2
	exit 1
fi

find_chromium() {
	for c in chromium chromium-browser google-chrome; do
		if command -v "$c" > /dev/null 2>&1; then
			command -v "$c"
			return 0
		fi
	done
	return 1
}
CHROMIUM=${CHROMIUM:-$(find_chromium || true)}
if [ -z "$CHROMIUM" ] && [ "${SMSGW_NO_INSTALL:-0}" != 1 ] &&
    [ "$(id -u)" -eq 0 ] && command -v apt-get > /dev/null 2>&1; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends chromium > /dev/null 2>&1 || true
	CHROMIUM=$(find_chromium || true)
fi
if [ -z "$CHROMIUM" ]; then
	echo "SKIP: chromium is not installed"
	exit 77
fi
if ! command -v python3 > /dev/null 2>&1; then
	echo "SKIP: python3 is not installed"
	exit 77
fi

t=$(mktmp)
REPORT_OUT="$t/report.html" CK_FORK=no "$CHECK_REPORT" > "$t/check.out" 2>&1
rc=$?
expect_eq "$rc" 0 "check_report run"
expect_file "$t/report.html" "report written"
out=$(grep -c 'id="nps-chart"' "$t/report.html" 2>/dev/null)
expect_eq "$out" 1 "page has the chart"

# Headless screenshot; the profile lives in $t, nothing is fetched.
mkdir -p "$t/profile"
(
	cd "$t" && timeout 90 "$CHROMIUM" --headless --no-sandbox \
	    --disable-gpu --disable-quic --no-first-run \
	    --disable-background-networking --disable-component-update \
	    --disable-sync --disable-dev-shm-usage --hide-scrollbars \
	    --user-data-dir="$t/profile" --screenshot="$t/out.png" \
	    --window-size=1200,1600 "file://$t/report.html"
) > "$t/chromium.log" 2>&1
expect_file "$t/out.png" "screenshot written"

if [ -f "$t/out.png" ]; then
	out=$(python3 - "$t/out.png" <<'PYEOF'
import struct, sys, zlib

def decode(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit("not a PNG")
    pos, idat, hdr = 8, [], None
    while pos < len(data):
        n, typ = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if typ == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif typ == b"IDAT":
            idat.append(body)
        elif typ == b"IEND":
            break
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace != 0:
        raise SystemExit("unsupported PNG %r" % (hdr,))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = w * bpp
    prev = bytearray(stride)
    rows = []
    i = 0
    for _ in range(h):
        f = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        if f == 1:
            for x in range(bpp, stride):
                line[x] = (line[x] + line[x - bpp]) & 255
        elif f == 2:
            for x in range(stride):
                line[x] = (line[x] + prev[x]) & 255
        elif f == 3:
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                line[x] = (line[x] + ((a + prev[x]) >> 1)) & 255
        elif f == 4:
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                b = prev[x]
                c = prev[x - bpp] if x >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pr) & 255
        elif f != 0:
            raise SystemExit("bad filter %d" % f)
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows

w, h, bpp, rows = decode(sys.argv[1])
colours = set()
nonwhite = 0
for r in rows:
    for x in range(0, len(r), bpp):
        px = r[x:x + 3]
        colours.add(px)
        if px != b"\xff\xff\xff":
            nonwhite += 1
want = {"line1": bytes.fromhex("1f77b4"), "promoters": bytes.fromhex("2e7d32")}
print("size=%dx%d colours=%d nonwhite=%.3f %s" % (
    w, h, len(colours), nonwhite / float(w * h),
    " ".join("%s=%s" % (k, "yes" if v in colours else "no")
             for k, v in sorted(want.items()))))
PYEOF
)
	echo "report_render: $out"
	expect_match "$out" '^size=1200x1600 ' "screenshot size"
	n=$(printf '%s\n' "$out" | sed -n 's/.*colours=\([0-9]*\).*/\1/p')
	if [ "${n:-0}" -gt 100 ]; then pass
	else fail "screenshot looks blank: ${n:-?} colours"; fi
	expect_match "$out" 'nonwhite=0\.(0[2-9]|[1-9])' "enough ink"
	expect_match "$out" 'line1=yes' "chart line painted"
	expect_match "$out" 'promoters=yes' "split bar painted"
	[ -n "${REPORT_PNG:-}" ] && cp "$t/out.png" "$REPORT_PNG"
else
	sed -n 1,20p "$t/chromium.log" >&2
fi
finish
