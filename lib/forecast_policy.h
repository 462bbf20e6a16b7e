/*
 * forecast_policy.h — the parameters of one LaunchPolicy that the forecasting
 * core uses, with their defaults, limits and LaunchPolicy field names.
 *
 * Field names (dotted paths, as in the LaunchPolicy spec) and defaults:
 *
 *   prediction.windowSeconds          60    velocity window, 1..3600
 *   prediction.weights.<type>               weight per event type, 0..1000;
 *                                           defaults upvote 1.2, comment 1.0,
 *                                           maker_comment 1.5
 *   prediction.defaultWeight          1.0   any other event type
 *   prediction.leadSeconds            90    forecast horizon: pod start-up +
 *                                           margin, 0..900
 *   prediction.baseRps                50    request rate without engagement
 *                                           (prior; calibrated online)
 *   prediction.rpsPerEngagement       200   rps per weighted event/s (prior;
 *                                           calibrated online)
 *   prediction.maxLagSeconds          300   longest engagement-to-traffic lag
 *                                           considered, 0..1800
 *   prediction.headroomPercent        0     spare capacity on top of the
 *                                           upper forecast, 0..400
 *   prediction.model.*                      model tuning, see fc_model
 *   podCapacityRps                    200   rps one pod serves
 *   minReplicas                       2     1..FC_MAX_REPLICAS
 *   maxReplicas                       100   minReplicas..FC_MAX_REPLICAS
 *   scaleDown.stabilizationSeconds    300   window of the observed-load floor
 *   scaleDown.forecastStabilizationSeconds
 *                                     60    window of the forecast's
 *                                           recommendation (decide.h)
 *   scaleDown.maxStepPercent          50    1..100 per period
 *   scaleDown.maxStepPods             none  1..maxReplicas pods per period;
 *                                           when set, it replaces
 *                                           maxStepPercent
 *   scaleDown.periodSeconds           60    0..3600
 *   schedule.launchAt                 none  unix seconds or RFC 3339
 *   schedule.prescaleReplicas         0     floor around launchAt
 *   schedule.prewarmBefore            600   seconds or a duration ("10m")
 *   schedule.holdSeconds              1800  how long the floor stays after
 *                                           launchAt (seconds or duration)
 *
 * The model defaults were tuned once, on synthetic launch traces (see
 * sim/), and are the same for every trace.
 *
 * The struct is a plain value (no pointers): copy it freely.
 */
#ifndef LIFTOFF_FORECAST_POLICY_H
#define LIFTOFF_FORECAST_POLICY_H

#include <stdint.h>

#define FC_MAX_WEIGHTS 16             /* named event types with a weight */
#define FC_TYPE_NAME_MAX 32           /* event type name, with the NUL */
#define FC_MAX_REPLICAS 10000u
#define FC_MAX_STABILIZATION_S 3600u
#define FC_MAX_LEAD_S 900u
#define FC_FACTOR_MAX 1000.0          /* the published factor is clamped to [1, this] */

typedef struct fc_weight {
    char type[FC_TYPE_NAME_MAX];
    double weight;
} fc_weight;

/* prediction.model.<name> (defaults): */
typedef struct fc_model {
    double alpha, beta, phi;          /* alpha, beta, phi: Holt on the velocity
                                         (0.3, 0.05, 0.98) */
    double rps_alpha;                 /* rpsAlpha: smoothing of the observed
                                         rate (0.3) */
    uint32_t surge_seconds;           /* surgeSeconds: surge detection window (20) */
    double surge_ratio;               /* surgeRatio: growth over it that is a
                                         surge (1.2) */
    double band_z;                    /* bandZ: noise standard deviations the
                                         decision adds (0: the stabilisation
                                         windows already hold the noise peaks) */
    double gain_spread_percent;       /* gainSpreadPercent: prior spread of
                                         rpsPerEngagement (50) */
    double gain_z;                    /* gainZ: the upper bound uses gain +
                                         gainZ * its sd (1) */
    double forget_seconds;            /* forgetSeconds: calibration memory (600) */
    double noise_seconds;             /* noiseSeconds: memory of the noise
                                         estimate (600) */
    double score_seconds;             /* scoreSeconds: lag scoring memory (60) */
    double plausible_ratio;           /* plausibleRatio: lag plausibility (1.5) */
    uint32_t lag_step_seconds;        /* lagStepSeconds: spacing of candidate
                                         lags (10) */
} fc_model;

typedef struct fc_policy {
    uint32_t window_s;
    fc_weight weights[FC_MAX_WEIGHTS];
    uint32_t nweights;
    double default_weight;
    uint32_t lead_s;
    double base_rps;
    double rps_per_engagement;
    uint32_t max_lag_s;
    double headroom_percent;
    fc_model model;
    double pod_capacity_rps;
    uint32_t min_replicas, max_replicas;
    uint32_t scale_down_stabilization_s;
    uint32_t scale_down_forecast_stabilization_s;
    uint32_t scale_down_max_step_percent;
    uint32_t scale_down_max_step_pods; /* 0: the percent applies */
    uint32_t scale_down_period_s;
    int64_t launch_at_s;              /* 0: no schedule */
    uint32_t prescale_replicas;
    uint32_t prewarm_before_s;
    uint32_t schedule_hold_s;
} fc_policy;

/* Fills p with the documented defaults. */
void fc_policy_default(fc_policy *p);
/* Sets one field by its dotted name from its text value: 0, -ENOENT (no such
 * field), -EINVAL (not a valid value) or -ERANGE (outside the limits). */
int fc_policy_set(fc_policy *p, const char *path, const char *value);
/* Checks the fields together (minReplicas <= maxReplicas, ...): 0 or
 * -EINVAL with *why (static text) set when why is not NULL. */
int fc_policy_validate(const fc_policy *p, const char **why);
/* The most replicas one scale-down step removes from current replicas:
 * maxStepPods when set, else maxStepPercent of them; at least 1. */
uint32_t fc_policy_scale_down_step(const fc_policy *p, uint32_t current);
/* The weight of an event type (the default weight for unknown types). */
double fc_policy_weight(const fc_policy *p, const char *type);
/* Sets a type's weight (adds the type): 0, -EINVAL (bad name or weight) or
 * -ENOSPC (FC_MAX_WEIGHTS types already). */
int fc_policy_set_weight(fc_policy *p, const char *type, double weight);

/* Parses "2025-03-01T08:01:00Z" (or +hh:mm / -hh:mm) or plain unix seconds:
 * 0 or -EINVAL. Exposed for tests and readers. */
int fc_parse_time(const char *s, int64_t *out);
/* Parses a duration: plain seconds or Go style ("90s", "10m", "1h30m"): 0 or
 * -EINVAL / -ERANGE (more than a week). */
int fc_parse_duration(const char *s, uint32_t *out);

#endif
