/*
 * check_smpp: the ESME against tests/smsc/smsc.py (a real SMPP server in
 * python3, started per test with fork/exec).  Exits 77 (automake SKIP)
 * when python3 or smsc.py cannot be found.  smsc.py is located through
 * $SMSC_PY, then $srcdir/tests/smsc/smsc.py, $srcdir/../smsc/smsc.py and
 * tests/smsc/smsc.py.
 */
#include <check.h>
#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "smsgw/ev.h"
#include "smsgw/smpp.h"
#include "smsgw/util.h"

#define MAXK	1100

static char smsc_py[4096];
static char dir[256];
static pid_t smsc_pid = -1;
static int smsc_port;
static struct ev *ev;
static struct smpp *cli;

static struct {
	int submitted[MAXK];	/* parts */
	int msgs_ok;		/* messages with all parts submitted */
	int failed[MAXK];
	uint32_t fail_status[MAXK];
	int nfailed;
	int uncertain[MAXK];
	int nuncertain;
	int unsent[MAXK];
	int nunsent;
	int delivered[MAXK];
	int ndelivered, nundelivered, nunknown;
	bool saw[8];
} rec;

static void
ev_state(enum smpp_state st, void *arg)
{
	(void)arg;
	rec.saw[st] = true;
}

static void
ev_submitted(uint64_t key, unsigned part, unsigned nparts, const char *id,
    void *arg)
{
	(void)arg;
	ck_assert_uint_lt(key, MAXK);
	ck_assert_str_ne(id, "");
	rec.submitted[key]++;
	if (part == nparts)
		rec.msgs_ok++;
}

static void
ev_failed(uint64_t key, uint32_t status, const char *reason, void *arg)
{
	(void)arg;
	(void)reason;
	ck_assert_uint_lt(key, MAXK);
	rec.failed[key]++;
	rec.fail_status[key] = status;
	rec.nfailed++;
}

static void
ev_uncertain(uint64_t key, void *arg)
{
	(void)arg;
	ck_assert_uint_lt(key, MAXK);
	rec.uncertain[key]++;
	rec.nuncertain++;
}

static void
ev_unsent(uint64_t key, void *arg)
{
	(void)arg;
	ck_assert_uint_lt(key, MAXK);
	rec.unsent[key]++;
	rec.nunsent++;
}

static void
ev_delivered(uint64_t key, const char *id, bool ok, const char *stat,
    void *arg)
{
	(void)arg;
	(void)id;
	(void)stat;
	if (key == 0) {
		rec.nunknown++;
		return;
	}
	ck_assert_uint_lt(key, MAXK);
	rec.delivered[key]++;
	if (ok)
		rec.ndelivered++;
	else
		rec.nundelivered++;
}

static const struct smpp_events evs = {
	ev_state, ev_submitted, ev_failed, ev_uncertain, ev_unsent,
	ev_delivered
};

/* ---- smsc.py process ------------------------------------------------ */

static void
path_in(char *buf, size_t len, const char *d, const char *name)
{
	ck_assert_int_lt(snprintf(buf, len, "%s/%s", d, name), (int)len);
}

/* cert/key: serve TLS with them (both NULL: plain TCP). */
static pid_t
smsc_start_tls(const char *d, int port, const char *cert, const char *key)
{
	char pf[512], ps[16];
	pid_t pid;
	int i;
	FILE *f;

	path_in(pf, sizeof(pf), d, "port");
	unlink(pf);
	snprintf(ps, sizeof(ps), "%d", port);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (cert != NULL)
			execlp("python3", "python3", smsc_py, "--port", ps,
			    "--dir", d, "--system-id", "smsgw", "--password",
			    "secret", "--tls-cert", cert, "--tls-key", key,
			    (char *)NULL);
		else
			execlp("python3", "python3", smsc_py, "--port", ps,
			    "--dir", d, "--system-id", "smsgw", "--password",
			    "secret", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 500; i++) {
		if ((f = fopen(pf, "r")) != NULL) {
			ck_assert_int_eq(fscanf(f, "%d", &smsc_port), 1);
			fclose(f);
			return pid;
		}
		ck_assert_int_eq(waitpid(pid, NULL, WNOHANG), 0);
		usleep(20000);
	}
	ck_abort_msg("smsc.py did not start");
	return -1;
}

