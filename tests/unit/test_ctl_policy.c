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
