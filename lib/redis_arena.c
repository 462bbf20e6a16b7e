/* redis_arena.c — the per-client arena that reply objects are allocated
 * from (see redis_int.h): a whole reply, however many nested objects it has,
 * is released at once by rds_arena_reset() after its callback. Blocks are
 * kept for the next replies up to RDS_ARENA_KEEP bytes. */
#include "redis_int.h"
#include "common.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

struct rds_arena_block {
    struct rds_arena_block *next;
    size_t cap, used;
    max_align_t data[]; /* cap bytes */
};

#define ARENA_ALIGN alignof(max_align_t)

static rds_arena_block *block_new(size_t cap)
{
    rds_arena_block *b = xmalloc(sizeof *b + cap);
    b->next = NULL;
    b->cap = cap;
    b->used = 0;
    return b;
}

void *rds_arena_alloc(rds_arena *a, size_t n)
{
    n = (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
    if (n > RDS_ARENA_BLOCK / 4) {
        /* a large string: its own block, freed by the next reset */
        rds_arena_block *b = block_new(n);
        b->next = a->big;
        a->big = b;
        return b->data;
    }
    rds_arena_block *b = a->cur;
    if (!b || b->cap - b->used < n) {
        if (b && b->next) {
            b = b->next;          /* kept from an earlier reply */
            b->used = 0;
        } else {
            rds_arena_block *nb = block_new(RDS_ARENA_BLOCK);
            if (b)
                b->next = nb;
            else
                a->head = nb;
            b = nb;
            a->nblocks++;
        }
        a->cur = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    return p;
}

static void free_chain(rds_arena_block *b)
{
    while (b) {
        rds_arena_block *next = b->next;
        free(b);
        b = next;
    }
}

void rds_arena_reset(rds_arena *a)
{
    free_chain(a->big);
    a->big = NULL;
    if (!a->head)
        return;
    /* keep RDS_ARENA_KEEP bytes of blocks for the next replies */
    size_t keep = RDS_ARENA_KEEP / RDS_ARENA_BLOCK;
    rds_arena_block *b = a->head;
    for (size_t i = 1; i < keep && b->next; i++)
        b = b->next;
    free_chain(b->next);
    b->next = NULL;
    a->nblocks = LO_MIN(a->nblocks, keep ? keep : 1);
    a->head->used = 0;
    a->cur = a->head;
}

void rds_arena_free(rds_arena *a)
{
    free_chain(a->big);
    free_chain(a->head);
    memset(a, 0, sizeof *a);
}
