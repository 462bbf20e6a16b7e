/* test_ctl_decision.c — forecast parsing (channel JSON and hash fields)
 * and the controller's decision: clamps, the fail-safe on a lost signal
 * and the fallback's scale-down stabilisation. */
#include "test.h"

#include <errno.h>
#include <string.h>

#include "controller/decision.h"
#include "forecast_policy.h"

#define NOW 1700000000000ULL
#define STALE 10000u
#define HOLD 60000u

static ctl_policy pol(uint32_t min, uint32_t max)
{
    ctl_policy p;
    memset(&p, 0, sizeof p);
    p.min_replicas = min;
    p.max_replicas = max;
    p.scale_down_stabilization_s = 300;   /* the spec's defaults */
    p.scale_down_max_step_percent = 50;
    p.scale_down_period_s = 60;
    return p;
}

static ctl_forecast fresh(uint32_t desired, uint64_t at)
{
    ctl_forecast f;
    memset(&f, 0, sizeof f);
    f.have = true;
    f.desired_replicas = desired;
    f.updated_at_ms = at;
    strcpy(f.reason, "predicted");
    return f;
}

TEST(ctl_forecast_parse_channel_message)
{
    const char *m = "{\"namespace\":\"shop\",\"name\":\"web\",\"eps\":12.5,\"forecast_eps\":14.1,"
                    "\"predicted_rps\":2870,\"factor\":57.4,\"desired_replicas\":19,"
                    "\"reason\":\"predicted\",\"updated_at\":1740816124101}";
    char ns[CTL_NAME_MAX], name[CTL_NAME_MAX];
    ctl_forecast f;
    REQUIRE(ctl_forecast_parse_json(m, strlen(m), ns, name, &f) == 0);
    CHECK_STR(ns, "shop");
    CHECK_STR(name, "web");
    CHECK(f.have);
    CHECK_INT(f.desired_replicas, 19);
    CHECK_INT(f.updated_at_ms, 1740816124101ULL);
    CHECK(f.eps == 12.5);
    CHECK(f.predicted_rps == 2870);
    CHECK(f.factor == 57.4);
    CHECK_STR(f.reason, "predicted");
}

TEST(ctl_forecast_parse_rejects_bad_messages)
{
    static const char *bad[] = {
        "not json",
        "[]",
        "{\"name\":\"web\",\"desired_replicas\":1,\"updated_at\":1}",
        "{\"namespace\":\"a\",\"name\":\"web\",\"updated_at\":1}",
        "{\"namespace\":\"a\",\"name\":\"web\",\"desired_replicas\":1}",
        "{\"namespace\":\"a\",\"name\":\"web\",\"desired_replicas\":-1,\"updated_at\":1}",
        "{\"namespace\":\"a\",\"name\":\"web\",\"desired_replicas\":20000,\"updated_at\":1}",
        "{\"namespace\":\"a\",\"name\":\"web\",\"desired_replicas\":\"3\",\"updated_at\":1}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char ns[CTL_NAME_MAX], name[CTL_NAME_MAX];
        ctl_forecast f;
        CHECK_INT(ctl_forecast_parse_json(bad[i], strlen(bad[i]), ns, name, &f), -EINVAL);
        CHECK(!f.have);
    }
}

TEST(ctl_forecast_from_hash_fields)
{
    const char *k[] = { "eps", "desired_replicas", "updated_at", "factor", "reason",
                        "predicted_rps", "last_id" };
    const char *v[] = { "3.5", "7", "1700000000000", "18", "max", "900", "0-0" };
    ctl_forecast f;
    REQUIRE(ctl_forecast_from_fields(k, v, 7, &f) == 0);
    CHECK(f.have);
    CHECK_INT(f.desired_replicas, 7);
    CHECK_INT(f.updated_at_ms, NOW);
    CHECK(f.eps == 3.5);
    CHECK(f.factor == 18);
    CHECK(f.predicted_rps == 900);
    CHECK_STR(f.reason, "max");
    /* an empty hash (HGETALL of a missing key) is a missing forecast */
    REQUIRE(ctl_forecast_from_fields(k, v, 0, &f) == 0);
    CHECK(!f.have);
    /* unusable numbers */
    const char *v2[] = { "3.5", "seven", "1700000000000", "18", "max", "900", "0-0" };
    CHECK_INT(ctl_forecast_from_fields(k, v2, 7, &f), -EINVAL);
    CHECK(!f.have);
    CHECK_INT(ctl_forecast_from_fields(k, v, 2, &f), -EINVAL);  /* no updated_at */
}

