/*
 * spool: visit intake (contract section 3).  See include/smsgw/spool.h.
 */
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "smsgw/ev.h"
#include "smsgw/log.h"
#include "smsgw/sampler.h"
#include "smsgw/sms_codec.h"
#include "smsgw/spool.h"
#include "smsgw/util.h"

_Static_assert(SPOOL_FLAG_TURVAKIELTO == SAMPLER_FLAG_TURVAKIELTO &&
    SPOOL_FLAG_NO_CONSENT == SAMPLER_FLAG_NO_CONSENT &&
    SPOOL_FLAG_MULTIPLE_PHONES == SAMPLER_FLAG_MULTIPLE_PHONES &&
    SPOOL_FLAG_DECEASED == SAMPLER_FLAG_DECEASED &&
    SPOOL_FLAG_SENSITIVE == SAMPLER_FLAG_SENSITIVE,
    "spool and sampler flag bits differ");

#define MOD			"spool"
#define SUFFIX			".jsonl"
#define YOUNG_MS		1000	/* unannounced files younger wait */
#define POLL_MS			1000	/* without inotify */
#define BACKOFF_MIN_MS		1000
#define BACKOFF_MAX_MS		60000
#define NAME_SUFFIX_MAX		9999
#define SCAN_BUDGET_MS		200	/* then yield to the loop */

/* ---------------------------------------------------------------- */
/* Line validation (pure). */

/* Length of a valid UTF-8 sequence at s, or 0 (strict: no overlongs, no
 * surrogates, nothing above U+10FFFF). */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		if (n < 2 || (s[1] & 0xc0) != 0x80)
			return 0;
		return 2;
	}
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && s[1] < 0xa0)
			return 0;	/* overlong */
		if (c == 0xed && s[1] >= 0xa0)
			return 0;	/* surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (s[1] & 0xc0) != 0x80 ||
		    (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && s[1] < 0x90)
			return 0;	/* overlong */
		if (c == 0xf4 && s[1] >= 0x90)
			return 0;	/* above U+10FFFF */
		return 4;
	}
	return 0;
}

static bool
utf8_valid(const char *buf, size_t n)
{
	const unsigned char *s = (const unsigned char *)buf;
	size_t i = 0, k;

	while (i < n) {
		/* ASCII fast path, 8 bytes at a time. */
		while (i + 8 <= n) {
			uint64_t w;

			memcpy(&w, s + i, 8);
			if (w & UINT64_C(0x8080808080808080))
				break;
			i += 8;
		}
		if (i >= n)
			break;
		if ((k = utf8_seq(s + i, n - i)) == 0)
			return false;
		i += k;
	}
	return true;
}

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
all_ws(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_ws(s[i]))
			return false;
	return true;
}

static bool
digits(const char *s, int n, int *v)
{
	int i, r = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		r = r * 10 + (s[i] - '0');
	}
	*v = r;
	return true;
}

/*
 * RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM); "t"
 * and "z" may be lower case.  Returns NULL and sets *epoch, or a reason.
 */
static const char *
parse_rfc3339(const char *s, size_t n, int64_t *epoch)
{
	static const char *const syntax = "ended_at: not RFC 3339 with offset";
	static const char *const range = "ended_at: not a valid date or time";
	int y, mo, d, h, mi, se, oh = 0, om = 0, sign = 0;
	size_t i;

	if (n < 20 || !digits(s, 4, &y) || s[4] != '-' ||
	    !digits(s + 5, 2, &mo) || s[7] != '-' || !digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
	    s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &se))
		return syntax;
	i = 19;
	if (s[i] == '.') {
		i++;
		if (i >= n || s[i] < '0' || s[i] > '9')
			return syntax;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i < n && (s[i] == '+' || s[i] == '-')) {
		sign = s[i] == '+' ? 1 : -1;
		if (n - i < 6 || !digits(s + i + 1, 2, &oh) ||
		    s[i + 3] != ':' || !digits(s + i + 4, 2, &om))
			return syntax;
		i += 6;
	} else
		return syntax;
	if (i != n)
		return syntax;
	if (mo < 1 || mo > 12 || d < 1 || d > util_month_days(y, mo) ||
	    h > 23 || mi > 59 || se > 60 || oh > 23 || om > 59)
		return range;
	*epoch = util_days_from_civil(y, mo, d) * 86400 + h * 3600 +
	    mi * 60 + se - sign * (oh * 3600 + om * 60);
	return NULL;
}

