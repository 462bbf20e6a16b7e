/* http_client.c — the HTTP/1.1 client: connection pool, request writing,
 * response reading, timeouts, the retry of idempotent requests on stale
 * pooled connections. */
#include "http_client.h"
#include "buf.h"
#include "common.h"
#include "http_int.h"
#include "pool.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#define KEY_MAX 300
#define CLIENT_SPARE_MAX 64                          /* finished requests kept for reuse */
#define CLIENT_IN_KEEP (2 * HTTP_CLIENT_READ_CHUNK)  /* idle conns keep their input buffer */
#define CLIENT_OUT_KEEP 4096                         /* spare requests keep their output buffer */

typedef struct cconn cconn;

struct http_client {
    ev_loop *loop;
    http_client_opts o;
    cconn *idle;           /* idle pooled connections, most recent first */
    size_t nidle;
    http_creq *active;     /* requests not yet finished */
    http_creq *spare;      /* freed requests kept for reuse (next-linked) */
    size_t nspare;
    bool freeing;          /* http_client_free() is running */
    uint64_t connects;
};

struct cconn {
    http_client *cl;
    conn *c;
    char key[KEY_MAX];     /* host|port|tls */
    buf_t in;
    http_head_parser parser;
    http_header *hdrs;
    http_creq *q;          /* the request using it; NULL when idle */
    cconn *prev, *next;    /* idle list */
    ev_timer idle_timer;
    int depth;
    bool idle;
    bool doomed;
    bool eof;
};

struct http_creq {
    http_client *cl;
    http_creq *prev, *next;
    cconn *cc;
    http_client_req o;     /* callbacks and settings; strings copied to pool */
    pool pool;
    buf_t out;             /* the request head (and whole body) as sent */
    http_response res;
    bool have_head;
    http_body body;
    buf_t body_buf;
    ev_timer timer;
    int pending_err;       /* a failure to report from the loop */
    int depth;
    int64_t req_left;      /* streamed Content-Length bytes still due */
    bool head_method;
    bool idempotent;
    bool reused;
    bool got_bytes;        /* some response byte arrived on this attempt */
    bool retried;
    bool req_ended;        /* the whole request has been handed to the conn */
    bool paused;
    bool done;
    bool cancelled;
    /* Strings last: a reused request only clears their first byte. */
    char key[KEY_MAX];
    char peer[KEY_MAX];    /* "host:port" for messages, filled by creq_peer() */
    char err[HTTP_CLIENT_ERROR_MAX];
};

static void process_input(http_creq *q);
static void send_request(http_creq *q);

/* ---- connections ---- */

static void cconn_free(cconn *cc)
{
    ev_timer_stop(cc->cl->loop, &cc->idle_timer);
    conn_close(cc->c);
    buf_free(&cc->in);
    free(cc->hdrs);
    free(cc);
}

static void idle_unlink(cconn *cc)
{
    if (!cc->idle)
        return;
    http_client *cl = cc->cl;
    if (cc->prev)
        cc->prev->next = cc->next;
    else
        cl->idle = cc->next;
    if (cc->next)
        cc->next->prev = cc->prev;
    cc->prev = cc->next = NULL;
    cc->idle = false;
    cl->nidle--;
    /* The idle timer stays armed (it checks cc->idle when it fires): a
     * connection taken for every request would otherwise leave and enter
     * the loop's timer heap each time; to_idle() re-arms it in place. */
}

static void cconn_doom(cconn *cc)
{
    if (cc->doomed)
        return;
    cc->doomed = true;
    idle_unlink(cc);
    cc->q = NULL;
    if (cc->depth == 0)
        cconn_free(cc);
}

static void cconn_leave(cconn *cc)
{
    if (--cc->depth == 0 && cc->doomed)
        cconn_free(cc);
}

static void on_idle_timeout(ev_loop *loop, ev_timer *t, void *arg)
{
    cconn *cc = arg;
    if (cc->idle)
        cconn_doom(cc);
}

