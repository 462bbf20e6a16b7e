/* index.c — the controller's string multimap (see index.h). */
#include "index.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static size_t hash_str(const char *s)
{
    size_t h = 1469598103934665603ull;   /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

void ctl_index_init(ctl_index *ix)
{
    memset(ix, 0, sizeof *ix);
}

void ctl_index_free(ctl_index *ix, void (*free_val)(void *val))
{
    if (!ix)
        return;
    for (size_t i = 0; i < ix->nbuckets; i++) {
        ctl_index_entry *e = ix->buckets[i];
        while (e) {
            ctl_index_entry *next = e->next;
            if (free_val)
                free_val(e->val);
            free(e);
            e = next;
        }
    }
    free(ix->buckets);
    memset(ix, 0, sizeof *ix);
}

static void grow(ctl_index *ix)
{
    size_t n = ix->nbuckets ? ix->nbuckets * 2 : CTL_INDEX_BUCKETS_MIN;
    ctl_index_entry **b = xcalloc(n, sizeof *b);
    for (size_t i = 0; i < ix->nbuckets; i++) {
        ctl_index_entry *e = ix->buckets[i];
        while (e) {
            ctl_index_entry *next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(ix->buckets);
    ix->buckets = b;
    ix->nbuckets = n;
}

void ctl_index_add(ctl_index *ix, const char *key, void *val)
{
    size_t h = hash_str(key);
    if (ix->nbuckets) {
        for (ctl_index_entry *e = ix->buckets[h & (ix->nbuckets - 1)]; e; e = e->next)
            if (e->hash == h && e->val == val && strcmp(e->key, key) == 0)
                return;
    }
    if (ix->len >= ix->nbuckets)
        grow(ix);
    size_t klen = strlen(key) + 1;
    ctl_index_entry *e = xmalloc(sizeof *e + klen);
    memcpy(e->key, key, klen);
    e->hash = h;
    e->val = val;
    e->next = ix->buckets[h & (ix->nbuckets - 1)];
    ix->buckets[h & (ix->nbuckets - 1)] = e;
    ix->len++;
}

int ctl_index_del(ctl_index *ix, const char *key, const void *val)
{
    if (!ix->nbuckets)
        return -ENOENT;
    size_t h = hash_str(key);
    for (ctl_index_entry **pe = &ix->buckets[h & (ix->nbuckets - 1)]; *pe; pe = &(*pe)->next) {
        ctl_index_entry *e = *pe;
        if (e->hash == h && e->val == val && strcmp(e->key, key) == 0) {
            *pe = e->next;
            free(e);
            ix->len--;
            return 0;
        }
    }
    return -ENOENT;
}

void *ctl_index_get(const ctl_index *ix, const char *key)
{
    if (!ix->nbuckets)
        return NULL;
    size_t h = hash_str(key);
    for (ctl_index_entry *e = ix->buckets[h & (ix->nbuckets - 1)]; e; e = e->next)
        if (e->hash == h && strcmp(e->key, key) == 0)
            return e->val;
    return NULL;
}

void *ctl_index_find(const ctl_index *ix, const char *key,
                     bool (*match)(const void *val, const void *arg), const void *arg)
{
    if (!ix->nbuckets)
        return NULL;
    size_t h = hash_str(key);
    for (ctl_index_entry *e = ix->buckets[h & (ix->nbuckets - 1)]; e; e = e->next)
        if (e->hash == h && strcmp(e->key, key) == 0 && match(e->val, arg))
            return e->val;
    return NULL;
}

void ctl_index_each(const ctl_index *ix, const char *key, void (*fn)(void *val, void *arg),
                    void *arg)
{
    if (!ix->nbuckets)
        return;
    size_t h = hash_str(key);
    for (ctl_index_entry *e = ix->buckets[h & (ix->nbuckets - 1)]; e; e = e->next)
        if (e->hash == h && strcmp(e->key, key) == 0)
            fn(e->val, arg);
}

void ctl_index_key(char *out, size_t outlen, const char *ns, const char *name)
{
    snprintf(out, outlen, "%s/%s", ns ? ns : "", name ? name : "");
}
