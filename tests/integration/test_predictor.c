/* test_predictor.c — liftoff-predictor against a real redis-server: the
 * forecast hash and PUBLISH for a known input, policy changes through the
 * policy key + announcement, and the graceful stop on SIGTERM. */
#include "test.h"
#include "test_predictor_helpers.h"
#include "predictor_fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

#define FORECAST_WEB "liftoff:forecast:shop:web"

static bool hash_has(redisContext *c, const char *key, const char *field, const char *want)
{
    char *v = ph_hget(c, key, field);
    bool ok = v && strcmp(v, want) == 0;
    free(v);
    return ok;
}

static bool near(double a, double b)
{
    return fabs(a - b) < 1e-9;
}

/* Entries of stream handed to the predictor's group and not yet
 * acknowledged, or -1 when XPENDING does not answer with its summary. */
static long long pending_count(redisContext *c, const char *stream)
{
    redisReply *x = ph_cmd(c, "XPENDING %s liftoff-predictor", stream);
    long long n = x && x->type == REDIS_REPLY_ARRAY && x->elements > 0 ? x->element[0]->integer : -1;
    if (x)
        freeReplyObject(x);
    return n;
}

/* Reads messages from a subscribed context until one for last_id arrives;
 * returns its JSON (the caller decrefs) or NULL. */
static json_t *message_for(redisContext *sub, const char *last_id)
{
    for (int i = 0; i < 200; i++) {
        redisReply *r = NULL;
        if (redisGetReply(sub, (void **)&r) != REDIS_OK || !r)
            return NULL;
        json_t *j = NULL;
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
            r->element[2]->type == REDIS_REPLY_STRING) {
            j = json_loadb(r->element[2]->str, r->element[2]->len, 0, NULL);
            const char *id = json_string_value(json_object_get(j, "last_id"));
            if (!id || strcmp(id, last_id) != 0) {
                json_decref(j);
                j = NULL;
            }
        }
        freeReplyObject(r);
        if (j)
            return j;
    }
    return NULL;
}

TEST(predictor_publishes_forecast_for_known_input)
{
    pfx f;
    REQUIRE(pfx_start(&f, NULL,
                      "{\"namespace\":\"shop\",\"name\":\"web\",\"spec\":{\"redis\":{\"launch\":\"t1\"},"
                      "\"prediction\":{\"windowSeconds\":100,\"weights\":{\"upvote\":2,\"comment\":0.5}}}}",
                      NULL));
    int admin = f.admin;
    CHECK_INT(ph_http_get(admin, "/healthz", NULL, 0), 200);
    redisContext *c = f.c, *sub = ph_redis(peer_port(f.rp));
    REQUIRE(sub);
    REQUIRE(pfx_ready(&f));
    freeReplyObject(ph_cmd(sub, "SUBSCRIBE liftoff:forecast"));

    long long now = (long long)lo_wall_ms();
    char last[PFX_ID_MAX];
    pfx_xadd_n(c, "liftoff:events:t1", 30, "upvote", now, last);
    pfx_xadd_n(c, "liftoff:events:t1", 20, "comment", now - 1000, last);
    REQUIRE(pfx_xadd_n(c, "liftoff:events:t1", 3, "hover", now, last)); /* default weight 1 */

    /* (30 * 2 + 20 * 0.5 + 3 * 1) / 100 s */
    REQUIRE(PH_WAIT(hash_has(c, FORECAST_WEB, "last_id", last)));
    CHECK(near(ph_hget_num(c, FORECAST_WEB, "eps"), 0.73));
    CHECK(ph_hget_num(c, FORECAST_WEB, "factor") >= 1);
    CHECK(ph_hget_num(c, FORECAST_WEB, "desired_replicas") >= 2);
    CHECK(ph_hget_num(c, FORECAST_WEB, "updated_at") >= (double)now);
    long long ttl = ph_int(c, "PTTL %s", FORECAST_WEB);
    CHECK(ttl > 0 && ttl <= 30000);

    json_t *m = message_for(sub, last);
    REQUIRE(m);
    CHECK_STR(json_string_value(json_object_get(m, "namespace")), "shop");
    CHECK_STR(json_string_value(json_object_get(m, "name")), "web");
    CHECK(near(json_number_value(json_object_get(m, "eps")), 0.73));
    CHECK(json_is_integer(json_object_get(m, "desired_replicas")));
    json_decref(m);

    CHECK(near(ph_metric(admin, "liftoff_engagement_velocity{namespace=\"shop\",name=\"web\"}"), 0.73));
    CHECK_INT((long long)ph_metric(admin, "liftoff_predictor_events_consumed_total{launch=\"t1\"}"), 53);
    CHECK(ph_metric(admin, "liftoff_predictor_publish_lag_seconds_count") >= 1);
    CHECK_INT((long long)ph_metric(admin, "liftoff_predictor_ready"), 1);
    /* everything handed over was acknowledged */
    CHECK(PH_WAIT(ph_int(c, "XLEN liftoff:events:t1") == 53 &&
                  pending_count(c, "liftoff:events:t1") == 0));
    redisFree(sub);
    pfx_stop(&f);
}

