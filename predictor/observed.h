/*
 * observed.h — the request rate the service actually sees, read once per
 * publish interval from the hash liftoff:observed:<namespace>:<name> that
 * the sidecars write (format in docs/redis-keys.md):
 *
 *   one writer for the whole service:  rps, p99_ms, shed, updated_at
 *   one writer per pod (sidecars):     rps@<pod>, p99_ms@<pod>, shed@<pod>,
 *                                      updated_at@<pod>
 *
 * rps and shed are requests per second over the last second, p99_ms the
 * 99th percentile latency, updated_at Unix ms. Every reporter (the
 * service-wide fields count as one) whose updated_at is at most
 * PRED_OBSERVED_FRESH_MS old adds its rps and shed; p99_ms is the highest.
 * Per-pod fields older than PRED_OBSERVED_POD_GONE_MS belong to pods that
 * are gone: the predictor deletes them (HDEL) so the hash does not grow.
 *
 * The observed rate feeds the calibration and the reactive floor of the
 * forecaster (fc_observe_rps); it is not part of the engagement stream.
 *
 * Ownership: pred_observed_parse() points into the reply (stale names).
 */
#ifndef LIFTOFF_PREDICTOR_OBSERVED_H
#define LIFTOFF_PREDICTOR_OBSERVED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#define PRED_OBSERVED_FRESH_MS 10000     /* a report older than this is ignored */
#define PRED_OBSERVED_POD_GONE_MS 60000  /* per-pod fields older than this are deleted */
#define PRED_OBSERVED_STALE_MAX 64       /* stale pods removed per read */
#define PRED_OBSERVED_FIELDS_MAX 4096    /* hash fields looked at */

typedef struct pred_observed {
    unsigned reporters;         /* fresh reporters */
    double rps, shed, p99_ms;   /* sums (rps, shed) and highest p99 of the fresh ones */
    int64_t updated_at;         /* newest updated_at of the fresh ones (ms) */
    /* per-pod fields to delete: field names (not NUL-terminated) */
    size_t nstale;
    const char *stale[PRED_OBSERVED_STALE_MAX * 4];
    size_t stale_len[PRED_OBSERVED_STALE_MAX * 4];
} pred_observed;

/* Reads an HGETALL reply (flat array field, value, ...) at now_ms into out:
 * 0 (out->reporters may be 0), or -EPROTO for a reply of another shape. */
int pred_observed_parse(const redisReply *r, int64_t now_ms, pred_observed *out);

typedef struct pred pred;
/* Reads the observed rate of every policy (HGETALL) into its tracker and
 * deletes the fields of pods that are gone. */
void pred_observed_fetch_all(pred *p);

#endif
