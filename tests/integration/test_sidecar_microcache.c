/* test_sidecar_microcache.c — the micro-cache in front of real origins:
 * N concurrent identical misses make one origin request (in-process origin
 * that holds requests); hits carry Age and Cache-Status; responses with
 * Set-Cookie or private are never stored; Vary keeps variants apart
 * (nginx origin, origin requests counted in its access log). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "test.h"
#include "test_sidecar_helpers.h"

#define NCLIENTS 8
#define WAIT_MS 10000

static const char *hold_rules =
    "{\"routes\": ["
    "{\"match\": {\"prefix\": \"/hold\"}, \"mode\": \"passthrough\","
    " \"microCache\": {\"enabled\": true, \"ttlSeconds\": 60}},"
    "{\"match\": {\"prefix\": \"/\"}, \"mode\": \"passthrough\"}]}";

/* The value of a gauge in the sidecar's /metrics, or -1. */
static double gauge(ev_loop *loop, sc_env *e, const char *name)
{
    char *out = NULL;
    char *args = xasprintf("-s http://127.0.0.1:%d/metrics", e->admin);
    double v = -1;
    if (run_curl(loop, args, &out, NULL) == 0 && out) {
        size_t nl = strlen(name);
        for (char *p = out; p && *p; p = strchr(p, '\n')) {
            if (*p == '\n')
                p++;
            if (strncmp(p, name, nl) == 0 && p[nl] == ' ') {
                v = strtod(p + nl + 1, NULL);
                break;
            }
        }
    }
    free(out);
    free(args);
    return v;
}

typedef struct held_wait {
    sco *o;
    int n;
} held_wait;

static bool held_at_least(void *arg)
{
    held_wait *w = arg;
    return w->o->held_n >= w->n;
}

typedef struct all_heads {
    rawc **c;
    int n;
} all_heads;

static bool have_all_heads(void *arg)
{
    all_heads *a = arg;
    for (int i = 0; i < a->n; i++)
        if (!a->c[i]->eof && !a->c[i]->err && !rawc_has(a->c[i], "released"))
            return false;
    return true;
}

