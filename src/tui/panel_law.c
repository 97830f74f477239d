/* panel_law: the best loss of every run against N, D or C (the selector's axis),
 * each point marked by its run's state, with the fitted law and its interval band. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lab.h"
#include "scalelab/export.h"
#include "scalelab/numfmt.h"

#define REACH_MAX 6 /* decades */

static const char *const axis_names[AXIS_COUNT] = {"N (non-embedding params)", "D (tokens)", "C (FLOP, kaplan 6N/token)"};
static const char *const axis_units[AXIS_COUNT] = {"parameters", "tokens", "FLOP"};
static const char *const axis_short[AXIS_COUNT] = {"N", "D", "C"};

/* The x of a run on the axis, and its best loss; 0 when it has none yet. */
static int run_point(const Lab *lab, const sl_run_view *v, double *x, double *y)
{
    const sl_metric_row *best = NULL;
    for (size_t k = 0; k < v->n_rows; k++) {
        const sl_metric_row *r = &v->rows[k];
        if (r->step > 0 && isfinite(r->test_loss) && (!best || r->test_loss < best->test_loss))
            best = r;
    }
    if (!best)
        return 0;
    *y = best->test_loss;
    switch (lab->axis) {
    case AXIS_N: *x = v->n; break;
    case AXIS_D: *x = v->d > 0 ? v->d : best->tokens; break;
    default: *x = best->tokens * sl_model_flops_per_token(&v->shape, SL_ACCT_KAPLAN); break; /* Kaplan's C */
    }
    return *x > 0;
}

/* Can the sweep plan a run at a point of the axis? Any sweep at an N (the
 * shape), an nd sweep at a D (its data limit), an isoflop sweep at a C (its
 * budget): what the planner of a run at (N, D, C) places (sl_preset_run_at). */
static int axis_plannable(const sl_preset *pr, Axis a)
{
    return a == AXIS_N || (a == AXIS_D && pr->kind == SL_SWEEP_ND) ||
           (a == AXIS_C && pr->kind == SL_SWEEP_ISOFLOP);
}

/* The law drawn for the axis: the first one fitted of a list. */
static const sl_fit_result *law_for(const Lab *lab, const char **label)
{
    static const sl_fit_law by_axis[AXIS_COUNT][4] = {
        {SL_LAW_POWER_N, SL_LAW_OFFSET_N, SL_LAW_KAPLAN_ND, SL_LAW_COUNT},
        {SL_LAW_POWER_D, SL_LAW_OFFSET_D, SL_LAW_KAPLAN_ND, SL_LAW_COUNT},
        {SL_LAW_CMIN, SL_LAW_POWER_C, SL_LAW_OFFSET_C, SL_LAW_COUNT},
    };
    for (int i = 0; by_axis[lab->axis][i] != SL_LAW_COUNT; i++) {
        const sl_fit_result *r = FitSet_law(&lab->fits, by_axis[lab->axis][i], 0);
        if (r) {
            *label = sl_fit_law_name(by_axis[lab->axis][i]);
            return r;
        }
    }
    *label = NULL;
    return NULL;
}

/* The law at x; kaplan-nd is drawn at its limit in the other variable. */
static void eval(const Lab *lab, const sl_fit_result *r, double x, double *v, double *lo, double *hi)
{
    sl_fit_point p = {0};
    if (lab->axis == AXIS_N) {
        p.n = x;
        p.d = 1e30;
    } else if (lab->axis == AXIS_D) {
        p.d = x;
        p.n = 1e30;
    } else {
        p.c = x;
    }
    sl_fit_predict(r, SL_FIT_Q_LOSS, &p, v, lo, hi);
}

/* The interval band costs a sort of the bootstrap draws per point: it is
 * computed when the fits, the axis or the range change, not every frame. */
#define BAND_MAX 512
static struct {
    uint64_t fits_gen;
    Axis axis;
    sl_fit_law law;
    double x0, x1;
    int n;
    double x[BAND_MAX], lo[BAND_MAX], hi[BAND_MAX];
} band;

