/* panel_curves: test loss against tokens, compute or steps for every run, log-log,
 * one colour per run, a legend with N and D, and the fitted L(N,S) of each run
 * (or, against compute, the envelope of all curves) drawn over them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab.h"

static const char *const x_names[CURVES_COUNT] = {"tokens", "compute (FLOP)", "steps"};

static double row_x(const Lab *lab, const sl_metric_row *r)
{
    switch (lab->curves_x) {
    case CURVES_COMPUTE: return r->flops;
    case CURVES_STEPS: return (double)r->step;
    default: return r->tokens;
    }
}

static int usable(const sl_metric_row *r) { return r->step > 0 && isfinite(r->test_loss) && r->test_loss > 0; }

typedef struct {
    double x, y;
} XY;

static int cmp_xy(const void *a, const void *b)
{
    const XY *p = a, *q = b;
    return (p->x > q->x) - (p->x < q->x);
}

/* The lower envelope: the best loss any run reached by each x. */
static void draw_envelope(Plot *pl, const Lab *lab)
{
    size_t n = 0;
    for (int i = 0; i < lab->snap.n_runs; i++)
        n += lab->snap.runs[i].n_rows;
    if (n < 2)
        return;
    XY *pts = sl_xmalloc(n * sizeof *pts);
    size_t m = 0;
    for (int i = 0; i < lab->snap.n_runs; i++)
        for (size_t k = 0; k < lab->snap.runs[i].n_rows; k++) {
            const sl_metric_row *r = &lab->snap.runs[i].rows[k];
            if (usable(r))
                pts[m++] = (XY){row_x(lab, r), r->test_loss};
        }
    qsort(pts, m, sizeof *pts, cmp_xy);
    double best = INFINITY, px = NAN, py = NAN;
    for (size_t k = 0; k < m; k++) {
        if (pts[k].y >= best)
            continue;
        best = pts[k].y;
        if (!isnan(px)) {
            Plot_line(pl, px, py, pts[k].x, py, COL_FIT);
            Plot_line(pl, pts[k].x, py, pts[k].x, best, COL_FIT);
        }
        px = pts[k].x;
        py = best;
    }
    free(pts);
}

static void draw_ns_fit(Plot *pl, const Lab *lab, const sl_fit_result *fit)
{
    /* the central curve only: without its draws a prediction is one formula */
    sl_fit_result central = *fit;
    central.boot = NULL;
    central.n_boot_ok = 0;
    const sl_fit_result *ns = &central;
    for (int i = 0; i < lab->snap.n_runs; i++) {
        const sl_run_view *v = &lab->snap.runs[i];
        if (v->n_rows < 2)
            continue;
        double b = (double)v->batch * v->shape.n_ctx;
        double s0 = 1, s1 = (double)v->planned_steps;
        if (s1 <= s0)
            continue;
        double px = NAN, py = NAN;
        for (int k = 0; k <= 32; k++) {
            double s = s0 * pow(s1 / s0, k / 32.0);
            sl_fit_point x = {.n = v->n, .s = s, .b = b, .d = s * b, .c = s * b * v->flops_per_token};
            double val, lo, hi;
            sl_fit_predict(ns, SL_FIT_Q_LOSS, &x, &val, &lo, &hi);
            double xx = lab->curves_x == CURVES_TOKENS ? x.d : lab->curves_x == CURVES_STEPS ? s : x.c;
            if (!isnan(px) && isfinite(val))
                Plot_line(pl, px, py, xx, val, COL_FIT);
            px = xx;
            py = val;
        }
    }
}

/* One entry per line in a column, or (rows 1) side by side on one line. */
static void legend(Panel *p, Lab *lab, int top, int left, int width, int rows)
{
    int shown = 0, x = left;
    for (int i = 0; i < lab->snap.n_runs; i++) {
        const sl_run_view *v = &lab->snap.runs[i];
        char n[16], d[16], line[64];
        Lab_num(n, sizeof n, v->n);
        Lab_num(d, sizeof d, v->d > 0 ? v->d : v->planned_tokens);
        if (rows > 1)
            snprintf(line, sizeof line, " N=%s D=%s", n, d);
        else
            snprintf(line, sizeof line, "%s ", n);
        int len = 2 + (int)strlen(line);
        int y = rows > 1 ? top + shown : top;
        int last = rows > 1 ? shown == rows - 1 : x + len + 8 > left + width;
        if (last && lab->snap.n_runs - i > 1) {
            CRT_color(p->win, COL_DIM);
            mvwprintw(p->win, y, x, "+%d more", lab->snap.n_runs - i);
            return;
        }
        CRT_color(p->win, Lab_series(v->index));
        CRT_hline(p->win, y, x, 2, L'━', '=');
        CRT_color(p->win, COL_TEXT);
        CRT_text(p->win, y, x + 2, left + width - x - 2, line);
        shown++;
        if (rows == 1)
            x += len;
    }
    if (rows == 1 && x + 10 <= left + width) {
        CRT_color(p->win, COL_DIM);
        CRT_text(p->win, top, x, left + width - x, "(N)");
    }
}

