/*
 * forecast.h — Holt's double exponential smoothing with a damped trend, on a
 * series sampled once per second, with a prediction band.
 *
 *   level_t = alpha * y_t + (1 - alpha) * (level + phi * trend)
 *   trend_t = beta * (level_t - level_{t-1}) + (1 - beta) * phi * trend
 *   mean(h) = level + (phi + phi^2 + ... + phi^h) * trend
 *
 * With phi < 1 the trend fades: a forecast never extrapolates further than
 * trend * phi / (1 - phi), so a peak does not run away. The band is the
 * classic one for this model (Hyndman et al., class 1): with one-step error
 * variance s^2, var(h) = s^2 * (1 + sum_{j<h} c_j^2),
 * c_j = alpha * (1 + beta * (phi + ... + phi^j)). The one-step error variance
 * is an exponentially weighted mean of the squared errors.
 *
 * The first sample sets the level (trend 0). Pure arithmetic: no allocation.
 */
#ifndef LIFTOFF_FORECAST_H
#define LIFTOFF_FORECAST_H

#include <stdint.h>

typedef struct holt {
    double alpha, beta, phi;  /* smoothing of level, of trend; damping */
    double var_gain;          /* weight of a new squared error in err_var */
    double level, trend;
    double err_var;           /* one-step squared error, smoothed */
    uint64_t n;               /* samples seen */
} holt_t;

/* Sets the parameters (each clamped into [0, 1]; var_gain into (0, 1]) and
 * forgets the state. */
void holt_init(holt_t *h, double alpha, double beta, double phi, double var_gain);
/* Forgets the state, keeps the parameters. */
void holt_reset(holt_t *h);
/* Adds the next sample (one per second). */
void holt_update(holt_t *h, double y);
/* The forecast steps samples ahead (0 = the current level). */
double holt_mean(const holt_t *h, uint32_t steps);
/* The standard deviation of the forecast error steps ahead (O(steps)). */
double holt_sd(const holt_t *h, uint32_t steps);
/* Fills mean[i] and sd[i] for i = 0..n (i samples ahead) in O(n). */
void holt_curve(const holt_t *h, uint32_t n, double *mean, double *sd);

#endif
