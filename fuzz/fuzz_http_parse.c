/* fuzz_http_parse.c — libFuzzer target for the HTTP/1.1 parser: the request
 * and response head parsers and the body decoders, each fed the input in one
 * piece and split at an offset taken from the data. Invariants: split and
 * one-piece parsing agree; every slice lies inside the head; the decoders
 * never consume more than they were given and agree however split. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

#define NH 32

static char *copy(const uint8_t *d, size_t n)
{
    char *p = malloc(n ? n : 1); /* exact size: ASan catches any over-read */
    if (n)
        memcpy(p, d, n);
    return p;
}

static void check_slice(http_str s, const char *base, size_t len)
{
    if (s.len == 0)
        return;
    assert(s.p >= base && s.p + s.len <= base + len);
}

static void check_same(http_str a, const char *ba, http_str b, const char *bb)
{
    assert(a.len == b.len);
    if (a.len)
        assert(memcmp(a.p, b.p, a.len) == 0 && a.p - ba == b.p - bb);
}

static ssize_t parse_req(const http_limits *lim, const char *buf, size_t len, size_t split,
                         http_request *r)
{
    http_head_parser p;
    http_head_parser_init(&p, lim);
    if (split < len) {
        ssize_t rc = http_parse_request(&p, buf, split, r);
        if (rc != 0)
            return rc < 0 ? rc : http_parse_request(&(http_head_parser){ .lim = p.lim }, buf, len, r);
    }
    return http_parse_request(&p, buf, len, r);
}

static void fuzz_request(const http_limits *lim, const uint8_t *d, size_t n, size_t split)
{
    http_header h1[NH], h2[NH];
    http_request a = { .headers = h1, .headers_cap = NH };
    http_request b = { .headers = h2, .headers_cap = NH };
    char *x = copy(d, n), *y = copy(d, n);
    ssize_t ra = parse_req(lim, x, n, n, &a);
    ssize_t rb = parse_req(lim, y, n, split, &b);
    assert(ra == rb);
    assert(ra <= (ssize_t)n);
    if (ra > 0) {
        size_t hl = (size_t)ra;
        assert(a.head_len == hl && a.nheaders <= NH && (a.minor == 0 || a.minor == 1));
        check_slice(a.method, x, hl);
        check_slice(a.target, x, hl);
        check_slice(a.host, x, hl);
        assert(a.method.len > 0 && a.target.len > 0);
        check_same(a.method, x, b.method, y);
        check_same(a.target, x, b.target, y);
        check_same(a.host, x, b.host, y);
        assert(a.nheaders == b.nheaders && a.f.body == b.f.body &&
               a.f.content_length == b.f.content_length && a.f.keep_alive == b.f.keep_alive);
        for (unsigned i = 0; i < a.nheaders; i++) {
            check_slice(a.headers[i].name, x, hl);
            check_slice(a.headers[i].value, x, hl);
            assert(a.headers[i].name.len > 0);
            check_same(a.headers[i].name, x, b.headers[i].name, y);
            check_same(a.headers[i].value, x, b.headers[i].value, y);
        }
        assert(a.f.body != HTTP_BODY_CLOSE);
        /* Requests never carry both framings, never TE in HTTP/1.0. */
        if (a.f.body == HTTP_BODY_CHUNKED) {
            assert(!http_header_find(a.headers, a.nheaders, "content-length"));
            assert(a.minor == 1);
        }
        if (a.minor == 1)
            assert(http_header_find(a.headers, a.nheaders, "host"));
    } else if (ra < 0) {
        assert(-ra > 0 && -ra < HTTP_E_COUNT_);
        int st = http_err_status((int)ra);
        assert(st >= 400 && st < 600);
    }
    free(x);
    free(y);
}

