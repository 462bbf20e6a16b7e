/* test_ev.c — the event loop: timers, fd readiness, deferred calls, signals. */
#include "test.h"
#include "ev.h"
#include "common.h"

#include <signal.h>
#include <unistd.h>
#include <sys/socket.h>

struct timer_log {
    int order[8];
    int n;
};

struct tagged {
    ev_timer t;
    int tag;
    struct timer_log *log;
};

static void on_tagged(ev_loop *loop, ev_timer *t, void *arg)
{
    LO_UNUSED(loop);
    LO_UNUSED(t);
    struct tagged *tg = arg;
    tg->log->order[tg->log->n++] = tg->tag;
}

TEST(ev_timers_fire_in_deadline_order)
{
    ev_loop *loop = ev_loop_new();
    REQUIRE(loop);
    struct timer_log log = { .n = 0 };
    struct tagged t[4];
    uint64_t after[4] = { 30, 10, 20, 5 };
    for (int i = 0; i < 4; i++) {
        t[i].tag = i;
        t[i].log = &log;
        ev_timer_init(&t[i].t, on_tagged, &t[i]);
        ev_timer_start(loop, &t[i].t, after[i]);
    }
    ev_timer_stop(loop, &t[2].t); /* stopping one leaves the others in order */
    CHECK(!ev_timer_active(&t[2].t));
    uint64_t start = lo_mono_ms();
    while (log.n < 3 && lo_mono_ms() - start < 2000)
        ev_run_once(loop, 100);
    CHECK_INT(log.n, 3);
    CHECK_INT(log.order[0], 3);
    CHECK_INT(log.order[1], 1);
    CHECK_INT(log.order[2], 0);
    ev_loop_free(loop);
}

static void on_count(ev_loop *loop, ev_timer *t, void *arg)
{
    LO_UNUSED(loop);
    LO_UNUSED(t);
    (*(int *)arg)++;
}

TEST(ev_timer_heap_survives_many_restarts)
{
    ev_loop *loop = ev_loop_new();
    REQUIRE(loop);
    enum { N = 500 };
    static ev_timer timers[N];
    int fired = 0;
    for (int i = 0; i < N; i++) {
        ev_timer_init(&timers[i], on_count, &fired);
        ev_timer_start(loop, &timers[i], (uint64_t)(lo_rand_below(1000) + 1000));
    }
    for (int i = 0; i < N; i += 2)
        ev_timer_start(loop, &timers[i], 0); /* re-arm half to fire now */
    for (int i = 1; i < N; i += 4)
        ev_timer_stop(loop, &timers[i]);
    ev_run_once(loop, 0);
    CHECK_INT(fired, N / 2);
    for (int i = 0; i < N; i++)
        ev_timer_stop(loop, &timers[i]);
    ev_loop_free(loop);
}

/* Records when (loop time) the timer fired. */
static void on_stamp(ev_loop *loop, ev_timer *t, void *arg)
{
    LO_UNUSED(t);
    *(uint64_t *)arg = ev_now(loop);
}

TEST(ev_timer_rearmed_later_fires_at_the_new_deadline_only)
{
    ev_loop *loop = ev_loop_new();
    REQUIRE(loop);
    uint64_t fired_at = 0;
    ev_timer t;
    ev_timer_init(&t, on_stamp, &fired_at);
    ev_timer_start(loop, &t, 20);
    uint64_t due = ev_now(loop) + 120;
    ev_timer_start(loop, &t, 120); /* later: the heap keeps the old key */
    CHECK(t.due_ms == due);
    uint64_t start = lo_mono_ms();
    while (fired_at == 0 && lo_mono_ms() - start < 2000)
        ev_run_once(loop, -1); /* wakes at the old key, must not fire there */
    CHECK(fired_at >= due);
    CHECK(!ev_timer_active(&t));
    ev_loop_free(loop);
}

TEST(ev_timer_rearmed_earlier_fires_at_the_earlier_deadline)
{
    ev_loop *loop = ev_loop_new();
    REQUIRE(loop);
    uint64_t fired_at = 0;
    ev_timer t;
    ev_timer_init(&t, on_stamp, &fired_at);
    ev_timer_start(loop, &t, 5000);
    ev_timer_start(loop, &t, 60); /* later, earlier, later again, then earliest */
    ev_timer_start(loop, &t, 4000);
    ev_timer_start(loop, &t, 30);
    uint64_t due = t.due_ms, start = lo_mono_ms();
    while (fired_at == 0 && lo_mono_ms() - start < 2000)
        ev_run_once(loop, 100);
    CHECK(fired_at >= due);
    CHECK(fired_at < due + 1000);
    ev_loop_free(loop);
}

