/*
 * smpp: SMPP 3.4 ESME transceiver on the ev loop.
 *
 * One TCP connection at a time.  Parts to send wait in a FIFO; up to
 * `window` submit_sm are outstanding, matched by sequence number in a
 * small array.  A tick (100 ms while anything is pending, 1 s when bound
 * and idle) checks every deadline (connect, bind, responses,
 * enquire_link), ends throttle pauses and refills the rate token bucket
 * (capacity: 200 ms worth of max_rate).  Messages are reference counted
 * by the queue entries, outstanding parts and receipt table entries that
 * point at them.
 */
#include "smsgw/smpp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "smsgw/ev.h"
#include "smsgw/log.h"
#include "smsgw/smpp_pdu.h"
#include "smsgw/util.h"

#define TICK_MS		100	/* while anything is pending */
#define TICK_IDLE_MS	1000	/* bound and idle: enquire_link only */
#define THROTTLE_MAX_MS	30000
#define BOUND_STABLE_MS	10000	/* bound this long: backoff starts over */
#define RCPT_BUCKETS	4096

struct smpp_msg {
	uint64_t key;
	unsigned nparts;
	unsigned taken;		/* parts written, not refused as throttled */
	unsigned accepted;
	unsigned rcpt_ok;
	unsigned nrcpt;		/* receipt table entries */
	unsigned refs;
	bool done;		/* sending over: failed/uncertain/unsent */
	uint8_t data_coding;
	uint8_t esm_class;
	char dest[21];
	struct {
		uint8_t data[SMPP_TEXT_PART_MAX];
		uint8_t len;
	} *part;
};

struct smpp_qent {
	struct smpp_msg *m;
	unsigned part;
	struct smpp_qent *next;
};

struct smpp_infl {
	bool used;
	uint32_t seq;
	uint64_t deadline;
	struct smpp_msg *m;
	unsigned part;
};

struct smpp_rcpt {
	char *id;
	struct smpp_msg *m;
	struct smpp_rcpt *hnext;
	struct smpp_rcpt *prev, *next;	/* age list, oldest first */
};

struct smpp {
	struct ev *ev;
	struct smpp_events evs;
	void *arg;

	/* config */
	char *host;
	int port;
	char *system_id, *password, *password_file, *system_type;
	char *source_addr;
	uint8_t source_ton, source_npi;
	unsigned window;
	int max_rate;
	uint64_t enquire_ms;
	bool receipts;
	uint64_t resp_ms, backoff_min, backoff_max, throttle_min;
	size_t rcpt_cap;
	bool tls;
	char *ca_file;
	SSL_CTX *tls_ctx;		/* smpp_new to smpp_free */

	/* connection */
	enum smpp_state state;
	int fd;
	uint32_t io_id, tick_id, reconn_id, pump_id;
	unsigned gen;			/* bumped by every link_down */
	uint8_t *rbuf;
	size_t rlen;
	uint8_t *wbuf;
	size_t wlen, wcap;
	uint32_t next_seq;
	bool connecting;		/* TCP connect in progress */
	SSL *ssl;			/* this connection, when tls */
	bool handshaking;		/* TLS handshake in progress */
	bool rd_wants_write;		/* SSL_read said WANT_WRITE */
	bool wr_wants_read;		/* SSL_write said WANT_READ */
	bool tls_dead;			/* fatal TLS error: no close_notify */
	uint64_t conn_deadline;		/* connect or bind response */
	uint32_t bind_seq;
	uint32_t el_seq;
	uint64_t el_deadline, el_next;
	uint32_t unbind_seq;
	uint64_t unbind_deadline;
	uint64_t backoff;
	bool was_bound;			/* this connection got bound */
	uint64_t bound_at;
	unsigned attempt;		/* picks the address to try */
	unsigned attempt_cur;		/* ... used by this connection */

	/* sending */
	struct smpp_qent *qhead, *qtail;
	unsigned nqueued;
	struct smpp_infl *infl;
	unsigned ninfl;
	uint64_t pause_until;
	uint64_t throttle_cur;
	double tokens;
	double tokens_cap;		/* 200 ms worth, at least 1 */
	uint64_t tokens_at;
	uint8_t ref;

	/* stopping */
	bool stopping;
	uint64_t drain_deadline;

	/* receipts */
	struct smpp_rcpt *rb[RCPT_BUCKETS];
	struct smpp_rcpt *rold, *rnew;
	size_t nrcpt;

	struct smpp_status st;
};

static void smpp_connect(struct smpp *);
static void smpp_link_down(struct smpp *, const char *);
static void smpp_pump(struct smpp *);

const char *
smpp_state_name(enum smpp_state st)
{
	switch (st) {
	case SMPP_DISCONNECTED:	return "disconnected";
	case SMPP_CONNECTING:	return "connecting";
	case SMPP_BINDING:	return "binding";
	case SMPP_BOUND:	return "bound";
	case SMPP_BIND_FAILED:	return "bind-failed";
	case SMPP_UNBINDING:	return "unbinding";
	case SMPP_STOPPED:	return "stopped";
	}
	return "?";
}

static void
smpp_set_state(struct smpp *s, enum smpp_state st)
{
	if (s->state == st)
		return;
	log_debug("smpp", "state %s -> %s", smpp_state_name(s->state),
	    smpp_state_name(st));
	s->state = st;
	if (s->evs.on_state != NULL)
		s->evs.on_state(st, s->arg);
}

static void
smpp_error(struct smpp *s, const char *fmt, ...) LOG_PRINTF(2, 3);

static void
smpp_error(struct smpp *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->st.last_error, sizeof(s->st.last_error), fmt, ap);
	va_end(ap);
	log_warnx("smpp", "%s", s->st.last_error);
}

static uint64_t
smpp_now(struct smpp *s)
{
	return ev_now(s->ev);
}

/* ---- messages and the receipt table ------------------------------- */

static void
msg_unref(struct smpp_msg *m)
{
	if (--m->refs > 0)
		return;
	free(m->part);
	free(m);
}

static unsigned
rcpt_hash(const char *id)
{
	uint32_t h = 2166136261u;

	for (; *id != '\0'; id++)
		h = (h ^ (uint8_t)*id) * 16777619u;
	return h % RCPT_BUCKETS;
}

