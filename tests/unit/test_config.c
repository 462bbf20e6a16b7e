/* test_config.c — option tables: value parsers, precedence of defaults,
 * environment and flags, error messages, help, exit codes, secret files. */
#include "test.h"
#include "config.h"
#include "common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- durations ---- */

TEST(cfg_duration_parses_units_and_combinations)
{
    static const struct {
        const char *in;
        uint64_t ms;
    } ok[] = {
        { "0", 0 },          { "0s", 0 },          { "250ms", 250 },     { "5s", 5000 },
        { "2m", 120000 },    { "1h", 3600000 },    { "1m30s", 90000 },   { "1.5s", 1500 },
        { "0.25s", 250 },    { ".5s", 500 },       { "1.5m", 90000 },    { "1h2m3s4ms", 3723004 },
        { "0.001s", 1 },     { "1.000000000s", 1000 }, { "100ms100ms", 200 },
    };
    for (size_t i = 0; i < LO_ARRAY_SIZE(ok); i++) {
        uint64_t ms = 12345;
        int rc = cfg_parse_duration_ms(ok[i].in, &ms);
        if (rc != 0 || ms != ok[i].ms)
            fprintf(stderr, "    input \"%s\"\n", ok[i].in);
        CHECK_INT(rc, 0);
        CHECK_INT(ms, ok[i].ms);
    }
}

TEST(cfg_duration_rejects_malformed_input)
{
    static const char *const bad[] = {
        "", "5", "1.5", "5 s", " 5s", "5s ", "-5s", "+5s", "5sec", "5min", "5S", "5us", "5ns",
        "s", ".s", "1.s", "1..5s", "1.5ms", "0.0001s", "1.0000000001s", "5s3", "1d", "5m-",
    };
    for (size_t i = 0; i < LO_ARRAY_SIZE(bad); i++) {
        uint64_t ms = 777;
        int rc = cfg_parse_duration_ms(bad[i], &ms);
        if (rc != -EINVAL)
            fprintf(stderr, "    input \"%s\"\n", bad[i]);
        CHECK_INT(rc, -EINVAL);
        CHECK_INT(ms, 777);
    }
    uint64_t ms;
    CHECK_INT(cfg_parse_duration_ms(NULL, &ms), -EINVAL);
}

TEST(cfg_duration_reports_overflow)
{
    uint64_t ms = 0;
    CHECK_INT(cfg_parse_duration_ms("99999999999999999999ms", &ms), -ERANGE);
    CHECK_INT(cfg_parse_duration_ms("5124096h", &ms), -ERANGE); /* > 2^64 ns */
    CHECK_INT(cfg_parse_duration_ms("5124095h", &ms), 0);
    CHECK_INT(ms, 5124095ull * 3600000ull);
}

/* ---- sizes ---- */

TEST(cfg_size_parses_binary_and_si_units)
{
    static const struct {
        const char *in;
        uint64_t bytes;
    } ok[] = {
        { "0", 0 },           { "512", 512 },         { "1B", 1 },
        { "16k", 16384 },     { "16K", 16384 },       { "16Ki", 16384 },  { "64KiB", 65536 },
        { "1m", 1 << 20 },    { "1M", 1 << 20 },      { "1MiB", 1 << 20 }, { "2Gi", 2ull << 30 },
        { "2GiB", 2ull << 30 }, { "1g", 1ull << 30 }, { "3TiB", 3ull << 40 },
        { "10KB", 10000 },    { "5MB", 5000000 },     { "1GB", 1000000000 },
    };
    for (size_t i = 0; i < LO_ARRAY_SIZE(ok); i++) {
        uint64_t b = 12345;
        int rc = cfg_parse_size(ok[i].in, &b);
        if (rc != 0 || b != ok[i].bytes)
            fprintf(stderr, "    input \"%s\"\n", ok[i].in);
        CHECK_INT(rc, 0);
        CHECK_INT(b, ok[i].bytes);
    }
}

