/*
 * test_redis_helpers.h — shared by the redis integration tests: a reply
 * recorder for command callbacks and a state-event counter.
 */
#ifndef LIFTOFF_TEST_REDIS_HELPERS_H
#define LIFTOFF_TEST_REDIS_HELPERS_H

#include "redis.h"
#include "test_conn_helpers.h"

/* What one command's callback saw. */
typedef struct rec {
    int calls;
    int err;
    int type;              /* REDIS_REPLY_* */
    long long integer;
    char *str;             /* copy of reply->str (binary safe, NUL added) */
    size_t len;
    size_t elements;
} rec;

/* rds_cb that fills the rec passed as arg. */
void rec_cb(rds *r, const redisReply *reply, int err, void *arg);
void rec_free(rec *x);

/* Counts state events; pass as rds_opts.on_state with state_arg. */
typedef struct states {
    int up, down, failed;
} states;
void states_cb(rds *r, rds_event ev, void *arg);

/* rds_new with url (printf-style) and defaults plus *extra; waits for UP
 * unless wait_up is false. NULL on failure (printed). */
rds *test_rds(ev_loop *loop, const rds_opts *extra, bool wait_up, const char *url_fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
