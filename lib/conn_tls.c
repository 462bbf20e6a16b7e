/* conn_tls.c — OpenSSL contexts, handshakes, and TLS reads/writes for conn
 * (see conn.h). WANT_READ / WANT_WRITE are turned into the conn's interest
 * flags; conn.c decides what to wait for. */
#include "conn_int.h"
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#define TLS_ERR_TEXT 160

/* ---- contexts ---- */

static void set_err(char *err, size_t errlen, const char *what, const char *file)
{
    char ossl[TLS_ERR_TEXT] = "";
    unsigned long e = ERR_peek_last_error();
    if (e)
        ERR_error_string_n(e, ossl, sizeof ossl);
    ERR_clear_error();
    if (err && errlen)
        snprintf(err, errlen, "%s%s%s%s%s", what, file ? " " : "", file ? file : "",
                 *ossl ? ": " : "", ossl);
}

static int load_cert_key(SSL_CTX *ctx, const conn_tls_opts *o, char *err, size_t errlen)
{
    if (SSL_CTX_use_certificate_chain_file(ctx, o->cert_file) != 1) {
        set_err(err, errlen, "cannot load certificate", o->cert_file);
        return -EINVAL;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, o->key_file, SSL_FILETYPE_PEM) != 1) {
        set_err(err, errlen, "cannot load private key", o->key_file);
        return -EINVAL;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        set_err(err, errlen, "private key does not match certificate", o->cert_file);
        return -EINVAL;
    }
    return 0;
}

static SSL_CTX *ctx_common(const SSL_METHOD *m)
{
    SSL_CTX *ctx = SSL_CTX_new(m);
    if (!ctx)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* Retries may pass the queued bytes from a moved buffer; writes may
     * complete record by record. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* Peers that close without close_notify read as a clean EOF: the
     * protocols on top (HTTP, RESP) are self-delimiting. */
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
    return ctx;
}

static conn_tls *tls_wrap(SSL_CTX *ctx, bool server, bool insecure)
{
    conn_tls *t = xcalloc(1, sizeof *t);
    t->ctx = ctx;
    t->refs = 1;
    t->server = server;
    t->insecure = insecure;
    return t;
}

int conn_tls_client_new(const conn_tls_opts *o, conn_tls **out, char *err, size_t errlen)
{
    int rc = -EINVAL;
    *out = NULL;
    SSL_CTX *ctx = ctx_common(TLS_client_method());
    if (!ctx) {
        set_err(err, errlen, "cannot create TLS context", NULL);
        return -ENOMEM;
    }
    if (o->insecure_skip_verify) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        int ok = o->ca_file ? SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL)
                            : SSL_CTX_set_default_verify_paths(ctx);
        if (ok != 1) {
            set_err(err, errlen, "cannot load CA file", o->ca_file ? o->ca_file : "(default)");
            goto fail;
        }
    }
    if (o->cert_file || o->key_file) {
        if (!o->cert_file || !o->key_file) {
            if (err && errlen)
                snprintf(err, errlen, "client certificate needs both cert_file and key_file");
            goto fail;
        }
        if ((rc = load_cert_key(ctx, o, err, errlen)) < 0)
            goto fail;
    }
    *out = tls_wrap(ctx, false, o->insecure_skip_verify);
    return 0;
fail:
    SSL_CTX_free(ctx);
    return rc;
}

int conn_tls_server_new(const conn_tls_opts *o, conn_tls **out, char *err, size_t errlen)
{
    int rc = -EINVAL;
    *out = NULL;
    if (!o->cert_file || !o->key_file) {
        if (err && errlen)
            snprintf(err, errlen, "a TLS server needs cert_file and key_file");
        return -EINVAL;
    }
    SSL_CTX *ctx = ctx_common(TLS_server_method());
    if (!ctx) {
        set_err(err, errlen, "cannot create TLS context", NULL);
        return -ENOMEM;
    }
    if ((rc = load_cert_key(ctx, o, err, errlen)) < 0)
        goto fail;
    if (o->ca_file) {
        if (SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL) != 1) {
            set_err(err, errlen, "cannot load CA file", o->ca_file);
            rc = -EINVAL;
            goto fail;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    static const unsigned char sid_ctx[] = "liftoff";
    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);
    *out = tls_wrap(ctx, true, false);
    return 0;
fail:
    SSL_CTX_free(ctx);
    return rc;
}

conn_tls *conn_tls_ref(conn_tls *t)
{
    if (t)
        t->refs++;
    return t;
}

void conn_tls_free(conn_tls *t)
{
    if (!t || --t->refs > 0)
        return;
    SSL_CTX_free(t->ctx);
    free(t);
}

/* ---- per connection ---- */