/*
 * phone: normalise to E.164, require +358.  Returns NULL or a reason.
 */
static const char *
parse_phone(const char *in, size_t len, char *out, bool *mobile)
{
	char e164[SMS_CODEC_E164_MAX];
	const char *nsn;
	size_t nl;

	if (len > 40 || memchr(in, '\0', len) != NULL ||
	    sms_codec_normalize_phone(in, e164, sizeof(e164)) == -1)
		return "phone: not a valid phone number";
	if (strncmp(e164, "+358", 4) != 0)
		return "phone: not a Finnish number (+358 or 0...)";
	nl = strlen(e164);
	if (nl > SPOOL_PHONE_MAX)
		return "phone: not a valid phone number";
	nsn = e164 + 4;
	nl = strlen(nsn);
	*mobile = (nsn[0] == '4' || (nsn[0] == '5' && nsn[1] == '0')) &&
	    nl >= 7 && nl <= 10;
	memcpy(out, e164, strlen(e164) + 1);
	return NULL;
}

static unsigned
flag_bit(const char *name)
{
	static const struct {
		const char	*name;
		unsigned	 bit;
	} tab[] = {
		{ "turvakielto", SPOOL_FLAG_TURVAKIELTO },
		{ "no_consent", SPOOL_FLAG_NO_CONSENT },
		{ "multiple_phones", SPOOL_FLAG_MULTIPLE_PHONES },
		{ "deceased", SPOOL_FLAG_DECEASED },
		{ "sensitive", SPOOL_FLAG_SENSITIVE },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcasecmp(name, tab[i].name) == 0)
			return tab[i].bit;
	return SPOOL_FLAG_OTHER;
}

/* The member, or NULL when missing or JSON null. */
static struct json_object *
member(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

static const char *
parse_visit_id(struct json_object *o, struct spool_visit *v)
{
	struct json_object *j = member(o, "visit_id");
	const char *s;
	int i, n;

	if (j == NULL)
		return "visit_id missing";
	if (!json_object_is_type(j, json_type_string))
		return "visit_id: not a string";
	s = json_object_get_string(j);
	n = json_object_get_string_len(j);
	if (n < 1 || n > SPOOL_ID_MAX)
		return "visit_id: empty or longer than 64 characters";
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return "visit_id: not printable ASCII";
	memcpy(v->visit_id, s, (size_t)n + 1);
	return NULL;
}

static const char *
parse_lang(struct json_object *o, struct spool_visit *v)
{
	struct json_object *j = member(o, "lang");
	const char *s;
	size_t n;

	memcpy(v->lang, "fi", 3);
	if (j == NULL)
		return NULL;
	if (!json_object_is_type(j, json_type_string))
		return "lang: not a string";
	s = json_object_get_string(j);
	if (s[0] == '\0')
		return NULL;
	n = strcspn(s, "-_");
	if (n == 2 && strncasecmp(s, "fi", 2) == 0)
		memcpy(v->lang, "fi", 3);
	else if (n == 2 && strncasecmp(s, "sv", 2) == 0)
		memcpy(v->lang, "sv", 3);
	else
		memcpy(v->lang, "en", 3);
	return NULL;
}

static const char *
parse_age(struct json_object *o, struct spool_visit *v)
{
	struct json_object *j = member(o, "age");
	int64_t a;
	double d;

	v->age = -1;
	if (j == NULL)
		return NULL;
	if (json_object_is_type(j, json_type_int)) {
		a = json_object_get_int64(j);
	} else if (json_object_is_type(j, json_type_double)) {
		d = json_object_get_double(j);
		if (!(d >= -1e9 && d <= 1e9) || d != (double)(int64_t)d)
			return "age: not an integer";
		a = (int64_t)d;
	} else
		return "age: not an integer";
	if (a < 0 || a > 150)
		return "age: out of range 0-150";
	v->age = (int)a;
	return NULL;
}

static const char *
parse_flags(struct json_object *o, struct spool_visit *v)
{
	struct json_object *j = member(o, "flags"), *e;
	size_t i, n;

	v->flags = 0;
	if (j == NULL)
		return NULL;
	if (!json_object_is_type(j, json_type_array))
		return "flags: not an array of strings";
	n = json_object_array_length(j);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(j, i);
		if (e == NULL || !json_object_is_type(e, json_type_string))
			return "flags: not an array of strings";
		v->flags |= flag_bit(json_object_get_string(e));
	}
	return NULL;
}

