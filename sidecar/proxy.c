/* proxy.c — the request path: route rule, admission (limiter), the
 * upstream exchange with both bodies streamed under back-pressure, response
 * header rewriting (hop-by-hop, Cache-Control, X-Liftoff-Factor), and the
 * error answers (502, 503, 504). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachectl.h"
#include "common.h"
#include "log.h"
#include "pool.h"
#include "service_int.h"

typedef struct px {
    sidecar_service *svc;
    http_req *r;
    http_creq *q;
    const sidecar_rule *rule;
    sidecar_prio prio;
    sidecar_waiter w;         /* first member used by container_of below */
    ev_timer qtimer;
    uint64_t t0_us;
    bool holds_slot;
    bool finished;            /* r has been finished */
    bool res_started;
    bool credentials;         /* request carried Authorization or Cookie */
} px;

#define PX_OF_WAITER(wp) ((px *)((char *)(wp) - offsetof(px, w)))

/* Fields that belong to one connection (RFC 9110 §7.6.1) and framing the
 * core writes itself. */
static const char *const hop_by_hop[] = {
    "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
    "upgrade", "proxy-authorization", "proxy-authenticate", "content-length", "host", "expect",
};

static bool is_hop(http_str name, const http_header *hs, unsigned n)
{
    for (size_t i = 0; i < LO_ARRAY_SIZE(hop_by_hop); i++)
        if (http_str_ieq(name, hop_by_hop[i]))
            return true;
    /* ...and every field the Connection header names. */
    for (unsigned i = 0; i < n; i++) {
        if (!http_str_ieq(hs[i].name, "connection"))
            continue;
        char tok[64];
        if (name.len >= sizeof tok)
            continue;
        memcpy(tok, name.p, name.len);
        tok[name.len] = 0;
        if (http_list_has_token(hs[i].value, tok))
            return true;
    }
    return false;
}

static void count_status(sidecar_service *svc, int status)
{
    int c = status / 100;
    metrics_counter_inc(svc->req_by_class[c >= 1 && c <= 5 ? c : 0]);
}

/* Frees the limiter slot and admits waiters that fit now. */
static void start_upstream(px *p);
static void release_slot(px *p, int64_t latency_us)
{
    if (!p->holds_slot)
        return;
    p->holds_slot = false;
    sidecar_service *svc = p->svc;
    uint64_t now = ev_now(svc->loop);
    sidecar_limiter_release(&svc->lim, latency_us, now);
    sidecar_waiter *w;
    while ((w = sidecar_limiter_pop(&svc->lim, now))) {
        px *n = PX_OF_WAITER(w);
        ev_timer_stop(svc->loop, &n->qtimer);
        n->holds_slot = true;
        start_upstream(n);
    }
}

/* Ends our part: cancels what is pending and finishes r (once). */
static void px_finish_error(px *p, int status, const char *body)
{
    if (p->finished)
        return;
    sidecar_service *svc = p->svc;
    ev_timer_stop(svc->loop, &p->qtimer);
    sidecar_limiter_unqueue(&svc->lim, &p->w, ev_now(svc->loop));
    if (p->q) {
        http_creq_cancel(p->q);
        p->q = NULL;
    }
    release_slot(p, -1);
    p->finished = true;
    if (status && !p->res_started && http_req_alive(p->r)) {
        count_status(svc, status);
        http_respond(p->r, status, "text/plain", body, strlen(body));
    } else {
        http_req_release(p->r);
    }
}

static void refuse(px *p, sidecar_shed_reason why)
{
    sidecar_service *svc = p->svc;
    metrics_counter_inc(svc->shed[p->prio][why]);
    uint32_t ra = sidecar_limiter_retry_after(&svc->lim, ev_now(svc->loop),
                                              (double)lo_rand_below(1000000) / 1e6);
    char v[16];
    snprintf(v, sizeof v, "%u", ra);
    http_res_header(p->r, "Retry-After", v);
    http_res_header(p->r, "Cache-Control", "no-store");
    px_finish_error(p, 503, "503 service overloaded, retry later\n");
}

/* ---- the client side ---- */

static void on_cancel(http_req *r, void *arg)
{
    (void)r;
    px_finish_error(arg, 0, "");
}

static void on_req_data(http_req *r, const char *data, size_t len, void *arg)
{
    px *p = arg;
    if (p->finished || !p->q)
        return;
    if (http_creq_write(p->q, data, len) < 0) {
        px_finish_error(p, 502, "502 upstream write failed\n");
        return;
    }
    if (http_creq_pending(p->q) > SIDECAR_PIPE_HIGH)
        http_req_pause_body(r);
}

static void on_req_end(http_req *r, int err, void *arg)
{
    (void)r;
    px *p = arg;
    if (p->finished || !p->q)
        return;
    if (err == 0) {
        http_creq_end(p->q);
        return;
    }
    /* The server answered the client already (400, 408, 413) or it is gone. */
    px_finish_error(p, 0, "");
}

