/*
 * report: a self-contained HTML survey report (issue #8).
 *
 * Intended CLI (wired in smsgwctl, not here; this module has no socket
 * code):
 *
 *   smsgwctl [-s SOCK | -f CONFIG] report --html FILE [--since DATE]
 *       [--unit UNIT]
 *
 * smsgwctl fetches `units` and `export` over the control socket, parses
 * DATE with report_parse_date(), writes FILE (or stdout for "-") with
 * report_html() and exits 0, 1 on a bad DATE or a write error, 2 when the
 * daemon cannot be reached.
 *
 * The page is one UTF-8 file with inline CSS and inline SVG only: no
 * scripts, fonts, images or links to fetch (a Content-Security-Policy
 * meta tag says so), so it can be mailed or archived as it is.  It holds:
 *
 *  - a summary: period, unit filter, responses with a score, overall NPS;
 *  - id="nps-chart": an SVG line chart of NPS (-100..100) per ISO week
 *    (Monday 00:00 UTC) of answered_at, one polyline per unit (class
 *    "nps-line", data-unit="UNIT"), one point per week with answers;
 *  - id="split": an SVG bar per unit with the promoter / passive /
 *    detractor shares and that unit's NPS;
 *  - id="funnel": a table per unit of visits, eligible, sampled, invited,
 *    delivered (% of invited), answered (% of delivered and of invited),
 *    opted out and invalid;
 *  - id="comments": the latest REPORT_COMMENTS_MAX records with a comment
 *    or follow-up (newest first): date, unit, score and the texts.
 *
 * Privacy: visit ids, response ids, phone numbers and statements never
 * appear; comment and follow-up texts are passed through redact_text()
 * again (they are redacted by the daemon already; this is defence in
 * depth, the file travels) and every piece of input text is HTML-escaped,
 * with invalid UTF-8 and control characters replaced by U+FFFD.
 */
#ifndef SMSGW_REPORT_H
#define SMSGW_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct json_object;

#define REPORT_COMMENTS_MAX	20

struct report_opts {
	/*
	 * Records whose answered_at (invited_at when not answered) is
	 * before this epoch second are left out; 0 = all.  The NPS chart,
	 * the split and the comments follow it.  The funnel always shows
	 * the daemon's all-time counters from `units` (they have no time
	 * axis); when since != 0 the split is counted from the records in
	 * the period instead of the units' counters.
	 */
	int64_t		 since;
	/* Only this unit (exact match), NULL = every unit. */
	const char	*unit;
	/* Page title (escaped), NULL = "Survey report". */
	const char	*title;
	/* "Generated" time shown on the page, epoch seconds (pure: passed
	 * in, never read from the clock here). */
	int64_t		 now;
};

/*
 * Write the report to out.
 *
 * units: the JSON array `smsgwctl --json units` prints, one object per
 * unit (unit, rate, visits, eligible, sampled, invited, delivered,
 * answered, opted_out, invalid, promoters, passives, detractors, nps;
 * missing counters are 0, nps is recomputed).  records: an array of
 * contract section 5 response records (what `smsgwctl --json export`
 * prints, one per line).  Either may be NULL (= empty); entries that are
 * not objects, and records without a unit, are skipped.  When a
 * response_id appears more than once, the highest revision counts.  Both
 * are borrowed and not modified.
 *
 * Returns 0, or -1 when writing to out failed (ferror) or opts is NULL.
 */
int	report_html(FILE *out, struct json_object *units,
	    struct json_object *records, const struct report_opts *opts);

/*
 * NPS of a split: 100 * (promoters - detractors) / total, in -100..100.
 * Returns false, *nps untouched, when the total is 0 (or a count is
 * negative).
 */
bool	report_nps(int64_t promoters, int64_t passives, int64_t detractors,
	    double *nps);

/*
 * Parse a --since argument: "YYYY-MM-DD" (00:00 UTC) or RFC 3339
 * ("2026-11-24T10:15:00+02:00", "...Z", fractions dropped).  Returns
 * false, *epoch untouched, when s is neither or the date does not exist.
 */
bool	report_parse_date(const char *s, int64_t *epoch);

#endif
