/* telemetry.c — liftoff-ingest's metrics on the shared Prometheus registry. */
#include <stdlib.h>
#include "telemetry.h"

#include <stdio.h>
#include <string.h>

#include "common.h"
#include "metrics.h"

#define ROUTES (INGEST_ROUTE_METRICS + 1)
#define TM_TYPE_SLOTS 8 /* event types whose series stay cached, per source */

static const int codes[] = { 200, 202, 204, 400, 401, 403, 404, 405, 408, 413, 415, 429, 500, 503 };
#define NCODES (sizeof(codes) / sizeof(codes[0]))

static const char *const route_names[ROUTES] = {
    [INGEST_ROUTE_NOT_FOUND] = "other", [INGEST_ROUTE_WEBHOOK] = "webhook",
    [INGEST_ROUTE_EVENTS] = "events",   [INGEST_ROUTE_HEALTHZ] = "healthz",
    [INGEST_ROUTE_READYZ] = "readyz",   [INGEST_ROUTE_METRICS] = "metrics",
};

static const double latency_bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                         0.05,   0.1,   0.25,   0.5,   1,    2.5 };

struct ingest_tm {
    metrics_registry *reg;
    metrics_family *requests, *latency, *events, *dups;
    metrics_counter *req_at[ROUTES][NCODES + 1]; /* + other codes */
    metrics_histogram *lat_at[ROUTES];
    metrics_counter *dup_at[2];
    struct tm_type_slot {           /* recent event types' series, per source */
        char type[INGEST_TYPE_MAX + 1];
        metrics_counter *c;
    } ev_at[2][TM_TYPE_SLOTS];
    unsigned ev_next[2];            /* the slot replaced next (round robin) */
    metrics_counter *replays, *sig_failures, *rate_limited, *redis_errors;
    metrics_counter *redis_calls, *redis_call_events;
    metrics_gauge *redis_up, *inflight, *connections;
    ingest_tm_refresh_fn *refresh;
    void *refresh_arg;
};

static void collect(metrics_registry *r, void *arg)
{
    ingest_tm *t = arg;
    ingest_tm_gauges g = { 0 };
    (void)r;
    if (!t->refresh)
        return;
    t->refresh(t->refresh_arg, &g);
    metrics_gauge_set(t->redis_up, g.redis_up ? 1 : 0);
    metrics_gauge_set(t->inflight, (double)g.inflight_events);
    metrics_gauge_set(t->connections, (double)g.connections);
    metrics_counter_set(t->redis_calls, (double)g.redis_calls);
    metrics_counter_set(t->redis_call_events, (double)g.redis_call_events);
}

ingest_tm *ingest_tm_new(ingest_tm_refresh_fn *refresh, void *arg)
{
    ingest_tm *t = xcalloc(1, sizeof(*t));
    metrics_registry *r = t->reg = metrics_registry_new();
    t->refresh = refresh;
    t->refresh_arg = arg;
    t->requests = metrics_counter_family(r, "liftoff_ingest_requests_total",
                                         "HTTP requests answered, by route and status code",
                                         metrics_labels("route", "code"));
    t->latency = metrics_histogram_family(r, "liftoff_ingest_request_duration_seconds",
                                          "Time from a complete request to its answer",
                                          metrics_labels("route"), latency_bounds,
                                          LO_ARRAY_SIZE(latency_bounds));
    t->events = metrics_counter_family(r, "liftoff_ingest_events_total",
                                       "Events appended to the stream, by type and source",
                                       metrics_labels("type", "source"));
    metrics_family_set_limit(t->events, INGEST_TM_TYPES_MAX);
    t->dups = metrics_counter_family(r, "liftoff_ingest_duplicates_total",
                                     "Deliveries of an event already stored",
                                     metrics_labels("source"));
    t->dup_at[INGEST_SRC_WEBHOOK] = metrics_counter_at(t->dups, metrics_labels("webhook"));
    t->dup_at[INGEST_SRC_SITE] = metrics_counter_at(t->dups, metrics_labels("site"));
    t->replays = metrics_counter_new(r, "liftoff_ingest_replays_total",
                                     "Webhooks refused for a timestamp outside the window");
    t->sig_failures = metrics_counter_new(r, "liftoff_ingest_signature_failures_total",
                                          "Webhooks refused for a missing or wrong signature");
    t->rate_limited = metrics_counter_new(r, "liftoff_ingest_rate_limited_total",
                                          "Event batches refused by the per-client rate limit");
    t->redis_errors = metrics_counter_new(r, "liftoff_ingest_redis_errors_total",
                                          "Append calls that failed: Redis down, over the "
                                          "deadline, or an error reply");
    t->redis_calls = metrics_counter_new(r, "liftoff_ingest_redis_calls_total",
                                         "Append script calls sent to Redis");
    t->redis_call_events = metrics_counter_new(r, "liftoff_ingest_redis_call_events_total",
                                               "Events carried by append script calls");
    t->redis_up = metrics_gauge_new(r, "liftoff_ingest_redis_up",
                                    "1 while the Redis connection is up");
    t->inflight = metrics_gauge_new(r, "liftoff_ingest_inflight_events",
                                    "Events waiting for Redis' acknowledgement");
    t->connections = metrics_gauge_new(r, "liftoff_ingest_connections",
                                       "Open client connections");
    metrics_process_register(r);
    metrics_on_collect(r, collect, t);
    return t;
}

