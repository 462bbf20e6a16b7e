/* test_ingest_loadgen.c — signed webhook load over keep-alive connections
 * (see test_ingest_loadgen.h). */
#include "test_ingest_loadgen.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "common.h"
#include "conn.h"
#include "ev.h"

#define LG_REQ_MAX 4096
#define LG_IN_MAX 65536
#define LG_RECONNECT_MS 20

typedef struct lg lg;

typedef struct lg_conn {
    lg *g;
    conn *c;
    int idx;
    bool busy;          /* a request is in flight */
    uint64_t n;         /* its event */
    uint64_t t0_us;
    size_t in_len;
    char in[LG_IN_MAX];
    ev_timer retry;     /* reconnect */
} lg_conn;

struct lg {
    const lg_opts *o;
    lg_stats *st;
    ev_loop *loop;
    EVP_MAC *mac;
    EVP_MAC_CTX *mac_ctx;
    int64_t created_s;
    uint64_t next_n;
    uint64_t *retry_q;  /* events to send again */
    size_t retry_len, retry_cap;
    uint64_t start_us, end_ms;
    char head[LG_REQ_MAX];      /* request head up to "Content-Length: " */
    size_t head_len, sig_off;   /* its length; where the 64 hex digits go */
    bool stopping;
    int busy;
    ev_timer tick;
    lg_conn *conns;
};

static void lg_connect(lg_conn *lc);

size_t lg_body(const char *id_prefix, uint64_t n, int64_t created_s, char *buf, size_t len)
{
    int w = snprintf(buf, len,
                     "{\"id\":\"%s-%llu\",\"event_type\":\"upvote\",\"created_at\":%lld,"
                     "\"data\":{\"post_id\":\"launch-post\",\"voter\":\"u%llu\",\"n\":%llu}}",
                     id_prefix, (unsigned long long)n, (long long)created_s,
                     (unsigned long long)(n % 100000), (unsigned long long)n);
    return w > 0 && (size_t)w < len ? (size_t)w : 0;
}

/* Writes the 64 hex digits (no NUL) of body's signature at hex. */
static void sign(lg *g, const char *body, size_t len, char *hex)
{
    static const char d[] = "0123456789abcdef";
    uint8_t mac[32];
    size_t outl = 0;
    EVP_MAC_init(g->mac_ctx, NULL, 0, NULL);
    EVP_MAC_update(g->mac_ctx, (const uint8_t *)body, len);
    EVP_MAC_final(g->mac_ctx, mac, &outl, sizeof(mac));
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = d[mac[i] >> 4];
        hex[2 * i + 1] = d[mac[i] & 15];
    }
}

static bool more_to_send(const lg *g)
{
    if (g->stopping)
        return false;
    if (g->retry_len > 0)
        return true;
    return g->o->requests == 0 || g->next_n < g->o->requests;
}

static void send_next(lg_conn *lc)
{
    lg *g = lc->g;
    char body[1024], req[LG_REQ_MAX];
    if (!more_to_send(g) || !lc->c || lc->busy)
        return;
    lc->n = g->retry_len > 0 ? g->retry_q[--g->retry_len] : g->next_n++;
    size_t blen = lg_body(g->o->id_prefix, lc->n, g->created_s, body, sizeof(body));
    /* The head is fixed but for the signature and the length: patch them. */
    size_t hl = g->head_len;
    memcpy(req, g->head, hl);
    sign(g, body, blen, req + g->sig_off);
    char num[24];
    int nl = snprintf(num, sizeof(num), "%zu\r\n\r\n", blen);
    memcpy(req + hl, num, (size_t)nl);
    hl += (size_t)nl;
    if (hl + blen > sizeof(req))
        abort();
    memcpy(req + hl, body, blen);
    lc->busy = true;
    g->busy++;
    lc->t0_us = lo_mono_us();
    g->st->sent++;
    if (conn_write(lc->c, req, hl + blen) < 0) {
        /* The error shows up on the next read. */
    }
}

static void finish(lg_conn *lc, int status)
{
    lg *g = lc->g;
    lc->busy = false;
    g->busy--;
    bool retry = g->o->retry_unavailable && (status == 503 || status == 0) && !g->stopping;
    if (retry) {
        if (g->retry_len == g->retry_cap) {
            g->retry_cap = g->retry_cap ? 2 * g->retry_cap : 1024;
            g->retry_q = xrealloc(g->retry_q, g->retry_cap * sizeof(*g->retry_q));
        }
        g->retry_q[g->retry_len++] = lc->n;
    } else {
        g->st->events_done++;
    }
    if (g->o->on_answer)
        g->o->on_answer(g->o->arg, lc->n, status);
}

/* Closes lc's connection and forgets what it had read. */
static void detach(lg_conn *lc)
{
    conn_close(lc->c);
    lc->c = NULL;
    lc->in_len = 0;
}

