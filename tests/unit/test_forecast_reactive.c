/* test_forecast_reactive.c — the reactive floor: the smoothed rate, surge
 * detection and its projection. */
#include "test.h"
#include "reactive.h"

#include <errno.h>
#include <math.h>

TEST(reactive_level_is_an_exponential_mean)
{
    reactive_t r;
    REQUIRE(reactive_init(&r, 0.5, 10, 1.2) == 0);
    CHECK(reactive_level(&r) == 0);
    reactive_observe(&r, 100);
    CHECK(reactive_level(&r) == 100);
    reactive_observe(&r, 200);
    CHECK(reactive_level(&r) == 150);
    reactive_skip(&r);  /* a second without a rate keeps the level */
    CHECK(reactive_level(&r) == 150);
    CHECK_INT(r.n, 3);
    reactive_observe(&r, -5); /* ignored */
    CHECK_INT(r.n, 3);
    reactive_reset(&r);
    CHECK_INT(r.n, 0);
    reactive_free(&r);
}

TEST(reactive_projects_only_real_surges)
{
    reactive_t r;
    REQUIRE(reactive_init(&r, 1.0, 10, 1.2) == 0);
    /* flat with +-10 % noise: never a surge, the forecast is the level */
    for (int t = 0; t < 100; t++) {
        reactive_observe(&r, t % 2 ? 110 : 90);
        CHECK(!reactive_surging(&r));
    }
    CHECK(reactive_forecast(&r, 60) == reactive_level(&r));
    /* +10 rps per second from 100: after 10 s the level is 200, 10 s
     * before it was 100: a surge of 10 rps/s, projected linearly */
    reactive_reset(&r);
    for (int t = 0; t <= 20; t++)
        reactive_observe(&r, t < 10 ? 100 : 100 + 10 * (t - 10));
    CHECK(reactive_surging(&r));
    CHECK(fabs(reactive_forecast(&r, 60) - (200 + 10 * 60)) < 1e-9);
    /* not before a whole window has been seen */
    reactive_reset(&r);
    reactive_observe(&r, 10);
    reactive_observe(&r, 1000);
    CHECK(!reactive_surging(&r));
    reactive_free(&r);
}

TEST(reactive_rejects_bad_parameters)
{
    reactive_t r;
    CHECK_INT(reactive_init(&r, 0, 10, 1.2), -EINVAL);
    CHECK_INT(reactive_init(&r, 0.5, 0, 1.2), -EINVAL);
    CHECK_INT(reactive_init(&r, 0.5, REACTIVE_MAX_SURGE_S + 1, 1.2), -EINVAL);
    CHECK_INT(reactive_init(&r, 0.5, 10, 1.0), -EINVAL);
}
