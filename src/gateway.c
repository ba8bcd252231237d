/*
 * gateway: wires the modules together.  Start-up order: directories,
 * store, signals, (modules), READY=1; shutdown is the reverse.
 */
#include "config.h"

#include "smsgw/gateway.h"

#include <errno.h>
#include <grp.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "smsgw/conf.h"
#include "smsgw/ctl.h"
#include "smsgw/engine.h"
#include "smsgw/spool.h"
#include "smsgw/sync.h"
#include "smsgw/ev.h"
#include "smsgw/log.h"
#include "smsgw/modem.h"
#include "smsgw/provider.h"
#include "smsgw/sms.h"
#include "smsgw/sms_codec.h"
#include "smsgw/sdnotify.h"
#include "smsgw/store.h"
#include "smsgw/util.h"

struct gateway {
	struct ev *ev;
	struct conf *conf;
	char *conf_path;
	struct store *store;
	struct ctl *ctl;
	struct sms *sms;
	struct engine *engine;
	struct spool *spool;
	struct sync *sync;
	struct provider *provider;
	uint32_t sync_timer;
	struct store_outbox_row *ob_rows;
	struct sync_record *ob_recs;
	size_t ob_n;
	struct modem **modems;
	size_t nmodems;
	uint64_t watchdog_ms;
	uint32_t watchdog_timer;
	uint64_t started_ms;
	int exit_code;
};

static void gateway_notify_status(struct gateway *gw);

