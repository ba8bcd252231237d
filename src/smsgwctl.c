/*
 * smsgwctl: the admin client.  A thin client: each command is one JSON
 * request line on the control socket and one JSON reply line back.  The
 * `parse` command runs offline through the reply parser.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "smsgw/conf.h"
#include "smsgw/reply.h"
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
};

static const struct cmd_desc cmds[] = {
	{ "status", "", "daemon, modem and queue status", 0, 0, false },
	{ "units", "", "per-unit counters and NPS", 0, 0, true },
	{ "rate", "UNIT RATE|default", "set a unit's sampling rate (0..1)",
	    2, 2, false },
	{ "export", "[--since RFC3339]", "response records as JSON lines",
	    0, 2, true },
	{ "review", "[resolve ID SCORE|none]", "replies that need a person",
	    0, 3, true },
	{ "optout", "add|remove|check PHONE", "the suppression list", 2, 2,
	    false },
	{ "reload", "", "re-read the config (as SIGHUP)", 0, 0, false },
	{ "send", "PHONE TEXT [MODEM]", "queue a test SMS", 2, 3, false },
	{ "parse", "", "offline: classify replies from stdin, one per line",
	    0, 0, false },
	{ NULL, NULL, NULL, 0, 0, false },
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

int ctl_cmd_parse(void);

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
	json_object *req, *args, *reply, *ok, *res;
	bool json = false;
	char *line;
	const char *cmd, *txt;
	int i, fd, nargs = 0, rc = 0;
	char **pos;

	signal(SIGPIPE, SIG_IGN);
	pos = xcalloc((size_t)argc + 1, sizeof(char *));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
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
	if (nargs - 1 < cd->min_args || nargs - 1 > cd->max_args) {
		fprintf(stderr, "usage: smsgwctl %s %s\n", cd->name, cd->args);
		rc = 1;
		goto out;
	}
	if (strcmp(cmd, "parse") == 0) {
			rc = ctl_cmd_parse();
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
	fd = ctl_connect(sock);
	if (fd == -1) {
			rc = 2;
			goto out;
		}
	req = json_object_new_object();
	args = json_object_new_array();
	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	for (i = 1; i < nargs; i++)
		json_object_array_add(args, json_object_new_string(pos[i]));
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
		rc = 2;
		goto out;
	}
	reply = json_tokener_parse(line);
	free(line);
	if (reply == NULL || !json_object_object_get_ex(reply, "ok", &ok)) {
		fprintf(stderr, "smsgwctl: bad reply from the daemon\n");
		json_object_put(reply);
		rc = 2;
		goto out;
	}
	if (!json_object_get_boolean(ok)) {
		json_object *e;

		json_object_object_get_ex(reply, "error", &e);
		fprintf(stderr, "smsgwctl: %s\n", e != NULL ?
		    json_object_get_string(e) : "refused");
		json_object_put(reply);
		rc = 1;
		goto out;
	}
	rc = 0;
	json_object_object_get_ex(reply, "result", &res);
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
ctl_cmd_parse(void)
{
	struct reply_result r;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, stdin)) != -1) {
		size_t len = (size_t)n;

		if (len > 0 && line[len - 1] == '\n')
			len--;
		if (!reply_parse(line, len, &r)) {
			r.kind = REPLY_KIND_INVALID;
			r.score = -1;
		}
		if (r.score >= 0)
			printf("%s\t%d\n", reply_kind_name(r.kind), r.score);
		else
			printf("%s\t\n", reply_kind_name(r.kind));
	}
	free(line);
	return fflush(stdout) == 0 && !ferror(stdin) ? 0 : 1;
}
