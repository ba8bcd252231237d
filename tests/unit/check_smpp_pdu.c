/* check_smpp_pdu: SMPP 3.4 PDU vectors both ways, strict rejection of
 * truncated and garbage input, receipt text, GSM 7-bit / UCS-2 splits. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smsgw/smpp_pdu.h"

static size_t
unhex(const char *h, uint8_t *out, size_t max)
{
	size_t n = 0;
	unsigned v;

	while (h[0] != '\0' && h[1] != '\0') {
		ck_assert_uint_lt(n, max);
		ck_assert_int_eq(sscanf(h, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
		h += 2;
	}
	return n;
}

static void
assert_bytes(const uint8_t *got, size_t glen, const char *hex)
{
	uint8_t want[512];
	size_t wlen = unhex(hex, want, sizeof(want));

	ck_assert_uint_eq(glen, wlen);
	ck_assert_mem_eq(got, want, wlen);
}

/* Every proper prefix of a valid PDU must be rejected; so must those
 * shorter than the mandatory part (mand) with command_length patched to
 * the prefix length (longer ones may legally end between TLVs). */
static void
assert_prefixes_rejected(const uint8_t *buf, size_t len, size_t mand)
{
	uint8_t tmp[512];
	struct smpp_pdu p;
	size_t i;

	for (i = 0; i < len; i++) {
		memcpy(tmp, buf, i);
		ck_assert_msg(!smpp_pdu_decode(tmp, i, &p, NULL),
		    "prefix %zu accepted", i);
		if (i >= 16 && i < mand) {
			tmp[0] = (uint8_t)(i >> 24);
			tmp[1] = (uint8_t)(i >> 16);
			tmp[2] = (uint8_t)(i >> 8);
			tmp[3] = (uint8_t)i;
			ck_assert_msg(!smpp_pdu_decode(tmp, i, &p, NULL),
			    "patched prefix %zu accepted", i);
		}
	}
}

#define BIND_HEX \
	"00000022000000090000000000000001" \
	"736d73677700" "73656372657400" "00" "340000" "00"

START_TEST(test_bind_encode_decode)
{
	struct smpp_pdu p, q;
	uint8_t buf[256];
	size_t n;

	smpp_pdu_init(&p, SMPP_BIND_TRANSCEIVER, 1);
	strcpy(p.system_id, "smsgw");
	strcpy(p.password, "secret");
	p.interface_version = SMPP_VERSION_34;
	n = smpp_pdu_encode(&p, buf, sizeof(buf));
	assert_bytes(buf, n, BIND_HEX);
	ck_assert(smpp_pdu_decode(buf, n, &q, NULL));
	ck_assert_uint_eq(q.cmd, SMPP_BIND_TRANSCEIVER);
	ck_assert_uint_eq(q.seq, 1);
	ck_assert_str_eq(q.system_id, "smsgw");
	ck_assert_str_eq(q.password, "secret");
	ck_assert_str_eq(q.system_type, "");
	ck_assert_uint_eq(q.interface_version, 0x34);
	assert_prefixes_rejected(buf, n, n);
	/* buffer too small: 0 */
	ck_assert_uint_eq(smpp_pdu_encode(&p, buf, n - 1), 0);
	/* password of 9 characters does not fit the 9-octet field */
	memset(p.password, 'x', sizeof(p.password));
	ck_assert_uint_eq(smpp_pdu_encode(&p, buf, sizeof(buf)), 0);
}
END_TEST

