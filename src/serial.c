/* serial: libserialport with a termios fallback for ptys. */
#include "smsgw/serial.h"

#include <errno.h>
#include <fcntl.h>
#include <libserialport.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <termios.h>
#include <unistd.h>

#include "smsgw/log.h"
#include "smsgw/util.h"

struct serial {
	struct sp_port *port;	/* NULL in termios mode */
	int fd;
};

static speed_t
baud_const(int baud)
{
	switch (baud) {
	case 9600:
		return B9600;
	case 19200:
		return B19200;
	case 38400:
		return B38400;
	case 57600:
		return B57600;
	case 230400:
		return B230400;
	case 460800:
		return B460800;
	case 921600:
		return B921600;
	default:
		return B115200;
	}
}

static int
serial_open_termios(struct serial *s, const char *path, int baud)
{
	struct termios tio;

	s->fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (s->fd == -1)
		return -1;
	if (tcgetattr(s->fd, &tio) == 0) {
		cfmakeraw(&tio);
		tio.c_cflag |= CLOCAL | CREAD;
		tio.c_cflag &= ~(CRTSCTS | CSTOPB | PARENB);
		tio.c_iflag &= ~(IXON | IXOFF | IXANY);
		cfsetispeed(&tio, baud_const(baud));
		cfsetospeed(&tio, baud_const(baud));
		tio.c_cc[VMIN] = 0;
		tio.c_cc[VTIME] = 0;
		(void)tcsetattr(s->fd, TCSANOW, &tio);
	}
	return 0;
}

static int
serial_open_sp(struct serial *s, const char *path, int baud)
{
	int flags;

	if (sp_get_port_by_name(path, &s->port) != SP_OK) {
		s->port = NULL;
		return 1;	/* not a port libserialport knows */
	}
	if (sp_open(s->port, SP_MODE_READ_WRITE) != SP_OK ||
	    sp_set_baudrate(s->port, baud) != SP_OK ||
	    sp_set_bits(s->port, 8) != SP_OK ||
	    sp_set_parity(s->port, SP_PARITY_NONE) != SP_OK ||
	    sp_set_stopbits(s->port, 1) != SP_OK ||
	    sp_set_flowcontrol(s->port, SP_FLOWCONTROL_NONE) != SP_OK ||
	    sp_get_port_handle(s->port, &s->fd) != SP_OK) {
		int e = sp_last_error_code();

		sp_close(s->port);
		sp_free_port(s->port);
		s->port = NULL;
		errno = e != 0 ? e : EIO;
		return -1;
	}
	flags = fcntl(s->fd, F_GETFL);
	if (flags == -1 || fcntl(s->fd, F_SETFL, flags | O_NONBLOCK) == -1) {
		sp_close(s->port);
		sp_free_port(s->port);
		s->port = NULL;
		return -1;
	}
	return 0;
}

struct serial *
serial_open(const char *path, int baud)
{
	struct serial *s;
	int r, e;

	if (access(path, F_OK) == -1)
		return NULL;	/* errno ENOENT: absent, maybe later */
	s = xcalloc(1, sizeof(*s));
	s->fd = -1;
	r = serial_open_sp(s, path, baud);
	if (r == 1) {
		log_debug("modem", "%s: not a serial port to libserialport, "
		    "using termios", path);
		r = serial_open_termios(s, path, baud);
	}
	if (r == -1) {
		e = errno;
		free(s);
		errno = e;
		return NULL;
	}
	serial_flush(s);
	return s;
}

void
serial_close(struct serial *s)
{
	if (s == NULL)
		return;
	if (s->port != NULL) {
		sp_close(s->port);
		sp_free_port(s->port);
	} else if (s->fd >= 0)
		close(s->fd);
	free(s);
}

int
serial_fd(const struct serial *s)
{
	return s->fd;
}

void
serial_flush(struct serial *s)
{
	if (s->port != NULL)
		sp_flush(s->port, SP_BUF_BOTH);
	else
		(void)tcflush(s->fd, TCIOFLUSH);
}

/* --- hot-plug watch ------------------------------------------------- */

struct serial_watch {
	char *path;	/* the device */
	char *dir;	/* the directory watched */
	int fd;
	int wd;
};

/* Watch the nearest existing directory above w->path; 1 when that moved
 * the watch, 0 when it stays, -1 on error. */
static int
watch_arm(struct serial_watch *w)
{
	char *d = xstrdup(w->path);
	char *slash;

	for (;;) {
		slash = strrchr(d, '/');
		if (slash == NULL) {
			strlcpy_s(d, ".", strlen(d) + 1);
			break;
		}
		if (slash == d)
			slash[1] = '\0';	/* "/" */
		else
			*slash = '\0';
		if (access(d, F_OK) == 0 || strcmp(d, "/") == 0)
			break;
	}
	if (w->wd >= 0 && strcmp(d, w->dir) == 0) {
		free(d);
		return 0;
	}
	if (w->wd >= 0)
		(void)inotify_rm_watch(w->fd, w->wd);
	free(w->dir);
	w->dir = d;
	w->wd = inotify_add_watch(w->fd, d, IN_CREATE | IN_MOVED_TO |
	    IN_ATTRIB | IN_ONLYDIR);
	return w->wd < 0 ? -1 : 1;
}

static void
watch_drain(struct serial_watch *w)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct
	    inotify_event))));

	while (read(w->fd, buf, sizeof(buf)) > 0)
		continue;
}

struct serial_watch *
serial_watch_new(const char *path)
{
	struct serial_watch *w = xcalloc(1, sizeof(*w));

	w->path = xstrdup(path);
	w->wd = -1;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0 || watch_arm(w) < 0) {
		log_debug("serial", "%s: no hot-plug watch: %s", path,
		    strerror(errno));
		serial_watch_free(w);
		return NULL;
	}
	return w;
}

void
serial_watch_free(struct serial_watch *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	free(w->path);
	free(w->dir);
	free(w);
}

int
serial_watch_fd(const struct serial_watch *w)
{
	return w->fd;
}

bool
serial_watch_check(struct serial_watch *w)
{
	watch_drain(w);
	if (access(w->path, F_OK) == 0)
		return true;
	/* A directory on the way may have appeared (udev makes
	 * /dev/serial/by-id with the first device): watch deeper, drop the
	 * old watch's IN_IGNORED, and look again for what came meanwhile. */
	if (watch_arm(w) == 1) {
		watch_drain(w);
		return access(w->path, F_OK) == 0;
	}
	return false;
}
