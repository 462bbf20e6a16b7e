/* policy.c — LaunchPolicy JSON to ctl_policy, and the Redis document (see
 * policy.h). */
#include "policy.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "forecast_policy.h"
#include "json_scalar.h"

static int copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n == 0 || n >= cap)
        return -EINVAL;
    memcpy(dst, src, n + 1);
    return 0;
}

/* A DNS subdomain name: [a-z0-9] at both ends, [-a-z0-9.] between. */
static bool dns_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > K8S_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
        if (!alnum && ((ch != '-' && ch != '.') || i == 0 || i == n - 1))
            return false;
    }
    return true;
}

static int read_replicas(const json_t *spec, const char *field, uint32_t def, uint32_t *out,
                         char *err, size_t errlen)
{
    const json_t *v = json_object_get(spec, field);
    if (!v) {
        *out = def;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 1 ||
        json_integer_value(v) > (json_int_t)FC_MAX_REPLICAS) {
        snprintf(err, errlen, "spec.%s must be an integer in 1..%u", field, FC_MAX_REPLICAS);
        return -EINVAL;
    }
    *out = (uint32_t)json_integer_value(v);
    return 0;
}

/* spec.scaleDown.<field> into fp (its default kept when absent), read and
 * checked as the predictor does (predictor/policy_json.c): 0 or -EINVAL. */
static int read_scale_down(const json_t *spec, const char *field, fc_policy *fp, char *err,
                           size_t errlen)
{
    char path[64], text[64];
    const json_t *v = json_object_get(json_object_get(spec, "scaleDown"), field);
    const char *val = json_scalar_text(v, text, sizeof text);
    if (!val)   /* absent (or a type the predictor skips too): the default */
        return 0;
    snprintf(path, sizeof path, "scaleDown.%s", field);
    int rc = fc_policy_set(fp, path, val);
    if (rc < 0) {
        snprintf(err, errlen, "spec.%s: %s value \"%.64s\"", path,
                 rc == -ERANGE ? "out-of-range" : "invalid", val);
        return -EINVAL;
    }
    return 0;
}

