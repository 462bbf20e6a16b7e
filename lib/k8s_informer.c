/* k8s_informer.c — list + watch + cache (see k8s_informer.h).
 *
 * The cache is a jansson object keyed "ns/name". A list replaces it whole:
 * the new map is installed first, then the differences are reported (adds
 * and updates from the new map, deletes for keys only the old one had).
 *
 * A list in flight cannot be cancelled, so it reports to a small context
 * that the informer and the context detach from each other: whichever goes
 * first tells the other. */
#include "k8s_informer.h"
#include "k8s_int.h"
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INFORMER_BACKOFF_MAX_MS 30000u

typedef struct list_ctx list_ctx;

struct k8s_informer {
    k8s__op op;             /* first: the client frees it with the client */
    k8s_client *c;
    k8s_res res;            /* a copy (k8s__res_dup) */
    char *ns;
    char *label_selector, *field_selector;
    uint32_t page_size;
    k8s_watch_opts wopts;
    json_t *cache;          /* key -> object */
    char rv[K8S_RV_MAX];
    bool synced;
    list_ctx *listing;      /* the list in flight, or NULL */
    unsigned list_failures; /* consecutive */
    unsigned quick_expiries;/* 410s with no event since the last list */
    ev_timer timer;         /* the next list */
    k8s_watch *watch;
    k8s_informer_stats st;
    k8s_informer_cbs cbs;
    void *arg;
};

struct list_ctx {
    k8s__op op;             /* first */
    k8s_client *c;
    k8s_informer *inf;      /* NULL once the informer is gone */
};

int k8s_object_key(const json_t *obj, char out[K8S_INFORMER_KEY_MAX])
{
    const char *name = k8s_meta_str(obj, "name");
    const char *ns = k8s_meta_str(obj, "namespace");
    if (!k8s_name_valid(name) || (ns && *ns && !k8s_name_valid(ns)))
        return -EINVAL;
    if (ns && *ns)
        snprintf(out, K8S_INFORMER_KEY_MAX, "%s/%s", ns, name);
    else
        snprintf(out, K8S_INFORMER_KEY_MAX, "%s", name);
    return 0;
}

/* ---- freeing ---- */

static void really_free(k8s_informer *inf)
{
    ev_timer_stop(k8s_client_loop(inf->c), &inf->timer);
    if (inf->listing) {
        inf->listing->inf = NULL;
        inf->listing = NULL;
    }
    k8s_watch_free(inf->watch);
    json_decref(inf->cache);
    k8s__res_free(&inf->res);
    free(inf->ns);
    free(inf->label_selector);
    free(inf->field_selector);
    free(inf);
}

static void op_free(k8s__op *op) { really_free((k8s_informer *)(void *)op); }

static void ctx_free(k8s__op *op)
{
    list_ctx *x = (list_ctx *)(void *)op;
    if (x->inf)
        x->inf->listing = NULL;
    free(x);
}

void k8s_informer_free(k8s_informer *inf)
{
    if (inf)
        k8s__op_release(inf->c, &inf->op);
}

/* ---- callbacks to the owner ---- */

static void report_add(k8s_informer *inf, const json_t *obj)
{
    inf->st.adds++;
    if (inf->cbs.on_add)
        inf->cbs.on_add(inf, obj, inf->arg);
}

static void report_update(k8s_informer *inf, const json_t *old, const json_t *obj)
{
    inf->st.updates++;
    if (inf->cbs.on_update)
        inf->cbs.on_update(inf, old, obj, inf->arg);
}

static void report_delete(k8s_informer *inf, const json_t *obj)
{
    inf->st.deletes++;
    if (inf->cbs.on_delete)
        inf->cbs.on_delete(inf, obj, inf->arg);
}

static bool same_version(const json_t *a, const json_t *b)
{
    const char *x = k8s_meta_str(a, "resourceVersion"), *y = k8s_meta_str(b, "resourceVersion");
    return x && y && strcmp(x, y) == 0;
}

/* ---- list ---- */

static void start_list(k8s_informer *inf);

static void on_timer(ev_loop *loop, ev_timer *t, void *arg) { start_list(arg); }

static void retry_list(k8s_informer *inf)
{
    inf->list_failures++;
    inf->st.list_failures++;
    uint64_t delay = k8s_backoff_ms(inf->list_failures, inf->wopts.backoff_base_ms,
                                    inf->wopts.backoff_max_ms, K8S_BACKOFF_JITTER);
    ev_timer_start(k8s_client_loop(inf->c), &inf->timer, delay);
}