/* A JSON object line: fills *v and returns NULL, or returns a reason. */
static const char *
parse_object(struct json_object *o, struct spool_visit *v)
{
	struct json_object *j;
	const char *why, *s;
	int i, n;

	memset(v, 0, sizeof(*v));
	if ((why = parse_visit_id(o, v)) != NULL)
		return why;

	if ((j = member(o, "cancel")) != NULL) {
		if (!json_object_is_type(j, json_type_boolean))
			return "cancel: not true or false";
		if (json_object_get_boolean(j)) {
			v->kind = SPOOL_KIND_CANCEL;
			return NULL;
		}
	}
	v->kind = SPOOL_KIND_VISIT;

	if ((j = member(o, "unit")) == NULL)
		return "unit missing";
	if (!json_object_is_type(j, json_type_string))
		return "unit: not a string";
	s = json_object_get_string(j);
	n = json_object_get_string_len(j);
	if (n < 1 || n > SPOOL_UNIT_MAX)
		return "unit: empty or longer than 64 characters";
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return "unit: only A-Z a-z 0-9 _ . - allowed";
	memcpy(v->unit, s, (size_t)n + 1);

	if ((j = member(o, "phone")) == NULL)
		return "phone missing";
	if (!json_object_is_type(j, json_type_string))
		return "phone: not a string";
	if ((why = parse_phone(json_object_get_string(j),
	    (size_t)json_object_get_string_len(j), v->phone,
	    &v->phone_mobile)) != NULL)
		return why;

	if ((j = member(o, "ended_at")) == NULL)
		return "ended_at missing";
	if (!json_object_is_type(j, json_type_string))
		return "ended_at: not a string";
	if ((why = parse_rfc3339(json_object_get_string(j),
	    (size_t)json_object_get_string_len(j), &v->ended_at)) != NULL)
		return why;

	if ((why = parse_lang(o, v)) != NULL ||
	    (why = parse_age(o, v)) != NULL ||
	    (why = parse_flags(o, v)) != NULL)
		return why;
	return NULL;
}

enum line_res {
	LINE_EMPTY,
	LINE_GOOD,
	LINE_BAD,	/* a JSON object with a bad field */
	LINE_NOTOBJ	/* not JSON or not an object */
};

/* line is known to be valid UTF-8. */
static enum line_res
parse_line_tok(struct json_tokener *tok, const char *line, size_t len,
    struct spool_visit *v, const char **why)
{
	struct json_object *o;
	enum line_res r;

	*why = "";
	if (all_ws(line, len))
		return LINE_EMPTY;
	if (len > INT_MAX || memchr(line, '\0', len) != NULL) {
		/* json-c would stop at a NUL byte. */
		*why = "not JSON";
		return LINE_NOTOBJ;
	}
	json_tokener_reset(tok);
	o = json_tokener_parse_ex(tok, line, (int)len);
	if (o == NULL &&
	    json_tokener_get_error(tok) == json_tokener_continue)
		o = json_tokener_parse_ex(tok, "", 1);	/* end of input */
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		*why = "not JSON";
		return LINE_NOTOBJ;
	}
	/* o == NULL here is JSON null. */
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		*why = "not a JSON object";
		return LINE_NOTOBJ;
	}
	*why = parse_object(o, v);
	r = *why == NULL ? LINE_GOOD : LINE_BAD;
	json_object_put(o);
	return r;
}

