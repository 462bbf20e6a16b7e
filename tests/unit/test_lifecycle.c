/* test_lifecycle.c — graceful shutdown: signals raised in-process arrive on
 * the loop; the drain callback, the second-signal and deadline exits. */
#include "test.h"
#include "lifecycle.h"
#include "common.h"
#include "log.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#define WAIT_MAX_MS 10000 /* hang guard, not a timing check */

typedef struct app {
    lifecycle lc;
    int drains;
    int exits;
    int exit_code;
    bool finish_in_drain;
} app;

static void on_drain(ev_loop *loop, void *arg)
{
    app *a = arg;
    a->drains++;
    if (a->finish_in_drain) {
        lifecycle_done(&a->lc);
        ev_stop(loop);
    }
}

static void record_exit(int code, void *arg)
{
    app *a = arg;
    a->exits++;
    a->exit_code = code;
}

static void run_until(ev_loop *loop, const int *counter, int want)
{
    uint64_t end = lo_mono_ms() + WAIT_MAX_MS;
    while (*counter < want && lo_mono_ms() < end)
        ev_run_once(loop, 20);
}

/* Takes back any pending SIGTERM/SIGINT and unblocks them, so the test
 * process can be stopped normally again. */
static void restore_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    const struct timespec zero = { 0, 0 };
    while (sigtimedwait(&set, NULL, &zero) > 0)
        ;
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

struct capture {
    int lines;
    char last[LOG_LINE_MAX + 1];
};

static void capture_sink(const char *line, size_t len, void *arg)
{
    struct capture *c = arg;
    c->lines++;
    memcpy(c->last, line, len);
    c->last[len] = '\0';
}

TEST(lifecycle_first_sigterm_drains_once)
{
    struct capture cap = { 0 };
    log_set_sink(capture_sink, &cap);
    ev_loop *loop = ev_loop_new();
    app a = { .finish_in_drain = true };
    REQUIRE(lifecycle_init(&a.lc, loop, 60000, on_drain, &a) == 0);
    lifecycle_set_exit(&a.lc, record_exit, &a);
    CHECK(!lifecycle_draining(&a.lc));
    raise(SIGTERM);
    run_until(loop, &a.drains, 1);
    CHECK_INT(a.drains, 1);
    CHECK(lifecycle_draining(&a.lc));
    CHECK_INT(a.exits, 0);
    CHECK(!ev_timer_active(&a.lc.deadline)); /* done disarmed it */
    CHECK(strstr(cap.last, "\"msg\":\"shutting down\",\"reason\":\"SIGTERM\"") != NULL);
    lifecycle_shutdown(&a.lc, "again"); /* no second drain */
    CHECK_INT(a.drains, 1);
    ev_loop_free(loop);
    restore_signals();
    log_set_sink(NULL, NULL);
}

TEST(lifecycle_second_signal_forces_exit)
{
    struct capture cap = { 0 };
    log_set_sink(capture_sink, &cap);
    ev_loop *loop = ev_loop_new();
    app a = { 0 };
    REQUIRE(lifecycle_init(&a.lc, loop, 60000, on_drain, &a) == 0);
    lifecycle_set_exit(&a.lc, record_exit, &a);
    raise(SIGTERM);
    run_until(loop, &a.drains, 1);
    CHECK_INT(a.drains, 1);
    CHECK_INT(a.exits, 0);
    raise(SIGINT);
    run_until(loop, &a.exits, 1);
    CHECK_INT(a.exits, 1);
    CHECK_INT(a.exit_code, 128 + SIGINT);
    CHECK_INT(a.drains, 1);
    CHECK(strstr(cap.last, "\"level\":\"error\"") != NULL);
    CHECK(strstr(cap.last, "second signal") != NULL);
    lifecycle_done(&a.lc);
    ev_loop_free(loop);
    restore_signals();
    log_set_sink(NULL, NULL);
}

TEST(lifecycle_deadline_forces_exit)
{
    struct capture cap = { 0 };
    log_set_sink(capture_sink, &cap);
    ev_loop *loop = ev_loop_new();
    app a = { 0 };
    REQUIRE(lifecycle_init(&a.lc, loop, 20, on_drain, &a) == 0);
    lifecycle_set_exit(&a.lc, record_exit, &a);
    lifecycle_shutdown(&a.lc, "fatal error"); /* never finishes draining */
    CHECK_INT(a.drains, 1);
    CHECK(ev_timer_active(&a.lc.deadline));
    run_until(loop, &a.exits, 1);
    CHECK_INT(a.exits, 1);
    CHECK_INT(a.exit_code, LIFECYCLE_EXIT_DEADLINE);
    CHECK(strstr(cap.last, "drain deadline passed") != NULL);
    ev_loop_free(loop);
    restore_signals();
    log_set_sink(NULL, NULL);
}

TEST(lifecycle_ignores_sigpipe_and_rejects_zero_grace)
{
    struct sigaction dfl = { .sa_handler = SIG_DFL }, now;
    sigemptyset(&dfl.sa_mask);
    REQUIRE(sigaction(SIGPIPE, &dfl, NULL) == 0);
    ev_loop *loop = ev_loop_new();
    lifecycle lc;
    CHECK_INT(lifecycle_init(&lc, loop, 0, NULL, NULL), -EINVAL);
    CHECK_INT(lifecycle_init(&lc, loop, 1000, NULL, NULL), 0);
    REQUIRE(sigaction(SIGPIPE, NULL, &now) == 0);
    CHECK(now.sa_handler == SIG_IGN);
    raise(SIGPIPE); /* would kill the runner if not ignored */
    lifecycle_done(&lc);
    ev_loop_free(loop);
    restore_signals();
}
