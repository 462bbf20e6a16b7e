/* test_ingest_store.c — the append script and the batching store against a
 * real redis-server: appends, duplicates, one call for many jobs, XADD
 * errors per event, Redis down, Redis slower than the deadline. */
#include "test.h"
#include "test_redis_helpers.h"
#include "peers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/store.h"

typedef struct outcome {
    int calls;
    int err;
    size_t n;
    ingest_append_result res[8];
} outcome;

static void outcome_cb(void *arg, int err, const ingest_append_result *res, size_t n)
{
    outcome *o = arg;
    o->calls++;
    o->err = err;
    o->n = n;
    if (res)
        memcpy(o->res, res, n * sizeof(*res));
}

static ingest_event mkev(const char *id, const char *type)
{
    ingest_event e = { .ts_ms = 1700000000000LL, .source = INGEST_SRC_WEBHOOK,
                       .data = (char *)"{\"k\":\"v\"}", .data_len = 9 };
    snprintf(e.id, sizeof(e.id), "%s", id);
    snprintf(e.type, sizeof(e.type), "%s", type);
    return e;
}

/* A redis-server, a loop, a client and a store on them. */
typedef struct senv {
    peer *p;
    ev_loop *loop;
    rds *r;
    ingest_store *s;
} senv;

/* ro and so may be NULL (defaults). */
static bool senv_start(senv *e, const rds_opts *ro, const ingest_store_opts *so)
{
    memset(e, 0, sizeof(*e));
    e->p = peer_redis_start(NULL);
    if (!e->p)
        return false;
    e->loop = ev_loop_new();
    e->r = test_rds(e->loop, ro, true, "redis://127.0.0.1:%d", peer_port(e->p));
    if (!e->r)
        return false;
    e->s = ingest_store_new(e->loop, e->r, so);
    return true;
}

/* Frees what senv_start() made (the store unless the test freed it and
 * set e->s to NULL). */
static void senv_stop(senv *e)
{
    ingest_store_free(e->s);
    rds_free(e->r);
    if (e->loop)
        ev_loop_free(e->loop);
    peer_stop(e->p);
}

TEST(ingest_store_appends_once_and_reports_duplicates)
{
    rds_opts ro = { .fail_fast = true };
    ingest_store_opts so = { .ttl_s = 3600, .maxlen = 1000 };
    senv e;
    REQUIRE(senv_start(&e, &ro, &so));
    ingest_event a[2] = { mkev("a1", "upvote"), mkev("a2", "comment") };
    ingest_event b[1] = { mkev("b1", "upvote") };
    ingest_event again[2] = { mkev("a2", "comment"), mkev("b2", "upvote") };
    outcome oa = { 0 }, ob = { 0 }, oc = { 0 };
    CHECK_INT(ingest_store_append(e.s, "l1", a, 2, outcome_cb, &oa), 0);
    CHECK_INT(ingest_store_append(e.s, "l1", b, 1, outcome_cb, &ob), 0);
    CHECK_INT(oa.calls, 0); /* never from inside */
    REQUIRE(WAIT_FOR(e.loop, oa.calls == 1 && ob.calls == 1));
    CHECK_INT(oa.err, 0);
    CHECK_INT(oa.n, 2);
    CHECK_INT(oa.res[0].status, INGEST_APPENDED);
    CHECK_INT(oa.res[1].status, INGEST_APPENDED);
    CHECK_INT(ob.res[0].status, INGEST_APPENDED);
    ingest_store_stats st;
    ingest_store_get_stats(e.s, &st);
    CHECK_INT(st.calls, 1); /* both jobs of the iteration went in one script call */
    CHECK_INT(st.events, 3);
    CHECK_INT(ingest_store_append(e.s, "l1", again, 2, outcome_cb, &oc), 0);
    REQUIRE(WAIT_FOR(e.loop, oc.calls == 1));
    CHECK_INT(oc.err, 0);
    CHECK_INT(oc.res[0].status, INGEST_DUPLICATE);
    CHECK_INT(oc.res[1].status, INGEST_APPENDED);
    CHECK_INT(peer_sh(e.p, "test \"$(redis-cli -p %PORT% XLEN liftoff:events:l1)\" = 4"), 0);
    CHECK_INT(peer_sh(e.p, "redis-cli -p %PORT% XRANGE liftoff:events:l1 - + | tr '\\n' ' ' | "
                         "grep -q 'id a1 type upvote ts 1700000000000 source webhook data {\"k\":\"v\"}'"), 0);
    /* the ids live in the set of this hour's bucket, which expires at the
     * end of the next hour plus 300 s: between one and two windows away */
    CHECK_INT(peer_sh(e.p, "k=liftoff:seen:l1:$(($(date +%s) / 3600)); "
                         "test \"$(redis-cli -p %PORT% SMISMEMBER $k a1 a2 b1 b2 zz | tr '\\n' ' ')\" = '1 1 1 1 0 ' && "
                         "t=$(redis-cli -p %PORT% TTL $k); [ $t -gt 3600 ] && [ $t -le 7500 ]"), 0);
    ingest_store_get_stats(e.s, &st);
    CHECK_INT(st.appended, 4);
    CHECK_INT(st.duplicates, 1);
    CHECK_INT(st.inflight, 0);
    senv_stop(&e);
}