int conn_tls_attach(conn *c, conn_tls *t, const char *server_name)
{
    SSL *ssl = SSL_new(t->ctx);
    if (!ssl)
        return conn_tls_error(c, SSL_ERROR_SSL, "cannot create TLS session");
    if (!SSL_set_fd(ssl, c->fd)) {
        SSL_free(ssl);
        return conn_tls_error(c, SSL_ERROR_SSL, "cannot attach TLS to socket");
    }
    if (t->server) {
        SSL_set_accept_state(ssl);
    } else {
        SSL_set_connect_state(ssl);
        if (server_name && !conn_host_is_ip(server_name)) {
            SSL_set_tlsext_host_name(ssl, server_name);
            if (!t->insecure)
                SSL_set1_host(ssl, server_name);
        } else if (server_name && !t->insecure) {
            char ip[CONN_ADDR_STR_MAX];
            size_t n = strlen(server_name);
            /* "[::1]" -> "::1" */
            if (n >= 2 && server_name[0] == '[' && n - 2 < sizeof ip) {
                memcpy(ip, server_name + 1, n - 2);
                ip[n - 2] = '\0';
            } else {
                snprintf(ip, sizeof ip, "%s", server_name);
            }
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), ip);
        }
    }
    c->ssl = ssl;
    c->state = CONN_HANDSHAKE;
    c->hs_wants_write = !t->server;
    return 0;
}

/* Sets the conn's error text from OpenSSL's queue or errno; returns -errno. */
int conn_tls_error(conn *c, int ssl_err, const char *what)
{
    char peer[CONN_ADDR_STR_MAX];
    conn_addr_format(&c->peer, peer, sizeof peer);
    int saved_errno = errno;
    unsigned long e = ERR_peek_last_error();
    char ossl[TLS_ERR_TEXT] = "";
    if (e) {
        const char *reason = ERR_reason_error_string(e);
        snprintf(ossl, sizeof ossl, "%s", reason ? reason : "unknown error");
    }
    ERR_clear_error();
    if (ssl_err == SSL_ERROR_SYSCALL) {
        int err = saved_errno ? -saved_errno : -ECONNRESET;
        conn_set_error(c, err, "%s with %s failed: %s", what, peer,
                       saved_errno ? strerror(saved_errno) : "connection closed by peer");
        return err;
    }
    long vr = c->ssl ? SSL_get_verify_result(c->ssl) : X509_V_OK;
    if (vr != X509_V_OK)
        conn_set_error(c, -EPROTO, "%s with %s failed: %s (%s)", what, peer,
                       *ossl ? ossl : "certificate verify failed",
                       X509_verify_cert_error_string(vr));
    else
        conn_set_error(c, -EPROTO, "%s with %s failed: %s", what, peer,
                       *ossl ? ossl : "protocol error");
    return -EPROTO;
}

int conn_tls_handshake(conn *c)
{
    ERR_clear_error();
    errno = 0;
    int r = SSL_do_handshake(c->ssl);
    if (r == 1)
        return 1;
    int e = SSL_get_error(c->ssl, r);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        c->hs_wants_write = false;
        return 0;
    case SSL_ERROR_WANT_WRITE:
        c->hs_wants_write = true;
        return 0;
    case SSL_ERROR_ZERO_RETURN:
        errno = 0;
        return conn_tls_error(c, SSL_ERROR_SYSCALL, "TLS handshake");
    default:
        return conn_tls_error(c, e, "TLS handshake");
    }
}

ssize_t conn_tls_read(conn *c, void *p, size_t len)
{
    size_t n = 0;
    ERR_clear_error();
    errno = 0;
    int r = SSL_read_ex(c->ssl, p, len, &n);
    if (r == 1) {
        c->ssl_read_wants_write = false;
        c->nread += n;
        return (ssize_t)n;
    }
    int e = SSL_get_error(c->ssl, r);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        c->ssl_read_wants_write = false;
        return -EAGAIN;
    case SSL_ERROR_WANT_WRITE:
        if (!c->ssl_read_wants_write) {
            c->ssl_read_wants_write = true;
            conn_update_mask(c);
        }
        return -EAGAIN;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        if (errno == 0 && ERR_peek_error() == 0)
            return 0; /* EOF without close_notify */
        /* fall through */
    default: {
        int err = conn_tls_error(c, e, "TLS read");
        c->state = CONN_FAILED;
        c->err = err;
        c->fail_reported = true; /* the caller learns it from this return */
        conn_update_mask(c);
        return err;
    }
    }
}

ssize_t conn_tls_write(conn *c, const void *p, size_t len)
{
    size_t done = 0;
    while (done < len) {
        size_t n = 0;
        ERR_clear_error();
        errno = 0;
        int r = SSL_write_ex(c->ssl, (const char *)p + done, len - done, &n);
        if (r == 1) {
            done += n;
            c->ssl_write_wants_read = false;
            continue;
        }
        int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_WRITE) {
            c->ssl_write_wants_read = false;
            break;
        }
        if (e == SSL_ERROR_WANT_READ) {
            c->ssl_write_wants_read = true;
            break;
        }
        return conn_tls_error(c, e, "TLS write");
    }
    return (ssize_t)done;
}
