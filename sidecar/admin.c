/* admin.c — the admin port: /healthz, /readyz and /metrics (admin_http),
 * and the sidecar's own /config, and POST /purge and POST /warm for the
 * micro-cache. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "admin_http.h"
#include "buf.h"
#include "cacheable.h"
#include "common.h"
#include "service_int.h"

#define ADMIN_BODY_MAX (4u << 20)

#define ADMIN_PURGE_PATHS_MAX 1024  /* paths in one /purge body */

typedef struct purge_match {
    json_t *paths;   /* array of strings */
} purge_match;

/* key = "METHOD host path?query" [+ "\n" vary part]: compares the path part
 * with every pattern ("/exact?q" or "/prefix*"). */
static bool purge_key_matches(const char *key, size_t len, void *arg)
{
    purge_match *m = arg;
    const char *sp1 = memchr(key, ' ', len);
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - key)) : NULL;
    if (!sp2)
        return false;
    const char *path = sp2 + 1;
    const char *nl = memchr(path, '\n', len - (size_t)(path - key));
    size_t plen = nl ? (size_t)(nl - path) : len - (size_t)(path - key);
    size_t i;
    json_t *v;
    json_array_foreach(m->paths, i, v) {
        const char *pat = json_string_value(v);
        size_t n = strlen(pat);
        if (n && pat[n - 1] == '*' ? plen >= n - 1 && memcmp(path, pat, n - 1) == 0
                                   : plen == n && memcmp(path, pat, n) == 0)
            return true;
    }
    return false;
}

/* POST /purge: a JSON array of paths ("/p?q" exact, "/prefix*", "*" all), or
 * an empty body purges everything. Answers {"purged": N}. */
static void admin_purge(sidecar_service *svc, http_req *r)
{
    size_t len = 0;
    const char *body = http_req_body(r, &len);
    json_t *root = NULL;
    size_t n;
    if (len == 0) {
        n = sidecar_cache_purge(svc->cache, NULL, NULL);
    } else {
        root = json_loadb(body, len, 0, NULL);
        bool ok = json_is_array(root) && json_array_size(root) <= ADMIN_PURGE_PATHS_MAX;
        size_t i;
        json_t *v;
        if (ok)
            json_array_foreach(root, i, v) ok = ok && json_is_string(v);
        if (!ok) {
            json_decref(root);
            http_respond(r, 400, "text/plain", "expected a JSON array of paths\n", 31);
            return;
        }
        purge_match m = { root };
        n = sidecar_cache_purge(svc->cache, purge_key_matches, &m);
    }
    json_decref(root);
    char out[64];
    int k = snprintf(out, sizeof out, "{\"purged\":%zu}\n", n);
    http_respond(r, 200, "application/json", out, (size_t)k);
}

#define ADMIN_WARM_PATHS_MAX 1024    /* paths in one /warm body */
#define ADMIN_WARM_HOST_DEFAULT "localhost"

/* POST /warm: {"host": "shop.example", "paths": ["/a", "/b?x=1"]} or a
 * plain array of paths (host "localhost"); the host must be the one
 * clients send, as it is part of the cache key. Starts one background fill
 * per path (refresh.c) and answers at once, per path: "fetching",
 * "already-filling", "no-micro-cache-route" or "busy". The outcome of each
 * fetch shows in the cache (and /metrics), not in this answer. */
static void admin_warm(sidecar_service *svc, http_req *r)
{
    size_t len = 0;
    const char *body = http_req_body(r, &len);
    json_t *root = json_loadb(body ? body : "", len, 0, NULL);
    json_t *paths = root;
    const char *host = ADMIN_WARM_HOST_DEFAULT;
    if (json_is_object(root)) {
        paths = json_object_get(root, "paths");
        json_t *jh = json_object_get(root, "host");
        if (jh && !json_is_string(jh))
            paths = NULL;
        else if (jh)
            host = json_string_value(jh);
    }
    bool ok = json_is_array(paths) && json_array_size(paths) <= ADMIN_WARM_PATHS_MAX;
    size_t i;
    json_t *v;
    if (ok)
        json_array_foreach(paths, i, v) ok = ok && json_is_string(v) &&
                                             json_string_value(v)[0] == '/';
    if (!ok) {
        json_decref(root);
        http_respond(r, 400, "text/plain", "expected {\"host\":...,\"paths\":[\"/...\"]}\n", 39);
        return;
    }
    json_t *res = json_object();
    buf_t k;
    buf_init(&k, SIDECAR_CACHE_KEY_MAX);
    json_array_foreach(paths, i, v) {
        const char *path = json_string_value(v);
        http_request h = { .method = { "GET", 3 }, .meth = HTTP_M_GET,
                           .host = { host, strlen(host) }, .path = { path, strlen(path) } };
        const sidecar_rule *rule = sidecar_rules_match(&svc->rules, path, strlen(path));
        const char *what = "no-micro-cache-route";
        buf_reset(&k);
        if (sidecar_cache_request_ok(rule, &h) && sidecar_cache_key(&h, &k) == 0) {
            int rc = sidecar_refresh_start(svc, rule, &h, buf_data(&k), buf_len(&k));
            what = rc == 0 ? "fetching" : rc == -EALREADY ? "already-filling" : "busy";
        }
        json_object_set_new(res, path, json_string(what));
    }
    buf_free(&k);
    char *out = json_dumps(res, JSON_COMPACT | JSON_SORT_KEYS);
    http_respond(r, 200, "application/json", out, strlen(out));
    free(out);
    json_decref(res);
    json_decref(root);
}

