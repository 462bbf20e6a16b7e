/* predictor_fixture.c — redis-server, a connection and liftoff-predictor
 * for one test (see predictor_fixture.h). */
#include "predictor_fixture.h"

#include <stdio.h>
#include <string.h>

#include "common.h"
#include "integration/test_predictor_helpers.h"

bool pfx_redis(pfx *f, const char *extra_conf)
{
    memset(f, 0, sizeof *f);
    f->rp = peer_redis_start(extra_conf);
    if (!f->rp)
        return false;
    f->c = ph_redis(peer_port(f->rp));
    return f->c != NULL;
}

bool pfx_predictor(pfx *f, const char *flags)
{
    f->pp = ph_predictor(peer_port(f->rp), flags);
    if (!f->pp)
        return false;
    f->admin = peer_port(f->pp);
    return true;
}

bool pfx_start(pfx *f, const char *extra_conf, const char *policy_json, const char *flags)
{
    if (!pfx_redis(f, extra_conf))
        return false;
    if (policy_json)
        ph_policy_put(f->c, "shop", "web", policy_json);
    return pfx_predictor(f, flags);
}

bool pfx_ready(const pfx *f)
{
    return PH_WAIT(ph_http_get(f->admin, "/readyz", NULL, 0) == 200);
}

bool pfx_xadd_n(redisContext *c, const char *stream, int n, const char *type, long long ts_ms,
                char *last)
{
    const char *id = NULL;
    for (int i = 0; i < n; i++)
        id = ph_xadd(c, stream, NULL, type, ts_ms);
    snprintf(last, PFX_ID_MAX, "%s", id ? id : "");
    return id != NULL;
}

void pfx_stop(pfx *f)
{
    peer_stop(f->pp);
    if (f->c)
        redisFree(f->c);
    peer_stop(f->rp);
}
