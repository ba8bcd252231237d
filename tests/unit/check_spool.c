/*
 * Unit tests for spool: the line rules of contract section 3 (every
 * required field missing and malformed, phone normalisation, lang, age,
 * flags, cancels, RFC 3339 variants, garbage), the whole-file rules, and
 * the file flow with a real ev loop and inotify in a temporary directory
 * (timers on a fake clock, so the periodic rescan never fires unless a
 * test advances it).
 */
#include <sys/stat.h>
#include <sys/time.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "smsgw/ev.h"
#include "smsgw/log.h"
#include "smsgw/spool.h"

#define GOOD_LINE \
	"{\"visit_id\":\"V-2026-000123\",\"unit\":\"HAMMAS-JKL\"," \
	"\"phone\":\"+358401234567\"," \
	"\"ended_at\":\"2026-11-24T10:15:00+02:00\"," \
	"\"lang\":\"fi\",\"age\":34,\"flags\":[\"turvakielto\"]}"

static struct spool_visit v;
static char err[128];

static bool
parse(const char *s)
{
	memset(&v, 0, sizeof(v));
	memset(err, 'x', sizeof(err) - 1);
	err[sizeof(err) - 1] = '\0';
	return spool_parse_line(s, strlen(s), &v, err, sizeof(err));
}

/* A visit line with one field replaced (or dropped when val is NULL). */
static const char *
visit_with(const char *key, const char *val)
{
	static char buf[1024];
	static const char *const keys[] = { "visit_id", "unit", "phone",
	    "ended_at" };
	static const char *const vals[] = { "\"V-1\"", "\"HAMMAS-JKL\"",
	    "\"+358401234567\"", "\"2026-11-24T10:15:00+02:00\"" };
	size_t i, n = 0;
	bool found = false;

	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "{");
	for (i = 0; i < 4; i++) {
		const char *use = vals[i];

		if (strcmp(keys[i], key) == 0) {
			found = true;
			if (val == NULL)
				continue;
			use = val;
		}
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s\"%s\":%s",
		    n > 1 ? "," : "", keys[i], use);
	}
	if (!found && val != NULL)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, ",\"%s\":%s",
		    key, val);
	snprintf(buf + n, sizeof(buf) - n, "}");
	return buf;
}

static void
assert_bad(const char *key, const char *val, const char *reason)
{
	const char *line = visit_with(key, val);

	ck_assert_msg(!parse(line), "accepted: %s", line);
	ck_assert_msg(strcmp(err, reason) == 0, "%s: got \"%s\" want \"%s\"",
	    line, err, reason);
}

static void
assert_good(const char *key, const char *val)
{
	const char *line = visit_with(key, val);

	ck_assert_msg(parse(line), "rejected: %s (%s)", line, err);
}

/* ---------------------------------------------------------------- */

START_TEST(test_good_visit)
{
	ck_assert(parse(GOOD_LINE));
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(v.kind, SPOOL_KIND_VISIT);
	ck_assert_str_eq(v.visit_id, "V-2026-000123");
	ck_assert_str_eq(v.unit, "HAMMAS-JKL");
	ck_assert_str_eq(v.phone, "+358401234567");
	ck_assert(v.phone_mobile);
	ck_assert_int_eq(v.ended_at, 1795508100);	/* 08:15:00Z */
	ck_assert_str_eq(v.lang, "fi");
	ck_assert_int_eq(v.age, 34);
	ck_assert_uint_eq(v.flags, SPOOL_FLAG_TURVAKIELTO);
	ck_assert_uint_eq(v.line, 0);
}
END_TEST

START_TEST(test_required_missing)
{
	assert_bad("visit_id", NULL, "visit_id missing");
	assert_bad("unit", NULL, "unit missing");
	assert_bad("phone", NULL, "phone missing");
	assert_bad("ended_at", NULL, "ended_at missing");
	/* null counts as missing */
	assert_bad("unit", "null", "unit missing");
	assert_bad("visit_id", "null", "visit_id missing");
}
END_TEST

START_TEST(test_visit_id_rules)
{
	char id[80];

	assert_good("visit_id", "\"a\"");
	assert_good("visit_id", "\"V 2026/000123 #x~\"");
	memset(id, 'A', sizeof(id));
	id[0] = '"';
	id[65] = '"';
	id[66] = '\0';
	assert_good("visit_id", id);		/* 64 characters */
	ck_assert_uint_eq(strlen(v.visit_id), 64);
	id[66] = '"';
	id[65] = 'A';
	id[67] = '\0';
	assert_bad("visit_id", id, "visit_id: empty or longer than 64 "
	    "characters");
	assert_bad("visit_id", "\"\"", "visit_id: empty or longer than 64 "
	    "characters");
	assert_bad("visit_id", "\"V\\u0001\"", "visit_id: not printable ASCII");
	assert_bad("visit_id", "\"V\\u0000x\"", "visit_id: not printable "
	    "ASCII");
	assert_bad("visit_id", "\"V\\u00e4\"", "visit_id: not printable ASCII");
	assert_bad("visit_id", "\"V\\tX\"", "visit_id: not printable ASCII");
	assert_bad("visit_id", "123", "visit_id: not a string");
}
END_TEST

