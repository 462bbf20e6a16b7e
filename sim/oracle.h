/*
 * oracle.h — the clairvoyant schedule: the fewest replica-seconds that never
 * let a request go over capacity, given the pod start-up delay S.
 *
 * need(t) = max(minReplicas, ceil(rps(t) / capacity)). A pod costs from the
 * moment it is asked for, so a pod needed at t must be asked at t - S, and
 * keeping a pod through a gap of g seconds costs g while letting it go and
 * asking again costs S: the cheapest schedule bridges every gap of at most
 * S seconds, level by level (pod count j = 1, 2, ...: the seconds with
 * need >= j form runs; runs closer than S + 1 merge). Levels are nested,
 * so
 *   ready(t) = max over a <= t <= b, b - a <= S + 1 of min(need(a), need(b))
 *   asked(t) = max over t <= u <= t + S of ready(u)
 * and pods go the moment they are not needed. Computed in O(T * S).
 *
 * Ownership: the caller frees both arrays with free().
 */
#ifndef LIFTOFF_SIM_ORACLE_H
#define LIFTOFF_SIM_ORACLE_H

#include <stdint.h>

#include "trace.h"

/* Fills *ready and *asked (n = trace length each, newly allocated). */
void sim_oracle_schedule(const sim_trace *tr, double capacity, uint32_t min_replicas,
                         uint32_t max_replicas, uint32_t startup_s, uint32_t **ready,
                         uint32_t **asked);

#endif