static struct json_tokener *
tok_new(void)
{
	struct json_tokener *tok = json_tokener_new();

	if (tok == NULL)
		fatalx(MOD, "json_tokener_new: out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	return tok;
}

bool
spool_parse_line(const char *line, size_t len, struct spool_visit *out,
    char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct spool_visit v;
	const char *why;
	enum line_res r;

	if (!utf8_valid(line, len)) {
		if (err != NULL && errlen > 0)
			strlcpy_s(err, "not valid UTF-8", errlen);
		return false;
	}
	tok = tok_new();
	r = parse_line_tok(tok, line, len, &v, &why);
	json_tokener_free(tok);
	if (r == LINE_GOOD) {
		*out = v;
		if (err != NULL && errlen > 0)
			err[0] = '\0';
		return true;
	}
	if (err != NULL && errlen > 0)
		strlcpy_s(err, why, errlen);
	return false;
}

/* ---------------------------------------------------------------- */
/* A whole file (pure). */

static void
bad_add(struct spool_batch *b, size_t *cap, unsigned line, const char *why)
{
	if (b->nbad == *cap) {
		*cap = *cap == 0 ? 16 : *cap * 2;
		b->bad = xrealloc(b->bad, *cap * sizeof(*b->bad));
	}
	b->bad[b->nbad].line = line;
	b->bad[b->nbad].reason = why;
	b->nbad++;
}

/*
 * A file mapped read-only: the pages already scanned are handed back to
 * the kernel as we go (they re-read from the page cache if touched
 * again), so a 13 MiB spool file costs about a megabyte of memory, not
 * thirteen, next to the parsed visits.
 */
struct spool_map {
	const char *base;	/* page-aligned start of the mapping */
	size_t len;
	const char *dropped;	/* everything before this is dropped */
};

#define SPOOL_DROP_STEP (1024 * 1024)

static void
map_drop(struct spool_map *m, const char *upto)
{
	size_t n;

	if (m == NULL || upto < m->dropped + SPOOL_DROP_STEP)
		return;
	n = (size_t)(upto - m->dropped) & ~(size_t)(SPOOL_DROP_STEP - 1);
	(void)madvise((void *)(uintptr_t)m->dropped, n, MADV_DONTNEED);
	m->dropped += n;
}

static void batch_parse(const char *buf, size_t len, struct spool_batch *b,
    struct spool_map *m);

void
spool_batch_parse(const char *buf, size_t len, struct spool_batch *b)
{
	batch_parse(buf, len, b, NULL);
}

static void
batch_parse(const char *buf, size_t len, struct spool_batch *b,
    struct spool_map *m)
{
	struct json_tokener *tok;
	const char *p, *end, *nl, *why;
	size_t nlines, badcap = 0, nobj = 0, ln;
	enum line_res r;
	bool utf8;

	memset(b, 0, sizeof(*b));
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		buf += 3;
		len -= 3;
	}
	end = buf + len;

	/* Count non-empty lines (the cap, and one allocation) and check the
	 * UTF-8 line by line: a sequence cannot span a '\n'. */
	nlines = 0;
	utf8 = true;
	for (p = buf; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (!all_ws(p, (size_t)(nl - p)))
			nlines++;
		if (utf8 && !utf8_valid(p, (size_t)(nl - p)))
			utf8 = false;
		map_drop(m, p);
	}
	if (m != NULL)
		m->dropped = m->base;
	if (nlines > SPOOL_LINES_MAX) {
		snprintf(b->reject, sizeof(b->reject),
		    "more than %u lines; split the file", SPOOL_LINES_MAX);
		return;
	}

	if (!utf8) {
		/* Report each line with invalid bytes; take nothing. */
		for (p = buf, ln = 1; p < end; p = nl + 1, ln++) {
			if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
				nl = end;
			if (!utf8_valid(p, (size_t)(nl - p)))
				bad_add(b, &badcap, (unsigned)ln,
				    "not valid UTF-8");
		}
		snprintf(b->reject, sizeof(b->reject), "not valid UTF-8");
		return;
	}

	if (nlines > 0)
		b->visits = xmalloc(nlines * sizeof(*b->visits));
	tok = tok_new();
	for (p = buf, ln = 1; p < end; p = nl + 1, ln++) {
		struct spool_visit v;

		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		r = parse_line_tok(tok, p, (size_t)(nl - p), &v, &why);
		switch (r) {
		case LINE_EMPTY:
			break;
		case LINE_GOOD:
			v.line = (unsigned)ln;
			if (v.kind == SPOOL_KIND_CANCEL)
				b->ncancels++;
			b->visits[b->nvisits++] = v;
			nobj++;
			break;
		case LINE_BAD:
			nobj++;
			bad_add(b, &badcap, (unsigned)ln, why);
			break;
		case LINE_NOTOBJ:
			bad_add(b, &badcap, (unsigned)ln, why);
			break;
		}
		map_drop(m, p);
	}
	json_tokener_free(tok);

	if (nobj == 0 && b->nbad > 0) {
		snprintf(b->reject, sizeof(b->reject),
		    "no line is a JSON object");
		free(b->visits);
		b->visits = NULL;
		b->nvisits = b->ncancels = 0;
	}
}

