/* test_predictor_early.c — early scale-up: a burst in the middle of a
 * second is published as a provisional forecast before that second is
 * complete (ordering of the published ticks, not wall-clock time). */
#include "test.h"
#include "test_predictor_helpers.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define STREAM "liftoff:events:early"
#define BURST 200

/* The next forecast message for shop/web, or NULL. */
static json_t *next_message(redisContext *sub)
{
    for (int i = 0; i < 1000; i++) {
        redisReply *r = NULL;
        if (redisGetReply(sub, (void **)&r) != REDIS_OK || !r)
            return NULL;
        json_t *j = NULL;
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
            r->element[2]->type == REDIS_REPLY_STRING)
            j = json_loadb(r->element[2]->str, r->element[2]->len, 0, NULL);
        freeReplyObject(r);
        if (j && strcmp(json_string_value(json_object_get(j, "name")) ?: "", "web") == 0)
            return j;
        json_decref(j);
    }
    return NULL;
}

TEST(predictor_publishes_a_burst_before_its_second_ends)
{
    peer *rp = peer_redis_start(NULL);
    REQUIRE(rp);
    redisContext *c = ph_redis(peer_port(rp)), *sub = ph_redis(peer_port(rp));
    REQUIRE(c && sub);
    ph_policy_put(c, "shop", "web",
                  "{\"namespace\":\"shop\",\"name\":\"web\",\"spec\":{\"redis\":{\"launch\":\"early\"},"
                  "\"minReplicas\":1,\"maxReplicas\":100,\"podCapacityRps\":10,"
                  "\"prediction\":{\"windowSeconds\":60,\"baseRps\":5,\"rpsPerEngagement\":20}}}");
    peer *pp = ph_predictor(peer_port(rp), NULL);
    REQUIRE(pp);
    REQUIRE(PH_WAIT(ph_http_get(peer_port(pp), "/readyz", NULL, 0) == 200));
    freeReplyObject(ph_cmd(sub, "SUBSCRIBE liftoff:forecast"));

    /* the burst's second S lies a few seconds ahead in stream time: it is
     * complete only once an entry of a later second arrives, or once the
     * reader has caught up past its end */
    long long s = (long long)(lo_wall_ms() / 1000) + 3;
    char id[64], last[64] = "";
    for (int i = 0; i < BURST; i++) {
        snprintf(id, sizeof id, "%lld-%d", s * 1000 + 400 + i / 20, i % 20);
        REQUIRE(ph_xadd(c, STREAM, id, "upvote", s * 1000 + 400 + i / 20));
        snprintf(last, sizeof last, "%s", id);
    }

    /* the first forecast that scales up: provisional, for the incomplete
     * second S, and it already counts the burst */
    json_t *up = NULL;
    for (;;) {
        json_t *j = next_message(sub);
        REQUIRE(j);
        if (json_integer_value(json_object_get(j, "desired_replicas")) > 1) {
            up = j;
            break;
        }
        /* nothing of S is committed before the provisional scale-up */
        CHECK(json_integer_value(json_object_get(j, "tick")) < s);
        json_decref(j);
    }
    CHECK_INT(json_integer_value(json_object_get(up, "provisional")), 1);
    CHECK_INT(json_integer_value(json_object_get(up, "tick")), s);
    CHECK_STR(json_string_value(json_object_get(up, "reason")), "predicted");
    long long early = json_integer_value(json_object_get(up, "desired_replicas"));
    const char *upto = json_string_value(json_object_get(up, "last_id"));
    REQUIRE(upto);
    /* its stream position is inside S: no entry of a later second existed */
    CHECK(strtoll(upto, NULL, 10) / 1000 == s);
    json_decref(up);

    /* then S is committed (an entry of S + 1 closes it): the committed tick
     * of S never publishes fewer replicas than the provisional one */
    snprintf(id, sizeof id, "%lld-0", (s + 1) * 1000 + 10);
    REQUIRE(ph_xadd(c, STREAM, id, "comment", (s + 1) * 1000 + 10));
    json_t *done = NULL;
    for (;;) {
        json_t *j = next_message(sub);
        REQUIRE(j);
        long long tick = json_integer_value(json_object_get(j, "tick"));
        CHECK(json_integer_value(json_object_get(j, "desired_replicas")) >= early);
        if (tick == s && json_integer_value(json_object_get(j, "provisional")) == 0) {
            done = j;
            break;
        }
        json_decref(j);
    }
    CHECK_STR(json_string_value(json_object_get(done, "last_id")), id);
    json_decref(done);
    CHECK(ph_metric(peer_port(pp), "liftoff_predictor_publishes_total{reason=\"provisional\"}") >= 1);
    CHECK(ph_metric(peer_port(pp), "liftoff_predictor_provisional_forecasts_total") >= 1);

    peer_stop(pp);
    redisFree(sub);
    redisFree(c);
    peer_stop(rp);
}
