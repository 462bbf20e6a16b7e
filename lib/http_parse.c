/* http_parse.c — request and response heads. A head that arrived whole is
 * read in one pass; otherwise (and for every rejection) the end of the head
 * is found incrementally, then the head is validated once, field by field. */
#include "http_int.h"
#include "common.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* What the framing-relevant fields of a head said, before the rules of
 * requests or responses turn it into an http_framing. */
typedef struct fields {
    bool cl_seen;
    uint64_t cl;
    bool te_seen;
    unsigned te_codings;     /* non-empty list elements */
    unsigned te_chunked;     /* how many of them are exactly "chunked" */
    bool te_last_chunked;
    bool conn_keep_alive;
    bool conn_close;
    bool conn_upgrade;
    unsigned hosts;
    http_str host;
    bool expect_seen;
    bool expect_continue;
    bool upgrade_seen;
    http_str upgrade;
} fields;

void http_head_parser_init(http_head_parser *p, const http_limits *lim)
{
    memset(p, 0, sizeof *p);
    if (lim)
        p->lim = *lim;
    http_limits_fill(&p->lim);
}

void http_head_parser_reset(http_head_parser *p)
{
    p->start = p->line = p->scanned = 0;
    p->lines = 0;
}

/* Scans for the empty line that ends the head, from where the last call
 * stopped. Returns the head length, 0 (need more) or -HTTP_E_.... Leading
 * empty lines are skipped when skip_empty (requests) and refused otherwise. */
static ssize_t scan_head(http_head_parser *p, const char *buf, size_t len, bool skip_empty)
{
    const http_limits *l = &p->lim;
    size_t pos = p->scanned;
    /* The limits are checked on the bytes before an LF before anything else,
     * so that the verdict does not depend on how the input was split. The
     * line limit counts the line without its CRLF. */
    for (;;) {
        const char *nl = pos < len ? memchr(buf + pos, '\n', len - pos) : NULL;
        size_t upto = nl ? (size_t)(nl - buf) : len; /* bytes before the LF */
        if (p->lines == 0 && upto - p->line > (size_t)l->line_max + 1)
            return -HTTP_E_LINE_TOO_LONG;
        if (upto > l->head_max)
            return -HTTP_E_HEAD_TOO_LARGE;
        if (!nl) {
            p->scanned = len;
            return 0;
        }
        size_t i = upto;
        if (i == p->line || buf[i - 1] != '\r')
            return -HTTP_E_BARE_LF;
        size_t line_len = i - 1 - p->line;
        pos = i + 1;
        if (line_len == 0) {
            if (p->lines > 0) {
                if (pos > l->head_max)
                    return -HTTP_E_HEAD_TOO_LARGE;
                return (ssize_t)pos;
            }
            if (!skip_empty)
                return -HTTP_E_STATUS_LINE;
            p->start = p->line = p->scanned = pos;
            continue;
        }
        if (p->lines > l->headers_max)
            return -HTTP_E_TOO_MANY_HEADERS;
        p->lines++;
        p->line = p->scanned = pos;
    }
}

/* ---- field values of interest ---- */

/* Content-Length: one decimal number, or a comma list of identical ones. */
static int parse_content_length(http_str v, fields *f)
{
    size_t i = 0;
    bool any = false;
    for (;;) {
        while (i < v.len && http_is((unsigned char)v.p[i], HTTP_C_WS))
            i++;
        if (i == v.len || v.p[i] < '0' || v.p[i] > '9')
            return -HTTP_E_CL_INVALID;
        uint64_t n = 0;
        while (i < v.len && v.p[i] >= '0' && v.p[i] <= '9') {
            unsigned d = (unsigned)(v.p[i] - '0');
            if (n > (UINT64_MAX - d) / 10)
                return -HTTP_E_CL_INVALID;
            n = n * 10 + d;
            i++;
        }
        if (n > INT64_MAX)
            return -HTTP_E_CL_INVALID;
        if (f->cl_seen && f->cl != n)
            return -HTTP_E_CL_MISMATCH;
        f->cl_seen = true;
        f->cl = n;
        any = true;
        while (i < v.len && http_is((unsigned char)v.p[i], HTTP_C_WS))
            i++;
        if (i == v.len)
            return any ? 0 : -HTTP_E_CL_INVALID;
        if (v.p[i] != ',')
            return -HTTP_E_CL_INVALID;
        i++;
    }
}

