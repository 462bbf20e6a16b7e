/*
 * publish.h — what the predictor tells the rest of liftoff, per policy:
 *
 *   HSET liftoff:forecast:<ns>:<name>  eps forecast_eps trend predicted_rps
 *        predicted_upper observed_rps factor desired_replicas reason tick
 *        last_id updated_at provisional  + PEXPIRE (the forecast TTL)
 *   PUBLISH liftoff:forecast {"namespace":..,"name":..,<the same fields>}
 *
 * (field meanings in docs/redis-keys.md). A policy is published every
 * publish interval, and at once when the forecast moved by more than the
 * change threshold (pred_snapshot_significant), at most once per loop
 * iteration. The lag histogram records, for each publish caused by newly
 * applied entries, the time from the XADD of the oldest of them (its stream
 * id) to the PUBLISH.
 *
 * Early scale-up (--early-publish-interval): after live entries are
 * applied, a policy whose current second already holds a burst gets a
 * provisional forecast (pred_track_provisional), at most once per interval
 * (a timer catches the entries of a burst that came while waiting); when
 * it asks for more replicas than were last published it is published at
 * once, with provisional 1 and tick the incomplete second. It is never
 * published to scale down. Later snapshots apply it as a floor (see
 * track.h), so a lower committed count never undoes it within its second.
 *
 * The snapshot functions are pure; pred_publish() sends.
 */
#ifndef LIFTOFF_PREDICTOR_PUBLISH_H
#define LIFTOFF_PREDICTOR_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "track.h"

#define PRED_FORECAST_CHANNEL "liftoff:forecast"
#define PRED_SNAPSHOT_JSON_MAX 1024   /* one published message, bytes */
#define PRED_CHANGE_FLOOR 1.0         /* relative changes are of at least this base */
#define PRED_REASON_PROVISIONAL "provisional" /* desired held at a provisional count */

typedef struct pred_snapshot {
    double eps;              /* weighted events/s over the window, now */
    double forecast_eps;     /* expected velocity leadSeconds ahead */
    double trend;            /* velocity trend, events/s per second */
    double predicted_rps;    /* expected request rate leadSeconds ahead */
    double predicted_upper;  /* upper bound over the next leadSeconds */
    double observed_rps;     /* fresh observed rate, -1 when none */
    double factor;           /* load factor for the sidecars, >= 1 */
    uint32_t desired_replicas;
    const char *reason;      /* static text: why that many */
    int64_t tick;            /* the last complete second forecast (Unix s); 0: none yet */
    char last_id[PRED_ID_STR_MAX]; /* the last stream entry applied ("0-0": none) */
    uint64_t updated_at;     /* Unix ms of this snapshot */
    bool provisional;        /* a forecast of the incomplete second `tick` */
} pred_snapshot;

/* The snapshot of a tracker at wall time now_ms. Before its first tick a
 * tracker has seen no engagement: eps 0, predicted_rps baseRps, factor 1,
 * desired the larger of minReplicas and the schedule floor. */
void pred_snapshot_take(pred_snapshot *s, const pred_track *t, uint64_t now_ms);
/* Whether cur differs from the last published prev enough to publish now:
 * another replica count, or eps, forecast_eps, predicted_rps or factor
 * moved by more than threshold times max(|prev|, PRED_CHANGE_FLOOR). */
bool pred_snapshot_significant(const pred_snapshot *prev, const pred_snapshot *cur,
                               double threshold);
/* The HSET field/value pairs: fills names[i], values[i] (values point into
 * store, which must hold PRED_SNAPSHOT_JSON_MAX bytes); returns the count. */
size_t pred_snapshot_fields(const pred_snapshot *s, const char **names, char **values,
                            char *store, size_t storelen);
#define PRED_SNAPSHOT_FIELDS 13
/* The PUBLISH message; returns its length (< len), 0 if it does not fit. */
size_t pred_snapshot_json(const pred_snapshot *s, const char *ns, const char *name, char *buf,
                          size_t len);

struct pred;
struct pred_policy;
/* Queues a check of every dirty policy at the end of this loop iteration
 * (pred_publish_if_changed). */
void pred_publish_soon(struct pred *p);
/* Publishes every live policy (the periodic publish). */
void pred_publish_all(struct pred *p);
/* Sends HSET + PEXPIRE + PUBLISH for a policy now (lag_from_ms: XADD time
 * of the oldest entry this publish is the first to include, 0 for none). */
void pred_publish(struct pred_policy *pol, uint64_t lag_from_ms);
/* Publishes pol now if it changed significantly since its last publish (or
 * was never published). */
void pred_publish_if_changed(struct pred_policy *pol);
/* The early scale-up check of pol (see above) when it has new live
 * entries: computes a provisional forecast if the interval allows (else
 * arms the early timer) and publishes it when it scales up. */
void pred_publish_early(struct pred_policy *pol);
/* The early timer: checks every policy still waiting for its interval. */
void pred_publish_early_due(struct pred *p);

#endif
