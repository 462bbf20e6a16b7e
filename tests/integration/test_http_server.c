/* test_http_server.c — the HTTP/1.1 server core over real sockets: answered
 * by the curl command line tool (GET, POST, keep-alive reuse, chunked upload,
 * Expect: 100-continue, chunked responses, HEAD) and by a raw client that
 * sends exact bytes (pipelining, smuggling attempts, limits, slowloris and
 * other timeouts, the connection cap, a client that goes away during an
 * asynchronous answer, graceful drain). */
#include "test.h"
#include "test_http_helpers.h"
#include "http_client.h"
#include "peers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SETUP(opts)                                                            \
    ev_loop *loop = ev_loop_new();                                             \
    tsrv *t = tsrv_start(loop, (opts));                                        \
    if (!t) {                                                                  \
        ev_loop_free(loop);                                                    \
        REQUIRE(t != NULL);                                                    \
    }

#define TEARDOWN()                                                             \
    do {                                                                       \
        tsrv_stop(t);                                                          \
        test_run_for(loop, 20);                                                \
        ev_loop_free(loop);                                                    \
    } while (0)

#define NEED_CURL()                                                            \
    do {                                                                       \
        if (!have_curl()) {                                                    \
            test_skip("curl not installed");                                   \
            return;                                                            \
        }                                                                      \
    } while (0)

/* ---- curl ---- */

TEST(http_server_curl_get)
{
    NEED_CURL();
    SETUP(NULL);
    char *out = NULL, *err = NULL;
    char args[128];
    snprintf(args, sizeof args, "-sS -i http://127.0.0.1:%d/hello", t->port);
    CHECK_INT(run_curl(loop, args, &out, &err), 0);
    CHECK(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CHECK(strstr(out, "Content-Length: 6\r\n") != NULL);
    CHECK(strstr(out, "Date: ") != NULL);
    CHECK(strstr(out, "\r\n\r\nhello\n") != NULL);
    free(out);
    free(err);
    snprintf(args, sizeof args, "-sS -o /dev/null -w '%%{http_code}' http://127.0.0.1:%d/nope", t->port);
    CHECK_INT(run_curl(loop, args, &out, NULL), 0);
    CHECK_STR(out, "404");
    free(out);
    TEARDOWN();
}

TEST(http_server_curl_post_echo)
{
    NEED_CURL();
    SETUP(NULL);
    char *out = NULL;
    char args[256];
    snprintf(args, sizeof args,
             "-sS -H 'Content-Type: application/json' --data-binary '{\"a\":1,\"b\":[2,3]}' "
             "http://127.0.0.1:%d/echo", t->port);
    CHECK_INT(run_curl(loop, args, &out, NULL), 0);
    CHECK_STR(out, "{\"a\":1,\"b\":[2,3]}");
    free(out);
    TEARDOWN();
}

TEST(http_server_curl_keep_alive_reuses_connection)
{
    NEED_CURL();
    SETUP(NULL);
    char *out = NULL;
    char args[256];
    snprintf(args, sizeof args, "-sS http://127.0.0.1:%d/hello http://127.0.0.1:%d/hello "
             "http://127.0.0.1:%d/info", t->port, t->port, t->port);
    CHECK_INT(run_curl(loop, args, &out, NULL), 0);
    CHECK(strncmp(out, "hello\nhello\nmethod=GET path=/info", 33) == 0);
    CHECK_INT(http_server_stats_get(t->s)->accepted, 1);
    CHECK_INT(http_server_stats_get(t->s)->requests, 3);
    free(out);
    TEARDOWN();
}

TEST(http_server_curl_chunked_upload)
{
    NEED_CURL();
    SETUP(NULL);
    /* 100 KB through stdin: curl sends it chunked */
    char *out = NULL;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "head -c 100000 /dev/zero | curl --max-time 20 -sS "
             "-H 'Transfer-Encoding: chunked' --data-binary @- http://127.0.0.1:%d/info", t->port);
    int rc = run_sh(loop, cmd, &out, NULL);
    CHECK_INT(rc, 0);
    CHECK(strstr(out, "method=POST path=/info host=127.0.0.1") != NULL);
    CHECK(strstr(out, "body=100000 ka=1") != NULL);
    free(out);
    TEARDOWN();
}

