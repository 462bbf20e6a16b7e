/* test_ingest_http.c — liftoff-ingest as a process against a real
 * redis-server: every answer of the API (202, 200 duplicate, 401, 400, 413,
 * 415, 405, 404, 403, 429, 503), replays, rotation, CORS, launches in the
 * path, health, readiness and metrics. */
#include "test.h"
#include "test_ingest_helpers.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "common.h"
#include "ingest/signature.h"

#define START(e, redis_conf, flags)                                     \
    do {                                                                \
        if (!ih_binary()) {                                             \
            test_skip("bin/liftoff-ingest not built");                  \
            return;                                                     \
        }                                                               \
        REQUIRE(ih_start(&(e), (redis_conf), (flags)));                 \
    } while (0)

static const char *wh(const char *id)
{
    static char b[512];
    snprintf(b, sizeof(b),
             "{\"id\":\"%s\",\"event_type\":\"upvote\",\"created_at\":1700000000,"
             "\"data\":{\"post\":\"p1\",\"voter\":\"v\"}}",
             id);
    return b;
}

TEST(ingest_http_webhook_accepted_then_duplicate)
{
    ih_env e;
    ih_resp r;
    START(e, NULL, NULL);
    CHECK_INT(ih_webhook(e.port, "/v1/webhooks/producthunt", IH_SECRET, NULL, wh("evt-1"), &r), 202);
    CHECK(strstr(r.body, "\"status\":\"accepted\"") != NULL);
    CHECK(strstr(r.body, "\"id\":\"evt-1\"") != NULL);
    CHECK(strstr(r.body, "\"stream_id\":\"") != NULL);
    CHECK(strstr(ih_header(&r, "Content-Type"), "application/json") != NULL);
    /* the stream holds the normalised fields */
    CHECK_STR(ih_redis(&e, "XLEN liftoff:events:default"), "1");
    const char *x = ih_redis(&e, "XRANGE liftoff:events:default - +");
    CHECK(strstr(x, "id\nevt-1\ntype\nupvote\nts\n1700000000000\nsource\nwebhook\ndata\n"
                    "{\"post\":\"p1\",\"voter\":\"v\"}") != NULL);
    /* the same delivery again: 200 duplicate, not appended */
    CHECK_INT(ih_webhook(e.port, "/v1/webhooks/producthunt", IH_SECRET, NULL, wh("evt-1"), &r), 200);
    CHECK(strstr(r.body, "\"status\":\"duplicate\"") != NULL);
    CHECK_STR(ih_redis(&e, "XLEN liftoff:events:default"), "1");
    /* the previous secret still signs (rotation) */
    CHECK_INT(ih_webhook(e.port, "/v1/webhooks/producthunt", IH_SECRET_OLD, NULL, wh("evt-2"), &r), 202);
    /* a launch in the path selects the stream */
    CHECK_INT(ih_webhook(e.port, "/v1/webhooks/producthunt/spring-24", IH_SECRET, NULL, wh("evt-1"), &r), 202);
    CHECK_STR(ih_redis(&e, "XLEN liftoff:events:spring-24"), "1");
    CHECK_STR(ih_redis(&e, "XLEN liftoff:events:default"), "2");
    /* the id is remembered in the launch's set for today's dedupe bucket */
    CHECK_STR(ih_redis(&e, "SISMEMBER liftoff:seen:spring-24:$(($(date +%%s) / 86400)) evt-1"), "1");
    ih_stop(&e);
}

TEST(ingest_http_signature_failures_are_401)
{
    ih_env e;
    ih_resp r;
    START(e, NULL, NULL);
    CHECK_INT(ih_webhook(e.port, "/v1/webhooks/producthunt", NULL, NULL, wh("s1"), &r), 401);
    CHECK(strstr(r.body, "missing signature") != NULL);
    CHECK_INT(ih_webhook(e.port, "/v1/webhooks/producthunt", "wrong-secret", NULL, wh("s1"), &r), 401);
    CHECK(strstr(r.body, "bad signature") != NULL);
    const char *body = wh("s1");
    char *hdr = xasprintf("Content-Type: application/json\r\nX-Producthunt-Signature: md5=abc\r\n");
    CHECK_INT(ih_request(e.port, "POST", "/v1/webhooks/producthunt", hdr, body, strlen(body), &r), 401);
    CHECK(strstr(r.body, "malformed signature") != NULL);
    free(hdr);
    CHECK_STR(ih_redis(&e, "XLEN liftoff:events:default"), "0");
    CHECK_INT(ih_request(e.port, "GET", "/metrics", NULL, NULL, 0, &r), 200);
    CHECK(strstr(r.body, "liftoff_ingest_signature_failures_total 3") != NULL);
    CHECK(strstr(r.body, "liftoff_ingest_requests_total{route=\"webhook\",code=\"401\"} 3") != NULL);
    ih_stop(&e);
}

