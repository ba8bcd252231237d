/*
 * sched: send-time decisions (see sched.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "smsgw/sched.h"
#include "smsgw/util.h"

#define DAY_S		86400
#define MAX_DAYS	400

static const char *const wday_short[7] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat"
};
static const char *const wday_long[7] = {
	"sunday", "monday", "tuesday", "wednesday", "thursday", "friday",
	"saturday"
};

static bool
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Day of the year, 1-based. */
static int
day_of_year(int y, int m, int d)
{
	int i, n = d;

	for (i = 1; i < m; i++)
		n += util_month_days(y, i);
	return n;
}

/* Day of week, 0 = sunday (Zeller-like count from a known sunday). */
static int
weekday(int y, int m, int d)
{
	int64_t days = 0;
	int yy;

	/* 1 January 2000 was a saturday (6). */
	if (y >= 2000) {
		for (yy = 2000; yy < y; yy++)
			days += is_leap(yy) ? 366 : 365;
	} else {
		for (yy = y; yy < 2000; yy++)
			days -= is_leap(yy) ? 366 : 365;
	}
	days += day_of_year(y, m, d) - 1;
	return (int)(((days + 6) % 7 + 7) % 7);
}

void
sched_easter(int year, int *month, int *day)
{
	int golden, century, yc, skipped, corr, epact, cdays, ydays;
	int dow, lunar_fix, n;

	/* Anonymous Gregorian computus, written out step by step. */
	golden = year % 19;			/* place in Metonic cycle */
	century = year / 100;
	yc = year % 100;
	skipped = century / 4;			/* leap centuries */
	corr = (century + 8) / 25;		/* lunar correction */
	epact = (19 * golden + century - skipped - (century - corr + 1) / 3
	    + 15) % 30;
	cdays = century % 4;
	ydays = yc / 4;
	dow = (32 + 2 * cdays + 2 * ydays - epact - yc % 4) % 7;
	lunar_fix = (golden + 11 * epact + 22 * dow) / 451;
	n = epact + dow - 7 * lunar_fix + 114;
	*month = n / 31;
	*day = n % 31 + 1;
}

bool
sched_is_fi_holiday(int year, int month, int day)
{
	int em, ed, easter, doy, wd;

	if (month < 1 || month > 12 || day < 1 ||
	    day > util_month_days(year, month))
		return false;

	switch (month * 100 + day) {
	case 101:	/* uudenvuodenpäivä */
	case 106:	/* loppiainen */
	case 501:	/* vappu */
	case 1206:	/* itsenäisyyspäivä */
	case 1224:	/* jouluaatto */
	case 1225:	/* joulupäivä */
	case 1226:	/* tapaninpäivä */
		return true;
	default:
		break;
	}

	wd = weekday(year, month, day);
	/* juhannusaatto: friday 19-25 June; juhannuspäivä: saturday 20-26 */
	if (month == 6 && wd == 5 && day >= 19 && day <= 25)
		return true;
	if (month == 6 && wd == 6 && day >= 20 && day <= 26)
		return true;
	/* pyhäinpäivä: saturday 31 October - 6 November */
	if (wd == 6 && ((month == 10 && day == 31) ||
	    (month == 11 && day <= 6)))
		return true;

	if (year < 1583)
		return false;
	sched_easter(year, &em, &ed);
	easter = day_of_year(year, em, ed);
	doy = day_of_year(year, month, day);
	switch (doy - easter) {
	case -2:	/* pitkäperjantai */
	case 0:		/* pääsiäispäivä */
	case 1:		/* 2. pääsiäispäivä */
	case 39:	/* helatorstai */
	case 49:	/* helluntaipäivä */
		return true;
	default:
		return false;
	}
}

bool
sched_parse_window(const char *s, int *start_min, int *end_min)
{
	int v[4], i;
	const char *p = s;

	if (s == NULL || strlen(s) != 11 || s[2] != ':' || s[5] != '-' ||
	    s[8] != ':')
		return false;
	for (i = 0; i < 4; i++, p += 3) {
		if (!isdigit((unsigned char)p[0]) ||
		    !isdigit((unsigned char)p[1]))
			return false;
		v[i] = (p[0] - '0') * 10 + (p[1] - '0');
	}
	if (v[0] > 24 || v[2] > 24 || v[1] > 59 || v[3] > 59)
		return false;
	if ((v[0] == 24 && v[1] != 0) || (v[2] == 24 && v[3] != 0))
		return false;
	if (v[0] * 60 + v[1] >= v[2] * 60 + v[3])
		return false;
	*start_min = v[0] * 60 + v[1];
	*end_min = v[2] * 60 + v[3];
	return true;
}

