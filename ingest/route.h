/*
 * route.h — which endpoint a request path names, and the small header
 * rules of the ingest API. Pure functions.
 *
 *   /v1/webhooks/<platform>[/<launch>]   signed webhook (platform configured)
 *   /v1/events[/<launch>]                visitor-event batch
 *   /healthz  /readyz  /metrics
 *
 * A query string is ignored; a trailing slash is not accepted; a launch
 * name must satisfy launch_name_valid() or the path is not found.
 */
#ifndef LIFTOFF_INGEST_ROUTE_H
#define LIFTOFF_INGEST_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "append_script.h"
#include "launch_name.h"

typedef enum ingest_route_kind {
    INGEST_ROUTE_NOT_FOUND = 0,
    INGEST_ROUTE_WEBHOOK,
    INGEST_ROUTE_EVENTS,
    INGEST_ROUTE_HEALTHZ,
    INGEST_ROUTE_READYZ,
    INGEST_ROUTE_METRICS,
} ingest_route_kind;

typedef struct ingest_route {
    ingest_route_kind kind;
    char launch[LAUNCH_NAME_MAX + 1]; /* webhook and events: the launch */
} ingest_route;

/* Matches path (len bytes, query allowed) for the webhook platform name;
 * default_launch is used when the path names none. Returns the kind (also
 * stored in out->kind). */
ingest_route_kind ingest_route_match(const char *path, size_t len, const char *platform,
                                     const char *default_launch, ingest_route *out);

/* Whether a Content-Type value is application/json (any case, parameters
 * such as charset=utf-8 allowed). */
bool ingest_content_type_is_json(const char *v, size_t len);

/* The client address for rate limiting: the last entry of X-Forwarded-For
 * (xff may be NULL) when trusted, else the peer's "ip:port" / "[ip]:port".
 * Writes the bare address into out. 0 or -EINVAL. */
int ingest_client_addr(const char *peer, const char *xff, size_t xff_len, bool trust_xff,
                       char *out, size_t outlen);

#endif
