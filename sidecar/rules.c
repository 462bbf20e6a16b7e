/* rules.c — the sidecar's route rules from a policy's spec.sidecar JSON,
 * path matching (prefix and glob) and the /config rendering. */
#include "rules.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common.h"

static const char *const prio_names[] = { "critical", "normal", "sheddable" };
static const char *const mode_names[] = { "default", "override", "passthrough" };

const char *sidecar_prio_name(sidecar_prio p)
{
    return (unsigned)p < SIDECAR_PRIO_COUNT_ ? prio_names[p] : "normal";
}

void sidecar_rules_defaults(sidecar_rules *r)
{
    memset(r, 0, sizeof *r);
    r->factor_max_age_s = 30;
    r->bp.max_conc = 256;
    r->bp.min_conc = 4;
    r->bp.adaptive = true;
    r->bp.queue_timeout_ms = 100;
    r->bp.max_queue = 128;
    r->bp.shed_above_factor = 0;
}

void sidecar_rules_free(sidecar_rules *r)
{
    for (size_t i = 0; i < r->nroutes; i++) {
        free(r->routes[i].prefix);
        free(r->routes[i].glob);
    }
    free(r->routes);
    sidecar_rules_defaults(r);
}

/* ---- parsing ---- */

typedef struct perr {
    char *buf;
    size_t len;
} perr;

__attribute__((format(printf, 2, 3))) static int fail(perr *e, const char *fmt, ...)
{
    if (e->buf && e->len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->buf, e->len, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* Rejects keys of obj not in allowed (NULL-terminated). */
static int only_keys(json_t *obj, const char *const allowed[], const char *where, perr *e)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        bool ok = false;
        for (size_t i = 0; allowed[i]; i++)
            if (strcmp(k, allowed[i]) == 0)
                ok = true;
        if (!ok)
            return fail(e, "%s.%s: unknown field", where, k);
    }
    return 0;
}

static int get_uint(json_t *obj, const char *key, uint32_t min, uint32_t max, uint32_t *out,
                    bool *present, const char *where, perr *e)
{
    json_t *v = json_object_get(obj, key);
    if (present)
        *present = v != NULL;
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)min ||
        json_integer_value(v) > (json_int_t)max)
        return fail(e, "%s.%s must be an integer in %u..%u", where, key, min, max);
    *out = (uint32_t)json_integer_value(v);
    return 0;
}

static int get_bool(json_t *obj, const char *key, bool *out, const char *where, perr *e)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return fail(e, "%s.%s must be true or false", where, key);
    *out = json_is_true(v);
    return 0;
}

static int get_enum(json_t *obj, const char *key, const char *const names[], size_t n, int *out,
                    const char *where, perr *e)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (json_is_string(v))
        for (size_t i = 0; i < n; i++)
            if (strcmp(json_string_value(v), names[i]) == 0) {
                *out = (int)i;
                return 0;
            }
    return fail(e, "%s.%s must be one of %s%s%s%s%s", where, key, names[0], n > 1 ? ", " : "",
                n > 1 ? names[1] : "", n > 2 ? ", " : "", n > 2 ? names[2] : "");
}

static int get_pattern(json_t *m, const char *key, char **out, const char *where, perr *e)
{
    json_t *v = json_object_get(m, key);
    if (!v)
        return 0;
    const char *s = json_string_value(v);
    if (!s || s[0] != '/' || strlen(s) > SIDECAR_PATTERN_MAX)
        return fail(e, "%s.match.%s must be a string starting with '/' (at most %u bytes)",
                    where, key, SIDECAR_PATTERN_MAX);
    *out = xstrdup(s);
    return 0;
}

/* A glob's [...] sets must be closed and non-empty. */
static bool glob_valid(const char *g)
{
    for (const char *p = g; *p; p++) {
        if (*p == ']')
            return false;
        if (*p != '[')
            continue;
        const char *q = p + 1;
        if (*q == '!' || *q == '^')
            q++;
        if (*q == ']' || !*q)
            return false;
        while (*q && *q != ']' && *q != '[' && *q != '/')
            q++;
        if (*q != ']')
            return false;
        p = q;
    }
    return true;
}

