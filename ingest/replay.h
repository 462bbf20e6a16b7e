/*
 * replay.h — replay protection for webhooks that carry a timestamp header:
 * a delivery whose timestamp lies more than the window before now (a
 * replay) or more than the window after now (a forged or badly skewed
 * clock) is refused. Pure logic, time passed in.
 */
#ifndef LIFTOFF_INGEST_REPLAY_H
#define LIFTOFF_INGEST_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#define INGEST_REPLAY_WINDOW_DEFAULT_MS (5u * 60u * 1000u)

/* 0 if ts_ms is within window_ms of now_ms; -ESTALE if older, -ETIME if
 * further in the future. */
int ingest_replay_check(int64_t ts_ms, int64_t now_ms, uint64_t window_ms);

/* Parses a timestamp header value (Unix seconds/ms or RFC 3339, see
 * timestamp.h) and checks it: 0, -EINVAL (unreadable), -ESTALE, -ETIME. */
int ingest_replay_check_header(const char *value, size_t len, int64_t now_ms,
                               uint64_t window_ms);

#endif
