/*
 * ratelimit.h — per-client token buckets in a bounded table.
 *
 * Each client key (an IPv4 address, or the /64 prefix of an IPv6 address)
 * owns a bucket of `burst` tokens refilled at `rate` tokens per second;
 * a request takes `cost` tokens or is refused with the time until enough
 * tokens are back. The table holds at most max_clients buckets; when full,
 * the least recently used bucket is dropped (a dropped client starts again
 * with a full bucket, which is what an idle one would have anyway).
 *
 * Pure logic: time is passed in (monotonic ms), nothing blocks. Ownership:
 * ingest_rl_new() allocates everything up front; ingest_rl_free() frees it.
 */
#ifndef LIFTOFF_INGEST_RATELIMIT_H
#define LIFTOFF_INGEST_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define INGEST_RL_KEY_LEN 16
#define INGEST_RL_CLIENTS_DEFAULT 65536u /* buckets kept */
#define INGEST_RL_CLIENTS_MAX (1u << 24)

typedef struct ingest_rl ingest_rl;

typedef struct ingest_rl_opts {
    double rate;          /* tokens per second, > 0 */
    double burst;         /* bucket size, >= 1 */
    size_t max_clients;   /* 0: INGEST_RL_CLIENTS_DEFAULT */
} ingest_rl_opts;

/* A limiter, or NULL if the options are unusable (rate <= 0, burst < 1,
 * max_clients over INGEST_RL_CLIENTS_MAX). */
ingest_rl *ingest_rl_new(const ingest_rl_opts *o);
/* Frees the limiter. NULL-safe. */
void ingest_rl_free(ingest_rl *rl);

/* Takes cost tokens from key's bucket at now_ms: 0 if allowed, -EAGAIN if
 * not, with *retry_after_ms (may be NULL) set to when it would be. */
int ingest_rl_take(ingest_rl *rl, const uint8_t key[INGEST_RL_KEY_LEN], uint64_t now_ms,
                   double cost, uint64_t *retry_after_ms);

/* Buckets currently held. */
size_t ingest_rl_size(const ingest_rl *rl);

/* The key of a peer address: IPv4 (also IPv4-mapped IPv6) as ::ffff:a.b.c.d,
 * IPv6 masked to its /64. 0, or -EAFNOSUPPORT. */
int ingest_rl_key_from_addr(const struct sockaddr *sa, uint8_t key[INGEST_RL_KEY_LEN]);
/* The same from a textual address ("1.2.3.4", "2001:db8::1"): 0 or -EINVAL. */
int ingest_rl_key_from_str(const char *s, size_t len, uint8_t key[INGEST_RL_KEY_LEN]);

#endif
