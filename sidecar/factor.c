/* factor.c — the predictor's load factor: parsing what Redis carries and
 * decaying it to 1.0 when it grows old. */
#include "factor.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

void sidecar_factor_init(sidecar_factor *f) { memset(f, 0, sizeof *f); }

int sidecar_factor_set(sidecar_factor *f, double value, int64_t updated_at_ms,
                       uint64_t now_mono_ms, int64_t now_wall_ms)
{
    if (!isfinite(value) || !(value > 0) || value > SIDECAR_FACTOR_MAX)
        return -EINVAL;
    if (f->have && updated_at_ms > 0 && f->updated_at_ms > 0 && updated_at_ms < f->updated_at_ms)
        return 0;
    f->have = true;
    f->value = value;
    f->updated_at_ms = updated_at_ms;
    f->rx_mono_ms = now_mono_ms;
    f->age_at_rx_ms = updated_at_ms > 0 && now_wall_ms > updated_at_ms
                          ? (uint64_t)(now_wall_ms - updated_at_ms)
                          : 0;
    return 1;
}

uint64_t sidecar_factor_age_ms(const sidecar_factor *f, uint64_t now_mono_ms)
{
    if (!f->have)
        return UINT64_MAX;
    return f->age_at_rx_ms + (now_mono_ms > f->rx_mono_ms ? now_mono_ms - f->rx_mono_ms : 0);
}

double sidecar_factor_get(const sidecar_factor *f, uint32_t max_age_s, uint64_t now_mono_ms)
{
    if (!f->have || sidecar_factor_age_ms(f, now_mono_ms) > (uint64_t)max_age_s * 1000u)
        return 1.0;
    return f->value;
}

/* A number given as a JSON number or as decimal text. */
static int json_num(json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 0;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        *out = strtod(s, &end);
        return end != s && *end == 0 ? 0 : -EINVAL;
    }
    return -EINVAL;
}

int sidecar_forecast_parse_msg(const char *json, size_t len, const char *ns, const char *name,
                               double *factor, int64_t *updated_at_ms)
{
    int rc = -EINVAL;
    json_t *root = NULL;
    double ua = 0;
    if (len > SIDECAR_FORECAST_JSON_MAX)
        goto out;
    root = json_loadb(json, len, 0, NULL);
    if (!json_is_object(root))
        goto out;
    json_t *jns = json_object_get(root, "namespace"), *jname = json_object_get(root, "name");
    if (!json_is_string(jns) || !json_is_string(jname))
        goto out;
    if (strcmp(json_string_value(jns), ns) != 0 || strcmp(json_string_value(jname), name) != 0) {
        rc = 0;
        goto out;
    }
    if (json_num(json_object_get(root, "factor"), factor) < 0)
        goto out;
    json_t *jua = json_object_get(root, "updated_at");
    if (jua && (json_num(jua, &ua) < 0 || ua < 0))
        goto out;
    *updated_at_ms = (int64_t)ua;
    rc = 1;
out:
    json_decref(root);
    return rc;
}

/* Decimal text value[0..len) as a double; -EINVAL if it is not one. */
static int text_num(const char *v, size_t len, double *out)
{
    char tmp[64];
    char *end;
    if (len == 0 || len >= sizeof tmp)
        return -EINVAL;
    memcpy(tmp, v, len);
    tmp[len] = 0;
    *out = strtod(tmp, &end);
    return *end == 0 ? 0 : -EINVAL;
}

static bool field_is(const char *f, size_t flen, const char *name)
{
    return flen == strlen(name) && memcmp(f, name, flen) == 0;
}

int sidecar_forecast_parse_hash(size_t n, const char *const fields[], const size_t flens[],
                                const char *const values[], const size_t vlens[], double *factor,
                                int64_t *updated_at_ms)
{
    bool have = false;
    double ua = 0;
    for (size_t i = 0; i < n; i++) {
        if (field_is(fields[i], flens[i], "factor")) {
            if (text_num(values[i], vlens[i], factor) < 0)
                return -EINVAL;
            have = true;
        } else if (field_is(fields[i], flens[i], "updated_at")) {
            if (text_num(values[i], vlens[i], &ua) < 0 || ua < 0)
                ua = 0;
        }
    }
    if (!have)
        return 0;
    *updated_at_ms = (int64_t)ua;
    return 1;
}
