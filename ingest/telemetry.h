/*
 * telemetry.h — the Prometheus metrics of liftoff-ingest:
 *
 *   liftoff_ingest_requests_total{route,code}
 *   liftoff_ingest_request_duration_seconds{route}   histogram
 *   liftoff_ingest_events_total{type,source}         events stored
 *   liftoff_ingest_duplicates_total{source}          duplicate deliveries
 *   liftoff_ingest_replays_total                     stale/future timestamps
 *   liftoff_ingest_signature_failures_total
 *   liftoff_ingest_rate_limited_total
 *   liftoff_ingest_redis_errors_total                failed appends (down,
 *                                                    deadline, error reply)
 *   liftoff_ingest_redis_up, liftoff_ingest_inflight_events,
 *   liftoff_ingest_connections                       gauges
 *   liftoff_ingest_redis_calls_total, liftoff_ingest_redis_call_events_total
 *                                                    batching effectiveness
 *   process_*                                        (metrics_process_register)
 *
 * Series pointers are looked up once and cached, so recording is a few
 * adds. Event types come from senders: the family is capped at
 * INGEST_TM_TYPES_MAX series (the rest count as "overflow").
 *
 * Ownership: ingest_tm_new() makes its own registry; ingest_tm_free()
 * frees it.
 */
#ifndef LIFTOFF_INGEST_TELEMETRY_H
#define LIFTOFF_INGEST_TELEMETRY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "event.h"
#include "route.h"

#define INGEST_TM_TYPES_MAX 200

typedef struct ingest_tm ingest_tm;

/* Gauges and mirrored counters refreshed at each scrape. */
typedef struct ingest_tm_gauges {
    bool redis_up;
    size_t inflight_events;
    size_t connections;
    uint64_t redis_calls;
    uint64_t redis_call_events;
} ingest_tm_gauges;
typedef void ingest_tm_refresh_fn(void *arg, ingest_tm_gauges *g);

/* A registry with every family above; refresh(arg, ...) fills the gauges
 * at each scrape (may be NULL). */
ingest_tm *ingest_tm_new(ingest_tm_refresh_fn *refresh, void *arg);
/* Frees the registry. NULL-safe. */
void ingest_tm_free(ingest_tm *t);

/* One answered request: route, status code, latency in microseconds. */
void ingest_tm_request(ingest_tm *t, ingest_route_kind route, int code, uint64_t latency_us);
/* One stored event. */
void ingest_tm_event(ingest_tm *t, const char *type, ingest_source src);
/* One delivery of an event stored before. */
void ingest_tm_duplicate(ingest_tm *t, ingest_source src);
/* One webhook refused for its timestamp. */
void ingest_tm_replay(ingest_tm *t);
/* One webhook refused for its signature. */
void ingest_tm_signature_failure(ingest_tm *t);
/* One batch refused by the rate limit. */
void ingest_tm_rate_limited(ingest_tm *t);
/* One failed append (a whole call, or an event Redis refused). */
void ingest_tm_redis_error(ingest_tm *t);

/* The exposition text appended to out: 0 or -ENOBUFS. */
int ingest_tm_write(ingest_tm *t, buf_t *out);

#endif