static void fuzz_response(const http_limits *lim, const uint8_t *d, size_t n, size_t split,
                          bool head)
{
    http_header h1[NH], h2[NH];
    http_response a = { .headers = h1, .headers_cap = NH };
    http_response b = { .headers = h2, .headers_cap = NH };
    char *x = copy(d, n), *y = copy(d, n);
    http_head_parser p, q;
    http_head_parser_init(&p, lim);
    http_head_parser_init(&q, lim);
    ssize_t ra = http_parse_response(&p, x, n, head, &a);
    ssize_t rb = split < n ? http_parse_response(&q, y, split, head, &b) : 0;
    if (rb > 0)
        http_head_parser_reset(&q);
    if (rb >= 0)
        rb = http_parse_response(&q, y, n, head, &b);
    assert(ra == rb);
    if (ra > 0) {
        assert(a.status >= 100 && a.status <= 999 && a.status == b.status);
        assert(a.nheaders == b.nheaders && a.f.body == b.f.body);
        check_slice(a.reason, x, (size_t)ra);
        for (unsigned i = 0; i < a.nheaders; i++) {
            check_slice(a.headers[i].name, x, (size_t)ra);
            check_slice(a.headers[i].value, x, (size_t)ra);
            check_same(a.headers[i].value, x, b.headers[i].value, y);
        }
        if (head || a.status / 100 == 1 || a.status == 204 || a.status == 304)
            assert(a.f.body == HTTP_BODY_NONE);
        if (a.f.body == HTTP_BODY_CLOSE)
            assert(!a.f.keep_alive);
    }
    free(x);
    free(y);
}

/* Runs the decoder over in[0..n) in pieces of at most step bytes (0: all);
 * returns the status and fills out/olen/used. */
static int body_run(http_body_kind kind, uint64_t cl, const http_limits *lim, const char *in,
                    size_t n, size_t step, char *out, size_t *olen, size_t *used)
{
    http_body b;
    http_body_init(&b, kind, cl, lim);
    size_t pos = 0, o = 0;
    int st = 0;
    while (pos < n && !http_body_done(&b)) {
        size_t lim_n = step && step < n - pos ? step : n - pos;
        char *piece = copy((const uint8_t *)in + pos, lim_n);
        size_t off = 0;
        while (off < lim_n && !http_body_done(&b)) {
            http_str dd;
            ssize_t rc = http_body_feed(&b, piece + off, lim_n - off, &dd);
            if (rc < 0) {
                st = (int)rc;
                break;
            }
            assert((size_t)rc <= lim_n - off);
            if (dd.len) {
                assert(dd.p >= piece + off && dd.p + dd.len <= piece + off + (size_t)rc);
                memcpy(out + o, dd.p, dd.len);
                o += dd.len;
            }
            if (rc == 0)
                break;
            off += (size_t)rc;
        }
        free(piece);
        pos += off;
        if (st < 0 || off < lim_n)
            break;
    }
    *olen = o;
    *used = pos;
    assert(o <= n && pos <= n);
    if (st < 0)
        return st;
    return http_body_done(&b) ? 1 : 0;
}

static void fuzz_body(const http_limits *lim, http_body_kind kind, const uint8_t *d, size_t n,
                      size_t split)
{
    char *out1 = malloc(n + 1), *out2 = malloc(n + 1), *out3 = malloc(n + 1);
    size_t o1, o2, o3, u1, u2, u3;
    uint64_t cl = split;
    int s1 = body_run(kind, cl, lim, (const char *)d, n, 0, out1, &o1, &u1);
    int s2 = body_run(kind, cl, lim, (const char *)d, n, split ? split : 1, out2, &o2, &u2);
    int s3 = body_run(kind, cl, lim, (const char *)d, n, 1, out3, &o3, &u3);
    assert(s1 == s2 && s1 == s3);
    if (s1 >= 0) {
        assert(o1 == o2 && o1 == o3 && u1 == u2 && u1 == u3);
        assert(memcmp(out1, out2, o1) == 0 && memcmp(out1, out3, o1) == 0);
    }
    free(out1);
    free(out2);
    free(out3);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t ctl = data[0];
    size_t split = data[1];
    data += 2;
    size -= 2;
    if (size)
        split %= size + 1;
    /* Small limits half the time, so the limit paths get exercised. */
    http_limits small = { .line_max = 64, .head_max = 256, .headers_max = 8, .body_max = 300,
                          .chunk_line_max = 24 };
    const http_limits *lim = (ctl & 1) ? &small : NULL;
    fuzz_request(lim, data, size, split);
    fuzz_response(lim, data, size, split, (ctl & 2) != 0);
    fuzz_body(lim, HTTP_BODY_CHUNKED, data, size, split);
    if (ctl & 4)
        fuzz_body(lim, HTTP_BODY_LENGTH, data, size, split);
    return 0;
}
