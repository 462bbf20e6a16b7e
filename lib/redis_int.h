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

#include <sys/uio.h>

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

#define RDS_ARENA_BLOCK (64u << 10)   /* reply arena block; strings over 1/4 get their own */
#define RDS_ARENA_KEEP (1u << 20)     /* arena blocks kept between replies, bytes */
#define RDS_IN_KEEP (256u << 10)      /* empty input buffer kept between reads, bytes */
#define RDS_REPLY_MAX (1024u << 20)   /* one reply, bytes (input buffer limit) */
#define RDS_REPLY_BULK_MAX (512ll << 20) /* one string (Redis' proto-max-bulk-len) */
#define RDS_REPLY_ELEMENTS_MAX (INT32_MAX) /* elements of one array */
#define RDS_REPLY_DEPTH_MAX 16        /* nested arrays */
#define RDS_REPLY_LINE_MAX (64u << 10) /* a status or error line, bytes */

/* Where the scan of a partly received reply stands (redis_parse.c). */
typedef struct rds_scan {
    size_t pos;                        /* bytes of the reply checked */
    int depth;                         /* arrays open at pos */
    long long left[RDS_REPLY_DEPTH_MAX]; /* elements still to come in each */
} rds_scan;

typedef struct rds_arena_block rds_arena_block;
/* Memory of the reply being parsed and delivered, released all at once. */
typedef struct rds_arena {
    rds_arena_block *head;   /* blocks in order of use; kept up to RDS_ARENA_KEEP */
    rds_arena_block *cur;    /* the one being filled */
    rds_arena_block *big;    /* single large strings, freed by every reset */
    size_t nblocks;          /* in the head list */
} rds_arena;

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
    buf_t in;                /* bytes read, replies parsed in place */
    rds_scan scan;           /* of the reply at the front of in */
    rds_arena arena;         /* objects of the reply being delivered */
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

/* Queues a command already encoded in RESP, given as pieces to concatenate
 * (copied into the output buffer). Same contract as rds_command_argv. */
int rds_command_encoded(rds *r, uint32_t timeout_ms, const struct iovec *iov, int iovcnt,
                        rds_cb *cb, void *arg);

/* redis_arena.c */
/* n bytes (aligned for any type) valid until the next reset. */
void *rds_arena_alloc(rds_arena *a, size_t n);
/* Releases every object allocated since the last reset (keeps
 * RDS_ARENA_KEEP bytes of blocks for reuse). */
void rds_arena_reset(rds_arena *a);
void rds_arena_free(rds_arena *a);

/* redis_parse.c: RESP2 replies, parsed where they lie. */
void rds_scan_reset(rds_scan *st);
/* Scans p[0..len) for the end of the reply that starts at p, resuming where
 * st stands (reset st for every new reply; p may have grown in between but
 * its first st->pos bytes must be unchanged). Returns the reply's length
 * once it is complete, 0 while more bytes are needed, -EPROTO if the bytes
 * are not RESP2 or exceed a RDS_REPLY_* limit. */
ssize_t rds_scan_reply(const char *p, size_t len, rds_scan *st);
/* Builds the objects of a reply rds_scan_reply() found complete in
 * p[0..len) (its length). The objects come from a; their strings point into
 * p, NUL-terminated by overwriting the '\r' after each: p must stay as it
 * is while the reply is in use, and cannot be parsed again. */
redisReply *rds_build_reply(char *p, size_t len, rds_arena *a);

/* redis_resp.c: RESP encoding of commands; argvlen NULL means strlen. The
 * bytes equal those of hiredis' redisFormatCommandArgv(). */
/* Bytes rds_resp_encode_argv() writes for this command. */
size_t rds_resp_argv_len(int argc, const char *const *argv, const size_t *argvlen);
/* Writes "*<argc>\r\n" and one "$<len>\r\n<arg>\r\n" per argument at dst
 * (which has rds_resp_argv_len() bytes); returns the end. */
char *rds_resp_encode_argv(char *dst, int argc, const char *const *argv, const size_t *argvlen);
/* The pieces: the "*<argc>\r\n" header and one bulk string. */
size_t rds_resp_header_len(int argc);
char *rds_resp_put_header(char *dst, int argc);
size_t rds_resp_bulk_len(size_t len);
char *rds_resp_put_bulk(char *dst, const char *p, size_t len);

/* redis_pubsub.c */
bool rds_is_subscriber(const rds *r);
void rds_pubsub_reply(rds *r, redisReply *reply);
/* Re-sends every subscription (after connect). */
void rds_pubsub_resubscribe(rds *r);
void rds_pubsub_on_ping(ev_loop *loop, ev_timer *t, void *arg);
void rds_pubsub_free(rds *r);

#endif
