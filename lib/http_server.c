/* http_server.c — the server's connections: accepting (with a cap),
 * reading, the request loop (parse a head, read its body, hand it to the
 * handler, wait for the response, go on with the next pipelined request),
 * timeouts, drain and teardown. */
#include "http_server_int.h"
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char busy_response[] =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 20\r\n"
    "Connection: close\r\n\r\nServer at capacity.\n";

static void hconn_destroy(hconn *hc);

/* ---- entry and exit ---- */

void hconn_enter(hconn *hc) { hc->depth++; }

void hconn_leave(hconn *hc)
{
    if (--hc->depth > 0)
        return;
    if (hc->doomed)
        hconn_destroy(hc);
}

void hconn_doom(hconn *hc, bool flush)
{
    if (!hc->doomed)
        hc->doom_flush = flush;
    else
        hc->doom_flush = hc->doom_flush && flush;
    hc->doomed = true;
    if (hc->depth == 0)
        hconn_destroy(hc);
}

/* ---- timers ---- */

static void set_wait(hconn *hc, enum hconn_wait w)
{
    const http_server_opts *o = &hc->srv->o;
    if (hc->wait == w && ev_timer_active(&hc->rtimer))
        return;
    hc->wait = w;
    switch (w) {
    case HC_WAIT_NONE:
        /* Left armed (it does nothing then): the next wait re-arms it in
         * place instead of leaving and re-entering the timer heap per request. */
        break;
    case HC_WAIT_NEW:
    case HC_WAIT_HEAD:
        ev_timer_start(hc->srv->loop, &hc->rtimer, o->header_timeout_ms);
        break;
    case HC_WAIT_IDLE:
        ev_timer_start(hc->srv->loop, &hc->rtimer, o->idle_timeout_ms);
        break;
    case HC_WAIT_BODY:
        ev_timer_start(hc->srv->loop, &hc->rtimer, o->body_timeout_ms);
        break;
    }
}

static void on_read_timeout(ev_loop *loop, ev_timer *t, void *arg)
{
    hconn *hc = arg;
    hconn_enter(hc);
    switch (hc->wait) {
    case HC_WAIT_NEW:
        /* Nothing at all arrived: just close. A partial head gets a 408. */
        if (buf_empty(&hc->in)) {
            hconn_doom(hc, false);
            break;
        }
        /* fall through */
    case HC_WAIT_HEAD:
        hc->srv->stats.timeouts++;
        req_fail(hc, 408, "timed out reading the request head");
        break;
    case HC_WAIT_IDLE:
        hconn_doom(hc, false);
        break;
    case HC_WAIT_BODY:
        hc->srv->stats.timeouts++;
        req_fail(hc, 408, "timed out reading the request body");
        if (hc->req && hc->req->reader && !hc->req->body_ended) {
            hc->req->body_ended = true;
            hc->req->on_end(hc->req, -ETIMEDOUT, hc->req->body_arg);
        }
        break;
    case HC_WAIT_NONE:
        break;
    }
    hconn_leave(hc);
}

static void on_send_timeout(ev_loop *loop, ev_timer *t, void *arg)
{
    hconn *hc = arg;
    hconn_enter(hc);
    hc->srv->stats.timeouts++;
    hconn_doom(hc, false);
    hconn_leave(hc);
}

void hconn_watch_output(hconn *hc)
{
    if (conn_out_pending(hc->c) > 0 && !ev_timer_active(&hc->wtimer))
        ev_timer_start(hc->srv->loop, &hc->wtimer, hc->srv->o.send_timeout_ms);
}

/* ---- the request loop ---- */

static void dispatch(hconn *hc, http_req *r)
{
    r->dispatched = true;
    r->refs++;
    hc->srv->stats.requests++;
    hc->srv->o.on_request(r, hc->srv->o.arg);
}

