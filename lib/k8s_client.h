/*
 * k8s_client.h — a small Kubernetes API client on the ev loop: verbs on any
 * group/version/resource with raw JSON (jansson), over libcurl's multi
 * interface (curl_loop.h). Nothing blocks: every verb returns 0 at once and
 * its callback runs later on the loop, exactly once (never from inside the
 * call), unless the client is freed first; or it returns a negative code
 * (-EINVAL for a bad name or argument) and the callback never runs.
 *
 *   static const k8s_res cms = K8S_RES("", "v1", "configmaps");
 *   k8s_client *c = k8s_client_new(loop, NULL, &cfg);     // takes cfg
 *   k8s_get(c, &cms, "default", "settings", on_cm, ctx);
 *   ...
 *   static void on_cm(const k8s_response *r, void *ctx)
 *   { if (r->rc == 0) use(r->body); else if (r->rc == K8S_ENOTFOUND) ...; }
 *
 * Errors: r->rc is 0, or a negative code for the HTTP status or transport
 * failure (K8S_E* below), with r->message taken from the server's Status
 * object (or curl's error). 429 and 503 are retried on every verb, other
 * 5xx and connection failures on all but create (POST), up to
 * K8S_MAX_RETRIES times with jittered exponential backoff; a Retry-After
 * header sets the delay (capped at K8S_RETRY_AFTER_MAX_MS). 409 Conflict is
 * retried on a fresh read by k8s_modify().
 *
 * Ownership: request JSON passed in is only read (serialised at the call).
 * r->body is owned by the client and freed when the callback returns
 * (json_incref it to keep it). k8s_client_free() cancels requests in flight
 * without calling their callbacks. One thread, like the loop.
 */
#ifndef LIFTOFF_K8S_CLIENT_H
#define LIFTOFF_K8S_CLIENT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "curl_loop.h"
#include "ev.h"
#include "k8s_config.h"

#define K8S_MAX_RETRIES 5                 /* retries of 429/5xx/connect failures */
#define K8S_CONFLICT_RETRIES 5            /* fresh reads after 409 in k8s_modify */
#define K8S_BACKOFF_BASE_MS 200u          /* first retry delay */
#define K8S_BACKOFF_MAX_MS 10000u         /* longest computed retry delay */
#define K8S_BACKOFF_JITTER 0.2            /* delays vary by +-20 % */
#define K8S_RETRY_AFTER_MAX_MS 60000u     /* Retry-After is honoured up to this */
#define K8S_REQUEST_TIMEOUT_MS 30000L     /* one attempt of a non-watch request */
#define K8S_RESPONSE_MAX (64u << 20)      /* largest response body, bytes */
#define K8S_LIST_PAGE 500u                /* default page size of k8s_list_all */
#define K8S_LIST_MAX_ITEMS 1000000u       /* k8s_list_all refuses more */
#define K8S_NAME_MAX 253                  /* object names, namespaces */

/* Error codes in k8s_response.rc (negative errno values). */
#define K8S_EBADREQUEST (-EINVAL)         /* 400, 422 Invalid */
#define K8S_EUNAUTHORIZED (-EACCES)       /* 401 */
#define K8S_EFORBIDDEN (-EPERM)           /* 403 */
#define K8S_ENOTFOUND (-ENOENT)           /* 404 */
#define K8S_ENOTALLOWED (-EOPNOTSUPP)     /* 405 */
#define K8S_EEXISTS (-EEXIST)             /* 409 AlreadyExists */
#define K8S_ECONFLICT (-ESTALE)           /* 409 Conflict (stale resourceVersion) */
#define K8S_EGONE (-EKEYEXPIRED)          /* 410 Gone/Expired: resourceVersion too old */
#define K8S_ETOOLARGE (-E2BIG)            /* 413, or a response over K8S_RESPONSE_MAX */
#define K8S_ETOOMANY (-EAGAIN)            /* 429 after the retries */
#define K8S_ESERVER (-EIO)                /* 500 and other 5xx, other failures */
#define K8S_EUNAVAILABLE (-EHOSTDOWN)     /* 503 after the retries */
#define K8S_ETIMEOUT (-ETIMEDOUT)         /* 504, or no answer in time */
#define K8S_ECONNECT (-ECONNREFUSED)      /* could not connect */
#define K8S_ETLS (-EPROTO)                /* TLS handshake or verification failed */
#define K8S_EBADMSG (-EBADMSG)            /* a 2xx answer that is not JSON */

