/*
 * decision.h — the controller's replica decision for one policy, from the
 * predictor's forecast (channel liftoff:forecast or the hash
 * liftoff:forecast:<ns>:<name>, docs/redis-keys.md).
 *
 * The predictor already runs the shared decision function (lib/decide.h,
 * with its scale-down stabilisation and step limit) and publishes its
 * result as desired_replicas; the controller does not stabilise a second
 * time. It clamps that count to the policy's [minReplicas, maxReplicas]
 * (the spec may have changed after the forecast) and fails safe:
 *
 *   fresh forecast (updated_at within stale_ms): clamp(desired)
 *   missing or stale, for less than hold_ms:     keep the current replicas
 *   missing or stale, longer:                    max(minReplicas, current)
 *
 * both clamped to [minReplicas, maxReplicas]: a lost signal never scales
 * down. Pure: no I/O, nothing allocated.
 */
#ifndef LIFTOFF_CTL_DECISION_H
#define LIFTOFF_CTL_DECISION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "policy.h"

#define CTL_REASON_MAX 32   /* the forecast's reason, with the NUL */

typedef struct ctl_forecast {
    bool have;                  /* a forecast was read */
    double eps;                 /* velocity, weighted events/s */
    double predicted_rps;
    double factor;
    uint32_t desired_replicas;
    char reason[CTL_REASON_MAX];
    uint64_t updated_at_ms;     /* Unix ms, when the predictor published it */
} ctl_forecast;

typedef enum ctl_signal {
    CTL_SIGNAL_OK = 0,      /* fresh forecast */
    CTL_SIGNAL_MISSING,     /* no forecast */
    CTL_SIGNAL_STALE,       /* older than stale_ms */
} ctl_signal;

typedef struct ctl_decision {
    uint32_t replicas;          /* what the target should have */
    ctl_signal signal;
    bool holding;               /* signal lost, within the hold period */
    const char *why;            /* static text: the forecast's reason, "hold", "fallback" */
} ctl_decision;

/* Reads the channel's JSON message (namespace and name into ns/name, each
 * CTL_NAME_MAX bytes) into *f: 0 or -EINVAL. */
int ctl_forecast_parse_json(const char *msg, size_t len, char *ns, char *name, ctl_forecast *f);
/* Reads an HGETALL answer given as n field/value string pairs; n 0 gives a
 * missing forecast. 0 or -EINVAL (no usable desired_replicas/updated_at). */
int ctl_forecast_from_fields(const char *const *fields, const char *const *values, size_t n,
                             ctl_forecast *f);

/* Decides at now_ms (Unix ms). *lost_since_ms is the policy's memory of
 * when the signal went away (0: it did not), updated here. */
void ctl_decide(const ctl_policy *p, const ctl_forecast *f, uint32_t current, uint64_t now_ms,
                uint64_t stale_ms, uint64_t hold_ms, uint64_t *lost_since_ms,
                ctl_decision *out);
/* "ok", "missing", "stale". */
const char *ctl_signal_name(ctl_signal s);

#endif
