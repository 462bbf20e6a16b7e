/*
 * admin.h — the predictor's admin HTTP server and Prometheus metrics:
 *
 *   GET /healthz  200 while the process runs
 *   GET /readyz   200 once Redis is up, the policies are read and every
 *                 window is rebuilt; 503 (with the reason) otherwise
 *   GET /metrics  the registry below plus process_*
 *
 *   liftoff_engagement_velocity{namespace,name}     weighted events/s
 *   liftoff_forecast_eps{namespace,name}            velocity leadSeconds ahead
 *   liftoff_forecast_rps{namespace,name}            predicted request rate
 *   liftoff_scaling_factor{namespace,name}          factor for the sidecars
 *   liftoff_desired_replicas{namespace,name}
 *   liftoff_predictor_events_consumed_total{launch} entries the group handed over
 *   liftoff_predictor_events_applied_total{launch}  entries counted (per policy)
 *   liftoff_predictor_events_skipped_total{launch}  entries already counted
 *   liftoff_predictor_events_invalid_total{launch}  entries without a usable type/ts
 *   liftoff_predictor_events_claimed_total{launch}  pending entries taken over
 *   liftoff_predictor_publish_lag_seconds           XADD to PUBLISH (histogram)
 *   liftoff_predictor_publishes_total{reason}       change | interval | provisional
 *   liftoff_predictor_provisional_forecasts_total   provisional forecasts computed
 *   liftoff_predictor_rebuilds_total, liftoff_predictor_rebuild_entries_total
 *   liftoff_predictor_ticks_total                   seconds forecast
 *   liftoff_predictor_redis_up, liftoff_predictor_ready,
 *   liftoff_predictor_policies                      gauges
 *
 * A policy that goes away keeps its series with the value NaN.
 *
 * Ownership: pred_admin_new() creates the registry and the server;
 * pred_admin_free() frees both.
 */
#ifndef LIFTOFF_PREDICTOR_ADMIN_H
#define LIFTOFF_PREDICTOR_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

#include "ev.h"
#include "metrics.h"

typedef struct pred_metrics {
    metrics_registry *reg;
    metrics_family *velocity, *forecast_eps, *forecast_rps, *factor, *replicas;
    metrics_family *consumed, *applied, *skipped, *invalid, *claimed;
    metrics_histogram *lag;
    metrics_counter *pub_change, *pub_interval, *pub_early, *provisional;
    metrics_counter *rebuilds, *rebuild_entries, *ticks;
    metrics_gauge *redis_up, *ready, *policies;
} pred_metrics;

typedef struct pred_admin pred_admin;

/* Answers readiness: true, or false with a short reason. */
typedef bool pred_ready_fn(void *arg, const char **why);

/* Registers the metrics into m and starts the server: 0 or -errno with err. */
int pred_admin_new(ev_loop *loop, const char *host, int port, pred_metrics *m,
                   pred_ready_fn *ready, void *arg, pred_admin **out, char *err, size_t errlen);
/* The bound port. */
int pred_admin_port(const pred_admin *a);
/* Stops the server and frees the registry. NULL-safe. */
void pred_admin_free(pred_admin *a);

#endif
