/* check_conf: the sample config, defaults, and each kind of bad input
 * reported as FILE:LINE: message. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smsgw/conf.h"

static char path[256];

static const char *
srcdir(void)
{
	const char *s = getenv("SMSGW_SRCDIR");

	return s != NULL ? s : ".";
}

static void
write_conf(const char *text)
{
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/check_conf.%d.conf", (int)getpid());
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void
teardown(void)
{
	unlink(path);
}

/* Load, expecting failure; returns the first error (static copy). */
static const char *
first_error(const char *text)
{
	static char buf[1024];
	struct conf *c;
	char **errs = NULL;

	write_conf(text);
	c = conf_load(path, false, &errs);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(errs);
	ck_assert_ptr_nonnull(errs[0]);
	snprintf(buf, sizeof(buf), "%s", errs[0]);
	conf_errors_free(errs);
	return buf;
}

static void
assert_error(const char *text, int line, const char *needle)
{
	const char *e = first_error(text);
	char want[300];

	snprintf(want, sizeof(want), "%s:%d: ", path, line);
	ck_assert_msg(strncmp(e, want, strlen(want)) == 0,
	    "error '%s' does not start with '%s'", e, want);
	ck_assert_msg(strstr(e, needle) != NULL, "error '%s' lacks '%s'", e,
	    needle);
}

START_TEST(test_sample_config_is_valid)
{
	char p[512];
	struct conf *c;
	char **errs = NULL;

	snprintf(p, sizeof(p), "%s/etc/smsgwd.conf", srcdir());
	c = conf_load(p, false, &errs);
	ck_assert_msg(c != NULL, "%s", errs ? errs[0] : "?");
	ck_assert_uint_eq(c->nmodems, 1);
	ck_assert_str_eq(c->modems[0].name, "m1");
	ck_assert_int_eq(c->modems[0].baud, 115200);
	ck_assert_int_eq(c->send_attempts, 5);
	ck_assert_double_eq(conf_unit_rate(c, "HAMMAS-JKL"), 0.5);
	ck_assert_double_eq(conf_unit_rate(c, "OTHER"), 0.1);
	ck_assert_int_eq(c->schedule.window_start, 720);
	ck_assert_int_eq(c->schedule.window_end, 1200);
	ck_assert_uint_eq(c->schedule.skip_weekdays, 1);
	ck_assert_str_eq(c->smpp.source_addr, "HYVAKS");
	conf_free(c);
}
END_TEST

START_TEST(test_empty_file_gives_defaults)
{
	struct conf *c;
	char **errs = NULL;

	write_conf("# nothing\n");
	c = conf_load(path, false, &errs);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->state_dir, "/var/lib/smsgwd");
	ck_assert_str_eq(c->transport, "modem");
	ck_assert_int_eq(c->survey.answer_hours, 24);
	ck_assert_int_eq(c->privacy.retention_days, 90);
	ck_assert_int_eq(c->sampling.person_cap_days, 30);
	ck_assert(c->schedule.public_holidays);
	ck_assert_uint_eq(c->nmodems, 0);
	conf_free(c);
}
END_TEST

START_TEST(test_at_once_schedule_accepted)
{
	struct conf *c;
	char **errs = NULL;

	write_conf("schedule = { window = \"00:00-24:00\"; delay_minutes = 0;\n"
	    " skip_weekdays = []; public_holidays = false; };\n");
	c = conf_load(path, false, &errs);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->schedule.window_start, 0);
	ck_assert_int_eq(c->schedule.window_end, 1440);
	ck_assert_uint_eq(c->schedule.skip_weekdays, 0);
	conf_free(c);
}
END_TEST

START_TEST(test_unknown_key_has_file_and_line)
{
	assert_error("state_dir = \"/tmp/x\";\n\nbogus_key = 1;\n", 3,
	    "unknown key bogus_key");
	assert_error("survey = {\n  sender_name = \"X\";\n  colour = 1;\n};\n",
	    3, "unknown key survey.colour");
}
END_TEST

START_TEST(test_out_of_range_rate)
{
	assert_error("sampling = {\n default_rate = 1.5;\n};\n", 2,
	    "default_rate");
	assert_error("sampling = { units = (\n { unit = \"A\"; rate = -0.1; }"
	    "\n); };\n", 2, "out of range");
}
END_TEST

START_TEST(test_type_errors_and_syntax)
{
	assert_error("send_attempts = \"five\";\n", 1, "integer");
	assert_error("send_attempts = 0;\n", 1, "out of range");
	assert_error("x = ;\n", 1, "");
}
END_TEST

START_TEST(test_modems_validated)
{
	assert_error("modems = (\n { name = \"m1\"; device = \"/dev/a\"; },\n"
	    " { name = \"m1\"; device = \"/dev/b\"; }\n);\n", 3,
	    "duplicate modem name m1");
	assert_error("modems = ( { name = \"m1\";\n device = \"/dev/a\";\n"
	    " baud = 1234; } );\n", 3, "baud");
	assert_error("modems = ( { name = \"m1\"; device = \"/dev/a\";\n"
	    " pin = \"12a4\"; } );\n", 2, "pin");
	assert_error("modems = ( { name = \"m1\"; device = \"/dev/a\";\n"
	    " speed = 1; } );\n", 2, "unknown key modems.speed");
}
END_TEST

