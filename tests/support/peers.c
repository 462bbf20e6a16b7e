/* peers.c — start, stop and kill real peer servers for tests (see peers.h). */
#include "peers.h"
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define PEER_MAX_ARGS 32
#define PEER_READY_MS 15000

struct peer {
    char name[32];
    char dir[256];
    int port;
    pid_t pid;
    int port_ready;
    char *argv[PEER_MAX_ARGS + 1];
    peer *next;
};

static peer *all_peers;
static bool atexit_installed;

int peer_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* Replaces %PORT% and %DIR%; the caller frees the result. */
static char *substitute(const char *text, int port, const char *dir)
{
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    size_t cap = strlen(text) * 2 + 256, len = 0;
    char *out = xmalloc(cap);
    for (const char *s = text; *s;) {
        const char *rep = NULL;
        size_t skip = 0;
        if (strncmp(s, "%PORT%", 6) == 0)
            rep = portstr, skip = 6;
        else if (strncmp(s, "%DIR%", 5) == 0)
            rep = dir, skip = 5;
        size_t add = rep ? strlen(rep) : 1;
        if (len + add + 1 > cap) {
            cap = (len + add + 1) * 2;
            out = xrealloc(out, cap);
        }
        if (rep) {
            memcpy(out + len, rep, add);
            s += skip;
        } else {
            out[len] = *s++;
        }
        len += add;
    }
    out[len] = '\0';
    return out;
}

static int write_file(const char *path, const char *content)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    size_t n = strlen(content);
    int rc = fwrite(content, 1, n, f) == n ? 0 : -1;
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}

static void print_log_tail(const peer *p)
{
    char *cmd = xasprintf("tail -n 20 %s/*.log %s/*.out 2>/dev/null 1>&2", p->dir, p->dir);
    if (system(cmd) < 0)
        fprintf(stderr, "peers: cannot show the log of %s\n", p->name);
    free(cmd);
}

static bool port_accepts(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

static void reap(peer *p)
{
    if (p->pid > 0) {
        waitpid(p->pid, NULL, 0);
        p->pid = 0;
    }
}

static void stop_all(void)
{
    while (all_peers)
        peer_stop(all_peers);
}

static int launch(peer *p)
{
    char *out_path = xasprintf("%s/%s.out", p->dir, p->name);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        free(out_path);
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        int fd = open(out_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        int devnull = open("/dev/null", O_RDONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (devnull >= 0)
            dup2(devnull, 0);
        execvp(p->argv[0], p->argv);
        fprintf(stderr, "peers: cannot run %s: %s\n", p->argv[0], strerror(errno));
        _exit(127);
    }
    p->pid = pid;
    if (!p->port_ready)
        return 0;
    uint64_t deadline = lo_mono_ms() + PEER_READY_MS;
    while (lo_mono_ms() < deadline) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            p->pid = 0;
            fprintf(stderr, "peers: %s exited during start-up (status %d)\n", p->name, status);
            print_log_tail(p);
            return -1;
        }
        if (port_accepts(p->port))
            return 0;
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "peers: %s did not listen on port %d within %d ms\n", p->name, p->port, PEER_READY_MS);
    print_log_tail(p);
    return -1;
}

