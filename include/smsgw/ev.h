/*
 * ev: the daemon's event loop (poll(2) based, shaped like chrony's SCH_*).
 *
 * One struct ev per process (tests may make several).  Watches and timers
 * are named by uint32_t ids; 0 means error.  Timers run on a millisecond
 * monotonic clock that tests can replace with ev_set_clock().  Callbacks
 * may add or remove any watch or timer, including their own, and may call
 * ev_break().  Signals are delivered through signalfd, so their callbacks
 * run in normal context.
 */
#ifndef SMSGW_EV_H
#define SMSGW_EV_H

#include <stdbool.h>
#include <stdint.h>

struct ev;

/* revents holds POLLIN/POLLOUT/POLLERR/POLLHUP bits. */
typedef void (*ev_io_cb)(int fd, short revents, void *arg);
typedef void (*ev_timer_cb)(void *arg);
typedef void (*ev_signal_cb)(int signo, void *arg);
/* Returns "now" in milliseconds on a monotonic scale. */
typedef uint64_t (*ev_clock_cb)(void *arg);

struct ev *ev_new(void);
void ev_free(struct ev *ev); /* NULL is fine; closes nothing it did not open */

void ev_set_clock(struct ev *ev, ev_clock_cb cb, void *arg);
uint64_t ev_now(struct ev *ev);

/* Watch fd for events (POLLIN|POLLOUT).  fd stays owned by the caller. */
uint32_t ev_io_add(struct ev *ev, int fd, short events, ev_io_cb cb,
    void *arg);
int ev_io_set(struct ev *ev, uint32_t id, short events);
void ev_io_del(struct ev *ev, uint32_t id);

/* One-shot timer firing after ms milliseconds. */
uint32_t ev_timer_add(struct ev *ev, uint64_t ms, ev_timer_cb cb, void *arg);
void ev_timer_del(struct ev *ev, uint32_t id); /* 0 or stale id: no-op */
/* Milliseconds until the timer fires, or -1 if it is not pending. */
int64_t ev_timer_remaining(struct ev *ev, uint32_t id);

/* Route signo to cb (blocks it for normal delivery). */
uint32_t ev_signal_add(struct ev *ev, int signo, ev_signal_cb cb, void *arg);
void ev_signal_del(struct ev *ev, uint32_t id);

/* Called once per loop pass, before sleeping (watchdog pings, flushes). */
uint32_t ev_idle_add(struct ev *ev, ev_timer_cb cb, void *arg);

/*
 * Run one pass: wait up to max_wait_ms (-1 = until the next timer or fd),
 * dispatch due timers and ready fds.  Returns the number of callbacks run,
 * or -1 on a poll error other than EINTR.
 */
int ev_run_once(struct ev *ev, int max_wait_ms);
/* Loop until ev_break(); returns 0, or -1 on a fatal poll error. */
int ev_run(struct ev *ev);
void ev_break(struct ev *ev);

#endif