static void to_idle(cconn *cc)
{
    http_client *cl = cc->cl;
    unsigned same = 0;
    if (cl->nidle >= cl->o.max_idle_per_host) /* else there is room for sure */
        for (cconn *x = cl->idle; x; x = x->next)
            same += strcmp(x->key, cc->key) == 0;
    if (same >= cl->o.max_idle_per_host || cc->eof || !buf_empty(&cc->in)) {
        cconn_doom(cc);
        return;
    }
    cc->q = NULL;
    cc->idle = true;
    cc->next = cl->idle;
    cc->prev = NULL;
    if (cl->idle)
        cl->idle->prev = cc;
    cl->idle = cc;
    cl->nidle++;
    http_head_parser_reset(&cc->parser);
    buf_shrink_idle(&cc->in, CLIENT_IN_KEEP);
    ev_timer_start(cl->loop, &cc->idle_timer, cl->o.idle_timeout_ms);
}

static cconn *take_idle(http_client *cl, const char *key)
{
    for (cconn *cc = cl->idle; cc; cc = cc->next)
        if (strcmp(cc->key, key) == 0) {
            idle_unlink(cc);
            return cc;
        }
    return NULL;
}

/* ---- finishing a request ---- */

static void unlink_active(http_creq *q)
{
    http_client *cl = q->cl;
    if (q->prev)
        q->prev->next = q->next;
    else if (cl->active == q)
        cl->active = q->next;
    if (q->next)
        q->next->prev = q->prev;
    q->prev = q->next = NULL;
}

static void creq_free(http_creq *q)
{
    http_client *cl = q->cl;
    ev_timer_stop(cl->loop, &q->timer);
    buf_free(&q->body_buf);
    if (cl->nspare < CLIENT_SPARE_MAX && !cl->freeing) {
        /* Kept with one pool block and its output buffer for the next request. */
        pool_clear(&q->pool);
        buf_reset(&q->out);
        buf_shrink_idle(&q->out, CLIENT_OUT_KEEP);
        q->next = cl->spare;
        cl->spare = q;
        cl->nspare++;
        return;
    }
    pool_destroy(&q->pool);
    buf_free(&q->out);
    free(q);
}

/* A zeroed request, from the spares when there is one. */
static http_creq *creq_alloc(http_client *cl)
{
    http_creq *q = cl->spare;
    if (!q) {
        q = xcalloc(1, sizeof *q);
        pool_init(&q->pool, 0);
        buf_init(&q->out, (size_t)64 << 20);
        return q;
    }
    cl->spare = q->next;
    cl->nspare--;
    pool keep_pool = q->pool;
    buf_t keep_out = q->out;
    memset(q, 0, offsetof(http_creq, key));
    q->key[0] = q->peer[0] = q->err[0] = 0;
    q->pool = keep_pool;
    q->out = keep_out;
    return q;
}

/* "host:port" ("[v6]:port") of the request's upstream, for messages. */
static const char *creq_peer(http_creq *q)
{
    if (!q->peer[0])
        snprintf(q->peer, sizeof q->peer, strchr(q->o.host, ':') ? "[%s]:%d" : "%s:%d",
                 q->o.host, q->o.port);
    return q->peer;
}

static void creq_leave(http_creq *q)
{
    if (--q->depth == 0 && (q->done || q->cancelled))
        creq_free(q);
}

/* Lets go of the connection: back to the pool if it can carry another
 * request, closed otherwise. */
static void release_conn(http_creq *q, bool reusable)
{
    cconn *cc = q->cc;
    if (!cc)
        return;
    q->cc = NULL;
    cc->q = NULL;
    if (reusable)
        to_idle(cc);
    else
        cconn_doom(cc);
}

static void finish(http_creq *q, int err)
{
    if (q->done || q->cancelled)
        return;
    q->done = true;
    ev_timer_stop(q->cl->loop, &q->timer);
    bool reusable = err == 0 && q->have_head && q->res.f.keep_alive && q->req_ended &&
                    !q->o.no_reuse;
    release_conn(q, reusable);
    unlink_active(q);
    q->depth++;
    q->o.on_done(q, err, q->o.ud);
    creq_leave(q);
}

static void set_error(http_creq *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(http_creq *q, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q->err, sizeof q->err, fmt, ap);
    va_end(ap);
}

/* A connection-level failure: retried once on a fresh connection when the
 * pooled one turned out stale, else reported. */
static void fail_conn(http_creq *q, int err)
{
    if (q->done || q->cancelled)
        return;
    if (q->reused && !q->got_bytes && !q->retried && q->idempotent && !q->o.body_stream) {
        q->retried = true;
        release_conn(q, false);
        send_request(q);
        return;
    }
    finish(q, err);
}

