/* test_sidecar_redis.c — liftoff-sidecar following the predictor through a
 * real redis-server: a factor published on liftoff:forecast changes
 * X-Liftoff-Factor and max-age; the forecast hash is read at start and as a
 * fallback; a stale factor decays to 1.0; the rules follow
 * liftoff:policy:<ns>:<name>; with Redis down the proxy keeps working and
 * the factor decays, and comes back after Redis does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "test.h"
#include "test_sidecar_helpers.h"

#include "sidecar/feed.h"

#define WAIT_MS 15000   /* upper bound for anything to propagate */

/* maxAge 600 / factor, at least 10 s; the factor counts for 2 s. */
static const char *rules =
    "{\"factorMaxAgeSeconds\": 2, \"routes\": ["
    "{\"match\": {\"prefix\": \"/\"}, \"mode\": \"override\", \"maxAge\": 600,"
    " \"minMaxAge\": 10, \"jitterPercent\": 0}]}";

typedef struct fx {
    ev_loop *loop;
    sco *origin;
    peer *redis;
    sc_env sc;
    bool sc_up;
} fx;

#define FOLLOW_FLAGS "--policy shop/web --factor-poll 200ms --policy-resync 60s"

/* Writes the forecast hash of shop/web: factor, and an updated_at ahead_ms
 * in the future (a hash older than factorMaxAgeSeconds counts as stale).
 * The exit status of redis-cli. */
static int put_forecast_hash(peer *redis, int factor, unsigned ahead_ms)
{
    char *cmd = xasprintf("redis-cli -p %%PORT%% HSET liftoff:forecast:shop:web factor %d "
                          "updated_at %llu >/dev/null",
                          factor, (unsigned long long)lo_wall_ms() + ahead_ms);
    int rc = peer_sh(redis, cmd);
    free(cmd);
    return rc;
}

static void fx_stop(fx *f)
{
    if (f->sc_up)
        sc_stop(&f->sc);
    peer_stop(f->redis);
    if (f->origin)
        sco_stop(f->origin);
    ev_loop_free(f->loop);
}

/* Starts the origin, redis-server (with the forecast hash at factor
 * hash_factor first, unless 0) and the sidecar with --redis and flags.
 * false if any of it failed; what did start is stopped again. */
static bool fx_start(fx *f, int hash_factor, const char *flags)
{
    memset(f, 0, sizeof *f);
    f->loop = ev_loop_new();
    f->origin = sco_start(f->loop);
    f->redis = peer_redis_start(NULL);
    if (f->origin && f->redis &&
        (!hash_factor || put_forecast_hash(f->redis, hash_factor, 60000) == 0)) {
        char *all = xasprintf("--redis redis://127.0.0.1:%d %s", peer_port(f->redis), flags);
        f->sc_up = sc_start(&f->sc, f->origin->port, rules, all);
        free(all);
    }
    if (!f->sc_up)
        fx_stop(f);
    return f->sc_up;
}

/* One GET through the sidecar: status, X-Liftoff-Factor and Cache-Control. */
typedef struct seen {
    int status;
    char factor[32];
    char cc[128];
} seen;

static bool get(fx *f, seen *s)
{
    char *out = NULL;
    char *args = xasprintf("-s -i http://127.0.0.1:%d/page", f->sc.port);
    int rc = run_curl(f->loop, args, &out, NULL);
    free(args);
    memset(s, 0, sizeof *s);
    if (rc != 0 || !out) {
        free(out);
        return false;
    }
    sscanf(out, "HTTP/1.1 %d", &s->status);
    for (char *line = strtok(out, "\r\n"); line; line = strtok(NULL, "\r\n")) {
        if (strncasecmp(line, "X-Liftoff-Factor: ", 18) == 0)
            snprintf(s->factor, sizeof s->factor, "%s", line + 18);
        else if (strncasecmp(line, "Cache-Control: ", 15) == 0)
            snprintf(s->cc, sizeof s->cc, "%s", line + 15);
    }
    free(out);
    return true;
}

static char *publish_cmd(double factor)
{
    return xasprintf("redis-cli -p %%PORT%% PUBLISH liftoff:forecast "
                     "'{\"namespace\":\"shop\",\"name\":\"web\",\"factor\":%g,"
                     "\"updated_at\":%llu}' >/dev/null",
                     factor, (unsigned long long)lo_wall_ms());
}

/* Requests until the factor header reads want (or WAIT_MS passes). With
 * publish > 0, each round first publishes that factor for shop/web (the
 * message may precede the subscription; updated_at is taken once). */
static bool wait_factor(fx *f, const char *want, double publish, seen *s)
{
    char *cmd = publish > 0 ? publish_cmd(publish) : NULL;
    bool ok = false;
    uint64_t end = lo_mono_ms() + WAIT_MS;
    while (!ok && lo_mono_ms() < end) {
        if (cmd)
            peer_sh(f->redis, cmd);
        ok = get(f, s) && s->status == 200 && strcmp(s->factor, want) == 0;
        if (!ok)
            ev_run_once(f->loop, 50);
    }
    free(cmd);
    return ok;
}

