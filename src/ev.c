/*
 * ev: a small poll(2) event loop.  Watches, timers, signals (signalfd) and
 * idle hooks live in plain arrays: the daemon has a handful of fds and a
 * few dozen timers, so linear scans beat any clever structure here and
 * keep the code obviously correct.  Entries removed while dispatching are
 * only marked dead and swept after the pass.
 */
#include "smsgw/ev.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "smsgw/log.h"
#include "smsgw/util.h"

enum ev_kind { EV_IO, EV_TIMER, EV_SIGNAL, EV_IDLE };

struct ev_item {
	uint32_t id;
	enum ev_kind kind;
	bool dead;
	int fd;		/* EV_IO */
	short events;	/* EV_IO */
	int signo;	/* EV_SIGNAL */
	uint64_t due;	/* EV_TIMER */
	union {
		ev_io_cb io;
		ev_timer_cb timer;
		ev_signal_cb sig;
	} cb;
	void *arg;
};

struct ev {
	struct ev_item *items;
	size_t n, cap;
	uint32_t next_id;
	bool stop;
	int depth;	/* dispatch nesting; sweep only at 0 */
	bool dirty;
	ev_clock_cb clock;
	void *clock_arg;
	int sigfd;
	sigset_t sigmask;
	struct pollfd *pfd;
	uint32_t *pfd_id;
	size_t pfd_cap;
};

static uint64_t
ev_default_clock(void *arg)
{
	(void)arg;
	return util_mono_ms();
}

struct ev *
ev_new(void)
{
	struct ev *ev = xcalloc(1, sizeof(*ev));

	ev->next_id = 1;
	ev->clock = ev_default_clock;
	ev->sigfd = -1;
	sigemptyset(&ev->sigmask);
	return ev;
}

void
ev_free(struct ev *ev)
{
	if (ev == NULL)
		return;
	if (ev->sigfd >= 0) {
		close(ev->sigfd);
		sigprocmask(SIG_UNBLOCK, &ev->sigmask, NULL);
	}
	free(ev->items);
	free(ev->pfd);
	free(ev->pfd_id);
	free(ev);
}

void
ev_set_clock(struct ev *ev, ev_clock_cb cb, void *arg)
{
	ev->clock = cb != NULL ? cb : ev_default_clock;
	ev->clock_arg = arg;
}

uint64_t
ev_now(struct ev *ev)
{
	return ev->clock(ev->clock_arg);
}

static struct ev_item *
ev_item_new(struct ev *ev, enum ev_kind kind, void *arg)
{
	struct ev_item *it;

	if (ev->n == ev->cap) {
		ev->cap = ev->cap ? ev->cap * 2 : 16;
		ev->items = xrealloc(ev->items, ev->cap * sizeof(*ev->items));
	}
	it = &ev->items[ev->n++];
	memset(it, 0, sizeof(*it));
	it->id = ev->next_id++;
	if (ev->next_id == 0)
		ev->next_id = 1;
	it->kind = kind;
	it->arg = arg;
	it->fd = -1;
	return it;
}

static struct ev_item *
ev_find(struct ev *ev, uint32_t id, enum ev_kind kind)
{
	size_t i;

	if (id == 0)
		return NULL;
	for (i = 0; i < ev->n; i++)
		if (ev->items[i].id == id && ev->items[i].kind == kind &&
		    !ev->items[i].dead)
			return &ev->items[i];
	return NULL;
}

static void
ev_kill(struct ev *ev, struct ev_item *it)
{
	it->dead = true;
	ev->dirty = true;
}

static void
ev_sweep(struct ev *ev)
{
	size_t i, j;

	if (ev->depth > 0 || !ev->dirty)
		return;
	for (i = j = 0; i < ev->n; i++)
		if (!ev->items[i].dead)
			ev->items[j++] = ev->items[i];
	ev->n = j;
	ev->dirty = false;
}

