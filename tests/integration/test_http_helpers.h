/*
 * test_http_helpers.h — shared by the http integration tests: a test
 * server with a few routes on the http_server core, a raw TCP client that
 * sends exact bytes and keeps everything it receives, a runner for the curl
 * command line tool that keeps the loop turning meanwhile, and a splitter
 * for the responses in a raw byte stream.
 */
#ifndef LIFTOFF_TEST_HTTP_HELPERS_H
#define LIFTOFF_TEST_HTTP_HELPERS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "conn.h"
#include "ev.h"
#include "http_server.h"
#include "test_conn_helpers.h"

/* ---- the test server ----
 * Routes (any method unless said):
 *   /hello                200 "hello\n"
 *   /echo                 200 with the request body (buffered mode only)
 *   /info                 200 "method=M path=P host=H body=N ka=0|1"
 *   /async?ms=N           200 "late\n" after N ms (a timer; cancelled cleanly)
 *   /hold                 never answers until tsrv_release_held()
 *   /chunked?n=N          200 chunked: N lines "line <i>\n"
 *   /big?n=N              200 with N bytes of 'x', Content-Length
 *   /status?code=N        status N, no body
 *   /short                200 announcing 10 bytes, sending 3 (so the server closes)
 *   /framing              the handler adds Content-Length, Transfer-Encoding,
 *                         Connection: close and Date fields of its own
 *   /release              the handler gives up: the server answers 500
 *   /sum                  streaming mode: reads the body, answers "<bytes>\n"
 *   anything else         404
 */
typedef struct tsrv {
    ev_loop *loop;
    http_server *s;
    int port;
    int requests;         /* handler calls */
    int cancels;          /* cancel callbacks */
    int late_dead;        /* delayed answers that found the client gone */
    int held_n;
    http_req *held[16];
    long long sum_bytes;  /* /sum: bytes of the last body */
    int sum_pieces;       /* /sum: on_data calls */
    int sum_end_err;      /* /sum: on_end status */
} tsrv;

/* Starts a server on 127.0.0.1 with opts (NULL: defaults; on_request and arg
 * are set by the helper). NULL on failure. */
tsrv *tsrv_start(ev_loop *loop, const http_server_opts *opts);
/* Answers every held request with 200 "released\n". */
void tsrv_release_held(tsrv *t);
void tsrv_stop(tsrv *t);

/* ---- a raw client ---- */
typedef struct rawc {
    conn *c;
    buf_t got;
    bool connected;
    bool eof;
    int err;
} rawc;

rawc *rawc_open(ev_loop *loop, int port);
int rawc_send(rawc *r, const char *s, size_t n);
int rawc_sends(rawc *r, const char *s);
/* NUL-terminated copy of what arrived so far (static buffer, 1 MiB). */
const char *rawc_text(rawc *r);
bool rawc_has(rawc *r, const char *needle);
void rawc_close(rawc *r);

/* Parses the responses in s[0..n): fills statuses (up to max) and returns
 * their count; *rest gets the offset after the last complete one. Responses
 * to HEAD are not supported. */
int split_responses(const char *s, size_t n, int *statuses, int max, size_t *rest);

/* ---- curl ---- */
/* Runs "curl <args>" through sh with the loop turning; returns its exit
 * status (-1 if it could not run) and puts stdout in *out (caller frees;
 * may be NULL) and stderr in *err (may be NULL). */
int run_curl(ev_loop *loop, const char *args, char **out, char **err);
/* Runs a shell command line the same way. */
int run_sh(ev_loop *loop, const char *cmdline, char **out, char **err);
bool have_curl(void);

#endif
