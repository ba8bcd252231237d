/* provider: queued link invitations -> SMPP, durably. */
#include "smsgw/provider.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "smsgw/conf.h"
#include "smsgw/ev.h"
#include "smsgw/log.h"
#include "smsgw/smpp.h"
#include "smsgw/store.h"
#include "smsgw/util.h"

#define PUMP_MS 50	/* at most this late: hand-off and state flush */
#define HANDOFF_MAX 500	/* messages handed over per pass */

struct provider {
	struct ev *ev;
	struct store *st;
	struct smpp *smpp;
	provider_final_cb cb;
	void *arg;
	uint32_t timer;
	int64_t recovered_uncertain;
	unsigned handed;	/* in smpp's hands, not yet resolved */
	/*
	 * Outcomes waiting to be written: one transaction per pass instead
	 * of one per submit_sm_resp.  A crash before the flush leaves those
	 * messages "submitting", i.e. uncertain and never resent: at most
	 * once still holds, at the cost of under-reporting a few sends.
	 */
	struct {
		int64_t id;
		const char *state;	/* static */
	} *done;
	size_t ndone, capdone;
	struct {		/* parts acknowledged, per multipart message */
		uint64_t key;
		unsigned acked;
	} *acks;
	size_t nacks;
};

/* Count an acknowledged part; true when all nparts are in (responses to
 * a window of submit_sm may come in any order). */
static bool
provider_ack(struct provider *p, uint64_t key, unsigned nparts)
{
	size_t i;

	if (nparts <= 1)
		return true;
	for (i = 0; i < p->nacks; i++)
		if (p->acks[i].key == key)
			break;
	if (i == p->nacks) {
		p->acks = xrealloc(p->acks, (p->nacks + 1) * sizeof(*p->acks));
		p->acks[p->nacks].key = key;
		p->acks[p->nacks].acked = 0;
		p->nacks++;
	}
	if (++p->acks[i].acked < nparts)
		return false;
	p->acks[i] = p->acks[--p->nacks];
	return true;
}

static void
provider_forget(struct provider *p, uint64_t key)
{
	size_t i;

	for (i = 0; i < p->nacks; i++)
		if (p->acks[i].key == key) {
			p->acks[i] = p->acks[--p->nacks];
			return;
		}
}

static int64_t
now_s(void)
{
	return util_wall_ms() / 1000;
}

/* Record an outcome; written at the next flush. */
static void
provider_set(struct provider *p, int64_t id, const char *state)
{
	if (p->ndone == p->capdone) {
		p->capdone = p->capdone ? p->capdone * 2 : 64;
		p->done = xrealloc(p->done, p->capdone * sizeof(*p->done));
	}
	p->done[p->ndone].id = id;
	p->done[p->ndone].state = state;
	p->ndone++;
}

/* Write the outcomes in one transaction, then tell the engine. */
static void
provider_flush(struct provider *p)
{
	int64_t now = now_s();
	size_t i;

	if (p->ndone == 0)
		return;
	if (store_begin(p->st) == -1)
		return;	/* try again at the next pass */
	for (i = 0; i < p->ndone; i++) {
		int r = store_sms_out_set_state(p->st, p->done[i].id,
		    p->done[i].state, now);

		if (r == 1 && p->cb != NULL)
			p->cb(p->done[i].id, store_sms_out_conversation(p->st,
			    p->done[i].id), p->done[i].state, p->arg);
	}
	if (store_commit(p->st) == -1) {
		store_rollback(p->st);
		return;
	}
	p->ndone = 0;
}

static void
on_state(enum smpp_state st, void *arg)
{
	struct provider *p = arg;

	log_info("smpp", "link %s", smpp_state_name(st));
	if (st == SMPP_BOUND)
		provider_kick(p);
}

static void
on_submitted(uint64_t key, unsigned part, unsigned nparts,
    const char *message_id, void *arg)
{
	struct provider *p = arg;

	(void)message_id;
	(void)part;
	if (!provider_ack(p, key, nparts))
		return;	/* wait for every part */
	if (p->handed > 0)
		p->handed--;
	provider_set(p, (int64_t)key, "sent");
}

static void
on_failed(uint64_t key, uint32_t status, const char *reason, void *arg)
{
	struct provider *p = arg;

	log_warnx("smpp", "message %llu refused by the SMSC (0x%x %s)",
	    (unsigned long long)key, status, reason);
	provider_forget(p, key);
	if (p->handed > 0)
		p->handed--;
	provider_set(p, (int64_t)key, "failed");
}

static void
on_uncertain(uint64_t key, void *arg)
{
	struct provider *p = arg;

	log_warnx("smpp", "message %llu: no answer from the SMSC; marked "
	    "uncertain, not resent", (unsigned long long)key);
	provider_forget(p, key);
	if (p->handed > 0)
		p->handed--;
	provider_set(p, (int64_t)key, "uncertain");
}

