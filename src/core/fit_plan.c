/* fit_plan: what follows from fitted laws — the overfitting penalty of L(N, D),
 * the early-stopping bound, and compute-optimal plans (Kaplan's, Chinchilla's,
 * and the one the fitted frontier laws give). Each takes a fit, or the law
 * table's published values when it is given none. See include/scalelab/fit.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fit_internal.h"

/* Kaplan's published L(N,D) and L(N,S_min) fits (the law table's), used when
 * no fit is given. */
#define kaplan_nd (fit_law_published(SL_LAW_KAPLAN_ND))
#define kaplan_ns (fit_law_published(SL_LAW_KAPLAN_NS))

static const double *nd_params(const sl_fit_result *r)
{
    return r && r->law == SL_LAW_KAPLAN_ND ? r->value : kaplan_nd;
}

double sl_fit_overfit_exponent(const sl_fit_result *r)
{
    const double *v = nd_params(r);
    return v[0] / v[1];
}

void sl_fit_overfit_exponent_ci(const sl_fit_result *r, double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (!r || r->law != SL_LAW_KAPLAN_ND || !r->boot || r->n_boot_ok < 2)
        return;
    double *draw = sl_xmalloc((size_t)r->n_boot_ok * sizeof *draw);
    size_t m = 0;
    for (int k = 0; k < r->n_boot_ok; k++) {
        const double *v = r->boot + (size_t)k * r->n_params;
        if (isfinite(v[0] / v[1]))
            draw[m++] = v[0] / v[1];
    }
    if (m >= 2) {
        qsort(draw, m, sizeof *draw, fit_cmp_double);
        double tail = (1 - (r->level > 0 ? r->level : 0.95)) / 2;
        *lo = fit_percentile(draw, m, tail);
        *hi = fit_percentile(draw, m, 1 - tail);
    }
    free(draw);
}

double sl_fit_overfit_dl(const sl_fit_result *r, double n, double d)
{
    const double *v = nd_params(r);
    return pow(1 + pow(n / v[2], v[0] / v[1]) * v[3] / d, v[1]) - 1;
}

double sl_fit_overfit_d_needed(const sl_fit_result *r, double n, double tol)
{
    /* Solves [1 + (N/N_c)^(aN/aD) D_c/D]^aD - 1 = tol for D. */
    const double *v = nd_params(r);
    return pow(n / v[2], v[0] / v[1]) * v[3] / (pow(1 + tol, 1 / v[1]) - 1);
}

double sl_fit_stop_steps(const sl_fit_result *nd, const sl_fit_result *ns, double n, double d)
{
    const double *v = nd_params(nd);
    const double *s = ns && ns->law == SL_LAW_KAPLAN_NS ? ns->value : kaplan_ns;
    sl_fit_point x = {.n = n, .d = d};
    double l_nd = fit_eval(SL_LAW_KAPLAN_ND, v, SL_FIT_Q_LOSS, &x);
    double l_inf = pow(v[2] / n, v[0]);
    return s[3] / pow(l_nd - l_inf, 1 / s[2]);
}

/* Kaplan's B_crit(L) = B_star / L^(1/alpha_B), published B_star = 2e8 tokens,
 * alpha_B = 0.21 (the law table's). */
static double kaplan_bcrit(double loss)
{
    const double *v = fit_law_published(SL_LAW_BCRIT);
    return v[0] / pow(loss, 1 / v[1]);
}

void sl_fit_plan_kaplan(double c, sl_fit_plan *p)
{
    memset(p, 0, sizeof *p);
    p->c = c;
    double pf = c / SL_PF_DAY;
    for (int k = 1; k < 3; k++)
        p->n_opt[k] = p->d_opt[k] = p->b[k] = p->s[k] = p->loss[k] = NAN;
    p->n_opt[0] = 1.3e9 * pow(pf, 0.73);
    p->d_opt[0] = 2e10 * pow(pf, 0.27);
    p->b[0] = 2.0e6 * pow(pf, 0.24);
    p->s[0] = 5.4e3 * pow(pf, 0.03);
    p->loss[0] = pow(3.1e8 / pf, 0.050);
}

static void chin_alloc(double c, const double *v, double *n, double *d, double *l, double *b,
                       double *s)
{
    double E = v[0], A = v[1], B = v[2], a = v[3], be = v[4];
    double g = pow(a * A / (be * B), 1 / (a + be));
    *n = g * pow(c / 6, be / (a + be));
    *d = pow(c / 6, a / (a + be)) / g;
    *l = E + A / pow(*n, a) + B / pow(*d, be);
    *b = kaplan_bcrit(*l);
    *s = *d / *b;
}