static int parse_route(json_t *o, size_t idx, sidecar_rule *r, perr *e)
{
    static const char *const keys[] = { "match", "mode", "underLoad", "maxAge", "minMaxAge",
                                        "staleWhileRevalidate", "staleIfError", "jitterPercent",
                                        "priority", "forcePublic", "microCache", NULL };
    static const char *const mkeys[] = { "prefix", "glob", NULL };
    static const char *const ckeys[] = { "enabled", "ttlSeconds", NULL };
    static const char *const under[] = { "shorter", "longer" };
    char where[64];
    snprintf(where, sizeof where, "routes[%zu]", idx);
    memset(r, 0, sizeof *r);
    r->mode = SIDECAR_MODE_DEFAULT;
    r->jitter_pct = 10;
    r->prio = SIDECAR_PRIO_NORMAL;
    if (!json_is_object(o))
        return fail(e, "%s must be an object", where);
    int rc = only_keys(o, keys, where, e);
    if (rc < 0)
        return rc;
    json_t *m = json_object_get(o, "match");
    if (!json_is_object(m))
        return fail(e, "%s.match is required (an object with prefix or glob)", where);
    char mwhere[80];
    snprintf(mwhere, sizeof mwhere, "%s.match", where);
    if ((rc = only_keys(m, mkeys, mwhere, e)) < 0 ||
        (rc = get_pattern(m, "prefix", &r->prefix, where, e)) < 0 ||
        (rc = get_pattern(m, "glob", &r->glob, where, e)) < 0)
        return rc;
    if (!r->prefix == !r->glob)
        return fail(e, "%s.match must set exactly one of prefix or glob", where);
    if (r->glob && !glob_valid(r->glob))
        return fail(e, "%s.match.glob must have balanced, non-empty [...] sets", where);
    int mode = r->mode, ul = 0, prio = r->prio;
    if ((rc = get_enum(o, "mode", mode_names, 3, &mode, where, e)) < 0 ||
        (rc = get_enum(o, "underLoad", under, 2, &ul, where, e)) < 0 ||
        (rc = get_enum(o, "priority", prio_names, 3, &prio, where, e)) < 0 ||
        (rc = get_uint(o, "maxAge", 0, SIDECAR_AGE_MAX, &r->max_age, &r->has_max_age, where,
                       e)) < 0 ||
        (rc = get_uint(o, "minMaxAge", 0, SIDECAR_AGE_MAX, &r->min_max_age, NULL, where, e)) < 0 ||
        (rc = get_uint(o, "staleWhileRevalidate", 0, SIDECAR_AGE_MAX, &r->swr, NULL, where, e)) <
            0 ||
        (rc = get_uint(o, "staleIfError", 0, SIDECAR_AGE_MAX, &r->sie, NULL, where, e)) < 0 ||
        (rc = get_uint(o, "jitterPercent", 0, 50, &r->jitter_pct, NULL, where, e)) < 0 ||
        (rc = get_bool(o, "forcePublic", &r->force_public, where, e)) < 0)
        return rc;
    r->mode = (sidecar_mode)mode;
    r->longer = ul == 1;
    r->prio = (sidecar_prio)prio;
    if (r->mode != SIDECAR_MODE_PASSTHROUGH && !r->has_max_age)
        return fail(e, "%s.maxAge is required unless mode is passthrough", where);
    if (r->has_max_age && r->max_age < r->min_max_age)
        return fail(e, "%s.maxAge must be at least minMaxAge", where);
    json_t *mc = json_object_get(o, "microCache");
    if (mc) {
        char cwhere[80];
        snprintf(cwhere, sizeof cwhere, "%s.microCache", where);
        if (!json_is_object(mc))
            return fail(e, "%s must be an object", cwhere);
        if ((rc = only_keys(mc, ckeys, cwhere, e)) < 0 ||
            (rc = get_bool(mc, "enabled", &r->micro_cache, cwhere, e)) < 0 ||
            (rc = get_uint(mc, "ttlSeconds", 1, 86400, &r->micro_ttl_s, NULL, cwhere, e)) < 0)
            return rc;
    }
    return 0;
}

