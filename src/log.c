/* log: OpenBSD-style logging with module tokens and per-module debug. */
#include "smsgw/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

const char *const log_modules[] = { "main", "at", "modem", "sms", "spool",
	"store", "sync", "ctl", "survey", "smpp", NULL };

#define LOG_NMOD (sizeof(log_modules) / sizeof(log_modules[0]) - 1)

static bool log_fg = true;
static bool log_dbg[LOG_NMOD];
static log_sink_cb log_sink;
static void *log_sink_arg;

void
log_init(bool foreground, const char *ident)
{
	log_fg = foreground;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_fini(void)
{
	if (!log_fg)
		closelog();
	log_fg = true;
	memset(log_dbg, 0, sizeof(log_dbg));
	log_sink = NULL;
	log_sink_arg = NULL;
}

void
log_set_sink(log_sink_cb cb, void *arg)
{
	log_sink = cb;
	log_sink_arg = arg;
}

static int
log_mod_index(const char *mod, size_t len)
{
	size_t i;

	for (i = 0; i < LOG_NMOD; i++)
		if (strlen(log_modules[i]) == len &&
		    strncmp(log_modules[i], mod, len) == 0)
			return (int)i;
	return -1;
}

int
log_set_debug(const char *list)
{
	bool want[LOG_NMOD];
	const char *p = list, *e;
	size_t i;

	memcpy(want, log_dbg, sizeof(want));
	while (*p != '\0') {
		int idx;

		e = strchr(p, ',');
		if (e == NULL)
			e = p + strlen(p);
		if (e - p == 3 && strncmp(p, "all", 3) == 0) {
			for (i = 0; i < LOG_NMOD; i++)
				want[i] = true;
		} else if (e > p) {
			idx = log_mod_index(p, (size_t)(e - p));
			if (idx < 0)
				return -1;
			want[idx] = true;
		}
		p = *e ? e + 1 : e;
	}
	memcpy(log_dbg, want, sizeof(want));
	return 0;
}

bool
log_debug_enabled(const char *mod)
{
	int idx = log_mod_index(mod, strlen(mod));

	return idx >= 0 && log_dbg[idx];
}

static void log_emit(int prio, const char *mod, const char *fmt, va_list ap,
    int errnum) __attribute__((format(printf, 3, 0)));

static void
log_emit(int prio, const char *mod, const char *fmt, va_list ap, int errnum)
{
	char msg[2048], line[2300];
	const char *lvl;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (errnum != 0)
		snprintf(line, sizeof(line), "%s: %s: %s", mod, msg,
		    strerror(errnum));
	else
		snprintf(line, sizeof(line), "%s: %s", mod, msg);
	if (log_sink != NULL) {
		log_sink(prio, line, log_sink_arg);
		return;
	}
	if (!log_fg) {
		syslog(prio, "%s", line);
		return;
	}
	switch (prio) {
	case LOG_CRIT:
		lvl = "fatal: ";
		break;
	case LOG_WARNING:
		lvl = "warning: ";
		break;
	case LOG_DEBUG:
		lvl = "debug: ";
		break;
	default:
		lvl = "";
	}
	fprintf(stderr, "%s%s\n", lvl, line);
	fflush(stderr);
}

#define LOG_BODY(prio, err)                       \
	do {                                      \
		va_list ap;                       \
		va_start(ap, fmt);                \
		log_emit(prio, mod, fmt, ap, err); \
		va_end(ap);                       \
	} while (0)

void
log_warn(const char *mod, const char *fmt, ...)
{
	int e = errno;

	LOG_BODY(LOG_WARNING, e);
	errno = e;
}

void
log_warnx(const char *mod, const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, 0);
}

void
log_info(const char *mod, const char *fmt, ...)
{
	LOG_BODY(LOG_INFO, 0);
}

void
log_debug(const char *mod, const char *fmt, ...)
{
	if (!log_debug_enabled(mod))
		return;
	LOG_BODY(LOG_DEBUG, 0);
}

void
fatal(const char *mod, const char *fmt, ...)
{
	int e = errno;

	LOG_BODY(LOG_CRIT, e);
	exit(2);
}

void
fatalx(const char *mod, const char *fmt, ...)
{
	LOG_BODY(LOG_CRIT, 0);
	exit(2);
}

const char *
log_pii(const char *mod, const char *kind, const char *s, char *buf,
    size_t len)
{
	if (s == NULL)
		s = "";
	if (log_debug_enabled(mod))
		return s;
	if (strcmp(kind, "phone") == 0)
		snprintf(buf, len, "[phone]");
	else
		snprintf(buf, len, "[%s %zu bytes]", kind, strlen(s));
	return buf;
}
