/*
 * append_script.h — the Lua script that stores events: for each event it
 * claims the dedupe key (SET liftoff:seen:<launch>:<id> 1 NX EX <ttl>) and,
 * if that succeeded, XADDs the event to liftoff:events:<launch> with
 * MAXLEN ~ N — all inside one EVALSHA, so Redis applies claim and append
 * together or not at all (the AOF records the script's effects as one
 * MULTI/EXEC). If the XADD fails (wrong key type, out of memory) the claim
 * is deleted again, so a later retry is not mistaken for a duplicate. One
 * call carries many events (from many requests); each gets its own result.
 *
 *   KEYS[1] stream, KEYS[1+i] dedupe key of event i
 *   ARGV[1] maxlen, ARGV[2] ttl seconds, then per event: id type ts source data
 *   reply: flat array, per event: 0 <stream id> (appended) |
 *          1 "" (duplicate) | 2 <error text>
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

#define INGEST_LAUNCH_MAX 64          /* launch name bytes: [A-Za-z0-9_.-] */
#define INGEST_STREAM_ID_MAX 48       /* "1700000000000-0" and then some */
#define INGEST_MAXLEN_DEFAULT 1000000u
#define INGEST_DEDUPE_TTL_DEFAULT_S 86400u

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

/* Whether name is a usable launch name (1..INGEST_LAUNCH_MAX of
 * A-Z a-z 0-9 _ - .). */
bool ingest_launch_valid(const char *name, size_t len);

/* Fills a with the keys and arguments for n events of launch. */
void ingest_append_build(ingest_append_args *a, const char *launch, uint64_t maxlen,
                         uint64_t ttl_s, const ingest_event *const *evs, size_t n);
/* Frees what ingest_append_build() allocated. NULL-safe. */
void ingest_append_args_free(ingest_append_args *a);

/* Reads the script's reply for n events into out[n]. 0, or -EPROTO if the
 * reply does not have the expected shape (an error reply included). */
int ingest_append_parse_reply(const redisReply *r, size_t n, ingest_append_result *out);

#endif
