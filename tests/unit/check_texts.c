/*
 * check_texts: built-in survey texts and their rendering (texts.h).
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smsgw/conf.h"
#include "smsgw/texts.h"

#define LINK	"https://hyvaks.fi/k/AbCdEfGh12"

static struct conf *cfg;

static const char *const stop_words[CONF_NLANG] = {
	[CONF_LANG_FI] = "LOPETA",
	[CONF_LANG_SV] = "STOPP",
	[CONF_LANG_EN] = "STOP",
};

static const char *const free_words[CONF_NLANG] = {
	[CONF_LANG_FI] = "maksutonta",
	[CONF_LANG_SV] = "gratis",
	[CONF_LANG_EN] = "free",
};

/* Typical statements (Keusote), one per language. */
static const char *const sample_stmt[CONF_NLANG] = {
	[CONF_LANG_FI] = "Sain tarvitsemani hoidon tai palvelun.",
	[CONF_LANG_SV] = "Jag fick den vård eller tjänst jag behövde.",
	[CONF_LANG_EN] = "I received the care or service I needed.",
};

/*
 * Own GSM 7-bit counter (3GPP TS 23.038 default alphabet and its
 * extension table).  Returns septets, or -1 when a character is not in
 * the alphabet (the text would go as UCS-2).
 */
static const uint32_t gsm_basic[128] = {
	'@', 0xa3, '$', 0xa5, 0xe8, 0xe9, 0xf9, 0xec,
	0xf2, 0xc7, '\n', 0xd8, 0xf8, '\r', 0xc5, 0xe5,
	0x394, '_', 0x3a6, 0x393, 0x39b, 0x3a9, 0x3a0, 0x3a8,
	0x3a3, 0x398, 0x39e, 0xffffffff, 0xc6, 0xe6, 0xdf, 0xc9,
	' ', '!', '"', '#', 0xa4, '%', '&', '\'',
	'(', ')', '*', '+', ',', '-', '.', '/',
	'0', '1', '2', '3', '4', '5', '6', '7',
	'8', '9', ':', ';', '<', '=', '>', '?',
	0xa1, 'A', 'B', 'C', 'D', 'E', 'F', 'G',
	'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W',
	'X', 'Y', 'Z', 0xc4, 0xd6, 0xd1, 0xdc, 0xa7,
	0xbf, 'a', 'b', 'c', 'd', 'e', 'f', 'g',
	'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w',
	'x', 'y', 'z', 0xe4, 0xf6, 0xf1, 0xfc, 0xe0,
};

static const uint32_t gsm_ext[] = {
	'\f', '^', '{', '}', '\\', '[', '~', ']', '|', 0x20ac,
};