TEST(predictor_policy_change_takes_effect)
{
    pfx f;
    REQUIRE(pfx_start(&f, NULL,
                      "{\"spec\":{\"redis\":{\"launch\":\"t2\"},\"prediction\":{\"windowSeconds\":100}}}",
                      NULL));
    REQUIRE(pfx_ready(&f));
    redisContext *c = f.c;
    int admin = f.admin;
    char last[PFX_ID_MAX];
    REQUIRE(pfx_xadd_n(c, "liftoff:events:t2", 50, "upvote", (long long)lo_wall_ms(), last));
    REQUIRE(PH_WAIT(hash_has(c, FORECAST_WEB, "last_id", last)));
    CHECK(near(ph_hget_num(c, FORECAST_WEB, "eps"), 0.6)); /* 50 * 1.2 (default) / 100 */

    /* new weights: the window is replayed with them */
    ph_policy_put(c, "shop", "web",
                  "{\"spec\":{\"redis\":{\"launch\":\"t2\"},\"prediction\":{\"windowSeconds\":100,"
                  "\"weights\":{\"upvote\":3}}}}");
    CHECK(PH_WAIT(near(ph_hget_num(c, FORECAST_WEB, "eps"), 1.5)));
    /* a shorter window */
    ph_policy_put(c, "shop", "web",
                  "{\"spec\":{\"redis\":{\"launch\":\"t2\"},\"prediction\":{\"windowSeconds\":50,"
                  "\"weights\":{\"upvote\":3}}}}");
    CHECK(PH_WAIT(near(ph_hget_num(c, FORECAST_WEB, "eps"), 3.0)));
    double rebuilds = ph_metric(admin, "liftoff_predictor_rebuilds_total");
    CHECK_INT((long long)rebuilds, 3);

    /* a smaller pod capacity keeps what was learned but needs more pods */
    double before = ph_hget_num(c, FORECAST_WEB, "desired_replicas");
    ph_policy_put(c, "shop", "web",
                  "{\"spec\":{\"redis\":{\"launch\":\"t2\"},\"podCapacityRps\":5,\"maxReplicas\":1000,"
                  "\"prediction\":{\"windowSeconds\":50,\"weights\":{\"upvote\":3}}}}");
    CHECK(PH_WAIT(ph_hget_num(c, FORECAST_WEB, "desired_replicas") > before));
    CHECK_INT((long long)ph_metric(admin, "liftoff_predictor_rebuilds_total"), 3);
    CHECK(near(ph_hget_num(c, FORECAST_WEB, "eps"), 3.0));

    /* an invalid document leaves the policy as it was */
    freeReplyObject(ph_cmd(c, "SET liftoff:policy:shop:web %s", "{\"minReplicas\":0"));
    freeReplyObject(ph_cmd(c, "PUBLISH liftoff:policy shop/web"));
    /* a second policy announced on another launch */
    ph_policy_put(c, "shop", "api", "{\"spec\":{\"redis\":{\"launch\":\"t2b\"},\"minReplicas\":7}}");
    CHECK(PH_WAIT(ph_hget_num(c, "liftoff:forecast:shop:api", "desired_replicas") == 7));
    CHECK_INT((long long)ph_metric(admin, "liftoff_predictor_policies"), 2);
    CHECK(near(ph_hget_num(c, FORECAST_WEB, "eps"), 3.0));
    CHECK_INT(ph_int(c, "EXISTS liftoff:events:t2b"), 1); /* its group was created */

    /* removal: key deleted, member removed, announced */
    freeReplyObject(ph_cmd(c, "DEL liftoff:policy:shop:api"));
    freeReplyObject(ph_cmd(c, "SREM liftoff:policies shop/api"));
    freeReplyObject(ph_cmd(c, "PUBLISH liftoff:policy shop/api"));
    CHECK(PH_WAIT(ph_metric(admin, "liftoff_predictor_policies") == 1));
    pfx_stop(&f);
}

/* Starts the predictor as a direct child (for its exit status). */
static pid_t spawn_direct(const char *const argv[], const char *log)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
    }
    execv(argv[0], (char *const *)argv);
    _exit(127);
}

