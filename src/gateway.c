/*
 * gateway: wires the modules together.  Start-up order: directories,
 * store, signals, (modules), READY=1; shutdown is the reverse.
 */
#include "config.h"

#include "smsgw/gateway.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "smsgw/conf.h"
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
	log_info("main", "configuration reloaded");
	sdnotify_send("READY=1");
	return 0;
}

void
gateway_free(struct gateway *gw)
{
	if (gw == NULL)
		return;
	store_close(gw->store);
	ev_free(gw->ev);
	conf_free(gw->conf);
	free(gw->conf_path);
	free(gw);
}
