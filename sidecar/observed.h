/*
 * observed.h — what this sidecar saw over the last report period, for
 * liftoff:observed:<ns>:<name> (docs/redis-keys.md): requests answered per
 * second (refused ones included), requests refused per second, and the 99th
 * percentile of upstream latency. Pure logic: fixed memory, no I/O.
 *
 * Latency goes into SIDECAR_OBS_BUCKETS geometric buckets (upper bounds
 * SIDECAR_OBS_FIRST_MS * SIDECAR_OBS_GROWTH^i, the last one open); p99 is
 * the upper bound of the bucket holding the 99th percentile, so it errs high
 * by at most one bucket (25 %).
 */
#ifndef LIFTOFF_SIDECAR_OBSERVED_H
#define LIFTOFF_SIDECAR_OBSERVED_H

#include <stdint.h>

#define SIDECAR_OBS_BUCKETS 64
#define SIDECAR_OBS_FIRST_MS 0.1
#define SIDECAR_OBS_GROWTH 1.25

typedef struct sidecar_obs {
    uint64_t requests;   /* answered since the last take */
    uint64_t shed;       /* refused since the last take */
    uint64_t lat_n;
    uint32_t lat[SIDECAR_OBS_BUCKETS];
} sidecar_obs;

typedef struct sidecar_obs_report {
    double rps;
    double shed;         /* per second */
    double p99_ms;       /* 0 when no latency was recorded */
} sidecar_obs_report;

void sidecar_obs_init(sidecar_obs *o);
/* One request answered (any status, refusals included). */
void sidecar_obs_request(sidecar_obs *o);
/* One request refused (503 by the limiter). */
void sidecar_obs_shed(sidecar_obs *o);
/* One upstream exchange that took latency_us. */
void sidecar_obs_latency(sidecar_obs *o, uint64_t latency_us);
/* The rates over period_ms (at least 1) and the p99; starts a new period. */
void sidecar_obs_take(sidecar_obs *o, uint64_t period_ms, sidecar_obs_report *out);

#endif
