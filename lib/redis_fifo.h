/*
 * redis_fifo.h — the Redis client's queue of commands awaiting a reply, in
 * the order they were (or will be) written: a growable ring of small
 * entries. Redis answers in order, so the front entry owns the next reply.
 *
 * Ownership: the fifo owns its array; entries are plain values (the
 * callback argument inside belongs to whoever issued the command).
 */
#ifndef LIFTOFF_REDIS_FIFO_H
#define LIFTOFF_REDIS_FIFO_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define RDS_FIFO_MIN_CAP 16

typedef struct rds_pending {
    void *cb;              /* the command's callback (typed by the client) */
    void *arg;
    uint64_t deadline_ms;  /* monotonic; 0: none */
    uint32_t len;          /* formatted bytes, while not yet written */
    int32_t err;           /* for failures awaiting delivery */
} rds_pending;

typedef struct rds_fifo {
    rds_pending *v;
    size_t head, len, cap; /* cap is 0 or a power of two */
} rds_fifo;

void rds_fifo_init(rds_fifo *f);
void rds_fifo_free(rds_fifo *f);
static inline size_t rds_fifo_len(const rds_fifo *f) { return f->len; }
/* Appends a copy of e (grows as needed; never fails). */
void rds_fifo_push(rds_fifo *f, const rds_pending *e);
/* Removes the front entry into *out; false when empty. */
bool rds_fifo_pop(rds_fifo *f, rds_pending *out);
/* The i-th entry from the front (i < len). */
rds_pending *rds_fifo_at(const rds_fifo *f, size_t i);
/* Removes the entries in [from, len) for which pick() is true, keeping the
 * order of the others; each removed one is appended to *out (may be NULL).
 * Returns how many were removed. */
size_t rds_fifo_remove_if(rds_fifo *f, size_t from, bool (*pick)(const rds_pending *, void *),
                          void *ctx, rds_fifo *out);

#endif
