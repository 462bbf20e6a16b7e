/* buf.c — growable byte buffer with a hard maximum (see buf.h). */
#include "buf.h"
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(buf_t *b, size_t max)
{
    *b = (buf_t){ .max = max ? max : 1 };
}

void buf_free(buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->off = b->len = b->cap = 0;
}

void buf_compact(buf_t *b)
{
    if (b->off == 0)
        return;
    if (b->len)
        memmove(b->data, b->data + b->off, b->len);
    b->off = 0;
}

int buf_reserve_slow(buf_t *b, size_t n)
{
    if (n > b->max || b->len > b->max - n)
        return -ENOBUFS;
    if (buf_tail_room(b) >= n)
        return 0;
    size_t need = b->len + n;
    if (b->cap >= need) {
        /* Enough memory in total: move the data down instead of growing. */
        buf_compact(b);
        return 0;
    }
    size_t cap = b->cap ? b->cap : BUF_MIN_ALLOC;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
    if (cap > b->max)
        cap = b->max;
    buf_compact(b);
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
    return 0;
}

void buf_commit(buf_t *b, size_t n)
{
    size_t room = buf_tail_room(b);
    b->len += n < room ? n : room;
}

int buf_append(buf_t *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    int rc = buf_reserve(b, n);
    if (rc < 0)
        return rc;
    memcpy(buf_tail(b), p, n);
    b->len += n;
    return 0;
}

int buf_append_str(buf_t *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_vappendf(buf_t *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    /* Try in the room there is; one retry after reserving exactly enough. */
    size_t room = b->data ? buf_tail_room(b) : 0;
    int n = vsnprintf(room ? buf_tail(b) : NULL, room, fmt, ap);
    int rc = 0;
    if (n < 0) {
        rc = -EINVAL;
        goto out;
    }
    if ((size_t)n >= room) {
        rc = buf_reserve(b, (size_t)n + 1);
        if (rc < 0)
            rc = buf_reserve(b, (size_t)n);
        if (rc < 0)
            goto out;
        if (buf_tail_room(b) > (size_t)n) {
            vsnprintf(buf_tail(b), (size_t)n + 1, fmt, ap2);
        } else {
            /* Exactly at max: no room for vsnprintf's NUL. */
            char *tmp = xmalloc((size_t)n + 1);
            vsnprintf(tmp, (size_t)n + 1, fmt, ap2);
            memcpy(buf_tail(b), tmp, (size_t)n);
            free(tmp);
        }
    }
    b->len += (size_t)n;
out:
    va_end(ap2);
    return rc;
}

int buf_appendf(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = buf_vappendf(b, fmt, ap);
    va_end(ap);
    return rc;
}

void buf_consume(buf_t *b, size_t n)
{
    if (n >= b->len) {
        b->off = b->len = 0;
        return;
    }
    b->off += n;
    b->len -= n;
}

void buf_reset(buf_t *b)
{
    b->off = b->len = 0;
}

void buf_shrink_idle(buf_t *b, size_t keep)
{
    if (b->len == 0 && b->cap > keep)
        buf_free(b);
}
