/*
 * store: the durable state of smsgwd in one sqlite database (WAL mode).
 * Only store.c touches sqlite.  Each event handler does one short
 * transaction; every function here either runs inside the caller's
 * store_begin()/store_commit() or, when none is open, in its own implicit
 * transaction.  The schema covers the whole contract (visits,
 * conversations, messages in and out, responses, suppression, review,
 * settings, the upstream outbox); later versions migrate it through
 * PRAGMA user_version, never by rewriting.
 */
#ifndef SMSGW_STORE_H
#define SMSGW_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

/* Schema version this build migrates to. */
#define STORE_SCHEMA_VERSION 1

/*
 * Open (creating if needed) and migrate the database at path.  Returns
 * NULL with errmsg (caller frees) on failure; a database newer than this
 * build is refused.
 */
struct store *store_open(const char *path, char **errmsg);
void store_close(struct store *st);	/* NULL is fine */

int store_begin(struct store *st);
/* A savepoint inside a transaction: one unit of work that can be undone
 * alone (store_savepoint_undo) or kept (store_savepoint_keep). */
int store_savepoint(struct store *st);
int store_savepoint_keep(struct store *st);
void store_savepoint_undo(struct store *st);
/* Is a transaction open (so a caller's writes join it)? */
bool store_in_transaction(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);

/* PRAGMA user_version and journal_mode, for tests and status. */
int store_schema_version(struct store *st);
const char *store_journal_mode(struct store *st);
/* Last sqlite error text (borrowed). */
const char *store_errmsg(struct store *st);

/* settings: small key/value facts (HMAC key id, last retention run). */
int store_setting_set(struct store *st, const char *key, const char *val);
/* Returns a copy (caller frees) or NULL when absent. */
char *store_setting_get(struct store *st, const char *key);

/* Per-unit sampling rate set at run time (smsgwctl rate). */
int store_rate_set(struct store *st, const char *unit, double rate,
    int64_t now);
int store_rate_clear(struct store *st, const char *unit);
/* 1 = found (*rate set), 0 = none, -1 = error. */
int store_rate_get(struct store *st, const char *unit, double *rate);

/* Named counters (duplicates, uncertain sends, ...). */
int store_counter_add(struct store *st, const char *name, int64_t delta);
int64_t store_counter_get(struct store *st, const char *name);

/* --- outbound SMS: the exactly-once queue ----------------------------
 *
 * A message (sms_out) has parts (sms_out_parts), one PDU each.  A part
 * moves queued -> writing (+CMGW sent) -> stored (index known) ->
 * sending (+CMSS sent) -> sent (mr known) -> [storage_index cleared by
 * +CMGD] -> delivered|failed (status report); on the +CMGS path
 * queued -> submitting -> sent.  A crash leaves each part in the state
 * of the last committed step, which tells recovery what may have reached
 * the network.  "uncertain" marks a +CMGS whose answer never came: it is
 * never resent.
 */
struct store_part {
	int64_t msg_id;
	int seq;
	int nparts;
	int64_t conversation_id;	/* 0 = none */
	char purpose[24];
	char pdu[352];
	int tpdu_len;
	char state[16];
	char modem[40];			/* modem that handles it, "" = any */
	int storage_index;		/* -1 = none */
	int mr;				/* -1 = none */
	int attempts;
	int64_t next_attempt_at;
};

/* Queue a message of n parts; *msg_id set.  modem "" or NULL = any. */
int store_sms_out_add(struct store *st, int64_t conversation_id,
    const char *purpose, const char *modem, const char *phone,
    const char *text, const char *const *pdus, const unsigned *tpdu_lens,
    size_t n, int64_t now, int64_t *msg_id);
/*
 * The next queued part that modem may send at now (its message pinned to
 * it or to none), lowest message id first; the first part of an
 * invitation only when invitations is set (pacing).  1 found, 0 none,
 * -1 error.
 */
int store_sms_part_next(struct store *st, const char *modem, int64_t now,
    bool invitations, struct store_part *out);
/* Earliest next_attempt_at of a queued part after now, or 0. */
int64_t store_sms_next_retry(struct store *st, int64_t now);
/* Write back state, modem, storage_index, mr, attempts, next_attempt_at;
 * last_error may be NULL.  Also settles the message when all its parts
 * are final (sent/delivered -> sent; any failed -> failed). */
int store_sms_part_update(struct store *st, const struct store_part *p,
    const char *last_error, int64_t now);
/* Pin a message (all its parts) to modem: parts of one concatenated SMS
 * must leave from one SIM, and a conversation stays on its SIM. */
int store_sms_out_pin(struct store *st, int64_t msg_id, const char *modem);
/* Parts on modem in a state that recovery must settle (writing, stored,
 * sending, submitting, or sent with a storage index). */
