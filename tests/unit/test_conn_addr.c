/* test_conn_addr.c — host:port to socket addresses without the network:
 * numeric IPv4/IPv6, brackets, "localhost", formatting back, bad input. */
#include "test.h"
#include "conn_int.h"

#include <arpa/inet.h>
#include <errno.h>

TEST(conn_addr_numeric_hosts_and_localhost)
{
    conn_addr a[CONN_MAX_ADDRS];
    char err[128] = "", s[CONN_ADDR_STR_MAX];
    CHECK_INT(conn_addr_resolve("10.1.2.3", 6379, a, CONN_MAX_ADDRS, err, sizeof err), 1);
    CHECK_INT(a[0].ss.ss_family, AF_INET);
    conn_addr_format(&a[0], s, sizeof s);
    CHECK_STR(s, "10.1.2.3:6379");

    CHECK_INT(conn_addr_resolve("[2001:db8::1]", 443, a, CONN_MAX_ADDRS, err, sizeof err), 1);
    CHECK_INT(a[0].ss.ss_family, AF_INET6);
    conn_addr_format(&a[0], s, sizeof s);
    CHECK_STR(s, "[2001:db8::1]:443");
    CHECK_INT(conn_addr_resolve("::1", 1, a, CONN_MAX_ADDRS, err, sizeof err), 1);

    /* localhost never asks the resolver: IPv4 first, then IPv6. */
    CHECK_INT(conn_addr_resolve("LocalHost", 80, a, CONN_MAX_ADDRS, err, sizeof err), 2);
    conn_addr_format(&a[0], s, sizeof s);
    CHECK_STR(s, "127.0.0.1:80");
    conn_addr_format(&a[1], s, sizeof s);
    CHECK_STR(s, "[::1]:80");
    CHECK_INT(conn_addr_resolve("localhost", 80, a, 1, err, sizeof err), 1);
}

TEST(conn_addr_rejects_bad_input)
{
    conn_addr a[2];
    char err[128] = "";
    CHECK_INT(conn_addr_resolve("", 80, a, 2, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "invalid address") != NULL);
    CHECK_INT(conn_addr_resolve(NULL, 80, a, 2, err, sizeof err), -EINVAL);
    CHECK_INT(conn_addr_resolve("1.2.3.4", 65536, a, 2, err, sizeof err), -EINVAL);
    CHECK_INT(conn_addr_resolve("1.2.3.4", -1, a, 2, err, sizeof err), -EINVAL);
    char long_host[300];
    memset(long_host, 'a', sizeof long_host - 1);
    long_host[sizeof long_host - 1] = '\0';
    CHECK_INT(conn_addr_resolve(long_host, 80, a, 2, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "too long") != NULL);
}

TEST(conn_addr_host_is_ip)
{
    CHECK(conn_host_is_ip("127.0.0.1"));
    CHECK(conn_host_is_ip("::1"));
    CHECK(conn_host_is_ip("[fe80::2]"));
    CHECK(!conn_host_is_ip("localhost"));
    CHECK(!conn_host_is_ip("redis.internal"));
    CHECK(!conn_host_is_ip("1.2.3"));
}
