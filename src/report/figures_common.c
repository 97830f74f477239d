/* figures_common: what every figure file shares (figures_int.h states it):
 * the points a figure takes from a store's runs and their accounting of C,
 * the fits drawn on it and their labels, axis ranges, a figure's titles, and
 * reading a store for the figures. */
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

int Fig_positive(double v) { return isfinite(v) && v > 0; }

/* ---- fits ----------------------------------------------------------------------------------- */

/* The points a rule takes from each run, as `scalelab fit DIR` and the lab
 * take them (run.h); transfer: the second corpus's loss at those rows instead.
 * p has room for every row of every run; idx (may be NULL) gets each point's
 * run index. */
size_t Fig_rulePoints(const sl_run *runs, int n, sl_fit_point_rule rule, int transfer,
                          sl_fit_point *p, int *idx)
{
    size_t m = 0, rows_cap = 1;
    for (int i = 0; i < n; i++)
        if (runs[i].n_rows > rows_cap)
            rows_cap = runs[i].n_rows;
    size_t *rows = sl_xmalloc(rows_cap * sizeof *rows);
    for (int i = 0; i < n; i++) {
        size_t k = sl_run_point_rows(&runs[i], rule, transfer, rows);
        for (size_t j = 0; j < k; j++) {
            if (idx)
                idx[m] = i;
            p[m++] = sl_run_point(&runs[i], rows[j], rule, transfer);
        }
    }
    free(rows);
    return m;
}

/* One point per finished run at its best test loss. */
size_t Fig_runPoints(const sl_run *runs, int n, int transfer, sl_fit_point *p, int *idx)
{
    return Fig_rulePoints(runs, n, SL_POINTS_BEST, transfer, p, idx);
}

/* Room for every row of every run. */
sl_fit_point *Fig_pointsBuffer(const sl_run *runs, int n)
{
    size_t cap = 1;
    for (int i = 0; i < n; i++)
        cap += runs[i].n_rows;
    return sl_xcalloc(cap, sizeof(sl_fit_point));
}

int Fig_fit(sl_fit_law law, const sl_fit_point *p, size_t n, sl_fit_result *r)
{
    sl_fit_options o;
    sl_fit_options_report(law, &o); /* the intervals `scalelab fit` prints */
    return Fig_fitWith(law, p, n, &o, r);
}

void Fig_options(sl_fit_law law, const sl_figures_options *fo, sl_fit_options *o)
{
    sl_fit_options_report(law, o);
    if (fo && fo->bcrit) { /* B_star, alpha_B */
        o->bcrit_star = fo->bcrit->value[0];
        o->bcrit_alpha = fo->bcrit->value[1];
    }
}

sl_fit_point *Fig_lawPointsOf(const sl_run *runs, int n, sl_fit_law law, sl_accounting a, size_t *m)
{
    sl_fit_point *p;
    sl_runs_law_points(runs, n, law, 0, &p, m);
    Fig_account(runs, n, p, *m, a);
    return p;
}

void Fig_account(const sl_run *runs, int n, sl_fit_point *p, size_t m, sl_accounting a)
{
    if (a == SL_ACCT_KAPLAN)
        return;
    for (int i = 0; i < n; i++) {
        long key = sl_run_key(runs[i].spec.id);
        const sl_config *c = &runs[i].spec.train.model;
        double k = sl_model_flops_per_token(c, a) / sl_model_flops_per_token(c, SL_ACCT_KAPLAN);
        for (size_t j = 0; j < m; j++)
            if (p[j].run == key)
                p[j].c *= k;
    }
}

void Fig_computeLabel(char *s, size_t len, const char *what, sl_accounting a)
{
    static const char *const per_token[SL_ACCT_COUNT] = {
        [SL_ACCT_KAPLAN] = "6N per token",
        [SL_ACCT_ATTN] = "6N + 6 n_layer n_ctx d_model per token",
        [SL_ACCT_HEAD] = "6N + 6 d_model vocab per token",
        [SL_ACCT_TOTAL] = "6N + attention + head per token",
    };
    snprintf(s, len, "%s (FLOP, %s: %s)", what, sl_accounting_name(a),
             (unsigned)a < SL_ACCT_COUNT ? per_token[a] : "?");
}

int Fig_fitWith(sl_fit_law law, const sl_fit_point *p, size_t n, const sl_fit_options *o,
                sl_fit_result *r)
{
    sl_error e;
    memset(r, 0, sizeof *r);
    if (sl_fit(law, p, n, o, r, &e) != SL_OK)
        return 0;
    if (!r->converged) {
        sl_fit_result_free(r);
        return 0;
    }
    return 1;
}

/* "power-n: alpha = 0.081 [0.070, 0.093]": the exponents, which transfer
 * between setups (the scales do not) */
void Fig_fitLabel(const sl_fit_result *r, char *s, size_t len)
{
    int o = snprintf(s, len, "%s:", sl_fit_law_name(r->law));
    int shown = 0;
    for (int k = 0; k < r->n_params && o < (int)len; k++) {
        const char *nm = r->names[k];
        if (strncmp(nm, "alpha", 5) && strncmp(nm, "beta", 4) && strcmp(nm, "a") && strcmp(nm, "E"))
            continue;
        if (shown++ == 2)
            break;
        if (isfinite(r->ci_low[k]))
            o += snprintf(s + o, len - o, " %s %.3g [%.3g, %.3g]", nm, r->value[k], r->ci_low[k],
                          r->ci_high[k]);
        else
            o += snprintf(s + o, len - o, " %s %.3g", nm, r->value[k]);
    }
}

