/* k8s_watch.c — the resuming watch stream (see k8s_watch.h).
 *
 * Each stream is one curl transfer with a streaming body. Lines are decoded
 * inside curl's write callback; an event that ends the stream (410, an
 * ERROR, a line too long) makes the callback abort the transfer, and the
 * completion decides what comes next: resume at once, resume after a
 * backoff, or stop as expired. A generation counter tells a callback
 * whether the owner replaced or stopped the stream meanwhile. */
#include "k8s_watch.h"
#include "k8s_int.h"
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WATCH_ERRBODY_MAX (64u << 10)  /* kept of a non-200 answer */
#define WATCH_BACKOFF_MAX_MS 30000u

struct k8s_watch {
    k8s__op op;             /* first: the client frees it with the client */
    k8s_client *c;
    k8s_res res;            /* a copy (k8s__res_dup) */
    char *ns;
    char *label_selector, *field_selector;
    uint32_t timeout_s;
    uint64_t backoff_base_ms, backoff_max_ms;
    char rv[K8S_RV_MAX];
    k8s_lines lines;
    curlm_xfer *x;          /* the open stream, or NULL */
    ev_timer timer;         /* the pending (re)start */
    unsigned failures;      /* consecutive failed streams */
    bool running;           /* wanted: not stopped, not expired */
    uint64_t gen;           /* bumped whenever the stream is replaced or dropped */
    /* the current stream */
    long http_status;
    buf_t errbody;
    bool expired;           /* a 410 ERROR event arrived */
    int stream_rc;          /* an error found in the body (ERROR event, bad line) */
    char message[256];
    uint64_t started_ms;
    uint64_t stream_events; /* events and bookmarks of this stream */
    k8s_watch_stats st;
    k8s_watch_cb *cb;
    void *arg;
};

static void really_free(k8s_watch *w)
{
    ev_timer_stop(k8s_client_loop(w->c), &w->timer);
    curlm_cancel(w->x);
    k8s_lines_free(&w->lines);
    buf_free(&w->errbody);
    k8s__res_free(&w->res);
    free(w->ns);
    free(w->label_selector);
    free(w->field_selector);
    free(w);
}

static void op_free(k8s__op *op) { really_free((k8s_watch *)(void *)op); }

/* Calls the owner; true if the watch still exists afterwards. When the
 * owner freed it, the freeing happens here (the caller must not touch w
 * when this returns false). */
static bool call(k8s_watch *w, const k8s_watch_event *ev)
{
    w->op.busy++;
    w->cb(w, ev, w->arg);
    return k8s__op_leave(w->c, &w->op);
}

static void set_message(k8s_watch *w, const char *msg)
{
    snprintf(w->message, sizeof w->message, "%s", msg ? msg : "");
}

/* ---- the stream body ---- */

static int on_line(const char *line, size_t len, void *arg)
{
    k8s_watch *w = arg;
    k8s_watch_event ev;
    if (k8s_watch_event_decode(line, len, &ev) < 0) {
        w->stream_rc = K8S_EBADMSG;
        set_message(w, "a watch line is not an event");
        return -EBADMSG;
    }
    int rc = 0;
    if (ev.type == K8S_EV_ERROR) {
        if (ev.code == 410) {
            w->expired = true;
        } else {
            w->stream_rc = k8s_status_rc(ev.code ? ev.code : 500,
                                         k8s__status_reason(ev.object));
        }
        set_message(w, ev.message);
        rc = -ECANCELED; /* the stream is over either way */
        k8s_watch_event_clear(&ev);
        return rc;
    }
    snprintf(w->rv, sizeof w->rv, "%s", ev.rv);
    w->stream_events++;
    if (ev.type == K8S_EV_BOOKMARK)
        w->st.bookmarks++;
    else
        w->st.events++;
    /* Not call(): a free from the callback is carried out by on_data, once
     * the splitter (inside w) is done. */
    uint64_t gen = w->gen;
    w->op.busy++;
    w->cb(w, &ev, w->arg);
    w->op.busy--;
    if (w->op.free_pending || w->gen != gen)
        rc = -ECANCELED; /* freed, stopped or replaced: drop the rest */
    k8s_watch_event_clear(&ev);
    return rc;
}