/* Transfer-Encoding: counts codings and notes where "chunked" stands. A
 * coding with parameters or odd characters counts as "something else". */
static void parse_transfer_encoding(http_str v, fields *f)
{
    f->te_seen = true;
    size_t pos = 0;
    http_str c;
    while (http_list_next(v, &pos, &c)) {
        f->te_codings++;
        f->te_last_chunked = c.len == 7 && http_ieq_token(c.p, "chunked", 7);
        if (f->te_last_chunked)
            f->te_chunked++;
    }
}

static void parse_connection(http_str v, fields *f)
{
    size_t pos = 0;
    http_str o;
    while (http_list_next(v, &pos, &o)) {
        if (o.len == 5 && http_ieq_token(o.p, "close", 5))
            f->conn_close = true;
        else if (o.len == 10 && http_ieq_token(o.p, "keep-alive", 10))
            f->conn_keep_alive = true;
        else if (o.len == 7 && http_ieq_token(o.p, "upgrade", 7))
            f->conn_upgrade = true;
    }
}

static bool host_valid(http_str v)
{
    for (size_t i = 0; i < v.len; i++)
        if (!http_is((unsigned char)v.p[i], HTTP_C_HOST))
            return false;
    return true;
}

/* Notes the fields that matter for framing and routing. */
static int note_field(const http_header *h, fields *f)
{
    const char *n = h->name.p;
    switch (h->name.len) {
    case 4:
        if (http_ieq_token(n, "host", 4)) {
            f->hosts++;
            f->host = h->value;
        }
        return 0;
    case 6:
        if (http_ieq_token(n, "expect", 6)) {
            f->expect_seen = true;
            f->expect_continue =
                h->value.len == 12 && http_ieq_token(h->value.p, "100-continue", 12);
        }
        return 0;
    case 7:
        if (http_ieq_token(n, "upgrade", 7)) {
            f->upgrade_seen = true;
            f->upgrade = h->value;
        }
        return 0;
    case 10:
        if (http_ieq_token(n, "connection", 10))
            parse_connection(h->value, f);
        return 0;
    case 14:
        if (http_ieq_token(n, "content-length", 14))
            return parse_content_length(h->value, f);
        return 0;
    case 17:
        if (http_ieq_token(n, "transfer-encoding", 17))
            parse_transfer_encoding(h->value, f);
        return 0;
    default:
        return 0;
    }
}

static inline size_t skip_plain(const char *s, size_t j, size_t end);
static inline size_t skip_tchar(const char *s, size_t j, size_t end);

/* Parses the field lines of s[0..n) (each ending in CRLF, the last one the
 * empty line) into hdrs. */
static int parse_fields(const char *s, size_t n, http_header *hdrs, unsigned cap,
                        unsigned *count, fields *f)
{
    unsigned nh = 0;
    size_t i = 0;
    while (i < n) {
        const char *line = s + i;
        if (line[0] == '\r' && line[1] == '\n') {
            *count = nh;
            return 0;
        }
        if (http_is((unsigned char)line[0], HTTP_C_WS))
            return -HTTP_E_OBS_FOLD;
        size_t room = n - i; /* the line's CRLF is inside: every scan stops there */
        size_t j = skip_tchar(line, 0, room);
        if (line[j] != ':') {
            if (http_is((unsigned char)line[j], HTTP_C_WS))
                return -HTTP_E_HEADER_SPACE;
            if (line[j] == '\r' && line[j + 1] != '\n')
                return -HTTP_E_BARE_CR;
            return -HTTP_E_HEADER_NAME;
        }
        if (j == 0)
            return -HTTP_E_HEADER_NAME;
        if (nh == cap)
            return -HTTP_E_TOO_MANY_HEADERS;
        http_header *h = &hdrs[nh++];
        h->name.p = line;
        h->name.len = j;
        j++;
        while (http_is((unsigned char)line[j], HTTP_C_WS))
            j++;
        size_t vb = j;
        /* Fast while the bytes are plain, then byte by byte (HTAB,
         * obs-text) to the CR. */
        j = skip_plain(line, j, room);
        while (http_is((unsigned char)line[j], HTTP_C_VALUE))
            j++;
        if (line[j] != '\r')
            return -HTTP_E_HEADER_VALUE;
        if (line[j + 1] != '\n')
            return -HTTP_E_BARE_CR;
        size_t ve = j;
        while (ve > vb && http_is((unsigned char)line[ve - 1], HTTP_C_WS))
            ve--;
        h->value.p = line + vb;
        h->value.len = ve - vb;
        int rc = note_field(h, f);
        if (rc < 0)
            return rc;
        i += j + 2;
    }
    return -HTTP_E_HEAD_TOO_LARGE; /* not reached: the scan found the end */
}