static void band_update(const Lab *lab, const sl_fit_result *fit, double x0, double x1, int n)
{
    if (band.fits_gen == lab->fits_gen && band.axis == lab->axis && band.law == fit->law &&
        band.x0 == x0 && band.x1 == x1 && band.n == n)
        return;
    band.fits_gen = lab->fits_gen;
    band.axis = lab->axis;
    band.law = fit->law;
    band.x0 = x0;
    band.x1 = x1;
    band.n = n;
    for (int k = 0; k < n; k++) {
        double v;
        band.x[k] = x0 * pow(x1 / x0, (double)k / (n - 1));
        eval(lab, fit, band.x[k], &v, &band.lo[k], &band.hi[k]);
    }
}

static void draw(Panel *p, Lab *lab)
{
    char title[96];
    snprintf(title, sizeof title, "Law: loss (nats/token) vs %s [a]", axis_names[lab->axis]);
    if ((int)strlen(title) + 6 > p->w)
        snprintf(title, sizeof title, "Law: loss (nats/token) vs %.1s [a]", axis_names[lab->axis]);
    Panel_frame(p, title);
    int ih = p->h - 2, iw = p->w - 2;
    int top = 1, left = 1 + 7, cw = iw - 7, ch = ih - 3;
    if (cw < 8 || ch < 3)
        return;
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY, x, y;
    int n = 0;
    for (int i = 0; i < lab->snap.n_runs; i++)
        if (run_point(lab, &lab->snap.runs[i], &x, &y)) {
            xmin = fmin(xmin, x);
            xmax = fmax(xmax, x);
            ymin = fmin(ymin, y);
            ymax = fmax(ymax, y);
            n++;
        }
    if (!n) {
        CRT_color(p->win, COL_DIM);
        CRT_text(p->win, 1 + ih / 2, 3, iw - 4, "no run has a test loss yet");
        return;
    }
    const char *label;
    const sl_fit_result *fit = law_for(lab, &label);
    /* the forecast point: law_reach decades past the largest run */
    double xf = lab->law_reach > 0 ? xmax * pow(10, lab->law_reach) : NAN;
    double x0 = xmin / 2, x1 = (isfinite(xf) ? xf : xmax) * 2;
    if (fit)
        for (int k = 0; k <= 16; k++) {
            double xx = x0 * pow(x1 / x0, k / 16.0), v, lo, hi;
            eval(lab, fit, xx, &v, &lo, &hi);
            if (isfinite(v) && v > 0 && v < ymax * 3 && v > ymin / 3) {
                ymin = fmin(ymin, v);
                ymax = fmax(ymax, v);
            }
        }
    double pad = pow(ymax / ymin, 0.08) * 1.01;
    Plot_resize(&p->plot, cw, ch, lab->plot_mode);
    Plot_begin(&p->plot, x0, x1, ymin / pad, ymax * pad, 1, 1);
    snprintf(p->plot.xname, sizeof p->plot.xname, "%s", axis_units[lab->axis]);
    if (fit) {
        int cols = cw * 2 < BAND_MAX ? cw * 2 : BAND_MAX;
        band_update(lab, fit, x0, x1, cols);
        for (int k = 0; k < cols; k++)
            if (isfinite(band.lo[k]) && isfinite(band.hi[k]))
                Plot_span(&p->plot, band.x[k], band.lo[k], band.hi[k], COL_BAND);
        sl_fit_result central = *fit;
        central.boot = NULL;
        central.n_boot_ok = 0;
        double pvx = NAN, pvy = NAN;
        for (int k = 0; k < cols; k++) {
            double xx = x0 * pow(x1 / x0, (double)k / (cols - 1)), v, lo, hi;
            eval(lab, &central, xx, &v, &lo, &hi);
            if (!isnan(pvx) && isfinite(v) && isfinite(pvy))
                Plot_line(&p->plot, pvx, pvy, xx, v, COL_FIT);
            pvx = xx;
            pvy = v;
        }
    }
    double fv = NAN, flo = NAN, fhi = NAN;
    if (fit && isfinite(xf)) {
        eval(lab, fit, xf, &fv, &flo, &fhi);
        if (isfinite(fv))
            Plot_mark(&p->plot, xf, fv, L'◆', '*', COL_FIT);
    }
    for (int i = 0; i < lab->snap.n_runs; i++) {
        const sl_run_view *v = &lab->snap.runs[i];
        if (!run_point(lab, v, &x, &y))
            continue;
        switch (v->state) {
        case SL_RUN_DONE: Plot_mark(&p->plot, x, y, L'■', '#', COL_GOOD); break;
        case SL_RUN_RUNNING: Plot_mark(&p->plot, x, y, L'●', 'o', COL_WARN); break;
        case SL_RUN_FAILED: Plot_mark(&p->plot, x, y, L'✗', 'x', COL_BAD); break;
        default: Plot_mark(&p->plot, x, y, L'○', '.', COL_DIM); break;
        }
    }
    Plot_draw(&p->plot, p->win, top, left);
    int ly = top + ch + 2;
    wmove(p->win, ly, 2);
    CRT_color(p->win, COL_GOOD);
    CRT_glyph(p->win, ly, 2, L'■', '#');
    CRT_color(p->win, COL_TEXT);
    mvwprintw(p->win, ly, 3, " done ");
    CRT_color(p->win, COL_WARN);
    CRT_glyph(p->win, ly, 9, L'●', 'o');
    CRT_color(p->win, COL_TEXT);
    mvwprintw(p->win, ly, 10, " running ");
    CRT_color(p->win, COL_DIM);
    CRT_glyph(p->win, ly, 19, L'○', '.');
    CRT_color(p->win, COL_TEXT);
    mvwprintw(p->win, ly, 20, " other  ");
    CRT_color(p->win, COL_FIT);
    char buf[128];
    if (fit) {
        snprintf(buf, sizeof buf, "fit %s (%s band)", label, fit->boot ? "95%" : "no");
    } else {
        snprintf(buf, sizeof buf, "no law on this axis fitted yet");
    }
    CRT_text(p->win, ly, 28, iw - 28, buf);
    /* the forecast, and the last verification run against what it predicted */
    char line[256] = "", a[16], b[16], c[16], d[16];
    if (isfinite(fv)) {
        sl_num_format(a, sizeof a, xf, SL_NUM_SHORT);
        sl_num_format(b, sizeof b, fv, SL_NUM_METRIC);
        sl_num_format(c, sizeof c, flo, SL_NUM_METRIC);
        sl_num_format(d, sizeof d, fhi, SL_NUM_METRIC);
        snprintf(line, sizeof line, "forecast at %s %s: loss %s [%s, %s] nats/token%s", a,
                 axis_units[lab->axis], b, c, d,
                 lab->engine && lab->preset && axis_plannable(lab->preset, lab->axis) ? " (v verifies)" : "");
    }
    const sl_store_prediction *vp = &lab->verify;
    if (vp->run[0]) {
        double obs = NAN;
        for (int i = 0; i < lab->snap.n_runs; i++)
            if (!strcmp(lab->snap.runs[i].id, vp->run) && lab->snap.runs[i].state == SL_RUN_DONE)
                obs = lab->snap.runs[i].best_test_loss;
        sl_num_format(b, sizeof b, vp->value, SL_NUM_METRIC);
        sl_num_format(c, sizeof c, vp->lo, SL_NUM_METRIC);
        sl_num_format(d, sizeof d, vp->hi, SL_NUM_METRIC);
        sl_num_format(a, sizeof a, obs, SL_NUM_METRIC);
        char o[64];
        if (isfinite(obs))
            snprintf(o, sizeof o, "observed %s: %s", a, sl_export_prediction_outcome(vp, obs));
        else
            snprintf(o, sizeof o, "observed: pending");
        snprintf(line, sizeof line, "verify %s: predicted %s [%s, %s], %s", vp->run, b, c, d, o);
    }
    if (line[0] && ly + 1 < p->h - 1) {
        CRT_color(p->win, COL_FIT);
        CRT_text(p->win, ly + 1, 2, iw - 1, line);
    } else if (line[0]) {
        CRT_color(p->win, COL_FIT);
        CRT_text(p->win, p->h - 1, 2, iw - 2, line);
    }
}

