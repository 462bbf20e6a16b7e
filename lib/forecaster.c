/* forecaster.c — the per-second forecasting and decision step of one
 * LaunchPolicy (see forecaster.h). */
#include "forecaster.h"
#include "common.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void demand_params_from(const fc_policy *p, demand_params *dp)
{
    demand_params_default(dp, p->base_rps, p->rps_per_engagement, p->lead_s);
    dp->max_lag_s = p->max_lag_s;
    dp->lag_step_s = p->model.lag_step_seconds;
    dp->forget_s = p->model.forget_seconds;
    dp->score_s = p->model.score_seconds;
    dp->noise_s = p->model.noise_seconds;
    dp->gain_sd = p->rps_per_engagement * p->model.gain_spread_percent / 100.0;
    dp->gain_max = p->rps_per_engagement + 3 * dp->gain_sd;
    dp->gain_z = p->model.gain_z;
    dp->plausible_ratio = p->model.plausible_ratio;
}

static void holts_init(fc_t *f)
{
    const fc_model *m = &f->pol.model;
    double g = 1.0 / m->score_seconds;
    holt_init(&f->eps_holt, m->alpha, m->beta, m->phi, g);

}

int fc_init(fc_t *f, const fc_policy *p)
{
    memset(f, 0, sizeof *f);
    if (fc_policy_validate(p, NULL))
        return -EINVAL;
    f->pol = *p;
    demand_params dp;
    demand_params_from(p, &dp);
    if (vel_init(&f->vel, p->window_s))
        return -EINVAL;
    if (demand_init(&f->dem, &dp)) {
        vel_free(&f->vel);
        return -EINVAL;
    }
    if (reactive_init(&f->react, p->model.rps_alpha, p->model.surge_seconds,
                      p->model.surge_ratio)) {
        demand_free(&f->dem);
        vel_free(&f->vel);
        return -EINVAL;
    }
    if (decide_init(&f->dec, p->scale_down_stabilization_s,
                    p->scale_down_forecast_stabilization_s)) {
        reactive_free(&f->react);
        demand_free(&f->dem);
        vel_free(&f->vel);
        return -EINVAL;
    }
    f->curve = xcalloc(2 * ((size_t)p->lead_s + 1), sizeof *f->curve);
    holts_init(f);
    return 0;
}

void fc_free(fc_t *f)
{
    vel_free(&f->vel);
    demand_free(&f->dem);
    decide_free(&f->dec);
    reactive_free(&f->react);
    free(f->curve);
    f->curve = NULL;
}

int fc_copy(fc_t *dst, const fc_t *src)
{
    if (dst == src)
        return 0;
    if (!dst->curve || !src->curve || dst->pol.lead_s != src->pol.lead_s)
        return -EINVAL;
    int rc = vel_copy(&dst->vel, &src->vel);
    if (rc == 0)
        rc = demand_copy(&dst->dem, &src->dem);
    if (rc == 0)
        rc = reactive_copy(&dst->react, &src->react);
    if (rc == 0)
        rc = decide_copy(&dst->dec, &src->dec);
    if (rc)
        return rc;
    dst->pol = src->pol;
    dst->eps_holt = src->eps_holt;
    /* the curve is scratch, rewritten by every tick */
    dst->started = src->started;
    dst->last_tick_s = src->last_tick_s;
    dst->rps_have = src->rps_have;
    dst->rps_last = src->rps_last;
    dst->rps_last_s = src->rps_last_s;
    return 0;
}

void fc_reset(fc_t *f)
{
    vel_reset(&f->vel);
    demand_reset(&f->dem);
    decide_reset(&f->dec);
    holt_reset(&f->eps_holt);
    reactive_reset(&f->react);
    f->started = false;
    f->rps_have = false;
}

int fc_set_policy(fc_t *f, const fc_policy *p)
{
    if (fc_policy_validate(p, NULL))
        return -EINVAL;
    const fc_policy *o = &f->pol;
    if (p->window_s != o->window_s || p->max_lag_s != o->max_lag_s ||
        p->model.lag_step_seconds != o->model.lag_step_seconds || p->lead_s != o->lead_s ||
        p->model.surge_seconds != o->model.surge_seconds ||
        decide_set_windows(&f->dec, p->scale_down_stabilization_s,
                           p->scale_down_forecast_stabilization_s))
        return -ENOSPC;
    bool priors = p->base_rps != o->base_rps || p->rps_per_engagement != o->rps_per_engagement ||
                  p->model.gain_spread_percent != o->model.gain_spread_percent ||
                  p->model.gain_z != o->model.gain_z ||
                  p->model.forget_seconds != o->model.forget_seconds ||
                  p->model.noise_seconds != o->model.noise_seconds ||
                  p->model.score_seconds != o->model.score_seconds ||
                  p->model.plausible_ratio != o->model.plausible_ratio;
    f->pol = *p;
    if (priors) {
        /* new priors: keep the history, restart the calibration from them */
        demand_params dp;
        demand_params_from(p, &dp);
        demand_set_priors(&f->dem, &dp);
    }
    const fc_model *m = &p->model;
    f->eps_holt.alpha = m->alpha;
    f->eps_holt.beta = m->beta;
    f->eps_holt.phi = m->phi;
    f->react.alpha = m->rps_alpha;
    f->react.surge_ratio = m->surge_ratio;
    return 0;
}

