/*
 * predictor_fixture.h — the set-up the predictor integration tests share: a
 * redis-server peer with a blocking connection for the test's own commands,
 * liftoff-predictor started on it, and runs of events appended the way
 * liftoff-ingest stores them.
 *
 * pfx_stop() stops the predictor and the redis-server and frees the
 * connection. A test that drops the connection itself (to restart Redis)
 * sets f->c to NULL, or to its new connection.
 */
#ifndef LIFTOFF_TEST_PREDICTOR_FIXTURE_H
#define LIFTOFF_TEST_PREDICTOR_FIXTURE_H

#include <stdbool.h>

#include <hiredis/hiredis.h>

#include "peers.h"

/* Room for a stream entry id ("<ms>-<seq>"). */
#define PFX_ID_MAX 64

typedef struct pfx {
    peer *rp;           /* redis-server */
    redisContext *c;    /* the test's own connection to it */
    peer *pp;           /* liftoff-predictor, once pfx_predictor() started it */
    int admin;          /* its admin port */
} pfx;

/* redis-server (extra_conf as for peer_redis_start(); may be NULL) and a
 * connection to it. false if either failed (printed). */
bool pfx_redis(pfx *f, const char *extra_conf);

/* liftoff-predictor on f's redis-server with extra flags (may be NULL).
 * false if it did not start (printed). */
bool pfx_predictor(pfx *f, const char *flags);

/* pfx_redis(), then the policy of shop/web stored and announced with
 * policy_json (unless NULL), then pfx_predictor() with flags. false as soon
 * as a step failed. */
bool pfx_start(pfx *f, const char *extra_conf, const char *policy_json, const char *flags);

/* Polls the predictor's /readyz until it answers 200 (or the helpers'
 * hang guard passes); whether it did. */
bool pfx_ready(const pfx *f);

/* XADDs n events of type with timestamp ts_ms to stream (ids "*"); copies
 * the last entry's id to last (PFX_ID_MAX bytes; "" when that XADD
 * failed) and says whether it succeeded. */
bool pfx_xadd_n(redisContext *c, const char *stream, int n, const char *type, long long ts_ms,
                char *last);

/* Stops and frees whatever f holds. */
void pfx_stop(pfx *f);

#endif
