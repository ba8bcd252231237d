/*
 * sms_codec: SMS PDU encoding and decoding on top of libGammu.
 *
 * What libGammu does here: destination/originator address packing and
 * unpacking (GSM_EncodeSMSFrame / GSM_DecodePDUFrame), GSM 7-bit packing
 * with UDH fill bits and the default alphabet with its extension table,
 * the concatenation UDH (GSM_EncodeUDHHeader), TP-DCS interpretation
 * (GSM_GetMessageCoding) and UTF-8 <-> UTF-16 conversion.
 *
 * What this file does itself, and why:
 *  - A structural walk of every PDU before libGammu sees it.
 *    GSM_DecodePDUFrame trusts several length octets (address length,
 *    UDH length, the optional part of a status report) and can read past
 *    the end of its buffer; the walk rejects any PDU whose fields do not
 *    fit, and libGammu is given a zero-padded copy.
 *  - Timestamps: libGammu maps the years 90-99 to 2080-2089.
 *  - UCS-2 user data: libGammu rewrites '~' (Nokia "blink" U+0001
 *    handling) in both directions, so UCS-2 payloads go through its 8-bit
 *    path on encode and are read from the TPDU directly on decode.
 *  - The concatenation IE is found by walking the UDH, because libGammu
 *    only recognises a UDH that holds nothing else.
 *  - Splitting into parts: GSM_EncodeMultiPartSMS takes its reference
 *    from the clock and may split a surrogate pair.
 *  - Counting septets (which characters fit the GSM 7-bit alphabet) from
 *    the 3GPP TS 23.038 table: libGammu's table lookup is not exported.
 * libGammu's phone state machine is never used; its debug output goes to
 * the global debug info, which has no output configured.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <gammu-message.h>
#include <gammu-unicode.h>

#include "smsgw/sms_codec.h"
#include "smsgw/util.h"

#define PDU_MAX_OCTETS	200	/* SMSC 12 + longest TPDU 164, rounded */
#define GAMMU_BUF	512	/* zero-padded copy handed to libGammu */

/* ---------------------------------------------------------------- */
/* GSM 7-bit alphabet (3GPP TS 23.038 6.2.1), for counting only. */

