/* panel_curves: a metric of every visible run (test loss by default; train
 * loss, learning rate, gradient norm, noise scale, test loss in bits per
 * byte) against tokens, compute or
 * steps, log-log, one colour per run, optionally smoothed, a legend with N and
 * D, a cursor that reads out each run's value at a point, and over the test
 * loss the fitted L(N,S) of each run (or, against compute, the envelope). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab.h"
#include "scalelab/numfmt.h"

static const char *const x_names[CURVES_COUNT] = {"tokens", "compute", "steps"};
static const char *const x_units[CURVES_COUNT] = {"tokens", "FLOP (kaplan 6N/token)", "steps"};

static const struct {
    const char *name, *unit;
    int logy;
} metrics[MET_COUNT] = {
    {"test loss", "nats/token", 1},   {"train loss", "nats/token", 1},
    {"learning rate", "", 0},         {"gradient norm", "before clipping", 1},
    {"noise scale B_simple", "tokens", 1}, {"test loss", "bits/byte", 1},
};

const char *Curves_metricName(Metric m) { return m >= 0 && m < MET_COUNT ? metrics[m].name : "?"; }

/* EMA weights of the `s` key (0: raw), as TensorBoard's smoothing slider. */
const double Curves_smoothing[CURVES_SMOOTHINGS] = {0, 0.6, 0.8, 0.9, 0.95, 0.99};

static double metric_of(Metric m, const sl_metric_row *r)
{
    switch (m) {
    case MET_TRAIN: return r->train_loss;
    case MET_LR: return r->lr;
    case MET_GRAD: return r->grad_norm;
    case MET_NOISE: return r->noise_scale;
    case MET_BPB: return r->test_bpb;
    default: return r->test_loss;
    }
}

/* x of a row: compute is Kaplan's C, 6N per token (metrics.csv's flops adds
 * attention's context term) */
static double row_x(const Lab *lab, const sl_run_view *v, const sl_metric_row *r)
{
    switch (lab->curves_x) {
    case CURVES_COMPUTE: return r->tokens * sl_model_flops_per_token(&v->shape, SL_ACCT_KAPLAN);
    case CURVES_STEPS: return (double)r->step;
    default: return r->tokens;
    }
}

typedef struct {
    double x, y;
} XY;

static int usable(const sl_metric_row *r) { return r->step > 0 && isfinite(r->test_loss) && r->test_loss > 0; }

/* A row's value of the chosen metric, or NaN where it has none (or none a
 * log axis can show). */
static double value(const Lab *lab, const sl_metric_row *r)
{
    double v = metric_of(lab->metric, r);
    if (r->step <= 0 || !isfinite(v) || (metrics[lab->metric].logy && !(v > 0)))
        return NAN;
    return v;
}

/* A run's curve as points (x, value), smoothed by the lab's EMA weight with
 * TensorBoard's debiasing; returns the count (pts holds n_rows). */
static size_t series(const Lab *lab, const sl_run_view *v, XY *pts)
{
    double w = Curves_smoothing[lab->smooth], acc = 0, norm = 0;
    size_t m = 0;
    for (size_t k = 0; k < v->n_rows; k++) {
        const sl_metric_row *r = &v->rows[k];
        double y = value(lab, r);
        if (isnan(y))
            continue;
        if (w > 0) {
            acc = w * acc + (1 - w) * y;
            norm = w * norm + (1 - w);
            y = acc / norm;
        }
        pts[m++] = (XY){row_x(lab, v, r), y};
    }
    return m;
}

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
                pts[m++] = (XY){row_x(lab, &lab->snap.runs[i], r), r->test_loss};
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
            sl_fit_point x = {.n = v->n, .s = s, .b = b, .d = s * b, .c = s * b * sl_model_flops_per_token(&v->shape, SL_ACCT_KAPLAN)};
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

/* Forecasts: each running run's L(N, S) from its last evaluation to its
 * planned end, with the 95% interval over the fit's bootstrap draws, at
 * FC_STEPS + 1 steps spaced evenly in log S. Computed when the fits move (the
 * draws make it a few milliseconds), not every frame. */
