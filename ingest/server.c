/* server.c — the HTTP side of liftoff-ingest: routing, the checks in the
 * order the API promises (method, CORS, rate limit, content type,
 * signature, replay window, schema), the append, and every answer. */
#include <stdlib.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "log.h"
#include "service_int.h"

#include "append_script.h"
#include "replay.h"
#include "route.h"

#define JSON_CT "application/json"
#define ANSWER_MAX 512          /* single-event answers, bytes */
#define ADDR_MAX 64

/* A request waiting for Redis. Lives in the request's pool. */
typedef struct pending {
    ingest_service *svc;
    http_req *r;
    ingest_route_kind route;
    uint64_t t0_us;
    ingest_event *evs;           /* malloc'd by the parser; freed with the pool */
    size_t n;
    const char *origin;          /* allowed Origin to echo, or NULL */
} pending;

/* Writes s as a JSON string (with quotes) into out; returns the length, or
 * 0 if it does not fit. */
static size_t json_quote(const char *s, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    if (cap < 3)
        return 0;
    out[k++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (k + 8 >= cap)
            return 0;
        if (*p == '"' || *p == '\\') {
            out[k++] = '\\';
            out[k++] = (char)*p;
        } else if (*p < 0x20) {
            out[k++] = '\\';
            out[k++] = 'u';
            out[k++] = '0';
            out[k++] = '0';
            out[k++] = hex[*p >> 4];
            out[k++] = hex[*p & 15];
        } else {
            out[k++] = (char)*p;
        }
    }
    out[k++] = '"';
    out[k] = '\0';
    return k;
}

/* Writes a, x (xl bytes), b, y (yl bytes), c into out (cap bytes, NUL-ended,
 * cut to fit); returns the length written. */
static size_t concat(char *out, size_t cap, const char *a, const char *x, size_t xl,
                     const char *b, const char *y, size_t yl, const char *c)
{
    const char *part[5] = { a, x, b, y, c };
    size_t plen[5] = { strlen(a), xl, strlen(b), yl, strlen(c) }, k = 0;
    for (int i = 0; i < 5 && cap > 0; i++) {
        size_t n = LO_MIN(plen[i], cap - 1 - k);
        memcpy(out + k, part[i], n);
        k += n;
    }
    if (cap > 0)
        out[k] = '\0';
    return k;
}

static void cors_headers(http_req *r, const ingest_service *svc, const char *origin)
{
    if (!origin)
        return;
    http_res_header(r, "Access-Control-Allow-Origin", ingest_cors_any(svc->cors) ? "*" : origin);
    http_res_header(r, "Vary", "Origin");
    http_res_header(r, "Access-Control-Expose-Headers", "Retry-After");
}

/* Answers and records it; body is JSON (or NULL with len 0). */
static void answer(ingest_service *svc, http_req *r, ingest_route_kind route, uint64_t t0_us,
                   int code, const char *body, size_t len, const char *ct)
{
    http_respond(r, code, body ? ct : NULL, body, len);
    ingest_tm_request(svc->tm, route, code, lo_mono_us() - t0_us);
}

static void answer_json(ingest_service *svc, http_req *r, ingest_route_kind route,
                        uint64_t t0_us, int code, const char *json)
{
    answer(svc, r, route, t0_us, code, json, strlen(json), JSON_CT);
}

static void retry_after(http_req *r, uint64_t ms)
{
    char v[24];
    snprintf(v, sizeof(v), "%llu", (unsigned long long)((ms + 999) / 1000 ? (ms + 999) / 1000 : 1));
    http_res_header(r, "Retry-After", v);
}

static void unavailable(ingest_service *svc, http_req *r, ingest_route_kind route,
                        uint64_t t0_us, const char *origin, const char *why)
{
    char body[256];
    cors_headers(r, svc, origin);
    retry_after(r, svc->set.retry_after_ms);
    snprintf(body, sizeof(body), "{\"error\":\"unavailable\",\"reason\":\"%s\"}", why);
    answer_json(svc, r, route, t0_us, 503, body);
}

static void pending_cleanup(void *arg)
{
    pending *p = arg;
    ingest_events_free(p->evs, p->n);
    p->evs = NULL;
}

/* ---- answers after Redis ---- */

