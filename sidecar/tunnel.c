/* tunnel.c — the byte pipe between a client and the upstream after a 101
 * (see tunnel.h): two ends, each read into the other's output, with
 * back-pressure, half-close, an idle timeout and teardown. */
#include "tunnel.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "common.h"
#include "log.h"
#include "service_int.h"

typedef struct tun_end {
    sidecar_tunnel *t;
    conn *c;
    struct tun_end *peer;
    bool eof;     /* this side ended its stream */
    bool shut;    /* this side's write direction has been shut */
} tun_end;

struct sidecar_tunnel {
    sidecar_service *svc;
    tun_end cl, up;          /* client, upstream */
    ev_timer idle;
    uint64_t active_ms;      /* last byte in either direction */
    sidecar_tunnel *prev, *next;
};

/* Fields of the 101 head that never go to the client. */
static const char *const framing[] = {
    "content-length", "transfer-encoding", "keep-alive", "proxy-connection", "te", "trailer",
};

static void tun_free(sidecar_tunnel *t)
{
    sidecar_service *svc = t->svc;
    ev_timer_stop(svc->loop, &t->idle);
    if (t->prev)
        t->prev->next = t->next;
    else
        svc->tunnels = t->next;
    if (t->next)
        t->next->prev = t->prev;
    svc->ntunnels--;
    metrics_gauge_set(svc->g_tunnels, (double)svc->ntunnels);
    free(t);
}

/* Ends t: both conns closed (after their queued bytes when graceful). */
static void tun_end_all(sidecar_tunnel *t, bool graceful)
{
    tun_end *ends[2] = { &t->cl, &t->up };
    for (int i = 0; i < 2; i++) {
        if (graceful)
            conn_close_flush(ends[i]->c, SIDECAR_TUNNEL_CLOSE_MS);
        else
            conn_close(ends[i]->c);
        ends[i]->c = NULL;
    }
    tun_free(t);
}

/* Shuts e's write direction once its queued bytes are out (plain TCP;
 * a TLS end cannot be half-closed here, so the tunnel ends). True if
 * the tunnel is still there. */
static bool shut_write(tun_end *e)
{
    if (e->shut || conn_out_pending(e->c) > 0)
        return true;
    if (conn_is_tls(e->c) || shutdown(conn_fd(e->c), SHUT_WR) < 0) {
        tun_end_all(e->t, true);
        return false;
    }
    e->shut = true;
    if (e->peer->shut) {
        tun_end_all(e->t, false); /* both directions are over */
        return false;
    }
    return true;
}

static void end_readable(conn *c, void *ud)
{
    static char buf[SIDECAR_TUNNEL_READ]; /* one loop per process */
    tun_end *e = ud;
    sidecar_tunnel *t = e->t;
    tun_end *p = e->peer;
    for (int i = 0; i < 4; i++) {
        ssize_t n = conn_read(c, buf, sizeof buf);
        if (n == -EAGAIN)
            return;
        if (n == 0) {
            e->eof = true;
            conn_pause_read(c);
            shut_write(p);
            return;
        }
        if (n < 0 || conn_write(p->c, buf, (size_t)n) < 0) {
            tun_end_all(t, false);
            return;
        }
        t->active_ms = ev_now(t->svc->loop);
        if (conn_out_pending(p->c) > SIDECAR_PIPE_HIGH) {
            conn_pause_read(c); /* resumed when p drains */
            return;
        }
        if ((size_t)n < sizeof buf)
            return;
    }
}

static void end_drained(conn *c, void *ud)
{
    tun_end *e = ud;
    if (e->peer->eof) {
        shut_write(e);
        return;
    }
    conn_resume_read(e->peer->c);
}

static void end_error(conn *c, int err, void *ud)
{
    tun_end *e = ud;
    tun_end_all(e->t, false);
}

static const conn_cbs end_cbs = {
    .on_readable = end_readable,
    .on_drained = end_drained,
    .on_error = end_error,
};

