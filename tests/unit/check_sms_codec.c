/*
 * Unit tests for sms_codec: decoding of known-good vectors from
 * tests/data/pdu_vectors.txt, encoding checked against hand-computed
 * PDUs and by decoding it back, part splitting, the phone normaliser and
 * rejection of garbage.
 *
 * The vector file is found through $PDU_VECTORS, else
 * $srcdir/tests/data/pdu_vectors.txt, $srcdir/../data/pdu_vectors.txt or
 * tests/data/pdu_vectors.txt.
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smsgw/sms_codec.h"

#define MAX_VECTORS	64
#define MAX_KEYS	24

struct kv {
	char	key[24];
	char	val[600];
};

struct vector {
	char		name[64];
	char		hex[520];
	int		smsc;
	int		reject;
	int		tail;		/* optional trailing octets */
	size_t		nkv;
	struct kv	kv[MAX_KEYS];
};

static struct vector vectors[MAX_VECTORS];
static int nvectors;

static const char *
vectors_path(void)
{
	static char buf[1024];
	const char *env = getenv("PDU_VECTORS"), *srcdir = getenv("srcdir");
	const char *tries[] = { "tests/data/pdu_vectors.txt",
	    "../data/pdu_vectors.txt" };
	size_t i;
	FILE *f;

	if (env != NULL)
		return env;
	for (i = 0; srcdir != NULL && i < 2; i++) {
		snprintf(buf, sizeof(buf), "%s/%s", srcdir, tries[i]);
		if ((f = fopen(buf, "r")) != NULL) {
			fclose(f);
			return buf;
		}
	}
	return tries[0];
}

static void
vectors_load(void)
{
	char line[1024], *sp, *nl;
	struct vector *v = NULL;
	FILE *f;

	if ((f = fopen(vectors_path(), "r")) == NULL) {
		fprintf(stderr, "cannot open %s\n", vectors_path());
		exit(1);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl = '\0';
		if (line[0] == '#')
			continue;
		if (line[0] == '\0') {
			v = NULL;
			continue;
		}
		sp = strchr(line, ' ');
		if (sp == NULL) {
			fprintf(stderr, "bad vector line: %s\n", line);
			exit(1);
		}
		*sp++ = '\0';
		if (strcmp(line, "name") == 0) {
			if (nvectors == MAX_VECTORS) {
				fprintf(stderr, "too many vectors\n");
				exit(1);
			}
			v = &vectors[nvectors++];
			snprintf(v->name, sizeof(v->name), "%s", sp);
			continue;
		}
		if (v == NULL) {
			fprintf(stderr, "line outside a record: %s\n", line);
			exit(1);
		}
		if (strcmp(line, "source") == 0)
			continue;
		if (strcmp(line, "hex") == 0)
			snprintf(v->hex, sizeof(v->hex), "%s", sp);
		else if (strcmp(line, "smsc") == 0)
			v->smsc = atoi(sp);
		else if (strcmp(line, "reject") == 0)
			v->reject = atoi(sp);
		else if (strcmp(line, "tail_octets") == 0)
			v->tail = atoi(sp);
		else if (v->nkv < MAX_KEYS && strlen(line) <
		    sizeof(v->kv[0].key)) {
			memcpy(v->kv[v->nkv].key, line, strlen(line) + 1);
			snprintf(v->kv[v->nkv].val, sizeof(v->kv[0].val), "%s",
			    sp);
			v->nkv++;
		}
	}
	fclose(f);
}

static const char *
type_name(enum sms_codec_type t)
{
	return t == SMS_CODEC_DELIVER ? "deliver" : t == SMS_CODEC_SUBMIT ?
	    "submit" : "status";
}

static const char *
numtype_name(enum sms_codec_numtype t)
{
	switch (t) {
	case SMS_CODEC_NUM_INTERNATIONAL:
		return "intl";
	case SMS_CODEC_NUM_NATIONAL:
		return "national";
	case SMS_CODEC_NUM_ALPHANUMERIC:
		return "alnum";
	case SMS_CODEC_NUM_UNKNOWN:
		return "unknown";
	default:
		return "other";
	}
}

