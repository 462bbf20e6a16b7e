/*
 * log.h — structured logging: one JSON object per line on stderr.
 *
 *   {"ts":"2024-05-01T12:00:00.123Z","level":"info","component":"ingest",
 *    "msg":"listening","addr":"0.0.0.0:8080","workers":4}
 *
 * Use the level macros with typed fields:
 *
 *   log_info("redis", "connected", LF_STR("addr", addr), LF_INT("db", db));
 *   log_warn("http", "slow client", LF_DBL("secs", 1.5), LF_BOOL("tls", true));
 *   log_error("watch", "list failed", LF_ERR(rc));
 *
 * The fields are an array built at the call site, so a wrong value type is a
 * compile error, and nothing is evaluated when the level is filtered out.
 * Every string (keys, messages, values) is escaped for JSON: quotes,
 * backslashes and control characters are escaped, and bytes that are not
 * valid UTF-8 become U+FFFD. Doubles that JSON cannot represent (NaN, Inf)
 * are written as null. Field keys that would clash with the four fixed keys
 * (ts, level, component, msg) get a leading underscore.
 *
 * Limits: a line is at most LOG_LINE_MAX bytes including the newline; a line
 * that would be longer is cut at a field boundary (a long string is cut at a
 * character boundary) and ends with "truncated":true. Formatting uses a
 * buffer on the stack: logging never allocates.
 *
 * Rate limiting: log_*_limited() let at most LOG_LIMIT_BURST lines per call
 * site through per LOG_LIMIT_WINDOW_MS; the first line after a quiet window
 * carries "suppressed":N, the number dropped meanwhile.
 *
 * Programs take the threshold from their options (a "log-level" string
 * option passed to log_level_parse() and log_set_level()).
 *
 * Output: one write(2) per line to fd 2 (or to a sink set for tests). A
 * write that fails (EAGAIN on a non-blocking stderr, a closed pipe) drops
 * the line and counts it (log_dropped()). The level and the sink are process
 * globals; the rate-limit state is per call site and not thread-safe.
 */
#ifndef LIFTOFF_LOG_H
#define LIFTOFF_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOG_LINE_MAX 8192          /* bytes per line, newline included */
#define LOG_FORMAT_MIN_CAP 256    /* smallest buffer log_format() accepts */
#define LOG_LIMIT_BURST 10         /* lines per call site per window */
#define LOG_LIMIT_WINDOW_MS 10000  /* rate-limit window */

typedef enum log_level {
    LOG_DEBUG = 0,
    LOG_INFO = 1,
    LOG_WARN = 2,
    LOG_ERROR = 3,
} log_level;

typedef enum log_ftype {
    LOG_F_NONE = 0,  /* placeholder (skipped) */
    LOG_F_STR,       /* NUL-terminated string; NULL is written as null */
    LOG_F_STRN,      /* string of a given length (may hold NULs) */
    LOG_F_INT,
    LOG_F_UINT,
    LOG_F_DBL,
    LOG_F_BOOL,
} log_ftype;

/* One key/value pair; build it with the LF_* macros below. */
typedef struct log_field {
    const char *key;
    log_ftype type;
    size_t len;  /* LOG_F_STRN only */
    union {
        const char *s;
        int64_t i;
        uint64_t u;
        double d;
        bool b;
    } v;
} log_field;

#define LF_STR(k, val)      ((log_field){ .key = (k), .type = LOG_F_STR, .v.s = (val) })
#define LF_STRN(k, p, n)    ((log_field){ .key = (k), .type = LOG_F_STRN, .len = (n), .v.s = (p) })
#define LF_INT(k, val)      ((log_field){ .key = (k), .type = LOG_F_INT, .v.i = (int64_t)(val) })
#define LF_UINT(k, val)     ((log_field){ .key = (k), .type = LOG_F_UINT, .v.u = (uint64_t)(val) })
#define LF_DBL(k, val)      ((log_field){ .key = (k), .type = LOG_F_DBL, .v.d = (double)(val) })
#define LF_BOOL(k, val)     ((log_field){ .key = (k), .type = LOG_F_BOOL, .v.b = (val) })
/* "error": strerror(-rc) for a negative errno return value. */
#define LF_ERR(rc)          LF_STR("error", log_strerror(rc))

