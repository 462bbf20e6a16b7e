/* http_parse.c (bench) — liftoff's HTTP/1.1 request parser against
 * libhttp-parser 2.9 (the old node parser): the same realistic request
 * heads parsed N times by each, best of several rounds, in ns per request;
 * then both are shown a list of malformed and smuggling-prone requests and
 * their verdicts are printed side by side. The last line is JSON.
 *
 * Both do comparable work: every header field is recorded as a (pointer,
 * length) pair, the target is recorded, and a body is framed and walked.
 *
 * usage: bench-http-parse [iterations]   (default 2000000) */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <http_parser.h>

#include "http_parse.h"

#define ROUNDS 5
#define MAXH 64

/* ---- libhttp-parser ---- */

typedef struct hp_ctx {
    const char *url;
    size_t url_len;
    const char *names[MAXH], *values[MAXH];
    size_t nlen[MAXH], vlen[MAXH];
    unsigned n;
    bool in_value;
    size_t body;
    bool complete;
    bool headers_done;
} hp_ctx;

static int hp_url(http_parser *p, const char *at, size_t len)
{
    hp_ctx *c = p->data;
    if (!c->url)
        c->url = at;
    c->url_len += len;
    return 0;
}

static int hp_field(http_parser *p, const char *at, size_t len)
{
    hp_ctx *c = p->data;
    if (c->in_value || c->n == 0) {
        if (c->n == MAXH)
            return 1;
        c->names[c->n] = at;
        c->nlen[c->n] = 0;
        c->vlen[c->n] = 0;
        c->n++;
        c->in_value = false;
    }
    c->nlen[c->n - 1] += len;
    return 0;
}

static int hp_value(http_parser *p, const char *at, size_t len)
{
    hp_ctx *c = p->data;
    if (!c->in_value)
        c->values[c->n - 1] = at;
    c->in_value = true;
    c->vlen[c->n - 1] += len;
    return 0;
}

static int hp_headers_done(http_parser *p)
{
    ((hp_ctx *)p->data)->headers_done = true;
    return 0;
}

static int hp_body(http_parser *p, const char *at, size_t len)
{
    ((hp_ctx *)p->data)->body += len;
    return 0;
}

static int hp_complete(http_parser *p)
{
    ((hp_ctx *)p->data)->complete = true;
    return 0;
}

static const http_parser_settings hp_settings = {
    .on_url = hp_url,
    .on_header_field = hp_field,
    .on_header_value = hp_value,
    .on_headers_complete = hp_headers_done,
    .on_body = hp_body,
    .on_message_complete = hp_complete,
};

static bool hp_parse(const char *text, size_t len, int segments, size_t *sink)
{
    hp_ctx c;
    c.url = NULL;
    c.url_len = 0;
    c.n = 0;
    c.in_value = false;
    c.body = 0;
    c.complete = false;
    c.headers_done = false;
    http_parser p;
    http_parser_init(&p, HTTP_REQUEST);
    p.data = &c;
    size_t step = len / (size_t)segments, off = 0;
    for (int s = 1; s <= segments; s++) {
        size_t end = s == segments ? len : step * (size_t)s;
        size_t k = http_parser_execute(&p, &hp_settings, text + off, end - off);
        if (p.http_errno != HPE_OK || k != end - off)
            return false;
        off = end;
    }
    if (!c.complete)
        return false;
    *sink += c.n + c.url_len + c.body;
    return true;
}

static const char *hp_verdict(const char *text)
{
    hp_ctx c;
    memset(&c, 0, sizeof c);
    http_parser p;
    http_parser_init(&p, HTTP_REQUEST);
    p.data = &c;
    size_t len = strlen(text);
    http_parser_execute(&p, &hp_settings, text, len);
    if (p.http_errno != HPE_OK)
        return http_errno_description(HTTP_PARSER_ERRNO(&p));
    return c.headers_done ? "accepted" : "(incomplete)";
}