static const uint16_t gsm7_basic[128] = {
	0x0040, 0x00a3, 0x0024, 0x00a5, 0x00e8, 0x00e9, 0x00f9, 0x00ec,
	0x00f2, 0x00c7, 0x000a, 0x00d8, 0x00f8, 0x000d, 0x00c5, 0x00e5,
	0x0394, 0x005f, 0x03a6, 0x0393, 0x039b, 0x03a9, 0x03a0, 0x03a8,
	0x03a3, 0x0398, 0x039e, 0xffff, 0x00c6, 0x00e6, 0x00df, 0x00c9,
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

/* Characters reached through the escape 0x1b (two septets each). */
static const uint16_t gsm7_ext[] = {
	0x000c, 0x005e, 0x007b, 0x007d, 0x005c, 0x005b, 0x007e, 0x005d,
	0x007c, 0x20ac,
};

/* Septets needed for one UTF-16 unit: 1, 2, or 0 when not in GSM7. */
static unsigned
gsm7_cost(uint16_t c)
{
	size_t i;

	for (i = 0; i < sizeof(gsm7_ext) / sizeof(gsm7_ext[0]); i++)
		if (gsm7_ext[i] == c)
			return 2;
	for (i = 0; i < 128; i++)
		if (gsm7_basic[i] == c)
			return 1;
	return 0;
}

/* ---------------------------------------------------------------- */
/* UTF-8 validation (strict: no overlongs, surrogates or > U+10FFFF). */

static bool
utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0, n, k;
	uint32_t cp, min;

	while (i < len) {
		unsigned char c = s[i];

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1;
			cp = c & 0x1f;
			min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			cp = c & 0x0f;
			min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			cp = c & 0x07;
			min = 0x10000;
		} else
			return false;
		if (len - i <= n)
			return false;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

/* ---------------------------------------------------------------- */
/* Splitting plan shared by encode and count. */

struct plan {
	enum sms_codec_encoding	 enc;
	unsigned char		*u;	/* UTF-16BE units, 00 00 terminated */
	size_t			 n;	/* UTF-16 units */
	size_t			 total;	/* septets (GSM7) or units (UCS-2) */
	size_t			 nparts;
	size_t			*start;	/* nparts + 1 unit offsets */
};

static uint16_t
unit_at(const unsigned char *u, size_t i)
{
	return (uint16_t)((u[2 * i] << 8) | u[2 * i + 1]);
}

static void
plan_free(struct plan *p)
{
	free(p->u);
	free(p->start);
	memset(p, 0, sizeof(*p));
}

static int
plan_text(const char *utf8, bool ref16, struct plan *p)
{
	size_t len, i, used, cap, single, cost, step;

	memset(p, 0, sizeof(*p));
	if (utf8 == NULL) {
		errno = EINVAL;
		return -1;
	}
	len = strlen(utf8);
	if (!utf8_valid((const unsigned char *)utf8, len)) {
		errno = EINVAL;
		return -1;
	}
	/* One UTF-8 byte never yields more than one UTF-16 unit. */
	p->u = xcalloc(len + 1, 2);
	DecodeUTF8(p->u, utf8, len);
	p->n = UnicodeLength(p->u);

	p->enc = SMS_CODEC_ENC_GSM7;
	for (i = 0; i < p->n; i++) {
		cost = gsm7_cost(unit_at(p->u, i));
		if (cost == 0) {
			p->enc = SMS_CODEC_ENC_UCS2;
			break;
		}
		p->total += cost;
	}
	if (p->enc == SMS_CODEC_ENC_UCS2) {
		p->total = p->n;
		single = 70;
		cap = ref16 ? 66 : 67;
	} else {
		single = 160;
		cap = ref16 ? 152 : 153;
	}

	p->start = xcalloc(SMS_CODEC_MAX_PARTS + 1, sizeof(size_t));
	if (p->total <= single) {
		p->nparts = 1;
		p->start[1] = p->n;
		return 0;
	}
	i = 0;
	while (i < p->n) {
		if (p->nparts == SMS_CODEC_MAX_PARTS) {
			plan_free(p);
			errno = E2BIG;
			return -1;
		}
		p->start[p->nparts] = i;
		used = 0;
		while (i < p->n) {
			uint16_t c = unit_at(p->u, i);

			step = 1;
			if (p->enc == SMS_CODEC_ENC_GSM7)
				cost = gsm7_cost(c);
			else if (c >= 0xd800 && c <= 0xdbff && i + 1 < p->n) {
				cost = 2;	/* keep the pair together */
				step = 2;
			} else
				cost = 1;
			if (used + cost > cap)
				break;
			used += cost;
			i += step;
		}
		p->nparts++;
	}
	p->start[p->nparts] = p->n;
	return 0;
}

/* ---------------------------------------------------------------- */
/* Encoding. */

/* Relative TP-VP (TS 23.040 9.2.3.12.1) for at least min minutes. */
static unsigned
vp_relative(unsigned min)
{
	if (min <= 720)
		return (min + 4) / 5 - 1;
	if (min <= 1440)
		return 143 + (min - 720 + 29) / 30;
	if (min <= 30 * 1440)
		return 166 + (min + 1439) / 1440;
	if (min <= 63 * 10080)
		return 192 + (min + 10079) / 10080;
	return 255;
}

static void
hex_put(char *dst, const unsigned char *src, size_t n)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		dst[2 * i] = digits[src[i] >> 4];
		dst[2 * i + 1] = digits[src[i] & 0x0f];
	}
	dst[2 * n] = '\0';
}

