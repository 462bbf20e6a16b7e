/* admin.c — the admin port: /healthz, /readyz, /metrics, /config; /warm
 * and /purge belong to the micro-cache, which this build does not have. */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "common.h"
#include "service_int.h"

#define ADMIN_BODY_MAX (4u << 20)

static bool path_is(const http_request *h, const char *p)
{
    size_t n = strlen(p);
    size_t len = h->path.len;
    const char *q = memchr(h->path.p, '?', len);
    if (q)
        len = (size_t)(q - h->path.p);
    return len == n && memcmp(h->path.p, p, n) == 0;
}

void sidecar_admin_handle(http_req *r, void *arg)
{
    sidecar_service *svc = arg;
    const http_request *h = http_req_head(r);
    bool get = h->meth == HTTP_M_GET || h->meth == HTTP_M_HEAD;
    if (path_is(h, "/healthz") && get) {
        http_respond(r, 200, "text/plain", "ok\n", 3);
    } else if (path_is(h, "/readyz") && get) {
        if (svc->draining)
            http_respond(r, 503, "text/plain", "draining\n", 9);
        else if (!svc->upstream_seen)
            http_respond(r, 503, "text/plain", "upstream not answered yet\n", 26);
        else
            http_respond(r, 200, "text/plain", "ready\n", 6);
    } else if (path_is(h, "/metrics") && get) {
        buf_t b;
        buf_init(&b, ADMIN_BODY_MAX);
        metrics_gauge_set(svc->g_inflight, svc->lim.inflight);
        metrics_gauge_set(svc->g_queued, svc->lim.queued);
        metrics_gauge_set(svc->g_limit, sidecar_limiter_limit(&svc->lim));
        metrics_gauge_set(svc->g_factor, svc->factor);
        metrics_write(svc->m, &b);
        http_respond(r, 200, METRICS_CONTENT_TYPE, buf_data(&b), buf_len(&b));
        buf_free(&b);
    } else if (path_is(h, "/config") && get) {
        buf_t b;
        buf_init(&b, ADMIN_BODY_MAX);
        buf_appendf(&b, "{\"factor\":%.4f,\"limit\":%u,\"draining\":%s,\"rules\":", svc->factor,
                    sidecar_limiter_limit(&svc->lim), svc->draining ? "true" : "false");
        sidecar_rules_to_json(&svc->rules, &b);
        buf_append_str(&b, "}\n");
        http_respond(r, 200, "application/json", buf_data(&b), buf_len(&b));
        buf_free(&b);
    } else if ((path_is(h, "/warm") || path_is(h, "/purge")) && h->meth == HTTP_M_POST) {
        http_respond(r, 501, "text/plain", "no micro-cache in this build\n", 29);
    } else {
        http_respond(r, 404, "text/plain", "not found\n", 10);
    }
}
