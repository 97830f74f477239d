/* figures_train: what the runs' training says beside their laws — the
 * early-stopping bound S_stop of Kaplan eq. 5.7 against the step at which
 * each early-stopped run of an L(N, D) grid reached its best loss (Figure
 * 16), and a learning-rate scan of one model: each run's schedule, and its
 * best loss against the learning rate summed over the steps it trained
 * (Figure 22). The bound is the fit module's (sl_fit_stop_bound), the
 * schedules the optimizer's (sl_lr_at), the points those `scalelab fit DIR`
 * takes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "figures_int.h"
#include "scalelab/model.h"
#include "scalelab/numfmt.h"
#include "scalelab/optim.h"

/* ---- Figure 16: S_stop against the observed stopping steps ----------------------------------- */

void Fig_stopBound(Figure *f, const sl_run *runs, int n, const sl_figures_options *fo)
{
    size_t m;
    sl_fit_point *p = Fig_lawPointsOf(runs, n, SL_LAW_KAPLAN_ND, SL_ACCT_KAPLAN, &m);
    sl_fit_result nd;
    if (m < 5 || !Fig_fit(SL_LAW_KAPLAN_ND, p, m, &nd)) {
        free(p);
        return;
    }
    free(p);
    const sl_fit_result *ns = fo ? fo->ns : NULL, *bc = fo ? fo->bcrit : NULL;
    snprintf(f->subtitle, sizeof f->subtitle, "L(N, D) kaplan-nd of these runs; L(N, S_min) %s%s; %s%s",
             ns ? "kaplan-ns of " : "published (Kaplan et al.)", ns && fo->ns_src ? fo->ns_src : "",
             bc ? "B_crit(L) of " : "S_min steps (no B_crit given)", bc && fo->bcrit_src ? fo->bcrit_src : "");
    double *x = sl_xcalloc((size_t)n + 1, sizeof *x), *y = sl_xcalloc((size_t)n + 1, sizeof *y);
    double *xl = sl_xcalloc((size_t)n + 1, sizeof *xl), *xh = sl_xcalloc((size_t)n + 1, sizeof *xh);
    double *nn = sl_xcalloc((size_t)n + 1, sizeof *nn);
    int k = 0;
    for (int i = 0; i < n; i++) {
        const sl_run *r = &runs[i];
        long best = sl_run_best_row(r->rows, r->n_rows);
        if (!sl_run_early_stopped(r) || r->spec.train.data_limit == 0 || best < 0)
            continue;
        double N = sl_model_counts(&r->spec.train.model).n_kaplan, D = (double)r->spec.train.data_limit;
        double B = (double)r->spec.train.batch * r->spec.train.model.n_ctx, v, lo, hi;
        sl_error e;
        if (sl_fit_stop_bound(&nd, ns, bc, N, D, B, &v, &lo, &hi, &e) != SL_OK || !Fig_positive(v) ||
            r->rows[best].step <= 0)
            continue;
        x[k] = v;
        xl[k] = lo;
        xh[k] = hi;
        y[k] = (double)r->rows[best].step;
        nn[k++] = N;
    }
    double lo = INFINITY, hi = -INFINITY;
    int above = 0;
    for (int j = 0; j < k; j++) {
        lo = fmin(lo, fmin(x[j], y[j]));
        hi = fmax(hi, fmax(x[j], y[j]));
        if (Fig_positive(xl[j]) && Fig_positive(xh[j]))
            lo = fmin(lo, xl[j]), hi = fmax(hi, xh[j]);
        above += y[j] >= x[j];
    }
    /* one colour per N */
    double seen[FIGURE_MAX_SERIES / 2];
    int ns_k = 0;
    for (int j = 0; j < k; j++) {
        int dup = 0;
        for (int q = 0; q < ns_k; q++)
            dup |= Fig_sameN(seen[q], nn[j]);
        if (!dup && ns_k < FIGURE_MAX_SERIES / 2)
            seen[ns_k++] = nn[j];
    }
    for (int q = 0; q < ns_k; q++) {
        double rgb[3];
        Canvas_ramp(q, ns_k, rgb);
        char v[32], label[96];
        sl_num_format(v, sizeof v, seen[q], SL_NUM_SHORT);
        snprintf(label, sizeof label, "N = %s", v);
        Series *s = Figure_addSeries(f, (size_t)k, SERIES_MARK, rgb, label);
        for (int j = 0; s && j < k; j++)
            if (Fig_sameN(seen[q], nn[j])) {
                s->x[s->n] = x[j];
                s->y[s->n++] = y[j];
            }
        /* the bound's interval (the fits' paired draws) as a bar through the mark */
        for (int j = 0; j < k; j++) {
            if (!Fig_sameN(seen[q], nn[j]) || !Fig_positive(xl[j]) || !Fig_positive(xh[j]))
                continue;
            Series *bar = Figure_addSeries(f, 2, SERIES_LINE, rgb, "");
            if (!bar)
                break;
            bar->x[0] = xl[j], bar->x[1] = xh[j];
            bar->y[0] = bar->y[1] = y[j];
            bar->n = 2;
        }
    }
    if (k > 0) {
        Series *s = Figure_addSeries(f, 2, SERIES_LINE, CANVAS_BLACK, "best step = S_stop (the bound holds above); bars: its 95% interval");
        if (s) {
            s->x[0] = s->y[0] = lo / 1.5;
            s->x[1] = s->y[1] = hi * 1.5;
            s->n = 2;
        }
        size_t len = strlen(f->title);
        snprintf(f->title + len, sizeof f->title - len, ": %d of %d runs at or above it", above, k);
    }
    free(x);
    free(y);
    free(xl);
    free(xh);
    free(nn);
    sl_fit_result_free(&nd);
}

