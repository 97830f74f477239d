/* figures: a run store drawn as the paper's figures (the drawing itself is
 * canvas.c, what the figure files share figures_common.c). Learning curves
 * against tokens and compute, the law plot the sweep kind implies, each fitted
 * law with its bootstrap band. Reads the store, fits in-process. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "canvas.h"
#include "figures_int.h"
#include "scalelab/csv.h"
#include "scalelab/figures.h"
#include "scalelab/fit.h"
#include "scalelab/model.h"
#include "scalelab/preset.h"
#include "scalelab/run.h"
#include "scalelab/store.h"

/* The law the preset asks for among the candidates, else the first candidate. */
static sl_fit_law pick_law(const sl_preset *p, const char *const *cands)
{
    for (int i = 0; i < p->n_laws; i++)
        for (int k = 0; cands[k]; k++)
            if (!strcmp(p->laws[i], cands[k]))
                return (sl_fit_law)sl_fit_law_from_name(cands[k]);
    return (sl_fit_law)sl_fit_law_from_name(cands[0]);
}

/* ---- the figures -------------------------------------------------------------------------- */

static void curves(Figure *f, const sl_run *runs, int n, int compute, sl_accounting a)
{
    for (int i = 0; i < n; i++) {
        const sl_run *r = &runs[i];
        double rgb[3];
        Canvas_ramp(i, n, rgb);
        char label[96];
        snprintf(label, sizeof label, "%s  N %.2g", r->spec.id, sl_model_counts(&r->spec.train.model).n_kaplan);
        Series *s = Figure_addSeries(f, r->n_rows, SERIES_LINE, rgb, n <= 40 ? label : "");
        if (!s)
            return;
        for (size_t j = 0; j < r->n_rows; j++) {
            if (r->rows[j].step <= 0)
                continue;
            /* compute: C in the accounting asked for (Kaplan's 6N per token by default) */
            s->x[s->n] = compute ? r->rows[j].tokens * sl_model_flops_per_token(&r->spec.train.model, a)
                                 : r->rows[j].tokens;
            s->y[s->n++] = r->rows[j].test_loss;
        }
    }
}

/* L(C_min): the frontier of every learning curve, as Kaplan's Figure 1 (left) */
static void frontier(Figure *f, const sl_run *runs, int n, sl_accounting a)
{
    size_t m;
    sl_fit_point *p = Fig_lawPointsOf(runs, n, SL_LAW_CMIN, a, &m);
    sl_fit_result r;
    if (m >= 3 && Fig_fit(SL_LAW_CMIN, p, m, &r)) {
        char label[96];
        Fig_fitLabel(&r, label, sizeof label);
        double lo, hi;
        Fig_rangeOf(p, m, 'c', &lo, &hi);
        sl_fit_point base = {0};
        Fig_fitCurve(f, &r, &base, 'c', lo * 1.5, hi / 1.5, 0, CANVAS_BLACK, label);
        sl_fit_result_free(&r);
    }
    free(p);
}

/* L(N) (and, with a second corpus, the transfer loss beside it) */
static void law_n(Figure *f, const sl_preset *pr, const sl_run *runs, int n)
{
    static const char *const cands[] = {"power-n", "offset-n", NULL};
    sl_fit_law law = pick_law(pr, cands);
    sl_fit_point *p = sl_xcalloc((size_t)n + 1, sizeof *p);
    for (int transfer = 0; transfer < 2; transfer++) {
        size_t m = Fig_runPoints(runs, n, transfer, p, NULL);
        if (!m)
            continue;
        const double *rgb = transfer ? CANVAS_ORANGE : CANVAS_BLUE;
        Fig_lawPoints(f, p, m, 'n', rgb, transfer ? "second corpus (transfer_loss)" : "runs, best test loss");
        sl_fit_result r;
        if (m >= 3 && Fig_fit(law, p, m, &r)) {
            char label[96];
            Fig_fitLabel(&r, label, sizeof label);
            double lo, hi;
            Fig_rangeOf(p, m, 'n', &lo, &hi);
            Fig_fitCurve(f, &r, &p[0], 'n', lo, hi, 0, transfer ? CANVAS_ORANGE : CANVAS_RED, label);
            sl_fit_result_free(&r);
        }
    }
    free(p);
}

