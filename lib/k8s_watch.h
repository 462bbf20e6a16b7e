/*
 * k8s_watch.h — a Kubernetes watch stream that resumes: events of one
 * resource type (optionally one namespace, label/field selectors) from a
 * given resourceVersion, with allowWatchBookmarks.
 *
 * The chunked body is split on newlines (the partial tail is kept across
 * chunks; a line longer than max_line ends the stream as an error); each
 * line is one JSON event. The watch remembers the last resourceVersion it
 * saw (from objects and BOOKMARKs). When the stream ends — the server's
 * timeoutSeconds, a disconnect, an error status — it resumes from that
 * resourceVersion: at once after a clean end, after a jittered exponential
 * backoff after failures. When the server says the resourceVersion is too
 * old (410 Gone, as the HTTP status or as an ERROR event with code 410),
 * the watch stops and reports K8S_WATCH_EXPIRED: the owner lists again and
 * calls k8s_watch_resume() with the list's resourceVersion (k8s_informer
 * does exactly this).
 *
 * Callbacks run on the loop. From a callback the owner may call
 * k8s_watch_resume(), k8s_watch_stop() or k8s_watch_free() on this watch.
 *
 * Ownership: the watch copies everything it is given. Event objects are
 * borrowed for the callback (json_incref to keep). k8s_watch_free() stops
 * and frees; the client frees its watches when it is freed first.
 */
#ifndef LIFTOFF_K8S_WATCH_H
#define LIFTOFF_K8S_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"
#include "k8s_client.h"

#define K8S_WATCH_LINE_MAX (4u << 20)     /* default longest event line (etcd caps objects at 1.5 MiB) */
#define K8S_WATCH_TIMEOUT_S 300u          /* default timeoutSeconds per stream */
#define K8S_WATCH_SILENCE_S 90u           /* a stream silent for timeout + this is dead */
#define K8S_RV_MAX 64                     /* longest resourceVersion kept, with the NUL */
#define K8S_WATCH_QUICK_END_MS 1000u      /* a stream ending sooner without events counts as failed */

/* ---- line splitting (pure) ---- */

typedef struct k8s_lines {
    buf_t partial;          /* the unterminated tail of earlier chunks */
    size_t max;             /* longest line, without the newline */
} k8s_lines;

/* Called per complete line (without "\n" or "\r\n"; empty lines skipped);
 * a negative return stops the feed and is returned by it. */
typedef int k8s_line_cb(const char *line, size_t len, void *arg);

/* An empty splitter for lines of at most max_line bytes (0: K8S_WATCH_LINE_MAX). */
void k8s_lines_init(k8s_lines *l, size_t max_line);
/* Frees the partial-line buffer. */
void k8s_lines_free(k8s_lines *l);
/* Forgets a partial line (a new stream starts). */
void k8s_lines_reset(k8s_lines *l);
/* Splits data into lines: 0, the callback's negative return, or -EMSGSIZE
 * when a line exceeds max (the splitter is reset). */
int k8s_lines_feed(k8s_lines *l, const char *data, size_t len, k8s_line_cb *cb, void *arg);

/* ---- events ---- */

typedef enum k8s_event_type {
    K8S_EV_ADDED,
    K8S_EV_MODIFIED,
    K8S_EV_DELETED,
    K8S_EV_BOOKMARK,
    K8S_EV_ERROR,           /* the server sent an ERROR event (code, message) */
    /* Raised by k8s_watch, never decoded: */
    K8S_EV_EXPIRED,         /* 410: the resourceVersion is too old; relist, then resume */
    K8S_EV_RESTART,         /* the stream ended and will resume (rc, message say why) */
} k8s_event_type;

typedef struct k8s_watch_event {
    k8s_event_type type;
    json_t *object;         /* the object (or the Status of an ERROR); owned by the event */
    const char *rv;         /* object.metadata.resourceVersion, or NULL */
    int code;               /* ERROR: the Status code (410 ...); EXPIRED: 410 */
    int rc;                 /* RESTART: why (K8S_E*, 0 for a clean end) */
    const char *message;    /* ERROR/RESTART: text; "" otherwise */
} k8s_watch_event;

/* Decodes one event line: 0 (ev filled; k8s_watch_event_clear() frees it)
 * or -EBADMSG (not an event). */
int k8s_watch_event_decode(const char *line, size_t len, k8s_watch_event *ev);
/* Releases the event's object and zeroes it. */
void k8s_watch_event_clear(k8s_watch_event *ev);
/* "ADDED", ... for logs. */
const char *k8s_event_type_name(k8s_event_type t);

/* ---- the watch ---- */

typedef struct k8s_watch k8s_watch;
typedef void k8s_watch_cb(k8s_watch *w, const k8s_watch_event *ev, void *arg);

typedef struct k8s_watch_opts {
    const char *label_selector;     /* NULL: all */
    const char *field_selector;     /* NULL: all */
    uint32_t timeout_s;             /* per stream; 0: K8S_WATCH_TIMEOUT_S */
    size_t max_line;                /* 0: K8S_WATCH_LINE_MAX */
    uint64_t backoff_base_ms;       /* 0: K8S_BACKOFF_BASE_MS */
    uint64_t backoff_max_ms;        /* 0: 30000 */
} k8s_watch_opts;

typedef struct k8s_watch_stats {
    uint64_t events;        /* ADDED/MODIFIED/DELETED delivered */
    uint64_t bookmarks;
    uint64_t streams;       /* streams opened */
    uint64_t restarts;      /* streams resumed after an end or error */
    uint64_t failures;      /* streams that ended in an error */
    uint64_t expired;       /* 410s */
} k8s_watch_stats;

/* Watches r (ns NULL: all namespaces) from resource_version (NULL or "":
 * from now, the server's choice). NULL on bad arguments. */
k8s_watch *k8s_watch_start(k8s_client *c, const k8s_res *r, const char *ns,
                           const char *resource_version, const k8s_watch_opts *o,
                           k8s_watch_cb *cb, void *arg);
/* Drops the current stream (if any) and watches from resource_version. */
void k8s_watch_resume(k8s_watch *w, const char *resource_version);
/* Drops the stream and stays idle until k8s_watch_resume(). */
void k8s_watch_stop(k8s_watch *w);
/* The last resourceVersion seen ("" if none). */
const char *k8s_watch_rv(const k8s_watch *w);
/* Whether a stream is open or about to be (not stopped or expired). */
bool k8s_watch_running(const k8s_watch *w);
/* Copies the counters into *out. */
void k8s_watch_stats_get(const k8s_watch *w, k8s_watch_stats *out);
/* Stops and frees; NULL-safe; allowed from its own callback. */
void k8s_watch_free(k8s_watch *w);

#endif
