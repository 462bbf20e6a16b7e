/* test_k8s_helpers.c — see test_k8s_helpers.h. */
#include "test_k8s_helpers.h"
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

const k8s_res tk_configmaps = K8S_RES("", "v1", "configmaps");
const k8s_res tk_namespaces = K8S_RES("", "v1", "namespaces");
const k8s_res tk_deployments = K8S_RES("apps", "v1", "deployments");
const k8s_res tk_launchpolicies = K8S_RES("liftoff.dev", "v1alpha1", "launchpolicies");
const k8s_res tk_crds = K8S_RES("apiextensions.k8s.io", "v1", "customresourcedefinitions");

void tk_run_for(ev_loop *loop, uint32_t ms)
{
    uint64_t end = lo_mono_ms() + ms;
    while (lo_mono_ms() < end)
        ev_run_once(loop, 10);
}

k8s_client *tk_client(ev_loop *loop)
{
    const char *kc = getenv("KUBECONFIG");
    if (!kc || !*kc) {
        test_skip("KUBECONFIG is not set (run through tests/e2e/test_k8s_client.sh)");
        return NULL;
    }
    k8s_config cfg;
    char *err = NULL;
    if (k8s_config_load(NULL, NULL, &cfg, &err) < 0) {
        fprintf(stderr, "    kubeconfig: %s\n", err ? err : "?");
        free(err);
        test_skip("KUBECONFIG is not usable");
        return NULL;
    }
    k8s_client *c = k8s_client_new(loop, NULL, &cfg);
    if (!c)
        k8s_config_free(&cfg);
    return c;
}

void tk_rec_cb(const k8s_response *r, void *arg)
{
    tk_rec *x = arg;
    x->calls++;
    x->rc = r->rc;
    x->status = r->status;
    json_decref(x->body);
    x->body = json_incref(r->body);
    free(x->message);
    free(x->reason);
    x->message = xstrdup(r->message ? r->message : "");
    x->reason = xstrdup(r->reason ? r->reason : "");
    x->attempts = r->attempts;
}

void tk_rec_clear(tk_rec *r)
{
    json_decref(r->body);
    free(r->message);
    free(r->reason);
    memset(r, 0, sizeof *r);
}

int tk_await(ev_loop *loop, tk_rec *r)
{
    if (!TK_WAIT(loop, r->calls > 0))
        return -ETIMEDOUT;
    if (r->rc < 0 && r->message && getenv("K8S_IT_VERBOSE"))
        fprintf(stderr, "    (rc %d, HTTP %ld: %s)\n", r->rc, r->status, r->message);
    return r->rc;
}

char *tk_namespace(ev_loop *loop, k8s_client *c)
{
    char *name = xasprintf("k8s-it-%08llx", (unsigned long long)lo_rand_below(1ull << 32));
    json_t *ns = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "Namespace",
                           "metadata", "name", name);
    int rc = tk_create(loop, c, &tk_namespaces, NULL, ns);
    if (rc < 0) {
        fprintf(stderr, "    cannot create namespace %s: %d\n", name, rc);
        free(name);
        return NULL;
    }
    /* The controller-manager adds kube-root-ca.crt to every namespace soon
     * after; wait for it, so it does not turn up in the middle of a test. */
    uint64_t end = lo_mono_ms() + TK_NAMESPACE_SETTLE_MS;
    for (;;) {
        tk_rec r = { 0 };
        rc = k8s_get(c, &tk_configmaps, name, "kube-root-ca.crt", tk_rec_cb, &r);
        if (rc == 0)
            rc = tk_await(loop, &r);
        tk_rec_clear(&r);
        if (rc == 0)
            break;
        if (lo_mono_ms() > end) {
            fprintf(stderr, "    namespace %s got no kube-root-ca.crt\n", name);
            break;
        }
        tk_run_for(loop, 50);
    }
    return name;
}

void tk_namespace_delete(ev_loop *loop, k8s_client *c, const char *ns)
{
    if (ns)
        tk_delete(loop, c, &tk_namespaces, NULL, ns);
}