#define FC_STEPS 16
typedef struct {
    uint64_t fits_gen;
    const void *fit_key;
    int n;         /* runs */
    double *s, *val, *lo, *hi; /* n x (FC_STEPS + 1); s 0 for a run without one */
} Forecast;
static Forecast fc;

static double fc_x(const Lab *lab, const sl_run_view *v, double s)
{
    double b = (double)v->batch * v->shape.n_ctx;
    return lab->curves_x == CURVES_STEPS ? s : s * b;
}

static void forecast_update(const Lab *lab, const sl_fit_result *fit)
{
    if (fc.fits_gen == lab->fits_gen && fc.fit_key == fit && fc.n == lab->snap.n_runs)
        return;
    int g = FC_STEPS + 1;
    size_t sz = (size_t)(lab->snap.n_runs > 0 ? lab->snap.n_runs : 1) * (size_t)g * sizeof(double);
    free(fc.s);
    free(fc.val);
    free(fc.lo);
    free(fc.hi);
    fc.s = sl_xcalloc(1, sz);
    fc.val = sl_xcalloc(1, sz);
    fc.lo = sl_xcalloc(1, sz);
    fc.hi = sl_xcalloc(1, sz);
    fc.fits_gen = lab->fits_gen;
    fc.fit_key = fit;
    fc.n = lab->snap.n_runs;
    for (int i = 0; i < lab->snap.n_runs; i++) {
        const sl_run_view *v = &lab->snap.runs[i];
        double s0 = v->has_last ? (double)v->last.step : 0, s1 = (double)v->planned_steps;
        if (v->state != SL_RUN_RUNNING || !(s0 >= 1) || !(s1 > s0))
            continue;
        double b = (double)v->batch * v->shape.n_ctx;
        for (int k = 0; k < g; k++) {
            double s = s0 * pow(s1 / s0, (double)k / FC_STEPS);
            sl_fit_point x = {.n = v->n, .s = s, .b = b, .d = s * b};
            size_t at = (size_t)i * (size_t)g + (size_t)k;
            fc.s[at] = s;
            sl_fit_predict(fit, SL_FIT_Q_LOSS, &x, &fc.val[at], &fc.lo[at], &fc.hi[at]);
        }
    }
}

/* The band ahead of each visible running run and its forecast final loss (◆) */
static void draw_forecasts(Plot *pl, const Lab *lab)
{
    int g = FC_STEPS + 1;
    for (int i = 0; i < fc.n && i < lab->snap.n_runs; i++) {
        const sl_run_view *v = &lab->snap.runs[i];
        const double *s = fc.s + (size_t)i * (size_t)g;
        if (!(s[0] > 0) || !Lab_visible(lab, v))
            continue;
        const double *val = fc.val + (size_t)i * (size_t)g, *lo = fc.lo + (size_t)i * (size_t)g,
                     *hi = fc.hi + (size_t)i * (size_t)g;
        for (int k = 0; k < g; k++)
            if (isfinite(lo[k]) && isfinite(hi[k]))
                Plot_span(pl, fc_x(lab, v, s[k]), lo[k], hi[k], COL_BAND);
        if (isfinite(val[g - 1]))
            Plot_mark(pl, fc_x(lab, v, s[g - 1]), val[g - 1], L'◆', '*', Lab_series(v->index));
    }
}

/* The value of a run's curve at x: the last point at or before it (NaN
 * before its first point). */
static double value_at(const XY *pts, size_t m, double x)
{
    double y = NAN;
    for (size_t k = 0; k < m && pts[k].x <= x * (1 + 1e-12); k++)
        y = pts[k].y;
    return y;
}

/* One entry per visible run per line in a column (with its value at the
 * cursor when there is one), or (rows 1) side by side on one line. */
