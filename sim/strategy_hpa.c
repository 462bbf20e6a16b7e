/* strategy_hpa.c — the Kubernetes HPA as a strategy: a sync every 15 s on
 * CPU-like utilisation of the ready pods (which saturates at what they
 * serve), or on the ingress request rate (hpa-demand). The metric is the
 * mean over its window ending at the sync (metrics-server resolution for
 * CPU, the rate() window for the request rate): no scrape delay, which
 * flatters the HPA slightly. */
#include "strategy.h"
#include "common.h"
#include "hpa.h"

#include <math.h>
#include <stdlib.h>

#define HPA_MAX_WINDOW_S 600

typedef struct hpa {
    sim_strategy base;
    sim_config cfg;
    int demand;                     /* 0: CPU, 1: request rate */
    sim_hpa_behavior beh;
    sim_hpa_state st;
    double hist[HPA_MAX_WINDOW_S];  /* per-second metric samples, ring */
    uint64_t nhist;
} hpa;

static double window_mean(const hpa *h, uint32_t window)
{
    if (window > HPA_MAX_WINDOW_S)
        window = HPA_MAX_WINDOW_S;
    uint64_t n = h->nhist < window ? h->nhist : window;
    double sum = 0;
    for (uint64_t i = 0; i < n; i++)
        sum += h->hist[(h->nhist - 1 - i) % HPA_MAX_WINDOW_S];
    return n ? sum / (double)n : 0;
}

static uint32_t hpa_decide(sim_strategy *s, const sim_obs *o)
{
    hpa *h = (hpa *)s;
    const sim_cluster *c = o->cluster;
    uint32_t current = sim_cluster_asked(c);
    double sample;
    if (h->demand)
        sample = o->trace->rps[o->t];
    else
        sample = c->ready ? (double)o->served / (c->ready * h->cfg.pod_capacity) : 0;
    h->hist[h->nhist % HPA_MAX_WINDOW_S] = sample;
    h->nhist++;

    int64_t now = o->t + 1; /* the sync happens at the boundary */
    if (now % h->cfg.hpa_sync_s != 0)
        return current;

    uint32_t desired;
    if (h->demand) {
        double total = window_mean(h, h->cfg.hpa_demand_window_s);
        desired = sim_hpa_external_replicas(current, total, h->cfg.hpa_target * h->cfg.pod_capacity,
                                            h->cfg.hpa_tolerance);
        s->signal = total;
    } else {
        uint32_t w = h->cfg.hpa_cpu_window_s;
        /* a ready pod counts once a whole metric window follows its
         * readiness (inside the CPU initialisation period, which always
         * covers start-up + window here); pending pods are set aside */
        uint32_t counted = 0, recent = 0;
        for (uint32_t i = 0; i < c->ready; i++) {
            int64_t since = c->ready_since[i];
            int64_t started = since - (int64_t)c->startup_s;
            bool in_init = started + (int64_t)h->cfg.hpa_cpu_init_s > now;
            if (in_init && now < since + (int64_t)w)
                recent++;
            else
                counted++;
        }
        double util = window_mean(h, w);
        int64_t pct = (int64_t)floor(util * 100.0 + 1e-9);
        desired = sim_hpa_resource_replicas(current, pct, (int64_t)llround(h->cfg.hpa_target * 100),
                                            counted, recent + c->pend_len, h->cfg.hpa_tolerance);
        s->signal = util;
    }
    return sim_hpa_normalize(&h->st, &h->beh, now, current, desired);
}

static void hpa_destroy(sim_strategy *s)
{
    free(s);
}

static sim_strategy *make(const sim_config *c, int demand)
{
    hpa *h = xcalloc(1, sizeof *h);
    h->cfg = *c;
    h->demand = demand;
    sim_hpa_behavior_default(&h->beh, c->policy.min_replicas, c->policy.max_replicas);
    h->base = (sim_strategy){ demand ? "hpa-demand" : "hpa", hpa_decide, hpa_destroy, -1, 0 };
    return &h->base;
}

sim_strategy *sim_hpa_new(const sim_config *c)
{
    return make(c, 0);
}

sim_strategy *sim_hpa_demand_new(const sim_config *c)
{
    return make(c, 1);
}