static void fail_async(http_creq *q, int err)
{
    q->pending_err = err;
    ev_timer_start(q->cl->loop, &q->timer, 0);
}

/* ---- request timer ---- */

static void on_timer(ev_loop *loop, ev_timer *t, void *arg)
{
    http_creq *q = arg;
    q->depth++;
    if (q->pending_err) {
        finish(q, q->pending_err);
    } else if (!q->have_head) {
        set_error(q, "no response from %s within %" PRIu32 " ms", creq_peer(q),
                  q->o.response_timeout_ms);
        finish(q, -ETIMEDOUT);
    } else {
        set_error(q, "response body from %s stalled for %" PRIu32 " ms", creq_peer(q),
                  q->cl->o.read_timeout_ms);
        finish(q, -ETIMEDOUT);
    }
    creq_leave(q);
}

/* ---- conn callbacks ---- */

static void cc_connect(conn *c, int status, void *ud)
{
    cconn *cc = ud;
    if (status == 0)
        return;
    cc->depth++;
    http_creq *q = cc->q;
    if (q) {
        q->depth++;
        set_error(q, "connecting to %s failed: %s", creq_peer(q), conn_error(c));
        release_conn(q, false);
        finish(q, status);
        creq_leave(q);
    }
    cconn_doom(cc);
    cconn_leave(cc);
}

static void read_into(cconn *cc)
{
    http_creq *q = cc->q;
    for (int i = 0; i < 4; i++) {
        size_t room = cc->in.max - buf_len(&cc->in);
        if (room == 0)
            return; /* process_input makes room */
        size_t want = LO_MIN(room, (size_t)HTTP_CLIENT_READ_CHUNK);
        if (buf_reserve(&cc->in, want) < 0)
            return;
        ssize_t n = conn_read(cc->c, buf_tail(&cc->in), want);
        if (n == -EAGAIN)
            return;
        if (n == 0) {
            cc->eof = true;
            conn_pause_read(cc->c);
            return;
        }
        if (n < 0) {
            set_error(q, "reading from %s failed: %s", creq_peer(q), conn_error(cc->c));
            fail_conn(q, (int)n);
            return;
        }
        buf_commit(&cc->in, (size_t)n);
        q->got_bytes = true;
        if (q->have_head)
            ev_timer_start(cc->cl->loop, &q->timer, cc->cl->o.read_timeout_ms);
        if ((size_t)n < want)
            return;
    }
}

static void cc_readable(conn *c, void *ud)
{
    cconn *cc = ud;
    cc->depth++;
    http_creq *q = cc->q;
    if (!q) {
        /* An idle pooled connection: data or EOF means it is no use. */
        char scratch[1];
        ssize_t n = conn_read(c, scratch, sizeof scratch);
        if (n != -EAGAIN)
            cconn_doom(cc);
    } else {
        q->depth++;
        read_into(cc);
        if (!q->done && !q->cancelled && q->cc == cc)
            process_input(q);
        creq_leave(q);
    }
    cconn_leave(cc);
}

static void cc_drained(conn *c, void *ud)
{
    cconn *cc = ud;
    http_creq *q = cc->q;
    if (!q || !q->o.on_drain)
        return;
    cc->depth++;
    q->depth++;
    q->o.on_drain(q, q->o.ud);
    creq_leave(q);
    cconn_leave(cc);
}

static void cc_error(conn *c, int err, void *ud)
{
    cconn *cc = ud;
    cc->depth++;
    http_creq *q = cc->q;
    if (q) {
        q->depth++;
        set_error(q, "connection to %s failed: %s", creq_peer(q), conn_error(c));
        fail_conn(q, err);
        creq_leave(q);
    }
    cconn_doom(cc);
    cconn_leave(cc);
}

static const conn_cbs cconn_cbs = {
    .on_connect = cc_connect,
    .on_readable = cc_readable,
    .on_drained = cc_drained,
    .on_error = cc_error,
};

