/* signature.c — HMAC-SHA256 webhook signatures with a rotating keyring. */
#include "signature.h"

#include <stdlib.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "common.h"
#include "file_read.h"

struct ingest_keyring {
    size_t n;
    EVP_MAC *mac;
    EVP_MAC_CTX *ctx[INGEST_SECRETS_MAX]; /* keyed; re-initialised per message */
};

static EVP_MAC *hmac_fetch(void)
{
    return EVP_MAC_fetch(NULL, "HMAC", NULL);
}

static int hmac_ctx_key(EVP_MAC_CTX *ctx, const void *key, size_t keylen)
{
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    /* A zero-length key is legal HMAC; OpenSSL wants a non-NULL pointer. */
    static const uint8_t empty[1];
    return EVP_MAC_init(ctx, keylen ? key : empty, keylen, params) == 1 ? 0 : -EIO;
}

/* One MAC over msg with an already keyed context (re-initialised, same key). */
static int hmac_run(EVP_MAC_CTX *ctx, bool rekey_done, const void *msg, size_t msglen,
                    uint8_t out[INGEST_SIG_LEN])
{
    size_t outlen = 0;
    if (!rekey_done && EVP_MAC_init(ctx, NULL, 0, NULL) != 1)
        return -EIO;
    if (msglen && EVP_MAC_update(ctx, msg, msglen) != 1)
        return -EIO;
    if (EVP_MAC_final(ctx, out, &outlen, INGEST_SIG_LEN) != 1 || outlen != INGEST_SIG_LEN)
        return -EIO;
    return 0;
}

int ingest_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
                       uint8_t out[INGEST_SIG_LEN])
{
    int rc = -EIO;
    EVP_MAC *mac = hmac_fetch();
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    if (!ctx)
        goto out;
    rc = hmac_ctx_key(ctx, key, keylen);
    if (rc == 0)
        rc = hmac_run(ctx, true, msg, msglen, out);
out:
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return rc;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

int ingest_keyring_parse(const char *text, size_t len, ingest_keyring **out, char *err,
                         size_t errlen)
{
    int rc = 0;
    ingest_keyring *k = xcalloc(1, sizeof(*k));
    *out = NULL;
    k->mac = hmac_fetch();
    if (!k->mac) {
        snprintf(err, errlen, "OpenSSL has no HMAC");
        rc = -EIO;
        goto fail;
    }
    size_t pos = 0, lineno = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t a = pos, b = end;
        lineno++;
        pos = end + 1;
        while (a < b && is_blank(text[a]))
            a++;
        while (b > a && is_blank(text[b - 1]))
            b--;
        if (a == b || text[a] == '#')
            continue;
        if (b - a > INGEST_SECRET_MAX) {
            snprintf(err, errlen, "secret on line %zu is longer than %d bytes", lineno,
                     INGEST_SECRET_MAX);
            rc = -EINVAL;
            goto fail;
        }
        if (k->n == INGEST_SECRETS_MAX) {
            snprintf(err, errlen, "more than %d secrets", INGEST_SECRETS_MAX);
            rc = -EINVAL;
            goto fail;
        }
        k->ctx[k->n] = EVP_MAC_CTX_new(k->mac);
        if (!k->ctx[k->n] || hmac_ctx_key(k->ctx[k->n], text + a, b - a) != 0) {
            EVP_MAC_CTX_free(k->ctx[k->n]);
            k->ctx[k->n] = NULL;
            snprintf(err, errlen, "OpenSSL could not key HMAC");
            rc = -EIO;
            goto fail;
        }
        k->n++;
    }
    if (k->n == 0) {
        snprintf(err, errlen, "no secret (one per line; '#' starts a comment)");
        rc = -EINVAL;
        goto fail;
    }
    *out = k;
    return 0;
fail:
    ingest_keyring_free(k);
    return rc;
}