static peer *peer_new(const char *name)
{
    peer *p = xcalloc(1, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    const char *tmp = getenv("TMPDIR");
    snprintf(p->dir, sizeof p->dir, "%s/liftoff-%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
    if (!mkdtemp(p->dir)) {
        fprintf(stderr, "peers: mkdtemp %s: %s\n", p->dir, strerror(errno));
        free(p);
        return NULL;
    }
    chmod(p->dir, 0755);
    p->port = peer_free_port();
    if (!atexit_installed) {
        atexit(stop_all);
        atexit_installed = true;
    }
    p->next = all_peers;
    all_peers = p;
    return p;
}

static int set_argv(peer *p, const char *const argv[])
{
    int i = 0;
    for (; argv[i]; i++) {
        if (i == PEER_MAX_ARGS)
            return -1;
        p->argv[i] = substitute(argv[i], p->port, p->dir);
    }
    p->argv[i] = NULL;
    return 0;
}

peer *peer_spawn(const char *name, const char *const argv[], int port_ready)
{
    peer *p = peer_new(name);
    if (!p)
        return NULL;
    p->port_ready = port_ready;
    if (set_argv(p, argv) < 0 || launch(p) < 0) {
        peer_stop(p);
        return NULL;
    }
    return p;
}

peer *peer_redis_start(const char *extra_conf_lines)
{
    peer *p = peer_new("redis");
    if (!p)
        return NULL;
    p->port_ready = 1;
    char *base = substitute("port %PORT%\nbind 127.0.0.1\ndir %DIR%\nsave \"\"\nappendonly no\n"
                            "daemonize no\nlogfile %DIR%/redis.log\nprotected-mode no\n",
                            p->port, p->dir);
    char *extra = substitute(extra_conf_lines ? extra_conf_lines : "", p->port, p->dir);
    char *conf = xasprintf("%s%s\n", base, extra);
    char *conf_path = xasprintf("%s/redis.conf", p->dir);
    const char *argv[] = { "redis-server", conf_path, NULL };
    int rc = write_file(conf_path, conf);
    if (rc == 0)
        rc = set_argv(p, argv);
    if (rc == 0)
        rc = launch(p);
    free(base);
    free(extra);
    free(conf);
    free(conf_path);
    if (rc < 0) {
        peer_stop(p);
        return NULL;
    }
    return p;
}

static int write_docroot(const peer *p, const char *const files[])
{
    char *www = xasprintf("%s/www", p->dir);
    int rc = mkdir(www, 0755);
    for (int i = 0; rc == 0 && files && files[i] && files[i + 1]; i += 2) {
        char *path = xasprintf("%s/%s", www, files[i]);
        rc = write_file(path, files[i + 1]);
        chmod(path, 0644);
        free(path);
    }
    free(www);
    return rc;
}

peer *peer_nginx_start_http(const char *http_conf, const char *const docroot_files[])
{
    peer *p = peer_new("nginx");
    if (!p)
        return NULL;
    p->port_ready = 1;
    char *http = substitute(http_conf, p->port, p->dir);
    char *conf = substitute("daemon off;\nmaster_process off;\nworker_processes 1;\n"
                            "error_log %DIR%/error.log warn;\npid %DIR%/nginx.pid;\n"
                            "events { worker_connections 4096; }\n"
                            "http {\n  access_log off;\n"
                            "  client_body_temp_path %DIR%/tmp/body;\n"
                            "  proxy_temp_path %DIR%/tmp/proxy;\n"
                            "  fastcgi_temp_path %DIR%/tmp/fastcgi;\n"
                            "  uwsgi_temp_path %DIR%/tmp/uwsgi;\n"
                            "  scgi_temp_path %DIR%/tmp/scgi;\n",
                            p->port, p->dir);
    char *full = xasprintf("%s%s\n}\n", conf, http);
    char *conf_path = xasprintf("%s/nginx.conf", p->dir);
    char *tmp_dir = xasprintf("%s/tmp", p->dir);
    const char *argv[] = { "nginx", "-p", "%DIR%", "-c", conf_path, NULL };
    int rc = mkdir(tmp_dir, 0755);
    if (rc == 0)
        rc = write_docroot(p, docroot_files);
    if (rc == 0)
        rc = write_file(conf_path, full);
    if (rc == 0)
        rc = set_argv(p, argv);
    if (rc == 0)
        rc = launch(p);
    free(http);
    free(conf);
    free(full);
    free(conf_path);
    free(tmp_dir);
    if (rc < 0) {
        peer_stop(p);
        return NULL;
    }
    return p;
}

peer *peer_nginx_start(const char *server_conf, const char *const docroot_files[])
{
    char *http = xasprintf("  server {\n    listen 127.0.0.1:%%PORT%%;\n    root %%DIR%%/www;\n%s\n  }\n",
                           server_conf ? server_conf : "");
    peer *p = peer_nginx_start_http(http, docroot_files);
    free(http);
    return p;
}

int peer_port(const peer *p) { return p ? p->port : -1; }
int peer_pid(const peer *p) { return p ? (int)p->pid : -1; }

bool peer_exited(peer *p, int *status)
{
    if (!p || p->pid <= 0)
        return false;
    if (waitpid(p->pid, status, WNOHANG) != p->pid)
        return false;
    p->pid = 0; /* reaped: peer_stop() has nothing left to signal */
    return true;
}
const char *peer_dir(const peer *p) { return p ? p->dir : NULL; }

void peer_kill9(peer *p)
{
    if (p && p->pid > 0) {
        kill(p->pid, SIGKILL);
        reap(p);
    }
}

void peer_pause(peer *p)
{
    if (p && p->pid > 0)
        kill(p->pid, SIGSTOP);
}

void peer_resume(peer *p)
{
    if (p && p->pid > 0)
        kill(p->pid, SIGCONT);
}

int peer_restart(peer *p)
{
    if (!p)
        return -1;
    peer_kill9(p);
    return launch(p);
}

void peer_stop(peer *p)
{
    if (!p)
        return;
    if (p->pid > 0) {
        kill(p->pid, SIGCONT);
        kill(p->pid, SIGTERM);
        uint64_t deadline = lo_mono_ms() + 5000;
        while (p->pid > 0 && lo_mono_ms() < deadline) {
            if (waitpid(p->pid, NULL, WNOHANG) == p->pid)
                p->pid = 0;
            else {
                struct timespec ts = { 0, 10 * 1000 * 1000 };
                nanosleep(&ts, NULL);
            }
        }
        peer_kill9(p);
    }
    for (peer **pp = &all_peers; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    if (p->dir[0] && !getenv("LIFTOFF_KEEP_PEERS")) {
        char *cmd = xasprintf("rm -rf '%s'", p->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "peers: could not remove %s\n", p->dir);
        free(cmd);
    }
    for (int i = 0; p->argv[i]; i++)
        free(p->argv[i]);
    free(p);
}

int peer_sh(const peer *p, const char *cmdline)
{
    char *cmd = p ? substitute(cmdline, p->port, p->dir) : xstrdup(cmdline);
    int rc = system(cmd);
    free(cmd);
    if (rc < 0 || !WIFEXITED(rc))
        return -1;
    return WEXITSTATUS(rc);
}