static int on_data(curlm_xfer *x, const char *data, size_t len, void *arg)
{
    k8s_watch *w = arg;
    if (x != w->x)
        return -1; /* a stream the owner dropped */
    if (!w->http_status)
        curl_easy_getinfo(curlm_easy(x), CURLINFO_RESPONSE_CODE, &w->http_status);
    if (w->http_status != 200) {
        size_t room = WATCH_ERRBODY_MAX - buf_len(&w->errbody);
        buf_append(&w->errbody, data, LO_MIN(room, len));
        return 0;
    }
    int rc = k8s_lines_feed(&w->lines, data, len, on_line, w);
    if (w->op.free_pending) { /* freed by a callback of on_line */
        k8s__op_release(w->c, &w->op);
        return -1;
    }
    if (rc == -EMSGSIZE) {
        w->stream_rc = K8S_ETOOLARGE;
        set_message(w, "a watch event is longer than the line limit");
    }
    return rc < 0 ? -1 : 0;
}

/* ---- stream life ---- */

static void schedule(k8s_watch *w, uint64_t delay_ms);

static void on_done(curlm_xfer *x, const curlm_result *res, void *arg)
{
    k8s_watch *w = arg;
    if (x != w->x)
        return;
    w->x = NULL;
    if (!w->http_status)
        w->http_status = res->status; /* an answer without a body */
    bool expired = w->expired || w->http_status == 410;
    json_t *status = NULL;
    if (w->http_status != 200 && buf_len(&w->errbody))
        status = json_loadb(buf_data(&w->errbody), buf_len(&w->errbody), 0, NULL);
    if (w->http_status != 200 && w->http_status && !w->message[0])
        set_message(w, k8s__status_message(status));
    k8s_watch_event ev = { .message = w->message };
    if (expired) {
        w->st.expired++;
        w->running = false;
        w->gen++;
        ev.type = K8S_EV_EXPIRED;
        ev.code = 410;
        ev.rc = K8S_EGONE;
        json_decref(status);
        call(w, &ev);
        return;
    }
    int rc = w->stream_rc;
    if (!rc && res->code != CURLE_OK && res->code != CURLE_WRITE_ERROR) {
        int how;
        rc = k8s__curl_rc(res->code, &how);
        set_message(w, res->error);
    }
    if (!rc && w->http_status != 200) {
        rc = w->http_status ? k8s_status_rc(w->http_status, k8s__status_reason(status))
                            : K8S_ESERVER;
        if (!w->message[0])
            snprintf(w->message, sizeof w->message, "HTTP %ld", w->http_status);
    }
    json_decref(status);
    if (!rc && w->stream_events == 0 &&
        lo_mono_ms() - w->started_ms < K8S_WATCH_QUICK_END_MS) {
        rc = K8S_ESERVER; /* ended at once with nothing: do not spin */
        set_message(w, "the watch stream ended at once");
    }
    uint64_t delay = 0;
    if (w->stream_events)
        w->failures = 0; /* it was healthy: a break after that starts over */
    if (rc) {
        w->failures++;
        w->st.failures++;
        delay = k8s_backoff_ms(w->failures, w->backoff_base_ms, w->backoff_max_ms,
                               K8S_BACKOFF_JITTER);
    } else {
        w->failures = 0;
    }
    ev.type = K8S_EV_RESTART;
    ev.rc = rc;
    uint64_t gen = w->gen;
    if (!call(w, &ev))
        return;
    if (w->gen == gen && w->running)
        schedule(w, delay);
}

