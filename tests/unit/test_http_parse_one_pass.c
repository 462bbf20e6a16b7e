/* test_http_parse_one_pass.c — a head that arrives whole is read in one
 * pass, a head that arrives in pieces is scanned and then validated: both
 * readings must give the same verdict (the same error code for every
 * rejection) and the same parsed head. Checked for requests and responses,
 * for every split offset, under tight and default limits, and for every
 * message with each byte in turn replaced by a byte that matters to the
 * grammar (CR, LF, HTAB, SP, colon, comma, NUL, DEL, control, obs-text). */
#include "test.h"
#include "http_parse.h"

#include <stdlib.h>
#include <string.h>

#define OP_NH 64

static const char *const op_requests[] = {
    "GET /file.bin HTTP/1.1\r\nHost: 127.0.0.1:18093\r\n\r\n",
    "GET /index.html?q=1 HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0 (X11)\r\n"
    "Accept: text/html,application/xhtml+xml\r\nAccept-Language: en-US,en;q=0.5\r\n"
    "Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\nCookie: a=b; c=d\r\n\r\n",
    "POST /hook HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\ncontent-length:2 \r\n\r\n{}",
    "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\nExpect: 100-continue\r\n\r\n",
    "\r\nGET / HTTP/1.0\r\nConnection: keep-alive\r\nX-Empty:\r\nX-Tab:\tv\t\r\n\r\n",
    "GET http://h:1/p?q HTTP/1.1\r\nHost: h:1\r\nX-Long: 0123456789abcdef0123456789\r\n\r\n",
    "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n",
    "OPTIONS * HTTP/1.1\r\nHost: a\r\nX-Obs: caf\xc3\xa9\r\n\r\n",
};

static const char *const op_responses[] = {
    "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Tue, 24 Nov 2026 21:00:07 GMT\r\n"
    "Content-Type: text/plain\r\nContent-Length: 1024\r\nConnection: keep-alive\r\n"
    "ETag: \"6b05fab7-400\"\r\nAccept-Ranges: bytes\r\n\r\nxxxx",
    "HTTP/1.1 304 Not Modified\r\nETag: \"a\"\r\n\r\n",
    "HTTP/1.1 200\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nabc",
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nX:\t a b \t\r\n\r\n",
};

typedef struct op_out {
    ssize_t rc;
    http_request q;
    http_response s;
    http_header h[OP_NH];
} op_out;

static void op_prepare(op_out *o)
{
    memset(o, 0, sizeof *o);
    o->q.headers = o->s.headers = o->h;
    o->q.headers_cap = o->s.headers_cap = OP_NH;
}

static ssize_t op_parse(http_head_parser *p, bool request, const char *b, size_t n, op_out *o)
{
    if (request)
        return http_parse_request(p, b, n, &o->q);
    return http_parse_response(p, b, n, false, &o->s);
}

/* Parses msg[0..len) at a fresh address, first k bytes then (if the parser
 * asked for more) all of it; k == len: in one piece. */
static void op_run(bool request, const char *msg, size_t len, size_t k, const http_limits *lim,
                   op_out *o, char **base)
{
    http_head_parser p;
    http_head_parser_init(&p, lim);
    op_prepare(o);
    char *first = malloc(k ? k : 1);
    memcpy(first, msg, k);
    o->rc = op_parse(&p, request, first, k, o);
    free(first);
    *base = malloc(len ? len : 1);
    memcpy(*base, msg, len);
    if (o->rc == 0 && k < len) {
        o->rc = op_parse(&p, request, *base, len, o);
    } else if (o->rc > 0) {
        /* the head ended within the first piece: parse it again at base */
        http_head_parser_init(&p, lim);
        op_prepare(o);
        o->rc = op_parse(&p, request, *base, len, o);
    }
}

static bool op_same_str(http_str x, const char *a, http_str y, const char *b)
{
    if (x.len != y.len)
        return false;
    return x.len == 0 || (x.p - a == y.p - b && memcmp(x.p, y.p, x.len) == 0);
}

static bool op_same(bool request, const op_out *x, const char *a, const op_out *y, const char *b)
{
    if (x->rc != y->rc)
        return false;
    if (x->rc <= 0)
        return true;
    unsigned n;
    if (request) {
        const http_request *r = &x->q, *s = &y->q;
        if (!op_same_str(r->method, a, s->method, b) || !op_same_str(r->target, a, s->target, b) ||
            !op_same_str(r->host, a, s->host, b) || !op_same_str(r->path, a, s->path, b) ||
            !op_same_str(r->upgrade_proto, a, s->upgrade_proto, b) || r->meth != s->meth ||
            r->form != s->form || r->minor != s->minor || r->nheaders != s->nheaders ||
            r->head_len != s->head_len || memcmp(&r->f, &s->f, sizeof r->f) != 0 ||
            r->expect_continue != s->expect_continue || r->expect_other != s->expect_other ||
            r->upgrade != s->upgrade)
            return false;
        n = r->nheaders;
    } else {
        const http_response *r = &x->s, *s = &y->s;
        if (r->minor != s->minor || r->status != s->status ||
            !op_same_str(r->reason, a, s->reason, b) || r->nheaders != s->nheaders ||
            r->head_len != s->head_len || memcmp(&r->f, &s->f, sizeof r->f) != 0)
            return false;
        n = r->nheaders;
    }
    for (unsigned i = 0; i < n; i++)
        if (!op_same_str(x->h[i].name, a, y->h[i].name, b) ||
            !op_same_str(x->h[i].value, a, y->h[i].value, b))
            return false;
    return true;
}