uint32_t
ev_io_add(struct ev *ev, int fd, short events, ev_io_cb cb, void *arg)
{
	struct ev_item *it;

	if (fd < 0 || cb == NULL)
		return 0;
	it = ev_item_new(ev, EV_IO, arg);
	it->fd = fd;
	it->events = events;
	it->cb.io = cb;
	return it->id;
}

int
ev_io_set(struct ev *ev, uint32_t id, short events)
{
	struct ev_item *it = ev_find(ev, id, EV_IO);

	if (it == NULL)
		return -1;
	it->events = events;
	return 0;
}

void
ev_io_del(struct ev *ev, uint32_t id)
{
	struct ev_item *it = ev_find(ev, id, EV_IO);

	if (it != NULL)
		ev_kill(ev, it);
	ev_sweep(ev);
}

uint32_t
ev_timer_add(struct ev *ev, uint64_t ms, ev_timer_cb cb, void *arg)
{
	struct ev_item *it;

	if (cb == NULL)
		return 0;
	it = ev_item_new(ev, EV_TIMER, arg);
	it->due = ev_now(ev) + ms;
	it->cb.timer = cb;
	return it->id;
}

void
ev_timer_del(struct ev *ev, uint32_t id)
{
	struct ev_item *it = ev_find(ev, id, EV_TIMER);

	if (it != NULL)
		ev_kill(ev, it);
	ev_sweep(ev);
}

int64_t
ev_timer_remaining(struct ev *ev, uint32_t id)
{
	struct ev_item *it = ev_find(ev, id, EV_TIMER);
	uint64_t now;

	if (it == NULL)
		return -1;
	now = ev_now(ev);
	return it->due > now ? (int64_t)(it->due - now) : 0;
}

static int
ev_sigfd_update(struct ev *ev)
{
	int fd;

	if (sigprocmask(SIG_BLOCK, &ev->sigmask, NULL) == -1)
		return -1;
	fd = signalfd(ev->sigfd, &ev->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd == -1)
		return -1;
	ev->sigfd = fd;
	return 0;
}

uint32_t
ev_signal_add(struct ev *ev, int signo, ev_signal_cb cb, void *arg)
{
	struct ev_item *it;

	if (cb == NULL)
		return 0;
	sigaddset(&ev->sigmask, signo);
	if (ev_sigfd_update(ev) == -1) {
		log_warn("main", "signalfd");
		return 0;
	}
	it = ev_item_new(ev, EV_SIGNAL, arg);
	it->signo = signo;
	it->cb.sig = cb;
	return it->id;
}

void
ev_signal_del(struct ev *ev, uint32_t id)
{
	struct ev_item *it = ev_find(ev, id, EV_SIGNAL);

	if (it != NULL)
		ev_kill(ev, it);
	ev_sweep(ev);
}

uint32_t
ev_idle_add(struct ev *ev, ev_timer_cb cb, void *arg)
{
	struct ev_item *it;

	if (cb == NULL)
		return 0;
	it = ev_item_new(ev, EV_IDLE, arg);
	it->cb.timer = cb;
	return it->id;
}

/* Earliest live timer deadline, or UINT64_MAX. */
static uint64_t
ev_next_due(struct ev *ev)
{
	uint64_t best = UINT64_MAX;
	size_t i;

	for (i = 0; i < ev->n; i++)
		if (ev->items[i].kind == EV_TIMER && !ev->items[i].dead &&
		    ev->items[i].due < best)
			best = ev->items[i].due;
	return best;
}

static int
ev_run_timers(struct ev *ev, uint32_t id_limit)
{
	int ran = 0;

	for (;;) {
		uint64_t now = ev_now(ev);
		struct ev_item *best = NULL;
		ev_timer_cb cb;
		void *arg;
		size_t i;

		for (i = 0; i < ev->n; i++) {
			struct ev_item *it = &ev->items[i];

			if (it->kind != EV_TIMER || it->dead ||
			    it->due > now || it->id >= id_limit)
				continue;
			if (best == NULL || it->due < best->due)
				best = it;
		}
		if (best == NULL)
			return ran;
		cb = best->cb.timer;
		arg = best->arg;
		ev_kill(ev, best);
		cb(arg);
		ran++;
		if (ev->stop)
			return ran;
	}
}

