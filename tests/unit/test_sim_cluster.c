/* test_sim_cluster.c — the simulated Deployment: start-up delay and the
 * order in which pods go on a scale-down. */
#include "test.h"
#include "sim/cluster.h"

TEST(sim_cluster_pods_are_ready_after_startup)
{
    sim_cluster c;
    sim_cluster_init(&c, 60, 2, 100);
    CHECK_INT(c.ready, 2);
    sim_cluster_scale(&c, 10, 5); /* asked at boundary 10: ready at 70 */
    CHECK_INT(sim_cluster_asked(&c), 5);
    sim_cluster_promote(&c, 69);
    CHECK_INT(c.ready, 2);
    sim_cluster_promote(&c, 70);
    CHECK_INT(c.ready, 5);
    CHECK_INT(sim_cluster_ready_before(&c, 69), 2);
    CHECK_INT(sim_cluster_ready_before(&c, 70), 5);
    sim_cluster_free(&c);
}

TEST(sim_cluster_scale_down_drops_starting_pods_first)
{
    sim_cluster c;
    sim_cluster_init(&c, 60, 3, 100);
    sim_cluster_scale(&c, 0, 5);   /* two pods ready at 60 */
    sim_cluster_scale(&c, 30, 7);  /* two more ready at 90 */
    sim_cluster_scale(&c, 40, 4);  /* drops the 90s, then one of the 60s */
    CHECK_INT(c.ready, 3);
    CHECK_INT(c.pend_len, 1);
    sim_cluster_promote(&c, 60);
    CHECK_INT(c.ready, 4);
    sim_cluster_scale(&c, 61, 2);  /* now ready pods go, newest first */
    CHECK_INT(c.ready, 2);
    CHECK(c.ready_since[0] < 0 && c.ready_since[1] < 0); /* the old ones stay */
    sim_cluster_scale(&c, 62, 1000); /* capped at max */
    CHECK_INT(sim_cluster_asked(&c), 100);
    sim_cluster_free(&c);
}