/* A resource type: group ("" for the core group), version, plural name. */
typedef struct k8s_res {
    const char *group;
    const char *version;
    const char *resource;
} k8s_res;
#define K8S_RES(g, v, r) { (g), (v), (r) }

typedef struct k8s_client k8s_client;

typedef struct k8s_response {
    int rc;                /* 0 or K8S_E* */
    long status;           /* HTTP status of the last attempt; 0: none */
    json_t *body;          /* the JSON answer (also a Status on errors); may be NULL */
    const char *message;   /* the Status message or transport error; "" on success */
    const char *reason;    /* the Status reason ("NotFound", "Conflict", ...); "" if none */
    unsigned attempts;     /* HTTP attempts made */
} k8s_response;

typedef void k8s_done_cb(const k8s_response *r, void *arg);

typedef struct k8s_client_stats {
    uint64_t requests;      /* verbs started */
    uint64_t attempts;      /* HTTP requests sent (retries included) */
    uint64_t retries;       /* attempts repeated after 429/5xx/connect errors */
    uint64_t conflicts;     /* 409 Conflicts retried by k8s_modify */
    uint64_t failures;      /* verbs that ended with rc < 0 */
    size_t in_flight;
} k8s_client_stats;

/* A client for cfg (moved into the client: cfg is zeroed). m: a curlm to
 * share, or NULL for the client's own. NULL if curl cannot start. */
k8s_client *k8s_client_new(ev_loop *loop, curlm *m, k8s_config *cfg);
/* Cancels everything in flight (no callbacks), frees the watches and
 * informers still open, then the client. NULL-safe. Allowed from a verb's
 * callback, not from a watch's or an informer's. */
void k8s_client_free(k8s_client *c);
/* The loop the client runs on. */
ev_loop *k8s_client_loop(const k8s_client *c);
/* The configuration in use (server, namespace, ...). */
const k8s_config *k8s_client_config(const k8s_client *c);
/* Copies the counters into *out. */
void k8s_client_stats_get(const k8s_client *c, k8s_client_stats *out);
/* Retry policy of later requests: at most max_retries repeats, delays from
 * base_ms doubling up to max_ms (defaults K8S_MAX_RETRIES,
 * K8S_BACKOFF_BASE_MS, K8S_BACKOFF_MAX_MS). Retry-After still wins. */
void k8s_client_set_retry(k8s_client *c, unsigned max_retries, uint64_t base_ms,
                          uint64_t max_ms);

/* ---- paths and errors (pure) ---- */

/* "/api/v1/namespaces/NS/RES/NAME/SUB" or "/apis/GROUP/VERSION/..."; ns,
 * name and sub may be NULL (cluster-wide, collection, main resource). Each
 * segment is percent-encoded. The caller frees it. */
char *k8s_path(const k8s_res *r, const char *ns, const char *name, const char *sub);
/* Appends "&key=value" (or "?key=value" as the first) to *url, with value
 * percent-encoded; value NULL appends nothing. */
void k8s_url_add_query(char **url, const char *key, const char *value);
/* Maps an HTTP status (with the Status reason, may be NULL) to 0 / K8S_E*. */
int k8s_status_rc(long status, const char *reason);
/* Delay before retry number attempt (1-based): base * 2^(attempt-1) capped
 * at max, then scaled by a random factor in [1 - jitter, 1 + jitter]. */
uint64_t k8s_backoff_ms(unsigned attempt, uint64_t base_ms, uint64_t max_ms, double jitter);
/* Whether a name (object or namespace) is a usable path segment (1..253
 * bytes of [a-z0-9.-] and ':' for RBAC names). */
bool k8s_name_valid(const char *name);

/* ---- raw request ---- */

/* Any request: method ("GET", "POST", ...), path with query (from
 * k8s_path), body (may be NULL) with its content type. */
