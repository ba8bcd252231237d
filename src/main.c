/*
 * smsgwd: the SMS survey gateway daemon.  main() parses flags, loads and
 * validates the config, opens the store and brings the modules up in
 * dependency order (torn down in reverse), then runs the event loop.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "smsgw/conf.h"
#include "smsgw/gateway.h"
#include "smsgw/ev.h"
#include "smsgw/log.h"
#include "smsgw/sdnotify.h"
#include "smsgw/util.h"

#ifndef SMSGW_SYSCONFDIR
#define SMSGW_SYSCONFDIR "/etc"
#endif

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: smsgwd [-dnV] [-f FILE] [-D MOD[,MOD...]]\n"
	    "\n"
	    "SMS survey gateway daemon: takes visits from the spool, sends\n"
	    "NPS invitations through GSM modems, parses replies and passes\n"
	    "responses upstream.\n"
	    "\n"
	    "  -f FILE   config file (default %s/smsgwd.conf)\n"
	    "  -d        stay in the foreground, log to stderr\n"
	    "  -n        check the configuration, print \"configuration OK\"\n"
	    "  -D MODS   debug logging for modules: at, modem, sms, spool,\n"
	    "            store, sync, ctl, survey, smpp, main, or all\n"
	    "  -V        print the version and exit\n"
	    "  -h        this help\n"
	    "\n"
	    "Exit status: 0 clean shutdown, 1 bad config, 2 other start-up "
	    "failure.\n"
	    "Signals: HUP reloads the config, TERM/INT shut down cleanly.\n",
	    SMSGW_SYSCONFDIR);
}

static void
print_errors(char **errs)
{
	size_t i;

	for (i = 0; errs != NULL && errs[i] != NULL; i++)
		fprintf(stderr, "%s\n", errs[i]);
}

int
main(int argc, char **argv)
{
	const char *file = SMSGW_SYSCONFDIR "/smsgwd.conf";
	const char *debug = NULL;
	bool foreground = false, check = false;
	struct gateway *gw;
	struct conf *c;
	char **errs = NULL;
	int ch, rc;

	while ((ch = getopt(argc, argv, "f:dnD:Vh")) != -1) {
		switch (ch) {
		case 'f':
			file = optarg;
			break;
		case 'd':
			foreground = true;
			break;
		case 'n':
			check = true;
			break;
		case 'D':
			debug = optarg;
			break;
		case 'V':
			printf("smsgwd %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (debug != NULL && log_set_debug(debug) == -1) {
		fprintf(stderr, "smsgwd: -D %s: unknown module (use at, modem, "
		    "sms, spool, store, sync, ctl, survey, smpp, main, all)\n",
		    debug);
		return 2;
	}
	c = conf_load(file, true, &errs);
	if (c == NULL) {
		print_errors(errs);
		conf_errors_free(errs);
		return 1;
	}
	if (check) {
		printf("configuration OK\n");
		conf_free(c);
		return 0;
	}
	log_init(foreground, "smsgwd");
	umask(027);
	gw = gateway_new(c, file);
	if (gw == NULL) {
		conf_free(c);
		return 2;
	}
	rc = gateway_run(gw);
	gateway_free(gw);
	log_fini();
	return rc;
}
