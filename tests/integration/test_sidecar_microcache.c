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

/* stale-if-error: stale copies instead of 502s while the origin is down. */
static const char *sie_rules =
    "{\"routes\": [{\"match\": {\"prefix\": \"/sie\"}, \"mode\": \"override\","
    " \"maxAge\": 60, \"staleIfError\": 30, \"jitterPercent\": 0,"
    " \"microCache\": {\"enabled\": true, \"ttlSeconds\": 1}}]}";

/* stale-while-revalidate: stale answers while one refresh runs. */
static const char *swr_rules =
    "{\"routes\": [{\"match\": {\"prefix\": \"/hold\"}, \"mode\": \"override\","
    " \"maxAge\": 60, \"staleWhileRevalidate\": 60, \"jitterPercent\": 0,"
    " \"microCache\": {\"enabled\": true, \"ttlSeconds\": 1}}]}";

/* /nocache has no micro-cache; everything else has. */
static const char *warm_rules =
    "{\"routes\": [{\"match\": {\"prefix\": \"/nocache\"}, \"mode\": \"passthrough\"},"
    "{\"match\": {\"prefix\": \"/\"}, \"mode\": \"passthrough\","
    " \"microCache\": {\"enabled\": true, \"ttlSeconds\": 60}}]}";

static bool holds_a_request(void *arg) { return ((sco *)arg)->held_n >= 1; }

/* The in-process origin and a sidecar in front of it, on one loop. */
typedef struct mc {
    ev_loop *loop;
    sco *o;          /* NULL once a test stopped it */
    sc_env e;
    bool sc_up;
    int base;        /* origin requests once the sidecar was ready */
} mc;

static void mc_stop(mc *f)
{
    if (f->sc_up)
        sc_stop(&f->e);
    sco_stop(f->o);
    ev_loop_free(f->loop);
}

/* Waits (up to WAIT_MS) until the sidecar's /readyz answers. */
static void wait_ready(mc *f)
{
    uint64_t end = lo_mono_ms() + WAIT_MS;
    char *ready = xasprintf("-s -f http://127.0.0.1:%d/readyz", f->e.admin);
    while (lo_mono_ms() < end && run_curl(f->loop, ready, NULL, NULL) != 0)
        ev_run_once(f->loop, 20);
    free(ready);
}

/* Starts the origin and a sidecar with rules, with ready also waits until
 * the sidecar is ready (its readiness probe reaches the origin too: base
 * counts from after it). false if either did not start (then what did is
 * stopped again). */
static bool mc_start(mc *f, const char *rules, bool ready)
{
    memset(f, 0, sizeof *f);
    f->loop = ev_loop_new();
    f->o = sco_start(f->loop);
    f->sc_up = f->o && sc_start(&f->e, f->o->port, rules, NULL);
    if (!f->sc_up) {
        mc_stop(f);
        return false;
    }
    if (ready)
        wait_ready(f);
    f->base = f->o->requests;
    return true;
}

/* Runs "curl <args>" (args are freed here); its stdout, or "", in out (len
 * bytes). Returns curl's exit status. */
static int curl_text(ev_loop *loop, char *args, char *out, size_t len)
{
    char *body = NULL;
    int rc = run_curl(loop, args, &body, NULL);
    snprintf(out, len, "%s", body ? body : "");
    free(body);
    free(args);
    return rc;
}

/* POSTs data (shell-quoted with '...') to path on the sidecar's admin
 * port; the response body, or with code_only its status code, in out.
 * Returns curl's exit status. */
static int admin_post(mc *f, const char *path, const char *data, bool code_only, char *out,
                      size_t len)
{
    return curl_text(f->loop,
                     xasprintf("-s %s-X POST --data-binary '%s' http://127.0.0.1:%d%s",
                               code_only ? "-o /dev/null -w %{http_code} " : "", data,
                               f->e.admin, path),
                     out, len);
}

/* What one raw request through the sidecar saw. */
typedef struct answer {
    bool held;          /* (via the origin) the origin got it and held it */
    int origin_held;    /* (via the origin) the origin's request count then */
    bool head;          /* a whole response head arrived */
    int status;
    bool has_cs, has_age;
    char cs[128];       /* Cache-Status */
} answer;

/* Waits (up to WAIT_MS) until the origin holds a request. */
static bool origin_holds(mc *f)
{
    return sc_wait(f->loop, holds_a_request, f->o, WAIT_MS);
}

