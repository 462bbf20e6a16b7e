/* test_k8s_watch.c — watches and informers against the real kube-apiserver
 * ($KUBECONFIG; skipped without it): events in order, resumption across
 * stream ends, a real 410 from the API server and the relist it causes
 * (with deletes synthesised for objects that vanished unseen), the cache
 * against a fresh list after churn, and — when $K8S_IT_RESTART_APISERVER
 * names a command that restarts kube-apiserver — surviving a restart.
 *
 * A real 410: the API server's watch cache for a custom resource starts at
 * the resourceVersion current when it was created, so a watch of
 * LaunchPolicies from resourceVersion "1" is answered with an ERROR event,
 * code 410, "too old resource version". */
#include "test.h"
#include "test_k8s_helpers.h"
#include "k8s_env.h"

#include <stdlib.h>
#include <string.h>

#define EVENTS_MAX 64

typedef struct events {
    int n;
    k8s_event_type type[EVENTS_MAX];
    char name[EVENTS_MAX][64];
    char rv[EVENTS_MAX][K8S_RV_MAX];
    char data[EVENTS_MAX][32];
    int expired, restarts;
} events;

static void events_cb(k8s_watch *w, const k8s_watch_event *ev, void *arg)
{
    events *e = arg;
    if (ev->type == K8S_EV_EXPIRED)
        e->expired++;
    if (ev->type == K8S_EV_RESTART)
        e->restarts++;
    if (ev->type > K8S_EV_DELETED || e->n >= EVENTS_MAX)
        return;
    int i = e->n++;
    e->type[i] = ev->type;
    snprintf(e->name[i], sizeof e->name[i], "%s", k8s_meta_str(ev->object, "name"));
    snprintf(e->rv[i], sizeof e->rv[i], "%s", ev->rv);
    const char *v = json_string_value(json_object_get(json_object_get(ev->object, "data"), "v"));
    snprintf(e->data[i], sizeof e->data[i], "%s", v ? v : "");
}

/* The resourceVersion of a fresh list of r in ns (the caller frees it). */
static char *list_rv(kenv *e, const k8s_res *r)
{
    tk_rec rec = { 0 };
    char *rv = NULL;
    if (k8s_list_all(e->c, r, e->ns, NULL, tk_rec_cb, &rec) == 0 && tk_await(e->loop, &rec) == 0)
        rv = xstrdup(k8s_meta_str(rec.body, "resourceVersion"));
    tk_rec_clear(&rec);
    return rv;
}

/* A watch of the ConfigMaps in e's namespace from the resourceVersion of a
 * fresh list, its events into ev; NULL if the list or the start failed. */
static k8s_watch *watch_from_list(kenv *e, const k8s_watch_opts *o, events *ev)
{
    char *rv = list_rv(e, &tk_configmaps);
    k8s_watch *w = rv ? k8s_watch_start(e->c, &tk_configmaps, e->ns, rv, o, events_cb, ev) : NULL;
    free(rv);
    return w;
}

static int patch_v(kenv *e, const char *name, const char *v)
{
    tk_rec r = { 0 };
    json_t *p = json_pack("{s:{s:s}}", "data", "v", v);
    int rc = k8s_patch(e->c, &tk_configmaps, e->ns, name, NULL, K8S_PATCH_MERGE, p, tk_rec_cb, &r);
    json_decref(p);
    if (rc == 0)
        rc = tk_await(e->loop, &r);
    tk_rec_clear(&r);
    return rc;
}

TEST(k8s_watch_sees_added_modified_deleted_in_order)
{
    kenv e;
    if (!kenv_up(&e, false))
        return;
    events ev = { 0 };
    k8s_watch *w = watch_from_list(&e, NULL, &ev);
    REQUIRE(w);
    REQUIRE(tk_create(e.loop, e.c, &tk_configmaps, e.ns, tk_configmap("a", "v", "1")) == 0);
    REQUIRE(patch_v(&e, "a", "2") == 0);
    REQUIRE(patch_v(&e, "a", "3") == 0);
    REQUIRE(tk_delete(e.loop, e.c, &tk_configmaps, e.ns, "a") == 0);
    CHECK(TK_WAIT(e.loop, ev.n >= 4));
    REQUIRE(ev.n == 4);
    CHECK_INT(ev.type[0], K8S_EV_ADDED);
    CHECK_INT(ev.type[1], K8S_EV_MODIFIED);
    CHECK_INT(ev.type[2], K8S_EV_MODIFIED);
    CHECK_INT(ev.type[3], K8S_EV_DELETED);
    CHECK_STR(ev.data[0], "1");
    CHECK_STR(ev.data[1], "2");
    CHECK_STR(ev.data[2], "3");
    for (int i = 0; i < 4; i++)
        CHECK_STR(ev.name[i], "a");
    for (int i = 1; i < 4; i++)
        CHECK(strtoull(ev.rv[i], NULL, 10) > strtoull(ev.rv[i - 1], NULL, 10));
    CHECK_STR(k8s_watch_rv(w), ev.rv[3]);
    k8s_watch_free(w);
    kenv_down(&e);
}

