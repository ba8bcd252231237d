/* check_serial: opening a pty (the termios path), an absent device, and
 * the hot-plug watch: a node that appears, directories that appear on the
 * way to it, a permission change. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "smsgw/serial.h"

static char dir[64];

static void
setup(void)
{
	strcpy(dir, "/tmp/check_serial.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* A pty master and the name of its slave. */
static int
pty(char *name, size_t len)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);

	ck_assert_int_ge(m, 0);
	ck_assert_int_eq(grantpt(m), 0);
	ck_assert_int_eq(unlockpt(m), 0);
	ck_assert_int_eq(ptsname_r(m, name, len), 0);
	return m;
}

/* Wait until fd is readable; true when it became so within ms. */
static bool
readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

START_TEST(test_open_absent)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/ttyUSB9", dir);
	errno = 0;
	ck_assert_ptr_null(serial_open(path, 115200));
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(test_open_pty_raw_nonblocking)
{
	char name[128], buf[16];
	struct serial *s;
	struct termios t;
	int m, fd;
	ssize_t n;

	m = pty(name, sizeof(name));
	s = serial_open(name, 115200);
	ck_assert_ptr_nonnull(s);
	fd = serial_fd(s);
	ck_assert_int_ge(fd, 0);
	ck_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
	ck_assert_int_eq(tcgetattr(fd, &t), 0);
	ck_assert_int_eq(t.c_lflag & (ICANON | ECHO), 0);	/* raw */
	ck_assert_int_eq(t.c_cflag & CSIZE, CS8);
	ck_assert_int_eq(t.c_cflag & (PARENB | CSTOPB), 0);	/* 8N1 */
	ck_assert_int_eq(cfgetospeed(&t), B115200);
	/* Nothing to read: returns at once (EAGAIN, or 0 with VMIN 0). */
	n = read(fd, buf, sizeof(buf));
	ck_assert(n == 0 || (n == -1 && errno == EAGAIN));
	/* Bytes both ways, unchanged (no CR/LF translation). */
	ck_assert_int_eq(write(m, "OK\r\n", 4), 4);
	ck_assert(readable(fd, 1000));
	n = read(fd, buf, sizeof(buf));
	ck_assert_int_eq(n, 4);
	ck_assert_int_eq(memcmp(buf, "OK\r\n", 4), 0);
	ck_assert_int_eq(write(fd, "AT\r", 3), 3);
	ck_assert(readable(m, 1000));
	ck_assert_int_eq(read(m, buf, sizeof(buf)), 3);
	ck_assert_int_eq(memcmp(buf, "AT\r", 3), 0);
	serial_close(s);
	close(m);
}
END_TEST

START_TEST(test_watch_node_and_directories_appear)
{
	char path[160], sub[160], tmp[170], name[128];
	struct serial_watch *w;
	int m, fd;

	/* /dev/serial/by-id/... while udev has not made by-id yet. */
	snprintf(path, sizeof(path), "%s/serial/by-id/usb-modem", dir);
	w = serial_watch_new(path);
	ck_assert_ptr_nonnull(w);
	fd = serial_watch_fd(w);
	ck_assert(!readable(fd, 0));
	ck_assert(!serial_watch_check(w));

	snprintf(sub, sizeof(sub), "%s/serial", dir);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	ck_assert(readable(fd, 1000));
	ck_assert(!serial_watch_check(w));	/* re-armed one deeper */
	ck_assert(!readable(fd, 0));		/* events drained */

	snprintf(sub, sizeof(sub), "%s/serial/by-id", dir);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	ck_assert(readable(fd, 1000));
	ck_assert(!serial_watch_check(w));

	/* The node arrives as udev makes links: a rename into place. */
	m = pty(name, sizeof(name));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	ck_assert_int_eq(symlink(name, tmp), 0);
	ck_assert(readable(fd, 1000));
	ck_assert(!serial_watch_check(w));	/* not the device yet */
	ck_assert_int_eq(rename(tmp, path), 0);
	ck_assert(readable(fd, 1000));
	ck_assert(serial_watch_check(w));
	serial_watch_free(w);
	close(m);
}
END_TEST

START_TEST(test_watch_directory_made_at_once)
{
	char path[160], sub[160];
	struct serial_watch *w;
	int f;

	/* Directory and node appear between two looks: still found. */
	snprintf(path, sizeof(path), "%s/by-id/modem", dir);
	w = serial_watch_new(path);
	ck_assert_ptr_nonnull(w);
	snprintf(sub, sizeof(sub), "%s/by-id", dir);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	f = open(path, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(f, 0);
	close(f);
	ck_assert(readable(serial_watch_fd(w), 1000));
	ck_assert(serial_watch_check(w));
	serial_watch_free(w);
}
END_TEST

START_TEST(test_watch_permission_change)
{
	char path[160];
	struct serial_watch *w;
	int f;

	/* The node exists (open failed, say EACCES); udev then fixes its
	 * mode: an event, and the device is there. */
	snprintf(path, sizeof(path), "%s/ttyUSB0", dir);
	f = open(path, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(f, 0);
	close(f);
	w = serial_watch_new(path);
	ck_assert_ptr_nonnull(w);
	ck_assert(!readable(serial_watch_fd(w), 0));
	ck_assert_int_eq(chmod(path, 0660), 0);
	ck_assert(readable(serial_watch_fd(w), 1000));
	ck_assert(serial_watch_check(w));
	serial_watch_free(w);
	serial_watch_free(NULL);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("serial");
	TCase *tc = tcase_create("serial");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_open_absent);
	tcase_add_test(tc, test_open_pty_raw_nonblocking);
	tcase_add_test(tc, test_watch_node_and_directories_appear);
	tcase_add_test(tc, test_watch_directory_made_at_once);
	tcase_add_test(tc, test_watch_permission_change);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