TEST(cfg_size_rejects_malformed_input_and_overflow)
{
    static const char *const bad[] = { "", "k", "KiB", "1.5M", "-1", "+1", "16 k", " 16k",
                                       "16kb", "16kib", "16EiB", "16KiBs", "0x10", "1e3" };
    for (size_t i = 0; i < LO_ARRAY_SIZE(bad); i++) {
        uint64_t b = 9;
        int rc = cfg_parse_size(bad[i], &b);
        if (rc != -EINVAL)
            fprintf(stderr, "    input \"%s\"\n", bad[i]);
        CHECK_INT(rc, -EINVAL);
        CHECK_INT(b, 9);
    }
    uint64_t b;
    CHECK_INT(cfg_parse_size("18446744073709551615", &b), 0);
    CHECK(b == UINT64_MAX);
    CHECK_INT(cfg_parse_size("18446744073709551616", &b), -ERANGE);
    CHECK_INT(cfg_parse_size("17179869184G", &b), -ERANGE);
    CHECK_INT(cfg_parse_size("17179869183G", &b), 0);
}

/* ---- host:port, bool, int ---- */

TEST(cfg_hostport_parses_names_v4_v6_and_any)
{
    static const struct {
        const char *in, *host;
        int port;
    } ok[] = {
        { "localhost:6379", "localhost", 6379 },
        { "127.0.0.1:80", "127.0.0.1", 80 },
        { "redis-0.redis.svc.cluster.local:6379", "redis-0.redis.svc.cluster.local", 6379 },
        { "[::1]:8080", "::1", 8080 },
        { "[fe80::1:2]:1", "fe80::1:2", 1 },
        { ":8080", "", 8080 },
        { "0.0.0.0:0", "0.0.0.0", 0 },
        { "h:65535", "h", 65535 },
        { "h:00080", "h", 80 },
    };
    for (size_t i = 0; i < LO_ARRAY_SIZE(ok); i++) {
        cfg_hostport hp = { 0 };
        REQUIRE(cfg_parse_hostport(ok[i].in, &hp) == 0);
        CHECK_STR(hp.host, ok[i].host);
        CHECK_INT(hp.port, ok[i].port);
        cfg_hostport_free(&hp);
        CHECK(hp.host == NULL);
    }
}

TEST(cfg_hostport_rejects_malformed_input)
{
    static const char *const bad[] = {
        "host", "host:", "host:port", "host:-1", "host:+1", "host:123456", "::1:80", "[::1]8080",
        "[::1]", "[]:1", "[zz]:1", "[127.0.0.1]:1", "ho st:1", "host:1 ", "h/x:1", "",
    };
    for (size_t i = 0; i < LO_ARRAY_SIZE(bad); i++) {
        cfg_hostport hp = { 0 };
        int rc = cfg_parse_hostport(bad[i], &hp);
        if (rc >= 0)
            fprintf(stderr, "    input \"%s\"\n", bad[i]);
        CHECK(rc < 0);
        CHECK(hp.host == NULL);
    }
    cfg_hostport hp = { 0 };
    CHECK_INT(cfg_parse_hostport("h:65536", &hp), -ERANGE);
}

TEST(cfg_bool_and_int_parsers)
{
    bool b = false;
    CHECK_INT(cfg_parse_bool("TRUE", &b), 0);
    CHECK(b);
    CHECK_INT(cfg_parse_bool("off", &b), 0);
    CHECK(!b);
    CHECK_INT(cfg_parse_bool("Yes", &b), 0);
    CHECK(b);
    CHECK_INT(cfg_parse_bool("0", &b), 0);
    CHECK(!b);
    CHECK_INT(cfg_parse_bool("maybe", &b), -EINVAL);
    CHECK_INT(cfg_parse_bool("", &b), -EINVAL);
    long long n = 0;
    CHECK_INT(cfg_parse_int("-42", &n), 0);
    CHECK_INT(n, -42);
    CHECK_INT(cfg_parse_int("+7", &n), 0);
    CHECK_INT(n, 7);
    CHECK_INT(cfg_parse_int(" 4", &n), -EINVAL);
    CHECK_INT(cfg_parse_int("4x", &n), -EINVAL);
    CHECK_INT(cfg_parse_int("", &n), -EINVAL);
    CHECK_INT(cfg_parse_int("99999999999999999999", &n), -ERANGE);
}

TEST(cfg_env_name_is_prefixed_upper_snake)
{
    char env[64];
    CHECK_INT(cfg_env_name("max-body", env, sizeof env), 0);
    CHECK_STR(env, "LIFTOFF_MAX_BODY");
    CHECK_INT(cfg_env_name("redis", env, sizeof env), 0);
    CHECK_STR(env, "LIFTOFF_REDIS");
    CHECK_INT(cfg_env_name("a-very-long-name", env, 12), -ENAMETOOLONG);
}

