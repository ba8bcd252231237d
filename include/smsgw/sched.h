/*
 * sched: when may an invitation be sent?  Pure decisions: "now" is always
 * passed in (epoch seconds, UTC) and nothing here reads the clock.
 *
 * Local time is evaluated in the configured IANA timezone (for example
 * "Europe/Helsinki"), DST-correct across both transitions.  Internally
 * sched_next_send() switches the process TZ with setenv()+tzset() around
 * its localtime_r() calls and restores the previous TZ value (or its
 * absence) before returning; the daemon is single-threaded, so this is not
 * observable by callers, but sched_next_send() must not race with other
 * threads using local time.
 */
#ifndef SMSGW_SCHED_H
#define SMSGW_SCHED_H

#include <stdbool.h>
#include <stdint.h>

/* Bits of sched_rules.skip_weekdays: 1u << tm_wday (sunday = 0). */
#define SCHED_DAY_BIT(wday)	(1u << (wday))
#define SCHED_ALL_DAYS		0x7fu

#define SCHED_TZ_MAX		64

/* Results of sched_next_send(). */
enum sched_status {
	SCHED_OK = 0,		/* *send_at_utc is the time to send */
	SCHED_STALE = 1,	/* *send_at_utc set, but too late to send */
	SCHED_EINVAL = -1	/* bad rules, or no allowed slot in a year */
};

/*
 * The schedule section of the config.  A plain value struct; the caller
 * owns it.  Window is [window_start_min, window_end_min) in local minutes
 * of the day, 0 <= start < end <= 1440 ("00:00-24:00" = 0..1440 = all day).
 */
struct sched_rules {
	char		 timezone[SCHED_TZ_MAX];	/* "Europe/Helsinki" */
	unsigned	 delay_minutes;	/* after the visit end */
	int		 window_start_min;
	int		 window_end_min;
	unsigned	 skip_weekdays;	/* SCHED_DAY_BIT(0=sun .. 6=sat) */
	bool		 public_holidays;	/* skip Finnish holidays */
	unsigned	 stale_hours;	/* 0 = never stale */
};

/*
 * Parse "HH:MM-HH:MM" (two digits each, 00:00 to 24:00, minutes 00-59,
 * 24 only as 24:00, start strictly before end, no spaces or trailing
 * text).  On success stores minutes of day and returns true; on failure
 * returns false and leaves the out-params untouched.
 */
bool	sched_parse_window(const char *s, int *start_min, int *end_min);

/*
 * "sun".."sat" or "sunday".."saturday", case-insensitive: 0 (sunday) to
 * 6 (saturday), as tm_wday.  -1 for anything else.
 */
int	sched_parse_weekday(const char *name);

/*
 * Is name a usable timezone, i.e. a TZif file under /usr/share/zoneinfo
 * (or $TZDIR)?  Rejects empty names, absolute paths, ".." components and
 * characters outside [A-Za-z0-9_+-/].  NOT pure: it opens the file; meant
 * for config validation (smsgwd -n, reload), not the hot path.
 */
bool	sched_timezone_valid(const char *tz);

/*
 * Is year-month-day (Gregorian, month 1-12) a Finnish public holiday (or
 * an eve on which offices are closed)?  New Year's Day, Epiphany, Good
 * Friday, Easter Sunday and Monday, May Day, Ascension Day, Pentecost,
 * Midsummer Eve (Friday 19-25 June) and Day (Saturday 20-26 June), All
 * Saints' Day (Saturday 31 Oct - 6 Nov), Independence Day, Christmas Eve,
 * Christmas Day and Boxing Day.  Computed, no network.
 */
bool	sched_is_fi_holiday(int year, int month, int day);

/* Gregorian Easter Sunday of year (>= 1583): month (3 or 4) and day. */
void	sched_easter(int year, int *month, int *day);

/*
 * When to send the invitation of a visit that ended at visit_end_utc.
 * Earliest = visit end + delay_minutes, or now when that is later; then
 * the first instant at or after it whose local time (in r->timezone) is
 * inside the window on a day that is not skipped (skip_weekdays, and
 * Finnish holidays when public_holidays).  A window start that falls into
 * a spring-forward gap moves to the end of the gap.
 *
 * With an all-day window, no skipped days and holidays off, the result is
 * exactly max(visit_end + delay, now) and the timezone is not consulted.
 *
 * Returns SCHED_OK, or SCHED_STALE when the result is more than
 * stale_hours after the visit end (stale_hours 0 disables this); in both
 * cases *send_at_utc is set.  SCHED_EINVAL (out-param untouched) when r is
 * malformed or no day in the next 400 is allowed.  The timezone is not
 * validated here: an unknown name silently behaves as UTC (glibc), so
 * validate it with sched_timezone_valid() when loading the config.
 */
int	sched_next_send(const struct sched_rules *r, int64_t visit_end_utc,
	    int64_t now_utc, int64_t *send_at_utc);

/*
 * Pacing between two sends on one line: how many milliseconds to wait
 * from now_ms before the next send so that sends are at least min_gap_ms
 * apart.  0 = send now.  last_send_ms 0 means nothing was sent yet.  If
 * the clock went backwards (now < last), the wait is capped at min_gap_ms
 * so a clock step cannot stall sending.
 */
int64_t	sched_pace(int64_t last_send_ms, int64_t now_ms, unsigned min_gap_ms);

#endif
