/*
 * cache.h — the micro-cache's store: a byte-bounded LRU of responses keyed
 * by opaque byte strings (see cacheable.h for keys). Pure data structure:
 * no I/O, the caller passes the monotonic time in.
 *
 * An entry is a whole response (status, the header block to send, the
 * body), with the time it was stored, the end of its freshness and the end
 * of the time it may still be served stale (stale-while-revalidate /
 * stale-if-error). A hit-for-miss marker is an entry without a response:
 * "this key was uncacheable a moment ago, do not coalesce requests for it"
 * (so uncacheable URLs do not serialise behind a single-flight fill).
 *
 * Bytes counted per entry: key + head + body + SIDECAR_CACHE_OVERHEAD. A put
 * evicts least recently used entries until the total fits max_bytes; an
 * entry larger than max_entry_bytes is refused.
 *
 * Ownership: the cache copies keys, heads and bodies. sidecar_cache_get()
 * returns a referenced entry: it stays valid (even if evicted or purged
 * meanwhile) until sidecar_cache_unref(). Not thread-safe (one loop).
 *
 */
#ifndef LIFTOFF_SIDECAR_CACHE_H
#define LIFTOFF_SIDECAR_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIDECAR_CACHE_BYTES_DEFAULT (64u << 20)  /* whole cache */
#define SIDECAR_CACHE_ENTRY_DEFAULT (8u << 20)   /* one entry */
#define SIDECAR_CACHE_OVERHEAD 128               /* bytes counted per entry besides its data */
#define SIDECAR_CACHE_KEY_MAX 16384              /* bytes */

typedef struct sidecar_cache sidecar_cache;

typedef struct sidecar_cache_entry {
    /* read-only for users */
    bool hfm;                  /* hit-for-miss marker: no response */
    int status;
    char *head;                /* header lines "Name: value\r\n"..., NUL-terminated */
    size_t head_len;
    char *body;
    size_t body_len;
    uint64_t stored_ms;        /* when it was stored (for Age) */
    uint64_t fresh_until_ms;
    uint64_t swr_until_ms;     /* stale-while-revalidate ends (>= fresh_until_ms) */
    uint64_t sie_until_ms;     /* stale-if-error ends (>= fresh_until_ms) */
    uint64_t stale_until_ms;   /* stale-if-error / revalidate ends: the later of the two */
    /* internal */
    char *key;
    size_t key_len;
    uint64_t hash;
    unsigned refs;             /* users + 1 while in the cache */
    bool linked;
    struct sidecar_cache_entry *hnext;             /* hash chain */
    struct sidecar_cache_entry *lru_prev, *lru_next; /* prev: more recent */
} sidecar_cache_entry;

typedef enum sidecar_cache_state {
    SIDECAR_CACHE_MISS = 0,    /* nothing usable (expired entries are dropped) */
    SIDECAR_CACHE_FRESH,
    SIDECAR_CACHE_STALE,       /* past freshness, within stale_until */
    SIDECAR_CACHE_HFM,         /* a live hit-for-miss marker */
} sidecar_cache_state;

typedef struct sidecar_cache_stats {
    size_t bytes, entries;
    uint64_t hits, stale_hits, misses, evictions;
} sidecar_cache_stats;

/* A cache of at most max_bytes, entries of at most max_entry_bytes (0:
 * the defaults). Free with sidecar_cache_free(). */
sidecar_cache *sidecar_cache_new(size_t max_bytes, size_t max_entry_bytes);
/* Drops every entry (referenced ones live on until unref'd) and frees. */
void sidecar_cache_free(sidecar_cache *c);

/* Looks key up at now_ms: the state, and for FRESH / STALE / HFM a
 * referenced entry in *out (NULL for MISS). Moves a hit to the LRU head. */
sidecar_cache_state sidecar_cache_get(sidecar_cache *c, const void *key, size_t key_len,
                                      uint64_t now_ms, sidecar_cache_entry **out);
/* Releases a reference from sidecar_cache_get(). NULL-safe. */
void sidecar_cache_unref(sidecar_cache_entry *e);

/* Stores a response under key (replacing what was there), fresh for
 * fresh_ms, then servable stale while revalidating for swr_ms more and on
 * errors for sie_ms more (the entry is dropped after the later). 0, -E2BIG (larger
 * than an entry may be, or than the whole cache), -EINVAL (key empty or
 * over SIDECAR_CACHE_KEY_MAX). */
int sidecar_cache_put(sidecar_cache *c, const void *key, size_t key_len, int status,
                      const char *head, size_t head_len, const char *body, size_t body_len,
                      uint64_t now_ms, uint64_t fresh_ms, uint64_t swr_ms, uint64_t sie_ms);
/* Stores a hit-for-miss marker for ttl_ms. 0 or -EINVAL. */
int sidecar_cache_put_hfm(sidecar_cache *c, const void *key, size_t key_len, uint64_t now_ms,
                          uint64_t ttl_ms);
/* Removes key. 1 if it was there, 0 if not. */
int sidecar_cache_remove(sidecar_cache *c, const void *key, size_t key_len);
/* Removes every entry for which match(key, key_len, arg) is true (all when
 * match is NULL); returns how many. */
size_t sidecar_cache_purge(sidecar_cache *c,
                           bool (*match)(const char *key, size_t key_len, void *arg), void *arg);
void sidecar_cache_get_stats(const sidecar_cache *c, sidecar_cache_stats *out);

#endif