static void drop(lg_conn *lc)
{
    lg *g = lc->g;
    g->st->conn_errors++;
    detach(lc);
    if (lc->busy)
        finish(lc, 0);
    if (more_to_send(g))
        ev_timer_start(g->loop, &lc->retry, LG_RECONNECT_MS);
}

/* Parses one response at the front of lc->in: its length, 0 if incomplete,
 * -1 if garbage; *closing tells whether it said Connection: close. */
static ssize_t parse_response(lg_conn *lc, int *status, bool *closing)
{
    char *end = memmem(lc->in, lc->in_len, "\r\n\r\n", 4);
    if (!end)
        return lc->in_len >= LG_IN_MAX ? -1 : 0;
    if (lc->in_len < 12 || memcmp(lc->in, "HTTP/1.", 7) != 0)
        return -1;
    *status = atoi(lc->in + 9);
    size_t hdr = (size_t)(end - lc->in) + 4, clen = 0;
    for (char *p = lc->in; p < end;) {
        char *eol = memmem(p, (size_t)(end - p) + 2, "\r\n", 2);
        if (!eol)
            break;
        if ((size_t)(eol - p) > 15 && strncasecmp(p, "Content-Length:", 15) == 0)
            clen = strtoul(p + 15, NULL, 10);
        else if ((size_t)(eol - p) >= 17 && strncasecmp(p, "Connection:", 11) == 0 &&
                 memmem(p, (size_t)(eol - p), "close", 5))
            *closing = true;
        p = eol + 2;
    }
    if (hdr + clen > LG_IN_MAX)
        return -1;
    return lc->in_len >= hdr + clen ? (ssize_t)(hdr + clen) : 0;
}

static void record(lg *g, int status, uint64_t us)
{
    lg_stats *st = g->st;
    st->answered++;
    if (status == 200)
        st->status_200++;
    else if (status == 202)
        st->status_202++;
    else if (status == 503)
        st->status_503++;
    else if (status >= 400 && status < 500)
        st->status_4xx++;
    else
        st->status_other++;
    uint64_t b = us / LG_HIST_STEP_US;
    st->hist[b < LG_HIST_BUCKETS ? b : LG_HIST_BUCKETS - 1]++;
    st->elapsed_us = lo_mono_us() - g->start_us;
}

/* One read per call: the callback fires again while more is there, and a
 * second read right after an answer would only find EAGAIN. */
static void on_readable(conn *c, void *ud)
{
    lg_conn *lc = ud;
    lg *g = lc->g;
    ssize_t n = conn_read(c, lc->in + lc->in_len, LG_IN_MAX - lc->in_len);
    if (n == -EAGAIN)
        return;
    if (n <= 0) {
        drop(lc);
        return;
    }
    lc->in_len += (size_t)n;
    int status = 0;
    bool closing = false;
    ssize_t used;
    while ((used = parse_response(lc, &status, &closing)) > 0) {
        memmove(lc->in, lc->in + used, lc->in_len - (size_t)used);
        lc->in_len -= (size_t)used;
        if (!lc->busy) {
            drop(lc);
            return;
        }
        record(g, status, lo_mono_us() - lc->t0_us);
        finish(lc, status);
        if (closing) { /* the server's keep-alive limit: a new connection, no error */
            detach(lc);
            if (more_to_send(g))
                lg_connect(lc);
            return;
        }
        if (status == 503 && g->o->retry_unavailable)
            ev_timer_start(g->loop, &lc->retry, g->o->retry_delay_ms ? g->o->retry_delay_ms : 20);
        else
            send_next(lc);
    }
    if (used < 0)
        drop(lc);
}

static void on_connect(conn *c, int status, void *ud)
{
    lg_conn *lc = ud;
    if (status < 0) {
        drop(lc);
        return;
    }
    (void)c;
    send_next(lc);
}

static void on_error(conn *c, int err, void *ud)
{
    (void)c;
    (void)err;
    drop(ud);
}

static const conn_cbs lg_cbs = {
    .on_connect = on_connect,
    .on_readable = on_readable,
    .on_error = on_error,
};

static void lg_connect(lg_conn *lc)
{
    conn_connect_opts co = { .host = lc->g->o->host, .port = lc->g->o->port };
    if (conn_connect(lc->g->loop, &co, &lg_cbs, lc, &lc->c) < 0) {
        lc->c = NULL;
        lc->g->st->conn_errors++;
        ev_timer_start(lc->g->loop, &lc->retry, LG_RECONNECT_MS);
    }
}

/* Reconnects a dropped connection, or resumes one that paused after a 503. */
static void on_retry(ev_loop *loop, ev_timer *t, void *arg)
{
    lg_conn *lc = arg;
    (void)loop;
    (void)t;
    if (lc->c)
        send_next(lc);
    else if (more_to_send(lc->g))
        lg_connect(lc);
}

