/*
 * service.h — liftoff-sidecar as one object: the proxy listener, the
 * upstream client pool, the admin listener, the rules, the limiter and the
 * metrics, wired on one loop. main.c builds the settings from options and
 * runs the loop.
 *
 * Drain (SIGTERM): sidecar_service_drain() makes /readyz fail at once,
 * keeps serving for drain_delay_ms (so endpoint removal propagates; every
 * response meanwhile says "Connection: close", so keep-alive clients move
 * on between requests instead of being cut in the middle of one), then
 * closes the listener, lets requests in flight finish and calls done(arg).
 * The grace deadline is the caller's (lifecycle.h).
 *
 * Routes with microCache go through the micro-cache first (proxy.c with
 * cache.h, cacheable.h, coalesce.h, refresh.c): GET (and HEAD answered
 * from GET entries, never filling them), single-flight
 * fills, hit-for-miss markers, stale-while-revalidate with one background
 * refresh per key, stale-if-error (5xx, 502/504, and instead of a 503),
 * Age and Cache-Status; the admin port has POST /purge and POST /warm.
 *
 * Upgrade requests (WebSocket) are forwarded with their Upgrade and
 * Connection fields; a 101 from the upstream turns the exchange into a
 * tunnel (tunnel.h) that holds no concurrency slot once the handshake is
 * done. They never use the micro-cache.
 *
 * With redis_url the service follows the policy in Redis (feed.h): the
 * factor, and the rules, which then replace the ones given here.
 *
 * Ownership: the service copies the settings' strings it keeps and owns
 * the rules given to it (sidecar_service_new takes them over).
 */
#ifndef LIFTOFF_SIDECAR_SERVICE_H
#define LIFTOFF_SIDECAR_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ev.h"
#include "rules.h"

typedef struct sidecar_settings {
    const char *listen_host;          /* NULL / "": all addresses */
    int listen_port;                  /* 0: ephemeral */
    const char *upstream_host;        /* numeric or "localhost" */
    int upstream_port;
    const char *admin_host;           /* NULL: 127.0.0.1; "": every address */
    int admin_port;                   /* 0: ephemeral; < 0: no admin listener */
    uint32_t connect_timeout_ms;      /* upstream TCP connect */
    uint32_t response_timeout_ms;     /* request sent -> upstream head (then 504) */
    uint32_t read_timeout_ms;         /* between upstream body reads */
    uint32_t header_timeout_ms;       /* client request head */
    uint32_t body_timeout_ms;         /* between client body reads */
    uint32_t idle_timeout_ms;         /* client keep-alive idle */
    uint32_t upstream_idle_ms;        /* pooled upstream connection idle */
    unsigned upstream_idle_max;       /* pooled idle upstream connections */
    uint32_t max_conns;               /* client connections */
    uint32_t head_max;                /* request head bytes (431 above) */
    uint64_t body_max;                /* request body bytes (413 above) */
    uint64_t drain_delay_ms;          /* keep serving after SIGTERM */
    const char *probe_path;           /* readiness probe target on the upstream */
    uint32_t probe_interval_ms;
    const char *redis_url;            /* NULL / "": no Redis, factor 1.0 */
    const char *policy;               /* "NS/NAME", required with redis_url */
    uint32_t factor_poll_ms;          /* fallback read of the forecast hash */
    uint32_t policy_resync_ms;        /* fallback read of the policy */
    const char *pod;                  /* reporter name in liftoff:observed; NULL / "": hostname */
    uint32_t observed_interval_ms;    /* liftoff:observed report period; 0: none */
    size_t cache_bytes;               /* micro-cache size; 0: SIDECAR_CACHE_BYTES_DEFAULT */
    size_t cache_entry_bytes;         /* largest cached response; 0: SIDECAR_CACHE_ENTRY_DEFAULT */
    uint32_t tunnel_idle_ms;          /* Upgrade tunnel with no byte either way is closed */
} sidecar_settings;

typedef struct sidecar_service sidecar_service;

/* Defaults for every field (listen 0.0.0.0:8080, upstream 127.0.0.1:8081). */
void sidecar_settings_defaults(sidecar_settings *s);

/* Starts listening. Takes over *rules (leaves the defaults in it). 0 or
 * -errno with a reason in err. */
int sidecar_service_new(ev_loop *loop, const sidecar_settings *s, sidecar_rules *rules,
                        sidecar_service **out, char *err, size_t errlen);
/* The bound proxy / admin ports. */
int sidecar_service_port(const sidecar_service *svc);
int sidecar_service_admin_port(const sidecar_service *svc);
/* Sets the load factor as if it had just come from the predictor (it
 * decays like one after factorMaxAgeSeconds). */
void sidecar_service_set_factor(sidecar_service *svc, double factor);
/* Starts the drain described above; done runs once, from the loop. */
void sidecar_service_drain(sidecar_service *svc, void (*done)(void *arg), void *arg);
/* Frees everything. NULL-safe. */
void sidecar_service_free(sidecar_service *svc);

#endif
