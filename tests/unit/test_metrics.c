/* test_metrics.c — the Prometheus registry: every exposition is parsed back
 * by a strict reader of the 0.0.4 text format and the values checked. */
#include "test.h"
#include "metrics.h"
#include "common.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- a strict reader of the text format ---- */

#define MAX_SAMPLES 4096

typedef struct sample {
    char name[128];
    char labels[512];  /* unescaped, "k=v,k=v" in the written order */
    double value;
} sample;

typedef struct expo {
    sample s[MAX_SAMPLES];
    size_t n;
    char help[32][256];  /* "name text" of each # HELP line (unescaped) */
    char type[32][160];  /* "name type" of each # TYPE line */
    size_t nhelp, ntype;
} expo;

static bool name_char(char c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           (!first && c >= '0' && c <= '9');
}

/* Parses one sample line; false on any deviation from the format. */
static bool parse_sample(const char *line, sample *out)
{
    const char *p = line;
    size_t k = 0;
    if (!name_char(*p, true))
        return false;
    while (name_char(*p, k == 0) && k + 1 < sizeof out->name)
        out->name[k++] = *p++;
    out->name[k] = '\0';
    size_t l = 0;
    out->labels[0] = '\0';
    if (*p == '{') {
        p++;
        while (*p != '}') {
            if (l && l + 1 < sizeof out->labels)
                out->labels[l++] = ',';
            if (!name_char(*p, true))
                return false;
            while (name_char(*p, false) && l + 1 < sizeof out->labels)
                out->labels[l++] = *p++;
            if (p[0] != '=' || p[1] != '"')
                return false;
            out->labels[l++] = '=';
            p += 2;
            while (*p != '"') {
                char c = *p++;
                if (c == '\0' || c == '\n')
                    return false;
                if (c == '\\') {
                    c = *p++;
                    if (c == 'n')
                        c = '\n';
                    else if (c != '\\' && c != '"')
                        return false;
                }
                if (l + 1 < sizeof out->labels)
                    out->labels[l++] = c;
            }
            p++;
            if (*p == ',')
                p++;
            else if (*p != '}')
                return false;
        }
        p++;
        out->labels[l] = '\0';
    }
    if (*p++ != ' ')
        return false;
    char *end;
    out->value = strtod(p, &end);
    return end != p && *end == '\0';
}

static void unescape_help(const char *in, char *out, size_t len)
{
    size_t o = 0;
    for (const char *p = in; *p && o + 1 < len; p++) {
        if (*p == '\\' && p[1] == 'n') {
            out[o++] = '\n';
            p++;
        } else if (*p == '\\' && p[1] == '\\') {
            out[o++] = '\\';
            p++;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}

/* Parses the whole text; false (with the bad line printed) on any error. */
static bool parse_expo(const char *text, size_t len, expo *e)
{
    memset(e, 0, sizeof *e);
    if (len == 0 || text[len - 1] != '\n')
        return len == 0;
    char *copy = xstrndup(text, len);
    bool ok = true;
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line && ok; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "# HELP ", 7) == 0) {
            if (e->nhelp < 32)
                unescape_help(line + 7, e->help[e->nhelp++], sizeof e->help[0]);
        } else if (strncmp(line, "# TYPE ", 7) == 0) {
            const char *t = strrchr(line, ' ') + 1;
            ok = strcmp(t, "counter") == 0 || strcmp(t, "gauge") == 0 ||
                 strcmp(t, "histogram") == 0;
            if (e->ntype < 32)
                snprintf(e->type[e->ntype++], sizeof e->type[0], "%s", line + 7);
        } else if (e->n < MAX_SAMPLES) {
            ok = parse_sample(line, &e->s[e->n++]);
        }
        if (!ok)
            fprintf(stderr, "    bad exposition line: %s\n", line);
    }
    free(copy);
    return ok;
}

/* The value of name{labels}; NAN when absent (or present twice). */
static double val(const expo *e, const char *name, const char *labels)
{
    double v = NAN;
    int found = 0;
    for (size_t i = 0; i < e->n; i++) {
        if (strcmp(e->s[i].name, name) == 0 && strcmp(e->s[i].labels, labels) == 0) {
            v = e->s[i].value;
            found++;
        }
    }
    return found == 1 ? v : NAN;
}

