/* conn.c — the conn object: readiness dispatch, reads, queued writes and
 * closing (see conn.h). TLS specifics live in conn_tls.c, connecting in
 * conn_connect.c, accepting in conn_listen.c. */
#include "conn_int.h"
#include "common.h"

#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void conn_io(ev_loop *loop, int fd, unsigned events, void *arg);
static void conn_kicked(ev_loop *loop, ev_timer *t, void *arg);

static size_t live_conns; /* one loop per process: no locking */

size_t conn_live_count(void) { return live_conns; }

conn *conn_new(ev_loop *loop, int fd, const conn_addr *peer)
{
    conn *c = xcalloc(1, sizeof *c);
    live_conns++;
    c->loop = loop;
    c->fd = fd;
    c->state = CONN_OPEN;
    buf_init(&c->out, CONN_OUT_MAX_DEFAULT);
    ev_timer_init(&c->timer, NULL, c);
    ev_timer_init(&c->kick, conn_kicked, c);
    if (peer)
        c->peer = *peer;
    return c;
}

static void conn_free(conn *c)
{
    live_conns--;
    free(c->errmsg);
    free(c);
}

/* Releases the socket and everything but the struct itself. */
static void conn_release(conn *c)
{
    ev_timer_stop(c->loop, &c->timer);
    ev_timer_stop(c->loop, &c->kick);
    conn_connect_free(c);
    if (c->ssl) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0) {
        ev_io_del(c->loop, c->fd);
        close(c->fd);
        c->fd = -1;
    }
    c->registered = false;
    c->mask = 0;
    buf_free(&c->out);
}

bool conn_enter(conn *c)
{
    c->depth++;
    return true;
}

/* Ends a dispatch; true if c was freed (the caller must not touch it). */
bool conn_leave(conn *c)
{
    if (--c->depth > 0)
        return false;
    if (c->closed) {
        conn_free(c);
        return true;
    }
    conn_update_mask(c);
    return false;
}

void conn_schedule(conn *c)
{
    if (c->closed || ev_timer_active(&c->kick))
        return;
    ev_timer_start(c->loop, &c->kick, c->in_kick ? 1 : 0);
}

