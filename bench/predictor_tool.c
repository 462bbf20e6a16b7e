/*
 * predictor_tool.c — helpers of the predictor benchmark (bench/predictor.sh),
 * on hiredis' blocking API:
 *
 *   predictor_tool fill PORT STREAM N END_MS
 *       appends N engagement events as liftoff-ingest stores them (fields id,
 *       type, ts, source, data) with explicit ids spread over a launch-shaped
 *       curve (a base rate and a wave ~25x higher) ending at END_MS, pipelined
 *   predictor_tool xrange PORT STREAM
 *       reads the whole stream with XRANGE COUNT 1000 as one client: the raw
 *       rate Redis hands entries to a client
 *   predictor_tool naive PORT STREAM N MAX_SECONDS WINDOW_S
 *       the naive predictor on the first N entries (or what MAX_SECONDS
 *       allow): per event ZADD to a sorted-set window, ZREMRANGEBYSCORE the
 *       expired part, ZRANGE it back and sum the weights
 *   predictor_tool live PORT STREAM SECONDS PEAK_RATE
 *       appends events live (XADD *, as ingest does: a pipelined burst every
 *       5 ms) along a launch wave peaking at PEAK_RATE events/s
 *   predictor_tool watch PORT SECONDS
 *       subscribes to liftoff:forecast and prints, for every message that
 *       carries a new last_id, the delay from that entry's XADD (its stream
 *       id) to the message's arrival: p50 p99 max (ms) and the count
 *   predictor_tool run CMD [ARG...]
 *       runs a command and prints "elapsed_ms maxrss_kib status cpu_seconds"
 *
 * Each prints one line of space-separated numbers for the script.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#define PIPE_CHUNK 10000      /* commands in flight while filling */
#define READ_COUNT 1000       /* XRANGE COUNT */
#define CURVE_SECONDS 1200    /* span of the simulated launch */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static redisContext *connect_port(int port)
{
    redisContext *c = redisConnect("127.0.0.1", port);
    if (!c || c->err) {
        fprintf(stderr, "predictor_tool: cannot connect to redis on %d\n", port);
        exit(1);
    }
    return c;
}

static void drain(redisContext *c, long n)
{
    for (long i = 0; i < n; i++) {
        redisReply *r = NULL;
        if (redisGetReply(c, (void **)&r) != REDIS_OK) {
            fprintf(stderr, "predictor_tool: %s\n", c->errstr);
            exit(1);
        }
        if (r->type == REDIS_REPLY_ERROR) {
            fprintf(stderr, "predictor_tool: %s\n", r->str);
            exit(1);
        }
        freeReplyObject(r);
    }
}

/* The launch curve: relative rate of second s of CURVE_SECONDS. */
static double curve(int s)
{
    double x = (s - 0.6 * CURVE_SECONDS) / (0.12 * CURVE_SECONDS);
    return 1.0 + 25.0 * exp(-x * x);
}

static int fill(int port, const char *stream, long n, long long end_ms)
{
    static const char *const types[] = { "upvote", "upvote", "upvote", "upvote", "upvote",
                                         "upvote", "comment", "comment", "maker_comment", "hover" };
    redisContext *c = connect_port(port);
    double total = 0;
    for (int s = 0; s < CURVE_SECONDS; s++)
        total += curve(s);
    long long start_ms = end_ms - (long long)CURVE_SECONDS * 1000;
    long written = 0, inflight = 0;
    unsigned rnd = 12345;
    double carry = 0;
    for (int s = 0; s < CURVE_SECONDS && written < n; s++) {
        double want = (double)n * curve(s) / total + carry;
        long k = (long)want;
        carry = want - (double)k;
        if (s == CURVE_SECONDS - 1)
            k = n - written;
        for (long i = 0; i < k && written < n; i++) {
            long long ms = start_ms + (long long)s * 1000 + (long long)(i * 1000 / k);
            rnd = rnd * 1103515245u + 12345u;
            unsigned r = rnd >> 8;
            long long ts = ms - (r % 10 == 0 ? (long long)(r % 2000) : 0);
            redisAppendCommand(c,
                               "XADD %s %lld-%ld id ph-%ld type %s ts %lld source webhook "
                               "data {\"post\":\"p-%u\",\"user\":\"u-%u\"}",
                               stream, ms, i, written, types[r % 10], ts, r % 1000, r % 100000);
            written++;
            if (++inflight == PIPE_CHUNK) {
                drain(c, inflight);
                inflight = 0;
            }
        }
    }
    drain(c, inflight);
    printf("%ld %lld %lld\n", written, start_ms, end_ms);
    redisFree(c);
    return 0;
}