/* True if the 4 bytes at p are all token characters. */
static inline bool tchar4(const char *p)
{
    return (http_ctype[(unsigned char)p[0]] & http_ctype[(unsigned char)p[1]] &
            http_ctype[(unsigned char)p[2]] & http_ctype[(unsigned char)p[3]] & HTTP_C_TCHAR) != 0;
}

/* The index of the first byte of s[j..end) that is a control character
 * (HTAB included) or DEL, or end. Sixteen bytes at a time where the
 * machine has the instructions (SSE2: every x86-64), then a word at a time
 * (in a word the lowest flagged byte is exact, the borrows only run
 * upwards), then bytes. */
static inline size_t skip_plain(const char *s, size_t j, size_t end)
{
#ifdef __SSE2__
    for (; j + 16 <= end; j += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + j));
        __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
        __m128i del = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(ctl, del));
        if (m)
            return j + (size_t)__builtin_ctz(m);
    }
#endif
    for (; j + 8 <= end; j += 8) {
        uint64_t x = http_word(s + j);
        uint64_t m = http_word_has_below(x, 0x20) | http_word_has(x, 0x7f);
        if (m) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return j + (size_t)(__builtin_ctzll(m) >> 3);
#else
            break;
#endif
        }
    }
    for (; j < end; j++)
        if ((unsigned char)s[j] < 0x20 || (unsigned char)s[j] == 0x7f)
            return j;
    return end;
}

/* The index of the first byte of s[j..end) that is not a token character,
 * or end. With SSE2, sixteen at a time while they are the usual name
 * characters (letters, digits, '-'), stepping over the other token
 * characters one by one; then four at a time, then bytes, by the table. */
static inline size_t skip_tchar(const char *s, size_t j, size_t end)
{
#ifdef __SSE2__
    while (j + 16 <= end) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + j));
        __m128i l = _mm_sub_epi8(_mm_or_si128(v, _mm_set1_epi8(0x20)), _mm_set1_epi8('a'));
        __m128i letter = _mm_cmpeq_epi8(_mm_min_epu8(l, _mm_set1_epi8(25)), l);
        __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
        __m128i digit = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);
        __m128i dash = _mm_cmpeq_epi8(v, _mm_set1_epi8('-'));
        unsigned ok = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(letter, digit), dash));
        if (ok == 0xffff) {
            j += 16;
            continue;
        }
        j += (size_t)__builtin_ctz(~ok);
        if (!http_is((unsigned char)s[j], HTTP_C_TCHAR))
            return j;
        j++;
    }
#endif
    while (j + 4 <= end && tchar4(s + j))
        j += 4;
    while (j < end && http_is((unsigned char)s[j], HTTP_C_TCHAR))
        j++;
    return j;
}

/* The one-pass reading of a head that arrived whole, the common case: each
 * field line is found and validated in the same pass. It only ever accepts
 * what the two-pass reading (scan_head, then parse_fields) accepts, with the
 * same result; anything else (an incomplete head, an irregular byte, a
 * limit reached, a field it would reject) makes it give up and leave the
 * verdict to the two-pass reading, so every rejection keeps its code.
 * Parses the field lines from buf[i..len): the head length, or 0 to give
 * up. A line is token bytes, a colon, whitespace, value bytes (no control
 * but HTAB, no DEL), then CRLF: its first CR or LF is the CRLF that ends
 * it, as the scan would have found it. */
