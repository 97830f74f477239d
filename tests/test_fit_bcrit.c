/* fit_bcrit: the critical batch size measured from a batch scan (Kaplan eq 5.1):
 * the hyperbola recovers S_min and B_crit, and the scan law recovers B_star and
 * alpha_B from learning curves made to obey the relation. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scalelab/fit.h"

#define assert_near(got, want, tol, what)                                                       \
    cr_assert(fabs((got) - (want)) <= (tol), "%s = %g, expected %g +- %g", what, (double)(got), \
              (double)(want), (double)(tol))
#define assert_factor(got, want, f, what)                                                       \
    cr_assert((got) <= (want) * (f) && (got) >= (want) / (f), "%s = %g, expected %g within x%g", \
              what, (double)(got), (double)(want), (double)(f))

Test(fit_bcrit, steps_to_loss_interpolates_in_log_steps_on_the_running_minimum)
{
    double s[] = {10, 100, 1000, 10000};
    double l[] = {5, 4, 4.5, 2};
    /* 4.5 is passed at step 100 exactly (the running minimum there is 4) */
    assert_near(sl_fit_steps_to_loss(s, l, 4, 5), 10, 1e-12, "S(5)");
    /* halfway between 5 and 4: halfway in ln S between 10 and 100 */
    assert_near(sl_fit_steps_to_loss(s, l, 4, 4.5), sqrt(10.0 * 100), 1e-9, "S(4.5)");
    /* the bump at step 1000 does not count: the curve is at its minimum 4 there
     * and crosses 3 halfway (in ln S) to 2 at step 10000 */
    assert_near(sl_fit_steps_to_loss(s, l, 4, 3), sqrt(1000.0 * 10000), 1e-6, "S(3)");
    cr_assert(isnan(sl_fit_steps_to_loss(s, l, 4, 1.5)), "a loss never reached has no S");
}

Test(fit_bcrit, hyperbola_recovers_smin_and_bcrit_and_satisfies_eq_5_1)
{
    const double smin = 1234, bc = 3000;
    double b[7], s[7];
    for (int i = 0; i < 7; i++) {
        b[i] = 250 * pow(2, i);
        s[i] = smin * (1 + bc / b[i]);
    }
    sl_bcrit_target t;
    sl_error err = {{0}};
    cr_assert_eq(sl_fit_bcrit_hyperbola(b, s, 7, &t, &err), SL_OK, "%s", err.msg);
    cr_assert(t.converged, "%s", t.reason);
    assert_near(t.bcrit / bc, 1, 1e-6, "B_crit");
    assert_near(t.s_min / smin, 1, 1e-6, "S_min");
    assert_near(t.e_min / (smin * bc), 1, 1e-6, "E_min");
    for (int i = 0; i < 7; i++) {
        double e = b[i] * s[i];
        assert_near((s[i] / t.s_min - 1) * (e / t.e_min - 1), 1, 1e-5, "(S/S_min-1)(E/E_min-1)");
    }
    /* all batch sizes far below B_crit: S ~ 1/B, B_crit is not bracketed */
    for (int i = 0; i < 7; i++)
        s[i] = smin * (1 + 1e9 / b[i]);
    cr_assert_eq(sl_fit_bcrit_hyperbola(b, s, 7, &t, &err), SL_OK);
    cr_assert(!t.converged, "an unbracketed B_crit must not count as measured");
    cr_assert(strstr(t.reason, "bracket"), "%s", t.reason);
    /* too few pairs */
    cr_assert_eq(sl_fit_bcrit_hyperbola(b, s, 2, &t, &err), SL_EINPUT);
}

/* The loss of a run with batch size B after s steps, where the steps to reach L
 * obey S(L) = S_min(L) (1 + B_crit(L)/B) with S_min(L) = 100 (L/4)^-8 and
 * B_crit(L) = B_star / L^(1/alpha_B): bisection on L. */
static double scan_loss(double s, double B, double bstar, double ab)
{
    double lo = 1.0, hi = 8.0;
    for (int it = 0; it < 200; it++) {
        double L = 0.5 * (lo + hi);
        double need = 100 * pow(L / 4, -8) * (1 + bstar / pow(L, 1 / ab) / B);
        if (need > s)
            lo = L; /* that loss needs more steps than s: not reached yet */
        else
            hi = L;
    }
    return 0.5 * (lo + hi);
}

static size_t scan_points(sl_fit_point *p, double bstar, double ab, double sigma, uint64_t seed)
{
    sl_rng rng;
    sl_rng_seed(&rng, seed);
    size_t n = 0;
    for (int i = 0; i < 9; i++) {
        double B = 64 * pow(2, i);
        for (int j = 0; j < 60; j++) {
            double s = 10 * pow(2e5 / 10, j / 59.0);
            double L = scan_loss(s, B, bstar, ab) * exp(sigma * sl_rng_normal(&rng));
            p[n++] = (sl_fit_point){.s = s, .b = B, .loss = L, .run = i};
        }
    }
    return n;
}

