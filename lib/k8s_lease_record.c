/* k8s_lease_record.c — the Lease record, its expiry rule and the objects a
 * candidate writes (see k8s_lease.h). Pure: no I/O. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "k8s_lease.h"

const k8s_res k8s_res_leases = K8S_RES("coordination.k8s.io", "v1", "leases");

static void copy_str(char *dst, size_t n, const json_t *v)
{
    const char *s = json_string_value(v);
    snprintf(dst, n, "%s", s ? s : "");
}

int k8s_lease_record_parse(const json_t *obj, k8s_lease_record *out)
{
    memset(out, 0, sizeof *out);
    const json_t *spec = json_object_get(obj, "spec");
    if (!json_is_object(spec))
        return -EINVAL;
    const char *h = json_string_value(json_object_get(spec, "holderIdentity"));
    if (h && strlen(h) >= sizeof out->holder)
        return -EINVAL;
    copy_str(out->holder, sizeof out->holder, json_object_get(spec, "holderIdentity"));
    copy_str(out->acquire_time, sizeof out->acquire_time, json_object_get(spec, "acquireTime"));
    copy_str(out->renew_time, sizeof out->renew_time, json_object_get(spec, "renewTime"));
    out->duration_s = (int32_t)json_integer_value(json_object_get(spec, "leaseDurationSeconds"));
    out->transitions = (int32_t)json_integer_value(json_object_get(spec, "leaseTransitions"));
    return 0;
}

static bool record_equal(const k8s_lease_record *a, const k8s_lease_record *b)
{
    return strcmp(a->holder, b->holder) == 0 && a->duration_s == b->duration_s &&
           strcmp(a->acquire_time, b->acquire_time) == 0 &&
           strcmp(a->renew_time, b->renew_time) == 0 && a->transitions == b->transitions;
}

void k8s_lease_observe(k8s_lease_observed *o, const k8s_lease_record *rec, uint64_t now_ms)
{
    if (o->have && record_equal(&o->rec, rec))
        return;
    o->have = true;
    o->rec = *rec;
    o->since_ms = now_ms;
}

bool k8s_lease_held_by_other(const k8s_lease_observed *o, const char *identity, uint64_t now_ms)
{
    if (!o->have || !o->rec.holder[0] || strcmp(o->rec.holder, identity) == 0)
        return false;
    uint64_t dur_ms = o->rec.duration_s > 0 ? (uint64_t)o->rec.duration_s * 1000u : 1000u;
    return now_ms < o->since_ms + dur_ms;
}

void k8s_lease_time_format(uint64_t unix_ms, char out[K8S_LEASE_TIME_MAX])
{
    time_t t = (time_t)(unix_ms / 1000);
    struct tm tm;
    char sec[24];
    gmtime_r(&t, &tm);
    strftime(sec, sizeof sec, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, K8S_LEASE_TIME_MAX, "%s.%06uZ", sec, (unsigned)(unix_ms % 1000) * 1000u);
}

/* A copy of old (or a new Lease ns/name) with its spec object ready. */
static json_t *lease_base(const json_t *old, const char *ns, const char *name)
{
    json_t *obj;
    if (old) {
        obj = json_deep_copy(old);
        json_object_del(obj, "status");
    } else {
        obj = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "coordination.k8s.io/v1",
                        "kind", "Lease", "metadata", "name", name, "namespace", ns);
    }
    if (!json_is_object(json_object_get(obj, "spec")))
        json_object_set_new(obj, "spec", json_object());
    return obj;
}

json_t *k8s_lease_claim_build(const json_t *old, const char *ns, const char *name,
                              const char *identity, uint32_t duration_s, uint64_t now_unix_ms)
{
    char now[K8S_LEASE_TIME_MAX];
    k8s_lease_record prev;
    bool have_prev = old && k8s_lease_record_parse(old, &prev) == 0;
    json_t *obj = lease_base(old, ns, name);
    json_t *spec = json_object_get(obj, "spec");
    k8s_lease_time_format(now_unix_ms, now);
    json_object_set_new(spec, "holderIdentity", json_string(identity));
    json_object_set_new(spec, "leaseDurationSeconds", json_integer(duration_s));
    json_object_set_new(spec, "renewTime", json_string(now));
    bool changed = !have_prev || strcmp(prev.holder, identity) != 0;
    if (changed || !prev.acquire_time[0])
        json_object_set_new(spec, "acquireTime", json_string(now));
    /* client-go counts a transition whenever the holder changes */
    json_object_set_new(spec, "leaseTransitions",
                        json_integer(!have_prev ? 0 : prev.transitions + (changed ? 1 : 0)));
    return obj;
}

json_t *k8s_lease_release_build(const json_t *old, uint64_t now_unix_ms)
{
    char now[K8S_LEASE_TIME_MAX];
    if (!old)
        return NULL;
    json_t *obj = lease_base(old, NULL, NULL);
    json_t *spec = json_object_get(obj, "spec");
    k8s_lease_time_format(now_unix_ms, now);
    json_object_set_new(spec, "holderIdentity", json_string(""));
    json_object_set_new(spec, "leaseDurationSeconds", json_integer(1));
    json_object_set_new(spec, "renewTime", json_string(now));
    json_object_set_new(spec, "acquireTime", json_string(now));
    return obj;
}

void k8s_lease_default_identity(char *out, size_t outlen)
{
    const char *pod = getenv("POD_NAME");
    char host[256] = "";
    if (pod && *pod) {
        snprintf(out, outlen, "%s", pod);
        return;
    }
    if (gethostname(host, sizeof host - 1) < 0 || !host[0])
        snprintf(host, sizeof host, "unknown");
    snprintf(out, outlen, "%.100s_%ld", host, (long)getpid());
}
