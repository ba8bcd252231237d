/*
 * sms: the send and receive pipelines over every modem (see sms.h for
 * the guarantees).  Each modem runs at most one send chain at a time;
 * reads, deletes and recovery are queued on the same AT channel, so the
 * modem's answers drive everything.
 */
#include "smsgw/sms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smsgw/at_chat.h"
#include "smsgw/at_result.h"
#include "smsgw/ev.h"
#include "smsgw/log.h"
#include "smsgw/modem.h"
#include "smsgw/sms_codec.h"
#include "smsgw/util.h"

#define SEND_TIMEOUT_MS 60000	/* +CMSS/+CMGS wait for the network */
#define WRITE_TIMEOUT_MS 10000
#define LIST_TIMEOUT_MS 30000
#define REASSEMBLY_S 600	/* deliver incomplete parts after this */
#define RETRY_MIN_S 2
#define TICK_S 10		/* housekeeping every 10 ticks of 1 s */
#define RETRY_MAX_S 300

struct sms_modem {
	struct sms *s;
	struct modem *m;
	bool busy;		/* a send chain is running */
	bool recovering;
	bool need_recovery;
	uint64_t gen;
	struct store_part cur;
	uint32_t retry_timer;
	int full_strikes;	/* storage full right after a recovery */
	/*
	 * The stored copy of the part just sent, deleted on the same line
	 * as the next write ("AT+CMGD=i;+CMGW=n": one exchange less per
	 * SMS); -1 none.  Its "sent" state is committed already, so a crash
	 * leaves only an unclaimed STO SENT copy that recovery deletes.
	 */
	int pending_delete;
	int64_t last_invite_ms;	/* pacing */
	int64_t last_sweep;	/* last storage listing, monotonic s */
	bool no_chain;		/* the modem refused a chained line */
	struct sms_counters cnt;
};

struct sms {
	struct ev *ev;
	struct store *st;
	unsigned attempts;
	struct sms_events evs;
	void *arg;
	struct sms_modem **mods;
	size_t nmods;
	uint32_t tick;
	uint8_t next_ref;
	unsigned pace_ms;
	unsigned sweep_s;	/* list each modem's storage this often */
	unsigned ticks;
};

struct sctx {
	struct sms_modem *sm;
	uint64_t gen;
	int index;
};

static void sms_pump(struct sms_modem *sm);
static void sms_recover(struct sms_modem *sm);
static void sms_deliver_ready(struct sms *s);
static void sms_settle_later(struct sms_modem *sm);

static int64_t
now_s(void)
{
	return util_wall_ms() / 1000;
}

/* Monotonic seconds, for intervals. */
static int64_t
mono_s(struct sms *s)
{
	return (int64_t)(ev_now(s->ev) / 1000);
}

static struct sctx *
sctx_new(struct sms_modem *sm, int index)
{
	struct sctx *c = xmalloc(sizeof(*c));

	c->sm = sm;
	c->gen = sm->gen;
	c->index = index;
	return c;
}

static struct sms_modem *
sctx_get(void *arg)
{
	struct sctx *c = arg;

	return c->sm->gen == c->gen ? c->sm : NULL;
}

static struct sms_modem *
sms_find(struct sms *s, struct modem *m)
{
	size_t i;

	for (i = 0; i < s->nmods; i++)
		if (s->mods[i]->m == m)
			return s->mods[i];
	return NULL;
}

static uint32_t
sm_cmd(struct sms_modem *sm, const char *cmd, const char *const *pfx,
    unsigned timeout, at_chat_cb cb, int index)
{
	struct at_chat *chat = modem_chat(sm->m);
	struct sctx *c;
	uint32_t id;

	if (chat == NULL)
		return 0;
	c = sctx_new(sm, index);
	id = at_chat_send(chat, cmd, pfx, timeout, cb, c, free);
	if (id == 0)
		free(c);
	return id;
}

static void
sm_delete(struct sms_modem *sm, int index)
{
	char cmd[32];

	snprintf(cmd, sizeof(cmd), "AT+CMGD=%d", index);
	sm_cmd(sm, cmd, NULL, 10000, NULL, index);
}

