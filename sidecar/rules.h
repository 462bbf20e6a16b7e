/*
 * rules.h — the sidecar's route rules and backpressure settings, read from
 * the JSON of a LaunchPolicy's spec.sidecar section (the same field names
 * as crds/launchpolicy.yaml), and matched against request paths.
 *
 *   {"factorMaxAgeSeconds": 30,
 *    "routes": [{"match": {"prefix": "/static/"}, "mode": "override",
 *                "maxAge": 600, "minMaxAge": 60, "priority": "sheddable",
 *                "microCache": {"enabled": true, "ttlSeconds": 5}}],
 *    "backpressure": {"maxConcurrency": 256, "queueTimeoutMs": 100}}
 *
 * A document may also be a whole policy ({"spec": {"sidecar": {...}}}) or
 * a spec ({"sidecar": {...}}). Unknown fields and out-of-range values
 * reject the document (a typo must not silently change caching).
 *
 * Ownership: sidecar_rules_parse() fills a sidecar_rules that owns its
 * strings and routes; sidecar_rules_free() releases them. Pure: no I/O
 * except sidecar_rules_load_file().
 */
#ifndef LIFTOFF_SIDECAR_RULES_H
#define LIFTOFF_SIDECAR_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define SIDECAR_ROUTES_MAX 64            /* rules per document */
#define SIDECAR_PATTERN_MAX 1024         /* prefix / glob length, bytes */
#define SIDECAR_RULES_JSON_MAX (256u << 10) /* config document, bytes */
#define SIDECAR_PATH_MAX 8192            /* longest path a glob is matched against */
#define SIDECAR_AGE_MAX 31536000u        /* seconds (one year) */

typedef enum sidecar_mode {
    SIDECAR_MODE_DEFAULT = 0,   /* set Cache-Control only if the app sent none */
    SIDECAR_MODE_OVERRIDE,      /* always set it */
    SIDECAR_MODE_PASSTHROUGH,   /* leave the app's header alone */
} sidecar_mode;

typedef enum sidecar_prio {
    SIDECAR_PRIO_CRITICAL = 0,
    SIDECAR_PRIO_NORMAL,
    SIDECAR_PRIO_SHEDDABLE,
    SIDECAR_PRIO_COUNT_
} sidecar_prio;

typedef struct sidecar_rule {
    char *prefix;               /* exactly one of prefix / glob */
    char *glob;
    sidecar_mode mode;
    bool longer;                /* underLoad: longer (else shorter) */
    bool has_max_age;           /* maxAge given (required unless passthrough) */
    uint32_t max_age;           /* seconds */
    uint32_t min_max_age;
    uint32_t swr;               /* staleWhileRevalidate, seconds */
    uint32_t sie;               /* staleIfError, seconds */
    uint32_t jitter_pct;        /* 0..50 */
    sidecar_prio prio;
    bool force_public;
    bool micro_cache;           /* microCache.enabled */
    uint32_t micro_ttl_s;       /* microCache.ttlSeconds; 0: origin's */
} sidecar_rule;

typedef struct sidecar_backpressure {
    uint32_t max_conc;          /* maxConcurrency */
    uint32_t min_conc;          /* minConcurrency */
    bool adaptive;
    uint32_t queue_timeout_ms;  /* queueTimeoutMs */
    uint32_t max_queue;         /* maxQueue */
    double shed_above_factor;   /* shedSheddableAboveFactor; 0: never */
} sidecar_backpressure;

typedef struct sidecar_rules {
    uint32_t factor_max_age_s;  /* factorMaxAgeSeconds */
    sidecar_rule *routes;
    size_t nroutes;
    sidecar_backpressure bp;
} sidecar_rules;

/* The rules with no routes and every default of the CRD. */
void sidecar_rules_defaults(sidecar_rules *r);
/* Parses a document into *out (defaults first): 0, or -EINVAL with a
 * reason naming the field in err. *out is untouched on failure. */
int sidecar_rules_parse(const char *json, size_t len, sidecar_rules *out, char *err,
                        size_t errlen);
/* Same for a liftoff:policy:<ns>:<name> value (docs/redis-keys.md): the
 * whole policy or its spec, whose sidecar section may be absent (then
 * *out gets the defaults); the other sections are not looked at. */
int sidecar_rules_parse_policy(const char *json, size_t len, sidecar_rules *out, char *err,
                               size_t errlen);
/* Reads and parses a file (blocking: start-up only). 0 or -errno, err set. */
int sidecar_rules_load_file(const char *path, sidecar_rules *out, char *err, size_t errlen);
/* Frees what parse allocated; r holds the defaults afterwards. */
void sidecar_rules_free(sidecar_rules *r);

/* The first rule whose match fits path[0..len) (the query, from '?', is
 * ignored), or NULL. */
const sidecar_rule *sidecar_rules_match(const sidecar_rules *r, const char *path, size_t len);
/* Glob match of the whole s[0..len): '*' any run without '/', '**' any run,
 * '?' one character, [abc] / [a-z] / [!abc] one of (not of) a set. */
bool sidecar_glob_match(const char *pat, const char *s, size_t len);

/* "critical" / "normal" / "sheddable". */
const char *sidecar_prio_name(sidecar_prio p);
/* The rules as JSON (for GET /config), appended to out. 0 or -ENOBUFS. */
int sidecar_rules_to_json(const sidecar_rules *r, buf_t *out);

#endif
