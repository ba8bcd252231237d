/*
 * check_reply: the reply classifier against tests/data/replies.tsv (one
 * vector per line: input, kind, score, rule) plus edge cases.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smsgw/reply.h"

#define LINE_MAX_LEN	4096

static const char *
data_dir(void)
{
	const char	*d = getenv("SMSGW_TESTDATA");

	return d != NULL && *d != '\0' ? d : "tests/data";
}

/* Undo \t, \n and \\ in place; returns the new length. */
static size_t
unescape(char *s)
{
	size_t	 i, o = 0;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '\\' && s[i + 1] != '\0') {
			i++;
			if (s[i] == 't')
				s[o++] = '\t';
			else if (s[i] == 'n')
				s[o++] = '\n';
			else
				s[o++] = s[i];
		} else
			s[o++] = s[i];
	}
	s[o] = '\0';
	return o;
}

static struct reply_result
parse_str(const char *s)
{
	struct reply_result	 r;

	ck_assert(reply_parse(s, strlen(s), &r));
	return r;
}

static struct reply_result
parse_lex_str(const struct reply_lexicon *lex, const char *s)
{
	struct reply_result	 r;

	ck_assert(reply_parse_lex(lex, s, strlen(s), &r));
	return r;
}

/* Runs every vector through reply_parse_lex(lex); returns mismatches. */
static int
run_vectors(const struct reply_lexicon *lex, int *rows, char *report,
    size_t rsize)
{
	char		 path[1024], line[LINE_MAX_LEN];
	FILE		*f;
	int		 bad = 0, lineno = 0;
	size_t		 used = 0;

	snprintf(path, sizeof(path), "%s/replies.tsv", data_dir());
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	*rows = 0;
	report[0] = '\0';
	while (fgets(line, sizeof(line), f) != NULL) {
		char		*kind, *score, *rule, *nl;
		struct reply_result r;
		size_t		 len;
		int		 want;

		lineno++;
		if ((nl = strchr(line, '\n')) != NULL)
			*nl = '\0';
		if ((kind = strchr(line, '\t')) == NULL)
			continue;
		*kind++ = '\0';
		if ((score = strchr(kind, '\t')) == NULL)
			continue;
		*score++ = '\0';
		if ((rule = strchr(score, '\t')) != NULL)
			*rule++ = '\0';
		len = unescape(line);
		want = *score == '\0' ? -1 : atoi(score);
		(*rows)++;
		ck_assert(reply_parse_lex(lex, line, len, &r));
		if (strcmp(reply_kind_name(r.kind), kind) != 0 ||
		    r.score != want) {
			int	 k;

			bad++;
			k = snprintf(report + used, rsize - used,
			    "\n  line %d [%s] \"%s\": want %s/%d got %s/%d",
			    lineno, rule != NULL ? rule : "", line, kind, want,
			    reply_kind_name(r.kind), r.score);
			if (k > 0 && (size_t)k < rsize - used)
				used += (size_t)k;
		}
	}
	fclose(f);
	return bad;
}

START_TEST(test_vectors)
{
	static char	 report[65536];
	int		 rows, bad;

	bad = run_vectors(NULL, &rows, report, sizeof(report));
	ck_assert_msg(rows >= 280, "only %d vectors", rows);
	ck_assert_msg(bad == 0, "%d of %d vectors differ:%s", bad, rows,
	    report);
}
END_TEST

/* The sorted copy in a lexicon object must agree with the static table
 * (catches an unsorted built-in table). */
START_TEST(test_vectors_lexicon_copy)
{
	static char		 report[65536];
	struct reply_lexicon	*lex = reply_lexicon_new();
	int			 rows, bad;

	ck_assert_ptr_nonnull(lex);
	bad = run_vectors(lex, &rows, report, sizeof(report));
	reply_lexicon_free(lex);
	ck_assert_msg(bad == 0, "%d of %d vectors differ:%s", bad, rows,
	    report);
}
END_TEST

START_TEST(test_kind_names)
{
	ck_assert_str_eq(reply_kind_name(REPLY_KIND_SCORE), "score");
	ck_assert_str_eq(reply_kind_name(REPLY_KIND_SCORE_COMMENT),
	    "score_comment");
	ck_assert_str_eq(reply_kind_name(REPLY_KIND_COMMENT), "comment");
	ck_assert_str_eq(reply_kind_name(REPLY_KIND_OPTOUT), "optout");
	ck_assert_str_eq(reply_kind_name(REPLY_KIND_INVALID), "invalid");
	ck_assert_str_eq(reply_kind_name(REPLY_KIND_EMPTY), "empty");
}
END_TEST

START_TEST(test_invalid_utf8)
{
	static const char *bad[] = {
		"\xff", "9 \xc3", "\xc3\x28", "\xe2\x82", "\xed\xa0\x80",
		"\xf4\x90\x80\x80", "\xc0\xaf", "kiitos \x80 9",
	};
	struct reply_result	 r;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert(reply_parse(bad[i], strlen(bad[i]), &r));
		ck_assert_int_eq(r.kind, REPLY_KIND_INVALID);
		ck_assert_int_eq(r.score, -1);
	}
}
END_TEST

START_TEST(test_nul_bytes)
{
	struct reply_result	 r;

	ck_assert(reply_parse("9\0", 2, &r));
	ck_assert_int_eq(r.kind, REPLY_KIND_SCORE);
	ck_assert_int_eq(r.score, 9);
	ck_assert(reply_parse("8\0kiitos", 8, &r));
	ck_assert_int_eq(r.kind, REPLY_KIND_SCORE_COMMENT);
	ck_assert_int_eq(r.score, 8);
	ck_assert(reply_parse("\0\0\0", 3, &r));
	ck_assert_int_eq(r.kind, REPLY_KIND_EMPTY);
	/* the length counts, not the NUL */
	ck_assert(reply_parse("7\0 8", 1, &r));
	ck_assert_int_eq(r.score, 7);
}
END_TEST

