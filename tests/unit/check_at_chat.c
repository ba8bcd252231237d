/*
 * Unit tests for at_chat: a scripted modem on the other end of a
 * socketpair, driven with the real event loop and a fake clock.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "smsgw/at_chat.h"
#include "smsgw/ev.h"
#include "smsgw/log.h"

static struct ev *ev;
static struct at_chat *chat;
static int peer = -1, chat_fd = -1;
static uint64_t now_ms;
static char got[65536]; /* what the chat wrote, not yet checked */
static size_t gotlen;

static uint64_t
fake_clock(void *arg)
{
	(void)arg;
	return now_ms;
}

static void
setup(void)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_ne(fcntl(sv[0], F_SETFL, O_NONBLOCK), -1);
	ck_assert_int_ne(fcntl(sv[1], F_SETFL, O_NONBLOCK), -1);
	chat_fd = sv[0];
	peer = sv[1];
	now_ms = 1000000;
	gotlen = 0;
	ev = ev_new();
	ev_set_clock(ev, fake_clock, NULL);
	chat = at_chat_new(ev, chat_fd);
	ck_assert_ptr_nonnull(chat);
}

static void
teardown(void)
{
	at_chat_free(chat);
	chat = NULL;
	ev_free(ev);
	if (peer >= 0)
		close(peer);
	close(chat_fd);
	peer = -1;
}

/* Run the loop a bounded number of passes without sleeping. */
static void
pump(void)
{
	int i;

	for (i = 0; i < 8; i++)
		ck_assert_int_ge(ev_run_once(ev, 0), 0);
}

static void
advance(uint64_t ms)
{
	now_ms += ms;
	pump();
}

/* Collect what the chat has written so far. */
static void
peer_collect(void)
{
	ssize_t n;

	pump();
	while ((n = read(peer, got + gotlen, sizeof(got) - gotlen)) > 0)
		gotlen += (size_t)n;
}

/* The chat wrote exactly want (since the last check). */
static void
expect_written_n(const char *want, size_t n)
{
	peer_collect();
	ck_assert_msg(gotlen == n && memcmp(got, want, n) == 0,
	    "wrote \"%.*s\" (%zu bytes), expected \"%.*s\"", (int)gotlen, got,
	    gotlen, (int)n, want);
	gotlen = 0;
}

#define expect_written(s) expect_written_n(s, strlen(s))

/* The modem says s, split at step bytes (0: random split from seed). */
static void
modem_says_n(const char *s, size_t n, size_t step, unsigned seed)
{
	size_t off = 0;

	srand(seed);
	while (off < n) {
		size_t c = step ? step : (size_t)(rand() % 13) + 1;

		if (c > n - off)
			c = n - off;
		ck_assert_int_eq(write(peer, s + off, c), (ssize_t)c);
		off += c;
		pump();
	}
}

#define modem_says(s) modem_says_n(s, strlen(s), 0, 1)
#define modem_says_bytewise(s) modem_says_n(s, strlen(s), 1, 0)

/* Records what a command callback saw. */
struct rec {
	int calls;
	int freed;
	bool ok;
	enum at_status status;
	int error;
	char final[64];
	char lines[4096]; /* "l1|l2|" */
	size_t nlines;
	uint32_t cancel_id; /* cancel this in the callback */
	bool free_chat; /* at_chat_free in the callback */
	bool send_more; /* send "AT+MORE" in the callback */
	bool abort_chat; /* at_chat_abort in the callback */
};

static void
rec_cb(bool ok, const struct at_response *resp, void *arg)
{
	struct rec *r = arg;
	size_t i, o = 0;

	r->calls++;
	r->ok = ok;
	r->status = resp->status;
	r->error = resp->error;
	snprintf(r->final, sizeof(r->final), "%s", resp->final);
	r->nlines = resp->nlines;
	r->lines[0] = '\0';
	for (i = 0; i < resp->nlines; i++)
		o += snprintf(
		    r->lines + o, sizeof(r->lines) - o, "%s|", resp->lines[i]);
	ck_assert_int_eq(ok, resp->status == AT_STATUS_OK);
	if (r->cancel_id != 0) {
		ck_assert_int_eq(at_chat_cancel(chat, r->cancel_id), 0);
		r->cancel_id = 0;
	}
	if (r->send_more) {
		r->send_more = false;
		ck_assert_uint_ne(
		    at_chat_send(chat, "AT+MORE", NULL, 0, rec_cb, r, NULL), 0);
	}
	if (r->abort_chat) {
		r->abort_chat = false;
		at_chat_abort(chat);
	}
	if (r->free_chat) {
		at_chat_free(chat);
		chat = NULL;
	}
}

static void
rec_free(void *arg)
{
	struct rec *r = arg;

	r->freed++;
}

/* Records URCs. */
struct urc {
	int calls;
	int freed;
	char log[4096]; /* "line/pdu;" */
	size_t len;
	uint32_t unregister_id;
	bool free_chat;
};