static void legend(Panel *p, Lab *lab, int top, int left, int width, int rows, const double *at)
{
    int shown = 0, x = left, n_vis = 0, n_hidden = 0;
    for (int i = 0; i < lab->snap.n_runs; i++)
        n_vis += Lab_visible(lab, &lab->snap.runs[i]);
    n_hidden = lab->snap.n_runs - n_vis;
    int left_over = n_vis;
    for (int i = 0; i < lab->snap.n_runs; i++) {
        const sl_run_view *v = &lab->snap.runs[i];
        if (!Lab_visible(lab, v))
            continue;
        char n[16], d[16], line[64];
        sl_num_format(n, sizeof n, v->n, SL_NUM_SHORT);
        sl_num_format(d, sizeof d, v->d > 0 ? v->d : v->planned_tokens, SL_NUM_SHORT);
        if (rows > 1 && at) {
            sl_num_format(d, sizeof d, at[i], SL_NUM_METRIC);
            snprintf(line, sizeof line, " N=%s %s", n, d);
        } else if (rows > 1)
            snprintf(line, sizeof line, " N=%s D=%s", n, d);
        else
            snprintf(line, sizeof line, "%s ", n);
        int len = 2 + (int)strlen(line);
        int y = rows > 1 ? top + shown : top;
        int last = rows > 1 ? shown == rows - 1 - (n_hidden > 0) : x + len + 8 > left + width;
        if (last && left_over > 1) {
            CRT_color(p->win, COL_DIM);
            mvwprintw(p->win, y, x, "+%d more", left_over);
            return;
        }
        CRT_color(p->win, Lab_series(v->index));
        CRT_hline(p->win, y, x, 2, L'━', '=');
        CRT_color(p->win, COL_TEXT);
        CRT_text(p->win, y, x + 2, left + width - x - 2, line);
        shown++;
        left_over--;
        if (rows == 1)
            x += len;
    }
    char buf[48];
    if (n_hidden > 0) {
        snprintf(buf, sizeof buf, "%d hidden [H S]", n_hidden);
        CRT_color(p->win, COL_DIM);
        if (rows > 1)
            CRT_text(p->win, top + shown, left, width, buf);
        else if (x + (int)strlen(buf) <= left + width)
            CRT_text(p->win, top, x, left + width - x, buf);
    } else if (rows == 1 && x + 10 <= left + width) {
        CRT_color(p->win, COL_DIM);
        CRT_text(p->win, top, x, left + width - x, "(N)");
    }
}

/* The x of a canvas column's centre (the cursor's position). */
static double column_x(const Plot *pl, int col)
{
    double f = pl->w > 1 ? (double)col / (pl->w - 1) : 0;
    double l = pl->x0 + f * (pl->x1 - pl->x0);
    return pl->logx ? pow(10, l) : l;
}

