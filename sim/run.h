/*
 * run.h — runs every strategy over a trace, second by second, on its own
 * simulated Deployment, and measures the outcome.
 *
 * Each second t: pods due become ready; ready * capacity requests are
 * served, the rest of rps(t) is over capacity; every pod that exists
 * (starting or ready) costs one replica-second; then the strategy decides
 * the replicas for the next boundary. All strategies start with the same
 * ready pods (enough for the first minute, at least minReplicas), except
 * the oracle, which starts with what its schedule asks at t = 0.
 *
 * Ownership: sim_run_all() allocates the series; sim_run_free() frees them.
 */
#ifndef LIFTOFF_SIM_RUN_H
#define LIFTOFF_SIM_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "strategy.h"
#include "trace.h"

#define SIM_MAX_STRATEGIES 8

typedef struct sim_result {
    const char *name;            /* static */
    uint32_t *ready, *asked;     /* per second */
    uint64_t *over;              /* requests over capacity per second */
    double *signal;              /* the strategy's own signal per second */
    uint64_t requests, over_requests;
    double over_pct;
    uint64_t replica_seconds;
    double ratio_to_oracle;      /* replica-seconds / the oracle's */
    int64_t first_overrun_s;     /* -1: never */
    double mean_lead_s;          /* mean lead of scale-ups (see report.h) */
    uint32_t lead_events;
    uint32_t peak_replicas;
} sim_result;

typedef struct sim_run {
    uint32_t n;                  /* seconds */
    uint32_t *need;              /* ceil(rps / capacity), at least minReplicas */
    size_t count;
    sim_result r[SIM_MAX_STRATEGIES];
} sim_run;

/* Runs liftoff, hpa, hpa-demand, linear, reactive-1.2x and oracle (in this
 * order): 0 or -EINVAL (the policy does not validate). */
int sim_run_all(const sim_config *c, const sim_trace *tr, sim_run *out);
/* Frees the series. */
void sim_run_free(sim_run *r);
/* The result of a strategy by name, or NULL. */
const sim_result *sim_run_find(const sim_run *r, const char *name);

#endif