/* The fitted curve over [x0, x1] (log-spaced), the point at each x from base
 * with the field `axis` ('n', 'd', 'c', or 'l' for the loss) set; iso > 0:
 * d = iso/(6N). The curve is the law's own quantity (B_crit for bcrit). */
void Fig_fitCurve(Figure *f, const sl_fit_result *r, const sl_fit_point *base, char axis_name,
                      double x0, double x1, double iso, const double rgb[3], const char *label)
{
    Series *s = Figure_addSeries(f, FIT_GRID, SERIES_FIT, rgb, label);
    if (!s)
        return;
    for (int i = 0; i < FIT_GRID; i++) {
        double x = x0 * pow(x1 / x0, (double)i / (FIT_GRID - 1));
        sl_fit_point q = *base;
        if (axis_name == 'n')
            q.n = x;
        else if (axis_name == 'd')
            q.d = x;
        else if (axis_name == 'l')
            q.loss = x;
        else
            q.c = x;
        if (iso > 0)
            q.d = iso / (6 * q.n);
        if (q.n > 0 && q.d > 0)
            q.c = 6 * q.n * q.d;
        double v, lo, hi;
        if (sl_fit_predict(r, sl_fit_law_quantity(r->law), &q, &v, &lo, &hi) != SL_OK)
            v = lo = hi = NAN;
        s->x[s->n] = x;
        s->y[s->n] = v;
        s->lo[s->n] = lo;
        s->hi[s->n] = hi;
        s->n++;
    }
}

void Fig_rangeOf(const sl_fit_point *p, size_t n, char axis_name, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double v = axis_name == 'n' ? p[i].n : axis_name == 'd' ? p[i].d : p[i].c;
        *lo = fmin(*lo, v);
        *hi = fmax(*hi, v);
    }
    *lo /= 1.5;
    *hi *= 1.5;
}


void Fig_begin(Figure *f, const sl_preset *p, const char *name, const char *what, const char *xl)
{
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    snprintf(f->title, sizeof f->title, "%s: %s", p->name, what);
    snprintf(f->subtitle, sizeof f->subtitle, "%s", p->figure);
    snprintf(f->xlabel, sizeof f->xlabel, "%s", xl);
    snprintf(f->ylabel, sizeof f->ylabel, "test loss (nats per token)");
}

void Fig_lawPoints(Figure *f, const sl_fit_point *p, size_t m, char axis_name, const double rgb[3],
                       const char *label)
{
    Series *s = Figure_addSeries(f, m, SERIES_MARK, rgb, label);
    for (size_t i = 0; s && i < m; i++) {
        s->x[s->n] = axis_name == 'n' ? p[i].n : axis_name == 'd' ? p[i].d : p[i].c;
        s->y[s->n++] = p[i].loss;
    }
}

int Fig_sameN(double a, double b) { return fabs(a - b) < 1e-9 * b; }

/* The distinct N of the points, in order of appearance, at most FIGURE_MAX_SERIES/2. */
int Fig_distinctN(const sl_fit_point *p, size_t m, double ns[FIGURE_MAX_SERIES / 2])
{
    int k = 0;
    for (size_t i = 0; i < m; i++) {
        int seen = 0;
        for (int j = 0; j < k; j++)
            seen |= Fig_sameN(ns[j], p[i].n);
        if (!seen && k < FIGURE_MAX_SERIES / 2)
            ns[k++] = p[i].n;
    }
    return k;
}

size_t Fig_contextPoints(const char *sweep_dir, const sl_run *r, sl_fit_point **out)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/%s/" SL_RUN_CONTEXT_FILE, sweep_dir, r->spec.id);
    *out = NULL;
    sl_csv t;
    sl_error e;
    if (access(path, R_OK) != 0 || sl_csv_read(path, &t, &e) != SL_OK)
        return 0;
    int cp = sl_csv_column(&t, "position"), cl = sl_csv_column(&t, "test_loss");
    sl_fit_point *p = sl_xcalloc(t.n_rows + 1, sizeof *p);
    size_t m = 0;
    for (size_t j = 0; cp >= 0 && cl >= 0 && j < t.n_rows; j++) {
        char *e1, *e2;
        const char *sp = sl_csv_cell(&t, j, (size_t)cp), *sv = sl_csv_cell(&t, j, (size_t)cl);
        double pos = strtod(sp, &e1), loss = strtod(sv, &e2);
        if (e1 != sp && e2 != sv && Fig_positive(pos) && Fig_positive(loss))
            p[m++] = (sl_fit_point){.n = pos, .loss = loss, .run = -1};
    }
    sl_csv_free(&t);
    *out = p;
    return m;
}

int Fig_loadStore(const char *sweep_dir, sl_preset *pr, sl_run **runs, int *n, sl_error *err)
{
    char *json = NULL;
    int rc = sl_sweep_read(sweep_dir, &json, err);
    if (rc)
        return rc;
    memset(pr, 0, sizeof *pr);
    char path[1200];
    sl_run_path(path, sizeof path, sweep_dir, SL_SWEEP_FILE);
    rc = sl_preset_parse(pr, json, path, err);
    free(json);
    if (rc)
        return rc;
    if ((rc = sl_runs_load(sweep_dir, runs, n, err)))
        sl_preset_free(pr);
    return rc;
}
