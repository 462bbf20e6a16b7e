/* test_predictor_track.c — the stream-time forecaster: ordering, skipping
 * what was applied, ticking, and identical results for a live tracker and
 * one that crashed and replayed the stream. */
#include "test.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "predictor/track.h"

#define T0 1700000000000ULL   /* a whole second, in ms */

typedef struct ev {
    pred_id id;
    const char *type;
    int64_t ts;
} ev;

static pred_entry entry(const ev *e)
{
    pred_entry pe = { .id = e->id, .type = e->type, .ts_ms = e->ts };
    return pe;
}

/* A stream of n entries over about seconds s, with irregular gaps,
 * several entries per millisecond sometimes, and late timestamps. */
static void make_stream(ev *out, size_t n, uint32_t seed)
{
    static const char *const types[] = { "upvote", "comment", "maker_comment", "share" };
    uint64_t ms = T0 + 123;
    uint64_t seq = 0;
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        uint32_t r = seed >> 8;
        if (r % 4 != 0) {
            ms += 1 + r % 97;                   /* a new millisecond */
            seq = 0;
        } else {
            seq++;                              /* same millisecond */
        }
        if (r % 53 == 0)
            ms += 2500;                         /* a quiet stretch */
        out[i].id = (pred_id){ ms, seq };
        out[i].type = types[r % 4];
        out[i].ts = (int64_t)ms - (int64_t)(r % 7 == 0 ? r % 3000 : 0); /* some late */
    }
}

static void policy(fc_policy *p, uint32_t window)
{
    fc_policy_default(p);
    p->window_s = window;
    p->lead_s = 30;
    p->max_lag_s = 60;
    p->scale_down_stabilization_s = 60;
    fc_policy_set_weight(p, "share", 2.5);
}

static bool same_output(const pred_track *a, const pred_track *b)
{
    if (a->have_out != b->have_out || a->ticks != b->ticks ||
        pred_id_cmp(a->applied, b->applied) != 0 || a->next_tick_s != b->next_tick_s)
        return false;
    const fc_output *x = &a->out, *y = &b->out;
    return x->now_s == y->now_s && x->eps == y->eps && x->eps_trend == y->eps_trend &&
           x->eps_forecast == y->eps_forecast && x->predicted_rps == y->predicted_rps &&
           x->predicted_upper == y->predicted_upper && x->factor == y->factor &&
           x->decision.replicas == y->decision.replicas &&
           pred_track_eps(a) == pred_track_eps(b);
}

TEST(predictor_track_weights_from_policy)
{
    fc_policy p;
    policy(&p, 10);
    pred_track t;
    REQUIRE(pred_track_init(&t, &p) == 0);
    const char *types[] = { "upvote", "comment", "maker_comment", "share", "hover" };
    for (int i = 0; i < 5; i++) {
        pred_entry e = { .id = { T0 + 100 + (uint64_t)i, 0 }, .type = types[i],
                         .ts_ms = (int64_t)T0 + 100 + i };
        CHECK_INT(pred_track_apply(&t, &e), 1);
    }
    /* (1.2 + 1.0 + 1.5 + 2.5 + 1.0) / 10 s */
    CHECK(fabs(pred_track_eps(&t) - 0.72) < 1e-12);
    CHECK_INT(t.ticks, 0); /* the first second is not complete yet */
    CHECK_INT(pred_track_advance(&t, T0 + 1000), 1);
    CHECK(t.have_out);
    CHECK_INT(t.out.now_s, (int64_t)(T0 / 1000));
    CHECK(fabs(t.out.eps - 0.72) < 1e-12);
    /* the window slides: 10 s later the events are gone */
    pred_track_advance(&t, T0 + 11000);
    CHECK_INT(t.ticks, 11);
    CHECK(pred_track_eps(&t) == 0);
    pred_track_free(&t);
}

