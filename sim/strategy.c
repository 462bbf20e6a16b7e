/* strategy.c — shared pieces of the strategies (see strategy.h). */
#include "strategy.h"

void sim_config_default(sim_config *c)
{
    fc_policy_default(&c->policy);
    c->pod_startup_s = 60;
    c->pod_capacity = 200;
    c->policy.pod_capacity_rps = c->pod_capacity;
    c->hpa_target = 0.70;
    c->hpa_sync_s = 15;
    c->hpa_tolerance = 0.10;
    c->hpa_cpu_window_s = 15;
    c->hpa_cpu_init_s = 300;
    c->hpa_demand_window_s = 30;
    c->linear_slope = 0.4;
    c->linear_cap = 5;
    c->reactive_factor = 1.2;
    c->liftoff_dump = NULL;
}

void sim_strategy_free(sim_strategy *s)
{
    if (s)
        s->destroy(s);
}

double sim_weighted_events(const fc_policy *p, const sim_trace *tr, int64_t t)
{
    return fc_policy_weight(p, "upvote") * tr->upvote[t] +
           fc_policy_weight(p, "comment") * tr->comment[t] +
           fc_policy_weight(p, "maker_comment") * tr->maker_comment[t];
}
