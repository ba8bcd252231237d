/*
 * store: sqlite in WAL mode.  Statements used on hot paths are prepared
 * once at open.  Migrations are an ordered list of SQL scripts; script i
 * takes the schema from user_version i to i + 1 inside one transaction, so
 * a crash during a migration leaves the old version intact.
 */
#include "smsgw/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smsgw/log.h"
#include "smsgw/util.h"

static const char *const migrations[] = {
	/* 0 -> 1: the whole contract's schema. */
	"CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE counters (name TEXT PRIMARY KEY,"
	" value INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE unit_rates (unit TEXT PRIMARY KEY, rate REAL NOT NULL,"
	" set_at INTEGER NOT NULL);"
	/* A visit from the spool; phone is clear only while needed. */
	"CREATE TABLE visits ("
	" visit_id TEXT PRIMARY KEY, unit TEXT NOT NULL, phone TEXT,"
	" phone_hmac TEXT NOT NULL, ended_at INTEGER NOT NULL,"
	" lang TEXT NOT NULL, age INTEGER, flags INTEGER NOT NULL DEFAULT 0,"
	" received_at INTEGER NOT NULL, state TEXT NOT NULL,"
	" verdict TEXT, sampled INTEGER, send_at INTEGER, source TEXT);"
	"CREATE INDEX visits_state ON visits(state, send_at);"
	"CREATE INDEX visits_unit ON visits(unit);"
	/* Invitations per person and unit, for the caps. */
	"CREATE TABLE invitations (phone_hmac TEXT NOT NULL,"
	" unit TEXT NOT NULL, invited_at INTEGER NOT NULL);"
	"CREATE INDEX invitations_phone ON invitations(phone_hmac, invited_at);"
	"CREATE INDEX invitations_unit ON invitations(unit, invited_at);"
	/* One survey conversation per invited visit. */
	"CREATE TABLE conversations ("
	" id INTEGER PRIMARY KEY, visit_id TEXT NOT NULL UNIQUE,"
	" unit TEXT NOT NULL, phone TEXT, phone_hmac TEXT NOT NULL,"
	" modem TEXT, lang TEXT NOT NULL, state TEXT NOT NULL,"
	" step INTEGER NOT NULL DEFAULT 0,"
	" invalid_count INTEGER NOT NULL DEFAULT 0,"
	" reprompts INTEGER NOT NULL DEFAULT 0,"
	" invited_at INTEGER, delivered_at INTEGER, last_activity INTEGER,"
	" expires_at INTEGER, closed_at INTEGER, status TEXT, data TEXT);"
	"CREATE INDEX conversations_phone ON conversations(phone_hmac, state);"
	"CREATE INDEX conversations_expiry ON conversations(state, expires_at);"
	/* The response record (contract section 5), redacted. */
	"CREATE TABLE responses ("
	" response_id TEXT PRIMARY KEY, conversation_id INTEGER UNIQUE,"
	" visit_id TEXT NOT NULL, unit TEXT NOT NULL, lang TEXT NOT NULL,"
	" revision INTEGER NOT NULL DEFAULT 1, invited_at INTEGER,"
	" answered_at INTEGER, status TEXT NOT NULL, kind TEXT, score INTEGER,"
	" comment TEXT, followup TEXT, statements TEXT NOT NULL DEFAULT '{}',"
	" late TEXT NOT NULL DEFAULT '[]', updated_at INTEGER NOT NULL,"
	" record TEXT);"
	"CREATE INDEX responses_updated ON responses(updated_at);"
	/* Outbound SMS and their PDU parts: the exactly-once queue. */
	"CREATE TABLE sms_out ("
	" id INTEGER PRIMARY KEY, conversation_id INTEGER, purpose TEXT NOT NULL,"
	" modem TEXT, phone TEXT, text TEXT, state TEXT NOT NULL,"
	" created_at INTEGER NOT NULL, not_before INTEGER NOT NULL DEFAULT 0,"
	" done_at INTEGER);"
	"CREATE INDEX sms_out_state ON sms_out(state, not_before);"
	"CREATE INDEX sms_out_purpose ON sms_out(purpose, state, id);"
	"CREATE TABLE sms_out_parts ("
	" msg_id INTEGER NOT NULL, seq INTEGER NOT NULL, pdu TEXT NOT NULL,"
	" tpdu_len INTEGER NOT NULL, state TEXT NOT NULL, modem TEXT,"
	" storage_index INTEGER, mr INTEGER, attempts INTEGER NOT NULL DEFAULT 0,"
	" next_attempt_at INTEGER NOT NULL DEFAULT 0, last_error TEXT,"
	" sent_at INTEGER, delivered_at INTEGER, PRIMARY KEY (msg_id, seq));"
	"CREATE INDEX sms_out_parts_mr ON sms_out_parts(modem, mr);"
	/* Inbound SMS parts, deduplicated; text is kept until processed. */
	"CREATE TABLE sms_in ("
	" id INTEGER PRIMARY KEY, modem TEXT NOT NULL, sender TEXT NOT NULL,"
	" smsc_ts INTEGER NOT NULL, ref INTEGER NOT NULL DEFAULT 0,"
	" total INTEGER NOT NULL DEFAULT 1, seq INTEGER NOT NULL DEFAULT 1,"
	" text TEXT, received_at INTEGER NOT NULL, state TEXT NOT NULL,"
	" digest TEXT NOT NULL DEFAULT '',"
	" UNIQUE (sender, smsc_ts, ref, seq, digest));"
	"CREATE INDEX sms_in_state ON sms_in(state);"
	/* Global opt-out list, by phone HMAC only. */
	"CREATE TABLE suppression (phone_hmac TEXT PRIMARY KEY,"
	" added_at INTEGER NOT NULL, source TEXT NOT NULL);"
	/* Replies that need a person; never leaves the box. */
	"CREATE TABLE review (id INTEGER PRIMARY KEY, reason TEXT NOT NULL,"
	" conversation_id INTEGER, received_at INTEGER NOT NULL,"
	" text TEXT NOT NULL, resolved_at INTEGER, resolution TEXT);"
	/* Upstream outbox: one row per record revision, sent in id order. */
	"CREATE TABLE outbox (id INTEGER PRIMARY KEY, record_id TEXT NOT NULL,"
	" revision INTEGER NOT NULL, body TEXT NOT NULL, state TEXT NOT NULL,"
	" batch_key TEXT, attempts INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT, created_at INTEGER NOT NULL, sent_at INTEGER,"
	" UNIQUE (record_id, revision));"
	"CREATE INDEX outbox_state ON outbox(state, id);",
};

#define NMIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

enum stmt_id {
	ST_SETTING_SET,
	ST_SETTING_GET,
	ST_RATE_SET,
	ST_RATE_CLEAR,
	ST_RATE_GET,
	ST_COUNTER_ADD,
	ST_COUNTER_GET,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	"INSERT INTO settings(key, value) VALUES (?1, ?2)"
	" ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	"SELECT value FROM settings WHERE key = ?1",
	"INSERT INTO unit_rates(unit, rate, set_at) VALUES (?1, ?2, ?3)"
	" ON CONFLICT(unit) DO UPDATE SET rate = excluded.rate,"
	" set_at = excluded.set_at",
	"DELETE FROM unit_rates WHERE unit = ?1",
	"SELECT rate FROM unit_rates WHERE unit = ?1",
	"INSERT INTO counters(name, value) VALUES (?1, ?2)"
	" ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
	"SELECT value FROM counters WHERE name = ?1",
};

#define STORE_CACHE_MAX 96

/* A prepared statement kept for reuse, keyed by its SQL text's address
 * (every query here is a string literal). */
