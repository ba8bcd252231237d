/*
 * check_sched: send-time decisions (sched.h).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smsgw/sched.h"

/* UTC epoch of a local wall time with an explicit UTC offset in hours. */
static int64_t
at(int y, int mo, int d, int h, int mi, int off_h)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	return (int64_t)timegm(&tm) - (int64_t)off_h * 3600;
}

#define EET	2
#define EEST	3

/* Helsinki, 12:00-20:00, no delay, nothing skipped. */
static struct sched_rules
rules_hel(void)
{
	struct sched_rules r;

	memset(&r, 0, sizeof(r));
	strcpy(r.timezone, "Europe/Helsinki");
	r.window_start_min = 12 * 60;
	r.window_end_min = 20 * 60;
	return r;
}

static int64_t
next(const struct sched_rules *r, int64_t end, int64_t now, int want)
{
	int64_t out = -12345;

	ck_assert_int_eq(sched_next_send(r, end, now, &out), want);
	return out;
}

START_TEST(test_send_at_once)
{
	struct sched_rules r;
	int64_t end = at(2026, 11, 24, 3, 17, EET);

	memset(&r, 0, sizeof(r));
	strcpy(r.timezone, "Europe/Helsinki");
	r.window_start_min = 0;
	r.window_end_min = 1440;
	r.stale_hours = 72;
	/* now equal, later, earlier than the visit end */
	ck_assert_int_eq(next(&r, end, end, SCHED_OK), end);
	ck_assert_int_eq(next(&r, end, end + 37, SCHED_OK), end + 37);
	ck_assert_int_eq(next(&r, end + 5, end, SCHED_OK), end + 5);
	/* a sunday, a holiday and a DST change: still at once */
	end = at(2026, 3, 29, 3, 30, EEST);
	ck_assert_int_eq(next(&r, end, end + 1, SCHED_OK), end + 1);
	end = at(2026, 12, 25, 23, 59, EET);
	ck_assert_int_eq(next(&r, end, end, SCHED_OK), end);
	/* timezone not needed for this rule */
	r.timezone[0] = '\0';
	ck_assert_int_eq(next(&r, end, end + 2, SCHED_OK), end + 2);
	/* but the delay is honoured */
	r.delay_minutes = 10;
	ck_assert_int_eq(next(&r, end, end, SCHED_OK), end + 600);
}
END_TEST

START_TEST(test_parse_window)
{
	int s = -7, e = -7;

	ck_assert(sched_parse_window("12:00-20:00", &s, &e));
	ck_assert_int_eq(s, 720);
	ck_assert_int_eq(e, 1200);
	ck_assert(sched_parse_window("00:00-24:00", &s, &e));
	ck_assert_int_eq(s, 0);
	ck_assert_int_eq(e, 1440);
	ck_assert(sched_parse_window("08:30-08:31", &s, &e));
	ck_assert_int_eq(s, 510);
	ck_assert_int_eq(e, 511);

	s = e = -7;
	ck_assert(!sched_parse_window("20:00-12:00", &s, &e));
	ck_assert(!sched_parse_window("12:00-12:00", &s, &e));
	ck_assert(!sched_parse_window("12:00-24:01", &s, &e));
	ck_assert(!sched_parse_window("24:00-24:00", &s, &e));
	ck_assert(!sched_parse_window("12:60-20:00", &s, &e));
	ck_assert(!sched_parse_window("25:00-26:00", &s, &e));
	ck_assert(!sched_parse_window("9:00-20:00", &s, &e));
	ck_assert(!sched_parse_window("12:00-20:00 ", &s, &e));
	ck_assert(!sched_parse_window("12:00 20:00", &s, &e));
	ck_assert(!sched_parse_window("1a:00-20:00", &s, &e));
	ck_assert(!sched_parse_window("", &s, &e));
	ck_assert(!sched_parse_window(NULL, &s, &e));
	/* out-params untouched on failure */
	ck_assert_int_eq(s, -7);
	ck_assert_int_eq(e, -7);
}
END_TEST

