/* refresh.c — background refreshes of micro-cache entries
 * (stale-while-revalidate): one upstream GET per key, not tied to a
 * client; the result is stored like a client's fill and wakes the
 * requests waiting on it. They do not take a limiter slot. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cacheable.h"
#include "common.h"
#include "service_int.h"

#define REFRESH_HEADERS_MAX 64   /* request fields kept for Vary */

typedef struct sidecar_refresh {
    sidecar_service *svc;
    struct sidecar_refresh *prev, *next;
    http_creq *q;
    sidecar_flight *flight;
    sidecar_rule rule;            /* copy; prefix / glob NULL */
    char *key;
    size_t key_len;
    /* the request, for the Vary key: owned copies */
    char *method, *host, *path;
    http_header hs[REFRESH_HEADERS_MAX];
    unsigned nhs;
    buf_t head, body;
    int status;
    bool storable;
    char *vary;
    sidecar_store_out so;
} sidecar_refresh;

static void refresh_free(sidecar_refresh *f)
{
    sidecar_service *svc = f->svc;
    if (f->prev)
        f->prev->next = f->next;
    else
        svc->refreshes = f->next;
    if (f->next)
        f->next->prev = f->prev;
    for (unsigned i = 0; i < f->nhs; i++) {
        free((char *)f->hs[i].name.p);
        free((char *)f->hs[i].value.p);
    }
    buf_free(&f->head);
    buf_free(&f->body);
    free(f->key);
    free(f->method);
    free(f->host);
    free(f->path);
    free(f->vary);
    free(f);
}

static void on_head(http_creq *q, const http_response *res, void *ud)
{
    (void)q;
    sidecar_refresh *f = ud;
    sidecar_store_in si = { .rule = &f->rule, .status = res->status,
                            .headers = res->headers, .nheaders = res->nheaders };
    f->status = res->status;
    f->storable = sidecar_cache_storable(&si, &f->so) == 1;
    for (unsigned i = 0; f->storable && i < res->nheaders; i++) {
        const http_header *h = &res->headers[i];
        if (http_str_ieq(h->name, "connection") || http_str_ieq(h->name, "keep-alive") ||
            http_str_ieq(h->name, "transfer-encoding") || http_str_ieq(h->name, "content-length") ||
            http_str_ieq(h->name, "date"))
            continue;
        if (http_str_ieq(h->name, "vary") && !f->vary) {
            f->vary = xmalloc(h->value.len + 1);
            memcpy(f->vary, h->value.p, h->value.len);
            f->vary[h->value.len] = 0;
        }
        if (buf_append(&f->head, h->name.p, h->name.len) < 0 || buf_append(&f->head, ": ", 2) < 0 ||
            buf_append(&f->head, h->value.p, h->value.len) < 0 ||
            buf_append(&f->head, "\r\n", 2) < 0)
            f->storable = false;
    }
}

static void on_data(http_creq *q, const char *data, size_t len, void *ud)
{
    (void)q;
    sidecar_refresh *f = ud;
    if (f->storable && buf_append(&f->body, data, len) < 0)
        f->storable = false;
}

static void store(sidecar_refresh *f)
{
    sidecar_service *svc = f->svc;
    uint64_t now = ev_now(svc->loop);
    if (!f->storable) {
        sidecar_cache_put_hfm(svc->cache, f->key, f->key_len, now, SIDECAR_HFM_MS);
        return;
    }
    uint64_t fresh = (uint64_t)f->so.ttl_s * 1000u, swr = (uint64_t)f->so.swr_s * 1000u,
             sie = (uint64_t)f->so.sie_s * 1000u;
    if (!f->vary) {
        sidecar_cache_put(svc->cache, f->key, f->key_len, f->status, buf_data(&f->head),
                          buf_len(&f->head), buf_data(&f->body), buf_len(&f->body), now, fresh,
                          swr, sie);
        return;
    }
    http_request h = { .method = { f->method, strlen(f->method) },
                       .host = { f->host, strlen(f->host) },
                       .path = { f->path, strlen(f->path) }, .headers = f->hs, .nheaders = f->nhs };
    buf_t vk;
    buf_init(&vk, SIDECAR_CACHE_KEY_MAX);
    http_str v = { f->vary, strlen(f->vary) };
    if (buf_append(&vk, f->key, f->key_len) == 0 && sidecar_cache_key_vary(&h, v, &vk) == 0) {
        sidecar_cache_put(svc->cache, f->key, f->key_len, 0, v.p, v.len, "", 0, now, fresh, swr,
                          sie);
        sidecar_cache_put(svc->cache, buf_data(&vk), buf_len(&vk), f->status, buf_data(&f->head),
                          buf_len(&f->head), buf_data(&f->body), buf_len(&f->body), now, fresh,
                          swr, sie);
    }
    buf_free(&vk);
}

