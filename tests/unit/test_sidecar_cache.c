/* test_sidecar_cache.c — the micro-cache store (LRU by bytes, freshness,
 * stale windows, hit-for-miss markers, references outliving eviction,
 * purge) and the shared-cache rules and keys (cacheable.h). */
#include <errno.h>
#include <string.h>

#include "buf.h"
#include "test.h"

#include "sidecar/cache.h"
#include "sidecar/cacheable.h"

#define K(s) (s), strlen(s)

static int put(sidecar_cache *c, const char *key, const char *body, uint64_t now,
               uint64_t fresh, uint64_t stale)
{
    return sidecar_cache_put(c, K(key), 200, "X: y\r\n", 6, body, strlen(body), now, fresh,
                             stale / 2, stale);
}

TEST(sidecar_cache_fresh_stale_then_gone)
{
    sidecar_cache *c = sidecar_cache_new(1 << 20, 0);
    sidecar_cache_entry *e;
    CHECK_INT(sidecar_cache_get(c, K("a"), 0, &e), SIDECAR_CACHE_MISS);
    CHECK(e == NULL);
    CHECK_INT(put(c, "a", "hello", 1000, 500, 200), 0);
    REQUIRE(sidecar_cache_get(c, K("a"), 1000, &e) == SIDECAR_CACHE_FRESH);
    CHECK_INT(e->status, 200);
    CHECK_STR(e->body, "hello");
    CHECK_STR(e->head, "X: y\r\n");
    CHECK(e->stored_ms == 1000);
    CHECK(e->swr_until_ms == 1600);   /* put() gives swr = stale / 2, sie = stale */
    CHECK(e->sie_until_ms == 1700);
    CHECK(e->stale_until_ms == 1700);
    sidecar_cache_unref(e);
    CHECK_INT(sidecar_cache_get(c, K("a"), 1499, &e), SIDECAR_CACHE_FRESH);
    sidecar_cache_unref(e);
    CHECK_INT(sidecar_cache_get(c, K("a"), 1500, &e), SIDECAR_CACHE_STALE);
    sidecar_cache_unref(e);
    CHECK_INT(sidecar_cache_get(c, K("a"), 1700, &e), SIDECAR_CACHE_MISS);
    sidecar_cache_stats st;
    sidecar_cache_get_stats(c, &st);
    CHECK_INT(st.entries, 0);
    CHECK_INT(st.bytes, 0);
    CHECK_INT(st.hits, 2);
    CHECK_INT(st.stale_hits, 1);
    CHECK_INT(st.misses, 2);
    sidecar_cache_free(c);
}

TEST(sidecar_cache_lru_evicts_least_recent_by_bytes)
{
    /* room for three entries of 1 + 6 + 100 + overhead bytes */
    size_t one = 1 + 6 + 100 + SIDECAR_CACHE_OVERHEAD;
    sidecar_cache *c = sidecar_cache_new(3 * one, 0);
    char body[101];
    memset(body, 'b', 100);
    body[100] = 0;
    sidecar_cache_entry *e;
    CHECK_INT(put(c, "a", body, 0, 1000, 0), 0);
    CHECK_INT(put(c, "b", body, 0, 1000, 0), 0);
    CHECK_INT(put(c, "c", body, 0, 1000, 0), 0);
    /* touch a: b is now the least recently used */
    CHECK_INT(sidecar_cache_get(c, K("a"), 1, &e), SIDECAR_CACHE_FRESH);
    sidecar_cache_unref(e);
    CHECK_INT(put(c, "d", body, 2, 1000, 0), 0);
    CHECK_INT(sidecar_cache_get(c, K("b"), 3, &e), SIDECAR_CACHE_MISS);
    CHECK_INT(sidecar_cache_get(c, K("a"), 3, &e), SIDECAR_CACHE_FRESH);
    sidecar_cache_unref(e);
    CHECK_INT(sidecar_cache_get(c, K("c"), 3, &e), SIDECAR_CACHE_FRESH);
    sidecar_cache_unref(e);
    sidecar_cache_stats st;
    sidecar_cache_get_stats(c, &st);
    CHECK_INT(st.entries, 3);
    CHECK_INT(st.bytes, 3 * one);
    CHECK_INT(st.evictions, 1);
    /* replacing a key does not count it twice */
    CHECK_INT(put(c, "c", body, 4, 1000, 0), 0);
    sidecar_cache_get_stats(c, &st);
    CHECK_INT(st.entries, 3);
    CHECK_INT(st.bytes, 3 * one);
    sidecar_cache_free(c);
}