START_TEST(test_parse_weekday)
{
	ck_assert_int_eq(sched_parse_weekday("sun"), 0);
	ck_assert_int_eq(sched_parse_weekday("Mon"), 1);
	ck_assert_int_eq(sched_parse_weekday("SAT"), 6);
	ck_assert_int_eq(sched_parse_weekday("wednesday"), 3);
	ck_assert_int_eq(sched_parse_weekday("Friday"), 5);
	ck_assert_int_eq(sched_parse_weekday("su"), -1);
	ck_assert_int_eq(sched_parse_weekday("sunny"), -1);
	ck_assert_int_eq(sched_parse_weekday(""), -1);
	ck_assert_int_eq(sched_parse_weekday(NULL), -1);
}
END_TEST

START_TEST(test_window_edges)
{
	struct sched_rules r = rules_hel();
	int64_t v;

	/* tuesday 24.11.2026, EET */
	v = at(2026, 11, 24, 19, 59, EET);
	ck_assert_int_eq(next(&r, v, v, SCHED_OK), v);
	v = at(2026, 11, 24, 20, 0, EET);
	ck_assert_int_eq(next(&r, v, v, SCHED_OK),
	    at(2026, 11, 25, 12, 0, EET));
	v = at(2026, 11, 24, 12, 0, EET);
	ck_assert_int_eq(next(&r, v, v, SCHED_OK), v);
	v = at(2026, 11, 24, 12, 0, EET) - 1;
	ck_assert_int_eq(next(&r, v, v, SCHED_OK), v + 1);
	v = at(2026, 11, 24, 20, 0, EET) - 1;
	ck_assert_int_eq(next(&r, v, v, SCHED_OK), v);
	/* early morning: same day at 12:00 */
	v = at(2026, 11, 24, 0, 5, EET);
	ck_assert_int_eq(next(&r, v, v, SCHED_OK),
	    at(2026, 11, 24, 12, 0, EET));
	/* now later than the visit decides */
	v = at(2026, 11, 24, 10, 0, EET);
	ck_assert_int_eq(next(&r, v, at(2026, 11, 24, 21, 0, EET), SCHED_OK),
	    at(2026, 11, 25, 12, 0, EET));
}
END_TEST

START_TEST(test_delay_midnight)
{
	struct sched_rules r = rules_hel();
	int64_t v;

	r.delay_minutes = 1080;
	/* 22:00 + 18 h = 16:00 next day, inside the window */
	v = at(2026, 11, 24, 22, 0, EET);
	ck_assert_int_eq(next(&r, v, v, SCHED_OK),
	    at(2026, 11, 25, 16, 0, EET));
	/* 10:15 + 18 h = 04:15 next day -> 12:00 */
	v = at(2026, 11, 24, 10, 15, EET);
	ck_assert_int_eq(next(&r, v, v, SCHED_OK),
	    at(2026, 11, 25, 12, 0, EET));
	/* 23:30 + 1 h crosses midnight -> 12:00 that day */
	r.delay_minutes = 60;
	v = at(2026, 11, 24, 23, 30, EET);
	ck_assert_int_eq(next(&r, v, v, SCHED_OK),
	    at(2026, 11, 25, 12, 0, EET));
	/* 02:30 + 18 h = 20:30 -> next day */
	r.delay_minutes = 1080;
	v = at(2026, 11, 24, 2, 30, EET);
	ck_assert_int_eq(next(&r, v, v, SCHED_OK),
	    at(2026, 11, 25, 12, 0, EET));
}
END_TEST

