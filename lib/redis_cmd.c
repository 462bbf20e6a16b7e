/* redis_cmd.c — Redis commands: formatting, queueing, writing in batches,
 * matching replies to callbacks, deadlines, failing (see redis.h). */
#include "redis_int.h"
#include "common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define RDS_OUT_KEEP (64u << 10) /* idle output buffers above this are freed */

static void call_cb(rds *r, const rds_pending *e, const redisReply *reply, int err)
{
    rds_cb *cb = (rds_cb *)e->cb;
    if (err < 0)
        r->st.failed++;
    cb(r, reply, err, e->arg);
}

void rds_fail_later(rds *r, rds_cb *cb, void *arg, int err)
{
    rds_pending e = { .cb = (void *)cb, .arg = arg, .err = err };
    rds_fifo_push(&r->failed, &e);
    rds_schedule(r);
}

void rds_deliver_failed(rds *r)
{
    /* Failures raised by these callbacks wait for the next tick, so a
     * callback that retries at once cannot spin here; rds_free() (dead)
     * delivers everything. */
    size_t n = r->dead ? SIZE_MAX : rds_fifo_len(&r->failed);
    rds_pending e;
    for (size_t i = 0; i < n && rds_fifo_pop(&r->failed, &e); i++)
        call_cb(r, &e, NULL, e.err);
    if (!r->dead && rds_fifo_len(&r->failed) > 0)
        rds_schedule(r);
}

void rds_fail_sent(rds *r, int err)
{
    size_t n = r->nsent;
    r->nsent = 0;
    rds_pending e;
    for (size_t i = 0; i < n && rds_fifo_pop(&r->pending, &e); i++) {
        call_cb(r, &e, NULL, e.err ? e.err : err);
        if (r->dead)
            return;
    }
}

void rds_fail_queued(rds *r, int err)
{
    rds_pending e;
    while (rds_fifo_pop(&r->pending, &e)) {
        if (!e.err)
            e.err = err;
        rds_fifo_push(&r->failed, &e);
    }
    r->nsent = 0;
    buf_reset(&r->out);
    if (!r->dead)
        rds_schedule(r);
}

void rds_deliver_reply(rds *r, redisReply *reply)
{
    rds_pending e;
    if (r->nsent == 0 || !rds_fifo_pop(&r->pending, &e)) {
        /* e.g. "-ERR max number of clients reached" right before a close */
        if (reply->type == REDIS_REPLY_ERROR || reply->type == REDIS_REPLY_STATUS)
            rds_set_err(r, "redis sent a reply nobody asked for: %.*s", (int)reply->len,
                        reply->str);
        else
            rds_set_err(r, "redis sent a reply nobody asked for");
        rds_drop(r, -EPROTO);
        return;
    }
    r->nsent--;
    call_cb(r, &e, reply, 0);
}

void rds_flush(rds *r)
{
    if (r->state != RDS_S_UP || r->dead || buf_empty(&r->out))
        return;
    int rc = conn_write(r->c, buf_data(&r->out), buf_len(&r->out));
    if (rc == -ENOBUFS)
        return; /* the socket is backed up: on_drained calls again */
    if (rc < 0) {
        rds_set_err(r, "write to redis failed: %s", *conn_error(r->c) ? conn_error(r->c)
                                                                      : strerror(-rc));
        rds_drop(r, rc);
        return;
    }
    size_t total = rds_fifo_len(&r->pending);
    r->st.commands += total - r->nsent;
    r->nsent = total;
    buf_reset(&r->out);
    buf_shrink_idle(&r->out, RDS_OUT_KEEP);
}

/* ---- deadlines ---- */

void rds_deadline_rearm(rds *r)
{
    uint64_t min = 0;
    for (size_t i = 0; i < rds_fifo_len(&r->pending); i++) {
        uint64_t d = rds_fifo_at(&r->pending, i)->deadline_ms;
        if (d && (!min || d < min))
            min = d;
    }
    if (!min) {
        ev_timer_stop(r->loop, &r->deadline_timer);
        return;
    }
    uint64_t now = ev_now(r->loop);
    ev_timer_start(r->loop, &r->deadline_timer, min > now ? min - now : 0);
}

static bool has_err(const rds_pending *e, void *ctx)
{
    return e->err != 0;
}

/* Queued (never written) commands past their deadline just fail. */
static void expire_queued(rds *r, uint64_t now)
{
    size_t n = rds_fifo_len(&r->pending), expired = 0;
    for (size_t i = r->nsent; i < n; i++) {
        rds_pending *e = rds_fifo_at(&r->pending, i);
        if (e->deadline_ms && e->deadline_ms <= now) {
            e->err = -ETIMEDOUT;
            expired++;
        }
    }
    if (!expired)
        return;
    buf_t keep;
    buf_init(&keep, r->out.max);
    size_t off = 0;
    for (size_t i = r->nsent; i < n; i++) {
        rds_pending *e = rds_fifo_at(&r->pending, i);
        if (!e->err)
            buf_append(&keep, buf_data(&r->out) + off, e->len);
        off += e->len;
    }
    buf_free(&r->out);
    r->out = keep;
    rds_fifo_remove_if(&r->pending, r->nsent, has_err, NULL, &r->failed);
    r->st.timeouts += expired;
    rds_schedule(r);
}