static void on_done(http_creq *q, int err, void *ud)
{
    (void)q;
    sidecar_refresh *f = ud;
    f->q = NULL;
    if (err == 0)
        store(f); /* on errors the stale entry stays for stale-if-error */
    sidecar_flight *fl = f->flight;
    f->flight = NULL;
    sidecar_service *svc = f->svc;
    refresh_free(f);
    sidecar_proxy_flight_finish(svc, fl);
}

static char *dupn(const char *p, size_t n)
{
    char *d = xmalloc(n + 1);
    memcpy(d, p, n);
    d[n] = 0;
    return d;
}

int sidecar_refresh_start(sidecar_service *svc, const sidecar_rule *rule,
                          const http_request *h, const char *key, size_t key_len)
{
    if (!svc->cl)
        return -EAGAIN;
    if (sidecar_flight_find(&svc->flights, key, key_len))
        return -EALREADY;
    sidecar_flight *fl = sidecar_flight_begin(&svc->flights, key, key_len);
    if (!fl)
        return -EAGAIN;
    sidecar_refresh *f = xcalloc(1, sizeof *f);
    f->svc = svc;
    f->flight = fl;
    f->rule = *rule;
    f->rule.prefix = f->rule.glob = NULL;
    f->key = dupn(key, key_len);
    f->key_len = key_len;
    f->method = dupn(h->method.p, h->method.len);
    f->host = dupn(h->host.p, h->host.len);
    f->path = dupn(h->path.p, h->path.len);
    /* end-to-end fields the origin may vary on (no credentials: the
     * request had none, cacheable.h) */
    for (unsigned i = 0; i < h->nheaders && f->nhs < REFRESH_HEADERS_MAX; i++) {
        const http_header *x = &h->headers[i];
        if (http_str_ieq(x->name, "host") || http_str_ieq(x->name, "connection") ||
            http_str_ieq(x->name, "content-length") || http_str_ieq(x->name, "transfer-encoding") ||
            http_str_ieq(x->name, "cache-control") || http_str_ieq(x->name, "if-none-match") ||
            http_str_ieq(x->name, "if-modified-since"))
            continue;
        f->hs[f->nhs++] = (http_header){ { dupn(x->name.p, x->name.len), x->name.len },
                                         { dupn(x->value.p, x->value.len), x->value.len } };
    }
    buf_init(&f->head, svc->cache_entry_max);
    buf_init(&f->body, svc->cache_entry_max);
    f->next = svc->refreshes;
    if (svc->refreshes)
        svc->refreshes->prev = f;
    svc->refreshes = f;
    http_client_req o = {
        .method = "GET", .host = svc->upstream_host, .port = svc->set.upstream_port,
        .target = f->path, .host_header = f->host[0] ? f->host : NULL,
        .headers = f->hs, .nheaders = f->nhs,
        .on_head = on_head, .on_data = on_data, .on_done = on_done, .ud = f,
    };
    if (http_client_request(svc->cl, &o, &f->q) < 0) {
        f->q = NULL;
        f->flight = NULL;
        refresh_free(f);
        sidecar_proxy_flight_finish(svc, fl);
        return -EAGAIN;
    }
    return 0;
}

void sidecar_refresh_cancel_all(sidecar_service *svc)
{
    while (svc->refreshes) {
        sidecar_refresh *f = svc->refreshes;
        if (f->q)
            http_creq_cancel(f->q);
        sidecar_flight *fl = f->flight;
        refresh_free(f);
        if (fl)
            sidecar_proxy_flight_finish(svc, fl);
    }
}
