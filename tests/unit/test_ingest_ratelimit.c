/* test_ingest_ratelimit.c — token buckets, refill, retry hints, the bounded
 * LRU table and client keys. */
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>

#include "ingest/ratelimit.h"

static void key_n(uint32_t n, uint8_t key[INGEST_RL_KEY_LEN])
{
    memset(key, 0, INGEST_RL_KEY_LEN);
    memcpy(key + 12, &n, 4);
}

TEST(ingest_rl_burst_then_refill)
{
    ingest_rl_opts o = { .rate = 10, .burst = 5 };
    ingest_rl *rl = ingest_rl_new(&o);
    REQUIRE(rl);
    uint8_t k[INGEST_RL_KEY_LEN];
    uint64_t retry = 0;
    key_n(1, k);
    for (int i = 0; i < 5; i++)
        CHECK_INT(ingest_rl_take(rl, k, 1000, 1, &retry), 0);
    CHECK_INT(ingest_rl_take(rl, k, 1000, 1, &retry), -EAGAIN);
    CHECK_INT(retry, 100); /* one token at 10/s */
    CHECK_INT(ingest_rl_take(rl, k, 1099, 1, &retry), -EAGAIN);
    CHECK_INT(retry, 1);
    CHECK_INT(ingest_rl_take(rl, k, 1100, 1, &retry), 0);
    /* a long pause refills only up to the burst */
    for (int i = 0; i < 5; i++)
        CHECK_INT(ingest_rl_take(rl, k, 100000, 1, NULL), 0);
    CHECK_INT(ingest_rl_take(rl, k, 100000, 1, NULL), -EAGAIN);
    /* another client is independent */
    uint8_t k2[INGEST_RL_KEY_LEN];
    key_n(2, k2);
    CHECK_INT(ingest_rl_take(rl, k2, 100000, 1, NULL), 0);
    CHECK_INT(ingest_rl_size(rl), 2);
    /* time going backwards refills nothing and breaks nothing */
    CHECK_INT(ingest_rl_take(rl, k, 50000, 1, NULL), -EAGAIN);
    ingest_rl_free(rl);
}

TEST(ingest_rl_cost_larger_than_burst_hints_a_full_bucket)
{
    ingest_rl_opts o = { .rate = 2, .burst = 4 };
    ingest_rl *rl = ingest_rl_new(&o);
    uint8_t k[INGEST_RL_KEY_LEN];
    uint64_t retry = 0;
    key_n(9, k);
    CHECK_INT(ingest_rl_take(rl, k, 0, 4, &retry), 0);
    CHECK_INT(ingest_rl_take(rl, k, 0, 10, &retry), -EAGAIN);
    CHECK_INT(retry, 2000);
    ingest_rl_free(rl);
}

TEST(ingest_rl_table_is_bounded_and_evicts_least_recent)
{
    ingest_rl_opts o = { .rate = 1, .burst = 1, .max_clients = 4 };
    ingest_rl *rl = ingest_rl_new(&o);
    uint8_t k[INGEST_RL_KEY_LEN];
    for (uint32_t i = 1; i <= 4; i++) {
        key_n(i, k);
        CHECK_INT(ingest_rl_take(rl, k, 0, 1, NULL), 0);
    }
    /* touch 1 so that 2 is the least recently used */
    key_n(1, k);
    CHECK_INT(ingest_rl_take(rl, k, 0, 1, NULL), -EAGAIN);
    key_n(5, k);
    CHECK_INT(ingest_rl_take(rl, k, 0, 1, NULL), 0);
    CHECK_INT(ingest_rl_size(rl), 4);
    /* 1, 3, 4 still remembered as empty; 2 was dropped and starts full */
    key_n(1, k);
    CHECK_INT(ingest_rl_take(rl, k, 0, 1, NULL), -EAGAIN);
    key_n(3, k);
    CHECK_INT(ingest_rl_take(rl, k, 0, 1, NULL), -EAGAIN);
    key_n(2, k);
    CHECK_INT(ingest_rl_take(rl, k, 0, 1, NULL), 0);
    /* many clients through a small table never grow it */
    for (uint32_t i = 100; i < 10100; i++) {
        key_n(i, k);
        ingest_rl_take(rl, k, 0, 1, NULL);
    }
    CHECK_INT(ingest_rl_size(rl), 4);
    key_n(10099, k);
    CHECK_INT(ingest_rl_take(rl, k, 0, 1, NULL), -EAGAIN);
    ingest_rl_free(rl);
}

TEST(ingest_rl_rejects_bad_options)
{
    ingest_rl_opts o = { .rate = 0, .burst = 1 };
    CHECK(ingest_rl_new(&o) == NULL);
    o.rate = 1;
    o.burst = 0.5;
    CHECK(ingest_rl_new(&o) == NULL);
    o.burst = 1;
    o.max_clients = (size_t)INGEST_RL_CLIENTS_MAX + 1;
    CHECK(ingest_rl_new(&o) == NULL);
}

TEST(ingest_rl_keys_group_ipv6_by_64_and_map_ipv4)
{
    uint8_t a[INGEST_RL_KEY_LEN], b[INGEST_RL_KEY_LEN];
    CHECK_INT(ingest_rl_key_from_str("2001:db8:1:2::1", 15, a), 0);
    CHECK_INT(ingest_rl_key_from_str("2001:db8:1:2:ffff::9", 20, b), 0);
    CHECK(memcmp(a, b, sizeof(a)) == 0);
    CHECK_INT(ingest_rl_key_from_str("2001:db8:1:3::1", 15, b), 0);
    CHECK(memcmp(a, b, sizeof(a)) != 0);
    CHECK_INT(ingest_rl_key_from_str("192.0.2.7", 9, a), 0);
    CHECK_INT(ingest_rl_key_from_str(" ::ffff:192.0.2.7 ", 18, b), 0);
    CHECK(memcmp(a, b, sizeof(a)) == 0);
    CHECK_INT(ingest_rl_key_from_str("192.0.2.8", 9, b), 0);
    CHECK(memcmp(a, b, sizeof(a)) != 0);
    CHECK_INT(ingest_rl_key_from_str("example.com", 11, a), -EINVAL);
    CHECK_INT(ingest_rl_key_from_str("", 0, a), -EINVAL);
    struct sockaddr_in in = { .sin_family = AF_INET };
    inet_pton(AF_INET, "192.0.2.7", &in.sin_addr);
    CHECK_INT(ingest_rl_key_from_addr((struct sockaddr *)&in, b), 0);
    CHECK_INT(ingest_rl_key_from_str("192.0.2.7", 9, a), 0);
    CHECK(memcmp(a, b, sizeof(a)) == 0);
    struct sockaddr un = { .sa_family = AF_UNIX };
    CHECK_INT(ingest_rl_key_from_addr(&un, b), -EAFNOSUPPORT);
}
