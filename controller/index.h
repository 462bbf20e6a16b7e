/*
 * index.h — a string-keyed multimap (chained hash table) for the
 * controller's lookups: policies by "ns/name", policies by their target
 * "ns/deployment", HPAs by the Deployment they scale. A key may map to
 * several values; a (key, value) pair is stored once.
 *
 * Ownership: the index copies keys; values are the caller's pointers,
 * kept alive while indexed. ctl_index_free() frees the table (and the
 * values with free_val when given).
 */
#ifndef LIFTOFF_CTL_INDEX_H
#define LIFTOFF_CTL_INDEX_H

#include <stdbool.h>
#include <stddef.h>

#define CTL_INDEX_BUCKETS_MIN 64u   /* initial buckets; doubles when full */

typedef struct ctl_index_entry {
    struct ctl_index_entry *next;
    size_t hash;
    void *val;
    char key[];
} ctl_index_entry;

typedef struct ctl_index {
    ctl_index_entry **buckets;
    size_t nbuckets, len;
} ctl_index;

/* An empty index (allocates on the first add). */
void ctl_index_init(ctl_index *ix);
/* Frees the table, and each value with free_val unless it is NULL. NULL-safe. */
void ctl_index_free(ctl_index *ix, void (*free_val)(void *val));
/* Maps key to val (no duplicate pairs). */
void ctl_index_add(ctl_index *ix, const char *key, void *val);
/* Removes the pair; 0, or -ENOENT when it was not there. */
int ctl_index_del(ctl_index *ix, const char *key, const void *val);
/* The first value under key, or NULL. */
void *ctl_index_get(const ctl_index *ix, const char *key);
/* The first value under key for which match(val, arg) is true, or NULL. */
void *ctl_index_find(const ctl_index *ix, const char *key,
                     bool (*match)(const void *val, const void *arg), const void *arg);
/* Calls fn for every value under key (fn must not change the index). */
void ctl_index_each(const ctl_index *ix, const char *key, void (*fn)(void *val, void *arg),
                    void *arg);
/* "ns/name" into out (at least 2 * CTL_NAME_MAX bytes). */
void ctl_index_key(char *out, size_t outlen, const char *ns, const char *name);

#endif
