/* prewarm_plan.c — pre-warm spec, triggers, pods, URLs, answers, status
 * and Events (see prewarm_plan.h). */
#include "prewarm_plan.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forecast_policy.h"

static int fail(ctl_prewarm_spec *out, char *err, size_t errlen, const char *why)
{
    ctl_prewarm_spec_clear(out);
    snprintf(err, errlen, "%s", why);
    return -EINVAL;
}

/* An optional integer field within [lo, hi] (default def). */
static int read_int(const json_t *o, const char *field, int64_t lo, int64_t hi, int64_t def,
                    int64_t *out)
{
    const json_t *v = json_object_get(o, field);
    if (!v) {
        *out = def;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return -EINVAL;
    *out = (int64_t)json_integer_value(v);
    return 0;
}

/* Seconds from an integer or a duration string ("90s", "10m"). */
static int read_seconds(const json_t *o, const char *field, uint64_t def_s, uint64_t *out_ms)
{
    const json_t *v = json_object_get(o, field);
    uint32_t s;
    if (!v) {
        *out_ms = def_s * 1000;
        return 0;
    }
    if (json_is_integer(v) && json_integer_value(v) >= 0 &&
        json_integer_value(v) <= 7 * 86400) {
        *out_ms = (uint64_t)json_integer_value(v) * 1000;
        return 0;
    }
    if (json_is_string(v) && fc_parse_duration(json_string_value(v), &s) == 0) {
        *out_ms = (uint64_t)s * 1000;
        return 0;
    }
    return -EINVAL;
}

int ctl_prewarm_spec_parse(const json_t *spec, ctl_prewarm_spec *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->threshold_factor = CTL_PREWARM_DEFAULT_THRESHOLD;
    out->timeout_ms = CTL_PREWARM_DEFAULT_TIMEOUT_MS;
    out->cooldown_ms = CTL_PREWARM_DEFAULT_COOLDOWN_MS;
    out->admin_port = CTL_PREWARM_DEFAULT_PORT;
    out->before_ms = CTL_PREWARM_DEFAULT_BEFORE_MS;
    out->hold_ms = CTL_PREWARM_DEFAULT_HOLD_MS;
    const json_t *pw = json_object_get(spec, "prewarm");
    const json_t *sched = json_object_get(spec, "schedule");
    if (pw && !json_is_object(pw))
        return fail(out, err, errlen, "spec.prewarm must be an object");
    if (sched && !json_is_object(sched))
        return fail(out, err, errlen, "spec.schedule must be an object");

    int64_t v;
    if (read_int(pw, "adminPort", 1, 65535, CTL_PREWARM_DEFAULT_PORT, &v) < 0)
        return fail(out, err, errlen, "spec.prewarm.adminPort must be an integer in 1..65535");
    out->admin_port = (uint16_t)v;
    if (read_int(pw, "timeoutSeconds", 1, 300, CTL_PREWARM_DEFAULT_TIMEOUT_MS / 1000, &v) < 0)
        return fail(out, err, errlen, "spec.prewarm.timeoutSeconds must be an integer in 1..300");
    out->timeout_ms = (uint64_t)v * 1000;
    if (read_int(pw, "cooldownSeconds", 0, 86400, CTL_PREWARM_DEFAULT_COOLDOWN_MS / 1000, &v) < 0)
        return fail(out, err, errlen,
                    "spec.prewarm.cooldownSeconds must be an integer in 0..86400");
    out->cooldown_ms = (uint64_t)v * 1000;
    const json_t *thr = json_object_get(pw, "thresholdFactor");
    if (thr) {
        double t = json_is_number(thr) ? json_number_value(thr) : NAN;
        if (!(t >= 1.0 && t <= FC_FACTOR_MAX))
            return fail(out, err, errlen, "spec.prewarm.thresholdFactor must be in 1..1000");
        out->threshold_factor = t;
    }
    const json_t *host = json_object_get(pw, "host");
    const char *h = host ? json_string_value(host) : CTL_PREWARM_DEFAULT_HOST;
    if (!h || !*h || strlen(h) >= CTL_PREWARM_HOST_MAX)
        return fail(out, err, errlen, "spec.prewarm.host must be a host name of 1..255 bytes");

    const json_t *at = json_object_get(sched, "launchAt");
    if (at) {
        int64_t s;
        if (!json_is_string(at) || fc_parse_time(json_string_value(at), &s) < 0 || s <= 0)
            return fail(out, err, errlen, "spec.schedule.launchAt must be an RFC 3339 time");
        out->launch_at_ms = s * 1000;
    }
    if (read_seconds(sched, "prewarmBefore", CTL_PREWARM_DEFAULT_BEFORE_MS / 1000,
                     &out->before_ms) < 0)
        return fail(out, err, errlen,
                    "spec.schedule.prewarmBefore must be a duration such as 90s or 10m");
    if (read_seconds(sched, "holdSeconds", CTL_PREWARM_DEFAULT_HOLD_MS / 1000, &out->hold_ms) < 0)
        return fail(out, err, errlen, "spec.schedule.holdSeconds must be seconds in 0..604800");

    const json_t *paths = json_object_get(pw, "paths");
    if (paths && (!json_is_array(paths) || json_array_size(paths) > CTL_PREWARM_PATHS_MAX))
        return fail(out, err, errlen, "spec.prewarm.paths must be a list of at most 64 paths");
    size_t i;
    const json_t *p;
    json_array_foreach(paths, i, p)
    {
        const char *s = json_string_value(p);
        if (!s || s[0] != '/' || strlen(s) > CTL_PREWARM_PATH_MAX)
            return fail(out, err, errlen,
                        "spec.prewarm.paths must all start with '/' (at most 2048 bytes)");
    }
    out->npaths = json_array_size(paths);
    if (out->npaths) {
        json_t *body = json_pack("{s:s, s:O}", "host", h, "paths", paths);
        out->body = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        if (!out->body)
            return fail(out, err, errlen, "spec.prewarm.paths cannot be encoded");
    }
    return 0;
}

void ctl_prewarm_spec_clear(ctl_prewarm_spec *s)
{
    free(s->body);
    memset(s, 0, sizeof *s);
}

ctl_prewarm_trigger ctl_prewarm_due(const ctl_prewarm_spec *s, ctl_prewarm_arm *a, bool fresh,
                                    double factor, uint64_t now_ms)
{
    bool above = fresh && factor >= s->threshold_factor;
    if (a->threshold_fired && fresh) {
        if (above) {
            a->below_since_ms = 0;
        } else {
            if (a->below_since_ms == 0 || a->below_since_ms > now_ms)
                a->below_since_ms = now_ms;
            if (now_ms - a->below_since_ms >= s->cooldown_ms) {
                a->threshold_fired = false;
                a->below_since_ms = 0;
            }
        }
    }
    if (s->npaths == 0)
        return CTL_PREWARM_NONE;
    int64_t now = (int64_t)now_ms, at = s->launch_at_ms;
    if (at > 0 && a->done_launch_at_ms != at && now >= at - (int64_t)s->before_ms &&
        now < at + (int64_t)s->hold_ms)
        return CTL_PREWARM_SCHEDULE;
    if (above && !a->threshold_fired)
        return CTL_PREWARM_THRESHOLD;
    return CTL_PREWARM_NONE;
}

void ctl_prewarm_fired(const ctl_prewarm_spec *s, ctl_prewarm_arm *a, ctl_prewarm_trigger t,
                       bool above)
{
    if (t == CTL_PREWARM_SCHEDULE)
        a->done_launch_at_ms = s->launch_at_ms;
    if (t == CTL_PREWARM_THRESHOLD || above) {
        a->threshold_fired = true;
        a->below_since_ms = 0;
    }
}

void ctl_prewarm_arm_from_status(const json_t *status, ctl_prewarm_arm *a)
{
    const json_t *last = json_object_get(status, "lastPrewarm");
    const char *trig = json_string_value(json_object_get(last, "trigger"));
    const char *at = json_string_value(json_object_get(last, "launchAt"));
    int64_t s;
    if (at && fc_parse_time(at, &s) == 0 && s > 0)
        a->done_launch_at_ms = s * 1000;
    if (trig && strcmp(trig, "Threshold") == 0)
        a->threshold_fired = true;
}

static bool condition_true(const json_t *pod, const char *type)
{
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(json_object_get(pod, "status"), "conditions"), i, c)
    {
        const char *t = json_string_value(json_object_get(c, "type"));
        const char *st = json_string_value(json_object_get(c, "status"));
        if (t && st && strcmp(t, type) == 0)
            return strcmp(st, "True") == 0;
    }
    return false;
}