TEST(http_server_curl_expect_100_continue)
{
    NEED_CURL();
    SETUP(NULL);
    char *out = NULL, *err = NULL;
    char args[256];
    snprintf(args, sizeof args, "-sS -v -H 'Expect: 100-continue' --data-binary 'payload' "
             "http://127.0.0.1:%d/echo", t->port);
    CHECK_INT(run_curl(loop, args, &out, &err), 0);
    CHECK_STR(out, "payload");
    CHECK(strstr(err, "HTTP/1.1 100 Continue") != NULL);
    free(out);
    free(err);
    TEARDOWN();
}

TEST(http_server_curl_chunked_response)
{
    NEED_CURL();
    SETUP(NULL);
    char *out = NULL;
    char args[128];
    snprintf(args, sizeof args, "-sS -i http://127.0.0.1:%d/chunked?n=500", t->port);
    CHECK_INT(run_curl(loop, args, &out, NULL), 0);
    CHECK(strstr(out, "Transfer-Encoding: chunked\r\n") != NULL);
    const char *body = strstr(out, "\r\n\r\n");
    REQUIRE(body != NULL);
    body += 4;
    CHECK(strncmp(body, "line 0\nline 1\n", 14) == 0);
    CHECK(strstr(body, "line 499\n") != NULL);
    int lines = 0;
    for (const char *p = body; *p; p++)
        lines += *p == '\n';
    CHECK_INT(lines, 500);
    free(out);
    TEARDOWN();
}

TEST(http_server_curl_head)
{
    NEED_CURL();
    SETUP(NULL);
    char *out = NULL;
    char args[160];
    snprintf(args, sizeof args, "-sS -I http://127.0.0.1:%d/big?n=12345 "
             "http://127.0.0.1:%d/hello", t->port, t->port);
    CHECK_INT(run_curl(loop, args, &out, NULL), 0);
    CHECK(strstr(out, "Content-Length: 12345\r\n") != NULL);
    CHECK(strstr(out, "xxx") == NULL);
    CHECK(strstr(out, "Content-Length: 6\r\n") != NULL);
    CHECK_INT(http_server_stats_get(t->s)->accepted, 1); /* HEAD kept the connection */
    free(out);
    TEARDOWN();
}

TEST(http_server_curl_http10)
{
    NEED_CURL();
    SETUP(NULL);
    char *out = NULL;
    char args[160];
    snprintf(args, sizeof args, "-sS -0 -i http://127.0.0.1:%d/chunked?n=2", t->port);
    CHECK_INT(run_curl(loop, args, &out, NULL), 0);
    /* no chunked coding for HTTP/1.0: the body ends with the connection */
    CHECK(strstr(out, "Transfer-Encoding") == NULL);
    CHECK(strstr(out, "Connection: close\r\n") != NULL);
    CHECK(strstr(out, "\r\n\r\nline 0\nline 1\n") != NULL);
    free(out);
    TEARDOWN();
}

/* ---- raw clients ---- */

static rawc *raw_connect(ev_loop *loop, int port)
{
    rawc *r = rawc_open(loop, port);
    if (r && !WAIT_FOR(loop, r->connected || r->err)) {
        rawc_close(r);
        return NULL;
    }
    return r;
}

