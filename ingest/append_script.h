/*
 * append_script.h — the Lua script that stores events. Ids already seen
 * live in one Redis set per launch and time bucket of the dedupe window
 * (liftoff:seen:<launch>:<bucket>, bucket = unix seconds / window). For a
 * batch of events the script asks the current bucket and both neighbours
 * with one SMISMEMBER each, claims the ids not seen (and not earlier in the
 * same batch) with one SADD, XADDs each claimed event to
 * liftoff:events:<launch> and trims the stream once (XTRIM MAXLEN ~ N,
 * cheaper than MAXLEN on every XADD) — all inside one EVALSHA, so
 * Redis applies claims and appends together or not at all (the AOF records
 * the script's effects as one MULTI/EXEC). If an XADD fails (wrong key
 * type, out of memory) its claim is removed again, so a later retry is not
 * mistaken for a duplicate. Each bucket expires at the end of the next one
 * (plus a margin), so an id is remembered for at least one window and at
 * most two; reading the neighbouring buckets tolerates replicas whose
 * clocks differ by less than a window. One call carries many events (from
 * many requests); each gets its own result.
 *
 *   KEYS[1] stream, KEYS[2] the current bucket, KEYS[3..4] its neighbours
 *   ARGV[1] maxlen, ARGV[2] unix time the current bucket expires, then per
 *   event: id type ts source data
 *   reply: flat array, per event: 0 <stream id> (appended) |
 *          1 "" (duplicate) | 2 <error text>
 *
 * Needs Redis 6.2 or later (SMISMEMBER).
 *
 * Ownership: ingest_append_args holds its keys and numbers in an arena and
 * pointers into the events (which must outlive the command call);
 * ingest_append_args_free() frees it.
 */
#ifndef LIFTOFF_INGEST_APPEND_SCRIPT_H
#define LIFTOFF_INGEST_APPEND_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "event.h"

#define INGEST_STREAM_ID_MAX 48       /* "1700000000000-0" and then some */
#define INGEST_MAXLEN_DEFAULT 1000000u
#define INGEST_DEDUPE_TTL_DEFAULT_S 86400u
#define INGEST_DEDUPE_BUCKETS 3       /* the current bucket and both neighbours */
#define INGEST_DEDUPE_MARGIN_S 300u   /* a bucket outlives the next one by this */

/* The script text. */
extern const char ingest_append_lua[];

typedef struct ingest_append_args {
    int nkeys, nargs;         /* as rds_script_run() wants them */
    const char **argv;        /* nkeys + nargs entries */
    size_t *argvlen;
    char *arena;              /* the keys and numbers built here */
} ingest_append_args;

typedef enum ingest_append_status {
    INGEST_APPENDED = 0,
    INGEST_DUPLICATE = 1,
    INGEST_APPEND_FAILED = 2,
} ingest_append_status;

typedef struct ingest_append_result {
    ingest_append_status status;
    char stream_id[INGEST_STREAM_ID_MAX]; /* "" for a duplicate; the error text
                                           * (cut short) for a failure */
} ingest_append_result;

/* The dedupe bucket of unix time now_s for a window of ttl_s seconds. */
uint64_t ingest_dedupe_bucket(int64_t now_s, uint64_t ttl_s);
/* Fills a with the keys and arguments for n events of launch, stored at
 * unix time now_s with a dedupe window of ttl_s seconds. */
void ingest_append_build(ingest_append_args *a, const char *launch, uint64_t maxlen,
                         uint64_t ttl_s, int64_t now_s, const ingest_event *const *evs,
                         size_t n);
/* Frees what ingest_append_build() allocated. NULL-safe. */
void ingest_append_args_free(ingest_append_args *a);

/* Reads the script's reply for n events into out[n]. 0, or -EPROTO if the
 * reply does not have the expected shape (an error reply included). */
int ingest_append_parse_reply(const redisReply *r, size_t n, ingest_append_result *out);

#endif
