/* test_sim_gen.c — synthetic traces: deterministic from the seed, and
 * engagement leading traffic in the launch kinds. */
#include "test.h"
#include "sim/gen.h"

#include <math.h>

static bool same(const sim_trace *a, const sim_trace *b)
{
    return a->n == b->n && memcmp(a->rps, b->rps, a->n * sizeof *a->rps) == 0 &&
           memcmp(a->upvote, b->upvote, a->n * sizeof *a->upvote) == 0;
}

TEST(sim_gen_is_deterministic_per_seed)
{
    sim_trace a, b, c;
    REQUIRE(sim_gen("t0-wave", 42, &a) == 0);
    REQUIRE(sim_gen("t0-wave", 42, &b) == 0);
    REQUIRE(sim_gen("t0-wave", 43, &c) == 0);
    CHECK(same(&a, &b));
    CHECK(!same(&a, &c));
    sim_trace_free(&a);
    sim_trace_free(&b);
    sim_trace_free(&c);
    CHECK(sim_gen("no-such-kind", 1, &a) < 0);
}

/* The lag (0..600 s) at which the correlation of engagement with later
 * traffic is highest. */
static int best_lag(const sim_trace *t)
{
    int best = -1;
    double bestc = -2;
    for (int lag = 0; lag <= 600; lag += 10) {
        double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
        int n = 0;
        for (uint32_t i = 0; i + lag < t->n; i++) {
            double x = t->upvote[i] + t->comment[i] + t->maker_comment[i];
            double y = t->rps[i + lag];
            sx += x; sy += y; sxx += x * x; syy += y * y; sxy += x * y;
            n++;
        }
        double c = (n * sxy - sx * sy) / sqrt((n * sxx - sx * sx) * (n * syy - sy * sy));
        if (c > bestc) {
            bestc = c;
            best = lag;
        }
    }
    return best;
}

TEST(sim_gen_engagement_leads_traffic_by_minutes)
{
    static const char *kinds[] = { "t0-wave", "sharp", "three-waves" };
    for (size_t i = 0; i < 3; i++) {
        sim_trace t;
        REQUIRE(sim_gen(kinds[i], 1, &t) == 0);
        int lag = best_lag(&t);
        CHECK(lag >= 120 && lag <= 300);
        CHECK(sim_gen_engagement_leads(kinds[i]));
        sim_trace_free(&t);
    }
    CHECK(!sim_gen_engagement_leads("bot-ring"));
    CHECK(!sim_gen_engagement_leads("no-lead-spike"));
}

TEST(sim_gen_shapes_match_their_descriptions)
{
    sim_trace t;
    /* t0-wave: peak traffic ~140x the first 10 minutes' */
    REQUIRE(sim_gen("t0-wave", 1, &t) == 0);
    double base = 0, peak = 0;
    for (uint32_t i = 0; i < 600; i++)
        base += t.rps[i] / 600.0;
    for (uint32_t i = 0; i + 60 < t.n; i += 60) {
        double m = 0;
        for (uint32_t j = i; j < i + 60; j++)
            m += t.rps[j] / 60.0;
        if (m > peak)
            peak = m;
    }
    CHECK(peak / base > 120 && peak / base < 170);
    sim_trace_free(&t);
    /* bot-ring: plenty of upvotes, traffic stays at its base */
    REQUIRE(sim_gen("bot-ring", 1, &t) == 0);
    uint64_t up = 0, maxrps = 0;
    for (uint32_t i = 0; i < t.n; i++) {
        up += t.upvote[i];
        if (t.rps[i] > maxrps)
            maxrps = t.rps[i];
    }
    CHECK(up > 3000);
    CHECK(maxrps < 100);
    sim_trace_free(&t);
    for (const char *const *k = sim_gen_kinds(); *k; k++)
        CHECK(sim_gen_describe(*k) != NULL);
}
