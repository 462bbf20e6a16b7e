/* http_server_takeover.c — hands the connection of an Upgrade request over
 * to its handler (http_req_take_conn, see http_server.h). */
#include "http_server_int.h"
#include "common.h"

#include <errno.h>

int http_req_take_conn(http_req *r, const conn_cbs *cbs, void *ud, conn **out, buf_t *rest)
{
    hconn *hc = r->hc;
    if (!hc || hc->doomed)
        return -ECONNRESET;
    if (r->handler_done || r->res_started || hc->req != r || !http_body_done(&r->body))
        return -EINVAL;
    if (rest && buf_append(rest, buf_data(&hc->in), buf_len(&hc->in)) < 0)
        return -ENOBUFS;
    buf_reset(&hc->in);
    conn *c = hc->c;
    hc->c = NULL; /* hconn_destroy closes nothing now */
    conn_set_cbs(c, cbs, ud);
    conn_resume_read(c);
    r->res_started = r->res_done = true;
    r->handler_done = true; /* no cancel callback: the handler has it all */
    hconn_enter(hc);
    hconn_doom(hc, false);
    hconn_leave(hc);
    req_unref(r); /* the handler's reference */
    *out = c;
    return 0;
}
