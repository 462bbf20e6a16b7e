/* main.c — liftoff-predictor: reads the options, builds the service, runs
 * the loop until SIGTERM/SIGINT (then drains: the batch in hand is applied
 * and acknowledged, the forecasts published once more, exit 0). */
#include <stdio.h>

#include "ev.h"
#include "lifecycle.h"
#include "log.h"

#include "options.h"
#include "service.h"

#define GRACE_MS 25000   /* below Kubernetes' default 30 s termination grace */

typedef struct run_state {
    ev_loop *loop;
    pred *svc;
    lifecycle lc;
} run_state;

static void drained(void *arg)
{
    run_state *st = arg;
    lifecycle_done(&st->lc);
    ev_stop(st->loop);
}

static void on_drain(ev_loop *loop, void *arg)
{
    (void)loop;
    run_state *st = arg;
    pred_drain(st->svc, drained, st);
}

static void on_caught_up(void *arg)
{
    run_state *st = arg;
    lifecycle_shutdown(&st->lc, "caught up");
}

int main(int argc, char **argv)
{
    int status = 1;
    char err[512] = "";
    run_state st = { 0 };
    pred_settings set;
    log_level lvl;

    pred_options_load(argc, argv, &set, &lvl);
    log_set_level(lvl);
    st.loop = ev_loop_new();
    if (pred_new(st.loop, &set, &st.svc, err, sizeof err) < 0) {
        log_error("predictor", "cannot start", LF_STR("reason", err));
        goto out;
    }
    pred_on_finished(st.svc, on_caught_up, &st);
    if (lifecycle_init(&st.lc, st.loop, GRACE_MS, on_drain, &st) < 0) {
        log_error("predictor", "cannot handle signals");
        goto out;
    }
    if (ev_run(st.loop) == 0)
        status = 0;
out:
    pred_free(st.svc);
    ev_loop_free(st.loop);
    pred_options_free();
    return status;
}
