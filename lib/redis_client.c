/* redis_client.c — the Redis client's connection life: connect, AUTH and
 * SELECT, reading replies, dropping, reconnecting with backoff, freeing
 * (see redis.h). Commands are in redis_cmd.c, Pub/Sub in redis_pubsub.c. */
#include "redis_int.h"
#include "common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void connect_start(rds *r);

/* ---- small helpers ---- */

void rds_set_err(rds *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
}

const char *rds_error(const rds *r) { return r->err; }
bool rds_is_up(const rds *r) { return r->state == RDS_S_UP; }

void rds_get_stats(const rds *r, rds_stats *out)
{
    *out = r->st;
    out->pending = rds_fifo_len(&r->pending);
    out->up = r->state == RDS_S_UP;
}

static void rds_destroy(rds *r)
{
    rds_arena_free(&r->arena); /* here: the last callback may still read a reply */
    buf_free(&r->in);
    free(r);
}

void rds_enter(rds *r) { r->depth++; }

bool rds_leave(rds *r)
{
    if (--r->depth > 0 || !r->dead)
        return false;
    rds_destroy(r);
    return true;
}

static void tick(ev_loop *loop, ev_timer *t, void *arg)
{
    rds *r = arg;
    rds_enter(r);
    r->in_tick = true;
    rds_flush(r);
    if (!r->dead)
        rds_deliver_failed(r);
    r->in_tick = false;
    rds_leave(r);
}

void rds_schedule(rds *r)
{
    if (r->dead || ev_timer_active(&r->tick_timer))
        return;
    ev_timer_start(r->loop, &r->tick_timer, r->in_tick ? 1 : 0);
}

static void notify(rds *r, rds_event ev)
{
    if (r->on_state && !r->dead)
        r->on_state(r, ev, r->state_arg);
}

/* ---- dropping and retrying ---- */

static uint32_t backoff_ms(rds *r)
{
    uint64_t d = r->backoff_min_ms;
    for (unsigned i = 0; i < r->attempt && d < r->backoff_max_ms; i++)
        d *= 2;
    if (d > r->backoff_max_ms)
        d = r->backoff_max_ms;
    return (uint32_t)lo_jitter_ms(d, 0.5);
}

static void retry_due(ev_loop *loop, ev_timer *t, void *arg)
{
    rds *r = arg;
    rds_enter(r);
    connect_start(r);
    rds_leave(r);
}

static void close_conn(rds *r)
{
    if (r->c) {
        conn_close(r->c);
        r->c = NULL;
    }
    r->gen++;
    ev_timer_stop(r->loop, &r->ping_timer);
    ev_timer_stop(r->loop, &r->hs_timer);
    r->ping_outstanding = false;
    r->hs_n = r->hs_done = 0;
}

void rds_drop(rds *r, int err)
{
    if (r->state == RDS_S_DOWN || r->dead)
        return;
    bool was_up = r->state == RDS_S_UP;
    close_conn(r);
    r->state = RDS_S_DOWN;
    if (!*r->err)
        rds_set_err(r, "%s", strerror(-err));
    uint64_t gen = r->gen;
    rds_fail_sent(r, -ENOTCONN); /* the cause is in r->err */
    if (r->fail_fast && !r->dead)
        rds_fail_queued(r, -ENOTCONN);
    if (r->dead || gen != r->gen)
        return; /* freed, or a callback already reconnected */
    notify(r, was_up ? RDS_DOWN : RDS_CONNECT_FAILED);
    if (r->dead || gen != r->gen || r->state != RDS_S_DOWN)
        return;
    ev_timer_start(r->loop, &r->retry_timer, was_up ? lo_jitter_ms(r->backoff_min_ms, 0.5)
                                                    : backoff_ms(r));
    r->attempt++;
}

void rds_reconnect(rds *r)
{
    if (r->dead)
        return;
    rds_set_err(r, "reconnect requested");
    if (r->state != RDS_S_DOWN)
        rds_drop(r, -ENOTCONN);
    if (r->dead || r->state != RDS_S_DOWN)
        return;
    ev_timer_stop(r->loop, &r->retry_timer);
    r->attempt = 0;
    connect_start(r);
}

