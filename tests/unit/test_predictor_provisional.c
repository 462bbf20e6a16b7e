/* test_predictor_provisional.c — provisional forecasts of the incomplete
 * second: the shadow says what the committed tick says at the second's end
 * with the same entries, the committed ticks are not disturbed, and only
 * scale-ups are kept. */
#include "test.h"

#include <string.h>

#include "predictor/track.h"

#define T0 1700000000000ULL   /* a whole second, in ms */

static void policy(fc_policy *p)
{
    fc_policy_default(p);
    p->window_s = 60;
    p->lead_s = 30;
    p->max_lag_s = 60;
    p->base_rps = 40;
    p->rps_per_engagement = 20;
    p->pod_capacity_rps = 100;
    p->min_replicas = 1;
    p->max_replicas = 500;
}

static void apply(pred_track *t, uint64_t ms, uint64_t seq, const char *type)
{
    pred_entry e = { .id = { ms, seq }, .type = type, .ts_ms = (int64_t)ms };
    pred_track_apply(t, &e);
}

/* A quiet minute: one upvote every second. */
static void quiet(pred_track *t, uint64_t from_ms, int seconds)
{
    for (int s = 0; s < seconds; s++)
        apply(t, from_ms + (uint64_t)s * 1000 + 500, 0, "upvote");
}

TEST(predictor_provisional_matches_the_committed_tick)
{
    fc_policy p;
    policy(&p);
    pred_track t, twin;
    REQUIRE(pred_track_init(&t, &p) == 0);
    REQUIRE(pred_track_init(&twin, &p) == 0);
    quiet(&t, T0, 60);
    quiet(&twin, T0, 60);
    /* a burst of 200 upvotes in the middle of second 61 */
    uint64_t burst = T0 + 61000 + 400;
    for (uint64_t i = 0; i < 200; i++) {
        apply(&t, burst + i / 10, i % 10, "upvote");
        apply(&twin, burst + i / 10, i % 10, "upvote");
    }
    REQUIRE(t.have_out);
    uint32_t before = t.out.decision.replicas;
    uint64_t ticks = t.ticks;
    fc_output prov;
    REQUIRE(pred_track_provisional(&t, 1.5, before, &prov) == 1);
    CHECK_INT(prov.now_s, (int64_t)(T0 / 1000) + 61);   /* the incomplete second */
    CHECK(prov.decision.replicas > before);
    CHECK_INT(t.ticks, ticks);                          /* nothing committed */
    bool pending = false;
    CHECK(pred_track_current(&t, &pending) == &t.prov && pending);
    CHECK_INT(pred_track_desired(&t, &t.prov), prov.decision.replicas);

    /* the second ends with nothing more: the committed tick says the same */
    pred_track_advance(&t, T0 + 62000);
    pred_track_advance(&twin, T0 + 62000);
    CHECK_INT(t.out.now_s, prov.now_s);
    CHECK(t.out.eps == prov.eps && t.out.eps_forecast == prov.eps_forecast &&
          t.out.predicted_upper == prov.predicted_upper && t.out.factor == prov.factor);
    CHECK_INT(t.out.decision.replicas, prov.decision.replicas);
    /* and the provisional forecast changed nothing: same as the twin */
    CHECK(t.out.eps == twin.out.eps && t.out.eps_trend == twin.out.eps_trend &&
          t.out.predicted_upper == twin.out.predicted_upper &&
          t.out.decision.replicas == twin.out.decision.replicas);
    CHECK(pred_track_current(&t, &pending) == &t.out && !pending);
    CHECK_INT(pred_track_desired(&t, &t.out), t.out.decision.replicas);
    CHECK_INT(t.prov_n, 1);

    /* the floor is for its own second only */
    pred_track_advance(&t, T0 + 63000);
    CHECK(!t.have_prov);
    pred_track_free(&t);
    pred_track_free(&twin);
}

TEST(predictor_provisional_only_for_bursts_and_scale_ups)
{
    fc_policy p;
    policy(&p);
    pred_track t;
    REQUIRE(pred_track_init(&t, &p) == 0);
    fc_output o;
    CHECK_INT(pred_track_provisional(&t, 1.5, 0, &o), 0); /* nothing applied yet */
    quiet(&t, T0, 60);
    /* steady engagement: this second holds no more than the velocity */
    CHECK_INT(pred_track_provisional(&t, 1.5, 0, &o), 0);
    CHECK_INT(t.prov_n, 0);
    for (uint64_t i = 0; i < 100; i++)
        apply(&t, T0 + 60000 + 200 + i, 0, "upvote");
    /* a burst, but not above what was already published: not kept */
    CHECK_INT(pred_track_provisional(&t, 1.5, 10000, &o), 0);
    CHECK_INT(t.prov_n, 1);
    CHECK(!t.have_prov);
    /* a ratio the burst does not reach: not even computed */
    CHECK_INT(pred_track_provisional(&t, 1e6, 0, &o), 0);
    CHECK_INT(t.prov_n, 1);
    /* above: kept; a second one asking no more is not kept again */
    CHECK_INT(pred_track_provisional(&t, 1.5, 0, &o), 1);
    uint32_t kept = t.prov.decision.replicas;
    CHECK_INT(pred_track_provisional(&t, 1.5, 0, &o), 0);
    CHECK_INT(t.prov.decision.replicas, kept);
    /* a policy change drops the shadow and the provisional */
    fc_policy q = p;
    q.base_rps = 50;
    CHECK_INT(pred_track_set_policy(&t, &q), 0);
    CHECK(!t.have_shadow && !t.have_prov);
    pred_track_free(&t);
}