TEST(ingest_http_bad_bodies_name_the_field)
{
    ih_env e;
    ih_resp r;
    START(e, NULL, "--max-body 1KiB");
    CHECK_INT(ih_webhook(e.port, "/v1/webhooks/producthunt", IH_SECRET, NULL, "{\"id\":", &r), 400);
    CHECK(strstr(r.body, "\"error\":\"malformed\"") != NULL);
    CHECK_INT(ih_webhook(e.port, "/v1/webhooks/producthunt", IH_SECRET, NULL,
                         "{\"id\":\"x\",\"event_type\":\"upvote\",\"created_at\":\"yesterday\",\"data\":{}}", &r),
              400);
    CHECK(strstr(r.body, "\"field\":\"created_at\"") != NULL);
    CHECK(strstr(r.body, "\"error\":\"invalid\"") != NULL);
    CHECK_INT(ih_webhook(e.port, "/v1/webhooks/producthunt", IH_SECRET, NULL,
                         "{\"id\":\"x\",\"event_type\":\"upvote\",\"created_at\":1}", &r), 400);
    CHECK(strstr(r.body, "\"field\":\"data\"") != NULL);
    /* too large: 413 */
    char big[2048];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    char *body = xasprintf("{\"id\":\"x\",\"event_type\":\"u\",\"created_at\":1,\"data\":{\"pad\":\"%s\"}}", big);
    CHECK_INT(ih_webhook(e.port, "/v1/webhooks/producthunt", IH_SECRET, NULL, body, &r), 413);
    free(body);
    /* wrong content type: 415, whatever the signature */
    const char *ok = wh("ct");
    CHECK_INT(ih_request(e.port, "POST", "/v1/webhooks/producthunt", "Content-Type: text/plain\r\n", ok,
                         strlen(ok), &r), 415);
    CHECK_INT(ih_request(e.port, "POST", "/v1/webhooks/producthunt", NULL, ok, strlen(ok), &r), 415);
    /* method and path */
    CHECK_INT(ih_request(e.port, "GET", "/v1/webhooks/producthunt", NULL, NULL, 0, &r), 405);
    CHECK(strstr(ih_header(&r, "Allow"), "POST") != NULL);
    CHECK_INT(ih_request(e.port, "POST", "/v1/webhooks/elsewhere", NULL, ok, strlen(ok), &r), 404);
    CHECK_INT(ih_request(e.port, "GET", "/nope", NULL, NULL, 0, &r), 404);
    CHECK_INT(ih_request(e.port, "DELETE", "/healthz", NULL, NULL, 0, &r), 405);
    CHECK_STR(ih_redis(&e, "XLEN liftoff:events:default"), "0");
    ih_stop(&e);
}

TEST(ingest_http_replays_outside_the_window_are_refused)
{
    ih_env e;
    ih_resp r;
    START(e, NULL, "--replay-window 5m");
    char hdr[128];
    long long now = (long long)(lo_wall_ms() / 1000);
    snprintf(hdr, sizeof(hdr), "X-Producthunt-Timestamp: %lld\r\n", now - 600);
    CHECK_INT(ih_webhook(e.port, "/v1/webhooks/producthunt", IH_SECRET, hdr, wh("r1"), &r), 401);
    CHECK(strstr(r.body, "replay window") != NULL);
    snprintf(hdr, sizeof(hdr), "X-Producthunt-Timestamp: %lld\r\n", now + 600);
    CHECK_INT(ih_webhook(e.port, "/v1/webhooks/producthunt", IH_SECRET, hdr, wh("r1"), &r), 401);
    snprintf(hdr, sizeof(hdr), "X-Producthunt-Timestamp: soon\r\n");
    CHECK_INT(ih_webhook(e.port, "/v1/webhooks/producthunt", IH_SECRET, hdr, wh("r1"), &r), 401);
    snprintf(hdr, sizeof(hdr), "X-Producthunt-Timestamp: %lld\r\n", now - 10);
    CHECK_INT(ih_webhook(e.port, "/v1/webhooks/producthunt", IH_SECRET, hdr, wh("r1"), &r), 202);
    CHECK_INT(ih_request(e.port, "GET", "/metrics", NULL, NULL, 0, &r), 200);
    CHECK(strstr(r.body, "liftoff_ingest_replays_total 3") != NULL);
    ih_stop(&e);
}