static pid_t
smsc_start(const char *d, int port)
{
	return smsc_start_tls(d, port, NULL, NULL);
}

static void
smsc_kill(pid_t pid, int sig)
{
	int status;

	if (pid <= 0)
		return;
	kill(pid, sig);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	if (sig == SIGTERM)
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "smsc.py did not exit cleanly on SIGTERM");
}

static void
smsc_mode(const char *text)
{
	char tmp[512], fin[512];
	FILE *f;

	path_in(tmp, sizeof(tmp), dir, "mode.tmp");
	path_in(fin, sizeof(fin), dir, "mode");
	f = fopen(tmp, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(rename(tmp, fin), 0);
}

/* Parsed lines of d/name; caller frees with json_object_put each. */
static size_t
read_jsonl(const char *d, const char *name, json_object **out, size_t max)
{
	char p[512], *line = NULL;
	size_t cap = 0, n = 0;
	FILE *f;

	path_in(p, sizeof(p), d, name);
	if ((f = fopen(p, "r")) == NULL)
		return 0;
	while (getline(&line, &cap, f) > 0) {
		json_object *o = json_tokener_parse(line);

		ck_assert_ptr_nonnull(o);
		if (n < max)
			out[n++] = o;
		else
			json_object_put(o);
	}
	free(line);
	fclose(f);
	return n;
}

static const char *
jstr(json_object *o, const char *k)
{
	json_object *v;

	ck_assert_msg(json_object_object_get_ex(o, k, &v), "no %s", k);
	return json_object_get_string(v);
}

static int
jint(json_object *o, const char *k)
{
	json_object *v;

	ck_assert_msg(json_object_object_get_ex(o, k, &v), "no %s", k);
	return json_object_get_int(v);
}

static size_t
count_lines(const char *d, const char *name)
{
	json_object *o[64];
	size_t n = read_jsonl(d, name, o, 64), i;

	for (i = 0; i < n; i++)
		json_object_put(o[i]);
	return n;
}

/* ---- fixture -------------------------------------------------------- */

static void
setup(void)
{
	char tmpl[] = "/tmp/check_smpp.XXXXXX";

	memset(&rec, 0, sizeof(rec));
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	strlcpy_s(dir, tmpl, sizeof(dir));
	smsc_pid = smsc_start(dir, 0);
	ev = ev_new();
	cli = NULL;
}

static void
teardown(void)
{
	char cmd[600];

	smpp_free(cli);
	ev_free(ev);
	smsc_kill(smsc_pid, SIGTERM);
	smsc_pid = -1;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "teardown: cannot remove %s\n", dir);
}

static void
base_cfg(struct smpp_config *c)
{
	memset(c, 0, sizeof(*c));
	c->host = "127.0.0.1";
	c->port = smsc_port;
	c->system_id = "smsgw";
	c->password = "secret";
	c->source_addr = "HYVAKS";
	c->window = 10;
	c->backoff_min_ms = 200;
	c->throttle_ms = 100;
}

static bool
run_until(bool (*pred)(void), int ms)
{
	uint64_t end = util_mono_ms() + (uint64_t)ms;

	while (!pred() && util_mono_ms() < end)
		ev_run_once(ev, 20);
	return pred();
}

static void
run_for(int ms)
{
	uint64_t end = util_mono_ms() + (uint64_t)ms;

	while (util_mono_ms() < end)
		ev_run_once(ev, 20);
}

static struct smpp_status
status(void)
{
	struct smpp_status st;

	smpp_get_status(cli, &st);
	return st;
}

static bool
is_bound(void)
{
	return status().state == SMPP_BOUND;
}

/* ---- tests ---------------------------------------------------------- */

static int want_delivered;

static bool
all_delivered(void)
{
	return rec.ndelivered + rec.nundelivered >= want_delivered;
}

static bool
four_dlr_resps(void)
{
	return count_lines(dir, "dlr_resps.jsonl") == 4;
}

