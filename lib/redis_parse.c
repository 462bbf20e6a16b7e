/* redis_parse.c — RESP2 reply parsing without copies (see redis_int.h).
 *
 * Two passes over a reply: a resumable scan finds where it ends (keeping its
 * place between reads, so a large reply arriving in many reads is scanned
 * once), then a build pass makes redisReply objects in the arena whose
 * strings point into the input buffer itself: the '\r' after each string is
 * overwritten with a NUL, so they are NUL-terminated like hiredis' own. */
#include "redis_int.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

/* Reads "<signed decimal>\r\n" at p[i..len): the index after it, 0 while
 * incomplete, or -EPROTO (no digit, a stray byte, more than 19 digits, out
 * of [min, max]). */
static ssize_t read_num(const char *p, size_t i, size_t len, long long min, long long max,
                        long long *out)
{
    bool neg = i < len && p[i] == '-';
    unsigned long long v = 0;
    size_t nd = 0;
    i += neg;
    for (; i < len; i++, nd++) {
        unsigned d = (unsigned)(p[i] - '0');
        if (d > 9)
            break;
        if (nd == 19)
            return -EPROTO;
        v = v * 10 + d;
    }
    if (i >= len)
        return 0;
    if (nd == 0 || p[i] != '\r')
        return -EPROTO;
    if (i + 1 >= len)
        return 0;
    if (p[i + 1] != '\n')
        return -EPROTO;
    if (neg ? v > (unsigned long long)LLONG_MAX + 1 : v > (unsigned long long)LLONG_MAX)
        return -EPROTO;
    long long x = neg ? (long long)(0 - v) : (long long)v;
    if (x < min || x > max)
        return -EPROTO;
    *out = x;
    return (ssize_t)(i + 2);
}

void rds_scan_reset(rds_scan *st)
{
    st->pos = 0;
    st->depth = 0;
}

ssize_t rds_scan_reply(const char *p, size_t len, rds_scan *st)
{
    for (;;) {
        size_t pos = st->pos;
        if (pos >= len)
            return 0;
        ssize_t next = 0;
        long long n = 0;
        switch (p[pos]) {
        case '+':
        case '-': {
            const char *nl = memchr(p + pos, '\n', len - pos);
            if (!nl)
                return len - pos > RDS_REPLY_LINE_MAX ? -EPROTO : 0;
            size_t e = (size_t)(nl - p);
            if (p[e - 1] != '\r')
                return -EPROTO;
            next = (ssize_t)(e + 1);
            break;
        }
        case ':':
            next = read_num(p, pos + 1, len, LLONG_MIN, LLONG_MAX, &n);
            break;
        case '$':
            next = read_num(p, pos + 1, len, -1, RDS_REPLY_BULK_MAX, &n);
            if (next > 0 && n >= 0) {
                size_t body = (size_t)next;
                if (len - body < (size_t)n + 2)
                    return 0; /* the header is read again next time */
                if (p[body + (size_t)n] != '\r' || p[body + (size_t)n + 1] != '\n')
                    return -EPROTO;
                next += n + 2;
            }
            break;
        case '*':
            next = read_num(p, pos + 1, len, -1, RDS_REPLY_ELEMENTS_MAX, &n);
            if (next > 0 && n > 0) {
                if (st->depth == RDS_REPLY_DEPTH_MAX)
                    return -EPROTO;
                st->left[st->depth++] = n;
                st->pos = (size_t)next;
                continue; /* the elements follow */
            }
            break;
        default:
            return -EPROTO;
        }
        if (next <= 0)
            return next; /* incomplete or malformed */
        st->pos = (size_t)next;
        /* one element done: close the arrays it completes */
        while (st->depth > 0 && --st->left[st->depth - 1] == 0)
            st->depth--;
        if (st->depth == 0)
            return (ssize_t)st->pos;
    }
}

/* A decimal of a scanned header at p; *pos goes past its "\r\n". */
static long long build_num(const char *p, size_t *pos)
{
    size_t i = *pos;
    bool neg = p[i] == '-';
    unsigned long long v = 0;
    for (i += neg; p[i] != '\r'; i++)
        v = v * 10 + (unsigned)(p[i] - '0');
    *pos = i + 2;
    return neg ? (long long)(0 - v) : (long long)v;
}

/* Builds the object at *pos (already scanned: well-formed and complete). */
static redisReply *build(char *p, size_t len, size_t *pos, rds_arena *a)
{
    size_t at = *pos;
    redisReply *o = rds_arena_alloc(a, sizeof *o);
    *o = (redisReply){ .type = REDIS_REPLY_NIL };
    *pos = at + 1;
    switch (p[at]) {
    case '+':
    case '-': {
        char *nl = memchr(p + at, '\n', len - at);
        o->type = p[at] == '+' ? REDIS_REPLY_STATUS : REDIS_REPLY_ERROR;
        o->str = p + at + 1;
        o->len = (size_t)(nl - 1 - o->str);
        o->str[o->len] = '\0'; /* over the '\r' */
        *pos = (size_t)(nl - p) + 1;
        break;
    }
    case ':':
        o->type = REDIS_REPLY_INTEGER;
        o->integer = build_num(p, pos);
        break;
    case '$': {
        long long n = build_num(p, pos);
        if (n >= 0) {
            o->type = REDIS_REPLY_STRING;
            o->str = p + *pos;
            o->len = (size_t)n;
            o->str[n] = '\0'; /* over the '\r' */
            *pos += (size_t)n + 2;
        }
        break;
    }
    case '*': {
        long long n = build_num(p, pos);
        if (n >= 0) {
            o->type = REDIS_REPLY_ARRAY;
            o->elements = (size_t)n;
            if (n > 0) {
                o->element = rds_arena_alloc(a, (size_t)n * sizeof *o->element);
                for (long long i = 0; i < n; i++)
                    o->element[i] = build(p, len, pos, a);
            }
        }
        break;
    }
    }
    return o;
}

redisReply *rds_build_reply(char *p, size_t len, rds_arena *a)
{
    size_t pos = 0;
    return build(p, len, &pos, a);
}
