/* Unit tests for at_syntax: tokenizing modem output split anywhere. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smsgw/at_syntax.h"

/*
 * Feed input in chunks chosen by step (0 = random 1..17 from seed, else
 * fixed size) and render the tokens as "L:line|D:pdu|P|X".  Like at_chat,
 * a line starting with "+CMT:" or "+CMGL:" announces a PDU.
 */
static char *
run(const char *in, size_t inlen, size_t step, unsigned seed)
{
	struct at_syntax *s = at_syntax_new();
	size_t cap = inlen * 2 + 64, olen = 0, off = 0;
	char *out = calloc(1, cap);

	srand(seed);
	while (off < inlen) {
		size_t chunk = step ? step : (size_t)(rand() % 17) + 1;
		size_t pos = 0;

		if (chunk > inlen - off)
			chunk = inlen - off;
		while (pos < chunk) {
			size_t l = chunk - pos, tl;
			enum at_syntax_result r;
			const char *t;

			r = at_syntax_feed(s, in + off + pos, &l);
			ck_assert_uint_le(l, chunk - pos);
			pos += l;
			if (r == AT_SYNTAX_UNSURE) {
				ck_assert_uint_eq(pos, chunk);
				break;
			}
			ck_assert_uint_gt(l, 0);
			t = at_syntax_token(s, &tl);
			ck_assert_uint_eq(strlen(t), tl);
			switch (r) {
			case AT_SYNTAX_LINE:
				olen += snprintf(
				    out + olen, cap - olen, "L:%s|", t);
				if (strncmp(t, "+CMT:", 5) == 0 ||
				    strncmp(t, "+CMGL:", 6) == 0)
					at_syntax_hint(s, AT_HINT_EXPECT_PDU);
				break;
			case AT_SYNTAX_PDU:
				olen += snprintf(
				    out + olen, cap - olen, "D:%s|", t);
				break;
			case AT_SYNTAX_PROMPT:
				olen += snprintf(out + olen, cap - olen, "P|");
				break;
			case AT_SYNTAX_DROPPED:
				olen += snprintf(out + olen, cap - olen, "X|");
				break;
			default:
				ck_abort();
			}
			ck_assert_uint_lt(olen, cap);
		}
		off += chunk;
	}
	at_syntax_free(s);
	return out;
}

/* The same input must give the same tokens however it is split. */
static void
check_all_splits(const char *in, size_t inlen, const char *want)
{
	char *got;
	size_t step;
	unsigned seed;

	got = run(in, inlen, inlen ? inlen : 1, 0);
	ck_assert_str_eq(got, want);
	free(got);
	for (step = 1; step <= 7; step++) {
		got = run(in, inlen, step, 0);
		ck_assert_msg(
		    strcmp(got, want) == 0, "step %zu: %s", step, got);
		free(got);
	}
	for (seed = 1; seed <= 50; seed++) {
		got = run(in, inlen, 0, seed);
		ck_assert_msg(strcmp(got, want) == 0, "seed %u: %s", seed, got);
		free(got);
	}
}

#define CHECK(in, want) check_all_splits(in, sizeof(in) - 1, want)

START_TEST(test_basic_lines)
{
	CHECK("\r\nOK\r\n", "L:OK|");
	CHECK("\r\n+CSQ: 17,99\r\n\r\nOK\r\n", "L:+CSQ: 17,99|L:OK|");
	/* Bare \r, bare \n, \n\r and runs of empty lines. */
	CHECK("A\rB\nC\n\rD\r\r\r\n\nE\r\n", "L:A|L:B|L:C|L:D|L:E|");
	/* Trailing blanks trimmed; inner blanks kept. */
	CHECK("OK  \t\r\n+X: a b\r\n", "L:OK|L:+X: a b|");
	/* Nothing but separators yields nothing. */
	CHECK("\r\n\r\n\n\r", "");
}
END_TEST

START_TEST(test_urc_around_response)
{
	CHECK("\r\nOK\r\n\r\n+CMTI: \"ME\",1\r\n", "L:OK|L:+CMTI: \"ME\",1|");
	CHECK("\r\n+CMTI: \"SM\",3\r\n\r\n+CSQ: 5,0\r\n\r\nOK\r\n",
	    "L:+CMTI: \"SM\",3|L:+CSQ: 5,0|L:OK|");
}
END_TEST

