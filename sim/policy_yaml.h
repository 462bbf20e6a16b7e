/*
 * policy_yaml.h — reads a LaunchPolicy's prediction parameters from YAML
 * with libyaml: either a whole LaunchPolicy manifest (the fields under
 * `spec:`) or the spec fields at the top level. Field names are those of
 * forecast_policy.h (prediction.windowSeconds, prediction.weights.upvote,
 * podCapacityRps, scaleDown.stabilizationSeconds, ...); spec sections the
 * forecasting core does not use (targetRef, prewarm, sidecar, mode, redis)
 * are skipped; any other unknown field is an error, so a typo never passes
 * silently. Limits: SIM_POLICY_MAX_BYTES, SIM_POLICY_MAX_DEPTH.
 */
#ifndef LIFTOFF_SIM_POLICY_YAML_H
#define LIFTOFF_SIM_POLICY_YAML_H

#include <stddef.h>

#include "forecast_policy.h"

#define SIM_POLICY_MAX_BYTES (1u << 20)
#define SIM_POLICY_MAX_DEPTH 8

/* Applies the fields in buf to *p (which holds the defaults to start from):
 * 0, or -EINVAL with "line:column: what" in err. */
int sim_policy_parse(const char *buf, size_t len, fc_policy *p, char *err, size_t errlen);
/* Reads a file and applies it: 0 or a negative errno with err set. */
int sim_policy_load(const char *path, fc_policy *p, char *err, size_t errlen);

#endif