static void on_stored(void *arg, int err, const ingest_append_result *res, size_t n)
{
    pending *p = arg;
    ingest_service *svc = p->svc;
    http_req *r = p->r;
    if (err < 0) {
        ingest_tm_redis_error(svc->tm);
        if (err != -ECANCELED)
            log_warn_limited("ingest", "append failed", LF_ERR(err),
                             LF_STR("redis", svc->redis ? rds_error(svc->redis) : ""));
        unavailable(svc, r, p->route, p->t0_us, p->origin,
                    err == -ETIMEDOUT ? "storage too slow" : "storage unavailable");
        return;
    }
    size_t appended = 0, dups = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        if (res[i].status == INGEST_APPENDED) {
            appended++;
            ingest_tm_event(svc->tm, p->evs[i].type, p->evs[i].source);
        } else if (res[i].status == INGEST_DUPLICATE) {
            dups++;
            ingest_tm_duplicate(svc->tm, p->evs[i].source);
        } else {
            failed++;
            log_error_limited("ingest", "append refused by Redis",
                              LF_STR("redis_error", res[i].stream_id), LF_STR("id", p->evs[i].id));
        }
    }
    if (failed) {
        ingest_tm_redis_error(svc->tm);
        unavailable(svc, r, p->route, p->t0_us, p->origin, "storage refused the event");
        return;
    }
    cors_headers(r, svc, p->origin);
    if (p->route == INGEST_ROUTE_WEBHOOK) {
        char id[INGEST_ID_MAX * 6 + 3], sid[INGEST_STREAM_ID_MAX * 6 + 3], body[ANSWER_MAX * 4];
        size_t len, il = json_quote(p->evs[0].id, id, sizeof(id));
        if (res[0].status == INGEST_DUPLICATE) {
            len = concat(body, sizeof(body), "{\"status\":\"duplicate\",\"id\":", id, il, "", "",
                         0, "}");
            answer(svc, r, p->route, p->t0_us, 200, body, len, JSON_CT);
            return;
        }
        size_t sl = json_quote(res[0].stream_id, sid, sizeof(sid));
        len = concat(body, sizeof(body), "{\"status\":\"accepted\",\"id\":", id, il,
                     ",\"stream_id\":", sid, sl, "}");
        answer(svc, r, p->route, p->t0_us, 202, body, len, JSON_CT);
        return;
    }
    /* a batch: {"status":..,"accepted":N,"duplicates":M,"ids":[...]} */
    buf_t b;
    buf_init(&b, 64 + n * (INGEST_ID_MAX + 4));
    buf_appendf(&b, "{\"status\":\"%s\",\"accepted\":%zu,\"duplicates\":%zu,\"ids\":[",
                appended ? "accepted" : "duplicate", appended, dups);
    for (size_t i = 0; i < n; i++)
        buf_appendf(&b, "%s\"%s\"", i ? "," : "", p->evs[i].id); /* derived ids: hex */
    buf_append_str(&b, "]}");
    answer(svc, r, p->route, p->t0_us, appended ? 202 : 200, buf_data(&b), buf_len(&b), JSON_CT);
    buf_free(&b);
}

/* ---- checks ---- */

static const char *header_value(http_req *r, const char *name, size_t *len)
{
    const http_header *h = http_req_header(r, name);
    if (!h)
        return NULL;
    *len = h->value.len;
    return h->value.p;
}

static void bad_request(ingest_service *svc, http_req *r, ingest_route_kind route,
                        uint64_t t0_us, const char *origin, const ingest_verr *e)
{
    char *body = ingest_verr_json(e);
    cors_headers(r, svc, origin);
    answer_json(svc, r, route, t0_us, e->kind == INGEST_VERR_TOO_LARGE ? 413 : 400, body);
    free(body);
}

static bool content_type_ok(http_req *r)
{
    size_t len = 0;
    const char *ct = header_value(r, "Content-Type", &len);
    return ct && ingest_content_type_is_json(ct, len);
}

/* Hands parsed events to the store; answers now if it cannot take them.
 * (While draining, requests still arriving on open connections are served:
 * Redis is still there, and the server closes those connections after.) */
static void store(ingest_service *svc, http_req *r, pending *p, const char *launch)
{
    pool_on_clear(http_req_pool(r), pending_cleanup, p);
    int rc = ingest_store_append(svc->store, launch, p->evs, p->n, on_stored, p);
    if (rc < 0)
        unavailable(svc, r, p->route, p->t0_us, p->origin,
                    rc == -EBUSY ? "too many events waiting for storage" : "cannot store");
}

static pending *pending_new(ingest_service *svc, http_req *r, ingest_route_kind route,
                            uint64_t t0_us, const char *origin)
{
    pending *p = pool_zalloc(http_req_pool(r), sizeof(*p));
    p->svc = svc;
    p->r = r;
    p->route = route;
    p->t0_us = t0_us;
    p->origin = origin;
    return p;
}

