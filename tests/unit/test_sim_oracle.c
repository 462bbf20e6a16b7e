/* test_sim_oracle.c — the clairvoyant schedule on a tiny trace computed by
 * hand, and on a generated trace through the simulated Deployment. */
#include "test.h"
#include "sim/gen.h"
#include "sim/oracle.h"
#include "sim/run.h"

#include <stdlib.h>

TEST(sim_oracle_tiny_trace_by_hand)
{
    /* capacity 100, start-up S = 2, minReplicas 1:
     *   t      0  1  2  3  4  5  6  7  8  9 10 11
     *   rps   50 50 250 50 250 50 50 50 50 450 50 50
     *   need   1  1  3  1  3  1  1  1  1  5  1  1
     * level 2-3: runs {2}, {4} (gap 1 <= S: bridged) -> ready 3 on 2..4;
     * levels 4-5: run {9}. ready(t) = 1 1 3 3 3 1 1 1 1 5 1 1
     * asked(t) = max ready over [t, t + 2] = 3 3 3 3 3 1 1 5 5 5 1 1 */
    static const uint32_t rps[] = { 50, 50, 250, 50, 250, 50, 50, 50, 50, 450, 50, 50 };
    static const uint32_t ready_want[] = { 1, 1, 3, 3, 3, 1, 1, 1, 1, 5, 1, 1 };
    static const uint32_t asked_want[] = { 3, 3, 3, 3, 3, 1, 1, 5, 5, 5, 1, 1 };
    sim_trace tr;
    sim_trace_alloc(&tr, 12);
    memcpy(tr.rps, rps, sizeof rps);
    uint32_t *ready, *asked;
    sim_oracle_schedule(&tr, 100, 1, 100, 2, &ready, &asked);
    for (int t = 0; t < 12; t++) {
        CHECK_INT(ready[t], ready_want[t]);
        CHECK_INT(asked[t], asked_want[t]);
    }
    free(ready);
    free(asked);
    sim_trace_free(&tr);
}

TEST(sim_oracle_gap_longer_than_startup_is_not_bridged)
{
    /* S = 2: a gap of 3 seconds at level 2 lets the pod go */
    static const uint32_t rps[] = { 150, 50, 50, 50, 150, 50 };
    sim_trace tr;
    sim_trace_alloc(&tr, 6);
    memcpy(tr.rps, rps, sizeof rps);
    uint32_t *ready, *asked;
    sim_oracle_schedule(&tr, 100, 1, 100, 2, &ready, &asked);
    static const uint32_t ready_want[] = { 2, 1, 1, 1, 2, 1 };
    static const uint32_t asked_want[] = { 2, 1, 2, 2, 2, 1 };
    for (int t = 0; t < 6; t++) {
        CHECK_INT(ready[t], ready_want[t]);
        CHECK_INT(asked[t], asked_want[t]);
    }
    free(ready);
    free(asked);
    sim_trace_free(&tr);
}

TEST(sim_oracle_never_overruns_and_costs_least)
{
    sim_trace tr;
    REQUIRE(sim_gen("sharp", 7, &tr) == 0);
    sim_config c;
    sim_config_default(&c);
    sim_run run;
    REQUIRE(sim_run_all(&c, &tr, &run) == 0);
    const sim_result *o = sim_run_find(&run, "oracle");
    REQUIRE(o != NULL);
    CHECK_INT(o->over_requests, 0);
    /* the pods it asks for are ready exactly when the schedule says */
    uint32_t *ready, *asked;
    sim_oracle_schedule(&tr, c.pod_capacity, c.policy.min_replicas, c.policy.max_replicas,
                        c.pod_startup_s, &ready, &asked);
    uint32_t mismatch = 0;
    for (uint32_t t = 0; t < tr.n; t++)
        if (o->ready[t] < ready[t])
            mismatch++;
    CHECK_INT(mismatch, 0);
    /* nobody that never overruns uses fewer replica-seconds */
    for (size_t i = 0; i < run.count; i++)
        if (run.r[i].over_requests == 0)
            CHECK(run.r[i].replica_seconds >= o->replica_seconds);
    free(ready);
    free(asked);
    sim_run_free(&run);
    sim_trace_free(&tr);
}
