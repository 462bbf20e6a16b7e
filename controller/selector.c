/* selector.c — LabelSelector object to selector string (see selector.h). */
#include "selector.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int err;
} sbuf;

static void put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sbuf *b, const char *fmt, ...)
{
    if (b->err)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= b->cap - b->len)
        b->err = -ENOSPC;
    else
        b->len += (size_t)n;
}

static void sep(sbuf *b)
{
    if (b->len)
        put(b, ",");
}

/* "key in (a,b)" / "key notin (a,b)". */
static int put_set(sbuf *b, const char *key, const char *op, const json_t *values)
{
    size_t i;
    const json_t *v;
    if (!json_is_array(values) || json_array_size(values) == 0)
        return -EINVAL;
    sep(b);
    put(b, "%s %s (", key, op);
    json_array_foreach(values, i, v) {
        if (!json_is_string(v))
            return -EINVAL;
        put(b, "%s%s", i ? "," : "", json_string_value(v));
    }
    put(b, ")");
    return 0;
}

int ctl_selector_string(const json_t *sel, char *out, size_t outlen)
{
    sbuf b = { out, 0, outlen, 0 };
    const char *k;
    const json_t *v;
    size_t i;
    if (outlen == 0)
        return -ENOSPC;
    out[0] = '\0';
    if (!json_is_object(sel))
        return -EINVAL;
    const json_t *labels = json_object_get(sel, "matchLabels");
    json_object_foreach((json_t *)labels, k, v) {
        if (!json_is_string(v))
            return -EINVAL;
        sep(&b);
        put(&b, "%s=%s", k, json_string_value(v));
    }
    const json_t *exprs = json_object_get(sel, "matchExpressions");
    json_array_foreach(exprs, i, v) {
        const char *key = json_string_value(json_object_get(v, "key"));
        const char *op = json_string_value(json_object_get(v, "operator"));
        const json_t *values = json_object_get(v, "values");
        int rc = 0;
        if (!key || !op)
            return -EINVAL;
        if (strcmp(op, "In") == 0) {
            rc = put_set(&b, key, "in", values);
        } else if (strcmp(op, "NotIn") == 0) {
            rc = put_set(&b, key, "notin", values);
        } else if (strcmp(op, "Exists") == 0) {
            sep(&b);
            put(&b, "%s", key);
        } else if (strcmp(op, "DoesNotExist") == 0) {
            sep(&b);
            put(&b, "!%s", key);
        } else {
            return -EINVAL;
        }
        if (rc < 0)
            return rc;
    }
    if (b.err) {
        out[0] = '\0';
        return b.err;
    }
    return (int)b.len;
}