Test(fit_bcrit, scan_recovers_bstar_and_alpha_b_from_learning_curves)
{
    const double bstar = 2e5, ab = 0.21;
    sl_fit_point p[9 * 60];
    size_t n = scan_points(p, bstar, ab, 0, 1);
    sl_bcrit_target t[8];
    int nt;
    sl_error err = {{0}};
    cr_assert_eq(sl_fit_bcrit_targets(p, n, 8, t, &nt, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(nt, 8);
    for (int k = 0; k < nt; k++) {
        cr_assert(t[k].converged, "target %g: %s", t[k].loss, t[k].reason);
        /* noiseless curves: only the interpolation between evaluations errs */
        assert_factor(t[k].bcrit, bstar / pow(t[k].loss, 1 / ab), 1.05, "B_crit(target)");
        assert_factor(t[k].s_min, 100 * pow(t[k].loss / 4, -8), 1.05, "S_min(target)");
        cr_assert(k == 0 || t[k].loss < t[k - 1].loss, "targets descend");
    }
    /* with 0.3% loss noise, through the law and its bootstrap over runs */
    n = scan_points(p, bstar, ab, 0.003, 2);
    sl_fit_options o;
    sl_fit_options_default(&o);
    o.bootstrap = 40;
    o.seed = 3;
    sl_fit_result r;
    cr_assert_eq(sl_fit(SL_LAW_BCRIT_SCAN, p, n, &o, &r, &err), SL_OK, "%s", err.msg);
    cr_assert(r.converged, "%s", r.reason);
    assert_near(r.value[1], ab, 0.01, "alpha_B");
    assert_factor(r.value[0], bstar, 1.3, "B_star");
    cr_assert(r.n_boot_ok >= 30, "%d of 40 resamples converged", r.n_boot_ok);
    cr_assert(r.ci_low[1] <= ab && ab <= r.ci_high[1], "alpha_B = %g outside its interval [%g, %g]",
              ab, r.ci_low[1], r.ci_high[1]);
    sl_fit_point x = {.loss = 3};
    double v, lo, hi;
    sl_fit_predict(&r, SL_FIT_Q_BCRIT, &x, &v, &lo, &hi);
    assert_factor(v, bstar / pow(3, 1 / ab), 1.15, "B_crit(3)");
    sl_fit_result_free(&r);
}

Test(fit_bcrit, scan_refuses_points_without_runs_and_mixed_batches)
{
    sl_fit_point p[9 * 60];
    size_t n = scan_points(p, 2e5, 0.21, 0, 1);
    sl_bcrit_target t[8];
    int nt;
    sl_error err = {{0}};
    p[5].run = -1;
    cr_assert_eq(sl_fit_bcrit_targets(p, n, 8, t, &nt, &err), SL_EINPUT);
    cr_assert(strstr(err.msg, "no run"), "%s", err.msg);
    p[5].run = 0;
    p[7].b = 99;
    cr_assert_eq(sl_fit_bcrit_targets(p, n, 8, t, &nt, &err), SL_EINPUT);
    cr_assert(strstr(err.msg, "one batch size per run"), "%s", err.msg);
    /* two curves are not a scan */
    p[7].b = 64;
    cr_assert_eq(sl_fit_bcrit_targets(p, 120, 8, t, &nt, &err), SL_EINPUT);
    cr_assert(strstr(err.msg, "at least 3"), "%s", err.msg);
}

Test(fit_bcrit, scan_takes_the_best_tuned_run_of_each_batch_size)
{
    /* each batch size trained at two learning rates, the second needing 1.7x the
     * steps to every loss: the measured B_crit is that of the faster runs */
    static sl_fit_point p[2 * 9 * 60];
    size_t n = scan_points(p, 2e5, 0.21, 0, 1);
    for (size_t i = 0; i < n; i++) {
        p[n + i] = p[i];
        p[n + i].run += 100;
        p[n + i].loss = scan_loss(p[i].s / 1.7, p[i].b, 2e5, 0.21);
    }
    sl_bcrit_target one[8], two[8];
    int n1, n2;
    sl_error err = {{0}};
    cr_assert_eq(sl_fit_bcrit_targets(p, n, 8, one, &n1, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_fit_bcrit_targets(p, 2 * n, 8, two, &n2, &err), SL_OK, "%s", err.msg);
    for (int k = 0; k < n1; k++) {
        cr_assert(one[k].converged && two[k].converged);
        /* 18 runs, 9 batch sizes: one point per batch size */
        cr_assert(two[k].n_runs >= 3 && two[k].n_runs <= 9, "target %d: %d batch sizes", k,
                  two[k].n_runs);
        /* the targets themselves move a little (the slow runs start higher) */
        assert_factor(two[k].bcrit, 2e5 / pow(two[k].loss, 1 / 0.21), 1.05, "B_crit");
    }
}
