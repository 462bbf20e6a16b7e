/*
 * conn.h — non-blocking TCP connections on the ev loop, plain or TLS
 * (OpenSSL 3) behind one interface: listeners that accept in a loop, clients
 * that connect with a timeout, reads into caller buffers, writes that go out
 * at once when the socket takes them and queue the rest.
 *
 * Ownership:
 *   - A conn is created by conn_connect() or handed to a conn_accept_cb; the
 *     caller owns it from then on and frees it with conn_close() (or
 *     conn_close_flush()). The layer never frees a conn by itself: after an
 *     error it reports on_error / on_connect(status < 0) and waits for
 *     conn_close(). conn_close() is safe inside any callback of that conn;
 *     the memory is released when the callback returns.
 *   - A conn_tls (an SSL_CTX with its settings) is shared by many conns and
 *     listeners; conn_tls_free() may be called while they still use it (each
 *     holds its own reference).
 *   - The conn_cbs table passed in is not copied: keep it alive (static const
 *     in practice) as long as the conn.
 *
 * Readiness: on_readable fires while data can be read (level triggered, and
 *   also for bytes already decrypted inside OpenSSL). It is fine to stop
 *   reading after a short read or at any time; the callback fires again.
 *   TLS WANT_READ / WANT_WRITE in either direction is handled inside.
 *
 * Writing: conn_write()/conn_writev() try the socket directly when nothing is
 *   queued, and queue what the socket did not take (up to conn_set_out_max(),
 *   default CONN_OUT_MAX_DEFAULT). on_drained fires when queued output has all
 *   been written (not after a write that went out at once); that is the
 *   back-pressure signal: stop producing while conn_out_pending() is large.
 *   conn_cork()/conn_uncork() batch many small writes into one syscall.
 *
 * Errors are negative errno values: -ECONNREFUSED, -ETIMEDOUT (connect
 *   timeout), -EHOSTUNREACH, -ECONNRESET, -EPIPE, -ENOBUFS (output limit),
 *   -EPROTO (any TLS failure, including certificate verification), ...
 *   conn_error() gives a readable sentence for the last one, e.g.
 *   "TLS handshake with 127.0.0.1:6380 failed: certificate verify failed
 *   (unable to get local issuer certificate)".
 *
 * Name resolution: numeric IPv4/IPv6 hosts and "localhost" never block.
 *   Any other host name is resolved with getaddrinfo(), which BLOCKS the
 *   loop: use names only for connections made at start-up or on rare
 *   reconnects (a service's configured Redis host), never per request.
 *
 * Not thread-safe: all conns of a loop are used from the loop's thread.
 */
#ifndef LIFTOFF_CONN_H
#define LIFTOFF_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "ev.h"

typedef struct conn conn;
typedef struct conn_listener conn_listener;
typedef struct conn_tls conn_tls;

#define CONN_OUT_MAX_DEFAULT (16u << 20)      /* queued output per conn, bytes */
#define CONN_CONNECT_TIMEOUT_DEFAULT_MS 5000u /* TCP connect + TLS handshake */
#define CONN_BACKLOG_DEFAULT 1024
#define CONN_ERROR_MAX 256                    /* conn_error() text, bytes */
#define CONN_ADDR_STR_MAX 64                  /* "[ipv6]:port" fits */

/* ---- TLS settings ---- */

typedef struct conn_tls_opts {
    /* Client: CA bundle (PEM) to verify the server; NULL = system default.
     * Server: CA to verify client certificates; NULL = no client certs. */
    const char *ca_file;
    /* Server: certificate chain and key (PEM), required.
     * Client: optional client certificate and key. */
    const char *cert_file;
    const char *key_file;
    /* Client only, FOR TESTS ONLY: accept any server certificate and name. */
    bool insecure_skip_verify;
} conn_tls_opts;

/* Builds a client TLS context (TLS 1.2+, peer verification unless
 * insecure_skip_verify). 0 or -errno; on failure err (may be NULL) gets a
 * readable reason. Free with conn_tls_free(). */
int conn_tls_client_new(const conn_tls_opts *o, conn_tls **out, char *err, size_t errlen);
/* Builds a server TLS context from cert_file + key_file (and ca_file to
 * require client certificates). 0 or -errno; err as above. */
int conn_tls_server_new(const conn_tls_opts *o, conn_tls **out, char *err, size_t errlen);
/* Drops the caller's reference; conns and listeners keep their own. NULL-safe. */
void conn_tls_free(conn_tls *t);

/* ---- callbacks ---- */

typedef struct conn_cbs {
    /* Client conns: the TCP connect (and TLS handshake) finished. status 0:
     * ready; < 0: failed (see conn_error()), conn_close() it. */
    void (*on_connect)(conn *c, int status, void *ud);
    /* Data (or EOF, or an error) can be read with conn_read(). */
    void (*on_readable)(conn *c, void *ud);
    /* All queued output has been written. May be NULL. */
    void (*on_drained)(conn *c, void *ud);
    /* An error happened outside a call of the user (queued output could not
     * be written, a server-side TLS handshake failed). conn_close() it.
     * Errors returned by conn_read()/conn_write() are not reported again. */
    void (*on_error)(conn *c, int err, void *ud);
} conn_cbs;

