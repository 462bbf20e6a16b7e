/* k8s_list.c — k8s_list_all: follows metadata.continue page by page and
 * hands over one List object with every item (see k8s_client.h). */
#include "k8s_client.h"
#include "k8s_int.h"
#include "common.h"

#include <stdlib.h>
#include <string.h>

typedef struct list_all {
    k8s__op op;             /* first: the client frees it with the client */
    k8s_client *c;
    k8s_res res;            /* a copy (k8s__res_dup) */
    char *ns;
    char *label_selector, *field_selector, *resource_version;
    uint32_t limit;
    char *cont;             /* continue token of the next page */
    json_t *list;           /* the first page, items of later pages appended */
    bool restarted;         /* a 410 on a later page restarted once already */
    unsigned attempts;
    k8s_done_cb *cb;
    void *arg;
} list_all;

static char *dup_or_null(const char *s) { return s ? xstrdup(s) : NULL; }

static void list_all_free(list_all *l)
{
    k8s__res_free(&l->res);
    free(l->ns);
    free(l->label_selector);
    free(l->field_selector);
    free(l->resource_version);
    free(l->cont);
    json_decref(l->list);
    free(l);
}

static void on_page(const k8s_response *r, void *arg);

static int next_page(list_all *l)
{
    k8s_list_opts o = {
        .label_selector = l->label_selector,
        .field_selector = l->field_selector,
        .limit = l->limit,
        .continue_token = l->cont,
        /* resourceVersion may not go with continue: the token pins the snapshot */
        .resource_version = l->cont ? NULL : l->resource_version,
    };
    return k8s_list(l->c, &l->res, l->ns, &o, on_page, l);
}

static void op_free(k8s__op *op) { list_all_free((list_all *)(void *)op); }

static void deliver(list_all *l, const k8s_response *r)
{
    k8s__op_del(l->c, &l->op);
    k8s_response out = *r;
    out.attempts = l->attempts;
    l->cb(&out, l->arg);
    list_all_free(l);
}

static void on_page(const k8s_response *r, void *arg)
{
    list_all *l = arg;
    l->attempts += r->attempts;
    if (r->rc == K8S_EGONE && l->cont && !l->restarted) {
        /* The continue token expired: start over from a fresh snapshot. */
        l->restarted = true;
        free(l->cont);
        l->cont = NULL;
        json_decref(l->list);
        l->list = NULL;
        int rc = next_page(l);
        if (rc < 0) {
            k8s_response e = { .rc = rc, .message = "list restart failed", .reason = "" };
            deliver(l, &e);
        }
        return;
    }
    json_t *items = json_object_get(r->body, "items");
    if (r->rc < 0 || !json_is_array(items)) {
        k8s_response e = *r;
        if (r->rc == 0) {
            e.rc = K8S_EBADMSG;
            e.message = "a list without items";
        }
        deliver(l, &e);
        return;
    }
    if (!l->list) {
        l->list = json_incref(r->body);
    } else {
        json_t *all = json_object_get(l->list, "items");
        if (json_array_size(all) + json_array_size(items) > K8S_LIST_MAX_ITEMS) {
            k8s_response e = { .rc = K8S_ETOOLARGE, .status = r->status,
                               .message = "list has too many items", .reason = "" };
            deliver(l, &e);
            return;
        }
        json_array_extend(all, items);
    }
    const char *cont = json_string_value(
        json_object_get(json_object_get(r->body, "metadata"), "continue"));
    free(l->cont);
    l->cont = cont && *cont ? xstrdup(cont) : NULL;
    if (l->cont) {
        int rc = next_page(l);
        if (rc < 0) {
            k8s_response e = { .rc = rc, .message = "next page failed", .reason = "" };
            deliver(l, &e);
        }
        return;
    }
    /* The joined list: the first page's metadata (its resourceVersion is
     * the snapshot's) without a continue token. */
    json_object_del(json_object_get(l->list, "metadata"), "continue");
    json_object_del(json_object_get(l->list, "metadata"), "remainingItemCount");
    k8s_response ok = *r;
    ok.body = l->list;
    deliver(l, &ok);
}

int k8s_list_all(k8s_client *c, const k8s_res *r, const char *ns, const k8s_list_opts *o,
                 k8s_done_cb *cb, void *arg)
{
    if (!cb || (ns && !k8s_name_valid(ns)) || (o && o->continue_token))
        return -EINVAL;
    list_all *l = xcalloc(1, sizeof *l);
    l->c = c;
    k8s__res_dup(&l->res, r);
    l->ns = dup_or_null(ns);
    l->limit = o && o->limit ? o->limit : K8S_LIST_PAGE;
    if (o) {
        l->label_selector = dup_or_null(o->label_selector);
        l->field_selector = dup_or_null(o->field_selector);
        l->resource_version = dup_or_null(o->resource_version);
    }
    l->cb = cb;
    l->arg = arg;
    l->op.free = op_free;
    int rc = next_page(l);
    if (rc < 0) {
        list_all_free(l);
        return rc;
    }
    k8s__op_add(c, &l->op);
    return 0;
}