bool tk_have_launchpolicy_crd(ev_loop *loop, k8s_client *c)
{
    tk_rec r = { 0 };
    bool ok = k8s_get(c, &tk_crds, NULL, "launchpolicies.liftoff.dev", tk_rec_cb, &r) == 0 &&
              tk_await(loop, &r) == 0;
    tk_rec_clear(&r);
    if (!ok)
        test_skip("the LaunchPolicy CRD is not installed (kubectl apply -f crds/)");
    return ok;
}

json_t *tk_configmap(const char *name, const char *key, const char *value)
{
    return json_pack("{s:s,s:s,s:{s:s},s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
                     "metadata", "name", name, "data", key, value);
}

int tk_create(ev_loop *loop, k8s_client *c, const k8s_res *r, const char *ns, json_t *obj)
{
    tk_rec rec = { 0 };
    int rc = k8s_create(c, r, ns, obj, tk_rec_cb, &rec);
    json_decref(obj);
    if (rc == 0)
        rc = tk_await(loop, &rec);
    tk_rec_clear(&rec);
    return rc;
}

int tk_delete(ev_loop *loop, k8s_client *c, const k8s_res *r, const char *ns, const char *name)
{
    tk_rec rec = { 0 };
    int rc = k8s_delete(c, r, ns, name, tk_rec_cb, &rec);
    if (rc == 0)
        rc = tk_await(loop, &rec);
    tk_rec_clear(&rec);
    return rc;
}

/* ---- scripted HTTP server ---- */

#define SRV_MAX_REQUESTS 64
#define SRV_MAX_CONNS 16
#define SRV_MAX_ANSWERS 32
#define SRV_REQ_MAX 16384

typedef struct srv_conn {
    tk_srv *s;
    int fd;
    char in[SRV_REQ_MAX];
    size_t in_len;
    bool answered;
    char *rest;             /* the part after "\x01", sent by the timer */
    ev_timer later;
    struct srv_conn *next;
} srv_conn;

struct tk_srv {
    ev_loop *loop;
    int fd;
    int port;
    char *answers[SRV_MAX_ANSWERS];
    size_t nanswers, next_answer;
    char *lines[SRV_MAX_REQUESTS];
    char *heads[SRV_MAX_REQUESTS];
    uint64_t times[SRV_MAX_REQUESTS];
    size_t nrequests;
    srv_conn *conns;
};

static void conn_close(srv_conn *c)
{
    tk_srv *s = c->s;
    for (srv_conn **p = &s->conns; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            break;
        }
    }
    ev_timer_stop(s->loop, &c->later);
    ev_io_del(s->loop, c->fd);
    close(c->fd);
    free(c->rest);
    free(c);
}

/* Small answers to a loopback client: a blocking-style loop is fine. */
static void write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void on_later(ev_loop *loop, ev_timer *t, void *arg)
{
    srv_conn *c = arg;
    char *rest = c->rest;
    c->rest = NULL;
    char *split = strchr(rest, '\x01');
    if (split) {
        write_all(c->fd, rest, (size_t)(split - rest));
        c->rest = xstrdup(split + 1);
        ev_timer_start(loop, &c->later, TK_SRV_SPLIT_MS);
    } else {
        write_all(c->fd, rest, strlen(rest));
        shutdown(c->fd, SHUT_WR);
    }
    free(rest);
}

static void answer(srv_conn *c)
{
    tk_srv *s = c->s;
    c->answered = true;
    if (s->next_answer >= s->nanswers)
        return; /* held open */
    const char *a = s->answers[s->next_answer++];
    const char *split = strchr(a, '\x01');
    if (!split) {
        write_all(c->fd, a, strlen(a));
        shutdown(c->fd, SHUT_WR);
        return;
    }
    write_all(c->fd, a, (size_t)(split - a));
    c->rest = xstrdup(split + 1);
    ev_timer_start(s->loop, &c->later, TK_SRV_SPLIT_MS);
}

