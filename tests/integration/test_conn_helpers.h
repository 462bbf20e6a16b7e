/*
 * test_conn_helpers.h — shared by the conn and redis integration tests:
 * running the loop until a condition holds, a test PKI made with the openssl
 * CLI, and an echo server on the conn layer.
 */
#ifndef LIFTOFF_TEST_CONN_HELPERS_H
#define LIFTOFF_TEST_CONN_HELPERS_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"
#include "conn.h"
#include "ev.h"

/* Safety net for a test that would otherwise hang; not a timing check. */
#define TEST_WAIT_MAX_MS 20000

/* Runs the loop until cond is true (or TEST_WAIT_MAX_MS passed); yields cond. */
#define WAIT_FOR(loop, cond)                                                   \
    ({                                                                         \
        uint64_t wait_end_ = lo_mono_ms() + TEST_WAIT_MAX_MS;                  \
        while (!(cond) && lo_mono_ms() < wait_end_)                            \
            ev_run_once((loop), 20);                                           \
        (cond);                                                                \
    })

/* Runs the loop for about ms milliseconds (to let things settle). */
void test_run_for(ev_loop *loop, uint32_t ms);

/* Path of a file of the test PKI, made once per process in a temporary
 * directory removed at exit: "ca.pem", "other-ca.pem", "server.pem",
 * "server.key" (CN and SAN localhost, 127.0.0.1, ::1), "client.pem",
 * "client.key". NULL if the openssl CLI failed. The string is static. */
const char *testcert(const char *name);

/* An echo server: every byte read is written back; it stops reading while
 * more than 1 MiB waits to be sent. */
typedef struct echo_server echo_server;
/* Listens on host (NULL: "::") at an ephemeral port; tls may be NULL. */
echo_server *echo_start(ev_loop *loop, const char *host, conn_tls *tls);
int echo_port(const echo_server *e);
/* Connections accepted / failed (e.g. TLS handshake errors) so far. */
int echo_accepted(const echo_server *e);
int echo_failed(const echo_server *e);
const char *echo_last_error(const echo_server *e);
void echo_stop(echo_server *e);

#endif