START_TEST(test_long_input)
{
	size_t			 n = 7 * 28000, i;
	char			*s = malloc(n + 16);
	struct reply_result	 r;

	ck_assert_ptr_nonnull(s);
	for (i = 0; i < n; i += 7)
		memcpy(s + i, "kiitos ", 7);
	memcpy(s + n, "9", 2);
	ck_assert(reply_parse(s, n + 1, &r));
	ck_assert_int_eq(r.kind, REPLY_KIND_SCORE_COMMENT);
	ck_assert_int_eq(r.score, 9);
	/* long run of expanding characters (NFKC and the half sign) */
	for (i = 0; i + 2 <= n; i += 2)
		memcpy(s + i, "\xc2\xbd", 2);
	ck_assert(reply_parse(s, n, &r));
	ck_assert_int_eq(r.kind, REPLY_KIND_INVALID);
	memset(s, ' ', n);
	ck_assert(reply_parse(s, n, &r));
	ck_assert_int_eq(r.kind, REPLY_KIND_EMPTY);
	free(s);
}
END_TEST

START_TEST(test_flags)
{
	struct reply_result	 r;

	r = parse_str("Annan 9");
	ck_assert(r.has_words);
	ck_assert(!r.has_comment);
	r = parse_str("9 kiitos");
	ck_assert(r.has_words);
	ck_assert(r.has_comment);
	r = parse_str("9");
	ck_assert(!r.has_words);
	r = parse_str("Palvelu 8, stop");
	ck_assert_int_eq(r.kind, REPLY_KIND_OPTOUT);
	ck_assert(r.has_words);
}
END_TEST

START_TEST(test_bad_args)
{
	struct reply_result	 r = { REPLY_KIND_SCORE, 5, true, true };

	ck_assert(!reply_parse("9", 1, NULL));
	ck_assert(!reply_parse(NULL, 3, &r));
	ck_assert_int_eq(r.score, 5);		/* untouched */
	ck_assert(reply_parse(NULL, 0, &r));
	ck_assert_int_eq(r.kind, REPLY_KIND_EMPTY);
}
END_TEST

START_TEST(test_lexicon_extend)
{
	struct reply_lexicon	*lex = reply_lexicon_new();
	struct reply_result	 r;

	ck_assert_ptr_nonnull(lex);
	/* before: "odd" is an ordinary word, "lopetus" no keyword */
	r = parse_lex_str(lex, "lopetus");
	ck_assert_int_eq(r.kind, REPLY_KIND_COMMENT);
	r = parse_lex_str(lex, "Odotin 2 viikonloppua, 8");
	ck_assert_int_eq(r.kind, REPLY_KIND_INVALID);
	ck_assert_int_eq(reply_lexicon_add(lex, REPLY_LIST_KEYWORD,
	    "LOPETUS"), 0);
	ck_assert_int_eq(reply_lexicon_add(lex, REPLY_LIST_UNIT,
	    "viikonloppua"), 0);
	ck_assert_int_eq(reply_lexicon_add(lex, REPLY_LIST_NUM_9,
	    "yheksän"), 0);
	ck_assert_int_eq(reply_lexicon_add(lex, REPLY_LIST_CUE,
	    "mun  arvio"), 0);
	ck_assert_int_eq(reply_lexicon_add(lex, REPLY_LIST_OPTOUT_PHRASE,
	    "ei kiitos enää"), 0);
	r = parse_lex_str(lex, "lopetus");
	ck_assert_int_eq(r.kind, REPLY_KIND_OPTOUT);
	r = parse_lex_str(lex, "Odotin 2 viikonloppua, 8");
	ck_assert_int_eq(r.kind, REPLY_KIND_SCORE_COMMENT);
	ck_assert_int_eq(r.score, 8);
	r = parse_lex_str(lex, "Mun arvio yheksän");
	ck_assert_int_eq(r.kind, REPLY_KIND_SCORE);
	ck_assert_int_eq(r.score, 9);
	r = parse_lex_str(lex, "Ei kiitos enää");
	ck_assert_int_eq(r.kind, REPLY_KIND_OPTOUT);
	/* the built-in lists are not affected */
	r = parse_str("lopetus");
	ck_assert_int_eq(r.kind, REPLY_KIND_COMMENT);
	r = parse_str("Mun arvio yheksän");
	ck_assert_int_eq(r.kind, REPLY_KIND_COMMENT);
	/* bad input */
	errno = 0;
	ck_assert_int_eq(reply_lexicon_add(lex, REPLY_LIST_CUE, ""), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(reply_lexicon_add(lex, REPLY_LIST_CUE, "\xff"), -1);
	ck_assert_int_eq(reply_lexicon_add(lex, (enum reply_list)99, "x"),
	    -1);
	ck_assert_int_eq(reply_lexicon_add(lex, REPLY_LIST_CUE,
	    "a b c d e f g"), -1);
	reply_lexicon_free(lex);
	reply_lexicon_free(NULL);
}
END_TEST

static Suite *
reply_suite(void)
{
	Suite	*s = suite_create("reply");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_vectors);
	tcase_add_test(tc, test_vectors_lexicon_copy);
	tcase_add_test(tc, test_kind_names);
	tcase_add_test(tc, test_invalid_utf8);
	tcase_add_test(tc, test_nul_bytes);
	tcase_add_test(tc, test_long_input);
	tcase_add_test(tc, test_flags);
	tcase_add_test(tc, test_bad_args);
	tcase_add_test(tc, test_lexicon_extend);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(reply_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
