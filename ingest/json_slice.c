/* json_slice.c — raw compact slices of top-level members (see json_slice.h). */
#include "json_slice.h"

#include <string.h>

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static bool is_num_char(char c)
{
    return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-';
}

static size_t skip_ws(const char *t, size_t len, size_t i)
{
    while (i < len && is_ws(t[i]))
        i++;
    return i;
}

/* i at an opening quote; returns the index after the closing quote, or len. */
static size_t skip_string(const char *t, size_t len, size_t i)
{
    for (i++; i < len; i++) {
        if (t[i] == '\\')
            i++;
        else if (t[i] == '"')
            return i + 1;
    }
    return len;
}

/* i at the start of a value; returns the index just after it, or len. */
static size_t skip_value(const char *t, size_t len, size_t i)
{
    int depth = 0;
    while (i < len) {
        char c = t[i];
        if (c == '"') {
            i = skip_string(t, len, i);
            if (depth == 0)
                return i;
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                return i; /* end of the enclosing container: scalar ended */
            if (--depth == 0)
                return i + 1;
        } else if (depth == 0 && (c == ',' || is_ws(c))) {
            return i;
        }
        i++;
    }
    return len;
}

/* True if v[0..n) is what a compact dump of its parsed value prints. */
static bool canonical(const char *v, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)v[i];
        if (c == '"') {
            for (i++; i < n && v[i] != '"'; i++) {
                unsigned char s = (unsigned char)v[i];
                if (s == '\\' || s < 0x20 || s == 0x7f)
                    return false; /* a dump may escape it differently */
            }
            if (i >= n)
                return false;
            i++;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            if (c == '-' && i + 1 < n && v[i + 1] == '0')
                return false; /* -0 dumps as 0 */
            for (i++; i < n && is_num_char(v[i]); i++)
                if (v[i] == '.' || v[i] == 'e' || v[i] == 'E')
                    return false; /* a real: its dump may differ */
        } else if (is_ws((char)c)) {
            return false;
        } else {
            i++;
        }
    }
    return true;
}

bool ingest_json_is_compact(const char *v, size_t n) { return canonical(v, n); }

bool ingest_json_compact_member(const char *text, size_t len, const char *key,
                                const char **val, size_t *vlen)
{
    size_t kl = strlen(key), i = skip_ws(text, len, 0);
    if (i >= len || text[i] != '{')
        return false;
    i = skip_ws(text, len, i + 1);
    while (i < len && text[i] == '"') {
        size_t ks = i + 1, ke = skip_string(text, len, i);
        if (ke >= len)
            return false;
        bool match = ke - 1 - ks == kl && memcmp(text + ks, key, kl) == 0;
        i = skip_ws(text, len, ke);
        if (i >= len || text[i] != ':')
            return false;
        i = skip_ws(text, len, i + 1);
        size_t vs = i;
        i = skip_value(text, len, i);
        if (i > len || i == vs)
            return false;
        if (match) {
            if (!canonical(text + vs, i - vs))
                return false;
            *val = text + vs;
            *vlen = i - vs;
            return true;
        }
        i = skip_ws(text, len, i);
        if (i >= len || text[i] != ',')
            return false;
        i = skip_ws(text, len, i + 1);
    }
    return false;
}

/* ---- a validating scan of the common, simple case ---- */

typedef struct scan {
    const char *p, *end;
} scan;

static void scan_ws(scan *s)
{
    while (s->p < s->end && is_ws(*s->p))
        s->p++;
}

static bool scan_value(scan *s, int depth, int max_depth);

/* At an opening bracket: consumes it and the whitespace after it; true if
 * the closing bracket follows at once (consumed too: the container is empty). */
static inline bool scan_open_empty(scan *s, char close)
{
    s->p++;
    scan_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        return true;
    }
    return false;
}

enum { SCAN_BAD = -1, SCAN_MORE, SCAN_CLOSED };

/* After a member or element: consumes a ',' and the whitespace after it
 * (SCAN_MORE) or the closing bracket (SCAN_CLOSED); SCAN_BAD otherwise. */
static inline int scan_after_item(scan *s, char close)
{
    scan_ws(s);
    if (s->p >= s->end)
        return SCAN_BAD;
    if (*s->p == close) {
        s->p++;
        return SCAN_CLOSED;
    }
    if (*s->p != ',')
        return SCAN_BAD;
    s->p++;
    scan_ws(s);
    return SCAN_MORE;
}

/* At an opening quote: a string of printable ASCII without escapes. */
static bool scan_string(scan *s, const char **start, size_t *len)
{
    const char *q = ++s->p;
    while (q < s->end && *q != '"') {
        unsigned char c = (unsigned char)*q;
        if (c < 0x20 || c >= 0x7f || c == '\\')
            return false;
        q++;
    }
    if (q >= s->end)
        return false;
    *start = s->p;
    *len = (size_t)(q - s->p);
    s->p = q + 1;
    return true;
}

