/* fit_lsq: the laws fitted by non-linear least squares on log loss with GSL's
 * trust-region Levenberg-Marquardt (gsl_multifit_nlinear) and analytic Jacobians:
 * L = E + (X_c/X)^alpha, Kaplan's L(N,D) (eq 1.5) and L(N,S_min) (eq 1.6). */
#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fit_internal.h"

typedef struct {
    sl_fit_law law;
    size_t n;
    const double *x, *y, *l; /* ln X (or ln N), ln D or ln S_min, ln L */
} lsq_data;

static double lse2(double a, double b, double *wa)
{
    double m = a > b ? a : b;
    double ea = exp(a - m), eb = exp(b - m);
    *wa = ea / (ea + eb);
    return m + log(ea + eb);
}

/* Residuals r_i = ln L_pred - ln L_i and, when J is non-NULL, their Jacobian. */
static void residuals(const double *t, const lsq_data *D, double *r, gsl_matrix *J)
{
    for (size_t i = 0; i < D->n; i++) {
        double x = D->x[i], lp, j[4] = {0};
        switch (D->law) {
        case SL_LAW_KAPLAN_ND: {
            /* t = (alpha_N, alpha_D, ln N_c, ln D_c) */
            double w1, u = t[2] - x;
            double s = lse2(t[0] / t[1] * u, t[3] - D->y[i], &w1);
            lp = t[1] * s;
            j[0] = w1 * u;
            j[1] = s - w1 * t[0] / t[1] * u;
            j[2] = w1 * t[0];
            j[3] = t[1] * (1 - w1);
            break;
        }
        case SL_LAW_KAPLAN_NS: {
            /* t = (alpha_N, ln N_c, alpha_S, ln S_c) */
            double un = t[1] - x, us = t[3] - D->y[i];
            double a = t[0] * un, b = t[2] * us, w1;
            lp = lse2(a, b, &w1);
            j[0] = w1 * un;
            j[1] = w1 * t[0];
            j[2] = (1 - w1) * us;
            j[3] = (1 - w1) * t[2];
            break;
        }
        default: {
            /* t = (ln E, alpha, a) with L = E + exp(a - alpha ln X) */
            double w1;
            lp = lse2(t[0], t[2] - t[1] * x, &w1);
            j[0] = w1;
            j[1] = -(1 - w1) * x;
            j[2] = 1 - w1;
            break;
        }
        }
        r[i] = lp - D->l[i];
        if (J)
            for (size_t k = 0; k < J->size2; k++)
                gsl_matrix_set(J, i, k, j[k]);
    }
}

static int gsl_f(const gsl_vector *t, void *params, gsl_vector *f)
{
    const lsq_data *D = params;
    double tt[4];
    for (size_t k = 0; k < t->size; k++)
        tt[k] = gsl_vector_get(t, k);
    residuals(tt, D, f->data, NULL);
    for (size_t i = 0; i < D->n; i++)
        if (!isfinite(f->data[i]))
            return GSL_EDOM;
    return GSL_SUCCESS;
}

static int gsl_df(const gsl_vector *t, void *params, gsl_matrix *J)
{
    const lsq_data *D = params;
    double tt[4], *r = sl_xmalloc(D->n * sizeof *r);
    for (size_t k = 0; k < t->size; k++)
        tt[k] = gsl_vector_get(t, k);
    residuals(tt, D, r, J);
    free(r);
    return GSL_SUCCESS;
}

static void to_values(sl_fit_law law, const double *t, double *v)
{
    switch (law) {
    case SL_LAW_KAPLAN_ND:
        v[0] = t[0], v[1] = t[1], v[2] = exp(t[2]), v[3] = exp(t[3]);
        break;
    case SL_LAW_KAPLAN_NS:
        v[0] = t[0], v[1] = exp(t[1]), v[2] = t[2], v[3] = exp(t[3]);
        break;
    default:
        v[0] = exp(t[0]), v[1] = t[1], v[2] = exp(t[2] / t[1]);
        break;
    }
}

