/* fit_cli: `scalelab fit` and `scalelab plan` through the built binary: bad
 * points give one line on stderr and exit 2; good ones print and write CSVs. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scalelab/csv.h"

static char dir[64];

static void make_dir(void)
{
    strcpy(dir, "/tmp/sl_fit_cli_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

static const char *write_file(const char *name, const char *text)
{
    static char path[8][256];
    static int k;
    char *p = path[k++ % 8];
    snprintf(p, 256, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static char out_text[65536], err_text[4096];

static void slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = 0;
    if (f)
        fclose(f);
}

/* Runs the binary with args (NULL-terminated); returns its exit status. */
static int run(const char *const *args)
{
    char out_path[256], err_path[256];
    snprintf(out_path, sizeof out_path, "%s/stdout", dir);
    snprintf(err_path, sizeof err_path, "%s/stderr", dir);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(o, 1);
        dup2(e, 2);
        char *argv[32];
        int n = 0;
        argv[n++] = (char *)SL_TEST_BIN;
        for (; args[n - 1]; n++)
            argv[n] = (char *)args[n - 1];
        argv[n] = NULL;
        execv(SL_TEST_BIN, argv);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    slurp(out_path, out_text, sizeof out_text);
    slurp(err_path, err_text, sizeof err_text);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* Exit 2, nothing on stdout, and exactly one stderr line holding want. */
static void expect_bad(const char *const *args, const char *want)
{
    int rc = run(args);
    cr_assert_eq(rc, 2, "exit %d for %s; stderr: %s", rc, want, err_text);
    cr_assert(strncmp(err_text, "scalelab: ", 10) == 0, "stderr: %s", err_text);
    cr_assert(strstr(err_text, want), "stderr '%s' lacks '%s'", err_text, want);
    char *nl = strchr(err_text, '\n');
    cr_assert(nl && nl[1] == 0, "more than one line: %s", err_text);
    cr_assert_str_eq(out_text, "", "stdout: %s", out_text);
}

static const char *good_table(void)
{
    static char buf[4096];
    size_t k = 0;
    k += (size_t)snprintf(buf + k, sizeof buf - k, "Model Size,Training FLOP,loss,note\n");
    for (int i = 0; i < 20; i++) {
        double n = 1e6 * pow(10, i / 5.0), c = 6 * n * 2e9;
        k += (size_t)snprintf(buf + k, sizeof buf - k, "%.6g,%.6g,%.6g,\"x, %d\"\n", n, c,
                              pow(8.8e13 / n, 0.076) * (1 + 0.003 * ((i * 7) % 5 - 2)), i);
    }
    return buf;
}

Test(fit_cli, fit_rejects_each_kind_of_bad_point_with_one_line_and_exit_2, .init = make_dir,
     .fini = remove_dir)
{
    const char *head = "n,loss\n";
    struct {
        const char *rows, *want;
    } cases[] = {
        {"1e6,3\n0,2.9\n1e8,2.8\n", "line 3: n: 0 is not positive"},
        {"1e6,3\n1e7,-2.9\n1e8,2.8\n", "line 3: loss: -2.9 is not positive"},
        {"1e6,3\n1e7,nan\n1e8,2.8\n", "line 3: loss: nan is not finite"},
        {"1e6,3\n1e7,2.9\ninf,2.8\n", "line 4: n: inf is not finite"},
        {"1e6,3\n1e7,abc\n1e8,2.8\n", "line 3: loss: 'abc' is not a number"},
        {"1e6,3\n1e7,\n1e8,2.8\n", "line 3: loss: empty"},
        {"1e6,3\n", "1 points for 2 parameters"},
        {"1e7,3\n1e7,2.9\n1e7,2.8\n", "all 3 points have the same N"},
        {"1e6,3\n1e7,2.9,7\n1e8,2.8\n", "line 3: row has 3 fields (expected 2"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char text[256];
        snprintf(text, sizeof text, "%s%s", head, cases[k].rows);
        const char *path = write_file("bad.csv", text);
        const char *args[] = {"fit", path, "--law", "power-n", NULL};
        expect_bad(args, cases[k].want);
    }
}

Test(fit_cli, fit_rejects_missing_columns_unknown_laws_and_run_stores, .init = make_dir,
     .fini = remove_dir)
{
    const char *path = write_file("pts.csv", good_table());
    const char *a1[] = {"fit", path, "--law", "chinchilla", "--n", "Model Size", NULL};
    expect_bad(a1, "no column for d (law chinchilla needs it");
    const char *a2[] = {"fit", path, "--law", "power-n", "--n", "Params", NULL};
    expect_bad(a2, "--n: no column named 'Params'");
    const char *a3[] = {"fit", path, "--law", "kaplan", "--n", "Model Size", NULL};
    expect_bad(a3, "--law: 'kaplan' is not a law (expected one of power-n,");
    const char *a4[] = {"fit", dir, "--law", "power-n", NULL};
    expect_bad(a4, "is a directory without sweep.json (expected a run store or a points CSV)");
    const char *a5[] = {"fit", path, NULL};
    expect_bad(a5, "--law: missing");
    const char *a6[] = {"fit", path, "--law", "power-n", "--n", "Model Size", "--bootstrap",
                        "-3", NULL};
    expect_bad(a6, "--bootstrap: -3 is out of range");
    const char *a7[] = {"plan", NULL};
    expect_bad(a7, "--compute: missing");
    const char *a8[] = {"plan", "--compute", "1e21", "--params", "1,2,3", NULL};
    expect_bad(a8, "--params: '1,2,3' (expected five numbers");
    const char *a8b[] = {"plan", "--compute", "1e21", "--from", dir, NULL};
    expect_bad(a8b, "is not a run store (expected a directory with sweep.json)");
    const char *a9[] = {"fit", "/nonexistent/points.csv", "--law", "power-n", NULL};
    int rc = run(a9);
    cr_assert_neq(rc, 0);
    cr_assert(strstr(err_text, "/nonexistent/points.csv"), "%s", err_text);
}

Test(fit_cli, fit_prints_parameters_and_writes_fits_and_predictions_csv, .init = make_dir,
     .fini = remove_dir)
{
    const char *path = write_file("pts.csv", good_table());
    char fits[256], preds[256];
    snprintf(fits, sizeof fits, "%s/fits.csv", dir);
    snprintf(preds, sizeof preds, "%s/pred.csv", dir);
    const char *args[] = {"fit", path, "--law", "power-n", "--n", "Model Size", "--bootstrap",
                          "100", "--drop-highest", "2", "--csv", fits, "--predictions", preds,
                          "--at", "n=1e12", NULL};
    int rc = run(args);
    cr_assert_eq(rc, 0, "stderr: %s", err_text);
    cr_assert(strstr(out_text, "alpha"), "%s", out_text);
    cr_assert(strstr(out_text, "18 (2 highest-loss dropped)"), "%s", out_text);
    sl_csv t;
    sl_error err = {{0}};
    cr_assert_eq(sl_csv_read(fits, &t, &err), SL_OK, "%s", err.msg);
    const char *cols[] = {"law", "param", "value", "ci_low", "ci_high",
                          "n_points", "r2", "rms_log", "status", "verdict",
                          "objective", "boot_converged", "boot_requested",
                          "accounting", "n_counts", "loss_unit"};
    cr_assert_eq(t.n_cols, 16);
    for (int j = 0; j < 16; j++)
        cr_assert_str_eq(t.header[j], cols[j]);
    /* power-n reads no C; its N and loss are the table's columns */
    cr_assert_str_eq(sl_csv_cell(&t, 0, 13), "");
    cr_assert_str_eq(sl_csv_cell(&t, 0, 14), "column Model Size");
    cr_assert_str_eq(sl_csv_cell(&t, 0, 15), "column loss");
    cr_assert_eq(t.n_rows, 2);
    cr_assert_str_eq(sl_csv_cell(&t, 0, 1), "alpha");
    double a = strtod(sl_csv_cell(&t, 0, 2), NULL);
    cr_assert(fabs(a - 0.076) < 0.005, "alpha %g", a);
    cr_assert(strtod(sl_csv_cell(&t, 0, 3), NULL) < a && strtod(sl_csv_cell(&t, 0, 4), NULL) > a);
    cr_assert_str_eq(sl_csv_cell(&t, 0, 5), "18");
    cr_assert_str_eq(sl_csv_cell(&t, 0, 8), "converged");
    cr_assert_str_eq(sl_csv_cell(&t, 0, 9), "ok");
    cr_assert_str_eq(sl_csv_cell(&t, 0, 12), "100");
    cr_assert(atoi(sl_csv_cell(&t, 0, 11)) >= 50, "%s", sl_csv_cell(&t, 0, 11));
    sl_csv_free(&t);
    cr_assert(strstr(out_text, "predict   n=1e+12 "), "%s", out_text);
    cr_assert_eq(sl_csv_read(preds, &t, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(t.n_rows, 19);
    cr_assert_str_eq(sl_csv_cell(&t, 0, 7), "loss");
    cr_assert_str_eq(sl_csv_cell(&t, 18, 1), "0");
    double lo = strtod(sl_csv_cell(&t, 18, 9), NULL), hi = strtod(sl_csv_cell(&t, 18, 10), NULL);
    double v = strtod(sl_csv_cell(&t, 18, 8), NULL);
    cr_assert(lo < v && v < hi, "prediction %g outside [%g, %g]", v, lo, hi);
    cr_assert(fabs(v / pow(8.8e13 / 1e12, 0.076) - 1) < 0.02, "L(1e12) = %g", v);
    sl_csv_free(&t);
}

Test(fit_cli, fit_of_several_laws_writes_them_all_and_all_skips_what_the_table_cannot_serve,
     .init = make_dir, .fini = remove_dir)
{
    const char *path = write_file("pts.csv", good_table());
    char fits[256];
    snprintf(fits, sizeof fits, "%s/fits.csv", dir);
    const char *two[] = {"fit", path, "--law", "power-n,offset-n", "--n", "Model Size",
                         "--bootstrap", "20", "--csv", fits, NULL};
    cr_assert_eq(run(two), 0, "%s", err_text);
    sl_csv t;
    sl_error err = {{0}};
    cr_assert_eq(sl_csv_read(fits, &t, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(t.n_rows, 5);
    cr_assert_str_eq(sl_csv_cell(&t, 0, 0), "power-n");
    cr_assert_str_eq(sl_csv_cell(&t, 4, 0), "offset-n");
    sl_csv_free(&t);
    const char *all[] = {"fit", path, "--law", "all", "--n", "Model Size", "--c",
                         "Training FLOP", "--bootstrap", "0", NULL};
    /* D = C/(6N) is one value here, so the joint laws are ill-posed: they may
     * fail to converge, which must be said on stderr and give exit 1. */
    int rc = run(all);
    cr_assert(rc == 0 || (rc == 1 && strstr(err_text, "did not converge")), "exit %d: %s", rc,
              err_text);
    cr_assert(strstr(out_text, "law       power-n"), "%s", out_text);
    cr_assert(strstr(out_text, "skipped   power-s: "), "%s", out_text);
    cr_assert(strstr(out_text, "skipped   bcrit: "), "%s", out_text);
}

Test(fit_cli, fit_that_does_not_converge_says_why_and_prints_no_numbers, .init = make_dir,
     .fini = remove_dir)
{
    char text[8192];
    size_t k = (size_t)snprintf(text, sizeof text, "n,d,loss\n");
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++) {
            double n = 1e5 * pow(10, i * 0.8), d = 1e7 * pow(10, j * 0.8);
            k += (size_t)snprintf(text + k, sizeof text - k, "%g,%g,%.6g\n", n, d,
                                  pow(pow(6.4e13 / n, 0.738) + 1.8e13 / d, 0.103));
        }
    const char *path = write_file("nd.csv", text);
    const char *args[] = {"fit", path, "--law", "kaplan-nd", "--max-iter", "1", NULL};
    int rc = run(args);
    cr_assert_eq(rc, 1, "exit %d; stderr: %s", rc, err_text);
    cr_assert(strstr(err_text, "did not converge: ") && strstr(err_text, "iteration limit"),
              "%s", err_text);
    cr_assert_str_eq(out_text, "", "stdout: %s", out_text);
    const char *ok[] = {"fit", path, "--law", "kaplan-nd", "--bootstrap", "20", NULL};
    cr_assert_eq(run(ok), 0, "%s", err_text);
    cr_assert(strstr(out_text, "alpha_D"), "%s", out_text);
    cr_assert(strstr(out_text, "overfit"), "%s", out_text);
}

Test(fit_cli, plan_prints_kaplan_and_chinchilla_side_by_side, .init = make_dir,
     .fini = remove_dir)
{
    const char *args[] = {"plan", "--compute", "5.76e23", NULL};
    cr_assert_eq(run(args), 0, "%s", err_text);
    cr_assert(strstr(out_text, "N_opt") && strstr(out_text, "kaplan") &&
                  strstr(out_text, "chinchilla"),
              "%s", out_text);
    char text[65536];
    size_t len = (size_t)snprintf(text, sizeof text, "run,n,d,b,loss,bcrit\n");
    for (int i = 0; i < 12; i++)
        for (int j = 0; j < 25; j++) {
            double n = 1e5 * pow(10, i * 0.4), d = 1e7 * pow(10, j * 0.15);
            double l = 1.8 + 480 / pow(n, 0.35) + 2100 / pow(d, 0.37);
            len += (size_t)snprintf(text + len, sizeof text - len, "r%d,%g,%g,1e4,%.8g,%g\n", i, n, d, l,
                                  2e8 / pow(l, 1 / 0.21));
        }
    const char *path = write_file("curves.csv", text);
    const char *fitted[] = {"plan", "--compute", "1e19", "--points", path, "--bootstrap", "20",
                            NULL};
    cr_assert_eq(run(fitted), 0, "%s", err_text);
    cr_assert(strstr(out_text, "kaplan (fitted frontier)") && strstr(out_text, "chinchilla (fitted)"),
              "%s", out_text);
    const char *help[] = {"fit", "--help", NULL};
    cr_assert_eq(run(help), 0);
    const char *flags[] = {"--law",       "--n",        "--d",      "--c",       "--s",
                           "--b",         "--bcrit",    "--loss",   "--run",     "--bootstrap",
                           "--seed",      "--csv",      "--predictions", "--drop-highest",
                           "chinchilla-ml", "approach1", "approach2", "kaplan-nd", "cmin", "bcrit"};
    for (size_t k = 0; k < sizeof flags / sizeof flags[0]; k++)
        cr_assert(strstr(out_text, flags[k]), "fit --help lacks %s", flags[k]);
}

/* fit and plan read a table through one parser and fit a law through one
 * function (fit_cli.h): the same columns, dropped points, bootstrap and seed
 * give the same Chinchilla parameters, and a bad shared option the same line. */
Test(fit_cli, fit_and_plan_read_the_same_points_and_fit_the_same_law, .init = make_dir,
     .fini = remove_dir)
{
    char text[8192];
    size_t len = (size_t)snprintf(text, sizeof text, "params,tokens,L,id\n");
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++) {
            double n = 1e5 * pow(10, i * 0.5), d = 1e7 * pow(10, j * 0.4);
            double l = (1.8 + 480 / pow(n, 0.35) + 2100 / pow(d, 0.37)) * (1 + 0.01 * ((i * 5 + j * 3) % 7 - 3) / 3.0);
            if (i == 0 && j < 2)
                l *= 1.5; /* what --drop-highest leaves out */
            len += (size_t)snprintf(text + len, sizeof text - len, "%g,%g,%.8g,r%d\n", n, d, l, i);
        }
    const char *path = write_file("points.csv", text);
    const char *fit[] = {"fit", path, "--law", "chinchilla", "--n", "params", "--d", "tokens", "--loss", "L",
                         "--run", "id", "--drop-highest", "2", "--bootstrap", "20", "--seed", "7",
                         "--starts", "30", NULL};
    cr_assert_eq(run(fit), 0, "%s", err_text);
    cr_assert_not_null(strstr(out_text, "points    34 (2 highest-loss dropped)"), "%s", out_text);
    static const char *const names[5] = {"E", "A", "B", "alpha", "beta"};
    double by_fit[5];
    for (int j = 0; j < 5; j++) {
        char key[32];
        snprintf(key, sizeof key, "\n  %-8s ", names[j]);
        const char *at = strstr(out_text, key);
        cr_assert(at && sscanf(at + strlen(key), "%lf", &by_fit[j]) == 1, "fit printed no %s:\n%s", names[j],
                  out_text);
    }
    const char *plan[] = {"plan", "--compute", "1e20", "--law", "chinchilla", "--points", path, "--n", "params",
                          "--d", "tokens", "--loss", "L", "--run", "id", "--drop-highest", "2",
                          "--bootstrap", "20", "--seed", "7", "--starts", "30", NULL};
    cr_assert_eq(run(plan), 0, "%s", err_text);
    double by_plan[5];
    const char *at = strstr(out_text, "chinchilla E=");
    cr_assert(at && sscanf(at, "chinchilla E=%lf A=%lf B=%lf alpha=%lf beta=%lf", &by_plan[0], &by_plan[1],
                           &by_plan[2], &by_plan[3], &by_plan[4]) == 5,
              "plan printed no fitted parameters:\n%s", out_text);
    cr_assert_not_null(strstr(out_text, "chinchilla (fitted)"), "%s", out_text);
    /* plan prints 4 digits, fit 6 */
    for (int j = 0; j < 5; j++)
        cr_expect(fabs(by_plan[j] - by_fit[j]) <= 6e-4 * fabs(by_fit[j]), "%s: fit %g, plan %g", names[j],
                  by_fit[j], by_plan[j]);
    /* a bad shared option: one message, whichever command */
    const char *bad[][8] = {
        {"--n", "nosuch", NULL},
        {"--bootstrap", "-1", NULL},
        {"--level", "2", NULL},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        const char *fa[] = {"fit", path, "--law", "chinchilla", bad[k][0], bad[k][1], NULL};
        cr_assert_eq(run(fa), 2, "fit %s %s: %s", bad[k][0], bad[k][1], err_text);
        char fit_err[sizeof err_text];
        snprintf(fit_err, sizeof fit_err, "%s", err_text);
        const char *pa[] = {"plan", "--compute", "1e20", "--points", path, bad[k][0], bad[k][1], NULL};
        cr_assert_eq(run(pa), 2, "plan %s %s: %s", bad[k][0], bad[k][1], err_text);
        cr_expect_str_eq(err_text, fit_err, "%s %s", bad[k][0], bad[k][1]);
    }
}

/* A batch scan's learning curves obeying S(L) = S_min(L) (1 + B_crit(L)/B) with
 * B_crit = 2e5/L^(1/0.21) (tests/test_fit_bcrit.c builds the same). */
static double scan_loss(double s, double B)
{
    double lo = 1.0, hi = 8.0;
    for (int it = 0; it < 100; it++) {
        double L = 0.5 * (lo + hi);
        if (100 * pow(L / 4, -8) * (1 + 2e5 / pow(L, 1 / 0.21) / B) > s)
            lo = L;
        else
            hi = L;
    }
    return 0.5 * (lo + hi);
}

Test(fit_cli, fit_bcrit_scan_prints_the_hyperbola_of_each_target_and_the_law, .init = make_dir,
     .fini = remove_dir)
{
    static char buf[65536];
    size_t k = (size_t)snprintf(buf, sizeof buf, "run,s,b,loss\n");
    for (int i = 0; i < 9; i++)
        for (int j = 0; j < 40; j++) {
            double s = 10 * pow(2e4, j / 39.0), B = 64 * pow(2, i);
            k += (size_t)snprintf(buf + k, sizeof buf - k, "B%d,%.6g,%g,%.8g\n", i, s, B,
                                  scan_loss(s, B));
        }
    const char *path = write_file("scan.csv", buf);
    const char *args[] = {"fit", path, "--law", "bcrit-scan", "--targets", "5", "--bootstrap",
                          "20", NULL};
    int rc = run(args);
    cr_assert_eq(rc, 0, "stderr: %s", err_text);
    cr_assert(strstr(out_text, "targets   loss"), "%s", out_text);
    cr_assert(strstr(out_text, "S_min") && strstr(out_text, "E_min"), "%s", out_text);
    const char *a = strstr(out_text, "  alpha_B  ");
    cr_assert(a, "%s", out_text);
    double ab = strtod(a + 11, NULL);
    cr_assert(fabs(ab - 0.21) < 0.01, "alpha_B %g\n%s", ab, out_text);
    /* learning curves need their run */
    const char *nr = write_file("norun.csv", "s,b,loss\n10,64,5\n100,64,4\n1000,64,3\n");
    const char *bad[] = {"fit", nr, "--law", "bcrit-scan", NULL};
    expect_bad(bad, "no column for run");
    const char *badt[] = {"fit", path, "--law", "bcrit-scan", "--targets", "0", NULL};
    expect_bad(badt, "--targets");
}

Test(fit_cli, fit_applies_a_measured_bcrit_and_checks_alpha_cmin_against_the_ns_law,
     .init = make_dir, .fini = remove_dir)
{
    static char buf[65536];
    size_t k = (size_t)snprintf(buf, sizeof buf, "run,s,b,loss\n");
    for (int i = 0; i < 9; i++)
        for (int j = 0; j < 40; j++) {
            double s = 10 * pow(2e4, j / 39.0), B = 64 * pow(2, i);
            k += (size_t)snprintf(buf + k, sizeof buf - k, "B%d,%.6g,%g,%.8g\n", i, s, B,
                                  scan_loss(s, B));
        }
    const char *scan = write_file("scan.csv", buf);
    /* L(N, S) points at a batch far above B_crit (S_min = S), and a compute
     * frontier */
    k = (size_t)snprintf(buf, sizeof buf, "run,n,s,b,loss\n");
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 8; j++) {
            double n = 1e5 * pow(10, i / 2.0), s = 1e3 * pow(10, j / 4.0);
            k += (size_t)snprintf(buf + k, sizeof buf - k, "N%d,%g,%g,1e12,%.8g\n", i, n, s,
                                  pow(1e13 / n, 0.08) + pow(2e3 / s, 0.7));
        }
    const char *ns = write_file("ns.csv", buf);
    k = (size_t)snprintf(buf, sizeof buf, "c,b,loss\n");
    for (int i = 0; i < 30; i++) {
        double c = 1e12 * pow(10, i / 6.0);
        k += (size_t)snprintf(buf + k, sizeof buf - k, "%g,1000,%.8g\n", c, pow(1e20 / c, 0.055));
    }
    const char *front = write_file("front.csv", buf);
    const char *args[] = {"fit",       front, "--law",     "cmin", "--bcrit-from", scan,
                          "--ns-from", ns,    "--bootstrap", "20", NULL};
    int rc = run(args);
    cr_assert_eq(rc, 0, "stderr: %s", err_text);
    cr_assert(strstr(out_text, "bcrit     bcrit-scan of"), "%s", out_text);
    cr_assert(strstr(out_text, "ns        kaplan-ns of"), "%s", out_text);
    cr_assert(strstr(out_text, "fixed B   L(C) at the batch trained (cfixed)"), "%s", out_text);
    const char *chk = strstr(out_text, "predicted ");
    cr_assert(chk && strstr(out_text, "check     alpha_C^min"), "%s", out_text);
    /* 1/(1/0.7 + 1/0.21 + 1/0.08) = 0.0517 */
    double pred = strtod(chk + 10, NULL);
    cr_assert(fabs(pred - 0.0517) < 0.004, "predicted %g\n%s", pred, out_text);
    /* a side table that cannot serve its law is bad input */
    const char *bad[] = {"fit", front, "--law", "cmin", "--bcrit-from", front, NULL};
    expect_bad(bad, "--bcrit-from: ");
}
