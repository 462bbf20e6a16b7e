/* test_decide.c — the replica decision: clamps, immediate scale-up,
 * stabilised and step-limited scale-down, schedule and reactive floors. */
#include "test.h"
#include "decide.h"

static void policy(fc_policy *p)
{
    fc_policy_default(p);
    p->pod_capacity_rps = 100;
    p->headroom_percent = 0;
    p->min_replicas = 2;
    p->max_replicas = 20;
    p->scale_down_stabilization_s = 300;
    p->scale_down_forecast_stabilization_s = 60;
    p->scale_down_max_step_percent = 50;
    p->scale_down_period_s = 60;
}

static uint32_t run(decide_t *d, const fc_policy *p, int64_t now, double pred, double react,
                    uint32_t cur, decide_output *out)
{
    decide_input in = { now, pred, react, cur };
    decide_step(d, p, &in, out);
    return out->replicas;
}

TEST(decide_replicas_for_rounds_up_with_headroom)
{
    fc_policy p;
    policy(&p);
    CHECK_INT(decide_replicas_for(&p, 250), 3);
    CHECK_INT(decide_replicas_for(&p, 200), 2);
    CHECK_INT(decide_replicas_for(&p, 0), 0);
    CHECK_INT(decide_replicas_for(&p, -5), 0);
    p.headroom_percent = 10;
    CHECK_INT(decide_replicas_for(&p, 200), 3);
    CHECK_INT(decide_replicas_for(&p, 1e12), FC_MAX_REPLICAS);
}

TEST(decide_clamps_to_min_and_max)
{
    fc_policy p;
    policy(&p);
    decide_t d;
    REQUIRE(decide_init(&d, 300, 60) == 0);
    decide_output o;
    CHECK_INT(run(&d, &p, 0, -1, -1, 2, &o), 2);
    CHECK_INT(o.reason, DECIDE_MIN);
    CHECK_INT(run(&d, &p, 1, 5000, -1, 2, &o), 20);
    CHECK_INT(o.reason, DECIDE_MAX);
    CHECK_INT(o.predicted, 50);
    /* a Deployment above max comes down at once */
    decide_reset(&d);
    CHECK_INT(run(&d, &p, 2, -1, -1, 40, &o), 20);
    /* one below min comes up */
    CHECK_INT(run(&d, &p, 3, -1, -1, 1, &o), 2);
    decide_free(&d);
}

TEST(decide_scales_up_at_once_and_forecast_scale_down_waits)
{
    fc_policy p;
    policy(&p);
    decide_t d;
    REQUIRE(decide_init(&d, 300, 60) == 0);
    decide_output o;
    uint32_t cur = run(&d, &p, 1000, 800, 50, 2, &o);
    CHECK_INT(cur, 8);
    CHECK_INT(o.reason, DECIDE_PREDICTED);
    /* the forecast drops: held for the 60 s forecast window (1000 leaves at 1060) */
    for (int64_t t = 1001; t < 1060; t++) {
        cur = run(&d, &p, t, 0, 50, cur, &o);
        if (cur != 8)
            break;
    }
    CHECK_INT(cur, 8);
    CHECK_INT(o.reason, DECIDE_STABILIZED);
    /* then down by at most half, once per 60 s period */
    cur = run(&d, &p, 1060, 0, 50, cur, &o);
    CHECK_INT(cur, 4);
    CHECK_INT(o.reason, DECIDE_STEP_LIMITED);
    cur = run(&d, &p, 1119, 0, 50, cur, &o);
    CHECK_INT(cur, 4);
    CHECK_INT(o.reason, DECIDE_STEP_LIMITED);
    cur = run(&d, &p, 1120, 0, 50, cur, &o);
    CHECK_INT(cur, 2);
    decide_free(&d);
}

TEST(decide_reactive_floor_holds_for_the_stabilization_window)
{
    fc_policy p;
    policy(&p);
    p.scale_down_max_step_percent = 100;
    decide_t d;
    REQUIRE(decide_init(&d, 300, 60) == 0);
    decide_output o;
    /* traffic no forecast announced: the observed rate sets the floor */
    uint32_t cur = run(&d, &p, 0, 100, 650, 2, &o);
    CHECK_INT(cur, 7);
    CHECK_INT(o.reason, DECIDE_REACTIVE);
    cur = run(&d, &p, 299, 100, 100, cur, &o);
    CHECK_INT(cur, 7);
    CHECK_INT(o.raw, 2);
    cur = run(&d, &p, 300, 100, 100, cur, &o);
    CHECK_INT(cur, 2);
    decide_free(&d);
}

