/*
 * smsgwctl: the admin client.  A thin client: each command is one JSON
 * request line on the control socket and one JSON reply line back.  The
 * `parse` command runs offline through the reply parser.
 */
#include "config.h"

#include <errno.h>
#include <time.h>
#include <signal.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "smsgw/conf.h"
#include "smsgw/engine.h"
#include "smsgw/reply.h"
#include "smsgw/report.h"
#include "smsgw/util.h"

#ifndef SMSGW_SYSCONFDIR
#define SMSGW_SYSCONFDIR "/etc"
#endif

struct cmd_desc {
	const char *name;
	const char *args;
	const char *help;
	int min_args, max_args;
	bool listing;	/* --json prints JSON lines */
	const char *more;	/* smsgwctl COMMAND --help */
};

static const struct cmd_desc cmds[] = {
	{ "status", "", "daemon, modem and queue status", 0, 0, false,
	    "Daemon version and uptime, each modem's state, registration, signal,\n"
	    "operator, counters and last error, and the queue depths (visits\n"
	    "waiting, SMS queued, upstream outbox)." },
	{ "units", "", "per-unit counters and NPS", 0, 0, true,
	    "Per unit: sampling rate, visits, eligible, invited, delivered,\n"
	    "answered, opted out, invalid, and NPS over the answered scores." },
	{ "rate", "UNIT RATE|default", "set a unit's sampling rate (0..1)",
	    2, 2, false,
	    "Set the unit's sampling rate (0..1) now.  It persists in the store\n"
	    "and wins over the config until `rate UNIT default`." },
	{ "export", "[--since RFC3339]", "response records as JSON lines",
	    0, 2, true,
	    "Response records as JSON lines (contract section 5), optionally\n"
	    "only those updated since a time, e.g. 2026-11-24T00:00:00+02:00." },
	{ "review", "[resolve ID SCORE|none]", "replies that need a person",
	    0, 3, true,
	    "Replies that need a person (invalid after the re-prompt, orphans)\n"
	    "with their id, time and the text exactly as received.\n"
	    "`review resolve ID SCORE|none` settles one; a score updates its\n"
	    "record." },
	{ "optout", "add|remove|check PHONE", "the suppression list", 2, 2,
	    false,
	    "Manage the suppression list.  The number is stored only as a keyed\n"
	    "HMAC: `check` answers whether it is suppressed." },
	{ "reload", "", "re-read the config (as SIGHUP)", 0, 0, false,
	    "Re-read and validate the config (as SIGHUP).  A bad config is\n"
	    "refused with FILE:LINE messages and the old one stays in force." },
	{ "send", "PHONE TEXT [MODEM]", "queue a test SMS", 2, 3, false,
	    "Queue a test SMS through the normal exactly-once queue, optionally\n"
	    "on a named modem.  For checking a modem; not part of a survey." },
	{ "report", "--html FILE [--since DATE] [--unit U]",
	    "an HTML NPS report", 2, 6, false,
	    "Write a self-contained HTML report: NPS per unit over time, the\n"
	    "promoter/passive/detractor split, the response funnel and the\n"
	    "latest redacted comments.  FILE - writes to stdout." },
	{ "parse", "", "offline: classify replies from stdin, one per line",
	    0, 0, false,
	    "Offline, no daemon: read replies from stdin, one per line, and\n"
	    "print KIND<TAB>SCORE per line (kinds: score, score_comment,\n"
	    "comment, optout, invalid, empty)." },
	{ NULL, NULL, NULL, 0, 0, false, NULL },
};

static void
usage(FILE *f)
{
	const struct cmd_desc *c;

	fprintf(f, "usage: smsgwctl [-s SOCK | -f CONFIG] [--json] COMMAND "
	    "[ARGS]\n\ncommands:\n");
	for (c = cmds; c->name != NULL; c++)
		fprintf(f, "  %-8s %-26s %s\n", c->name, c->args, c->help);
	fprintf(f, "\noptions:\n"
	    "  -s SOCK     control socket (default from the config)\n"
	    "  -f CONFIG   config file (default %s/smsgwd.conf)\n"
	    "  --json      machine-readable output (JSON; listings as JSON "
	    "lines)\n"
	    "\nExit status: 0 success, 1 refused request, 2 daemon not "
	    "reachable.\n", SMSGW_SYSCONFDIR);
}

int ctl_cmd_parse(const char *cfile);

