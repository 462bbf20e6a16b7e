/* test_http_client.c — the HTTP/1.1 client core against the server core
 * (keep-alive reuse, chunked and HEAD responses, request bodies whole and
 * streamed, 1xx skipping, timeouts, cancel, back-pressure), against canned
 * byte-exact servers (early close, stale pooled connections, malformed and
 * close-delimited responses) and against a real nginx (keep-alive reuse,
 * static files, chunked responses from gzip and from proxying). */
#include "test.h"
#include "test_http_helpers.h"
#include "http_client.h"
#include "peers.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ---- a request whose outcome is collected ---- */

typedef struct result {
    bool done;
    int err;
    int status;
    int heads;
    int pieces;
    bool reused;
    char error[HTTP_CLIENT_ERROR_MAX];
    buf_t body;
    char clen[32];
    char tenc[32];
    bool cancel_after_first;
    http_creq *q;
} result;

static void res_init(result *r)
{
    memset(r, 0, sizeof *r);
    buf_init(&r->body, 64u << 20);
}

static void res_free(result *r) { buf_free(&r->body); }

static void copy_field(const http_response *res, const char *name, char *out, size_t n)
{
    const http_header *h = http_header_find(res->headers, res->nheaders, name);
    snprintf(out, n, "%.*s", h ? (int)h->value.len : 0, h ? h->value.p : "");
}

static void on_head(http_creq *q, const http_response *res, void *ud)
{
    result *r = ud;
    r->heads++;
    r->status = res->status;
    copy_field(res, "content-length", r->clen, sizeof r->clen);
    copy_field(res, "transfer-encoding", r->tenc, sizeof r->tenc);
}

static void on_data(http_creq *q, const char *d, size_t n, void *ud)
{
    result *r = ud;
    r->pieces++;
    buf_append(&r->body, d, n);
    if (r->cancel_after_first) {
        http_creq_cancel(q);
        r->done = true;
        r->err = -ECANCELED;
    }
}

static void on_done(http_creq *q, int err, void *ud)
{
    result *r = ud;
    r->done = true;
    r->err = err;
    r->reused = http_creq_reused(q);
    snprintf(r->error, sizeof r->error, "%s", http_creq_error(q));
    if (!r->heads && http_creq_response(q))
        r->status = http_creq_response(q)->status;
    size_t n;
    const char *b = http_creq_body(q, &n);
    if (n)
        buf_append(&r->body, b, n);
}

static http_client_req req_of(const char *method, int port, const char *target, result *r,
                              bool stream)
{
    http_client_req o = { .method = method, .host = "127.0.0.1", .port = port, .target = target,
                          .on_head = on_head, .on_data = stream ? on_data : NULL,
                          .on_done = on_done, .ud = r };
    return o;
}

/* Runs one request to completion. */
static int fetch(ev_loop *loop, http_client *cl, http_client_req *o, result *r)
{
    int rc = http_client_request(cl, o, &r->q);
    if (rc < 0)
        return rc;
    if (!WAIT_FOR(loop, r->done))
        return -ETIMEDOUT;
    return 0;
}

static bool body_is(const result *r, const char *s)
{
    return buf_len(&r->body) == strlen(s) && memcmp(buf_data(&r->body), s, strlen(s)) == 0;
}

/* One loop and one client, and the test server when a test asks for it. */
typedef struct fx {
    ev_loop *loop;
    tsrv *t;              /* NULL without the test server */
    http_client *cl;
} fx;

static bool fx_start(fx *f, bool with_server, const http_client_opts *opts)
{
    memset(f, 0, sizeof *f);
    f->loop = ev_loop_new();
    if (with_server && !(f->t = tsrv_start(f->loop, NULL)))
        return false;
    f->cl = http_client_new(f->loop, opts);
    return true;
}

static void fx_stop(fx *f)
{
    if (f->cl)
        http_client_free(f->cl);
    if (f->t)
        tsrv_stop(f->t);
    test_run_for(f->loop, 10);
    ev_loop_free(f->loop);
}

/* res_init()s r and runs method target on port to completion with f's
 * client (streamed: the body through on_data). The caller res_free()s r. */
static int fetch_new(fx *f, const char *method, int port, const char *target, bool stream,
                     result *r)
{
    res_init(r);
    http_client_req o = req_of(method, port, target, r, stream);
    return fetch(f->loop, f->cl, &o, r);
}

