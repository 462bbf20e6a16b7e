/* k8s_client.c — the client object and the request engine: one attempt is
 * one curl transfer; failed attempts that may be repeated are, after a
 * jittered backoff or the server's Retry-After (see k8s_client.h). */
#include "k8s_client.h"
#include "k8s_int.h"
#include "common.h"

#include <stdlib.h>
#include <string.h>

typedef struct k8s_req k8s_req;

struct k8s_client {
    ev_loop *loop;
    curlm *m;
    bool own_m;
    k8s_config cfg;
    k8s_req *reqs;          /* in flight (attempting or waiting to retry) */
    k8s__op *ops;           /* multi-request operations */
    unsigned max_retries;
    uint64_t backoff_base_ms, backoff_max_ms;
    k8s_client_stats stats;
};

struct k8s_req {
    k8s_client *c;
    k8s_req *prev, *next;
    char *method;
    char *path;
    char *body;
    char *content_type;
    bool retry_5xx;         /* idempotent enough to repeat after 5xx/timeouts */
    unsigned attempts;
    curlm_xfer *x;
    ev_timer retry;
    k8s_done_cb *cb;
    void *arg;
};

k8s_client *k8s_client_new(ev_loop *loop, curlm *m, k8s_config *cfg)
{
    k8s_client *c = xcalloc(1, sizeof *c);
    c->loop = loop;
    if (m) {
        c->m = m;
    } else {
        c->m = curlm_new(loop);
        c->own_m = true;
        if (!c->m) {
            free(c);
            return NULL;
        }
    }
    c->cfg = *cfg;
    memset(cfg, 0, sizeof *cfg);
    k8s_client_set_retry(c, K8S_MAX_RETRIES, K8S_BACKOFF_BASE_MS, K8S_BACKOFF_MAX_MS);
    return c;
}

static void req_unlink(k8s_req *q)
{
    k8s_client *c = q->c;
    if (q->prev)
        q->prev->next = q->next;
    else if (c->reqs == q)
        c->reqs = q->next;
    if (q->next)
        q->next->prev = q->prev;
    q->prev = q->next = NULL;
    c->stats.in_flight--;
}

static void req_free(k8s_req *q)
{
    free(q->method);
    free(q->path);
    free(q->body);
    free(q->content_type);
    free(q);
}

void k8s_client_free(k8s_client *c)
{
    if (!c)
        return;
    while (c->reqs) {
        k8s_req *q = c->reqs;
        req_unlink(q);
        ev_timer_stop(c->loop, &q->retry);
        curlm_cancel(q->x);
        req_free(q);
    }
    while (c->ops) {
        k8s__op *op = c->ops;
        k8s__op_del(c, op);
        op->free(op);
    }
    if (c->own_m)
        curlm_free(c->m);
    k8s_config_free(&c->cfg);
    free(c);
}

ev_loop *k8s_client_loop(const k8s_client *c) { return c->loop; }
const k8s_config *k8s_client_config(const k8s_client *c) { return &c->cfg; }

void k8s_client_stats_get(const k8s_client *c, k8s_client_stats *out) { *out = c->stats; }

void k8s_client_set_retry(k8s_client *c, unsigned max_retries, uint64_t base_ms,
                          uint64_t max_ms)
{
    c->max_retries = max_retries;
    c->backoff_base_ms = base_ms ? base_ms : 1;
    c->backoff_max_ms = LO_MAX(max_ms, c->backoff_base_ms);
}

void k8s__count_conflict(k8s_client *c) { c->stats.conflicts++; }

void k8s__op_add(k8s_client *c, k8s__op *op)
{
    op->prev = NULL;
    op->next = c->ops;
    if (c->ops)
        c->ops->prev = op;
    c->ops = op;
}

void k8s__op_del(k8s_client *c, k8s__op *op)
{
    if (op->prev)
        op->prev->next = op->next;
    else if (c->ops == op)
        c->ops = op->next;
    if (op->next)
        op->next->prev = op->prev;
    op->prev = op->next = NULL;
}