/* Turns a parsed head at the front of hc->in into the current request. */
static void start_request(hconn *hc, const http_request *parsed, size_t head_len)
{
    http_server *s = hc->srv;
    http_req *r = req_alloc(s);
    r->hc = hc;
    r->refs = 1;
    r->res_left = -1;
    buf_init(&r->body_buf, s->o.body_buffer_max + 1);

    /* The head moves into the request's pool, so the input buffer can be
     * reused while the handler works. */
    const char *src = buf_data(&hc->in);
    char *copy = pool_memdup(&r->pool, src, head_len);
    r->head = *parsed;
    r->head.headers = pool_memdup(&r->pool, parsed->headers,
                                  parsed->nheaders * sizeof *parsed->headers);
    r->head.headers_cap = parsed->nheaders;
    http_request_move(&r->head, src, copy, head_len);
    buf_consume(&hc->in, head_len);
    http_body_init(&r->body, r->head.f.body, r->head.f.content_length, &s->o.limits);
    r->streaming = s->o.stream_bodies;
    hc->req = r;
    set_wait(hc, HC_WAIT_NONE);

    if (!r->head.f.keep_alive || s->draining || hc->served + 1 >= s->o.max_requests)
        hc->closing = true;
    if (r->head.expect_other) {
        req_fail(hc, 417, "unsupported expectation");
        return;
    }
    if (!r->streaming) {
        if (r->head.f.body == HTTP_BODY_LENGTH && r->head.f.content_length > s->o.body_buffer_max) {
            req_fail(hc, 413, "request body too large");
            return;
        }
        if (!http_body_done(&r->body)) {
            req_send_continue(r);
            return; /* dispatched once the body is in */
        }
    }
    dispatch(hc, r);
}

/* Feeds waiting input to the body decoder. True if it made progress. */
static bool feed_body(hconn *hc, http_req *r)
{
    if (r->streaming && (!r->reader || r->body_paused))
        return false;
    if (buf_empty(&hc->in)) {
        if (hc->eof)
            hconn_doom(hc, false);
        else if (hc->wait != HC_WAIT_BODY)
            set_wait(hc, HC_WAIT_BODY);
        return false;
    }
    http_str piece;
    ssize_t n = http_body_feed(&r->body, buf_data(&hc->in), buf_len(&hc->in), &piece);
    if (n < 0) {
        /* The error answer goes out first, so the handler finds the
         * response taken when it hears of the failure. */
        req_fail(hc, http_err_status((int)n), http_err_str((int)n));
        if (r->reader && !r->body_ended) {
            r->body_ended = true;
            r->on_end(r, n == -HTTP_E_BODY_TOO_LARGE ? -EFBIG : -EPROTO, r->body_arg);
        }
        return false;
    }
    /* Consuming only moves an offset: piece stays valid below. */
    buf_consume(&hc->in, (size_t)n);
    bool done = http_body_done(&r->body);
    if (done)
        set_wait(hc, HC_WAIT_NONE);
    if (piece.len) {
        if (r->streaming) {
            r->on_data(r, piece.p, piece.len, r->body_arg);
        } else if (buf_len(&r->body_buf) + piece.len > hc->srv->o.body_buffer_max ||
                   buf_append(&r->body_buf, piece.p, piece.len) < 0) {
            req_fail(hc, 413, "request body too large");
            return false;
        }
    }
    if (done && !hc->doomed) {
        if (r->streaming) {
            if (!r->body_ended) {
                r->body_ended = true;
                r->on_end(r, 0, r->body_arg);
            }
        } else {
            dispatch(hc, r);
        }
    }
    return n > 0 || done;
}

/* The exchange is over: the connection lets go of the request. */
static void finish_exchange(hconn *hc)
{
    http_req *r = hc->req;
    hc->req = NULL;
    hc->served++;
    r->hc = NULL;
    req_unref(r);
}

static void process_once(hconn *hc)
{
    http_server *s = hc->srv;
    while (!hc->doomed) {
        http_req *r = hc->req;
        if (!r) {
            if (hc->closing) {
                hconn_doom(hc, true);
                return;
            }
            if (buf_empty(&hc->in)) {
                if (hc->eof)
                    hconn_doom(hc, true);
                else if (hc->wait != HC_WAIT_NEW)
                    set_wait(hc, HC_WAIT_IDLE);
                return;
            }
            http_request parsed = { .headers = hc->hdrs, .headers_cap = s->o.limits.headers_max };
            ssize_t n =
                http_parse_request(&hc->parser, buf_data(&hc->in), buf_len(&hc->in), &parsed);
            if (n == 0) {
                if (hc->eof)
                    hconn_doom(hc, false);
                else if (hc->wait != HC_WAIT_NEW && hc->wait != HC_WAIT_HEAD)
                    set_wait(hc, HC_WAIT_HEAD);
                return;
            }
            if (n < 0) {
                req_fail(hc, http_err_status((int)n), http_err_str((int)n));
                return;
            }
            start_request(hc, &parsed, (size_t)n);
            continue;
        }
        if (hc->eof && !r->res_done) {
            /* The client went away before its answer. */
            hconn_doom(hc, false);
            return;
        }
        if (!http_body_done(&r->body)) {
            if (r->res_done) {
                hc->closing = true; /* answered without reading the body */
                finish_exchange(hc);
                continue;
            }
            if (!feed_body(hc, r))
                return;
            continue;
        }
        if (!r->res_done)
            return;
        finish_exchange(hc);
    }
}

