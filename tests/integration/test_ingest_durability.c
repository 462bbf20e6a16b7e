/*
 * test_ingest_durability.c — the durability contract of liftoff-ingest:
 * with Redis on appendonly yes + appendfsync always, every event answered
 * 202 survives kill -9 of Redis and a restart, and is in the stream exactly
 * once. Load comes from the signed-webhook generator over 32 keep-alive
 * connections; it retries 503s and lost connections as a platform would,
 * so every event ends as 202 (stored now) or 200 (stored by an earlier
 * attempt whose answer was lost). Redis is killed once a third of the
 * events were answered and restarted a moment later.
 */
#include "test.h"
#include "test_ingest_helpers.h"
#include "test_ingest_loadgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define DUR_EVENTS 9000
#define DUR_KILL_AFTER (DUR_EVENTS / 3)
#define DUR_DOWN_MS 300

typedef struct dur {
    ih_env *e;
    uint8_t final[DUR_EVENTS];   /* 0 none, else the final status class: 2 = 202, 1 = 200 */
    uint64_t answered;
    uint64_t sent_at_kill;
    uint64_t killed_ms;          /* 0: not yet */
    bool restarted;
    int restart_rc;
    uint64_t accepted_after_restart;
    const lg_stats *st;
} dur;

static void on_answer(void *arg, uint64_t n, int status)
{
    dur *d = arg;
    d->answered++;
    if (n < DUR_EVENTS && (status == 202 || status == 200))
        d->final[n] = status == 202 ? 2 : 1;
    if (d->restarted && status == 202)
        d->accepted_after_restart++;
}

static void on_tick(void *arg, uint64_t elapsed_ms)
{
    dur *d = arg;
    (void)elapsed_ms;
    if (!d->killed_ms && d->answered >= DUR_KILL_AFTER) {
        peer_kill9(d->e->redis);
        d->killed_ms = lo_mono_ms();
        d->sent_at_kill = d->answered;
    } else if (d->killed_ms && !d->restarted && lo_mono_ms() - d->killed_ms >= DUR_DOWN_MS) {
        d->restart_rc = peer_restart(d->e->redis);
        d->restarted = true;
    }
}

TEST(ingest_durability_acknowledged_events_survive_kill9_exactly_once)
{
    if (!ih_binary()) {
        test_skip("bin/liftoff-ingest not built");
        return;
    }
    ih_env e;
    REQUIRE(ih_start(&e, "appendonly yes\nappendfsync always\n", "--redis-deadline 2s"));
    dur *d = xcalloc(1, sizeof(*d));
    d->e = &e;
    lg_opts o = lg_webhook_opts("127.0.0.1", e.port, IH_SECRET, 32, "dur");
    o.requests = DUR_EVENTS;
    o.retry_unavailable = true;
    o.retry_delay_ms = 20;
    o.on_answer = on_answer;
    o.on_tick = on_tick;
    o.arg = d;
    lg_stats st;
    REQUIRE(lg_run(&o, &st) == 0);
    double secs = (double)st.elapsed_us / 1e6;
    fprintf(stderr, "    durability: %llu events in %.2f s (%.0f/s): %llu answered 202, %llu 200, "
                    "%llu 503, %llu connections lost; killed after %llu answers\n",
            (unsigned long long)DUR_EVENTS, secs, (double)DUR_EVENTS / (secs > 0 ? secs : 1),
            (unsigned long long)st.status_202, (unsigned long long)st.status_200,
            (unsigned long long)st.status_503, (unsigned long long)st.conn_errors,
            (unsigned long long)d->sent_at_kill);
    /* Redis really died in the middle of the load and came back. */
    CHECK(d->killed_ms != 0);
    CHECK(d->restarted);
    CHECK_INT(d->restart_rc, 0);
    CHECK(d->sent_at_kill > 0 && d->sent_at_kill < DUR_EVENTS);
    CHECK(st.status_503 + st.conn_errors > 0);
    CHECK(d->accepted_after_restart > 0);
    CHECK_INT(st.events_done, DUR_EVENTS);

    /* Every event's copies in the stream. */
    uint16_t *copies = xcalloc(DUR_EVENTS, sizeof(*copies));
    char *cmd = xasprintf("redis-cli -p %d --raw XRANGE liftoff:events:default - +",
                          peer_port(e.redis));
    FILE *f = popen(cmd, "r");
    free(cmd);
    REQUIRE(f);
    char line[4096];
    bool next_is_id = false;
    uint64_t entries = 0, foreign = 0;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (next_is_id) {
            unsigned long long n = 0;
            if (sscanf(line, "dur-%llu", &n) == 1 && n < DUR_EVENTS)
                copies[n]++;
            else
                foreign++;
            entries++;
            next_is_id = false;
        } else if (strcmp(line, "id") == 0) {
            next_is_id = true;
        }
    }
    pclose(f);
    uint64_t lost = 0, doubled = 0, unfinished = 0, ok202 = 0;
    for (uint64_t n = 0; n < DUR_EVENTS; n++) {
        if (d->final[n] == 0)
            unfinished++;
        if (d->final[n] == 2)
            ok202++;
        if (d->final[n] && copies[n] == 0)
            lost++;
        if (copies[n] > 1)
            doubled++;
    }
    fprintf(stderr, "    durability: stream has %llu entries; %llu events answered 202 last\n",
            (unsigned long long)entries, (unsigned long long)ok202);
    CHECK_INT(lost, 0);
    CHECK_INT(doubled, 0);
    CHECK_INT(unfinished, 0);
    CHECK_INT(foreign, 0);
    CHECK_INT(entries, DUR_EVENTS);
    CHECK(ok202 > 0);
    CHECK_STR(ih_redis(&e, "XLEN liftoff:events:default"), "9000");
    free(copies);
    lg_stats_free(&st);
    free(d);
    ih_stop(&e);
}