START_TEST(test_incomplete_line_waits)
{
	struct at_syntax *s = at_syntax_new();
	size_t l = 3;

	ck_assert_int_eq(at_syntax_feed(s, "+CS", &l), AT_SYNTAX_UNSURE);
	ck_assert_uint_eq(l, 3);
	ck_assert_str_eq(at_syntax_token(s, NULL), "");
	l = 4;
	ck_assert_int_eq(at_syntax_feed(s, "Q\r\nO", &l), AT_SYNTAX_LINE);
	ck_assert_uint_eq(l, 2); /* stops right after the \r */
	ck_assert_str_eq(at_syntax_token(s, NULL), "+CSQ");
	l = 2;
	ck_assert_int_eq(at_syntax_feed(s, "\nO", &l), AT_SYNTAX_UNSURE);
	ck_assert_uint_eq(l, 2);
	at_syntax_free(s);
}
END_TEST

START_TEST(test_nul_and_garbage)
{
	static const char in[] = "\0\0O\0K\r\n\xff\xfe\x01junk\r\n\0\r\nOK\r\n";

	check_all_splits(in, sizeof(in) - 1, "L:OK|L:\xff\xfe\x01junk|L:OK|");
}
END_TEST

START_TEST(test_prompt)
{
	CHECK("\r\n> ", "P|");
	CHECK("> ", "P|");
	/* A lone ">" line is a prompt too (some modems). */
	CHECK("\r\n>\r\n", "P|");
	/* '>' not followed by a blank starts an ordinary line. */
	CHECK(">foo\r\n", "L:>foo|");
	/* '>' inside a line is just text. */
	CHECK("a> b\r\n", "L:a> b|");
	/* Echoed PDU on the prompt line, then the answer. */
	CHECK("\r\n> 0011\x1a\r\n+CMGS: 4\r\n\r\nOK\r\n",
	    "P|L:0011\x1a|L:+CMGS: 4|L:OK|");
}
END_TEST

START_TEST(test_pdu_hint)
{
	CHECK("\r\n+CMT: ,24\r\n07914477\r\n", "L:+CMT: ,24|D:07914477|");
	/* Without a hint a hex line is a plain line. */
	CHECK("\r\n07914477\r\n", "L:07914477|");
	/* A hinted line that is not hex comes back as a line. */
	CHECK("+CMT: ,24\r\nOK\r\n0791\r\n", "L:+CMT: ,24|L:OK|L:0791|");
	/* The hint survives empty lines and is used up by one line. */
	CHECK("+CMT: ,2\r\n\r\n\r\nabCD\r\n0791\r\n",
	    "L:+CMT: ,2|D:abCD|L:0791|");
	/* +CMGL listing. */
	CHECK("\r\n+CMGL: 1,0,,3\r\n000102\r\n+CMGL: 2,1,,2\r\nAABB\r\n"
	      "\r\nOK\r\n",
	    "L:+CMGL: 1,0,,3|D:000102|L:+CMGL: 2,1,,2|D:AABB|L:OK|");
}
END_TEST

START_TEST(test_overlong_line)
{
	size_t n = 5000, i;
	char *in = malloc(n + 32);
	char *got;
	struct at_syntax *s;
	size_t l, tl;

	memset(in, 'A', n);
	memcpy(in + n, "\r\nOK\r\n", 6);
	check_all_splits(in, n + 6, "X|L:OK|");

	/* Exactly AT_SYNTAX_LINE_MAX bytes is still a line. */
	s = at_syntax_new();
	l = AT_SYNTAX_LINE_MAX + 2;
	memcpy(in + AT_SYNTAX_LINE_MAX, "\r\n", 2);
	ck_assert_int_eq(at_syntax_feed(s, in, &l), AT_SYNTAX_LINE);
	at_syntax_token(s, &tl);
	ck_assert_uint_eq(tl, AT_SYNTAX_LINE_MAX);
	ck_assert_uint_eq(at_syntax_overflows(s), 0);
	/* One more byte overflows; each overlong line is counted once. */
	for (i = 0; i < 3; i++) {
		memset(in, 'B', n);
		memcpy(in + n, "\n", 1);
		l = n + 1;
		ck_assert_int_eq(at_syntax_feed(s, in, &l), AT_SYNTAX_DROPPED);
		ck_assert_uint_eq(l, n + 1);
		ck_assert_uint_eq(at_syntax_overflows(s), i + 1);
	}
	at_syntax_free(s);

	/* An overlong PDU uses up the hint. */
	memcpy(in, "+CMT: ,9\r\n", 10);
	memset(in + 10, 'F', n);
	memcpy(in + 10 + n, "\r\nABCD\r\n", 8);
	got = run(in, n + 18, 1, 0);
	ck_assert_str_eq(got, "L:+CMT: ,9|X|L:ABCD|");
	free(got);
	free(in);
}
END_TEST

