/*
 * http_int.h — internals shared by the http_*.c files: the character class
 * table and small inline scanners. Not for other modules.
 */
#ifndef LIFTOFF_HTTP_INT_H
#define LIFTOFF_HTTP_INT_H

#include <stdint.h>

#include "http_parse.h"

enum {
    HTTP_C_TCHAR = 1,   /* token character (RFC 9110 §5.6.2) */
    HTTP_C_VALUE = 2,   /* field-value byte: HTAB, SP, VCHAR, obs-text */
    HTTP_C_TARGET = 4,  /* request-target byte: VCHAR, obs-text */
    HTTP_C_HOST = 8,    /* uri-host / port byte (unreserved, sub-delims, ":[]%") */
    HTTP_C_HEX = 16,    /* hex digit */
    HTTP_C_WS = 32,     /* SP or HTAB */
};

extern const uint8_t http_ctype[256];

static inline bool http_is(unsigned char c, unsigned cls) { return (http_ctype[c] & cls) != 0; }

static inline unsigned char http_lower(unsigned char c)
{
    return (unsigned char)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
}

/* Case-insensitive equality of p[0..n) with the lower-case literal lit of
 * the same length n. */
static inline bool http_ieq_lower(const char *p, const char *lit, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (http_lower((unsigned char)p[i]) != (unsigned char)lit[i])
            return false;
    return true;
}

/* The next element of the comma-separated list v from *pos, with optional
 * whitespace trimmed and empty elements skipped: true with *item set (and
 * *pos moved past it), false at the end. */
static inline bool http_list_next(http_str v, size_t *pos, http_str *item)
{
    size_t i = *pos;
    while (i < v.len) {
        size_t b = i;
        while (i < v.len && v.p[i] != ',')
            i++;
        size_t e = i;
        if (i < v.len)
            i++;
        while (b < e && http_is((unsigned char)v.p[b], HTTP_C_WS))
            b++;
        while (e > b && http_is((unsigned char)v.p[e - 1], HTTP_C_WS))
            e--;
        if (e > b) {
            *pos = i;
            *item = (http_str){ v.p + b, e - b };
            return true;
        }
    }
    *pos = i;
    return false;
}

#endif