TEST(ctl_decide_clamps_a_fresh_forecast)
{
    ctl_policy p = pol(2, 8);
    ctl_memory m = { 0 };
    ctl_decision d;
    ctl_forecast f = fresh(5, NOW - 1000);
    ctl_decide(&p, &f, 3, -1, NOW, STALE, HOLD, &m, &d);
    CHECK_INT(d.replicas, 5);
    CHECK_INT(d.signal, CTL_SIGNAL_OK);
    CHECK_STR(d.why, "predicted");
    f = fresh(50, NOW);
    ctl_decide(&p, &f, 3, -1, NOW, STALE, HOLD, &m, &d);
    CHECK_INT(d.replicas, 8);
    f = fresh(0, NOW);
    ctl_decide(&p, &f, 3, -1, NOW, STALE, HOLD, &m, &d);
    CHECK_INT(d.replicas, 2);
    /* a forecast from a clock slightly ahead is fresh */
    f = fresh(4, NOW + 500);
    ctl_decide(&p, &f, 3, -1, NOW, STALE, HOLD, &m, &d);
    CHECK_INT(d.replicas, 4);
    CHECK_INT(m.lost_since_ms, 0);
}

TEST(ctl_decide_stale_holds_then_falls_back_without_scaling_down)
{
    ctl_policy p = pol(2, 8);
    ctl_memory m = { 0 };
    ctl_decision d;
    ctl_forecast f = fresh(1, NOW - STALE - 1);   /* stale, asks for fewer */
    ctl_decide(&p, &f, 6, -1, NOW, STALE, HOLD, &m, &d);
    CHECK_INT(d.signal, CTL_SIGNAL_STALE);
    CHECK(d.holding);
    CHECK_INT(d.replicas, 6);
    CHECK_INT(m.lost_since_ms, NOW);
    CHECK_STR(d.why, "hold");
    ctl_decide(&p, &f, 6, -1, NOW + HOLD - 1, STALE, HOLD, &m, &d);
    CHECK(d.holding);
    CHECK_INT(m.lost_since_ms, NOW);
    ctl_decide(&p, &f, 6, -1, NOW + HOLD, STALE, HOLD, &m, &d);
    CHECK(!d.holding);
    CHECK_INT(d.replicas, 6);
    CHECK_STR(d.why, "fallback");
    /* below minReplicas (someone scaled it down): raised to it */
    ctl_decide(&p, &f, 1, -1, NOW + HOLD, STALE, HOLD, &m, &d);
    CHECK_INT(d.replicas, 2);
    /* above maxReplicas: never more than max */
    ctl_decide(&p, &f, 20, -1, NOW + HOLD, STALE, HOLD, &m, &d);
    CHECK_INT(d.replicas, 8);
    /* the signal comes back: the memory is cleared */
    f = fresh(3, NOW + HOLD);
    ctl_decide(&p, &f, 6, -1, NOW + HOLD, STALE, HOLD, &m, &d);
    CHECK_INT(d.signal, CTL_SIGNAL_OK);
    CHECK_INT(d.replicas, 3);
    CHECK_INT(m.lost_since_ms, 0);
    CHECK(m.fallback == NULL);
}

TEST(ctl_decide_missing_forecast)
{
    ctl_policy p = pol(3, 8);
    ctl_memory m = { 0 };
    ctl_decision d;
    ctl_forecast f;
    memset(&f, 0, sizeof f);
    ctl_decide(&p, &f, 5, -1, NOW, STALE, HOLD, &m, &d);
    CHECK_INT(d.signal, CTL_SIGNAL_MISSING);
    CHECK_INT(d.replicas, 5);
    CHECK(d.holding);
    CHECK_STR(ctl_signal_name(d.signal), "missing");
    CHECK_STR(ctl_signal_name(CTL_SIGNAL_STALE), "stale");
    /* zero hold: straight to the fallback */
    ctl_memory_free(&m);
    ctl_decide(&p, &f, 0, -1, NOW, STALE, 0, &m, &d);
    CHECK(!d.holding);
    CHECK_INT(d.replicas, 3);
    ctl_memory_free(&m);
}

/* A policy whose fallback follows the observed rate: 100 rps a pod, 20 %
 * headroom (450 rps -> 6 pods, 1600 -> 20, 2400 -> 29). */