TEST(ingest_store_xadd_error_fails_only_that_launch)
{
    rds_opts ro = { .fail_fast = true };
    senv e;
    REQUIRE(senv_start(&e, &ro, NULL));
    REQUIRE(peer_sh(e.p, "redis-cli -p %PORT% SET liftoff:events:broken x >/dev/null") == 0);
    ingest_event a[1] = { mkev("x1", "upvote") }, b[1] = { mkev("x1", "upvote") };
    outcome oa = { 0 }, ob = { 0 };
    CHECK_INT(ingest_store_append(e.s, "broken", a, 1, outcome_cb, &oa), 0);
    CHECK_INT(ingest_store_append(e.s, "fine", b, 1, outcome_cb, &ob), 0);
    REQUIRE(WAIT_FOR(e.loop, oa.calls == 1 && ob.calls == 1));
    CHECK_INT(oa.err, 0);
    CHECK_INT(oa.res[0].status, INGEST_APPEND_FAILED);
    CHECK(strstr(oa.res[0].stream_id, "WRONGTYPE") != NULL);
    CHECK_INT(ob.res[0].status, INGEST_APPENDED);
    /* the failed event left no dedupe key: a retry after the fix is appended */
    CHECK_INT(peer_sh(e.p, "test \"$(redis-cli -p %PORT% SISMEMBER liftoff:seen:broken:$(($(date +%s) / 86400)) x1)\" = 0"), 0);
    CHECK_INT(peer_sh(e.p, "test \"$(redis-cli -p %PORT% SISMEMBER liftoff:seen:fine:$(($(date +%s) / 86400)) x1)\" = 1"), 0);
    senv_stop(&e);
}

TEST(ingest_store_fails_fast_when_redis_is_down_and_recovers)
{
    states stc = { 0 };
    rds_opts ro = { .fail_fast = true, .backoff_min_ms = 20, .backoff_max_ms = 100,
                    .on_state = states_cb, .state_arg = &stc };
    senv e;
    REQUIRE(senv_start(&e, &ro, NULL));
    peer_kill9(e.p);
    REQUIRE(WAIT_FOR(e.loop, !rds_is_up(e.r)));
    ingest_event a[1] = { mkev("d1", "upvote") };
    outcome oa = { 0 };
    CHECK_INT(ingest_store_append(e.s, "l", a, 1, outcome_cb, &oa), 0);
    REQUIRE(WAIT_FOR(e.loop, oa.calls == 1));
    CHECK_INT(oa.err, -ENOTCONN);
    REQUIRE(peer_restart(e.p) == 0);
    REQUIRE(WAIT_FOR(e.loop, rds_is_up(e.r)));
    memset(&oa, 0, sizeof(oa));
    CHECK_INT(ingest_store_append(e.s, "l", a, 1, outcome_cb, &oa), 0);
    REQUIRE(WAIT_FOR(e.loop, oa.calls == 1));
    CHECK_INT(oa.err, 0);
    CHECK_INT(oa.res[0].status, INGEST_APPENDED);
    senv_stop(&e);
}