TEST(sidecar_microcache_coalesces_concurrent_misses)
{
    ev_loop *loop = ev_loop_new();
    sco *o = sco_start(loop);
    sc_env e;
    REQUIRE(o);
    if (!sc_start(&e, o->port, hold_rules, NULL)) {
        sco_stop(o);
        ev_loop_free(loop);
        REQUIRE(!"sidecar started");
    }
    /* The readiness probe reaches the origin too: count from after it. */
    uint64_t ready_end = lo_mono_ms() + WAIT_MS;
    char *ready = xasprintf("-s -f http://127.0.0.1:%d/readyz", e.admin);
    while (lo_mono_ms() < ready_end && run_curl(loop, ready, NULL, NULL) != 0)
        ev_run_once(loop, 20);
    free(ready);
    int base = o->requests;
    rawc *c[NCLIENTS];
    for (int i = 0; i < NCLIENTS; i++) {
        c[i] = rawc_open(loop, e.port);
        REQUIRE(c[i]);
        rawc_sends(c[i], "GET /hold-a?x=1 HTTP/1.1\r\nHost: shop.example\r\n\r\n");
    }
    /* One request reaches the origin; the others wait on its fill. */
    held_wait hw = { o, 1 };
    CHECK(sc_wait(loop, held_at_least, &hw, WAIT_MS));
    uint64_t end = lo_mono_ms() + WAIT_MS;
    double waiting = -1;
    while (lo_mono_ms() < end && (waiting = gauge(loop, &e, "liftoff_sidecar_cache_waiting")) <
                                     NCLIENTS - 1)
        ev_run_once(loop, 20);
    CHECK(waiting == NCLIENTS - 1);
    CHECK_INT(o->held_n, 1);
    CHECK_INT(o->requests - base, 1);
    sco_release(o);
    all_heads ah = { c, NCLIENTS };
    CHECK(sc_wait(loop, have_all_heads, &ah, WAIT_MS));
    int hits = 0;
    for (int i = 0; i < NCLIENTS; i++) {
        CHECK_INT(sc_status(c[i]), 200);
        CHECK(rawc_has(c[i], "released"));
        char cs[128] = "";
        CHECK(sc_field(c[i], "Cache-Status", cs, sizeof cs));
        hits += strstr(cs, "; hit") != NULL;
    }
    CHECK_INT(hits, NCLIENTS - 1);
    CHECK_INT(o->requests - base, 1);
    for (int i = 0; i < NCLIENTS; i++)
        rawc_close(c[i]);
    /* A later request is a plain hit, with Age. */
    rawc *r = rawc_open(loop, e.port);
    REQUIRE(r);
    rawc_sends(r, "GET /hold-a?x=1 HTTP/1.1\r\nHost: SHOP.example\r\n\r\n");
    CHECK(sc_wait_head(loop, r, WAIT_MS));
    char v[128] = "";
    CHECK(sc_field(r, "Cache-Status", v, sizeof v));
    CHECK_STR(v, "liftoff; hit");
    CHECK(sc_field(r, "Age", v, sizeof v));
    CHECK_INT(o->requests - base, 1);
    rawc_close(r);
    /* POST /purge drops it: the next request goes to the origin. */
    char *purge = xasprintf("-s -X POST --data-binary '[\"/hold-a*\"]' "
                            "http://127.0.0.1:%d/purge", e.admin);
    char *pout = NULL;
    CHECK_INT(run_curl(loop, purge, &pout, NULL), 0);
    CHECK_STR(pout ? pout : "", "{\"purged\":1}\n");
    free(pout);
    free(purge);
    r = rawc_open(loop, e.port);
    REQUIRE(r);
    rawc_sends(r, "GET /hold-a?x=1 HTTP/1.1\r\nHost: shop.example\r\n\r\n");
    hw.n = 1;
    CHECK(sc_wait(loop, held_at_least, &hw, WAIT_MS));
    CHECK_INT(o->requests - base, 2);
    sco_release(o);
    CHECK(sc_wait_head(loop, r, WAIT_MS));
    CHECK(sc_field(r, "Cache-Status", v, sizeof v));
    CHECK_STR(v, "liftoff; fwd=miss");
    rawc_close(r);
    /* Another query string is another key. */
    r = rawc_open(loop, e.port);
    REQUIRE(r);
    rawc_sends(r, "GET /hold-a?x=2 HTTP/1.1\r\nHost: shop.example\r\n\r\n");
    hw.n = 1;
    CHECK(sc_wait(loop, held_at_least, &hw, WAIT_MS));
    CHECK_INT(o->requests - base, 3);
    sco_release(o);
    CHECK(sc_wait_head(loop, r, WAIT_MS));
    rawc_close(r);
    sc_stop(&e);
    sco_stop(o);
    ev_loop_free(loop);
}

static const char *nginx_conf =
    "access_log %DIR%/access.log;\n"
    "location /pub { add_header Cache-Control \"public, max-age=60\"; return 200 \"pub\\n\"; }\n"
    "location /cookie { add_header Set-Cookie \"s=1\"; add_header Cache-Control \"public, max-age=60\";"
    " return 200 \"c\\n\"; }\n"
    "location /private { add_header Cache-Control \"private, max-age=60\"; return 200 \"p\\n\"; }\n"
    "location /vary { add_header Vary \"Accept-Language\"; add_header Cache-Control \"max-age=60\";"
    " return 200 \"lang=$http_accept_language\\n\"; }\n";

static const char *origin_rules =
    "{\"routes\": [{\"match\": {\"prefix\": \"/\"}, \"mode\": \"passthrough\","
    " \"microCache\": {\"enabled\": true}}]}";

