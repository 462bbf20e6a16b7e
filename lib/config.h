/*
 * config.h — declarative command-line and environment options.
 *
 * A program lists its options in a table, each bound to a typed variable:
 *
 *   static struct { char *redis; cfg_hostport listen; uint64_t drain_ms;
 *                   size_t max_body; int workers; } c;
 *   static const cfg_option opts[] = {
 *       CFG_HOSTPORT("listen", &c.listen, "0.0.0.0:8080", "address to listen on"),
 *       CFG_STRING("redis", &c.redis, "redis://127.0.0.1:6379", "Redis URL"),
 *       CFG_INT("workers", &c.workers, "4", 1, 64, "worker count"),
 *       CFG_DURATION("drain", &c.drain_ms, "5s", 0, 600000, "drain deadline"),
 *       CFG_SIZE("max-body", &c.max_body, "64KiB", 1, 16 << 20, "largest body"),
 *       CFG_END,
 *   };
 *   static const cfg_spec spec = { "liftoff-ingest", LIFTOFF_VERSION,
 *                                  "receives launch events", opts };
 *   cfg_parse_or_exit(&spec, argc, argv);
 *
 * Sources, later ones winning: the default (text, parsed like any value),
 * the environment variable LIFTOFF_<NAME> (name upper-cased, '-' -> '_':
 * "max-body" -> LIFTOFF_MAX_BODY; an empty variable counts as unset), then
 * the command line: --name=value or --name value. A bool is set by --name,
 * --name=true|false or --no-name (never by a separate argument); a list
 * option given on the command line replaces the env/default list, and each
 * repetition appends (in the environment and defaults it is comma-separated).
 * There are no positional arguments; --help (-h) and --version are built in.
 * Options marked CFG_SECRET (", .flags = CFG_SECRET" after the help text)
 * never have their value printed, in help or in errors.
 *
 * Value forms:
 *   int       decimal, optional sign, within [min, max]
 *   double    strtod form (no NaN/Inf), within [min, max]
 *   bool      true/false, 1/0, yes/no, on/off (any case)
 *   duration  one or more <number><unit>, unit ms, s, m or h: 250ms, 5s,
 *             1m30s, 1.5s; "0" alone is zero. Stored in milliseconds; a
 *             fraction of a millisecond is rejected.
 *   size      <integer>[unit]: no unit or B = bytes; k, K, Ki, KiB = 1024;
 *             M, Mi, MiB (m too) = 1024^2; G, Gi, GiB (g too) = 1024^3;
 *             T, Ti, TiB = 1024^4; KB, MB, GB, TB = 1000^n (SI). In bytes.
 *   host:port name:port, a.b.c.d:port, [v6]:port or :port (any host, stored
 *             as ""); port 0..65535 (0 = any free port, for listeners)
 *
 * Ownership: strings, lists and host names that cfg_load() stores are
 * allocated; cfg_free() frees them and zeroes the variables. The variables
 * must start zeroed (static storage, or memset). Everything else is a value.
 */
#ifndef LIFTOFF_CONFIG_H
#define LIFTOFF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CFG_ENV_PREFIX "LIFTOFF_"
#define CFG_NAME_MAX 64              /* longest option name */
#define CFG_OPTIONS_MAX 128          /* most options in one table */
#define CFG_VALUE_MAX 4096           /* longest value accepted */
#define CFG_LIST_MAX 256             /* most items in a list option */
#define CFG_ERR_MAX 512              /* room cfg_load() needs for its message */
#define CFG_EXIT_USAGE 2             /* exit code for a bad command line */

typedef enum cfg_type {
    CFG_T_STRING,
    CFG_T_INT,
    CFG_T_DOUBLE,
    CFG_T_BOOL,
    CFG_T_DURATION,
    CFG_T_SIZE,
    CFG_T_HOSTPORT,
    CFG_T_LIST,
} cfg_type;

typedef struct cfg_hostport {
    char *host;  /* without brackets; "" for any address */
    int port;
} cfg_hostport;

typedef struct cfg_list {
    char **items;
    size_t n;
} cfg_list;

enum {
    CFG_SECRET = 1u,    /* value never printed (help shows "(set)") */
    CFG_REQUIRED = 2u,  /* must end up with a non-empty value */
};

/* One option. Build it with the CFG_* macros: they check the variable's type
 * at compile time. */
typedef struct cfg_option {
    const char *name;   /* long flag without dashes; NULL ends the table */
    cfg_type type;
    union {
        char **s;
        int *i;
        double *d;
        bool *b;
        uint64_t *ms;
        size_t *sz;
        cfg_hostport *hp;
        cfg_list *l;
    } dst;
    const char *def;    /* default as text; NULL: none (zero / empty) */
    const char *help;   /* one line */
    double min, max;    /* inclusive range for int, double, duration (ms), size
                         * (bytes); both 0: only the type's own limits */
    unsigned flags;
} cfg_option;

