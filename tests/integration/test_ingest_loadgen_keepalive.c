/*
 * test_ingest_loadgen_keepalive.c — the load generator meets the server's
 * keep-alive limit as a client should: a response with Connection: close
 * ends that connection and the next event goes on a new one, with no
 * event lost and no connection counted as an error (bench-ingest reports
 * them).
 */
#include "test.h"
#include "test_ingest_helpers.h"
#include "test_ingest_loadgen.h"

#define KA_EVENTS 400

TEST(ingest_loadgen_reconnects_at_the_keepalive_limit_without_errors)
{
    if (!ih_binary()) {
        test_skip("bin/liftoff-ingest not built");
        return;
    }
    ih_env e;
    REQUIRE(ih_start(&e, NULL, "--max-requests-per-conn 7"));
    lg_opts o = lg_webhook_opts("127.0.0.1", e.port, IH_SECRET, 4, "ka");
    o.requests = KA_EVENTS;
    lg_stats st;
    REQUIRE(lg_run(&o, &st) == 0);
    CHECK_INT(st.status_202, KA_EVENTS); /* the server closed a connection every 7 */
    CHECK_INT(st.conn_errors, 0);
    CHECK_INT(st.answered, KA_EVENTS);
    lg_stats_free(&st);
    ih_stop(&e);
}
