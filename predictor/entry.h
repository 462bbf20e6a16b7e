/*
 * entry.h — stream ids and engagement-stream entries as liftoff-ingest
 * appends them to liftoff:events:<launch>: fields id, type, ts (Unix ms),
 * source, data. Only type and ts matter to the forecast.
 *
 * A stream id "<ms>-<seq>" is the Redis time of the XADD (ms) and a sequence
 * within that millisecond; ids of one stream only ever grow, so they order
 * the stream in time and tell which entries were already applied.
 *
 * Ownership: a parsed pred_entry points into the redisReply it came from
 * (reply strings are NUL-terminated); it is valid while the reply is, i.e.
 * during the rds callback that got it (see redis.h).
 */
#ifndef LIFTOFF_PREDICTOR_ENTRY_H
#define LIFTOFF_PREDICTOR_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#define PRED_ID_STR_MAX 44   /* "18446744073709551615-18446744073709551615" + NUL */

typedef struct pred_id {
    uint64_t ms, seq;
} pred_id;

typedef struct pred_entry {
    pred_id id;
    const char *type;        /* NUL-terminated, inside the reply */
    int64_t ts_ms;           /* the event's own time, never after id.ms */
} pred_entry;

/* Parses "<ms>-<seq>" or "<ms>" (seq 0): 0 or -EINVAL. */
int pred_id_parse(const char *s, size_t len, pred_id *out);
/* <0, 0, >0 as a is before, equal to, after b. */
static inline int pred_id_cmp(pred_id a, pred_id b)
{
    if (a.ms != b.ms)
        return a.ms < b.ms ? -1 : 1;
    return a.seq < b.seq ? -1 : a.seq > b.seq;
}
/* Writes "<ms>-<seq>" into buf (at least PRED_ID_STR_MAX bytes); returns its length. */
size_t pred_id_format(pred_id id, char *buf, size_t len);

/* Reads one stream entry reply ([id, [field, value, ...]]) into e: 0, or
 * -EINVAL when it is not an entry at all, -ENODATA when its id is fine but
 * the fields are unusable (no type, a bad ts) — the entry is then skipped
 * but still acknowledged. A missing ts is the id's time; a ts after the id's
 * time (a sender clock ahead of Redis') is clamped to it, since an event
 * cannot have happened after it was stored. */
int pred_entry_parse(const redisReply *r, pred_entry *e);

#endif