/* ---- the loader ---- */

static struct {
    char *redis;
    char *token;
    int workers;
    double ratio;
    bool tls;
    uint64_t drain_ms;
    size_t max_body;
    cfg_hostport listen;
    cfg_list peers;
} c;

static const cfg_option opts[] = {
    CFG_HOSTPORT("listen", &c.listen, "0.0.0.0:8080", "address to listen on"),
    CFG_STRING("redis", &c.redis, "redis://127.0.0.1:6379", "Redis URL"),
    CFG_STRING("token", &c.token, NULL, "API token", .flags = CFG_SECRET),
    CFG_INT("workers", &c.workers, "4", 1, 64, "worker count"),
    CFG_DOUBLE("ratio", &c.ratio, "0.5", 0, 1, "a fraction"),
    CFG_BOOL("tls", &c.tls, "false", "use TLS"),
    CFG_DURATION("drain", &c.drain_ms, "5s", 0, 600000, "drain deadline"),
    CFG_SIZE("max-body", &c.max_body, "64KiB", 1, 16 << 20, "largest body"),
    CFG_LIST("peer", &c.peers, "a, b", "peer names"),
    CFG_END,
};
static const cfg_spec spec = { "liftoff-test", "1.2.3", "a test program", opts };

static char err[CFG_ERR_MAX];

static int load(char *const *argv, char *const *envp)
{
    int argc = 0;
    while (argv && argv[argc])
        argc++;
    cfg_free(&spec);
    return cfg_load(&spec, argc, argv, envp, err, sizeof err);
}

#define ARGV(...) ((char *const[]){ "prog", __VA_ARGS__, NULL })
#define ENVP(...) ((char *const[]){ __VA_ARGS__, NULL })

TEST(cfg_load_applies_defaults)
{
    CHECK_INT(load(ARGV(NULL), NULL), 0);
    CHECK_STR(c.listen.host, "0.0.0.0");
    CHECK_INT(c.listen.port, 8080);
    CHECK_STR(c.redis, "redis://127.0.0.1:6379");
    CHECK(c.token == NULL);
    CHECK_INT(c.workers, 4);
    CHECK(c.ratio == 0.5);
    CHECK(!c.tls);
    CHECK_INT(c.drain_ms, 5000);
    CHECK_INT(c.max_body, 65536);
    REQUIRE(c.peers.n == 2);
    CHECK_STR(c.peers.items[0], "a");
    CHECK_STR(c.peers.items[1], "b");
    cfg_free(&spec);
    CHECK(c.redis == NULL && c.listen.host == NULL && c.peers.n == 0 && c.workers == 0);
}

TEST(cfg_load_env_overrides_defaults_and_flags_override_env)
{
    char *const *envp = ENVP("PATH=/bin", "LIFTOFF_WORKERS=8", "LIFTOFF_REDIS=redis://env:1",
                             "LIFTOFF_MAX_BODY=1MiB", "LIFTOFF_PEER=c", "LIFTOFF_TLS=yes",
                             "LIFTOFF_DRAIN=", "LIFTOFF_LISTEN=[::1]:9000");
    CHECK_INT(load(ARGV(NULL), envp), 0);
    CHECK_INT(c.workers, 8);
    CHECK_STR(c.redis, "redis://env:1");
    CHECK_INT(c.max_body, 1 << 20);
    CHECK(c.tls);
    CHECK_INT(c.drain_ms, 5000); /* empty variable: unset */
    CHECK_STR(c.listen.host, "::1");
    REQUIRE(c.peers.n == 1);
    CHECK_STR(c.peers.items[0], "c");

    CHECK_INT(load(ARGV("--workers=16", "--redis", "redis://flag:2", "--no-tls", "--drain=250ms",
                        "--peer", "x", "--peer=y,z", "--listen", ":7000"),
                   envp),
              0);
    CHECK_INT(c.workers, 16);
    CHECK_STR(c.redis, "redis://flag:2");
    CHECK(!c.tls);
    CHECK_INT(c.drain_ms, 250);
    CHECK_INT(c.max_body, 1 << 20); /* from env still */
    CHECK_STR(c.listen.host, "");
    CHECK_INT(c.listen.port, 7000);
    REQUIRE(c.peers.n == 3);
    CHECK_STR(c.peers.items[0], "x");
    CHECK_STR(c.peers.items[1], "y");
    CHECK_STR(c.peers.items[2], "z");
    cfg_free(&spec);
}