static int parse_bp(json_t *o, sidecar_backpressure *bp, perr *e)
{
    static const char *const keys[] = { "maxConcurrency", "minConcurrency", "adaptive",
                                        "queueTimeoutMs", "maxQueue", "shedSheddableAboveFactor",
                                        NULL };
    const char *w = "backpressure";
    if (!json_is_object(o))
        return fail(e, "backpressure must be an object");
    int rc;
    if ((rc = only_keys(o, keys, w, e)) < 0 ||
        (rc = get_uint(o, "maxConcurrency", 1, 100000, &bp->max_conc, NULL, w, e)) < 0 ||
        (rc = get_uint(o, "minConcurrency", 1, 100000, &bp->min_conc, NULL, w, e)) < 0 ||
        (rc = get_bool(o, "adaptive", &bp->adaptive, w, e)) < 0 ||
        (rc = get_uint(o, "queueTimeoutMs", 1, 60000, &bp->queue_timeout_ms, NULL, w, e)) < 0 ||
        (rc = get_uint(o, "maxQueue", 0, 100000, &bp->max_queue, NULL, w, e)) < 0)
        return rc;
    if (bp->min_conc > bp->max_conc)
        return fail(e, "backpressure.minConcurrency must not exceed maxConcurrency");
    json_t *f = json_object_get(o, "shedSheddableAboveFactor");
    if (f) {
        if (!json_is_number(f) || json_number_value(f) < 1.0 || json_number_value(f) > 1000.0)
            return fail(e, "backpressure.shedSheddableAboveFactor must be between 1 and 1000");
        bp->shed_above_factor = json_number_value(f);
    }
    return 0;
}

static int parse_section(json_t *s, sidecar_rules *out, perr *e)
{
    static const char *const keys[] = { "factorMaxAgeSeconds", "routes", "backpressure", NULL };
    int rc = only_keys(s, keys, "sidecar", e);
    if (rc < 0)
        return rc;
    if ((rc = get_uint(s, "factorMaxAgeSeconds", 1, 3600, &out->factor_max_age_s, NULL, "sidecar",
                       e)) < 0)
        return rc;
    json_t *bp = json_object_get(s, "backpressure");
    if (bp && (rc = parse_bp(bp, &out->bp, e)) < 0)
        return rc;
    json_t *routes = json_object_get(s, "routes");
    if (!routes)
        return 0;
    if (!json_is_array(routes) || json_array_size(routes) > SIDECAR_ROUTES_MAX)
        return fail(e, "routes must be an array of at most %d rules", SIDECAR_ROUTES_MAX);
    size_t n = json_array_size(routes);
    out->routes = n ? xcalloc(n, sizeof *out->routes) : NULL;
    for (size_t i = 0; i < n; i++) {
        out->nroutes = i + 1; /* so that free() sees the partly filled rule */
        if ((rc = parse_route(json_array_get(routes, i), i, &out->routes[i], e)) < 0)
            return rc;
    }
    return 0;
}

/* policy: the document is a LaunchPolicy (or its spec) from Redis, whose
 * sidecar section may be absent (then the defaults apply). */
