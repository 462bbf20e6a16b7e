/* config.c — option tables: defaults, environment, command line, --help
 * (see config.h; the value parsers are in config_parse.c). */
#include "config.h"
#include "common.h"
#include "file_read.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

#define SHOWN_VALUE_MAX 64 /* bytes of a bad value quoted in an error */

/* Where a value came from, for error messages. */
typedef struct source {
    const char *kind;    /* "default", "env", "flag" */
    const char *env;     /* the variable name, for "env" */
} source;

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int cfg_env_name(const char *name, char *out, size_t outlen)
{
    size_t plen = strlen(CFG_ENV_PREFIX), nlen = strlen(name);
    if (plen + nlen + 1 > outlen)
        return -ENAMETOOLONG;
    memcpy(out, CFG_ENV_PREFIX, plen);
    for (size_t i = 0; i < nlen; i++) {
        char c = name[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        else if (c == '-' || c == '.')
            c = '_';
        out[plen + i] = c;
    }
    out[plen + nlen] = '\0';
    return 0;
}

static bool valid_option_name(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > CFG_NAME_MAX || n[0] == '-')
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= '0' && n[i] <= '9') || n[i] == '-'))
            return false;
    return true;
}

/* ---- describing values ---- */

static void format_ms(char *out, size_t len, double ms)
{
    uint64_t v = (uint64_t)ms;
    if (v != 0 && v % 3600000 == 0)
        snprintf(out, len, "%" PRIu64 "h", v / 3600000);
    else if (v != 0 && v % 60000 == 0)
        snprintf(out, len, "%" PRIu64 "m", v / 60000);
    else if (v != 0 && v % 1000 == 0)
        snprintf(out, len, "%" PRIu64 "s", v / 1000);
    else
        snprintf(out, len, "%" PRIu64 "ms", v);
}

static void format_bytes(char *out, size_t len, double bytes)
{
    uint64_t v = (uint64_t)bytes;
    if (v != 0 && v % (1ull << 30) == 0)
        snprintf(out, len, "%" PRIu64 "GiB", v >> 30);
    else if (v != 0 && v % (1ull << 20) == 0)
        snprintf(out, len, "%" PRIu64 "MiB", v >> 20);
    else if (v != 0 && v % (1ull << 10) == 0)
        snprintf(out, len, "%" PRIu64 "KiB", v >> 10);
    else
        snprintf(out, len, "%" PRIu64, v);
}

static bool has_range(const cfg_option *o) { return o->min != 0 || o->max != 0; }

/* form, followed by ", from MIN to MAX" (each written by fmt) when the
 * option has a range. */
static void describe_ranged(const cfg_option *o, char *out, size_t len, const char *form,
                            void (*fmt)(char *, size_t, double))
{
    char lo[32], hi[32];
    if (!has_range(o)) {
        snprintf(out, len, "%s", form);
        return;
    }
    fmt(lo, sizeof lo, o->min);
    fmt(hi, sizeof hi, o->max);
    snprintf(out, len, "%s, from %s to %s", form, lo, hi);
}

/* The accepted form of an option's values, for errors and help. */
static void describe_form(const cfg_option *o, char *out, size_t len)
{
    switch (o->type) {
    case CFG_T_STRING:
        snprintf(out, len, "a string of at most %d bytes", CFG_VALUE_MAX);
        return;
    case CFG_T_LIST:
        snprintf(out, len, "a comma-separated list of at most %d items", CFG_LIST_MAX);
        return;
    case CFG_T_BOOL:
        snprintf(out, len, "true or false (also 1/0, yes/no, on/off)");
        return;
    case CFG_T_HOSTPORT:
        snprintf(out, len, "HOST:PORT, [IPv6]:PORT or :PORT, port 0-65535");
        return;
    case CFG_T_INT:
        if (has_range(o))
            snprintf(out, len, "an integer from %.0f to %.0f", o->min, o->max);
        else
            snprintf(out, len, "an integer from %d to %d", INT_MIN, INT_MAX);
        return;
    case CFG_T_DOUBLE:
        if (has_range(o))
            snprintf(out, len, "a number from %g to %g", o->min, o->max);
        else
            snprintf(out, len, "a finite number");
        return;
    case CFG_T_DURATION:
        describe_ranged(o, out, len, "a duration like 250ms, 5s, 2m, 1h or 1m30s", format_ms);
        return;
    case CFG_T_SIZE:
        describe_ranged(o, out, len, "a size like 4096, 16k, 64KiB or 1MiB", format_bytes);
        return;
    }
    snprintf(out, len, "a value");
}

