/* test_sidecar_cacheable_head.c — the micro-cache's request rules for HEAD
 * (answered from the GET entry: same key) and Upgrade (never cached). */
#include <string.h>

#include "buf.h"
#include "sidecar/cacheable.h"
#include "test.h"

#define S(lit) { lit, sizeof lit - 1 }

TEST(sidecar_cacheable_head_uses_the_get_key)
{
    sidecar_rule r = { .micro_cache = true };
    http_request get = { .method = S("GET"), .meth = HTTP_M_GET, .host = S("a.example"),
                         .path = S("/p?q=1") };
    http_request head = get;
    head.method = (http_str)S("HEAD");
    head.meth = HTTP_M_HEAD;
    CHECK(sidecar_cache_request_ok(&r, &head));
    buf_t kg, kh;
    buf_init(&kg, 4096);
    buf_init(&kh, 4096);
    CHECK_INT(sidecar_cache_key(&get, &kg), 0);
    CHECK_INT(sidecar_cache_key(&head, &kh), 0);
    CHECK(buf_len(&kg) == buf_len(&kh) && memcmp(buf_data(&kg), buf_data(&kh), buf_len(&kg)) == 0);
    /* other methods keep their own name in the key */
    http_request post = get;
    post.method = (http_str)S("POST");
    post.meth = HTTP_M_POST;
    buf_reset(&kh);
    CHECK_INT(sidecar_cache_key(&post, &kh), 0);
    CHECK(memcmp(buf_data(&kh), "POST ", 5) == 0);
    buf_free(&kg);
    buf_free(&kh);
}

TEST(sidecar_cacheable_upgrade_never_uses_the_cache)
{
    sidecar_rule r = { .micro_cache = true };
    http_request h = { .method = S("GET"), .meth = HTTP_M_GET, .host = S("a.example"),
                       .path = S("/ws"), .minor = 1 };
    CHECK(sidecar_cache_request_ok(&r, &h));
    h.upgrade = true;
    CHECK(!sidecar_cache_request_ok(&r, &h));
}
