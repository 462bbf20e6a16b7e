/* cors.c — origin allow-list: exact origins, subdomain wildcards, "*". */
#include "cors.h"

#include <stdlib.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common.h"

typedef struct cors_entry {
    char *prefix;     /* whole origin, or the part before '*' */
    char *suffix;     /* NULL for exact entries; the part after '*' */
} cors_entry;

struct ingest_cors {
    bool any;
    size_t n;
    cors_entry e[INGEST_CORS_ORIGINS_MAX];
};

static bool is_sep(char c)
{
    return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.';
}

/* scheme "://" host [":" port], nothing else. */
static bool looks_like_origin(const char *s, size_t n)
{
    const char *sep = memmem(s, n, "://", 3);
    if (!sep || sep == s)
        return false;
    for (const char *p = s; p < sep; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '+' || *p == '-' || *p == '.'))
            return false;
    const char *h = sep + 3, *end = s + n;
    if (h == end)
        return false;
    bool brackets = *h == '[';
    for (const char *p = h; p < end; p++) {
        if (brackets && (*p == '[' || *p == ']' || *p == ':' || host_char(*p)))
            continue;
        if (host_char(*p) || *p == ':' || *p == '*')
            continue;
        return false;
    }
    return true;
}

int ingest_cors_parse(const char *list, ingest_cors **out, char *err, size_t errlen)
{
    ingest_cors *c = xcalloc(1, sizeof(*c));
    const char *p = list ? list : "";
    *out = NULL;
    while (*p) {
        while (*p && is_sep(*p))
            p++;
        const char *s = p;
        while (*p && !is_sep(*p))
            p++;
        size_t n = (size_t)(p - s);
        if (n == 0)
            continue;
        if (n == 1 && *s == '*') {
            c->any = true;
            continue;
        }
        if (n > INGEST_CORS_ORIGIN_MAX || !looks_like_origin(s, n)) {
            snprintf(err, errlen, "CORS origin \"%.*s\" is not scheme://host[:port]",
                     (int)LO_MIN(n, 80u), s);
            goto fail;
        }
        if (c->n == INGEST_CORS_ORIGINS_MAX) {
            snprintf(err, errlen, "more than %d CORS origins", INGEST_CORS_ORIGINS_MAX);
            goto fail;
        }
        const char *star = memchr(s, '*', n);
        const char *host = strstr(s, "://") + 3;
        cors_entry *e = &c->e[c->n];
        if (star) {
            /* The only wildcard form: scheme, "://", "*", ".rest". */
            if (star != host || (size_t)(star - s) + 1 >= n || star[1] != '.' ||
                memchr(star + 1, '*', n - (size_t)(star - s) - 1)) {
                snprintf(err, errlen, "CORS origin \"%.*s\": '*' only as scheme://*.domain",
                         (int)LO_MIN(n, 80u), s);
                goto fail;
            }
            e->prefix = xstrndup(s, (size_t)(star - s));
            e->suffix = xstrndup(star + 1, n - (size_t)(star - s) - 1);
        } else {
            e->prefix = xstrndup(s, n);
        }
        c->n++;
    }
    *out = c;
    return 0;
fail:
    ingest_cors_free(c);
    return -EINVAL;
}

void ingest_cors_free(ingest_cors *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->e[i].prefix);
        free(c->e[i].suffix);
    }
    free(c);
}

bool ingest_cors_allowed(const ingest_cors *c, const char *origin, size_t len)
{
    if (!c || len == 0 || len > INGEST_CORS_ORIGIN_MAX)
        return false;
    if (c->any)
        return true;
    for (size_t i = 0; i < c->n; i++) {
        const cors_entry *e = &c->e[i];
        size_t pl = strlen(e->prefix);
        if (!e->suffix) {
            if (pl == len && strncasecmp(e->prefix, origin, len) == 0)
                return true;
            continue;
        }
        size_t sl = strlen(e->suffix);
        if (len <= pl + sl || strncasecmp(origin, e->prefix, pl) != 0 ||
            strncasecmp(origin + len - sl, e->suffix, sl) != 0)
            continue;
        bool ok = true;
        for (size_t k = pl; ok && k < len - sl; k++)
            ok = host_char(origin[k]);
        if (ok)
            return true;
    }
    return false;
}

bool ingest_cors_any(const ingest_cors *c)
{
    return c && c->any;
}

size_t ingest_cors_count(const ingest_cors *c)
{
    return c ? c->n + (c->any ? 1 : 0) : 0;
}