struct store_cached {
	const char *sql;
	sqlite3_stmt *stmt;
	bool busy;
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT];
	char journal[16];
	struct store_cached cache[STORE_CACHE_MAX];
	size_t ncache;
};

static int
store_exec(struct store *st, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		log_warnx("store", "%s", err != NULL ? err : "exec failed");
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

static int
store_pragma_int(struct store *st, const char *sql)
{
	sqlite3_stmt *s;
	int v = -1;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

static int
store_migrate(struct store *st, char **errmsg)
{
	int v = store_pragma_int(st, "PRAGMA user_version");
	size_t i;

	if (v < 0) {
		*errmsg = xasprintf("cannot read schema version: %s",
		    sqlite3_errmsg(st->db));
		return -1;
	}
	if ((size_t)v > NMIGRATIONS) {
		*errmsg = xasprintf("database schema %d is newer than this "
		    "smsgwd (%zu); refusing to touch it", v, NMIGRATIONS);
		return -1;
	}
	for (i = (size_t)v; i < NMIGRATIONS; i++) {
		char pragma[64];

		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %zu",
		    i + 1);
		if (store_exec(st, "BEGIN IMMEDIATE") == -1)
			goto fail;
		if (store_exec(st, migrations[i]) == -1 ||
		    store_exec(st, pragma) == -1) {
			store_exec(st, "ROLLBACK");
			goto fail;
		}
		if (store_exec(st, "COMMIT") == -1)
			goto fail;
		log_info("store", "schema migrated to version %zu", i + 1);
	}
	return 0;
fail:
	*errmsg = xasprintf("schema migration failed: %s",
	    sqlite3_errmsg(st->db));
	return -1;
}

struct store *
store_open(const char *path, char **errmsg)
{
	struct store *st = xcalloc(1, sizeof(*st));
	sqlite3_stmt *s;
	int i;

	*errmsg = NULL;
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		*errmsg = xasprintf("cannot open %s: %s", path,
		    st->db != NULL ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(st->db, 5000);
	if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s,
	    NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			strlcpy_s(st->journal,
			    (const char *)sqlite3_column_text(s, 0),
			    sizeof(st->journal));
		sqlite3_finalize(s);
	}
	if (strcmp(st->journal, "wal") != 0) {
		*errmsg = xasprintf("%s: cannot switch to WAL mode (%s)", path,
		    st->journal[0] ? st->journal : sqlite3_errmsg(st->db));
		goto fail;
	}
	/* WAL + NORMAL is durable across process crashes (kill -9); FULL
	 * also across power loss, which a gateway box can suffer. */
	if (store_exec(st, "PRAGMA synchronous = FULL") == -1 ||
	    store_exec(st, "PRAGMA foreign_keys = ON") == -1) {
		*errmsg = xasprintf("%s: %s", path, sqlite3_errmsg(st->db));
		goto fail;
	}
	if (store_migrate(st, errmsg) == -1)
		goto fail;
	for (i = 0; i < ST_COUNT; i++)
		if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL) != SQLITE_OK) {
			*errmsg = xasprintf("prepare: %s",
			    sqlite3_errmsg(st->db));
			goto fail;
		}
	return st;
fail:
	store_close(st);
	return NULL;
}

void
store_close(struct store *st)
{
	int i;

	if (st == NULL)
		return;
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	for (i = 0; i < (int)st->ncache; i++)
		sqlite3_finalize(st->cache[i].stmt);
	if (st->db != NULL)
		sqlite3_close(st->db);
	free(st);
}

int
store_begin(struct store *st)
{
	return store_exec(st, "BEGIN IMMEDIATE");
}

int
store_savepoint(struct store *st)
{
	return store_exec(st, "SAVEPOINT unit");
}

int
store_savepoint_keep(struct store *st)
{
	return store_exec(st, "RELEASE unit");
}

void
store_savepoint_undo(struct store *st)
{
	store_exec(st, "ROLLBACK TO unit");
	store_exec(st, "RELEASE unit");
}

bool
store_in_transaction(struct store *st)
{
	return sqlite3_get_autocommit(st->db) == 0;
}

int
store_commit(struct store *st)
{
	return store_exec(st, "COMMIT");
}

void
store_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		store_exec(st, "ROLLBACK");
}

int
store_schema_version(struct store *st)
{
	return store_pragma_int(st, "PRAGMA user_version");
}

const char *
store_journal_mode(struct store *st)
{
	return st->journal;
}

const char *
store_errmsg(struct store *st)
{
	return sqlite3_errmsg(st->db);
}

/* Step a write statement to completion and reset it. */
static int
store_step_done(struct store *st, sqlite3_stmt *s)
{
	int r = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (r != SQLITE_DONE) {
		log_warnx("store", "%s", sqlite3_errmsg(st->db));
		return -1;
	}
	return 0;
}

int
store_setting_set(struct store *st, const char *key, const char *val)
{
	sqlite3_stmt *s = st->stmt[ST_SETTING_SET];

	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, val, -1, SQLITE_STATIC);
	return store_step_done(st, s);
}

char *
store_setting_get(struct store *st, const char *key)
{
	sqlite3_stmt *s = st->stmt[ST_SETTING_GET];
	char *v = NULL;

	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = xstrdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return v;
}

int
store_rate_set(struct store *st, const char *unit, double rate, int64_t now)
{
	sqlite3_stmt *s = st->stmt[ST_RATE_SET];

	sqlite3_bind_text(s, 1, unit, -1, SQLITE_STATIC);
	sqlite3_bind_double(s, 2, rate);
	sqlite3_bind_int64(s, 3, now);
	return store_step_done(st, s);
}

int
store_rate_clear(struct store *st, const char *unit)
{
	sqlite3_stmt *s = st->stmt[ST_RATE_CLEAR];

	sqlite3_bind_text(s, 1, unit, -1, SQLITE_STATIC);
	return store_step_done(st, s);
}

int
store_rate_get(struct store *st, const char *unit, double *rate)
{
	sqlite3_stmt *s = st->stmt[ST_RATE_GET];
	int r, found = 0;

	sqlite3_bind_text(s, 1, unit, -1, SQLITE_STATIC);
	r = sqlite3_step(s);
	if (r == SQLITE_ROW) {
		*rate = sqlite3_column_double(s, 0);
		found = 1;
	} else if (r != SQLITE_DONE)
		found = -1;
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return found;
}

int
store_counter_add(struct store *st, const char *name, int64_t delta)
{
	sqlite3_stmt *s = st->stmt[ST_COUNTER_ADD];

	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, delta);
	return store_step_done(st, s);
}

int64_t
store_counter_get(struct store *st, const char *name)
{
	sqlite3_stmt *s = st->stmt[ST_COUNTER_GET];
	int64_t v = 0;

	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return v;
}

/* --- outbound SMS ---------------------------------------------------- */

/* One-off statements: prepared per call (cached by sqlite's own
 * statement cache would need a wrapper; these run a few times per SMS). */
/*
 * A statement for sql, prepared once and reused (preparing costs more
 * than running most of these).  Give it back with store_done().  A
 * statement already in use (re-entrancy) gets a fresh, uncached one.
 */
static sqlite3_stmt *
store_prep(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;
	size_t i;

	for (i = 0; i < st->ncache; i++)
		if (st->cache[i].sql == sql && !st->cache[i].busy) {
			st->cache[i].busy = true;
			return st->cache[i].stmt;
		}
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s,
	    NULL) != SQLITE_OK) {
		log_warnx("store", "prepare: %s", sqlite3_errmsg(st->db));
		return NULL;
	}
	for (i = 0; i < st->ncache; i++)
		if (st->cache[i].sql == sql)
			return s;	/* in use: this one stays uncached */
	if (st->ncache < STORE_CACHE_MAX) {
		st->cache[st->ncache].sql = sql;
		st->cache[st->ncache].stmt = s;
		st->cache[st->ncache].busy = true;
		st->ncache++;
	}
	return s;
}

