/* plot.c — SVG rendering of a simulation run (see plot.h). */
#include "plot.h"
#include "common.h"
#include "velocity.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define W 1200
#define H 860
#define LEFT 80
#define RIGHT 180
#define MAX_POINTS 1200

typedef struct panel {
    double x0, y0, w, h;   /* pixel box */
    double ymax;
    double tmax;           /* seconds */
} panel;

static const struct style {
    const char *name, *color, *dash;
    double width;
} styles[] = {
    { "liftoff", "#d62728", "", 2.2 },
    { "hpa", "#1f77b4", "", 1.3 },
    { "hpa-demand", "#17becf", "", 1.3 },
    { "linear", "#9467bd", "", 1.3 },
    { "reactive-1.2x", "#2ca02c", "", 1.3 },
    { "oracle", "#000000", "4,3", 1.0 },
};

static const struct style *style_of(const char *name)
{
    for (size_t i = 0; i < LO_ARRAY_SIZE(styles); i++)
        if (strcmp(styles[i].name, name) == 0)
            return &styles[i];
    return &styles[0];
}

static double px(const panel *p, double t)
{
    return p->x0 + p->w * t / p->tmax;
}

static double py(const panel *p, double v)
{
    double y = p->y0 + p->h - p->h * v / p->ymax;
    return y < p->y0 ? p->y0 : y;
}

static double nice_step(double max, int ticks)
{
    double raw = max / ticks, mag = pow(10, floor(log10(raw)));
    double r = raw / mag;
    return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
}

static void axes(FILE *f, const panel *p, const char *label)
{
    fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='none' stroke='#888'/>\n",
            p->x0, p->y0, p->w, p->h);
    double step = nice_step(p->ymax, 4);
    for (double v = 0; v <= p->ymax * 1.0001; v += step) {
        double y = py(p, v);
        fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#eee'/>\n", p->x0, y,
                p->x0 + p->w, y);
        fprintf(f, "<text x='%.1f' y='%.1f' font-size='11' text-anchor='end'>%g</text>\n",
                p->x0 - 5, y + 4, v);
    }
    double tstep = nice_step(p->tmax / 60.0, 10);
    for (double m = 0; m * 60 <= p->tmax; m += tstep) {
        double x = px(p, m * 60);
        fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#eee'/>\n", x, p->y0, x,
                p->y0 + p->h);
        fprintf(f, "<text x='%.1f' y='%.1f' font-size='11' text-anchor='middle'>%g</text>\n", x,
                p->y0 + p->h + 14, m);
    }
    fprintf(f, "<text x='%.1f' y='%.1f' font-size='12' transform='rotate(-90 %.1f %.1f)' "
               "text-anchor='middle'>%s</text>\n",
            p->x0 - 55, p->y0 + p->h / 2, p->x0 - 55, p->y0 + p->h / 2, label);
}

/* A step polyline of v[0..n) bucketed by `bucket` seconds with agg
 * (1: max, -1: min). */
static void series(FILE *f, const panel *p, const double *v, uint32_t n, uint32_t bucket, int agg,
                   const char *color, const char *dash, double width)
{
    fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='%.1f'%s%s%s points='", color, width,
            *dash ? " stroke-dasharray='" : "", dash, *dash ? "'" : "");
    for (uint32_t b = 0; b < n; b += bucket) {
        double a = v[b];
        for (uint32_t i = b; i < b + bucket && i < n; i++)
            if ((agg > 0 && v[i] > a) || (agg < 0 && v[i] < a))
                a = v[i];
        uint32_t e = b + bucket < n ? b + bucket : n;
        fprintf(f, "%.1f,%.1f %.1f,%.1f ", px(p, b), py(p, a), px(p, e), py(p, a));
    }
    fprintf(f, "'/>\n");
}