static int
gateway_dirs(const struct conf *c)
{
	static const char *const sub[] = { "tmp", "new", "done", "rejected" };
	size_t i;

	if (util_mkdirs(c->state_dir, 0750) == -1) {
		fprintf(stderr, "smsgwd: cannot create state_dir %s: %s\n",
		    c->state_dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		char *p = xasprintf("%s/%s", c->spool_dir, sub[i]);
		int r = util_mkdirs(p, 0770);

		if (r == -1)
			fprintf(stderr, "smsgwd: cannot create %s: %s\n", p,
			    strerror(errno));
		free(p);
		if (r == -1)
			return -1;
	}
	return 0;
}

/* --- modems ----------------------------------------------------------- */

static void
ev_modem_state(struct modem *m, enum modem_state st, void *arg)
{
	struct gateway *gw = arg;

	(void)st;
	sms_modem_state(gw->sms, m);
	gateway_notify_status(gw);
}

static void
ev_sms_stored(struct modem *m, int index, void *arg)
{
	struct gateway *gw = arg;

	sms_modem_stored(gw->sms, m, index);
}

static void
ev_sms_direct(struct modem *m, const char *pdu, void *arg)
{
	struct gateway *gw = arg;

	sms_modem_direct(gw->sms, m, pdu);
}

static void
ev_status_report(struct modem *m, const char *pdu, void *arg)
{
	struct gateway *gw = arg;

	sms_modem_report(gw->sms, m, pdu);
}

static void
ev_report_stored(struct modem *m, int index, void *arg)
{
	struct gateway *gw = arg;

	sms_modem_report_stored(gw->sms, m, index);
}

static const struct modem_events gateway_modem_events = {
	ev_modem_state, ev_sms_stored, ev_sms_direct, ev_status_report,
	ev_report_stored,
};

static void
gateway_modem_start(struct gateway *gw, const struct conf_modem *cm)
{
	struct modem *m = modem_new(gw->ev, cm, (unsigned)gw->conf->reset_timeouts,
	    &gateway_modem_events, gw);

	gw->modems = xrealloc(gw->modems, (gw->nmodems + 1) *
	    sizeof(*gw->modems));
	gw->modems[gw->nmodems++] = m;
	sms_modem_add(gw->sms, m);
	modem_start(m);
}

static void
gateway_modem_stop(struct gateway *gw, size_t i)
{
	struct modem *m = gw->modems[i];

	sms_modem_remove(gw->sms, m);
	modem_free(m);
	gw->modems[i] = gw->modems[--gw->nmodems];
}

/*
 * Apply the modem list of a new config: modems removed or changed
 * (device, baud, pin, storage_send) are closed, new and changed ones are
 * opened; the others keep running undisturbed.
 */
static void
gateway_modems_apply(struct gateway *gw, const struct conf *nc)
{
	size_t i, j;

	for (i = 0; i < gw->nmodems;) {
		const struct conf_modem *cm = conf_modem_find(nc,
		    modem_name(gw->modems[i]));
		const struct conf_modem *old = conf_modem_find(gw->conf,
		    modem_name(gw->modems[i]));

		if (cm == NULL || old == NULL ||
		    strcmp(cm->device, old->device) != 0 ||
		    cm->baud != old->baud || strcmp(cm->pin, old->pin) != 0 ||
		    cm->storage_send != old->storage_send) {
			log_info("modem", "%s: %s by the new configuration",
			    modem_name(gw->modems[i]), cm == NULL ? "removed" :
			    "changed");
			gateway_modem_stop(gw, i);
		} else
			i++;
	}
	for (j = 0; j < nc->nmodems; j++) {
		for (i = 0; i < gw->nmodems; i++)
			if (strcmp(modem_name(gw->modems[i]),
			    nc->modems[j].name) == 0)
				break;
		if (i == gw->nmodems)
			gateway_modem_start(gw, &nc->modems[j]);
	}
}

/* --- upstream: the store's outbox as the sync source ---------------- */

static void
outbox_release(struct gateway *gw)
{
	size_t i;

	for (i = 0; i < gw->ob_n; i++)
		free(gw->ob_rows[i].body);
	free(gw->ob_rows);
	free(gw->ob_recs);
	gw->ob_rows = NULL;
	gw->ob_recs = NULL;
	gw->ob_n = 0;
}

static int
outbox_next(void *arg, size_t max, const struct sync_record **recs)
{
	struct gateway *gw = arg;
	size_t i;

	outbox_release(gw);
	gw->ob_rows = xcalloc(max > 0 ? max : 1, sizeof(*gw->ob_rows));
	if (store_outbox_pending(gw->store, max, gw->ob_rows, &gw->ob_n) == -1)
		return -1;
	gw->ob_recs = xcalloc(gw->ob_n + 1, sizeof(*gw->ob_recs));
	for (i = 0; i < gw->ob_n; i++) {
		gw->ob_recs[i].id = gw->ob_rows[i].id;
		gw->ob_recs[i].body = gw->ob_rows[i].body;
	}
	*recs = gw->ob_recs;
	return (int)gw->ob_n;
}

static int
outbox_synced(void *arg, const int64_t *ids, size_t n, const char *key)
{
	struct gateway *gw = arg;

	return store_outbox_mark(gw->store, ids, n, "sent", key, NULL,
	    util_wall_ms() / 1000);
}

static int
outbox_failed(void *arg, const int64_t *ids, size_t n, const char *reason)
{
	struct gateway *gw = arg;

	log_warnx("sync", "upstream refused %zu record(s) (%s); parked "
	    "until reload", n, reason);
	return store_outbox_mark(gw->store, ids, n, "failed", NULL, reason,
	    util_wall_ms() / 1000);
}

static const struct sync_source gateway_outbox = {
	outbox_next, outbox_synced, outbox_failed,
};

static void
sync_config_from(const struct conf *c, struct sync_config *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->url = c->upstream.url;
	sc->batch = (size_t)c->upstream.batch;
	sc->timeout_s = (unsigned)c->upstream.timeout_s;
	sc->token_file = c->upstream.token_file;
	sc->ca_file = c->upstream.ca_file;
}

static void
on_sync_timer(void *arg)
{
	struct gateway *gw = arg;

	gw->sync_timer = ev_timer_add(gw->ev, 500, on_sync_timer, gw);
	sync_kick(gw->sync);
}

static void
on_provider_final(int64_t msg_id, int64_t conversation_id, const char *state,
    void *arg)
{
	struct gateway *gw = arg;

	engine_on_final(msg_id, conversation_id, PROVIDER_PURPOSE, "smpp",
	    state, gw->engine);
}

static void
on_term(int signo, void *arg)
{
	struct gateway *gw = arg;

	log_info("main", "signal %d: shutting down", signo);
	sdnotify_send("STOPPING=1");
	ev_break(gw->ev);
}

static void
on_hup(int signo, void *arg)
{
	struct gateway *gw = arg;
	char **errs = NULL;

	(void)signo;
	if (gateway_reload(gw, &errs) == 0)
		return;
	conf_errors_free(errs);
}

/* STATUS= line for systemctl status: modem states at a glance. */
static void
gateway_notify_status(struct gateway *gw)
{
	char buf[512];
	size_t i, off;

	off = (size_t)snprintf(buf, sizeof(buf), "STATUS=");
	for (i = 0; i < gw->nmodems && off < sizeof(buf); i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s %s",
		    i > 0 ? ", " : "", modem_name(gw->modems[i]),
		    modem_state_name(modem_get_state(gw->modems[i])));
	if (gw->nmodems == 0)
		snprintf(buf + off, sizeof(buf) - off, "no modems");
	sdnotify_send(buf);
}

static void
on_watchdog(void *arg)
{
	struct gateway *gw = arg;

	sdnotify_send("WATCHDOG=1");
	gw->watchdog_timer = ev_timer_add(gw->ev, gw->watchdog_ms / 2,
	    on_watchdog, gw);
}

static gid_t
gateway_gid(const struct conf *c)
{
	struct group *g;

	if (c->control_group[0] == '\0')
		return (gid_t)-1;
	g = getgrnam(c->control_group);
	return g != NULL ? g->gr_gid : (gid_t)-1;
}

static const char *
arg_str(json_object *args, size_t i)
{
	json_object *o = json_object_array_get_idx(args, i);

	return o != NULL ? json_object_get_string(o) : NULL;
}

/* The aligned text form of status for a person. */
static char *
gateway_status_text(struct gateway *gw, json_object *r)
{
	json_object *q, *mods, *v;
	char *out, *p;
	size_t i, cap = 4096, len = 0;

#define APPEND(...) do {						\
		int n_ = snprintf(out + len, cap - len, __VA_ARGS__);	\
		if (n_ > 0 && (size_t)n_ >= cap - len) {		\
			cap = cap * 2 + (size_t)n_;			\
			out = xrealloc(out, cap);			\
			n_ = snprintf(out + len, cap - len, __VA_ARGS__); \
		}							\
		if (n_ > 0)						\
			len += (size_t)n_;				\
	} while (0)

	out = xmalloc(cap);
	out[0] = '\0';
	APPEND("smsgwd %s, up %lld s, transport %s\n", PACKAGE_VERSION,
	    (long long)((util_mono_ms() - gw->started_ms) / 1000),
	    gw->conf->transport);
	APPEND("%-8s %-10s %-9s %6s %-16s %6s %6s %8s  %s\n", "MODEM", "STATE",
	    "REGISTER", "DBM", "OPERATOR", "SENT", "FAILED", "RECEIVED",
	    "LAST ERROR");
	json_object_object_get_ex(r, "modems", &mods);
	for (i = 0; i < json_object_array_length(mods); i++) {
		json_object *m = json_object_array_get_idx(mods, i), *x;
		const char *op = "-", *err = "", *st = "?";
		char dbm[16] = "-";
		int reg = 0;
		int64_t sent = 0, failed = 0, recv = 0;

		if (json_object_object_get_ex(m, "state", &x))
			st = json_object_get_string(x);
		if (json_object_object_get_ex(m, "registered", &x))
			reg = json_object_get_boolean(x);
		if (json_object_object_get_ex(m, "signal_dbm", &x) && x != NULL)
			snprintf(dbm, sizeof(dbm), "%d", json_object_get_int(x));
		if (json_object_object_get_ex(m, "operator", &x) && x != NULL)
			op = json_object_get_string(x);
		if (json_object_object_get_ex(m, "last_error", &x) && x != NULL)
			err = json_object_get_string(x);
		if (json_object_object_get_ex(m, "sent", &x))
			sent = json_object_get_int64(x);
		if (json_object_object_get_ex(m, "failed", &x))
			failed = json_object_get_int64(x);
		if (json_object_object_get_ex(m, "received", &x))
			recv = json_object_get_int64(x);
		APPEND("%-8s %-10s %-9s %6s %-16.16s %6lld %6lld %8lld  %s\n",
		    modem_name(gw->modems[i]), st, reg ? "yes" : "no", dbm,
		    op, (long long)sent, (long long)failed, (long long)recv,
		    err);
	}
	json_object_object_get_ex(r, "queues", &q);
	APPEND("queues:");
	json_object_object_foreach(q, key, val) {
		(void)v;
		APPEND(" %s=%lld", key, (long long)json_object_get_int64(val));
	}
	APPEND("\n");
#undef APPEND
	p = out;
	return p;
}