void conn_set_error(conn *c, int err, const char *fmt, ...)
{
    char msg[CONN_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    free(c->errmsg);
    c->errmsg = xstrdup(msg);
    c->err = err;
}

const char *conn_error(const conn *c)
{
    return c->errmsg ? c->errmsg : "";
}

/* Decrypted bytes wait inside OpenSSL for a reader. */
static bool tls_buffered(const conn *c)
{
    return c->ssl && c->state == CONN_OPEN && !c->read_paused && SSL_pending(c->ssl) > 0;
}

/* ---- interest ---- */

static unsigned wanted_mask(const conn *c)
{
    unsigned m = 0;
    bool out = !buf_empty(&c->out) && c->cork == 0;
    switch (c->state) {
    case CONN_CONNECTING:
        return EV_WRITE;
    case CONN_HANDSHAKE:
        return c->hs_wants_write ? EV_WRITE : EV_READ;
    case CONN_OPEN:
        if (!c->read_paused && c->cbs && c->cbs->on_readable)
            m |= EV_READ;
        if (c->ssl_read_wants_write)
            m |= EV_WRITE;
        if (out)
            m |= c->ssl_write_wants_read ? EV_READ : EV_WRITE;
        return m;
    case CONN_FLUSHING:
        if (!buf_empty(&c->out))
            m |= c->ssl_write_wants_read ? EV_READ : EV_WRITE;
        return m;
    case CONN_LINGERING:
        return EV_READ;
    case CONN_FAILED:
        return 0;
    }
    return 0;
}

void conn_update_mask(conn *c)
{
    if (c->fd < 0 || c->closed)
        return;
    unsigned m = wanted_mask(c);
    if (m == c->mask && (c->registered || m == 0))
        return;
    if (m == 0) {
        /* Unregister rather than idle: epoll reports hang-ups even for an
         * empty mask, which would wake the loop for nothing, again and again. */
        ev_io_del(c->loop, c->fd);
        c->registered = false;
        c->mask = 0;
        return;
    }
    int rc = c->registered ? ev_io_events(c->loop, c->fd, m)
                           : ev_io_set(c->loop, c->fd, m, conn_io, c);
    if (rc < 0) {
        /* The loop cannot watch this fd: nothing would ever happen on it. */
        if (c->state != CONN_FAILED) {
            conn_set_error(c, rc, "event loop refused the socket: %s", strerror(-rc));
            conn_fail(c, rc);
        }
        return;
    }
    c->registered = true;
    c->mask = m;
}

/* ---- failure ---- */

void conn_fail(conn *c, int err)
{
    if (c->state == CONN_FAILED)
        return;
    bool connecting = c->state == CONN_CONNECTING || (c->state == CONN_HANDSHAKE && c->is_client);
    if (!c->errmsg)
        conn_set_error(c, err, "%s", strerror(-err));
    c->err = err;
    c->state = CONN_FAILED;
    c->fail_on_connect = connecting;
    ev_timer_stop(c->loop, &c->timer);
    buf_reset(&c->out);
    conn_update_mask(c);
    if (c->detached) {
        conn_close(c);
        return;
    }
    /* Reported from the loop, never from inside the user's own call. */
    conn_schedule(c);
}

/* Reports a failure recorded by conn_fail (from conn_kicked). */
static void report_failure(conn *c, bool connecting)
{
    if (!c->cbs)
        return;
    if (connecting) {
        if (c->cbs->on_connect)
            c->cbs->on_connect(c, c->err, c->ud);
    } else if (c->cbs->on_error) {
        c->cbs->on_error(c, c->err, c->ud);
    }
}

/* ---- writing ---- */

/* Writes up to len bytes from p now: bytes written (>= 0) or -errno. */
static ssize_t write_some(conn *c, const void *p, size_t len)
{
    if (c->ssl)
        return conn_tls_write(c, p, len);
    for (;;) {
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        return -errno;
    }
}

/* Sends queued output: 0 (maybe more left) or -errno. */
static int flush_out(conn *c)
{
    while (!buf_empty(&c->out)) {
        size_t len = buf_len(&c->out);
        ssize_t n = write_some(c, buf_data(&c->out), len);
        if (n < 0)
            return (int)n;
        buf_consume(&c->out, (size_t)n);
        if ((size_t)n < len)
            return 0; /* blocked: wait for readiness */
    }
    buf_shrink_idle(&c->out, CONN_OUT_KEEP);
    return 0;
}

static bool can_write_now(const conn *c)
{
    return c->state == CONN_OPEN && c->cork == 0 && buf_empty(&c->out);
}

static int check_writable_state(conn *c)
{
    switch (c->state) {
    case CONN_FAILED:
        return c->err;
    case CONN_FLUSHING:
    case CONN_LINGERING:
        return -ENOTCONN;
    default:
        return c->closed ? -ENOTCONN : 0;
    }
}

/* Describes a write error unless a more precise text (TLS) is there. */
static void set_write_error(conn *c, int err)
{
    if (c->errmsg && c->err == err)
        return;
    char peer[CONN_ADDR_STR_MAX];
    conn_addr_format(&c->peer, peer, sizeof peer);
    conn_set_error(c, err, "write to %s failed: %s", peer, strerror(-err));
}

static int write_failed(conn *c, int err)
{
    set_write_error(c, err);
    c->state = CONN_FAILED;
    c->err = err;
    buf_reset(&c->out);
    conn_update_mask(c);
    return err;
}

int conn_write(conn *c, const void *p, size_t len)
{
    int rc = check_writable_state(c);
    if (rc < 0 || len == 0)
        return rc;
    if (len > c->out.max - buf_len(&c->out))
        return -ENOBUFS;
    if (can_write_now(c)) {
        ssize_t n = write_some(c, p, len);
        if (n < 0)
            return write_failed(c, (int)n);
        if ((size_t)n == len)
            return 0;
        p = (const char *)p + n;
        len -= (size_t)n;
    }
    buf_append(&c->out, p, len); /* fits: checked above */
    conn_update_mask(c);
    return 0;
}

int conn_writev(conn *c, const struct iovec *iov, int iovcnt)
{
    int rc = check_writable_state(c);
    if (rc < 0)
        return rc;
    if (iovcnt < 0 || (iovcnt > 0 && !iov))
        return -EINVAL;
    size_t total = 0;
    for (int i = 0; i < iovcnt; i++)
        total += iov[i].iov_len;
    if (total == 0)
        return 0;
    if (total > c->out.max - buf_len(&c->out))
        return -ENOBUFS;
    bool direct = can_write_now(c);
    size_t done = 0;
    if (direct && !c->ssl && iovcnt <= IOV_MAX) {
        struct msghdr mh = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };
        ssize_t n;
        do
            n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return write_failed(c, -errno);
        done = n > 0 ? (size_t)n : 0;
        if (done == total)
            return 0;
    }
    /* Queue the rest (TLS: all of it, then SSL_write in large records). */
    for (int i = 0; i < iovcnt; i++) {
        size_t l = iov[i].iov_len;
        if (done >= l) {
            done -= l;
            continue;
        }
        buf_append(&c->out, (const char *)iov[i].iov_base + done, l - done);
        done = 0;
    }
    if (direct && c->ssl) {
        rc = flush_out(c);
        if (rc < 0)
            return write_failed(c, rc);
    }
    conn_update_mask(c);
    return 0;
}

