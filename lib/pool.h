/*
 * pool.h — a memory arena for per-request memory (as nginx's ngx_pool_t and
 * h2o's h2o_mem_pool_t): many small allocations, freed all at once.
 *
 * Ownership: a pool is a value its owner embeds. Memory from pool_alloc()
 * and friends belongs to the pool and is released by pool_clear() (which
 * keeps one block for reuse) or pool_destroy(); never free() it. Cleanup
 * callbacks registered with pool_on_clear() run (newest first) before the
 * memory goes. Allocation aborts on out-of-memory like xmalloc().
 *
 * Not thread-safe.
 */
#ifndef LIFTOFF_POOL_H
#define LIFTOFF_POOL_H

#include <stdarg.h>
#include <stddef.h>

#define POOL_BLOCK_DEFAULT 4096u  /* bytes per block, header included */
#define POOL_ALIGN 16u            /* alignment of every allocation */

typedef struct pool_block pool_block;
typedef struct pool_cleanup pool_cleanup;

typedef struct pool {
    pool_block *blocks;     /* newest first; the first one is being filled */
    size_t used;            /* bytes used in blocks (the current block) */
    size_t block_size;
    size_t bytes;           /* bytes handed out since the last clear */
    pool_cleanup *cleanups;
} pool;

/* An empty pool with blocks of block_size bytes (0: POOL_BLOCK_DEFAULT).
 * No memory is taken until the first allocation. */
void pool_init(pool *p, size_t block_size);
/* n bytes aligned to POOL_ALIGN (n == 0 gives a valid unique pointer).
 * Requests larger than a quarter block get a block of their own. */
void *pool_alloc(pool *p, size_t n);
/* As pool_alloc, zeroed. */
void *pool_zalloc(pool *p, size_t n);
/* A copy of s[0..n) with a terminating NUL. */
char *pool_strndup(pool *p, const char *s, size_t n);
/* A copy of n bytes. */
void *pool_memdup(pool *p, const void *s, size_t n);
/* printf into pool memory. */
char *pool_printf(pool *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Runs fn(arg) at the next pool_clear()/pool_destroy(), newest first. */
void pool_on_clear(pool *p, void (*fn)(void *arg), void *arg);
/* Runs the cleanups and frees every allocation; keeps one block for reuse. */
void pool_clear(pool *p);
/* As pool_clear, and frees the kept block too (the pool can be used again). */
void pool_destroy(pool *p);
/* Bytes handed out since the last clear (for limits and metrics). */
static inline size_t pool_bytes(const pool *p) { return p->bytes; }

#endif