static void
rcpt_del(struct smpp *s, struct smpp_rcpt *r)
{
	struct smpp_rcpt **pp = &s->rb[rcpt_hash(r->id)];

	while (*pp != r)
		pp = &(*pp)->hnext;
	*pp = r->hnext;
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		s->rold = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	else
		s->rnew = r->prev;
	s->nrcpt--;
	r->m->nrcpt--;
	msg_unref(r->m);
	free(r->id);
	free(r);
}

static void
rcpt_add(struct smpp *s, struct smpp_msg *m, const char *id)
{
	struct smpp_rcpt *r = xcalloc(1, sizeof(*r));
	unsigned h = rcpt_hash(id);

	r->id = xstrdup(id);
	r->m = m;
	m->refs++;
	m->nrcpt++;
	r->hnext = s->rb[h];
	s->rb[h] = r;
	r->prev = s->rnew;
	if (s->rnew != NULL)
		s->rnew->next = r;
	else
		s->rold = r;
	s->rnew = r;
	if (++s->nrcpt > s->rcpt_cap)
		rcpt_del(s, s->rold);
}

static struct smpp_rcpt *
rcpt_find(struct smpp *s, const char *id)
{
	struct smpp_rcpt *r;

	for (r = s->rb[rcpt_hash(id)]; r != NULL; r = r->hnext)
		if (strcmp(r->id, id) == 0)
			return r;
	return NULL;
}

/* Forget every receipt entry of m (O(n) scan, rare path). */
static void
rcpt_drop_msg(struct smpp *s, struct smpp_msg *m)
{
	struct smpp_rcpt *r, *next;

	if (m->nrcpt == 0)
		return;
	m->refs++;
	for (r = s->rold; r != NULL && m->nrcpt > 0; r = next) {
		next = r->next;
		if (r->m == m)
			rcpt_del(s, r);
	}
	msg_unref(m);
}

/* ---- queue ---------------------------------------------------------- */

static void
q_push(struct smpp *s, struct smpp_msg *m, unsigned part, bool front)
{
	struct smpp_qent *q = xcalloc(1, sizeof(*q));

	q->m = m;
	q->part = part;
	m->refs++;
	if (front) {
		q->next = s->qhead;
		s->qhead = q;
		if (s->qtail == NULL)
			s->qtail = q;
	} else {
		if (s->qtail != NULL)
			s->qtail->next = q;
		else
			s->qhead = q;
		s->qtail = q;
	}
	s->nqueued++;
}

static struct smpp_qent *
q_pop(struct smpp *s)
{
	struct smpp_qent *q = s->qhead;

	if (q == NULL)
		return NULL;
	s->qhead = q->next;
	if (s->qhead == NULL)
		s->qtail = NULL;
	s->nqueued--;
	return q;
}

/* ---- ending messages ---------------------------------------------- */

static void
msg_fail(struct smpp *s, struct smpp_msg *m, uint32_t status,
    const char *reason)
{
	if (m->done)
		return;
	m->done = true;
	s->st.failed++;
	rcpt_drop_msg(s, m);
	if (s->evs.on_failed != NULL)
		s->evs.on_failed(m->key, status, reason, s->arg);
}

static void
msg_uncertain(struct smpp *s, struct smpp_msg *m)
{
	if (m->done)
		return;
	m->done = true;
	s->st.uncertain++;
	rcpt_drop_msg(s, m);
	if (s->evs.on_uncertain != NULL)
		s->evs.on_uncertain(m->key, s->arg);
}

/* ---- TLS ------------------------------------------------------------ */

/*
 * Why an SSL call failed, for last_error (no PII: OpenSSL reasons and
 * certificate verification results only).  saved_errno is errno right
 * after the call.
 */
static void
tls_reason(struct smpp *s, int err, int saved_errno, char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();
	const char *r;
	long v;

	if (s != NULL && s->handshaking && s->ssl != NULL &&
	    (v = SSL_get_verify_result(s->ssl)) != X509_V_OK) {
		snprintf(buf, len, "certificate verify failed: %s",
		    X509_verify_cert_error_string(v));
		return;
	}
	if (e != 0) {
		if ((r = ERR_reason_error_string(e)) != NULL)
			snprintf(buf, len, "%s", r);
		else
			snprintf(buf, len, "error 0x%lx", e);
		return;
	}
	if (err == SSL_ERROR_SYSCALL && saved_errno != 0)
		snprintf(buf, len, "%s", strerror(saved_errno));
	else if (err == SSL_ERROR_SYSCALL)
		snprintf(buf, len, "connection closed by the peer");
	else
		snprintf(buf, len, "error %d", err);
}

/* A failed SSL call (not WANT_*): the link is dead. */
static void
tls_fail(struct smpp *s, const char *what, int err, int saved_errno)
{
	char why[96];

	tls_reason(s, err, saved_errno, why, sizeof(why));
	if (err == SSL_ERROR_SSL || err == SSL_ERROR_SYSCALL)
		s->tls_dead = true;	/* no SSL_shutdown after this */
	ERR_clear_error();
	smpp_error(s, "TLS: %s%s", what, why);
	smpp_link_down(s, NULL);
}

/* POLLIN always (to see the SMSC); POLLOUT while something waits on it. */
static void
smpp_io_update(struct smpp *s)
{
	short want = POLLIN;

	if (s->fd < 0 || s->connecting || s->handshaking)
		return;
	if ((s->wlen > 0 && !s->wr_wants_read) || s->rd_wants_write)
		want |= POLLOUT;
	ev_io_set(s->ev, s->io_id, want);
}

/* ---- output --------------------------------------------------------- */

/* Write as much as the socket takes through SSL_write. */
static bool
smpp_flush_tls(struct smpp *s, size_t *offp)
{
	size_t off = *offp, chunk;
	int r, err, se;

	while (off < s->wlen) {
		chunk = s->wlen - off > 65536 ? 65536 : s->wlen - off;
		ERR_clear_error();
		r = SSL_write(s->ssl, s->wbuf + off, (int)chunk);
		if (r > 0) {
			s->wr_wants_read = false;
			off += (size_t)r;
			continue;
		}
		se = errno;
		err = SSL_get_error(s->ssl, r);
		if (err == SSL_ERROR_WANT_WRITE) {
			s->wr_wants_read = false;
			break;
		}
		if (err == SSL_ERROR_WANT_READ) {
			s->wr_wants_read = true;
			break;
		}
		tls_fail(s, "write: ", err, se);
		return false;
	}
	*offp = off;
	return true;
}

