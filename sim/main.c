/* main.c — liftoff-sim: compares scaling strategies on a launch trace, or
 * generates synthetic traces. Only wiring: the logic lives in the other
 * files of sim/ and in the forecasting core of lib/. */
#include "common.h"
#include "gen.h"
#include "plot.h"
#include "policy_yaml.h"
#include "report.h"
#include "run.h"
#include "strategy.h"
#include "trace.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
        "usage: liftoff-sim --trace FILE.csv [--pod-startup SECONDS] [--pod-capacity RPS]\n"
        "                   [--policy FILE.yaml] [--json] [--plot FILE.svg]\n"
        "                   [--series FILE.csv] [--dump FILE.csv]\n"
        "       liftoff-sim --generate KIND [--seed N] > trace.csv\n"
        "       liftoff-sim --list-kinds\n"
        "\n"
        "Simulates a Deployment second by second under each strategy (liftoff, hpa,\n"
        "hpa-demand, linear, reactive-1.2x, oracle) and reports requests over\n"
        "capacity, replica-seconds, the ratio to the oracle, the first overrun and\n"
        "the mean lead of scale-ups. --series writes every strategy's ready and\n"
        "asked replicas per second as CSV, --dump liftoff's forecast and decision\n"
        "per second. Defaults: --pod-startup 60, --pod-capacity 200\n"
        "(a policy's podCapacityRps, when set, is what liftoff believes), the\n"
        "embedded policy defaults, --seed 1.\n");
}

static int parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || errno || s[0] == '-' || v < lo || v > hi)
        return -EINVAL;
    *out = (uint32_t)v;
    return 0;
}

static int generate(const char *kind, uint64_t seed)
{
    sim_trace tr;
    if (sim_gen(kind, seed, &tr)) {
        fprintf(stderr, "liftoff-sim: unknown kind '%s' (see --list-kinds)\n", kind);
        return 2;
    }
    char *c1 = xasprintf("liftoff-sim --generate %s --seed %" PRIu64, kind, seed);
    const char *comments[] = { c1, sim_gen_describe(kind), NULL };
    int rc = sim_trace_write(stdout, &tr, comments);
    free(c1);
    sim_trace_free(&tr);
    return rc || fflush(stdout) ? 1 : 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "trace", required_argument, NULL, 't' },
        { "pod-startup", required_argument, NULL, 's' },
        { "pod-capacity", required_argument, NULL, 'c' },
        { "policy", required_argument, NULL, 'p' },
        { "json", no_argument, NULL, 'j' },
        { "plot", required_argument, NULL, 'o' },
        { "generate", required_argument, NULL, 'g' },
        { "seed", required_argument, NULL, 'S' },
        { "list-kinds", no_argument, NULL, 'l' },
        { "dump", required_argument, NULL, 'd' },
        { "series", required_argument, NULL, 'e' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *trace_path = NULL, *policy_path = NULL, *plot_path = NULL, *kind = NULL;
    const char *dump_path = NULL, *series_path = NULL;
    uint32_t startup = 60, capacity = 200;
    uint64_t seed = 1;
    bool json = false;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 't': trace_path = optarg; break;
        case 'p': policy_path = optarg; break;
        case 'o': plot_path = optarg; break;
        case 'g': kind = optarg; break;
        case 'd': dump_path = optarg; break;
        case 'e': series_path = optarg; break;
        case 'j': json = true; break;
        case 's':
            if (parse_u32(optarg, 0, 3600, &startup)) {
                fprintf(stderr, "liftoff-sim: --pod-startup wants 0..3600 seconds\n");
                return 2;
            }
            break;
        case 'c':
            if (parse_u32(optarg, 1, 10000000, &capacity)) {
                fprintf(stderr, "liftoff-sim: --pod-capacity wants 1..10000000 rps\n");
                return 2;
            }
            break;
        case 'S': {
            char *end;
            errno = 0;
            seed = strtoull(optarg, &end, 10);
            if (!*optarg || *end || errno || optarg[0] == '-') {
                fprintf(stderr, "liftoff-sim: --seed wants a non-negative integer\n");
                return 2;
            }
            break;
        }
        case 'l':
            for (const char *const *k = sim_gen_kinds(); *k; k++)
                printf("%-14s %s\n", *k, sim_gen_describe(*k));
            return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "liftoff-sim: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (kind)
        return generate(kind, seed);
    if (!trace_path) {
        usage(stderr);
        return 2;
    }

    sim_config cfg;
    sim_config_default(&cfg);
    cfg.pod_startup_s = startup;
    cfg.pod_capacity = capacity;
    cfg.policy.pod_capacity_rps = capacity;
    if (policy_path) {
        char err[256];
        if (sim_policy_load(policy_path, &cfg.policy, err, sizeof err)) {
            fprintf(stderr, "liftoff-sim: %s: %s\n", policy_path, err);
            return 2;
        }
    }
    sim_trace tr;
    sim_trace_error terr;
    int rc = sim_trace_load(trace_path, &tr, &terr);
    if (rc) {
        if (terr.line)
            fprintf(stderr, "liftoff-sim: %s:%u:%u: %s\n", trace_path, terr.line, terr.column,
                    terr.msg);
        else
            fprintf(stderr, "liftoff-sim: %s: %s\n", trace_path, terr.msg);
        return 2;
    }
    if (dump_path && !(cfg.liftoff_dump = fopen(dump_path, "w"))) {
        fprintf(stderr, "liftoff-sim: %s: %s\n", dump_path, strerror(errno));
        sim_trace_free(&tr);
        return 2;
    }
    sim_run run;
    rc = sim_run_all(&cfg, &tr, &run);
    bool dump_failed = cfg.liftoff_dump && fclose(cfg.liftoff_dump) != 0;
    if (rc) {
        fprintf(stderr, "liftoff-sim: invalid configuration\n");
        sim_trace_free(&tr);
        return 2;
    }
    if (dump_failed)
        fprintf(stderr, "liftoff-sim: %s: cannot write\n", dump_path);
    sim_report_info info = { trace_path, policy_path, &cfg };
    rc = json ? sim_report_json(stdout, &info, &run) : sim_report_text(stdout, &info, &run);
    int status = rc || dump_failed ? 1 : 0;
    if (plot_path) {
        FILE *f = fopen(plot_path, "w");
        if (!f || sim_plot_svg(f, trace_path, &cfg, &tr, &run) || fclose(f)) {
            fprintf(stderr, "liftoff-sim: %s: cannot write the plot\n", plot_path);
            status = 1;
        }
    }
    if (series_path) {
        FILE *f = fopen(series_path, "w");
        if (!f || sim_report_series(f, &tr, &run) || fclose(f)) {
            fprintf(stderr, "liftoff-sim: %s: cannot write the series\n", series_path);
            status = 1;
        }
    }
    sim_run_free(&run);
    sim_trace_free(&tr);
    return status;
}