void hconn_process(hconn *hc)
{
    if (hc->processing) {
        hc->reprocess = true;
        return;
    }
    hc->processing = true;
    do {
        hc->reprocess = false;
        process_once(hc);
    } while (hc->reprocess && !hc->doomed);
    hc->processing = false;
    /* Resume reading once there is room again. */
    if (!hc->doomed && hc->read_paused && !hc->eof && buf_len(&hc->in) < hc->in.max) {
        hc->read_paused = false;
        conn_resume_read(hc->c);
    }
}

void hconn_kick_body(hconn *hc)
{
    hconn_process(hc);
}

/* ---- conn callbacks ---- */

static void read_input(hconn *hc)
{
    for (int i = 0; i < 4; i++) {
        size_t room = hc->in.max - buf_len(&hc->in);
        if (room == 0) {
            hc->read_paused = true;
            conn_pause_read(hc->c);
            return;
        }
        size_t want = LO_MIN(room, (size_t)HTTP_SERVER_READ_CHUNK);
        if (buf_reserve(&hc->in, want) < 0)
            return;
        ssize_t n = conn_read(hc->c, buf_tail(&hc->in), want);
        if (n == -EAGAIN)
            return;
        if (n == 0) {
            hc->eof = true;
            hc->read_paused = true;
            conn_pause_read(hc->c);
            return;
        }
        if (n < 0) {
            hconn_doom(hc, false);
            return;
        }
        buf_commit(&hc->in, (size_t)n);
        if (hc->wait == HC_WAIT_IDLE)
            set_wait(hc, HC_WAIT_HEAD);
        else if (hc->wait == HC_WAIT_BODY)
            ev_timer_start(hc->srv->loop, &hc->rtimer, hc->srv->o.body_timeout_ms);
        if ((size_t)n < want)
            return;
    }
}

static void on_readable(conn *c, void *ud)
{
    hconn *hc = ud;
    hconn_enter(hc);
    read_input(hc);
    if (!hc->doomed)
        hconn_process(hc);
    hconn_leave(hc);
}

static void on_drained(conn *c, void *ud)
{
    hconn *hc = ud;
    hconn_enter(hc);
    ev_timer_stop(hc->srv->loop, &hc->wtimer);
    http_req *r = hc->req;
    if (r && r->on_drain && !hc->doomed)
        r->on_drain(r, r->drain_arg);
    hconn_leave(hc);
}

static void on_error(conn *c, int err, void *ud)
{
    hconn *hc = ud;
    hconn_enter(hc);
    hconn_doom(hc, false);
    hconn_leave(hc);
}

static const conn_cbs hconn_cbs = {
    .on_readable = on_readable,
    .on_drained = on_drained,
    .on_error = on_error,
};

static void on_accept(conn_listener *l, conn *c, void *arg)
{
    http_server *s = arg;
    if (s->draining || s->nconns >= s->o.max_conns) {
        s->stats.refused++;
        conn_write(c, busy_response, sizeof busy_response - 1);
        conn_close_flush(c, 1000);
        return;
    }
    hconn *hc = xcalloc(1, sizeof *hc);
    hc->srv = s;
    hc->c = c;
    buf_init(&hc->in, (size_t)s->o.limits.head_max + HTTP_SERVER_READ_CHUNK);
    http_head_parser_init(&hc->parser, &s->o.limits);
    hc->hdrs = xcalloc(s->o.limits.headers_max, sizeof *hc->hdrs);
    ev_timer_init(&hc->rtimer, on_read_timeout, hc);
    ev_timer_init(&hc->wtimer, on_send_timeout, hc);
    hc->next = s->conns;
    if (s->conns)
        s->conns->prev = hc;
    s->conns = hc;
    s->nconns++;
    s->stats.accepted++;
    conn_set_cbs(c, &hconn_cbs, hc);
    set_wait(hc, HC_WAIT_NEW);
}

/* ---- teardown ---- */

static void drain_check(http_server *s)
{
    if (s->draining && s->nconns == 0 && s->drain_done)
        ev_timer_start(s->loop, &s->drain_timer, 0);
}

