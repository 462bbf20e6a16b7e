/* k8s_path.c — the pure parts of the client: API paths and queries, HTTP
 * status to error code, retry backoff, name checks (see k8s_client.h). */
#include "k8s_client.h"
#include "common.h"

#include <stdlib.h>
#include <string.h>

static bool unreserved(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

/* Appends s percent-encoded (keeping extra_ok characters) to a string
 * being built in *out with length *len. */
static void append_escaped(char **out, size_t *len, const char *s, const char *extra_ok)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    *out = xrealloc(*out, *len + n * 3 + 1);
    char *p = *out + *len;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (unreserved(ch) || (ch && strchr(extra_ok, ch))) {
            *p++ = (char)ch;
        } else {
            *p++ = '%';
            *p++ = hex[ch >> 4];
            *p++ = hex[ch & 15];
        }
    }
    *p = '\0';
    *len = (size_t)(p - *out);
}

static void append_raw(char **out, size_t *len, const char *s)
{
    size_t n = strlen(s);
    *out = xrealloc(*out, *len + n + 1);
    memcpy(*out + *len, s, n + 1);
    *len += n;
}

char *k8s_path(const k8s_res *r, const char *ns, const char *name, const char *sub)
{
    char *p = NULL;
    size_t len = 0;
    if (!r->group || !*r->group) {
        append_raw(&p, &len, "/api/");
    } else {
        append_raw(&p, &len, "/apis/");
        append_escaped(&p, &len, r->group, "");
        append_raw(&p, &len, "/");
    }
    append_escaped(&p, &len, r->version, "");
    if (ns) {
        append_raw(&p, &len, "/namespaces/");
        append_escaped(&p, &len, ns, ":");
    }
    append_raw(&p, &len, "/");
    append_escaped(&p, &len, r->resource, "");
    if (name) {
        append_raw(&p, &len, "/");
        append_escaped(&p, &len, name, ":");
        if (sub) {
            append_raw(&p, &len, "/");
            append_escaped(&p, &len, sub, "");
        }
    }
    return p;
}

void k8s_url_add_query(char **url, const char *key, const char *value)
{
    if (!value)
        return;
    size_t len = strlen(*url);
    append_raw(url, &len, strchr(*url, '?') ? "&" : "?");
    append_escaped(url, &len, key, "");
    append_raw(url, &len, "=");
    append_escaped(url, &len, value, "");
}

int k8s_status_rc(long status, const char *reason)
{
    if (status >= 200 && status < 300)
        return 0;
    switch (status) {
    case 400: return K8S_EBADREQUEST;
    case 401: return K8S_EUNAUTHORIZED;
    case 403: return K8S_EFORBIDDEN;
    case 404: return K8S_ENOTFOUND;
    case 405: return K8S_ENOTALLOWED;
    case 409: return reason && strcmp(reason, "AlreadyExists") == 0 ? K8S_EEXISTS : K8S_ECONFLICT;
    case 410: return K8S_EGONE;
    case 413: return K8S_ETOOLARGE;
    case 422: return K8S_EBADREQUEST;
    case 429: return K8S_ETOOMANY;
    case 503: return K8S_EUNAVAILABLE;
    case 504: return K8S_ETIMEOUT;
    default: break;
    }
    if (status >= 400 && status < 500)
        return K8S_EBADREQUEST;
    return K8S_ESERVER;
}

uint64_t k8s_backoff_ms(unsigned attempt, uint64_t base_ms, uint64_t max_ms, double jitter)
{
    if (attempt == 0)
        attempt = 1;
    uint64_t d = max_ms;
    if (attempt <= 40 && base_ms <= (max_ms >> (attempt - 1)))
        d = base_ms << (attempt - 1);
    d = LO_MIN(d, max_ms);
    d = lo_jitter_ms(d, jitter);
    return d ? d : 1;
}

bool k8s_name_valid(const char *name)
{
    if (!name)
        return false;
    size_t n = strlen(name);
    if (n == 0 || n > K8S_NAME_MAX || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (ch <= ' ' || ch >= 0x7f || ch == '/' || ch == '%')
            return false;
    }
    return true;
}

const char *k8s_meta_str(const json_t *obj, const char *field)
{
    return json_string_value(json_object_get(json_object_get(obj, "metadata"), field));
}
