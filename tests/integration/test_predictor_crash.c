/* test_predictor_crash.c — the correctness contract of the predictor: a
 * predictor killed with SIGKILL while its stream is being filled, and
 * restarted, publishes exactly what an uninterrupted twin publishes (the
 * twin reads a second Redis that receives the same entries with the same
 * ids), and leaves nothing pending in its group. */
#include "test.h"
#include "test_predictor_helpers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define STREAM "liftoff:events:wave"
#define KEY "liftoff:forecast:shop:web"
#define POLICY "{\"spec\":{\"redis\":{\"launch\":\"wave\"},\"prediction\":{\"windowSeconds\":60," \
               "\"leadSeconds\":30,\"maxLagSeconds\":60,\"weights\":{\"share\":2.5}}}}"
/* a wide tick delay: the twin gets each entry a moment after the victim's
 * Redis, and a second must not be closed before both have it */
#define FLAGS "--tick-delay 1s --claim-idle 500ms --claim-interval 200ms"

static const char *const fields[] = { "eps", "forecast_eps", "trend", "predicted_rps",
                                      "predicted_upper", "factor", "desired_replicas", "reason",
                                      "tick", "last_id" };

typedef struct writer {
    redisContext *a, *b;
    uint64_t last_ms, seq;
    uint32_t rnd;
    char last_id[64];
    long n;
} writer;

/* Appends a burst of entries to both Redis servers with the same ids. */
static void burst(writer *w, int count)
{
    static const char *const types[] = { "upvote", "comment", "maker_comment", "share", "hover" };
    for (int i = 0; i < count; i++) {
        uint64_t now = lo_wall_ms();
        if (now > w->last_ms) {
            w->last_ms = now;
            w->seq = 0;
        } else {
            w->seq++;
        }
        w->rnd = w->rnd * 1103515245u + 12345u;
        uint32_t r = w->rnd >> 8;
        long long ts = (long long)w->last_ms - (r % 5 == 0 ? (long long)(r % 4000) : 0);
        snprintf(w->last_id, sizeof w->last_id, "%llu-%llu", (unsigned long long)w->last_ms,
                 (unsigned long long)w->seq);
        const char *type = types[r % 5];
        redisAppendCommand(w->a, "XADD %s %s id e%ld type %s ts %lld source webhook data {}",
                           STREAM, w->last_id, w->n, type, ts);
        redisAppendCommand(w->b, "XADD %s %s id e%ld type %s ts %lld source webhook data {}",
                           STREAM, w->last_id, w->n, type, ts);
        w->n++;
    }
    for (int i = 0; i < count; i++) {
        redisReply *r = NULL;
        redisGetReply(w->a, (void **)&r);
        if (r)
            freeReplyObject(r);
        r = NULL;
        redisGetReply(w->b, (void **)&r);
        if (r)
            freeReplyObject(r);
    }
}

/* Fills for about ms milliseconds at a changing rate. */
static void fill(writer *w, unsigned ms)
{
    uint64_t end = lo_mono_ms() + ms;
    int k = 0;
    while (lo_mono_ms() < end) {
        burst(w, 1 + (k++ % 9));
        ph_sleep_ms(7);
    }
}

static bool same_published(redisContext *a, redisContext *b, const char *last, bool report)
{
    char *ta = ph_hget(a, KEY, "tick"), *tb = ph_hget(b, KEY, "tick");
    char *la = ph_hget(a, KEY, "last_id"), *lb = ph_hget(b, KEY, "last_id");
    bool ok = ta && tb && strcmp(ta, tb) == 0 && la && lb && strcmp(la, last) == 0 &&
              strcmp(lb, last) == 0;
    if (report)
        fprintf(stderr, "    tick %s / %s, last_id %s / %s (want %s)\n", ta ? ta : "-",
                tb ? tb : "-", la ? la : "-", lb ? lb : "-", last);
    free(ta);
    free(tb);
    free(la);
    free(lb);
    for (size_t i = 0; ok && i < sizeof fields / sizeof fields[0]; i++) {
        char *x = ph_hget(a, KEY, fields[i]), *y = ph_hget(b, KEY, fields[i]);
        if (!x || !y || strcmp(x, y) != 0) {
            if (report)
                fprintf(stderr, "    %s: restarted %s, twin %s\n", fields[i], x ? x : "-",
                        y ? y : "-");
            ok = false;
        }
        free(x);
        free(y);
    }
    return ok;
}

TEST(predictor_sigkill_mid_stream_matches_uninterrupted_twin)
{
    peer *ra = peer_redis_start(NULL), *rb = peer_redis_start(NULL);
    REQUIRE(ra && rb);
    writer w = { .a = ph_redis(peer_port(ra)), .b = ph_redis(peer_port(rb)), .rnd = 4242 };
    redisContext *ca = ph_redis(peer_port(ra)), *cb = ph_redis(peer_port(rb));
    REQUIRE(w.a && w.b && ca && cb);
    ph_policy_put(ca, "shop", "web", POLICY);
    ph_policy_put(cb, "shop", "web", POLICY);
    peer *victim = ph_predictor(peer_port(ra), FLAGS);
    peer *twin = ph_predictor(peer_port(rb), FLAGS);
    REQUIRE(victim && twin);
    REQUIRE(PH_WAIT(ph_http_get(peer_port(victim), "/readyz", NULL, 0) == 200 &&
                    ph_http_get(peer_port(twin), "/readyz", NULL, 0) == 200));

    fill(&w, 2500);
    /* the victim is consuming */
    REQUIRE(PH_WAIT(ph_metric(peer_port(victim),
                              "liftoff_predictor_events_consumed_total{launch=\"wave\"}") > 0));
    peer_kill9(victim);
    fill(&w, 1200);                      /* the stream goes on without it */
    REQUIRE(peer_restart(victim) == 0);  /* a new consumer name: the old one is dead */
    fill(&w, 2500);
    char last[64];
    snprintf(last, sizeof last, "%s", w.last_id);
    fprintf(stderr, "    %ld entries, last %s\n", w.n, last);

    /* both settle on the same second with every entry: identical numbers */
    bool same = PH_WAIT(same_published(ca, cb, last, false));
    if (!same)
        same_published(ca, cb, last, true);
    CHECK(same);
    int va = peer_port(victim);
    /* the restart overlapped what the dead consumer had: skipped, not doubled */
    CHECK(ph_metric(va, "liftoff_predictor_events_skipped_total{launch=\"wave\"}") > 0);
    CHECK(ph_metric(va, "liftoff_predictor_rebuild_entries_total") > 0);
    /* the dead consumer's entries were taken over and acknowledged */
    CHECK(PH_WAIT(({
        redisReply *x = ph_cmd(ca, "XPENDING %s liftoff-predictor", STREAM);
        bool none = x && x->type == REDIS_REPLY_ARRAY && x->element[0]->integer == 0;
        if (x)
            freeReplyObject(x);
        none;
    })));
    peer_stop(victim);
    peer_stop(twin);
    redisFree(w.a);
    redisFree(w.b);
    redisFree(ca);
    redisFree(cb);
    peer_stop(ra);
    peer_stop(rb);
}