static int
ctl_connect(const char *sock)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy_s(sun.sun_path, sock, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		fprintf(stderr, "smsgwctl: socket path too long\n");
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "smsgwctl: cannot reach smsgwd at %s: %s\n",
		    sock, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Read one '\n'-terminated line (caller frees); NULL on EOF/error. */
static char *
read_line(int fd)
{
	size_t len = 0, cap = 4096;
	char *buf = xmalloc(cap);

	for (;;) {
		ssize_t r;

		if (len + 1 >= cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(buf);
			return NULL;
		}
		len += (size_t)r;
		buf[len] = '\0';
		if (memchr(buf + len - (size_t)r, '\n', (size_t)r) != NULL) {
			*strchr(buf, '\n') = '\0';
			return buf;
		}
	}
}

/*
 * One request: send {"cmd","args"} and read the reply.  Returns 0 with
 * *reply (caller puts), or 2 when the daemon cannot be reached.
 */
static int
ctl_request(const char *sock, const char *cmd, char *const *argv, int argc,
    json_object **reply)
{
	json_object *req, *args, *ok;
	const char *txt;
	char *line;
	int fd, i;

	*reply = NULL;
	fd = ctl_connect(sock);
	if (fd == -1)
		return 2;
	req = json_object_new_object();
	args = json_object_new_array();
	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	for (i = 0; i < argc; i++)
		json_object_array_add(args, json_object_new_string(argv[i]));
	json_object_object_add(req, "args", args);
	txt = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	/* A write error (a refused peer may be closed already) still lets
	 * us read the daemon's answer. */
	if (write_all(fd, txt, strlen(txt)) == -1 ||
	    write_all(fd, "\n", 1) == -1)
		shutdown(fd, SHUT_WR);
	json_object_put(req);
	line = read_line(fd);
	close(fd);
	if (line == NULL) {
		fprintf(stderr, "smsgwctl: the daemon closed the connection\n");
		return 2;
	}
	*reply = json_tokener_parse(line);
	free(line);
	if (*reply == NULL || !json_object_object_get_ex(*reply, "ok", &ok)) {
		fprintf(stderr, "smsgwctl: bad reply from the daemon\n");
		json_object_put(*reply);
		*reply = NULL;
		return 2;
	}
	return 0;
}

/* The result of a successful request, or NULL after printing the error. */
static json_object *
ctl_result(json_object *reply)
{
	json_object *ok, *res = NULL, *e;

	json_object_object_get_ex(reply, "ok", &ok);
	if (!json_object_get_boolean(ok)) {
		json_object_object_get_ex(reply, "error", &e);
		fprintf(stderr, "smsgwctl: %s\n", e != NULL ?
		    json_object_get_string(e) : "refused");
		return NULL;
	}
	json_object_object_get_ex(reply, "result", &res);
	return res;
}

/* report --html FILE [--since DATE] [--unit U] */
static int
ctl_cmd_report(const char *sock, char **argv, int argc)
{
	struct report_opts opts;
	const char *file = NULL, *since = NULL;
	json_object *ru = NULL, *re = NULL, *units, *recs;
	char *eargs[2];
	FILE *f;
	int i, rc;

	memset(&opts, 0, sizeof(opts));
	for (i = 0; i < argc; i++) {
		if (i + 1 >= argc)
			goto usage;
		if (strcmp(argv[i], "--html") == 0)
			file = argv[++i];
		else if (strcmp(argv[i], "--since") == 0)
			since = argv[++i];
		else if (strcmp(argv[i], "--unit") == 0)
			opts.unit = argv[++i];
		else
			goto usage;
	}
	if (file == NULL)
		goto usage;
	if (since != NULL && !report_parse_date(since, &opts.since)) {
		fprintf(stderr, "smsgwctl: --since %s: not YYYY-MM-DD or "
		    "RFC 3339\n", since);
		return 1;
	}
	opts.now = (int64_t)time(NULL);
	if ((rc = ctl_request(sock, "units", NULL, 0, &ru)) != 0)
		return rc;
	eargs[0] = (char *)"--since";
	eargs[1] = (char *)since;
	if ((rc = ctl_request(sock, "export", eargs, since != NULL ? 2 : 0,
	    &re)) != 0) {
		json_object_put(ru);
		return rc;
	}
	units = ctl_result(ru);
	recs = ctl_result(re);
	rc = 1;
	if (units != NULL && recs != NULL) {
		f = strcmp(file, "-") == 0 ? stdout : fopen(file, "w");
		if (f == NULL)
			fprintf(stderr, "smsgwctl: %s: %s\n", file,
			    strerror(errno));
		else {
			rc = report_html(f, units, recs, &opts) == 0 ? 0 : 1;
			if ((f != stdout && fclose(f) != 0) || rc != 0) {
				fprintf(stderr, "smsgwctl: cannot write %s\n",
				    file);
				rc = 1;
			}
		}
	}
	json_object_put(ru);
	json_object_put(re);
	return rc;
usage:
	fprintf(stderr, "usage: smsgwctl report --html FILE [--since DATE] "
	    "[--unit UNIT]\n");
	return 1;
}

static void
print_text(const char *cmd, json_object *res)
{
	if (json_object_is_type(res, json_type_string)) {
		printf("%s\n", json_object_get_string(res));
		return;
	}
	if (json_object_is_type(res, json_type_array)) {
		size_t i, n = json_object_array_length(res);

		for (i = 0; i < n; i++)
			printf("%s\n", json_object_to_json_string_ext(
			    json_object_array_get_idx(res, i),
			    JSON_C_TO_STRING_PLAIN |
			    JSON_C_TO_STRING_NOSLASHESCAPE));
		return;
	}
	(void)cmd;
	printf("%s\n", json_object_to_json_string_ext(res,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
}

int
main(int argc, char **argv)
{
	char *sock_owned = NULL;
	const char *sock = NULL, *cfile = SMSGW_SYSCONFDIR "/smsgwd.conf";
	const struct cmd_desc *cd;
	json_object *reply, *res;
	bool json = false, cmd_help = false;
	const char *cmd;
	int i, nargs = 0, rc = 0;
	char **pos;

	signal(SIGPIPE, SIG_IGN);
	pos = xcalloc((size_t)argc + 1, sizeof(char *));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if ((strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) && nargs > 0)
			cmd_help = true;
		else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			rc = 0;
			goto out;
		} else if (strcmp(argv[i], "-V") == 0) {
			printf("smsgwctl %s\n", PACKAGE_VERSION);
			rc = 0;
			goto out;
		} else if (nargs == 0 && (strcmp(argv[i], "-s") == 0 ||
		    strcmp(argv[i], "-f") == 0)) {
			if (i + 1 >= argc) {
				usage(stderr);
				rc = 1;
				goto out;
			}
			if (argv[i][1] == 's')
				sock = argv[++i];
			else
				cfile = argv[++i];
		} else
			pos[nargs++] = argv[i];
	}
	if (nargs == 0) {
		usage(stderr);
		rc = 1;
		goto out;
	}
	cmd = pos[0];
	for (cd = cmds; cd->name != NULL; cd++)
		if (strcmp(cd->name, cmd) == 0)
			break;
	if (cd->name == NULL) {
		fprintf(stderr, "smsgwctl: unknown command %s\n", cmd);
		usage(stderr);
		rc = 1;
		goto out;
	}
	if (cmd_help) {
		printf("usage: smsgwctl [-s SOCK | -f CONFIG] [--json] %s %s\n\n"
		    "%s\n", cd->name, cd->args, cd->more);
		rc = 0;
		goto out;
	}
	if (nargs - 1 < cd->min_args || nargs - 1 > cd->max_args) {
		fprintf(stderr, "usage: smsgwctl %s %s\n", cd->name, cd->args);
		rc = 1;
		goto out;
	}
	if (strcmp(cmd, "parse") == 0) {
			rc = ctl_cmd_parse(cfile);
			goto out;
		}

	if (sock == NULL) {
		sock = sock_owned = conf_control_socket(cfile);
		if (sock == NULL) {
			fprintf(stderr, "smsgwctl: cannot read %s to find the "
			    "control socket (use -s SOCK)\n", cfile);
			rc = 2;
			goto out;
		}
	}
	if (strcmp(cmd, "report") == 0) {
		rc = ctl_cmd_report(sock, pos + 1, nargs - 1);
		goto out;
	}
	if ((rc = ctl_request(sock, cmd, pos + 1, nargs - 1, &reply)) != 0)
		goto out;
	if ((res = ctl_result(reply)) == NULL) {
		json_object_put(reply);
		rc = 1;
		goto out;
	}
	rc = 0;
	if (json && cd->listing && json_object_is_type(res, json_type_array)) {
		size_t k, n = json_object_array_length(res);

		for (k = 0; k < n; k++)
			printf("%s\n", json_object_to_json_string_ext(
			    json_object_array_get_idx(res, k),
			    JSON_C_TO_STRING_PLAIN |
			    JSON_C_TO_STRING_NOSLASHESCAPE));
	} else if (json)
		printf("%s\n", json_object_to_json_string_ext(res,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	else {
		json_object *t;

		if (json_object_object_get_ex(reply, "text", &t))
			fputs(json_object_get_string(t), stdout);
		else
			print_text(cmd, res);
	}
	json_object_put(reply);
out:
	free(pos);
	free(sock_owned);
	return rc;
}

/*
 * Offline reply classification, contract section 1 `parse`: one reply per
 * input line ('\n' ends a line; leading and trailing spaces are part of
 * the reply), one "KIND<TAB>SCORE" line out.  Any bytes are accepted:
 * invalid UTF-8 is "invalid".
 */
int
ctl_cmd_parse(const char *cfile)
{
	struct reply_lexicon *lex = NULL;
	struct reply_result r;
	struct conf *c;
	char **errs = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	/* Words added in the config (replies = { ... }) count here too; no
	 * readable config means the built-in lists. */
	if (access(cfile, R_OK) == 0 &&
	    (c = conf_load(cfile, false, &errs)) != NULL) {
		lex = engine_lexicon(c);
		conf_free(c);
	}
	conf_errors_free(errs);
	while ((n = getline(&line, &cap, stdin)) != -1) {
		size_t len = (size_t)n;

		if (len > 0 && line[len - 1] == '\n')
			len--;
		if (!reply_parse_lex(lex, line, len, &r)) {
			r.kind = REPLY_KIND_INVALID;
			r.score = -1;
		}
		if (r.score >= 0)
			printf("%s\t%d\n", reply_kind_name(r.kind), r.score);
		else
			printf("%s\t\n", reply_kind_name(r.kind));
	}
	free(line);
	reply_lexicon_free(lex);
	return fflush(stdout) == 0 && !ferror(stdin) ? 0 : 1;
}
