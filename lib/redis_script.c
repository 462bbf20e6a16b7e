/* redis_script.c — Lua scripts through EVALSHA with an EVAL fallback on
 * NOSCRIPT (see redis.h). */
#include "redis_int.h"
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#define RDS_SCRIPT_MAX_ARGS 1024 /* keys + arguments per call */

void rds_script_init(rds_script *s, const char *body)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    s->len = strlen(body);
    s->body = xstrndup(body, s->len);
    if (!EVP_Digest(s->body, s->len, md, &mdlen, EVP_sha1(), NULL) || mdlen != 20)
        abort(); /* SHA-1 is always there in OpenSSL 3 */
    for (unsigned i = 0; i < 20; i++)
        snprintf(s->sha + 2 * i, 3, "%02x", md[i]);
}

void rds_script_free(rds_script *s)
{
    free(s->body);
    s->body = NULL;
}

/* A call in flight: the script, the user's callback, and the arguments
 * after the SHA-1 (numkeys, keys, arguments) already in RESP, so a NOSCRIPT
 * answer can be retried as EVAL without the caller's memory. */
struct script_call {
    const rds_script *s;
    rds_cb *cb;
    void *arg;
    bool retried;
    int argc;              /* of the whole EVALSHA / EVAL command */
    size_t tail_len;
    char tail[];
};

/* The longest head: "*<argc>\r\n" (argc <= 3 + RDS_SCRIPT_MAX_ARGS, at most
 * 10 digits) + "$7\r\nEVALSHA\r\n" + "$40\r\n<sha>\r\n" = 15 + 13 + 47;
 * EVAL's "$4\r\nEVAL\r\n$<len>\r\n" is shorter. */
#define HEAD_MAX 80

static void on_reply(rds *r, const redisReply *reply, int err, void *arg);

/* Sends EVALSHA <sha> <tail>, or EVAL <body> <tail>. */
static int send_call(rds *r, struct script_call *sc, bool eval)
{
    char head[HEAD_MAX];
    char *p = rds_resp_put_header(head, sc->argc);
    struct iovec iov[4];
    int n = 0;
    if (eval) {
        /* the body is large: its bytes go in as they are */
        static const char verb[] = "$4\r\nEVAL\r\n";
        memcpy(p, verb, sizeof verb - 1);
        p += sizeof verb - 1;
        p += snprintf(p, (size_t)(head + sizeof head - p), "$%zu\r\n", sc->s->len);
        iov[n++] = (struct iovec){ head, (size_t)(p - head) };
        iov[n++] = (struct iovec){ sc->s->body, sc->s->len };
        iov[n++] = (struct iovec){ (void *)"\r\n", 2 };
    } else {
        static const char verb[] = "$7\r\nEVALSHA\r\n";
        memcpy(p, verb, sizeof verb - 1);
        p += sizeof verb - 1;
        p = rds_resp_put_bulk(p, sc->s->sha, 40);
        iov[n++] = (struct iovec){ head, (size_t)(p - head) };
    }
    iov[n++] = (struct iovec){ sc->tail, sc->tail_len };
    return rds_command_encoded(r, 0, iov, n, on_reply, sc);
}

static void on_reply(rds *r, const redisReply *reply, int err, void *arg)
{
    struct script_call *sc = arg;
    if (err == 0 && !sc->retried && reply->type == REDIS_REPLY_ERROR &&
        reply->len >= 8 && strncmp(reply->str, "NOSCRIPT", 8) == 0) {
        sc->retried = true;
        int rc = send_call(r, sc, true);
        if (rc == 0)
            return;
        err = rc;
        reply = NULL;
    }
    sc->cb(r, reply, err, sc->arg);
    free(sc);
}

int rds_script_run(rds *r, const rds_script *s, int nkeys, int nargs, const char *const *argv,
                   const size_t *argvlen, rds_cb *cb, void *arg)
{
    if (!s || !s->body || nkeys < 0 || nargs < 0 || nkeys + nargs > RDS_SCRIPT_MAX_ARGS ||
        (nkeys + nargs > 0 && !argv) || !cb)
        return -EINVAL;
    int nall = nkeys + nargs;
    for (int i = 0; i < nall; i++)
        if (!argv[i] && (!argvlen || argvlen[i]))
            return -EINVAL;
    char nk[16];
    size_t nklen = (size_t)snprintf(nk, sizeof nk, "%d", nkeys);
    size_t tail_len = rds_resp_bulk_len(nklen);
    for (int i = 0; i < nall; i++)
        tail_len += rds_resp_bulk_len(argvlen ? argvlen[i] : strlen(argv[i]));
    struct script_call *sc = xmalloc(sizeof *sc + tail_len);
    *sc = (struct script_call){ .s = s, .cb = cb, .arg = arg, .argc = 3 + nall,
                                .tail_len = tail_len };
    char *p = rds_resp_put_bulk(sc->tail, nk, nklen);
    for (int i = 0; i < nall; i++)
        p = rds_resp_put_bulk(p, argv[i], argvlen ? argvlen[i] : strlen(argv[i]));
    int rc = send_call(r, sc, false);
    if (rc < 0)
        free(sc);
    return rc;
}