START_TEST(test_bind_submit_receipts)
{
	struct smpp_config c;
	char pw[512], longtext[400];
	json_object *o[16];
	size_t n, i;
	FILE *f;

	/* password from a file, trailing newline stripped */
	path_in(pw, sizeof(pw), dir, "pw");
	f = fopen(pw, "w");
	fputs("secret\n", f);
	fclose(f);
	base_cfg(&c);
	c.password = NULL;
	c.password_file = pw;
	smsc_mode("receipts on\n");
	cli = smpp_new(ev, &c, &evs, NULL);
	ck_assert_ptr_nonnull(cli);
	ck_assert(run_until(is_bound, 3000));
	ck_assert(rec.saw[SMPP_CONNECTING] && rec.saw[SMPP_BINDING]);

	memset(longtext, 'x', 200);
	longtext[200] = '\0';
	ck_assert_int_eq(smpp_submit(cli, 1, "+358401234567", "Hei!"), 0);
	ck_assert_int_eq(smpp_submit(cli, 2, "+358401234568",
	    "ä ö å € 😀"), 0);
	ck_assert_int_eq(smpp_submit(cli, 3, "358401234569", longtext), 0);
	/* refused at once, no callback */
	ck_assert_int_eq(smpp_submit(cli, 0, "+358401234567", "x"), -1);
	ck_assert_int_eq(smpp_submit(cli, 4, "+35840abc", "x"), -1);
	ck_assert_int_eq(smpp_submit(cli, 4, "+358401234567", "\xff"), -1);
	want_delivered = 3;
	ck_assert(run_until(all_delivered, 5000));
	ck_assert_int_eq(rec.ndelivered, 3);
	ck_assert_int_eq(rec.submitted[1], 1);
	ck_assert_int_eq(rec.submitted[2], 1);
	ck_assert_int_eq(rec.submitted[3], 2);
	ck_assert_int_eq(rec.delivered[3], 1);	/* once per message */
	ck_assert_uint_eq(status().submitted, 4);
	ck_assert_uint_eq(status().delivered, 3);

	n = read_jsonl(dir, "submits.jsonl", o, 16);
	ck_assert_uint_eq(n, 4);
	for (i = 0; i < n; i++) {
		ck_assert_str_eq(jstr(o[i], "source_addr"), "HYVAKS");
		ck_assert_int_eq(jint(o[i], "source_ton"), 5);
		ck_assert_int_eq(jint(o[i], "dest_ton"), 1);
		ck_assert_int_eq(jint(o[i], "registered_delivery"), 1);
	}
	ck_assert_str_eq(jstr(o[0], "dest_addr"), "358401234567");
	ck_assert_str_eq(jstr(o[0], "text"), "Hei!");
	ck_assert_int_eq(jint(o[0], "data_coding"), 0);
	ck_assert_str_eq(jstr(o[1], "text"), "ä ö å € 😀");
	ck_assert_int_eq(jint(o[1], "data_coding"), 8);
	ck_assert_int_eq(jint(o[2], "esm_class"), 0x40);
	ck_assert_int_eq(jint(o[2], "total"), 2);
	ck_assert_int_eq(jint(o[2], "part"), 1);
	ck_assert_int_eq(jint(o[3], "part"), 2);
	ck_assert_int_eq(jint(o[2], "ref"), jint(o[3], "ref"));
	ck_assert_uint_eq(strlen(jstr(o[2], "text")) +
	    strlen(jstr(o[3], "text")), 200);
	for (i = 0; i < n; i++)
		json_object_put(o[i]);
	/* every receipt was answered (the SMSC logs the resps) */
	ck_assert(run_until(four_dlr_resps, 2000));

	/* a failed receipt ends the message as undelivered */
	smsc_mode("receipts fail\n");
	ck_assert_int_eq(smpp_submit(cli, 5, "+358401234567", "x"), 0);
	want_delivered = 4;
	ck_assert(run_until(all_delivered, 3000));
	ck_assert_int_eq(rec.nundelivered, 1);
	ck_assert_int_eq(rec.delivered[5], 1);

	/* graceful stop: unbind answered, state stopped */
	smpp_stop(cli);
	ck_assert_int_eq(smpp_submit(cli, 6, "+358401234567", "x"), -1);
	run_for(300);
	ck_assert_int_eq(status().state, SMPP_STOPPED);
	ck_assert_uint_eq(count_lines(dir, "binds.jsonl"), 1);
}
END_TEST

