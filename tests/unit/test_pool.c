/* test_pool.c — the per-request arena: alignment, big allocations, cleanups
 * in order, clearing keeps one block, strings. */
#include "test.h"
#include "pool.h"

#include <stdint.h>
#include <string.h>

static int order[8];
static int norder;
static void note(void *arg) { order[norder++] = (int)(intptr_t)arg; }

TEST(pool_alloc_aligned_and_distinct)
{
    pool p;
    pool_init(&p, 256);
    char *prev = NULL;
    for (int i = 0; i < 100; i++) {
        char *q = pool_alloc(&p, (size_t)i % 13);
        CHECK(((uintptr_t)q % POOL_ALIGN) == 0);
        CHECK(q != prev);
        memset(q, 0xab, (size_t)i % 13);
        prev = q;
    }
    CHECK(pool_bytes(&p) >= 100 * POOL_ALIGN);
    pool_destroy(&p);
}

TEST(pool_large_allocations_get_own_block)
{
    pool p;
    pool_init(&p, 0);
    char *small1 = pool_alloc(&p, 10);
    char *big = pool_alloc(&p, 100000);
    char *small2 = pool_alloc(&p, 10);
    memset(big, 1, 100000);
    /* the small ones share the first block */
    CHECK(small2 - small1 == (ptrdiff_t)POOL_ALIGN);
    char *big_first;
    pool q;
    pool_init(&q, 0);
    big_first = pool_alloc(&q, 50000);
    memset(big_first, 2, 50000);
    char *after = pool_alloc(&q, 8);
    memset(after, 3, 8);
    pool_destroy(&p);
    pool_destroy(&q);
}

TEST(pool_cleanups_run_newest_first_on_clear)
{
    pool p;
    pool_init(&p, 0);
    norder = 0;
    pool_on_clear(&p, note, (void *)(intptr_t)1);
    pool_on_clear(&p, note, (void *)(intptr_t)2);
    pool_on_clear(&p, note, (void *)(intptr_t)3);
    CHECK_INT(norder, 0);
    pool_clear(&p);
    CHECK_INT(norder, 3);
    CHECK_INT(order[0], 3);
    CHECK_INT(order[2], 1);
    CHECK_INT(pool_bytes(&p), 0);
    /* the pool is usable after a clear, and cleanups do not run twice */
    char *s = pool_strndup(&p, "hello world", 5);
    CHECK_STR(s, "hello");
    pool_destroy(&p);
    CHECK_INT(norder, 3);
}

TEST(pool_strings)
{
    pool p;
    pool_init(&p, 64); /* tiny blocks: many of them */
    CHECK_STR(pool_printf(&p, "%s-%d", "a", 42), "a-42");
    char *d = pool_memdup(&p, "xyz", 3);
    CHECK(memcmp(d, "xyz", 3) == 0);
    char *z = pool_zalloc(&p, 33);
    int nz = 0;
    for (int i = 0; i < 33; i++)
        nz += z[i] != 0;
    CHECK_INT(nz, 0);
    for (int i = 0; i < 200; i++)
        CHECK_STR(pool_printf(&p, "%d", i), pool_printf(&p, "%d", i));
    pool_clear(&p);
    pool_clear(&p);
    pool_destroy(&p);
    pool_destroy(&p); /* idempotent */
}
