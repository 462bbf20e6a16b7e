/* test_conn_helpers.c — loop, PKI and echo-server helpers for the conn and
 * redis integration tests (see test_conn_helpers.h). */
#include "test_conn_helpers.h"
#include "peers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ECHO_MAX_CONNS 64
#define ECHO_PAUSE_BYTES (1u << 20)

void test_run_for(ev_loop *loop, uint32_t ms)
{
    uint64_t end = lo_mono_ms() + ms;
    while (lo_mono_ms() < end)
        ev_run_once(loop, 10);
}

/* ---- PKI ---- */

static char pki_dir[256];
static int pki_state; /* 0 not tried, 1 ok, -1 failed */

static void pki_cleanup(void)
{
    if (pki_dir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", pki_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", pki_dir);
    }
}

static const char pki_script[] =
    "set -e; cd '%s'\n"
    "key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out \"$1\" 2>/dev/null; }\n"
    "key ca.key; key other-ca.key; key server.key; key client.key\n"
    "openssl req -x509 -new -key ca.key -out ca.pem -days 2 -subj /CN=liftoff-test-ca "
    "  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null\n"
    "openssl req -x509 -new -key other-ca.key -out other-ca.pem -days 2 -subj /CN=other-ca "
    "  -addext basicConstraints=critical,CA:TRUE 2>/dev/null\n"
    "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\\nextendedKeyUsage=serverAuth\\n' > server.ext\n"
    "printf 'extendedKeyUsage=clientAuth\\n' > client.ext\n"
    "openssl req -new -key server.key -out server.csr -subj /CN=localhost 2>/dev/null\n"
    "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
    "  -extfile server.ext -out server.pem 2>/dev/null\n"
    "openssl req -new -key client.key -out client.csr -subj /CN=liftoff-client 2>/dev/null\n"
    "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
    "  -extfile client.ext -out client.pem 2>/dev/null\n"
    "chmod 644 *.key\n";

const char *testcert(const char *name)
{
    static char paths[8][320];
    static int next;
    if (pki_state == 0) {
        const char *tmp = getenv("TMPDIR");
        snprintf(pki_dir, sizeof pki_dir, "%s/liftoff-pki.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(pki_dir)) {
            pki_dir[0] = '\0';
            pki_state = -1;
            return NULL;
        }
        atexit(pki_cleanup);
        char *script = xasprintf(pki_script, pki_dir);
        pki_state = peer_sh(NULL, script) == 0 ? 1 : -1;
        free(script);
        if (pki_state < 0)
            fprintf(stderr, "    openssl could not make the test certificates\n");
    }
    if (pki_state < 0)
        return NULL;
    char *p = paths[next++ % 8];
    snprintf(p, sizeof paths[0], "%s/%s", pki_dir, name);
    return p;
}

/* ---- echo server ---- */

struct echo_server {
    ev_loop *loop;
    conn_listener *l;
    conn *conns[ECHO_MAX_CONNS];
    int accepted, failed;
    char last_error[CONN_ERROR_MAX];
};

static void echo_forget(echo_server *e, conn *c)
{
    for (int i = 0; i < ECHO_MAX_CONNS; i++)
        if (e->conns[i] == c)
            e->conns[i] = NULL;
}

static void echo_readable(conn *c, void *ud)
{
    echo_server *e = ud;
    char chunk[16384];
    while (conn_out_pending(c) < ECHO_PAUSE_BYTES) {
        ssize_t n = conn_read(c, chunk, sizeof chunk);
        if (n == -EAGAIN)
            return;
        if (n <= 0) {
            echo_forget(e, c);
            if (n == 0)
                conn_close_flush(c, 2000);
            else
                conn_close(c);
            return;
        }
        if (conn_write(c, chunk, (size_t)n) < 0) {
            echo_forget(e, c);
            conn_close(c);
            return;
        }
    }
    conn_pause_read(c);
}

static void echo_drained(conn *c, void *ud)
{
    conn_resume_read(c);
}

static void echo_error(conn *c, int err, void *ud)
{
    echo_server *e = ud;
    e->failed++;
    snprintf(e->last_error, sizeof e->last_error, "%s", conn_error(c));
    echo_forget(e, c);
    conn_close(c);
}

static const conn_cbs echo_cbs = {
    .on_readable = echo_readable,
    .on_drained = echo_drained,
    .on_error = echo_error,
};

static void echo_accept(conn_listener *l, conn *c, void *arg)
{
    echo_server *e = arg;
    e->accepted++;
    conn_set_cbs(c, &echo_cbs, e);
    for (int i = 0; i < ECHO_MAX_CONNS; i++) {
        if (!e->conns[i]) {
            e->conns[i] = c;
            return;
        }
    }
    conn_close(c);
}

echo_server *echo_start(ev_loop *loop, const char *host, conn_tls *tls)
{
    echo_server *e = xcalloc(1, sizeof *e);
    e->loop = loop;
    conn_listen_opts o = { .host = host, .port = 0, .tls = tls };
    char err[CONN_ERROR_MAX];
    if (conn_listen(loop, &o, echo_accept, e, &e->l, err, sizeof err) < 0) {
        fprintf(stderr, "    echo server: %s\n", err);
        free(e);
        return NULL;
    }
    return e;
}

int echo_port(const echo_server *e) { return conn_listener_port(e->l); }
int echo_accepted(const echo_server *e) { return e->accepted; }
int echo_failed(const echo_server *e) { return e->failed; }
const char *echo_last_error(const echo_server *e) { return e->last_error; }

void echo_stop(echo_server *e)
{
    if (!e)
        return;
    for (int i = 0; i < ECHO_MAX_CONNS; i++)
        conn_close(e->conns[i]);
    conn_listener_close(e->l);
    free(e);
}