static size_t fast_fields(const char *buf, size_t i, size_t len, http_header *hdrs, unsigned cap,
                          unsigned *count, fields *f)
{
    unsigned nh = 0;
    for (;;) {
        const char *line = buf + i;
        size_t room = len - i;
        if (room < 2)
            return 0;
        if (line[0] == '\r') {
            if (line[1] != '\n')
                return 0;
            *count = nh;
            return i + 2;
        }
        size_t j = skip_tchar(line, 0, room);
        if (j == 0 || j == room || line[j] != ':' || nh == cap)
            return 0;
        http_header *h = &hdrs[nh++];
        h->name.p = line;
        h->name.len = j;
        j++;
        while (j < room && http_is((unsigned char)line[j], HTTP_C_WS))
            j++;
        size_t vb = j;
        for (;;) {
            j = skip_plain(line, j, room);
            if (j == room || line[j] != '\t')
                break;
            j++;
        }
        if (j + 1 >= room || line[j] != '\r' || line[j + 1] != '\n')
            return 0;
        size_t ve = j;
        while (ve > vb && http_is((unsigned char)line[ve - 1], HTTP_C_WS))
            ve--;
        h->value.p = line + vb;
        h->value.len = ve - vb;
        if (note_field(h, f) < 0)
            return 0;
        i += j + 2;
    }
}

/* The first line of a head that starts at buf[0], for the one-pass reading:
 * its length without the CRLF (> 0), or 0 to give up (no complete line, an
 * empty one, a bare LF, over line_max). */
static size_t fast_first_line(const http_head_parser *p, const char *buf, size_t len)
{
    if (p->scanned != 0 || p->lines != 0 || p->start != 0)
        return 0; /* a resumed scan: the two-pass reading carries on */
    const char *nl = len ? memchr(buf, '\n', len) : NULL;
    if (!nl || nl - buf < 2 || nl[-1] != '\r')
        return 0;
    size_t n = (size_t)(nl - buf) - 1;
    return n <= p->lim.line_max ? n : 0;
}

/* "HTTP/1.0" or "HTTP/1.1": the minor version, or -1 if another
 * HTTP/d.d, or -2 if not a version at all. */
static int parse_version(const char *s, size_t n)
{
    if (n != 8 || memcmp(s, "HTTP/", 5) != 0 || s[6] != '.' || s[5] < '0' || s[5] > '9' ||
        s[7] < '0' || s[7] > '9')
        return -2;
    if (s[5] != '1' || (s[7] != '0' && s[7] != '1'))
        return -1;
    return s[7] - '0';
}

http_method http_method_id(const char *m, size_t n)
{
    switch (n) {
    case 3:
        if (!memcmp(m, "GET", 3)) return HTTP_M_GET;
        if (!memcmp(m, "PUT", 3)) return HTTP_M_PUT;
        break;
    case 4:
        if (!memcmp(m, "POST", 4)) return HTTP_M_POST;
        if (!memcmp(m, "HEAD", 4)) return HTTP_M_HEAD;
        break;
    case 5:
        if (!memcmp(m, "PATCH", 5)) return HTTP_M_PATCH;
        if (!memcmp(m, "TRACE", 5)) return HTTP_M_TRACE;
        break;
    case 6:
        if (!memcmp(m, "DELETE", 6)) return HTTP_M_DELETE;
        break;
    case 7:
        if (!memcmp(m, "OPTIONS", 7)) return HTTP_M_OPTIONS;
        if (!memcmp(m, "CONNECT", 7)) return HTTP_M_CONNECT;
        break;
    }
    return HTTP_M_OTHER;
}

