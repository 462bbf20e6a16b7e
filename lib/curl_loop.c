/* curl_loop.c — libcurl's multi interface on the ev loop (see curl_loop.h).
 *
 * Re-entrancy: libcurl forbids multi calls from inside its own callbacks
 * (the write callback runs inside curl_multi_socket_action). So while an
 * action runs (m->in_action), curlm_start() and curlm_cancel() only queue
 * their work, and drive() carries it out once the action returns.
 * Completion callbacks run after the action, where anything is allowed;
 * curlm_free() from any callback is deferred to the end of drive(). */
#include "curl_loop.h"
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct curlm_xfer {
    curlm *m;
    CURL *easy;
    struct curl_slist *headers;
    curlm_done_cb *done;
    curlm_data_cb *data_cb;
    void *arg;
    buf_t body;
    size_t body_max;
    bool in_multi;         /* added to the multi handle */
    bool start_pending;    /* curlm_start() during an action */
    bool cancelled;        /* curlm_cancel() during an action */
    bool finishing;        /* its completion callback is running */
    bool too_large;
    curlm_xfer *prev, *next;  /* every transfer of m */
    char errbuf[CURL_ERROR_SIZE];
};

struct curlm {
    ev_loop *loop;
    CURLM *multi;
    ev_timer timer;
    curlm_xfer *head;
    size_t active;         /* in the multi handle */
    int in_action;         /* inside curl_multi_socket_action */
    int dispatching;       /* inside completion callbacks */
    bool pending_work;     /* some transfer has start_pending or cancelled */
    bool free_pending;     /* curlm_free() was called from a callback */
};

static bool g_curl_ready;

/* ---- transfers ---- */

static void xfer_unlink_free(curlm_xfer *x)
{
    curlm *m = x->m;
    if (x->in_multi) {
        curl_multi_remove_handle(m->multi, x->easy);
        x->in_multi = false;
        m->active--;
    }
    if (x->prev)
        x->prev->next = x->next;
    else
        m->head = x->next;
    if (x->next)
        x->next->prev = x->prev;
    curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    buf_free(&x->body);
    free(x);
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *arg)
{
    curlm_xfer *x = arg;
    size_t n = size * nmemb;
    if (x->cancelled)
        return n ? 0 : 1; /* anything but n aborts */
    if (x->data_cb) {
        if (x->data_cb(x, p, n, x->arg) < 0)
            return n ? 0 : 1;
        return n;
    }
    if (buf_append(&x->body, p, n) < 0) {
        x->too_large = true;
        return 0;
    }
    return n;
}

curlm_xfer *curlm_xfer_new(curlm *m, const char *url, curlm_done_cb *done, void *arg)
{
    CURL *e = curl_easy_init();
    if (!e)
        abort(); /* only on out-of-memory, like xmalloc */
    curlm_xfer *x = xcalloc(1, sizeof *x);
    x->m = m;
    x->easy = e;
    x->done = done;
    x->arg = arg;
    x->body_max = CURLM_BODY_MAX;
    buf_init(&x->body, x->body_max);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, CURLM_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, CURLM_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_USERAGENT, CURLM_USER_AGENT);
    x->next = m->head;
    if (m->head)
        m->head->prev = x;
    m->head = x;
    return x;
}

CURL *curlm_easy(curlm_xfer *x) { return x->easy; }

void curlm_xfer_add_header(curlm_xfer *x, const char *header)
{
    struct curl_slist *l = curl_slist_append(x->headers, header);
    if (!l)
        abort(); /* out of memory */
    x->headers = l;
}

void curlm_xfer_set_body_max(curlm_xfer *x, size_t max)
{
    x->body_max = max ? max : 1;
    x->body.max = x->body_max;
}

void curlm_xfer_on_data(curlm_xfer *x, curlm_data_cb *cb) { x->data_cb = cb; }

static int add_to_multi(curlm_xfer *x)
{
    if (x->headers)
        curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
    if (curl_multi_add_handle(x->m->multi, x->easy) != CURLM_OK)
        return -EIO;
    x->in_multi = true;
    x->m->active++;
    return 0;
}

int curlm_start(curlm_xfer *x)
{
    if (x->in_multi || x->start_pending)
        return 0;
    if (x->m->in_action) {
        x->start_pending = true;
        x->m->pending_work = true;
        return 0;
    }
    int rc = add_to_multi(x);
    if (rc < 0)
        xfer_unlink_free(x);
    return rc;
}

void curlm_cancel(curlm_xfer *x)
{
    if (!x || x->finishing)
        return;
    if (x->m->in_action) {
        x->cancelled = true;
        x->m->pending_work = true;
        return;
    }
    xfer_unlink_free(x);
}

int curlm_get(curlm *m, const char *url, curlm_done_cb *done, void *arg)
{
    return curlm_start(curlm_xfer_new(m, url, done, arg));
}

