/*
 * engine: visits -> invitations -> conversations -> response records.
 */
#include "smsgw/engine.h"

#include <errno.h>
#include <fcntl.h>
#include <gcrypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "smsgw/conf.h"
#include "smsgw/ev.h"
#include "smsgw/log.h"
#include "smsgw/redact.h"
#include "smsgw/reply.h"
#include "smsgw/sampler.h"
#include "smsgw/sched.h"
#include "smsgw/sms.h"
#include "smsgw/sms_codec.h"
#include "smsgw/survey.h"
#include "smsgw/texts.h"
#include "smsgw/util.h"

#define TICK_MS 1000
#define DUE_PER_PASS 100

struct engine {
	struct reply_lexicon *lex;	/* built-ins + config words */
	struct spool *spool;
	int64_t last_retention;
	struct ev *ev;
	struct store *st;
	struct sms *sms;
	const struct conf *conf;
	uint8_t key[ENGINE_KEY_LEN];
	uint32_t timer;
};

static int64_t
now_s(void)
{
	return util_wall_ms() / 1000;
}

int
engine_load_key(const char *state_dir, uint8_t key[ENGINE_KEY_LEN],
    char *err, size_t errlen)
{
	char *path = xasprintf("%s/hmac.key", state_dir);
	char *tmp = xasprintf("%s/hmac.key.tmp", state_dir);
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		r = read(fd, key, ENGINE_KEY_LEN);
		close(fd);
		if (r != ENGINE_KEY_LEN) {
			snprintf(err, errlen, "%s: not a %d-byte key", path,
			    ENGINE_KEY_LEN);
			goto fail;
		}
		goto ok;
	}
	if (errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (getrandom(key, ENGINE_KEY_LEN, 0) != ENGINE_KEY_LEN) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		goto fail;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, key, ENGINE_KEY_LEN) != ENGINE_KEY_LEN ||
	    fsync(fd) == -1 || close(fd) == -1 || rename(tmp, path) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	log_info("main", "created a new HMAC key in %s", path);
ok:
	free(path);
	free(tmp);
	return 0;
fail:
	free(path);
	free(tmp);
	return -1;
}

/* --- helpers ------------------------------------------------------------ */

static void
fmt_time(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static double
engine_rate(struct engine *e, const char *unit)
{
	double r;

	if (store_rate_get(e->st, unit, &r) == 1)
		return r;
	return conf_unit_rate(e->conf, unit);
}

static void
engine_sched_rules(const struct conf *c, struct sched_rules *r)
{
	memset(r, 0, sizeof(*r));
	strlcpy_s(r->timezone, c->schedule.timezone, sizeof(r->timezone));
	r->delay_minutes = (unsigned)c->schedule.delay_minutes;
	r->window_start_min = c->schedule.window_start;
	r->window_end_min = c->schedule.window_end;
	r->skip_weekdays = c->schedule.skip_weekdays;
	r->public_holidays = c->schedule.public_holidays;
	r->stale_hours = (unsigned)c->schedule.stale_hours;
}

static void
engine_history(struct engine *e, const char *hmac, const char *unit,
    int64_t now, struct sampler_history *h)
{
	memset(h, 0, sizeof(*h));
	h->opted_out = store_suppressed(e->st, hmac) == 1;
	h->last_invited = store_invite_last(e->st, hmac);
	h->unit_invited_today = (unsigned)store_invite_count(e->st, unit,
	    now - 86400);
}

static void
engine_policy(const struct conf *c, struct sampler_policy *p)
{
	p->min_age = c->sampling.min_age;
	p->person_cap_days = (unsigned)c->sampling.person_cap_days;
	p->unit_daily_cap = (unsigned)c->sampling.unit_daily_cap;
}

/* HMAC-SHA256 under the box's key of label followed by visit_id: the
 * source of every opaque per-visit value (record ids, link tokens). */
static void
engine_mac(struct engine *e, const char *label, const char *visit_id,
    unsigned char mac[32])
{
	gcry_md_hd_t h;

	if (gcry_md_open(&h, GCRY_MD_SHA256, GCRY_MD_FLAG_HMAC) != 0)
		fatalx("main", "gcry_md_open");
	gcry_md_setkey(h, e->key, ENGINE_KEY_LEN);
	gcry_md_write(h, label, strlen(label));
	gcry_md_write(h, visit_id, strlen(visit_id));
	memcpy(mac, gcry_md_read(h, GCRY_MD_SHA256), 32);
	gcry_md_close(h);
}

/* An opaque, stable id for the visit's response (no personal data). */
static void
engine_response_id(struct engine *e, const char *visit_id, char out[41])
{
	unsigned char mac[32];
	size_t i;

	engine_mac(e, "response:", visit_id, mac);
	out[0] = 'r';
	for (i = 0; i < 19; i++)
		snprintf(out + 1 + 2 * i, 3, "%02x", mac[i]);
}

/* --- survey_conv <-> JSON ------------------------------------------------ */

static void
jadd_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v != NULL ? json_object_new_string(v) :
	    NULL);
}

