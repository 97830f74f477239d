/* fit_steps: what Kaplan et al. 2020 derive from the steps-side laws: the
 * compute-efficient exponent predicted from L(N, S_min) and B_crit(L)
 * (eq 1.8 / 6.4), and the early-stopping bound of eq 5.7 against the steps at
 * which runs stopped. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fit_internal.h"

/* Kaplan's published exponents: alpha_N, alpha_S of L(N, S_min), alpha_B. */
#define PUB_ALPHA_N 0.076
#define PUB_ALPHA_S 0.76
#define PUB_ALPHA_B 0.21

static double alpha_cmin(double an, double as, double ab) { return 1 / (1 / as + 1 / ab + 1 / an); }

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int is_bcrit_law(sl_fit_law l) { return l == SL_LAW_BCRIT || l == SL_LAW_BCRIT_SCAN; }

int sl_fit_alpha_cmin_predicted(const sl_fit_result *ns, const sl_fit_result *bc, double *value,
                                double *lo, double *hi, sl_error *err)
{
    *value = *lo = *hi = NAN;
    if (ns && (ns->law != SL_LAW_KAPLAN_NS || !ns->converged))
        return sl_fail(err, SL_EINPUT,
                       "alpha_C^min: the L(N,S) fit is %s (expected a converged kaplan-ns fit)",
                       ns->law != SL_LAW_KAPLAN_NS ? sl_fit_law_name(ns->law) : "not converged");
    if (bc && (!is_bcrit_law(bc->law) || !bc->converged))
        return sl_fail(err, SL_EINPUT,
                       "alpha_C^min: the B_crit(L) fit is %s (expected a converged bcrit or "
                       "bcrit-scan fit)",
                       !is_bcrit_law(bc->law) ? sl_fit_law_name(bc->law) : "not converged");
    double an = ns ? ns->value[0] : PUB_ALPHA_N, as = ns ? ns->value[2] : PUB_ALPHA_S;
    double ab = bc ? bc->value[1] : PUB_ALPHA_B;
    *value = alpha_cmin(an, as, ab);
    /* the interval pairs the k-th draws of both fits (a published side has none) */
    int m_ns = ns ? ns->n_boot_ok : 0, m_bc = bc ? bc->n_boot_ok : 0;
    int m = ns && bc ? (m_ns < m_bc ? m_ns : m_bc) : ns ? m_ns : m_bc;
    if ((!ns && !bc) || m < 2)
        return SL_OK;
    double *draw = sl_xmalloc((size_t)m * sizeof *draw);
    int k_ok = 0;
    for (int k = 0; k < m; k++) {
        double a1 = ns ? ns->boot[(size_t)k * ns->n_params] : an;
        double a2 = ns ? ns->boot[(size_t)k * ns->n_params + 2] : as;
        double a3 = bc ? bc->boot[(size_t)k * bc->n_params + 1] : ab;
        double v = alpha_cmin(a1, a2, a3);
        if (isfinite(v))
            draw[k_ok++] = v;
    }
    if (k_ok >= 2) {
        qsort(draw, (size_t)k_ok, sizeof *draw, cmp_double);
        double level = ns ? ns->level : bc->level;
        double tail = (1 - (level > 0 ? level : 0.95)) / 2;
        double h = tail * (k_ok - 1), g = (1 - tail) * (k_ok - 1);
        size_t a = (size_t)floor(h), b = (size_t)floor(g);
        *lo = draw[a] + (h - (double)a) * (draw[a + 1 < (size_t)k_ok ? a + 1 : a] - draw[a]);
        *hi = draw[b] + (g - (double)b) * (draw[b + 1 < (size_t)k_ok ? b + 1 : b] - draw[b]);
    }
    free(draw);
    return SL_OK;
}

/* Kaplan's published L(N, D) and L(N, S_min) fits (as fit.c's defaults). */
static const double pub_nd[4] = {0.076, 0.103, 6.4e13, 1.8e13};
static const double pub_ns[4] = {0.077, 6.5e13, 0.76, 2.1e3};