static void
smpp_flush(struct smpp *s)
{
	size_t off = 0;
	ssize_t n;

	if (s->fd < 0 || s->connecting || s->handshaking)
		return;
	if (s->ssl != NULL && !smpp_flush_tls(s, &off))
		return;
	while (s->ssl == NULL && off < s->wlen) {
		n = send(s->fd, s->wbuf + off, s->wlen - off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			smpp_error(s, "write: %s", strerror(errno));
			smpp_link_down(s, NULL);
			return;
		}
		off += (size_t)n;
	}
	memmove(s->wbuf, s->wbuf + off, s->wlen - off);
	s->wlen -= off;
	smpp_io_update(s);
}

/* Append one PDU to the output buffer (flushed by the caller). */
static bool
smpp_put(struct smpp *s, const struct smpp_pdu *p)
{
	uint8_t buf[SMPP_HDR_LEN + 400];
	size_t n = smpp_pdu_encode(p, buf, sizeof(buf));

	if (n == 0) {
		log_warnx("smpp", "cannot encode %s", smpp_cmd_name(p->cmd));
		return false;
	}
	if (s->wlen + n > s->wcap) {
		s->wcap = (s->wlen + n) * 2;
		s->wbuf = xrealloc(s->wbuf, s->wcap);
	}
	memcpy(s->wbuf + s->wlen, buf, n);
	s->wlen += n;
	log_debug("smpp", "> %s seq %u", smpp_cmd_name(p->cmd),
	    (unsigned)p->seq);
	return true;
}

static uint32_t
smpp_seq(struct smpp *s)
{
	uint32_t q = s->next_seq;

	s->next_seq = q >= 0x7FFFFFFFu ? 1 : q + 1;
	return q;
}

static void
smpp_reply(struct smpp *s, uint32_t cmd, uint32_t status, uint32_t seq)
{
	struct smpp_pdu p;

	smpp_pdu_init(&p, cmd, seq);
	p.status = status;
	smpp_put(s, &p);
}

/* ---- connection life ---------------------------------------------- */

static void
smpp_close(struct smpp *s)
{
	if (s->io_id != 0)
		ev_io_del(s->ev, s->io_id);
	if (s->ssl != NULL) {
		/* one non-blocking close_notify after a clean session */
		if (!s->tls_dead && !s->handshaking)
			(void)SSL_shutdown(s->ssl);
		SSL_free(s->ssl);
		ERR_clear_error();
		s->ssl = NULL;
	}
	s->handshaking = s->rd_wants_write = s->wr_wants_read = false;
	s->tls_dead = false;
	if (s->fd >= 0)
		close(s->fd);
	ev_timer_del(s->ev, s->tick_id);
	s->io_id = s->tick_id = 0;
	s->fd = -1;
	s->rlen = s->wlen = 0;
	s->bind_seq = s->el_seq = s->unbind_seq = 0;
	s->connecting = false;
	s->gen++;
}

static void
smpp_reconnect_cb(void *arg)
{
	struct smpp *s = arg;

	s->reconn_id = 0;
	smpp_connect(s);
}

static void
smpp_schedule_reconnect(struct smpp *s)
{
	/* a link that stayed bound a while earns a fast reconnect; one that
	 * drops right after each bind keeps backing off */
	if (s->was_bound && smpp_now(s) - s->bound_at >= BOUND_STABLE_MS)
		s->backoff = s->backoff_min;
	s->was_bound = false;
	log_info("smpp", "reconnecting in %llu ms",
	    (unsigned long long)s->backoff);
	s->reconn_id = ev_timer_add(s->ev, s->backoff, smpp_reconnect_cb, s);
	s->backoff *= 2;
	if (s->backoff > s->backoff_max)
		s->backoff = s->backoff_max;
}

/*
 * Drop the connection.  Outstanding submits become uncertain (never
 * resent); queued parts stay for the next connection unless stopping.
 */
static void
smpp_link_down(struct smpp *s, const char *why)
{
	unsigned i;
	bool bind_failed = (s->state == SMPP_BIND_FAILED);

	if (why != NULL)
		smpp_error(s, "%s", why);
	smpp_close(s);
	for (i = 0; i < s->window; i++) {
		struct smpp_infl *f = &s->infl[i];

		if (!f->used)
			continue;
		f->used = false;
		s->ninfl--;
		msg_uncertain(s, f->m);
		msg_unref(f->m);
	}
	if (s->stopping) {
		struct smpp_qent *q;

		/* partly written messages cannot be finished now */
		while ((q = q_pop(s)) != NULL) {
			if (q->m->taken > 0)
				msg_uncertain(s, q->m);
			else if (!q->m->done) {
				q->m->done = true;
				if (s->evs.on_unsent != NULL)
					s->evs.on_unsent(q->m->key, s->arg);
			}
			msg_unref(q->m);
			free(q);
		}
		smpp_set_state(s, SMPP_STOPPED);
		return;
	}
	smpp_set_state(s, bind_failed ? SMPP_BIND_FAILED : SMPP_DISCONNECTED);
	smpp_schedule_reconnect(s);
}

static bool
smpp_read_password(struct smpp *s, char *out, size_t len)
{
	FILE *f;
	char line[256];
	size_t n;

	if (s->password_file == NULL || s->password_file[0] == '\0')
		return strlcpy_s(out, s->password != NULL ? s->password : "",
		    len) < len;
	if ((f = fopen(s->password_file, "r")) == NULL) {
		smpp_error(s, "password_file %s: %s", s->password_file,
		    strerror(errno));
		return false;
	}
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	if (n >= len) {
		smpp_error(s, "password_file %s: password longer than 8",
		    s->password_file);
		explicit_bzero(line, sizeof(line));
		return false;
	}
	memcpy(out, line, n + 1);
	explicit_bzero(line, sizeof(line));
	return true;
}

