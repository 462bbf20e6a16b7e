/* decision.c — forecast parsing, the fail-safe clamp and the fallback's
 * scale-down stabilisation (see decision.h). */
#include "decision.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "forecast_policy.h"

static double num_or(const json_t *v, double def)
{
    return json_is_number(v) ? json_number_value(v) : def;
}

int ctl_forecast_parse_json(const char *msg, size_t len, char *ns, char *name, ctl_forecast *f)
{
    int rc = -EINVAL;
    json_t *o = json_loadb(msg, len, 0, NULL);
    memset(f, 0, sizeof *f);
    if (!json_is_object(o))
        goto out;
    const char *n = json_string_value(json_object_get(o, "namespace"));
    const char *m = json_string_value(json_object_get(o, "name"));
    const json_t *d = json_object_get(o, "desired_replicas");
    const json_t *u = json_object_get(o, "updated_at");
    if (!n || !m || strlen(n) >= CTL_NAME_MAX || strlen(m) >= CTL_NAME_MAX ||
        !json_is_number(d) || !json_is_number(u))
        goto out;
    double dv = json_number_value(d), uv = json_number_value(u);
    if (!(dv >= 0 && dv <= FC_MAX_REPLICAS) || !(uv >= 0))
        goto out;
    snprintf(ns, CTL_NAME_MAX, "%s", n);
    snprintf(name, CTL_NAME_MAX, "%s", m);
    f->have = true;
    f->desired_replicas = (uint32_t)dv;
    f->updated_at_ms = (uint64_t)uv;
    f->eps = num_or(json_object_get(o, "eps"), 0);
    f->predicted_rps = num_or(json_object_get(o, "predicted_rps"), 0);
    f->factor = num_or(json_object_get(o, "factor"), 1);
    const char *why = json_string_value(json_object_get(o, "reason"));
    snprintf(f->reason, sizeof f->reason, "%s", why ? why : "");
    rc = 0;
out:
    json_decref(o);
    return rc;
}

