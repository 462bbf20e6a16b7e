/* proxy.c — the request path: route rule, admission (limiter), the
 * upstream exchange with both bodies streamed under back-pressure, response
 * header rewriting (hop-by-hop, Cache-Control, X-Liftoff-Factor), and the
 * error answers (502, 503, 504). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "cacheable.h"
#include "cachectl.h"
#include "coalesce.h"
#include "common.h"
#include "log.h"
#include "pool.h"
#include "service_int.h"
#include "tunnel.h"

typedef struct px {
    sidecar_service *svc;
    http_req *r;
    http_creq *q;
    const sidecar_rule *rule; /* &rule_copy or NULL */
    sidecar_rule rule_copy;   /* the rules may be replaced while p is live */
    sidecar_prio prio;
    sidecar_waiter w;         /* first member used by container_of below */
    ev_timer qtimer;
    uint64_t t0_us;
    bool holds_slot;
    bool finished;            /* r has been finished */
    bool res_started;
    bool credentials;         /* request carried Authorization or Cookie */
    /* micro-cache */
    bool use_cache;           /* GET on a microCache route (cacheable.h) */
    const char *ckey;         /* base key (pool) */
    size_t ckey_len;
    const char *cache_status; /* Cache-Status value for a response from the origin */
    sidecar_flight *flight;   /* the fill this request does, or NULL */
    sidecar_flight_waiter fw; /* waiting on another request's fill */
    bool recording;           /* copying the origin's response for the cache */
    buf_t rec_head, rec_body;
    int rec_status;
    const char *rec_vary;     /* the response's Vary (pool), or NULL */
    sidecar_store_out rec_so;
    sidecar_cache_entry *stale; /* a stale entry for stale-if-error, or NULL */
} px;

#define PX_OF_FW(wp) ((px *)((char *)(wp) - offsetof(px, fw)))

#define PX_OF_WAITER(wp) ((px *)((char *)(wp) - offsetof(px, w)))

/* Fields that belong to one connection (RFC 9110 §7.6.1) and framing the
 * core writes itself. Runs for every field of every message: the length
 * rules out all but one or two names before any byte is compared. */
static bool is_hop_name(http_str name)
{
    switch (name.len) {
    case 2:
        return http_str_ieq(name, "te");
    case 4:
        return http_str_ieq(name, "host");
    case 6:
        return http_str_ieq(name, "expect");
    case 7:
        return http_str_ieq(name, "trailer") || http_str_ieq(name, "upgrade");
    case 10:
        return http_str_ieq(name, "connection") || http_str_ieq(name, "keep-alive");
    case 14:
        return http_str_ieq(name, "content-length");
    case 16:
        return http_str_ieq(name, "proxy-connection");
    case 17:
        return http_str_ieq(name, "transfer-encoding");
    case 18:
        return http_str_ieq(name, "proxy-authenticate");
    case 19:
        return http_str_ieq(name, "proxy-authorization");
    default:
        return false;
    }
}

/* True if a Connection field of hs names a field that is not hop-by-hop
 * anyway ("Connection: keep-alive" names none): only then must each field
 * be looked up in those lists. Once per message. */
static bool conn_names_fields(const http_header *hs, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (hs[i].name.len != 10 || !http_str_ieq(hs[i].name, "connection"))
            continue;
        if (http_str_ieq(hs[i].value, "keep-alive")) /* the usual value, at a glance */
            continue;
        size_t pos = 0;
        http_str tok;
        while (http_list_next_item(hs[i].value, &pos, &tok))
            if (!is_hop_name(tok))
                return true;
    }
    return false;
}

