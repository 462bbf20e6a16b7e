/* test_sim_trace.c — the launch-trace CSV parser: good input, and errors
 * that name the line and column. */
#include "test.h"
#include "sim/trace.h"

#include <errno.h>
#include <stdlib.h>

static int parse(const char *s, sim_trace *t, sim_trace_error *e)
{
    return sim_trace_parse(s, strlen(s), t, e);
}

TEST(sim_trace_parses_rows_comments_and_crlf)
{
    sim_trace t;
    sim_trace_error e;
    const char *csv = "# generated\r\n"
                      "t,upvote,comment,maker_comment,rps\r\n"
                      "0,1,2,3,40\r\n"
                      "# a comment between rows\n"
                      "1,0,0,0,4100\n"
                      "2,10,5,1,0";
    REQUIRE(parse(csv, &t, &e) == 0);
    CHECK_INT(t.n, 3);
    CHECK_INT(t.upvote[0], 1);
    CHECK_INT(t.comment[0], 2);
    CHECK_INT(t.maker_comment[0], 3);
    CHECK_INT(t.rps[1], 4100);
    CHECK_INT(t.upvote[2], 10);
    sim_trace_free(&t);
}

static void expect_error(const char *csv, uint32_t line, uint32_t col, const char *needle)
{
    sim_trace t;
    sim_trace_error e;
    int rc = parse(csv, &t, &e);
    CHECK_INT(rc, -EINVAL);
    CHECK_INT(e.line, line);
    CHECK_INT(e.column, col);
    if (!strstr(e.msg, needle)) {
        fprintf(stderr, "    message \"%s\" lacks \"%s\"\n", e.msg, needle);
        CHECK(0);
    }
}

TEST(sim_trace_errors_name_line_and_column)
{
    const char *h = "t,upvote,comment,maker_comment,rps\n";
    char buf[512];
    expect_error("", 1, 1, "no header");
    expect_error("t,upvote,comments,maker_comment,rps\n0,0,0,0,0\n", 1, 17, "header");
    snprintf(buf, sizeof buf, "%s0,0,0,0,1\n1,0,x,0,1\n", h);
    expect_error(buf, 3, 5, "column 'comment': expected a non-negative integer");
    snprintf(buf, sizeof buf, "%s0,0,0,0,-1\n", h);
    expect_error(buf, 2, 9, "column 'rps'");
    snprintf(buf, sizeof buf, "%s0,0,0,0\n", h);
    expect_error(buf, 2, 8, "missing column 'rps'");
    snprintf(buf, sizeof buf, "%s0,0,0,0,1,7\n", h);
    expect_error(buf, 2, 10, "too many columns");
    snprintf(buf, sizeof buf, "%s0,0,,0,1\n", h);
    expect_error(buf, 2, 5, "empty value");
    snprintf(buf, sizeof buf, "%s0,0,0,0,1\n2,0,0,0,1\n", h);
    expect_error(buf, 3, 1, "expected 1");
    snprintf(buf, sizeof buf, "%s0,0,0,0,1\n\n1,0,0,0,1\n", h);
    expect_error(buf, 3, 1, "empty line");
    snprintf(buf, sizeof buf, "%s0,0,0,0,99999999999\n", h);
    expect_error(buf, 2, 9, "limit");
    expect_error(h, 1, 1, "no data rows");
}

TEST(sim_trace_rejects_long_lines_and_nul)
{
    char *buf = malloc(1024);
    REQUIRE(buf);
    int n = snprintf(buf, 1024, "t,upvote,comment,maker_comment,rps\n0,0,0,0,");
    memset(buf + n, '1', 300);
    buf[n + 300] = '\0';
    sim_trace t;
    sim_trace_error e;
    CHECK_INT(parse(buf, &t, &e), -EINVAL);
    CHECK_INT(e.line, 2);
    CHECK(strstr(e.msg, "longer than") != NULL);
    static const char withnul[] = "t,upvote,comment,maker_comment,rps\n0,0\0,0,0,1\n";
    CHECK_INT(sim_trace_parse(withnul, sizeof withnul - 1, &t, &e), -EINVAL);
    CHECK_INT(e.line, 2);
    CHECK_INT(e.column, 4);
    free(buf);
}

TEST(sim_trace_write_then_parse_round_trips)
{
    sim_trace a, b;
    sim_trace_alloc(&a, 3);
    a.upvote[1] = 5;
    a.rps[2] = 123;
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    REQUIRE(f);
    const char *comments[] = { "kind x", NULL };
    CHECK_INT(sim_trace_write(f, &a, comments), 0);
    fclose(f);
    sim_trace_error e;
    REQUIRE(sim_trace_parse(mem, len, &b, &e) == 0);
    CHECK_INT(b.n, 3);
    CHECK_INT(b.upvote[1], 5);
    CHECK_INT(b.rps[2], 123);
    sim_trace_free(&a);
    sim_trace_free(&b);
    free(mem);
}

TEST(sim_trace_load_reports_missing_file)
{
    sim_trace t;
    sim_trace_error e;
    CHECK_INT(sim_trace_load("/nonexistent/trace.csv", &t, &e), -ENOENT);
    CHECK(strstr(e.msg, "cannot open") != NULL);
}
