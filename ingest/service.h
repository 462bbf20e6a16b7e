/*
 * service.h — liftoff-ingest as one object: the HTTP server, the Redis
 * client and the store behind it, the keyring, the CORS list and the rate
 * limiter, all on one loop. main.c fills ingest_settings from the command
 * line and environment and runs the loop.
 *
 * Ownership: ingest_service_new() copies the strings of the settings it
 * keeps; ingest_service_free() frees everything. Not thread-safe.
 */
#ifndef LIFTOFF_INGEST_SERVICE_H
#define LIFTOFF_INGEST_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ev.h"

typedef struct ingest_settings {
    const char *listen_host;      /* NULL or "": any address */
    int listen_port;              /* 0: ephemeral (see ingest_service_port) */
    const char *redis_url;
    const char *secret_file;
    uint64_t secret_reload_ms;    /* re-read the secret file when it changed; 0: never */
    const char *launch;           /* default launch */
    const char *platform;         /* webhook path segment: /v1/webhooks/<platform> */
    const char *sig_header;       /* "X-Producthunt-Signature" */
    const char *sig_prefix;       /* "sha256=" */
    const char *ts_header;        /* checked for replays when present; "" = never */
    uint64_t replay_window_ms;
    size_t body_max;              /* bytes per request body */
    int json_depth_max;
    size_t batch_max;             /* visitor events per request */
    uint64_t stream_maxlen;       /* XADD MAXLEN ~ */
    uint64_t dedupe_ttl_ms;       /* dedupe window */
    uint64_t redis_deadline_ms;   /* slower appends fail with 503 */
    uint64_t retry_after_ms;      /* Retry-After of 503 answers */
    size_t inflight_max;          /* events waiting for Redis; beyond: 503 */
    size_t redis_calls_max;       /* script calls unanswered at once */
    const char *cors_origins;     /* see cors.h */
    double rate_limit;            /* batches per second per client */
    double rate_burst;
    size_t rate_clients;          /* buckets kept */
    bool trust_forwarded_for;     /* client address from X-Forwarded-For */
    uint32_t max_conns;
    uint32_t max_requests_per_conn;
    uint64_t header_timeout_ms;
    uint64_t body_timeout_ms;
    uint64_t idle_timeout_ms;
} ingest_settings;

/* Defaults for every field (the values main.c documents). */
void ingest_settings_defaults(ingest_settings *s);

typedef struct ingest_service ingest_service;

/* Loads the secrets, connects Redis (in the background), listens. 0, or
 * -errno with a reason in err. */
int ingest_service_new(ev_loop *loop, const ingest_settings *s, ingest_service **out, char *err,
                       size_t errlen);
/* The port the HTTP server listens on. */
int ingest_service_port(const ingest_service *svc);
/* Re-reads the secret file now: 0, or -errno (the old secrets stay). */
int ingest_service_reload_secrets(ingest_service *svc);
/* Stops accepting, answers what is in progress (Redis acknowledgements
 * included), then calls done(arg) from the loop. */
void ingest_service_drain(ingest_service *svc, void (*done)(void *arg), void *arg);
/* Frees everything; requests still waiting for Redis are answered 503 by
 * nobody (their connections close). NULL-safe. */
void ingest_service_free(ingest_service *svc);

#endif
