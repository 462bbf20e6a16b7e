/*
 * http_server_int.h — internals shared by http_server.c (connections, the
 * request loop) and http_server_res.c (the request and response API). Not
 * for other modules.
 */
#ifndef LIFTOFF_HTTP_SERVER_INT_H
#define LIFTOFF_HTTP_SERVER_INT_H

#include "buf.h"
#include "http_server.h"

#define HTTP_SERVER_RES_HEAD_MAX (64u << 10) /* response head bytes */
#define HTTP_SERVER_SPARE_MAX 64             /* finished requests kept for reuse */
#define HTTP_SERVER_SPARE_KEEP 4096u         /* ... with head buffers up to this */

typedef struct hconn hconn;

struct http_server {
    ev_loop *loop;
    conn_listener *listener;
    http_server_opts o;          /* defaults filled in */
    hconn *conns;                /* doubly linked */
    size_t nconns;
    http_server_stats stats;
    bool draining;
    void (*drain_done)(http_server *s, void *arg);
    void *drain_arg;
    ev_timer drain_timer;        /* reports the end of a drain from the loop */
    http_req *spare;             /* finished requests kept for reuse */
    size_t nspare;
    size_t live_reqs;            /* requests not yet freed (handlers may outlive
                                  * the server: it is freed after the last) */
    bool freed;                  /* http_server_free() was called */
};

/* What the read timer of a connection is waiting for. */
enum hconn_wait {
    HC_WAIT_NONE,     /* nothing: a handler holds the request */
    HC_WAIT_NEW,      /* first request on a new connection */
    HC_WAIT_IDLE,     /* next request on a kept-alive connection, no byte yet */
    HC_WAIT_HEAD,     /* the rest of a head */
    HC_WAIT_BODY,     /* more of a request body */
};

struct hconn {
    http_server *srv;
    conn *c;
    hconn *prev, *next;
    buf_t in;                    /* received, not yet consumed */
    http_head_parser parser;
    http_header *hdrs;           /* parse scratch: limits.headers_max fields */
    http_req *req;               /* the request being served, or NULL */
    unsigned served;             /* requests finished on this connection */
    ev_timer rtimer;             /* header / body / idle timeout */
    ev_timer wtimer;             /* send timeout */
    enum hconn_wait wait;
    int depth;                   /* nesting of entry points */
    bool closing;                /* close after the current response */
    bool eof;                    /* the client closed its side */
    bool read_paused;
    bool doomed;                 /* to be destroyed when depth drops to 0 */
    bool doom_flush;             /* ... sending queued output first */
    bool processing;
    bool reprocess;
    char peer[CONN_ADDR_STR_MAX]; /* "ip:port", formatted on first use */
};

struct http_req {
    http_server *srv;
    http_req *next_spare;        /* in srv->spare */
    hconn *hc;                   /* NULL once dead */
    int refs;                    /* the connection's + the handler's */
    pool pool;
    http_request head;           /* slices into pool memory */

    http_body body;              /* request body decoder */
    bool streaming;
    bool dispatched;             /* handed to the handler */
    bool reader;                 /* http_req_read_body() called */
    bool body_paused;
    bool body_ended;             /* on_end called */
    bool sent_continue;
    buf_t body_buf;              /* buffered mode */
    http_body_data_cb *on_data;
    http_body_end_cb *on_end;
    void *body_arg;

    buf_t res_fields;            /* fields added by the handler */
    buf_t res_head;              /* the response head, until sent */
    bool res_started;
    bool res_done;               /* the response is complete (or abandoned) */
    bool res_chunked;
    bool res_nobody;             /* HEAD, 1xx, 204, 304 */
    bool res_has_date;           /* the handler gave a Date */
    int64_t res_left;            /* Content-Length bytes still due; -1: none */
    bool handler_done;
    bool cancelled;
    void (*on_cancel)(http_req *r, void *arg);
    void *cancel_arg;
    void (*on_drain)(http_req *r, void *arg);
    void *drain_arg;
};

/* http_server.c */
void hconn_enter(hconn *hc);
void hconn_leave(hconn *hc);
/* Marks hc for destruction (after flushing its output if flush). */
void hconn_doom(hconn *hc, bool flush);
/* Runs the request loop (or asks the running one to go round again). */
void hconn_process(hconn *hc);
/* Arms the send timeout if output is queued. */
void hconn_watch_output(hconn *hc);
/* Reads body bytes that are waiting (streaming mode after a resume). */
void hconn_kick_body(hconn *hc);

/* http_server_res.c */
/* A zeroed request of s (from its spares when there is one), refs 0. */
http_req *req_alloc(http_server *s);
/* Drops a reference; the last one frees r (or keeps it as a spare). */
void req_unref(http_req *r);
/* Frees the spares (the server is going). */
void req_free_spares(http_server *s);
/* Sends an error response if none started, then closes the connection. */
void req_fail(hconn *hc, int status, const char *why);
/* Sends "100 Continue" once if the client asked for it. */
void req_send_continue(http_req *r);

#endif