static void hconn_destroy(hconn *hc)
{
    http_server *s = hc->srv;
    ev_timer_stop(s->loop, &hc->rtimer);
    ev_timer_stop(s->loop, &hc->wtimer);
    hc->depth++; /* callbacks below must not destroy it again */
    http_req *r = hc->req;
    if (r) {
        hc->req = NULL;
        r->hc = NULL;
        r->refs++; /* keep r through the callbacks */
        if (r->reader && !r->body_ended) {
            r->body_ended = true;
            r->on_end(r, -ECONNRESET, r->body_arg);
        }
        if (r->dispatched && !r->handler_done && !r->cancelled) {
            r->cancelled = true;
            if (r->on_cancel)
                r->on_cancel(r, r->cancel_arg);
        }
        req_unref(r); /* the callbacks' hold */
        req_unref(r); /* the connection's */
    }
    if (hc->doom_flush)
        conn_close_flush(hc->c, s->o.send_timeout_ms);
    else
        conn_close(hc->c);
    if (hc->prev)
        hc->prev->next = hc->next;
    else
        s->conns = hc->next;
    if (hc->next)
        hc->next->prev = hc->prev;
    s->nconns--;
    buf_free(&hc->in);
    free(hc->hdrs);
    free(hc);
    drain_check(s);
}

/* ---- the server ---- */

static void on_drain_timer(ev_loop *loop, ev_timer *t, void *arg)
{
    http_server *s = arg;
    void (*done)(http_server *, void *) = s->drain_done;
    s->drain_done = NULL;
    if (done)
        done(s, s->drain_arg);
}

int http_server_start(ev_loop *loop, const http_server_opts *o, http_server **out, char *err,
                      size_t errlen)
{
    if (!o->on_request) {
        if (err && errlen)
            snprintf(err, errlen, "http server: no request handler");
        return -EINVAL;
    }
    http_server *s = xcalloc(1, sizeof *s);
    s->loop = loop;
    s->o = *o;
    http_limits_fill(&s->o.limits);
    if (!s->o.max_conns)
        s->o.max_conns = HTTP_SERVER_MAX_CONNS_DEFAULT;
    if (!s->o.max_requests)
        s->o.max_requests = HTTP_SERVER_MAX_REQUESTS_DEFAULT;
    if (!s->o.header_timeout_ms)
        s->o.header_timeout_ms = HTTP_SERVER_HEADER_TIMEOUT_DEFAULT_MS;
    if (!s->o.body_timeout_ms)
        s->o.body_timeout_ms = HTTP_SERVER_BODY_TIMEOUT_DEFAULT_MS;
    if (!s->o.idle_timeout_ms)
        s->o.idle_timeout_ms = HTTP_SERVER_IDLE_TIMEOUT_DEFAULT_MS;
    if (!s->o.send_timeout_ms)
        s->o.send_timeout_ms = HTTP_SERVER_SEND_TIMEOUT_DEFAULT_MS;
    if (!s->o.body_buffer_max)
        s->o.body_buffer_max = HTTP_SERVER_BODY_BUFFER_DEFAULT;
    ev_timer_init(&s->drain_timer, on_drain_timer, s);
    conn_listen_opts lo = { .host = o->host, .port = o->port, .backlog = o->backlog,
                            .reuseport = o->reuseport, .tls = o->tls };
    int rc = conn_listen(loop, &lo, on_accept, s, &s->listener, err, errlen);
    if (rc < 0) {
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int http_server_port(const http_server *s) { return conn_listener_port(s->listener); }

size_t http_server_conn_count(const http_server *s) { return s->nconns; }

const http_server_stats *http_server_stats_get(const http_server *s) { return &s->stats; }

void http_server_drain(http_server *s, void (*done)(http_server *s, void *arg), void *arg)
{
    s->draining = true;
    s->drain_done = done;
    s->drain_arg = arg;
    conn_listener_close(s->listener);
    s->listener = NULL;
    hconn *hc = s->conns;
    while (hc) {
        hconn *next = hc->next;
        if (!hc->req && buf_empty(&hc->in)) {
            hconn_doom(hc, true); /* idle keep-alive: close now */
        } else if (hc->req) {
            hc->closing = true;
        }
        hc = next;
    }
    drain_check(s);
}

void http_server_free(http_server *s)
{
    if (!s)
        return;
    ev_timer_stop(s->loop, &s->drain_timer);
    s->drain_done = NULL;
    conn_listener_close(s->listener);
    s->listener = NULL;
    while (s->conns) {
        hconn *hc = s->conns;
        hc->doomed = true;
        hc->doom_flush = false;
        hconn_destroy(hc);
    }
    s->freed = true;
    req_free_spares(s);
    if (s->live_reqs == 0)
        free(s); /* else with the last request (req_unref) */
}
