/*
 * common.h — small helpers every liftoff file may use.
 *
 * Memory: the x* allocators abort the process on out-of-memory (as h2o's
 * h2o_mem_alloc does), so callers never check their result. Everything they
 * return is freed with free().
 *
 * Errors: functions return 0 (or a non-negative count) on success and a
 * negative errno value on failure, as libuv does.
 */
#ifndef LIFTOFF_COMMON_H
#define LIFTOFF_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define LO_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define LO_MIN(a, b) ((a) < (b) ? (a) : (b))
#define LO_MAX(a, b) ((a) > (b) ? (a) : (b))
#define LO_UNUSED(x) ((void)(x))

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a fresh string; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Monotonic and wall clocks in milliseconds / microseconds. */
uint64_t lo_mono_ms(void);
uint64_t lo_mono_us(void);
uint64_t lo_wall_ms(void);

/* A uniformly distributed random number in [0, n) (n > 0); not for secrets. */
uint64_t lo_rand_below(uint64_t n);
/* base_ms scaled by a random factor in [1 - frac, 1 + frac]. */
uint64_t lo_jitter_ms(uint64_t base_ms, double frac);

/* Writes the decimal digits of v at out (room for LO_U64_DIGITS, no NUL);
 * returns their count. For hot paths where formatted printing costs. */
#define LO_U64_DIGITS 20
size_t lo_u64_dec(uint64_t v, char *out);

#endif
