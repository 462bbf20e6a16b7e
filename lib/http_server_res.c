/* http_server_res.c — the handler's side of a server request: reading the
 * head and body, and writing the response (whole, Content-Length streamed,
 * or chunked), with the request's lifetime rules (see http_server.h). */
#include "http_server_int.h"
#include "common.h"
#include "http_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include <time.h>

static const char continue_line[] = "HTTP/1.1 100 Continue\r\n\r\n";

http_req *req_alloc(http_server *s)
{
    http_req *r = s->spare;
    s->live_reqs++;
    if (!r) {
        r = xcalloc(1, sizeof *r);
        r->srv = s;
        pool_init(&r->pool, 0);
        buf_init(&r->res_fields, HTTP_SERVER_RES_HEAD_MAX);
        buf_init(&r->res_head, HTTP_SERVER_RES_HEAD_MAX);
        return r;
    }
    s->spare = r->next_spare;
    s->nspare--;
    pool keep_pool = r->pool;
    buf_t keep_fields = r->res_fields, keep_head = r->res_head;
    memset(r, 0, sizeof *r);
    r->srv = s;
    r->pool = keep_pool;
    r->res_fields = keep_fields;
    r->res_head = keep_head;
    return r;
}

static void req_destroy(http_req *r)
{
    pool_destroy(&r->pool);
    buf_free(&r->res_fields);
    buf_free(&r->res_head);
    free(r);
}

void req_unref(http_req *r)
{
    if (--r->refs > 0)
        return;
    http_server *s = r->srv;
    buf_free(&r->body_buf);
    s->live_reqs--;
    if (s->freed) {
        req_destroy(r);
        if (s->live_reqs == 0)
            free(s);
        return;
    }
    if (s->nspare >= HTTP_SERVER_SPARE_MAX) {
        req_destroy(r);
        return;
    }
    /* Kept with one pool block and its head buffers for the next request. */
    pool_clear(&r->pool);
    buf_reset(&r->res_fields);
    buf_shrink_idle(&r->res_fields, HTTP_SERVER_SPARE_KEEP);
    buf_reset(&r->res_head);
    buf_shrink_idle(&r->res_head, HTTP_SERVER_SPARE_KEEP);
    r->next_spare = s->spare;
    s->spare = r;
    s->nspare++;
}

void req_free_spares(http_server *s)
{
    while (s->spare) {
        http_req *r = s->spare;
        s->spare = r->next_spare;
        s->nspare--;
        req_destroy(r);
    }
}

/* The handler is done with r; r may be freed by this call. */
static void finish_handler(http_req *r)
{
    r->handler_done = true;
    req_unref(r);
}

/* An IMF-fixdate for the Date field, formatted once per second. */
static const char *date_now(void)
{
    static time_t last;
    static char text[40];
    time_t now = time(NULL);
    if (now != last) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        last = now;
    }
    return text;
}

/* Writes iov (after the pending response head, if any). */
static int send_iov(http_req *r, const struct iovec *iov, int n)
{
    hconn *hc = r->hc;
    struct iovec v[8];
    int k = 0;
    if (!buf_empty(&r->res_head)) {
        v[k].iov_base = buf_data(&r->res_head);
        v[k++].iov_len = buf_len(&r->res_head);
    }
    for (int i = 0; i < n && k < (int)LO_ARRAY_SIZE(v); i++)
        if (iov[i].iov_len)
            v[k++] = iov[i];
    if (k == 0)
        return 0;
    int rc = conn_writev(hc->c, v, k);
    buf_reset(&r->res_head);
    if (rc < 0) {
        hconn_doom(hc, false);
        return rc;
    }
    hconn_watch_output(hc);
    return 0;
}

void req_send_continue(http_req *r)
{
    if (!r->hc || !r->head.expect_continue || r->sent_continue || r->res_started)
        return;
    r->sent_continue = true;
    if (conn_write(r->hc->c, continue_line, sizeof continue_line - 1) < 0)
        hconn_doom(r->hc, false);
}

