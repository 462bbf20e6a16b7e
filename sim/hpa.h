/*
 * hpa.h — a model of the Kubernetes HorizontalPodAutoscaler controller
 * (autoscaling/v2, pkg/controller/podautoscaler), the parts that decide:
 *
 *  - resource metrics (CPU utilisation, integer percent of the request):
 *    pods still pending, and ready pods whose metric window started before
 *    they became ready (within the CPU initialisation period), are set
 *    aside; usage ratio = utilisation / target over the others; within the
 *    tolerance (10 %) nothing changes; otherwise ceil(ratio * counted pods);
 *    on a scale-up with pods set aside they count as 0 % and the ratio is
 *    recomputed (no scale if that flips the direction or lands within the
 *    tolerance), desired = ceil(new ratio * all pods considered);
 *  - external metrics with an AverageValue target (KEDA): ratio = total /
 *    (target * status replicas); outside the tolerance desired =
 *    ceil(total / target);
 *  - behaviour (defaults): scale-up stabilisation 0 s, policies +100 % and
 *    +4 pods per 15 s, the larger; scale-down stabilisation 300 s (highest
 *    recommendation of the window), policy -100 % per 15 s; clamped to
 *    min/max replicas.
 *
 * Pure logic; the sync loop and the metrics live in strategy_hpa.c.
 */
#ifndef LIFTOFF_SIM_HPA_H
#define LIFTOFF_SIM_HPA_H

#include <stdint.h>

#define SIM_HPA_MAX_RECORDS 128  /* recommendations / scale events kept */

typedef struct sim_hpa_behavior {
    uint32_t min_replicas, max_replicas;
    uint32_t up_stabilization_s;     /* 0 */
    uint32_t up_percent, up_pods;    /* 100, 4 */
    uint32_t up_period_s;            /* 15 */
    uint32_t down_stabilization_s;   /* 300 */
    uint32_t down_percent;           /* 100 */
    uint32_t down_period_s;          /* 15 */
} sim_hpa_behavior;

typedef struct sim_hpa_record {
    int64_t t;
    uint32_t value;
} sim_hpa_record;

typedef struct sim_hpa_state {
    sim_hpa_record rec[SIM_HPA_MAX_RECORDS];  /* unstabilised recommendations */
    uint32_t nrec;
    sim_hpa_record up[SIM_HPA_MAX_RECORDS];   /* scale-up events (pods added) */
    uint32_t nup;
    sim_hpa_record down[SIM_HPA_MAX_RECORDS]; /* scale-down events (pods removed) */
    uint32_t ndown;
} sim_hpa_state;

/* The default behaviour with the given bounds. */
void sim_hpa_behavior_default(sim_hpa_behavior *b, uint32_t min_replicas, uint32_t max_replicas);

/* Replicas for a resource metric: utilisation_pct is the integer average
 * utilisation of the `counted` ready pods, `ignored` pods were set aside
 * (pending or not yet past one metric window since ready). */
uint32_t sim_hpa_resource_replicas(uint32_t current, int64_t utilisation_pct,
                                   int64_t target_pct, uint32_t counted, uint32_t ignored,
                                   double tolerance);
/* Replicas for an external metric with an AverageValue target. */
uint32_t sim_hpa_external_replicas(uint32_t status_replicas, double total, double target_per_pod,
                                   double tolerance);
/* Applies stabilisation, rate limits and bounds at time now; records the
 * recommendation and the scale event. Returns the replicas to set. */
uint32_t sim_hpa_normalize(sim_hpa_state *s, const sim_hpa_behavior *b, int64_t now,
                           uint32_t current, uint32_t desired);

#endif
