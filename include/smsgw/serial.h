/*
 * serial: open and configure a serial port (8N1, no flow control, given
 * baud) and hand back a non-blocking fd for the event loop.  Real ports go
 * through libserialport; a device libserialport does not recognise as a
 * serial port (a pty, as the emulator and socat make) falls back to plain
 * open(2) + termios with the same settings.  No AT knowledge here.
 */
#ifndef SMSGW_SERIAL_H
#define SMSGW_SERIAL_H

struct serial;

/* NULL with errno set (ENOENT when the device is absent). */
struct serial *serial_open(const char *path, int baud);
void serial_close(struct serial *s);	/* NULL is fine */
int serial_fd(const struct serial *s);
/* Discard unread input and unwritten output. */
void serial_flush(struct serial *s);

#endif
