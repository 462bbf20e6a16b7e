/* test_sidecar_shed.c — priority shedding order, the critical queue and its
 * deadline, Retry-After and the shed metrics, and the SIGTERM drain, with
 * an in-process origin that holds requests. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "common.h"
#include "test.h"
#include "test_sidecar_helpers.h"

static const char *shed_rules =
    "{\"routes\": ["
    "{\"match\": {\"prefix\": \"/hold-s\"}, \"mode\": \"passthrough\", \"priority\": \"sheddable\"},"
    "{\"match\": {\"prefix\": \"/hold-c\"}, \"mode\": \"passthrough\", \"priority\": \"critical\"}],"
    "\"backpressure\": {\"maxConcurrency\": 4, \"adaptive\": false, \"maxQueue\": 1,"
    " \"queueTimeoutMs\": 300}}";

typedef struct held_at_least {
    sco *o;
    int n;
} held_at_least;

static bool held_reached(void *arg)
{
    held_at_least *h = arg;
    return h->o->held_n >= h->n;
}

static bool either_has_head(void *arg)
{
    rawc **pair = arg;
    return rawc_has(pair[0], "\r\n\r\n") || rawc_has(pair[1], "\r\n\r\n");
}

static rawc *get(ev_loop *loop, int port, const char *path)
{
    rawc *r = rawc_open(loop, port);
    if (r) {
        char req[256];
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: a\r\n\r\n", path);
        rawc_sends(r, req);
    }
    return r;
}

TEST(sidecar_shed_order_queue_and_retry_after)
{
    ev_loop *loop = ev_loop_new();
    sco *o = sco_start(loop);
    REQUIRE(o);
    sc_env e;
    REQUIRE(sc_start(&e, o->port, shed_rules, NULL));
    rawc *c[10] = { 0 };
    held_at_least h = { o, 2 };
    /* limit 4: sheddable up to 2 in flight */
    c[0] = get(loop, e.port, "/hold-s1");
    c[1] = get(loop, e.port, "/hold-s2");
    CHECK(sc_wait(loop, held_reached, &h, 5000));
    c[2] = get(loop, e.port, "/hold-s3");
    CHECK(sc_wait_head(loop, c[2], 5000));
    CHECK_INT(sc_status(c[2]), 503);
    char v[64] = "";
    CHECK(sc_field(c[2], "Retry-After", v, sizeof v));
    CHECK(atoi(v) >= 1 && atoi(v) <= 46);
    CHECK(rawc_has(c[2], "retry later"));
    /* normal up to 3 */
    c[3] = get(loop, e.port, "/hold-n1");
    h.n = 3;
    CHECK(sc_wait(loop, held_reached, &h, 5000));
    c[4] = get(loop, e.port, "/hold-n2");
    CHECK(sc_wait_head(loop, c[4], 5000));
    CHECK_INT(sc_status(c[4]), 503);
    /* critical takes the last slot, then queues (one), then is refused */
    c[5] = get(loop, e.port, "/hold-c1");
    h.n = 4;
    CHECK(sc_wait(loop, held_reached, &h, 5000));
    c[6] = get(loop, e.port, "/hold-c2");  /* queued */
    for (int i = 0; i < 20; i++)
        ev_run_once(loop, 5);
    c[7] = get(loop, e.port, "/hold-c3");  /* queue full */
    CHECK(sc_wait_head(loop, c[7], 5000));
    CHECK_INT(sc_status(c[7]), 503);
    CHECK(sc_wait_head(loop, c[6], 5000)); /* the queued one times out */
    CHECK_INT(sc_status(c[6]), 503);
    CHECK_INT(o->held_n, 4);
    /* a queued critical request gets the first slot that frees */
    c[8] = get(loop, e.port, "/hold-c4");
    for (int i = 0; i < 20; i++)
        ev_run_once(loop, 5);
    CHECK_INT(o->held_n, 4);
    /* held[0] is /hold-s1 or /hold-s2: they travel on two connections, so
     * either may reach the origin first. Whichever it was gets the 200. */
    http_respond(o->held[0], 200, "text/plain", "released\n", 9);
    o->held[0] = o->held[--o->held_n];
    rawc *first_two[2] = { c[0], c[1] };
    CHECK(sc_wait(loop, either_has_head, first_two, 5000));
    rawc *released = rawc_has(c[0], "\r\n\r\n") ? c[0] : c[1];
    CHECK_INT(sc_status(released), 200);
    h.n = 4;
    CHECK(sc_wait(loop, held_reached, &h, 5000));
    sco_release(o);
    CHECK(sc_wait_head(loop, c[8], 5000));
    CHECK_INT(sc_status(c[8]), 200);

    char *out = NULL;
    char *args = xasprintf("-s http://127.0.0.1:%d/metrics", e.admin);
    CHECK_INT(run_curl(loop, args, &out, NULL), 0);
    CHECK(out && strstr(out, "liftoff_sidecar_shed_total{priority=\"sheddable\",reason=\"overload\"} 1\n"));
    CHECK(out && strstr(out, "liftoff_sidecar_shed_total{priority=\"normal\",reason=\"overload\"} 1\n"));
    CHECK(out && strstr(out, "liftoff_sidecar_shed_total{priority=\"critical\",reason=\"queue_full\"} 1\n"));
    CHECK(out && strstr(out, "liftoff_sidecar_shed_total{priority=\"critical\",reason=\"queue_timeout\"} 1\n"));
    free(out);
    free(args);
    for (size_t i = 0; i < LO_ARRAY_SIZE(c); i++)
        if (c[i])
            rawc_close(c[i]);
    sc_stop(&e);
    sco_stop(o);
    ev_loop_free(loop);
}

