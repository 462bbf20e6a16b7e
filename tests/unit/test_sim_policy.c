/* test_sim_policy.c — LaunchPolicy YAML for the simulator: a manifest or
 * bare spec, skipped sections, errors with line and column. */
#include "test.h"
#include "sim/policy_yaml.h"

static int parse(const char *y, fc_policy *p, char *err, size_t len)
{
    fc_policy_default(p);
    return sim_policy_parse(y, strlen(y), p, err, len);
}

TEST(sim_policy_reads_a_launchpolicy_manifest)
{
    const char *y = "apiVersion: liftoff.dev/v1alpha1\n"
                    "kind: LaunchPolicy\n"
                    "metadata:\n  name: shop\n"
                    "spec:\n"
                    "  targetRef: {name: shop}\n"
                    "  minReplicas: 3\n"
                    "  maxReplicas: 50\n"
                    "  podCapacityRps: 150\n"
                    "  prediction:\n"
                    "    windowSeconds: 120\n"
                    "    leadSeconds: 75\n"
                    "    baseRps: 30\n"
                    "    rpsPerEngagement: 250\n"
                    "    weights:\n      upvote: 2\n      cta_click: 0.5\n"
                    "  scaleDown:\n    stabilizationSeconds: 200\n"
                    "  schedule:\n    launchAt: \"2024-02-29T08:01:30Z\"\n"
                    "    prescaleReplicas: 10\n    prewarmBefore: 15m\n"
                    "  sidecar:\n    rules: [ {path: /, maxAge: 60} ]\n";
    fc_policy p;
    char err[256];
    int rc = parse(y, &p, err, sizeof err);
    if (rc)
        fprintf(stderr, "    %s\n", err);
    REQUIRE(rc == 0);
    CHECK_INT(p.min_replicas, 3);
    CHECK_INT(p.max_replicas, 50);
    CHECK(p.pod_capacity_rps == 150);
    CHECK_INT(p.window_s, 120);
    CHECK_INT(p.lead_s, 75);
    CHECK(p.base_rps == 30);
    CHECK(p.rps_per_engagement == 250);
    CHECK(fc_policy_weight(&p, "upvote") == 2);
    CHECK(fc_policy_weight(&p, "cta_click") == 0.5);
    CHECK_INT(p.scale_down_stabilization_s, 200);
    CHECK_INT(p.launch_at_s, 1709193690);
    CHECK_INT(p.prescale_replicas, 10);
    CHECK_INT(p.prewarm_before_s, 900);
}

TEST(sim_policy_bare_spec_and_empty_document)
{
    fc_policy p;
    char err[256];
    CHECK_INT(parse("prediction:\n  headroomPercent: 5\n", &p, err, sizeof err), 0);
    CHECK(p.headroom_percent == 5);
    CHECK_INT(parse("", &p, err, sizeof err), 0);
    CHECK_INT(p.window_s, 60);
}

TEST(sim_policy_errors_name_the_place_and_field)
{
    fc_policy p;
    char err[256];
    CHECK(parse("prediction:\n  windowSecond: 60\n", &p, err, sizeof err) < 0);
    CHECK(strstr(err, "2:17") != NULL);
    CHECK(strstr(err, "prediction.windowSecond: unknown field") != NULL);
    CHECK(parse("minReplicas: 0\n", &p, err, sizeof err) < 0);
    CHECK(strstr(err, "minReplicas") && strstr(err, "out of range"));
    CHECK(parse("minReplicas: lots\n", &p, err, sizeof err) < 0);
    CHECK(strstr(err, "not a valid value") != NULL);
    CHECK(parse("minReplicas: 50\nmaxReplicas: 10\n", &p, err, sizeof err) < 0);
    CHECK(strstr(err, "minReplicas must not exceed maxReplicas") != NULL);
    CHECK(parse("prediction: [1, 2]\n", &p, err, sizeof err) < 0);
    CHECK(strstr(err, "expected a value or a mapping") != NULL);
    CHECK(parse("prediction:\n  windowSeconds: [\n", &p, err, sizeof err) < 0);
    CHECK_INT(p.window_s, 60); /* a failed parse changes nothing */
}
