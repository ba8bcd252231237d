/* check_store: migration from an empty file, reopen, WAL, settings,
 * rates and counters survive a reopen. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smsgw/store.h"

static char dir[128], db[192];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_store.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/smsgwd.db", dir);
}

static void
teardown(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_migrate_from_empty_and_wal)
{
	char *err = NULL;
	struct store *st = store_open(db, &err);

	ck_assert_msg(st != NULL, "%s", err);
	ck_assert_int_eq(store_schema_version(st), STORE_SCHEMA_VERSION);
	ck_assert_str_eq(store_journal_mode(st), "wal");
	store_close(st);
	ck_assert_int_eq(access(db, F_OK), 0);
}
END_TEST

START_TEST(test_data_survives_reopen)
{
	char *err = NULL, *v;
	struct store *st = store_open(db, &err);
	double rate = 0;

	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(store_setting_set(st, "k", "v1"), 0);
	ck_assert_int_eq(store_setting_set(st, "k", "v2"), 0);
	ck_assert_int_eq(store_rate_set(st, "HAMMAS-JKL", 0.25, 100), 0);
	ck_assert_int_eq(store_counter_add(st, "dup", 2), 0);
	ck_assert_int_eq(store_counter_add(st, "dup", 3), 0);
	store_close(st);

	st = store_open(db, &err);
	ck_assert_ptr_nonnull(st);
	v = store_setting_get(st, "k");
	ck_assert_str_eq(v, "v2");
	free(v);
	ck_assert_ptr_null(store_setting_get(st, "absent"));
	ck_assert_int_eq(store_rate_get(st, "HAMMAS-JKL", &rate), 1);
	ck_assert_double_eq(rate, 0.25);
	ck_assert_int_eq(store_rate_get(st, "OTHER", &rate), 0);
	ck_assert_int_eq(store_rate_clear(st, "HAMMAS-JKL"), 0);
	ck_assert_int_eq(store_rate_get(st, "HAMMAS-JKL", &rate), 0);
	ck_assert_int_eq(store_counter_get(st, "dup"), 5);
	ck_assert_int_eq(store_counter_get(st, "none"), 0);
	store_close(st);
}
END_TEST

START_TEST(test_rollback_discards)
{
	char *err = NULL, *v;
	struct store *st = store_open(db, &err);

	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_setting_set(st, "t", "x"), 0);
	store_rollback(st);
	ck_assert_ptr_null(store_setting_get(st, "t"));
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_setting_set(st, "t", "y"), 0);
	ck_assert_int_eq(store_commit(st), 0);
	v = store_setting_get(st, "t");
	ck_assert_str_eq(v, "y");
	free(v);
	store_close(st);
}
END_TEST

START_TEST(test_newer_schema_refused)
{
	char *err = NULL, cmd[1024];
	struct store *st;

	snprintf(cmd, sizeof(cmd), "sqlite3 '%s' 'PRAGMA user_version=99' "
	    ">/dev/null 2>&1 || python3 -c \"import sqlite3;"
	    "c=sqlite3.connect('%s');c.execute('PRAGMA user_version=99')\"",
	    db, db);
	ck_assert_int_eq(system(cmd), 0);
	st = store_open(db, &err);
	ck_assert_ptr_null(st);
	ck_assert_ptr_nonnull(strstr(err, "newer"));
	free(err);
}
END_TEST

START_TEST(test_unopenable_path)
{
	char *err = NULL;
	struct store *st = store_open("/nonexistent/dir/x.db", &err);

	ck_assert_ptr_null(st);
	ck_assert_ptr_nonnull(err);
	free(err);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("store");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_migrate_from_empty_and_wal);
	tcase_add_test(tc, test_data_survives_reopen);
	tcase_add_test(tc, test_rollback_discards);
	tcase_add_test(tc, test_newer_schema_refused);
	tcase_add_test(tc, test_unopenable_path);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
