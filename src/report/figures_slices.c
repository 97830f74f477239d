/* figures_slices: the runs of a store sliced as other figures of Kaplan et al.
 * 2020 — the L(N) points coloured by depth against N and against N_total
 * (Figure 6), L(N) read off the learning curves at fixed compute and at fixed
 * steps (Figure 11), each IsoFLOP profile relative to its own optimum (Figure
 * 12, left), the steps and examples each batch size needed to reach a target
 * loss with the fitted hyperbola (Figure 18), and the loss at a few context
 * positions against N (Figure 21), and L(N) with the power law beside its
 * logarithmic rival (Figure 23). No law of its own: every value is a point the
 * runs measured or a fit the rest of scalelab makes the same way. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "figures_int.h"
#include "scalelab/model.h"
#include "scalelab/numfmt.h"

/* Appends (x, y) to a line series keeping it in order of x. */
static void line_insert(Series *s, double x, double y)
{
    size_t at = s->n;
    while (at > 0 && s->x[at - 1] > x) {
        s->x[at] = s->x[at - 1];
        s->y[at] = s->y[at - 1];
        at--;
    }
    s->x[at] = x;
    s->y[at] = y;
    s->n++;
}

/* The distinct values of v[0..n), ascending, at most cap; returns their number. */
static int distinct(const double *v, int n, double *out, int cap)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            continue;
        int seen = 0;
        for (int j = 0; j < k && !seen; j++)
            seen = v[i] == out[j];
        if (!seen && k < cap) {
            int at = k++;
            while (at > 0 && out[at - 1] > v[i]) {
                out[at] = out[at - 1];
                at--;
            }
            out[at] = v[i];
        }
    }
    return k;
}

/* ---- Figure 6: L(N) by depth, non-embedding N and N_total ------------------------------ */

void Fig_lawDepth(Figure *f, const sl_run *runs, int n, int total)
{
    sl_fit_point *p = sl_xcalloc((size_t)n + 1, sizeof *p);
    int *idx = sl_xcalloc((size_t)n + 1, sizeof *idx);
    size_t m = Fig_runPoints(runs, n, 0, p, idx);
    double *depth = sl_xcalloc(m + 1, sizeof *depth), layers[FIGURE_MAX_SERIES / 2];
    for (size_t i = 0; i < m; i++)
        depth[i] = runs[idx[i]].spec.train.model.n_layer;
    int k = m ? distinct(depth, (int)m, layers, FIGURE_MAX_SERIES / 2) : 0;
    if (k < 2)
        k = 0; /* one depth: law-n is the figure */
    for (int j = 0; j < k; j++) {
        double rgb[3];
        Canvas_ramp(j, k, rgb);
        char label[96];
        snprintf(label, sizeof label, "%g layer%s", layers[j], layers[j] == 1 ? "" : "s");
        Series *line = Figure_addSeries(f, m, SERIES_LINE, rgb, "");
        Series *mark = Figure_addSeries(f, m, SERIES_MARK, rgb, label);
        if (!line || !mark)
            break;
        for (size_t i = 0; i < m; i++) {
            if (depth[i] != layers[j])
                continue;
            double x = total ? sl_model_counts(&runs[idx[i]].spec.train.model).n_total : p[i].n;
            line_insert(line, x, p[i].loss);
            mark->x[mark->n] = x;
            mark->y[mark->n++] = p[i].loss;
        }
    }
    free(depth);
    free(idx);
    free(p);
}

/* ---- Figure 11: L(N) at fixed compute and at fixed steps ------------------------------- */

/* The loss of a learning curve at x (compute or steps), interpolated linearly
 * in ln x and ln L between the evaluations around it; NaN outside the curve. */
static double loss_at(const sl_run *r, double x, int steps, sl_accounting acct)
{
    double fpt = sl_model_flops_per_token(&r->spec.train.model, acct), px = NAN, pl = NAN;
    for (size_t j = 0; j < r->n_rows; j++) {
        const sl_metric_row *row = &r->rows[j];
        double cx = steps ? (double)row->step : row->tokens * fpt, cl = row->test_loss;
        if (row->step <= 0 || !Fig_positive(cx) || !Fig_positive(cl))
            continue;
        if (cx == x)
            return cl;
        if (cx > x) {
            if (!isfinite(px))
                return NAN;
            double t = (log(x) - log(px)) / (log(cx) - log(px));
            return exp(log(pl) + t * (log(cl) - log(pl)));
        }
        px = cx;
        pl = cl;
    }
    return NAN;
}