/* GET path through the sidecar with an optional extra header; the body in
 * out (len bytes). */
static int get_body(ev_loop *loop, sc_env *e, const char *path, const char *hdr, char *out,
                    size_t len)
{
    char *body = NULL;
    char *args = xasprintf("-s %s%s%s http://127.0.0.1:%d%s", hdr ? "-H '" : "", hdr ? hdr : "",
                           hdr ? "'" : "", e->port, path);
    int rc = run_curl(loop, args, &body, NULL);
    snprintf(out, len, "%s", body ? body : "");
    free(body);
    free(args);
    return rc;
}

/* Requests for path the origin's access log holds. */
static int origin_count(peer *ng, const char *path)
{
    char *cmd = xasprintf("exit $(grep -c 'GET %s ' %%DIR%%/access.log)", path);
    int n = peer_sh(ng, cmd);
    free(cmd);
    return n;
}

TEST(sidecar_microcache_private_set_cookie_never_vary_respected)
{
    ev_loop *loop = ev_loop_new();
    peer *ng = peer_nginx_start(nginx_conf, NULL);
    REQUIRE(ng);
    sc_env e;
    if (!sc_start(&e, peer_port(ng), origin_rules, NULL)) {
        peer_stop(ng);
        ev_loop_free(loop);
        REQUIRE(!"sidecar started");
    }
    char body[256];
    for (int i = 0; i < 3; i++) {
        CHECK_INT(get_body(loop, &e, "/pub", NULL, body, sizeof body), 0);
        CHECK_STR(body, "pub\n");
        CHECK_INT(get_body(loop, &e, "/cookie", NULL, body, sizeof body), 0);
        CHECK_STR(body, "c\n");
        CHECK_INT(get_body(loop, &e, "/private", NULL, body, sizeof body), 0);
        CHECK_STR(body, "p\n");
    }
    CHECK_INT(origin_count(ng, "/pub"), 1);
    CHECK_INT(origin_count(ng, "/cookie"), 3);
    CHECK_INT(origin_count(ng, "/private"), 3);
    /* Vary: Accept-Language — one origin request per language. */
    for (int i = 0; i < 2; i++) {
        CHECK_INT(get_body(loop, &e, "/vary", "Accept-Language: fr", body, sizeof body), 0);
        CHECK_STR(body, "lang=fr\n");
        CHECK_INT(get_body(loop, &e, "/vary", "Accept-Language: de", body, sizeof body), 0);
        CHECK_STR(body, "lang=de\n");
    }
    CHECK_INT(origin_count(ng, "/vary"), 2);
    sc_stop(&e);
    peer_stop(ng);
    ev_loop_free(loop);
}

TEST(sidecar_microcache_stale_if_error_when_origin_down)
{
    ev_loop *loop = ev_loop_new();
    sco *o = sco_start(loop);
    sc_env e;
    REQUIRE(o);
    const char *rules =
        "{\"routes\": [{\"match\": {\"prefix\": \"/sie\"}, \"mode\": \"override\", \"maxAge\": 60,"
        " \"staleIfError\": 30, \"jitterPercent\": 0,"
        " \"microCache\": {\"enabled\": true, \"ttlSeconds\": 1}}]}";
    if (!sc_start(&e, o->port, rules, NULL)) {
        sco_stop(o);
        ev_loop_free(loop);
        REQUIRE(!"sidecar started");
    }
    char *url = xasprintf("-s -i http://127.0.0.1:%d/sie", e.port);
    char *out = NULL;
    CHECK_INT(run_curl(loop, url, &out, NULL), 0);
    CHECK(out && strstr(out, "HTTP/1.1 200") && strstr(out, "Cache-Status: liftoff; fwd=miss"));
    free(out);
    sco_stop(o); /* the origin is gone: its port refuses */
    /* Fresh hits first, then (after the 1 s lifetime) stale copies instead
     * of 502s; never an error. */
    uint64_t end = lo_mono_ms() + WAIT_MS;
    bool stale = false, all_ok = true;
    while (!stale && lo_mono_ms() < end) {
        out = NULL;
        run_curl(loop, url, &out, NULL);
        all_ok = all_ok && out && strncmp(out, "HTTP/1.1 200", 12) == 0;
        stale = out && strstr(out, "detail=stale-if-error") != NULL;
        free(out);
        ev_run_once(loop, 50);
    }
    CHECK(stale);
    CHECK(all_ok);
    /* A path with nothing cached gets the 502. */
    free(url);
    url = xasprintf("-s -o /dev/null -w %%{http_code} http://127.0.0.1:%d/sie-never", e.port);
    out = NULL;
    CHECK_INT(run_curl(loop, url, &out, NULL), 0);
    CHECK_STR(out ? out : "", "502");
    free(out);
    free(url);
    sc_stop(&e);
    ev_loop_free(loop);
}

