/*
 * test_predictor_helpers.h — shared by the predictor integration tests:
 * starting liftoff-predictor against a real redis-server, a blocking Redis
 * connection for the test's own commands (hiredis' synchronous API: tests
 * may block), the admin endpoints, and polling for a condition.
 */
#ifndef LIFTOFF_TEST_PREDICTOR_HELPERS_H
#define LIFTOFF_TEST_PREDICTOR_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "peers.h"

/* Safety net for a wait that would otherwise hang; not a timing check. */
#define PH_WAIT_MAX_MS 30000

/* Polls cond every 20 ms until true or PH_WAIT_MAX_MS; yields cond. */
#define PH_WAIT(cond)                                                          \
    ({                                                                         \
        uint64_t ph_end_ = lo_mono_ms() + PH_WAIT_MAX_MS;                      \
        while (!(cond) && lo_mono_ms() < ph_end_)                              \
            ph_sleep_ms(20);                                                   \
        (cond);                                                                \
    })

void ph_sleep_ms(unsigned ms);

/* The liftoff-predictor binary under LIFTOFF_BIN, or NULL. */
const char *ph_binary(void);

/* Starts liftoff-predictor on redis_port with extra flags; ready once its
 * admin port accepts. NULL on failure (printed). */
peer *ph_predictor(int redis_port, const char *flags);

/* A blocking connection to 127.0.0.1:port (5 s timeouts), or NULL. */
redisContext *ph_redis(int port);
/* Runs a command (hiredis format); the caller frees the reply. NULL on a
 * connection error. */
redisReply *ph_cmd(redisContext *c, const char *fmt, ...);
/* A field of a hash as a malloc'd string, or NULL. */
char *ph_hget(redisContext *c, const char *key, const char *field);
/* A field of a hash as a number (NAN when absent). */
double ph_hget_num(redisContext *c, const char *key, const char *field);
/* The integer reply of a command, or -1. */
long long ph_int(redisContext *c, const char *fmt, ...);

/* Stores a policy document and announces it as the controller does. */
void ph_policy_put(redisContext *c, const char *ns, const char *name, const char *json);

/* GET on the admin port: the status code (body copied into body), or -1. */
int ph_http_get(int port, const char *path, char *body, size_t cap);
/* A metric's value from /metrics (series is the text before the value,
 * e.g. "liftoff_predictor_ready"), or NAN. */
double ph_metric(int port, const char *series);

/* XADDs an event as liftoff-ingest stores it, with id "*" (id NULL) or an
 * explicit id; returns the stream id (static buffer) or NULL. */
const char *ph_xadd(redisContext *c, const char *stream, const char *id, const char *type,
                    long long ts_ms);

#endif
