/*
 * service_int.h — the inside of ingest_service, shared by service.c (life
 * cycle) and server.c (request handling). Not for other modules.
 */
#ifndef LIFTOFF_INGEST_SERVICE_INT_H
#define LIFTOFF_INGEST_SERVICE_INT_H

#include <sys/stat.h>

#include "http_server.h"
#include "redis.h"

#include "cors.h"
#include "event.h"
#include "ratelimit.h"
#include "service.h"
#include "signature.h"
#include "store.h"
#include "telemetry.h"

struct ingest_service {
    ev_loop *loop;
    ingest_settings set;          /* string fields point at the copies below */
    char *owned[12];              /* copies of the settings' strings */
    size_t nowned;
    ingest_limits limits;
    ingest_keyring *keys;
    struct stat secret_st;        /* of the file the keyring came from */
    ev_timer reload_timer;
    ingest_cors *cors;
    ingest_rl *rl;
    rds *redis;
    ingest_store *store;
    http_server *http;
    ingest_tm *tm;
    bool draining;
    void (*drain_done)(void *arg);
    void *drain_arg;
};

/* The HTTP handler (server.c); arg is the service. */
void ingest_server_handle(http_req *r, void *arg);

#endif