static void
urc_cb(const char *line, const char *pdu, void *arg)
{
	struct urc *u = arg;

	u->calls++;
	u->len += snprintf(u->log + u->len, sizeof(u->log) - u->len, "%s/%s;",
	    line, pdu ? pdu : "-");
	if (u->unregister_id != 0)
		ck_assert_int_eq(at_chat_unregister(chat, u->unregister_id), 0);
	if (u->free_chat) {
		at_chat_free(chat);
		chat = NULL;
	}
}

static void
urc_free(void *arg)
{
	struct urc *u = arg;

	u->freed++;
}

static const char *const csq[] = {"+CSQ:", NULL};
static const char *const cmgl[] = {"+CMGL:", NULL};
static const char *const cmgr[] = {"+CMGR:", NULL};
static const char *const cmgs[] = {"+CMGS:", NULL};

START_TEST(test_simple_command)
{
	struct rec r = {0};
	struct urc u = {0};

	ck_assert_uint_ne(
	    at_chat_register(chat, "+CMTI:", false, urc_cb, &u, urc_free), 0);
	ck_assert_uint_ne(
	    at_chat_send(chat, "AT+CSQ", csq, 1000, rec_cb, &r, rec_free), 0);
	expect_written("AT+CSQ\r");
	ck_assert_uint_eq(at_chat_pending(chat), 1);
	/* Echo, a URC before and after, then the answer; byte by byte. */
	modem_says_bytewise("AT+CSQ\r\r\n+CMTI: \"ME\",1\r\n\r\n+CSQ: 17,99"
	                    "\r\n\r\nOK\r\n\r\n+CMTI: \"SM\",2\r\n");
	ck_assert_int_eq(r.calls, 1);
	ck_assert_int_eq(r.freed, 1);
	ck_assert(r.ok);
	ck_assert_int_eq(r.status, AT_STATUS_OK);
	ck_assert_str_eq(r.final, "OK");
	ck_assert_str_eq(r.lines, "+CSQ: 17,99|");
	ck_assert_int_eq(u.calls, 2);
	ck_assert_str_eq(u.log, "+CMTI: \"ME\",1/-;+CMTI: \"SM\",2/-;");
	ck_assert_uint_eq(at_chat_pending(chat), 0);
	ck_assert_uint_eq(at_chat_timeouts(chat), 0);
	at_chat_free(chat);
	chat = NULL;
	ck_assert_int_eq(u.freed, 1);
}
END_TEST

/* A command that takes every line (prefixes NULL) must still leave a URC
 * someone registered for to its handler (a +CMTI during AT+CMGD). */
START_TEST(test_accept_all_leaves_urcs)
{
	struct rec r = {0};
	struct urc u = {0};

	ck_assert_uint_ne(
	    at_chat_register(chat, "+CMTI:", false, urc_cb, &u, NULL), 0);
	ck_assert_uint_ne(
	    at_chat_send(chat, "AT+CMGD=3", NULL, 1000, rec_cb, &r, rec_free),
	    0);
	expect_written("AT+CMGD=3\r");
	modem_says("\r\n+CMTI: \"ME\",7\r\nsome info\r\n\r\nOK\r\n");
	ck_assert_int_eq(r.calls, 1);
	ck_assert(r.ok);
	ck_assert_str_eq(r.lines, "some info|");
	ck_assert_int_eq(u.calls, 1);
	ck_assert_str_eq(u.log, "+CMTI: \"ME\",7/-;");
}
END_TEST

/* The same transcript at many random split points. */
START_TEST(test_random_splits)
{
	static const char script[] =
	    "\r\n+CMTI: \"ME\",1\r\n\r\n+CSQ: 5,0"
	    "\r\n\r\n+CMT: ,3\r\n0011AA\r\n\r\nOK\r\n\r\n+CMTI: \"SM\",9\r\n";
	unsigned seed;

	for (seed = 1; seed <= 40; seed++) {
		struct rec r = {0};
		struct urc u = {0}, m = {0};

		if (seed > 1)
			setup();
		at_chat_register(chat, "+CMTI:", false, urc_cb, &u, NULL);
		at_chat_register(chat, "+CMT:", true, urc_cb, &m, NULL);
		at_chat_send(chat, "AT+CSQ", csq, 0, rec_cb, &r, NULL);
		expect_written("AT+CSQ\r");
		modem_says_n(script, sizeof(script) - 1, 0, seed);
		ck_assert_int_eq(r.calls, 1);
		ck_assert_str_eq(r.lines, "+CSQ: 5,0|");
		ck_assert_str_eq(u.log, "+CMTI: \"ME\",1/-;+CMTI: \"SM\",9/-;");
		ck_assert_str_eq(m.log, "+CMT: ,3/0011AA;");
		teardown();
	}
	setup();
}
END_TEST

