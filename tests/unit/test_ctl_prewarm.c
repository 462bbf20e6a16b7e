/* test_ctl_prewarm.c — pre-warming's pure parts: the spec with its
 * defaults, when a round is due (schedule window, threshold crossing,
 * once per launch, re-arm after a cooldown below the threshold), which
 * pods take part, the sidecar admin URL (IPv4 and IPv6), how a /warm
 * answer is judged, and the status and Event of a round. */
#include "test.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "controller/prewarm_plan.h"

#define LAUNCH_S 1700000000LL                 /* 2023-11-14T22:13:20Z */
#define LAUNCH_MS (LAUNCH_S * 1000)
#define MIN_MS 60000ULL

static json_t *spec_of(const char *json)
{
    json_t *s = json_loads(json, 0, NULL);
    CHECK(s != NULL);
    return s;
}

static int parse(const char *json, ctl_prewarm_spec *out, char *err, size_t errlen)
{
    json_t *s = json_loads(json, 0, NULL);
    if (!s)
        return -100;
    int rc = ctl_prewarm_spec_parse(s, out, err, errlen);
    json_decref(s);
    return rc;
}

TEST(ctl_prewarm_spec_defaults_and_body)
{
    char err[256] = "";
    ctl_prewarm_spec s;
    REQUIRE(parse("{\"prewarm\":{\"paths\":[\"/launch\",\"/api/p?id=4\"]}}", &s, err,
                  sizeof err) == 0);
    CHECK_INT(s.npaths, 2);
    CHECK_INT(s.admin_port, 9901);
    CHECK(s.threshold_factor == 2.0);
    CHECK_INT(s.timeout_ms, 10000);
    CHECK_INT(s.cooldown_ms, 600000);
    CHECK_INT(s.before_ms, 600000);
    CHECK_INT(s.hold_ms, 1800000);
    CHECK_INT(s.launch_at_ms, 0);
    CHECK_STR(s.body, "{\"host\":\"localhost\",\"paths\":[\"/launch\",\"/api/p?id=4\"]}");
    ctl_prewarm_spec_clear(&s);
    CHECK(s.body == NULL);
}

TEST(ctl_prewarm_spec_reads_every_field)
{
    char err[256] = "";
    ctl_prewarm_spec s;
    REQUIRE(parse("{\"prewarm\":{\"paths\":[\"/a\"],\"adminPort\":9911,\"thresholdFactor\":4.5,"
                  "\"timeoutSeconds\":3,\"cooldownSeconds\":30,\"host\":\"shop.example\"},"
                  "\"schedule\":{\"launchAt\":\"2023-11-14T23:13:20+01:00\","
                  "\"prewarmBefore\":\"1h30m\",\"holdSeconds\":60}}",
                  &s, err, sizeof err) == 0);
    CHECK_INT(s.admin_port, 9911);
    CHECK(s.threshold_factor == 4.5);
    CHECK_INT(s.timeout_ms, 3000);
    CHECK_INT(s.cooldown_ms, 30000);
    CHECK_INT(s.launch_at_ms, LAUNCH_MS);
    CHECK_INT(s.before_ms, 5400000);
    CHECK_INT(s.hold_ms, 60000);
    CHECK_STR(s.body, "{\"host\":\"shop.example\",\"paths\":[\"/a\"]}");
    ctl_prewarm_spec_clear(&s);
}

TEST(ctl_prewarm_spec_without_paths_is_off)
{
    char err[256] = "";
    ctl_prewarm_spec s;
    REQUIRE(parse("{\"schedule\":{\"launchAt\":\"2023-11-14T22:13:20Z\"}}", &s, err,
                  sizeof err) == 0);
    CHECK_INT(s.npaths, 0);
    CHECK(s.body == NULL);
    ctl_prewarm_arm a = { 0 };
    CHECK_INT(ctl_prewarm_due(&s, &a, true, 100, (uint64_t)LAUNCH_MS), CTL_PREWARM_NONE);
    ctl_prewarm_spec_clear(&s);
}