/* "ready" once the upstream answered, until the drain starts. */
static bool admin_ready(void *arg, char *text, size_t len)
{
    const sidecar_service *svc = arg;
    const char *what = svc->draining         ? "draining"
                       : !svc->upstream_seen ? "upstream not answered yet"
                                             : "ready";
    snprintf(text, len, "%s", what);
    return !svc->draining && svc->upstream_seen;
}

/* Copies the limiter's and the cache's state into their gauges. */
static void admin_refresh(void *arg)
{
    sidecar_service *svc = arg;
    metrics_gauge_set(svc->g_inflight, svc->lim.inflight);
    metrics_gauge_set(svc->g_queued, svc->lim.queued);
    metrics_gauge_set(svc->g_limit, sidecar_limiter_limit(&svc->lim));
    metrics_gauge_set(svc->g_factor, sidecar_service_factor(svc));
    sidecar_cache_stats cs;
    sidecar_cache_get_stats(svc->cache, &cs);
    size_t waiting = 0;
    for (const sidecar_flight *f = svc->flights.head; f; f = f->next)
        waiting += f->nwaiters;
    metrics_gauge_set(svc->g_cache_bytes, (double)cs.bytes);
    metrics_gauge_set(svc->g_cache_entries, (double)cs.entries);
    metrics_gauge_set(svc->g_cache_hits, (double)cs.hits);
    metrics_gauge_set(svc->g_cache_misses, (double)cs.misses);
    metrics_gauge_set(svc->g_cache_fills, (double)svc->flights.n);
    metrics_gauge_set(svc->g_cache_waiting, (double)waiting);
}

/* GET /config: the factor, the limit and the rules as JSON. */
static void admin_config(sidecar_service *svc, http_req *r)
{
    buf_t b;
    buf_init(&b, ADMIN_BODY_MAX);
    uint64_t age = sidecar_factor_age_ms(&svc->fac, ev_now(svc->loop));
    buf_appendf(&b, "{\"factor\":%.4f,\"factorAgeMs\":", sidecar_service_factor(svc));
    if (age == UINT64_MAX)
        buf_append_str(&b, "null");
    else
        buf_appendf(&b, "%" PRIu64, age);
    buf_appendf(&b, ",\"limit\":%u,\"draining\":%s,\"rules\":",
                sidecar_limiter_limit(&svc->lim), svc->draining ? "true" : "false");
    sidecar_rules_to_json(&svc->rules, &b);
    buf_append_str(&b, "}\n");
    http_respond(r, 200, "application/json", buf_data(&b), buf_len(&b));
    buf_free(&b);
}

/* The sidecar's own paths. Any other method than GET and HEAD is answered
 * 404 here, as the sidecar always did, rather than 405. */
static bool admin_route(http_req *r, void *arg)
{
    sidecar_service *svc = arg;
    const http_request *h = http_req_head(r);
    bool get = h->meth == HTTP_M_GET || h->meth == HTTP_M_HEAD;
    if (http_path_is(h, "/config") && get)
        admin_config(svc, r);
    else if (http_path_is(h, "/purge") && h->meth == HTTP_M_POST)
        admin_purge(svc, r);
    else if (http_path_is(h, "/warm") && h->meth == HTTP_M_POST)
        admin_warm(svc, r);
    else if (!get)
        http_respond(r, 404, "text/plain", "not found\n", 10);
    else
        return false;
    return true;
}

void sidecar_admin_handle(http_req *r, void *arg)
{
    const admin_http_routes rt = {
        .metrics = ((sidecar_service *)arg)->m,
        .metrics_max = ADMIN_BODY_MAX,
        .ready = admin_ready,
        .route = admin_route,
        .refresh = admin_refresh,
        .arg = arg,
    };
    admin_http_handle(r, &rt);
}