/* ---- the connection ---- */

int rds_write_now(rds *r, const char *p, size_t len)
{
    int rc = conn_write(r->c, p, len);
    if (rc < 0) {
        rds_set_err(r, "write to redis failed: %s", *conn_error(r->c) ? conn_error(r->c)
                                                                      : strerror(-rc));
        rds_drop(r, rc);
    }
    return rc;
}

static void became_up(rds *r)
{
    ev_timer_stop(r->loop, &r->hs_timer);
    r->state = RDS_S_UP;
    r->attempt = 0;
    r->err[0] = '\0';
    r->st.connects++;
    uint64_t gen = r->gen;
    if (rds_is_subscriber(r)) {
        rds_pubsub_resubscribe(r);
        if (gen != r->gen)
            return;
        ev_timer_start(r->loop, &r->ping_timer, r->ping_interval_ms);
    }
    rds_flush(r);
    if (gen == r->gen)
        notify(r, RDS_UP);
}

/* Encodes and writes one handshake command. */
static int send_hs(rds *r, enum rds_hs_step step, int argc, const char **argv)
{
    size_t len = rds_resp_argv_len(argc, argv, NULL);
    char *cmd = xmalloc(len);
    rds_resp_encode_argv(cmd, argc, argv, NULL);
    int rc = rds_write_now(r, cmd, len);
    free(cmd);
    if (rc == 0)
        r->hs[r->hs_n++] = step;
    return rc;
}

static void start_handshake(rds *r)
{
    r->state = RDS_S_HANDSHAKE;
    r->hs_n = r->hs_done = 0;
    if (r->url.password) {
        const char *argv[3] = { "AUTH" };
        int argc = 1;
        if (r->url.user)
            argv[argc++] = r->url.user;
        argv[argc++] = r->url.password;
        if (send_hs(r, RDS_HS_AUTH, argc, argv) < 0)
            return;
    }
    if (r->url.db != 0 && !rds_is_subscriber(r)) {
        char db[16];
        snprintf(db, sizeof db, "%d", r->url.db);
        const char *argv[2] = { "SELECT", db };
        if (send_hs(r, RDS_HS_SELECT, 2, argv) < 0)
            return;
    }
    if (r->hs_n == 0)
        became_up(r);
    else
        ev_timer_start(r->loop, &r->hs_timer, r->connect_timeout_ms);
}

static void handshake_timeout(ev_loop *loop, ev_timer *t, void *arg)
{
    rds *r = arg;
    rds_enter(r);
    rds_set_err(r, "redis did not answer AUTH/SELECT within %u ms", r->connect_timeout_ms);
    rds_drop(r, -ETIMEDOUT);
    rds_leave(r);
}

static void handshake_reply(rds *r, redisReply *reply)
{
    enum rds_hs_step step = r->hs[r->hs_done++];
    if (reply->type == REDIS_REPLY_ERROR) {
        if (step == RDS_HS_AUTH)
            rds_set_err(r, "AUTH as %s failed: %.*s", r->url.user ? r->url.user : "default",
                        (int)reply->len, reply->str);
        else
            rds_set_err(r, "SELECT %d failed: %.*s", r->url.db, (int)reply->len, reply->str);
        rds_drop(r, step == RDS_HS_AUTH ? -EACCES : -EINVAL);
        return;
    }
    if (r->hs_done == r->hs_n)
        became_up(r);
}

static void dispatch_reply(rds *r, redisReply *reply)
{
    r->st.replies++;
    if (reply->type == REDIS_REPLY_ERROR)
        r->st.error_replies++;
    if (r->state == RDS_S_HANDSHAKE && r->hs_done < r->hs_n)
        handshake_reply(r, reply);
    else if (rds_is_subscriber(r))
        rds_pubsub_reply(r, reply);
    else
        rds_deliver_reply(r, reply); /* may free r's state: checked by caller */
    rds_arena_reset(&r->arena);  /* the whole reply at once (see redis.h) */
}

/* Parses and delivers the complete replies in r->in; stops if the
 * connection changed. */
