/*
 * http_client.h — an HTTP/1.1 client on the ev loop and the conn layer, for
 * proxying and for talking to servers in tests: a keep-alive connection
 * pool per upstream (host, port, TLS or not), request bodies whole or
 * streamed (Content-Length or chunked), responses parsed with http_parse
 * (Content-Length, chunked, close-delimited, HEAD, 1xx skipped), response
 * bodies streamed to a callback or buffered, connect / response / read
 * timeouts, and a clear error when the upstream closes early.
 *
 * Ownership: the client owns its connections; a request (http_creq) is
 * owned by the client from http_client_request() until on_done returns (it
 * is freed right after) or http_creq_cancel() is called. The response head
 * and the buffered body live as long as the request.
 *
 * Retries: a request that fails on a reused keep-alive connection before any
 * byte of the response arrived (the upstream closed the idle connection
 * meanwhile) is sent again once on a fresh connection, if its method is
 * idempotent and its body was not streamed.
 *
 * Not thread-safe. http_client_free() must not be called from inside one of
 * the client's callbacks.
 */
#ifndef LIFTOFF_HTTP_CLIENT_H
#define LIFTOFF_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "conn.h"
#include "ev.h"
#include "http_parse.h"

#define HTTP_CLIENT_IDLE_PER_HOST_DEFAULT 16u
#define HTTP_CLIENT_IDLE_TIMEOUT_DEFAULT_MS 30000u   /* idle pooled connection kept */
#define HTTP_CLIENT_RESPONSE_TIMEOUT_DEFAULT_MS 30000u /* request issued -> head read */
#define HTTP_CLIENT_READ_TIMEOUT_DEFAULT_MS 30000u   /* between reads of a body */
#define HTTP_CLIENT_BODY_BUFFER_DEFAULT (8u << 20)   /* buffered response body */
#define HTTP_CLIENT_READ_CHUNK (16u << 10)
#define HTTP_CLIENT_ERROR_MAX 256

typedef struct http_client http_client;
typedef struct http_creq http_creq;

typedef struct http_client_opts {
    http_limits limits;            /* response parsing; zero fields: defaults */
    uint32_t connect_timeout_ms;   /* 0: conn default */
    uint32_t response_timeout_ms;  /* 0: default */
    uint32_t read_timeout_ms;      /* 0: default */
    uint32_t idle_timeout_ms;      /* 0: default */
    unsigned max_idle_per_host;    /* 0: default */
    size_t body_buffer_max;        /* 0: default; for requests without on_data */
    conn_tls *tls;                 /* client TLS context for https upstreams, or NULL */
} http_client_opts;

typedef struct http_client_req {
    const char *method;            /* "GET", ... */
    const char *host;              /* numeric address or "localhost" */
    int port;
    bool tls;                      /* use the client's TLS context */
    const char *target;            /* "/path?query" */
    const char *host_header;       /* NULL: host[:port] */
    const http_header *headers;    /* extra fields; no CR/LF in them */
    unsigned nheaders;
    /* method, target, host_header and headers are slices of a request the
     * http parser accepted (a proxy forwarding one), or made of such slices,
     * literals and numbers: their bytes were checked there and are not
     * looked at again. */
    bool parsed;
    const void *body;              /* whole body, sent with Content-Length */
    size_t body_len;
    bool body_stream;              /* body through http_creq_write/_end instead */
    int64_t body_stream_length;    /* with body_stream: >= 0 Content-Length, -1 chunked */
    uint32_t response_timeout_ms;  /* 0: the client's */
    bool no_reuse;                 /* a fresh connection, closed afterwards */

    /* The final response head (1xx are skipped). May be NULL. */
    void (*on_head)(http_creq *q, const http_response *res, void *ud);
    /* A piece of the response body (valid during the call). NULL: the body
     * is buffered (up to body_buffer_max) for http_creq_body(). */
    void (*on_data)(http_creq *q, const char *data, size_t len, void *ud);
    /* Queued request bytes have all been written (back-pressure). May be NULL. */
    void (*on_drain)(http_creq *q, void *ud);
    /* The end: 0 (complete response) or -errno: -ECONNREFUSED, -ETIMEDOUT
     * (connect, response or read timeout), -ECONNRESET (upstream closed
     * early), -EPROTO (invalid response), -EFBIG (body over the limit), ...;
     * http_creq_error() says more. q is freed when this returns. Required. */
    void (*on_done)(http_creq *q, int err, void *ud);
    void *ud;
} http_client_req;

/* A client on loop; o may be NULL (defaults). Free with http_client_free(). */
http_client *http_client_new(ev_loop *loop, const http_client_opts *o);
/* Closes every connection; requests in flight end without callbacks.
 * NULL-safe. */
void http_client_free(http_client *c);
/* Idle pooled connections (all upstreams). */
size_t http_client_idle_count(const http_client *c);
/* Connections opened so far (for tests and metrics). */
uint64_t http_client_connects(const http_client *c);

/* Starts a request: 0 (and *out, may be NULL) or -EINVAL for unusable
 * options. The outcome always arrives through on_done, never inside this
 * call. */
int http_client_request(http_client *c, const http_client_req *o, http_creq **out);
/* Abandons q: no callbacks afterwards, q is freed (its connection closed
 * unless idle). */
void http_creq_cancel(http_creq *q);
/* Streamed request body: sends data (chunk-framed if chunked). 0 or -errno. */
int http_creq_write(http_creq *q, const void *data, size_t len);
/* Ends a streamed request body. 0 or -errno. */
int http_creq_end(http_creq *q);
/* Request bytes queued and not yet written. */
size_t http_creq_pending(const http_creq *q);
/* Stops / restarts delivery of the response body (back-pressure). */
void http_creq_pause(http_creq *q);
void http_creq_resume(http_creq *q);
/* The final response head once on_head has run, else NULL. */
const http_response *http_creq_response(const http_creq *q);
/* The buffered body (NUL-terminated), when on_data is NULL. */
const char *http_creq_body(const http_creq *q, size_t *len);
/* A readable reason for the failure, "" if none. */
const char *http_creq_error(const http_creq *q);
/* True if the request went on a pooled (reused) connection. */
bool http_creq_reused(const http_creq *q);
/* From on_head (a 101 Switching Protocols, say): takes q's connection out
 * of the client. The bytes that followed the head are appended to rest
 * (may be NULL: dropped); the conn gets cbs/ud, reading on; the caller
 * owns *out (conn_close() / conn_close_flush()). q ends without on_done
 * and is freed once the callback returns. 0, -EINVAL (no head yet or no
 * connection), -ENOBUFS (rest too small; nothing changed). */
int http_creq_take_conn(http_creq *q, const conn_cbs *cbs, void *ud, conn **out, buf_t *rest);

#endif