/* Classifies the target; fills form, path and (absolute-form) authority. */
static int parse_target(http_request *r, http_str *authority)
{
    static const char slash[] = "/";
    const char *t = r->target.p;
    size_t n = r->target.len;
    authority->p = NULL;
    authority->len = 0;
    if (r->meth == HTTP_M_CONNECT) {
        /* authority-form: host:port and nothing else */
        if (t[0] == '/' || !host_valid(r->target) || !memchr(t, ':', n))
            return -HTTP_E_TARGET;
        r->form = HTTP_TARGET_AUTHORITY;
        r->path.p = t + n;
        r->path.len = 0;
        *authority = r->target;
        return 0;
    }
    if (t[0] == '/') {
        r->form = HTTP_TARGET_ORIGIN;
        r->path = r->target;
        return 0;
    }
    if (n == 1 && t[0] == '*') {
        if (r->meth != HTTP_M_OPTIONS)
            return -HTTP_E_TARGET;
        r->form = HTTP_TARGET_ASTERISK;
        r->path = r->target;
        return 0;
    }
    /* absolute-form: scheme "://" authority [path-abempty] [? query] */
    size_t i = 0;
    if (!((t[0] | 0x20) >= 'a' && (t[0] | 0x20) <= 'z'))
        return -HTTP_E_TARGET;
    while (i < n && (((t[i] | 0x20) >= 'a' && (t[i] | 0x20) <= 'z') ||
                     (t[i] >= '0' && t[i] <= '9') || t[i] == '+' || t[i] == '-' || t[i] == '.'))
        i++;
    if (n - i < 3 || memcmp(t + i, "://", 3) != 0)
        return -HTTP_E_TARGET;
    i += 3;
    size_t a = i;
    while (i < n && t[i] != '/' && t[i] != '?' && t[i] != '#')
        i++;
    authority->p = t + a;
    authority->len = i - a;
    if (authority->len == 0 || !host_valid(*authority))
        return -HTTP_E_TARGET;
    r->form = HTTP_TARGET_ABSOLUTE;
    if (i == n) {
        r->path.p = slash;
        r->path.len = 1;
    } else {
        r->path.p = t + i;
        r->path.len = n - i;
    }
    return 0;
}

/* method SP request-target SP HTTP-version, in s[0..n). */
static int parse_request_line(const char *s, size_t n, http_request *r)
{
    size_t i = 0;
    while (i < n && http_is((unsigned char)s[i], HTTP_C_TCHAR))
        i++;
    if (i == n)
        return -HTTP_E_REQUEST_LINE;
    if (s[i] != ' ') {
        if (s[i] == '\r')
            return -HTTP_E_BARE_CR;
        return http_is((unsigned char)s[i], HTTP_C_WS) ? -HTTP_E_REQUEST_LINE : -HTTP_E_METHOD;
    }
    if (i == 0)
        return -HTTP_E_REQUEST_LINE;
    r->method.p = s;
    r->method.len = i;
    r->meth = http_method_id(s, i);
    size_t tb = ++i;
    while (i < n && http_is((unsigned char)s[i], HTTP_C_TARGET))
        i++;
    if (i == n)
        return -HTTP_E_REQUEST_LINE;
    if (s[i] != ' ') {
        if (s[i] == '\r')
            return -HTTP_E_BARE_CR;
        return -HTTP_E_TARGET;
    }
    if (i == tb)
        return -HTTP_E_REQUEST_LINE;
    r->target.p = s + tb;
    r->target.len = i - tb;
    i++;
    int minor = parse_version(s + i, n - i);
    if (minor == -1)
        return -HTTP_E_VERSION;
    if (minor < 0)
        return memchr(s + i, '\r', n - i) ? -HTTP_E_BARE_CR : -HTTP_E_REQUEST_LINE;
    r->minor = minor;
    return 0;
}

/* Runs scan_head and returns the start and end of the complete head. */
static ssize_t find_head(http_head_parser *p, const char *buf, size_t len, bool request,
                         size_t *start)
{
    ssize_t end = scan_head(p, buf, len, request);
    *start = p->start;
    if (end != 0)
        http_head_parser_reset(p);
    return end;
}

/* The field lines after a first line of n bytes, read in one pass within
 * the parser's limits: the head length, or 0 to give up. */
static size_t fast_rest(const http_head_parser *p, const char *buf, size_t len, size_t n,
                        http_header *hdrs, unsigned hcap, unsigned *count, fields *f)
{
    size_t end = fast_fields(buf, n + 2, len, hdrs, LO_MIN(hcap, p->lim.headers_max), count, f);
    return end <= p->lim.head_max ? end : 0;
}

/* The one-pass reading of a request head (see fast_fields): the head
 * length with the request line and fields parsed, or 0 to give up. */
static size_t fast_request(const http_head_parser *p, const char *buf, size_t len,
                           http_request *r, fields *f)
{
    size_t n = fast_first_line(p, buf, len);
    if (n == 0 || parse_request_line(buf, n, r) < 0)
        return 0;
    return fast_rest(p, buf, len, n, r->headers, r->headers_cap, &r->nheaders, f);
}