START_TEST(test_dst_spring)
{
	struct sched_rules r = rules_hel();
	int64_t v;

	/* sunday 29.3.2026: 03:00 EET -> 04:00 EEST (01:00 UTC) */
	v = at(2026, 3, 28, 20, 30, EET);
	ck_assert_int_eq(next(&r, v, v, SCHED_OK),
	    at(2026, 3, 29, 12, 0, EEST));
	/* the delay is real elapsed time: 18:00 EET + 18 h = 13:00 EEST */
	r.delay_minutes = 1080;
	v = at(2026, 3, 28, 18, 0, EET);
	ck_assert_int_eq(next(&r, v, v, SCHED_OK), v + 18 * 3600);
	ck_assert_int_eq(v + 18 * 3600, at(2026, 3, 29, 13, 0, EEST));
	/* window end 20:00 is EEST on the day */
	r.delay_minutes = 0;
	v = at(2026, 3, 29, 19, 59, EEST);
	ck_assert_int_eq(next(&r, v, v, SCHED_OK), v);
	v = at(2026, 3, 29, 20, 0, EEST);
	ck_assert_int_eq(next(&r, v, v, SCHED_OK),
	    at(2026, 3, 30, 12, 0, EEST));
	/* a start in the gap (03:30 does not exist) -> end of gap */
	r.window_start_min = 3 * 60 + 30;
	v = at(2026, 3, 28, 21, 0, EET);
	ck_assert_int_eq(next(&r, v, v, SCHED_OK),
	    at(2026, 3, 29, 4, 0, EEST));
	ck_assert_int_eq(at(2026, 3, 29, 4, 0, EEST),
	    at(2026, 3, 29, 1, 0, 0));
}
END_TEST

START_TEST(test_dst_fall)
{
	struct sched_rules r = rules_hel();
	int64_t v;

	/* sunday 25.10.2026: 04:00 EEST -> 03:00 EET (01:00 UTC) */
	v = at(2026, 10, 24, 21, 0, EEST);
	ck_assert_int_eq(next(&r, v, v, SCHED_OK),
	    at(2026, 10, 25, 12, 0, EET));
	v = at(2026, 10, 25, 19, 59, EET);
	ck_assert_int_eq(next(&r, v, v, SCHED_OK), v);
	v = at(2026, 10, 25, 20, 0, EET);
	ck_assert_int_eq(next(&r, v, v, SCHED_OK),
	    at(2026, 10, 26, 12, 0, EET));
	/* an ambiguous start (03:30 happens twice): the first one */
	r.window_start_min = 3 * 60 + 30;
	v = at(2026, 10, 24, 22, 0, EEST);
	ck_assert_int_eq(next(&r, v, v, SCHED_OK),
	    at(2026, 10, 25, 3, 30, EEST));
	/* the second 03:30 is inside the window as well */
	v = at(2026, 10, 25, 3, 30, EET);
	ck_assert_int_eq(next(&r, v, v, SCHED_OK), v);
	/* window 00:00-04:00 ends after the repeated hour */
	r.window_start_min = 0;
	r.window_end_min = 4 * 60;
	v = at(2026, 10, 25, 3, 59, EET);
	ck_assert_int_eq(next(&r, v, v, SCHED_OK), v);
	v = at(2026, 10, 25, 4, 0, EET);
	ck_assert_int_eq(next(&r, v, v, SCHED_OK),
	    at(2026, 10, 26, 0, 0, EET));
}
END_TEST

START_TEST(test_skip_sunday)
{
	struct sched_rules r = rules_hel();
	int64_t v;

	r.skip_weekdays = SCHED_DAY_BIT(sched_parse_weekday("sun"));
	/* saturday 28.11.2026 evening -> monday */
	v = at(2026, 11, 28, 20, 30, EET);
	ck_assert_int_eq(next(&r, v, v, SCHED_OK),
	    at(2026, 11, 30, 12, 0, EET));
	/* sunday inside the window hours -> monday */
	v = at(2026, 11, 29, 14, 0, EET);
	ck_assert_int_eq(next(&r, v, v, SCHED_OK),
	    at(2026, 11, 30, 12, 0, EET));
	/* saturday inside the window: at once */
	v = at(2026, 11, 28, 14, 0, EET);
	ck_assert_int_eq(next(&r, v, v, SCHED_OK), v);
	/* an all-day window with a skipped sunday */
	r.window_start_min = 0;
	r.window_end_min = 1440;
	v = at(2026, 11, 29, 14, 0, EET);
	ck_assert_int_eq(next(&r, v, v, SCHED_OK),
	    at(2026, 11, 30, 0, 0, EET));
	/* all days skipped: no slot */
	r.skip_weekdays = SCHED_ALL_DAYS;
	ck_assert_int_eq(sched_next_send(&r, v, v, &v), SCHED_EINVAL);
}
END_TEST

