/* metrics.c — the registry: families, label sets, series lookup and the
 * overflow series (see metrics.h). */
#include "metrics_int.h"
#include "common.h"
#include "log.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double metrics_default_buckets[] = { .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10 };
const size_t metrics_default_buckets_len = LO_ARRAY_SIZE(metrics_default_buckets);

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "metrics: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

void metrics_exponential_buckets(double start, double factor, size_t count, double *out)
{
    if (!(start > 0) || !(factor > 1))
        die("exponential buckets need start > 0 and factor > 1");
    for (size_t i = 0; i < count; i++) {
        out[i] = start;
        start *= factor;
    }
}

metrics_registry *metrics_registry_new(void)
{
    return xcalloc(1, sizeof(metrics_registry));
}

static void series_free(mseries *s, mtype type)
{
    for (size_t i = 0; i < METRICS_LABELS_MAX; i++)
        free(s->values[i]);
    if (type == MT_HISTOGRAM)
        free(s->v.h.counts);
    free(s);
}

static void family_free(metrics_family *f)
{
    for (size_t i = 0; i < f->n; i++)
        series_free(f->series[i], f->type);
    for (size_t i = 0; i < f->nlabels; i++)
        free(f->labels[i]);
    free(f->series);
    free(f->index);
    free(f->bounds);
    free(f->name);
    free(f->help);
    free(f);
}

void metrics_registry_free(metrics_registry *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        family_free(r->fams[i]);
    free(r->fams);
    free(r->collectors);
    free(r->process);
    free(r);
}

void metrics_on_collect(metrics_registry *r, metrics_collect_fn *fn, void *arg)
{
    r->collectors = xrealloc(r->collectors, (r->ncollectors + 1) * sizeof *r->collectors);
    r->collectors[r->ncollectors++] = (mcollector){ fn, arg };
}

/* ---- names ---- */

static bool valid_metric_name(const char *s)
{
    if (!s || !*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == ':'))
            return false;
    return true;
}

static bool valid_label_name(const char *s)
{
    if (!valid_metric_name(s) || strchr(s, ':') || strncmp(s, "__", 2) == 0)
        return false;
    return true;
}

/* ---- registration ---- */

static bool same_shape(const metrics_family *f, mtype type, const char *const labels[], size_t nl,
                       const double *bounds, size_t nb)
{
    if (f->type != type || f->nlabels != nl || f->nbounds != nb)
        return false;
    for (size_t i = 0; i < nl; i++)
        if (strcmp(f->labels[i], labels[i]) != 0)
            return false;
    for (size_t i = 0; i < nb; i++)
        if (f->bounds[i] != bounds[i])
            return false;
    return true;
}

static mseries *series_create(metrics_family *f, char *const values[]);

static metrics_family *family_register(metrics_registry *r, mtype type, const char *name,
                                       const char *help, const char *const labels[],
                                       const double *bounds, size_t nb)
{
    size_t nl = 0;
    if (!valid_metric_name(name))
        die("invalid metric name \"%s\"", name ? name : "(null)");
    while (labels && labels[nl]) {
        if (nl == METRICS_LABELS_MAX)
            die("%s: more than %d labels", name, METRICS_LABELS_MAX);
        if (!valid_label_name(labels[nl]) || (type == MT_HISTOGRAM && !strcmp(labels[nl], "le")))
            die("%s: invalid label name \"%s\"", name, labels[nl]);
        for (size_t j = 0; j < nl; j++)
            if (strcmp(labels[j], labels[nl]) == 0)
                die("%s: label \"%s\" given twice", name, labels[nl]);
        nl++;
    }
    if (type == MT_HISTOGRAM) {
        if (nb > METRICS_BUCKETS_MAX || (nb > 0 && !bounds))
            die("%s: up to %d bucket bounds", name, METRICS_BUCKETS_MAX);
        for (size_t i = 0; i < nb; i++)
            if (!isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1])))
                die("%s: bucket bounds must be finite and ascending", name);
    }
    for (size_t i = 0; i < r->n; i++) {
        metrics_family *f = r->fams[i];
        if (strcmp(f->name, name) != 0)
            continue;
        if (!same_shape(f, type, labels, nl, bounds, nb))
            die("%s registered twice with different types, labels or buckets", name);
        return f;
    }

    metrics_family *f = xcalloc(1, sizeof *f);
    f->name = xstrdup(name);
    f->help = xstrdup(help ? help : "");
    f->type = type;
    f->nlabels = nl;
    for (size_t i = 0; i < nl; i++)
        f->labels[i] = xstrdup(labels[i]);
    if (type == MT_HISTOGRAM && nb > 0) {
        f->bounds = xmalloc(nb * sizeof *f->bounds);
        memcpy(f->bounds, bounds, nb * sizeof *f->bounds);
    }
    f->nbounds = nb;
    f->limit = METRICS_SERIES_MAX;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->fams = xrealloc(r->fams, r->cap * sizeof *r->fams);
    }
    r->fams[r->n++] = f;
    if (nl == 0) {
        char *none[METRICS_LABELS_MAX] = { NULL };
        series_create(f, none);
    }
    return f;
}

