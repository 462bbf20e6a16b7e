/* gen.c — deterministic synthetic launch traces (see gen.h). */
#include "gen.h"
#include "common.h"
#include "rng.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GEN_MAX_PARTS 4
#define GEN_BASE_RPS 40.0          /* pre-launch request rate */
#define GEN_NOISE_SD 0.05          /* multiplicative traffic noise */
#define GEN_NOISE_CORR_S 20.0      /* its correlation time */
#define GEN_BACKGROUND_EPS 0.02    /* weighted engagement without a launch */
#define GEN_MEAN_WEIGHT 1.175      /* 0.75 * 1.2 + 0.20 * 1.0 + 0.05 * 1.5 */

typedef struct wave {
    double t0;          /* engagement starts */
    double peak;        /* attention at the peak, weighted events/s */
    double rise_s;      /* start to peak */
    double decay_s;     /* time constant of the decay after the peak */
    double plateau;     /* fraction of the peak the decay settles at */
    double gain;        /* rps per weighted event/s */
    double lag_mean_s;  /* visitors' delay after engagement: gamma mean */
    double lag_sd_s;    /*   and standard deviation */
} wave;

typedef struct spike {
    double t0, peak_rps, rise_s, hold_s, decay_s;
} spike;

typedef struct ring {
    double t0, dur_s, upvotes_per_s, period_s;
} ring;

typedef struct scenario {
    const char *kind;
    const char *desc;
    bool leads;
    uint32_t seconds;
    wave waves[GEN_MAX_PARTS];
    spike spikes[GEN_MAX_PARTS];
    ring rings[GEN_MAX_PARTS];
} scenario;

#define WAVE(t0_, peak_, rise_, decay_, plateau_, gain_, lag_, lagsd_)                    \
    { .t0 = t0_, .peak = peak_, .rise_s = rise_, .decay_s = decay_, .plateau = plateau_,      \
      .gain = gain_, .lag_mean_s = lag_, .lag_sd_s = lagsd_ }

static const scenario scenarios[] = {
    { .kind = "t0-wave",
      .desc = "T-0 launch: engagement from 15:00, traffic ~140x base over ~18 min, 3 min behind",
      .leads = true, .seconds = 7200,
      .waves = { WAVE(900, 24, 1080, 2400, 0.2, 230, 180, 60) } },
    { .kind = "sharp",
      .desc = "sharp launch: 100x+ within two minutes, engagement 2.5 min ahead",
      .leads = true, .seconds = 5400,
      .waves = { WAVE(900, 20, 60, 1800, 0.15, 260, 150, 25) } },
    { .kind = "three-waves",
      .desc = "three waves (50x, 125x, 60x) from channels with different lags and gains",
      .leads = true, .seconds = 9000,
      .waves = { WAVE(600, 10, 300, 900, 0.1, 200, 200, 60),
                 WAVE(3000, 18, 480, 1200, 0.1, 280, 160, 50),
                 WAVE(6000, 15, 240, 900, 0.1, 160, 240, 70) } },
    { .kind = "no-takeoff",
      .desc = "a launch that never takes off: engagement trickles, traffic reaches ~5x",
      .leads = true, .seconds = 5400,
      .waves = { WAVE(900, 0.8, 600, 1800, 0.3, 200, 180, 60) } },
    { .kind = "bot-ring",
      .desc = "an upvote ring: 20 min of bursty upvotes, no traffic behind them",
      .leads = false, .seconds = 5400,
      .rings = { { .t0 = 1200, .dur_s = 1200, .upvotes_per_s = 4, .period_s = 60 } } },
    { .kind = "no-lead-spike",
      .desc = "a traffic spike (80x within ~4 min) that no engagement announces",
      .leads = false, .seconds = 5400,
      .spikes = { { .t0 = 1200, .peak_rps = 3200, .rise_s = 240, .hold_s = 600,
                    .decay_s = 1500 } } },
};

const char *const *sim_gen_kinds(void)
{
    static const char *kinds[LO_ARRAY_SIZE(scenarios) + 1];
    for (size_t i = 0; i < LO_ARRAY_SIZE(scenarios); i++)
        kinds[i] = scenarios[i].kind;
    kinds[LO_ARRAY_SIZE(scenarios)] = NULL;
    return kinds;
}

static const scenario *find(const char *kind)
{
    for (size_t i = 0; i < LO_ARRAY_SIZE(scenarios); i++)
        if (kind && strcmp(scenarios[i].kind, kind) == 0)
            return &scenarios[i];
    return NULL;
}

const char *sim_gen_describe(const char *kind)
{
    const scenario *s = find(kind);
    return s ? s->desc : NULL;
}

bool sim_gen_engagement_leads(const char *kind)
{
    const scenario *s = find(kind);
    return s && s->leads;
}

static double smoothstep(double x)
{
    return x <= 0 ? 0 : x >= 1 ? 1 : x * x * (3 - 2 * x);
}

