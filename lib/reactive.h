/*
 * reactive.h — the reactive floor: the observed request rate, smoothed, and
 * projected ahead when it surges.
 *
 * The level is an exponentially weighted mean of the per-second rate
 * (weight alpha). When the level has grown by more than `surge_ratio` over
 * the last `surge_s` seconds — more than noise does — the growth is taken
 * as a trend and extended linearly: forecast(h) = level + (level - level
 * surge_s ago) * h / surge_s. Otherwise the forecast is the level: noise
 * never turns into a trend, so a steady load costs nothing extra. This is
 * what catches traffic no engagement announced, a little before it lands.
 *
 * Ownership: reactive_init() allocates surge_s + 1 levels of history;
 * reactive_free() releases them. Nothing allocates afterwards.
 */
#ifndef LIFTOFF_REACTIVE_H
#define LIFTOFF_REACTIVE_H

#include <stdbool.h>
#include <stdint.h>

#define REACTIVE_MAX_SURGE_S 600u

typedef struct reactive {
    double alpha;           /* level smoothing (0, 1] */
    uint32_t surge_s;       /* growth is measured over this many seconds */
    double surge_ratio;     /* growth beyond this ratio is a surge (> 1) */
    double level;
    double *hist;           /* levels, one per second, ring of surge_s + 1 */
    uint64_t n;             /* seconds seen */
} reactive_t;

/* Sets up the floor: 0 or -EINVAL (alpha outside (0, 1], surge_s 0 or above
 * REACTIVE_MAX_SURGE_S, ratio not above 1). */
int reactive_init(reactive_t *r, double alpha, uint32_t surge_s, double surge_ratio);
/* Releases the history. */
void reactive_free(reactive_t *r);
/* Copies src's state into dst (reactive_init'ed with the same surge_s;
 * nothing allocated): 0, or -EINVAL when they differ (dst unchanged). */
int reactive_copy(reactive_t *dst, const reactive_t *src);
/* Forgets everything. */
void reactive_reset(reactive_t *r);
/* The rate observed in the next second. */
void reactive_observe(reactive_t *r, double rps);
/* A second without an observation: the level carries over. */
void reactive_skip(reactive_t *r);
/* The smoothed rate (0 before the first observation). */
static inline double reactive_level(const reactive_t *r) { return r->level; }
/* True when the level is surging (see above). */
bool reactive_surging(const reactive_t *r);
/* The expected rate h seconds ahead (the level, or its surge projection). */
double reactive_forecast(const reactive_t *r, uint32_t h);

#endif
