/* conn_connect.c — client side of conn: resolve, non-blocking connect to
 * each address in turn under one deadline, then the TLS handshake. */
#include "conn_int.h"
#include "common.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void connect_timeout(ev_loop *loop, ev_timer *t, void *arg)
{
    conn *c = arg;
    struct conn_connecting *cc = c->cc;
    conn_enter(c);
    char peer[CONN_ADDR_STR_MAX];
    conn_addr_format(&c->peer, peer, sizeof peer);
    conn_set_error(c, -ETIMEDOUT, "%s to %s timed out after %u ms",
                   c->state == CONN_HANDSHAKE ? "TLS handshake" : "connect", peer,
                   cc ? cc->timeout_ms : 0u);
    conn_fail(c, -ETIMEDOUT);
    conn_leave(c);
}

static void close_socket(conn *c)
{
    if (c->fd < 0)
        return;
    ev_io_del(c->loop, c->fd);
    close(c->fd);
    c->fd = -1;
    c->registered = false;
    c->mask = 0;
}

/* Starts connecting to the next address; false when none is left (the
 * error is recorded). */
static bool try_next(conn *c)
{
    struct conn_connecting *cc = c->cc;
    while (cc->next < cc->naddrs) {
        const conn_addr *a = &cc->addrs[cc->next++];
        c->peer = *a;
        int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            conn_set_error(c, -errno, "socket: %s", strerror(errno));
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->fd = fd;
        int rc = connect(fd, (const struct sockaddr *)&a->ss, a->len);
        if (rc == 0 || errno == EINPROGRESS) {
            c->state = CONN_CONNECTING;
            conn_update_mask(c); /* EV_WRITE tells when it is done */
            return true;
        }
        char peer[CONN_ADDR_STR_MAX];
        conn_addr_format(a, peer, sizeof peer);
        conn_set_error(c, -errno, "connect to %s failed: %s", peer, strerror(errno));
        close_socket(c);
    }
    return false;
}

int conn_connect(ev_loop *loop, const conn_connect_opts *o, const conn_cbs *cbs, void *ud,
                 conn **out)
{
    *out = NULL;
    if (!o || !o->host || !*o->host || o->port <= 0 || o->port > 65535 || !cbs)
        return -EINVAL;
    if (o->tls && o->tls->server)
        return -EINVAL;
    conn *c = conn_new(loop, -1, NULL);
    c->cbs = cbs;
    c->ud = ud;
    c->is_client = true;
    c->state = CONN_CONNECTING;
    struct conn_connecting *cc = xcalloc(1, sizeof *cc);
    c->cc = cc;
    cc->host = xstrdup(o->host);
    cc->server_name = o->server_name ? xstrdup(o->server_name) : NULL;
    cc->tls = conn_tls_ref(o->tls);
    cc->timeout_ms = o->connect_timeout_ms ? o->connect_timeout_ms
                                            : CONN_CONNECT_TIMEOUT_DEFAULT_MS;
    c->timer.cb = connect_timeout;
    ev_timer_start(loop, &c->timer, cc->timeout_ms);
    *out = c;

    char err[CONN_ERROR_MAX];
    int n = conn_addr_resolve(o->host, o->port, cc->addrs, CONN_MAX_ADDRS, err, sizeof err);
    if (n < 0) {
        conn_set_error(c, n, "%s", err);
        conn_fail(c, n);
        return 0;
    }
    cc->naddrs = n;
    if (!try_next(c))
        conn_fail(c, c->err);
    return 0;
}

/* The TCP connection is up: plain conns are open, TLS ones shake hands. */
static void tcp_connected(conn *c)
{
    struct conn_connecting *cc = c->cc;
    if (!cc->tls) {
        conn_opened(c);
        return;
    }
    const char *name = cc->server_name ? cc->server_name : cc->host;
    int rc = conn_tls_attach(c, cc->tls, name);
    if (rc == 0)
        rc = conn_tls_handshake(c);
    if (rc < 0)
        conn_fail(c, rc);
    else if (rc > 0)
        conn_opened(c);
}

void conn_connect_io(conn *c)
{
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
        soerr = errno;
    if (soerr == 0) {
        tcp_connected(c);
        return;
    }
    char peer[CONN_ADDR_STR_MAX];
    conn_addr_format(&c->peer, peer, sizeof peer);
    conn_set_error(c, -soerr, "connect to %s failed: %s", peer, strerror(soerr));
    close_socket(c);
    if (!try_next(c))
        conn_fail(c, c->err);
}

void conn_connect_free(conn *c)
{
    struct conn_connecting *cc = c->cc;
    if (!cc)
        return;
    conn_tls_free(cc->tls);
    free(cc->host);
    free(cc->server_name);
    free(cc);
    c->cc = NULL;
}