bool ctl_prewarm_pod_ready(const json_t *pod, const char **ip)
{
    const json_t *meta = json_object_get(pod, "metadata");
    if (json_object_get(meta, "deletionTimestamp") || !condition_true(pod, "Ready"))
        return false;
    const char *s = json_string_value(json_object_get(json_object_get(pod, "status"), "podIP"));
    if (!s || !*s)
        return false;
    *ip = s;
    return true;
}

int ctl_prewarm_url(const char *ip, uint16_t port, char *out, size_t cap)
{
    unsigned char a[16];
    int n;
    if (!ip || port == 0 || strlen(ip) >= CTL_PREWARM_IP_MAX)
        return -EINVAL;
    if (inet_pton(AF_INET, ip, a) == 1)
        n = snprintf(out, cap, "http://%s:%u/warm", ip, (unsigned)port);
    else if (inet_pton(AF_INET6, ip, a) == 1)
        n = snprintf(out, cap, "http://[%s]:%u/warm", ip, (unsigned)port);
    else
        return -EINVAL;
    return n > 0 && (size_t)n < cap ? 0 : -EINVAL;
}

int ctl_prewarm_answer_ok(long status, const char *body, size_t len, char *why, size_t cap)
{
    int rc = -EPROTO;
    json_t *o = NULL;
    if (status != 200) {
        snprintf(why, cap, "HTTP %ld", status);
        goto out;
    }
    o = json_loadb(body ? body : "", len, 0, NULL);
    if (!json_is_object(o)) {
        snprintf(why, cap, "the answer is not a JSON object");
        goto out;
    }
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)o, k, v)
    {
        const char *s = json_string_value(v);
        if (!s || (strcmp(s, "fetching") != 0 && strcmp(s, "already-filling") != 0)) {
            snprintf(why, cap, "%.200s: %.60s", k, s ? s : "?");
            goto out;
        }
    }
    rc = 0;