static void draw(Panel *p, Lab *lab)
{
    char title[96];
    snprintf(title, sizeof title, "Learning curves: test loss vs %s [c]", x_names[lab->curves_x]);
    Panel_frame(p, title);
    int ih = p->h - 2, iw = p->w - 2;
    int leg_w = iw >= 64 ? 22 : 0;
    int leg_rows = leg_w ? ih : 1;
    int top = 1 + (leg_w ? 0 : 1), left = 1 + 7;
    int cw = iw - 7 - (leg_w ? leg_w + 1 : 0), ch = ih - 2 - (leg_w ? 0 : 1);
    if (cw < 8 || ch < 3)
        return;
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (int i = 0; i < lab->snap.n_runs; i++)
        for (size_t k = 0; k < lab->snap.runs[i].n_rows; k++) {
            const sl_metric_row *r = &lab->snap.runs[i].rows[k];
            if (!usable(r))
                continue;
            double x = row_x(lab, r);
            xmin = fmin(xmin, x);
            xmax = fmax(xmax, x);
            ymin = fmin(ymin, r->test_loss);
            ymax = fmax(ymax, r->test_loss);
        }
    if (!(xmax > 0)) {
        CRT_color(p->win, COL_DIM);
        CRT_text(p->win, 1 + ih / 2, 3, iw - 4, "waiting for the first evaluations ...");
        return;
    }
    if (leg_w)
        legend(p, lab, 1, 1 + iw - leg_w, leg_w, leg_rows);
    else
        legend(p, lab, 1, 2, iw - 2, 1);
    Plot_resize(&p->plot, cw, ch, lab->plot_mode);
    double pad = pow(ymax / ymin, 0.05);
    Plot_begin(&p->plot, xmin, xmax * 1.05, ymin / pad, ymax * pad, 1, 1);
    const sl_fit_result *ns = FitSet_get(&lab->fits, SL_LAW_KAPLAN_NS);
    if (ns && !ns->converged)
        ns = NULL; /* a fit still wandering would draw nonsense over the data */
    if (lab->curves_x == CURVES_COMPUTE || !ns)
        draw_envelope(&p->plot, lab);
    for (int i = 0; i < lab->snap.n_runs; i++) {
        const sl_run_view *v = &lab->snap.runs[i];
        double px = NAN, py = NAN;
        for (size_t k = 0; k < v->n_rows; k++) {
            const sl_metric_row *r = &v->rows[k];
            if (!usable(r))
                continue;
            double x = row_x(lab, r);
            if (isnan(px))
                Plot_dot(&p->plot, x, r->test_loss, Lab_series(v->index));
            else
                Plot_line(&p->plot, px, py, x, r->test_loss, Lab_series(v->index));
            px = x;
            py = r->test_loss;
        }
    }
    if (ns && lab->curves_x != CURVES_COMPUTE)
        draw_ns_fit(&p->plot, lab, ns);
    Plot_draw(&p->plot, p->win, top, left);
    CRT_color(p->win, COL_FIT);
    CRT_text(p->win, top, left + 1, cw - 1,
             ns && lab->curves_x != CURVES_COMPUTE ? "fit: L(N,S)" : "envelope");
}

static int key(Panel *p, Lab *lab, int ch)
{
    (void)p;
    if (ch == 'c' || ch == KEY_LEFT || ch == KEY_RIGHT || ch == 'h' || ch == 'l') {
        int d = ch == KEY_LEFT || ch == 'h' ? CURVES_COUNT - 1 : 1;
        lab->curves_x = (CurvesX)((lab->curves_x + d) % CURVES_COUNT);
        return H_REDRAW;
    }
    return H_IGNORED;
}

const PanelClass CurvesPanel_class = {"curves", draw, key, NULL};