START_TEST(test_unit_rules)
{
	assert_good("unit", "\"a_b.c-D9\"");
	ck_assert_str_eq(v.unit, "a_b.c-D9");
	assert_bad("unit", "\"HAMMAS JKL\"", "unit: only A-Z a-z 0-9 _ . - "
	    "allowed");
	assert_bad("unit", "\"H\\u00c4M\"", "unit: only A-Z a-z 0-9 _ . - "
	    "allowed");
	assert_bad("unit", "\"\"", "unit: empty or longer than 64 characters");
	assert_bad("unit", "\"12345678901234567890123456789012345678901234567"
	    "890123456789012345\"", "unit: empty or longer than 64 "
	    "characters");
	assert_bad("unit", "[\"x\"]", "unit: not a string");
}
END_TEST

START_TEST(test_phone_rules)
{
	assert_good("phone", "\"0401234567\"");
	ck_assert_str_eq(v.phone, "+358401234567");
	ck_assert(v.phone_mobile);
	assert_good("phone", "\"040 123 4567\"");
	ck_assert_str_eq(v.phone, "+358401234567");
	assert_good("phone", "\"+358 50-123 4567\"");
	ck_assert_str_eq(v.phone, "+358501234567");
	ck_assert(v.phone_mobile);
	assert_good("phone", "\"00358401234567\"");
	ck_assert_str_eq(v.phone, "+358401234567");
	/* A landline is a good line, but not a mobile. */
	assert_good("phone", "\"091234567\"");
	ck_assert_str_eq(v.phone, "+35891234567");
	ck_assert(!v.phone_mobile);

	assert_bad("phone", "\"abc\"", "phone: not a valid phone number");
	assert_bad("phone", "\"401234567\"", "phone: not a valid phone number");
	assert_bad("phone", "\"040123456789012345\"",
	    "phone: not a valid phone number");
	assert_bad("phone", "\"+35840123x567\"",
	    "phone: not a valid phone number");
	assert_bad("phone", "\"\"", "phone: not a valid phone number");
	assert_bad("phone", "\"+46701234567\"",
	    "phone: not a Finnish number (+358 or 0...)");
	assert_bad("phone", "358401234567", "phone: not a string");
	/* No digits of the number in the reason. */
	ck_assert_ptr_null(strstr(err, "358"));
}
END_TEST

START_TEST(test_ended_at_rules)
{
	assert_good("ended_at", "\"2026-11-24T08:15:00Z\"");
	ck_assert_int_eq(v.ended_at, 1795508100);
	assert_good("ended_at", "\"2026-11-24t08:15:00z\"");
	ck_assert_int_eq(v.ended_at, 1795508100);
	assert_good("ended_at", "\"2026-11-24T08:15:00.999999Z\"");
	ck_assert_int_eq(v.ended_at, 1795508100);
	assert_good("ended_at", "\"2026-11-24T02:45:00-05:30\"");
	ck_assert_int_eq(v.ended_at, 1795508100);
	assert_good("ended_at", "\"2026-11-24T08:15:00-00:00\"");
	ck_assert_int_eq(v.ended_at, 1795508100);
	assert_good("ended_at", "\"2028-02-29T23:59:59.5-05:30\"");
	ck_assert_int_eq(v.ended_at, 1835501399);
	assert_good("ended_at", "\"2000-02-29T00:00:00Z\"");
	ck_assert_int_eq(v.ended_at, 951782400);
	assert_good("ended_at", "\"1999-12-31T23:59:60Z\"");
	ck_assert_int_eq(v.ended_at, 946684800);
	assert_good("ended_at", "\"1970-01-01T00:00:00Z\"");
	ck_assert_int_eq(v.ended_at, 0);

	assert_bad("ended_at", "\"2026-02-29T10:00:00Z\"",
	    "ended_at: not a valid date or time");
	assert_bad("ended_at", "\"1900-02-29T10:00:00Z\"",
	    "ended_at: not a valid date or time");
	assert_bad("ended_at", "\"2026-04-31T10:00:00Z\"",
	    "ended_at: not a valid date or time");
	assert_bad("ended_at", "\"2026-13-01T10:00:00Z\"",
	    "ended_at: not a valid date or time");
	assert_bad("ended_at", "\"2026-00-10T10:00:00Z\"",
	    "ended_at: not a valid date or time");
	assert_bad("ended_at", "\"2026-11-24T24:00:00Z\"",
	    "ended_at: not a valid date or time");
	assert_bad("ended_at", "\"2026-11-24T10:60:00Z\"",
	    "ended_at: not a valid date or time");
	assert_bad("ended_at", "\"2026-11-24T10:15:00+24:00\"",
	    "ended_at: not a valid date or time");
	assert_bad("ended_at", "\"2026-11-24T10:15:00\"",
	    "ended_at: not RFC 3339 with offset");
	assert_bad("ended_at", "\"2026-11-24 10:15:00+02:00\"",
	    "ended_at: not RFC 3339 with offset");
	assert_bad("ended_at", "\"2026-11-24\"",
	    "ended_at: not RFC 3339 with offset");
	assert_bad("ended_at", "\"2026-11-24T10:15+02:00\"",
	    "ended_at: not RFC 3339 with offset");
	assert_bad("ended_at", "\"2026-11-24T10:15:00.Z\"",
	    "ended_at: not RFC 3339 with offset");
	assert_bad("ended_at", "\"2026-11-24T10:15:00+0200\"",
	    "ended_at: not RFC 3339 with offset");
	assert_bad("ended_at", "\"2026-11-24T10:15:00+02:00x\"",
	    "ended_at: not RFC 3339 with offset");
	assert_bad("ended_at", "\"2026-1-24T10:15:00Z\"",
	    "ended_at: not RFC 3339 with offset");
	assert_bad("ended_at", "1795508100", "ended_at: not a string");
}
END_TEST

