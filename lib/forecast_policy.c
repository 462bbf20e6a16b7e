/* forecast_policy.c — LaunchPolicy prediction parameters: defaults, a
 * setter by field name with limits, validation (see forecast_policy.h). */
#include "forecast_policy.h"
#include "common.h"
#include "demand.h"
#include "velocity.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

void fc_policy_default(fc_policy *p)
{
    memset(p, 0, sizeof *p);
    p->window_s = 60;
    p->default_weight = 1.0;
    fc_policy_set_weight(p, "upvote", 1.2);
    fc_policy_set_weight(p, "comment", 1.0);
    fc_policy_set_weight(p, "maker_comment", 1.5);
    p->lead_s = 90;
    p->base_rps = 50;
    p->rps_per_engagement = 200;
    p->max_lag_s = 300;
    p->headroom_percent = 0;
    p->model = (fc_model){
        .alpha = 0.3, .beta = 0.05, .phi = 0.98,
        .rps_alpha = 0.3, .surge_seconds = 20, .surge_ratio = 1.2,
        .band_z = 0,
        .gain_spread_percent = 50,
        .gain_z = 1.0,
        .forget_seconds = 600,
        .noise_seconds = 600,
        .score_seconds = 60,
        .plausible_ratio = 1.5,
        .lag_step_seconds = 10,
    };
    p->pod_capacity_rps = 200;
    p->min_replicas = 2;
    p->max_replicas = 100;
    p->scale_down_stabilization_s = 300;
    p->scale_down_forecast_stabilization_s = 60;
    p->scale_down_max_step_percent = 50;
    p->scale_down_max_step_pods = 0;
    p->scale_down_period_s = 60;
    p->launch_at_s = 0;
    p->prescale_replicas = 0;
    p->prewarm_before_s = 600;
    p->schedule_hold_s = 1800;
}

enum kind { K_U32, K_F64, K_TIME, K_DURATION };

struct field {
    const char *path;
    enum kind kind;
    size_t off;
    double min, max;
};

#define F(path, kind, member, lo, hi) { path, kind, offsetof(fc_policy, member), lo, hi }

static const struct field fields[] = {
    F("prediction.windowSeconds", K_U32, window_s, 1, VEL_MAX_WINDOW_S),
    F("prediction.defaultWeight", K_F64, default_weight, 0, 1000),
    F("prediction.leadSeconds", K_U32, lead_s, 0, FC_MAX_LEAD_S),
    F("prediction.baseRps", K_F64, base_rps, 0, 1e7),
    F("prediction.rpsPerEngagement", K_F64, rps_per_engagement, 0, 1e7),
    F("prediction.maxLagSeconds", K_U32, max_lag_s, 0, 1800),
    F("prediction.headroomPercent", K_F64, headroom_percent, 0, 400),
    F("prediction.model.alpha", K_F64, model.alpha, 0.001, 1),
    F("prediction.model.beta", K_F64, model.beta, 0, 1),
    F("prediction.model.phi", K_F64, model.phi, 0, 1),
    F("prediction.model.rpsAlpha", K_F64, model.rps_alpha, 0.001, 1),
    F("prediction.model.surgeSeconds", K_U32, model.surge_seconds, 1, 600),
    F("prediction.model.surgeRatio", K_F64, model.surge_ratio, 1.001, 100),
    F("prediction.model.bandZ", K_F64, model.band_z, 0, 10),
    F("prediction.model.gainSpreadPercent", K_F64, model.gain_spread_percent, 0, 1000),
    F("prediction.model.gainZ", K_F64, model.gain_z, 0, 10),
    F("prediction.model.forgetSeconds", K_F64, model.forget_seconds, 10, 86400),
    F("prediction.model.noiseSeconds", K_F64, model.noise_seconds, 10, 86400),
    F("prediction.model.scoreSeconds", K_F64, model.score_seconds, 1, 3600),
    F("prediction.model.plausibleRatio", K_F64, model.plausible_ratio, 1, 1000),
    F("prediction.model.lagStepSeconds", K_U32, model.lag_step_seconds, 1, 600),
    F("podCapacityRps", K_F64, pod_capacity_rps, 0.001, 1e7),
    F("minReplicas", K_U32, min_replicas, 1, FC_MAX_REPLICAS),
    F("maxReplicas", K_U32, max_replicas, 1, FC_MAX_REPLICAS),
    F("scaleDown.stabilizationSeconds", K_U32, scale_down_stabilization_s, 0, FC_MAX_STABILIZATION_S),
    F("scaleDown.forecastStabilizationSeconds", K_U32, scale_down_forecast_stabilization_s, 0,
      FC_MAX_STABILIZATION_S),
    F("scaleDown.maxStepPercent", K_U32, scale_down_max_step_percent, 1, 100),
    F("scaleDown.maxStepPods", K_U32, scale_down_max_step_pods, 1, FC_MAX_REPLICAS),
    F("scaleDown.periodSeconds", K_U32, scale_down_period_s, 0, 3600),
    F("schedule.launchAt", K_TIME, launch_at_s, 0, 0),
    F("schedule.prescaleReplicas", K_U32, prescale_replicas, 0, FC_MAX_REPLICAS),
    F("schedule.prewarmBefore", K_DURATION, prewarm_before_s, 0, 0),
    F("schedule.holdSeconds", K_DURATION, schedule_hold_s, 0, 0),
};

