/* admin.c — the controller's admin server and metrics:
 *
 *   GET /healthz  200 while the process runs
 *   GET /readyz   200 once the policies and HPAs are listed and Redis is
 *                 up, on the leader and on followers alike ("ready: leader"
 *                 / "ready: follower"): a follower with warm caches is ready
 *                 to take over, and a rollout must not wait for a Lease
 *   GET /metrics  liftoff_controller_* and process_*
 *
 * The LaunchPolicy watch's counters (restarts, 410s, relists) are copied
 * from the informer at each scrape.
 */
#include <stdio.h>
#include <stdlib.h>

#include "admin_http.h"
#include "common.h"

#include "controller_int.h"


struct ctl_admin {
    admin_http *http;
    ctl *c;
    metrics_counter *watch_restarts, *watch_expired, *relists;
};

/* "ready: leader" / "ready: follower", or "not ready: <why>". */
static bool ready_text(void *arg, char *text, size_t len)
{
    const ctl *c = ((const ctl_admin *)arg)->c;
    const char *why = NULL;
    if (!k8s_informer_synced(c->inf))
        why = "policies not listed";
    else if (c->hpas && !k8s_informer_synced(c->hpas))
        why = "HPAs not listed";
    else if (!rds_is_up(c->cmd))
        why = "redis down";
    if (why)
        snprintf(text, len, "not ready: %s", why);
    else
        snprintf(text, len, "ready: %s", c->leading ? "leader" : "follower");
    return !why;
}

static void register_metrics(ctl *c)
{
    static const double lat[] = { 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1 };
    metrics_registry *reg = metrics_registry_new();
    const char *const *pl = metrics_labels("namespace", "name");
    c->reg = reg;
    c->reconciles = metrics_counter_new(reg, "liftoff_controller_reconciles_total",
                                        "Reconciles started");
    c->errors = metrics_counter_new(reg, "liftoff_controller_errors_total",
                                    "Failed API or Redis requests");
    c->scales = metrics_counter_new(reg, "liftoff_controller_scales_total",
                                    "Scale changes accepted by the API server");
    c->forecasts = metrics_counter_new(reg, "liftoff_controller_forecasts_total",
                                       "Forecast messages received");
    c->redis_writes = metrics_counter_new(reg, "liftoff_controller_policy_writes_total",
                                          "Policy documents written to Redis");
    c->policies = metrics_gauge_new(reg, "liftoff_controller_policies", "Policies followed");
    c->redis_up = metrics_gauge_new(reg, "liftoff_controller_redis_up", "1 while Redis is up");
    c->ready = metrics_gauge_new(reg, "liftoff_controller_synced",
                                 "1 once the policies are listed");
    c->decision_latency = metrics_histogram_new(reg, "liftoff_controller_decision_seconds",
                                                "Time to decide one policy", lat,
                                                LO_ARRAY_SIZE(lat));
    static const double wait[] = { 1e-3, 5e-3, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30 };
    c->queue_wait = metrics_histogram_new(reg, "liftoff_controller_queue_wait_seconds",
                                          "Time a reconcile waited in the queue before it ran",
                                          wait, LO_ARRAY_SIZE(wait));
    c->queue_depth = metrics_gauge_new(reg, "liftoff_controller_queue_depth",
                                       "Reconciles queued or backing off, not running");
    c->in_flight = metrics_gauge_new(reg, "liftoff_controller_reconciles_in_flight",
                                     "Reconciles running (at most --concurrent-reconciles)");
    c->desired = metrics_gauge_family(reg, "liftoff_controller_desired_replicas",
                                      "Replicas the decision asks for", pl);
    c->applied = metrics_gauge_family(reg, "liftoff_controller_applied_replicas",
                                      "Replicas applied to the target (Active mode)", pl);
    metrics_family_set_limit(c->desired, CTL_POLICIES_MAX);
    metrics_family_set_limit(c->applied, CTL_POLICIES_MAX);
    metrics_process_register(reg);
}

/* Mirrors the informer's watch counters (kept by the informer). */
static void collect_watch(metrics_registry *reg, void *arg)
{
    (void)reg;
    ctl_admin *a = arg;
    k8s_informer_stats st;
    if (!a->c->inf)
        return;
    k8s_informer_stats_get(a->c->inf, &st);
    metrics_counter_set(a->watch_restarts, (double)st.watch.restarts);
    metrics_counter_set(a->watch_expired, (double)st.watch.expired);
    metrics_counter_set(a->relists, (double)st.relists);
}

static void register_watch_metrics(ctl_admin *a)
{
    metrics_registry *reg = a->c->reg;
    a->watch_restarts = metrics_counter_new(reg, "liftoff_controller_watch_restarts_total",
                                            "LaunchPolicy watch streams resumed after an end "
                                            "or an error");
    a->watch_expired = metrics_counter_new(reg, "liftoff_controller_watch_expired_total",
                                           "LaunchPolicy watches answered 410 Gone "
                                           "(resourceVersion too old)");
    a->relists = metrics_counter_new(reg, "liftoff_controller_relists_total",
                                     "LaunchPolicy lists after the first one (after a 410)");
    metrics_on_collect(reg, collect_watch, a);
}

int ctl_admin_start(ctl *c, char *err, size_t errlen)
{
    register_metrics(c);
    ctl_admin *a = xcalloc(1, sizeof *a);
    a->c = c;
    const admin_http_routes rt = {
        .metrics = c->reg,
        .ready = ready_text,
        .arg = a,
    };
    int rc = admin_http_start(c->loop, c->set.listen_host, c->set.listen_port, &rt, &a->http,
                              err, errlen);
    if (rc < 0) {
        free(a);
        return rc;
    }
    c->admin = a;
    register_watch_metrics(a);   /* a lives as long as the registry's writes */
    return 0;
}

void ctl_admin_free(ctl_admin *a)
{
    if (!a)
        return;
    admin_http_free(a->http);
    free(a);
}
