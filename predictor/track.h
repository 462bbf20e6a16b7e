/*
 * track.h — one LaunchPolicy's forecaster driven by stream time, so that its
 * state is a function of the stream alone (plus the observed rate):
 *
 *   - entries are applied in stream-id order; an entry whose id is not
 *     after the highest id applied so far is skipped (it was already
 *     counted, e.g. by the rebuild, or it is older than what matters);
 *   - the clock is the stream: second s is "complete" once an entry with an
 *     id at or after (s+1)*1000 ms is applied, or once the reader has caught
 *     up with the stream past that time (pred_track_advance); every complete
 *     second is ticked (fc_tick) exactly once, in order, before any later
 *     entry is applied;
 *   - ticking starts at an origin the caller sets (pred_track_origin: the
 *     service uses the start of the replayed span, so the reactive floor
 *     works before any engagement), else at the first applied entry.
 *
 * Two trackers fed the same entries (one live, one that crashed and rebuilt
 * from the stream) therefore tick the same seconds with the same window and
 * publish identical numbers, as long as the replayed span covers all the
 * history the live one saw.
 *
 * The replica decision is fed back as the current replica count (the
 * controller applies what is published).
 *
 * Provisional forecasts (early scale-up): a burst in the current, still
 * incomplete second would otherwise wait for that second to end.
 * pred_track_provisional() copies the forecaster into a shadow (fc_copy)
 * and ticks the shadow at the current second as if it had ended now; the
 * real forecaster is not touched, so the committed ticks above stay a
 * function of the stream alone. It runs only when the second already
 * holds a burst: its weighted events reach min_ratio times the velocity of
 * the last committed tick (events per second over the window), and at
 * least PRED_EARLY_MIN_WEIGHT. Only a provisional decision above a given
 * replica count is kept (never an early scale-down); it is then the floor
 * of the published replicas (pred_track_desired) until the next second is
 * committed: while its second is incomplete the provisional output stands
 * for the tracker, once that second is ticked the published count is
 * max(committed, provisional) for that second only, and from the next
 * second on the committed decision alone. The committed tick sees a
 * superset of the provisional's engagement, so it rarely decides less.
 *
 * Pure: no I/O, no clock. Ownership: pred_track_init() allocates the
 * forecaster (fc_init); the shadow is allocated (fc_init) by the first
 * provisional forecast and reused afterwards; pred_track_free() releases
 * both.
 */
#ifndef LIFTOFF_PREDICTOR_TRACK_H
#define LIFTOFF_PREDICTOR_TRACK_H

#include <stdbool.h>
#include <stdint.h>

#include "forecaster.h"

#include "entry.h"

/* Most seconds ticked one by one when the clock jumps; older ones are
 * stepped through by fc_tick's own gap handling (one day). */
#define PRED_TICK_CATCHUP_MAX 86400
/* The least weight a second must hold for a provisional forecast. */
#define PRED_EARLY_MIN_WEIGHT 1.0

typedef struct pred_track {
    fc_t fc;
    pred_id applied;          /* highest id applied or skipped as applied */
    bool ticking;             /* a first entry set the tick origin */
    int64_t next_tick_s;      /* the next second to tick */
    uint64_t clock_ms;        /* stream time reached */
    fc_output out;            /* the last tick's output */
    bool have_out;
    uint32_t replicas;        /* the last decision, fed back */
    uint64_t applied_n;       /* entries applied */
    uint64_t skipped_n;       /* entries skipped (already applied) */
    uint64_t stale_n;         /* applied but older than the window */
    uint64_t ticks;           /* seconds ticked */
    fc_t shadow;              /* scratch copy for provisional forecasts */
    bool have_shadow;         /* shadow is fc_init'ed with fc.pol */
    fc_output prov;           /* the provisional output kept (see above) */
    bool have_prov;
    uint64_t prov_n;          /* provisional forecasts computed */
    double since_tick_w;      /* weight of the entries applied since the last
                               * tick, whatever second their ts names */
} pred_track;

/* Prepares a tracker for a validated policy: 0 or -EINVAL. */
int pred_track_init(pred_track *t, const fc_policy *p);
/* Releases the forecaster. */
void pred_track_free(pred_track *t);
/* Forgets everything (state, ids, clock); keeps the policy. */
void pred_track_reset(pred_track *t);

/* Takes a changed policy. Returns 0 when the learned state was kept, 1 when
 * it had to be dropped (window, weights, lag bank or lead changed): the
 * caller must then replay the stream (rebuild), -EINVAL for a bad policy
 * (nothing changed). */
int pred_track_set_policy(pred_track *t, const fc_policy *p);

/* Sets where ticking starts: the second of origin_ms (no-op once ticking). */
void pred_track_origin(pred_track *t, uint64_t origin_ms);
/* Applies one entry: 1 applied, 0 skipped (id not after the last applied). */
int pred_track_apply(pred_track *t, const pred_entry *e);
/* Notes an id as applied without an event (an entry that could not be
 * parsed), so that the order stays strict. */
void pred_track_mark(pred_track *t, pred_id id);
/* Moves stream time to clock_ms (a no-op if not later) and ticks every
 * second that is complete by then; returns the number of ticks. */
uint32_t pred_track_advance(pred_track *t, uint64_t clock_ms);
/* The observed request rate of the second of ts_ms (see fc_observe_rps). */
void pred_track_observe_rps(pred_track *t, int64_t ts_ms, double rps);

/* A provisional forecast of the current incomplete second (see above),
 * computed when the weight of that second's bucket, or of the entries
 * applied since the last tick (an event whose ts fell just before the
 * second its stream id names), reaches min_ratio x the committed velocity:
 * 1 when one was computed and its replicas exceed above_replicas (and any
 * provisional already kept for this second): kept, and copied to out when
 * out is not NULL; 0 when there is no burst or the decision is not above;
 * -EINVAL when the shadow could not take the forecaster's state. */
int pred_track_provisional(pred_track *t, double min_ratio, uint32_t above_replicas,
                           fc_output *out);
/* The output that stands for the tracker now: the provisional one while
 * its second is incomplete (*provisional set), else the last tick's (NULL
 * before the first tick). */
const fc_output *pred_track_current(const pred_track *t, bool *provisional);
/* The replicas to publish for out (pred_track_current): the provisional
 * floor applied to the tick of its own second. */
uint32_t pred_track_desired(const pred_track *t, const fc_output *out);

/* Weighted events per second over the window, the current partial second
 * included (moves with every entry, between ticks too). */
double pred_track_eps(const pred_track *t);

#endif