static void on_watch(k8s_watch *w, const k8s_watch_event *ev, void *arg);

/* Installs a fresh list as the cache and reports the differences. */
static void apply_list(k8s_informer *inf, json_t *items, const char *rv)
{
    json_t *fresh = json_object();
    size_t i;
    json_t *item;
    char key[K8S_INFORMER_KEY_MAX];
    json_array_foreach(items, i, item) {
        if (k8s_object_key(item, key) == 0)
            json_object_set(fresh, key, item);
    }
    json_t *old = inf->cache;
    inf->cache = fresh;
    json_incref(fresh); /* the callbacks may cause the next list to replace it */
    snprintf(inf->rv, sizeof inf->rv, "%s", rv);
    bool first = !inf->synced;
    inf->synced = true;
    inf->op.busy++;
    const char *k;
    json_t *obj;
    json_object_foreach(fresh, k, obj) {
        json_t *was = json_object_get(old, k);
        if (!was)
            report_add(inf, obj);
        else if (!same_version(was, obj))
            report_update(inf, was, obj);
        if (inf->op.free_pending)
            break;
    }
    json_object_foreach(old, k, obj) {
        if (inf->op.free_pending)
            break;
        if (!json_object_get(fresh, k)) {
            if (!first)
                inf->st.synthesized_deletes++;
            report_delete(inf, obj);
        }
    }
    json_decref(old);
    json_decref(fresh);
    inf->st.lists++;
    if (!inf->op.free_pending && inf->cbs.on_synced)
        inf->cbs.on_synced(inf, inf->arg);
    if (!k8s__op_leave(inf->c, &inf->op))
        return;
    if (!inf->watch) {
        inf->wopts.label_selector = inf->label_selector;
        inf->wopts.field_selector = inf->field_selector;
        inf->watch = k8s_watch_start(inf->c, &inf->res, inf->ns, inf->rv, &inf->wopts,
                                     on_watch, inf);
        if (inf->watch)
            k8s__watch_disown(inf->watch);
    } else {
        k8s_watch_resume(inf->watch, inf->rv);
    }
}

static void on_list(const k8s_response *r, void *arg)
{
    list_ctx *x = arg;
    k8s_informer *inf = x->inf;
    k8s__op_del(x->c, &x->op);
    free(x);
    if (!inf)
        return; /* freed meanwhile */
    inf->listing = NULL;
    json_t *items = json_object_get(r->body, "items");
    const char *rv = k8s_meta_str(r->body, "resourceVersion");
    if (r->rc < 0 || !json_is_array(items) || !rv || strlen(rv) >= K8S_RV_MAX) {
        retry_list(inf);
        return;
    }
    inf->list_failures = 0;
    apply_list(inf, items, rv);
}

static void start_list(k8s_informer *inf)
{
    if (inf->listing)
        return;
    if (inf->watch)
        k8s_watch_stop(inf->watch);
    list_ctx *x = xcalloc(1, sizeof *x);
    x->c = inf->c;
    x->inf = inf;
    x->op.free = ctx_free;
    k8s_list_opts o = {
        .label_selector = inf->label_selector,
        .field_selector = inf->field_selector,
        .limit = inf->page_size,
    };
    if (k8s_list_all(inf->c, &inf->res, inf->ns, &o, on_list, x) < 0) {
        free(x);
        retry_list(inf);
        return;
    }
    k8s__op_add(inf->c, &x->op);
    inf->listing = x;
}

/* ---- watch ---- */

