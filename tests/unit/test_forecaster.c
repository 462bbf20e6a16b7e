/* test_forecaster.c — the per-second forecasting core end to end: learning
 * gain and lag, scaling ahead of traffic, the bot-ring guard, the factor,
 * gaps between ticks, policy changes. */
#include "test.h"
#include "forecaster.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

/* Engagement events per second of a launch starting at t0 (deterministic:
 * the fractional part is carried so the counts sum up exactly). */
static uint32_t events_at(int t, int t0, double peak, double *carry)
{
    double rate = 0;
    if (t >= t0)
        rate = peak * (1 - exp(-(t - t0) / 120.0)) * exp(-(t - t0) / 3000.0);
    *carry += rate;
    uint32_t n = (uint32_t)*carry;
    *carry -= n;
    return n;
}

static void policy(fc_policy *p)
{
    fc_policy_default(p);
    p->base_rps = 40;
    p->rps_per_engagement = 200;
    p->pod_capacity_rps = 200;
}

TEST(forecaster_learns_gain_and_lag_and_scales_ahead)
{
    fc_policy p;
    policy(&p);
    fc_t f;
    REQUIRE(fc_init(&f, &p) == 0);
    /* traffic = 40 + 150 * (velocity 150 s earlier) */
    enum { T0 = 1000, LAG = 150, END = 3600 };
    static double vel[END];
    double carry = 0;
    uint32_t replicas = 2;
    fc_output out;
    int late = 0, ready_count = 0;
    uint32_t asked_at[END];
    for (int t = 0; t < END; t++) {
        uint32_t n = events_at(t, T0, 20, &carry);
        fc_observe_event(&f, (int64_t)t * 1000 + 500, "comment", n); /* weight 1 */
        double rps = 40 + (t >= LAG ? 150 * vel[t - LAG] : 0);
        /* replicas asked 60 s ago are ready now */
        uint32_t ready = t >= 60 ? asked_at[t - 60] : 2;
        if (rps > ready * 200.0)
            late++;
        ready_count++;
        fc_observe_rps(&f, (int64_t)t * 1000, rps);
        fc_tick(&f, t, replicas, &out);
        vel[t] = out.eps;
        replicas = out.decision.replicas;
        asked_at[t] = replicas;
    }
    CHECK(abs((int)out.lag_s - LAG) <= 10);
    CHECK(fabs(out.gain - 150) < 10);
    CHECK_INT(late, 0); /* capacity was always there first */
    CHECK(out.factor > 1);
    CHECK(fabs(out.factor - (out.predicted_rps > out.reactive_rps ? out.predicted_rps
                                                                  : out.reactive_rps) / 40) < 1e-9 ||
          out.factor == 1);
    fc_free(&f);
}

TEST(forecaster_bot_ring_cannot_keep_replicas_high)
{
    fc_policy p;
    policy(&p);
    fc_t f;
    REQUIRE(fc_init(&f, &p) == 0);
    fc_output out;
    uint32_t replicas = 2, peak = 0;
    int back_at = -1;
    double gain_in_ring = -1;
    for (int t = 0; t < 3600; t++) {
        if (t >= 600 && t < 2400)
            fc_observe_event(&f, (int64_t)t * 1000, "upvote", 10);
        fc_observe_rps(&f, (int64_t)t * 1000, 40 + (t % 5));
        fc_tick(&f, t, replicas, &out);
        replicas = out.decision.replicas;
        if (replicas > peak)
            peak = replicas;
        if (t > 600 && replicas == p.min_replicas && back_at < 0 && peak > p.min_replicas)
            back_at = t;
        if (t == 2399)
            gain_in_ring = out.gain;
    }
    CHECK(peak > p.min_replicas);            /* it did believe it at first */
    CHECK(back_at > 0 && back_at < 600 + 900); /* and let go well within the ring */
    CHECK(gain_in_ring >= 0 && gain_in_ring < 20);
    fc_free(&f);
}

TEST(forecaster_reactive_floor_catches_unannounced_traffic)
{
    fc_policy p;
    policy(&p);
    fc_t f;
    REQUIRE(fc_init(&f, &p) == 0);
    fc_output out;
    uint32_t replicas = 2;
    bool surged = false;
    for (int t = 0; t < 1200; t++) {
        double rps = t < 600 ? 40 : t < 840 ? 40 + (t - 600) * 10.0 : 2440;
        fc_observe_rps(&f, (int64_t)t * 1000, rps);
        fc_tick(&f, t, replicas, &out);
        replicas = out.decision.replicas;
        if (out.surge_rps > out.reactive_rps)
            surged = true;
    }
    CHECK(surged);
    CHECK(replicas >= 13); /* 2440 / 200 */
    CHECK(out.decision.reactive >= 12);
    fc_free(&f);
}

TEST(forecaster_counts_weights_and_handles_gaps)
{
    fc_policy p;
    policy(&p);
    fc_t f;
    REQUIRE(fc_init(&f, &p) == 0);
    fc_output out;
    fc_observe_event(&f, 10000, "upvote", 1);
    fc_observe_event(&f, 10000, "maker_comment", 2);
    fc_observe_event(&f, 10000, "cta_click", 1);
    fc_tick(&f, 10, 2, &out);
    CHECK(fabs(out.eps - (1.2 + 3.0 + 1.0) / 60) < 1e-9);
    CHECK(out.observed_rps < 0); /* none seen */
    /* an hour without ticks: the window is empty afterwards */
    fc_tick(&f, 3610, 2, &out);
    CHECK(out.eps == 0);
    CHECK_INT(out.decision.replicas, 2);
    /* an event older than the window is refused */
    CHECK_INT(fc_observe_event(&f, 1000, "upvote", 1), -ESTALE);
    /* a stale rate is not used */
    fc_observe_rps(&f, 3000 * 1000, 5000);
    fc_tick(&f, 3611, 2, &out);
    CHECK(out.observed_rps < 0);
    fc_free(&f);
}

TEST(forecaster_policy_changes)
{
    fc_policy p;
    policy(&p);
    fc_t f;
    REQUIRE(fc_init(&f, &p) == 0);
    fc_policy q = p;
    q.min_replicas = 5;
    q.model.gain_z = 2;
    CHECK_INT(fc_set_policy(&f, &q), 0);
    fc_output out;
    fc_tick(&f, 1, 2, &out);
    CHECK_INT(out.decision.replicas, 5);
    q.window_s = 30;
    CHECK_INT(fc_set_policy(&f, &q), -ENOSPC);
    q = p;
    q.min_replicas = 0;
    CHECK_INT(fc_set_policy(&f, &q), -EINVAL);
    fc_reset(&f);
    fc_free(&f);
    p.max_replicas = 0;
    CHECK_INT(fc_init(&f, &p), -EINVAL);
}
