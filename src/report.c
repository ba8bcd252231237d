/* report: a self-contained HTML survey report; see report.h. */
#include "smsgw/report.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smsgw/redact.h"
#include "smsgw/util.h"

#define REP_WEEK		604800
#define REP_MONDAY0		345600	/* 1970-01-05T00:00:00Z, a Monday */
#define REP_WEEKS_MAX		260	/* chart at most the latest 5 years */

/* Chart geometry (SVG user units). */
#define REP_CW			960
#define REP_CH			380
#define REP_CL			56
#define REP_CR			(REP_CW - 190)
#define REP_CT			16
#define REP_CB			(REP_CH - 58)

/* Split bars. */
#define REP_SROW		30
#define REP_SLABEL		190
#define REP_SBAR		560

struct rep_rec {
	const char	*rid;		/* NULL when missing */
	int		 rev;
	const char	*unit;
	int64_t		 t;		/* answered_at, else invited_at, or 0 */
	int64_t		 answered;	/* 0 = not answered */
	int		 score;		/* 0..10, -1 = none */
	const char	*comment;	/* NULL or "" = none */
	const char	*followup;
};

struct rep_unit {
	const char	*name;
	json_object	*counters;	/* its `units` entry, NULL if none */
	int64_t		 split[3];	/* promoters, passives, detractors */
	size_t		 color;
};

struct rep {
	FILE			*out;
	const struct report_opts *opts;
	struct rep_rec		*recs;
	size_t			 nrecs;
	struct rep_unit		*units;
	size_t			 nunits;
	int64_t			 week0;	/* first charted week */
	size_t			 nweeks;
	int64_t			*weekly;	/* [unit][week][3] */
};

static const char *const rep_colors[] = {
	"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
	"#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
};
#define REP_NCOLORS	(sizeof(rep_colors) / sizeof(rep_colors[0]))
static const char *const rep_dashes[] = { "", "6 3", "2 3", "8 3 2 3" };
#define REP_NDASHES	(sizeof(rep_dashes) / sizeof(rep_dashes[0]))

/* ---- dates ------------------------------------------------------------ */

/* n decimal digits at *p; advances *p. */
static bool
rep_digits(const char **p, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return false;
		*v = *v * 10 + (c - '0');
	}
	*p += n;
	return true;
}

static bool
rep_parse_time(const char *s, bool date_ok, int64_t *epoch)
{
	const char *p = s;
	int y, mo, d, h, mi, sec, oh, om, sign;
	int64_t t;

	if (s == NULL || !rep_digits(&p, 4, &y) || *p++ != '-' ||
	    !rep_digits(&p, 2, &mo) || *p++ != '-' ||
	    !rep_digits(&p, 2, &d))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > util_month_days(y, mo))
		return false;
	t = util_days_from_civil(y, mo, d) * 86400;
	if (*p == '\0') {
		if (!date_ok)
			return false;
		*epoch = t;
		return true;
	}
	if (*p != 'T' && *p != 't' && *p != ' ')
		return false;
	p++;
	if (!rep_digits(&p, 2, &h) || *p++ != ':' ||
	    !rep_digits(&p, 2, &mi) || *p++ != ':' ||
	    !rep_digits(&p, 2, &sec))
		return false;
	if (h > 23 || mi > 59 || sec > 60)
		return false;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	t += h * 3600 + mi * 60 + sec;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '+' ? 1 : -1;
		if (!rep_digits(&p, 2, &oh) || *p++ != ':' ||
		    !rep_digits(&p, 2, &om) || oh > 23 || om > 59)
			return false;
		t -= sign * (oh * 3600 + om * 60);
	} else
		return false;
	if (*p != '\0')
		return false;
	*epoch = t;
	return true;
}

bool
report_parse_date(const char *s, int64_t *epoch)
{
	return rep_parse_time(s, true, epoch);
}

static void
rep_fmt_date(int64_t t, char *buf, size_t len, bool with_time)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL) {
		strlcpy_s(buf, "?", len);
		return;
	}
	strftime(buf, len, with_time ? "%Y-%m-%d %H:%M UTC" : "%Y-%m-%d",
	    &tm);
}