static const char *
dlr_name(enum sms_codec_dlr d)
{
	return d == SMS_CODEC_DLR_DELIVERED ? "delivered" :
	    d == SMS_CODEC_DLR_PENDING ? "pending" : "failed";
}

/* Compare one expectation when key is k; true when key was k. */
static bool
check_str(const struct vector *v, const char *key, const char *val,
    const char *k, const char *got)
{
	if (strcmp(key, k) != 0)
		return false;
	ck_assert_msg(strcmp(got, val) == 0, "%s: %s is '%s', expected '%s'",
	    v->name, k, got, val);
	return true;
}

static bool
check_int(const struct vector *v, const char *key, const char *val,
    const char *k, long long got)
{
	if (strcmp(key, k) != 0)
		return false;
	ck_assert_msg(got == atoll(val), "%s: %s is %lld, expected %s",
	    v->name, k, got, val);
	return true;
}

#define CHECK_STR(k, got)						\
	if (check_str(v, key, val, k, got))				\
		continue
#define CHECK_INT(k, got)						\
	if (check_int(v, key, val, k, (long long)(got)))		\
		continue

START_TEST(test_vector)
{
	const struct vector *v = &vectors[_i];
	struct sms_codec_msg m;
	size_t i;
	int rc;

	memset(&m, 0x5a, sizeof(m));
	rc = sms_codec_decode(v->hex, v->smsc != 0, &m);
	if (v->reject) {
		unsigned char pattern[sizeof(m)];

		memset(pattern, 0x5a, sizeof(pattern));
		ck_assert_msg(rc == -1, "%s: accepted", v->name);
		ck_assert_int_eq(errno, EINVAL);
		ck_assert_msg(memcmp(&m, pattern, sizeof(m)) == 0,
		    "%s: out changed on error", v->name);
		return;
	}
	ck_assert_msg(rc == 0, "%s: rejected", v->name);
	ck_assert_msg(v->nkv > 0, "%s: no expectations", v->name);
	ck_assert_uint_eq(m.text_len, strlen(m.text));
	for (i = 0; i < v->nkv; i++) {
		const char *key = v->kv[i].key, *val = v->kv[i].val;

		if (strcmp(key, "e164") == 0 && strcmp(val, "-") == 0) {
			ck_assert_msg(m.number_e164[0] == '\0',
			    "%s: e164 '%s'", v->name, m.number_e164);
			continue;
		}
		if (strcmp(key, "text_prefix") == 0) {
			ck_assert_msg(strncmp(m.text, val, strlen(val)) == 0,
			    "%s: text '%s'", v->name, m.text);
			continue;
		}
		CHECK_STR("type", type_name(m.type));
		CHECK_STR("smsc_num", m.smsc);
		CHECK_STR("number", m.number);
		CHECK_STR("e164", m.number_e164);
		CHECK_STR("numtype", numtype_name(m.number_type));
		CHECK_STR("encoding", sms_codec_encoding_name(m.encoding));
		CHECK_STR("text", m.text);
		CHECK_STR("dlr", dlr_name(m.dlr));
		CHECK_INT("text_len", m.text_len);
		CHECK_INT("concat", m.concat);
		CHECK_INT("ref", m.concat_ref);
		CHECK_INT("total", m.concat_total);
		CHECK_INT("seq", m.concat_seq);
		CHECK_INT("ref16", m.concat_ref16);
		CHECK_INT("srr", m.srr);
		CHECK_INT("mr", m.mr);
		CHECK_INT("vp", m.vp_relative);
		CHECK_INT("status", m.status);
		if (strcmp(key, "scts") == 0 || strcmp(key, "tz") == 0)
			ck_assert_msg(m.scts.valid, "%s: no scts", v->name);
		if (strcmp(key, "dt") == 0)
			ck_assert_msg(m.discharge.valid, "%s: no dt", v->name);
		CHECK_INT("scts", m.scts.epoch);
		CHECK_INT("tz", m.scts.tz_min);
		CHECK_INT("dt", m.discharge.epoch);
		ck_abort_msg("%s: unknown key %s", v->name, key);
	}
}
END_TEST