/* -?(0|[1-9][0-9]{0,17}) not followed by a fraction or exponent. */
static bool scan_int(scan *s, int64_t *v)
{
    bool neg = *s->p == '-';
    const char *q = s->p + neg;
    int64_t x = 0;
    size_t digits = 0;
    if (q >= s->end || *q < '0' || *q > '9')
        return false;
    if (*q == '0') {
        q++;
        digits = 1;
    } else {
        while (q < s->end && *q >= '0' && *q <= '9') {
            if (++digits > 18)
                return false;
            x = x * 10 + (*q - '0');
            q++;
        }
    }
    if (q < s->end && (*q == '.' || *q == 'e' || *q == 'E' || (*q >= '0' && *q <= '9')))
        return false;
    *v = neg ? -x : x;
    s->p = q;
    return true;
}

static bool scan_literal(scan *s, const char *lit)
{
    size_t l = strlen(lit);
    if ((size_t)(s->end - s->p) < l || memcmp(s->p, lit, l) != 0)
        return false;
    s->p += l;
    return true;
}

/* At '{'. want (n entries) is filled for this object's members, if given. */
static bool scan_object(scan *s, int depth, int max_depth, ingest_json_member *want, size_t n)
{
    const char *keys[INGEST_JSON_SCAN_KEYS_MAX];
    size_t klen[INGEST_JSON_SCAN_KEYS_MAX], nk = 0;
    if (scan_open_empty(s, '}'))
        return true;
    for (;;) {
        if (s->p >= s->end || *s->p != '"' || nk == INGEST_JSON_SCAN_KEYS_MAX)
            return false;
        if (!scan_string(s, &keys[nk], &klen[nk]))
            return false;
        for (size_t i = 0; i < nk; i++)
            if (klen[i] == klen[nk] && memcmp(keys[i], keys[nk], klen[nk]) == 0)
                return false; /* duplicate: the full parser rejects it */
        const char *key = keys[nk];
        size_t kl = klen[nk++];
        scan_ws(s);
        if (s->p >= s->end || *s->p != ':')
            return false;
        s->p++;
        scan_ws(s);
        ingest_json_member *m = NULL;
        for (size_t i = 0; i < n && !m; i++)
            if (strlen(want[i].key) == kl && memcmp(want[i].key, key, kl) == 0)
                m = &want[i];
        const char *vs = s->p;
        if (s->p >= s->end)
            return false;
        if (m && *s->p == '"') {
            if (!scan_string(s, &m->val, &m->len))
                return false;
            m->kind = INGEST_JSON_STRING;
        } else if (m && (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))) {
            if (!scan_int(s, &m->ival))
                return false;
            m->kind = INGEST_JSON_INT;
            m->val = vs;
            m->len = (size_t)(s->p - vs);
        } else {
            if (!scan_value(s, depth + 1, max_depth))
                return false;
            if (m) {
                m->kind = *vs == '{' ? INGEST_JSON_OBJECT : INGEST_JSON_OTHER;
                m->val = vs;
                m->len = (size_t)(s->p - vs);
            }
        }
        int next = scan_after_item(s, '}');
        if (next != SCAN_MORE)
            return next == SCAN_CLOSED;
    }
}

static bool scan_array(scan *s, int depth, int max_depth)
{
    if (scan_open_empty(s, ']'))
        return true;
    for (;;) {
        if (!scan_value(s, depth + 1, max_depth))
            return false;
        int next = scan_after_item(s, ']');
        if (next != SCAN_MORE)
            return next == SCAN_CLOSED;
    }
}

/* A value at nesting level depth (if it is an object or array). */
static bool scan_value(scan *s, int depth, int max_depth)
{
    const char *str;
    size_t sl;
    int64_t v;
    if (s->p >= s->end)
        return false;
    switch (*s->p) {
    case '{':
        return depth <= max_depth && scan_object(s, depth, max_depth, NULL, 0);
    case '[':
        return depth <= max_depth && scan_array(s, depth, max_depth);
    case '"':
        return scan_string(s, &str, &sl);
    case 't':
        return scan_literal(s, "true");
    case 'f':
        return scan_literal(s, "false");
    case 'n':
        return scan_literal(s, "null");
    default:
        return scan_int(s, &v);
    }
}

bool ingest_json_scan_object(const char *text, size_t len, int max_depth,
                             ingest_json_member *want, size_t n)
{
    scan s = { text, text + len };
    for (size_t i = 0; i < n; i++) {
        want[i].kind = INGEST_JSON_MISSING;
        want[i].val = NULL;
        want[i].len = 0;
        want[i].ival = 0;
    }
    scan_ws(&s);
    if (max_depth > INGEST_JSON_SCAN_DEPTH_MAX)
        max_depth = INGEST_JSON_SCAN_DEPTH_MAX;
    if (s.p >= s.end || *s.p != '{' || max_depth < 1 ||
        !scan_object(&s, 1, max_depth, want, n))
        return false;
    scan_ws(&s);
    return s.p == s.end;
}
