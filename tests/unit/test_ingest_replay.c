/* test_ingest_replay.c — timestamp parsing and the replay window. */
#include "test.h"

#include <errno.h>

#include "ingest/replay.h"
#include "ingest/timestamp.h"

TEST(ingest_ts_integers_are_seconds_or_milliseconds)
{
    int64_t ms = 0;
    CHECK_INT(ingest_ts_from_int(1700000000, &ms), 0);
    CHECK_INT(ms, 1700000000000LL);
    CHECK_INT(ingest_ts_from_int(1700000000123LL, &ms), 0);
    CHECK_INT(ms, 1700000000123LL);
    CHECK_INT(ingest_ts_from_int(0, &ms), 0);
    CHECK_INT(ms, 0);
    CHECK_INT(ingest_ts_from_int(-1, &ms), -ERANGE);
    CHECK_INT(ingest_ts_from_int(INGEST_TS_MAX_MS + 1, &ms), -ERANGE);
    CHECK_INT(ingest_ts_from_int(INGEST_TS_SECONDS_BELOW - 1, &ms), 0);
    CHECK_INT(ms, (INGEST_TS_SECONDS_BELOW - 1) * 1000);
}

TEST(ingest_ts_rfc3339_variants)
{
    int64_t ms = 0;
#define P(s) ingest_ts_parse_rfc3339(s, strlen(s), &ms)
    CHECK_INT(P("2023-11-14T22:13:20Z"), 0);
    CHECK_INT(ms, 1700000000000LL);
    CHECK_INT(P("2023-11-14T22:13:20.5Z"), 0);
    CHECK_INT(ms, 1700000000500LL);
    CHECK_INT(P("2023-11-14T22:13:20.123456789Z"), 0);
    CHECK_INT(ms, 1700000000123LL);
    CHECK_INT(P("2023-11-15T00:13:20+02:00"), 0);
    CHECK_INT(ms, 1700000000000LL);
    CHECK_INT(P("2023-11-14t17:13:20-05:00"), 0);
    CHECK_INT(ms, 1700000000000LL);
    CHECK_INT(P("2023-11-14 22:13:20z"), 0);
    CHECK_INT(ms, 1700000000000LL);
    CHECK_INT(P("1970-01-01T00:00:00Z"), 0);
    CHECK_INT(ms, 0);
    CHECK_INT(P("2024-02-29T00:00:00Z"), 0); /* leap day */
    CHECK_INT(ms, 1709164800000LL);
    CHECK_INT(P("2016-12-31T23:59:60Z"), 0); /* leap second */
    CHECK_INT(ms, 1483228799999LL);
    /* malformed */
    CHECK_INT(P("2023-02-29T00:00:00Z"), -EINVAL);
    CHECK_INT(P("2023-11-14T22:13:20"), -EINVAL);
    CHECK_INT(P("2023-11-14T24:00:00Z"), -EINVAL);
    CHECK_INT(P("2023-13-14T22:13:20Z"), -EINVAL);
    CHECK_INT(P("2023-11-14T22:13:20.Z"), -EINVAL);
    CHECK_INT(P("2023-11-14T22:13:20ZZ"), -EINVAL);
    CHECK_INT(P("2023-11-14"), -EINVAL);
    CHECK_INT(P(""), -EINVAL);
    CHECK_INT(P("1969-12-31T23:59:59Z"), -ERANGE);
#undef P
    CHECK_INT(ingest_ts_parse("1700000000", 10, &ms), 0);
    CHECK_INT(ms, 1700000000000LL);
    CHECK_INT(ingest_ts_parse("17x", 3, &ms), -EINVAL);
}

TEST(ingest_replay_window_both_directions)
{
    int64_t now = 1700000000000LL;
    uint64_t w = INGEST_REPLAY_WINDOW_DEFAULT_MS;
    CHECK_INT(ingest_replay_check(now, now, w), 0);
    CHECK_INT(ingest_replay_check(now - (int64_t)w, now, w), 0);
    CHECK_INT(ingest_replay_check(now - (int64_t)w - 1, now, w), -ESTALE);
    CHECK_INT(ingest_replay_check(now + (int64_t)w, now, w), 0);
    CHECK_INT(ingest_replay_check(now + (int64_t)w + 1, now, w), -ETIME);
    CHECK_INT(ingest_replay_check(0, now, UINT64_MAX), 0);
}

TEST(ingest_replay_header_forms)
{
    int64_t now = 1700000000000LL;
    uint64_t w = 300000;
    CHECK_INT(ingest_replay_check_header("1700000000", 10, now, w), 0);
    CHECK_INT(ingest_replay_check_header(" 1700000000 ", 12, now, w), 0);
    CHECK_INT(ingest_replay_check_header("1699999000", 10, now, w), -ESTALE);
    CHECK_INT(ingest_replay_check_header("1699999700000", 13, now, w), 0);
    CHECK_INT(ingest_replay_check_header("2023-11-14T22:13:20Z", 20, now, w), 0);
    CHECK_INT(ingest_replay_check_header("2023-11-14T23:13:20Z", 20, now, w), -ETIME);
    CHECK_INT(ingest_replay_check_header("yesterday", 9, now, w), -EINVAL);
    CHECK_INT(ingest_replay_check_header("", 0, now, w), -EINVAL);
}