int
sched_parse_weekday(const char *name)
{
	int i;

	if (name == NULL)
		return -1;
	for (i = 0; i < 7; i++)
		if (strcasecmp(name, wday_short[i]) == 0 ||
		    strcasecmp(name, wday_long[i]) == 0)
			return i;
	return -1;
}

bool
sched_timezone_valid(const char *tz)
{
	const char *dir, *p;
	char path[512], magic[4];
	FILE *fp;
	size_t n;
	int r;

	if (tz == NULL || *tz == '\0' || *tz == '/' ||
	    strlen(tz) >= SCHED_TZ_MAX)
		return false;
	for (p = tz; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("_+-/", *p) == NULL)
			return false;
	if (strstr(tz, "..") != NULL || strstr(tz, "//") != NULL)
		return false;
	if ((dir = getenv("TZDIR")) == NULL || *dir == '\0')
		dir = "/usr/share/zoneinfo";
	r = snprintf(path, sizeof(path), "%s/%s", dir, tz);
	if (r < 0 || (size_t)r >= sizeof(path))
		return false;
	if ((fp = fopen(path, "rb")) == NULL)
		return false;
	n = fread(magic, 1, sizeof(magic), fp);
	fclose(fp);
	return n == sizeof(magic) && memcmp(magic, "TZif", 4) == 0;
}

int64_t
sched_pace(int64_t last_send_ms, int64_t now_ms, unsigned min_gap_ms)
{
	int64_t due;

	if (last_send_ms <= 0 || min_gap_ms == 0)
		return 0;
	due = last_send_ms + (int64_t)min_gap_ms;
	if (now_ms >= due)
		return 0;
	if (now_ms < last_send_ms)
		return min_gap_ms;
	return due - now_ms;
}

/*
 * Local time handling.  The process TZ is switched for the duration of
 * one sched_next_send() call (see sched.h) and restored afterwards.
 */
struct tz_saved {
	char	*old;
	bool	 had;
};

static void
tz_enter(struct tz_saved *sv, const char *tz)
{
	const char *old = getenv("TZ");
	char buf[SCHED_TZ_MAX + 1];

	sv->had = old != NULL;
	sv->old = old != NULL ? xstrdup(old) : NULL;
	snprintf(buf, sizeof(buf), ":%s", tz);
	setenv("TZ", buf, 1);
	tzset();
}

static void
tz_leave(struct tz_saved *sv)
{
	if (sv->had)
		setenv("TZ", sv->old, 1);
	else
		unsetenv("TZ");
	tzset();
	free(sv->old);
	sv->old = NULL;
}

/* Local wall-clock seconds since the epoch (t + UTC offset). */
static int64_t
wall_of(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL)
		return t;
	return t + tm.tm_gmtoff;
}

static void
local_tm(int64_t t, struct tm *tm)
{
	time_t tt = (time_t)t;

	if (localtime_r(&tt, tm) == NULL) {
		/* out of range for the libc: treat as UTC */
		memset(tm, 0, sizeof(*tm));
		gmtime_r(&tt, tm);
	}
}

/* Wall-clock seconds of local y-m-d 00:00:00 (no timezone involved). */
static int64_t
wall_midnight(int y, int m, int d)
{
	int64_t days = 0;
	int yy;

	for (yy = 1970; yy < y; yy++)
		days += is_leap(yy) ? 366 : 365;
	for (yy = y; yy < 1970; yy++)
		days -= is_leap(yy) ? 366 : 365;
	days += day_of_year(y, m, d) - 1;
	return days * DAY_S;
}

/*
 * Earliest UTC instant whose local wall clock is at or after w.  When w
 * exists it is its first occurrence (fall-back: the summer-time one);
 * when w falls into a spring-forward gap it is the end of the gap.
 */
