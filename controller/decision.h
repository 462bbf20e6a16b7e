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
 *   missing or stale, longer (the fallback):     the reactive floor
 *       raw = ceil(observed rps * (1 + headroomPercent/100) / podCapacityRps),
 *       at least minReplicas; without a fresh observed rate (Redis down,
 *       no sidecar reporting) raw = the current replicas, at least
 *       minReplicas
 *
 * all clamped to [minReplicas, maxReplicas]: a lost signal never scales
 * down blind, only to what the sidecars see the service serve.
 *
 * In the fallback, scale-up to raw is immediate; scale-down goes through
 * lib/decide.h as the predictor's does (the forecast term absent): to the
 * highest raw of the last scaleDown.stabilizationSeconds (the replicas
 * when the fallback began count as one, at that second), at most one step
 * per scaleDown.periodSeconds, a step removing at most maxStepPods, or else
 * maxStepPercent of the current replicas (at least one pod). A scale-down so held or slowed
 * has the reason "fallback-stabilized".
 *
 * Ownership: ctl_memory is the policy's memory between decisions; the
 * fallback's windows (ctl_memory.fallback) are allocated when the fallback
 * begins and freed when a fresh forecast returns, or by ctl_memory_free().
 * Nothing else is allocated; no I/O.
 */
#ifndef LIFTOFF_CTL_DECISION_H
#define LIFTOFF_CTL_DECISION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "decide.h"
#include "policy.h"

#define CTL_REASON_MAX 32                /* the forecast's reason, with the NUL */
#define CTL_OBSERVED_FRESH_MS 10000u     /* an observed report older than this is ignored */
#define CTL_OBSERVED_FIELDS_MAX 1024u    /* observed hash fields looked at */

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
    bool reactive;              /* the fallback followed the observed rate */
    bool stabilized;            /* the fallback's scale-down was held or slowed */
    const char *why;            /* static text: the forecast's reason, "hold", "fallback",
                                   "fallback-reactive", "fallback-stabilized" */
} ctl_decision;

/* What ctl_decide remembers of one policy between decisions: zero it to
 * start, ctl_memory_free() it when the policy goes. */
typedef struct ctl_memory {
    uint64_t lost_since_ms;     /* when the signal went away (Unix ms); 0: it did not */
    decide_t *fallback;         /* the fallback's scale-down windows; NULL outside it */
} ctl_memory;

/* Reads the channel's JSON message (namespace and name into ns/name, each
 * CTL_NAME_MAX bytes) into *f: 0 or -EINVAL. */
int ctl_forecast_parse_json(const char *msg, size_t len, char *ns, char *name, ctl_forecast *f);
/* Reads an HGETALL answer given as n field/value string pairs; n 0 gives a
 * missing forecast. 0 or -EINVAL (no usable desired_replicas/updated_at). */
int ctl_forecast_from_fields(const char *const *fields, const char *const *values, size_t n,
                             ctl_forecast *f);

/* The observed request rate in an HGETALL of liftoff:observed:<ns>:<name>
 * (n field/value pairs, docs/redis-keys.md): the sum of rps over the
 * reporters whose updated_at is at most CTL_OBSERVED_FRESH_MS before now_ms
 * (Unix ms), or -1 when none is fresh. */
double ctl_observed_rps(const char *const *fields, const char *const *values, size_t n,
                        uint64_t now_ms);
/* The reactive floor for a request rate: ceil(rps * (1 + headroom) /
 * capacity), at most FC_MAX_REPLICAS; 0 for rps <= 0. */
uint32_t ctl_reactive_replicas(const ctl_policy *p, double rps);
/* Decides at now_ms (Unix ms). observed_rps: the fresh observed rate, < 0
 * when none. *m is the policy's memory, updated here (the fallback's
 * windows allocated or freed). Call it once per reconcile: each call in
 * the fallback may use up the scale-down step of its period. */
void ctl_decide(const ctl_policy *p, const ctl_forecast *f, uint32_t current, double observed_rps,
                uint64_t now_ms, uint64_t stale_ms, uint64_t hold_ms, ctl_memory *m,
                ctl_decision *out);
/* Frees what *m holds (the fallback's windows) and zeroes it. */
void ctl_memory_free(ctl_memory *m);
/* "ok", "missing", "stale". */
const char *ctl_signal_name(ctl_signal s);

#endif
