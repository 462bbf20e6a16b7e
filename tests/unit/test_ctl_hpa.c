/* test_ctl_hpa.c — the predictive floor on an HPA: which HPA scales a
 * Deployment, the floor's bounds, the guarded patches that set and restore
 * minReplicas with the original in an annotation, and the status that
 * says the controller acted through the HPA. */
#include "test.h"

#include <jansson.h>
#include <string.h>

#include "controller/hpa_floor.h"
#include "controller/status.h"

#define NOW 1700000000000ULL

static json_t *hpa(const char *kind, const char *target, int min, int max, const char *orig)
{
    json_t *h = json_pack("{s:{s:s, s:s, s:s}, s:{s:{s:s, s:s, s:s}, s:i}}", "metadata", "name",
                          "web-hpa", "namespace", "shop", "resourceVersion", "77", "spec",
                          "scaleTargetRef", "apiVersion", "apps/v1", "kind", kind, "name", target,
                          "maxReplicas", max);
    if (min > 0)
        json_object_set_new(json_object_get(h, "spec"), "minReplicas", json_integer(min));
    if (orig)
        json_object_set_new(json_object_get(h, "metadata"), "annotations",
                            json_pack("{s:s}", CTL_HPA_ANNOTATION, orig));
    return h;
}

static const json_t *path(const json_t *o, const char *a, const char *b)
{
    return json_object_get(json_object_get(o, a), b);
}

TEST(ctl_hpa_targets_only_its_deployment)
{
    json_t *h = hpa("Deployment", "web", 1, 10, NULL);
    CHECK(ctl_hpa_targets(h, "web"));
    CHECK(!ctl_hpa_targets(h, "api"));
    CHECK_STR(ctl_hpa_target_name(h), "web");
    json_decref(h);
    json_t *s = hpa("StatefulSet", "web", 1, 10, NULL);
    CHECK(!ctl_hpa_targets(s, "web"));
    CHECK(ctl_hpa_target_name(s) == NULL);
    json_decref(s);
    json_t *other = hpa("Deployment", "web", 1, 10, NULL);
    json_t *ref = json_object_get(json_object_get(other, "spec"), "scaleTargetRef");
    json_object_set_new(ref, "apiVersion", json_string("example.com/v1"));
    CHECK(!ctl_hpa_targets(other, "web"));
    json_decref(other);
}

TEST(ctl_hpa_view_reads_min_max_and_the_annotation)
{
    ctl_hpa_view v;
    json_t *h = hpa("Deployment", "web", 0, 10, NULL);   /* no minReplicas: 1 */
    REQUIRE(ctl_hpa_view_read(h, &v) == 0);
    CHECK_INT(v.min, 1);
    CHECK_INT(v.max, 10);
    CHECK(!v.has_original);
    json_decref(h);
    h = hpa("Deployment", "web", 5, 10, "2");
    REQUIRE(ctl_hpa_view_read(h, &v) == 0);
    CHECK_INT(v.min, 5);
    CHECK(v.has_original);
    CHECK_INT(v.original, 2);
    json_decref(h);
    /* an unusable annotation does not count */
    static const char *const bad[] = { "", "x", "-1", "3x", "11", "0" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        h = hpa("Deployment", "web", 5, 10, bad[i]);
        REQUIRE(ctl_hpa_view_read(h, &v) == 0);
        CHECK(!v.has_original);
        json_decref(h);
    }
    json_t *nomax = json_pack("{s:{s:i}}", "spec", "minReplicas", 1);
    CHECK_INT(ctl_hpa_view_read(nomax, &v), -EINVAL);
    json_decref(nomax);
}

TEST(ctl_hpa_floor_bounds)
{
    ctl_hpa_view v = { .min = 2, .max = 10 };
    CHECK_INT(ctl_hpa_floor(&v, 5), 5);
    CHECK_INT(ctl_hpa_floor(&v, 1), 2);     /* never below the HPA's own */
    CHECK_INT(ctl_hpa_floor(&v, 50), 10);   /* never above its maxReplicas */
    /* held: the base is the original, not the raised minReplicas */
    ctl_hpa_view held = { .min = 6, .max = 10, .has_original = true, .original = 2 };
    CHECK_INT(ctl_hpa_floor(&held, 3), 3);
    CHECK_INT(ctl_hpa_floor(&held, 1), 2);
}

