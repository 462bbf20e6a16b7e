/*
 * redis_int.h — internals shared by the redis_*.c files; not for other
 * modules. See redis.h for the public contract.
 */
#ifndef LIFTOFF_REDIS_INT_H
#define LIFTOFF_REDIS_INT_H

#include "redis.h"
#include "redis_fifo.h"
#include "redis_url.h"
#include "buf.h"
#include "conn.h"

#define RDS_PING_INTERVAL_DEFAULT_MS 10000u
#define RDS_READS_PER_EVENT 16   /* read chunks per readiness event (fairness) */
#define RDS_HS_MAX 2             /* handshake commands: AUTH, SELECT */

enum rds_state {
    RDS_S_DOWN,       /* waiting for the retry timer */
    RDS_S_CONNECTING, /* TCP (+TLS) connect in flight */
    RDS_S_HANDSHAKE,  /* AUTH / SELECT sent, replies awaited */
    RDS_S_UP,
};

enum rds_hs_step { RDS_HS_AUTH, RDS_HS_SELECT };

typedef struct rds_strset {
    char **v;
    size_t n, cap;
} rds_strset;

struct rds {
    ev_loop *loop;
    rds_url url;
    conn_tls *tls;

    uint32_t connect_timeout_ms, command_timeout_ms;
    uint32_t backoff_min_ms, backoff_max_ms, ping_interval_ms;
    uint32_t max_pending;
    size_t max_out_bytes;
    bool fail_fast;
    rds_state_cb *on_state;
    void *state_arg;
    rds_addr_provider *addr_provider;
    void *addr_arg;
    rds_msg_cb *on_message;
    void *message_arg;

    enum rds_state state;
    conn *c;
    redisReader *reader;
    uint64_t gen;            /* bumped on every drop: stale work checks it */

    rds_fifo pending;        /* written (first nsent) then queued, in order */
    size_t nsent;
    buf_t out;               /* formatted bytes of the queued entries */
    rds_fifo failed;         /* failures awaiting delivery from the loop */

    enum rds_hs_step hs[RDS_HS_MAX];
    int hs_n, hs_done;

    unsigned attempt;        /* consecutive failed attempts */
    bool ever_tried;
    ev_timer retry_timer;
    ev_timer deadline_timer;
    ev_timer ping_timer;
    ev_timer hs_timer;       /* AUTH / SELECT answers, connect_timeout_ms */
    bool ping_outstanding;

    int depth;               /* nesting of loop entry points */
    ev_timer tick_timer;     /* flush + failure delivery from the loop */
    bool in_tick;
    bool dead;               /* rds_free() called */

    rds_strset channels, patterns;
    rds_stats st;
    char err[RDS_ERROR_MAX];
};

/* redis_client.c */
void rds_set_err(rds *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drops the connection: written commands fail with -ENOTCONN (or their own
 * recorded error, -ETIMEDOUT); err describes the cause in rds_error() when
 * nothing more precise was set. The client retries after backoff. */
void rds_drop(rds *r, int err);
/* Runs flush and failure delivery from the loop: in this iteration, or
 * after 1 ms when asked from that work itself (so it cannot spin). */
void rds_schedule(rds *r);
void rds_enter(rds *r);
/* Ends a loop entry point; true if r was freed. */
bool rds_leave(rds *r);
/* Writes raw formatted bytes on the live connection; 0 or -errno (dropped). */
int rds_write_now(rds *r, const char *p, size_t len);

/* redis_cmd.c */
void rds_flush(rds *r);
void rds_deliver_failed(rds *r);
void rds_fail_later(rds *r, rds_cb *cb, void *arg, int err);
/* Fails the written commands (with err unless one has its own). */
void rds_fail_sent(rds *r, int err);
/* Fails everything: written and queued (rds_free, fail_fast drops). */
void rds_fail_queued(rds *r, int err);
void rds_deliver_reply(rds *r, redisReply *reply);
void rds_deadline_rearm(rds *r);
void rds_on_deadline(ev_loop *loop, ev_timer *t, void *arg);

/* redis_pubsub.c */
bool rds_is_subscriber(const rds *r);
void rds_pubsub_reply(rds *r, redisReply *reply);
/* Re-sends every subscription (after connect). */
void rds_pubsub_resubscribe(rds *r);
void rds_pubsub_on_ping(ev_loop *loop, ev_timer *t, void *arg);
void rds_pubsub_free(rds *r);

#endif