START_TEST(test_bad_credentials)
{
	struct smpp_config c;
	struct smpp_status st;

	base_cfg(&c);
	c.password = "wrong";
	c.backoff_min_ms = 0;	/* the default: 1 s doubling */
	cli = smpp_new(ev, &c, &evs, NULL);
	ck_assert_ptr_nonnull(cli);
	ck_assert_int_eq(smpp_submit(cli, 1, "+358401234567", "x"), 0);
	run_for(3500);
	st = status();
	ck_assert_int_eq(st.state, SMPP_BIND_FAILED);
	ck_assert(!rec.saw[SMPP_BOUND]);
	/* attempts at about 0, 1 and 3 s: no tight loop */
	ck_assert_uint_ge(st.binds_failed, 2);
	ck_assert_uint_le(st.binds_failed, 3);
	ck_assert_uint_eq(count_lines(dir, "binds.jsonl"), st.binds_failed);
	ck_assert_ptr_nonnull(strstr(st.last_error, "ESME_RBINDFAIL"));
	ck_assert_uint_eq(st.queued, 1);
	ck_assert_uint_eq(st.outstanding, 0);
	ck_assert_int_eq(rec.nfailed + rec.nuncertain + rec.msgs_ok, 0);
	ck_assert_uint_eq(count_lines(dir, "submits.jsonl"), 0);
	/* refused configurations */
	c.tls = true;
	c.ca_file = "/nonexistent/ca.pem";
	ck_assert_ptr_null(smpp_new(ev, &c, &evs, NULL));
	c.tls = false;
	c.ca_file = NULL;
	c.source_addr = "HYVAKS-TOO-LONG";
	ck_assert_ptr_null(smpp_new(ev, &c, &evs, NULL));
}
END_TEST

static int want_msgs;

static bool
msgs_done(void)
{
	return rec.msgs_ok + rec.nfailed >= want_msgs;
}

#define BULK	1000

START_TEST(test_bulk_1000)
{
	struct smpp_config c;
	static json_object *o[BULK + 10];
	static bool seen[BULK + 1];
	char text[128], dest[32];
	uint64_t t0, t1;
	size_t n, i;
	int k;

	base_cfg(&c);
	c.no_receipts = true;
	cli = smpp_new(ev, &c, &evs, NULL);
	ck_assert(run_until(is_bound, 3000));
	t0 = util_mono_ms();
	for (k = 1; k <= BULK; k++) {
		snprintf(text, sizeof(text), "msg %d ä ö å € 😀", k);
		snprintf(dest, sizeof(dest), "+3584000%05d", k);
		ck_assert_int_eq(smpp_submit(cli, (uint64_t)k, dest, text), 0);
	}
	ck_assert_uint_eq(status().queued, BULK);
	want_msgs = BULK;
	ck_assert(run_until(msgs_done, 15000));
	t1 = util_mono_ms();
	fprintf(stderr, "check_smpp: %d submit_sm in %llu ms (window 10)\n",
	    BULK, (unsigned long long)(t1 - t0));
	ck_assert_int_eq(rec.msgs_ok, BULK);
	ck_assert_int_eq(rec.nfailed + rec.nuncertain, 0);
	ck_assert_uint_eq(status().outstanding, 0);
	ck_assert_uint_eq(status().queued, 0);

	n = read_jsonl(dir, "submits.jsonl", o, BULK + 10);
	ck_assert_uint_eq(n, BULK);
	for (i = 0; i < n; i++) {
		ck_assert_str_eq(jstr(o[i], "source_addr"), "HYVAKS");
		ck_assert_int_eq(jint(o[i], "source_ton"), 5);
		ck_assert_int_eq(jint(o[i], "data_coding"), 8);
		ck_assert_int_eq(jint(o[i], "registered_delivery"), 0);
		ck_assert_int_eq(sscanf(jstr(o[i], "text"), "msg %d", &k), 1);
		ck_assert(k >= 1 && k <= BULK && !seen[k]);
		seen[k] = true;
		snprintf(text, sizeof(text), "msg %d ä ö å € 😀", k);
		ck_assert_str_eq(jstr(o[i], "text"), text);
		snprintf(dest, sizeof(dest), "3584000%05d", k);
		ck_assert_str_eq(jstr(o[i], "dest_addr"), dest);
		json_object_put(o[i]);
	}
}
END_TEST

