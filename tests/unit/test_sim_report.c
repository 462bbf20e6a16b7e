/* test_sim_report.c — the mean lead of scale-ups, by hand. */
#include "test.h"
#include "sim/report.h"

TEST(sim_report_mean_lead_by_hand)
{
    /* minReplicas 1; the load rises to 2 at t = 5 and to 3 at t = 8.
     * ready reaches 2 at t = 2 (3 s early) and 3 at t = 10 (2 s late). */
    static const uint32_t need[] = { 1, 1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3 };
    static const uint32_t ready[] = { 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3 };
    uint32_t events;
    double lead = sim_mean_lead(need, ready, 12, 1, &events);
    CHECK_INT(events, 2);
    CHECK(lead == (3.0 + -2.0) / 2);
    /* dips and returns within the look-back do not count again */
    static const uint32_t need2[] = { 1, 2, 1, 2, 1, 2 };
    static const uint32_t ready2[] = { 2, 2, 2, 2, 2, 2 };
    lead = sim_mean_lead(need2, ready2, 6, 1, &events);
    CHECK_INT(events, 1);
    CHECK(lead == 1.0);
    /* never ready: capped late */
    static const uint32_t ready3[] = { 1, 1, 1, 1, 1, 1 };
    lead = sim_mean_lead(need2, ready3, 6, 1, &events);
    CHECK_INT(events, 1);
    CHECK(lead == -5.0);
}
