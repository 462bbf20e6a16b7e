/* test_predictor_redis.c — Redis goes away and comes back (with its data,
 * appendonly): the predictor reports not ready meanwhile, reconnects, and
 * catches up with what was appended, counting nothing twice. */
#include "test.h"
#include "test_predictor_helpers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define STREAM "liftoff:events:updown"
#define KEY "liftoff:forecast:shop:web"

static bool last_is(redisContext *c, const char *want)
{
    char *l = ph_hget(c, KEY, "last_id");
    bool ok = l && strcmp(l, want) == 0;
    free(l);
    return ok;
}

/* Redis answers LOADING while it reads its append-only file. */
static bool loaded(redisContext *c)
{
    redisReply *r = ph_cmd(c, "PING");
    bool ok = r && r->type == REDIS_REPLY_STATUS;
    if (r)
        freeReplyObject(r);
    return ok;
}

TEST(predictor_survives_redis_down_and_up)
{
    peer *rp = peer_redis_start("appendonly yes\nappendfsync always\n");
    REQUIRE(rp);
    redisContext *c = ph_redis(peer_port(rp));
    REQUIRE(c);
    ph_policy_put(c, "shop", "web",
                  "{\"spec\":{\"redis\":{\"launch\":\"updown\"},\"prediction\":{\"windowSeconds\":200}}}");
    peer *pp = ph_predictor(peer_port(rp), NULL);
    REQUIRE(pp);
    int admin = peer_port(pp);
    REQUIRE(PH_WAIT(ph_http_get(admin, "/readyz", NULL, 0) == 200));
    long long now = (long long)lo_wall_ms();
    const char *id = NULL;
    for (int i = 0; i < 10; i++)
        id = ph_xadd(c, STREAM, NULL, "comment", now);
    REQUIRE(id);
    char last[64];
    snprintf(last, sizeof last, "%s", id);
    REQUIRE(PH_WAIT(last_is(c, last)));
    CHECK(fabs(ph_hget_num(c, KEY, "eps") - 0.05) < 1e-9);

    redisFree(c);
    peer_kill9(rp);
    CHECK(PH_WAIT(ph_http_get(admin, "/readyz", NULL, 0) == 503));
    CHECK_INT((long long)ph_metric(admin, "liftoff_predictor_redis_up"), 0);
    CHECK_INT(ph_http_get(admin, "/healthz", NULL, 0), 200);

    REQUIRE(peer_restart(rp) == 0);
    c = ph_redis(peer_port(rp));
    REQUIRE(c);
    REQUIRE(PH_WAIT(loaded(c)));
    /* appended before the predictor is back */
    for (int i = 0; i < 10; i++)
        id = ph_xadd(c, STREAM, NULL, "comment", now);
    REQUIRE(id);
    snprintf(last, sizeof last, "%s", id);
    CHECK(PH_WAIT(ph_http_get(admin, "/readyz", NULL, 0) == 200));
    CHECK(PH_WAIT(last_is(c, last)));
    CHECK(fabs(ph_hget_num(c, KEY, "eps") - 0.1) < 1e-9);
    CHECK_INT((long long)ph_metric(admin, "liftoff_predictor_events_applied_total{launch=\"updown\"}"), 20);
    /* and it keeps going */
    for (int i = 0; i < 5; i++)
        id = ph_xadd(c, STREAM, NULL, "comment", now);
    snprintf(last, sizeof last, "%s", id);
    CHECK(PH_WAIT(last_is(c, last)));
    CHECK(fabs(ph_hget_num(c, KEY, "eps") - 0.125) < 1e-9);
    peer_stop(pp);
    redisFree(c);
    peer_stop(rp);
}

TEST(predictor_recreates_a_lost_group_and_loses_nothing)
{
    /* no persistence: a restart loses the stream, the group and the policy */
    peer *rp = peer_redis_start(NULL);
    REQUIRE(rp);
    redisContext *c = ph_redis(peer_port(rp));
    REQUIRE(c);
    peer *pp = ph_predictor(peer_port(rp), "--policy shop/web --launch updown");
    REQUIRE(pp);
    int admin = peer_port(pp);
    REQUIRE(PH_WAIT(ph_http_get(admin, "/readyz", NULL, 0) == 200));
    long long now = (long long)lo_wall_ms();
    const char *id = ph_xadd(c, STREAM, NULL, "upvote", now);
    REQUIRE(id);
    char last[64];
    snprintf(last, sizeof last, "%s", id);
    REQUIRE(PH_WAIT(last_is(c, last)));
    redisFree(c);
    peer_kill9(rp);
    REQUIRE(peer_restart(rp) == 0);
    c = ph_redis(peer_port(rp));
    REQUIRE(c);
    /* entries appended at once after the restart, before the group is back */
    for (int i = 0; i < 4; i++)
        id = ph_xadd(c, STREAM, NULL, "upvote", now);
    snprintf(last, sizeof last, "%s", id);
    CHECK(PH_WAIT(last_is(c, last)));
    /* 1 before + 4 after, weight 1.2, window 60 s */
    CHECK(fabs(ph_hget_num(c, KEY, "eps") - 0.1) < 1e-9);
    peer_stop(pp);
    redisFree(c);
    peer_stop(rp);
}
