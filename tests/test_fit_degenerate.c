/* The fitter on degenerate and large tables: constant losses are no power law
 * (above 1 as below), progress and --starts for long fits, and plans that
 * extrapolate past the data say how far. */
#include <math.h>

#include "scalelab/fit.h"
#include "sweeputil.h"

TestSuite(fit_degenerate, .init = tu_make_dir, .fini = tu_remove_dir);

static char out_text[65536], err_text[8192];

static int run(const char *const *args)
{
    return tu_run(out_text, sizeof out_text, err_text, sizeof err_text, 0, args);
}

static void constant_losses_are_not_a_power_law(double loss)
{
    sl_fit_point p[5];
    memset(p, 0, sizeof p);
    for (int i = 0; i < 5; i++)
        p[i].n = 1e4 * pow(10, i), p[i].loss = loss, p[i].run = -1;
    sl_fit_result r;
    sl_error err;
    cr_assert_eq(sl_fit(SL_LAW_POWER_N, p, 5, NULL, &r, &err), SL_OK, "%s", err.msg);
    cr_assert_not(r.converged, "loss %g: converged with alpha %g, N_c %g", loss, r.value[0],
                  r.value[1]);
    cr_assert_not_null(strstr(r.reason, "slope is zero"), "%s", r.reason);
    sl_fit_result_free(&r);
    char path[512], text[512];
    tu_path(path, sizeof path, "flat.csv");
    size_t k = (size_t)snprintf(text, sizeof text, "n,loss\n");
    for (int i = 0; i < 5; i++)
        k += (size_t)snprintf(text + k, sizeof text - k, "%g,%g\n", p[i].n, loss);
    tu_write(path, text, k);
    const char *args[] = {"fit", path, "--law", "power-n", NULL};
    cr_assert_eq(run(args), 1, "loss %g: exit status; stdout: %s", loss, out_text);
    cr_assert_not_null(strstr(err_text, "did not converge: the slope is zero"), "%s", err_text);
    cr_assert_str_eq(out_text, "");
}

Test(fit_degenerate, constant_losses_above_one_do_not_converge_to_n_c_zero)
{
    constant_losses_are_not_a_power_law(3.2);
}

Test(fit_degenerate, constant_losses_below_one_do_not_converge)
{
    constant_losses_are_not_a_power_law(0.8);
}

Test(fit_degenerate, a_power_law_with_a_gentle_slope_still_converges)
{
    sl_fit_point p[5];
    memset(p, 0, sizeof p);
    for (int i = 0; i < 5; i++)
        p[i].n = 1e4 * pow(10, i), p[i].loss = pow(8.8e13 / p[i].n, 0.001), p[i].run = -1;
    sl_fit_result r;
    sl_error err;
    cr_assert_eq(sl_fit(SL_LAW_POWER_N, p, 5, NULL, &r, &err), SL_OK, "%s", err.msg);
    cr_assert(r.converged, "%s", r.reason);
    cr_assert_float_eq(r.value[0], 0.001, 1e-9);
    cr_assert_float_eq(r.value[1] / 8.8e13, 1, 1e-6);
    sl_fit_result_free(&r);
}

typedef struct {
    size_t calls[2], last_done[2], last_total[2];
    int backwards;
} progress_log;

static void log_progress(void *user, const char *stage, size_t done, size_t total)
{
    progress_log *l = user;
    int s = !strcmp(stage, "bootstrap");
    cr_assert(s || !strcmp(stage, "starts"), "stage %s", stage);
    if (l->calls[s] && done < l->last_done[s])
        l->backwards = 1;
    l->calls[s]++;
    l->last_done[s] = done;
    l->last_total[s] = total;
}

static void chinchilla_points(sl_fit_point *p, int *n)
{
    *n = 0;
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++) {
            sl_fit_point *q = &p[(*n)++];
            memset(q, 0, sizeof *q);
            q->n = 1e6 * pow(10, 0.6 * i);
            q->d = 1e8 * pow(10, 0.6 * j);
            q->loss = 1.69 + 406.4 / pow(q->n, 0.34) + 410.7 / pow(q->d, 0.28);
            q->run = -1;
        }
}

