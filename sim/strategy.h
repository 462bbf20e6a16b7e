/*
 * strategy.h — the scaling strategies the simulator compares, behind one
 * small interface: each second the strategy sees what a real one could see
 * (the trace up to that second, the Deployment) and answers the replica
 * count it asks for at the next boundary.
 *
 *   liftoff      the forecasting core (lib/forecaster.h), same code as the
 *                predictor and controller
 *   hpa          Kubernetes HPA on CPU-like utilisation (saturates at what
 *                the ready pods serve), default behaviour (hpa.h)
 *   hpa-demand   the same HPA on the ingress request rate (AverageValue
 *                target, as KEDA with a Prometheus query)
 *   linear       naive: base replicas * min(5, 1 + 0.4 * weighted eps/60 s)
 *   reactive     ideal reactive: every second 1.2x the current load
 *   oracle       knows the future: fewest replica-seconds that never
 *                overrun (oracle.h)
 *
 * Ownership: each sim_*_new() returns a strategy the caller releases with
 * sim_strategy_free().
 */
#ifndef LIFTOFF_SIM_STRATEGY_H
#define LIFTOFF_SIM_STRATEGY_H

#include <stdint.h>
#include <stdio.h>

#include "cluster.h"
#include "forecast_policy.h"
#include "trace.h"

typedef struct sim_config {
    uint32_t pod_startup_s;      /* 60 */
    double pod_capacity;         /* rps one pod serves: 200 */
    fc_policy policy;            /* liftoff's policy; min/max replicas for all */
    double hpa_target;           /* target utilisation: 0.70 */
    uint32_t hpa_sync_s;         /* 15 */
    double hpa_tolerance;        /* 0.10 */
    uint32_t hpa_cpu_window_s;   /* metrics-server resolution: 15 */
    uint32_t hpa_cpu_init_s;     /* --horizontal-pod-autoscaler-cpu-initialization-period: 300 */
    uint32_t hpa_demand_window_s;/* rate() window of the ingress metric: 30 */
    double linear_slope;         /* 0.4 */
    double linear_cap;           /* 5 */
    double reactive_factor;      /* 1.2 */
    FILE *liftoff_dump;          /* NULL, or where liftoff's per-second state goes */
} sim_config;

/* Fills the defaults above (and fc_policy_default with podCapacityRps). */
void sim_config_default(sim_config *c);

/* What a strategy sees at the end of second t. */
typedef struct sim_obs {
    int64_t t;
    const sim_trace *trace;      /* rows 0..t only (the oracle alone reads ahead) */
    uint32_t served;             /* requests the ready pods served in second t */
    const sim_cluster *cluster;  /* the Deployment during second t */
} sim_obs;

typedef struct sim_strategy sim_strategy;
struct sim_strategy {
    const char *name;
    /* the replicas to ask for at boundary t+1 */
    uint32_t (*decide)(sim_strategy *s, const sim_obs *o);
    void (*destroy)(sim_strategy *s);
    /* the strategy's own signal for the plot (e.g. predicted rps); -1: none */
    double signal;
    /* replicas ready at t = 0; 0: the run's common start */
    uint32_t initial;
};

/* Releases a strategy. */
void sim_strategy_free(sim_strategy *s);

/* The weighted engagement of second t with the policy's weights. */
double sim_weighted_events(const fc_policy *p, const sim_trace *tr, int64_t t);

/* liftoff; when dump is not NULL, its forecast and decision every second
 * are written there as CSV (the caller closes it). */
sim_strategy *sim_liftoff_new(const sim_config *c, FILE *dump);
sim_strategy *sim_hpa_new(const sim_config *c);
sim_strategy *sim_hpa_demand_new(const sim_config *c);
sim_strategy *sim_linear_new(const sim_config *c, uint32_t base_replicas);
sim_strategy *sim_reactive_new(const sim_config *c);
/* The oracle for a whole trace (it reads the future). */
sim_strategy *sim_oracle_new(const sim_config *c, const sim_trace *tr);

#endif