static ctl_policy rpol(uint32_t stab_s, uint32_t step_pct, uint32_t period_s)
{
    ctl_policy p = pol(2, 30);
    p.pod_capacity_rps = 100;
    p.headroom_percent = 20;
    p.scale_down_stabilization_s = stab_s;
    p.scale_down_max_step_percent = step_pct;
    p.scale_down_period_s = period_s;
    return p;
}

/* s seconds into the fallback (the hold began at NOW) */
#define FB(s) (NOW + HOLD + (uint64_t)(s) * 1000u)

TEST(ctl_decide_after_the_hold_follows_the_reactive_floor)
{
    /* no window, whole steps, no period: the bare reactive floor */
    ctl_policy p = rpol(0, 100, 0);
    ctl_memory m = { 0 };
    ctl_decision d;
    ctl_forecast f = fresh(25, NOW - STALE - 1);   /* stale */
    /* during the hold the observed rate changes nothing */
    ctl_decide(&p, &f, 20, 450, NOW, STALE, HOLD, &m, &d);
    CHECK(d.holding);
    CHECK_INT(d.replicas, 20);
    CHECK(!d.reactive);
    CHECK(m.fallback == NULL);   /* no windows during the hold */
    /* after it: ceil(450 * 1.2 / 100) = 6, down from 20 */
    ctl_decide(&p, &f, 20, 450, NOW + HOLD, STALE, HOLD, &m, &d);
    CHECK(!d.holding);
    CHECK(d.reactive);
    CHECK(!d.stabilized);
    CHECK_INT(d.replicas, 6);
    CHECK_STR(d.why, "fallback-reactive");
    /* up as well, to maxReplicas at most */
    ctl_decide(&p, &f, 3, 2400, NOW + HOLD, STALE, HOLD, &m, &d);
    CHECK_INT(d.replicas, 29);
    ctl_decide(&p, &f, 3, 99999, NOW + HOLD, STALE, HOLD, &m, &d);
    CHECK_INT(d.replicas, 30);
    /* no traffic: minReplicas */
    ctl_decide(&p, &f, 20, 0, NOW + HOLD, STALE, HOLD, &m, &d);
    CHECK_INT(d.replicas, 2);
    /* no fresh observation (Redis down, no sidecar): the current count */
    ctl_decide(&p, &f, 20, -1, NOW + HOLD, STALE, HOLD, &m, &d);
    CHECK_INT(d.replicas, 20);
    CHECK(!d.reactive);
    CHECK_STR(d.why, "fallback");
    /* a fresh forecast wins over the observed rate */
    f = fresh(12, NOW + HOLD);
    ctl_decide(&p, &f, 20, 450, NOW + HOLD, STALE, HOLD, &m, &d);
    CHECK_INT(d.replicas, 12);
    ctl_memory_free(&m);
}

TEST(ctl_decide_fallback_holds_a_dip_for_the_window)
{
    ctl_policy p = rpol(300, 50, 60);   /* the defaults */
    ctl_memory m = { 0 };
    ctl_decision d;
    ctl_forecast f = fresh(25, NOW - STALE - 1);   /* stale */
    ctl_decide(&p, &f, 20, 1600, NOW, STALE, HOLD, &m, &d);
    CHECK(d.holding);
    ctl_decide(&p, &f, 20, 1600, FB(0), STALE, HOLD, &m, &d);
    CHECK_INT(d.replicas, 20);
    CHECK_STR(d.why, "fallback-reactive");
    REQUIRE(m.fallback != NULL);   /* the windows exist in the fallback */
    /* a dip to 450 rps (6 pods) is held for the whole window... */
    for (unsigned s = 1; s < 300; s += 7) {
        ctl_decide(&p, &f, 20, 450, FB(s), STALE, HOLD, &m, &d);
        CHECK_INT(d.replicas, 20);
    }
    CHECK(d.reactive);
    CHECK(d.stabilized);
    CHECK_STR(d.why, "fallback-stabilized");
    /* ...and so is a dip at its very end */
    ctl_decide(&p, &f, 20, 450, FB(299), STALE, HOLD, &m, &d);
    CHECK_INT(d.replicas, 20);
    /* the 20 leaves the window: one step of 50 % */
    ctl_decide(&p, &f, 20, 450, FB(300), STALE, HOLD, &m, &d);
    CHECK_INT(d.replicas, 10);
    CHECK_STR(d.why, "fallback-stabilized");
    /* scale-up is immediate, within the step's period too */
    ctl_decide(&p, &f, 10, 2400, FB(301), STALE, HOLD, &m, &d);
    CHECK_INT(d.replicas, 29);
    CHECK_STR(d.why, "fallback-reactive");
    CHECK(!d.stabilized);
    ctl_memory_free(&m);
    CHECK(m.fallback == NULL);
}

