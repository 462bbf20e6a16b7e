/*
 * signature.h — webhook signatures: HMAC-SHA256 over the raw request body,
 * sent as "<prefix><hex>" (e.g. "sha256=3f1a..."), checked against every
 * configured secret (rotation: any match is valid), digests compared in
 * constant time.
 *
 * Secrets come from a secret file, one per line: surrounding blanks and the
 * line ending are dropped, empty lines and lines starting with '#' are
 * skipped. At most INGEST_SECRETS_MAX secrets of at most INGEST_SECRET_MAX
 * bytes each.
 *
 * Ownership: an ingest_keyring is created by ingest_keyring_parse() or
 * ingest_keyring_load() and freed with ingest_keyring_free(); it holds
 * copies of the secrets (wiped on free) and one prepared HMAC context per
 * secret, so verifying allocates nothing. Not thread-safe (one loop thread).
 */
#ifndef LIFTOFF_INGEST_SIGNATURE_H
#define LIFTOFF_INGEST_SIGNATURE_H

#include <stddef.h>
#include <stdint.h>

#define INGEST_SECRETS_MAX 16          /* secrets in one file */
#define INGEST_SECRET_MAX 1024         /* bytes per secret */
#define INGEST_SECRET_FILE_MAX 65536   /* bytes of the whole file */
#define INGEST_SIG_LEN 32              /* HMAC-SHA256 output, bytes */
#define INGEST_SIG_PREFIX_MAX 64       /* "sha256=" and the like */

typedef struct ingest_keyring ingest_keyring;

/* HMAC-SHA256 of msg with key into out (one-shot, allocates internally).
 * 0, or -EIO if OpenSSL fails. */
int ingest_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
                       uint8_t out[INGEST_SIG_LEN]);

/* Builds a keyring from secret-file text. 0, or -EINVAL with a reason in
 * err (no secret, too many, too long). */
int ingest_keyring_parse(const char *text, size_t len, ingest_keyring **out, char *err,
                         size_t errlen);
/* Reads path (at most INGEST_SECRET_FILE_MAX bytes) and parses it. 0, or
 * -errno / -EINVAL with a reason in err. */
int ingest_keyring_load(const char *path, ingest_keyring **out, char *err, size_t errlen);
/* Number of secrets held. */
size_t ingest_keyring_count(const ingest_keyring *k);
/* Wipes and frees. NULL-safe. */
void ingest_keyring_free(ingest_keyring *k);

/* Decodes "<prefix><64 hex digits>" (hex in either case) into out. 0, or
 * -EINVAL (wrong prefix, length or digit). */
int ingest_sig_decode(const char *header, size_t len, const char *prefix,
                      uint8_t out[INGEST_SIG_LEN]);

/* Checks the signature header for body against the secrets in file order
 * (list the current secret first). Returns the index (>= 0) of the first
 * matching secret, -EINVAL if the header is malformed, -EPERM if no secret
 * matches, -EIO if OpenSSL fails. Digests are compared with CRYPTO_memcmp. */
int ingest_sig_verify(ingest_keyring *k, const char *prefix, const char *header, size_t hlen,
                      const void *body, size_t blen);

/* Writes "<prefix><hex>" for body signed with key into out (NUL-ended).
 * 0, or -ENOSPC if outlen is too small, -EIO. For tests and load tools. */
int ingest_sig_sign(const void *key, size_t keylen, const char *prefix, const void *body,
                    size_t blen, char *out, size_t outlen);

#endif