START_TEST(test_throttle_and_fail)
{
	struct smpp_config c;
	json_object *o[64];
	int k, nthr = 0, nfail = 0, nok = 0;
	size_t n, i;

	base_cfg(&c);
	c.no_receipts = true;
	cli = smpp_new(ev, &c, &evs, NULL);
	ck_assert(run_until(is_bound, 3000));
	smsc_mode("throttle 5\nfail 2 0x45\n");
	for (k = 1; k <= 50; k++)
		ck_assert_int_eq(smpp_submit(cli, (uint64_t)k,
		    "+358401234567", "hello"), 0);
	want_msgs = 50;
	ck_assert(run_until(msgs_done, 8000));
	ck_assert_int_eq(rec.msgs_ok, 48);
	ck_assert_int_eq(rec.nfailed, 2);
	ck_assert_int_eq(rec.nuncertain, 0);
	ck_assert_uint_eq(status().throttled, 5);
	for (k = 1; k <= 50; k++) {
		ck_assert_int_le(rec.submitted[k] + rec.failed[k], 1);
		ck_assert_int_eq(rec.submitted[k] + rec.failed[k], 1);
		if (rec.failed[k])
			ck_assert_uint_eq(rec.fail_status[k], 0x45);
	}
	n = read_jsonl(dir, "submits.jsonl", o, 64);
	ck_assert_uint_eq(n, 55);	/* 50 + 5 throttled and resent */
	for (i = 0; i < n; i++) {
		int s = jint(o[i], "status");

		nthr += s == 0x58;
		nfail += s == 0x45;
		nok += s == 0;
		json_object_put(o[i]);
	}
	ck_assert_int_eq(nthr, 5);
	ck_assert_int_eq(nfail, 2);
	ck_assert_int_eq(nok, 48);
}
END_TEST

START_TEST(test_max_rate)
{
	struct smpp_config c;
	uint64_t t0, dt;
	int k;

	base_cfg(&c);
	c.no_receipts = true;
	c.max_rate = 100;	/* burst of 20, then 100/s */
	cli = smpp_new(ev, &c, &evs, NULL);
	ck_assert(run_until(is_bound, 3000));
	for (k = 1; k <= 100; k++)
		ck_assert_int_eq(smpp_submit(cli, (uint64_t)k,
		    "+358401234567", "rate"), 0);
	t0 = util_mono_ms();
	want_msgs = 100;
	ck_assert(run_until(msgs_done, 5000));
	dt = util_mono_ms() - t0;
	/* 80 after the burst at 100/s: about 800 ms */
	ck_assert_msg(dt >= 650 && dt <= 2500, "100 at 100/s took %llu ms",
	    (unsigned long long)dt);
}
END_TEST

static bool
rebound(void)
{
	return status().connects >= 2 && status().state == SMPP_BOUND;
}

START_TEST(test_enquire_link_timeout)
{
	struct smpp_config c;

	base_cfg(&c);
	c.enquire_link_s = 1;
	c.resp_timeout_ms = 400;
	cli = smpp_new(ev, &c, &evs, NULL);
	ck_assert(run_until(is_bound, 3000));
	/* enquire_links are answered: still the first connection */
	run_for(2300);
	ck_assert_uint_eq(status().connects, 1);
	ck_assert_int_eq(status().state, SMPP_BOUND);
	/* the next one goes unanswered: reconnect */
	smsc_mode("mute 1\n");
	ck_assert(run_until(rebound, 3000));
	ck_assert(rec.saw[SMPP_DISCONNECTED]);
	ck_assert_uint_eq(status().connects, 2);
	ck_assert_uint_eq(count_lines(dir, "binds.jsonl"), 2);
}
END_TEST

static bool
ten_outstanding(void)
{
	return status().outstanding == 10 &&
	    count_lines(dir, "submits.jsonl") == 10;
}

