/*
 * smpp: an SMPP 3.4 ESME (bound as transceiver) on the ev loop, used by
 * transport = "smpp" to send invitations from an alphanumeric sender.
 *
 * Boundary with the daemon: smpp keeps its queue in memory only.  The
 * daemon records an invitation durably *before* smpp_submit() and resolves
 * it from the callbacks below; after a crash, an invitation that never got
 * on_submitted for all its parts is not resent (at-most-once).  smpp never
 * resends a submit_sm once it was written to the socket, except when the
 * SMSC explicitly answered ESME_RTHROTTLED or ESME_RMSGQFUL (then the SMSC
 * did not take it and the part is retried after a pause).
 *
 * Life of one message (msg_key, one or more SMS parts):
 *   - smpp_submit() queues it;
 *   - on_submitted() once per part when submit_sm_resp says OK, with the
 *     SMSC message_id of that part (the daemon stores it: receipts that
 *     arrive after a restart carry only the message_id);
 *   - exactly one of these ends the sending phase when not all parts went:
 *     on_failed()    the SMSC refused a part (any other error status) or
 *                    the text cannot be encoded: permanent, nothing more
 *                    is sent for this message;
 *     on_uncertain() the link died (or a response timed out) while a part
 *                    was outstanding: it may or may not have been taken;
 *                    not resent, the rest of the message is dropped;
 *     on_unsent()    smpp_stop() dropped it before any part was written:
 *                    safe to submit again after restart;
 *   - on_delivered() once per message when the receipts for all its parts
 *     said DELIVRD (ok = true) or the first one said something final and
 *     not delivered (ok = false).
 * Receipt ids are matched exactly (no hex/decimal guessing: that could
 * credit the wrong message).  Receipts whose message_id is unknown (sent
 * by an earlier run, or after the receipt table cap dropped the entry)
 * are reported per part with msg_key = 0.  msg_key 0 is therefore
 * refused by smpp_submit().
 *
 * Strings passed to callbacks are borrowed until the callback returns.
 * Callbacks may call smpp_submit() and smpp_get_status() but must not
 * call smpp_free().
 *
 * Link: enquire_link every enquire_link_s; no answer to any request
 * within resp_timeout_ms drops the link.  Reconnects back off from
 * backoff_min_ms doubling to backoff_max_ms, and start over only after a
 * link stayed bound 10 s (an SMSC that drops us right after each bind, or
 * refuses the bind, is not hammered).  ESME_RTHROTTLED / ESME_RMSGQFUL
 * pause all sending for throttle_ms, doubling up to 30 s while they
 * repeat.
 *
 * TLS (cfg->tls): after the TCP connect, a non-blocking OpenSSL client
 * handshake (TLS 1.2 or later) on the same ev loop, then every PDU goes
 * through it.  The SMSC certificate is always verified: against
 * cfg->ca_file when set (a PEM file of one or more CAs or the SMSC's own
 * self-signed certificate), else the system CAs; the name (SNI and
 * hostname check) is cfg->host, or its IP address when host is a literal.
 * A handshake or verification failure is a connection failure: backoff
 * as above, last_error "TLS: <reason>".  ca_file is read once, by
 * smpp_new().  With TLS the process must ignore SIGPIPE (OpenSSL writes
 * with write(2)); smsgwd does.
 */
#ifndef SMSGW_SMPP_H
#define SMSGW_SMPP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ev;
struct smpp;

enum smpp_state {
	SMPP_DISCONNECTED = 0,	/* idle, or waiting to reconnect */
	SMPP_CONNECTING,	/* TCP connect in progress */
	SMPP_BINDING,		/* bind_transceiver sent */
	SMPP_BOUND,		/* sending */
	SMPP_BIND_FAILED,	/* bind refused; retrying with backoff */
	SMPP_UNBINDING,		/* smpp_stop(): draining, unbind sent */
	SMPP_STOPPED		/* after smpp_stop() completed */
};