int sl_fit_plan_chinchilla(double c, const sl_fit_result *r, const double *params,
                           sl_fit_plan *p, sl_error *err)
{
    memset(p, 0, sizeof *p);
    p->c = c;
    if (!(c > 0) || !isfinite(c))
        return sl_fail(err, SL_EINPUT, "compute: %g FLOP (expected a positive finite number)", c);
    const double *v = r ? r->value : params;
    const char *const *chin_names;
    sl_fit_law_params(SL_LAW_CHINCHILLA, &chin_names);
    for (int j = 0; j < 5; j++)
        if (!(v[j] >= 0) || !isfinite(v[j]) || (j > 0 && v[j] == 0))
            return sl_fail(err, SL_EINPUT,
                           "params: %s = %g (expected E >= 0 and A, B, alpha, beta > 0)",
                           chin_names[j], v[j]);
    chin_alloc(c, v, &p->n_opt[0], &p->d_opt[0], &p->loss[0], &p->b[0], &p->s[0]);
    double *q[5] = {p->n_opt, p->d_opt, p->loss, p->b, p->s};
    for (int k = 0; k < 5; k++)
        q[k][1] = q[k][2] = NAN;
    if (!r || r->n_boot_ok < 2)
        return SL_OK;
    size_t m = (size_t)r->n_boot_ok;
    double *draw = sl_xmalloc(5 * m * sizeof *draw);
    for (size_t k = 0; k < m; k++) {
        const double *w = r->boot + k * (size_t)r->n_params;
        chin_alloc(c, w, &draw[k], &draw[m + k], &draw[2 * m + k], &draw[3 * m + k],
                   &draw[4 * m + k]);
    }
    for (int j = 0; j < 5; j++) {
        qsort(draw + j * m, m, sizeof *draw, fit_cmp_double);
        q[j][1] = fit_percentile(draw + j * m, m, 0.025);
        q[j][2] = fit_percentile(draw + j * m, m, 0.975);
    }
    free(draw);
    return SL_OK;
}

/* One draw of the fitted plan: k < 0 takes the point estimates. */
static void fitted_alloc(double c, const sl_fit_result *opt, const sl_fit_result *cmin,
                         const sl_fit_result *bc, int k, double *out)
{
    const double *v = k < 0 ? opt->value : opt->boot + (size_t)(k % opt->n_boot_ok) * 4;
    sl_fit_point x = {.c = c};
    out[0] = fit_eval(opt->law, v, SL_FIT_Q_NOPT, &x);
    out[1] = fit_eval(opt->law, v, SL_FIT_Q_DOPT, &x);
    out[2] = out[3] = out[4] = NAN;
    if (!cmin)
        return;
    const double *w = k < 0 ? cmin->value : cmin->boot + (size_t)(k % cmin->n_boot_ok) * 2;
    x.loss = out[4] = fit_eval(SL_LAW_CMIN, w, SL_FIT_Q_LOSS, &x);
    if (bc) {
        const double *u = k < 0 ? bc->value : bc->boot + (size_t)(k % bc->n_boot_ok) * 2;
        out[2] = fit_eval(SL_LAW_BCRIT, u, SL_FIT_Q_BCRIT, &x);
    } else {
        out[2] = kaplan_bcrit(out[4]);
    }
    out[3] = out[1] / out[2];
}

int sl_fit_plan_fitted(double c, const sl_fit_result *opt, const sl_fit_result *cmin,
                       const sl_fit_result *bc, sl_fit_plan *p, sl_error *err)
{
    memset(p, 0, sizeof *p);
    p->c = c;
    if (!(c > 0) || !isfinite(c))
        return sl_fail(err, SL_EINPUT, "compute: %g FLOP (expected a positive finite number)", c);
    if (!opt || (opt->law != SL_LAW_APPROACH1 && opt->law != SL_LAW_APPROACH2) ||
        !opt->converged)
        return sl_fail(err, SL_EINPUT,
                       "plan: no converged approach1 or approach2 fit (expected one for N_opt)");
    if (cmin && (cmin->law != SL_LAW_CMIN || !cmin->converged))
        cmin = NULL;
    if (bc && ((bc->law != SL_LAW_BCRIT && bc->law != SL_LAW_BCRIT_SCAN) || !bc->converged))
        bc = NULL;
    double est[5];
    fitted_alloc(c, opt, cmin, bc, -1, est);
    double *q[5] = {p->n_opt, p->d_opt, p->b, p->s, p->loss};
    for (int j = 0; j < 5; j++)
        q[j][0] = est[j], q[j][1] = q[j][2] = NAN;
    int m = opt->n_boot_ok;
    if (m < 2 || (cmin && cmin->n_boot_ok < 2) || (bc && bc->n_boot_ok < 2))
        return SL_OK;
    double *draw = sl_xmalloc(5 * (size_t)m * sizeof *draw);
    for (int k = 0; k < m; k++) {
        double d[5];
        fitted_alloc(c, opt, cmin, bc, k, d);
        for (int j = 0; j < 5; j++)
            draw[(size_t)j * m + k] = d[j];
    }
    double tail = (1 - (opt->level > 0 ? opt->level : 0.95)) / 2;
    for (int j = 0; j < 5; j++) {
        if (isnan(est[j]))
            continue;
        double *col = draw + (size_t)j * m;
        qsort(col, (size_t)m, sizeof *col, fit_cmp_double);
        q[j][1] = fit_percentile(col, (size_t)m, tail);
        q[j][2] = fit_percentile(col, (size_t)m, 1 - tail);
    }
    free(draw);
    return SL_OK;
}