static int xrange(int port, const char *stream)
{
    redisContext *c = connect_port(port);
    char start[64] = "-";
    long total = 0;
    double t0 = now_s();
    for (;;) {
        redisReply *r = redisCommand(c, "XRANGE %s %s + COUNT %d", stream, start, READ_COUNT);
        if (!r || r->type != REDIS_REPLY_ARRAY) {
            fprintf(stderr, "predictor_tool: XRANGE failed\n");
            return 1;
        }
        size_t n = r->elements;
        total += (long)n;
        if (n)
            snprintf(start, sizeof start, "(%s", r->element[n - 1]->element[0]->str);
        freeReplyObject(r);
        if (n < READ_COUNT)
            break;
    }
    double dt = now_s() - t0;
    printf("%ld %.3f %.0f\n", total, dt, (double)total / dt);
    redisFree(c);
    return 0;
}

static double weight(const char *type)
{
    if (strcmp(type, "upvote") == 0)
        return 1.2;
    if (strcmp(type, "maker_comment") == 0)
        return 1.5;
    return 1.0;
}

static int naive(int port, const char *stream, long n, double max_s, int window_s)
{
    redisContext *c = connect_port(port);
    char key[256];
    snprintf(key, sizeof key, "%s:naive-window", stream);
    freeReplyObject(redisCommand(c, "DEL %s", key));
    redisReply *ev = redisCommand(c, "XRANGE %s - + COUNT %ld", stream, n);
    if (!ev || ev->type != REDIS_REPLY_ARRAY) {
        fprintf(stderr, "predictor_tool: XRANGE failed\n");
        return 1;
    }
    long done = 0;
    double eps = 0, t0 = now_s();
    for (size_t i = 0; i < ev->elements; i++) {
        const redisReply *e = ev->element[i], *f = e->element[1];
        const char *type = "", *ts = "0";
        for (size_t k = 0; k + 1 < f->elements; k += 2) {
            if (strcmp(f->element[k]->str, "type") == 0)
                type = f->element[k + 1]->str;
            else if (strcmp(f->element[k]->str, "ts") == 0)
                ts = f->element[k + 1]->str;
        }
        long long t = atoll(ts);
        freeReplyObject(redisCommand(c, "ZADD %s %lld %s:%s", key, t, type, e->element[0]->str));
        freeReplyObject(redisCommand(c, "ZREMRANGEBYSCORE %s -inf %lld", key,
                                     t - (long long)window_s * 1000));
        redisReply *w = redisCommand(c, "ZRANGE %s 0 -1", key);
        double sum = 0;
        for (size_t k = 0; w && k < w->elements; k++) {
            char *colon = strchr(w->element[k]->str, ':');
            if (colon)
                *colon = '\0';
            sum += weight(w->element[k]->str);
        }
        eps = sum / window_s;
        if (w)
            freeReplyObject(w);
        done++;
        if ((done & 255) == 0 && now_s() - t0 > max_s)
            break;
    }
    double dt = now_s() - t0;
    printf("%ld %.3f %.0f %.3f\n", done, dt, (double)done / dt, eps);
    freeReplyObject(redisCommand(c, "DEL %s", key));
    freeReplyObject(ev);
    redisFree(c);
    return 0;
}