static bool has_type(const expo *e, const char *name_type)
{
    for (size_t i = 0; i < e->ntype; i++)
        if (strcmp(e->type[i], name_type) == 0)
            return true;
    return false;
}

static expo E;
static buf_t out;

/* Writes r and parses the text into E. */
static bool scrape(metrics_registry *r)
{
    if (out.max == 0)
        buf_init(&out, 1 << 22);
    buf_reset(&out);
    if (metrics_write(r, &out) != 0)
        return false;
    return parse_expo(buf_data(&out), buf_len(&out), &E);
}

static char *text(void)
{
    buf_append(&out, "", 1);
    return buf_data(&out);
}

/* ---- tests ---- */

TEST(metrics_counter_and_gauge_are_exposed)
{
    metrics_registry *r = metrics_registry_new();
    metrics_counter *c = metrics_counter_new(r, "jobs_total", "Jobs done.");
    metrics_gauge *g = metrics_gauge_new(r, "queue_depth", "Items waiting.");
    metrics_counter_inc(c);
    metrics_counter_add(c, 41);
    metrics_gauge_set(g, 7);
    metrics_gauge_dec(g);
    metrics_gauge_add(g, 0.5);
    REQUIRE(scrape(r));
    CHECK_STR(text(), "# HELP jobs_total Jobs done.\n# TYPE jobs_total counter\njobs_total 42\n"
                      "# HELP queue_depth Items waiting.\n# TYPE queue_depth gauge\n"
                      "queue_depth 6.5\n");
    CHECK(metrics_counter_value(c) == 42);
    buf_free(&out);
    metrics_registry_free(r);
}

TEST(metrics_counter_accepts_fractions_and_mirrored_totals)
{
    metrics_registry *r = metrics_registry_new();
    metrics_counter *c = metrics_counter_new(r, "busy_seconds_total", "Busy time.");
    metrics_counter_inc(c);
    metrics_counter_add_float(c, 0.25);
    metrics_counter_add_float(c, -5); /* ignored: counters only go up */
    REQUIRE(scrape(r));
    CHECK(val(&E, "busy_seconds_total", "") == 1.25);
    metrics_counter_set(c, 10.5);
    REQUIRE(scrape(r));
    CHECK(val(&E, "busy_seconds_total", "") == 10.5);
    buf_free(&out);
    metrics_registry_free(r);
}

TEST(metrics_labelled_series_are_created_on_first_use)
{
    metrics_registry *r = metrics_registry_new();
    metrics_family *f = metrics_counter_family(r, "http_requests_total", "Requests.",
                                               metrics_labels("code", "method"));
    metrics_counter *ok = metrics_counter_at(f, metrics_labels("200", "GET"));
    metrics_counter *nf = metrics_counter_at(f, metrics_labels("404", "GET"));
    CHECK(metrics_counter_at(f, metrics_labels("200", "GET")) == ok); /* same pointer */
    CHECK(ok != nf);
    for (int i = 0; i < 1000; i++)
        metrics_counter_inc(ok);
    metrics_counter_add(nf, 3);
    metrics_counter_at(f, metrics_labels("500", "POST"));
    CHECK_INT(metrics_family_size(f), 3);
    REQUIRE(scrape(r));
    CHECK(has_type(&E, "http_requests_total counter"));
    CHECK(val(&E, "http_requests_total", "code=200,method=GET") == 1000);
    CHECK(val(&E, "http_requests_total", "code=404,method=GET") == 3);
    CHECK(val(&E, "http_requests_total", "code=500,method=POST") == 0);
    CHECK_INT(E.n, 3);
    buf_free(&out);
    metrics_registry_free(r);
}

TEST(metrics_escapes_label_values_and_help)
{
    metrics_registry *r = metrics_registry_new();
    metrics_family *f = metrics_gauge_family(r, "odd", "Help with \\ and\nnewline \"quotes\".",
                                             metrics_labels("v"));
    const char *nasty = "a\"b\\c\nd}e,f=g";
    metrics_gauge_set(metrics_gauge_at(f, metrics_labels(nasty)), 1);
    metrics_gauge_set(metrics_gauge_at(f, metrics_labels("")), 2);
    REQUIRE(scrape(r));
    CHECK(strstr(text(), "odd{v=\"a\\\"b\\\\c\\nd}e,f=g\"} 1\n") != NULL);
    CHECK(strstr(text(), "# HELP odd Help with \\\\ and\\nnewline \"quotes\".\n") != NULL);
    char want[160];
    snprintf(want, sizeof want, "v=%s", nasty);
    CHECK(val(&E, "odd", want) == 1);
    CHECK(val(&E, "odd", "v=") == 2);
    CHECK_STR(E.help[0], "odd Help with \\ and\nnewline \"quotes\".");
    buf_free(&out);
    metrics_registry_free(r);
}