/* One GET /hold-swr on a fresh connection; the Cache-Status in cs. */
static int swr_get(ev_loop *loop, sc_env *e, char *cs, size_t len)
{
    rawc *r = rawc_open(loop, e->port);
    if (!r)
        return -1;
    rawc_sends(r, "GET /hold-swr HTTP/1.1\r\nHost: shop.example\r\n\r\n");
    int st = -1;
    cs[0] = 0;
    if (sc_wait_head(loop, r, WAIT_MS)) {
        st = sc_status(r);
        sc_field(r, "Cache-Status", cs, len);
    }
    rawc_close(r);
    return st;
}

TEST(sidecar_microcache_stale_while_revalidate_one_refresh)
{
    ev_loop *loop = ev_loop_new();
    sco *o = sco_start(loop);
    sc_env e;
    REQUIRE(o);
    const char *rules =
        "{\"routes\": [{\"match\": {\"prefix\": \"/hold\"}, \"mode\": \"override\", \"maxAge\": 60,"
        " \"staleWhileRevalidate\": 60, \"jitterPercent\": 0,"
        " \"microCache\": {\"enabled\": true, \"ttlSeconds\": 1}}]}";
    if (!sc_start(&e, o->port, rules, NULL)) {
        sco_stop(o);
        ev_loop_free(loop);
        REQUIRE(!"sidecar started");
    }
    uint64_t ready_end = lo_mono_ms() + WAIT_MS;
    char *ready = xasprintf("-s -f http://127.0.0.1:%d/readyz", e.admin);
    while (lo_mono_ms() < ready_end && run_curl(loop, ready, NULL, NULL) != 0)
        ev_run_once(loop, 20);
    free(ready);
    int base = o->requests;
    /* The first fill. */
    rawc *r = rawc_open(loop, e.port);
    REQUIRE(r);
    rawc_sends(r, "GET /hold-swr HTTP/1.1\r\nHost: shop.example\r\n\r\n");
    held_wait hw = { o, 1 };
    CHECK(sc_wait(loop, held_at_least, &hw, WAIT_MS));
    sco_release(o);
    CHECK(sc_wait_head(loop, r, WAIT_MS));
    rawc_close(r);
    CHECK_INT(o->requests - base, 1);
    /* Once it is stale: answered at once, and one refresh goes out. */
    char cs[128] = "";
    uint64_t end = lo_mono_ms() + WAIT_MS;
    while (lo_mono_ms() < end && !strstr(cs, "revalidating")) {
        CHECK_INT(swr_get(loop, &e, cs, sizeof cs), 200);
        ev_run_once(loop, 50);
    }
    CHECK_STR(cs, "liftoff; hit; fwd=stale; detail=revalidating");
    CHECK(sc_wait(loop, held_at_least, &hw, WAIT_MS));
    /* More requests meanwhile: stale answers, no second refresh. */
    for (int i = 0; i < 3; i++) {
        CHECK_INT(swr_get(loop, &e, cs, sizeof cs), 200);
        CHECK_STR(cs, "liftoff; hit; fwd=stale");
    }
    CHECK_INT(o->held_n, 1);
    CHECK_INT(o->requests - base, 2);
    /* The refresh lands: fresh hits again. */
    sco_release(o);
    end = lo_mono_ms() + WAIT_MS;
    cs[0] = 0;
    while (lo_mono_ms() < end && strcmp(cs, "liftoff; hit") != 0) {
        swr_get(loop, &e, cs, sizeof cs);
        ev_run_once(loop, 20);
    }
    CHECK_STR(cs, "liftoff; hit");
    CHECK_INT(o->requests - base, 2);
    sc_stop(&e);
    sco_stop(o);
    ev_loop_free(loop);
}

