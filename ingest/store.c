/* store.c — batched, pipelined appends through the append script. */
#include <stdlib.h>
#include "store.h"

#include <errno.h>
#include <string.h>

#include "common.h"
#include "launch_name.h"

typedef struct store_job {
    struct store_job *next;
    char launch[LAUNCH_NAME_MAX + 1];
    const ingest_event *evs;
    size_t n;
    ingest_store_cb *cb;
    void *arg;
} store_job;

typedef struct store_call {
    ingest_store *s;
    struct store_call *prev, *next;   /* in-flight list */
    store_job *jobs;                  /* in order */
    size_t nevents;
    ingest_append_args args;
    const ingest_event **evp;
} store_call;

struct ingest_store {
    ev_loop *loop;
    rds *r;
    ingest_store_opts o;
    store_job *queue, **queue_tail;
    struct flush_token *flush_pending; /* the deferred flush, if any */
    store_call *calls;                /* in flight */
    size_t ncalls;                    /* how many */
    ingest_store_stats st;
};

/* What a deferred flush gets: the store, or NULL once it was freed. */
struct flush_token {
    ingest_store *s;
};

/* The script (text and SHA-1) is made once per process and never freed:
 * calls may outlive any one store (rds wants it valid until the reply). */
static rds_script append_script;

static const rds_script *script(void)
{
    if (!append_script.body)
        rds_script_init(&append_script, ingest_append_lua);
    return &append_script;
}

/* s is NULL for jobs of a call that outlived its store. */
static void job_done(ingest_store *s, store_job *j, int err, const ingest_append_result *res)
{
    if (s)
        s->st.inflight -= j->n;
    j->cb(j->arg, err, res, j->n);
    free(j);
}

static void pump(ingest_store *s);

/* Fails every queued (not yet sent) job with err. */
static void fail_queued(ingest_store *s, int err)
{
    /* detached first: a callback may queue new jobs meanwhile */
    store_job *j = s->queue, *next;
    s->queue = NULL;
    s->queue_tail = &s->queue;
    for (; j; j = next) {
        next = j->next;
        job_done(s, j, err, NULL);
    }
}

static void on_reply(rds *r, const redisReply *reply, int err, void *arg)
{
    store_call *c = arg;
    ingest_store *s = c->s;
    ingest_append_result *res = NULL;
    (void)r;
    if (!s) {
        for (store_job *j = c->jobs, *next; j; j = next) {
            next = j->next;
            job_done(NULL, j, -ECANCELED, NULL);
        }
        goto out;
    }
    {
        if (c->prev)
            c->prev->next = c->next;
        else
            s->calls = c->next;
        if (c->next)
            c->next->prev = c->prev;
        s->ncalls--;
    }
    if (err == 0) {
        res = xmalloc(c->nevents * sizeof(*res));
        if (ingest_append_parse_reply(reply, c->nevents, res) < 0)
            err = -EPROTO;
    }
    if (err < 0) {
        s->st.call_errors++;
    } else {
        for (size_t i = 0; i < c->nevents; i++) {
            if (res[i].status == INGEST_APPENDED)
                s->st.appended++;
            else if (res[i].status == INGEST_DUPLICATE)
                s->st.duplicates++;
            else
                s->st.failed_events++;
        }
    }
    size_t off = 0;
    for (store_job *j = c->jobs, *next; j; j = next) {
        size_t n = j->n;
        next = j->next;
        job_done(s, j, err, err < 0 ? NULL : res + off);
        off += n;
    }
    free(res);
    if (err < 0)
        fail_queued(s, err); /* they would wait for a Redis that just failed */
    pump(s);
out:
    ingest_append_args_free(&c->args);
    free(c->evp);
    free(c);
}

