/* fuzz_stream.h — what the HTTP stream fuzz targets (fuzz_http_request.c,
 * fuzz_http_response.c) share: a stream that arrives in pieces of `step`
 * bytes, the body loop that decodes and digests a body as it arrives, the
 * record of one reading, and the driver that reads each input twice (in one
 * piece and in pieces) and asserts that both readings agree. Static functions
 * only: hack/fuzz.sh builds every fuzz/fuzz_*.c as a target of its own, so
 * each target includes this header. Every copy handed to the parser is
 * malloc'd at the exact size and freed by the function that made it (or, for
 * fz_copy_arrived, by its caller), so ASan catches any read past what has
 * arrived. */
#ifndef LIFTOFF_FUZZ_STREAM_H
#define LIFTOFF_FUZZ_STREAM_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

#define FZ_MAX_HEADERS 32 /* header slots per parsed head */
#define FZ_MAX_MSGS 16    /* messages recorded per reading; the rest is not read */

/* What one reading of a stream saw. */
typedef struct fz_outcome {
    int status[FZ_MAX_MSGS]; /* request method or response status */
    uint64_t body[FZ_MAX_MSGS];
    unsigned n;
    int err;            /* last parse error, 0 if none */
    size_t consumed;    /* bytes accounted for */
    uint32_t digest;    /* of the body bytes */
} fz_outcome;

/* The input d[0..n) of which d[0..avail) has arrived and d[0..pos) is used. */
typedef struct fz_stream {
    const uint8_t *d;
    size_t n, step, avail, pos;
} fz_stream;

/* Reads a stream with fz_stream_start .. fz_stream_end; ctl holds the flags. */
typedef void (*fz_read_fn)(uint8_t ctl, const uint8_t *d, size_t n, size_t step, fz_outcome *o);

/* A stream over d[0..n) arriving step bytes at a time (0: all at once). */
static fz_stream fz_stream_start(const uint8_t *d, size_t n, size_t step, fz_outcome *o)
{
    memset(o, 0, sizeof *o);
    return (fz_stream){ .d = d, .n = n, .step = step,
                        .avail = step ? (step < n ? step : n) : n };
}

/* Records how far the reading got. */
static void fz_stream_end(const fz_stream *s, fz_outcome *o)
{
    o->consumed = s->pos;
    assert(s->pos <= s->n);
}

/* Lets the next piece arrive; false if all of the input already has. */
static bool fz_more(fz_stream *s)
{
    if (s->avail == s->n)
        return false;
    s->avail = s->avail + s->step < s->n ? s->avail + s->step : s->n;
    return true;
}

/* An exact-size copy (plus spare bytes) of what has arrived beyond pos; the
 * caller frees it. */
static char *fz_copy_arrived(const fz_stream *s, size_t spare)
{
    char *p = malloc(s->avail - s->pos + spare);
    memcpy(p, s->d + s->pos, s->avail - s->pos);
    return p;
}

/* After a head parser returned rc <= 0: true if more arrived to parse again
 * (rc == 0); false when the input ended first or rc is an error (recorded). */
static bool fz_head_wait(fz_stream *s, ssize_t rc, fz_outcome *o)
{
    if (rc == 0)
        return fz_more(s);
    o->err = (int)rc;
    assert(-rc > 0 && -rc < HTTP_E_COUNT_);
    return false;
}

static void fz_digest(fz_outcome *o, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        o->digest = o->digest * 31u + (unsigned char)p[i];
}

/* Decodes message k's body, framed by f, from pos on, more arriving whenever
 * the decoder has used all it was given or wants more; digests the body
 * bytes, records their count in o->body[k] and checks it against f. Returns
 * 1 when the body is done, 0 when the input ended first, or the decoder's
 * negative error (recorded in o->err). */
static int fz_read_body(fz_stream *s, const http_framing *f, const http_limits *lim, unsigned k,
                        fz_outcome *o)
{
    http_body b;
    http_body_init(&b, f->body, f->content_length, lim);
    while (!http_body_done(&b)) {
        if (s->pos == s->avail && !fz_more(s))
            break;
        size_t have = s->avail - s->pos;
        char *piece = fz_copy_arrived(s, 0);
        http_str got;
        ssize_t used = http_body_feed(&b, piece, have, &got);
        if (used < 0) {
            free(piece);
            o->err = (int)used;
            return o->err;
        }
        assert((size_t)used <= have);
        if (got.len) {
            assert(got.p >= piece && got.p + got.len <= piece + used);
            fz_digest(o, got.p, got.len);
        }
        free(piece);
        s->pos += (size_t)used;
        if (used == 0 && !fz_more(s)) /* the decoder wants more than there is */
            break;
    }
    o->body[k] = b.total;
    if (f->body == HTTP_BODY_NONE)
        assert(b.total == 0);
    if (f->body == HTTP_BODY_LENGTH && http_body_done(&b))
        assert(b.total == f->content_length);
    return http_body_done(&b);
}

/* The limits a reading uses: the defaults, or (bit 0 of ctl) small ones the
 * fuzzer can reach. */
static const http_limits *fz_limits(uint8_t ctl)
{
    static const http_limits small = { .line_max = 64, .head_max = 256, .headers_max = 8,
                                       .body_max = 300, .chunk_line_max = 24 };
    return (ctl & 1) ? &small : NULL;
}

/* One fuzz input: data[0] is ctl, data[1] the piece size, the rest the
 * stream; read in one piece and in pieces, both readings must agree. */
static int fz_run(const uint8_t *data, size_t size, fz_read_fn read_stream)
{
    if (size < 2)
        return 0;
    uint8_t ctl = data[0];
    size_t step = (size_t)data[1] % 64 + 1;
    data += 2;
    size -= 2;
    fz_outcome a, b;
    read_stream(ctl, data, size, 0, &a);
    read_stream(ctl, data, size, step, &b);
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

#endif
