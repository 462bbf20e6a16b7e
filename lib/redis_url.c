/* redis_url.c — redis:// and rediss:// URL parsing (see redis_url.h). */
#include "redis_url.h"
#include "common.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Percent-decodes s[0..n) into a new string; NULL on a bad escape or NUL. */
static char *pct_decode(const char *s, size_t n)
{
    char *out = xmalloc(n + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            *o++ = s[i];
            continue;
        }
        int hi = i + 1 < n ? hexval(s[i + 1]) : -1;
        int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            free(out);
            return NULL;
        }
        *o++ = (char)(hi * 16 + lo);
        i += 2;
    }
    *o = '\0';
    return out;
}

/* Parses a decimal in [min, max] from s[0..n). */
static bool parse_int(const char *s, size_t n, long min, long max, int *out)
{
    if (n == 0 || n > 9)
        return false;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    if (v < min || v > max)
        return false;
    *out = (int)v;
    return true;
}

static int parse_userinfo(const char *s, size_t n, rds_url *u, char *err, size_t errlen)
{
    const char *colon = memchr(s, ':', n);
    if (!colon)
        return fail(err, errlen, "user \"%.*s\" given without a password (use user:password@)",
                    (int)n, s);
    size_t ulen = (size_t)(colon - s);
    if (ulen > 0 && !(u->user = pct_decode(s, ulen)))
        return fail(err, errlen, "bad percent-escape in user name");
    if (!(u->password = pct_decode(colon + 1, n - ulen - 1)))
        return fail(err, errlen, "bad percent-escape in password");
    if (!*u->password)
        return fail(err, errlen, "empty password");
    return 0;
}

static int parse_hostport(const char *s, size_t n, rds_url *u, char *err, size_t errlen)
{
    const char *host = s, *rest;
    size_t hlen;
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close)
            return fail(err, errlen, "missing ']' after IPv6 address");
        host = s + 1;
        hlen = (size_t)(close - host);
        rest = close + 1;
    } else {
        const char *colon = memchr(s, ':', n);
        hlen = colon ? (size_t)(colon - s) : n;
        rest = s + hlen;
    }
    if (hlen == 0)
        return fail(err, errlen, "missing host");
    for (size_t i = 0; i < hlen; i++) {
        unsigned char ch = (unsigned char)host[i];
        if (!(isalnum(ch) || ch == '.' || ch == '-' || ch == '_' || (s[0] == '[' && ch == ':')))
            return fail(err, errlen, "bad character '%c' in host", ch);
    }
    size_t rlen = (size_t)(s + n - rest);
    u->port = RDS_DEFAULT_PORT;
    if (rlen > 0) {
        if (rest[0] != ':')
            return fail(err, errlen, "unexpected text after host: \"%.*s\"", (int)rlen, rest);
        if (!parse_int(rest + 1, rlen - 1, 1, 65535, &u->port))
            return fail(err, errlen, "bad port \"%.*s\" (want 1-65535)", (int)(rlen - 1), rest + 1);
    }
    u->host = xstrndup(host, hlen);
    return 0;
}

static bool parse_bool(const char *v, bool *out)
{
    if (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes")) {
        *out = true;
        return true;
    }
    if (!strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no")) {
        *out = false;
        return true;
    }
    return false;
}