/* ---- Figure 22: a learning-rate scan of one model ------------------------------------------- */

/* 1 when every run of the store trains one model (n_layer, d_model and the
 * batch the same) and their optimizer settings differ in peak learning rate
 * or schedule; 0 for several models or a single setting. */
static int one_model_scan(const sl_run *runs, int n)
{
    if (n < 2)
        return 0;
    const sl_config *c0 = &runs[0].spec.train.model;
    sl_optim_opts o0, o;
    sl_train_optim_opts(&runs[0].spec.train, &o0);
    int differ = 0;
    for (int i = 1; i < n; i++) {
        const sl_config *c = &runs[i].spec.train.model;
        if (c->n_layer != c0->n_layer || c->d_model != c0->d_model ||
            runs[i].spec.train.batch != runs[0].spec.train.batch)
            return 0;
        sl_train_optim_opts(&runs[i].spec.train, &o);
        differ |= o.lr != o0.lr || o.schedule != o0.schedule || o.warmup != o0.warmup || o.total != o0.total;
    }
    return differ;
}

void Fig_lrScan(Figure *f, const sl_run *runs, int n, int schedules)
{
    if (!one_model_scan(runs, n))
        return;
    size_t m;
    int *idx = sl_xcalloc((size_t)n + 1, sizeof *idx);
    sl_fit_point *p = Fig_pointsBuffer(runs, n);
    m = Fig_runPoints(runs, n, 0, p, idx);
    if (schedules) {
        for (int i = 0; i < n; i++) {
            sl_optim_opts o;
            sl_train_optim_opts(&runs[i].spec.train, &o);
            long last = runs[i].n_rows ? runs[i].rows[runs[i].n_rows - 1].step : 0;
            if (last < 2)
                continue;
            double rgb[3];
            Canvas_ramp(i, n, rgb);
            char v[32], label[192];
            sl_num_format(v, sizeof v, o.lr, SL_NUM_PARAM);
            snprintf(label, sizeof label, "%s: peak %s, %s", runs[i].spec.id, v, sl_schedule_name(o.schedule));
            Series *s = Figure_addSeries(f, 200, SERIES_LINE, rgb, label);
            /* steps 1..last, log-spaced (the axes are logarithmic) */
            for (int q = 0; s && q < 200; q++) {
                long st = (long)llround(pow((double)last, (double)q / 199));
                double lr = sl_lr_at(&o, st - 1);
                if (Fig_positive(lr) && (s->n == 0 || s->x[s->n - 1] < (double)st)) {
                    s->x[s->n] = (double)st;
                    s->y[s->n++] = lr;
                }
            }
        }
    } else {
        /* one mark per done run, at the learning rate summed over every step
         * it trained up to its best row */
        for (size_t j = 0; j < m; j++) {
            const sl_run *r = &runs[idx[j]];
            sl_optim_opts o;
            sl_train_optim_opts(&r->spec.train, &o);
            double sum = 0;
            for (long st = 0; st < (long)p[j].s; st++)
                sum += sl_lr_at(&o, st);
            if (!Fig_positive(sum))
                continue;
            double rgb[3];
            Canvas_ramp((int)j, (int)m, rgb);
            char v[32], label[192];
            sl_num_format(v, sizeof v, o.lr, SL_NUM_PARAM);
            snprintf(label, sizeof label, "%s: peak lr %s, %s", r->spec.id, v, sl_schedule_name(o.schedule));
            Series *s = Figure_addSeries(f, 1, SERIES_MARK, rgb, label);
            if (s) {
                s->x[0] = sum, s->y[0] = p[j].loss, s->n = 1;
            }
        }
    }
    free(p);
    free(idx);
}
