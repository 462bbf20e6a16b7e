/* redis_fixture.c — a redis-server, a loop and a client for one test (see
 * redis_fixture.h). */
#include "redis_fixture.h"

#include <string.h>

#include "integration/test_redis_helpers.h"

bool rfx_start(rfx *f, const char *extra_conf, const rds_opts *opts, const char *host)
{
    memset(f, 0, sizeof *f);
    f->p = peer_redis_start(extra_conf);
    if (!f->p)
        return false;
    f->loop = ev_loop_new();
    f->r = test_rds(f->loop, opts, true, "redis://%s:%d", host ? host : "127.0.0.1",
                    peer_port(f->p));
    return f->r != NULL;
}

void rfx_stop(rfx *f)
{
    rds_free(f->r);
    ev_loop_free(f->loop);
    peer_stop(f->p);
}
