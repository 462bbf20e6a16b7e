/* fuzz_http_response.c — libFuzzer target for the response side as a
 * client reads it (the order http_client.c follows): response heads, 1xx
 * interim responses skipped, 101 ending HTTP on the connection, each body
 * decoded with the framing its head gives (Content-Length, chunked, until
 * close, none for HEAD / 204 / 304), keep-alive responses one after the
 * other. The stream is read twice: in one piece, and as it would arrive
 * in pieces of a size taken from the data (bytes appended to a buffer, the
 * head parser resumed each time more came). Invariants: both
 * readings agree on every message, on the error if any, and (without
 * one) on every body byte; nothing is consumed
 * beyond the input; a Content-Length body that ends has exactly that many
 * bytes; a bodiless response has none. */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_stream.h"
#include "http_parse.h"

#define MAX_INTERIM 8

/* Reads the stream as a client does; ctl bit 0: small limits, bit 1: the
 * responses answer HEAD. */
static void read_stream(uint8_t ctl, const uint8_t *d, size_t n, size_t step, fz_outcome *o)
{
    const http_limits *lim = fz_limits(ctl);
    bool head = (ctl & 2) != 0;
    fz_stream s = fz_stream_start(d, n, step, o);
    unsigned interim = 0;
    http_head_parser p;
    http_head_parser_init(&p, lim);
    for (;;) {
        char *buf = fz_copy_arrived(&s, 1);
        http_header hs[FZ_MAX_HEADERS];
        http_response res = { .headers = hs, .headers_cap = FZ_MAX_HEADERS };
        ssize_t rc = http_parse_response(&p, buf, s.avail - s.pos, head, &res);
        if (rc <= 0) {
            free(buf);
            if (fz_head_wait(&s, rc, o))
                continue;
            break;
        }
        assert((size_t)rc <= s.avail - s.pos && res.head_len == (size_t)rc);
        assert(res.status >= 100 && res.status <= 999);
        free(buf);
        s.pos += (size_t)rc;
        if (res.status < 200 && res.status != 101) {
            assert(res.f.body == HTTP_BODY_NONE);
            if (++interim > MAX_INTERIM)
                break;
            continue;
        }
        interim = 0;
        if (o->n == FZ_MAX_MSGS)
            break;
        unsigned k = o->n++;
        o->status[k] = res.status;
        if (head || res.status == 204 || res.status == 304 || res.status == 101)
            assert(res.f.body == HTTP_BODY_NONE);
        if (res.status == 101) {
            assert(!res.f.keep_alive);
            break; /* the rest belongs to the new protocol */
        }
        if (fz_read_body(&s, &res.f, lim, k, o) <= 0 || !res.f.keep_alive)
            break; /* the body did not end (until close), or the connection ends here */
    }
    fz_stream_end(&s, o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_run(data, size, read_stream);
}