static const char *metavar(const cfg_option *o)
{
    switch (o->type) {
    case CFG_T_STRING: return "STRING";
    case CFG_T_LIST: return "ITEM[,ITEM...]";
    case CFG_T_BOOL: return "";
    case CFG_T_HOSTPORT: return "HOST:PORT";
    case CFG_T_INT: return "N";
    case CFG_T_DOUBLE: return "X";
    case CFG_T_DURATION: return "DURATION";
    case CFG_T_SIZE: return "SIZE";
    }
    return "VALUE";
}

/* "--name", "LIFTOFF_NAME (for --name)" or "the default of --name". */
static void describe_source(const cfg_option *o, const source *src, char *out, size_t len)
{
    if (strcmp(src->kind, "env") == 0)
        snprintf(out, len, "%s (for --%s)", src->env, o->name);
    else if (strcmp(src->kind, "default") == 0)
        snprintf(out, len, "the default of --%s", o->name);
    else
        snprintf(out, len, "--%s", o->name);
}

static int bad_value(const cfg_option *o, const source *src, const char *value, const char *why,
                     char *err, size_t errlen)
{
    char where[160], form[160], reason[64] = "";
    describe_source(o, src, where, sizeof where);
    describe_form(o, form, sizeof form);
    if (why)
        snprintf(reason, sizeof reason, " (%s)", why);
    if (o->flags & CFG_SECRET)
        set_err(err, errlen, "%s: invalid value%s: want %s", where, reason, form);
    else
        set_err(err, errlen, "%s: invalid value \"%.*s%s\"%s: want %s", where, SHOWN_VALUE_MAX,
                value, strlen(value) > SHOWN_VALUE_MAX ? "..." : "", reason, form);
    return -EINVAL;
}

/* Frees a string value, wiping it first when it is a secret's. */
static void value_free(char *s, bool secret)
{
    if (secret)
        cfg_secret_free(s, s ? strlen(s) : 0);
    else
        free(s);
}

/* ---- storing values ---- */

static void list_clear(cfg_list *l, bool secret)
{
    for (size_t i = 0; i < l->n; i++)
        value_free(l->items[i], secret);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

/* Appends the comma-separated items of v (spaces around items trimmed,
 * empty items skipped). */
static int list_append(const cfg_option *o, const source *src, const char *v, char *err,
                       size_t errlen)
{
    cfg_list *l = o->dst.l;
    const char *p = v;
    while (*p) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (b > a) {
            if (l->n >= CFG_LIST_MAX)
                return bad_value(o, src, v, "too many items", err, errlen);
            l->items = xrealloc(l->items, (l->n + 1) * sizeof *l->items);
            l->items[l->n++] = xstrndup(a, (size_t)(b - a));
        }
        p = *end ? end + 1 : end;
    }
    return 0;
}

static bool in_range(const cfg_option *o, double v)
{
    return !has_range(o) || (v >= o->min && v <= o->max);
}

/* Parses text for option o and stores it. */
static int set_value(const cfg_option *o, const source *src, const char *v, char *err,
                     size_t errlen)
{
    int rc;
    if (strlen(v) > CFG_VALUE_MAX)
        return bad_value(o, src, v, "too long", err, errlen);
    switch (o->type) {
    case CFG_T_STRING:
        value_free(*o->dst.s, o->flags & CFG_SECRET);
        *o->dst.s = xstrdup(v);
        return 0;
    case CFG_T_LIST:
        return list_append(o, src, v, err, errlen);
    case CFG_T_BOOL:
        if (cfg_parse_bool(v, o->dst.b) < 0)
            return bad_value(o, src, v, NULL, err, errlen);
        return 0;
    case CFG_T_INT: {
        long long n;
        rc = cfg_parse_int(v, &n);
        if (rc < 0 || n < INT_MIN || n > INT_MAX || !in_range(o, (double)n))
            return bad_value(o, src, v, rc == -EINVAL ? NULL : "out of range", err, errlen);
        *o->dst.i = (int)n;
        return 0;
    }
    case CFG_T_DOUBLE: {
        char *end;
        errno = 0;
        double d = strtod(v, &end);
        if (!*v || *end || errno == ERANGE || !isfinite(d) || v[0] == ' ')
            return bad_value(o, src, v, NULL, err, errlen);
        if (!in_range(o, d))
            return bad_value(o, src, v, "out of range", err, errlen);
        *o->dst.d = d;
        return 0;
    }
    case CFG_T_DURATION: {
        uint64_t ms;
        rc = cfg_parse_duration_ms(v, &ms);
        if (rc < 0 || !in_range(o, (double)ms))
            return bad_value(o, src, v, rc == -EINVAL ? NULL : "out of range", err, errlen);
        *o->dst.ms = ms;
        return 0;
    }
    case CFG_T_SIZE: {
        uint64_t bytes;
        rc = cfg_parse_size(v, &bytes);
        if (rc < 0 || bytes > SIZE_MAX || !in_range(o, (double)bytes))
            return bad_value(o, src, v, rc == -EINVAL ? NULL : "out of range", err, errlen);
        *o->dst.sz = (size_t)bytes;
        return 0;
    }
    case CFG_T_HOSTPORT: {
        cfg_hostport hp = { 0 };
        if (cfg_parse_hostport(v, &hp) < 0)
            return bad_value(o, src, v, NULL, err, errlen);
        cfg_hostport_free(o->dst.hp);
        *o->dst.hp = hp;
        return 0;
    }
    }
    set_err(err, errlen, "--%s: unknown option type", o->name);
    return -EINVAL;
}