/* Unsolicited lines are never taken for an answer. */
START_TEST(test_unknown_lines_ignored)
{
	struct rec r = {0};

	at_chat_send(chat, "AT+CSQ", csq, 0, rec_cb, &r, NULL);
	expect_written("AT+CSQ\r");
	modem_says("\r\n+CMTI: \"ME\",1\r\n^RSSI: 12\r\nRING\r\n");
	ck_assert_int_eq(r.calls, 0);
	modem_says("+CSQ: 9,9\r\nOK\r\n");
	ck_assert_int_eq(r.calls, 1);
	ck_assert_str_eq(r.lines, "+CSQ: 9,9|");
	/* Prefixes NULL takes every line (but not echo). */
	at_chat_send(chat, "ATI", NULL, 0, rec_cb, &r, NULL);
	expect_written("ATI\r");
	modem_says("ATI\r\r\nQuectel\r\nEC25\r\n\r\nOK\r\n");
	ck_assert_int_eq(r.calls, 2);
	ck_assert_str_eq(r.lines, "Quectel|EC25|");
}
END_TEST

START_TEST(test_fifo_one_in_flight)
{
	struct rec a = {0}, b = {0};

	at_chat_send(chat, "AT+A", NULL, 0, rec_cb, &a, NULL);
	at_chat_send(chat, "AT+B", NULL, 0, rec_cb, &b, NULL);
	ck_assert_uint_eq(at_chat_pending(chat), 2);
	expect_written("AT+A\r");
	modem_says("OK\r\n");
	ck_assert_int_eq(a.calls, 1);
	ck_assert_int_eq(b.calls, 0);
	expect_written("AT+B\r");
	modem_says("ERROR\r\n");
	ck_assert_int_eq(b.calls, 1);
	ck_assert(!b.ok);
	ck_assert_int_eq(b.status, AT_STATUS_ERROR);
	ck_assert_int_eq(b.error, -1);
}
END_TEST

START_TEST(test_error_codes)
{
	struct rec r = {0};

	at_chat_send(chat, "AT+CPIN?", NULL, 0, rec_cb, &r, NULL);
	expect_written("AT+CPIN?\r");
	modem_says("\r\n+CME ERROR: 10\r\n");
	ck_assert_int_eq(r.status, AT_STATUS_CME_ERROR);
	ck_assert_int_eq(r.error, 10);
	ck_assert_str_eq(r.final, "+CME ERROR: 10");
	ck_assert_uint_eq(r.nlines, 0);

	at_chat_send(chat, "AT+CMSS=1", NULL, 0, rec_cb, &r, NULL);
	expect_written("AT+CMSS=1\r");
	modem_says("\r\n+CMS ERROR: 500\r\n");
	ck_assert_int_eq(r.status, AT_STATUS_CMS_ERROR);
	ck_assert_int_eq(r.error, 500);

	at_chat_send(chat, "AT+X", NULL, 0, rec_cb, &r, NULL);
	expect_written("AT+X\r");
	modem_says("\r\n+CME ERROR: SIM not inserted\r\n");
	ck_assert_int_eq(r.status, AT_STATUS_CME_ERROR);
	ck_assert_int_eq(r.error, -1);

	at_chat_send(chat, "ATD1", NULL, 0, rec_cb, &r, NULL);
	expect_written("ATD1\r");
	modem_says("NO CARRIER\r\n");
	ck_assert_int_eq(r.status, AT_STATUS_ERROR);
	ck_assert_int_eq(r.calls, 4);
}
END_TEST

START_TEST(test_pdu_urcs)
{
	struct rec r = {0};
	struct urc cmt = {0}, cds = {0}, cmt2 = {0};

	at_chat_register(chat, "+CMT:", true, urc_cb, &cmt, NULL);
	at_chat_register(chat, "+CDS:", true, urc_cb, &cds, NULL);
	/* A second handler for +CMT: without expect_pdu sees no PDU. */
	at_chat_register(chat, "+CMT:", false, urc_cb, &cmt2, NULL);
	modem_says_bytewise("\r\n+CMT: ,24\r\n07911326040000F0040B911346610089"
	                    "F60000208062917314080CC8329BFD06\r\n");
	ck_assert_str_eq(cmt.log,
	    "+CMT: ,24/07911326040000F0040B9113466100"
	    "89F60000208062917314080CC8329BFD06;");
	ck_assert_str_eq(cmt2.log, "+CMT: ,24/-;");
	/* During a command, and a status report. */
	at_chat_send(chat, "AT+CSQ", csq, 0, rec_cb, &r, NULL);
	expect_written("AT+CSQ\r");
	modem_says("\r\n+CDS: 6\r\n0006AABBCC\r\n+CSQ: 1,1\r\nOK\r\n");
	ck_assert_str_eq(cds.log, "+CDS: 6/0006AABBCC;");
	ck_assert_str_eq(r.lines, "+CSQ: 1,1|");
	/* A header whose PDU never comes: handler gets NULL, OK survives. */
	at_chat_send(chat, "AT+CSQ", csq, 0, rec_cb, &r, NULL);
	expect_written("AT+CSQ\r");
	modem_says("+CDS: 6\r\nOK\r\n");
	ck_assert_str_eq(cds.log, "+CDS: 6/0006AABBCC;+CDS: 6/-;");
	ck_assert_int_eq(r.calls, 2);
	ck_assert(r.ok);
	/* The next command starts between a +CMT: and its PDU. */
	at_chat_send(chat, "AT+A", NULL, 0, rec_cb, &r, NULL);
	at_chat_send(chat, "AT+B", csq, 0, rec_cb, &r, NULL);
	expect_written("AT+A\r");
	modem_says_n("OK\r\n+CMT: ,3\r\n", 15, 15, 0);
	expect_written("AT+B\r");
	modem_says("0011AA\r\nOK\r\n");
	ck_assert_int_eq(r.calls, 4);
	ck_assert_str_eq(cmt.log + strlen(cmt.log) - 16, "+CMT: ,3/0011AA;");
}
END_TEST

