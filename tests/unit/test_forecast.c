/* test_forecast.c — Holt's damped trend: a hand-computed series, a linear
 * series, damping, the band. */
#include "test.h"
#include "forecast.h"

#include <math.h>

#define NEAR(a, b, eps) (fabs((a) - (b)) <= (eps))

TEST(forecast_holt_matches_hand_computed_steps)
{
    holt_t h;
    holt_init(&h, 0.5, 0.5, 1.0, 1.0);
    holt_update(&h, 10);
    CHECK(h.level == 10 && h.trend == 0);
    holt_update(&h, 12);  /* pred 10, err 2: level 11, trend 0.5 */
    CHECK(NEAR(h.level, 11, 1e-12));
    CHECK(NEAR(h.trend, 0.5, 1e-12));
    CHECK(NEAR(h.err_var, 4, 1e-12));
    holt_update(&h, 15);  /* pred 11.5, err 3.5: level 13.25, trend 1.375 */
    CHECK(NEAR(h.level, 13.25, 1e-12));
    CHECK(NEAR(h.trend, 1.375, 1e-12));
    CHECK(NEAR(h.err_var, 12.25, 1e-12));
    holt_update(&h, 15);  /* pred 14.625, err 0.375: level 14.8125, trend 1.46875 */
    CHECK(NEAR(h.level, 14.8125, 1e-12));
    CHECK(NEAR(h.trend, 1.46875, 1e-12));
    CHECK(NEAR(holt_mean(&h, 0), 14.8125, 1e-12));
    CHECK(NEAR(holt_mean(&h, 2), 17.75, 1e-12));
    /* sd(1) = 0.375; sd(2) = 0.375 * sqrt(1 + (0.5 * (1 + 0.5))^2) = 0.46875 */
    CHECK(NEAR(holt_sd(&h, 0), 0, 1e-12));
    CHECK(NEAR(holt_sd(&h, 1), 0.375, 1e-12));
    CHECK(NEAR(holt_sd(&h, 2), 0.46875, 1e-12));
}

TEST(forecast_holt_learns_a_linear_series)
{
    holt_t h;
    holt_init(&h, 0.5, 0.3, 1.0, 0.1);
    for (int t = 0; t < 200; t++)
        holt_update(&h, 5 + 2.0 * t);
    CHECK(NEAR(h.trend, 2.0, 1e-6));
    CHECK(NEAR(holt_mean(&h, 10), 5 + 2.0 * 199 + 20, 1e-4));
    CHECK(h.err_var < 1e-6);
}

TEST(forecast_damped_trend_does_not_run_away)
{
    holt_t h;
    holt_init(&h, 0.5, 0.3, 0.9, 0.1);
    for (int t = 0; t < 100; t++)
        holt_update(&h, 100.0 * t);
    CHECK(h.trend > 50);
    double ceiling = h.level + h.trend * 0.9 / (1 - 0.9);
    double m1000 = holt_mean(&h, 1000), m10 = holt_mean(&h, 10);
    CHECK(m10 < m1000);
    CHECK(m1000 <= ceiling + 1e-6);
    CHECK(m1000 > ceiling - 1e-3);
}

TEST(forecast_curve_equals_pointwise_and_band_widens)
{
    holt_t h;
    holt_init(&h, 0.3, 0.05, 0.98, 0.05);
    double y = 3;
    for (int t = 0; t < 300; t++) {
        y += (t % 7 == 0 ? 0.5 : -0.05);
        holt_update(&h, y);
    }
    double mean[91], sd[91];
    holt_curve(&h, 90, mean, sd);
    for (uint32_t i = 0; i <= 90; i++) {
        CHECK(NEAR(mean[i], holt_mean(&h, i), 1e-9));
        CHECK(NEAR(sd[i], holt_sd(&h, i), 1e-9));
        if (i > 0)
            CHECK(sd[i] >= sd[i - 1]);
    }
    CHECK(sd[90] > sd[1]);
}

TEST(forecast_reset_and_parameter_clamps)
{
    holt_t h;
    holt_init(&h, 2.0, -1.0, 1.5, 0);
    CHECK(h.alpha == 1.0 && h.beta == 0.0 && h.phi == 1.0 && h.var_gain == 1.0);
    holt_update(&h, 4);
    holt_update(&h, 8);
    CHECK(h.level == 8);
    holt_reset(&h);
    CHECK(h.n == 0 && h.level == 0 && h.trend == 0);
}