static void
jadd_i64(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static char *
conv_to_json(const struct survey_conv *c)
{
	json_object *o = json_object_new_object(), *a, *l;
	char *s;
	size_t i;

	json_object_object_add(o, "state", json_object_new_int(c->state));
	json_object_object_add(o, "status", json_object_new_int(c->status));
	json_object_object_add(o, "stmt", json_object_new_int((int)c->stmt));
	json_object_object_add(o, "stmt_retry",
	    json_object_new_int(c->stmt_retry));
	json_object_object_add(o, "invalid", json_object_new_int(c->invalid));
	json_object_object_add(o, "reprompts",
	    json_object_new_int(c->reprompts));
	json_object_object_add(o, "score", json_object_new_int(c->score));
	json_object_object_add(o, "kind", c->has_kind ?
	    json_object_new_int(c->kind) : NULL);
	jadd_str(o, "comment", c->comment);
	jadd_str(o, "followup", c->followup);
	a = json_object_new_object();
	for (i = 0; i < c->nanswers; i++)
		json_object_object_add(a, c->answers[i].id,
		    json_object_new_int(c->answers[i].value));
	json_object_object_add(o, "answers", a);
	l = json_object_new_array();
	for (i = 0; i < c->nlate; i++) {
		json_object *x = json_object_new_object();

		jadd_str(x, "text", c->late[i].text);
		jadd_i64(x, "at", c->late[i].at);
		json_object_array_add(l, x);
	}
	json_object_object_add(o, "late", l);
	json_object_object_add(o, "revision", json_object_new_int(c->revision));
	jadd_i64(o, "invited_at", c->invited_at);
	jadd_i64(o, "answered_at", c->answered_at);
	jadd_i64(o, "expires_at", c->expires_at);
	jadd_i64(o, "closed_at", c->closed_at);
	s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

static int64_t
jint(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ?
	    json_object_get_int64(v) : 0;
}

static int
conv_from_json(const char *s, struct survey_conv *c)
{
	json_object *o = json_tokener_parse(s), *v;

	survey_conv_init(c);
	if (o == NULL)
		return -1;
	c->state = (enum survey_state)jint(o, "state");
	c->status = (enum survey_status)jint(o, "status");
	c->stmt = (size_t)jint(o, "stmt");
	c->stmt_retry = (int)jint(o, "stmt_retry");
	c->invalid = (int)jint(o, "invalid");
	c->reprompts = (int)jint(o, "reprompts");
	c->score = (int)jint(o, "score");
	if (json_object_object_get_ex(o, "kind", &v) && v != NULL) {
		c->has_kind = true;
		c->kind = (enum survey_reply_kind)json_object_get_int(v);
	}
	if (json_object_object_get_ex(o, "comment", &v) && v != NULL)
		survey_conv_set_comment(c, json_object_get_string(v));
	if (json_object_object_get_ex(o, "followup", &v) && v != NULL)
		survey_conv_set_followup(c, json_object_get_string(v));
	if (json_object_object_get_ex(o, "answers", &v) && v != NULL) {
		json_object_object_foreach(v, key, val)
			survey_conv_set_answer(c, key, json_object_get_int(val));
	}
	if (json_object_object_get_ex(o, "late", &v) && v != NULL) {
		size_t i, n = json_object_array_length(v);

		for (i = 0; i < n; i++) {
			json_object *x = json_object_array_get_idx(v, i), *t;

			if (json_object_object_get_ex(x, "text", &t))
				survey_conv_add_late(c, json_object_get_string(t),
				    jint(x, "at"));
		}
	}
	c->revision = (int)jint(o, "revision");
	c->invited_at = jint(o, "invited_at");
	c->answered_at = jint(o, "answered_at");
	c->expires_at = jint(o, "expires_at");
	c->closed_at = jint(o, "closed_at");
	json_object_put(o);
	return 0;
}

/* --- the response record (contract section 5) -------------------------- */

static json_object *
jredacted(const char *s)
{
	char *r;
	json_object *o;

	if (s == NULL)
		return NULL;
	r = redact_text(s);
	o = json_object_new_string(r);
	free(r);
	return o;
}

/* The fields every response row takes from its conversation. */
static void
response_init(struct store_response *r, const char *rid,
    const struct store_conv *sc)
{
	memset(r, 0, sizeof(*r));
	strlcpy_s(r->response_id, rid, sizeof(r->response_id));
	r->conversation_id = sc->id;
	strlcpy_s(r->visit_id, sc->visit_id, sizeof(r->visit_id));
	strlcpy_s(r->unit, sc->unit, sizeof(r->unit));
	strlcpy_s(r->lang, sc->lang, sizeof(r->lang));
}

static void
engine_write_record(struct engine *e, const struct store_conv *sc,
    const struct survey_conv *c, int64_t now)
{
	struct store_response r;
	json_object *o, *a, *l;
	char rid[41], t1[32], t2[32];
	size_t i;

	if (c->state != SURVEY_CLOSED || c->revision < 1)
		return;	/* records exist once a conversation has closed */
	engine_response_id(e, sc->visit_id, rid);
	o = json_object_new_object();
	jadd_str(o, "response_id", rid);
	json_object_object_add(o, "revision", json_object_new_int(c->revision));
	jadd_str(o, "visit_id", sc->visit_id);
	jadd_str(o, "unit", sc->unit);
	jadd_str(o, "lang", sc->lang);
	fmt_time(c->invited_at, t1, sizeof(t1));
	jadd_str(o, "invited_at", t1);
	if (c->answered_at > 0) {
		fmt_time(c->answered_at, t2, sizeof(t2));
		jadd_str(o, "answered_at", t2);
	} else
		json_object_object_add(o, "answered_at", NULL);
	jadd_str(o, "status", survey_status_name(c->status));
	jadd_str(o, "kind", c->has_kind ? survey_reply_kind_name(c->kind) :
	    NULL);
	json_object_object_add(o, "score", c->score >= 0 ?
	    json_object_new_int(c->score) : NULL);
	json_object_object_add(o, "comment", jredacted(c->comment));
	json_object_object_add(o, "followup", jredacted(c->followup));
	a = json_object_new_object();
	for (i = 0; i < c->nanswers; i++)
		json_object_object_add(a, c->answers[i].id,
		    json_object_new_int(c->answers[i].value));
	json_object_object_add(o, "statements", a);
	l = json_object_new_array();
	for (i = 0; i < c->nlate; i++)
		json_object_array_add(l, jredacted(c->late[i].text));
	json_object_object_add(o, "late", l);

	response_init(&r, rid, sc);
	r.revision = c->revision;
	r.invited_at = c->invited_at;
	r.answered_at = c->answered_at;
	strlcpy_s(r.status, survey_status_name(c->status), sizeof(r.status));
	strlcpy_s(r.kind, c->has_kind ? survey_reply_kind_name(c->kind) : "",
	    sizeof(r.kind));
	r.score = c->score;
	r.record = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	/* With no upstream the records stay available to export only. */
	store_response_put(e->st, &r, e->conf->upstream.url[0] != '\0', now);
	json_object_put(o);
}

/* --- actions ------------------------------------------------------------ */

static const char *
purpose_of(enum conf_text t)
{
	return t == CONF_TEXT_INVITATION ? "invitation" : conf_text_names[t];
}

static int
engine_apply(struct engine *e, struct store_conv *sc, struct survey_conv *c,
    const struct survey_actions *acts, const char *reply, int64_t now)
{
	enum conf_lang lang = conf_lang_parse(sc->lang);
	size_t i;

	for (i = 0; i < acts->n; i++) {
		const struct survey_action *a = &acts->a[i];
		int64_t id;
		char *text;

		switch (a->type) {
		case SURVEY_ACT_SEND:
			if (sc->phone[0] == '\0')
				break;
			text = texts_render(e->conf, lang, a->text,
			    texts_statement(e->conf, lang, a->statement),
			    NULL);
			if (sms_queue(e->sms, sc->id, purpose_of(a->text),
			    sc->phone, text, sc->modem, now, &id) == -1) {
				free(text);
				return -1;
			}
			free(text);
			break;
		case SURVEY_ACT_SUPPRESS:
			if (store_suppress_add(e->st, sc->phone_hmac, "optout",
			    now) == -1)
				return -1;
			log_info("survey", "conversation %lld: opt-out; the "
			    "number is suppressed", (long long)sc->id);
			break;
		case SURVEY_ACT_REVIEW:
			if (store_review_add(e->st, a->reason != NULL ?
			    a->reason : "review", sc->id, reply != NULL ?
			    reply : "", now) == -1)
				return -1;
			break;
		case SURVEY_ACT_CLOSE:
			sc->closed_at = c->closed_at;
			break;
		case SURVEY_ACT_RECORD_UPDATED:
			engine_write_record(e, sc, c, now);
			break;
		}
	}
	strlcpy_s(sc->state, survey_state_name(c->state), sizeof(sc->state));
	strlcpy_s(sc->status, survey_status_name(c->status),
	    sizeof(sc->status));
	sc->expires_at = c->state == SURVEY_CLOSED ? 0 : c->expires_at;
	sc->closed_at = c->closed_at;
	free(sc->data);
	sc->data = conv_to_json(c);
	return store_conv_update(e->st, sc);
}

/* --- intake ------------------------------------------------------------- */

static void
engine_intake_visit(struct engine *e, const struct spool_visit *sv,
    const char *name, int64_t now, size_t *counts)
{
	struct sampler_visit v;
	struct sampler_policy pol;
	struct sampler_history h;
	struct store_visit rec;
	struct sched_rules rules;
	enum sampler_verdict verdict;
	int64_t send_at = 0;
	int r;

	memset(&rec, 0, sizeof(rec));
	strlcpy_s(rec.visit_id, sv->visit_id, sizeof(rec.visit_id));
	strlcpy_s(rec.unit, sv->unit, sizeof(rec.unit));
	strlcpy_s(rec.phone, sv->phone, sizeof(rec.phone));
	strlcpy_s(rec.lang, sv->lang[0] ? sv->lang : "fi", sizeof(rec.lang));
	rec.ended_at = sv->ended_at;
	rec.age = sv->age;
	rec.flags = sv->flags;
	rec.sampled = -1;
	strlcpy_s(rec.source, name, sizeof(rec.source));
	if (sampler_phone_hmac(e->key, sv->phone, rec.phone_hmac) == -1)
		rec.phone_hmac[0] = '\0';

	v.age = sv->age;
	v.flags = sv->flags;
	v.phone_valid = sv->phone_mobile;
	engine_policy(e->conf, &pol);
	memset(&h, 0, sizeof(h));
	h.opted_out = rec.phone_hmac[0] != '\0' &&
	    store_suppressed(e->st, rec.phone_hmac) == 1;
	/* Caps are judged at send time: they depend on what went before. */
	pol.person_cap_days = 0;
	pol.unit_daily_cap = 0;
	verdict = sampler_eligible(&v, &pol, &h, now);
	strlcpy_s(rec.verdict, sampler_verdict_name(verdict),
	    sizeof(rec.verdict));
	if (verdict != SAMPLER_ELIGIBLE) {
		strlcpy_s(rec.state, "ineligible", sizeof(rec.state));
	} else {
		rec.sampled = sampler_decide(e->key, sv->visit_id,
		    engine_rate(e, sv->unit)) ? 1 : 0;
		if (!rec.sampled)
			strlcpy_s(rec.state, "not_sampled", sizeof(rec.state));
		else {
			engine_sched_rules(e->conf, &rules);
			r = sched_next_send(&rules, sv->ended_at, now, &send_at);
			strlcpy_s(rec.state, r == SCHED_OK ? "scheduled" :
			    "stale", sizeof(rec.state));
			rec.send_at = send_at;
		}
	}
	if (strcmp(rec.state, "scheduled") != 0)
		rec.phone[0] = '\0';	/* not needed: not kept */
	r = store_visit_insert(e->st, &rec, now);
	if (r == 0) {
		counts[1]++;
		store_counter_add(e->st, "visits_duplicate", 1);
	} else if (r == 1)
		counts[0]++;
}

int
engine_spool_sink(void *arg, const char *name,
    const struct spool_visit *visits, size_t n, size_t nbad)
{
	struct engine *e = arg;
	size_t i, counts[3] = { 0, 0, 0 };
	int64_t now = now_s();

	if (store_begin(e->st) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (visits[i].kind == SPOOL_KIND_CANCEL) {
			int r = store_visit_cancel(e->st, visits[i].visit_id,
			    now);

			if (r < 0)
				goto fail;
			counts[2] += r > 0;
			continue;
		}
		engine_intake_visit(e, &visits[i], name, now, counts);
	}
	if (store_commit(e->st) == -1)
		goto fail;
	(void)nbad;	/* the spool reports bad lines itself */
	log_info("survey", "%s: %zu new visits, %zu duplicates ignored, %zu "
	    "withdrawn", name, counts[0], counts[1], counts[2]);
	engine_kick(e);
	return 0;
fail:
	store_rollback(e->st);
	return -1;
}


/* --- link survey (transport = "smpp") ---------------------------------- */

/* An opaque, URL-safe per-visit token: HMAC of the visit id, no personal
 * data, the same after a restart. */
static void
engine_token(struct engine *e, const char *visit_id, char out[23])
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char mac[32];
	size_t i, o = 0;
	uint32_t acc = 0;
	int bits = 0;

	engine_mac(e, "token:", visit_id, mac);
	for (i = 0; i < 16 && o < 22; i++) {
		acc = (acc << 8) | mac[i];
		bits += 8;
		while (bits >= 6 && o < 22) {
			out[o++] = b64[(acc >> (bits - 6)) & 0x3f];
			bits -= 6;
		}
	}
	if (bits > 0 && o < 22)
		out[o++] = b64[(acc << (6 - bits)) & 0x3f];
	out[o] = '\0';
}

/* link_url with {token} replaced (caller frees). */
static char *
engine_link(const char *url, const char *token)
{
	const char *p = strstr(url, "{token}");

	if (p == NULL)
		return xstrdup(url);
	return xasprintf("%.*s%s%s", (int)(p - url), url, token, p + 7);
}

/* Write the link-survey record (contract section 8) for sc. */
static void
engine_write_link_record(struct engine *e, const struct store_conv *sc,
    const char *status, int revision, int64_t now)
{
	struct store_response r;
	json_object *o = json_object_new_object(), *d;
	char rid[41], t[32];
	const char *token = "";

	d = json_tokener_parse(sc->data);
	if (d != NULL) {
		json_object *x;

		if (json_object_object_get_ex(d, "token", &x))
			token = json_object_get_string(x);
	}
	engine_response_id(e, sc->visit_id, rid);
	rid[0] = 'l';
	jadd_str(o, "visit_id", sc->visit_id);
	jadd_str(o, "unit", sc->unit);
	jadd_str(o, "token", token);
	fmt_time(sc->invited_at, t, sizeof(t));
	jadd_str(o, "invited_at", t);
	if (sc->delivered_at > 0) {
		fmt_time(sc->delivered_at, t, sizeof(t));
		jadd_str(o, "delivered_at", t);
	} else
		json_object_object_add(o, "delivered_at", NULL);
	jadd_str(o, "status", status);
	response_init(&r, rid, sc);
	r.revision = revision;
	r.invited_at = sc->invited_at;
	strlcpy_s(r.status, status, sizeof(r.status));
	strlcpy_s(r.kind, "link", sizeof(r.kind));
	r.score = -1;
	r.record = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	store_response_put(e->st, &r, e->conf->upstream.url[0] != '\0', now);
	json_object_put(o);
	json_object_put(d);
}

/* In a transaction: record a link invitation and queue it for the SMSC. */
static int
engine_invite_link(struct engine *e, const struct store_visit *v,
    int64_t now)
{
	struct store_conv sc;
	char token[23], *link, *text;
	int64_t msg;
	int r = -1;

	engine_token(e, v->visit_id, token);
	link = engine_link(e->conf->survey.link_url, token);
	text = texts_render(e->conf, conf_lang_parse(v->lang),
	    CONF_TEXT_LINK_INVITATION, NULL, link);
	memset(&sc, 0, sizeof(sc));
	strlcpy_s(sc.visit_id, v->visit_id, sizeof(sc.visit_id));
	strlcpy_s(sc.unit, v->unit, sizeof(sc.unit));
	strlcpy_s(sc.phone_hmac, v->phone_hmac, sizeof(sc.phone_hmac));
	strlcpy_s(sc.lang, v->lang, sizeof(sc.lang));
	strlcpy_s(sc.state, "closed", sizeof(sc.state));
	strlcpy_s(sc.status, "link", sizeof(sc.status));
	sc.invited_at = now;
	sc.closed_at = now;
	sc.data = xasprintf("{\"token\":\"%s\",\"revision\":1}", token);
	if (store_conv_insert(e->st, &sc) == 0 &&
	    store_sms_out_add(e->st, sc.id, "link_invitation", NULL, v->phone,
	    text, NULL, NULL, 0, now, &msg) == 0) {
		engine_write_link_record(e, &sc, "invited", 1, now);
		r = 0;
	}
	store_conv_clear(&sc);
	free(link);
	free(text);
	return r;
}

/* A link invitation was resolved by the provider. */
static void
engine_link_final(struct engine *e, struct store_conv *sc, const char *state,
    int64_t now)
{
	const char *status;
	json_object *d = json_tokener_parse(sc->data), *x;
	int rev = 1;

	if (strcmp(state, "delivered") == 0) {
		status = "delivered";
		sc->delivered_at = now;
	} else if (strcmp(state, "failed") == 0) {
		status = "failed";
		store_visit_set_state(e->st, sc->visit_id, "failed", NULL);
	} else {
		json_object_put(d);
		return;	/* sent or uncertain: still "invited" */
	}
	if (d != NULL && json_object_object_get_ex(d, "revision", &x))
		rev = json_object_get_int(x);
	if (d == NULL)
		d = json_object_new_object();
	json_object_object_add(d, "revision", json_object_new_int(rev + 1));
	free(sc->data);
	sc->data = xstrdup(json_object_to_json_string_ext(d,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(d);
	engine_write_link_record(e, sc, status, rev + 1, now);
}

/* --- invitations ----------------------------------------------------------- */

static void
engine_invite(const struct store_visit *v, void *arg)
{
	struct engine *e = arg;
	struct sampler_visit sv;
	struct sampler_policy pol;
	struct sampler_history h;
	enum sampler_verdict verdict;
	struct survey_actions acts;
	struct survey_conv c;
	struct store_conv sc;
	int64_t now = now_s();

	/* One savepoint per visit inside the pass's transaction: a visit
	 * that fails is undone alone and retried at the next pass. */
	if (store_savepoint(e->st) == -1)
		return;
	sv.age = v->age;
	sv.flags = v->flags;
	sv.phone_valid = v->phone[0] != '\0';
	engine_policy(e->conf, &pol);
	engine_history(e, v->phone_hmac, v->unit, now, &h);
	verdict = sampler_eligible(&sv, &pol, &h, now);
	if (verdict != SAMPLER_ELIGIBLE) {
		store_visit_set_state(e->st, v->visit_id, "ineligible",
		    sampler_verdict_name(verdict));
		store_savepoint_keep(e->st);
		return;
	}
	if (e->conf->schedule.stale_hours > 0 && now > v->ended_at +
	    (int64_t)e->conf->schedule.stale_hours * 3600) {
		store_visit_set_state(e->st, v->visit_id, "stale", NULL);
		store_savepoint_keep(e->st);
		return;
	}
	if (strcmp(e->conf->transport, "smpp") == 0) {
		if (engine_invite_link(e, v, now) == -1 ||
		    store_invite_add(e->st, v->phone_hmac, v->unit, now) == -1 ||
		    store_visit_set_state(e->st, v->visit_id, "invited",
		    NULL) == -1 || store_savepoint_keep(e->st) == -1) {
			store_savepoint_undo(e->st);
			log_warnx("survey", "link invitation not recorded; "
			    "retrying");
		}
		return;
	}
	memset(&sc, 0, sizeof(sc));
	strlcpy_s(sc.visit_id, v->visit_id, sizeof(sc.visit_id));
	strlcpy_s(sc.unit, v->unit, sizeof(sc.unit));
	strlcpy_s(sc.phone, v->phone, sizeof(sc.phone));
	strlcpy_s(sc.phone_hmac, v->phone_hmac, sizeof(sc.phone_hmac));
	strlcpy_s(sc.lang, v->lang, sizeof(sc.lang));
	sc.invited_at = now;
	survey_conv_init(&c);
	survey_start(&c, e->conf, now, &acts);
	strlcpy_s(sc.state, survey_state_name(c.state), sizeof(sc.state));
	sc.data = conv_to_json(&c);
	sc.expires_at = c.expires_at;
	if (store_conv_insert(e->st, &sc) == -1 ||
	    engine_apply(e, &sc, &c, &acts, NULL, now) == -1 ||
	    store_invite_add(e->st, v->phone_hmac, v->unit, now) == -1 ||
	    store_visit_set_state(e->st, v->visit_id, "invited", NULL) == -1 ||
	    store_savepoint_keep(e->st) == -1) {
		store_savepoint_undo(e->st);
		log_warnx("survey", "visit invitation not recorded; retrying");
	} else
		log_debug("survey", "conversation %lld: invitation queued",
		    (long long)sc.id);
	survey_conv_clear(&c);
	store_conv_clear(&sc);
}

static void
engine_expire(struct engine *e, int64_t now)
{
	int64_t *ids;
	size_t n, i;

	if (store_convs_expired(e->st, now, &ids, &n) == -1)
		return;
	for (i = 0; i < n; i++) {
		struct store_conv sc;
		struct survey_conv c;
		struct survey_actions acts;

		if (store_begin(e->st) == -1)
			break;
		if (store_conv_get(e->st, ids[i], &sc) != 1) {
			store_rollback(e->st);
			continue;
		}
		conv_from_json(sc.data, &c);
		memset(&acts, 0, sizeof(acts));
		survey_on_timer(&c, e->conf, now, &acts);
		if (engine_apply(e, &sc, &c, &acts, NULL, now) == -1 ||
		    store_commit(e->st) == -1)
			store_rollback(e->st);
		survey_conv_clear(&c);
		store_conv_clear(&sc);
	}
	free(ids);
	/* Clear numbers are kept only through the late window. */
	store_convs_forget_phones(e->st, now -
	    (int64_t)e->conf->survey.late_days * 86400);
}

/*
 * The daily privacy job (and once at start-up): what is older than
 * privacy.retention_days goes, message phones and texts go after two days
 * (or the late window, if longer), invitation history stays as long as the
 * person cap needs it.
 */
static void
engine_retention(struct engine *e, int64_t now)
{
	struct store_retention r;
	int64_t day = 86400, keep = (int64_t)e->conf->privacy.retention_days *
	    day, scrub = 2 * day, caps;
	size_t files = 0;

	if (e->last_retention != 0 && now - e->last_retention < day)
		return;
	e->last_retention = now;
	if ((int64_t)e->conf->survey.late_days * day > scrub)
		scrub = (int64_t)e->conf->survey.late_days * day;
	caps = (int64_t)e->conf->sampling.person_cap_days * day;
	if (caps < keep)
		caps = keep;
	if (store_retention_run(e->st, now, keep, scrub, caps, &r) == -1) {
		log_warnx("store", "retention job failed; retrying tomorrow");
		return;
	}
	if (e->spool != NULL)
		files = spool_expire(e->spool, now - keep);
	log_info("store", "retention (%d days): deleted %lld conversations, "
	    "%lld records, %lld visits, %lld messages, %zu spool files",
	    e->conf->privacy.retention_days, (long long)r.conversations,
	    (long long)r.responses, (long long)r.visits,
	    (long long)(r.sms_in + r.sms_out), files);
}

void
engine_set_spool(struct engine *e, struct spool *sp)
{
	e->spool = sp;
}

static void
engine_tick(void *arg)
{
	struct engine *e = arg;
	int64_t now = now_s();
	int n;

	e->timer = 0;
	engine_retention(e, now);
	engine_expire(e, now);
	/* One transaction (one fsync) per pass, a savepoint per visit. */
	if (store_begin(e->st) == -1)
		n = 0;
	else {
		n = store_visits_due(e->st, now, DUE_PER_PASS, engine_invite,
		    e);
		if (n < 0 || store_commit(e->st) == -1) {
			store_rollback(e->st);
			n = 0;
		}
	}
	if (n > 0)
		sms_kick(e->sms);
	e->timer = ev_timer_add(e->ev, n >= DUE_PER_PASS ? 0 : TICK_MS,
	    engine_tick, e);
}

void
engine_kick(struct engine *e)
{
	ev_timer_del(e->ev, e->timer);
	e->timer = ev_timer_add(e->ev, 0, engine_tick, e);
}

/* --- replies ------------------------------------------------------------- */

static enum survey_reply_kind
kind_map(enum reply_kind k)
{
	switch (k) {
	case REPLY_KIND_SCORE:
		return SURVEY_REPLY_SCORE;
	case REPLY_KIND_SCORE_COMMENT:
		return SURVEY_REPLY_SCORE_COMMENT;
	case REPLY_KIND_COMMENT:
		return SURVEY_REPLY_COMMENT;
	case REPLY_KIND_OPTOUT:
		return SURVEY_REPLY_OPTOUT;
	case REPLY_KIND_EMPTY:
		return SURVEY_REPLY_EMPTY;
	case REPLY_KIND_INVALID:
	default:
		return SURVEY_REPLY_INVALID;
	}
}

/* A reply from a number without a conversation. */
static void
engine_orphan(struct engine *e, const struct store_inbound *in,
    const struct reply_result *rr, const char *hmac, int64_t now)
{
	int64_t id;

	if (rr->kind == REPLY_KIND_OPTOUT) {
		/* An opt-out is always honoured, with one confirmation. */
		if (store_suppressed(e->st, hmac) != 1) {
			char *text;

			store_suppress_add(e->st, hmac, "optout", now);
			text = texts_render(e->conf, CONF_LANG_FI,
			    CONF_TEXT_OPTOUT_CONFIRM, NULL, NULL);
			sms_queue(e->sms, 0, "optout_confirm", in->sender, text,
			    in->modem, now, &id);
			free(text);
		}
		log_info("survey", "opt-out from a number without a "
		    "conversation; suppressed");
		return;
	}
	if (rr->kind == REPLY_KIND_EMPTY)
		return;
	store_review_add(e->st, "orphan", 0, in->text, now);
	log_info("survey", "reply from a number without a conversation; "
	    "filed for review");
}

void
engine_on_message(const struct store_inbound *in, void *arg)
{
	struct engine *e = arg;
	struct reply_result rr;
	struct store_conv sc;
	struct survey_conv c;
	struct survey_actions acts;
	enum survey_result res;
	char hmac[SAMPLER_HMAC_HEX_LEN + 1];
	int64_t now = now_s();
	int found;

	if (store_begin(e->st) == -1)
		return;
	if (in->incomplete) {
		/* Some parts never came: act on what did, and count it. */
		store_counter_add(e->st, "sms_incomplete", 1);
		log_info("survey", "a concatenated reply arrived incomplete "
		    "(%d parts expected); using the parts received",
		    in->total);
	}
	reply_parse_lex(e->lex, in->text, strlen(in->text), &rr);
	if (sampler_phone_hmac(e->key, in->sender, hmac) == -1)
		hmac[0] = '\0';
	found = store_conv_find(e->st, hmac, now -
	    (int64_t)e->conf->survey.late_days * 86400, &sc);
	if (found != 1) {
		engine_orphan(e, in, &rr, hmac, now);
		goto done;
	}
	conv_from_json(sc.data, &c);
	memset(&acts, 0, sizeof(acts));
	if (sc.modem[0] == '\0')
		strlcpy_s(sc.modem, in->modem, sizeof(sc.modem));
	res = survey_on_reply(&c, e->conf, in->text, kind_map(rr.kind),
	    rr.score, rr.has_words, now, &acts);
	log_debug("survey", "conversation %lld: reply %s -> %s",
	    (long long)sc.id, reply_kind_name(rr.kind),
	    survey_state_name(c.state));
	if (res == SURVEY_RES_ORPHAN) {
		engine_orphan(e, in, &rr, hmac, now);
	} else if (res != SURVEY_RES_ERROR &&
	    engine_apply(e, &sc, &c, &acts, in->text, now) == -1) {
		survey_conv_clear(&c);
		store_conv_clear(&sc);
		store_rollback(e->st);
		return;
	}
	survey_conv_clear(&c);
	store_conv_clear(&sc);
done:
	if (store_sms_in_done(e->st, in) == -1 || store_commit(e->st) == -1) {
		store_rollback(e->st);
		return;
	}
	sms_kick(e->sms);
}

/* Finish a transaction begun with own = !store_in_transaction(): commit
 * (or roll back on failure) only if we opened it. */
static void
engine_txn_end(struct engine *e, bool own, bool ok)
{
	if (!own)
		return;
	if (!ok || store_commit(e->st) == -1)
		store_rollback(e->st);
}

void
engine_on_final(int64_t msg_id, int64_t conversation_id, const char *purpose,
    const char *modem, const char *state, void *arg)
{
	struct engine *e = arg;
	struct store_conv sc;
	struct survey_conv c;
	int64_t now = now_s();
	bool own;

	(void)msg_id;
	if (conversation_id <= 0 || (strcmp(purpose, "invitation") != 0 &&
	    strcmp(purpose, "link_invitation") != 0))
		return;
	/* Called from the SMS pipeline, sometimes inside its transaction
	 * (recovery, status reports): join it rather than nest. */
	own = !store_in_transaction(e->st);
	if (own && store_begin(e->st) == -1)
		return;
	if (store_conv_get(e->st, conversation_id, &sc) != 1) {
		if (own)
			store_rollback(e->st);
		return;
	}
	if (strcmp(purpose, "link_invitation") == 0) {
		engine_link_final(e, &sc, state, now);
		engine_txn_end(e, own, store_conv_update(e->st, &sc) == 0);
		store_conv_clear(&sc);
		return;
	}
	if (strcmp(state, "sent") == 0 && sc.modem[0] == '\0')
		strlcpy_s(sc.modem, modem, sizeof(sc.modem));
	if (strcmp(state, "delivered") == 0)
		sc.delivered_at = now;
	if (strcmp(state, "failed") == 0 && strcmp(sc.state, "closed") != 0) {
		/* The invitation never went: no survey, no record. */
		conv_from_json(sc.data, &c);
		c.state = SURVEY_CLOSED;
		c.closed_at = now;
		strlcpy_s(sc.state, "closed", sizeof(sc.state));
		strlcpy_s(sc.status, "failed", sizeof(sc.status));
		sc.closed_at = now;
		sc.expires_at = 0;
		free(sc.data);
		sc.data = conv_to_json(&c);
		survey_conv_clear(&c);
		store_visit_set_state(e->st, sc.visit_id, "failed", NULL);
		log_warnx("survey", "conversation %lld: the invitation could "
		    "not be sent", (long long)sc.id);
	}
	engine_txn_end(e, own, store_conv_update(e->st, &sc) == 0);
	store_conv_clear(&sc);
}

/* --- control commands ------------------------------------------------------ */

static void
export_one(const char *text, void *arg)
{
	json_object *arr = arg, *o = json_tokener_parse(text);

	if (o != NULL)
		json_object_array_add(arr, o);
}

void
engine_cmd_export(void *arg, json_object *args, struct ctl_reply *rep)
{
	struct engine *e = arg;
	const char *a0 = NULL, *a1 = NULL;
	int64_t since = 0;

	if (json_object_array_length(args) > 0)
		a0 = json_object_get_string(json_object_array_get_idx(args, 0));
	if (json_object_array_length(args) > 1)
		a1 = json_object_get_string(json_object_array_get_idx(args, 1));
	if (a0 != NULL) {
		if (strcmp(a0, "--since") != 0 || a1 == NULL ||
		    !spool_parse_time(a1, &since)) {
			rep->error = xstrdup("usage: export [--since RFC3339]"
			    " (e.g. 2026-11-24T00:00:00+02:00)");
			return;
		}
	}
	rep->result = json_object_new_array();
	if (store_responses_export(e->st, since, export_one, rep->result) == -1)
		rep->error = xstrdup("store error");
}

struct units_ctx {
	struct engine *e;
	json_object *arr;
	char *text;
	size_t len;
};

static void
units_one(const struct store_unit_stats *u, void *arg)
{
	struct units_ctx *x = arg;
	json_object *o = json_object_new_object();
	int64_t answered = u->promoters + u->passives + u->detractors;
	char line[256];
	int n;

	jadd_str(o, "unit", u->unit);
	json_object_object_add(o, "rate",
	    json_object_new_double(engine_rate(x->e, u->unit)));
	jadd_i64(o, "visits", u->visits);
	jadd_i64(o, "eligible", u->eligible);
	jadd_i64(o, "sampled", u->sampled);
	jadd_i64(o, "invited", u->invited);
	jadd_i64(o, "delivered", u->delivered);
	jadd_i64(o, "answered", u->answered);
	jadd_i64(o, "opted_out", u->optout);
	jadd_i64(o, "invalid", u->invalid);
	jadd_i64(o, "promoters", u->promoters);
	jadd_i64(o, "passives", u->passives);
	jadd_i64(o, "detractors", u->detractors);
	if (answered > 0)
		json_object_object_add(o, "nps", json_object_new_double(
		    100.0 * (double)(u->promoters - u->detractors) /
		    (double)answered));
	else
		json_object_object_add(o, "nps", NULL);
	json_object_array_add(x->arr, o);
	n = snprintf(line, sizeof(line), "%-20s %5.2f %7lld %8lld %7lld "
	    "%9lld %8lld %7lld %7lld  %s\n", u->unit,
	    engine_rate(x->e, u->unit), (long long)u->visits,
	    (long long)u->eligible, (long long)u->invited,
	    (long long)u->delivered, (long long)u->answered,
	    (long long)u->optout, (long long)u->invalid, answered > 0 ?
	    "" : "-");
	if (answered > 0) {
		n--;
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%+.0f\n",
		    100.0 * (double)(u->promoters - u->detractors) /
		    (double)answered);
	}
	x->text = xrealloc(x->text, x->len + (size_t)n + 1);
	memcpy(x->text + x->len, line, (size_t)n + 1);
	x->len += (size_t)n;
}

void
engine_cmd_units(void *arg, json_object *args, struct ctl_reply *rep)
{
	struct units_ctx x;

	(void)args;
	x.e = arg;
	x.arr = json_object_new_array();
	x.text = xasprintf("%-20s %5s %7s %8s %7s %9s %8s %7s %7s  %s\n",
	    "UNIT", "RATE", "VISITS", "ELIGIBLE", "INVITED", "DELIVERED",
	    "ANSWERED", "OPTOUT", "INVALID", "NPS");
	x.len = strlen(x.text);
	if (store_units(x.e->st, units_one, &x) == -1) {
		rep->error = xstrdup("store error");
		json_object_put(x.arr);
		free(x.text);
		return;
	}
	rep->result = x.arr;
	rep->text = x.text;
}

static void
review_one(const struct store_review_item *it, void *arg)
{
	json_object *arr = arg, *o = json_object_new_object();
	char t[32];

	jadd_i64(o, "id", it->id);
	fmt_time(it->received_at, t, sizeof(t));
	jadd_str(o, "received_at", t);
	jadd_str(o, "reason", it->reason);
	json_object_object_add(o, "conversation", it->conversation_id > 0 ?
	    json_object_new_int64(it->conversation_id) : NULL);
	jadd_str(o, "text", it->text);
	json_object_array_add(arr, o);
}

void
engine_cmd_review(void *arg, json_object *args, struct ctl_reply *rep)
{
	struct engine *e = arg;
	size_t n = json_object_array_length(args);
	const char *a[3] = { NULL, NULL, NULL };
	int64_t id, conv = 0;
	char *end;
	size_t i;
	int r;

	for (i = 0; i < n && i < 3; i++)
		a[i] = json_object_get_string(json_object_array_get_idx(args,
		    i));
	if (n == 0) {
		rep->result = json_object_new_array();
		if (store_review_list(e->st, review_one, rep->result) == -1)
			rep->error = xstrdup("store error");
		return;
	}
	if (n != 3 || strcmp(a[0], "resolve") != 0) {
		rep->error = xstrdup("usage: review [resolve ID SCORE|none]");
		return;
	}
	id = strtoll(a[1], &end, 10);
	if (*end != '\0' || id <= 0) {
		rep->error = xasprintf("bad review id \"%s\"", a[1]);
		return;
	}
	if (strcmp(a[2], "none") != 0) {
		long sc = strtol(a[2], &end, 10);

		if (*end != '\0' || a[2][0] == '\0' || sc < 0 || sc > 10) {
			rep->error = xstrdup("SCORE must be 0..10 or none");
			return;
		}
	}
	if (store_begin(e->st) == -1) {
		rep->error = xstrdup("store busy");
		return;
	}
	r = store_review_resolve(e->st, id, a[2], now_s(), &conv);
	if (r == 1 && conv > 0 && strcmp(a[2], "none") != 0) {
		struct store_conv sc;
		struct survey_conv c;

		if (store_conv_get(e->st, conv, &sc) == 1) {
			conv_from_json(sc.data, &c);
			c.score = atoi(a[2]);
			c.has_kind = true;
			c.kind = SURVEY_REPLY_SCORE;
			if (c.state == SURVEY_CLOSED) {
				c.revision++;
				engine_write_record(e, &sc, &c, now_s());
			}
			free(sc.data);
			sc.data = conv_to_json(&c);
			store_conv_update(e->st, &sc);
			survey_conv_clear(&c);
			store_conv_clear(&sc);
		}
	}
	if (r < 0 || store_commit(e->st) == -1) {
		store_rollback(e->st);
		rep->error = xstrdup("store error");
		return;
	}
	if (r == 0) {
		rep->error = xasprintf("no open review item %lld",
		    (long long)id);
		return;
	}
	rep->result = json_object_new_object();
	json_object_object_add(rep->result, "resolved",
	    json_object_new_int64(id));
	rep->text = xasprintf("review item %lld resolved as %s\n",
	    (long long)id, a[2]);
}

void
engine_cmd_optout(void *arg, json_object *args, struct ctl_reply *rep)
{
	struct engine *e = arg;
	const char *op, *phone;
	char e164[32], hmac[SAMPLER_HMAC_HEX_LEN + 1];
	int r = 0;

	if (json_object_array_length(args) != 2) {
		rep->error = xstrdup("usage: optout add|remove|check PHONE");
		return;
	}
	op = json_object_get_string(json_object_array_get_idx(args, 0));
	phone = json_object_get_string(json_object_array_get_idx(args, 1));
	if (sms_codec_normalize_phone(phone, e164, sizeof(e164)) == -1 ||
	    sampler_phone_hmac(e->key, e164, hmac) == -1) {
		rep->error = xstrdup("not a valid phone number");
		return;
	}
	if (strcmp(op, "add") == 0)
		r = store_suppress_add(e->st, hmac, "admin", now_s());
	else if (strcmp(op, "remove") == 0)
		r = store_suppress_remove(e->st, hmac);
	else if (strcmp(op, "check") == 0)
		r = store_suppressed(e->st, hmac);
	else {
		rep->error = xstrdup("usage: optout add|remove|check PHONE");
		return;
	}
	if (r < 0) {
		rep->error = xstrdup("store error");
		return;
	}
	rep->result = json_object_new_object();
	if (strcmp(op, "check") == 0) {
		json_object_object_add(rep->result, "suppressed",
		    json_object_new_boolean(r == 1));
		rep->text = xstrdup(r == 1 ? "suppressed\n" :
		    "not suppressed\n");
	} else {
		json_object_object_add(rep->result, "suppressed",
		    json_object_new_boolean(strcmp(op, "add") == 0));
		rep->text = xstrdup(strcmp(op, "add") == 0 ? "added\n" :
		    r == 1 ? "removed\n" : "was not on the list\n");
	}
}

/* --- life cycle ---------------------------------------------------------- */

/* The parser's word lists extended with replies = { ... } from c. */
struct reply_lexicon *
engine_lexicon(const struct conf *c)
{
	static const enum reply_list map[CONF_WORDS_COUNT] = {
		REPLY_LIST_KEYWORD, REPLY_LIST_OPTOUT_PHRASE, REPLY_LIST_FILLER,
		REPLY_LIST_CUE, REPLY_LIST_MODIFIER, REPLY_LIST_MARKER,
		REPLY_LIST_UNIT, REPLY_LIST_PLACE,
	};
	struct reply_lexicon *lex = reply_lexicon_new();
	size_t w, i;

	if (lex == NULL)
		fatalx("survey", "out of memory");
	for (w = 0; w < CONF_WORDS_COUNT; w++)
		for (i = 0; c->words[w] != NULL && c->words[w][i] != NULL;
		    i++)
			if (reply_lexicon_add(lex, map[w], c->words[w][i]) == -1)
				log_warnx("survey", "replies.%s: \"%s\" not "
				    "added", conf_words_names[w],
				    c->words[w][i]);
	return lex;
}

struct engine *
engine_new(struct ev *ev, struct store *st, struct sms *sms,
    const struct conf *conf, const uint8_t key[ENGINE_KEY_LEN])
{
	struct engine *e = xcalloc(1, sizeof(*e));

	e->ev = ev;
	e->st = st;
	e->sms = sms;
	e->conf = conf;
	memcpy(e->key, key, ENGINE_KEY_LEN);
	e->lex = engine_lexicon(conf);
	e->timer = ev_timer_add(ev, 0, engine_tick, e);
	return e;
}

void
engine_set_conf(struct engine *e, const struct conf *conf)
{
	e->conf = conf;
	reply_lexicon_free(e->lex);
	e->lex = engine_lexicon(conf);
}

void
engine_free(struct engine *e)
{
	if (e == NULL)
		return;
	ev_timer_del(e->ev, e->timer);
	reply_lexicon_free(e->lex);
	explicit_bzero(e->key, sizeof(e->key));
	free(e);
}
