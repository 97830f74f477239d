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


/* ---- how the frontier spends compute (Kaplan Table 6, Fig. 3) ------------------------------ */

static const char *const alloc_names[SL_ALLOC_COUNT] = {"N", "B_crit", "S_min", "D"};
static const double alloc_published[SL_ALLOC_COUNT] = {0.73, 0.24, 0.03, 0.27};

const char *sl_fit_allocation_name(int which)
{
    return which >= 0 && which < SL_ALLOC_COUNT ? alloc_names[which] : "?";
}

double sl_fit_allocation_published(int which)
{
    return which >= 0 && which < SL_ALLOC_COUNT ? alloc_published[which] : NAN;
}

/* The four lines ln X = ln X_e + p ln C_min through the frontier points f;
 * -1 when C_min has no spread or a value is not positive. */
static int alloc_lines(const sl_fit_point *f, size_t m, double p[SL_ALLOC_COUNT],
                       double scale[SL_ALLOC_COUNT], double r2[SL_ALLOC_COUNT])
{
    double *x = sl_xmalloc(2 * m * sizeof *x), *y = x + m;
    int rc = 0;
    for (size_t i = 0; i < m; i++)
        x[i] = log(f[i].c);
    for (int w = 0; w < SL_ALLOC_COUNT && rc == 0; w++) {
        for (size_t i = 0; i < m && rc == 0; i++) {
            double v = w == SL_ALLOC_N ? f[i].n : w == SL_ALLOC_B ? f[i].bcrit : w == SL_ALLOC_S ? f[i].s : f[i].d;
            if (!(v > 0) || !isfinite(v))
                rc = -1;
            else
                y[i] = log(v);
        }
        double k, slope;
        if (rc == 0 && fit_ols(x, y, m, &k, &slope) != 0)
            rc = -1;
        if (rc != 0)
            break;
        p[w] = slope;
        scale[w] = exp(k);
        if (r2) {
            double my = 0, ss = 0, sr = 0;
            for (size_t i = 0; i < m; i++)
                my += y[i] / (double)m;
            for (size_t i = 0; i < m; i++) {
                double e = y[i] - (k + slope * x[i]);
                ss += (y[i] - my) * (y[i] - my);
                sr += e * e;
            }
            r2[w] = ss > 0 ? 1 - sr / ss : NAN;
        }
    }
    free(x);
    return rc;
}

int sl_fit_allocation_of(const sl_fit_point *p, size_t n, const sl_fit_options *opt,
                         sl_fit_allocation *a, sl_error *err)
{
    sl_fit_options o;
    if (opt)
        o = *opt;
    else
        sl_fit_options_default(&o);
    if (!(o.level > 0 && o.level < 1))
        o.level = 0.95;
    memset(a, 0, sizeof *a);
    for (int w = 0; w < SL_ALLOC_COUNT; w++)
        a->p[w] = a->scale[w] = a->lo[w] = a->hi[w] = a->r2[w] = NAN;
    a->level = o.level;
    int has_bcrit = o.bcrit_const > 0 || o.bcrit_star > 0;
    for (size_t i = 0; i < n && !has_bcrit; i++)
        has_bcrit = p[i].bcrit > 0;
    if (!has_bcrit)
        return sl_fail(err, SL_EINPUT,
                       "allocation: no B_crit (expected B_crit(L) from a batch scan, or a bcrit "
                       "field on the points)");
    sl_fit_point *f = sl_xmalloc((n ? n : 1) * sizeof *f);
    size_t m = 0;
    int rc = sl_fit_frontier(p, n, &o, f, &m, err);
    if (rc == SL_OK && m < 3)
        rc = sl_fail(err, SL_EINPUT,
                     "allocation: the compute frontier has %zu points (expected at least 3; give "
                     "learning curves over a wider range of compute)",
                     m);
    if (rc == SL_OK && alloc_lines(f, m, a->p, a->scale, a->r2) != 0)
        rc = sl_fail(err, SL_EINPUT,
                     "allocation: the frontier points have one C_min or a value that is not "
                     "positive (expected at least 2 distinct C_min)");
    free(f);
    if (rc != SL_OK)
        return rc;
    a->n_points = m;
    a->n_boot = o.bootstrap;
    if (o.bootstrap <= 0)
        return SL_OK;
    /* whole runs resampled, the frontier taken again from each resample */
    fit_groups g;
    fit_groups_init(&g, p, n);
    sl_fit_point *buf = sl_xmalloc(g.n_groups * g.max_group * sizeof *buf);
    sl_fit_point *fb = sl_xmalloc(g.n_groups * g.max_group * sizeof *fb);
    double *draw = sl_xmalloc((size_t)o.bootstrap * SL_ALLOC_COUNT * sizeof *draw);
    sl_rng rng;
    sl_rng_seed(&rng, o.seed);
    sl_fit_options ob = o;
    ob.bootstrap = 0;
    for (int k = 0; k < o.bootstrap && !fit_cancelled(&o); k++) {
        size_t mb = fit_groups_draw(&g, &rng, buf), fm = 0;
        double pb[SL_ALLOC_COUNT], sb[SL_ALLOC_COUNT];
        sl_error ignore;
        if (sl_fit_frontier(buf, mb, &ob, fb, &fm, &ignore) != SL_OK || fm < 3 ||
            alloc_lines(fb, fm, pb, sb, NULL) != 0)
            continue;
        memcpy(draw + (size_t)a->n_boot_ok * SL_ALLOC_COUNT, pb, sizeof pb);
        a->n_boot_ok++;
    }
    double *col = sl_xmalloc(((size_t)a->n_boot_ok + 1) * sizeof *col), tail = (1 - o.level) / 2;
    for (int w = 0; w < SL_ALLOC_COUNT && a->n_boot_ok >= 2; w++) {
        for (int k = 0; k < a->n_boot_ok; k++)
            col[k] = draw[(size_t)k * SL_ALLOC_COUNT + w];
        qsort(col, (size_t)a->n_boot_ok, sizeof *col, fit_cmp_double);
        a->lo[w] = fit_percentile(col, (size_t)a->n_boot_ok, tail);
        a->hi[w] = fit_percentile(col, (size_t)a->n_boot_ok, 1 - tail);
    }
    free(col);
    free(draw);
    free(fb);
    free(buf);
    fit_groups_free(&g);
    return SL_OK;
}

