/* test_redis_helpers.c — reply recorder and client set-up for the redis
 * integration tests (see test_redis_helpers.h). */
#include "test_redis_helpers.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rec_cb(rds *r, const redisReply *reply, int err, void *arg)
{
    rec *x = arg;
    x->calls++;
    x->err = err;
    free(x->str);
    x->str = NULL;
    if (!reply)
        return;
    x->type = reply->type;
    x->integer = reply->integer;
    x->elements = reply->elements;
    if (reply->str) {
        x->str = xmalloc(reply->len + 1);
        memcpy(x->str, reply->str, reply->len);
        x->str[reply->len] = '\0';
        x->len = reply->len;
    }
}

void rec_free(rec *x)
{
    free(x->str);
    memset(x, 0, sizeof *x);
}

void states_cb(rds *r, rds_event ev, void *arg)
{
    states *s = arg;
    if (ev == RDS_UP)
        s->up++;
    else if (ev == RDS_DOWN)
        s->down++;
    else
        s->failed++;
}

rds *test_rds(ev_loop *loop, const rds_opts *extra, bool wait_up, const char *url_fmt, ...)
{
    char url[512];
    va_list ap;
    va_start(ap, url_fmt);
    vsnprintf(url, sizeof url, url_fmt, ap);
    va_end(ap);
    rds_opts o = extra ? *extra : (rds_opts){ 0 };
    o.url = url;
    rds *r = NULL;
    char err[256] = "";
    if (rds_new(loop, &o, &r, err, sizeof err) < 0) {
        fprintf(stderr, "    rds_new(%s): %s\n", url, err);
        return NULL;
    }
    if (wait_up && !WAIT_FOR(loop, rds_is_up(r))) {
        fprintf(stderr, "    %s never came up: %s\n", url, rds_error(r));
        rds_free(r);
        return NULL;
    }
    return r;
}