TEST(predictor_track_skips_what_it_applied)
{
    fc_policy p;
    policy(&p, 60);
    pred_track t;
    REQUIRE(pred_track_init(&t, &p) == 0);
    pred_entry a = { .id = { T0 + 5, 0 }, .type = "comment", .ts_ms = (int64_t)T0 + 5 };
    pred_entry b = { .id = { T0 + 5, 1 }, .type = "comment", .ts_ms = (int64_t)T0 + 5 };
    CHECK_INT(pred_track_apply(&t, &a), 1);
    CHECK_INT(pred_track_apply(&t, &b), 1);
    CHECK_INT(pred_track_apply(&t, &a), 0);   /* redelivered */
    CHECK_INT(pred_track_apply(&t, &b), 0);
    pred_entry older = { .id = { T0 + 1, 0 }, .type = "comment", .ts_ms = (int64_t)T0 + 1 };
    CHECK_INT(pred_track_apply(&t, &older), 0); /* behind what was applied */
    CHECK_INT(t.applied_n, 2);
    CHECK_INT(t.skipped_n, 3);
    CHECK(fabs(pred_track_eps(&t) - 2.0 / 60) < 1e-12);
    /* an unusable entry keeps the order but counts nothing */
    pred_track_mark(&t, (pred_id){ T0 + 9, 0 });
    pred_entry c = { .id = { T0 + 8, 0 }, .type = "comment", .ts_ms = (int64_t)T0 + 8 };
    CHECK_INT(pred_track_apply(&t, &c), 0);
    CHECK(fabs(pred_track_eps(&t) - 2.0 / 60) < 1e-12);
    pred_track_free(&t);
}

TEST(predictor_track_late_and_stale_events)
{
    fc_policy p;
    policy(&p, 10);
    pred_track t;
    REQUIRE(pred_track_init(&t, &p) == 0);
    pred_entry a = { .id = { T0 + 20000, 0 }, .type = "comment", .ts_ms = (int64_t)T0 + 20000 };
    pred_entry late = { .id = { T0 + 20001, 0 }, .type = "comment",
                        .ts_ms = (int64_t)T0 + 15000 };
    pred_entry stale = { .id = { T0 + 20002, 0 }, .type = "comment",
                         .ts_ms = (int64_t)T0 + 5000 };
    CHECK_INT(pred_track_apply(&t, &a), 1);
    CHECK_INT(pred_track_apply(&t, &late), 1);
    CHECK_INT(pred_track_apply(&t, &stale), 1);
    CHECK_INT(t.stale_n, 1);
    CHECK(fabs(pred_track_eps(&t) - 0.2) < 1e-12);
    pred_track_advance(&t, T0 + 26000); /* the late one leaves the window first */
    CHECK(fabs(pred_track_eps(&t) - 0.1) < 1e-12);
    pred_track_free(&t);
}

TEST(predictor_track_ticks_every_second_once)
{
    fc_policy p;
    policy(&p, 60);
    pred_track t;
    REQUIRE(pred_track_init(&t, &p) == 0);
    CHECK_INT(pred_track_advance(&t, T0 + 5000), 0); /* no origin before the first entry */
    pred_entry a = { .id = { T0 + 5500, 0 }, .type = "upvote", .ts_ms = (int64_t)T0 + 5500 };
    pred_track_apply(&t, &a);
    CHECK_INT(pred_track_advance(&t, T0 + 5999), 0);
    CHECK_INT(pred_track_advance(&t, T0 + 6000), 1);
    CHECK_INT(pred_track_advance(&t, T0 + 6000), 0);
    CHECK_INT(pred_track_advance(&t, T0 + 5000), 0); /* never backwards */
    pred_entry b = { .id = { T0 + 9100, 0 }, .type = "upvote", .ts_ms = (int64_t)T0 + 9100 };
    pred_track_apply(&t, &b); /* completes seconds 6, 7, 8 first */
    CHECK_INT(t.ticks, 4);
    CHECK_INT(t.out.now_s, (int64_t)(T0 / 1000) + 8);
    pred_track_free(&t);
}

TEST(predictor_track_live_and_replayed_agree)
{
    enum { N = 6000 };
    static ev s[N];
    make_stream(s, N, 7);
    fc_policy p;
    policy(&p, 600);
    pred_track live, replay;
    REQUIRE(pred_track_init(&live, &p) == 0);
    REQUIRE(pred_track_init(&replay, &p) == 0);
    /* live: entries arrive in reads, with "caught up" clocks in between
     * (never past the next entry's stream time) */
    for (size_t i = 0; i < N; i++) {
        pred_entry e = entry(&s[i]);
        pred_track_apply(&live, &e);
        if (i % 37 == 0 && i + 1 < N)
            pred_track_advance(&live, s[i + 1].id.ms);
    }
    /* replay: the same entries in one go, the clock from the ids only */
    for (size_t i = 0; i < N; i++) {
        pred_entry e = entry(&s[i]);
        pred_track_apply(&replay, &e);
    }
    uint64_t end = s[N - 1].id.ms + 3000;
    pred_track_advance(&live, end);
    pred_track_advance(&replay, end);
    CHECK(live.ticks > 100);
    CHECK(same_output(&live, &replay));
    pred_track_free(&live);
    pred_track_free(&replay);
}