/* Sends one call with queued jobs of the first job's launch. */
static void send_one_call(ingest_store *s)
{
    store_call *c = xcalloc(1, sizeof(*c));
    store_job **tail = &c->jobs, **pp = &s->queue;
    const char *launch = s->queue->launch;
    c->s = s;
    while (*pp) {
        store_job *j = *pp;
        if (strcmp(j->launch, launch) != 0 ||
            (c->nevents > 0 && c->nevents + j->n > INGEST_STORE_CALL_EVENTS_MAX)) {
            pp = &j->next;
            continue;
        }
        *pp = j->next;
        j->next = NULL;
        *tail = j;
        tail = &j->next;
        c->nevents += j->n;
        if (c->nevents == INGEST_STORE_CALL_EVENTS_MAX)
            break;
    }
    if (!*pp) /* the last job was taken or passed: pp is the new tail */
        s->queue_tail = pp;
    c->evp = xmalloc(c->nevents * sizeof(*c->evp));
    size_t k = 0;
    for (store_job *j = c->jobs; j; j = j->next)
        for (size_t i = 0; i < j->n; i++)
            c->evp[k++] = &j->evs[i];
    ingest_append_build(&c->args, launch, s->o.maxlen, s->o.ttl_s,
                        (int64_t)(lo_wall_ms() / 1000), c->evp, c->nevents);
    c->next = s->calls;
    if (s->calls)
        s->calls->prev = c;
    s->calls = c;
    s->ncalls++;
    s->st.calls++;
    s->st.events += c->nevents;
    int rc = rds_script_run(s->r, script(), c->args.nkeys, c->args.nargs, c->args.argv,
                            c->args.argvlen, on_reply, c);
    if (rc < 0)
        on_reply(s->r, NULL, rc, c); /* misuse only; fail the jobs */
}

/* Sends queued jobs while a call slot is free. */
static void pump(ingest_store *s)
{
    while (s->queue && s->ncalls < s->o.calls_max)
        send_one_call(s);
}

static void flush(void *arg)
{
    struct flush_token *t = arg;
    ingest_store *s = t->s;
    free(t);
    if (!s)
        return;
    s->flush_pending = NULL;
    pump(s);
}

ingest_store *ingest_store_new(ev_loop *loop, rds *r, const ingest_store_opts *o)
{
    ingest_store *s = xcalloc(1, sizeof(*s));
    s->loop = loop;
    s->r = r;
    if (o)
        s->o = *o;
    if (!s->o.maxlen)
        s->o.maxlen = INGEST_MAXLEN_DEFAULT;
    if (!s->o.ttl_s)
        s->o.ttl_s = INGEST_DEDUPE_TTL_DEFAULT_S;
    if (!s->o.inflight_max)
        s->o.inflight_max = INGEST_STORE_INFLIGHT_DEFAULT;
    if (!s->o.calls_max)
        s->o.calls_max = INGEST_STORE_CALLS_DEFAULT;
    s->queue_tail = &s->queue;
    (void)script();
    return s;
}

void ingest_store_free(ingest_store *s)
{
    if (!s)
        return;
    if (s->flush_pending)
        s->flush_pending->s = NULL;
    fail_queued(s, -ECANCELED);
    /* Calls in flight keep their jobs (whose events they still point at)
     * until rds answers or fails them; they then fail the jobs. */
    for (store_call *c = s->calls; c; c = c->next)
        c->s = NULL;
    free(s);
}

int ingest_store_append(ingest_store *s, const char *launch, const ingest_event *evs, size_t n,
                        ingest_store_cb *cb, void *arg)
{
    size_t ll = strlen(launch);
    if (n == 0 || n > INGEST_STORE_CALL_EVENTS_MAX || !launch_name_valid(launch, ll) || !cb)
        return -EINVAL;
    if (s->st.inflight + n > s->o.inflight_max) {
        s->st.rejected++;
        return -EBUSY;
    }
    store_job *j = xcalloc(1, sizeof(*j));
    memcpy(j->launch, launch, ll + 1);
    j->evs = evs;
    j->n = n;
    j->cb = cb;
    j->arg = arg;
    *s->queue_tail = j;
    s->queue_tail = &j->next;
    s->st.inflight += n;
    if (!s->flush_pending) {
        s->flush_pending = xmalloc(sizeof(*s->flush_pending));
        s->flush_pending->s = s;
        ev_defer(s->loop, flush, s->flush_pending);
    }
    return 0;
}

void ingest_store_get_stats(const ingest_store *s, ingest_store_stats *out)
{
    *out = s->st;
}