/* Four values, geometric, across the range of compute (or steps) that at
 * least three curves cover (two when the store has fewer runs). */
static int slice_values(const sl_run *runs, int n, int steps, sl_accounting acct, double out[4])
{
    double *first = sl_xcalloc((size_t)n + 1, sizeof *first), *last = sl_xcalloc((size_t)n + 1, sizeof *last);
    int k = 0;
    for (int i = 0; i < n; i++) {
        const sl_run *r = &runs[i];
        double fpt = sl_model_flops_per_token(&r->spec.train.model, acct), a = NAN, b = NAN;
        for (size_t j = 0; j < r->n_rows; j++) {
            double x = steps ? (double)r->rows[j].step : r->rows[j].tokens * fpt;
            if (r->rows[j].step <= 0 || !Fig_positive(x) || !Fig_positive(r->rows[j].test_loss))
                continue;
            if (!isfinite(a))
                a = x;
            b = x;
        }
        if (isfinite(a) && b > a) {
            first[k] = a;
            last[k++] = b;
        }
    }
    int need = k >= 3 ? 3 : 2, got = 0;
    if (k >= need) {
        /* the need-th smallest first value and the need-th largest last value */
        for (int pass = 0; pass < 2; pass++) {
            double *v = pass ? last : first;
            for (int i = 1; i < k; i++)
                for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
                    double t = v[j];
                    v[j] = v[j - 1];
                    v[j - 1] = t;
                }
        }
        double lo = first[need - 1], hi = last[k - need];
        if (hi > lo * 1.2)
            for (; got < 4; got++)
                out[got] = lo * pow(hi / lo, (got + 0.5) / 4);
    }
    free(first);
    free(last);
    return got;
}

void Fig_lawNAt(Figure *f, const sl_run *runs, int n, int steps, sl_accounting acct)
{
    double at[4];
    int k = slice_values(runs, n, steps, acct, at);
    for (int j = 0; j < k; j++) {
        double rgb[3];
        Canvas_ramp(j, k, rgb);
        char v[32], label[96];
        sl_num_format(v, sizeof v, at[j], SL_NUM_SI);
        snprintf(label, sizeof label, steps ? "S = %s steps" : "C = %s FLOP", v);
        Series *line = Figure_addSeries(f, (size_t)n, SERIES_LINE, rgb, "");
        Series *mark = Figure_addSeries(f, (size_t)n, SERIES_MARK, rgb, label);
        if (!line || !mark)
            break;
        for (int i = 0; i < n; i++) {
            double l = loss_at(&runs[i], at[j], steps, acct);
            if (!Fig_positive(l))
                continue;
            double x = sl_model_counts(&runs[i].spec.train.model).n_kaplan;
            line_insert(line, x, l);
            mark->x[mark->n] = x;
            mark->y[mark->n++] = l;
        }
    }
}

/* ---- Figure 12 (left): the penalty of an off-optimal N ------------------------------------ */

