/*
 * emu_pdu.c - tiny SMS PDU codec for the atemu test modem (3GPP TS 23.040,
 * 23.038).  See emu_pdu.h.
 */
#include <stdio.h>
#include <string.h>

#include "emu_pdu.h"

#define UD_MAX		140	/* octets of user data */
#define SEPT_MAX	160
#define UCS2_MAX	70
#define GSM_ESC		0x1b
#define SMSC_NUMBER	"+358405202999"

/* GSM 03.38 default alphabet; 0x1b (escape) maps to U+00A0 as a marker. */
static const uint16_t gsm_basic[128] = {
	0x0040, 0x00a3, 0x0024, 0x00a5, 0x00e8, 0x00e9, 0x00f9, 0x00ec,
	0x00f2, 0x00c7, 0x000a, 0x00d8, 0x00f8, 0x000d, 0x00c5, 0x00e5,
	0x0394, 0x005f, 0x03a6, 0x0393, 0x039b, 0x03a9, 0x03a0, 0x03a8,
	0x03a3, 0x0398, 0x039e, 0x00a0, 0x00c6, 0x00e6, 0x00df, 0x00c9,
	0x0020, 0x0021, 0x0022, 0x0023, 0x00a4, 0x0025, 0x0026, 0x0027,
	0x0028, 0x0029, 0x002a, 0x002b, 0x002c, 0x002d, 0x002e, 0x002f,
	0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037,
	0x0038, 0x0039, 0x003a, 0x003b, 0x003c, 0x003d, 0x003e, 0x003f,
	0x00a1, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047,
	0x0048, 0x0049, 0x004a, 0x004b, 0x004c, 0x004d, 0x004e, 0x004f,
	0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057,
	0x0058, 0x0059, 0x005a, 0x00c4, 0x00d6, 0x00d1, 0x00dc, 0x00a7,
	0x00bf, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067,
	0x0068, 0x0069, 0x006a, 0x006b, 0x006c, 0x006d, 0x006e, 0x006f,
	0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077,
	0x0078, 0x0079, 0x007a, 0x00e4, 0x00f6, 0x00f1, 0x00fc, 0x00e0,
};

/* Extension table: septet after ESC, and its code point. */
static const struct {
	uint8_t		sept;
	uint16_t	cp;
} gsm_ext[] = {
	{ 0x0a, 0x000c }, { 0x14, 0x005e }, { 0x28, 0x007b },
	{ 0x29, 0x007d }, { 0x2f, 0x005c }, { 0x3c, 0x005b },
	{ 0x3d, 0x007e }, { 0x3e, 0x005d }, { 0x40, 0x007c },
	{ 0x65, 0x20ac },
};

/* Septets for code point cp: returns 1 or 2 (escape) or 0 if unmapped. */
static int
gsm_lookup(uint32_t cp, uint8_t *s)
{
	size_t	i;

	if (cp == 0x00a0)
		return 0;
	for (i = 0; i < 128; i++)
		if (gsm_basic[i] == cp) {
			s[0] = (uint8_t)i;
			return 1;
		}
	for (i = 0; i < sizeof(gsm_ext) / sizeof(gsm_ext[0]); i++)
		if (gsm_ext[i].cp == cp) {
			s[0] = GSM_ESC;
			s[1] = gsm_ext[i].sept;
			return 2;
		}
	return 0;
}

static uint32_t
gsm_ext_cp(uint8_t sept)
{
	size_t	i;

	for (i = 0; i < sizeof(gsm_ext) / sizeof(gsm_ext[0]); i++)
		if (gsm_ext[i].sept == sept)
			return gsm_ext[i].cp;
	/* Unknown escape: 23.038 says show the basic character. */
	return gsm_basic[sept & 0x7f];
}

/* Append cp as UTF-8; returns false when it does not fit. */
static bool
utf8_put(char *out, size_t cap, size_t *len, uint32_t cp)
{
	char	b[4];
	size_t	n;

	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	if (*len + n + 1 > cap)
		return false;
	memcpy(out + *len, b, n);
	*len += n;
	out[*len] = '\0';
	return true;
}