static void drain_input(rds *r)
{
    uint64_t gen = r->gen;
    for (;;) {
        ssize_t n = rds_scan_reply(buf_data(&r->in), buf_len(&r->in), &r->scan);
        if (n < 0) {
            rds_set_err(r, "redis protocol error: not RESP2, or over a limit");
            rds_drop(r, -EPROTO);
            return;
        }
        if (n == 0)
            return;
        rds_scan_reset(&r->scan);
        redisReply *reply = rds_build_reply(buf_data(&r->in), (size_t)n, &r->arena);
        /* consumed now, but the bytes stay until the next read: the reply
         * points into them during its callback */
        buf_consume(&r->in, (size_t)n);
        dispatch_reply(r, reply);
        if (r->dead || gen != r->gen)
            return;
    }
}

static void on_readable(conn *c, void *ud)
{
    rds *r = ud;
    rds_enter(r);
    uint64_t gen = r->gen;
    for (int i = 0; i < RDS_READS_PER_EVENT; i++) {
        if (buf_reserve(&r->in, RDS_READ_CHUNK) < 0) {
            rds_set_err(r, "redis reply larger than %u bytes", RDS_REPLY_MAX);
            rds_drop(r, -EMSGSIZE);
            break;
        }
        size_t room = buf_tail_room(&r->in);
        ssize_t n = conn_read(c, buf_tail(&r->in), room);
        if (n == -EAGAIN)
            break;
        if (n <= 0) {
            if (n == 0)
                rds_set_err(r, "connection closed by redis");
            else
                rds_set_err(r, "read from redis failed: %s",
                            *conn_error(c) ? conn_error(c) : strerror((int)-n));
            rds_drop(r, n == 0 ? -ECONNRESET : (int)n);
            break;
        }
        buf_commit(&r->in, (size_t)n);
        drain_input(r);
        if (r->dead || gen != r->gen || (size_t)n < room)
            break;
    }
    if (!r->dead)
        buf_shrink_idle(&r->in, RDS_IN_KEEP);
    rds_leave(r);
}

static void on_connect(conn *c, int status, void *ud)
{
    rds *r = ud;
    rds_enter(r);
    if (status < 0) {
        rds_set_err(r, "%s", conn_error(c));
        rds_drop(r, status);
    } else {
        /* whatever the old connection left unparsed */
        buf_reset(&r->in);
        rds_scan_reset(&r->scan);
        start_handshake(r);
    }
    rds_leave(r);
}

static void on_drained(conn *c, void *ud)
{
    rds *r = ud;
    rds_enter(r);
    rds_flush(r); /* output that did not fit earlier */
    rds_leave(r);
}

static void on_error(conn *c, int err, void *ud)
{
    rds *r = ud;
    rds_enter(r);
    rds_set_err(r, "%s", conn_error(c));
    rds_drop(r, err);
    rds_leave(r);
}

static const conn_cbs rds_conn_cbs = {
    .on_connect = on_connect,
    .on_readable = on_readable,
    .on_drained = on_drained,
    .on_error = on_error,
};

static void connect_start(rds *r)
{
    char host[RDS_HOST_MAX];
    int port = r->url.port;
    snprintf(host, sizeof host, "%s", r->url.host);
    if (r->ever_tried)
        r->st.reconnects++;
    r->ever_tried = true;
    r->gen++;
    r->state = RDS_S_CONNECTING;
    r->err[0] = '\0';
    if (r->addr_provider) {
        int rc = r->addr_provider(r, host, sizeof host, &port, r->addr_arg);
        if (rc < 0) {
            rds_set_err(r, "address provider: %s", strerror(-rc));
            rds_drop(r, rc);
            return;
        }
    }
    conn_connect_opts co = {
        .host = host,
        .port = port,
        .tls = r->tls,
        .server_name = r->url.server_name,
        .connect_timeout_ms = r->connect_timeout_ms,
    };
    int rc = conn_connect(r->loop, &co, &rds_conn_cbs, r, &r->c);
    if (rc < 0) {
        rds_set_err(r, "cannot connect to %s:%d: %s", host, port, strerror(-rc));
        rds_drop(r, rc);
        return;
    }
    conn_set_out_max(r->c, r->max_out_bytes + (1u << 20));
}

/* ---- creating and freeing ---- */

