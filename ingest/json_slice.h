/* json_slice.h — finds a top-level member's value in raw JSON text when
 * the text is already exactly what a compact re-dump would produce, so the
 * caller can copy it instead of re-serialising the parsed value.
 * Works on text that already parsed as valid JSON; owns nothing: the slice
 * points into the caller's text. */
#ifndef INGEST_JSON_SLICE_H
#define INGEST_JSON_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INGEST_JSON_SCAN_KEYS_MAX 32  /* members per object the scan handles */
#define INGEST_JSON_SCAN_DEPTH_MAX 64 /* nesting levels the scan follows */

typedef enum ingest_json_kind {
    INGEST_JSON_MISSING,
    INGEST_JSON_STRING, /* span: the characters between the quotes */
    INGEST_JSON_INT,    /* span: the digits; value: the number */
    INGEST_JSON_OBJECT, /* span: the object with its braces */
    INGEST_JSON_OTHER,  /* array, literal */
} ingest_json_kind;

/* One top-level member the caller asks ingest_json_scan_object for. */
typedef struct ingest_json_member {
    const char *key; /* in: plain ASCII name */
    ingest_json_kind kind;
    const char *val; /* out: points into the text */
    size_t len;
    int64_t ival;
} ingest_json_member;

/* Sets *val and *vlen to the raw value of top-level member key (plain ASCII,
 * no escapes) of the object in text[0..len), and returns true, only if
 * that value is in canonical compact form: no whitespace outside strings,
 * no escapes or control characters in strings, integers only (no "-0",
 * fractions or exponents). Returns false otherwise (caller re-dumps). */
bool ingest_json_compact_member(const char *text, size_t len, const char *key,
                                const char **val, size_t *vlen);

/* True if v[0..n) (valid JSON) is what a compact dump of its value prints. */
bool ingest_json_is_compact(const char *v, size_t n);

/* Scans text[0..len) as one JSON object without building values, and fills
 * want[0..n) (kind MISSING if absent). Returns true only if the text is
 * valid JSON in the subset the scan knows for certain: strings without
 * escapes, control characters or non-ASCII bytes, integers of at most 18
 * digits, no reals, objects of at most INGEST_JSON_SCAN_KEYS_MAX members
 * without duplicate keys, at most max_depth (and INGEST_JSON_SCAN_DEPTH_MAX)
 * nesting levels, the outer object being level 1. False means "not known
 * valid": the caller must use a full parser, which also names any error. */
bool ingest_json_scan_object(const char *text, size_t len, int max_depth,
                             ingest_json_member *want, size_t n);

#endif