void req_fail(hconn *hc, int status, const char *why)
{
    http_req *r = hc->req;
    hc->srv->stats.errors++;
    if (!r || !r->res_started) {
        char body[256], head[256];
        int bn = snprintf(body, sizeof body, "%d %s: %s\n", status, http_status_reason(status),
                          why);
        if (bn < 0 || (size_t)bn >= sizeof body)
            bn = (int)strlen(body);
        int hn = snprintf(head, sizeof head,
                          "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Type: text/plain\r\n"
                          "Content-Length: %d\r\nConnection: close\r\n\r\n",
                          status, http_status_reason(status), date_now(), bn);
        struct iovec v[2] = { { head, (size_t)hn }, { body, (size_t)bn } };
        conn_writev(hc->c, v, 2);
        if (r) {
            r->res_started = true;
            r->res_done = true;
        }
    }
    hconn_doom(hc, true);
}

/* ---- request accessors ---- */

const http_request *http_req_head(const http_req *r) { return &r->head; }

const http_header *http_req_header(const http_req *r, const char *name)
{
    return http_header_find(r->head.headers, r->head.nheaders, name);
}

const char *http_req_body(const http_req *r, size_t *len)
{
    if (r->streaming) {
        *len = 0;
        return NULL;
    }
    buf_t *b = (buf_t *)&r->body_buf;
    *len = buf_len(b);
    if (buf_len(b) == 0)
        return "";
    if (buf_tail_room(b) == 0 && buf_reserve(b, 1) < 0)
        return NULL; /* not reached: the buffer has room for the NUL */
    *buf_tail(b) = '\0';
    return buf_data(b);
}

pool *http_req_pool(http_req *r) { return &r->pool; }

void http_req_peer(const http_req *r, char *buf, size_t len)
{
    hconn *hc = r->hc;
    if (!hc) {
        if (len)
            snprintf(buf, len, "-");
        return;
    }
    if (!hc->peer[0]) /* once per connection: inet_ntop and printf cost */
        conn_peer_str(hc->c, hc->peer, sizeof hc->peer);
    size_t n = strlen(hc->peer);
    if (len == 0)
        return;
    if (n >= len)
        n = len - 1;
    memcpy(buf, hc->peer, n);
    buf[n] = 0;
}

bool http_req_alive(const http_req *r) { return r->hc != NULL; }

void http_req_on_cancel(http_req *r, void (*cb)(http_req *r, void *arg), void *arg)
{
    r->on_cancel = cb;
    r->cancel_arg = arg;
}

/* ---- streamed request bodies ---- */

void http_req_read_body(http_req *r, http_body_data_cb *on_data, http_body_end_cb *on_end,
                        void *arg)
{
    if (r->reader)
        return;
    r->reader = true;
    r->on_data = on_data;
    r->on_end = on_end;
    r->body_arg = arg;
    if (!r->hc) {
        r->body_ended = true;
        on_end(r, -ECONNRESET, arg);
        return;
    }
    hconn *hc = r->hc;
    hconn_enter(hc);
    if (!r->streaming) {
        /* Buffered mode: the whole body is there already. */
        if (buf_len(&r->body_buf))
            on_data(r, buf_data(&r->body_buf), buf_len(&r->body_buf), arg);
        r->body_ended = true;
        on_end(r, 0, arg);
    } else if (http_body_done(&r->body)) {
        r->body_ended = true;
        on_end(r, 0, arg);
    } else {
        req_send_continue(r);
        hconn_kick_body(hc);
    }
    hconn_leave(hc);
}

void http_req_pause_body(http_req *r)
{
    r->body_paused = true;
    if (r->hc && r->hc->wait == HC_WAIT_BODY) {
        r->hc->wait = HC_WAIT_NONE;
        ev_timer_stop(r->srv->loop, &r->hc->rtimer);
    }
}

void http_req_resume_body(http_req *r)
{
    if (!r->body_paused)
        return;
    r->body_paused = false;
    if (!r->hc)
        return;
    hconn *hc = r->hc;
    hconn_enter(hc);
    hconn_kick_body(hc);
    hconn_leave(hc);
}

/* ---- responses ---- */

/* Appends "name: value\r\n" to b (no formatting: this runs per response). */
static int append_field(buf_t *b, const char *name, size_t nl, const char *value, size_t vl)
{
    size_t need = nl + vl + 4;
    int rc = buf_reserve(b, need);
    if (rc < 0)
        return rc;
    char *p = buf_tail(b);
    http_copy_short(p, name, nl);
    memcpy(p + nl, ": ", 2);
    http_copy_short(p + nl + 2, value, vl);
    memcpy(p + nl + 2 + vl, "\r\n", 2);
    buf_commit(b, need);
    return 0;
}

