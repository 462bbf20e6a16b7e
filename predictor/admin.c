/* admin.c — /healthz, /readyz and /metrics of the predictor, and the
 * registration of its metrics (see admin.h). */
#include "admin.h"

#include <stdio.h>
#include <stdlib.h>

#include "admin_http.h"
#include "common.h"

#include "service.h"

struct pred_admin {
    admin_http *http;
    pred_metrics *m;
    pred_ready_fn *ready;
    void *arg;
};

static const double lag_buckets[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075,
                                      0.1,   0.25,   0.5,   1,    2.5,   5,    10 };

/* "ready", or "not ready: <why>". */
static bool ready_text(void *arg, char *text, size_t len)
{
    pred_admin *a = arg;
    const char *why = "not ready";
    if (a->ready(a->arg, &why)) {
        snprintf(text, len, "ready");
        return true;
    }
    snprintf(text, len, "not ready: %s", why);
    return false;
}

static void register_metrics(pred_metrics *m)
{
    metrics_registry *reg = metrics_registry_new();
    const char *const *pl = metrics_labels("namespace", "name");
    const char *const *ll = metrics_labels("launch");
    m->reg = reg;
    m->velocity = metrics_gauge_family(reg, "liftoff_engagement_velocity",
                                       "Weighted engagement events per second over the window", pl);
    m->forecast_eps = metrics_gauge_family(reg, "liftoff_forecast_eps",
                                           "Engagement velocity expected leadSeconds ahead", pl);
    m->forecast_rps = metrics_gauge_family(reg, "liftoff_forecast_rps",
                                           "Request rate expected leadSeconds ahead", pl);
    m->factor = metrics_gauge_family(reg, "liftoff_scaling_factor",
                                     "Load factor published to the sidecars (>= 1)", pl);
    m->replicas = metrics_gauge_family(reg, "liftoff_desired_replicas",
                                       "Replicas the forecast asks for", pl);
    m->consumed = metrics_counter_family(reg, "liftoff_predictor_events_consumed_total",
                                         "Stream entries handed over by the consumer group", ll);
    m->applied = metrics_counter_family(reg, "liftoff_predictor_events_applied_total",
                                        "Stream entries counted, per policy reading them", ll);
    m->skipped = metrics_counter_family(reg, "liftoff_predictor_events_skipped_total",
                                        "Stream entries already counted (rebuild overlap, "
                                        "redelivery)", ll);
    m->invalid = metrics_counter_family(reg, "liftoff_predictor_events_invalid_total",
                                        "Stream entries without a usable type or ts", ll);
    m->claimed = metrics_counter_family(reg, "liftoff_predictor_events_claimed_total",
                                        "Pending entries taken over from idle consumers", ll);
    metrics_family *per_policy[] = { m->velocity, m->forecast_eps, m->forecast_rps, m->factor,
                                     m->replicas };
    for (size_t i = 0; i < LO_ARRAY_SIZE(per_policy); i++)
        metrics_family_set_limit(per_policy[i], PRED_POLICIES_MAX);
    m->lag = metrics_histogram_new(reg, "liftoff_predictor_publish_lag_seconds",
                                   "From the XADD of the oldest newly applied entry to the "
                                   "PUBLISH that first includes it",
                                   lag_buckets, LO_ARRAY_SIZE(lag_buckets));
    metrics_family *pubs = metrics_counter_family(reg, "liftoff_predictor_publishes_total",
                                                  "Forecasts published", metrics_labels("reason"));
    m->pub_change = metrics_counter_at(pubs, metrics_labels("change"));
    m->pub_interval = metrics_counter_at(pubs, metrics_labels("interval"));
    m->pub_early = metrics_counter_at(pubs, metrics_labels("provisional"));
    m->provisional = metrics_counter_new(reg, "liftoff_predictor_provisional_forecasts_total",
                                         "Provisional forecasts of an incomplete second "
                                         "computed for a burst (published or not)");
    m->rebuilds = metrics_counter_new(reg, "liftoff_predictor_rebuilds_total",
                                      "Windows rebuilt from the stream");
    m->rebuild_entries = metrics_counter_new(reg, "liftoff_predictor_rebuild_entries_total",
                                             "Stream entries replayed by rebuilds");
    m->ticks = metrics_counter_new(reg, "liftoff_predictor_ticks_total",
                                   "Seconds forecast, over all policies");
    m->redis_up = metrics_gauge_new(reg, "liftoff_predictor_redis_up",
                                    "1 while both Redis connections are up");
    m->ready = metrics_gauge_new(reg, "liftoff_predictor_ready", "1 while ready");
    m->policies = metrics_gauge_new(reg, "liftoff_predictor_policies", "Policies followed");
    metrics_process_register(reg);
}

int pred_admin_new(ev_loop *loop, const char *host, int port, pred_metrics *m,
                   pred_ready_fn *ready, void *arg, pred_admin **out, char *err, size_t errlen)
{
    pred_admin *a = xcalloc(1, sizeof *a);
    a->m = m;
    a->ready = ready;
    a->arg = arg;
    register_metrics(m);
    const admin_http_routes rt = {
        .metrics = m->reg,
        .ready = ready_text,
        .arg = a,
    };
    int rc = admin_http_start(loop, host, port, &rt, &a->http, err, errlen);
    if (rc < 0) {
        metrics_registry_free(m->reg);
        m->reg = NULL;
        free(a);
        return rc;
    }
    *out = a;
    return 0;
}

int pred_admin_port(const pred_admin *a)
{
    return admin_http_port(a->http);
}

void pred_admin_free(pred_admin *a)
{
    if (!a)
        return;
    admin_http_free(a->http);
    metrics_registry_free(a->m->reg);
    a->m->reg = NULL;
    free(a);
}