TEST(metrics_label_values_are_made_utf8_and_cut)
{
    metrics_registry *r = metrics_registry_new();
    metrics_family *f = metrics_counter_family(r, "c_total", "c", metrics_labels("v"));
    metrics_counter_inc(metrics_counter_at(f, metrics_labels("bad\xff")));
    metrics_counter_inc(metrics_counter_at(f, metrics_labels("bad\xfe"))); /* same after repair */
    char longv[400];
    memset(longv, 'x', sizeof longv - 1);
    longv[sizeof longv - 1] = '\0';
    metrics_counter_inc(metrics_counter_at(f, metrics_labels(longv)));
    REQUIRE(scrape(r));
    CHECK(val(&E, "c_total", "v=bad\xef\xbf\xbd") == 2);
    char cut[METRICS_LABEL_VALUE_MAX + 8];
    snprintf(cut, sizeof cut, "v=%.*s", METRICS_LABEL_VALUE_MAX, longv);
    CHECK(val(&E, "c_total", cut) == 1);
    buf_free(&out);
    metrics_registry_free(r);
}

TEST(metrics_histogram_buckets_are_cumulative)
{
    metrics_registry *r = metrics_registry_new();
    const double bounds[] = { 0.005, 0.1, 1, 2.5 };
    metrics_family *f = metrics_histogram_family(r, "latency_seconds", "Latency.",
                                                 metrics_labels("route"), bounds, 4);
    metrics_histogram *h = metrics_histogram_at(f, metrics_labels("/v1/events"));
    const double obs[] = { 0.001, 0.005, 0.05, 0.1, 0.7, 3, 100, NAN };
    for (size_t i = 0; i < 7; i++)
        metrics_histogram_observe(h, obs[i]);
    REQUIRE(scrape(r));
    CHECK(has_type(&E, "latency_seconds histogram"));
    CHECK(val(&E, "latency_seconds_bucket", "route=/v1/events,le=0.005") == 2); /* le is <= */
    CHECK(val(&E, "latency_seconds_bucket", "route=/v1/events,le=0.1") == 4);
    CHECK(val(&E, "latency_seconds_bucket", "route=/v1/events,le=1") == 5);
    CHECK(val(&E, "latency_seconds_bucket", "route=/v1/events,le=2.5") == 5);
    CHECK(val(&E, "latency_seconds_bucket", "route=/v1/events,le=+Inf") == 7);
    CHECK(val(&E, "latency_seconds_count", "route=/v1/events") == 7);
    CHECK(fabs(val(&E, "latency_seconds_sum", "route=/v1/events") - 103.856) < 1e-9);
    CHECK(strstr(text(), "latency_seconds_bucket{route=\"/v1/events\",le=\"0.005\"} 2\n") != NULL);
    metrics_histogram_observe(h, obs[7]); /* NaN: +Inf bucket, sum NaN */
    REQUIRE(scrape(r));
    CHECK(val(&E, "latency_seconds_bucket", "route=/v1/events,le=2.5") == 5);
    CHECK(val(&E, "latency_seconds_bucket", "route=/v1/events,le=+Inf") == 8);
    CHECK(strstr(text(), "latency_seconds_sum{route=\"/v1/events\"} NaN\n") != NULL);
    buf_free(&out);
    metrics_registry_free(r);
}

