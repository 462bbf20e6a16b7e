/* hpa_floor.c — the predictive floor on an HPA (see hpa_floor.h). */
#include "hpa_floor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CTL_HPA_REPLICAS_MAX 1000000u   /* larger counts are refused as nonsense */

const char *ctl_hpa_target_name(const json_t *hpa)
{
    const json_t *ref = json_object_get(json_object_get(hpa, "spec"), "scaleTargetRef");
    const char *kind = json_string_value(json_object_get(ref, "kind"));
    const char *api = json_string_value(json_object_get(ref, "apiVersion"));
    if (!kind || strcmp(kind, "Deployment") != 0)
        return NULL;
    if (api && strcmp(api, "apps/v1") != 0)
        return NULL;
    return json_string_value(json_object_get(ref, "name"));
}

bool ctl_hpa_targets(const json_t *hpa, const char *deployment)
{
    const char *name = ctl_hpa_target_name(hpa);
    return name && deployment && strcmp(name, deployment) == 0;
}

static bool parse_count(const char *s, uint32_t *out)
{
    char *end;
    if (!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v > CTL_HPA_REPLICAS_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

int ctl_hpa_view_read(const json_t *hpa, ctl_hpa_view *out)
{
    memset(out, 0, sizeof *out);
    const json_t *spec = json_object_get(hpa, "spec");
    const json_t *max = json_object_get(spec, "maxReplicas");
    const json_t *min = json_object_get(spec, "minReplicas");
    if (!json_is_integer(max) || json_integer_value(max) < 1 ||
        json_integer_value(max) > CTL_HPA_REPLICAS_MAX)
        return -EINVAL;
    out->max = (uint32_t)json_integer_value(max);
    out->min = 1;
    if (json_is_integer(min) && json_integer_value(min) >= 1 &&
        json_integer_value(min) <= CTL_HPA_REPLICAS_MAX)
        out->min = (uint32_t)json_integer_value(min);
    const json_t *ann = json_object_get(json_object_get(hpa, "metadata"), "annotations");
    uint32_t orig;
    if (parse_count(json_string_value(json_object_get(ann, CTL_HPA_ANNOTATION)), &orig) &&
        orig >= 1 && orig <= out->max) {
        out->has_original = true;
        out->original = orig;
    }
    return 0;
}

uint32_t ctl_hpa_floor(const ctl_hpa_view *v, uint32_t desired)
{
    uint32_t base = v->has_original ? v->original : v->min;
    uint32_t f = desired > base ? desired : base;
    return f < v->max ? f : v->max;
}

/* {"metadata": {"resourceVersion": rv, "annotations": {}}, "spec": {}} */
static json_t *patch_base(const json_t *hpa, json_t **annotations, json_t **spec)
{
    json_t *meta = json_object();
    const char *rv = json_string_value(json_object_get(json_object_get(hpa, "metadata"),
                                                       "resourceVersion"));
    if (rv)
        json_object_set_new(meta, "resourceVersion", json_string(rv));
    *annotations = json_object();
    json_object_set_new(meta, "annotations", *annotations);
    *spec = json_object();
    return json_pack("{s:o, s:o}", "metadata", meta, "spec", *spec);
}

json_t *ctl_hpa_floor_patch(const json_t *hpa, const ctl_hpa_view *v, uint32_t min)
{
    json_t *ann, *spec, *patch = patch_base(hpa, &ann, &spec);
    char orig[16];
    if (!v->has_original) {
        snprintf(orig, sizeof orig, "%u", v->min);
        json_object_set_new(ann, CTL_HPA_ANNOTATION, json_string(orig));
    }
    json_object_set_new(spec, "minReplicas", json_integer(min));
    return patch;
}

json_t *ctl_hpa_restore_patch(const json_t *hpa, const ctl_hpa_view *v)
{
    if (!v->has_original)
        return NULL;
    json_t *ann, *spec, *patch = patch_base(hpa, &ann, &spec);
    json_object_set_new(ann, CTL_HPA_ANNOTATION, json_null());
    json_object_set_new(spec, "minReplicas", json_integer(v->original));
    return patch;
}
