/* k8s_modify.c — read-modify-write with a fresh read after each 409
 * Conflict (see k8s_modify in k8s_client.h). */
#include "k8s_client.h"
#include "k8s_int.h"
#include "common.h"

#include <stdlib.h>
#include <string.h>

typedef struct modify {
    k8s__op op;             /* first: the client frees it with the client */
    k8s_client *c;
    k8s_res res;            /* a copy (k8s__res_dup) */
    char *ns, *name, *sub;
    unsigned conflicts;
    unsigned attempts;
    k8s_mutate_fn *fn;
    void *fn_arg;
    k8s_done_cb *cb;
    void *arg;
} modify;

static void modify_free(modify *m)
{
    k8s__res_free(&m->res);
    free(m->ns);
    free(m->name);
    free(m->sub);
    free(m);
}

static void op_free(k8s__op *op) { modify_free((modify *)(void *)op); }

static void deliver(modify *m, const k8s_response *r)
{
    k8s__op_del(m->c, &m->op);
    k8s_response out = *r;
    out.attempts = m->attempts;
    m->cb(&out, m->arg);
    modify_free(m);
}

static void fail(modify *m, int rc, const char *msg)
{
    k8s_response e = { .rc = rc, .message = msg, .reason = "" };
    deliver(m, &e);
}

static void on_read(const k8s_response *r, void *arg);

static int read_object(modify *m)
{
    bool scale = m->sub && strcmp(m->sub, "scale") == 0;
    return scale ? k8s_get_scale(m->c, &m->res, m->ns, m->name, on_read, m)
                 : k8s_get(m->c, &m->res, m->ns, m->name, on_read, m);
}

static void on_write(const k8s_response *r, void *arg)
{
    modify *m = arg;
    m->attempts += r->attempts;
    if (r->rc == K8S_ECONFLICT && m->conflicts < K8S_CONFLICT_RETRIES) {
        m->conflicts++;
        k8s__count_conflict(m->c);
        int rc = read_object(m);
        if (rc < 0)
            fail(m, rc, "re-read after a conflict failed");
        return;
    }
    deliver(m, r);
}

static void on_read(const k8s_response *r, void *arg)
{
    modify *m = arg;
    m->attempts += r->attempts;
    if (r->rc < 0 || !json_is_object(r->body)) {
        if (r->rc < 0)
            deliver(m, r);
        else
            fail(m, K8S_EBADMSG, "the object read is not a JSON object");
        return;
    }
    json_t *obj = json_deep_copy(r->body);
    int rc = m->fn(obj, m->fn_arg);
    if (rc == K8S_UNCHANGED) {
        k8s_response same = *r;
        same.body = obj;
        deliver(m, &same);
    } else if (rc < 0) {
        fail(m, rc, "the change was refused");
    } else {
        rc = k8s_update(m->c, &m->res, m->ns, obj, m->sub, on_write, m);
        if (rc < 0)
            fail(m, rc, "the changed object cannot be written");
    }
    json_decref(obj);
}

int k8s_modify(k8s_client *c, const k8s_res *r, const char *ns, const char *name,
               const char *sub, k8s_mutate_fn *fn, void *fn_arg, k8s_done_cb *cb, void *arg)
{
    if (!fn || !cb || (ns && !k8s_name_valid(ns)) || !k8s_name_valid(name) ||
        (sub && !k8s_name_valid(sub)))
        return -EINVAL;
    modify *m = xcalloc(1, sizeof *m);
    m->c = c;
    k8s__res_dup(&m->res, r);
    m->ns = ns ? xstrdup(ns) : NULL;
    m->name = xstrdup(name);
    m->sub = sub ? xstrdup(sub) : NULL;
    m->fn = fn;
    m->fn_arg = fn_arg;
    m->cb = cb;
    m->arg = arg;
    m->op.free = op_free;
    int rc = read_object(m);
    if (rc < 0) {
        modify_free(m);
        return rc;
    }
    k8s__op_add(c, &m->op);
    return 0;
}