static void on_res_drain(http_req *r, void *arg)
{
    (void)r;
    px *p = arg;
    if (!p->finished && p->q)
        http_creq_resume(p->q);
}

/* ---- the upstream side ---- */

static void on_up_drain(http_creq *q, void *ud)
{
    (void)q;
    px *p = ud;
    if (!p->finished)
        http_req_resume_body(p->r);
}

static void on_up_head(http_creq *q, const http_response *res, void *ud)
{
    (void)q;
    px *p = ud;
    sidecar_service *svc = p->svc;
    svc->upstream_seen = true;
    if (p->finished)
        return;
    pool *pl = http_req_pool(p->r);
    const http_header *app_cc = NULL;
    bool set_cookie = false;
    const char *cl_text = NULL;
    for (unsigned i = 0; i < res->nheaders; i++) {
        const http_header *h = &res->headers[i];
        if (http_str_ieq(h->name, "cache-control"))
            app_cc = app_cc ? app_cc : h;
        else if (http_str_ieq(h->name, "set-cookie"))
            set_cookie = true;
        else if (http_str_ieq(h->name, "content-length"))
            cl_text = pool_strndup(pl, h->value.p, h->value.len);
    }
    char cc[SIDECAR_CC_MAX];
    sidecar_cc_in in = {
        .rule = p->rule, .factor = svc->factor, .status = res->status,
        .app_cc = app_cc ? &app_cc->value : NULL, .set_cookie = set_cookie,
        .req_credentials = p->credentials,
        .jitter_u = (double)lo_rand_below(2000001) / 1e6 - 1.0,
    };
    bool replace_cc = sidecar_cc_decide(&in, cc, sizeof cc) == 1;
    for (unsigned i = 0; i < res->nheaders; i++) {
        const http_header *h = &res->headers[i];
        if (is_hop(h->name, res->headers, res->nheaders) || http_str_ieq(h->name, "date") ||
            (replace_cc && http_str_ieq(h->name, "cache-control")))
            continue;
        http_res_header(p->r, pool_strndup(pl, h->name.p, h->name.len),
                        pool_strndup(pl, h->value.p, h->value.len));
    }
    if (replace_cc)
        http_res_header(p->r, "Cache-Control", cc);
    char f[32];
    snprintf(f, sizeof f, "%.2f", svc->factor);
    http_res_header(p->r, "X-Liftoff-Factor", f);
    int64_t len = -1;
    if (res->f.body == HTTP_BODY_LENGTH)
        len = (int64_t)res->f.content_length;
    else if (res->f.body == HTTP_BODY_NONE)
        len = cl_text && http_req_head(p->r)->meth == HTTP_M_HEAD ? strtoll(cl_text, NULL, 10) : 0;
    p->res_started = true;
    count_status(svc, res->status);
    if (http_res_start(p->r, res->status, len) < 0) {
        px_finish_error(p, 0, "");
        return;
    }
    http_res_on_drain(p->r, on_res_drain, p);
}

static void on_up_data(http_creq *q, const char *data, size_t len, void *ud)
{
    px *p = ud;
    if (p->finished)
        return;
    if (http_res_write(p->r, data, len) < 0) {
        px_finish_error(p, 0, "");
        return;
    }
    if (http_res_pending(p->r) > SIDECAR_PIPE_HIGH)
        http_creq_pause(q);
}

static void on_up_done(http_creq *q, int err, void *ud)
{
    px *p = ud;
    sidecar_service *svc = p->svc;
    p->q = NULL;
    if (p->finished)
        return;
    int64_t lat = (int64_t)(lo_mono_us() - p->t0_us);
    if (err == 0) {
        metrics_histogram_observe(svc->latency, (double)lat / 1e6);
        release_slot(p, lat);
        p->finished = true;
        http_res_end(p->r);
        return;
    }
    const char *why = http_creq_error(q);
    if (err == -ETIMEDOUT) {
        metrics_counter_inc(svc->upstream_err[p->res_started ? 2 : 1]);
    } else {
        metrics_counter_inc(svc->upstream_err[p->res_started ? 2 : 0]);
    }
    log_warn_limited("proxy", "upstream failed", LF_ERR(err), LF_STR("reason", why));
    if (err == -ETIMEDOUT)
        px_finish_error(p, 504, "504 upstream timed out\n");
    else
        px_finish_error(p, 502, "502 upstream unavailable\n");
}

