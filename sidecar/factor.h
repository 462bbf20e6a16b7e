/*
 * factor.h — the load factor the sidecar uses, as last heard from the
 * predictor (docs/redis-keys.md: the liftoff:forecast channel's JSON and the
 * liftoff:forecast:<ns>:<name> hash), with its age. Pure logic: no I/O, no
 * allocation; the caller passes the clocks in.
 *
 * Age: a value's age is how old it already was when it arrived (the
 * receiver's wall clock minus the predictor's updated_at, never negative)
 * plus the time since it arrived (monotonic clock). Once the age passes
 * factorMaxAgeSeconds the factor in use decays to 1.0 (no scaling of
 * Cache-Control): a sidecar that lost the predictor behaves as if there
 * were no launch. A value whose updated_at is older than the one held is
 * ignored (a slow poll reply must not undo a newer message).
 */
#ifndef LIFTOFF_SIDECAR_FACTOR_H
#define LIFTOFF_SIDECAR_FACTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIDECAR_FACTOR_MAX 1e6          /* larger values are rejected */
#define SIDECAR_FORECAST_JSON_MAX 8192  /* a channel message, bytes */

typedef struct sidecar_factor {
    bool have;              /* a value arrived */
    double value;           /* > 0 */
    int64_t updated_at_ms;  /* the predictor's updated_at (Unix ms); 0: unknown */
    uint64_t rx_mono_ms;    /* when it arrived (monotonic) */
    uint64_t age_at_rx_ms;  /* how old it was then */
} sidecar_factor;

/* No value: the factor in use is 1.0. */
void sidecar_factor_init(sidecar_factor *f);
/* Records a value received at now_mono_ms / now_wall_ms. Returns 1 if taken,
 * 0 if ignored as older than the one held, -EINVAL if value is not a
 * finite number in (0, SIDECAR_FACTOR_MAX]. */
int sidecar_factor_set(sidecar_factor *f, double value, int64_t updated_at_ms,
                       uint64_t now_mono_ms, int64_t now_wall_ms);
/* The factor to use now: the value, or 1.0 when there is none or it is
 * older than max_age_s seconds. */
double sidecar_factor_get(const sidecar_factor *f, uint32_t max_age_s, uint64_t now_mono_ms);
/* The value's age now in ms (UINT64_MAX if there is none). */
uint64_t sidecar_factor_age_ms(const sidecar_factor *f, uint64_t now_mono_ms);

/* Parses a liftoff:forecast channel message. Returns 1 with *factor and
 * *updated_at_ms set (0 if absent) when it is for ns/name, 0 when it is for
 * another policy, -EINVAL when it is not such a message. */
int sidecar_forecast_parse_msg(const char *json, size_t len, const char *ns, const char *name,
                               double *factor, int64_t *updated_at_ms);
/* Reads the factor from a forecast hash given as n field/value pairs
 * (HGETALL's order: fields[i], values[i]). 1 with the outputs set, 0 when
 * the hash has no factor field (e.g. it is absent), -EINVAL when the
 * factor field is not a number. */
int sidecar_forecast_parse_hash(size_t n, const char *const fields[], const size_t flens[],
                                const char *const values[], const size_t vlens[], double *factor,
                                int64_t *updated_at_ms);

#endif