metrics_family *metrics_counter_family(metrics_registry *r, const char *name, const char *help,
                                       const char *const labels[])
{
    return family_register(r, MT_COUNTER, name, help, labels, NULL, 0);
}

metrics_family *metrics_gauge_family(metrics_registry *r, const char *name, const char *help,
                                     const char *const labels[])
{
    return family_register(r, MT_GAUGE, name, help, labels, NULL, 0);
}

metrics_family *metrics_histogram_family(metrics_registry *r, const char *name, const char *help,
                                         const char *const labels[], const double *bounds,
                                         size_t nbounds)
{
    return family_register(r, MT_HISTOGRAM, name, help, labels, bounds, nbounds);
}

metrics_counter *metrics_counter_new(metrics_registry *r, const char *name, const char *help)
{
    return metrics_counter_at(metrics_counter_family(r, name, help, NULL), NULL);
}

metrics_gauge *metrics_gauge_new(metrics_registry *r, const char *name, const char *help)
{
    return metrics_gauge_at(metrics_gauge_family(r, name, help, NULL), NULL);
}

metrics_histogram *metrics_histogram_new(metrics_registry *r, const char *name, const char *help,
                                         const double *bounds, size_t nbounds)
{
    return metrics_histogram_at(metrics_histogram_family(r, name, help, NULL, bounds, nbounds),
                                NULL);
}

void metrics_family_set_limit(metrics_family *f, size_t max_series)
{
    f->limit = max_series ? max_series : 1;
}

size_t metrics_family_size(const metrics_family *f) { return f->n; }

/* ---- series lookup ---- */

/* Copies v into out (METRICS_LABEL_VALUE_MAX + 1 bytes): invalid UTF-8
 * becomes U+FFFD, and the copy is cut at a character boundary. */
static void sanitize_value(const char *v, char *out)
{
    const unsigned char *s = (const unsigned char *)v;
    size_t n = strlen(v), o = 0;
    for (size_t i = 0; i < n;) {
        size_t step = log_utf8_seq_len(s + i, n - i);
        const char *src = (const char *)s + i;
        size_t len = step;
        if (step == 0) {
            src = "\xEF\xBF\xBD";
            len = 3;
            step = 1;
        }
        if (o + len > METRICS_LABEL_VALUE_MAX)
            break;
        memcpy(out + o, src, len);
        o += len;
        i += step;
    }
    out[o] = '\0';
}

static uint64_t hash_values(char *const values[], size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        for (const unsigned char *p = (const unsigned char *)values[i]; *p; p++)
            h = (h ^ *p) * 1099511628211ull;
        h = (h ^ 0xff) * 1099511628211ull; /* separator: not a UTF-8 byte */
    }
    return h;
}

static bool values_equal(const mseries *s, char *const values[], size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s->values[i], values[i]) != 0)
            return false;
    return true;
}