/* Decode UTF-8 into code points; false on malformed input or overflow. */
static bool
utf8_decode(const char *s, uint32_t *cps, size_t cap, size_t *n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t	 k = 0;
	uint32_t cp, min;
	int	 more, i;

	while (*p != '\0') {
		if (*p < 0x80) {
			cp = *p;
			more = 0;
			min = 0;
		} else if ((*p & 0xe0) == 0xc0) {
			cp = *p & 0x1f;
			more = 1;
			min = 0x80;
		} else if ((*p & 0xf0) == 0xe0) {
			cp = *p & 0x0f;
			more = 2;
			min = 0x800;
		} else if ((*p & 0xf8) == 0xf0) {
			cp = *p & 0x07;
			more = 3;
			min = 0x10000;
		} else
			return false;
		p++;
		for (i = 0; i < more; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (*p & 0x3f);
		}
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		if (k >= cap)
			return false;
		cps[k++] = cp;
	}
	*n = k;
	return true;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex to bytes; false unless hex is an even number of hex digits. */
static bool
hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *n)
{
	size_t	len = strlen(hex), i;
	int	hi, lo;

	if (len % 2 != 0 || len / 2 > cap)
		return false;
	for (i = 0; i < len / 2; i++) {
		hi = hexval((unsigned char)hex[2 * i]);
		lo = hexval((unsigned char)hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*n = len / 2;
	return true;
}

static void
hex_encode(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t	i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

/* Septet number k of a bit stream (septet 0 at bit 0). */
static int
sept_get(const uint8_t *b, size_t n, size_t k)
{
	size_t	bit = k * 7, byte = bit / 8;
	int	shift = (int)(bit % 8), v;

	if (byte >= n)
		return -1;
	v = b[byte] >> shift;
	if (shift > 1) {
		if (byte + 1 >= n)
			return -1;
		v |= b[byte + 1] << (8 - shift);
	}
	return v & 0x7f;
}

static void
sept_put(uint8_t *b, size_t k, uint8_t v)
{
	size_t	bit = k * 7, byte = bit / 8;
	int	shift = (int)(bit % 8);

	b[byte] |= (uint8_t)(v << shift);
	if (shift > 1)
		b[byte + 1] |= (uint8_t)(v >> (8 - shift));
}

/* Decode septets [first, count) of b into UTF-8 text. */
static bool
gsm7_to_utf8(const uint8_t *b, size_t n, size_t first, size_t count,
    char *out, size_t cap)
{
	size_t	len = 0, k;
	int	s;
	bool	esc = false;

	out[0] = '\0';
	for (k = first; k < count; k++) {
		if ((s = sept_get(b, n, k)) < 0)
			return false;
		if (esc) {
			esc = false;
			if (!utf8_put(out, cap, &len, gsm_ext_cp((uint8_t)s)))
				return false;
		} else if (s == GSM_ESC)
			esc = true;
		else if (!utf8_put(out, cap, &len, gsm_basic[s]))
			return false;
	}
	if (esc && !utf8_put(out, cap, &len, ' '))
		return false;
	return true;
}

static bool
ucs2_to_utf8(const uint8_t *b, size_t n, char *out, size_t cap)
{
	size_t	 len = 0, i;
	uint32_t u, lo;

	out[0] = '\0';
	for (i = 0; i + 1 < n; i += 2) {
		u = (uint32_t)b[i] << 8 | b[i + 1];
		if (u >= 0xd800 && u <= 0xdbff && i + 3 < n) {
			lo = (uint32_t)b[i + 2] << 8 | b[i + 3];
			if (lo >= 0xdc00 && lo <= 0xdfff) {
				u = 0x10000 + ((u - 0xd800) << 10) +
				    (lo - 0xdc00);
				i += 2;
			} else
				u = 0xfffd;
		} else if (u >= 0xd800 && u <= 0xdfff)
			u = 0xfffd;
		if (!utf8_put(out, cap, &len, u))
			return false;
	}
	return true;
}

/* Decode an address field at b[*pos]; advances *pos. */
static bool
addr_decode(const uint8_t *b, size_t n, size_t *pos, char *out, size_t cap)
{
	static const char nib[] = "0123456789*#abc";
	size_t	digits, octets, i, len = 0;
	int	toa, d;

	if (*pos + 2 > n)
		return false;
	digits = b[*pos];
	toa = b[*pos + 1];
	octets = (digits + 1) / 2;
	if (*pos + 2 + octets > n || digits > 20)
		return false;
	if ((toa & 0x70) == 0x50) {
		if (!gsm7_to_utf8(b + *pos + 2, octets, 0, digits * 4 / 7,
		    out, cap))
			return false;
	} else {
		if ((toa & 0x70) == 0x10)
			out[len++] = '+';
		for (i = 0; i < digits; i++) {
			d = b[*pos + 2 + i / 2];
			d = (i % 2 == 0) ? (d & 0x0f) : (d >> 4);
			if (d == 0x0f)
				break;
			if (len + 2 > cap)
				return false;
			out[len++] = nib[d];
		}
		out[len] = '\0';
	}
	*pos += 2 + octets;
	return true;
}

/* Encode an address field; returns octets written or 0 on bad input. */
static size_t
addr_encode(const char *a, uint8_t *b)
{
	size_t	n = 0, i, len;
	uint32_t cps[12];
	uint8_t	 s[2], sept[24];
	size_t	 ncp, ns = 0;
	bool	 intl = false;

	if (*a == '+') {
		intl = true;
		a++;
	}
	len = strlen(a);
	if (len > 0 && len <= 20 && strspn(a, "0123456789") == len) {
		b[0] = (uint8_t)len;
		b[1] = intl ? 0x91 : 0x81;
		for (i = 0; i < len; i += 2) {
			b[2 + i / 2] = (uint8_t)((a[i] - '0') |
			    ((i + 1 < len ? a[i + 1] - '0' : 0x0f) << 4));
		}
		return 2 + (len + 1) / 2;
	}
	if (intl)
		a--;
	/* Alphanumeric sender, at most 11 characters. */
	if (!utf8_decode(a, cps, 11, &ncp) || ncp == 0)
		return 0;
	for (i = 0; i < ncp; i++) {
		int k = gsm_lookup(cps[i], s);

		if (k == 0 || ns + (size_t)k > 11)
			return 0;
		memcpy(sept + ns, s, (size_t)k);
		ns += (size_t)k;
	}
	memset(b + 2, 0, 10);
	for (i = 0; i < ns; i++)
		sept_put(b + 2, i, sept[i]);
	n = (ns * 7 + 7) / 8;
	b[0] = (uint8_t)((ns * 7 + 3) / 4);
	b[1] = 0xd0;
	return 2 + n;
}

static size_t
smsc_encode(uint8_t *b)
{
	uint8_t	a[14];
	size_t	n = addr_encode(SMSC_NUMBER, a);

	/* The SMSC length counts octets (TOA included), not digits. */
	b[0] = (uint8_t)(n - 1);
	memcpy(b + 1, a + 1, n - 1);
	return n;
}

static uint8_t
bcd_swap(int v)
{
	return (uint8_t)((v % 10) << 4 | (v / 10 % 10));
}

static void
scts_encode(time_t ts, uint8_t *b)
{
	struct tm tm;

	gmtime_r(&ts, &tm);
	b[0] = bcd_swap(tm.tm_year % 100);
	b[1] = bcd_swap(tm.tm_mon + 1);
	b[2] = bcd_swap(tm.tm_mday);
	b[3] = bcd_swap(tm.tm_hour);
	b[4] = bcd_swap(tm.tm_min);
	b[5] = bcd_swap(tm.tm_sec);
	b[6] = 0;
}

int
emu_pdu_tpdu_len(const char *hex)
{
	uint8_t	b[EMU_PDU_HEX_MAX / 2];
	size_t	n;

	if (!hex_decode(hex, b, sizeof(b), &n) || n < 1 ||
	    (size_t)b[0] + 1 >= n)
		return -1;
	return (int)(n - 1 - b[0]);
}

bool
emu_pdu_decode_submit(const char *hex, struct emu_submit *out)
{
	struct emu_submit r;
	uint8_t	b[EMU_PDU_HEX_MAX / 2];
	size_t	n, pos, udl, udlen, hl, i, first;
	int	fo, vpf, alpha;
	const uint8_t *ud;

	memset(&r, 0, sizeof(r));
	if (!hex_decode(hex, b, sizeof(b), &n) || n < 1)
		return false;
	pos = 1 + b[0];
	if (pos + 2 > n)
		return false;
	r.tpdu_len = (int)(n - pos);
	fo = b[pos++];
	if ((fo & 0x03) != 0x01)
		return false;
	vpf = (fo >> 3) & 0x03;
	r.srr = (fo & 0x20) != 0;
	r.mr = b[pos++];
	if (!addr_decode(b, n, &pos, r.to, sizeof(r.to)))
		return false;
	if (pos + 2 > n)
		return false;
	pos++;			/* PID */
	r.dcs = b[pos++];
	pos += vpf == 0 ? 0 : vpf == 2 ? 1 : 7;
	if (pos + 1 > n)
		return false;
	udl = b[pos++];
	ud = b + pos;
	udlen = n - pos;
	if ((r.dcs & 0xc0) == 0x00)
		alpha = (r.dcs >> 2) & 0x03;
	else if ((r.dcs & 0xf0) == 0xf0)
		alpha = (r.dcs & 0x04) ? 1 : 0;
	else if ((r.dcs & 0xf0) == 0xe0)
		alpha = 2;
	else
		alpha = 0;
	if (alpha == 3)
		alpha = 1;
	hl = 0;
	if (fo & 0x40) {
		if (udlen < 1 || (size_t)ud[0] + 1 > udlen)
			return false;
		hl = (size_t)ud[0] + 1;
		for (i = 1; i + 1 < hl; i += 2 + ud[i + 1]) {
			if (i + 2 + ud[i + 1] > hl)
				return false;
			if (ud[i] == 0x00 && ud[i + 1] == 3) {
				r.has_udh = true;
				r.ref = ud[i + 2];
				r.total = ud[i + 3];
				r.seq = ud[i + 4];
			} else if (ud[i] == 0x08 && ud[i + 1] == 4) {
				r.has_udh = true;
				r.ref = ud[i + 2] << 8 | ud[i + 3];
				r.total = ud[i + 4];
				r.seq = ud[i + 5];
			}
		}
	}
	if (alpha == 0) {
		if (udl > SEPT_MAX || (udl * 7 + 7) / 8 > udlen)
			return false;
		first = (hl * 8 + 6) / 7;
		if (first > udl)
			return false;
		if (!gsm7_to_utf8(ud, udlen, first, udl, r.text,
		    sizeof(r.text)))
			return false;
	} else {
		size_t	len = 0;

		if (udl > UD_MAX || udl > udlen || hl > udl)
			return false;
		if (alpha == 2) {
			if (!ucs2_to_utf8(ud + hl, udl - hl, r.text,
			    sizeof(r.text)))
				return false;
		} else {
			r.text[0] = '\0';
			for (i = hl; i < udl; i++)
				if (!utf8_put(r.text, sizeof(r.text), &len,
				    ud[i]))
					return false;
		}
	}
	*out = r;
	return true;
}

/*
 * Encode one DELIVER with code points cps[0..n) in the given alphabet.
 * udh: total > 0 adds a concatenation IE.
 */
static bool
deliver_encode(const char *from, const uint32_t *cps, size_t n, bool ucs2,
    int ref, int total, int seq, time_t ts, struct emu_part *part)
{
	uint8_t	b[EMU_PDU_HEX_MAX / 2], s[2];
	size_t	pos, a, i, hl = 0, k, udl_pos;
	int	m;

	memset(b, 0, sizeof(b));
	pos = smsc_encode(b);
	b[pos++] = (uint8_t)(0x04 | (total > 0 ? 0x40 : 0));
	if ((a = addr_encode(from, b + pos)) == 0)
		return false;
	pos += a;
	b[pos++] = 0x00;			/* PID */
	b[pos++] = ucs2 ? 0x08 : 0x00;		/* DCS */
	scts_encode(ts, b + pos);
	pos += 7;
	udl_pos = pos++;
	if (total > 0) {
		b[pos + 0] = 5;
		b[pos + 1] = 0x00;
		b[pos + 2] = 3;
		b[pos + 3] = (uint8_t)ref;
		b[pos + 4] = (uint8_t)total;
		b[pos + 5] = (uint8_t)seq;
		hl = 6;
	}
	if (ucs2) {
		k = hl;
		for (i = 0; i < n; i++) {
			uint32_t c = cps[i];

			if (c >= 0x10000) {
				uint32_t v = c - 0x10000;
				uint32_t hi = 0xd800 + (v >> 10);

				if (k + 4 > UD_MAX)
					return false;
				b[pos + k++] = (uint8_t)(hi >> 8);
				b[pos + k++] = (uint8_t)hi;
				c = 0xdc00 + (v & 0x3ff);
			}
			if (k + 2 > UD_MAX)
				return false;
			b[pos + k++] = (uint8_t)(c >> 8);
			b[pos + k++] = (uint8_t)c;
		}
		b[udl_pos] = (uint8_t)k;
		pos += k;
	} else {
		size_t first = (hl * 8 + 6) / 7;

		k = first;
		for (i = 0; i < n; i++) {
			if ((m = gsm_lookup(cps[i], s)) == 0 ||
			    k + (size_t)m > SEPT_MAX)
				return false;
			sept_put(b + pos, k++, s[0]);
			if (m == 2)
				sept_put(b + pos, k++, s[1]);
		}
		b[udl_pos] = (uint8_t)k;
		pos += (k * 7 + 7) / 8;
	}
	hex_encode(b, pos, part->hex);
	return true;
}

/* Units a code point takes: septets (GSM) or UTF-16 units (UCS-2). */
static int
cp_units(uint32_t cp, bool ucs2)
{
	uint8_t	s[2];

	if (ucs2)
		return cp >= 0x10000 ? 2 : 1;
	return gsm_lookup(cp, s);
}

static bool
needs_ucs2(const uint32_t *cps, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (cp_units(cps[i], false) == 0)
			return true;
	return false;
}

int
emu_pdu_build_deliver(const char *from, const char *utf8, int ref,
    time_t ts, struct emu_part *parts, int maxparts)
{
	static uint32_t cps[16 * 1024];
	size_t	n, i, start, units, total_units = 0, per;
	bool	ucs2;
	int	np = 0, total, u;

	if (!utf8_decode(utf8, cps, sizeof(cps) / sizeof(cps[0]), &n))
		return -1;
	ucs2 = needs_ucs2(cps, n);
	for (i = 0; i < n; i++)
		total_units += (size_t)cp_units(cps[i], ucs2);
	if (total_units <= (ucs2 ? UCS2_MAX : SEPT_MAX)) {
		if (maxparts < 1 || !deliver_encode(from, cps, n, ucs2, 0, 0,
		    0, ts, &parts[0]))
			return -1;
		return 1;
	}
	per = ucs2 ? 67 : 153;
	/* First pass: count parts. */
	for (i = 0, units = 0, total = 1; i < n; i++) {
		u = cp_units(cps[i], ucs2);
		if (units + (size_t)u > per) {
			total++;
			units = 0;
		}
		units += (size_t)u;
	}
	if (total > maxparts || total > 255)
		return -1;
	for (i = 0, start = 0, units = 0; i <= n; i++) {
		u = i < n ? cp_units(cps[i], ucs2) : 0;
		if (i == n || units + (size_t)u > per) {
			if (!deliver_encode(from, cps + start, i - start,
			    ucs2, ref & 0xff, total, np + 1, ts, &parts[np]))
				return -1;
			np++;
			start = i;
			units = 0;
		}
		units += (size_t)u;
	}
	return np;
}

bool
emu_pdu_build_deliver_part(const char *from, const char *utf8, int ref,
    int total, int seq, time_t ts, struct emu_part *part)
{
	uint32_t cps[SEPT_MAX + 1];
	size_t	 n;

	if (total < 1 || total > 255 || seq < 0 || seq > 255)
		return false;
	if (!utf8_decode(utf8, cps, sizeof(cps) / sizeof(cps[0]), &n))
		return false;
	return deliver_encode(from, cps, n, needs_ucs2(cps, n), ref & 0xff,
	    total, seq, ts, part);
}

bool
emu_pdu_build_status_report(int mr, const char *to, int st, time_t ts,
    struct emu_part *part)
{
	uint8_t	b[64];
	size_t	pos, a;

	memset(b, 0, sizeof(b));
	pos = smsc_encode(b);
	b[pos++] = 0x06;		/* STATUS-REPORT, MMS */
	b[pos++] = (uint8_t)mr;
	if ((a = addr_encode(to, b + pos)) == 0)
		return false;
	pos += a;
	scts_encode(ts, b + pos);	/* SCTS */
	pos += 7;
	scts_encode(ts, b + pos);	/* discharge time */
	pos += 7;
	b[pos++] = (uint8_t)st;
	hex_encode(b, pos, part->hex);
	return true;
}