TEST(sidecar_cache_refuses_oversized_and_bad_keys)
{
    sidecar_cache *c = sidecar_cache_new(4096, 1024);
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    CHECK_INT(put(c, "a", big, 0, 1000, 0), -E2BIG);
    CHECK_INT(sidecar_cache_put(c, "", 0, 200, "", 0, "", 0, 0, 1, 0, 0), -EINVAL);
    sidecar_cache_stats st;
    sidecar_cache_get_stats(c, &st);
    CHECK_INT(st.entries, 0);
    CHECK_INT(st.bytes, 0);
    sidecar_cache_free(c);
}

TEST(sidecar_cache_reference_outlives_eviction_and_purge)
{
    size_t one = 1 + 6 + 3 + SIDECAR_CACHE_OVERHEAD;
    sidecar_cache *c = sidecar_cache_new(one, 0);
    sidecar_cache_entry *e;
    CHECK_INT(put(c, "a", "aaa", 0, 1000, 0), 0);
    REQUIRE(sidecar_cache_get(c, K("a"), 1, &e) == SIDECAR_CACHE_FRESH);
    CHECK_INT(put(c, "b", "bbb", 2, 1000, 0), 0); /* evicts a */
    sidecar_cache_entry *e2;
    CHECK_INT(sidecar_cache_get(c, K("a"), 3, &e2), SIDECAR_CACHE_MISS);
    CHECK_STR(e->body, "aaa"); /* still readable (valgrind / ASan check it) */
    sidecar_cache_unref(e);
    REQUIRE(sidecar_cache_get(c, K("b"), 3, &e) == SIDECAR_CACHE_FRESH);
    CHECK_INT(sidecar_cache_purge(c, NULL, NULL), 1);
    CHECK_STR(e->body, "bbb");
    sidecar_cache_unref(e);
    sidecar_cache_free(c);
}

static bool under_static(const char *key, size_t len, void *arg)
{
    (void)arg;
    return len >= 12 && memcmp(key, "GET h /stat/", 12) == 0;
}

TEST(sidecar_cache_hfm_remove_purge_and_many_keys)
{
    sidecar_cache *c = sidecar_cache_new(0, 0);
    sidecar_cache_entry *e;
    CHECK_INT(sidecar_cache_put_hfm(c, K("u"), 100, 50), 0);
    REQUIRE(sidecar_cache_get(c, K("u"), 120, &e) == SIDECAR_CACHE_HFM);
    CHECK(e->hfm);
    sidecar_cache_unref(e);
    CHECK_INT(sidecar_cache_get(c, K("u"), 150, &e), SIDECAR_CACHE_MISS);
    /* enough keys to grow the table several times */
    char key[64];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "GET h /%s/%d", i % 2 ? "stat" : "page", i);
        CHECK_INT(put(c, key, "v", 0, 1000, 0), 0);
    }
    CHECK_INT(sidecar_cache_remove(c, K("GET h /page/0")), 1);
    CHECK_INT(sidecar_cache_remove(c, K("GET h /page/0")), 0);
    CHECK_INT(sidecar_cache_purge(c, under_static, NULL), 500);
    sidecar_cache_stats st;
    sidecar_cache_get_stats(c, &st);
    CHECK_INT(st.entries, 499);
    CHECK_INT(sidecar_cache_get(c, K("GET h /page/998"), 1, &e), SIDECAR_CACHE_FRESH);
    sidecar_cache_unref(e);
    CHECK_INT(sidecar_cache_get(c, K("GET h /stat/999"), 1, &e), SIDECAR_CACHE_MISS);
    sidecar_cache_free(c);
}

