/* figures_compute: the compute-efficient frontier of an N sweep's learning
 * curves once a B_crit(L) is known (from a batch scan: export --bcrit-from):
 * the frontier on C beside the frontier on C_min with their laws (Kaplan
 * Figure 13), S_min against C_min (Figure 14, right), how a compute increase
 * is spent on N, B_crit and S_min (Figure 3, and Table 6 as CSV and markdown),
 * and L(C_min) against the loss of the data it uses, L(D(C_min)), with the
 * compute where the two meet (Figure 15). The frontier, C_min, S_min and the
 * exponents are the fit module's (sl_fit_frontier, sl_fit_allocation_of,
 * sl_fit_data_wall); the points are those `scalelab fit DIR` takes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "figures_int.h"
#include "scalelab/csv.h"
#include "scalelab/numfmt.h"

/* The curve points of cmin (C in fo's accounting) and their frontier under o. */
static sl_fit_point *frontier_points(const sl_run *runs, int n, const sl_figures_options *fo,
                                     const sl_fit_options *o, sl_fit_point **pts, size_t *m, size_t *k)
{
    *pts = Fig_lawPointsOf(runs, n, SL_LAW_CMIN, fo->accounting, m);
    sl_fit_point *fr = sl_xcalloc(*m + 1, sizeof *fr);
    sl_error e;
    if (*m == 0 || sl_fit_frontier(*pts, *m, o, fr, k, &e) != SL_OK)
        *k = 0;
    return fr;
}

static void marks(Figure *f, const sl_fit_point *p, size_t k, int y_steps, const double rgb[3], const char *label)
{
    Series *s = Figure_addSeries(f, k, SERIES_MARK, rgb, label);
    for (size_t i = 0; s && i < k; i++) {
        s->x[s->n] = p[i].c;
        s->y[s->n++] = y_steps ? p[i].s : p[i].loss;
    }
}

/* "cmin: alpha_C 0.05 [0.04, 0.06] (published 0.050)" */
static void law_label(const sl_fit_result *r, char *s, size_t len)
{
    Fig_fitLabel(r, s, len);
    double pub = sl_fit_law_published(r->law, 0);
    size_t at = strlen(s);
    if (isfinite(pub) && at < len)
        snprintf(s + at, len - at, " (published %.3f)", pub);
}

/* ---- Figure 13: L(C) at the batch trained against L(C_min) ---------------------------------- */

void Fig_frontierCmin(Figure *f, const sl_run *runs, int n, const sl_figures_options *fo)
{
    static const sl_fit_law laws[2] = {SL_LAW_CFIXED, SL_LAW_CMIN};
    const double *pt_rgb[2] = {CANVAS_BLUE, CANVAS_ORANGE}, *fit_rgb[2] = {CANVAS_BLACK, CANVAS_RED};
    static const char *const what[2] = {"frontier on C (the batch trained)",
                                        "frontier on C_min = C/(1 + B/B_crit)"};
    for (int k = 0; k < 2; k++) {
        sl_fit_options o;
        Fig_options(laws[k], k ? fo : NULL, &o); /* cfixed: no C_min correction */
        sl_fit_point *p, *fr;
        size_t m, nf;
        fr = frontier_points(runs, n, fo, &o, &p, &m, &nf);
        if (nf) {
            marks(f, fr, nf, 0, pt_rgb[k], what[k]);
            sl_fit_result r;
            if (nf >= 3 && Fig_fitWith(laws[k], p, m, &o, &r)) {
                char label[96];
                law_label(&r, label, sizeof label);
                double lo, hi;
                Fig_rangeOf(fr, nf, 'c', &lo, &hi);
                sl_fit_point base = {0};
                Fig_fitCurve(f, &r, &base, 'c', lo, hi, 0, fit_rgb[k], label);
                sl_fit_result_free(&r);
            }
        }
        free(fr);
        free(p);
    }
}

/* ---- Table 6 and Figures 3, 14 (right): how compute is spent --------------------------------- */

int Fig_allocationOf(const sl_run *runs, int n, const sl_figures_options *fo, sl_fit_allocation *a,
                     sl_error *err)
{
    if (!fo || !fo->bcrit)
        return sl_fail(err, SL_EINPUT,
                       "--bcrit-from: not given (expected a batch scan's B_crit(L) for C_min and S_min)");
    sl_fit_options o;
    Fig_options(SL_LAW_CMIN, fo, &o);
    size_t m;
    sl_fit_point *p = Fig_lawPointsOf(runs, n, SL_LAW_CMIN, fo->accounting, &m);
    int rc = sl_fit_allocation_of(p, m, &o, a, err);
    free(p);
    return rc;
}