START_TEST(test_header_only)
{
	struct smpp_pdu p;
	uint8_t buf[64];
	size_t n;

	smpp_pdu_init(&p, SMPP_ENQUIRE_LINK, 7);
	n = smpp_pdu_encode(&p, buf, sizeof(buf));
	assert_bytes(buf, n, "00000010000000150000000000000007");
	smpp_pdu_init(&p, SMPP_UNBIND_RESP, 0x7fffffff);
	n = smpp_pdu_encode(&p, buf, sizeof(buf));
	assert_bytes(buf, n, "0000001080000006000000007fffffff");

	n = unhex("00000010800000000000000300000005", buf, sizeof(buf));
	ck_assert(smpp_pdu_decode(buf, n, &p, NULL));
	ck_assert_uint_eq(p.cmd, SMPP_GENERIC_NACK);
	ck_assert_uint_eq(p.status, SMPP_ESME_RINVCMDID);
	ck_assert_uint_eq(p.seq, 5);
	/* a header-only PDU with a body is malformed */
	n = unhex("000000118000000000000003000000050000", buf, sizeof(buf));
	ck_assert(!smpp_pdu_decode(buf, 17, &p, NULL));
	/* failed bind: resp without system_id */
	n = unhex("00000010800000090000000d00000001", buf, sizeof(buf));
	ck_assert(smpp_pdu_decode(buf, n, &p, NULL));
	ck_assert_uint_eq(p.status, SMPP_ESME_RBINDFAIL);
	ck_assert_str_eq(p.system_id, "");
}
END_TEST

#define SUBMIT_HEX \
	"00000035000000040000000000000002" \
	"00" "0500" "48595641 4b5300" "0101" "33353834 30313233 34353637 00" \
	"000000" "00" "00" "01000000" "02" "4869"

static void
strip_spaces(const char *in, char *out)
{
	for (; *in != '\0'; in++)
		if (*in != ' ')
			*out++ = *in;
	*out = '\0';
}

START_TEST(test_submit_sm)
{
	struct smpp_pdu p, q;
	uint8_t buf[256];
	char hex[512];
	size_t n;

	smpp_pdu_init(&p, SMPP_SUBMIT_SM, 2);
	p.source_ton = SMPP_TON_ALPHANUMERIC;
	strcpy(p.source_addr, "HYVAKS");
	p.dest_ton = SMPP_TON_INTERNATIONAL;
	p.dest_npi = SMPP_NPI_E164;
	strcpy(p.dest_addr, "358401234567");
	p.registered_delivery = 1;
	p.short_message = (const uint8_t *)"Hi";
	p.sm_length = 2;
	n = smpp_pdu_encode(&p, buf, sizeof(buf));
	strip_spaces(SUBMIT_HEX, hex);
	assert_bytes(buf, n, hex);
	ck_assert(smpp_pdu_decode(buf, n, &q, NULL));
	ck_assert_uint_eq(q.source_ton, 5);
	ck_assert_str_eq(q.source_addr, "HYVAKS");
	ck_assert_str_eq(q.dest_addr, "358401234567");
	ck_assert_uint_eq(q.registered_delivery, 1);
	ck_assert_uint_eq(q.sm_length, 2);
	ck_assert_mem_eq(q.short_message, "Hi", 2);
	ck_assert_ptr_null(q.message_payload);
	ck_assert_int_eq(q.message_state, -1);
	assert_prefixes_rejected(buf, n, n);
	/* sm_length pointing past the end */
	buf[n - 3] = 3;
	ck_assert(!smpp_pdu_decode(buf, n, &q, NULL));
	buf[n - 3] = 2;
	/* an unterminated source_addr (NUL overwritten) runs into the
	 * following fields: still rejected, never read past the end */
	buf[16 + 3 + 6] = 'X';
	ck_assert(!smpp_pdu_decode(buf, n, &q, NULL));
	/* 21-character dest_addr cannot be encoded */
	memset(p.dest_addr, '1', sizeof(p.dest_addr));
	ck_assert_uint_eq(smpp_pdu_encode(&p, buf, sizeof(buf)), 0);
}
END_TEST

