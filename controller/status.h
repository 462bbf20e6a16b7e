/*
 * status.h — the LaunchPolicy status and the scale Event, as JSON.
 *
 * ctl_status_build() makes the status object from what the last reconcile
 * saw and decided, keeping each condition's lastTransitionTime from the
 * previous status when its status did not change. Conditions: Ready,
 * Scaling, SignalLost, Paused. With an HPA on the target, Ready and
 * Scaling say so, and Scaling reports the HPA's minReplicas change
 * (reasons FloorRaised, FloorLowered, FloorRestored).
 *
 * Pure: no I/O. Returned objects are new references the caller decrefs.
 */
#ifndef LIFTOFF_CTL_STATUS_H
#define LIFTOFF_CTL_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "decision.h"
#include "policy.h"

#define CTL_TIME_MAX 32   /* RFC 3339 text with the NUL */

typedef struct ctl_observation {
    bool target_found;          /* the Deployment's scale was read */
    const char *target_error;   /* why not (when !target_found) */
    uint32_t current;           /* replicas before this reconcile */
    ctl_decision decision;
    const ctl_forecast *forecast;
    bool scaled;                /* replicas were changed now (Active mode) */
    const char *last_scale_time; /* RFC 3339, NULL or "" when never */
    /* through an HPA (hpa_floor.h): its name, NULL when none */
    const char *hpa;
    uint32_t hpa_min_from, hpa_min_to;  /* its minReplicas before, and as decided */
    bool hpa_patched;                   /* minReplicas was changed now */
} ctl_observation;

/* Formats Unix ms as "2026-01-02T03:04:05Z" into out. */
void ctl_time_format(uint64_t unix_ms, char out[CTL_TIME_MAX]);
/* The status object for p (prev: the object's current status, may be NULL). */
json_t *ctl_status_build(const ctl_policy *p, const ctl_observation *o, const json_t *prev,
                         uint64_t now_ms);
/* Whether two statuses say the same thing (everything equal). */
bool ctl_status_same(const json_t *a, const json_t *b);
/* Whether they differ at most in the gauges that move every second
 * (velocity, forecastRps, factor): such a change is written at most every
 * CTL_STATUS_GAUGE_INTERVAL_MS, the rest at once. */
bool ctl_status_same_but_gauges(const json_t *a, const json_t *b);
#define CTL_STATUS_GAUGE_INTERVAL_MS 10000u
/* A core/v1 Event about p: reason ScaledUp or ScaledDown, "from N to M: why". */
json_t *ctl_event_build(const ctl_policy *p, uint32_t from, uint32_t to, const char *why,
                        uint64_t now_ms);

#endif
