/* reconcile.c — the reconcile queue's driver (workqueue.h: at most
 * --concurrent-reconciles at once, forecasts before resyncs, backoff after
 * failures) and one policy's reconcile: read the Deployment from the cache
 * (target.c), decide, scale (Active), post an Event, write the status (see
 * controller.h). Steps chain through the client's callbacks. */
#include <stddef.h>
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
        p->failed = true;
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
        p->failed = true;
        p->expect_rv[0] = '\0';
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
     * accepted; -1 when no fresh forecast drove this scale (hold, fallback). */
    bool by_forecast = p->fc.have && p->decision.signal == CTL_SIGNAL_OK;
    log_info("controller", "scaled", LF_STR("namespace", p->spec.ns),
             LF_STR("policy", p->spec.name), LF_STR("target", p->spec.target),
             LF_UINT("from", p->current), LF_UINT("to", p->decision.replicas),
             LF_STR("why", p->decision.why),
             LF_INT("since_publish_ms",
                    by_forecast ? (int64_t)now - (int64_t)p->fc.updated_at_ms : -1),
             LF_INT("since_receive_ms",
                    by_forecast && p->fc_recv_wall_ms
                        ? (int64_t)now - (int64_t)p->fc_recv_wall_ms : -1));
    if (ctl_may_write(c)) {
        json_t *ev = ctl_event_build(&p->spec, p->current, p->decision.replicas,
                                     p->decision.why, now);
        k8s_create(c->k8s, &ctl_res_events, p->spec.ns, ev, on_event, NULL);
        json_decref(ev);
    }
    write_status(p);
}

/* Reads the target from the Deployment cache, decides, and scales (or
 * hands over to hpa.c), then writes the status. */
static void run(ctl_pol *p)
{
    ctl *c = p->c;
    ctl_target t;
    p->failed = false;
    p->scaled = false;
    p->target_error[0] = '\0';
    metrics_counter_inc(c->reconciles);
    ctl_target_read(c, p->spec.ns, p->spec.target, &t);
    p->target_found = t.found;
    p->current = t.found ? t.replicas : 0;
    if (!t.found) {
        snprintf(p->target_error, sizeof p->target_error, "deployments.apps \"%.64s\" not found",
                 p->spec.target);
        p->expect_rv[0] = '\0';
    } else if (p->expect_rv[0]) {
        if (strcmp(t.rv, p->expect_rv) == 0)   /* the cache is behind our own PATCH */
            p->current = p->expect_replicas;
        else
            p->expect_rv[0] = '\0';
    }
    uint64_t t0 = lo_mono_us(), now = lo_wall_ms();
    double observed = p->observed_read_ms && now - p->observed_read_ms <= CTL_OBSERVED_FRESH_MS
                          ? p->observed_rps : -1;
    /* Through an HPA its minReplicas stands for the current count (a lost
     * signal holds the floor). Decided once: the fallback's step limit
     * counts decisions. */
    uint32_t basis = p->current;
    if (p->target_found)
        ctl_hpa_basis(p, &basis);
    ctl_decide(&p->spec, &p->fc, basis, observed, now, c->set.stale_ms, c->set.hold_ms, &p->mem,
               &p->decision);
    metrics_histogram_observe(c->decision_latency, (double)(lo_mono_us() - t0) / 1e6);
    ctl_prewarm_check(p, t.found ? t.selector : NULL);
    metrics_gauge_set(metrics_gauge_at(c->desired, metrics_labels(p->spec.ns, p->spec.name)),
                      p->decision.replicas);
    if (p->target_found && ctl_hpa_take(p))   /* an HPA scales it: the floor instead */
        return;
    if (p->target_found && p->spec.mode == CTL_MODE_ACTIVE && ctl_may_write(c) &&
        p->decision.replicas != p->current) {
        /* expected in the cache until it shows a newer version */
        snprintf(p->expect_rv, sizeof p->expect_rv, "%s", t.rv);
        p->expect_replicas = p->decision.replicas;
        if (k8s_set_scale(c->k8s, &ctl_res_deployments, p->spec.ns, p->spec.target,
                          (int32_t)p->decision.replicas, on_scaled, p) == 0)
            return;
        p->expect_rv[0] = '\0';
        p->failed = true;
        metrics_counter_inc(c->errors);
    }
    if (p->target_found && p->spec.mode == CTL_MODE_ACTIVE)
        metrics_gauge_set(metrics_gauge_at(c->applied, metrics_labels(p->spec.ns, p->spec.name)),
                          p->current);
    write_status(p);
}

static void set_queue_gauges(ctl *c)
{
    metrics_gauge_set(c->queue_depth, (double)ctl_wq_depth(&c->wq));
    metrics_gauge_set(c->in_flight, (double)c->wq.running);
}

static void finish(ctl_pol *p)
{
    ctl *c = p->c;
    ctl_wq_done(&c->wq, &p->wq, !p->failed, lo_mono_ms());
    if (p->removed) {
        ctl_wq_remove(&c->wq, &p->wq);
        ctl_pol_free(p);
    }
    ctl_pump(c);
}

void ctl_wq_timer_fired(ev_loop *loop, ev_timer *t, void *arg)
{
    (void)loop;
    (void)t;
    ctl_pump(arg);
}

void ctl_pump(ctl *c)
{
    if (c->pumping || c->closing)
        return;
    if (c->deploys && k8s_informer_synced(c->deploys) && ctl_may_write(c)) {
        c->pumping = true;
        uint64_t now = lo_mono_ms(), waited;
        ctl_wq_item *it;
        ctl_wq_promote(&c->wq, now);
        while ((it = ctl_wq_pop(&c->wq, now, &waited))) {
            metrics_histogram_observe(c->queue_wait, (double)waited / 1e3);
            run((ctl_pol *)((char *)it - offsetof(ctl_pol, wq)));   /* may end at once */
        }
        c->pumping = false;
        uint64_t due = ctl_wq_next_due(&c->wq);
        if (due)
            ev_timer_start(c->loop, &c->wq_timer, due > now ? due - now : 0);
        else
            ev_timer_stop(c->loop, &c->wq_timer);
    }
    set_queue_gauges(c);
}

static void enqueue(ctl_pol *p, ctl_wq_prio prio)
{
    if (p->removed || !ctl_may_write(p->c))   /* followers do not reconcile */
        return;
    ctl_wq_add(&p->c->wq, &p->wq, prio, lo_mono_ms());
    ctl_pump(p->c);
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
    enqueue(p, CTL_WQ_HIGH);
}

void ctl_reconcile_resync(ctl_pol *p)
{
    enqueue(p, CTL_WQ_LOW);
}

void ctl_pol_release(ctl_pol *p)
{
    ctl *c = p->c;
    p->removed = true;
    ctl_index_del(&c->by_name, p->key, p);
    ctl_target_unindex(p);
    if (p->wq.state != CTL_WQ_RUNNING) {
        ctl_wq_remove(&c->wq, &p->wq);
        ctl_pol_free(p);
    }
}
