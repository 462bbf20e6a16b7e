/*
 * velocity.h — engagement velocity: weighted engagement events per second
 * over a sliding window, kept in a per-second ring buffer.
 *
 * The window at second `head` covers the seconds (head - window, head]:
 * exactly `window` buckets, the current (possibly partial) second included.
 * Weights are stored in fixed point (milli-units, int64) so adding and
 * expiring events is exact: no drift however long it runs.
 *
 * Time moves forward with vel_advance() and with any event newer than the
 * head (the newest timestamp seen is "now"). Late events that still fall in
 * the window land in their own second (counted in `late`); events older
 * than the window are ignored and counted in `too_old`.
 *
 * Cost: O(1) per event; advancing is O(min(gap, window)) so O(1) amortised
 * per second. Memory: one int64 per second of window.
 *
 * Ownership: the caller embeds a vel_t; vel_init() allocates the buckets,
 * vel_free() releases them. Nothing allocates after vel_init().
 */
#ifndef LIFTOFF_VELOCITY_H
#define LIFTOFF_VELOCITY_H

#include <stdbool.h>
#include <stdint.h>

#define VEL_MAX_WINDOW_S 3600u  /* longest window, seconds */
#define VEL_MILLI 1000           /* fixed-point scale of a weight */

typedef struct vel {
    int64_t *bucket;       /* milli-weight per second; index = second % window */
    uint32_t window_s;
    bool started;          /* false until the first event or advance */
    int64_t head_s;        /* newest second covered by the window */
    int64_t sum;           /* milli-weight currently in the window */
    uint64_t events;       /* events accepted (in the window when they came) */
    uint64_t late;         /* of those, events older than the head second */
    uint64_t too_old;      /* events ignored: older than the window */
} vel_t;

/* Prepares an empty ring of window_s seconds (1..VEL_MAX_WINDOW_S):
 * 0 or -EINVAL. */
int vel_init(vel_t *v, uint32_t window_s);
/* Releases the buckets; v must be re-initialised before further use. */
void vel_free(vel_t *v);
/* Copies src's state into dst (vel_init'ed with the same window; nothing
 * allocated): 0, or -EINVAL when the windows differ (dst unchanged). */
int vel_copy(vel_t *dst, const vel_t *src);
/* The milli-weight counted in second s (0 outside the window). */
int64_t vel_second_milli(const vel_t *v, int64_t s);
/* Forgets every event and the time; keeps the window and the buffer. */
void vel_reset(vel_t *v);

/* Moves the window forward so that its newest second is now_s (a no-op when
 * now_s is not newer than the head). */
void vel_advance(vel_t *v, int64_t now_s);

/* Adds an event of ts_ms (ms since the epoch) with a weight in milli-units
 * (VEL_MILLI = weight 1.0; must be >= 0). Returns 0 when counted, -ESTALE
 * when older than the window (ignored, counted in too_old), -EINVAL for a
 * negative weight. An event newer than the head advances the window. */
int vel_observe(vel_t *v, int64_t ts_ms, int64_t milli_weight);

/* The weighted events per second over the window (sum / window). */
double vel_rate(const vel_t *v);
/* The weighted sum in milli-units over the window (exact). */
static inline int64_t vel_sum_milli(const vel_t *v) { return v->sum; }

/* Converts a weight (>= 0, at most 1e9) to milli-units, rounded. */
int64_t vel_milli(double weight);

#endif
