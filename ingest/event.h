/*
 * event.h — validation of incoming JSON bodies and their normalisation to
 * the fields appended to the stream: id, type, ts (Unix ms), source
 * (webhook|site), data (compact JSON).
 *
 * Two body kinds:
 *   webhook  {"id": str, "event_type": str, "created_at": int|str,
 *             "data": {...}}                  -> one event, source webhook
 *   batch    [{"userId": uuid, "eventType": "hover|scroll|cta_click|
 *             form_submit", "payload": {...}, "timestamp": int}, ...]
 *                                             -> 1..max_batch events, source site
 * created_at/timestamp follow timestamp.h (seconds or ms; RFC 3339 strings
 * for created_at). Unknown members are ignored. A visitor event has no id
 * of its own: its id is "s-" and the first 32 hex digits of the SHA-256 of
 * userId, eventType, timestamp and payload, so a re-sent batch is
 * recognised as a duplicate. Its data is {"userId":...,"payload":{...}}.
 *
 * Limits (ingest_limits): body bytes, nesting depth (checked by a scan
 * before jansson parses, so deep input never recurses), batch count; ids,
 * types and user ids have fixed maximum lengths below. JSON must be UTF-8,
 * without duplicate keys and without NUL in strings.
 *
 * Errors: an ingest_verr says what was wrong; ingest_verr_json() renders it
 * as the 400 body, e.g. {"error":"invalid","field":"[2].eventType",
 * "reason":"must be one of hover, scroll, cta_click, form_submit"} or
 * {"error":"malformed","reason":"...","position":17}.
 *
 * Ownership: parsed events hold data in malloc'd memory;
 * ingest_event_clear() / ingest_events_free() release it.
 */
#ifndef LIFTOFF_INGEST_EVENT_H
#define LIFTOFF_INGEST_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INGEST_ID_MAX 128              /* event id bytes */
#define INGEST_TYPE_MAX 64             /* event type bytes */
#define INGEST_FIELD_MAX 96            /* field path in an error */
#define INGEST_REASON_MAX 192          /* reason text in an error */
#define INGEST_BODY_MAX_DEFAULT 65536u /* bytes */
#define INGEST_DEPTH_MAX_DEFAULT 16    /* nesting levels of arrays/objects */
#define INGEST_BATCH_MAX_DEFAULT 100u  /* visitor events per request */

typedef enum ingest_source { INGEST_SRC_WEBHOOK, INGEST_SRC_SITE } ingest_source;

typedef struct ingest_limits {
    size_t max_body;  /* bytes; 0: INGEST_BODY_MAX_DEFAULT */
    int max_depth;    /* 0: INGEST_DEPTH_MAX_DEFAULT */
    size_t max_batch; /* 0: INGEST_BATCH_MAX_DEFAULT */
} ingest_limits;

typedef struct ingest_event {
    char id[INGEST_ID_MAX + 1];
    char type[INGEST_TYPE_MAX + 1];
    int64_t ts_ms;
    ingest_source source;
    char *data;      /* compact JSON, NUL-ended, malloc'd */
    size_t data_len;
} ingest_event;

typedef enum ingest_verr_kind {
    INGEST_VERR_NONE,
    INGEST_VERR_MALFORMED, /* not JSON (or too deep, duplicate keys, ...) */
    INGEST_VERR_INVALID,   /* JSON, but the schema is violated */
    INGEST_VERR_TOO_LARGE, /* body or batch over a limit */
} ingest_verr_kind;

typedef struct ingest_verr {
    ingest_verr_kind kind;
    char field[INGEST_FIELD_MAX];   /* "" when the error is not about a field */
    char reason[INGEST_REASON_MAX];
    size_t position;                /* malformed: byte offset of the error */
} ingest_verr;

/* "webhook" or "site". */
const char *ingest_source_name(ingest_source s);

/* Largest nesting depth of arrays/objects in JSON text (strings skipped;
 * the text need not be valid). Stops counting once depth exceeds limit and
 * returns limit + 1. */
int ingest_json_depth(const char *text, size_t len, int limit);

/* Validates a webhook body and fills ev. 0, or -EINVAL / -EMSGSIZE with err
 * filled (ev then holds nothing to free). */
int ingest_webhook_parse(const char *body, size_t len, const ingest_limits *lim,
                         ingest_event *ev, ingest_verr *err);

/* Validates a visitor-event batch; *evs gets a malloc'd array of *n events
 * (free with ingest_events_free). 0, or -EINVAL / -EMSGSIZE with err filled
 * (nothing to free then). */
int ingest_batch_parse(const char *body, size_t len, const ingest_limits *lim,
                       ingest_event **evs, size_t *n, ingest_verr *err);

/* Frees ev's data. NULL-safe. */
void ingest_event_clear(ingest_event *ev);
/* Clears n events and frees the array. NULL-safe. */
void ingest_events_free(ingest_event *evs, size_t n);

/* The 400/413 body for err as a malloc'd NUL-ended JSON string. */
char *ingest_verr_json(const ingest_verr *err);

#endif