static void start_stream(k8s_watch *w)
{
    char *path = k8s_path(&w->res, w->ns, NULL, NULL);
    char timeout[16];
    snprintf(timeout, sizeof timeout, "%u", w->timeout_s);
    k8s_url_add_query(&path, "watch", "1");
    k8s_url_add_query(&path, "allowWatchBookmarks", "true");
    k8s_url_add_query(&path, "timeoutSeconds", timeout);
    k8s_url_add_query(&path, "resourceVersion", w->rv[0] ? w->rv : NULL);
    k8s_url_add_query(&path, "labelSelector", w->label_selector);
    k8s_url_add_query(&path, "fieldSelector", w->field_selector);
    curlm_xfer *x = k8s__xfer_new(w->c, path, on_done, w);
    free(path);
    CURL *e = curlm_easy(x);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 0L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)(w->timeout_s + K8S_WATCH_SILENCE_S));
    curlm_xfer_on_data(x, on_data);
    k8s_lines_reset(&w->lines);
    buf_reset(&w->errbody);
    w->http_status = 0;
    w->expired = false;
    w->stream_rc = 0;
    w->message[0] = '\0';
    w->stream_events = 0;
    w->started_ms = lo_mono_ms();
    w->st.streams++;
    if (curlm_start(x) < 0) {
        /* curl refused it (x is freed): try again later. */
        w->failures++;
        w->st.failures++;
        schedule(w, k8s_backoff_ms(w->failures, w->backoff_base_ms, w->backoff_max_ms,
                                   K8S_BACKOFF_JITTER));
        return;
    }
    w->x = x;
}

static void on_timer(ev_loop *loop, ev_timer *t, void *arg)
{
    k8s_watch *w = arg;
    if (!w->running || w->x)
        return;
    if (w->st.streams)
        w->st.restarts++;
    start_stream(w);
}

static void schedule(k8s_watch *w, uint64_t delay_ms)
{
    ev_timer_start(k8s_client_loop(w->c), &w->timer, delay_ms);
}

/* Drops the open stream and any pending start. */
static void drop(k8s_watch *w)
{
    w->gen++;
    ev_timer_stop(k8s_client_loop(w->c), &w->timer);
    if (w->x) {
        curlm_cancel(w->x);
        w->x = NULL;
    }
}

k8s_watch *k8s_watch_start(k8s_client *c, const k8s_res *r, const char *ns,
                           const char *resource_version, const k8s_watch_opts *o,
                           k8s_watch_cb *cb, void *arg)
{
    if (!c || !r || !cb || (ns && !k8s_name_valid(ns)) ||
        (resource_version && strlen(resource_version) >= K8S_RV_MAX))
        return NULL;
    k8s_watch *w = xcalloc(1, sizeof *w);
    w->c = c;
    k8s__res_dup(&w->res, r);
    w->ns = ns ? xstrdup(ns) : NULL;
    w->label_selector = o && o->label_selector ? xstrdup(o->label_selector) : NULL;
    w->field_selector = o && o->field_selector ? xstrdup(o->field_selector) : NULL;
    w->timeout_s = o && o->timeout_s ? o->timeout_s : K8S_WATCH_TIMEOUT_S;
    w->backoff_base_ms = o && o->backoff_base_ms ? o->backoff_base_ms : K8S_BACKOFF_BASE_MS;
    w->backoff_max_ms = o && o->backoff_max_ms ? o->backoff_max_ms : WATCH_BACKOFF_MAX_MS;
    k8s_lines_init(&w->lines, o ? o->max_line : 0);
    buf_init(&w->errbody, WATCH_ERRBODY_MAX);
    ev_timer_init(&w->timer, on_timer, w);
    w->cb = cb;
    w->arg = arg;
    w->op.free = op_free;
    k8s__op_add(c, &w->op);
    k8s_watch_resume(w, resource_version);
    return w;
}

void k8s_watch_resume(k8s_watch *w, const char *resource_version)
{
    drop(w);
    snprintf(w->rv, sizeof w->rv, "%s", resource_version ? resource_version : "");
    w->running = true;
    w->failures = 0;
    /* From the loop, never from inside the caller's call. */
    schedule(w, 0);
}

void k8s_watch_stop(k8s_watch *w)
{
    drop(w);
    w->running = false;
}

const char *k8s_watch_rv(const k8s_watch *w) { return w->rv; }

bool k8s_watch_running(const k8s_watch *w) { return w->running; }

void k8s_watch_stats_get(const k8s_watch *w, k8s_watch_stats *out) { *out = w->st; }

void k8s__watch_disown(k8s_watch *w) { k8s__op_del(w->c, &w->op); }

void k8s_watch_free(k8s_watch *w)
{
    if (!w)
        return;
    drop(w);
    w->running = false;
    k8s__op_release(w->c, &w->op);
}
