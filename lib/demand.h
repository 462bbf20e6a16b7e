/*
 * demand.h — the demand model: request rate = base + gain * engagement
 * velocity `lag` seconds earlier, calibrated online.
 *
 * A bank of candidate lags (0, step, 2*step, ..., max_lag) each tracks
 * (b, k) of rps(t) = b + k * v(t - lag) with a Kalman filter (recursive
 * least squares) whose state drifts back to the policy's priors (baseRps,
 * rpsPerEngagement) with time constant forget_s: recent data dominate, and
 * while there is nothing to learn from the fit returns to what the policy
 * says instead of wandering. While the engagement is too faint to show
 * against the noise of the rate (prior gain * velocity below the noise's
 * standard deviation) only the base is learnt. k stays within [0, gain_max]
 * and b >= 0. The noise of the rate is relative (a share of the rate) plus
 * Poisson's; the relative part is learnt from the best lag's horizon errors
 * over noise_s, clipped so that one transition does not widen it for long.
 *
 * Each lag also predicts the rate `horizon` seconds ahead every second
 * (velocity from history, or from the caller's velocity forecast when the
 * lag is shorter than the horizon); when that second arrives the relative
 * squared error is scored (exponentially weighted over score_s). The lag
 * with the lowest score is the best-fitting lag; lags scoring within
 * `plausible_ratio` of it, plus the squared relative noise expected at the
 * current rate (scores are noisy too), are plausible, and the upper
 * prediction is the highest over them: while the data cannot tell lags
 * apart (before a launch) the model is cautious, once traffic follows
 * engagement it commits to the lags that fit.
 *
 * Plausibility guard: engagement that traffic never follows (an upvote ring)
 * drives k towards 0 for every lag the engagement has passed, so it stops
 * predicting traffic once the longest lag has gone by.
 *
 * Ownership: demand_init() allocates the velocity history and the pending
 * predictions (O(max_lag + lags * horizon)); demand_free() releases them.
 * Nothing allocates afterwards.
 */
#ifndef LIFTOFF_DEMAND_H
#define LIFTOFF_DEMAND_H

#include <stdbool.h>
#include <stdint.h>

#define DEMAND_MAX_LAGS 64        /* candidate lags */
#define DEMAND_MAX_LAG_S 1800u    /* longest lag, seconds */
#define DEMAND_MAX_HORIZON_S 1800u

typedef struct demand_params {
    uint32_t max_lag_s;      /* longest candidate lag */
    uint32_t lag_step_s;     /* spacing of the candidates (> 0) */
    uint32_t horizon_s;      /* how far ahead predictions are made and scored */
    double forget_s;         /* time constant of the drift back to the priors */
    double score_s;          /* time constant of the prediction scores */
    double noise_s;          /* time constant of the relative noise estimate */
    double base_rps;         /* prior intercept */
    double gain;             /* prior rps per unit of velocity */
    double base_sd, gain_sd; /* prior spreads */
    double gain_max;         /* k never exceeds this */
    double gain_z;           /* the upper prediction uses k + gain_z * sd(k) */
    double plausible_ratio;  /* plausible: score <= ratio * best + noise */
} demand_params;

typedef struct demand_lag {
    uint32_t lag_s;
    double b, k;             /* intercept and gain */
    double p00, p01, p11;    /* covariance of (b, k) */
    double score;            /* relative squared error of horizon predictions */
    uint64_t scored;         /* predictions scored */
    double *pending;         /* horizon_s + 1 slots, NAN = none */
} demand_lag;

typedef struct demand {
    demand_params par;
    double revert, score_gain, noise_gain; /* per-second weights */
    double rel_noise2;       /* squared relative noise of the rate */
    double level;            /* the rate, smoothed over score_s */
    uint32_t best;           /* index of the best-fitting lag */
    double *hist;            /* velocity per second, ring of max_lag_s + 1 */
    uint32_t hist_cap;
    uint64_t n;              /* seconds pushed */
    demand_lag lag[DEMAND_MAX_LAGS];
    uint32_t nlags;
    double *pending_mem;
} demand_t;

typedef struct demand_pred {
    double mean;             /* best lag's prediction horizon_s ahead */
    double upper;            /* highest upper bound over plausible lags, 0..horizon */
    double rel_noise;        /* relative noise of the rate (sd / rate) */
    uint32_t lag_s;          /* best-fitting lag */
    double gain, base;       /* best lag's k and b */
    double gain_sd;          /* its spread */
    uint32_t plausible;      /* number of plausible lags */
    double share;            /* engagement's share of the rate now, best lag:
                                k v / (b + k v) */
} demand_pred;

/* Fills p with the defaults for a prior (base rps, gain) and horizon. */
void demand_params_default(demand_params *p, double base_rps, double gain, uint32_t horizon_s);
/* Sets up the model: 0 or -EINVAL (a parameter out of range). */
int demand_init(demand_t *d, const demand_params *p);
/* Releases the memory. */
void demand_free(demand_t *d);
/* Copies src's state into dst (demand_init'ed with the same lags and
 * horizon; nothing allocated): 0, or -EINVAL when they differ (dst
 * unchanged). */
int demand_copy(demand_t *dst, const demand_t *src);
/* Back to the priors, no history. */
void demand_reset(demand_t *d);

/* New priors and memories (same lags and horizon): the fits restart from
 * the priors, the velocity history stays. 0 or -EINVAL. */
int demand_set_priors(demand_t *d, const demand_params *p);
/* Appends the velocity of the next second. */
void demand_push_velocity(demand_t *d, double v);
/* The velocity `ago` seconds before the last pushed one (0 before the start). */
double demand_velocity_ago(const demand_t *d, uint32_t ago);
/* The request rate observed in the last pushed second: scores the
 * predictions made for it and updates every lag's fit. */
void demand_observe_rps(demand_t *d, double rps);
/* Predicts from the fits; vmean[h] and vsd[h] (h = 0..horizon_s) are the
 * velocity forecast h seconds ahead and its standard deviation. A lag's
 * upper bound is (b + k_up * x_up) * (1 + z * relative noise): x_up is the
 * highest velocity it will see over the horizon (history, or the forecast
 * + z sd); k_up = k + gain_z * sd(k), and, until the lag's sd(k) has halved
 * from the prior's, no more than the prior's gain + gain_z * sd. Also
 * records each lag's prediction for scoring horizon_s seconds later. */
void demand_predict(demand_t *d, const double *vmean, const double *vsd, double z,
                    demand_pred *out);

#endif
