/*
 * http_server.h — an HTTP/1.1 server on the ev loop and the conn layer:
 * keep-alive, pipelining (answered in order), bodies buffered or streamed,
 * chunked request bodies, Expect: 100-continue, timeouts against slow
 * clients, a connection cap, and a graceful drain. Services route requests
 * themselves: there is one handler.
 *
 * Requests: the handler receives an http_req when its head has been parsed
 * (streamed bodies) or when its whole body is in memory (buffered bodies,
 * the default). It answers then or later (e.g. after a Redis write): every
 * request handed to the handler must be finished exactly once, by
 * http_respond(), http_res_end() or http_req_release(); the handle stays
 * valid until then, even if the client went away. A request whose client
 * is gone is "dead": http_req_alive() says false, the cancel callback (if
 * set) has run once, and response calls do nothing but return -ECONNRESET.
 *
 * Memory: each request has a pool (http_req_pool()) freed with the request;
 * the head, the headers and a buffered body live in it. The server frees
 * everything it allocated in http_server_free(). Requests still held by
 * handlers at that point are dead and are freed when the handler finishes
 * them.
 *
 * Errors answered by the server itself, closing the connection: 400 (bad
 * syntax, smuggling attempts), 413 (body over the limit), 414 (request line),
 * 431 (head), 417 (unknown expectation), 501 (transfer coding), 505
 * (version), 408 (header or body timeout after some bytes), 503 (beyond
 * max_conns). An Upgrade request is answered as a plain request unless
 * the handler takes its connection over (http_req_take_conn).
 *
 * A client that closes its side while a request is in progress is taken to
 * have gone away (the request turns dead), as nginx does by default.
 *
 * Not thread-safe: one loop, one thread.
 */
#ifndef LIFTOFF_HTTP_SERVER_H
#define LIFTOFF_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "conn.h"
#include "ev.h"
#include "http_parse.h"
#include "pool.h"

#define HTTP_SERVER_MAX_CONNS_DEFAULT 4096u
#define HTTP_SERVER_MAX_REQUESTS_DEFAULT 1000u     /* per connection */
#define HTTP_SERVER_HEADER_TIMEOUT_DEFAULT_MS 10000u
#define HTTP_SERVER_BODY_TIMEOUT_DEFAULT_MS 10000u  /* between body reads */
#define HTTP_SERVER_IDLE_TIMEOUT_DEFAULT_MS 60000u  /* keep-alive idle */
#define HTTP_SERVER_SEND_TIMEOUT_DEFAULT_MS 30000u  /* output stuck this long */
#define HTTP_SERVER_BODY_BUFFER_DEFAULT (1u << 20)  /* buffered body, bytes */
#define HTTP_SERVER_READ_CHUNK (16u << 10)          /* bytes per read() */

typedef struct http_server http_server;
typedef struct http_req http_req;

typedef void http_handler(http_req *r, void *arg);

typedef struct http_server_opts {
    const char *host;            /* NULL: "::" */
    int port;                    /* 0: ephemeral, see http_server_port() */
    int backlog;                 /* 0: conn default */
    bool reuseport;
    conn_tls *tls;               /* NULL: plain HTTP */
    http_limits limits;          /* zero fields: parser defaults */
    uint32_t max_conns;          /* 0: default; more are answered 503 and closed */
    uint32_t max_requests;       /* per connection; 0: default */
    uint32_t header_timeout_ms;  /* 0: default; a head must be complete this long
                                  * after accept (first request) or after its
                                  * first byte (later requests) */
    uint32_t body_timeout_ms;    /* 0: default; between reads of a body */
    uint32_t idle_timeout_ms;    /* 0: default; keep-alive wait for the next request */
    uint32_t send_timeout_ms;    /* 0: default */
    size_t body_buffer_max;      /* 0: default; buffered bodies over it get 413 */
    bool stream_bodies;          /* handler at the head; body via http_req_read_body() */
    http_handler *on_request;    /* required */
    void *arg;
} http_server_opts;

typedef struct http_server_stats {
    uint64_t accepted;        /* connections taken */
    uint64_t refused;         /* connections over max_conns */
    uint64_t requests;        /* requests handed to the handler */
    uint64_t errors;          /* requests answered 4xx/5xx by the server itself */
    uint64_t timeouts;        /* connections closed by a timeout */
} http_server_stats;

/* Listens and serves on loop. 0 or -errno; err gets a reason. */
int http_server_start(ev_loop *loop, const http_server_opts *o, http_server **out, char *err,
                      size_t errlen);
/* The bound port. */
int http_server_port(const http_server *s);
/* Open connections. */
size_t http_server_conn_count(const http_server *s);
const http_server_stats *http_server_stats_get(const http_server *s);
/* Graceful drain: stops accepting, closes idle keep-alive connections, lets
 * requests in progress finish (with "Connection: close"), then calls
 * done(s, arg) once no connection is left (from the loop, never inside this
 * call). Free the server afterwards (or from done). */