static int
encode_part(const unsigned char *number, size_t ndigits,
    const struct plan *p, size_t k, const struct sms_codec_opts *o,
    struct sms_codec_pdu *out)
{
	GSM_Debug_Info *di = GSM_GetGlobalDebug();
	GSM_SMSMessageLayout lay;
	GSM_SMSMessage *sms;
	unsigned char buf[GAMMU_BUF];
	size_t a = p->start[k], b = p->start[k + 1], i, septets;
	unsigned expect_udl, hdr;
	int len = 0, rc = -1;
	GSM_Error err;

	/* A contiguous TPDU layout: fo MR DA PID DCS [VP] UDL UD. */
	memset(&lay, 0xff, sizeof(lay));
	lay.firstbyte = 0;
	lay.TPMR = 1;
	lay.Number = 2;
	lay.TPPID = (unsigned char)(2 + 2 + (ndigits + 1) / 2);
	lay.TPDCS = lay.TPPID + 1;
	if (o->validity_min > 0) {
		lay.TPVP = lay.TPDCS + 1;
		lay.TPUDL = lay.TPVP + 1;
	} else
		lay.TPUDL = lay.TPDCS + 1;
	lay.Text = lay.TPUDL + 1;

	sms = xcalloc(1, sizeof(*sms));
	GSM_SetDefaultReceivedSMSData(sms);
	/* libGammu's way of saying SMS-SUBMIT with TP-SRR set. */
	sms->PDU = SMS_Status_Report;
	sms->Class = -1;
	sms->MessageReference = 0;
	sms->SMSC.Validity.Format = SMS_Validity_RelativeFormat;
	sms->SMSC.Validity.Relative =
	    (GSM_ValidityPeriod)vp_relative(o->validity_min);
	memcpy(sms->Number, number, 2 * (ndigits + 2));

	hdr = 0;
	if (p->nparts > 1) {
		sms->UDH.Type = o->ref16 ? UDH_ConcatenatedMessages16bit :
		    UDH_ConcatenatedMessages;
		sms->UDH.ID8bit = (int)(o->ref & 0xff);
		sms->UDH.ID16bit = (int)(o->ref & 0xffff);
		sms->UDH.PartNumber = (int)(k + 1);
		sms->UDH.AllParts = (int)p->nparts;
		GSM_EncodeUDHHeader(di, &sms->UDH);
		hdr = (unsigned)sms->UDH.Length;
	} else
		sms->UDH.Type = UDH_NoUDH;

	memcpy(sms->Text, p->u + 2 * a, 2 * (b - a));
	sms->Text[2 * (b - a)] = 0;
	sms->Text[2 * (b - a) + 1] = 0;
	if (p->enc == SMS_CODEC_ENC_GSM7) {
		sms->Coding = SMS_Coding_Default_No_Compression;
		septets = 0;
		for (i = a; i < b; i++)
			septets += gsm7_cost(unit_at(p->u, i));
		expect_udl = (hdr * 8 + 6) / 7 + (unsigned)septets;
	} else {
		/* Raw UTF-16BE through the 8-bit path; DCS fixed below. */
		sms->Coding = SMS_Coding_8bit;
		sms->Length = (int)(2 * (b - a));
		expect_udl = hdr + 2 * (unsigned)(b - a);
	}

	memset(buf, 0, sizeof(buf));
	err = GSM_EncodeSMSFrame(di, sms, buf, lay, &len, TRUE);
	if (err != ERR_NONE || len < lay.Text || len > 164 ||
	    buf[lay.TPUDL] != expect_udl) {
		errno = EPROTO;
		goto out;
	}
	if (p->enc == SMS_CODEC_ENC_UCS2)
		buf[lay.TPDCS] = (unsigned char)((buf[lay.TPDCS] & ~0x0c) |
		    0x08);
	if (o->validity_min == 0)
		buf[0] &= (unsigned char)~0x18;
	buf[0] |= 0x20;		/* TP-SRR, whatever libGammu decided */