void
spool_batch_free(struct spool_batch *b)
{
	if (b == NULL)
		return;
	free(b->visits);
	free(b->bad);
	memset(b, 0, sizeof(*b));
}

/* ---------------------------------------------------------------- */
/* The directory side. */

struct spool {
	struct ev	*ev;
	char		*dir;
	char		*new_dir;
	spool_sink_cb	 sink;
	void		*arg;
	int		 ifd;		/* inotify, -1 = polling */
	int		 wd;
	uint32_t	 io_id;
	uint32_t	 scan_timer;	/* next scheduled scan */
	bool		 backing_off;
	uint64_t	 backoff_ms;
	char		**announced;	/* names inotify reported */
	size_t		 nannounced, capannounced;
	size_t		 backlog;
};

static bool
has_suffix(const char *name)
{
	size_t n = strlen(name), s = strlen(SUFFIX);

	return n > s && strcmp(name + n - s, SUFFIX) == 0;
}

static void	scan_timer_cb(void *arg);

static void
schedule_scan(struct spool *sp, uint64_t ms)
{
	int64_t left = -1;

	if (sp->scan_timer != 0)
		left = ev_timer_remaining(sp->ev, sp->scan_timer);
	if (left >= 0 && (uint64_t)left <= ms)
		return;
	if (sp->scan_timer != 0)
		ev_timer_del(sp->ev, sp->scan_timer);
	sp->scan_timer = ev_timer_add(sp->ev, ms, scan_timer_cb, sp);
}

static void
announce(struct spool *sp, const char *name)
{
	size_t i;

	for (i = 0; i < sp->nannounced; i++)
		if (strcmp(sp->announced[i], name) == 0)
			return;
	if (sp->nannounced == sp->capannounced) {
		sp->capannounced = sp->capannounced ? sp->capannounced * 2 : 8;
		sp->announced = xrealloc(sp->announced,
		    sp->capannounced * sizeof(*sp->announced));
	}
	sp->announced[sp->nannounced++] = xstrdup(name);
}

static bool
is_announced(const struct spool *sp, const char *name)
{
	size_t i;

	for (i = 0; i < sp->nannounced; i++)
		if (strcmp(sp->announced[i], name) == 0)
			return true;
	return false;
}

static void
announced_clear(struct spool *sp)
{
	size_t i;

	for (i = 0; i < sp->nannounced; i++)
		free(sp->announced[i]);
	sp->nannounced = 0;
}

/* Read new/NAME whole.  Returns 0, 1 = too big, -1 = error (errno). */
/* Map a regular file read-only: 0, 1 when too large, -1 with errno. */
static int
map_whole(const char *path, struct spool_map *m)
{
	struct stat st;
	void *p;
	int fd, save;

	memset(m, 0, sizeof(*m));
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if ((uint64_t)st.st_size > SPOOL_FILE_MAX) {
		close(fd);
		return 1;
	}
	if (st.st_size == 0) {
		close(fd);
		m->base = m->dropped = "";
		return 0;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	close(fd);
	(void)madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL);
	m->base = m->dropped = p;
	m->len = (size_t)st.st_size;
	return 0;
fail:
	save = errno;
	close(fd);
	errno = save;
	return -1;
}

