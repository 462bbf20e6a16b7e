/* metrics_write.c — the text exposition format 0.0.4 (see metrics.h). */
#include "metrics_int.h"
#include "common.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Go's strconv.FormatFloat(v, 'g', -1, 64) spirit: the shortest of %.15g,
 * %.16g, %.17g that reads back exactly; Prometheus' spellings of the
 * specials. */
static void format_value(char *out, size_t len, double v)
{
    if (isnan(v)) {
        snprintf(out, len, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(out, len, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, len, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

/* Appends s with the given characters escaped (\\, \n, and " if quote). */
static int append_escaped(buf_t *out, const char *s, bool quote)
{
    int rc = 0;
    const char *run = s;
    for (const char *p = s;; p++) {
        const char *esc = NULL;
        if (*p == '\\')
            esc = "\\\\";
        else if (*p == '\n')
            esc = "\\n";
        else if (*p == '"' && quote)
            esc = "\\\"";
        else if (*p != '\0')
            continue;
        if (p > run && (rc = buf_append(out, run, (size_t)(p - run))) < 0)
            return rc;
        if (!esc)
            return 0;
        if ((rc = buf_append_str(out, esc)) < 0)
            return rc;
        run = p + 1;
    }
}

/* Appends {a="x",b="y"[,le="..."]} (nothing for no labels and no le). */
static int append_labels(buf_t *out, const metrics_family *f, const mseries *s, const char *le)
{
    int rc = 0;
    if (f->nlabels == 0 && !le)
        return 0;
    if ((rc = buf_append(out, "{", 1)) < 0)
        return rc;
    for (size_t i = 0; i < f->nlabels; i++) {
        if ((rc = buf_appendf(out, "%s%s=\"", i ? "," : "", f->labels[i])) < 0 ||
            (rc = append_escaped(out, s->values[i], true)) < 0 ||
            (rc = buf_append(out, "\"", 1)) < 0)
            return rc;
    }
    if (le && (rc = buf_appendf(out, "%sle=\"%s\"", f->nlabels ? "," : "", le)) < 0)
        return rc;
    return buf_append(out, "}", 1);
}

static int append_sample(buf_t *out, const metrics_family *f, const char *suffix,
                         const mseries *s, const char *le, const char *value)
{
    int rc;
    if ((rc = buf_append_str(out, f->name)) < 0 || (rc = buf_append_str(out, suffix)) < 0 ||
        (rc = append_labels(out, f, s, le)) < 0)
        return rc;
    return buf_appendf(out, " %s\n", value);
}

static int write_series(buf_t *out, const metrics_family *f, const mseries *s)
{
    char v[40], le[40];
    int rc = 0;
    switch (f->type) {
    case MT_COUNTER:
        if (s->v.c.f == 0)
            snprintf(v, sizeof v, "%" PRIu64, s->v.c.n);
        else
            format_value(v, sizeof v, metrics_counter_value(&s->v.c));
        return append_sample(out, f, "", s, NULL, v);
    case MT_GAUGE:
        format_value(v, sizeof v, s->v.g.v);
        return append_sample(out, f, "", s, NULL, v);
    case MT_HISTOGRAM: {
        const metrics_histogram *h = &s->v.h;
        uint64_t cum = 0;
        for (size_t i = 0; i <= h->nbounds; i++) {
            cum += h->counts[i];
            if (i < h->nbounds)
                format_value(le, sizeof le, h->bounds[i]);
            else
                snprintf(le, sizeof le, "+Inf");
            snprintf(v, sizeof v, "%" PRIu64, cum);
            if ((rc = append_sample(out, f, "_bucket", s, le, v)) < 0)
                return rc;
        }
        format_value(v, sizeof v, h->sum);
        if ((rc = append_sample(out, f, "_sum", s, NULL, v)) < 0)
            return rc;
        snprintf(v, sizeof v, "%" PRIu64, h->count);
        return append_sample(out, f, "_count", s, NULL, v);
    }
    }
    return 0;
}

int metrics_write(metrics_registry *r, buf_t *out)
{
    static const char *const type_names[] = { "counter", "gauge", "histogram" };
    int rc = 0;
    for (size_t i = 0; i < r->ncollectors; i++)
        r->collectors[i].fn(r, r->collectors[i].arg);
    for (size_t i = 0; i < r->n; i++) {
        const metrics_family *f = r->fams[i];
        if ((rc = buf_appendf(out, "# HELP %s ", f->name)) < 0 ||
            (rc = append_escaped(out, f->help, false)) < 0 ||
            (rc = buf_appendf(out, "\n# TYPE %s %s\n", f->name, type_names[f->type])) < 0)
            return rc;
        for (size_t j = 0; j < f->n; j++)
            if ((rc = write_series(out, f, f->series[j])) < 0)
                return rc;
    }
    return 0;
}