static void draw(Panel *p, Lab *lab)
{
    char title[160], sm[24] = "";
    if (Curves_smoothing[lab->smooth] > 0)
        snprintf(sm, sizeof sm, ", EMA %.2f", Curves_smoothing[lab->smooth]);
    const char *unit = metrics[lab->metric].unit;
    /* the longest title that fits the border */
    const char *x = x_names[lab->curves_x], *nm = metrics[lab->metric].name;
    const char *su = lab->metric == MET_TEST || lab->metric == MET_TRAIN ? "nats/tok" : unit;
    snprintf(title, sizeof title, "Learning curves: %s%s%s%s%s vs %s [c m s x]", nm, unit[0] ? " (" : "",
             unit, unit[0] ? ")" : "", sm, x);
    if ((int)strlen(title) + 6 > p->w)
        snprintf(title, sizeof title, "Curves: %s%s%s%s vs %s", nm, su[0] ? ", " : "", su, sm, x);
    if ((int)strlen(title) + 6 > p->w)
        snprintf(title, sizeof title, "%s%s%s%s vs %s", nm, su[0] ? ", " : "", su, sm, x);
    if ((int)strlen(title) + 6 > p->w) /* the x axis names itself on its label row */
        snprintf(title, sizeof title, "%s%s%s%s", nm, su[0] ? ", " : "", su, sm);
    Panel_frame(p, title);
    int ih = p->h - 2, iw = p->w - 2;
    int leg_w = iw >= 64 ? 22 : 0;
    int leg_rows = leg_w ? ih : 1;
    int top = 1 + (leg_w ? 0 : 1), left = 1 + 7;
    int cw = iw - 7 - (leg_w ? leg_w + 1 : 0), ch = ih - 2 - (leg_w ? 0 : 1);
    if (cw < 8 || ch < 3)
        return;
    size_t most = 1;
    for (int i = 0; i < lab->snap.n_runs; i++)
        if (lab->snap.runs[i].n_rows > most)
            most = lab->snap.runs[i].n_rows;
    XY *pts = sl_xmalloc(most * sizeof *pts);
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (int i = 0; i < lab->snap.n_runs; i++) {
        if (!Lab_visible(lab, &lab->snap.runs[i]))
            continue;
        size_t m = series(lab, &lab->snap.runs[i], pts);
        for (size_t k = 0; k < m; k++) {
            xmin = fmin(xmin, pts[k].x);
            xmax = fmax(xmax, pts[k].x);
            ymin = fmin(ymin, pts[k].y);
            ymax = fmax(ymax, pts[k].y);
        }
    }
    if (!(xmax > 0)) {
        CRT_color(p->win, COL_DIM);
        int any_hidden = lab->solo[0] || lab->n_hidden;
        CRT_text(p->win, 1 + ih / 2, 3, iw - 4,
                 any_hidden && lab->snap.n_runs ? "every run with rows is hidden (H shows, S unsolos)"
                 : lab->metric == MET_TEST ? "waiting for the first evaluations ..."
                                           : "no run has rows of this metric yet");
        free(pts);
        return;
    }
    Plot_resize(&p->plot, cw, ch, lab->plot_mode);
    /* the fit drawn over the test loss: the live one while runs train (it
     * has their curves so far), the finished-run fit when that is all */
    const sl_fit_result *ns = lab->metric == MET_TEST ? FitSet_law(&lab->fits, SL_LAW_KAPLAN_NS, 1) : NULL;
    int ns_live = ns != NULL;
    if (!ns && lab->metric == MET_TEST)
        ns = FitSet_law(&lab->fits, SL_LAW_KAPLAN_NS, 0);
    if (ns && !ns->converged)
        ns = NULL; /* a fit still wandering would draw nonsense over the data */
    int ahead = ns && lab->curves_x != CURVES_COMPUTE;
    if (ahead) {
        /* the forecasts reach each running run's planned end */
        forecast_update(lab, ns);
        for (int i = 0; i < fc.n && i < lab->snap.n_runs; i++) {
            const double *s = fc.s + (size_t)i * (FC_STEPS + 1), *val = fc.val + (size_t)i * (FC_STEPS + 1);
            if (!(s[0] > 0) || !Lab_visible(lab, &lab->snap.runs[i]))
                continue;
            xmax = fmax(xmax, fc_x(lab, &lab->snap.runs[i], s[FC_STEPS]));
            /* the central forecast in view; a wide band is cut at the frame */
            if (isfinite(val[FC_STEPS]) && val[FC_STEPS] > 0)
                ymin = fmin(ymin, val[FC_STEPS]);
        }
    }
    int logy = metrics[lab->metric].logy;
    if (logy) {
        double pad = pow(ymax / ymin, 0.05);
        Plot_begin(&p->plot, xmin, xmax * 1.05, ymin / pad, ymax * pad, 1, 1);
    } else {
        double pad = (ymax - ymin) * 0.05 + 1e-12;
        Plot_begin(&p->plot, xmin, xmax * 1.05, ymin - pad, ymax + pad, 1, 0);
    }
    snprintf(p->plot.xname, sizeof p->plot.xname, "%s", x_units[lab->curves_x]);
    int envelope = lab->metric == MET_TEST && (lab->curves_x == CURVES_COMPUTE || !ns);
    if (envelope)
        draw_envelope(&p->plot, lab);
    if (lab->cursor >= cw)
        lab->cursor = cw - 1;
    double cx = lab->cursor >= 0 ? column_x(&p->plot, lab->cursor) : NAN;
    double *at = lab->cursor >= 0 ? sl_xcalloc((size_t)lab->snap.n_runs + 1, sizeof *at) : NULL;
    for (int i = 0; i < lab->snap.n_runs; i++) {
        const sl_run_view *v = &lab->snap.runs[i];
        if (!Lab_visible(lab, v))
            continue;
        size_t m = series(lab, v, pts);
        if (at)
            at[i] = value_at(pts, m, cx);
        for (size_t k = 0; k < m; k++) {
            if (k == 0)
                Plot_dot(&p->plot, pts[k].x, pts[k].y, Lab_series(v->index));
            else
                Plot_line(&p->plot, pts[k - 1].x, pts[k - 1].y, pts[k].x, pts[k].y, Lab_series(v->index));
        }
    }
    free(pts);
    if (ahead) {
        draw_forecasts(&p->plot, lab);
        draw_ns_fit(&p->plot, lab, ns);
    }
    Plot_draw(&p->plot, p->win, top, left);
    if (lab->metric == MET_TEST) {
        CRT_color(p->win, COL_FIT);
        CRT_text(p->win, top, left + 1, cw - 1,
                 !ahead    ? "envelope"
                 : ns_live ? "fit: L(N,S) live, forecast final loss (mark) with 95% band"
                           : "fit: L(N,S), forecast final loss (mark) with 95% band");
    }
    if (leg_w)
        legend(p, lab, 1, 1 + iw - leg_w, leg_w, leg_rows, at);
    else
        legend(p, lab, 1, 2, iw - 2, 1, NULL);
    if (at) {
        /* the cursor: a line through the empty cells of its column, and the
         * selected run's value (every visible run's in a wide legend) */
        CRT_color(p->win, COL_FOCUS);
        for (int y = 0; y < ch; y++) {
            size_t c = (size_t)y * (size_t)cw + (size_t)lab->cursor;
            if (!p->plot.dots[c] && !p->plot.mark[c] && !p->plot.mark_ascii[c])
                CRT_glyph(p->win, top + y, left + lab->cursor, L'│', '|');
        }
        const sl_run_view *sel = RunsPanel_selected(lab);
        char xv[16], yv[16], line[160];
        sl_num_format(xv, sizeof xv, cx, SL_NUM_SHORT);
        if (sel && Lab_visible(lab, sel)) {
            sl_num_format(yv, sizeof yv, at[sel - lab->snap.runs], SL_NUM_METRIC);
            snprintf(line, sizeof line, " %s %s: %s %s %s ", xv, x_units[lab->curves_x], sel->id, yv, unit);
        } else {
            snprintf(line, sizeof line, " cursor at %s %s ", xv, x_units[lab->curves_x]);
        }
        CRT_text(p->win, p->h - 1, 2, p->w - 4, line);
        free(at);
    }
}

