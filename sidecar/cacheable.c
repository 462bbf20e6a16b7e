/* cacheable.c — shared-cache rules for the micro-cache, and its keys. */
#include "cacheable.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "cachectl.h"

bool sidecar_cache_request_ok(const sidecar_rule *rule, const http_request *h)
{
    if (!rule || !rule->micro_cache || (h->meth != HTTP_M_GET && h->meth != HTTP_M_HEAD) ||
        h->upgrade)
        return false;
    if (http_header_find(h->headers, h->nheaders, "authorization"))
        return false;
    for (unsigned i = 0; i < h->nheaders; i++)
        if (http_str_ieq(h->headers[i].name, "cache-control") &&
            (sidecar_cc_has(h->headers[i].value, "no-store") ||
             sidecar_cc_has(h->headers[i].value, "no-cache")))
            return false;
    return true;
}

int sidecar_cc_seconds(http_str cc, const char *directive, uint32_t *out)
{
    const char *p = sidecar_cc_find(cc, directive), *end = cc.p + cc.len;
    if (!p)
        return 0;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p >= end || *p != '=')
        return -EINVAL;
    p++;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    bool q = p < end && *p == '"';
    if (q)
        p++;
    uint64_t v = 0;
    const char *d = p;
    while (p < end && isdigit((unsigned char)*p)) {
        if (v < SIDECAR_AGE_MAX)
            v = v * 10 + (uint64_t)(*p - '0');
        p++;
    }
    if (p == d || (q && (p >= end || *p != '"')))
        return -EINVAL;
    *out = v > SIDECAR_AGE_MAX ? SIDECAR_AGE_MAX : (uint32_t)v;
    return 1;
}

static bool storable_status(int s)
{
    switch (s) {
    case 200: case 203: case 204: case 300: case 301: case 308:
    case 404: case 405: case 410: case 414: case 501:
        return true;
    default:
        return false;
    }
}

int sidecar_cache_storable(const sidecar_store_in *in, sidecar_store_out *out)
{
    const sidecar_rule *r = in->rule;
    uint32_t smax = 0, max = 0, swr = 0, sie = 0;
    bool has_smax = false, has_max = false, has_swr = false, has_sie = false;
    if (!r || !r->micro_cache || !storable_status(in->status))
        return 0;
    for (unsigned i = 0; i < in->nheaders; i++) {
        const http_header *h = &in->headers[i];
        if (http_str_ieq(h->name, "set-cookie"))
            return 0;
        if (http_str_ieq(h->name, "vary") && http_list_has_token(h->value, "*"))
            return 0;
        if (!http_str_ieq(h->name, "cache-control"))
            continue;
        if (sidecar_cc_has(h->value, "no-store") || sidecar_cc_has(h->value, "no-cache"))
            return 0;
        if (sidecar_cc_has(h->value, "private") && !r->force_public)
            return 0;
        uint32_t v;
        int rc;
        if ((rc = sidecar_cc_seconds(h->value, "s-maxage", &v)) < 0)
            return 0;
        if (rc == 1 && !has_smax) { smax = v; has_smax = true; }
        if ((rc = sidecar_cc_seconds(h->value, "max-age", &v)) < 0)
            return 0;
        if (rc == 1 && !has_max) { max = v; has_max = true; }
        if (sidecar_cc_seconds(h->value, "stale-while-revalidate", &v) == 1 && !has_swr) {
            swr = v;
            has_swr = true;
        }
        if (sidecar_cc_seconds(h->value, "stale-if-error", &v) == 1 && !has_sie) {
            sie = v;
            has_sie = true;
        }
    }
    out->ttl_s = r->micro_ttl_s ? r->micro_ttl_s : has_smax ? smax : has_max ? max : 0;
    out->swr_s = has_swr ? swr : r->swr;
    out->sie_s = has_sie ? sie : r->sie;
    return out->ttl_s > 0 ? 1 : 0;
}

int sidecar_cache_key(const http_request *h, buf_t *out)
{
    int rc = 0;
    /* HEAD is answered from GET's entry: same key. */
    if (h->meth == HTTP_M_HEAD)
        rc |= buf_append(out, "GET", 3);
    else
        rc |= buf_append(out, h->method.p, h->method.len);
    rc |= buf_append(out, " ", 1);
    for (size_t i = 0; i < h->host.len; i++) { /* host names are case-insensitive */
        char ch = (char)tolower((unsigned char)h->host.p[i]);
        rc |= buf_append(out, &ch, 1);
    }
    rc |= buf_append(out, " ", 1);
    rc |= buf_append(out, h->path.p, h->path.len);
    return rc ? -ENOBUFS : 0;
}

int sidecar_cache_key_vary(const http_request *h, http_str vary, buf_t *out)
{
    const char *p = vary.p, *end = vary.p + vary.len;
    unsigned n = 0;
    int rc = 0;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
            p++;
        const char *s = p;
        while (p < end && *p != ',' && *p != ' ' && *p != '\t')
            p++;
        size_t len = (size_t)(p - s);
        if (!len)
            continue;
        if ((len == 1 && *s == '*') || ++n > SIDECAR_VARY_FIELDS_MAX)
            return -EINVAL;
        rc |= buf_append(out, "\n", 1);
        for (size_t i = 0; i < len; i++) {
            char ch = (char)tolower((unsigned char)s[i]);
            rc |= buf_append(out, &ch, 1);
        }
        rc |= buf_append(out, ": ", 2);
        /* every instance of the field, in order, joined by ", " */
        bool first = true;
        for (unsigned i = 0; i < h->nheaders; i++) {
            const http_header *f = &h->headers[i];
            if (f->name.len != len || strncasecmp(f->name.p, s, len) != 0)
                continue;
            if (!first)
                rc |= buf_append(out, ", ", 2);
            rc |= buf_append(out, f->value.p, f->value.len);
            first = false;
        }
    }
    return rc ? -ENOBUFS : 0;
}
