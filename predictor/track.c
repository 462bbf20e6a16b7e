/* track.c — a LaunchPolicy's forecaster fed in stream order and ticked in
 * stream time (see track.h). */
#include "track.h"

#include <errno.h>
#include <string.h>

int pred_track_init(pred_track *t, const fc_policy *p)
{
    memset(t, 0, sizeof *t);
    return fc_init(&t->fc, p) ? -EINVAL : 0;
}

void pred_track_free(pred_track *t)
{
    fc_free(&t->fc);
    if (t->have_shadow)
        fc_free(&t->shadow);
    t->have_shadow = false;
}

/* Drops the shadow (its policy no longer matches) and the provisional. */
static void drop_shadow(pred_track *t)
{
    if (t->have_shadow)
        fc_free(&t->shadow);
    t->have_shadow = false;
    t->have_prov = false;
}

void pred_track_reset(pred_track *t)
{
    fc_reset(&t->fc);
    t->applied = (pred_id){ 0, 0 };
    t->ticking = false;
    t->next_tick_s = 0;
    t->clock_ms = 0;
    memset(&t->out, 0, sizeof t->out);
    t->have_out = false;
    t->replicas = 0;
    t->have_prov = false;
    t->since_tick_w = 0;
}

/* Whether two policies weigh events the same way over the same window. */
static bool same_velocity(const fc_policy *a, const fc_policy *b)
{
    if (a->window_s != b->window_s || a->default_weight != b->default_weight ||
        a->nweights != b->nweights)
        return false;
    for (uint32_t i = 0; i < a->nweights; i++)
        if (fc_policy_weight(b, a->weights[i].type) != a->weights[i].weight)
            return false;
    return true;
}

int pred_track_set_policy(pred_track *t, const fc_policy *p)
{
    if (fc_policy_validate(p, NULL))
        return -EINVAL;
    if (same_velocity(&t->fc.pol, p)) {
        int rc = fc_set_policy(&t->fc, p);
        if (rc == 0) {
            drop_shadow(t);
            return 0;
        }
        if (rc != -ENOSPC)
            return -EINVAL;
    }
    fc_t fresh;
    if (fc_init(&fresh, p))
        return -EINVAL;
    drop_shadow(t);
    fc_free(&t->fc);
    t->fc = fresh;
    pred_track_reset(t);
    return 1;
}

/* Ticks second s. */
static void tick(pred_track *t, int64_t s)
{
    fc_tick(&t->fc, s, t->replicas, &t->out);
    if (t->have_prov && t->prov.now_s < s)
        t->have_prov = false; /* its second's own tick has been published over */
    t->replicas = t->out.decision.replicas;
    t->have_out = true;
    t->ticks++;
    t->since_tick_w = 0;
}

uint32_t pred_track_advance(pred_track *t, uint64_t clock_ms)
{
    if (clock_ms <= t->clock_ms)
        return 0;
    t->clock_ms = clock_ms;
    if (!t->ticking)
        return 0;
    int64_t done = (int64_t)(clock_ms / 1000); /* seconds before this are complete */
    if (done - t->next_tick_s > PRED_TICK_CATCHUP_MAX)
        t->next_tick_s = done - PRED_TICK_CATCHUP_MAX;
    uint32_t n = 0;
    for (; t->next_tick_s < done; t->next_tick_s++, n++)
        tick(t, t->next_tick_s);
    return n;
}

void pred_track_origin(pred_track *t, uint64_t origin_ms)
{
    if (t->ticking)
        return;
    t->ticking = true;
    t->next_tick_s = (int64_t)(origin_ms / 1000);
}

int pred_track_apply(pred_track *t, const pred_entry *e)
{
    if (pred_id_cmp(e->id, t->applied) <= 0) {
        t->skipped_n++;
        return 0;
    }
    pred_track_advance(t, e->id.ms);
    pred_track_origin(t, e->id.ms);
    double w = fc_policy_weight(&t->fc.pol, e->type); /* looked up once */
    if (fc_observe_weight(&t->fc, e->ts_ms, w) == -ESTALE)
        t->stale_n++;
    else
        t->since_tick_w += w;
    t->applied = e->id;
    t->applied_n++;
    return 1;
}

void pred_track_mark(pred_track *t, pred_id id)
{
    if (pred_id_cmp(id, t->applied) > 0) {
        pred_track_advance(t, id.ms);
        t->applied = id;
    }
}

void pred_track_observe_rps(pred_track *t, int64_t ts_ms, double rps)
{
    fc_observe_rps(&t->fc, ts_ms, rps);
}

double pred_track_eps(const pred_track *t)
{
    return vel_rate(&t->fc.vel);
}

int pred_track_provisional(pred_track *t, double min_ratio, uint32_t above_replicas,
                           fc_output *out)
{
    if (!t->ticking)
        return 0;
    int64_t s = t->next_tick_s; /* the second in progress */
    double w = (double)vel_second_milli(&t->fc.vel, s) / VEL_MILLI;
    if (t->since_tick_w > w)
        w = t->since_tick_w;
    double eps = t->have_out ? t->out.eps : 0;
    if (w < PRED_EARLY_MIN_WEIGHT || w < min_ratio * eps)
        return 0;
    if (!t->have_shadow) {
        if (fc_init(&t->shadow, &t->fc.pol))
            return -EINVAL;
        t->have_shadow = true;
    }
    if (fc_copy(&t->shadow, &t->fc)) {
        /* the forecaster kept longer windows from an earlier policy */
        drop_shadow(t);
        return -EINVAL;
    }
    fc_output o;
    fc_tick(&t->shadow, s, t->replicas, &o);
    t->prov_n++;
    if (t->have_prov && t->prov.now_s == s && t->prov.decision.replicas > above_replicas)
        above_replicas = t->prov.decision.replicas;
    if (o.decision.replicas <= above_replicas)
        return 0;
    t->prov = o;
    t->have_prov = true;
    if (out)
        *out = o;
    return 1;
}

const fc_output *pred_track_current(const pred_track *t, bool *provisional)
{
    bool pending = t->have_prov && (!t->have_out || t->prov.now_s > t->out.now_s);
    if (provisional)
        *provisional = pending;
    if (pending)
        return &t->prov;
    return t->have_out ? &t->out : NULL;
}

uint32_t pred_track_desired(const pred_track *t, const fc_output *out)
{
    uint32_t r = out->decision.replicas;
    if (t->have_prov && t->prov.now_s == out->now_s && t->prov.decision.replicas > r)
        r = t->prov.decision.replicas;
    return r;
}
