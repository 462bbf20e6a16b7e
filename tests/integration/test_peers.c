/* test_peers.c — the test peers themselves start, answer, restart and stop. */
#include "test.h"
#include "peers.h"

#include <stdlib.h>

TEST(peers_redis_answers_ping_and_restarts)
{
    peer *r = peer_redis_start(NULL);
    REQUIRE(r);
    CHECK(peer_port(r) > 0);
    CHECK_INT(peer_sh(r, "redis-cli -p %PORT% ping | grep -q PONG"), 0);
    peer_kill9(r);
    CHECK(peer_sh(r, "redis-cli -p %PORT% ping 2>/dev/null | grep -q PONG") != 0);
    CHECK_INT(peer_restart(r), 0);
    CHECK_INT(peer_sh(r, "redis-cli -p %PORT% ping | grep -q PONG"), 0);
    peer_stop(r);
}

TEST(peers_nginx_serves_docroot)
{
    const char *files[] = { "hello.txt", "hello from the origin\n", NULL };
    peer *n = peer_nginx_start("    location /nope { return 404; }\n", files);
    REQUIRE(n);
    CHECK_INT(peer_sh(n, "curl -sf http://127.0.0.1:%PORT%/hello.txt | grep -q 'hello from the origin'"), 0);
    CHECK_INT(peer_sh(n, "test \"$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:%PORT%/nope)\" = 404"), 0);
    peer_stop(n);
}

TEST(peers_spawn_reports_a_program_that_exits)
{
    const char *argv[] = { "false", NULL };
    peer *p = peer_spawn("false", argv, 1);
    CHECK(p == NULL);
    peer_stop(p);
}