/* ---- against the server core ---- */

TEST(http_client_get_and_keep_alive_reuse)
{
    fx f;
    REQUIRE(fx_start(&f, true, NULL));
    for (int i = 0; i < 5; i++) {
        result r;
        REQUIRE(fetch_new(&f, "GET", f.t->port, "/hello", false, &r) == 0);
        CHECK_INT(r.err, 0);
        CHECK_INT(r.status, 200);
        CHECK(body_is(&r, "hello\n"));
        CHECK(r.reused == (i > 0));
        CHECK_INT(http_client_idle_count(f.cl), 1);
        res_free(&r);
    }
    CHECK_INT(http_client_connects(f.cl), 1);
    CHECK_INT(http_server_stats_get(f.t->s)->accepted, 1);
    /* no_reuse: a fresh connection, not pooled afterwards */
    result r;
    res_init(&r);
    http_client_req o = req_of("GET", f.t->port, "/info", &r, false);
    o.no_reuse = true;
    o.host_header = "example.test";
    REQUIRE(fetch(f.loop, f.cl, &o, &r) == 0);
    CHECK(strstr(buf_data(&r.body), "host=example.test") != NULL);
    CHECK_INT(http_client_connects(f.cl), 2);
    CHECK_INT(http_client_idle_count(f.cl), 1);
    res_free(&r);
    fx_stop(&f);
}

TEST(http_client_chunked_head_and_streaming)
{
    fx f;
    REQUIRE(fx_start(&f, true, NULL));
    int port = f.t->port;
    result r;
    REQUIRE(fetch_new(&f, "GET", port, "/chunked?n=20000", true, &r) == 0);
    CHECK_INT(r.err, 0);
    CHECK_STR(r.tenc, "chunked");
    CHECK(r.pieces > 1);
    size_t n = buf_len(&r.body);
    CHECK(n > 100000);
    CHECK(memcmp(buf_data(&r.body) + n - 11, "line 19999\n", 11) == 0);
    res_free(&r);
    /* HEAD: a length but no body, and the connection stays usable */
    REQUIRE(fetch_new(&f, "HEAD", port, "/big?n=5000", false, &r) == 0);
    CHECK_INT(r.err, 0);
    CHECK_STR(r.clen, "5000");
    CHECK_INT(buf_len(&r.body), 0);
    res_free(&r);
    REQUIRE(fetch_new(&f, "GET", port, "/big?n=300000", false, &r) == 0);
    CHECK_INT(buf_len(&r.body), 300000);
    CHECK(r.reused);
    res_free(&r);
    /* 204 and 304 carry no body */
    REQUIRE(fetch_new(&f, "GET", port, "/status?code=304", false, &r) == 0);
    CHECK_INT(r.status, 304);
    CHECK_INT(r.err, 0);
    res_free(&r);
    CHECK_INT(http_client_connects(f.cl), 1);
    fx_stop(&f);
}

typedef struct streamer {
    http_creq *q;
    int sent;
    ev_timer timer;
} streamer;

static void stream_more(ev_loop *loop, ev_timer *tm, void *arg)
{
    streamer *s = arg;
    if (s->sent < 10) {
        char piece[1000];
        memset(piece, 'a' + s->sent, sizeof piece);
        http_creq_write(s->q, piece, sizeof piece);
        s->sent++;
        ev_timer_start(loop, &s->timer, 5);
    } else {
        http_creq_end(s->q);
    }
}

TEST(http_client_request_bodies)
{
    fx f;
    REQUIRE(fx_start(&f, true, NULL));
    ev_loop *loop = f.loop;
    /* whole body */
    result r;
    res_init(&r);
    http_client_req o = req_of("POST", f.t->port, "/echo", &r, false);
    o.body = "{\"k\":42}";
    o.body_len = 8;
    REQUIRE(fetch(loop, f.cl, &o, &r) == 0);
    CHECK(body_is(&r, "{\"k\":42}"));
    res_free(&r);
    /* streamed, chunked, with Expect: the 100 Continue is skipped */
    for (int chunked = 1; chunked >= 0; chunked--) {
        res_init(&r);
        o = req_of("PUT", f.t->port, "/echo", &r, false);
        http_header expect = { { "Expect", 6 }, { "100-continue", 12 } };
        o.headers = &expect;
        o.nheaders = 1;
        o.body_stream = true;
        o.body_stream_length = chunked ? -1 : 10000;
        streamer s = { 0 };
        REQUIRE(http_client_request(f.cl, &o, &s.q) == 0);
        ev_timer_init(&s.timer, stream_more, &s);
        ev_timer_start(loop, &s.timer, 1);
        CHECK(WAIT_FOR(loop, r.done));
        ev_timer_stop(loop, &s.timer);
        CHECK_INT(r.err, 0);
        CHECK_INT(r.status, 200);
        CHECK_INT(r.heads, 1); /* only the final head is reported */
        CHECK_INT(buf_len(&r.body), 10000);
        CHECK(buf_len(&r.body) == 10000 && buf_data(&r.body)[9999] == 'j');
        res_free(&r);
    }
    fx_stop(&f);
}