ssize_t http_parse_request(http_head_parser *p, const char *buf, size_t len, http_request *r)
{
    fields f;
    memset(&f, 0, sizeof f);
    size_t start = 0;
    ssize_t end = (ssize_t)fast_request(p, buf, len, r, &f);
    if (end == 0) {
        memset(&f, 0, sizeof f);
        end = find_head(p, buf, len, true, &start);
        if (end <= 0)
            return end;
        const char *s = buf + start;
        const char *eol = memchr(s, '\n', (size_t)end - start); /* found by the scan */
        size_t line_len = (size_t)(eol - s) - 1;
        int rc = parse_request_line(s, line_len, r);
        if (rc < 0)
            return rc;
        unsigned cap = LO_MIN(r->headers_cap, p->lim.headers_max);
        rc = parse_fields(eol + 1, (size_t)(buf + end - (eol + 1)), r->headers, cap,
                          &r->nheaders, &f);
        if (rc < 0)
            return rc;
    }
    const char *s = buf + start;
    http_str authority;
    int rc = parse_target(r, &authority);
    if (rc < 0)
        return rc;

    if (f.hosts > 1)
        return -HTTP_E_HOST_DUPLICATE;
    if (f.hosts == 1 && !host_valid(f.host))
        return -HTTP_E_HOST_INVALID;
    if (f.hosts == 0 && r->minor == 1)
        return -HTTP_E_HOST_MISSING;
    r->host = authority.p ? authority : f.host;
    if (!r->host.p)
        r->host.p = s;

    http_framing *fr = &r->f;
    memset(fr, 0, sizeof *fr);
    fr->conn_close = f.conn_close;
    fr->conn_upgrade = f.conn_upgrade;
    if (f.te_seen) {
        if (r->minor == 0)
            return -HTTP_E_TE_HTTP10;
        if (f.cl_seen)
            return -HTTP_E_CL_AND_TE;
        if (!f.te_last_chunked)
            return -HTTP_E_TE_NOT_CHUNKED;
        if (f.te_codings != 1)
            return -HTTP_E_TE_UNSUPPORTED;
        fr->body = HTTP_BODY_CHUNKED;
    } else if (f.cl_seen) {
        if (f.cl > p->lim.body_max)
            return -HTTP_E_BODY_TOO_LARGE;
        fr->body = HTTP_BODY_LENGTH;
        fr->content_length = f.cl;
    } else {
        fr->body = HTTP_BODY_NONE;
    }
    fr->keep_alive = r->minor == 1 ? !f.conn_close : (f.conn_keep_alive && !f.conn_close);
    r->expect_continue = r->minor == 1 && f.expect_continue;
    r->expect_other = r->minor == 1 && f.expect_seen && !f.expect_continue;
    r->upgrade = r->minor == 1 && f.conn_upgrade && f.upgrade_seen;
    r->upgrade_proto = f.upgrade_seen ? f.upgrade : (http_str){ s, 0 };
    r->head_len = (size_t)end;
    return end;
}

/* HTTP-version SP 3DIGIT [SP reason-phrase], in s[0..n). The space before
 * an empty reason may be missing (as many servers send). */
static int parse_status_line(const char *s, size_t n, http_response *r)
{
    if (n < 12 || s[8] != ' ') {
        if (memchr(s, '\r', n))
            return -HTTP_E_BARE_CR;
        return n >= 8 && parse_version(s, 8) == -1 ? -HTTP_E_VERSION : -HTTP_E_STATUS_LINE;
    }
    int minor = parse_version(s, 8);
    if (minor == -1)
        return -HTTP_E_VERSION;
    if (minor < 0)
        return -HTTP_E_STATUS_LINE;
    r->minor = minor;
    int code = 0;
    for (int i = 9; i < 12; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -HTTP_E_STATUS_LINE;
        code = code * 10 + (s[i] - '0');
    }
    if (code < 100)
        return -HTTP_E_STATUS_LINE;
    r->status = code;
    r->reason.p = s + n;
    r->reason.len = 0;
    if (n == 12)
        return 0;
    if (s[12] != ' ')
        return -HTTP_E_STATUS_LINE;
    for (size_t i = 13; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!http_is(c, HTTP_C_VALUE))
            return c == '\r' ? -HTTP_E_BARE_CR : -HTTP_E_STATUS_LINE;
    }
    r->reason.p = s + 13;
    r->reason.len = n - 13;
    return 0;
}