/* ---- cacheable.h ---- */

static http_str S(const char *s) { return (http_str){ s, strlen(s) }; }

static int storable(const sidecar_rule *r, int status, const char *const fields[],
                    sidecar_store_out *out)
{
    http_header hs[8];
    unsigned n = 0;
    for (; fields && fields[2 * n]; n++)
        hs[n] = (http_header){ S(fields[2 * n]), S(fields[2 * n + 1]) };
    sidecar_store_in in = { .rule = r, .status = status, .headers = hs, .nheaders = n };
    memset(out, 0, sizeof *out);
    return sidecar_cache_storable(&in, out);
}

TEST(sidecar_cacheable_follows_origin_cache_control)
{
    sidecar_rule r = { .micro_cache = true };
    sidecar_store_out o;
    const char *maxage[] = { "Cache-Control", "public, max-age=30", NULL };
    CHECK_INT(storable(&r, 200, maxage, &o), 1);
    CHECK_INT(o.ttl_s, 30);
    const char *smax[] = { "cache-control", "max-age=30, s-maxage=\"7\"", NULL };
    CHECK_INT(storable(&r, 200, smax, &o), 1);
    CHECK_INT(o.ttl_s, 7);
    const char *stale[] = { "Cache-Control", "max-age=5, stale-while-revalidate=9, stale-if-error=60",
                            NULL };
    CHECK_INT(storable(&r, 404, stale, &o), 1);
    CHECK_INT(o.swr_s, 9);
    CHECK_INT(o.sie_s, 60);
    /* nothing said, no rule ttl: not stored */
    CHECK_INT(storable(&r, 200, NULL, &o), 0);
    const char *zero[] = { "Cache-Control", "max-age=0", NULL };
    CHECK_INT(storable(&r, 200, zero, &o), 0);
    const char *bad[] = { "Cache-Control", "max-age=abc", NULL };
    CHECK_INT(storable(&r, 200, bad, &o), 0);
    /* not a status stored by default */
    CHECK_INT(storable(&r, 500, maxage, &o), 0);
    CHECK_INT(storable(&r, 302, maxage, &o), 0);
    /* route without microCache */
    sidecar_rule off = { .micro_cache = false };
    CHECK_INT(storable(&off, 200, maxage, &o), 0);
    CHECK_INT(storable(NULL, 200, maxage, &o), 0);
}

TEST(sidecar_cacheable_never_private_no_store_set_cookie_vary_star)
{
    sidecar_rule r = { .micro_cache = true, .micro_ttl_s = 10, .swr = 3, .sie = 4 };
    sidecar_store_out o;
    CHECK_INT(storable(&r, 200, NULL, &o), 1); /* the rule's ttl */
    CHECK_INT(o.ttl_s, 10);
    CHECK_INT(o.swr_s, 3);
    CHECK_INT(o.sie_s, 4);
    const char *priv[] = { "Cache-Control", "private, max-age=60", NULL };
    const char *nost[] = { "Cache-Control", "no-store", NULL };
    const char *noca[] = { "Cache-Control", "no-cache", NULL };
    const char *cook[] = { "Set-Cookie", "s=1", "Cache-Control", "public, max-age=60", NULL };
    const char *star[] = { "Vary", "Accept, *", NULL };
    CHECK_INT(storable(&r, 200, priv, &o), 0);
    CHECK_INT(storable(&r, 200, nost, &o), 0);
    CHECK_INT(storable(&r, 200, noca, &o), 0);
    CHECK_INT(storable(&r, 200, cook, &o), 0);
    CHECK_INT(storable(&r, 200, star, &o), 0);
    /* forcePublic allows private, never Set-Cookie or no-store */
    r.force_public = true;
    CHECK_INT(storable(&r, 200, priv, &o), 1);
    CHECK_INT(storable(&r, 200, cook, &o), 0);
    CHECK_INT(storable(&r, 200, nost, &o), 0);
    /* the rule's ttl overrides the origin's max-age */
    const char *m60[] = { "Cache-Control", "max-age=60", NULL };
    CHECK_INT(storable(&r, 200, m60, &o), 1);
    CHECK_INT(o.ttl_s, 10);
}

