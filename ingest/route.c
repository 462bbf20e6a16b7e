/* route.c — endpoint matching and header rules of the ingest API. */
#include <stdlib.h>
#include "route.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* If path starts with prefix: NULL for an exact match (with *exact set),
 * else the launch after a '/' (*rest bytes); NULL without *exact: no match. */
static const char *after(const char *path, size_t len, const char *prefix, size_t *rest,
                         bool *exact)
{
    size_t pl = strlen(prefix);
    *exact = false;
    if (len < pl || memcmp(path, prefix, pl) != 0)
        return NULL;
    if (len == pl) {
        *exact = true;
        return NULL;
    }
    if (path[pl] != '/')
        return NULL;
    *rest = len - pl - 1;
    return path + pl + 1;
}

ingest_route_kind ingest_route_match(const char *path, size_t len, const char *platform,
                                     const char *default_launch, ingest_route *out)
{
    const char *q = memchr(path, '?', len);
    char prefix[LAUNCH_NAME_MAX + 32];
    size_t rest = 0;
    const char *launch = NULL;
    bool exact = false;
    memset(out, 0, sizeof(*out));
    if (q)
        len = (size_t)(q - path);
    if (len == 8 && memcmp(path, "/healthz", 8) == 0)
        return out->kind = INGEST_ROUTE_HEALTHZ;
    if (len == 7 && memcmp(path, "/readyz", 7) == 0)
        return out->kind = INGEST_ROUTE_READYZ;
    if (len == 8 && memcmp(path, "/metrics", 8) == 0)
        return out->kind = INGEST_ROUTE_METRICS;
    {
        /* "/v1/webhooks/<platform>", cut to the buffer like a formatted print */
        static const char base[] = "/v1/webhooks/";
        size_t bl = sizeof(base) - 1, pl = strlen(platform);
        if (pl > sizeof(prefix) - 1 - bl)
            pl = sizeof(prefix) - 1 - bl;
        memcpy(prefix, base, bl);
        memcpy(prefix + bl, platform, pl);
        prefix[bl + pl] = '\0';
    }
    ingest_route_kind kind = INGEST_ROUTE_NOT_FOUND;
    if ((launch = after(path, len, prefix, &rest, &exact)) != NULL || exact)
        kind = INGEST_ROUTE_WEBHOOK;
    else if ((launch = after(path, len, "/v1/events", &rest, &exact)) != NULL || exact)
        kind = INGEST_ROUTE_EVENTS;
    else
        return INGEST_ROUTE_NOT_FOUND;
    if (exact) {
        launch = default_launch;
        rest = strlen(default_launch);
    }
    if (!launch_name_valid(launch, rest))
        return INGEST_ROUTE_NOT_FOUND;
    memcpy(out->launch, launch, rest);
    out->launch[rest] = '\0';
    return out->kind = kind;
}

bool ingest_content_type_is_json(const char *v, size_t len)
{
    static const char mt[] = "application/json";
    size_t n = sizeof(mt) - 1;
    while (len > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        len--;
    }
    if (len < n || strncasecmp(v, mt, n) != 0)
        return false;
    for (size_t i = n; i < len; i++) {
        if (v[i] == ';')
            return true;
        if (v[i] != ' ' && v[i] != '\t')
            return false;
    }
    return true;
}

int ingest_client_addr(const char *peer, const char *xff, size_t xff_len, bool trust_xff,
                       char *out, size_t outlen)
{
    const char *a;
    size_t n;
    if (trust_xff && xff && xff_len > 0) {
        const char *comma = NULL;
        for (size_t i = xff_len; i > 0; i--)
            if (xff[i - 1] == ',') {
                comma = xff + i - 1;
                break;
            }
        a = comma ? comma + 1 : xff;
        n = xff_len - (size_t)(a - xff);
        while (n > 0 && (*a == ' ' || *a == '\t')) {
            a++;
            n--;
        }
        while (n > 0 && (a[n - 1] == ' ' || a[n - 1] == '\t'))
            n--;
    } else {
        /* "1.2.3.4:80" or "[::1]:80" */
        a = peer;
        n = strlen(peer);
        const char *colon = strrchr(peer, ':');
        if (peer[0] == '[') {
            const char *rb = strchr(peer, ']');
            if (!rb)
                return -EINVAL;
            a = peer + 1;
            n = (size_t)(rb - a);
        } else if (colon) {
            n = (size_t)(colon - peer);
        }
    }
    if (n == 0 || n >= outlen)
        return -EINVAL;
    memcpy(out, a, n);
    out[n] = '\0';
    return 0;
}