/* "p_S 0.031 [0.01, 0.05] (published 0.03)" */
static void alloc_label(const sl_fit_allocation *a, int w, const char *what, char *s, size_t len)
{
    static const char *const sym[SL_ALLOC_COUNT] = {"p_N", "p_B", "p_S", "p_D"};
    int o = snprintf(s, len, "%s ∝ C_min^%s: %.3g", what, sym[w], a->p[w]);
    if (isfinite(a->lo[w]) && o < (int)len)
        o += snprintf(s + o, len - o, " [%.3g, %.3g]", a->lo[w], a->hi[w]);
    if (o < (int)len)
        snprintf(s + o, len - o, " (published %.2f)", sl_fit_allocation_published(w));
}

/* The line X = scale C^p over [c0, c1], divided by its value at c0 when rel. */
static void alloc_line(Figure *f, const sl_fit_allocation *a, int w, double c0, double c1, int rel,
                       const double rgb[3], const char *label)
{
    Series *s = Figure_addSeries(f, FIT_GRID, SERIES_FIT, rgb, label);
    if (!s)
        return;
    Series_dropBand(s);
    for (int i = 0; i < FIT_GRID; i++) {
        double c = c0 * pow(c1 / c0, (double)i / (FIT_GRID - 1));
        s->x[s->n] = c;
        s->y[s->n++] = rel ? pow(c / c0, a->p[w]) : a->scale[w] * pow(c, a->p[w]);
    }
}

void Fig_sminCmin(Figure *f, const sl_run *runs, int n, const sl_figures_options *fo)
{
    snprintf(f->ylabel, sizeof f->ylabel, "S_min = S/(1 + B_crit/B) (steps)");
    sl_fit_options o;
    Fig_options(SL_LAW_CMIN, fo, &o);
    sl_fit_point *p, *fr;
    size_t m, nf;
    fr = frontier_points(runs, n, fo, &o, &p, &m, &nf);
    marks(f, fr, nf, 1, CANVAS_BLUE, "frontier points (C_min, S_min)");
    sl_fit_allocation a;
    sl_error e;
    if (nf >= 3 && Fig_allocationOf(runs, n, fo, &a, &e) == SL_OK) {
        char label[96];
        alloc_label(&a, SL_ALLOC_S, "S_min", label, sizeof label);
        double lo, hi;
        Fig_rangeOf(fr, nf, 'c', &lo, &hi);
        alloc_line(f, &a, SL_ALLOC_S, lo, hi, 0, CANVAS_RED, label);
    }
    free(fr);
    free(p);
}

void Fig_allocation(Figure *f, const sl_run *runs, int n, const sl_figures_options *fo)
{
    snprintf(f->ylabel, sizeof f->ylabel, "growth over the smallest frontier C_min (×)");
    sl_fit_options o;
    Fig_options(SL_LAW_CMIN, fo, &o);
    sl_fit_point *p, *fr;
    size_t m, nf;
    fr = frontier_points(runs, n, fo, &o, &p, &m, &nf);
    sl_fit_allocation a;
    sl_error e;
    if (nf >= 3 && Fig_allocationOf(runs, n, fo, &a, &e) == SL_OK) {
        double c0 = fr[0].c, c1 = fr[nf - 1].c;
        static const int which[3] = {SL_ALLOC_N, SL_ALLOC_B, SL_ALLOC_S};
        static const char *const what[3] = {"N (non-embedding parameters)", "B_crit (batch, tokens)", "S_min (steps)"};
        const double *rgb[3] = {CANVAS_BLUE, CANVAS_ORANGE, CANVAS_RED};
        for (int k = 0; k < 3; k++) {
            int w = which[k];
            char label[128];
            alloc_label(&a, w, what[k], label, sizeof label);
            alloc_line(f, &a, w, c0, c1, 1, rgb[k], label);
            /* each frontier point over the line's value at c0 */
            Series *s = Figure_addSeries(f, nf, SERIES_MARK, rgb[k], "");
            double at0 = a.scale[w] * pow(c0, a.p[w]);
            for (size_t i = 0; s && i < nf; i++) {
                double v = w == SL_ALLOC_N ? fr[i].n : w == SL_ALLOC_B ? fr[i].bcrit : fr[i].s;
                if (!Fig_positive(v / at0))
                    continue;
                s->x[s->n] = fr[i].c;
                s->y[s->n++] = v / at0;
            }
        }
        /* their product: N B_crit S_min = C_min / 6 in Kaplan's accounting */
        Series *s = Figure_addSeries(f, 2, SERIES_LINE, CANVAS_BLACK, "C_min / C_min,0 (N B S grows as C_min)");
        if (s) {
            s->x[0] = c0, s->y[0] = 1;
            s->x[1] = c1, s->y[1] = c1 / c0;
            s->n = 2;
        }
    }
    free(fr);
    free(p);
}

