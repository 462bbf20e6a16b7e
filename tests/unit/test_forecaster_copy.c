/* test_forecaster_copy.c — fc_copy: a shadow copy ticks exactly as the
 * original would, and copying leaves the original untouched. */
#include "test.h"
#include "forecaster.h"

#include <errno.h>
#include <string.h>

static void policy(fc_policy *p)
{
    fc_policy_default(p);
    p->base_rps = 40;
    p->rps_per_engagement = 20;
    p->pod_capacity_rps = 100;
    p->max_replicas = 500;
}

static bool same_out(const fc_output *a, const fc_output *b)
{
    return a->now_s == b->now_s && a->eps == b->eps && a->eps_trend == b->eps_trend &&
           a->eps_forecast == b->eps_forecast && a->eps_forecast_sd == b->eps_forecast_sd &&
           a->observed_rps == b->observed_rps && a->predicted_rps == b->predicted_rps &&
           a->predicted_upper == b->predicted_upper && a->reactive_rps == b->reactive_rps &&
           a->surge_rps == b->surge_rps && a->gain == b->gain && a->base == b->base &&
           a->lag_s == b->lag_s && a->factor == b->factor &&
           a->decision.replicas == b->decision.replicas && a->decision.raw == b->decision.raw &&
           a->decision.reason == b->decision.reason;
}

/* Feeds second t (events and the observed rate) of a rising launch. */
static void feed(fc_t *f, int64_t t, int64_t t0)
{
    uint32_t n = t < t0 ? 1 : (uint32_t)(1 + (t - t0) * 3);
    fc_observe_event(f, t * 1000 + 10, "upvote", n);
    fc_observe_event(f, t * 1000 + 700, "comment", n / 2);
    fc_observe_rps(f, t * 1000, 40 + (t > t0 + 20 ? (double)(t - t0 - 20) * 60 : 0));
}

TEST(forecaster_copy_shadow_ticks_like_the_original)
{
    fc_policy p;
    policy(&p);
    fc_t a, b, shadow;
    REQUIRE(fc_init(&a, &p) == 0);
    REQUIRE(fc_init(&b, &p) == 0);
    REQUIRE(fc_init(&shadow, &p) == 0);
    const int64_t t0 = 1000;
    uint32_t ra = 1, rb = 1;
    int compared = 0, above_min = 0;
    for (int64_t t = t0 - 120; t < t0 + 120; t++) {
        feed(&a, t, t0);
        feed(&b, t, t0);
        /* a shadow of a, ticked at t with the same data, as a's tick will be */
        REQUIRE(fc_copy(&shadow, &a) == 0);
        fc_output so, ao, bo;
        fc_tick(&shadow, t, ra, &so);
        fc_tick(&a, t, ra, &ao);
        fc_tick(&b, t, rb, &bo);
        ra = ao.decision.replicas;
        rb = bo.decision.replicas;
        CHECK(same_out(&so, &ao));
        /* the copies did not disturb a: it matches b, never copied from */
        CHECK(same_out(&ao, &bo));
        compared++;
        above_min += ao.decision.replicas > p.min_replicas;
    }
    CHECK_INT(compared, 240);
    CHECK(above_min > 0); /* the launch did move the decision */
    fc_free(&a);
    fc_free(&b);
    fc_free(&shadow);
}

TEST(forecaster_copy_shares_no_memory)
{
    fc_policy p;
    policy(&p);
    fc_t a, shadow;
    REQUIRE(fc_init(&a, &p) == 0);
    REQUIRE(fc_init(&shadow, &p) == 0);
    for (int64_t t = 100; t < 130; t++) {
        feed(&a, t, 110);
        fc_output o;
        fc_tick(&a, t, 1, &o);
    }
    REQUIRE(fc_copy(&shadow, &a) == 0);
    CHECK(shadow.vel.bucket != a.vel.bucket && shadow.dem.hist != a.dem.hist &&
          shadow.dem.pending_mem != a.dem.pending_mem && shadow.react.hist != a.react.hist &&
          shadow.dec.floor_w.q != a.dec.floor_w.q && shadow.curve != a.curve);
    CHECK(shadow.dem.lag[1].pending == shadow.dem.pending_mem + (p.lead_s + 1));
    CHECK(vel_sum_milli(&shadow.vel) == vel_sum_milli(&a.vel));
    /* a burst in the shadow stays in the shadow */
    int64_t before = vel_sum_milli(&a.vel);
    fc_observe_event(&shadow, 130 * 1000, "upvote", 500);
    fc_output o;
    fc_tick(&shadow, 130, 1, &o);
    CHECK(vel_sum_milli(&a.vel) == before);
    CHECK(vel_sum_milli(&shadow.vel) > before);
    CHECK_INT(a.last_tick_s, 129);
    fc_free(&a);
    fc_free(&shadow);
}

TEST(forecaster_copy_rejects_other_sizes)
{
    fc_policy p, q;
    policy(&p);
    policy(&q);
    q.window_s = p.window_s + 30;
    fc_t a, other;
    REQUIRE(fc_init(&a, &p) == 0);
    REQUIRE(fc_init(&other, &q) == 0);
    CHECK_INT(fc_copy(&other, &a), -EINVAL);
    CHECK_INT(fc_copy(&a, &a), 0);
    fc_free(&a);
    fc_free(&other);
}
