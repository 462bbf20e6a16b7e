/*
 * curl_loop.h — libcurl's multi interface driven by the ev loop: HTTP(S)
 * requests that never block, each ending in one completion callback.
 *
 *   curlm *m = curlm_new(loop);
 *   curlm_xfer *x = curlm_xfer_new(m, "https://kube/api/v1/pods", on_done, ctx);
 *   curlm_xfer_add_header(x, "Authorization: Bearer ...");
 *   curl_easy_setopt(curlm_easy(x), CURLOPT_CAINFO, ca_path);   // any option
 *   curlm_start(x);
 *   ...
 *   static void on_done(curlm_xfer *x, const curlm_result *r, void *ctx)
 *   { if (r->code == CURLE_OK && r->status == 200) use(buf_data(r->body)); }
 *
 * Sockets are watched through CURLMOPT_SOCKETFUNCTION (ev_io_set/ev_io_del)
 * and curl's timeouts through CURLMOPT_TIMERFUNCTION (one ev_timer); both
 * call curl_multi_socket_action, and finished transfers are collected with
 * curl_multi_info_read.
 *
 * Bodies: by default the response body is collected into a buffer of at
 * most CURLM_BODY_MAX bytes (curlm_xfer_set_body_max); a larger body aborts
 * the transfer (code CURLE_WRITE_ERROR, body_too_large set). With
 * curlm_xfer_on_data() the body is handed over piece by piece instead (for
 * watch streams); a negative return aborts the transfer. The HTTP status is
 * known in the data callback: curl_easy_getinfo(curlm_easy(x),
 * CURLINFO_RESPONSE_CODE, &status).
 *
 * Defaults set on every transfer: http and https only, no signals, connect
 * timeout CURLM_CONNECT_TIMEOUT_MS, total timeout CURLM_TIMEOUT_MS (set
 * CURLOPT_TIMEOUT_MS to 0 for a watch, with CURLOPT_LOW_SPEED_* instead),
 * TCP keep-alive, no proxy from the environment, user agent CURLM_USER_AGENT.
 *
 * Ownership: a transfer belongs to the curlm from curlm_xfer_new() until
 * its completion callback returns (then it is freed: do not keep x) or
 * curlm_cancel(). Header strings are copied. Callbacks may start and cancel
 * transfers and call curlm_free(). curlm_free() must run before
 * ev_loop_free(). One thread, like the loop.
 */
#ifndef LIFTOFF_CURL_LOOP_H
#define LIFTOFF_CURL_LOOP_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "buf.h"
#include "ev.h"

#define CURLM_BODY_MAX (8u << 20)        /* default response body cap, bytes */
#define CURLM_CONNECT_TIMEOUT_MS 10000L  /* default connect timeout */
#define CURLM_TIMEOUT_MS 30000L          /* default whole-transfer timeout */
#define CURLM_USER_AGENT "liftoff"

typedef struct curlm curlm;
typedef struct curlm_xfer curlm_xfer;

typedef struct curlm_result {
    CURLcode code;          /* CURLE_OK when a response arrived, whatever its status */
    long status;            /* HTTP status; 0 when no response */
    buf_t *body;            /* the collected body (empty when streaming); the
                             * callback may take its memory (copy the buf_t,
                             * then buf_init() this one) */
    bool body_too_large;    /* aborted: the body exceeded its cap */
    const char *error;      /* readable reason ("" on success); never NULL */
} curlm_result;

typedef void curlm_done_cb(curlm_xfer *x, const curlm_result *res, void *arg);
/* A piece of the body: return 0 to go on, negative to abort the transfer. */
typedef int curlm_data_cb(curlm_xfer *x, const char *data, size_t len, void *arg);

/* A multi handle on loop; NULL if libcurl cannot be initialised. */
curlm *curlm_new(ev_loop *loop);
/* Stops every transfer (no callbacks), frees them and the multi handle.
 * NULL-safe; from a callback, the freeing happens when the callback returns. */
void curlm_free(curlm *m);
/* Transfers started and not yet finished or cancelled. */
size_t curlm_active(const curlm *m);

/* A transfer of url (GET unless options say otherwise), not started yet. */
curlm_xfer *curlm_xfer_new(curlm *m, const char *url, curlm_done_cb *done, void *arg);
/* The easy handle, for any curl_easy_setopt / curl_easy_getinfo. */
CURL *curlm_easy(curlm_xfer *x);
/* Adds a request header line ("Name: value"); copied. */
void curlm_xfer_add_header(curlm_xfer *x, const char *header);
/* Caps the collected body (default CURLM_BODY_MAX). */
void curlm_xfer_set_body_max(curlm_xfer *x, size_t max);
/* Streams the body to cb instead of collecting it. */
void curlm_xfer_on_data(curlm_xfer *x, curlm_data_cb *cb);
/* Starts the transfer: 0, or -EIO if curl refuses it (x is then freed). */
int curlm_start(curlm_xfer *x);
/* Stops and frees a transfer (started or not) without calling its
 * completion callback. No-op on a transfer whose completion is running. */
void curlm_cancel(curlm_xfer *x);

/* curlm_xfer_new + curlm_start: 0 or -EIO. */
int curlm_get(curlm *m, const char *url, curlm_done_cb *done, void *arg);

#endif
