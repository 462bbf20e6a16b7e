/* test_sidecar_drain_load.c — SIGTERM under load: keep-alive clients send
 * requests back to back through the real liftoff-sidecar to a real nginx
 * origin; the sidecar gets SIGTERM; a load-balancer model polls /readyz
 * every PROBE_MS (as endpoints propagate: later than the SIGTERM) and stops
 * opening new connections once it fails, so connections are still opened
 * during the drain delay and must be served. Every request sent must get
 * a whole 200 (none cut, none refused), the clients' connections must end
 * only after a response that said "Connection: close", and the sidecar
 * must exit 0. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "common.h"
#include "test.h"
#include "test_sidecar_helpers.h"

#define NCLIENTS 8
#define RUN_MS 30000 /* upper bound for the whole run, not a measurement */
#define PROBE_MS 200 /* readiness probe period; well below the drain delay (1 s) */

typedef struct lb lb;

typedef struct lclient {
    lb *l;
    rawc *r;
    bool waiting;    /* a request is out */
    bool done;       /* stopped for good */
} lclient;

struct lb {
    ev_loop *loop;
    int port, admin;
    bool out;              /* /readyz failed: no new connections */
    rawc *probe;
    uint64_t next_probe_ms;
    bool termed;           /* SIGTERM sent */
    lclient c[NCLIENTS];
    int ok, failed, closes, reconnects, sent;
    int reconnects_after_term; /* connections opened during the drain */
};

static void send_req(lclient *c)
{
    c->waiting = true;
    c->l->sent++;
    rawc_sends(c->r, "GET /page HTTP/1.1\r\nHost: app.test\r\n\r\n");
}

static void connect_client(lclient *c)
{
    c->r = rawc_open(c->l->loop, c->l->port);
    if (!c->r) {
        c->l->failed++;
        c->done = true;
        return;
    }
    send_req(c);
}

/* Advances one client: a whole response ends the request; a close by the
 * sidecar is fine only between requests and after "Connection: close". */
static void step_client(lclient *c)
{
    lb *l = c->l;
    if (c->done || !c->r)
        return;
    int st[4];
    size_t rest = 0;
    int n = split_responses(buf_data(&c->r->got), buf_len(&c->r->got), st, 4, &rest);
    if (n > 0 && c->waiting) {
        c->waiting = false;
        if (st[0] == 200)
            l->ok++;
        else
            l->failed++;
        bool close = memmem(buf_data(&c->r->got), rest, "Connection: close", 17) != NULL;
        buf_consume(&c->r->got, rest);
        if (!close) {
            send_req(c);
            return;
        }
        l->closes++;
        rawc_close(c->r);
        c->r = NULL;
        if (l->out) {
            c->done = true;
        } else {
            l->reconnects++;
            l->reconnects_after_term += l->termed;
            connect_client(c);
        }
        return;
    }
    if (c->r->eof || c->r->err) {
        if (c->waiting)
            l->failed++; /* cut in the middle of a request */
        rawc_close(c->r);
        c->r = NULL;
        c->done = true;
    }
}

static void step_probe(lb *l)
{
    if (l->out)
        return;
    if (l->probe && (l->probe->eof || l->probe->err || rawc_has(l->probe, "\r\n\r\n"))) {
        if (sc_status(l->probe) != 200)
            l->out = true;
        rawc_close(l->probe);
        l->probe = NULL;
        l->next_probe_ms = lo_mono_ms() + PROBE_MS;
    }
    if (!l->probe && !l->out && lo_mono_ms() >= l->next_probe_ms) {
        l->probe = rawc_open(l->loop, l->admin);
        if (l->probe)
            rawc_sends(l->probe, "GET /readyz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    }
}

static bool all_done(lb *l)
{
    for (int i = 0; i < NCLIENTS; i++)
        if (!l->c[i].done)
            return false;
    return true;
}

static void turn(lb *l, uint64_t ms)
{
    uint64_t end = lo_mono_ms() + ms;
    do {
        ev_run_once(l->loop, 2);
        step_probe(l);
        for (int i = 0; i < NCLIENTS; i++)
            step_client(&l->c[i]);
    } while (lo_mono_ms() < end && !all_done(l));
}

TEST(sidecar_drain_under_load_loses_no_request)
{
    peer *nginx = peer_nginx_start("location /page { return 200 \"page\\n\"; }\n"
                                   "location / { return 200 \"ok\\n\"; }\n", NULL);
    REQUIRE(nginx);
    sc_env e;
    if (!sc_start(&e, peer_port(nginx), NULL, "--drain-delay 1s --grace 20s")) {
        peer_stop(nginx);
        REQUIRE(!"sidecar started");
    }
    lb l = { .loop = ev_loop_new(), .port = e.port, .admin = e.admin };
    /* ready first (the upstream probe answered) */
    for (int i = 0; i < 300; i++) {
        step_probe(&l);
        ev_run_once(l.loop, 5);
        if (l.probe && rawc_has(l.probe, "\r\n\r\n") && sc_status(l.probe) == 200)
            break;
    }
    rawc_close(l.probe);
    l.probe = NULL;
    l.out = false;
    for (int i = 0; i < NCLIENTS; i++) {
        l.c[i].l = &l;
        connect_client(&l.c[i]);
    }
    turn(&l, 300);
    int before = l.ok;
    CHECK(before > 0);
    CHECK_INT(kill(peer_pid(e.sc), SIGTERM), 0);
    l.termed = true;
    uint64_t end = lo_mono_ms() + RUN_MS;
    while (!all_done(&l) && lo_mono_ms() < end)
        turn(&l, 50);
    CHECK(all_done(&l));
    CHECK(l.out);                 /* readyz failed */
    CHECK(l.ok > before);         /* requests went on during the drain */
    CHECK(l.reconnects_after_term > 0); /* and new connections were served */
    CHECK_INT(l.failed, 0);
    CHECK_INT(l.ok, l.sent);
    CHECK(l.closes >= NCLIENTS);  /* every connection ended by a Connection: close */
    int status = 0;
    bool exited = false;
    while (!exited && lo_mono_ms() < end) {
        exited = peer_exited(e.sc, &status);
        if (!exited)
            ev_run_once(l.loop, 10);
    }
    CHECK(exited);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    fprintf(stderr, "    %d requests (%d before SIGTERM), %d reconnects (%d during the drain)\n",
            l.ok, before, l.reconnects, l.reconnects_after_term);
    for (int i = 0; i < NCLIENTS; i++)
        rawc_close(l.c[i].r);
    sc_stop(&e);
    peer_stop(nginx);
    ev_loop_free(l.loop);
}