TEST(metrics_unlabelled_histogram_with_default_buckets)
{
    metrics_registry *r = metrics_registry_new();
    metrics_histogram *h = metrics_histogram_new(r, "op_seconds", "Op time.", metrics_default_buckets,
                                                 metrics_default_buckets_len);
    metrics_histogram_observe(h, 0.3);
    REQUIRE(scrape(r));
    CHECK(val(&E, "op_seconds_bucket", "le=0.25") == 0);
    CHECK(val(&E, "op_seconds_bucket", "le=0.5") == 1);
    CHECK(val(&E, "op_seconds_bucket", "le=10") == 1);
    CHECK(val(&E, "op_seconds_bucket", "le=+Inf") == 1);
    CHECK(val(&E, "op_seconds_sum", "") == 0.3);
    CHECK_INT(E.n, metrics_default_buckets_len + 3);
    double exp[4];
    metrics_exponential_buckets(0.001, 10, 4, exp);
    CHECK(exp[0] == 0.001 && exp[3] == 0.001 * 10 * 10 * 10);
    buf_free(&out);
    metrics_registry_free(r);
}

static void quiet_sink(const char *line, size_t len, void *arg)
{
    int *n = arg;
    (*n)++;
    LO_UNUSED(line);
    LO_UNUSED(len);
}

TEST(metrics_family_overflows_into_one_series)
{
    int warnings = 0;
    log_set_sink(quiet_sink, &warnings);
    metrics_registry *r = metrics_registry_new();
    metrics_family *f = metrics_counter_family(r, "by_user_total", "Per user.",
                                               metrics_labels("user", "kind"));
    metrics_family_set_limit(f, 3);
    char name[16];
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof name, "u%d", i);
        metrics_counter_add(metrics_counter_at(f, metrics_labels(name, "k")), (uint64_t)i + 1);
    }
    /* an existing series still resolves to itself once full */
    metrics_counter_add(metrics_counter_at(f, metrics_labels("u1", "k")), 100);
    CHECK_INT(metrics_family_size(f), 4);
    CHECK_INT(warnings, 1);
    REQUIRE(scrape(r));
    CHECK(val(&E, "by_user_total", "user=u0,kind=k") == 1);
    CHECK(val(&E, "by_user_total", "user=u1,kind=k") == 102);
    CHECK(val(&E, "by_user_total", "user=u2,kind=k") == 3);
    CHECK(val(&E, "by_user_total", "user=overflow,kind=overflow") == 4 + 5 + 6 + 7 + 8 + 9 + 10);
    CHECK(isnan(val(&E, "by_user_total", "user=u3,kind=k")));
    log_set_sink(NULL, NULL);
    buf_free(&out);
    metrics_registry_free(r);
}

TEST(metrics_many_series_keep_their_identity)
{
    metrics_registry *r = metrics_registry_new();
    metrics_family *f = metrics_gauge_family(r, "g", "g", metrics_labels("a", "b"));
    char a[16], b[16];
    for (int i = 0; i < METRICS_SERIES_MAX; i++) {
        snprintf(a, sizeof a, "%d", i % 37);
        snprintf(b, sizeof b, "%d", i);
        metrics_gauge_set(metrics_gauge_at(f, metrics_labels(a, b)), i);
    }
    CHECK_INT(metrics_family_size(f), METRICS_SERIES_MAX);
    for (int i = 0; i < METRICS_SERIES_MAX; i += 7) {
        snprintf(a, sizeof a, "%d", i % 37);
        snprintf(b, sizeof b, "%d", i);
        CHECK(metrics_gauge_at(f, metrics_labels(a, b))->v == i);
    }
    REQUIRE(scrape(r));
    CHECK_INT(E.n, METRICS_SERIES_MAX);
    CHECK(val(&E, "g", "a=0,b=999") == 999); /* 999 = 27 * 37 */
    buf_free(&out);
    metrics_registry_free(r);
}

TEST(metrics_same_registration_returns_the_same_family)
{
    metrics_registry *r = metrics_registry_new();
    metrics_family *a = metrics_counter_family(r, "x_total", "x", metrics_labels("k"));
    metrics_family *b = metrics_counter_family(r, "x_total", "x again", metrics_labels("k"));
    CHECK(a == b);
    metrics_counter *c1 = metrics_counter_new(r, "y_total", "y");
    metrics_counter *c2 = metrics_counter_new(r, "y_total", "y");
    CHECK(c1 == c2);
    metrics_registry_free(r);
}

/* Runs fn in a child: true if it aborted. */
static bool aborts(void (*fn)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stderr))
            _exit(98);
        fn();
        _exit(0);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return false;
    return WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT;
}

/* The children keep their registry reachable, so that a leak checker
 * following the fork has nothing to report when they abort. */
static metrics_registry *child_reg;

