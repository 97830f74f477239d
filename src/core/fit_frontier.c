/* fit_frontier: the laws read off a frontier rather than fitted point by point:
 * Hoffmann's approach 1 (envelope of learning curves -> N_opt(C), D_opt(C)),
 * approach 2 (IsoFLOP parabolas) and Kaplan's L(C_min) on the compute frontier. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fit_internal.h"

typedef struct {
    double lc, ln, ld, ll; /* ln C (or ln C_min), ln N, ln D, ln L */
    size_t i;              /* the point's index */
} fpt;

static int cmp_lc(const void *a, const void *b)
{
    const fpt *x = a, *y = b;
    return (x->lc > y->lc) - (x->lc < y->lc);
}

/* Lower envelope: in each bin of ln C (bins_per_decade per decade) the point of
 * lowest loss, kept only if its loss is below that of every kept point at
 * smaller C, so that the frontier falls monotonically as compute grows. */
static size_t envelope(fpt *v, size_t n, double bins_per_decade, fpt *out)
{
    qsort(v, n, sizeof *v, cmp_lc);
    double width = log(10) / bins_per_decade, lo = v[0].lc;
    size_t m = 0, i = 0;
    double best_so_far = INFINITY;
    while (i < n) {
        long bin = (long)floor((v[i].lc - lo) / width);
        size_t arg = i;
        for (; i < n && (long)floor((v[i].lc - lo) / width) == bin; i++)
            if (v[i].ll < v[arg].ll)
                arg = i;
        if (v[arg].ll < best_so_far) {
            best_so_far = v[arg].ll;
            out[m++] = v[arg];
        }
    }
    return m;
}

static int line_fit(const double *x, const double *y, size_t n, double *k, double *m, double *r2,
                    double *rms)
{
    if (fit_ols(x, y, n, k, m) != 0)
        return -1;
    double *pred = sl_xmalloc(n * sizeof *pred);
    for (size_t i = 0; i < n; i++)
        pred[i] = *k + *m * x[i];
    fit_r2_rms(pred, y, n, r2, rms);
    free(pred);
    return 0;
}

/* Least-squares parabola y = c0 + c1 u + c2 u^2; returns -1 if singular. */
static int parabola(const double *u, const double *y, size_t n, double c[3])
{
    double S[5] = {0}, T[3] = {0};
    for (size_t i = 0; i < n; i++) {
        double p = 1;
        for (int k = 0; k < 5; k++) {
            S[k] += p;
            if (k < 3)
                T[k] += p * y[i];
            p *= u[i];
        }
    }
    /* Normal equations, 3x3, by Cramer's rule: small and well scaled (u centred). */
    double M[3][3] = {{S[0], S[1], S[2]}, {S[1], S[2], S[3]}, {S[2], S[3], S[4]}};
    double det = M[0][0] * (M[1][1] * M[2][2] - M[1][2] * M[2][1]) -
                 M[0][1] * (M[1][0] * M[2][2] - M[1][2] * M[2][0]) +
                 M[0][2] * (M[1][0] * M[2][1] - M[1][1] * M[2][0]);
    if (!(fabs(det) > 1e-12))
        return -1;
    for (int j = 0; j < 3; j++) {
        double A[3][3];
        memcpy(A, M, sizeof A);
        for (int i = 0; i < 3; i++)
            A[i][j] = T[i];
        c[j] = (A[0][0] * (A[1][1] * A[2][2] - A[1][2] * A[2][1]) -
                A[0][1] * (A[1][0] * A[2][2] - A[1][2] * A[2][0]) +
                A[0][2] * (A[1][0] * A[2][1] - A[1][1] * A[2][0])) /
               det;
    }
    return 0;
}

