/* conn_listen.c — server side of conn: listening sockets that accept in a
 * loop and hand out conns (plain, or TLS with the handshake inside). */
#include "conn_int.h"
#include "common.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct conn_listener {
    ev_loop *loop;
    int fd;
    int port;
    bool paused;
    conn_tls *tls;
    conn_accept_cb *cb;
    void *arg;
    ev_timer backoff;   /* re-arms accepting after EMFILE and friends */
};

static void start_tls(conn *c, conn_tls *tls)
{
    int rc = conn_tls_attach(c, tls, NULL);
    if (rc < 0) {
        conn_fail(c, rc);
        return;
    }
    /* The ClientHello is often there already: one step now saves a wakeup. */
    rc = conn_tls_handshake(c);
    if (rc < 0)
        conn_fail(c, rc);
    else if (rc > 0)
        conn_opened(c);
}

static void hand_out(conn_listener *l, int fd, const conn_addr *peer)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conn *c = conn_new(l->loop, fd, peer);
    if (l->tls)
        c->state = CONN_HANDSHAKE;
    conn_enter(c);
    l->cb(l, c, l->arg);
    if (!c->closed && l->tls)
        start_tls(c, l->tls);
    conn_leave(c);
}

static void on_accept(ev_loop *loop, int fd, unsigned events, void *arg)
{
    conn_listener *l = arg;
    for (int i = 0; i < CONN_ACCEPT_BATCH; i++) {
        conn_addr peer = { .len = sizeof peer.ss };
        int cfd = accept4(fd, (struct sockaddr *)&peer.ss, &peer.len,
                          SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd >= 0) {
            hand_out(l, cfd, &peer);
            if (l->fd < 0)
                return; /* the callback closed the listener */
            continue;
        }
        switch (errno) {
        case EINTR:
        case ECONNABORTED:
        case EPROTO:
            continue;
        case EMFILE:
        case ENFILE:
        case ENOBUFS:
        case ENOMEM:
            /* Out of descriptors: stop for a moment instead of spinning on a
             * backlog we cannot drain. */
            ev_io_events(loop, fd, 0);
            ev_timer_start(loop, &l->backoff, CONN_ACCEPT_BACKOFF_MS);
            return;
        default:
            return; /* EAGAIN: drained */
        }
    }
}

static void accept_backoff_done(ev_loop *loop, ev_timer *t, void *arg)
{
    conn_listener *l = arg;
    if (!l->paused)
        ev_io_events(loop, l->fd, EV_READ);
}

static int bind_listen(int *fdp, const conn_addr *a, const conn_listen_opts *o, char *err,
                       size_t errlen)
{
    int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -errno;
    }
    int one = 1, zero = 0, rc;
    char where[CONN_ADDR_STR_MAX];
    conn_addr_format(a, where, sizeof where);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (o->reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
        rc = -errno;
        snprintf(err, errlen, "SO_REUSEPORT on %s: %s", where, strerror(errno));
        goto fail;
    }
    if (a->ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    if (bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0) {
        rc = -errno;
        snprintf(err, errlen, "bind %s: %s", where, strerror(errno));
        goto fail;
    }
    if (listen(fd, o->backlog > 0 ? o->backlog : CONN_BACKLOG_DEFAULT) < 0) {
        rc = -errno;
        snprintf(err, errlen, "listen %s: %s", where, strerror(errno));
        goto fail;
    }
    *fdp = fd;
    return 0;
fail:
    close(fd);
    return rc;
}

int conn_listen(ev_loop *loop, const conn_listen_opts *o, conn_accept_cb *cb, void *arg,
                conn_listener **out, char *err, size_t errlen)
{
    char scratch[CONN_ERROR_MAX];
    if (!err || !errlen) {
        err = scratch;
        errlen = sizeof scratch;
    }
    *out = NULL;
    if (!o || !cb || o->port < 0 || o->port > 65535 || (o->tls && !o->tls->server)) {
        snprintf(err, errlen, "invalid listen options");
        return -EINVAL;
    }
    conn_addr addrs[CONN_MAX_ADDRS];
    int n = conn_addr_resolve(o->host ? o->host : "::", o->port, addrs, CONN_MAX_ADDRS, err,
                              errlen);
    if (n < 0)
        return n;
    int fd = -1, rc = bind_listen(&fd, &addrs[0], o, err, errlen);
    if (rc == -EAFNOSUPPORT && !o->host) {
        /* No IPv6 on this machine: the wildcard falls back to IPv4. */
        conn_addr_resolve("0.0.0.0", o->port, addrs, 1, err, errlen);
        rc = bind_listen(&fd, &addrs[0], o, err, errlen);
    }
    if (rc < 0)
        return rc;
    conn_addr bound = { .len = sizeof bound.ss };
    getsockname(fd, (struct sockaddr *)&bound.ss, &bound.len);
    conn_listener *l = xcalloc(1, sizeof *l);
    l->loop = loop;
    l->fd = fd;
    l->port = ntohs(bound.ss.ss_family == AF_INET6
                        ? ((struct sockaddr_in6 *)&bound.ss)->sin6_port
                        : ((struct sockaddr_in *)&bound.ss)->sin_port);
    l->tls = conn_tls_ref(o->tls);
    l->cb = cb;
    l->arg = arg;
    ev_timer_init(&l->backoff, accept_backoff_done, l);
    rc = ev_io_set(loop, fd, EV_READ, on_accept, l);
    if (rc < 0) {
        snprintf(err, errlen, "event loop: %s", strerror(-rc));
        conn_listener_close(l);
        return rc;
    }
    *out = l;
    return 0;
}

int conn_listener_port(const conn_listener *l) { return l->port; }

void conn_listener_pause(conn_listener *l)
{
    l->paused = true;
    ev_io_events(l->loop, l->fd, 0);
}

void conn_listener_resume(conn_listener *l)
{
    l->paused = false;
    if (!ev_timer_active(&l->backoff))
        ev_io_events(l->loop, l->fd, EV_READ);
}

void conn_listener_close(conn_listener *l)
{
    if (!l)
        return;
    ev_timer_stop(l->loop, &l->backoff);
    if (l->fd >= 0) {
        ev_io_del(l->loop, l->fd);
        close(l->fd);
    }
    conn_tls_free(l->tls);
    free(l);
}
