/* decide.c — desired replicas from the forecast and the observed rate, with
 * scale-down stabilisation and step limits (see decide.h). */
#include "decide.h"
#include "common.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void window_init(decide_window *w, uint32_t window_s)
{
    memset(w, 0, sizeof *w);
    w->window_s = window_s;
    w->cap = window_s + 2;
    w->q = xcalloc(w->cap, sizeof *w->q);
}

static struct decide_entry *at(decide_window *w, uint32_t i)
{
    return &w->q[(w->head + i) % w->cap];
}

/* Adds v at second now and returns the highest value of (now - window, now]. */
static uint32_t window_push(decide_window *w, int64_t now, uint32_t v)
{
    if (w->window_s == 0)
        return v;
    while (w->len > 0 && at(w, w->len - 1)->v <= v)
        w->len--;
    if (!(w->len > 0 && at(w, w->len - 1)->t >= now)) {
        if (w->len == w->cap) { /* only when called for older seconds */
            w->head = (w->head + 1) % w->cap;
            w->len--;
        }
        *at(w, w->len) = (struct decide_entry){ now, v };
        w->len++;
    }
    while (w->len > 0 && at(w, 0)->t <= now - (int64_t)w->window_s) {
        w->head = (w->head + 1) % w->cap;
        w->len--;
    }
    return w->len > 0 ? at(w, 0)->v : v;
}

int decide_init(decide_t *d, uint32_t floor_s, uint32_t forecast_s)
{
    memset(d, 0, sizeof *d);
    if (floor_s > FC_MAX_STABILIZATION_S || forecast_s > FC_MAX_STABILIZATION_S)
        return -EINVAL;
    window_init(&d->floor_w, floor_s);
    window_init(&d->forecast_w, forecast_s);
    return 0;
}

void decide_free(decide_t *d)
{
    free(d->floor_w.q);
    free(d->forecast_w.q);
    d->floor_w.q = d->forecast_w.q = NULL;
}

/* Copies src's entries in order to the front of dst (dst->cap >= src->len). */
static void window_copy(decide_window *dst, const decide_window *src)
{
    for (uint32_t i = 0; i < src->len; i++)
        dst->q[i] = src->q[(src->head + i) % src->cap];
    dst->head = 0;
    dst->len = src->len;
    dst->window_s = src->window_s;
}

int decide_copy(decide_t *dst, const decide_t *src)
{
    if (dst == src)
        return 0;
    /* window_push needs room for a window's worth of entries plus two */
    if (!dst->floor_w.q || !dst->forecast_w.q ||
        dst->floor_w.cap < src->floor_w.window_s + 2 || dst->floor_w.cap < src->floor_w.len ||
        dst->forecast_w.cap < src->forecast_w.window_s + 2 ||
        dst->forecast_w.cap < src->forecast_w.len)
        return -EINVAL;
    window_copy(&dst->floor_w, &src->floor_w);
    window_copy(&dst->forecast_w, &src->forecast_w);
    dst->stepped = src->stepped;
    dst->last_step_s = src->last_step_s;
    return 0;
}

void decide_reset(decide_t *d)
{
    d->floor_w.head = d->floor_w.len = 0;
    d->forecast_w.head = d->forecast_w.len = 0;
    d->stepped = false;
    d->last_step_s = 0;
}

int decide_set_windows(decide_t *d, uint32_t floor_s, uint32_t forecast_s)
{
    if (floor_s + 2 > d->floor_w.cap || forecast_s + 2 > d->forecast_w.cap)
        return -ENOSPC;
    d->floor_w.window_s = floor_s;
    d->forecast_w.window_s = forecast_s;
    return 0;
}

uint32_t decide_replicas_for(const fc_policy *p, double rps)
{
    if (!(rps > 0) || !(p->pod_capacity_rps > 0))
        return 0;
    double n = ceil(rps * (1.0 + p->headroom_percent / 100.0) / p->pod_capacity_rps - 1e-9);
    return n >= FC_MAX_REPLICAS ? FC_MAX_REPLICAS : (uint32_t)n;
}

