/* log.c — JSON-lines logging to stderr (see log.h). */
#include "log.h"
#include "common.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define LOG_COMPONENT_MAX 64 /* bytes of the component name kept */

/* Room kept free at the end of every line for ,"truncated":true}\n */
#define LOG_TAIL_RESERVE 20

log_level log_threshold_ = LOG_INFO;
static log_sink_fn *g_sink;
static void *g_sink_arg;
static uint64_t g_dropped;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

int log_level_parse(const char *s, log_level *out)
{
    if (!s)
        return -EINVAL;
    for (size_t i = 0; i < LO_ARRAY_SIZE(level_names); i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (log_level)i;
            return 0;
        }
    }
    if (strcasecmp(s, "warning") == 0) {
        *out = LOG_WARN;
        return 0;
    }
    return -EINVAL;
}

const char *log_level_name(log_level level)
{
    if ((unsigned)level < LO_ARRAY_SIZE(level_names))
        return level_names[level];
    return "unknown";
}

void log_set_level(log_level level) { log_threshold_ = level; }
log_level log_get_level(void) { return log_threshold_; }

void log_set_sink(log_sink_fn *sink, void *arg)
{
    g_sink = sink;
    g_sink_arg = arg;
}

uint64_t log_dropped(void) { return g_dropped; }

const char *log_strerror(int rc)
{
    const char *s = strerrordesc_np(rc < 0 ? -rc : rc);
    return s ? s : "unknown error";
}

/* ---- the line writer: appends until lim, then marks the line truncated ---- */

typedef struct lw {
    char *p;
    size_t len;
    size_t lim;       /* the field area ends here; the tail reserve follows */
    bool truncated;
} lw;

static bool put_raw(lw *w, const char *s, size_t n)
{
    if (w->len + n > w->lim) {
        w->truncated = true;
        return false;
    }
    memcpy(w->p + w->len, s, n);
    w->len += n;
    return true;
}

static bool put_cstr(lw *w, const char *s) { return put_raw(w, s, strlen(s)); }

size_t log_utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF; /* range of the second byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0)
            lo = 0xA0;          /* no overlong forms */
        else if (c == 0xED)
            hi = 0x9F;          /* no UTF-16 surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;          /* nothing above U+10FFFF */
    } else {
        return 0;
    }
    if (n < need || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < need; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return need;
}

/* Writes prefix (plain ASCII, not escaped) and s[0..n) as one quoted JSON
 * string. If it does not fit, writes as many whole characters as fit, closes
 * the quote, and returns false; if not even the quotes and prefix fit,
 * writes nothing. */
static bool put_json_str_p(lw *w, const char *prefix, const char *str, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    size_t plen = strlen(prefix);
    if (w->len + 2 + plen > w->lim) {
        w->truncated = true;
        return false;
    }
    w->p[w->len++] = '"';
    memcpy(w->p + w->len, prefix, plen);
    w->len += plen;
    size_t i = 0;
    while (i < n) {
        char esc[8];
        const char *out = esc;
        size_t olen;
        size_t step;
        unsigned char c = s[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            esc[0] = (char)c;
            olen = 1;
            step = 1;
        } else if (c < 0x80) {
            step = 1;
            esc[0] = '\\';
            olen = 2;
            switch (c) {
            case '"': esc[1] = '"'; break;
            case '\\': esc[1] = '\\'; break;
            case '\n': esc[1] = 'n'; break;
            case '\r': esc[1] = 'r'; break;
            case '\t': esc[1] = 't'; break;
            case '\b': esc[1] = 'b'; break;
            case '\f': esc[1] = 'f'; break;
            default:
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 0xf];
                olen = 6;
                break;
            }
        } else {
            step = log_utf8_seq_len(s + i, n - i);
            if (step) {
                out = (const char *)s + i;
                olen = step;
            } else {
                out = "\xEF\xBF\xBD"; /* U+FFFD for each invalid byte */
                olen = 3;
                step = 1;
            }
        }
        if (w->len + olen + 1 > w->lim) {
            w->p[w->len++] = '"';
            w->truncated = true;
            return false;
        }
        memcpy(w->p + w->len, out, olen);
        w->len += olen;
        i += step;
    }
    w->p[w->len++] = '"';
    return true;
}

static bool put_json_str(lw *w, const char *str, size_t n) { return put_json_str_p(w, "", str, n); }

/* Decimal digits of v into the end of out[40]; returns the start. */
static char *format_u64(char out[40], uint64_t v)
{
    char *p = out + 39;
    *p = '\0';
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p;
}

static bool is_reserved_key(const char *k)
{
    return strcmp(k, "ts") == 0 || strcmp(k, "level") == 0 || strcmp(k, "component") == 0 ||
           strcmp(k, "msg") == 0;
}

static void format_double(char *out, size_t cap, double d)
{
    if (!isfinite(d)) {
        snprintf(out, cap, "null");
        return;
    }
    /* The shortest of %.15g / %.17g that reads back to the same value. */
    snprintf(out, cap, "%.15g", d);
    if (strtod(out, NULL) != d)
        snprintf(out, cap, "%.17g", d);
}

/* Appends ,"key":value. A field that does not fit is rolled back whole,
 * except a string value, which is cut at a character boundary. */
