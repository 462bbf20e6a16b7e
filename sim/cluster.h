/*
 * cluster.h — the simulated Deployment: pods asked for become ready
 * `startup` seconds later; a scale-down removes pods that are not ready yet
 * first (newest first), then the most recently ready ones, as a ReplicaSet
 * does.
 *
 * Time: second t runs from t to t+1. A decision taken at the end of second
 * t is applied at the boundary t+1; the pods it adds serve from second
 * t+1+startup on.
 *
 * Ownership: sim_cluster_init() allocates room for `max` pods;
 * sim_cluster_free() releases it.
 */
#ifndef LIFTOFF_SIM_CLUSTER_H
#define LIFTOFF_SIM_CLUSTER_H

#include <stdint.h>

typedef struct sim_cluster {
    uint32_t startup_s;
    uint32_t max;
    int64_t *pending;        /* ready-at times, oldest first (ring) */
    uint32_t pend_head, pend_len;
    int64_t *ready_since;    /* ready pods, oldest first (stack) */
    uint32_t ready;
} sim_cluster;

/* A Deployment with `initial` pods ready since long ago (at most max). */
void sim_cluster_init(sim_cluster *c, uint32_t startup_s, uint32_t initial, uint32_t max);
/* Releases the memory. */
void sim_cluster_free(sim_cluster *c);
/* Makes ready every pending pod whose ready-at time is <= t. */
void sim_cluster_promote(sim_cluster *c, int64_t t);
/* Sets the replica count at boundary `at` (clamped to max). */
void sim_cluster_scale(sim_cluster *c, int64_t at, uint32_t target);
/* Pods asked for (ready + starting). */
static inline uint32_t sim_cluster_asked(const sim_cluster *c) { return c->ready + c->pend_len; }
/* Ready pods that became ready at or before t. */
uint32_t sim_cluster_ready_before(const sim_cluster *c, int64_t t);

#endif