TEST(sidecar_cacheable_cc_seconds)
{
    uint32_t v = 0;
    CHECK_INT(sidecar_cc_seconds(S("max-age=12"), "max-age", &v), 1);
    CHECK_INT(v, 12);
    CHECK_INT(sidecar_cc_seconds(S("s-maxage=3, MAX-AGE = 4"), "max-age", &v), 1);
    CHECK_INT(v, 4);
    CHECK_INT(sidecar_cc_seconds(S("x=\"max-age=5\", public"), "max-age", &v), 0);
    CHECK_INT(sidecar_cc_seconds(S("max-age"), "max-age", &v), -EINVAL);
    CHECK_INT(sidecar_cc_seconds(S("max-age=\"7"), "max-age", &v), -EINVAL);
    CHECK_INT(sidecar_cc_seconds(S("max-age=99999999999999"), "max-age", &v), 1);
    CHECK_INT(v, SIDECAR_AGE_MAX);
}

TEST(sidecar_cacheable_request_ok_and_keys)
{
    sidecar_rule r = { .micro_cache = true };
    http_header hs[4] = {
        { S("Accept-Encoding"), S("gzip") },
        { S("Accept-Language"), S("fr") },
        { S("accept-encoding"), S("br") },
    };
    http_request h = { .method = S("GET"), .meth = HTTP_M_GET, .host = S("Shop.Example"),
                       .path = S("/a?b=1"), .headers = hs, .nheaders = 3 };
    CHECK(sidecar_cache_request_ok(&r, &h));
    buf_t b;
    buf_init(&b, 4096);
    CHECK_INT(sidecar_cache_key(&h, &b), 0);
    CHECK_INT(buf_len(&b), strlen("GET shop.example /a?b=1"));
    CHECK(memcmp(buf_data(&b), "GET shop.example /a?b=1", buf_len(&b)) == 0);
    CHECK_INT(sidecar_cache_key_vary(&h, S("Accept-Encoding, X-Missing"), &b), 0);
    const char *want = "GET shop.example /a?b=1\naccept-encoding: gzip, br\nx-missing: ";
    CHECK_INT(buf_len(&b), strlen(want));
    CHECK(memcmp(buf_data(&b), want, buf_len(&b)) == 0);
    CHECK_INT(sidecar_cache_key_vary(&h, S("accept, *"), &b), -EINVAL);
    buf_free(&b);
    /* POST, Authorization, no-store / no-cache requests, no microCache */
    h.meth = HTTP_M_POST;
    CHECK(!sidecar_cache_request_ok(&r, &h));
    h.meth = HTTP_M_HEAD;
    CHECK(sidecar_cache_request_ok(&r, &h));
    hs[3] = (http_header){ S("Authorization"), S("Bearer x") };
    h.nheaders = 4;
    CHECK(!sidecar_cache_request_ok(&r, &h));
    hs[3] = (http_header){ S("Cache-Control"), S("no-cache") };
    CHECK(!sidecar_cache_request_ok(&r, &h));
    hs[3] = (http_header){ S("Cache-Control"), S("max-age=0") };
    CHECK(sidecar_cache_request_ok(&r, &h));
    r.micro_cache = false;
    CHECK(!sidecar_cache_request_ok(&r, &h));
    CHECK(!sidecar_cache_request_ok(NULL, &h));
}