TEST(k8s_watch_resumes_across_stream_ends_without_loss)
{
    kenv e;
    if (!kenv_up(&e, false))
        return;
    events ev = { 0 };
    /* The server ends each stream after a second; changes keep coming. */
    k8s_watch *w = watch_from_list(&e, &(k8s_watch_opts){ .timeout_s = 1 }, &ev);
    REQUIRE(w);
    REQUIRE(tk_create(e.loop, e.c, &tk_configmaps, e.ns, tk_configmap("r", "v", "0")) == 0);
    char v[16];
    for (int i = 1; i <= 8; i++) {
        tk_run_for(e.loop, 400);
        snprintf(v, sizeof v, "%d", i);
        REQUIRE(patch_v(&e, "r", v) == 0);
    }
    CHECK(TK_WAIT(e.loop, ev.n >= 9));
    tk_run_for(e.loop, 300);
    CHECK_INT(ev.n, 9); /* every change once: none lost, none repeated */
    for (int i = 0; i < ev.n && i < 9; i++) {
        snprintf(v, sizeof v, "%d", i);
        CHECK_STR(ev.data[i], v);
    }
    k8s_watch_stats st;
    k8s_watch_stats_get(w, &st);
    CHECK(st.restarts >= 2);
    CHECK(ev.restarts >= 2);
    CHECK_INT(st.failures, 0);
    k8s_watch_free(w);
    kenv_down(&e);
}

TEST(k8s_watch_too_old_version_is_a_real_410)
{
    kenv e;
    if (!kenv_up(&e, true))
        return;
    events ev = { 0 };
    k8s_watch *w = k8s_watch_start(e.c, &tk_launchpolicies, e.ns, "1", NULL, events_cb, &ev);
    REQUIRE(w);
    CHECK(TK_WAIT(e.loop, ev.expired == 1));
    CHECK(!k8s_watch_running(w));
    CHECK_INT(ev.n, 0);
    /* Resumed from a current version it works. */
    char *rv = list_rv(&e, &tk_launchpolicies);
    REQUIRE(rv);
    k8s_watch_resume(w, rv);
    json_t *lp = json_pack("{s:s,s:s,s:{s:s},s:{s:{s:s}}}", "apiVersion", "liftoff.dev/v1alpha1",
                           "kind", "LaunchPolicy", "metadata", "name", "p", "spec", "targetRef",
                           "name", "web");
    REQUIRE(tk_create(e.loop, e.c, &tk_launchpolicies, e.ns, lp) == 0);
    CHECK(TK_WAIT(e.loop, ev.n == 1));
    CHECK_INT(ev.type[0], K8S_EV_ADDED);
    CHECK_INT(ev.expired, 1);
    free(rv);
    k8s_watch_free(w);
    kenv_down(&e);
}

/* ---- informers ---- */

typedef struct seen {
    int adds, updates, deletes, synced;
    json_t *deleted;        /* names of deleted objects */
} seen;

static void on_add(k8s_informer *inf, const json_t *obj, void *arg) { ((seen *)arg)->adds++; }

static void on_update(k8s_informer *inf, const json_t *o, const json_t *n, void *arg)
{
    ((seen *)arg)->updates++;
}

static void on_delete(k8s_informer *inf, const json_t *obj, void *arg)
{
    seen *s = arg;
    s->deletes++;
    if (!s->deleted)
        s->deleted = json_object();
    json_object_set_new(s->deleted, k8s_meta_str(obj, "name"), json_true());
}

static void on_synced(k8s_informer *inf, void *arg) { ((seen *)arg)->synced++; }

static const k8s_informer_cbs cbs = { on_add, on_update, on_delete, on_synced };

/* Whether the informer's cache holds exactly the objects (name and
 * resourceVersion) of a fresh list. */
static bool cache_matches_list(kenv *e, k8s_informer *inf, const k8s_res *r)
{
    tk_rec rec = { 0 };
    bool ok = false;
    if (k8s_list_all(e->c, r, e->ns, NULL, tk_rec_cb, &rec) < 0 || tk_await(e->loop, &rec) < 0)
        goto out;
    json_t *items = json_object_get(rec.body, "items");
    if (json_array_size(items) != k8s_informer_count(inf))
        goto out;
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) {
        const json_t *c = k8s_informer_get(inf, e->ns, k8s_meta_str(it, "name"));
        if (!c || strcmp(k8s_meta_str(c, "resourceVersion"), k8s_meta_str(it, "resourceVersion")))
            goto out;
    }
    ok = true;