static int key(Panel *p, Lab *lab, int ch)
{
    int cw = p->plot.w > 0 ? p->plot.w : 1;
    switch (ch) {
    case 'c':
        lab->curves_x = (CurvesX)((lab->curves_x + 1) % CURVES_COUNT);
        return H_REDRAW;
    case KEY_LEFT: case 'h':
        lab->cursor = lab->cursor < 0 ? cw - 1 : lab->cursor > 0 ? lab->cursor - 1 : 0;
        return H_REDRAW;
    case KEY_RIGHT: case 'l':
        lab->cursor = lab->cursor < 0 ? cw - 1 : lab->cursor + 1 < cw ? lab->cursor + 1 : cw - 1;
        return H_REDRAW;
    case 'x':
        lab->cursor = lab->cursor < 0 ? cw - 1 : -1;
        return H_REDRAW;
    }
    return H_IGNORED;
}

/* A click on the canvas puts the cursor there. */
static int click(Panel *p, Lab *lab, int y, int x)
{
    (void)y;
    int col = x - 8; /* left of the canvas: the border and 7 columns of labels */
    if (col >= 0 && col < p->plot.w) {
        lab->cursor = col;
        return H_REDRAW;
    }
    return H_HANDLED;
}

const PanelClass CurvesPanel_class = {"curves", draw, key, click};
