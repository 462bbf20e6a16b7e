/* test_sidecar_proxy.c — liftoff-sidecar in front of a real nginx origin
 * and an in-process origin: header rewriting, streamed bodies both ways,
 * keep-alive and upstream pooling, Cache-Control rules, 502 and 504. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "test.h"
#include "test_sidecar_helpers.h"

#define BIG_LEN (3u << 20)

static const char *nginx_conf =
    "location /conn { return 200 \"$connection_requests\\n\"; }\n"
    "location /cookie { add_header Set-Cookie \"s=1\"; return 200 \"c\\n\"; }\n"
    "location /private { add_header Cache-Control \"private, max-age=60\"; return 200 \"p\\n\"; }\n"
    "location /private2 { add_header Cache-Control \"max-age=5\";"
    " add_header Cache-Control \"private\"; return 200 \"p\\n\"; }\n"
    "location /app-cc { add_header Cache-Control \"max-age=5\"; return 200 \"a\\n\"; }\n"
    "location /pass { add_header Cache-Control \"max-age=7\"; return 200 \"x\\n\"; }\n"
    "location /err { return 500 \"e\\n\"; }\n";

static const char *rules =
    "{\"routes\": ["
    "{\"match\": {\"glob\": \"/*.css\"}, \"mode\": \"override\", \"maxAge\": 600,"
    " \"minMaxAge\": 60, \"jitterPercent\": 0, \"staleWhileRevalidate\": 30},"
    "{\"match\": {\"glob\": \"/app-*\"}, \"mode\": \"default\", \"maxAge\": 100, \"jitterPercent\": 0},"
    "{\"match\": {\"prefix\": \"/pass\"}, \"mode\": \"passthrough\"},"
    "{\"match\": {\"prefix\": \"/\"}, \"mode\": \"override\", \"maxAge\": 300, \"jitterPercent\": 0}"
    "]}";

typedef struct fixture {
    ev_loop *loop;
    peer *nginx;
    sc_env sc;
    char *big;
} fixture;

static bool fx_start(fixture *f, const char *rules_json, const char *flags)
{
    memset(f, 0, sizeof *f);
    f->loop = ev_loop_new();
    f->big = xmalloc(BIG_LEN + 1);
    for (size_t i = 0; i < BIG_LEN; i++)
        f->big[i] = (char)('a' + (i * 7 + i / 977) % 26);
    f->big[BIG_LEN] = 0;
    const char *files[] = { "big.bin", f->big, "a.css", "body{}\n", "plain.txt",
                            "plain\n", NULL };
    f->nginx = peer_nginx_start(nginx_conf, files);
    if (!f->nginx)
        return false;
    return sc_start(&f->sc, peer_port(f->nginx), rules_json, flags);
}

static void fx_stop(fixture *f)
{
    sc_stop(&f->sc);
    peer_stop(f->nginx);
    free(f->big);
    ev_loop_free(f->loop);
}

/* curl through the sidecar; the output (headers with -i) in *out. */
static int curl_sc(fixture *f, const char *opts, const char *path, char **out)
{
    char *args = xasprintf("-s %s http://127.0.0.1:%d%s", opts, f->sc.port, path);
    int rc = run_curl(f->loop, args, out, NULL);
    free(args);
    return rc;
}

static char *header_of(const char *resp, const char *name)
{
    static char v[512];
    size_t nl = strlen(name);
    for (const char *p = resp; p && *p; p = strchr(p, '\n')) {
        if (*p == '\n')
            p++;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            p += nl + 1;
            while (*p == ' ')
                p++;
            size_t n = strcspn(p, "\r\n");
            if (n >= sizeof v)
                n = sizeof v - 1;
            memcpy(v, p, n);
            v[n] = 0;
            return v;
        }
        if (*p == '\r')
            break; /* end of the head */
    }
    return NULL;
}