START_TEST(test_restart_mid_window)
{
	struct smpp_config c;
	char dir2[300];
	json_object *o[64];
	int k, held[64];
	size_t n, i, nheld;

	base_cfg(&c);
	c.no_receipts = true;
	cli = smpp_new(ev, &c, &evs, NULL);
	ck_assert(run_until(is_bound, 3000));
	smsc_mode("hold 10\n");
	for (k = 1; k <= 30; k++) {
		char text[32];

		snprintf(text, sizeof(text), "n%d", k);
		ck_assert_int_eq(smpp_submit(cli, (uint64_t)k,
		    "+358401234567", text), 0);
	}
	ck_assert(run_until(ten_outstanding, 3000));
	nheld = read_jsonl(dir, "submits.jsonl", o, 64);
	ck_assert_uint_eq(nheld, 10);
	for (i = 0; i < nheld; i++) {
		ck_assert_int_eq(sscanf(jstr(o[i], "text"), "n%d", &held[i]),
		    1);
		json_object_put(o[i]);
	}
	/* the SMSC dies with 10 submits unanswered and comes back */
	smsc_kill(smsc_pid, SIGKILL);
	smsc_pid = -1;
	snprintf(dir2, sizeof(dir2), "%s/second", dir);
	ck_assert_int_eq(mkdir(dir2, 0700), 0);
	smsc_pid = smsc_start(dir2, smsc_port);
	want_msgs = 20;
	ck_assert(run_until(msgs_done, 8000));
	ck_assert(rec.saw[SMPP_DISCONNECTED]);
	ck_assert_int_eq(rec.msgs_ok, 20);
	ck_assert_int_eq(rec.nuncertain, 10);
	for (i = 0; i < nheld; i++)
		ck_assert_int_eq(rec.uncertain[held[i]], 1);
	ck_assert_uint_eq(status().uncertain, 10);
	/* the uncertain ones were not resent */
	n = read_jsonl(dir2, "submits.jsonl", o, 64);
	ck_assert_uint_eq(n, 20);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(sscanf(jstr(o[i], "text"), "n%d", &k), 1);
		ck_assert_int_eq(rec.uncertain[k], 0);
		ck_assert_int_eq(rec.submitted[k], 1);
		json_object_put(o[i]);
	}
	run_for(200);
	ck_assert_int_eq(rec.nuncertain, 10);
}
END_TEST

START_TEST(test_stop_unsent_and_drain)
{
	struct smpp_config c;
	int k;

	base_cfg(&c);
	c.window = 2;
	c.resp_timeout_ms = 500;
	cli = smpp_new(ev, &c, &evs, NULL);
	ck_assert(run_until(is_bound, 3000));
	smsc_mode("hold 2\n");
	for (k = 1; k <= 5; k++)
		ck_assert_int_eq(smpp_submit(cli, (uint64_t)k,
		    "+358401234567", "x"), 0);
	run_for(200);
	ck_assert_uint_eq(status().outstanding, 2);
	ck_assert_uint_eq(status().queued, 3);
	smpp_stop(cli);
	/* the three never written go back at once */
	ck_assert_int_eq(rec.nunsent, 3);
	ck_assert_int_eq(rec.unsent[3] + rec.unsent[4] + rec.unsent[5], 3);
	ck_assert_int_eq(status().state, SMPP_UNBINDING);
	run_for(900);
	ck_assert_int_eq(status().state, SMPP_STOPPED);
	ck_assert_int_eq(rec.nuncertain, 2);
	ck_assert_int_eq(rec.uncertain[1] + rec.uncertain[2], 2);
}
END_TEST

/* ---- TLS ------------------------------------------------------------ */

static bool have_openssl_cli;

/* A self-signed certificate for san as dir/<name>.crt and .key. */
static void
make_cert_san(const char *name, const char *san, char *crt, char *key,
    size_t len)
{
	char cmd[2048];

	ck_assert_int_lt(snprintf(crt, len, "%s/%s.crt", dir, name),
	    (int)len);
	ck_assert_int_lt(snprintf(key, len, "%s/%s.key", dir, name),
	    (int)len);
	snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey rsa:2048 "
	    "-nodes -subj /CN=127.0.0.1 -addext subjectAltName=%s "
	    "-days 1 -keyout '%s' -out '%s' >/dev/null 2>&1", san, key, crt);
	ck_assert_msg(system(cmd) == 0, "openssl req failed");
}