static int64_t
rep_week_of(int64_t t)
{
	int64_t r = (t - REP_MONDAY0) % REP_WEEK;

	if (r < 0)
		r += REP_WEEK;
	return t - r;
}

/* ---- NPS ---------------------------------------------------------------- */

bool
report_nps(int64_t promoters, int64_t passives, int64_t detractors,
    double *nps)
{
	int64_t n;

	if (promoters < 0 || passives < 0 || detractors < 0)
		return false;
	n = promoters + passives + detractors;
	if (n <= 0)
		return false;
	*nps = 100.0 * (double)(promoters - detractors) / (double)n;
	return true;
}

static long
rep_round(double v)
{
	return v >= 0 ? (long)(v + 0.5) : -(long)(-v + 0.5);
}

/* "+40", "-12", "0". */
static void
rep_fmt_nps(double v, char *buf, size_t len)
{
	long r = rep_round(v);

	snprintf(buf, len, r > 0 ? "+%ld" : "%ld", r);
}

static int
rep_score_class(int score)
{
	if (score >= 9)
		return 0;
	if (score >= 7)
		return 1;
	return 2;
}

/* ---- output helpers ----------------------------------------------------- */

/* Length of a valid UTF-8 sequence at p (at most n bytes), 0 if invalid. */
static size_t
rep_utf8_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * Text as HTML (element content or a quoted attribute value): &<>"' as
 * entities, invalid UTF-8 and control characters other than tab and
 * newline as U+FFFD.  NULL prints nothing.
 */
static void
rep_esc(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n, l;

	if (s == NULL)
		return;
	n = strlen(s);
	while (n > 0) {
		switch (*p) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		default:
			if ((*p < 0x20 && *p != '\t' && *p != '\n') ||
			    *p == 0x7f) {
				fputs("\xef\xbf\xbd", out);
				break;
			}
			l = rep_utf8_len(p, n);
			if (l == 0) {
				fputs("\xef\xbf\xbd", out);
				break;
			}
			fwrite(p, 1, l, out);
			p += l;
			n -= l;
			continue;
		}
		p++;
		n--;
	}
}

static const char *
rep_jstr(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int64_t
rep_jint(json_object *o, const char *key)
{
	json_object *v;
	int64_t r;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !(json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double)))
		return 0;
	r = json_object_get_int64(v);
	return r < 0 ? 0 : r;
}

static double
rep_jdouble(json_object *o, const char *key, bool *ok)
{
	json_object *v;

	*ok = false;
	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !(json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double)))
		return 0;
	*ok = true;
	return json_object_get_double(v);
}

/* ---- gathering ---------------------------------------------------------- */

static int
rep_rec_cmp_rid(const void *a, const void *b)
{
	const struct rep_rec *x = a, *y = b;
	int c;

	if (x->rid == NULL || y->rid == NULL)
		return (x->rid == NULL) - (y->rid == NULL);
	c = strcmp(x->rid, y->rid);
	if (c != 0)
		return c;
	return (x->rev < y->rev) - (x->rev > y->rev);	/* newest first */
}

/* Newest answer first; stable on response id for equal times. */
static int
rep_rec_cmp_time(const void *a, const void *b)
{
	const struct rep_rec *x = a, *y = b;

	if (x->t != y->t)
		return (x->t < y->t) - (x->t > y->t);
	if (x->rid != NULL && y->rid != NULL)
		return strcmp(x->rid, y->rid);
	return 0;
}

static bool
rep_unit_wanted(const struct rep *r, const char *unit)
{
	return r->opts->unit == NULL || strcmp(r->opts->unit, unit) == 0;
}

