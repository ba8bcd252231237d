/*
 * sdnotify: the systemd notification protocol, hand-rolled over
 * $NOTIFY_SOCKET (as lldpd does) so the daemon needs no libsystemd.  All
 * calls are no-ops when NOTIFY_SOCKET is unset.
 */
#ifndef SMSGW_SDNOTIFY_H
#define SMSGW_SDNOTIFY_H

#include <stdint.h>

/* Send one state string ("READY=1", "STATUS=...").  0 ok or not under
 * systemd, -1 on a send error. */
int sdnotify_send(const char *state);
/* Watchdog period in ms from $WATCHDOG_USEC (0 = no watchdog). */
uint64_t sdnotify_watchdog_ms(void);

#endif
