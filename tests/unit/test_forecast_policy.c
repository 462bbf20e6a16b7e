/* test_forecast_policy.c — LaunchPolicy parameters: defaults, setting by
 * field name with limits, weights, times and durations, validation. */
#include "test.h"
#include "forecast_policy.h"

#include <errno.h>

TEST(forecast_policy_defaults_are_documented_values)
{
    fc_policy p;
    fc_policy_default(&p);
    CHECK_INT(p.window_s, 60);
    CHECK(fc_policy_weight(&p, "upvote") == 1.2);
    CHECK(fc_policy_weight(&p, "comment") == 1.0);
    CHECK(fc_policy_weight(&p, "maker_comment") == 1.5);
    CHECK(fc_policy_weight(&p, "cta_click") == 1.0);
    CHECK_INT(p.lead_s, 90);
    CHECK_INT(p.min_replicas, 2);
    CHECK_INT(p.max_replicas, 100);
    CHECK_INT(p.scale_down_stabilization_s, 300);
    CHECK_INT(fc_policy_validate(&p, NULL), 0);
}

TEST(forecast_policy_set_by_field_name)
{
    fc_policy p;
    fc_policy_default(&p);
    CHECK_INT(fc_policy_set(&p, "prediction.windowSeconds", "120"), 0);
    CHECK_INT(p.window_s, 120);
    CHECK_INT(fc_policy_set(&p, "prediction.weights.upvote", "2.5"), 0);
    CHECK(fc_policy_weight(&p, "upvote") == 2.5);
    CHECK_INT(fc_policy_set(&p, "prediction.weights.form_submit", "3"), 0);
    CHECK(fc_policy_weight(&p, "form_submit") == 3.0);
    CHECK_INT(fc_policy_set(&p, "podCapacityRps", "150.5"), 0);
    CHECK(p.pod_capacity_rps == 150.5);
    CHECK_INT(fc_policy_set(&p, "scaleDown.stabilizationSeconds", "0"), 0);
    CHECK_INT(fc_policy_set(&p, "prediction.model.gainZ", "0.5"), 0);
    CHECK(p.model.gain_z == 0.5);
}

TEST(forecast_policy_set_rejects_bad_values)
{
    fc_policy p;
    fc_policy_default(&p);
    CHECK_INT(fc_policy_set(&p, "prediction.windowSeconds", "0"), -ERANGE);
    CHECK_INT(fc_policy_set(&p, "prediction.windowSeconds", "3601"), -ERANGE);
    CHECK_INT(fc_policy_set(&p, "prediction.windowSeconds", "1.5"), -EINVAL);
    CHECK_INT(fc_policy_set(&p, "prediction.windowSeconds", "abc"), -EINVAL);
    CHECK_INT(fc_policy_set(&p, "prediction.windowSeconds", ""), -EINVAL);
    CHECK_INT(fc_policy_set(&p, "prediction.windowSeconds", " 5"), -EINVAL);
    CHECK_INT(fc_policy_set(&p, "prediction.baseRps", "nan"), -EINVAL);
    CHECK_INT(fc_policy_set(&p, "prediction.weights.upvote", "-1"), -ERANGE);
    CHECK_INT(fc_policy_set(&p, "prediction.weights.bad name", "1"), -EINVAL);
    CHECK_INT(fc_policy_set(&p, "prediction.windowSecond", "60"), -ENOENT);
    CHECK_INT(fc_policy_set(&p, "minReplicas", "0"), -ERANGE);
    CHECK_INT(p.window_s, 60); /* unchanged by the failures */
}

TEST(forecast_policy_weight_table_has_a_limit)
{
    fc_policy p;
    fc_policy_default(&p);
    char name[16];
    int rc = 0;
    for (int i = 0; i < FC_MAX_WEIGHTS + 2 && rc == 0; i++) {
        snprintf(name, sizeof name, "type%d", i);
        rc = fc_policy_set_weight(&p, name, 1);
    }
    CHECK_INT(rc, -ENOSPC);
    CHECK_INT(p.nweights, FC_MAX_WEIGHTS);
    /* replacing an existing weight still works */
    CHECK_INT(fc_policy_set_weight(&p, "upvote", 4), 0);
}

