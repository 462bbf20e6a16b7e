/* trace.c — parsing, loading and writing launch traces (see trace.h). */
#include "trace.h"
#include "common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char *const colname[5] = { "t", "upvote", "comment", "maker_comment", "rps" };

void sim_trace_alloc(sim_trace *t, uint32_t n)
{
    t->n = n;
    size_t m = n ? n : 1;
    t->upvote = xcalloc(m, sizeof(uint32_t));
    t->comment = xcalloc(m, sizeof(uint32_t));
    t->maker_comment = xcalloc(m, sizeof(uint32_t));
    t->rps = xcalloc(m, sizeof(uint32_t));
}

void sim_trace_free(sim_trace *t)
{
    free(t->upvote);
    free(t->comment);
    free(t->maker_comment);
    free(t->rps);
    memset(t, 0, sizeof *t);
}

__attribute__((format(printf, 4, 5)))
static int fail(sim_trace_error *err, uint32_t line, uint32_t col, const char *fmt, ...)
{
    if (err) {
        err->line = line;
        err->column = col;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* Appends one value to a growing column set. */
static void grow(sim_trace *t, uint32_t *cap)
{
    if (t->n < *cap)
        return;
    uint32_t nc = *cap ? *cap * 2 : 4096;
    if (nc > SIM_TRACE_MAX_SECONDS)
        nc = SIM_TRACE_MAX_SECONDS;
    t->upvote = xrealloc(t->upvote, nc * sizeof(uint32_t));
    t->comment = xrealloc(t->comment, nc * sizeof(uint32_t));
    t->maker_comment = xrealloc(t->maker_comment, nc * sizeof(uint32_t));
    t->rps = xrealloc(t->rps, nc * sizeof(uint32_t));
    *cap = nc;
}

/* Parses one data line [p, end) (no line terminator). */
static int parse_row(const char *p, const char *end, uint32_t lineno, sim_trace *t,
                     sim_trace_error *err)
{
    uint32_t v[5];
    const char *s = p;
    for (int c = 0; c < 5; c++) {
        uint32_t col = (uint32_t)(s - p) + 1;
        if (s >= end || *s == ',')
            return fail(err, lineno, col, "column '%s': empty value", colname[c]);
        uint64_t x = 0;
        const char *q = s;
        while (q < end && *q != ',') {
            if (*q < '0' || *q > '9')
                return fail(err, lineno, (uint32_t)(q - p) + 1,
                            "column '%s': expected a non-negative integer, found '%c'",
                            colname[c], *q >= 0x20 && *q < 0x7f ? *q : '?');
            x = x * 10 + (uint64_t)(*q - '0');
            if (x > SIM_TRACE_MAX_VALUE)
                return fail(err, lineno, col, "column '%s': value above the limit %u",
                            colname[c], SIM_TRACE_MAX_VALUE);
            q++;
        }
        v[c] = (uint32_t)x;
        s = q;
        if (c < 4) {
            if (s >= end)
                return fail(err, lineno, (uint32_t)(s - p) + 1,
                            "missing column '%s' (want 5 columns: %s)", colname[c + 1],
                            SIM_TRACE_HEADER);
            s++; /* the comma */
        }
    }
    if (s < end)
        return fail(err, lineno, (uint32_t)(s - p) + 1,
                    "too many columns (want 5: %s)", SIM_TRACE_HEADER);
    if (v[0] != t->n)
        return fail(err, lineno, 1, "column 't': expected %u (one row per second, from 0), found %u",
                    t->n, v[0]);
    t->upvote[t->n] = v[1];
    t->comment[t->n] = v[2];
    t->maker_comment[t->n] = v[3];
    t->rps[t->n] = v[4];
    t->n++;
    return 0;
}

int sim_trace_parse(const char *buf, size_t len, sim_trace *out, sim_trace_error *err)
{
    memset(out, 0, sizeof *out);
    if (err)
        memset(err, 0, sizeof *err);
    if (len > SIM_TRACE_MAX_BYTES)
        return fail(err, 0, 0, "trace larger than %u bytes", SIM_TRACE_MAX_BYTES);
    uint32_t cap = 0, lineno = 0;
    bool header = false;
    int rc = 0;
    const char *p = buf, *bend = buf + len;
    while (p < bend) {
        lineno++;
        const char *nl = memchr(p, '\n', (size_t)(bend - p));
        const char *end = nl ? nl : bend;
        const char *next = nl ? nl + 1 : bend;
        if (end > p && end[-1] == '\r')
            end--;
        if ((size_t)(end - p) > SIM_TRACE_MAX_LINE) {
            rc = fail(err, lineno, SIM_TRACE_MAX_LINE + 1, "line longer than %u bytes",
                      SIM_TRACE_MAX_LINE);
            goto fail;
        }
        const char *nul = memchr(p, '\0', (size_t)(end - p));
        if (nul) {
            rc = fail(err, lineno, (uint32_t)(nul - p) + 1, "NUL byte");
            goto fail;
        }
        if (end > p && *p == '#') {
            p = next;
            continue;
        }
        if (end == p) {
            if (next == bend) /* a trailing empty line */
                break;
            rc = fail(err, lineno, 1, "empty line");
            goto fail;
        }
        if (!header) {
            size_t hl = strlen(SIM_TRACE_HEADER);
            if ((size_t)(end - p) != hl || memcmp(p, SIM_TRACE_HEADER, hl) != 0) {
                uint32_t col = 1;
                while (col - 1 < hl && p + col - 1 < end && p[col - 1] == SIM_TRACE_HEADER[col - 1])
                    col++;
                rc = fail(err, lineno, col, "expected the header '%s'", SIM_TRACE_HEADER);
                goto fail;
            }
            header = true;
            p = next;
            continue;
        }
        if (out->n >= SIM_TRACE_MAX_SECONDS) {
            rc = fail(err, lineno, 1, "more than %u rows", SIM_TRACE_MAX_SECONDS);
            goto fail;
        }
        grow(out, &cap);
        rc = parse_row(p, end, lineno, out, err);
        if (rc)
            goto fail;
        p = next;
    }
    if (!header) {
        rc = fail(err, lineno ? lineno : 1, 1, "no header: expected '%s'", SIM_TRACE_HEADER);
        goto fail;
    }
    if (out->n == 0) {
        rc = fail(err, lineno, 1, "no data rows");
        goto fail;
    }
    return 0;
fail:
    sim_trace_free(out);
    return rc;
}

int sim_trace_load(const char *path, sim_trace *out, sim_trace_error *err)
{
    memset(out, 0, sizeof *out);
    if (err)
        memset(err, 0, sizeof *err);
    int rc = 0;
    char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        rc = -errno;
        if (err)
            snprintf(err->msg, sizeof err->msg, "cannot open: %s", strerror(-rc));
        goto out;
    }
    size_t cap = 1 << 16, len = 0;
    buf = xmalloc(cap);
    for (;;) {
        if (len == cap) {
            if (cap >= SIM_TRACE_MAX_BYTES) {
                rc = -EFBIG;
                if (err)
                    snprintf(err->msg, sizeof err->msg, "trace larger than %u bytes",
                             SIM_TRACE_MAX_BYTES);
                goto out;
            }
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) {
                rc = -EIO;
                if (err)
                    snprintf(err->msg, sizeof err->msg, "read error");
                goto out;
            }
            break;
        }
    }
    rc = sim_trace_parse(buf, len, out, err);
out:
    free(buf);
    if (f)
        fclose(f);
    return rc;
}

int sim_trace_write(FILE *f, const sim_trace *t, const char *const *comments)
{
    for (size_t i = 0; comments && comments[i]; i++)
        fprintf(f, "# %s\n", comments[i]);
    fprintf(f, "%s\n", SIM_TRACE_HEADER);
    for (uint32_t i = 0; i < t->n; i++)
        fprintf(f, "%u,%u,%u,%u,%u\n", i, t->upvote[i], t->comment[i], t->maker_comment[i],
                t->rps[i]);
    return ferror(f) ? -EIO : 0;
}
