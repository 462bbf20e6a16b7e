/* k8s_config.c — in-cluster configuration, the kubeconfig search order, the
 * rotating token file, URL and base64 helpers (see k8s_config.h). */
#include "k8s_config.h"
#include "k8s_int.h"
#include "common.h"
#include "file_read.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void k8s__blob_free(k8s_blob *b)
{
    file_wipe_free(b->data, b->len); /* credentials: none left in freed memory */
    b->data = NULL;
    b->len = 0;
}

int k8s__read_file(const char *path, size_t max, k8s_blob *out)
{
    return file_read_all(path, max, &out->data, &out->len);
}

void k8s_config_free(k8s_config *c)
{
    free(c->server);
    free(c->namespace);
    free(c->context);
    k8s__blob_free(&c->ca);
    k8s__blob_free(&c->cert);
    k8s__blob_free(&c->key);
    if (c->token) {
        explicit_bzero(c->token, strlen(c->token));
        free(c->token);
    }
    free(c->token_file);
    memset(c, 0, sizeof *c);
}

/* Trims trailing whitespace (token files often end in a newline). */
static void rtrim(k8s_blob *b)
{
    while (b->len && (b->data[b->len - 1] == '\n' || b->data[b->len - 1] == '\r' ||
                      b->data[b->len - 1] == ' ' || b->data[b->len - 1] == '\t'))
        b->data[--b->len] = '\0';
}

const char *k8s_config_token(k8s_config *c, uint64_t now_ms)
{
    if (!c->token_file)
        return c->token;
    if (c->token && now_ms - c->token_checked_ms < K8S_TOKEN_RECHECK_MS)
        return c->token;
    c->token_checked_ms = now_ms;
    struct stat st;
    if (stat(c->token_file, &st) < 0)
        return c->token;
    int64_t mtime = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    if (c->token && st.st_dev == c->token_dev && st.st_ino == c->token_ino &&
        st.st_size == c->token_size && mtime == c->token_mtime_ns)
        return c->token;
    k8s_blob b = { 0 };
    if (k8s__read_file(c->token_file, K8S_CRED_FILE_MAX, &b) < 0)
        return c->token;
    rtrim(&b);
    if (b.len == 0 || memchr(b.data, '\n', b.len) || memchr(b.data, '\r', b.len)) {
        k8s__blob_free(&b); /* half-written or not a token: keep the old one */
        return c->token;
    }
    if (c->token) {
        explicit_bzero(c->token, strlen(c->token));
        free(c->token);
    }
    c->token = b.data;
    c->token_dev = st.st_dev;
    c->token_ino = st.st_ino;
    c->token_size = st.st_size;
    c->token_mtime_ns = mtime;
    return c->token;
}

char *k8s_server_url(const char *host, const char *port)
{
    bool v6 = strchr(host, ':') && host[0] != '[';
    if (!port || !*port)
        return xasprintf(v6 ? "https://[%s]" : "https://%s", host);
    return xasprintf(v6 ? "https://[%s]:%s" : "https://%s:%s", host, port);
}

int k8s_config_in_cluster(const char *sa_dir, k8s_config *out, char **err)
{
    memset(out, 0, sizeof *out);
    if (err)
        *err = NULL;
    if (!sa_dir)
        sa_dir = K8S_SA_DIR;
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    const char *port = getenv("KUBERNETES_SERVICE_PORT");
    int rc = 0;
    char *path = NULL;
    if (!host || !*host) {
        rc = -ENOENT;
        if (err)
            *err = xstrdup("in-cluster: KUBERNETES_SERVICE_HOST is not set");
        goto out;
    }
    out->server = k8s_server_url(host, port);
    path = xasprintf("%s/ca.crt", sa_dir);
    if ((rc = k8s__read_file(path, K8S_CRED_FILE_MAX, &out->ca)) < 0) {
        if (err)
            *err = xasprintf("in-cluster: %s: %s", path, strerror(-rc));
        goto out;
    }
    free(path);
    path = xasprintf("%s/namespace", sa_dir);
    k8s_blob ns = { 0 };
    if (k8s__read_file(path, 1024, &ns) == 0) {
        rtrim(&ns);
        out->namespace = ns.len ? xstrdup(ns.data) : NULL;
        k8s__blob_free(&ns);
    }
    if (!out->namespace)
        out->namespace = xstrdup("default");
    free(path);
    path = NULL;
    out->token_file = xasprintf("%s/token", sa_dir);
    if (!k8s_config_token(out, lo_mono_ms())) {
        rc = -ENOENT;
        if (err)
            *err = xasprintf("in-cluster: %s cannot be read", out->token_file);
        goto out;
    }
out:
    free(path);
    if (rc < 0)
        k8s_config_free(out);
    return rc;
}

int k8s_config_load(const char *kubeconfig_path, const char *context, k8s_config *out,
                    char **err)
{
    if (kubeconfig_path && *kubeconfig_path)
        return k8s_config_load_kubeconfig(kubeconfig_path, context, out, err);
    const char *env = getenv("KUBECONFIG");
    if (env && *env) {
        /* The first file of the list that exists. */
        char *list = xstrdup(env), *save = NULL;
        int rc = -ENOENT;
        bool found = false;
        for (char *p = strtok_r(list, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
            if (access(p, F_OK) == 0) {
                rc = k8s_config_load_kubeconfig(p, context, out, err);
                found = true;
                break;
            }
        }
        free(list);
        if (found)
            return rc;
        memset(out, 0, sizeof *out);
        if (err)
            *err = xasprintf("KUBECONFIG=%s: no such file", env);
        return rc;
    }
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    if (host && *host)
        return k8s_config_in_cluster(NULL, out, err);
    const char *home = getenv("HOME");
    if (!home || !*home) {
        memset(out, 0, sizeof *out);
        if (err)
            *err = xstrdup("no kubeconfig: no --kubeconfig, KUBECONFIG, in-cluster "
                           "environment or HOME");
        return -ENOENT;
    }
    char *path = xasprintf("%s/.kube/config", home);
    int rc = k8s_config_load_kubeconfig(path, context, out, err);
    free(path);
    return rc;
}

/* ---- base64 ---- */

static int b64_value(unsigned char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+')
        return 62;
    if (ch == '/')
        return 63;
    return -1;
}

int k8s_base64_decode(const char *in, size_t len, k8s_blob *out)
{
    char *dst = xmalloc(len / 4 * 3 + 4);
    size_t n = 0, pad = 0;
    uint32_t acc = 0;
    unsigned bits = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t')
            continue;
        if (ch == '=') {
            pad++;
            continue;
        }
        int v = b64_value(ch);
        if (v < 0 || pad)
            goto bad; /* junk, or data after padding */
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            dst[n++] = (char)(acc >> bits & 0xff);
        }
    }
    /* Leftover bits: 0 (complete), 2 (one byte + "=="), 4 (two bytes + "="). */
    if (bits == 6 || pad > 2 || (pad && (bits / 2 != pad)) || (acc & ((1u << bits) - 1)))
        goto bad;
    dst[n] = '\0';
    out->data = dst;
    out->len = n;
    return 0;
bad:
    explicit_bzero(dst, n);
    free(dst);
    return -EINVAL;
}
