/*
 * Unit tests for report: render small JSON inputs into a memory stream and
 * check the HTML.  With REPORT_OUT=FILE in the environment, the
 * multi-unit fixture test also writes its page to FILE (used by
 * tests/integration/report_render.sh to screenshot it).
 */
#include <check.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smsgw/report.h"

/* 2026-11-02 and 2026-11-09 are Mondays. */
#define T_NOV02	1793577600LL
#define T_NOV09	(T_NOV02 + 7 * 86400)
#define T_NOV16	(T_NOV02 + 14 * 86400)

static json_object *
unit_obj(const char *unit, int inv, int del, int ans, int p, int pa, int d)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "unit", json_object_new_string(unit));
	json_object_object_add(o, "rate", json_object_new_double(0.5));
	json_object_object_add(o, "visits", json_object_new_int(inv * 4));
	json_object_object_add(o, "eligible", json_object_new_int(inv * 2));
	json_object_object_add(o, "sampled", json_object_new_int(inv));
	json_object_object_add(o, "invited", json_object_new_int(inv));
	json_object_object_add(o, "delivered", json_object_new_int(del));
	json_object_object_add(o, "answered", json_object_new_int(ans));
	json_object_object_add(o, "opted_out", json_object_new_int(0));
	json_object_object_add(o, "invalid", json_object_new_int(0));
	json_object_object_add(o, "promoters", json_object_new_int(p));
	json_object_object_add(o, "passives", json_object_new_int(pa));
	json_object_object_add(o, "detractors", json_object_new_int(d));
	json_object_object_add(o, "nps", NULL);
	return o;
}