START_TEST(test_cmgl_listing)
{
	struct rec r = {0};
	struct urc u = {0};

	at_chat_register(chat, "+CMTI:", false, urc_cb, &u, NULL);
	at_chat_send(chat, "AT+CMGL=4", cmgl, 0, rec_cb, &r, NULL);
	expect_written("AT+CMGL=4\r");
	modem_says_bytewise("\r\n+CMGL: 1,1,,3\r\n000102\r\n+CMTI: \"ME\",7"
	                    "\r\n+CMGL: 2,0,,2\r\nAABB\r\n\r\nOK\r\n");
	ck_assert_int_eq(r.calls, 1);
	ck_assert_str_eq(r.lines, "+CMGL: 1,1,,3|000102|+CMGL: 2,0,,2|AABB|");
	ck_assert_str_eq(u.log, "+CMTI: \"ME\",7/-;");
	/* +CMGR without a PDU: an empty placeholder keeps the pairs. */
	at_chat_send(chat, "AT+CMGR=3", cmgr, 0, rec_cb, &r, NULL);
	expect_written("AT+CMGR=3\r");
	modem_says("\r\n+CMGR: 0,,0\r\n\r\nOK\r\n");
	ck_assert_int_eq(r.calls, 2);
	ck_assert_uint_eq(r.nlines, 2);
	ck_assert_str_eq(r.lines, "+CMGR: 0,,0||");
}
END_TEST

START_TEST(test_prompt_flow)
{
	struct rec r = {0};
	struct urc u = {0};

	at_chat_register(chat, "+CMTI:", false, urc_cb, &u, NULL);
	ck_assert_uint_ne(at_chat_send_pdu(chat, "AT+CMGS=5", "0011AABBCCDD",
	                      cmgs, 0, rec_cb, &r, NULL),
	    0);
	expect_written("AT+CMGS=5\r");
	/* Nothing more until the prompt, whatever else arrives. */
	modem_says("\r\n+CMTI: \"ME\",2\r\n");
	expect_written("");
	modem_says_bytewise("\r\n> ");
	expect_written("0011AABBCCDD\x1a");
	modem_says_bytewise("\r\n+CMGS: 42\r\n\r\nOK\r\n");
	ck_assert_int_eq(r.calls, 1);
	ck_assert(r.ok);
	ck_assert_str_eq(r.lines, "+CMGS: 42|");
	ck_assert_int_eq(u.calls, 1);

	/* A bare '>' (no blank) is enough while a prompt is due. */
	at_chat_send_pdu(chat, "AT+CMGS=5", "00AA", cmgs, 0, rec_cb, &r, NULL);
	expect_written("AT+CMGS=5\r");
	modem_says("\r\n>");
	expect_written("00AA\x1a");
	modem_says(" \r\n+CMGS: 43\r\n\r\nOK\r\n");
	ck_assert_int_eq(r.calls, 2);
	ck_assert_str_eq(r.lines, "+CMGS: 43|");

	/* An error instead of the prompt: the PDU is never written. */
	at_chat_send_pdu(
	    chat, "AT+CMGW=5", "0011AABBCCDD", NULL, 0, rec_cb, &r, NULL);
	expect_written("AT+CMGW=5\r");
	modem_says("\r\n+CMS ERROR: 322\r\n");
	ck_assert_int_eq(r.calls, 3);
	ck_assert_int_eq(r.status, AT_STATUS_CMS_ERROR);
	ck_assert_int_eq(r.error, 322);
	modem_says("\r\n> "); /* a stray prompt now is ignored */
	expect_written("");

	/* Invalid input is refused. */
	ck_assert_uint_eq(at_chat_send_pdu(chat, "AT+CMGS=1", "00\x1a", NULL, 0,
	                      rec_cb, &r, NULL),
	    0);
	ck_assert_uint_eq(
	    at_chat_send_pdu(chat, "AT+CMGS=1", "", NULL, 0, rec_cb, &r, NULL),
	    0);
	ck_assert_uint_eq(
	    at_chat_send(chat, "AT\rAT", NULL, 0, rec_cb, &r, NULL), 0);
	ck_assert_uint_eq(at_chat_send(chat, "", NULL, 0, rec_cb, &r, NULL), 0);
	expect_written("");
}
END_TEST