TEST(http_client_response_timeout_and_refused)
{
    fx f;
    REQUIRE(fx_start(&f, true, &(http_client_opts){ .response_timeout_ms = 200 }));
    result r;
    REQUIRE(fetch_new(&f, "GET", f.t->port, "/hold", false, &r) == 0);
    CHECK_INT(r.err, -ETIMEDOUT);
    CHECK(strstr(r.error, "no response from 127.0.0.1:") != NULL);
    /* the server sees the client go */
    CHECK(WAIT_FOR(f.loop, f.t->cancels == 1));
    res_free(&r);
    int port = peer_free_port();
    REQUIRE(fetch_new(&f, "GET", port, "/", false, &r) == 0);
    CHECK_INT(r.err, -ECONNREFUSED);
    CHECK(strstr(r.error, "connecting to 127.0.0.1:") != NULL);
    res_free(&r);
    CHECK_INT(http_client_request(f.cl, &(http_client_req){ .method = "GET", .host = "127.0.0.1",
                                  .port = port, .target = "/a b", .on_done = on_done }, NULL),
              -EINVAL);
    fx_stop(&f);
}

TEST(http_client_cancel_mid_body)
{
    fx f;
    REQUIRE(fx_start(&f, true, NULL));
    result r;
    res_init(&r);
    r.cancel_after_first = true;
    http_client_req o = req_of("GET", f.t->port, "/big?n=5000000", &r, true);
    REQUIRE(fetch(f.loop, f.cl, &o, &r) == 0);
    CHECK_INT(r.err, -ECANCELED);
    CHECK_INT(r.pieces, 1);
    test_run_for(f.loop, 50);
    CHECK_INT(r.pieces, 1); /* nothing after the cancel */
    CHECK_INT(http_client_idle_count(f.cl), 0);
    CHECK(WAIT_FOR(f.loop, http_server_conn_count(f.t->s) == 0));
    res_free(&r);
    fx_stop(&f);
}

/* Pauses the body at the head, resumes it 50 ms later from a timer. */
typedef struct pauser {
    ev_loop *loop;
    http_creq *q;
    ev_timer timer;
    int resumes;
    result r;
} pauser;

static void resume_later(ev_loop *loop, ev_timer *tm, void *arg)
{
    pauser *p = arg;
    p->resumes++;
    http_creq_resume(p->q);
}

static void pause_head(http_creq *q, const http_response *res, void *ud)
{
    pauser *p = (pauser *)((char *)ud - offsetof(pauser, r));
    on_head(q, res, ud);
    p->q = q;
    http_creq_pause(q);
    ev_timer_start(p->loop, &p->timer, 50);
}

TEST(http_client_pause_and_resume_body)
{
    fx f;
    REQUIRE(fx_start(&f, true, NULL));
    pauser p = { .loop = f.loop };
    res_init(&p.r);
    ev_timer_init(&p.timer, resume_later, &p);
    http_client_req o = req_of("GET", f.t->port, "/big?n=2000000", &p.r, true);
    o.on_head = pause_head;
    REQUIRE(http_client_request(f.cl, &o, NULL) == 0);
    CHECK(WAIT_FOR(f.loop, p.r.heads == 1));
    CHECK(buf_len(&p.r.body) < 2000000);
    CHECK(WAIT_FOR(f.loop, p.r.done));
    CHECK_INT(p.resumes, 1);
    CHECK_INT(p.r.err, 0);
    CHECK_INT(buf_len(&p.r.body), 2000000);
    res_free(&p.r);
    fx_stop(&f);
}

/* ---- canned servers: exact bytes ---- */

#define CANNED_MAX 8

