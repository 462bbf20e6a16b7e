/* test_http_response.c — the response head parser: status lines, body
 * framing per RFC 9112 §6.3 (HEAD, 1xx, 204, 304, chunked, close-delimited),
 * keep-alive, rejections, and split parsing. */
#include "test.h"
#include "http_parse.h"

#include <stdlib.h>
#include <string.h>

typedef struct pres {
    ssize_t rc;
    http_response r;
    http_header h[64];
} pres;

static ssize_t parse_res_lim(pres *q, const char *s, size_t n, bool head, const http_limits *lim)
{
    http_head_parser p;
    http_head_parser_init(&p, lim);
    memset(&q->r, 0, sizeof q->r);
    q->r.headers = q->h;
    q->r.headers_cap = 64;
    q->rc = http_parse_response(&p, s, n, head, &q->r);
    return q->rc;
}

static ssize_t parse_res(pres *q, const char *s, bool head)
{
    return parse_res_lim(q, s, strlen(s), head, NULL);
}

static bool str_is(http_str s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.p, want, s.len) == 0;
}

TEST(http_response_content_length)
{
    pres q;
    const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello";
    REQUIRE(parse_res(&q, s, false) == (ssize_t)strlen(s) - 5);
    CHECK_INT(q.r.status, 200);
    CHECK_INT(q.r.minor, 1);
    CHECK(str_is(q.r.reason, "OK"));
    CHECK_INT(q.r.nheaders, 2);
    CHECK_INT(q.r.f.body, HTTP_BODY_LENGTH);
    CHECK_INT(q.r.f.content_length, 5);
    CHECK(q.r.f.keep_alive);
}

TEST(http_response_without_length_is_close_delimited)
{
    pres q;
    REQUIRE(parse_res(&q, "HTTP/1.1 200 OK\r\nX: y\r\n\r\n", false) > 0);
    CHECK_INT(q.r.f.body, HTTP_BODY_CLOSE);
    CHECK(!q.r.f.keep_alive);
    REQUIRE(parse_res(&q, "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n", false) > 0);
    CHECK_INT(q.r.f.body, HTTP_BODY_CLOSE);
    CHECK(!q.r.f.keep_alive);
}