static long long wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int live(int port, const char *stream, double seconds, double peak)
{
    static const char *const types[] = { "upvote", "upvote", "upvote", "comment", "maker_comment" };
    redisContext *c = connect_port(port);
    double t0 = now_s(), owed = 0;
    long n = 0;
    unsigned rnd = 777;
    for (;;) {
        double t = now_s() - t0;
        if (t >= seconds)
            break;
        double x = (t - 0.6 * seconds) / (0.2 * seconds);
        double rate = peak * (0.04 + 0.96 * exp(-x * x));
        owed += rate * 0.005;
        long k = (long)owed;
        owed -= (double)k;
        long long ms = wall_ms();
        for (long i = 0; i < k; i++) {
            rnd = rnd * 1103515245u + 12345u;
            redisAppendCommand(c, "XADD %s * id lv-%ld type %s ts %lld source webhook data {}",
                               stream, n++, types[(rnd >> 8) % 5], ms);
        }
        drain(c, k);
        struct timespec ts = { 0, 5000000 };
        nanosleep(&ts, NULL);
    }
    printf("%ld %.3f\n", n, now_s() - t0);
    redisFree(c);
    return 0;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

static int watch(int port, double seconds)
{
    redisContext *c = connect_port(port);
    struct timeval tv = { 5, 0 }; /* the predictor publishes every second */
    redisSetTimeout(c, tv);
    freeReplyObject(redisCommand(c, "SUBSCRIBE liftoff:forecast"));
    size_t cap = 1 << 20, n = 0;
    long long *lag = malloc(cap * sizeof *lag);
    char last[64] = "";
    double t0 = now_s();
    while (now_s() - t0 < seconds && n < cap) {
        redisReply *r = NULL;
        if (redisGetReply(c, (void **)&r) != REDIS_OK || !r)
            break;
        long long arrived = wall_ms();
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 && r->element[2]->str) {
            const char *id = strstr(r->element[2]->str, "\"last_id\":\"");
            if (id) {
                id += 11;
                const char *end = strchr(id, '"');
                if (end && (size_t)(end - id) < sizeof last &&
                    strncmp(id, last, (size_t)(end - id)) != 0) {
                    snprintf(last, sizeof last, "%.*s", (int)(end - id), id);
                    long long ms = atoll(last);
                    if (ms > 0)
                        lag[n++] = arrived - ms;
                }
            }
        }
        freeReplyObject(r);
    }
    qsort(lag, n, sizeof *lag, cmp_ll);
    if (n)
        printf("%lld %lld %lld %zu\n", lag[n / 2], lag[(n * 99) / 100], lag[n - 1], n);
    else
        printf("0 0 0 0\n");
    free(lag);
    redisFree(c);
    return 0;
}

static int run(char **argv)
{
    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        execvp(argv[0], argv);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) != pid)
        return 1;
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    printf("%.0f %ld %d %.3f\n", (now_s() - t0) * 1000, ru.ru_maxrss,
           WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), cpu);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 6 && strcmp(argv[1], "fill") == 0)
        return fill(atoi(argv[2]), argv[3], atol(argv[4]), atoll(argv[5]));
    if (argc >= 4 && strcmp(argv[1], "xrange") == 0)
        return xrange(atoi(argv[2]), argv[3]);
    if (argc >= 7 && strcmp(argv[1], "naive") == 0)
        return naive(atoi(argv[2]), argv[3], atol(argv[4]), atof(argv[5]), atoi(argv[6]));
    if (argc >= 6 && strcmp(argv[1], "live") == 0)
        return live(atoi(argv[2]), argv[3], atof(argv[4]), atof(argv[5]));
    if (argc >= 4 && strcmp(argv[1], "watch") == 0)
        return watch(atoi(argv[2]), atof(argv[3]));
    if (argc >= 3 && strcmp(argv[1], "run") == 0)
        return run(argv + 2);
    fprintf(stderr, "usage: predictor_tool fill PORT STREAM N END_MS | xrange PORT STREAM |\n"
                    "       naive PORT STREAM N MAX_SECONDS WINDOW_S |\n"
                    "       live PORT STREAM SECONDS PEAK_RATE | watch PORT SECONDS |\n"
                    "       run CMD [ARG...]\n");
    return 2;
}