START_TEST(test_lang_rules)
{
	assert_good("x", NULL);
	ck_assert_str_eq(v.lang, "fi");
	assert_good("lang", "\"sv\"");
	ck_assert_str_eq(v.lang, "sv");
	assert_good("lang", "\"en\"");
	ck_assert_str_eq(v.lang, "en");
	assert_good("lang", "\"SV-fi\"");
	ck_assert_str_eq(v.lang, "sv");
	assert_good("lang", "\"FI\"");
	ck_assert_str_eq(v.lang, "fi");
	assert_good("lang", "\"de\"");
	ck_assert_str_eq(v.lang, "en");
	assert_good("lang", "\"se\"");		/* Northern Sami: en */
	ck_assert_str_eq(v.lang, "en");
	assert_good("lang", "\"fin\"");
	ck_assert_str_eq(v.lang, "en");
	assert_good("lang", "null");
	ck_assert_str_eq(v.lang, "fi");
	assert_good("lang", "\"\"");
	ck_assert_str_eq(v.lang, "fi");
	assert_bad("lang", "5", "lang: not a string");
}
END_TEST

START_TEST(test_age_rules)
{
	assert_good("x", NULL);
	ck_assert_int_eq(v.age, -1);
	assert_good("age", "0");
	ck_assert_int_eq(v.age, 0);
	assert_good("age", "17");
	ck_assert_int_eq(v.age, 17);	/* under age: ineligible, not bad */
	assert_good("age", "34.0");
	ck_assert_int_eq(v.age, 34);
	assert_good("age", "null");
	ck_assert_int_eq(v.age, -1);
	assert_bad("age", "\"34\"", "age: not an integer");
	assert_bad("age", "34.5", "age: not an integer");
	assert_bad("age", "true", "age: not an integer");
	assert_bad("age", "-1", "age: out of range 0-150");
	assert_bad("age", "151", "age: out of range 0-150");
	assert_bad("age", "99999999999999999999", "age: out of range 0-150");
}
END_TEST

START_TEST(test_flag_rules)
{
	assert_good("flags", "[]");
	ck_assert_uint_eq(v.flags, 0);
	assert_good("x", NULL);
	ck_assert_uint_eq(v.flags, 0);
	assert_good("flags", "[\"turvakielto\",\"no_consent\","
	    "\"multiple_phones\",\"deceased\",\"sensitive\"]");
	ck_assert_uint_eq(v.flags, SPOOL_FLAG_TURVAKIELTO |
	    SPOOL_FLAG_NO_CONSENT | SPOOL_FLAG_MULTIPLE_PHONES |
	    SPOOL_FLAG_DECEASED | SPOOL_FLAG_SENSITIVE);
	assert_good("flags", "[\"Deceased\"]");
	ck_assert_uint_eq(v.flags, SPOOL_FLAG_DECEASED);
	assert_good("flags", "[\"vip\"]");
	ck_assert_uint_eq(v.flags, SPOOL_FLAG_OTHER);
	assert_good("flags", "[\"vip\",\"sensitive\"]");
	ck_assert_uint_eq(v.flags, SPOOL_FLAG_OTHER | SPOOL_FLAG_SENSITIVE);
	assert_bad("flags", "\"turvakielto\"", "flags: not an array of "
	    "strings");
	assert_bad("flags", "[1]", "flags: not an array of strings");
	assert_bad("flags", "[\"deceased\",null]", "flags: not an array of "
	    "strings");
}
END_TEST

START_TEST(test_cancel_lines)
{
	ck_assert(parse("{\"visit_id\":\"V-2026-000099\",\"cancel\":true}"));
	ck_assert_int_eq(v.kind, SPOOL_KIND_CANCEL);
	ck_assert_str_eq(v.visit_id, "V-2026-000099");
	ck_assert_str_eq(v.phone, "");
	/* Other fields do not matter for a cancel. */
	ck_assert(parse("{\"cancel\":true,\"visit_id\":\"V-1\","
	    "\"phone\":\"junk\"}"));
	ck_assert_int_eq(v.kind, SPOOL_KIND_CANCEL);

	ck_assert(!parse("{\"cancel\":true}"));
	ck_assert_str_eq(err, "visit_id missing");
	ck_assert(!parse("{\"visit_id\":\"V-1\",\"cancel\":\"yes\"}"));
	ck_assert_str_eq(err, "cancel: not true or false");
	ck_assert(!parse("{\"visit_id\":\"V-1\",\"cancel\":1}"));
	ck_assert_str_eq(err, "cancel: not true or false");
	/* cancel:false is an ordinary visit line. */
	ck_assert(!parse("{\"visit_id\":\"V-1\",\"cancel\":false}"));
	ck_assert_str_eq(err, "unit missing");
	assert_good("cancel", "false");
	ck_assert_int_eq(v.kind, SPOOL_KIND_VISIT);
}
END_TEST

