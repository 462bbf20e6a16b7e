/*
 * peers.h — real peer servers for integration tests: redis-server, nginx, or
 * any program, started on free loopback ports in a private scratch directory.
 *
 * Every peer dies with the test process: children get PR_SET_PDEATHSIG, and
 * an atexit handler stops whatever is still running and removes its
 * directory. peer_stop() frees the peer; nothing else does.
 *
 * Config text passed in may use %PORT% (the peer's port) and %DIR% (its
 * scratch directory); they are replaced before the file is written.
 */
#ifndef LIFTOFF_TEST_PEERS_H
#define LIFTOFF_TEST_PEERS_H

#include <stdbool.h>

typedef struct peer peer;

/* A TCP port on 127.0.0.1 that was free a moment ago, or -1. */
int peer_free_port(void);

/* redis-server on a free port, no persistence unless extra_conf_lines (one
 * directive per line, may be NULL) says otherwise. NULL on failure (the
 * reason and the log tail are printed). */
peer *peer_redis_start(const char *extra_conf_lines);

/* nginx (one process, no master) serving docroot %DIR%/www on a free port.
 * server_conf goes inside the server{} block (may be NULL). docroot_files is
 * NULL or {name, content, name, content, ..., NULL}. */
peer *peer_nginx_start(const char *server_conf, const char *const docroot_files[]);
/* nginx with the whole http{} block given by the caller (it must listen on
 * 127.0.0.1:%PORT%). */
peer *peer_nginx_start_http(const char *http_conf, const char *const docroot_files[]);

/* Any program; argv entries may use %PORT% and %DIR%. Ready once a TCP
 * connect to the port succeeds (port_ready 0: ready at once). */
peer *peer_spawn(const char *name, const char *const argv[], int port_ready);

int peer_port(const peer *p);
int peer_pid(const peer *p);
/* True, with the wait status in *status, once the process has exited on its
 * own (it is then reaped, and peer_stop() only cleans up); never blocks. */
bool peer_exited(peer *p, int *status);
const char *peer_dir(const peer *p);

/* SIGTERM, then SIGKILL after 5 s; removes the directory; frees p. NULL-safe. */
void peer_stop(peer *p);
/* SIGKILL now and reap; the directory stays, so peer_restart() can reuse it. */
void peer_kill9(peer *p);
/* SIGSTOP / SIGCONT: a peer that is alive but does not answer. */
void peer_pause(peer *p);
void peer_resume(peer *p);
/* Starts the same command again on the same port; 0 or -1. */
int peer_restart(peer *p);

/* Runs a shell command line with %PORT%/%DIR% of p substituted (p may be
 * NULL); returns its exit status, or -1. Handy for redis-cli and openssl. */
int peer_sh(const peer *p, const char *cmdline);

#endif
