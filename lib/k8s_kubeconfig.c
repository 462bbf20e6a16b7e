/* k8s_kubeconfig.c — kubeconfig YAML into a k8s_config (see k8s_config.h).
 * The whole file is loaded as a libyaml document; lookups walk its nodes. */
#include "k8s_config.h"
#include "k8s_int.h"
#include "common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

typedef struct kc {
    yaml_document_t doc;
    char **err;
} kc;

static int fail(kc *k, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(kc *k, int rc, const char *fmt, ...)
{
    if (k->err && !*k->err) {
        va_list ap;
        va_start(ap, fmt);
        char *msg = NULL;
        if (vasprintf(&msg, fmt, ap) < 0)
            abort();
        va_end(ap);
        *k->err = msg;
    }
    return rc;
}

static yaml_node_t *node(kc *k, int id) { return yaml_document_get_node(&k->doc, id); }

/* The value of key in mapping n, or NULL. */
static yaml_node_t *map_get(kc *k, yaml_node_t *n, const char *key)
{
    if (!n || n->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = node(k, p->key);
        if (kn && kn->type == YAML_SCALAR_NODE && strlen(key) == kn->data.scalar.length &&
            memcmp(kn->data.scalar.value, key, kn->data.scalar.length) == 0)
            return node(k, p->value);
    }
    return NULL;
}

/* The scalar text of key in n (NULL when absent, not a scalar, or empty:
 * "null" and "~" count as absent). Points into the document. */
static const char *map_str(kc *k, yaml_node_t *n, const char *key)
{
    yaml_node_t *v = map_get(k, n, key);
    if (!v || v->type != YAML_SCALAR_NODE || v->data.scalar.length == 0)
        return NULL;
    const char *s = (const char *)v->data.scalar.value;
    if (v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
        (strcmp(s, "null") == 0 || strcmp(s, "~") == 0))
        return NULL;
    return s;
}

/* The entry of list key ("clusters", ...) in root whose name is name, and
 * within it the mapping under field ("cluster", ...). */
static yaml_node_t *named(kc *k, yaml_node_t *root, const char *list, const char *name,
                          const char *field)
{
    yaml_node_t *l = map_get(k, root, list);
    if (!l || l->type != YAML_SEQUENCE_NODE)
        return NULL;
    for (yaml_node_item_t *i = l->data.sequence.items.start; i < l->data.sequence.items.top; i++) {
        yaml_node_t *e = node(k, *i);
        const char *n = map_str(k, e, "name");
        if (n && strcmp(n, name) == 0) {
            yaml_node_t *f = map_get(k, e, field);
            /* An entry with an empty body ("user: {}") is valid. */
            return f ? f : e;
        }
    }
    return NULL;
}

static char *resolve(const char *base_dir, const char *path)
{
    if (path[0] == '/' || !base_dir || !*base_dir)
        return xstrdup(path);
    return xasprintf("%s/%s", base_dir, path);
}

/* Loads a credential: inline base64 (data_key) wins over a file (file_key). */
static int load_cred(kc *k, yaml_node_t *n, const char *data_key, const char *file_key,
                     const char *base_dir, k8s_blob *out)
{
    const char *data = map_str(k, n, data_key);
    if (data) {
        if (k8s_base64_decode(data, strlen(data), out) < 0)
            return fail(k, -EINVAL, "kubeconfig: %s is not valid base64", data_key);
        return 0;
    }
    const char *file = map_str(k, n, file_key);
    if (!file)
        return 0;
    char *path = resolve(base_dir, file);
    int rc = k8s__read_file(path, K8S_CRED_FILE_MAX, out);
    if (rc < 0)
        fail(k, rc, "kubeconfig: %s %s: %s", file_key, path, strerror(-rc));
    free(path);
    return rc;
}

static bool yaml_true(const char *s)
{
    return s && (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 ||
                 strcasecmp(s, "on") == 0 || strcmp(s, "1") == 0);
}

static int fill(kc *k, yaml_node_t *root, const char *want_ctx, const char *base_dir,
                k8s_config *c)
{
    if (!root || root->type != YAML_MAPPING_NODE)
        return fail(k, -EINVAL, "kubeconfig: not a YAML mapping");
    const char *ctx_name = want_ctx && *want_ctx ? want_ctx : map_str(k, root, "current-context");
    if (!ctx_name)
        return fail(k, -ENOENT, "kubeconfig: no current-context and no context given");
    yaml_node_t *ctx = named(k, root, "contexts", ctx_name, "context");
    if (!ctx)
        return fail(k, -ENOENT, "kubeconfig: context \"%s\" not found", ctx_name);
    c->context = xstrdup(ctx_name);
    const char *ns = map_str(k, ctx, "namespace");
    c->namespace = xstrdup(ns ? ns : "default");

    const char *cluster_name = map_str(k, ctx, "cluster");
    if (!cluster_name)
        return fail(k, -EINVAL, "kubeconfig: context \"%s\" names no cluster", ctx_name);
    yaml_node_t *cl = named(k, root, "clusters", cluster_name, "cluster");
    if (!cl)
        return fail(k, -ENOENT, "kubeconfig: cluster \"%s\" not found", cluster_name);
    const char *server = map_str(k, cl, "server");
    if (!server)
        return fail(k, -EINVAL, "kubeconfig: cluster \"%s\" has no server", cluster_name);
    if (strncmp(server, "https://", 8) != 0 && strncmp(server, "http://", 7) != 0)
        return fail(k, -EINVAL, "kubeconfig: server \"%s\" is not an http(s) URL", server);
    size_t sl = strlen(server);
    while (sl > 8 && server[sl - 1] == '/')
        sl--;
    c->server = xstrndup(server, sl);
    c->insecure = yaml_true(map_str(k, cl, "insecure-skip-tls-verify"));
    int rc = load_cred(k, cl, "certificate-authority-data", "certificate-authority", base_dir,
                       &c->ca);
    if (rc < 0)
        return rc;

    const char *user_name = map_str(k, ctx, "user");
    if (!user_name)
        return 0; /* anonymous */
    yaml_node_t *u = named(k, root, "users", user_name, "user");
    if (!u)
        return fail(k, -ENOENT, "kubeconfig: user \"%s\" not found", user_name);
    if (map_get(k, u, "exec"))
        return fail(k, -ENOTSUP, "kubeconfig: user \"%s\": exec credential plugins are not supported",
                    user_name);
    if (map_get(k, u, "auth-provider"))
        return fail(k, -ENOTSUP, "kubeconfig: user \"%s\": auth-provider is not supported",
                    user_name);
    if (map_str(k, u, "username") || map_str(k, u, "password"))
        return fail(k, -ENOTSUP, "kubeconfig: user \"%s\": basic auth is not supported",
                    user_name);
    if ((rc = load_cred(k, u, "client-certificate-data", "client-certificate", base_dir,
                        &c->cert)) < 0 ||
        (rc = load_cred(k, u, "client-key-data", "client-key", base_dir, &c->key)) < 0)
        return rc;
    if (!c->cert.data != !c->key.data)
        return fail(k, -EINVAL, "kubeconfig: user \"%s\" has a client certificate without a key "
                    "or a key without a certificate", user_name);
    const char *token = map_str(k, u, "token");
    const char *token_file = map_str(k, u, "tokenFile");
    if (token) {
        c->token = xstrdup(token);
    } else if (token_file) {
        c->token_file = resolve(base_dir, token_file);
        if (!k8s_config_token(c, lo_mono_ms()))
            return fail(k, -ENOENT, "kubeconfig: tokenFile %s cannot be read", c->token_file);
    }
    return 0;
}

int k8s_config_parse_kubeconfig(const char *yaml, size_t len, const char *context,
                                const char *base_dir, k8s_config *out, char **err)
{
    memset(out, 0, sizeof *out);
    if (err)
        *err = NULL;
    kc k = { .err = err };
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        abort();
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
    int rc;
    if (!yaml_parser_load(&parser, &k.doc)) {
        rc = fail(&k, -EINVAL, "kubeconfig: YAML error at line %zu: %s",
                  parser.problem_mark.line + 1, parser.problem ? parser.problem : "?");
        yaml_parser_delete(&parser);
        return rc;
    }
    yaml_parser_delete(&parser);
    rc = fill(&k, yaml_document_get_root_node(&k.doc), context, base_dir, out);
    yaml_document_delete(&k.doc);
    if (rc < 0)
        k8s_config_free(out);
    return rc;
}

int k8s_config_load_kubeconfig(const char *path, const char *context, k8s_config *out,
                               char **err)
{
    memset(out, 0, sizeof *out);
    if (err)
        *err = NULL;
    k8s_blob text = { 0 };
    int rc = k8s__read_file(path, K8S_KUBECONFIG_MAX, &text);
    if (rc < 0) {
        if (err)
            *err = xasprintf("kubeconfig %s: %s", path, strerror(-rc));
        return rc;
    }
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[slash == dir ? 1 : 0] = '\0'; /* "/config" lives in "/" */
    rc = k8s_config_parse_kubeconfig(text.data, text.len, context, slash ? dir : NULL, out, err);
    free(dir);
    k8s__blob_free(&text);
    return rc;
}
