/* fuzz_http_request.c — libFuzzer target for the request side as a
 * server reads it (the order http_server.c follows): request heads, each
 * body decoded with the framing its head gives (Content-Length, chunked,
 * none), pipelined keep-alive requests one after the other, an Upgrade
 * request ending HTTP on the connection. The stream is read twice: in one piece, and as it would arrive
 * in pieces of a size taken from the data (bytes appended to a buffer, the
 * head parser resumed each time more came). Invariants: both
 * readings agree on every message, on the error if any, and (without
 * one) on every body byte; nothing is consumed
 * beyond the input; a Content-Length body that ends has exactly that many
 * bytes; a request is never framed by the connection's close; a chunked
 * request is HTTP/1.1 without Content-Length. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

#define NH 32
#define MAX_RESP 16

typedef struct outcome {
    int status[MAX_RESP];
    uint64_t body[MAX_RESP];
    unsigned n;
    int err;            /* last parse error, 0 if none */
    size_t consumed;    /* bytes accounted for */
    uint32_t digest;    /* of the body bytes */
} outcome;

static void digest(outcome *o, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        o->digest = o->digest * 31u + (unsigned char)p[i];
}

/* Reads the stream; avail grows by step (0: all at once). */
static void read_stream(const http_limits *lim, const uint8_t *d, size_t n, size_t step,
                        outcome *o)
{
    memset(o, 0, sizeof *o);
    /* an exact-size copy so ASan catches any read past what has arrived */
    size_t avail = step ? (step < n ? step : n) : n;
    size_t pos = 0;
    http_head_parser p;
    http_head_parser_init(&p, lim);
    for (;;) {
        char *buf = malloc(avail - pos + 1);
        memcpy(buf, d + pos, avail - pos);
        http_header hs[NH];
        http_request req = { .headers = hs, .headers_cap = NH };
        ssize_t rc = http_parse_request(&p, buf, avail - pos, &req);
        if (rc == 0) {
            free(buf);
            if (avail == n)
                break;
            avail = avail + step < n ? avail + step : n;
            continue;
        }
        if (rc < 0) {
            free(buf);
            o->err = (int)rc;
            assert(-rc > 0 && -rc < HTTP_E_COUNT_);
            break;
        }
        assert((size_t)rc <= avail - pos && req.head_len == (size_t)rc);
        assert(req.minor == 0 || req.minor == 1);
        assert(req.f.body != HTTP_BODY_CLOSE);
        if (req.f.body == HTTP_BODY_CHUNKED)
            assert(req.minor == 1 && !http_header_find(req.headers, req.nheaders,
                                                       "content-length"));
        free(buf);
        pos += (size_t)rc;
        if (o->n == MAX_RESP)
            break;
        unsigned k = o->n++;
        o->status[k] = (int)req.meth;
        http_body b;
        http_body_init(&b, req.f.body, req.f.content_length, lim);
        while (!http_body_done(&b)) {
            if (pos == avail) {
                if (avail == n)
                    break;
                avail = avail + step < n ? avail + step : n;
            }
            char *piece = malloc(avail - pos);
            memcpy(piece, d + pos, avail - pos);
            http_str got;
            ssize_t used = http_body_feed(&b, piece, avail - pos, &got);
            if (used < 0) {
                free(piece);
                o->err = (int)used;
                goto out;
            }
            assert((size_t)used <= avail - pos);
            if (got.len) {
                assert(got.p >= piece && got.p + got.len <= piece + used);
                digest(o, got.p, got.len);
            }
            free(piece);
            pos += (size_t)used;
            if (used == 0) { /* the decoder wants more than there is */
                if (avail == n)
                    break;
                avail = avail + step < n ? avail + step : n;
            }
        }
        o->body[k] = b.total;
        if (req.f.body == HTTP_BODY_NONE)
            assert(b.total == 0);
        if (req.f.body == HTTP_BODY_LENGTH && http_body_done(&b))
            assert(b.total == req.f.content_length);
        if (!http_body_done(&b) || !req.f.keep_alive || req.upgrade)
            break; /* the connection ends here, or switches protocols */
    }
out:
    o->consumed = pos;
    assert(pos <= n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t ctl = data[0];
    size_t step = (size_t)data[1] % 64 + 1;
    data += 2;
    size -= 2;
    http_limits small = { .line_max = 64, .head_max = 256, .headers_max = 8, .body_max = 300,
                          .chunk_line_max = 24 };
    const http_limits *lim = (ctl & 1) ? &small : NULL;
    outcome a, b;
    read_stream(lim, data, size, 0, &a);
    read_stream(lim, data, size, step, &b);
    assert(a.n == b.n && a.err == b.err);
    for (unsigned i = 0; i < a.n; i++)
        assert(a.status[i] == b.status[i]);
    /* After an error, how far each reading got before it may differ. */
    if (a.err == 0) {
        assert(a.consumed == b.consumed && a.digest == b.digest);
        for (unsigned i = 0; i < a.n; i++)
            assert(a.body[i] == b.body[i]);
    }
    return 0;
}
