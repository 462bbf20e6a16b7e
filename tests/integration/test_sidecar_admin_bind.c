/* test_sidecar_admin_bind.c — where the admin port listens: 127.0.0.1 by
 * default, every address with --admin :PORT (as every host:port option
 * reads ":PORT"). Told apart by connecting to 127.0.0.2, another loopback
 * address that only a listener on every address answers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "test.h"
#include "test_sidecar_helpers.h"

/* Whether GET /healthz on host:port answers want ("000": nothing
 * answers), asked up to tries times 20 ms apart (the admin listener opens
 * just after the proxy's, which the fixture waits for). */
static bool healthz_is(ev_loop *loop, const char *host, int port, const char *want, int tries)
{
    char *args = xasprintf("-s -o /dev/null -m 5 -w %%{http_code} http://%s:%d/healthz", host, port);
    char *out = NULL;
    bool ok = false;
    for (int i = 0; i < tries && !ok; i++) {
        if (i > 0) {
            uint64_t end = lo_mono_ms() + 20;
            while (lo_mono_ms() < end)
                ev_run_once(loop, 5);
        }
        free(out);
        out = NULL;
        (void)run_curl(loop, args, &out, NULL); /* curl exits non-zero when refused */
        ok = out && strcmp(out, want) == 0;
    }
    if (!ok)
        fprintf(stderr, "  %s:%d/healthz answered \"%s\", want \"%s\"\n", host, port,
                out ? out : "(nothing)", want);
    free(out);
    free(args);
    return ok;
}

TEST(sidecar_admin_binds_loopback_by_default_and_every_address_for_colon_port)
{
    ev_loop *loop = ev_loop_new();
    sco *o = sco_start(loop);
    REQUIRE(o);
    sc_env e;
    if (!sc_start(&e, o->port, NULL, NULL)) {
        CHECK(!"sidecar did not start");
        goto out;
    }
    CHECK(healthz_is(loop, "127.0.0.1", e.admin, "200", 100));
    CHECK(healthz_is(loop, "127.0.0.2", e.admin, "000", 1));
    sc_stop(&e);

    int any = peer_free_port();
    char *flags = xasprintf("--admin :%d", any); /* after the fixture's own --admin */
    bool started = sc_start(&e, o->port, NULL, flags);
    free(flags);
    if (!started) {
        CHECK(!"sidecar with --admin :PORT did not start");
        goto out;
    }
    CHECK(healthz_is(loop, "127.0.0.1", any, "200", 100));
    CHECK(healthz_is(loop, "127.0.0.2", any, "200", 1));
    sc_stop(&e);
out:
    sco_stop(o);
    ev_loop_free(loop);
}
