/*
 * sms: moves SMS in and out of every modem without losing or duplicating
 * one.
 *
 * Outbound (exactly once across crashes): each part is written to the
 * modem's storage (+CMGW), sent from there (+CMSS) and deleted (+CMGD),
 * and the store records the step before it is taken:
 *   queued -> writing [+CMGW] -> sending [+CMSS] -> sent [+CMGD]
 * After a restart, a modem's stored messages (+CMGL=4) are matched to the
 * parts in flight by their TPDU: STO SENT -> sent; STO UNSENT -> +CMSS
 * again; absent -> written again (it cannot have reached the network).
 * A modem that refuses storage send falls back to +CMGS: queued ->
 * submitting [+CMGS] -> sent, and an unanswered submit becomes
 * "uncertain" and is never resent (a duplicate survey is worse than a
 * missing one).  +CMS ERROR and timeouts retry a part alone with backoff
 * up to send_attempts, then the part and its message fail.
 *
 * Inbound: +CMTI -> +CMGR -> commit -> +CMGD; +CMT -> commit -> +CNMA;
 * +CMGL=4 at READY drains what arrived while the daemon was down.  Parts
 * are deduplicated on (sender, SMSC timestamp, reference, part) and
 * reassembled; a complete message (or the parts of one left incomplete
 * for reassembly_s) is handed to on_message, which must mark it done with
 * store_sms_in_done() in the transaction where it acts on it.
 *
 * Status reports (+CDS, +CDSI) mark parts delivered or failed by their
 * message reference.  No sleeps or polling on the send path: every step
 * is driven by the modem's answer.
 */
#ifndef SMSGW_SMS_H
#define SMSGW_SMS_H

#include <stdbool.h>
#include <stdint.h>

#include "smsgw/store.h"

struct ev;
struct modem;
struct sms;

struct sms_events {
	/* A complete inbound message (see above). */
	void (*on_message)(const struct store_inbound *in, void *arg);
	/* A message reached a final state: "sent", "failed", "uncertain",
	 * "delivered". */
	void (*on_final)(int64_t msg_id, int64_t conversation_id,
	    const char *purpose, const char *modem, const char *state,
	    void *arg);
};

struct sms_counters {
	uint64_t sent, failed, received, uncertain, delivered, retries;
};

struct sms *sms_new(struct ev *ev, struct store *st, unsigned send_attempts,
    const struct sms_events *evs, void *arg);
void sms_free(struct sms *s);
void sms_set_attempts(struct sms *s, unsigned send_attempts);
/* Minimum gap between invitations on one modem, ms (0 = none): a
 * backlog is spread out instead of bursting at the window start; replies
 * and follow-ups are never held back. */
void sms_set_pace(struct sms *s, unsigned pace_ms);
/* List every ready modem's storage at least this often (seconds). */
void sms_set_sweep(struct sms *s, unsigned sweep_s);
/* Change the arg handed to the event callbacks. */
void sms_set_arg(struct sms *s, void *arg);

/* The gateway forwards each modem's life and events here. */
void sms_modem_add(struct sms *s, struct modem *m);
void sms_modem_remove(struct sms *s, struct modem *m);
void sms_modem_state(struct sms *s, struct modem *m);
void sms_modem_stored(struct sms *s, struct modem *m, int index);
void sms_modem_direct(struct sms *s, struct modem *m, const char *pdu);
void sms_modem_report(struct sms *s, struct modem *m, const char *pdu);
void sms_modem_report_stored(struct sms *s, struct modem *m, int index);

/*
 * Queue text to phone (E.164).  modem NULL/"" = any ready modem.  Encodes
 * now (GSM 7-bit or UCS-2, concatenated when long) and commits inside the
 * caller's transaction if one is open.  Returns 0 and *msg_id, or -1.
 */
int sms_queue(struct sms *s, int64_t conversation_id, const char *purpose,
    const char *phone, const char *text, const char *modem, int64_t now,
    int64_t *msg_id);
/* Look for work on every ready modem (after queueing outside a pass). */
void sms_kick(struct sms *s);
void sms_get_counters(const struct sms *s, const struct modem *m,
    struct sms_counters *c);

#endif
