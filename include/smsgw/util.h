/*
 * util: allocation that never returns NULL (OOM is fatal, systemd restarts
 * us), bounded string helpers and time helpers shared by every module.
 */
#ifndef SMSGW_UTIL_H
#define SMSGW_UTIL_H

#include <stddef.h>
#include <stdint.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a fresh allocation; caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Copy with truncation check: returns strlen(src); >= dstsize = truncated. */
size_t strlcpy_s(char *dst, const char *src, size_t dstsize);

/* CLOCK_MONOTONIC and CLOCK_REALTIME in milliseconds. */
uint64_t util_mono_ms(void);
int64_t util_wall_ms(void);

/* Calendar arithmetic (proleptic Gregorian, pure): days since
 * 1970-01-01 of a date, and the days in month m (1..12) of year y. */
int64_t util_days_from_civil(int64_t y, int m, int d);
int util_month_days(int64_t y, int m);

/* Create a directory and its parents (mode for the created ones). */
int util_mkdirs(const char *path, unsigned mode);

#endif
