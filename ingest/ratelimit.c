/* ratelimit.c — token buckets per client in a hash table with LRU eviction. */
#include "ratelimit.h"

#include <stdlib.h>
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <string.h>

#include "common.h"

#define NIL UINT32_MAX

typedef struct rl_entry {
    uint8_t key[INGEST_RL_KEY_LEN];
    double tokens;
    uint64_t last_ms;
    uint32_t chain;            /* next entry in the same hash slot */
    uint32_t prev, next;       /* LRU list: head = most recent */
} rl_entry;

struct ingest_rl {
    double rate, burst;
    uint32_t cap, count;
    uint32_t mask;             /* slots - 1 */
    uint32_t *slots;
    rl_entry *e;
    uint32_t head, tail;
    uint64_t seed;
};

ingest_rl *ingest_rl_new(const ingest_rl_opts *o)
{
    size_t cap = o->max_clients ? o->max_clients : INGEST_RL_CLIENTS_DEFAULT;
    if (!(o->rate > 0) || !(o->burst >= 1) || cap > INGEST_RL_CLIENTS_MAX || !isfinite(o->rate) ||
        !isfinite(o->burst))
        return NULL;
    ingest_rl *rl = xcalloc(1, sizeof(*rl));
    uint32_t slots = 1;
    while (slots < 2 * cap)
        slots <<= 1;
    rl->rate = o->rate;
    rl->burst = o->burst;
    rl->cap = (uint32_t)cap;
    rl->mask = slots - 1;
    rl->slots = xmalloc(slots * sizeof(*rl->slots));
    memset(rl->slots, 0xff, slots * sizeof(*rl->slots));
    rl->e = xcalloc(cap, sizeof(*rl->e));
    rl->head = rl->tail = NIL;
    rl->seed = lo_rand_below(UINT64_MAX) | 1;
    return rl;
}

void ingest_rl_free(ingest_rl *rl)
{
    if (!rl)
        return;
    free(rl->slots);
    free(rl->e);
    free(rl);
}

size_t ingest_rl_size(const ingest_rl *rl)
{
    return rl->count;
}

static uint32_t slot_of(const ingest_rl *rl, const uint8_t key[INGEST_RL_KEY_LEN])
{
    uint64_t a, b;
    memcpy(&a, key, 8);
    memcpy(&b, key + 8, 8);
    uint64_t h = (a ^ rl->seed) * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
    h = (h ^ b) * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return (uint32_t)h & rl->mask;
}

static void lru_unlink(ingest_rl *rl, uint32_t i)
{
    rl_entry *x = &rl->e[i];
    if (x->prev != NIL)
        rl->e[x->prev].next = x->next;
    else
        rl->head = x->next;
    if (x->next != NIL)
        rl->e[x->next].prev = x->prev;
    else
        rl->tail = x->prev;
}

static void lru_push_front(ingest_rl *rl, uint32_t i)
{
    rl_entry *x = &rl->e[i];
    x->prev = NIL;
    x->next = rl->head;
    if (rl->head != NIL)
        rl->e[rl->head].prev = i;
    rl->head = i;
    if (rl->tail == NIL)
        rl->tail = i;
}

static void chain_remove(ingest_rl *rl, uint32_t i)
{
    uint32_t *p = &rl->slots[slot_of(rl, rl->e[i].key)];
    while (*p != NIL && *p != i)
        p = &rl->e[*p].chain;
    if (*p == i)
        *p = rl->e[i].chain;
}

/* The entry for key, created (full bucket) if missing. */
static uint32_t lookup(ingest_rl *rl, const uint8_t key[INGEST_RL_KEY_LEN], uint64_t now_ms)
{
    uint32_t s = slot_of(rl, key);
    for (uint32_t i = rl->slots[s]; i != NIL; i = rl->e[i].chain) {
        if (memcmp(rl->e[i].key, key, INGEST_RL_KEY_LEN) == 0) {
            if (rl->head != i) {
                lru_unlink(rl, i);
                lru_push_front(rl, i);
            }
            return i;
        }
    }
    uint32_t i;
    if (rl->count < rl->cap) {
        i = rl->count++;
    } else {
        i = rl->tail;
        lru_unlink(rl, i);
        chain_remove(rl, i);
    }
    rl_entry *x = &rl->e[i];
    memcpy(x->key, key, INGEST_RL_KEY_LEN);
    x->tokens = rl->burst;
    x->last_ms = now_ms;
    x->chain = rl->slots[s];
    rl->slots[s] = i;
    lru_push_front(rl, i);
    return i;
}

int ingest_rl_take(ingest_rl *rl, const uint8_t key[INGEST_RL_KEY_LEN], uint64_t now_ms,
                   double cost, uint64_t *retry_after_ms)
{
    rl_entry *x = &rl->e[lookup(rl, key, now_ms)];
    if (now_ms > x->last_ms) {
        x->tokens += (double)(now_ms - x->last_ms) * rl->rate / 1000.0;
        if (x->tokens > rl->burst)
            x->tokens = rl->burst;
        x->last_ms = now_ms;
    }
    if (x->tokens >= cost) {
        x->tokens -= cost;
        if (retry_after_ms)
            *retry_after_ms = 0;
        return 0;
    }
    if (retry_after_ms) {
        double need = cost > rl->burst ? rl->burst : cost;
        double ms = ceil((need - x->tokens) * 1000.0 / rl->rate - 1e-6); /* float slack */
        *retry_after_ms = ms < 1 ? 1 : (uint64_t)ms;
    }
    return -EAGAIN;
}

int ingest_rl_key_from_addr(const struct sockaddr *sa, uint8_t key[INGEST_RL_KEY_LEN])
{
    static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    memset(key, 0, INGEST_RL_KEY_LEN);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        memcpy(key, v4mapped, 12);
        memcpy(key + 12, &in->sin_addr, 4);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        const uint8_t *a = in6->sin6_addr.s6_addr;
        if (memcmp(a, v4mapped, 12) == 0)
            memcpy(key, a, 16);
        else
            memcpy(key, a, 8); /* one client per /64 */
        return 0;
    }
    return -EAFNOSUPPORT;
}

int ingest_rl_key_from_str(const char *s, size_t len, uint8_t key[INGEST_RL_KEY_LEN])
{
    char tmp[INET6_ADDRSTRLEN + 1];
    while (len > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len == 0 || len >= sizeof(tmp))
        return -EINVAL;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    struct sockaddr_in in = { .sin_family = AF_INET };
    struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };
    if (inet_pton(AF_INET, tmp, &in.sin_addr) == 1)
        return ingest_rl_key_from_addr((struct sockaddr *)&in, key);
    if (inet_pton(AF_INET6, tmp, &in6.sin6_addr) == 1)
        return ingest_rl_key_from_addr((struct sockaddr *)&in6, key);
    return -EINVAL;
}