/* L(D) for one model size; L(N, D) (Kaplan eq 1.5) for several */
static void law_nd(Figure *f, const sl_preset *pr, const sl_run *runs, int n, int one_n)
{
    sl_fit_point *p = sl_xcalloc((size_t)n + 1, sizeof *p);
    size_t m = Fig_runPoints(runs, n, 0, p, NULL);
    if (one_n) {
        static const char *const cands[] = {"power-d", "offset-d", NULL};
        Fig_lawPoints(f, p, m, 'd', CANVAS_BLUE, "runs, early-stopped best test loss");
        sl_fit_result r;
        if (m >= 3 && Fig_fit(pick_law(pr, cands), p, m, &r)) {
            char label[96];
            Fig_fitLabel(&r, label, sizeof label);
            double lo, hi;
            Fig_rangeOf(p, m, 'd', &lo, &hi);
            Fig_fitCurve(f, &r, &p[0], 'd', lo, hi, 0, CANVAS_RED, label);
            sl_fit_result_free(&r);
        }
        free(p);
        return;
    }
    /* one colour per N */
    double ns[FIGURE_MAX_SERIES / 2];
    int k = Fig_distinctN(p, m, ns);
    sl_fit_result r;
    int ok = m >= 5 && Fig_fit(SL_LAW_KAPLAN_ND, p, m, &r);
    sl_fit_point *q = sl_xcalloc(m + 1, sizeof *q);
    for (int j = 0; j < k; j++) {
        size_t mq = 0;
        for (size_t i = 0; i < m; i++)
            if (Fig_sameN(ns[j], p[i].n))
                q[mq++] = p[i];
        double rgb[3];
        Canvas_ramp(j, k, rgb);
        char label[96];
        snprintf(label, sizeof label, "N = %.2g", ns[j]);
        Fig_lawPoints(f, q, mq, 'd', rgb, label);
        if (ok) {
            double lo, hi;
            Fig_rangeOf(p, m, 'd', &lo, &hi);
            char fl[96] = "";
            if (j == 0)
                Fig_fitLabel(&r, fl, sizeof fl);
            Fig_fitCurve(f, &r, &q[0], 'd', lo, hi, 0, rgb, fl);
        }
    }
    if (ok)
        sl_fit_result_free(&r);
    free(q);
    free(p);
}

/* IsoFLOP profiles: loss against N at each budget, with the approach-3 law through them */
static void law_isoflop(Figure *f, const sl_run *runs, int n)
{
    sl_fit_point *p = sl_xcalloc((size_t)n + 1, sizeof *p);
    int *idx = sl_xcalloc((size_t)n + 1, sizeof *idx);
    size_t m = Fig_runPoints(runs, n, 0, p, idx);
    sl_fit_result r;
    int ok = m >= 6 && Fig_fit(SL_LAW_CHINCHILLA, p, m, &r);
    double budgets[FIGURE_MAX_SERIES];
    int k = 0;
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int j = 0; j < k; j++)
            seen |= budgets[j] == runs[i].spec.budget;
        if (!seen && k < FIGURE_MAX_SERIES / 2 && runs[i].spec.budget > 0)
            budgets[k++] = runs[i].spec.budget;
    }
    sl_fit_point *q = sl_xcalloc(m + 1, sizeof *q);
    for (int j = 0; j < k; j++) {
        size_t mq = 0;
        for (size_t i = 0; i < m; i++)
            if (runs[idx[i]].spec.budget == budgets[j])
                q[mq++] = p[i];
        if (!mq)
            continue;
        double rgb[3];
        Canvas_ramp(j, k, rgb);
        char label[96];
        snprintf(label, sizeof label, "C = %.2g FLOP", budgets[j]);
        Fig_lawPoints(f, q, mq, 'n', rgb, label);
        if (ok) {
            double lo, hi;
            Fig_rangeOf(q, mq, 'n', &lo, &hi);
            char fl[96] = "";
            if (j == 0)
                Fig_fitLabel(&r, fl, sizeof fl);
            Fig_fitCurve(f, &r, &q[0], 'n', lo, hi, budgets[j], rgb, fl);
        }
    }
    if (ok)
        sl_fit_result_free(&r);
    free(q);
    free(idx);
    free(p);
}