	out->hex[0] = '0';
	out->hex[1] = '0';
	hex_put(out->hex + 2, buf, (size_t)len);
	out->tpdu_len = (unsigned)len;
	out->seq = (unsigned)(k + 1);
	rc = 0;
out:
	free(sms);
	return rc;
}

int
sms_codec_encode_submit(const char *dest, const char *utf8,
    const struct sms_codec_opts *opts, struct sms_codec_pdus *out)
{
	static const struct sms_codec_opts defaults;
	const struct sms_codec_opts *o = opts != NULL ? opts : &defaults;
	char e164[SMS_CODEC_E164_MAX];
	unsigned char number[2 * (SMS_CODEC_E164_MAX + 1)];
	struct sms_codec_pdu *parts;
	struct plan p;
	size_t k, ndigits;

	if (dest == NULL || out == NULL ||
	    o->ref > (o->ref16 ? 0xffffu : 0xffu) ||
	    o->validity_min > 63u * 10080u) {
		errno = EINVAL;
		return -1;
	}
	if (sms_codec_normalize_phone(dest, e164, sizeof(e164)) == -1) {
		errno = EINVAL;
		return -1;
	}
	ndigits = strlen(e164) - 1;
	EncodeUnicode(number, e164, strlen(e164));

	if (plan_text(utf8, o->ref16, &p) == -1)
		return -1;
	parts = xcalloc(p.nparts, sizeof(*parts));
	for (k = 0; k < p.nparts; k++) {
		if (encode_part(number, ndigits, &p, k, o, &parts[k]) == -1) {
			free(parts);
			plan_free(&p);
			return -1;
		}
	}
	out->encoding = p.enc;
	out->count = p.nparts;
	out->parts = parts;
	plan_free(&p);
	return 0;
}

void
sms_codec_pdus_free(struct sms_codec_pdus *pdus)
{
	if (pdus == NULL)
		return;
	free(pdus->parts);
	memset(pdus, 0, sizeof(*pdus));
}

int
sms_codec_count_parts(const char *utf8, enum sms_codec_encoding *enc,
    unsigned *parts, size_t *units)
{
	struct plan p;

	if (plan_text(utf8, false, &p) == -1)
		return -1;
	if (enc != NULL)
		*enc = p.enc;
	if (parts != NULL)
		*parts = (unsigned)p.nparts;
	if (units != NULL)
		*units = p.total;
	plan_free(&p);
	return 0;
}

const char *
sms_codec_encoding_name(enum sms_codec_encoding enc)
{
	switch (enc) {
	case SMS_CODEC_ENC_GSM7:
		return "gsm7";
	case SMS_CODEC_ENC_UCS2:
		return "ucs2";
	case SMS_CODEC_ENC_8BIT:
		return "8bit";
	}
	return "?";
}

/* ---------------------------------------------------------------- */
/* Phone numbers. */

int
sms_codec_normalize_phone(const char *in, char *out, size_t outlen)
{
	char d[40], res[SMS_CODEC_E164_MAX];
	const char *s, *body;
	size_t n = 0, nd;
	bool plus = false;

	if (in == NULL || out == NULL) {
		errno = EINVAL;
		return -1;
	}
	for (s = in; *s != '\0'; s++) {
		if (strchr(" \t-.()", *s) != NULL)
			continue;
		if (*s == '+') {
			if (plus || n > 0)
				goto inval;
			plus = true;
			continue;
		}
		if (*s < '0' || *s > '9' || n + 1 >= sizeof(d))
			goto inval;
		d[n++] = *s;
	}
	d[n] = '\0';

	if (plus)
		body = d;
	else if (n >= 2 && d[0] == '0' && d[1] == '0')
		body = d + 2;
	else if (n >= 1 && d[0] == '0')
		body = NULL;		/* national */
	else
		goto inval;

	if (body != NULL) {
		if (body[0] == '0' || body[0] == '\0')
			goto inval;	/* country codes never start with 0 */
		nd = strlen(body);
		if (nd < 8 || nd > 15)
			goto inval;
		res[0] = '+';
		memcpy(res + 1, body, nd + 1);
	} else {
		nd = strlen(SMS_CODEC_COUNTRY_CODE) + n - 1;
		if (n < 2 || d[1] == '0' || nd < 8 || nd > 15)
			goto inval;
		res[0] = '+';
		memcpy(res + 1, SMS_CODEC_COUNTRY_CODE,
		    strlen(SMS_CODEC_COUNTRY_CODE));
		memcpy(res + 1 + strlen(SMS_CODEC_COUNTRY_CODE), d + 1, n);
	}
	if (strlen(res) + 1 > outlen) {
		errno = ERANGE;
		return -1;
	}
	memcpy(out, res, strlen(res) + 1);
	return 0;
inval:
	errno = EINVAL;
	return -1;
}