static void
rep_gather_records(struct rep *r, json_object *records)
{
	size_t i, n, k;

	if (records == NULL || !json_object_is_type(records, json_type_array))
		return;
	n = json_object_array_length(records);
	r->recs = xcalloc(n > 0 ? n : 1, sizeof(*r->recs));
	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(records, i), *v;
		struct rep_rec *x = &r->recs[r->nrecs];
		int64_t t;

		if (o == NULL || !json_object_is_type(o, json_type_object))
			continue;
		x->unit = rep_jstr(o, "unit");
		if (x->unit == NULL || x->unit[0] == '\0' ||
		    !rep_unit_wanted(r, x->unit))
			continue;
		x->rid = rep_jstr(o, "response_id");
		x->rev = (int)rep_jint(o, "revision");
		x->answered = 0;
		x->t = 0;
		if (rep_parse_time(rep_jstr(o, "answered_at"), false, &t))
			x->answered = x->t = t;
		else if (rep_parse_time(rep_jstr(o, "invited_at"), false, &t))
			x->t = t;
		if (r->opts->since != 0 && x->t < r->opts->since)
			continue;
		x->score = -1;
		if (json_object_object_get_ex(o, "score", &v) &&
		    json_object_is_type(v, json_type_int)) {
			int64_t sc = json_object_get_int64(v);

			if (sc >= 0 && sc <= 10)
				x->score = (int)sc;
		}
		x->comment = rep_jstr(o, "comment");
		x->followup = rep_jstr(o, "followup");
		r->nrecs++;
	}
	/* One record per response_id: the highest revision. */
	qsort(r->recs, r->nrecs, sizeof(*r->recs), rep_rec_cmp_rid);
	for (i = 0, k = 0; i < r->nrecs; i++) {
		if (k > 0 && r->recs[i].rid != NULL &&
		    r->recs[k - 1].rid != NULL &&
		    strcmp(r->recs[i].rid, r->recs[k - 1].rid) == 0)
			continue;
		r->recs[k++] = r->recs[i];
	}
	r->nrecs = k;
	qsort(r->recs, r->nrecs, sizeof(*r->recs), rep_rec_cmp_time);
}

static struct rep_unit *
rep_unit_get(struct rep *r, const char *name, size_t *cap)
{
	size_t i;

	for (i = 0; i < r->nunits; i++)
		if (strcmp(r->units[i].name, name) == 0)
			return &r->units[i];
	if (r->nunits == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		r->units = xrealloc(r->units, *cap * sizeof(*r->units));
	}
	memset(&r->units[r->nunits], 0, sizeof(r->units[0]));
	r->units[r->nunits].name = name;
	return &r->units[r->nunits++];
}

