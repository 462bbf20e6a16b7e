/* report.c — lead of scale-ups, the text table and the JSON (see
 * report.h). */
#include "report.h"
#include "common.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

double sim_mean_lead(const uint32_t *need, const uint32_t *ready, uint32_t n,
                     uint32_t min_replicas, uint32_t *events)
{
    double sum = 0;
    uint32_t count = 0;
    for (uint32_t t = 1; t < n; t++) {
        uint32_t prev = 0;
        for (uint32_t u = t > SIM_LEAD_NEW_S ? t - SIM_LEAD_NEW_S : 0; u < t; u++)
            if (need[u] > prev)
                prev = need[u];
        for (uint32_t lv = (prev > min_replicas ? prev : min_replicas) + 1; lv <= need[t]; lv++) {
            int64_t lead;
            if (ready[t] >= lv) {
                uint32_t s0 = t;
                while (s0 > 0 && ready[s0 - 1] >= lv && t - s0 < SIM_LEAD_CAP_S)
                    s0--;
                lead = (int64_t)(t - s0);
            } else {
                uint32_t u = t + 1;
                while (u < n && ready[u] < lv && u - t < SIM_LEAD_CAP_S)
                    u++;
                lead = -(int64_t)(u - t);
            }
            sum += (double)lead;
            count++;
        }
    }
    *events = count;
    return count ? sum / count : 0;
}

static void fmt_int(char *buf, size_t len, uint64_t v)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
    size_t n = strlen(tmp), o = 0;
    for (size_t i = 0; i < n && o + 2 < len; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = '\0';
}

int sim_report_text(FILE *f, const sim_report_info *info, const sim_run *run)
{
    const sim_config *c = info->cfg;
    char req[32];
    fmt_int(req, sizeof req, run->count ? run->r[0].requests : 0);
    fprintf(f, "trace %s: %u s, %s requests; pod start-up %u s, %.0f rps per pod; policy %s\n",
            info->trace_name, run->n, req, c->pod_startup_s, c->pod_capacity,
            info->policy_name ? info->policy_name : "defaults");
    fprintf(f, "%-14s %14s %8s %12s %8s %10s %10s %5s\n", "strategy", "over capacity", "%",
            "replica-s", "x oracle", "1st over", "mean lead", "peak");
    for (size_t i = 0; i < run->count; i++) {
        const sim_result *r = &run->r[i];
        char over[32], rs[32], first[24], lead[24];
        fmt_int(over, sizeof over, r->over_requests);
        fmt_int(rs, sizeof rs, r->replica_seconds);
        if (r->first_overrun_s >= 0)
            snprintf(first, sizeof first, "%lld s", (long long)r->first_overrun_s);
        else
            snprintf(first, sizeof first, "-");
        if (r->lead_events)
            snprintf(lead, sizeof lead, "%+.0f s", r->mean_lead_s);
        else
            snprintf(lead, sizeof lead, "-");
        fprintf(f, "%-14s %14s %8.3f %12s %8.2f %10s %10s %5u\n", r->name, over, r->over_pct, rs,
                r->ratio_to_oracle, first, lead, r->peak_replicas);
    }
    return ferror(f) ? -EIO : 0;
}

int sim_report_json(FILE *f, const sim_report_info *info, const sim_run *run)
{
    const sim_config *c = info->cfg;
    json_t *root = json_object(), *arr = json_array();
    json_object_set_new(root, "trace", json_string(info->trace_name));
    json_object_set_new(root, "policy", info->policy_name ? json_string(info->policy_name)
                                                          : json_null());
    json_object_set_new(root, "seconds", json_integer(run->n));
    json_object_set_new(root, "requests", json_integer(run->count ? (json_int_t)run->r[0].requests : 0));
    json_object_set_new(root, "pod_startup_s", json_integer(c->pod_startup_s));
    json_object_set_new(root, "pod_capacity_rps", json_real(c->pod_capacity));
    for (size_t i = 0; i < run->count; i++) {
        const sim_result *r = &run->r[i];
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(r->name));
        json_object_set_new(o, "over_capacity_requests", json_integer((json_int_t)r->over_requests));
        json_object_set_new(o, "over_capacity_pct", json_real(r->over_pct));
        json_object_set_new(o, "replica_seconds", json_integer((json_int_t)r->replica_seconds));
        json_object_set_new(o, "ratio_to_oracle", json_real(r->ratio_to_oracle));
        json_object_set_new(o, "first_overrun_s", r->first_overrun_s >= 0
                                                      ? json_integer(r->first_overrun_s)
                                                      : json_null());
        json_object_set_new(o, "mean_scaleup_lead_s", r->lead_events ? json_real(r->mean_lead_s)
                                                                     : json_null());
        json_object_set_new(o, "scaleup_events", json_integer(r->lead_events));
        json_object_set_new(o, "peak_replicas", json_integer(r->peak_replicas));
        json_array_append_new(arr, o);
    }
    json_object_set_new(root, "strategies", arr);
    int rc = json_dumpf(root, f, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    json_decref(root);
    fputc('\n', f);
    return rc || ferror(f) ? -EIO : 0;
}

int sim_report_series(FILE *f, const sim_trace *tr, const sim_run *run)
{
    fprintf(f, "t,rps,need");
    for (size_t i = 0; i < run->count; i++)
        fprintf(f, ",%s_ready,%s_asked", run->r[i].name, run->r[i].name);
    fputc('\n', f);
    for (uint32_t t = 0; t < run->n; t++) {
        fprintf(f, "%u,%u,%u", t, tr->rps[t], run->need[t]);
        for (size_t i = 0; i < run->count; i++)
            fprintf(f, ",%u,%u", run->r[i].ready[t], run->r[i].asked[t]);
        fputc('\n', f);
    }
    return ferror(f) ? -EIO : 0;
}