/* ---- client side ---- */

typedef struct conn_connect_opts {
    const char *host;       /* numeric IPv4/IPv6, "localhost", or a name (blocks!) */
    int port;
    conn_tls *tls;          /* NULL: plain TCP */
    const char *server_name;/* TLS SNI + name check; NULL: host (IP literals
                             * are checked as IP addresses, without SNI) */
    uint32_t connect_timeout_ms; /* 0: CONN_CONNECT_TIMEOUT_DEFAULT_MS */
} conn_connect_opts;

/* Starts connecting; the outcome arrives in cbs->on_connect (always
 * asynchronously, even for an immediate refusal or a bad name). Every
 * resolved address is tried in turn within the timeout. Returns 0 and sets
 * *out, or -EINVAL for unusable options (nothing is created then). Writes
 * made before on_connect are queued. */
int conn_connect(ev_loop *loop, const conn_connect_opts *o, const conn_cbs *cbs, void *ud,
                 conn **out);

/* ---- server side ---- */

typedef struct conn_listen_opts {
    const char *host;   /* numeric address or "localhost"; NULL = "::" (v4+v6) */
    int port;           /* 0: an ephemeral port, see conn_listener_port() */
    int backlog;        /* 0: CONN_BACKLOG_DEFAULT */
    bool reuseport;     /* SO_REUSEPORT (several processes on one port) */
    conn_tls *tls;      /* NULL: plain TCP; else a server context */
} conn_listen_opts;

/* A new connection: set callbacks with conn_set_cbs() before returning (a
 * TLS handshake runs inside; on_readable fires once application data is
 * there, on_error if the handshake fails). The callee owns c. There is no
 * built-in handshake deadline: the acceptor's own idle/header timer, armed
 * here, covers a client that never finishes it. */
typedef void conn_accept_cb(conn_listener *l, conn *c, void *arg);

/* Binds and listens (SO_REUSEADDR always). 0 or -errno; err gets a reason. */
int conn_listen(ev_loop *loop, const conn_listen_opts *o, conn_accept_cb *cb, void *arg,
                conn_listener **out, char *err, size_t errlen);
/* The bound port (useful with port 0). */
int conn_listener_port(const conn_listener *l);
/* Stops accepting (pending connections in the backlog are reset). */
void conn_listener_pause(conn_listener *l);
void conn_listener_resume(conn_listener *l);
/* Closes the listening socket; accepted conns live on. NULL-safe. */
void conn_listener_close(conn_listener *l);

/* ---- using a conn ---- */

/* Replaces the callbacks and user pointer. */
void conn_set_cbs(conn *c, const conn_cbs *cbs, void *ud);
void *conn_ud(const conn *c);

/* Reads up to len bytes: n > 0, 0 at end of stream, -EAGAIN when nothing is
 * there now, or another -errno. */
ssize_t conn_read(conn *c, void *buf, size_t len);

/* Writes all of buf (what the socket does not take now is queued): 0, or
 * -ENOBUFS (over the output limit, nothing queued), -ENOTCONN after close,
 * or the connection's error. */
int conn_write(conn *c, const void *buf, size_t len);
/* As conn_write for several pieces, in order, in one syscall when possible. */
int conn_writev(conn *c, const struct iovec *iov, int iovcnt);
/* Bytes queued and not yet handed to the kernel. */
size_t conn_out_pending(const conn *c);
/* Limit for queued output (bytes, > 0). */
void conn_set_out_max(conn *c, size_t max);
/* While corked, writes only queue; uncork sends them (one syscall for plain
 * TCP, large TLS records). Nests: cork twice, uncork twice. */
void conn_cork(conn *c);
int conn_uncork(conn *c);

/* Stops / restarts on_readable (e.g. while the other side of a proxy is slow). */
void conn_pause_read(conn *c);
void conn_resume_read(conn *c);

/* Closes now, dropping queued output; no callback afterwards. NULL-safe. */
void conn_close(conn *c);
/* Graceful close: sends what is queued, then a TLS close_notify, shuts the
 * write side, and discards input until the peer closes too (so unread
 * request bytes do not turn the close into a reset that destroys the reply
 * in flight); all bounded by timeout_ms (0: 5000), after which it just
 * closes. A conn not yet open is closed at once. The layer owns and frees c
 * from this call on; no callback afterwards. */
void conn_close_flush(conn *c, uint32_t timeout_ms);

int conn_fd(const conn *c);
bool conn_is_tls(const conn *c);
/* Peer address as filled by accept()/connect(). */
const struct sockaddr_storage *conn_peer_addr(const conn *c);
/* "1.2.3.4:80" or "[::1]:80" into buf (CONN_ADDR_STR_MAX is enough). */
void conn_peer_str(const conn *c, char *buf, size_t len);
/* Readable description of the last error, "" if none. */
const char *conn_error(const conn *c);
/* TCP_NODELAY on/off (on by default for every conn). */
int conn_set_nodelay(conn *c, bool on);
/* conn objects of this process not yet freed (including those closing in
 * the background after conn_close_flush()); for metrics and tests. */
size_t conn_live_count(void);

#endif
