/* test_ctl_status.c — the LaunchPolicy status (conditions, transition
 * times kept while a condition's status holds) and the scale Event. */
#include "test.h"

#include <jansson.h>
#include <string.h>

#include "controller/status.h"

#define NOW 1700000000000ULL   /* 2023-11-14T22:13:20Z */

static ctl_policy pol(ctl_mode mode)
{
    ctl_policy p;
    memset(&p, 0, sizeof p);
    strcpy(p.ns, "shop");
    strcpy(p.name, "web");
    strcpy(p.uid, "u-1");
    strcpy(p.target, "web-app");
    p.generation = 4;
    p.mode = mode;
    p.min_replicas = 2;
    p.max_replicas = 8;
    return p;
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

TEST(ctl_time_format_rfc3339)
{
    char t[CTL_TIME_MAX];
    ctl_time_format(NOW, t);
    CHECK_STR(t, "2023-11-14T22:13:20Z");
}

TEST(ctl_status_after_a_scale)
{
    ctl_policy p = pol(CTL_MODE_ACTIVE);
    ctl_forecast f = { .have = true, .eps = 3.5, .predicted_rps = 900, .factor = 18,
                       .desired_replicas = 5, .updated_at_ms = NOW };
    ctl_observation o = { .target_found = true, .current = 2, .forecast = &f, .scaled = true,
                          .last_scale_time = "2023-11-14T22:13:20Z" };
    o.decision.replicas = 5;
    o.decision.why = "predicted";
    json_t *st = ctl_status_build(&p, &o, NULL, NOW);
    REQUIRE(st != NULL);
    CHECK_INT(json_integer_value(json_object_get(st, "observedGeneration")), 4);
    CHECK_INT(json_integer_value(json_object_get(st, "desiredReplicas")), 5);
    CHECK_INT(json_integer_value(json_object_get(st, "currentReplicas")), 5);
    CHECK(json_real_value(json_object_get(st, "velocity")) == 3.5);
    CHECK(json_real_value(json_object_get(st, "forecastRps")) == 900);
    CHECK(json_real_value(json_object_get(st, "factor")) == 18);
    CHECK_STR(json_string_value(json_object_get(st, "lastScaleTime")), "2023-11-14T22:13:20Z");
    CHECK_INT(json_array_size(json_object_get(st, "conditions")), 4);
    CHECK_STR(cs(st, "Ready", "status"), "True");
    CHECK_STR(cs(st, "Scaling", "status"), "True");
    CHECK_STR(cs(st, "Scaling", "reason"), "ScaledUp");
    CHECK_STR(cs(st, "SignalLost", "status"), "False");
    CHECK_STR(cs(st, "Paused", "status"), "False");
    CHECK_STR(cs(st, "Ready", "lastTransitionTime"), "2023-11-14T22:13:20Z");
    CHECK_INT(json_integer_value(json_object_get(cond(st, "Ready"), "observedGeneration")), 4);
    json_decref(st);
}

TEST(ctl_status_keeps_transition_times)
{
    ctl_policy p = pol(CTL_MODE_ACTIVE);
    ctl_forecast f = { .have = true, .desired_replicas = 5, .updated_at_ms = NOW };
    ctl_observation o = { .target_found = true, .current = 5, .forecast = &f };
    o.decision.replicas = 5;
    o.decision.why = "predicted";
    json_t *first = ctl_status_build(&p, &o, NULL, NOW);
    json_t *again = ctl_status_build(&p, &o, first, NOW + 60000);
    CHECK_STR(cs(again, "Ready", "lastTransitionTime"), "2023-11-14T22:13:20Z");
    CHECK(ctl_status_same(first, again));
    /* the signal goes: SignalLost turns True with a new time */
    o.decision.signal = CTL_SIGNAL_STALE;
    o.decision.holding = true;
    json_t *lost = ctl_status_build(&p, &o, again, NOW + 120000);
    CHECK_STR(cs(lost, "SignalLost", "status"), "True");
    CHECK_STR(cs(lost, "SignalLost", "reason"), "ForecastStale");
    CHECK_STR(cs(lost, "SignalLost", "lastTransitionTime"), "2023-11-14T22:15:20Z");
    CHECK_STR(cs(lost, "Ready", "lastTransitionTime"), "2023-11-14T22:13:20Z");
    CHECK(!ctl_status_same(again, lost));
    CHECK(!ctl_status_same(NULL, lost));
    CHECK(!ctl_status_same_but_gauges(again, lost));
    /* only the per-second gauges moved */
    f.eps = 9;
    f.factor = 30;
    json_t *moved = ctl_status_build(&p, &o, lost, NOW + 121000);
    CHECK(!ctl_status_same(lost, moved));
    CHECK(ctl_status_same_but_gauges(lost, moved));
    CHECK(!ctl_status_same_but_gauges(NULL, moved));
    json_decref(moved);
    json_decref(first);
    json_decref(again);
    json_decref(lost);
}

TEST(ctl_status_modes_and_missing_target)
{
    ctl_policy p = pol(CTL_MODE_PAUSED);
    ctl_forecast f = { 0 };
    ctl_observation o = { .target_found = true, .current = 2, .forecast = &f };
    o.decision.replicas = 2;
    o.decision.signal = CTL_SIGNAL_MISSING;
    o.decision.why = "hold";
    json_t *st = ctl_status_build(&p, &o, NULL, NOW);
    CHECK_STR(cs(st, "Paused", "status"), "True");
    CHECK_STR(cs(st, "Scaling", "reason"), "Paused");
    CHECK_STR(cs(st, "SignalLost", "reason"), "ForecastMissing");
    CHECK(json_object_get(st, "velocity") == NULL);
    CHECK(json_object_get(st, "lastScaleTime") == NULL);
    json_decref(st);

    p = pol(CTL_MODE_DRY_RUN);
    st = ctl_status_build(&p, &o, NULL, NOW);
    CHECK_STR(cs(st, "Scaling", "reason"), "DryRun");
    CHECK_STR(cs(st, "Paused", "status"), "False");
    json_decref(st);

    p = pol(CTL_MODE_ACTIVE);
    o.target_found = false;
    o.target_error = "deployments.apps \"web-app\" not found";
    st = ctl_status_build(&p, &o, NULL, NOW);
    CHECK_STR(cs(st, "Ready", "status"), "False");
    CHECK_STR(cs(st, "Ready", "reason"), "TargetUnavailable");
    CHECK(strstr(cs(st, "Ready", "message"), "not found") != NULL);
    CHECK(json_object_get(st, "currentReplicas") == NULL);
    json_decref(st);
}

TEST(ctl_event_names_the_change)
{
    ctl_policy p = pol(CTL_MODE_ACTIVE);
    json_t *ev = ctl_event_build(&p, 2, 5, "predicted", NOW);
    REQUIRE(ev != NULL);
    CHECK_STR(json_string_value(json_object_get(ev, "reason")), "ScaledUp");
    CHECK_STR(json_string_value(json_object_get(ev, "message")),
              "Deployment web-app scaled from 2 to 5: predicted");
    const json_t *io = json_object_get(ev, "involvedObject");
    CHECK_STR(json_string_value(json_object_get(io, "kind")), "LaunchPolicy");
    CHECK_STR(json_string_value(json_object_get(io, "uid")), "u-1");
    CHECK_STR(json_string_value(json_object_get(json_object_get(ev, "metadata"), "generateName")),
              "web.");
    json_decref(ev);
    ev = ctl_event_build(&p, 5, 2, "min", NOW);
    CHECK_STR(json_string_value(json_object_get(ev, "reason")), "ScaledDown");
    json_decref(ev);
}