/* B_crit(L) (Kaplan Figure 10, section 5.1): every metric row that measured the
 * gradient noise scale B_simple, against its test loss, one colour per run, as
 * `scalelab fit DIR --law bcrit`  takes them (run.c), with the bcrit law. */
static void law_bcrit(Figure *f, const sl_run *runs, int n)
{
    sl_fit_point *p = Fig_pointsBuffer(runs, n);
    size_t cap = 1;
    for (int i = 0; i < n; i++)
        cap += runs[i].n_rows;
    int *idx = sl_xcalloc(cap, sizeof *idx);
    size_t m = Fig_rulePoints(runs, n, sl_fit_law_points(SL_LAW_BCRIT), 0, p, idx);
    int with = 0;
    for (size_t i = 0; i < m; i++)
        with += i == 0 || idx[i] != idx[i - 1];
    /* one colour per run, its points in a row */
    for (size_t first = 0, c = 0; first < m; c++) {
        size_t end = first;
        while (end < m && idx[end] == idx[first])
            end++;
        double rgb[3];
        Canvas_ramp((int)c, with, rgb);
        Series *s = Figure_addSeries(f, end - first, SERIES_MARK, rgb,
                                     with <= 40 ? runs[idx[first]].spec.id : "");
        for (size_t j = first; s && j < end; j++) {
            s->x[s->n] = p[j].loss;
            s->y[s->n++] = p[j].bcrit;
        }
        if (s && end - first > 20)
            s->mark = 2.5;
        first = end;
    }
    free(idx);
    sl_fit_result r;
    if (m >= 3 && Fig_fit(SL_LAW_BCRIT, p, m, &r)) {
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < m; i++) {
            lo = fmin(lo, p[i].loss);
            hi = fmax(hi, p[i].loss);
        }
        char label[96];
        Fig_fitLabel(&r, label, sizeof label);
        sl_fit_point base = {0};
        Fig_fitCurve(f, &r, &base, 'l', lo / 1.02, hi * 1.02, 0, CANVAS_RED, label);
        sl_fit_result_free(&r);
    }
    free(p);
}

/* Loss against the aspect ratio d_model/n_layer at fixed N (Kaplan Figure 5):
 * each done run's best test loss, joined per N target (one colour each); no
 * law, as the shape barely matters. */
static void law_shape(Figure *f, const sl_run *runs, int n)
{
    sl_fit_point *p = sl_xcalloc((size_t)n + 1, sizeof *p);
    int *idx = sl_xcalloc((size_t)n + 1, sizeof *idx);
    size_t m = Fig_runPoints(runs, n, 0, p, idx);
    double targets[FIGURE_MAX_SERIES / 2];
    int k = 0;
    for (size_t i = 0; i < m; i++) {
        double t = runs[idx[i]].spec.n_target;
        int seen = 0;
        for (int j = 0; j < k; j++)
            seen |= targets[j] == t;
        if (!seen && k < FIGURE_MAX_SERIES / 2)
            targets[k++] = t;
    }
    for (int j = 0; j < k; j++) {
        double rgb[3];
        Canvas_ramp(j, k, rgb);
        char label[96];
        if (targets[j] > 0)
            snprintf(label, sizeof label, "N = %.2g", targets[j]);
        else
            snprintf(label, sizeof label, "explicit shapes");
        Series *line = Figure_addSeries(f, m, SERIES_LINE, rgb, "");
        Series *mark = Figure_addSeries(f, m, SERIES_MARK, rgb, label);
        if (!line || !mark)
            break;
        for (size_t i = 0; i < m; i++) {
            if (runs[idx[i]].spec.n_target != targets[j])
                continue;
            const sl_config *c = &runs[idx[i]].spec.train.model;
            double a = (double)c->d_model / c->n_layer;
            /* in order of aspect, so the line runs left to right */
            size_t at = line->n;
            while (at > 0 && line->x[at - 1] > a) {
                line->x[at] = line->x[at - 1];
                line->y[at] = line->y[at - 1];
                at--;
            }
            line->x[at] = a;
            line->y[at] = p[i].loss;
            line->n++;
            mark->x[mark->n] = a;
            mark->y[mark->n++] = p[i].loss;
        }
    }
    free(idx);
    free(p);
}

