/* options.c — the option table of liftoff-controller (see options.h). */
#include "options.h"

#include <stdio.h>
#include <stdlib.h>

#include "config.h"

#ifndef LIFTOFF_VERSION
#define LIFTOFF_VERSION "0.1.0"
#endif

static struct {
    char *kubeconfig;
    char *context;
    char *ns;
    char *redis;
    cfg_hostport listen;
    uint64_t resync_ms;
    uint64_t stale_ms;
    uint64_t hold_ms;
    char *log_level;
} c;

static const cfg_option options[] = {
    CFG_STRING("kubeconfig", &c.kubeconfig, "",
               "kubeconfig file (empty: $KUBECONFIG, in-cluster, then ~/.kube/config)"),
    CFG_STRING("context", &c.context, "", "kubeconfig context (empty: the current one)"),
    CFG_STRING("namespace", &c.ns, "", "watch LaunchPolicies in this namespace only (empty: all)"),
    CFG_STRING("redis", &c.redis, "redis://127.0.0.1:6379",
               "Redis URL (redis:// or rediss://)", .flags = CFG_SECRET),
    CFG_HOSTPORT("listen", &c.listen, "0.0.0.0:9103",
                 "admin address: /healthz, /readyz, /metrics"),
    CFG_DURATION("resync", &c.resync_ms, "10s", 100, 3600000,
                 "every policy's forecast is re-read and reconciled this often"),
    CFG_DURATION("stale-after", &c.stale_ms, "10s", 100, 3600000,
                 "a forecast older than this counts as lost (SignalLost)"),
    CFG_DURATION("hold", &c.hold_ms, "60s", 0, 86400000,
                 "after the signal is lost, keep the current replicas this long before the "
                 "fallback (the current replicas, at least minReplicas)"),
    CFG_STRING("log-level", &c.log_level, "info", "debug, info, warn or error"),
    CFG_END,
};

static const cfg_spec spec = {
    "liftoff-controller", LIFTOFF_VERSION,
    "scales the Deployments of LaunchPolicies to the predictor's forecast",
    options,
};

void ctl_options_load(int argc, char **argv, ctl_settings *s, log_level *level)
{
    cfg_parse_or_exit(&spec, argc, argv);
    if (log_level_parse(c.log_level, level) < 0) {
        fprintf(stderr,
                "liftoff-controller: --log-level: \"%s\" is not debug, info, warn or error\n",
                c.log_level);
        cfg_free(&spec);
        exit(CFG_EXIT_USAGE);
    }
    ctl_settings_defaults(s);
    s->kubeconfig = c.kubeconfig;
    s->context = c.context;
    s->ns = c.ns;
    s->redis_url = c.redis;
    s->listen_host = c.listen.host;
    s->listen_port = c.listen.port;
    s->resync_ms = c.resync_ms;
    s->stale_ms = c.stale_ms;
    s->hold_ms = c.hold_ms;
}

void ctl_options_free(void)
{
    cfg_free(&spec);
}