static int64_t
wall_to_utc(int64_t w)
{
	int64_t cand[3], lo, hi, mid, best = 0;
	bool found = false;
	int i;

	cand[0] = w - (wall_of(w - DAY_S) - (w - DAY_S));
	cand[1] = w - (wall_of(w) - w);
	cand[2] = w - (wall_of(w + DAY_S) - (w + DAY_S));
	for (i = 0; i < 3; i++) {
		if (wall_of(cand[i]) == w && (!found || cand[i] < best)) {
			best = cand[i];
			found = true;
		}
	}
	if (found)
		return best;

	/* In a gap: find the jump between the candidates. */
	lo = hi = cand[0];
	for (i = 1; i < 3; i++) {
		if (cand[i] < lo)
			lo = cand[i];
		if (cand[i] > hi)
			hi = cand[i];
	}
	if (wall_of(hi) < w)		/* cannot happen with sane zones */
		return hi + (w - wall_of(hi));
	if (wall_of(lo) >= w)
		return lo;
	/* invariant: wall(lo) < w <= wall(hi) */
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (wall_of(mid) >= w)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

static bool
day_allowed(const struct sched_rules *r, const struct tm *tm)
{
	if (r->skip_weekdays & SCHED_DAY_BIT(tm->tm_wday))
		return false;
	if (r->public_holidays && sched_is_fi_holiday(tm->tm_year + 1900,
	    tm->tm_mon + 1, tm->tm_mday))
		return false;
	return true;
}

/* Next calendar day after y-m-d. */
static void
next_day(int *y, int *m, int *d)
{
	if (++*d > util_month_days(*y, *m)) {
		*d = 1;
		if (++*m > 12) {
			*m = 1;
			++*y;
		}
	}
}

static bool
find_slot(const struct sched_rules *r, int64_t t, int64_t *out)
{
	struct tm tm;
	int64_t sod, start_s, end_s, w;
	int y, m, d, days = 0, guard = 0;

	start_s = (int64_t)r->window_start_min * 60;
	end_s = (int64_t)r->window_end_min * 60;
	while (days < MAX_DAYS && guard++ < 4 * MAX_DAYS) {
		local_tm(t, &tm);
		y = tm.tm_year + 1900;
		m = tm.tm_mon + 1;
		d = tm.tm_mday;
		if (day_allowed(r, &tm)) {
			sod = (int64_t)tm.tm_hour * 3600 + tm.tm_min * 60 +
			    tm.tm_sec;
			if (sod < start_s) {
				w = wall_midnight(y, m, d) + start_s;
				t = wall_to_utc(w);
				/*
				 * Re-evaluate: the start may have been in a
				 * gap and moved later.  Guard against zones
				 * where that does not move us forward.
				 */
				local_tm(t, &tm);
				if (tm.tm_year + 1900 == y &&
				    tm.tm_mon + 1 == m && tm.tm_mday == d) {
					sod = (int64_t)tm.tm_hour * 3600 +
					    tm.tm_min * 60 + tm.tm_sec;
					if (sod >= start_s && sod < end_s) {
						*out = t;
						return true;
					}
				}
			} else if (sod < end_s) {
				*out = t;
				return true;
			}
		}
		/* go to the start of the next local day */
		next_day(&y, &m, &d);
		t = wall_to_utc(wall_midnight(y, m, d));
		days++;
	}
	return false;
}

int
sched_next_send(const struct sched_rules *r, int64_t visit_end_utc,
    int64_t now_utc, int64_t *send_at_utc)
{
	struct tz_saved sv;
	int64_t t, at;
	bool ok;

	if (r == NULL || send_at_utc == NULL || r->window_start_min < 0 ||
	    r->window_end_min > 1440 ||
	    r->window_start_min >= r->window_end_min ||
	    (r->skip_weekdays & SCHED_ALL_DAYS) == SCHED_ALL_DAYS)
		return SCHED_EINVAL;

	t = visit_end_utc + (int64_t)r->delay_minutes * 60;
	if (now_utc > t)
		t = now_utc;

	if (r->window_start_min == 0 && r->window_end_min == 1440 &&
	    (r->skip_weekdays & SCHED_ALL_DAYS) == 0 && !r->public_holidays) {
		at = t;		/* "send at once": no timezone needed */
	} else {
		if (r->timezone[0] == '\0' ||
		    memchr(r->timezone, '\0', sizeof(r->timezone)) == NULL)
			return SCHED_EINVAL;
		tz_enter(&sv, r->timezone);
		ok = find_slot(r, t, &at);
		tz_leave(&sv);
		if (!ok)
			return SCHED_EINVAL;
	}

	*send_at_utc = at;
	if (r->stale_hours > 0 &&
	    at - visit_end_utc > (int64_t)r->stale_hours * 3600)
		return SCHED_STALE;
	return SCHED_OK;
}