/*
 * Every proper prefix of every good vector must be rejected, except
 * those that only drop its optional trailing octets.
 */
START_TEST(test_vector_truncations)
{
	const struct vector *v = &vectors[_i];
	struct sms_codec_msg m;
	char buf[600];
	size_t n;

	if (v->reject)
		return;
	for (n = 2; n < strlen(v->hex) - 2 * (size_t)v->tail; n += 2) {
		memcpy(buf, v->hex, n);
		buf[n] = '\0';
		ck_assert_msg(sms_codec_decode(buf, v->smsc != 0, &m) == -1,
		    "%s: prefix of %zu hex digits accepted", v->name, n);
	}
}
END_TEST

/* ------------------------------------------------------------------ */

static void
decode_ok(const char *hex, struct sms_codec_msg *m)
{
	ck_assert_msg(sms_codec_decode(hex, true, m) == 0, "decode %s", hex);
}

static void
check_lengths(const struct sms_codec_pdus *p)
{
	size_t i;

	for (i = 0; i < p->count; i++) {
		const struct sms_codec_pdu *d = &p->parts[i];

		ck_assert_uint_eq(strlen(d->hex) % 2, 0);
		ck_assert_uint_eq(d->tpdu_len, strlen(d->hex) / 2 - 1);
		ck_assert_msg(strncmp(d->hex, "00", 2) == 0, "no 00 SMSC");
		ck_assert_uint_eq(d->seq, i + 1);
	}
}

/* Decode every part; check SRR, concatenation; return joined text. */
static char *
join_parts(const struct sms_codec_pdus *p, const char *number,
    unsigned ref, bool ref16)
{
	struct sms_codec_msg m;
	char *all = calloc(1, 8192);
	size_t i;

	ck_assert_ptr_nonnull(all);
	check_lengths(p);
	for (i = 0; i < p->count; i++) {
		decode_ok(p->parts[i].hex, &m);
		ck_assert_int_eq(m.type, SMS_CODEC_SUBMIT);
		ck_assert_msg(m.srr, "part %zu without TP-SRR", i + 1);
		ck_assert_str_eq(m.number, number);
		ck_assert_int_eq(m.encoding, p->encoding);
		if (p->count > 1) {
			ck_assert(m.has_udh);
			ck_assert(m.concat);
			ck_assert_uint_eq(m.concat_ref, ref);
			ck_assert_int_eq(m.concat_ref16, ref16);
			ck_assert_uint_eq(m.concat_total, p->count);
			ck_assert_uint_eq(m.concat_seq, i + 1);
		} else
			ck_assert(!m.has_udh);
		strcat(all, m.text);
	}
	return all;
}

START_TEST(test_encode_known_submit)
{
	/* The tutorial SMS-SUBMIT "0011000B916407281553F80000AA0A..." with
	 * TP-SRR added to the first octet (0x11 | 0x20 = 0x31). */
	struct sms_codec_opts o = { .validity_min = 4 * 1440 };
	struct sms_codec_pdus p;

	ck_assert_int_eq(sms_codec_encode_submit("+46708251358",
	    "hellohello", &o, &p), 0);
	ck_assert_uint_eq(p.count, 1);
	ck_assert_int_eq(p.encoding, SMS_CODEC_ENC_GSM7);
	ck_assert_str_eq(p.parts[0].hex,
	    "0031000B916407281553F80000AA0AE8329BFD4697D9EC37");
	ck_assert_uint_eq(p.parts[0].tpdu_len, 23);
	sms_codec_pdus_free(&p);
	ck_assert_ptr_null(p.parts);
	ck_assert_uint_eq(p.count, 0);
	sms_codec_pdus_free(&p);
	sms_codec_pdus_free(NULL);
}
END_TEST

START_TEST(test_encode_short_gsm7_national)
{
	/* Hand-computed: fo 21 (SUBMIT, SRR, no VP), MR 00,
	 * DA 0C 91 534810325476, PID 00, DCS 00, UDL 02, "Hi" = C8 34. */
	struct sms_codec_pdus p;

	ck_assert_int_eq(sms_codec_encode_submit("040-123 4567", "Hi", NULL,
	    &p), 0);
	ck_assert_str_eq(p.parts[0].hex,
	    "0021000C915348103254760000" "02C834");
	ck_assert_uint_eq(p.parts[0].tpdu_len, 15);
	sms_codec_pdus_free(&p);
}
END_TEST