int sl_fit_isoflop_minimum(const double *n, const double *loss, size_t k, double *n_opt, double *l_opt)
{
    *n_opt = *l_opt = NAN;
    if (k < 3)
        return -1;
    double mn = 0;
    for (size_t q = 0; q < k; q++)
        mn += log(n[q]);
    mn /= (double)k;
    double *u = sl_xmalloc(k * sizeof *u), umin = INFINITY, umax = -INFINITY, c[3];
    for (size_t q = 0; q < k; q++) {
        u[q] = log(n[q]) - mn; /* centred: the normal equations stay well scaled */
        umin = fmin(umin, u[q]), umax = fmax(umax, u[q]);
    }
    int ok = umax > umin && parabola(u, loss, k, c) == 0 && c[2] > 0;
    free(u);
    if (!ok)
        return -1;
    double us = -c[1] / (2 * c[2]);
    if (us < umin || us > umax)
        return -1;
    *n_opt = exp(mn + us);
    *l_opt = c[0] + c[1] * us + c[2] * us * us;
    return 0;
}

/* Approach 2: budgets are runs of points whose C lie within iso_tolerance of the
 * group's first; each budget with three or more model sizes and an interior
 * minimum of its parabola gives one (C, N_opt) pair. */
static size_t iso_minima(fpt *v, size_t n, double tol, double *lc, double *ln, double *ld)
{
    qsort(v, n, sizeof *v, cmp_lc);
    double *u = sl_xmalloc(2 * n * sizeof *u), *y = u + n;
    size_t m = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        double mc = 0;
        while (j < n && v[j].lc - v[i].lc <= log(tol))
            j++;
        size_t k = j - i;
        for (size_t q = i; q < j; q++)
            mc += v[q].lc;
        mc /= (double)k;
        for (size_t q = 0; q < k; q++) {
            u[q] = exp(v[i + q].ln);
            y[q] = exp(v[i + q].ll);
        }
        double n_opt, l_opt;
        if (sl_fit_isoflop_minimum(u, y, k, &n_opt, &l_opt) == 0) {
            lc[m] = mc;
            ln[m] = log(n_opt);
            ld[m] = mc - log(6) - ln[m];
            m++;
        }
        i = j;
    }
    free(u);
    return m;
}

/* The range of ln C that at least two model sizes reached: from the
 * second-smallest first C of a size to the second-largest last C (the whole
 * range with fewer than two sizes). */
static void contested(const sl_fit_point *p, size_t n, double *lo, double *hi)
{
    double first[2] = {INFINITY, INFINITY}, last[2] = {-INFINITY, -INFINITY};
    for (size_t i = 0; i < n; i++) {
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = p[j].n == p[i].n;
        if (seen)
            continue;
        double a = INFINITY, z = -INFINITY;
        for (size_t j = i; j < n; j++)
            if (p[j].n == p[i].n) {
                a = fmin(a, log(p[j].c));
                z = fmax(z, log(p[j].c));
            }
        if (a < first[0])
            first[1] = first[0], first[0] = a;
        else if (a < first[1])
            first[1] = a;
        if (z > last[0])
            last[1] = last[0], last[0] = z;
        else if (z > last[1])
            last[1] = z;
    }
    *lo = isfinite(first[1]) ? first[1] : -INFINITY;
    *hi = isfinite(last[1]) ? last[1] : INFINITY;
}

/* L on the frontier (cmin, cfixed) rather than N_opt, D_opt (approach 1, 2) */
static int loss_law(sl_fit_law law) { return law == SL_LAW_CMIN || law == SL_LAW_CFIXED; }

static void to_fpt(const sl_fit_point *p, size_t n, fpt *v)
{
    for (size_t i = 0; i < n; i++) {
        v[i].lc = log(p[i].c);
        v[i].ln = p[i].n > 0 ? log(p[i].n) : 0;
        v[i].ld = p[i].d > 0 ? log(p[i].d) : 0;
        v[i].ll = log(p[i].loss);
        v[i].i = i;
    }
}