static int parse_doc(const char *json, size_t len, bool policy, sidecar_rules *out, char *err,
                     size_t errlen)
{
    perr e = { err, errlen };
    sidecar_rules tmp;
    json_error_t je;
    json_t *root = NULL;
    int rc;
    sidecar_rules_defaults(&tmp);
    if (len > SIDECAR_RULES_JSON_MAX) {
        rc = fail(&e, "document over %u bytes", SIDECAR_RULES_JSON_MAX);
        goto out;
    }
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root || !json_is_object(root)) {
        rc = fail(&e, "not a JSON object%s%s", root ? "" : ": ", root ? "" : je.text);
        goto out;
    }
    json_t *s = root;
    if (json_is_object(json_object_get(s, "spec")))
        s = json_object_get(s, "spec");
    if (json_object_get(s, "sidecar")) {
        s = json_object_get(s, "sidecar");
        if (!json_is_object(s)) {
            rc = fail(&e, "sidecar must be an object");
            goto out;
        }
    } else if (policy) {
        rc = 0; /* no sidecar section: the defaults */
        goto out;
    }
    rc = parse_section(s, &tmp, &e);
out:
    json_decref(root);
    if (rc < 0) {
        sidecar_rules_free(&tmp);
        return rc;
    }
    *out = tmp;
    return 0;
}

int sidecar_rules_parse(const char *json, size_t len, sidecar_rules *out, char *err,
                        size_t errlen)
{
    return parse_doc(json, len, false, out, err, errlen);
}

int sidecar_rules_parse_policy(const char *json, size_t len, sidecar_rules *out, char *err,
                               size_t errlen)
{
    return parse_doc(json, len, true, out, err, errlen);
}

int sidecar_rules_load_file(const char *path, sidecar_rules *out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    int rc;
    if (!f) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(-rc));
        return rc;
    }
    text = xmalloc(SIDECAR_RULES_JSON_MAX + 1);
    size_t n = fread(text, 1, SIDECAR_RULES_JSON_MAX + 1, f);
    if (ferror(f)) {
        rc = -EIO;
        snprintf(err, errlen, "%s: read error", path);
        goto out;
    }
    if (n > SIDECAR_RULES_JSON_MAX) {
        rc = -EFBIG;
        snprintf(err, errlen, "%s: over %u bytes", path, SIDECAR_RULES_JSON_MAX);
        goto out;
    }
    char why[256] = "";
    rc = sidecar_rules_parse(text, n, out, why, sizeof why);
    if (rc < 0)
        snprintf(err, errlen, "%s: %s", path, why);
out:
    free(text);
    fclose(f);
    return rc;
}

/* ---- matching ---- */

/* Whether c is in the set starting after '[' at *pp; moves *pp past ']'. */
static bool set_has(const char **pp, unsigned char c)
{
    const char *p = *pp;
    bool neg = *p == '!' || *p == '^';
    if (neg)
        p++;
    bool in = false;
    while (*p && *p != ']') {
        unsigned char lo = (unsigned char)*p, hi = lo;
        if (p[1] == '-' && p[2] && p[2] != ']') {
            hi = (unsigned char)p[2];
            p += 3;
        } else {
            p++;
        }
        if (c >= lo && c <= hi)
            in = true;
    }
    *pp = *p ? p + 1 : p;
    return in != neg;
}

bool sidecar_glob_match(const char *pat, const char *s, size_t len)
{
    /* A set of string positions reachable after each pattern token:
     * O(pattern x path), no backtracking blow-up. */
    if (len > SIDECAR_PATH_MAX)
        return false;
    static bool cur[SIDECAR_PATH_MAX + 1], nxt[SIDECAR_PATH_MAX + 1];
    memset(cur, 0, len + 1);
    cur[0] = true;
    const char *p = pat;
    while (*p) {
        memset(nxt, 0, len + 1);
        if (p[0] == '*' && p[1] == '*') {
            while (*p == '*')
                p++;
            bool any = false;
            for (size_t j = 0; j <= len; j++) {
                any = any || cur[j];
                nxt[j] = any;
            }
        } else if (*p == '*') {
            p++;
            bool run = false;
            for (size_t j = 0; j <= len; j++) {
                if (j > 0 && s[j - 1] == '/')
                    run = false;
                run = run || cur[j];
                nxt[j] = run;
            }
        } else {
            const char *tok = p;
            const char *after = p + 1;
            if (*p == '[') {
                const char *q = p + 1;
                (void)set_has(&q, 0);
                after = q;
            }
            for (size_t j = 0; j < len; j++) {
                if (!cur[j])
                    continue;
                unsigned char c = (unsigned char)s[j];
                bool ok;
                if (*tok == '?') {
                    ok = true;
                } else if (*tok == '[') {
                    const char *q = tok + 1;
                    ok = set_has(&q, c);
                } else {
                    ok = c == (unsigned char)*tok;
                }
                if (ok)
                    nxt[j + 1] = true;
            }
            p = after;
        }
        memcpy(cur, nxt, len + 1);
    }
    return cur[len];
}

