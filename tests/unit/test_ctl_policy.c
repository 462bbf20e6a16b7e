/* test_ctl_policy.c — LaunchPolicy JSON to ctl_policy (defaults,
 * validation naming the field) and the Redis document. */
#include "test.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "controller/policy.h"

static json_t *obj(const char *spec)
{
    char *s = NULL;
    json_t *o = NULL;
    s = xasprintf("{\"metadata\":{\"namespace\":\"shop\",\"name\":\"web\",\"uid\":\"u-1\","
                  "\"generation\":3},\"spec\":%s}", spec);
    o = json_loads(s, 0, NULL);
    free(s);
    return o;
}

static int parse(const char *spec, ctl_policy *p, char *err)
{
    json_t *o = obj(spec);
    int rc = ctl_policy_parse(o, p, err, 256);
    json_decref(o);
    return rc;
}

TEST(ctl_policy_defaults)
{
    ctl_policy p;
    char err[256] = "";
    REQUIRE(parse("{\"targetRef\":{\"name\":\"web-app\"}}", &p, err) == 0);
    CHECK_STR(p.ns, "shop");
    CHECK_STR(p.name, "web");
    CHECK_STR(p.uid, "u-1");
    CHECK_STR(p.target, "web-app");
    CHECK_INT(p.generation, 3);
    CHECK_INT(p.mode, CTL_MODE_ACTIVE);
    CHECK_INT(p.min_replicas, 2);
    CHECK_INT(p.max_replicas, 100);
    CHECK(p.pod_capacity_rps == 200);
    CHECK(p.headroom_percent == 0);
    /* the predictor's scale-down defaults (lib/forecast_policy.h) */
    CHECK_INT(p.scale_down_stabilization_s, 300);
    CHECK_INT(p.scale_down_max_step_percent, 50);
    CHECK_INT(p.scale_down_period_s, 60);
}

TEST(ctl_policy_scale_down_fields)
{
    ctl_policy p;
    char err[256] = "";
    REQUIRE(parse("{\"targetRef\":{\"name\":\"w\"},\"scaleDown\":{\"stabilizationSeconds\":30,"
                  "\"maxStepPercent\":20,\"periodSeconds\":15}}", &p, err) == 0);
    CHECK_INT(p.scale_down_stabilization_s, 30);
    CHECK_INT(p.scale_down_max_step_percent, 20);
    CHECK_INT(p.scale_down_period_s, 15);
    /* limits at both ends, as the predictor takes them */
    REQUIRE(parse("{\"targetRef\":{\"name\":\"w\"},\"scaleDown\":{\"stabilizationSeconds\":0,"
                  "\"maxStepPercent\":100,\"periodSeconds\":3600}}", &p, err) == 0);
    CHECK_INT(p.scale_down_stabilization_s, 0);
    CHECK_INT(p.scale_down_max_step_percent, 100);
    CHECK_INT(p.scale_down_period_s, 3600);
    CHECK_INT(p.scale_down_max_step_pods, 0);
    /* one field set, the others default; a step in pods replaces the
     * percent, which keeps its default */
    REQUIRE(parse("{\"targetRef\":{\"name\":\"w\"},\"scaleDown\":{\"periodSeconds\":5,"
                  "\"maxStepPods\":3}}", &p, err) == 0);
    CHECK_INT(p.scale_down_stabilization_s, 300);
    CHECK_INT(p.scale_down_max_step_percent, 50);
    CHECK_INT(p.scale_down_max_step_pods, 3);
    CHECK_INT(p.scale_down_period_s, 5);
}

TEST(ctl_policy_fields)
{
    ctl_policy p;
    char err[256] = "";
    REQUIRE(parse("{\"targetRef\":{\"name\":\"w\",\"kind\":\"Deployment\"},\"mode\":\"DryRun\","
                  "\"minReplicas\":3,\"maxReplicas\":9}", &p, err) == 0);
    CHECK_INT(p.mode, CTL_MODE_DRY_RUN);
    CHECK_INT(p.min_replicas, 3);
    CHECK_INT(p.max_replicas, 9);
    REQUIRE(parse("{\"targetRef\":{\"name\":\"w\"},\"podCapacityRps\":150.5,"
                  "\"prediction\":{\"headroomPercent\":25}}", &p, err) == 0);
    CHECK(p.pod_capacity_rps == 150.5);
    CHECK(p.headroom_percent == 25);
    REQUIRE(parse("{\"targetRef\":{\"name\":\"w\"},\"mode\":\"Paused\"}", &p, err) == 0);
    CHECK_INT(p.mode, CTL_MODE_PAUSED);
    CHECK_STR(ctl_mode_name(CTL_MODE_PAUSED), "Paused");
    CHECK_STR(ctl_mode_name(CTL_MODE_DRY_RUN), "DryRun");
    CHECK_STR(ctl_mode_name(CTL_MODE_ACTIVE), "Active");
}

