/* options.c — the option table of liftoff-controller (see options.h). */
#include "options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "workqueue.h"

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
    int concurrent;
    char *log_level;
    char *leader_elect;
    char *lease_name, *lease_ns, *identity;
    uint64_t lease_ms, renew_ms, retry_ms;
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
                 "fallback (the reactive floor from the sidecars' observed rate, at least "
                 "minReplicas; without a fresh observed rate the current replicas)"),
    CFG_INT("concurrent-reconciles", &c.concurrent, "16", 1, CTL_WQ_RUNNING_MAX,
            "reconciles running at once (each may hold an API request); the others wait in "
            "a queue, forecasts before resyncs"),
    CFG_STRING("log-level", &c.log_level, "info", "debug, info, warn or error"),
    CFG_STRING("leader-elect", &c.leader_elect, "auto",
               "elect one leader on a Lease, so several replicas run safely (only the leader "
               "writes): true, false, or auto = true when running in a cluster (service "
               "account), false with a kubeconfig"),
    CFG_STRING("leader-elect-lease-name", &c.lease_name, "liftoff-controller",
               "name of the coordination.k8s.io/v1 Lease"),
    CFG_STRING("leader-elect-lease-namespace", &c.lease_ns, "",
               "namespace of the Lease (empty: the service account's, or the kubeconfig "
               "context's, else default)"),
    CFG_STRING("leader-elect-identity", &c.identity, "",
               "this candidate's holderIdentity (empty: $POD_NAME, else hostname_pid)"),
    CFG_DURATION("leader-elect-lease-duration", &c.lease_ms, "15s", 2000, 3600000,
                 "followers take over a Lease not renewed for this long (whole seconds)"),
    CFG_DURATION("leader-elect-renew-deadline", &c.renew_ms, "10s", 1000, 3600000,
                 "the leader stops writing when it could not renew for this long (below the "
                 "lease duration)"),
    CFG_DURATION("leader-elect-retry-period", &c.retry_ms, "2s", 100, 3600000,
                 "candidates try to take the Lease, and the leader renews it, this often"),
    CFG_END,
};

static const cfg_spec spec = {
    "liftoff-controller", LIFTOFF_VERSION,
    "scales the Deployments of LaunchPolicies to the predictor's forecast and pre-warms "
    "their sidecars' caches (POST spec.prewarm.paths to /warm on each ready pod's admin port "
    "at launchAt - prewarmBefore or when the factor crosses spec.prewarm.thresholdFactor)",
    options,
};

/* CTL_LEADER_ELECT_* for the option's text, or -1. */
static int leader_elect_mode(const char *v)
{
    if (strcasecmp(v, "auto") == 0)
        return CTL_LEADER_ELECT_AUTO;
    if (!strcasecmp(v, "true") || !strcasecmp(v, "on") || !strcasecmp(v, "yes") || !strcmp(v, "1"))
        return CTL_LEADER_ELECT_ON;
    if (!strcasecmp(v, "false") || !strcasecmp(v, "off") || !strcasecmp(v, "no") || !strcmp(v, "0"))
        return CTL_LEADER_ELECT_OFF;
    return -1;
}

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
    const char *le = c.leader_elect;
    int mode = leader_elect_mode(le);
    if (mode < 0) {
        fprintf(stderr, "liftoff-controller: --leader-elect: \"%s\" is not true, false or auto\n",
                le);
        cfg_free(&spec);
        exit(CFG_EXIT_USAGE);
    }
    ctl_settings_defaults(s);
    s->leader_elect = mode;
    s->lease_name = c.lease_name;
    s->lease_ns = c.lease_ns;
    s->identity = c.identity;
    s->lease_ms = c.lease_ms;
    s->renew_ms = c.renew_ms;
    s->retry_ms = c.retry_ms;
    s->kubeconfig = c.kubeconfig;
    s->context = c.context;
    s->ns = c.ns;
    s->redis_url = c.redis;
    s->listen_host = c.listen.host;
    s->listen_port = c.listen.port;
    s->resync_ms = c.resync_ms;
    s->stale_ms = c.stale_ms;
    s->hold_ms = c.hold_ms;
    s->concurrent_reconciles = (size_t)c.concurrent;
}

void ctl_options_free(void)
{
    cfg_free(&spec);
}