static cconn *cconn_new(http_client *cl, http_creq *q)
{
    cconn *cc = xcalloc(1, sizeof *cc);
    cc->cl = cl;
    snprintf(cc->key, sizeof cc->key, "%s", q->key);
    buf_init(&cc->in, (size_t)cl->o.limits.head_max + HTTP_CLIENT_READ_CHUNK);
    http_head_parser_init(&cc->parser, &cl->o.limits);
    cc->hdrs = xcalloc(cl->o.limits.headers_max, sizeof *cc->hdrs);
    ev_timer_init(&cc->idle_timer, on_idle_timeout, cc);
    conn_connect_opts co = { .host = q->o.host, .port = q->o.port,
                             .tls = q->o.tls ? cl->o.tls : NULL,
                             .connect_timeout_ms = cl->o.connect_timeout_ms };
    int rc = conn_connect(cl->loop, &co, &cconn_cbs, cc, &cc->c);
    if (rc < 0) {
        buf_free(&cc->in);
        free(cc->hdrs);
        free(cc);
        return NULL;
    }
    cl->connects++;
    return cc;
}

/* ---- the response ---- */

static void deliver(http_creq *q, const char *p, size_t n)
{
    if (q->o.on_data) {
        q->o.on_data(q, p, n, q->o.ud);
    } else if (buf_append(&q->body_buf, p, n) < 0) {
        set_error(q, "response body from %s exceeds %zu bytes", creq_peer(q), q->body_buf.max - 1);
        release_conn(q, false);
        finish(q, -EFBIG);
    }
}

/* Parses a head at the front of the input. 1: a final head was taken, 0:
 * more bytes needed, -1: the request ended (error or skipped). */
static int take_head(http_creq *q, cconn *cc)
{
    http_response tmp = { .headers = cc->hdrs, .headers_cap = cc->cl->o.limits.headers_max };
    const char *data = buf_data(&cc->in);
    ssize_t n = http_parse_response(&cc->parser, data, buf_len(&cc->in), q->head_method, &tmp);
    if (n == 0) {
        if (cc->eof) {
            set_error(q, "%s closed the connection before %s", creq_peer(q),
                      buf_empty(&cc->in) ? "sending a response" : "the response head was complete");
            fail_conn(q, -ECONNRESET);
            return -1;
        }
        return 0;
    }
    if (n < 0) {
        set_error(q, "invalid response from %s: %s", creq_peer(q), http_err_str((int)n));
        release_conn(q, false);
        finish(q, n == -HTTP_E_BODY_TOO_LARGE ? -EFBIG : -EPROTO);
        return -1;
    }
    if (tmp.status < 200 && tmp.status != 101) {
        buf_consume(&cc->in, (size_t)n); /* 100 Continue, 103 Early Hints */
        return 2;
    }
    char *copy = pool_memdup(&q->pool, data, (size_t)n);
    q->res = tmp;
    q->res.headers = pool_memdup(&q->pool, tmp.headers, tmp.nheaders * sizeof *tmp.headers);
    q->res.headers_cap = tmp.nheaders;
    http_response_move(&q->res, data, copy, (size_t)n);
    buf_consume(&cc->in, (size_t)n);
    q->have_head = true;
    http_body_init(&q->body, q->res.f.body, q->res.f.content_length, &q->cl->o.limits);
    ev_timer_start(q->cl->loop, &q->timer, q->cl->o.read_timeout_ms);
    if (q->o.on_head)
        q->o.on_head(q, &q->res, q->o.ud);
    return 1;
}

static void process_input(http_creq *q)
{
    q->depth++;
    while (!q->done && !q->cancelled && q->cc) {
        cconn *cc = q->cc;
        if (!q->have_head) {
            int rc = take_head(q, cc);
            if (rc == 0 || rc < 0)
                break;
            continue;
        }
        if (http_body_done(&q->body)) {
            /* Bytes beyond the response make the connection unusable. */
            finish(q, 0);
            break;
        }
        if (q->paused)
            break;
        if (buf_empty(&cc->in)) {
            if (cc->eof) {
                if (q->body.kind == HTTP_BODY_CLOSE) {
                    finish(q, 0);
                } else {
                    set_error(q, "%s closed the connection in the middle of the response body "
                              "(%" PRIu64 " bytes received)", creq_peer(q), q->body.total);
                    release_conn(q, false);
                    finish(q, -ECONNRESET);
                }
            }
            break;
        }
        http_str piece;
        ssize_t n = http_body_feed(&q->body, buf_data(&cc->in), buf_len(&cc->in), &piece);
        if (n < 0) {
            set_error(q, "invalid response body from %s: %s", creq_peer(q), http_err_str((int)n));
            release_conn(q, false);
            finish(q, n == -HTTP_E_BODY_TOO_LARGE ? -EFBIG : -EPROTO);
            break;
        }
        buf_consume(&cc->in, (size_t)n);
        if (piece.len)
            deliver(q, piece.p, piece.len);
    }
    creq_leave(q);
}

