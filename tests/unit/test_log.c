/* test_log.c — JSON-lines logging: fields, escaping, UTF-8 repair,
 * truncation, threshold and rate limiting. Every line is parsed back with
 * jansson, which rejects invalid JSON and invalid UTF-8. */
#include "test.h"
#include "log.h"
#include "common.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TS_2024_05_01_NOON 1714564800123ull

/* Formats one line and parses it; the caller json_decref()s the result. */
static json_t *format_parse(size_t cap, const char *msg, const log_field *f, size_t n, size_t *len)
{
    static char line[LOG_LINE_MAX + 64];
    size_t l = log_format(line, cap, TS_2024_05_01_NOON, LOG_INFO, "test", msg, f, n);
    if (len)
        *len = l;
    if (l == 0 || l > cap || line[l - 1] != '\n')
        return NULL;
    for (size_t i = 0; i + 1 < l; i++)
        if (line[i] == '\n')
            return NULL; /* exactly one line */
    json_error_t err;
    json_t *j = json_loadb(line, l - 1, JSON_ALLOW_NUL, &err);
    if (!j)
        fprintf(stderr, "    bad JSON (%s): %.*s\n", err.text, (int)l, line);
    return j;
}

static const char *jstr(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

TEST(log_format_writes_fixed_and_typed_fields)
{
    const log_field f[] = {
        LF_STR("addr", "0.0.0.0:8080"), LF_INT("workers", -4), LF_UINT("big", INT64_MAX),
        LF_DBL("ratio", 0.1),           LF_BOOL("tls", true), LF_BOOL("h2", false),
        LF_STR("none", NULL),
    };
    json_t *j = format_parse(LOG_LINE_MAX, "listening", f, LO_ARRAY_SIZE(f), NULL);
    REQUIRE(j);
    CHECK_STR(jstr(j, "ts"), "2024-05-01T12:00:00.123Z");
    CHECK_STR(jstr(j, "level"), "info");
    CHECK_STR(jstr(j, "component"), "test");
    CHECK_STR(jstr(j, "msg"), "listening");
    CHECK_STR(jstr(j, "addr"), "0.0.0.0:8080");
    CHECK_INT(json_integer_value(json_object_get(j, "workers")), -4);
    CHECK(json_is_real(json_object_get(j, "ratio")));
    CHECK(json_real_value(json_object_get(j, "ratio")) == 0.1);
    CHECK(json_is_true(json_object_get(j, "tls")));
    CHECK(json_is_false(json_object_get(j, "h2")));
    CHECK(json_is_null(json_object_get(j, "none")));
    CHECK(json_object_get(j, "truncated") == NULL);
    json_decref(j);
}

TEST(log_format_writes_exact_text)
{
    char line[512];
    const log_field f[] = { LF_UINT("big", UINT64_MAX), LF_DBL("x", 0.1), LF_DBL("y", 1e300),
                            LF_INT("min", INT64_MIN), LF_INT("neg", -42), LF_INT("zero", 0),
                            LF_UINT("u0", 0) };
    size_t n = log_format(line, sizeof line, TS_2024_05_01_NOON, LOG_WARN, "c", "m", f, 7);
    REQUIRE(n > 0);
    line[n] = '\0';
    CHECK_STR(line, "{\"ts\":\"2024-05-01T12:00:00.123Z\",\"level\":\"warn\",\"component\":\"c\","
                    "\"msg\":\"m\",\"big\":18446744073709551615,\"x\":0.1,\"y\":1e+300,"
                    "\"min\":-9223372036854775808,\"neg\":-42,\"zero\":0,\"u0\":0}\n");
    /* the cached date follows the clock across seconds and days */
    n = log_format(line, sizeof line, 1714607999007ull, LOG_INFO, "c", "m", NULL, 0);
    line[n] = '\0';
    CHECK(strstr(line, "\"ts\":\"2024-05-01T23:59:59.007Z\"") != NULL);
    n = log_format(line, sizeof line, 1714608000000ull, LOG_INFO, "c", "m", NULL, 0);
    line[n] = '\0';
    CHECK(strstr(line, "\"ts\":\"2024-05-02T00:00:00.000Z\"") != NULL);
}

TEST(log_format_writes_nan_and_inf_as_null)
{
    const log_field f[] = { LF_DBL("nan", NAN), LF_DBL("inf", INFINITY), LF_DBL("ninf", -INFINITY) };
    json_t *j = format_parse(LOG_LINE_MAX, "m", f, 3, NULL);
    REQUIRE(j);
    CHECK(json_is_null(json_object_get(j, "nan")));
    CHECK(json_is_null(json_object_get(j, "inf")));
    CHECK(json_is_null(json_object_get(j, "ninf")));
    json_decref(j);
}

TEST(log_format_escapes_quotes_backslashes_and_control_chars)
{
    char raw[40];
    size_t k = 0;
    raw[k++] = '"';
    raw[k++] = '\\';
    for (int c = 1; c < 0x20; c++)
        raw[k++] = (char)c;
    raw[k++] = 0x7f;
    raw[k] = '\0';
    const log_field f[] = { LF_STR("s", raw), LF_STR("k\"ey\n", "v") };
    json_t *j = format_parse(LOG_LINE_MAX, "a \"quoted\"\tmsg", f, 2, NULL);
    REQUIRE(j);
    CHECK_STR(jstr(j, "s"), raw);
    CHECK_STR(jstr(j, "k\"ey\n"), "v");
    CHECK_STR(jstr(j, "msg"), "a \"quoted\"\tmsg");
    json_decref(j);
}

TEST(log_format_keeps_nul_bytes_of_strn)
{
    const log_field f[] = { LF_STRN("b", "a\0b", 3) };
    json_t *j = format_parse(LOG_LINE_MAX, "m", f, 1, NULL);
    REQUIRE(j);
    json_t *v = json_object_get(j, "b");
    REQUIRE(json_is_string(v));
    CHECK_INT(json_string_length(v), 3);
    CHECK(memcmp(json_string_value(v), "a\0b", 3) == 0);
    json_decref(j);
}

TEST(log_format_replaces_invalid_utf8)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        { "plain", "plain" },
        { "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
        { "a\xff" "b", "a\xef\xbf\xbd" "b" },
        { "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },                 /* overlong '/' */
        { "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* surrogate */
        { "\xe2\x82", "\xef\xbf\xbd\xef\xbf\xbd" },                 /* cut short */
        { "\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* > U+10FFFF */
        { "\x80x", "\xef\xbf\xbdx" },                               /* lone continuation */
    };
    for (size_t i = 0; i < LO_ARRAY_SIZE(cases); i++) {
        const log_field f[] = { LF_STR("s", cases[i].in) };
        json_t *j = format_parse(LOG_LINE_MAX, cases[i].in, f, 1, NULL);
        REQUIRE(j);
        CHECK_STR(jstr(j, "s"), cases[i].want);
        CHECK_STR(jstr(j, "msg"), cases[i].want);
        json_decref(j);
    }
}

TEST(log_format_prefixes_reserved_keys)
{
    const log_field f[] = { LF_STR("msg", "x"), LF_INT("ts", 1), LF_STR("level", "y"),
                            LF_STR("component", "z") };
    json_t *j = format_parse(LOG_LINE_MAX, "real", f, 4, NULL);
    REQUIRE(j);
    CHECK_STR(jstr(j, "msg"), "real");
    CHECK_STR(jstr(j, "_msg"), "x");
    CHECK_INT(json_integer_value(json_object_get(j, "_ts")), 1);
    CHECK_STR(jstr(j, "_level"), "y");
    CHECK_STR(jstr(j, "_component"), "z");
    CHECK_STR(jstr(j, "level"), "info");
    json_decref(j);
}

TEST(log_format_cuts_a_long_string_and_marks_truncation)
{
    size_t big = 3 * LOG_LINE_MAX;
    char *s = xmalloc(big + 1);
    for (size_t i = 0; i < big; i++)
        s[i] = (char)('a' + i % 26);
    s[big] = '\0';
    const log_field f[] = { LF_INT("before", 7), LF_STR("body", s), LF_INT("after", 8) };
    size_t len = 0;
    json_t *j = format_parse(LOG_LINE_MAX, "m", f, 3, &len);
    REQUIRE(j);
    CHECK(len <= LOG_LINE_MAX);
    CHECK(len > LOG_LINE_MAX - 64); /* cut, not dropped */
    CHECK(json_is_true(json_object_get(j, "truncated")));
    CHECK_INT(json_integer_value(json_object_get(j, "before")), 7);
    CHECK(json_object_get(j, "after") == NULL);
    const char *body = jstr(j, "body");
    REQUIRE(body);
    CHECK(strlen(body) > 1000);
    CHECK(strncmp(body, s, strlen(body)) == 0);
    json_decref(j);
    free(s);
}

TEST(log_format_cuts_multibyte_text_at_a_character_boundary)
{
    /* 3-byte characters and escapes: whatever the cap, the cut never splits
     * one (jansson would reject a broken sequence). */
    char s[3000];
    size_t k = 0;
    while (k + 4 < sizeof s) {
        memcpy(s + k, "\xe2\x82\xac\n", 4);
        k += 4;
    }
    s[k] = '\0';
    for (size_t cap = LOG_FORMAT_MIN_CAP; cap < 700; cap++) {
        const log_field f[] = { LF_STR("s", s) };
        size_t len = 0;
        json_t *j = format_parse(cap, s, f, 1, &len);
        REQUIRE(j);
        CHECK(len <= cap);
        CHECK(json_is_true(json_object_get(j, "truncated")));
        json_decref(j);
    }
}

TEST(log_format_drops_whole_fields_that_do_not_fit)
{
    log_field f[2000];
    for (size_t i = 0; i < LO_ARRAY_SIZE(f); i++)
        f[i] = LF_INT("counter_value", (int64_t)i * 1000003);
    size_t len = 0;
    json_t *j = format_parse(LOG_LINE_MAX, "m", f, LO_ARRAY_SIZE(f), &len);
    REQUIRE(j);
    CHECK(len <= LOG_LINE_MAX);
    CHECK(json_is_true(json_object_get(j, "truncated")));
    json_decref(j);
}

TEST(log_format_always_emits_valid_json_for_random_input)
{
    char s[600], key[12];
    for (int round = 0; round < 3000; round++) {
        size_t n = (size_t)lo_rand_below(sizeof s);
        for (size_t i = 0; i < n; i++)
            s[i] = (char)lo_rand_below(256);
        for (size_t i = 0; i + 1 < sizeof key; i++)
            key[i] = (char)(1 + lo_rand_below(255));
        key[sizeof key - 1] = '\0';
        const log_field f[] = { LF_STRN("a", s, n), LF_STRN(key, s, n / 2), LF_DBL("d", n * 0.3) };
        size_t cap = LOG_FORMAT_MIN_CAP + (size_t)lo_rand_below(1200);
        size_t len = 0;
        json_t *j = format_parse(cap, "random", f, 3, &len);
        REQUIRE(j);
        CHECK(len <= cap);
        json_decref(j);
    }
}

TEST(log_format_refuses_a_too_small_buffer)
{
    char line[LOG_FORMAT_MIN_CAP];
    CHECK_INT(log_format(line, LOG_FORMAT_MIN_CAP - 1, 0, LOG_INFO, "c", "m", NULL, 0), 0);
    CHECK(log_format(line, LOG_FORMAT_MIN_CAP, 0, LOG_INFO, "c", "m", NULL, 0) > 0);
}

TEST(log_level_parse_accepts_names_in_any_case)
{
    log_level l = LOG_ERROR;
    CHECK_INT(log_level_parse("debug", &l), 0);
    CHECK_INT(l, LOG_DEBUG);
    CHECK_INT(log_level_parse("INFO", &l), 0);
    CHECK_INT(l, LOG_INFO);
    CHECK_INT(log_level_parse("Warning", &l), 0);
    CHECK_INT(l, LOG_WARN);
    CHECK_INT(log_level_parse("error", &l), 0);
    CHECK_INT(l, LOG_ERROR);
    CHECK_INT(log_level_parse("verbose", &l), -EINVAL);
    CHECK_INT(log_level_parse("", &l), -EINVAL);
    CHECK_INT(log_level_parse(NULL, &l), -EINVAL);
    CHECK_STR(log_level_name(LOG_WARN), "warn");
}

/* ---- threshold and rate limiting, through a capturing sink ---- */

struct capture {
    int lines;
    char last[LOG_LINE_MAX + 1];
};

static void capture_sink(const char *line, size_t len, void *arg)
{
    struct capture *c = arg;
    c->lines++;
    memcpy(c->last, line, len);
    c->last[len] = '\0';
}

static int side_effects;
static int bump(void) { return ++side_effects; }

TEST(log_threshold_filters_without_evaluating_fields)
{
    struct capture c = { 0 };
    log_level saved = log_get_level();
    log_set_sink(capture_sink, &c);
    log_set_level(LOG_WARN);
    side_effects = 0;
    log_debug("t", "hidden", LF_INT("n", bump()));
    log_info("t", "hidden", LF_INT("n", bump()));
    CHECK_INT(c.lines, 0);
    CHECK_INT(side_effects, 0);
    errno = EAGAIN;
    log_warn("t", "shown", LF_INT("n", bump()));
    CHECK_INT(errno, EAGAIN); /* logging keeps errno */
    log_error("t", "no fields");
    CHECK_INT(c.lines, 2);
    CHECK_INT(side_effects, 1);
    CHECK(strstr(c.last, "\"level\":\"error\"") != NULL);
    CHECK(strstr(c.last, "\"msg\":\"no fields\"}\n") != NULL);
    log_set_level(saved);
    log_set_sink(NULL, NULL);
}

TEST(log_err_field_names_the_errno)
{
    struct capture c = { 0 };
    log_set_sink(capture_sink, &c);
    log_error("t", "failed", LF_ERR(-ECONNREFUSED));
    log_set_sink(NULL, NULL);
    CHECK_INT(c.lines, 1);
    CHECK(strstr(c.last, "\"error\":\"Connection refused\"") != NULL);
    CHECK_STR(log_strerror(-9999), "unknown error");
}

static void log_limited_line(void) { log_warn_limited("t", "flood", LF_INT("x", 1)); }

TEST(log_limited_lets_a_burst_through_then_counts_suppressed)
{
    struct capture c = { 0 };
    log_set_sink(capture_sink, &c);
    for (int i = 0; i < LOG_LIMIT_BURST + 15; i++)
        log_limited_line();
    CHECK_INT(c.lines, LOG_LIMIT_BURST);
    CHECK(strstr(c.last, "suppressed") == NULL);

    /* A full window drops lines; the first line of the next window (moved
     * into the past on an explicit state) reports how many. */
    log_limit lim = { .window_start_ms = lo_mono_ms(), .in_window = LOG_LIMIT_BURST };
    log_write_limited(&lim, LOG_WARN, "t", "x", NULL, 0);
    log_write_limited(&lim, LOG_WARN, "t", "x", NULL, 0);
    CHECK_INT(c.lines, LOG_LIMIT_BURST);
    CHECK_INT(lim.suppressed, 2);
    lim.window_start_ms -= LOG_LIMIT_WINDOW_MS;
    log_write_limited(&lim, LOG_WARN, "t", "x", NULL, 0);
    CHECK_INT(c.lines, LOG_LIMIT_BURST + 1);
    CHECK(strstr(c.last, "\"suppressed\":2}") != NULL);
    CHECK_INT(lim.suppressed, 0);
    log_set_sink(NULL, NULL);
}