/* The one-pass reading of a response head, as fast_request. */
static size_t fast_response(const http_head_parser *p, const char *buf, size_t len,
                            http_response *r, fields *f)
{
    size_t n = fast_first_line(p, buf, len);
    if (n == 0 || parse_status_line(buf, n, r) < 0)
        return 0;
    return fast_rest(p, buf, len, n, r->headers, r->headers_cap, &r->nheaders, f);
}

ssize_t http_parse_response(http_head_parser *p, const char *buf, size_t len, bool head_request,
                            http_response *r)
{
    fields f;
    memset(&f, 0, sizeof f);
    ssize_t end = (ssize_t)fast_response(p, buf, len, r, &f);
    if (end == 0) {
        memset(&f, 0, sizeof f);
        size_t start;
        end = find_head(p, buf, len, false, &start);
        if (end <= 0)
            return end;
        const char *s = buf + start;
        const char *eol = memchr(s, '\n', (size_t)end - start);
        int rc = parse_status_line(s, (size_t)(eol - s) - 1, r);
        if (rc < 0)
            return rc;
        unsigned cap = LO_MIN(r->headers_cap, p->lim.headers_max);
        rc = parse_fields(eol + 1, (size_t)(buf + end - (eol + 1)), r->headers, cap,
                          &r->nheaders, &f);
        if (rc < 0)
            return rc;
    }

    http_framing *fr = &r->f;
    memset(fr, 0, sizeof *fr);
    fr->conn_close = f.conn_close;
    fr->conn_upgrade = f.conn_upgrade;
    if (f.te_seen && r->minor == 0)
        return -HTTP_E_TE_HTTP10;
    if (f.te_seen && f.cl_seen)
        return -HTTP_E_CL_AND_TE;
    if (http_response_bodiless(r->status, head_request)) {
        fr->body = HTTP_BODY_NONE;
    } else if (f.te_seen) {
        fr->body = f.te_last_chunked ? HTTP_BODY_CHUNKED : HTTP_BODY_CLOSE;
        fr->te_other = f.te_codings != f.te_chunked || f.te_chunked > 1;
        if (f.te_chunked > 1 && f.te_last_chunked)
            return -HTTP_E_TE_UNSUPPORTED; /* chunked applied twice */
    } else if (f.cl_seen) {
        if (f.cl > p->lim.body_max)
            return -HTTP_E_BODY_TOO_LARGE;
        fr->body = HTTP_BODY_LENGTH;
        fr->content_length = f.cl;
    } else {
        fr->body = HTTP_BODY_CLOSE;
    }
    fr->keep_alive = r->minor == 1 ? !f.conn_close : (f.conn_keep_alive && !f.conn_close);
    if (fr->body == HTTP_BODY_CLOSE || r->status == 101)
        fr->keep_alive = false;
    r->head_len = (size_t)end;
    return end;
}

/* ---- relocation ---- */

static void move_str(http_str *s, uintptr_t old, uintptr_t nb, size_t len)
{
    uintptr_t p = (uintptr_t)s->p;
    if (p >= old && p <= old + len)
        s->p = (const char *)(nb + (p - old));
}

static void move_headers(http_header *h, unsigned n, uintptr_t old, uintptr_t nb, size_t len)
{
    for (unsigned i = 0; i < n; i++) {
        move_str(&h[i].name, old, nb, len);
        move_str(&h[i].value, old, nb, len);
    }
}

void http_request_move(http_request *r, const char *old_base, const char *new_base, size_t len)
{
    uintptr_t o = (uintptr_t)old_base, n = (uintptr_t)new_base;
    move_str(&r->method, o, n, len);
    move_str(&r->target, o, n, len);
    move_str(&r->path, o, n, len);
    move_str(&r->host, o, n, len);
    move_str(&r->upgrade_proto, o, n, len);
    move_headers(r->headers, r->nheaders, o, n, len);
}

void http_response_move(http_response *r, const char *old_base, const char *new_base, size_t len)
{
    uintptr_t o = (uintptr_t)old_base, n = (uintptr_t)new_base;
    move_str(&r->reason, o, n, len);
    move_headers(r->headers, r->nheaders, o, n, len);
}