static int parse_option(const char *s, size_t n, rds_url *u, char *err, size_t errlen)
{
    const char *eq = memchr(s, '=', n);
    if (!eq)
        return fail(err, errlen, "option \"%.*s\" has no value", (int)n, s);
    size_t klen = (size_t)(eq - s);
    char *v = pct_decode(eq + 1, n - klen - 1);
    if (!v)
        return fail(err, errlen, "bad percent-escape in option \"%.*s\"", (int)klen, s);
    char **slot = NULL;
    int rc = 0;
    if (klen == 7 && !memcmp(s, "ca_file", 7))
        slot = &u->ca_file;
    else if (klen == 9 && !memcmp(s, "cert_file", 9))
        slot = &u->cert_file;
    else if (klen == 8 && !memcmp(s, "key_file", 8))
        slot = &u->key_file;
    else if (klen == 11 && !memcmp(s, "server_name", 11))
        slot = &u->server_name;
    else if (klen == 8 && !memcmp(s, "insecure", 8)) {
        if (!parse_bool(v, &u->insecure))
            rc = fail(err, errlen, "insecure=%s: want true or false", v);
    } else {
        rc = fail(err, errlen, "unknown option \"%.*s\"", (int)klen, s);
    }
    if (rc == 0 && !u->tls)
        rc = fail(err, errlen, "option \"%.*s\" needs a rediss:// URL", (int)klen, s);
    if (rc == 0 && slot) {
        if (!*v)
            rc = fail(err, errlen, "option \"%.*s\" is empty", (int)klen, s);
        else if (*slot)
            rc = fail(err, errlen, "option \"%.*s\" given twice", (int)klen, s);
        else {
            *slot = v;
            v = NULL;
        }
    }
    free(v);
    return rc;
}

static int parse_query(const char *s, size_t n, rds_url *u, char *err, size_t errlen)
{
    while (n > 0) {
        const char *amp = memchr(s, '&', n);
        size_t len = amp ? (size_t)(amp - s) : n;
        if (len > 0) {
            int rc = parse_option(s, len, u, err, errlen);
            if (rc < 0)
                return rc;
        }
        if (!amp)
            break;
        n -= len + 1;
        s = amp + 1;
    }
    return 0;
}

static int parse(const char *url, rds_url *u, char *err, size_t errlen)
{
    size_t total = strlen(url);
    if (total > RDS_URL_MAX)
        return fail(err, errlen, "URL longer than %d bytes", RDS_URL_MAX);
    const char *p;
    if (!strncasecmp(url, "redis://", 8)) {
        p = url + 8;
    } else if (!strncasecmp(url, "rediss://", 9)) {
        p = url + 9;
        u->tls = true;
    } else {
        return fail(err, errlen, "URL must start with redis:// or rediss://");
    }
    for (const char *q = url; *q; q++)
        if ((unsigned char)*q <= ' ' || *q == 0x7f)
            return fail(err, errlen, "URL contains a space or control character");
    if (strchr(p, '#'))
        return fail(err, errlen, "URL fragments ('#') are not allowed");
    size_t alen = strcspn(p, "/?");
    const char *at = NULL;
    for (const char *q = p; q < p + alen; q++)
        if (*q == '@')
            at = q; /* the last '@' ends the userinfo */
    int rc;
    if (at && (rc = parse_userinfo(p, (size_t)(at - p), u, err, errlen)) < 0)
        return rc;
    const char *hp = at ? at + 1 : p;
    if ((rc = parse_hostport(hp, (size_t)(p + alen - hp), u, err, errlen)) < 0)
        return rc;
    p += alen;
    if (*p == '/') {
        size_t dlen = strcspn(p + 1, "?");
        if (dlen > 0 && !parse_int(p + 1, dlen, 0, RDS_DB_MAX, &u->db))
            return fail(err, errlen, "bad database \"%.*s\" (want 0-%d)", (int)dlen, p + 1,
                        RDS_DB_MAX);
        p += 1 + dlen;
    }
    if (*p == '?')
        return parse_query(p + 1, strlen(p + 1), u, err, errlen);
    return 0;
}

int rds_url_parse(const char *url, rds_url *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof *u);
    if (!url)
        return fail(err, errlen, "no URL");
    int rc = parse(url, u, err, errlen);
    if (rc == 0 && (!u->cert_file) != (!u->key_file))
        rc = fail(err, errlen, "cert_file and key_file go together");
    if (rc < 0)
        rds_url_free(u);
    return rc;
}

void rds_url_free(rds_url *u)
{
    if (!u)
        return;
    free(u->host);
    free(u->user);
    free(u->password);
    free(u->ca_file);
    free(u->cert_file);
    free(u->key_file);
    free(u->server_name);
    memset(u, 0, sizeof *u);
}