TEST(ingest_store_deadline_and_inflight_cap)
{
    rds_opts ro = { .fail_fast = true, .command_timeout_ms = 200 };
    ingest_store_opts so = { .inflight_max = 3 };
    senv e;
    REQUIRE(senv_start(&e, &ro, &so));
    ingest_event a[2] = { mkev("t1", "upvote"), mkev("t2", "upvote") };
    ingest_event b[2] = { mkev("t3", "upvote"), mkev("t4", "upvote") };
    outcome oa = { 0 }, ob = { 0 };
    peer_pause(e.p);
    CHECK_INT(ingest_store_append(e.s, "l", a, 2, outcome_cb, &oa), 0);
    CHECK_INT(ingest_store_append(e.s, "l", b, 2, outcome_cb, &ob), -EBUSY);
    REQUIRE(WAIT_FOR(e.loop, oa.calls == 1));
    CHECK_INT(oa.err, -ETIMEDOUT);
    CHECK_INT(ob.calls, 0);
    peer_resume(e.p);
    /* Redis may still run the late call (before or after the retry, on
     * another connection): either way each event is in the stream once. */
    REQUIRE(WAIT_FOR(e.loop, rds_is_up(e.r)));
    memset(&oa, 0, sizeof(oa));
    CHECK_INT(ingest_store_append(e.s, "l", a, 2, outcome_cb, &oa), 0);
    REQUIRE(WAIT_FOR(e.loop, oa.calls == 1));
    CHECK_INT(oa.err, 0);
    CHECK(oa.res[0].status == INGEST_DUPLICATE || oa.res[0].status == INGEST_APPENDED);
    CHECK_INT(peer_sh(e.p, "test \"$(redis-cli -p %PORT% XLEN liftoff:events:l)\" = 2"), 0);
    test_run_for(e.loop, 100);
    CHECK_INT(peer_sh(e.p, "test \"$(redis-cli -p %PORT% XLEN liftoff:events:l)\" = 2"), 0);
    ingest_store_stats st;
    ingest_store_get_stats(e.s, &st);
    CHECK_INT(st.rejected, 1);
    CHECK_INT(st.call_errors, 1);
    senv_stop(&e);
}

TEST(ingest_store_free_fails_queued_jobs)
{
    senv e;
    REQUIRE(senv_start(&e, NULL, NULL));
    ingest_event a[1] = { mkev("f1", "upvote") };
    outcome oa = { 0 };
    CHECK_INT(ingest_store_append(e.s, "l", a, 1, outcome_cb, &oa), 0);
    ingest_store_free(e.s); /* the deferred flush must not touch the freed store */
    e.s = NULL;
    CHECK_INT(oa.calls, 1);
    CHECK_INT(oa.err, -ECANCELED);
    test_run_for(e.loop, 50);
    senv_stop(&e);
}

static uint64_t store_calls(const ingest_store *s)
{
    ingest_store_stats st;
    ingest_store_get_stats(s, &st);
    return st.calls;
}

TEST(ingest_store_dedupes_within_a_call_and_across_buckets)
{
    rds_opts ro = { .fail_fast = true };
    ingest_store_opts so = { .ttl_s = 600 };
    senv e;
    REQUIRE(senv_start(&e, &ro, &so));
    /* ids remembered in the buckets before and after this one (another
     * replica's clock a little ahead, or the previous window) */
    REQUIRE(peer_sh(e.p, "b=$(($(date +%s) / 600)); "
                         "redis-cli -p %PORT% SADD liftoff:seen:l:$((b - 1)) n1 >/dev/null && "
                         "redis-cli -p %PORT% SADD liftoff:seen:l:$((b + 1)) n2 >/dev/null && "
                         "redis-cli -p %PORT% SADD liftoff:seen:l:$((b - 2)) n4 >/dev/null") == 0);
    ingest_event a[6] = { mkev("d1", "upvote"), mkev("d1", "upvote"), mkev("n1", "upvote"),
                          mkev("n2", "upvote"), mkev("n3", "upvote"), mkev("n4", "upvote") };
    outcome oa = { 0 };
    CHECK_INT(ingest_store_append(e.s, "l", a, 6, outcome_cb, &oa), 0);
    REQUIRE(WAIT_FOR(e.loop, oa.calls == 1));
    CHECK_INT(oa.err, 0);
    CHECK_INT(oa.res[0].status, INGEST_APPENDED);
    CHECK_INT(oa.res[1].status, INGEST_DUPLICATE); /* the same id later in the call */
    CHECK_INT(oa.res[2].status, INGEST_DUPLICATE);
    CHECK_INT(oa.res[3].status, INGEST_DUPLICATE);
    CHECK_INT(oa.res[4].status, INGEST_APPENDED);
    CHECK_INT(oa.res[5].status, INGEST_APPENDED); /* two buckets back: forgotten */
    CHECK_INT(peer_sh(e.p, "test \"$(redis-cli -p %PORT% XLEN liftoff:events:l)\" = 3"), 0);
    senv_stop(&e);
}

