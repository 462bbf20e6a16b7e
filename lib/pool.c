/* pool.c — the arena behind pool.h: a list of blocks filled front to back,
 * big requests in blocks of their own. */
#include "pool.h"
#include "common.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pool_block {
    pool_block *next;
    size_t size;            /* usable bytes after the header */
    bool large;             /* holds one big allocation */
    max_align_t data[];     /* aligned start of the usable bytes */
};

struct pool_cleanup {
    pool_cleanup *next;
    void (*fn)(void *arg);
    void *arg;
};

#define ROUND_UP(n) (((n) + POOL_ALIGN - 1) & ~(size_t)(POOL_ALIGN - 1))

void pool_init(pool *p, size_t block_size)
{
    memset(p, 0, sizeof *p);
    p->block_size = block_size ? block_size : POOL_BLOCK_DEFAULT;
    if (p->block_size < sizeof(pool_block) + 4 * POOL_ALIGN)
        p->block_size = sizeof(pool_block) + 4 * POOL_ALIGN;
}

static pool_block *block_new(size_t usable, bool large)
{
    pool_block *b = xmalloc(sizeof *b + usable);
    b->next = NULL;
    b->size = usable;
    b->large = large;
    return b;
}

void *pool_alloc(pool *p, size_t n)
{
    size_t need = ROUND_UP(n ? n : 1);
    if (need < n)
        abort(); /* overflow */
    p->bytes += need;
    size_t usable = p->block_size - sizeof(pool_block);
    if (need > usable / 4) {
        pool_block *b = block_new(need, true);
        /* Behind the current block, so that one keeps being filled. */
        if (p->blocks) {
            b->next = p->blocks->next;
            p->blocks->next = b;
        } else {
            b->next = NULL;
            p->blocks = b;
            p->used = need; /* a large block is full at once */
        }
        return b->data;
    }
    if (!p->blocks || p->blocks->large || p->used + need > p->blocks->size) {
        pool_block *b = block_new(usable, false);
        b->next = p->blocks;
        p->blocks = b;
        p->used = 0;
    }
    void *r = (char *)p->blocks->data + p->used;
    p->used += need;
    return r;
}

void *pool_zalloc(pool *p, size_t n)
{
    void *r = pool_alloc(p, n);
    memset(r, 0, n);
    return r;
}

void *pool_memdup(pool *p, const void *s, size_t n)
{
    void *r = pool_alloc(p, n);
    if (n)
        memcpy(r, s, n);
    return r;
}

char *pool_strndup(pool *p, const char *s, size_t n)
{
    char *r = pool_alloc(p, n + 1);
    if (n)
        memcpy(r, s, n);
    r[n] = '\0';
    return r;
}

char *pool_printf(pool *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return pool_strndup(p, "", 0);
    char *r = pool_alloc(p, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(r, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return r;
}

void pool_on_clear(pool *p, void (*fn)(void *arg), void *arg)
{
    pool_cleanup *c = pool_alloc(p, sizeof *c);
    c->fn = fn;
    c->arg = arg;
    c->next = p->cleanups;
    p->cleanups = c;
}

static void run_cleanups(pool *p)
{
    /* A cleanup may allocate or register more: loop until none are left. */
    while (p->cleanups) {
        pool_cleanup *c = p->cleanups;
        p->cleanups = c->next;
        c->fn(c->arg);
    }
}

void pool_clear(pool *p)
{
    run_cleanups(p);
    pool_block *keep = NULL;
    pool_block *b = p->blocks;
    while (b) {
        pool_block *next = b->next;
        if (!keep && !b->large) {
            keep = b;
            keep->next = NULL;
        } else {
            free(b);
        }
        b = next;
    }
    p->blocks = keep;
    p->used = 0;
    p->bytes = 0;
}

void pool_destroy(pool *p)
{
    pool_clear(p);
    free(p->blocks);
    p->blocks = NULL;
}
