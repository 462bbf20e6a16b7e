/* test_redis_failover.c — the Redis client when the server dies, stalls or
 * is away: every pending callback gets an error exactly once, reconnect,
 * queueing vs failing fast, deadlines, freeing with work in flight. */
#include "test.h"
#include "test_redis_helpers.h"
#include "peers.h"
#include "redis_fixture.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define INFLIGHT_N 500

typedef struct tally tally;

typedef struct slot {
    tally *t;
    int i;
} slot;

/* What each of up to INFLIGHT_N commands' callbacks saw. */
struct tally {
    int calls[INFLIGHT_N];
    int err[INFLIGHT_N];
    int done;
    slot slots[INFLIGHT_N];
};

static void tally_cb(rds *r, const redisReply *reply, int err, void *arg)
{
    slot *s = arg;
    s->t->calls[s->i]++;
    s->t->err[s->i] = err;
    s->t->done++;
}

/* Sends n commands, the i-th reporting into slot i of t: "SET key:<i> <i>"
 * (set) or PING. 0, or the first refusal. */
static int tally_send(rds *r, tally *t, int n, bool set)
{
    for (int i = 0; i < n; i++) {
        t->slots[i] = (slot){ t, i };
        int rc = set ? rds_command(r, tally_cb, &t->slots[i], "SET key:%d %d", i, i)
                     : rds_command(r, tally_cb, &t->slots[i], "PING");
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* rds_opts fields: quick reconnect attempts, state events counted in *s. */
#define FAST_RETRY_COUNTED(s)                                                  \
    .backoff_min_ms = 20, .backoff_max_ms = 100, .on_state = states_cb, .state_arg = (s)

TEST(redis_kill9_fails_each_pending_once_then_reconnects)
{
    states s = { 0 };
    rds_opts o = { FAST_RETRY_COUNTED(&s) };
    rfx f;
    REQUIRE(rfx_start(&f, NULL, &o, NULL));
    CHECK_INT(s.up, 1);
    /* A stopped server keeps every command pending. */
    peer_pause(f.p);
    tally *t = calloc(1, sizeof *t);
    REQUIRE(t);
    REQUIRE(tally_send(f.r, t, INFLIGHT_N, true) == 0);
    rds_stats st;
    CHECK(WAIT_FOR(f.loop, (rds_get_stats(f.r, &st), st.commands == INFLIGHT_N)));
    CHECK_INT(t->done, 0);
    peer_kill9(f.p);
    CHECK(WAIT_FOR(f.loop, t->done == INFLIGHT_N));
    int twice = 0, no_error = 0;
    for (int i = 0; i < INFLIGHT_N; i++) {
        twice += t->calls[i] != 1;
        no_error += t->err[i] != -ENOTCONN;
    }
    CHECK_INT(twice, 0);
    CHECK_INT(no_error, 0);
    CHECK_INT(s.down, 1);
    CHECK(!rds_is_up(f.r));
    CHECK(*rds_error(f.r) != '\0');

    /* While down (queueing mode) a command waits for the next connection. */
    rec queued = { 0 };
    CHECK_INT(rds_command(f.r, rec_cb, &queued, "SET after restart"), 0);
    CHECK(WAIT_FOR(f.loop, s.failed >= 1)); /* at least one refused retry */
    CHECK_INT(queued.calls, 0);
    REQUIRE(peer_restart(f.p) == 0);
    CHECK(WAIT_FOR(f.loop, queued.calls == 1));
    CHECK_INT(queued.err, 0);
    CHECK_STR(queued.str, "OK");
    CHECK_INT(s.up, 2);
    rec get = { 0 };
    CHECK_INT(rds_command(f.r, rec_cb, &get, "GET after"), 0);
    CHECK(WAIT_FOR(f.loop, get.calls == 1));
    CHECK_STR(get.str, "restart");
    rds_get_stats(f.r, &st);
    CHECK(st.reconnects >= 1);
    CHECK_INT(st.connects, 2);
    CHECK_INT(st.failed, INFLIGHT_N);
    /* Nothing is ever delivered twice, even later. */
    test_run_for(f.loop, 50);
    for (int i = 0; i < INFLIGHT_N; i++)
        CHECK_INT(t->calls[i], 1);
    rec_free(&queued);
    rec_free(&get);
    free(t);
    rfx_stop(&f);
}

TEST(redis_command_timeout_fails_and_reconnects)
{
    states s = { 0 };
    rds_opts o = { FAST_RETRY_COUNTED(&s), .command_timeout_ms = 60000 };
    rfx f;
    REQUIRE(rfx_start(&f, NULL, &o, NULL));
    peer_pause(f.p);
    rec slow = { 0 }, behind = { 0 };
    const char *argv[] = { "GET", "x" };
    CHECK_INT(rds_command_argv_timeout(f.r, 200, 2, argv, NULL, rec_cb, &slow), 0);
    CHECK_INT(rds_command(f.r, rec_cb, &behind, "PING"), 0);
    CHECK(WAIT_FOR(f.loop, slow.calls && behind.calls));
    CHECK_INT(slow.err, -ETIMEDOUT);
    CHECK_INT(behind.err, -ENOTCONN); /* its connection was dropped */
    CHECK(strstr(rds_error(f.r), "got no reply in time") != NULL);
    rds_stats st;
    rds_get_stats(f.r, &st);
    CHECK_INT(st.timeouts, 1);
    CHECK_INT(s.down, 1);
    peer_resume(f.p);
    CHECK(WAIT_FOR(f.loop, rds_is_up(f.r)));
    rec ping = { 0 };
    CHECK_INT(rds_command(f.r, rec_cb, &ping, "PING"), 0);
    CHECK(WAIT_FOR(f.loop, ping.calls == 1));
    CHECK_STR(ping.str, "PONG");
    CHECK_INT(slow.calls, 1);
    CHECK_INT(behind.calls, 1);
    rec_free(&slow);
    rec_free(&behind);
    rec_free(&ping);
    rfx_stop(&f);
}

TEST(redis_command_timeout_during_client_pause)
{
    rfx f;
    REQUIRE(rfx_start(&f, NULL, NULL, NULL));
    rds *admin = test_rds(f.loop, NULL, true, "redis://127.0.0.1:%d", peer_port(f.p));
    REQUIRE(admin);
    rec pause = { 0 }, slow = { 0 };
    CHECK_INT(rds_command(admin, rec_cb, &pause, "CLIENT PAUSE 1000 ALL"), 0);
    CHECK(WAIT_FOR(f.loop, pause.calls == 1));
    CHECK_STR(pause.str, "OK");
    const char *argv[] = { "GET", "x" };
    CHECK_INT(rds_command_argv_timeout(f.r, 150, 2, argv, NULL, rec_cb, &slow), 0);
    CHECK(WAIT_FOR(f.loop, slow.calls == 1));
    CHECK_INT(slow.err, -ETIMEDOUT);
    rec_free(&pause);
    rec_free(&slow);
    rds_free(admin);
    rfx_stop(&f);
}

TEST(redis_fail_fast_while_down)
{
    states s = { 0 };
    rds_opts o = { FAST_RETRY_COUNTED(&s), .fail_fast = true };
    rfx f;
    REQUIRE(rfx_start(&f, NULL, &o, NULL));
    peer_kill9(f.p);
    CHECK(WAIT_FOR(f.loop, s.down == 1));
    rec x = { 0 };
    CHECK_INT(rds_command(f.r, rec_cb, &x, "PING"), 0);
    CHECK_INT(x.calls, 0); /* not from inside the call */
    CHECK(WAIT_FOR(f.loop, x.calls == 1));
    CHECK_INT(x.err, -ENOTCONN);
    REQUIRE(peer_restart(f.p) == 0);
    CHECK(WAIT_FOR(f.loop, rds_is_up(f.r)));
    CHECK_INT(rds_command(f.r, rec_cb, &x, "PING"), 0);
    CHECK(WAIT_FOR(f.loop, x.calls == 2));
    CHECK_INT(x.err, 0);
    CHECK_STR(x.str, "PONG");
    rec_free(&x);
    rfx_stop(&f);
}

TEST(redis_queue_bound_and_deadlines_while_down)
{
    states s = { 0 };
    rds_opts o = { FAST_RETRY_COUNTED(&s), .max_pending = 3 };
    rfx f;
    REQUIRE(rfx_start(&f, NULL, &o, NULL));
    peer_kill9(f.p);
    CHECK(WAIT_FOR(f.loop, s.down == 1));
    rec a = { 0 }, b = { 0 }, c = { 0 }, over = { 0 };
    const char *set_a[] = { "SET", "a", "1" };
    const char *set_c[] = { "SET", "c", "3" };
    CHECK_INT(rds_command_argv(f.r, 3, set_a, NULL, rec_cb, &a), 0);
    const char *short_lived[] = { "SET", "b", "2" };
    CHECK_INT(rds_command_argv_timeout(f.r, 100, 3, short_lived, NULL, rec_cb, &b), 0);
    CHECK_INT(rds_command_argv(f.r, 3, set_c, NULL, rec_cb, &c), 0);
    CHECK_INT(rds_command(f.r, rec_cb, &over, "PING"), 0);
    CHECK(WAIT_FOR(f.loop, over.calls == 1));
    CHECK_INT(over.err, -ENOBUFS);
    /* The short deadline passes while down: only that one fails. */
    CHECK(WAIT_FOR(f.loop, b.calls == 1));
    CHECK_INT(b.err, -ETIMEDOUT);
    CHECK_INT(a.calls + c.calls, 0);
    REQUIRE(peer_restart(f.p) == 0);
    CHECK(WAIT_FOR(f.loop, a.calls && c.calls));
    CHECK_STR(a.str, "OK");
    CHECK_STR(c.str, "OK");
    rec mget = { 0 };
    CHECK_INT(rds_command(f.r, rec_cb, &mget, "EXISTS a b c"), 0);
    CHECK(WAIT_FOR(f.loop, mget.calls == 1));
    CHECK_INT(mget.integer, 2); /* b was never written */
    rec_free(&a);
    rec_free(&b);
    rec_free(&c);
    rec_free(&over);
    rec_free(&mget);
    rfx_stop(&f);
}

static void free_in_callback(rds *r, const redisReply *reply, int err, void *arg)
{
    int *n = arg;
    if ((*n)++ == 0)
        rds_free(r);
    else /* later callbacks come from rds_free: new commands are refused */
        CHECK_INT(rds_command(r, free_in_callback, arg, "PING"), -ECANCELED);
}

TEST(redis_free_cancels_pending_even_from_a_callback)
{
    rfx f;
    REQUIRE(rfx_start(&f, NULL, NULL, NULL));
    /* Plain rds_free with commands in flight and queued. */
    tally *t = calloc(1, sizeof *t);
    REQUIRE(t);
    REQUIRE(tally_send(f.r, t, 10, false) == 0);
    rds_free(f.r);
    f.r = NULL;
    CHECK_INT(t->done, 10);
    for (int i = 0; i < 10; i++) {
        CHECK_INT(t->calls[i], 1);
        CHECK_INT(t->err[i], -ECANCELED);
    }
    /* rds_free from inside the first reply's callback. */
    rds *r = test_rds(f.loop, NULL, true, "redis://127.0.0.1:%d", peer_port(f.p));
    REQUIRE(r);
    int n = 0;
    for (int i = 0; i < 5; i++)
        REQUIRE(rds_command(r, free_in_callback, &n, "PING") == 0);
    CHECK(WAIT_FOR(f.loop, n == 5));
    test_run_for(f.loop, 20);
    CHECK_INT(n, 5);
    free(t);
    rfx_stop(&f);
}

/* The Sentinel seam: an address provider picks the server per attempt. */
typedef struct provider {
    int port;
    int calls;
} provider;

static int provide(rds *r, char *host, size_t hostlen, int *port, void *arg)
{
    provider *pv = arg;
    pv->calls++;
    snprintf(host, hostlen, "127.0.0.1");
    *port = pv->port;
    return 0;
}

TEST(redis_address_provider_and_reconnect_switch_servers)
{
    peer *p1 = peer_redis_start(NULL);
    peer *p2 = peer_redis_start(NULL);
    REQUIRE(p1 && p2);
    ev_loop *loop = ev_loop_new();
    provider pv = { .port = peer_port(p1) };
    rds_opts o = { .addr_provider = provide, .addr_arg = &pv };
    /* The URL's address is not used when a provider is set. */
    rds *r = test_rds(loop, &o, true, "redis://127.0.0.1:1");
    REQUIRE(r);
    CHECK_INT(pv.calls, 1);
    rec x = { 0 };
    CHECK_INT(rds_command(r, rec_cb, &x, "SET where one"), 0);
    CHECK(WAIT_FOR(loop, x.calls == 1));
    /* "Failover": the provider now names the other server. */
    pv.port = peer_port(p2);
    rds_reconnect(r);
    CHECK(WAIT_FOR(loop, rds_is_up(r)));
    CHECK_INT(pv.calls, 2);
    CHECK_INT(rds_command(r, rec_cb, &x, "GET where"), 0);
    CHECK(WAIT_FOR(loop, x.calls == 2));
    CHECK_INT(x.type, REDIS_REPLY_NIL); /* a different server */
    rec_free(&x);
    rds_free(r);
    ev_loop_free(loop);
    peer_stop(p1);
    peer_stop(p2);
}

TEST(redis_free_then_loop_free_leaves_nothing_behind)
{
    /* Work scheduled for the loop (a flush, a failure report) must not keep
     * a freed client alive: valgrind and ASan runs check for leaks. */
    rfx f;
    REQUIRE(rfx_start(&f, NULL, NULL, NULL));
    rec a = { 0 };
    CHECK_INT(rds_command(f.r, rec_cb, &a, "PING"), 0); /* flush scheduled */
    rds_free(f.r);
    CHECK_INT(a.calls, 1);
    CHECK_INT(a.err, -ECANCELED);
    rds_opts o = { .fail_fast = true };
    f.r = test_rds(f.loop, &o, false, "redis://127.0.0.1:%d", peer_port(f.p));
    REQUIRE(f.r);
    CHECK_INT(rds_command(f.r, rec_cb, &a, "PING"), 0); /* failure scheduled */
    rds_free(f.r);
    f.r = NULL;
    CHECK_INT(a.calls, 2);
    CHECK_INT(a.err, -ENOTCONN);
    ev_loop_free(f.loop);
    f.loop = NULL;
    CHECK_INT(conn_live_count(), 0);
    rec_free(&a);
    rfx_stop(&f);
}

TEST(redis_unanswered_auth_is_a_failed_attempt)
{
    peer *p = peer_redis_start("user alice on >secret ~* &* +@all\n");
    REQUIRE(p);
    ev_loop *loop = ev_loop_new();
    peer_pause(p); /* the kernel still completes TCP connects */
    states s = { 0 };
    rds_opts o = { .on_state = states_cb, .state_arg = &s, .connect_timeout_ms = 200,
                   .backoff_min_ms = 20, .backoff_max_ms = 50 };
    rds *r = test_rds(loop, &o, false, "redis://alice:secret@127.0.0.1:%d", peer_port(p));
    REQUIRE(r);
    CHECK_INT(s.failed, 0); /* nothing happens inside rds_new */
    CHECK(WAIT_FOR(loop, s.failed >= 1));
    CHECK(strstr(rds_error(r), "did not answer AUTH/SELECT within 200 ms") != NULL);
    peer_resume(p);
    CHECK(WAIT_FOR(loop, s.up == 1));
    rds_free(r);
    ev_loop_free(loop);
    peer_stop(p);
}
