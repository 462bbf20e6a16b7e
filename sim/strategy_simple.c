/* strategy_simple.c — the two reference scalers without state worth a
 * file each: the naive linear factor and the ideal reactive scaler. */
#include "strategy.h"
#include "common.h"
#include "velocity.h"

#include <math.h>
#include <stdlib.h>

/* linear: factor = min(cap, 1 + slope * weighted events/s over 60 s),
 * replicas = ceil(base replicas * factor), every second */
typedef struct linear {
    sim_strategy base;
    sim_config cfg;
    uint32_t base_replicas;
    vel_t vel;
} linear;

static uint32_t clamp_replicas(const fc_policy *p, double n)
{
    if (!(n >= p->min_replicas))
        return p->min_replicas;
    if (n >= p->max_replicas)
        return p->max_replicas;
    return (uint32_t)n;
}

static uint32_t linear_decide(sim_strategy *s, const sim_obs *o)
{
    linear *l = (linear *)s;
    vel_observe(&l->vel, o->t * 1000, vel_milli(sim_weighted_events(&l->cfg.policy, o->trace, o->t)));
    vel_advance(&l->vel, o->t);
    double f = 1 + l->cfg.linear_slope * vel_rate(&l->vel);
    if (f > l->cfg.linear_cap)
        f = l->cfg.linear_cap;
    s->signal = f;
    return clamp_replicas(&l->cfg.policy, ceil(l->base_replicas * f - 1e-9));
}

static void linear_destroy(sim_strategy *s)
{
    linear *l = (linear *)s;
    vel_free(&l->vel);
    free(l);
}

sim_strategy *sim_linear_new(const sim_config *c, uint32_t base_replicas)
{
    linear *l = xcalloc(1, sizeof *l);
    l->cfg = *c;
    l->base_replicas = base_replicas;
    vel_init(&l->vel, 60);
    l->base = (sim_strategy){ "linear", linear_decide, linear_destroy, -1, 0 };
    return &l->base;
}

/* ideal reactive: ceil(factor * rps of the second just seen / capacity) */
typedef struct reactive {
    sim_strategy base;
    sim_config cfg;
} reactive;

static uint32_t reactive_decide(sim_strategy *s, const sim_obs *o)
{
    reactive *r = (reactive *)s;
    double want = r->cfg.reactive_factor * o->trace->rps[o->t] / r->cfg.pod_capacity;
    return clamp_replicas(&r->cfg.policy, ceil(want - 1e-9));
}

static void reactive_destroy(sim_strategy *s)
{
    free(s);
}

sim_strategy *sim_reactive_new(const sim_config *c)
{
    reactive *r = xcalloc(1, sizeof *r);
    r->cfg = *c;
    r->base = (sim_strategy){ "reactive-1.2x", reactive_decide, reactive_destroy, -1, 0 };
    return &r->base;
}