int ctl_policy_parse(const json_t *obj, ctl_policy *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const json_t *meta = json_object_get(obj, "metadata");
    const json_t *spec = json_object_get(obj, "spec");
    if (!json_is_object(meta) || !json_is_object(spec)) {
        snprintf(err, errlen, "object without metadata or spec");
        return -EINVAL;
    }
    if (copy_str(out->ns, sizeof out->ns, k8s_meta_str(obj, "namespace")) < 0 ||
        copy_str(out->name, sizeof out->name, k8s_meta_str(obj, "name")) < 0) {
        snprintf(err, errlen, "metadata.namespace and metadata.name are required");
        return -EINVAL;
    }
    const char *uid = k8s_meta_str(obj, "uid");
    if (uid)
        snprintf(out->uid, sizeof out->uid, "%s", uid);
    const json_t *gen = json_object_get(meta, "generation");
    out->generation = json_is_integer(gen) ? (int64_t)json_integer_value(gen) : 0;

    const json_t *ref = json_object_get(spec, "targetRef");
    const char *target = json_string_value(json_object_get(ref, "name"));
    if (!target || copy_str(out->target, sizeof out->target, target) < 0 ||
        !dns_name(target)) {
        snprintf(err, errlen, "spec.targetRef.name must name a Deployment");
        return -EINVAL;
    }
    const char *kind = json_string_value(json_object_get(ref, "kind"));
    if (kind && strcmp(kind, "Deployment") != 0) {
        snprintf(err, errlen, "spec.targetRef.kind must be Deployment");
        return -EINVAL;
    }

    const json_t *mode = json_object_get(spec, "mode");
    const char *m = json_string_value(mode);
    if (!mode || (m && strcmp(m, "Active") == 0)) {
        out->mode = CTL_MODE_ACTIVE;
    } else if (m && strcmp(m, "DryRun") == 0) {
        out->mode = CTL_MODE_DRY_RUN;
    } else if (m && strcmp(m, "Paused") == 0) {
        out->mode = CTL_MODE_PAUSED;
    } else {
        snprintf(err, errlen, "spec.mode must be Active, DryRun or Paused");
        return -EINVAL;
    }

    if (read_replicas(spec, "minReplicas", 2, &out->min_replicas, err, errlen) < 0 ||
        read_replicas(spec, "maxReplicas", 100, &out->max_replicas, err, errlen) < 0)
        return -EINVAL;
    if (out->min_replicas > out->max_replicas) {
        snprintf(err, errlen, "spec.minReplicas must not exceed spec.maxReplicas");
        return -EINVAL;
    }
    /* for the fail-safe's reactive floor (decision.h) */
    const json_t *cap = json_object_get(spec, "podCapacityRps");
    out->pod_capacity_rps = json_is_number(cap) ? json_number_value(cap) : 200;
    if (!(out->pod_capacity_rps > 0)) {
        snprintf(err, errlen, "spec.podCapacityRps must be greater than 0");
        return -EINVAL;
    }
    const json_t *head = json_object_get(json_object_get(spec, "prediction"), "headroomPercent");
    out->headroom_percent = json_is_number(head) ? json_number_value(head) : 0;
    if (!(out->headroom_percent >= 0 && out->headroom_percent <= 400)) {
        snprintf(err, errlen, "spec.prediction.headroomPercent must be in 0..400");
        return -EINVAL;
    }
    /* for the fallback's scale-down (decision.h) */
    fc_policy fp;
    fc_policy_default(&fp);
    if (read_scale_down(spec, "stabilizationSeconds", &fp, err, errlen) < 0 ||
        read_scale_down(spec, "maxStepPercent", &fp, err, errlen) < 0 ||
        read_scale_down(spec, "maxStepPods", &fp, err, errlen) < 0 ||
        read_scale_down(spec, "periodSeconds", &fp, err, errlen) < 0)
        return -EINVAL;
    const json_t *sd = json_object_get(spec, "scaleDown");
    if (json_object_get(sd, "maxStepPercent") && json_object_get(sd, "maxStepPods")) {
        snprintf(err, errlen, "spec.scaleDown may set maxStepPercent or maxStepPods, not both");
        return -EINVAL;
    }
    if (fp.scale_down_max_step_pods > out->max_replicas) {
        snprintf(err, errlen, "spec.scaleDown.maxStepPods must not exceed spec.maxReplicas");
        return -EINVAL;
    }
    out->scale_down_stabilization_s = fp.scale_down_stabilization_s;
    out->scale_down_max_step_percent = fp.scale_down_max_step_percent;
    out->scale_down_max_step_pods = fp.scale_down_max_step_pods;
    out->scale_down_period_s = fp.scale_down_period_s;
    return 0;
}

char *ctl_policy_doc(const json_t *obj)
{
    json_t *spec = json_object_get(obj, "spec");
    if (!json_is_object(spec))
        return NULL;
    const json_t *gen = json_object_get(json_object_get(obj, "metadata"), "generation");
    json_t *doc = json_pack("{s:s?, s:s?, s:I, s:O}", "namespace", k8s_meta_str(obj, "namespace"),
                            "name", k8s_meta_str(obj, "name"), "generation",
                            (json_int_t)(json_is_integer(gen) ? json_integer_value(gen) : 0),
                            "spec", spec);
    if (!doc)
        return NULL;
    char *s = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return s;
}

const char *ctl_mode_name(ctl_mode m)
{
    switch (m) {
    case CTL_MODE_DRY_RUN:
        return "DryRun";
    case CTL_MODE_PAUSED:
        return "Paused";
    case CTL_MODE_ACTIVE:
    default:
        return "Active";
    }
}
