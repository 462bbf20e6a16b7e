/*
 * cachectl.h — the Cache-Control a response leaves the sidecar with, from
 * its route rule, the current load factor and what the app and the client
 * sent. Pure logic, no allocation.
 *
 * Effective max-age (seconds):
 *   underLoad shorter: clamp(maxAge / factor, minMaxAge, maxAge)
 *   underLoad longer:  clamp(minMaxAge * factor, minMaxAge, maxAge)
 * then spread by jitterPercent (uniformly within +-pct of it, rounded) and
 * clamped to [minMaxAge, maxAge] again. A factor that is not a positive
 * number counts as 1.
 *
 * The header is "public, max-age=N" plus ", stale-while-revalidate=S" and
 * ", stale-if-error=E" when the rule sets them. It is written only for
 * statuses a shared cache may store by default (200, 203, 204, 206, 300,
 * 301, 308, 404, 405, 410, 414, 501), and never when the app said private or
 * no-store (in any of its Cache-Control fields), the response carries Set-Cookie, or the request carried
 * Authorization or Cookie — unless the rule has forcePublic.
 */
#ifndef LIFTOFF_SIDECAR_CACHECTL_H
#define LIFTOFF_SIDECAR_CACHECTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_parse.h"
#include "rules.h"

#define SIDECAR_CC_MAX 128  /* room for the longest header value we write */

typedef struct sidecar_cc_in {
    const sidecar_rule *rule;   /* NULL: no rule, nothing changes */
    double factor;
    int status;
    const http_header *app;     /* the app's response fields (n of them): */
    unsigned napp;              /* its Cache-Control fields, all of them */
    bool app_cc;                /* the app sent Cache-Control */
    bool set_cookie;            /* the response carries Set-Cookie */
    bool req_credentials;       /* the request carried Authorization or Cookie */
    double jitter_u;            /* a uniform random number in [-1, 1] */
} sidecar_cc_in;

/* The effective max-age for rule at factor, spread by jitter_u in [-1, 1]. */
uint32_t sidecar_cc_max_age(const sidecar_rule *rule, double factor, double jitter_u);

/* Decides the response's Cache-Control: returns 1 and writes the new value
 * (NUL-terminated) to out when the app's header (if any) is to be replaced
 * by it, 0 when the response keeps what the app sent. out needs
 * SIDECAR_CC_MAX bytes. */
int sidecar_cc_decide(const sidecar_cc_in *in, char *out, size_t outlen);

/* The first directive named directive (case-insensitive) in a Cache-Control
 * value: a pointer into cc just past its name (at its "=value", if any), or
 * NULL if absent. Other directives' values are skipped, quoted ones with
 * their commas and backslash escapes. */
const char *sidecar_cc_find(http_str cc, const char *directive);

/* True if a Cache-Control value says private or no-store. */
bool sidecar_cc_private(http_str cc);

/* True if a Cache-Control value holds directive (case-insensitive, with or
 * without "=value"). */
bool sidecar_cc_has(http_str cc, const char *directive);

#endif
