/*
 * libFuzzer target for sms_codec.
 *
 * Build (by hand, until --enable-fuzzer exists):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
 *       $(pkg-config --cflags gammu) tests/fuzz/fuzz_pdu.c \
 *       src/sms_codec.c src/util.c src/log.c $(pkg-config --libs gammu) \
 *       -o fuzz_pdu
 *   ./fuzz_pdu -max_total_time=60 -max_len=300
 *
 * The first input byte selects the mode, the rest is the payload:
 *   bit 0  has_smsc for sms_codec_decode()
 *   bits 1-2
 *     0, 1  payload octets are turned into hex and decoded (reaches the
 *           PDU structure quickly)
 *     2     payload is used as the hex string itself (the hex parser)
 *     3     payload is used as UTF-8 text for sms_codec_encode_submit();
 *           when accepted, every part must decode back to SUBMIT with
 *           TP-SRR, and the parts joined must equal the text
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smsgw/sms_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_encode(const uint8_t *data, size_t size, unsigned mode)
{
	struct sms_codec_opts o = { 0 };
	struct sms_codec_pdus p;
	struct sms_codec_msg m;
	char *text, *joined;
	size_t i, n;

	text = malloc(size + 1);
	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	o.ref = mode & 1 ? 0xabcd : 0x42;
	o.ref16 = mode & 1;
	o.validity_min = size > 0 ? data[0] * 60u : 0;
	if (sms_codec_encode_submit("+358401234567", text, &o, &p) == -1) {
		free(text);
		return;
	}
	joined = calloc(1, SMS_CODEC_TEXT_MAX * p.count + 1);
	if (joined == NULL)
		abort();
	n = 0;
	for (i = 0; i < p.count; i++) {
		if (p.parts[i].tpdu_len != strlen(p.parts[i].hex) / 2 - 1)
			abort();
		if (sms_codec_decode(p.parts[i].hex, true, &m) == -1)
			abort();
		if (m.type != SMS_CODEC_SUBMIT || !m.srr ||
		    (p.count > 1 && (!m.concat || m.concat_seq != i + 1 ||
		    m.concat_total != p.count)))
			abort();
		memcpy(joined + n, m.text, m.text_len);
		n += m.text_len;
	}
	if (strcmp(joined, text) != 0) {
		fprintf(stderr, "round trip differs\n");
		abort();
	}
	free(joined);
	free(text);
	sms_codec_pdus_free(&p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char digits[] = "0123456789ABCDEF";
	struct sms_codec_msg m;
	unsigned mode;
	char *hex;
	size_t i;

	if (size < 1)
		return 0;
	mode = data[0];
	data++;
	size--;
	switch ((mode >> 1) & 3) {
	case 0:
	case 1:
		hex = malloc(2 * size + 1);
		if (hex == NULL)
			abort();
		for (i = 0; i < size; i++) {
			hex[2 * i] = digits[data[i] >> 4];
			hex[2 * i + 1] = digits[data[i] & 15];
		}
		hex[2 * size] = '\0';
		(void)sms_codec_decode(hex, mode & 1, &m);
		free(hex);
		break;
	case 2:
		hex = malloc(size + 1);
		if (hex == NULL)
			abort();
		memcpy(hex, data, size);
		hex[size] = '\0';
		(void)sms_codec_decode(hex, mode & 1, &m);
		free(hex);
		break;
	default:
		check_encode(data, size, mode);
		break;
	}
	return 0;
}