static int parse_double(const char *s, double *out)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return -EINVAL;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end != '\0' || errno == ERANGE || !isfinite(v))
        return -EINVAL;
    *out = v;
    return 0;
}

static bool valid_type_name(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n >= FC_TYPE_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (!(isalnum(c) || c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

int fc_policy_set_weight(fc_policy *p, const char *type, double weight)
{
    if (!valid_type_name(type) || !(weight >= 0 && weight <= 1000))
        return -EINVAL;
    for (uint32_t i = 0; i < p->nweights; i++)
        if (strcmp(p->weights[i].type, type) == 0) {
            p->weights[i].weight = weight;
            return 0;
        }
    if (p->nweights == FC_MAX_WEIGHTS)
        return -ENOSPC;
    fc_weight *w = &p->weights[p->nweights++];
    memcpy(w->type, type, strlen(type) + 1);
    w->weight = weight;
    return 0;
}

double fc_policy_weight(const fc_policy *p, const char *type)
{
    for (uint32_t i = 0; i < p->nweights; i++)
        if (strcmp(p->weights[i].type, type) == 0)
            return p->weights[i].weight;
    return p->default_weight;
}

/* days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant) */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int digits(const char *s, int n, int64_t *out)
{
    int64_t v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -EINVAL;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int fc_parse_time(const char *s, int64_t *out)
{
    if (!s || !*s)
        return -EINVAL;
    size_t n = strlen(s);
    bool all_digits = true;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            all_digits = false;
    if (all_digits) {
        if (n > 12)
            return -EINVAL;
        *out = strtoll(s, NULL, 10);
        return 0;
    }
    /* YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm) */
    int64_t Y, M, D, h, m, sec, oh = 0, om = 0;
    if (n < 20 || digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' ||
        digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &m) || s[16] != ':' ||
        digits(s + 17, 2, &sec))
        return -EINVAL;
    const char *z = s + 19;
    if (*z == '.') {
        z++;
        if (!isdigit((unsigned char)*z))
            return -EINVAL;
        while (isdigit((unsigned char)*z))
            z++;
    }
    int sign = 0;
    if ((*z == 'Z' || *z == 'z') && z[1] == '\0') {
        sign = 0;
    } else if ((*z == '+' || *z == '-') && strlen(z) == 6 && z[3] == ':' &&
               digits(z + 1, 2, &oh) == 0 && digits(z + 4, 2, &om) == 0) {
        sign = *z == '+' ? 1 : -1;
        if (oh > 23 || om > 59)
            return -EINVAL;
    } else {
        return -EINVAL;
    }
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || h > 23 || m > 59 || sec > 60)
        return -EINVAL;
    bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
    if (M == 2 && D == 29 && !leap)
        return -EINVAL;
    int64_t t = days_from_civil(Y, M, D) * 86400 + h * 3600 + m * 60 + sec;
    *out = t - sign * (oh * 3600 + om * 60);
    return 0;
}

int fc_parse_duration(const char *s, uint32_t *out)
{
    if (!s || !*s)
        return -EINVAL;
    uint64_t total = 0;
    const char *p = s;
    bool unit_seen = false;
    while (*p) {
        if (!isdigit((unsigned char)*p))
            return -EINVAL;
        uint64_t v = 0;
        int nd = 0;
        while (isdigit((unsigned char)*p)) {
            if (++nd > 9)
                return -ERANGE;
            v = v * 10 + (uint64_t)(*p++ - '0');
        }
        uint64_t mul;
        switch (*p) {
        case 'h': mul = 3600; break;
        case 'm': mul = 60; break;
        case 's': mul = 1; break;
        case '\0':
            if (unit_seen)
                return -EINVAL; /* "1m30" */
            mul = 1;
            break;
        default: return -EINVAL;
        }
        if (*p) {
            p++;
            unit_seen = true;
        }
        total += v * mul;
        if (total > 7 * 86400)
            return -ERANGE;
    }
    *out = (uint32_t)total;
    return 0;
}

int fc_policy_set(fc_policy *p, const char *path, const char *value)
{
    static const char wprefix[] = "prediction.weights.";
    if (!path || !value)
        return -EINVAL;
    if (strncmp(path, wprefix, sizeof wprefix - 1) == 0) {
        double w;
        if (parse_double(value, &w))
            return -EINVAL;
        if (!(w >= 0 && w <= 1000))
            return -ERANGE;
        return fc_policy_set_weight(p, path + sizeof wprefix - 1, w);
    }
    for (size_t i = 0; i < LO_ARRAY_SIZE(fields); i++) {
        const struct field *f = &fields[i];
        if (strcmp(f->path, path) != 0)
            continue;
        char *base = (char *)p + f->off;
        double v;
        switch (f->kind) {
        case K_U32:
            if (parse_double(value, &v) || v != floor(v))
                return -EINVAL;
            if (v < f->min || v > f->max)
                return -ERANGE;
            *(uint32_t *)(void *)base = (uint32_t)v;
            return 0;
        case K_F64:
            if (parse_double(value, &v))
                return -EINVAL;
            if (v < f->min || v > f->max)
                return -ERANGE;
            *(double *)(void *)base = v;
            return 0;
        case K_TIME:
            return fc_parse_time(value, (int64_t *)(void *)base);
        case K_DURATION:
            return fc_parse_duration(value, (uint32_t *)(void *)base);
        }
    }
    return -ENOENT;
}

int fc_policy_validate(const fc_policy *p, const char **why)
{
    const char *w = NULL;
    if (p->window_s < 1 || p->window_s > VEL_MAX_WINDOW_S)
        w = "prediction.windowSeconds out of range";
    else if (p->lead_s > FC_MAX_LEAD_S)
        w = "prediction.leadSeconds out of range";
    else if (p->min_replicas < 1)
        w = "minReplicas must be at least 1";
    else if (p->min_replicas > p->max_replicas)
        w = "minReplicas must not exceed maxReplicas";
    else if (p->max_replicas > FC_MAX_REPLICAS)
        w = "maxReplicas out of range";
    else if (!(p->pod_capacity_rps > 0))
        w = "podCapacityRps must be positive";
    else if (p->scale_down_stabilization_s > FC_MAX_STABILIZATION_S)
        w = "scaleDown.stabilizationSeconds out of range";
    else if (p->scale_down_forecast_stabilization_s > FC_MAX_STABILIZATION_S)
        w = "scaleDown.forecastStabilizationSeconds out of range";
    else if (p->scale_down_max_step_percent < 1 || p->scale_down_max_step_percent > 100)
        w = "scaleDown.maxStepPercent out of range";
    else if (p->scale_down_max_step_pods > p->max_replicas)
        w = "scaleDown.maxStepPods must not exceed maxReplicas";
    else if (p->model.lag_step_seconds < 1)
        w = "prediction.model.lagStepSeconds must be positive";
    else if (p->max_lag_s / p->model.lag_step_seconds + 1 > DEMAND_MAX_LAGS)
        w = "prediction.maxLagSeconds / lagStepSeconds allows at most 64 lags";
    else if (p->prescale_replicas > p->max_replicas)
        w = "schedule.prescaleReplicas must not exceed maxReplicas";
    if (why)
        *why = w;
    return w ? -EINVAL : 0;
}

uint32_t fc_policy_scale_down_step(const fc_policy *p, uint32_t current)
{
    uint32_t step = p->scale_down_max_step_pods
                        ? p->scale_down_max_step_pods
                        : (uint32_t)((uint64_t)current * p->scale_down_max_step_percent / 100);
    return step < 1 ? 1 : step;
}