START_TEST(test_encode_ucs2_known)
{
	/* Hand-computed UCS-2 SUBMIT: DCS 08, UDL 06, 00E4 D83D DE00. */
	struct sms_codec_pdus p;

	ck_assert_int_eq(sms_codec_encode_submit("+358401234567",
	    "ä😀", NULL, &p), 0);
	ck_assert_int_eq(p.encoding, SMS_CODEC_ENC_UCS2);
	ck_assert_str_eq(p.parts[0].hex,
	    "0021000C915348103254760008" "0600E4D83DDE00");
	sms_codec_pdus_free(&p);
}
END_TEST

START_TEST(test_encode_long_gsm7)
{
	struct sms_codec_opts o = { .ref = 0xa7 };
	struct sms_codec_pdus p;
	char text[401], *joined;
	struct sms_codec_msg m;
	size_t i;

	for (i = 0; i < 400; i++)
		text[i] = (char)('a' + i % 26);
	text[400] = '\0';
	ck_assert_int_eq(sms_codec_encode_submit("+358401234567", text, &o,
	    &p), 0);
	ck_assert_uint_eq(p.count, 3);
	ck_assert_int_eq(p.encoding, SMS_CODEC_ENC_GSM7);
	/* fo 61 = SUBMIT|SRR|UDHI; UDL A0 = 7 + 153 septets; UDH 8-bit. */
	ck_assert_msg(strncmp(p.parts[0].hex,
	    "0061000C915348103254760000A0050003A70301", 40) == 0, "%s",
	    p.parts[0].hex);
	ck_assert_msg(strncmp(p.parts[1].hex,
	    "0061000C915348103254760000A0050003A70302", 40) == 0, "%s",
	    p.parts[1].hex);
	/* 400 - 2 * 153 = 94 septets + 7 = 101 = 0x65. */
	ck_assert_msg(strncmp(p.parts[2].hex,
	    "0061000C91534810325476000065050003A70303", 40) == 0, "%s",
	    p.parts[2].hex);
	ck_assert_uint_eq(p.parts[0].tpdu_len, 13 + 140);
	joined = join_parts(&p, "+358401234567", 0xa7, false);
	ck_assert_str_eq(joined, text);
	free(joined);
	decode_ok(p.parts[2].hex, &m);
	ck_assert_uint_eq(m.text_len, 94);
	sms_codec_pdus_free(&p);
}
END_TEST

START_TEST(test_encode_ref16)
{
	struct sms_codec_opts o = { .ref = 0xbeef, .ref16 = true };
	struct sms_codec_pdus p;
	char text[306], *joined;

	memset(text, 'x', 305);
	text[304] = '\0';
	ck_assert_int_eq(sms_codec_encode_submit("+358401234567", text, &o,
	    &p), 0);
	ck_assert_uint_eq(p.count, 2);		/* 2 * 152 */
	ck_assert_msg(strstr(p.parts[0].hex, "060804BEEF0201") != NULL, "%s",
	    p.parts[0].hex);
	joined = join_parts(&p, "+358401234567", 0xbeef, true);
	ck_assert_str_eq(joined, text);
	free(joined);
	sms_codec_pdus_free(&p);

	text[304] = 'x';
	text[305] = '\0';
	ck_assert_int_eq(sms_codec_encode_submit("+358401234567", text, &o,
	    &p), 0);
	ck_assert_uint_eq(p.count, 3);
	sms_codec_pdus_free(&p);

	/* The same text with an 8-bit reference fits two parts of 153. */
	o.ref16 = false;
	o.ref = 0xbeef;
	errno = 0;
	ck_assert_int_eq(sms_codec_encode_submit("+358401234567", text, &o,
	    &p), -1);
	ck_assert_int_eq(errno, EINVAL);	/* ref > 255 */
	o.ref = 0xef;
	ck_assert_int_eq(sms_codec_encode_submit("+358401234567", text, &o,
	    &p), 0);
	ck_assert_uint_eq(p.count, 2);
	joined = join_parts(&p, "+358401234567", 0xef, false);
	ck_assert_str_eq(joined, text);
	free(joined);
	sms_codec_pdus_free(&p);
	o.ref = 0x10000;
	o.ref16 = true;
	ck_assert_int_eq(sms_codec_encode_submit("+358401234567", text, &o,
	    &p), -1);
}
END_TEST