static void
iso(long long t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_object *
rec_obj(const char *rid, int rev, const char *unit, long long answered,
    int score, const char *comment, const char *followup)
{
	json_object *o = json_object_new_object();
	char b[32], vid[64];

	json_object_object_add(o, "response_id", json_object_new_string(rid));
	json_object_object_add(o, "revision", json_object_new_int(rev));
	snprintf(vid, sizeof(vid), "V-SECRET-%s", rid);
	json_object_object_add(o, "visit_id", json_object_new_string(vid));
	json_object_object_add(o, "unit", json_object_new_string(unit));
	json_object_object_add(o, "lang", json_object_new_string("fi"));
	iso(answered - 3600, b, sizeof(b));
	json_object_object_add(o, "invited_at", json_object_new_string(b));
	if (score >= 0) {
		iso(answered, b, sizeof(b));
		json_object_object_add(o, "answered_at",
		    json_object_new_string(b));
		json_object_object_add(o, "status",
		    json_object_new_string("complete"));
		json_object_object_add(o, "kind",
		    json_object_new_string("score"));
		json_object_object_add(o, "score", json_object_new_int(score));
	} else {
		json_object_object_add(o, "answered_at", NULL);
		json_object_object_add(o, "status",
		    json_object_new_string("expired"));
		json_object_object_add(o, "kind", NULL);
		json_object_object_add(o, "score", NULL);
	}
	json_object_object_add(o, "comment", comment != NULL ?
	    json_object_new_string(comment) : NULL);
	json_object_object_add(o, "followup", followup != NULL ?
	    json_object_new_string(followup) : NULL);
	json_object_object_add(o, "statements", json_object_new_object());
	json_object_object_add(o, "late", json_object_new_array());
	return o;
}

/* Render; the caller frees the string. */
static char *
render(json_object *units, json_object *records, const char *unit,
    long long since)
{
	struct report_opts o;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	memset(&o, 0, sizeof(o));
	o.unit = unit;
	o.since = since;
	o.title = "Test <report>";
	o.now = T_NOV16 + 3600;
	f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(report_html(f, units, records, &o), 0);
	fclose(f);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(strlen(buf), len);
	return buf;
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* The points="..." attribute of the polyline for unit, copied. */
static char *
points_of(const char *html, const char *unit)
{
	char key[128];
	const char *p, *q;

	snprintf(key, sizeof(key), "class=\"nps-line\" data-unit=\"%s\"",
	    unit);
	p = strstr(html, key);
	if (p == NULL)
		return NULL;
	p = strstr(p, "points=\"");
	ck_assert_ptr_nonnull(p);
	p += 8;
	q = strchr(p, '"');
	ck_assert_ptr_nonnull(q);
	return strndup(p, (size_t)(q - p));
}

START_TEST(test_nps_math)
{
	json_object *u = json_object_new_array();
	double nps = -999;
	char *h;

	ck_assert(report_nps(3, 1, 1, &nps));
	ck_assert(nps > 39.999 && nps < 40.001);
	ck_assert(report_nps(0, 0, 2, &nps));
	ck_assert(nps < -99.999);
	ck_assert(report_nps(1, 2, 1, &nps));
	ck_assert(nps > -0.001 && nps < 0.001);
	nps = 7;
	ck_assert(!report_nps(0, 0, 0, &nps));
	ck_assert(!report_nps(-1, 0, 3, &nps));
	ck_assert(nps == 7);

	json_object_array_add(u, unit_obj("A", 10, 8, 5, 3, 1, 1));
	h = render(u, NULL, NULL, 0);
	ck_assert_ptr_nonnull(strstr(h, "id=\"nps-total\">+40<"));
	ck_assert_ptr_nonnull(strstr(h, "NPS +40 (n=5)"));
	/* Funnel rates: 8 of 10 delivered, 5 of 8 answered. */
	ck_assert_ptr_nonnull(strstr(h, "id=\"funnel\""));
	ck_assert_ptr_nonnull(strstr(h, ">8 <small>(80% of invited)"));
	ck_assert_ptr_nonnull(strstr(h, ">5 <small>(62% of delivered)"));
	free(h);
	json_object_put(u);
}
END_TEST

START_TEST(test_chart_points)
{
	json_object *r = json_object_new_array();
	char *h, *pts;

	/* Week of Nov 2: two promoters -> +100; week of Nov 9: 0 and 5 ->
	 * -100; week of Nov 16: 9, 8, 6, 10 -> +25 (8 is passive, 6 a
	 * detractor). */
	json_object_array_add(r, rec_obj("r1", 1, "A", T_NOV02 + 3600, 9,
	    NULL, NULL));
	json_object_array_add(r, rec_obj("r2", 1, "A", T_NOV02 + 6 * 86400,
	    10, NULL, NULL));
	json_object_array_add(r, rec_obj("r3", 1, "A", T_NOV09 + 60, 0, NULL,
	    NULL));
	json_object_array_add(r, rec_obj("r4", 1, "A", T_NOV09 + 120, 5, NULL,
	    NULL));
	json_object_array_add(r, rec_obj("r5", 1, "A", T_NOV16, 9, NULL,
	    NULL));
	json_object_array_add(r, rec_obj("r6", 1, "A", T_NOV16 + 1, 8, NULL,
	    NULL));
	json_object_array_add(r, rec_obj("r7", 1, "A", T_NOV16 + 2, 6, NULL,
	    NULL));
	json_object_array_add(r, rec_obj("r8", 1, "A", T_NOV16 + 3, 10, NULL,
	    NULL));
	/* Expired: no point. */
	json_object_array_add(r, rec_obj("r9", 1, "A", T_NOV16 + 4, -1, NULL,
	    NULL));
	h = render(NULL, r, NULL, 0);
	ck_assert_ptr_nonnull(strstr(h, "<svg id=\"nps-chart\""));
	ck_assert_uint_eq(count(h, "class=\"nps-line\""), 1);
	pts = points_of(h, "A");
	ck_assert_ptr_nonnull(pts);
	/* x spans 56..770 over three weeks, y maps +100..-100 to 16..322. */
	ck_assert_str_eq(pts, "56.0,16.0 413.0,322.0 770.0,130.8");
	free(pts);
	ck_assert_ptr_nonnull(strstr(h, ">2026-11-02</text>"));
	ck_assert_ptr_nonnull(strstr(h, "week of 2026-11-16: NPS +25 (n=4)"));
	/* Axis labels -100..+100. */
	ck_assert_ptr_nonnull(strstr(h, ">-100</text>"));
	ck_assert_ptr_nonnull(strstr(h, ">+100</text>"));
	ck_assert_ptr_nonnull(strstr(h, ">0</text>"));
	/* since = 0: the split shows the daemon's counters, absent here. */
	ck_assert_ptr_nonnull(strstr(h, "no scored answers"));
	free(h);
	json_object_put(r);
}
END_TEST

START_TEST(test_escaping)
{
	json_object *r = json_object_new_array();
	char *h;

	json_object_array_add(r, rec_obj("r1", 1, "A", T_NOV09, 2,
	    "<script>alert('x')</script> & \"quoted\"",
	    "bad\xff\xfe" "bytes\x01 ok <img src=x onerror=alert(1)>"));
	h = render(NULL, r, NULL, 0);
	ck_assert_ptr_null(strstr(h, "<script"));
	ck_assert_ptr_null(strstr(h, "<img"));
	ck_assert_ptr_nonnull(strstr(h, "&lt;script&gt;alert(&#39;x&#39;)"
	    "&lt;/script&gt; &amp; &quot;quoted&quot;"));
	ck_assert_ptr_nonnull(strstr(h,
	    "bad\xef\xbf\xbd\xef\xbf\xbd" "bytes\xef\xbf\xbd ok &lt;img"));
	/* The title is escaped too. */
	ck_assert_ptr_nonnull(strstr(h, "<title>Test &lt;report&gt;</title>"));
	ck_assert_ptr_null(strstr(h, "<report>"));
	/* No external resources of any kind. */
	ck_assert_ptr_null(strstr(h, "<link"));
	ck_assert_ptr_null(strstr(h, "src=\""));
	ck_assert_ptr_null(strstr(h, "href="));
	ck_assert_ptr_null(strstr(h, "http://ex"));
	free(h);
	json_object_put(r);
}
END_TEST

START_TEST(test_privacy)
{
	json_object *r = json_object_new_array();
	char *h;

	json_object_array_add(r, rec_obj("resp-77", 1, "A", T_NOV09, 9,
	    "soita +358 40 123 4567 tai a.b@example.fi", "Hyvä hoito"));
	h = render(NULL, r, NULL, 0);
	ck_assert_ptr_null(strstr(h, "V-SECRET"));
	ck_assert_ptr_null(strstr(h, "resp-77"));
	ck_assert_ptr_null(strstr(h, "4567"));
	ck_assert_ptr_null(strstr(h, "example.fi"));
	ck_assert_ptr_nonnull(strstr(h, "soita [phone] tai [email]"));
	ck_assert_ptr_nonnull(strstr(h, "Hyvä hoito"));
	free(h);
	json_object_put(r);
}
END_TEST

START_TEST(test_unit_filter)
{
	json_object *u = json_object_new_array();
	json_object *r = json_object_new_array();
	char *h, *pts;

	json_object_array_add(u, unit_obj("A", 4, 4, 2, 2, 0, 0));
	json_object_array_add(u, unit_obj("B", 4, 4, 2, 0, 0, 2));
	json_object_array_add(r, rec_obj("a1", 1, "A", T_NOV02, 10,
	    "alpha text", NULL));
	json_object_array_add(r, rec_obj("a2", 1, "A", T_NOV09, 9, NULL,
	    NULL));
	json_object_array_add(r, rec_obj("b1", 1, "B", T_NOV02, 1,
	    "beta text", NULL));
	json_object_array_add(r, rec_obj("b2", 1, "B", T_NOV09, 2, NULL,
	    NULL));

	h = render(u, r, NULL, 0);
	ck_assert_uint_eq(count(h, "class=\"nps-line\""), 2);
	ck_assert_ptr_nonnull(strstr(h, "alpha text"));
	ck_assert_ptr_nonnull(strstr(h, "beta text"));
	ck_assert_ptr_nonnull(strstr(h, "id=\"nps-total\">0<"));
	free(h);

	h = render(u, r, "B", 0);
	ck_assert_uint_eq(count(h, "class=\"nps-line\""), 1);
	pts = points_of(h, "B");
	ck_assert_ptr_nonnull(pts);
	ck_assert_str_eq(pts, "56.0,322.0 770.0,322.0");
	free(pts);
	ck_assert_ptr_null(points_of(h, "A"));
	ck_assert_ptr_null(strstr(h, "alpha text"));
	ck_assert_ptr_nonnull(strstr(h, "beta text"));
	ck_assert_ptr_null(strstr(h, "data-unit=\"A\""));
	ck_assert_ptr_null(strstr(h, "<td>A</td>"));
	ck_assert_ptr_nonnull(strstr(h, "id=\"nps-total\">-100<"));
	free(h);

	/* A unit nobody knows: an empty report, not an error. */
	h = render(u, r, "C", 0);
	ck_assert_ptr_nonnull(strstr(h, "No responses yet"));
	ck_assert_ptr_null(strstr(h, "<polyline"));
	free(h);
	json_object_put(u);
	json_object_put(r);
}
END_TEST

START_TEST(test_since_filter)
{
	json_object *u = json_object_new_array();
	json_object *r = json_object_new_array();
	int64_t since;
	char *h, *pts;

	/* Daemon counters say +100 overall; in the period it is -100. */
	json_object_array_add(u, unit_obj("A", 4, 4, 3, 3, 0, 0));
	json_object_array_add(r, rec_obj("old", 1, "A", T_NOV02 + 60, 10,
	    "old comment", NULL));
	json_object_array_add(r, rec_obj("new", 1, "A", T_NOV16 + 60, 3,
	    "new comment", NULL));
	ck_assert(report_parse_date("2026-11-09", &since));
	ck_assert_int_eq(since, T_NOV09);

	h = render(u, r, NULL, 0);
	ck_assert_ptr_nonnull(strstr(h, "old comment"));
	ck_assert_ptr_nonnull(strstr(h, "id=\"nps-total\">+100<"));
	free(h);

	h = render(u, r, NULL, since);
	ck_assert_ptr_null(strstr(h, "old comment"));
	ck_assert_ptr_nonnull(strstr(h, "new comment"));
	ck_assert_ptr_nonnull(strstr(h, "since 2026-11-09 00:00 UTC"));
	ck_assert_ptr_nonnull(strstr(h, "id=\"nps-total\">-100<"));
	pts = points_of(h, "A");
	ck_assert_ptr_nonnull(pts);
	ck_assert_str_eq(pts, "413.0,322.0");	/* one week: centred */
	free(pts);
	/* The funnel keeps the all-time counters. */
	ck_assert_ptr_nonnull(strstr(h, "id=\"funnel\""));
	free(h);
	json_object_put(u);
	json_object_put(r);
}
END_TEST

START_TEST(test_empty)
{
	json_object *u = json_object_new_array();
	json_object *r = json_object_new_array();
	char *h;

	h = render(NULL, NULL, NULL, 0);
	ck_assert_ptr_nonnull(strstr(h, "<!DOCTYPE html>"));
	ck_assert_ptr_nonnull(strstr(h, "No responses yet"));
	ck_assert_ptr_null(strstr(h, "<polyline"));
	ck_assert_ptr_null(strstr(h, "id=\"nps-chart\""));
	ck_assert_ptr_nonnull(strstr(h, "</html>\n"));
	free(h);

	/* Units known but nothing answered; junk entries are skipped. */
	json_object_array_add(u, unit_obj("A", 3, 0, 0, 0, 0, 0));
	json_object_array_add(u, json_object_new_string("junk"));
	json_object_array_add(r, json_object_new_int(5));
	json_object_array_add(r, json_object_new_object());
	h = render(u, r, NULL, 0);
	ck_assert_ptr_nonnull(strstr(h, "No responses yet"));
	ck_assert_ptr_nonnull(strstr(h, "No comments yet"));
	ck_assert_ptr_nonnull(strstr(h, "no scored answers"));
	ck_assert_ptr_nonnull(strstr(h, "<td>A</td>"));
	ck_assert_ptr_null(strstr(h, "<polyline"));
	free(h);
	json_object_put(u);
	json_object_put(r);
}
END_TEST

START_TEST(test_revisions_and_limit)
{
	json_object *r = json_object_new_array();
	char *h, rid[16], txt[32];
	const char *p1, *p2;
	int i;

	json_object_array_add(r, rec_obj("x", 1, "A", T_NOV02, 4,
	    "first revision", NULL));
	json_object_array_add(r, rec_obj("x", 2, "A", T_NOV02, 4,
	    "second revision", NULL));
	for (i = 0; i < 25; i++) {
		snprintf(rid, sizeof(rid), "c%02d", i);
		snprintf(txt, sizeof(txt), "note number %02d", i);
		json_object_array_add(r, rec_obj(rid, 1, "A",
		    T_NOV09 + i * 3600, 8, txt, NULL));
	}
	h = render(NULL, r, NULL, 0);
	ck_assert_uint_eq(count(h, "<tr class=\"comment\">"),
	    REPORT_COMMENTS_MAX);
	/* Newest first; the five oldest notes and the old record are out. */
	p1 = strstr(h, "note number 24");
	p2 = strstr(h, "note number 05");
	ck_assert_ptr_nonnull(p1);
	ck_assert_ptr_nonnull(p2);
	ck_assert(p1 < p2);
	ck_assert_ptr_null(strstr(h, "note number 04"));
	ck_assert_ptr_null(strstr(h, "revision"));
	free(h);

	/* With few comments the newest revision is the one shown. */
	json_object_put(r);
	r = json_object_new_array();
	json_object_array_add(r, rec_obj("x", 2, "A", T_NOV02, 4,
	    "second revision", NULL));
	json_object_array_add(r, rec_obj("x", 1, "A", T_NOV02, 4,
	    "first revision", NULL));
	h = render(NULL, r, NULL, 0);
	ck_assert_ptr_nonnull(strstr(h, "second revision"));
	ck_assert_ptr_null(strstr(h, "first revision"));
	ck_assert_uint_eq(count(h, "(n=1)"), 1);	/* counted once */
	free(h);
	json_object_put(r);
}
END_TEST

START_TEST(test_parse_date)
{
	int64_t t = 42;

	ck_assert(report_parse_date("1970-01-01", &t));
	ck_assert_int_eq(t, 0);
	ck_assert(report_parse_date("2026-11-24T10:15:00+02:00", &t));
	ck_assert_int_eq(t, 1795508100LL);
	ck_assert(report_parse_date("2026-11-24T08:15:00.123Z", &t));
	ck_assert_int_eq(t, 1795508100LL);
	ck_assert(report_parse_date("2024-02-29", &t));
	t = 42;
	ck_assert(!report_parse_date("2026-02-29", &t));
	ck_assert(!report_parse_date("2026-13-01", &t));
	ck_assert(!report_parse_date("2026-11-24T10:15:00", &t));
	ck_assert(!report_parse_date("2026-11-24T25:00:00Z", &t));
	ck_assert(!report_parse_date("2026-11-24x", &t));
	ck_assert(!report_parse_date("yesterday", &t));
	ck_assert(!report_parse_date("", &t));
	ck_assert(!report_parse_date(NULL, &t));
	ck_assert_int_eq(t, 42);
}
END_TEST

START_TEST(test_write_error)
{
	struct report_opts o;
	FILE *f = fopen("/dev/full", "w");

	if (f == NULL)
		return;	/* no /dev/full in this sandbox */
	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(report_html(f, NULL, NULL, &o), -1);
	fclose(f);
	ck_assert_int_eq(report_html(stdout, NULL, NULL, NULL), -1);
}
END_TEST

/* A realistic page: three units over ten weeks; REPORT_OUT keeps it. */
START_TEST(test_fixture_page)
{
	static const char *const units[] = { "HAMMAS-JKL", "LAB-KESKUS",
	    "NEUVOLA-2" };
	static const char *const notes[] = {
	    "Ystävällinen henkilökunta, kiitos!",
	    "Jonotus kesti liian kauan <45 min>",
	    "Lääkäri selitti asiat hyvin & rauhallisesti",
	    "Parkkipaikkoja ei ollut",
	    "Allt fungerade bra",
	};
	json_object *u = json_object_new_array();
	json_object *r = json_object_new_array();
	struct report_opts o;
	unsigned seed = 12345;
	char *h = NULL, rid[32];
	size_t len = 0;
	const char *path;
	FILE *f;
	int i, k, n = 0, p[3] = { 0 }, pa[3] = { 0 }, d[3] = { 0 };

	for (i = 0; i < 150; i++) {
		int64_t t;
		int score;

		k = i % 3;
		seed = seed * 1103515245u + 12345u;
		t = T_NOV16 - 9 * 7 * 86400 + (int64_t)((seed >> 8) %
		    (10u * 7 * 86400 - 3600));
		seed = seed * 1103515245u + 12345u;
		/* Unit 0 improves over time, unit 1 is steady, unit 2 low. */
		score = (int)((seed >> 16) % 11);
		if (k == 0 && t > T_NOV02 && score < 8)
			score += 3;
		if (k == 2 && score > 8)
			score -= 3;
		if (score >= 9)
			p[k]++;
		else if (score >= 7)
			pa[k]++;
		else
			d[k]++;
		snprintf(rid, sizeof(rid), "fx%03d", i);
		json_object_array_add(r, rec_obj(rid, 1, units[k], t, score,
		    i % 4 == 0 ? notes[i % 5] : NULL,
		    i % 8 == 0 ? "Enemmän aikoja iltaisin." : NULL));
		n++;
	}
	for (k = 0; k < 3; k++)
		json_object_array_add(u, unit_obj(units[k], 70, 66, n / 3,
		    p[k], pa[k], d[k]));
	memset(&o, 0, sizeof(o));
	o.title = "Hyvinvointialue: potilaskysely";
	o.now = T_NOV16 + 7 * 86400;
	f = open_memstream(&h, &len);
	ck_assert_int_eq(report_html(f, u, r, &o), 0);
	fclose(f);
	ck_assert_uint_eq(count(h, "class=\"nps-line\""), 3);
	ck_assert_uint_eq(count(h, "<tr class=\"comment\">"),
	    REPORT_COMMENTS_MAX);
	ck_assert_uint_eq(count(h, "class=\"split-row\""), 3);
	path = getenv("REPORT_OUT");
	if (path != NULL && path[0] != '\0') {
		f = fopen(path, "w");
		ck_assert_ptr_nonnull(f);
		ck_assert_uint_eq(fwrite(h, 1, len, f), len);
		ck_assert_int_eq(fclose(f), 0);
	}
	free(h);
	json_object_put(u);
	json_object_put(r);
}
END_TEST

static Suite *
report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_nps_math);
	tcase_add_test(tc, test_chart_points);
	tcase_add_test(tc, test_escaping);
	tcase_add_test(tc, test_privacy);
	tcase_add_test(tc, test_unit_filter);
	tcase_add_test(tc, test_since_filter);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_revisions_and_limit);
	tcase_add_test(tc, test_parse_date);
	tcase_add_test(tc, test_write_error);
	tcase_add_test(tc, test_fixture_page);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(report_suite());
	int nf;

	srunner_run_all(sr, CK_ENV);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
