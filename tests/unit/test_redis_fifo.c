/* test_redis_fifo.c — the pending-command ring: order, wrap-around, growth,
 * removal of picked entries. */
#include "test.h"
#include "redis_fifo.h"

#include <stdint.h>

static rds_pending entry(uintptr_t id, uint64_t deadline)
{
    return (rds_pending){ .arg = (void *)id, .deadline_ms = deadline };
}

TEST(redis_fifo_keeps_order_across_wraparound_and_growth)
{
    rds_fifo f;
    rds_fifo_init(&f);
    uintptr_t next_in = 1, next_out = 1;
    rds_pending e;
    /* Interleave pushes and pops so head wraps several times while growing. */
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 7 + round; i++) {
            rds_pending p = entry(next_in++, 0);
            rds_fifo_push(&f, &p);
        }
        for (int i = 0; i < 5 + round; i++) {
            REQUIRE(rds_fifo_pop(&f, &e));
            CHECK_INT((uintptr_t)e.arg, next_out);
            next_out++;
        }
    }
    CHECK_INT(rds_fifo_len(&f), next_in - next_out);
    for (size_t i = 0; i < rds_fifo_len(&f); i++)
        CHECK_INT((uintptr_t)rds_fifo_at(&f, i)->arg, next_out + i);
    while (rds_fifo_pop(&f, &e)) {
        CHECK_INT((uintptr_t)e.arg, next_out);
        next_out++;
    }
    CHECK_INT(next_out, next_in);
    CHECK(!rds_fifo_pop(&f, &e));
    rds_fifo_free(&f);
}

static bool odd(const rds_pending *e, void *ctx)
{
    (void)ctx;
    return ((uintptr_t)e->arg & 1) != 0;
}

TEST(redis_fifo_remove_if_moves_picked_entries_in_order)
{
    rds_fifo f, out;
    rds_fifo_init(&f);
    rds_fifo_init(&out);
    rds_pending e;
    /* Start with a wrapped head. */
    for (uintptr_t i = 0; i < 10; i++) {
        e = entry(100, 0);
        rds_fifo_push(&f, &e);
    }
    for (int i = 0; i < 10; i++)
        rds_fifo_pop(&f, &e);
    for (uintptr_t i = 1; i <= 12; i++) {
        e = entry(i, 0);
        rds_fifo_push(&f, &e);
    }
    /* Entries before `from` are never touched. */
    size_t n = rds_fifo_remove_if(&f, 2, odd, NULL, &out);
    CHECK_INT(n, 5); /* 3 5 7 9 11 */
    CHECK_INT(rds_fifo_len(&f), 7);
    uintptr_t want_left[] = { 1, 2, 4, 6, 8, 10, 12 };
    for (size_t i = 0; i < 7; i++)
        CHECK_INT((uintptr_t)rds_fifo_at(&f, i)->arg, want_left[i]);
    uintptr_t want_out[] = { 3, 5, 7, 9, 11 };
    for (size_t i = 0; i < 5; i++) {
        REQUIRE(rds_fifo_pop(&out, &e));
        CHECK_INT((uintptr_t)e.arg, want_out[i]);
    }
    CHECK_INT(rds_fifo_remove_if(&f, 0, odd, NULL, NULL), 1);
    CHECK_INT(rds_fifo_len(&f), 6);
    rds_fifo_free(&f);
    rds_fifo_free(&out);
}
