/* redis_script.c — Lua scripts through EVALSHA with an EVAL fallback on
 * NOSCRIPT (see redis.h). */
#include "redis.h"
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

/* A call in flight: the script, the user's callback, and a copy of the
 * command line (argv[0] and [1] are swapped for EVAL on NOSCRIPT). */
struct script_call {
    const rds_script *s;
    rds_cb *cb;
    void *arg;
    bool retried;
    int argc;
    const char **argv;
    size_t *argvlen;
    char nkeys[16];
};

static void call_free(struct script_call *sc)
{
    free(sc->argv);
    free(sc->argvlen);
    free(sc);
}

static void on_reply(rds *r, const redisReply *reply, int err, void *arg)
{
    struct script_call *sc = arg;
    if (err == 0 && !sc->retried && reply->type == REDIS_REPLY_ERROR &&
        reply->len >= 8 && strncmp(reply->str, "NOSCRIPT", 8) == 0) {
        sc->retried = true;
        sc->argv[0] = "EVAL";
        sc->argv[1] = sc->s->body;
        sc->argvlen[0] = 4;
        sc->argvlen[1] = sc->s->len;
        int rc = rds_command_argv(r, sc->argc, sc->argv, sc->argvlen, on_reply, sc);
        if (rc == 0)
            return;
        err = rc;
        reply = NULL;
    }
    sc->cb(r, reply, err, sc->arg);
    call_free(sc);
}

int rds_script_run(rds *r, const rds_script *s, int nkeys, int nargs, const char *const *argv,
                   const size_t *argvlen, rds_cb *cb, void *arg)
{
    if (!s || !s->body || nkeys < 0 || nargs < 0 || nkeys + nargs > RDS_SCRIPT_MAX_ARGS ||
        (nkeys + nargs > 0 && !argv) || !cb)
        return -EINVAL;
    struct script_call *sc = xcalloc(1, sizeof *sc);
    sc->s = s;
    sc->cb = cb;
    sc->arg = arg;
    sc->argc = 3 + nkeys + nargs;
    sc->argv = xmalloc((size_t)sc->argc * sizeof *sc->argv);
    sc->argvlen = xmalloc((size_t)sc->argc * sizeof *sc->argvlen);
    snprintf(sc->nkeys, sizeof sc->nkeys, "%d", nkeys);
    sc->argv[0] = "EVALSHA";
    sc->argvlen[0] = 7;
    sc->argv[1] = s->sha;
    sc->argvlen[1] = 40;
    sc->argv[2] = sc->nkeys;
    sc->argvlen[2] = strlen(sc->nkeys);
    for (int i = 0; i < nkeys + nargs; i++) {
        sc->argv[3 + i] = argv[i];
        sc->argvlen[3 + i] = argvlen ? argvlen[i] : strlen(argv[i]);
    }
    int rc = rds_command_argv(r, sc->argc, sc->argv, sc->argvlen, on_reply, sc);
    if (rc < 0)
        call_free(sc);
    return rc;
}