START_TEST(test_part_boundaries)
{
	static const struct {
		size_t	len;
		unsigned parts;
	} cases[] = {
		{ 0, 1 }, { 1, 1 }, { 160, 1 }, { 161, 2 }, { 306, 2 },
		{ 307, 3 }, { 459, 3 }, { 460, 4 },
	};
	enum sms_codec_encoding enc;
	struct sms_codec_pdus p;
	char text[500];
	unsigned parts;
	size_t i, units;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(text, 'z', cases[i].len);
		text[cases[i].len] = '\0';
		ck_assert_int_eq(sms_codec_count_parts(text, &enc, &parts,
		    &units), 0);
		ck_assert_int_eq(enc, SMS_CODEC_ENC_GSM7);
		ck_assert_msg(parts == cases[i].parts, "len %zu: %u parts",
		    cases[i].len, parts);
		ck_assert_uint_eq(units, cases[i].len);
		ck_assert_int_eq(sms_codec_encode_submit("0401234567", text,
		    NULL, &p), 0);
		ck_assert_uint_eq(p.count, parts);
		check_lengths(&p);
		sms_codec_pdus_free(&p);
	}
}
END_TEST

START_TEST(test_extension_chars)
{
	enum sms_codec_encoding enc;
	struct sms_codec_pdus p;
	struct sms_codec_msg m;
	char text[600], expect[600], *joined;
	unsigned parts;
	size_t units, i, n = 0;

	/* 80 euro signs are 160 septets: one part. */
	for (i = 0; i < 80; i++)
		n += (size_t)sprintf(text + n, "€");
	ck_assert_int_eq(sms_codec_count_parts(text, &enc, &parts, &units),
	    0);
	ck_assert_int_eq(enc, SMS_CODEC_ENC_GSM7);
	ck_assert_uint_eq(parts, 1);
	ck_assert_uint_eq(units, 160);
	/* One more septet makes two parts; 'a' + 76 euros fill 153. */
	memmove(text + 1, text, n + 1);
	text[0] = 'a';
	ck_assert_int_eq(sms_codec_count_parts(text, &enc, &parts, &units),
	    0);
	ck_assert_uint_eq(parts, 2);
	ck_assert_uint_eq(units, 161);
	ck_assert_int_eq(sms_codec_encode_submit("+358401234567", text, NULL,
	    &p), 0);
	ck_assert_uint_eq(p.count, 2);
	decode_ok(p.parts[0].hex, &m);
	expect[0] = 'a';
	for (i = 0, n = 1; i < 76; i++)
		n += (size_t)sprintf(expect + n, "€");
	ck_assert_str_eq(m.text, expect);
	/* An escape is never split from its character: 'a' + 77 euros would
	 * be 155 septets, so part 1 stops at 153 and part 2 holds 4. */
	decode_ok(p.parts[1].hex, &m);
	ck_assert_str_eq(m.text, "€€€€");
	joined = join_parts(&p, "+358401234567", 0, false);
	ck_assert_str_eq(joined, text);
	free(joined);
	sms_codec_pdus_free(&p);

	/* Each extension character counts two. */
	ck_assert_int_eq(sms_codec_count_parts("[]{}~^\\|€", &enc, NULL,
	    &units), 0);
	ck_assert_int_eq(enc, SMS_CODEC_ENC_GSM7);
	ck_assert_uint_eq(units, 18);
}
END_TEST