START_TEST(test_garbage)
{
	static const struct {
		const char	*line;
		const char	*reason;
	} t[] = {
		{ "garbage", "not JSON" },
		{ "a;b;c;d", "not JSON" },
		{ "{\"visit_id\":", "not JSON" },
		{ "{\"visit_id\":\"V\"} x", "not JSON" },
		{ "{\"visit_id\":\"V\",}", "not JSON" },
		{ "{} {}", "not JSON" },
		{ "[1,2]", "not a JSON object" },
		{ "123", "not a JSON object" },
		{ "\"str\"", "not a JSON object" },
		{ "null", "not a JSON object" },
		{ "true", "not a JSON object" },
		{ "{}", "visit_id missing" },
		{ "{\"visit_id\":\"V\xff\"}", "not valid UTF-8" },
		{ "{\"visit_id\":\"V\xc0\xaf\"}", "not valid UTF-8" },
		{ "{\"visit_id\":\"V\xed\xa0\x80\"}", "not valid UTF-8" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ck_assert_msg(!parse(t[i].line), "accepted %s", t[i].line);
		ck_assert_msg(strcmp(err, t[i].reason) == 0,
		    "%s: got \"%s\" want \"%s\"", t[i].line, err,
		    t[i].reason);
	}
	/* Only whitespace: skipped, not an error. */
	ck_assert(!parse("  \t\r"));
	ck_assert_str_eq(err, "");
	ck_assert(!parse(""));
	ck_assert_str_eq(err, "");
	/* Trailing whitespace and CR are fine. */
	ck_assert(parse(GOOD_LINE " \r"));
	/* Length is honoured: the line need not be NUL-terminated. */
	ck_assert(spool_parse_line(GOOD_LINE "garbage", strlen(GOOD_LINE), &v,
	    err, sizeof(err)));
	/* A NUL byte ends nothing: what follows is still checked. */
	ck_assert(!spool_parse_line("{\"visit_id\":\"V\",\"cancel\":true}\0x",
	    32, &v, err, sizeof(err)));
	ck_assert_str_eq(err, "not JSON");
	/* NULL err is allowed. */
	ck_assert(!spool_parse_line("x", 1, &v, NULL, 0));
}
END_TEST

START_TEST(test_out_untouched_on_error)
{
	struct spool_visit o;

	memset(&o, 0x5a, sizeof(o));
	ck_assert(!spool_parse_line("{\"visit_id\":\"V-1\"}", 18, &o, err,
	    sizeof(err)));
	ck_assert_uint_eq(((unsigned char *)&o)[0], 0x5a);
	ck_assert_uint_eq(((unsigned char *)&o)[sizeof(o) - 1], 0x5a);
	/* A short err buffer truncates. */
	ck_assert(!spool_parse_line("{}", 2, &o, err, 6));
	ck_assert_str_eq(err, "visit");
}
END_TEST

/* ---------------------------------------------------------------- */
/* Whole files, pure. */

START_TEST(test_batch_mixed)
{
	static const char file[] =
	    "\xef\xbb\xbf" GOOD_LINE "\r\n"
	    "{\"visit_id\":\"V-2\",\"unit\":\"U\",\"phone\":\"x\","
	    "\"ended_at\":\"2026-11-24T10:15:00Z\"}\n"
	    "\n"
	    "   \n"
	    "{\"visit_id\":\"V-9\",\"cancel\":true}\n"
	    "not json\n"
	    "[1]\n"
	    "{\"visit_id\":\"V-3\",\"unit\":\"U\",\"phone\":\"0501234567\","
	    "\"ended_at\":\"2026-11-24T10:15:00Z\"}";
	struct spool_batch b;

	spool_batch_parse(file, sizeof(file) - 1, &b);
	ck_assert_str_eq(b.reject, "");
	ck_assert_uint_eq(b.nvisits, 3);
	ck_assert_uint_eq(b.ncancels, 1);
	ck_assert_str_eq(b.visits[0].visit_id, "V-2026-000123");
	ck_assert_uint_eq(b.visits[0].line, 1);
	ck_assert_int_eq(b.visits[1].kind, SPOOL_KIND_CANCEL);
	ck_assert_uint_eq(b.visits[1].line, 5);
	ck_assert_str_eq(b.visits[2].visit_id, "V-3");
	ck_assert_uint_eq(b.visits[2].line, 8);
	ck_assert_str_eq(b.visits[2].phone, "+358501234567");
	ck_assert_uint_eq(b.nbad, 3);
	ck_assert_uint_eq(b.bad[0].line, 2);
	ck_assert_str_eq(b.bad[0].reason, "phone: not a valid phone number");
	ck_assert_uint_eq(b.bad[1].line, 6);
	ck_assert_str_eq(b.bad[1].reason, "not JSON");
	ck_assert_uint_eq(b.bad[2].line, 7);
	ck_assert_str_eq(b.bad[2].reason, "not a JSON object");
	spool_batch_free(&b);
	ck_assert_ptr_null(b.visits);
	spool_batch_free(NULL);
}
END_TEST

START_TEST(test_batch_whole_rejects)
{
	static const char latin1[] = GOOD_LINE "\n{\"visit_id\":\"P\xe4ivi\"}\n"
	    GOOD_LINE "\n\xe4\n";
	static const char csv[] = "visit_id;unit;phone\nV-1;U;0401234567\n";
	static const char objbad[] = "{}\n[]\n";
	struct spool_batch b;

	spool_batch_parse(latin1, sizeof(latin1) - 1, &b);
	ck_assert_str_eq(b.reject, "not valid UTF-8");
	ck_assert_uint_eq(b.nvisits, 0);
	ck_assert_uint_eq(b.nbad, 2);
	ck_assert_uint_eq(b.bad[0].line, 2);
	ck_assert_uint_eq(b.bad[1].line, 4);
	spool_batch_free(&b);

	spool_batch_parse(csv, sizeof(csv) - 1, &b);
	ck_assert_str_eq(b.reject, "no line is a JSON object");
	ck_assert_uint_eq(b.nbad, 2);
	ck_assert_uint_eq(b.nvisits, 0);
	spool_batch_free(&b);

	/* One JSON object, even a bad one: not a whole reject. */
	spool_batch_parse(objbad, sizeof(objbad) - 1, &b);
	ck_assert_str_eq(b.reject, "");
	ck_assert_uint_eq(b.nbad, 2);
	spool_batch_free(&b);

	/* Empty: nothing to take, nothing bad. */
	spool_batch_parse("\n\n", 2, &b);
	ck_assert_str_eq(b.reject, "");
	ck_assert_uint_eq(b.nbad, 0);
	ck_assert_uint_eq(b.nvisits, 0);
	spool_batch_free(&b);
	spool_batch_parse("", 0, &b);
	ck_assert_str_eq(b.reject, "");
	spool_batch_free(&b);
}
END_TEST

/* ---------------------------------------------------------------- */
/* The file flow. */

struct call {
	char		name[64];
	size_t		n, nbad;
	char		first_id[SPOOL_ID_MAX + 1];
};

static char tdir[64];
static struct ev *ev;
static struct spool *sp;
static uint64_t fake_now;
static int sink_fail;
static struct call calls[16];
static size_t ncalls;
static char logbuf[4096];

static uint64_t
fake_clock(void *arg)
{
	(void)arg;
	return fake_now;
}

static int
sink(void *arg, const char *name, const struct spool_visit *vs, size_t n,
    size_t nbad)
{
	(void)arg;
	if (sink_fail > 0) {
		sink_fail--;
		return -1;
	}
	ck_assert_uint_lt(ncalls, 16);
	snprintf(calls[ncalls].name, sizeof(calls[ncalls].name), "%s", name);
	calls[ncalls].n = n;
	calls[ncalls].nbad = nbad;
	if (n > 0)
		snprintf(calls[ncalls].first_id, sizeof(calls[ncalls].first_id),
		    "%s", vs[0].visit_id);
	ncalls++;
	return 0;
}

static void
log_capture(int prio, const char *line, void *arg)
{
	(void)prio;
	(void)arg;
	strncat(logbuf, line, sizeof(logbuf) - strlen(logbuf) - 2);
	strcat(logbuf, "\n");
}

static void
setup(void)
{
	snprintf(tdir, sizeof(tdir), "/tmp/check_spool.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tdir));
	ev = ev_new();
	fake_now = 1000000;
	ev_set_clock(ev, fake_clock, NULL);
	sp = NULL;
	sink_fail = 0;
	ncalls = 0;
	memset(calls, 0, sizeof(calls));
	logbuf[0] = '\0';
	log_set_sink(log_capture, NULL);
}

static void
teardown(void)
{
	char cmd[128];

	spool_free(sp);
	ev_free(ev);
	log_set_sink(NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tdir);
}

static char *
path(const char *rel)
{
	static char bufs[4][256];
	static int k;

	k = (k + 1) % 4;
	snprintf(bufs[k], sizeof(bufs[k]), "%s/%s", tdir, rel);
	return bufs[k];
}

static void
mkdirs(void)
{
	mkdir(path("tmp"), 0700);
	mkdir(path("new"), 0700);
	mkdir(path("done"), 0700);
	mkdir(path("rejected"), 0700);
}

static void
make_old(const char *rel)
{
	struct timeval tv[2] = { { 1700000000, 0 }, { 1700000000, 0 } };

	ck_assert_int_eq(utimes(path(rel), tv), 0);
}

static void
write_at(const char *rel, const char *content, size_t len, bool old)
{
	FILE *fp = fopen(path(rel), "w");

	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(content, 1, len, fp), len);
	ck_assert_int_eq(fclose(fp), 0);
	if (old)
		make_old(rel);
}

/* Write into tmp/ and rename into new/ (the maildir way). */
static void
drop(const char *name, const char *content)
{
	char t[128], n[128];

	snprintf(t, sizeof(t), "tmp/%s", name);
	snprintf(n, sizeof(n), "new/%s", name);
	write_at(t, content, strlen(content), false);
	ck_assert_int_eq(rename(path(t), path(n)), 0);
}

static bool
exists(const char *rel)
{
	struct stat st;

	return stat(path(rel), &st) == 0;
}

static char *
slurp(const char *rel)
{
	static char buf[4096];
	FILE *fp = fopen(path(rel), "r");
	size_t n;

	ck_assert_msg(fp != NULL, "cannot open %s", rel);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void
start(void)
{
	sp = spool_new(ev, tdir, sink, NULL);
	ck_assert_ptr_nonnull(sp);
	ev_run_once(ev, 0);	/* the initial scan */
}

/* Run the loop until rel exists; returns the real ms it took. */
static long
wait_for(const char *rel, long max_ms)
{
	struct timespec a, b;
	long ms = 0;

	clock_gettime(CLOCK_MONOTONIC, &a);
	while (!exists(rel) && ms < max_ms) {
		ev_run_once(ev, 20);
		clock_gettime(CLOCK_MONOTONIC, &b);
		ms = (b.tv_sec - a.tv_sec) * 1000 +
		    (b.tv_nsec - a.tv_nsec) / 1000000;
	}
	return exists(rel) ? ms : -1;
}

START_TEST(test_creates_dirs)
{
	start();
	ck_assert(exists("tmp"));
	ck_assert(exists("new"));
	ck_assert(exists("done"));
	ck_assert(exists("rejected"));
	ck_assert_uint_eq(ncalls, 0);
}
END_TEST

START_TEST(test_startup_files_in_order)
{
	mkdirs();
	write_at("new/b.jsonl", GOOD_LINE "\n", strlen(GOOD_LINE) + 1, true);
	write_at("new/a.jsonl", "{\"visit_id\":\"A1\",\"cancel\":true}\n",
	    32, true);
	start();
	ck_assert_uint_eq(ncalls, 2);
	ck_assert_str_eq(calls[0].name, "a.jsonl");
	ck_assert_str_eq(calls[0].first_id, "A1");
	ck_assert_str_eq(calls[1].name, "b.jsonl");
	ck_assert_uint_eq(calls[1].n, 1);
	ck_assert(exists("done/a.jsonl"));
	ck_assert(exists("done/b.jsonl"));
	ck_assert(!exists("new/a.jsonl"));
	ck_assert(!exists("new/b.jsonl"));
	ck_assert(!exists("rejected/a.jsonl.err"));
	ck_assert_uint_eq(spool_backlog(sp), 0);
	ck_assert_ptr_nonnull(strstr(logbuf,
	    "b.jsonl: 1 visits, 0 cancels, 0 bad lines"));
	ck_assert_ptr_nonnull(strstr(logbuf,
	    "a.jsonl: 0 visits, 1 cancels, 0 bad lines"));
	ck_assert_ptr_null(strstr(logbuf, "401234567"));
}
END_TEST

START_TEST(test_inotify_rename_seen_fast)
{
	long ms;

	start();
	drop("late.jsonl", GOOD_LINE "\n");
	ms = wait_for("done/late.jsonl", 3000);
	ck_assert_int_ge(ms, 0);
	ck_assert_int_lt(ms, 1000);
	ck_assert_uint_eq(ncalls, 1);
	ck_assert_str_eq(calls[0].first_id, "V-2026-000123");
}
END_TEST

START_TEST(test_inotify_close_write_seen_fast)
{
	long ms;

	start();
	/* Written straight into new/: young but announced. */
	write_at("new/direct.jsonl", GOOD_LINE, strlen(GOOD_LINE), false);
	ms = wait_for("done/direct.jsonl", 3000);
	ck_assert_int_ge(ms, 0);
	ck_assert_int_lt(ms, 1000);
}
END_TEST

START_TEST(test_young_unannounced_waits)
{
	struct timespec ts = { 1, 100000000 };

	mkdirs();
	write_at("new/young.jsonl", GOOD_LINE, strlen(GOOD_LINE), false);
	start();
	ck_assert_uint_eq(ncalls, 0);
	ck_assert(exists("new/young.jsonl"));
	ck_assert_uint_eq(spool_backlog(sp), 1);
	nanosleep(&ts, NULL);
	fake_now += 1000;
	ev_run_once(ev, 0);
	ck_assert_uint_eq(ncalls, 1);
	ck_assert(exists("done/young.jsonl"));
}
END_TEST

START_TEST(test_err_file_content)
{
	static const char file[] =
	    GOOD_LINE "\n"
	    "{\"visit_id\":\"V-2\",\"unit\":\"U\",\"phone\":\"0401234567\","
	    "\"ended_at\":\"2026-11-24T10:15:00\"}\n"
	    "\n"
	    "{\"visit_id\":\"V-3\",\"unit\":\"U\",\"phone\":\"+4670123456\","
	    "\"ended_at\":\"2026-11-24T10:15:00Z\"}\n"
	    "garbage\n"
	    "{\"visit_id\":\"V-9\",\"cancel\":true}\n";

	mkdirs();
	write_at("new/visits-1.jsonl", file, sizeof(file) - 1, true);
	start();
	ck_assert_uint_eq(ncalls, 1);
	ck_assert_uint_eq(calls[0].n, 2);
	ck_assert_uint_eq(calls[0].nbad, 3);
	ck_assert(exists("done/visits-1.jsonl"));
	ck_assert(!exists("rejected/visits-1.jsonl"));
	ck_assert_str_eq(slurp("rejected/visits-1.jsonl.err"),
	    "2: ended_at: not RFC 3339 with offset\n"
	    "4: phone: not a Finnish number (+358 or 0...)\n"
	    "5: not JSON\n");
	/* No temporary left behind. */
	ck_assert(!exists("rejected/.visits-1.jsonl.err.tmp"));
	ck_assert_ptr_nonnull(strstr(logbuf,
	    "visits-1.jsonl: 1 visits, 1 cancels, 3 bad lines"));
	ck_assert_ptr_null(strstr(logbuf, "4670123456"));
	ck_assert_ptr_null(strstr(logbuf, "401234567"));
}
END_TEST

START_TEST(test_non_utf8_rejected_whole)
{
	static const char file[] = GOOD_LINE "\n"
	    "{\"visit_id\":\"V-\xe4\"}\n";

	mkdirs();
	write_at("new/latin1.jsonl", file, sizeof(file) - 1, true);
	start();
	ck_assert_uint_eq(ncalls, 0);
	ck_assert(exists("rejected/latin1.jsonl"));
	ck_assert(!exists("done/latin1.jsonl"));
	ck_assert(!exists("new/latin1.jsonl"));
	ck_assert_str_eq(slurp("rejected/latin1.jsonl.err"),
	    "2: not valid UTF-8\n");
	/* The file moved intact. */
	ck_assert_str_eq(slurp("rejected/latin1.jsonl"), file);
}
END_TEST

START_TEST(test_csv_rejected_whole)
{
	mkdirs();
	write_at("new/x.jsonl", "a;b\n1;2\n", 8, true);
	start();
	ck_assert_uint_eq(ncalls, 0);
	ck_assert(exists("rejected/x.jsonl"));
	ck_assert_str_eq(slurp("rejected/x.jsonl.err"),
	    "1: not JSON\n2: not JSON\n");
}
END_TEST

START_TEST(test_all_bad_objects_go_to_done)
{
	mkdirs();
	write_at("new/x.jsonl", "{}\n{\"visit_id\":\"V\"}\n", 20, true);
	start();
	ck_assert_uint_eq(ncalls, 1);
	ck_assert_uint_eq(calls[0].n, 0);
	ck_assert_uint_eq(calls[0].nbad, 2);
	ck_assert(exists("done/x.jsonl"));
	ck_assert_str_eq(slurp("rejected/x.jsonl.err"),
	    "1: visit_id missing\n2: unit missing\n");
}
END_TEST

START_TEST(test_sink_failure_retried)
{
	mkdirs();
	write_at("new/a.jsonl", GOOD_LINE "\n", strlen(GOOD_LINE) + 1, true);
	write_at("new/b.jsonl", GOOD_LINE "\n", strlen(GOOD_LINE) + 1, true);
	sink_fail = 2;
	start();
	/* a failed: the scan stops there, nothing moves. */
	ck_assert_uint_eq(ncalls, 0);
	ck_assert(exists("new/a.jsonl"));
	ck_assert(exists("new/b.jsonl"));
	ck_assert_uint_eq(spool_backlog(sp), 2);
	/* Backoff: nothing before a second has passed. */
	fake_now += 999;
	ev_run_once(ev, 0);
	ck_assert_uint_eq(sink_fail, 1);
	fake_now += 1;
	ev_run_once(ev, 0);	/* fails again: backoff now 2 s */
	ck_assert_uint_eq(sink_fail, 0);
	ck_assert_uint_eq(ncalls, 0);
	fake_now += 1999;
	ev_run_once(ev, 0);
	ck_assert_uint_eq(ncalls, 0);
	fake_now += 1;
	ev_run_once(ev, 0);
	ck_assert_uint_eq(ncalls, 2);
	ck_assert(exists("done/a.jsonl"));
	ck_assert(exists("done/b.jsonl"));
	ck_assert(!exists("new/a.jsonl"));
	ck_assert_uint_eq(spool_backlog(sp), 0);
}
END_TEST

START_TEST(test_too_big_rejected_whole)
{
	int fd;

	mkdirs();
	fd = open(path("new/big.jsonl"), O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)SPOOL_FILE_MAX + 1), 0);
	close(fd);
	make_old("new/big.jsonl");
	write_at("new/small.jsonl", GOOD_LINE, strlen(GOOD_LINE), true);
	start();
	ck_assert(exists("rejected/big.jsonl"));
	ck_assert_str_eq(slurp("rejected/big.jsonl.err"),
	    "0: larger than 64 MiB; split the file\n");
	ck_assert_uint_eq(ncalls, 1);
	ck_assert_str_eq(calls[0].name, "small.jsonl");
}
END_TEST