static void
smpp_send_bind(struct smpp *s)
{
	struct smpp_pdu p;

	smpp_pdu_init(&p, SMPP_BIND_TRANSCEIVER, smpp_seq(s));
	if (!smpp_read_password(s, p.password, sizeof(p.password))) {
		s->st.binds_failed++;
		smpp_set_state(s, SMPP_BIND_FAILED);
		smpp_link_down(s, NULL);
		return;
	}
	strlcpy_s(p.system_id, s->system_id, sizeof(p.system_id));
	strlcpy_s(p.system_type, s->system_type, sizeof(p.system_type));
	p.interface_version = SMPP_VERSION_34;
	s->bind_seq = p.seq;
	s->conn_deadline = smpp_now(s) + s->resp_ms;
	smpp_put(s, &p);
	explicit_bzero(&p, sizeof(p));
	if (s->state != SMPP_BIND_FAILED)
		smpp_set_state(s, SMPP_BINDING);
	smpp_flush(s);
}

static void
smpp_tick(void *arg)
{
	struct smpp *s = arg;
	uint64_t now = smpp_now(s);
	unsigned i;

	s->tick_id = ev_timer_add(s->ev, s->connecting || s->handshaking ||
	    s->bind_seq != 0 ||
	    s->el_seq != 0 || s->unbind_seq != 0 || s->ninfl > 0 ||
	    s->qhead != NULL || s->stopping ? TICK_MS : TICK_IDLE_MS,
	    smpp_tick, s);
	if ((s->connecting || s->handshaking || s->bind_seq != 0) &&
	    now >= s->conn_deadline) {
		smpp_link_down(s, s->bind_seq != 0 ? "bind timed out" :
		    s->handshaking ? "TLS: handshake timed out" :
		    "connect timed out");
		return;
	}
	if (s->el_seq != 0 && now >= s->el_deadline) {
		smpp_link_down(s, "enquire_link timed out");
		return;
	}
	if (s->unbind_seq != 0 && now >= s->unbind_deadline) {
		smpp_link_down(s, NULL);
		return;
	}
	for (i = 0; i < s->window; i++)
		if (s->infl[i].used && now >= s->infl[i].deadline) {
			smpp_link_down(s, "submit_sm response timed out");
			return;
		}
	if (s->state != SMPP_BOUND && s->state != SMPP_UNBINDING)
		return;
	if (s->stopping && s->unbind_seq == 0 && now >= s->drain_deadline) {
		smpp_link_down(s, "drain timed out at shutdown");
		return;
	}
	if (s->state == SMPP_BOUND && s->el_seq == 0 && now >= s->el_next) {
		struct smpp_pdu p;

		smpp_pdu_init(&p, SMPP_ENQUIRE_LINK, smpp_seq(s));
		s->el_seq = p.seq;
		s->el_deadline = now + s->resp_ms;
		s->el_next = now + s->enquire_ms;
		smpp_put(s, &p);
		smpp_flush(s);
		if (s->fd < 0)
			return;
	}
	smpp_pump(s);
}

static void smpp_io_cb(int fd, short revents, void *arg);

/* Drive the TLS handshake; on success send the bind. */
static void
smpp_tls_handshake(struct smpp *s)
{
	int r, err, se;

	ERR_clear_error();
	r = SSL_do_handshake(s->ssl);
	if (r == 1) {
		s->handshaking = false;
		log_info("smpp", "TLS to %s:%d: %s, %s", s->host, s->port,
		    SSL_get_version(s->ssl), SSL_get_cipher_name(s->ssl));
		smpp_io_update(s);
		smpp_send_bind(s);
		return;
	}
	se = errno;
	err = SSL_get_error(s->ssl, r);
	if (err == SSL_ERROR_WANT_READ)
		ev_io_set(s->ev, s->io_id, POLLIN);
	else if (err == SSL_ERROR_WANT_WRITE)
		ev_io_set(s->ev, s->io_id, POLLOUT);
	else
		tls_fail(s, "", err, se);
}

static bool
smpp_is_ip(const char *h)
{
	struct in6_addr a;

	return inet_pton(AF_INET, h, &a) == 1 ||
	    inet_pton(AF_INET6, h, &a) == 1;
}

static void
smpp_tls_start(struct smpp *s)
{
	bool ok;

	ERR_clear_error();
	if ((s->ssl = SSL_new(s->tls_ctx)) == NULL) {
		tls_fail(s, "", SSL_ERROR_SSL, 0);
		return;
	}
	SSL_set_mode(s->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	ok = SSL_set_fd(s->ssl, s->fd) == 1;
	if (ok && smpp_is_ip(s->host))
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->ssl),
		    s->host) == 1;
	else if (ok) {
		SSL_set_hostflags(s->ssl,
		    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		ok = SSL_set_tlsext_host_name(s->ssl, s->host) == 1 &&
		    SSL_set1_host(s->ssl, s->host) == 1;
	}
	if (!ok) {
		tls_fail(s, "setup: ", SSL_ERROR_SSL, 0);
		return;
	}
	SSL_set_connect_state(s->ssl);
	s->handshaking = true;
	s->conn_deadline = smpp_now(s) + s->resp_ms;
	smpp_tls_handshake(s);
}

/* TCP is up: start TLS, or bind at once. */
static void
smpp_connected(struct smpp *s)
{
	s->connecting = false;
	s->st.connects++;
	if (s->tls) {
		smpp_tls_start(s);
		return;
	}
	smpp_io_update(s);
	smpp_send_bind(s);
}

static void
smpp_connect(struct smpp *s)
{
	struct addrinfo hints, *res = NULL, *ai;
	char port[16];
	int fd, rc, one = 1;
	unsigned n;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%d", s->port);
	s->bind_seq = 0;
	if ((rc = getaddrinfo(s->host, port, &hints, &res)) != 0) {
		smpp_error(s, "%s: %s", s->host, gai_strerror(rc));
		smpp_link_down(s, NULL);
		return;
	}
	/* each attempt takes the next address ("localhost": ::1, then v4) */
	for (ai = res, n = 0; ai->ai_next != NULL; ai = ai->ai_next)
		n++;
	s->attempt_cur = s->attempt++ % (n + 1);
	for (ai = res, n = s->attempt_cur; n > 0; n--)
		ai = ai->ai_next;
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0) {
		freeaddrinfo(res);
		smpp_error(s, "socket: %s", strerror(errno));
		smpp_link_down(s, NULL);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(res);
	if (rc < 0 && errno != EINPROGRESS) {
		smpp_error(s, "connect %s:%d: %s", s->host, s->port,
		    strerror(errno));
		close(fd);
		smpp_link_down(s, NULL);
		return;
	}
	s->fd = fd;
	s->io_id = ev_io_add(s->ev, fd, POLLOUT, smpp_io_cb, s);
	s->tick_id = ev_timer_add(s->ev, TICK_MS, smpp_tick, s);
	s->conn_deadline = smpp_now(s) + s->resp_ms;
	s->connecting = true;
	/* reconnecting after a refused bind keeps BIND_FAILED visible */
	if (s->state != SMPP_BIND_FAILED)
		smpp_set_state(s, SMPP_CONNECTING);
	if (rc == 0)
		smpp_connected(s);
}

