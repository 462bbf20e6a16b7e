/* test_redis_tls.c — the Redis client over TLS (rediss://) against
 * redis-server with tls-port: verified CA, wrong CA, insecure mode. */
#include "test.h"
#include "test_redis_helpers.h"
#include "peers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static peer *start_tls_redis(void)
{
    const char *ca = testcert("ca.pem"), *cert = testcert("server.pem"),
               *key = testcert("server.key");
    if (!ca || !cert || !key)
        return NULL;
    char *conf = xasprintf("port 0\ntls-port %%PORT%%\ntls-cert-file %s\ntls-key-file %s\n"
                           "tls-ca-cert-file %s\ntls-auth-clients no\n"
                           "user alice on >secret ~* &* +@all\n",
                           cert, key, ca);
    peer *p = peer_redis_start(conf);
    free(conf);
    return p;
}

typedef struct order {
    long long next;
    int bad;
} order;

static void incr_cb(rds *r, const redisReply *reply, int err, void *arg)
{
    order *o = arg;
    if (err || reply->type != REDIS_REPLY_INTEGER || reply->integer != o->next)
        o->bad++;
    o->next++;
}

TEST(redis_tls_verified_pipeline_and_auth)
{
    peer *p = start_tls_redis();
    REQUIRE(p);
    ev_loop *loop = ev_loop_new();
    rds *r = test_rds(loop, NULL, true, "rediss://alice:secret@127.0.0.1:%d/2?ca_file=%s",
                      peer_port(p), testcert("ca.pem"));
    REQUIRE(r);
    order o = { .next = 1 };
    for (int i = 0; i < 2000; i++)
        REQUIRE(rds_command(r, incr_cb, &o, "INCR n") == 0);
    char big[100000];
    memset(big, 'z', sizeof big);
    rec set = { 0 }, get = { 0 }, who = { 0 };
    CHECK_INT(rds_command(r, rec_cb, &set, "SET big %b", big, sizeof big), 0);
    CHECK_INT(rds_command(r, rec_cb, &get, "GET big"), 0);
    CHECK_INT(rds_command(r, rec_cb, &who, "ACL WHOAMI"), 0);
    CHECK(WAIT_FOR(loop, who.calls == 1));
    CHECK_INT(o.next, 2001);
    CHECK_INT(o.bad, 0);
    CHECK_INT(get.len, sizeof big);
    CHECK(get.str && memcmp(get.str, big, sizeof big) == 0);
    CHECK_STR(who.str, "alice");
    rec_free(&set);
    rec_free(&get);
    rec_free(&who);
    rds_free(r);

    /* Through the name in the certificate instead of the IP. */
    r = test_rds(loop, NULL, true, "rediss://alice:secret@localhost:%d?ca_file=%s", peer_port(p),
                 testcert("ca.pem"));
    CHECK(r != NULL);
    rds_free(r);
    ev_loop_free(loop);
    peer_stop(p);
}

TEST(redis_tls_wrong_ca_is_a_clear_error)
{
    peer *p = start_tls_redis();
    REQUIRE(p);
    ev_loop *loop = ev_loop_new();
    states s = { 0 };
    rds_opts o = { .on_state = states_cb, .state_arg = &s, .backoff_min_ms = 20 };
    rds *r = test_rds(loop, &o, false, "rediss://127.0.0.1:%d?ca_file=%s", peer_port(p),
                      testcert("other-ca.pem"));
    REQUIRE(r);
    CHECK(WAIT_FOR(loop, s.failed >= 1));
    CHECK_INT(s.up, 0);
    CHECK(strstr(rds_error(r), "certificate verify failed") != NULL);
    if (!strstr(rds_error(r), "certificate verify failed"))
        fprintf(stderr, "    error: %s\n", rds_error(r));
    rds_free(r);

    /* A wrong server name fails the same way. */
    s = (states){ 0 };
    r = test_rds(loop, &o, false, "rediss://127.0.0.1:%d?ca_file=%s&server_name=cache.example",
                 peer_port(p), testcert("ca.pem"));
    REQUIRE(r);
    CHECK(WAIT_FOR(loop, s.failed >= 1));
    CHECK(strstr(rds_error(r), "hostname mismatch") != NULL);
    rds_free(r);

    /* The tests-only switch accepts it. */
    r = test_rds(loop, NULL, true, "rediss://127.0.0.1:%d?ca_file=%s&insecure=true", peer_port(p),
                 testcert("other-ca.pem"));
    REQUIRE(r);
    rec ping = { 0 };
    CHECK_INT(rds_command(r, rec_cb, &ping, "PING"), 0);
    CHECK(WAIT_FOR(loop, ping.calls == 1));
    CHECK_STR(ping.str, "PONG");
    rec_free(&ping);
    rds_free(r);

    /* Bad TLS files are refused up front. */
    rds *none = NULL;
    char err[256] = "";
    rds_opts bad = { .url = "rediss://127.0.0.1:1?ca_file=/nonexistent/ca.pem" };
    CHECK_INT(rds_new(loop, &bad, &none, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "/nonexistent/ca.pem") != NULL);
    CHECK(none == NULL);
    ev_loop_free(loop);
    peer_stop(p);
}
