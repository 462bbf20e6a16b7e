/*
 * conn_int.h — internals shared by the conn*.c files; not for other modules.
 * See conn.h for the public contract.
 */
#ifndef LIFTOFF_CONN_INT_H
#define LIFTOFF_CONN_INT_H

#include "conn.h"
#include "buf.h"

#include <netinet/in.h>
#include <openssl/ssl.h>

#define CONN_MAX_ADDRS 8              /* resolved addresses tried per connect */
#define CONN_OUT_KEEP (64u << 10)     /* idle output buffers above this are freed */
#define CONN_ACCEPT_BATCH 64          /* accepts per readiness event */
#define CONN_ACCEPT_BACKOFF_MS 100u   /* pause after EMFILE/ENFILE/ENOBUFS */
#define CONN_CLOSE_FLUSH_DEFAULT_MS 5000u
#define CONN_LINGER_READ_BYTES 4096   /* scratch for discarding input on close */
#define CONN_LINGER_READS 16          /* discarding reads per readiness event */
#define CONN_PENDING_ROUNDS 64        /* on_readable calls per event for TLS-buffered bytes */

enum conn_state {
    CONN_CONNECTING,  /* client: TCP connect in flight */
    CONN_HANDSHAKE,   /* TLS handshake in flight (either side) */
    CONN_OPEN,        /* data flows */
    CONN_FAILED,      /* error recorded in err; waiting for conn_close() */
    CONN_FLUSHING,    /* conn_close_flush(): writing what is queued */
    CONN_LINGERING,   /* conn_close_flush(): write side shut, draining input */
};

typedef struct conn_addr {
    struct sockaddr_storage ss;
    socklen_t len;
} conn_addr;

struct conn_tls {
    SSL_CTX *ctx;
    int refs;
    bool server;
    bool insecure;
};

/* State that only a connecting client needs; freed once connected. */
struct conn_connecting {
    conn_addr addrs[CONN_MAX_ADDRS];
    int naddrs, next;
    char *host;          /* for messages and the TLS name check */
    char *server_name;   /* NULL: host */
    conn_tls *tls;       /* reference held until the SSL object exists */
    uint32_t timeout_ms;
};

struct conn {
    ev_loop *loop;
    int fd;
    enum conn_state state;
    const conn_cbs *cbs;     /* NULL once the user let go (conn_close_flush) */
    void *ud;
    SSL *ssl;                /* NULL: plain TCP */

    unsigned mask;           /* interest registered with the loop */
    bool registered;         /* fd known to the loop */
    bool read_paused;
    bool closed;             /* conn_close() called; free when idle */
    bool in_kick;            /* inside the kick timer's callback */
    bool ssl_read_wants_write;
    bool ssl_write_wants_read;
    bool hs_wants_write;
    bool is_client;
    bool detached;           /* conn_close_flush(): the layer owns it now */
    bool fail_on_connect;    /* the failure is reported through on_connect */
    bool fail_reported;
    int depth;               /* nesting of callbacks into the user */
    int cork;
    int err;                 /* sticky error once FAILED */
    char *errmsg;            /* allocated on the first error only */

    buf_t out;
    ev_timer timer;          /* connect timeout, close-flush timeout */
    ev_timer kick;           /* work for the loop: failure reports, bytes
                              * buffered inside OpenSSL (stoppable, unlike
                              * ev_defer, so close frees at once) */
    uint64_t nread;          /* bytes handed out by conn_read (progress) */

    conn_addr peer;
    struct conn_connecting *cc;
};

/* conn.c */
conn *conn_new(ev_loop *loop, int fd, const conn_addr *peer);
void conn_update_mask(conn *c);
/* Runs the conn's pending work from the loop: in this iteration, or after
 * 1 ms when asked from that work itself (so it can never spin in place). */
void conn_schedule(conn *c);
void conn_set_error(conn *c, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The conn has become usable (connected / handshake done). */
void conn_opened(conn *c);
/* Fails the conn: records err, releases the socket's interest, reports it. */
void conn_fail(conn *c, int err);
bool conn_enter(conn *c);
bool conn_leave(conn *c);

/* conn_tls.c */
conn_tls *conn_tls_ref(conn_tls *t);
/* Creates the SSL object for fd (client: with name checks). 0 or -errno. */
int conn_tls_attach(conn *c, conn_tls *t, const char *server_name);
/* One handshake step: 1 done, 0 in progress, < 0 failed (message set). */
int conn_tls_handshake(conn *c);
ssize_t conn_tls_read(conn *c, void *buf, size_t len);
/* Writes from p until done or blocked: bytes written (< len: blocked) or -errno. */
ssize_t conn_tls_write(conn *c, const void *p, size_t len);
/* Error text of OpenSSL's queue (or of errno) after a failed call. */
int conn_tls_error(conn *c, int ssl_err, const char *what);

/* conn_connect.c */
void conn_connect_io(conn *c);
void conn_connect_free(conn *c);

/* conn_addr.c */
/* Resolves host (numeric, "[v6]", "localhost", or a name through the
 * blocking getaddrinfo) into up to max addresses. n > 0 or -errno with err. */
int conn_addr_resolve(const char *host, int port, conn_addr *out, int max, char *err,
                      size_t errlen);
void conn_addr_format(const conn_addr *a, char *buf, size_t len);
bool conn_host_is_ip(const char *host);

#endif