static char *batch(int n, const char *type, int ts_base)
{
    buf_t b;
    buf_init(&b, 1 << 20);
    buf_append_str(&b, "[");
    for (int i = 0; i < n; i++)
        buf_appendf(&b, "%s{\"userId\":\"0f8fad5b-d9cb-469f-a165-70867728950e\",\"eventType\":\"%s\","
                        "\"payload\":{\"i\":%d},\"timestamp\":%d}",
                    i ? "," : "", type, i, ts_base + i);
    buf_append_str(&b, "]");
    char *s = xstrndup(buf_data(&b), buf_len(&b));
    buf_free(&b);
    return s;
}

TEST(ingest_http_visitor_batches_cors_and_duplicates)
{
    ih_env e;
    ih_resp r;
    START(e, NULL, "--cors-origins https://shop.example.com");
    char *b = batch(3, "scroll", 1700000000);
    const char *ct = "Content-Type: application/json\r\nOrigin: https://shop.example.com\r\n";
    CHECK_INT(ih_request(e.port, "POST", "/v1/events", ct, b, strlen(b), &r), 202);
    CHECK(strstr(r.body, "\"accepted\":3") != NULL);
    CHECK_STR(ih_header(&r, "Access-Control-Allow-Origin"), "https://shop.example.com");
    CHECK_STR(ih_header(&r, "Vary"), "Origin");
    CHECK_STR(ih_redis(&e, "XLEN liftoff:events:default"), "3");
    CHECK(strstr(ih_redis(&e, "XRANGE liftoff:events:default - + COUNT 1"), "source\nsite") != NULL);
    /* the same batch again (a browser retry): duplicates, nothing appended */
    CHECK_INT(ih_request(e.port, "POST", "/v1/events", ct, b, strlen(b), &r), 200);
    CHECK(strstr(r.body, "\"status\":\"duplicate\"") != NULL);
    CHECK(strstr(r.body, "\"duplicates\":3") != NULL);
    CHECK_STR(ih_redis(&e, "XLEN liftoff:events:default"), "3");
    /* an origin not on the list */
    CHECK_INT(ih_request(e.port, "POST", "/v1/events",
                         "Content-Type: application/json\r\nOrigin: https://evil.example\r\n", b,
                         strlen(b), &r), 403);
    /* preflight */
    CHECK_INT(ih_request(e.port, "OPTIONS", "/v1/events",
                         "Origin: https://shop.example.com\r\nAccess-Control-Request-Method: POST\r\n"
                         "Access-Control-Request-Headers: content-type\r\n",
                         NULL, 0, &r), 204);
    CHECK_STR(ih_header(&r, "Access-Control-Allow-Origin"), "https://shop.example.com");
    CHECK(strstr(ih_header(&r, "Access-Control-Allow-Methods"), "POST") != NULL);
    CHECK_STR(ih_header(&r, "Access-Control-Allow-Headers"), "Content-Type");
    CHECK_INT(ih_request(e.port, "OPTIONS", "/v1/events",
                         "Origin: https://evil.example\r\nAccess-Control-Request-Method: POST\r\n",
                         NULL, 0, &r), 403);
    /* schema errors name the item and field */
    free(b);
    b = batch(2, "purchase", 1);
    CHECK_INT(ih_request(e.port, "POST", "/v1/events", ct, b, strlen(b), &r), 400);
    CHECK(strstr(r.body, "\"field\":\"[0].eventType\"") != NULL);
    CHECK_STR(ih_header(&r, "Access-Control-Allow-Origin"), "https://shop.example.com");
    free(b);
    /* more events than --batch-max: 413 */
    b = batch(101, "hover", 1);
    CHECK_INT(ih_request(e.port, "POST", "/v1/events", ct, b, strlen(b), &r), 413);
    free(b);
    CHECK_INT(ih_request(e.port, "POST", "/v1/events", "Content-Type: text/plain\r\n", "[]", 2, &r), 415);
    CHECK_INT(ih_request(e.port, "PUT", "/v1/events", NULL, "[]", 2, &r), 405);
    ih_stop(&e);
}

