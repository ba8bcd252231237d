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
#include "smsgw/ev.h"
#include "smsgw/log.h"
#include "smsgw/sdnotify.h"
#include "smsgw/store.h"
#include "smsgw/util.h"

struct gateway {
	struct ev *ev;
	struct conf *conf;
	char *conf_path;
	struct store *store;
	struct ctl *ctl;
	uint64_t watchdog_ms;
	uint32_t watchdog_timer;
	uint64_t started_ms;
	int exit_code;
};

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
	for (i = 0; i < gw->conf->nmodems; i++) {
		json_object *m = json_object_new_object();

		json_object_object_add(m, "name",
		    json_object_new_string(gw->conf->modems[i].name));
		json_object_object_add(m, "device",
		    json_object_new_string(gw->conf->modems[i].device));
		json_object_object_add(m, "state",
		    json_object_new_string("absent"));
		json_object_object_add(m, "signal_dbm", NULL);
		json_object_object_add(m, "operator", NULL);
		json_object_object_add(m, "registered",
		    json_object_new_boolean(false));
		json_object_array_add(mods, m);
	}
	json_object_object_add(r, "modems", mods);
	q = json_object_new_object();
	json_object_object_add(q, "visits", json_object_new_int64(0));
	json_object_object_add(q, "sms_out", json_object_new_int64(0));
	json_object_object_add(q, "upstream", json_object_new_int64(0));
	json_object_object_add(r, "queues", q);
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
	size_t i;

	log_info("main", "smsgwd %s started: %zu modem(s), transport %s",
	    PACKAGE_VERSION, gw->conf->nmodems, gw->conf->transport);
	for (i = 0; i < gw->conf->nmodems; i++)
		log_info("modem", "%s: waiting for %s", gw->conf->modems[i].name,
		    gw->conf->modems[i].device);
	sdnotify_send("READY=1\nSTATUS=running");
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
	store_close(gw->store);
	ev_free(gw->ev);
	conf_free(gw->conf);
	free(gw->conf_path);
	free(gw);
}