/*
 * Strings are copied by smpp_new().  Zero numeric fields take the default
 * shown.  The *_ms tunables exist for tests; the daemon leaves them 0.
 */
struct smpp_config {
	const char *host;		/* numeric or resolvable (blocking) */
	int port;
	const char *system_id;
	const char *password;		/* when password_file is empty */
	const char *password_file;	/* first line, re-read on each bind */
	const char *system_type;
	bool tls;			/* TLS to the SMSC (see above) */
	const char *ca_file;		/* PEM CAs; NULL/"" = system CAs */
	const char *source_addr;	/* "HYVAKS": TON 5; digits: TON 1 */
	int window;			/* outstanding submit_sm (10) */
	int max_rate;			/* submit_sm/s, 0 = unlimited */
	int enquire_link_s;		/* default 30 */
	bool no_receipts;		/* registered_delivery 0, not 1 */
	int resp_timeout_ms;		/* any response (30000) */
	int backoff_min_ms;		/* reconnect backoff, default 1000 */
	int backoff_max_ms;		/* default 60000 */
	int throttle_ms;		/* pause on RTHROTTLED (1000) */
	size_t receipt_cap;		/* awaiting receipts (100000) */
};

struct smpp_events {
	void (*on_state)(enum smpp_state st, void *arg);
	void (*on_submitted)(uint64_t msg_key, unsigned part, unsigned nparts,
	    const char *message_id, void *arg);
	/* status: the SMSC command_status, or 0 for local errors. */
	void (*on_failed)(uint64_t msg_key, uint32_t status,
	    const char *reason, void *arg);
	void (*on_uncertain)(uint64_t msg_key, void *arg);
	void (*on_unsent)(uint64_t msg_key, void *arg);
	/* msg_key 0: message_id unknown to this run (per-part report). */
	void (*on_delivered)(uint64_t msg_key, const char *message_id,
	    bool ok, const char *stat, void *arg);
};

struct smpp_status {
	enum smpp_state state;
	unsigned outstanding;		/* submit_sm without response */
	unsigned queued;		/* parts waiting to be written */
	uint64_t submitted;		/* parts accepted by the SMSC */
	uint64_t failed;		/* messages */
	uint64_t uncertain;		/* messages */
	uint64_t delivered;		/* messages, receipts ok */
	uint64_t undelivered;		/* messages, final receipt not ok */
	uint64_t throttled;		/* RTHROTTLED/RMSGQFUL answers */
	uint64_t connects;		/* TCP connections made */
	uint64_t binds_failed;
	char last_error[128];		/* "" when none; no PII */
};

/*
 * Create the client and start connecting at once.  evs is copied; arg is
 * passed to every callback.  Returns NULL (logged) when cfg is invalid
 * (no host, port out of range, source_addr too long, or with tls a
 * ca_file that cannot be loaded).
 */
struct smpp *smpp_new(struct ev *ev, const struct smpp_config *cfg,
    const struct smpp_events *evs, void *arg);

/*
 * Queue utf8_text for dest_e164 ("+358401234567" or digits).  The text is
 * encoded and split now.  Returns 0, or -1 (errno EINVAL) for msg_key 0,
 * a bad number or text that cannot be encoded, or (ESHUTDOWN) after
 * smpp_stop(); no callback follows a -1.
 */
int smpp_submit(struct smpp *s, uint64_t msg_key, const char *dest_e164,
    const char *utf8_text);

/*
 * Graceful shutdown: queued messages with no part written are reported
 * through on_unsent now, outstanding parts get up to resp_timeout_ms to be
 * answered, then unbind is sent and the state becomes SMPP_STOPPED.
 */
void smpp_stop(struct smpp *s);

/*
 * Close at once, without callbacks: queued and outstanding messages are
 * forgotten (the daemon treats them as after a crash).  NULL is fine.
 */
void smpp_free(struct smpp *s);

void smpp_get_status(const struct smpp *s, struct smpp_status *st);
const char *smpp_state_name(enum smpp_state st);

#endif
