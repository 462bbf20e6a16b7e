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

#include "fuzz_stream.h"
#include "http_parse.h"

/* Reads the stream as a server does; ctl bit 0: small limits. */
static void read_stream(uint8_t ctl, const uint8_t *d, size_t n, size_t step, fz_outcome *o)
{
    const http_limits *lim = fz_limits(ctl);
    fz_stream s = fz_stream_start(d, n, step, o);
    http_head_parser p;
    http_head_parser_init(&p, lim);
    for (;;) {
        char *buf = fz_copy_arrived(&s, 1);
        http_header hs[FZ_MAX_HEADERS];
        http_request req = { .headers = hs, .headers_cap = FZ_MAX_HEADERS };
        ssize_t rc = http_parse_request(&p, buf, s.avail - s.pos, &req);
        if (rc <= 0) {
            free(buf);
            if (fz_head_wait(&s, rc, o))
                continue;
            break;
        }
        assert((size_t)rc <= s.avail - s.pos && req.head_len == (size_t)rc);
        assert(req.minor == 0 || req.minor == 1);
        assert(req.f.body != HTTP_BODY_CLOSE);
        if (req.f.body == HTTP_BODY_CHUNKED)
            assert(req.minor == 1 && !http_header_find(req.headers, req.nheaders,
                                                       "content-length"));
        free(buf);
        s.pos += (size_t)rc;
        if (o->n == FZ_MAX_MSGS)
            break;
        unsigned k = o->n++;
        o->status[k] = (int)req.meth;
        if (fz_read_body(&s, &req.f, lim, k, o) <= 0 || !req.f.keep_alive || req.upgrade)
            break; /* the body did not end, the connection ends here, or switches protocols */
    }
    fz_stream_end(&s, o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_run(data, size, read_stream);
}