TEST(ev_lazily_rearmed_timers_keep_deadline_order)
{
    ev_loop *loop = ev_loop_new();
    REQUIRE(loop);
    struct timer_log log = { .n = 0 };
    struct tagged t[4];
    for (int i = 0; i < 4; i++) {
        t[i].tag = i;
        t[i].log = &log;
        ev_timer_init(&t[i].t, on_tagged, &t[i]);
        ev_timer_start(loop, &t[i].t, 10);
    }
    /* all keyed at 10 ms; the real deadlines put them in the order 2 3 0 1 */
    uint64_t after[4] = { 90, 120, 30, 60 };
    for (int i = 0; i < 4; i++)
        ev_timer_start(loop, &t[i].t, after[i]);
    uint64_t start = lo_mono_ms();
    while (log.n < 4 && lo_mono_ms() - start < 2000)
        ev_run_once(loop, -1);
    CHECK_INT(log.n, 4);
    CHECK_INT(log.order[0], 2);
    CHECK_INT(log.order[1], 3);
    CHECK_INT(log.order[2], 0);
    CHECK_INT(log.order[3], 1);
    ev_loop_free(loop);
}

struct pipe_state {
    int reads;
    char got;
};

static void on_pipe(ev_loop *loop, int fd, unsigned events, void *arg)
{
    struct pipe_state *ps = arg;
    if (events & EV_READ) {
        if (read(fd, &ps->got, 1) == 1)
            ps->reads++;
        ev_stop(loop);
    }
}

static void write_byte(ev_loop *loop, ev_timer *t, void *arg)
{
    LO_UNUSED(loop);
    LO_UNUSED(t);
    CHECK(write(*(int *)arg, "x", 1) == 1);
}

TEST(ev_io_reports_readable_fd)
{
    ev_loop *loop = ev_loop_new();
    REQUIRE(loop);
    int p[2];
    REQUIRE(pipe(p) == 0);
    struct pipe_state ps = { 0, 0 };
    CHECK_INT(ev_io_set(loop, p[0], EV_READ, on_pipe, &ps), 0);
    ev_timer t;
    ev_timer_init(&t, write_byte, &p[1]);
    ev_timer_start(loop, &t, 5);
    CHECK_INT(ev_run(loop), 0);
    CHECK_INT(ps.reads, 1);
    CHECK(ps.got == 'x');
    ev_io_del(loop, p[0]);
    CHECK(ev_io_events(loop, p[0], EV_READ) < 0); /* forgotten */
    close(p[0]);
    close(p[1]);
    ev_loop_free(loop);
}

static void deferred(void *arg)
{
    (*(int *)arg)++;
}

TEST(ev_defer_runs_once_per_call)
{
    ev_loop *loop = ev_loop_new();
    REQUIRE(loop);
    int n = 0;
    ev_defer(loop, deferred, &n);
    ev_defer(loop, deferred, &n);
    ev_run_once(loop, 1000); /* returns at once: work is pending */
    CHECK_INT(n, 2);
    ev_run_once(loop, 0);
    CHECK_INT(n, 2);
    ev_loop_free(loop);
}

static void on_sig(ev_loop *loop, int signo, void *arg)
{
    *(int *)arg = signo;
    ev_stop(loop);
}

TEST(ev_signal_is_delivered_on_the_loop)
{
    ev_loop *loop = ev_loop_new();
    REQUIRE(loop);
    int got = 0;
    REQUIRE(ev_signal(loop, SIGUSR1, on_sig, &got) == 0);
    CHECK(ev_signal(loop, 0, on_sig, &got) < 0);
    raise(SIGUSR1);
    ev_run(loop);
    CHECK_INT(got, SIGUSR1);
    ev_loop_free(loop);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigprocmask(SIG_UNBLOCK, &s, NULL);
}

static void count_io(ev_loop *loop, int fd, unsigned events, void *arg)
{
    LO_UNUSED(loop);
    LO_UNUSED(fd);
    LO_UNUSED(events);
    (*(int *)arg)++;
}

TEST(ev_idle_fd_is_not_woken_by_hangup)
{
    ev_loop *loop = ev_loop_new();
    REQUIRE(loop);
    int sv[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    int calls = 0;
    CHECK_INT(ev_io_set(loop, sv[0], 0, count_io, &calls), 0);
    close(sv[1]); /* a hang-up: epoll would report it even for an empty mask */
    ev_run_once(loop, 0);
    CHECK_INT(calls, 0);
    CHECK_INT(ev_io_events(loop, sv[0], EV_READ), 0);
    ev_run_once(loop, 0);
    CHECK_INT(calls, 1);
    ev_io_del(loop, sv[0]);
    close(sv[0]);
    ev_loop_free(loop);
}
