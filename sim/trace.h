/*
 * trace.h — launch traces: one row per second with the engagement events
 * that arrived in that second and the requests that reached the service.
 *
 *   t,upvote,comment,maker_comment,rps
 *   0,0,0,0,41
 *   1,1,0,0,38
 *
 * The header is required and exact; t starts at 0 and grows by one per
 * row; every value is a non-negative decimal integer. Lines starting with
 * '#' are comments (the generator records its kind and seed there); a
 * trailing newline and CRLF line ends are accepted. Limits: at most
 * SIM_TRACE_MAX_SECONDS rows, SIM_TRACE_MAX_LINE bytes per line,
 * SIM_TRACE_MAX_VALUE per value, SIM_TRACE_MAX_BYTES per file.
 *
 * Ownership: a sim_trace owns its columns; sim_trace_free() releases them.
 */
#ifndef LIFTOFF_SIM_TRACE_H
#define LIFTOFF_SIM_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SIM_TRACE_MAX_SECONDS (7u * 86400u)
#define SIM_TRACE_MAX_LINE 256u
#define SIM_TRACE_MAX_VALUE 1000000000u
#define SIM_TRACE_MAX_BYTES (64u << 20)
#define SIM_TRACE_HEADER "t,upvote,comment,maker_comment,rps"

typedef struct sim_trace {
    uint32_t n;                 /* seconds */
    uint32_t *upvote, *comment, *maker_comment, *rps;
} sim_trace;

typedef struct sim_trace_error {
    uint32_t line, column;      /* 1-based; 0 when not about a place */
    char msg[192];
} sim_trace_error;

/* Columns for n seconds, all zero. */
void sim_trace_alloc(sim_trace *t, uint32_t n);
/* Releases the columns. */
void sim_trace_free(sim_trace *t);
/* Parses a trace from memory: 0, or -EINVAL with *err describing the first
 * problem (line, column, what was expected). */
int sim_trace_parse(const char *buf, size_t len, sim_trace *out, sim_trace_error *err);
/* Reads and parses a file: 0, -errno (cannot read; err says why) or
 * -EINVAL / -EFBIG (bad content / too large). */
int sim_trace_load(const char *path, sim_trace *out, sim_trace_error *err);
/* Writes the CSV (with the header and the given comment lines, each
 * without its '#'; NULL-terminated list or NULL): 0 or -EIO. */
int sim_trace_write(FILE *f, const sim_trace *t, const char *const *comments);

#endif