int fc_observe_weight(fc_t *f, int64_t ts_ms, double weight)
{
    return vel_observe(&f->vel, ts_ms, vel_milli(weight));
}

int fc_observe_event(fc_t *f, int64_t ts_ms, const char *type, uint32_t count)
{
    if (count == 0)
        return 0;
    return fc_observe_weight(f, ts_ms, fc_policy_weight(&f->pol, type) * count);
}

void fc_observe_rps(fc_t *f, int64_t ts_ms, double rps)
{
    if (!(rps >= 0))
        return;
    int64_t s = ts_ms >= 0 ? ts_ms / 1000 : -((-ts_ms + 999) / 1000);
    if (f->rps_have && s < f->rps_last_s)
        return;
    f->rps_have = true;
    f->rps_last = rps;
    f->rps_last_s = s;
}

static bool rps_fresh(const fc_t *f, int64_t now_s)
{
    int64_t age = now_s - f->rps_last_s;
    return f->rps_have && age >= -FC_RPS_STALE_S && age <= FC_RPS_STALE_S;
}

/* Advances the signals by one second (no decision). */
static void step_signals(fc_t *f, int64_t s, bool with_rps)
{
    vel_advance(&f->vel, s);
    double v = vel_rate(&f->vel);
    holt_update(&f->eps_holt, v);
    demand_push_velocity(&f->dem, v);
    if (with_rps) {
        demand_observe_rps(&f->dem, f->rps_last);
        reactive_observe(&f->react, f->rps_last);
    } else {
        reactive_skip(&f->react);
    }
}

void fc_tick(fc_t *f, int64_t now_s, uint32_t current_replicas, fc_output *out)
{
    const fc_policy *p = &f->pol;
    uint32_t H = p->lead_s;
    double z = p->model.band_z;
    memset(out, 0, sizeof *out);
    out->now_s = now_s;

    if (f->started && now_s > f->last_tick_s + 1) {
        /* seconds without a tick: step through them without a rate, at
         * most as many as the longest memory holds */
        int64_t gap = now_s - f->last_tick_s - 1;
        int64_t keep = (int64_t)p->max_lag_s + p->window_s + H + 1;
        int64_t from = gap > keep ? now_s - keep : f->last_tick_s + 1;
        for (int64_t s = from; s < now_s; s++)
            step_signals(f, s, false);
    }
    bool fresh = rps_fresh(f, now_s);
    if (!f->started || now_s > f->last_tick_s) {
        step_signals(f, now_s, fresh);
        f->started = true;
        f->last_tick_s = now_s;
    }

    double *vmean = f->curve, *vsd = f->curve + (H + 1);
    holt_curve(&f->eps_holt, H, vmean, vsd);
    for (uint32_t h = 0; h <= H; h++)
        if (vmean[h] < 0)
            vmean[h] = 0;
    demand_pred dp;
    demand_predict(&f->dem, vmean, vsd, z, &dp);

    out->eps = vel_rate(&f->vel);
    out->eps_trend = f->eps_holt.trend;
    out->eps_forecast = vmean[H];
    out->eps_forecast_sd = vsd[H];
    out->observed_rps = fresh ? f->rps_last : -1;
    out->predicted_rps = dp.mean;
    out->predicted_sd = dp.rel_noise * (dp.mean > 0 ? dp.mean : 0);
    out->predicted_upper = dp.upper;
    out->gain = dp.gain;
    out->base = dp.base;
    out->lag_s = dp.lag_s;
    out->rel_noise = dp.rel_noise;
    out->reactive_rps = -1;
    out->surge_rps = -1;
    if (fresh && f->react.n > 0) {
        out->reactive_rps = reactive_level(&f->react);
        /* a surge engagement does not explain (the demand model already
         * forecasts what it does): project it */
        if (reactive_surging(&f->react) && dp.share < FC_SURGE_MAX_SHARE)
            out->surge_rps = reactive_forecast(&f->react, H);
    }

    double load = out->predicted_rps > out->reactive_rps ? out->predicted_rps : out->reactive_rps;
    if (out->surge_rps > load)
        load = out->surge_rps;
    double factor = p->base_rps > 0 ? load / p->base_rps : 1;
    out->factor = factor < 1 ? 1 : factor > FC_FACTOR_MAX ? FC_FACTOR_MAX : factor;

    /* a surge projection is a forecast too: it joins the predictive term */
    double predictive = out->predicted_upper > out->surge_rps ? out->predicted_upper : out->surge_rps;
    decide_input in = {
        .now_s = now_s,
        .predicted_rps = predictive,
        .reactive_rps = out->reactive_rps,
        .current_replicas = current_replicas,
    };
    decide_step(&f->dec, p, &in, &out->decision);
}