TEST(ingest_store_caps_calls_in_flight_and_fails_the_queue_with_a_call)
{
    rds_opts ro = { .fail_fast = true, .command_timeout_ms = 300 };
    ingest_store_opts so = { .calls_max = 1 };
    senv e;
    REQUIRE(senv_start(&e, &ro, &so));
    ingest_event a[1] = { mkev("q1", "upvote") }, b[1] = { mkev("q2", "upvote") },
                 c[1] = { mkev("q3", "upvote") }, d[1] = { mkev("q4", "upvote") };
    outcome oa = { 0 }, ob = { 0 }, oc = { 0 }, od = { 0 };
    /* Redis stalls: the first call hangs, the next job waits behind it and
     * fails with it, never sent */
    peer_pause(e.p);
    CHECK_INT(ingest_store_append(e.s, "l", a, 1, outcome_cb, &oa), 0);
    REQUIRE(WAIT_FOR(e.loop, store_calls(e.s) == 1));
    CHECK_INT(ingest_store_append(e.s, "l", b, 1, outcome_cb, &ob), 0);
    REQUIRE(WAIT_FOR(e.loop, oa.calls == 1 && ob.calls == 1));
    CHECK_INT(oa.err, -ETIMEDOUT);
    CHECK_INT(ob.err, -ETIMEDOUT);
    CHECK_INT(store_calls(e.s), 1);
    peer_resume(e.p);
    REQUIRE(WAIT_FOR(e.loop, rds_is_up(e.r)));
    /* Redis slow again: jobs arriving while one call is unanswered go out
     * together in the next one */
    peer_pause(e.p);
    CHECK_INT(ingest_store_append(e.s, "l", a, 1, outcome_cb, &oa), 0);
    REQUIRE(WAIT_FOR(e.loop, store_calls(e.s) == 2));
    CHECK_INT(ingest_store_append(e.s, "l", c, 1, outcome_cb, &oc), 0);
    ev_run_once(e.loop, 10);
    CHECK_INT(ingest_store_append(e.s, "l", d, 1, outcome_cb, &od), 0);
    ev_run_once(e.loop, 10);
    CHECK_INT(store_calls(e.s), 2);
    peer_resume(e.p);
    REQUIRE(WAIT_FOR(e.loop, oc.calls == 1 && od.calls == 1));
    CHECK_INT(oc.err, 0);
    CHECK_INT(od.err, 0);
    CHECK_INT(oc.res[0].status, INGEST_APPENDED);
    CHECK_INT(od.res[0].status, INGEST_APPENDED);
    CHECK_INT(store_calls(e.s), 3);
    CHECK_INT(peer_sh(e.p, "test \"$(redis-cli -p %PORT% XLEN liftoff:events:l)\" = 3"), 0);
    senv_stop(&e);
}

TEST(ingest_store_trims_the_stream_to_about_maxlen)
{
    rds_opts ro = { .fail_fast = true };
    ingest_store_opts so = { .maxlen = 100 };
    senv e;
    REQUIRE(senv_start(&e, &ro, &so));
    enum { ROUNDS = 125, PER = 8 }; /* outcome keeps 8 results */
    static ingest_event evs[ROUNDS][PER];
    outcome o[ROUNDS];
    memset(o, 0, sizeof(o));
    for (int i = 0; i < ROUNDS; i++) {
        for (int k = 0; k < PER; k++) {
            char id[32];
            snprintf(id, sizeof(id), "m%d-%d", i, k);
            evs[i][k] = mkev(id, "upvote");
        }
        CHECK_INT(ingest_store_append(e.s, "l", evs[i], PER, outcome_cb, &o[i]), 0);
        REQUIRE(WAIT_FOR(e.loop, o[i].calls == 1));
        CHECK_INT(o[i].err, 0);
    }
    /* 1000 appended; MAXLEN ~ 100 drops whole stream nodes (100 entries
     * each by default), so between 100 and 199 remain */
    CHECK_INT(peer_sh(e.p, "n=$(redis-cli -p %PORT% XLEN liftoff:events:l); "
                         "[ $n -ge 100 ] && [ $n -lt 200 ]"), 0);
    senv_stop(&e);
}
