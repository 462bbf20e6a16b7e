/* test_ingest_signature.c — HMAC-SHA256 known answers, header decoding,
 * verification against a rotating keyring, the secret file format. */
#include "test.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "common.h"
#include "ingest/signature.h"

static void hex(const uint8_t *p, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = '\0';
}

TEST(ingest_sig_hmac_rfc4231_known_answers)
{
    uint8_t mac[INGEST_SIG_LEN];
    char h[2 * INGEST_SIG_LEN + 1];
    /* RFC 4231 test case 2 */
    REQUIRE(ingest_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac) == 0);
    hex(mac, sizeof(mac), h);
    CHECK_STR(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* test case 1 */
    uint8_t key1[20];
    memset(key1, 0x0b, sizeof(key1));
    REQUIRE(ingest_hmac_sha256(key1, sizeof(key1), "Hi There", 8, mac) == 0);
    hex(mac, sizeof(mac), h);
    CHECK_STR(h, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    /* test case 6: a key longer than the block size */
    uint8_t key6[131];
    memset(key6, 0xaa, sizeof(key6));
    const char *msg6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    REQUIRE(ingest_hmac_sha256(key6, sizeof(key6), msg6, strlen(msg6), mac) == 0);
    hex(mac, sizeof(mac), h);
    CHECK_STR(h, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(ingest_sig_verify_known_answer_through_keyring_many_times)
{
    ingest_keyring *k = NULL;
    char err[128];
    REQUIRE(ingest_keyring_parse("Jefe\n", 5, &k, err, sizeof(err)) == 0);
    const char *hdr = "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
    const char *body = "what do ya want for nothing?";
    /* The prepared context is re-initialised per message: repeat to catch state carried over. */
    for (int i = 0; i < 5; i++)
        CHECK_INT(ingest_sig_verify(k, "sha256=", hdr, strlen(hdr), body, strlen(body)), 0);
    CHECK_INT(ingest_sig_verify(k, "sha256=", hdr, strlen(hdr), body, strlen(body) - 1), -EPERM);
    CHECK_INT(ingest_sig_verify(k, "sha256=", hdr, strlen(hdr), body, strlen(body)), 0);
    ingest_keyring_free(k);
}

TEST(ingest_sig_decode_rejects_bad_headers)
{
    uint8_t out[INGEST_SIG_LEN];
    const char *good = "sha256=5BDCC146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
    CHECK_INT(ingest_sig_decode(good, strlen(good), "sha256=", out), 0);
    CHECK_INT(out[0], 0x5b);
    CHECK_INT(out[31], 0x43);
    /* wrong prefix, short, long, non-hex, empty */
    const char *bad[] = {
        "sha1=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec384",
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec38433",
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec384g",
        "sha256=G5dcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec38:3",
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec38/3",
        "",
    };
    for (size_t i = 0; i < LO_ARRAY_SIZE(bad); i++)
        CHECK_INT(ingest_sig_decode(bad[i], strlen(bad[i]), "sha256=", out), -EINVAL);
    /* an empty prefix means bare hex */
    CHECK_INT(ingest_sig_decode(good + 7, strlen(good) - 7, "", out), 0);
}

TEST(ingest_sig_rotation_accepts_any_configured_secret)
{
    const char *file = "# current and previous secret\n"
                       "  new-secret  \r\n"
                       "\n"
                       "old-secret\n";
    ingest_keyring *k = NULL;
    char err[128], sig[INGEST_SIG_PREFIX_MAX + 2 * INGEST_SIG_LEN + 1];
    REQUIRE(ingest_keyring_parse(file, strlen(file), &k, err, sizeof(err)) == 0);
    CHECK_INT(ingest_keyring_count(k), 2);
    const char *body = "{\"id\":\"1\"}";
    REQUIRE(ingest_sig_sign("old-secret", 10, "sha256=", body, strlen(body), sig, sizeof(sig)) == 0);
    CHECK_INT(ingest_sig_verify(k, "sha256=", sig, strlen(sig), body, strlen(body)), 1);
    REQUIRE(ingest_sig_sign("new-secret", 10, "sha256=", body, strlen(body), sig, sizeof(sig)) == 0);
    CHECK_INT(ingest_sig_verify(k, "sha256=", sig, strlen(sig), body, strlen(body)), 0);
    /* blanks around the secret in the file are not part of it */
    REQUIRE(ingest_sig_sign("  new-secret", 12, "sha256=", body, strlen(body), sig, sizeof(sig)) == 0);
    CHECK_INT(ingest_sig_verify(k, "sha256=", sig, strlen(sig), body, strlen(body)), -EPERM);
    REQUIRE(ingest_sig_sign("other", 5, "sha256=", body, strlen(body), sig, sizeof(sig)) == 0);
    CHECK_INT(ingest_sig_verify(k, "sha256=", sig, strlen(sig), body, strlen(body)), -EPERM);
    CHECK_INT(ingest_sig_verify(k, "sha256=", "sha256=zz", 9, body, strlen(body)), -EINVAL);
    /* one flipped bit anywhere in the digest fails */
    REQUIRE(ingest_sig_sign("new-secret", 10, "sha256=", body, strlen(body), sig, sizeof(sig)) == 0);
    sig[strlen(sig) - 1] ^= 1;
    CHECK_INT(ingest_sig_verify(k, "sha256=", sig, strlen(sig), body, strlen(body)), -EPERM);
    ingest_keyring_free(k);
}

TEST(ingest_sig_sign_needs_room)
{
    char small[20];
    CHECK_INT(ingest_sig_sign("k", 1, "sha256=", "x", 1, small, sizeof(small)), -ENOSPC);
}

TEST(ingest_sig_keyring_rejects_empty_too_many_and_too_long)
{
    ingest_keyring *k = NULL;
    char err[160] = "";
    CHECK_INT(ingest_keyring_parse("# only a comment\n\n", 18, &k, err, sizeof(err)), -EINVAL);
    CHECK(k == NULL);
    CHECK(strstr(err, "no secret") != NULL);
    char *many = xcalloc(INGEST_SECRETS_MAX + 1, 4);
    for (int i = 0; i <= INGEST_SECRETS_MAX; i++)
        memcpy(many + 3 * i, "ab\n", 3);
    CHECK_INT(ingest_keyring_parse(many, strlen(many), &k, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "more than") != NULL);
    free(many);
    char *lng = xmalloc(INGEST_SECRET_MAX + 2);
    memset(lng, 'x', INGEST_SECRET_MAX + 1);
    lng[INGEST_SECRET_MAX + 1] = '\0';
    CHECK_INT(ingest_keyring_parse(lng, strlen(lng), &k, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "longer") != NULL);
    lng[INGEST_SECRET_MAX] = '\0';
    CHECK_INT(ingest_keyring_parse(lng, strlen(lng), &k, err, sizeof(err)), 0);
    ingest_keyring_free(k);
    free(lng);
}

TEST(ingest_sig_keyring_loads_a_file)
{
    char path[] = "/tmp/liftoff-test-secret-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    CHECK(write(fd, "s1\ns2\n", 6) == 6);
    close(fd);
    ingest_keyring *k = NULL;
    char err[256];
    CHECK_INT(ingest_keyring_load(path, &k, err, sizeof(err)), 0);
    CHECK_INT(ingest_keyring_count(k), 2);
    ingest_keyring_free(k);
    unlink(path);
    CHECK_INT(ingest_keyring_load(path, &k, err, sizeof(err)), -ENOENT);
    CHECK(strstr(err, path) != NULL);
}