TEST(http_server_pipelined_requests_answered_in_order)
{
    SETUP(NULL);
    rawc *c = raw_connect(loop, t->port);
    REQUIRE(c && c->connected);
    /* The first answer comes late (a timer), the others at once: they must
     * still leave in order. */
    rawc_sends(c, "GET /async?ms=100 HTTP/1.1\r\nHost: a\r\n\r\n"
                  "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
                  "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n"
                  "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "3\r\nabc\r\n0\r\n\r\n"
                  "GET /status?code=204 HTTP/1.1\r\nHost: a\r\n\r\n");
    int st[8];
    size_t rest;
    CHECK(WAIT_FOR(loop, split_responses(buf_data(&c->got), buf_len(&c->got), st, 8, &rest) == 5));
    CHECK_INT(st[0], 200);
    CHECK_INT(st[4], 204);
    const char *txt = rawc_text(c);
    const char *late = strstr(txt, "late\n"), *hello = strstr(txt, "\r\n\r\nhello\r\n");
    const char *h2 = strstr(txt, "hello\n"), *abc = strstr(txt, "abc");
    REQUIRE(late && h2 && abc);
    CHECK(late < h2 && h2 < abc);
    CHECK(hello == NULL || hello > late);
    CHECK(!c->eof); /* still kept alive */
    rawc_close(c);
    TEARDOWN();
}

/* Sends req, expects the status line want and a closed connection. */
static void expect_rejection(tsrv *t, ev_loop *loop, const char *req, size_t len,
                             const char *want, int line)
{
    rawc *c = raw_connect(loop, t->port);
    if (!c || !c->connected) {
        test_fail(__FILE__, line, "connect");
        rawc_close(c);
        return;
    }
    rawc_send(c, req, len);
    bool closed = WAIT_FOR(loop, c->eof || c->err);
    const char *txt = rawc_text(c);
    if (!closed || strncmp(txt, want, strlen(want)) != 0 || !strstr(txt, "Connection: close")) {
        fprintf(stderr, "    line %d: got \"%.60s\" (closed %d)\n", line, txt, closed);
        test_fail(__FILE__, line, "rejected with the expected status and closed");
    }
    rawc_close(c);
}
#define EXPECT_REJECT(req, want) expect_rejection(t, loop, (req), strlen(req), (want), __LINE__)