START_TEST(test_timeout_and_resync)
{
	struct rec a = {0}, b = {0}, c = {0};

	at_chat_set_quiet_ms(chat, 500);
	at_chat_send(chat, "AT+A", NULL, 1000, rec_cb, &a, rec_free);
	at_chat_send(chat, "AT+B", NULL, 1000, rec_cb, &b, rec_free);
	expect_written("AT+A\r");
	advance(999);
	ck_assert_int_eq(a.calls, 0);
	advance(1);
	ck_assert_int_eq(a.calls, 1);
	ck_assert_int_eq(a.freed, 1);
	ck_assert_int_eq(a.status, AT_STATUS_TIMEOUT);
	ck_assert_str_eq(a.final, "");
	ck_assert_uint_eq(at_chat_timeouts(chat), 1);
	ck_assert(at_chat_resyncing(chat));
	/* The late answer of A must not complete B. */
	advance(300);
	modem_says("\r\n+A: 1\r\nOK\r\n");
	expect_written("");
	advance(400); /* 400 ms since the late bytes: not quiet */
	expect_written("");
	ck_assert_int_eq(b.calls, 0);
	advance(100);
	expect_written("AT\r");
	modem_says("\r\nERROR\r\n"); /* only OK ends the resync */
	expect_written("");
	modem_says("\r\nOK\r\n");
	ck_assert(!at_chat_resyncing(chat));
	expect_written("AT+B\r");
	/* The resync OK does not reset the counter; B's answer does. */
	ck_assert_uint_eq(at_chat_timeouts(chat), 1);
	modem_says("\r\nOK\r\n");
	ck_assert_int_eq(b.calls, 1);
	ck_assert(b.ok);
	ck_assert_uint_eq(at_chat_timeouts(chat), 0);

	/* Resync that gets no answer fails the queue and retries. */
	at_chat_send(chat, "AT+C", NULL, 100, rec_cb, &c, NULL);
	expect_written("AT+C\r");
	advance(100);
	ck_assert_int_eq(c.status, AT_STATUS_TIMEOUT);
	at_chat_send(chat, "AT+D", NULL, 100, rec_cb, &b, NULL);
	advance(500);
	expect_written("AT\r");
	advance(2000);
	ck_assert_int_eq(b.calls, 2);
	ck_assert_int_eq(b.status, AT_STATUS_TIMEOUT);
	ck_assert_uint_eq(at_chat_timeouts(chat), 2);
	ck_assert(at_chat_resyncing(chat));
	advance(500);
	expect_written("AT\r");
	modem_says("OK\r\n");
	ck_assert(!at_chat_resyncing(chat));
	expect_written("");
}
END_TEST

/* A PDU command that times out is aborted with ESC before "AT". */
START_TEST(test_timeout_pdu_esc)
{
	struct rec r = {0};

	at_chat_send_pdu(
	    chat, "AT+CMGS=5", "0011AABBCCDD", cmgs, 1000, rec_cb, &r, NULL);
	expect_written("AT+CMGS=5\r");
	advance(1000);
	ck_assert_int_eq(r.status, AT_STATUS_TIMEOUT);
	modem_says("\r\n> "); /* too late: the PDU must not go out */
	advance(500);
	expect_written("\x1b"
	               "AT\r");
	modem_says("OK\r\n");
	ck_assert(!at_chat_resyncing(chat));
}
END_TEST

START_TEST(test_cancel)
{
	struct rec a = {0}, b = {0}, c = {0};
	uint32_t ida, idb;

	ida = at_chat_send(chat, "AT+A", NULL, 0, rec_cb, &a, rec_free);
	idb = at_chat_send(chat, "AT+B", NULL, 0, rec_cb, &b, rec_free);
	at_chat_send(chat, "AT+C", NULL, 0, rec_cb, &c, rec_free);
	expect_written("AT+A\r");
	/* Cancelling the queued B frees it at once. */
	ck_assert_int_eq(at_chat_cancel(chat, idb), 0);
	ck_assert_int_eq(b.freed, 1);
	ck_assert_int_eq(at_chat_cancel(chat, idb), -1);
	/* Cancelling the in-flight A: its OK still belongs to A. */
	ck_assert_int_eq(at_chat_cancel(chat, ida), 0);
	ck_assert_int_eq(a.freed, 1);
	ck_assert_int_eq(at_chat_cancel(chat, ida), -1);
	ck_assert_int_eq(a.freed, 1);
	expect_written("");
	modem_says("OK\r\n");
	ck_assert_int_eq(a.calls, 0);
	expect_written("AT+C\r");
	ck_assert_int_eq(c.calls, 0);
	modem_says("OK\r\n");
	ck_assert_int_eq(c.calls, 1);
	ck_assert_int_eq(b.calls, 0);
	ck_assert_int_eq(a.freed + b.freed + c.freed, 3);
	ck_assert_int_eq(at_chat_cancel(chat, 0), -1);
	ck_assert_int_eq(at_chat_cancel(chat, 12345), -1);
}
END_TEST