START_TEST(test_submit_sm_tlvs)
{
	struct smpp_pdu p, q;
	uint8_t buf[512], payload[300];
	size_t n;

	memset(payload, 'z', sizeof(payload));
	smpp_pdu_init(&p, SMPP_SUBMIT_SM, 3);
	strcpy(p.source_addr, "HYVAKS");
	strcpy(p.dest_addr, "1");
	p.message_payload = payload;
	p.payload_len = sizeof(payload);
	p.has_sar = true;
	p.sar_msg_ref_num = 0x1234;
	p.sar_total_segments = 3;
	p.sar_segment_seqnum = 2;
	n = smpp_pdu_encode(&p, buf, sizeof(buf));
	ck_assert_uint_gt(n, 300);
	/* sar TLVs right after sm_length=0 */
	assert_bytes(buf + n - 4 - 300 - 16, 16,
	    "020c00021234" "020e000103" "020f000102");
	ck_assert(smpp_pdu_decode(buf, n, &q, NULL));
	ck_assert_uint_eq(q.payload_len, 300);
	ck_assert_mem_eq(q.message_payload, payload, 300);
	ck_assert(q.has_sar);
	ck_assert_uint_eq(q.sar_msg_ref_num, 0x1234);
	ck_assert_uint_eq(q.sar_total_segments, 3);
	ck_assert_uint_eq(q.sar_segment_seqnum, 2);
	/* TLV length running past the PDU */
	buf[n - 300 - 1] = 0x2d;	/* payload len 0x012d > remaining */
	ck_assert(!smpp_pdu_decode(buf, n, &q, NULL));
}
END_TEST

#define DLR_HEX \
	"000000a3000000050000000000000009000101333538343031323334" \
	"353637000500485956414b53000400000000000000006269643a6162" \
	"6331207375623a30303120646c7672643a303031207375626d697420" \
	"646174653a3236313132343132303020646f6e6520646174653a3236" \
	"313132343132303120737461743a44454c49565244206572723a3030" \
	"3020746578743a4869001e000561626331000427000102"

START_TEST(test_deliver_sm_receipt)
{
	struct smpp_pdu p, p2;
	struct smpp_receipt r;
	uint8_t buf[256], buf2[256];
	size_t n, n2;

	n = unhex(DLR_HEX, buf, sizeof(buf));
	ck_assert_uint_eq(n, 163);
	ck_assert(smpp_pdu_decode(buf, n, &p, NULL));
	ck_assert_uint_eq(p.cmd, SMPP_DELIVER_SM);
	ck_assert_uint_eq(p.seq, 9);
	ck_assert_uint_eq(p.esm_class, SMPP_ESM_RECEIPT);
	ck_assert_str_eq(p.source_addr, "358401234567");
	ck_assert_str_eq(p.dest_addr, "HYVAKS");
	ck_assert_str_eq(p.receipted_message_id, "abc1");
	ck_assert_int_eq(p.message_state, SMPP_STATE_DELIVERED);
	ck_assert(smpp_receipt_parse(p.short_message, p.sm_length, &r));
	ck_assert_str_eq(r.id, "abc1");
	ck_assert_int_eq(r.sub, 1);
	ck_assert_int_eq(r.dlvrd, 1);
	ck_assert_str_eq(r.submit_date, "2611241200");
	ck_assert_str_eq(r.done_date, "2611241201");
	ck_assert_str_eq(r.stat, "DELIVRD");
	ck_assert_str_eq(r.err, "000");
	ck_assert_int_eq(r.state, SMPP_STATE_DELIVERED);
	/* re-encoding gives the same bytes (TLV order: 001E then 0427) */
	n2 = smpp_pdu_encode(&p, buf2, sizeof(buf2));
	ck_assert_uint_eq(n2, n);
	ck_assert_mem_eq(buf2, buf, n);
	assert_prefixes_rejected(buf, n, n - 14);
	/* message_state with length 2 is malformed */
	memcpy(buf2, buf, n);
	buf2[n - 2] = 2;
	ck_assert(!smpp_pdu_decode(buf2, n, &p2, NULL));

	/* deliver_sm_resp: encode with the NULL message_id */
	smpp_pdu_init(&p2, SMPP_DELIVER_SM_RESP, 9);
	n2 = smpp_pdu_encode(&p2, buf2, sizeof(buf2));
	assert_bytes(buf2, n2, "00000011800000050000000000000009" "00");
}
END_TEST

