/* test_http_parse.c — the HTTP/1.1 head parser: accepted messages and the
 * fields derived from them, every rejection, every limit, and incremental
 * parsing (each message fed byte by byte and split at every offset must
 * give the same result as in one piece). */
#include "test.h"
#include "http_parse.h"

#include <stdlib.h>
#include <string.h>

#define NH 128

typedef struct preq {
    ssize_t rc;
    http_request r;
    http_header h[NH];
} preq;

static ssize_t parse_req_lim(preq *q, const char *s, size_t n, const http_limits *lim)
{
    http_head_parser p;
    http_head_parser_init(&p, lim);
    memset(&q->r, 0, sizeof q->r);
    q->r.headers = q->h;
    q->r.headers_cap = NH;
    q->rc = http_parse_request(&p, s, n, &q->r);
    return q->rc;
}

static ssize_t parse_req(preq *q, const char *s)
{
    return parse_req_lim(q, s, strlen(s), NULL);
}

static bool str_is(http_str s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.p, want, s.len) == 0;
}

static const char *hval(const http_request *r, const char *name)
{
    static char out[256];
    const http_header *h = http_header_find(r->headers, r->nheaders, name);
    if (!h)
        return NULL;
    snprintf(out, sizeof out, "%.*s", (int)h->value.len, h->value.p);
    return out;
}

/* A request that must be rejected with err, in one piece and byte by byte. */
static void expect_req_err(const char *s, int err, int line)
{
    preq q;
    ssize_t rc = parse_req(&q, s);
    if (rc != -err) {
        fprintf(stderr, "    line %d: got %zd (%s), want -%d (%s) for %s\n", line, rc,
                rc < 0 ? http_err_str((int)rc) : "ok", err, http_err_str(err), s);
        test_fail(__FILE__, line, "request rejected with the expected error");
    }
}
#define REJECT(s, e) expect_req_err((s), (e), __LINE__)

TEST(http_parse_simple_get)
{
    preq q;
    const char *s = "GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n";
    REQUIRE(parse_req(&q, s) == (ssize_t)strlen(s));
    CHECK(str_is(q.r.method, "GET"));
    CHECK_INT(q.r.meth, HTTP_M_GET);
    CHECK(str_is(q.r.target, "/index.html?x=1"));
    CHECK(str_is(q.r.path, "/index.html?x=1"));
    CHECK_INT(q.r.form, HTTP_TARGET_ORIGIN);
    CHECK(str_is(q.r.host, "example.com"));
    CHECK_INT(q.r.minor, 1);
    CHECK_INT(q.r.nheaders, 2);
    CHECK(str_is(q.r.headers[1].name, "User-Agent"));
    CHECK(str_is(q.r.headers[1].value, "t"));
    CHECK_INT(q.r.f.body, HTTP_BODY_NONE);
    CHECK(q.r.f.keep_alive);
    CHECK(!q.r.expect_continue);
    CHECK(!q.r.upgrade);
    CHECK_INT(q.r.head_len, strlen(s));
}

TEST(http_parse_needs_more_until_empty_line)
{
    preq q;
    CHECK_INT(parse_req(&q, ""), 0);
    CHECK_INT(parse_req(&q, "GET / HTTP/1.1\r\nHost: a\r\n"), 0);
    CHECK_INT(parse_req(&q, "GET / HTTP/1.1\r\nHost: a\r\n\r"), 0);
}

TEST(http_parse_header_value_whitespace_trimmed)
{
    preq q;
    REQUIRE(parse_req(&q, "GET / HTTP/1.1\r\nHost:a\r\nX:  \t v  w \t \r\nEmpty:\r\nE2:   \r\n\r\n") > 0);
    CHECK_STR(hval(&q.r, "host"), "a");
    CHECK_STR(hval(&q.r, "x"), "v  w");
    CHECK_STR(hval(&q.r, "EMPTY"), "");
    CHECK_STR(hval(&q.r, "e2"), "");
    CHECK(hval(&q.r, "missing") == NULL);
}

TEST(http_parse_obs_text_and_tab_in_values_accepted)
{
    preq q;
    CHECK(parse_req(&q, "GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\tok\r\n\r\n") > 0);
    CHECK(parse_req(&q, "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n") > 0);
}

TEST(http_parse_post_content_length)
{
    preq q;
    const char *s = "POST /api HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world";
    REQUIRE(parse_req(&q, s) == (ssize_t)strlen(s) - 11);
    CHECK_INT(q.r.meth, HTTP_M_POST);
    CHECK_INT(q.r.f.body, HTTP_BODY_LENGTH);
    CHECK_INT(q.r.f.content_length, 11);
}