/* ---- requests ---- */

static void send_request(http_creq *q)
{
    http_client *cl = q->cl;
    q->got_bytes = false;
    q->reused = false;
    cconn *cc = q->o.no_reuse ? NULL : take_idle(cl, q->key);
    if (cc) {
        q->reused = true;
    } else {
        cc = cconn_new(cl, q);
        if (!cc) {
            set_error(q, "cannot connect to %s: invalid address", creq_peer(q));
            fail_async(q, -EINVAL);
            return;
        }
    }
    cc->q = q;
    q->cc = cc;
    ev_timer_start(cl->loop, &q->timer, q->o.response_timeout_ms);
    int rc = conn_write(cc->c, buf_data(&q->out), buf_len(&q->out));
    if (rc < 0) {
        set_error(q, "writing to %s failed: %s", creq_peer(q), conn_error(cc->c));
        release_conn(q, false);
        fail_async(q, rc);
    }
}

/* A method, target or host: no control characters, no whitespace. */
static bool text_ok(const char *s)
{
    return http_text_ok(s, strlen(s));
}

/* Appends the pieces in order (no formatting: this runs per request). */
static int append_all(buf_t *b, const http_str *parts, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += parts[i].len;
    int rc = buf_reserve(b, total);
    if (rc < 0)
        return rc;
    char *p = buf_tail(b);
    for (size_t i = 0; i < n; i++) {
        http_copy_short(p, parts[i].p, parts[i].len);
        p += parts[i].len;
    }
    buf_commit(b, total);
    return 0;
}

#define LIT(s) ((http_str){ (s), sizeof(s) - 1 })

/* What the request's method means for the exchange. */
static void method_traits(const char *m, bool *head, bool *idempotent, bool *body)
{
    http_method id = http_method_id(m, strlen(m));
    *head = id == HTTP_M_HEAD;
    *idempotent = id == HTTP_M_GET || id == HTTP_M_HEAD || id == HTTP_M_PUT ||
                  id == HTTP_M_DELETE || id == HTTP_M_OPTIONS || id == HTTP_M_TRACE;
    *body = id == HTTP_M_POST || id == HTTP_M_PUT || id == HTTP_M_PATCH;
}

/* hostname: o->host; port: o->port in decimal. */
static int build_request(http_creq *q, const http_client_req *o, bool body_method,
                         http_str hostname, http_str port)
{
    buf_t *b = &q->out;
    http_str host[5] = { hostname };
    size_t nhost = 1;
    if (!o->host_header) {
        bool v6 = memchr(host[0].p, ':', host[0].len) != NULL;
        if (v6) {
            host[0] = LIT("[");
            host[nhost++] = hostname;
            host[nhost++] = LIT("]");
        }
        if (o->port != (o->tls ? 443 : 80)) {
            host[nhost++] = LIT(":");
            host[nhost++] = port;
        }
    } else {
        host[0] = (http_str){ o->host_header, strlen(o->host_header) };
    }
    http_str line[] = { { o->method, strlen(o->method) }, LIT(" "),
                        { o->target, strlen(o->target) }, LIT(" HTTP/1.1\r\nHost: ") };
    int rc = append_all(b, line, LO_ARRAY_SIZE(line));
    if (rc == 0)
        rc = append_all(b, host, nhost);
    if (rc == 0)
        rc = buf_append(b, "\r\n", 2);
    for (unsigned i = 0; rc == 0 && i < o->nheaders; i++) {
        const http_header *h = &o->headers[i];
        if (!o->parsed && (!http_field_ok(h->name, true) || !http_field_ok(h->value, false)))
            return -EINVAL;
        http_str f[] = { h->name, LIT(": "), h->value, LIT("\r\n") };
        rc = append_all(b, f, LO_ARRAY_SIZE(f));
    }
    if (rc == 0) {
        char num[20];
        http_str cl[] = { LIT("Content-Length: "), { num, 0 }, LIT("\r\n") };
        if (o->body_stream) {
            if (o->body_stream_length >= 0) {
                cl[1].len = lo_u64_dec((uint64_t)o->body_stream_length, num);
                rc = append_all(b, cl, LO_ARRAY_SIZE(cl));
            } else {
                rc = buf_append_str(b, "Transfer-Encoding: chunked\r\n");
            }
        } else if (o->body_len > 0 || body_method) {
            cl[1].len = lo_u64_dec((uint64_t)o->body_len, num);
            rc = append_all(b, cl, LO_ARRAY_SIZE(cl));
        }
    }
    if (rc == 0)
        rc = buf_append(b, "\r\n", 2);
    if (rc == 0 && !o->body_stream && o->body_len)
        rc = buf_append(b, o->body, o->body_len);
    return rc;
}

