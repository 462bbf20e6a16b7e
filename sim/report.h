/*
 * report.h — the measurements and their presentation: a text table and
 * JSON.
 *
 * Mean lead of scale-ups: each time the load rises to a pod count n above
 * minReplicas that it did not need during the previous SIM_LEAD_NEW_S
 * seconds, the lead is how long the n-th pod had been ready by then
 * (positive: ahead of the load) or how long it took to arrive (negative:
 * late); each value is capped at +-SIM_LEAD_CAP_S. The mean is over all such
 * rises.
 */
#ifndef LIFTOFF_SIM_REPORT_H
#define LIFTOFF_SIM_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "run.h"

#define SIM_LEAD_CAP_S 600
#define SIM_LEAD_NEW_S 600

/* The mean lead (see above) for a need and a ready series of n seconds;
 * *events gets the number of rises (0: the mean is 0). */
double sim_mean_lead(const uint32_t *need, const uint32_t *ready, uint32_t n,
                     uint32_t min_replicas, uint32_t *events);

/* Describes the run. */
typedef struct sim_report_info {
    const char *trace_name;
    const char *policy_name;     /* NULL: the embedded defaults */
    const sim_config *cfg;
} sim_report_info;

/* Writes the table: 0 or -EIO. */
int sim_report_text(FILE *f, const sim_report_info *info, const sim_run *run);
/* Writes every second as CSV: t, rps, need, then ready and asked for each
 * strategy: 0 or -EIO. */
int sim_report_series(FILE *f, const sim_trace *tr, const sim_run *run);
/* Writes the JSON document (one object, newline-terminated): 0 or -EIO. */
int sim_report_json(FILE *f, const sim_report_info *info, const sim_run *run);

#endif