/* Rename new/NAME to todir/NAME, or NAME.1 ... when taken. */
static int
move_noreplace(struct spool *sp, const char *name, const char *sub)
{
	char *from, *to;
	unsigned n;
	int r = -1;

	from = xasprintf("%s/%s", sp->new_dir, name);
	for (n = 0; n <= NAME_SUFFIX_MAX; n++) {
		if (n == 0)
			to = xasprintf("%s/%s/%s", sp->dir, sub, name);
		else
			to = xasprintf("%s/%s/%s.%u", sp->dir, sub, name, n);
		r = renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
		if (r == -1 && (errno == EINVAL || errno == ENOSYS)) {
			/* File system without RENAME_NOREPLACE. */
			r = link(from, to);
			if (r == 0 && unlink(from) == -1)
				log_warn(MOD, "unlink %s", from);
			else if (r == -1 && errno != EEXIST) {
				struct stat st;

				if (lstat(to, &st) == 0)
					errno = EEXIST;
				else
					r = rename(from, to);
			}
		}
		free(to);
		if (r == 0 || errno != EEXIST)
			break;
	}
	if (r == -1)
		log_warn(MOD, "%s: cannot move to %s/", name, sub);
	else if (n > 0)
		log_info(MOD, "%s: %s/%s exists, kept as %s.%u", name, sub,
		    name, name, n);
	free(from);
	return r;
}

/* Write rejected/NAME.err atomically. */
static int
write_err(struct spool *sp, const char *name, const struct spool_batch *b)
{
	char *tmp, *path;
	FILE *fp;
	size_t i;
	int fd, r = -1;

	tmp = xasprintf("%s/rejected/.%s.err.tmp", sp->dir, name);
	path = xasprintf("%s/rejected/%s.err", sp->dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0640);
	if (fd == -1 || (fp = fdopen(fd, "w")) == NULL) {
		log_warn(MOD, "%s: cannot write %s", name, tmp);
		if (fd != -1)
			close(fd);
		goto out;
	}
	if (b->nbad == 0)
		fprintf(fp, "0: %s\n", b->reject);
	for (i = 0; i < b->nbad; i++)
		fprintf(fp, "%u: %s\n", b->bad[i].line, b->bad[i].reason);
	if (fflush(fp) == EOF || fsync(fileno(fp)) == -1 || ferror(fp)) {
		log_warn(MOD, "%s: writing %s", name, tmp);
		fclose(fp);
		unlink(tmp);
		goto out;
	}
	if (fclose(fp) == EOF) {
		log_warn(MOD, "%s: closing %s", name, tmp);
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) == -1) {
		log_warn(MOD, "%s: rename to %s", name, path);
		unlink(tmp);
		goto out;
	}
	r = 0;
out:
	free(tmp);
	free(path);
	return r;
}

enum file_res {
	FILE_DONE,	/* moved to done/ or rejected/ */
	FILE_LATER,	/* young, or vanished: nothing to retry */
	FILE_FAILED,	/* retry after backoff, go on with others */
	FILE_SINK_FAILED /* retry after backoff, stop this scan */
};