START_TEST(test_move_failure_retried)
{
	mkdirs();
	/* done/ is not a directory: the commit works, the move fails. */
	ck_assert_int_eq(rmdir(path("done")), 0);
	write_at("done", "x", 1, false);
	write_at("new/a.jsonl", GOOD_LINE, strlen(GOOD_LINE), true);
	sp = spool_new(ev, tdir, sink, NULL);
	ck_assert_ptr_null(sp);		/* cannot create done/ */
	sp = NULL;
	ck_assert_int_eq(unlink(path("done")), 0);
	start();
	ck_assert_uint_eq(ncalls, 1);
	ck_assert(exists("done/a.jsonl"));

	/* Now break done/ after start-up. */
	ck_assert_int_eq(rename(path("done"), path("done.away")), 0);
	write_at("done", "x", 1, false);
	write_at("new/b.jsonl", GOOD_LINE, strlen(GOOD_LINE), true);
	ck_assert_uint_eq(spool_scan(sp), 0);
	ck_assert_uint_eq(ncalls, 2);
	ck_assert(exists("new/b.jsonl"));	/* nothing lost */
	ck_assert_uint_eq(spool_backlog(sp), 1);
	ck_assert_int_eq(unlink(path("done")), 0);
	ck_assert_int_eq(rename(path("done.away"), path("done")), 0);
	fake_now += 1000;
	ev_run_once(ev, 0);
	/* Committed again (the store ignores the repeat), then moved. */
	ck_assert_uint_eq(ncalls, 3);
	ck_assert_str_eq(calls[2].name, "b.jsonl");
	ck_assert(exists("done/b.jsonl"));
	ck_assert(!exists("new/b.jsonl"));
}
END_TEST

