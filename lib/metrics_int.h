/*
 * metrics_int.h — the registry's internals, shared by metrics.c (families
 * and series), metrics_write.c (exposition) and metrics_process.c. Not for
 * users of the registry.
 */
#ifndef LIFTOFF_METRICS_INT_H
#define LIFTOFF_METRICS_INT_H

#include "metrics.h"

typedef enum mtype { MT_COUNTER, MT_GAUGE, MT_HISTOGRAM } mtype;

typedef struct mseries {
    char *values[METRICS_LABELS_MAX];  /* sanitized copies */
    union {
        metrics_counter c;
        metrics_gauge g;
        metrics_histogram h;
    } v;
} mseries;

struct metrics_family {
    char *name;
    char *help;
    mtype type;
    size_t nlabels;
    char *labels[METRICS_LABELS_MAX];
    double *bounds;          /* histograms */
    size_t nbounds;
    mseries **series;        /* creation order */
    size_t n, cap;
    uint32_t *index;         /* open addressing: series position + 1, 0 = empty */
    size_t index_cap;        /* power of two, > 2 * n */
    size_t limit;
    mseries *overflow;
};

typedef struct mcollector {
    metrics_collect_fn *fn;
    void *arg;
} mcollector;

struct metrics_registry {
    metrics_family **fams;   /* registration order */
    size_t n, cap;
    mcollector *collectors;
    size_t ncollectors;
    void *process;           /* metrics_process.c's state, freed with the registry */
};

#endif