/* The N of a verification run at a D: the sweep's largest model, the one
 * nearest the law's large-N limit that the plot draws. */
static double largest_n(const Lab *lab)
{
    double n = 0;
    for (int i = 0; i < lab->snap.n_runs; i++)
        n = fmax(n, lab->snap.runs[i].n);
    return n;
}

/* The N of a verification run at a budget c: N_opt(c) of a fitted approach2
 * or approach1 law, else the N of the best finished run of the sweep's
 * largest budget (its measured optimum). 0 when there is none. */
static double n_for_budget(const Lab *lab, double c, const char **from)
{
    static const sl_fit_law opt[] = {SL_LAW_APPROACH2, SL_LAW_APPROACH1};
    for (size_t i = 0; i < sizeof opt / sizeof opt[0]; i++) {
        const sl_fit_result *r = FitSet_law(&lab->fits, opt[i], 0);
        sl_fit_point x = {0};
        x.c = c;
        double v, lo, hi;
        if (r && sl_fit_predict(r, SL_FIT_Q_NOPT, &x, &v, &lo, &hi) == SL_OK && isfinite(v) && v > 0) {
            *from = sl_fit_law_name(opt[i]);
            return v;
        }
    }
    double cmax = 0, best = INFINITY, n = 0;
    for (int i = 0; i < lab->snap.n_runs; i++)
        cmax = fmax(cmax, lab->snap.runs[i].spec.budget);
    for (int i = 0; i < lab->snap.n_runs; i++) {
        const sl_run_view *v = &lab->snap.runs[i];
        if (v->state == SL_RUN_DONE && v->spec.budget >= cmax / 1.0001 && v->best_test_loss < best) {
            best = v->best_test_loss;
            n = v->n;
        }
    }
    *from = "the best run of the largest budget";
    return n;
}