TEST(sidecar_drain_on_sigterm_finishes_in_flight_and_exits_0)
{
    ev_loop *loop = ev_loop_new();
    sco *o = sco_start(loop);
    REQUIRE(o);
    sc_env e;
    REQUIRE(sc_start(&e, o->port, NULL, "--drain-delay 600ms"));
    char *ready = xasprintf("-s http://127.0.0.1:%d/readyz", e.admin);
    char *out = NULL;
    /* ready once the probe reached the origin */
    for (int i = 0; i < 50; i++) {
        free(out);
        out = NULL;
        run_curl(loop, ready, &out, NULL);
        if (out && strcmp(out, "ready\n") == 0)
            break;
    }
    CHECK_STR(out, "ready\n");
    free(out);
    out = NULL;
    rawc *inflight = get(loop, e.port, "/hold-x");
    held_at_least h = { o, 1 };
    CHECK(sc_wait(loop, held_reached, &h, 5000));
    CHECK_INT(kill(peer_pid(e.sc), SIGTERM), 0);
    /* readyz fails at once, new requests are still served meanwhile */
    CHECK_INT(run_curl(loop, ready, &out, NULL), 0);
    CHECK_STR(out, "draining\n");
    free(out);
    out = NULL;
    rawc *during = get(loop, e.port, "/quick");
    CHECK(sc_wait_head(loop, during, 5000));
    CHECK_INT(sc_status(during), 200);
    /* after the delay the listener closes; the held request still finishes */
    for (int i = 0; i < 100; i++)
        ev_run_once(loop, 10);
    char *refused = xasprintf("-s -o /dev/null -w '%%{http_code}' http://127.0.0.1:%d/quick",
                              e.port);
    run_curl(loop, refused, &out, NULL);
    CHECK_STR(out, "000");
    free(out);
    sco_release(o);
    CHECK(sc_wait_head(loop, inflight, 5000));
    CHECK_INT(sc_status(inflight), 200);
    /* clients hang up; the sidecar lets their connections finish, exits 0 */
    rawc_close(inflight);
    rawc_close(during);
    int st[2] = { 0, 0 };
    for (int i = 0; i < 500 && !st[1]; i++) {
        if (peer_exited(e.sc, &st[0]))
            st[1] = 1;
        else
            ev_run_once(loop, 10);
    }
    CHECK(st[1] == 1);
    if (!(WIFEXITED(st[0]) && WEXITSTATUS(st[0]) == 0)) {
        fprintf(stderr, "    exit status 0x%x; log:\n", st[0]);
        char *cmd = xasprintf("cat %s/*", peer_dir(e.sc)), *log = NULL;
        run_sh(loop, cmd, &log, NULL);
        fprintf(stderr, "%s\n", log ? log : "");
        free(log);
        free(cmd);
    }
    CHECK(WIFEXITED(st[0]) && WEXITSTATUS(st[0]) == 0);
    free(ready);
    free(refused);
    sc_stop(&e);
    sco_stop(o);
    ev_loop_free(loop);
}