/* ---- input ---------------------------------------------------------- */

static struct smpp_infl *
infl_find(struct smpp *s, uint32_t seq)
{
	unsigned i;

	for (i = 0; i < s->window; i++)
		if (s->infl[i].used && s->infl[i].seq == seq)
			return &s->infl[i];
	return NULL;
}

static void
smpp_submit_resp(struct smpp *s, uint32_t seq, uint32_t status,
    const char *message_id)
{
	struct smpp_infl *f = infl_find(s, seq);
	struct smpp_msg *m;
	unsigned part;
	char sb[32];

	if (f == NULL) {
		log_debug("smpp", "response to unknown seq %u", (unsigned)seq);
		return;
	}
	m = f->m;
	part = f->part;
	f->used = false;
	s->ninfl--;
	if (status == SMPP_ESME_ROK) {
		s->st.submitted++;
		s->throttle_cur = s->throttle_min;
		if (++m->accepted == m->nparts) {
			/* nothing left to (re)send: keep only the counters */
			free(m->part);
			m->part = NULL;
		}
		if (!m->done) {
			if (s->receipts && message_id[0] != '\0')
				rcpt_add(s, m, message_id);
			if (s->evs.on_submitted != NULL)
				s->evs.on_submitted(m->key, part + 1,
				    m->nparts, message_id, s->arg);
		}
	} else if (status == SMPP_ESME_RTHROTTLED ||
	    status == SMPP_ESME_RMSGQFUL) {
		uint64_t now = smpp_now(s);

		s->st.throttled++;
		m->taken--;
		if (!m->done) {
			q_push(s, m, part, true);
			if (s->pause_until <= now) {
				s->pause_until = now + s->throttle_cur;
				log_info("smpp", "%s: pausing %llu ms",
				    smpp_status_name(status, sb, sizeof(sb)),
				    (unsigned long long)s->throttle_cur);
				s->throttle_cur *= 2;
				if (s->throttle_cur > THROTTLE_MAX_MS)
					s->throttle_cur = THROTTLE_MAX_MS;
			}
		}
	} else {
		const char *name = smpp_status_name(status, sb, sizeof(sb));

		snprintf(s->st.last_error, sizeof(s->st.last_error),
		    "submit_sm refused: %s", name);
		log_info("smpp", "submit_sm refused: %s", name);
		msg_fail(s, m, status, name);
	}
	msg_unref(m);
}

static void
smpp_receipt(struct smpp *s, const struct smpp_pdu *p)
{
	struct smpp_receipt r;
	struct smpp_rcpt *e;
	struct smpp_msg *m;
	const char *id = NULL, *stat = "";
	int state = p->message_state, fin;
	bool have_text;

	if (p->message_payload != NULL)
		have_text = smpp_receipt_parse(p->message_payload,
		    p->payload_len, &r);
	else
		have_text = smpp_receipt_parse(p->short_message,
		    p->sm_length, &r);
	if (have_text) {
		id = r.id;
		stat = r.stat;
		if (state < 0)
			state = r.state;
	}
	if (p->receipted_message_id[0] != '\0')
		id = p->receipted_message_id;
	if (id == NULL || state < 0) {
		log_warnx("smpp", "unparsable delivery receipt ignored");
		return;
	}
	if (stat[0] == '\0')
		stat = state == SMPP_STATE_DELIVERED ? "DELIVRD" : "FAILED";
	if ((fin = smpp_state_final(state)) < 0)
		return;
	if ((e = rcpt_find(s, id)) == NULL) {
		log_debug("smpp", "receipt for unknown message_id %s", id);
		if (s->evs.on_delivered != NULL)
			s->evs.on_delivered(0, id, fin == 1, stat, s->arg);
		return;
	}
	m = e->m;
	m->refs++;
	rcpt_del(s, e);
	if (fin == 1) {
		if (++m->rcpt_ok == m->nparts) {
			s->st.delivered++;
			if (s->evs.on_delivered != NULL)
				s->evs.on_delivered(m->key, id, true, stat,
				    s->arg);
		}
	} else {
		rcpt_drop_msg(s, m);
		s->st.undelivered++;
		if (s->evs.on_delivered != NULL)
			s->evs.on_delivered(m->key, id, false, stat, s->arg);
	}
	msg_unref(m);
}

