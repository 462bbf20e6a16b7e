/* admin_http.c — /healthz, /readyz and /metrics, and the small server that
 * answers them (see admin_http.h). */
#include "admin_http.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "common.h"

struct admin_http {
    http_server *http;
    admin_http_routes rt;
};

static void respond_text(http_req *r, int status, const char *text)
{
    http_respond(r, status, "text/plain", text, strlen(text));
}

static void answer_ready(http_req *r, const admin_http_routes *rt)
{
    char text[ADMIN_HTTP_READY_TEXT_MAX + 1] = "ready";   /* + 1: the newline */
    bool ready = true;
    if (rt->ready) {
        text[0] = '\0';
        ready = rt->ready(rt->arg, text, ADMIN_HTTP_READY_TEXT_MAX);
        text[ADMIN_HTTP_READY_TEXT_MAX - 1] = '\0';
    }
    size_t n = strlen(text);
    text[n++] = '\n';
    http_respond(r, ready ? 200 : 503, "text/plain", text, n);
}

static void answer_metrics(http_req *r, const admin_http_routes *rt)
{
    buf_t b;
    buf_init(&b, rt->metrics_max ? rt->metrics_max : ADMIN_HTTP_METRICS_MAX_DEFAULT);
    if (rt->refresh)
        rt->refresh(rt->arg);
    if (metrics_write(rt->metrics, &b) < 0)
        respond_text(r, 500, "metrics too large\n");
    else
        http_respond(r, 200, METRICS_CONTENT_TYPE, buf_data(&b), buf_len(&b));
    buf_free(&b);
}

void admin_http_handle(http_req *r, const admin_http_routes *rt)
{
    if (rt->route && rt->route(r, rt->arg))
        return;
    const http_request *h = http_req_head(r);
    if (h->meth != HTTP_M_GET && h->meth != HTTP_M_HEAD) {
        http_res_header(r, "Allow", "GET, HEAD");
        respond_text(r, 405, "method not allowed\n");
    } else if (http_path_is(h, "/healthz")) {
        respond_text(r, 200, "ok\n");
    } else if (http_path_is(h, "/readyz")) {
        answer_ready(r, rt);
    } else if (http_path_is(h, "/metrics")) {
        answer_metrics(r, rt);
    } else {
        respond_text(r, 404, "not found\n");
    }
}

static void on_request(http_req *r, void *arg)
{
    admin_http *a = arg;
    admin_http_handle(r, &a->rt);
}

void admin_http_free(admin_http *a)
{
    if (!a)
        return;
    http_server_free(a->http);
    free(a);
}

int admin_http_start(ev_loop *loop, const char *host, int port, const admin_http_routes *rt,
                     admin_http **out, char *err, size_t errlen)
{
    admin_http *a = xcalloc(1, sizeof *a);
    a->rt = *rt;
    http_server_opts o = {
        .host = host && *host ? host : NULL,
        .port = port,
        .max_conns = ADMIN_HTTP_MAX_CONNS,
        .on_request = on_request,
        .arg = a,
    };
    int rc = http_server_start(loop, &o, &a->http, err, errlen);
    if (rc == 0)
        *out = a;
    else
        admin_http_free(a);
    return rc;
}

int admin_http_port(const admin_http *a)
{
    return http_server_port(a->http);
}