TEST(ctl_prewarm_spec_errors_name_the_field)
{
    static const struct {
        const char *json, *field;
    } cases[] = {
        { "{\"prewarm\":{\"paths\":[\"nope\"]}}", "spec.prewarm.paths" },
        { "{\"prewarm\":{\"paths\":\"/a\"}}", "spec.prewarm.paths" },
        { "{\"prewarm\":{\"adminPort\":0}}", "spec.prewarm.adminPort" },
        { "{\"prewarm\":{\"adminPort\":70000}}", "spec.prewarm.adminPort" },
        { "{\"prewarm\":{\"thresholdFactor\":0.5}}", "spec.prewarm.thresholdFactor" },
        { "{\"prewarm\":{\"timeoutSeconds\":0}}", "spec.prewarm.timeoutSeconds" },
        { "{\"prewarm\":{\"host\":\"\"}}", "spec.prewarm.host" },
        { "{\"schedule\":{\"launchAt\":\"tomorrow\"}}", "spec.schedule.launchAt" },
        { "{\"schedule\":{\"prewarmBefore\":\"ten minutes\"}}", "spec.schedule.prewarmBefore" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "";
        ctl_prewarm_spec s;
        CHECK_INT(parse(cases[i].json, &s, err, sizeof err), -EINVAL);
        CHECK(strstr(err, cases[i].field) != NULL);
        CHECK(s.body == NULL && s.npaths == 0);
    }
}

static ctl_prewarm_spec sched_spec(void)
{
    ctl_prewarm_spec s;
    char err[256];
    json_t *j = spec_of("{\"prewarm\":{\"paths\":[\"/a\"],\"thresholdFactor\":3,"
                        "\"cooldownSeconds\":60},"
                        "\"schedule\":{\"launchAt\":\"2023-11-14T22:13:20Z\","
                        "\"prewarmBefore\":\"10m\",\"holdSeconds\":1800}}");
    int rc = ctl_prewarm_spec_parse(j, &s, err, sizeof err);
    json_decref(j);
    CHECK_INT(rc, 0);
    return s;
}

TEST(ctl_prewarm_schedule_window_once_per_launch)
{
    ctl_prewarm_spec s = sched_spec();
    ctl_prewarm_arm a = { 0 };
    uint64_t at = (uint64_t)LAUNCH_MS;
    /* before launchAt - prewarmBefore: not yet */
    CHECK_INT(ctl_prewarm_due(&s, &a, false, 0, at - 10 * MIN_MS - 1), CTL_PREWARM_NONE);
    /* at it: due */
    CHECK_INT(ctl_prewarm_due(&s, &a, false, 0, at - 10 * MIN_MS), CTL_PREWARM_SCHEDULE);
    ctl_prewarm_fired(&s, &a, CTL_PREWARM_SCHEDULE, false);
    CHECK_INT(a.done_launch_at_ms, LAUNCH_MS);
    /* once per launch: not again, before or after launchAt */
    CHECK_INT(ctl_prewarm_due(&s, &a, false, 0, at - MIN_MS), CTL_PREWARM_NONE);
    CHECK_INT(ctl_prewarm_due(&s, &a, false, 0, at + MIN_MS), CTL_PREWARM_NONE);
    /* a new launchAt re-arms it */
    s.launch_at_ms += 3600000;
    CHECK_INT(ctl_prewarm_due(&s, &a, false, 0, at + 3600000 - 5 * MIN_MS),
              CTL_PREWARM_SCHEDULE);
    ctl_prewarm_spec_clear(&s);
}

TEST(ctl_prewarm_schedule_not_after_the_window)
{
    ctl_prewarm_spec s = sched_spec();
    ctl_prewarm_arm a = { 0 };
    uint64_t at = (uint64_t)LAUNCH_MS;
    /* a controller started during the launch still warms */
    CHECK_INT(ctl_prewarm_due(&s, &a, false, 0, at + 29 * MIN_MS), CTL_PREWARM_SCHEDULE);
    /* one started after launchAt + holdSeconds does not */
    CHECK_INT(ctl_prewarm_due(&s, &a, false, 0, at + 30 * MIN_MS), CTL_PREWARM_NONE);
    ctl_prewarm_spec_clear(&s);
}

TEST(ctl_prewarm_threshold_fires_once_and_rearms_after_cooldown)
{
    ctl_prewarm_spec s = sched_spec();
    s.launch_at_ms = 0;
    ctl_prewarm_arm a = { 0 };
    uint64_t t = (uint64_t)LAUNCH_MS;
    CHECK_INT(ctl_prewarm_due(&s, &a, true, 2.9, t), CTL_PREWARM_NONE);
    /* a stale forecast never triggers, whatever its factor */
    CHECK_INT(ctl_prewarm_due(&s, &a, false, 50, t), CTL_PREWARM_NONE);
    CHECK_INT(ctl_prewarm_due(&s, &a, true, 3.0, t), CTL_PREWARM_THRESHOLD);
    ctl_prewarm_fired(&s, &a, CTL_PREWARM_THRESHOLD, true);
    CHECK_INT(ctl_prewarm_due(&s, &a, true, 9, t + 1000), CTL_PREWARM_NONE);
    /* below, but not for the whole cooldown: an upswing resets the clock */
    CHECK_INT(ctl_prewarm_due(&s, &a, true, 1, t + 2000), CTL_PREWARM_NONE);
    CHECK_INT(ctl_prewarm_due(&s, &a, true, 5, t + 2000 + MIN_MS - 1), CTL_PREWARM_NONE);
    CHECK_INT(ctl_prewarm_due(&s, &a, true, 1, t + 2000 + MIN_MS), CTL_PREWARM_NONE);
    /* stale forecasts neither re-arm nor reset */
    CHECK_INT(ctl_prewarm_due(&s, &a, false, 1, t + 2000 + 3 * MIN_MS), CTL_PREWARM_NONE);
    CHECK(a.threshold_fired);
    /* a full cooldown below the threshold re-arms; the next crossing fires */
    CHECK_INT(ctl_prewarm_due(&s, &a, true, 1, t + 2000 + 2 * MIN_MS), CTL_PREWARM_NONE);
    CHECK(!a.threshold_fired);
    CHECK_INT(ctl_prewarm_due(&s, &a, true, 4, t + 2000 + 2 * MIN_MS + 1),
              CTL_PREWARM_THRESHOLD);
    ctl_prewarm_spec_clear(&s);
}

TEST(ctl_prewarm_schedule_round_uses_up_a_crossing)
{
    ctl_prewarm_spec s = sched_spec();
    ctl_prewarm_arm a = { 0 };
    uint64_t t = (uint64_t)LAUNCH_MS - MIN_MS;
    /* both due: the schedule goes first and counts for the threshold too */
    CHECK_INT(ctl_prewarm_due(&s, &a, true, 10, t), CTL_PREWARM_SCHEDULE);
    ctl_prewarm_fired(&s, &a, CTL_PREWARM_SCHEDULE, true);
    CHECK_INT(ctl_prewarm_due(&s, &a, true, 10, t + 1000), CTL_PREWARM_NONE);
    ctl_prewarm_spec_clear(&s);
}

TEST(ctl_prewarm_arm_restored_from_status)
{
    ctl_prewarm_spec s = sched_spec();
    ctl_prewarm_arm a = { 0 };
    json_t *st = spec_of("{\"lastPrewarm\":{\"trigger\":\"Schedule\","
                         "\"launchAt\":\"2023-11-14T22:13:20Z\"}}");
    ctl_prewarm_arm_from_status(st, &a);
    CHECK_INT(a.done_launch_at_ms, LAUNCH_MS);
    CHECK(!a.threshold_fired);
    CHECK_INT(ctl_prewarm_due(&s, &a, false, 0, (uint64_t)LAUNCH_MS), CTL_PREWARM_NONE);
    json_decref(st);
    st = spec_of("{\"lastPrewarm\":{\"trigger\":\"Threshold\"}}");
    ctl_prewarm_arm b = { 0 };
    ctl_prewarm_arm_from_status(st, &b);
    CHECK(b.threshold_fired);
    json_decref(st);
    ctl_prewarm_arm c = { 0 };
    ctl_prewarm_arm_from_status(NULL, &c);
    CHECK(!c.threshold_fired && c.done_launch_at_ms == 0);
    ctl_prewarm_spec_clear(&s);
}

TEST(ctl_prewarm_pod_ready_needs_ready_ip_and_no_deletion)
{
    const char *ip = NULL;
    json_t *p = spec_of("{\"metadata\":{\"name\":\"a\"},\"status\":{\"podIP\":\"10.1.2.3\","
                        "\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"True\"},"
                        "{\"type\":\"Ready\",\"status\":\"True\"}]}}");
    CHECK(ctl_prewarm_pod_ready(p, &ip));
    CHECK_STR(ip, "10.1.2.3");
    json_decref(p);
    p = spec_of("{\"metadata\":{\"name\":\"a\"},\"status\":{\"podIP\":\"10.1.2.3\","
                "\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}]}}");
    CHECK(!ctl_prewarm_pod_ready(p, &ip));
    json_decref(p);
    p = spec_of("{\"metadata\":{\"name\":\"a\"},\"status\":{"
                "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}");
    CHECK(!ctl_prewarm_pod_ready(p, &ip));
    json_decref(p);
    p = spec_of("{\"metadata\":{\"name\":\"a\",\"deletionTimestamp\":\"2023-11-14T22:13:20Z\"},"
                "\"status\":{\"podIP\":\"10.1.2.3\","
                "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}");
    CHECK(!ctl_prewarm_pod_ready(p, &ip));
    json_decref(p);
}

TEST(ctl_prewarm_url_ipv4_ipv6_and_junk)
{
    char url[CTL_PREWARM_URL_MAX];
    CHECK_INT(ctl_prewarm_url("10.244.1.7", 9901, url, sizeof url), 0);
    CHECK_STR(url, "http://10.244.1.7:9901/warm");
    CHECK_INT(ctl_prewarm_url("fd00:10:244::7", 9901, url, sizeof url), 0);
    CHECK_STR(url, "http://[fd00:10:244::7]:9901/warm");
    CHECK_INT(ctl_prewarm_url("::1", 1, url, sizeof url), 0);
    CHECK_STR(url, "http://[::1]:1/warm");
    CHECK_INT(ctl_prewarm_url("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", 65535, url,
                              sizeof url), 0);
    CHECK_STR(url, "http://[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535/warm");
    CHECK_INT(ctl_prewarm_url("web-0.example", 9901, url, sizeof url), -EINVAL);
    CHECK_INT(ctl_prewarm_url("10.0.0.1/evil", 9901, url, sizeof url), -EINVAL);
    CHECK_INT(ctl_prewarm_url("[::1]", 9901, url, sizeof url), -EINVAL);
    CHECK_INT(ctl_prewarm_url("", 9901, url, sizeof url), -EINVAL);
    CHECK_INT(ctl_prewarm_url("10.0.0.1", 0, url, sizeof url), -EINVAL);
    CHECK_INT(ctl_prewarm_url("10.244.1.7", 9901, url, 10), -EINVAL);
}

TEST(ctl_prewarm_answer_judged_per_path)
{
    char why[128] = "";
    const char *ok = "{\"/a\":\"fetching\",\"/b\":\"already-filling\"}";
    CHECK_INT(ctl_prewarm_answer_ok(200, ok, strlen(ok), why, sizeof why), 0);
    const char *bad = "{\"/a\":\"fetching\",\"/b\":\"no-micro-cache-route\"}";
    CHECK_INT(ctl_prewarm_answer_ok(200, bad, strlen(bad), why, sizeof why), -EPROTO);
    CHECK_STR(why, "/b: no-micro-cache-route");
    CHECK_INT(ctl_prewarm_answer_ok(404, "not found\n", 10, why, sizeof why), -EPROTO);
    CHECK_STR(why, "HTTP 404");
    CHECK_INT(ctl_prewarm_answer_ok(200, "[1]", 3, why, sizeof why), -EPROTO);
    CHECK_INT(ctl_prewarm_answer_ok(200, NULL, 0, why, sizeof why), -EPROTO);
}

static ctl_policy policy(void)
{
    ctl_policy p;
    memset(&p, 0, sizeof p);
    strcpy(p.ns, "shop");
    strcpy(p.name, "web");
    strcpy(p.uid, "u-1");
    strcpy(p.target, "web-app");
    return p;
}

TEST(ctl_prewarm_status_and_events)
{
    ctl_prewarm_result r;
    memset(&r, 0, sizeof r);
    r.have = true;
    r.trigger = CTL_PREWARM_SCHEDULE;
    r.launch_at_ms = LAUNCH_MS;
    r.paths = 2;
    r.pods = 3;
    r.succeeded = 3;
    strcpy(r.time, "2023-11-14T22:03:20Z");
    strcpy(r.message, "Schedule: 2 paths warmed on 3 pods");
    json_t *st = json_object();
    ctl_prewarm_status_put(st, &r);
    const json_t *lp = json_object_get(st, "lastPrewarm");
    CHECK_STR(json_string_value(json_object_get(st, "lastPrewarmTime")), "2023-11-14T22:03:20Z");
    CHECK_STR(json_string_value(json_object_get(lp, "trigger")), "Schedule");
    CHECK_STR(json_string_value(json_object_get(lp, "launchAt")), "2023-11-14T22:13:20Z");
    CHECK_INT(json_integer_value(json_object_get(lp, "pods")), 3);
    CHECK_INT(json_integer_value(json_object_get(lp, "succeeded")), 3);
    CHECK_INT(json_integer_value(json_object_get(lp, "paths")), 2);
    CHECK(json_is_false(json_object_get(lp, "dryRun")));

    ctl_policy p = policy();
    json_t *ev = ctl_prewarm_event_build(&p, &r, (uint64_t)LAUNCH_MS);
    CHECK_STR(json_string_value(json_object_get(ev, "reason")), "Prewarmed");
    CHECK_STR(json_string_value(json_object_get(ev, "type")), "Normal");
    CHECK_STR(json_string_value(json_object_get(json_object_get(ev, "involvedObject"), "uid")),
              "u-1");
    json_decref(ev);
    r.failed = 1;
    r.succeeded = 2;
    ev = ctl_prewarm_event_build(&p, &r, (uint64_t)LAUNCH_MS);
    CHECK_STR(json_string_value(json_object_get(ev, "reason")), "PrewarmFailed");
    CHECK_STR(json_string_value(json_object_get(ev, "type")), "Warning");
    json_decref(ev);
    r.dry_run = true;
    ev = ctl_prewarm_event_build(&p, &r, (uint64_t)LAUNCH_MS);
    CHECK_STR(json_string_value(json_object_get(ev, "reason")), "PrewarmDryRun");
    json_decref(ev);

    /* a DryRun report keeps the last real round's time */
    json_t *fresh = json_object();
    ctl_prewarm_status_put(fresh, &r);
    CHECK(json_object_get(fresh, "lastPrewarmTime") == NULL);
    ctl_prewarm_status_keep(fresh, st);
    CHECK_STR(json_string_value(json_object_get(fresh, "lastPrewarmTime")),
              "2023-11-14T22:03:20Z");
    CHECK(json_is_true(json_object_get(json_object_get(fresh, "lastPrewarm"), "dryRun")));
    json_decref(fresh);
    json_decref(st);
}
