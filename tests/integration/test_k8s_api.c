/* test_k8s_api.c — the Kubernetes client's verbs against the real
 * kube-apiserver ($KUBECONFIG; skipped without it): CRUD and both patch
 * kinds on ConfigMaps, paginated lists, the status subresource of a
 * LaunchPolicy, the scale subresource of a Deployment, and read-modify-write
 * under real 409 Conflicts. */
#include "test.h"
#include "test_k8s_helpers.h"
#include "k8s_env.h"

#include <stdlib.h>
#include <string.h>

static const char *data_of(const json_t *cm, const char *key)
{
    return json_string_value(json_object_get(json_object_get(cm, "data"), key));
}

TEST(k8s_api_configmap_crud_and_patches)
{
    kenv e;
    if (!kenv_up(&e, false))
        return;
    tk_rec r = { 0 };
    json_t *cm = tk_configmap("settings", "mode", "calm");
    REQUIRE(k8s_create(e.c, &tk_configmaps, e.ns, cm, tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(e.loop, &r), 0);
    CHECK_INT(r.status, 201);
    char *rv1 = xstrdup(k8s_meta_str(r.body, "resourceVersion"));
    tk_rec_clear(&r);

    /* Creating it again: AlreadyExists, with the server's message. */
    REQUIRE(k8s_create(e.c, &tk_configmaps, e.ns, cm, tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(e.loop, &r), K8S_EEXISTS);
    CHECK_INT(r.status, 409);
    CHECK_STR(r.reason, "AlreadyExists");
    CHECK(strstr(r.message, "\"settings\" already exists") != NULL);
    tk_rec_clear(&r);
    json_decref(cm);

    REQUIRE(k8s_get(e.c, &tk_configmaps, e.ns, "settings", tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(e.loop, &r), 0);
    CHECK_STR(data_of(r.body, "mode"), "calm");
    json_t *obj = json_deep_copy(r.body);
    tk_rec_clear(&r);

    /* update (PUT) with the current resourceVersion */
    json_object_set_new(json_object_get(obj, "data"), "mode", json_string("busy"));
    REQUIRE(k8s_update(e.c, &tk_configmaps, e.ns, obj, NULL, tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(e.loop, &r), 0);
    CHECK_STR(data_of(r.body, "mode"), "busy");
    CHECK(strcmp(k8s_meta_str(r.body, "resourceVersion"), rv1) != 0);
    tk_rec_clear(&r);
    /* ... and again with the now stale one: a real 409 Conflict */
    json_object_set_new(json_object_get(obj, "data"), "mode", json_string("stale"));
    REQUIRE(k8s_update(e.c, &tk_configmaps, e.ns, obj, NULL, tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(e.loop, &r), K8S_ECONFLICT);
    CHECK_STR(r.reason, "Conflict");
    tk_rec_clear(&r);
    json_decref(obj);

    /* merge patch: add a key, remove one with null */
    json_t *mp = json_pack("{s:{s:s,s:n}}", "data", "extra", "1", "mode");
    REQUIRE(k8s_patch(e.c, &tk_configmaps, e.ns, "settings", NULL, K8S_PATCH_MERGE, mp,
                      tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(e.loop, &r), 0);
    CHECK_STR(data_of(r.body, "extra"), "1");
    CHECK(data_of(r.body, "mode") == NULL);
    tk_rec_clear(&r);
    json_decref(mp);

    /* JSON patch: test + replace succeeds; a failing test op changes nothing */
    json_t *jp = json_pack("[{s:s,s:s,s:s},{s:s,s:s,s:s}]", "op", "test", "path", "/data/extra",
                           "value", "1", "op", "replace", "path", "/data/extra", "value", "2");
    REQUIRE(k8s_patch(e.c, &tk_configmaps, e.ns, "settings", NULL, K8S_PATCH_JSON, jp,
                      tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(e.loop, &r), 0);
    CHECK_STR(data_of(r.body, "extra"), "2");
    tk_rec_clear(&r);
    REQUIRE(k8s_patch(e.c, &tk_configmaps, e.ns, "settings", NULL, K8S_PATCH_JSON, jp,
                      tk_rec_cb, &r) == 0); /* tests for "1", which is gone */
    CHECK(tk_await(e.loop, &r) < 0);
    CHECK(r.status == 422 || r.status == 409);
    tk_rec_clear(&r);
    json_decref(jp);
    REQUIRE(k8s_get(e.c, &tk_configmaps, e.ns, "settings", tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(e.loop, &r), 0);
    CHECK_STR(data_of(r.body, "extra"), "2");
    tk_rec_clear(&r);

    /* delete; then it is gone, and deleting again is NotFound */
    CHECK_INT(tk_delete(e.loop, e.c, &tk_configmaps, e.ns, "settings"), 0);
    REQUIRE(k8s_get(e.c, &tk_configmaps, e.ns, "settings", tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(e.loop, &r), K8S_ENOTFOUND);
    CHECK_STR(r.reason, "NotFound");
    tk_rec_clear(&r);
    CHECK_INT(tk_delete(e.loop, e.c, &tk_configmaps, e.ns, "settings"), K8S_ENOTFOUND);
    free(rv1);
    kenv_down(&e);
}

#define PAGED_N 25

TEST(k8s_api_list_pages_with_limit_and_continue)
{
    kenv e;
    if (!kenv_up(&e, false))
        return;
    for (int i = 0; i < PAGED_N; i++) {
        char name[32];
        snprintf(name, sizeof name, "page-%02d", i);
        json_t *cm = tk_configmap(name, "i", "x");
        json_object_set_new(json_object_get(cm, "metadata"), "labels",
                            json_pack("{s:s}", "set", i % 5 == 0 ? "fifth" : "rest"));
        REQUIRE(tk_create(e.loop, e.c, &tk_configmaps, e.ns, cm) == 0);
    }
    /* Page by page by hand: 10, 10, 5, and the token chains them. */
    k8s_list_opts o = { .limit = 10, .label_selector = "set" };
    char *cont = NULL;
    int pages = 0, total = 0;
    json_t *names = json_object();
    do {
        tk_rec r = { 0 };
        o.continue_token = cont;
        REQUIRE(k8s_list(e.c, &tk_configmaps, e.ns, &o, tk_rec_cb, &r) == 0);
        REQUIRE(tk_await(e.loop, &r) == 0);
        json_t *items = json_object_get(r.body, "items");
        pages++;
        CHECK_INT(json_array_size(items), pages < 3 ? 10 : 5);
        total += (int)json_array_size(items);
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it)
            json_object_set_new(names, k8s_meta_str(it, "name"), json_true());
        free(cont);
        const char *c = json_string_value(json_object_get(json_object_get(r.body, "metadata"), "continue"));
        cont = c && *c ? xstrdup(c) : NULL;
        tk_rec_clear(&r);
    } while (cont && pages < 10);
    CHECK_INT(pages, 3);
    CHECK_INT(total, PAGED_N);
    CHECK_INT(json_object_size(names), PAGED_N); /* no duplicates */
    json_decref(names);

    /* k8s_list_all joins the pages into one List. */
    tk_rec r = { 0 };
    k8s_list_opts all = { .limit = 10, .label_selector = "set" };
    REQUIRE(k8s_list_all(e.c, &tk_configmaps, e.ns, &all, tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(e.loop, &r), 0);
    CHECK_INT(json_array_size(json_object_get(r.body, "items")), PAGED_N);
    CHECK(k8s_meta_str(r.body, "resourceVersion") != NULL);
    CHECK(k8s_meta_str(r.body, "continue") == NULL);
    CHECK_STR(json_string_value(json_object_get(r.body, "kind")), "ConfigMapList");
    CHECK(r.attempts >= 3);
    tk_rec_clear(&r);
    /* with a label selector */
    k8s_list_opts fifth = { .limit = 2, .label_selector = "set=fifth" };
    REQUIRE(k8s_list_all(e.c, &tk_configmaps, e.ns, &fifth, tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(e.loop, &r), 0);
    CHECK_INT(json_array_size(json_object_get(r.body, "items")), PAGED_N / 5);
    tk_rec_clear(&r);
    kenv_down(&e);
}

static json_t *launchpolicy(const char *name, const char *target)
{
    return json_pack("{s:s,s:s,s:{s:s},s:{s:{s:s},s:i,s:i}}", "apiVersion",
                     "liftoff.dev/v1alpha1", "kind", "LaunchPolicy", "metadata", "name", name,
                     "spec", "targetRef", "name", target, "minReplicas", 2, "maxReplicas", 20);
}

/* k8s_mutate_fn: sets status.desiredReplicas to *(int *)arg. */
static int set_desired(json_t *obj, void *arg)
{
    json_t *st = json_object_get(obj, "status");
    if (!st) {
        st = json_object();
        json_object_set_new(obj, "status", st);
    }
    json_object_set_new(st, "desiredReplicas", json_integer(*(int *)arg));
    return 0;
}

TEST(k8s_api_launchpolicy_status_subresource)
{
    kenv e;
    if (!kenv_up(&e, true))
        return;
    REQUIRE(tk_create(e.loop, e.c, &tk_launchpolicies, e.ns, launchpolicy("web", "web")) == 0);
    tk_rec r = { 0 };
    REQUIRE(k8s_get(e.c, &tk_launchpolicies, e.ns, "web", tk_rec_cb, &r) == 0);
    REQUIRE(tk_await(e.loop, &r) == 0);
    /* The server filled in the defaults. */
    CHECK_STR(json_string_value(json_object_get(json_object_get(r.body, "spec"), "mode")), "Active");
    json_t *obj = json_deep_copy(r.body);
    tk_rec_clear(&r);

    /* PUT .../status writes the status and ignores the spec. */
    json_object_set_new(obj, "status",
                        json_pack("{s:i,s:f,s:i,s:i}", "observedGeneration", 1, "factor", 4.5,
                                  "desiredReplicas", 9, "currentReplicas", 2));
    json_object_set_new(json_object_get(obj, "spec"), "maxReplicas", json_integer(99));
    REQUIRE(k8s_update(e.c, &tk_launchpolicies, e.ns, obj, "status", tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(e.loop, &r), 0);
    json_t *spec = json_object_get(r.body, "spec"), *st = json_object_get(r.body, "status");
    CHECK_INT(json_integer_value(json_object_get(spec, "maxReplicas")), 20);
    CHECK_INT(json_integer_value(json_object_get(st, "desiredReplicas")), 9);
    CHECK(json_real_value(json_object_get(st, "factor")) == 4.5);
    tk_rec_clear(&r);
    json_decref(obj);

    /* A merge patch on the status subresource. */
    json_t *p = json_pack("{s:{s:i}}", "status", "currentReplicas", 9);
    REQUIRE(k8s_patch(e.c, &tk_launchpolicies, e.ns, "web", "status", K8S_PATCH_MERGE, p,
                      tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(e.loop, &r), 0);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(r.body, "status"), "currentReplicas")), 9);
    tk_rec_clear(&r);
    json_decref(p);

    /* The main resource ignores status. */
    json_t *p2 = json_pack("{s:{s:i}}", "status", "desiredReplicas", 1);
    REQUIRE(k8s_patch(e.c, &tk_launchpolicies, e.ns, "web", NULL, K8S_PATCH_MERGE, p2,
                      tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(e.loop, &r), 0);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(r.body, "status"), "desiredReplicas")), 9);
    tk_rec_clear(&r);
    json_decref(p2);

    /* k8s_modify on the status. */
    int want = 12;
    REQUIRE(k8s_modify(e.c, &tk_launchpolicies, e.ns, "web", "status", set_desired, &want,
                       tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(e.loop, &r), 0);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(r.body, "status"), "desiredReplicas")), 12);
    tk_rec_clear(&r);

    /* The CRD's validation reaches the client as a 422 naming the field. */
    json_t *bad = json_pack("{s:{s:i}}", "spec", "minReplicas", 50);
    REQUIRE(k8s_patch(e.c, &tk_launchpolicies, e.ns, "web", NULL, K8S_PATCH_MERGE, bad,
                      tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(e.loop, &r), K8S_EBADREQUEST);
    CHECK_INT(r.status, 422);
    CHECK(strstr(r.message, "spec.minReplicas must not exceed spec.maxReplicas") != NULL);
    tk_rec_clear(&r);
    json_decref(bad);
    kenv_down(&e);
}

static int set_scale_spec(json_t *scale, void *arg)
{
    json_object_set_new(json_object_get(scale, "spec"), "replicas", json_integer(*(int *)arg));
    return 0;
}

TEST(k8s_api_deployment_scale_subresource)
{
    kenv e;
    if (!kenv_up(&e, false))
        return;
    json_t *d = json_pack(
        "{s:s,s:s,s:{s:s},s:{s:i,s:{s:{s:s}},s:{s:{s:{s:s}},s:{s:[{s:s,s:s}]}}}}", "apiVersion",
        "apps/v1", "kind", "Deployment", "metadata", "name", "web", "spec", "replicas", 1,
        "selector", "matchLabels", "app", "web", "template", "metadata", "labels", "app", "web",
        "spec", "containers", "name", "web", "image", "registry.invalid/liftoff/none:0");
    REQUIRE(tk_create(e.loop, e.c, &tk_deployments, e.ns, d) == 0);
    tk_rec r = { 0 };
    REQUIRE(k8s_get_scale(e.c, &tk_deployments, e.ns, "web", tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(e.loop, &r), 0);
    CHECK_STR(json_string_value(json_object_get(r.body, "kind")), "Scale");
    CHECK_INT(json_integer_value(json_object_get(json_object_get(r.body, "spec"), "replicas")), 1);
    tk_rec_clear(&r);

    REQUIRE(k8s_set_scale(e.c, &tk_deployments, e.ns, "web", 5, tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(e.loop, &r), 0);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(r.body, "spec"), "replicas")), 5);
    tk_rec_clear(&r);
    REQUIRE(k8s_get(e.c, &tk_deployments, e.ns, "web", tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(e.loop, &r), 0);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(r.body, "spec"), "replicas")), 5);
    tk_rec_clear(&r);

    /* read-modify-write through the scale subresource */
    int want = 3;
    REQUIRE(k8s_modify(e.c, &tk_deployments, e.ns, "web", "scale", set_scale_spec, &want,
                       tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(e.loop, &r), 0);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(r.body, "spec"), "replicas")), 3);
    tk_rec_clear(&r);
    /* scale of something that does not exist */
    REQUIRE(k8s_set_scale(e.c, &tk_deployments, e.ns, "nope", 2, tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(e.loop, &r), K8S_ENOTFOUND);
    tk_rec_clear(&r);
    kenv_down(&e);
}

/* ---- conflicts ---- */

typedef struct stale {
    const char *old_rv;     /* written instead of the fresh version ... */
    int stale_calls;        /* ... this many times */
    int calls;
} stale;

/* Appends "x" to data.log; the first stale_calls times it also puts back
 * an old resourceVersion, so the API server answers 409 Conflict. */
static int append_x(json_t *obj, void *arg)
{
    stale *s = arg;
    s->calls++;
    json_t *data = json_object_get(obj, "data");
    const char *log = json_string_value(json_object_get(data, "log"));
    char *next = xasprintf("%sx", log ? log : "");
    json_object_set_new(data, "log", json_string(next));
    free(next);
    if (s->calls <= s->stale_calls)
        json_object_set_new(json_object_get(obj, "metadata"), "resourceVersion",
                            json_string(s->old_rv));
    return 0;
}

static int unchanged(json_t *obj, void *arg) { return K8S_UNCHANGED; }

/* Increments data.count. */
static int increment(json_t *obj, void *arg)
{
    json_t *data = json_object_get(obj, "data");
    const char *v = json_string_value(json_object_get(data, "count"));
    char buf[32];
    snprintf(buf, sizeof buf, "%d", (v ? atoi(v) : 0) + 1);
    json_object_set_new(data, "count", json_string(buf));
    return 0;
}

#define WRITERS 5

TEST(k8s_api_modify_retries_conflicts_on_a_fresh_read)
{
    kenv e;
    if (!kenv_up(&e, false))
        return;
    tk_rec r = { 0 };
    json_t *cm = tk_configmap("counter", "count", "0");
    REQUIRE(k8s_create(e.c, &tk_configmaps, e.ns, cm, tk_rec_cb, &r) == 0);
    REQUIRE(tk_await(e.loop, &r) == 0);
    json_decref(cm);
    char *first_rv = xstrdup(k8s_meta_str(r.body, "resourceVersion"));
    tk_rec_clear(&r);
    /* Move it on so first_rv is stale. */
    REQUIRE(k8s_modify(e.c, &tk_configmaps, e.ns, "counter", NULL, increment, NULL, tk_rec_cb, &r) == 0);
    REQUIRE(tk_await(e.loop, &r) == 0);
    tk_rec_clear(&r);

    /* Two stale writes, each answered 409 by the server, then success. */
    stale s = { .old_rv = first_rv, .stale_calls = 2 };
    k8s_client_stats before, after;
    k8s_client_stats_get(e.c, &before);
    REQUIRE(k8s_modify(e.c, &tk_configmaps, e.ns, "counter", NULL, append_x, &s, tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(e.loop, &r), 0);
    CHECK_INT(s.calls, 3);
    CHECK_STR(data_of(r.body, "log"), "x"); /* each try started from a fresh read */
    k8s_client_stats_get(e.c, &after);
    CHECK_INT(after.conflicts - before.conflicts, 2);
    tk_rec_clear(&r);

    /* Always stale: it gives up after K8S_CONFLICT_RETRIES fresh reads. */
    stale forever = { .old_rv = first_rv, .stale_calls = 1000 };
    REQUIRE(k8s_modify(e.c, &tk_configmaps, e.ns, "counter", NULL, append_x, &forever, tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(e.loop, &r), K8S_ECONFLICT);
    CHECK_INT(forever.calls, K8S_CONFLICT_RETRIES + 1);
    tk_rec_clear(&r);

    /* K8S_UNCHANGED: no write, the object as read. */
    REQUIRE(k8s_modify(e.c, &tk_configmaps, e.ns, "counter", NULL, unchanged, NULL, tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(e.loop, &r), 0);
    CHECK_STR(data_of(r.body, "log"), "x");
    tk_rec_clear(&r);

    /* WRITERS concurrent increments: no update is lost (each writer can
     * lose at most WRITERS-1 races, fewer than K8S_CONFLICT_RETRIES+1). */
    tk_rec w[WRITERS];
    memset(w, 0, sizeof w);
    for (int i = 0; i < WRITERS; i++)
        REQUIRE(k8s_modify(e.c, &tk_configmaps, e.ns, "counter", NULL, increment, NULL,
                           tk_rec_cb, &w[i]) == 0);
    for (int i = 0; i < WRITERS; i++) {
        CHECK_INT(tk_await(e.loop, &w[i]), 0);
        tk_rec_clear(&w[i]);
    }
    REQUIRE(k8s_get(e.c, &tk_configmaps, e.ns, "counter", tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(e.loop, &r), 0);
    CHECK_STR(data_of(r.body, "count"), "6"); /* 1 + WRITERS */
    tk_rec_clear(&r);

    /* A missing object ends the helper with NotFound. */
    REQUIRE(k8s_modify(e.c, &tk_configmaps, e.ns, "missing", NULL, increment, NULL, tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(e.loop, &r), K8S_ENOTFOUND);
    tk_rec_clear(&r);
    free(first_rv);
    kenv_down(&e);
}
