/* demand.c — online calibration of rps = base + gain * velocity(t - lag)
 * over a bank of candidate lags (see demand.h). */
#include "demand.h"
#include "common.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEMAND_MIN_REL_NOISE 0.02   /* never trust the rate better than 2 % */
#define DEMAND_CLIP_SD 3.0          /* noise samples are clipped to 3 times the estimate */
#define DEMAND_INIT_REL_NOISE 0.10

void demand_params_default(demand_params *p, double base_rps, double gain, uint32_t horizon_s)
{
    p->max_lag_s = 300;
    p->lag_step_s = 10;
    p->horizon_s = horizon_s;
    p->forget_s = 600;
    p->score_s = 60;
    p->noise_s = 600;
    p->base_rps = base_rps;
    p->gain = gain;
    p->base_sd = base_rps > 10 ? base_rps : 10;
    p->gain_sd = 0.5 * gain;
    p->gain_max = gain + 3 * p->gain_sd;
    p->gain_z = 1.0;
    p->plausible_ratio = 2.0;
}

static bool params_ok(const demand_params *p)
{
    return p->lag_step_s > 0 && p->max_lag_s <= DEMAND_MAX_LAG_S &&
           p->max_lag_s / p->lag_step_s + 1 <= DEMAND_MAX_LAGS &&
           p->horizon_s <= DEMAND_MAX_HORIZON_S && p->forget_s >= 1 && p->score_s >= 1 &&
           p->noise_s >= 1 && p->base_rps >= 0 && p->gain >= 0 && p->base_sd > 0 &&
           p->gain_sd >= 0 && p->gain_max >= p->gain && p->gain_z >= 0 &&
           p->plausible_ratio >= 1;
}

static void lag_reset(demand_t *d, demand_lag *l)
{
    l->b = d->par.base_rps;
    l->k = d->par.gain;
    l->p00 = d->par.base_sd * d->par.base_sd;
    l->p01 = 0;
    l->p11 = d->par.gain_sd * d->par.gain_sd;
    l->score = 0;
    l->scored = 0;
    for (uint32_t i = 0; i <= d->par.horizon_s; i++)
        l->pending[i] = NAN;
}

static void set_params(demand_t *d, const demand_params *p)
{
    d->par = *p;
    d->revert = 1.0 / p->forget_s;
    d->score_gain = 1.0 / p->score_s;
    d->noise_gain = 1.0 / p->noise_s;
}

int demand_init(demand_t *d, const demand_params *p)
{
    memset(d, 0, sizeof *d);
    if (!params_ok(p))
        return -EINVAL;
    set_params(d, p);
    d->hist_cap = p->max_lag_s + 1;
    d->hist = xcalloc(d->hist_cap, sizeof *d->hist);
    d->nlags = p->max_lag_s / p->lag_step_s + 1;
    d->pending_mem = xcalloc((size_t)d->nlags * (p->horizon_s + 1), sizeof *d->pending_mem);
    for (uint32_t i = 0; i < d->nlags; i++) {
        d->lag[i].lag_s = i * p->lag_step_s;
        d->lag[i].pending = d->pending_mem + (size_t)i * (p->horizon_s + 1);
    }
    demand_reset(d);
    return 0;
}

void demand_free(demand_t *d)
{
    free(d->hist);
    free(d->pending_mem);
    d->hist = NULL;
    d->pending_mem = NULL;
}

int demand_copy(demand_t *dst, const demand_t *src)
{
    if (dst == src)
        return 0;
    if (!dst->hist || !src->hist || dst->hist_cap != src->hist_cap ||
        dst->nlags != src->nlags || dst->par.horizon_s != src->par.horizon_s)
        return -EINVAL;
    double *hist = dst->hist, *pending = dst->pending_mem;
    size_t slots = (size_t)src->par.horizon_s + 1;
    memcpy(hist, src->hist, src->hist_cap * sizeof *hist);
    memcpy(pending, src->pending_mem, (size_t)src->nlags * slots * sizeof *pending);
    *dst = *src;
    dst->hist = hist;
    dst->pending_mem = pending;
    for (uint32_t i = 0; i < dst->nlags; i++)
        dst->lag[i].pending = pending + (size_t)i * slots;
    return 0;
}