/* Overfitting (Kaplan Figure 9, right): each run's dL = L/L(N, inf) - 1 against
 * N^(alpha_N/alpha_D)/D, with L(N, inf) = (N_c/N)^alpha_N from the kaplan-nd
 * fit of law-nd, one colour per N; the law's dL(x) is one curve for every N.
 * It is drawn without a band: every bootstrap draw has its own
 * alpha_N/alpha_D and so its own x, so the draws give no interval for a curve
 * in this fit's x. A run at or below L(N, inf) has no place on a log axis and
 * is counted in the title. */
static void overfit(Figure *f, const sl_run *runs, int n)
{
    sl_fit_point *p = sl_xcalloc((size_t)n + 1, sizeof *p);
    size_t m = Fig_runPoints(runs, n, 0, p, NULL);
    sl_fit_result r;
    if (m < 5 || !Fig_fit(SL_LAW_KAPLAN_ND, p, m, &r)) {
        free(p);
        return;
    }
    const double *v = r.value; /* alpha_N, alpha_D, N_c, D_c */
    double ratio = v[0] / v[1], ns[FIGURE_MAX_SERIES / 2], x0 = INFINITY, x1 = -INFINITY;
    int k = Fig_distinctN(p, m, ns);
    size_t shown = 0;
    for (int j = 0; j < k; j++) {
        double rgb[3];
        Canvas_ramp(j, k, rgb);
        char label[96];
        snprintf(label, sizeof label, "N = %.2g", ns[j]);
        Series *s = Figure_addSeries(f, m, SERIES_MARK, rgb, label);
        for (size_t i = 0; s && i < m; i++) {
            if (!Fig_sameN(ns[j], p[i].n))
                continue;
            double x = exp(ratio * log(p[i].n) - log(p[i].d));
            double dl = p[i].loss / pow(v[2] / p[i].n, v[0]) - 1;
            if (!Fig_positive(x) || !Fig_positive(dl))
                continue;
            s->x[s->n] = x;
            s->y[s->n++] = dl;
            x0 = fmin(x0, x);
            x1 = fmax(x1, x);
            shown++;
        }
    }
    snprintf(f->xlabel, sizeof f->xlabel, "N^(α_N/α_D) / D,  α_N/α_D = %.3g", ratio);
    if (shown < m) {
        size_t len = strlen(f->title);
        snprintf(f->title + len, sizeof f->title - len, " (%zu of %zu runs at L ≤ L(N, ∞) not shown)",
                 m - shown, m);
    }
    char label[96];
    Fig_fitLabel(&r, label, sizeof label);
    Series *s = shown ? Figure_addSeries(f, FIT_GRID, SERIES_FIT, CANVAS_RED, label) : NULL;
    if (s)
        Series_dropBand(s);
    for (int i = 0; s && i < FIT_GRID; i++) {
        double x = x0 / 1.5 * pow(x1 / x0 * 2.25, (double)i / (FIT_GRID - 1));
        s->x[s->n] = x;
        s->y[s->n++] = sl_fit_overfit_dl(&r, 1, 1 / x); /* N = 1, D = 1/x */
    }
    sl_fit_result_free(&r);
    free(p);
}

