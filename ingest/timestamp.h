/*
 * timestamp.h — event timestamps to Unix milliseconds.
 *
 * Integers are Unix time: values below INGEST_TS_SECONDS_BELOW are seconds,
 * larger ones milliseconds (1e11 s is the year 5138, 1e11 ms is 1973, so the
 * two ranges cannot be confused for real events). Strings are RFC 3339
 * ("2024-05-01T12:00:00Z", "2024-05-01T14:00:00.250+02:00"; 't' and ' ' as
 * separator accepted) or a decimal integer read by the integer rule.
 * Pure functions; nothing allocated.
 */
#ifndef LIFTOFF_INGEST_TIMESTAMP_H
#define LIFTOFF_INGEST_TIMESTAMP_H

#include <stddef.h>
#include <stdint.h>

#define INGEST_TS_SECONDS_BELOW 100000000000LL /* 1e11 */
#define INGEST_TS_MAX_MS 253402300799999LL      /* 9999-12-31T23:59:59.999Z */
#define INGEST_TS_STR_MAX 64                    /* longest timestamp string */

/* Unix seconds or milliseconds (see above) to ms: 0, or -ERANGE (negative,
 * after the year 9999). */
int ingest_ts_from_int(long long v, int64_t *ms);
/* RFC 3339 date-time to ms: 0, or -EINVAL (not RFC 3339), -ERANGE. */
int ingest_ts_parse_rfc3339(const char *s, size_t len, int64_t *ms);
/* A decimal integer (integer rule) or RFC 3339 string to ms: 0, -EINVAL,
 * -ERANGE. */
int ingest_ts_parse(const char *s, size_t len, int64_t *ms);

#endif