/* What the law predicts for a run at (n, d, c): kaplan-nd at its N and D,
 * the others at their own variable (as drawn). */
static void predict_run(const Lab *lab, const sl_fit_result *fit, double n, double d, double c,
                        sl_store_prediction *vp)
{
    if (lab->axis == AXIS_N) {
        eval(lab, fit, n, &vp->value, &vp->lo, &vp->hi);
        return;
    }
    sl_fit_point x = {0};
    x.n = n;
    x.d = d;
    x.c = c;
    sl_fit_predict(fit, SL_FIT_Q_LOSS, &x, &vp->value, &vp->lo, &vp->hi);
}

void LawPanel_verify(Lab *lab)
{
    const sl_preset *pr = lab->preset;
    if (!lab->engine || !pr) {
        Lab_message(lab, "a verification run needs a live sweep (not watch)");
        return;
    }
    static const char *const what[AXIS_COUNT] = {"an N", "a D (an nd sweep does)",
                                                 "a C (an isoflop sweep does)"};
    if (!axis_plannable(pr, lab->axis)) {
        Lab_message(lab, "verify: this %s sweep plans no run at %s: choose another axis (a)",
                    sl_sweep_kind_name(pr->kind), what[lab->axis]);
        return;
    }
    if (lab->law_reach <= 0) {
        Lab_message(lab, "verify: choose a forecast %s first (+ on the law plot sets how far)",
                    axis_short[lab->axis]);
        return;
    }
    double xmax = 0, x, y;
    int index = -1;
    for (int i = 0; i < lab->snap.n_runs; i++) {
        if (run_point(lab, &lab->snap.runs[i], &x, &y) && x > xmax)
            xmax = x;
        if (lab->snap.runs[i].index > index)
            index = lab->snap.runs[i].index;
    }
    const char *label;
    const sl_fit_result *fit = law_for(lab, &label);
    if (!fit || !(xmax > 0)) {
        Lab_message(lab, "verify: no law of %s fitted yet", axis_short[lab->axis]);
        return;
    }
    /* the planner's point: the forecast on the axis, and the other coordinates */
    double xf = xmax * pow(10, lab->law_reach), n = 0, d = 0, c = 0;
    const char *n_from = NULL;
    if (lab->axis == AXIS_N)
        n = xf;
    else if (lab->axis == AXIS_D)
        n = largest_n(lab), d = xf, n_from = "the largest model";
    else
        c = xf, n = n_for_budget(lab, c, &n_from);
    if (!(n > 0)) {
        Lab_message(lab, "verify: no N for a run at C (no approach2 or approach1 fit, no finished run)");
        return;
    }
    sl_run_spec s;
    sl_error err;
    if (pr->n_runs > 0)
        s = pr->runs[0];
    else if (lab->snap.n_runs > 0)
        s = lab->snap.runs[0].spec;
    else
        return;
    s.id[0] = 0;
    if (sl_preset_run_at(pr, n, d, c, &s, &err) != SL_OK) {
        Lab_message(lab, "verify: %s", err.msg);
        return;
    }
    /* predicted where the run is: its shape's N, its data limit, its planned
     * compute (Kaplan's, as the axis) */
    sl_store_prediction vp;
    memset(&vp, 0, sizeof vp);
    vp.n = sl_model_counts(&s.train.model).n_kaplan;
    if (lab->axis == AXIS_D)
        vp.d = (double)s.train.data_limit;
    if (lab->axis == AXIS_C)
        vp.c = (double)s.train.steps * s.train.batch * s.train.model.n_ctx *
               sl_model_flops_per_token(&s.train.model, SL_ACCT_KAPLAN);
    predict_run(lab, fit, vp.n, vp.d, vp.c, &vp);
    snprintf(vp.law, sizeof vp.law, "%s", label);
    s.index = index + 1;
    sl_run_id(&s, pr->kind, 0, s.id);
    snprintf(vp.run, sizeof vp.run, "%s", s.id);
    /* the prediction is in the store before the run can start */
    if (sl_export_prediction_add(lab->snap.dir, &vp, &err) != SL_OK) {
        Lab_message(lab, "verify: %s", err.msg);
        return;
    }
    char id[SL_RUN_ID_MAX];
    if (sl_engine_add_run(lab->engine, &s, id, &err) != SL_OK) {
        Lab_message(lab, "verify: %s", err.msg);
        return;
    }
    lab->verify = vp;
    char a[16], b[16], where[64];
    sl_num_format(a, sizeof a, vp.n, SL_NUM_SHORT);
    if (lab->axis == AXIS_N) {
        snprintf(where, sizeof where, "N %s", a);
    } else {
        char e[16];
        sl_num_format(e, sizeof e, lab->axis == AXIS_D ? vp.d : vp.c, SL_NUM_SHORT);
        snprintf(where, sizeof where, "%s %s (N %s, %s)", axis_short[lab->axis], e, a, n_from);
    }
    sl_num_format(b, sizeof b, vp.value, SL_NUM_METRIC);
    Lab_message(lab, "queued verification run %s at %s: %s predicts loss %s nats/token (in %s)", id, where,
                label, b, SL_PREDICTIONS_FILE);
}

static int key(Panel *p, Lab *lab, int ch)
{
    (void)p;
    if (ch == KEY_LEFT || ch == 'h') {
        lab->axis = (Axis)((lab->axis + AXIS_COUNT - 1) % AXIS_COUNT);
        return H_REDRAW_ALL;
    }
    if (ch == KEY_RIGHT || ch == 'l') {
        lab->axis = (Axis)((lab->axis + 1) % AXIS_COUNT);
        return H_REDRAW_ALL;
    }
    if ((ch == '+' || ch == '=') && lab->law_reach < REACH_MAX) {
        lab->law_reach++;
        return H_REDRAW;
    }
    if ((ch == '-' || ch == '_') && lab->law_reach > 0) {
        lab->law_reach--;
        return H_REDRAW;
    }
    return H_IGNORED;
}

const PanelClass LawPanel_class = {"law", draw, key, NULL};