START_TEST(test_submit_sm_resp)
{
	struct smpp_pdu p;
	uint8_t buf[64];
	size_t n;
	bool hdr_ok = false;

	n = unhex("00000015800000040000000000000002" "6162633100", buf,
	    sizeof(buf));
	ck_assert(smpp_pdu_decode(buf, n, &p, NULL));
	ck_assert_str_eq(p.message_id, "abc1");
	/* throttled: no body */
	n = unhex("00000010800000040000005800000002", buf, sizeof(buf));
	ck_assert(smpp_pdu_decode(buf, n, &p, NULL));
	ck_assert_uint_eq(p.status, SMPP_ESME_RTHROTTLED);
	ck_assert_str_eq(p.message_id, "");
	/* unterminated message_id */
	n = unhex("00000014800000040000000000000002" "61626331", buf,
	    sizeof(buf));
	ck_assert(!smpp_pdu_decode(buf, n, &p, NULL));
	/* unsupported command with a sane header */
	n = unhex("00000010000000030000000000000004", buf, sizeof(buf));
	ck_assert(!smpp_pdu_decode(buf, n, &p, &hdr_ok));
	ck_assert(hdr_ok);
}
END_TEST

START_TEST(test_frame_and_garbage)
{
	uint8_t buf[SMPP_HDR_LEN + 64];
	struct smpp_pdu p;
	unsigned seed = 12345;
	size_t i, j, len;

	ck_assert_int_eq(smpp_pdu_frame((const uint8_t *)"\0\0\0", 3), 0);
	unhex("0000000f", buf, 4);
	ck_assert_int_eq(smpp_pdu_frame(buf, 4), -1);
	unhex("ffffffff", buf, 4);
	ck_assert_int_eq(smpp_pdu_frame(buf, 4), -1);
	unhex("00000010", buf, 4);
	ck_assert_int_eq(smpp_pdu_frame(buf, 4), 16);
	/* length field disagreeing with the buffer */
	unhex("00000011000000150000000000000007", buf, 16);
	ck_assert(!smpp_pdu_decode(buf, 16, &p, NULL));
	/* random bodies after valid headers: never crash (ASan) */
	for (i = 0; i < 200000; i++) {
		static const uint32_t cmds[] = { SMPP_SUBMIT_SM,
		    SMPP_DELIVER_SM, SMPP_BIND_TRANSCEIVER,
		    SMPP_SUBMIT_SM_RESP, SMPP_BIND_TRANSCEIVER_RESP };
		uint32_t c = cmds[i % 5];

		len = SMPP_HDR_LEN + (size_t)(rand_r(&seed) % 64);
		for (j = 0; j < len; j++)
			buf[j] = (uint8_t)rand_r(&seed);
		buf[0] = buf[1] = buf[2] = 0;
		buf[3] = (uint8_t)len;
		buf[4] = (uint8_t)(c >> 24);
		buf[5] = buf[6] = 0;
		buf[7] = (uint8_t)c;
		(void)smpp_pdu_decode(buf, len, &p, NULL);
	}
}
END_TEST