TEST(ctl_hpa_floor_patch_remembers_the_original_once)
{
    ctl_hpa_view v;
    json_t *h = hpa("Deployment", "web", 1, 10, NULL);
    REQUIRE(ctl_hpa_view_read(h, &v) == 0);
    json_t *p = ctl_hpa_floor_patch(h, &v, 5);
    CHECK_INT(json_integer_value(path(p, "spec", "minReplicas")), 5);
    CHECK_STR(json_string_value(path(p, "metadata", "resourceVersion")), "77");
    CHECK_STR(json_string_value(json_object_get(path(p, "metadata", "annotations"),
                                                CTL_HPA_ANNOTATION)), "1");
    json_decref(p);
    json_decref(h);
    /* already held: the annotation is left alone */
    h = hpa("Deployment", "web", 5, 10, "1");
    REQUIRE(ctl_hpa_view_read(h, &v) == 0);
    p = ctl_hpa_floor_patch(h, &v, 3);
    CHECK_INT(json_integer_value(path(p, "spec", "minReplicas")), 3);
    CHECK(json_object_get(path(p, "metadata", "annotations"), CTL_HPA_ANNOTATION) == NULL);
    json_decref(p);
    json_decref(h);
}

TEST(ctl_hpa_restore_patch_puts_the_original_back)
{
    ctl_hpa_view v;
    json_t *h = hpa("Deployment", "web", 5, 10, "1");
    REQUIRE(ctl_hpa_view_read(h, &v) == 0);
    json_t *p = ctl_hpa_restore_patch(h, &v);
    REQUIRE(p != NULL);
    CHECK_INT(json_integer_value(path(p, "spec", "minReplicas")), 1);
    CHECK(json_is_null(json_object_get(path(p, "metadata", "annotations"), CTL_HPA_ANNOTATION)));
    CHECK_STR(json_string_value(path(p, "metadata", "resourceVersion")), "77");
    json_decref(p);
    json_decref(h);
    h = hpa("Deployment", "web", 5, 10, NULL);   /* not held: nothing to restore */
    REQUIRE(ctl_hpa_view_read(h, &v) == 0);
    CHECK(ctl_hpa_restore_patch(h, &v) == NULL);
    json_decref(h);
}

static const json_t *cond(const json_t *st, const char *type)
{
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(st, "conditions"), i, c)
    {
        if (strcmp(json_string_value(json_object_get(c, "type")), type) == 0)
            return c;
    }
    return NULL;
}

static const char *cs(const json_t *st, const char *type, const char *field)
{
    return json_string_value(json_object_get(cond(st, type), field));
}

TEST(ctl_hpa_status_says_it_acted_through_the_hpa)
{
    ctl_policy p;
    memset(&p, 0, sizeof p);
    strcpy(p.ns, "shop");
    strcpy(p.name, "web");
    strcpy(p.target, "web-app");
    p.generation = 2;
    p.min_replicas = 1;
    p.max_replicas = 10;
    ctl_observation o = { .target_found = true, .current = 1, .hpa = "web-hpa",
                          .hpa_min_from = 1, .hpa_min_to = 5, .hpa_patched = true };
    o.decision.replicas = 5;
    o.decision.why = "predicted";
    json_t *st = ctl_status_build(&p, &o, NULL, NOW);
    CHECK_STR(cs(st, "Scaling", "status"), "True");
    CHECK_STR(cs(st, "Scaling", "reason"), "FloorRaised");
    CHECK(strstr(cs(st, "Scaling", "message"), "HorizontalPodAutoscaler web-hpa minReplicas 1 -> 5") != NULL);
    CHECK(strstr(cs(st, "Ready", "message"), "through HorizontalPodAutoscaler web-hpa") != NULL);
    /* the Deployment's replicas are the HPA's business: reported as read */
    CHECK_INT(json_integer_value(json_object_get(st, "currentReplicas")), 1);
    json_decref(st);

    o.hpa_min_from = 5;
    o.hpa_min_to = 3;
    st = ctl_status_build(&p, &o, NULL, NOW);
    CHECK_STR(cs(st, "Scaling", "reason"), "FloorLowered");
    json_decref(st);

    p.mode = CTL_MODE_PAUSED;
    o.hpa_min_to = 1;
    st = ctl_status_build(&p, &o, NULL, NOW);
    CHECK_STR(cs(st, "Scaling", "reason"), "FloorRestored");
    json_decref(st);

    o.hpa_patched = false;
    st = ctl_status_build(&p, &o, NULL, NOW);
    CHECK_STR(cs(st, "Scaling", "status"), "False");
    CHECK_STR(cs(st, "Scaling", "reason"), "Paused");
    CHECK(strstr(cs(st, "Scaling", "message"), "scaled by the HPA") != NULL);
    json_decref(st);
}