size_t conn_out_pending(const conn *c) { return buf_len(&c->out); }

void conn_set_out_max(conn *c, size_t max)
{
    c->out.max = max ? max : 1;
}

void conn_cork(conn *c) { c->cork++; }

int conn_uncork(conn *c)
{
    if (c->cork == 0 || --c->cork > 0)
        return 0;
    int rc = check_writable_state(c);
    if (rc < 0)
        return rc;
    if (c->state == CONN_OPEN && !buf_empty(&c->out) && !c->ssl_write_wants_read) {
        rc = flush_out(c);
        if (rc < 0)
            return write_failed(c, rc);
    }
    conn_update_mask(c);
    return 0;
}

/* ---- reading ---- */

ssize_t conn_read(conn *c, void *p, size_t len)
{
    switch (c->state) {
    case CONN_OPEN:
        break;
    case CONN_FAILED:
        return c->err;
    case CONN_CONNECTING:
    case CONN_HANDSHAKE:
        return -EAGAIN;
    default:
        return -ENOTCONN;
    }
    if (c->ssl)
        return conn_tls_read(c, p, len);
    for (;;) {
        ssize_t n = recv(c->fd, p, len, 0);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno == EWOULDBLOCK)
            return -EAGAIN;
        return -errno;
    }
}

void conn_pause_read(conn *c)
{
    c->read_paused = true;
    if (c->depth == 0)
        conn_update_mask(c);
}

void conn_resume_read(conn *c)
{
    c->read_paused = false;
    if (c->depth == 0)
        conn_update_mask(c);
    if (tls_buffered(c))
        conn_schedule(c);
}

/* ---- dispatch ---- */

void conn_opened(conn *c)
{
    bool client = c->is_client;
    c->state = CONN_OPEN;
    ev_timer_stop(c->loop, &c->timer);
    conn_connect_free(c);
    if (client && c->cbs && c->cbs->on_connect) {
        c->cbs->on_connect(c, 0, c->ud);
        if (c->closed || c->state != CONN_OPEN)
            return;
    }
    if (!buf_empty(&c->out) && c->cork == 0) {
        int rc = flush_out(c);
        if (rc < 0) {
            set_write_error(c, rc);
            conn_fail(c, rc);
            return;
        }
    }
    if (tls_buffered(c))
        conn_schedule(c);
}

static void call_readable(conn *c)
{
    /* Bytes already decrypted inside OpenSSL raise no epoll event: call
     * again while the reader makes progress, then leave it to the kick. */
    for (int round = 0; round < CONN_PENDING_ROUNDS; round++) {
        /* The callback may have closed, paused or swapped the table. */
        if (c->closed || !c->cbs || !c->cbs->on_readable || c->read_paused)
            return;
        uint64_t before = c->nread;
        c->cbs->on_readable(c, c->ud);
        if (c->closed || !tls_buffered(c))
            return;
        if (c->nread == before)
            break;
    }
    conn_schedule(c);
}

static void open_io(conn *c, unsigned events)
{
    bool had_out = !buf_empty(&c->out);
    bool want_flush = had_out && c->cork == 0 &&
                      ((c->ssl_write_wants_read && (events & EV_READ)) ||
                       (!c->ssl_write_wants_read && (events & EV_WRITE)));
    if (want_flush) {
        int rc = flush_out(c);
        if (rc < 0) {
            set_write_error(c, rc);
            conn_fail(c, rc);
            return;
        }
        if (buf_empty(&c->out) && c->cbs && c->cbs->on_drained) {
            c->cbs->on_drained(c, c->ud);
            if (c->closed || c->state != CONN_OPEN)
                return;
        }
    }
    bool readable = (events & EV_READ) ||
                    ((events & EV_WRITE) && c->ssl_read_wants_write);
    if (readable)
        call_readable(c);
}

