/* test_predictor_publish.c — forecast snapshots: what is published before
 * any engagement, when a change is significant, and the wire forms. */
#include "test.h"

#include <jansson.h>
#include <string.h>

#include "predictor/publish.h"

#define T0 1700000000000ULL

TEST(predictor_snapshot_before_and_after_engagement)
{
    fc_policy p;
    fc_policy_default(&p);
    p.min_replicas = 4;
    pred_track t;
    REQUIRE(pred_track_init(&t, &p) == 0);
    pred_snapshot s;
    pred_snapshot_take(&s, &t, T0);
    CHECK(s.eps == 0 && s.factor == 1 && s.predicted_rps == p.base_rps);
    CHECK_INT(s.desired_replicas, 4);
    CHECK_STR(s.reason, "min");
    CHECK_INT(s.tick, 0);
    CHECK_STR(s.last_id, "0-0");
    /* a scheduled launch lifts the floor */
    p.launch_at_s = (int64_t)(T0 / 1000) + 60;
    p.prescale_replicas = 20;
    pred_track t2;
    REQUIRE(pred_track_init(&t2, &p) == 0);
    pred_snapshot_take(&s, &t2, T0);
    CHECK_INT(s.desired_replicas, 20);
    CHECK_STR(s.reason, "schedule");
    pred_track_free(&t2);

    for (int i = 0; i < 600; i++) {
        pred_entry e = { .id = { T0 + 10 + (uint64_t)i, 0 }, .type = "upvote",
                         .ts_ms = (int64_t)T0 + 10 + i };
        pred_track_apply(&t, &e);
    }
    pred_track_advance(&t, T0 + 1000);
    pred_snapshot_take(&s, &t, T0 + 1000);
    CHECK(s.eps == 12.0);             /* 600 * 1.2 / 60 s */
    CHECK_INT(s.tick, (int64_t)(T0 / 1000));
    CHECK_STR(s.last_id, "1700000000609-0");
    CHECK(s.desired_replicas == t.out.decision.replicas);
    CHECK(s.factor == t.out.factor);
    pred_track_free(&t);
}

TEST(predictor_snapshot_significance)
{
    pred_snapshot a = { .eps = 10, .forecast_eps = 10, .predicted_rps = 500, .factor = 2,
                        .desired_replicas = 5 };
    pred_snapshot b = a;
    CHECK(!pred_snapshot_significant(&a, &b, 0.05));
    b.eps = 10.4;
    CHECK(!pred_snapshot_significant(&a, &b, 0.05));
    b.eps = 10.6;
    CHECK(pred_snapshot_significant(&a, &b, 0.05));
    b = a;
    b.desired_replicas = 6;
    CHECK(pred_snapshot_significant(&a, &b, 0.05));
    b = a;
    b.predicted_rps = 530;
    CHECK(pred_snapshot_significant(&a, &b, 0.05));
    /* near zero the floor keeps single events from counting as +inf % */
    pred_snapshot z = { .eps = 0, .factor = 1 }, z2 = z;
    z2.eps = 0.02;
    CHECK(!pred_snapshot_significant(&z, &z2, 0.05));
    z2.eps = 0.06;
    CHECK(pred_snapshot_significant(&z, &z2, 0.05));
    b = a;
    b.factor = 2.05;
    CHECK(!pred_snapshot_significant(&a, &b, 0.05));
    CHECK(pred_snapshot_significant(&a, &b, 0));
}

TEST(predictor_snapshot_wire_forms)
{
    pred_snapshot s = { .eps = 1.5, .forecast_eps = 2.25, .trend = -0.125, .predicted_rps = 300,
                        .predicted_upper = 420, .observed_rps = -1, .factor = 6,
                        .desired_replicas = 3, .reason = "predicted", .tick = 1700000000,
                        .updated_at = 1700000000456ULL };
    strcpy(s.last_id, "1700000000123-4");
    char store[PRED_SNAPSHOT_JSON_MAX];
    const char *names[PRED_SNAPSHOT_FIELDS];
    char *values[PRED_SNAPSHOT_FIELDS];
    REQUIRE(pred_snapshot_fields(&s, names, values, store, sizeof store) == PRED_SNAPSHOT_FIELDS);
    CHECK_STR(names[0], "eps");
    CHECK_STR(values[0], "1.5");
    CHECK_STR(names[2], "trend");
    CHECK_STR(values[2], "-0.125");
    CHECK_STR(names[7], "desired_replicas");
    CHECK_STR(values[7], "3");
    CHECK_STR(values[10], "1700000000123-4");
    CHECK_STR(names[11], "updated_at");
    CHECK_STR(values[11], "1700000000456");
    /* a store too small gives fewer fields, never an overflow */
    CHECK(pred_snapshot_fields(&s, names, values, store, 10) < PRED_SNAPSHOT_FIELDS);

    char json[PRED_SNAPSHOT_JSON_MAX];
    size_t n = pred_snapshot_json(&s, "shop", "web", json, sizeof json);
    REQUIRE(n > 0);
    json_error_t je;
    json_t *o = json_loadb(json, n, 0, &je);
    REQUIRE(o);
    CHECK_STR(json_string_value(json_object_get(o, "namespace")), "shop");
    CHECK_STR(json_string_value(json_object_get(o, "name")), "web");
    CHECK(json_number_value(json_object_get(o, "eps")) == 1.5);
    CHECK(json_integer_value(json_object_get(o, "desired_replicas")) == 3);
    CHECK(json_integer_value(json_object_get(o, "tick")) == 1700000000);
    CHECK_STR(json_string_value(json_object_get(o, "last_id")), "1700000000123-4");
    CHECK_STR(json_string_value(json_object_get(o, "reason")), "predicted");
    json_decref(o);
    CHECK_INT(pred_snapshot_json(&s, "shop", "web", json, 20), 0);
}
