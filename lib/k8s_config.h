/*
 * k8s_config.h — where the Kubernetes API server is and how to authenticate
 * to it: a kubeconfig file (its current context, or a named one) or the
 * in-cluster service account.
 *
 * Credentials stay in memory: CA bundle, client certificate and key are
 * kept as PEM bytes (inline *-data fields are base64-decoded; file fields
 * are read once at load time) and handed to libcurl as blobs, never written
 * to temporary files. A bearer token from a file (in-cluster, or a
 * kubeconfig user's tokenFile) is re-read whenever the file changes on disk
 * (checked at most every K8S_TOKEN_RECHECK_MS), because projected
 * service-account tokens rotate.
 *
 * Supported kubeconfig fields: clusters[].cluster.{server,
 * certificate-authority, certificate-authority-data,
 * insecure-skip-tls-verify}; users[].user.{client-certificate(-data),
 * client-key(-data), token, tokenFile}; contexts[].context.{cluster, user,
 * namespace}; current-context. exec and auth-provider plugins and basic auth
 * are refused with a message (never silently ignored). Of several files in
 * KUBECONFIG (':'-separated), the first that exists is used.
 *
 * Ownership: a k8s_config is a value the caller embeds; every pointer in it
 * is owned by it and freed by k8s_config_free(). Not thread-safe.
 */
#ifndef LIFTOFF_K8S_CONFIG_H
#define LIFTOFF_K8S_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define K8S_KUBECONFIG_MAX (1u << 20)      /* largest kubeconfig file, bytes */
#define K8S_CRED_FILE_MAX (256u << 10)     /* largest CA/cert/key/token file */
#define K8S_TOKEN_RECHECK_MS 1000u         /* token file stat() at most this often */
#define K8S_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

typedef struct k8s_blob {
    char *data;     /* NUL-terminated copy; NULL when absent */
    size_t len;     /* bytes, without the NUL */
} k8s_blob;

typedef struct k8s_config {
    char *server;          /* "https://host:port[/prefix]", no trailing '/' */
    char *namespace;       /* the context's (or service account's) namespace; "default" */
    char *context;         /* the kubeconfig context used; NULL in-cluster */
    k8s_blob ca;           /* PEM CA bundle; empty: the system's */
    k8s_blob cert;         /* PEM client certificate */
    k8s_blob key;          /* PEM client key */
    char *token;           /* bearer token, or NULL */
    char *token_file;      /* re-read when it changes; NULL: token is fixed */
    bool insecure;         /* insecure-skip-tls-verify */
    /* token file state */
    dev_t token_dev;
    ino_t token_ino;
    off_t token_size;
    int64_t token_mtime_ns;
    uint64_t token_checked_ms;
} k8s_config;

/* Parses kubeconfig YAML text (len bytes) for context (NULL: its
 * current-context); relative file names are resolved against base_dir (NULL:
 * the working directory). 0, or -EINVAL / -ENOENT / -ENOTSUP with *err set to
 * a message the caller frees (err may be NULL). */
int k8s_config_parse_kubeconfig(const char *yaml, size_t len, const char *context,
                                const char *base_dir, k8s_config *out, char **err);
/* Reads and parses a kubeconfig file; errors as above (plus -errno of I/O). */
int k8s_config_load_kubeconfig(const char *path, const char *context, k8s_config *out,
                               char **err);
/* The in-cluster configuration: KUBERNETES_SERVICE_HOST/PORT, and the token,
 * ca.crt and namespace files in sa_dir (NULL: K8S_SA_DIR). */
int k8s_config_in_cluster(const char *sa_dir, k8s_config *out, char **err);
/* The usual search: kubeconfig_path (a --kubeconfig flag; NULL or "" to skip),
 * then $KUBECONFIG, then in-cluster when KUBERNETES_SERVICE_HOST is set, then
 * ~/.kube/config. context as for k8s_config_parse_kubeconfig. */
int k8s_config_load(const char *kubeconfig_path, const char *context, k8s_config *out,
                    char **err);
/* Frees (and wipes) everything c holds; c is zeroed. */
void k8s_config_free(k8s_config *c);

/* The bearer token to send now (NULL: none), re-read from token_file when it
 * changed (stat at most every K8S_TOKEN_RECHECK_MS of now_ms). A failed
 * re-read keeps the previous token. */
const char *k8s_config_token(k8s_config *c, uint64_t now_ms);

/* "https://host:port" with an IPv6 literal host in brackets (kept as is
 * when already bracketed). The caller frees it. */
char *k8s_server_url(const char *host, const char *port);

/* Decodes base64 (whitespace ignored, padding optional) into a fresh
 * NUL-terminated blob: 0 or -EINVAL. */
int k8s_base64_decode(const char *in, size_t len, k8s_blob *out);

#endif
