/*
 * decide.h — the replica decision: how many pods a Deployment should have
 * now, from the predicted and the observed request rate.
 *
 *   predictive = ceil(predicted_upper * (1 + headroom) / capacity)
 *   floor      = max( ceil(reactive_rps * (1 + headroom) / capacity),
 *                     schedule floor (prescaleReplicas from
 *                       launchAt - prewarmBefore - leadSeconds until
 *                       launchAt + holdSeconds),
 *                     minReplicas )
 *   raw        = min(max(predictive, floor), maxReplicas)
 *
 * Scale-up is immediate. Scale-down is stabilised as the Kubernetes HPA
 * does it, by the highest recommendation of a window: the floor's over
 * scaleDown.stabilizationSeconds (300 s: what the traffic itself needed is
 * not given up for five minutes), the forecast's over
 * scaleDown.forecastStabilizationSeconds (60 s: a pre-scale the traffic
 * did not follow — a bot ring, an overestimate — is released sooner; the
 * forecast already looks leadSeconds ahead). It is also rate-limited: at
 * most one step per periodSeconds, a step removing at most maxStepPods, or
 * else maxStepPercent of the current replicas (at least one pod).
 *
 * The same function serves the simulator and the controller (which passes
 * the forecast it read and the Deployment's current replicas).
 *
 * Ownership: decide_init() allocates the two windows (one entry per second
 * of each); decide_free() releases them. Nothing allocates afterwards.
 */
#ifndef LIFTOFF_DECIDE_H
#define LIFTOFF_DECIDE_H

#include <stdbool.h>
#include <stdint.h>

#include "forecast_policy.h"

typedef enum decide_reason {
    DECIDE_MIN = 0,      /* minReplicas */
    DECIDE_PREDICTED,    /* the forecast */
    DECIDE_REACTIVE,     /* the observed request rate */
    DECIDE_SCHEDULE,     /* the launch schedule */
    DECIDE_MAX,          /* capped at maxReplicas */
    DECIDE_STABILIZED,   /* held by a scale-down window */
    DECIDE_STEP_LIMITED, /* scale-down slowed by the step limit */
} decide_reason;

typedef struct decide_input {
    int64_t now_s;              /* unix seconds (any monotone second count) */
    double predicted_rps;       /* upper prediction over the lead time; < 0: none */
    double reactive_rps;        /* observed rate (or its short forecast); < 0: none */
    uint32_t current_replicas;  /* what the Deployment has now */
} decide_input;

typedef struct decide_output {
    uint32_t replicas;          /* the decision */
    uint32_t raw;               /* before stabilisation and step limits */
    uint32_t predicted, reactive, schedule; /* each term (0 when absent) */
    decide_reason reason;
} decide_output;

/* A sliding maximum over a window of seconds (monotone deque). */
typedef struct decide_window {
    struct decide_entry {
        int64_t t;
        uint32_t v;
    } *q;
    uint32_t cap, head, len;
    uint32_t window_s;
} decide_window;

typedef struct decide {
    decide_window floor_w, forecast_w;
    bool stepped;               /* a scale-down step happened */
    int64_t last_step_s;
} decide_t;

/* Prepares a decision state for windows up to floor_s and forecast_s
 * seconds (each at most FC_MAX_STABILIZATION_S): 0 or -EINVAL. */
int decide_init(decide_t *d, uint32_t floor_s, uint32_t forecast_s);
/* Releases the windows. */
void decide_free(decide_t *d);
/* Copies src's state into dst (decide_init'ed with windows at least as
 * long as src's entries need; nothing allocated): 0, or -EINVAL when they
 * do not fit (dst unchanged). */
int decide_copy(decide_t *dst, const decide_t *src);
/* Forgets the history. */
void decide_reset(decide_t *d);
/* Shortens the windows (not beyond what decide_init sized): 0 or -ENOSPC. */
int decide_set_windows(decide_t *d, uint32_t floor_s, uint32_t forecast_s);
/* One decision at in->now_s, with the policy's windows (which must fit
 * those of decide_init; call at most once per second for an exact window,
 * more often is fine: each second keeps its highest value). */
void decide_step(decide_t *d, const fc_policy *p, const decide_input *in, decide_output *out);

/* ceil(rps * (1 + headroom) / capacity), at most FC_MAX_REPLICAS; 0 for rps <= 0. */
uint32_t decide_replicas_for(const fc_policy *p, double rps);
/* The schedule floor at now_s (0 when no schedule applies). */
uint32_t decide_schedule_floor(const fc_policy *p, int64_t now_s);
/* A short name for a reason ("predicted", "reactive", ...). */
const char *decide_reason_name(decide_reason r);

#endif