START_TEST(test_receipt_text)
{
	struct smpp_receipt r;
	const char *t;

	t = "ID:77aa SUB:001 DLVRD:000 SUBMIT DATE:2611241200 "
	    "DONE DATE:2611241300 STAT:UNDELIV ERR:034 TEXT:id:zz stat:DELIVRD";
	ck_assert(smpp_receipt_parse((const uint8_t *)t, strlen(t), &r));
	ck_assert_str_eq(r.id, "77aa");
	ck_assert_str_eq(r.stat, "UNDELIV");
	ck_assert_int_eq(r.state, SMPP_STATE_UNDELIVERABLE);
	ck_assert_str_eq(r.err, "034");
	ck_assert_int_eq(r.dlvrd, 0);
	ck_assert_int_eq(smpp_state_final(r.state), 0);
	t = "id:5 stat:ENROUTE";
	ck_assert(smpp_receipt_parse((const uint8_t *)t, strlen(t), &r));
	ck_assert_int_eq(r.sub, -1);
	ck_assert_int_eq(smpp_state_final(r.state), -1);
	ck_assert_int_eq(smpp_state_final(SMPP_STATE_DELIVERED), 1);
	t = "id:5 sub:001 dlvrd:001";
	ck_assert(!smpp_receipt_parse((const uint8_t *)t, strlen(t), &r));
	t = "id:5 stat:BOGUS";
	ck_assert(!smpp_receipt_parse((const uint8_t *)t, strlen(t), &r));
	t = "stat:DELIVRD";
	ck_assert(!smpp_receipt_parse((const uint8_t *)t, strlen(t), &r));
	/* the key must start a word: "xid:" is not "id:" */
	t = "xid:5 stat:DELIVRD";
	ck_assert(!smpp_receipt_parse((const uint8_t *)t, strlen(t), &r));
	/* not NUL-terminated input: the length bounds the scan */
	t = "id:9 stat:DELIVRDXXXX";
	ck_assert(smpp_receipt_parse((const uint8_t *)t, 17, &r));
	ck_assert_str_eq(r.stat, "DELIVRD");
}
END_TEST

static char *
repeat(const char *unit, size_t times)
{
	size_t ul = strlen(unit), i;
	char *s = malloc(ul * times + 1);

	for (i = 0; i < times; i++)
		memcpy(s + i * ul, unit, ul);
	s[ul * times] = '\0';
	return s;
}

START_TEST(test_text_gsm7)
{
	struct smpp_text t;
	char *s;

	ck_assert_int_eq(smpp_text_encode("Hello", 1, &t), 0);
	ck_assert_uint_eq(t.data_coding, SMPP_DCS_DEFAULT);
	ck_assert_uint_eq(t.esm_class, 0);
	ck_assert_uint_eq(t.nparts, 1);
	assert_bytes(t.part[0].data, t.part[0].len, "48656c6c6f");
	/* ä ö å € @ { : basic table, extension table */
	ck_assert_int_eq(smpp_text_encode("ä ö å € @{", 1, &t), 0);
	ck_assert_uint_eq(t.data_coding, SMPP_DCS_DEFAULT);
	assert_bytes(t.part[0].data, t.part[0].len,
	    "7b207c200f201b6520001b28");
	ck_assert(smpp_text_is_gsm7("Ääkkönen €5 [x]"));
	ck_assert(!smpp_text_is_gsm7("naïve"));

	s = repeat("a", 160);
	ck_assert_int_eq(smpp_text_encode(s, 9, &t), 0);
	ck_assert_uint_eq(t.nparts, 1);
	ck_assert_uint_eq(t.part[0].len, 160);
	free(s);
	s = repeat("a", 161);
	ck_assert_int_eq(smpp_text_encode(s, 9, &t), 0);
	ck_assert_uint_eq(t.nparts, 2);
	ck_assert_uint_eq(t.esm_class, SMPP_ESM_UDHI);
	ck_assert_uint_eq(t.part[0].len, 6 + 153);
	ck_assert_uint_eq(t.part[1].len, 6 + 8);
	assert_bytes(t.part[0].data, 6, "050003090201");
	assert_bytes(t.part[1].data, 6, "050003090202");
	free(s);
	/* an escape pair is never split: 152 a + € moves € to part 2 */
	s = malloc(200);
	memset(s, 'a', 152);
	strcpy(s + 152, "€aaaaaaaaaa");
	ck_assert_int_eq(smpp_text_encode(s, 3, &t), 0);
	ck_assert_uint_eq(t.nparts, 2);
	ck_assert_uint_eq(t.part[0].len, 6 + 152);
	ck_assert_uint_eq(t.part[1].len, 6 + 12);
	ck_assert_uint_eq(t.part[1].data[6], 0x1b);
	ck_assert_uint_eq(t.part[1].data[7], 0x65);
	free(s);
	/* 16 parts fit, 17 do not */
	s = repeat("a", 16 * 153);
	ck_assert_int_eq(smpp_text_encode(s, 3, &t), 0);
	ck_assert_uint_eq(t.nparts, 16);
	free(s);
	s = repeat("a", 16 * 153 + 1);
	ck_assert_int_eq(smpp_text_encode(s, 3, &t), -1);
	free(s);
}
END_TEST