out:
    tk_rec_clear(&rec);
    return ok;
}

/* Runs the loop until the cache matches a fresh list (each comparison
 * lists; between them the loop runs a little). */
static bool converges(kenv *e, k8s_informer *inf, const k8s_res *r)
{
    uint64_t end = lo_mono_ms() + TK_WAIT_MAX_MS;
    while (lo_mono_ms() < end) {
        if (cache_matches_list(e, inf, r))
            return true;
        tk_run_for(e->loop, 100);
    }
    return false;
}

#define CHURN_N 30

/* Counts the cache keys of the churned objects (the namespace also holds
 * kube-root-ca.crt, which the controller-manager adds when it gets to it). */
static void count_churn(const char *key, const json_t *obj, void *arg)
{
    if (strstr(key, "/churn-"))
        (*(int *)arg)++;
}

TEST(k8s_informer_cache_equals_a_fresh_list_after_churn)
{
    kenv e;
    if (!kenv_up(&e, false))
        return;
    seen s = { 0 };
    k8s_informer_opts o = { .page_size = 7 };
    k8s_informer *inf = k8s_informer_new(e.c, &tk_configmaps, e.ns, &o, &cbs, &s);
    REQUIRE(inf);
    CHECK(!k8s_informer_synced(inf));
    CHECK(TK_WAIT(e.loop, k8s_informer_synced(inf)));
    CHECK_INT(s.synced, 1);

    /* Churn, all requests in flight at once: creates, updates, deletes. */
    tk_rec recs[CHURN_N * 2];
    memset(recs, 0, sizeof recs);
    for (int i = 0; i < CHURN_N; i++) {
        char name[32];
        snprintf(name, sizeof name, "churn-%02d", i);
        json_t *cm = tk_configmap(name, "v", "0");
        REQUIRE(k8s_create(e.c, &tk_configmaps, e.ns, cm, tk_rec_cb, &recs[i]) == 0);
        json_decref(cm);
    }
    for (int i = 0; i < CHURN_N; i++)
        REQUIRE(tk_await(e.loop, &recs[i]) == 0);
    for (int i = 0; i < CHURN_N; i++) {
        char name[32];
        snprintf(name, sizeof name, "churn-%02d", i);
        if (i % 3 == 0) {
            REQUIRE(k8s_delete(e.c, &tk_configmaps, e.ns, name, tk_rec_cb, &recs[CHURN_N + i]) == 0);
        } else {
            json_t *p = json_pack("{s:{s:s}}", "data", "v", "1");
            REQUIRE(k8s_patch(e.c, &tk_configmaps, e.ns, name, NULL, K8S_PATCH_MERGE, p,
                              tk_rec_cb, &recs[CHURN_N + i]) == 0);
            json_decref(p);
        }
    }
    for (int i = 0; i < CHURN_N; i++)
        REQUIRE(tk_await(e.loop, &recs[CHURN_N + i]) == 0);
    for (int i = 0; i < CHURN_N * 2; i++)
        tk_rec_clear(&recs[i]);

    CHECK(converges(&e, inf, &tk_configmaps));
    int churned = 0;
    k8s_informer_foreach(inf, count_churn, &churned);
    CHECK_INT(churned, CHURN_N - CHURN_N / 3);
    CHECK(s.adds >= CHURN_N);
    CHECK_INT(s.deletes, CHURN_N / 3);
    CHECK(s.updates >= CHURN_N - CHURN_N / 3);
    const json_t *kept = k8s_informer_get(inf, e.ns, "churn-01");
    CHECK(kept && strcmp(json_string_value(json_object_get(json_object_get(kept, "data"), "v")), "1") == 0);
    CHECK(k8s_informer_get(inf, e.ns, "churn-00") == NULL);
    k8s_informer_stats st;
    k8s_informer_stats_get(inf, &st);
    CHECK_INT(st.lists, 1);
    CHECK_INT(st.relists, 0);
    json_decref(s.deleted);
    k8s_informer_free(inf);
    kenv_down(&e);
}

static json_t *lp(const char *name, int max)
{
    return json_pack("{s:s,s:s,s:{s:s},s:{s:{s:s},s:i}}", "apiVersion", "liftoff.dev/v1alpha1",
                     "kind", "LaunchPolicy", "metadata", "name", name, "spec", "targetRef",
                     "name", "web", "maxReplicas", max);
}

