/*
 * buf.h — a growable byte buffer with a hard maximum: append at the back,
 * consume from the front, reserve room to read into directly.
 *
 * Ownership: a buf_t is a value the owner embeds; buf_free() releases its
 * memory (the buf can be used again afterwards). Pointers into the data stay
 * valid only until the next call that may grow or compact the buffer
 * (buf_reserve, buf_append*, buf_compact).
 *
 * Layout: data[off .. off+len) holds the bytes; data[off+len .. cap) is free
 * room. Consuming from the front only moves off; the bytes are moved down
 * when room is needed at the back, so a consumer never pays a memmove per
 * read. Growth doubles; nothing ever grows beyond max (appends that would
 * return -ENOBUFS and change nothing).
 */
#ifndef LIFTOFF_BUF_H
#define LIFTOFF_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>

#define BUF_MIN_ALLOC 256 /* first allocation, bytes */

typedef struct buf {
    char *data;
    size_t off;   /* start of the unconsumed bytes */
    size_t len;   /* number of unconsumed bytes */
    size_t cap;   /* allocated size */
    size_t max;   /* hard limit for len (and for cap) */
} buf_t;

/* An empty buffer that never holds more than max bytes (max > 0). */
void buf_init(buf_t *b, size_t max);
/* Frees the memory; b stays initialised and empty. */
void buf_free(buf_t *b);

/* The unconsumed bytes and their count. */
static inline char *buf_data(const buf_t *b) { return b->data + b->off; }
static inline size_t buf_len(const buf_t *b) { return b->len; }
static inline bool buf_empty(const buf_t *b) { return b->len == 0; }

/* The free room at the back (after buf_reserve) and its size. */
static inline char *buf_tail(const buf_t *b) { return b->data + b->off + b->len; }
static inline size_t buf_tail_room(const buf_t *b) { return b->cap - b->off - b->len; }
int buf_reserve_slow(buf_t *b, size_t n);   /* buf_reserve() past its fast path */
/* Makes room for at least n more bytes at the back: 0 or -ENOBUFS (len + n
 * would exceed max). */
static inline int buf_reserve(buf_t *b, size_t n)
{
    if (n <= b->max && b->len <= b->max - n && buf_tail_room(b) >= n)
        return 0; /* room already there: the common case, inline */
    return buf_reserve_slow(b, n);
}
/* Marks n bytes written into buf_tail() as part of the data (n <= room). */
void buf_commit(buf_t *b, size_t n);

/* Appends n bytes: 0 or -ENOBUFS (nothing appended). */
int buf_append(buf_t *b, const void *p, size_t n);
/* Appends a NUL-terminated string (without the NUL). */
int buf_append_str(buf_t *b, const char *s);
/* Appends printf output (no NUL kept): 0, -ENOBUFS, or -EINVAL (bad format). */
int buf_appendf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vappendf(buf_t *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Drops n bytes from the front (n <= len; more empties the buffer). */
void buf_consume(buf_t *b, size_t n);
/* Drops everything, keeping the memory. */
void buf_reset(buf_t *b);
/* Moves the bytes to the start of the allocation. */
void buf_compact(buf_t *b);
/* Frees the memory if the buffer is empty and holds more than keep bytes. */
void buf_shrink_idle(buf_t *b, size_t keep);

#endif
