/*
 * test_sidecar_helpers.h — shared by the sidecar integration tests: an
 * in-process origin on the http_server core (holds requests on demand, sums
 * streamed bodies, counts what reached it), liftoff-sidecar spawned as a
 * peer in front of an origin, and loop-turning waits.
 */
#ifndef LIFTOFF_TEST_SIDECAR_HELPERS_H
#define LIFTOFF_TEST_SIDECAR_HELPERS_H

#include <stdbool.h>

#include "ev.h"
#include "http_server.h"
#include "peers.h"
#include "test_http_helpers.h"

#define SCO_HELD_MAX 64

/* Routes: /hold... held until sco_release(); /sum reads the body and
 * answers "<bytes>"; /hdr answers the request's X-Forwarded-* and Foo
 * fields; anything else 200 "ok\n". */
typedef struct sco {
    ev_loop *loop;
    http_server *s;
    int port;
    int requests;              /* handler calls */
    int held_n;
    http_req *held[SCO_HELD_MAX];
} sco;

sco *sco_start(ev_loop *loop);
/* Answers every held request with 200 "released\n". */
void sco_release(sco *o);
void sco_stop(sco *o);

typedef struct sc_env {
    peer *sc;
    int port;          /* proxy */
    int admin;         /* admin */
    char *config;      /* written rules file (freed by sc_stop) */
} sc_env;

/* Spawns liftoff-sidecar in front of 127.0.0.1:upstream_port with the
 * rules JSON (NULL: none) and extra flags. false if it could not start. */
bool sc_start(sc_env *e, int upstream_port, const char *rules_json, const char *extra_flags);
void sc_stop(sc_env *e);

/* Turns the loop until cond(arg) or timeout_ms passes; returns cond's value. */
bool sc_wait(ev_loop *loop, bool (*cond)(void *arg), void *arg, int timeout_ms);
/* Turns the loop until the raw client has a whole head ("\r\n\r\n") or EOF. */
bool sc_wait_head(ev_loop *loop, rawc *r, int timeout_ms);
/* Turns the loop until the raw client saw EOF (or an error). */
bool sc_wait_eof(ev_loop *loop, rawc *r, int timeout_ms);
/* The status of the first response in r's bytes, or -1. */
int sc_status(rawc *r);
/* The value of the first field named name in r's first head, copied to
 * out (len bytes); false if absent. */
bool sc_field(rawc *r, const char *name, char *out, size_t len);

#endif
