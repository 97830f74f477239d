/* fit_bcrit: the critical batch size measured directly, as Kaplan et al. 2020
 * did (eq 5.1, Fig. 18, after McCandlish et al. 2018). For each target loss the
 * steps S and examples E = B*S that each batch size of a scan needed to reach it
 * are fitted to (S/S_min - 1)(E/E_min - 1) = 1, and B_crit = E_min/S_min; the
 * B_crit of each target then gives B_crit(L) = B_star/L^(1/alpha_B). */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_min.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fit_internal.h"

double sl_fit_steps_to_loss(const double *s, const double *loss, size_t n, double target)
{
    /* the running minimum: a curve has reached a loss once it has been below it */
    double best_prev = INFINITY;
    for (size_t j = 0; j < n; j++) {
        double best = fmin(best_prev, loss[j]);
        if (best <= target) {
            if (j == 0 || !isfinite(best_prev) || best_prev == best)
                return s[j];
            double f = (best_prev - target) / (best_prev - best);
            return exp(log(s[j - 1]) + f * (log(s[j]) - log(s[j - 1])));
        }
        best_prev = best;
    }
    return NAN;
}

/* The hyperbola with E = B*S is S = S_min (1 + B_crit/B): residuals of ln S,
 * which are also those of ln E. For fixed v = ln B_crit the best ln S_min is the
 * weighted mean of ln S_i - ln(1 + B_crit/B_i), so one variable remains. */
typedef struct {
    const double *lb, *ls, *w;
    size_t n;
} hyp_data;

static double hyp_cost(double v, void *arg, double *u_out)
{
    const hyp_data *h = arg;
    double sw = 0, su = 0;
    for (size_t i = 0; i < h->n; i++) {
        sw += h->w[i];
        su += h->w[i] * (h->ls[i] - log1p(exp(v - h->lb[i])));
    }
    double u = su / sw, c = 0;
    for (size_t i = 0; i < h->n; i++) {
        double r = u + log1p(exp(v - h->lb[i])) - h->ls[i];
        c += h->w[i] * r * r;
    }
    if (u_out)
        *u_out = u;
    return c;
}

static double hyp_f(double v, void *arg) { return hyp_cost(v, arg, NULL); }

/* How far beyond the scanned batch sizes B_crit may lie and still count as
 * measured (a factor of 30 each way). */
#define BCRIT_REACH 30.0

static int hyperbola(const double *b, const double *s, const double *w, size_t n,
                     sl_bcrit_target *t, sl_error *err)
{
    t->s_min = t->e_min = t->bcrit = t->rms_log = NAN;
    t->converged = 0;
    t->n_runs = (int)n;
    double bmin = INFINITY, bmax = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (!(b[i] > 0) || !(s[i] > 0) || !isfinite(b[i]) || !isfinite(s[i]) || !(w[i] > 0))
            return sl_fail(err, SL_EINPUT,
                           "bcrit-scan: pair %zu: B = %g, S = %g (expected positive finite "
                           "numbers)",
                           i + 1, b[i], s[i]);
        bmin = fmin(bmin, b[i]);
        bmax = fmax(bmax, b[i]);
    }
    if (n < 3)
        return sl_fail(err, SL_EINPUT,
                       "bcrit-scan: %zu batch sizes reached the target (expected at least 3)", n);
    double *lb = sl_xmalloc(2 * n * sizeof *lb), *ls = lb + n;
    for (size_t i = 0; i < n; i++)
        lb[i] = log(b[i]), ls[i] = log(s[i]);
    hyp_data h = {lb, ls, w, n};
    /* a grid over ln B_crit, then Brent's method around its best point */
    const int G = 240;
    double v0 = log(bmin / BCRIT_REACH), v1 = log(bmax * BCRIT_REACH);
    int arg = 0;
    double best = INFINITY;
    for (int k = 0; k <= G; k++) {
        double c = hyp_f(v0 + (v1 - v0) * k / G, &h);
        if (c < best)
            best = c, arg = k;
    }
    double step = (v1 - v0) / G, v = v0 + step * arg;
    int rc = SL_OK;
    if (arg == 0 || arg == G) {
        snprintf(t->reason, sizeof t->reason,
                 "B_crit lies beyond %g x the batch sizes scanned (%s): the scan does not "
                 "bracket it",
                 BCRIT_REACH, arg == 0 ? "below" : "above");
    } else {
        double lo = v - step, hi = v + step;
        gsl_min_fminimizer *m = gsl_min_fminimizer_alloc(gsl_min_fminimizer_brent);
        gsl_function F = {hyp_f, &h};
        int st = gsl_min_fminimizer_set_with_values(m, &F, v, best, lo, hyp_f(lo, &h), hi,
                                                    hyp_f(hi, &h));
        /* ln B_crit to 1e-6 (a relative 1e-6 in B_crit); GSL's Brent shrinks its
         * bracket slowly below that, where the cost is flat to rounding */
        int it = 0;
        while (st == GSL_SUCCESS) {
            if (++it > 200) {
                st = GSL_EMAXITER;
                break;
            }
            if ((st = gsl_min_fminimizer_iterate(m)) != GSL_SUCCESS)
                break;
            st = gsl_min_test_interval(gsl_min_fminimizer_x_lower(m),
                                       gsl_min_fminimizer_x_upper(m), 1e-6, 0);
            if (st == GSL_SUCCESS)
                break;
            if (st == GSL_CONTINUE)
                st = GSL_SUCCESS;
        }
        if (st == GSL_SUCCESS) {
            v = gsl_min_fminimizer_x_minimum(m);
            t->converged = 1;
            snprintf(t->reason, sizeof t->reason,
                     "grid of %d then Brent on ln B_crit, %d iterations", G + 1, it);
        } else {
            snprintf(t->reason, sizeof t->reason, "Brent's method on ln B_crit did not settle "
                                                  "in 200 iterations");
        }
        gsl_min_fminimizer_free(m);
    }
    double u, sw = 0;
    double c = hyp_cost(v, &h, &u);
    for (size_t i = 0; i < n; i++)
        sw += w[i];
    t->rms_log = sqrt(c / sw);
    if (t->converged) {
        t->bcrit = exp(v);
        t->s_min = exp(u);
        t->e_min = t->s_min * t->bcrit;
    }
    free(lb);
    return rc;
}

