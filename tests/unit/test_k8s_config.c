/* test_k8s_config.c — kubeconfig parsing (inline data, files, contexts,
 * refusals), in-cluster configuration and token rotation, server URLs and
 * base64. */
#include "test.h"
#include "k8s_config.h"
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* base64 of "CA-PEM", "CERT-PEM", "KEY-PEM" */
#define CA_B64 "Q0EtUEVN"
#define CERT_B64 "Q0VSVC1QRU0="
#define KEY_B64 "S0VZLVBFTQ=="

static const char kubeconfig[] =
    "apiVersion: v1\n"
    "kind: Config\n"
    "clusters:\n"
    "- name: prod\n"
    "  cluster:\n"
    "    server: https://10.0.0.1:6443/\n"
    "    certificate-authority-data: " CA_B64 "\n"
    "- name: lab\n"
    "  cluster:\n"
    "    server: https://[fd00::10]:443\n"
    "    insecure-skip-tls-verify: true\n"
    "users:\n"
    "- name: admin\n"
    "  user:\n"
    "    client-certificate-data: " CERT_B64 "\n"
    "    client-key-data: |\n"
    "      S0VZ\n"
    "      LVBFTQ==\n"
    "- name: robot\n"
    "  user:\n"
    "    token: abc.def\n"
    "- name: plugin\n"
    "  user:\n"
    "    exec:\n"
    "      command: get-token\n"
    "- name: half\n"
    "  user:\n"
    "    client-certificate-data: " CERT_B64 "\n"
    "contexts:\n"
    "- name: prod-admin\n"
    "  context: {cluster: prod, user: admin, namespace: shop}\n"
    "- name: lab-robot\n"
    "  context:\n"
    "    cluster: lab\n"
    "    user: robot\n"
    "- name: lab-plugin\n"
    "  context: {cluster: lab, user: plugin}\n"
    "- name: lab-half\n"
    "  context: {cluster: lab, user: half}\n"
    "- name: lost\n"
    "  context: {cluster: nowhere, user: admin}\n"
    "current-context: prod-admin\n";

static int parse(const char *ctx, k8s_config *c, char **err)
{
    return k8s_config_parse_kubeconfig(kubeconfig, strlen(kubeconfig), ctx, NULL, c, err);
}

TEST(k8s_kubeconfig_current_context_with_inline_data)
{
    k8s_config c;
    char *err = NULL;
    REQUIRE(parse(NULL, &c, &err) == 0);
    CHECK(err == NULL);
    CHECK_STR(c.server, "https://10.0.0.1:6443"); /* trailing '/' trimmed */
    CHECK_STR(c.context, "prod-admin");
    CHECK_STR(c.namespace, "shop");
    CHECK_STR(c.ca.data, "CA-PEM");
    CHECK_INT(c.ca.len, 6);
    CHECK_STR(c.cert.data, "CERT-PEM");
    CHECK_STR(c.key.data, "KEY-PEM"); /* a block scalar over two lines */
    CHECK(c.token == NULL);
    CHECK(!c.insecure);
    k8s_config_free(&c);
    CHECK(c.server == NULL);
}

TEST(k8s_kubeconfig_named_context_token_ipv6)
{
    k8s_config c;
    REQUIRE(parse("lab-robot", &c, NULL) == 0);
    CHECK_STR(c.server, "https://[fd00::10]:443");
    CHECK_STR(c.namespace, "default");
    CHECK_STR(c.token, "abc.def");
    CHECK_STR(k8s_config_token(&c, 0), "abc.def");
    CHECK(c.insecure);
    CHECK(c.ca.data == NULL);
    CHECK(c.cert.data == NULL);
    k8s_config_free(&c);
}