START_TEST(test_cancel_inside_callback)
{
	struct rec a = {0}, b = {0}, c = {0};

	at_chat_send(chat, "AT+A", NULL, 0, rec_cb, &a, rec_free);
	a.cancel_id = at_chat_send(chat, "AT+B", NULL, 0, rec_cb, &b, rec_free);
	at_chat_send(chat, "AT+C", NULL, 0, rec_cb, &c, rec_free);
	a.send_more = true;
	expect_written("AT+A\r");
	modem_says("OK\r\n");
	ck_assert_int_eq(a.calls, 1);
	ck_assert_int_eq(b.calls, 0);
	ck_assert_int_eq(b.freed, 1);
	expect_written("AT+C\r");
	modem_says("OK\r\n");
	ck_assert_int_eq(c.calls, 1);
	/* The command A sent from its callback runs last. */
	expect_written("AT+MORE\r");
	modem_says("OK\r\n");
	ck_assert_int_eq(a.calls, 2);
}
END_TEST

/* A cancelled PDU command gets ESC at the prompt, not the PDU. */
START_TEST(test_cancel_pdu_at_prompt)
{
	struct rec r = {0};
	uint32_t id;

	id = at_chat_send_pdu(
	    chat, "AT+CMGS=5", "0011AABBCCDD", cmgs, 0, rec_cb, &r, NULL);
	expect_written("AT+CMGS=5\r");
	ck_assert_int_eq(at_chat_cancel(chat, id), 0);
	modem_says("\r\n> ");
	expect_written("\x1b");
	modem_says("\r\nOK\r\n");
	ck_assert_int_eq(r.calls, 0);
	ck_assert_uint_eq(at_chat_pending(chat), 0);
}
END_TEST

START_TEST(test_free_inside_callback)
{
	struct rec a = {0}, b = {0};
	struct urc u = {0};

	at_chat_register(chat, "+CMTI:", false, urc_cb, &u, urc_free);
	at_chat_send(chat, "AT+A", NULL, 0, rec_cb, &a, rec_free);
	at_chat_send(chat, "AT+B", NULL, 0, rec_cb, &b, rec_free);
	a.free_chat = true;
	expect_written("AT+A\r");
	/* Everything after the OK is in the same read. */
	ck_assert_int_eq(write(peer, "OK\r\n+CMTI: \"ME\",1\r\n", 19), 19);
	pump();
	ck_assert_ptr_null(chat);
	ck_assert_int_eq(a.calls, 1);
	ck_assert_int_eq(a.freed, 1);
	ck_assert_int_eq(b.calls, 0);
	ck_assert_int_eq(b.freed, 1);
	ck_assert_int_eq(u.calls, 0);
	ck_assert_int_eq(u.freed, 1);
	expect_written("");
}
END_TEST

START_TEST(test_free_inside_urc)
{
	struct urc u = {0}, v = {0};
	struct rec a = {0};

	u.free_chat = true;
	at_chat_register(chat, "+CMTI:", false, urc_cb, &u, urc_free);
	at_chat_register(chat, "+CMTI:", false, urc_cb, &v, urc_free);
	at_chat_send(chat, "AT+CSQ", csq, 0, rec_cb, &a, rec_free);
	expect_written("AT+CSQ\r");
	modem_says("+CMTI: \"ME\",1\r\nOK\r\n");
	ck_assert_ptr_null(chat);
	ck_assert_int_eq(u.calls, 1);
	ck_assert_int_eq(v.calls, 0);
	ck_assert_int_eq(u.freed + v.freed, 2);
	ck_assert_int_eq(a.calls, 0);
	ck_assert_int_eq(a.freed, 1);
}
END_TEST

START_TEST(test_unregister_inside_urc)
{
	struct urc u = {0};
	uint32_t id;

	id = at_chat_register(chat, "+CMTI:", false, urc_cb, &u, urc_free);
	u.unregister_id = id;
	modem_says("+CMTI: \"ME\",1\r\n+CMTI: \"ME\",2\r\n");
	ck_assert_int_eq(u.calls, 1);
	ck_assert_int_eq(u.freed, 1);
	ck_assert_int_eq(at_chat_unregister(chat, id), -1);
}
END_TEST

static int disconnects;

static void
on_disconnect(void *arg)
{
	int *n = arg;

	(*n)++;
	ck_assert_uint_eq(at_chat_pending(chat), 0);
}

START_TEST(test_disconnect)
{
	struct rec a = {0}, b = {0};

	disconnects = 0;
	at_chat_set_disconnect_cb(chat, on_disconnect, &disconnects);
	at_chat_send(chat, "AT+A", NULL, 0, rec_cb, &a, rec_free);
	at_chat_send(chat, "AT+B", NULL, 0, rec_cb, &b, rec_free);
	expect_written("AT+A\r");
	close(peer);
	peer = -1;
	pump();
	ck_assert_int_eq(disconnects, 1);
	ck_assert_int_eq(a.status, AT_STATUS_IO_ERROR);
	ck_assert_int_eq(b.status, AT_STATUS_IO_ERROR);
	ck_assert_int_eq(a.calls + b.calls, 2);
	ck_assert_int_eq(a.freed + b.freed, 2);
	ck_assert_uint_eq(
	    at_chat_send(chat, "AT", NULL, 0, rec_cb, &a, NULL), 0);
	pump();
	ck_assert_int_eq(disconnects, 1);
}
END_TEST