/* Table 6 as a CSV (into w) and as markdown (malloc'd). */
static char *table6_text(const sl_fit_allocation *a, const sl_figures_options *fo, sl_csv_writer *w)
{
    static const char *const sym[SL_ALLOC_COUNT] = {"p_N", "p_B", "p_S", "p_D"};
    static const char *const what[SL_ALLOC_COUNT] = {
        "N_opt, non-embedding parameters", "B_crit, tokens per step", "S_min, steps",
        "D_opt = E_min = B_crit S_min, tokens"};
    const char *head[] = {"param", "quantity", "value", "ci_low", "ci_high", "scale", "r2", "published",
                          "points", "accounting", "bcrit_law"};
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        sl_csv_field(w, head[i]);
    sl_csv_end_row(w);
    size_t cap = 4096, o = 0;
    char *t = sl_xmalloc(cap);
    o += (size_t)snprintf(t + o, cap - o,
                          "| exponent | X = X_e C_min^p (C_min in FLOP, %s accounting) | measured | "
                          "interval (%.0f%%) | X_e | R² of ln X | Kaplan et al. |\n|---|---|---|---|---|---|---|\n",
                          sl_accounting_name(fo->accounting), 100 * a->level);
    for (int k = 0; k < SL_ALLOC_COUNT; k++) {
        sl_csv_field(w, sym[k]);
        sl_csv_field(w, what[k]);
        sl_csv_field_double(w, a->p[k]);
        sl_csv_field_double(w, a->lo[k]);
        sl_csv_field_double(w, a->hi[k]);
        sl_csv_field_double(w, a->scale[k]);
        sl_csv_field_double(w, a->r2[k]);
        sl_csv_field_double(w, sl_fit_allocation_published(k));
        sl_csv_field_long(w, (long)a->n_points);
        sl_csv_field(w, sl_accounting_name(fo->accounting));
        sl_csv_field(w, sl_fit_law_name(fo->bcrit->law));
        sl_csv_end_row(w);
        char v[32], lo[32], hi[32], sc[32];
        sl_num_format(v, sizeof v, a->p[k], SL_NUM_PARAM);
        sl_num_format(lo, sizeof lo, a->lo[k], SL_NUM_PARAM);
        sl_num_format(hi, sizeof hi, a->hi[k], SL_NUM_PARAM);
        sl_num_format(sc, sizeof sc, a->scale[k], SL_NUM_SHORT);
        if (isfinite(a->lo[k]))
            o += (size_t)snprintf(t + o, cap - o, "| %s | %s | %s | [%s, %s] | %s | %.3f | %.2f |\n", sym[k],
                                  what[k], v, lo, hi, sc, a->r2[k], sl_fit_allocation_published(k));
        else
            o += (size_t)snprintf(t + o, cap - o, "| %s | %s | %s | none | %s | %.3f | %.2f |\n", sym[k], what[k],
                                  v, sc, a->r2[k], sl_fit_allocation_published(k));
    }
    snprintf(t + o, cap - o,
             "\nLeast squares of ln X on ln C_min over the %zu points of the compute-efficient frontier; "
             "intervals from %d of %d resamples of whole runs. B_crit(L): %s of %s. p_D = p_B + p_S "
             "always (E_min = B_crit S_min); p_N + p_D = 1 in the kaplan accounting (C_min = 6 N E_min).\n",
             a->n_points, a->n_boot_ok, a->n_boot, sl_fit_law_name(fo->bcrit->law),
             fo->bcrit_src ? fo->bcrit_src : "the given fit");
    return t;
}

int sl_figures_table6(const char *sweep_dir, const char *out_dir, const sl_figures_options *o,
                      int *written, sl_error *err)
{
    sl_run *runs;
    int n, rc;
    *written = 0;
    if (!o || !o->bcrit)
        return sl_fail(err, SL_EINPUT,
                       "--bcrit-from: not given (expected a batch scan's B_crit(L): Table 6 needs C_min "
                       "and S_min)");
    sl_preset pr;
    if ((rc = Fig_loadStore(sweep_dir, &pr, &runs, &n, err)) != SL_OK)
        return rc;
    sl_fit_allocation a;
    sl_error e;
    int n_sweep = pr.kind == SL_SWEEP_N;
    rc = n_sweep ? Fig_allocationOf(runs, n, o, &a, &e) : SL_OK;
    sl_runs_free(runs, n);
    sl_preset_free(&pr);
    if (!n_sweep)
        return SL_OK; /* the B_crit serves other figures there (stop-bound) */
    if (rc != SL_OK)
        return sl_fail(err, rc, "%s: %s", sweep_dir, e.msg);
    if ((rc = sl_mkdirs(out_dir, err)) != SL_OK)
        return rc;
    sl_csv_writer w;
    sl_csv_writer_init(&w);
    char *md = table6_text(&a, o, &w), path[1200];
    sl_run_path(path, sizeof path, out_dir, "table6.csv");
    rc = sl_csv_save(&w, path, err);
    sl_run_path(path, sizeof path, out_dir, "table6.md");
    if (rc == SL_OK)
        rc = sl_write_atomic(path, md, strlen(md), err);
    sl_csv_writer_free(&w);
    free(md);
    *written = rc == SL_OK;
    return rc;
}