Test(fit_degenerate, starts_thins_the_chinchilla_grid_and_progress_counts_to_the_end)
{
    sl_fit_point p[25];
    int n;
    chinchilla_points(p, &n);
    sl_fit_options o;
    sl_fit_options_default(&o);
    o.starts = 30;
    o.bootstrap = 5;
    o.seed = 1;
    progress_log l = {0};
    o.progress = log_progress;
    o.progress_user = &l;
    sl_fit_result r;
    sl_error err;
    cr_assert_eq(sl_fit(SL_LAW_CHINCHILLA, p, (size_t)n, &o, &r, &err), SL_OK, "%s", err.msg);
    cr_assert(r.converged, "%s", r.reason);
    cr_assert_eq(r.n_starts, 30u);
    cr_assert_float_eq(r.value[3], 0.34, 1e-3);
    cr_assert_eq(l.calls[0], 30u);
    cr_assert_eq(l.last_done[0], 30u);
    cr_assert_eq(l.last_total[0], 30u);
    cr_assert_eq(l.last_done[1], 5u);
    cr_assert_eq(l.last_total[1], 5u);
    cr_assert_not(l.backwards);
    sl_fit_result_free(&r);

    o.starts = -1;
    cr_assert_eq(sl_fit(SL_LAW_CHINCHILLA, p, (size_t)n, &o, &r, &err), SL_EINPUT);
    o.starts = 4;
    o.bootstrap = 0;
    o.progress = NULL;
    cr_assert_eq(sl_fit(SL_LAW_KAPLAN_ND, p, (size_t)n, &o, &r, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(r.n_starts, 4u);
    sl_fit_result_free(&r);
}

/* Writes the Chinchilla law's points, n,d,loss, to tu_dir/name; returns the path
 * and the largest C = 6ND in *c_max. */
static const char *chinchilla_table(char *path, size_t len, const char *name, double *c_max)
{
    sl_fit_point p[25];
    int n;
    chinchilla_points(p, &n);
    char text[4096];
    size_t k = (size_t)snprintf(text, sizeof text, "n,d,loss\n");
    *c_max = 0;
    for (int i = 0; i < n; i++) {
        k += (size_t)snprintf(text + k, sizeof text - k, "%.17g,%.17g,%.17g\n", p[i].n, p[i].d,
                              p[i].loss);
        if (6 * p[i].n * p[i].d > *c_max)
            *c_max = 6 * p[i].n * p[i].d;
    }
    tu_path(path, len, name);
    tu_write(path, text, k);
    return path;
}

Test(fit_degenerate, fit_starts_flag_and_progress_on_a_terminal)
{
    char path[512];
    double cmax;
    chinchilla_table(path, sizeof path, "chin.csv", &cmax);
    const char *args[] = {"fit", path, "--law", "chinchilla", "--starts", "30", "--bootstrap", "4",
                          NULL};
    cr_assert_eq(run(args), 0, "%s", err_text);
    cr_assert_not_null(strstr(out_text, "from 30 starts"), "%s", out_text);
    cr_assert_str_eq(err_text, "", "progress only on a terminal: %s", err_text);
    /* on a terminal (script(1) gives the command a pty) the stages count up */
    char cmd[2048], log[512];
    tu_path(log, sizeof log, "tty.log");
    snprintf(cmd, sizeof cmd,
             "script -qec \"'%s' fit '%s' --law chinchilla --starts 30 --bootstrap 4\" /dev/null "
             ">'%s' 2>&1",
             SL_TEST_BIN, path, log);
    if (system("command -v script >/dev/null 2>&1") != 0)
        cr_skip_test("script(1) missing (Debian package bsdutils)");
    cr_assert_eq(system(cmd), 0);
    char *tty = su_read(log);
    cr_assert_not_null(tty);
    cr_assert_not_null(strstr(tty, "scalelab: fit chinchilla: starts 30/30"), "%s", tty);
    cr_assert_not_null(strstr(tty, "scalelab: fit chinchilla: bootstrap 4/4"), "%s", tty);
    free(tty);
    const char *bad[] = {"fit", path, "--law", "chinchilla", "--starts", "0", NULL};
    cr_assert_eq(run(bad), 2, "%s", err_text);
    cr_assert_not_null(strstr(err_text, "--starts"), "%s", err_text);
}

Test(fit_degenerate, plan_says_how_far_it_extrapolates_past_the_points)
{
    char path[512];
    double cmax;
    chinchilla_table(path, sizeof path, "chin.csv", &cmax);
    char budget[64];
    snprintf(budget, sizeof budget, "%.17g", 70 * cmax);
    const char *far[] = {"plan", "--compute", budget, "--points", path, "--law", "chinchilla",
                         "--starts", "30", "--bootstrap", "0", NULL};
    cr_assert_eq(run(far), 0, "%s", err_text);
    cr_assert_not_null(strstr(out_text, "reach     C is 70x the points' largest compute: 1.85 "
                                        "decades of extrapolation"),
                       "%s", out_text);
    cr_assert_not_null(strstr(out_text, "chinchilla (fitted): N_opt "), "%s", out_text);
    cr_assert_not_null(strstr(err_text, "is 70x the largest compute of the points"), "%s",
                       err_text);
    cr_assert_not_null(strstr(err_text, "extrapolates 1.85 decades past the data"), "%s",
                       err_text);
    snprintf(budget, sizeof budget, "%.17g", cmax / 10);
    const char *near[] = {"plan", "--compute", budget, "--points", path, "--law", "chinchilla",
                          "--starts", "30", "--bootstrap", "0", NULL};
    cr_assert_eq(run(near), 0, "%s", err_text);
    cr_assert_not_null(strstr(out_text, "reach     C is within the points' compute"), "%s",
                       out_text);
    cr_assert_str_eq(err_text, "");
}

/* ---- the verdict: every front end's one judgement of a fit ------------------------ */

static sl_fit_verdict fit_verdict(sl_fit_law law, const sl_fit_point *p, size_t n, int boot,
                                  char *why, size_t len, sl_fit_result *keep)
{
    sl_fit_options o;
    sl_fit_options_report(law, &o);
    o.bootstrap = boot;
    sl_fit_result r;
    sl_error err;
    cr_assert_eq(sl_fit(law, p, n, &o, &r, &err), SL_OK, "%s", err.msg);
    sl_fit_verdict v = sl_fit_verdict_of(&r, why, len);
    if (keep)
        *keep = r;
    else
        sl_fit_result_free(&r);
    return v;
}

static size_t power_points(sl_fit_point *p, size_t n, double alpha, double noise)
{
    memset(p, 0, n * sizeof *p);
    for (size_t i = 0; i < n; i++) {
        p[i].n = 1e4 * pow(3, (double)i);
        p[i].loss = pow(8.8e13 / p[i].n, alpha) * (1 + noise * ((double)(i * 7 % 5) - 2));
        p[i].run = (long)i;
    }
    return n;
}

Test(fit_degenerate, verdict_of_a_sound_fit_is_ok)
{
    sl_fit_point p[8];
    power_points(p, 8, 0.076, 0.002);
    char why[200];
    cr_assert_eq(fit_verdict(SL_LAW_POWER_N, p, 8, 200, why, sizeof why, NULL), SL_FIT_OK, "%s",
                 why);
    cr_assert_str_eq(sl_fit_verdict_name(SL_FIT_OK), "ok");
}

Test(fit_degenerate, two_points_for_two_parameters_are_too_few_though_r2_is_1)
{
    sl_fit_point p[2];
    power_points(p, 2, 0.076, 0);
    char why[200];
    sl_fit_result r;
    cr_assert_eq(fit_verdict(SL_LAW_POWER_N, p, 2, 200, why, sizeof why, &r),
                 SL_FIT_TOO_FEW_POINTS);
    cr_assert_float_eq(r.r2, 1, 1e-9);
    sl_fit_result_free(&r);
    cr_assert_str_eq(why, "2 points for 2 parameters");
    cr_assert_str_eq(sl_fit_verdict_name(SL_FIT_TOO_FEW_POINTS), "too-few-points");
    /* scalelab fit says so beside the parameters */
    char path[512];
    tu_path(path, sizeof path, "two.csv");
    char text[256];
    size_t k = (size_t)snprintf(text, sizeof text, "n,loss\n%.17g,%.17g\n%.17g,%.17g\n", p[0].n,
                                p[0].loss, p[1].n, p[1].loss);
    tu_write(path, text, k);
    const char *args[] = {"fit", path, "--law", "power-n", NULL};
    cr_assert_eq(run(args), 0, "%s", err_text);
    cr_assert_not_null(strstr(out_text, "verdict   too-few-points: 2 points for 2 parameters "
                                        "(not a law to use)"),
                       "%s", out_text);
}

Test(fit_degenerate, a_fit_that_did_not_converge_says_so)
{
    sl_fit_point p[5];
    memset(p, 0, sizeof p);
    for (int i = 0; i < 5; i++)
        p[i].n = 1e4 * pow(10, i), p[i].loss = 3.2, p[i].run = -1;
    char why[200];
    cr_assert_eq(fit_verdict(SL_LAW_POWER_N, p, 5, 0, why, sizeof why, NULL),
                 SL_FIT_NOT_CONVERGED);
    cr_assert_not_null(strstr(why, "slope is zero"), "%s", why);
}

Test(fit_degenerate, a_loss_that_grows_with_n_is_a_negative_exponent)
{
    sl_fit_point p[6];
    power_points(p, 6, -0.05, 0.001);
    char why[200];
    cr_assert_eq(fit_verdict(SL_LAW_POWER_N, p, 6, 50, why, sizeof why, NULL),
                 SL_FIT_NEGATIVE_EXPONENT, "%s", why);
    cr_assert_eq(strncmp(why, "alpha = -0.05", 13), 0, "%s", why);
}

/* A result as a solver could leave it, to judge one property at a time. */
static sl_fit_result offset_result(double e, double e_lo, double e_hi, int ok_draws)
{
    static double draws[3 * 200];
    sl_fit_result r;
    memset(&r, 0, sizeof r);
    r.law = SL_LAW_OFFSET_N;
    r.n_params = sl_fit_law_params(r.law, &r.names);
    r.n_points = 6;
    r.converged = 1;
    double v[3] = {e, 0.3, 1e5}, lo[3] = {e_lo, 0.2, 1e4}, hi[3] = {e_hi, 0.4, 1e6};
    for (int j = 0; j < 3; j++)
        r.value[j] = v[j], r.ci_low[j] = lo[j], r.ci_high[j] = hi[j];
    r.n_boot = 200;
    r.n_boot_ok = ok_draws;
    r.boot = ok_draws ? draws : NULL;
    return r;
}

Test(fit_degenerate, an_offset_pinned_at_zero_is_a_boundary)
{
    char why[200];
    /* what the lab once printed as E [2.5e-14, 2.5e-14] */
    sl_fit_result r = offset_result(2.5e-14, 2.5e-14, 2.5e-14, 200);
    cr_assert_eq(sl_fit_verdict_of(&r, why, sizeof why), SL_FIT_BOUNDARY);
    cr_assert_not_null(strstr(why, "E = 2.5e-14 nats/token, at its bound 0"), "%s", why);
    /* an interval that reaches down to 0 from a positive E is an interval */
    r = offset_result(1.2, 4e-13, 2.7, 190);
    cr_assert_eq(sl_fit_verdict_of(&r, NULL, 0), SL_FIT_OK);
}

Test(fit_degenerate, an_interval_without_width_and_too_few_resamples)
{
    char why[200];
    sl_fit_result r = offset_result(1.2, 1.2, 1.2, 200);
    cr_assert_eq(sl_fit_verdict_of(&r, why, sizeof why), SL_FIT_ZERO_WIDTH);
    cr_assert_str_eq(why, "E in [1.2, 1.2]");
    r = offset_result(1.2, 1.0, 1.4, 80);
    cr_assert_eq(sl_fit_verdict_of(&r, why, sizeof why), SL_FIT_FEW_RESAMPLES);
    cr_assert_str_eq(why, "80 of 200 resamples converged");
    /* without draws the intervals are not judged */
    r = offset_result(1.2, NAN, NAN, 0);
    cr_assert_eq(sl_fit_verdict_of(&r, NULL, 0), SL_FIT_OK);
    cr_assert_str_eq(sl_fit_verdict_name(SL_FIT_ZERO_WIDTH), "zero-width-interval");
    cr_assert_str_eq(sl_fit_verdict_name(SL_FIT_FEW_RESAMPLES), "few-resamples");
}