START_TEST(test_overlong_and_garbage)
{
	static const char junk[] =
	    "\0\0\r\n\xff\xfe\x01\r\n+CSQ: 3,\0004\r\nOK\r\n";
	struct rec r = {0};
	char *big = malloc(6000);

	at_chat_send(chat, "AT+CSQ", csq, 0, rec_cb, &r, NULL);
	expect_written("AT+CSQ\r");
	memset(big, '+', 6000);
	memcpy(big, "+CSQ: ", 6);
	modem_says_n(big, 6000, 1000, 0);
	modem_says_n(junk, sizeof(junk) - 1, 0, 7);
	ck_assert_int_eq(r.calls, 1);
	ck_assert(r.ok);
	ck_assert_str_eq(r.lines, "+CSQ: 3,4|");
	free(big);
}
END_TEST

START_TEST(test_abort)
{
	struct rec a = {0}, b = {0};

	at_chat_send(chat, "AT+A", NULL, 0, rec_cb, &a, rec_free);
	at_chat_send(chat, "AT+B", NULL, 0, rec_cb, &b, rec_free);
	expect_written("AT+A\r");
	at_chat_abort(chat);
	ck_assert_int_eq(a.status, AT_STATUS_CANCELLED);
	ck_assert_int_eq(b.status, AT_STATUS_CANCELLED);
	ck_assert_int_eq(a.freed + b.freed, 2);
	ck_assert(at_chat_resyncing(chat));
	advance(500);
	expect_written("AT\r");
}
END_TEST

static void
count_cb(bool ok, const struct at_response *resp, void *arg)
{
	int *n = arg;

	(void)resp;
	if (ok)
		(*n)++;
}

/* Many commands in a row: one at a time, every answer credited. */
START_TEST(test_many_commands)
{
	int i, done = 0;
	char buf[64];

	for (i = 0; i < 2000; i++)
		at_chat_send(chat, "AT", NULL, 0, count_cb, &done, NULL);
	for (i = 0; i < 2000; i++) {
		snprintf(buf, sizeof(buf), "AT\r");
		expect_written(buf);
		ck_assert_int_eq(write(peer, "\r\nOK\r\n", 6), 6);
	}
	pump();
	ck_assert_int_eq(done, 2000);
}
END_TEST

static char logbuf[65536];
static size_t loglen;

static void
log_capture(int prio, const char *line, void *arg)
{
	(void)prio;
	(void)arg;
	loglen +=
	    snprintf(logbuf + loglen, sizeof(logbuf) - loglen, "%s\n", line);
	if (loglen >= sizeof(logbuf))
		loglen = sizeof(logbuf) - 1;
}

/* The AT trace is debug only and never shows PDUs or PINs. */
START_TEST(test_trace_redacts)
{
	static const char pdu[] = "0011000B914477001122F30000AA0BC8329BFD06";
	struct rec r = {0};
	struct urc u = {0};

	loglen = 0;
	logbuf[0] = '\0';
	log_set_sink(log_capture, NULL);
	at_chat_register(chat, "+CMT:", true, urc_cb, &u, NULL);
	at_chat_send(chat, "AT+CSQ", csq, 0, rec_cb, &r, NULL);
	expect_written("AT+CSQ\r");
	modem_says("+CSQ: 1,2\r\nOK\r\n");
	ck_assert_uint_eq(loglen, 0); /* debug off: silent */

	ck_assert_int_eq(log_set_debug("at"), 0);
	at_chat_send(chat, "AT+CPIN=\"4791\"", NULL, 0, rec_cb, &r, NULL);
	expect_written("AT+CPIN=\"4791\"\r");
	modem_says("OK\r\n");
	at_chat_send_pdu(chat, "AT+CMGS=19", pdu, cmgs, 0, rec_cb, &r, NULL);
	expect_written("AT+CMGS=19\r");
	modem_says("\r\n> ");
	peer_collect();
	gotlen = 0;
	/* An echoed PDU, then the answer; then an incoming SMS. */
	modem_says("0011000B914477001122F30000AA0BC8329BFD06\x1a\r\n"
	           "+CMGS: 7\r\nOK\r\n+CMT: ,19\r\n"
	           "0011000B914477001122F30000AA0BC8329BFD06\r\n");
	ck_assert_int_eq(r.calls, 3);
	ck_assert_str_eq(r.lines, "+CMGS: 7|");
	ck_assert_int_eq(u.calls, 1);
	ck_assert_ptr_nonnull(strstr(logbuf, "AT+CMGS=19"));
	ck_assert_ptr_nonnull(strstr(logbuf, "+CMGS: 7"));
	ck_assert_ptr_nonnull(strstr(logbuf, "AT+CPIN="));
	ck_assert_ptr_null(strstr(logbuf, "4791"));
	ck_assert_ptr_null(strstr(logbuf, "914477"));

	/* With "sms" debug as well, PDUs are shown (never the PIN). */
	ck_assert_int_eq(log_set_debug("at,sms"), 0);
	modem_says("+CMT: ,19\r\n0011000B914477001122F30000AA0BC8329BFD06"
	           "\r\n");
	ck_assert_ptr_nonnull(strstr(logbuf, "914477"));
	log_fini();
}
END_TEST