static enum file_res
take_file(struct spool *sp, const char *name)
{
	struct spool_batch b;
	struct spool_map map;
	char *path;
	enum file_res res = FILE_FAILED;
	int r;

	path = xasprintf("%s/%s", sp->new_dir, name);
	r = map_whole(path, &map);
	free(path);
	if (r == -1) {
		if (errno == ENOENT)
			return FILE_LATER;	/* taken away meanwhile */
		if (errno == EINVAL || errno == ELOOP)
			return FILE_LATER;	/* not a regular file */
		log_warn(MOD, "%s: cannot read", name);
		return FILE_FAILED;
	}
	if (r == 1) {
		memset(&b, 0, sizeof(b));
		snprintf(b.reject, sizeof(b.reject),
		    "larger than %u MiB; split the file",
		    SPOOL_FILE_MAX / (1024 * 1024));
	} else {
		batch_parse(map.base, map.len, &b, &map);
		if (map.len > 0)
			munmap((void *)(uintptr_t)map.base, map.len);
	}

	if (b.reject[0] != '\0') {
		log_warnx(MOD, "%s: rejected whole: %s", name, b.reject);
		if (write_err(sp, name, &b) == 0 &&
		    move_noreplace(sp, name, "rejected") == 0)
			res = FILE_DONE;
		spool_batch_free(&b);
		return res;
	}

	if (sp->sink(sp->arg, name, b.visits, b.nvisits, b.nbad) != 0) {
		log_warnx(MOD, "%s: commit failed; left in new/ for a retry",
		    name);
		spool_batch_free(&b);
		return FILE_SINK_FAILED;
	}
	log_info(MOD, "%s: %zu visits, %zu cancels, %zu bad lines", name,
	    b.nvisits - b.ncancels, b.ncancels, b.nbad);
	if ((b.nbad == 0 || write_err(sp, name, &b) == 0) &&
	    move_noreplace(sp, name, "done") == 0)
		res = FILE_DONE;
	spool_batch_free(&b);
	return res;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Is the file young and unannounced (maybe still being written)? */
static bool
too_young(struct spool *sp, const char *name)
{
	struct stat st;
	struct timespec now;
	int64_t age_ms;
	char *path;
	int r;

	if (is_announced(sp, name))
		return false;
	path = xasprintf("%s/%s", sp->new_dir, name);
	r = lstat(path, &st);
	free(path);
	if (r == -1)
		return false;
	clock_gettime(CLOCK_REALTIME, &now);
	age_ms = ((int64_t)now.tv_sec - (int64_t)st.st_mtim.tv_sec) * 1000 +
	    ((int64_t)now.tv_nsec - (int64_t)st.st_mtim.tv_nsec) / 1000000;
	return age_ms >= 0 && age_ms < YOUNG_MS;
}

static void
watch_add(struct spool *sp)
{
	if (sp->ifd == -1 || sp->wd != -1)
		return;
	sp->wd = inotify_add_watch(sp->ifd, sp->new_dir,
	    IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR);
	if (sp->wd == -1)
		log_warn(MOD, "inotify_add_watch %s", sp->new_dir);
}

size_t
spool_scan(struct spool *sp)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, i, taken = 0;
	bool failed = false, young = false, stopped = false, more = false;
	uint64_t t0 = util_mono_ms();

	if (sp->scan_timer != 0) {
		ev_timer_del(sp->ev, sp->scan_timer);
		sp->scan_timer = 0;
	}
	if (sp->wd == -1 && sp->ifd != -1) {
		util_mkdirs(sp->new_dir, 0770);
		watch_add(sp);
	}
	if ((d = opendir(sp->new_dir)) == NULL) {
		log_warn(MOD, "opendir %s", sp->new_dir);
		failed = true;
	} else {
		while ((de = readdir(d)) != NULL) {
			if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
				continue;
			if (!has_suffix(de->d_name))
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				names = xrealloc(names, cap * sizeof(*names));
			}
			names[n++] = xstrdup(de->d_name);
		}
		closedir(d);
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), name_cmp);

	sp->backlog = 0;
	for (i = 0; i < n; i++) {
		if (!stopped && taken > 0 &&
		    util_mono_ms() - t0 >= SCAN_BUDGET_MS)
			more = stopped = true;	/* let the loop breathe */
		if (stopped) {
			sp->backlog++;
			continue;
		}
		if (too_young(sp, names[i])) {
			young = true;
			sp->backlog++;
			continue;
		}
		switch (take_file(sp, names[i])) {
		case FILE_DONE:
			taken++;
			break;
		case FILE_LATER:
			break;
		case FILE_FAILED:
			failed = true;
			sp->backlog++;
			break;
		case FILE_SINK_FAILED:
			failed = stopped = true;
			sp->backlog++;
			break;
		}
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	announced_clear(sp);

	if (failed) {
		sp->backing_off = true;
		sp->backoff_ms = sp->backoff_ms == 0 ? BACKOFF_MIN_MS :
		    sp->backoff_ms * 2;
		if (sp->backoff_ms > BACKOFF_MAX_MS)
			sp->backoff_ms = BACKOFF_MAX_MS;
		log_debug(MOD, "retry in %llu ms",
		    (unsigned long long)sp->backoff_ms);
		schedule_scan(sp, sp->backoff_ms);
	} else {
		sp->backing_off = false;
		sp->backoff_ms = 0;
		schedule_scan(sp, more ? 0 : young ? YOUNG_MS :
		    sp->ifd == -1 ? POLL_MS : SPOOL_RESCAN_MS);
	}
	return taken;
}

static void
scan_timer_cb(void *arg)
{
	struct spool *sp = arg;

	sp->scan_timer = 0;
	spool_scan(sp);
}

