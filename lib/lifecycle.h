/*
 * lifecycle.h — graceful shutdown for a liftoff program.
 *
 * lifecycle_init() ignores SIGPIPE and takes SIGTERM and SIGINT through the
 * loop (ev_signal). The first of them logs "shutting down" and calls the
 * program's drain callback once, which should stop taking new work, let
 * in-flight work finish, then call lifecycle_done() and ev_stop(). If the
 * program is not done when the grace period ends, or a second signal
 * arrives, the process logs why and exits at once: exit code
 * LIFECYCLE_EXIT_DEADLINE after the deadline, 128 + signal number on a
 * second signal (as if killed by it).
 *
 *   static lifecycle lc;
 *   lifecycle_init(&lc, loop, 25000, drain, app);   // below k8s' 30 s
 *   ev_run(loop);
 *
 * Ownership: the lifecycle is a value the caller embeds and keeps alive
 * while the loop runs; it holds an ev_timer, so call lifecycle_done() (or
 * let the process exit) before freeing it. Signals stay blocked for normal
 * delivery afterwards (they go to the loop's signalfd).
 */
#ifndef LIFTOFF_LIFECYCLE_H
#define LIFTOFF_LIFECYCLE_H

#include <stdbool.h>
#include <stdint.h>

#include "ev.h"

#define LIFECYCLE_EXIT_DEADLINE 1   /* exit code when the grace period ends */

/* Called once, on the loop, when shutdown starts. */
typedef void lifecycle_drain_cb(ev_loop *loop, void *arg);
/* How a forced exit leaves; the default calls _exit(code). For tests. */
typedef void lifecycle_exit_fn(int code, void *arg);

typedef struct lifecycle {
    ev_loop *loop;
    uint64_t grace_ms;
    lifecycle_drain_cb *drain;
    void *arg;
    ev_timer deadline;
    bool draining;
    bool done;
    lifecycle_exit_fn *exit_fn;
    void *exit_arg;
} lifecycle;

/* Sets up *lc and the signal handling. grace_ms > 0. 0 or -errno
 * (-EINVAL for a zero grace period). */
int lifecycle_init(lifecycle *lc, ev_loop *loop, uint64_t grace_ms, lifecycle_drain_cb *drain,
                   void *arg);
/* Starts the shutdown as a signal would (reason is logged), e.g. after a
 * fatal error. Does nothing if it already started. */
void lifecycle_shutdown(lifecycle *lc, const char *reason);
/* True once the shutdown started. */
static inline bool lifecycle_draining(const lifecycle *lc) { return lc->draining; }
/* The program finished draining: disarms the deadline. Idempotent. */
void lifecycle_done(lifecycle *lc);
/* Replaces how a forced exit happens (tests record it instead). */
void lifecycle_set_exit(lifecycle *lc, lifecycle_exit_fn *fn, void *arg);

#endif