/* Per-position test loss (Kaplan Figure 20): RUN/context.csv of each run that
 * wrote one, against the position T, with the offset-n law L = E + (T_c/T)^c
 * fitted to that run's positions as `scalelab fit RUN/context.csv --law
 * offset-n --n position --loss test_loss` fits it. */
static void context(Figure *f, const char *sweep_dir, const sl_run *runs, int n)
{
    int with = 0;
    char path[1400];
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s/" SL_RUN_CONTEXT_FILE, sweep_dir, runs[i].spec.id);
        with += access(path, R_OK) == 0;
    }
    for (int i = 0, c = 0; i < n; i++) {
        sl_fit_point *p = NULL;
        size_t m = Fig_contextPoints(sweep_dir, &runs[i], &p);
        if (!m) {
            free(p);
            continue;
        }
        double rgb[3];
        Canvas_ramp(c++, with, rgb);
        char label[96];
        snprintf(label, sizeof label, "%s  N %.2g", runs[i].spec.id,
                 sl_model_counts(&runs[i].spec.train.model).n_kaplan);
        Series *s = m ? Figure_addSeries(f, m, SERIES_LINE, rgb, label) : NULL;
        for (size_t j = 0; s && j < m; j++) {
            s->x[s->n] = p[j].n;
            s->y[s->n++] = p[j].loss;
        }
        double t0 = INFINITY, t1 = -INFINITY;
        for (size_t j = 0; j < m; j++) {
            t0 = fmin(t0, p[j].n);
            t1 = fmax(t1, p[j].n);
        }
        sl_fit_result r;
        if (s && m >= 4 && t1 > t0 && Fig_fit(SL_LAW_OFFSET_N, p, m, &r)) {
            /* offset-n's parameters: E, alpha, N_c; alpha is Kaplan's c */
            if (isfinite(r.ci_low[1]))
                snprintf(label, sizeof label, "  offset-n: alpha (c) %.3g [%.3g, %.3g]", r.value[1],
                         r.ci_low[1], r.ci_high[1]);
            else
                snprintf(label, sizeof label, "  offset-n: alpha (c) %.3g", r.value[1]);
            int before = f->ns;
            Fig_fitCurve(f, &r, &p[0], 'n', t0, t1, 0, rgb, label);
            if (f->ns > before) /* one band per run covers the others: the legend has the intervals */
                Series_dropBand(&f->s[f->ns - 1]);
            sl_fit_result_free(&r);
        }
        free(p);
    }
}

static int out_dir_ok(const char *out, sl_error *err)
{
    sl_error e;
    struct stat st;
    if (sl_mkdirs(out, &e) != SL_OK || stat(out, &st) != 0 || !S_ISDIR(st.st_mode))
        return sl_fail(err, SL_EINPUT, "%s:--plots: cannot create the directory (expected a writable directory)",
                       out);
    return SL_OK;
}

