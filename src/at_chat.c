/* at_chat: AT command queue and URC registry over a non-blocking fd. */
#include "smsgw/at_chat.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "smsgw/at_syntax.h"
#include "smsgw/log.h"
#include "smsgw/util.h"

#define AT_CHAT_QUIET_MS 500
#define AT_CHAT_SYNC_TIMEOUT_MS 2000
#define AT_CHAT_READS_PER_EVENT 8

enum at_chat_state {
	AT_CHAT_IDLE, /* nothing on the line */
	AT_CHAT_CMD, /* chat->cur is in flight */
	AT_CHAT_QUIET, /* resync: waiting for the line to be quiet */
	AT_CHAT_SYNC, /* resync: "AT" sent, waiting for OK */
	AT_CHAT_DEAD, /* fd gone or chat freed */
};

enum at_chat_pdu_for {
	AT_PDU_NONE,
	AT_PDU_RESP, /* next line is the PDU of a +CMGL/+CMGR line */
	AT_PDU_URC, /* next line is the PDU of a URC (urc_line) */
};

struct at_cmd {
	struct at_cmd *next;
	uint32_t id;
	unsigned timeout_ms;
	bool cancelled;
	bool pdu_sent;
	at_chat_cb cb;
	void *arg;
	void (*arg_free)(void *);
	char *text; /* "cmd\r" */
	size_t textlen;
	char *pdu; /* "hex\x1a", or NULL */
	size_t pdulen;
	size_t nprefixes; /* (size_t)-1: accept every line */
	char *prefix[]; /* then the strings themselves */
};

struct at_notify {
	struct at_notify *next;
	uint32_t id;
	bool expect_pdu;
	bool removed;
	at_notify_cb cb;
	void *arg;
	void (*arg_free)(void *);
	size_t plen;
	char prefix[];
};

struct at_chat {
	struct ev *ev;
	int fd;
	uint32_t io;
	uint32_t timer;
	struct at_syntax *syn;
	enum at_chat_state state;
	struct at_cmd *cur;
	struct at_cmd *head, *tail;
	unsigned nqueued;
	struct at_notify *notify, *notify_tail;
	bool notify_dirty;
	unsigned busy;
	bool destroyed;
	uint32_t next_id;
	unsigned timeouts;
	unsigned quiet_ms;
	uint64_t last_rx;
	bool sync_esc;
	at_chat_disconnect_cb dcb;
	void *darg;

	/* Write buffer: only the current command (or resync) is ever in it. */
	char *wbuf;
	size_t wcap, woff, wlen;
	short events;
	bool werr;

	/* Response lines of the current command, as offsets into arena. */
	char *arena;
	size_t acap, alen;
	size_t *loff;
	size_t lcap, nlines;
	const char **lptr;
	size_t pcap;

	enum at_chat_pdu_for pdu_for;
	char *urc_line;
	size_t urc_cap;

	char rbuf[4096];
};

static void at_chat_io_cb(int, short, void *);
static void at_chat_timer_cb(void *);

static const struct {
	const char *text;
	bool prefix;
	enum at_status status;
} at_chat_finals[] = {
    {"OK", false, AT_STATUS_OK},
    {"CONNECT", false, AT_STATUS_OK},
    {"CONNECT ", true, AT_STATUS_OK},
    {"ERROR", false, AT_STATUS_ERROR},
    {"NO CARRIER", false, AT_STATUS_ERROR},
    {"NO ANSWER", false, AT_STATUS_ERROR},
    {"NO DIALTONE", false, AT_STATUS_ERROR},
    {"BUSY", false, AT_STATUS_ERROR},
    {"COMMAND NOT SUPPORT", false, AT_STATUS_ERROR},
    {"+CME ERROR:", true, AT_STATUS_CME_ERROR},
    {"+CMS ERROR:", true, AT_STATUS_CMS_ERROR},
    {"+EXT ERROR:", true, AT_STATUS_ERROR},
};

