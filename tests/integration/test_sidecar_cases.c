/* test_sidecar_cases.c — runs every declarative case in
 * tests/integration/sidecar-cases/ against liftoff-sidecar in front of an
 * in-process origin. A case file:
 *
 *   # what it is about
 *   status: 400          status of the first response
 *   origin: 0            requests the origin must see (a number, or any)
 *   close: yes           the sidecar must close the connection (default yes)
 *   repeat: 17000        optional: {REPEAT} in the request becomes that many 'a'
 *   ---
 *   the raw request; newlines in the file are ignored, so every byte is
 *   explicit: \r \n \t \\ and \xNN are escapes.
 *
 * Adding a regression case is adding a file. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "common.h"
#include "test.h"
#include "test_sidecar_helpers.h"

#define CASES_DIR "tests/integration/sidecar-cases"
#define CASE_MAX (64u << 10)

typedef struct sc_case {
    int status;
    int origin;          /* -1: any */
    bool close;
    long repeat;
    buf_t req;
} sc_case;

static int hexv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool case_load(const char *path, sc_case *c)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    char *text = xcalloc(1, CASE_MAX + 1);
    size_t n = fread(text, 1, CASE_MAX, f);
    fclose(f);
    memset(c, 0, sizeof *c);
    c->status = -1;
    c->origin = -1;
    c->close = true;
    buf_init(&c->req, 1u << 20);
    char *body = strstr(text, "\n---\n");
    bool ok = body != NULL && n > 0;
    if (ok) {
        *body = 0;
        body += 5;
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
            if (sscanf(line, "status: %d", &c->status) == 1 ||
                sscanf(line, "repeat: %ld", &c->repeat) == 1)
                continue;
            if (strncmp(line, "origin: ", 8) == 0)
                c->origin = strcmp(line + 8, "any") == 0 ? -1 : atoi(line + 8);
            else if (strncmp(line, "close: ", 7) == 0)
                c->close = strcmp(line + 7, "no") != 0;
        }
        for (const char *p = body; *p; p++) {
            char ch = *p;
            if (ch == '\n')
                continue;
            if (strncmp(p, "{REPEAT}", 8) == 0) {
                for (long i = 0; i < c->repeat; i++)
                    buf_append(&c->req, "a", 1);
                p += 7;
                continue;
            }
            if (ch == '\\' && p[1]) {
                p++;
                switch (*p) {
                case 'r': ch = '\r'; break;
                case 'n': ch = '\n'; break;
                case 't': ch = '\t'; break;
                case 'x':
                    if (hexv(p[1]) >= 0 && hexv(p[2]) >= 0) {
                        ch = (char)(hexv(p[1]) * 16 + hexv(p[2]));
                        p += 2;
                    }
                    break;
                default: ch = *p; break;
                }
            }
            buf_append(&c->req, &ch, 1);
        }
    }
    free(text);
    if (!ok || c->status < 0)
        buf_free(&c->req);
    return ok && c->status >= 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool origin_saw_probe(void *arg) { return ((sco *)arg)->requests >= 1; }

typedef struct resp_wait {
    rawc *r;
    int n;
} resp_wait;

static bool has_n_responses(void *arg)
{
    resp_wait *w = arg;
    int st[8];
    size_t rest;
    const char *t = rawc_text(w->r);
    return w->r->eof || split_responses(t, strlen(t), st, 8, &rest) >= w->n;
}

TEST(sidecar_cases_smuggling_and_malformed_requests)
{
    DIR *d = opendir(CASES_DIR);
    if (!d) {
        test_skip("run from the repository root: " CASES_DIR " not found");
        return;
    }
    char *names[256];
    int nn = 0;
    struct dirent *de;
    while ((de = readdir(d)) && nn < 256)
        if (strstr(de->d_name, ".txt"))
            names[nn++] = xstrdup(de->d_name);
    closedir(d);
    qsort(names, (size_t)nn, sizeof names[0], cmp_names);
    CHECK(nn >= 10);

    ev_loop *loop = ev_loop_new();
    sco *o = sco_start(loop);
    REQUIRE(o);
    sc_env e;
    REQUIRE(sc_start(&e, o->port, NULL, NULL));
    CHECK(sc_wait(loop, origin_saw_probe, o, 5000));
    for (int i = 0; i < nn; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", CASES_DIR, names[i]);
        sc_case c;
        if (!case_load(path, &c)) {
            fprintf(stderr, "    %s: unreadable case (needs status: and ---)\n", names[i]);
            CHECK(!"case readable");
            continue;
        }
        int before = o->requests;
        rawc *r = rawc_open(loop, e.port);
        REQUIRE(r);
        rawc_send(r, buf_data(&c.req), buf_len(&c.req));
        bool head = sc_wait_head(loop, r, 5000);
        int st = sc_status(r);
        bool closed = c.close ? sc_wait_eof(loop, r, 5000) : true;
        if (c.origin > 0) {
            resp_wait w = { r, c.origin };
            sc_wait(loop, has_n_responses, &w, 5000);
        }
        int seen = o->requests - before;
        bool ok = head && st == c.status && closed && (c.origin < 0 || seen == c.origin) &&
                  (c.close || !r->eof);
        if (!ok)
            fprintf(stderr, "    %s: status %d (want %d), closed %d, origin saw %d (want %d)\n",
                    names[i], st, c.status, r->eof, seen, c.origin);
        CHECK(ok);
        rawc_close(r);
        buf_free(&c.req);
        sco_release(o);
    }
    for (int i = 0; i < nn; i++)
        free(names[i]);
    sc_stop(&e);
    sco_stop(o);
    ev_loop_free(loop);
}
