/* run.c — the per-second simulation of every strategy (see run.h). */
#include "run.h"
#include "common.h"
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void simulate(const sim_config *c, const sim_trace *tr, sim_strategy *s, uint32_t initial,
                     sim_result *res)
{
    uint32_t n = tr->n;
    res->name = s->name;
    res->ready = xcalloc(n, sizeof *res->ready);
    res->asked = xcalloc(n, sizeof *res->asked);
    res->over = xcalloc(n, sizeof *res->over);
    res->signal = xcalloc(n, sizeof *res->signal);
    res->first_overrun_s = -1;
    sim_cluster cl;
    sim_cluster_init(&cl, c->pod_startup_s, initial, c->policy.max_replicas);
    for (uint32_t t = 0; t < n; t++) {
        sim_cluster_promote(&cl, t);
        uint32_t asked = sim_cluster_asked(&cl);
        double capacity = cl.ready * c->pod_capacity;
        uint64_t rps = tr->rps[t];
        uint64_t served = rps <= capacity ? rps : (uint64_t)floor(capacity);
        uint64_t over = rps - served;
        res->ready[t] = cl.ready;
        res->asked[t] = asked;
        res->over[t] = over;
        res->requests += rps;
        res->over_requests += over;
        res->replica_seconds += asked;
        if (asked > res->peak_replicas)
            res->peak_replicas = asked;
        if (over > 0 && res->first_overrun_s < 0)
            res->first_overrun_s = t;
        sim_obs o = { .t = t, .trace = tr, .served = (uint32_t)served, .cluster = &cl };
        uint32_t target = s->decide(s, &o);
        res->signal[t] = s->signal;
        sim_cluster_scale(&cl, (int64_t)t + 1, target);
    }
    sim_cluster_free(&cl);
    res->over_pct = res->requests ? 100.0 * (double)res->over_requests / (double)res->requests : 0;
}

int sim_run_all(const sim_config *c, const sim_trace *tr, sim_run *out)
{
    memset(out, 0, sizeof *out);
    if (fc_policy_validate(&c->policy, NULL) || tr->n == 0 || !(c->pod_capacity > 0))
        return -EINVAL;
    const fc_policy *p = &c->policy;
    out->n = tr->n;
    out->need = xcalloc(tr->n, sizeof *out->need);
    uint32_t peak_first_minute = 0;
    for (uint32_t t = 0; t < tr->n; t++) {
        double nd = ceil(tr->rps[t] / c->pod_capacity - 1e-9);
        out->need[t] = nd < p->min_replicas ? p->min_replicas : (uint32_t)nd;
        if (t < 60 && out->need[t] > peak_first_minute)
            peak_first_minute = out->need[t];
    }
    uint32_t initial = peak_first_minute < p->max_replicas ? peak_first_minute : p->max_replicas;

    sim_strategy *s[SIM_MAX_STRATEGIES];
    size_t k = 0;
    s[k++] = sim_liftoff_new(c, c->liftoff_dump);
    s[k++] = sim_hpa_new(c);
    s[k++] = sim_hpa_demand_new(c);
    s[k++] = sim_linear_new(c, initial);
    s[k++] = sim_reactive_new(c);
    s[k++] = sim_oracle_new(c, tr);
    for (size_t i = 0; i < k; i++) {
        if (!s[i])
            continue;
        simulate(c, tr, s[i], s[i]->initial ? s[i]->initial : initial, &out->r[out->count]);
        out->count++;
        sim_strategy_free(s[i]);
    }
    const sim_result *o = sim_run_find(out, "oracle");
    for (size_t i = 0; i < out->count; i++) {
        sim_result *r = &out->r[i];
        r->ratio_to_oracle = o && o->replica_seconds
                                 ? (double)r->replica_seconds / (double)o->replica_seconds
                                 : 0;
        r->mean_lead_s = sim_mean_lead(out->need, r->ready, tr->n, p->min_replicas, &r->lead_events);
    }
    return 0;
}

void sim_run_free(sim_run *r)
{
    for (size_t i = 0; i < r->count; i++) {
        free(r->r[i].ready);
        free(r->r[i].asked);
        free(r->r[i].over);
        free(r->r[i].signal);
    }
    free(r->need);
    memset(r, 0, sizeof *r);
}

const sim_result *sim_run_find(const sim_run *r, const char *name)
{
    for (size_t i = 0; i < r->count; i++)
        if (strcmp(r->r[i].name, name) == 0)
            return &r->r[i];
    return NULL;
}