/* Give back a statement from store_prep(). */
static void
store_done(struct store *st, sqlite3_stmt *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < st->ncache; i++)
		if (st->cache[i].stmt == s) {
			sqlite3_reset(s);
			sqlite3_clear_bindings(s);
			st->cache[i].busy = false;
			return;
		}
	sqlite3_finalize(s);
}

static int
store_run(struct store *st, sqlite3_stmt *s)
{
	int r;

	if (s == NULL)
		return -1;
	r = sqlite3_step(s);
	store_done(st, s);
	if (r != SQLITE_DONE && r != SQLITE_ROW) {
		log_warnx("store", "%s", sqlite3_errmsg(st->db));
		return -1;
	}
	return 0;
}

static void
bind_text_or_null(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL || v[0] == '\0')
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

static void
col_text(sqlite3_stmt *s, int i, char *dst, size_t len)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	strlcpy_s(dst, t != NULL ? (const char *)t : "", len);
}

/* One integer from sql (0 when it yields no row), with ?1 bound to v. */
static int64_t
store_scalar_i(struct store *st, const char *sql, int64_t v)
{
	sqlite3_stmt *s = store_prep(st, sql);
	int64_t r = 0;

	if (s == NULL)
		return 0;
	sqlite3_bind_int64(s, 1, v);
	if (sqlite3_step(s) == SQLITE_ROW)
		r = sqlite3_column_int64(s, 0);
	store_done(st, s);
	return r;
}

/* One integer from sql, with ?1 = a (if not NULL) and ?2 = b (if used). */
static int64_t
store_scalar(struct store *st, const char *sql, const char *a, int64_t b)
{
	sqlite3_stmt *s = store_prep(st, sql);
	int64_t v = -1;

	if (s == NULL)
		return -1;
	if (a != NULL)
		sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(s) >= 2)
		sqlite3_bind_int64(s, 2, b);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	store_done(st, s);
	return v;
}

int
store_sms_out_add(struct store *st, int64_t conversation_id,
    const char *purpose, const char *modem, const char *phone,
    const char *text, const char *const *pdus, const unsigned *tpdu_lens,
    size_t n, int64_t now, int64_t *msg_id)
{
	bool own = sqlite3_get_autocommit(st->db) != 0;
	sqlite3_stmt *s;
	int64_t id;
	size_t i;

	if (own && store_begin(st) == -1)
		return -1;
	s = store_prep(st, "INSERT INTO sms_out(conversation_id, purpose, "
	    "modem, phone, text, state, created_at) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, 'queued', ?6)");
	if (s == NULL)
		goto fail;
	if (conversation_id > 0)
		sqlite3_bind_int64(s, 1, conversation_id);
	sqlite3_bind_text(s, 2, purpose, -1, SQLITE_STATIC);
	bind_text_or_null(s, 3, modem);
	sqlite3_bind_text(s, 4, phone, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, now);
	if (store_run(st, s) == -1)
		goto fail;
	id = sqlite3_last_insert_rowid(st->db);
	for (i = 0; i < n; i++) {
		s = store_prep(st, "INSERT INTO sms_out_parts(msg_id, seq, pdu, "
		    "tpdu_len, state, modem) VALUES (?1, ?2, ?3, ?4, 'queued',"
		    " ?5)");
		if (s == NULL)
			goto fail;
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_int(s, 2, (int)i + 1);
		sqlite3_bind_text(s, 3, pdus[i], -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 4, (int)tpdu_lens[i]);
		bind_text_or_null(s, 5, modem);
		if (store_run(st, s) == -1)
			goto fail;
	}
	if (own && store_commit(st) == -1)
		goto fail;
	*msg_id = id;
	return 0;
fail:
	if (own)
		store_rollback(st);
	return -1;
}

#define PART_COLS "p.msg_id, p.seq, (SELECT count(*) FROM sms_out_parts q " \
	"WHERE q.msg_id = p.msg_id), coalesce(m.conversation_id, 0), " \
	"m.purpose, p.pdu, p.tpdu_len, p.state, coalesce(p.modem, ''), " \
	"coalesce(p.storage_index, -1), coalesce(p.mr, -1), p.attempts, " \
	"p.next_attempt_at FROM sms_out_parts p JOIN sms_out m " \
	"ON m.id = p.msg_id "

static void
part_from_row(sqlite3_stmt *s, struct store_part *p)
{
	memset(p, 0, sizeof(*p));
	p->msg_id = sqlite3_column_int64(s, 0);
	p->seq = sqlite3_column_int(s, 1);
	p->nparts = sqlite3_column_int(s, 2);
	p->conversation_id = sqlite3_column_int64(s, 3);
	col_text(s, 4, p->purpose, sizeof(p->purpose));
	col_text(s, 5, p->pdu, sizeof(p->pdu));
	p->tpdu_len = sqlite3_column_int(s, 6);
	col_text(s, 7, p->state, sizeof(p->state));
	col_text(s, 8, p->modem, sizeof(p->modem));
	p->storage_index = sqlite3_column_int(s, 9);
	p->mr = sqlite3_column_int(s, 10);
	p->attempts = sqlite3_column_int(s, 11);
	p->next_attempt_at = sqlite3_column_int64(s, 12);
}

/* Step s for at most one part row; 1 found, 0 none, -1 error. */
static int
part_one(struct store *st, sqlite3_stmt *s, struct store_part *out)
{
	int r = sqlite3_step(s);

	if (r == SQLITE_ROW)
		part_from_row(s, out);
	store_done(st, s);
	return r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
}

int
store_sms_part_next(struct store *st, const char *modem, int64_t now,
    bool invitations, struct store_part *out)
{
	sqlite3_stmt *s = store_prep(st, "SELECT " PART_COLS
	    "WHERE p.state = 'queued' AND p.next_attempt_at <= ?2 AND "
	    "(p.modem IS NULL OR p.modem = ?1) AND (?3 OR p.seq > 1 OR "
	    "m.purpose <> 'invitation') ORDER BY p.msg_id, p.seq LIMIT 1");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, modem, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_int(s, 3, invitations ? 1 : 0);
	return part_one(st, s, out);
}

int64_t
store_sms_next_retry(struct store *st, int64_t now)
{
	return store_scalar_i(st, "SELECT coalesce(min(next_attempt_at), 0) "
	    "FROM sms_out_parts WHERE state = 'queued' AND next_attempt_at > "
	    "?1", now);
}