static int
rep_unit_cmp(const void *a, const void *b)
{
	const struct rep_unit *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static void
rep_gather_units(struct rep *r, json_object *units)
{
	size_t i, n, cap = 0;
	struct rep_unit *u;

	if (units != NULL && json_object_is_type(units, json_type_array)) {
		n = json_object_array_length(units);
		for (i = 0; i < n; i++) {
			json_object *o = json_object_array_get_idx(units, i);
			const char *name;

			if (o == NULL ||
			    !json_object_is_type(o, json_type_object))
				continue;
			name = rep_jstr(o, "unit");
			if (name == NULL || name[0] == '\0' ||
			    !rep_unit_wanted(r, name))
				continue;
			u = rep_unit_get(r, name, &cap);
			if (u->counters == NULL)
				u->counters = o;
		}
	}
	for (i = 0; i < r->nrecs; i++)
		(void)rep_unit_get(r, r->recs[i].unit, &cap);
	if (r->nunits > 1)
		qsort(r->units, r->nunits, sizeof(*r->units), rep_unit_cmp);
	for (i = 0; i < r->nunits; i++) {
		u = &r->units[i];
		u->color = i;
		if (r->opts->since == 0 && u->counters != NULL) {
			u->split[0] = rep_jint(u->counters, "promoters");
			u->split[1] = rep_jint(u->counters, "passives");
			u->split[2] = rep_jint(u->counters, "detractors");
		}
	}
	if (r->opts->since == 0)
		return;
	for (i = 0; i < r->nrecs; i++)
		if (r->recs[i].score >= 0) {
			u = rep_unit_get(r, r->recs[i].unit, &cap);
			u->split[rep_score_class(r->recs[i].score)]++;
		}
}

static size_t
rep_unit_index(const struct rep *r, const char *name)
{
	size_t lo = 0, hi = r->nunits;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(r->units[mid].name, name);

		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return r->nunits;
}

static void
rep_gather_weeks(struct rep *r)
{
	int64_t wmin = 0, wmax = 0, w;
	bool any = false;
	size_t i, u, k;

	for (i = 0; i < r->nrecs; i++) {
		if (r->recs[i].score < 0 || r->recs[i].answered == 0)
			continue;
		w = rep_week_of(r->recs[i].answered);
		if (!any || w < wmin)
			wmin = w;
		if (!any || w > wmax)
			wmax = w;
		any = true;
	}
	if (!any)
		return;
	if ((wmax - wmin) / REP_WEEK >= REP_WEEKS_MAX)
		wmin = wmax - (int64_t)(REP_WEEKS_MAX - 1) * REP_WEEK;
	r->week0 = wmin;
	r->nweeks = (size_t)((wmax - wmin) / REP_WEEK) + 1;
	r->weekly = xcalloc(r->nunits * r->nweeks * 3, sizeof(int64_t));
	for (i = 0; i < r->nrecs; i++) {
		if (r->recs[i].score < 0 || r->recs[i].answered == 0)
			continue;
		w = rep_week_of(r->recs[i].answered);
		if (w < wmin)
			continue;
		u = rep_unit_index(r, r->recs[i].unit);
		if (u == r->nunits)
			continue;
		k = (size_t)((w - wmin) / REP_WEEK);
		r->weekly[(u * r->nweeks + k) * 3 +
		    (size_t)rep_score_class(r->recs[i].score)]++;
	}
}

/* ---- sections ----------------------------------------------------------- */

static const char rep_css[] =
    "body{font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,"
    "sans-serif;color:#222;margin:2em auto;max-width:1000px;padding:0 1em}"
    "h1{font-size:1.6em;margin:0 0 .2em}"
    "h2{font-size:1.2em;margin:1.8em 0 .6em;border-bottom:1px solid #ddd}"
    ".meta{color:#555;margin:0}"
    ".big{font-size:1.4em;font-weight:600}"
    ".empty{color:#777;font-style:italic}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{text-align:left;padding:.3em .5em;border-bottom:1px solid #eee;"
    "vertical-align:top}"
    "th{background:#f5f5f5;font-weight:600}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".txt{white-space:pre-wrap;overflow-wrap:anywhere}"
    ".fb{height:6px;background:#1f77b4;margin-top:2px}"
    "svg{display:block;max-width:100%;height:auto}"
    "svg text{font:12px system-ui,sans-serif;fill:#333}"
    ".grid{stroke:#e3e3e3}.zero{stroke:#999}"
    "@media print{body{margin:0}}";

static void
rep_head(struct rep *r)
{
	const char *title = r->opts->title != NULL ? r->opts->title :
	    "Survey report";
	char now[40], since[40];
	int64_t p = 0, pa = 0, d = 0;
	double nps;
	char nb[16];
	size_t i;

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta http-equiv=\"Content-Security-Policy\" "
	    "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n"
	    "<meta name=\"generator\" content=\"smsgwctl report\">\n"
	    "<title>", r->out);
	rep_esc(r->out, title);
	fprintf(r->out, "</title>\n<style>%s</style>\n</head>\n<body>\n"
	    "<h1>", rep_css);
	rep_esc(r->out, title);
	fputs("</h1>\n", r->out);
	rep_fmt_date(r->opts->now, now, sizeof(now), true);
	fprintf(r->out, "<p class=\"meta\">Generated %s. Period: ", now);
	if (r->opts->since != 0) {
		rep_fmt_date(r->opts->since, since, sizeof(since), true);
		fprintf(r->out, "since %s", since);
	} else
		fputs("all time", r->out);
	fputs(". Units: ", r->out);
	if (r->opts->unit != NULL)
		rep_esc(r->out, r->opts->unit);
	else
		fputs("all", r->out);
	fputs(".</p>\n", r->out);

	for (i = 0; i < r->nunits; i++) {
		p += r->units[i].split[0];
		pa += r->units[i].split[1];
		d += r->units[i].split[2];
	}
	fputs("<p id=\"summary\">", r->out);
	if (report_nps(p, pa, d, &nps)) {
		rep_fmt_nps(nps, nb, sizeof(nb));
		fprintf(r->out, "NPS <span class=\"big\" id=\"nps-total\">%s"
		    "</span> from %lld scored answers (%lld promoters, %lld "
		    "passives, %lld detractors).", nb,
		    (long long)(p + pa + d), (long long)p, (long long)pa,
		    (long long)d);
	} else
		fputs("<span class=\"empty\">No responses yet.</span>", r->out);
	fputs("</p>\n", r->out);
}

