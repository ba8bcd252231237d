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

#endif