START_TEST(test_easter)
{
	static const int tab[][3] = {
		{ 2026, 4, 5 }, { 2027, 3, 28 }, { 2024, 3, 31 },
		{ 2025, 4, 20 }, { 2019, 4, 21 }, { 2038, 4, 25 },
		{ 2285, 3, 22 }, { 1943, 4, 25 }, { 2000, 4, 23 },
		{ 2008, 3, 23 }, { 2011, 4, 24 },
	};
	size_t i;
	int m, d;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		sched_easter(tab[i][0], &m, &d);
		ck_assert_int_eq(m, tab[i][1]);
		ck_assert_int_eq(d, tab[i][2]);
	}
}
END_TEST

START_TEST(test_holidays)
{
	/* 2026: Easter 5.4 */
	ck_assert(!sched_is_fi_holiday(2026, 4, 2));
	ck_assert(sched_is_fi_holiday(2026, 4, 3));	/* Good Friday */
	ck_assert(!sched_is_fi_holiday(2026, 4, 4));
	ck_assert(sched_is_fi_holiday(2026, 4, 5));
	ck_assert(sched_is_fi_holiday(2026, 4, 6));	/* Easter Monday */
	ck_assert(!sched_is_fi_holiday(2026, 4, 7));
	ck_assert(sched_is_fi_holiday(2026, 5, 14));	/* Ascension */
	ck_assert(!sched_is_fi_holiday(2026, 5, 15));
	ck_assert(sched_is_fi_holiday(2026, 5, 24));	/* Pentecost */
	ck_assert(!sched_is_fi_holiday(2026, 5, 25));
	/* 2027: Easter 28.3 */
	ck_assert(sched_is_fi_holiday(2027, 3, 26));
	ck_assert(sched_is_fi_holiday(2027, 3, 28));
	ck_assert(sched_is_fi_holiday(2027, 3, 29));
	ck_assert(!sched_is_fi_holiday(2027, 4, 5));
	ck_assert(sched_is_fi_holiday(2027, 5, 6));	/* Ascension */
	ck_assert(!sched_is_fi_holiday(2027, 5, 14));
	/* Midsummer 2026: eve 19.6, day 20.6 */
	ck_assert(!sched_is_fi_holiday(2026, 6, 18));
	ck_assert(sched_is_fi_holiday(2026, 6, 19));
	ck_assert(sched_is_fi_holiday(2026, 6, 20));
	ck_assert(!sched_is_fi_holiday(2026, 6, 21));
	/* Midsummer 2027: eve 25.6, day 26.6 */
	ck_assert(!sched_is_fi_holiday(2027, 6, 19));
	ck_assert(sched_is_fi_holiday(2027, 6, 25));
	ck_assert(sched_is_fi_holiday(2027, 6, 26));
	/* All Saints: 2026 on 31.10, 2027 on 6.11 */
	ck_assert(sched_is_fi_holiday(2026, 10, 31));
	ck_assert(!sched_is_fi_holiday(2026, 11, 1));
	ck_assert(!sched_is_fi_holiday(2027, 10, 31));
	ck_assert(sched_is_fi_holiday(2027, 11, 6));
	ck_assert(!sched_is_fi_holiday(2027, 11, 13));
	/* fixed dates */
	ck_assert(sched_is_fi_holiday(2026, 1, 1));
	ck_assert(sched_is_fi_holiday(2026, 1, 6));
	ck_assert(sched_is_fi_holiday(2026, 5, 1));
	ck_assert(sched_is_fi_holiday(2026, 12, 6));
	ck_assert(sched_is_fi_holiday(2026, 12, 24));
	ck_assert(sched_is_fi_holiday(2026, 12, 25));
	ck_assert(sched_is_fi_holiday(2026, 12, 26));
	ck_assert(!sched_is_fi_holiday(2026, 12, 27));
	ck_assert(!sched_is_fi_holiday(2026, 12, 31));
	ck_assert(!sched_is_fi_holiday(2026, 11, 24));
	/* nonsense dates */
	ck_assert(!sched_is_fi_holiday(2026, 2, 30));
	ck_assert(!sched_is_fi_holiday(2026, 13, 1));
}
END_TEST