static void on_conn(ev_loop *loop, int fd, unsigned events, void *arg)
{
    srv_conn *c = arg;
    ssize_t n = read(fd, c->in + c->in_len, sizeof c->in - 1 - c->in_len);
    if (n <= 0) {
        if (n < 0 && errno == EAGAIN)
            return;
        conn_close(c);
        return;
    }
    if (c->answered)
        return; /* one request per connection */
    c->in_len += (size_t)n;
    c->in[c->in_len] = '\0';
    char *end = strstr(c->in, "\r\n\r\n");
    if (!end)
        return;
    size_t body = 0;
    const char *cl = strcasestr(c->in, "\r\nContent-Length:");
    if (cl && cl < end)
        body = strtoul(cl + 17, NULL, 10);
    if ((size_t)(end + 4 - c->in) + body > c->in_len)
        return;
    tk_srv *s = c->s;
    if (s->nrequests < SRV_MAX_REQUESTS) {
        char *eol = strstr(c->in, "\r\n");
        s->lines[s->nrequests] = xstrndup(c->in, (size_t)(eol - c->in));
        s->heads[s->nrequests] = xstrndup(c->in, (size_t)(end + 4 - c->in) + body);
        s->times[s->nrequests] = lo_mono_ms();
        s->nrequests++;
    }
    answer(c);
}

static void on_accept(ev_loop *loop, int fd, unsigned events, void *arg)
{
    tk_srv *s = arg;
    int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (cfd < 0)
        return;
    srv_conn *c = xcalloc(1, sizeof *c);
    c->s = s;
    c->fd = cfd;
    ev_timer_init(&c->later, on_later, c);
    c->next = s->conns;
    s->conns = c;
    ev_io_set(loop, cfd, EV_READ, on_conn, c);
}

tk_srv *tk_srv_start(ev_loop *loop)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 16) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        close(fd);
        return NULL;
    }
    tk_srv *s = xcalloc(1, sizeof *s);
    s->loop = loop;
    s->fd = fd;
    s->port = ntohs(a.sin_port);
    ev_io_set(loop, fd, EV_READ, on_accept, s);
    return s;
}

int tk_srv_port(const tk_srv *s) { return s->port; }

void tk_srv_answer(tk_srv *s, const char *raw)
{
    if (s->nanswers < SRV_MAX_ANSWERS)
        s->answers[s->nanswers++] = xstrdup(raw);
}

size_t tk_srv_requests(const tk_srv *s) { return s->nrequests; }

const char *tk_srv_request_line(const tk_srv *s, size_t i)
{
    return i < s->nrequests ? s->lines[i] : "";
}

const char *tk_srv_request(const tk_srv *s, size_t i)
{
    return i < s->nrequests ? s->heads[i] : "";
}

uint64_t tk_srv_request_ms(const tk_srv *s, size_t i) { return i < s->nrequests ? s->times[i] : 0; }

void tk_srv_free(tk_srv *s)
{
    if (!s)
        return;
    while (s->conns)
        conn_close(s->conns);
    ev_io_del(s->loop, s->fd);
    close(s->fd);
    for (size_t i = 0; i < s->nanswers; i++)
        free(s->answers[i]);
    for (size_t i = 0; i < s->nrequests; i++) {
        free(s->lines[i]);
        free(s->heads[i]);
    }
    free(s);
}

k8s_client *tk_srv_client(ev_loop *loop, tk_srv *s)
{
    k8s_config cfg = { 0 };
    cfg.server = xasprintf("http://127.0.0.1:%d", s->port);
    cfg.namespace = xstrdup("default");
    cfg.token = xstrdup("test-token");
    k8s_client *c = k8s_client_new(loop, NULL, &cfg);
    if (!c) {
        k8s_config_free(&cfg);
        return NULL;
    }
    k8s_client_set_retry(c, K8S_MAX_RETRIES, 10, 100);
    return c;
}

char *tk_chunk(const char *data) { return xasprintf("%zx\r\n%s\r\n", strlen(data), data); }