/* Attention of a wave at time t (weighted events/s). */
static double wave_attention(const wave *w, double t)
{
    double x = t - w->t0;
    if (w->peak <= 0 || x < 0)
        return 0;
    if (x < w->rise_s)
        return w->peak * smoothstep(x / w->rise_s);
    double d = exp(-(x - w->rise_s) / w->decay_s);
    return w->peak * (w->plateau + (1 - w->plateau) * d);
}

static double spike_rps(const spike *s, double t)
{
    double x = t - s->t0;
    if (s->peak_rps <= 0 || x < 0)
        return 0;
    if (x < s->rise_s)
        return s->peak_rps * smoothstep(x / s->rise_s);
    if (x < s->rise_s + s->hold_s)
        return s->peak_rps;
    return s->peak_rps * exp(-(x - s->rise_s - s->hold_s) / s->decay_s);
}

/* Discretised gamma density with the given mean and sd, normalised, over
 * 0..*len-1 seconds. The caller frees the result. */
static double *gamma_kernel(double mean, double sd, uint32_t *len)
{
    double shape = (mean / sd) * (mean / sd), scale = sd * sd / mean;
    uint32_t n = (uint32_t)(mean + 6 * sd) + 1;
    double *k = xcalloc(n, sizeof *k), sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        double x = i + 0.5;
        k[i] = exp((shape - 1) * log(x) - x / scale - lgamma(shape) - shape * log(scale));
        sum += k[i];
    }
    for (uint32_t i = 0; i < n; i++)
        k[i] /= sum;
    *len = n;
    return k;
}

int sim_gen(const char *kind, uint64_t seed, sim_trace *out)
{
    const scenario *sc = find(kind);
    if (!sc)
        return -EINVAL;
    uint32_t n = sc->seconds;
    sim_rng rng;
    sim_rng_seed(&rng, seed);
    sim_trace_alloc(out, n);
    double *mu = xcalloc(n, sizeof *mu);     /* expected rps */
    double *att = xcalloc(n, sizeof *att);   /* attention of one wave */

    for (uint32_t t = 0; t < n; t++)
        mu[t] = GEN_BASE_RPS;
    for (int w = 0; w < GEN_MAX_PARTS; w++) {
        const wave *wv = &sc->waves[w];
        if (wv->peak <= 0)
            continue;
        for (uint32_t t = 0; t < n; t++)
            att[t] = wave_attention(wv, t);
        uint32_t klen;
        double *k = gamma_kernel(wv->lag_mean_s, wv->lag_sd_s, &klen);
        for (uint32_t t = 0; t < n; t++) {
            double acc = 0;
            for (uint32_t j = 0; j < klen && j <= t; j++)
                acc += k[j] * att[t - j];
            mu[t] += wv->gain * acc;
        }
        free(k);
        /* engagement of this wave */
        for (uint32_t t = 0; t < n; t++) {
            double raw = att[t] / GEN_MEAN_WEIGHT;
            out->upvote[t] += sim_rng_poisson(&rng, raw * 0.75);
            out->comment[t] += sim_rng_poisson(&rng, raw * 0.20);
            out->maker_comment[t] += sim_rng_poisson(&rng, raw * 0.05);
        }
    }
    for (int i = 0; i < GEN_MAX_PARTS; i++)
        for (uint32_t t = 0; t < n; t++)
            mu[t] += spike_rps(&sc->spikes[i], t);
    for (int i = 0; i < GEN_MAX_PARTS; i++) {
        const ring *r = &sc->rings[i];
        if (r->upvotes_per_s <= 0)
            continue;
        for (uint32_t t = 0; t < n; t++) {
            double x = t - r->t0;
            if (x < 0 || x >= r->dur_s)
                continue;
            /* bursts: twice the mean rate for half of each period */
            double phase = fmod(x, r->period_s) / r->period_s;
            double rate = phase < 0.5 ? 2 * r->upvotes_per_s : 0;
            out->upvote[t] += sim_rng_poisson(&rng, rate);
        }
    }
    /* background engagement and traffic noise */
    double rho = exp(-1.0 / GEN_NOISE_CORR_S), eta = 0;
    double inno = GEN_NOISE_SD * sqrt(1 - rho * rho);
    for (uint32_t t = 0; t < n; t++) {
        double raw = GEN_BACKGROUND_EPS / GEN_MEAN_WEIGHT;
        out->upvote[t] += sim_rng_poisson(&rng, raw * 0.75);
        out->comment[t] += sim_rng_poisson(&rng, raw * 0.25);
        eta = rho * eta + inno * sim_rng_normal(&rng);
        double m = mu[t] * exp(eta - GEN_NOISE_SD * GEN_NOISE_SD / 2);
        out->rps[t] = sim_rng_poisson(&rng, m);
    }
    free(mu);
    free(att);
    return 0;
}