static const char browser_get[] =
    "GET /api/v1/launches/2024-06-12/forecast?region=eu-west-1&window=15m HTTP/1.1\r\n"
    "Host: launch.example.com\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Referer: https://launch.example.com/dashboard\r\n"
    "Connection: keep-alive\r\n"
    "Cookie: session=9f8e7d6c5b4a39281706f5e4d3c2b1a0; theme=dark; consent=1\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "Sec-Fetch-Dest: document\r\n"
    "Sec-Fetch-Mode: navigate\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "Priority: u=0, i\r\n"
    "\r\n";

static const char small_post[] =
    "POST /webhook/events HTTP/1.1\r\n"
    "Host: ingest.liftoff.svc:8080\r\n"
    "User-Agent: curl/7.88.1\r\n"
    "Accept: */*\r\n"
    "Content-Type: application/json\r\n"
    "X-Signature: sha256=3b1f5c0e9a7d2b4c6e8f0a1b3c5d7e9f1a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d\r\n"
    "Content-Length: 62\r\n"
    "\r\n"
    "{\"event\":\"signup\",\"ts\":1718200000123,\"region\":\"eu\",\"count\":42}";

typedef struct msg {
    const char *name;
    const char *text;
    size_t len;
    int segments; /* delivered in this many pieces */
} msg;

/* ---- liftoff ---- */

static size_t sink;

static bool lo_parse(const msg *m, http_head_parser *p)
{
    http_header h[MAXH];
    http_request r = { .headers = h, .headers_cap = MAXH };
    ssize_t n = 0;
    size_t step = m->len / (size_t)m->segments;
    for (int s = 1; s <= m->segments && n == 0; s++) {
        size_t have = s == m->segments ? m->len : step * (size_t)s;
        n = http_parse_request(p, m->text, have, &r);
    }
    if (n <= 0)
        return false;
    size_t bytes = 0;
    if (r.f.body != HTTP_BODY_NONE) {
        http_body b;
        http_body_init(&b, r.f.body, r.f.content_length, NULL);
        http_str d;
        ssize_t k = http_body_feed(&b, m->text + n, m->len - (size_t)n, &d);
        if (k < 0 || !http_body_done(&b))
            return false;
        bytes = d.len;
    }
    sink += r.nheaders + r.target.len + bytes;
    return true;
}

/* ---- timing ---- */

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double bench_lo(const msg *m, long n)
{
    double best = 1e30;
    http_head_parser p;
    http_head_parser_init(&p, NULL);
    for (int r = 0; r < ROUNDS; r++) {
        double t0 = now_ns();
        for (long i = 0; i < n; i++)
            if (!lo_parse(m, &p))
                abort();
        double dt = (now_ns() - t0) / (double)n;
        if (dt < best)
            best = dt;
    }
    return best;
}

static double bench_hp(const msg *m, long n)
{
    double best = 1e30;
    for (int r = 0; r < ROUNDS; r++) {
        double t0 = now_ns();
        for (long i = 0; i < n; i++)
            if (!hp_parse(m->text, m->len, m->segments, &sink))
                abort();
        double dt = (now_ns() - t0) / (double)n;
        if (dt < best)
            best = dt;
    }
    return best;
}

/* ---- verdicts on hostile input ---- */

typedef struct hostile {
    const char *name;
    const char *text;
} hostile;

