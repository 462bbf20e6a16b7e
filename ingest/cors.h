/*
 * cors.h — the origin allow-list for browser-facing endpoints.
 *
 * The list is written as origins separated by commas or blanks:
 *   "*"                         any origin
 *   "https://shop.example.com"  exactly this origin (scheme://host[:port])
 *   "https://" "*" ".example.com" (written without the quotes and blanks)
 *                               any subdomain of example.com over https
 *                               (not example.com itself)
 * Matching ignores ASCII case. An empty list allows no cross-origin use.
 *
 * Ownership: ingest_cors_parse() allocates; ingest_cors_free() frees.
 */
#ifndef LIFTOFF_INGEST_CORS_H
#define LIFTOFF_INGEST_CORS_H

#include <stdbool.h>
#include <stddef.h>

#define INGEST_CORS_ORIGINS_MAX 64   /* entries in the list */
#define INGEST_CORS_ORIGIN_MAX 253   /* bytes per origin */
#define INGEST_CORS_MAX_AGE_S 600    /* Access-Control-Max-Age for preflights */

typedef struct ingest_cors ingest_cors;

/* Parses the list (NULL or "" gives an empty list). 0, or -EINVAL with a
 * reason in err (an entry that is not an origin, too many, too long). */
int ingest_cors_parse(const char *list, ingest_cors **out, char *err, size_t errlen);
/* Frees the list. NULL-safe. */
void ingest_cors_free(ingest_cors *c);

/* Whether origin (len bytes, the Origin header value) may use the API. */
bool ingest_cors_allowed(const ingest_cors *c, const char *origin, size_t len);
/* Whether the list is "*" (then Access-Control-Allow-Origin may be "*"). */
bool ingest_cors_any(const ingest_cors *c);
/* Number of entries. */
size_t ingest_cors_count(const ingest_cors *c);

#endif
