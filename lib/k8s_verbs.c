/* k8s_verbs.c — get, list, create, update, patch, delete and scale on any
 * resource, as paths and bodies for k8s_request (see k8s_client.h). */
#include "k8s_client.h"
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool ns_ok(const char *ns) { return !ns || k8s_name_valid(ns); }

static bool sub_ok(const char *sub) { return !sub || k8s_name_valid(sub); }

int k8s_get(k8s_client *c, const k8s_res *r, const char *ns, const char *name,
            k8s_done_cb *cb, void *arg)
{
    if (!ns_ok(ns) || !k8s_name_valid(name))
        return -EINVAL;
    char *path = k8s_path(r, ns, name, NULL);
    int rc = k8s_request(c, "GET", path, NULL, NULL, cb, arg);
    free(path);
    return rc;
}

int k8s_list(k8s_client *c, const k8s_res *r, const char *ns, const k8s_list_opts *o,
             k8s_done_cb *cb, void *arg)
{
    if (!ns_ok(ns))
        return -EINVAL;
    char *path = k8s_path(r, ns, NULL, NULL);
    if (o) {
        char limit[16];
        snprintf(limit, sizeof limit, "%u", o->limit);
        k8s_url_add_query(&path, "labelSelector", o->label_selector);
        k8s_url_add_query(&path, "fieldSelector", o->field_selector);
        k8s_url_add_query(&path, "limit", o->limit ? limit : NULL);
        k8s_url_add_query(&path, "continue", o->continue_token);
        k8s_url_add_query(&path, "resourceVersion", o->resource_version);
    }
    int rc = k8s_request(c, "GET", path, NULL, NULL, cb, arg);
    free(path);
    return rc;
}

/* Serialises obj and sends it. */
static int send_json(k8s_client *c, const char *method, char *path, const json_t *obj,
                     const char *content_type, k8s_done_cb *cb, void *arg)
{
    char *body = json_dumps(obj, JSON_COMPACT);
    if (!body) {
        free(path);
        return -EINVAL;
    }
    int rc = k8s_request(c, method, path, body, content_type, cb, arg);
    free(body);
    free(path);
    return rc;
}

int k8s_create(k8s_client *c, const k8s_res *r, const char *ns, const json_t *obj,
               k8s_done_cb *cb, void *arg)
{
    if (!ns_ok(ns) || !json_is_object(obj))
        return -EINVAL;
    return send_json(c, "POST", k8s_path(r, ns, NULL, NULL), obj, "application/json", cb, arg);
}

int k8s_update(k8s_client *c, const k8s_res *r, const char *ns, const json_t *obj,
               const char *sub, k8s_done_cb *cb, void *arg)
{
    const char *name = k8s_meta_str(obj, "name");
    if (!ns_ok(ns) || !k8s_name_valid(name) || !sub_ok(sub))
        return -EINVAL;
    return send_json(c, "PUT", k8s_path(r, ns, name, sub), obj, "application/json", cb, arg);
}

int k8s_patch(k8s_client *c, const k8s_res *r, const char *ns, const char *name,
              const char *sub, k8s_patch_type type, const json_t *patch, k8s_done_cb *cb,
              void *arg)
{
    if (!ns_ok(ns) || !k8s_name_valid(name) || !sub_ok(sub))
        return -EINVAL;
    const char *ct;
    switch (type) {
    case K8S_PATCH_MERGE:
        ct = "application/merge-patch+json";
        if (!json_is_object(patch))
            return -EINVAL;
        break;
    case K8S_PATCH_JSON:
        ct = "application/json-patch+json";
        if (!json_is_array(patch))
            return -EINVAL;
        break;
    case K8S_PATCH_STRATEGIC:
        ct = "application/strategic-merge-patch+json";
        if (!json_is_object(patch))
            return -EINVAL;
        break;
    default:
        return -EINVAL;
    }
    return send_json(c, "PATCH", k8s_path(r, ns, name, sub), patch, ct, cb, arg);
}

int k8s_delete(k8s_client *c, const k8s_res *r, const char *ns, const char *name,
               k8s_done_cb *cb, void *arg)
{
    if (!ns_ok(ns) || !k8s_name_valid(name))
        return -EINVAL;
    char *path = k8s_path(r, ns, name, NULL);
    int rc = k8s_request(c, "DELETE", path, NULL, NULL, cb, arg);
    free(path);
    return rc;
}

int k8s_get_scale(k8s_client *c, const k8s_res *r, const char *ns, const char *name,
                  k8s_done_cb *cb, void *arg)
{
    if (!ns_ok(ns) || !k8s_name_valid(name))
        return -EINVAL;
    char *path = k8s_path(r, ns, name, "scale");
    int rc = k8s_request(c, "GET", path, NULL, NULL, cb, arg);
    free(path);
    return rc;
}

int k8s_set_scale(k8s_client *c, const k8s_res *r, const char *ns, const char *name,
                  int32_t replicas, k8s_done_cb *cb, void *arg)
{
    if (replicas < 0)
        return -EINVAL;
    json_t *patch = json_pack("{s:{s:i}}", "spec", "replicas", (int)replicas);
    int rc = k8s_patch(c, r, ns, name, "scale", K8S_PATCH_MERGE, patch, cb, arg);
    json_decref(patch);
    return rc;
}