TEST(http_parse_content_length_duplicates_collapse)
{
    preq q;
    REQUIRE(parse_req(&q, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n") > 0);
    CHECK_INT(q.r.f.content_length, 5);
    REQUIRE(parse_req(&q, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n") > 0);
    CHECK_INT(q.r.f.content_length, 5);
    REQUIRE(parse_req(&q, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,5 , 5\r\n\r\n") > 0);
    CHECK_INT(q.r.f.content_length, 5);
    REQUIRE(parse_req(&q, "POST / HTTP/1.1\r\nHost: a\r\ncontent-length:  007 \r\n\r\n") > 0);
    CHECK_INT(q.r.f.content_length, 7);
    REQUIRE(parse_req(&q, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n") > 0);
    CHECK_INT(q.r.f.body, HTTP_BODY_LENGTH);
    CHECK_INT(q.r.f.content_length, 0);
}

TEST(http_parse_rejects_differing_content_length)
{
    REJECT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
           HTTP_E_CL_MISMATCH);
    REJECT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n", HTTP_E_CL_MISMATCH);
    REJECT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 05, 6\r\n\r\n",
           HTTP_E_CL_MISMATCH);
}

TEST(http_parse_rejects_invalid_content_length)
{
    const char *bad[] = { "-1", "+5", "5a", "", "0x10", "5,", ",5", "5 5", "1.0", "5;",
                          "18446744073709551616", "99999999999999999999",
                          "9223372036854775808" /* > INT64_MAX */ };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char req[256];
        snprintf(req, sizeof req, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %s\r\n\r\n", bad[i]);
        REJECT(req, HTTP_E_CL_INVALID);
    }
}

TEST(http_parse_rejects_cl_with_te)
{
    REJECT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
           HTTP_E_CL_AND_TE);
    REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n",
           HTTP_E_CL_AND_TE);
}

TEST(http_parse_chunked_request)
{
    preq q;
    REQUIRE(parse_req(&q, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n") > 0);
    CHECK_INT(q.r.f.body, HTTP_BODY_CHUNKED);
    REQUIRE(parse_req(&q, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED \r\n\r\n") > 0);
    CHECK_INT(q.r.f.body, HTTP_BODY_CHUNKED);
    /* empty list elements are ignored (RFC 9110 §5.6.1) */
    REQUIRE(parse_req(&q, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , chunked,\r\n\r\n") > 0);
    CHECK_INT(q.r.f.body, HTTP_BODY_CHUNKED);
}

TEST(http_parse_rejects_te_other_than_chunked)
{
    const char *pre = "POST / HTTP/1.1\r\nHost: a\r\n";
    struct { const char *te; int err; } cases[] = {
        { "Transfer-Encoding: gzip\r\n", HTTP_E_TE_NOT_CHUNKED },
        { "Transfer-Encoding: chunked, gzip\r\n", HTTP_E_TE_NOT_CHUNKED },
        { "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n", HTTP_E_TE_NOT_CHUNKED },
        { "Transfer-Encoding: xchunked\r\n", HTTP_E_TE_NOT_CHUNKED },
        { "Transfer-Encoding: chunked;q=1\r\n", HTTP_E_TE_NOT_CHUNKED },
        { "Transfer-Encoding: \"chunked\"\r\n", HTTP_E_TE_NOT_CHUNKED },
        { "Transfer-Encoding:\r\n", HTTP_E_TE_NOT_CHUNKED },
        { "Transfer-Encoding: identity\r\n", HTTP_E_TE_NOT_CHUNKED },
        { "Transfer-Encoding: gzip, chunked\r\n", HTTP_E_TE_UNSUPPORTED },
        { "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", HTTP_E_TE_UNSUPPORTED },
        { "Transfer-Encoding: chunked, chunked\r\n", HTTP_E_TE_UNSUPPORTED },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char req[256];
        snprintf(req, sizeof req, "%s%s\r\n", pre, cases[i].te);
        REJECT(req, cases[i].err);
    }
}

TEST(http_parse_rejects_te_in_http10)
{
    REJECT("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_E_TE_HTTP10);
    REJECT("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
           HTTP_E_TE_HTTP10);
}

TEST(http_parse_te_header_name_variants_are_not_te)
{
    /* Only the exact field name frames the body: these are other fields,
     * and the Content-Length decides. */
    preq q;
    REQUIRE(parse_req(&q, "POST / HTTP/1.1\r\nHost: a\r\nTransfer_Encoding: chunked\r\n"
                          "Content-Length: 3\r\n\r\n") > 0);
    CHECK_INT(q.r.f.body, HTTP_BODY_LENGTH);
    REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n",
           HTTP_E_HEADER_SPACE);
}

TEST(http_parse_rejects_bare_cr)
{
    REJECT("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", HTTP_E_BARE_CR);
    REJECT("GET / HTTP/1.1\r\nHost: a\r\nX: ab\r\r\n\r\n", HTTP_E_BARE_CR);
    REJECT("GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_E_BARE_CR);
    REJECT("GET / HTTP/1.1\r\r\nHost: a\r\n\r\n", HTTP_E_BARE_CR);
    REJECT("GET / HTTP/1.1\r\nHost: a\r\nX\r: b\r\n\r\n", HTTP_E_BARE_CR);
}

TEST(http_parse_rejects_bare_lf)
{
    REJECT("GET / HTTP/1.1\nHost: a\n\n", HTTP_E_BARE_LF);
    REJECT("GET / HTTP/1.1\r\nHost: a\n\r\n", HTTP_E_BARE_LF);
    REJECT("GET / HTTP/1.1\r\nHost: a\r\n\n", HTTP_E_BARE_LF);
    REJECT("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_E_BARE_LF);
    /* X: a<LF>Transfer-Encoding: chunked would smuggle a field through a
     * lenient upstream. */
    REJECT("POST / HTTP/1.1\r\nHost: a\r\nX: a\nTransfer-Encoding: chunked\r\n"
           "Content-Length: 3\r\n\r\n", HTTP_E_BARE_LF);
}

TEST(http_parse_rejects_space_before_colon)
{
    REJECT("GET / HTTP/1.1\r\nHost : a\r\n\r\n", HTTP_E_HEADER_SPACE);
    REJECT("GET / HTTP/1.1\r\nHost: a\r\nContent-Length\t: 1\r\n\r\n", HTTP_E_HEADER_SPACE);
}

TEST(http_parse_rejects_obs_fold)
{
    REJECT("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", HTTP_E_OBS_FOLD);
    REJECT("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n", HTTP_E_OBS_FOLD);
    REJECT("GET / HTTP/1.1\r\n Host: a\r\n\r\n", HTTP_E_OBS_FOLD);
}

TEST(http_parse_rejects_bad_header_names)
{
    REJECT("GET / HTTP/1.1\r\nHost: a\r\nX@Y: z\r\n\r\n", HTTP_E_HEADER_NAME);
    REJECT("GET / HTTP/1.1\r\nHost: a\r\n: z\r\n\r\n", HTTP_E_HEADER_NAME);
    REJECT("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", HTTP_E_HEADER_NAME);
    REJECT("GET / HTTP/1.1\r\nHost: a\r\nX(y): z\r\n\r\n", HTTP_E_HEADER_NAME);
    REJECT("GET / HTTP/1.1\r\nHost: a\r\n\"X\": z\r\n\r\n", HTTP_E_HEADER_NAME);
    REJECT("GET / HTTP/1.1\r\nHost: a\r\nX\x01: z\r\n\r\n", HTTP_E_HEADER_NAME);
    REJECT("GET / HTTP/1.1\r\nHost: a\r\nX\xc3\xa9: z\r\n\r\n", HTTP_E_HEADER_NAME);
}

TEST(http_parse_rejects_control_chars_in_values)
{
    const char ctl[] = { 0x01, 0x08, 0x0b, 0x0c, 0x1f, 0x7f };
    for (size_t i = 0; i < sizeof ctl; i++) {
        char req[128];
        snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: a\r\nX: a%cb\r\n\r\n", ctl[i]);
        REJECT(req, HTTP_E_HEADER_VALUE);
    }
    /* NUL cannot go through a C string: build it by hand. */
    const char nul[] = "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n";
    preq q;
    CHECK_INT(parse_req_lim(&q, nul, sizeof nul - 1, NULL), -HTTP_E_HEADER_VALUE);
}

TEST(http_parse_rejects_bad_methods)
{
    REJECT("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_E_METHOD);
    REJECT("GE\x01T / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_E_METHOD);
    REJECT("G\xc3\x89T / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_E_METHOD);
    REJECT(" GET / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_E_REQUEST_LINE);
    /* tokens other than the known methods are fine (and case matters) */
    preq q;
    REQUIRE(parse_req(&q, "get / HTTP/1.1\r\nHost: a\r\n\r\n") > 0);
    CHECK_INT(q.r.meth, HTTP_M_OTHER);
    REQUIRE(parse_req(&q, "PROPFIND / HTTP/1.1\r\nHost: a\r\n\r\n") > 0);
    CHECK(str_is(q.r.method, "PROPFIND"));
}

TEST(http_parse_method_ids)
{
    const char *names[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH" };
    http_method ids[] = { HTTP_M_GET, HTTP_M_HEAD, HTTP_M_POST, HTTP_M_PUT, HTTP_M_DELETE,
                          HTTP_M_OPTIONS, HTTP_M_TRACE, HTTP_M_PATCH };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        preq q;
        char req[128];
        snprintf(req, sizeof req, "%s / HTTP/1.1\r\nHost: a\r\n\r\n", names[i]);
        REQUIRE(parse_req(&q, req) > 0);
        CHECK_INT(q.r.meth, ids[i]);
        CHECK_STR(http_method_name(ids[i]), names[i]);
    }
    CHECK(http_method_name(HTTP_M_OTHER) == NULL);
}

TEST(http_parse_rejects_malformed_request_lines)
{
    REJECT("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_E_REQUEST_LINE);
    REJECT("GET /  HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_E_REQUEST_LINE);
    REJECT("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", HTTP_E_REQUEST_LINE);
    REJECT("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_E_REQUEST_LINE);
    REJECT("GET /\r\nHost: a\r\n\r\n", HTTP_E_REQUEST_LINE);
    REJECT("GET / http/1.1\r\nHost: a\r\n\r\n", HTTP_E_REQUEST_LINE);
    REJECT("GET / HTTP/1.10\r\nHost: a\r\n\r\n", HTTP_E_REQUEST_LINE);
    REJECT("GET\r\nHost: a\r\n\r\n", HTTP_E_REQUEST_LINE);
    REJECT("GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_E_TARGET);
    REJECT("GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_E_TARGET);
    REJECT("GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_E_TARGET);
}

TEST(http_parse_rejects_other_versions)
{
    REJECT("GET / HTTP/1.2\r\nHost: a\r\n\r\n", HTTP_E_VERSION);
    REJECT("GET / HTTP/2.0\r\nHost: a\r\n\r\n", HTTP_E_VERSION);
    REJECT("GET / HTTP/0.9\r\nHost: a\r\n\r\n", HTTP_E_VERSION);
    REJECT("GET / HTTP/3.1\r\nHost: a\r\n\r\n", HTTP_E_VERSION);
    preq q;
    REQUIRE(parse_req(&q, "GET / HTTP/1.0\r\n\r\n") > 0);
    CHECK_INT(q.r.minor, 0);
    CHECK_INT(q.r.host.len, 0);
}

TEST(http_parse_host_rules)
{
    REJECT("GET / HTTP/1.1\r\n\r\n", HTTP_E_HOST_MISSING);
    REJECT("GET / HTTP/1.1\r\nX: y\r\n\r\n", HTTP_E_HOST_MISSING);
    REJECT("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", HTTP_E_HOST_DUPLICATE);
    REJECT("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", HTTP_E_HOST_DUPLICATE);
    REJECT("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", HTTP_E_HOST_DUPLICATE);
    REJECT("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", HTTP_E_HOST_INVALID);
    REJECT("GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", HTTP_E_HOST_INVALID);
    REJECT("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", HTTP_E_HOST_INVALID);
    preq q;
    REQUIRE(parse_req(&q, "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n") > 0);
    CHECK(str_is(q.r.host, "[::1]:8080"));
    REQUIRE(parse_req(&q, "GET / HTTP/1.1\r\nHost:\r\n\r\n") > 0); /* empty is allowed */
    CHECK_INT(q.r.host.len, 0);
}

TEST(http_parse_absolute_form_target)
{
    preq q;
    REQUIRE(parse_req(&q, "GET http://example.com:8080/a/b?c=d HTTP/1.1\r\nHost: other\r\n\r\n") > 0);
    CHECK_INT(q.r.form, HTTP_TARGET_ABSOLUTE);
    CHECK(str_is(q.r.host, "example.com:8080"));
    CHECK(str_is(q.r.path, "/a/b?c=d"));
    REQUIRE(parse_req(&q, "GET https://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n") > 0);
    CHECK(str_is(q.r.path, "/"));
    CHECK(str_is(q.r.host, "example.com"));
    REJECT("GET example.com/x HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_E_TARGET);
    REJECT("GET http:/x HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_E_TARGET);
    REJECT("GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_E_TARGET);
    REJECT("GET http://u@h/x HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_E_TARGET);
    REJECT("GET 1http://h/x HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_E_TARGET);
    /* a Host is still required in HTTP/1.1 */
    REJECT("GET http://h/x HTTP/1.1\r\n\r\n", HTTP_E_HOST_MISSING);
}

TEST(http_parse_authority_and_asterisk_forms)
{
    preq q;
    REQUIRE(parse_req(&q, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n") > 0);
    CHECK_INT(q.r.form, HTTP_TARGET_AUTHORITY);
    CHECK(str_is(q.r.host, "example.com:443"));
    REJECT("CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_E_TARGET);
    REJECT("CONNECT example.com HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_E_TARGET);
    REQUIRE(parse_req(&q, "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n") > 0);
    CHECK_INT(q.r.form, HTTP_TARGET_ASTERISK);
    CHECK(str_is(q.r.path, "*"));
    REJECT("GET * HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_E_TARGET);
}

TEST(http_parse_keep_alive_rules)
{
    struct { const char *req; bool ka; } cases[] = {
        { "GET / HTTP/1.1\r\nHost: a\r\n\r\n", true },
        { "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false },
        { "GET / HTTP/1.1\r\nHost: a\r\nConnection: CLOSE\r\n\r\n", false },
        { "GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n", false },
        { "GET / HTTP/1.1\r\nHost: a\r\nConnection: foo\r\nConnection: close\r\n\r\n", false },
        { "GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n", true },
        { "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n", true },
        { "GET / HTTP/1.0\r\n\r\n", false },
        { "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true },
        { "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true },
        { "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false },
        { "GET / HTTP/1.0\r\nKeep-Alive: 300\r\n\r\n", false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        preq q;
        REQUIRE(parse_req(&q, cases[i].req) > 0);
        if (q.r.f.keep_alive != cases[i].ka)
            fprintf(stderr, "    case %zu\n", i);
        CHECK(q.r.f.keep_alive == cases[i].ka);
    }
}

TEST(http_parse_upgrade_detection)
{
    preq q;
    REQUIRE(parse_req(&q, "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\n"
                          "Upgrade: websocket\r\n\r\n") > 0);
    CHECK(q.r.upgrade);
    CHECK(str_is(q.r.upgrade_proto, "websocket"));
    REQUIRE(parse_req(&q, "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n") > 0);
    CHECK(!q.r.upgrade);
    REQUIRE(parse_req(&q, "GET /ws HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n") > 0);
    CHECK(!q.r.upgrade);
}

TEST(http_parse_expect_detection)
{
    preq q;
    REQUIRE(parse_req(&q, "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n"
                          "Content-Length: 3\r\n\r\n") > 0);
    CHECK(q.r.expect_continue);
    CHECK(!q.r.expect_other);
    REQUIRE(parse_req(&q, "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n") > 0);
    CHECK(!q.r.expect_continue);
    REQUIRE(parse_req(&q, "POST / HTTP/1.1\r\nHost: a\r\nExpect: something\r\n\r\n") > 0);
    CHECK(!q.r.expect_continue);
    CHECK(q.r.expect_other);
}

TEST(http_parse_skips_leading_empty_lines)
{
    preq q;
    const char *s = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
    REQUIRE(parse_req(&q, s) == (ssize_t)strlen(s));
    CHECK(str_is(q.r.method, "GET"));
    CHECK_INT(q.r.head_len, strlen(s));
}

TEST(http_parse_pipelined_requests)
{
    const char *s = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
                    "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi"
                    "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n";
    size_t len = strlen(s), off = 0;
    http_head_parser p;
    http_head_parser_init(&p, NULL);
    http_header h[8];
    http_request r = { .headers = h, .headers_cap = 8 };
    const char *paths[] = { "/1", "/2", "/3" };
    for (int i = 0; i < 3; i++) {
        ssize_t n = http_parse_request(&p, s + off, len - off, &r);
        REQUIRE(n > 0);
        CHECK(str_is(r.path, paths[i]));
        off += (size_t)n;
        if (r.f.body == HTTP_BODY_LENGTH)
            off += r.f.content_length;
    }
    CHECK_INT(off, len);
}

/* ---- limits ---- */

static char *repeat_header_req(unsigned nfields)
{
    size_t cap = 64 + (size_t)nfields * 16;
    char *s = malloc(cap);
    size_t n = (size_t)snprintf(s, cap, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (unsigned i = 1; i < nfields; i++)
        n += (size_t)snprintf(s + n, cap - n, "X-%u: v\r\n", i);
    snprintf(s + n, cap - n, "\r\n");
    return s;
}

TEST(http_parse_limit_header_count)
{
    preq q;
    char *ok = repeat_header_req(HTTP_HEADERS_MAX_DEFAULT);
    char *bad = repeat_header_req(HTTP_HEADERS_MAX_DEFAULT + 1);
    CHECK(parse_req(&q, ok) > 0);
    CHECK_INT(q.r.nheaders, HTTP_HEADERS_MAX_DEFAULT);
    CHECK_INT(parse_req(&q, bad), -HTTP_E_TOO_MANY_HEADERS);
    /* without the end of the head: noticed as soon as the field arrives */
    bad[strlen(bad) - 2] = '\0';
    CHECK_INT(parse_req(&q, bad), -HTTP_E_TOO_MANY_HEADERS);
    http_limits lim = { .headers_max = 3 };
    char *three = repeat_header_req(3), *four = repeat_header_req(4);
    CHECK(parse_req_lim(&q, three, strlen(three), &lim) > 0);
    CHECK_INT(parse_req_lim(&q, four, strlen(four), &lim), -HTTP_E_TOO_MANY_HEADERS);
    /* a caller array smaller than the limit bounds it too */
    http_head_parser p;
    http_head_parser_init(&p, NULL);
    http_header h[2];
    http_request r = { .headers = h, .headers_cap = 2 };
    CHECK_INT(http_parse_request(&p, three, strlen(three), &r), -HTTP_E_TOO_MANY_HEADERS);
    CHECK_INT(http_err_status(-HTTP_E_TOO_MANY_HEADERS), 431);
    free(ok);
    free(bad);
    free(three);
    free(four);
}

TEST(http_parse_limit_head_size)
{
    http_limits lim = { .head_max = 100 };
    preq q;
    char s[512];
    /* exactly 100 bytes is fine: 28 bytes before the value, 4 after */
    char v[80];
    memset(v, 'x', sizeof v);
    int n = snprintf(s, sizeof s, "GET / HTTP/1.1\r\nHost: a\r\nX: %.68s\r\n\r\n", v);
    REQUIRE(n == 100);
    CHECK_INT(parse_req_lim(&q, s, (size_t)n, &lim), 100);
    n = snprintf(s, sizeof s, "GET / HTTP/1.1\r\nHost: a\r\nX: %.69s\r\n\r\n", v);
    CHECK_INT(parse_req_lim(&q, s, (size_t)n, &lim), -HTTP_E_HEAD_TOO_LARGE);
    /* an endless head is refused once it passes the limit */
    memset(s, 'x', sizeof s);
    memcpy(s, "GET / HTTP/1.1\r\nX: ", 19);
    CHECK_INT(parse_req_lim(&q, s, 100, &lim), 0);
    CHECK_INT(parse_req_lim(&q, s, 101, &lim), -HTTP_E_HEAD_TOO_LARGE);
    CHECK_INT(http_err_status(-HTTP_E_HEAD_TOO_LARGE), 431);
    /* the default is 16 KiB */
    char *big = malloc(20000);
    n = snprintf(big, 20000, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
    memset(big + n, 'y', 17000);
    memcpy(big + n + 17000, "\r\n\r\n", 4);
    CHECK_INT(parse_req_lim(&q, big, (size_t)n + 17004, NULL), -HTTP_E_HEAD_TOO_LARGE);
    free(big);
}

TEST(http_parse_limit_request_line)
{
    http_limits lim = { .line_max = 20 };
    preq q;
    const char *ok = "GET /23456 HTTP/1.1\r\nHost: a\r\n\r\n"; /* line of 19 */
    CHECK(parse_req_lim(&q, ok, strlen(ok), &lim) > 0);
    const char *edge = "GET /234567 HTTP/1.1\r\nHost: a\r\n\r\n"; /* 20 */
    CHECK(parse_req_lim(&q, edge, strlen(edge), &lim) > 0);
    const char *bad = "GET /2345678 HTTP/1.1\r\nHost: a\r\n\r\n"; /* 21 */
    CHECK_INT(parse_req_lim(&q, bad, strlen(bad), &lim), -HTTP_E_LINE_TOO_LONG);
    /* incomplete, but already too long */
    CHECK_INT(parse_req_lim(&q, "GET /aaaaaaaaaaaaaaaaaaaaaa", 27, &lim), -HTTP_E_LINE_TOO_LONG);
    CHECK_INT(http_err_status(-HTTP_E_LINE_TOO_LONG), 414);
    /* header lines are bounded by the head limit, not the line limit */
    const char *longfield = "GET / HTTP/1.1\r\nHost: a\r\nX: 0123456789012345678901234567\r\n\r\n";
    CHECK(parse_req_lim(&q, longfield, strlen(longfield), &lim) > 0);
}

TEST(http_parse_limit_body_size)
{
    http_limits lim = { .body_max = 1000 };
    preq q;
    const char *ok = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n";
    const char *bad = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n";
    CHECK(parse_req_lim(&q, ok, strlen(ok), &lim) > 0);
    CHECK_INT(parse_req_lim(&q, bad, strlen(bad), &lim), -HTTP_E_BODY_TOO_LARGE);
    CHECK_INT(http_err_status(-HTTP_E_BODY_TOO_LARGE), 413);
}

TEST(http_parse_error_statuses)
{
    CHECK_INT(http_err_status(-HTTP_E_CL_AND_TE), 400);
    CHECK_INT(http_err_status(-HTTP_E_BARE_LF), 400);
    CHECK_INT(http_err_status(-HTTP_E_VERSION), 505);
    CHECK_INT(http_err_status(-HTTP_E_TE_UNSUPPORTED), 501);
    for (int e = 1; e < HTTP_E_COUNT_; e++)
        CHECK(strcmp(http_err_str(-e), "unknown http error") != 0);
    CHECK_STR(http_err_str(9999), "unknown http error");
}

/* ---- incremental parsing ---- */

/* Compares two results of parsing the same bytes at bases a and b. */
static bool same_str(http_str x, const char *a, http_str y, const char *b)
{
    if (x.len != y.len)
        return false;
    if (x.len == 0)
        return true;
    return memcmp(x.p, y.p, x.len) == 0 && (x.p - a) == (y.p - b);
}

static bool same_request(const preq *x, const char *a, const preq *y, const char *b)
{
    if (x->rc != y->rc)
        return false;
    if (x->rc <= 0)
        return true;
    const http_request *r = &x->r, *s = &y->r;
    if (!same_str(r->method, a, s->method, b) || !same_str(r->target, a, s->target, b) ||
        !same_str(r->host, a, s->host, b) || r->path.len != s->path.len ||
        r->minor != s->minor || r->meth != s->meth || r->form != s->form ||
        r->nheaders != s->nheaders || r->head_len != s->head_len ||
        memcmp(&r->f, &s->f, sizeof r->f) != 0 || r->expect_continue != s->expect_continue ||
        r->upgrade != s->upgrade)
        return false;
    for (unsigned i = 0; i < r->nheaders; i++)
        if (!same_str(r->headers[i].name, a, s->headers[i].name, b) ||
            !same_str(r->headers[i].value, a, s->headers[i].value, b))
            return false;
    return true;
}

static const char *const corpus[] = {
    "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0\r\n"
    "Accept: text/html,application/xhtml+xml\r\nAccept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\nCookie: a=b; c=d\r\n\r\n",
    "POST /hook HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
    "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "\r\n\r\nGET / HTTP/1.0\r\n\r\n",
    "GET http://h:1/p?q HTTP/1.1\r\nHost: h:1\r\nExpect: 100-continue\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n folded\r\n\r\n",
    "GET / HTTP/9.9\r\nHost: a\r\n\r\n",
    "GET /\r\n\r\n",
    "GET / HTTP/1.1\r\n\r\n",
};

TEST(http_parse_split_at_every_offset_matches_one_piece)
{
    for (size_t c = 0; c < sizeof corpus / sizeof corpus[0]; c++) {
        const char *msg = corpus[c];
        size_t len = strlen(msg);
        preq whole;
        parse_req_lim(&whole, msg, len, NULL);
        for (size_t k = 0; k <= len; k++) {
            /* Feed k bytes, then all of it, from a fresh copy each time. */
            http_head_parser p;
            http_head_parser_init(&p, NULL);
            preq part;
            memset(&part.r, 0, sizeof part.r);
            part.r.headers = part.h;
            part.r.headers_cap = NH;
            char *first = malloc(k ? k : 1);
            memcpy(first, msg, k);
            ssize_t rc1 = http_parse_request(&p, first, k, &part.r);
            free(first);
            char *all = malloc(len);
            memcpy(all, msg, len);
            if (rc1 == 0) {
                part.rc = http_parse_request(&p, all, len, &part.r);
            } else {
                /* Finished early: only an error, or the head really ended. */
                part.rc = rc1;
                if (rc1 > 0) {
                    CHECK((size_t)rc1 <= k);
                    http_head_parser_init(&p, NULL);
                    part.rc = http_parse_request(&p, all, len, &part.r);
                }
            }
            if (!same_request(&whole, msg, &part, all)) {
                fprintf(stderr, "    corpus %zu split at %zu: %zd vs %zd\n", c, k, whole.rc,
                        part.rc);
                test_fail(__FILE__, __LINE__, "split parse equals one-piece parse");
            }
            free(all);
        }
    }
}

TEST(http_parse_byte_by_byte_matches_one_piece)
{
    for (size_t c = 0; c < sizeof corpus / sizeof corpus[0]; c++) {
        const char *msg = corpus[c];
        size_t len = strlen(msg);
        preq whole;
        parse_req_lim(&whole, msg, len, NULL);
        http_head_parser p;
        http_head_parser_init(&p, NULL);
        preq part;
        memset(&part.r, 0, sizeof part.r);
        part.r.headers = part.h;
        part.r.headers_cap = NH;
        part.rc = 0;
        char *buf = NULL;
        for (size_t k = 1; k <= len && part.rc == 0; k++) {
            free(buf);
            buf = malloc(k); /* a new address each time: nothing may point into old bytes */
            memcpy(buf, msg, k);
            part.rc = http_parse_request(&p, buf, k, &part.r);
        }
        if (whole.rc != 0)
            CHECK(same_request(&whole, msg, &part, buf));
        else
            CHECK_INT(part.rc, 0);
        free(buf);
    }
}

/* Each byte is scanned once however the input is split: the parser keeps
 * its place. Counted indirectly: a head fed one byte at a time must do no
 * more work than a small multiple of its size, which we check through the
 * parser's own progress marker. */
TEST(http_parse_incremental_scan_resumes)
{
    const char *msg = corpus[1];
    size_t len = strlen(msg);
    http_head_parser p;
    http_head_parser_init(&p, NULL);
    http_header h[NH];
    http_request r = { .headers = h, .headers_cap = NH };
    for (size_t k = 1; k < len; k++) {
        CHECK_INT(http_parse_request(&p, msg, k, &r), 0);
        CHECK_INT(p.scanned, k); /* the next call starts where this one stopped */
    }
    CHECK_INT(http_parse_request(&p, msg, len, &r), (ssize_t)len);
    CHECK_INT(p.scanned, 0); /* reset for the next message */
}

TEST(http_parse_request_move_rebases_slices)
{
    const char *msg = "POST http://h/p HTTP/1.1\r\nHost: h\r\nUpgrade: x\r\nContent-Length: 0\r\n\r\n";
    size_t len = strlen(msg);
    char *a = strdup(msg);
    preq q;
    REQUIRE(parse_req_lim(&q, a, len, NULL) > 0);
    char *b = malloc(len);
    memcpy(b, a, len);
    http_request_move(&q.r, a, b, len);
    memset(a, '#', len);
    free(a);
    CHECK(str_is(q.r.method, "POST"));
    CHECK(q.r.method.p == b);
    CHECK(str_is(q.r.host, "h"));
    CHECK(str_is(q.r.path, "/p"));
    CHECK(str_is(q.r.headers[2].name, "Content-Length"));
    CHECK(str_is(q.r.upgrade_proto, "x"));
    free(b);
}

TEST(http_parse_header_helpers)
{
    http_str v = { "foo, Keep-Alive ,\tUpgrade,,", 27 };
    CHECK(http_list_has_token(v, "keep-alive"));
    CHECK(http_list_has_token(v, "upgrade"));
    CHECK(http_list_has_token(v, "FOO"));
    CHECK(!http_list_has_token(v, "keep"));
    CHECK(!http_list_has_token(v, ""));
    http_str empty = { "", 0 };
    CHECK(!http_list_has_token(empty, "x"));
    CHECK(http_str_ieq((http_str){ "Content-Type", 12 }, "content-type"));
    CHECK(!http_str_ieq((http_str){ "Content-Typ", 11 }, "content-type"));
    CHECK_STR(http_status_reason(404), "Not Found");
    CHECK_STR(http_status_reason(299), "Unknown");
}
