/* http_body.c — message bodies: Content-Length counting, close-delimited
 * reading, and the chunked decoder (a byte state machine for the framing,
 * whole slices for the data). */
#include "http_int.h"

#include <string.h>

enum {
    CH_SIZE_FIRST,   /* first hex digit of a chunk size */
    CH_SIZE,         /* more hex digits, ';', BWS or CR */
    CH_SIZE_WS,      /* BWS after the size: only ';' may follow */
    CH_EXT,          /* chunk extension up to CR */
    CH_SIZE_LF,      /* LF ending the chunk-size line */
    CH_DATA,         /* chunk data */
    CH_DATA_CR,      /* CR after the data */
    CH_DATA_LF,      /* LF after the data */
    CH_TRAILER,      /* start of a trailer line (or the final CRLF) */
    CH_TRAILER_NAME, /* trailer field name up to ':' */
    CH_TRAILER_VALUE,/* trailer field value up to CR */
    CH_TRAILER_LF,   /* LF ending a trailer line */
    CH_END_LF,       /* LF of the final empty line */
};

void http_body_init(http_body *b, http_body_kind kind, uint64_t content_length,
                    const http_limits *lim)
{
    http_limits l = lim ? *lim : (http_limits){ 0 };
    http_limits_fill(&l);
    memset(b, 0, sizeof *b);
    b->kind = kind;
    b->max = l.body_max;
    b->line_max = l.chunk_line_max;
    b->trailer_max = l.head_max;
    b->state = CH_SIZE_FIRST;
    if (kind == HTTP_BODY_LENGTH)
        b->remaining = content_length;
    b->done = kind == HTTP_BODY_NONE || (kind == HTTP_BODY_LENGTH && content_length == 0);
}

static inline int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (unsigned char)(c | 0x20);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* The error for an unexpected byte c where CRLF framing was due. */
static inline int line_error(unsigned char c, int otherwise)
{
    return c == '\n' ? -HTTP_E_BARE_LF : otherwise;
}

static ssize_t feed_chunked(http_body *b, const char *in, size_t len, http_str *data)
{
    size_t i = 0;
    while (i < len && !b->done) {
        unsigned char c = (unsigned char)in[i];
        switch (b->state) {
        case CH_SIZE_FIRST: {
            int v = hex_value(c);
            if (v < 0)
                return line_error(c, -HTTP_E_CHUNK_SIZE);
            b->remaining = (uint64_t)v;
            b->digits = v ? 1 : 0;
            b->line_len = 1;
            b->state = CH_SIZE;
            i++;
            continue;
        }
        case CH_DATA: {
            size_t n = len - i;
            if (n > b->remaining)
                n = (size_t)b->remaining;
            data->p = in + i;
            data->len = n;
            b->remaining -= n;
            b->total += n;
            if (b->remaining == 0)
                b->state = CH_DATA_CR;
            return (ssize_t)(i + n);
        }
        default:
            break;
        }
        /* Framing bytes of a chunk-size line count against its limit. */
        if (b->state <= CH_SIZE_LF && ++b->line_len > b->line_max)
            return -HTTP_E_CHUNK_LINE_TOO_LONG;
        if (b->state >= CH_TRAILER && ++b->trailer_len > b->trailer_max)
            return -HTTP_E_TRAILER_TOO_LARGE;
        switch (b->state) {
        case CH_SIZE: {
            int v = hex_value(c);
            if (v >= 0) {
                if (b->digits == 0 && v == 0)
                    break; /* leading zero */
                if (++b->digits > 15)
                    return -HTTP_E_CHUNK_SIZE; /* 2^60 bytes is plenty */
                b->remaining = (b->remaining << 4) | (uint64_t)v;
            } else if (c == ';') {
                b->state = CH_EXT;
            } else if (c == ' ' || c == '\t') {
                b->state = CH_SIZE_WS;
            } else if (c == '\r') {
                b->state = CH_SIZE_LF;
            } else {
                return line_error(c, -HTTP_E_CHUNK_SIZE);
            }
            break;
        }
        case CH_SIZE_WS:
            if (c == ';')
                b->state = CH_EXT;
            else if (c != ' ' && c != '\t')
                return line_error(c, -HTTP_E_CHUNK_SIZE);
            break;
        case CH_EXT:
            /* Extensions are ignored, but only visible bytes, SP and HTAB may
             * appear: no CTL, and above all no bare CR or LF. */
            if (c == '\r')
                b->state = CH_SIZE_LF;
            else if (!http_is(c, HTTP_C_VALUE))
                return line_error(c, -HTTP_E_CHUNK_EXT);
            break;
        case CH_SIZE_LF:
            if (c != '\n')
                return -HTTP_E_BARE_CR;
            if (b->remaining == 0) {
                b->state = CH_TRAILER;
            } else {
                if (b->remaining > b->max - b->total)
                    return -HTTP_E_BODY_TOO_LARGE;
                b->state = CH_DATA;
            }
            break;
        case CH_DATA_CR:
            if (c != '\r')
                return line_error(c, -HTTP_E_CHUNK_CRLF);
            b->state = CH_DATA_LF;
            break;
        case CH_DATA_LF:
            if (c != '\n')
                return -HTTP_E_CHUNK_CRLF;
            b->state = CH_SIZE_FIRST;
            break;
        case CH_TRAILER:
            if (c == '\r')
                b->state = CH_END_LF;
            else if (http_is(c, HTTP_C_TCHAR))
                b->state = CH_TRAILER_NAME;
            else
                return line_error(c, -HTTP_E_TRAILER);
            break;
        case CH_TRAILER_NAME:
            if (c == ':')
                b->state = CH_TRAILER_VALUE;
            else if (!http_is(c, HTTP_C_TCHAR))
                return line_error(c, -HTTP_E_TRAILER);
            break;
        case CH_TRAILER_VALUE:
            if (c == '\r')
                b->state = CH_TRAILER_LF;
            else if (!http_is(c, HTTP_C_VALUE))
                return line_error(c, -HTTP_E_TRAILER);
            break;
        case CH_TRAILER_LF:
            if (c != '\n')
                return -HTTP_E_BARE_CR;
            b->state = CH_TRAILER;
            break;
        case CH_END_LF:
            if (c != '\n')
                return -HTTP_E_BARE_CR;
            b->done = true;
            break;
        }
        i++;
    }
    return (ssize_t)i;
}

ssize_t http_body_feed(http_body *b, const char *in, size_t len, http_str *data)
{
    data->p = in;
    data->len = 0;
    if (b->done)
        return 0;
    switch (b->kind) {
    case HTTP_BODY_LENGTH: {
        size_t n = len;
        if (n > b->remaining)
            n = (size_t)b->remaining;
        data->len = n;
        b->remaining -= n;
        b->total += n;
        b->done = b->remaining == 0;
        return (ssize_t)n;
    }
    case HTTP_BODY_CLOSE:
        if (len > b->max - b->total)
            return -HTTP_E_BODY_TOO_LARGE;
        data->len = len;
        b->total += len;
        return (ssize_t)len;
    case HTTP_BODY_CHUNKED:
        return feed_chunked(b, in, len, data);
    case HTTP_BODY_NONE:
    default:
        b->done = true;
        return 0;
    }
}