TEST(predictor_track_crash_and_rebuild_neither_loses_nor_doubles)
{
    enum { N = 5000 };
    static ev s[N];
    make_stream(s, N, 99);
    fc_policy p;
    policy(&p, 3600); /* the replay covers the whole stream */
    pred_track twin, victim, reborn;
    REQUIRE(pred_track_init(&twin, &p) == 0);
    REQUIRE(pred_track_init(&victim, &p) == 0);
    for (size_t i = 0; i < N; i++) {
        pred_entry e = entry(&s[i]);
        pred_track_apply(&twin, &e);
    }
    /* the victim gets 60 % and dies; the group had handed it 70 % */
    size_t applied = N * 6 / 10, delivered = N * 7 / 10, at_restart = N * 8 / 10;
    for (size_t i = 0; i < applied; i++) {
        pred_entry e = entry(&s[i]);
        pred_track_apply(&victim, &e);
    }
    pred_track_free(&victim);
    /* restart: the rebuild reads the stream as it is now (80 %) ... */
    REQUIRE(pred_track_init(&reborn, &p) == 0);
    for (size_t i = 0; i < at_restart; i++) {
        pred_entry e = entry(&s[i]);
        pred_track_apply(&reborn, &e);
    }
    /* ... then the pending entries of the dead consumer are claimed and the
     * group hands over what it never delivered: overlaps are skipped */
    for (size_t i = applied; i < delivered; i++) {
        pred_entry e = entry(&s[i]);
        CHECK_INT(pred_track_apply(&reborn, &e), 0);
    }
    for (size_t i = delivered; i < N; i++) {
        pred_entry e = entry(&s[i]);
        pred_track_apply(&reborn, &e);
    }
    CHECK_INT(reborn.applied_n, N);
    uint64_t end = s[N - 1].id.ms + 1500;
    pred_track_advance(&twin, end);
    pred_track_advance(&reborn, end);
    CHECK(same_output(&twin, &reborn));
    pred_track_free(&twin);
    pred_track_free(&reborn);
}

TEST(predictor_track_policy_changes)
{
    fc_policy p, q;
    policy(&p, 60);
    pred_track t;
    REQUIRE(pred_track_init(&t, &p) == 0);
    pred_entry a = { .id = { T0 + 5, 0 }, .type = "upvote", .ts_ms = (int64_t)T0 + 5 };
    pred_track_apply(&t, &a);
    q = p;
    q.headroom_percent = 30;
    CHECK_INT(pred_track_set_policy(&t, &q), 0);     /* learned state kept */
    CHECK_INT(t.applied_n, 1);
    CHECK(fabs(pred_track_eps(&t) - 1.2 / 60) < 1e-12);
    q.window_s = 30;
    CHECK_INT(pred_track_set_policy(&t, &q), 1);     /* must be replayed */
    CHECK(pred_track_eps(&t) == 0);
    CHECK(t.applied.ms == 0 && !t.ticking);
    fc_policy w = q;
    fc_policy_set_weight(&w, "upvote", 3);
    CHECK_INT(pred_track_set_policy(&t, &w), 1);     /* weights: replayed too */
    fc_policy bad = w;
    bad.min_replicas = 50;
    bad.max_replicas = 10;
    CHECK_INT(pred_track_set_policy(&t, &bad), -EINVAL);
    CHECK_INT(t.fc.pol.min_replicas, w.min_replicas);
    pred_track_free(&t);
}

TEST(predictor_track_origin_ticks_without_engagement)
{
    fc_policy p;
    policy(&p, 60);
    p.base_rps = 100;
    p.pod_capacity_rps = 100;
    pred_track t;
    REQUIRE(pred_track_init(&t, &p) == 0);
    pred_track_origin(&t, T0 + 250);
    CHECK_INT(pred_track_advance(&t, T0 + 3000), 3);
    CHECK_INT(t.out.now_s, (int64_t)(T0 / 1000) + 2);
    CHECK_INT(t.out.observed_rps, -1);
    /* traffic no engagement announced: the reactive floor asks for pods */
    for (int s = 3; s < 40; s++) {
        pred_track_observe_rps(&t, (int64_t)T0 + s * 1000, 2000);
        pred_track_advance(&t, T0 + (uint64_t)(s + 1) * 1000);
    }
    CHECK(t.out.observed_rps == 2000);
    CHECK(t.out.decision.replicas >= 20);
    pred_track_origin(&t, T0 + 99000); /* no-op once ticking */
    CHECK_INT(t.next_tick_s, (int64_t)(T0 / 1000) + 40);
    pred_track_free(&t);
}
