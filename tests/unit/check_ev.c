/* check_ev: timers on a fake clock, cancellation in callbacks, fds,
 * signals. */
#include <check.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smsgw/ev.h"

static uint64_t fake_now;
static char order[64];
static size_t norder;
static struct ev *ev;
static uint32_t victim;

static uint64_t
fake_clock(void *arg)
{
	(void)arg;
	return fake_now;
}

static void
setup(void)
{
	ev = ev_new();
	fake_now = 1000;
	ev_set_clock(ev, fake_clock, NULL);
	norder = 0;
	memset(order, 0, sizeof(order));
}

static void
teardown(void)
{
	ev_free(ev);
}

static void
mark(void *arg)
{
	order[norder++] = *(const char *)arg;
}

START_TEST(test_timers_fire_in_deadline_order)
{
	static const char a = 'a', b = 'b', c = 'c';

	ck_assert_uint_ne(ev_timer_add(ev, 30, mark, (void *)&c), 0);
	ck_assert_uint_ne(ev_timer_add(ev, 10, mark, (void *)&a), 0);
	ck_assert_uint_ne(ev_timer_add(ev, 20, mark, (void *)&b), 0);
	ev_run_once(ev, 0);
	ck_assert_uint_eq(norder, 0);
	fake_now += 25;
	ev_run_once(ev, 0);
	ck_assert_str_eq(order, "ab");
	fake_now += 5;
	ev_run_once(ev, 0);
	ck_assert_str_eq(order, "abc");
	ev_run_once(ev, 0);
	ck_assert_uint_eq(norder, 3); /* one-shot */
}
END_TEST

static void
kill_victim(void *arg)
{
	mark(arg);
	ev_timer_del(ev, victim);
}

START_TEST(test_cancel_inside_callback)
{
	static const char k = 'k', v = 'v';

	ev_timer_add(ev, 5, kill_victim, (void *)&k);
	victim = ev_timer_add(ev, 5, mark, (void *)&v);
	ck_assert_int_eq(ev_timer_remaining(ev, victim), 5);
	fake_now += 10;
	ev_run_once(ev, 0);
	ck_assert_str_eq(order, "k");
	ck_assert_int_eq(ev_timer_remaining(ev, victim), -1);
	ev_timer_del(ev, victim);	/* stale id: no-op */
	ev_timer_del(ev, 0);
}
END_TEST

static void
rearm(void *arg)
{
	mark(arg);
	if (norder < 3)
		ev_timer_add(ev, 0, rearm, arg);
}

START_TEST(test_zero_timer_added_in_callback_runs_next_pass)
{
	static const char r = 'r';

	ev_timer_add(ev, 0, rearm, (void *)&r);
	ev_run_once(ev, 0);
	ck_assert_uint_eq(norder, 1);
	ev_run_once(ev, 0);
	ck_assert_uint_eq(norder, 2);
}
END_TEST

static int io_calls;
static uint32_t io_id;

static void
on_read(int fd, short revents, void *arg)
{
	char buf[16];

	(void)arg;
	ck_assert(revents & POLLIN);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 3);
	io_calls++;
	ev_io_del(ev, io_id);	/* remove itself */
}

START_TEST(test_io_watch_and_self_removal)
{
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	io_calls = 0;
	io_id = ev_io_add(ev, p[0], POLLIN, on_read, NULL);
	ck_assert_uint_ne(io_id, 0);
	ck_assert_int_eq(write(p[1], "abc", 3), 3);
	ev_run_once(ev, 100);
	ck_assert_int_eq(io_calls, 1);
	ck_assert_int_eq(write(p[1], "def", 3), 3);
	ev_run_once(ev, 10);
	ck_assert_int_eq(io_calls, 1);
	ck_assert_uint_eq(ev_io_add(ev, -1, POLLIN, on_read, NULL), 0);
	close(p[0]);
	close(p[1]);
}
END_TEST

static int got_signal;

static void
on_sig(int signo, void *arg)
{
	(void)arg;
	got_signal = signo;
	ev_break(ev);
}

START_TEST(test_signal_breaks_loop)
{
	got_signal = 0;
	ck_assert_uint_ne(ev_signal_add(ev, SIGUSR1, on_sig, NULL), 0);
	ev_set_clock(ev, NULL, NULL);	/* real clock */
	kill(getpid(), SIGUSR1);
	ck_assert_int_eq(ev_run(ev), 0);
	ck_assert_int_eq(got_signal, SIGUSR1);
}
END_TEST

static int idle_calls;

static void
on_idle(void *arg)
{
	(void)arg;
	idle_calls++;
}

START_TEST(test_idle_runs_every_pass)
{
	idle_calls = 0;
	ev_idle_add(ev, on_idle, NULL);
	ev_run_once(ev, 0);
	ev_run_once(ev, 0);
	ck_assert_int_eq(idle_calls, 2);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ev");
	TCase *tc = tcase_create("ev");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_timers_fire_in_deadline_order);
	tcase_add_test(tc, test_cancel_inside_callback);
	tcase_add_test(tc, test_zero_timer_added_in_callback_runs_next_pass);
	tcase_add_test(tc, test_io_watch_and_self_removal);
	tcase_add_test(tc, test_signal_breaks_loop);
	tcase_add_test(tc, test_idle_runs_every_pass);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