TEST(sidecar_redis_published_factor_sets_max_age_then_decays)
{
    fx f;
    REQUIRE(fx_start(&f, 0, FOLLOW_FLAGS));
    seen s;
    REQUIRE(get(&f, &s));
    CHECK_INT(s.status, 200);
    CHECK_STR(s.factor, "1.00");
    CHECK_STR(s.cc, "public, max-age=600");
    /* Another policy's forecast changes nothing. */
    peer_sh(f.redis, "redis-cli -p %PORT% PUBLISH liftoff:forecast "
                     "'{\"namespace\":\"shop\",\"name\":\"api\",\"factor\":50}' >/dev/null");
    CHECK(wait_factor(&f, "10.00", 10, &s));
    CHECK_STR(s.cc, "public, max-age=60");
    /* Nothing refreshes it: after factorMaxAgeSeconds it is 1.0 again. */
    CHECK(wait_factor(&f, "1.00", 0, &s));
    CHECK_STR(s.cc, "public, max-age=600");
    fx_stop(&f);
}

TEST(sidecar_redis_hash_read_at_start_and_polled)
{
    fx f;
    /* A forecast hash older than 2 s counts as stale: write it fresh. */
    REQUIRE(fx_start(&f, 4, FOLLOW_FLAGS));
    seen s;
    CHECK(wait_factor(&f, "4.00", 0, &s));
    CHECK_STR(s.cc, "public, max-age=150");
    /* Changed in the hash only, no message: the fallback poll finds it. */
    CHECK_INT(put_forecast_hash(f.redis, 20, 120000), 0);
    CHECK(wait_factor(&f, "20.00", 0, &s));
    CHECK_STR(s.cc, "public, max-age=30");
    fx_stop(&f);
}

TEST(sidecar_redis_rules_follow_the_policy)
{
    fx f;
    REQUIRE(fx_start(&f, 0, FOLLOW_FLAGS));
    seen s;
    REQUIRE(get(&f, &s));
    CHECK_STR(s.cc, "public, max-age=600");
    CHECK_INT(peer_sh(f.redis,
                      "redis-cli -p %PORT% SET liftoff:policy:shop:web "
                      "'{\"namespace\":\"shop\",\"name\":\"web\",\"generation\":2,\"spec\":{"
                      "\"minReplicas\":2,\"sidecar\":{\"routes\":[{\"match\":{\"prefix\":\"/\"},"
                      "\"mode\":\"override\",\"maxAge\":77,\"jitterPercent\":0}]}}}' >/dev/null"),
              0);
    uint64_t end = lo_mono_ms() + WAIT_MS;
    bool changed = false;
    while (!changed && lo_mono_ms() < end) {
        peer_sh(f.redis, "redis-cli -p %PORT% PUBLISH liftoff:policy shop/web >/dev/null");
        changed = get(&f, &s) && strcmp(s.cc, "public, max-age=77") == 0;
    }
    CHECK(changed);
    fx_stop(&f);
}

TEST(sidecar_redis_down_factor_decays_proxy_keeps_working)
{
    fx f;
    REQUIRE(fx_start(&f, 0, FOLLOW_FLAGS));
    seen s;
    CHECK(wait_factor(&f, "6.00", 6, &s));
    CHECK_STR(s.cc, "public, max-age=100");
    peer_kill9(f.redis);
    /* Every request still succeeds, and the factor decays to 1. */
    CHECK(wait_factor(&f, "1.00", 0, &s));
    CHECK_INT(s.status, 200);
    CHECK_STR(s.cc, "public, max-age=600");
    for (int i = 0; i < 20; i++) {
        CHECK(get(&f, &s));
        CHECK_INT(s.status, 200);
    }
    /* Redis is back with a forecast in the hash: the sidecar reconnects
     * and reads it. */
    REQUIRE(peer_restart(f.redis) == 0);
    CHECK_INT(put_forecast_hash(f.redis, 3, 60000), 0);
    CHECK(wait_factor(&f, "3.00", 0, &s));
    CHECK_STR(s.cc, "public, max-age=200");
    fx_stop(&f);
}

TEST(sidecar_redis_reports_observed_rate_per_pod)
{
    fx f;
    REQUIRE(fx_start(&f, 0, "--policy shop/web --pod web-7d9f-abcde --observed-interval 200ms"));
    /* Requests keep coming until a report with a rate above 0 is there. */
    uint64_t end = lo_mono_ms() + WAIT_MS;
    bool reported = false;
    seen s;
    while (!reported && lo_mono_ms() < end) {
        for (int i = 0; i < 5; i++)
            get(&f, &s);
        /* rate and p99 of one report, read atomically */
        reported = peer_sh(f.redis, "redis-cli -p %PORT% HMGET liftoff:observed:shop:web "
                                    "rps@web-7d9f-abcde p99_ms@web-7d9f-abcde | "
                                    "awk 'NR==1{r=$1} NR==2{p=$1} END{exit !(r > 0 && p > 0)}'") == 0;
    }
    CHECK(reported);
    /* All four fields, a recent updated_at, no sheds, a TTL on the key. */
    char *chk = xasprintf(
        "k=liftoff:observed:shop:web; p=web-7d9f-abcde; "
        "[ \"$(redis-cli -p %%PORT%% HLEN $k)\" = 4 ] && "
        "[ \"$(redis-cli -p %%PORT%% HGET $k shed@$p)\" = 0.000 ] && "
        "u=$(redis-cli -p %%PORT%% HGET $k updated_at@$p) && [ $u -ge %llu ] && "
        "t=$(redis-cli -p %%PORT%% PTTL $k) && [ $t -gt 0 ] && [ $t -le %u ]",
        (unsigned long long)lo_wall_ms() - 60000, SIDECAR_OBSERVED_TTL_MS);
    CHECK_INT(peer_sh(f.redis, chk), 0);
    free(chk);
    fx_stop(&f);
}
