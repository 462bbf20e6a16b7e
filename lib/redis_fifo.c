/* redis_fifo.c — ring buffer of pending Redis commands (see redis_fifo.h). */
#include "redis_fifo.h"
#include "common.h"

#include <stdlib.h>
#include <string.h>

void rds_fifo_init(rds_fifo *f)
{
    memset(f, 0, sizeof *f);
}

void rds_fifo_free(rds_fifo *f)
{
    free(f->v);
    memset(f, 0, sizeof *f);
}

static void grow(rds_fifo *f)
{
    size_t cap = f->cap ? f->cap * 2 : RDS_FIFO_MIN_CAP;
    rds_pending *v = xmalloc(cap * sizeof *v);
    for (size_t i = 0; i < f->len; i++)
        v[i] = f->v[(f->head + i) & (f->cap - 1)];
    free(f->v);
    f->v = v;
    f->cap = cap;
    f->head = 0;
}

void rds_fifo_push(rds_fifo *f, const rds_pending *e)
{
    if (f->len == f->cap)
        grow(f);
    f->v[(f->head + f->len) & (f->cap - 1)] = *e;
    f->len++;
}

bool rds_fifo_pop(rds_fifo *f, rds_pending *out)
{
    if (f->len == 0)
        return false;
    *out = f->v[f->head];
    f->head = (f->head + 1) & (f->cap - 1);
    f->len--;
    return true;
}

rds_pending *rds_fifo_at(const rds_fifo *f, size_t i)
{
    return &f->v[(f->head + i) & (f->cap - 1)];
}

size_t rds_fifo_remove_if(rds_fifo *f, size_t from, bool (*pick)(const rds_pending *, void *),
                          void *ctx, rds_fifo *out)
{
    size_t w = from, removed = 0;
    for (size_t r = from; r < f->len; r++) {
        rds_pending e = *rds_fifo_at(f, r);
        if (pick(&e, ctx)) {
            if (out)
                rds_fifo_push(out, &e);
            removed++;
        } else {
            *rds_fifo_at(f, w++) = e;
        }
    }
    f->len -= removed;
    return removed;
}
