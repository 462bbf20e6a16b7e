/*
 * hpa_floor.h — the predictive floor on a HorizontalPodAutoscaler
 * (autoscaling/v2): when an HPA scales a policy's Deployment, liftoff never
 * writes the replicas; it moves the HPA's spec.minReplicas instead, and
 * keeps the HPA's own value in the annotation CTL_HPA_ANNOTATION until it
 * gives the floor up (policy deleted, DryRun or Paused), when that value is
 * put back and the annotation removed.
 *
 * The floor never goes below the HPA's own minReplicas (the annotation's
 * value once liftoff holds it) and never above its maxReplicas.
 *
 * Pure: no I/O. Patches are new references the caller decrefs.
 */
#ifndef LIFTOFF_CTL_HPA_FLOOR_H
#define LIFTOFF_CTL_HPA_FLOOR_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#define CTL_HPA_ANNOTATION "liftoff.dev/original-min-replicas"

/* What the controller needs of an HPA. */
typedef struct ctl_hpa_view {
    uint32_t min;           /* spec.minReplicas (1 when absent, as the API defaults it) */
    uint32_t max;           /* spec.maxReplicas */
    bool has_original;      /* the annotation is there and a count in 1..max */
    uint32_t original;      /* its value */
} ctl_hpa_view;

/* Whether hpa's spec.scaleTargetRef is the Deployment named deployment. */
bool ctl_hpa_targets(const json_t *hpa, const char *deployment);
/* The scaleTargetRef's name when its kind is Deployment, else NULL
 * (borrowed from hpa). */
const char *ctl_hpa_target_name(const json_t *hpa);
/* Reads hpa into *out: 0, or -EINVAL without a usable spec.maxReplicas. */
int ctl_hpa_view_read(const json_t *hpa, ctl_hpa_view *out);
/* The minReplicas that gives a floor of desired: at least the HPA's own
 * (the original), at most maxReplicas. */
uint32_t ctl_hpa_floor(const ctl_hpa_view *v, uint32_t desired);
/* A merge patch setting spec.minReplicas to min and, when liftoff does not
 * hold the floor yet, the annotation to the current minReplicas; guarded by
 * hpa's resourceVersion (a 409 if it changed meanwhile). */
json_t *ctl_hpa_floor_patch(const json_t *hpa, const ctl_hpa_view *v, uint32_t min);
/* A merge patch putting the original minReplicas back and removing the
 * annotation, guarded likewise; NULL when liftoff holds no floor. */
json_t *ctl_hpa_restore_patch(const json_t *hpa, const ctl_hpa_view *v);

#endif
