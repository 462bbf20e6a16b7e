/* forecast.c — Holt's damped-trend smoothing with a prediction band (see
 * forecast.h). */
#include "forecast.h"

#include <math.h>

static double clamp01(double x)
{
    return x < 0 ? 0 : x > 1 ? 1 : x;
}

void holt_init(holt_t *h, double alpha, double beta, double phi, double var_gain)
{
    h->alpha = clamp01(alpha);
    h->beta = clamp01(beta);
    h->phi = clamp01(phi);
    h->var_gain = var_gain > 0 && var_gain <= 1 ? var_gain : 1;
    holt_reset(h);
}

void holt_reset(holt_t *h)
{
    h->level = h->trend = h->err_var = 0;
    h->n = 0;
}

void holt_update(holt_t *h, double y)
{
    if (h->n == 0) {
        h->level = y;
        h->trend = 0;
        h->n = 1;
        return;
    }
    double pred = h->level + h->phi * h->trend;
    double err = y - pred;
    if (h->n == 1)
        h->err_var = err * err;
    else
        h->err_var += h->var_gain * (err * err - h->err_var);
    double prev = h->level;
    h->level = h->alpha * y + (1 - h->alpha) * pred;
    h->trend = h->beta * (h->level - prev) + (1 - h->beta) * h->phi * h->trend;
    h->n++;
}

double holt_mean(const holt_t *h, uint32_t steps)
{
    double sum = 0, p = 1;
    for (uint32_t i = 0; i < steps; i++) {
        p *= h->phi;
        sum += p;
    }
    return h->level + sum * h->trend;
}

double holt_sd(const holt_t *h, uint32_t steps)
{
    if (steps == 0)
        return 0;
    double acc = 1, phisum = 0, p = 1;
    for (uint32_t j = 1; j < steps; j++) {
        p *= h->phi;
        phisum += p;
        double c = h->alpha * (1 + h->beta * phisum);
        acc += c * c;
    }
    return sqrt(h->err_var * acc);
}

void holt_curve(const holt_t *h, uint32_t n, double *mean, double *sd)
{
    double phisum = 0, p = 1, acc = 1;
    mean[0] = h->level;
    sd[0] = 0;
    for (uint32_t i = 1; i <= n; i++) {
        /* c_{i-1} joins the variance sum for i steps ahead */
        if (i >= 2) {
            double c = h->alpha * (1 + h->beta * phisum);
            acc += c * c;
        }
        p *= h->phi;
        phisum += p;
        mean[i] = h->level + phisum * h->trend;
        sd[i] = sqrt(h->err_var * acc);
    }
}