void Fig_isoflopPenalty(Figure *f, const sl_run *runs, int n)
{
    sl_fit_point *p = sl_xcalloc((size_t)n + 1, sizeof *p);
    int *idx = sl_xcalloc((size_t)n + 1, sizeof *idx);
    size_t m = Fig_runPoints(runs, n, 0, p, idx);
    double *budget = sl_xcalloc(m + 1, sizeof *budget), budgets[FIGURE_MAX_SERIES / 2];
    for (size_t i = 0; i < m; i++)
        budget[i] = runs[idx[i]].spec.budget > 0 ? runs[idx[i]].spec.budget : NAN;
    int k = m ? distinct(budget, (int)m, budgets, FIGURE_MAX_SERIES / 2) : 0;
    double *ns = sl_xcalloc(m + 1, sizeof *ns), *ls = sl_xcalloc(m + 1, sizeof *ls);
    int profiles = 0;
    for (int j = 0; j < k; j++) {
        size_t q = 0;
        for (size_t i = 0; i < m; i++)
            if (budget[i] == budgets[j]) {
                ns[q] = p[i].n;
                ls[q++] = p[i].loss;
            }
        double n_opt, l_opt;
        if (sl_fit_isoflop_minimum(ns, ls, q, &n_opt, &l_opt) != 0 || !Fig_positive(l_opt))
            continue; /* no interior optimum: nothing to be off from */
        double rgb[3];
        Canvas_ramp(j, k, rgb);
        char v[32], w[32], label[96];
        sl_num_format(v, sizeof v, budgets[j], SL_NUM_SI);
        sl_num_format(w, sizeof w, n_opt, SL_NUM_SHORT);
        snprintf(label, sizeof label, "C = %s FLOP, N_opt %s", v, w);
        Series *line = Figure_addSeries(f, q, SERIES_LINE, rgb, "");
        Series *mark = Figure_addSeries(f, q, SERIES_MARK, rgb, label);
        if (!line || !mark)
            break;
        for (size_t i = 0; i < q; i++) {
            line_insert(line, ns[i] / n_opt, ls[i] / l_opt);
            mark->x[mark->n] = ns[i] / n_opt;
            mark->y[mark->n++] = ls[i] / l_opt;
        }
        profiles++;
    }
    if (profiles < k) {
        size_t len = strlen(f->title);
        snprintf(f->title + len, sizeof f->title - len, " (%d of %d budgets without an interior optimum)",
                 k - profiles, k);
    }
    free(ns);
    free(ls);
    free(budget);
    free(idx);
    free(p);
}

/* ---- Figure 18: steps and examples to reach a loss, per batch size ------------------------ */

void Fig_bcritScan(Figure *f, const sl_run *runs, int n)
{
    sl_fit_point *p = Fig_pointsBuffer(runs, n);
    size_t m = Fig_rulePoints(runs, n, sl_fit_law_points(SL_LAW_BCRIT_SCAN), 0, p, NULL);
    sl_bcrit_target t[32];
    int nt = 0;
    sl_error e;
    if (m == 0 || sl_fit_bcrit_targets(p, m, 0, t, &nt, &e) != SL_OK) {
        free(p);
        return;
    }
    double *b = sl_xcalloc((size_t)n + 1, sizeof *b), *s = sl_xcalloc((size_t)n + 1, sizeof *s);
    for (int j = 0; j < nt; j++) {
        /* the fewest steps any run of each batch size needed (the best-tuned
         * learning rate), as the fit takes them */
        int nb = 0;
        for (int i = 0; i < n; i++) {
            const sl_run *r = &runs[i];
            double *steps = sl_xcalloc(r->n_rows + 1, sizeof *steps), *loss = sl_xcalloc(r->n_rows + 1, sizeof *loss);
            size_t k = 0;
            for (size_t q = 0; q < r->n_rows; q++)
                if (r->rows[q].step > 0 && Fig_positive(r->rows[q].test_loss)) {
                    steps[k] = (double)r->rows[q].step;
                    loss[k++] = r->rows[q].test_loss;
                }
            double need = sl_fit_steps_to_loss(steps, loss, k, t[j].loss);
            free(steps);
            free(loss);
            if (!Fig_positive(need))
                continue;
            double bt = (double)r->spec.train.batch * r->spec.train.model.n_ctx;
            int at = 0;
            while (at < nb && b[at] != bt)
                at++;
            if (at == nb) {
                b[nb] = bt;
                s[nb++] = need;
            } else if (need < s[at])
                s[at] = need;
        }
        if (nb == 0)
            continue;
        double rgb[3];
        Canvas_ramp(j, nt, rgb);
        char label[96], bc[32];
        sl_num_format(bc, sizeof bc, t[j].bcrit, SL_NUM_SHORT);
        if (t[j].converged)
            snprintf(label, sizeof label, "L = %.3f: B_crit %s tokens", t[j].loss, bc);
        else
            snprintf(label, sizeof label, "L = %.3f: no hyperbola (%s)", t[j].loss, t[j].reason);
        Series *mark = Figure_addSeries(f, (size_t)nb, SERIES_MARK, rgb, label);
        for (int q = 0; mark && q < nb; q++) {
            mark->x[mark->n] = s[q];
            mark->y[mark->n++] = b[q] * s[q];
        }
        if (!t[j].converged)
            continue;
        /* S = S_min (1 + B_crit/B), E = B S = E_min (1 + B/B_crit) */
        Series *fit = Figure_addSeries(f, FIT_GRID, SERIES_FIT, rgb, "");
        if (fit)
            Series_dropBand(fit);
        /* from well below to well above both B_crit and the batch sizes run */
        double b0 = t[j].bcrit / 30, b1 = t[j].bcrit * 30;
        for (int q = 0; q < nb; q++)
            b0 = fmin(b0, b[q] / 3), b1 = fmax(b1, b[q] * 3);
        for (int q = 0; fit && q < FIT_GRID; q++) {
            double bb = b0 * pow(b1 / b0, (double)q / (FIT_GRID - 1));
            fit->x[fit->n] = t[j].s_min * (1 + t[j].bcrit / bb);
            fit->y[fit->n++] = t[j].e_min * (1 + bb / t[j].bcrit);
        }
    }
    free(b);
    free(s);
    free(p);
}