/* Write a part's new state; report a message that became final. */
static int
sms_part_commit(struct sms *s, struct store_part *p, const char *err)
{
	bool own = !store_in_transaction(s->st);
	char *before, *after;
	int r;

	if (own && store_begin(s->st) == -1)
		return -1;
	before = store_sms_out_state(s->st, p->msg_id);
	r = store_sms_part_update(s->st, p, err, now_s());
	after = store_sms_out_state(s->st, p->msg_id);
	if (own) {
		if (r != 0 || store_commit(s->st) != 0) {
			store_rollback(s->st);
			r = -1;
		}
	}
	if (r == 0 && after != NULL && (before == NULL ||
	    strcmp(before, after) != 0) && (strcmp(after, "sent") == 0 ||
	    strcmp(after, "failed") == 0 || strcmp(after, "uncertain") == 0 ||
	    strcmp(after, "delivered") == 0)) {
		if (strcmp(after, "sent") != 0)
			store_sms_out_forget(s->st, p->msg_id);
		if (s->evs.on_final != NULL)
			s->evs.on_final(p->msg_id, p->conversation_id,
			    p->purpose, p->modem, after, s->arg);
	}
	free(before);
	free(after);
	return r;
}

static unsigned
backoff_s(int attempts)
{
	unsigned d = RETRY_MIN_S;

	while (attempts-- > 1 && d < RETRY_MAX_S)
		d *= 2;
	return d > RETRY_MAX_S ? RETRY_MAX_S : d;
}

/* A send attempt failed with a final error: retry later or give up. */
static void
part_failed_attempt(struct sms_modem *sm, const char *why)
{
	struct store_part *p = &sm->cur;

	p->attempts++;
	sm->cnt.retries++;
	if ((unsigned)p->attempts >= sm->s->attempts) {
		log_warnx("sms", "%s: message %lld part %d failed after %d "
		    "attempts (%s)", modem_name(sm->m), (long long)p->msg_id,
		    p->seq, p->attempts, why);
		strlcpy_s(p->state, "failed", sizeof(p->state));
		sm->cnt.failed++;
	} else {
		log_info("sms", "%s: message %lld part %d: %s; retry %d in "
		    "%u s", modem_name(sm->m), (long long)p->msg_id, p->seq,
		    why, p->attempts, backoff_s(p->attempts));
		strlcpy_s(p->state, "queued", sizeof(p->state));
		p->next_attempt_at = now_s() + backoff_s(p->attempts);
	}
	p->storage_index = -1;
	sms_part_commit(sm->s, p, why);
}

static void
chain_end(struct sms_modem *sm)
{
	sm->busy = false;
	if (sm->need_recovery)
		sms_recover(sm);
	else
		sms_pump(sm);
}

/* The network took the part in flight: record it with its TP-MR (from
 * "+CMSS: <mr>" or "+CMGS: <mr>"), which status reports refer to. */
static void
part_sent(struct sms_modem *sm, const struct at_response *r,
    const char *prefix)
{
	struct at_result_iter it;
	int mr = -1;

	at_result_iter_init(&it, r);
	if (at_result_iter_next(&it, prefix))
		(void)at_result_iter_next_number(&it, &mr);
	strlcpy_s(sm->cur.state, "sent", sizeof(sm->cur.state));
	sm->cur.mr = mr;
	sm->cur.storage_index = -1;
	sms_part_commit(sm->s, &sm->cur, NULL);
	sm->cnt.sent++;
}

/* --- the storage path: +CMGW, +CMSS, +CMGD --------------------------- */

static void
cmss_done(bool ok, const struct at_response *r, void *arg)
{
	struct sms_modem *sm = sctx_get(arg);
	struct sctx *c = arg;

	if (sm == NULL)
		return;
	if (r->status == AT_STATUS_IO_ERROR ||
	    r->status == AT_STATUS_CANCELLED) {
		sm->busy = false;	/* recovery at the next READY */
		return;
	}
	if (r->status == AT_STATUS_TIMEOUT) {
		/* It may or may not have gone: the stored copy's stat tells. */
		modem_note_timeout(sm->m);
		sm->need_recovery = true;
		chain_end(sm);
		return;
	}
	if (!ok) {
		char why[64];

		sm_delete(sm, c->index);
		if (r->status == AT_STATUS_ERROR) {
			/* A plain ERROR (not +CMS ERROR): the modem does not
			 * do +CMSS.  Nothing was sent; use +CMGS. */
			modem_disable_storage_send(sm->m);
			strlcpy_s(sm->cur.state, "queued",
			    sizeof(sm->cur.state));
			sms_part_commit(sm->s, &sm->cur, "+CMSS refused");
			chain_end(sm);
			return;
		}
		snprintf(why, sizeof(why), "+CMSS: %s", r->final);
		part_failed_attempt(sm, why);
		chain_end(sm);
		return;
	}
	part_sent(sm, r, "+CMSS:");
	/* Delete the stored copy with the next write, or now if none comes
	 * (if we crash first, recovery deletes the unclaimed STO SENT copy). */
	if (sm->no_chain)
		sm_delete(sm, c->index);
	else
		sm->pending_delete = c->index;
	chain_end(sm);
}