TEST(k8s_kubeconfig_refusals_name_the_problem)
{
    k8s_config c;
    char *err = NULL;
    CHECK_INT(parse("lab-plugin", &c, &err), -ENOTSUP);
    CHECK(err && strstr(err, "exec") && strstr(err, "plugin"));
    free(err);
    CHECK_INT(parse("lab-half", &c, &err), -EINVAL);
    CHECK(err && strstr(err, "without a key"));
    free(err);
    CHECK_INT(parse("lost", &c, &err), -ENOENT);
    CHECK(err && strstr(err, "cluster \"nowhere\""));
    free(err);
    CHECK_INT(parse("nope", &c, &err), -ENOENT);
    CHECK(err && strstr(err, "context \"nope\""));
    free(err);
    CHECK(c.server == NULL); /* nothing left to free after a failure */
}

TEST(k8s_kubeconfig_malformed_inputs)
{
    k8s_config c;
    char *err = NULL;
    const char *bad_yaml = "clusters: [\n  - name: x\n";
    CHECK_INT(k8s_config_parse_kubeconfig(bad_yaml, strlen(bad_yaml), NULL, NULL, &c, &err),
              -EINVAL);
    CHECK(err && strstr(err, "YAML"));
    free(err);
    const char *no_current = "clusters: []\n";
    CHECK_INT(k8s_config_parse_kubeconfig(no_current, strlen(no_current), NULL, NULL, &c, &err),
              -ENOENT);
    free(err);
    const char *bad_b64 =
        "clusters: [{name: a, cluster: {server: 'https://h', certificate-authority-data: 'Q0E*'}}]\n"
        "contexts: [{name: a, context: {cluster: a}}]\ncurrent-context: a\n";
    CHECK_INT(k8s_config_parse_kubeconfig(bad_b64, strlen(bad_b64), NULL, NULL, &c, &err),
              -EINVAL);
    CHECK(err && strstr(err, "certificate-authority-data"));
    free(err);
    const char *not_http = "clusters: [{name: a, cluster: {server: 'ftp://h'}}]\n"
                           "contexts: [{name: a, context: {cluster: a}}]\ncurrent-context: a\n";
    CHECK_INT(k8s_config_parse_kubeconfig(not_http, strlen(not_http), NULL, NULL, &c, &err),
              -EINVAL);
    free(err);
    /* A context without a user is anonymous, not an error. */
    const char *anon = "clusters: [{name: a, cluster: {server: 'http://h:8080'}}]\n"
                       "contexts: [{name: a, context: {cluster: a}}]\ncurrent-context: a\n";
    CHECK_INT(k8s_config_parse_kubeconfig(anon, strlen(anon), NULL, NULL, &c, NULL), 0);
    CHECK_STR(c.server, "http://h:8080");
    CHECK(c.token == NULL && c.cert.data == NULL);
    k8s_config_free(&c);
}

/* ---- files ---- */

static char *scratch_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    char *tmpl = xasprintf("%s/liftoff-k8s-test.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    char *d = mkdtemp(tmpl) ? tmpl : NULL;
    if (!d)
        free(tmpl);
    return d;
}

static void write_file(const char *dir, const char *name, const char *content)
{
    char *p = xasprintf("%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(content, f);
        fclose(f);
    }
    free(p);
}