static bool parse_num(const char *s, double *out)
{
    char *end;
    if (!s || !*s)
        return false;
    double v = strtod(s, &end);
    if (*end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

int ctl_forecast_from_fields(const char *const *fields, const char *const *values, size_t n,
                             ctl_forecast *f)
{
    memset(f, 0, sizeof *f);
    f->factor = 1;
    if (n == 0)
        return 0;
    bool have_d = false, have_u = false;
    double v;
    for (size_t i = 0; i < n; i++) {
        const char *k = fields[i], *s = values[i];
        if (strcmp(k, "desired_replicas") == 0 && parse_num(s, &v) && v >= 0 &&
            v <= FC_MAX_REPLICAS) {
            f->desired_replicas = (uint32_t)v;
            have_d = true;
        } else if (strcmp(k, "updated_at") == 0 && parse_num(s, &v) && v >= 0) {
            f->updated_at_ms = (uint64_t)v;
            have_u = true;
        } else if (strcmp(k, "eps") == 0 && parse_num(s, &v)) {
            f->eps = v;
        } else if (strcmp(k, "predicted_rps") == 0 && parse_num(s, &v)) {
            f->predicted_rps = v;
        } else if (strcmp(k, "factor") == 0 && parse_num(s, &v)) {
            f->factor = v;
        } else if (strcmp(k, "reason") == 0) {
            snprintf(f->reason, sizeof f->reason, "%s", s);
        }
    }
    if (!have_d || !have_u) {
        memset(f, 0, sizeof *f);
        return -EINVAL;
    }
    f->have = true;
    return 0;
}

static uint32_t clamp(const ctl_policy *p, uint32_t v)
{
    return v < p->min_replicas ? p->min_replicas : v > p->max_replicas ? p->max_replicas : v;
}

double ctl_observed_rps(const char *const *fields, const char *const *values, size_t n,
                        uint64_t now_ms)
{
    double sum = 0, v;
    unsigned fresh = 0;
    if (n > CTL_OBSERVED_FIELDS_MAX)
        n = CTL_OBSERVED_FIELDS_MAX;
    for (size_t i = 0; i < n; i++) {
        /* "updated_at" (the service) or "updated_at@<pod>": its "rps" twin */
        if (strncmp(fields[i], "updated_at", 10) != 0 ||
            (fields[i][10] != '\0' && fields[i][10] != '@'))
            continue;
        const char *suffix = fields[i] + 10;
        if (!parse_num(values[i], &v) || v < 0 || v > (double)now_ms + CTL_OBSERVED_FRESH_MS ||
            (double)now_ms - v > CTL_OBSERVED_FRESH_MS)
            continue;
        for (size_t j = 0; j < n; j++) {
            double rps;
            if (strncmp(fields[j], "rps", 3) == 0 && strcmp(fields[j] + 3, suffix) == 0 &&
                parse_num(values[j], &rps) && rps >= 0) {
                sum += rps;
                fresh++;
                break;
            }
        }
    }
    return fresh ? sum : -1;
}

uint32_t ctl_reactive_replicas(const ctl_policy *p, double rps)
{
    if (!(rps > 0) || !(p->pod_capacity_rps > 0))
        return 0;
    double r = ceil(rps * (1 + p->headroom_percent / 100) / p->pod_capacity_rps - 1e-9);
    return r >= FC_MAX_REPLICAS ? FC_MAX_REPLICAS : (uint32_t)r;
}

void ctl_memory_free(ctl_memory *m)
{
    if (m->fallback) {
        decide_free(m->fallback);
        free(m->fallback);
    }
    memset(m, 0, sizeof *m);
}

/* The lib/decide.h policy of the fallback: the observed rate's term only
 * (no forecast, no schedule: the defaults), with p's scale-down limits;
 * the caller sets min_replicas. */
static void fallback_policy(const ctl_policy *p, fc_policy *out)
{
    fc_policy_default(out);
    out->pod_capacity_rps = p->pod_capacity_rps;
    out->headroom_percent = p->headroom_percent;
    out->max_replicas = p->max_replicas;
    out->scale_down_stabilization_s = p->scale_down_stabilization_s;
    out->scale_down_forecast_stabilization_s = 0;
    out->scale_down_max_step_percent = p->scale_down_max_step_percent;
    out->scale_down_max_step_pods = p->scale_down_max_step_pods;
    out->scale_down_period_s = p->scale_down_period_s;
}

/* The fallback's windows, sized for fp: allocated when the fallback begins
 * (seeded with keep, the replicas it began with, at now_s), grown when the
 * spec's window grew meanwhile. */
static decide_t *fallback_windows(ctl_memory *m, fc_policy *fp, uint32_t keep, int64_t now_s)
{
    uint32_t window_s = fp->scale_down_stabilization_s; /* within the limit (policy.c) */
    decide_t *d = m->fallback;
    if (d && decide_set_windows(d, window_s, 0) == 0)
        return d;
    d = xcalloc(1, sizeof *d);
    decide_init(d, window_s, 0);   /* cannot fail: window_s is within the limit */
    if (m->fallback) {   /* keep the history in the larger windows */
        decide_copy(d, m->fallback);
        decide_free(m->fallback);
        free(m->fallback);
    } else {   /* what ran when the signal was lost counts as a recommendation */
        decide_output o;
        fp->min_replicas = keep;
        decide_step(d, fp, &(decide_input){ now_s, -1, -1, keep }, &o);
    }
    m->fallback = d;
    return d;
}

void ctl_decide(const ctl_policy *p, const ctl_forecast *f, uint32_t current, double observed_rps,
                uint64_t now_ms, uint64_t stale_ms, uint64_t hold_ms, ctl_memory *m,
                ctl_decision *out)
{
    memset(out, 0, sizeof *out);
    if (!f->have)
        out->signal = CTL_SIGNAL_MISSING;
    else if (now_ms > f->updated_at_ms && now_ms - f->updated_at_ms > stale_ms)
        out->signal = CTL_SIGNAL_STALE;
    else
        out->signal = CTL_SIGNAL_OK;

    if (out->signal == CTL_SIGNAL_OK) {   /* the fallback's memory goes */
        ctl_memory_free(m);
        out->replicas = clamp(p, f->desired_replicas);
        out->why = f->reason[0] ? f->reason : "forecast";
        return;
    }
    if (m->lost_since_ms == 0 || m->lost_since_ms > now_ms)
        m->lost_since_ms = now_ms;
    out->holding = now_ms - m->lost_since_ms < hold_ms;
    if (out->holding) {   /* keep what runs */
        out->replicas = clamp(p, current);
        out->why = "hold";
        return;
    }
    /* The fallback: what the service serves (at least minReplicas) or,
     * blind, what runs (at least minReplicas); down only as decide.h lets. */
    uint32_t keep = clamp(p, current);
    int64_t now_s = (int64_t)(now_ms / 1000);
    fc_policy fp;
    fallback_policy(p, &fp);
    decide_t *d = fallback_windows(m, &fp, keep, now_s);
    out->reactive = observed_rps >= 0;
    decide_output o;
    fp.min_replicas = out->reactive ? p->min_replicas : keep;
    decide_step(d, &fp, &(decide_input){ now_s, -1, out->reactive ? observed_rps : -1, current },
                &o);
    out->replicas = clamp(p, o.replicas);
    out->stabilized = out->replicas > o.raw;
    out->why = !out->reactive ? "fallback" : out->stabilized ? "fallback-stabilized"
                                                             : "fallback-reactive";
}

const char *ctl_signal_name(ctl_signal s)
{
    switch (s) {
    case CTL_SIGNAL_MISSING:
        return "missing";
    case CTL_SIGNAL_STALE:
        return "stale";
    case CTL_SIGNAL_OK:
    default:
        return "ok";
    }
}
