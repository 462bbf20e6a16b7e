/* observed.c — per-period counts and a bucketed p99 for the observed-rate
 * report. */
#include "observed.h"

#include <string.h>

void sidecar_obs_init(sidecar_obs *o) { memset(o, 0, sizeof *o); }

void sidecar_obs_request(sidecar_obs *o) { o->requests++; }

void sidecar_obs_shed(sidecar_obs *o) { o->shed++; }

void sidecar_obs_latency(sidecar_obs *o, uint64_t latency_us)
{
    double ms = (double)latency_us / 1000.0, bound = SIDECAR_OBS_FIRST_MS;
    unsigned i = 0;
    while (i < SIDECAR_OBS_BUCKETS - 1 && ms > bound) {
        bound *= SIDECAR_OBS_GROWTH;
        i++;
    }
    if (o->lat[i] < UINT32_MAX) {
        o->lat[i]++;
        o->lat_n++;
    }
}

void sidecar_obs_take(sidecar_obs *o, uint64_t period_ms, sidecar_obs_report *out)
{
    double secs = (double)(period_ms ? period_ms : 1) / 1000.0;
    out->rps = (double)o->requests / secs;
    out->shed = (double)o->shed / secs;
    out->p99_ms = 0;
    if (o->lat_n) {
        /* the smallest bucket with at least 99 % of the samples at or below */
        uint64_t need = o->lat_n - o->lat_n / 100, seen = 0;
        double bound = SIDECAR_OBS_FIRST_MS;
        for (unsigned i = 0; i < SIDECAR_OBS_BUCKETS; i++) {
            seen += o->lat[i];
            if (seen >= need)
                break;
            bound *= SIDECAR_OBS_GROWTH;
        }
        out->p99_ms = bound;
    }
    sidecar_obs_init(o);
}