TEST(cfg_load_last_flag_wins_and_bool_forms)
{
    CHECK_INT(load(ARGV("--workers=2", "--workers", "3", "--tls"), NULL), 0);
    CHECK_INT(c.workers, 3);
    CHECK(c.tls);
    CHECK_INT(load(ARGV("--tls=false"), NULL), 0);
    CHECK(!c.tls);
    CHECK_INT(load(ARGV("--tls=on", "--ratio", "0.25", "--redis="), NULL), 0);
    CHECK(c.tls);
    CHECK(c.ratio == 0.25);
    CHECK_STR(c.redis, "");
    /* a bool never takes the next argument */
    CHECK_INT(load(ARGV("--tls", "false"), NULL), -EINVAL);
    CHECK(strstr(err, "unexpected argument \"false\"") != NULL);
    cfg_free(&spec);
}

TEST(cfg_load_names_the_option_and_form_on_errors)
{
    CHECK_INT(load(ARGV("--bogus=1"), NULL), -EINVAL);
    CHECK_STR(err, "unknown option --bogus (see --help)");

    CHECK_INT(load(ARGV("--workers"), NULL), -EINVAL);
    CHECK_STR(err, "--workers needs a value: --workers=N (an integer from 1 to 64)");

    CHECK_INT(load(ARGV("--redis", "--workers=2"), NULL), -EINVAL);
    CHECK(strstr(err, "--redis needs a value") == err);

    CHECK_INT(load(ARGV("--workers=abc"), NULL), -EINVAL);
    CHECK_STR(err, "--workers: invalid value \"abc\": want an integer from 1 to 64");

    CHECK_INT(load(ARGV("--workers=65"), NULL), -EINVAL);
    CHECK_STR(err, "--workers: invalid value \"65\" (out of range): want an integer from 1 to 64");

    CHECK_INT(load(ARGV("--drain=5"), NULL), -EINVAL);
    CHECK_STR(err, "--drain: invalid value \"5\": want a duration like 250ms, 5s, 2m, 1h or "
                   "1m30s, from 0ms to 10m");

    CHECK_INT(load(ARGV("--max-body=32MiB"), NULL), -EINVAL);
    CHECK_STR(err, "--max-body: invalid value \"32MiB\" (out of range): want a size like 4096, "
                   "16k, 64KiB or 1MiB, from 1 to 16MiB");

    CHECK_INT(load(ARGV("--listen=localhost"), NULL), -EINVAL);
    CHECK(strstr(err, "--listen: invalid value \"localhost\": want HOST:PORT") == err);

    CHECK_INT(load(ARGV("--ratio=NaN"), NULL), -EINVAL);
    CHECK(strstr(err, "--ratio: invalid value") == err);
    CHECK_INT(load(ARGV("--ratio=1.5"), NULL), -EINVAL);

    CHECK_INT(load(ARGV("--tls=maybe"), NULL), -EINVAL);
    CHECK(strstr(err, "want true or false") != NULL);

    CHECK_INT(load(ARGV("-w", "3"), NULL), -EINVAL);
    CHECK(strstr(err, "unexpected argument \"-w\"") == err);
    CHECK_INT(load(ARGV("--"), NULL), -EINVAL);
    CHECK_INT(load(ARGV("--no-workers"), NULL), -EINVAL);
    CHECK_STR(err, "unknown option --no-workers (see --help)");
    cfg_free(&spec);
}

TEST(cfg_load_names_the_env_variable_on_errors)
{
    CHECK_INT(load(ARGV(NULL), ENVP("LIFTOFF_WORKERS=many")), -EINVAL);
    CHECK_STR(err, "LIFTOFF_WORKERS (for --workers): invalid value \"many\": want an integer from "
                   "1 to 64");
    /* a good flag does not excuse a bad variable */
    CHECK_INT(load(ARGV("--workers=3"), ENVP("LIFTOFF_WORKERS=many")), -EINVAL);
    cfg_free(&spec);
}