static void method_not_allowed(ingest_service *svc, http_req *r, ingest_route_kind route,
                               uint64_t t0_us, const char *allow, const char *origin)
{
    cors_headers(r, svc, origin);
    http_res_header(r, "Allow", allow);
    answer_json(svc, r, route, t0_us, 405, "{\"error\":\"method not allowed\"}");
}

static void unsupported_type(ingest_service *svc, http_req *r, ingest_route_kind route,
                             uint64_t t0_us, const char *origin)
{
    cors_headers(r, svc, origin);
    answer_json(svc, r, route, t0_us, 415,
                "{\"error\":\"unsupported media type\",\"reason\":\"Content-Type must be "
                "application/json\"}");
}

static void handle_webhook(ingest_service *svc, http_req *r, const ingest_route *rt,
                           uint64_t t0_us)
{
    const http_request *h = http_req_head(r);
    size_t blen = 0, slen = 0, tlen = 0;
    if (h->meth != HTTP_M_POST) {
        method_not_allowed(svc, r, rt->kind, t0_us, "POST", NULL);
        return;
    }
    if (!content_type_ok(r)) {
        unsupported_type(svc, r, rt->kind, t0_us, NULL);
        return;
    }
    const char *body = http_req_body(r, &blen);
    const char *sig = header_value(r, svc->set.sig_header, &slen);
    int rc = sig ? ingest_sig_verify(svc->keys, svc->set.sig_prefix, sig, slen, body, blen)
                 : -ENOENT;
    if (rc < 0) {
        ingest_tm_signature_failure(svc->tm);
        answer_json(svc, r, rt->kind, t0_us, 401,
                    rc == -ENOENT   ? "{\"error\":\"unauthorized\",\"reason\":\"missing signature\"}"
                    : rc == -EINVAL ? "{\"error\":\"unauthorized\",\"reason\":\"malformed signature\"}"
                                    : "{\"error\":\"unauthorized\",\"reason\":\"bad signature\"}");
        return;
    }
    const char *ts = svc->set.ts_header[0] ? header_value(r, svc->set.ts_header, &tlen) : NULL;
    if (ts) {
        rc = ingest_replay_check_header(ts, tlen, (int64_t)lo_wall_ms(), svc->set.replay_window_ms);
        if (rc < 0) {
            ingest_tm_replay(svc->tm);
            answer_json(svc, r, rt->kind, t0_us, 401,
                        rc == -EINVAL
                            ? "{\"error\":\"unauthorized\",\"reason\":\"unreadable timestamp\"}"
                            : "{\"error\":\"unauthorized\",\"reason\":\"timestamp outside the "
                              "replay window\"}");
            return;
        }
    }
    ingest_verr e;
    ingest_event *ev = xmalloc(sizeof(*ev));
    if (ingest_webhook_parse(body, blen, &svc->limits, ev, &e) < 0) {
        free(ev);
        bad_request(svc, r, rt->kind, t0_us, NULL, &e);
        return;
    }
    pending *p = pending_new(svc, r, rt->kind, t0_us, NULL);
    p->evs = ev;
    p->n = 1;
    store(svc, r, p, rt->launch);
}

/* The Origin to echo if the request comes from an allowed one; *refused
 * when it names an origin not on the list. */
static const char *allowed_origin(ingest_service *svc, http_req *r, bool *refused)
{
    size_t len = 0;
    const char *o = header_value(r, "Origin", &len);
    *refused = false;
    if (!o)
        return NULL;
    if (!ingest_cors_allowed(svc->cors, o, len)) {
        *refused = true;
        return NULL;
    }
    return pool_strndup(http_req_pool(r), o, len);
}

