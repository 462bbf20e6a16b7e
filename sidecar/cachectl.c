/* cachectl.c — Cache-Control from the factor and the route rule. */
#include "cachectl.h"
#include "common.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static uint32_t clamp_u(double v, uint32_t lo, uint32_t hi)
{
    if (!(v >= lo)) /* NaN too */
        return lo;
    if (v > hi)
        return hi;
    return (uint32_t)v;
}

uint32_t sidecar_cc_max_age(const sidecar_rule *r, double factor, double jitter_u)
{
    if (!(factor > 0) || isinf(factor))
        factor = 1.0;
    uint32_t lo = r->min_max_age, hi = r->max_age;
    double base = r->longer ? (double)lo * factor : (double)hi / factor;
    double v = (double)clamp_u(base, lo, hi);
    if (jitter_u < -1)
        jitter_u = -1;
    if (jitter_u > 1)
        jitter_u = 1;
    v = round(v * (1.0 + jitter_u * (double)r->jitter_pct / 100.0));
    return clamp_u(v, lo, hi);
}

const char *sidecar_cc_find(http_str cc, const char *directive)
{
    size_t dl = strlen(directive);
    const char *p = cc.p, *end = cc.p + cc.len;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
            p++;
        const char *s = p;
        while (p < end && *p != ',' && *p != '=' && *p != ' ' && *p != '\t')
            p++;
        if ((size_t)(p - s) == dl && strncasecmp(s, directive, dl) == 0)
            return p;
        /* skip the rest of this directive (a quoted value may hold commas) */
        bool q = false;
        while (p < end && (q || *p != ',')) {
            if (*p == '"')
                q = !q;
            else if (*p == '\\' && q && p + 1 < end)
                p++;
            p++;
        }
    }
    return NULL;
}

bool sidecar_cc_has(http_str cc, const char *directive)
{
    return sidecar_cc_find(cc, directive) != NULL;
}

/* Appends s at out + *n if it fits with a NUL after it. */
static bool put_text(char *out, size_t outlen, size_t *n, const char *s)
{
    size_t l = strlen(s);
    if (*n + l >= outlen)
        return false;
    memcpy(out + *n, s, l);
    *n += l;
    return true;
}

static bool put_u32(char *out, size_t outlen, size_t *n, uint32_t v)
{
    char tmp[LO_U64_DIGITS];
    size_t l = lo_u64_dec(v, tmp);
    if (*n + l >= outlen)
        return false;
    memcpy(out + *n, tmp, l);
    *n += l;
    return true;
}

bool sidecar_cc_private(http_str cc)
{
    return sidecar_cc_has(cc, "private") || sidecar_cc_has(cc, "no-store");
}

static bool cacheable_status(int s)
{
    switch (s) {
    case 200: case 203: case 204: case 206: case 300: case 301: case 308:
    case 404: case 405: case 410: case 414: case 501:
        return true;
    default:
        return false;
    }
}

int sidecar_cc_decide(const sidecar_cc_in *in, char *out, size_t outlen)
{
    const sidecar_rule *r = in->rule;
    if (!r || r->mode == SIDECAR_MODE_PASSTHROUGH || !cacheable_status(in->status))
        return 0;
    if (in->app_cc && r->mode == SIDECAR_MODE_DEFAULT)
        return 0;
    if (!r->force_public) {
        if (in->set_cookie || in->req_credentials)
            return 0;
        /* read only here: most responses were decided above */
        for (unsigned i = 0; in->app_cc && i < in->napp; i++)
            if (in->app[i].name.len == 13 && http_str_ieq(in->app[i].name, "cache-control") &&
                sidecar_cc_private(in->app[i].value))
                return 0;
    }
    uint32_t age = sidecar_cc_max_age(r, in->factor, in->jitter_u);
    /* Written by hand: this runs for every response. */
    size_t n = 0;
    bool ok = put_text(out, outlen, &n, "public, max-age=") && put_u32(out, outlen, &n, age);
    if (ok && r->swr)
        ok = put_text(out, outlen, &n, ", stale-while-revalidate=") &&
             put_u32(out, outlen, &n, r->swr);
    if (ok && r->sie)
        ok = put_text(out, outlen, &n, ", stale-if-error=") && put_u32(out, outlen, &n, r->sie);
    if (!ok || n >= outlen)
        return 0;
    out[n] = 0;
    return 1;
}