typedef struct canned {
    ev_loop *loop;
    conn_listener *l;
    int port;
    const char *responses[CANNED_MAX]; /* for connection i; the last one repeats */
    int nresponses;
    int close_after_ms;                /* -1 keep open, 0 at once, > 0 after a delay */
    int accepted;
    struct canned_conn {
        struct canned *s;
        conn *c;
        buf_t in;
        bool answered;
        ev_timer timer;
    } conns[CANNED_MAX];
} canned;

static void canned_close_timer(ev_loop *loop, ev_timer *tm, void *arg)
{
    struct canned_conn *cc = arg;
    conn_close(cc->c);
    cc->c = NULL;
}

static void canned_readable(conn *c, void *ud)
{
    struct canned_conn *cc = ud;
    char tmp[4096];
    ssize_t n;
    while ((n = conn_read(c, tmp, sizeof tmp)) > 0)
        buf_append(&cc->in, tmp, (size_t)n);
    if (n == 0 || (n < 0 && n != -EAGAIN)) {
        conn_pause_read(c);
        return;
    }
    if (cc->answered || !memmem(buf_data(&cc->in), buf_len(&cc->in), "\r\n\r\n", 4))
        return;
    cc->answered = true;
    canned *s = cc->s;
    int idx = (int)(cc - s->conns);
    const char *resp = s->responses[idx < s->nresponses ? idx : s->nresponses - 1];
    conn_write(c, resp, strlen(resp));
    if (s->close_after_ms == 0) {
        conn_close_flush(c, 1000);
        cc->c = NULL;
    } else if (s->close_after_ms > 0) {
        ev_timer_start(s->loop, &cc->timer, (uint64_t)s->close_after_ms);
    }
}

static const conn_cbs canned_cbs = { .on_readable = canned_readable };

static void canned_accept(conn_listener *l, conn *c, void *arg)
{
    canned *s = arg;
    if (s->accepted >= CANNED_MAX) {
        conn_close(c);
        return;
    }
    struct canned_conn *cc = &s->conns[s->accepted++];
    cc->s = s;
    cc->c = c;
    buf_init(&cc->in, 1u << 20);
    ev_timer_init(&cc->timer, canned_close_timer, cc);
    conn_set_cbs(c, &canned_cbs, cc);
}

static canned *canned_start(ev_loop *loop, int close_after_ms, const char *r0, const char *r1)
{
    canned *s = xcalloc(1, sizeof *s);
    s->loop = loop;
    s->close_after_ms = close_after_ms;
    s->responses[0] = r0;
    s->nresponses = 1;
    if (r1) {
        s->responses[1] = r1;
        s->nresponses = 2;
    }
    conn_listen_opts lo = { .host = "127.0.0.1" };
    char err[256];
    if (conn_listen(loop, &lo, canned_accept, s, &s->l, err, sizeof err) < 0) {
        free(s);
        return NULL;
    }
    s->port = conn_listener_port(s->l);
    return s;
}

static void canned_stop(canned *s)
{
    for (int i = 0; i < s->accepted; i++) {
        ev_timer_stop(s->loop, &s->conns[i].timer);
        conn_close(s->conns[i].c);
        buf_free(&s->conns[i].in);
    }
    conn_listener_close(s->l);
    free(s);
}

/* A canned answer the client must report as a failure. */
typedef struct bad_answer {
    const char *name;       /* for the failure output */
    const char *resp;
    const char *msg;        /* in the error text */
} bad_answer;

/* One request (method /) to a canned server answering c->resp and closing
 * as close_after_ms says: it must fail with want_err and an error text
 * holding c->msg; a failure prints the case's name. false if the request
 * could not be run at all. */
static bool fails_on_canned(fx *f, const bad_answer *c, int close_after_ms, const char *method,
                            int want_err)
{
    canned *s = canned_start(f->loop, close_after_ms, c->resp, NULL);
    result r;
    if (!s || fetch_new(f, method, s->port, "/", false, &r) != 0) {
        fprintf(stderr, "    case %s: no outcome\n", c->name);
        return false;
    }
    if (r.err != want_err || !strstr(r.error, c->msg))
        fprintf(stderr, "    case %s: err %d, \"%s\"\n", c->name, r.err, r.error);
    CHECK_INT(r.err, want_err);
    CHECK(strstr(r.error, c->msg) != NULL);
    res_free(&r);
    canned_stop(s);
    return true;
}

