/* test_sim_hpa.c — the HPA model against hand-computed steps: replica
 * calculation with tolerance and unready pods, external metrics, the
 * default behaviour's rate limits and scale-down stabilisation. */
#include "test.h"
#include "sim/hpa.h"

TEST(sim_hpa_resource_replicas_by_hand)
{
    /* 10 ready pods at 90 % for a 70 % target: ceil(90/70 * 10) = 13 */
    CHECK_INT(sim_hpa_resource_replicas(10, 90, 70, 10, 0, 0.1), 13);
    /* 75/70 = 1.071: within the 10 % tolerance */
    CHECK_INT(sim_hpa_resource_replicas(10, 75, 70, 10, 0, 0.1), 10);
    /* 35/70 = 0.5: ceil(0.5 * 10) = 5 */
    CHECK_INT(sim_hpa_resource_replicas(10, 35, 70, 10, 0, 0.1), 5);
    /* 6 counted at 100 %, 4 not ready: as 0 % the ratio is 60/70 < 1, the
     * direction would flip: no change */
    CHECK_INT(sim_hpa_resource_replicas(10, 100, 70, 6, 4, 0.1), 10);
    /* 8 counted at 100 %, 2 not ready: 80/70 = 1.143, ceil(1.143 * 10) = 12 */
    CHECK_INT(sim_hpa_resource_replicas(10, 100, 70, 8, 2, 0.1), 12);
    /* saturated pods cap the ratio: 100/70 per sync at most */
    CHECK_INT(sim_hpa_resource_replicas(4, 100, 70, 4, 0, 0.1), 6);
    /* scale-down with unready pods ignores them: ceil(35/70 * 6) = 3 */
    CHECK_INT(sim_hpa_resource_replicas(10, 35, 70, 6, 4, 0.1), 3);
    /* no metrics: nothing to do */
    CHECK_INT(sim_hpa_resource_replicas(10, 90, 70, 0, 10, 0.1), 10);
}

TEST(sim_hpa_external_replicas_by_hand)
{
    /* 2000 rps for 140 rps per pod on 10 pods: ratio 1.43, ceil(14.3) = 15 */
    CHECK_INT(sim_hpa_external_replicas(10, 2000, 140, 0.1), 15);
    /* 1450 / 1400 = 1.036: within tolerance */
    CHECK_INT(sim_hpa_external_replicas(10, 1450, 140, 0.1), 10);
    /* an unsaturated metric sees the whole demand at once: 14000 / 140 */
    CHECK_INT(sim_hpa_external_replicas(2, 14000, 140, 0.1), 100);
}

TEST(sim_hpa_scale_up_limited_to_double_or_four_pods_per_15s)
{
    sim_hpa_behavior b;
    sim_hpa_behavior_default(&b, 2, 100);
    sim_hpa_state s = { 0 };
    /* 4 -> 20 wanted: max(4 + 4, 4 * 2) = 8 */
    CHECK_INT(sim_hpa_normalize(&s, &b, 15, 4, 20), 8);
    /* 15 s later the earlier event is out of the period: max(12, 16) = 16 */
    CHECK_INT(sim_hpa_normalize(&s, &b, 30, 8, 20), 16);
    /* one second later the +8 still counts: the period started at 8, so at
     * most 16 */
    CHECK_INT(sim_hpa_normalize(&s, &b, 31, 16, 40), 16);
    /* from 2 pods the +4 policy is the larger */
    sim_hpa_state s2 = { 0 };
    CHECK_INT(sim_hpa_normalize(&s2, &b, 15, 2, 50), 6);
    /* never beyond maxReplicas */
    sim_hpa_state s3 = { 0 };
    CHECK_INT(sim_hpa_normalize(&s3, &b, 15, 90, 500), 100);
}

TEST(sim_hpa_scale_down_waits_for_the_300s_window)
{
    sim_hpa_behavior b;
    sim_hpa_behavior_default(&b, 2, 100);
    sim_hpa_state s = { 0 };
    CHECK_INT(sim_hpa_normalize(&s, &b, 0, 10, 10), 10);
    uint32_t cur = 10;
    for (int64_t t = 15; t < 300; t += 15) {
        cur = sim_hpa_normalize(&s, &b, t, cur, 5);
        CHECK_INT(cur, 10);
    }
    /* at 300 the recommendation of t = 0 has left the window */
    CHECK_INT(sim_hpa_normalize(&s, &b, 300, cur, 5), 5);
    /* and never below minReplicas */
    CHECK_INT(sim_hpa_normalize(&s, &b, 900, 5, 0), 2);
}
