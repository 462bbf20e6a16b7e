/*
 * ingest_load.c — load generator for the ingest benchmark: signed webhook
 * events over N keep-alive connections against liftoff-ingest, then prints
 * accepted events/s and latency percentiles, and one JSON line.
 *
 *   ingest_load HOST PORT SECRET CONNS SECONDS [ID_PREFIX [PATH]]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "test_ingest_loadgen.h"

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: %s HOST PORT SECRET CONNS SECONDS [ID_PREFIX [PATH]]\n", argv[0]);
        return 2;
    }
    lg_opts o = lg_webhook_opts(argv[1], atoi(argv[2]), argv[3], atoi(argv[4]),
                                argc > 6 ? argv[6] : "bench");
    o.duration_ms = (uint64_t)(atof(argv[5]) * 1000);
    if (argc > 7)
        o.path = argv[7];
    lg_stats st;
    int rc = lg_run(&o, &st);
    if (rc < 0) {
        fprintf(stderr, "ingest_load: %s\n", strerror(-rc));
        lg_stats_free(&st);
        return 1;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                   (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    double secs = (double)st.elapsed_us / 1e6;
    double rate = secs > 0 ? (double)st.status_202 / secs : 0;
    uint64_t p50 = lg_percentile_us(&st, 0.50), p99 = lg_percentile_us(&st, 0.99),
             p999 = lg_percentile_us(&st, 0.999);
    printf("requests sent     %" PRIu64 "\n", st.sent);
    printf("answered 202      %" PRIu64 "\n", st.status_202);
    printf("answered 200      %" PRIu64 " (duplicates)\n", st.status_200);
    printf("answered 503      %" PRIu64 "\n", st.status_503);
    printf("answered 4xx      %" PRIu64 "\n", st.status_4xx);
    printf("other / conn errs %" PRIu64 " / %" PRIu64 "\n", st.status_other, st.conn_errors);
    printf("elapsed           %.2f s over %d connections\n", secs, o.conns);
    printf("accepted events/s %.0f\n", rate);
    printf("latency p50 %.3f ms  p99 %.3f ms  p99.9 %.3f ms\n", (double)p50 / 1000,
           (double)p99 / 1000, (double)p999 / 1000);
    printf("generator CPU     %.2f s (%.1f us per request)\n", cpu_s,
           st.sent ? cpu_s * 1e6 / (double)st.sent : 0);
    printf("{\"bench\":\"ingest\",\"connections\":%d,\"seconds\":%.2f,\"accepted\":%" PRIu64
           ",\"duplicates\":%" PRIu64 ",\"unavailable\":%" PRIu64 ",\"errors\":%" PRIu64
           ",\"events_per_s\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f"
           ",\"generator_cpu_us_per_event\":%.1f}\n",
           o.conns, secs, st.status_202, st.status_200, st.status_503,
           st.status_4xx + st.status_other + st.conn_errors, rate, (double)p50 / 1000,
           (double)p99 / 1000, (double)p999 / 1000, st.sent ? cpu_s * 1e6 / (double)st.sent : 0);
    lg_stats_free(&st);
    return 0;
}