/* Sends the raw request on a fresh connection and reads the answer's
 * head. via_origin: the request must reach the origin; it is released
 * once the origin holds it (and its request count is noted). false if the
 * connection could not be opened. */
static bool raw_get(mc *f, const char *request, bool via_origin, answer *a)
{
    memset(a, 0, sizeof *a);
    rawc *r = rawc_open(f->loop, f->e.port);
    if (!r)
        return false;
    rawc_sends(r, request);
    if (via_origin) {
        a->held = origin_holds(f);
        a->origin_held = f->o->requests;
        sco_release(f->o);
    }
    a->head = sc_wait_head(f->loop, r, WAIT_MS);
    a->status = sc_status(r);
    a->has_cs = sc_field(r, "Cache-Status", a->cs, sizeof a->cs);
    char age[32];
    a->has_age = sc_field(r, "Age", age, sizeof age);
    rawc_close(r);
    return true;
}

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
    mc f;
    REQUIRE(mc_start(&f, hold_rules, true));
    ev_loop *loop = f.loop;
    sco *o = f.o;
    rawc *c[NCLIENTS];
    for (int i = 0; i < NCLIENTS; i++) {
        c[i] = rawc_open(loop, f.e.port);
        REQUIRE(c[i]);
        rawc_sends(c[i], "GET /hold-a?x=1 HTTP/1.1\r\nHost: shop.example\r\n\r\n");
    }
    /* One request reaches the origin; the others wait on its fill. */
    CHECK(origin_holds(&f));
    uint64_t end = lo_mono_ms() + WAIT_MS;
    double waiting = -1;
    while (lo_mono_ms() < end && (waiting = gauge(loop, &f.e, "liftoff_sidecar_cache_waiting")) <
                                     NCLIENTS - 1)
        ev_run_once(loop, 20);
    CHECK(waiting == NCLIENTS - 1);
    CHECK_INT(o->held_n, 1);
    CHECK_INT(o->requests - f.base, 1);
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
    CHECK_INT(o->requests - f.base, 1);
    for (int i = 0; i < NCLIENTS; i++)
        rawc_close(c[i]);
    /* A later request is a plain hit, with Age. */
    answer a;
    REQUIRE(raw_get(&f, "GET /hold-a?x=1 HTTP/1.1\r\nHost: SHOP.example\r\n\r\n", false, &a));
    CHECK(a.head);
    CHECK(a.has_cs);
    CHECK_STR(a.cs, "liftoff; hit");
    CHECK(a.has_age);
    CHECK_INT(o->requests - f.base, 1);
    /* POST /purge drops it: the next request goes to the origin. */
    char out[256];
    CHECK_INT(admin_post(&f, "/purge", "[\"/hold-a*\"]", false, out, sizeof out), 0);
    CHECK_STR(out, "{\"purged\":1}\n");
    REQUIRE(raw_get(&f, "GET /hold-a?x=1 HTTP/1.1\r\nHost: shop.example\r\n\r\n", true, &a));
    CHECK(a.held);
    CHECK_INT(a.origin_held - f.base, 2);
    CHECK(a.head);
    CHECK(a.has_cs);
    CHECK_STR(a.cs, "liftoff; fwd=miss");
    /* Another query string is another key. */
    REQUIRE(raw_get(&f, "GET /hold-a?x=2 HTTP/1.1\r\nHost: shop.example\r\n\r\n", true, &a));
    CHECK(a.held);
    CHECK_INT(a.origin_held - f.base, 3);
    CHECK(a.head);
    mc_stop(&f);
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
    return curl_text(loop,
                     xasprintf("-s %s%s%s http://127.0.0.1:%d%s", hdr ? "-H '" : "",
                               hdr ? hdr : "", hdr ? "'" : "", e->port, path),
                     out, len);
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
    mc f;
    REQUIRE(mc_start(&f, sie_rules, false));
    ev_loop *loop = f.loop;
    char *url = xasprintf("-s -i http://127.0.0.1:%d/sie", f.e.port);
    char *out = NULL;
    CHECK_INT(run_curl(loop, url, &out, NULL), 0);
    CHECK(out && strstr(out, "HTTP/1.1 200") && strstr(out, "Cache-Status: liftoff; fwd=miss"));
    free(out);
    sco_stop(f.o); /* the origin is gone: its port refuses */
    f.o = NULL;
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
    free(url);
    /* A path with nothing cached gets the 502. */
    char code[16];
    CHECK_INT(curl_text(loop,
                        xasprintf("-s -o /dev/null -w %%{http_code} http://127.0.0.1:%d/sie-never",
                                  f.e.port),
                        code, sizeof code),
              0);
    CHECK_STR(code, "502");
    mc_stop(&f);
}