TEST(ingest_http_rate_limit_answers_429_with_retry_after)
{
    ih_env e;
    ih_resp r;
    START(e, NULL, "--rate-limit 0.01 --rate-burst 2");
    char *b = batch(1, "hover", 1700000000);
    const char *ct = "Content-Type: application/json\r\n";
    CHECK_INT(ih_request(e.port, "POST", "/v1/events", ct, b, strlen(b), &r), 202);
    CHECK_INT(ih_request(e.port, "POST", "/v1/events", ct, b, strlen(b), &r), 200);
    CHECK_INT(ih_request(e.port, "POST", "/v1/events", ct, b, strlen(b), &r), 429);
    const char *ra = ih_header(&r, "Retry-After");
    REQUIRE(ra != NULL);
    CHECK(atoi(ra) >= 1);
    /* webhooks (from the platform) are not rate limited */
    CHECK_INT(ih_webhook(e.port, "/v1/webhooks/producthunt", IH_SECRET, NULL, wh("rl"), &r), 202);
    CHECK_INT(ih_request(e.port, "GET", "/metrics", NULL, NULL, 0, &r), 200);
    CHECK(strstr(r.body, "liftoff_ingest_rate_limited_total 1") != NULL);
    free(b);
    ih_stop(&e);
}

TEST(ingest_http_redis_down_is_503_and_not_ready_then_recovers)
{
    ih_env e;
    ih_resp r;
    START(e, NULL, "--retry-after 2s");
    CHECK_INT(ih_request(e.port, "GET", "/healthz", NULL, NULL, 0, &r), 200);
    CHECK_INT(ih_request(e.port, "GET", "/readyz", NULL, NULL, 0, &r), 200);
    peer_kill9(e.redis);
    int st = 0;
    for (int i = 0; i < 200 && st != 503; i++) {
        st = ih_webhook(e.port, "/v1/webhooks/producthunt", IH_SECRET, NULL, wh("d1"), &r);
        if (st != 503)
            usleep(20000);
    }
    CHECK_INT(st, 503);
    CHECK_STR(ih_header(&r, "Retry-After"), "2");
    CHECK(strstr(r.body, "unavailable") != NULL);
    CHECK_INT(ih_request(e.port, "GET", "/readyz", NULL, NULL, 0, &r), 503);
    CHECK_INT(ih_request(e.port, "GET", "/healthz", NULL, NULL, 0, &r), 200);
    REQUIRE(peer_restart(e.redis) == 0);
    st = 0;
    for (int i = 0; i < 500 && st != 200; i++) {
        st = ih_request(e.port, "GET", "/readyz", NULL, NULL, 0, &r);
        if (st != 200)
            usleep(20000);
    }
    CHECK_INT(st, 200);
    CHECK_INT(ih_webhook(e.port, "/v1/webhooks/producthunt", IH_SECRET, NULL, wh("d1"), &r), 202);
    CHECK_INT(ih_request(e.port, "GET", "/metrics", NULL, NULL, 0, &r), 200);
    CHECK(strstr(r.body, "liftoff_ingest_redis_errors_total") != NULL);
    CHECK(strstr(r.body, "liftoff_ingest_redis_errors_total 0\n") == NULL);
    ih_stop(&e);
}

TEST(ingest_http_redis_slower_than_deadline_is_503)
{
    ih_env e;
    ih_resp r;
    START(e, NULL, "--redis-deadline 200ms");
    CHECK_INT(ih_webhook(e.port, "/v1/webhooks/producthunt", IH_SECRET, NULL, wh("p0"), &r), 202);
    peer_pause(e.redis);
    CHECK_INT(ih_webhook(e.port, "/v1/webhooks/producthunt", IH_SECRET, NULL, wh("p1"), &r), 503);
    CHECK(strstr(r.body, "too slow") != NULL);
    CHECK(ih_header(&r, "Retry-After") != NULL);
    peer_resume(e.redis);
    /* the sender retries: stored once, whether or not the late call ran */
    int st = 0;
    for (int i = 0; i < 500 && st != 202 && st != 200; i++) {
        st = ih_webhook(e.port, "/v1/webhooks/producthunt", IH_SECRET, NULL, wh("p1"), &r);
        if (st != 202 && st != 200)
            usleep(20000);
    }
    CHECK(st == 202 || st == 200);
    CHECK_STR(ih_redis(&e, "XLEN liftoff:events:default"), "2");
    ih_stop(&e);
}

