/*
 * service_int.h — the sidecar service's state, shared by service.c (wiring,
 * drain), proxy.c (the request path) and admin.c (the admin port). Not a
 * public interface.
 */
#ifndef LIFTOFF_SIDECAR_SERVICE_INT_H
#define LIFTOFF_SIDECAR_SERVICE_INT_H

#include "cache.h"
#include "coalesce.h"
#include "ev.h"
#include "factor.h"
#include "feed.h"
#include "observed.h"
#include "http_client.h"
#include "http_server.h"
#include "limiter.h"
#include "metrics.h"
#include "rules.h"
#include "service.h"

#define SIDECAR_PIPE_HIGH (256u << 10)  /* queued bytes before the other side pauses */
#define SIDECAR_HEADERS_OUT_MAX 128     /* header fields forwarded upstream */
#define SIDECAR_LINGER_MS 2000          /* after the drain, closing conns may finish */

struct sidecar_service {
    ev_loop *loop;
    sidecar_settings set;
    char *listen_host, *upstream_host, *admin_host, *probe_path;
    sidecar_rules rules;
    sidecar_limiter lim;
    http_server *srv;
    http_server *admin;
    http_client *cl;
    sidecar_factor fac;       /* from Redis (feed.c) or set_factor; see factor.h */
    sidecar_feed *feed;       /* NULL without --redis */
    sidecar_obs obs;          /* for liftoff:observed (feed.c) */
    sidecar_cache *cache;     /* the micro-cache (proxy.c) */
    size_t cache_entry_max;   /* bytes of one entry */
    sidecar_flights flights;  /* fills in progress */
    struct sidecar_refresh *refreshes; /* background refreshes (refresh.c) */
    struct sidecar_tunnel *tunnels;    /* open tunnels after a 101 (tunnel.c) */
    size_t ntunnels;
    bool draining;
    bool upstream_seen;       /* the upstream answered at least once */
    ev_timer drain_timer;
    uint64_t linger_until_ms;
    ev_timer probe_timer;
    http_creq *probe;
    void (*drained)(void *arg);
    void *drained_arg;
    /* metrics */
    metrics_registry *m;
    metrics_counter *req_by_class[6];           /* 1xx..5xx, [0] other */
    metrics_counter *shed[SIDECAR_PRIO_COUNT_][SIDECAR_SHED_REASON_COUNT_];
    metrics_counter *upstream_err[3];           /* kind: connect (anything before the
                                                   response head), timeout, broken */
    metrics_histogram *latency;
    metrics_gauge *g_inflight, *g_limit, *g_queued, *g_factor;
    metrics_gauge *g_cache_bytes, *g_cache_entries, *g_cache_hits, *g_cache_misses,
        *g_cache_fills, *g_cache_waiting;
    metrics_gauge *g_tunnels;
};

/* The load factor in use now (1.0 when none or too old). */
double sidecar_service_factor(const sidecar_service *svc);
/* Replaces the rules (takes over *rules, leaves the defaults in it) and
 * reconfigures the limiter. Requests in flight keep a copy of their rule. */
void sidecar_service_set_rules(sidecar_service *svc, sidecar_rules *rules);

/* proxy.c: wakes the requests waiting on f (each looks in the cache again
 * or goes to the upstream) and ends f. */
void sidecar_proxy_flight_finish(sidecar_service *svc, sidecar_flight *f);

/* refresh.c: fetches key (the request h's GET) from the upstream in the
 * background into the cache, as a single-flight fill (requests missing
 * the key meanwhile wait on it). 0, -EALREADY (a fill for key is on),
 * -EAGAIN (too many fills, or no upstream client). */
int sidecar_refresh_start(sidecar_service *svc, const sidecar_rule *rule,
                          const http_request *h, const char *key, size_t key_len);
/* refresh.c: cancels every background refresh (service teardown). */
void sidecar_refresh_cancel_all(sidecar_service *svc);

/* proxy.c: the proxy listener's handler. */
void sidecar_proxy_handle(http_req *r, void *arg);
/* admin.c: the admin listener's handler. */
void sidecar_admin_handle(http_req *r, void *arg);

#endif