static double
rep_x(const struct rep *r, size_t k)
{
	if (r->nweeks <= 1)
		return (REP_CL + REP_CR) / 2.0;
	return REP_CL + (double)k * (REP_CR - REP_CL) / (double)(r->nweeks - 1);
}

static double
rep_y(double nps)
{
	return REP_CT + (100.0 - nps) * (REP_CB - REP_CT) / 200.0;
}

static void
rep_chart(struct rep *r)
{
	size_t u, k, step, row;
	char date[16], nb[16];
	int g;

	fputs("<h2>NPS by week</h2>\n", r->out);
	if (r->nweeks == 0) {
		fputs("<p class=\"empty\">No responses yet.</p>\n", r->out);
		return;
	}
	fprintf(r->out, "<svg id=\"nps-chart\" xmlns=\"http://www.w3.org/"
	    "2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
	    "role=\"img\" aria-label=\"NPS per unit by week\">\n",
	    REP_CW, REP_CH, REP_CW, REP_CH);
	/* Horizontal grid and y labels. */
	for (g = -100; g <= 100; g += 50) {
		double y = rep_y(g);

		fprintf(r->out, "<line class=\"%s\" x1=\"%d\" y1=\"%.1f\" "
		    "x2=\"%d\" y2=\"%.1f\"/>"
		    "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s%d"
		    "</text>\n",
		    g == 0 ? "zero" : "grid", REP_CL, y, REP_CR, y,
		    REP_CL - 6, y + 4, g > 0 ? "+" : "", g);
	}
	fprintf(r->out, "<text x=\"14\" y=\"%d\" transform=\"rotate(-90 14 "
	    "%d)\" text-anchor=\"middle\">NPS</text>\n",
	    (REP_CT + REP_CB) / 2, (REP_CT + REP_CB) / 2);
	/* x labels: at most about 8 week dates. */
	step = (r->nweeks + 7) / 8;
	for (k = 0; k < r->nweeks; k += step) {
		double x = rep_x(r, k);

		rep_fmt_date(r->week0 + (int64_t)k * REP_WEEK, date,
		    sizeof(date), false);
		fprintf(r->out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" "
		    "x2=\"%.1f\" y2=\"%d\"/><text x=\"%.1f\" y=\"%d\" "
		    "text-anchor=\"middle\">%s</text>\n", x, REP_CT, x, REP_CB,
		    x, REP_CB + 18, date);
	}
	fprintf(r->out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">"
	    "week (starting Monday, UTC)</text>\n", (REP_CL + REP_CR) / 2,
	    REP_CH - 10);

	for (u = 0, row = 0; u < r->nunits; u++) {
		const struct rep_unit *un = &r->units[u];
		const char *col = rep_colors[un->color % REP_NCOLORS];
		const char *dash = rep_dashes[(un->color / REP_NCOLORS) %
		    REP_NDASHES];
		int64_t *w = &r->weekly[u * r->nweeks * 3];
		bool any = false;
		double nps = 0;

		for (k = 0; k < r->nweeks && !any; k++)
			any = w[k * 3] + w[k * 3 + 1] + w[k * 3 + 2] > 0;
		if (!any)
			continue;
		fputs("<polyline class=\"nps-line\" data-unit=\"", r->out);
		rep_esc(r->out, un->name);
		fprintf(r->out, "\" fill=\"none\" stroke=\"%s\" "
		    "stroke-width=\"2\"%s%s%s points=\"", col,
		    dash[0] ? " stroke-dasharray=\"" : "", dash,
		    dash[0] ? "\"" : "");
		any = false;
		for (k = 0; k < r->nweeks; k++)
			if (report_nps(w[k * 3], w[k * 3 + 1], w[k * 3 + 2],
			    &nps)) {
				fprintf(r->out, "%s%.1f,%.1f", any ? " " : "",
				    rep_x(r, k), rep_y(nps));
				any = true;
			}
		fputs("\"/>\n", r->out);
		for (k = 0; k < r->nweeks; k++) {
			int64_t n = w[k * 3] + w[k * 3 + 1] + w[k * 3 + 2];

			if (!report_nps(w[k * 3], w[k * 3 + 1], w[k * 3 + 2],
			    &nps))
				continue;
			rep_fmt_date(r->week0 + (int64_t)k * REP_WEEK, date,
			    sizeof(date), false);
			rep_fmt_nps(nps, nb, sizeof(nb));
			fprintf(r->out, "<circle cx=\"%.1f\" cy=\"%.1f\" "
			    "r=\"3.5\" fill=\"%s\"><title>", rep_x(r, k),
			    rep_y(nps), col);
			rep_esc(r->out, un->name);
			fprintf(r->out, ", week of %s: NPS %s (n=%lld)"
			    "</title></circle>\n", date, nb, (long long)n);
		}
		/* Legend entry. */
		fprintf(r->out, "<line x1=\"%d\" y1=\"%zu\" x2=\"%d\" "
		    "y2=\"%zu\" stroke=\"%s\" stroke-width=\"3\"%s%s%s/>"
		    "<text x=\"%d\" y=\"%zu\">", REP_CR + 14,
		    (size_t)REP_CT + 8 + row * 18, REP_CR + 36,
		    (size_t)REP_CT + 8 + row * 18, col,
		    dash[0] ? " stroke-dasharray=\"" : "", dash,
		    dash[0] ? "\"" : "", REP_CR + 42,
		    (size_t)REP_CT + 12 + row * 18);
		rep_esc(r->out, un->name);
		fputs("</text>\n", r->out);
		row++;
	}
	fputs("</svg>\n", r->out);
}