/* "host|port|tls": which pooled connections can carry the request (host:
 * o->host, port: o->port in decimal). */
static void make_key(char *key, const http_client_req *o, http_str host, http_str port)
{
    size_t hl = host.len;
    if (hl > KEY_MAX - 32)
        hl = KEY_MAX - 32;
    memcpy(key, host.p, hl);
    key[hl++] = '|';
    memcpy(key + hl, port.p, port.len);
    hl += port.len;
    key[hl++] = '|';
    key[hl++] = o->tls ? '1' : '0';
    key[hl] = 0;
}

int http_client_request(http_client *cl, const http_client_req *o, http_creq **out)
{
    if (!o->method || !o->host || !o->target || !o->on_done || o->port <= 0 || o->port > 65535 ||
        !*o->method || !*o->target || !text_ok(o->host) ||
        (!o->parsed && (!text_ok(o->method) || !text_ok(o->target) ||
                        (o->host_header && !text_ok(o->host_header)))) ||
        (o->body_stream && o->body_len) || (o->body_len && !o->body) ||
        (o->tls && !cl->o.tls))
        return -EINVAL;
    http_creq *q = creq_alloc(cl);
    q->cl = cl;
    buf_init(&q->body_buf, cl->o.body_buffer_max + 1);
    ev_timer_init(&q->timer, on_timer, q);
    bool head, idempotent, body_method;
    method_traits(o->method, &head, &idempotent, &body_method);
    char digits[LO_U64_DIGITS];
    http_str port = { digits, lo_u64_dec((uint64_t)o->port, digits) };
    http_str host = { o->host, strlen(o->host) };
    if (build_request(q, o, body_method, host, port) < 0) {
        creq_free(q);
        return -EINVAL;
    }
    q->o = *o;
    q->o.host = pool_strndup(&q->pool, host.p, host.len);
    q->o.method = q->o.target = q->o.host_header = NULL;
    q->o.headers = NULL;
    q->o.body = NULL;
    if (!q->o.response_timeout_ms)
        q->o.response_timeout_ms = cl->o.response_timeout_ms;
    q->head_method = head;
    q->idempotent = idempotent;
    q->req_left = o->body_stream ? o->body_stream_length : 0;
    q->req_ended = !o->body_stream;
    make_key(q->key, o, host, port);
    q->next = cl->active;
    if (cl->active)
        cl->active->prev = q;
    cl->active = q;
    send_request(q);
    if (out)
        *out = q;
    return 0;
}

void http_creq_cancel(http_creq *q)
{
    if (q->done || q->cancelled)
        return;
    q->cancelled = true;
    ev_timer_stop(q->cl->loop, &q->timer);
    release_conn(q, false);
    unlink_active(q);
    if (q->depth == 0)
        creq_free(q);
}

int http_creq_write(http_creq *q, const void *data, size_t len)
{
    if (q->done || q->cancelled || !q->o.body_stream || q->req_ended)
        return -EINVAL;
    if (!q->cc)
        return -ENOTCONN;
    if (len == 0)
        return 0;
    if (q->o.body_stream_length >= 0) {
        if ((uint64_t)len > (uint64_t)q->req_left)
            return -EINVAL;
        q->req_left -= (int64_t)len;
        return conn_write(q->cc->c, data, len);
    }
    char size[24];
    int n = snprintf(size, sizeof size, "%zx\r\n", len);
    struct iovec v[3] = { { size, (size_t)n }, { (void *)data, len }, { "\r\n", 2 } };
    return conn_writev(q->cc->c, v, 3);
}