/* Issue a delete still waiting for a write to ride on. */
static void
sms_flush_delete(struct sms_modem *sm)
{
	if (sm->pending_delete >= 0) {
		sm_delete(sm, sm->pending_delete);
		sm->pending_delete = -1;
	}
}

static void
cmgw_done(bool ok, const struct at_response *r, void *arg)
{
	static const char *const pfx[] = { "+CMSS:", NULL };
	struct sms_modem *sm = sctx_get(arg);
	struct sctx *c = arg;
	struct at_result_iter it;
	char cmd[32];
	int idx = -1;

	if (sm == NULL)
		return;
	if (r->status == AT_STATUS_IO_ERROR ||
	    r->status == AT_STATUS_CANCELLED) {
		sm->busy = false;
		return;
	}
	if (r->status == AT_STATUS_TIMEOUT) {
		modem_note_timeout(sm->m);
		sm->need_recovery = true;
		chain_end(sm);
		return;
	}
	if (c->index >= 0) {
		/* This write carried the delete of index c->index. */
		if (!ok) {
			/* Any refusal may be the chained line's fault: delete
			 * on its own (harmless if it ran) and write again
			 * without chaining; that answer is the real one. */
			log_info("sms", "%s: chained +CMGD;+CMGW refused; "
			    "sending them apart", modem_name(sm->m));
			sm->no_chain = true;
			sm_delete(sm, c->index);
			strlcpy_s(sm->cur.state, "queued",
			    sizeof(sm->cur.state));
			sms_part_commit(sm->s, &sm->cur, NULL);
			chain_end(sm);
			return;
		}
	}
	if (!ok) {
		/* 322 storage full: settle what is stored (+CMGL) and try
		 * again; only if it is still full fall back to +CMGS. */
		if (r->status == AT_STATUS_CMS_ERROR && r->error == 322 &&
		    ++sm->full_strikes < 2) {
			log_info("sms", "%s: message storage full; settling "
			    "stored messages", modem_name(sm->m));
			strlcpy_s(sm->cur.state, "queued",
			    sizeof(sm->cur.state));
			sms_part_commit(sm->s, &sm->cur, "storage full");
			sm->need_recovery = true;
			chain_end(sm);
			return;
		}
		/* A plain ERROR (an unknown command), 302 not allowed, 303
		 * not supported, 310 no SIM, 321/322 storage trouble: this
		 * modem cannot send through storage. */
		if (r->status == AT_STATUS_ERROR ||
		    (r->status == AT_STATUS_CMS_ERROR && (r->error == 302 ||
		    r->error == 303 || r->error == 321 || r->error == 322 ||
		    r->error == 310))) {
			modem_disable_storage_send(sm->m);
			strlcpy_s(sm->cur.state, "queued",
			    sizeof(sm->cur.state));
			sms_part_commit(sm->s, &sm->cur, "storage send refused");
		} else {
			char why[64];

			snprintf(why, sizeof(why), "+CMGW: %s", r->final);
			part_failed_attempt(sm, why);
		}
		chain_end(sm);
		return;
	}
	sm->full_strikes = 0;
	at_result_iter_init(&it, r);
	if (!at_result_iter_next(&it, "+CMGW:") ||
	    !at_result_iter_next_number(&it, &idx) || idx < 0) {
		/* Stored somewhere we cannot name (or, on a chained line,
		 * perhaps not at all): recovery finds it, and we stop
		 * chaining on this modem. */
		if (c->index >= 0)
			sm->no_chain = true;
		sm->need_recovery = true;
		chain_end(sm);
		return;
	}
	snprintf(cmd, sizeof(cmd), "AT+CMSS=%d", idx);
	if (sm_cmd(sm, cmd, pfx, SEND_TIMEOUT_MS, cmss_done, idx) == 0)
		sm->busy = false;
}

/* --- the +CMGS path --------------------------------------------------- */