void demand_reset(demand_t *d)
{
    memset(d->hist, 0, d->hist_cap * sizeof *d->hist);
    d->n = 0;
    d->best = 0;
    d->level = 0;
    d->rel_noise2 = DEMAND_INIT_REL_NOISE * DEMAND_INIT_REL_NOISE;
    for (uint32_t i = 0; i < d->nlags; i++)
        lag_reset(d, &d->lag[i]);
}

int demand_set_priors(demand_t *d, const demand_params *p)
{
    if (!params_ok(p) || p->max_lag_s != d->par.max_lag_s ||
        p->lag_step_s != d->par.lag_step_s || p->horizon_s != d->par.horizon_s)
        return -EINVAL;
    set_params(d, p);
    for (uint32_t i = 0; i < d->nlags; i++)
        lag_reset(d, &d->lag[i]);
    return 0;
}

void demand_push_velocity(demand_t *d, double v)
{
    d->hist[d->n % d->hist_cap] = v;
    d->n++;
}

double demand_velocity_ago(const demand_t *d, uint32_t ago)
{
    if (ago >= d->n || ago >= d->hist_cap)
        return 0;
    return d->hist[(d->n - 1 - ago) % d->hist_cap];
}

/* One second of drift back to the priors, then the Kalman update with the
 * observation y = b + k x. */
static void lag_update(demand_t *d, demand_lag *l, double x, double y)
{
    const demand_params *p = &d->par;
    double r = d->revert;
    l->b += r * (p->base_rps - l->b);
    l->k += r * (p->gain - l->k);
    l->p00 += r * (p->base_sd * p->base_sd - l->p00);
    l->p01 += r * (0 - l->p01);
    l->p11 += r * (p->gain_sd * p->gain_sd - l->p11);

    double yhat = l->b + l->k * x;
    double e = y - yhat;
    double level = yhat > y ? yhat : y;
    double noise = d->rel_noise2 * level * level + level + 1; /* relative + Poisson */
    if (p->gain * x * p->gain * x < noise) {
        /* engagement too faint to matter against the noise: learn only the
         * base, so noise cannot pass for a gain */
        double g0 = l->p00 / (l->p00 + noise);
        l->b += g0 * e;
        l->p00 -= g0 * l->p00;
    } else {
        double px0 = l->p00 + l->p01 * x; /* P * (1, x) */
        double px1 = l->p01 + l->p11 * x;
        double s = px0 + px1 * x + noise;
        double g0 = px0 / s, g1 = px1 / s;
        l->b += g0 * e;
        l->k += g1 * e;
        l->p00 -= g0 * px0;
        l->p01 -= g0 * px1;
        l->p11 -= g1 * px1;
    }
    if (l->p00 < 1e-9)
        l->p00 = 1e-9;
    if (l->p11 < 1e-12)
        l->p11 = 1e-12;
    if (l->k < 0)
        l->k = 0;
    if (l->k > p->gain_max)
        l->k = p->gain_max;
    if (l->b < 0)
        l->b = 0;
}

