/*
 * check_sync: the real uploader against tests/upstream/receiver.py (started
 * per test), with an in-memory outbox as the source.
 */
#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "smsgw/ev.h"
#include "smsgw/log.h"
#include "smsgw/sync.h"
#include "smsgw/util.h"

#define MAXREC	32

/* ---- the fake outbox ---- */

struct fake {
	struct sync_record rec[MAXREC];
	char *bodies[MAXREC];
	bool synced[MAXREC];
	bool failed[MAXREC];
	size_t n;
	struct sync_record out[MAXREC];
	int next_calls;
	int synced_calls;
	int failed_calls;
	int64_t synced_order[MAXREC];	/* ids in the order marked */
	size_t nsynced_order;
	char keys[MAXREC][80];		/* batch_key per mark_synced call */
	char fail_reason[64];
	bool fail_next;			/* next_batch returns -1 once */
};

static struct fake fk;

static void
fake_add(size_t count)
{
	size_t i;

	for (i = 0; i < count && fk.n < MAXREC; i++) {
		size_t k = fk.n++;

		fk.bodies[k] = xasprintf("{\"response_id\":\"r%zu\","
		    "\"revision\":1,\"unit\":\"HAMMAS-JKL\",\"status\":"
		    "\"complete\",\"score\":9,\"comment\":\"kiitos [phone]\"}",
		    k + 1);
		fk.rec[k].id = (int64_t)(k + 1);
		fk.rec[k].body = fk.bodies[k];
	}
}

static int
fake_next(void *arg, size_t max, const struct sync_record **recs)
{
	size_t i, n = 0;

	ck_assert_ptr_eq(arg, &fk);
	fk.next_calls++;
	if (fk.fail_next) {
		fk.fail_next = false;
		return -1;
	}
	for (i = 0; i < fk.n && n < max; i++)
		if (!fk.synced[i] && !fk.failed[i])
			fk.out[n++] = fk.rec[i];
	*recs = fk.out;
	return (int)n;
}

static int
fake_mark_synced(void *arg, const int64_t *ids, size_t n, const char *key)
{
	size_t i;

	(void)arg;
	ck_assert_int_lt(fk.synced_calls, MAXREC);
	strlcpy_s(fk.keys[fk.synced_calls], key, sizeof(fk.keys[0]));
	fk.synced_calls++;
	for (i = 0; i < n; i++) {
		ck_assert(!fk.synced[ids[i] - 1]);
		fk.synced[ids[i] - 1] = true;
		fk.synced_order[fk.nsynced_order++] = ids[i];
	}
	return 0;
}

static int
fake_mark_failed(void *arg, const int64_t *ids, size_t n, const char *why)
{
	size_t i;

	(void)arg;
	fk.failed_calls++;
	strlcpy_s(fk.fail_reason, why, sizeof(fk.fail_reason));
	for (i = 0; i < n; i++)
		fk.failed[ids[i] - 1] = true;
	return 0;
}

static const struct sync_source fake_src = {
	.next_batch = fake_next,
	.mark_synced = fake_mark_synced,
	.mark_failed = fake_mark_failed,
};

static size_t
fake_nsynced(void)
{
	size_t i, c = 0;

	for (i = 0; i < fk.n; i++)
		c += fk.synced[i];
	return c;
}

/* ---- the receiver ---- */

static char tmpdir[256];
static char url[128];
static pid_t rpid = -1;
static bool have_python;
static struct ev *ev;

static const char *
receiver_path(void)
{
	static char buf[1024];
	const char *env = getenv("SMSGW_SRCDIR");
	const char *cands[] = { "tests/upstream/receiver.py",
	    "../upstream/receiver.py", "../../tests/upstream/receiver.py",
	    NULL };
	size_t i;

	if (env != NULL) {
		snprintf(buf, sizeof(buf), "%s/tests/upstream/receiver.py",
		    env);
		if (access(buf, R_OK) == 0)
			return buf;
	}
	for (i = 0; cands[i] != NULL; i++)
		if (access(cands[i], R_OK) == 0)
			return cands[i];
	return NULL;
}

