/*
 * gen.h — synthetic launch traces, deterministic from a seed.
 *
 * A trace is built from a few components:
 *   - a base request rate with multiplicative noise (AR(1) in log space,
 *     5 % spread, 20 s correlation) and Poisson counts;
 *   - launch waves: an attention curve A(t) (weighted engagement events
 *     per second: smooth rise, peak, exponential decay to a plateau).
 *     Engagement events are Poisson draws of A split into upvotes (75 %),
 *     comments (20 %) and maker comments (5 %). Visitors follow with a
 *     delay: the wave's traffic is gain * (A convolved with a gamma
 *     distributed delay of some minutes), so engagement leads traffic;
 *   - traffic spikes no engagement announces;
 *   - upvote rings (bots): upvotes in bursts, no traffic behind them.
 *
 * Kinds (sim_gen_kinds()): t0-wave, sharp, three-waves, no-takeoff,
 * bot-ring, no-lead-spike. Each kind has fixed parameters (documented in
 * gen.c and by sim_gen_describe()); only the noise depends on the seed.
 */
#ifndef LIFTOFF_SIM_GEN_H
#define LIFTOFF_SIM_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include "trace.h"

/* The kinds, NULL-terminated. */
const char *const *sim_gen_kinds(void);
/* A one-line description of a kind (NULL for an unknown kind). */
const char *sim_gen_describe(const char *kind);
/* True when engagement leads the traffic in this kind (the targets for
 * predictive scaling apply). */
bool sim_gen_engagement_leads(const char *kind);
/* Generates a trace: 0 or -EINVAL (unknown kind). */
int sim_gen(const char *kind, uint64_t seed, sim_trace *out);

#endif