TEST(ctl_decide_fallback_starts_from_the_replicas_it_found)
{
    /* the fallback begins with the traffic already low: what ran when the
     * signal was lost is not given up before the window */
    ctl_policy p = rpol(300, 50, 60);
    ctl_memory m = { 0 };
    ctl_decision d;
    ctl_forecast f = { 0 };   /* missing */
    ctl_decide(&p, &f, 20, 450, NOW, STALE, HOLD, &m, &d);
    CHECK(d.holding);
    ctl_decide(&p, &f, 20, 450, FB(0), STALE, HOLD, &m, &d);
    CHECK_INT(d.replicas, 20);
    CHECK_STR(d.why, "fallback-stabilized");
    ctl_decide(&p, &f, 20, 450, FB(299), STALE, HOLD, &m, &d);
    CHECK_INT(d.replicas, 20);
    ctl_decide(&p, &f, 20, 450, FB(300), STALE, HOLD, &m, &d);
    CHECK_INT(d.replicas, 10);
    ctl_memory_free(&m);
}

TEST(ctl_decide_fallback_steps_down_at_most_max_step_per_period)
{
    ctl_policy p = rpol(10, 25, 30);
    ctl_memory m = { 0 };
    ctl_decision d;
    ctl_forecast f = fresh(25, NOW - STALE - 1);
    /* the traffic stops (0 rps: minReplicas 2) when the fallback begins
     * with 20; after the 10 s window, 25 % per 30 s, at least one pod */
    static const uint32_t want[] = { 15, 12, 9, 7, 6, 5, 4, 3, 2 };
    uint32_t cur = 20, steps = 0;
    uint64_t last_change_s = 0;
    ctl_decide(&p, &f, cur, 0, NOW, STALE, HOLD, &m, &d);
    for (unsigned s = 0; s <= 600; s += 5) {
        ctl_decide(&p, &f, cur, 0, FB(s), STALE, HOLD, &m, &d);
        if (d.replicas == cur)
            continue;
        REQUIRE(steps < sizeof want / sizeof want[0]);
        CHECK_INT(d.replicas, want[steps]);
        if (steps == 0)
            CHECK_INT(s, 10);   /* not before the window */
        else
            CHECK_INT(s - last_change_s, 30);   /* once per period */
        CHECK_STR(d.why, d.replicas > 2 ? "fallback-stabilized" : "fallback-reactive");
        last_change_s = s;
        cur = d.replicas;
        steps++;
    }
    CHECK_INT(steps, sizeof want / sizeof want[0]);
    CHECK_INT(cur, 2);
    ctl_memory_free(&m);
}

TEST(ctl_decide_fallback_steps_down_by_max_step_pods)
{
    ctl_policy p = rpol(0, 50, 30);
    p.scale_down_max_step_pods = 4;   /* replaces the 50 % */
    ctl_memory m = { 0 };
    ctl_decision d;
    ctl_forecast f = fresh(25, NOW - STALE - 1);
    static const uint32_t want[] = { 16, 12, 8, 4, 2 };
    uint32_t cur = 20, steps = 0;
    ctl_decide(&p, &f, cur, 0, NOW, STALE, HOLD, &m, &d);
    for (unsigned s = 0; s <= 300; s += 5) {
        ctl_decide(&p, &f, cur, 0, FB(s), STALE, HOLD, &m, &d);
        if (d.replicas == cur)
            continue;
        REQUIRE(steps < sizeof want / sizeof want[0]);
        CHECK_INT(d.replicas, want[steps]);
        CHECK_INT(s, steps * 30);   /* once per period */
        cur = d.replicas;
        steps++;
    }
    CHECK_INT(steps, sizeof want / sizeof want[0]);
    ctl_memory_free(&m);
}