/* The whole GSM 7-bit repertoire survives encode + decode as GSM7. */
START_TEST(test_gsm7_repertoire)
{
	static const char *all =
	    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789"
	    ":;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyz"
	    "äöñüà\f^{}\\[~]|€";
	struct sms_codec_pdus p;
	enum sms_codec_encoding enc;
	char *joined;
	size_t units;

	ck_assert_int_eq(sms_codec_count_parts(all, &enc, NULL, &units), 0);
	ck_assert_int_eq(enc, SMS_CODEC_ENC_GSM7);
	ck_assert_uint_eq(units, 127 + 2 * 10);
	ck_assert_int_eq(sms_codec_encode_submit("+358401234567", all, NULL,
	    &p), 0);
	ck_assert_int_eq(p.encoding, SMS_CODEC_ENC_GSM7);
	joined = join_parts(&p, "+358401234567", 0, false);
	ck_assert_str_eq(joined, all);
	free(joined);
	sms_codec_pdus_free(&p);

	/* Characters outside it force UCS-2. */
	ck_assert_int_eq(sms_codec_count_parts("café `x`", &enc, NULL, NULL),
	    0);
	ck_assert_int_eq(enc, SMS_CODEC_ENC_UCS2);
	ck_assert_int_eq(sms_codec_count_parts("Hyvää päivää, åäö ÅÄÖ", &enc,
	    NULL, NULL), 0);
	ck_assert_int_eq(enc, SMS_CODEC_ENC_GSM7);
}
END_TEST

START_TEST(test_ucs2_roundtrip)
{
	static const char *t = "Kiitos käynnistä! Miten onnistuimme? 😀👍🏽 "
	    "åäö ÅÄÖ ~tilde~ € 日本";
	struct sms_codec_pdus p;
	char *joined;

	ck_assert_int_eq(sms_codec_encode_submit("0401234567", t, NULL, &p),
	    0);
	ck_assert_int_eq(p.encoding, SMS_CODEC_ENC_UCS2);
	ck_assert_uint_eq(p.count, 1);
	joined = join_parts(&p, "+358401234567", 0, false);
	ck_assert_str_eq(joined, t);
	free(joined);
	sms_codec_pdus_free(&p);
}
END_TEST

START_TEST(test_ucs2_surrogate_boundary)
{
	struct sms_codec_opts o = { .ref = 7 };
	struct sms_codec_pdus p;
	struct sms_codec_msg m;
	char text[200], expect[100], *joined;
	enum sms_codec_encoding enc;
	unsigned parts;
	size_t units;

	/* 66 units, then a pair that would straddle the 67-unit limit. */
	memset(text, 'x', 66);
	strcpy(text + 66, "😀yyyyyyyyyy");
	ck_assert_int_eq(sms_codec_count_parts(text, &enc, &parts, &units),
	    0);
	ck_assert_int_eq(enc, SMS_CODEC_ENC_UCS2);
	ck_assert_uint_eq(units, 78);
	ck_assert_uint_eq(parts, 2);
	ck_assert_int_eq(sms_codec_encode_submit("+358401234567", text, &o,
	    &p), 0);
	ck_assert_uint_eq(p.count, 2);
	decode_ok(p.parts[0].hex, &m);
	memset(expect, 'x', 66);
	expect[66] = '\0';
	ck_assert_str_eq(m.text, expect);
	decode_ok(p.parts[1].hex, &m);
	ck_assert_str_eq(m.text, "😀yyyyyyyyyy");
	joined = join_parts(&p, "+358401234567", 7, false);
	ck_assert_str_eq(joined, text);
	free(joined);
	/* UDL of part 1: 6 + 2 * 66 = 138 = 0x8A. */
	ck_assert_msg(strncmp(p.parts[0].hex + 24, "088A050003070201", 16) ==
	    0, "%s", p.parts[0].hex);
	sms_codec_pdus_free(&p);

	/* 70 units fit one part, 71 do not (67 + 4). */
	memset(text, 'x', 68);
	strcpy(text + 68, "😀");
	ck_assert_int_eq(sms_codec_count_parts(text, &enc, &parts, &units),
	    0);
	ck_assert_uint_eq(units, 70);
	ck_assert_uint_eq(parts, 1);
	strcat(text, "x");
	ck_assert_int_eq(sms_codec_count_parts(text, &enc, &parts, &units),
	    0);
	ck_assert_uint_eq(parts, 2);
}
END_TEST

