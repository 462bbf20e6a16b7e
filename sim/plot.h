/*
 * plot.h — an SVG picture of a run: requests per second with each
 * strategy's ready capacity, the replicas each asked for, and the
 * engagement velocity, over time (minutes). Hand-written SVG 1.1; long
 * traces are bucketed (rps by its maximum, capacity by its minimum, so
 * neither peaks nor dips hide).
 */
#ifndef LIFTOFF_SIM_PLOT_H
#define LIFTOFF_SIM_PLOT_H

#include <stdio.h>

#include "run.h"
#include "trace.h"

/* Writes the SVG: 0 or -EIO. */
int sim_plot_svg(FILE *f, const char *title, const sim_config *c, const sim_trace *tr,
                 const sim_run *run);

#endif
