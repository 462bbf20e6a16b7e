/*
 * service_int.h — the sidecar service's state, shared by service.c (wiring,
 * drain), proxy.c (the request path) and admin.c (the admin port). Not a
 * public interface.
 */
#ifndef LIFTOFF_SIDECAR_SERVICE_INT_H
#define LIFTOFF_SIDECAR_SERVICE_INT_H

#include "ev.h"
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
    double factor;
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
    metrics_counter *upstream_err[3];           /* connect, timeout, other */
    metrics_histogram *latency;
    metrics_gauge *g_inflight, *g_limit, *g_queued, *g_factor;
};

/* proxy.c: the proxy listener's handler. */
void sidecar_proxy_handle(http_req *r, void *arg);
/* admin.c: the admin listener's handler. */
void sidecar_admin_handle(http_req *r, void *arg);

#endif