static const hostile hostiles[] = {
    { "CL + TE: chunked", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" },
    { "two different CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd" },
    { "two equal CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc" },
    { "CL list \"3, 3\"", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc" },
    { "CL \"-1\"", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n" },
    { "CL \"+3\"", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc" },
    { "CL overflow", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551617\r\n\r\n" },
    { "TE gzip, chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n" },
    { "TE chunked, gzip", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n" },
    { "TE xchunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n" },
    { "TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" },
    { "space before colon (TE)", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n" },
    { "obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n" },
    { "obs-fold TE value", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n" },
    { "bare LF line ends", "GET / HTTP/1.1\nHost: a\n\n" },
    { "bare LF inside head", "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n" },
    { "bare CR in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n" },
    { "CTL \\x01 in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01z\r\n\r\n" },
    { "DEL in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fz\r\n\r\n" },
    { "no Host (1.1)", "GET / HTTP/1.1\r\n\r\n" },
    { "two Host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n" },
    { "HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n" },
    { "HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n" },
    { "double space in line", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n" },
    { "invalid method char", "G{T / HTTP/1.1\r\nHost: a\r\n\r\n" },
    { "chunk size overflow", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n" },
    { "chunk size \"0x5\"", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n" },
    { "chunk ext with bare LF", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a\nb\r\nhello\r\n0\r\n\r\n" },
    { "chunk data without CRLF", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX0\r\n\r\n" },
    { "chunk size line bare LF", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n" },
};

static const char *lo_verdict(const char *text)
{
    http_head_parser p;
    http_head_parser_init(&p, NULL);
    http_header h[MAXH];
    http_request r = { .headers = h, .headers_cap = MAXH };
    size_t len = strlen(text);
    ssize_t n = http_parse_request(&p, text, len, &r);
    if (n < 0)
        return http_err_str((int)n);
    if (n == 0)
        return "(incomplete)";
    if (r.f.body != HTTP_BODY_NONE) {
        http_body b;
        http_body_init(&b, r.f.body, r.f.content_length, NULL);
        size_t off = (size_t)n;
        while (off < len && !http_body_done(&b)) {
            http_str d;
            ssize_t k = http_body_feed(&b, text + off, len - off, &d);
            if (k < 0)
                return http_err_str((int)k);
            if (k == 0)
                break;
            off += (size_t)k;
        }
    }
    return "accepted";
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    if (n <= 0)
        n = 2000000;
    msg msgs[] = {
        { "browser_get", browser_get, sizeof browser_get - 1, 1 },
        { "small_post", small_post, sizeof small_post - 1, 1 },
        { "browser_get_4_segments", browser_get, sizeof browser_get - 1, 4 },
    };
    size_t nm = sizeof msgs / sizeof msgs[0];
    unsigned long v = http_parser_version();
    printf("http parse benchmark: %ld requests per round, best of %d rounds\n", n, ROUNDS);
    printf("libhttp-parser %lu.%lu.%lu\n", (v >> 16) & 255, (v >> 8) & 255, v & 255);
    printf("%-24s %6s %14s %16s %8s\n", "message", "bytes", "liftoff ns/req", "http-parser ns/req",
           "ratio");
    double lo_ns[8], hp_ns[8];
    for (size_t i = 0; i < nm; i++) {
        lo_ns[i] = bench_lo(&msgs[i], n);
        hp_ns[i] = bench_hp(&msgs[i], n);
        printf("%-24s %6zu %14.1f %18.1f %8.2f\n", msgs[i].name, msgs[i].len, lo_ns[i], hp_ns[i],
               lo_ns[i] / hp_ns[i]);
    }
    printf("(ratio = liftoff / http-parser; below 1 means liftoff is faster)\n\n");

    printf("%-26s %-45s %s\n", "hostile request", "liftoff", "libhttp-parser");
    int hp_accepts = 0, lo_accepts = 0;
    for (size_t i = 0; i < sizeof hostiles / sizeof hostiles[0]; i++) {
        const char *a = lo_verdict(hostiles[i].text), *b = hp_verdict(hostiles[i].text);
        lo_accepts += strcmp(a, "accepted") == 0;
        hp_accepts += strcmp(b, "accepted") == 0;
        printf("%-26s %-45s %s\n", hostiles[i].name, a, b);
    }
    printf("\n");

    printf("{\"bench\":\"http_parse\",\"iterations\":%ld,\"rounds\":%d,\"cases\":[", n, ROUNDS);
    for (size_t i = 0; i < nm; i++)
        printf("%s{\"name\":\"%s\",\"bytes\":%zu,\"liftoff_ns\":%.1f,\"http_parser_ns\":%.1f,"
               "\"ratio\":%.3f}",
               i ? "," : "", msgs[i].name, msgs[i].len, lo_ns[i], hp_ns[i], lo_ns[i] / hp_ns[i]);
    printf("],\"hostile_cases\":%zu,\"liftoff_accepts\":%d,\"http_parser_accepts\":%d}\n",
           sizeof hostiles / sizeof hostiles[0], lo_accepts, hp_accepts);
    return sink == 42 ? 1 : 0;
}