/* One piece against the first byte first (which always takes the resumed
 * reading); every_offset: against every other split too. */
static int op_check(bool request, const char *msg, size_t len, const http_limits *lim,
                    bool every_offset)
{
    op_out *whole = malloc(sizeof *whole), *part = malloc(sizeof *part);
    char *wb, *pb;
    int bad = 0;
    op_run(request, msg, len, len, lim, whole, &wb);
    for (size_t k = 0; k < len && !bad; k = every_offset ? k + 1 : (k ? len : 1)) {
        op_run(request, msg, len, k, lim, part, &pb);
        if (!op_same(request, whole, wb, part, pb)) {
            fprintf(stderr, "    %s split at %zu of %zu: %zd vs %zd: %.*s\n",
                    request ? "request" : "response", k, len, whole->rc, part->rc, (int)len, msg);
            bad = 1;
        }
        free(pb);
    }
    free(wb);
    free(whole);
    free(part);
    return bad;
}

static const http_limits op_limits[] = {
    { 0 },
    { .line_max = 20, .head_max = 96, .headers_max = 3, .body_max = 100 },
    { .line_max = 14, .head_max = 60, .headers_max = 1, .body_max = 2 },
};

static int op_corpus(bool request, const char *const *msgs, size_t count, bool every_offset,
                     bool mutate)
{
    static const char repl[] = { '\r', '\n', '\t', ' ', ':', ',', '\0', 0x7f, 0x01, (char)0x80,
                                 'a' };
    int bad = 0;
    for (size_t m = 0; m < count; m++) {
        size_t len = strlen(msgs[m]);
        char *mut = malloc(len);
        for (size_t l = 0; l < sizeof op_limits / sizeof op_limits[0]; l++) {
            const http_limits *lim = &op_limits[l];
            bad += op_check(request, msgs[m], len, lim, every_offset);
            for (size_t i = 0; mutate && i < len; i++)
                for (size_t r = 0; r < sizeof repl; r++) {
                    memcpy(mut, msgs[m], len);
                    mut[i] = repl[r];
                    bad += op_check(request, mut, len, lim, false);
                }
        }
        free(mut);
    }
    return bad;
}

#define OP_COUNT(a) (sizeof (a) / sizeof (a)[0])

TEST(http_parse_one_pass_request_split_at_every_offset)
{
    CHECK_INT(op_corpus(true, op_requests, OP_COUNT(op_requests), true, false), 0);
}

TEST(http_parse_one_pass_response_split_at_every_offset)
{
    CHECK_INT(op_corpus(false, op_responses, OP_COUNT(op_responses), true, false), 0);
}

TEST(http_parse_one_pass_request_mutations_match)
{
    CHECK_INT(op_corpus(true, op_requests, OP_COUNT(op_requests), false, true), 0);
}

TEST(http_parse_one_pass_response_mutations_match)
{
    CHECK_INT(op_corpus(false, op_responses, OP_COUNT(op_responses), false, true), 0);
}

/* The mutations do reach the rejections the one-pass reading leaves to the
 * resumed one: a test that could not fail would prove nothing. */
TEST(http_parse_one_pass_rejections_keep_their_codes)
{
    static const struct {
        const char *msg;
        int err;
    } cases[] = {
        { "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", HTTP_E_BARE_CR },
        { "GET / HTTP/1.1\r\nHost: a\r\nX: ab\r\r\n\r\n", HTTP_E_BARE_CR },
        { "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", HTTP_E_BARE_LF },
        { "GET / HTTP/1.1\r\nHost: a\r\nX : b\r\n\r\n", HTTP_E_HEADER_SPACE },
        { "GET / HTTP/1.1\r\nHost: a\r\n X: b\r\n\r\n", HTTP_E_OBS_FOLD },
        { "GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n", HTTP_E_HEADER_VALUE },
        { "GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", HTTP_E_HEADER_NAME },
        { "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
          HTTP_E_CL_MISMATCH },
        { "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", HTTP_E_HOST_DUPLICATE },
        { "GET / HTTP/1.1\r\n\r\n", HTTP_E_HOST_MISSING },
    };
    for (size_t i = 0; i < OP_COUNT(cases); i++) {
        http_head_parser p;
        http_head_parser_init(&p, NULL);
        op_out *o = malloc(sizeof *o);
        op_prepare(o);
        CHECK_INT(http_parse_request(&p, cases[i].msg, strlen(cases[i].msg), &o->q),
                  -cases[i].err);
        free(o);
        CHECK_INT(op_check(true, cases[i].msg, strlen(cases[i].msg), NULL, true), 0);
    }
}