static mseries *index_find(const metrics_family *f, char *const values[], uint64_t h)
{
    if (!f->index)
        return NULL;
    size_t mask = f->index_cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        uint32_t slot = f->index[i];
        if (slot == 0)
            return NULL;
        mseries *s = f->series[slot - 1];
        if (values_equal(s, values, f->nlabels))
            return s;
    }
}

static void index_put(metrics_family *f, size_t pos, uint64_t h)
{
    size_t mask = f->index_cap - 1;
    size_t i = (size_t)h & mask;
    while (f->index[i] != 0)
        i = (i + 1) & mask;
    f->index[i] = (uint32_t)(pos + 1);
}

static void index_grow(metrics_family *f)
{
    size_t cap = f->index_cap ? f->index_cap * 2 : 16;
    free(f->index);
    f->index = xcalloc(cap, sizeof *f->index);
    f->index_cap = cap;
    for (size_t i = 0; i < f->n; i++)
        index_put(f, i, hash_values(f->series[i]->values, f->nlabels));
}

static mseries *series_create(metrics_family *f, char *const values[])
{
    mseries *s = xcalloc(1, sizeof *s);
    for (size_t i = 0; i < f->nlabels; i++)
        s->values[i] = xstrdup(values[i]);
    if (f->type == MT_HISTOGRAM) {
        s->v.h.bounds = f->bounds;
        s->v.h.nbounds = f->nbounds;
        s->v.h.counts = xcalloc(f->nbounds + 1, sizeof *s->v.h.counts);
    }
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 8;
        f->series = xrealloc(f->series, f->cap * sizeof *f->series);
    }
    f->series[f->n++] = s;
    if (f->nlabels == 0)
        return s;
    if (2 * f->n >= f->index_cap)
        index_grow(f); /* re-inserts every series, this one included */
    else
        index_put(f, f->n - 1, hash_values(values, f->nlabels));
    return s;
}

static mseries *overflow_series(metrics_family *f)
{
    if (f->overflow)
        return f->overflow;
    char *values[METRICS_LABELS_MAX];
    for (size_t i = 0; i < f->nlabels; i++)
        values[i] = (char *)METRICS_OVERFLOW_VALUE;
    uint64_t h = hash_values(values, f->nlabels);
    f->overflow = index_find(f, values, h);
    if (!f->overflow)
        f->overflow = series_create(f, values);
    log_warn("metrics", "series limit reached; new label values go to the overflow series",
             LF_STR("family", f->name), LF_UINT("limit", f->limit));
    return f->overflow;
}

static mseries *lookup(metrics_family *f, mtype type, const char *const values[])
{
    if (f->type != type)
        die("%s: looked up as the wrong metric type", f->name);
    size_t nv = 0;
    while (values && values[nv])
        nv++;
    if (nv != f->nlabels)
        die("%s: %zu label values for %zu labels", f->name, nv, f->nlabels);
    if (f->nlabels == 0)
        return f->series[0];

    char clean[METRICS_LABELS_MAX][METRICS_LABEL_VALUE_MAX + 1];
    char *keys[METRICS_LABELS_MAX];
    for (size_t i = 0; i < nv; i++) {
        sanitize_value(values[i], clean[i]);
        keys[i] = clean[i];
    }
    uint64_t h = hash_values(keys, nv);
    mseries *s = index_find(f, keys, h);
    if (s)
        return s;
    size_t regular = f->n - (f->overflow ? 1 : 0);
    if (regular >= f->limit)
        return overflow_series(f);
    return series_create(f, keys);
}

metrics_counter *metrics_counter_at(metrics_family *f, const char *const values[])
{
    return &lookup(f, MT_COUNTER, values)->v.c;
}

metrics_gauge *metrics_gauge_at(metrics_family *f, const char *const values[])
{
    return &lookup(f, MT_GAUGE, values)->v.g;
}

metrics_histogram *metrics_histogram_at(metrics_family *f, const char *const values[])
{
    return &lookup(f, MT_HISTOGRAM, values)->v.h;
}
