/* Unit tests for at_result: the typed response iterator. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "smsgw/at_result.h"

START_TEST(test_csq)
{
	static const char *const lines[] = {"+CSQ: 17,99"};
	struct at_response resp = {AT_STATUS_OK, -1, "OK", lines, 1};
	struct at_result_iter it;
	int a = -5, b = -5;

	at_result_iter_init(&it, &resp);
	ck_assert(at_result_iter_next(&it, "+CSQ:"));
	ck_assert(at_result_iter_next_number(&it, &a));
	ck_assert(at_result_iter_next_number(&it, &b));
	ck_assert_int_eq(a, 17);
	ck_assert_int_eq(b, 99);
	ck_assert(!at_result_iter_next_number(&it, &a));
	ck_assert_int_eq(a, 17);
	ck_assert(!at_result_iter_next(&it, "+CSQ:"));
	ck_assert_ptr_null(at_result_iter_raw_line(&it));
}
END_TEST

START_TEST(test_prefix_search_skips_lines)
{
	static const char *const lines[] = {"+CREG: 2,1", "junk",
	    "+CREG: 0,5,\"00C3\",\"A1B2C3\",7", "+CREG: 1"};
	struct at_result_iter it;
	const char *s, *t;
	int n;

	at_result_iter_init_lines(&it, lines, 4);
	ck_assert(at_result_iter_next(&it, NULL));
	ck_assert_str_eq(at_result_iter_raw_line(&it), "+CREG: 2,1");
	ck_assert(at_result_iter_next(&it, "+CREG:"));
	ck_assert_str_eq(at_result_iter_raw_line(&it), lines[2]);
	ck_assert(at_result_iter_next_number(&it, &n));
	ck_assert_int_eq(n, 0);
	ck_assert(at_result_iter_skip_next(&it));
	ck_assert(at_result_iter_next_string(&it, &s));
	ck_assert(at_result_iter_next_string(&it, &t));
	/* Both strings stay valid together. */
	ck_assert_str_eq(s, "00C3");
	ck_assert_str_eq(t, "A1B2C3");
	ck_assert(at_result_iter_next_number(&it, &n));
	ck_assert_int_eq(n, 7);
	ck_assert(at_result_iter_next(&it, "+CREG:"));
	ck_assert(at_result_iter_next_number(&it, &n));
	ck_assert_int_eq(n, 1);
	ck_assert(!at_result_iter_next(&it, NULL));
}
END_TEST

START_TEST(test_strings)
{
	struct at_result_iter it;
	const char *s;
	int n;

	at_result_iter_init_line(&it, "+CMTI: \"ME\",12");
	ck_assert(at_result_iter_next(&it, "+CMTI:"));
	ck_assert(!at_result_iter_next_number(&it, &n));
	ck_assert(!at_result_iter_next_unquoted_string(&it, &s));
	ck_assert(at_result_iter_next_string(&it, &s));
	ck_assert_str_eq(s, "ME");
	ck_assert(!at_result_iter_next_string(&it, &s));
	ck_assert(at_result_iter_next_number(&it, &n));
	ck_assert_int_eq(n, 12);

	/* Empty fields. */
	at_result_iter_init_line(&it, "+CMGL: 1,0,,24");
	ck_assert(at_result_iter_next(&it, "+CMGL:"));
	ck_assert(at_result_iter_next_number(&it, &n));
	ck_assert(at_result_iter_next_number(&it, &n));
	ck_assert(at_result_iter_next_string(&it, &s));
	ck_assert_str_eq(s, "");
	ck_assert(at_result_iter_next_number(&it, &n));
	ck_assert_int_eq(n, 24);

	/* Unterminated quote fails without moving. */
	at_result_iter_init_line(&it, "+X: \"abc,5");
	ck_assert(at_result_iter_next(&it, "+X:"));
	ck_assert(!at_result_iter_next_string(&it, &s));
	ck_assert(at_result_iter_skip_next(&it) == false);

	/* Unquoted tokens, blanks trimmed. */
	at_result_iter_init_line(&it, "+COPS: 0 , 2 , 20801 ,7");
	ck_assert(at_result_iter_next(&it, "+COPS:"));
	ck_assert(at_result_iter_next_number(&it, &n));
	ck_assert_int_eq(n, 0);
	ck_assert(at_result_iter_next_unquoted_string(&it, &s));
	ck_assert_str_eq(s, "2");
	ck_assert(at_result_iter_next_unquoted_string(&it, &s));
	ck_assert_str_eq(s, "20801");
	ck_assert(at_result_iter_next_number(&it, &n));
	ck_assert_int_eq(n, 7);
	ck_assert(!at_result_iter_next_unquoted_string(&it, &s));
}
END_TEST

START_TEST(test_numbers)
{
	struct at_result_iter it;
	int n = 0;

	at_result_iter_init_line(&it, "+N: -3,+4,2147483647,2147483648,12x,,");
	ck_assert(at_result_iter_next(&it, "+N:"));
	ck_assert(at_result_iter_next_number(&it, &n));
	ck_assert_int_eq(n, -3);
	ck_assert(at_result_iter_next_number(&it, &n));
	ck_assert_int_eq(n, 4);
	ck_assert(at_result_iter_next_number(&it, &n));
	ck_assert_int_eq(n, 2147483647);
	ck_assert(!at_result_iter_next_number(&it, &n)); /* overflow */
	ck_assert(at_result_iter_skip_next(&it));
	ck_assert(!at_result_iter_next_number(&it, &n)); /* "12x" */
	ck_assert(at_result_iter_skip_next(&it));
	ck_assert(at_result_iter_next_number_default(&it, 77, &n));
	ck_assert_int_eq(n, 77);
	ck_assert(at_result_iter_next_number_default(&it, 78, &n));
	ck_assert_int_eq(n, 78);
	/* Not before next(). */
	at_result_iter_init_line(&it, "5");
	ck_assert(!at_result_iter_next_number(&it, &n));
}
END_TEST

