/* policy_yaml.c — LaunchPolicy prediction parameters from YAML (see
 * policy_yaml.h). */
#include "policy_yaml.h"
#include "common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define PATH_MAX_LEN 256

static const char *const skipped[] = { "targetRef", "prewarm", "sidecar", "mode", "redis", NULL };
static const char *const manifest[] = { "apiVersion", "kind", "metadata", "status", NULL };

__attribute__((format(printf, 5, 6)))
static int fail(char *err, size_t errlen, const yaml_node_t *n, int rc, const char *fmt, ...)
{
    if (err && errlen) {
        int o = 0;
        if (n)
            o = snprintf(err, errlen, "%lu:%lu: ", (unsigned long)n->start_mark.line + 1,
                         (unsigned long)n->start_mark.column + 1);
        if (o < 0 || (size_t)o >= errlen)
            o = 0;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err + o, errlen - (size_t)o, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static bool in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

static int walk(yaml_document_t *doc, yaml_node_t *node, const char *path, int depth,
                fc_policy *p, char *err, size_t errlen)
{
    if (depth > SIM_POLICY_MAX_DEPTH)
        return fail(err, errlen, node, -EINVAL, "nesting deeper than %d", SIM_POLICY_MAX_DEPTH);
    if (node->type == YAML_SCALAR_NODE) {
        const char *v = (const char *)node->data.scalar.value;
        int rc = fc_policy_set(p, path, v);
        if (rc == -ENOENT)
            return fail(err, errlen, node, -EINVAL, "%s: unknown field", path);
        if (rc == -ERANGE)
            return fail(err, errlen, node, -EINVAL, "%s: '%s' is out of range", path, v);
        if (rc == -ENOSPC)
            return fail(err, errlen, node, -EINVAL, "%s: more than %d weighted event types", path,
                        FC_MAX_WEIGHTS);
        if (rc)
            return fail(err, errlen, node, -EINVAL, "%s: '%s' is not a valid value", path, v);
        return 0;
    }
    if (node->type != YAML_MAPPING_NODE)
        return fail(err, errlen, node, -EINVAL, "%s: expected a value or a mapping",
                    *path ? path : "document");
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = yaml_document_get_node(doc, pair->key);
        yaml_node_t *v = yaml_document_get_node(doc, pair->value);
        if (!k || !v || k->type != YAML_SCALAR_NODE)
            return fail(err, errlen, k, -EINVAL, "expected a field name");
        const char *key = (const char *)k->data.scalar.value;
        if (depth == 0 && (in_list(skipped, key) || in_list(manifest, key)))
            continue;
        if (depth == 0 && strcmp(key, "spec") == 0 && v->type == YAML_MAPPING_NODE) {
            int rc = walk(doc, v, "", 0, p, err, errlen);
            if (rc)
                return rc;
            continue;
        }
        char sub[PATH_MAX_LEN];
        int w = snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", key);
        if (w < 0 || (size_t)w >= sizeof sub)
            return fail(err, errlen, k, -EINVAL, "field path too long");
        int rc = walk(doc, v, sub, depth + 1, p, err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

int sim_policy_parse(const char *buf, size_t len, fc_policy *p, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (len > SIM_POLICY_MAX_BYTES)
        return fail(err, errlen, NULL, -EINVAL, "policy larger than %u bytes", SIM_POLICY_MAX_BYTES);
    yaml_parser_t parser;
    yaml_document_t doc;
    int rc = 0;
    if (!yaml_parser_initialize(&parser))
        return fail(err, errlen, NULL, -ENOMEM, "cannot initialise the YAML parser");
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    if (!yaml_parser_load(&parser, &doc)) {
        rc = fail(err, errlen, NULL, -EINVAL, "%lu:%lu: %s",
                  (unsigned long)parser.problem_mark.line + 1,
                  (unsigned long)parser.problem_mark.column + 1,
                  parser.problem ? parser.problem : "YAML syntax error");
        yaml_parser_delete(&parser);
        return rc;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    fc_policy np = *p;
    if (!root)
        rc = 0; /* an empty document: the defaults */
    else
        rc = walk(&doc, root, "", 0, &np, err, errlen);
    if (rc == 0) {
        const char *why = NULL;
        if (fc_policy_validate(&np, &why))
            rc = fail(err, errlen, NULL, -EINVAL, "%s", why);
        else
            *p = np;
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc;
}

int sim_policy_load(const char *path, fc_policy *p, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int rc = -errno;
        fail(err, errlen, NULL, rc, "cannot open: %s", strerror(-rc));
        return rc;
    }
    char *buf = xmalloc(SIM_POLICY_MAX_BYTES + 1);
    size_t len = fread(buf, 1, SIM_POLICY_MAX_BYTES + 1, f);
    int rc;
    if (ferror(f))
        rc = fail(err, errlen, NULL, -EIO, "read error");
    else
        rc = sim_policy_parse(buf, len, p, err, errlen);
    free(buf);
    fclose(f);
    return rc;
}