static void
on_unsent(uint64_t key, void *arg)
{
	struct provider *p = arg;

	/* Never written to the socket: safe to hand over again later. */
	provider_forget(p, key);
	if (p->handed > 0)
		p->handed--;
	store_sms_out_set_state(p->st, (int64_t)key, "queued", now_s());
}

static void
on_delivered(uint64_t key, const char *message_id, bool ok,
    const char *stat, void *arg)
{
	struct provider *p = arg;

	(void)message_id;
	(void)stat;
	if (key == 0)
		return;	/* a receipt from before a restart: unknown here */
	provider_set(p, (int64_t)key, ok ? "delivered" : "failed");
}

static const struct smpp_events provider_events = {
	on_state, on_submitted, on_failed, on_uncertain, on_unsent,
	on_delivered,
};

static void
handoff(const struct store_provider_msg *m, void *arg)
{
	struct provider *p = arg;

	if (store_sms_out_set_state(p->st, m->id, "submitting", now_s()) != 1)
		return;
	if (smpp_submit(p->smpp, (uint64_t)m->id, m->phone, m->text) == -1) {
		log_warnx("smpp", "message %lld cannot be encoded; failed",
		    (long long)m->id);
		provider_set(p, m->id, "failed");
		return;
	}
	p->handed++;
}

static void
pump(void *arg)
{
	struct provider *p = arg;
	struct smpp_status ss;

	p->timer = ev_timer_add(p->ev, PUMP_MS, pump, p);
	provider_flush(p);
	smpp_get_status(p->smpp, &ss);
	if (ss.state != SMPP_BOUND || ss.queued > HANDOFF_MAX)
		return;
	/* Each hand-off is committed ("submitting") before smpp sees it. */
	if (store_begin(p->st) == -1)
		return;
	store_provider_queued(p->st, PROVIDER_PURPOSE, HANDOFF_MAX, handoff, p);
	if (store_commit(p->st) == -1)
		store_rollback(p->st);
}

struct provider *
provider_new(struct ev *ev, struct store *st, const struct conf *c,
    provider_final_cb cb, void *arg)
{
	struct provider *p = xcalloc(1, sizeof(*p));
	struct smpp_config sc;

	p->ev = ev;
	p->st = st;
	p->cb = cb;
	p->arg = arg;
	memset(&sc, 0, sizeof(sc));
	sc.host = c->smpp.host;
	sc.port = c->smpp.port;
	sc.system_id = c->smpp.system_id;
	sc.password = "";
	sc.password_file = c->smpp.password_file;
	sc.system_type = c->smpp.system_type;
	sc.tls = c->smpp.tls;
	sc.ca_file = c->smpp.ca_file;
	sc.source_addr = c->smpp.source_addr;
	sc.window = c->smpp.window;
	sc.max_rate = c->smpp.max_rate;
	sc.enquire_link_s = c->smpp.enquire_link_s;
	p->recovered_uncertain = store_provider_recover(st, PROVIDER_PURPOSE);
	if (p->recovered_uncertain > 0)
		log_warnx("smpp", "%lld invitation(s) were being submitted when "
		    "smsgwd stopped; marked uncertain, not resent",
		    (long long)p->recovered_uncertain);
	p->smpp = smpp_new(ev, &sc, &provider_events, p);
	if (p->smpp == NULL) {
		log_warnx("smpp", "cannot start the SMPP client (check the smpp "
		    "settings)");
		free(p);
		return NULL;
	}
	p->timer = ev_timer_add(ev, 0, pump, p);
	return p;
}

void
provider_free(struct provider *p)
{
	if (p == NULL)
		return;
	ev_timer_del(p->ev, p->timer);
	smpp_stop(p->smpp);
	provider_flush(p);
	smpp_free(p->smpp);
	free(p->done);
	free(p->acks);
	free(p);
}

void
provider_kick(struct provider *p)
{
	ev_timer_del(p->ev, p->timer);
	p->timer = ev_timer_add(p->ev, 0, pump, p);
}

json_object *
provider_status(struct provider *p)
{
	json_object *o = json_object_new_object();
	struct smpp_status ss;

	smpp_get_status(p->smpp, &ss);
	json_object_object_add(o, "state",
	    json_object_new_string(smpp_state_name(ss.state)));
	json_object_object_add(o, "outstanding",
	    json_object_new_int64(ss.outstanding));
	json_object_object_add(o, "queued", json_object_new_int64(ss.queued));
	json_object_object_add(o, "submitted",
	    json_object_new_int64((int64_t)ss.submitted));
	json_object_object_add(o, "delivered",
	    json_object_new_int64((int64_t)ss.delivered));
	json_object_object_add(o, "failed",
	    json_object_new_int64((int64_t)ss.failed));
	json_object_object_add(o, "uncertain", json_object_new_int64(
	    (int64_t)ss.uncertain + p->recovered_uncertain));
	json_object_object_add(o, "throttled",
	    json_object_new_int64((int64_t)ss.throttled));
	json_object_object_add(o, "last_error", ss.last_error[0] ?
	    json_object_new_string(ss.last_error) : NULL);
	return o;
}
