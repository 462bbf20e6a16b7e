/*
 * redis_fixture.h — the set-up most Redis client integration tests share: a
 * redis-server peer, an event loop, and one client connected to the peer
 * and up.
 *
 * rfx_stop() frees the client, the loop and the peer. A test that frees
 * the client itself (or replaces it) keeps f->r current: NULL once freed.
 */
#ifndef LIFTOFF_TEST_REDIS_FIXTURE_H
#define LIFTOFF_TEST_REDIS_FIXTURE_H

#include <stdbool.h>

#include "ev.h"
#include "peers.h"
#include "redis.h"

typedef struct rfx {
    peer *p;        /* redis-server */
    ev_loop *loop;
    rds *r;         /* the client, or NULL */
} rfx;

/* Starts redis-server (extra_conf as for peer_redis_start(); may be NULL),
 * a loop, and a client with opts (NULL: defaults) on
 * redis://<host>:<port> (host NULL: "127.0.0.1"; it may start with
 * "user:password@"), and waits until the client is up. false if any of it
 * failed (the reason is printed); what did start is in f for rfx_stop(). */
bool rfx_start(rfx *f, const char *extra_conf, const rds_opts *opts, const char *host);

/* Frees the client (if any), the loop and the peer. */
void rfx_stop(rfx *f);

#endif