void demand_observe_rps(demand_t *d, double y)
{
    if (d->n == 0 || !(y >= 0))
        return;
    uint32_t slot = (uint32_t)((d->n - 1) % (d->par.horizon_s + 1));
    double scale = y > 1 ? y : 1;
    d->level = d->level > 0 ? d->level + d->score_gain * (y - d->level) : y;
    for (uint32_t i = 0; i < d->nlags; i++) {
        demand_lag *l = &d->lag[i];
        double p = l->pending[slot];
        if (!isnan(p)) {
            double e = (y - p) / scale;
            l->score = l->scored ? l->score + d->score_gain * (e * e - l->score) : e * e;
            l->scored++;
            l->pending[slot] = NAN;
            if (i == d->best) {
                /* the rate's unpredictability at the horizon, from the best
                 * lag: Poisson's share removed (the fits add it back by level),
                 * each sample clipped to DEMAND_CLIP_SD times the estimate
                 * so a transition does not widen the band for long */
                double e2 = e * e - 1.0 / scale;
                double cap = DEMAND_CLIP_SD * DEMAND_CLIP_SD * d->rel_noise2;
                if (e2 > cap)
                    e2 = cap;
                if (e2 < 0)
                    e2 = 0;
                d->rel_noise2 += d->noise_gain * (e2 - d->rel_noise2);
                if (d->rel_noise2 < DEMAND_MIN_REL_NOISE * DEMAND_MIN_REL_NOISE)
                    d->rel_noise2 = DEMAND_MIN_REL_NOISE * DEMAND_MIN_REL_NOISE;
            }
        }
        if (l->lag_s < d->n)
            lag_update(d, l, demand_velocity_ago(d, l->lag_s), y);
    }
}

/* The velocity at offset o seconds from now (o <= 0: history). */
static double vel_at(const demand_t *d, int64_t o, const double *fc)
{
    return o <= 0 ? demand_velocity_ago(d, (uint32_t)-o) : fc[o];
}

void demand_predict(demand_t *d, const double *vmean, const double *vsd, double z,
                    demand_pred *out)
{
    const demand_params *p = &d->par;
    uint32_t H = p->horizon_s;
    uint32_t slot = (uint32_t)((d->n - 1 + H) % (H + 1));
    double best = INFINITY;
    uint32_t bi = 0;
    for (uint32_t i = 0; i < d->nlags; i++)
        if (d->lag[i].scored && d->lag[i].score < best) {
            best = d->lag[i].score;
            bi = i;
        }
    bool any_scored = best < INFINITY;
    /* plausible: within the ratio of the best score, plus what noise alone
     * makes scores differ by at this rate (they are noisy themselves) */
    double lvl = d->level > 1 ? d->level : 1;
    double limit = any_scored ? p->plausible_ratio * best + d->rel_noise2 + 1.0 / lvl : INFINITY;
    d->best = bi;

    memset(out, 0, sizeof *out);
    out->rel_noise = sqrt(d->rel_noise2);
    double prior_up = p->gain + p->gain_z * p->gain_sd;
    for (uint32_t i = 0; i < d->nlags; i++) {
        demand_lag *l = &d->lag[i];
        int64_t lag = l->lag_s;
        l->pending[slot] = l->b + l->k * vel_at(d, (int64_t)H - lag, vmean);
        if (l->scored && l->score > limit)
            continue;
        /* the highest velocity this lag will see over the horizon: known
         * history, then the forecast with its band */
        double xmax = 0;
        for (int64_t h = 0; h <= (int64_t)H; h++) {
            int64_t o = h - lag;
            double x = o <= 0 ? demand_velocity_ago(d, (uint32_t)-o) : vmean[o] + z * vsd[o];
            if (x > xmax)
                xmax = x;
        }
        double ksd = sqrt(l->p11);
        double kup = l->k + p->gain_z * ksd;
        /* a gain far from the prior needs evidence: until this lag's spread
         * has halved, its upper gain stays within the prior's */
        if (ksd > 0.5 * p->gain_sd && kup > prior_up)
            kup = prior_up;
        if (kup > p->gain_max)
            kup = p->gain_max;
        double up = (l->b + kup * xmax) * (1 + z * out->rel_noise);
        if (up > out->upper)
            out->upper = up;
        out->plausible++;
    }
    demand_lag *b = &d->lag[bi];
    out->lag_s = b->lag_s;
    out->gain = b->k;
    out->base = b->b;
    out->gain_sd = sqrt(b->p11);
    out->mean = b->pending[slot];
    double now = b->k * demand_velocity_ago(d, b->lag_s);
    out->share = now + b->b > 0 ? now / (now + b->b) : 0;
}