static void
cmgs_done(bool ok, const struct at_response *r, void *arg)
{
	struct sms_modem *sm = sctx_get(arg);

	if (sm == NULL)
		return;
	if (r->status == AT_STATUS_IO_ERROR ||
	    r->status == AT_STATUS_CANCELLED ||
	    r->status == AT_STATUS_TIMEOUT) {
		/* Unanswered: it may have gone out.  Never resent. */
		log_warnx("sms", "%s: +CMGS of message %lld part %d got no "
		    "answer; marked uncertain, not resent", modem_name(sm->m),
		    (long long)sm->cur.msg_id, sm->cur.seq);
		strlcpy_s(sm->cur.state, "uncertain", sizeof(sm->cur.state));
		sms_part_commit(sm->s, &sm->cur, at_status_str(r->status));
		sm->cnt.uncertain++;
		if (r->status == AT_STATUS_TIMEOUT) {
			modem_note_timeout(sm->m);
			chain_end(sm);
		} else
			sm->busy = false;
		return;
	}
	if (!ok) {
		char why[64];

		snprintf(why, sizeof(why), "+CMGS: %s", r->final);
		part_failed_attempt(sm, why);
		chain_end(sm);
		return;
	}
	part_sent(sm, r, "+CMGS:");
	chain_end(sm);
}

static void
retry_timer(void *arg)
{
	struct sms_modem *sm = arg;

	sm->retry_timer = 0;
	sms_pump(sm);
}

/* Start the next part on this modem, if any. */
static void
sms_pump(struct sms_modem *sm)
{
	static const char *const pfx_w[] = { "+CMGW:", NULL };
	static const char *const pfx_s[] = { "+CMGS:", NULL };
	struct sms *s = sm->s;
	struct store_part *p = &sm->cur;
	bool storage;
	char cmd[48];
	int64_t now = now_s(), next;
	uint64_t wait_ms;
	int r, del;

	if (sm->busy || sm->recovering || !modem_ready(sm->m))
		return;
	if (sm->need_recovery) {
		sms_recover(sm);
		return;
	}
	wait_ms = 0;
	if (s->pace_ms > 0 && util_wall_ms() - sm->last_invite_ms <
	    (int64_t)s->pace_ms)
		wait_ms = (uint64_t)((int64_t)s->pace_ms - (util_wall_ms() -
		    sm->last_invite_ms));
	r = store_sms_part_next(s->st, modem_name(sm->m), now, wait_ms == 0,
	    p);
	if (r <= 0) {
		sms_flush_delete(sm);
		next = store_sms_next_retry(s->st, now);
		if (next > 0 && sm->retry_timer == 0)
			sm->retry_timer = ev_timer_add(s->ev,
			    (uint64_t)(next - now) * 1000, retry_timer, sm);
		else if (wait_ms > 0 && sm->retry_timer == 0)
			sm->retry_timer = ev_timer_add(s->ev, wait_ms,
			    retry_timer, sm);
		return;
	}
	if (p->seq == 1 && strcmp(p->purpose, "invitation") == 0)
		sm->last_invite_ms = util_wall_ms();
	storage = modem_storage_send(sm->m);
	if (!storage)
		sms_flush_delete(sm);
	if (store_begin(s->st) == -1)
		return;
	if (p->modem[0] == '\0') {
		store_sms_out_pin(s->st, p->msg_id, modem_name(sm->m));
		strlcpy_s(p->modem, modem_name(sm->m), sizeof(p->modem));
	}
	strlcpy_s(p->state, storage ? "writing" : "submitting",
	    sizeof(p->state));
	p->storage_index = -1;
	if (sms_part_commit(s, p, NULL) == -1 || store_commit(s->st) == -1) {
		store_rollback(s->st);
		return;
	}
	sm->busy = true;
	del = -1;
	if (storage && sm->pending_delete >= 0) {
		del = sm->pending_delete;
		sm->pending_delete = -1;
		snprintf(cmd, sizeof(cmd), "AT+CMGD=%d;+CMGW=%d", del,
		    p->tpdu_len);
	} else
		snprintf(cmd, sizeof(cmd), "%s=%d", storage ? "AT+CMGW" :
		    "AT+CMGS", p->tpdu_len);
	{
		struct at_chat *chat = modem_chat(sm->m);
		struct sctx *c = sctx_new(sm, del);

		if (chat == NULL || at_chat_send_pdu(chat, cmd, p->pdu,
		    storage ? pfx_w : pfx_s, storage ? WRITE_TIMEOUT_MS :
		    SEND_TIMEOUT_MS, storage ? cmgw_done : cmgs_done, c,
		    free) == 0) {
			free(c);
			sm->busy = false;	/* recovery settles the part */
			sm->need_recovery = true;
		}
	}
}