TEST(sidecar_proxy_rewrites_forwarding_and_hop_by_hop_fields)
{
    ev_loop *loop = ev_loop_new();
    sco *o = sco_start(loop);
    sc_env e;
    REQUIRE(o);
    if (!sc_start(&e, o->port, NULL, NULL)) {
        sco_stop(o);
        ev_loop_free(loop);
        REQUIRE(!"sidecar started");
    }
    rawc *r = rawc_open(loop, e.port);
    REQUIRE(r);
    rawc_sends(r, "GET /hdr HTTP/1.1\r\nHost: shop.example\r\nX-Forwarded-For: 203.0.113.9\r\n"
                  "X-Forwarded-Proto: https\r\nConnection: foo\r\nFoo: secret\r\n"
                  "Keep-Alive: 5\r\nTE: trailers\r\n\r\n");
    CHECK(sc_wait_head(loop, r, 5000));
    CHECK_INT(sc_status(r), 200);
    char v[256];
    CHECK(sc_field(r, "X-Liftoff-Factor", v, sizeof v));
    CHECK_STR(v, "1.00");
    CHECK(!sc_field(r, "Keep-Alive", v, sizeof v));
    /* the body arrives with the head or right after it */
    for (int i = 0; i < 50 && !rawc_has(r, "host="); i++)
        ev_run_once(loop, 10);
    CHECK(rawc_has(r, "X-Forwarded-For=203.0.113.9, 127.0.0.1\n"));
    CHECK(rawc_has(r, "X-Forwarded-Proto=https, http\n"));
    CHECK(rawc_has(r, "Foo=\n"));
    CHECK(rawc_has(r, "Connection=\n"));
    CHECK(rawc_has(r, "host=shop.example\n"));
    rawc_close(r);
    sc_stop(&e);
    sco_stop(o);
    ev_loop_free(loop);
}

TEST(sidecar_proxy_streams_large_bodies_both_ways)
{
    fixture f;
    if (!have_curl()) {
        test_skip("curl missing");
        return;
    }
    REQUIRE(fx_start(&f, NULL, NULL));
    char *out = NULL;
    CHECK_INT(curl_sc(&f, "", "/big.bin", &out), 0);
    CHECK(out && strlen(out) == BIG_LEN && memcmp(out, f.big, BIG_LEN) == 0);
    free(out);
    out = NULL;
    /* uploads, chunked and with Content-Length, to the in-process origin */
    sco *o = sco_start(f.loop);
    REQUIRE(o);
    sc_env e;
    REQUIRE(sc_start(&e, o->port, NULL, NULL));
    char *cmd = xasprintf("head -c %u /dev/zero | curl -s -T - -H 'Transfer-Encoding: chunked' "
                          "http://127.0.0.1:%d/sum",
                          BIG_LEN, e.port);
    CHECK_INT(run_sh(f.loop, cmd, &out, NULL), 0);
    CHECK(out && atoll(out) == BIG_LEN);
    free(cmd);
    free(out);
    out = NULL;
    cmd = xasprintf("head -c 1000000 /dev/zero > %s/up.bin && curl -s --data-binary @%s/up.bin "
                    "http://127.0.0.1:%d/sum",
                    peer_dir(f.nginx), peer_dir(f.nginx), e.port);
    CHECK_INT(run_sh(f.loop, cmd, &out, NULL), 0);
    CHECK(out && atoll(out) == 1000000);
    free(cmd);
    free(out);
    sc_stop(&e);
    sco_stop(o);
    fx_stop(&f);
}

TEST(sidecar_proxy_keeps_client_and_upstream_connections_alive)
{
    fixture f;
    if (!have_curl()) {
        test_skip("curl missing");
        return;
    }
    REQUIRE(fx_start(&f, NULL, NULL));
    char *out = NULL, *err = NULL;
    char *args = xasprintf("-sv http://127.0.0.1:%d/conn http://127.0.0.1:%d/conn "
                           "http://127.0.0.1:%d/conn",
                           f.sc.port, f.sc.port, f.sc.port);
    CHECK_INT(run_curl(f.loop, args, &out, &err), 0);
    /* one client connection for the three requests */
    CHECK(err && strstr(err, "Re-using existing connection") != NULL);
    /* nginx counts requests per connection: the pooled upstream connection
     * carried more than one */
    CHECK(out && (strstr(out, "2\n") || strstr(out, "3\n")));
    free(args);
    free(out);
    free(err);
    fx_stop(&f);
}