TEST(sidecar_microcache_warm_fills_from_admin)
{
    ev_loop *loop = ev_loop_new();
    sco *o = sco_start(loop);
    sc_env e;
    REQUIRE(o);
    const char *rules =
        "{\"routes\": [{\"match\": {\"prefix\": \"/nocache\"}, \"mode\": \"passthrough\"},"
        "{\"match\": {\"prefix\": \"/\"}, \"mode\": \"passthrough\","
        " \"microCache\": {\"enabled\": true, \"ttlSeconds\": 60}}]}";
    if (!sc_start(&e, o->port, rules, NULL)) {
        sco_stop(o);
        ev_loop_free(loop);
        REQUIRE(!"sidecar started");
    }
    uint64_t end = lo_mono_ms() + WAIT_MS;
    char *ready = xasprintf("-s -f http://127.0.0.1:%d/readyz", e.admin);
    while (lo_mono_ms() < end && run_curl(loop, ready, NULL, NULL) != 0)
        ev_run_once(loop, 20);
    free(ready);
    int base = o->requests;
    char *warm = xasprintf("-s -X POST --data-binary "
                           "'{\"host\":\"shop.example\",\"paths\":[\"/w1\",\"/w2?x=1\",\"/nocache\"]}' "
                           "http://127.0.0.1:%d/warm", e.admin);
    char *out = NULL;
    CHECK_INT(run_curl(loop, warm, &out, NULL), 0);
    CHECK_STR(out ? out : "", "{\"/nocache\":\"no-micro-cache-route\",\"/w1\":\"fetching\","
                              "\"/w2?x=1\":\"fetching\"}");
    free(out);
    free(warm);
    /* Both fills land (no fill in progress, two entries). */
    end = lo_mono_ms() + WAIT_MS;
    while (lo_mono_ms() < end && (gauge(loop, &e, "liftoff_sidecar_cache_fills") != 0 ||
                                  gauge(loop, &e, "liftoff_sidecar_cache_entries") < 2))
        ev_run_once(loop, 20);
    CHECK_INT(o->requests - base, 2);
    /* A client with that host gets them from the cache. */
    rawc *r = rawc_open(loop, e.port);
    REQUIRE(r);
    rawc_sends(r, "GET /w2?x=1 HTTP/1.1\r\nHost: shop.example\r\n\r\n");
    CHECK(sc_wait_head(loop, r, WAIT_MS));
    char cs[128] = "";
    CHECK(sc_field(r, "Cache-Status", cs, sizeof cs));
    CHECK_STR(cs, "liftoff; hit");
    rawc_close(r);
    CHECK_INT(o->requests - base, 2);
    /* A bad body is refused. */
    char *bad = xasprintf("-s -o /dev/null -w %%{http_code} -X POST --data-binary '[\"w\"]' "
                          "http://127.0.0.1:%d/warm", e.admin);
    out = NULL;
    CHECK_INT(run_curl(loop, bad, &out, NULL), 0);
    CHECK_STR(out ? out : "", "400");
    free(out);
    free(bad);
    sc_stop(&e);
    sco_stop(o);
    ev_loop_free(loop);
}