out:
    json_decref(o);
    return rc;
}

const char *ctl_prewarm_trigger_name(ctl_prewarm_trigger t)
{
    switch (t) {
    case CTL_PREWARM_SCHEDULE:
        return "Schedule";
    case CTL_PREWARM_THRESHOLD:
        return "Threshold";
    case CTL_PREWARM_NONE:
    default:
        return "";
    }
}

void ctl_prewarm_status_put(json_t *status, const ctl_prewarm_result *r)
{
    if (!r->have)
        return;
    if (!r->dry_run)
        json_object_set_new(status, "lastPrewarmTime", json_string(r->time));
    json_t *o = json_pack("{s:s, s:i, s:i, s:i, s:i, s:b, s:s, s:s}", "trigger",
                          ctl_prewarm_trigger_name(r->trigger), "paths", (int)r->paths, "pods",
                          (int)r->pods, "succeeded", (int)r->succeeded, "failed", (int)r->failed,
                          "dryRun", r->dry_run, "time", r->time, "message", r->message);
    if (r->trigger == CTL_PREWARM_SCHEDULE && r->launch_at_ms > 0) {
        char at[CTL_TIME_MAX];
        ctl_time_format((uint64_t)r->launch_at_ms, at);
        json_object_set_new(o, "launchAt", json_string(at));
    }
    json_object_set_new(status, "lastPrewarm", o);
}

void ctl_prewarm_status_keep(json_t *status, const json_t *prev)
{
    static const char *const keys[] = { "lastPrewarmTime", "lastPrewarm" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *v = json_object_get(prev, keys[i]);
        if (v && !json_object_get(status, keys[i]))
            json_object_set(status, keys[i], v);
    }
}

json_t *ctl_prewarm_event_build(const ctl_policy *p, const ctl_prewarm_result *r,
                                uint64_t now_ms)
{
    char now[CTL_TIME_MAX], prefix[CTL_NAME_MAX + 2];
    ctl_time_format(now_ms, now);
    snprintf(prefix, sizeof prefix, "%.*s.", (int)(CTL_NAME_MAX - 3), p->name);
    bool failed = !r->dry_run && (r->failed > 0 || r->succeeded == 0);
    const char *reason = r->dry_run ? "PrewarmDryRun" : failed ? "PrewarmFailed" : "Prewarmed";
    return json_pack("{s:{s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:s}, s:s, s:s, s:s, s:{s:s},"
                     " s:s, s:s, s:i}",
                     "metadata", "generateName", prefix, "namespace", p->ns,
                     "involvedObject", "apiVersion", "liftoff.dev/v1alpha1", "kind",
                     "LaunchPolicy", "name", p->name, "namespace", p->ns, "uid", p->uid,
                     "reason", reason, "message", r->message, "type",
                     failed ? "Warning" : "Normal", "source", "component", "liftoff-controller",
                     "firstTimestamp", now, "lastTimestamp", now, "count", 1);
}
