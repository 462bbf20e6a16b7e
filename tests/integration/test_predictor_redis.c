/* test_predictor_redis.c — Redis goes away and comes back (with its data,
 * appendonly): the predictor reports not ready meanwhile, reconnects, and
 * catches up with what was appended, counting nothing twice. */
#include "test.h"
#include "test_predictor_helpers.h"
#include "predictor_fixture.h"

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
    pfx f;
    REQUIRE(pfx_start(&f, "appendonly yes\nappendfsync always\n",
                      "{\"spec\":{\"redis\":{\"launch\":\"updown\"},\"prediction\":{\"windowSeconds\":200}}}",
                      NULL));
    REQUIRE(pfx_ready(&f));
    long long now = (long long)lo_wall_ms();
    char last[PFX_ID_MAX];
    REQUIRE(pfx_xadd_n(f.c, STREAM, 10, "comment", now, last));
    REQUIRE(PH_WAIT(last_is(f.c, last)));
    CHECK(fabs(ph_hget_num(f.c, KEY, "eps") - 0.05) < 1e-9);

    redisFree(f.c);
    f.c = NULL;
    peer_kill9(f.rp);
    CHECK(PH_WAIT(ph_http_get(f.admin, "/readyz", NULL, 0) == 503));
    CHECK_INT((long long)ph_metric(f.admin, "liftoff_predictor_redis_up"), 0);
    CHECK_INT(ph_http_get(f.admin, "/healthz", NULL, 0), 200);

    REQUIRE(peer_restart(f.rp) == 0);
    f.c = ph_redis(peer_port(f.rp));
    REQUIRE(f.c);
    REQUIRE(PH_WAIT(loaded(f.c)));
    /* appended before the predictor is back */
    REQUIRE(pfx_xadd_n(f.c, STREAM, 10, "comment", now, last));
    CHECK(pfx_ready(&f));
    CHECK(PH_WAIT(last_is(f.c, last)));
    CHECK(fabs(ph_hget_num(f.c, KEY, "eps") - 0.1) < 1e-9);
    CHECK_INT((long long)ph_metric(f.admin, "liftoff_predictor_events_applied_total{launch=\"updown\"}"), 20);
    /* and it keeps going */
    pfx_xadd_n(f.c, STREAM, 5, "comment", now, last);
    CHECK(PH_WAIT(last_is(f.c, last)));
    CHECK(fabs(ph_hget_num(f.c, KEY, "eps") - 0.125) < 1e-9);
    pfx_stop(&f);
}

TEST(predictor_recreates_a_lost_group_and_loses_nothing)
{
    /* no persistence: a restart loses the stream, the group and the policy */
    pfx f;
    REQUIRE(pfx_start(&f, NULL, NULL, "--policy shop/web --launch updown"));
    REQUIRE(pfx_ready(&f));
    long long now = (long long)lo_wall_ms();
    char last[PFX_ID_MAX];
    REQUIRE(pfx_xadd_n(f.c, STREAM, 1, "upvote", now, last));
    REQUIRE(PH_WAIT(last_is(f.c, last)));
    redisFree(f.c);
    f.c = NULL;
    peer_kill9(f.rp);
    REQUIRE(peer_restart(f.rp) == 0);
    f.c = ph_redis(peer_port(f.rp));
    REQUIRE(f.c);
    /* entries appended at once after the restart, before the group is back */
    pfx_xadd_n(f.c, STREAM, 4, "upvote", now, last);
    CHECK(PH_WAIT(last_is(f.c, last)));
    /* 1 before + 4 after, weight 1.2, window 60 s */
    CHECK(fabs(ph_hget_num(f.c, KEY, "eps") - 0.1) < 1e-9);
    pfx_stop(&f);
}