int
store_sms_part_update(struct store *st, const struct store_part *p,
    const char *last_error, int64_t now)
{
	sqlite3_stmt *s = store_prep(st, "UPDATE sms_out_parts SET state = ?3,"
	    " modem = ?4, storage_index = ?5, mr = ?6, attempts = ?7, "
	    "next_attempt_at = ?8, last_error = coalesce(?9, last_error), "
	    "sent_at = CASE WHEN ?3 = 'sent' AND sent_at IS NULL THEN ?10 "
	    "ELSE sent_at END, delivered_at = CASE WHEN ?3 = 'delivered' "
	    "THEN ?10 ELSE delivered_at END WHERE msg_id = ?1 AND seq = ?2");

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, p->msg_id);
	sqlite3_bind_int(s, 2, p->seq);
	sqlite3_bind_text(s, 3, p->state, -1, SQLITE_STATIC);
	bind_text_or_null(s, 4, p->modem);
	if (p->storage_index >= 0)
		sqlite3_bind_int(s, 5, p->storage_index);
	if (p->mr >= 0)
		sqlite3_bind_int(s, 6, p->mr);
	sqlite3_bind_int(s, 7, p->attempts);
	sqlite3_bind_int64(s, 8, p->next_attempt_at);
	if (last_error != NULL)
		sqlite3_bind_text(s, 9, last_error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 10, now);
	if (store_run(st, s) == -1)
		return -1;
	/* Settle the message once every part is final. */
	s = store_prep(st, "UPDATE sms_out SET state = CASE "
	    "WHEN EXISTS (SELECT 1 FROM sms_out_parts WHERE msg_id = ?1 AND "
	    "state = 'failed') THEN 'failed' "
	    "WHEN EXISTS (SELECT 1 FROM sms_out_parts WHERE msg_id = ?1 AND "
	    "state = 'uncertain') AND NOT EXISTS (SELECT 1 FROM sms_out_parts "
	    "WHERE msg_id = ?1 AND state NOT IN ('sent', 'delivered', "
	    "'uncertain')) THEN 'uncertain' "
	    "WHEN NOT EXISTS (SELECT 1 FROM sms_out_parts WHERE msg_id = ?1 "
	    "AND state <> 'delivered') THEN 'delivered' "
	    "WHEN NOT EXISTS (SELECT 1 FROM sms_out_parts WHERE msg_id = ?1 "
	    "AND state NOT IN ('sent', 'delivered')) THEN 'sent' "
	    "ELSE 'sending' END, done_at = CASE WHEN done_at IS NULL AND "
	    "NOT EXISTS (SELECT 1 FROM sms_out_parts WHERE msg_id = ?1 AND "
	    "state NOT IN ('sent', 'delivered', 'failed', 'uncertain')) "
	    "THEN ?2 ELSE done_at END WHERE id = ?1");
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, p->msg_id);
	sqlite3_bind_int64(s, 2, now);
	return store_run(st, s);
}

int
store_sms_out_pin(struct store *st, int64_t msg_id, const char *modem)
{
	sqlite3_stmt *s = store_prep(st, "UPDATE sms_out SET modem = ?2 "
	    "WHERE id = ?1");

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, msg_id);
	sqlite3_bind_text(s, 2, modem, -1, SQLITE_STATIC);
	if (store_run(st, s) == -1)
		return -1;
	s = store_prep(st, "UPDATE sms_out_parts SET modem = ?2 WHERE "
	    "msg_id = ?1");
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, msg_id);
	sqlite3_bind_text(s, 2, modem, -1, SQLITE_STATIC);
	return store_run(st, s);
}

int
store_sms_parts_inflight(struct store *st, const char *modem,
    store_part_cb cb, void *arg)
{
	sqlite3_stmt *s = store_prep(st, "SELECT " PART_COLS
	    "WHERE p.modem = ?1 AND (p.state IN ('writing', 'stored', "
	    "'sending', 'submitting') OR (p.state IN ('sent', 'delivered') "
	    "AND p.storage_index IS NOT NULL)) ORDER BY p.msg_id, p.seq");
	struct store_part p;
	int r;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, modem, -1, SQLITE_STATIC);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		part_from_row(s, &p);
		cb(&p, arg);
	}
	store_done(st, s);
	return r == SQLITE_DONE ? 0 : -1;
}

int
store_sms_part_by_mr(struct store *st, const char *modem, int mr,
    struct store_part *out)
{
	sqlite3_stmt *s = store_prep(st, "SELECT " PART_COLS
	    "WHERE p.modem = ?1 AND p.mr = ?2 AND p.state IN ('sent', "
	    "'delivered') ORDER BY p.sent_at DESC, p.msg_id DESC LIMIT 1");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, modem, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, mr);
	return part_one(st, s, out);
}

char *
store_sms_out_state(struct store *st, int64_t msg_id)
{
	sqlite3_stmt *s = store_prep(st, "SELECT state FROM sms_out WHERE "
	    "id = ?1");
	char *v = NULL;

	if (s == NULL)
		return NULL;
	sqlite3_bind_int64(s, 1, msg_id);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = xstrdup((const char *)sqlite3_column_text(s, 0));
	store_done(st, s);
	return v;
}

int64_t
store_sms_out_count(struct store *st, const char *state)
{
	return store_scalar(st, "SELECT count(*) FROM sms_out WHERE state = ?1",
	    state, 0);
}

int
store_sms_out_forget(struct store *st, int64_t msg_id)
{
	sqlite3_stmt *s = store_prep(st, "UPDATE sms_out SET text = NULL "
	    "WHERE id = ?1");

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, msg_id);
	return store_run(st, s);
}

/* --- inbound SMS ------------------------------------------------------ */

int
store_sms_in_add(struct store *st, const char *modem, const char *sender,
    int64_t smsc_ts, int ref, int total, int seq, const char *text,
    int64_t now)
{
	sqlite3_stmt *s = store_prep(st, "INSERT OR IGNORE INTO sms_in(modem, "
	    "sender, smsc_ts, ref, total, seq, text, received_at, state, "
	    "digest) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'new', ?9)");
	uint64_t h = 14695981039346656037ULL;	/* FNV-1a of the text */
	const unsigned char *p;
	char digest[17];

	if (s == NULL)
		return -1;
	/* The SMSC timestamp has one-second resolution: two different
	 * texts from one sender in one second are two messages, while a
	 * copy of the same one read twice (crash before +CMGD) is not. */
	for (p = (const unsigned char *)text; *p != '\0'; p++)
		h = (h ^ *p) * 1099511628211ULL;
	snprintf(digest, sizeof(digest), "%016llx", (unsigned long long)h);
	sqlite3_bind_text(s, 9, digest, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 1, modem, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, sender, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, smsc_ts);
	sqlite3_bind_int(s, 4, ref);
	sqlite3_bind_int(s, 5, total);
	sqlite3_bind_int(s, 6, seq);
	sqlite3_bind_text(s, 7, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 8, now);
	if (store_run(st, s) == -1)
		return -1;
	return sqlite3_changes(st->db) > 0 ? 1 : 0;
}

int
store_sms_in_ready(struct store *st, int64_t incomplete_before,
    store_inbound_cb cb, void *arg)
{
	/* Singles are their own group; parts group by sender, ref, total.
	 * Everything is collected first, so the callbacks may write. */
	sqlite3_stmt *g = store_prep(st, "SELECT min(id), modem, sender, ref, "
	    "total, count(DISTINCT seq), min(received_at) FROM sms_in "
	    "WHERE state = 'new' GROUP BY sender, ref, total, "
	    "CASE WHEN total > 1 THEN 0 ELSE id END ORDER BY min(id)");
	struct store_inbound *v = NULL;
	size_t n = 0, i;
	int r;

	if (g == NULL)
		return -1;
	while ((r = sqlite3_step(g)) == SQLITE_ROW) {
		struct store_inbound in;
		int have;

		memset(&in, 0, sizeof(in));
		in.first_id = sqlite3_column_int64(g, 0);
		col_text(g, 1, in.modem, sizeof(in.modem));
		col_text(g, 2, in.sender, sizeof(in.sender));
		in.ref = sqlite3_column_int(g, 3);
		in.total = sqlite3_column_int(g, 4);
		have = sqlite3_column_int(g, 5);
		in.received_at = sqlite3_column_int64(g, 6);
		in.incomplete = have < in.total;
		if (in.incomplete && in.received_at >= incomplete_before)
			continue;
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = in;
	}
	store_done(st, g);
	for (i = 0; i < n; i++) {
		struct store_inbound *in = &v[i];
		sqlite3_stmt *p;
		size_t len = 0;
		char *text = xstrdup("");

		if (in->total > 1) {
			p = store_prep(st, "SELECT text FROM sms_in WHERE "
			    "state = 'new' AND sender = ?1 AND ref = ?2 AND "
			    "total = ?3 GROUP BY seq ORDER BY seq");
			if (p != NULL) {
				sqlite3_bind_text(p, 1, in->sender, -1,
				    SQLITE_STATIC);
				sqlite3_bind_int(p, 2, in->ref);
				sqlite3_bind_int(p, 3, in->total);
			}
		} else {
			p = store_prep(st, "SELECT text FROM sms_in WHERE "
			    "id = ?1");
			if (p != NULL)
				sqlite3_bind_int64(p, 1, in->first_id);
		}
		while (p != NULL && sqlite3_step(p) == SQLITE_ROW) {
			const char *t = (const char *)sqlite3_column_text(p, 0);
			size_t tl = t != NULL ? strlen(t) : 0;

			text = xrealloc(text, len + tl + 1);
			memcpy(text + len, t != NULL ? t : "", tl);
			len += tl;
			text[len] = '\0';
		}
		store_done(st, p);
		in->text = text;
	}
	for (i = 0; i < n; i++) {
		cb(&v[i], arg);
		free(v[i].text);
	}
	free(v);
	return r == SQLITE_DONE ? 0 : -1;
}