int http_creq_end(http_creq *q)
{
    if (q->done || q->cancelled || !q->o.body_stream || q->req_ended)
        return -EINVAL;
    if (!q->cc)
        return -ENOTCONN;
    if (q->o.body_stream_length >= 0 && q->req_left != 0)
        return -EINVAL;
    q->req_ended = true;
    if (q->o.body_stream_length < 0)
        return conn_write(q->cc->c, "0\r\n\r\n", 5);
    return 0;
}

size_t http_creq_pending(const http_creq *q) { return q->cc ? conn_out_pending(q->cc->c) : 0; }

void http_creq_pause(http_creq *q)
{
    q->paused = true;
    if (q->cc)
        conn_pause_read(q->cc->c);
}

void http_creq_resume(http_creq *q)
{
    if (!q->paused || q->done || q->cancelled)
        return;
    q->paused = false;
    if (!q->cc)
        return;
    if (!q->cc->eof)
        conn_resume_read(q->cc->c);
    if (q->depth == 0) {
        cconn *cc = q->cc;
        cc->depth++;
        process_input(q);
        cconn_leave(cc);
    }
}

const http_response *http_creq_response(const http_creq *q)
{
    return q->have_head ? &q->res : NULL;
}

const char *http_creq_body(const http_creq *q, size_t *len)
{
    buf_t *b = (buf_t *)&q->body_buf;
    *len = buf_len(b);
    if (buf_len(b) == 0)
        return "";
    if (buf_tail_room(b) == 0 && buf_reserve(b, 1) < 0)
        return NULL;
    *buf_tail(b) = '\0';
    return buf_data(b);
}

const char *http_creq_error(const http_creq *q) { return q->err; }

bool http_creq_reused(const http_creq *q) { return q->reused; }

int http_creq_take_conn(http_creq *q, const conn_cbs *cbs, void *ud, conn **out, buf_t *rest)
{
    cconn *cc = q->cc;
    if (!cc || !q->have_head || q->done || q->cancelled)
        return -EINVAL;
    if (rest && buf_append(rest, buf_data(&cc->in), buf_len(&cc->in)) < 0)
        return -ENOBUFS;
    buf_reset(&cc->in);
    conn *c = cc->c;
    cc->c = NULL; /* cconn_free closes nothing now */
    conn_set_cbs(c, cbs, ud);
    conn_resume_read(c); /* an EOF seen already is read again */
    http_creq_cancel(q);
    *out = c;
    return 0;
}

/* ---- the client ---- */

http_client *http_client_new(ev_loop *loop, const http_client_opts *o)
{
    http_client *cl = xcalloc(1, sizeof *cl);
    cl->loop = loop;
    if (o)
        cl->o = *o;
    http_limits_fill(&cl->o.limits);
    if (!cl->o.response_timeout_ms)
        cl->o.response_timeout_ms = HTTP_CLIENT_RESPONSE_TIMEOUT_DEFAULT_MS;
    if (!cl->o.read_timeout_ms)
        cl->o.read_timeout_ms = HTTP_CLIENT_READ_TIMEOUT_DEFAULT_MS;
    if (!cl->o.idle_timeout_ms)
        cl->o.idle_timeout_ms = HTTP_CLIENT_IDLE_TIMEOUT_DEFAULT_MS;
    if (!cl->o.max_idle_per_host)
        cl->o.max_idle_per_host = HTTP_CLIENT_IDLE_PER_HOST_DEFAULT;
    if (!cl->o.body_buffer_max)
        cl->o.body_buffer_max = HTTP_CLIENT_BODY_BUFFER_DEFAULT;
    return cl;
}

void http_client_free(http_client *cl)
{
    if (!cl)
        return;
    cl->freeing = true;
    while (cl->active)
        http_creq_cancel(cl->active);
    while (cl->idle)
        cconn_doom(cl->idle);
    while (cl->spare) {
        http_creq *q = cl->spare;
        cl->spare = q->next;
        pool_destroy(&q->pool);
        buf_free(&q->out);
        free(q);
    }
    free(cl);
}

size_t http_client_idle_count(const http_client *cl) { return cl->nidle; }

uint64_t http_client_connects(const http_client *cl) { return cl->connects; }
