/* test_sidecar_helpers.c — see test_sidecar_helpers.h. */
#include "test_sidecar_helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common.h"

/* ---- the origin ---- */

typedef struct sum {
    sco *o;
    long long bytes;
} sum;

static void sum_data(http_req *r, const char *data, size_t len, void *arg)
{
    (void)r;
    (void)data;
    ((sum *)arg)->bytes += (long long)len;
}

static void sum_end(http_req *r, int err, void *arg)
{
    sum *s = arg;
    if (err < 0) {
        http_req_release(r);
        return;
    }
    char text[32];
    int n = snprintf(text, sizeof text, "%lld", s->bytes);
    http_respond(r, 200, "text/plain", text, (size_t)n);
}

static void field_line(buf_t *b, const http_request *h, const char *name)
{
    const http_header *f = http_header_find(h->headers, h->nheaders, name);
    buf_appendf(b, "%s=%.*s\n", name, f ? (int)f->value.len : 0, f ? f->value.p : "");
}

static void sco_handle(http_req *r, void *arg)
{
    sco *o = arg;
    const http_request *h = http_req_head(r);
    o->requests++;
    if (h->path.len >= 5 && memcmp(h->path.p, "/hold", 5) == 0 && o->held_n < SCO_HELD_MAX) {
        o->held[o->held_n++] = r;
    } else if (h->path.len >= 4 && memcmp(h->path.p, "/sum", 4) == 0) {
        sum *s = pool_zalloc(http_req_pool(r), sizeof *s);
        s->o = o;
        http_req_read_body(r, sum_data, sum_end, s);
    } else if (h->path.len >= 4 && memcmp(h->path.p, "/hdr", 4) == 0) {
        buf_t b;
        buf_init(&b, 1 << 16);
        field_line(&b, h, "X-Forwarded-For");
        field_line(&b, h, "X-Forwarded-Proto");
        field_line(&b, h, "Foo");
        field_line(&b, h, "Connection");
        field_line(&b, h, "Upgrade");
        buf_appendf(&b, "host=%.*s\n", (int)h->host.len, h->host.p);
        http_res_header(r, "Connection", "foo");
        http_res_header(r, "Foo", "must-go");
        http_res_header(r, "Keep-Alive", "timeout=5");
        http_respond(r, 200, "text/plain", buf_data(&b), buf_len(&b));
        buf_free(&b);
    } else {
        http_req_read_body(r, sum_data, sum_end, pool_zalloc(http_req_pool(r), sizeof(sum)));
    }
}

sco *sco_start(ev_loop *loop)
{
    sco *o = xcalloc(1, sizeof *o);
    char err[256];
    o->loop = loop;
    http_server_opts so = { .host = "127.0.0.1", .stream_bodies = true, .on_request = sco_handle,
                            .arg = o };
    so.limits.body_max = HTTP_BODY_UNLIMITED;
    if (http_server_start(loop, &so, &o->s, err, sizeof err) < 0) {
        fprintf(stderr, "    origin: %s\n", err);
        free(o);
        return NULL;
    }
    o->port = http_server_port(o->s);
    return o;
}

void sco_release(sco *o)
{
    for (int i = 0; i < o->held_n; i++)
        http_respond(o->held[i], 200, "text/plain", "released\n", 9);
    o->held_n = 0;
}

void sco_stop(sco *o)
{
    if (!o)
        return;
    sco_release(o);
    http_server_free(o->s);
    free(o);
}

/* ---- the sidecar ---- */

bool sc_start(sc_env *e, int upstream_port, const char *rules_json, const char *extra_flags)
{
    memset(e, 0, sizeof *e);
    const char *dir = getenv("LIFTOFF_BIN");
    char bin[1024];
    snprintf(bin, sizeof bin, "%s/liftoff-sidecar", dir ? dir : "bin");
    if (access(bin, X_OK) != 0) {
        fprintf(stderr, "    %s not found (LIFTOFF_BIN)\n", bin);
        return false;
    }
    e->admin = peer_free_port();
    char *cfg = NULL;
    if (rules_json) {
        char tmpl[] = "/tmp/liftoff-sidecar-rules.XXXXXX";
        int fd = mkstemp(tmpl);
        if (fd < 0)
            return false;
        size_t n = strlen(rules_json);
        bool ok = write(fd, rules_json, n) == (ssize_t)n;
        close(fd);
        if (!ok)
            return false;
        e->config = xstrdup(tmpl);
        cfg = xasprintf("--config %s", tmpl);
    }
    char *cmd = xasprintf("exec '%s' --listen 127.0.0.1:%%PORT%% --upstream 127.0.0.1:%d "
                          "--admin 127.0.0.1:%d --log-level warn --drain-delay 0 %s %s",
                          bin, upstream_port, e->admin, cfg ? cfg : "",
                          extra_flags ? extra_flags : "");
    const char *argv[] = { "sh", "-c", cmd, NULL };
    e->sc = peer_spawn("sidecar", argv, 1);
    free(cmd);
    free(cfg);
    if (!e->sc) {
        sc_stop(e);
        return false;
    }
    e->port = peer_port(e->sc);
    return true;
}

void sc_stop(sc_env *e)
{
    peer_stop(e->sc);
    if (e->config) {
        unlink(e->config);
        free(e->config);
    }
    memset(e, 0, sizeof *e);
}

/* ---- waiting ---- */

bool sc_wait(ev_loop *loop, bool (*cond)(void *arg), void *arg, int timeout_ms)
{
    uint64_t end = lo_mono_ms() + (uint64_t)timeout_ms;
    while (!cond(arg)) {
        if (lo_mono_ms() >= end)
            return false;
        ev_run_once(loop, 10);
    }
    return true;
}

static bool has_head(void *arg)
{
    rawc *r = arg;
    return r->eof || r->err || rawc_has(r, "\r\n\r\n");
}

static bool has_eof(void *arg)
{
    rawc *r = arg;
    return r->eof || r->err;
}

bool sc_wait_head(ev_loop *loop, rawc *r, int timeout_ms)
{
    return sc_wait(loop, has_head, r, timeout_ms) && rawc_has(r, "\r\n\r\n");
}

bool sc_wait_eof(ev_loop *loop, rawc *r, int timeout_ms)
{
    return sc_wait(loop, has_eof, r, timeout_ms);
}

int sc_status(rawc *r)
{
    const char *t = rawc_text(r);
    int st;
    if (sscanf(t, "HTTP/1.%*d %d", &st) != 1)
        return -1;
    return st;
}

bool sc_field(rawc *r, const char *name, char *out, size_t len)
{
    const char *t = rawc_text(r);
    const char *end = strstr(t, "\r\n\r\n");
    size_t nl = strlen(name);
    for (const char *p = strstr(t, "\r\n"); p && (!end || p < end); p = strstr(p + 2, "\r\n")) {
        const char *f = p + 2;
        if (strncasecmp(f, name, nl) == 0 && f[nl] == ':') {
            f += nl + 1;
            while (*f == ' ')
                f++;
            const char *e = strstr(f, "\r\n");
            size_t n = e ? (size_t)(e - f) : strlen(f);
            if (n >= len)
                n = len - 1;
            memcpy(out, f, n);
            out[n] = 0;
            return true;
        }
    }
    return false;
}