TEST(sidecar_proxy_sets_cache_control_per_rule)
{
    fixture f;
    if (!have_curl()) {
        test_skip("curl missing");
        return;
    }
    REQUIRE(fx_start(&f, rules, NULL));
    char *out = NULL;
    /* override, factor 1: maxAge */
    CHECK_INT(curl_sc(&f, "-i", "/a.css", &out), 0);
    CHECK_STR(header_of(out, "Cache-Control"), "public, max-age=600, stale-while-revalidate=30");
    CHECK_STR(header_of(out, "X-Liftoff-Factor"), "1.00");
    free(out);
    /* default mode keeps the app's header; glob rule */
    CHECK_INT(curl_sc(&f, "-i", "/app-cc", &out), 0);
    CHECK_STR(header_of(out, "Cache-Control"), "max-age=5");
    free(out);
    /* passthrough: untouched */
    CHECK_INT(curl_sc(&f, "-i", "/pass", &out), 0);
    CHECK_STR(header_of(out, "Cache-Control"), "max-age=7");
    free(out);
    /* catch-all override */
    CHECK_INT(curl_sc(&f, "-i", "/plain.txt", &out), 0);
    CHECK_STR(header_of(out, "Cache-Control"), "public, max-age=300");
    free(out);
    /* never public: app said private, Set-Cookie, request credentials, 5xx */
    CHECK_INT(curl_sc(&f, "-i", "/private", &out), 0);
    CHECK_STR(header_of(out, "Cache-Control"), "private, max-age=60");
    free(out);
    CHECK_INT(curl_sc(&f, "-i", "/private2", &out), 0); /* private in a second field */
    CHECK_STR(header_of(out, "Cache-Control"), "max-age=5");
    CHECK(out && !strstr(out, "public"));
    free(out);
    CHECK_INT(curl_sc(&f, "-i", "/cookie", &out), 0);
    CHECK(header_of(out, "Set-Cookie") != NULL);
    CHECK(header_of(out, "Cache-Control") == NULL);
    free(out);
    CHECK_INT(curl_sc(&f, "-i -H 'Authorization: Bearer x'", "/plain.txt", &out), 0);
    CHECK(header_of(out, "Cache-Control") == NULL);
    free(out);
    CHECK_INT(curl_sc(&f, "-i -H 'Cookie: s=1'", "/a.css", &out), 0);
    CHECK(header_of(out, "Cache-Control") == NULL);
    free(out);
    CHECK_INT(curl_sc(&f, "-i", "/err", &out), 0);
    CHECK(strncmp(out, "HTTP/1.1 500", 12) == 0);
    CHECK(header_of(out, "Cache-Control") == NULL);
    free(out);
    /* the admin port shows the effective rules and factor */
    char *args = xasprintf("-s http://127.0.0.1:%d/config", f.sc.admin);
    CHECK_INT(run_curl(f.loop, args, &out, NULL), 0);
    CHECK(out && strstr(out, "\"factor\":1.0000") && strstr(out, "\"glob\":\"/*.css\"") &&
          strstr(out, "\"glob\":\"/app-*\""));
    free(out);
    free(args);
    fx_stop(&f);
}

TEST(sidecar_proxy_502_when_upstream_down_504_when_slow)
{
    ev_loop *loop = ev_loop_new();
    sc_env e;
    int dead = peer_free_port();
    REQUIRE(sc_start(&e, dead, NULL, NULL));
    rawc *r = rawc_open(loop, e.port);
    REQUIRE(r);
    uint64_t t0 = lo_mono_ms();
    rawc_sends(r, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK(sc_wait_head(loop, r, 5000));
    CHECK_INT(sc_status(r), 502);
    CHECK(lo_mono_ms() - t0 < 5000);
    rawc_close(r);
    /* readiness: the upstream never answered */
    char *out = NULL;
    char *args = xasprintf("-s -o /dev/null -w '%%{http_code}' http://127.0.0.1:%d/readyz", e.admin);
    CHECK_INT(run_curl(loop, args, &out, NULL), 0);
    CHECK_STR(out, "503");
    free(out);
    free(args);
    sc_stop(&e);

    sco *o = sco_start(loop);
    REQUIRE(o);
    REQUIRE(sc_start(&e, o->port, NULL, "--upstream-timeout 300ms"));
    r = rawc_open(loop, e.port);
    REQUIRE(r);
    rawc_sends(r, "GET /hold HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK(sc_wait_head(loop, r, 5000));
    CHECK_INT(sc_status(r), 504);
    CHECK_INT(o->held_n, 1);
    rawc_close(r);
    /* and the upstream was seen: ready */
    args = xasprintf("-s http://127.0.0.1:%d/readyz", e.admin);
    CHECK_INT(run_curl(loop, args, &out, NULL), 0);
    CHECK_STR(out, "ready\n");
    free(out);
    free(args);
    args = xasprintf("-s http://127.0.0.1:%d/metrics", e.admin);
    CHECK_INT(run_curl(loop, args, &out, NULL), 0);
    CHECK(out && strstr(out, "liftoff_sidecar_upstream_errors_total{kind=\"timeout\"} 1"));
    free(out);
    free(args);
    sc_stop(&e);
    sco_stop(o);
    ev_loop_free(loop);
}