int
store_sms_in_done(struct store *st, const struct store_inbound *in)
{
	sqlite3_stmt *s;

	if (in->total > 1) {
		s = store_prep(st, "UPDATE sms_in SET state = 'processed', "
		    "text = NULL WHERE state = 'new' AND sender = ?1 AND "
		    "ref = ?2 AND total = ?3");
		if (s == NULL)
			return -1;
		sqlite3_bind_text(s, 1, in->sender, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 2, in->ref);
		sqlite3_bind_int(s, 3, in->total);
	} else {
		s = store_prep(st, "UPDATE sms_in SET state = 'processed', "
		    "text = NULL WHERE id = ?1");
		if (s == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, in->first_id);
	}
	return store_run(st, s);
}

int64_t
store_sms_in_count(struct store *st, const char *state)
{
	return store_scalar(st, "SELECT count(*) FROM sms_in WHERE state = ?1",
	    state, 0);
}

/* --- visits ------------------------------------------------------------ */

#define VISIT_COLS "visit_id, unit, coalesce(phone, ''), phone_hmac, " \
	"ended_at, lang, coalesce(age, -1), flags, state, " \
	"coalesce(verdict, ''), coalesce(sampled, -1), coalesce(send_at, 0), " \
	"coalesce(source, '')"

static void
visit_from_row(sqlite3_stmt *s, struct store_visit *v)
{
	memset(v, 0, sizeof(*v));
	col_text(s, 0, v->visit_id, sizeof(v->visit_id));
	col_text(s, 1, v->unit, sizeof(v->unit));
	col_text(s, 2, v->phone, sizeof(v->phone));
	col_text(s, 3, v->phone_hmac, sizeof(v->phone_hmac));
	v->ended_at = sqlite3_column_int64(s, 4);
	col_text(s, 5, v->lang, sizeof(v->lang));
	v->age = sqlite3_column_int(s, 6);
	v->flags = (unsigned)sqlite3_column_int(s, 7);
	col_text(s, 8, v->state, sizeof(v->state));
	col_text(s, 9, v->verdict, sizeof(v->verdict));
	v->sampled = sqlite3_column_int(s, 10);
	v->send_at = sqlite3_column_int64(s, 11);
	col_text(s, 12, v->source, sizeof(v->source));
}

int
store_visit_insert(struct store *st, const struct store_visit *v,
    int64_t now)
{
	sqlite3_stmt *s = store_prep(st, "INSERT OR IGNORE INTO visits("
	    "visit_id, unit, phone, phone_hmac, ended_at, lang, age, flags, "
	    "received_at, state, verdict, sampled, send_at, source) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, v->visit_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, v->unit, -1, SQLITE_STATIC);
	bind_text_or_null(s, 3, v->phone);
	sqlite3_bind_text(s, 4, v->phone_hmac, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, v->ended_at);
	sqlite3_bind_text(s, 6, v->lang, -1, SQLITE_STATIC);
	if (v->age >= 0)
		sqlite3_bind_int(s, 7, v->age);
	sqlite3_bind_int(s, 8, (int)v->flags);
	sqlite3_bind_int64(s, 9, now);
	sqlite3_bind_text(s, 10, v->state, -1, SQLITE_STATIC);
	bind_text_or_null(s, 11, v->verdict);
	if (v->sampled >= 0)
		sqlite3_bind_int(s, 12, v->sampled);
	if (v->send_at > 0)
		sqlite3_bind_int64(s, 13, v->send_at);
	bind_text_or_null(s, 14, v->source);
	if (store_run(st, s) == -1)
		return -1;
	return sqlite3_changes(st->db) > 0 ? 1 : 0;
}

int
store_visit_cancel(struct store *st, const char *visit_id, int64_t now)
{
	sqlite3_stmt *s = store_prep(st, "UPDATE visits SET state = "
	    "'cancelled', phone = NULL WHERE visit_id = ?1 AND state IN "
	    "('scheduled', 'ineligible', 'not_sampled', 'stale')");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, visit_id, -1, SQLITE_STATIC);
	if (store_run(st, s) == -1)
		return -1;
	if (sqlite3_changes(st->db) > 0)
		return 1;
	s = store_prep(st, "INSERT OR IGNORE INTO visits(visit_id, unit, "
	    "phone_hmac, ended_at, lang, received_at, state) VALUES "
	    "(?1, '', '', 0, 'fi', ?2, 'cancelled')");
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, visit_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	if (store_run(st, s) == -1)
		return -1;
	return sqlite3_changes(st->db) > 0 ? 2 : 0;
}

int
store_visits_due(struct store *st, int64_t now, int limit,
    store_visit_cb cb, void *arg)
{
	sqlite3_stmt *s = store_prep(st, "SELECT " VISIT_COLS " FROM visits "
	    "WHERE state = 'scheduled' AND send_at <= ?1 ORDER BY send_at, "
	    "rowid LIMIT ?2");
	struct store_visit *v;
	size_t n = 0, i;
	int r;

	if (s == NULL)
		return -1;
	v = xcalloc((size_t)(limit > 0 ? limit : 1), sizeof(*v));
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int(s, 2, limit);
	while ((r = sqlite3_step(s)) == SQLITE_ROW && n < (size_t)limit)
		visit_from_row(s, &v[n++]);
	store_done(st, s);
	for (i = 0; i < n; i++)
		cb(&v[i], arg);
	free(v);
	return r == SQLITE_DONE || r == SQLITE_ROW ? (int)n : -1;
}

int
store_visit_set_state(struct store *st, const char *visit_id,
    const char *state, const char *verdict)
{
	sqlite3_stmt *s = store_prep(st, "UPDATE visits SET state = ?2, "
	    "verdict = coalesce(?3, verdict), phone = CASE WHEN ?2 IN "
	    "('invited') THEN phone ELSE NULL END WHERE visit_id = ?1");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, visit_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, state, -1, SQLITE_STATIC);
	if (verdict != NULL)
		sqlite3_bind_text(s, 3, verdict, -1, SQLITE_STATIC);
	return store_run(st, s);
}


int64_t
store_visits_count(struct store *st, const char *state)
{
	return store_scalar(st, "SELECT count(*) FROM visits WHERE state = ?1",
	    state, 0);
}

int64_t
store_visits_next_due(struct store *st)
{
	return store_scalar(st, "SELECT coalesce(min(send_at), 0) FROM visits "
	    "WHERE state = 'scheduled'", NULL, 0);
}

/* --- suppression and caps -------------------------------------------- */

int
store_suppressed(struct store *st, const char *phone_hmac)
{
	int64_t v = store_scalar(st, "SELECT count(*) FROM suppression WHERE "
	    "phone_hmac = ?1", phone_hmac, 0);

	return v < 0 ? -1 : v > 0;
}