/* ---- the data wall (Kaplan section 6.3, Fig. 15) ------------------------------------------- */

/* alpha_D and D_c of L(D) from the parameters v of an L(D) fit of law */
static int ld_values(sl_fit_law law, const double *v, double *alpha, double *dc)
{
    if (law == SL_LAW_KAPLAN_ND)
        *alpha = v[1], *dc = v[3];
    else if (law == SL_LAW_POWER_D)
        *alpha = v[0], *dc = v[1];
    else
        return -1;
    return *alpha > 0 && *dc > 0 ? 0 : -1;
}

static int ld_params(const sl_fit_result *ld, double *alpha, double *dc)
{
    if (!ld || !ld->converged)
        return -1;
    return ld_values(ld->law, ld->value, alpha, dc);
}

double sl_fit_loss_of_data(const sl_fit_result *ld, double d)
{
    double alpha, dc;
    if (ld_params(ld, &alpha, &dc) != 0 || !(d > 0))
        return NAN;
    return pow(dc / d, alpha);
}

/* ln C* where alpha_C (ln C_c - x) = alpha_D (ln(D_c/D_e) - p_D x); NaN when parallel */
static double wall_x(double ac, double cc, double ad, double dc, double d_e, double p_d)
{
    double den = ad * p_d - ac;
    if (!(fabs(den) > 1e-12))
        return NAN;
    return (ad * log(dc / d_e) - ac * log(cc)) / den;
}

int sl_fit_data_wall(const sl_fit_result *cmin, const sl_fit_result *ld, double d_e, double p_d,
                     double *c_star, double *l_star, double *c_lo, double *c_hi, sl_error *err)
{
    *c_star = *l_star = NAN;
    if (c_lo)
        *c_lo = NAN;
    if (c_hi)
        *c_hi = NAN;
    double ad, dc;
    if (!cmin || cmin->law != SL_LAW_CMIN || !cmin->converged)
        return sl_fail(err, SL_EINPUT, "data wall: no converged cmin fit (expected L(C_min))");
    if (ld_params(ld, &ad, &dc) != 0)
        return sl_fail(err, SL_EINPUT,
                       "data wall: no converged L(D) fit (expected kaplan-nd or power-d)");
    if (!(d_e > 0) || !isfinite(p_d))
        return sl_fail(err, SL_EINPUT, "data wall: D(C_min) = %g C_min^%g (expected D_e > 0)", d_e, p_d);
    double ac = cmin->value[0], cc = cmin->value[1];
    double x = wall_x(ac, cc, ad, dc, d_e, p_d);
    if (!isfinite(x))
        return sl_fail(err, SL_EINPUT,
                       "data wall: L(C_min) and L(D(C_min)) are parallel (alpha_C %g = alpha_D "
                       "p_D %g)",
                       ac, ad * p_d);
    *c_star = exp(x);
    *l_star = pow(cc / *c_star, ac);
    int k = cmin->n_boot_ok < ld->n_boot_ok ? cmin->n_boot_ok : ld->n_boot_ok;
    if (!c_lo || !c_hi || k < 2 || !cmin->boot || !ld->boot)
        return SL_OK;
    double *draw = sl_xmalloc((size_t)k * sizeof *draw);
    size_t m = 0;
    for (int j = 0; j < k; j++) {
        const double *vc = cmin->boot + (size_t)j * cmin->n_params, *vd = ld->boot + (size_t)j * ld->n_params;
        double a, d;
        if (ld_values(ld->law, vd, &a, &d) != 0)
            continue;
        double xj = wall_x(vc[0], vc[1], a, d, d_e, p_d);
        if (isfinite(xj))
            draw[m++] = xj;
    }
    if (m >= 2) {
        qsort(draw, m, sizeof *draw, fit_cmp_double);
        double tail = (1 - (cmin->level > 0 ? cmin->level : 0.95)) / 2;
        *c_lo = exp(fit_percentile(draw, m, tail));
        *c_hi = exp(fit_percentile(draw, m, 1 - tail));
    }
    free(draw);
    return SL_OK;
}
