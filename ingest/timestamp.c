/* timestamp.c — Unix seconds/ms and RFC 3339 timestamps to milliseconds. */
#include "timestamp.h"

#include <stdlib.h>
#include <errno.h>
#include <stdbool.h>

int ingest_ts_from_int(long long v, int64_t *ms)
{
    if (v < 0)
        return -ERANGE;
    if (v < INGEST_TS_SECONDS_BELOW) {
        *ms = (int64_t)v * 1000;
        return 0;
    }
    if (v > INGEST_TS_MAX_MS)
        return -ERANGE;
    *ms = (int64_t)v;
    return 0;
}

/* Reads exactly n digits at s[*i]; -1 if they are not all digits. */
static int digits(const char *s, size_t len, size_t *i, int n)
{
    int v = 0;
    if (*i + (size_t)n > len)
        return -1;
    for (int k = 0; k < n; k++) {
        char c = s[*i + (size_t)k];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *i += (size_t)n;
    return v;
}

static bool expect(const char *s, size_t len, size_t *i, char c)
{
    if (*i < len && s[*i] == c) {
        (*i)++;
        return true;
    }
    return false;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

int ingest_ts_parse_rfc3339(const char *s, size_t len, int64_t *ms)
{
    size_t i = 0;
    if (len > INGEST_TS_STR_MAX)
        return -EINVAL;
    int y = digits(s, len, &i, 4);
    if (y < 0 || !expect(s, len, &i, '-'))
        return -EINVAL;
    int mo = digits(s, len, &i, 2);
    if (mo < 1 || mo > 12 || !expect(s, len, &i, '-'))
        return -EINVAL;
    int d = digits(s, len, &i, 2);
    if (d < 1 || d > days_in_month(y, mo))
        return -EINVAL;
    if (!(expect(s, len, &i, 'T') || expect(s, len, &i, 't') || expect(s, len, &i, ' ')))
        return -EINVAL;
    int h = digits(s, len, &i, 2);
    if (h < 0 || h > 23 || !expect(s, len, &i, ':'))
        return -EINVAL;
    int mi = digits(s, len, &i, 2);
    if (mi < 0 || mi > 59 || !expect(s, len, &i, ':'))
        return -EINVAL;
    int sec = digits(s, len, &i, 2);
    if (sec < 0 || sec > 60) /* a leap second counts as :59.999 below */
        return -EINVAL;
    int frac_ms = 0;
    if (expect(s, len, &i, '.')) {
        int n = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (n < 3)
                frac_ms = frac_ms * 10 + (s[i] - '0');
            n++;
            i++;
        }
        if (n == 0 || n > 9)
            return -EINVAL;
        for (; n < 3; n++)
            frac_ms *= 10;
    }
    int offset_min = 0;
    if (expect(s, len, &i, 'Z') || expect(s, len, &i, 'z')) {
        offset_min = 0;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i] == '-' ? -1 : 1;
        i++;
        int oh = digits(s, len, &i, 2);
        if (oh < 0 || oh > 23 || !expect(s, len, &i, ':'))
            return -EINVAL;
        int om = digits(s, len, &i, 2);
        if (om < 0 || om > 59)
            return -EINVAL;
        offset_min = sign * (oh * 60 + om);
    } else {
        return -EINVAL;
    }
    if (i != len)
        return -EINVAL;
    if (sec == 60) {
        sec = 59;
        frac_ms = 999;
    }
    int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    t -= (int64_t)offset_min * 60;
    t = t * 1000 + frac_ms;
    if (t < 0 || t > INGEST_TS_MAX_MS)
        return -ERANGE;
    *ms = t;
    return 0;
}

int ingest_ts_parse(const char *s, size_t len, int64_t *ms)
{
    bool all_digits = len > 0 && len <= 18;
    for (size_t i = 0; all_digits && i < len; i++)
        all_digits = s[i] >= '0' && s[i] <= '9';
    if (all_digits) {
        long long v = 0;
        for (size_t i = 0; i < len; i++)
            v = v * 10 + (s[i] - '0');
        return ingest_ts_from_int(v, ms);
    }
    return ingest_ts_parse_rfc3339(s, len, ms);
}
