/*
 * ev.h — the one event loop of a liftoff process: epoll readiness for file
 * descriptors, millisecond timers in a binary heap, signals through signalfd,
 * and deferred callbacks that run once at the end of the current iteration.
 *
 * Timers are re-armed lazily: moving a deadline later (an idle timeout pushed
 * on every request) only records it; the heap keeps the earlier key, and when
 * that key comes up the timer is put back at its real deadline instead of
 * firing. So re-arming costs no heap work, and a timer never fires early.
 *
 * Ownership: the loop owns none of the fds or timers registered with it.
 * Timers (ev_timer) are embedded in their owner's struct and must be stopped
 * before that memory is freed; ev_io_del() must be called before close(fd).
 * ev_loop_free() frees only the loop's own tables.
 *
 * Not thread-safe: one loop per process, used from one thread.
 */
#ifndef LIFTOFF_EV_H
#define LIFTOFF_EV_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

typedef struct ev_loop ev_loop;

enum { EV_READ = 1u, EV_WRITE = 2u };

/* Called with the ready events (EV_READ|EV_WRITE); errors and hang-ups are
 * reported as readiness for whatever the fd is interested in, so the next
 * read() or write() returns the error. */
typedef void ev_io_cb(ev_loop *loop, int fd, unsigned events, void *arg);

typedef struct ev_timer ev_timer;
typedef void ev_timer_cb(ev_loop *loop, ev_timer *t, void *arg);

struct ev_timer {
    uint64_t due_ms;    /* monotonic deadline, set by ev_timer_start */
    uint64_t key_ms;    /* its key in the heap: <= due_ms (private to ev.c) */
    size_t heap_index;  /* position in the loop's heap; 0 = not armed */
    ev_timer_cb *cb;
    void *arg;
};

ev_loop *ev_loop_new(void);
void ev_loop_free(ev_loop *loop);

/* Runs until ev_stop() is called; returns 0, or a negative errno if epoll fails. */
int ev_run(ev_loop *loop);
/* Runs one iteration, waiting at most timeout_ms (-1: until something happens). */
int ev_run_once(ev_loop *loop, int timeout_ms);
void ev_stop(ev_loop *loop);

/* The loop's cached monotonic time in ms, refreshed once per iteration. */
uint64_t ev_now(const ev_loop *loop);
void ev_update_time(ev_loop *loop);

/* Registers interest in events for fd (replacing any earlier registration);
 * events == 0 keeps the fd known but idle. Returns 0 or -errno. */
int ev_io_set(ev_loop *loop, int fd, unsigned events, ev_io_cb *cb, void *arg);
/* Changes only the interest mask of a registered fd (cheap when unchanged). */
int ev_io_events(ev_loop *loop, int fd, unsigned events);
/* Forgets fd; call before close(). Safe on an unknown fd. */
void ev_io_del(ev_loop *loop, int fd);

/* Initialises a timer (not armed). */
void ev_timer_init(ev_timer *t, ev_timer_cb *cb, void *arg);
/* Arms (or re-arms) the timer to fire once after after_ms from ev_now(). */
void ev_timer_start(ev_loop *loop, ev_timer *t, uint64_t after_ms);
void ev_timer_stop(ev_loop *loop, ev_timer *t);
static inline bool ev_timer_active(const ev_timer *t) { return t->heap_index != 0; }

/* Calls cb(loop, signo, arg) on the loop when signo arrives; the signal is
 * blocked for normal delivery. Returns 0 or -errno. */
typedef void ev_signal_cb(ev_loop *loop, int signo, void *arg);
int ev_signal(ev_loop *loop, int signo, ev_signal_cb *cb, void *arg);

/* Runs cb(arg) once, after the I/O and timers of the current iteration (or
 * of the next one if called outside). Never fails. */
typedef void ev_defer_cb(void *arg);
void ev_defer(ev_loop *loop, ev_defer_cb *cb, void *arg);

#endif
