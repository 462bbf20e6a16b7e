/* test_velocity.c — the per-second ring of weighted engagement: exact window
 * edges, late and too-old events, fixed-point exactness. */
#include "test.h"
#include "velocity.h"

#include <errno.h>
#include <math.h>

TEST(velocity_window_edges_are_exact)
{
    vel_t v;
    REQUIRE(vel_init(&v, 60) == 0);
    /* one event of weight 1 in second 100 (at 100.999 s) */
    CHECK_INT(vel_observe(&v, 100999, VEL_MILLI), 0);
    CHECK_INT(vel_sum_milli(&v), VEL_MILLI);
    /* the window at second s covers (s - 60, s]: second 100 counts up to 159 */
    vel_advance(&v, 159);
    CHECK_INT(vel_sum_milli(&v), VEL_MILLI);
    CHECK(fabs(vel_rate(&v) - 1.0 / 60) < 1e-12);
    vel_advance(&v, 160);
    CHECK_INT(vel_sum_milli(&v), 0);
    CHECK(vel_rate(&v) == 0);
    vel_free(&v);
}

TEST(velocity_same_second_events_add_up)
{
    vel_t v;
    REQUIRE(vel_init(&v, 10) == 0);
    vel_advance(&v, 5);
    for (int i = 0; i < 7; i++)
        CHECK_INT(vel_observe(&v, 5000 + i * 100, vel_milli(1.2)), 0);
    CHECK_INT(vel_sum_milli(&v), 7 * 1200);
    CHECK_INT(v.events, 7);
    CHECK_INT(v.late, 0);
    vel_free(&v);
}

TEST(velocity_late_event_lands_in_its_own_second)
{
    vel_t v;
    REQUIRE(vel_init(&v, 60) == 0);
    vel_advance(&v, 1000);
    /* 30 s late: lands in second 970 and expires when 970 leaves (at 1030) */
    CHECK_INT(vel_observe(&v, 970500, 2 * VEL_MILLI), 0);
    CHECK_INT(v.late, 1);
    CHECK_INT(vel_sum_milli(&v), 2 * VEL_MILLI);
    vel_advance(&v, 1029);
    CHECK_INT(vel_sum_milli(&v), 2 * VEL_MILLI);
    vel_advance(&v, 1030);
    CHECK_INT(vel_sum_milli(&v), 0);
    vel_free(&v);
}

TEST(velocity_too_old_event_is_ignored_and_counted)
{
    vel_t v;
    REQUIRE(vel_init(&v, 60) == 0);
    vel_advance(&v, 1000);
    /* second 940 is exactly one window old: outside (940, 1000] */
    CHECK_INT(vel_observe(&v, 940999, VEL_MILLI), -ESTALE);
    CHECK_INT(vel_observe(&v, 1000, VEL_MILLI), -ESTALE);
    CHECK_INT(v.too_old, 2);
    CHECK_INT(vel_sum_milli(&v), 0);
    /* second 941 is the oldest second still inside */
    CHECK_INT(vel_observe(&v, 941000, VEL_MILLI), 0);
    CHECK_INT(vel_sum_milli(&v), VEL_MILLI);
    vel_free(&v);
}

TEST(velocity_newer_event_moves_the_window)
{
    vel_t v;
    REQUIRE(vel_init(&v, 10) == 0);
    CHECK_INT(vel_observe(&v, 100000, VEL_MILLI), 0);
    CHECK_INT(vel_observe(&v, 109000, VEL_MILLI), 0);
    CHECK_INT(vel_sum_milli(&v), 2 * VEL_MILLI);
    CHECK_INT(v.head_s, 109);
    /* second 110 pushes second 100 out */
    CHECK_INT(vel_observe(&v, 110000, VEL_MILLI), 0);
    CHECK_INT(vel_sum_milli(&v), 2 * VEL_MILLI);
    /* a jump longer than the window clears it */
    CHECK_INT(vel_observe(&v, 500000, VEL_MILLI), 0);
    CHECK_INT(vel_sum_milli(&v), VEL_MILLI);
    vel_free(&v);
}

TEST(velocity_fixed_point_never_drifts)
{
    vel_t v;
    REQUIRE(vel_init(&v, 60) == 0);
    /* a million weights of 1.2 and 1.5 coming and going leave exactly zero */
    for (int64_t s = 0; s < 100000; s++) {
        vel_observe(&v, s * 1000 + 1, vel_milli(1.2));
        vel_observe(&v, s * 1000 + 2, vel_milli(1.5));
    }
    CHECK_INT(vel_sum_milli(&v), 60 * (1200 + 1500));
    vel_advance(&v, 99999 + 59);   /* only the last second is left */
    CHECK_INT(vel_sum_milli(&v), 1200 + 1500);
    vel_advance(&v, 99999 + 60);
    CHECK_INT(vel_sum_milli(&v), 0);
    vel_free(&v);
}

TEST(velocity_negative_timestamps_floor_to_their_second)
{
    vel_t v;
    REQUIRE(vel_init(&v, 5) == 0);
    vel_advance(&v, -1);
    CHECK_INT(vel_observe(&v, -1, VEL_MILLI), 0);    /* -0.001 s is second -1 */
    CHECK_INT(vel_observe(&v, -5001, VEL_MILLI), -ESTALE); /* second -6 */
    vel_advance(&v, 3);                              /* (-2, 3] holds -1 */
    CHECK_INT(vel_sum_milli(&v), VEL_MILLI);
    vel_advance(&v, 4);                              /* (-1, 4] does not */
    CHECK_INT(vel_sum_milli(&v), 0);
    vel_free(&v);
}

TEST(velocity_rejects_bad_arguments)
{
    vel_t v;
    CHECK_INT(vel_init(&v, 0), -EINVAL);
    CHECK_INT(vel_init(&v, VEL_MAX_WINDOW_S + 1), -EINVAL);
    REQUIRE(vel_init(&v, VEL_MAX_WINDOW_S) == 0);
    CHECK_INT(vel_observe(&v, 0, -1), -EINVAL);
    CHECK_INT(vel_milli(-3), 0);
    CHECK_INT(vel_milli(1.2345), 1235);
    vel_reset(&v);
    CHECK_INT(vel_sum_milli(&v), 0);
    CHECK(!v.started);
    vel_free(&v);
}
