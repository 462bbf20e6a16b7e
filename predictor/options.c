/* options.c — the option table of liftoff-predictor (see options.h). */
#include "options.h"

#include <stdio.h>
#include <stdlib.h>

#include "config.h"

#ifndef LIFTOFF_VERSION
#define LIFTOFF_VERSION "0.1.0"
#endif

static struct {
    char *redis;
    cfg_hostport listen;
    char *launch;
    char *consumer;
    char *group;
    char *group_start;
    int batch;
    int block_ms;
    uint64_t publish_interval_ms;
    double change_threshold;
    uint64_t forecast_ttl_ms;
    cfg_list policies;
    uint64_t claim_idle_ms;
    uint64_t claim_interval_ms;
    uint64_t tick_delay_ms;
    uint64_t early_publish_interval_ms;
    double early_publish_ratio;
    uint64_t rebuild_slack_ms;
    uint64_t policy_resync_ms;
    bool exit_when_caught_up;
    bool no_ack;
    char *log_level;
} c;

static const cfg_option options[] = {
    CFG_STRING("redis", &c.redis, "redis://127.0.0.1:6379",
               "Redis URL (redis:// or rediss://)", .flags = CFG_SECRET),
    CFG_HOSTPORT("listen", &c.listen, "0.0.0.0:9102",
                 "admin address: /healthz, /readyz, /metrics"),
    CFG_STRING("launch", &c.launch, "default",
               "launch of policies whose spec.redis.launch is not set: stream liftoff:events:<launch>"),
    CFG_STRING("consumer", &c.consumer, "",
               "consumer name in the group (empty: <hostname>-<pid>)"),
    CFG_STRING("group", &c.group, "liftoff-predictor", "consumer group"),
    CFG_STRING("group-start", &c.group_start, "$",
               "where a consumer group created by the predictor starts: $ (new entries; the "
               "window is rebuilt from the stream anyway), 0 (the whole stream), or any "
               "stream id (the entries after it)"),
    CFG_INT("batch", &c.batch, "1000", 1, 100000, "entries per read (COUNT)"),
    CFG_INT("block-ms", &c.block_ms, "200", 1, 60000,
            "how long a read waits for new entries once caught up (BLOCK, ms)"),
    CFG_DURATION("publish-interval", &c.publish_interval_ms, "1s", 10, 60000,
                 "every policy's forecast is published this often"),
    CFG_DOUBLE("change-threshold", &c.change_threshold, "0.05", 0, 10,
               "publish at once when eps, forecast, predicted rps or factor moves by more than "
               "this fraction (or the replica count changes)"),
    CFG_DURATION("forecast-ttl", &c.forecast_ttl_ms, "30s", 1000, 86400000,
                 "TTL of liftoff:forecast:<ns>:<name>: a forecast older than that disappears"),
    CFG_LIST("policy", &c.policies, "",
             "NAMESPACE/NAME of a policy to follow without the controller (repeatable)"),
    CFG_DURATION("claim-idle", &c.claim_idle_ms, "30s", 10, 86400000,
                 "entries pending this long with another consumer are taken over"),
    CFG_DURATION("claim-interval", &c.claim_interval_ms, "5s", 10, 3600000,
                 "how often to look for such entries"),
    CFG_DURATION("tick-delay", &c.tick_delay_ms, "100ms", 0, 10000,
                 "a second is forecast this long after it ended (clock skew with Redis)"),
    CFG_DURATION("early-publish-interval", &c.early_publish_interval_ms, "100ms", 0, 60000,
                 "a burst in the incomplete second gets a provisional forecast at most this "
                 "often per policy, published at once when it scales up (0: never)"),
    CFG_DOUBLE("early-publish-ratio", &c.early_publish_ratio, "1.5", 0, 1000,
               "a second is a burst once its weighted events reach this many times the "
               "velocity (weighted events/s over the window), and at least 1"),
    CFG_DURATION("rebuild-slack", &c.rebuild_slack_ms, "5s", 0, 3600000,
                 "on start, the stream is replayed from this long before the window"),
    CFG_DURATION("policy-resync", &c.policy_resync_ms, "30s", 1000, 86400000,
                 "re-read the whole policy set this often"),
    CFG_BOOL("exit-when-caught-up", &c.exit_when_caught_up, "false",
             "stop (exit 0) once every stream has been read to its end (benchmarks)"),
    CFG_BOOL("no-ack", &c.no_ack, "false",
             "read with NOACK and acknowledge nothing: less work for Redis; safe because the "
             "window is rebuilt from the stream on start, but no pending entries to claim"),
    CFG_STRING("log-level", &c.log_level, "info", "debug, info, warn or error"),
    CFG_END,
};

static const cfg_spec spec = {
    "liftoff-predictor", LIFTOFF_VERSION,
    "forecasts each LaunchPolicy's load from its engagement stream and publishes it to Redis",
    options,
};

void pred_options_load(int argc, char **argv, pred_settings *s, log_level *level)
{
    cfg_parse_or_exit(&spec, argc, argv);
    if (log_level_parse(c.log_level, level) < 0) {
        fprintf(stderr, "liftoff-predictor: --log-level: \"%s\" is not debug, info, warn or error\n",
                c.log_level);
        cfg_free(&spec);
        exit(CFG_EXIT_USAGE);
    }
    pred_settings_defaults(s);
    s->redis_url = c.redis;
    s->listen_host = c.listen.host;
    s->listen_port = c.listen.port;
    s->launch = c.launch;
    s->consumer = c.consumer;
    s->group = c.group;
    s->group_start = c.group_start;
    s->batch = (uint32_t)c.batch;
    s->block_ms = (uint32_t)c.block_ms;
    s->publish_interval_ms = c.publish_interval_ms;
    s->change_threshold = c.change_threshold;
    s->forecast_ttl_ms = c.forecast_ttl_ms;
    s->policies = (const char *const *)c.policies.items;
    s->npolicies = c.policies.n;
    s->claim_idle_ms = c.claim_idle_ms;
    s->claim_interval_ms = c.claim_interval_ms;
    s->tick_delay_ms = c.tick_delay_ms;
    s->early_publish_interval_ms = c.early_publish_interval_ms;
    s->early_publish_ratio = c.early_publish_ratio;
    s->rebuild_slack_ms = c.rebuild_slack_ms;
    s->policy_resync_ms = c.policy_resync_ms;
    s->exit_when_caught_up = c.exit_when_caught_up;
    s->no_ack = c.no_ack;
}

void pred_options_free(void)
{
    cfg_free(&spec);
}