START_TEST(test_other_names_ignored)
{
	mkdirs();
	write_at("new/x.txt", GOOD_LINE, strlen(GOOD_LINE), true);
	write_at("new/x.jsonl.part", GOOD_LINE, strlen(GOOD_LINE), true);
	write_at("new/.jsonl", GOOD_LINE, strlen(GOOD_LINE), true);
	ck_assert_int_eq(mkdir(path("new/dir.jsonl"), 0700), 0);
	ck_assert_int_eq(symlink(path("new/x.txt"), path("new/link.jsonl")),
	    0);
	start();
	drop("y.txt", GOOD_LINE);
	ck_assert_int_eq(wait_for("done/y.txt", 300), -1);
	ck_assert_uint_eq(ncalls, 0);
	ck_assert(exists("new/x.txt"));
	ck_assert(exists("new/x.jsonl.part"));
	ck_assert(exists("new/.jsonl"));
	ck_assert(exists("new/dir.jsonl"));
	ck_assert(exists("new/link.jsonl"));
	ck_assert(exists("new/y.txt"));
}
END_TEST

START_TEST(test_duplicate_done_name_kept)
{
	mkdirs();
	write_at("done/v.jsonl", "old\n", 4, true);
	write_at("new/v.jsonl", GOOD_LINE "\n", strlen(GOOD_LINE) + 1, true);
	start();
	ck_assert_uint_eq(ncalls, 1);
	ck_assert_str_eq(slurp("done/v.jsonl"), "old\n");
	ck_assert_str_eq(slurp("done/v.jsonl.1"), GOOD_LINE "\n");
	ck_assert(!exists("new/v.jsonl"));
	/* And once more. */
	drop("v.jsonl", GOOD_LINE "\n\n");
	ck_assert_int_ge(wait_for("done/v.jsonl.2", 2000), 0);
	ck_assert_str_eq(slurp("done/v.jsonl.2"), GOOD_LINE "\n\n");
	ck_assert_str_eq(slurp("done/v.jsonl"), "old\n");
}
END_TEST