static void
smpp_handle(struct smpp *s, const uint8_t *buf, size_t len)
{
	struct smpp_pdu p;
	bool hdr_ok;
	uint32_t cmd, status, seq;
	char sb[32];

	smpp_pdu_peek_hdr(buf, &cmd, &status, &seq);
	if (!smpp_pdu_decode(buf, len, &p, &hdr_ok)) {
		if (!SMPP_IS_RESP(cmd)) {
			log_warnx("smpp", "bad or unsupported %s (0x%08x)",
			    smpp_cmd_name(cmd), (unsigned)cmd);
			smpp_reply(s, SMPP_GENERIC_NACK, hdr_ok ?
			    SMPP_ESME_RINVCMDID : SMPP_ESME_RINVCMDLEN, seq);
			return;
		}
		/* a response we cannot read: treat it as a failure status */
		smpp_pdu_init(&p, cmd, seq);
		p.status = status != 0 ? status : SMPP_ESME_RSYSERR;
	}
	log_debug("smpp", "< %s seq %u status 0x%x", smpp_cmd_name(p.cmd),
	    (unsigned)p.seq, (unsigned)p.status);
	switch (p.cmd) {
	case SMPP_BIND_TRANSCEIVER_RESP:
		if (p.seq != s->bind_seq)
			return;
		s->bind_seq = 0;
		if (p.status != SMPP_ESME_ROK) {
			s->st.binds_failed++;
			smpp_error(s, "bind refused: %s",
			    smpp_status_name(p.status, sb, sizeof(sb)));
			smpp_set_state(s, SMPP_BIND_FAILED);
			smpp_link_down(s, NULL);
			return;
		}
		log_info("smpp", "bound to %s:%d as transceiver", s->host,
		    s->port);
		s->bound_at = smpp_now(s);
		s->was_bound = true;
		s->attempt = s->attempt_cur;	/* stay on a good address */
		s->el_next = smpp_now(s) + s->enquire_ms;
		s->st.last_error[0] = '\0';
		smpp_set_state(s, SMPP_BOUND);
		smpp_pump(s);
		break;
	case SMPP_SUBMIT_SM_RESP:
		smpp_submit_resp(s, p.seq, p.status, p.message_id);
		break;
	case SMPP_GENERIC_NACK:
		if (infl_find(s, p.seq) != NULL)
			smpp_submit_resp(s, p.seq, p.status != 0 ? p.status :
			    SMPP_ESME_RSYSERR, "");
		else if (p.seq == s->bind_seq && s->bind_seq != 0) {
			s->st.binds_failed++;
			smpp_set_state(s, SMPP_BIND_FAILED);
			smpp_link_down(s, "bind answered with generic_nack");
		} else
			log_warnx("smpp", "generic_nack %s for seq %u",
			    smpp_status_name(p.status, sb, sizeof(sb)),
			    (unsigned)p.seq);
		break;
	case SMPP_ENQUIRE_LINK_RESP:
		if (p.seq == s->el_seq)
			s->el_seq = 0;
		break;
	case SMPP_ENQUIRE_LINK:
		smpp_reply(s, SMPP_ENQUIRE_LINK_RESP, 0, p.seq);
		break;
	case SMPP_DELIVER_SM:
		smpp_reply(s, SMPP_DELIVER_SM_RESP, 0, p.seq);
		if ((p.esm_class & 0x3C) == SMPP_ESM_RECEIPT)
			smpp_receipt(s, &p);
		else
			log_info("smpp", "ignoring a mobile-originated "
			    "deliver_sm");
		break;
	case SMPP_UNBIND:
		smpp_reply(s, SMPP_UNBIND_RESP, 0, p.seq);
		smpp_flush(s);
		if (s->fd >= 0)
			smpp_link_down(s, "unbound by the SMSC");
		break;
	case SMPP_UNBIND_RESP:
		if (p.seq == s->unbind_seq)
			smpp_link_down(s, NULL);
		break;
	default:
		if (!SMPP_IS_RESP(p.cmd))
			smpp_reply(s, SMPP_GENERIC_NACK, SMPP_ESME_RINVCMDID,
			    p.seq);
		break;
	}
}

/*
 * One SSL_read into rbuf: > 0 bytes read, 0 when it must wait (the loop
 * in smpp_read calls again until then, so nothing stays in SSL_pending),
 * -1 when the link went down.
 */
static ssize_t
smpp_read_tls(struct smpp *s)
{
	int r, err, se;
	unsigned long e;

	ERR_clear_error();
	r = SSL_read(s->ssl, s->rbuf + s->rlen, (int)(SMPP_PDU_MAX - s->rlen));
	if (r > 0) {
		s->rd_wants_write = false;
		return r;
	}
	se = errno;
	err = SSL_get_error(s->ssl, r);
	switch (err) {
	case SSL_ERROR_WANT_READ:
		s->rd_wants_write = false;
		return 0;
	case SSL_ERROR_WANT_WRITE:
		s->rd_wants_write = true;
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		smpp_link_down(s, "connection closed by the SMSC");
		return -1;
	}
	e = ERR_peek_last_error();
	if ((err == SSL_ERROR_SYSCALL && se == 0 && e == 0)
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
	    || (err == SSL_ERROR_SSL &&
	    ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
#endif
	    ) {
		/* TCP closed without close_notify: as without TLS */
		s->tls_dead = true;
		ERR_clear_error();
		smpp_link_down(s, "connection closed by the SMSC");
		return -1;
	}
	tls_fail(s, "read: ", err, se);
	return -1;
}

static void
smpp_read(struct smpp *s)
{
	unsigned gen = s->gen;
	ssize_t n;
	size_t off;
	long fl;

	for (;;) {
		if (s->ssl != NULL) {
			if ((n = smpp_read_tls(s)) < 0)
				return;		/* link down */
			if (n == 0)
				break;		/* WANT_READ/WRITE */
		} else
			n = read(s->fd, s->rbuf + s->rlen,
			    SMPP_PDU_MAX - s->rlen);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			smpp_error(s, "read: %s", strerror(errno));
			smpp_link_down(s, NULL);
			return;
		}
		if (n == 0) {
			smpp_link_down(s, "connection closed by the SMSC");
			return;
		}
		s->rlen += (size_t)n;
		off = 0;
		while ((fl = smpp_pdu_frame(s->rbuf + off,
		    s->rlen - off)) > 0 && (size_t)fl <= s->rlen - off) {
			smpp_handle(s, s->rbuf + off, (size_t)fl);
			if (s->gen != gen)
				return;	/* link down, buffer reset */
			off += (size_t)fl;
		}
		if (fl < 0) {
			smpp_link_down(s, "framing error from the SMSC");
			return;
		}
		memmove(s->rbuf, s->rbuf + off, s->rlen - off);
		s->rlen -= off;
	}
	smpp_pump(s);
	if (s->fd >= 0 && s->wlen > 0)
		smpp_flush(s);
	else
		smpp_io_update(s);
}

static void
smpp_io_cb(int fd, short revents, void *arg)
{
	struct smpp *s = arg;
	int err = 0;
	socklen_t elen = sizeof(err);

	(void)fd;
	if (s->connecting) {
		s->connecting = false;
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
			err = errno;
		if (err != 0) {
			smpp_error(s, "connect %s:%d: %s", s->host, s->port,
			    strerror(err));
			smpp_link_down(s, NULL);
			return;
		}
		smpp_connected(s);
		return;
	}
	if (s->handshaking) {
		smpp_tls_handshake(s);
		return;
	}
	if (s->ssl != NULL) {
		/* either direction may be waiting on either event */
		smpp_read(s);
		return;
	}
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		smpp_read(s);
		if (s->fd < 0)
			return;
	}
	if ((revents & POLLOUT) && s->wlen > 0)
		smpp_flush(s);
}

/* ---- sending -------------------------------------------------------- */