/* One draw of the bound: nd = (alpha_N, alpha_D, N_c, D_c), ns = (alpha_N, N_c,
 * alpha_S, S_c), bc = (B_star, alpha_B) or NULL. */
static double stop_bound(const double *nd, const double *ns, const double *bc, double n, double d,
                         double b)
{
    sl_fit_point x = {.n = n, .d = d};
    double l_nd = fit_eval(SL_LAW_KAPLAN_ND, nd, SL_FIT_Q_LOSS, &x);
    double l_inf = pow(nd[2] / n, nd[0]);
    double s_min = ns[3] / pow(l_nd - l_inf, 1 / ns[2]);
    if (!bc)
        return s_min;
    double bcrit = bc[0] / pow(l_nd, 1 / bc[1]);
    return s_min * (1 + bcrit / b);
}

int sl_fit_stop_bound(const sl_fit_result *nd, const sl_fit_result *ns, const sl_fit_result *bc,
                      double n, double d, double b, double *value, double *lo, double *hi,
                      sl_error *err)
{
    *value = *lo = *hi = NAN;
    if (nd && (nd->law != SL_LAW_KAPLAN_ND || !nd->converged))
        return sl_fail(err, SL_EINPUT, "S_stop: expected a converged kaplan-nd fit (got %s)",
                       sl_fit_law_name(nd->law));
    if (ns && (ns->law != SL_LAW_KAPLAN_NS || !ns->converged))
        return sl_fail(err, SL_EINPUT, "S_stop: expected a converged kaplan-ns fit (got %s)",
                       sl_fit_law_name(ns->law));
    if (bc && (!is_bcrit_law(bc->law) || !bc->converged))
        return sl_fail(err, SL_EINPUT,
                       "S_stop: expected a converged bcrit or bcrit-scan fit (got %s)",
                       sl_fit_law_name(bc->law));
    if (!(n > 0) || !(d > 0) || (bc && !(b > 0)))
        return sl_fail(err, SL_EINPUT,
                       "S_stop: N = %g, D = %g, B = %g (expected positive numbers)", n, d, b);
    const double *vnd = nd ? nd->value : pub_nd, *vns = ns ? ns->value : pub_ns;
    *value = stop_bound(vnd, vns, bc ? bc->value : NULL, n, d, b);
    int m = 1 << 30;
    if (nd)
        m = nd->n_boot_ok < m ? nd->n_boot_ok : m;
    if (ns)
        m = ns->n_boot_ok < m ? ns->n_boot_ok : m;
    if (bc)
        m = bc->n_boot_ok < m ? bc->n_boot_ok : m;
    if ((!nd && !ns && !bc) || m < 2)
        return SL_OK;
    double *draw = sl_xmalloc((size_t)m * sizeof *draw);
    int k_ok = 0;
    for (int k = 0; k < m; k++) {
        double v = stop_bound(nd ? nd->boot + (size_t)k * 4 : vnd, ns ? ns->boot + (size_t)k * 4 : vns,
                              bc ? bc->boot + (size_t)k * 2 : NULL, n, d, b);
        if (isfinite(v))
            draw[k_ok++] = v;
    }
    if (k_ok >= 2) {
        qsort(draw, (size_t)k_ok, sizeof *draw, cmp_double);
        double level = nd ? nd->level : ns ? ns->level : bc->level;
        double tail = (1 - (level > 0 ? level : 0.95)) / 2;
        double h = tail * (k_ok - 1), g = (1 - tail) * (k_ok - 1);
        size_t a = (size_t)floor(h), z = (size_t)floor(g);
        *lo = draw[a] + (h - (double)a) * (draw[a + 1 < (size_t)k_ok ? a + 1 : a] - draw[a]);
        *hi = draw[z] + (g - (double)z) * (draw[z + 1 < (size_t)k_ok ? z + 1 : z] - draw[z]);
    }
    free(draw);
    return SL_OK;
}
