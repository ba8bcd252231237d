/*
 * fuzz_at_syntax: libFuzzer target for the AT line tokenizer.
 *
 * The input is split into chunks whose sizes, and the hints given before
 * each chunk, come from the input itself, so that every split point and
 * hint sequence is reachable.  The same bytes are then fed in one piece
 * and one byte at a time without hints, and the token streams must agree
 * (the tokenizer must not depend on how the tty split the bytes).
 *
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -Iinclude src/at_syntax.c src/util.c src/log.c \
 *       tests/fuzz/fuzz_at_syntax.c -o fuzz_at_syntax
 *   ./fuzz_at_syntax -max_total_time=60 -max_len=16384
 *
 * Input layout: byte 0 = number of control bytes k (mod 64); the next k
 * bytes each give a chunk length (low 6 bits + 1) and a hint (top 2 bits:
 * 0 none, 1 none, 2 expect PDU, 3 expect prompt); the rest is modem output.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smsgw/at_syntax.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_TOK_MAX 8192

struct tok {
	enum at_syntax_result	 r;
	uint32_t		 hash;	/* of the token text */
	size_t			 len;
};

struct stream {
	struct tok	 t[FUZZ_TOK_MAX];
	size_t		 n;
};

static struct stream	 s_whole, s_bytes;

static uint32_t
fuzz_hash(const char *p, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (uint8_t)p[i];
		h *= 16777619u;
	}
	return h;
}

/* Check the invariants of one result and of the token it left. */
static void
fuzz_check(struct at_syntax *s, enum at_syntax_result r, size_t in,
    size_t used, struct stream *st)
{
	const char *tok;
	size_t len, i;

	if (used > in)
		abort();
	if (r == AT_SYNTAX_UNSURE && used != in)
		abort();
	if (r != AT_SYNTAX_UNSURE && used == 0)
		abort();
	if ((int)r < AT_SYNTAX_UNSURE || r > AT_SYNTAX_DROPPED)
		abort();
	tok = at_syntax_token(s, &len);
	if (tok == NULL || strlen(tok) != len)
		abort();
	if (r == AT_SYNTAX_LINE || r == AT_SYNTAX_PDU) {
		if (len == 0 || len > AT_SYNTAX_LINE_MAX)
			abort();
		for (i = 0; i < len; i++)
			if (tok[i] == '\r' || tok[i] == '\n')
				abort();
		if (tok[len - 1] == ' ' || tok[len - 1] == '\t')
			abort();
	} else if (len != 0)
		abort();
	if (r == AT_SYNTAX_PDU)
		for (i = 0; i < len; i++)
			if (!((tok[i] >= '0' && tok[i] <= '9') ||
			    (tok[i] >= 'a' && tok[i] <= 'f') ||
			    (tok[i] >= 'A' && tok[i] <= 'F')))
				abort();
	if (st != NULL && r != AT_SYNTAX_UNSURE && st->n < FUZZ_TOK_MAX) {
		st->t[st->n].r = r;
		st->t[st->n].len = len;
		st->t[st->n].hash = fuzz_hash(tok, len);
		st->n++;
	}
}

/* Feed buf[0..len) in one call sequence; record tokens in st. */
static void
fuzz_feed(struct at_syntax *s, const char *buf, size_t len, struct stream *st)
{
	while (len > 0) {
		size_t used = len;
		enum at_syntax_result r = at_syntax_feed(s, buf, &used);

		fuzz_check(s, r, len, used, st);
		buf += used;
		len -= used;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct at_syntax *s;
	const uint8_t *ctl, *body;
	size_t k, nctl, blen, off, i, c;
	uint64_t ov_whole;

	if (size == 0)
		return 0;
	k = data[0] % 64u;
	if (k > size - 1)
		k = size - 1;
	ctl = data + 1;
	nctl = k;
	body = data + 1 + k;
	blen = size - 1 - k;

	/* 1. Chunked, with hints from the control bytes. */
	s = at_syntax_new();
	off = 0;
	c = 0;
	while (off < blen) {
		size_t chunk = nctl > 0 ? (size_t)(ctl[c % nctl] & 0x3f) + 1 :
		    blen;
		unsigned hint = nctl > 0 ? ctl[c % nctl] >> 6 : 0;

		if (hint == 2)
			at_syntax_hint(s, AT_HINT_EXPECT_PDU);
		else if (hint == 3)
			at_syntax_hint(s, AT_HINT_EXPECT_PROMPT);
		else if (c % 7 == 6)
			at_syntax_hint(s, AT_HINT_NONE);
		if (chunk > blen - off)
			chunk = blen - off;
		fuzz_feed(s, (const char *)body + off, chunk, NULL);
		off += chunk;
		c++;
		if (nctl > 0 && ctl[c % nctl] == 0xff)
			at_syntax_reset(s);
	}
	at_syntax_free(s);

	/* 2. Without hints, one piece versus one byte at a time. */
	s_whole.n = 0;
	s_bytes.n = 0;
	s = at_syntax_new();
	fuzz_feed(s, (const char *)body, blen, &s_whole);
	ov_whole = at_syntax_overflows(s);
	at_syntax_free(s);
	s = at_syntax_new();
	for (i = 0; i < blen; i++)
		fuzz_feed(s, (const char *)body + i, 1, &s_bytes);
	if (at_syntax_overflows(s) != ov_whole)
		abort();
	at_syntax_free(s);
	if (s_whole.n != s_bytes.n)
		abort();
	for (i = 0; i < s_whole.n; i++)
		if (s_whole.t[i].r != s_bytes.t[i].r ||
		    s_whole.t[i].len != s_bytes.t[i].len ||
		    s_whole.t[i].hash != s_bytes.t[i].hash)
			abort();
	return 0;
}