int
store_suppress_add(struct store *st, const char *phone_hmac,
    const char *source, int64_t now)
{
	sqlite3_stmt *s = store_prep(st, "INSERT OR IGNORE INTO suppression("
	    "phone_hmac, added_at, source) VALUES (?1, ?2, ?3)");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, phone_hmac, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_text(s, 3, source, -1, SQLITE_STATIC);
	return store_run(st, s);
}

int
store_suppress_remove(struct store *st, const char *phone_hmac)
{
	sqlite3_stmt *s = store_prep(st, "DELETE FROM suppression WHERE "
	    "phone_hmac = ?1");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, phone_hmac, -1, SQLITE_STATIC);
	if (store_run(st, s) == -1)
		return -1;
	return sqlite3_changes(st->db) > 0 ? 1 : 0;
}

int64_t
store_invite_last(struct store *st, const char *phone_hmac)
{
	return store_scalar(st, "SELECT coalesce(max(invited_at), 0) FROM "
	    "invitations WHERE phone_hmac = ?1", phone_hmac, 0);
}

int64_t
store_invite_count(struct store *st, const char *unit, int64_t since)
{
	return store_scalar(st, "SELECT count(*) FROM invitations WHERE "
	    "unit = ?1 AND invited_at >= ?2", unit, since);
}

int
store_invite_add(struct store *st, const char *phone_hmac, const char *unit,
    int64_t now)
{
	sqlite3_stmt *s = store_prep(st, "INSERT INTO invitations(phone_hmac, "
	    "unit, invited_at) VALUES (?1, ?2, ?3)");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, phone_hmac, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, unit, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	return store_run(st, s);
}

/* --- conversations ----------------------------------------------------- */

#define CONV_COLS "id, visit_id, unit, coalesce(phone, ''), phone_hmac, " \
	"coalesce(modem, ''), lang, state, coalesce(status, ''), " \
	"coalesce(invited_at, 0), coalesce(delivered_at, 0), " \
	"coalesce(expires_at, 0), coalesce(closed_at, 0), data"

void
store_conv_clear(struct store_conv *c)
{
	free(c->data);
	memset(c, 0, sizeof(*c));
}

static void
conv_from_row(sqlite3_stmt *s, struct store_conv *c)
{
	const unsigned char *d;

	memset(c, 0, sizeof(*c));
	c->id = sqlite3_column_int64(s, 0);
	col_text(s, 1, c->visit_id, sizeof(c->visit_id));
	col_text(s, 2, c->unit, sizeof(c->unit));
	col_text(s, 3, c->phone, sizeof(c->phone));
	col_text(s, 4, c->phone_hmac, sizeof(c->phone_hmac));
	col_text(s, 5, c->modem, sizeof(c->modem));
	col_text(s, 6, c->lang, sizeof(c->lang));
	col_text(s, 7, c->state, sizeof(c->state));
	col_text(s, 8, c->status, sizeof(c->status));
	c->invited_at = sqlite3_column_int64(s, 9);
	c->delivered_at = sqlite3_column_int64(s, 10);
	c->expires_at = sqlite3_column_int64(s, 11);
	c->closed_at = sqlite3_column_int64(s, 12);
	d = sqlite3_column_text(s, 13);
	c->data = xstrdup(d != NULL ? (const char *)d : "{}");
}

static void
conv_bind(sqlite3_stmt *s, const struct store_conv *c)
{
	sqlite3_bind_text(s, 1, c->visit_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, c->unit, -1, SQLITE_STATIC);
	bind_text_or_null(s, 3, c->phone);
	sqlite3_bind_text(s, 4, c->phone_hmac, -1, SQLITE_STATIC);
	bind_text_or_null(s, 5, c->modem);
	sqlite3_bind_text(s, 6, c->lang, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, c->state, -1, SQLITE_STATIC);
	bind_text_or_null(s, 8, c->status);
	sqlite3_bind_int64(s, 9, c->invited_at);
	if (c->delivered_at > 0)
		sqlite3_bind_int64(s, 10, c->delivered_at);
	sqlite3_bind_int64(s, 11, c->expires_at);
	if (c->closed_at > 0)
		sqlite3_bind_int64(s, 12, c->closed_at);
	sqlite3_bind_text(s, 13, c->data != NULL ? c->data : "{}", -1,
	    SQLITE_STATIC);
}

int
store_conv_insert(struct store *st, struct store_conv *c)
{
	sqlite3_stmt *s = store_prep(st, "INSERT INTO conversations(visit_id, "
	    "unit, phone, phone_hmac, modem, lang, state, status, invited_at, "
	    "delivered_at, expires_at, closed_at, data) VALUES (?1, ?2, ?3, "
	    "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");

	if (s == NULL)
		return -1;
	conv_bind(s, c);
	if (store_run(st, s) == -1)
		return -1;
	c->id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int
store_conv_update(struct store *st, const struct store_conv *c)
{
	sqlite3_stmt *s = store_prep(st, "UPDATE conversations SET "
	    "visit_id = ?1, unit = ?2, phone = ?3, phone_hmac = ?4, modem = ?5,"
	    " lang = ?6, state = ?7, status = ?8, invited_at = ?9, "
	    "delivered_at = ?10, expires_at = ?11, closed_at = ?12, "
	    "data = ?13, last_activity = ?9 WHERE id = ?14");

	if (s == NULL)
		return -1;
	conv_bind(s, c);
	sqlite3_bind_int64(s, 14, c->id);
	return store_run(st, s);
}

static int
conv_one(struct store *st, sqlite3_stmt *s, struct store_conv *c)
{
	int r;

	(void)st;
	if (s == NULL)
		return -1;
	r = sqlite3_step(s);
	if (r == SQLITE_ROW)
		conv_from_row(s, c);
	store_done(st, s);
	return r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
}

int
store_conv_get(struct store *st, int64_t id, struct store_conv *c)
{
	sqlite3_stmt *s = store_prep(st, "SELECT " CONV_COLS " FROM "
	    "conversations WHERE id = ?1");

	if (s != NULL)
		sqlite3_bind_int64(s, 1, id);
	return conv_one(st, s, c);
}

int
store_conv_find(struct store *st, const char *phone_hmac,
    int64_t closed_after, struct store_conv *c)
{
	sqlite3_stmt *s = store_prep(st, "SELECT " CONV_COLS " FROM "
	    "conversations WHERE phone_hmac = ?1 AND (state <> 'closed' OR "
	    "closed_at > ?2) ORDER BY (state <> 'closed') DESC, id DESC "
	    "LIMIT 1");

	if (s != NULL) {
		sqlite3_bind_text(s, 1, phone_hmac, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, closed_after);
	}
	return conv_one(st, s, c);
}

int
store_convs_expired(struct store *st, int64_t now, int64_t **ids, size_t *n)
{
	sqlite3_stmt *s = store_prep(st, "SELECT id FROM conversations WHERE "
	    "state <> 'closed' AND expires_at <= ?1 ORDER BY expires_at");
	int r;

	*ids = NULL;
	*n = 0;
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, now);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		*ids = xrealloc(*ids, (*n + 1) * sizeof(**ids));
		(*ids)[(*n)++] = sqlite3_column_int64(s, 0);
	}
	store_done(st, s);
	return r == SQLITE_DONE ? 0 : -1;
}

int64_t
store_convs_next_expiry(struct store *st)
{
	return store_scalar(st, "SELECT coalesce(min(expires_at), 0) FROM "
	    "conversations WHERE state <> 'closed'", NULL, 0);
}

int64_t
store_convs_open(struct store *st)
{
	return store_scalar(st, "SELECT count(*) FROM conversations WHERE "
	    "state <> 'closed'", NULL, 0);
}