TEST(cfg_load_never_echoes_a_secret)
{
    char *const *envp = ENVP("LIFTOFF_TOKEN=hunter2");
    CHECK_INT(load(ARGV(NULL), envp), 0);
    CHECK_STR(c.token, "hunter2");
    static const cfg_option bad_secret[] = {
        CFG_INT("pin", &c.workers, NULL, 0, 9999, "a PIN", .flags = CFG_SECRET),
        CFG_END,
    };
    const cfg_spec s2 = { "p", "1", NULL, bad_secret };
    CHECK_INT(cfg_load(&s2, 2, ARGV("--pin=hunter2"), NULL, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "hunter2") == NULL);
    CHECK(strstr(err, "--pin: invalid value") == err);
    cfg_free(&spec);
}

TEST(cfg_load_reports_help_and_version)
{
    CHECK_INT(load(ARGV("--workers=2", "--help"), NULL), CFG_HELP);
    CHECK_INT(load(ARGV("-h"), NULL), CFG_HELP);
    CHECK_INT(load(ARGV("--version"), NULL), CFG_VERSION);
    cfg_free(&spec);
}

TEST(cfg_load_enforces_required_options)
{
    static char *must;
    static const cfg_option req[] = {
        CFG_STRING("api-server", &must, NULL, "API server URL", .flags = CFG_REQUIRED),
        CFG_END,
    };
    const cfg_spec s2 = { "p", "1", NULL, req };
    CHECK_INT(cfg_load(&s2, 1, ARGV(NULL), NULL, err, sizeof err), -EINVAL);
    CHECK_STR(err, "--api-server is required (or set LIFTOFF_API_SERVER)");
    CHECK_INT(cfg_load(&s2, 1, ARGV(NULL), ENVP("LIFTOFF_API_SERVER=https://k"), err, sizeof err), 0);
    CHECK_STR(must, "https://k");
    cfg_free(&s2);
    CHECK(must == NULL);
}

TEST(cfg_load_rejects_a_broken_table)
{
    static int x;
    static const cfg_option dup[] = {
        CFG_INT("x", &x, "1", 0, 0, "x"),
        CFG_INT("x", &x, "1", 0, 0, "x again"),
        CFG_END,
    };
    static const cfg_option badname[] = { CFG_INT("Bad_Name", &x, NULL, 0, 0, "x"), CFG_END };
    static const cfg_option baddef[] = { CFG_INT("n", &x, "ten", 0, 0, "x"), CFG_END };
    const cfg_spec s1 = { "p", "1", NULL, dup }, s2 = { "p", "1", NULL, badname },
                   s3 = { "p", "1", NULL, baddef };
    CHECK_INT(cfg_load(&s1, 1, ARGV(NULL), NULL, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "declared twice") != NULL);
    CHECK_INT(cfg_load(&s2, 1, ARGV(NULL), NULL, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "invalid option name") != NULL);
    CHECK_INT(cfg_load(&s3, 1, ARGV(NULL), NULL, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "the default of --n: invalid value \"ten\"") == err);
}

/* cfg_usage()'s text for sp (the caller frees it), or NULL. */
static char *usage_text(const cfg_spec *sp)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    cfg_usage(sp, f);
    fclose(f);
    return text;
}

TEST(cfg_usage_lists_forms_defaults_and_env_names)
{
    char *text = usage_text(&spec);
    REQUIRE(text);
    CHECK(strstr(text, "Usage: liftoff-test [OPTIONS]\na test program\n") == text);
    CHECK(strstr(text, "  --workers=N\n      worker count\n      an integer from 1 to 64; "
                       "default 4; env LIFTOFF_WORKERS\n") != NULL);
    CHECK(strstr(text, "  --tls, --no-tls\n      use TLS\n") != NULL);
    CHECK(strstr(text, "  --peer=ITEM[,ITEM...] (repeatable)\n") != NULL);
    CHECK(strstr(text, "default 64KiB; env LIFTOFF_MAX_BODY") != NULL);
    CHECK(strstr(text, "no default; env LIFTOFF_TOKEN") != NULL);
    CHECK(strstr(text, "  --help\n") != NULL);
    CHECK(strstr(text, "  --version\n") != NULL);
    free(text);
}