void http_server_drain(http_server *s, void (*done)(http_server *s, void *arg), void *arg);
/* Closes the listener and every connection now; requests still held by
 * handlers turn dead (their cancel callbacks run). NULL-safe. */
void http_server_free(http_server *s);

/* ---- the request ---- */

/* The parsed head; valid until the request is finished. */
const http_request *http_req_head(const http_req *r);
/* The first field named name (case-insensitive), or NULL. */
const http_header *http_req_header(const http_req *r, const char *name);
/* The buffered body (NUL-terminated for convenience; empty if none). Only
 * for buffered bodies; NULL in streaming mode. */
const char *http_req_body(const http_req *r, size_t *len);
/* The request's pool: memory freed when the request is finished. */
pool *http_req_pool(http_req *r);
/* The client's address as "ip:port" (CONN_ADDR_STR_MAX is enough). */
void http_req_peer(const http_req *r, char *buf, size_t len);
/* False once the client has gone away (or the server was freed). */
bool http_req_alive(const http_req *r);
/* cb(r, arg) runs once if the client goes away before the response is
 * complete. The handler must still finish r afterwards. */
void http_req_on_cancel(http_req *r, void (*cb)(http_req *r, void *arg), void *arg);

/* Streaming mode: delivers the body as it arrives: on_data for each piece
 * (valid during the call only), then on_end(r, 0) at its end, or on_end(r,
 * err) if it cannot complete (-ECONNRESET client gone, -ETIMEDOUT,
 * -EPROTO malformed chunked coding, -EFBIG over the body limit). on_end
 * runs at once for a request without a body. Sends "100 Continue" if the
 * client asked for it. Call once. */
typedef void http_body_data_cb(http_req *r, const char *data, size_t len, void *arg);
typedef void http_body_end_cb(http_req *r, int err, void *arg);
void http_req_read_body(http_req *r, http_body_data_cb *on_data, http_body_end_cb *on_end,
                        void *arg);
/* Stops / restarts on_data (back-pressure, e.g. a slow upstream). */
void http_req_pause_body(http_req *r);
void http_req_resume_body(http_req *r);

/* ---- the response ---- */

/* Adds a response field (before the response starts). The server frames
 * the response itself: Content-Length and Transfer-Encoding given here are
 * dropped, and so is Connection (a "close" in it makes the server close the
 * connection after this response). A Date given here replaces the server's.
 * 0, -EINVAL (CR/LF in the text, a bad name, or the response already
 * started), or -ECONNRESET (dead request). */
int http_res_header(http_req *r, const char *name, const char *value);
/* As http_res_header, with name and value as slices (copied; they need no
 * NUL, and may not contain one). */
int http_res_header_str(http_req *r, http_str name, http_str value);
/* As http_res_header_str for a field of a message the http parser accepted
 * (a proxy copying its upstream's): its bytes were checked there (a token
 * name, a value free of CR, LF and NUL) and are not looked at again. */
int http_res_header_parsed(http_req *r, const http_header *h);
/* A whole response with a Content-Length body; finishes the request.
 * content_type may be NULL. 0 or -errno (the request is finished anyway). */
int http_respond(http_req *r, int status, const char *content_type, const void *body, size_t len);
/* Starts a streamed response with status 200..999 (1xx cannot be sent):
 * content_length >= 0 fixes the length, -1 sends chunked (or, to an
 * HTTP/1.0 client, ends the body by closing). */
int http_res_start(http_req *r, int status, int64_t content_length);
/* Sends body bytes (nothing for HEAD, 1xx, 204, 304). 0, -EINVAL (past
 * the announced length), -ENOBUFS (too much queued), -ECONNRESET. */
int http_res_write(http_req *r, const void *data, size_t len);
/* Ends the response and finishes the request (a short Content-Length body
 * makes the server close the connection). 0 or -errno. */
int http_res_end(http_req *r);
/* Response bytes queued and not yet sent. */
size_t http_res_pending(const http_req *r);
/* cb(r, arg) runs whenever queued response bytes have all been sent. */
void http_res_on_drain(http_req *r, void (*cb)(http_req *r, void *arg), void *arg);
/* Finishes the request without (more of) a response: a live request that
 * has not started its response gets a 500; a started one has its
 * connection closed. */
void http_req_release(http_req *r);

/* Takes the connection of r away from the server (for a protocol switch
 * after an Upgrade request, e.g. to tunnel it): r must be alive, its body
 * complete (none, for an Upgrade) and its response not started. The bytes
 * the client sent past the head are appended to rest (may be NULL: they
 * are dropped); the conn gets cbs/ud, reading on. r is finished by this
 * call (no cancel callback runs); the caller owns *out and closes it with
 * conn_close() or conn_close_flush(); it no longer counts against
 * max_conns or holds up a drain. 0, -ECONNRESET (dead request), -EINVAL
 * (not in that state), -ENOBUFS (rest too small; nothing changed). */
int http_req_take_conn(http_req *r, const conn_cbs *cbs, void *ud, conn **out, buf_t *rest);

#endif