/* Each macro takes optional trailing designators, e.g. ", .flags = CFG_SECRET". */
#define CFG_STRING(nm, p, df, hl, ...) \
    { .name = (nm), .type = CFG_T_STRING, .dst.s = (p), .def = (df), .help = (hl), __VA_ARGS__ }
#define CFG_INT(nm, p, df, lo, hi, hl, ...) \
    { .name = (nm), .type = CFG_T_INT, .dst.i = (p), .def = (df), .help = (hl), \
      .min = (lo), .max = (hi), __VA_ARGS__ }
#define CFG_DOUBLE(nm, p, df, lo, hi, hl, ...) \
    { .name = (nm), .type = CFG_T_DOUBLE, .dst.d = (p), .def = (df), .help = (hl), \
      .min = (lo), .max = (hi), __VA_ARGS__ }
#define CFG_BOOL(nm, p, df, hl, ...) \
    { .name = (nm), .type = CFG_T_BOOL, .dst.b = (p), .def = (df), .help = (hl), __VA_ARGS__ }
#define CFG_DURATION(nm, p, df, lo_ms, hi_ms, hl, ...) \
    { .name = (nm), .type = CFG_T_DURATION, .dst.ms = (p), .def = (df), .help = (hl), \
      .min = (lo_ms), .max = (hi_ms), __VA_ARGS__ }
#define CFG_SIZE(nm, p, df, lo, hi, hl, ...) \
    { .name = (nm), .type = CFG_T_SIZE, .dst.sz = (p), .def = (df), .help = (hl), \
      .min = (lo), .max = (hi), __VA_ARGS__ }
#define CFG_HOSTPORT(nm, p, df, hl, ...) \
    { .name = (nm), .type = CFG_T_HOSTPORT, .dst.hp = (p), .def = (df), .help = (hl), __VA_ARGS__ }
#define CFG_LIST(nm, p, df, hl, ...) \
    { .name = (nm), .type = CFG_T_LIST, .dst.l = (p), .def = (df), .help = (hl), __VA_ARGS__ }
#define CFG_END { .name = NULL }

typedef struct cfg_spec {
    const char *program;   /* "liftoff-ingest" */
    const char *version;   /* printed by --version */
    const char *summary;   /* one line under the usage line */
    const cfg_option *opts;
} cfg_spec;

/* cfg_load() results besides 0 and -EINVAL. */
enum { CFG_HELP = 1, CFG_VERSION = 2 };

/* Applies defaults, then envp ("NAME=value" strings, NULL-terminated; NULL:
 * none), then argv[1..argc). Returns 0; CFG_HELP or CFG_VERSION when asked
 * (nothing printed); or -EINVAL with a message naming the option and the
 * accepted form in err (errlen >= CFG_ERR_MAX advised). */
int cfg_load(const cfg_spec *spec, int argc, char *const argv[], char *const envp[], char *err,
             size_t errlen);

/* cfg_load() with the process environment; prints help or the version to
 * stdout and exits 0, or prints the error to stderr and exits 2. */
void cfg_parse_or_exit(const cfg_spec *spec, int argc, char *const argv[]);

/* Prints usage: every option with its value form, default, env name, help. */
void cfg_usage(const cfg_spec *spec, FILE *out);

/* Frees what cfg_load() stored in the variables and zeroes them. */
void cfg_free(const cfg_spec *spec);

/* The environment variable name for an option name into out: 0 or -ENAMETOOLONG. */
int cfg_env_name(const char *name, char *out, size_t outlen);

/* Pure value parsers (0 or -EINVAL; -ERANGE on overflow). */
int cfg_parse_duration_ms(const char *s, uint64_t *out_ms);
int cfg_parse_size(const char *s, uint64_t *out_bytes);
int cfg_parse_bool(const char *s, bool *out);
int cfg_parse_int(const char *s, long long *out);
/* Fills *out (host allocated; free it with cfg_hostport_free). */
int cfg_parse_hostport(const char *s, cfg_hostport *out);
void cfg_hostport_free(cfg_hostport *hp);

/* Reads a secret file (at most max bytes, else -EFBIG), drops trailing
 * "\n"/"\r\n"; an empty result is -ENODATA; open/read errors are -errno.
 * On success *out is a NUL-terminated copy (it may hold NULs: use *outlen)
 * the caller frees with cfg_secret_free(*out, *outlen); outlen may be NULL.
 * Blocking: call at start-up or off the hot path (the files are tiny). */
int cfg_read_secret_file(const char *path, size_t max, char **out, size_t *outlen);
/* Wipes len bytes of a secret and frees it. NULL-safe. */
void cfg_secret_free(char *secret, size_t len);

#endif
