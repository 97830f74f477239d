/* fit_steps: the consistency check of Kaplan eq 1.8 from fitted L(N, S_min) and
 * B_crit(L) laws, with its interval from paired bootstrap draws. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scalelab/fit.h"

static double logspace(double lo, double hi, int i, int n)
{
    return lo * pow(hi / lo, (double)i / (n - 1));
}

Test(fit_steps, alpha_cmin_is_predicted_from_the_ns_and_bcrit_fits)
{
    double v, lo, hi;
    sl_error err = {{0}};
    /* published: 1/(1/0.76 + 1/0.21 + 1/0.076) */
    cr_assert_eq(sl_fit_alpha_cmin_predicted(NULL, NULL, &v, &lo, &hi, &err), SL_OK);
    cr_assert_float_eq(v, 1 / (1 / 0.76 + 1 / 0.21 + 1 / 0.076), 1e-12);
    cr_assert(isnan(lo) && isnan(hi), "no interval for published values");

    /* L(N, S) with alpha_N = 0.08, alpha_S = 0.7 and B_crit(L) with alpha_B = 0.25 */
    sl_fit_point p[48], q[25];
    sl_rng rng;
    sl_rng_seed(&rng, 9);
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 8; j++) {
            sl_fit_point *x = &p[8 * i + j];
            memset(x, 0, sizeof *x);
            x->n = logspace(1e5, 1e9, i, 6);
            x->s = logspace(1e3, 1e5, j, 8);
            x->loss = (pow(1e13 / x->n, 0.08) + pow(2e3 / x->s, 0.7)) *
                      exp(0.003 * sl_rng_normal(&rng));
            x->run = i;
        }
    for (int i = 0; i < 25; i++) {
        double L = 2 + 4.0 * i / 24;
        q[i] = (sl_fit_point){.loss = L, .bcrit = 1e6 / pow(L, 1 / 0.25) *
                                                  exp(0.05 * sl_rng_normal(&rng)),
                              .run = -1};
    }
    sl_fit_options o;
    sl_fit_options_default(&o);
    o.bootstrap = 40;
    o.seed = 4;
    sl_fit_result ns, bc;
    cr_assert_eq(sl_fit(SL_LAW_KAPLAN_NS, p, 48, &o, &ns, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_fit(SL_LAW_BCRIT, q, 25, &o, &bc, &err), SL_OK, "%s", err.msg);
    cr_assert(ns.converged && bc.converged);
    cr_assert_eq(sl_fit_alpha_cmin_predicted(&ns, &bc, &v, &lo, &hi, &err), SL_OK, "%s", err.msg);
    cr_assert_float_eq(v, 1 / (1 / ns.value[2] + 1 / bc.value[1] + 1 / ns.value[0]), 1e-12);
    double truth = 1 / (1 / 0.7 + 1 / 0.25 + 1 / 0.08);
    cr_assert(fabs(v - truth) < 0.003, "alpha_C^min %g, expected %g", v, truth);
    cr_assert(lo < v && v < hi, "%g outside [%g, %g]", v, lo, hi);
    /* a fit of another law is refused */
    cr_assert_eq(sl_fit_alpha_cmin_predicted(&bc, &bc, &v, &lo, &hi, &err), SL_EINPUT);
    cr_assert(strstr(err.msg, "kaplan-ns"), "%s", err.msg);
    sl_fit_result_free(&ns);
    sl_fit_result_free(&bc);
}

Test(fit_steps, stop_bound_is_eq_5_7_in_steps_of_the_runs_batch)
{
    double v, lo, hi;
    sl_error err = {{0}};
    /* published laws, no B_crit: S_min itself, as sl_fit_stop_steps */
    cr_assert_eq(sl_fit_stop_bound(NULL, NULL, NULL, 1e9, 1e10, 0, &v, &lo, &hi, &err), SL_OK);
    cr_assert_float_eq(v, sl_fit_stop_steps(NULL, NULL, 1e9, 1e10), 1e-9 * v);
    /* by hand: L(N,D) = ((N_c/N)^(aN/aD) + D_c/D)^aD, L(N,inf) = (N_c/N)^aN,
     * S_min = S_c/(L - L_inf)^(1/alpha_S) */
    double l = pow(pow(6.4e13 / 1e9, 0.076 / 0.103) + 1.8e13 / 1e10, 0.103);
    double smin = 2.1e3 / pow(l - pow(6.4e13 / 1e9, 0.076), 1 / 0.76);
    cr_assert_float_eq(v, smin, 1e-9 * smin);
    /* with a fitted B_crit(L): S = S_min (1 + B_crit(L)/B) */
    sl_fit_point q[25];
    sl_rng rng;
    sl_rng_seed(&rng, 11);
    for (int i = 0; i < 25; i++) {
        double L = 2 + 4.0 * i / 24;
        q[i] = (sl_fit_point){.loss = L, .bcrit = 2e8 / pow(L, 1 / 0.21) *
                                                  exp(0.05 * sl_rng_normal(&rng)),
                              .run = -1};
    }
    sl_fit_options o;
    sl_fit_options_default(&o);
    o.bootstrap = 40;
    sl_fit_result bc;
    cr_assert_eq(sl_fit(SL_LAW_BCRIT, q, 25, &o, &bc, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_fit_stop_bound(NULL, NULL, &bc, 1e9, 1e10, 1e6, &v, &lo, &hi, &err), SL_OK,
                 "%s", err.msg);
    double want = smin * (1 + bc.value[0] / pow(l, 1 / bc.value[1]) / 1e6);
    cr_assert_float_eq(v, want, 1e-9 * want);
    cr_assert(lo < v && v < hi, "%g outside [%g, %g]", v, lo, hi);
    /* a B_crit without a batch size is refused */
    cr_assert_eq(sl_fit_stop_bound(NULL, NULL, &bc, 1e9, 1e10, 0, &v, &lo, &hi, &err), SL_EINPUT);
    sl_fit_result_free(&bc);
}