typedef struct {
    double t[4], cost;
    int converged;
    char reason[160];
} lsq_run;

static void solve(gsl_multifit_nlinear_workspace *w, gsl_multifit_nlinear_fdf *fdf,
                  const double *t0, size_t p, int max_iter, lsq_run *out)
{
    gsl_vector_const_view x0 = gsl_vector_const_view_array(t0, p);
    out->cost = INFINITY;
    out->converged = 0;
    if (gsl_multifit_nlinear_init(&x0.vector, fdf, w) != GSL_SUCCESS) {
        snprintf(out->reason, sizeof out->reason, "the start gives non-finite residuals");
        return;
    }
    int info = 0;
    int st = gsl_multifit_nlinear_driver(max_iter, 1e-12, 1e-12, 1e-14, NULL, NULL, &info, w);
    gsl_vector *x = gsl_multifit_nlinear_position(w);
    gsl_vector *f = gsl_multifit_nlinear_residual(w);
    for (size_t k = 0; k < p; k++)
        out->t[k] = gsl_vector_get(x, k);
    double chisq;
    gsl_blas_ddot(f, f, &chisq);
    out->cost = chisq;
    /* The gradient J^T r tells a stall at the optimum from a stall elsewhere. */
    gsl_matrix *J = gsl_multifit_nlinear_jac(w);
    double gmax = 0;
    for (size_t k = 0; k < p; k++) {
        double g = 0;
        for (size_t i = 0; i < f->size; i++)
            g += gsl_matrix_get(J, i, k) * gsl_vector_get(f, i);
        if (fabs(g) > gmax)
            gmax = fabs(g);
    }
    size_t iters = gsl_multifit_nlinear_niter(w);
    int small_grad = st != GSL_EMAXITER && gmax <= 1e-7 * (1 + chisq);
    if (!isfinite(chisq)) {
        snprintf(out->reason, sizeof out->reason, "Levenberg-Marquardt diverged (non-finite cost)");
    } else if (st == GSL_SUCCESS || small_grad) {
        out->converged = 1;
        snprintf(out->reason, sizeof out->reason,
                 "Levenberg-Marquardt converged in %zu iterations (%s, gradient %.2g)", iters,
                 st != GSL_SUCCESS ? "no further decrease"
                 : info == 1      ? "small step"
                                  : "small gradient",
                 gmax);
    } else if (st == GSL_EMAXITER) {
        snprintf(out->reason, sizeof out->reason,
                 "iteration limit (%d) reached with gradient %.2g", max_iter, gmax);
    } else {
        snprintf(out->reason, sizeof out->reason, "Levenberg-Marquardt stopped (%s) with gradient %.2g",
                 gsl_strerror(st), gmax);
    }
}