TEST(ingest_http_settings_from_the_environment)
{
    ih_env e;
    ih_resp r;
    if (!ih_binary()) {
        test_skip("bin/liftoff-ingest not built");
        return;
    }
    REQUIRE(ih_start_env(&e, NULL,
                         "LIFTOFF_LAUNCH=from-env LIFTOFF_SIGNATURE_HEADER=X-Sig "
                         "LIFTOFF_SIGNATURE_PREFIX=v1= LIFTOFF_PLATFORM=launchpad",
                         NULL));
    const char *body = wh("env-1");
    char sig[INGEST_SIG_PREFIX_MAX + 2 * INGEST_SIG_LEN + 1];
    ingest_sig_sign(IH_SECRET, strlen(IH_SECRET), "v1=", body, strlen(body), sig, sizeof(sig));
    char *hdr = xasprintf("Content-Type: application/json\r\nX-Sig: %s\r\n", sig);
    CHECK_INT(ih_request(e.port, "POST", "/v1/webhooks/launchpad", hdr, body, strlen(body), &r), 202);
    CHECK_STR(ih_redis(&e, "XLEN liftoff:events:from-env"), "1");
    /* the default header and path are not in use any more */
    CHECK_INT(ih_webhook(e.port, "/v1/webhooks/producthunt", IH_SECRET, NULL, body, &r), 404);
    CHECK_INT(ih_webhook(e.port, "/v1/webhooks/launchpad", IH_SECRET, NULL, body, &r), 401);
    free(hdr);
    ih_stop(&e);
}

TEST(ingest_http_secret_rotation_by_file_and_sighup)
{
    ih_env e;
    ih_resp r;
    START(e, NULL, "--secret-reload 0");
    /* replace both secrets by a new one and tell the process */
    char *path = xasprintf("%s/secret", peer_dir(e.ingest));
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fputs("# rotated\nbrand-new-secret\n", f);
    fclose(f);
    free(path);
    CHECK_INT(kill(peer_pid(e.ingest), SIGHUP), 0);
    int st = 0;
    for (int i = 0; i < 500 && st != 202; i++) {
        st = ih_webhook(e.port, "/v1/webhooks/producthunt", "brand-new-secret", NULL, wh("rot-1"), &r);
        if (st != 202)
            usleep(10000);
    }
    CHECK_INT(st, 202);
    CHECK_INT(ih_webhook(e.port, "/v1/webhooks/producthunt", IH_SECRET, NULL, wh("rot-2"), &r), 401);
    /* a broken file keeps the secrets that work */
    path = xasprintf("%s/secret", peer_dir(e.ingest));
    f = fopen(path, "w");
    REQUIRE(f);
    fputs("\n", f);
    fclose(f);
    free(path);
    CHECK_INT(kill(peer_pid(e.ingest), SIGHUP), 0);
    bool noticed = false;
    char *grep = xasprintf("grep -q 'secret reload failed' '%s/ingest.out'", peer_dir(e.ingest));
    for (int i = 0; i < 500 && !noticed; i++) {
        noticed = system(grep) == 0;
        if (!noticed)
            usleep(10000);
    }
    free(grep);
    CHECK(noticed);
    CHECK_INT(ih_webhook(e.port, "/v1/webhooks/producthunt", "brand-new-secret", NULL, wh("rot-3"), &r), 202);
    ih_stop(&e);
}

TEST(ingest_http_help_lists_every_flag_and_env)
{
    const char *bin = ih_binary();
    if (!bin) {
        test_skip("bin/liftoff-ingest not built");
        return;
    }
    char *cmd = xasprintf("'%s' --help", bin);
    FILE *f = popen(cmd, "r");
    free(cmd);
    REQUIRE(f);
    static char out[65536];
    size_t n = fread(out, 1, sizeof(out) - 1, f);
    out[n] = '\0';
    CHECK_INT(pclose(f), 0);
    const char *want[] = { "--listen", "--redis", "--secret-file", "--launch", "--signature-header",
                           "--signature-prefix", "--timestamp-header", "--replay-window",
                           "--max-body", "--batch-max", "--stream-maxlen", "--dedupe-ttl",
                           "--redis-deadline", "--cors-origins", "--rate-limit", "--max-conns",
                           "--header-timeout", "LIFTOFF_SECRET_FILE", "LIFTOFF_LISTEN" };
    for (size_t i = 0; i < LO_ARRAY_SIZE(want); i++) {
        if (!strstr(out, want[i]))
            fprintf(stderr, "    --help lacks %s\n", want[i]);
        CHECK(strstr(out, want[i]) != NULL);
    }
    /* a missing secret file is a start-up error, not a running server */
    cmd = xasprintf("'%s' --listen 127.0.0.1:0 --secret-file /nonexistent/secret 2>/dev/null", bin);
    CHECK(system(cmd) != 0);
    free(cmd);
}