TEST(cfg_usage_hides_a_secret_default_only_when_there_is_one)
{
    static char *a, *b;
    static const cfg_option o[] = {
        CFG_STRING("set-secret", &a, "redis://:pw@host", "a secret with a default",
                   .flags = CFG_SECRET),
        CFG_STRING("empty-secret", &b, "", "a secret without one", .flags = CFG_SECRET),
        CFG_END,
    };
    const cfg_spec sp = { "liftoff-test", "1", NULL, o };
    char *text = usage_text(&sp);
    REQUIRE(text);
    CHECK(strstr(text, "default (set); env LIFTOFF_SET_SECRET") != NULL);
    CHECK(strstr(text, "pw@host") == NULL);
    CHECK(strstr(text, "no default; env LIFTOFF_EMPTY_SECRET") != NULL);
    free(text);
}

/* Runs cfg_parse_or_exit in a child; returns its exit status (-1: crashed). */
static int exit_status_of(char *const argv[])
{
    int argc = 0;
    while (argv[argc])
        argc++;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
            _exit(99);
        cfg_parse_or_exit(&spec, argc, argv);
        _exit(42); /* parsed fine */
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

TEST(cfg_parse_or_exit_uses_exit_codes_0_and_2)
{
    CHECK_INT(exit_status_of(ARGV("--help")), 0);
    CHECK_INT(exit_status_of(ARGV("--version")), 0);
    CHECK_INT(exit_status_of(ARGV("--nope")), CFG_EXIT_USAGE);
    CHECK_INT(exit_status_of(ARGV("--workers=0")), CFG_EXIT_USAGE);
    CHECK_INT(exit_status_of(ARGV("--workers")), CFG_EXIT_USAGE);
    CHECK_INT(exit_status_of(ARGV("--workers=5")), 42);
}

/* ---- secret files ---- */

static char *write_temp(const char *dir, const char *name, const char *data, size_t len)
{
    char *path = xasprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(data, 1, len, f);
        fclose(f);
    }
    return path;
}

TEST(cfg_read_secret_file_trims_newline_and_enforces_limit)
{
    const char *tmp = getenv("TMPDIR");
    char *dir = xasprintf("%s/liftoff-cfg-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    REQUIRE(mkdtemp(dir) != NULL);
    char *p1 = write_temp(dir, "nl", "s3cret\n", 7);
    char *p2 = write_temp(dir, "crlf", "abc\r\n", 5);
    char *p3 = write_temp(dir, "empty", "\n", 1);
    char *p4 = write_temp(dir, "eight", "12345678", 8);
    char *p5 = write_temp(dir, "nine", "123456789", 9);
    char *p6 = write_temp(dir, "bin", "a\0b\n", 4);
    char *p7 = xasprintf("%s/missing", dir);
    char *s = NULL;
    size_t len = 0;

    CHECK_INT(cfg_read_secret_file(p1, 64, &s, &len), 0);
    CHECK_STR(s, "s3cret");
    CHECK_INT(len, 6);
    cfg_secret_free(s, len);
    CHECK_INT(cfg_read_secret_file(p2, 64, &s, NULL), 0);
    CHECK_STR(s, "abc");
    cfg_secret_free(s, 3);
    s = NULL;
    CHECK_INT(cfg_read_secret_file(p3, 64, &s, &len), -ENODATA);
    CHECK(s == NULL);
    CHECK_INT(cfg_read_secret_file(p4, 8, &s, &len), 0);
    CHECK_INT(len, 8);
    cfg_secret_free(s, len);
    s = NULL;
    CHECK_INT(cfg_read_secret_file(p5, 8, &s, &len), -EFBIG);
    CHECK(s == NULL);
    CHECK_INT(cfg_read_secret_file(p6, 8, &s, &len), 0);
    CHECK_INT(len, 3);
    CHECK(memcmp(s, "a\0b", 3) == 0);
    cfg_secret_free(s, len);
    s = NULL;
    CHECK_INT(cfg_read_secret_file(p7, 8, &s, &len), -ENOENT);
    CHECK_INT(cfg_read_secret_file(dir, 8, &s, &len), -EISDIR);
    CHECK(s == NULL);

    char *paths[] = { p1, p2, p3, p4, p5, p6, p7 };
    for (size_t i = 0; i < LO_ARRAY_SIZE(paths); i++) {
        unlink(paths[i]);
        free(paths[i]);
    }
    rmdir(dir);
    free(dir);
}
