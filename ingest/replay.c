/* replay.c — the timestamp window that refuses replayed webhooks. */
#include "replay.h"

#include <stdlib.h>
#include <errno.h>

#include "timestamp.h"

int ingest_replay_check(int64_t ts_ms, int64_t now_ms, uint64_t window_ms)
{
    int64_t w = window_ms > (uint64_t)INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t)window_ms;
    if (ts_ms < now_ms - w)
        return -ESTALE;
    if (ts_ms > now_ms + w)
        return -ETIME;
    return 0;
}

int ingest_replay_check_header(const char *value, size_t len, int64_t now_ms,
                               uint64_t window_ms)
{
    int64_t ts = 0;
    while (len > 0 && (*value == ' ' || *value == '\t')) {
        value++;
        len--;
    }
    while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
        len--;
    if (ingest_ts_parse(value, len, &ts) != 0)
        return -EINVAL;
    return ingest_replay_check(ts, now_ms, window_ms);
}