int sl_fit_bcrit_hyperbola(const double *b, const double *s, size_t n, sl_bcrit_target *t,
                           sl_error *err)
{
    memset(t, 0, sizeof *t);
    double *w = sl_xmalloc((n ? n : 1) * sizeof *w);
    for (size_t i = 0; i < n; i++)
        w[i] = 1;
    int rc = hyperbola(b, s, w, n, t, err);
    free(w);
    return rc;
}

/* A learning curve of the scan: its batch size, its evaluations sorted by step,
 * and its weight (a bootstrap resample may hold a run several times: every step
 * then repeats, and the curve counts that many times). */
typedef struct {
    long run;
    double b, w, first, best;
    size_t n;
    double *s, *l;
} curve;

static int cmp_pt(const void *a, const void *b)
{
    const sl_fit_point *x = a, *y = b;
    if (x->run != y->run)
        return (x->run > y->run) - (x->run < y->run);
    return (x->s > y->s) - (x->s < y->s);
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Groups points into curves (by run; a point without a run is refused). */
static int curves_of(const sl_fit_point *p, size_t n, curve **out, size_t *n_out, double **store,
                     sl_error *err)
{
    sl_fit_point *q = sl_xmalloc((n ? n : 1) * sizeof *q);
    memcpy(q, p, n * sizeof *q);
    for (size_t i = 0; i < n; i++)
        if (q[i].run < 0) {
            free(q);
            return sl_fail(err, SL_EINPUT,
                           "bcrit-scan: point %zu has no run (expected learning curves: a run "
                           "column naming the run of each evaluation)",
                           i + 1);
        }
    qsort(q, n, sizeof *q, cmp_pt);
    curve *c = sl_xcalloc(n ? n : 1, sizeof *c);
    double *buf = sl_xmalloc(2 * (n ? n : 1) * sizeof *buf);
    size_t m = 0, used = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && q[j].run == q[i].run)
            j++;
        curve *k = &c[m++];
        k->run = q[i].run;
        k->b = q[i].b;
        k->s = buf + used;
        k->l = buf + n + used;
        size_t distinct = 0;
        for (size_t t = i; t < j; t++) {
            if (q[t].b != k->b) {
                double b0 = k->b, b1 = q[t].b;
                free(q), free(c), free(buf);
                return sl_fail(err, SL_EINPUT,
                               "bcrit-scan: a run has batch sizes %g and %g (expected one batch "
                               "size per run)",
                               b0, b1);
            }
            /* repeated steps (a run drawn twice) keep the lowest loss once */
            if (distinct && k->s[distinct - 1] == q[t].s) {
                k->l[distinct - 1] = fmin(k->l[distinct - 1], q[t].loss);
                continue;
            }
            k->s[distinct] = q[t].s;
            k->l[distinct] = q[t].loss;
            distinct++;
        }
        k->n = distinct;
        k->w = (double)(j - i) / (double)distinct;
        used += distinct;
        k->first = k->l[0];
        k->best = INFINITY;
        for (size_t t = 0; t < distinct; t++)
            k->best = fmin(k->best, k->l[t]);
        i = j;
    }
    free(q);
    *out = c;
    *n_out = m;
    *store = buf;
    return SL_OK;
}

