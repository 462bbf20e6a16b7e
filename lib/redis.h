/*
 * redis.h — asynchronous Redis client on the ev loop and conn (plain or
 * TLS). Commands are encoded in RESP by the client itself, straight into
 * its output buffer (redis_resp.c); replies are parsed where they were read
 * (redis_parse.c) into hiredis' redisReply layout, the objects allocated
 * from a per-client arena (redis_arena.c); the socket is ours. hiredis
 * remains only for the redisReply type and for rds_command()'s printf-like
 * format (rare commands; the argv forms are the fast path).
 *
 * What it does:
 *   - pipelining: commands are encoded into one output buffer as they come
 *     and written once per loop iteration (one syscall for all commands
 *     issued in it); replies are read with at least RDS_READ_CHUNK bytes of
 *     room per read and go to per-command callbacks in order.
 *   - on every (re)connect: AUTH [user] password, then SELECT db, and
 *     (subscriber clients) SUBSCRIBE / PSUBSCRIBE again, all before any
 *     queued command is written. Subscriber clients skip SELECT (Pub/Sub
 *     ignores databases). A failing AUTH or SELECT counts as a failed
 *     attempt (RDS_CONNECT_FAILED, reason in rds_error()) and is retried.
 *   - reconnects with jittered exponential backoff (backoff_min_ms doubling
 *     up to backoff_max_ms, each delay scaled by a random factor 0.5-1.5).
 *   - per-command deadlines: a command without a reply by its deadline fails
 *     with -ETIMEDOUT and the connection is dropped and re-made (a reply that
 *     comes late could not be matched any more); commands still queued
 *     (never written) just fail. AUTH/SELECT unanswered within
 *     connect_timeout_ms count as a failed attempt.
 *   - replies are parsed in place from the input buffer (no copies) with
 *     explicit limits (redis_int.h: RDS_REPLY_MAX bytes per reply,
 *     RDS_REPLY_BULK_MAX per string, RDS_REPLY_DEPTH_MAX nesting); anything
 *     else, or bytes that are not RESP2, drop the connection (-EPROTO /
 *     -EMSGSIZE). A reply that big can still cost that much memory: talk
 *     only to your own Redis.
 *
 * Callbacks — the contract:
 *   Every command accepted (rds_command*() returned 0) gets its callback
 *   called EXACTLY ONCE, and never from inside the rds_command*() call:
 *     err == 0: reply is Redis' answer (possibly a REDIS_REPLY_ERROR reply,
 *               e.g. "WRONGTYPE ..."). The reply and everything it points
 *               to (elements, strings) live in the client's reply arena and
 *               input buffer and are released in one go when the callback
 *               returns: a
 *               callback that keeps any of it must copy it. Never pass a
 *               reply to freeReplyObject().
 *     err <  0: reply is NULL; -ENOTCONN (not connected and fail_fast, or
 *               the connection dropped before the reply), -ETIMEDOUT,
 *               -ENOBUFS (queue full), -ECANCELED (rds_free). rds_error()
 *               has the text of the connection's last error.
 *   rds_command*() returns < 0 (and never calls the callback) only for
 *   misuse: -EINVAL (bad arguments, a normal command on a subscriber client)
 *   or -ECANCELED (called while rds_free() is failing the callbacks).
 *   Callbacks may issue new commands and may call rds_free().
 *
 * Disconnected behaviour (rds_opts.fail_fast):
 *   false (default): commands wait in a queue (at most max_pending) and are
 *     written after the next connect; their deadlines still run.
 *   true: commands issued while the client is not up fail at once (their
 *     callback runs from the loop with -ENOTCONN).
 *
 * Sentinel seam: rds_opts.addr_provider is asked for host:port before every
 * connect attempt (default: the URL's). A Sentinel-aware provider returns the
 * master it last learned (it must not block: refresh it asynchronously, e.g.
 * with a second rds client on the sentinels and SENTINEL
 * get-master-addr-by-name plus a +switch-master subscription) and calls
 * rds_reconnect() when the master changes.
 *
 * Ownership: rds_new() copies everything it needs from opts (the URL too).
 * The client is freed with rds_free(). Not thread-safe (one loop thread).
 */
#ifndef LIFTOFF_REDIS_H
#define LIFTOFF_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "ev.h"

typedef struct rds rds;

#define RDS_CONNECT_TIMEOUT_DEFAULT_MS 2000u
#define RDS_COMMAND_TIMEOUT_DEFAULT_MS 5000u
#define RDS_BACKOFF_MIN_DEFAULT_MS 100u
#define RDS_BACKOFF_MAX_DEFAULT_MS 5000u
#define RDS_MAX_PENDING_DEFAULT 100000u       /* commands queued or in flight */
#define RDS_MAX_OUT_BYTES_DEFAULT (64u << 20) /* formatted, not yet written */
#define RDS_READ_CHUNK (64u << 10)            /* least room offered to each read */
#define RDS_ERROR_MAX 256                     /* rds_error() text */
#define RDS_HOST_MAX 256

/* A command's reply (err 0) or failure (err < 0, reply NULL); see above. */
typedef void rds_cb(rds *r, const redisReply *reply, int err, void *arg);

/* Connection events for rds_opts.on_state. */
typedef enum rds_event {
    RDS_UP,              /* connected, authenticated, db selected: ready */
    RDS_DOWN,            /* was up, the connection is gone (see rds_error()) */
    RDS_CONNECT_FAILED,  /* an attempt failed while down (see rds_error()) */
} rds_event;
typedef void rds_state_cb(rds *r, rds_event ev, void *arg);

/* Chooses the server for the next connect attempt: fills host (NUL-ended,
 * at most hostlen bytes) and *port; 0, or -errno to skip this attempt (it
 * counts as failed and is retried after backoff). Must not block. */
