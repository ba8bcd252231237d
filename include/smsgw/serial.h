/*
 * serial: open and configure a serial port (8N1, no flow control, given
 * baud) and hand back a non-blocking fd for the event loop.  Real ports go
 * through libserialport; a device libserialport does not recognise as a
 * serial port (a pty, as the emulator and socat make) falls back to plain
 * open(2) + termios with the same settings.  No AT knowledge here.
 */
#ifndef SMSGW_SERIAL_H
#define SMSGW_SERIAL_H

#include <stdbool.h>

struct serial;

/* NULL with errno set (ENOENT when the device is absent). */
struct serial *serial_open(const char *path, int baud);
void serial_close(struct serial *s);	/* NULL is fine */
int serial_fd(const struct serial *s);
/* Discard unread input and unwritten output. */
void serial_flush(struct serial *s);

/*
 * Hot-plug: learn at once when an absent device node (re)appears, instead
 * of waiting out a reopen backoff.  An inotify watch on the nearest
 * existing directory above the device (so /dev/serial/by-id/... works even
 * while udev has removed the empty by-id directory).  The watch is only a
 * hint: the caller still retries on a timer, and a node that appears but
 * cannot be opened yet (udev applying permissions) simply fails that try.
 */
struct serial_watch;

/* NULL when inotify is unavailable (the caller's timer still works). */
struct serial_watch *serial_watch_new(const char *path);
void serial_watch_free(struct serial_watch *w);	/* NULL is fine */
int serial_watch_fd(const struct serial_watch *w);
/* Drain pending events; true when the device path now exists.  Re-arms
 * the watch one level deeper when a missing directory has appeared. */
bool serial_watch_check(struct serial_watch *w);

#endif
