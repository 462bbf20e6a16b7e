/* status.c — status and Event objects (see status.h). */
#include "status.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void ctl_time_format(uint64_t unix_ms, char out[CTL_TIME_MAX])
{
    time_t t = (time_t)(unix_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, CTL_TIME_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const json_t *prev_condition(const json_t *prev, const char *type)
{
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(prev, "conditions"), i, c)
    {
        const char *t = json_string_value(json_object_get(c, "type"));
        if (t && strcmp(t, type) == 0)
            return c;
    }
    return NULL;
}

static void add_condition(json_t *arr, const json_t *prev, const ctl_policy *p, const char *type,
                          bool status, const char *reason, const char *message, const char *now)
{
    const char *st = status ? "True" : "False";
    const json_t *pc = prev_condition(prev, type);
    const char *since = now;
    const char *ps = json_string_value(json_object_get(pc, "status"));
    const char *pt = json_string_value(json_object_get(pc, "lastTransitionTime"));
    if (ps && pt && strcmp(ps, st) == 0)
        since = pt;
    json_array_append_new(arr, json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "type", type, "status",
                                         st, "observedGeneration", (json_int_t)p->generation,
                                         "lastTransitionTime", since, "reason", reason,
                                         "message", message));
}

json_t *ctl_status_build(const ctl_policy *p, const ctl_observation *o, const json_t *prev,
                         uint64_t now_ms)
{
    char now[CTL_TIME_MAX], msg[1024];
    ctl_time_format(now_ms, now);
    const ctl_decision *d = &o->decision;
    json_t *conds = json_array();

    if (o->target_found && o->hpa) {
        snprintf(msg, sizeof msg,
                 "Deployment %s is reconciled through HorizontalPodAutoscaler %s's minReplicas "
                 "(%s)", p->target, o->hpa, ctl_mode_name(p->mode));
        add_condition(conds, prev, p, "Ready", true, "Reconciled", msg, now);
    } else if (o->target_found) {
        snprintf(msg, sizeof msg, "Deployment %s is reconciled (%s)", p->target,
                 ctl_mode_name(p->mode));
        add_condition(conds, prev, p, "Ready", true, "Reconciled", msg, now);
    } else {
        snprintf(msg, sizeof msg, "cannot read the scale of Deployment %s: %s", p->target,
                 o->target_error ? o->target_error : "unknown error");
        add_condition(conds, prev, p, "Ready", false, "TargetUnavailable", msg, now);
    }

    if (o->hpa && o->hpa_patched) {
        snprintf(msg, sizeof msg, "HorizontalPodAutoscaler %s minReplicas %u -> %u (%s)", o->hpa,
                 o->hpa_min_from, o->hpa_min_to,
                 p->mode == CTL_MODE_ACTIVE ? d->why : ctl_mode_name(p->mode));
        add_condition(conds, prev, p, "Scaling", true,
                      p->mode != CTL_MODE_ACTIVE       ? "FloorRestored"
                      : o->hpa_min_to > o->hpa_min_from ? "FloorRaised"
                                                        : "FloorLowered",
                      msg, now);
    } else if (o->hpa) {
        const char *reason = p->mode == CTL_MODE_PAUSED    ? "Paused"
                             : p->mode == CTL_MODE_DRY_RUN ? "DryRun"
                                                           : "AtDesired";
        snprintf(msg, sizeof msg,
                 "desired floor %u; HorizontalPodAutoscaler %s minReplicas %u; replicas %u "
                 "(scaled by the HPA)",
                 d->replicas, o->hpa, o->hpa_min_from, o->current);
        add_condition(conds, prev, p, "Scaling", false, reason, msg, now);
    } else if (o->scaled) {
        snprintf(msg, sizeof msg, "replicas %u -> %u (%s)", o->current, d->replicas, d->why);
        add_condition(conds, prev, p, "Scaling", true,
                      d->replicas > o->current ? "ScaledUp" : "ScaledDown", msg, now);
    } else {
        const char *reason = p->mode == CTL_MODE_PAUSED    ? "Paused"
                             : p->mode == CTL_MODE_DRY_RUN ? "DryRun"
                             : !o->target_found            ? "TargetUnavailable"
                                                           : "AtDesired";
        snprintf(msg, sizeof msg, "desired %u, current %u", d->replicas, o->current);
        add_condition(conds, prev, p, "Scaling", false, reason, msg, now);
    }

    if (d->signal == CTL_SIGNAL_OK) {
        add_condition(conds, prev, p, "SignalLost", false, "ForecastFresh",
                      "the forecast is fresh", now);
    } else {
        snprintf(msg, sizeof msg, "the forecast is %s: %s", ctl_signal_name(d->signal),
                 d->holding      ? "holding the current replicas"
                 : d->stabilized ? "fell back to the observed request rate, the scale-down "
                                   "stabilized by spec.scaleDown (fallback-stabilized)"
                 : d->reactive   ? "fell back to the observed request rate (fallback-reactive)"
                                 : "fell back to the current replicas, at least minReplicas");
        add_condition(conds, prev, p, "SignalLost", true,
                      d->signal == CTL_SIGNAL_MISSING ? "ForecastMissing" : "ForecastStale", msg,
                      now);
    }

    add_condition(conds, prev, p, "Paused", p->mode == CTL_MODE_PAUSED,
                  p->mode == CTL_MODE_PAUSED ? "Paused" : "NotPaused",
                  p->mode == CTL_MODE_PAUSED ? "spec.mode is Paused: reporting only"
                                             : "spec.mode is not Paused",
                  now);

    json_t *st = json_object();
    json_object_set_new(st, "observedGeneration", json_integer(p->generation));
    json_object_set_new(st, "conditions", conds);
    const ctl_forecast *f = o->forecast;
    if (f && f->have) {
        json_object_set_new(st, "velocity", json_real(f->eps));
        json_object_set_new(st, "forecastRps", json_real(f->predicted_rps));
        json_object_set_new(st, "factor", json_real(f->factor));
    }
    json_object_set_new(st, "desiredReplicas", json_integer(d->replicas));
    if (o->target_found)
        json_object_set_new(st, "currentReplicas",
                            json_integer(o->scaled ? d->replicas : o->current));
    if (o->last_scale_time && *o->last_scale_time)
        json_object_set_new(st, "lastScaleTime", json_string(o->last_scale_time));
    return st;
}

