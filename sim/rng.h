/*
 * rng.h — a small deterministic random generator for the trace generator
 * (xoshiro256**, seeded through splitmix64): the same seed gives the same
 * trace on every machine. Not for secrets.
 */
#ifndef LIFTOFF_SIM_RNG_H
#define LIFTOFF_SIM_RNG_H

#include <stdint.h>

typedef struct sim_rng {
    uint64_t s[4];
} sim_rng;

/* Seeds the generator. */
void sim_rng_seed(sim_rng *r, uint64_t seed);
/* The next 64 random bits. */
uint64_t sim_rng_next(sim_rng *r);
/* Uniform in [0, 1). */
double sim_rng_uniform(sim_rng *r);
/* Standard normal (Box-Muller; each call draws a fresh pair, uses one). */
double sim_rng_normal(sim_rng *r);
/* A Poisson count with mean lambda (>= 0): exact inversion for small
 * means, Hormann's PTRS rejection for lambda >= 10. */
uint32_t sim_rng_poisson(sim_rng *r, double lambda);

#endif