START_TEST(test_lists)
{
	struct at_result_iter it;
	int a, b;
	const char *s;

	at_result_iter_init_line(
	    &it, "+CNMI: (0-2),(0,1,3),( \"a,)\" ,(1,2)),9");
	ck_assert(at_result_iter_next(&it, "+CNMI:"));
	ck_assert(!at_result_iter_close_list(&it));
	ck_assert(at_result_iter_open_list(&it));
	ck_assert(at_result_iter_next_unquoted_string(&it, &s));
	ck_assert_str_eq(s, "0-2");
	ck_assert(!at_result_iter_next_number(&it, &a));
	ck_assert(at_result_iter_close_list(&it));
	ck_assert(at_result_iter_open_list(&it));
	ck_assert(at_result_iter_next_number(&it, &a));
	ck_assert(at_result_iter_next_number(&it, &b));
	ck_assert_int_eq(a, 0);
	ck_assert_int_eq(b, 1);
	ck_assert(at_result_iter_skip_next(&it));
	ck_assert(!at_result_iter_skip_next(&it)); /* at ')' */
	ck_assert(at_result_iter_close_list(&it));
	/* skip_next jumps a whole nested list with a quoted ')'. */
	ck_assert(at_result_iter_skip_next(&it));
	ck_assert(at_result_iter_next_number(&it, &a));
	ck_assert_int_eq(a, 9);
}
END_TEST

START_TEST(test_hexstring)
{
	struct at_result_iter it;
	const uint8_t *p;
	size_t len;
	int n;

	at_result_iter_init_line(&it, "+H: \"00ff10\",0a0B,ABC,\"12");
	ck_assert(at_result_iter_next(&it, "+H:"));
	ck_assert(at_result_iter_next_hexstring(&it, &p, &len));
	ck_assert_uint_eq(len, 3);
	ck_assert_uint_eq(p[0], 0x00);
	ck_assert_uint_eq(p[1], 0xff);
	ck_assert_uint_eq(p[2], 0x10);
	ck_assert(at_result_iter_next_hexstring(&it, &p, &len));
	ck_assert_uint_eq(len, 2);
	ck_assert_uint_eq(p[0], 0x0a);
	ck_assert_uint_eq(p[1], 0x0b);
	ck_assert(!at_result_iter_next_hexstring(&it, &p, &len)); /* odd */
	ck_assert(at_result_iter_skip_next(&it));
	ck_assert(!at_result_iter_next_hexstring(&it, &p, &len)); /* open " */
	ck_assert(!at_result_iter_next_number(&it, &n));
}
END_TEST

START_TEST(test_cmgl_pairs)
{
	static const char *const lines[] = {
	    "+CMGL: 1,0,,3", "000102", "+CMGL: 4,1,,2", "AABB"};
	struct at_response resp = {AT_STATUS_OK, -1, "OK", lines, 4};
	struct at_result_iter it;
	int idx[2], k = 0, v;
	const uint8_t *p;
	size_t len;

	at_result_iter_init(&it, &resp);
	while (at_result_iter_next(&it, "+CMGL:")) {
		ck_assert(at_result_iter_next_number(&it, &idx[k]));
		ck_assert(at_result_iter_next_number(&it, &v));
		ck_assert(at_result_iter_skip_next(&it));
		ck_assert(at_result_iter_next_number(&it, &v));
		ck_assert(at_result_iter_next(&it, NULL));
		ck_assert(at_result_iter_next_hexstring(&it, &p, &len));
		ck_assert_uint_eq(len, (size_t)v);
		k++;
	}
	ck_assert_int_eq(k, 2);
	ck_assert_int_eq(idx[0], 1);
	ck_assert_int_eq(idx[1], 4);
	ck_assert_str_eq(at_status_str(AT_STATUS_CMS_ERROR), "cms-error");
	at_result_iter_init(&it, NULL);
	ck_assert(!at_result_iter_next(&it, NULL));
}
END_TEST

/* A full-size line of one-char strings must not overrun the buffer. */
START_TEST(test_long_line)
{
	size_t n = AT_RESULT_LINE_MAX, i, count = 0;
	char *line = malloc(n + 1);
	struct at_result_iter it;
	const char *s;

	for (i = 0; i + 1 < n; i += 2) {
		line[i] = 'x';
		line[i + 1] = ',';
	}
	line[n] = '\0';
	at_result_iter_init_line(&it, line);
	ck_assert(at_result_iter_next(&it, NULL));
	while (at_result_iter_next_unquoted_string(&it, &s)) {
		ck_assert_str_eq(s, "x");
		count++;
	}
	ck_assert_uint_eq(count, n / 2);
	free(line);
}
END_TEST

static Suite *
at_result_suite(void)
{
	Suite *su = suite_create("at_result");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_csq);
	tcase_add_test(tc, test_prefix_search_skips_lines);
	tcase_add_test(tc, test_strings);
	tcase_add_test(tc, test_numbers);
	tcase_add_test(tc, test_lists);
	tcase_add_test(tc, test_hexstring);
	tcase_add_test(tc, test_cmgl_pairs);
	tcase_add_test(tc, test_long_line);
	suite_add_tcase(su, tc);
	return su;
}

int
main(void)
{
	SRunner *sr = srunner_create(at_result_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
