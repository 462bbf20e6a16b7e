/*
 * forecaster.h — the forecasting core of one LaunchPolicy: engagement events
 * and the observed request rate in, once per second a forecast and a replica
 * decision out. Pure logic (no I/O, no clock, no globals): the predictor,
 * the controller and the simulator run this same code.
 *
 * Per second (fc_tick):
 *   1. velocity v = weighted events/s over the window (velocity.h);
 *   2. Holt's damped trend on v gives the velocity forecast and its band
 *      for 0..leadSeconds ahead (forecast.h);
 *   3. the demand model (demand.h) turns velocity into request rate:
 *      rps = base + gain * v(t - lag), gain and lag calibrated online from
 *      the observed rate; predicted_rps is the expected rate leadSeconds
 *      ahead, predicted_upper the upper bound over the next leadSeconds;
 *   4. the reactive floor (reactive.h): the smoothed observed rate; while
 *      it surges and engagement explains less than half of it (the demand
 *      model forecasts the rest), its projection leadSeconds ahead, which
 *      catches traffic no engagement announced, a little early;
 *   5. the decision (decide.h): the predictive term is the higher of the
 *      demand model's upper bound and the surge projection, the floor is
 *      the smoothed observed rate, the schedule floor and minReplicas;
 *      scale-up immediate, stabilised scale-down.
 *
 * The factor for the sidecars is max(predicted, reactive, surge) / baseRps,
 * clamped to [1, FC_FACTOR_MAX]: 1 means "normal load", 10 "ten times it".
 *
 * Ownership: fc_init() copies the policy and allocates every buffer
 * (O(window + maxLag + lags * leadSeconds + stabilization)); fc_free()
 * releases them. Nothing allocates after fc_init(). fc_copy() copies state
 * into a forecaster the caller fc_init'ed (with the same policy) and still
 * owns: no allocation, src untouched, the two share no memory afterwards —
 * a shadow for "what would the tick say now" without disturbing the real
 * one.
 */
#ifndef LIFTOFF_FORECASTER_H
#define LIFTOFF_FORECASTER_H

#include <stdbool.h>
#include <stdint.h>

#include "decide.h"
#include "demand.h"
#include "forecast.h"
#include "forecast_policy.h"
#include "reactive.h"
#include "velocity.h"

#define FC_RPS_STALE_S 10   /* an observed rate further than this from now is ignored */
#define FC_SURGE_MAX_SHARE 0.5 /* surges are projected while engagement explains less */

typedef struct fc_output {
    int64_t now_s;
    double eps;              /* weighted events/s over the window */
    double eps_trend;        /* its trend, per second per second */
    double eps_forecast;     /* expected velocity leadSeconds ahead */
    double eps_forecast_sd;  /* its standard deviation (the velocity band) */
    double observed_rps;     /* the fresh observed rate, -1 when none */
    double predicted_rps;    /* expected rate leadSeconds ahead (demand model) */
    double predicted_sd;     /* its standard deviation (the rate's band) */
    double predicted_upper;  /* upper bound over the next leadSeconds: the
                                highest over plausible lags and the horizon,
                                gain + gainZ sd, + bandZ noise sd */
    double reactive_rps;     /* observed rate, smoothed (the floor), -1 when none */
    double surge_rps;        /* its projection while it surges, -1 when not */
    double gain, base;       /* calibrated rps per engagement and base rps */
    double rel_noise;        /* the rate's unpredictability at the lead, sd / rate */
    uint32_t lag_s;          /* best-fitting engagement-to-traffic lag */
    double factor;           /* for the sidecars, see above */
    decide_output decision;  /* desired replicas and why */
} fc_output;

typedef struct fc {
    fc_policy pol;
    vel_t vel;
    holt_t eps_holt;
    reactive_t react;
    demand_t dem;
    decide_t dec;
    double *curve;           /* 2 * (leadSeconds + 1) scratch doubles */
    bool started;
    int64_t last_tick_s;
    bool rps_have;
    double rps_last;
    int64_t rps_last_s;
} fc_t;

/* Prepares a forecaster for a policy (validated): 0 or -EINVAL. */
int fc_init(fc_t *f, const fc_policy *p);
/* Releases every buffer. */
void fc_free(fc_t *f);
/* Copies src's whole state (policy included) into dst, which fc_init()
 * prepared with the same policy (same window, lag bank, lead, surge and
 * windows at least as long): 0, or -EINVAL when the buffers differ in size
 * (dst then unusable until fc_copy succeeds or fc_reset). Allocates
 * nothing; src is not modified. */
int fc_copy(fc_t *dst, const fc_t *src);
/* Forgets all learned state and history; keeps the policy. */
void fc_reset(fc_t *f);
/* Applies a changed policy keeping what was learned when the window, lag
 * bank and lead are unchanged: 0; -EINVAL for an invalid policy; -ENOSPC
 * when the change needs fc_free() + fc_init(). */
int fc_set_policy(fc_t *f, const fc_policy *p);

/* One engagement event (or count of identical ones) of a type at ts_ms:
 * 0, or -ESTALE when older than the window (ignored and counted). */
int fc_observe_event(fc_t *f, int64_t ts_ms, const char *type, uint32_t count);
/* The same with an explicit total weight. */
int fc_observe_weight(fc_t *f, int64_t ts_ms, double weight);
/* The request rate the service saw in the second of ts_ms (the sum over
 * its pods); the newest observation wins. */
void fc_observe_rps(fc_t *f, int64_t ts_ms, double rps);

/* Advances to the second now_s (the second that just ended; seconds
 * skipped since the last tick are stepped through) and decides, given the
 * Deployment's current replicas. */
void fc_tick(fc_t *f, int64_t now_s, uint32_t current_replicas, fc_output *out);

#endif