static int make_tls(rds *r, char *err, size_t errlen)
{
    if (!r->url.tls)
        return 0;
    conn_tls_opts to = {
        .ca_file = r->url.ca_file,
        .cert_file = r->url.cert_file,
        .key_file = r->url.key_file,
        .insecure_skip_verify = r->url.insecure,
    };
    return conn_tls_client_new(&to, &r->tls, err, errlen);
}

#define OR_DEFAULT(v, d) ((v) ? (v) : (d))

int rds_new(ev_loop *loop, const rds_opts *o, rds **out, char *err, size_t errlen)
{
    char scratch[RDS_ERROR_MAX];
    if (!err || !errlen) {
        err = scratch;
        errlen = sizeof scratch;
    }
    *out = NULL;
    if (!o || !o->url) {
        snprintf(err, errlen, "no redis URL");
        return -EINVAL;
    }
    rds *r = xcalloc(1, sizeof *r);
    int rc = rds_url_parse(o->url, &r->url, err, errlen);
    if (rc == 0)
        rc = make_tls(r, err, errlen);
    if (rc < 0) {
        rds_url_free(&r->url);
        free(r);
        return rc;
    }
    r->loop = loop;
    r->connect_timeout_ms = OR_DEFAULT(o->connect_timeout_ms, RDS_CONNECT_TIMEOUT_DEFAULT_MS);
    r->command_timeout_ms = OR_DEFAULT(o->command_timeout_ms, RDS_COMMAND_TIMEOUT_DEFAULT_MS);
    r->backoff_min_ms = OR_DEFAULT(o->backoff_min_ms, RDS_BACKOFF_MIN_DEFAULT_MS);
    r->backoff_max_ms = LO_MAX(OR_DEFAULT(o->backoff_max_ms, RDS_BACKOFF_MAX_DEFAULT_MS),
                               r->backoff_min_ms);
    r->ping_interval_ms = OR_DEFAULT(o->ping_interval_ms, RDS_PING_INTERVAL_DEFAULT_MS);
    r->max_pending = OR_DEFAULT(o->max_pending, RDS_MAX_PENDING_DEFAULT);
    r->max_out_bytes = OR_DEFAULT(o->max_out_bytes, RDS_MAX_OUT_BYTES_DEFAULT);
    r->fail_fast = o->fail_fast;
    r->on_state = o->on_state;
    r->state_arg = o->state_arg;
    r->addr_provider = o->addr_provider;
    r->addr_arg = o->addr_arg;
    r->on_message = o->on_message;
    r->message_arg = o->message_arg;
    rds_fifo_init(&r->pending);
    rds_fifo_init(&r->failed);
    buf_init(&r->out, r->max_out_bytes);
    buf_init(&r->in, RDS_REPLY_MAX);
    ev_timer_init(&r->retry_timer, retry_due, r);
    ev_timer_init(&r->deadline_timer, rds_on_deadline, r);
    ev_timer_init(&r->ping_timer, rds_pubsub_on_ping, r);
    ev_timer_init(&r->tick_timer, tick, r);
    ev_timer_init(&r->hs_timer, handshake_timeout, r);
    r->state = RDS_S_DOWN;
    *out = r;
    /* The first attempt runs from the loop: no callback inside rds_new(). */
    ev_timer_start(loop, &r->retry_timer, 0);
    return 0;
}

void rds_free(rds *r)
{
    if (!r || r->dead)
        return;
    rds_enter(r);
    r->dead = true;
    close_conn(r);
    r->state = RDS_S_DOWN;
    ev_timer_stop(r->loop, &r->retry_timer);
    ev_timer_stop(r->loop, &r->deadline_timer);
    ev_timer_stop(r->loop, &r->tick_timer);
    rds_set_err(r, "client freed");
    /* Callbacks see r->dead: new commands are refused with -ECANCELED. */
    rds_fail_queued(r, -ECANCELED);
    rds_deliver_failed(r);
    rds_fifo_free(&r->pending);
    rds_fifo_free(&r->failed);
    buf_free(&r->out);
    rds_pubsub_free(r);
    conn_tls_free(r->tls);
    r->tls = NULL;
    rds_url_free(&r->url);
    rds_leave(r);
}