int sl_figures_write(const char *sweep_dir, const char *out_dir, const sl_figures_options *opts,
                     int *n_figures, sl_error *err)
{
    *n_figures = 0;
    sl_figures_options none;
    memset(&none, 0, sizeof none);
    const sl_figures_options *o = opts ? opts : &none;
    char xl[96];
    sl_preset pr;
    sl_run *runs = NULL;
    int n = 0;
    int rc = Fig_loadStore(sweep_dir, &pr, &runs, &n, err);
    if (rc)
        return rc;
    if ((rc = out_dir_ok(out_dir, err))) {
        sl_runs_free(runs, n);
        sl_preset_free(&pr);
        return rc;
    }
    int one_n = 1;
    for (int i = 1; i < n; i++)
        one_n &= runs[i].spec.n_target == runs[0].spec.n_target;
    Figure *f = sl_xcalloc(1, sizeof *f); /* ~20 kB: not on the stack */
    for (int which = 0; which < 21 && rc == SL_OK; which++) {
        if (which == 0) {
            Fig_begin(f, &pr, "curves-tokens", "learning curves against tokens", "tokens D");
            curves(f, runs, n, 0, o->accounting);
        } else if (which == 1) {
            Fig_computeLabel(xl, sizeof xl, "compute C", o->accounting);
            Fig_begin(f, &pr, "curves-compute", "learning curves against compute, with the L(C_min) frontier",
                      xl);
            curves(f, runs, n, 1, o->accounting);
            frontier(f, runs, n, o->accounting);
        } else if (which == 2 && pr.kind == SL_SWEEP_N) {
            Fig_begin(f, &pr, "law-n", "L(N), loss against model size", "non-embedding parameters N");
            law_n(f, &pr, runs, n);
        } else if (which == 2 && pr.kind == SL_SWEEP_ND) {
            Fig_begin(f, &pr, one_n ? "law-d" : "law-nd",
                  one_n ? "L(D), loss against data" : "L(N, D), loss against data per model size",
                  "training tokens D (data limit)");
            law_nd(f, &pr, runs, n, one_n);
        } else if (which == 2 && pr.kind == SL_SWEEP_ISOFLOP) {
            Fig_begin(f, &pr, "law-isoflop", "IsoFLOP profiles, loss against N at fixed compute",
                  "non-embedding parameters N");
            law_isoflop(f, runs, n);
        } else if (which == 2 && pr.kind == SL_SWEEP_SHAPE) {
            Fig_begin(f, &pr, "law-shape", "loss against the aspect ratio at fixed N (no law fitted)",
                  "aspect ratio d_model / n_layer");
            law_shape(f, runs, n);
        } else if (which == 3) {
            /* any sweep kind: runs on two or more threads measure the noise scale */
            Fig_begin(f, &pr, "law-bcrit", "B_crit(L), gradient noise scale against loss",
                  "test loss L (nats per token)");
            snprintf(f->ylabel, sizeof f->ylabel, "noise scale B_simple (tokens)");
            f->x_narrow = 1;
            law_bcrit(f, runs, n);
        } else if (which == 4 && pr.kind == SL_SWEEP_ND && !one_n) {
            Fig_begin(f, &pr, "overfit", "the overfitting penalty against N^(α_N/α_D) / D", "");
            snprintf(f->ylabel, sizeof f->ylabel, "L / L(N, ∞) − 1");
            overfit(f, runs, n);
        } else if (which == 5) {
            Fig_begin(f, &pr, "context", "per-token test loss against the position in the context",
                  "position T in the context (tokens)");
            context(f, sweep_dir, runs, n);
        } else if ((which == 6 || which == 7) && (pr.kind == SL_SWEEP_N || pr.kind == SL_SWEEP_SHAPE)) {
            Fig_begin(f, &pr, which == 6 ? "law-n-depth" : "law-ntotal-depth",
                      which == 6 ? "L(N) by depth, N without embeddings (Kaplan Fig. 6)"
                                 : "L(N_total) by depth, embeddings counted (Kaplan Fig. 6)",
                      which == 6 ? "non-embedding parameters N" : "all parameters N_total");
            Fig_lawDepth(f, runs, n, which == 7);
        } else if ((which == 8 || which == 9) && pr.kind == SL_SWEEP_N) {
            Fig_begin(f, &pr, which == 8 ? "law-n-at-c" : "law-n-at-s",
                      which == 8 ? "L(N) at fixed compute, from the curves (Kaplan Fig. 11)"
                                 : "L(N) at fixed steps, from the curves (Kaplan Fig. 11)",
                      "non-embedding parameters N");
            if (which == 8)
                Fig_computeLabel(f->subtitle, sizeof f->subtitle, "compute C", o->accounting);
            Fig_lawNAt(f, runs, n, which == 9, o->accounting);
        } else if (which == 10 && pr.kind == SL_SWEEP_ISOFLOP) {
            Fig_begin(f, &pr, "isoflop-penalty",
                      "loss over each budget's optimum (Kaplan Fig. 12)",
                      "N / N_opt (N_opt: the minimum of the budget's parabola in ln N)");
            snprintf(f->ylabel, sizeof f->ylabel, "L / L_opt (test loss over the parabola's minimum)");
            Fig_isoflopPenalty(f, runs, n);
        } else if (which == 11 && pr.kind == SL_SWEEP_BATCH) {
            Fig_begin(f, &pr, "bcrit-scan",
                      "examples and steps to each loss by batch (Kaplan Fig. 18)",
                      "optimizer steps S to reach the loss");
            snprintf(f->ylabel, sizeof f->ylabel, "examples E = B S (tokens)");
            Fig_bcritScan(f, runs, n);
        } else if (which == 12) {
            Fig_begin(f, &pr, "context-by-n",
                      "loss at a context position against N (Kaplan Fig. 21)",
                      "non-embedding parameters N");
            Fig_contextByN(f, sweep_dir, runs, n);
        } else if (which == 13 && pr.kind == SL_SWEEP_N) {
            Fig_begin(f, &pr, "law-n-log", "L(N): the power law and a logarithmic fit (Kaplan Fig. 23)",
                      "non-embedding parameters N");
            Fig_lawNLog(f, runs, n);
        } else if (which >= 14 && which <= 17 && pr.kind == SL_SWEEP_N && o->bcrit &&
                   (which != 17 || o->nd)) {
            static const char *const names[4] = {"frontier-cmin", "smin-cmin", "allocation", "data-wall"};
            static const char *const what[4] = {
                "the frontier on C and on C_min (Kaplan Fig. 13)",
                "S_min of the compute-efficient frontier against C_min (Kaplan Fig. 14, right)",
                "how the compute-efficient frontier spends compute (Kaplan Fig. 3)",
                "L(C_min) against L(D(C_min)), the data wall (Kaplan Fig. 15)"};
            Fig_computeLabel(xl, sizeof xl, which == 14 ? "compute C and C_min" : "compute C_min", o->accounting);
            Fig_begin(f, &pr, names[which - 14], what[which - 14], xl);
            snprintf(f->subtitle, sizeof f->subtitle, "C_min = C/(1 + B/B_crit), B_crit(L) %s of %s",
                     sl_fit_law_name(o->bcrit->law), o->bcrit_src ? o->bcrit_src : "given");
            if (which == 14)
                Fig_frontierCmin(f, runs, n, o);
            else if (which == 15)
                Fig_sminCmin(f, runs, n, o);
            else if (which == 16)
                Fig_allocation(f, runs, n, o);
            else
                Fig_dataWall(f, runs, n, o);
        } else if (which == 18 && pr.kind == SL_SWEEP_ND && !one_n) {
            Fig_begin(f, &pr, "stop-bound", "the early-stopping bound S_stop against the stopping step (Kaplan Fig. 16)",
                      "S_stop bound (eq. 5.7, steps at the run's batch)");
            snprintf(f->ylabel, sizeof f->ylabel, "best step of each early-stopped run");
            Fig_stopBound(f, runs, n, o);
        } else if (which == 19 || which == 20) {
            Fig_begin(f, &pr, which == 19 ? "lr-scan" : "lr-schedules",
                      which == 19 ? "loss against the summed learning rate, one model (Kaplan Fig. 22, right)"
                                  : "the learning-rate schedules of one model (Kaplan Fig. 22, left)",
                      which == 19 ? "summed learning rate (lr summed over the steps up to the best test loss)" : "step");
            if (which == 20)
                snprintf(f->ylabel, sizeof f->ylabel, "learning rate");
            Fig_lrScan(f, runs, n, which == 20);
        } else
            continue; /* no such figure for this sweep kind (batch: no law of its own) */
        int has_points = 0;
        for (int i = 0; i < f->ns; i++)
            has_points |= f->s[i].n > 0;
        if (has_points) {
            rc = Figure_save(f, out_dir, err);
            *n_figures += rc == SL_OK;
        }
        Figure_clear(f);
    }
    free(f);
    sl_runs_free(runs, n);
    sl_preset_free(&pr);
    Canvas_release();
    return rc;
}