static void on_tick(ev_loop *loop, ev_timer *t, void *arg)
{
    lg *g = arg;
    uint64_t elapsed = (lo_mono_us() - g->start_us) / 1000;
    if (g->o->on_tick)
        g->o->on_tick(g->o->arg, elapsed);
    if (g->o->duration_ms && elapsed >= g->o->duration_ms)
        g->stopping = true;
    /* Idle connections pick up retried events. */
    for (int i = 0; i < g->o->conns; i++)
        if (g->conns[i].c && !g->conns[i].busy && !ev_timer_active(&g->conns[i].retry))
            send_next(&g->conns[i]);
    bool done = g->busy == 0 && !more_to_send(g);
    if (g->stopping && g->end_ms == 0)
        g->end_ms = ev_now(loop) + LG_DRAIN_MS;
    if (done || (g->end_ms && ev_now(loop) >= g->end_ms)) {
        ev_stop(loop);
        return;
    }
    ev_timer_start(loop, t, 10);
}

lg_opts lg_webhook_opts(const char *host, int port, const char *secret, int conns,
                        const char *id_prefix)
{
    return (lg_opts){
        .host = host,
        .port = port,
        .conns = conns,
        .path = "/v1/webhooks/producthunt",
        .secret = secret,
        .sig_header = "X-Producthunt-Signature",
        .sig_prefix = "sha256=",
        .id_prefix = id_prefix,
    };
}

int lg_run(const lg_opts *o, lg_stats *st)
{
    int rc = 0;
    lg g = { .o = o, .st = st };
    memset(st, 0, sizeof(*st));
    st->hist = xcalloc(LG_HIST_BUCKETS, sizeof(*st->hist));
    if (o->conns < 1 || o->conns > LG_CONNS_MAX || (!o->requests && !o->duration_ms))
        return -EINVAL;
    g.loop = ev_loop_new();
    g.mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    g.mac_ctx = g.mac ? EVP_MAC_CTX_new(g.mac) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    if (!g.mac_ctx ||
        EVP_MAC_init(g.mac_ctx, (const uint8_t *)o->secret, strlen(o->secret), params) != 1) {
        rc = -EIO;
        goto out;
    }
    g.created_s = (int64_t)(lo_wall_ms() / 1000);
    int hl = snprintf(g.head, sizeof(g.head),
                      "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
                      "%s: %s",
                      o->path, o->host, o->port, o->sig_header, o->sig_prefix);
    if (hl < 0 || (size_t)hl + 200 > sizeof(g.head)) {
        rc = -EINVAL;
        goto out;
    }
    g.sig_off = (size_t)hl;
    hl += snprintf(g.head + hl, sizeof(g.head) - (size_t)hl,
                   "%064d\r\nContent-Length: ", 0);
    g.head_len = (size_t)hl;
    g.start_us = lo_mono_us();
    g.conns = xcalloc((size_t)o->conns, sizeof(*g.conns));
    for (int i = 0; i < o->conns; i++) {
        lg_conn *lc = &g.conns[i];
        lc->g = &g;
        lc->idx = i;
        ev_timer_init(&lc->retry, on_retry, lc);
        lg_connect(lc);
    }
    ev_timer_init(&g.tick, on_tick, &g);
    ev_timer_start(g.loop, &g.tick, 10);
    ev_run(g.loop);
    ev_timer_stop(g.loop, &g.tick);
    for (int i = 0; i < o->conns; i++) {
        ev_timer_stop(g.loop, &g.conns[i].retry);
        conn_close(g.conns[i].c);
    }
    /* Let closed conns release their memory. */
    ev_run_once(g.loop, 0);
out:
    free(g.conns);
    free(g.retry_q);
    EVP_MAC_CTX_free(g.mac_ctx);
    EVP_MAC_free(g.mac);
    if (g.loop)
        ev_loop_free(g.loop);
    return rc;
}

void lg_stats_free(lg_stats *st)
{
    free(st->hist);
    st->hist = NULL;
}

uint64_t lg_percentile_us(const lg_stats *st, double q)
{
    uint64_t total = 0, seen = 0;
    for (size_t i = 0; i < LG_HIST_BUCKETS; i++)
        total += st->hist[i];
    if (total == 0)
        return 0;
    uint64_t want = (uint64_t)(q * (double)total);
    if (want >= total)
        want = total - 1;
    for (size_t i = 0; i < LG_HIST_BUCKETS; i++) {
        seen += st->hist[i];
        if (seen > want)
            return (uint64_t)(i + 1) * LG_HIST_STEP_US;
    }
    return (uint64_t)LG_HIST_BUCKETS * LG_HIST_STEP_US;
}