static void start_upstream(px *p)
{
    sidecar_service *svc = p->svc;
    http_req *r = p->r;
    const http_request *h = http_req_head(r);
    pool *pl = http_req_pool(r);
    http_header *out = pool_alloc(pl, (h->nheaders + 2) * sizeof *out);
    unsigned n = 0;
    char peer[CONN_ADDR_STR_MAX];
    http_req_peer(r, peer, sizeof peer);
    /* "1.2.3.4:5" or "[::1]:5" -> the address alone */
    char *colon = strrchr(peer, ':');
    if (colon)
        *colon = 0;
    const char *ip = peer;
    if (ip[0] == '[') {
        ip++;
        char *rb = strchr(peer, ']');
        if (rb)
            *rb = 0;
    }
    const char *xff = NULL, *xfp = NULL;
    for (unsigned i = 0; i < h->nheaders && n < SIDECAR_HEADERS_OUT_MAX; i++) {
        const http_header *f = &h->headers[i];
        if (is_hop(f->name, h->headers, h->nheaders))
            continue;
        if (http_str_ieq(f->name, "x-forwarded-for")) {
            xff = xff ? pool_printf(pl, "%s, %.*s", xff, (int)f->value.len, f->value.p)
                      : pool_strndup(pl, f->value.p, f->value.len);
            continue;
        }
        if (http_str_ieq(f->name, "x-forwarded-proto")) {
            xfp = xfp ? pool_printf(pl, "%s, %.*s", xfp, (int)f->value.len, f->value.p)
                      : pool_strndup(pl, f->value.p, f->value.len);
            continue;
        }
        out[n++] = *f;
    }
    xff = xff ? pool_printf(pl, "%s, %s", xff, ip) : pool_strndup(pl, ip, strlen(ip));
    xfp = xfp ? pool_printf(pl, "%s, http", xfp) : "http";
    out[n++] = (http_header){ { "X-Forwarded-For", 15 }, { xff, strlen(xff) } };
    out[n++] = (http_header){ { "X-Forwarded-Proto", 17 }, { xfp, strlen(xfp) } };

    const char *target = h->form == HTTP_TARGET_ABSOLUTE
                             ? pool_strndup(pl, h->path.p, h->path.len)
                             : pool_strndup(pl, h->target.p, h->target.len);
    bool has_body = h->f.body == HTTP_BODY_CHUNKED ||
                    (h->f.body == HTTP_BODY_LENGTH && h->f.content_length > 0);
    http_client_req o = {
        .method = pool_strndup(pl, h->method.p, h->method.len),
        .host = svc->upstream_host,
        .port = svc->set.upstream_port,
        .target = target,
        .host_header = h->host.len ? pool_strndup(pl, h->host.p, h->host.len) : NULL,
        .headers = out,
        .nheaders = n,
        .body_stream = has_body,
        .body_stream_length = h->f.body == HTTP_BODY_LENGTH ? (int64_t)h->f.content_length : -1,
        .on_head = on_up_head,
        .on_data = on_up_data,
        .on_drain = on_up_drain,
        .on_done = on_up_done,
        .ud = p,
    };
    int rc = http_client_request(svc->cl, &o, &p->q);
    if (rc < 0) {
        p->q = NULL;
        log_warn_limited("proxy", "cannot forward request", LF_ERR(rc));
        px_finish_error(p, 502, "502 request cannot be forwarded\n");
        return;
    }
    if (has_body)
        http_req_read_body(r, on_req_data, on_req_end, p);
}

static void on_queue_timeout(ev_loop *loop, ev_timer *t, void *arg)
{
    (void)loop;
    (void)t;
    px *p = arg;
    sidecar_limiter_unqueue(&p->svc->lim, &p->w, ev_now(p->svc->loop));
    refuse(p, SIDECAR_SHED_QUEUE_TIMEOUT);
}

void sidecar_proxy_handle(http_req *r, void *arg)
{
    sidecar_service *svc = arg;
    const http_request *h = http_req_head(r);
    px *p = pool_zalloc(http_req_pool(r), sizeof *p);
    p->svc = svc;
    p->r = r;
    p->t0_us = lo_mono_us();
    ev_timer_init(&p->qtimer, on_queue_timeout, p);
    http_req_on_cancel(r, on_cancel, p);
    p->rule = sidecar_rules_match(&svc->rules, h->path.p, h->path.len);
    p->prio = p->rule ? p->rule->prio : SIDECAR_PRIO_NORMAL;
    p->credentials = http_header_find(h->headers, h->nheaders, "authorization") != NULL ||
                     http_header_find(h->headers, h->nheaders, "cookie") != NULL;
    /* Upgrade (WebSocket) is forwarded as a plain request: Upgrade and
     * Connection are hop-by-hop, so the upstream answers it without 101. */
    sidecar_shed_reason why = SIDECAR_SHED_OVERLOAD;
    switch (sidecar_limiter_admit(&svc->lim, p->prio, svc->factor, &p->w, ev_now(svc->loop),
                                  &why)) {
    case SIDECAR_ADMIT:
        p->holds_slot = true;
        start_upstream(p);
        break;
    case SIDECAR_WAIT: {
        uint64_t now = ev_now(svc->loop);
        ev_timer_start(svc->loop, &p->qtimer, p->w.deadline_ms > now ? p->w.deadline_ms - now : 0);
        break;
    }
    case SIDECAR_REFUSE:
        refuse(p, why);
        break;
    }
}
