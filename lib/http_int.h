/*
 * http_int.h — internals shared by the http_*.c files: the character class
 * table and small inline scanners. Not for other modules.
 */
#ifndef LIFTOFF_HTTP_INT_H
#define LIFTOFF_HTTP_INT_H

#include <stdint.h>
#include <string.h>

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

/* Case-insensitive equality of p[0..n) with the lower-case literal lit of
 * the same length n, for bytes already validated as a field name or value
 * (no control character but HTAB), a word at a time: lit holds only
 * lower-case letters, digits and '-'. Setting bit 0x20 of such a byte makes
 * it equal to a byte of lit only if the two are equal ignoring case (the
 * other bytes that would map onto '-' or a digit are CR and controls). */
static inline bool http_ieq_token(const char *p, const char *lit, size_t n)
{
    const uint64_t lo8 = 0x2020202020202020ull;
    const uint32_t lo4 = 0x20202020u;
    uint64_t a, b;
    uint32_t c, d;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&a, p + i, 8);
        memcpy(&b, lit + i, 8);
        if ((a | lo8) != b)
            return false;
    }
    if (i == n)
        return true;
    if (n >= 8) { /* the last word, overlapping */
        memcpy(&a, p + n - 8, 8);
        memcpy(&b, lit + n - 8, 8);
        return (a | lo8) == b;
    }
    if (n >= 4) { /* two words of 4, overlapping */
        memcpy(&c, p, 4);
        memcpy(&d, lit, 4);
        if ((c | lo4) != d)
            return false;
        memcpy(&c, p + n - 4, 4);
        memcpy(&d, lit + n - 4, 4);
        return (c | lo4) == d;
    }
    for (; i < n; i++)
        if (((unsigned char)p[i] | 0x20) != (unsigned char)lit[i])
            return false;
    return true;
}

/* Word-at-a-time byte tests (exact for "is there any such byte"). */
#define HTTP_ONES 0x0101010101010101ull
#define HTTP_HIGHS 0x8080808080808080ull
static inline uint64_t http_word(const char *p)
{
    uint64_t x;
    memcpy(&x, p, sizeof x);
    return x;
}
/* Non-zero if some byte of x is below b (b <= 128). */
static inline uint64_t http_word_has_below(uint64_t x, unsigned b)
{
    return (x - b * HTTP_ONES) & ~x & HTTP_HIGHS;
}
/* Non-zero if some byte of x equals c. */
static inline uint64_t http_word_has(uint64_t x, unsigned char c)
{
    uint64_t y = x ^ (c * HTTP_ONES);
    return (y - HTTP_ONES) & ~y & HTTP_HIGHS;
}

/* memcpy for the short strings of a head: up to 16 bytes as two
 * overlapping loads and stores instead of a call (runs per field). */
static inline void http_copy_short(char *d, const char *s, size_t n)
{
    uint64_t a, b;
    uint32_t c, e;
    if (n >= 8 && n <= 16) {
        memcpy(&a, s, 8);
        memcpy(&b, s + (n - 8), 8);
        memcpy(d, &a, 8);
        memcpy(d + (n - 8), &b, 8);
    } else if (n >= 4 && n < 8) {
        memcpy(&c, s, 4);
        memcpy(&e, s + (n - 4), 4);
        memcpy(d, &c, 4);
        memcpy(d + (n - 4), &e, 4);
    } else {
        memcpy(d, s, n);
    }
}

/* A field name (never empty) or value a caller hands in: no CR, LF or NUL
 * (which would break the message's lines); a name no colon or whitespace
 * either. Runs per field of every message sent: words first. */
static inline bool http_field_byte_ok(unsigned char c, bool name)
{
    if (c > ':')
        return true;
    if (name)
        return c > ' ' && c != ':';
    return c > '\r' || (c != '\r' && c != '\n' && c != 0);
}

static inline bool http_field_word_ok(uint64_t x, bool name)
{
    /* CR, LF, NUL, and for names HTAB and SP, are all below '!' */
    if (name)
        return !http_word_has_below(x, 0x21) && !http_word_has(x, ':');
    return !http_word_has_below(x, '\r' + 1);
}

static inline bool http_field_ok(http_str t, bool name)
{
    size_t n = t.len, i = 0;
    if (n == 0)
        return !name;
    if (n >= 8) {
        /* whole words, the last one overlapping; a suspect word (a HTAB in
         * a value, say) leaves the decision to the bytes */
        while (i + 8 <= n && http_field_word_ok(http_word(t.p + i), name))
            i += 8;
        if (i + 8 > n && http_field_word_ok(http_word(t.p + n - 8), name))
            return true;
        i = 0;
    }
    for (; i < n; i++)
        if (!http_field_byte_ok((unsigned char)t.p[i], name))
            return false;
    return true;
}

/* True if none of the n bytes at p is a control character, SP or DEL (a
 * method, target or host). */
static inline bool http_text_ok(const char *p, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x = http_word(p + i);
        if (http_word_has_below(x, 0x21) || http_word_has(x, 0x7f))
            return false;
    }
    for (; i < n; i++)
        if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] == 0x7f)
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