TEST(http_response_chunked)
{
    pres q;
    REQUIRE(parse_res(&q, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false) > 0);
    CHECK_INT(q.r.f.body, HTTP_BODY_CHUNKED);
    CHECK(!q.r.f.te_other);
    CHECK(q.r.f.keep_alive);
    REQUIRE(parse_res(&q, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", false) > 0);
    CHECK_INT(q.r.f.body, HTTP_BODY_CHUNKED);
    CHECK(q.r.f.te_other);
    /* chunked not last: read until close (RFC 9112 §6.3 item 4) */
    REQUIRE(parse_res(&q, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false) > 0);
    CHECK_INT(q.r.f.body, HTTP_BODY_CLOSE);
    CHECK(!q.r.f.keep_alive);
    CHECK_INT(parse_res(&q, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", false),
              -HTTP_E_TE_UNSUPPORTED);
}

TEST(http_response_bodiless_statuses)
{
    const char *cases[] = {
        "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n",
        "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\n",
        "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n",
        "HTTP/1.1 204 No Content\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pres q;
        REQUIRE(parse_res(&q, cases[i], false) > 0);
        CHECK_INT(q.r.f.body, HTTP_BODY_NONE);
        CHECK(q.r.f.keep_alive);
    }
    CHECK(http_response_bodiless(204, false));
    CHECK(http_response_bodiless(200, true));
    CHECK(!http_response_bodiless(200, false));
    CHECK(!http_response_bodiless(404, false));
}

TEST(http_response_to_head_has_no_body)
{
    pres q;
    REQUIRE(parse_res(&q, "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", true) > 0);
    CHECK_INT(q.r.f.body, HTTP_BODY_NONE);
    CHECK(q.r.f.keep_alive);
    REQUIRE(parse_res(&q, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true) > 0);
    CHECK_INT(q.r.f.body, HTTP_BODY_NONE);
    REQUIRE(parse_res(&q, "HTTP/1.1 200 OK\r\n\r\n", true) > 0);
    CHECK_INT(q.r.f.body, HTTP_BODY_NONE);
    CHECK(q.r.f.keep_alive);
}

TEST(http_response_switching_protocols)
{
    pres q;
    REQUIRE(parse_res(&q, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                          "Upgrade: websocket\r\n\r\n", false) > 0);
    CHECK_INT(q.r.status, 101);
    CHECK_INT(q.r.f.body, HTTP_BODY_NONE);
    CHECK(!q.r.f.keep_alive); /* the connection now speaks something else */
    CHECK(q.r.f.conn_upgrade);
}

TEST(http_response_keep_alive_rules)
{
    pres q;
    REQUIRE(parse_res(&q, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false) > 0);
    CHECK(!q.r.f.keep_alive);
    CHECK(q.r.f.conn_close);
    REQUIRE(parse_res(&q, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false) > 0);
    CHECK(!q.r.f.keep_alive);
    REQUIRE(parse_res(&q, "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", false) > 0);
    CHECK(q.r.f.keep_alive);
}

TEST(http_response_status_lines)
{
    pres q;
    REQUIRE(parse_res(&q, "HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n", false) > 0);
    CHECK_INT(q.r.status, 404);
    CHECK_INT(q.r.reason.len, 0);
    REQUIRE(parse_res(&q, "HTTP/1.1 503\r\nContent-Length: 0\r\n\r\n", false) > 0);
    CHECK_INT(q.r.status, 503);
    REQUIRE(parse_res(&q, "HTTP/1.1 200 All good\there\r\nContent-Length: 0\r\n\r\n", false) > 0);
    CHECK(str_is(q.r.reason, "All good\there"));
    const char *bad[] = {
        "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 099 X\r\n\r\n",
        "HTTP/1.1  200 OK\r\n\r\n", "HTTP/1.1 abc OK\r\n\r\n", "HTTP/1.1\r\n\r\n",
        "ICY 200 OK\r\n\r\n", "HTTP/1.1 200 O\x01K\r\n\r\n", "http/1.1 200 OK\r\n\r\n",
        "\r\nHTTP/1.1 200 OK\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (parse_res(&q, bad[i], false) != -HTTP_E_STATUS_LINE)
            fprintf(stderr, "    case %zu: %zd\n", i, q.rc);
        CHECK_INT(q.rc, -HTTP_E_STATUS_LINE);
    }
    CHECK_INT(parse_res(&q, "HTTP/2.0 200 OK\r\n\r\n", false), -HTTP_E_VERSION);
    CHECK_INT(parse_res(&q, "HTTP/1.1 200 O\rK\r\n\r\n", false), -HTTP_E_BARE_CR);
}

TEST(http_response_rejections)
{
    pres q;
    CHECK_INT(parse_res(&q, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
                        false), -HTTP_E_CL_AND_TE);
    CHECK_INT(parse_res(&q, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", false),
              -HTTP_E_CL_MISMATCH);
    CHECK_INT(parse_res(&q, "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n", false),
              -HTTP_E_CL_INVALID);
    CHECK_INT(parse_res(&q, "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false),
              -HTTP_E_TE_HTTP10);
    CHECK_INT(parse_res(&q, "HTTP/1.1 200 OK\nContent-Length: 0\n\n", false), -HTTP_E_BARE_LF);
    CHECK_INT(parse_res(&q, "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", false), -HTTP_E_OBS_FOLD);
    CHECK_INT(parse_res(&q, "HTTP/1.1 200 OK\r\nX : a\r\n\r\n", false), -HTTP_E_HEADER_SPACE);
    http_limits lim = { .body_max = 10 };
    const char *big = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n";
    CHECK_INT(parse_res_lim(&q, big, strlen(big), false, &lim), -HTTP_E_BODY_TOO_LARGE);
}

TEST(http_response_split_at_every_offset)
{
    const char *msgs[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello",
        "HTTP/1.1 304 Not Modified\r\nETag: \"a\"\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",
    };
    for (size_t m = 0; m < sizeof msgs / sizeof msgs[0]; m++) {
        size_t len = strlen(msgs[m]);
        pres whole;
        parse_res(&whole, msgs[m], false);
        for (size_t k = 0; k <= len; k++) {
            http_head_parser p;
            http_head_parser_init(&p, NULL);
            http_header h[64];
            http_response r = { .headers = h, .headers_cap = 64 };
            char *a = malloc(len + 1);
            memcpy(a, msgs[m], len);
            ssize_t rc = http_parse_response(&p, a, k, false, &r);
            if (rc == 0)
                rc = http_parse_response(&p, a, len, false, &r);
            CHECK_INT(rc, whole.rc);
            if (rc > 0) {
                CHECK_INT(r.status, whole.r.status);
                CHECK_INT(r.nheaders, whole.r.nheaders);
                CHECK(memcmp(&r.f, &whole.r.f, sizeof r.f) == 0);
                CHECK(r.headers[0].value.len == whole.r.headers[0].value.len);
            }
            free(a);
        }
    }
}

TEST(http_response_move_rebases_slices)
{
    const char *msg = "HTTP/1.1 200 Fine\r\nA: b\r\n\r\n";
    size_t len = strlen(msg);
    char *a = strdup(msg), *b = strdup(msg);
    pres q;
    REQUIRE(parse_res_lim(&q, a, len, false, NULL) > 0);
    http_response_move(&q.r, a, b, len);
    free(a);
    CHECK(str_is(q.r.reason, "Fine"));
    CHECK(q.r.reason.p == b + 13);
    CHECK(str_is(q.r.headers[0].value, "b"));
    free(b);
}