TEST(http_client_upstream_closes_early)
{
    fx f;
    REQUIRE(fx_start(&f, false, NULL));
    static const bad_answer cases[] = {
        { "nothing", "", "closed the connection before sending a response" },
        { "half a head", "HTTP/1.1 200 OK\r\nContent-Le", "before the response head was complete" },
        { "short body", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc",
          "closed the connection in the middle of the response body (3 bytes received)" },
        { "short chunked body",
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n",
          "in the middle of the response body" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        REQUIRE(fails_on_canned(&f, &cases[i], 0, "POST", -ECONNRESET));
    fx_stop(&f);
}

TEST(http_client_close_delimited_and_invalid_responses)
{
    fx f;
    REQUIRE(fx_start(&f, false, NULL));
    canned *s = canned_start(f.loop, 0, "HTTP/1.1 200 OK\r\nX: y\r\n\r\nuntil the end", NULL);
    REQUIRE(s);
    result r;
    REQUIRE(fetch_new(&f, "GET", s->port, "/", false, &r) == 0);
    CHECK_INT(r.err, 0);
    CHECK(body_is(&r, "until the end"));
    CHECK_INT(http_client_idle_count(f.cl), 0);
    res_free(&r);
    canned_stop(s);
    static const bad_answer bad[] = {
        { "length and chunked",
          "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
          "invalid response" },
        { "two lengths", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n",
          "invalid response" },
        { "bare LF", "HTTP/1.1 200 OK\nContent-Length: 0\n\n", "invalid response" },
        { "bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n",
          "invalid response" },
        { "not HTTP", "SSH-2.0-OpenSSH\r\n\r\n", "invalid response" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        REQUIRE(fails_on_canned(&f, &bad[i], -1, "GET", -EPROTO));
    fx_stop(&f);
}

TEST(http_client_read_timeout)
{
    fx f;
    REQUIRE(fx_start(&f, false, &(http_client_opts){ .read_timeout_ms = 200 }));
    canned *s = canned_start(f.loop, -1, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc", NULL);
    REQUIRE(s);
    result r;
    REQUIRE(fetch_new(&f, "GET", s->port, "/", true, &r) == 0);
    CHECK_INT(r.err, -ETIMEDOUT);
    CHECK(strstr(r.error, "stalled") != NULL);
    CHECK(body_is(&r, "abc"));
    res_free(&r);
    canned_stop(s);
    fx_stop(&f);
}

typedef struct chain {
    http_client *cl;
    int port;
    const char *method;
    result second;
    bool issued;
} chain;

/* Issues the second request from inside the first one's on_done: the
 * pooled connection looks fine, but the upstream is about to close it. */
static void chain_done(http_creq *q, int err, void *ud)
{
    chain *ch = ud;
    http_client_req o = req_of(ch->method, ch->port, "/", &ch->second, false);
    ch->issued = http_client_request(ch->cl, &o, NULL) == 0;
}

TEST(http_client_retries_idempotent_request_on_stale_connection)
{
    fx f;
    REQUIRE(fx_start(&f, false, NULL));
    const char *methods[] = { "GET", "POST" };
    for (int m = 0; m < 2; m++) {
        /* each connection answers once, then closes 50 ms later */
        canned *s = canned_start(f.loop, 50, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nconn 1",
                                 "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nconn 2");
        REQUIRE(s);
        chain ch = { .cl = f.cl, .port = s->port, .method = methods[m] };
        res_init(&ch.second);
        http_client_req o = { .method = "GET", .host = "127.0.0.1", .port = s->port, .target = "/",
                              .on_done = chain_done, .ud = &ch };
        REQUIRE(http_client_request(f.cl, &o, NULL) == 0);
        CHECK(WAIT_FOR(f.loop, ch.second.done));
        CHECK(ch.issued);
        if (m == 0) {
            CHECK_INT(ch.second.err, 0); /* sent again on a fresh connection */
            CHECK(body_is(&ch.second, "conn 2"));
            CHECK_INT(s->accepted, 2);
        } else {
            CHECK_INT(ch.second.err, -ECONNRESET); /* POST is not repeated */
            CHECK_INT(s->accepted, 1);
        }
        res_free(&ch.second);
        canned_stop(s);
    }
    fx_stop(&f);
}

/* ---- against nginx ---- */

TEST(http_client_against_nginx)
{
    char big[20001];
    memset(big, 'n', 20000);
    big[20000] = '\0';
    const char *files[] = { "hello.txt", "hello from nginx\n", "big.txt", big, NULL };
    peer *n = peer_nginx_start("    keepalive_requests 1000;\n"
                               "    gzip on; gzip_min_length 1; gzip_types text/plain;\n"
                               "    location /nope { return 404; }\n",
                               files);
    REQUIRE(n);
    fx f;
    REQUIRE(fx_start(&f, false, NULL));
    int port = peer_port(n);
    for (int i = 0; i < 5; i++) {
        result r;
        REQUIRE(fetch_new(&f, "GET", port, "/hello.txt", false, &r) == 0);
        CHECK_INT(r.err, 0);
        CHECK_INT(r.status, 200);
        CHECK(body_is(&r, "hello from nginx\n"));
        CHECK_STR(r.clen, "17");
        res_free(&r);
    }
    CHECK_INT(http_client_connects(f.cl), 1); /* nginx kept the connection alive */
    /* gzip of unknown length: nginx answers chunked */
    result r;
    res_init(&r);
    http_client_req o = req_of("GET", port, "/big.txt", &r, true);
    http_header ae = { { "Accept-Encoding", 15 }, { "gzip", 4 } };
    o.headers = &ae;
    o.nheaders = 1;
    REQUIRE(fetch(f.loop, f.cl, &o, &r) == 0);
    CHECK_INT(r.err, 0);
    CHECK_STR(r.tenc, "chunked");
    CHECK(buf_len(&r.body) > 10 && buf_len(&r.body) < 1000); /* 20000 'n' compress well */
    CHECK(buf_len(&r.body) > 2 && (unsigned char)buf_data(&r.body)[0] == 0x1f &&
          (unsigned char)buf_data(&r.body)[1] == 0x8b);
    res_free(&r);
    /* HEAD and 404 on the same connection */
    REQUIRE(fetch_new(&f, "HEAD", port, "/big.txt", false, &r) == 0);
    CHECK_INT(r.err, 0);
    CHECK_STR(r.clen, "20000");
    CHECK_INT(buf_len(&r.body), 0);
    res_free(&r);
    REQUIRE(fetch_new(&f, "GET", port, "/nope", false, &r) == 0);
    CHECK_INT(r.err, 0);
    CHECK_INT(r.status, 404);
    res_free(&r);
    CHECK_INT(http_client_connects(f.cl), 1);
    fx_stop(&f);
    peer_stop(n);
}

TEST(http_client_through_nginx_proxy_to_server_core)
{
    fx f;
    REQUIRE(fx_start(&f, true, NULL));
    /* nginx in front of the server core: it speaks HTTP/1.1 with keep-alive
     * upstream, and re-chunks the server core's chunked answers. */
    char conf[1024];
    snprintf(conf, sizeof conf,
             "  upstream core { server 127.0.0.1:%d; keepalive 4; }\n"
             "  server {\n    listen 127.0.0.1:%%PORT%%;\n"
             "    location / { proxy_pass http://core; proxy_http_version 1.1;\n"
             "                 proxy_set_header Connection \"\"; }\n  }\n",
             f.t->port);
    peer *n = peer_nginx_start_http(conf, NULL);
    REQUIRE(n);
    for (int i = 0; i < 3; i++) {
        result r;
        REQUIRE(fetch_new(&f, "GET", peer_port(n), "/chunked?n=1000", true, &r) == 0);
        CHECK_INT(r.err, 0);
        CHECK_STR(r.tenc, "chunked");
        CHECK_INT(buf_len(&r.body), 8890); /* "line <i>\n" for i < 1000 */
        res_free(&r);
        res_init(&r);
        http_client_req o = req_of("POST", peer_port(n), "/echo", &r, false);
        o.body = "through nginx";
        o.body_len = 13;
        REQUIRE(fetch(f.loop, f.cl, &o, &r) == 0);
        CHECK(body_is(&r, "through nginx"));
        res_free(&r);
    }
    CHECK_INT(http_client_connects(f.cl), 1);
    CHECK_INT(http_server_stats_get(f.t->s)->accepted, 1); /* nginx reused its upstream too */
    CHECK_INT(http_server_stats_get(f.t->s)->requests, 6);
    http_client_free(f.cl);
    f.cl = NULL;
    peer_stop(n);
    fx_stop(&f);
}