START_TEST(test_holiday_schedule)
{
	struct sched_rules r = rules_hel();
	int64_t v;

	r.public_holidays = true;
	r.skip_weekdays = SCHED_DAY_BIT(0);
	/* thursday before Easter -> Good Friday off -> saturday */
	v = at(2026, 4, 2, 20, 30, EEST);
	ck_assert_int_eq(next(&r, v, v, SCHED_OK),
	    at(2026, 4, 4, 12, 0, EEST));
	/* Easter saturday evening -> sunday, Easter monday off -> tuesday */
	v = at(2026, 4, 4, 20, 30, EEST);
	ck_assert_int_eq(next(&r, v, v, SCHED_OK),
	    at(2026, 4, 7, 12, 0, EEST));
	/* Christmas: 24-26 off, 27.12 sunday -> monday 28.12 */
	v = at(2026, 12, 23, 21, 0, EET);
	ck_assert_int_eq(next(&r, v, v, SCHED_OK),
	    at(2026, 12, 28, 12, 0, EET));
	/* Midsummer: 19 and 20 off, 21 sunday -> monday 22.6 */
	v = at(2026, 6, 18, 20, 0, EEST);
	ck_assert_int_eq(next(&r, v, v, SCHED_OK),
	    at(2026, 6, 22, 12, 0, EEST));
	/* Ascension thursday 14.5.2026 -> friday */
	v = at(2026, 5, 13, 20, 0, EEST);
	ck_assert_int_eq(next(&r, v, v, SCHED_OK),
	    at(2026, 5, 15, 12, 0, EEST));
	/* All Saints saturday 31.10 and sunday -> monday 2.11 */
	v = at(2026, 10, 30, 20, 0, EET);
	ck_assert_int_eq(next(&r, v, v, SCHED_OK),
	    at(2026, 11, 2, 12, 0, EET));
	/* holidays off: Good Friday is a normal day */
	r.public_holidays = false;
	v = at(2026, 4, 2, 20, 30, EEST);
	ck_assert_int_eq(next(&r, v, v, SCHED_OK),
	    at(2026, 4, 3, 12, 0, EEST));
}
END_TEST

START_TEST(test_stale)
{
	struct sched_rules r = rules_hel();
	int64_t v;

	r.stale_hours = 72;
	r.public_holidays = true;
	r.skip_weekdays = SCHED_DAY_BIT(0);
	/* 23.12 12:00 -> 28.12 12:00 is 120 h: too late */
	v = at(2026, 12, 23, 12, 0, EET) - 1;
	ck_assert_int_eq(next(&r, v, at(2026, 12, 23, 21, 0, EET),
	    SCHED_STALE), at(2026, 12, 28, 12, 0, EET));
	/* exactly stale_hours is still fine, one second more is not */
	r.skip_weekdays = 0;
	r.public_holidays = false;
	v = at(2026, 11, 24, 13, 0, EET);
	ck_assert_int_eq(next(&r, v, v + 72 * 3600, SCHED_OK), v + 72 * 3600);
	ck_assert_int_eq(next(&r, v, v + 72 * 3600 + 1, SCHED_STALE),
	    v + 72 * 3600 + 1);
	/* a daemon that was down for days, even with send-at-once rules */
	r.window_start_min = 0;
	r.window_end_min = 1440;
	ck_assert_int_eq(next(&r, v, v + 100 * 3600, SCHED_STALE),
	    v + 100 * 3600);
	/* stale_hours 0 = never stale */
	r.stale_hours = 0;
	ck_assert_int_eq(next(&r, v, v + 1000 * 3600, SCHED_OK),
	    v + 1000 * 3600);
}
END_TEST