void rds_on_deadline(ev_loop *loop, ev_timer *t, void *arg)
{
    rds *r = arg;
    uint64_t now = ev_now(loop);
    rds_enter(r);
    expire_queued(r, now);
    size_t late = 0;
    for (size_t i = 0; i < r->nsent; i++) {
        rds_pending *e = rds_fifo_at(&r->pending, i);
        if (e->deadline_ms && e->deadline_ms <= now) {
            e->err = -ETIMEDOUT;
            late++;
        }
    }
    if (late) {
        /* A late reply could not be matched any more: start afresh. */
        r->st.timeouts += late;
        rds_set_err(r, "%zu command(s) got no reply in time; reconnecting", late);
        rds_drop(r, -ENOTCONN);
    }
    if (!r->dead)
        rds_deadline_rearm(r);
    rds_leave(r);
}

/* ---- issuing ---- */

/* 0 if a command may be queued; else its callback is failed from the loop
 * and the command must be dropped (< 0). */
static int admit(rds *r, rds_cb *cb, void *arg)
{
    if (rds_fifo_len(&r->pending) >= r->max_pending) {
        rds_fail_later(r, cb, arg, -ENOBUFS);
        return -ENOBUFS;
    }
    if (r->fail_fast && r->state != RDS_S_UP) {
        rds_fail_later(r, cb, arg, -ENOTCONN);
        return -ENOTCONN;
    }
    return 0;
}

/* Room for len more bytes in r->out; else the callback fails later. */
static int reserve(rds *r, size_t len, rds_cb *cb, void *arg)
{
    if (len > UINT32_MAX || buf_reserve(&r->out, len) < 0) {
        rds_fail_later(r, cb, arg, -ENOBUFS);
        return -ENOBUFS;
    }
    return 0;
}

/* Queues the entry of a command whose len bytes were just added to r->out. */
static void enqueue(rds *r, uint32_t timeout_ms, size_t len, rds_cb *cb, void *arg)
{
    uint64_t now = ev_now(r->loop);
    uint64_t deadline = now + (timeout_ms ? timeout_ms : r->command_timeout_ms);
    rds_pending e = { .cb = (void *)cb, .arg = arg, .deadline_ms = deadline,
                      .len = (uint32_t)len };
    rds_fifo_push(&r->pending, &e);
    if (!ev_timer_active(&r->deadline_timer) || r->deadline_timer.due_ms > deadline)
        ev_timer_start(r->loop, &r->deadline_timer, deadline - now);
    if (r->state == RDS_S_UP)
        rds_schedule(r);
}

static int check_usable(rds *r, rds_cb *cb)
{
    if (!r || !cb)
        return -EINVAL;
    if (r->dead)
        return -ECANCELED;
    if (rds_is_subscriber(r))
        return -EINVAL;
    return 0;
}

int rds_command_argv_timeout(rds *r, uint32_t timeout_ms, int argc, const char *const *argv,
                             const size_t *argvlen, rds_cb *cb, void *arg)
{
    int rc = check_usable(r, cb);
    if (rc < 0)
        return rc;
    if (argc < 1 || !argv)
        return -EINVAL;
    for (int i = 0; i < argc; i++)
        if (!argv[i] && (!argvlen || argvlen[i]))
            return -EINVAL;
    /* encoded straight into the output buffer: no intermediate copy */
    size_t len = rds_resp_argv_len(argc, argv, argvlen);
    if (admit(r, cb, arg) < 0 || reserve(r, len, cb, arg) < 0)
        return 0;
    rds_resp_encode_argv(buf_tail(&r->out), argc, argv, argvlen);
    buf_commit(&r->out, len);
    enqueue(r, timeout_ms, len, cb, arg);
    return 0;
}

int rds_command_argv(rds *r, int argc, const char *const *argv, const size_t *argvlen,
                     rds_cb *cb, void *arg)
{
    return rds_command_argv_timeout(r, 0, argc, argv, argvlen, cb, arg);
}

int rds_command_encoded(rds *r, uint32_t timeout_ms, const struct iovec *iov, int iovcnt,
                        rds_cb *cb, void *arg)
{
    int rc = check_usable(r, cb);
    if (rc < 0)
        return rc;
    size_t len = 0;
    for (int i = 0; i < iovcnt; i++)
        len += iov[i].iov_len;
    if (len == 0)
        return -EINVAL;
    if (admit(r, cb, arg) < 0 || reserve(r, len, cb, arg) < 0)
        return 0;
    for (int i = 0; i < iovcnt; i++) {
        if (iov[i].iov_len)
            memcpy(buf_tail(&r->out), iov[i].iov_base, iov[i].iov_len);
        buf_commit(&r->out, iov[i].iov_len);
    }
    enqueue(r, timeout_ms, len, cb, arg);
    return 0;
}

/* The printf-like form is for rare commands: hiredis' formatter parses the
 * format, the bytes are then copied into the output buffer. */
int rds_command(rds *r, rds_cb *cb, void *arg, const char *fmt, ...)
{
    int rc = check_usable(r, cb);
    if (rc < 0)
        return rc;
    char *cmd = NULL;
    va_list ap;
    va_start(ap, fmt);
    int len = redisvFormatCommand(&cmd, fmt, ap);
    va_end(ap);
    if (len < 0)
        return -EINVAL;
    if (admit(r, cb, arg) == 0 && reserve(r, (size_t)len, cb, arg) == 0) {
        memcpy(buf_tail(&r->out), cmd, (size_t)len);
        buf_commit(&r->out, (size_t)len);
        enqueue(r, 0, (size_t)len, cb, arg);
    }
    redisFreeCommand(cmd);
    return 0;
}