int fit_lsq(sl_fit_law law, const sl_fit_point *pt, size_t n, const sl_fit_options *o,
            const double *start, fit_est *e, sl_error *err)
{
    (void)err;
    size_t p = law == SL_LAW_KAPLAN_ND || law == SL_LAW_KAPLAN_NS ? 4 : 3;
    double *buf = sl_xmalloc(3 * n * sizeof *buf);
    lsq_data D = {law, n, buf, buf + n, buf + 2 * n};
    double mx = 0, my = 0, ml = 0, lmin = INFINITY;
    for (size_t i = 0; i < n; i++) {
        buf[i] = log(law == SL_LAW_KAPLAN_ND || law == SL_LAW_KAPLAN_NS ? pt[i].n
                                                                        : fit_x_of(law, &pt[i]));
        buf[n + i] = law == SL_LAW_KAPLAN_NS ? log(pt[i].s) : log(pt[i].d);
        buf[2 * n + i] = log(pt[i].loss);
        mx += buf[i];
        my += buf[n + i];
        ml += buf[2 * n + i];
        if (pt[i].loss < lmin)
            lmin = pt[i].loss;
    }
    mx /= (double)n, my /= (double)n, ml /= (double)n;

    /* Starts: the warm start alone, or a small grid placed so that each term of
     * the law carries a share of the mean loss. */
    double starts[16][4];
    int n_starts = 0;
    if (start) {
        memcpy(starts[0], start, p * sizeof(double));
        n_starts = 1;
    } else if (law == SL_LAW_KAPLAN_ND) {
        const double g[3] = {0.05, 0.1, 0.3};
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++) {
                double *t = starts[n_starts++];
                t[0] = g[a], t[1] = g[b];
                t[2] = mx + (ml - g[b] * log(2)) / g[a];
                t[3] = my + ml / g[b] - log(2);
            }
    } else if (law == SL_LAW_KAPLAN_NS) {
        const double ga[3] = {0.05, 0.1, 0.3}, gs[3] = {0.3, 0.76, 1.5};
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++) {
                double *t = starts[n_starts++];
                t[0] = ga[a], t[2] = gs[b];
                t[1] = mx + (ml - log(2)) / ga[a];
                t[3] = my + (ml - log(2)) / gs[b];
            }
    } else {
        /* E below the smallest loss, then a straight line through ln(L - E). */
        const double share[4] = {0.1, 0.5, 0.8, 0.95};
        double *yy = sl_xmalloc(n * sizeof *yy);
        for (int s = 0; s < 4; s++) {
            double E = share[s] * lmin, k, m;
            for (size_t i = 0; i < n; i++)
                yy[i] = log(pt[i].loss - E);
            if (fit_ols(buf, yy, n, &k, &m) != 0)
                continue;
            double *t = starts[n_starts++];
            t[0] = log(E), t[1] = -m, t[2] = k;
        }
        free(yy);
    }

    if (!start && o->starts > 0 && o->starts < n_starts) {
        /* o->starts of them, at even strides */
        for (int j = 0; j < o->starts; j++)
            memmove(starts[j], starts[j * n_starts / o->starts], sizeof starts[j]);
        n_starts = o->starts;
    }

    gsl_multifit_nlinear_fdf fdf = {0};
    fdf.f = gsl_f;
    fdf.df = gsl_df;
    fdf.n = n;
    fdf.p = p;
    fdf.params = &D;
    gsl_multifit_nlinear_parameters fp = gsl_multifit_nlinear_default_parameters();
    gsl_multifit_nlinear_workspace *w =
        gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &fp, n, p);
    if (!w) {
        /* GSL refuses fewer residuals than parameters (a bootstrap resample of
         * runs can draw that few points): no fit, said so. */
        free(buf);
        e->n_starts = 0;
        e->converged = 0;
        snprintf(e->reason, sizeof e->reason, "%zu points for %zu parameters", n, p);
        return SL_OK;
    }
    lsq_run best = {.cost = INFINITY}, run;
    for (int s = 0; s < n_starts && !(s > 0 && fit_cancelled(o)); s++) {
        solve(w, &fdf, starts[s], p, o->max_iter > 0 ? o->max_iter : 500, &run);
        /* A converged run beats any that did not; then the lower cost wins. */
        if ((run.converged > best.converged) ||
            (run.converged == best.converged && run.cost < best.cost))
            best = run;
    }
    gsl_multifit_nlinear_free(w);
    e->n_starts = (size_t)n_starts;
    if (n_starts == 0 || !isfinite(best.cost)) {
        free(buf);
        e->converged = 0;
        snprintf(e->reason, sizeof e->reason, "%s",
                 n_starts ? best.reason : "no usable starting point");
        return SL_OK;
    }
    memcpy(e->theta, best.t, p * sizeof(double));
    to_values(law, best.t, e->value);
    e->objective = best.cost;
    e->converged = best.converged;
    snprintf(e->reason, sizeof e->reason, "%s", best.reason);
    double *r = sl_xmalloc(n * sizeof *r);
    residuals(best.t, &D, r, NULL);
    for (size_t i = 0; i < n; i++)
        r[i] += D.l[i];
    fit_r2_rms(r, D.l, n, &e->r2, &e->rms_log);
    free(r);
    free(buf);
    return SL_OK;
}