static void
inotify_cb(int fd, short revents, void *arg)
{
	struct spool *sp = arg;
	char buf[8192] __attribute__((aligned(__alignof__(struct
	    inotify_event))));
	const struct inotify_event *e;
	ssize_t r;
	char *p;
	bool want = false;

	(void)revents;
	for (;;) {
		r = read(fd, buf, sizeof(buf));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (p = buf; p < buf + r; p += sizeof(*e) + e->len) {
			e = (const struct inotify_event *)(void *)p;
			if (e->mask & IN_Q_OVERFLOW) {
				log_warnx(MOD, "inotify queue overflow: "
				    "rescanning");
				want = true;
			}
			if ((e->mask & IN_IGNORED) && e->wd == sp->wd) {
				log_warnx(MOD, "%s went away", sp->new_dir);
				sp->wd = -1;
			}
			if ((e->mask & (IN_MOVED_TO | IN_CLOSE_WRITE)) &&
			    e->len > 0 && !(e->mask & IN_ISDIR) &&
			    has_suffix(e->name)) {
				announce(sp, e->name);
				want = true;
			}
		}
	}
	if (!want)
		return;
	if (sp->backing_off)
		return;	/* the retry timer will take it */
	schedule_scan(sp, 0);
}

struct spool *
spool_new(struct ev *ev, const char *spool_dir, spool_sink_cb sink,
    void *arg)
{
	static const char *const sub[] = { "tmp", "new", "done", "rejected" };
	struct spool *sp;
	size_t i;

	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		char *p = xasprintf("%s/%s", spool_dir, sub[i]);
		struct stat st;
		int r = util_mkdirs(p, 0770), save = errno;

		if (r == 0 && (stat(p, &st) == -1 || !S_ISDIR(st.st_mode))) {
			save = errno = ENOTDIR;
			r = -1;
		}

		if (r == -1)
			log_warn(MOD, "cannot create %s", p);
		free(p);
		if (r == -1) {
			errno = save;
			return NULL;
		}
	}
	sp = xcalloc(1, sizeof(*sp));
	sp->ev = ev;
	sp->dir = xstrdup(spool_dir);
	sp->new_dir = xasprintf("%s/new", spool_dir);
	sp->sink = sink;
	sp->arg = arg;
	sp->wd = -1;
	sp->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (sp->ifd == -1) {
		log_warn(MOD, "inotify_init1: polling %s every %d ms",
		    sp->new_dir, POLL_MS);
	} else {
		watch_add(sp);
		sp->io_id = ev_io_add(ev, sp->ifd, POLLIN, inotify_cb, sp);
		if (sp->io_id == 0) {
			log_warnx(MOD, "cannot watch inotify fd: polling");
			close(sp->ifd);
			sp->ifd = -1;
			sp->wd = -1;
		}
	}
	sp->scan_timer = ev_timer_add(ev, 0, scan_timer_cb, sp);
	return sp;
}

void
spool_free(struct spool *sp)
{
	if (sp == NULL)
		return;
	if (sp->scan_timer != 0)
		ev_timer_del(sp->ev, sp->scan_timer);
	if (sp->io_id != 0)
		ev_io_del(sp->ev, sp->io_id);
	if (sp->ifd != -1)
		close(sp->ifd);
	announced_clear(sp);
	free(sp->announced);
	free(sp->new_dir);
	free(sp->dir);
	free(sp);
}

size_t
spool_backlog(const struct spool *sp)
{
	return sp->backlog;
}

size_t
spool_expire(struct spool *sp, int64_t cutoff)
{
	static const char *const subs[] = { "done", "rejected" };
	size_t i, n = 0;

	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		char *dir = xasprintf("%s/%s", sp->dir, subs[i]);
		struct dirent *de;
		DIR *d = opendir(dir);

		while (d != NULL && (de = readdir(d)) != NULL) {
			struct stat sb;

			if (de->d_name[0] == '.')
				continue;
			if (fstatat(dirfd(d), de->d_name, &sb,
			    AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode) &&
			    (int64_t)sb.st_mtime < cutoff &&
			    unlinkat(dirfd(d), de->d_name, 0) == 0)
				n++;
		}
		if (d != NULL)
			closedir(d);
		free(dir);
	}
	return n;
}

bool
spool_parse_time(const char *s, int64_t *epoch)
{
	int64_t t;

	if (parse_rfc3339(s, strlen(s), &t) != NULL)
		return false;
	*epoch = t;
	return true;
}