/* The envelope of v (the points p) into env, trimmed as o says; its size. */
static size_t frontier_of(const sl_fit_point *p, size_t n, const sl_fit_options *o, fpt *v, fpt *env)
{
    size_t nv = n;
    if (o->trim_envelope) {
        double lo, hi;
        contested(p, n, &lo, &hi);
        nv = 0;
        for (size_t i = 0; i < n; i++)
            if (v[i].lc >= lo && v[i].lc <= hi)
                v[nv++] = v[i];
    }
    return nv ? envelope(v, nv, o->bins_per_decade, env) : 0;
}

size_t fit_frontier_envelope(const sl_fit_point *p, size_t n, const sl_fit_options *o, size_t *idx)
{
    fpt *v = sl_xmalloc(2 * (n ? n : 1) * sizeof *v), *env = v + n;
    to_fpt(p, n, v);
    size_t m = frontier_of(p, n, o, v, env);
    for (size_t k = 0; k < m; k++)
        idx[k] = env[k].i;
    free(v);
    return m;
}

int fit_frontier(sl_fit_law law, const sl_fit_point *p, size_t n, const sl_fit_options *o,
                 const double *start, fit_est *e, sl_error *err)
{
    (void)start;
    const char *name = sl_fit_law_name(law);
    fpt *v = sl_xmalloc(2 * n * sizeof *v), *env = v + n;
    to_fpt(p, n, v);
    double *x = sl_xmalloc(3 * n * sizeof *x), *yn = x + n, *yd = x + 2 * n;
    size_t m;
    if (law == SL_LAW_APPROACH2) {
        m = iso_minima(v, n, o->iso_tolerance, x, yn, yd);
    } else {
        m = frontier_of(p, n, o, v, env);
        for (size_t i = 0; i < m; i++) {
            x[i] = env[i].lc;
            yn[i] = loss_law(law) ? env[i].ll : env[i].ln;
            yd[i] = env[i].ld;
        }
    }
    int rc = SL_OK;
    size_t need = law == SL_LAW_APPROACH2 ? 2 : 3;
    double k1, m1, k2 = 0, m2 = 0, r2, rms, r2d, rmsd;
    if (m < need) {
        rc = sl_fail(err, SL_EINPUT,
                     law == SL_LAW_APPROACH2
                         ? "%s: %zu compute budgets with an interior minimum (expected at least "
                           "%zu; each budget needs 3 or more model sizes around its optimum)"
                         : "%s: the compute frontier has %zu points (expected at least %zu; give "
                           "points over a wider range of compute)",
                     name, m, need);
    } else if (line_fit(x, yn, m, &k1, &m1, &r2, &rms) != 0 ||
               (!loss_law(law) && line_fit(x, yd, m, &k2, &m2, &r2d, &rmsd) != 0)) {
        rc = sl_fail(err, SL_EINPUT, "%s: the frontier points all have one compute value "
                                     "(expected at least 2)",
                     name);
    }
    free(x);
    free(v);
    if (rc != SL_OK)
        return rc;
    e->n_starts = 1;
    e->r2 = r2;
    e->rms_log = rms;
    e->objective = rms * rms * (double)m;
    if (loss_law(law)) {
        /* ln L = alpha_C ln C_c - alpha_C ln C_min */
        e->theta[0] = m1, e->theta[1] = k1;
        e->value[0] = -m1;
        e->value[1] = exp(k1 / -m1);
    } else {
        e->theta[0] = m1, e->theta[1] = k1, e->theta[2] = m2, e->theta[3] = k2;
        e->value[0] = m1;
        e->value[1] = exp(k1);
        e->value[2] = m2;
        e->value[3] = exp(k2);
    }
    e->converged = 1;
    for (int j = 0; j < (loss_law(law) ? 2 : 4); j++)
        e->converged &= isfinite(e->value[j]);
    snprintf(e->reason, sizeof e->reason, "least squares on %zu %s from %zu points", m,
             law == SL_LAW_APPROACH2 ? "IsoFLOP minima" : "frontier points", n);
    if (!e->converged)
        snprintf(e->reason, sizeof e->reason, "the frontier fit gave non-finite parameters");
    return SL_OK;
}
