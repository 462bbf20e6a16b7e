/* lifecycle.c — SIGTERM/SIGINT handling, drain and forced exit (see
 * lifecycle.h). */
#include "lifecycle.h"
#include "common.h"
#include "log.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void default_exit(int code, void *arg)
{
    LO_UNUSED(arg);
    _exit(code);
}

static const char *signal_name(int signo, char *buf, size_t len)
{
    const char *abbrev = sigabbrev_np(signo);
    if (abbrev)
        snprintf(buf, len, "SIG%s", abbrev);
    else
        snprintf(buf, len, "signal %d", signo);
    return buf;
}

static void force_exit(lifecycle *lc, int code)
{
    lc->exit_fn(code, lc->exit_arg);
}

static void on_deadline(ev_loop *loop, ev_timer *t, void *arg)
{
    LO_UNUSED(loop);
    LO_UNUSED(t);
    lifecycle *lc = arg;
    if (lc->done)
        return;
    log_error("lifecycle", "drain deadline passed, exiting now", LF_UINT("grace_ms", lc->grace_ms),
              LF_INT("exit_code", LIFECYCLE_EXIT_DEADLINE));
    force_exit(lc, LIFECYCLE_EXIT_DEADLINE);
}

static void begin(lifecycle *lc, const char *reason)
{
    lc->draining = true;
    log_info("lifecycle", "shutting down", LF_STR("reason", reason),
             LF_UINT("grace_ms", lc->grace_ms));
    ev_timer_start(lc->loop, &lc->deadline, lc->grace_ms);
    if (lc->drain)
        lc->drain(lc->loop, lc->arg);
}

static void on_signal(ev_loop *loop, int signo, void *arg)
{
    LO_UNUSED(loop);
    lifecycle *lc = arg;
    char name[32];
    signal_name(signo, name, sizeof name);
    if (!lc->draining) {
        begin(lc, name);
        return;
    }
    log_error("lifecycle", "second signal, exiting now", LF_STR("signal", name),
              LF_INT("exit_code", 128 + signo));
    force_exit(lc, 128 + signo);
}

int lifecycle_init(lifecycle *lc, ev_loop *loop, uint64_t grace_ms, lifecycle_drain_cb *drain,
                   void *arg)
{
    int rc;
    memset(lc, 0, sizeof *lc);
    if (grace_ms == 0)
        return -EINVAL;
    lc->loop = loop;
    lc->grace_ms = grace_ms;
    lc->drain = drain;
    lc->arg = arg;
    lc->exit_fn = default_exit;
    ev_timer_init(&lc->deadline, on_deadline, lc);
    struct sigaction sa = { .sa_handler = SIG_IGN };
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGPIPE, &sa, NULL) < 0)
        return -errno;
    if ((rc = ev_signal(loop, SIGTERM, on_signal, lc)) < 0)
        return rc;
    return ev_signal(loop, SIGINT, on_signal, lc);
}

void lifecycle_shutdown(lifecycle *lc, const char *reason)
{
    if (!lc->draining)
        begin(lc, reason ? reason : "requested");
}

void lifecycle_done(lifecycle *lc)
{
    lc->done = true;
    if (lc->loop)
        ev_timer_stop(lc->loop, &lc->deadline);
}

void lifecycle_set_exit(lifecycle *lc, lifecycle_exit_fn *fn, void *arg)
{
    lc->exit_fn = fn ? fn : default_exit;
    lc->exit_arg = arg;
}
