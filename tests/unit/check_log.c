/* check_log: module debug selection and PII redaction. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "smsgw/log.h"

static char last[4096];
static int last_prio = -1;
static int nlines;

static void
sink(int prio, const char *line, void *arg)
{
	(void)arg;
	last_prio = prio;
	snprintf(last, sizeof(last), "%s", line);
	nlines++;
}

static void
setup(void)
{
	log_fini();
	log_set_sink(sink, NULL);
	last[0] = '\0';
	last_prio = -1;
	nlines = 0;
}

static void
teardown(void)
{
	log_fini();
}

START_TEST(test_module_token_and_levels)
{
	log_info("modem", "m1 ready, signal %d dBm", -71);
	ck_assert_str_eq(last, "modem: m1 ready, signal -71 dBm");
	ck_assert_int_eq(last_prio, LOG_INFO);
	log_warnx("sms", "part %d failed", 2);
	ck_assert_int_eq(last_prio, LOG_WARNING);
	ck_assert_str_eq(last, "sms: part 2 failed");
}
END_TEST

START_TEST(test_debug_only_for_enabled_modules)
{
	log_debug("at", "hidden");
	ck_assert_int_eq(nlines, 0);
	ck_assert_int_eq(log_set_debug("at,modem"), 0);
	log_debug("at", "shown");
	ck_assert_int_eq(nlines, 1);
	log_debug("sms", "hidden");
	ck_assert_int_eq(nlines, 1);
	ck_assert(log_debug_enabled("modem"));
	ck_assert(!log_debug_enabled("store"));
}
END_TEST

START_TEST(test_unknown_debug_module_changes_nothing)
{
	ck_assert_int_eq(log_set_debug("at,bogus"), -1);
	ck_assert(!log_debug_enabled("at"));
	ck_assert_int_eq(log_set_debug("all"), 0);
	ck_assert(log_debug_enabled("sync"));
	ck_assert(log_debug_enabled("ctl"));
}
END_TEST

START_TEST(test_pii_redacted_unless_debug)
{
	char buf[64];
	const char *r;

	r = log_pii("sms", "phone", "+358401234567", buf, sizeof(buf));
	ck_assert_str_eq(r, "[phone]");
	r = log_pii("sms", "text", "9, kiitos!", buf, sizeof(buf));
	ck_assert_ptr_null(strstr(r, "kiitos"));
	ck_assert_str_eq(r, "[text 10 bytes]");
	log_info("sms", "reply from %s", log_pii("sms", "phone",
	    "+358401234567", buf, sizeof(buf)));
	ck_assert_ptr_null(strstr(last, "358"));
	ck_assert_int_eq(log_set_debug("sms"), 0);
	r = log_pii("sms", "phone", "+358401234567", buf, sizeof(buf));
	ck_assert_str_eq(r, "+358401234567");
	/* other modules stay redacted */
	r = log_pii("at", "phone", "+358401234567", buf, sizeof(buf));
	ck_assert_str_eq(r, "[phone]");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_module_token_and_levels);
	tcase_add_test(tc, test_debug_only_for_enabled_modules);
	tcase_add_test(tc, test_unknown_debug_module_changes_nothing);
	tcase_add_test(tc, test_pii_redacted_unless_debug);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
