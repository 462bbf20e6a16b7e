/* test_demand.c — calibration of rps = base + gain * velocity(t - lag):
 * converging to a known gain and lag, the bot-ring guard, the priors. */
#include "test.h"
#include "demand.h"

#include <math.h>

#define H 30

static double velocity_at(int t)
{
    return 5 + 4 * sin(2 * M_PI * t / 300.0) + 3 * sin(2 * M_PI * t / 97.0) +
           (t % 600 < 300 ? 2 : 0);
}

/* Steps the model through second t with velocity v and rate y (y < 0: none). */
static void step(demand_t *d, double v, double y, demand_pred *out)
{
    double vmean[H + 1], vsd[H + 1];
    for (int i = 0; i <= H; i++) {
        vmean[i] = v;
        vsd[i] = 0;
    }
    demand_push_velocity(d, v);
    if (y >= 0)
        demand_observe_rps(d, y);
    demand_predict(d, vmean, vsd, 0, out);
}

TEST(demand_converges_to_known_gain_and_lag)
{
    demand_params p;
    demand_params_default(&p, 50, 200, H);
    demand_t d;
    REQUIRE(demand_init(&d, &p) == 0);
    demand_pred out = { 0 };
    for (int t = 0; t < 3000; t++) {
        double y = t >= 70 ? 30 + 150 * velocity_at(t - 70) + 5 * sin(t * 1.7) : 30;
        step(&d, velocity_at(t), y, &out);
    }
    CHECK_INT(out.lag_s, 70);
    CHECK(fabs(out.gain - 150) < 3);
    CHECK(fabs(out.base - 30) < 15);
    /* the prediction 30 s ahead reads the velocity 40 s ago */
    double want = 30 + 150 * velocity_at(3000 - 1 + H - 70);
    CHECK(fabs(out.mean - want) < 0.03 * want);
    CHECK(out.upper >= out.mean);
    CHECK(out.share > 0.9);
    demand_free(&d);
}

TEST(demand_finds_a_lag_between_candidates_nearby)
{
    demand_params p;
    demand_params_default(&p, 50, 200, H);
    demand_t d;
    REQUIRE(demand_init(&d, &p) == 0);
    demand_pred out = { 0 };
    /* a slower velocity, as a 60 s window makes it: a lag between two
     * candidates then costs little */
    for (int t = 0; t < 3000; t++) {
        double v = 5 + 4 * sin(2 * M_PI * t / 900.0) + 2 * sin(2 * M_PI * t / 400.0);
        double v0 = 5 + 4 * sin(2 * M_PI * (t - 124) / 900.0) + 2 * sin(2 * M_PI * (t - 124) / 400.0);
        step(&d, v, t >= 124 ? 20 + 90 * v0 : 20, &out);
    }
    CHECK(out.lag_s == 120 || out.lag_s == 130);
    CHECK(fabs(out.gain - 90) < 9);
    demand_free(&d);
}

TEST(demand_discounts_engagement_no_traffic_follows)
{
    demand_params p;
    demand_params_default(&p, 40, 200, H);
    demand_t d;
    REQUIRE(demand_init(&d, &p) == 0);
    demand_pred out = { 0 };
    for (int t = 0; t < 600; t++)
        step(&d, 0, 40 + (t % 3) - 1, &out);
    CHECK(out.upper < 60);
    /* an upvote ring: 10 weighted events/s, no traffic behind them */
    double peak = 0;
    int t;
    for (t = 600; t < 600 + 60; t++) {
        step(&d, 10, 40 + (t % 3) - 1, &out);
        if (out.upper > peak)
            peak = out.upper;
    }
    CHECK(peak > 1000); /* before any lag could show traffic, it is believed */
    for (; t < 600 + (int)p.max_lag_s + H + 120; t++)
        step(&d, 10, 40 + (t % 3) - 1, &out);
    CHECK(out.upper < 80); /* every lag has seen it: discounted */
    CHECK(out.gain < 5);
    demand_free(&d);
}

TEST(demand_keeps_the_prior_without_engagement)
{
    demand_params p;
    demand_params_default(&p, 50, 200, H);
    demand_t d;
    REQUIRE(demand_init(&d, &p) == 0);
    demand_pred out = { 0 };
    /* faint background engagement (one upvote a minute or so) and a base
     * rate that differs from the prior: the base is learnt, the gain kept */
    for (int t = 0; t < 3000; t++) {
        double v = (t / 47) % 3 == 0 ? 0.02 : 0.0;
        step(&d, v, 35 + 6 * sin(t * 0.9), &out);
    }
    CHECK(fabs(out.gain - 200) < 2);
    CHECK(fabs(out.base - 35) < 6);
    demand_free(&d);
}

TEST(demand_velocity_history_and_reset)
{
    demand_params p;
    demand_params_default(&p, 50, 200, H);
    p.max_lag_s = 20;
    demand_t d;
    REQUIRE(demand_init(&d, &p) == 0);
    CHECK_INT(d.nlags, 3);
    for (int t = 1; t <= 30; t++)
        demand_push_velocity(&d, t);
    CHECK(demand_velocity_ago(&d, 0) == 30);
    CHECK(demand_velocity_ago(&d, 20) == 10);
    CHECK(demand_velocity_ago(&d, 21) == 0); /* beyond the history */
    demand_reset(&d);
    CHECK_INT(d.n, 0);
    CHECK(demand_velocity_ago(&d, 0) == 0);
    demand_free(&d);
    p.lag_step_s = 0;
    CHECK(demand_init(&d, &p) < 0);
    demand_params_default(&p, 50, 200, H);
    p.max_lag_s = 1800;
    p.lag_step_s = 1;
    CHECK(demand_init(&d, &p) < 0);
}