static int
ev_run_signals(struct ev *ev)
{
	struct signalfd_siginfo si;
	int ran = 0;

	while (read(ev->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		size_t i;

		for (i = 0; i < ev->n; i++) {
			struct ev_item *it = &ev->items[i];

			if (it->kind == EV_SIGNAL && !it->dead &&
			    it->signo == (int)si.ssi_signo) {
				it->cb.sig(it->signo, it->arg);
				ran++;
			}
		}
	}
	return ran;
}

int
ev_run_once(struct ev *ev, int max_wait_ms)
{
	size_t i, np = 0, nitems;
	uint64_t due, now;
	uint32_t id_limit;
	int timeout, r, ran = 0;

	ev->depth++;
	for (i = 0; i < ev->n; i++)
		if (ev->items[i].kind == EV_IDLE && !ev->items[i].dead)
			ev->items[i].cb.timer(ev->items[i].arg);
	ev->depth--;
	ev_sweep(ev);

	nitems = ev->n + 1;
	if (ev->pfd_cap < nitems) {
		ev->pfd_cap = nitems * 2;
		ev->pfd = xrealloc(ev->pfd, ev->pfd_cap * sizeof(*ev->pfd));
		ev->pfd_id = xrealloc(ev->pfd_id,
		    ev->pfd_cap * sizeof(*ev->pfd_id));
	}
	for (i = 0; i < ev->n; i++) {
		struct ev_item *it = &ev->items[i];

		if (it->kind != EV_IO || it->dead)
			continue;
		ev->pfd[np].fd = it->fd;
		ev->pfd[np].events = it->events;
		ev->pfd[np].revents = 0;
		ev->pfd_id[np++] = it->id;
	}
	if (ev->sigfd >= 0) {
		ev->pfd[np].fd = ev->sigfd;
		ev->pfd[np].events = POLLIN;
		ev->pfd[np].revents = 0;
		ev->pfd_id[np++] = 0;
	}

	due = ev_next_due(ev);
	now = ev_now(ev);
	if (due == UINT64_MAX)
		timeout = max_wait_ms;
	else if (due <= now)
		timeout = 0;
	else {
		uint64_t d = due - now;

		timeout = d > 60000 ? 60000 : (int)d;
		if (max_wait_ms >= 0 && max_wait_ms < timeout)
			timeout = max_wait_ms;
	}
	if (ev->stop)
		timeout = 0;

	r = poll(ev->pfd, np, timeout);
	if (r == -1 && errno != EINTR) {
		log_warn("main", "poll");
		return -1;
	}

	ev->depth++;
	id_limit = ev->next_id;
	ran += ev_run_timers(ev, id_limit);
	for (i = 0; r > 0 && i < np && !ev->stop; i++) {
		struct ev_item *it;

		if (ev->pfd[i].revents == 0)
			continue;
		if (ev->pfd_id[i] == 0) {
			ran += ev_run_signals(ev);
			continue;
		}
		/* Re-find: the array may have grown during callbacks. */
		it = ev_find(ev, ev->pfd_id[i], EV_IO);
		if (it == NULL)
			continue;
		it->cb.io(it->fd, ev->pfd[i].revents, it->arg);
		ran++;
	}
	ev->depth--;
	ev_sweep(ev);
	return ran;
}

int
ev_run(struct ev *ev)
{
	ev->stop = false;
	while (!ev->stop)
		if (ev_run_once(ev, -1) == -1)
			return -1;
	ev->stop = false;
	return 0;
}

void
ev_break(struct ev *ev)
{
	ev->stop = true;
}