TEST(k8s_informer_relists_on_410_and_synthesises_deletes)
{
    kenv e;
    if (!kenv_up(&e, true))
        return;
    const char *names[] = { "p0", "p1", "p2", "p3", "p4" };
    for (int i = 0; i < 5; i++)
        REQUIRE(tk_create(e.loop, e.c, &tk_launchpolicies, e.ns, lp(names[i], 10)) == 0);
    seen s = { 0 };
    k8s_informer *inf = k8s_informer_new(e.c, &tk_launchpolicies, e.ns, NULL, &cbs, &s);
    REQUIRE(inf);
    CHECK(TK_WAIT(e.loop, k8s_informer_synced(inf)));
    CHECK_INT(k8s_informer_count(inf), 5);
    CHECK_INT(s.adds, 5);

    /* Drop the watch (it continues from "1" when the loop runs next) and
     * change things meanwhile on another loop, so this informer cannot see
     * the events: only the relist after the 410 can tell it. */
    k8s_informer_resume_from(inf, "1");
    {
        kenv other = { .loop = ev_loop_new() };
        other.c = tk_client(other.loop);
        REQUIRE(other.c);
        other.ns = e.ns;
        CHECK_INT(tk_delete(other.loop, other.c, &tk_launchpolicies, e.ns, "p1"), 0);
        CHECK_INT(tk_delete(other.loop, other.c, &tk_launchpolicies, e.ns, "p3"), 0);
        CHECK_INT(tk_create(other.loop, other.c, &tk_launchpolicies, e.ns, lp("p5", 10)), 0);
        tk_rec r = { 0 };
        json_t *p = json_pack("{s:{s:i}}", "spec", "maxReplicas", 30);
        REQUIRE(k8s_patch(other.c, &tk_launchpolicies, e.ns, "p0", NULL, K8S_PATCH_MERGE, p,
                          tk_rec_cb, &r) == 0);
        CHECK_INT(tk_await(other.loop, &r), 0);
        tk_rec_clear(&r);
        json_decref(p);
        k8s_client_free(other.c);
        ev_loop_free(other.loop);
    }
    CHECK(TK_WAIT(e.loop, s.synced == 2));
    k8s_informer_stats st;
    k8s_informer_stats_get(inf, &st);
    CHECK_INT(st.relists, 1);
    CHECK_INT(st.watch.expired, 1);
    CHECK_INT(st.synthesized_deletes, 2);
    CHECK_INT(s.deletes, 2);
    CHECK(json_object_get(s.deleted, "p1") && json_object_get(s.deleted, "p3"));
    CHECK_INT(s.adds, 6);      /* p5 */
    CHECK_INT(s.updates, 1);   /* p0 */
    CHECK_INT(k8s_informer_count(inf), 4);
    const json_t *p0 = k8s_informer_get(inf, e.ns, "p0");
    CHECK(p0 && json_integer_value(json_object_get(json_object_get(p0, "spec"), "maxReplicas")) == 30);
    /* and it keeps watching after the relist */
    REQUIRE(tk_create(e.loop, e.c, &tk_launchpolicies, e.ns, lp("p6", 10)) == 0);
    CHECK(TK_WAIT(e.loop, s.adds == 7));
    CHECK(converges(&e, inf, &tk_launchpolicies));
    json_decref(s.deleted);
    k8s_informer_free(inf);
    kenv_down(&e);
}

typedef struct freer {
    k8s_informer *inf;
    int adds;
} freer;

static void free_on_add(k8s_informer *inf, const json_t *obj, void *arg)
{
    freer *f = arg;
    f->adds++;
    k8s_informer_free(inf);
    f->inf = NULL;
}