static bool
smpp_take_token(struct smpp *s, uint64_t now)
{
	if (s->max_rate <= 0)
		return true;
	if (now > s->tokens_at) {
		s->tokens += (double)(now - s->tokens_at) * s->max_rate /
		    1000.0;
		if (s->tokens > s->tokens_cap)
			s->tokens = s->tokens_cap;
		s->tokens_at = now;
	}
	if (s->tokens < 1.0)
		return false;
	s->tokens -= 1.0;
	return true;
}

static void
smpp_maybe_unbind(struct smpp *s)
{
	struct smpp_pdu p;

	if (!s->stopping || s->state != SMPP_UNBINDING || s->ninfl > 0 ||
	    s->qhead != NULL || s->unbind_seq != 0)
		return;
	smpp_pdu_init(&p, SMPP_UNBIND, smpp_seq(s));
	s->unbind_seq = p.seq;
	s->unbind_deadline = smpp_now(s) + s->resp_ms;
	smpp_put(s, &p);
	smpp_flush(s);
}

static void
smpp_pump(struct smpp *s)
{
	uint64_t now = smpp_now(s);
	struct smpp_qent *q;
	struct smpp_pdu p;
	bool wrote = false;
	unsigned i;

	if (s->state != SMPP_BOUND && s->state != SMPP_UNBINDING)
		return;
	while (s->qhead != NULL && s->ninfl < s->window &&
	    now >= s->pause_until) {
		struct smpp_msg *m = s->qhead->m;

		if (m->done) {
			q = q_pop(s);
			msg_unref(q->m);
			free(q);
			continue;
		}
		if (!smpp_take_token(s, now))
			break;
		q = q_pop(s);
		smpp_pdu_init(&p, SMPP_SUBMIT_SM, smpp_seq(s));
		strlcpy_s(p.source_addr, s->source_addr,
		    sizeof(p.source_addr));
		p.source_ton = s->source_ton;
		p.source_npi = s->source_npi;
		p.dest_ton = SMPP_TON_INTERNATIONAL;
		p.dest_npi = SMPP_NPI_E164;
		strlcpy_s(p.dest_addr, m->dest, sizeof(p.dest_addr));
		p.esm_class = m->esm_class;
		p.data_coding = m->data_coding;
		p.registered_delivery = s->receipts ? 1 : 0;
		p.short_message = m->part[q->part].data;
		p.sm_length = m->part[q->part].len;
		if (!smpp_put(s, &p)) {
			msg_fail(s, m, 0, "cannot encode submit_sm");
			msg_unref(m);
			free(q);
			continue;
		}
		for (i = 0; i < s->window && s->infl[i].used; i++)
			;
		s->infl[i].used = true;
		s->infl[i].seq = p.seq;
		s->infl[i].deadline = now + s->resp_ms;
		s->infl[i].m = m;	/* the queue's reference moves here */
		s->infl[i].part = q->part;
		s->ninfl++;
		m->taken++;
		free(q);
		wrote = true;
	}
	if (wrote)
		smpp_flush(s);
	if (s->fd >= 0)
		smpp_maybe_unbind(s);
}

static void
smpp_pump_cb(void *arg)
{
	struct smpp *s = arg;

	s->pump_id = 0;
	smpp_pump(s);
}

/* ---- public API ----------------------------------------------------- */

static bool
smpp_is_numeric(const char *a)
{
	if (*a == '+')
		a++;
	if (*a == '\0')
		return false;
	for (; *a != '\0'; a++)
		if (*a < '0' || *a > '9')
			return false;
	return true;
}

/* The client context: TLS 1.2 or later, the server always verified. */
static SSL_CTX *
smpp_tls_ctx(const char *ca_file)
{
	SSL_CTX *ctx;
	char why[96];
	bool ok;

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		tls_reason(NULL, SSL_ERROR_SSL, 0, why, sizeof(why));
		log_warnx("smpp", "TLS: %s", why);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	ok = SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1;
	if (ok && ca_file[0] != '\0') {
		if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
			tls_reason(NULL, SSL_ERROR_SSL, 0, why, sizeof(why));
			log_warnx("smpp", "TLS: cannot load smpp.ca_file %s: "
			    "%s", ca_file, why);
			ok = false;
		}
	} else if (ok && SSL_CTX_set_default_verify_paths(ctx) != 1) {
		tls_reason(NULL, SSL_ERROR_SSL, 0, why, sizeof(why));
		log_warnx("smpp", "TLS: cannot load the system CAs: %s", why);
		ok = false;
	}
	ERR_clear_error();
	if (!ok) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

