/*
 * redis_url.h — parses Redis connection URLs:
 *
 *   redis://[[user]:password@]host[:port][/db][?option=value&...]
 *   rediss://...            (TLS)
 *
 * host is a name, an IPv4 address or a bracketed IPv6 address ([::1]);
 * port defaults to 6379, db to 0. user and password are percent-decoded
 * (a password containing '@', ':' or '/' must be written as %40, %3A, %2F).
 * "redis://:secret@h" gives a password only (AUTH secret), and
 * "redis://alice:secret@h" an ACL user (AUTH alice secret).
 *
 * Options (rediss:// only; values percent-decoded):
 *   ca_file=PATH      CA bundle to verify the server (default: system CAs)
 *   cert_file=PATH    client certificate, with key_file=PATH
 *   server_name=NAME  name checked in the certificate and sent as SNI
 *                     (default: host)
 *   insecure=true     skip certificate verification (tests only)
 *
 * Ownership: rds_url_parse() fills a caller-owned rds_url whose strings it
 * allocates; rds_url_free() releases them.
 */
#ifndef LIFTOFF_REDIS_URL_H
#define LIFTOFF_REDIS_URL_H

#include <stdbool.h>
#include <stddef.h>

#define RDS_URL_MAX 2048     /* longest URL accepted, bytes */
#define RDS_DB_MAX 1000000   /* highest db index accepted */
#define RDS_DEFAULT_PORT 6379

typedef struct rds_url {
    bool tls;
    char *host;          /* without brackets */
    int port;
    char *user;          /* NULL: none (password-only AUTH, or no AUTH) */
    char *password;      /* NULL: no AUTH */
    int db;
    char *ca_file;       /* TLS options, NULL when not given */
    char *cert_file;
    char *key_file;
    char *server_name;
    bool insecure;
} rds_url;

/* Parses url into *u (zeroed first). 0, or -EINVAL with a reason in err
 * (err may be NULL); on failure *u holds nothing to free. */
int rds_url_parse(const char *url, rds_url *u, char *err, size_t errlen);
/* Frees the strings of u and zeroes it. NULL-safe. */
void rds_url_free(rds_url *u);

#endif