/* Is line a final result?  Fills status and the error number. */
static bool
at_chat_is_final(const char *line, enum at_status *status, int *err)
{
	size_t i, n;

	for (i = 0; i < sizeof(at_chat_finals) / sizeof(at_chat_finals[0]);
	     i++) {
		const char *t = at_chat_finals[i].text;

		if (at_chat_finals[i].prefix) {
			n = strlen(t);
			if (strncmp(line, t, n) != 0)
				continue;
		} else if (strcmp(line, t) != 0)
			continue;
		*status = at_chat_finals[i].status;
		*err = -1;
		if (at_chat_finals[i].prefix && t[n - 1] == ':') {
			const char *p = line + n;
			long v = 0;
			bool digits = false;

			while (*p == ' ')
				p++;
			while (*p >= '0' && *p <= '9' && v < 100000) {
				v = v * 10 + (*p++ - '0');
				digits = true;
			}
			if (digits && (*p == '\0' || *p == ' '))
				*err = (int)v;
		}
		return true;
	}
	return false;
}

static bool
at_chat_hexish(const char *s, size_t n)
{
	size_t i;

	if (n > 0 && s[n - 1] == 0x1a)
		n--;
	if (n < 16)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') ||
		        (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

/*
 * AT trace, debug only.  PDUs (and anything that looks like one) are
 * shown only when "sms" debug is on too; PINs are never shown.
 */
static void
at_chat_trace(
    struct at_chat *chat, const char *dir, const char *s, size_t n, bool pdu)
{
	char red[64];

	if (!log_debug_enabled("at"))
		return;
	if (pdu || at_chat_hexish(s, n)) {
		char tmp[AT_SYNTAX_LINE_MAX + 1];

		if (n > AT_SYNTAX_LINE_MAX)
			n = AT_SYNTAX_LINE_MAX;
		memcpy(tmp, s, n);
		tmp[n] = '\0';
		if (n > 0 && tmp[n - 1] == 0x1a)
			tmp[n - 1] = '\0';
		log_debug("at", "fd%d %s %s", chat->fd, dir,
		    log_pii("sms", "pdu", tmp, red, sizeof(red)));
		return;
	}
	if (n >= 8 &&
	    (strncasecmp(s, "AT+CPIN=", 8) == 0 ||
	        strncasecmp(s, "AT+CPWD=", 8) == 0)) {
		log_debug("at", "fd%d %s %.8s[redacted]", chat->fd, dir, s);
		return;
	}
	log_debug("at", "fd%d %s %.*s", chat->fd, dir, (int)n, s);
}

static uint32_t
at_chat_new_id(struct at_chat *chat)
{
	if (++chat->next_id == 0)
		chat->next_id = 1;
	return chat->next_id;
}

/* Write buffer. */

static void
at_chat_update_events(struct at_chat *chat)
{
	short ev = POLLIN;

	if (chat->wlen > chat->woff || chat->werr)
		ev |= POLLOUT;
	if (ev != chat->events && chat->io != 0) {
		chat->events = ev;
		ev_io_set(chat->ev, chat->io, ev);
	}
}

static void
at_chat_flush(struct at_chat *chat)
{
	while (chat->woff < chat->wlen && !chat->werr) {
		ssize_t n = write(
		    chat->fd, chat->wbuf + chat->woff, chat->wlen - chat->woff);

		if (n > 0) {
			chat->woff += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		/* Reported from the io callback, never from a send call. */
		log_warn("at", "fd%d write", chat->fd);
		chat->werr = true;
	}
	if (chat->woff == chat->wlen)
		chat->woff = chat->wlen = 0;
	at_chat_update_events(chat);
}

static void
at_chat_write(struct at_chat *chat, const char *p, size_t n)
{
	if (chat->wlen + n > chat->wcap) {
		size_t cap = chat->wcap ? chat->wcap : 256;

		while (cap < chat->wlen + n)
			cap *= 2;
		chat->wbuf = xrealloc(chat->wbuf, cap);
		chat->wcap = cap;
	}
	memcpy(chat->wbuf + chat->wlen, p, n);
	chat->wlen += n;
	at_chat_flush(chat);
}

static bool
at_chat_written(const struct at_chat *chat)
{
	return chat->wlen == chat->woff;
}

/* Response lines. */

static void
at_chat_add_line(struct at_chat *chat, const char *s, size_t n)
{
	if (chat->alen + n + 1 > chat->acap) {
		size_t cap = chat->acap ? chat->acap : 1024;

		while (cap < chat->alen + n + 1)
			cap *= 2;
		chat->arena = xrealloc(chat->arena, cap);
		chat->acap = cap;
	}
	if (chat->nlines == chat->lcap) {
		chat->lcap = chat->lcap ? chat->lcap * 2 : 16;
		chat->loff =
		    xrealloc(chat->loff, chat->lcap * sizeof(*chat->loff));
	}
	memcpy(chat->arena + chat->alen, s, n);
	chat->arena[chat->alen + n] = '\0';
	chat->loff[chat->nlines++] = chat->alen;
	chat->alen += n + 1;
}

/* Command lifecycle. */

static void
at_chat_cmd_free(struct at_cmd *cmd, bool call_arg_free)
{
	if (call_arg_free && !cmd->cancelled && cmd->arg_free != NULL)
		cmd->arg_free(cmd->arg);
	free(cmd);
}

static void
at_chat_timer_set(struct at_chat *chat, uint64_t ms)
{
	ev_timer_del(chat->ev, chat->timer);
	chat->timer = ev_timer_add(chat->ev, ms, at_chat_timer_cb, chat);
}

static void
at_chat_timer_stop(struct at_chat *chat)
{
	ev_timer_del(chat->ev, chat->timer);
	chat->timer = 0;
}

/*
 * Deliver the result of a detached command and free it.  Uses (then
 * clears) the collected response lines.
 */
static void
at_chat_finish(struct at_chat *chat, struct at_cmd *cmd, enum at_status status,
    int err, const char *final)
{
	struct at_response resp;
	size_t i;

	if (!chat->destroyed && !cmd->cancelled && cmd->cb != NULL) {
		if (chat->pcap < chat->nlines) {
			chat->pcap = chat->nlines;
			chat->lptr = xrealloc(
			    chat->lptr, chat->pcap * sizeof(*chat->lptr));
		}
		for (i = 0; i < chat->nlines; i++)
			chat->lptr[i] = chat->arena + chat->loff[i];
		resp.status = status;
		resp.error = err;
		resp.final = final;
		resp.lines = chat->lptr;
		resp.nlines = chat->nlines;
		/*
		 * Forget the lines before the callback, so that a nested
		 * completion (at_chat_abort() in the callback) cannot see
		 * them; the arena itself is not touched until the next read.
		 */
		chat->alen = 0;
		chat->nlines = 0;
		cmd->cb(status == AT_STATUS_OK, &resp, cmd->arg);
	}
	chat->alen = 0;
	chat->nlines = 0;
	at_chat_cmd_free(cmd, true);
}

/* Tell the tokenizer what may come next. */
static void
at_chat_set_hints(struct at_chat *chat)
{
	at_syntax_hint(chat->syn, AT_HINT_NONE);
	if (chat->pdu_for != AT_PDU_NONE)
		at_syntax_hint(chat->syn, AT_HINT_EXPECT_PDU);
	if (chat->state == AT_CHAT_CMD && chat->cur != NULL &&
	    chat->cur->pdu != NULL && !chat->cur->pdu_sent)
		at_syntax_hint(chat->syn, AT_HINT_EXPECT_PROMPT);
}

/* Take the in-flight command off the line. */
static struct at_cmd *
at_chat_detach_cur(struct at_chat *chat)
{
	struct at_cmd *cmd = chat->cur;

	chat->cur = NULL;
	if (chat->pdu_for == AT_PDU_RESP)
		chat->pdu_for = AT_PDU_NONE;
	at_chat_set_hints(chat);
	return cmd;
}

/*
 * Fail a detached list of commands (cur first: it gets the lines collected
 * so far).
 */
static void
at_chat_fail_list(
    struct at_chat *chat, struct at_cmd *list, enum at_status status)
{
	struct at_cmd *c, *next;

	for (c = list; c != NULL; c = next) {
		next = c->next;
		at_chat_finish(chat, c, status, -1, "");
	}
}

static struct at_cmd *
at_chat_detach_all(struct at_chat *chat)
{
	struct at_cmd *list = chat->head, *cur;

	chat->head = chat->tail = NULL;
	chat->nqueued = 0;
	cur = at_chat_detach_cur(chat);
	if (cur != NULL) {
		cur->next = list;
		list = cur;
	}
	return list;
}

static void
at_chat_start_resync(struct at_chat *chat, bool esc)
{
	chat->state = AT_CHAT_QUIET;
	chat->sync_esc = esc;
	chat->last_rx = ev_now(chat->ev);
	at_chat_timer_set(chat, chat->quiet_ms);
	log_debug("at", "fd%d resync: waiting %u ms of quiet", chat->fd,
	    chat->quiet_ms);
}

/* Start the next queued command if the line is free. */
static void
at_chat_kick(struct at_chat *chat)
{
	struct at_cmd *cmd;

	if (chat->state != AT_CHAT_IDLE || chat->head == NULL)
		return;
	cmd = chat->head;
	chat->head = cmd->next;
	if (chat->head == NULL)
		chat->tail = NULL;
	chat->nqueued--;
	cmd->next = NULL;
	chat->cur = cmd;
	chat->state = AT_CHAT_CMD;
	chat->alen = chat->nlines = 0;
	at_chat_set_hints(chat);
	at_chat_trace(chat, ">", cmd->text, cmd->textlen - 1, false);
	at_chat_timer_set(chat, cmd->timeout_ms);
	at_chat_write(chat, cmd->text, cmd->textlen);
}

static void
at_chat_destroy(struct at_chat *chat)
{
	struct at_cmd *c, *cn;
	struct at_notify *n, *nn;

	ev_io_del(chat->ev, chat->io);
	ev_timer_del(chat->ev, chat->timer);
	c = at_chat_detach_all(chat);
	for (; c != NULL; c = cn) {
		cn = c->next;
		at_chat_cmd_free(c, true);
	}
	for (n = chat->notify; n != NULL; n = nn) {
		nn = n->next;
		if (n->arg_free != NULL)
			n->arg_free(n->arg);
		free(n);
	}
	at_syntax_free(chat->syn);
	free(chat->wbuf);
	free(chat->arena);
	free(chat->loff);
	free(chat->lptr);
	free(chat->urc_line);
	free(chat);
}

static void
at_chat_purge_notify(struct at_chat *chat)
{
	struct at_notify **pp = &chat->notify, *n;

	chat->notify_tail = NULL;
	while ((n = *pp) != NULL) {
		if (n->removed) {
			*pp = n->next;
			if (n->arg_free != NULL)
				n->arg_free(n->arg);
			free(n);
			continue;
		}
		chat->notify_tail = n;
		pp = &n->next;
	}
	chat->notify_dirty = false;
}

static void
at_chat_enter(struct at_chat *chat)
{
	chat->busy++;
}

/* Leave a callback context; the chat may be gone afterwards. */
static void
at_chat_leave(struct at_chat *chat)
{
	if (chat->busy == 1 && !chat->destroyed) {
		while (chat->state == AT_CHAT_IDLE && chat->head != NULL &&
		    !chat->destroyed)
			at_chat_kick(chat);
		if (chat->notify_dirty)
			at_chat_purge_notify(chat);
	}
	if (--chat->busy == 0 && chat->destroyed)
		at_chat_destroy(chat);
}

static void
at_chat_io_error(struct at_chat *chat, const char *why)
{
	struct at_cmd *list;

	if (chat->state == AT_CHAT_DEAD)
		return;
	log_warnx("at", "fd%d: %s, port lost", chat->fd, why);
	chat->state = AT_CHAT_DEAD;
	ev_io_del(chat->ev, chat->io);
	chat->io = 0;
	at_chat_timer_stop(chat);
	list = at_chat_detach_all(chat);
	chat->pdu_for = AT_PDU_NONE;
	at_chat_fail_list(chat, list, AT_STATUS_IO_ERROR);
	if (!chat->destroyed && chat->dcb != NULL)
		chat->dcb(chat->darg);
}

/* URCs. */

static void
at_chat_urc_deliver(struct at_chat *chat, const char *line, const char *pdu)
{
	struct at_notify *n;

	for (n = chat->notify; n != NULL && !chat->destroyed; n = n->next) {
		if (n->removed || strncmp(line, n->prefix, n->plen) != 0)
			continue;
		n->cb(line, n->expect_pdu ? pdu : NULL, n->arg);
	}
}

static void
at_chat_urc(struct at_chat *chat, const char *line, size_t len)
{
	struct at_notify *n;
	bool matched = false, want_pdu = false;

	for (n = chat->notify; n != NULL; n = n->next) {
		if (n->removed || strncmp(line, n->prefix, n->plen) != 0)
			continue;
		matched = true;
		want_pdu |= n->expect_pdu;
	}
	if (!matched) {
		if (!log_debug_enabled("at"))
			return;
		if (!at_chat_hexish(line, len))
			log_debug("at", "fd%d unclaimed line dropped: %s",
			    chat->fd, line);
		else
			log_debug(
			    "at", "fd%d unclaimed hex line dropped", chat->fd);
		return;
	}
	if (!want_pdu) {
		at_chat_urc_deliver(chat, line, NULL);
		return;
	}
	if (chat->urc_cap < len + 1) {
		chat->urc_cap = len + 1;
		chat->urc_line = xrealloc(chat->urc_line, chat->urc_cap);
	}
	memcpy(chat->urc_line, line, len + 1);
	chat->pdu_for = AT_PDU_URC;
	at_syntax_hint(chat->syn, AT_HINT_EXPECT_PDU);
}

/* The PDU announced by the last header did not come. */
static void
at_chat_pdu_missing(struct at_chat *chat)
{
	enum at_chat_pdu_for what = chat->pdu_for;

	chat->pdu_for = AT_PDU_NONE;
	if (what == AT_PDU_RESP) {
		if (chat->cur != NULL)
			at_chat_add_line(chat, "", 0);
	} else if (what == AT_PDU_URC) {
		log_debug("at", "fd%d URC without its PDU", chat->fd);
		at_chat_urc_deliver(chat, chat->urc_line, NULL);
	}
}

/* Token handlers. */

/* Does a registered URC handler claim this line? */
static bool
at_chat_urc_claims(const struct at_chat *chat, const char *line)
{
	const struct at_notify *n;

	for (n = chat->notify; n != NULL; n = n->next)
		if (!n->removed && strncmp(line, n->prefix, n->plen) == 0)
			return true;
	return false;
}

/*
 * Is line part of the answer to cmd?  A command that accepts every line
 * (prefixes NULL) still never takes a line a URC handler is registered
 * for: a "+CMTI:" arriving during "AT+CMGD" must reach its handler, or
 * the new SMS would wait in the modem until the next full listing.
 */
static bool
at_chat_prefix_match(const struct at_chat *chat, const struct at_cmd *cmd,
    const char *line)
{
	size_t i;

	if (cmd->nprefixes == (size_t)-1)
		return !at_chat_urc_claims(chat, line);
	for (i = 0; i < cmd->nprefixes; i++)
		if (strncmp(line, cmd->prefix[i], strlen(cmd->prefix[i])) == 0)
			return true;
	return false;
}

static void
at_chat_complete(
    struct at_chat *chat, enum at_status status, int err, const char *final)
{
	struct at_cmd *cmd;

	at_chat_timer_stop(chat);
	cmd = at_chat_detach_cur(chat);
	chat->state = AT_CHAT_IDLE;
	chat->timeouts = 0;
	at_chat_finish(chat, cmd, status, err, final);
}

static void
at_chat_on_line(struct at_chat *chat, const char *line, size_t len)
{
	enum at_status status;
	int err;

	at_chat_trace(chat, "<", line, len, false);
	if (chat->pdu_for != AT_PDU_NONE) {
		at_chat_pdu_missing(chat);
		if (chat->destroyed)
			return;
	}
	if ((line[0] == 'A' || line[0] == 'a') &&
	    (line[1] == 'T' || line[1] == 't'))
		return; /* echo */
	switch (chat->state) {
	case AT_CHAT_SYNC:
		if (strcmp(line, "OK") == 0) {
			log_debug("at", "fd%d resync done", chat->fd);
			at_chat_timer_stop(chat);
			chat->state = AT_CHAT_IDLE;
			return;
		}
		break;
	case AT_CHAT_CMD:
		if (!at_chat_written(chat))
			break;
		if (at_chat_is_final(line, &status, &err)) {
			at_chat_complete(chat, status, err, line);
			return;
		}
		if (at_chat_prefix_match(chat, chat->cur, line)) {
			at_chat_add_line(chat, line, len);
			if (strncmp(line, "+CMGL:", 6) == 0 ||
			    strncmp(line, "+CMGR:", 6) == 0) {
				chat->pdu_for = AT_PDU_RESP;
				at_syntax_hint(chat->syn, AT_HINT_EXPECT_PDU);
			}
			return;
		}
		break;
	default:
		break;
	}
	at_chat_urc(chat, line, len);
}

static void
at_chat_on_pdu(struct at_chat *chat, const char *pdu, size_t len)
{
	enum at_chat_pdu_for what = chat->pdu_for;

	at_chat_trace(chat, "<", pdu, len, true);
	chat->pdu_for = AT_PDU_NONE;
	if (what == AT_PDU_RESP && chat->cur != NULL)
		at_chat_add_line(chat, pdu, len);
	else if (what == AT_PDU_URC)
		at_chat_urc_deliver(chat, chat->urc_line, pdu);
}

static void
at_chat_on_prompt(struct at_chat *chat)
{
	struct at_cmd *cmd;

	log_debug("at", "fd%d < \"> \"", chat->fd);
	if (chat->pdu_for != AT_PDU_NONE) {
		at_syntax_hint(chat->syn, AT_HINT_NONE);
		at_chat_pdu_missing(chat);
		if (chat->destroyed)
			return;
	}
	cmd = chat->cur;
	if (chat->state != AT_CHAT_CMD || cmd->pdu == NULL || cmd->pdu_sent ||
	    !at_chat_written(chat)) {
		log_debug("at", "fd%d unexpected prompt ignored", chat->fd);
		return;
	}
	cmd->pdu_sent = true;
	if (cmd->cancelled) {
		log_debug("at", "fd%d > <ESC> (cancelled)", chat->fd);
		at_chat_write(chat, "\x1b", 1);
		return;
	}
	at_chat_trace(chat, ">", cmd->pdu, cmd->pdulen, true);
	at_chat_write(chat, cmd->pdu, cmd->pdulen);
}

static void
at_chat_process(struct at_chat *chat, const char *buf, size_t n)
{
	size_t off = 0, l, tlen;
	const char *tok;

	while (off < n && !chat->destroyed && chat->state != AT_CHAT_DEAD) {
		l = n - off;
		switch (at_syntax_feed(chat->syn, buf + off, &l)) {
		case AT_SYNTAX_UNSURE:
			return;
		case AT_SYNTAX_LINE:
			tok = at_syntax_token(chat->syn, &tlen);
			at_chat_on_line(chat, tok, tlen);
			break;
		case AT_SYNTAX_PDU:
			tok = at_syntax_token(chat->syn, &tlen);
			at_chat_on_pdu(chat, tok, tlen);
			break;
		case AT_SYNTAX_PROMPT:
			at_chat_on_prompt(chat);
			break;
		case AT_SYNTAX_DROPPED:
			log_warnx("at", "fd%d overlong line dropped", chat->fd);
			if (chat->pdu_for != AT_PDU_NONE)
				at_chat_pdu_missing(chat);
			break;
		}
		off += l;
	}
}

static void
at_chat_io_cb(int fd, short revents, void *arg)
{
	struct at_chat *chat = arg;
	int i;

	(void)fd;
	at_chat_enter(chat);
	if (revents & POLLOUT) {
		at_chat_flush(chat);
		if (chat->werr)
			at_chat_io_error(chat, "write failed");
	}
	for (i = 0; i < AT_CHAT_READS_PER_EVENT &&
	     (revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) &&
	     !chat->destroyed && chat->state != AT_CHAT_DEAD;
	     i++) {
		ssize_t n = read(chat->fd, chat->rbuf, sizeof(chat->rbuf));

		if (n > 0) {
			chat->last_rx = ev_now(chat->ev);
			at_chat_process(chat, chat->rbuf, (size_t)n);
			if ((size_t)n < sizeof(chat->rbuf))
				break;
			continue;
		}
		if (n == 0) {
			at_chat_io_error(chat, "end of file");
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (i == 0 &&
			    (revents & (POLLHUP | POLLERR | POLLNVAL)))
				at_chat_io_error(chat, "hangup");
			break;
		}
		log_warn("at", "fd%d read", chat->fd);
		at_chat_io_error(chat, "read failed");
		break;
	}
	at_chat_leave(chat);
}

static void
at_chat_timer_cb(void *arg)
{
	struct at_chat *chat = arg;
	struct at_cmd *cmd, *list;
	uint64_t now, quiet;

	chat->timer = 0;
	at_chat_enter(chat);
	switch (chat->state) {
	case AT_CHAT_CMD:
		cmd = at_chat_detach_cur(chat);
		chat->timeouts++;
		log_info("at", "fd%d command timed out (%u in a row)", chat->fd,
		    chat->timeouts);
		at_chat_start_resync(chat, cmd->pdu != NULL);
		at_chat_finish(chat, cmd, AT_STATUS_TIMEOUT, -1, "");
		break;
	case AT_CHAT_QUIET:
		now = ev_now(chat->ev);
		quiet = now - chat->last_rx;
		if (now >= chat->last_rx && quiet < chat->quiet_ms) {
			at_chat_timer_set(chat, chat->quiet_ms - quiet);
			break;
		}
		at_syntax_reset(chat->syn);
		chat->pdu_for = AT_PDU_NONE;
		chat->state = AT_CHAT_SYNC;
		at_chat_timer_set(chat, AT_CHAT_SYNC_TIMEOUT_MS);
		log_debug("at", "fd%d > %sAT (resync)", chat->fd,
		    chat->sync_esc ? "<ESC>" : "");
		if (chat->sync_esc)
			at_chat_write(chat,
			    "\x1b"
			    "AT\r",
			    4);
		else
			at_chat_write(chat, "AT\r", 3);
		break;
	case AT_CHAT_SYNC:
		chat->timeouts++;
		log_info("at", "fd%d resync got no answer (%u in a row)",
		    chat->fd, chat->timeouts);
		list = chat->head;
		chat->head = chat->tail = NULL;
		chat->nqueued = 0;
		at_chat_start_resync(chat, chat->sync_esc);
		at_chat_fail_list(chat, list, AT_STATUS_TIMEOUT);
		break;
	default:
		break;
	}
	at_chat_leave(chat);
}

/* Public API. */

struct at_chat *
at_chat_new(struct ev *ev, int fd)
{
	struct at_chat *chat = xcalloc(1, sizeof(*chat));

	chat->ev = ev;
	chat->fd = fd;
	chat->syn = at_syntax_new();
	chat->quiet_ms = AT_CHAT_QUIET_MS;
	chat->events = POLLIN;
	chat->state = AT_CHAT_IDLE;
	chat->io = ev_io_add(ev, fd, POLLIN, at_chat_io_cb, chat);
	if (chat->io == 0) {
		at_syntax_free(chat->syn);
		free(chat);
		return NULL;
	}
	return chat;
}

void
at_chat_free(struct at_chat *chat)
{
	if (chat == NULL || chat->destroyed)
		return;
	chat->destroyed = true;
	ev_io_del(chat->ev, chat->io);
	chat->io = 0;
	at_chat_timer_stop(chat);
	if (chat->busy == 0)
		at_chat_destroy(chat);
}

static bool
at_chat_valid_cmd(const char *cmd)
{
	return cmd != NULL && cmd[0] != '\0' &&
	    strpbrk(cmd, "\r\n\x1a\x1b") == NULL;
}

static uint32_t
at_chat_queue(struct at_chat *chat, const char *cmd, const char *pdu_hex,
    const char *const *prefixes, unsigned timeout_ms, at_chat_cb cb, void *arg,
    void (*arg_free)(void *))
{
	struct at_cmd *c;
	size_t np = 0, i, size, clen, plen = 0, off;
	char *p;

	if (chat == NULL || chat->destroyed || chat->state == AT_CHAT_DEAD ||
	    !at_chat_valid_cmd(cmd))
		return 0;
	clen = strlen(cmd);
	size = sizeof(*c) + clen + 2;
	if (prefixes != NULL) {
		for (np = 0; prefixes[np] != NULL; np++)
			size += strlen(prefixes[np]) + 1;
		size += np * sizeof(char *);
	}
	if (pdu_hex != NULL) {
		plen = strlen(pdu_hex);
		size += plen + 2;
	}
	c = xcalloc(1, size);
	p = (char *)(c->prefix + np);
	c->text = p;
	memcpy(p, cmd, clen);
	p[clen] = '\r';
	p[clen + 1] = '\0';
	c->textlen = clen + 1;
	off = clen + 2;
	if (prefixes != NULL) {
		c->nprefixes = np;
		for (i = 0; i < np; i++) {
			size_t l = strlen(prefixes[i]);

			c->prefix[i] = p + off;
			memcpy(p + off, prefixes[i], l + 1);
			off += l + 1;
		}
	} else
		c->nprefixes = (size_t)-1;
	if (pdu_hex != NULL) {
		c->pdu = p + off;
		memcpy(c->pdu, pdu_hex, plen);
		c->pdu[plen] = 0x1a;
		c->pdu[plen + 1] = '\0';
		c->pdulen = plen + 1;
	}
	c->id = at_chat_new_id(chat);
	c->timeout_ms = timeout_ms ? timeout_ms : AT_CHAT_DEFAULT_TIMEOUT_MS;
	c->cb = cb;
	c->arg = arg;
	c->arg_free = arg_free;
	if (chat->tail != NULL)
		chat->tail->next = c;
	else
		chat->head = c;
	chat->tail = c;
	chat->nqueued++;
	if (chat->busy == 0 && chat->state == AT_CHAT_IDLE)
		at_chat_kick(chat);
	return c->id;
}

uint32_t
at_chat_send(struct at_chat *chat, const char *cmd, const char *const *prefixes,
    unsigned timeout_ms, at_chat_cb cb, void *arg, void (*arg_free)(void *))
{
	return at_chat_queue(
	    chat, cmd, NULL, prefixes, timeout_ms, cb, arg, arg_free);
}

uint32_t
at_chat_send_pdu(struct at_chat *chat, const char *cmd, const char *pdu_hex,
    const char *const *prefixes, unsigned timeout_ms, at_chat_cb cb, void *arg,
    void (*arg_free)(void *))
{
	const char *p;

	if (pdu_hex == NULL || pdu_hex[0] == '\0')
		return 0;
	for (p = pdu_hex; *p != '\0'; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'F') ||
		        (*p >= 'a' && *p <= 'f')))
			return 0;
	return at_chat_queue(
	    chat, cmd, pdu_hex, prefixes, timeout_ms, cb, arg, arg_free);
}

int
at_chat_cancel(struct at_chat *chat, uint32_t id)
{
	struct at_cmd **pp, *c;

	if (chat == NULL || chat->destroyed || id == 0)
		return -1;
	if (chat->cur != NULL && chat->cur->id == id) {
		c = chat->cur;
		if (c->cancelled)
			return -1;
		c->cancelled = true;
		if (c->arg_free != NULL)
			c->arg_free(c->arg);
		return 0;
	}
	for (pp = &chat->head; (c = *pp) != NULL; pp = &c->next) {
		if (c->id != id)
			continue;
		*pp = c->next;
		if (chat->tail == c) {
			struct at_cmd *t = chat->head;

			while (t != NULL && t->next != NULL)
				t = t->next;
			chat->tail = t;
		}
		chat->nqueued--;
		at_chat_cmd_free(c, true);
		return 0;
	}
	return -1;
}

void
at_chat_abort(struct at_chat *chat)
{
	struct at_cmd *list;
	bool inflight, esc;

	if (chat == NULL || chat->destroyed || chat->state == AT_CHAT_DEAD)
		return;
	at_chat_enter(chat);
	inflight = chat->cur != NULL;
	esc = inflight && chat->cur->pdu != NULL;
	list = at_chat_detach_all(chat);
	if (inflight)
		at_chat_start_resync(chat, esc);
	at_chat_fail_list(chat, list, AT_STATUS_CANCELLED);
	at_chat_leave(chat);
}

uint32_t
at_chat_register(struct at_chat *chat, const char *prefix, bool expect_pdu,
    at_notify_cb cb, void *arg, void (*arg_free)(void *))
{
	struct at_notify *n;
	size_t plen;

	if (chat == NULL || chat->destroyed || prefix == NULL ||
	    prefix[0] == '\0' || cb == NULL)
		return 0;
	plen = strlen(prefix);
	n = xcalloc(1, sizeof(*n) + plen + 1);
	memcpy(n->prefix, prefix, plen + 1);
	n->plen = plen;
	n->expect_pdu = expect_pdu;
	n->cb = cb;
	n->arg = arg;
	n->arg_free = arg_free;
	n->id = at_chat_new_id(chat);
	if (chat->notify_tail != NULL)
		chat->notify_tail->next = n;
	else
		chat->notify = n;
	chat->notify_tail = n;
	return n->id;
}

int
at_chat_unregister(struct at_chat *chat, uint32_t id)
{
	struct at_notify *n;

	if (chat == NULL || chat->destroyed || id == 0)
		return -1;
	for (n = chat->notify; n != NULL; n = n->next) {
		if (n->id != id || n->removed)
			continue;
		n->removed = true;
		chat->notify_dirty = true;
		if (chat->busy == 0)
			at_chat_purge_notify(chat);
		return 0;
	}
	return -1;
}

void
at_chat_set_disconnect_cb(
    struct at_chat *chat, at_chat_disconnect_cb cb, void *arg)
{
	chat->dcb = cb;
	chat->darg = arg;
}

void
at_chat_set_quiet_ms(struct at_chat *chat, unsigned ms)
{
	chat->quiet_ms = ms;
}

unsigned
at_chat_timeouts(const struct at_chat *chat)
{
	return chat->timeouts;
}

unsigned
at_chat_pending(const struct at_chat *chat)
{
	return chat->nqueued + (chat->cur != NULL ? 1 : 0);
}

bool
at_chat_resyncing(const struct at_chat *chat)
{
	return chat->state == AT_CHAT_QUIET || chat->state == AT_CHAT_SYNC;
}