/* --- inbound ------------------------------------------------------------ */

/* Commit a decoded DELIVER.  Returns 1 new, 0 duplicate, -1 error. */
static int
sms_commit_deliver(struct sms_modem *sm, const struct sms_codec_msg *msg)
{
	const char *sender = msg->number_e164[0] != '\0' ? msg->number_e164 :
	    msg->number;
	int64_t ts = msg->scts.valid ? msg->scts.epoch : 0;
	int r;

	r = store_sms_in_add(sm->s->st, modem_name(sm->m), sender, ts,
	    msg->concat ? (int)msg->concat_ref : 0,
	    msg->concat ? (int)msg->concat_total : 1,
	    msg->concat ? (int)msg->concat_seq : 1, msg->text, now_s());
	if (r == 1)
		sm->cnt.received++;
	if (r >= 0) {
		char b[32];

		log_debug("sms", "%s: received %s part from %s",
		    modem_name(sm->m), r == 1 ? "a new" : "a duplicate",
		    log_pii("sms", "phone", sender, b, sizeof(b)));
	}
	return r;
}

static void
sms_handle_report(struct sms_modem *sm, const struct sms_codec_msg *msg)
{
	struct store_part p;

	if (store_sms_part_by_mr(sm->s->st, modem_name(sm->m), msg->mr, &p)
	    != 1)
		return;
	if (msg->dlr == SMS_CODEC_DLR_PENDING)
		return;
	strlcpy_s(p.state, msg->dlr == SMS_CODEC_DLR_DELIVERED ?
	    "delivered" : "failed", sizeof(p.state));
	if (msg->dlr == SMS_CODEC_DLR_DELIVERED)
		sm->cnt.delivered++;
	sms_part_commit(sm->s, &p, msg->dlr == SMS_CODEC_DLR_DELIVERED ?
	    NULL : "status report: failed");
}

/* Decode a PDU the modem gave us and commit it.  -1 on a store error
 * (then the copy in the modem must NOT be deleted). */
static int
sms_take_pdu(struct sms_modem *sm, const char *pdu)
{
	struct sms_codec_msg *msg = xmalloc(sizeof(*msg));
	int r = 0;

	if (sms_codec_decode(pdu, true, msg) == -1) {
		log_warnx("sms", "%s: undecodable PDU dropped",
		    modem_name(sm->m));
		free(msg);
		return 0;
	}
	if (msg->type == SMS_CODEC_DELIVER)
		r = sms_commit_deliver(sm, msg) < 0 ? -1 : 0;
	else if (msg->type == SMS_CODEC_STATUS_REPORT)
		sms_handle_report(sm, msg);
	free(msg);
	return r;
}

static void
cmgr_done(bool ok, const struct at_response *r, void *arg)
{
	struct sms_modem *sm = sctx_get(arg);
	struct sctx *c = arg;
	size_t i;

	if (sm == NULL)
		return;
	if (!ok) {
		if (r->status == AT_STATUS_IO_ERROR ||
		    r->status == AT_STATUS_CANCELLED)
			return;	/* the listing at the next READY reads it */
		if (r->status == AT_STATUS_TIMEOUT)
			modem_note_timeout(sm->m);
		/* Unread and still stored: a listing settles it. */
		sms_settle_later(sm);
		return;
	}
	for (i = 0; i + 1 < r->nlines; i++)
		if (strncmp(r->lines[i], "+CMGR:", 6) == 0)
			break;
	if (i + 1 >= r->nlines || r->lines[i + 1][0] == '\0')
		return;		/* an empty slot: nothing to read */
	if (sms_take_pdu(sm, r->lines[i + 1]) == 0)
		sm_delete(sm, c->index);	/* committed: now delete */
	else
		sms_settle_later(sm);	/* kept in the modem; read again */
	sms_deliver_ready(sm->s);
}

static void
sms_read_index(struct sms_modem *sm, int index)
{
	static const char *const pfx[] = { "+CMGR:", NULL };
	char cmd[32];

	snprintf(cmd, sizeof(cmd), "AT+CMGR=%d", index);
	sm_cmd(sm, cmd, pfx, 10000, cmgr_done, index);
}

/* --- recovery: +CMGL=4 at READY and after an unclear send ------------- */

struct listed {
	int index, stat;
	const char *pdu;
	bool used;
};

/* Do two PDUs (with SMSC prefix) carry the same SUBMIT?  Compared from
 * the destination address on: the first octet and TP-MR may be rewritten
 * by the modem. */