static int
gsm7_septets(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int n = 0;

	while (*p != '\0') {
		uint32_t cp;
		int len, i, found = 0;

		if (*p < 0x80) {
			cp = *p;
			len = 1;
		} else if ((*p & 0xe0) == 0xc0) {
			cp = *p & 0x1f;
			len = 2;
		} else if ((*p & 0xf0) == 0xe0) {
			cp = *p & 0x0f;
			len = 3;
		} else if ((*p & 0xf8) == 0xf0) {
			cp = *p & 0x07;
			len = 4;
		} else
			return -1;
		for (i = 1; i < len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return -1;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		p += len;
		for (i = 0; i < 128 && !found; i++)
			if (gsm_basic[i] == cp)
				found = 1;
		for (i = 0; i < (int)(sizeof(gsm_ext) / sizeof(gsm_ext[0])) &&
		    !found; i++)
			if (gsm_ext[i] == cp)
				found = 2;
		if (!found)
			return -1;
		n += found;
	}
	return n;
}

static void
setup(void)
{
	cfg = calloc(1, sizeof(*cfg));
	ck_assert_ptr_nonnull(cfg);
	cfg->survey.sender_name = strdup("HYVAKS");
	cfg->survey.statement_scale = 4;
	cfg->survey.answer_hours = 24;
	cfg->survey.reprompts = 1;
	cfg->survey.late_days = 7;
}

static void
teardown(void)
{
	int l, t;
	size_t i;

	free(cfg->survey.sender_name);
	for (l = 0; l < CONF_NLANG; l++)
		for (t = 0; t < CONF_TEXT_COUNT; t++)
			free(cfg->survey.texts[l][t]);
	for (i = 0; i < cfg->survey.nstatements; i++) {
		free(cfg->survey.statements[i].id);
		for (l = 0; l < CONF_NLANG; l++)
			free(cfg->survey.statements[i].text[l]);
	}
	free(cfg->survey.statements);
	free(cfg);
}

static void
set_sender(const char *s)
{
	free(cfg->survey.sender_name);
	cfg->survey.sender_name = strdup(s);
}

static char *
render(enum conf_lang l, enum conf_text t)
{
	return texts_render(cfg, l, t, sample_stmt[l], LINK);
}

START_TEST(test_counter_self)
{
	/* The counter must be able to fail, or the size tests are void. */
	ck_assert_int_eq(gsm7_septets(""), 0);
	ck_assert_int_eq(gsm7_septets("abc"), 3);
	ck_assert_int_eq(gsm7_septets("äöåÄÖÅé"), 7);
	ck_assert_int_eq(gsm7_septets("5 €"), 4);
	ck_assert_int_eq(gsm7_septets("{x}"), 5);
	ck_assert_int_eq(gsm7_septets("0\xe2\x80\x93" "10"), -1); /* en dash */
	ck_assert_int_eq(gsm7_septets("\xc5\xa1"), -1);	/* s caron */
	ck_assert_int_eq(gsm7_septets("\xf0\x9f\x98\x80"), -1); /* emoji */
}
END_TEST

START_TEST(test_all_render)
{
	int l, t;

	for (l = 0; l < CONF_NLANG; l++)
		for (t = 0; t < CONF_TEXT_COUNT; t++) {
			const char *b = texts_builtin(l, t);
			char *s;

			ck_assert_msg(b != NULL && *b != '\0',
			    "missing built-in %d/%d", l, t);
			ck_assert_msg(strncmp(b, "{sender}: ", 10) == 0,
			    "%d/%d does not start with {sender}", l, t);
			s = render(l, t);
			ck_assert_ptr_nonnull(s);
			ck_assert_msg(strncmp(s, "HYVAKS: ", 8) == 0,
			    "%d/%d: %s", l, t, s);
			ck_assert_msg(strchr(s, '{') == NULL &&
			    strchr(s, '}') == NULL, "%d/%d left a "
			    "placeholder: %s", l, t, s);
			free(s);
		}
	ck_assert_ptr_null(texts_builtin(CONF_NLANG, CONF_TEXT_THANKS));
	ck_assert_ptr_null(texts_builtin(CONF_LANG_FI, CONF_TEXT_COUNT));
	ck_assert_ptr_null(texts_render(cfg, CONF_LANG_FI, CONF_TEXT_COUNT,
	    NULL, NULL));
}
END_TEST

/*
 * Built-ins use only {sender} {scale} {statement} {link}, each only where
 * it belongs: nothing can name a unit, a service or a diagnosis.
 */
START_TEST(test_placeholders_allowed)
{
	int l, t;

	for (l = 0; l < CONF_NLANG; l++)
		for (t = 0; t < CONF_TEXT_COUNT; t++) {
			const char *p = texts_builtin(l, t);

			while ((p = strchr(p, '{')) != NULL) {
				int ok = strncmp(p, "{sender}", 8) == 0 ||
				    (t == CONF_TEXT_STATEMENT &&
				    (strncmp(p, "{statement}", 11) == 0 ||
				    strncmp(p, "{scale}", 7) == 0)) ||
				    (t == CONF_TEXT_LINK_INVITATION &&
				    strncmp(p, "{link}", 6) == 0);

				ck_assert_msg(ok, "%d/%d: bad placeholder "
				    "%.12s", l, t, p);
				p++;
			}
		}
}
END_TEST

static void
check_fit(const char *sender)
{
	int l, t, n;

	set_sender(sender);
	for (l = 0; l < CONF_NLANG; l++)
		for (t = 0; t < CONF_TEXT_COUNT; t++) {
			char *s = render(l, t);

			n = gsm7_septets(s);
			ck_assert_msg(n >= 0, "%d/%d not GSM 7-bit: %s", l, t,
			    s);
			ck_assert_msg(n <= 160, "%d/%d is %d septets: %s", l,
			    t, n, s);
			free(s);
		}
}

START_TEST(test_fit_one_sms)
{
	check_fit("HYVAKS");
}
END_TEST

START_TEST(test_fit_longest_sender)
{
	/* Traficom allows 11-character sender ids; conf caps it there. */
	check_fit("KESKISUOMI1");
}
END_TEST

START_TEST(test_invitation_content)
{
	int l;

	for (l = 0; l < CONF_NLANG; l++) {
		char *s = texts_render(cfg, l, CONF_TEXT_INVITATION, NULL,
		    NULL);

		ck_assert_msg(strstr(s, "0-10") != NULL, "%d: %s", l, s);
		ck_assert_msg(strstr(s, "10 =") != NULL, "%d: %s", l, s);
		ck_assert_msg(strstr(s, stop_words[l]) != NULL, "%d: %s", l,
		    s);
		ck_assert_msg(strcasestr(s, free_words[l]) != NULL, "%d: %s", l,
		    s);
		ck_assert_msg(strchr(s, '?') != NULL, "%d: no question", l);
		free(s);
	}
	/* Each language has its own keyword, not another's. */
	ck_assert_ptr_null(strstr(texts_builtin(CONF_LANG_FI,
	    CONF_TEXT_INVITATION), "STOP"));
	ck_assert_ptr_nonnull(strstr(texts_builtin(CONF_LANG_FI,
	    CONF_TEXT_INVITATION), "suosittelisit"));
}
END_TEST

START_TEST(test_reprompt_hint)
{
	int l;

	for (l = 0; l < CONF_NLANG; l++) {
		ck_assert_ptr_nonnull(strstr(texts_builtin(l,
		    CONF_TEXT_REPROMPT_INVALID), "0-10"));
		ck_assert_ptr_nonnull(strstr(texts_builtin(l,
		    CONF_TEXT_REPROMPT_SCORE), "0-10"));
		ck_assert_ptr_nonnull(strstr(texts_builtin(l,
		    CONF_TEXT_REPROMPT_INVALID), stop_words[l]));
	}
	ck_assert_ptr_nonnull(strstr(texts_builtin(CONF_LANG_FI,
	    CONF_TEXT_REPROMPT_INVALID), "Vastaa numerolla 0-10"));
}
END_TEST

START_TEST(test_followups_differ)
{
	int l;

	for (l = 0; l < CONF_NLANG; l++) {
		const char *d = texts_builtin(l, CONF_TEXT_FOLLOWUP_DETRACTOR);
		const char *p = texts_builtin(l, CONF_TEXT_FOLLOWUP_PASSIVE);
		const char *r = texts_builtin(l, CONF_TEXT_FOLLOWUP_PROMOTER);

		ck_assert_str_ne(d, p);
		ck_assert_str_ne(p, r);
		ck_assert_str_ne(d, r);
	}
	ck_assert_ptr_nonnull(strstr(texts_builtin(CONF_LANG_FI,
	    CONF_TEXT_FOLLOWUP_DETRACTOR), "paremmin"));
	ck_assert_ptr_nonnull(strstr(texts_builtin(CONF_LANG_FI,
	    CONF_TEXT_FOLLOWUP_PROMOTER), "onnistui"));
}
END_TEST

START_TEST(test_statement_render)
{
	char *s;

	cfg->survey.statement_scale = 5;
	s = texts_render(cfg, CONF_LANG_FI, CONF_TEXT_STATEMENT,
	    "Koin tulleeni kuulluksi.", NULL);
	ck_assert_str_eq(s, "HYVAKS: Koin tulleeni kuulluksi. Vastaa "
	    "numerolla 1-5 (1 = täysin eri mieltä, 5 = täysin samaa "
	    "mieltä).");
	free(s);
	/* NULL statement renders as empty, not "(null)". */
	s = texts_render(cfg, CONF_LANG_EN, CONF_TEXT_STATEMENT, NULL, NULL);
	ck_assert_ptr_null(strstr(s, "null"));
	ck_assert_str_eq(s, "HYVAKS:  Reply with a number 1-5 "
	    "(1 = strongly disagree, 5 = strongly agree).");
	free(s);
}
END_TEST

START_TEST(test_link_render)
{
	char *s = texts_render(cfg, CONF_LANG_SV, CONF_TEXT_LINK_INVITATION,
	    NULL, LINK);

	ck_assert_ptr_nonnull(strstr(s, " " LINK));
	ck_assert_int_eq(strncmp(s, "HYVAKS: ", 8), 0);
	free(s);
}
END_TEST

START_TEST(test_override_wins)
{
	char *s;

	cfg->survey.texts[CONF_LANG_SV][CONF_TEXT_THANKS] =
	    strdup("{sender}: Tack {x}! {scale}/{scale} {link}{statement}");
	s = texts_render(cfg, CONF_LANG_SV, CONF_TEXT_THANKS, "[S]", "L");
	ck_assert_str_eq(s, "HYVAKS: Tack {x}! 4/4 L[S]");
	free(s);
	ck_assert_str_eq(texts_template(cfg, CONF_LANG_SV, CONF_TEXT_THANKS),
	    "{sender}: Tack {x}! {scale}/{scale} {link}{statement}");
	/* Other languages and texts keep the built-in. */
	ck_assert_ptr_eq(texts_template(cfg, CONF_LANG_FI, CONF_TEXT_THANKS),
	    texts_builtin(CONF_LANG_FI, CONF_TEXT_THANKS));
	ck_assert_ptr_eq(texts_template(cfg, CONF_LANG_SV,
	    CONF_TEXT_INVITATION),
	    texts_builtin(CONF_LANG_SV, CONF_TEXT_INVITATION));
}
END_TEST

START_TEST(test_single_pass)
{
	char *s;

	/* A statement holding placeholder syntax is not expanded again. */
	s = texts_render(cfg, CONF_LANG_EN, CONF_TEXT_STATEMENT,
	    "Odd {link} {sender} {", "LINK");
	ck_assert_int_eq(strncmp(s, "HYVAKS: Odd {link} {sender} { Reply",
	    35), 0);
	free(s);
	/* Unterminated and unknown braces at the end are copied. */
	cfg->survey.texts[CONF_LANG_EN][CONF_TEXT_THANKS] =
	    strdup("{sender}{senderx}{");
	s = texts_render(cfg, CONF_LANG_EN, CONF_TEXT_THANKS, NULL, NULL);
	ck_assert_str_eq(s, "HYVAKS{senderx}{");
	free(s);
}
END_TEST

START_TEST(test_sender_name)
{
	char *s;

	s = texts_render(NULL, CONF_LANG_FI, CONF_TEXT_THANKS, NULL, NULL);
	ck_assert_int_eq(strncmp(s, ": Kiitos", 8), 0);
	free(s);

	set_sender("KSHVA");
	s = texts_render(cfg, CONF_LANG_EN, CONF_TEXT_OPTOUT_CONFIRM, NULL,
	    NULL);
	ck_assert_int_eq(strncmp(s, "KSHVA: ", 7), 0);
	ck_assert_ptr_null(strstr(s, "HYVAKS"));
	free(s);
}
END_TEST

START_TEST(test_statement_fallback)
{
	struct conf_statement *st;

	cfg->survey.statements = calloc(2, sizeof(*st));
	cfg->survey.nstatements = 2;
	st = cfg->survey.statements;
	st[0].id = strdup("S1");
	st[0].text[CONF_LANG_FI] = strdup("Koin tulleeni kuulluksi.");
	st[1].id = strdup("S2");
	st[1].text[CONF_LANG_FI] = strdup("Sain apua.");
	st[1].text[CONF_LANG_EN] = strdup("I got help.");

	ck_assert_str_eq(texts_statement(cfg, CONF_LANG_SV, 0),
	    "Koin tulleeni kuulluksi.");
	ck_assert_str_eq(texts_statement(cfg, CONF_LANG_SV, 1),
	    "I got help.");
	ck_assert_str_eq(texts_statement(cfg, CONF_LANG_FI, 1),
	    "Sain apua.");
	ck_assert_ptr_null(texts_statement(cfg, CONF_LANG_FI, 2));
}
END_TEST

static Suite *
texts_suite(void)
{
	Suite *s = suite_create("texts");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_counter_self);
	tcase_add_test(tc, test_all_render);
	tcase_add_test(tc, test_placeholders_allowed);
	tcase_add_test(tc, test_fit_one_sms);
	tcase_add_test(tc, test_fit_longest_sender);
	tcase_add_test(tc, test_invitation_content);
	tcase_add_test(tc, test_reprompt_hint);
	tcase_add_test(tc, test_followups_differ);
	tcase_add_test(tc, test_statement_render);
	tcase_add_test(tc, test_link_render);
	tcase_add_test(tc, test_override_wins);
	tcase_add_test(tc, test_single_pass);
	tcase_add_test(tc, test_sender_name);
	tcase_add_test(tc, test_statement_fallback);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(texts_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