int
store_convs_forget_phones(struct store *st, int64_t cutoff)
{
	sqlite3_stmt *s = store_prep(st, "UPDATE conversations SET phone = "
	    "NULL WHERE phone IS NOT NULL AND state = 'closed' AND "
	    "closed_at < ?1");

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, cutoff);
	if (store_run(st, s) == -1)
		return -1;
	return sqlite3_changes(st->db);
}

/* --- responses, outbox, review ------------------------------------------ */

int
store_response_put(struct store *st, const struct store_response *r,
    bool queue, int64_t now)
{
	sqlite3_stmt *s = store_prep(st, "INSERT INTO responses(response_id, "
	    "conversation_id, visit_id, unit, lang, revision, invited_at, "
	    "answered_at, status, kind, score, updated_at, record) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) "
	    "ON CONFLICT(response_id) DO UPDATE SET revision = excluded.revision,"
	    " answered_at = excluded.answered_at, status = excluded.status, "
	    "kind = excluded.kind, score = excluded.score, "
	    "updated_at = excluded.updated_at, record = excluded.record");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, r->response_id, -1, SQLITE_STATIC);
	if (r->conversation_id > 0)
		sqlite3_bind_int64(s, 2, r->conversation_id);
	sqlite3_bind_text(s, 3, r->visit_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, r->unit, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, r->lang, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 6, r->revision);
	if (r->invited_at > 0)
		sqlite3_bind_int64(s, 7, r->invited_at);
	if (r->answered_at > 0)
		sqlite3_bind_int64(s, 8, r->answered_at);
	sqlite3_bind_text(s, 9, r->status, -1, SQLITE_STATIC);
	bind_text_or_null(s, 10, r->kind);
	if (r->score >= 0)
		sqlite3_bind_int(s, 11, r->score);
	sqlite3_bind_int64(s, 12, now);
	sqlite3_bind_text(s, 13, r->record, -1, SQLITE_STATIC);
	if (store_run(st, s) == -1)
		return -1;
	if (!queue)
		return 0;
	s = store_prep(st, "INSERT OR IGNORE INTO outbox(record_id, revision, "
	    "body, state, created_at) VALUES (?1, ?2, ?3, 'pending', ?4)");
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, r->response_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, r->revision);
	sqlite3_bind_text(s, 3, r->record, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, now);
	return store_run(st, s);
}

int
store_responses_export(struct store *st, int64_t since, store_text_cb cb,
    void *arg)
{
	sqlite3_stmt *s = store_prep(st, "SELECT record FROM responses WHERE "
	    "updated_at >= ?1 AND record IS NOT NULL ORDER BY updated_at, "
	    "rowid");
	int r;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, since);
	while ((r = sqlite3_step(s)) == SQLITE_ROW)
		cb((const char *)sqlite3_column_text(s, 0), arg);
	store_done(st, s);
	return r == SQLITE_DONE ? 0 : -1;
}

int
store_units(struct store *st, store_unit_cb cb, void *arg)
{
	sqlite3_stmt *s = store_prep(st,
	    "SELECT v.unit, count(*), "
	    " sum(v.state NOT IN ('ineligible', 'cancelled')), "
	    " sum(coalesce(v.sampled, 0)), "
	    " (SELECT count(*) FROM conversations c WHERE c.unit = v.unit), "
	    " (SELECT count(*) FROM conversations c WHERE c.unit = v.unit AND "
	    "  c.delivered_at IS NOT NULL), "
	    " (SELECT count(*) FROM responses r WHERE r.unit = v.unit AND "
	    "  r.score IS NOT NULL), "
	    " (SELECT count(*) FROM responses r WHERE r.unit = v.unit AND "
	    "  r.status = 'optout'), "
	    " (SELECT count(*) FROM review w JOIN conversations c ON "
	    "  c.id = w.conversation_id WHERE c.unit = v.unit AND "
	    "  w.reason = 'invalid'), "
	    " (SELECT count(*) FROM responses r WHERE r.unit = v.unit AND "
	    "  r.score >= 9), "
	    " (SELECT count(*) FROM responses r WHERE r.unit = v.unit AND "
	    "  r.score BETWEEN 7 AND 8), "
	    " (SELECT count(*) FROM responses r WHERE r.unit = v.unit AND "
	    "  r.score <= 6) "
	    "FROM visits v WHERE v.unit <> '' GROUP BY v.unit ORDER BY v.unit");
	struct store_unit_stats u;
	int r;

	if (s == NULL)
		return -1;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&u, 0, sizeof(u));
		col_text(s, 0, u.unit, sizeof(u.unit));
		u.visits = sqlite3_column_int64(s, 1);
		u.eligible = sqlite3_column_int64(s, 2);
		u.sampled = sqlite3_column_int64(s, 3);
		u.invited = sqlite3_column_int64(s, 4);
		u.delivered = sqlite3_column_int64(s, 5);
		u.answered = sqlite3_column_int64(s, 6);
		u.optout = sqlite3_column_int64(s, 7);
		u.invalid = sqlite3_column_int64(s, 8);
		u.promoters = sqlite3_column_int64(s, 9);
		u.passives = sqlite3_column_int64(s, 10);
		u.detractors = sqlite3_column_int64(s, 11);
		cb(&u, arg);
	}
	store_done(st, s);
	return r == SQLITE_DONE ? 0 : -1;
}

int
store_review_add(struct store *st, const char *reason,
    int64_t conversation_id, const char *text, int64_t now)
{
	sqlite3_stmt *s = store_prep(st, "INSERT INTO review(reason, "
	    "conversation_id, received_at, text) VALUES (?1, ?2, ?3, ?4)");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, reason, -1, SQLITE_STATIC);
	if (conversation_id > 0)
		sqlite3_bind_int64(s, 2, conversation_id);
	sqlite3_bind_int64(s, 3, now);
	sqlite3_bind_text(s, 4, text, -1, SQLITE_STATIC);
	return store_run(st, s);
}

int
store_review_list(struct store *st, store_review_cb cb, void *arg)
{
	sqlite3_stmt *s = store_prep(st, "SELECT id, coalesce("
	    "conversation_id, 0), received_at, reason, text FROM review WHERE "
	    "resolved_at IS NULL ORDER BY id");
	struct store_review_item it;
	int r;

	if (s == NULL)
		return -1;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&it, 0, sizeof(it));
		it.id = sqlite3_column_int64(s, 0);
		it.conversation_id = sqlite3_column_int64(s, 1);
		it.received_at = sqlite3_column_int64(s, 2);
		col_text(s, 3, it.reason, sizeof(it.reason));
		it.text = (const char *)sqlite3_column_text(s, 4);
		cb(&it, arg);
	}
	store_done(st, s);
	return r == SQLITE_DONE ? 0 : -1;
}

int
store_review_resolve(struct store *st, int64_t id, const char *res,
    int64_t now, int64_t *conversation_id)
{
	sqlite3_stmt *s = store_prep(st, "UPDATE review SET resolved_at = ?2, "
	    "resolution = ?3 WHERE id = ?1 AND resolved_at IS NULL "
	    "RETURNING coalesce(conversation_id, 0)");
	int r;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_text(s, 3, res, -1, SQLITE_STATIC);
	r = sqlite3_step(s);
	if (r == SQLITE_ROW)
		*conversation_id = sqlite3_column_int64(s, 0);
	while (r == SQLITE_ROW)
		r = sqlite3_step(s);
	store_done(st, s);
	if (r != SQLITE_DONE)
		return -1;
	return sqlite3_changes(st->db) > 0 ? 1 : 0;
}

int
store_outbox_pending(struct store *st, size_t max,
    struct store_outbox_row *rows, size_t *n)
{
	sqlite3_stmt *s = store_prep(st, "SELECT id, body FROM outbox WHERE "
	    "state = 'pending' ORDER BY id LIMIT ?1");
	int r;