START_TEST(test_reset)
{
	struct at_syntax *s = at_syntax_new();
	size_t l = 5;

	ck_assert_int_eq(at_syntax_feed(s, "+CSQ:", &l), AT_SYNTAX_UNSURE);
	at_syntax_hint(s, AT_HINT_EXPECT_PDU);
	at_syntax_reset(s);
	l = 6;
	ck_assert_int_eq(at_syntax_feed(s, "ABCD\r\n", &l), AT_SYNTAX_LINE);
	ck_assert_str_eq(at_syntax_token(s, NULL), "ABCD");
	/* A pending '>' is forgotten as well. */
	l = 1;
	ck_assert_int_eq(at_syntax_feed(s, ">", &l), AT_SYNTAX_UNSURE);
	at_syntax_reset(s);
	l = 4;
	ck_assert_int_eq(at_syntax_feed(s, " OK\n", &l), AT_SYNTAX_LINE);
	ck_assert_str_eq(at_syntax_token(s, NULL), " OK");
	at_syntax_free(s);
	at_syntax_free(NULL);
}
END_TEST

/* Random bytes must never crash or produce a line over the cap. */
START_TEST(test_random_bytes)
{
	struct at_syntax *s = at_syntax_new();
	char buf[512];
	unsigned iter;
	size_t i;

	srand(42);
	for (iter = 0; iter < 2000; iter++) {
		size_t n = (size_t)(rand() % sizeof(buf)), off = 0;

		for (i = 0; i < n; i++) {
			int r = rand() % 10;

			buf[i] = r == 0 ? '\r'
			    : r == 1    ? '\n'
			    : r == 2    ? '>'
			    : r == 3    ? ' '
			                : (char)rand();
		}
		if (iter % 7 == 0)
			at_syntax_hint(s, AT_HINT_EXPECT_PDU);
		while (off < n) {
			size_t l = n - off, tl;

			if (at_syntax_feed(s, buf + off, &l) ==
			    AT_SYNTAX_UNSURE) {
				ck_assert_uint_eq(l, n - off);
				break;
			}
			ck_assert_uint_gt(l, 0);
			at_syntax_token(s, &tl);
			ck_assert_uint_le(tl, AT_SYNTAX_LINE_MAX);
			off += l;
		}
	}
	at_syntax_free(s);
}
END_TEST

START_TEST(test_prompt_hint)
{
	struct at_syntax *s = at_syntax_new();
	size_t l;

	/* Without the hint a bare '>' waits for what follows. */
	l = 3;
	ck_assert_int_eq(at_syntax_feed(s, "\r\n>", &l), AT_SYNTAX_UNSURE);
	at_syntax_reset(s);
	/* With it, '>' is a prompt at once and one blank is swallowed. */
	at_syntax_hint(s, AT_HINT_EXPECT_PROMPT);
	at_syntax_hint(s, AT_HINT_EXPECT_PDU); /* independent */
	l = 3;
	ck_assert_int_eq(at_syntax_feed(s, "\r\n>", &l), AT_SYNTAX_PROMPT);
	ck_assert_uint_eq(l, 3);
	l = 1;
	ck_assert_int_eq(at_syntax_feed(s, " ", &l), AT_SYNTAX_UNSURE);
	l = 6;
	ck_assert_int_eq(at_syntax_feed(s, "00AA\r\n", &l), AT_SYNTAX_PDU);
	ck_assert_str_eq(at_syntax_token(s, NULL), "00AA");
	/* Used up: the next '>' waits again. */
	l = 1;
	ck_assert_int_eq(at_syntax_feed(s, ">", &l), AT_SYNTAX_UNSURE);
	l = 1;
	ck_assert_int_eq(at_syntax_feed(s, " ", &l), AT_SYNTAX_PROMPT);
	/* AT_HINT_NONE clears both. */
	at_syntax_hint(s, AT_HINT_EXPECT_PROMPT);
	at_syntax_hint(s, AT_HINT_EXPECT_PDU);
	at_syntax_hint(s, AT_HINT_NONE);
	l = 6;
	ck_assert_int_eq(at_syntax_feed(s, ">0A\r\n", &l), AT_SYNTAX_LINE);
	ck_assert_str_eq(at_syntax_token(s, NULL), ">0A");
	at_syntax_free(s);
}
END_TEST

static Suite *
at_syntax_suite(void)
{
	Suite *su = suite_create("at_syntax");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_basic_lines);
	tcase_add_test(tc, test_urc_around_response);
	tcase_add_test(tc, test_incomplete_line_waits);
	tcase_add_test(tc, test_nul_and_garbage);
	tcase_add_test(tc, test_prompt);
	tcase_add_test(tc, test_prompt_hint);
	tcase_add_test(tc, test_pdu_hint);
	tcase_add_test(tc, test_overlong_line);
	tcase_add_test(tc, test_reset);
	tcase_add_test(tc, test_random_bytes);
	suite_add_tcase(su, tc);
	return su;
}

int
main(void)
{
	SRunner *sr = srunner_create(at_syntax_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