/* ---------------------------------------------------------------- */
/* Decoding. */

struct tpdu {
	size_t		 len;		/* octets given */
	size_t		 fo;
	int		 mti;
	size_t		 mr, addr, pid, dcs, scts, dt, st, vp;
	int		 vpf;
	size_t		 udl, ud, ud_octets;
	size_t		 end;		/* octets that libGammu may parse */
	GSM_Coding_Type	 coding;
};

static int
hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
hex_get(const char *hex, unsigned char *buf, size_t *len)
{
	size_t n = strlen(hex), i;
	int hi, lo;

	if (n == 0 || n % 2 != 0 || n / 2 > PDU_MAX_OCTETS)
		return -1;
	for (i = 0; i < n / 2; i++) {
		hi = hex_nibble(hex[2 * i]);
		lo = hex_nibble(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		buf[i] = (unsigned char)(hi << 4 | lo);
	}
	*len = n / 2;
	return 0;
}

/* Check that every field of the PDU lies inside buf[0..len). */
static int
tpdu_walk(const unsigned char *b, size_t len, bool has_smsc,
    struct tpdu *t)
{
	size_t p = 0, alen;

	memset(t, 0, sizeof(*t));
	t->len = len;
	if (has_smsc) {
		if (b[0] > 12)
			return -1;
		p = 1 + (size_t)b[0];
	}
	if (p >= len)
		return -1;
	t->fo = p++;
	t->mti = b[t->fo] & 0x03;
	if (t->mti == 3)
		return -1;
	if (t->mti != 0) {		/* SUBMIT, STATUS-REPORT: TP-MR */
		if (p >= len)
			return -1;
		t->mr = p++;
	}
	if (p + 2 > len)
		return -1;
	t->addr = p;
	alen = b[p];
	if (alen > 20)
		return -1;
	p += 2 + (alen + 1) / 2;
	if (p > len)
		return -1;

	if (t->mti == 2) {		/* STATUS-REPORT: SCTS DT ST */
		if (p + 15 > len)
			return -1;
		t->scts = p;
		t->dt = p + 7;
		t->st = p + 14;
		/* The optional PI/PID/DCS/UD part is not needed; libGammu
		 * does not bound-check it, so it never sees it. */
		t->end = p + 15;
		return 0;
	}

	if (p + 2 > len)
		return -1;
	t->pid = p;
	t->dcs = p + 1;
	p += 2;
	t->coding = GSM_GetMessageCoding(GSM_GetGlobalDebug(),
	    (char)b[t->dcs]);
	if (t->coding != SMS_Coding_Default_No_Compression &&
	    t->coding != SMS_Coding_Unicode_No_Compression &&
	    t->coding != SMS_Coding_8bit)
		return -1;		/* compressed: unsupported */

	if (t->mti == 0) {		/* DELIVER: SCTS */
		if (p + 7 > len)
			return -1;
		t->scts = p;
		p += 7;
	} else {			/* SUBMIT: VP */
		t->vpf = (b[t->fo] >> 3) & 0x03;
		t->vp = p;
		if (t->vpf == 1)
			return -1;	/* enhanced format: unsupported */
		p += t->vpf == 2 ? 1 : t->vpf == 3 ? 7 : 0;
	}
	if (p >= len)
		return -1;
	t->udl = p++;
	t->ud = p;
	if (t->coding == SMS_Coding_Default_No_Compression) {
		if (b[t->udl] > 160)
			return -1;
		t->ud_octets = ((size_t)b[t->udl] * 7 + 7) / 8;
	} else {
		if (b[t->udl] > 140)
			return -1;
		t->ud_octets = b[t->udl];
	}
	if (p + t->ud_octets > len)
		return -1;
	if (b[t->fo] & 0x40) {		/* UDHI */
		if (t->ud_octets < 1 || (size_t)b[p] + 1 > t->ud_octets)
			return -1;
	}
	t->end = p + t->ud_octets;
	return 0;
}

static int
bcd2(unsigned char o)
{
	int lo = o & 0x0f, hi = o >> 4;

	if (lo > 9 || hi > 9)
		return -1;
	return lo * 10 + hi;
}

/* TS 23.040 9.2.3.11: seven semi-octet pairs, zone in quarter hours. */
static void
ts_parse(const unsigned char *p, struct sms_codec_timestamp *ts)
{
	static const int mdays[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int y, mo, d, h, mi, s, q, dim;

	memset(ts, 0, sizeof(*ts));
	y = bcd2(p[0]);
	mo = bcd2(p[1]);
	d = bcd2(p[2]);
	h = bcd2(p[3]);
	mi = bcd2(p[4]);
	s = bcd2(p[5]);
	if ((p[6] >> 4) > 9)
		return;
	q = (p[6] & 0x07) * 10 + (p[6] >> 4);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || s < 0 || s > 59)
		return;
	y += y < 70 ? 2000 : 1900;
	dim = mdays[mo - 1];
	if (mo == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		dim = 29;
	if (d > dim)
		return;
	ts->tz_min = q * 15 * ((p[6] & 0x08) ? -1 : 1);
	ts->epoch = util_days_from_civil(y, mo, d) * 86400 + h * 3600 +
	    mi * 60 + s - (int64_t)ts->tz_min * 60;
	ts->valid = true;
}

/* Append code point cp as UTF-8; false when it does not fit. */
static bool
utf8_put(char *dst, size_t cap, size_t *n, uint32_t cp)
{
	unsigned char t[4];
	size_t k;

	if (cp < 0x80) {
		t[0] = (unsigned char)cp;
		k = 1;
	} else if (cp < 0x800) {
		t[0] = (unsigned char)(0xc0 | cp >> 6);
		t[1] = (unsigned char)(0x80 | (cp & 0x3f));
		k = 2;
	} else if (cp < 0x10000) {
		t[0] = (unsigned char)(0xe0 | cp >> 12);
		t[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		t[2] = (unsigned char)(0x80 | (cp & 0x3f));
		k = 3;
	} else {
		t[0] = (unsigned char)(0xf0 | cp >> 18);
		t[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		t[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		t[3] = (unsigned char)(0x80 | (cp & 0x3f));
		k = 4;
	}
	if (*n + k >= cap)
		return false;
	memcpy(dst + *n, t, k);
	*n += k;
	dst[*n] = '\0';
	return true;
}

/*
 * UTF-16BE user data to libGammu Unicode with lone surrogates and U+0000
 * replaced by U+FFFD, then to UTF-8 with libGammu's EncodeUTF8.
 */
static int
ucs2_to_utf8(const unsigned char *src, size_t units, char *dst, size_t cap)
{
	unsigned char u[2 * 72 + 2];
	char tmp[4 * 72 + 1];
	size_t i;
	uint16_t c, c2;

	if (units > 70)
		return -1;
	for (i = 0; i < units; i++) {
		c = (uint16_t)(src[2 * i] << 8 | src[2 * i + 1]);
		if (c >= 0xd800 && c <= 0xdbff && i + 1 < units) {
			c2 = (uint16_t)(src[2 * i + 2] << 8 | src[2 * i + 3]);
			if (c2 >= 0xdc00 && c2 <= 0xdfff) {
				memcpy(u + 2 * i, src + 2 * i, 4);
				i++;
				continue;
			}
		}
		if (c == 0 || (c >= 0xd800 && c <= 0xdfff))
			c = 0xfffd;
		u[2 * i] = (unsigned char)(c >> 8);
		u[2 * i + 1] = (unsigned char)c;
	}
	u[2 * units] = 0;
	u[2 * units + 1] = 0;
	EncodeUTF8(tmp, u);
	if (strlen(tmp) >= cap)
		return -1;
	memcpy(dst, tmp, strlen(tmp) + 1);
	return 0;
}

static void
udh_concat(const unsigned char *udh, size_t len, struct sms_codec_msg *m)
{
	size_t i = 1, l;
	unsigned ref = 0, total = 0, seq = 0;
	bool r16 = false;

	while (i + 2 <= len) {
		l = udh[i + 1];
		if (i + 2 + l > len)
			break;
		if (udh[i] == 0x00 && l == 3) {
			ref = udh[i + 2];
			total = udh[i + 3];
			seq = udh[i + 4];
			r16 = false;
		} else if (udh[i] == 0x08 && l == 4) {
			ref = (unsigned)udh[i + 2] << 8 | udh[i + 3];
			total = udh[i + 4];
			seq = udh[i + 5];
			r16 = true;
		}
		i += 2 + l;
	}
	/* TS 23.040 9.2.3.24.1: ignore the IE when seq is 0 or > total. */
	if (total >= 1 && seq >= 1 && seq <= total) {
		m->concat = true;
		m->concat_ref16 = r16;
		m->concat_ref = ref;
		m->concat_total = total;
		m->concat_seq = seq;
	}
}

/* libGammu Unicode number to printable UTF-8 (controls become '?'). */
static void
number_put(const unsigned char *u, char *dst, size_t cap)
{
	char tmp[4 * (GSM_MAX_NUMBER_LENGTH + 1) + 1];
	size_t i;

	EncodeUTF8(tmp, u);
	for (i = 0; tmp[i] != '\0'; i++)
		if ((unsigned char)tmp[i] < 0x20 || tmp[i] == 0x7f)
			tmp[i] = '?';
	if (strlen(tmp) >= cap)
		tmp[cap - 1] = '\0';
	memcpy(dst, tmp, strlen(tmp) + 1);
}

int
sms_codec_decode(const char *hex, bool has_smsc, struct sms_codec_msg *out)
{
	unsigned char raw[PDU_MAX_OCTETS] = { 0 }, gb[GAMMU_BUF];
	GSM_SMSMessage *sms = NULL;
	struct sms_codec_msg *m = NULL;
	struct tpdu t;
	size_t len, body, n, i;
	unsigned toa;
	int rc = -1;

	if (hex == NULL || out == NULL || hex_get(hex, raw, &len) == -1 ||
	    tpdu_walk(raw, len, has_smsc, &t) == -1)
		goto inval;

	memset(gb, 0, sizeof(gb));
	memcpy(gb, raw, t.end);
	sms = xcalloc(1, sizeof(*sms));
	if (GSM_DecodePDUFrame(GSM_GetGlobalDebug(), sms, gb, t.end, NULL,
	    has_smsc ? TRUE : FALSE) != ERR_NONE)
		goto inval;

	m = xcalloc(1, sizeof(*m));
	m->type = t.mti == 0 ? SMS_CODEC_DELIVER : t.mti == 1 ?
	    SMS_CODEC_SUBMIT : SMS_CODEC_STATUS_REPORT;
	if (has_smsc)
		number_put(sms->SMSC.Number, m->smsc, sizeof(m->smsc));
	number_put(sms->Number, m->number, sizeof(m->number));
	toa = raw[t.addr] == 0 ? 0 : (raw[t.addr + 1] >> 4) & 0x07;
	switch (toa) {
	case 0:
		m->number_type = SMS_CODEC_NUM_UNKNOWN;
		break;
	case 1:
		m->number_type = SMS_CODEC_NUM_INTERNATIONAL;
		break;
	case 2:
		m->number_type = SMS_CODEC_NUM_NATIONAL;
		break;
	case 5:
		m->number_type = SMS_CODEC_NUM_ALPHANUMERIC;
		break;
	default:
		m->number_type = SMS_CODEC_NUM_OTHER;
		break;
	}
	if (m->number_type != SMS_CODEC_NUM_ALPHANUMERIC &&
	    (m->number[0] == '+' || m->number[0] == '0'))
		(void)sms_codec_normalize_phone(m->number, m->number_e164,
		    sizeof(m->number_e164));
	m->srr = (raw[t.fo] & 0x20) != 0;
	m->vp_relative = -1;

	if (m->type == SMS_CODEC_STATUS_REPORT) {
		m->mr = raw[t.mr];
		ts_parse(raw + t.scts, &m->scts);
		ts_parse(raw + t.dt, &m->discharge);
		m->status = raw[t.st];
		m->dlr = m->status < 0x20 ? SMS_CODEC_DLR_DELIVERED :
		    m->status < 0x40 ? SMS_CODEC_DLR_PENDING :
		    SMS_CODEC_DLR_FAILED;
		goto done;
	}

	if (m->type == SMS_CODEC_SUBMIT) {
		m->mr = raw[t.mr];
		if (t.vpf == 2)
			m->vp_relative = raw[t.vp];
	} else
		ts_parse(raw + t.scts, &m->scts);
	m->pid = raw[t.pid];
	m->dcs = raw[t.dcs];

	body = 0;
	if (raw[t.fo] & 0x40) {
		m->has_udh = true;
		body = (size_t)raw[t.ud] + 1;
		udh_concat(raw + t.ud, body, m);
	}
	switch (t.coding) {
	case SMS_Coding_Default_No_Compression:
		/* libGammu unpacked the septets and the extension table. */
		m->encoding = SMS_CODEC_ENC_GSM7;
		if (sms->Length < 0 || sms->Length > 160)
			goto inval;
		sms->Text[2 * sms->Length] = 0;
		sms->Text[2 * sms->Length + 1] = 0;
		{
			char tmp[4 * 161 + 1];

			EncodeUTF8(tmp, sms->Text);
			if (strlen(tmp) >= sizeof(m->text))
				goto inval;
			memcpy(m->text, tmp, strlen(tmp) + 1);
		}
		break;
	case SMS_Coding_Unicode_No_Compression:
		m->encoding = SMS_CODEC_ENC_UCS2;
		n = t.ud_octets - body;
		if (ucs2_to_utf8(raw + t.ud + body, n / 2, m->text,
		    sizeof(m->text)) == -1)
			goto inval;
		break;
	default:
		/* 8-bit data: shown as ISO-8859-1, NUL as U+FFFD. */
		m->encoding = SMS_CODEC_ENC_8BIT;
		n = 0;
		for (i = body; i < t.ud_octets; i++)
			if (!utf8_put(m->text, sizeof(m->text), &n,
			    raw[t.ud + i] == 0 ? 0xfffd : raw[t.ud + i]))
				goto inval;
		break;
	}
done:
	m->text_len = strlen(m->text);
	*out = *m;
	rc = 0;
	goto out;
inval:
	errno = EINVAL;
out:
	free(m);
	free(sms);
	return rc;
}