static void put_field(lw *w, const log_field *f)
{
    char num[40];
    size_t start = w->len;
    if (f->type == LOG_F_NONE || !f->key)
        return;
    bool ok = put_raw(w, ",", 1) &&
              put_json_str_p(w, is_reserved_key(f->key) ? "_" : "", f->key, strlen(f->key)) &&
              put_raw(w, ":", 1);
    if (!ok) {
        w->len = start;
        w->truncated = true;
        return;
    }
    size_t value_start = w->len;
    switch (f->type) {
    case LOG_F_STR:
    case LOG_F_STRN:
        if (!f->v.s) {
            ok = put_cstr(w, "null");
            break;
        }
        /* A string that does not fit entirely is cut, unless nothing fits. */
        ok = put_json_str(w, f->v.s, f->type == LOG_F_STR ? strlen(f->v.s) : f->len) ||
             w->len != value_start;
        break;
    case LOG_F_INT: {
        uint64_t mag = f->v.i < 0 ? 0 - (uint64_t)f->v.i : (uint64_t)f->v.i;
        char *d = format_u64(num, mag);
        if (f->v.i < 0)
            *--d = '-';
        ok = put_cstr(w, d);
        break;
    }
    case LOG_F_UINT:
        ok = put_cstr(w, format_u64(num, f->v.u));
        break;
    case LOG_F_DBL:
        format_double(num, sizeof num, f->v.d);
        ok = put_cstr(w, num);
        break;
    case LOG_F_BOOL:
        ok = put_cstr(w, f->v.b ? "true" : "false");
        break;
    default:
        ok = put_cstr(w, "null");
        break;
    }
    if (!ok)
        w->len = start;
}

/* "2024-05-01T12:00:00.123Z". The part up to the seconds is cached per
 * thread: most lines fall in the same second as the previous one. */
static void format_ts(char *out, size_t cap, uint64_t ts_ms)
{
    static _Thread_local uint64_t cached_sec = UINT64_MAX;
    static _Thread_local char cached[64];
    uint64_t sec = ts_ms / 1000;
    if (sec != cached_sec) {
        time_t secs = (time_t)sec;
        struct tm tm;
        if (!gmtime_r(&secs, &tm))
            memset(&tm, 0, sizeof tm);
        snprintf(cached, sizeof cached, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        cached_sec = sec;
    }
    unsigned ms = (unsigned)(ts_ms % 1000);
    size_t n = strnlen(cached, sizeof cached);
    if (n + 6 > cap) {
        out[0] = '\0';
        return;
    }
    memcpy(out, cached, n);
    out[n] = '.';
    out[n + 1] = (char)('0' + ms / 100);
    out[n + 2] = (char)('0' + ms / 10 % 10);
    out[n + 3] = (char)('0' + ms % 10);
    out[n + 4] = 'Z';
    out[n + 5] = '\0';
}

static size_t format_line(char *out, size_t cap, uint64_t ts_ms, log_level level,
                          const char *component, const char *msg, const log_field *fields,
                          size_t nfields, const log_field *extra)
{
    char ts[96];
    if (cap < LOG_FORMAT_MIN_CAP)
        return 0;
    if (cap > LOG_LINE_MAX)
        cap = LOG_LINE_MAX;
    lw w = { .p = out, .len = 0, .lim = cap - LOG_TAIL_RESERVE, .truncated = false };
    format_ts(ts, sizeof ts, ts_ms);
    put_cstr(&w, "{\"ts\":\"");
    put_cstr(&w, ts);
    put_cstr(&w, "\",\"level\":\"");
    put_cstr(&w, log_level_name(level));
    put_cstr(&w, "\",\"component\":");
    put_json_str(&w, component ? component : "",
                 component ? strnlen(component, LOG_COMPONENT_MAX) : 0);
    if (put_cstr(&w, ",\"msg\":"))
        put_json_str(&w, msg ? msg : "", msg ? strlen(msg) : 0);
    for (size_t i = 0; i < nfields && !w.truncated; i++)
        put_field(&w, &fields[i]);
    if (extra && !w.truncated)
        put_field(&w, extra);
    /* The reserve guarantees room for the tail. */
    if (w.truncated) {
        memcpy(out + w.len, ",\"truncated\":true", 17);
        w.len += 17;
    }
    out[w.len++] = '}';
    out[w.len++] = '\n';
    return w.len;
}

size_t log_format(char *out, size_t cap, uint64_t ts_ms, log_level level, const char *component,
                  const char *msg, const log_field *fields, size_t nfields)
{
    return format_line(out, cap, ts_ms, level, component, msg, fields, nfields, NULL);
}

static void emit(const char *line, size_t len)
{
    if (g_sink) {
        g_sink(line, len, g_sink_arg);
        return;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(STDERR_FILENO, line + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            g_dropped++;
            return;
        }
        off += (size_t)n;
    }
}

static void write_line(log_level level, const char *component, const char *msg,
                       const log_field *fields, size_t nfields, const log_field *extra)
{
    char line[LOG_LINE_MAX];
    int saved = errno; /* logging must not disturb the caller's errno */
    size_t len = format_line(line, sizeof line, lo_wall_ms(), level, component, msg, fields,
                             nfields, extra);
    emit(line, len);
    errno = saved;
}

void log_write(log_level level, const char *component, const char *msg, const log_field *fields,
               size_t nfields)
{
    write_line(level, component, msg, fields, nfields, NULL);
}

void log_write_limited(log_limit *lim, log_level level, const char *component, const char *msg,
                       const log_field *fields, size_t nfields)
{
    uint64_t now = lo_mono_ms();
    if (lim->window_start_ms == 0 || now - lim->window_start_ms >= LOG_LIMIT_WINDOW_MS) {
        lim->window_start_ms = now ? now : 1;
        lim->in_window = 0;
    }
    if (lim->in_window >= LOG_LIMIT_BURST) {
        lim->suppressed++;
        return;
    }
    lim->in_window++;
    if (lim->suppressed) {
        log_field extra = LF_UINT("suppressed", lim->suppressed);
        lim->suppressed = 0;
        write_line(level, component, msg, fields, nfields, &extra);
        return;
    }
    write_line(level, component, msg, fields, nfields, NULL);
}
