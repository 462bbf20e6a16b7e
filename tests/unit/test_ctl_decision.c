/* test_ctl_decision.c — forecast parsing (channel JSON and hash fields)
 * and the controller's decision: clamps and the fail-safe on a lost
 * signal. */
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
    uint64_t lost = 0;
    ctl_decision d;
    ctl_forecast f = fresh(5, NOW - 1000);
    ctl_decide(&p, &f, 3, -1, NOW, STALE, HOLD, &lost, &d);
    CHECK_INT(d.replicas, 5);
    CHECK_INT(d.signal, CTL_SIGNAL_OK);
    CHECK_STR(d.why, "predicted");
    f = fresh(50, NOW);
    ctl_decide(&p, &f, 3, -1, NOW, STALE, HOLD, &lost, &d);
    CHECK_INT(d.replicas, 8);
    f = fresh(0, NOW);
    ctl_decide(&p, &f, 3, -1, NOW, STALE, HOLD, &lost, &d);
    CHECK_INT(d.replicas, 2);
    /* a forecast from a clock slightly ahead is fresh */
    f = fresh(4, NOW + 500);
    ctl_decide(&p, &f, 3, -1, NOW, STALE, HOLD, &lost, &d);
    CHECK_INT(d.replicas, 4);
    CHECK_INT(lost, 0);
}

TEST(ctl_decide_stale_holds_then_falls_back_without_scaling_down)
{
    ctl_policy p = pol(2, 8);
    uint64_t lost = 0;
    ctl_decision d;
    ctl_forecast f = fresh(1, NOW - STALE - 1);   /* stale, asks for fewer */
    ctl_decide(&p, &f, 6, -1, NOW, STALE, HOLD, &lost, &d);
    CHECK_INT(d.signal, CTL_SIGNAL_STALE);
    CHECK(d.holding);
    CHECK_INT(d.replicas, 6);
    CHECK_INT(lost, NOW);
    CHECK_STR(d.why, "hold");
    ctl_decide(&p, &f, 6, -1, NOW + HOLD - 1, STALE, HOLD, &lost, &d);
    CHECK(d.holding);
    CHECK_INT(lost, NOW);
    ctl_decide(&p, &f, 6, -1, NOW + HOLD, STALE, HOLD, &lost, &d);
    CHECK(!d.holding);
    CHECK_INT(d.replicas, 6);
    CHECK_STR(d.why, "fallback");
    /* below minReplicas (someone scaled it down): raised to it */
    ctl_decide(&p, &f, 1, -1, NOW + HOLD, STALE, HOLD, &lost, &d);
    CHECK_INT(d.replicas, 2);
    /* above maxReplicas: never more than max */
    ctl_decide(&p, &f, 20, -1, NOW + HOLD, STALE, HOLD, &lost, &d);
    CHECK_INT(d.replicas, 8);
    /* the signal comes back: the memory is cleared */
    f = fresh(3, NOW + HOLD);
    ctl_decide(&p, &f, 6, -1, NOW + HOLD, STALE, HOLD, &lost, &d);
    CHECK_INT(d.signal, CTL_SIGNAL_OK);
    CHECK_INT(d.replicas, 3);
    CHECK_INT(lost, 0);
}

TEST(ctl_decide_missing_forecast)
{
    ctl_policy p = pol(3, 8);
    uint64_t lost = 0;
    ctl_decision d;
    ctl_forecast f;
    memset(&f, 0, sizeof f);
    ctl_decide(&p, &f, 5, -1, NOW, STALE, HOLD, &lost, &d);
    CHECK_INT(d.signal, CTL_SIGNAL_MISSING);
    CHECK_INT(d.replicas, 5);
    CHECK(d.holding);
    CHECK_STR(ctl_signal_name(d.signal), "missing");
    CHECK_STR(ctl_signal_name(CTL_SIGNAL_STALE), "stale");
    /* zero hold: straight to the fallback */
    lost = 0;
    ctl_decide(&p, &f, 0, -1, NOW, STALE, 0, &lost, &d);
    CHECK(!d.holding);
    CHECK_INT(d.replicas, 3);
}

TEST(ctl_decide_after_the_hold_follows_the_reactive_floor)
{
    ctl_policy p = pol(2, 30);
    p.pod_capacity_rps = 100;
    p.headroom_percent = 20;
    uint64_t lost = 0;
    ctl_decision d;
    ctl_forecast f = fresh(25, NOW - STALE - 1);   /* stale */
    /* during the hold the observed rate changes nothing */
    ctl_decide(&p, &f, 20, 450, NOW, STALE, HOLD, &lost, &d);
    CHECK(d.holding);
    CHECK_INT(d.replicas, 20);
    CHECK(!d.reactive);
    /* after it: ceil(450 * 1.2 / 100) = 6, down from 20 */
    ctl_decide(&p, &f, 20, 450, NOW + HOLD, STALE, HOLD, &lost, &d);
    CHECK(!d.holding);
    CHECK(d.reactive);
    CHECK_INT(d.replicas, 6);
    CHECK_STR(d.why, "fallback-reactive");
    /* up as well, to maxReplicas at most */
    ctl_decide(&p, &f, 3, 2400, NOW + HOLD, STALE, HOLD, &lost, &d);
    CHECK_INT(d.replicas, 29);
    ctl_decide(&p, &f, 3, 99999, NOW + HOLD, STALE, HOLD, &lost, &d);
    CHECK_INT(d.replicas, 30);
    /* no traffic: minReplicas */
    ctl_decide(&p, &f, 20, 0, NOW + HOLD, STALE, HOLD, &lost, &d);
    CHECK_INT(d.replicas, 2);
    /* no fresh observation (Redis down, no sidecar): the current count */
    ctl_decide(&p, &f, 20, -1, NOW + HOLD, STALE, HOLD, &lost, &d);
    CHECK_INT(d.replicas, 20);
    CHECK(!d.reactive);
    CHECK_STR(d.why, "fallback");
    /* a fresh forecast wins over the observed rate */
    f = fresh(12, NOW + HOLD);
    ctl_decide(&p, &f, 20, 450, NOW + HOLD, STALE, HOLD, &lost, &d);
    CHECK_INT(d.replicas, 12);
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
