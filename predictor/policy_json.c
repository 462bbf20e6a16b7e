/* policy_json.c — a LaunchPolicy's prediction parameters from the JSON the
 * controller writes (see policy_json.h). */
#include "policy_json.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "json_scalar.h"

/* Spec sections that belong to other components. */
static const char *const skipped[] = { "targetRef", "prewarm", "sidecar", "mode" };

static bool is_skipped(const char *key)
{
    for (size_t i = 0; i < sizeof skipped / sizeof skipped[0]; i++)
        if (strcmp(key, skipped[i]) == 0)
            return true;
    return false;
}

static void unknown(pred_policy_doc *doc, const char *path)
{
    if (doc->unknown++ == 0)
        snprintf(doc->first_unknown, sizeof doc->first_unknown, "%s", path);
}

/* Applies one leaf value at path: 0 or -EINVAL with err set. */
static int set_leaf(pred_policy_doc *doc, const char *path, const json_t *v, char *err,
                    size_t errlen)
{
    char text[64];
    const char *val = json_scalar_text(v, text, sizeof text);
    if (!val) {
        unknown(doc, path); /* booleans, nulls and arrays mean nothing here */
        return 0;
    }
    int rc = fc_policy_set(&doc->pol, path, val);
    if (rc == -ENOENT) {
        unknown(doc, path);
        return 0;
    }
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s value \"%.64s\"", path,
                 rc == -ERANGE ? "out-of-range" : rc == -ENOSPC ? "too many weights," : "invalid",
                 val);
        return -EINVAL;
    }
    return 0;
}

static int walk(pred_policy_doc *doc, const json_t *obj, const char *prefix, int depth, char *err,
                size_t errlen)
{
    if (depth > PRED_POLICY_DEPTH_MAX) {
        snprintf(err, errlen, "%s: nested too deeply", prefix);
        return -EINVAL;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        char path[PRED_FIELD_MAX];
        int n = snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", key);
        if (n < 0 || (size_t)n >= sizeof path) {
            snprintf(err, errlen, "field name too long");
            return -EINVAL;
        }
        if (depth == 0 && is_skipped(key))
            continue;
        if (depth == 0 && strcmp(key, "redis") == 0) {
            const json_t *l = json_is_object(v) ? json_object_get(v, "launch") : NULL;
            if (l && (!json_is_string(l) || !launch_name_valid(json_string_value(l), strlen(json_string_value(l))))) {
                snprintf(err, errlen, "redis.launch must be 1..%d of [A-Za-z0-9_.-]",
                         LAUNCH_NAME_MAX);
                return -EINVAL;
            }
            if (l)
                snprintf(doc->launch, sizeof doc->launch, "%s", json_string_value(l));
            continue;
        }
        int rc = json_is_object(v) ? walk(doc, v, path, depth + 1, err, errlen)
                                   : set_leaf(doc, path, v, err, errlen);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int pred_policy_parse(const char *json, size_t len, const char *default_launch,
                      pred_policy_doc *doc, char *err, size_t errlen)
{
    memset(doc, 0, sizeof *doc);
    fc_policy_default(&doc->pol);
    snprintf(doc->launch, sizeof doc->launch, "%s", default_launch ? default_launch : "default");
    if (len > PRED_POLICY_JSON_MAX) {
        snprintf(err, errlen, "policy larger than %u bytes", PRED_POLICY_JSON_MAX);
        return -EINVAL;
    }
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    int rc = -EINVAL;
    if (!root) {
        snprintf(err, errlen, "not JSON: %s (at %d)", je.text, je.position);
        goto out;
    }
    const json_t *spec = json_object_get(root, "spec");
    if (!spec)
        spec = root;
    if (!json_is_object(spec)) {
        snprintf(err, errlen, "the policy must be a JSON object");
        goto out;
    }
    if ((rc = walk(doc, spec, "", 0, err, errlen)) < 0)
        goto out;
    const char *why = NULL;
    if (fc_policy_validate(&doc->pol, &why)) {
        snprintf(err, errlen, "%s", why ? why : "invalid policy");
        rc = -EINVAL;
        goto out;
    }
    rc = 0;
out:
    json_decref(root);
    return rc;
}