int ingest_keyring_load(const char *path, ingest_keyring **out, char *err, size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    int rc = file_read_all(path, INGEST_SECRET_FILE_MAX, &text, &len);
    if (rc == -EFBIG) {
        snprintf(err, errlen, "%s: larger than %d bytes", path, INGEST_SECRET_FILE_MAX);
        return rc;
    }
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(-rc));
        return rc;
    }
    char why[160] = "";
    rc = ingest_keyring_parse(text, len, out, why, sizeof(why));
    if (rc < 0)
        snprintf(err, errlen, "%s: %s", path, why);
    file_wipe_free(text, len);
    return rc;
}

size_t ingest_keyring_count(const ingest_keyring *k)
{
    return k ? k->n : 0;
}

void ingest_keyring_free(ingest_keyring *k)
{
    if (!k)
        return;
    for (size_t i = 0; i < k->n; i++)
        EVP_MAC_CTX_free(k->ctx[i]); /* OpenSSL cleanses the key it holds */
    EVP_MAC_free(k->mac);
    free(k);
}

/* Hex digit values plus one (either case; 0 for anything else): a table,
 * since branches on random digits mispredict about every other byte. */
#define HX(c, v) [c] = (v) + 1
static const uint8_t hex_table[256] = {
    HX('0', 0), HX('1', 1), HX('2', 2), HX('3', 3), HX('4', 4), HX('5', 5), HX('6', 6),
    HX('7', 7), HX('8', 8), HX('9', 9), HX('a', 10), HX('b', 11), HX('c', 12), HX('d', 13),
    HX('e', 14), HX('f', 15), HX('A', 10), HX('B', 11), HX('C', 12), HX('D', 13), HX('E', 14),
    HX('F', 15),
};
#undef HX

int ingest_sig_decode(const char *header, size_t len, const char *prefix,
                      uint8_t out[INGEST_SIG_LEN])
{
    size_t plen = prefix ? strlen(prefix) : 0;
    if (!header || len != plen + 2 * INGEST_SIG_LEN || memcmp(header, prefix, plen) != 0)
        return -EINVAL;
    const char *hex = header + plen;
    unsigned bad = 0;
    for (size_t i = 0; i < INGEST_SIG_LEN; i++) {
        /* an invalid digit becomes UINT_MAX here */
        unsigned hi = hex_table[(unsigned char)hex[2 * i]] - 1u;
        unsigned lo = hex_table[(unsigned char)hex[2 * i + 1]] - 1u;
        bad |= hi | lo;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    if (bad & 0xf0)
        return -EINVAL;
    return 0;
}

int ingest_sig_verify(ingest_keyring *k, const char *prefix, const char *header, size_t hlen,
                      const void *body, size_t blen)
{
    uint8_t want[INGEST_SIG_LEN], got[INGEST_SIG_LEN];
    int match = -EPERM;
    if (ingest_sig_decode(header, hlen, prefix, want) != 0)
        return -EINVAL;
    /* In file order, so the current secret (listed first) costs one HMAC.
     * Stopping at a match reveals only which secret signed, never anything
     * about a digest: each comparison is constant-time. */
    for (size_t i = 0; i < k->n && match < 0; i++) {
        if (hmac_run(k->ctx[i], false, body, blen, got) != 0)
            return -EIO;
        if (CRYPTO_memcmp(got, want, INGEST_SIG_LEN) == 0)
            match = (int)i;
    }
    OPENSSL_cleanse(got, sizeof(got));
    return match;
}

int ingest_sig_sign(const void *key, size_t keylen, const char *prefix, const void *body,
                    size_t blen, char *out, size_t outlen)
{
    static const char digits[] = "0123456789abcdef";
    uint8_t mac[INGEST_SIG_LEN];
    size_t plen = prefix ? strlen(prefix) : 0;
    if (outlen < plen + 2 * INGEST_SIG_LEN + 1)
        return -ENOSPC;
    int rc = ingest_hmac_sha256(key, keylen, body, blen, mac);
    if (rc < 0)
        return rc;
    memcpy(out, prefix ? prefix : "", plen);
    for (size_t i = 0; i < INGEST_SIG_LEN; i++) {
        out[plen + 2 * i] = digits[mac[i] >> 4];
        out[plen + 2 * i + 1] = digits[mac[i] & 15];
    }
    out[plen + 2 * INGEST_SIG_LEN] = '\0';
    return 0;
}