static void
cmd_status(void *arg, json_object *args, struct ctl_reply *rep)
{
	struct gateway *gw = arg;
	json_object *r = json_object_new_object(), *mods, *q;
	size_t i;

	(void)args;
	json_object_object_add(r, "version",
	    json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(r, "uptime_s", json_object_new_int64(
	    (int64_t)((util_mono_ms() - gw->started_ms) / 1000)));
	json_object_object_add(r, "transport",
	    json_object_new_string(gw->conf->transport));
	mods = json_object_new_array();
	for (i = 0; i < gw->nmodems; i++) {
		json_object *m = json_object_new_object();
		struct modem_info mi;
		struct sms_counters sc;

		modem_get_info(gw->modems[i], &mi);
		sms_get_counters(gw->sms, gw->modems[i], &sc);
		json_object_object_add(m, "name",
		    json_object_new_string(modem_name(gw->modems[i])));
		json_object_object_add(m, "device",
		    json_object_new_string(modem_device(gw->modems[i])));
		json_object_object_add(m, "state",
		    json_object_new_string(modem_state_name(mi.state)));
		json_object_object_add(m, "signal_dbm", mi.signal_dbm != 0 ?
		    json_object_new_int(mi.signal_dbm) : NULL);
		json_object_object_add(m, "operator", mi.operator_name[0] ?
		    json_object_new_string(mi.operator_name) : NULL);
		json_object_object_add(m, "registered",
		    json_object_new_boolean(mi.registered));
		json_object_object_add(m, "roaming",
		    json_object_new_boolean(mi.roaming));
		json_object_object_add(m, "storage_send",
		    json_object_new_boolean(modem_storage_send(gw->modems[i])));
		json_object_object_add(m, "last_error", mi.last_error[0] ?
		    json_object_new_string(mi.last_error) : NULL);
		json_object_object_add(m, "model", mi.model[0] ?
		    json_object_new_string(mi.model) : NULL);
		json_object_object_add(m, "sent",
		    json_object_new_int64((int64_t)sc.sent));
		json_object_object_add(m, "failed",
		    json_object_new_int64((int64_t)sc.failed));
		json_object_object_add(m, "received",
		    json_object_new_int64((int64_t)sc.received));
		json_object_object_add(m, "uncertain",
		    json_object_new_int64((int64_t)sc.uncertain));
		json_object_object_add(m, "resets",
		    json_object_new_int64((int64_t)mi.resets));
		json_object_array_add(mods, m);
	}
	json_object_object_add(r, "modems", mods);
	q = json_object_new_object();
	json_object_object_add(q, "visits", json_object_new_int64(
	    store_visits_count(gw->store, "scheduled")));
	json_object_object_add(q, "spool_backlog", json_object_new_int64(
	    gw->spool != NULL ? (int64_t)spool_backlog(gw->spool) : 0));
	json_object_object_add(q, "conversations_open", json_object_new_int64(
	    store_convs_open(gw->store)));
	json_object_object_add(q, "sms_out", json_object_new_int64(
	    store_sms_out_count(gw->store, "queued") +
	    store_sms_out_count(gw->store, "sending")));
	json_object_object_add(q, "sms_uncertain", json_object_new_int64(
	    store_sms_out_count(gw->store, "uncertain")));
	json_object_object_add(q, "sms_failed", json_object_new_int64(
	    store_sms_out_count(gw->store, "failed")));
	json_object_object_add(q, "upstream", json_object_new_int64(
	    store_outbox_count(gw->store, "pending")));
	json_object_object_add(q, "upstream_failed", json_object_new_int64(
	    store_outbox_count(gw->store, "failed")));
	json_object_object_add(r, "queues", q);
	if (gw->provider != NULL)
		json_object_object_add(r, "smpp", provider_status(gw->provider));
	rep->text = gateway_status_text(gw, r);
	if (gw->sync != NULL) {
		struct sync_status ss;
		json_object *u = json_object_new_object();

		sync_get_status(gw->sync, &ss);
		json_object_object_add(u, "state",
		    json_object_new_string(sync_state_name(ss.state)));
		json_object_object_add(u, "last_http_status",
		    json_object_new_int64(ss.last_http_status));
		json_object_object_add(u, "last_error", ss.last_error[0] ?
		    json_object_new_string(ss.last_error) : NULL);
		json_object_object_add(u, "posted_records",
		    json_object_new_int64((int64_t)ss.posted_records));
		json_object_object_add(u, "next_retry_ms", ss.next_retry_in_ms >= 0 ?
		    json_object_new_int64(ss.next_retry_in_ms) : NULL);
		json_object_object_add(r, "upstream", u);
	}
	rep->result = r;
}

static void
cmd_reload(void *arg, json_object *args, struct ctl_reply *rep)
{
	struct gateway *gw = arg;
	char **errs = NULL, *msg = NULL;
	size_t i, len = 0;

	(void)args;
	if (gateway_reload(gw, &errs) == 0) {
		rep->result = json_object_new_string("configuration reloaded");
		return;
	}
	for (i = 0; errs != NULL && errs[i] != NULL; i++) {
		size_t n = strlen(errs[i]);

		msg = xrealloc(msg, len + n + 2);
		memcpy(msg + len, errs[i], n);
		len += n;
		msg[len++] = '\n';
		msg[len] = '\0';
	}
	if (len > 0)
		msg[len - 1] = '\0';
	rep->error = msg != NULL ? msg : xstrdup("reload failed");
	conf_errors_free(errs);
}

static void
cmd_rate(void *arg, json_object *args, struct ctl_reply *rep)
{
	struct gateway *gw = arg;
	const char *unit = arg_str(args, 0), *v = arg_str(args, 1);
	json_object *r;
	double rate;
	char *end;

	if (unit == NULL || v == NULL) {
		rep->error = xstrdup("usage: rate UNIT RATE|default");
		return;
	}
	if (unit[0] == '\0' || strlen(unit) > 64 ||
	    strspn(unit, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.-") != strlen(unit)) {
		rep->error = xstrdup("unit must be 1-64 of [A-Za-z0-9_.-]");
		return;
	}
	if (strcmp(v, "default") == 0) {
		if (store_rate_clear(gw->store, unit) == -1) {
			rep->error = xstrdup("store error");
			return;
		}
		rate = conf_unit_rate(gw->conf, unit);
	} else {
		errno = 0;
		rate = strtod(v, &end);
		if (errno != 0 || end == v || *end != '\0' ||
		    !(rate >= 0 && rate <= 1) || isnan(rate)) {
			rep->error = xasprintf("rate must be a number from 0 "
			    "to 1 or \"default\", not \"%s\"", v);
			return;
		}
		if (store_rate_set(gw->store, unit, rate,
		    util_wall_ms() / 1000) == -1) {
			rep->error = xstrdup("store error");
			return;
		}
	}
	log_info("ctl", "unit %s sampling rate set to %g%s", unit, rate,
	    strcmp(v, "default") == 0 ? " (config default)" : "");
	r = json_object_new_object();
	json_object_object_add(r, "unit", json_object_new_string(unit));
	json_object_object_add(r, "rate", json_object_new_double(rate));
	json_object_object_add(r, "source", json_object_new_string(
	    strcmp(v, "default") == 0 ? "config" : "override"));
	rep->result = r;
	rep->text = xasprintf("%s: sampling rate %g (%s)\n", unit, rate,
	    strcmp(v, "default") == 0 ? "config" : "override");
}

/* send PHONE TEXT [MODEM]: a test message through the normal queue. */
static void
cmd_send(void *arg, json_object *args, struct ctl_reply *rep)
{
	struct gateway *gw = arg;
	const char *phone = arg_str(args, 0), *text = arg_str(args, 1);
	const char *modem = arg_str(args, 2);
	char e164[32];
	int64_t id;

	if (phone == NULL || text == NULL || text[0] == '\0') {
		rep->error = xstrdup("usage: send PHONE TEXT [MODEM]");
		return;
	}
	if (sms_codec_normalize_phone(phone, e164, sizeof(e164)) == -1) {
		rep->error = xstrdup("not a valid phone number");
		return;
	}
	if (modem != NULL && conf_modem_find(gw->conf, modem) == NULL) {
		rep->error = xasprintf("no modem named %s", modem);
		return;
	}
	if (sms_queue(gw->sms, 0, "test", e164, text, modem,
	    util_wall_ms() / 1000, &id) == -1) {
		rep->error = xstrdup("cannot queue the message");
		return;
	}
	sms_kick(gw->sms);
	rep->result = json_object_new_object();
	json_object_object_add(rep->result, "queued",
	    json_object_new_int64(id));
	rep->text = xasprintf("queued as message %lld\n", (long long)id);
}

static int
gateway_ctl_start(struct gateway *gw)
{
	gw->ctl = ctl_new(gw->ev, gw->conf->control_socket,
	    gateway_gid(gw->conf));
	if (gw->ctl == NULL) {
		fprintf(stderr, "smsgwd: control socket %s: %s\n",
		    gw->conf->control_socket, strerror(errno));
		return -1;
	}
	ctl_register(gw->ctl, "status", cmd_status, gw);
	ctl_register(gw->ctl, "reload", cmd_reload, gw);
	ctl_register(gw->ctl, "rate", cmd_rate, gw);
	ctl_register(gw->ctl, "send", cmd_send, gw);
	return 0;
}

struct gateway *
gateway_new(struct conf *conf, const char *conf_path)
{
	struct gateway *gw;
	char *dbpath, *err = NULL;

	if (gateway_dirs(conf) == -1)
		return NULL;
	gw = xcalloc(1, sizeof(*gw));
	gw->conf = conf;
	gw->conf_path = xstrdup(conf_path);
	gw->ev = ev_new();
	gw->started_ms = util_mono_ms();
	dbpath = xasprintf("%s/smsgwd.db", conf->state_dir);
	gw->store = store_open(dbpath, &err);
	if (gw->store == NULL) {
		fprintf(stderr, "smsgwd: store: %s\n", err);
		free(err);
		free(dbpath);
		gw->conf = NULL;
		gateway_free(gw);
		return NULL;
	}
	free(dbpath);
	if (gateway_ctl_start(gw) == -1) {
		gw->conf = NULL;
		gateway_free(gw);
		return NULL;
	}
	{
		static const struct sms_events sevs = { engine_on_message,
			engine_on_final };
		uint8_t key[ENGINE_KEY_LEN];
		char kerr[256];
		size_t i;

		if (engine_load_key(conf->state_dir, key, kerr,
		    sizeof(kerr)) == -1) {
			fprintf(stderr, "smsgwd: %s\n", kerr);
			gw->conf = NULL;
			gateway_free(gw);
			return NULL;
		}
		gw->sms = sms_new(gw->ev, gw->store,
		    (unsigned)conf->send_attempts, &sevs, NULL);
		sms_set_pace(gw->sms, (unsigned)conf->schedule.pace_ms);
		sms_set_sweep(gw->sms, (unsigned)conf->storage_poll_s);
		gw->engine = engine_new(gw->ev, gw->store, gw->sms, conf, key);
		explicit_bzero(key, sizeof(key));
		sms_set_arg(gw->sms, gw->engine);
		if (strcmp(conf->transport, "smpp") == 0) {
			gw->provider = provider_new(gw->ev, gw->store, conf,
			    on_provider_final, gw);
			if (gw->provider == NULL) {
				fprintf(stderr, "smsgwd: cannot start the SMPP "
				    "transport\n");
				gw->conf = NULL;
				gateway_free(gw);
				return NULL;
			}
		} else
			for (i = 0; i < conf->nmodems; i++)
				gateway_modem_start(gw, &conf->modems[i]);
		gw->spool = spool_new(gw->ev, conf->spool_dir,
		    engine_spool_sink, gw->engine);
		if (gw->spool == NULL) {
			fprintf(stderr, "smsgwd: spool %s: %s\n",
			    conf->spool_dir, strerror(errno));
			gw->conf = NULL;
			gateway_free(gw);
			return NULL;
		}
		{
			struct sync_config scfg;

			sync_config_from(conf, &scfg);
			gw->sync = sync_new(gw->ev, &scfg, &gateway_outbox, gw);
			gw->sync_timer = ev_timer_add(gw->ev, 500, on_sync_timer,
			    gw);
		}
		engine_set_spool(gw->engine, gw->spool);
		ctl_register(gw->ctl, "export", engine_cmd_export, gw->engine);
		ctl_register(gw->ctl, "units", engine_cmd_units, gw->engine);
		ctl_register(gw->ctl, "review", engine_cmd_review, gw->engine);
		ctl_register(gw->ctl, "optout", engine_cmd_optout, gw->engine);
	}
	ev_signal_add(gw->ev, SIGTERM, on_term, gw);
	ev_signal_add(gw->ev, SIGINT, on_term, gw);
	ev_signal_add(gw->ev, SIGHUP, on_hup, gw);
	signal(SIGPIPE, SIG_IGN);
	gw->watchdog_ms = sdnotify_watchdog_ms();
	if (gw->watchdog_ms > 0)
		gw->watchdog_timer = ev_timer_add(gw->ev, gw->watchdog_ms / 2,
		    on_watchdog, gw);
	return gw;
}

int
gateway_run(struct gateway *gw)
{
	log_info("main", "smsgwd %s started: %zu modem(s), transport %s",
	    PACKAGE_VERSION, gw->conf->nmodems, gw->conf->transport);
	sdnotify_send("READY=1");
	gateway_notify_status(gw);
	if (ev_run(gw->ev) == -1)
		gw->exit_code = 2;
	log_info("main", "stopped");
	return gw->exit_code;
}

int
gateway_reload(struct gateway *gw, char ***errs)
{
	struct conf *nc;
	size_t i;

	sdnotify_send("RELOADING=1");
	nc = conf_load(gw->conf_path, true, errs);
	if (nc == NULL) {
		log_warnx("main", "reload refused, keeping the old config:");
		for (i = 0; *errs != NULL && (*errs)[i] != NULL; i++)
			log_warnx("main", "%s", (*errs)[i]);
		sdnotify_send("READY=1");
		return -1;
	}
	if (strcmp(nc->state_dir, gw->conf->state_dir) != 0 ||
	    strcmp(nc->spool_dir, gw->conf->spool_dir) != 0 ||
	    strcmp(nc->control_socket, gw->conf->control_socket) != 0)
		log_warnx("main", "new state_dir, spool_dir or control_socket "
		    "take effect at the next restart");
	if (strcmp(nc->transport, gw->conf->transport) != 0)
		log_warnx("main", "a new transport takes effect at the next "
		    "restart");
	else if (gw->provider == NULL)
		gateway_modems_apply(gw, nc);
	sms_set_attempts(gw->sms, (unsigned)nc->send_attempts);
	sms_set_pace(gw->sms, (unsigned)nc->schedule.pace_ms);
	sms_set_sweep(gw->sms, (unsigned)nc->storage_poll_s);
	engine_set_conf(gw->engine, nc);
	{
		struct sync_config scfg;

		/* Parked batches are retried after a reload. */
		store_outbox_retry_failed(gw->store);
		sync_config_from(nc, &scfg);
		sync_reconfigure(gw->sync, &scfg);
	}
	conf_free(gw->conf);
	gw->conf = nc;
	ctl_set_group(gw->ctl, gateway_gid(nc));
	log_info("main", "configuration reloaded");
	sdnotify_send("READY=1");
	return 0;
}

void
gateway_free(struct gateway *gw)
{
	if (gw == NULL)
		return;
	ctl_free(gw->ctl);
	ev_timer_del(gw->ev, gw->sync_timer);
	sync_free(gw->sync);
	outbox_release(gw);
	spool_free(gw->spool);
	provider_free(gw->provider);
	while (gw->nmodems > 0)
		gateway_modem_stop(gw, gw->nmodems - 1);
	free(gw->modems);
	engine_free(gw->engine);
	sms_free(gw->sms);
	store_close(gw->store);
	ev_free(gw->ev);
	conf_free(gw->conf);
	free(gw->conf_path);
	free(gw);
}