START_TEST(test_tz_restored)
{
	struct sched_rules r = rules_hel();
	int64_t v = at(2026, 11, 24, 22, 0, EET), out;
	time_t probe = 0;
	struct tm tm;

	setenv("TZ", "America/New_York", 1);
	tzset();
	ck_assert_int_eq(sched_next_send(&r, v, v, &out), SCHED_OK);
	ck_assert_int_eq(out, at(2026, 11, 25, 12, 0, EET));
	ck_assert_str_eq(getenv("TZ"), "America/New_York");
	localtime_r(&probe, &tm);
	ck_assert_int_eq(tm.tm_gmtoff, -5 * 3600);

	unsetenv("TZ");
	tzset();
	ck_assert_int_eq(sched_next_send(&r, v, v, &out), SCHED_OK);
	ck_assert_ptr_null(getenv("TZ"));
}
END_TEST

START_TEST(test_einval)
{
	struct sched_rules r = rules_hel();
	int64_t out = 77;

	r.window_start_min = 1200;
	r.window_end_min = 720;
	ck_assert_int_eq(sched_next_send(&r, 0, 0, &out), SCHED_EINVAL);
	r.window_start_min = 0;
	r.window_end_min = 1441;
	ck_assert_int_eq(sched_next_send(&r, 0, 0, &out), SCHED_EINVAL);
	ck_assert_int_eq(out, 77);
	ck_assert_int_eq(sched_next_send(NULL, 0, 0, &out), SCHED_EINVAL);
}
END_TEST

START_TEST(test_timezone_valid)
{
	ck_assert(sched_timezone_valid("Europe/Helsinki"));
	ck_assert(sched_timezone_valid("UTC"));
	ck_assert(!sched_timezone_valid("Europe/Nowhere"));
	ck_assert(!sched_timezone_valid("Europe"));	/* a directory */
	ck_assert(!sched_timezone_valid("../../etc/passwd"));
	ck_assert(!sched_timezone_valid("/etc/localtime"));
	ck_assert(!sched_timezone_valid("Europe/Helsinki "));
	ck_assert(!sched_timezone_valid(""));
	ck_assert(!sched_timezone_valid(NULL));
}
END_TEST

START_TEST(test_pace)
{
	ck_assert_int_eq(sched_pace(0, 5000, 1000), 0);
	ck_assert_int_eq(sched_pace(5000, 5000, 1000), 1000);
	ck_assert_int_eq(sched_pace(5000, 5400, 1000), 600);
	ck_assert_int_eq(sched_pace(5000, 6000, 1000), 0);
	ck_assert_int_eq(sched_pace(5000, 9000, 1000), 0);
	ck_assert_int_eq(sched_pace(5000, 5400, 0), 0);
	/* clock stepped back an hour: never wait more than the gap */
	ck_assert_int_eq(sched_pace(3605000, 5000, 1000), 1000);
}
END_TEST

static Suite *
sched_suite(void)
{
	Suite *s = suite_create("sched");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_send_at_once);
	tcase_add_test(tc, test_parse_window);
	tcase_add_test(tc, test_parse_weekday);
	tcase_add_test(tc, test_window_edges);
	tcase_add_test(tc, test_delay_midnight);
	tcase_add_test(tc, test_dst_spring);
	tcase_add_test(tc, test_dst_fall);
	tcase_add_test(tc, test_skip_sunday);
	tcase_add_test(tc, test_easter);
	tcase_add_test(tc, test_holidays);
	tcase_add_test(tc, test_holiday_schedule);
	tcase_add_test(tc, test_stale);
	tcase_add_test(tc, test_tz_restored);
	tcase_add_test(tc, test_einval);
	tcase_add_test(tc, test_timezone_valid);
	tcase_add_test(tc, test_pace);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(sched_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
