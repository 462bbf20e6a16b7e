/*
 * k8s_informer.h — a local cache of one resource type kept in step with the
 * API server: list (paginated), then watch from the list's
 * resourceVersion; on 410 Gone list again and reconcile the cache, turning
 * objects that vanished meanwhile into delete callbacks. Watch restarts
 * (timeouts, disconnects, API server restarts) resume from the last
 * resourceVersion seen, so no change is missed; failed lists are retried
 * with jittered exponential backoff.
 *
 * Callbacks: on_add(obj), on_update(old, new) — only when the
 * resourceVersion changed —, on_delete(last known obj), and on_synced()
 * after every completed list (the first one sets k8s_informer_synced()).
 * Objects passed are borrowed (json_incref to keep); they are the cached
 * objects themselves: do not modify them. Callbacks may call any client
 * verb and k8s_informer_free() on this informer.
 *
 * The cache is keyed "namespace/name" ("name" for cluster-scoped types).
 * Ownership: the informer copies its arguments and owns the cache;
 * k8s_informer_free() frees everything (the client frees informers it
 * still has when it is freed first).
 */
#ifndef LIFTOFF_K8S_INFORMER_H
#define LIFTOFF_K8S_INFORMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "k8s_client.h"
#include "k8s_watch.h"

#define K8S_INFORMER_KEY_MAX (2 * K8S_NAME_MAX + 2)   /* "ns/name" with the NUL */

typedef struct k8s_informer k8s_informer;

typedef struct k8s_informer_cbs {
    void (*on_add)(k8s_informer *inf, const json_t *obj, void *arg);
    void (*on_update)(k8s_informer *inf, const json_t *old_obj, const json_t *new_obj, void *arg);
    void (*on_delete)(k8s_informer *inf, const json_t *obj, void *arg);
    void (*on_synced)(k8s_informer *inf, void *arg);
} k8s_informer_cbs;

typedef struct k8s_informer_opts {
    const char *label_selector;
    const char *field_selector;
    uint32_t page_size;             /* list page; 0: K8S_LIST_PAGE */
    uint32_t watch_timeout_s;       /* 0: K8S_WATCH_TIMEOUT_S */
    uint64_t backoff_base_ms;       /* 0: K8S_BACKOFF_BASE_MS */
    uint64_t backoff_max_ms;        /* 0: 30000 */
} k8s_informer_opts;

typedef struct k8s_informer_stats {
    uint64_t lists;                 /* lists completed */
    uint64_t list_failures;
    uint64_t relists;               /* lists after the first (410s) */
    uint64_t adds, updates, deletes;
    uint64_t synthesized_deletes;   /* deletes found by a relist */
    k8s_watch_stats watch;
} k8s_informer_stats;

/* An informer on r in ns (NULL: all namespaces); starts listing on the
 * loop at once. NULL on bad arguments. */
k8s_informer *k8s_informer_new(k8s_client *c, const k8s_res *r, const char *ns,
                               const k8s_informer_opts *o, const k8s_informer_cbs *cbs,
                               void *arg);
/* Stops and frees; NULL-safe; allowed from its own callbacks. */
void k8s_informer_free(k8s_informer *inf);
/* Whether the first list has completed. */
bool k8s_informer_synced(const k8s_informer *inf);
/* The cached object, or NULL (borrowed). ns NULL for cluster-scoped. */
const json_t *k8s_informer_get(const k8s_informer *inf, const char *ns, const char *name);
/* Objects in the cache. */
size_t k8s_informer_count(const k8s_informer *inf);
/* Calls fn for every cached object (no changes to the cache from fn). */
void k8s_informer_foreach(const k8s_informer *inf,
                          void (*fn)(const char *key, const json_t *obj, void *arg), void *arg);
/* The resourceVersion the cache reflects. */
const char *k8s_informer_rv(const k8s_informer *inf);
/* Copies the counters (the watch's included) into *out. */
void k8s_informer_stats_get(const k8s_informer *inf, k8s_informer_stats *out);
/* Makes the watch continue from resource_version as if it had been seen
 * last (dropping the open stream): a resourceVersion the server no longer
 * has makes it answer 410 and the informer relist. For tests of that path,
 * and for callers that restore a remembered version. */
void k8s_informer_resume_from(k8s_informer *inf, const char *resource_version);

/* The cache key of obj ("ns/name" or "name") into out: 0 or -EINVAL. */
int k8s_object_key(const json_t *obj, char out[K8S_INFORMER_KEY_MAX]);

#endif