TEST(http_server_rejects_smuggling_and_bad_syntax)
{
    SETUP(NULL);
    EXPECT_REJECT("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "HTTP/1.1 400 ");
    EXPECT_REJECT("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"
                  "hello!", "HTTP/1.1 400 ");
    EXPECT_REJECT("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                  "HTTP/1.1 501 ");
    EXPECT_REJECT("GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n", "HTTP/1.1 400 ");
    EXPECT_REJECT("GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n z\r\n\r\n", "HTTP/1.1 400 ");
    EXPECT_REJECT("GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 400 ");
    EXPECT_REJECT("GET / HTTP/2.0\r\nHost: a\r\n\r\n", "HTTP/1.1 505 ");
    EXPECT_REJECT("POST /echo HTTP/1.1\r\nHost: a\r\nExpect: magic\r\n\r\n", "HTTP/1.1 417 ");
    EXPECT_REJECT("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "zz\r\nhello\r\n0\r\n\r\n", "HTTP/1.1 400 ");
    /* the request before a bad one is still answered */
    rawc *c = raw_connect(loop, t->port);
    REQUIRE(c && c->connected);
    rawc_sends(c, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
    CHECK(WAIT_FOR(loop, c->eof));
    int st[4];
    CHECK_INT(split_responses(buf_data(&c->got), buf_len(&c->got), st, 4, NULL), 2);
    CHECK_INT(st[0], 200);
    CHECK_INT(st[1], 400);
    rawc_close(c);
    CHECK(http_server_stats_get(t->s)->errors >= 10);
    TEARDOWN();
}

TEST(http_server_limits_answer_413_414_431)
{
    http_server_opts o = { .body_buffer_max = 1000, .limits = { .line_max = 200 } };
    SETUP(&o);
    EXPECT_REJECT("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n", "HTTP/1.1 413 ");
    /* chunked: found out while reading */
    char *big = xcalloc(1, 4000);
    strcpy(big, "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 3; i++)
        strcat(big, "190\r\n"), memset(big + strlen(big), 'x', 400), strcat(big, "\r\n");
    strcat(big, "0\r\n\r\n");
    EXPECT_REJECT(big, "HTTP/1.1 413 ");
    memset(big, 0, 4000);
    strcpy(big, "GET /");
    memset(big + 5, 'a', 300);
    strcat(big, " HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_REJECT(big, "HTTP/1.1 414 ");
    free(big);
    char *head = xcalloc(1, 40000);
    strcpy(head, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (int i = 0; i < 300; i++)
        sprintf(head + strlen(head), "X-Field-%d: %0100d\r\n", i, i);
    strcat(head, "\r\n");
    EXPECT_REJECT(head, "HTTP/1.1 431 ");
    free(head);
    head = xcalloc(1, 4000);
    strcpy(head, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (int i = 0; i < 101; i++)
        sprintf(head + strlen(head), "X%d: y\r\n", i);
    strcat(head, "\r\n");
    EXPECT_REJECT(head, "HTTP/1.1 431 ");
    free(head);
    TEARDOWN();
}

typedef struct dripper {
    rawc *c;
    const char *text;
    size_t pos, len;
    ev_timer timer;
    ev_loop *loop;
} dripper;

static void drip(ev_loop *loop, ev_timer *tm, void *arg)
{
    dripper *d = arg;
    if (d->pos < d->len && !d->c->eof && !d->c->err) {
        rawc_send(d->c, d->text + d->pos++, 1);
        ev_timer_start(loop, &d->timer, 100);
    }
}

TEST(http_server_slowloris_gets_408)
{
    http_server_opts o = { .header_timeout_ms = 1000 };
    SETUP(&o);
    rawc *c = raw_connect(loop, t->port);
    REQUIRE(c && c->connected);
    /* one byte per 100 ms: the 60-byte head would take 6 s */
    dripper d = { .c = c, .loop = loop,
                  .text = "GET /hello HTTP/1.1\r\nHost: a\r\nX-Slow: aaaaaaaaaaaaaaaaaaa\r\n\r\n" };
    d.len = strlen(d.text);
    ev_timer_init(&d.timer, drip, &d);
    ev_timer_start(loop, &d.timer, 0);
    CHECK(WAIT_FOR(loop, c->eof || c->err));
    ev_timer_stop(loop, &d.timer);
    CHECK(strncmp(rawc_text(c), "HTTP/1.1 408 ", 13) == 0);
    CHECK(d.pos < d.len); /* closed before the head was complete */
    CHECK_INT(http_server_stats_get(t->s)->timeouts, 1);
    CHECK_INT(t->requests, 0);
    rawc_close(c);
    TEARDOWN();
}

TEST(http_server_silent_connection_closed_without_answer)
{
    http_server_opts o = { .header_timeout_ms = 300 };
    SETUP(&o);
    rawc *c = raw_connect(loop, t->port);
    REQUIRE(c && c->connected);
    CHECK(WAIT_FOR(loop, c->eof || c->err));
    CHECK_INT(buf_len(&c->got), 0);
    rawc_close(c);
    TEARDOWN();
}

TEST(http_server_idle_keep_alive_closed)
{
    http_server_opts o = { .idle_timeout_ms = 200 };
    SETUP(&o);
    rawc *c = raw_connect(loop, t->port);
    REQUIRE(c && c->connected);
    rawc_sends(c, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK(WAIT_FOR(loop, rawc_has(c, "hello\n")));
    size_t before = buf_len(&c->got);
    CHECK(WAIT_FOR(loop, c->eof));
    CHECK_INT(buf_len(&c->got), before); /* closed without another word */
    CHECK_INT(http_server_conn_count(t->s), 0);
    rawc_close(c);
    TEARDOWN();
}

TEST(http_server_body_timeout_gets_408)
{
    http_server_opts o = { .body_timeout_ms = 300 };
    SETUP(&o);
    rawc *c = raw_connect(loop, t->port);
    REQUIRE(c && c->connected);
    rawc_sends(c, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
    CHECK(WAIT_FOR(loop, c->eof || c->err));
    CHECK(strncmp(rawc_text(c), "HTTP/1.1 408 ", 13) == 0);
    CHECK_INT(t->requests, 0);
    rawc_close(c);
    TEARDOWN();
}

TEST(http_server_connection_cap)
{
    http_server_opts o = { .max_conns = 2 };
    SETUP(&o);
    rawc *a = raw_connect(loop, t->port), *b = raw_connect(loop, t->port);
    REQUIRE(a && b && a->connected && b->connected);
    CHECK(WAIT_FOR(loop, http_server_conn_count(t->s) == 2));
    rawc *c = raw_connect(loop, t->port);
    REQUIRE(c != NULL);
    CHECK(WAIT_FOR(loop, c->eof || c->err));
    CHECK(strncmp(rawc_text(c), "HTTP/1.1 503 ", 13) == 0);
    CHECK_INT(http_server_stats_get(t->s)->refused, 1);
    /* the two admitted ones work */
    rawc_sends(a, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK(WAIT_FOR(loop, rawc_has(a, "hello\n")));
    /* and room frees up when one leaves */
    rawc_close(b);
    CHECK(WAIT_FOR(loop, http_server_conn_count(t->s) == 1));
    rawc *d = raw_connect(loop, t->port);
    REQUIRE(d && d->connected);
    rawc_sends(d, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK(WAIT_FOR(loop, rawc_has(d, "hello\n")));
    rawc_close(a);
    rawc_close(c);
    rawc_close(d);
    TEARDOWN();
}

TEST(http_server_max_requests_per_connection)
{
    http_server_opts o = { .max_requests = 2 };
    SETUP(&o);
    rawc *c = raw_connect(loop, t->port);
    REQUIRE(c && c->connected);
    rawc_sends(c, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\nGET /hello HTTP/1.1\r\nHost: a\r\n\r\n"
                  "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK(WAIT_FOR(loop, c->eof));
    int st[4];
    CHECK_INT(split_responses(buf_data(&c->got), buf_len(&c->got), st, 4, NULL), 2);
    const char *txt = rawc_text(c);
    const char *close1 = strstr(txt, "Connection: close");
    CHECK(close1 != NULL && close1 > strstr(txt, "hello\n"));
    rawc_close(c);
    TEARDOWN();
}

TEST(http_server_client_gone_during_async_answer)
{
    SETUP(NULL);
    rawc *c = raw_connect(loop, t->port);
    REQUIRE(c && c->connected);
    rawc_sends(c, "GET /async?ms=200 HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK(WAIT_FOR(loop, t->requests == 1));
    rawc_close(c);
    CHECK(WAIT_FOR(loop, t->cancels == 1));
    CHECK(WAIT_FOR(loop, t->late_dead == 1)); /* the late answer found it dead */
    CHECK_INT(http_server_conn_count(t->s), 0);
    TEARDOWN();
}

TEST(http_server_short_body_closes_and_release_answers_500)
{
    SETUP(NULL);
    rawc *c = raw_connect(loop, t->port);
    REQUIRE(c && c->connected);
    rawc_sends(c, "GET /release HTTP/1.1\r\nHost: a\r\n\r\nGET /short HTTP/1.1\r\nHost: a\r\n\r\n"
                  "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK(WAIT_FOR(loop, c->eof));
    const char *txt = rawc_text(c);
    CHECK(strncmp(txt, "HTTP/1.1 500 ", 13) == 0);
    /* the short one ends the connection: nothing after its 3 bytes */
    const char *second = strstr(txt + 1, "HTTP/1.1 200 ");
    REQUIRE(second != NULL);
    CHECK(strstr(second, "Content-Length: 10\r\n") != NULL);
    size_t len = buf_len(&c->got);
    CHECK(len >= 3 && memcmp(txt + len - 3, "abc", 3) == 0);
    CHECK(strstr(txt, "hello") == NULL);
    rawc_close(c);
    TEARDOWN();
}

TEST(http_server_handler_framing_fields_are_not_sent)
{
    SETUP(NULL);
    rawc *c = raw_connect(loop, t->port);
    REQUIRE(c && c->connected);
    rawc_sends(c, "GET /framing HTTP/1.1\r\nHost: a\r\n\r\nGET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK(WAIT_FOR(loop, c->eof)); /* the handler's Connection: close is honoured */
    const char *txt = rawc_text(c);
    CHECK(strstr(txt, "Content-Length: 7\r\n") != NULL);
    CHECK(strstr(txt, "999") == NULL);
    CHECK(strstr(txt, "Transfer-Encoding") == NULL);
    CHECK(strstr(txt, "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n") != NULL);
    const char *date = strstr(txt, "Date:");
    CHECK(date && strstr(date + 1, "Date:") == NULL);
    CHECK(strstr(txt, "Connection: close\r\n") != NULL);
    CHECK(strstr(txt, "\r\n\r\nframed\n") != NULL);
    CHECK(strstr(txt, "hello") == NULL);
    rawc_close(c);
    TEARDOWN();
}

TEST(http_server_http10_keep_alive)
{
    SETUP(NULL);
    rawc *c = raw_connect(loop, t->port);
    REQUIRE(c && c->connected);
    rawc_sends(c, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    CHECK(WAIT_FOR(loop, rawc_has(c, "hello\n")));
    CHECK(rawc_has(c, "Connection: keep-alive\r\n"));
    rawc_sends(c, "GET /hello HTTP/1.0\r\n\r\n");
    CHECK(WAIT_FOR(loop, c->eof));
    int st[4];
    CHECK_INT(split_responses(buf_data(&c->got), buf_len(&c->got), st, 4, NULL), 2);
    rawc_close(c);
    TEARDOWN();
}

TEST(http_server_streamed_body_in_pieces)
{
    http_server_opts o = { .stream_bodies = true };
    SETUP(&o);
    rawc *c = raw_connect(loop, t->port);
    REQUIRE(c && c->connected);
    rawc_sends(c, "POST /sum HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
    char chunk[1100];
    memset(chunk, 'z', sizeof chunk);
    memcpy(chunk, "400\r\n", 5);
    memcpy(chunk + 5 + 1024, "\r\n", 2);
    for (int i = 0; i < 50; i++) {
        rawc_send(c, chunk, 5 + 1024 + 2);
        test_run_for(loop, 2);
    }
    rawc_sends(c, "0\r\n\r\n");
    CHECK(WAIT_FOR(loop, rawc_has(c, "\r\n\r\n51200\n")));
    CHECK_INT(t->sum_end_err, 0);
    CHECK(t->sum_pieces >= 2); /* delivered as it arrived, not at the end */
    /* a bad chunk while streaming: the handler hears about it */
    rawc_sends(c, "POST /sum HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\nQ\r\n");
    CHECK(WAIT_FOR(loop, c->eof));
    CHECK_INT(t->sum_end_err, -EPROTO);
    CHECK(rawc_has(c, "HTTP/1.1 400 "));
    rawc_close(c);
    TEARDOWN();
}

typedef struct drain_state {
    int done;
} drain_state;

static void drained(http_server *s, void *arg)
{
    ((drain_state *)arg)->done++;
}

TEST(http_server_graceful_drain)
{
    SETUP(NULL);
    rawc *idle = raw_connect(loop, t->port), *busy = raw_connect(loop, t->port);
    REQUIRE(idle && busy && idle->connected && busy->connected);
    rawc_sends(idle, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK(WAIT_FOR(loop, rawc_has(idle, "hello\n")));
    rawc_sends(busy, "GET /hold HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK(WAIT_FOR(loop, t->held_n == 1));
    drain_state ds = { 0 };
    http_server_drain(t->s, drained, &ds);
    CHECK_INT(ds.done, 0);
    /* the idle keep-alive connection goes at once */
    CHECK(WAIT_FOR(loop, idle->eof));
    /* new connections are refused */
    rawc *late = rawc_open(loop, t->port);
    REQUIRE(late != NULL);
    CHECK(WAIT_FOR(loop, late->err != 0 || late->eof));
    rawc_close(late);
    test_run_for(loop, 50);
    CHECK_INT(ds.done, 0);
    CHECK(!busy->eof);
    /* the request in flight finishes, told to close */
    tsrv_release_held(t);
    CHECK(WAIT_FOR(loop, busy->eof));
    CHECK(rawc_has(busy, "released\n"));
    CHECK(rawc_has(busy, "Connection: close\r\n"));
    CHECK(WAIT_FOR(loop, ds.done == 1));
    CHECK_INT(t->cancels, 0);
    rawc_close(idle);
    rawc_close(busy);
    TEARDOWN();
}

TEST(http_server_free_cancels_held_requests)
{
    SETUP(NULL);
    rawc *c = raw_connect(loop, t->port);
    REQUIRE(c && c->connected);
    rawc_sends(c, "GET /hold HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK(WAIT_FOR(loop, t->held_n == 1));
    http_server_free(t->s);
    t->s = NULL;
    CHECK_INT(t->cancels, 1);
    CHECK(!http_req_alive(t->held[0]));
    CHECK_INT(http_respond(t->held[0], 200, NULL, "x", 1), -ECONNRESET);
    t->held_n = 0;
    CHECK(WAIT_FOR(loop, c->eof || c->err));
    rawc_close(c);
    TEARDOWN();
}

typedef struct tls_result {
    bool done;
    int err;
    size_t n;
} tls_result;

static void tls_done(http_creq *q, int err, void *ud)
{
    tls_result *res = ud;
    res->done = true;
    res->err = err;
    http_creq_body(q, &res->n);
}

TEST(http_server_over_tls_with_curl_and_client_core)
{
    NEED_CURL();
    const char *cert = testcert("server.pem"), *key = testcert("server.key"),
               *ca = testcert("ca.pem");
    if (!cert || !key || !ca) {
        test_skip("no test certificates (openssl CLI)");
        return;
    }
    conn_tls *stls = NULL, *ctls = NULL;
    char err[256];
    REQUIRE(conn_tls_server_new(&(conn_tls_opts){ .cert_file = cert, .key_file = key }, &stls,
                                err, sizeof err) == 0);
    REQUIRE(conn_tls_client_new(&(conn_tls_opts){ .ca_file = ca }, &ctls, err, sizeof err) == 0);
    http_server_opts o = { .tls = stls };
    SETUP(&o);
    char *out = NULL;
    char args[512];
    snprintf(args, sizeof args,
             "-sS --cacert '%s' https://localhost:%d/hello https://localhost:%d/info", ca, t->port,
             t->port);
    CHECK_INT(run_curl(loop, args, &out, NULL), 0);
    CHECK(strncmp(out, "hello\nmethod=GET path=/info", 27) == 0);
    CHECK_INT(http_server_stats_get(t->s)->accepted, 1);
    free(out);
    /* the client core, pooled over TLS */
    http_client *cl = http_client_new(loop, &(http_client_opts){ .tls = ctls });
    for (int i = 0; i < 3; i++) {
        tls_result res = { 0 };
        http_client_req q = { .method = "GET", .host = "127.0.0.1", .port = t->port, .tls = true,
                              .target = "/big?n=70000", .on_done = tls_done, .ud = &res };
        REQUIRE(http_client_request(cl, &q, NULL) == 0);
        CHECK(WAIT_FOR(loop, res.done));
        CHECK_INT(res.err, 0);
        CHECK_INT(res.n, 70000);
    }
    CHECK_INT(http_client_connects(cl), 1);
    http_client_free(cl);
    conn_tls_free(stls);
    conn_tls_free(ctls);
    TEARDOWN();
}
