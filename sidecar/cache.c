/* cache.c — the micro-cache store: hash table + LRU list, byte-bounded,
 * reference-counted entries (see cache.h). */
#include "cache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define CACHE_BUCKETS_MIN 64u

struct sidecar_cache {
    size_t max_bytes, max_entry;
    size_t bytes, entries;
    sidecar_cache_entry **bucket;
    size_t nbuckets;           /* a power of two */
    sidecar_cache_entry *lru_head, *lru_tail; /* head: most recent */
    uint64_t hits, stale_hits, misses, evictions;
};

static uint64_t hash_key(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t h = 1469598103934665603ull;       /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static size_t entry_bytes(const sidecar_cache_entry *e)
{
    return e->key_len + e->head_len + e->body_len + SIDECAR_CACHE_OVERHEAD;
}

sidecar_cache *sidecar_cache_new(size_t max_bytes, size_t max_entry_bytes)
{
    sidecar_cache *c = xcalloc(1, sizeof *c);
    c->max_bytes = max_bytes ? max_bytes : SIDECAR_CACHE_BYTES_DEFAULT;
    c->max_entry = max_entry_bytes ? max_entry_bytes : SIDECAR_CACHE_ENTRY_DEFAULT;
    c->nbuckets = CACHE_BUCKETS_MIN;
    c->bucket = xcalloc(c->nbuckets, sizeof *c->bucket);
    return c;
}

static void entry_free(sidecar_cache_entry *e)
{
    free(e->key);
    free(e->head);
    free(e->body);
    free(e);
}

void sidecar_cache_unref(sidecar_cache_entry *e)
{
    if (e && --e->refs == 0)
        entry_free(e);
}

/* Takes e out of the table and the LRU list and drops the cache's ref. */
static void unlink_entry(sidecar_cache *c, sidecar_cache_entry *e)
{
    sidecar_cache_entry **pp = &c->bucket[e->hash & (c->nbuckets - 1)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else
        c->lru_head = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        c->lru_tail = e->lru_prev;
    c->bytes -= entry_bytes(e);
    c->entries--;
    e->linked = false;
    sidecar_cache_unref(e);
}

static void lru_push_head(sidecar_cache *c, sidecar_cache_entry *e)
{
    e->lru_prev = NULL;
    e->lru_next = c->lru_head;
    if (c->lru_head)
        c->lru_head->lru_prev = e;
    c->lru_head = e;
    if (!c->lru_tail)
        c->lru_tail = e;
}

static void lru_touch(sidecar_cache *c, sidecar_cache_entry *e)
{
    if (c->lru_head == e)
        return;
    e->lru_prev->lru_next = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        c->lru_tail = e->lru_prev;
    lru_push_head(c, e);
}

void sidecar_cache_free(sidecar_cache *c)
{
    if (!c)
        return;
    while (c->lru_head)
        unlink_entry(c, c->lru_head);
    free(c->bucket);
    free(c);
}

static sidecar_cache_entry *find(sidecar_cache *c, const void *key, size_t len, uint64_t h)
{
    for (sidecar_cache_entry *e = c->bucket[h & (c->nbuckets - 1)]; e; e = e->hnext)
        if (e->hash == h && e->key_len == len && memcmp(e->key, key, len) == 0)
            return e;
    return NULL;
}

sidecar_cache_state sidecar_cache_get(sidecar_cache *c, const void *key, size_t key_len,
                                      uint64_t now_ms, sidecar_cache_entry **out)
{
    *out = NULL;
    sidecar_cache_entry *e = find(c, key, key_len, hash_key(key, key_len));
    if (e && now_ms >= e->stale_until_ms) {
        unlink_entry(c, e);
        e = NULL;
    }
    if (!e) {
        c->misses++;
        return SIDECAR_CACHE_MISS;
    }
    lru_touch(c, e);
    e->refs++;
    *out = e;
    if (e->hfm)
        return SIDECAR_CACHE_HFM;
    if (now_ms < e->fresh_until_ms) {
        c->hits++;
        return SIDECAR_CACHE_FRESH;
    }
    c->stale_hits++;
    return SIDECAR_CACHE_STALE;
}

static void grow(sidecar_cache *c)
{
    size_t n = c->nbuckets * 2;
    sidecar_cache_entry **b = xcalloc(n, sizeof *b);
    for (size_t i = 0; i < c->nbuckets; i++) {
        sidecar_cache_entry *e = c->bucket[i], *next;
        for (; e; e = next) {
            next = e->hnext;
            e->hnext = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
        }
    }
    free(c->bucket);
    c->bucket = b;
    c->nbuckets = n;
}

static int insert(sidecar_cache *c, sidecar_cache_entry *e)
{
    size_t need = entry_bytes(e);
    if (need > c->max_entry || need > c->max_bytes) {
        entry_free(e);
        return -E2BIG;
    }
    sidecar_cache_entry *old = find(c, e->key, e->key_len, e->hash);
    if (old)
        unlink_entry(c, old);
    while (c->lru_tail && c->bytes + need > c->max_bytes) {
        unlink_entry(c, c->lru_tail);
        c->evictions++;
    }
    if (c->entries >= c->nbuckets)
        grow(c);
    size_t i = e->hash & (c->nbuckets - 1);
    e->hnext = c->bucket[i];
    c->bucket[i] = e;
    lru_push_head(c, e);
    e->refs = 1;
    e->linked = true;
    c->bytes += need;
    c->entries++;
    return 0;
}

static sidecar_cache_entry *entry_new(const void *key, size_t key_len)
{
    sidecar_cache_entry *e = xcalloc(1, sizeof *e);
    e->key = xmalloc(key_len);
    memcpy(e->key, key, key_len);
    e->key_len = key_len;
    e->hash = hash_key(key, key_len);
    return e;
}

static char *dup_bytes(const char *p, size_t n)
{
    char *d = xmalloc(n + 1);
    if (n)
        memcpy(d, p, n);
    d[n] = 0;
    return d;
}

int sidecar_cache_put(sidecar_cache *c, const void *key, size_t key_len, int status,
                      const char *head, size_t head_len, const char *body, size_t body_len,
                      uint64_t now_ms, uint64_t fresh_ms, uint64_t swr_ms, uint64_t sie_ms)
{
    if (key_len == 0 || key_len > SIDECAR_CACHE_KEY_MAX)
        return -EINVAL;
    if (head_len + body_len + key_len + SIDECAR_CACHE_OVERHEAD > c->max_entry)
        return -E2BIG; /* before copying anything */
    sidecar_cache_entry *e = entry_new(key, key_len);
    e->status = status;
    e->head = dup_bytes(head, head_len);
    e->head_len = head_len;
    e->body = dup_bytes(body, body_len);
    e->body_len = body_len;
    e->stored_ms = now_ms;
    e->fresh_until_ms = now_ms + fresh_ms;
    e->swr_until_ms = e->fresh_until_ms + swr_ms;
    e->sie_until_ms = e->fresh_until_ms + sie_ms;
    e->stale_until_ms = e->fresh_until_ms + (swr_ms > sie_ms ? swr_ms : sie_ms);
    return insert(c, e);
}

int sidecar_cache_put_hfm(sidecar_cache *c, const void *key, size_t key_len, uint64_t now_ms,
                          uint64_t ttl_ms)
{
    if (key_len == 0 || key_len > SIDECAR_CACHE_KEY_MAX)
        return -EINVAL;
    sidecar_cache_entry *e = entry_new(key, key_len);
    e->hfm = true;
    e->stored_ms = now_ms;
    e->fresh_until_ms = e->swr_until_ms = e->sie_until_ms = e->stale_until_ms = now_ms + ttl_ms;
    return insert(c, e);
}

int sidecar_cache_remove(sidecar_cache *c, const void *key, size_t key_len)
{
    sidecar_cache_entry *e = find(c, key, key_len, hash_key(key, key_len));
    if (!e)
        return 0;
    unlink_entry(c, e);
    return 1;
}

size_t sidecar_cache_purge(sidecar_cache *c,
                           bool (*match)(const char *key, size_t key_len, void *arg), void *arg)
{
    size_t n = 0;
    sidecar_cache_entry *e = c->lru_head, *next;
    for (; e; e = next) {
        next = e->lru_next;
        if (!match || match(e->key, e->key_len, arg)) {
            unlink_entry(c, e);
            n++;
        }
    }
    return n;
}

void sidecar_cache_get_stats(const sidecar_cache *c, sidecar_cache_stats *out)
{
    out->bytes = c->bytes;
    out->entries = c->entries;
    out->hits = c->hits;
    out->stale_hits = c->stale_hits;
    out->misses = c->misses;
    out->evictions = c->evictions;
}