START_TEST(test_validity)
{
	static const struct {
		unsigned min;
		int	 vp;
	} cases[] = {
		{ 1, 0x00 }, { 5, 0x00 }, { 6, 0x01 }, { 60, 0x0b },
		{ 720, 0x8f }, { 750, 0x90 }, { 1440, 0xa7 },
		{ 3 * 1440, 0xa9 }, { 10080, 0xad }, { 30 * 1440, 0xc4 },
		{ 30 * 1440 + 1, 0xc5 }, { 63 * 10080, 0xff },
	};
	struct sms_codec_opts o = { 0 };
	struct sms_codec_pdus p;
	struct sms_codec_msg m;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		o.validity_min = cases[i].min;
		ck_assert_int_eq(sms_codec_encode_submit("+358401234567",
		    "vp", &o, &p), 0);
		check_lengths(&p);
		/* fo: SUBMIT | VPF relative | SRR. */
		ck_assert_msg(strncmp(p.parts[0].hex, "0031", 4) == 0, "%s",
		    p.parts[0].hex);
		decode_ok(p.parts[0].hex, &m);
		ck_assert_msg(m.vp_relative == cases[i].vp,
		    "%u min: vp %d, expected %d", cases[i].min,
		    m.vp_relative, cases[i].vp);
		ck_assert_str_eq(m.text, "vp");
		sms_codec_pdus_free(&p);
	}
	o.validity_min = 63 * 10080 + 1;
	ck_assert_int_eq(sms_codec_encode_submit("+358401234567", "vp", &o,
	    &p), -1);
	/* No validity: VPF bits clear, no VP octet. */
	ck_assert_int_eq(sms_codec_encode_submit("+358401234567", "vp", NULL,
	    &p), 0);
	decode_ok(p.parts[0].hex, &m);
	ck_assert_int_eq(m.vp_relative, -1);
	sms_codec_pdus_free(&p);
}
END_TEST

START_TEST(test_encode_errors)
{
	struct sms_codec_pdus p = { 0 };
	char *big;
	size_t n = 153 * 255 + 1;

	errno = 0;
	ck_assert_int_eq(sms_codec_encode_submit("+358401234567",
	    "bad \xc3\x28 utf8", NULL, &p), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(sms_codec_encode_submit("+358401234567",
	    "overlong \xc0\xaf", NULL, &p), -1);
	ck_assert_int_eq(sms_codec_encode_submit("+358401234567",
	    "surrogate \xed\xa0\x80", NULL, &p), -1);
	ck_assert_int_eq(sms_codec_encode_submit("+358401234567",
	    "cut \xf0\x9f\x98", NULL, &p), -1);
	ck_assert_int_eq(sms_codec_count_parts("\xff", NULL, NULL, NULL), -1);
	ck_assert_int_eq(sms_codec_encode_submit("nope", "hi", NULL, &p), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(sms_codec_encode_submit("+358401234567", NULL, NULL,
	    &p), -1);
	ck_assert_ptr_null(p.parts);

	big = malloc(n + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, 'q', n);
	big[n] = '\0';
	errno = 0;
	ck_assert_int_eq(sms_codec_encode_submit("+358401234567", big, NULL,
	    &p), -1);
	ck_assert_int_eq(errno, E2BIG);
	ck_assert_ptr_null(p.parts);
	big[n - 1] = '\0';		/* exactly 255 parts */
	ck_assert_int_eq(sms_codec_encode_submit("+358401234567", big, NULL,
	    &p), 0);
	ck_assert_uint_eq(p.count, 255);
	sms_codec_pdus_free(&p);
	free(big);
}
END_TEST

START_TEST(test_normalize_phone)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
		{ "+358401234567", "+358401234567" },
		{ "0401234567", "+358401234567" },
		{ "040 123 4567", "+358401234567" },
		{ "040-123-4567", "+358401234567" },
		{ "+358 (40) 123 4567", "+358401234567" },
		{ "00358401234567", "+358401234567" },
		{ "+46708251358", "+46708251358" },
		{ "091234567", "+35891234567" },
		{ "+123456789012345", "+123456789012345" },
	};
	static const char *bad[] = {
		"", "+", "040123456a", "abc", "358401234567", "+0401234567",
		"0+401234567", "++358401234567", "040", "+3584",
		"+1234567890123456", "00", "000401234567", "0040123",
		"040\n1234567", "+358_40_123",
	};
	char out[SMS_CODEC_E164_MAX];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_msg(sms_codec_normalize_phone(ok[i].in, out,
		    sizeof(out)) == 0, "rejected %s", ok[i].in);
		ck_assert_str_eq(out, ok[i].out);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strcpy(out, "untouched");
		errno = 0;
		ck_assert_msg(sms_codec_normalize_phone(bad[i], out,
		    sizeof(out)) == -1, "accepted '%s'", bad[i]);
		ck_assert_int_eq(errno, EINVAL);
		ck_assert_str_eq(out, "untouched");
	}
	errno = 0;
	ck_assert_int_eq(sms_codec_normalize_phone("0401234567", out, 13),
	    -1);
	ck_assert_int_eq(errno, ERANGE);
	ck_assert_int_eq(sms_codec_normalize_phone("0401234567", out, 14), 0);
}
END_TEST