static bool
same_submit(const char *a, const char *b)
{
	size_t sa, sb;
	unsigned v;

	if (sscanf(a, "%2x", &v) != 1)
		return false;
	sa = 2 + 2 * (size_t)v + 4;
	if (sscanf(b, "%2x", &v) != 1)
		return false;
	sb = 2 + 2 * (size_t)v + 4;
	if (strlen(a) <= sa || strlen(b) <= sb)
		return false;
	return strcasecmp(a + sa, b + sb) == 0;
}

struct recov {
	struct sms_modem *sm;
	struct listed *l;
	size_t n;
	int *del;
	size_t ndel;
	size_t received;	/* received messages (or reports) listed */
	bool store_error;
};

static void
recov_add_delete(struct recov *rc, int index)
{
	size_t i;

	for (i = 0; i < rc->ndel; i++)
		if (rc->del[i] == index)
			return;
	rc->del = xrealloc(rc->del, (rc->ndel + 1) * sizeof(int));
	rc->del[rc->ndel++] = index;
}

static void
recov_part(const struct store_part *pp, void *arg)
{
	struct recov *rc = arg;
	struct store_part p = *pp;
	struct listed *hit = NULL;
	size_t i;

	for (i = 0; i < rc->n; i++) {
		struct listed *e = &rc->l[i];

		if (e->used || (e->stat != 2 && e->stat != 3))
			continue;
		if ((p.storage_index >= 0 && e->index == p.storage_index &&
		    same_submit(e->pdu, p.pdu)) || same_submit(e->pdu, p.pdu)) {
			hit = e;
			break;
		}
	}
	if (hit != NULL) {
		hit->used = true;
		recov_add_delete(rc, hit->index);
	}
	if (strcmp(p.state, "submitting") == 0) {
		strlcpy_s(p.state, "uncertain", sizeof(p.state));
		rc->sm->cnt.uncertain++;
		log_warnx("sms", "%s: message %lld part %d was being sent with "
		    "+CMGS when we stopped; marked uncertain, not resent",
		    modem_name(rc->sm->m), (long long)p.msg_id, p.seq);
	} else if (strcmp(p.state, "sent") == 0 ||
	    strcmp(p.state, "delivered") == 0) {
		/* Already recorded; the stored copy is deleted above. */
	} else if (hit != NULL && hit->stat == 3) {
		strlcpy_s(p.state, "sent", sizeof(p.state));
		rc->sm->cnt.sent++;
		log_info("sms", "%s: message %lld part %d was sent before we "
		    "stopped; recorded", modem_name(rc->sm->m),
		    (long long)p.msg_id, p.seq);
	} else {
		/* Not in the modem, or stored but unsent: it cannot have
		 * reached the network.  Write it again. */
		strlcpy_s(p.state, "queued", sizeof(p.state));
	}
	p.storage_index = -1;
	if (sms_part_commit(rc->sm->s, &p, NULL) == -1)
		rc->store_error = true;
}

