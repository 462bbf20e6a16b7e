/*
 * policy_json.h — reads the prediction parameters of a LaunchPolicy from
 * the JSON the controller stores at liftoff:policy:<namespace>:<name>
 * (format in docs/redis-keys.md):
 *
 *   {"namespace": "shop", "name": "web", "generation": 3,
 *    "spec": { ...the LaunchPolicy spec, as in the CRD... }}
 *
 * or the spec object alone. Field names are those of forecast_policy.h
 * (prediction.windowSeconds, prediction.weights.upvote, podCapacityRps,
 * scaleDown.stabilizationSeconds, schedule.launchAt, ...); spec.redis.launch
 * names the engagement stream. Sections the forecaster does not use
 * (targetRef, prewarm, sidecar, mode) are skipped, and so are fields it does
 * not know (a newer controller may write more): they are counted in
 * `unknown` and the first is named, so the caller can log them. A value
 * that is out of range or of the wrong form rejects the whole policy.
 *
 * Limits: PRED_POLICY_JSON_MAX bytes, PRED_POLICY_DEPTH_MAX levels.
 * Pure: no I/O. Nothing to free.
 */
#ifndef LIFTOFF_PREDICTOR_POLICY_JSON_H
#define LIFTOFF_PREDICTOR_POLICY_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "forecast_policy.h"
#include "launch_name.h"

#define PRED_POLICY_JSON_MAX (64u << 10)  /* bytes */
#define PRED_POLICY_DEPTH_MAX 8           /* nesting levels of the spec */
#define PRED_FIELD_MAX 128                /* dotted field path */

typedef struct pred_policy_doc {
    fc_policy pol;                     /* defaults, then the document's fields */
    char launch[LAUNCH_NAME_MAX + 1];  /* spec.redis.launch, or the default given */
    unsigned unknown;                  /* fields skipped as unknown */
    char first_unknown[PRED_FIELD_MAX];
} pred_policy_doc;

/* Parses a policy document into *doc (starting from the defaults and
 * default_launch): 0, or -EINVAL with a reason in err. */
int pred_policy_parse(const char *json, size_t len, const char *default_launch,
                      pred_policy_doc *doc, char *err, size_t errlen);

#endif