int k8s_request(k8s_client *c, const char *method, const char *path_query, const char *body,
                const char *content_type, k8s_done_cb *cb, void *arg);

/* ---- verbs ---- */

typedef struct k8s_list_opts {
    const char *label_selector;     /* NULL: all */
    const char *field_selector;     /* NULL: all */
    uint32_t limit;                 /* page size; 0: no limit (k8s_list_all: K8S_LIST_PAGE) */
    const char *continue_token;     /* from the previous page's metadata.continue */
    const char *resource_version;   /* NULL: most recent */
} k8s_list_opts;

typedef enum k8s_patch_type {
    K8S_PATCH_MERGE,                /* application/merge-patch+json (RFC 7386) */
    K8S_PATCH_JSON,                 /* application/json-patch+json (RFC 6902), patch is an array */
    K8S_PATCH_STRATEGIC,            /* application/strategic-merge-patch+json (built-in types) */
} k8s_patch_type;

/* Reads one object (ns NULL for cluster-scoped types). */
int k8s_get(k8s_client *c, const k8s_res *r, const char *ns, const char *name,
            k8s_done_cb *cb, void *arg);
/* One page of a list (r->body is the List object; metadata.continue names
 * the next page). */
int k8s_list(k8s_client *c, const k8s_res *r, const char *ns, const k8s_list_opts *o,
             k8s_done_cb *cb, void *arg);
/* Every page of a list, joined: r->body is one List object with all items
 * and the resourceVersion of the snapshot. A 410 on a later page (the
 * continue token expired) restarts from the first page, once. */
int k8s_list_all(k8s_client *c, const k8s_res *r, const char *ns, const k8s_list_opts *o,
                 k8s_done_cb *cb, void *arg);
/* POSTs obj (r->body: the object as stored, defaults filled in). */
int k8s_create(k8s_client *c, const k8s_res *r, const char *ns, const json_t *obj,
               k8s_done_cb *cb, void *arg);
/* PUT of the whole object (its metadata.name names it; its
 * metadata.resourceVersion, if set, makes it conditional). sub: NULL,
 * "status" or "scale". */
int k8s_update(k8s_client *c, const k8s_res *r, const char *ns, const json_t *obj,
               const char *sub, k8s_done_cb *cb, void *arg);
/* PATCHes the object (sub: NULL, "status" or "scale"); a merge or
 * strategic patch is an object, a JSON patch an array of operations. */
int k8s_patch(k8s_client *c, const k8s_res *r, const char *ns, const char *name,
              const char *sub, k8s_patch_type type, const json_t *patch, k8s_done_cb *cb,
              void *arg);
/* DELETEs the object (the server's default propagation). */
int k8s_delete(k8s_client *c, const k8s_res *r, const char *ns, const char *name,
               k8s_done_cb *cb, void *arg);
/* Reads the scale subresource (an autoscaling/v1 Scale). */
int k8s_get_scale(k8s_client *c, const k8s_res *r, const char *ns, const char *name,
                  k8s_done_cb *cb, void *arg);
/* Sets spec.replicas through the scale subresource (a merge patch). */
int k8s_set_scale(k8s_client *c, const k8s_res *r, const char *ns, const char *name,
                  int32_t replicas, k8s_done_cb *cb, void *arg);

/* Read-modify-write with conflict retry: GETs the object (its sub when sub
 * is "scale"), calls fn on a private copy, PUTs the result (to sub when set:
 * "status" or "scale"); on 409 Conflict it reads afresh and calls fn again,
 * up to K8S_CONFLICT_RETRIES times. fn returns 0 to write, K8S_UNCHANGED
 * to finish without writing (the callback then gets rc 0 and the object as
 * read), or a negative code to stop with that code. */
#define K8S_UNCHANGED 1
typedef int k8s_mutate_fn(json_t *obj, void *arg);
int k8s_modify(k8s_client *c, const k8s_res *r, const char *ns, const char *name,
               const char *sub, k8s_mutate_fn *fn, void *fn_arg, k8s_done_cb *cb, void *arg);

/* ---- small JSON helpers ---- */

/* obj.metadata.<field> as a string, or NULL (borrowed from obj). */
const char *k8s_meta_str(const json_t *obj, const char *field);

#endif
