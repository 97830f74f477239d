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