/* ---- Figure 21: the loss at a context position against N --------------------------------- */

void Fig_contextByN(Figure *f, const char *sweep_dir, const sl_run *runs, int n)
{
    sl_fit_point **ctx = sl_xcalloc((size_t)n + 1, sizeof *ctx);
    size_t *len = sl_xcalloc((size_t)n + 1, sizeof *len);
    int with = 0;
    double t_max = INFINITY;
    for (int i = 0; i < n; i++) {
        len[i] = Fig_contextPoints(sweep_dir, &runs[i], &ctx[i]);
        if (len[i]) {
            with++;
            t_max = fmin(t_max, ctx[i][len[i] - 1].n);
        }
    }
    if (with >= 2 && isfinite(t_max)) {
        /* positions 1, 4, 16, ... up to the shortest context: early, middle, late */
        double at[8];
        int k = 0;
        for (double t = 1; t <= t_max && k < 8; t *= 4)
            at[k++] = t;
        for (int j = 0; j < k; j++) {
            double rgb[3];
            Canvas_ramp(j, k, rgb);
            char label[96];
            snprintf(label, sizeof label, "position T = %g", at[j]);
            Series *line = Figure_addSeries(f, (size_t)n, SERIES_LINE, rgb, "");
            Series *mark = Figure_addSeries(f, (size_t)n, SERIES_MARK, rgb, label);
            if (!line || !mark)
                break;
            for (int i = 0; i < n; i++)
                for (size_t q = 0; q < len[i]; q++)
                    if (ctx[i][q].n == at[j]) {
                        double x = sl_model_counts(&runs[i].spec.train.model).n_kaplan;
                        line_insert(line, x, ctx[i][q].loss);
                        mark->x[mark->n] = x;
                        mark->y[mark->n++] = ctx[i][q].loss;
                        break;
                    }
        }
    }
    for (int i = 0; i < n; i++)
        free(ctx[i]);
    free(ctx);
    free(len);
}

/* ---- Figure 23: the power law against a logarithmic fit of L(N) -------------------------- */

void Fig_lawNLog(Figure *f, const sl_run *runs, int n)
{
    sl_fit_point *p = sl_xcalloc((size_t)n + 1, sizeof *p);
    size_t m = Fig_runPoints(runs, n, 0, p, NULL);
    if (m < 3) {
        free(p);
        return;
    }
    Fig_lawPoints(f, p, m, 'n', CANVAS_BLUE, "runs, best test loss");
    static const sl_fit_law rivals[2] = {SL_LAW_POWER_N, SL_LAW_LOG_N};
    const double *rgb[2] = {CANVAS_RED, CANVAS_ORANGE};
    double lo, hi;
    Fig_rangeOf(p, m, 'n', &lo, &hi);
    for (int k = 0; k < 2; k++) {
        sl_fit_result r;
        if (!Fig_fit(rivals[k], p, m, &r))
            continue;
        char label[96];
        if (rivals[k] == SL_LAW_LOG_N)
            snprintf(label, sizeof label, "log-n: L = %.3g - %.3g ln N, RMS of ln L %.3g", r.value[0], r.value[1],
                     r.rms_log);
        else
            snprintf(label, sizeof label, "power-n: alpha %.3g, RMS of ln L %.3g", r.value[0], r.rms_log);
        Fig_fitCurve(f, &r, &p[0], 'n', lo, hi, 0, rgb[k], label);
        sl_fit_result_free(&r);
    }
    free(p);
}
