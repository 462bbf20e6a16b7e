/* config_parse.c — the pure value parsers of config.h: durations, sizes,
 * booleans, integers and host:port. */
#include "config.h"
#include "common.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NS_PER_MS 1000000ull
#define DURATION_FRAC_DIGITS_MAX 9

int cfg_parse_int(const char *s, long long *out)
{
    if (!s || !*s || isspace((unsigned char)s[0]))
        return -EINVAL;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0')
        return -EINVAL;
    if (errno == ERANGE)
        return -ERANGE;
    *out = v;
    return 0;
}

int cfg_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = { "true", "1", "yes", "on" };
    static const char *const no[] = { "false", "0", "no", "off" };
    if (!s)
        return -EINVAL;
    for (size_t i = 0; i < LO_ARRAY_SIZE(yes); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -EINVAL;
}

/* Reads digits at *p into *v (overflow: -ERANGE); returns the digit count. */
static int read_digits(const char **p, uint64_t *v, int *count)
{
    *v = 0;
    *count = 0;
    while (**p >= '0' && **p <= '9') {
        uint64_t d = (uint64_t)(**p - '0');
        if (*v > (UINT64_MAX - d) / 10)
            return -ERANGE;
        *v = *v * 10 + d;
        (*p)++;
        (*count)++;
    }
    return 0;
}

int cfg_parse_duration_ms(const char *s, uint64_t *out_ms)
{
    static const struct {
        const char *unit;
        uint64_t ns;
    } units[] = {
        /* "ms" before "m": the longest match wins. */
        { "ms", NS_PER_MS },
        { "s", 1000 * NS_PER_MS },
        { "m", 60000 * NS_PER_MS },
        { "h", 3600000 * NS_PER_MS },
    };
    if (!s || !*s)
        return -EINVAL;
    if (strcmp(s, "0") == 0) {
        *out_ms = 0;
        return 0;
    }
    const char *p = s;
    uint64_t total_ns = 0;
    while (*p) {
        uint64_t ip = 0, fp = 0;
        int idigits = 0, fdigits = 0, rc;
        if ((rc = read_digits(&p, &ip, &idigits)) < 0)
            return rc;
        if (*p == '.') {
            p++;
            const char *f0 = p;
            if ((rc = read_digits(&p, &fp, &fdigits)) < 0)
                return rc;
            if (fdigits > DURATION_FRAC_DIGITS_MAX || p == f0)
                return -EINVAL;
        }
        if (idigits + fdigits == 0)
            return -EINVAL;
        size_t u;
        for (u = 0; u < LO_ARRAY_SIZE(units); u++) {
            size_t ul = strlen(units[u].unit);
            if (strncmp(p, units[u].unit, ul) == 0 && !isalpha((unsigned char)p[ul]))
                break;
        }
        if (u == LO_ARRAY_SIZE(units))
            return -EINVAL;
        p += strlen(units[u].unit);
        uint64_t ns;
        if (__builtin_mul_overflow(ip, units[u].ns, &ns))
            return -ERANGE;
        if (fdigits) {
            /* fp / 10^fdigits of a unit, in whole nanoseconds (units are
             * whole milliseconds, so 10^6 always divides them). */
            uint64_t per = units[u].ns / NS_PER_MS; /* ms per unit, <= 3.6e6 */
            uint64_t pow10 = 1;
            for (int i = 0; i < fdigits; i++)
                pow10 *= 10;
            uint64_t frac;
            if (fdigits <= 6) {
                frac = fp * per * NS_PER_MS; /* fp < 10^6: below 3.6e18 */
            } else {
                frac = fp * per; /* fp < 10^9: cancel the 10^6 first */
                pow10 /= NS_PER_MS;
            }
            if (frac % pow10 != 0)
                return -EINVAL; /* finer than a nanosecond */
            frac /= pow10;
            if (__builtin_add_overflow(ns, frac, &ns))
                return -ERANGE;
        }
        if (__builtin_add_overflow(total_ns, ns, &total_ns))
            return -ERANGE;
    }
    if (total_ns % NS_PER_MS != 0)
        return -EINVAL; /* a fraction of a millisecond */
    *out_ms = total_ns / NS_PER_MS;
    return 0;
}

int cfg_parse_size(const char *s, uint64_t *out_bytes)
{
    static const struct {
        const char *unit;
        uint64_t mult;
    } units[] = {
        { "", 1 },           { "B", 1 },
        { "k", 1ull << 10 }, { "K", 1ull << 10 }, { "Ki", 1ull << 10 }, { "KiB", 1ull << 10 },
        { "m", 1ull << 20 }, { "M", 1ull << 20 }, { "Mi", 1ull << 20 }, { "MiB", 1ull << 20 },
        { "g", 1ull << 30 }, { "G", 1ull << 30 }, { "Gi", 1ull << 30 }, { "GiB", 1ull << 30 },
        { "T", 1ull << 40 }, { "Ti", 1ull << 40 }, { "TiB", 1ull << 40 },
        { "KB", 1000ull },   { "MB", 1000000ull }, { "GB", 1000000000ull },
        { "TB", 1000000000000ull },
    };
    if (!s)
        return -EINVAL;
    const char *p = s;
    uint64_t v;
    int digits, rc;
    if ((rc = read_digits(&p, &v, &digits)) < 0)
        return rc;
    if (digits == 0)
        return -EINVAL;
    for (size_t u = 0; u < LO_ARRAY_SIZE(units); u++) {
        if (strcmp(p, units[u].unit) == 0) {
            if (__builtin_mul_overflow(v, units[u].mult, out_bytes))
                return -ERANGE;
            return 0;
        }
    }
    return -EINVAL;
}

static bool valid_host_name(const char *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)h[i];
        if (!isalnum(c) && c != '.' && c != '-' && c != '_')
            return false;
    }
    return true;
}

int cfg_parse_hostport(const char *s, cfg_hostport *out)
{
    const char *host, *port;
    size_t hlen;
    if (!s || strlen(s) > 300)
        return -EINVAL;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return -EINVAL;
        host = s + 1;
        hlen = (size_t)(close - host);
        port = close + 2;
        char v6[64];
        unsigned char bin[16];
        if (hlen == 0 || hlen >= sizeof v6)
            return -EINVAL;
        memcpy(v6, host, hlen);
        v6[hlen] = '\0';
        if (inet_pton(AF_INET6, v6, bin) != 1)
            return -EINVAL;
    } else {
        const char *colon = strrchr(s, ':');
        if (!colon)
            return -EINVAL;
        host = s;
        hlen = (size_t)(colon - s);
        port = colon + 1;
        if (!valid_host_name(host, hlen) || hlen > 253)
            return -EINVAL; /* includes an unbracketed IPv6 address */
    }
    size_t plen = strlen(port);
    if (plen == 0 || plen > 5 || strspn(port, "0123456789") != plen)
        return -EINVAL;
    long p = strtol(port, NULL, 10);
    if (p > 65535)
        return -ERANGE;
    out->host = xstrndup(host, hlen);
    out->port = (int)p;
    return 0;
}

void cfg_hostport_free(cfg_hostport *hp)
{
    if (!hp)
        return;
    free(hp->host);
    hp->host = NULL;
    hp->port = 0;
}