/* True if a Connection field of hs names name. */
static __attribute__((noinline)) bool conn_named(http_str name, const http_header *hs, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (hs[i].name.len != 10 || !http_str_ieq(hs[i].name, "connection"))
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

/* is_hop_name(), and every field a Connection field names (conn_names:
 * what conn_names_fields() said of hs). Per field of every message: the
 * rare look into the Connection fields is out of line. */
static inline bool is_hop(http_str name, const http_header *hs, unsigned n, bool conn_names)
{
    return is_hop_name(name) || (conn_names && conn_named(name, hs, n));
}

/* The factor as "%.2f", formatted again only when it changes. */
static http_str factor_text(double f)
{
    static double last = -1;
    static char text[32];
    static size_t len;
    if (f != last) {
        int n = snprintf(text, sizeof text, "%.2f", f);
        len = n > 0 ? LO_MIN((size_t)n, sizeof text - 1) : 0;
        last = f;
    }
    return (http_str){ text, len };
}

static void count_status(sidecar_service *svc, int status)
{
    int c = status / 100;
    sidecar_obs_request(&svc->obs);
    metrics_counter_inc(svc->req_by_class[c >= 1 && c <= 5 ? c : 0]);
}

static void record_abandon(px *p);
static void record_store(px *p);
static bool serve_stale(px *p);

static void drop_stale(px *p)
{
    sidecar_cache_unref(p->stale);
    p->stale = NULL;
}
static void fill_done(px *p);

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
    sidecar_flight_leave(&p->fw);
    record_abandon(p);
    fill_done(p);
    drop_stale(p);
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
    if (serve_stale(p))
        return; /* stale content rather than a 503 */
    metrics_counter_inc(svc->shed[p->prio][why]);
    sidecar_obs_shed(&svc->obs);
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

/* Sends the response head: the origin's fields (from the upstream or the
 * cache) less hop-by-hop ones and Date, Cache-Control decided by the rule
 * and the factor, X-Liftoff-Factor, and the cache's Age / Cache-Status when
 * given. 0, or -1 when the request was finished instead. */
static int send_head(px *p, int status, const http_header *hs, unsigned n, int64_t len,
                     const char *age, const char *cache_status)
{
    sidecar_service *svc = p->svc;
    bool app_cc = false, set_cookie = false;
    for (unsigned i = 0; i < n; i++) {
        const http_header *h = &hs[i];
        if (h->name.len == 13 && http_str_ieq(h->name, "cache-control"))
            app_cc = true;
        else if (h->name.len == 10 && http_str_ieq(h->name, "set-cookie"))
            set_cookie = true;
    }
    char cc[SIDECAR_CC_MAX];
    sidecar_cc_in in = {
        .rule = p->rule, .factor = sidecar_service_factor(svc), .status = status,
        .app = hs, .napp = n, .app_cc = app_cc, .set_cookie = set_cookie,
        .req_credentials = p->credentials,
        .jitter_u = (double)lo_rand_below(2000001) / 1e6 - 1.0,
    };
    bool replace_cc = sidecar_cc_decide(&in, cc, sizeof cc) == 1;
    bool conn_names = conn_names_fields(hs, n);
    for (unsigned i = 0; i < n; i++) {
        const http_header *h = &hs[i];
        if (is_hop(h->name, hs, n, conn_names) || http_str_ieq(h->name, "date") ||
            http_str_ieq(h->name, "age") ||
            (replace_cc && http_str_ieq(h->name, "cache-control")))
            continue;
        /* parsed from the upstream's head (or stored from one) */
        http_res_header_parsed(p->r, h);
    }
    /* Both values are made here of literals and numbers: no byte of them
     * needs checking, as for the fields of a parsed head. */
    if (replace_cc) {
        http_header f = { { "Cache-Control", 13 }, { cc, strlen(cc) } };
        http_res_header_parsed(p->r, &f);
    }
    http_header fh = { { "X-Liftoff-Factor", 16 }, factor_text(in.factor) };
    http_res_header_parsed(p->r, &fh);
    if (age)
        http_res_header(p->r, "Age", age);
    if (cache_status)
        http_res_header(p->r, "Cache-Status", cache_status);
    if (svc->draining) /* keep-alive clients leave before the listener closes */
        http_res_header(p->r, "Connection", "close");
    p->res_started = true;
    count_status(svc, status);
    if (http_res_start(p->r, status, len) < 0) {
        px_finish_error(p, 0, "");
        return -1;
    }
    return 0;
}

/* The origin's response is storable: start copying it (head now, body as
 * it streams). Not storable: a hit-for-miss marker, and the waiters go. */
static void record_begin(px *p, const http_response *res)
{
    sidecar_service *svc = p->svc;
    sidecar_store_in si = { .rule = p->rule, .status = res->status,
                            .headers = res->headers, .nheaders = res->nheaders };
    if (sidecar_cache_storable(&si, &p->rec_so) != 1) {
        sidecar_cache_put_hfm(svc->cache, p->ckey, p->ckey_len, ev_now(svc->loop),
                              SIDECAR_HFM_MS);
        p->recording = false;
        fill_done(p);
        return;
    }
    buf_init(&p->rec_head, svc->cache_entry_max);
    buf_init(&p->rec_body, svc->cache_entry_max);
    p->rec_status = res->status;
    bool conn_names = conn_names_fields(res->headers, res->nheaders);
    for (unsigned i = 0; i < res->nheaders; i++) {
        const http_header *h = &res->headers[i];
        if (is_hop(h->name, res->headers, res->nheaders, conn_names) ||
            http_str_ieq(h->name, "date"))
            continue;
        if (http_str_ieq(h->name, "vary"))
            p->rec_vary = pool_strndup(http_req_pool(p->r), h->value.p, h->value.len);
        if (buf_append(&p->rec_head, h->name.p, h->name.len) < 0 ||
            buf_append(&p->rec_head, ": ", 2) < 0 ||
            buf_append(&p->rec_head, h->value.p, h->value.len) < 0 ||
            buf_append(&p->rec_head, "\r\n", 2) < 0) {
            record_abandon(p);
            return;
        }
    }
}

/* The upstream switched protocols: the handshake is over (the slot goes)
 * and the tunnel takes both connections (tunnel.h). */
static void px_tunnel(px *p, http_creq *q, const http_response *res)
{
    release_slot(p, (int64_t)(lo_mono_us() - p->t0_us));
    p->finished = true;
    p->q = NULL;
    sidecar_tunnel_start(p->svc, p->r, q, res);
}

static void on_up_head(http_creq *q, const http_response *res, void *ud)
{
    (void)q;
    px *p = ud;
    sidecar_service *svc = p->svc;
    svc->upstream_seen = true;
    if (p->finished)
        return;
    if (res->status >= 500 && serve_stale(p))
        return;
    if (res->status == 101 && http_req_head(p->r)->upgrade) {
        px_tunnel(p, q, res);
        return;
    }
    if (p->recording)
        record_begin(p, res);
    int64_t len = -1;
    if (res->f.body == HTTP_BODY_LENGTH) {
        len = (int64_t)res->f.content_length;
    } else if (res->f.body == HTTP_BODY_NONE) {
        len = 0;
        const http_header *clh;
        if (http_req_head(p->r)->meth == HTTP_M_HEAD &&
            (clh = http_header_find(res->headers, res->nheaders, "content-length")))
            len = strtoll(pool_strndup(http_req_pool(p->r), clh->value.p, clh->value.len), NULL,
                          10);
    }
    if (send_head(p, res->status, res->headers, res->nheaders, len, NULL, p->cache_status) < 0)
        return;
    http_res_on_drain(p->r, on_res_drain, p);
}

static void on_up_data(http_creq *q, const char *data, size_t len, void *ud)
{
    px *p = ud;
    if (p->finished)
        return;
    if (p->recording && buf_append(&p->rec_body, data, len) < 0)
        record_abandon(p); /* larger than an entry may be */
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
        sidecar_obs_latency(&svc->obs, (uint64_t)lat);
        release_slot(p, lat);
        p->finished = true;
        if (p->recording)
            record_store(p);
        fill_done(p);
        drop_stale(p);
        http_res_end(p->r);
        return;
    }
    if (!p->res_started && serve_stale(p))
        return;
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
    http_header *out = pool_alloc(pl, (h->nheaders + 3) * sizeof *out);
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
    bool conn_names = conn_names_fields(h->headers, h->nheaders);
    for (unsigned i = 0; i < h->nheaders && n < SIDECAR_HEADERS_OUT_MAX; i++) {
        const http_header *f = &h->headers[i];
        if (is_hop(f->name, h->headers, h->nheaders, conn_names) &&
            !(h->upgrade && http_str_ieq(f->name, "upgrade")))
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
    if (h->upgrade) /* the tunnel takes over after a 101 (tunnel.h) */
        out[n++] = (http_header){ { "Connection", 10 }, { "upgrade", 7 } };

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
        .parsed = true, /* the client's request, the peer's address, literals */
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

/* ---- the micro-cache (cache.h, cacheable.h, coalesce.h) ---- */

static void record_abandon(px *p)
{
    if (!p->recording)
        return;
    p->recording = false;
    buf_free(&p->rec_head);
    buf_free(&p->rec_body);
}

/* The whole response came: store it (and, with Vary, the index entry at
 * the base key naming the fields the variants differ by). */
static void record_store(px *p)
{
    sidecar_service *svc = p->svc;
    uint64_t now = ev_now(svc->loop);
    uint64_t fresh = (uint64_t)p->rec_so.ttl_s * 1000u;
    uint64_t swr = (uint64_t)p->rec_so.swr_s * 1000u, sie = (uint64_t)p->rec_so.sie_s * 1000u;
    const char *key = p->ckey;
    size_t key_len = p->ckey_len;
    buf_t vk;
    buf_init(&vk, SIDECAR_CACHE_KEY_MAX);
    if (p->rec_vary) {
        http_str v = { p->rec_vary, strlen(p->rec_vary) };
        if (buf_append(&vk, p->ckey, p->ckey_len) < 0 ||
            sidecar_cache_key_vary(http_req_head(p->r), v, &vk) < 0)
            goto out;
        /* index: status 0, head = the Vary value */
        sidecar_cache_put(svc->cache, p->ckey, p->ckey_len, 0, v.p, v.len, "", 0, now, fresh,
                          swr, sie);
        key = buf_data(&vk);
        key_len = buf_len(&vk);
    }
    sidecar_cache_put(svc->cache, key, key_len, p->rec_status, buf_data(&p->rec_head),
                      buf_len(&p->rec_head), buf_data(&p->rec_body), buf_len(&p->rec_body), now,
                      fresh, swr, sie);
out:
    buf_free(&vk);
    record_abandon(p);
}

/* Looks the request up (through a Vary index when there is one). */
static sidecar_cache_state cache_lookup(px *p, sidecar_cache_entry **out)
{
    sidecar_service *svc = p->svc;
    uint64_t now = ev_now(svc->loop);
    sidecar_cache_state st = sidecar_cache_get(svc->cache, p->ckey, p->ckey_len, now, out);
    if (st == SIDECAR_CACHE_MISS || st == SIDECAR_CACHE_HFM || (*out)->status != 0)
        return st;
    buf_t vk;
    buf_init(&vk, SIDECAR_CACHE_KEY_MAX);
    http_str v = { (*out)->head, (*out)->head_len };
    sidecar_cache_unref(*out);
    *out = NULL;
    st = SIDECAR_CACHE_MISS;
    if (buf_append(&vk, p->ckey, p->ckey_len) == 0 &&
        sidecar_cache_key_vary(http_req_head(p->r), v, &vk) == 0)
        st = sidecar_cache_get(svc->cache, buf_data(&vk), buf_len(&vk), now, out);
    buf_free(&vk);
    return st;
}

/* Answers from the entry e; finishes the request. */
static void serve_entry(px *p, const sidecar_cache_entry *e, const char *cache_status)
{
    sidecar_service *svc = p->svc;
    pool *pl = http_req_pool(p->r);
    /* the stored head: "Name: value\r\n" lines */
    unsigned n = 0, cap = 0;
    for (const char *c = e->head; *c; c++)
        cap += *c == '\n';
    http_header *hs = pool_alloc(pl, (cap + 1) * sizeof *hs);
    for (const char *c = e->head, *nl; n < cap && (nl = strstr(c, "\r\n")); c = nl + 2) {
        const char *colon = memchr(c, ':', (size_t)(nl - c));
        if (!colon)
            continue;
        const char *v = colon + 1;
        while (v < nl && *v == ' ')
            v++;
        hs[n++] = (http_header){ { c, (size_t)(colon - c) }, { v, (size_t)(nl - v) } };
    }
    uint64_t now = ev_now(svc->loop);
    char age[24];
    snprintf(age, sizeof age, "%" PRIu64, (now - e->stored_ms) / 1000u);
    if (send_head(p, e->status, hs, n, (int64_t)e->body_len, age, cache_status) < 0)
        return;
    p->finished = true;
    if (http_res_write(p->r, e->body, e->body_len) < 0) {
        http_req_release(p->r);
        return;
    }
    http_res_end(p->r);
}

/* stale-if-error: the origin failed (5xx, 502/504) or the request would
 * be refused, and a stale copy is there: answer with it. */
static bool serve_stale(px *p)
{
    sidecar_service *svc = p->svc;
    if (!p->stale || p->finished || p->res_started ||
        ev_now(svc->loop) >= p->stale->sie_until_ms)
        return false;
    ev_timer_stop(svc->loop, &p->qtimer);
    sidecar_limiter_unqueue(&svc->lim, &p->w, ev_now(svc->loop));
    if (p->q) {
        http_creq_cancel(p->q);
        p->q = NULL;
    }
    release_slot(p, -1);
    record_abandon(p);
    fill_done(p);
    sidecar_cache_entry *e = p->stale;
    p->stale = NULL;
    serve_entry(p, e, "liftoff; hit; fwd=stale; detail=stale-if-error");
    sidecar_cache_unref(e);
    return true;
}

static void admit(px *p);

/* A fill is over: every waiter looks again, and goes to the origin when
 * it finds nothing fresh. Ends f. */
void sidecar_proxy_flight_finish(sidecar_service *svc, sidecar_flight *f)
{
    sidecar_flight_waiter *w;
    while ((w = sidecar_flight_pop(f))) {
        px *n = PX_OF_FW(w);
        ev_timer_stop(n->svc->loop, &n->qtimer);
        sidecar_cache_entry *e = NULL;
        if (cache_lookup(n, &e) == SIDECAR_CACHE_FRESH) {
            serve_entry(n, e, "liftoff; hit; detail=collapsed");
        } else {
            n->cache_status = "liftoff; fwd=miss; detail=collapsed";
            admit(n);
        }
        sidecar_cache_unref(e);
    }
    sidecar_flight_end(&svc->flights, f);
}

/* The fill p did (or gave up) is over. */
static void fill_done(px *p)
{
    sidecar_flight *f = p->flight;
    if (!f)
        return;
    p->flight = NULL;
    sidecar_proxy_flight_finish(p->svc, f);
}

static void on_fill_wait_timeout(ev_loop *loop, ev_timer *t, void *arg)
{
    (void)loop;
    (void)t;
    px *p = arg;
    sidecar_flight_leave(&p->fw);
    p->cache_status = "liftoff; fwd=miss; detail=wait-timeout";
    admit(p);
}

/* Cache first: true when p is answered or waiting on a fill, false when it
 * goes to the origin (as the filler of its key, or past the cache). */
static bool cache_begin(px *p)
{
    sidecar_service *svc = p->svc;
    const http_request *h = http_req_head(p->r);
    if ((h->meth != HTTP_M_GET && h->meth != HTTP_M_HEAD) ||
        !sidecar_cache_request_ok(p->rule, h))
        return false;
    buf_t k;
    buf_init(&k, SIDECAR_CACHE_KEY_MAX);
    if (sidecar_cache_key(h, &k) < 0) {
        buf_free(&k);
        return false;
    }
    p->ckey = pool_strndup(http_req_pool(p->r), buf_data(&k), buf_len(&k));
    p->ckey_len = buf_len(&k);
    buf_free(&k);
    sidecar_cache_entry *e = NULL;
    bool done = false;
    switch (cache_lookup(p, &e)) {
    case SIDECAR_CACHE_FRESH:
        serve_entry(p, e, "liftoff; hit");
        done = true;
        break;
    case SIDECAR_CACHE_HFM:
        p->cache_status = "liftoff; fwd=uri-miss; detail=hit-for-miss";
        break;
    case SIDECAR_CACHE_STALE:
        if (ev_now(svc->loop) < e->swr_until_ms) {
            /* stale-while-revalidate: answer now, one refresh per key */
            int rc = sidecar_refresh_start(svc, p->rule, h, p->ckey, p->ckey_len);
            serve_entry(p, e, rc == 0 ? "liftoff; hit; fwd=stale; detail=revalidating"
                                      : "liftoff; hit; fwd=stale");
            done = true;
            break;
        }
        p->stale = e; /* kept for stale-if-error */
        e = NULL;
        /* fall through */
    case SIDECAR_CACHE_MISS: {
        sidecar_flight *f = sidecar_flight_find(&svc->flights, p->ckey, p->ckey_len);
        if (f) {
            sidecar_flight_wait(f, &p->fw);
            ev_timer_init(&p->qtimer, on_fill_wait_timeout, p);
            ev_timer_start(svc->loop, &p->qtimer, SIDECAR_COALESCE_WAIT_MS);
            done = true;
            break;
        }
        p->cache_status = "liftoff; fwd=miss";
        if (h->meth == HTTP_M_HEAD)
            break; /* a HEAD fills nothing: no body to store */
        p->flight = sidecar_flight_begin(&svc->flights, p->ckey, p->ckey_len);
        p->recording = p->flight != NULL;
        break;
    }
    }
    sidecar_cache_unref(e);
    return done;
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
    const sidecar_rule *rule = sidecar_rules_match(&svc->rules, h->path.p, h->path.len);
    if (rule) {
        p->rule_copy = *rule;
        p->rule_copy.prefix = p->rule_copy.glob = NULL; /* owned by svc->rules */
        p->rule = &p->rule_copy;
    }
    p->prio = p->rule ? p->rule->prio : SIDECAR_PRIO_NORMAL;
    p->credentials = http_header_find(h->headers, h->nheaders, "authorization") != NULL ||
                     http_header_find(h->headers, h->nheaders, "cookie") != NULL;
    if (cache_begin(p))
        return;
    admit(p);
}

/* Admission to the upstream (limiter), then the exchange. */
static void admit(px *p)
{
    sidecar_service *svc = p->svc;
    ev_timer_init(&p->qtimer, on_queue_timeout, p);
    sidecar_shed_reason why = SIDECAR_SHED_OVERLOAD;
    switch (sidecar_limiter_admit(&svc->lim, p->prio, sidecar_service_factor(svc), &p->w, ev_now(svc->loop),
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