static void handle_events(ingest_service *svc, http_req *r, const ingest_route *rt,
                          uint64_t t0_us)
{
    const http_request *h = http_req_head(r);
    bool refused = false;
    const char *origin = allowed_origin(svc, r, &refused);
    if (refused) {
        answer_json(svc, r, rt->kind, t0_us, 403, "{\"error\":\"origin not allowed\"}");
        return;
    }
    if (h->meth == HTTP_M_OPTIONS) {
        /* CORS preflight */
        size_t ml = 0;
        const char *m = header_value(r, "Access-Control-Request-Method", &ml);
        if (!origin || !m || !(ml == 4 && memcmp(m, "POST", 4) == 0)) {
            answer_json(svc, r, rt->kind, t0_us, 403, "{\"error\":\"preflight refused\"}");
            return;
        }
        char age[16];
        snprintf(age, sizeof(age), "%d", INGEST_CORS_MAX_AGE_S);
        cors_headers(r, svc, origin);
        http_res_header(r, "Access-Control-Allow-Methods", "POST, OPTIONS");
        http_res_header(r, "Access-Control-Allow-Headers", "Content-Type");
        http_res_header(r, "Access-Control-Max-Age", age);
        answer(svc, r, rt->kind, t0_us, 204, NULL, 0, NULL);
        return;
    }
    if (h->meth != HTTP_M_POST) {
        method_not_allowed(svc, r, rt->kind, t0_us, "POST, OPTIONS", origin);
        return;
    }
    char peer[CONN_ADDR_STR_MAX], addr[ADDR_MAX];
    uint8_t key[INGEST_RL_KEY_LEN];
    size_t xlen = 0;
    const char *xff = svc->set.trust_forwarded_for ? header_value(r, "X-Forwarded-For", &xlen) : NULL;
    http_req_peer(r, peer, sizeof(peer));
    uint64_t wait_ms = 0;
    if (ingest_client_addr(peer, xff, xlen, svc->set.trust_forwarded_for, addr, sizeof(addr)) == 0 &&
        ingest_rl_key_from_str(addr, strlen(addr), key) == 0 &&
        ingest_rl_take(svc->rl, key, ev_now(svc->loop), 1, &wait_ms) < 0) {
        ingest_tm_rate_limited(svc->tm);
        cors_headers(r, svc, origin);
        retry_after(r, wait_ms);
        answer_json(svc, r, rt->kind, t0_us, 429, "{\"error\":\"rate limited\"}");
        return;
    }
    if (!content_type_ok(r)) {
        unsupported_type(svc, r, rt->kind, t0_us, origin);
        return;
    }
    size_t blen = 0, n = 0;
    const char *body = http_req_body(r, &blen);
    ingest_event *evs = NULL;
    ingest_verr e;
    if (ingest_batch_parse(body, blen, &svc->limits, &evs, &n, &e) < 0) {
        bad_request(svc, r, rt->kind, t0_us, origin, &e);
        return;
    }
    pending *p = pending_new(svc, r, rt->kind, t0_us, origin);
    p->evs = evs;
    p->n = n;
    store(svc, r, p, rt->launch);
}

static void handle_metrics(ingest_service *svc, http_req *r, uint64_t t0_us)
{
    buf_t b;
    buf_init(&b, 4u << 20);
    ingest_tm_write(svc->tm, &b);
    answer(svc, r, INGEST_ROUTE_METRICS, t0_us, 200, buf_data(&b), buf_len(&b),
           "text/plain; version=0.0.4; charset=utf-8");
    buf_free(&b);
}

void ingest_server_handle(http_req *r, void *arg)
{
    ingest_service *svc = arg;
    uint64_t t0_us = lo_mono_us();
    const http_request *h = http_req_head(r);
    ingest_route rt;
    switch (ingest_route_match(h->path.p, h->path.len, svc->set.platform, svc->set.launch, &rt)) {
    case INGEST_ROUTE_WEBHOOK:
        handle_webhook(svc, r, &rt, t0_us);
        return;
    case INGEST_ROUTE_EVENTS:
        handle_events(svc, r, &rt, t0_us);
        return;
    case INGEST_ROUTE_HEALTHZ:
    case INGEST_ROUTE_READYZ:
    case INGEST_ROUTE_METRICS:
        if (h->meth != HTTP_M_GET && h->meth != HTTP_M_HEAD) {
            method_not_allowed(svc, r, rt.kind, t0_us, "GET, HEAD", NULL);
            return;
        }
        if (rt.kind == INGEST_ROUTE_METRICS) {
            handle_metrics(svc, r, t0_us);
        } else if (rt.kind == INGEST_ROUTE_HEALTHZ) {
            answer_json(svc, r, rt.kind, t0_us, 200, "{\"status\":\"ok\"}");
        } else if (svc->draining) {
            answer_json(svc, r, rt.kind, t0_us, 503, "{\"status\":\"draining\"}");
        } else if (!rds_is_up(svc->redis)) {
            answer_json(svc, r, rt.kind, t0_us, 503, "{\"status\":\"redis unreachable\"}");
        } else {
            answer_json(svc, r, rt.kind, t0_us, 200, "{\"status\":\"ready\"}");
        }
        return;
    case INGEST_ROUTE_NOT_FOUND:
    default:
        answer_json(svc, r, INGEST_ROUTE_NOT_FOUND, t0_us, 404, "{\"error\":\"not found\"}");
        return;
    }
}