void ingest_tm_free(ingest_tm *t)
{
    if (!t)
        return;
    metrics_registry_free(t->reg);
    free(t);
}

void ingest_tm_request(ingest_tm *t, ingest_route_kind route, int code, uint64_t latency_us)
{
    size_t ci = NCODES;
    if ((unsigned)route >= ROUTES)
        route = INGEST_ROUTE_NOT_FOUND;
    for (size_t i = 0; i < NCODES; i++)
        if (codes[i] == code)
            ci = i;
    metrics_counter *c = t->req_at[route][ci];
    if (!c) {
        char code_s[16];
        snprintf(code_s, sizeof(code_s), "%d", code);
        c = metrics_counter_at(t->requests, metrics_labels(route_names[route], code_s));
        if (ci < NCODES)
            t->req_at[route][ci] = c;
    }
    metrics_counter_inc(c);
    if (!t->lat_at[route])
        t->lat_at[route] = metrics_histogram_at(t->latency, metrics_labels(route_names[route]));
    metrics_histogram_observe(t->lat_at[route], (double)latency_us / 1e6);
}

void ingest_tm_event(ingest_tm *t, const char *type, ingest_source src)
{
    unsigned s = src == INGEST_SRC_SITE;
    struct tm_type_slot *slots = t->ev_at[s];
    for (unsigned i = 0; i < TM_TYPE_SLOTS && slots[i].c; i++) {
        if (strcmp(slots[i].type, type) == 0) {
            metrics_counter_inc(slots[i].c);
            return;
        }
    }
    metrics_counter *c =
        metrics_counter_at(t->events, metrics_labels(type, ingest_source_name(src)));
    struct tm_type_slot *slot = &slots[t->ev_next[s]++ % TM_TYPE_SLOTS];
    snprintf(slot->type, sizeof(slot->type), "%s", type);
    slot->c = c;
    metrics_counter_inc(c);
}

void ingest_tm_duplicate(ingest_tm *t, ingest_source src)
{
    metrics_counter_inc(t->dup_at[src == INGEST_SRC_SITE]);
}

void ingest_tm_replay(ingest_tm *t)
{
    metrics_counter_inc(t->replays);
}

void ingest_tm_signature_failure(ingest_tm *t)
{
    metrics_counter_inc(t->sig_failures);
}

void ingest_tm_rate_limited(ingest_tm *t)
{
    metrics_counter_inc(t->rate_limited);
}

void ingest_tm_redis_error(ingest_tm *t)
{
    metrics_counter_inc(t->redis_errors);
}

int ingest_tm_write(ingest_tm *t, buf_t *out)
{
    return metrics_write(t->reg, out);
}