static void
rep_split(struct rep *r)
{
	static const char *const cls[3] = { "promoters", "passives",
	    "detractors" };
	static const char *const fill[3] = { "#2e7d32", "#9e9e9e", "#c62828" };
	size_t u;
	int c;

	fprintf(r->out, "<h2>Promoters, passives and detractors%s</h2>\n",
	    r->opts->since != 0 ? " in the period" : "");
	if (r->nunits == 0) {
		fputs("<p class=\"empty\">No responses yet.</p>\n", r->out);
		return;
	}
	fprintf(r->out, "<svg id=\"split\" xmlns=\"http://www.w3.org/2000/svg\""
	    " viewBox=\"0 0 %d %zu\" width=\"%d\" height=\"%zu\" role=\"img\""
	    " aria-label=\"Promoter, passive and detractor shares per "
	    "unit\">\n",
	    REP_CW, r->nunits * REP_SROW + 24, REP_CW,
	    r->nunits * REP_SROW + 24);
	for (u = 0; u < r->nunits; u++) {
		const struct rep_unit *un = &r->units[u];
		int64_t n = un->split[0] + un->split[1] + un->split[2];
		double x = REP_SLABEL, y = (double)(u * REP_SROW) + 4;
		double nps = 0;
		char nb[16];

		fprintf(r->out, "<g class=\"split-row\" data-unit=\"");
		rep_esc(r->out, un->name);
		fprintf(r->out, "\"><text x=\"0\" y=\"%.1f\">", y + 15);
		rep_esc(r->out, un->name);
		fputs("</text>", r->out);
		if (n == 0) {
			fprintf(r->out, "<rect x=\"%d\" y=\"%.1f\" "
			    "width=\"%d\" "
			    "height=\"20\" fill=\"#f0f0f0\"/><text x=\"%d\" "
			    "y=\"%.1f\" class=\"empty\">no scored answers"
			    "</text></g>\n", REP_SLABEL, y, REP_SBAR,
			    REP_SLABEL + 8, y + 15);
			continue;
		}
		for (c = 0; c < 3; c++) {
			double wd = (double)REP_SBAR * (double)un->split[c] /
			    (double)n;
			double pct = 100.0 * (double)un->split[c] / (double)n;

			if (un->split[c] == 0)
				continue;
			fprintf(r->out, "<rect class=\"%s\" x=\"%.1f\" "
			    "y=\"%.1f\" width=\"%.1f\" height=\"20\" "
			    "fill=\"%s\"><title>%s: %lld (%.0f%%)</title>"
			    "</rect>", cls[c], x, y, wd, fill[c], cls[c],
			    (long long)un->split[c], pct);
			if (wd >= 36)
				fprintf(r->out, "<text x=\"%.1f\" y=\"%.1f\" "
				    "text-anchor=\"middle\" "
				    "style=\"fill:#fff\">"
				    "%.0f%%</text>", x + wd / 2, y + 15, pct);
			x += wd;
		}
		(void)report_nps(un->split[0], un->split[1], un->split[2],
		    &nps);
		rep_fmt_nps(nps, nb, sizeof(nb));
		fprintf(r->out, "<text x=\"%d\" y=\"%.1f\">NPS %s (n=%lld)"
		    "</text></g>\n", REP_SLABEL + REP_SBAR + 10, y + 15, nb,
		    (long long)n);
	}
	fprintf(r->out, "<g><rect x=\"%d\" y=\"%zu\" width=\"10\" "
	    "height=\"10\" fill=\"%s\"/><text x=\"%d\" y=\"%zu\">promoters "
	    "(9-10)</text><rect x=\"%d\" y=\"%zu\" width=\"10\" height=\"10\" "
	    "fill=\"%s\"/><text x=\"%d\" y=\"%zu\">passives (7-8)</text>"
	    "<rect x=\"%d\" y=\"%zu\" width=\"10\" height=\"10\" "
	    "fill=\"%s\"/><text x=\"%d\" y=\"%zu\">detractors (0-6)</text>"
	    "</g>\n</svg>\n",
	    REP_SLABEL, r->nunits * REP_SROW + 8, fill[0], REP_SLABEL + 14,
	    r->nunits * REP_SROW + 18,
	    REP_SLABEL + 130, r->nunits * REP_SROW + 8, fill[1],
	    REP_SLABEL + 144, r->nunits * REP_SROW + 18,
	    REP_SLABEL + 250, r->nunits * REP_SROW + 8, fill[2],
	    REP_SLABEL + 264, r->nunits * REP_SROW + 18);
}