START_TEST(test_text_ucs2)
{
	struct smpp_text t;
	char *s, *s2;

	ck_assert_int_eq(smpp_text_encode("ä😀", 1, &t), 0);
	ck_assert_uint_eq(t.data_coding, SMPP_DCS_UCS2);
	assert_bytes(t.part[0].data, t.part[0].len, "00e4d83dde00");
	ck_assert_int_eq(smpp_text_encode("ä ö å € 😀", 1, &t), 0);
	assert_bytes(t.part[0].data, t.part[0].len,
	    "00e4002000f6002000e5002020ac0020d83dde00");
	/* 35 emoji = 70 units: one part */
	s = repeat("😀", 35);
	ck_assert_int_eq(smpp_text_encode(s, 1, &t), 0);
	ck_assert_uint_eq(t.nparts, 1);
	ck_assert_uint_eq(t.part[0].len, 140);
	/* 71 units: 33 emoji (66 units, the 34th would split at 67) + 5 */
	s2 = malloc(strlen(s) + 2);
	strcpy(s2, s);
	strcat(s2, "a");
	ck_assert_int_eq(smpp_text_encode(s2, 0x42, &t), 0);
	ck_assert_uint_eq(t.nparts, 2);
	ck_assert_uint_eq(t.part[0].len, 6 + 66 * 2);
	ck_assert_uint_eq(t.part[1].len, 6 + 5 * 2);
	assert_bytes(t.part[1].data, 8, "050003420202d83d");
	free(s);
	free(s2);
	/* 134 ö + emoji = 136 units: 67 + 67 + 2 */
	s = repeat("ö", 134);
	s2 = malloc(strlen(s) + 8);
	strcpy(s2, s);
	strcat(s2, "😀");
	ck_assert_int_eq(smpp_text_encode(s2, 1, &t), 0);
	ck_assert_uint_eq(t.data_coding, SMPP_DCS_UCS2);
	ck_assert_uint_eq(t.nparts, 3);
	ck_assert_uint_eq(t.part[0].len, 6 + 134);
	ck_assert_uint_eq(t.part[2].len, 6 + 4);
	free(s);
	free(s2);
}
END_TEST

START_TEST(test_text_invalid)
{
	struct smpp_text t;

	t.nparts = 99;
	ck_assert_int_eq(smpp_text_encode("", 1, &t), -1);
	ck_assert_int_eq(smpp_text_encode("a\xc3", 1, &t), -1);
	ck_assert_int_eq(smpp_text_encode("\xc0\x80", 1, &t), -1);
	ck_assert_int_eq(smpp_text_encode("\xed\xa0\x80", 1, &t), -1);
	ck_assert_int_eq(smpp_text_encode("\xf4\x90\x80\x80", 1, &t), -1);
	ck_assert_int_eq(smpp_text_encode("\xff", 1, &t), -1);
	ck_assert_uint_eq(t.nparts, 99);	/* untouched on failure */
	ck_assert(!smpp_text_is_gsm7("\xc3"));
}
END_TEST

static Suite *
smpp_pdu_suite(void)
{
	Suite *s = suite_create("smpp_pdu");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_bind_encode_decode);
	tcase_add_test(tc, test_header_only);
	tcase_add_test(tc, test_submit_sm);
	tcase_add_test(tc, test_submit_sm_tlvs);
	tcase_add_test(tc, test_deliver_sm_receipt);
	tcase_add_test(tc, test_submit_sm_resp);
	tcase_add_test(tc, test_frame_and_garbage);
	tcase_add_test(tc, test_receipt_text);
	tcase_add_test(tc, test_text_gsm7);
	tcase_add_test(tc, test_text_ucs2);
	tcase_add_test(tc, test_text_invalid);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(smpp_pdu_suite());
	int nf;

	srunner_run_all(sr, CK_ENV);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