uint32_t decide_schedule_floor(const fc_policy *p, int64_t now_s)
{
    if (p->launch_at_s <= 0 || p->prescale_replicas == 0)
        return 0;
    int64_t from = p->launch_at_s - (int64_t)p->prewarm_before_s - (int64_t)p->lead_s;
    int64_t until = p->launch_at_s + (int64_t)p->schedule_hold_s;
    return now_s >= from && now_s <= until ? p->prescale_replicas : 0;
}

const char *decide_reason_name(decide_reason r)
{
    switch (r) {
    case DECIDE_MIN: return "min";
    case DECIDE_PREDICTED: return "predicted";
    case DECIDE_REACTIVE: return "reactive";
    case DECIDE_SCHEDULE: return "schedule";
    case DECIDE_MAX: return "max";
    case DECIDE_STABILIZED: return "stabilized";
    case DECIDE_STEP_LIMITED: return "step-limited";
    }
    return "?";
}

static uint32_t cap_max(const fc_policy *p, uint32_t v)
{
    return v > p->max_replicas ? p->max_replicas : v;
}

void decide_step(decide_t *d, const fc_policy *p, const decide_input *in, decide_output *out)
{
    memset(out, 0, sizeof *out);
    if (decide_set_windows(d, p->scale_down_stabilization_s, p->scale_down_forecast_stabilization_s)) {
        /* the policy outgrew the windows: use what fits */
        uint32_t f = p->scale_down_stabilization_s, g = p->scale_down_forecast_stabilization_s;
        decide_set_windows(d, f + 2 > d->floor_w.cap ? d->floor_w.cap - 2 : f,
                           g + 2 > d->forecast_w.cap ? d->forecast_w.cap - 2 : g);
    }
    out->predicted = in->predicted_rps >= 0 ? decide_replicas_for(p, in->predicted_rps) : 0;
    out->reactive = in->reactive_rps >= 0 ? decide_replicas_for(p, in->reactive_rps) : 0;
    out->schedule = decide_schedule_floor(p, in->now_s);

    uint32_t floor = p->min_replicas;
    decide_reason why = DECIDE_MIN;
    if (out->schedule > floor) {
        floor = out->schedule;
        why = DECIDE_SCHEDULE;
    }
    if (out->reactive > floor) {
        floor = out->reactive;
        why = DECIDE_REACTIVE;
    }
    uint32_t raw = floor;
    if (out->predicted > raw) {
        raw = out->predicted;
        why = DECIDE_PREDICTED;
    }
    if (raw > p->max_replicas) {
        raw = p->max_replicas;
        why = DECIDE_MAX;
    }
    out->raw = raw;

    uint32_t sf = window_push(&d->floor_w, in->now_s, cap_max(p, floor));
    uint32_t sp = window_push(&d->forecast_w, in->now_s, cap_max(p, out->predicted));
    uint32_t stab = sf > sp ? sf : sp;
    if (stab < raw)
        stab = raw;

    uint32_t cur = in->current_replicas;
    uint32_t target = cur;
    if (raw > cur) {
        target = raw;
    } else if (cur > stab) {
        target = stab;
        if (stab > raw)
            why = DECIDE_STABILIZED;
        uint32_t step = fc_policy_scale_down_step(p, cur);
        if (d->stepped && in->now_s - d->last_step_s < (int64_t)p->scale_down_period_s) {
            target = cur;
            why = DECIDE_STEP_LIMITED;
        } else {
            if (cur - target > step) {
                target = cur - step;
                why = DECIDE_STEP_LIMITED;
            }
            d->stepped = true;
            d->last_step_s = in->now_s;
        }
    } else if (cur > raw) {
        why = DECIDE_STABILIZED;
    }
    if (target > p->max_replicas) {
        target = p->max_replicas;
        why = DECIDE_MAX;
    }
    if (target < p->min_replicas) {
        target = p->min_replicas;
        why = DECIDE_MIN;
    }
    out->replicas = target;
    out->reason = why;
}