const sidecar_rule *sidecar_rules_match(const sidecar_rules *r, const char *path, size_t len)
{
    const char *q = memchr(path, '?', len);
    if (q)
        len = (size_t)(q - path);
    for (size_t i = 0; i < r->nroutes; i++) {
        const sidecar_rule *ru = &r->routes[i];
        if (ru->prefix) {
            size_t n = strlen(ru->prefix);
            if (len >= n && memcmp(path, ru->prefix, n) == 0)
                return ru;
        } else if (sidecar_glob_match(ru->glob, path, len)) {
            return ru;
        }
    }
    return NULL;
}

/* ---- /config ---- */

int sidecar_rules_to_json(const sidecar_rules *r, buf_t *out)
{
    json_t *root = json_object(), *routes = json_array(), *bp = json_object();
    json_object_set_new(root, "factorMaxAgeSeconds", json_integer(r->factor_max_age_s));
    for (size_t i = 0; i < r->nroutes; i++) {
        const sidecar_rule *ru = &r->routes[i];
        json_t *o = json_object(), *m = json_object(), *mc = json_object();
        json_object_set_new(m, ru->prefix ? "prefix" : "glob",
                            json_string(ru->prefix ? ru->prefix : ru->glob));
        json_object_set_new(o, "match", m);
        json_object_set_new(o, "mode", json_string(mode_names[ru->mode]));
        json_object_set_new(o, "underLoad", json_string(ru->longer ? "longer" : "shorter"));
        if (ru->has_max_age)
            json_object_set_new(o, "maxAge", json_integer(ru->max_age));
        json_object_set_new(o, "minMaxAge", json_integer(ru->min_max_age));
        json_object_set_new(o, "staleWhileRevalidate", json_integer(ru->swr));
        json_object_set_new(o, "staleIfError", json_integer(ru->sie));
        json_object_set_new(o, "jitterPercent", json_integer(ru->jitter_pct));
        json_object_set_new(o, "priority", json_string(sidecar_prio_name(ru->prio)));
        json_object_set_new(o, "forcePublic", json_boolean(ru->force_public));
        json_object_set_new(mc, "enabled", json_boolean(ru->micro_cache));
        if (ru->micro_ttl_s)
            json_object_set_new(mc, "ttlSeconds", json_integer(ru->micro_ttl_s));
        json_object_set_new(o, "microCache", mc);
        json_array_append_new(routes, o);
    }
    json_object_set_new(root, "routes", routes);
    json_object_set_new(bp, "maxConcurrency", json_integer(r->bp.max_conc));
    json_object_set_new(bp, "minConcurrency", json_integer(r->bp.min_conc));
    json_object_set_new(bp, "adaptive", json_boolean(r->bp.adaptive));
    json_object_set_new(bp, "queueTimeoutMs", json_integer(r->bp.queue_timeout_ms));
    json_object_set_new(bp, "maxQueue", json_integer(r->bp.max_queue));
    if (r->bp.shed_above_factor > 0)
        json_object_set_new(bp, "shedSheddableAboveFactor", json_real(r->bp.shed_above_factor));
    json_object_set_new(root, "backpressure", bp);
    char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    int rc = s ? buf_append_str(out, s) : -ENOMEM;
    free(s);
    return rc;
}
