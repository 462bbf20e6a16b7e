/* test_predictor_claim.c — entries a dead consumer of the group left
 * pending are taken over (XAUTOCLAIM), acknowledged and counted once; the
 * dead consumer is removed from the group. */
#include "test.h"
#include "test_predictor_helpers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define STREAM "liftoff:events:claims"
#define KEY "liftoff:forecast:shop:web"

static long long pending_of(redisContext *c, const char *consumer)
{
    redisReply *r = ph_cmd(c, "XINFO CONSUMERS %s liftoff-predictor", STREAM);
    long long n = -1;
    if (r && r->type == REDIS_REPLY_ARRAY) {
        n = 0; /* absent: owns nothing */
        for (size_t i = 0; i < r->elements; i++) {
            const redisReply *e = r->element[i];
            bool match = false;
            long long p = 0;
            for (size_t k = 0; k + 1 < e->elements; k += 2) {
                if (strcmp(e->element[k]->str, "name") == 0)
                    match = strcmp(e->element[k + 1]->str, consumer) == 0;
                if (strcmp(e->element[k]->str, "pending") == 0)
                    p = e->element[k + 1]->integer;
            }
            if (match)
                n = p;
        }
    }
    if (r)
        freeReplyObject(r);
    return n;
}

static bool consumer_exists(redisContext *c, const char *consumer)
{
    redisReply *r = ph_cmd(c, "XINFO CONSUMERS %s liftoff-predictor", STREAM);
    bool found = false;
    for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
        for (size_t k = 0; k + 1 < r->element[i]->elements; k += 2)
            if (strcmp(r->element[i]->element[k]->str, "name") == 0 &&
                strcmp(r->element[i]->element[k + 1]->str, consumer) == 0)
                found = true;
    if (r)
        freeReplyObject(r);
    return found;
}

TEST(predictor_claims_a_dead_consumers_pending_entries)
{
    peer *rp = peer_redis_start(NULL);
    REQUIRE(rp);
    redisContext *c = ph_redis(peer_port(rp));
    REQUIRE(c);
    ph_policy_put(c, "shop", "web",
                  "{\"spec\":{\"redis\":{\"launch\":\"claims\"},\"prediction\":{\"windowSeconds\":100}}}");
    freeReplyObject(ph_cmd(c, "XGROUP CREATE %s liftoff-predictor $ MKSTREAM", STREAM));
    long long now = (long long)lo_wall_ms();
    for (int i = 0; i < 10; i++)
        ph_xadd(c, STREAM, NULL, "comment", now);
    /* a predictor that read them and died before acknowledging */
    redisReply *r = ph_cmd(c, "XREADGROUP GROUP liftoff-predictor deadbeef COUNT 100 STREAMS %s >",
                           STREAM);
    REQUIRE(r && r->type == REDIS_REPLY_ARRAY);
    freeReplyObject(r);
    CHECK_INT(pending_of(c, "deadbeef"), 10);

    peer *pp = ph_predictor(peer_port(rp), "--claim-idle 300ms --claim-interval 100ms");
    REQUIRE(pp);
    int admin = peer_port(pp);
    REQUIRE(PH_WAIT(ph_http_get(admin, "/readyz", NULL, 0) == 200));
    /* taken over and acknowledged; the dead consumer is gone */
    CHECK(PH_WAIT(ph_metric(admin, "liftoff_predictor_events_claimed_total{launch=\"claims\"}") == 10));
    CHECK(PH_WAIT(!consumer_exists(c, "deadbeef")));
    r = ph_cmd(c, "XPENDING %s liftoff-predictor", STREAM);
    REQUIRE(r && r->type == REDIS_REPLY_ARRAY);
    CHECK_INT(r->element[0]->integer, 0);
    freeReplyObject(r);
    /* counted once: by the rebuild (they are in the window), skipped when claimed */
    CHECK(fabs(ph_hget_num(c, KEY, "eps") - 0.1) < 1e-9);
    CHECK(ph_metric(admin, "liftoff_predictor_events_skipped_total{launch=\"claims\"}") >= 10);
    /* new entries still flow */
    const char *id = ph_xadd(c, STREAM, NULL, "comment", now);
    REQUIRE(id);
    char last[64];
    snprintf(last, sizeof last, "%s", id);
    CHECK(PH_WAIT(({
        char *l = ph_hget(c, KEY, "last_id");
        bool ok = l && strcmp(l, last) == 0;
        free(l);
        ok;
    })));
    CHECK(fabs(ph_hget_num(c, KEY, "eps") - 0.11) < 1e-9);
    peer_stop(pp);
    redisFree(c);
    peer_stop(rp);
}