TEST(ctl_policy_rejects_with_field_name)
{
    static const struct {
        const char *spec, *field;
    } bad[] = {
        { "{}", "spec.targetRef.name" },
        { "{\"targetRef\":{\"name\":\"Bad_Name\"}}", "spec.targetRef.name" },
        { "{\"targetRef\":{\"name\":\"w\",\"kind\":\"StatefulSet\"}}", "spec.targetRef.kind" },
        { "{\"targetRef\":{\"name\":\"w\"},\"mode\":\"Sometimes\"}", "spec.mode" },
        { "{\"targetRef\":{\"name\":\"w\"},\"minReplicas\":0}", "spec.minReplicas" },
        { "{\"targetRef\":{\"name\":\"w\"},\"maxReplicas\":10001}", "spec.maxReplicas" },
        { "{\"targetRef\":{\"name\":\"w\"},\"maxReplicas\":\"5\"}", "spec.maxReplicas" },
        { "{\"targetRef\":{\"name\":\"w\"},\"minReplicas\":5,\"maxReplicas\":4}",
          "spec.minReplicas must not exceed" },
        { "{\"targetRef\":{\"name\":\"w\"},\"podCapacityRps\":0}", "spec.podCapacityRps" },
        { "{\"targetRef\":{\"name\":\"w\"},\"prediction\":{\"headroomPercent\":500}}",
          "spec.prediction.headroomPercent" },
        { "{\"targetRef\":{\"name\":\"w\"},\"scaleDown\":{\"stabilizationSeconds\":3601}}",
          "spec.scaleDown.stabilizationSeconds" },
        { "{\"targetRef\":{\"name\":\"w\"},\"scaleDown\":{\"stabilizationSeconds\":-1}}",
          "spec.scaleDown.stabilizationSeconds" },
        { "{\"targetRef\":{\"name\":\"w\"},\"scaleDown\":{\"maxStepPercent\":0}}",
          "spec.scaleDown.maxStepPercent" },
        { "{\"targetRef\":{\"name\":\"w\"},\"scaleDown\":{\"maxStepPercent\":101}}",
          "spec.scaleDown.maxStepPercent" },
        { "{\"targetRef\":{\"name\":\"w\"},\"scaleDown\":{\"maxStepPods\":0}}",
          "spec.scaleDown.maxStepPods" },
        { "{\"targetRef\":{\"name\":\"w\"},\"maxReplicas\":10,\"scaleDown\":{\"maxStepPods\":11}}",
          "spec.scaleDown.maxStepPods must not exceed spec.maxReplicas" },
        { "{\"targetRef\":{\"name\":\"w\"},\"scaleDown\":{\"maxStepPods\":2,"
          "\"maxStepPercent\":10}}",
          "maxStepPercent or maxStepPods, not both" },
        { "{\"targetRef\":{\"name\":\"w\"},\"scaleDown\":{\"periodSeconds\":3601}}",
          "spec.scaleDown.periodSeconds" },
        { "{\"targetRef\":{\"name\":\"w\"},\"scaleDown\":{\"periodSeconds\":1.5}}",
          "spec.scaleDown.periodSeconds" },
        { "{\"targetRef\":{\"name\":\"w\"},\"scaleDown\":{\"periodSeconds\":\"soon\"}}",
          "spec.scaleDown.periodSeconds" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ctl_policy p;
        char err[256] = "";
        CHECK_INT(parse(bad[i].spec, &p, err), -EINVAL);
        CHECK(strstr(err, bad[i].field) != NULL);
    }
    ctl_policy p;
    char err[256] = "";
    json_t *nometa = json_loads("{\"spec\":{\"targetRef\":{\"name\":\"w\"}}}", 0, NULL);
    CHECK_INT(ctl_policy_parse(nometa, &p, err, sizeof err), -EINVAL);
    json_decref(nometa);
}

TEST(ctl_policy_doc_wraps_the_spec)
{
    json_t *o = obj("{\"targetRef\":{\"name\":\"w\"},\"prediction\":{\"leadSeconds\":30}}");
    char *doc = ctl_policy_doc(o);
    REQUIRE(doc != NULL);
    json_t *d = json_loads(doc, 0, NULL);
    REQUIRE(d != NULL);
    CHECK_STR(json_string_value(json_object_get(d, "namespace")), "shop");
    CHECK_STR(json_string_value(json_object_get(d, "name")), "web");
    CHECK_INT(json_integer_value(json_object_get(d, "generation")), 3);
    CHECK(json_equal(json_object_get(d, "spec"), json_object_get(o, "spec")));
    CHECK(strchr(doc, '\n') == NULL);
    json_decref(d);
    free(doc);
    json_decref(o);
    json_t *nospec = json_loads("{\"metadata\":{\"name\":\"x\"}}", 0, NULL);
    CHECK(ctl_policy_doc(nospec) == NULL);
    json_decref(nospec);
}