static void finish_close_flush(conn *c);

static void linger_io(conn *c)
{
    char scratch[CONN_LINGER_READ_BYTES];
    for (int i = 0; i < CONN_LINGER_READS; i++) {
        ssize_t n = recv(c->fd, scratch, sizeof scratch, 0);
        if (n > 0)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        conn_close(c); /* EOF or error: the peer is done */
        return;
    }
    /* Still sending: read more on the next event, until the timer ends it. */
}

static void flushing_io(conn *c)
{
    int rc = flush_out(c);
    if (rc < 0) {
        conn_close(c);
        return;
    }
    if (buf_empty(&c->out))
        finish_close_flush(c);
}

static void handshake_io(conn *c)
{
    int rc = conn_tls_handshake(c);
    if (rc < 0)
        conn_fail(c, rc);
    else if (rc > 0)
        conn_opened(c);
}

static void dispatch(conn *c, unsigned events)
{
    switch (c->state) {
    case CONN_CONNECTING:
        conn_connect_io(c);
        break;
    case CONN_HANDSHAKE:
        handshake_io(c);
        break;
    case CONN_OPEN:
        open_io(c, events);
        break;
    case CONN_FLUSHING:
        flushing_io(c);
        break;
    case CONN_LINGERING:
        linger_io(c);
        break;
    case CONN_FAILED:
        break;
    }
}

static void conn_io(ev_loop *loop, int fd, unsigned events, void *arg)
{
    conn *c = arg;
    conn_enter(c);
    dispatch(c, events);
    conn_leave(c);
}

static void conn_kicked(ev_loop *loop, ev_timer *t, void *arg)
{
    conn *c = arg;
    conn_enter(c);
    c->in_kick = true;
    if (c->state == CONN_FAILED && !c->fail_reported) {
        c->fail_reported = true;
        report_failure(c, c->fail_on_connect);
    } else if (tls_buffered(c)) {
        call_readable(c);
    }
    c->in_kick = false;
    conn_leave(c);
}

/* ---- closing ---- */

void conn_close(conn *c)
{
    if (!c || c->closed)
        return;
    if (c->ssl && c->state == CONN_OPEN && buf_empty(&c->out)) {
        ERR_clear_error();
        SSL_shutdown(c->ssl); /* best effort close_notify */
    }
    conn_release(c);
    c->closed = true;
    c->cbs = NULL;
    if (c->depth == 0)
        conn_free(c);
}

static void close_flush_timeout(ev_loop *loop, ev_timer *t, void *arg)
{
    conn_close(arg);
}

static void finish_close_flush(conn *c)
{
    if (c->ssl) {
        ERR_clear_error();
        SSL_shutdown(c->ssl);
    }
    /* Half-close and drain input for a moment, so unread request bytes do
     * not turn our close into a reset that destroys the response in flight. */
    if (shutdown(c->fd, SHUT_WR) < 0) {
        conn_close(c);
        return;
    }
    c->state = CONN_LINGERING;
    conn_update_mask(c);
}

void conn_close_flush(conn *c, uint32_t timeout_ms)
{
    if (!c || c->closed)
        return;
    c->cbs = NULL;
    c->detached = true;
    c->cork = 0;
    if (c->state != CONN_OPEN) {
        conn_close(c);
        return;
    }
    c->state = CONN_FLUSHING;
    c->timer.cb = close_flush_timeout;
    ev_timer_start(c->loop, &c->timer, timeout_ms ? timeout_ms : CONN_CLOSE_FLUSH_DEFAULT_MS);
    conn_enter(c);
    flushing_io(c);
    conn_leave(c);
}

/* ---- accessors ---- */

void conn_set_cbs(conn *c, const conn_cbs *cbs, void *ud)
{
    c->cbs = cbs;
    c->ud = ud;
    if (c->depth == 0)
        conn_update_mask(c);
}

void *conn_ud(const conn *c) { return c->ud; }
int conn_fd(const conn *c) { return c->fd; }
bool conn_is_tls(const conn *c) { return c->ssl != NULL || (c->cc && c->cc->tls); }
const struct sockaddr_storage *conn_peer_addr(const conn *c) { return &c->peer.ss; }

void conn_peer_str(const conn *c, char *out, size_t len)
{
    conn_addr_format(&c->peer, out, len);
}

int conn_set_nodelay(conn *c, bool on)
{
    int v = on ? 1 : 0;
    if (setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) < 0)
        return -errno;
    return 0;
}