int sl_fit_bcrit_targets(const sl_fit_point *p, size_t n, int n_targets, sl_bcrit_target *out,
                         int *n_out, sl_error *err)
{
    *n_out = 0;
    if (n_targets < 1)
        n_targets = SL_BCRIT_TARGETS;
    curve *c = NULL;
    size_t nc = 0;
    double *buf = NULL;
    int rc = curves_of(p, n, &c, &nc, &buf, err);
    if (rc != SL_OK)
        return rc;
    if (nc < 3) {
        free(c), free(buf);
        return sl_fail(err, SL_EINPUT,
                       "bcrit-scan: %zu learning curves (expected at least 3 runs of the batch "
                       "scan)",
                       nc);
    }
    /* Targets run from the highest loss every curve passes after its first
     * evaluation (the lowest first loss) down to the loss that half of the
     * curves, and at least 3, reach; geometric, inset half a step from both
     * ends. */
    double hi = INFINITY, *bests = sl_xmalloc(nc * sizeof *bests);
    for (size_t i = 0; i < nc; i++) {
        hi = fmin(hi, c[i].first);
        bests[i] = c[i].best;
    }
    qsort(bests, nc, sizeof *bests, cmp_dbl);
    size_t k_reach = (nc + 1) / 2 > 3 ? (nc + 1) / 2 : 3;
    double lo = bests[k_reach - 1];
    free(bests);
    if (!(lo < hi)) {
        free(c), free(buf);
        return sl_fail(err, SL_EINPUT,
                       "bcrit-scan: no loss between the curves' first evaluations (lowest %g) "
                       "and what half of them reach (%g) (expected curves that descend past "
                       "each other's start)",
                       hi, lo);
    }
    double *bs = sl_xmalloc(3 * nc * sizeof *bs), *ss = bs + nc, *ws = bs + 2 * nc;
    for (int k = 0; k < n_targets; k++) {
        double f = (k + 0.5) / n_targets;
        double target = exp((1 - f) * log(hi) + f * log(lo));
        /* per batch size the fastest of its runs: with several learning rates
         * at one batch size (a scan retuned per batch size), the best-tuned */
        size_t m = 0;
        for (size_t i = 0; i < nc; i++) {
            double s = sl_fit_steps_to_loss(c[i].s, c[i].l, c[i].n, target);
            if (!isfinite(s))
                continue;
            size_t j = 0;
            while (j < m && bs[j] != c[i].b)
                j++;
            if (j == m) {
                bs[m] = c[i].b, ss[m] = s, ws[m] = c[i].w;
                m++;
            } else if (s < ss[j]) {
                ss[j] = s, ws[j] = c[i].w;
            }
        }
        sl_bcrit_target *t = &out[k];
        memset(t, 0, sizeof *t);
        t->loss = target;
        sl_error ignore;
        if (hyperbola(bs, ss, ws, m, t, &ignore) != SL_OK)
            snprintf(t->reason, sizeof t->reason, "%.*s", (int)sizeof t->reason - 1, ignore.msg);
        t->loss = target;
    }
    *n_out = n_targets;
    free(bs), free(c), free(buf);
    return SL_OK;
}

int fit_bcrit_scan(sl_fit_law law, const sl_fit_point *p, size_t n, const sl_fit_options *o,
                   const double *start, fit_est *e, sl_error *err)
{
    (void)law;
    (void)start;
    int k = o->bcrit_targets > 0 ? o->bcrit_targets : SL_BCRIT_TARGETS;
    sl_bcrit_target *t = sl_xmalloc((size_t)k * sizeof *t);
    int nt;
    int rc = sl_fit_bcrit_targets(p, n, k, t, &nt, err);
    if (rc != SL_OK) {
        free(t);
        return rc;
    }
    double *x = sl_xmalloc(3 * (size_t)nt * sizeof *x), *y = x + nt, *pred = x + 2 * nt;
    size_t m = 0;
    for (int j = 0; j < nt; j++)
        if (t[j].converged) {
            x[m] = log(t[j].loss);
            y[m] = log(t[j].bcrit);
            m++;
        }
    double kk, mm;
    if (m < 3 || fit_ols(x, y, m, &kk, &mm) != 0) {
        free(x), free(t);
        return sl_fail(err, SL_EINPUT,
                       "bcrit-scan: B_crit measured at %zu of %d target losses (expected at "
                       "least 3; give batch sizes on both sides of B_crit)",
                       m, nt);
    }
    for (size_t i = 0; i < m; i++)
        pred[i] = kk + mm * x[i];
    fit_r2_rms(pred, y, m, &e->r2, &e->rms_log);
    e->objective = e->rms_log * e->rms_log * (double)m;
    /* ln B_crit = ln B_star - (1/alpha_B) ln L, as the bcrit law */
    e->theta[0] = kk, e->theta[1] = mm;
    e->value[0] = exp(kk);
    e->value[1] = -1 / mm;
    e->n_starts = 1;
    /* a B_crit that shrinks as the loss falls gives alpha_B < 0: reported as
     * measured, for Kaplan's alpha_B > 0 is a finding, not a constraint */
    e->converged = isfinite(e->value[0]) && isfinite(e->value[1]);
    snprintf(e->reason, sizeof e->reason,
             e->converged ? "hyperbola (S/S_min-1)(E/E_min-1)=1 at %zu of %d target losses, then "
                            "least squares on ln B_crit"
                          : "B_crit is the same at the %zu of %d targets: no B_crit(L) power law",
             m, nt);
    free(x), free(t);
    return SL_OK;
}
