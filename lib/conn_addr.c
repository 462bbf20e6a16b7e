/* conn_addr.c — host:port to socket addresses, and back to text. */
#include "conn_int.h"
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#define CONN_HOST_MAX 255

/* Copies host without the brackets of "[v6]"; false if it does not fit. */
static bool strip_brackets(const char *host, char *out, size_t outlen)
{
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        host++;
        n -= 2;
    }
    if (n >= outlen)
        return false;
    memcpy(out, host, n);
    out[n] = '\0';
    return true;
}

static bool parse_numeric(const char *h, int port, conn_addr *a)
{
    struct sockaddr_in *v4 = (struct sockaddr_in *)&a->ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a->ss;
    memset(a, 0, sizeof *a);
    if (inet_pton(AF_INET, h, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        a->len = sizeof *v4;
        return true;
    }
    if (inet_pton(AF_INET6, h, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        a->len = sizeof *v6;
        return true;
    }
    return false;
}

bool conn_host_is_ip(const char *host)
{
    char h[CONN_HOST_MAX + 1];
    conn_addr a;
    return strip_brackets(host, h, sizeof h) && parse_numeric(h, 0, &a);
}

int conn_addr_resolve(const char *host, int port, conn_addr *out, int max, char *err,
                      size_t errlen)
{
    char h[CONN_HOST_MAX + 1];
    if (!host || !*host || port < 0 || port > 65535 || max < 1) {
        snprintf(err, errlen, "invalid address %s:%d", host ? host : "(null)", port);
        return -EINVAL;
    }
    if (!strip_brackets(host, h, sizeof h)) {
        snprintf(err, errlen, "host name too long");
        return -EINVAL;
    }
    if (parse_numeric(h, port, &out[0]))
        return 1;
    if (strcasecmp(h, "localhost") == 0) {
        parse_numeric("127.0.0.1", port, &out[0]);
        if (max < 2)
            return 1;
        parse_numeric("::1", port, &out[1]);
        return 2;
    }
    /* A real name: getaddrinfo blocks (see conn.h). */
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL;
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%d", port);
    int rc = getaddrinfo(h, portstr, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", h, gai_strerror(rc));
        return -EHOSTUNREACH;
    }
    int n = 0;
    for (struct addrinfo *ai = res; ai && n < max; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof out[n].ss)
            continue;
        memset(&out[n], 0, sizeof out[n]);
        memcpy(&out[n].ss, ai->ai_addr, ai->ai_addrlen);
        out[n].len = ai->ai_addrlen;
        n++;
    }
    freeaddrinfo(res);
    if (n == 0) {
        snprintf(err, errlen, "cannot resolve %s: no usable address", h);
        return -EHOSTUNREACH;
    }
    return n;
}

void conn_addr_format(const conn_addr *a, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN];
    if (a->ss.ss_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)&a->ss;
        inet_ntop(AF_INET, &v4->sin_addr, ip, sizeof ip);
        snprintf(buf, len, "%s:%u", ip, ntohs(v4->sin_port));
    } else if (a->ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&a->ss;
        inet_ntop(AF_INET6, &v6->sin6_addr, ip, sizeof ip);
        snprintf(buf, len, "[%s]:%u", ip, ntohs(v6->sin6_port));
    } else if (len) {
        snprintf(buf, len, "?");
    }
}