START_TEST(test_schedule_validated)
{
	assert_error("schedule = {\n window = \"20:00-12:00\";\n};\n", 2,
	    "window");
	assert_error("schedule = {\n timezone = \"Mars/Olympus\";\n};\n", 2,
	    "timezone");
	assert_error("schedule = {\n skip_weekdays = [ \"sun\", \"fun\" ];"
	    "\n};\n", 2, "fun");
}
END_TEST

START_TEST(test_texts_and_statements)
{
	struct conf *c;
	char **errs = NULL;

	write_conf("survey = { statements = ( { id = \"S1\"; fi = \"A\"; "
	    "en = \"B\"; } );\n texts = { sv = { thanks = \"Tack\"; }; }; };\n");
	c = conf_load(path, false, &errs);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->survey.nstatements, 1);
	ck_assert_str_eq(c->survey.statements[0].text[CONF_LANG_EN], "B");
	ck_assert_ptr_null(c->survey.statements[0].text[CONF_LANG_SV]);
	ck_assert_str_eq(c->survey.texts[CONF_LANG_SV][CONF_TEXT_THANKS],
	    "Tack");
	conf_free(c);
	assert_error("survey = { texts = { de = { thanks = \"Danke\"; }; }; };"
	    "\n", 1, "survey.texts.de");
	assert_error("survey = { texts = { fi = {\n hello = \"x\"; }; }; };\n",
	    2, "survey.texts.fi.hello");
}
END_TEST

START_TEST(test_reply_words)
{
	struct conf *c;
	char **errs = NULL;

	write_conf("replies = { cues = [ \"arvioni\" ];\n units = [ \"jaksoa\", "
	    "\"viikkoa\" ]; };\n");
	c = conf_load(path, false, &errs);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->words[CONF_WORDS_CUES][0], "arvioni");
	ck_assert_str_eq(c->words[CONF_WORDS_UNITS][1], "viikkoa");
	ck_assert_ptr_null(c->words[CONF_WORDS_UNITS][2]);
	ck_assert_ptr_null(c->words[CONF_WORDS_FILLERS]);
	conf_free(c);
	assert_error("replies = {\n colours = [ \"x\" ]; };\n", 2,
	    "unknown key replies.colours");
	assert_error("replies = {\n cues = [ 1 ]; };\n", 2, "replies.cues");
}
END_TEST

START_TEST(test_all_errors_reported)
{
	struct conf *c;
	char **errs = NULL;
	int n = 0;

	write_conf("a = 1;\nb = 2;\nsend_attempts = 0;\n");
	c = conf_load(path, false, &errs);
	ck_assert_ptr_null(c);
	while (errs[n] != NULL)
		n++;
	ck_assert_int_eq(n, 3);
	conf_errors_free(errs);
}
END_TEST

START_TEST(test_system_checks)
{
	struct conf *c;
	char **errs = NULL;

	write_conf("control_group = \"no-such-group-xyz\";\n"
	    "state_dir = \"/tmp\";\nspool_dir = \"/tmp/spool-x\";\n");
	c = conf_load(path, true, &errs);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(strstr(errs[0], "no-such-group-xyz"));
	conf_errors_free(errs);
	/* The same file passes when the host is not checked. */
	c = conf_load(path, false, &errs);
	ck_assert_ptr_nonnull(c);
	conf_free(c);
}
END_TEST

START_TEST(test_missing_file)
{
	struct conf *c;
	char **errs = NULL;

	c = conf_load("/nonexistent/smsgwd.conf", false, &errs);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(strstr(errs[0], "/nonexistent/smsgwd.conf:"));
	conf_errors_free(errs);
}
END_TEST

START_TEST(test_lang_parse)
{
	ck_assert_int_eq(conf_lang_parse("fi"), CONF_LANG_FI);
	ck_assert_int_eq(conf_lang_parse(NULL), CONF_LANG_FI);
	ck_assert_int_eq(conf_lang_parse("sv"), CONF_LANG_SV);
	ck_assert_int_eq(conf_lang_parse("de"), CONF_LANG_EN);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("conf");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_sample_config_is_valid);
	tcase_add_test(tc, test_empty_file_gives_defaults);
	tcase_add_test(tc, test_at_once_schedule_accepted);
	tcase_add_test(tc, test_unknown_key_has_file_and_line);
	tcase_add_test(tc, test_out_of_range_rate);
	tcase_add_test(tc, test_type_errors_and_syntax);
	tcase_add_test(tc, test_modems_validated);
	tcase_add_test(tc, test_schedule_validated);
	tcase_add_test(tc, test_texts_and_statements);
	tcase_add_test(tc, test_reply_words);
	tcase_add_test(tc, test_all_errors_reported);
	tcase_add_test(tc, test_system_checks);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_lang_parse);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