typedef void (*store_part_cb)(const struct store_part *p, void *arg);
int store_sms_parts_inflight(struct store *st, const char *modem,
    store_part_cb cb, void *arg);
/* Part sent by modem with message reference mr (newest first). */
int store_sms_part_by_mr(struct store *st, const char *modem, int mr,
    struct store_part *out);
/* Message state: "queued", "sent", "failed", ...; NULL if absent. */
char *store_sms_out_state(struct store *st, int64_t msg_id);
/* Count of messages by state (for status), -1 on error. */
int64_t store_sms_out_count(struct store *st, const char *state);
/* Drop the text and phone of settled messages (privacy). */
int store_sms_out_forget(struct store *st, int64_t msg_id);

/* Messages handed to a provider (no PDU parts): queued -> submitting ->
 * sent|failed|uncertain -> delivered|failed. */
struct store_provider_msg {
	int64_t id, conversation_id;
	char phone[20];
	char *text;		/* owned */
};
typedef void (*store_provider_cb)(const struct store_provider_msg *m,
    void *arg);
/* Up to limit queued messages with this purpose, oldest first. */
int store_provider_queued(struct store *st, const char *purpose, int limit,
    store_provider_cb cb, void *arg);
/* Set a message's state (and done_at when final); 1 changed, 0 no such
 * message or already in that state, -1 error. */
int store_sms_out_set_state(struct store *st, int64_t msg_id,
    const char *state, int64_t now);
/* After a restart: messages of purpose left "submitting" become
 * "uncertain" (at most once).  Returns how many, or -1. */
int64_t store_provider_recover(struct store *st, const char *purpose);
/* conversation_id of a message, 0 if none or absent. */
int64_t store_sms_out_conversation(struct store *st, int64_t msg_id);

/* --- inbound SMS ------------------------------------------------------ */

/* Commit one received part.  1 inserted, 0 duplicate, -1 error. */
int store_sms_in_add(struct store *st, const char *modem, const char *sender,
    int64_t smsc_ts, int ref, int total, int seq, const char *text,
    int64_t now);
/*
 * Every complete message not yet processed (or incomplete and older than
 * incomplete_before), parts joined in order.  The callback gets the key
 * to pass to store_sms_in_done().
 */
struct store_inbound {
	int64_t first_id;	/* key */
	char modem[40];
	char sender[48];
	int ref, total;
	bool incomplete;
	int64_t received_at;
	char *text;		/* borrowed */
};
typedef void (*store_inbound_cb)(const struct store_inbound *in, void *arg);
int store_sms_in_ready(struct store *st, int64_t incomplete_before,
    store_inbound_cb cb, void *arg);
/* Mark the message of in processed and drop its text. */
int store_sms_in_done(struct store *st, const struct store_inbound *in);
int64_t store_sms_in_count(struct store *st, const char *state);

/* --- visits ------------------------------------------------------------ */

struct store_visit {
	char visit_id[65];
	char unit[65];
	char phone[20];		/* E.164, "" once forgotten */
	char phone_hmac[65];
	int64_t ended_at;
	char lang[3];
	int age;		/* -1 unknown */
	unsigned flags;
	char state[16];		/* scheduled, ineligible, not_sampled,
				   stale, cancelled, invited, failed */
	char verdict[24];
	int sampled;		/* -1 undecided, 0, 1 */
	int64_t send_at;
	char source[128];
};

/* 1 inserted, 0 the visit_id exists (duplicate), -1 error. */
int store_visit_insert(struct store *st, const struct store_visit *v,
    int64_t now);
/*
 * Withdraw a visit: 1 cancelled, 0 too late (invited already) or
 * cancelled before, 2 unknown id (a tombstone is kept so the visit, if it
 * comes later, counts as a duplicate), -1 error.
 */
int store_visit_cancel(struct store *st, const char *visit_id, int64_t now);
/* Scheduled visits due at now, oldest send_at first, at most limit. */
typedef void (*store_visit_cb)(const struct store_visit *v, void *arg);
int store_visits_due(struct store *st, int64_t now, int limit,
    store_visit_cb cb, void *arg);
int store_visit_set_state(struct store *st, const char *visit_id,
    const char *state, const char *verdict);
int64_t store_visits_count(struct store *st, const char *state);
/* Earliest send_at of a scheduled visit, or 0. */
int64_t store_visits_next_due(struct store *st);

/* --- suppression and caps -------------------------------------------- */

int store_suppressed(struct store *st, const char *phone_hmac);
int store_suppress_add(struct store *st, const char *phone_hmac,
    const char *source, int64_t now);
