/* oracle.c — the clairvoyant minimum-cost schedule and its strategy (see
 * oracle.h). */
#include "oracle.h"
#include "common.h"
#include "strategy.h"

#include <math.h>
#include <stdlib.h>

static uint32_t need_at(const sim_trace *tr, uint32_t t, double cap, uint32_t min, uint32_t max)
{
    double n = ceil(tr->rps[t] / cap - 1e-9);
    uint32_t v = n < min ? min : n > max ? max : (uint32_t)n;
    return v;
}

void sim_oracle_schedule(const sim_trace *tr, double cap, uint32_t min, uint32_t max,
                         uint32_t S, uint32_t **ready_out, uint32_t **asked_out)
{
    uint32_t n = tr->n;
    uint32_t *need = xcalloc(n ? n : 1, sizeof *need);
    uint32_t *ready = xcalloc(n ? n : 1, sizeof *ready);
    uint32_t *asked = xcalloc(n ? n : 1, sizeof *asked);
    uint32_t *fwd = xcalloc((size_t)S + 2, sizeof *fwd);
    for (uint32_t t = 0; t < n; t++)
        need[t] = need_at(tr, t, cap, min, max);
    for (uint32_t t = 0; t < n; t++) {
        /* fwd[k] = max need over [t, t + k], k = 0..S+1 */
        uint32_t kmax = S + 1;
        if (t + kmax >= n)
            kmax = n - 1 - t;
        fwd[0] = need[t];
        for (uint32_t k = 1; k <= kmax; k++)
            fwd[k] = need[t + k] > fwd[k - 1] ? need[t + k] : fwd[k - 1];
        uint32_t best = need[t];
        for (uint32_t back = 1; back <= S + 1 && back <= t; back++) {
            uint32_t a = t - back;          /* b ranges over [t, a + S + 1] */
            uint32_t k = S + 1 - back;
            if (k > kmax)
                k = kmax;
            uint32_t v = need[a] < fwd[k] ? need[a] : fwd[k];
            if (v > best)
                best = v;
        }
        ready[t] = best;
    }
    for (uint32_t t = 0; t < n; t++) {
        uint32_t m = 0;
        for (uint32_t u = t; u <= t + S && u < n; u++)
            if (ready[u] > m)
                m = ready[u];
        asked[t] = m;
    }
    free(fwd);
    free(need);
    *ready_out = ready;
    *asked_out = asked;
}

typedef struct oracle {
    sim_strategy base;
    uint32_t *ready, *asked;
    uint32_t n;
} oracle;

static uint32_t oracle_decide(sim_strategy *s, const sim_obs *o)
{
    oracle *r = (oracle *)s;
    uint32_t next = (uint32_t)o->t + 1;
    return next < r->n ? r->asked[next] : r->asked[r->n - 1];
}

static void oracle_destroy(sim_strategy *s)
{
    oracle *r = (oracle *)s;
    free(r->ready);
    free(r->asked);
    free(r);
}

sim_strategy *sim_oracle_new(const sim_config *c, const sim_trace *tr)
{
    oracle *r = xcalloc(1, sizeof *r);
    sim_oracle_schedule(tr, c->pod_capacity, c->policy.min_replicas, c->policy.max_replicas,
                        c->pod_startup_s, &r->ready, &r->asked);
    r->n = tr->n;
    r->base = (sim_strategy){ "oracle", oracle_decide, oracle_destroy, -1, r->asked[0] };
    return &r->base;
}
