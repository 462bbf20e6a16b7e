/*
 * cacheable.h — what the micro-cache may do with a request and a response
 * (RFC 9111 rules for a shared cache), and its keys. Pure logic: no I/O; the
 * key functions append to a buf_t.
 *
 * A request may use the cache when its route has microCache enabled, it is
 * GET or HEAD, is no Upgrade request (those are tunnelled, never cached),
 * carries no Authorization, and its Cache-Control has neither
 * no-store nor no-cache. HEAD is answered from the GET entry (same
 * fields, Content-Length included, no body); a HEAD that misses goes to
 * the origin and stores nothing (it would have no body to store).
 *
 * A response is stored when none of these hold: Set-Cookie present (never
 * stored, whatever the rule says); Vary: *; no-store, no-cache or private
 * in its Cache-Control (private is allowed when the rule has forcePublic);
 * a status other than 200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501;
 * a freshness lifetime of 0. The lifetime is the rule's microCache.ttlSeconds
 * when set (it overrides the origin's), else s-maxage, else max-age. The
 * stale windows are the origin's stale-while-revalidate / stale-if-error
 * directives, else the rule's. A response that is not stored leaves a
 * hit-for-miss marker (SIDECAR_HFM_MS) so requests for it are not coalesced.
 *
 * Keys: "<METHOD> <host> <path?query>" (HEAD uses GET's); with Vary, the variant key appends
 * "\n<name>: <value>" for every field the Vary names (lower-cased names,
 * absent fields as empty values).
 */
#ifndef LIFTOFF_SIDECAR_CACHEABLE_H
#define LIFTOFF_SIDECAR_CACHEABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "http_parse.h"
#include "rules.h"

#define SIDECAR_HFM_MS 5000u        /* hit-for-miss marker lifetime */
#define SIDECAR_VARY_FIELDS_MAX 8   /* more fields in Vary: not stored */

/* True if the request may be answered from / fill the micro-cache. */
bool sidecar_cache_request_ok(const sidecar_rule *rule, const http_request *h);

typedef struct sidecar_store_in {
    const sidecar_rule *rule;
    int status;
    const http_header *headers;   /* the response's */
    unsigned nheaders;
} sidecar_store_in;

typedef struct sidecar_store_out {
    uint32_t ttl_s;     /* freshness lifetime */
    uint32_t swr_s;     /* stale-while-revalidate */
    uint32_t sie_s;     /* stale-if-error */
} sidecar_store_out;

/* 1 with out set if the response may be stored, 0 if not. */
int sidecar_cache_storable(const sidecar_store_in *in, sidecar_store_out *out);

/* The value of directive=N in a Cache-Control value (quoted or not): 1 and
 * *out (capped at SIDECAR_AGE_MAX), 0 if absent, -EINVAL if malformed. */
int sidecar_cc_seconds(http_str cc, const char *directive, uint32_t *out);

/* Appends the base key of the request. 0 or -ENOBUFS. */
int sidecar_cache_key(const http_request *h, buf_t *out);
/* Appends the variant part for the Vary value to a base key already in
 * out. 0, -ENOBUFS, or -EINVAL for Vary: * or too many fields. */
int sidecar_cache_key_vary(const http_request *h, http_str vary, buf_t *out);

#endif
