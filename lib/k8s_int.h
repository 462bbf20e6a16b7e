/*
 * k8s_int.h — shared internals of the k8s_* files; not for other modules.
 */
#ifndef LIFTOFF_K8S_INT_H
#define LIFTOFF_K8S_INT_H

#include "k8s_client.h"
#include "k8s_config.h"

/* Reads a whole file of at most max bytes into a NUL-terminated blob
 * (file_read_all: nothing of it is left in freed memory): 0, -EFBIG or
 * -errno. */
int k8s__read_file(const char *path, size_t max, k8s_blob *out);
/* Wipes and frees a blob. */
void k8s__blob_free(k8s_blob *b);

/* A transfer of server + path_query carrying the client's TLS settings and
 * credentials (Accept: application/json), not started. */
curlm_xfer *k8s__xfer_new(k8s_client *c, const char *path_query, curlm_done_cb *done,
                          void *arg);
/* Maps a curl failure to a K8S_E* code and says in *retry whether the
 * request may be repeated: never, if idempotent (the connection broke or
 * timed out), or always (it surely never reached the server). */
enum { K8S__RETRY_NEVER, K8S__RETRY_IDEMPOTENT, K8S__RETRY_ALWAYS };
int k8s__curl_rc(CURLcode code, int *retry);
/* A multi-request operation (k8s_list_all, k8s_modify, watches) that the
 * client frees if it is itself freed first: embed it, register it while
 * requests of it are in flight, unregister it before calling back.
 *
 * An operation whose owner may free it from inside a callback (watches,
 * informers) counts those callbacks in busy: busy++ before one,
 * k8s__op_leave() after it; the owner's free is k8s__op_release(), which
 * waits for the outermost callback to end. */
typedef struct k8s__op k8s__op;
struct k8s__op {
    k8s__op *prev, *next;
    void (*free)(k8s__op *op);
    int busy;               /* callbacks to the owner in progress */
    bool free_pending;      /* released during one: freed when the last ends */
};
void k8s__op_add(k8s_client *c, k8s__op *op);
void k8s__op_del(k8s_client *c, k8s__op *op);
/* Ends a callback section: true if op still exists; false if the owner
 * released it meanwhile and it has now been unregistered and freed. */
bool k8s__op_leave(k8s_client *c, k8s__op *op);
/* Unregisters and frees op, or marks it to be when the callbacks in
 * progress end. */
void k8s__op_release(k8s_client *c, k8s__op *op);

/* Copies r into *out (group NULL becomes ""); free with k8s__res_free(). */
void k8s__res_dup(k8s_res *out, const k8s_res *r);
/* Frees a copy made by k8s__res_dup(). */
void k8s__res_free(k8s_res *r);

/* Takes a watch off the client's list: its owner (an informer) frees it. */
typedef struct k8s_watch k8s_watch;
void k8s__watch_disown(k8s_watch *w);

/* Counts an event in the client's statistics. */
void k8s__count_conflict(k8s_client *c);

/* The reason and message of a Status body (or "" each). */
const char *k8s__status_reason(const json_t *body);
const char *k8s__status_message(const json_t *body);

#endif