#define SWR_GET "GET /hold-swr HTTP/1.1\r\nHost: shop.example\r\n\r\n"

/* One GET /hold-swr on a fresh connection: the status (-1 without a whole
 * head); the Cache-Status in cs. */
static int swr_get(mc *f, char *cs, size_t len)
{
    answer a;
    bool got = raw_get(f, SWR_GET, false, &a) && a.head;
    snprintf(cs, len, "%s", got ? a.cs : "");
    return got ? a.status : -1;
}

TEST(sidecar_microcache_stale_while_revalidate_one_refresh)
{
    mc f;
    REQUIRE(mc_start(&f, swr_rules, true));
    sco *o = f.o;
    /* The first fill. */
    answer a;
    REQUIRE(raw_get(&f, SWR_GET, true, &a));
    CHECK(a.held);
    CHECK(a.head);
    CHECK_INT(o->requests - f.base, 1);
    /* Once it is stale: answered at once, and one refresh goes out. */
    char cs[128] = "";
    uint64_t end = lo_mono_ms() + WAIT_MS;
    while (lo_mono_ms() < end && !strstr(cs, "revalidating")) {
        CHECK_INT(swr_get(&f, cs, sizeof cs), 200);
        ev_run_once(f.loop, 50);
    }
    CHECK_STR(cs, "liftoff; hit; fwd=stale; detail=revalidating");
    CHECK(origin_holds(&f));
    /* More requests meanwhile: stale answers, no second refresh. */
    for (int i = 0; i < 3; i++) {
        CHECK_INT(swr_get(&f, cs, sizeof cs), 200);
        CHECK_STR(cs, "liftoff; hit; fwd=stale");
    }
    CHECK_INT(o->held_n, 1);
    CHECK_INT(o->requests - f.base, 2);
    /* The refresh lands: fresh hits again. */
    sco_release(o);
    end = lo_mono_ms() + WAIT_MS;
    cs[0] = 0;
    while (lo_mono_ms() < end && strcmp(cs, "liftoff; hit") != 0) {
        swr_get(&f, cs, sizeof cs);
        ev_run_once(f.loop, 20);
    }
    CHECK_STR(cs, "liftoff; hit");
    CHECK_INT(o->requests - f.base, 2);
    mc_stop(&f);
}

TEST(sidecar_microcache_warm_fills_from_admin)
{
    mc f;
    REQUIRE(mc_start(&f, warm_rules, true));
    ev_loop *loop = f.loop;
    char out[256];
    CHECK_INT(admin_post(&f, "/warm",
                         "{\"host\":\"shop.example\",\"paths\":[\"/w1\",\"/w2?x=1\",\"/nocache\"]}",
                         false, out, sizeof out),
              0);
    CHECK_STR(out, "{\"/nocache\":\"no-micro-cache-route\",\"/w1\":\"fetching\","
                   "\"/w2?x=1\":\"fetching\"}");
    /* Both fills land (no fill in progress, two entries). */
    uint64_t end = lo_mono_ms() + WAIT_MS;
    while (lo_mono_ms() < end && (gauge(loop, &f.e, "liftoff_sidecar_cache_fills") != 0 ||
                                  gauge(loop, &f.e, "liftoff_sidecar_cache_entries") < 2))
        ev_run_once(loop, 20);
    CHECK_INT(f.o->requests - f.base, 2);
    /* A client with that host gets them from the cache. */
    answer a;
    REQUIRE(raw_get(&f, "GET /w2?x=1 HTTP/1.1\r\nHost: shop.example\r\n\r\n", false, &a));
    CHECK(a.head);
    CHECK(a.has_cs);
    CHECK_STR(a.cs, "liftoff; hit");
    CHECK_INT(f.o->requests - f.base, 2);
    /* A bad body is refused. */
    CHECK_INT(admin_post(&f, "/warm", "[\"w\"]", true, out, sizeof out), 0);
    CHECK_STR(out, "400");
    mc_stop(&f);
}
