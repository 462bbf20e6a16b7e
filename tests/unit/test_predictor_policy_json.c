/* test_predictor_policy_json.c — a LaunchPolicy's parameters from the JSON
 * the controller stores. */
#include "test.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "predictor/policy_json.h"

static int parse(const char *json, pred_policy_doc *doc, char *err, size_t errlen)
{
    err[0] = '\0';
    return pred_policy_parse(json, strlen(json), "default", doc, err, errlen);
}

TEST(predictor_policy_json_full_document)
{
    const char *json =
        "{\"namespace\":\"shop\",\"name\":\"storefront-launch\",\"generation\":4,\"spec\":{"
        "\"targetRef\":{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"storefront\"},"
        "\"minReplicas\":3,\"maxReplicas\":400,\"podCapacityRps\":250,\"mode\":\"Active\","
        "\"redis\":{\"launch\":\"spring-2025\"},"
        "\"prediction\":{\"windowSeconds\":120,\"weights\":{\"upvote\":1.2,\"comment\":1.0,"
        "\"maker_comment\":1.5,\"share\":2,\"page_view\":0.1},\"defaultWeight\":0.5,"
        "\"leadSeconds\":120,\"baseRps\":80,\"rpsPerEngagement\":150,\"maxLagSeconds\":600,"
        "\"headroomPercent\":20,\"model\":{\"alpha\":0.3,\"lagStepSeconds\":10}},"
        "\"schedule\":{\"launchAt\":\"2025-03-01T08:01:00Z\",\"prescaleReplicas\":40,"
        "\"prewarmBefore\":\"15m\",\"holdSeconds\":3600},"
        "\"scaleDown\":{\"stabilizationSeconds\":600,\"periodSeconds\":30},"
        "\"prewarm\":{\"paths\":[\"/\"],\"thresholdFactor\":3},"
        "\"sidecar\":{\"routes\":[{\"match\":{\"prefix\":\"/\"}}]}}}";
    pred_policy_doc doc;
    char err[256];
    REQUIRE(parse(json, &doc, err, sizeof err) == 0);
    CHECK_STR(doc.launch, "spring-2025");
    CHECK_INT(doc.pol.window_s, 120);
    CHECK_INT(doc.pol.lead_s, 120);
    CHECK_INT(doc.pol.min_replicas, 3);
    CHECK_INT(doc.pol.max_replicas, 400);
    CHECK(doc.pol.pod_capacity_rps == 250);
    CHECK(doc.pol.base_rps == 80);
    CHECK(fc_policy_weight(&doc.pol, "share") == 2);
    CHECK(fabs(fc_policy_weight(&doc.pol, "page_view") - 0.1) < 1e-15);
    CHECK(fc_policy_weight(&doc.pol, "anything") == 0.5);
    CHECK_INT(doc.pol.launch_at_s, 1740816060);
    CHECK_INT(doc.pol.prewarm_before_s, 900);
    CHECK_INT(doc.pol.scale_down_stabilization_s, 600);
    CHECK_INT(doc.unknown, 0);
}

TEST(predictor_policy_json_bare_spec_and_defaults)
{
    pred_policy_doc doc;
    char err[256];
    REQUIRE(parse("{\"prediction\":{\"weights\":{\"upvote\":3}}}", &doc, err, sizeof err) == 0);
    CHECK_STR(doc.launch, "default");
    CHECK_INT(doc.pol.window_s, 60);
    CHECK(fc_policy_weight(&doc.pol, "upvote") == 3);
    CHECK(fc_policy_weight(&doc.pol, "comment") == 1.0);
    REQUIRE(parse("{}", &doc, err, sizeof err) == 0);
    fc_policy def;
    fc_policy_default(&def);
    CHECK(memcmp(&doc.pol, &def, sizeof def) == 0);
}

TEST(predictor_policy_json_unknown_fields_are_counted_not_fatal)
{
    pred_policy_doc doc;
    char err[256];
    REQUIRE(parse("{\"spec\":{\"scaleDown\":{\"maxStepPodz\":20},\"future\":{\"x\":1},"
                  "\"prediction\":{\"windowSeconds\":30}}}",
                  &doc, err, sizeof err) == 0);
    CHECK_INT(doc.unknown, 2);
    CHECK(strcmp(doc.first_unknown, "scaleDown.maxStepPodz") == 0 ||
          strcmp(doc.first_unknown, "future.x") == 0);
    CHECK_INT(doc.pol.window_s, 30);
}

TEST(predictor_policy_json_reads_the_scale_down_step_in_pods)
{
    pred_policy_doc doc;
    char err[256];
    REQUIRE(parse("{\"spec\":{\"scaleDown\":{\"maxStepPods\":20}}}", &doc, err, sizeof err) == 0);
    CHECK_INT(doc.unknown, 0);
    CHECK_INT(doc.pol.scale_down_max_step_pods, 20);
    CHECK_INT(parse("{\"spec\":{\"maxReplicas\":10,\"scaleDown\":{\"maxStepPods\":20}}}", &doc,
                    err, sizeof err),
              -EINVAL);
    CHECK(strstr(err, "maxStepPods") != NULL);
}

TEST(predictor_policy_json_rejects_bad_values)
{
    pred_policy_doc doc;
    char err[256];
    CHECK_INT(parse("{\"prediction\":{\"windowSeconds\":0}}", &doc, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "prediction.windowSeconds") != NULL);
    CHECK_INT(parse("{\"prediction\":{\"windowSeconds\":\"ten\"}}", &doc, err, sizeof err), -EINVAL);
    CHECK_INT(parse("{\"prediction\":{\"weights\":{\"upvote\":-1}}}", &doc, err, sizeof err), -EINVAL);
    CHECK_INT(parse("{\"minReplicas\":9,\"maxReplicas\":3}", &doc, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "minReplicas") != NULL);
    CHECK_INT(parse("{\"redis\":{\"launch\":\"no spaces\"}}", &doc, err, sizeof err), -EINVAL);
    CHECK_INT(parse("{\"redis\":{\"launch\":7}}", &doc, err, sizeof err), -EINVAL);
    CHECK_INT(parse("[1,2]", &doc, err, sizeof err), -EINVAL);
    CHECK_INT(parse("{\"a\":1,\"a\":2}", &doc, err, sizeof err), -EINVAL);
    CHECK_INT(parse("{\"prediction\":", &doc, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "not JSON") != NULL);
    CHECK_INT(parse("{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{\"i\":{\"j\":1}}}}}}}}}}",
                    &doc, err, sizeof err), -EINVAL);
}

TEST(predictor_policy_json_limits)
{
    pred_policy_doc doc;
    char err[256];
    size_t n = PRED_POLICY_JSON_MAX + 1;
    char *big = malloc(n + 1);
    REQUIRE(big);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    big[n] = '\0';
    CHECK_INT(pred_policy_parse(big, n, "default", &doc, err, sizeof err), -EINVAL);
    free(big);
}