bool k8s__op_leave(k8s_client *c, k8s__op *op)
{
    op->busy--;
    if (op->free_pending && !op->busy) {
        k8s__op_del(c, op);
        op->free(op);
        return false;
    }
    return true;
}

void k8s__op_release(k8s_client *c, k8s__op *op)
{
    if (op->busy) {
        op->free_pending = true;
        return;
    }
    k8s__op_del(c, op);
    op->free(op);
}

void k8s__res_dup(k8s_res *out, const k8s_res *r)
{
    out->group = xstrdup(r->group ? r->group : "");
    out->version = xstrdup(r->version);
    out->resource = xstrdup(r->resource);
}

void k8s__res_free(k8s_res *r)
{
    free((char *)r->group);
    free((char *)r->version);
    free((char *)r->resource);
}

/* ---- one transfer ---- */

static void set_blob(CURL *e, CURLoption opt, const k8s_blob *b)
{
    struct curl_blob blob = { b->data, b->len, CURL_BLOB_COPY };
    curl_easy_setopt(e, opt, &blob);
}

curlm_xfer *k8s__xfer_new(k8s_client *c, const char *path_query, curlm_done_cb *done,
                          void *arg)
{
    char *url = xasprintf("%s%s", c->cfg.server, path_query);
    curlm_xfer *x = curlm_xfer_new(c->m, url, done, arg);
    free(url);
    CURL *e = curlm_easy(x);
    if (c->cfg.ca.data)
        set_blob(e, CURLOPT_CAINFO_BLOB, &c->cfg.ca);
    if (c->cfg.cert.data) {
        set_blob(e, CURLOPT_SSLCERT_BLOB, &c->cfg.cert);
        curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
        set_blob(e, CURLOPT_SSLKEY_BLOB, &c->cfg.key);
        curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
    }
    if (c->cfg.insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    curlm_xfer_add_header(x, "Accept: application/json");
    const char *token = k8s_config_token(&c->cfg, lo_mono_ms());
    if (token) {
        char *h = xasprintf("Authorization: Bearer %s", token);
        curlm_xfer_add_header(x, h);
        explicit_bzero(h, strlen(h));
        free(h);
    }
    /* Over HTTP/2 every request and watch shares one connection: wait for
     * it rather than opening more while it is being set up. */
    if (strncmp(c->cfg.server, "https://", 8) == 0)
        curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    curlm_xfer_set_body_max(x, K8S_RESPONSE_MAX);
    return x;
}

int k8s__curl_rc(CURLcode code, int *retry)
{
    *retry = K8S__RETRY_NEVER;
    switch (code) {
    case CURLE_OK:
        return 0;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
        *retry = K8S__RETRY_ALWAYS; /* nothing was sent */
        return K8S_ECONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        *retry = K8S__RETRY_IDEMPOTENT;
        return K8S_ETIMEOUT;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        *retry = K8S__RETRY_IDEMPOTENT; /* the connection broke */
        return K8S_ESERVER;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
        return K8S_ETLS;
    default:
        return K8S_ESERVER;
    }
}

const char *k8s__status_reason(const json_t *body)
{
    const char *s = json_string_value(json_object_get(body, "reason"));
    return s ? s : "";
}

const char *k8s__status_message(const json_t *body)
{
    const char *s = json_string_value(json_object_get(body, "message"));
    return s ? s : "";
}

/* ---- requests ---- */

static int req_send(k8s_req *q);

static void finish(k8s_req *q, const k8s_response *r)
{
    k8s_client *c = q->c;
    req_unlink(q);
    if (r->rc < 0)
        c->stats.failures++;
    /* The callback may free the client: q is no longer reachable from it. */
    if (q->cb)
        q->cb(r, q->arg);
    req_free(q);
}

static void on_retry(ev_loop *loop, ev_timer *t, void *arg)
{
    k8s_req *q = arg;
    q->c->stats.retries++;
    int rc = req_send(q);
    if (rc < 0) {
        k8s_response r = { .rc = rc, .message = "curl refused the request", .reason = "",
                           .attempts = q->attempts };
        finish(q, &r);
    }
}

static void on_done(curlm_xfer *x, const curlm_result *res, void *arg)
{
    k8s_req *q = arg;
    k8s_client *c = q->c;
    q->x = NULL;
    k8s_response r = { .status = res->status, .message = "", .reason = "",
                       .attempts = q->attempts };
    bool retry = false;
    int how = K8S__RETRY_NEVER;
    json_t *body = NULL;
    char msg[256];
    if (res->code != CURLE_OK) {
        r.status = 0;
        r.rc = k8s__curl_rc(res->code, &how);
        if (res->body_too_large) {
            r.rc = K8S_ETOOLARGE;
            how = K8S__RETRY_NEVER;
        }
        r.message = res->error;
        retry = how == K8S__RETRY_ALWAYS || (how == K8S__RETRY_IDEMPOTENT && q->retry_5xx);
    } else {
        if (buf_len(res->body))
            body = json_loadb(buf_data(res->body), buf_len(res->body), 0, NULL);
        r.body = body;
        if (res->status >= 200 && res->status < 300) {
            if (!body && buf_len(res->body)) {
                r.rc = K8S_EBADMSG;
                r.message = "the answer is not JSON";
            }
        } else {
            r.reason = k8s__status_reason(body);
            r.rc = k8s_status_rc(res->status, r.reason);
            r.message = k8s__status_message(body);
            if (!*r.message) {
                snprintf(msg, sizeof msg, "HTTP %ld", res->status);
                r.message = msg;
            }
            retry = res->status == 429 || res->status == 503 ||
                    (q->retry_5xx && res->status >= 500);
        }
    }
    if (retry && q->attempts <= c->max_retries) {
        uint64_t delay = k8s_backoff_ms(q->attempts, c->backoff_base_ms, c->backoff_max_ms,
                                        K8S_BACKOFF_JITTER);
        curl_off_t after = 0;
        if (res->code == CURLE_OK &&
            curl_easy_getinfo(curlm_easy(x), CURLINFO_RETRY_AFTER, &after) == CURLE_OK &&
            after > 0)
            delay = LO_MIN((uint64_t)after * 1000u, (uint64_t)K8S_RETRY_AFTER_MAX_MS);
        json_decref(body);
        ev_timer_start(c->loop, &q->retry, delay);
        return;
    }
    finish(q, &r);
    json_decref(body);
}

static int req_send(k8s_req *q)
{
    k8s_client *c = q->c;
    curlm_xfer *x = k8s__xfer_new(c, q->path, on_done, q);
    CURL *e = curlm_easy(x);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, K8S_REQUEST_TIMEOUT_MS);
    if (strcmp(q->method, "GET") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, q->method);
    if (q->body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, q->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(q->body));
        char *h = xasprintf("Content-Type: %s", q->content_type);
        curlm_xfer_add_header(x, h);
        free(h);
        curlm_xfer_add_header(x, "Expect:"); /* no 100-continue round trip */
    }
    q->attempts++;
    c->stats.attempts++;
    int rc = curlm_start(x);
    if (rc < 0)
        return rc; /* x is freed */
    q->x = x;
    return 0;
}

int k8s_request(k8s_client *c, const char *method, const char *path_query, const char *body,
                const char *content_type, k8s_done_cb *cb, void *arg)
{
    if (!c || !method || !path_query || path_query[0] != '/')
        return -EINVAL;
    k8s_req *q = xcalloc(1, sizeof *q);
    q->c = c;
    q->method = xstrdup(method);
    q->path = xstrdup(path_query);
    q->body = body ? xstrdup(body) : NULL;
    q->content_type = xstrdup(content_type ? content_type : "application/json");
    q->retry_5xx = strcmp(method, "POST") != 0;
    q->cb = cb;
    q->arg = arg;
    ev_timer_init(&q->retry, on_retry, q);
    q->next = c->reqs;
    if (c->reqs)
        c->reqs->prev = q;
    c->reqs = q;
    c->stats.in_flight++;
    c->stats.requests++;
    int rc = req_send(q);
    if (rc < 0) {
        req_unlink(q);
        req_free(q);
        return rc;
    }
    return 0;
}