	*n = 0;
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, (int64_t)max);
	while ((r = sqlite3_step(s)) == SQLITE_ROW && *n < max) {
		rows[*n].id = sqlite3_column_int64(s, 0);
		rows[*n].body = xstrdup((const char *)sqlite3_column_text(s, 1));
		(*n)++;
	}
	store_done(st, s);
	return r == SQLITE_DONE || r == SQLITE_ROW ? 0 : -1;
}

int
store_outbox_mark(struct store *st, const int64_t *ids, size_t n,
    const char *state, const char *batch_key, const char *err, int64_t now)
{
	bool own = !store_in_transaction(st);
	size_t i;

	if (own && store_begin(st) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		sqlite3_stmt *s = store_prep(st, "UPDATE outbox SET state = ?2,"
		    " batch_key = coalesce(?3, batch_key), last_error = ?4, "
		    "attempts = attempts + 1, sent_at = CASE WHEN ?2 = 'sent' "
		    "THEN ?5 ELSE sent_at END WHERE id = ?1");

		if (s == NULL)
			goto fail;
		sqlite3_bind_int64(s, 1, ids[i]);
		sqlite3_bind_text(s, 2, state, -1, SQLITE_STATIC);
		if (batch_key != NULL)
			sqlite3_bind_text(s, 3, batch_key, -1, SQLITE_STATIC);
		if (err != NULL)
			sqlite3_bind_text(s, 4, err, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 5, now);
		if (store_run(st, s) == -1)
			goto fail;
	}
	if (own && store_commit(st) == -1)
		goto fail;
	return 0;
fail:
	if (own)
		store_rollback(st);
	return -1;
}

int64_t
store_outbox_count(struct store *st, const char *state)
{
	return store_scalar(st, "SELECT count(*) FROM outbox WHERE state = ?1",
	    state, 0);
}

int
store_outbox_retry_failed(struct store *st)
{
	sqlite3_stmt *s = store_prep(st, "UPDATE outbox SET state = 'pending' "
	    "WHERE state = 'failed'");

	return store_run(st, s);
}

/* --- retention ----------------------------------------------------------- */

static int64_t
store_delete(struct store *st, const char *sql, int64_t cutoff)
{
	sqlite3_stmt *s = store_prep(st, sql);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, cutoff);
	if (store_run(st, s) == -1)
		return -1;
	return sqlite3_changes(st->db);
}

int
store_retention_run(struct store *st, int64_t now, int64_t retention_s,
    int64_t scrub_s, int64_t keep_invites_s, struct store_retention *out)
{
	int64_t old = now - retention_s, scrub = now - scrub_s;

	memset(out, 0, sizeof(*out));
	if (store_begin(st) == -1)
		return -1;
	out->sms_in = store_delete(st, "DELETE FROM sms_in WHERE state = "
	    "'processed' AND received_at < ?1", scrub);
	if (store_delete(st, "UPDATE sms_out SET phone = NULL, text = NULL "
	    "WHERE done_at IS NOT NULL AND done_at < ?1 AND (phone IS NOT NULL "
	    "OR text IS NOT NULL)", scrub) < 0)
		goto fail;
	if (store_delete(st, "DELETE FROM sms_out_parts WHERE msg_id IN "
	    "(SELECT id FROM sms_out WHERE done_at IS NOT NULL AND "
	    "done_at < ?1)", old) < 0)
		goto fail;
	out->sms_out = store_delete(st, "DELETE FROM sms_out WHERE done_at IS "
	    "NOT NULL AND done_at < ?1", old);
	out->outbox = store_delete(st, "DELETE FROM outbox WHERE state = "
	    "'sent' AND sent_at < ?1", old);
	out->responses = store_delete(st, "DELETE FROM responses WHERE "
	    "updated_at < ?1 AND NOT EXISTS (SELECT 1 FROM outbox o WHERE "
	    "o.record_id = responses.response_id AND o.state <> 'sent')", old);
	out->review = store_delete(st, "DELETE FROM review WHERE resolved_at "
	    "IS NOT NULL AND resolved_at < ?1", old);
	out->conversations = store_delete(st, "DELETE FROM conversations "
	    "WHERE state = 'closed' AND closed_at < ?1 AND NOT EXISTS (SELECT "
	    "1 FROM responses r WHERE r.conversation_id = conversations.id)",
	    old);
	out->visits = store_delete(st, "DELETE FROM visits WHERE received_at "
	    "< ?1 AND state NOT IN ('scheduled', 'invited')", old);
	if (store_delete(st, "DELETE FROM visits WHERE received_at < ?1 AND "
	    "state = 'invited' AND NOT EXISTS (SELECT 1 FROM conversations c "
	    "WHERE c.visit_id = visits.visit_id)", old) < 0)
		goto fail;
	out->invitations = store_delete(st, "DELETE FROM invitations WHERE "
	    "invited_at < ?1", now - keep_invites_s);
	if (out->sms_in < 0 || out->sms_out < 0 || out->outbox < 0 ||
	    out->responses < 0 || out->review < 0 ||
	    out->conversations < 0 || out->visits < 0 || out->invitations < 0)
		goto fail;
	return store_commit(st);
fail:
	store_rollback(st);
	return -1;
}

/* --- provider messages ------------------------------------------------ */

int
store_provider_queued(struct store *st, const char *purpose, int limit,
    store_provider_cb cb, void *arg)
{
	sqlite3_stmt *s = store_prep(st, "SELECT id, coalesce(conversation_id,"
	    " 0), coalesce(phone, ''), coalesce(text, '') FROM sms_out WHERE "
	    "purpose = ?1 AND state = 'queued' ORDER BY id LIMIT ?2");
	struct store_provider_msg *v = NULL;
	size_t n = 0, i;
	int r;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, purpose, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, limit);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n].id = sqlite3_column_int64(s, 0);
		v[n].conversation_id = sqlite3_column_int64(s, 1);
		col_text(s, 2, v[n].phone, sizeof(v[n].phone));
		v[n].text = xstrdup((const char *)sqlite3_column_text(s, 3));
		n++;
	}
	store_done(st, s);
	for (i = 0; i < n; i++) {
		cb(&v[i], arg);
		free(v[i].text);
	}
	free(v);
	return r == SQLITE_DONE ? (int)n : -1;
}

int
store_sms_out_set_state(struct store *st, int64_t msg_id, const char *state,
    int64_t now)
{
	sqlite3_stmt *s = store_prep(st, "UPDATE sms_out SET state = ?2, "
	    "done_at = CASE WHEN ?2 IN ('sent', 'failed', 'uncertain', "
	    "'delivered') AND done_at IS NULL THEN ?3 ELSE done_at END, "
	    "text = CASE WHEN ?2 IN ('failed', 'uncertain', 'delivered') "
	    "THEN NULL ELSE text END WHERE id = ?1 AND state <> ?2");

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, msg_id);
	sqlite3_bind_text(s, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	if (store_run(st, s) == -1)
		return -1;
	return sqlite3_changes(st->db) > 0 ? 1 : 0;
}

int64_t
store_provider_recover(struct store *st, const char *purpose)
{
	sqlite3_stmt *s = store_prep(st, "UPDATE sms_out SET state = "
	    "'uncertain', text = NULL WHERE purpose = ?1 AND state = "
	    "'submitting'");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, purpose, -1, SQLITE_STATIC);
	if (store_run(st, s) == -1)
		return -1;
	return sqlite3_changes(st->db);
}

int64_t
store_sms_out_conversation(struct store *st, int64_t msg_id)
{
	return store_scalar_i(st, "SELECT coalesce(conversation_id, 0) FROM "
	    "sms_out WHERE id = ?1", msg_id);
}