TEST(predictor_sigterm_finishes_the_batch_and_acknowledges)
{
    const char *bin = ph_binary();
    REQUIRE(bin);
    pfx f;
    REQUIRE(pfx_redis(&f, NULL));
    redisContext *c = f.c;
    /* an hour-old backlog (outside the window: consumed through the group) */
    enum { N = 200000 };
    uint64_t t0 = lo_wall_ms() - 3600 * 1000;
    for (int i = 0; i < N; i++)
        redisAppendCommand(c, "XADD liftoff:events:t3 %llu-%d type upvote ts %llu",
                           (unsigned long long)(t0 + (uint64_t)i / 100), i % 100,
                           (unsigned long long)(t0 + (uint64_t)i / 100));
    for (int i = 0; i < N; i++) {
        redisReply *r = NULL;
        redisGetReply(c, (void **)&r);
        if (r)
            freeReplyObject(r);
    }
    long long len = ph_int(c, "XLEN liftoff:events:t3");
    REQUIRE(len == N);
    freeReplyObject(ph_cmd(c, "XGROUP CREATE liftoff:events:t3 liftoff-predictor 0"));

    int admin = peer_free_port();
    char listen[64], redis[64], log[4096];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", admin);
    snprintf(redis, sizeof redis, "redis://127.0.0.1:%d", peer_port(f.rp));
    snprintf(log, sizeof log, "%s/predictor-sigterm.log", peer_dir(f.rp));
    const char *argv[] = { bin, "--listen", listen, "--redis", redis, "--launch", "t3",
                           "--policy", "shop/web", "--batch", "100", NULL };
    pid_t pid = spawn_direct(argv, log);
    REQUIRE(pid > 0);
    /* stop it while it is consuming */
    PH_WAIT(ph_metric(admin, "liftoff_predictor_events_consumed_total{launch=\"t3\"}") > 0);
    kill(pid, SIGTERM);
    int status = -1;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* whatever the group handed over was applied and acknowledged */
    CHECK_INT(pending_count(c, "liftoff:events:t3"), 0);
    char *last = ph_hget(c, FORECAST_WEB, "last_id");
    CHECK(last != NULL);
    free(last);
    pfx_stop(&f);
}

TEST(predictor_reads_the_observed_rate_from_sidecars)
{
    pfx f;
    REQUIRE(pfx_start(&f, NULL,
                      "{\"spec\":{\"redis\":{\"launch\":\"t4\"},\"podCapacityRps\":100,"
                      "\"prediction\":{\"baseRps\":100}}}",
                      NULL));
    REQUIRE(pfx_ready(&f));
    redisContext *c = f.c;
    /* no engagement at all: only traffic, reported by two pods; a third
     * pod is long gone */
    bool seen = PH_WAIT(({
        long long now = (long long)lo_wall_ms();
        freeReplyObject(ph_cmd(c,
                               "HSET liftoff:observed:shop:web rps@web-a 1500 updated_at@web-a %lld "
                               "rps@web-b 500 p99_ms@web-b 80 updated_at@web-b %lld "
                               "rps@web-gone 10 updated_at@web-gone %lld",
                               now, now, now - 120000));
        ph_hget_num(c, FORECAST_WEB, "observed_rps") == 2000;
    }));
    CHECK(seen);
    /* the reactive floor: 2000 rps / 100 per pod (plus the headroom) */
    CHECK(ph_hget_num(c, FORECAST_WEB, "desired_replicas") >= 20);
    CHECK(hash_has(c, FORECAST_WEB, "reason", "reactive"));
    CHECK(ph_hget_num(c, FORECAST_WEB, "factor") >= 20);
    CHECK(PH_WAIT(ph_int(c, "HEXISTS liftoff:observed:shop:web rps@web-gone") == 0));
    CHECK_INT(ph_int(c, "HEXISTS liftoff:observed:shop:web rps@web-a"), 1);
    pfx_stop(&f);
}

TEST(predictor_no_ack_mode_counts_everything_and_leaves_nothing_pending)
{
    pfx f;
    REQUIRE(pfx_start(&f, NULL, NULL, "--no-ack --policy shop/web --launch t5"));
    REQUIRE(pfx_ready(&f));
    redisContext *c = f.c;
    long long now = (long long)lo_wall_ms();
    char last[PFX_ID_MAX];
    REQUIRE(pfx_xadd_n(c, "liftoff:events:t5", 25, "maker_comment", now, last));
    REQUIRE(PH_WAIT(hash_has(c, FORECAST_WEB, "last_id", last)));
    CHECK(near(ph_hget_num(c, FORECAST_WEB, "eps"), 25 * 1.5 / 60));
    CHECK_INT(pending_count(c, "liftoff:events:t5"), 0);
    /* a restart finds the window in the stream: nothing lost, nothing doubled */
    REQUIRE(peer_restart(f.pp) == 0);
    REQUIRE(pfx_ready(&f));
    pfx_xadd_n(c, "liftoff:events:t5", 1, "maker_comment", now, last);
    REQUIRE(PH_WAIT(hash_has(c, FORECAST_WEB, "last_id", last)));
    CHECK(near(ph_hget_num(c, FORECAST_WEB, "eps"), 26 * 1.5 / 60));
    pfx_stop(&f);
}
