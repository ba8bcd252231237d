/*
 * log: OpenBSD-style logging with per-module debug and PII redaction.
 *
 * Every call names its module ("at", "modem", "sms", "spool", "store",
 * "sync", "ctl", "main", ...).  Debug lines are printed only for modules
 * enabled with log_set_debug() (smsgwd -D at,modem).  When running in the
 * foreground logs go to stderr, otherwise to syslog(3).
 *
 * Phone numbers and message text must never be passed to log_info() or
 * above directly: pass them through log_pii(), which returns the text only
 * when debug is on for the module and a redacted placeholder otherwise.
 */
#ifndef SMSGW_LOG_H
#define SMSGW_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* foreground: true = stderr, false = syslog with ident. */
void log_init(bool foreground, const char *ident);
/* Restore defaults (stderr, no debug); for tests. */
void log_fini(void);
/*
 * Enable debug for a comma-separated module list ("at,modem" or "all").
 * Returns 0, or -1 when a name is unknown (nothing changed).
 */
int log_set_debug(const char *list);
bool log_debug_enabled(const char *mod);
/* Names accepted by log_set_debug, NULL-terminated. */
extern const char *const log_modules[];

/* Redirect output to a callback instead of stderr/syslog (tests). */
typedef void (*log_sink_cb)(int prio, const char *line, void *arg);
void log_set_sink(log_sink_cb cb, void *arg);

void log_warn(const char *mod, const char *fmt, ...) LOG_PRINTF(2, 3);
void log_warnx(const char *mod, const char *fmt, ...) LOG_PRINTF(2, 3);
void log_info(const char *mod, const char *fmt, ...) LOG_PRINTF(2, 3);
void log_debug(const char *mod, const char *fmt, ...) LOG_PRINTF(2, 3);
void fatal(const char *mod, const char *fmt, ...) LOG_PRINTF(2, 3)
    __attribute__((noreturn));
void fatalx(const char *mod, const char *fmt, ...) LOG_PRINTF(2, 3)
    __attribute__((noreturn));

/*
 * Personal data for a log line: returns s itself when debug is on for mod,
 * else a placeholder written into buf ("[phone]", "[text 12 bytes]").
 * kind is "phone" or "text".  The result is valid while buf and s are.
 */
const char *log_pii(const char *mod, const char *kind, const char *s,
    char *buf, size_t len);

#endif