/* Appends the status line "HTTP/1.1 NNN Reason\r\n" (status 200..999). */
static int append_status_line(buf_t *b, int status)
{
    const char *reason = http_status_reason(status);
    size_t rl = strlen(reason);
    int rc = buf_reserve(b, 9 + 3 + 1 + rl + 2);
    if (rc < 0)
        return rc;
    char *p = buf_tail(b);
    memcpy(p, "HTTP/1.1 ", 9);
    p[9] = (char)('0' + status / 100);
    p[10] = (char)('0' + status / 10 % 10);
    p[11] = (char)('0' + status % 10);
    p[12] = ' ';
    memcpy(p + 13, reason, rl);
    memcpy(p + 13 + rl, "\r\n", 2);
    buf_commit(b, 9 + 3 + 1 + rl + 2);
    return 0;
}

/* Adds a field whose bytes are known to be fine. */
static int add_field(http_req *r, http_str name, http_str value)
{
    /* The server frames the response itself: framing fields from the handler
     * (a proxy copying its upstream's, say) would contradict it. */
    switch (name.len) {
    case 4:
        if (http_ieq_token(name.p, "date", 4))
            r->res_has_date = true;
        break;
    case 10:
        if (http_ieq_token(name.p, "connection", 10)) {
            if (http_list_has_token(value, "close"))
                r->hc->closing = true;
            return 0;
        }
        break;
    case 14:
        if (http_ieq_token(name.p, "content-length", 14))
            return 0;
        break;
    case 17:
        if (http_ieq_token(name.p, "transfer-encoding", 17))
            return 0;
        break;
    }
    return append_field(&r->res_fields, name.p, name.len, value.p, value.len);
}

int http_res_header_str(http_req *r, http_str name, http_str value)
{
    if (!r->hc)
        return -ECONNRESET;
    if (r->res_started || !http_field_ok(name, true) || !http_field_ok(value, false))
        return -EINVAL;
    return add_field(r, name, value);
}

int http_res_header_parsed(http_req *r, const http_header *h)
{
    if (!r->hc)
        return -ECONNRESET;
    if (r->res_started || h->name.len == 0)
        return -EINVAL;
    return add_field(r, h->name, h->value);
}

int http_res_header(http_req *r, const char *name, const char *value)
{
    return http_res_header_str(r, (http_str){ name, strlen(name) },
                               (http_str){ value, strlen(value) });
}

static int start_response(http_req *r, int status, int64_t content_length)
{
    hconn *hc = r->hc;
    if (r->res_started || status < 200 || status > 999)
        return -EINVAL;
    bool bodiless_status = status == 204 || status == 304;
    r->res_started = true;
    r->res_nobody = bodiless_status || r->head.meth == HTTP_M_HEAD;
    if (hc->srv->draining)
        hc->closing = true;
    /* The client could not send the body it announced: do not keep the
     * connection, the rest of the body would be read as a request. */
    if (r->head.expect_continue && !r->sent_continue && !http_body_done(&r->body))
        hc->closing = true;
    buf_t *h = &r->res_head;
    int rc = append_status_line(h, status);
    if (rc == 0 && !r->res_has_date) {
        const char *date = date_now();
        rc = append_field(h, "Date", 4, date, strlen(date));
    }
    if (rc == 0 && !buf_empty(&r->res_fields))
        rc = buf_append(h, buf_data(&r->res_fields), buf_len(&r->res_fields));
    buf_reset(&r->res_fields);
    if (rc == 0 && !bodiless_status) {
        if (content_length >= 0) {
            char num[20];
            size_t nl = lo_u64_dec((uint64_t)content_length, num);
            rc = append_field(h, "Content-Length", 14, num, nl);
            r->res_left = content_length;
        } else if (r->head.minor == 1) {
            rc = buf_append_str(h, "Transfer-Encoding: chunked\r\n");
            r->res_chunked = true;
        } else {
            hc->closing = true; /* HTTP/1.0: the body ends with the connection */
        }
    }
    if (rc == 0) {
        if (hc->closing)
            rc = buf_append_str(h, "Connection: close\r\n\r\n");
        else if (r->head.minor == 0)
            rc = buf_append_str(h, "Connection: keep-alive\r\n\r\n");
        else
            rc = buf_append_str(h, "\r\n");
    }
    return rc;
}

