/*
 * metrics.h — a Prometheus registry: counters, gauges and histograms, with
 * or without labels, written in the text exposition format 0.0.4.
 *
 * Hot path: registering a family or looking up a labelled series costs a
 * hash lookup; do it once and keep the returned pointer. Updating through
 * the pointer is an inline add with no lookup and no lock:
 *
 *   metrics_counter *ok = metrics_counter_at(requests, metrics_labels("200"));
 *   ...
 *   metrics_counter_inc(ok);
 *
 * Labels: a family has 0..METRICS_LABELS_MAX label names, fixed when it is
 * registered; a series is created on the first lookup of its values. A
 * family holds at most METRICS_SERIES_MAX series (metrics_family_set_limit
 * changes it); once full, lookups of new values return the family's
 * overflow series, whose every label value is "overflow", and a warning is
 * logged once. Label values longer than METRICS_LABEL_VALUE_MAX bytes are
 * cut, and bytes that are not UTF-8 become U+FFFD.
 *
 * Programming errors abort with a message on stderr: an invalid metric or
 * label name, the same name registered twice with a different type or
 * labels, a wrong number of label values, a lookup on a family of another
 * type. Registering the same family twice identically returns the first.
 *
 * Ownership: the registry owns families and series; the pointers stay valid
 * until metrics_registry_free(). Names, help and label names are copied.
 * Not thread-safe: one registry per process, used from the loop's thread.
 */
#ifndef LIFTOFF_METRICS_H
#define LIFTOFF_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define METRICS_LABELS_MAX 4           /* label names per family */
#define METRICS_SERIES_MAX 1000        /* default series per family */
#define METRICS_LABEL_VALUE_MAX 128    /* bytes kept of a label value */
#define METRICS_BUCKETS_MAX 64         /* histogram bucket bounds (+Inf implicit) */
#define METRICS_OVERFLOW_VALUE "overflow"
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

typedef struct metrics_registry metrics_registry;
typedef struct metrics_family metrics_family;

/* A counter: whole increments plus a float part for fractional totals. */
typedef struct metrics_counter {
    uint64_t n;
    double f;
} metrics_counter;

typedef struct metrics_gauge {
    double v;
} metrics_gauge;

typedef struct metrics_histogram {
    const double *bounds;  /* the family's upper bounds, ascending */
    size_t nbounds;
    uint64_t *counts;      /* nbounds + 1 per-bucket (not cumulative) counts */
    uint64_t count;
    double sum;
} metrics_histogram;

/* A NULL-terminated string list: label names or values. */
#define metrics_labels(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* Prometheus' default latency buckets in seconds (.005 .. 10), and their count. */
extern const double metrics_default_buckets[];
extern const size_t metrics_default_buckets_len;
/* Fills out[0..count) with start, start*factor, ... (start > 0, factor > 1). */
void metrics_exponential_buckets(double start, double factor, size_t count, double *out);

metrics_registry *metrics_registry_new(void);
/* Frees the registry, its families and series. NULL-safe. */
void metrics_registry_free(metrics_registry *r);

/* Unlabelled metrics: registers the family and returns its one series. */
metrics_counter *metrics_counter_new(metrics_registry *r, const char *name, const char *help);
metrics_gauge *metrics_gauge_new(metrics_registry *r, const char *name, const char *help);
metrics_histogram *metrics_histogram_new(metrics_registry *r, const char *name, const char *help,
                                         const double *bounds, size_t nbounds);

/* Labelled families; labels is metrics_labels("code", ...). */
metrics_family *metrics_counter_family(metrics_registry *r, const char *name, const char *help,
                                       const char *const labels[]);
metrics_family *metrics_gauge_family(metrics_registry *r, const char *name, const char *help,
                                     const char *const labels[]);
metrics_family *metrics_histogram_family(metrics_registry *r, const char *name, const char *help,
                                         const char *const labels[], const double *bounds,
                                         size_t nbounds);
/* Changes the series limit of a family (>= 1; existing series stay). */
void metrics_family_set_limit(metrics_family *f, size_t max_series);
/* Number of series in a family, the overflow series included. */
size_t metrics_family_size(const metrics_family *f);

/* The series for values (metrics_labels("200", ...)): found or created, or
 * the overflow series when the family is full. Keep the pointer. */
metrics_counter *metrics_counter_at(metrics_family *f, const char *const values[]);
metrics_gauge *metrics_gauge_at(metrics_family *f, const char *const values[]);
metrics_histogram *metrics_histogram_at(metrics_family *f, const char *const values[]);

/* Updates (hot path). */
static inline void metrics_counter_inc(metrics_counter *c) { c->n++; }
static inline void metrics_counter_add(metrics_counter *c, uint64_t n) { c->n += n; }
/* Adds a non-negative fraction (e.g. seconds); negative values are ignored. */
static inline void metrics_counter_add_float(metrics_counter *c, double v)
{
    if (v > 0)
        c->f += v;
}
/* Sets the total, for collectors that mirror a counter kept elsewhere. */
static inline void metrics_counter_set(metrics_counter *c, double total)
{
    c->n = 0;
    c->f = total;
}
static inline double metrics_counter_value(const metrics_counter *c) { return (double)c->n + c->f; }

static inline void metrics_gauge_set(metrics_gauge *g, double v) { g->v = v; }
static inline void metrics_gauge_add(metrics_gauge *g, double v) { g->v += v; }
static inline void metrics_gauge_inc(metrics_gauge *g) { g->v += 1; }
static inline void metrics_gauge_dec(metrics_gauge *g) { g->v -= 1; }

static inline void metrics_histogram_observe(metrics_histogram *h, double v)
{
    size_t i = 0;
    while (i < h->nbounds && !(v <= h->bounds[i])) /* NaN lands in +Inf */
        i++;
    h->counts[i]++;
    h->count++;
    h->sum += v;
}

/* Called at the start of every metrics_write(), to refresh gauges. */
typedef void metrics_collect_fn(metrics_registry *r, void *arg);
void metrics_on_collect(metrics_registry *r, metrics_collect_fn *fn, void *arg);

/* Registers process_cpu_seconds_total, process_resident_memory_bytes,
 * process_virtual_memory_bytes, process_open_fds, process_max_fds and
 * process_start_time_seconds, refreshed from /proc/self at each write. */
void metrics_process_register(metrics_registry *r);

/* Appends the exposition text of every family (registration order, series
 * in creation order) to out: 0, or -ENOBUFS if out's limit is too small
 * (out then holds a prefix). */
int metrics_write(metrics_registry *r, buf_t *out);

#endif