bool ctl_status_same(const json_t *a, const json_t *b)
{
    return a && b && json_equal((json_t *)a, (json_t *)b);
}

bool ctl_status_same_but_gauges(const json_t *a, const json_t *b)
{
    if (!a || !b)
        return false;
    json_t *ca = json_copy((json_t *)a), *cb = json_copy((json_t *)b);
    static const char *const gauges[] = { "velocity", "forecastRps", "factor" };
    for (size_t i = 0; i < sizeof gauges / sizeof gauges[0]; i++) {
        json_object_del(ca, gauges[i]);
        json_object_del(cb, gauges[i]);
    }
    bool same = json_equal(ca, cb);
    json_decref(ca);
    json_decref(cb);
    return same;
}

json_t *ctl_event_build(const ctl_policy *p, uint32_t from, uint32_t to, const char *why,
                        uint64_t now_ms)
{
    char now[CTL_TIME_MAX], prefix[CTL_NAME_MAX + 2], msg[1024];
    ctl_time_format(now_ms, now);
    snprintf(prefix, sizeof prefix, "%.*s.", (int)(CTL_NAME_MAX - 3), p->name);
    snprintf(msg, sizeof msg, "Deployment %s scaled from %u to %u: %s", p->target, from, to, why);
    return json_pack("{s:{s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:s}, s:s, s:s, s:s, s:{s:s},"
                     " s:s, s:s, s:i}",
                     "metadata", "generateName", prefix, "namespace", p->ns,
                     "involvedObject", "apiVersion", "liftoff.dev/v1alpha1", "kind",
                     "LaunchPolicy", "name", p->name, "namespace", p->ns, "uid", p->uid,
                     "reason", to > from ? "ScaledUp" : "ScaledDown", "message", msg,
                     "type", "Normal", "source", "component", "liftoff-controller",
                     "firstTimestamp", now, "lastTimestamp", now, "count", 1);
}