START_TEST(test_periodic_rescan)
{
	start();
	/* link(2) raises only IN_CREATE, which is not watched: the file is
	 * found by the periodic rescan, not at once. */
	write_at("tmp/quiet.jsonl", GOOD_LINE, strlen(GOOD_LINE), true);
	ck_assert_int_eq(link(path("tmp/quiet.jsonl"),
	    path("new/quiet.jsonl")), 0);
	ck_assert_int_eq(wait_for("done/quiet.jsonl", 200), -1);
	ck_assert_uint_eq(ncalls, 0);
	fake_now += SPOOL_RESCAN_MS - 1;
	ev_run_once(ev, 0);
	ck_assert_uint_eq(ncalls, 0);
	fake_now += 1;
	ev_run_once(ev, 0);
	ck_assert_uint_eq(ncalls, 1);
	ck_assert(exists("done/quiet.jsonl"));
	/* spool_scan() works at any time. */
	ck_assert_int_eq(link(path("tmp/quiet.jsonl"),
	    path("new/now.jsonl")), 0);
	ck_assert_uint_eq(spool_scan(sp), 1);
	ck_assert(exists("done/now.jsonl"));
}
END_TEST

static Suite *
spool_suite(void)
{
	Suite *s = suite_create("spool");
	TCase *tc;

	tc = tcase_create("line");
	tcase_add_test(tc, test_good_visit);
	tcase_add_test(tc, test_required_missing);
	tcase_add_test(tc, test_visit_id_rules);
	tcase_add_test(tc, test_unit_rules);
	tcase_add_test(tc, test_phone_rules);
	tcase_add_test(tc, test_ended_at_rules);
	tcase_add_test(tc, test_lang_rules);
	tcase_add_test(tc, test_age_rules);
	tcase_add_test(tc, test_flag_rules);
	tcase_add_test(tc, test_cancel_lines);
	tcase_add_test(tc, test_garbage);
	tcase_add_test(tc, test_out_untouched_on_error);
	suite_add_tcase(s, tc);

	tc = tcase_create("batch");
	tcase_add_test(tc, test_batch_mixed);
	tcase_add_test(tc, test_batch_whole_rejects);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_creates_dirs);
	tcase_add_test(tc, test_startup_files_in_order);
	tcase_add_test(tc, test_inotify_rename_seen_fast);
	tcase_add_test(tc, test_inotify_close_write_seen_fast);
	tcase_add_test(tc, test_young_unannounced_waits);
	tcase_add_test(tc, test_err_file_content);
	tcase_add_test(tc, test_non_utf8_rejected_whole);
	tcase_add_test(tc, test_csv_rejected_whole);
	tcase_add_test(tc, test_all_bad_objects_go_to_done);
	tcase_add_test(tc, test_sink_failure_retried);
	tcase_add_test(tc, test_too_big_rejected_whole);
	tcase_add_test(tc, test_move_failure_retried);
	tcase_add_test(tc, test_other_names_ignored);
	tcase_add_test(tc, test_duplicate_done_name_kept);
	tcase_add_test(tc, test_periodic_rescan);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(spool_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
