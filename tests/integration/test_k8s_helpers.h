/*
 * test_k8s_helpers.h — shared by the Kubernetes client tests: a client from
 * $KUBECONFIG (the tests against the real API server skip without it), a
 * recorder for verb callbacks, throwaway namespaces, and a scripted HTTP
 * server for the behaviours a real API server will not show on demand
 * (429 with Retry-After, 5xx, broken streams).
 */
#ifndef LIFTOFF_TEST_K8S_HELPERS_H
#define LIFTOFF_TEST_K8S_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "ev.h"
#include "k8s_client.h"
#include "k8s_informer.h"
#include "k8s_watch.h"

/* Safety net for a test that would otherwise hang; not a timing check. */
#define TK_WAIT_MAX_MS 60000
#define TK_NAMESPACE_SETTLE_MS 30000

/* Runs the loop until cond is true (or TK_WAIT_MAX_MS passed); yields cond. */
#define TK_WAIT(loop, cond)                                                    \
    ({                                                                         \
        uint64_t tk_end_ = lo_mono_ms() + TK_WAIT_MAX_MS;                      \
        while (!(cond) && lo_mono_ms() < tk_end_)                              \
            ev_run_once((loop), 20);                                           \
        (cond);                                                                \
    })

/* Runs the loop for about ms milliseconds (to let things settle). */
void tk_run_for(ev_loop *loop, uint32_t ms);

extern const k8s_res tk_configmaps, tk_namespaces, tk_deployments, tk_launchpolicies, tk_crds;

/* A client for $KUBECONFIG on loop, or NULL (and the test is marked
 * skipped) when KUBECONFIG is unset or unusable. */
k8s_client *tk_client(ev_loop *loop);

/* What one verb's callback saw. */
typedef struct tk_rec {
    int calls;
    int rc;
    long status;
    json_t *body;           /* a reference to the answer */
    char *message, *reason;
    unsigned attempts;
} tk_rec;

void tk_rec_cb(const k8s_response *r, void *arg);
void tk_rec_clear(tk_rec *r);
/* Waits for the callback of r; yields its rc (or -ETIMEDOUT). With
 * K8S_IT_VERBOSE set in the environment, failures are printed. */
int tk_await(ev_loop *loop, tk_rec *r);

/* Creates a namespace "k8s-it-<random>" and waits (up to
 * TK_NAMESPACE_SETTLE_MS) until the controller-manager has put
 * kube-root-ca.crt in it; NULL on failure.
 * The caller frees the name after tk_namespace_delete(). */
char *tk_namespace(ev_loop *loop, k8s_client *c);
void tk_namespace_delete(ev_loop *loop, k8s_client *c, const char *ns);

/* Whether the LaunchPolicy CRD is installed (else the test skips). */
bool tk_have_launchpolicy_crd(ev_loop *loop, k8s_client *c);

/* {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":..},"data":{key:value}} */
json_t *tk_configmap(const char *name, const char *key, const char *value);

/* Synchronous helpers (they run the loop): 0 or the verb's rc. */
int tk_create(ev_loop *loop, k8s_client *c, const k8s_res *r, const char *ns, json_t *obj_taken);
int tk_delete(ev_loop *loop, k8s_client *c, const k8s_res *r, const char *ns, const char *name);

/* ---- scripted HTTP server ---- */

typedef struct tk_srv tk_srv;

/* Listens on 127.0.0.1, a free port. */
tk_srv *tk_srv_start(ev_loop *loop);
int tk_srv_port(const tk_srv *s);
/* Queues the raw answer (status line, headers, body) to the next request.
 * A "\x01" in it splits the writing: the part before is sent at once, the
 * rest TK_SRV_SPLIT_MS later (so the client sees it in two reads). A
 * request with no answer queued is held open, unanswered. */
#define TK_SRV_SPLIT_MS 30
void tk_srv_answer(tk_srv *s, const char *raw);
/* Requests seen so far, their request lines and arrival times. */
size_t tk_srv_requests(const tk_srv *s);
const char *tk_srv_request_line(const tk_srv *s, size_t i);
/* The whole request: head and body. */
const char *tk_srv_request(const tk_srv *s, size_t i);
uint64_t tk_srv_request_ms(const tk_srv *s, size_t i);
void tk_srv_free(tk_srv *s);
/* "len-in-hex\r\ndata\r\n": one chunk of a chunked body; the caller frees it. */
char *tk_chunk(const char *data);
/* A k8s_client talking plain HTTP to the scripted server (bearer token
 * "test-token"; retries after 10 ms, 20 ms, ...). */
k8s_client *tk_srv_client(ev_loop *loop, tk_srv *s);

#endif