/* Parses "debug", "info", "warn"/"warning" or "error" (any case): 0 or -EINVAL. */
int log_level_parse(const char *s, log_level *out);
/* The lower-case name of a level ("info"). */
const char *log_level_name(log_level level);

/* Sets / reads the threshold: lines below it are not formatted (default info). */
void log_set_level(log_level level);
log_level log_get_level(void);
/* True if a line at level would be written. */
extern log_level log_threshold_; /* internal: read through log_enabled() */
static inline bool log_enabled(log_level level) { return level >= log_threshold_; }

/* Sends every line to sink(line, len, arg) instead of fd 2 (line ends with
 * '\n' and is not NUL-terminated); NULL restores stderr. For tests. */
typedef void log_sink_fn(const char *line, size_t len, void *arg);
void log_set_sink(log_sink_fn *sink, void *arg);

/* Lines lost because stderr could not take them. */
uint64_t log_dropped(void);

/* Length of the valid UTF-8 sequence at s (n > 0 bytes available): 1..4,
 * or 0 if the bytes there are not valid UTF-8 (overlong forms, surrogates
 * and code points above U+10FFFF are invalid). */
size_t log_utf8_seq_len(const unsigned char *s, size_t n);

/* strerror for a negative (or positive) errno value; never NULL. */
const char *log_strerror(int rc);

/* Formats one line (with its newline) into out and returns its length: never
 * more than cap nor LOG_LINE_MAX; 0 (nothing written) if cap is below
 * LOG_FORMAT_MIN_CAP. ts_ms is wall-clock milliseconds since the epoch. The
 * component is cut to 64 bytes. Pure; exposed for tests. */
size_t log_format(char *out, size_t cap, uint64_t ts_ms, log_level level, const char *component,
                  const char *msg, const log_field *fields, size_t nfields);

/* Formats and writes one line now, whatever the threshold. Prefer the macros. */
void log_write(log_level level, const char *component, const char *msg, const log_field *fields,
               size_t nfields);

/* Per-call-site rate-limit state (the _limited macros keep one in a static). */
typedef struct log_limit {
    uint64_t window_start_ms;
    uint32_t in_window;
    uint32_t suppressed;
} log_limit;
/* Writes the line unless the site is over its burst; see the header comment. */
void log_write_limited(log_limit *lim, log_level level, const char *component, const char *msg,
                       const log_field *fields, size_t nfields);

/* The field array starts with a placeholder so that a call with no fields
 * still makes a valid initializer ({ LF_NONE_, }). */
#define LF_NONE_ ((log_field){ .key = NULL, .type = LOG_F_NONE })
#define LOG_AT_(lvl, comp, msg, ...)                                                           \
    do {                                                                                       \
        if (log_enabled(lvl)) {                                                                \
            const log_field log_f_[] = { LF_NONE_, __VA_ARGS__ };                              \
            log_write((lvl), (comp), (msg), log_f_ + 1, sizeof log_f_ / sizeof log_f_[0] - 1); \
        }                                                                                      \
    } while (0)
#define LOG_LIMITED_AT_(lvl, comp, msg, ...)                                                   \
    do {                                                                                       \
        if (log_enabled(lvl)) {                                                                \
            static log_limit log_lim_;                                                         \
            const log_field log_f_[] = { LF_NONE_, __VA_ARGS__ };                              \
            log_write_limited(&log_lim_, (lvl), (comp), (msg), log_f_ + 1,                     \
                              sizeof log_f_ / sizeof log_f_[0] - 1);                           \
        }                                                                                      \
    } while (0)

/* log_xxx(component, msg, fields...): component and msg are strings. */
#define log_debug(comp, ...) LOG_AT_(LOG_DEBUG, comp, __VA_ARGS__)
#define log_info(comp, ...)  LOG_AT_(LOG_INFO, comp, __VA_ARGS__)
#define log_warn(comp, ...)  LOG_AT_(LOG_WARN, comp, __VA_ARGS__)
#define log_error(comp, ...) LOG_AT_(LOG_ERROR, comp, __VA_ARGS__)
#define log_info_limited(comp, ...)  LOG_LIMITED_AT_(LOG_INFO, comp, __VA_ARGS__)
#define log_warn_limited(comp, ...)  LOG_LIMITED_AT_(LOG_WARN, comp, __VA_ARGS__)
#define log_error_limited(comp, ...) LOG_LIMITED_AT_(LOG_ERROR, comp, __VA_ARGS__)

#endif