static void
make_cert(const char *name, char *crt, char *key, size_t len)
{
	make_cert_san(name, "IP:127.0.0.1", crt, key, len);
}

/* Replace the fixture's plain SMSC with a TLS one. */
static void
smsc_restart_tls(const char *crt, const char *key)
{
	smsc_kill(smsc_pid, SIGTERM);
	smsc_pid = smsc_start_tls(dir, 0, crt, key);
}

#define TLS_MSGS	100

static bool
reconnected(void)
{
	return status().connects == 2 && is_bound();
}

START_TEST(test_tls_bind_submit)
{
	struct smpp_config c;
	static json_object *o[TLS_MSGS + 10];
	char crt[512], key[512], text[64], dest[32];
	size_t n, i;
	int k;

	make_cert("smsc", crt, key, sizeof(crt));
	smsc_restart_tls(crt, key);
	base_cfg(&c);
	c.tls = true;
	c.ca_file = crt;
	c.no_receipts = true;
	cli = smpp_new(ev, &c, &evs, NULL);
	ck_assert_ptr_nonnull(cli);
	ck_assert_msg(run_until(is_bound, 5000), "not bound over TLS: %s",
	    status().last_error);
	ck_assert_str_eq(status().last_error, "");
	for (k = 1; k <= TLS_MSGS; k++) {
		snprintf(text, sizeof(text), "tls %d ä €", k);
		snprintf(dest, sizeof(dest), "+3584000%05d", k);
		ck_assert_int_eq(smpp_submit(cli, (uint64_t)k, dest, text), 0);
	}
	want_msgs = TLS_MSGS;
	ck_assert(run_until(msgs_done, 10000));
	ck_assert_int_eq(rec.msgs_ok, TLS_MSGS);
	ck_assert_int_eq(rec.nfailed + rec.nuncertain, 0);
	ck_assert_uint_eq(status().connects, 1);
	ck_assert_uint_eq(count_lines(dir, "binds.jsonl"), 1);
	n = read_jsonl(dir, "submits.jsonl", o, TLS_MSGS + 10);
	ck_assert_uint_eq(n, TLS_MSGS);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(sscanf(jstr(o[i], "text"), "tls %d", &k), 1);
		snprintf(text, sizeof(text), "tls %d ä €", k);
		ck_assert_str_eq(jstr(o[i], "text"), text);
		json_object_put(o[i]);
	}
	/* the SMSC drops the TLS link: uncertain, then a new handshake */
	smsc_mode("close\n");
	ck_assert_int_eq(smpp_submit(cli, TLS_MSGS + 1, "+358401234567",
	    "x"), 0);
	ck_assert(run_until(reconnected, 3000));
	ck_assert_int_eq(rec.uncertain[TLS_MSGS + 1], 1);
	ck_assert_uint_eq(count_lines(dir, "binds.jsonl"), 2);
	/* graceful stop over TLS: unbind answered */
	smpp_stop(cli);
	run_for(300);
	ck_assert_int_eq(status().state, SMPP_STOPPED);
}
END_TEST

START_TEST(test_tls_wrong_ca)
{
	struct smpp_config c;
	struct smpp_status st;
	char crt[512], key[512], other[512], okey[512];

	make_cert("smsc", crt, key, sizeof(crt));
	make_cert("other", other, okey, sizeof(other));
	smsc_restart_tls(crt, key);
	base_cfg(&c);
	c.tls = true;
	c.ca_file = other;
	c.backoff_min_ms = 0;	/* the default: 1 s doubling */
	cli = smpp_new(ev, &c, &evs, NULL);
	ck_assert_ptr_nonnull(cli);
	ck_assert_int_eq(smpp_submit(cli, 1, "+358401234567", "x"), 0);
	run_for(3500);
	st = status();
	ck_assert(!rec.saw[SMPP_BOUND] && !rec.saw[SMPP_BINDING]);
	ck_assert_int_eq(st.state, SMPP_DISCONNECTED);
	ck_assert_msg(strncmp(st.last_error, "TLS: ", 5) == 0 &&
	    strstr(st.last_error, "verify") != NULL, "last_error: %s",
	    st.last_error);
	/* attempts at about 0, 1 and 3 s: no tight loop */
	ck_assert_uint_ge(st.connects, 2);
	ck_assert_uint_le(st.connects, 3);
	ck_assert_uint_eq(count_lines(dir, "binds.jsonl"), 0);
	ck_assert_uint_eq(st.queued, 1);
	ck_assert_int_eq(rec.nfailed + rec.nuncertain + rec.msgs_ok, 0);
}
END_TEST