TEST(forecast_policy_parses_times_and_durations)
{
    int64_t t;
    CHECK_INT(fc_parse_time("1700000000", &t), 0);
    CHECK_INT(t, 1700000000);
    CHECK_INT(fc_parse_time("1970-01-01T00:00:00Z", &t), 0);
    CHECK_INT(t, 0);
    CHECK_INT(fc_parse_time("2024-02-29T08:01:30Z", &t), 0);
    CHECK_INT(t, 1709193690);
    CHECK_INT(fc_parse_time("2024-02-29T09:01:30+01:00", &t), 0);
    CHECK_INT(t, 1709193690);
    CHECK_INT(fc_parse_time("2024-02-29T08:01:30.250Z", &t), 0);
    CHECK_INT(t, 1709193690);
    CHECK_INT(fc_parse_time("2023-02-29T08:01:30Z", &t), -EINVAL);
    CHECK_INT(fc_parse_time("2024-13-01T00:00:00Z", &t), -EINVAL);
    CHECK_INT(fc_parse_time("2024-01-01 00:00", &t), -EINVAL);
    CHECK_INT(fc_parse_time("2024-01-01T00:00:00", &t), -EINVAL);
    uint32_t d;
    CHECK_INT(fc_parse_duration("90", &d), 0);
    CHECK_INT(d, 90);
    CHECK_INT(fc_parse_duration("10m", &d), 0);
    CHECK_INT(d, 600);
    CHECK_INT(fc_parse_duration("1h30m15s", &d), 0);
    CHECK_INT(d, 5415);
    CHECK_INT(fc_parse_duration("1m30", &d), -EINVAL);
    CHECK_INT(fc_parse_duration("5d", &d), -EINVAL);
    CHECK_INT(fc_parse_duration("", &d), -EINVAL);
    CHECK_INT(fc_parse_duration("200h", &d), -ERANGE);
    fc_policy p;
    fc_policy_default(&p);
    CHECK_INT(fc_policy_set(&p, "schedule.launchAt", "2024-02-29T08:01:30Z"), 0);
    CHECK_INT(p.launch_at_s, 1709193690);
    CHECK_INT(fc_policy_set(&p, "schedule.prewarmBefore", "15m"), 0);
    CHECK_INT(p.prewarm_before_s, 900);
}

TEST(forecast_policy_validate_checks_fields_together)
{
    fc_policy p;
    const char *why = NULL;
    fc_policy_default(&p);
    p.min_replicas = 10;
    p.max_replicas = 5;
    CHECK_INT(fc_policy_validate(&p, &why), -EINVAL);
    CHECK(why && strstr(why, "minReplicas"));
    fc_policy_default(&p);
    p.prescale_replicas = 500;
    CHECK_INT(fc_policy_validate(&p, &why), -EINVAL);
    CHECK(why && strstr(why, "prescaleReplicas"));
    fc_policy_default(&p);
    p.max_lag_s = 1800;
    p.model.lag_step_seconds = 1;
    CHECK_INT(fc_policy_validate(&p, &why), -EINVAL);
    fc_policy_default(&p);
    p.pod_capacity_rps = 0;
    CHECK_INT(fc_policy_validate(&p, &why), -EINVAL);
}

TEST(forecast_policy_scale_down_step_in_pods_or_percent)
{
    fc_policy p;
    const char *why = NULL;
    fc_policy_default(&p);
    CHECK_INT(p.scale_down_max_step_pods, 0);
    CHECK_INT(fc_policy_scale_down_step(&p, 40), 20); /* 50 % */
    CHECK_INT(fc_policy_scale_down_step(&p, 1), 1);   /* at least one pod */
    CHECK_INT(fc_policy_set(&p, "scaleDown.maxStepPods", "3"), 0);
    CHECK_INT(fc_policy_scale_down_step(&p, 40), 3);  /* pods replace the percent */
    CHECK_INT(fc_policy_scale_down_step(&p, 2), 3);   /* removal is capped by the caller */
    CHECK_INT(fc_policy_set(&p, "scaleDown.maxStepPods", "0"), -ERANGE);
    CHECK_INT(fc_policy_set(&p, "scaleDown.maxStepPods", "10001"), -ERANGE);
    CHECK_INT(fc_policy_validate(&p, &why), 0);
    p.scale_down_max_step_pods = 101; /* above maxReplicas (100) */
    CHECK_INT(fc_policy_validate(&p, &why), -EINVAL);
    CHECK(why && strstr(why, "maxStepPods"));
}
