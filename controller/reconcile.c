/* reconcile.c — one policy's reconcile: read the Deployment's scale,
 * decide, scale (Active), post an Event, write the status (see
 * controller.h). Steps chain through the client's callbacks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "log.h"

#include "controller_int.h"
#include "prewarm.h"

static void finish(ctl_pol *p);

static void on_status(const k8s_response *r, void *arg)
{
    ctl_pol *p = arg;
    if (r->rc < 0 && r->rc != K8S_ENOTFOUND) {
        metrics_counter_inc(p->c->errors);
        log_warn("controller", "status write failed", LF_STR("policy", p->spec.name),
                 LF_STR("namespace", p->spec.ns), LF_STR("reason", r->message));
    }
    finish(p);
}

static void write_status(ctl_pol *p)
{
    ctl *c = p->c;
    if (!ctl_may_write(c)) {   /* no longer the leader */
        finish(p);
        return;
    }
    const json_t *obj = k8s_informer_get(c->inf, p->spec.ns, p->spec.name);
    const json_t *prev = json_object_get(obj, "status");
    ctl_observation o = {
        .target_found = p->target_found,
        .target_error = p->target_error,
        .current = p->current,
        .decision = p->decision,
        .forecast = &p->fc,
        .scaled = p->scaled,
        .last_scale_time = p->last_scale_time[0] ? p->last_scale_time
                           : json_string_value(json_object_get(prev, "lastScaleTime")),
        .hpa = p->hpa[0] ? p->hpa : NULL,
        .hpa_min_from = p->hpa_min_from,
        .hpa_min_to = p->hpa_min_to,
        .hpa_patched = p->hpa_patched,
    };
    json_t *st = ctl_status_build(&p->spec, &o, prev, lo_wall_ms());
    ctl_prewarm_status(p, st, prev);
    uint64_t now = lo_mono_ms();
    if (ctl_status_same(st, prev) ||
        (ctl_status_same_but_gauges(st, prev) &&
         now - p->status_written_ms < CTL_STATUS_GAUGE_INTERVAL_MS)) {
        json_decref(st);
        finish(p);
        return;
    }
    p->status_written_ms = now;
    json_t *patch = json_pack("{s:o}", "status", st);
    if (k8s_patch(c->k8s, &ctl_res_policies, p->spec.ns, p->spec.name, "status", K8S_PATCH_MERGE,
                  patch, on_status, p) < 0)
        finish(p);
    json_decref(patch);
}

static void on_event(const k8s_response *r, void *arg)
{
    (void)arg;
    if (r->rc < 0)
        log_warn("controller", "event not posted", LF_STR("reason", r->message));
}

static void on_scaled(const k8s_response *r, void *arg)
{
    ctl_pol *p = arg;
    ctl *c = p->c;
    if (p->removed) {
        finish(p);
        return;
    }
    if (r->rc < 0) {
        metrics_counter_inc(c->errors);
        log_warn("controller", "scale failed", LF_STR("policy", p->spec.name),
                 LF_STR("namespace", p->spec.ns), LF_STR("reason", r->message));
        write_status(p);
        return;
    }
    uint64_t now = lo_wall_ms();
    p->scaled = true;
    ctl_time_format(now, p->last_scale_time);
    metrics_counter_inc(c->scales);
    metrics_gauge_set(metrics_gauge_at(c->applied, metrics_labels(p->spec.ns, p->spec.name)),
                      p->decision.replicas);
    /* The latency the e2e test reports: from the predictor's publish
     * (updated_at) and from this process receiving it, to the PATCH
     * accepted. */
    log_info("controller", "scaled", LF_STR("namespace", p->spec.ns),
             LF_STR("policy", p->spec.name), LF_STR("target", p->spec.target),
             LF_UINT("from", p->current), LF_UINT("to", p->decision.replicas),
             LF_STR("why", p->decision.why),
             LF_INT("since_publish_ms",
                    p->fc.have ? (int64_t)now - (int64_t)p->fc.updated_at_ms : -1),
             LF_INT("since_receive_ms",
                    p->fc_recv_wall_ms ? (int64_t)now - (int64_t)p->fc_recv_wall_ms : -1));
    if (ctl_may_write(c)) {
        json_t *ev = ctl_event_build(&p->spec, p->current, p->decision.replicas,
                                     p->decision.why, now);
        k8s_create(c->k8s, &ctl_res_events, p->spec.ns, ev, on_event, NULL);
        json_decref(ev);
    }
    write_status(p);
}

static void on_scale_read(const k8s_response *r, void *arg)
{
    ctl_pol *p = arg;
    ctl *c = p->c;
    if (p->removed) {
        finish(p);
        return;
    }
    uint64_t t0 = lo_mono_us();
    p->target_found = r->rc == 0;
    p->current = 0;
    if (r->rc == 0) {
        const json_t *rep = json_object_get(json_object_get(r->body, "spec"), "replicas");
        p->current = json_is_integer(rep) ? (uint32_t)json_integer_value(rep) : 0;
    } else {
        snprintf(p->target_error, sizeof p->target_error, "%s", r->message);
    }
    ctl_decide(&p->spec, &p->fc, p->current, lo_wall_ms(), c->set.stale_ms, c->set.hold_ms,
               &p->lost_since_ms, &p->decision);
    metrics_histogram_observe(c->decision_latency, (double)(lo_mono_us() - t0) / 1e6);
    ctl_prewarm_check(p, r->rc == 0 ? r->body : NULL);
    metrics_gauge_set(metrics_gauge_at(c->desired, metrics_labels(p->spec.ns, p->spec.name)),
                      p->decision.replicas);
    if (p->target_found && ctl_hpa_take(p))   /* an HPA scales it: the floor instead */
        return;
    if (p->target_found && p->spec.mode == CTL_MODE_ACTIVE && ctl_may_write(c) &&
        p->decision.replicas != p->current) {
        if (k8s_set_scale(c->k8s, &ctl_res_deployments, p->spec.ns, p->spec.target,
                          (int32_t)p->decision.replicas, on_scaled, p) == 0)
            return;
        metrics_counter_inc(c->errors);
    }
    if (p->target_found && p->spec.mode == CTL_MODE_ACTIVE)
        metrics_gauge_set(metrics_gauge_at(c->applied, metrics_labels(p->spec.ns, p->spec.name)),
                          p->current);
    write_status(p);
}

static void start(ctl_pol *p)
{
    p->busy = true;
    p->dirty = false;
    p->scaled = false;
    p->target_error[0] = '\0';
    metrics_counter_inc(p->c->reconciles);
    if (k8s_get_scale(p->c->k8s, &ctl_res_deployments, p->spec.ns, p->spec.target, on_scale_read,
                      p) < 0) {
        metrics_counter_inc(p->c->errors);
        p->busy = false;
    }
}

static void finish(ctl_pol *p)
{
    p->busy = false;
    if (p->removed) {
        ctl_pol_free(p);
        return;
    }
    if (p->dirty && ctl_may_write(p->c))
        start(p);
}

void ctl_reconcile_report(ctl_pol *p)
{
    write_status(p);
}

void ctl_reconcile_end(ctl_pol *p)
{
    finish(p);
}

void ctl_reconcile(ctl_pol *p)
{
    if (p->removed || !ctl_may_write(p->c))   /* followers do not reconcile */
        return;
    if (p->busy)
        p->dirty = true;
    else
        start(p);
}

void ctl_pol_release(ctl_pol *p)
{
    p->removed = true;
    if (!p->busy)
        ctl_pol_free(p);
}