static void on_idle(ev_loop *loop, ev_timer *timer, void *arg)
{
    sidecar_tunnel *t = arg;
    uint64_t idle_ms = t->svc->set.tunnel_idle_ms, now = ev_now(loop);
    if (now - t->active_ms < idle_ms) {
        ev_timer_start(loop, timer, idle_ms - (now - t->active_ms));
        return;
    }
    tun_end_all(t, true);
}

/* The client's 101 head: the upstream's, less framing fields. */
static int build_head(const http_response *res, buf_t *out)
{
    int rc = buf_append_str(out, "HTTP/1.1 101 Switching Protocols\r\n");
    for (unsigned i = 0; rc == 0 && i < res->nheaders; i++) {
        const http_header *h = &res->headers[i];
        bool skip = false;
        for (size_t k = 0; k < LO_ARRAY_SIZE(framing) && !skip; k++)
            skip = http_str_ieq(h->name, framing[k]);
        if (skip)
            continue;
        rc = buf_appendf(out, "%.*s: %.*s\r\n", (int)h->name.len, h->name.p, (int)h->value.len,
                         h->value.p);
    }
    return rc == 0 ? buf_append_str(out, "\r\n") : rc;
}

int sidecar_tunnel_start(sidecar_service *svc, http_req *r, http_creq *q,
                         const http_response *res)
{
    int rc;
    buf_t head, cl_rest, up_rest;
    buf_init(&head, SIDECAR_TUNNEL_HEAD_MAX);
    buf_init(&cl_rest, SIDECAR_TUNNEL_REST_MAX);
    buf_init(&up_rest, SIDECAR_TUNNEL_REST_MAX);
    sidecar_tunnel *t = NULL;
    if (!http_req_alive(r)) {
        rc = -ECONNRESET;
        goto fail;
    }
    if (svc->ntunnels >= svc->set.max_conns) {
        http_res_header(r, "Retry-After", "1");
        http_respond(r, 503, "text/plain", "503 too many tunnels\n", 21);
        r = NULL;
        rc = -EBUSY;
        goto fail;
    }
    if ((rc = build_head(res, &head)) < 0)
        goto fail;
    t = xcalloc(1, sizeof *t);
    t->svc = svc;
    t->cl = (tun_end){ .t = t, .peer = &t->up };
    t->up = (tun_end){ .t = t, .peer = &t->cl };
    if ((rc = http_req_take_conn(r, &end_cbs, &t->cl, &t->cl.c, &cl_rest)) < 0)
        goto fail;
    r = NULL;
    if ((rc = http_creq_take_conn(q, &end_cbs, &t->up, &t->up.c, &up_rest)) < 0) {
        conn_close(t->cl.c);
        goto fail;
    }
    q = NULL;
    ev_timer_init(&t->idle, on_idle, t);
    t->active_ms = ev_now(svc->loop);
    ev_timer_start(svc->loop, &t->idle, svc->set.tunnel_idle_ms);
    t->next = svc->tunnels;
    if (svc->tunnels)
        svc->tunnels->prev = t;
    svc->tunnels = t;
    svc->ntunnels++;
    metrics_gauge_set(svc->g_tunnels, (double)svc->ntunnels);
    metrics_counter_inc(svc->req_by_class[1]);
    struct iovec v[2] = { { buf_data(&head), buf_len(&head) },
                          { buf_data(&up_rest), buf_len(&up_rest) } };
    if (conn_writev(t->cl.c, v, buf_len(&up_rest) ? 2 : 1) < 0 ||
        (!buf_empty(&cl_rest) && conn_write(t->up.c, buf_data(&cl_rest), buf_len(&cl_rest)) < 0))
        tun_end_all(t, false);
    buf_free(&head);
    buf_free(&cl_rest);
    buf_free(&up_rest);
    return 0;
fail:
    free(t);
    if (q)
        http_creq_cancel(q);
    if (r)
        http_req_release(r);
    buf_free(&head);
    buf_free(&cl_rest);
    buf_free(&up_rest);
    return rc;
}

void sidecar_tunnel_close_all(sidecar_service *svc, bool graceful)
{
    while (svc->tunnels)
        tun_end_all(svc->tunnels, graceful);
}

size_t sidecar_tunnel_count(const sidecar_service *svc) { return svc->ntunnels; }