/* "12 (80%)": n and its share of base, or just n when base is 0. */
static void
rep_pct_cell(FILE *out, int64_t n, int64_t base, const char *of)
{
	fprintf(out, "<td class=\"n\">%lld", (long long)n);
	if (base > 0)
		fprintf(out, " <small>(%.0f%%%s)</small>",
		    100.0 * (double)n / (double)base, of);
	fputs("</td>", out);
}

static void
rep_funnel(struct rep *r)
{
	size_t u;
	bool any = false;

	fputs("<h2>Response funnel (all time)</h2>\n", r->out);
	for (u = 0; u < r->nunits; u++)
		any = any || r->units[u].counters != NULL;
	if (!any) {
		fputs("<p class=\"empty\">No unit counters yet.</p>\n", r->out);
		return;
	}
	fputs("<table id=\"funnel\">\n<tr><th>Unit</th><th>Rate</th>"
	    "<th>Visits</th><th>Eligible</th><th>Sampled</th>"
	    "<th>Invited</th><th>Delivered</th><th>Answered</th>"
	    "<th>Opted out</th><th>Invalid</th><th>Invited &#8594; "
	    "delivered &#8594; answered</th></tr>\n", r->out);
	for (u = 0; u < r->nunits; u++) {
		json_object *c = r->units[u].counters;
		int64_t inv, del, ans;
		double rate;
		bool ok;

		if (c == NULL)
			continue;
		inv = rep_jint(c, "invited");
		del = rep_jint(c, "delivered");
		ans = rep_jint(c, "answered");
		fputs("<tr><td>", r->out);
		rep_esc(r->out, r->units[u].name);
		rate = rep_jdouble(c, "rate", &ok);
		if (ok)
			fprintf(r->out, "</td><td class=\"n\">%.0f%%",
			    100.0 * rate);
		else
			fputs("</td><td class=\"n\">-", r->out);
		fprintf(r->out, "</td><td class=\"n\">%lld</td>"
		    "<td class=\"n\">%lld</td><td class=\"n\">%lld</td>"
		    "<td class=\"n\">%lld</td>",
		    (long long)rep_jint(c, "visits"),
		    (long long)rep_jint(c, "eligible"),
		    (long long)rep_jint(c, "sampled"), (long long)inv);
		rep_pct_cell(r->out, del, inv, " of invited");
		rep_pct_cell(r->out, ans, del > 0 ? del : inv,
		    del > 0 ? " of delivered" : " of invited");
		rep_pct_cell(r->out, rep_jint(c, "opted_out"), ans,
		    " of answered");
		fprintf(r->out, "<td class=\"n\">%lld</td><td "
		    "style=\"min-width:120px\">",
		    (long long)rep_jint(c, "invalid"));
		if (inv > 0) {
			int64_t v[3] = { inv, del, ans };
			int i;

			for (i = 0; i < 3; i++) {
				int64_t x = v[i] > inv ? inv : v[i];

				fprintf(r->out, "<div class=\"fb\" "
				    "style=\"width:%.0f%%;opacity:%.2f\">"
				    "</div>", 100.0 * (double)x / (double)inv,
				    1.0 - 0.3 * i);
			}
		}
		fputs("</td></tr>\n", r->out);
	}
	fputs("</table>\n", r->out);
}