/* ---- Figure 15: L(C_min) against L(D(C_min)) ------------------------------------------------ */

void Fig_dataWall(Figure *f, const sl_run *runs, int n, const sl_figures_options *fo)
{
    sl_fit_options o;
    Fig_options(SL_LAW_CMIN, fo, &o);
    sl_fit_point *p, *fr;
    size_t m, nf;
    fr = frontier_points(runs, n, fo, &o, &p, &m, &nf);
    sl_fit_allocation a;
    sl_fit_result r;
    sl_error e;
    if (nf < 3 || Fig_allocationOf(runs, n, fo, &a, &e) != SL_OK || !Fig_fitWith(SL_LAW_CMIN, p, m, &o, &r)) {
        free(fr);
        free(p);
        return;
    }
    marks(f, fr, nf, 0, CANVAS_BLUE, "frontier points (C_min, L)");
    double cs, ls, clo, chi, lo, hi;
    Fig_rangeOf(fr, nf, 'c', &lo, &hi);
    int met = sl_fit_data_wall(&r, fo->nd, a.scale[SL_ALLOC_D], a.p[SL_ALLOC_D], &cs, &ls, &clo, &chi, &e) ==
              SL_OK;
    /* out to the crossing, at most twelve decades past the data */
    if (met && cs > hi)
        hi = fmin(cs * 10, hi * 1e12);
    if (met && cs < lo)
        lo = cs / 10;
    char label[128];
    law_label(&r, label, sizeof label);
    sl_fit_point base = {0};
    Fig_fitCurve(f, &r, &base, 'c', lo, hi, 0, CANVAS_RED, label);
    char dl[32], de[32];
    sl_num_format(de, sizeof de, a.scale[SL_ALLOC_D], SL_NUM_SHORT);
    sl_num_format(dl, sizeof dl, a.p[SL_ALLOC_D], SL_NUM_PARAM);
    snprintf(label, sizeof label, "L(D(C_min)): %s of %s at D = %s C_min^%s", sl_fit_law_name(fo->nd->law),
             fo->nd_src ? fo->nd_src : "the given fit", de, dl);
    Series *s = Figure_addSeries(f, FIT_GRID, SERIES_FIT, CANVAS_ORANGE, label);
    if (s)
        Series_dropBand(s);
    for (int i = 0; s && i < FIT_GRID; i++) {
        double c = lo * pow(hi / lo, (double)i / (FIT_GRID - 1));
        double l = sl_fit_loss_of_data(fo->nd, a.scale[SL_ALLOC_D] * pow(c, a.p[SL_ALLOC_D]));
        if (!Fig_positive(l))
            continue;
        s->x[s->n] = c;
        s->y[s->n++] = l;
    }
    size_t len = strlen(f->title);
    if (met && cs <= hi && cs >= lo) {
        char cv[32], lv[32];
        sl_num_format(cv, sizeof cv, cs, SL_NUM_SHORT);
        sl_num_format(lv, sizeof lv, ls, SL_NUM_METRIC);
        snprintf(label, sizeof label, "they meet at C* = %s FLOP, L* = %s nats/token", cv, lv);
        Series *x = Figure_addSeries(f, 1, SERIES_MARK, CANVAS_BLACK, label);
        if (x) {
            x->x[0] = cs, x->y[0] = ls, x->n = 1;
            x->mark = 6;
        }
        if (isfinite(clo)) {
            char lo_s[32], hi_s[32];
            sl_num_format(lo_s, sizeof lo_s, clo, SL_NUM_SHORT);
            sl_num_format(hi_s, sizeof hi_s, chi, SL_NUM_SHORT);
            snprintf(f->title + len, sizeof f->title - len, ": C* = %s [%s, %s] FLOP", cv, lo_s, hi_s);
        } else
            snprintf(f->title + len, sizeof f->title - len, ": C* = %s FLOP", cv);
    } else if (met) {
        char cv[32];
        sl_num_format(cv, sizeof cv, cs, SL_NUM_SHORT);
        snprintf(f->title + len, sizeof f->title - len, ": they meet at C* = %s FLOP, off the plot", cv);
    } else
        snprintf(f->title + len, sizeof f->title - len, ": no crossing (%s)", e.msg);
    sl_fit_result_free(&r);
    free(fr);
    free(p);
}