/* ---- the three sources ---- */

static const char *env_lookup(char *const envp[], const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; envp && envp[i]; i++)
        if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=')
            return envp[i] + n + 1;
    return NULL;
}

static const cfg_option *find_option(const cfg_spec *spec, const char *name, size_t len)
{
    for (const cfg_option *o = spec->opts; o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

static int check_table(const cfg_spec *spec, char *err, size_t errlen)
{
    size_t n = 0;
    for (const cfg_option *o = spec->opts; o->name; o++) {
        if (++n > CFG_OPTIONS_MAX) {
            set_err(err, errlen, "option table: more than %d options", CFG_OPTIONS_MAX);
            return -EINVAL;
        }
        if (!valid_option_name(o->name) || strcmp(o->name, "help") == 0 ||
            strcmp(o->name, "version") == 0) {
            set_err(err, errlen, "option table: invalid option name \"%s\"", o->name);
            return -EINVAL;
        }
        if (find_option(spec, o->name, strlen(o->name)) != o) {
            set_err(err, errlen, "option table: --%s declared twice", o->name);
            return -EINVAL;
        }
        if (!o->dst.s) {
            set_err(err, errlen, "option table: --%s has no variable", o->name);
            return -EINVAL;
        }
    }
    return 0;
}

static int apply_defaults_and_env(const cfg_spec *spec, char *const envp[], char *err,
                                  size_t errlen)
{
    for (const cfg_option *o = spec->opts; o->name; o++) {
        char env[CFG_NAME_MAX + 16];
        int rc;
        if (o->def) {
            source src = { "default", NULL };
            if ((rc = set_value(o, &src, o->def, err, errlen)) < 0)
                return rc;
        }
        if (cfg_env_name(o->name, env, sizeof env) < 0)
            return -EINVAL;
        const char *v = env_lookup(envp, env);
        if (v && *v) {
            source src = { "env", env };
            if (o->type == CFG_T_LIST)
                list_clear(o->dst.l, o->flags & CFG_SECRET);
            if ((rc = set_value(o, &src, v, err, errlen)) < 0)
                return rc;
        }
    }
    return 0;
}

static int apply_args(const cfg_spec *spec, int argc, char *const argv[], char *err,
                      size_t errlen)
{
    /* A list given on the command line replaces the env/default list. */
    bool seen[CFG_OPTIONS_MAX] = { false };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return CFG_HELP;
        if (strcmp(a, "--version") == 0)
            return CFG_VERSION;
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            set_err(err, errlen, "unexpected argument \"%.*s\": options are --name=value (see --help)",
                    SHOWN_VALUE_MAX, a);
            return -EINVAL;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const cfg_option *o = find_option(spec, name, nlen);
        bool negated = false;
        if (!o && nlen > 3 && strncmp(name, "no-", 3) == 0) {
            o = find_option(spec, name + 3, nlen - 3);
            if (o && o->type == CFG_T_BOOL && !eq)
                negated = true;
            else
                o = NULL;
        }
        if (!o) {
            set_err(err, errlen, "unknown option --%.*s (see --help)",
                    (int)LO_MIN(nlen, (size_t)CFG_NAME_MAX), name);
            return -EINVAL;
        }
        source src = { "flag", NULL };
        const char *v;
        if (o->type == CFG_T_BOOL && !eq) {
            v = negated ? "false" : "true";
        } else if (eq) {
            v = eq + 1;
        } else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) {
            v = argv[++i];
        } else {
            char form[160];
            describe_form(o, form, sizeof form);
            set_err(err, errlen, "--%s needs a value: --%s=%s (%s)", o->name, o->name,
                    metavar(o), form);
            return -EINVAL;
        }
        size_t idx = (size_t)(o - spec->opts);
        if (o->type == CFG_T_LIST && !seen[idx]) {
            list_clear(o->dst.l, o->flags & CFG_SECRET);
            seen[idx] = true;
        }
        int rc = set_value(o, &src, v, err, errlen);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int check_required(const cfg_spec *spec, char *err, size_t errlen)
{
    for (const cfg_option *o = spec->opts; o->name; o++) {
        if (!(o->flags & CFG_REQUIRED))
            continue;
        bool set = true;
        if (o->type == CFG_T_STRING)
            set = *o->dst.s && **o->dst.s;
        else if (o->type == CFG_T_LIST)
            set = o->dst.l->n > 0;
        else if (o->type == CFG_T_HOSTPORT)
            set = o->dst.hp->host != NULL;
        if (!set) {
            char env[CFG_NAME_MAX + 16];
            cfg_env_name(o->name, env, sizeof env);
            set_err(err, errlen, "--%s is required (or set %s)", o->name, env);
            return -EINVAL;
        }
    }
    return 0;
}

int cfg_load(const cfg_spec *spec, int argc, char *const argv[], char *const envp[], char *err,
             size_t errlen)
{
    int rc;
    set_err(err, errlen, "%s", "");
    if ((rc = check_table(spec, err, errlen)) < 0)
        return rc;
    if ((rc = apply_defaults_and_env(spec, envp, err, errlen)) < 0)
        return rc;
    if ((rc = apply_args(spec, argc, argv, err, errlen)) != 0)
        return rc;
    return check_required(spec, err, errlen);
}

void cfg_usage(const cfg_spec *spec, FILE *out)
{
    fprintf(out, "Usage: %s [OPTIONS]\n", spec->program);
    if (spec->summary)
        fprintf(out, "%s\n", spec->summary);
    fprintf(out, "\nOptions (each also read from the environment variable shown):\n");
    for (const cfg_option *o = spec->opts; o->name; o++) {
        char env[CFG_NAME_MAX + 16], form[160];
        cfg_env_name(o->name, env, sizeof env);
        describe_form(o, form, sizeof form);
        const char *mv = metavar(o);
        if (o->type == CFG_T_BOOL)
            fprintf(out, "  --%s, --no-%s\n", o->name, o->name);
        else
            fprintf(out, "  --%s=%s%s\n", o->name, mv, o->type == CFG_T_LIST ? " (repeatable)" : "");
        fprintf(out, "      %s\n", o->help ? o->help : "");
        fprintf(out, "      %s; ", form);
        if (o->flags & CFG_REQUIRED)
            fprintf(out, "required");
        else if (o->def && *o->def && (o->flags & CFG_SECRET))
            fprintf(out, "default (set)");
        else if (o->def && *o->def)
            fprintf(out, "default %s", o->def);
        else if (o->type == CFG_T_BOOL)
            fprintf(out, "default false");
        else
            fprintf(out, "no default");
        fprintf(out, "; env %s\n", env);
    }
    fprintf(out, "  --help\n      print this help and exit\n");
    fprintf(out, "  --version\n      print the version and exit\n");
}

void cfg_parse_or_exit(const cfg_spec *spec, int argc, char *const argv[])
{
    char err[CFG_ERR_MAX];
    int rc = cfg_load(spec, argc, argv, environ, err, sizeof err);
    if (rc == CFG_HELP) {
        cfg_usage(spec, stdout);
        exit(0);
    }
    if (rc == CFG_VERSION) {
        printf("%s %s\n", spec->program, spec->version ? spec->version : "unknown");
        exit(0);
    }
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", spec->program, err);
        exit(CFG_EXIT_USAGE);
    }
}

void cfg_free(const cfg_spec *spec)
{
    for (const cfg_option *o = spec->opts; o->name; o++) {
        if (!o->dst.s)
            continue;
        switch (o->type) {
        case CFG_T_STRING:
            value_free(*o->dst.s, o->flags & CFG_SECRET);
            *o->dst.s = NULL;
            break;
        case CFG_T_LIST:
            list_clear(o->dst.l, o->flags & CFG_SECRET);
            break;
        case CFG_T_HOSTPORT:
            cfg_hostport_free(o->dst.hp);
            break;
        case CFG_T_INT: *o->dst.i = 0; break;
        case CFG_T_DOUBLE: *o->dst.d = 0; break;
        case CFG_T_BOOL: *o->dst.b = false; break;
        case CFG_T_DURATION: *o->dst.ms = 0; break;
        case CFG_T_SIZE: *o->dst.sz = 0; break;
        }
    }
}

/* ---- secrets ---- */

int cfg_read_secret_file(const char *path, size_t max, char **out, size_t *outlen)
{
    char *buf = NULL;
    size_t got = 0;
    int rc = file_read_all(path, max, &buf, &got);
    if (rc < 0)
        return rc;
    size_t len = got;
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        len--;
    if (len == 0) {
        cfg_secret_free(buf, got);
        return -ENODATA;
    }
    buf[len] = '\0';
    *out = buf;
    if (outlen)
        *outlen = len;
    return 0;
}

void cfg_secret_free(char *secret, size_t len)
{
    file_wipe_free(secret, len);
}