size_t curlm_active(const curlm *m) { return m->active; }

/* ---- driving curl from the loop ---- */

/* Runs x's completion callback, then frees x. */
static void complete(curlm *m, curlm_xfer *x, const curlm_result *res)
{
    x->finishing = true;
    m->dispatching++;
    if (x->done)
        x->done(x, res, x->arg);
    m->dispatching--;
    xfer_unlink_free(x);
}

/* Carries out starts and cancels queued during an action. A start that
 * curl refuses completes at once with CURLE_FAILED_INIT. */
static void run_pending(curlm *m)
{
    while (m->pending_work) {
        m->pending_work = false;
        for (curlm_xfer *x = m->head, *next; x; x = next) {
            next = x->next;
            if (x->cancelled) {
                xfer_unlink_free(x);
            } else if (x->start_pending) {
                x->start_pending = false;
                if (add_to_multi(x) < 0) {
                    snprintf(x->errbuf, sizeof x->errbuf, "curl refused the transfer");
                    curlm_result res = { CURLE_FAILED_INIT, 0, &x->body, false, x->errbuf };
                    complete(m, x, &res);
                    if (m->free_pending)
                        return;
                    next = m->head; /* the callback may have changed the list */
                }
            }
        }
    }
}

static void finish(curlm *m, curlm_xfer *x, CURLcode code)
{
    curlm_result res = { .code = code, .status = 0, .body = &x->body, .error = "" };
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &res.status);
    if (x->too_large) {
        res.body_too_large = true;
        snprintf(x->errbuf, sizeof x->errbuf, "response body larger than %zu bytes", x->body_max);
    }
    if (code != CURLE_OK)
        res.error = x->errbuf[0] ? x->errbuf : curl_easy_strerror(code);
    curl_multi_remove_handle(m->multi, x->easy);
    x->in_multi = false;
    m->active--;
    complete(m, x, &res);
}

static void really_free(curlm *m);

static void dispatch(curlm *m)
{
    CURLMsg *msg;
    int left;
    while (!m->free_pending && (msg = curl_multi_info_read(m->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        char *priv = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        curlm_xfer *x = (curlm_xfer *)priv;
        if (!x)
            continue;
        if (x->cancelled)
            xfer_unlink_free(x);
        else
            finish(m, x, msg->data.result);
    }
}

static void drive(curlm *m, curl_socket_t fd, int flags)
{
    int running = 0;
    m->in_action++;
    curl_multi_socket_action(m->multi, fd, flags, &running);
    m->in_action--;
    run_pending(m);
    if (!m->free_pending)
        dispatch(m);
    if (m->free_pending)
        really_free(m);
}

static void on_io(ev_loop *loop, int fd, unsigned events, void *arg)
{
    LO_UNUSED(loop);
    int flags = 0;
    if (events & EV_READ)
        flags |= CURL_CSELECT_IN;
    if (events & EV_WRITE)
        flags |= CURL_CSELECT_OUT;
    drive(arg, fd, flags);
}

static void on_timer(ev_loop *loop, ev_timer *t, void *arg)
{
    LO_UNUSED(loop);
    LO_UNUSED(t);
    drive(arg, CURL_SOCKET_TIMEOUT, 0);
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    LO_UNUSED(e);
    LO_UNUSED(socketp);
    curlm *m = userp;
    if (what == CURL_POLL_REMOVE) {
        ev_io_del(m->loop, s);
        return 0;
    }
    unsigned events = 0;
    if (what & CURL_POLL_IN)
        events |= EV_READ;
    if (what & CURL_POLL_OUT)
        events |= EV_WRITE;
    return ev_io_set(m->loop, s, events, on_io, m) < 0 ? -1 : 0;
}

static int on_timer_change(CURLM *multi, long timeout_ms, void *userp)
{
    LO_UNUSED(multi);
    curlm *m = userp;
    if (timeout_ms < 0)
        ev_timer_stop(m->loop, &m->timer);
    else
        ev_timer_start(m->loop, &m->timer, (uint64_t)timeout_ms);
    return 0;
}

curlm *curlm_new(ev_loop *loop)
{
    if (!g_curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return NULL;
        g_curl_ready = true;
    }
    curlm *m = xcalloc(1, sizeof *m);
    m->loop = loop;
    m->multi = curl_multi_init();
    if (!m->multi) {
        free(m);
        return NULL;
    }
    ev_timer_init(&m->timer, on_timer, m);
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, on_timer_change);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
    return m;
}

static void really_free(curlm *m)
{
    while (m->head)
        xfer_unlink_free(m->head);
    curl_multi_cleanup(m->multi); /* may still report sockets and timers */
    ev_timer_stop(m->loop, &m->timer);
    free(m);
}

void curlm_free(curlm *m)
{
    if (!m)
        return;
    if (m->in_action || m->dispatching) {
        m->free_pending = true;
        return;
    }
    really_free(m);
}