static void reg_conflict(void)
{
    child_reg = metrics_registry_new();
    metrics_counter_family(child_reg, "x_total", "x", metrics_labels("k"));
    metrics_gauge_family(child_reg, "x_total", "x", metrics_labels("k"));
}
static void reg_bad_name(void)
{
    child_reg = metrics_registry_new();
    metrics_counter_new(child_reg, "1bad", "x");
}
static void reg_bad_label(void)
{
    child_reg = metrics_registry_new();
    metrics_counter_family(child_reg, "x", "x", metrics_labels("__reserved"));
}
static void reg_le_label(void)
{
    const double b[] = { 1 };
    child_reg = metrics_registry_new();
    metrics_histogram_family(child_reg, "h", "h", metrics_labels("le"), b, 1);
}
static void reg_unsorted_buckets(void)
{
    const double b[] = { 1, 0.5 };
    child_reg = metrics_registry_new();
    metrics_histogram_new(child_reg, "h", "h", b, 2);
}
static void lookup_wrong_arity(void)
{
    child_reg = metrics_registry_new();
    metrics_family *f = metrics_counter_family(child_reg, "x", "x", metrics_labels("a", "b"));
    metrics_counter_at(f, metrics_labels("only-one"));
}
static void lookup_wrong_type(void)
{
    child_reg = metrics_registry_new();
    metrics_family *f = metrics_counter_family(child_reg, "x", "x", metrics_labels("a"));
    metrics_gauge_at(f, metrics_labels("v"));
}
static void reg_fine(void)
{
    metrics_registry *r = metrics_registry_new();
    metrics_counter_family(r, "ok:name_total", "x", metrics_labels("a", "b_2"));
    metrics_registry_free(r);
}

TEST(metrics_programming_errors_abort)
{
    CHECK(aborts(reg_conflict));
    CHECK(aborts(reg_bad_name));
    CHECK(aborts(reg_bad_label));
    CHECK(aborts(reg_le_label));
    CHECK(aborts(reg_unsorted_buckets));
    CHECK(aborts(lookup_wrong_arity));
    CHECK(aborts(lookup_wrong_type));
    CHECK(!aborts(reg_fine));
}

TEST(metrics_write_reports_a_full_buffer)
{
    metrics_registry *r = metrics_registry_new();
    metrics_counter_new(r, "a_total", "a long enough help text");
    buf_t small;
    buf_init(&small, 16);
    CHECK_INT(metrics_write(r, &small), -ENOBUFS);
    buf_free(&small);
    metrics_registry_free(r);
}

static void collect_counter(metrics_registry *r, void *arg)
{
    LO_UNUSED(r);
    metrics_gauge_inc(arg);
}

TEST(metrics_collectors_run_before_each_write)
{
    metrics_registry *r = metrics_registry_new();
    metrics_gauge *g = metrics_gauge_new(r, "scrapes", "Scrapes so far.");
    metrics_on_collect(r, collect_counter, g);
    REQUIRE(scrape(r));
    REQUIRE(scrape(r));
    CHECK(val(&E, "scrapes", "") == 2);
    buf_free(&out);
    metrics_registry_free(r);
}

TEST(metrics_process_metrics_come_from_proc)
{
    metrics_registry *r = metrics_registry_new();
    metrics_process_register(r);
    metrics_process_register(r); /* idempotent */
    REQUIRE(scrape(r));
    double fds = val(&E, "process_open_fds", "");
    CHECK(fds >= 3);
    CHECK(val(&E, "process_resident_memory_bytes", "") > 0);
    CHECK(val(&E, "process_virtual_memory_bytes", "") >= val(&E, "process_resident_memory_bytes", ""));
    CHECK(val(&E, "process_cpu_seconds_total", "") >= 0);
    CHECK(val(&E, "process_max_fds", "") >= fds);
    double start = val(&E, "process_start_time_seconds", "");
    CHECK(start > 1.6e9); /* after 2020 */
    CHECK(start <= (double)lo_wall_ms() / 1000 + 1);
    CHECK(has_type(&E, "process_cpu_seconds_total counter"));

    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    REQUIRE(scrape(r));
    CHECK(val(&E, "process_open_fds", "") == fds + 1);
    close(fd);
    buf_free(&out);
    metrics_registry_free(r);
}
