/* test_sidecar_observed.c — the observed-rate report's counts, rates over
 * the period and the bucketed p99. */
#include "test.h"

#include "sidecar/observed.h"

TEST(sidecar_observed_rates_over_the_period)
{
    sidecar_obs o;
    sidecar_obs_report r;
    sidecar_obs_init(&o);
    for (int i = 0; i < 30; i++)
        sidecar_obs_request(&o);
    for (int i = 0; i < 6; i++)
        sidecar_obs_shed(&o);
    sidecar_obs_take(&o, 2000, &r);
    CHECK(r.rps == 15.0);
    CHECK(r.shed == 3.0);
    CHECK(r.p99_ms == 0);
    /* taking starts a new period */
    sidecar_obs_take(&o, 1000, &r);
    CHECK(r.rps == 0 && r.shed == 0);
    /* a zero period counts as 1 ms, not a division by zero */
    sidecar_obs_request(&o);
    sidecar_obs_take(&o, 0, &r);
    CHECK(r.rps == 1000.0);
}

TEST(sidecar_observed_p99_is_the_bucket_bound_above)
{
    sidecar_obs o;
    sidecar_obs_report r;
    sidecar_obs_init(&o);
    /* 99 fast (1 ms) and 1 slow (500 ms): p99 is about 1 ms */
    for (int i = 0; i < 99; i++)
        sidecar_obs_latency(&o, 1000);
    sidecar_obs_latency(&o, 500000);
    sidecar_obs_take(&o, 1000, &r);
    CHECK(r.p99_ms >= 1.0 && r.p99_ms < 1.25 * 1.0001);
    /* 90 fast and 10 slow: p99 is about 500 ms */
    for (int i = 0; i < 90; i++)
        sidecar_obs_latency(&o, 1000);
    for (int i = 0; i < 10; i++)
        sidecar_obs_latency(&o, 500000);
    sidecar_obs_take(&o, 1000, &r);
    CHECK(r.p99_ms >= 500.0 && r.p99_ms < 500.0 * 1.25);
    /* beyond the last bound: the last (open) bucket's bound */
    sidecar_obs_latency(&o, UINT64_MAX / 2);
    sidecar_obs_take(&o, 1000, &r);
    CHECK(r.p99_ms > 100000.0);
    /* tiny latencies land in the first bucket */
    sidecar_obs_latency(&o, 0);
    sidecar_obs_take(&o, 1000, &r);
    CHECK(r.p99_ms == SIDECAR_OBS_FIRST_MS);
}
