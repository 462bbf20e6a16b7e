/*
 * admin_http.h — the admin endpoints every liftoff program serves:
 *
 *   GET /healthz  200 "ok"
 *   GET /readyz   200 or 503, the body being the text the ready callback
 *                 wrote, plus a newline
 *   GET /metrics  200 with the registry in the Prometheus text format, or
 *                 500 "metrics too large" when it exceeds metrics_max
 *   other methods 405 with "Allow: GET, HEAD"
 *   other paths   404 "not found"
 *
 * HEAD is answered as GET, without the body. A program with paths of its
 * own gives a route callback: it sees every request first (any method) and
 * either answers it or leaves it to the endpoints above.
 *
 * admin_http_start() runs a small server of its own on host:port;
 * admin_http_handle() answers one request of a server the caller runs.
 *
 * Ownership: the routes are copied; the registry and arg stay the caller's
 * and must outlive the server. admin_http_free() frees the server.
 */
#ifndef LIFTOFF_ADMIN_HTTP_H
#define LIFTOFF_ADMIN_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "ev.h"
#include "http_server.h"
#include "metrics.h"

#define ADMIN_HTTP_METRICS_MAX_DEFAULT (8u << 20)  /* largest /metrics answer, bytes */
#define ADMIN_HTTP_READY_TEXT_MAX 128u             /* /readyz text, NUL included */
#define ADMIN_HTTP_MAX_CONNS 64u                   /* connections admin_http_start takes */

/* Writes the /readyz text (NUL-terminated, no final newline) into text,
 * which holds len bytes; true answers 200, false 503. */
typedef bool admin_http_ready_fn(void *arg, char *text, size_t len);
/* Sees each request first: true once it answered r (or will: it then owns
 * finishing it), false to leave r to the built-in endpoints. */
typedef bool admin_http_route_fn(http_req *r, void *arg);
/* Runs before each /metrics write, e.g. to bring gauges up to date. */
typedef void admin_http_refresh_fn(void *arg);

typedef struct admin_http_routes {
    metrics_registry *metrics;       /* required; written at each /metrics */
    size_t metrics_max;              /* 0: ADMIN_HTTP_METRICS_MAX_DEFAULT */
    admin_http_ready_fn *ready;      /* NULL: always ready, "ready" */
    admin_http_route_fn *route;      /* NULL: no paths of the caller's own */
    admin_http_refresh_fn *refresh;  /* NULL: none */
    void *arg;                       /* passed to the three callbacks */
} admin_http_routes;

typedef struct admin_http admin_http;

/* Answers r with the routes (the handler of a server the caller runs). */
void admin_http_handle(http_req *r, const admin_http_routes *rt);
/* Serves rt on host:port (host NULL or "": every address; port 0:
 * ephemeral): 0, or -errno with err set. */
int admin_http_start(ev_loop *loop, const char *host, int port, const admin_http_routes *rt,
                     admin_http **out, char *err, size_t errlen);
/* The bound port. */
int admin_http_port(const admin_http *a);
/* Closes the server and its connections. NULL-safe. */
void admin_http_free(admin_http *a);

#endif
