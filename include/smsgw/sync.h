/*
 * sync: post response records to the upstream receiver (contract section 5).
 *
 * Records are sent as a JSON array in one HTTP(S) POST per batch, through
 * libcurl's multi interface plugged into ev, so the daemon never blocks on
 * the network.  sync never touches the database: the daemon hands it a
 * struct sync_source that reads and marks the outbox.
 *
 * Behaviour:
 *  - One request in flight at a time, batches in outbox order.
 *  - 2xx: mark_synced(), then the next batch at once.
 *  - 408, 429, 5xx, 3xx, any network error or timeout (and a source
 *    error): the same batch is retried forever, first, after an
 *    exponential backoff (backoff_min_ms doubling up to backoff_max_ms,
 *    +-20% jitter, never above backoff_max_ms).  A Retry-After given in
 *    seconds on 429/503 is honoured (capped at backoff_max_ms).
 *  - Any other 4xx: mark_failed() parks the batch (the daemon resets parked
 *    rows to pending on reload) and the next batch goes at once.
 *  - Headers: Content-Type: application/json, Idempotency-Key, and
 *    Authorization: Bearer TOKEN when token_file is set (the file is read
 *    and trimmed before every POST, so a rotated token needs no reload).
 *  - TLS peer and host verification are always on; ca_file replaces the
 *    system CA bundle.  libcurl's defaults are otherwise kept; in
 *    particular the http_proxy/https_proxy/no_proxy environment variables
 *    are honoured (systemd gives the daemon a clean environment).
 *    Redirects are not followed; only http and https are allowed.
 *  - Logs never hold a record body (nor the token).
 *
 * Idempotency-Key: hex SHA-256 over "smsgwd-sync-1\n" and, for each record
 * in order, "ID:BODYLEN:BODY\n".  It is derived, not stored: the same batch
 * (same outbox rows, same bodies) always gets the same key, across retries
 * and daemon restarts, and a changed record (a new revision is a new row
 * with a new body) gives a new key.  While a batch is being retried sync
 * keeps its own copy, so records added meanwhile do not change it.  A batch
 * regrouped after a restart or a change of upstream.batch gets a new key,
 * so the receiver should also dedupe on (response_id, revision): delivery
 * is at-least-once.
 */
#ifndef SMSGW_SYNC_H
#define SMSGW_SYNC_H

#include <stddef.h>
#include <stdint.h>

struct ev;
struct sync;

/* body: one JSON object, already redacted.  Borrowed (see next_batch). */
struct sync_record {
	int64_t id;
	const char *body;
};

/*
 * The outbox, provided by the daemon.  Callbacks run from the event loop
 * and must not call sync_reconfigure() or sync_free() (sync_kick() and
 * sync_get_status() are fine).  Each returns 0 on success, -1 on error
 * (next_batch: the count).
 */
struct sync_source {
	/*
	 * Point *recs at up to max pending records (not synced, not parked)
	 * in outbox order; return their count, 0 when none, -1 on error
	 * (retried with backoff).  The records stay owned by the source and
	 * valid until its next call; sync copies what it keeps.
	 */
	int (*next_batch)(void *arg, size_t max,
	    const struct sync_record **recs);
	/* The batch with these ids was accepted (2xx): mark them synced.
	 * batch_key is the Idempotency-Key it was sent with.  On -1 the
	 * records are fetched and posted again after a backoff. */
	int (*mark_synced)(void *arg, const int64_t *ids, size_t n,
	    const char *batch_key);
	/* The batch was refused with a non-retryable 4xx: park these rows as
	 * failed; reason is e.g. "HTTP 400". */
	int (*mark_failed)(void *arg, const int64_t *ids, size_t n,
	    const char *reason);
};

#define SYNC_DEFAULT_BATCH		100
#define SYNC_DEFAULT_TIMEOUT_S		10
#define SYNC_DEFAULT_BACKOFF_MIN_MS	1000
#define SYNC_DEFAULT_BACKOFF_MAX_MS	300000

/*
 * Settings; sync copies the strings.  NULL and "" are the same.  Zero
 * numeric fields take the defaults above.
 */
struct sync_config {
	const char *url;	/* "" = disabled: no libcurl at all */
	size_t batch;		/* records per POST */
	unsigned timeout_s;	/* whole request (connect included) */
	const char *token_file;	/* "" = no Authorization header */
	const char *ca_file;	/* "" = the system CA bundle */
	unsigned backoff_min_ms; /* first retry delay */
	unsigned backoff_max_ms; /* cap */
};

enum sync_state {
	SYNC_STATE_DISABLED,	/* no url */
	SYNC_STATE_IDLE,	/* nothing pending (waiting for sync_kick) */
	SYNC_STATE_POSTING,	/* a request is in flight */
	SYNC_STATE_BACKOFF	/* waiting to retry */
};

struct sync_status {
	enum sync_state state;
	long last_http_status;	/* of the last answered request; 0 none */
	char last_error[256];	/* "" after a success; "HTTP 503", curl's
				 * message, "token_file: ..." otherwise */
	unsigned consecutive_failures; /* retryable failures in a row */
	int64_t next_retry_in_ms; /* BACKOFF only, else -1 */
	uint64_t posted_batches;  /* accepted (2xx) since sync_new */
	uint64_t posted_records;
	uint64_t parked_batches;  /* refused with a 4xx since sync_new */
	uint64_t parked_records;
};

/*
 * Create the uploader.  src and arg are borrowed for its lifetime.  When
 * enabled it looks for pending records on the first loop pass.  Returns
 * NULL (after logging) only when libcurl cannot be set up.
 */
struct sync *sync_new(struct ev *ev, const struct sync_config *cfg,
    const struct sync_source *src, void *arg);
/* Abandons a request in flight (its records stay pending).  NULL is ok. */
void sync_free(struct sync *s);

/* New records were added: post now if idle (no-op while posting, in
 * backoff or disabled). */
void sync_kick(struct sync *s);

/*
 * Apply a new config (after reload): abandons any request in flight and
 * any backoff, forgets the held batch and starts again from the source.
 * Returns 0, or -1 when libcurl cannot be set up (then disabled).
 */
int sync_reconfigure(struct sync *s, const struct sync_config *cfg);

void sync_get_status(struct sync *s, struct sync_status *st);
/* "disabled", "idle", "posting", "backoff". */
const char *sync_state_name(enum sync_state state);

#endif