TEST(decide_window_keeps_the_highest_recent_value)
{
    fc_policy p;
    policy(&p);
    p.scale_down_max_step_percent = 100;
    p.scale_down_period_s = 0;
    decide_t d;
    REQUIRE(decide_init(&d, 300, 60) == 0);
    decide_output o;
    uint32_t cur = run(&d, &p, 0, 1000, -1, 2, &o);   /* 10 */
    cur = run(&d, &p, 30, 600, -1, cur, &o);          /* 6: held at 10 */
    CHECK_INT(cur, 10);
    cur = run(&d, &p, 59, 300, -1, cur, &o);
    CHECK_INT(cur, 10);
    cur = run(&d, &p, 60, 300, -1, cur, &o);          /* the 10 left: 6 */
    CHECK_INT(cur, 6);
    cur = run(&d, &p, 90, 300, -1, cur, &o);          /* the 6 left: 3 */
    CHECK_INT(cur, 3);
    decide_free(&d);
}

TEST(decide_schedule_floor_prescales_before_launch)
{
    fc_policy p;
    policy(&p);
    p.launch_at_s = 100000;
    p.prescale_replicas = 10;
    p.prewarm_before_s = 600;
    p.lead_s = 90;
    p.schedule_hold_s = 1800;
    CHECK_INT(decide_schedule_floor(&p, 100000 - 690 - 1), 0);
    CHECK_INT(decide_schedule_floor(&p, 100000 - 690), 10);
    CHECK_INT(decide_schedule_floor(&p, 100000 + 1800), 10);
    CHECK_INT(decide_schedule_floor(&p, 100000 + 1801), 0);
    decide_t d;
    REQUIRE(decide_init(&d, 300, 60) == 0);
    decide_output o;
    CHECK_INT(run(&d, &p, 100000 - 690, -1, 50, 2, &o), 10);
    CHECK_INT(o.reason, DECIDE_SCHEDULE);
    p.prescale_replicas = 0;
    CHECK_INT(decide_schedule_floor(&p, 100000), 0);
    decide_free(&d);
}

TEST(decide_windows_are_bounded)
{
    decide_t d;
    CHECK(decide_init(&d, FC_MAX_STABILIZATION_S + 1, 60) < 0);
    REQUIRE(decide_init(&d, 300, 60) == 0);
    CHECK_INT(decide_set_windows(&d, 300, 60), 0);
    CHECK_INT(decide_set_windows(&d, 100, 10), 0);
    CHECK(decide_set_windows(&d, 301, 60) < 0);
    decide_free(&d);
    CHECK_STR(decide_reason_name(DECIDE_STEP_LIMITED), "step-limited");
}

TEST(decide_scale_down_step_in_pods)
{
    fc_policy p;
    policy(&p);
    p.scale_down_stabilization_s = 0;
    p.scale_down_forecast_stabilization_s = 0;
    p.scale_down_max_step_pods = 3;   /* instead of 50 % */
    p.scale_down_period_s = 10;
    decide_t d;
    REQUIRE(decide_init(&d, 0, 0) == 0);
    decide_output o;
    uint32_t cur = run(&d, &p, 0, 2000, -1, 2, &o);
    CHECK_INT(cur, 20);
    /* the forecast drops to 2 pods: 3 pods a step, one step per 10 s */
    static const uint32_t want[] = { 17, 14, 11, 8, 5, 2 };
    for (int i = 0; i < 6; i++) {
        cur = run(&d, &p, 1 + 10 * i, 100, -1, cur, &o);
        CHECK_INT(cur, want[i]);
        CHECK_INT(o.reason, i < 5 ? DECIDE_STEP_LIMITED : DECIDE_MIN);
        CHECK_INT(run(&d, &p, 5 + 10 * i, 100, -1, cur, &o), cur); /* within the period */
    }
    decide_free(&d);
}