int sim_plot_svg(FILE *f, const char *title, const sim_config *c, const sim_trace *tr,
                 const sim_run *run)
{
    uint32_t n = tr->n;
    uint32_t bucket = n > MAX_POINTS ? (n + MAX_POINTS - 1) / MAX_POINTS : 1;
    double *v = xcalloc(n, sizeof *v);
    double rmax = 0, amax = 0, emax = 0;
    for (uint32_t t = 0; t < n; t++)
        if (tr->rps[t] > rmax)
            rmax = tr->rps[t];
    for (size_t i = 0; i < run->count; i++)
        if (run->r[i].peak_replicas > amax)
            amax = run->r[i].peak_replicas;
    double *eps = xcalloc(n, sizeof *eps);
    vel_t vel;
    vel_init(&vel, c->policy.window_s);
    for (uint32_t t = 0; t < n; t++) {
        double w = fc_policy_weight(&c->policy, "upvote") * tr->upvote[t] +
                   fc_policy_weight(&c->policy, "comment") * tr->comment[t] +
                   fc_policy_weight(&c->policy, "maker_comment") * tr->maker_comment[t];
        vel_observe(&vel, (int64_t)t * 1000, vel_milli(w));
        vel_advance(&vel, t);
        eps[t] = vel_rate(&vel);
        if (eps[t] > emax)
            emax = eps[t];
    }
    vel_free(&vel);

    double pw = W - LEFT - RIGHT;
    panel top = { LEFT, 50, pw, 400, rmax * 1.1 > 1 ? rmax * 1.1 : 1, n };
    panel mid = { LEFT, 500, pw, 200, amax * 1.1 > 1 ? amax * 1.1 : 1, n };
    panel bot = { LEFT, 750, pw, 80, emax * 1.1 > 0.1 ? emax * 1.1 : 0.1, n };

    fprintf(f, "<?xml version='1.0' encoding='UTF-8'?>\n"
               "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
               "viewBox='0 0 %d %d' font-family='sans-serif'>\n"
               "<rect width='100%%' height='100%%' fill='white'/>\n",
            W, H, W, H);
    fprintf(f, "<text x='%d' y='24' font-size='16' font-weight='bold'>", LEFT);
    for (const char *s = title; *s; s++) {
        if (*s == '<') fputs("&lt;", f);
        else if (*s == '&') fputs("&amp;", f);
        else fputc(*s, f);
    }
    fprintf(f, "</text>\n<text x='%d' y='40' font-size='11' fill='#555'>pod start-up %u s, "
               "%.0f rps per pod; time in minutes</text>\n",
            LEFT, c->pod_startup_s, c->pod_capacity);

    axes(f, &top, "requests/s and ready capacity");
    axes(f, &mid, "replicas asked");
    axes(f, &bot, "weighted events/s");

    /* demand as a filled area (bucket max) */
    fprintf(f, "<polygon fill='#ccc' stroke='none' points='%.1f,%.1f ", px(&top, 0), py(&top, 0));
    for (uint32_t b = 0; b < n; b += bucket) {
        double a = 0;
        for (uint32_t i = b; i < b + bucket && i < n; i++)
            if (tr->rps[i] > a)
                a = tr->rps[i];
        uint32_t e = b + bucket < n ? b + bucket : n;
        fprintf(f, "%.1f,%.1f %.1f,%.1f ", px(&top, b), py(&top, a), px(&top, e), py(&top, a));
    }
    fprintf(f, "%.1f,%.1f'/>\n", px(&top, n), py(&top, 0));

    /* draw the oracle first, liftoff last (on top) */
    for (int pass = 0; pass < 3; pass++) {
        for (size_t i = 0; i < run->count; i++) {
            const sim_result *r = &run->r[i];
            int order = strcmp(r->name, "oracle") == 0 ? 0 : strcmp(r->name, "liftoff") == 0 ? 2 : 1;
            if (order != pass)
                continue;
            const struct style *st = style_of(r->name);
            for (uint32_t t = 0; t < n; t++)
                v[t] = r->ready[t] * c->pod_capacity;
            series(f, &top, v, n, bucket, -1, st->color, st->dash, st->width);
            for (uint32_t t = 0; t < n; t++)
                v[t] = r->asked[t];
            series(f, &mid, v, n, bucket, 1, st->color, st->dash, st->width);
        }
    }
    series(f, &bot, eps, n, bucket, 1, "#ff7f0e", "", 1.2);

    /* legend */
    double lx = LEFT + pw + 15, ly = 60;
    fprintf(f, "<rect x='%.1f' y='%.1f' width='14' height='10' fill='#ccc'/>"
               "<text x='%.1f' y='%.1f' font-size='12'>requests/s</text>\n",
            lx, ly, lx + 20, ly + 10);
    for (size_t i = 0; i < run->count; i++) {
        const sim_result *r = &run->r[i];
        const struct style *st = style_of(r->name);
        ly += 20;
        fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' stroke-width='%.1f'%s%s%s/>"
                   "<text x='%.1f' y='%.1f' font-size='12'>%s</text>\n",
                lx, ly + 5, lx + 14, ly + 5, st->color, st->width + 0.8,
                *st->dash ? " stroke-dasharray='" : "", st->dash, *st->dash ? "'" : "", lx + 20,
                ly + 10, r->name);
        fprintf(f, "<text x='%.1f' y='%.1f' font-size='10' fill='#555'>%.3f %% over, %.2fx</text>\n",
                lx + 20, ly + 22, r->over_pct, r->ratio_to_oracle);
        ly += 12;
    }
    ly += 30;
    fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#ff7f0e' stroke-width='2'/>"
               "<text x='%.1f' y='%.1f' font-size='12'>engagement</text>\n",
            lx, ly + 5, lx + 14, ly + 5, lx + 20, ly + 10);
    fprintf(f, "</svg>\n");
    free(v);
    free(eps);
    return ferror(f) ? -EIO : 0;
}
