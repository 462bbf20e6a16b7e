/* hpa.c — the Kubernetes HPA replica calculation and default behaviour
 * (see hpa.h). */
#include "hpa.h"

#include <math.h>
#include <string.h>

void sim_hpa_behavior_default(sim_hpa_behavior *b, uint32_t min_replicas, uint32_t max_replicas)
{
    *b = (sim_hpa_behavior){
        .min_replicas = min_replicas, .max_replicas = max_replicas,
        .up_stabilization_s = 0, .up_percent = 100, .up_pods = 4, .up_period_s = 15,
        .down_stabilization_s = 300, .down_percent = 100, .down_period_s = 15,
    };
}

uint32_t sim_hpa_resource_replicas(uint32_t current, int64_t util_pct, int64_t target_pct,
                                   uint32_t counted, uint32_t ignored, double tol)
{
    if (counted == 0 || target_pct <= 0)
        return current; /* "did not receive metrics for any ready pods" */
    double ratio = (double)util_pct / (double)target_pct;
    if (!(ignored > 0 && ratio > 1.0)) {
        if (fabs(1.0 - ratio) <= tol)
            return current;
        return (uint32_t)ceil(ratio * counted);
    }
    /* scale-up with pods set aside: they count as using nothing */
    int64_t new_pct = util_pct * (int64_t)counted / (int64_t)(counted + ignored);
    double nr = (double)new_pct / (double)target_pct;
    if (fabs(1.0 - nr) <= tol || (ratio < 1.0 && nr > 1.0) || (ratio > 1.0 && nr < 1.0))
        return current;
    uint32_t n = (uint32_t)ceil(nr * (counted + ignored));
    if ((nr < 1.0 && n > current) || (nr > 1.0 && n < current))
        return current;
    return n;
}

uint32_t sim_hpa_external_replicas(uint32_t status, double total, double target, double tol)
{
    if (status == 0 || !(target > 0))
        return status;
    double ratio = total / (target * status);
    if (fabs(1.0 - ratio) > tol)
        return (uint32_t)ceil(total / target);
    return status;
}

/* Sum of the changes recorded after now - period (strictly). */
static int64_t change_in_period(const sim_hpa_record *ev, uint32_t n, int64_t now, uint32_t period)
{
    int64_t sum = 0;
    for (uint32_t i = 0; i < n; i++)
        if (ev[i].t > now - (int64_t)period)
            sum += ev[i].value;
    return sum;
}

/* Drops records older than keep seconds. */
static void prune(sim_hpa_record *ev, uint32_t *n, int64_t now, uint32_t keep)
{
    uint32_t j = 0;
    for (uint32_t i = 0; i < *n; i++)
        if (ev[i].t > now - (int64_t)keep)
            ev[j++] = ev[i];
    *n = j;
}

static void push(sim_hpa_record *ev, uint32_t *n, int64_t t, uint32_t v)
{
    if (*n == SIM_HPA_MAX_RECORDS) {
        memmove(ev, ev + 1, (SIM_HPA_MAX_RECORDS - 1) * sizeof *ev);
        (*n)--;
    }
    ev[(*n)++] = (sim_hpa_record){ t, v };
}

uint32_t sim_hpa_normalize(sim_hpa_state *s, const sim_hpa_behavior *b, int64_t now,
                           uint32_t current, uint32_t desired)
{
    /* stabilizeRecommendationWithBehaviors */
    uint32_t up_rec = desired, down_rec = desired;
    for (uint32_t i = 0; i < s->nrec; i++) {
        if (s->rec[i].t > now - (int64_t)b->up_stabilization_s && s->rec[i].value < up_rec)
            up_rec = s->rec[i].value;
        if (s->rec[i].t > now - (int64_t)b->down_stabilization_s && s->rec[i].value > down_rec)
            down_rec = s->rec[i].value;
    }
    uint32_t rec = current;
    if (rec < up_rec)
        rec = up_rec;
    if (rec > down_rec)
        rec = down_rec;
    uint32_t keep = b->up_stabilization_s > b->down_stabilization_s ? b->up_stabilization_s
                                                                    : b->down_stabilization_s;
    prune(s->rec, &s->nrec, now, keep);
    push(s->rec, &s->nrec, now, desired);

    /* convertDesiredReplicasWithBehaviorRate */
    int64_t added_up = change_in_period(s->up, s->nup, now, b->up_period_s);
    int64_t deleted_up = change_in_period(s->down, s->ndown, now, b->up_period_s);
    int64_t added_dn = change_in_period(s->up, s->nup, now, b->down_period_s);
    int64_t deleted_dn = change_in_period(s->down, s->ndown, now, b->down_period_s);
    uint32_t out = rec;
    if (rec > current) {
        int64_t start = (int64_t)current - added_up + deleted_up;
        int64_t by_pods = start + b->up_pods;
        int64_t by_pct = (int64_t)ceil((double)start * (1 + b->up_percent / 100.0));
        int64_t limit = by_pods > by_pct ? by_pods : by_pct;
        if (limit < current)
            limit = current;
        int64_t allowed = b->max_replicas < limit ? b->max_replicas : limit;
        if ((int64_t)rec > allowed)
            out = (uint32_t)allowed;
    } else if (rec < current) {
        int64_t start = (int64_t)current - added_dn + deleted_dn;
        int64_t limit = (int64_t)((double)start * (1 - b->down_percent / 100.0));
        if (limit > current)
            limit = current;
        int64_t allowed = b->min_replicas > limit ? b->min_replicas : limit;
        if ((int64_t)rec < allowed)
            out = (uint32_t)allowed;
    }
    if (out > b->max_replicas)
        out = b->max_replicas;
    if (out < b->min_replicas)
        out = b->min_replicas;

    uint32_t pkeep = b->up_period_s > b->down_period_s ? b->up_period_s : b->down_period_s;
    prune(s->up, &s->nup, now, pkeep);
    prune(s->down, &s->ndown, now, pkeep);
    if (out > current)
        push(s->up, &s->nup, now, out - current);
    else if (out < current)
        push(s->down, &s->ndown, now, current - out);
    return out;
}