static char *
slurp(const char *name)
{
	char path[512];
	FILE *fp;
	char *buf;
	long len;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if ((fp = fopen(path, "r")) == NULL)
		return xstrdup("");
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = xmalloc((size_t)len + 1);
	buf[fread(buf, 1, (size_t)len, fp)] = '\0';
	fclose(fp);
	return buf;
}

static void
write_file(const char *name, const char *text)
{
	char path[512], tmp[520];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	snprintf(tmp, sizeof(tmp), "%s.t", path);
	fp = fopen(tmp, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
	ck_assert_int_eq(rename(tmp, path), 0);
}

static void
set_mode(const char *mode)
{
	write_file("mode", mode);
}

static void
setup(void)
{
	const char *rp;
	char portfile[300], *p;
	int i;

	memset(&fk, 0, sizeof(fk));
	ev = ev_new();
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_sync.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	have_python = system("command -v python3 >/dev/null 2>&1") == 0;
	if (!have_python) {
		fprintf(stderr, "check_sync: SKIP: python3 not found, the "
		    "receiver cannot run\n");
		return;
	}
	rp = receiver_path();
	ck_assert_msg(rp != NULL, "tests/upstream/receiver.py not found "
	    "(set SMSGW_SRCDIR)");
	rpid = fork();
	ck_assert_int_ne(rpid, -1);
	if (rpid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execlp("python3", "python3", rp, "--port", "0", "--dir",
		    tmpdir, "--ttl", "60", (char *)NULL);
		_exit(127);
	}
	snprintf(portfile, sizeof(portfile), "%s/port", tmpdir);
	for (i = 0; i < 200 && access(portfile, R_OK) != 0; i++)
		usleep(25000);
	ck_assert_msg(access(portfile, R_OK) == 0, "receiver did not start");
	p = slurp("port");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/ingest", atoi(p));
	free(p);
}

static void
teardown(void)
{
	size_t i;
	DIR *d;
	struct dirent *de;
	char path[600];

	if (rpid > 0) {
		kill(rpid, SIGTERM);
		waitpid(rpid, NULL, 0);
		rpid = -1;
	}
	ev_free(ev);
	ev = NULL;
	for (i = 0; i < fk.n; i++)
		free(fk.bodies[i]);
	if ((d = opendir(tmpdir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", tmpdir,
			    de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	if (rmdir(tmpdir) != 0)
		fprintf(stderr, "check_sync: cannot remove %s\n", tmpdir);
}

#define SKIP_WITHOUT_PYTHON() do {					\
	if (!have_python)						\
		return;							\
} while (0)

static void
cfg_init(struct sync_config *c, size_t batch)
{
	memset(c, 0, sizeof(*c));
	c->url = url;
	c->batch = batch;
	c->timeout_s = 5;
	c->backoff_min_ms = 50;
	c->backoff_max_ms = 400;
}

/* Run the loop until pred() holds or ms pass; returns pred(). */
static bool
run_until(bool (*pred)(struct sync *), struct sync *s, int ms)
{
	uint64_t end = util_mono_ms() + (uint64_t)ms;

	while (!pred(s) && util_mono_ms() < end)
		ev_run_once(ev, 20);
	return pred(s);
}

static bool
all_synced(struct sync *s)
{
	struct sync_status st;

	sync_get_status(s, &st);
	return fake_nsynced() == fk.n && st.state == SYNC_STATE_IDLE;
}

static bool
all_done(struct sync *s)
{
	size_t i;
	struct sync_status st;

	sync_get_status(s, &st);
	for (i = 0; i < fk.n; i++)
		if (!fk.synced[i] && !fk.failed[i])
			return false;
	return st.state == SYNC_STATE_IDLE;
}

static bool
in_backoff(struct sync *s)
{
	struct sync_status st;

	sync_get_status(s, &st);
	return st.state == SYNC_STATE_BACKOFF;
}

/* ---- parsing requests.jsonl (compact JSON from receiver.py) ---- */

static size_t
split_lines(char *buf, char **lines, size_t max)
{
	size_t n = 0;
	char *save = NULL, *l;

	for (l = strtok_r(buf, "\n", &save); l != NULL && n < max;
	    l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	return n;
}

/* Value of a string field "name":"value" into out; false if absent. */
static bool
json_str(const char *line, const char *name, char *out, size_t len)
{
	char pat[128];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "\"%s\":\"", name);
	if ((p = strstr(line, pat)) == NULL)
		return false;
	p += strlen(pat);
	if ((e = strchr(p, '"')) == NULL || (size_t)(e - p) >= len)
		return false;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
	return true;
}

/* The response ids in a request's body, as "r1,r2,r3". */
static void
body_ids(const char *line, char *out, size_t len)
{
	const char *p = strstr(line, "\"body\":[");
	char id[16];

	out[0] = '\0';
	ck_assert_ptr_nonnull(p);
	while ((p = strstr(p, "\"response_id\":\"")) != NULL) {
		p += strlen("\"response_id\":\"");
		snprintf(id, sizeof(id), "%.*s", (int)strcspn(p, "\""), p);
		if (out[0] != '\0')
			strlcpy_s(out + strlen(out), ",", len - strlen(out));
		strlcpy_s(out + strlen(out), id, len - strlen(out));
	}
}

static bool
is_hex64(const char *k)
{
	size_t i;

	for (i = 0; k[i] != '\0'; i++)
		if (strchr("0123456789abcdef", k[i]) == NULL)
			return false;
	return i == 64;
}

/* ---- tests ---- */

START_TEST(t_ok_batches)
{
	struct sync_config c;
	struct sync_status st;
	struct sync *s;
	char *buf, *lines[16], ids[256], key[80], prev[80] = "";
	const char *want[] = { "r1,r2,r3", "r4,r5,r6", "r7" };
	size_t n, i;

	SKIP_WITHOUT_PYTHON();
	fake_add(7);
	cfg_init(&c, 3);
	s = sync_new(ev, &c, &fake_src, &fk);
	ck_assert_ptr_nonnull(s);
	ck_assert(run_until(all_synced, s, 5000));
	for (i = 0; i < 7; i++)
		ck_assert_int_eq(fk.synced_order[i], (int64_t)i + 1);
	ck_assert_int_eq(fk.synced_calls, 3);
	sync_get_status(s, &st);
	ck_assert_int_eq(st.posted_batches, 3);
	ck_assert_int_eq(st.posted_records, 7);
	ck_assert_int_eq(st.last_http_status, 200);
	ck_assert_int_eq(st.consecutive_failures, 0);
	ck_assert_int_eq(st.next_retry_in_ms, -1);
	ck_assert_str_eq(st.last_error, "");

	buf = slurp("requests.jsonl");
	n = split_lines(buf, lines, 16);
	ck_assert_int_eq(n, 3);
	for (i = 0; i < n; i++) {
		const char *b;

		ck_assert_ptr_nonnull(strstr(lines[i], "\"method\":\"POST\""));
		ck_assert_ptr_nonnull(strstr(lines[i],
		    "\"Content-Type\":\"application/json\""));
		ck_assert_ptr_null(strstr(lines[i], "\"Authorization\""));
		body_ids(lines[i], ids, sizeof(ids));
		ck_assert_str_eq(ids, want[i]);
		ck_assert(json_str(lines[i], "Idempotency-Key", key,
		    sizeof(key)));
		ck_assert(is_hex64(key));
		ck_assert_str_eq(key, fk.keys[i]);
		ck_assert_str_ne(key, prev);
		strlcpy_s(prev, key, sizeof(prev));
		/* nothing but the records' own text goes out: no long digit
		 * runs (phone-number-like) in any body */
		b = strstr(lines[i], "\"body\":");
		for (; *b != '\0' && strncmp(b, "],\"status\":", 11) != 0; b++)
			ck_assert(strspn(b, "0123456789") < 6);
	}
	free(buf);
	buf = slurp("accepted.jsonl");
	ck_assert_ptr_nonnull(strstr(buf, "\"records\":3"));
	ck_assert_ptr_nonnull(strstr(buf, "\"records\":1"));
	free(buf);

	/* new records + kick: posted at once */
	fake_add(2);
	sync_kick(s);
	sync_get_status(s, &st);
	ck_assert_int_eq(st.state, SYNC_STATE_POSTING);
	ck_assert(run_until(all_synced, s, 5000));
	sync_get_status(s, &st);
	ck_assert_int_eq(st.posted_records, 9);
	sync_free(s);
}
END_TEST

/* Same batch, same key: a deterministic key survives a restart too. */
START_TEST(t_retry_same_key)
{
	struct sync_config c;
	struct sync_status st;
	struct sync *s;
	char *buf, *lines[16], ids[256], k[5][80];
	const char *want[] = { "r1,r2", "r1,r2", "r1,r2", "r3,r4", "r5" };
	size_t n, i;
	unsigned maxfail = 0;
	uint64_t end;

	SKIP_WITHOUT_PYTHON();
	set_mode("500,500,200");
	fake_add(5);
	cfg_init(&c, 2);
	s = sync_new(ev, &c, &fake_src, &fk);
	ck_assert_ptr_nonnull(s);
	end = util_mono_ms() + 5000;
	while (!all_synced(s) && util_mono_ms() < end) {
		ev_run_once(ev, 10);
		sync_get_status(s, &st);
		if (st.consecutive_failures > maxfail)
			maxfail = st.consecutive_failures;
		if (st.state == SYNC_STATE_BACKOFF)
			ck_assert_str_eq(st.last_error, "HTTP 500");
	}
	ck_assert(all_synced(s));
	ck_assert_int_eq(maxfail, 2);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(fk.synced_order[i], (int64_t)i + 1);
	buf = slurp("requests.jsonl");
	n = split_lines(buf, lines, 16);
	ck_assert_int_eq(n, 5);
	for (i = 0; i < n; i++) {
		body_ids(lines[i], ids, sizeof(ids));
		ck_assert_str_eq(ids, want[i]);
		ck_assert(json_str(lines[i], "Idempotency-Key", k[i], 80));
	}
	ck_assert_str_eq(k[0], k[1]);
	ck_assert_str_eq(k[1], k[2]);
	ck_assert_str_ne(k[2], k[3]);
	ck_assert_str_eq(fk.keys[0], k[0]);
	free(buf);
	sync_free(s);

	/* a restart re-derives the same key for the same rows */
	memset(fk.synced, 0, sizeof(fk.synced));
	fk.nsynced_order = 0;
	fk.synced_calls = 0;
	s = sync_new(ev, &c, &fake_src, &fk);
	ck_assert(run_until(all_synced, s, 5000));
	ck_assert_str_eq(fk.keys[0], k[0]);
	ck_assert_str_eq(fk.keys[1], k[3]);
	sync_free(s);
}
END_TEST

START_TEST(t_retry_after)
{
	struct sync_config c;
	struct sync_status st;
	struct sync *s;

	SKIP_WITHOUT_PYTHON();
	set_mode("429,200");
	fake_add(1);
	cfg_init(&c, 10);
	c.backoff_max_ms = 5000;
	s = sync_new(ev, &c, &fake_src, &fk);
	ck_assert(run_until(in_backoff, s, 5000));
	sync_get_status(s, &st);
	ck_assert_int_eq(st.last_http_status, 429);
	ck_assert_int_eq(st.consecutive_failures, 1);
	/* Retry-After: 1 wins over the 50 ms backoff */
	ck_assert_int_gt(st.next_retry_in_ms, 800);
	ck_assert_int_le(st.next_retry_in_ms, 1000);
	ck_assert_int_eq(fk.synced_calls, 0);
	ck_assert(run_until(all_synced, s, 5000));
	sync_get_status(s, &st);
	ck_assert_int_eq(st.last_http_status, 200);
	ck_assert_int_eq(st.consecutive_failures, 0);
	sync_free(s);

	/* Retry-After is capped by backoff_max_ms */
	memset(fk.synced, 0, sizeof(fk.synced));
	set_mode("429,200");
	c.backoff_max_ms = 300;
	s = sync_new(ev, &c, &fake_src, &fk);
	ck_assert(run_until(in_backoff, s, 5000));
	sync_get_status(s, &st);
	ck_assert_int_le(st.next_retry_in_ms, 300);
	ck_assert(run_until(all_synced, s, 5000));
	sync_free(s);
}
END_TEST

START_TEST(t_4xx_parked)
{
	struct sync_config c;
	struct sync_status st;
	struct sync *s;
	char *buf, *lines[16], ids[64];
	size_t n;

	SKIP_WITHOUT_PYTHON();
	set_mode("400,200");
	fake_add(5);
	cfg_init(&c, 2);
	s = sync_new(ev, &c, &fake_src, &fk);
	ck_assert(run_until(all_done, s, 5000));
	ck_assert_int_eq(fk.failed_calls, 1);
	ck_assert_str_eq(fk.fail_reason, "HTTP 400");
	ck_assert(fk.failed[0] && fk.failed[1]);
	ck_assert(!fk.synced[0] && !fk.synced[1]);
	ck_assert(fk.synced[2] && fk.synced[3] && fk.synced[4]);
	sync_get_status(s, &st);
	ck_assert_int_eq(st.parked_batches, 1);
	ck_assert_int_eq(st.parked_records, 2);
	ck_assert_int_eq(st.posted_records, 3);
	ck_assert_int_eq(st.consecutive_failures, 0);
	buf = slurp("requests.jsonl");
	n = split_lines(buf, lines, 16);
	ck_assert_int_eq(n, 3);	/* the refused batch is not retried */
	body_ids(lines[1], ids, sizeof(ids));
	ck_assert_str_eq(ids, "r3,r4");
	free(buf);
	sync_free(s);
}
END_TEST

START_TEST(t_hang_timeout)
{
	struct sync_config c;
	struct sync_status st;
	struct sync *s;
	uint64_t t0;

	SKIP_WITHOUT_PYTHON();
	set_mode("hang");
	fake_add(2);
	cfg_init(&c, 10);
	c.timeout_s = 1;
	s = sync_new(ev, &c, &fake_src, &fk);
	t0 = util_mono_ms();
	ck_assert(run_until(in_backoff, s, 4000));
	ck_assert_uint_ge(util_mono_ms() - t0, 900);
	set_mode("200");
	sync_get_status(s, &st);
	ck_assert_int_eq(st.consecutive_failures, 1);
	ck_assert_str_ne(st.last_error, "");
	ck_assert(run_until(all_synced, s, 5000));
	sync_free(s);
}
END_TEST

START_TEST(t_close_retry)
{
	struct sync_config c;
	struct sync *s;
	char *buf, *lines[8], k0[80], k1[80];

	SKIP_WITHOUT_PYTHON();
	set_mode("close,200");
	fake_add(3);
	cfg_init(&c, 10);
	s = sync_new(ev, &c, &fake_src, &fk);
	ck_assert(run_until(all_synced, s, 5000));
	buf = slurp("requests.jsonl");
	ck_assert_int_eq(split_lines(buf, lines, 8), 2);
	ck_assert(json_str(lines[0], "Idempotency-Key", k0, sizeof(k0)));
	ck_assert(json_str(lines[1], "Idempotency-Key", k1, sizeof(k1)));
	ck_assert_str_eq(k0, k1);
	free(buf);
	sync_free(s);
}
END_TEST

/* Nothing listening: backoff doubles from min, +-20%, never above max. */
START_TEST(t_network_backoff)
{
	struct sync_config c;
	struct sync_status st;
	struct sync *s;
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	char deadurl[80];
	int fd, i;
	int64_t seen[8];
	unsigned last = 0;
	uint64_t end;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(deadurl, sizeof(deadurl), "http://127.0.0.1:%d/x",
	    ntohs(sa.sin_port));
	/* bound but not listening: connections are refused */

	fake_add(1);
	cfg_init(&c, 10);
	c.url = deadurl;
	c.backoff_min_ms = 20;
	c.backoff_max_ms = 160;
	s = sync_new(ev, &c, &fake_src, &fk);
	end = util_mono_ms() + 5000;
	while (last < 7 && util_mono_ms() < end) {
		ev_run_once(ev, 5);
		sync_get_status(s, &st);
		if (st.consecutive_failures != last) {
			ck_assert_int_eq(st.consecutive_failures, last + 1);
			ck_assert_int_eq(st.state, SYNC_STATE_BACKOFF);
			seen[last++] = st.next_retry_in_ms;
		}
	}
	ck_assert_int_eq(last, 7);
	ck_assert_int_eq(st.last_http_status, 0);
	ck_assert_str_ne(st.last_error, "");
	for (i = 0; i < 7; i++) {
		int64_t base = 20 << i;

		if (base > 160)
			base = 160;
		ck_assert_int_le(seen[i], base * 12 / 10);
		ck_assert_int_le(seen[i], 160);
		ck_assert_int_ge(seen[i], base * 8 / 10 - 15);
	}
	for (i = 1; i < 4; i++)
		ck_assert_int_gt(seen[i], seen[i - 1]);
	ck_assert_int_eq(fk.synced_calls, 0);
	sync_free(s);
	close(fd);
}
END_TEST

START_TEST(t_bearer)
{
	struct sync_config c;
	struct sync_status st;
	struct sync *s;
	char *buf, *lines[8], tf[300], auth[128];

	SKIP_WITHOUT_PYTHON();
	snprintf(tf, sizeof(tf), "%s/token", tmpdir);
	write_file("token", "  s3cret-token.A_b\n\n");
	fake_add(1);
	cfg_init(&c, 10);
	c.token_file = tf;
	s = sync_new(ev, &c, &fake_src, &fk);
	ck_assert(run_until(all_synced, s, 5000));
	/* rotated token: read again before the next post */
	write_file("token", "rotated\n");
	fake_add(1);
	sync_kick(s);
	ck_assert(run_until(all_synced, s, 5000));
	buf = slurp("requests.jsonl");
	ck_assert_int_eq(split_lines(buf, lines, 8), 2);
	ck_assert(json_str(lines[0], "Authorization", auth, sizeof(auth)));
	ck_assert_str_eq(auth, "Bearer s3cret-token.A_b");
	ck_assert(json_str(lines[1], "Authorization", auth, sizeof(auth)));
	ck_assert_str_eq(auth, "Bearer rotated");
	free(buf);

	/* unreadable token file: retryable, nothing sent without it */
	unlink(tf);
	fake_add(1);
	sync_kick(s);
	sync_get_status(s, &st);
	ck_assert_int_eq(st.state, SYNC_STATE_BACKOFF);
	ck_assert_ptr_nonnull(strstr(st.last_error, "token_file"));
	write_file("token", "back");
	ck_assert(run_until(all_synced, s, 5000));
	buf = slurp("requests.jsonl");
	ck_assert_int_eq(split_lines(buf, lines, 8), 3);
	ck_assert(json_str(lines[2], "Authorization", auth, sizeof(auth)));
	ck_assert_str_eq(auth, "Bearer back");
	free(buf);
	sync_free(s);
}
END_TEST

START_TEST(t_disabled_and_reconfigure)
{
	struct sync_config c;
	struct sync_status st;
	struct sync *s;
	char *buf;
	int i;

	SKIP_WITHOUT_PYTHON();
	fake_add(3);
	cfg_init(&c, 10);
	c.url = "";
	s = sync_new(ev, &c, &fake_src, &fk);
	ck_assert_ptr_nonnull(s);
	sync_kick(s);
	for (i = 0; i < 5; i++)
		ev_run_once(ev, 10);
	sync_get_status(s, &st);
	ck_assert_int_eq(st.state, SYNC_STATE_DISABLED);
	ck_assert_str_eq(sync_state_name(st.state), "disabled");
	ck_assert_int_eq(fk.next_calls, 0);
	buf = slurp("requests.jsonl");
	ck_assert_str_eq(buf, "");
	free(buf);

	/* reload with a url: starts from the source */
	c.url = url;
	ck_assert_int_eq(sync_reconfigure(s, &c), 0);
	ck_assert(run_until(all_synced, s, 5000));
	sync_get_status(s, &st);
	ck_assert_int_eq(st.posted_records, 3);

	/* reload while in backoff: the backoff is forgotten */
	set_mode("503");
	fake_add(1);
	sync_kick(s);
	ck_assert(run_until(in_backoff, s, 5000));
	set_mode("200");
	c.backoff_min_ms = 60000;
	c.backoff_max_ms = 60000;
	ck_assert_int_eq(sync_reconfigure(s, &c), 0);
	sync_get_status(s, &st);
	ck_assert_int_eq(st.consecutive_failures, 0);
	ck_assert(run_until(all_synced, s, 5000));

	/* and back to disabled */
	c.url = NULL;
	ck_assert_int_eq(sync_reconfigure(s, &c), 0);
	fake_add(1);
	sync_kick(s);
	for (i = 0; i < 5; i++)
		ev_run_once(ev, 10);
	sync_get_status(s, &st);
	ck_assert_int_eq(st.state, SYNC_STATE_DISABLED);
	ck_assert(!fk.synced[fk.n - 1]);
	sync_free(s);
	sync_free(NULL);
}
END_TEST

START_TEST(t_source_error)
{
	struct sync_config c;
	struct sync_status st;
	struct sync *s;

	SKIP_WITHOUT_PYTHON();
	fake_add(2);
	fk.fail_next = true;
	cfg_init(&c, 10);
	s = sync_new(ev, &c, &fake_src, &fk);
	ck_assert(run_until(in_backoff, s, 2000));
	sync_get_status(s, &st);
	ck_assert_str_eq(st.last_error, "source error");
	ck_assert(run_until(all_synced, s, 5000));
	sync_free(s);
}
END_TEST

static Suite *
sync_suite(void)
{
	Suite *su = suite_create("sync");
	TCase *tc = tcase_create("receiver");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, t_ok_batches);
	tcase_add_test(tc, t_retry_same_key);
	tcase_add_test(tc, t_retry_after);
	tcase_add_test(tc, t_4xx_parked);
	tcase_add_test(tc, t_hang_timeout);
	tcase_add_test(tc, t_close_retry);
	tcase_add_test(tc, t_network_backoff);
	tcase_add_test(tc, t_bearer);
	tcase_add_test(tc, t_disabled_and_reconfigure);
	tcase_add_test(tc, t_source_error);
	suite_add_tcase(su, tc);
	return su;
}

int
main(void)
{
	SRunner *sr = srunner_create(sync_suite());
	int nf;

	srunner_run_all(sr, CK_ENV);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
