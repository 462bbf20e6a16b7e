/* main.c — liftoff-controller: reads the options, builds the controller,
 * runs the loop until SIGTERM/SIGINT, then releases the leader Lease (so a
 * follower takes over at once) and stops: every write it makes is
 * idempotent and the next leader reconciles again. */
#include "ev.h"
#include "lifecycle.h"
#include "log.h"

#include "controller.h"
#include "options.h"

#define GRACE_MS 25000   /* below Kubernetes' default 30 s termination grace */

typedef struct run_state {
    ev_loop *loop;
    lifecycle lc;
    ctl *svc;
} run_state;

static void on_stopped(void *arg)
{
    run_state *st = arg;
    lifecycle_done(&st->lc);
    ev_stop(st->loop);
}

static void on_drain(ev_loop *loop, void *arg)
{
    (void)loop;
    run_state *st = arg;
    ctl_shutdown(st->svc, on_stopped, st);
}

int main(int argc, char **argv)
{
    int status = 1;
    char err[512] = "";
    run_state st = { 0 };
    ctl *svc = NULL;
    ctl_settings set;
    log_level lvl;

    ctl_options_load(argc, argv, &set, &lvl);
    log_set_level(lvl);
    st.loop = ev_loop_new();
    if (ctl_new(st.loop, &set, &svc, err, sizeof err) < 0) {
        log_error("controller", "cannot start", LF_STR("reason", err));
        goto out;
    }
    st.svc = svc;
    if (lifecycle_init(&st.lc, st.loop, GRACE_MS, on_drain, &st) < 0) {
        log_error("controller", "cannot handle signals");
        goto out;
    }
    log_info("controller", "started");
    if (ev_run(st.loop) == 0)
        status = 0;
out:
    ctl_free(svc);
    ev_loop_free(st.loop);
    ctl_options_free();
    return status;
}
