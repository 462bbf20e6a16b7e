/* strategy_liftoff.c — liftoff's forecasting core as a strategy: events and
 * the observed rate go in every second, the decision comes out. */
#include "strategy.h"
#include "common.h"
#include "forecaster.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct liftoff {
    sim_strategy base;
    fc_t fc;
    FILE *dump;
} liftoff;

static uint32_t liftoff_decide(sim_strategy *s, const sim_obs *o)
{
    liftoff *l = (liftoff *)s;
    const sim_trace *tr = o->trace;
    int64_t ms = o->t * 1000 + 500;
    fc_observe_event(&l->fc, ms, "upvote", tr->upvote[o->t]);
    fc_observe_event(&l->fc, ms, "comment", tr->comment[o->t]);
    fc_observe_event(&l->fc, ms, "maker_comment", tr->maker_comment[o->t]);
    fc_observe_rps(&l->fc, o->t * 1000, tr->rps[o->t]);
    fc_output out;
    fc_tick(&l->fc, o->t, sim_cluster_asked(o->cluster), &out);
    s->signal = out.predicted_upper;
    if (l->dump)
        fprintf(l->dump, "%lld,%u,%.3f,%.3f,%.1f,%.1f,%.1f,%u,%.2f,%.1f,%.3f,%u,%u,%u,%s,%u,%u\n",
                (long long)o->t, tr->rps[o->t], out.eps, out.eps_forecast, out.predicted_rps,
                out.predicted_upper, out.reactive_rps, out.lag_s, out.gain, out.base, out.rel_noise,
                out.decision.predicted, out.decision.reactive, out.decision.raw,
                decide_reason_name(out.decision.reason), out.decision.replicas, o->cluster->ready);
    return out.decision.replicas;
}

static void liftoff_destroy(sim_strategy *s)
{
    liftoff *l = (liftoff *)s;
    fc_free(&l->fc);
    free(l);
}

sim_strategy *sim_liftoff_new(const sim_config *c, FILE *dump)
{
    liftoff *l = xcalloc(1, sizeof *l);
    l->dump = dump;
    if (dump)
        fprintf(dump, "t,rps,eps,eps_forecast,predicted_rps,predicted_upper,reactive_rps,lag_s,"
                      "gain,base,rel_noise,predicted_replicas,reactive_replicas,raw,reason,desired,ready\n");
    if (fc_init(&l->fc, &c->policy)) {
        free(l);
        return NULL;
    }
    l->base = (sim_strategy){ "liftoff", liftoff_decide, liftoff_destroy, -1, 0 };
    return &l->base;
}