static void
free_on_disconnect(void *arg)
{
	int *n = arg;

	(*n)++;
	at_chat_free(chat);
	chat = NULL;
}

/* The owner may free the chat from the disconnect callback. */
START_TEST(test_free_inside_disconnect)
{
	struct rec a = {0};
	int n = 0;

	at_chat_set_disconnect_cb(chat, free_on_disconnect, &n);
	at_chat_send(chat, "AT+A", NULL, 0, rec_cb, &a, rec_free);
	expect_written("AT+A\r");
	ck_assert_int_eq(write(peer, "+A: 1\r\n", 7), 7);
	close(peer);
	peer = -1;
	pump();
	ck_assert_int_eq(n, 1);
	ck_assert_ptr_null(chat);
	ck_assert_int_eq(a.calls, 1);
	ck_assert_int_eq(a.status, AT_STATUS_IO_ERROR);
	ck_assert_str_eq(a.lines, "+A: 1|");
	ck_assert_int_eq(a.freed, 1);
}
END_TEST

/* A PDU bigger than the socket buffer goes out intact via POLLOUT. */
START_TEST(test_write_backpressure)
{
	size_t n = 1 << 20, i, have = 0;
	char *pdu = malloc(n + 1), *in = malloc(n + 64);
	struct rec r = {0};
	ssize_t k;
	int rounds = 0;

	for (i = 0; i < n; i++)
		pdu[i] = "0123456789ABCDEF"[i % 16];
	pdu[n] = '\0';
	at_chat_send_pdu(chat, "AT+CMGW=9", pdu, NULL, 0, rec_cb, &r, NULL);
	expect_written("AT+CMGW=9\r");
	modem_says("> ");
	while (have < n + 1 && rounds++ < 100000) {
		pump();
		k = read(peer, in + have, n + 64 - have);
		if (k > 0)
			have += (size_t)k;
	}
	ck_assert_uint_eq(have, n + 1);
	ck_assert(memcmp(in, pdu, n) == 0);
	ck_assert_int_eq(in[n], 0x1a);
	modem_says("OK\r\n");
	ck_assert_int_eq(r.calls, 1);
	ck_assert(r.ok);
	free(pdu);
	free(in);
}
END_TEST

/* at_chat_abort from a callback fails the rest of the queue cleanly. */
START_TEST(test_abort_inside_callback)
{
	struct rec a = {0}, b = {0}, c = {0};

	a.abort_chat = true;
	at_chat_send(chat, "AT+CSQ", csq, 0, rec_cb, &a, rec_free);
	at_chat_send(chat, "AT+B", NULL, 0, rec_cb, &b, rec_free);
	expect_written("AT+CSQ\r");
	modem_says("+CSQ: 1,1\r\nOK\r\n");
	ck_assert_str_eq(a.lines, "+CSQ: 1,1|");
	ck_assert(a.ok);
	ck_assert_int_eq(b.calls, 1);
	ck_assert_int_eq(b.status, AT_STATUS_CANCELLED);
	ck_assert_uint_eq(b.nlines, 0);
	ck_assert_int_eq(a.freed + b.freed, 2);
	/* Nothing was in flight: no resync, the line is free. */
	ck_assert(!at_chat_resyncing(chat));
	at_chat_send(chat, "AT+C", NULL, 0, rec_cb, &c, NULL);
	expect_written("AT+C\r");
}
END_TEST

static Suite *
at_chat_suite(void)
{
	Suite *su = suite_create("at_chat");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_simple_command);
	tcase_add_test(tc, test_accept_all_leaves_urcs);
	tcase_add_test(tc, test_random_splits);
	tcase_add_test(tc, test_unknown_lines_ignored);
	tcase_add_test(tc, test_fifo_one_in_flight);
	tcase_add_test(tc, test_error_codes);
	tcase_add_test(tc, test_pdu_urcs);
	tcase_add_test(tc, test_cmgl_listing);
	tcase_add_test(tc, test_prompt_flow);
	tcase_add_test(tc, test_timeout_and_resync);
	tcase_add_test(tc, test_timeout_pdu_esc);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_cancel_inside_callback);
	tcase_add_test(tc, test_cancel_pdu_at_prompt);
	tcase_add_test(tc, test_free_inside_callback);
	tcase_add_test(tc, test_free_inside_urc);
	tcase_add_test(tc, test_unregister_inside_urc);
	tcase_add_test(tc, test_disconnect);
	tcase_add_test(tc, test_overlong_and_garbage);
	tcase_add_test(tc, test_abort);
	tcase_add_test(tc, test_abort_inside_callback);
	tcase_add_test(tc, test_many_commands);
	tcase_add_test(tc, test_trace_redacts);
	tcase_add_test(tc, test_free_inside_disconnect);
	tcase_add_test(tc, test_write_backpressure);
	suite_add_tcase(su, tc);
	return su;
}

int
main(void)
{
	SRunner *sr = srunner_create(at_chat_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