static void
rep_text_cell(FILE *out, const char *s)
{
	char *red;

	fputs("<td class=\"txt\">", out);
	if (s != NULL && s[0] != '\0') {
		red = redact_text(s);
		rep_esc(out, red);
		free(red);
	}
	fputs("</td>", out);
}

static void
rep_comments(struct rep *r)
{
	size_t i, shown = 0;
	char date[16];

	fprintf(r->out, "<h2>Latest comments</h2>\n");
	for (i = 0; i < r->nrecs && shown < REPORT_COMMENTS_MAX; i++) {
		const struct rep_rec *x = &r->recs[i];

		if ((x->comment == NULL || x->comment[0] == '\0') &&
		    (x->followup == NULL || x->followup[0] == '\0'))
			continue;
		if (shown == 0)
			fputs("<table id=\"comments\">\n<tr><th>Date</th>"
			    "<th>Unit</th><th>Score</th><th>Comment</th>"
			    "<th>Follow-up</th></tr>\n", r->out);
		if (x->t != 0)
			rep_fmt_date(x->t, date, sizeof(date), false);
		else
			strlcpy_s(date, "-", sizeof(date));
		fprintf(r->out, "<tr class=\"comment\"><td>%s</td><td>", date);
		rep_esc(r->out, x->unit);
		if (x->score >= 0)
			fprintf(r->out, "</td><td class=\"n\">%d</td>",
			    x->score);
		else
			fputs("</td><td class=\"n\">-</td>", r->out);
		rep_text_cell(r->out, x->comment);
		rep_text_cell(r->out, x->followup);
		fputs("</tr>\n", r->out);
		shown++;
	}
	if (shown == 0)
		fputs("<p class=\"empty\">No comments yet.</p>\n", r->out);
	else
		fputs("</table>\n", r->out);
}

int
report_html(FILE *out, struct json_object *units,
    struct json_object *records, const struct report_opts *opts)
{
	struct rep r;
	int rc;

	if (out == NULL || opts == NULL)
		return -1;
	memset(&r, 0, sizeof(r));
	r.out = out;
	r.opts = opts;
	rep_gather_records(&r, records);
	rep_gather_units(&r, units);
	rep_gather_weeks(&r);

	rep_head(&r);
	rep_chart(&r);
	rep_split(&r);
	rep_funnel(&r);
	rep_comments(&r);
	fputs("<p class=\"meta\">Comments are redacted; visit ids and phone "
	    "numbers are never shown.</p>\n</body>\n</html>\n", out);

	rc = fflush(out) == 0 && !ferror(out) ? 0 : -1;
	free(r.weekly);
	free(r.units);
	free(r.recs);
	return rc;
}