START_TEST(test_decode_garbage)
{
	static const char *bad[] = {
		"", "0", "zz", "00 11", "0011\r\n", "7", "FFFFFFFFFFFFFFFF",
	};
	struct sms_codec_msg m;
	char big[1000];
	unsigned seed = 12345;
	size_t i, j, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(sms_codec_decode(bad[i], true, &m) == -1,
		    "accepted '%s'", bad[i]);
		ck_assert_msg(sms_codec_decode(bad[i], false, &m) == -1,
		    "accepted '%s'", bad[i]);
	}
	ck_assert_int_eq(sms_codec_decode(NULL, true, &m), -1);
	ck_assert_int_eq(sms_codec_decode("00", true, NULL), -1);
	/* Too long to be a PDU. */
	memset(big, 'A', 402);
	big[402] = '\0';
	ck_assert_int_eq(sms_codec_decode(big, false, &m), -1);
	/* Random hex: must never crash (ASan/UBSan watch the reads). */
	for (i = 0; i < 20000; i++) {
		seed = seed * 1103515245u + 12345u;
		n = 2 * (1 + (seed >> 16) % 180);
		for (j = 0; j < n; j++) {
			seed = seed * 1103515245u + 12345u;
			big[j] = "0123456789ABCDEF"[(seed >> 16) & 15];
		}
		big[n] = '\0';
		(void)sms_codec_decode(big, (i & 1) != 0, &m);
	}
}
END_TEST

static Suite *
sms_codec_suite(void)
{
	Suite *s = suite_create("sms_codec");
	TCase *tc;

	tc = tcase_create("vectors");
	tcase_add_loop_test(tc, test_vector, 0, nvectors);
	tcase_add_loop_test(tc, test_vector_truncations, 0, nvectors);
	suite_add_tcase(s, tc);

	tc = tcase_create("encode");
	tcase_add_test(tc, test_encode_known_submit);
	tcase_add_test(tc, test_encode_short_gsm7_national);
	tcase_add_test(tc, test_encode_ucs2_known);
	tcase_add_test(tc, test_encode_long_gsm7);
	tcase_add_test(tc, test_encode_ref16);
	tcase_add_test(tc, test_part_boundaries);
	tcase_add_test(tc, test_extension_chars);
	tcase_add_test(tc, test_gsm7_repertoire);
	tcase_add_test(tc, test_ucs2_roundtrip);
	tcase_add_test(tc, test_ucs2_surrogate_boundary);
	tcase_add_test(tc, test_validity);
	tcase_add_test(tc, test_encode_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("misc");
	tcase_add_test(tc, test_normalize_phone);
	tcase_add_test(tc, test_decode_garbage);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	vectors_load();
	if (nvectors == 0) {
		fprintf(stderr, "no vectors in %s\n", vectors_path());
		return 1;
	}
	sr = srunner_create(sms_codec_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