TEST(ctl_decide_fresh_forecast_resets_the_fallback)
{
    ctl_policy p = rpol(0, 50, 600);   /* one step per 10 minutes */
    ctl_memory m = { 0 };
    ctl_decision d;
    ctl_forecast f = fresh(25, NOW - STALE - 1);
    ctl_decide(&p, &f, 20, 0, NOW, STALE, HOLD, &m, &d);
    ctl_decide(&p, &f, 20, 0, FB(0), STALE, HOLD, &m, &d);
    CHECK_INT(d.replicas, 10);   /* a step */
    ctl_decide(&p, &f, 10, 0, FB(1), STALE, HOLD, &m, &d);
    CHECK_INT(d.replicas, 10);   /* the period */
    CHECK_STR(d.why, "fallback-stabilized");
    /* the forecast returns: applied as published, the memory freed */
    f = fresh(4, FB(2));
    ctl_decide(&p, &f, 10, 0, FB(2), STALE, HOLD, &m, &d);
    CHECK_INT(d.replicas, 4);
    CHECK_STR(d.why, "predicted");
    CHECK(m.fallback == NULL);
    CHECK_INT(m.lost_since_ms, 0);
    /* lost again: a new fallback, with no step counted yet */
    uint64_t t = FB(2) + STALE + 1;
    ctl_decide(&p, &f, 10, 0, t, STALE, HOLD, &m, &d);
    CHECK(d.holding);
    ctl_decide(&p, &f, 10, 0, t + HOLD, STALE, HOLD, &m, &d);
    CHECK_INT(d.replicas, 5);
    ctl_memory_free(&m);
}

TEST(ctl_decide_fallback_window_follows_a_spec_change)
{
    ctl_policy p = rpol(10, 50, 60);
    ctl_memory m = { 0 };
    ctl_decision d;
    ctl_forecast f = fresh(25, NOW - STALE - 1);
    ctl_decide(&p, &f, 20, 1600, NOW, STALE, HOLD, &m, &d);
    ctl_decide(&p, &f, 20, 1600, FB(0), STALE, HOLD, &m, &d);
    CHECK_INT(d.replicas, 20);
    /* the window grows to 600 s in the fallback: the 20 stays in it */
    p.scale_down_stabilization_s = 600;
    ctl_decide(&p, &f, 20, 450, FB(5), STALE, HOLD, &m, &d);
    CHECK_INT(d.replicas, 20);
    ctl_decide(&p, &f, 20, 450, FB(100), STALE, HOLD, &m, &d);
    CHECK_INT(d.replicas, 20);
    CHECK_STR(d.why, "fallback-stabilized");
    /* and shrinks back to 10 s: the dip is let through, one step */
    p.scale_down_stabilization_s = 10;
    ctl_decide(&p, &f, 20, 450, FB(101), STALE, HOLD, &m, &d);
    CHECK_INT(d.replicas, 10);
    ctl_memory_free(&m);
}

TEST(ctl_reactive_replicas_rounds_up)
{
    ctl_policy p = pol(1, 10);
    p.pod_capacity_rps = 200;
    CHECK_INT(ctl_reactive_replicas(&p, 0), 0);
    CHECK_INT(ctl_reactive_replicas(&p, -5), 0);
    CHECK_INT(ctl_reactive_replicas(&p, 200), 1);
    CHECK_INT(ctl_reactive_replicas(&p, 201), 2);
    CHECK_INT(ctl_reactive_replicas(&p, 1e12), FC_MAX_REPLICAS);
}

TEST(ctl_observed_rps_sums_fresh_reporters)
{
    const char *k[] = { "rps@a", "updated_at@a", "rps@b", "updated_at@b", "rps@old",
                        "updated_at@old", "p99_ms@a", "updated_at@norps" };
    const char *v[] = { "100.5", "1700000000000", "50", "1699999995000", "999",
                        "1699999980000", "40", "1700000000000" };
    CHECK(ctl_observed_rps(k, v, 8, NOW) == 150.5);   /* old is 20 s old */
    CHECK(ctl_observed_rps(k, v, 8, NOW + 30000) == -1);
    const char *k1[] = { "rps", "updated_at" };
    const char *v1[] = { "7", "1700000001000" };
    CHECK(ctl_observed_rps(k1, v1, 2, NOW) == 7);
    const char *v2[] = { "x", "1700000001000" };
    CHECK(ctl_observed_rps(k1, v2, 2, NOW) == -1);
    CHECK(ctl_observed_rps(k1, v1, 0, NOW) == -1);
}