typedef int rds_addr_provider(rds *r, char *host, size_t hostlen, int *port, void *arg);

/* A Pub/Sub delivery (subscriber clients). Pointers are valid during the
 * callback only. */
typedef enum rds_msg_kind {
    RDS_MSG_MESSAGE,       /* channel, data */
    RDS_MSG_PMESSAGE,      /* pattern, channel, data */
    RDS_MSG_SUBSCRIBED,    /* channel, or pattern for PSUBSCRIBE */
    RDS_MSG_UNSUBSCRIBED,  /* channel, or pattern for PUNSUBSCRIBE */
} rds_msg_kind;

typedef struct rds_msg {
    rds_msg_kind kind;
    const char *pattern;   /* NULL unless pattern based */
    size_t pattern_len;
    const char *channel;   /* NULL for pattern (un)subscriptions */
    size_t channel_len;
    const char *data;      /* NULL unless a message */
    size_t data_len;
} rds_msg;
typedef void rds_msg_cb(rds *r, const rds_msg *m, void *arg);

typedef struct rds_opts {
    const char *url;               /* see redis_url.h; required */
    uint32_t connect_timeout_ms;   /* TCP + TLS; 0: default */
    uint32_t command_timeout_ms;   /* default per-command deadline; 0: default */
    uint32_t backoff_min_ms;       /* first reconnect delay; 0: default */
    uint32_t backoff_max_ms;       /* cap; 0: default */
    uint32_t max_pending;          /* 0: default */
    size_t max_out_bytes;          /* 0: default */
    bool fail_fast;                /* see "Disconnected behaviour" */
    rds_state_cb *on_state;        /* may be NULL */
    void *state_arg;
    rds_addr_provider *addr_provider; /* NULL: the URL's host:port */
    void *addr_arg;
    /* Subscriber client: set on_message. Such a client accepts only
     * rds_subscribe/rds_psubscribe/rds_unsubscribe/rds_punsubscribe. */
    rds_msg_cb *on_message;
    void *message_arg;
    /* Subscriber clients send PING this often to notice a dead server (no
     * answer before the next PING is due drops the connection); 0: 10 s. */
    uint32_t ping_interval_ms;
} rds_opts;

typedef struct rds_stats {
    uint64_t commands;      /* commands written to the socket */
    uint64_t replies;       /* replies received (including error replies) */
    uint64_t error_replies; /* REDIS_REPLY_ERROR replies */
    uint64_t failed;        /* callbacks called with err < 0 */
    uint64_t timeouts;      /* commands failed by their deadline */
    uint64_t connects;      /* successful connects (up events) */
    uint64_t reconnects;    /* connect attempts after the first */
    uint64_t messages;      /* Pub/Sub messages delivered */
    uint64_t pending;       /* now: commands queued or in flight */
    bool up;                /* now: connected and ready */
} rds_stats;

/* Creates the client; it connects from the loop's next iteration (no
 * callback runs inside this call). 0, or -EINVAL with a reason in err (bad
 * URL, bad TLS files). */
int rds_new(ev_loop *loop, const rds_opts *opts, rds **out, char *err, size_t errlen);
/* Fails every pending callback with -ECANCELED, closes, frees. NULL-safe;
 * may be called from inside a callback of r. */
void rds_free(rds *r);

/* Sends a command given as argc binary-safe arguments. */
int rds_command_argv(rds *r, int argc, const char *const *argv, const size_t *argvlen,
                     rds_cb *cb, void *arg);
/* Same with its own deadline (timeout_ms 0: the client's default). */
int rds_command_argv_timeout(rds *r, uint32_t timeout_ms, int argc, const char *const *argv,
                             const size_t *argvlen, rds_cb *cb, void *arg);
/* printf-like: hiredis' format ("SET %s %b", key, val, vallen). */
int rds_command(rds *r, rds_cb *cb, void *arg, const char *fmt, ...);

/* Subscriber clients: (un)subscribe a channel or pattern; kept across
 * reconnects. 0 or -EINVAL (not a subscriber client), -EEXIST / -ENOENT. */
int rds_subscribe(rds *r, const char *channel);
int rds_psubscribe(rds *r, const char *pattern);
int rds_unsubscribe(rds *r, const char *channel);
int rds_punsubscribe(rds *r, const char *pattern);

/* Drops the connection (pending commands fail with -ENOTCONN) and connects
 * again at once, e.g. after the address provider learned a new master. */
void rds_reconnect(rds *r);

bool rds_is_up(const rds *r);
/* Text of the last connection-level error ("" if none). */
const char *rds_error(const rds *r);
void rds_get_stats(const rds *r, rds_stats *out);

/* ---- Lua scripts: EVALSHA, falling back to EVAL on NOSCRIPT ---- */

typedef struct rds_script {
    char *body;
    size_t len;
    char sha[41];          /* lowercase hex SHA-1 of body */
} rds_script;

/* Prepares a script (copies body, computes its SHA-1). Free with
 * rds_script_free(). */
void rds_script_init(rds_script *s, const char *body);
void rds_script_free(rds_script *s);
/* Runs s with nkeys keys followed by nargs arguments (argv holds nkeys +
 * nargs entries, at most 1024 in all): EVALSHA, and EVAL if Redis answers
 * NOSCRIPT (the script is then cached for later calls). The callback gets
 * the script's reply; a retried call runs after commands issued meanwhile.
 * The arguments are copied (encoded) at once; s must outlive the call's
 * callback. */
int rds_script_run(rds *r, const rds_script *s, int nkeys, int nargs, const char *const *argv,
                   const size_t *argvlen, rds_cb *cb, void *arg);

#endif