int store_suppress_remove(struct store *st, const char *phone_hmac);
/* Last invitation to this person (0 none). */
int64_t store_invite_last(struct store *st, const char *phone_hmac);
/* Invitations of unit since (for the daily cap). */
int64_t store_invite_count(struct store *st, const char *unit, int64_t since);
int store_invite_add(struct store *st, const char *phone_hmac,
    const char *unit, int64_t now);

/* --- conversations --------------------------------------------------------- */

struct store_conv {
	int64_t id;
	char visit_id[65];
	char unit[65];
	char phone[20];
	char phone_hmac[65];
	char modem[40];
	char lang[3];
	char state[16];		/* survey state name */
	char status[16];	/* survey status name */
	int64_t invited_at, delivered_at, expires_at, closed_at;
	char *data;		/* survey_conv as JSON; owned */
};

void store_conv_clear(struct store_conv *c);
int store_conv_insert(struct store *st, struct store_conv *c);
int store_conv_update(struct store *st, const struct store_conv *c);
/* 1 found, 0 none, -1 error.  Caller clears c. */
int store_conv_get(struct store *st, int64_t id, struct store_conv *c);
/* The newest conversation with this person that is open or closed after
 * closed_after.  1 found, 0 none, -1 error. */
int store_conv_find(struct store *st, const char *phone_hmac,
    int64_t closed_after, struct store_conv *c);
/* Ids of open conversations whose expires_at <= now. */
int store_convs_expired(struct store *st, int64_t now, int64_t **ids,
    size_t *n);
int64_t store_convs_next_expiry(struct store *st);
int64_t store_convs_open(struct store *st);
/* Forget clear phone numbers of conversations closed before cutoff. */
int store_convs_forget_phones(struct store *st, int64_t cutoff);

/* --- responses, outbox, review ------------------------------------------ */

struct store_response {
	char response_id[65];
	int64_t conversation_id;
	char visit_id[65], unit[65], lang[3];
	int revision;
	int64_t invited_at, answered_at;
	char status[16], kind[16];
	int score;		/* -1 none */
	const char *record;	/* the JSON record (redacted) */
};

/* Insert or replace the response; when queue is set, also put this
 * revision into the upstream outbox. */
int store_response_put(struct store *st, const struct store_response *r,
    bool queue, int64_t now);
/* Records updated at or after since, oldest first. */
typedef void (*store_text_cb)(const char *text, void *arg);
int store_responses_export(struct store *st, int64_t since,
    store_text_cb cb, void *arg);

struct store_unit_stats {
	char unit[65];
	int64_t visits, eligible, sampled, invited, delivered, answered,
	    optout, invalid, promoters, passives, detractors;
};
typedef void (*store_unit_cb)(const struct store_unit_stats *u, void *arg);
int store_units(struct store *st, store_unit_cb cb, void *arg);

int store_review_add(struct store *st, const char *reason,
    int64_t conversation_id, const char *text, int64_t now);
struct store_review_item {
	int64_t id, conversation_id, received_at;
	char reason[24];
	const char *text;
};
typedef void (*store_review_cb)(const struct store_review_item *it,
    void *arg);
int store_review_list(struct store *st, store_review_cb cb, void *arg);
/* 1 resolved, 0 no such open item, -1 error; conversation_id filled. */
int store_review_resolve(struct store *st, int64_t id, const char *res,
    int64_t now, int64_t *conversation_id);

/* Upstream outbox (for sync). */
struct store_outbox_row {
	int64_t id;
	char *body;
};
/* Up to max pending rows in id order into rows (caller frees bodies). */
int store_outbox_pending(struct store *st, size_t max,
    struct store_outbox_row *rows, size_t *n);
int store_outbox_mark(struct store *st, const int64_t *ids, size_t n,
    const char *state, const char *batch_key, const char *err, int64_t now);
int64_t store_outbox_count(struct store *st, const char *state);
/* Parked (failed) rows back to pending (after reload). */
int store_outbox_retry_failed(struct store *st);

/* --- retention ----------------------------------------------------------- */

struct store_retention {
	int64_t sms_in, sms_out, conversations, responses, outbox, review,
	    visits, invitations;
};
/*
 * The daily privacy job: delete what is older than retention_s (closed
 * conversations and their records once synced, outbox rows sent, resolved
 * review items, finished visits, messages), drop the phone and text of
 * messages older than scrub_s (they are needed only for deduplication
 * and delivery reports), and keep invitation history for keep_invites_s
 * (the person cap needs it).  The suppression list is never deleted.
 */
int store_retention_run(struct store *st, int64_t now, int64_t retention_s,
    int64_t scrub_s, int64_t keep_invites_s, struct store_retention *out);

#endif
