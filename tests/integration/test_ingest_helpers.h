/*
 * test_ingest_helpers.h — shared by the liftoff-ingest integration tests:
 * start redis-server + liftoff-ingest, send raw HTTP/1.1 requests (blocking
 * sockets with a timeout: the server is another process), sign bodies.
 */
#ifndef LIFTOFF_TEST_INGEST_HELPERS_H
#define LIFTOFF_TEST_INGEST_HELPERS_H

#include <stdbool.h>
#include <stddef.h>

#include "peers.h"

#define IH_SECRET "it-secret-1"
#define IH_SECRET_OLD "it-secret-0"
#define IH_RESP_MAX 65536
#define IH_IO_TIMEOUT_MS 10000

typedef struct ih_env {
    peer *redis;
    peer *ingest;
    int port;          /* liftoff-ingest */
} ih_env;

/* redis-server (extra_redis_conf may be NULL) and liftoff-ingest with the
 * two test secrets and extra command-line flags (a space-separated string,
 * may be NULL). false (after printing why) if the binary is missing or
 * something did not start; the test should then skip or fail. */
bool ih_start(ih_env *e, const char *extra_redis_conf, const char *extra_flags);
/* The same with environment assignments ("LIFTOFF_X=1 LIFTOFF_Y=2", may be
 * NULL) for liftoff-ingest. */
bool ih_start_env(ih_env *e, const char *extra_redis_conf, const char *env,
                  const char *extra_flags);
void ih_stop(ih_env *e);
/* Path of bin/liftoff-ingest, or NULL if LIFTOFF_BIN is unset / no binary. */
const char *ih_binary(void);

typedef struct ih_resp {
    int status;        /* 0 if no complete response arrived */
    char head[8192];   /* status line and headers, NUL-ended */
    char body[IH_RESP_MAX];
    size_t body_len;
} ih_resp;

/* One request on a fresh connection; headers is "Name: value\r\n..." (may
 * be NULL); Content-Length is added when body is not NULL. Returns status. */
int ih_request(int port, const char *method, const char *path, const char *headers,
               const char *body, size_t len, ih_resp *out);
/* POSTs a webhook body signed with secret (NULL: unsigned), Content-Type
 * application/json, plus extra headers (may be NULL). */
int ih_webhook(int port, const char *path, const char *secret, const char *extra_headers,
               const char *body, ih_resp *out);
/* A header's value from resp->head (case-insensitive name), copied into a
 * static buffer; NULL if absent. */
const char *ih_header(const ih_resp *r, const char *name);

/* Connects to 127.0.0.1:port (blocking, with IO timeouts); fd or -1. */
int ih_connect(int port);
/* Reads one response from fd into out: status, or 0 on EOF/timeout. */
int ih_read_response(int fd, ih_resp *out);

/* Runs redis-cli against e->redis with args; its trimmed stdout in a static
 * buffer ("" on failure). */
const char *ih_redis(const ih_env *e, const char *args_fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