struct smpp *
smpp_new(struct ev *ev, const struct smpp_config *cfg,
    const struct smpp_events *evs, void *arg)
{
	struct smpp *s;
	const char *src = cfg->source_addr != NULL ? cfg->source_addr : "";

	if (cfg->host == NULL || cfg->host[0] == '\0' || cfg->port < 1 ||
	    cfg->port > 65535) {
		log_warnx("smpp", "smpp.host and smpp.port are required");
		return NULL;
	}
	if (src[0] == '\0' || (smpp_is_numeric(src) ? strlen(src) > 20 :
	    strlen(src) > 11)) {
		log_warnx("smpp", "smpp.source_addr must be 1-11 characters "
		    "or a number of up to 20 digits");
		return NULL;
	}
	if ((cfg->system_id != NULL && strlen(cfg->system_id) > 15) ||
	    (cfg->system_type != NULL && strlen(cfg->system_type) > 12) ||
	    (cfg->password != NULL && strlen(cfg->password) > 8)) {
		log_warnx("smpp", "system_id (15), system_type (12) or "
		    "password (8) too long");
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->ev = ev;
	if (evs != NULL)
		s->evs = *evs;
	s->arg = arg;
	s->host = xstrdup(cfg->host);
	s->port = cfg->port;
	s->system_id = xstrdup(cfg->system_id != NULL ? cfg->system_id : "");
	s->password = xstrdup(cfg->password != NULL ? cfg->password : "");
	s->password_file = xstrdup(cfg->password_file != NULL ?
	    cfg->password_file : "");
	s->system_type = xstrdup(cfg->system_type != NULL ?
	    cfg->system_type : "");
	if (smpp_is_numeric(src)) {
		s->source_addr = xstrdup(src[0] == '+' ? src + 1 : src);
		s->source_ton = SMPP_TON_INTERNATIONAL;
		s->source_npi = SMPP_NPI_E164;
	} else {
		s->source_addr = xstrdup(src);
		s->source_ton = SMPP_TON_ALPHANUMERIC;
		s->source_npi = SMPP_NPI_UNKNOWN;
	}
	s->window = cfg->window > 0 ? (unsigned)cfg->window : 10;
	s->max_rate = cfg->max_rate > 0 ? cfg->max_rate : 0;
	s->enquire_ms = (uint64_t)(cfg->enquire_link_s > 0 ?
	    cfg->enquire_link_s : 30) * 1000;
	s->receipts = !cfg->no_receipts;
	s->resp_ms = cfg->resp_timeout_ms > 0 ? cfg->resp_timeout_ms : 30000;
	s->backoff_min = cfg->backoff_min_ms > 0 ? cfg->backoff_min_ms : 1000;
	s->backoff_max = cfg->backoff_max_ms > 0 ? cfg->backoff_max_ms :
	    60000;
	if (s->backoff_max < s->backoff_min)
		s->backoff_max = s->backoff_min;
	s->throttle_min = cfg->throttle_ms > 0 ? cfg->throttle_ms : 1000;
	s->throttle_cur = s->throttle_min;
	s->rcpt_cap = cfg->receipt_cap > 0 ? cfg->receipt_cap : 100000;
	s->tls = cfg->tls;
	s->ca_file = xstrdup(cfg->ca_file != NULL ? cfg->ca_file : "");
	if (s->tls && (s->tls_ctx = smpp_tls_ctx(s->ca_file)) == NULL) {
		free(s->ca_file);
		free(s->source_addr);
		free(s->system_type);
		free(s->password_file);
		free(s->password);
		free(s->system_id);
		free(s->host);
		free(s);
		return NULL;
	}
	s->backoff = s->backoff_min;
	s->fd = -1;
	s->next_seq = 1;
	s->rbuf = xmalloc(SMPP_PDU_MAX);
	s->infl = xcalloc(s->window, sizeof(*s->infl));
	s->tokens_cap = s->max_rate / 5 > 1 ? s->max_rate / 5 : 1;
	s->tokens = s->tokens_cap;
	s->tokens_at = ev_now(ev);
	s->ref = (uint8_t)(util_mono_ms() & 0xFF);
	s->state = SMPP_DISCONNECTED;
	smpp_connect(s);
	return s;
}

int
smpp_submit(struct smpp *s, uint64_t msg_key, const char *dest_e164,
    const char *utf8_text)
{
	struct smpp_text *t;
	struct smpp_msg *m;
	const char *d = dest_e164;
	size_t i;

	if (s->stopping) {
		errno = ESHUTDOWN;
		return -1;
	}
	if (msg_key == 0 || d == NULL || !smpp_is_numeric(d) ||
	    strlen(d[0] == '+' ? d + 1 : d) > 15 || utf8_text == NULL) {
		errno = EINVAL;
		return -1;
	}
	t = xmalloc(sizeof(*t));
	if (smpp_text_encode(utf8_text, s->ref++, t) != 0) {
		free(t);
		errno = EINVAL;
		return -1;
	}
	m = xcalloc(1, sizeof(*m));
	m->key = msg_key;
	m->nparts = (unsigned)t->nparts;
	m->data_coding = t->data_coding;
	m->esm_class = t->esm_class;
	strlcpy_s(m->dest, d[0] == '+' ? d + 1 : d, sizeof(m->dest));
	m->part = xcalloc(t->nparts, sizeof(*m->part));
	for (i = 0; i < t->nparts; i++) {
		memcpy(m->part[i].data, t->part[i].data, t->part[i].len);
		m->part[i].len = (uint8_t)t->part[i].len;
	}
	free(t);
	for (i = 0; i < m->nparts; i++)
		q_push(s, m, (unsigned)i, false);
	if (s->pump_id == 0 && s->state == SMPP_BOUND)
		s->pump_id = ev_timer_add(s->ev, 0, smpp_pump_cb, s);
	return 0;
}

void
smpp_stop(struct smpp *s)
{
	struct smpp_qent *q, **pp;

	if (s->stopping)
		return;
	s->stopping = true;
	s->drain_deadline = smpp_now(s) + s->resp_ms;
	/* messages with nothing written go back to the daemon */
	pp = &s->qhead;
	s->qtail = NULL;
	while ((q = *pp) != NULL) {
		if (q->m->taken == 0 && q->m->accepted == 0) {
			*pp = q->next;
			s->nqueued--;
			if (!q->m->done) {
				q->m->done = true;
				if (s->evs.on_unsent != NULL)
					s->evs.on_unsent(q->m->key, s->arg);
			}
			msg_unref(q->m);
			free(q);
		} else {
			s->qtail = q;
			pp = &q->next;
		}
	}
	ev_timer_del(s->ev, s->reconn_id);
	s->reconn_id = 0;
	if (s->state == SMPP_BOUND) {
		smpp_set_state(s, SMPP_UNBINDING);
		smpp_pump(s);
	} else
		smpp_link_down(s, NULL);
}

void
smpp_free(struct smpp *s)
{
	struct smpp_qent *q;
	unsigned i;

	if (s == NULL)
		return;
	s->evs = (struct smpp_events){ 0 };
	smpp_close(s);
	ev_timer_del(s->ev, s->reconn_id);
	ev_timer_del(s->ev, s->pump_id);
	while ((q = q_pop(s)) != NULL) {
		msg_unref(q->m);
		free(q);
	}
	for (i = 0; i < s->window; i++)
		if (s->infl[i].used)
			msg_unref(s->infl[i].m);
	while (s->rold != NULL)
		rcpt_del(s, s->rold);
	free(s->infl);
	free(s->rbuf);
	free(s->wbuf);
	free(s->host);
	free(s->system_id);
	if (s->password != NULL)
		explicit_bzero(s->password, strlen(s->password));
	free(s->password);
	free(s->password_file);
	free(s->system_type);
	free(s->source_addr);
	free(s->ca_file);
	SSL_CTX_free(s->tls_ctx);
	free(s);
}

void
smpp_get_status(const struct smpp *s, struct smpp_status *st)
{
	*st = s->st;
	st->state = s->state;
	st->outstanding = s->ninfl;
	st->queued = s->nqueued;
}