TEST(k8s_informer_freed_from_its_callback)
{
    kenv e;
    if (!kenv_up(&e, false))
        return;
    static const k8s_informer_cbs freeing = { .on_add = free_on_add };
    json_t *cm;
    /* From on_add while a list is applied: the other object is not reported. */
    for (int i = 0; i < 2; i++) {
        cm = tk_configmap(i ? "b" : "a", "v", "1");
        json_object_set_new(json_object_get(cm, "metadata"), "labels", json_pack("{s:s}", "t", "list"));
        REQUIRE(tk_create(e.loop, e.c, &tk_configmaps, e.ns, cm) == 0);
    }
    freer f = { 0 };
    k8s_informer_opts o = { .label_selector = "t=list" };
    f.inf = k8s_informer_new(e.c, &tk_configmaps, e.ns, &o, &freeing, &f);
    REQUIRE(f.inf);
    CHECK(TK_WAIT(e.loop, f.adds == 1));
    tk_run_for(e.loop, 200);
    CHECK_INT(f.adds, 1);
    CHECK(f.inf == NULL);

    /* From on_add while a watch event is delivered. */
    freer g = { 0 };
    k8s_informer_opts ow = { .label_selector = "t=watch" };
    g.inf = k8s_informer_new(e.c, &tk_configmaps, e.ns, &ow, &freeing, &g);
    REQUIRE(g.inf);
    CHECK(TK_WAIT(e.loop, k8s_informer_synced(g.inf)));
    for (int i = 0; i < 2; i++) {
        cm = tk_configmap(i ? "d" : "c", "v", "1");
        json_object_set_new(json_object_get(cm, "metadata"), "labels", json_pack("{s:s}", "t", "watch"));
        REQUIRE(tk_create(e.loop, e.c, &tk_configmaps, e.ns, cm) == 0);
    }
    CHECK(TK_WAIT(e.loop, g.adds == 1));
    tk_run_for(e.loop, 200);
    CHECK_INT(g.adds, 1);
    kenv_down(&e);
}

/* ---- kube-apiserver restart ---- */

TEST(k8s_informer_and_watch_survive_an_apiserver_restart)
{
    const char *restart = getenv("K8S_IT_RESTART_APISERVER");
    if (!restart || !*restart) {
        test_skip("K8S_IT_RESTART_APISERVER is not set");
        return;
    }
    kenv e;
    if (!kenv_up(&e, false))
        return;
    for (int i = 0; i < 5; i++) {
        char name[16];
        snprintf(name, sizeof name, "s%d", i);
        REQUIRE(tk_create(e.loop, e.c, &tk_configmaps, e.ns, tk_configmap(name, "v", "0")) == 0);
    }
    seen s = { 0 };
    k8s_informer *inf = k8s_informer_new(e.c, &tk_configmaps, e.ns, NULL, &cbs, &s);
    REQUIRE(inf);
    char *rv0 = list_rv(&e, &tk_configmaps);
    events ev = { 0 };
    k8s_watch *w = k8s_watch_start(e.c, &tk_configmaps, e.ns, rv0, NULL, events_cb, &ev);
    REQUIRE(w);
    CHECK(TK_WAIT(e.loop, k8s_informer_synced(inf)));
    REQUIRE(patch_v(&e, "s0", "before") == 0);
    CHECK(TK_WAIT(e.loop, ev.n == 1));

    /* The restart runs while this loop stands still; both streams break. */
    uint64_t t0 = lo_mono_ms();
    CHECK_INT(system(restart), 0);
    fprintf(stderr, "    restart took %llu ms\n", (unsigned long long)(lo_mono_ms() - t0));

    /* After it: changes made now must arrive, by resuming or relisting. */
    REQUIRE(patch_v(&e, "s1", "after") == 0);
    REQUIRE(tk_delete(e.loop, e.c, &tk_configmaps, e.ns, "s2") == 0);
    CHECK(converges(&e, inf, &tk_configmaps));
    fprintf(stderr, "    informer converged %llu ms after the restart\n",
            (unsigned long long)(lo_mono_ms() - t0));
    const json_t *s1 = k8s_informer_get(inf, e.ns, "s1");
    CHECK(s1 && strcmp(json_string_value(json_object_get(json_object_get(s1, "data"), "v")), "after") == 0);
    CHECK(k8s_informer_get(inf, e.ns, "s2") == NULL);
    k8s_informer_stats st;
    k8s_informer_stats_get(inf, &st);
    CHECK(st.watch.streams >= 2); /* it reconnected */
    fprintf(stderr, "    informer after restart: streams %llu, failures %llu, relists %llu\n",
            (unsigned long long)st.watch.streams, (unsigned long long)st.watch.failures,
            (unsigned long long)st.relists);

    /* The plain watch either resumed (and saw both changes) or was told
     * its version is too old (then its owner relists). */
    CHECK(TK_WAIT(e.loop, ev.n >= 3 || ev.expired >= 1));
    fprintf(stderr, "    watch: %d events, %d expired, %llu ms after the restart\n", ev.n,
            ev.expired, (unsigned long long)(lo_mono_ms() - t0));
    if (!ev.expired) {
        CHECK_STR(ev.data[1], "after");
        CHECK_INT(ev.type[2], K8S_EV_DELETED);
        CHECK_STR(ev.name[2], "s2");
    }
    k8s_watch_free(w);
    free(rv0);
    json_decref(s.deleted);
    k8s_informer_free(inf);
    kenv_down(&e);
}