static void remove_dir(const char *dir)
{
    char *cmd = xasprintf("rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "    could not remove %s\n", dir);
    free(cmd);
}

TEST(k8s_kubeconfig_files_relative_to_the_kubeconfig)
{
    char *dir = scratch_dir();
    REQUIRE(dir);
    write_file(dir, "ca.crt", "CA FROM FILE\n");
    write_file(dir, "admin.crt", "CERT FROM FILE\n");
    write_file(dir, "admin.key", "KEY FROM FILE\n");
    write_file(dir, "token", "file-token\n");
    write_file(dir, "config",
               "clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1234\n"
               "    certificate-authority: ca.crt\n"
               "users:\n- name: u\n  user:\n    client-certificate: admin.crt\n"
               "    client-key: admin.key\n"
               "- name: t\n  user:\n    tokenFile: token\n"
               "contexts:\n- name: cu\n  context: {cluster: c, user: u}\n"
               "- name: ct\n  context: {cluster: c, user: t}\n"
               "current-context: cu\n");
    char *path = xasprintf("%s/config", dir);
    k8s_config c;
    char *err = NULL;
    CHECK_INT(k8s_config_load_kubeconfig(path, NULL, &c, &err), 0);
    CHECK_STR(c.ca.data, "CA FROM FILE\n");
    CHECK_STR(c.cert.data, "CERT FROM FILE\n");
    CHECK_STR(c.key.data, "KEY FROM FILE\n");
    k8s_config_free(&c);
    CHECK_INT(k8s_config_load_kubeconfig(path, "ct", &c, &err), 0);
    CHECK_STR(k8s_config_token(&c, lo_mono_ms()), "file-token"); /* newline trimmed */
    k8s_config_free(&c);

    /* --kubeconfig wins over KUBECONFIG; of a KUBECONFIG list the first
     * existing file is used. */
    char *saved = getenv("KUBECONFIG") ? xstrdup(getenv("KUBECONFIG")) : NULL;
    char *list = xasprintf("%s/missing:%s", dir, path);
    setenv("KUBECONFIG", list, 1);
    CHECK_INT(k8s_config_load(NULL, "ct", &c, &err), 0);
    CHECK_STR(c.token, "file-token");
    k8s_config_free(&c);
    setenv("KUBECONFIG", "/nonexistent/kubeconfig", 1);
    CHECK_INT(k8s_config_load(path, NULL, &c, &err), 0);
    CHECK_STR(c.context, "cu");
    k8s_config_free(&c);
    CHECK(k8s_config_load(NULL, NULL, &c, &err) < 0);
    CHECK(err && strstr(err, "/nonexistent/kubeconfig"));
    free(err);
    err = NULL;
    if (saved)
        setenv("KUBECONFIG", saved, 1);
    else
        unsetenv("KUBECONFIG");
    free(saved);
    free(list);

    /* A missing referenced file is an error naming it. */
    write_file(dir, "config2",
               "clusters:\n- name: c\n  cluster: {server: 'https://h', certificate-authority: gone.crt}\n"
               "contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n");
    char *path2 = xasprintf("%s/config2", dir);
    CHECK_INT(k8s_config_load_kubeconfig(path2, NULL, &c, &err), -ENOENT);
    CHECK(err && strstr(err, "gone.crt"));
    free(err);
    free(path2);
    free(path);
    remove_dir(dir);
    free(dir);
}

TEST(k8s_in_cluster_config_and_token_rotation)
{
    char *dir = scratch_dir();
    REQUIRE(dir);
    write_file(dir, "ca.crt", "SA CA");
    write_file(dir, "namespace", "liftoff-system\n");
    write_file(dir, "token", "token-one\n");
    char *saved_host = getenv("KUBERNETES_SERVICE_HOST") ? xstrdup(getenv("KUBERNETES_SERVICE_HOST")) : NULL;
    char *saved_port = getenv("KUBERNETES_SERVICE_PORT") ? xstrdup(getenv("KUBERNETES_SERVICE_PORT")) : NULL;
    setenv("KUBERNETES_SERVICE_HOST", "fd00:10:96::1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    k8s_config c;
    char *err = NULL;
    REQUIRE(k8s_config_in_cluster(dir, &c, &err) == 0);
    CHECK_STR(c.server, "https://[fd00:10:96::1]:443");
    CHECK_STR(c.namespace, "liftoff-system");
    CHECK_STR(c.ca.data, "SA CA");
    uint64_t t0 = c.token_checked_ms;
    CHECK_STR(k8s_config_token(&c, t0), "token-one");

    /* The kubelet swaps the file; within the recheck interval the old token
     * is kept, after it the new one is read. */
    write_file(dir, "token.new", "token-two-longer\n");
    char *from = xasprintf("%s/token.new", dir), *to = xasprintf("%s/token", dir);
    CHECK_INT(rename(from, to), 0);
    CHECK_STR(k8s_config_token(&c, t0 + 1), "token-one");
    CHECK_STR(k8s_config_token(&c, t0 + K8S_TOKEN_RECHECK_MS), "token-two-longer");
    /* An empty (half-written) file keeps the last good token. */
    write_file(dir, "token", "");
    CHECK_STR(k8s_config_token(&c, t0 + 3 * K8S_TOKEN_RECHECK_MS), "token-two-longer");
    /* A vanished file too. */
    CHECK_INT(unlink(to), 0);
    CHECK_STR(k8s_config_token(&c, t0 + 5 * K8S_TOKEN_RECHECK_MS), "token-two-longer");
    k8s_config_free(&c);
    free(from);
    free(to);

    unsetenv("KUBERNETES_SERVICE_HOST");
    CHECK_INT(k8s_config_in_cluster(dir, &c, &err), -ENOENT);
    CHECK(err && strstr(err, "KUBERNETES_SERVICE_HOST"));
    free(err);
    if (saved_host)
        setenv("KUBERNETES_SERVICE_HOST", saved_host, 1);
    if (saved_port)
        setenv("KUBERNETES_SERVICE_PORT", saved_port, 1);
    else
        unsetenv("KUBERNETES_SERVICE_PORT");
    free(saved_host);
    free(saved_port);
    remove_dir(dir);
    free(dir);
}

TEST(k8s_server_url_brackets_ipv6)
{
    char *u;
    CHECK_STR(u = k8s_server_url("10.96.0.1", "443"), "https://10.96.0.1:443");
    free(u);
    CHECK_STR(u = k8s_server_url("fd00::1", "6443"), "https://[fd00::1]:6443");
    free(u);
    CHECK_STR(u = k8s_server_url("[fd00::1]", "6443"), "https://[fd00::1]:6443");
    free(u);
    CHECK_STR(u = k8s_server_url("kubernetes.default.svc", NULL), "https://kubernetes.default.svc");
    free(u);
    CHECK_STR(u = k8s_server_url("::1", ""), "https://[::1]");
    free(u);
}

TEST(k8s_base64_decode_strict)
{
    k8s_blob b;
    static const struct {
        const char *in, *out;
    } good[] = {
        { "", "" },
        { "Zg==", "f" },
        { "Zm8=", "fo" },
        { "Zm9v", "foo" },
        { "Zm9vYg", "foob" },              /* padding optional */
        { "Zm9v\nYmFy\r\n", "foobar" },     /* whitespace ignored */
        { "  Zm9vYmE=  ", "fooba" },
    };
    for (size_t i = 0; i < LO_ARRAY_SIZE(good); i++) {
        REQUIRE(k8s_base64_decode(good[i].in, strlen(good[i].in), &b) == 0);
        CHECK_STR(b.data, good[i].out);
        CHECK_INT(b.len, strlen(good[i].out));
        free(b.data);
    }
    /* Binary output keeps its length. */
    REQUIRE(k8s_base64_decode("AAEC/w==", 8, &b) == 0);
    CHECK_INT(b.len, 4);
    CHECK(b.data[0] == 0 && b.data[1] == 1 && b.data[2] == 2 && (unsigned char)b.data[3] == 0xff);
    free(b.data);
    static const char *bad[] = {
        "Z",        /* one character is not a byte */
        "Zm9v*",    /* junk */
        "Zg==Zg==", /* data after padding */
        "Zm9v=",    /* padding where none belongs */
        "Zh==",     /* non-zero leftover bits */
        "Zg===",    /* too much padding */
    };
    for (size_t i = 0; i < LO_ARRAY_SIZE(bad); i++) {
        b.data = NULL;
        CHECK_INT(k8s_base64_decode(bad[i], strlen(bad[i]), &b), -EINVAL);
        CHECK(b.data == NULL);
    }
}