static bool
has_error(void)
{
	return status().last_error[0] != '\0';
}

/* The name checked is smpp.host: an IP literal as an IP, else a DNS name. */
START_TEST(test_tls_names)
{
	struct smpp_config c;
	char crt[512], key[512];

	make_cert_san("smsc", "DNS:localhost", crt, key, sizeof(crt));
	smsc_restart_tls(crt, key);
	base_cfg(&c);
	c.tls = true;
	c.ca_file = crt;
	c.backoff_min_ms = 100;
	cli = smpp_new(ev, &c, &evs, NULL);
	ck_assert_ptr_nonnull(cli);
	ck_assert(run_until(has_error, 3000));
	ck_assert_msg(strstr(status().last_error, "TLS: certificate verify "
	    "failed: IP address mismatch") != NULL, "last_error: %s",
	    status().last_error);
	ck_assert(!rec.saw[SMPP_BINDING]);
	smpp_free(cli);
	/* "localhost" may try ::1 first, which smsc.py does not listen on */
	c.host = "localhost";
	cli = smpp_new(ev, &c, &evs, NULL);
	ck_assert_ptr_nonnull(cli);
	ck_assert_msg(run_until(is_bound, 3000), "not bound: %s",
	    status().last_error);
}
END_TEST

static Suite *
smpp_suite(void)
{
	Suite *s = suite_create("smpp");
	TCase *tc = tcase_create("smsc");

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_bind_submit_receipts);
	tcase_add_test(tc, test_bad_credentials);
	tcase_add_test(tc, test_bulk_1000);
	tcase_add_test(tc, test_throttle_and_fail);
	tcase_add_test(tc, test_max_rate);
	tcase_add_test(tc, test_enquire_link_timeout);
	tcase_add_test(tc, test_restart_mid_window);
	tcase_add_test(tc, test_stop_unsent_and_drain);
	suite_add_tcase(s, tc);
	if (have_openssl_cli) {
		tc = tcase_create("tls");
		tcase_set_timeout(tc, 30);
		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_add_test(tc, test_tls_bind_submit);
		tcase_add_test(tc, test_tls_wrong_ca);
		tcase_add_test(tc, test_tls_names);
		suite_add_tcase(s, tc);
	}
	return s;
}

static bool
find_smsc(void)
{
	const char *e = getenv("SMSC_PY"), *sd = getenv("srcdir");
	char cand[3][4096];
	int i;

	if (e != NULL && access(e, R_OK) == 0) {
		strlcpy_s(smsc_py, e, sizeof(smsc_py));
		return true;
	}
	snprintf(cand[0], sizeof(cand[0]), "%s/tests/smsc/smsc.py",
	    sd != NULL ? sd : ".");
	snprintf(cand[1], sizeof(cand[1]), "%s/../smsc/smsc.py",
	    sd != NULL ? sd : ".");
	snprintf(cand[2], sizeof(cand[2]), "tests/smsc/smsc.py");
	for (i = 0; i < 3; i++)
		if (access(cand[i], R_OK) == 0) {
			strlcpy_s(smsc_py, cand[i], sizeof(smsc_py));
			return true;
		}
	return false;
}

int
main(void)
{
	SRunner *sr;
	int nf;

	if (system("python3 -c 'import asyncio' >/dev/null 2>&1") != 0) {
		fprintf(stderr, "check_smpp: SKIP: python3 not found\n");
		return 77;
	}
	if (!find_smsc()) {
		fprintf(stderr, "check_smpp: SKIP: smsc.py not found "
		    "(set SMSC_PY)\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);	/* OpenSSL writes with write(2) */
	have_openssl_cli = system("openssl version >/dev/null 2>&1") == 0;
	if (!have_openssl_cli)
		fprintf(stderr, "check_smpp: SKIP: TLS tests (no openssl "
		    "command)\n");
	sr = srunner_create(smpp_suite());
	srunner_run_all(sr, CK_ENV);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