static int write_body(http_req *r, const void *data, size_t len)
{
    if (!r->res_started || r->res_done)
        return -EINVAL;
    if (r->res_left >= 0) {
        if ((uint64_t)len > (uint64_t)r->res_left)
            return -EINVAL;
        r->res_left -= (int64_t)len;
    }
    if (r->res_nobody || len == 0)
        return 0;
    if (r->res_chunked) {
        char size[24];
        int n = snprintf(size, sizeof size, "%zx\r\n", len);
        struct iovec v[3] = { { size, (size_t)n }, { (void *)data, len }, { "\r\n", 2 } };
        return send_iov(r, v, 3);
    }
    struct iovec v = { (void *)data, len };
    return send_iov(r, &v, 1);
}

/* Writes the end of the body (and a head not yet sent). */
static int end_body(http_req *r)
{
    if (r->res_left > 0 && !r->res_nobody)
        r->hc->closing = true; /* short body: only a close can end it */
    if (r->res_chunked && !r->res_nobody) {
        struct iovec v = { "0\r\n\r\n", 5 };
        return send_iov(r, &v, 1);
    }
    return send_iov(r, NULL, 0);
}

/* The response is over: let the connection go on. */
static void complete(http_req *r)
{
    r->res_done = true;
    if (r->hc && !r->hc->doomed)
        hconn_process(r->hc);
}

int http_res_start(http_req *r, int status, int64_t content_length)
{
    if (!r->hc)
        return -ECONNRESET;
    return start_response(r, status, content_length);
}

int http_res_write(http_req *r, const void *data, size_t len)
{
    if (!r->hc)
        return -ECONNRESET;
    hconn *hc = r->hc;
    hconn_enter(hc);
    int rc = write_body(r, data, len);
    hconn_leave(hc);
    return rc;
}

int http_res_end(http_req *r)
{
    if (r->handler_done)
        return -EINVAL;
    if (!r->hc) {
        finish_handler(r);
        return -ECONNRESET;
    }
    if (!r->res_started) {
        http_req_release(r);
        return -EINVAL;
    }
    hconn *hc = r->hc;
    hconn_enter(hc);
    int rc = r->res_done ? 0 : end_body(r);
    complete(r);
    finish_handler(r);
    hconn_leave(hc);
    return rc;
}

int http_respond(http_req *r, int status, const char *content_type, const void *body, size_t len)
{
    if (r->handler_done)
        return -EINVAL;
    if (!r->hc) {
        finish_handler(r);
        return -ECONNRESET;
    }
    if (r->res_started) {
        http_req_release(r);
        return -EINVAL;
    }
    hconn *hc = r->hc;
    hconn_enter(hc);
    int rc = 0;
    if (content_type)
        rc = http_res_header(r, "Content-Type", content_type);
    if (rc == 0)
        rc = start_response(r, status, (int64_t)len);
    if (rc == 0)
        rc = write_body(r, body, len);
    if (rc == 0 && !hc->doomed)
        rc = end_body(r);
    if (rc < 0 && !hc->doomed)
        hconn_doom(hc, true); /* the response is in an unknown state */
    complete(r);
    finish_handler(r);
    hconn_leave(hc);
    return rc;
}

size_t http_res_pending(const http_req *r) { return r->hc ? conn_out_pending(r->hc->c) : 0; }

void http_res_on_drain(http_req *r, void (*cb)(http_req *r, void *arg), void *arg)
{
    r->on_drain = cb;
    r->drain_arg = arg;
}

void http_req_release(http_req *r)
{
    if (r->handler_done)
        return;
    if (!r->hc) {
        finish_handler(r);
        return;
    }
    hconn *hc = r->hc;
    hconn_enter(hc);
    if (!r->res_started) {
        static const char msg[] = "500 Internal Server Error\n";
        if (start_response(r, 500, sizeof msg - 1) == 0 && write_body(r, msg, sizeof msg - 1) == 0)
            end_body(r);
    } else if (!r->res_done) {
        hconn_doom(hc, true); /* cut short: the client sees the close */
    }
    complete(r);
    finish_handler(r);
    hconn_leave(hc);
}