static void on_watch(k8s_watch *w, const k8s_watch_event *ev, void *arg)
{
    k8s_informer *inf = arg;
    char key[K8S_INFORMER_KEY_MAX];
    switch (ev->type) {
    case K8S_EV_ADDED:
    case K8S_EV_MODIFIED: {
        snprintf(inf->rv, sizeof inf->rv, "%s", ev->rv);
        inf->quick_expiries = 0;
        if (k8s_object_key(ev->object, key) < 0)
            return;
        json_t *old = json_incref(json_object_get(inf->cache, key));
        json_object_set(inf->cache, key, ev->object);
        inf->op.busy++;
        if (!old)
            report_add(inf, ev->object);
        else if (!same_version(old, ev->object))
            report_update(inf, old, ev->object);
        json_decref(old);
        k8s__op_leave(inf->c, &inf->op);
        return;
    }
    case K8S_EV_DELETED: {
        snprintf(inf->rv, sizeof inf->rv, "%s", ev->rv);
        inf->quick_expiries = 0;
        if (k8s_object_key(ev->object, key) < 0 || !json_object_get(inf->cache, key))
            return;
        json_object_del(inf->cache, key);
        inf->op.busy++;
        report_delete(inf, ev->object);
        k8s__op_leave(inf->c, &inf->op);
        return;
    }
    case K8S_EV_BOOKMARK:
        snprintf(inf->rv, sizeof inf->rv, "%s", ev->rv);
        return;
    case K8S_EV_EXPIRED:
        inf->st.relists++;
        /* A watch that expires again before any event: back off. */
        if (inf->quick_expiries++ == 0) {
            start_list(inf);
        } else {
            uint64_t delay = k8s_backoff_ms(inf->quick_expiries, inf->wopts.backoff_base_ms,
                                            inf->wopts.backoff_max_ms, K8S_BACKOFF_JITTER);
            ev_timer_start(k8s_client_loop(inf->c), &inf->timer, delay);
        }
        return;
    case K8S_EV_ERROR:
    case K8S_EV_RESTART:
        return;
    }
}

/* ---- public ---- */

k8s_informer *k8s_informer_new(k8s_client *c, const k8s_res *r, const char *ns,
                               const k8s_informer_opts *o, const k8s_informer_cbs *cbs,
                               void *arg)
{
    if (!c || !r || (ns && !k8s_name_valid(ns)))
        return NULL;
    k8s_informer *inf = xcalloc(1, sizeof *inf);
    inf->c = c;
    k8s__res_dup(&inf->res, r);
    inf->ns = ns ? xstrdup(ns) : NULL;
    if (o) {
        inf->label_selector = o->label_selector ? xstrdup(o->label_selector) : NULL;
        inf->field_selector = o->field_selector ? xstrdup(o->field_selector) : NULL;
        inf->page_size = o->page_size;
        inf->wopts.timeout_s = o->watch_timeout_s;
        inf->wopts.backoff_base_ms = o->backoff_base_ms;
        inf->wopts.backoff_max_ms = o->backoff_max_ms;
    }
    if (!inf->wopts.backoff_base_ms)
        inf->wopts.backoff_base_ms = K8S_BACKOFF_BASE_MS;
    if (!inf->wopts.backoff_max_ms)
        inf->wopts.backoff_max_ms = INFORMER_BACKOFF_MAX_MS;
    inf->cache = json_object();
    if (cbs)
        inf->cbs = *cbs;
    inf->arg = arg;
    inf->op.free = op_free;
    ev_timer_init(&inf->timer, on_timer, inf);
    k8s__op_add(c, &inf->op);
    /* From the loop, so no callback runs inside this call. */
    ev_timer_start(k8s_client_loop(c), &inf->timer, 0);
    return inf;
}

bool k8s_informer_synced(const k8s_informer *inf) { return inf->synced; }

const json_t *k8s_informer_get(const k8s_informer *inf, const char *ns, const char *name)
{
    char key[K8S_INFORMER_KEY_MAX];
    if (!k8s_name_valid(name) || (ns && !k8s_name_valid(ns)))
        return NULL;
    if (ns)
        snprintf(key, sizeof key, "%s/%s", ns, name);
    else
        snprintf(key, sizeof key, "%s", name);
    return json_object_get(inf->cache, key);
}

size_t k8s_informer_count(const k8s_informer *inf) { return json_object_size(inf->cache); }

void k8s_informer_foreach(const k8s_informer *inf,
                          void (*fn)(const char *key, const json_t *obj, void *arg), void *arg)
{
    const char *k;
    json_t *obj;
    json_object_foreach(inf->cache, k, obj)
        fn(k, obj, arg);
}

const char *k8s_informer_rv(const k8s_informer *inf) { return inf->rv; }

void k8s_informer_stats_get(const k8s_informer *inf, k8s_informer_stats *out)
{
    *out = inf->st;
    if (inf->watch)
        k8s_watch_stats_get(inf->watch, &out->watch);
    else
        memset(&out->watch, 0, sizeof out->watch);
}

void k8s_informer_resume_from(k8s_informer *inf, const char *resource_version)
{
    if (inf->watch && !inf->listing)
        k8s_watch_resume(inf->watch, resource_version);
}
