/* test_predictor_observed.c — the observed request rate from the sidecars'
 * hash: service-wide and per-pod reporters, freshness, departed pods. */
#include "test.h"

#include <errno.h>
#include <string.h>

#include "predictor/observed.h"

#define NOW 1700000000000LL
#define MAXF 32

typedef struct hash {
    redisReply r, el[MAXF];
    redisReply *p[MAXF];
} hash;

/* An HGETALL reply from NULL-terminated name, value pairs. */
static void mkhash(hash *h, const char *const *kv)
{
    memset(h, 0, sizeof *h);
    size_t n = 0;
    for (; kv[n] && n < MAXF; n++) {
        h->el[n] = (redisReply){ .type = REDIS_REPLY_STRING, .str = (char *)kv[n],
                                 .len = strlen(kv[n]) };
        h->p[n] = &h->el[n];
    }
    h->r = (redisReply){ .type = REDIS_REPLY_ARRAY, .element = h->p, .elements = n };
}

TEST(predictor_observed_service_wide)
{
    hash h;
    const char *kv[] = { "rps", "123.5", "p99_ms", "40", "shed", "2", "updated_at",
                         "1699999999000", NULL };
    mkhash(&h, kv);
    pred_observed o;
    REQUIRE(pred_observed_parse(&h.r, NOW, &o) == 0);
    CHECK_INT(o.reporters, 1);
    CHECK(o.rps == 123.5 && o.p99_ms == 40 && o.shed == 2);
    CHECK_INT(o.updated_at, 1699999999000LL);
    CHECK_INT(o.nstale, 0);
    /* too old: ignored but kept (it is not a pod) */
    REQUIRE(pred_observed_parse(&h.r, NOW + 20000, &o) == 0);
    CHECK_INT(o.reporters, 0);
    CHECK_INT(o.nstale, 0);
}

TEST(predictor_observed_sums_fresh_pods_and_drops_departed_ones)
{
    hash h;
    const char *kv[] = { "rps@web-a", "100", "updated_at@web-a", "1699999999500",
                         "p99_ms@web-a", "30", "shed@web-a", "1",
                         "rps@web-b", "50", "updated_at@web-b", "1699999998000", "p99_ms@web-b", "90",
                         "rps@web-old", "70", "updated_at@web-old", "1699999900000",
                         "rps@web-mid", "60", "updated_at@web-mid", "1699999980000",
                         "rps@broken", "10", NULL };
    mkhash(&h, kv);
    pred_observed o;
    REQUIRE(pred_observed_parse(&h.r, NOW, &o) == 0);
    CHECK_INT(o.reporters, 2);
    CHECK(o.rps == 150);
    CHECK(o.p99_ms == 90);
    CHECK(o.shed == 1);
    CHECK_INT(o.updated_at, 1699999999500LL);
    /* web-old (100 s) and broken (no updated_at) go; web-mid (20 s) stays */
    CHECK_INT(o.nstale, 3);
    int old = 0, broken = 0;
    for (size_t i = 0; i < o.nstale; i++) {
        if (o.stale_len[i] == 11 && memcmp(o.stale[i], "rps@web-old", 11) == 0)
            old++;
        if (o.stale_len[i] == 18 && memcmp(o.stale[i], "updated_at@web-old", 18) == 0)
            old++;
        if (o.stale_len[i] == 10 && memcmp(o.stale[i], "rps@broken", 10) == 0)
            broken++;
    }
    CHECK_INT(old, 2);
    CHECK_INT(broken, 1);
}

TEST(predictor_observed_ignores_garbage)
{
    hash h;
    const char *kv[] = { "rps", "-5", "updated_at", "1699999999000", NULL };
    mkhash(&h, kv);
    pred_observed o;
    REQUIRE(pred_observed_parse(&h.r, NOW, &o) == 0);
    CHECK_INT(o.reporters, 0);
    const char *kv2[] = { "rps", "nan", "updated_at", "1699999999000", NULL };
    mkhash(&h, kv2);
    REQUIRE(pred_observed_parse(&h.r, NOW, &o) == 0);
    CHECK_INT(o.reporters, 0);
    const char *kv3[] = { NULL };
    mkhash(&h, kv3);
    REQUIRE(pred_observed_parse(&h.r, NOW, &o) == 0);
    CHECK_INT(o.reporters, 0);
    redisReply s = { .type = REDIS_REPLY_STRING, .str = (char *)"x", .len = 1 };
    CHECK_INT(pred_observed_parse(&s, NOW, &o), -EPROTO);
}