static void
cmgl_done(bool ok, const struct at_response *r, void *arg)
{
	struct sms_modem *sm = sctx_get(arg);
	struct recov rc;
	size_t i;

	if (sm == NULL)
		return;
	if (!ok) {
		if (r->status == AT_STATUS_TIMEOUT)
			modem_note_timeout(sm->m);
		sm->recovering = false;
		if (r->status == AT_STATUS_IO_ERROR ||
		    r->status == AT_STATUS_CANCELLED)
			return;
		/* An empty or refused listing: nothing stored to settle
		 * beyond what the records say. */
	}
	memset(&rc, 0, sizeof(rc));
	rc.sm = sm;
	rc.l = xcalloc(r->nlines + 1, sizeof(*rc.l));
	for (i = 0; ok && i + 1 < r->nlines; i++) {
		struct at_result_iter it;
		int idx, stat;

		if (strncmp(r->lines[i], "+CMGL:", 6) != 0)
			continue;
		at_result_iter_init_line(&it, r->lines[i]);
		if (!at_result_iter_next(&it, "+CMGL:") ||
		    !at_result_iter_next_number(&it, &idx) ||
		    !at_result_iter_next_number(&it, &stat))
			continue;
		rc.l[rc.n].index = idx;
		rc.l[rc.n].stat = stat;
		rc.l[rc.n].pdu = r->lines[i + 1];
		rc.n++;
		i++;
	}
	if (store_begin(sm->s->st) == -1) {
		free(rc.l);
		sm->recovering = false;
		return;
	}
	/* Received messages: commit, then delete. */
	for (i = 0; i < rc.n; i++) {
		if (rc.l[i].stat != 0 && rc.l[i].stat != 1)
			continue;
		rc.l[i].used = true;
		if (rc.l[i].pdu[0] != '\0')
			rc.received++;
		if (rc.l[i].pdu[0] == '\0' ||
		    sms_take_pdu(sm, rc.l[i].pdu) == 0)
			recov_add_delete(&rc, rc.l[i].index);
		else
			rc.store_error = true;
	}
	if (store_sms_parts_inflight(sm->s->st, modem_name(sm->m), recov_part,
	    &rc) == -1)
		rc.store_error = true;
	/* Stored sent copies nobody claims are leftovers: delete. */
	for (i = 0; i < rc.n; i++)
		if (!rc.l[i].used && rc.l[i].stat == 3)
			recov_add_delete(&rc, rc.l[i].index);
	if (rc.store_error || store_commit(sm->s->st) == -1) {
		store_rollback(sm->s->st);
		log_warnx("sms", "%s: recovery could not commit; retrying",
		    modem_name(sm->m));
		free(rc.l);
		free(rc.del);
		sm->recovering = false;
		sm->need_recovery = true;
		return;
	}
	for (i = 0; i < rc.ndel; i++)
		sm_delete(sm, rc.del[i]);
	/* A routine listing that only finds our own sent copies is not
	 * news; received ones found there are (no +CMTI, or we were down). */
	if (rc.received > 0)
		log_info("sms", "%s: read %zu received message(s) from "
		    "storage", modem_name(sm->m), rc.received);
	else if (rc.n > 0)
		log_debug("sms", "%s: settled %zu stored message(s)",
		    modem_name(sm->m), rc.n);
	free(rc.l);
	free(rc.del);
	sm->recovering = false;
	sms_deliver_ready(sm->s);
	sms_pump(sm);
}

static void
sms_recover(struct sms_modem *sm)
{
	static const char *const pfx[] = { "+CMGL:", NULL };

	sm->need_recovery = false;
	sm->recovering = true;
	sm->last_sweep = mono_s(sm->s);
	/* The listing deletes that STO SENT copy as unclaimed; a delete
	 * kept for later could hit the slot after it is reused. */
	sm->pending_delete = -1;
	if (sm_cmd(sm, "AT+CMGL=4", pfx, LIST_TIMEOUT_MS, cmgl_done, -1) == 0)
		sm->recovering = false;
}

/*
 * List the storage again as soon as the modem is free: a message we could
 * not read or commit stays there, and a +CMTI can be lost (line noise, a
 * modem that drops URCs while busy).  Also every sweep_s.
 */
static void
sms_settle_later(struct sms_modem *sm)
{
	sm->need_recovery = true;
	sms_pump(sm);
}

/* --- delivery to the survey ----------------------------------------- */

static void
deliver_one(const struct store_inbound *in, void *arg)
{
	struct sms *s = arg;

	if (s->evs.on_message != NULL)
		s->evs.on_message(in, s->arg);
	else
		store_sms_in_done(s->st, in);
}

static void
sms_deliver_ready(struct sms *s)
{
	store_sms_in_ready(s->st, now_s() - REASSEMBLY_S, deliver_one, s);
}

static void
sms_tick(void *arg)
{
	struct sms *s = arg;

	int64_t now = mono_s(s);
	size_t i;

	s->tick = ev_timer_add(s->ev, 1000, sms_tick, s);
	for (i = 0; i < s->nmods; i++) {
		struct sms_modem *sm = s->mods[i];

		if (modem_ready(sm->m) &&
		    now - sm->last_sweep >= (int64_t)s->sweep_s) {
			sm->last_sweep = now;
			sms_settle_later(sm);
		}
	}
	if (++s->ticks % TICK_S != 0)
		return;
	sms_deliver_ready(s);
	sms_kick(s);
}

/* --- public ------------------------------------------------------------- */

struct sms *
sms_new(struct ev *ev, struct store *st, unsigned send_attempts,
    const struct sms_events *evs, void *arg)
{
	struct sms *s = xcalloc(1, sizeof(*s));

	s->ev = ev;
	s->st = st;
	s->attempts = send_attempts > 0 ? send_attempts : 5;
	if (evs != NULL)
		s->evs = *evs;
	s->arg = arg;
	s->next_ref = (uint8_t)(util_wall_ms() & 0xff);
	s->sweep_s = 60;
	s->tick = ev_timer_add(ev, 1000, sms_tick, s);
	return s;
}

