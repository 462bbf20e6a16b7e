/*
 * policy.h — what the controller needs of a LaunchPolicy object: its
 * identity, target, mode, replica bounds, the reactive floor's parameters
 * and the scale-down limits the fallback applies (decision.h), read and
 * validated from the object's JSON (the scaleDown fields with the
 * predictor's own defaults and limits, lib/forecast_policy.h), and the
 * document it stores in Redis for the predictor (liftoff:policy:<ns>:<name>,
 * format in docs/redis-keys.md).
 *
 * Pure: no I/O. ctl_policy is a plain value; ctl_policy_doc() returns a
 * string the caller frees.
 */
#ifndef LIFTOFF_CTL_POLICY_H
#define LIFTOFF_CTL_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "k8s_client.h"

#define CTL_NAME_MAX (K8S_NAME_MAX + 1)   /* names with the NUL */
#define CTL_UID_MAX 64                    /* metadata.uid with the NUL */

typedef enum ctl_mode {
    CTL_MODE_ACTIVE = 0,  /* scale */
    CTL_MODE_DRY_RUN,     /* compute and report, never write replicas */
    CTL_MODE_PAUSED,      /* report only */
} ctl_mode;

typedef struct ctl_policy {
    char ns[CTL_NAME_MAX];
    char name[CTL_NAME_MAX];
    char uid[CTL_UID_MAX];
    char target[CTL_NAME_MAX];      /* spec.targetRef.name (a Deployment) */
    int64_t generation;             /* metadata.generation */
    ctl_mode mode;                  /* spec.mode, default Active */
    uint32_t min_replicas;          /* spec.minReplicas, default 2 */
    uint32_t max_replicas;          /* spec.maxReplicas, default 100 */
    double pod_capacity_rps;        /* spec.podCapacityRps, default 200 */
    double headroom_percent;        /* spec.prediction.headroomPercent, default 0 */
    uint32_t scale_down_stabilization_s; /* spec.scaleDown.stabilizationSeconds, default 300 */
    uint32_t scale_down_max_step_percent; /* spec.scaleDown.maxStepPercent, default 50 */
    uint32_t scale_down_max_step_pods; /* spec.scaleDown.maxStepPods, 0 when unset */
    uint32_t scale_down_period_s;   /* spec.scaleDown.periodSeconds, default 60 */
} ctl_policy;

/* Reads and validates a LaunchPolicy object: 0, or -EINVAL with a reason
 * naming the field in err. */
int ctl_policy_parse(const json_t *obj, ctl_policy *out, char *err, size_t errlen);
/* The Redis document {"namespace","name","generation","spec"} as compact
 * JSON (the caller frees it), or NULL if obj has no spec object. */
char *ctl_policy_doc(const json_t *obj);
/* The name of a mode ("Active", "DryRun", "Paused"). */
const char *ctl_mode_name(ctl_mode m);

#endif