void
sms_free(struct sms *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nmods; i++) {
		ev_timer_del(s->ev, s->mods[i]->retry_timer);
		free(s->mods[i]);
	}
	free(s->mods);
	ev_timer_del(s->ev, s->tick);
	free(s);
}

void
sms_set_attempts(struct sms *s, unsigned send_attempts)
{
	if (send_attempts > 0)
		s->attempts = send_attempts;
}

void
sms_set_sweep(struct sms *s, unsigned sweep_s)
{
	s->sweep_s = sweep_s > 0 ? sweep_s : 60;
}

void
sms_set_pace(struct sms *s, unsigned pace_ms)
{
	s->pace_ms = pace_ms;
}

void
sms_set_arg(struct sms *s, void *arg)
{
	s->arg = arg;
}

void
sms_modem_add(struct sms *s, struct modem *m)
{
	struct sms_modem *sm = xcalloc(1, sizeof(*sm));

	sm->s = s;
	sm->m = m;
	sm->pending_delete = -1;
	s->mods = xrealloc(s->mods, (s->nmods + 1) * sizeof(*s->mods));
	s->mods[s->nmods++] = sm;
}

void
sms_modem_remove(struct sms *s, struct modem *m)
{
	size_t i;

	for (i = 0; i < s->nmods; i++)
		if (s->mods[i]->m == m) {
			ev_timer_del(s->ev, s->mods[i]->retry_timer);
			free(s->mods[i]);
			s->mods[i] = s->mods[--s->nmods];
			return;
		}
}

void
sms_modem_state(struct sms *s, struct modem *m)
{
	struct sms_modem *sm = sms_find(s, m);

	if (sm == NULL)
		return;
	sm->gen++;	/* callbacks of the old session are stale */
	sm->busy = false;
	sm->pending_delete = -1;	/* recovery deletes leftovers */
	sm->recovering = false;
	if (modem_ready(m))
		sms_recover(sm);
}

void
sms_modem_stored(struct sms *s, struct modem *m, int index)
{
	struct sms_modem *sm = sms_find(s, m);

	if (sm != NULL)
		sms_read_index(sm, index);
}

void
sms_modem_report_stored(struct sms *s, struct modem *m, int index)
{
	sms_modem_stored(s, m, index);
}

void
sms_modem_direct(struct sms *s, struct modem *m, const char *pdu)
{
	struct sms_modem *sm = sms_find(s, m);

	if (sm == NULL)
		return;
	if (sms_take_pdu(sm, pdu) == 0) {
		struct modem_info mi;

		modem_get_info(m, &mi);
		if (mi.cnmi_direct)
			sm_cmd(sm, "AT+CNMA", NULL, 5000, NULL, -1);
	}
	sms_deliver_ready(s);
}

void
sms_modem_report(struct sms *s, struct modem *m, const char *pdu)
{
	sms_modem_direct(s, m, pdu);
}

int
sms_queue(struct sms *s, int64_t conversation_id, const char *purpose,
    const char *phone, const char *text, const char *modem, int64_t now,
    int64_t *msg_id)
{
	struct sms_codec_opts opts;
	struct sms_codec_pdus pdus;
	const char **hex;
	unsigned *lens;
	size_t i;
	int r;

	memset(&opts, 0, sizeof(opts));
	opts.ref = s->next_ref++;
	opts.validity_min = 24 * 60;
	if (sms_codec_encode_submit(phone, text, &opts, &pdus) == -1) {
		log_warnx("sms", "cannot encode a %s message", purpose);
		return -1;
	}
	hex = xcalloc(pdus.count, sizeof(*hex));
	lens = xcalloc(pdus.count, sizeof(*lens));
	for (i = 0; i < pdus.count; i++) {
		hex[i] = pdus.parts[i].hex;
		lens[i] = pdus.parts[i].tpdu_len;
	}
	r = store_sms_out_add(s->st, conversation_id, purpose, modem, phone,
	    text, hex, lens, pdus.count, now, msg_id);
	free(hex);
	free(lens);
	sms_codec_pdus_free(&pdus);
	return r;
}

void
sms_kick(struct sms *s)
{
	size_t i;

	for (i = 0; i < s->nmods; i++)
		sms_pump(s->mods[i]);
}

void
sms_get_counters(const struct sms *s, const struct modem *m,
    struct sms_counters *c)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < s->nmods; i++)
		if (s->mods[i]->m == m)
			*c = s->mods[i]->cnt;
}
