/* Figures: `scalelab export DIR --plots OUT` on a small sweep writes an SVG and a
 * PNG per figure; the PNG decodes at the figure's size, the SVG carries its
 * decade labels and legend entries; a bad --plots path is one line, exit 2.
 * overfit, law-bcrit, law-shape and context are written when the store has
 * their data and not otherwise, with the exponents `scalelab fit` reports; the
 * slices of Kaplan's Figures 6, 11, 12, 18 and 21 are drawn from the stores
 * that hold their data. With a batch scan's B_crit(L) (--bcrit-from) an N
 * sweep also gets Figures 3, 13, 14 (right) and Table 6, with L(D) from an nd
 * grid (--nd-from) Figure 15; an nd grid gets Figure 16 and a learning-rate
 * scan of one model Figure 22. The exponents and the crossing behind them are
 * checked on synthetic frontiers with known laws. */
#include <cairo.h>
#include <math.h>

#include "scalelab/csv.h"
#include "scalelab/figures.h"
#include "sweeputil.h"

TestSuite(figures, .init = tu_make_dir, .fini = tu_remove_dir);

/* Trains a three-model L(N) sweep (N from 3e3 to 2.5e4, so the N axis holds
 * 10^4) into tu_dir/runs/three and puts the store's path in dir. */
static void three_runs(char *dir, size_t len)
{
    char p[512], runs[512];
    su_preset(p, sizeof p, "three", "\"n\": [3000, 12000, 25000]",
              "\"steps\": 20, \"eval_every\": 5, \"threads\": 1");
    tu_path(runs, sizeof runs, "runs");
    const char *args[] = {"run", p, "--runs", runs, "--quiet", NULL};
    char out[4096], errb[4096];
    cr_assert_eq(tu_run(out, sizeof out, errb, sizeof errb, 0, args), 0, "%s", errb);
    snprintf(dir, len, "%s/three", runs);
}

static void assert_png(const char *figs, const char *name)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s.png", figs, name);
    cairo_surface_t *s = cairo_image_surface_create_from_png(path);
    cr_assert_eq(cairo_surface_status(s), CAIRO_STATUS_SUCCESS, "%s does not decode", path);
    cr_assert_eq(cairo_image_surface_get_width(s), SL_FIG_WIDTH);
    cr_assert_eq(cairo_image_surface_get_height(s), SL_FIG_HEIGHT);
    cairo_surface_destroy(s);
}

static char *read_svg(const char *figs, const char *name)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s.svg", figs, name);
    char *d = su_read(path);
    cr_assert_not_null(d, "%s missing", path);
    cr_assert_not_null(strstr(d, "<svg"), "%s is not an SVG", path);
    return d;
}

Test(figures, export_plots_writes_curves_and_the_law_as_svg_and_png)
{
    char dir[600], figs[700];
    three_runs(dir, sizeof dir);
    snprintf(figs, sizeof figs, "%s/figs/deeper", tu_dir);
    const char *ex[] = {"export", dir, "--plots", figs, NULL};
    char out[4096], errb[4096];
    cr_assert_eq(tu_run(out, sizeof out, errb, sizeof errb, 0, ex), 0, "%s", errb);
    cr_assert_not_null(strstr(errb, "wrote 7 figures"), "%s", errb);
    cr_assert_eq(out[0], 0, "export --plots alone prints no runs.csv: %s", out);
    const char *names[] = {"curves-tokens", "curves-compute", "law-n", "law-n-at-s", "law-n-depth",
                           "law-ntotal-depth"};
    for (int i = 0; i < 6; i++)
        assert_png(figs, names[i]);

    char *svg = read_svg(figs, "law-n");
    cr_assert_not_null(strstr(svg, ">10<tspan baseline-shift=\"super\" font-size=\"8.5\">4</tspan>"),
                       "no 10^4 decade label on the N axis");
    cr_assert_not_null(strstr(svg, ">runs, best test loss</text>"), "no legend entry for the points");
    cr_assert_not_null(strstr(svg, ">power-n: alpha "), "no legend entry for the fitted law");
    cr_assert_not_null(strstr(svg, ">non-embedding parameters N</text>"));
    free(svg);

    svg = read_svg(figs, "curves-tokens");
    cr_assert_not_null(strstr(svg, ">r000-L1-d16-s1  N 3.1e+03</text>"), "no legend entry per run");
    cr_assert_not_null(strstr(svg, ">r002-"), "no legend entry for the last run");
    free(svg);
}

Test(figures, export_plots_with_csv_writes_both)
{
    char dir[600], figs[700], csv[700], path[800];
    three_runs(dir, sizeof dir);
    snprintf(figs, sizeof figs, "%s/figs", tu_dir);
    snprintf(csv, sizeof csv, "%s/csv", tu_dir);
    const char *ex[] = {"export", "--plots", figs, dir, "--csv", csv, NULL};
    char out[4096], errb[4096];
    cr_assert_eq(tu_run(out, sizeof out, errb, sizeof errb, 0, ex), 0, "%s", errb);
    snprintf(path, sizeof path, "%s/runs.csv", csv);
    cr_assert_eq(su_count_lines(path), 4);
    assert_png(figs, "law-n");
}

Test(figures, a_bad_plots_path_is_one_line_and_exit_2)
{
    char dir[600];
    three_runs(dir, sizeof dir);
    const char *a1[] = {"export", dir, "--plots", "/dev/null/figs", NULL};
    tu_assert_bad_input("/dev/null/figs:--plots: cannot create the directory", a1);
    const char *a2[] = {"export", dir, "--plots", NULL};
    tu_assert_bad_input("--plots: missing value", a2);
}

/* ---- the figures a store has the data for ---------------------------------------------- */

/* Trains a sweep of preset NAME (sweep and train as JSON members) into
 * tu_dir/runs/NAME and puts the store's path in dir. */
static void train_store(char *dir, size_t len, const char *name, const char *sweep, const char *train)
{
    char p[512], runs[512];
    su_preset(p, sizeof p, name, sweep, train);
    tu_path(runs, sizeof runs, "runs");
    const char *args[] = {"run", p, "--runs", runs, "--quiet", NULL};
    char out[4096], errb[4096];
    cr_assert_eq(tu_run(out, sizeof out, errb, sizeof errb, 0, args), 0, "%s", errb);
    snprintf(dir, len, "%s/%s", runs, name);
}

/* export DIR --plots tu_dir/figs-NAME (path in figs), expecting `wrote N figures` */
static void export_figures(const char *dir, const char *name, char *figs, size_t len, int n)
{
    snprintf(figs, len, "%s/figs-%s", tu_dir, name);
    const char *ex[] = {"export", dir, "--plots", figs, NULL};
    char out[4096], errb[4096], want[64];
    cr_assert_eq(tu_run(out, sizeof out, errb, sizeof errb, 0, ex), 0, "%s", errb);
    snprintf(want, sizeof want, "wrote %d figures", n);
    cr_assert_not_null(strstr(errb, want), "expected %s: %s", want, errb);
}

static int has_figure(const char *figs, const char *name)
{
    char svg[800], png[800];
    snprintf(svg, sizeof svg, "%s/%s.svg", figs, name);
    snprintf(png, sizeof png, "%s/%s.png", figs, name);
    return access(svg, F_OK) == 0 || access(png, F_OK) == 0;
}

/* The legend text `NAME V [LO, HI]` of parameter NAME as `scalelab fit POINTS
 * --law LAW --bootstrap 200 --seed 1 EXTRA...` reports it (its fits CSV). */
static void cli_param(char *s, size_t len, const char *points, const char *law, const char *name,
                      const char *extra0, const char *extra1, const char *extra2, const char *extra3)
{
    char csv[600];
    tu_path(csv, sizeof csv, "fits.csv");
    const char *args[] = {"fit", points, "--law", law, "--bootstrap", "200", "--seed", "1",
                          "--csv", csv, extra0, extra1, extra2, extra3, NULL};
    char out[8192], errb[4096];
    cr_assert_eq(tu_run(out, sizeof out, errb, sizeof errb, 0, args), 0, "%s", errb);
    sl_csv t;
    sl_error e;
    cr_assert_eq(sl_csv_read(csv, &t, &e), SL_OK, "%s", e.msg);
    int cp = sl_csv_column(&t, "param"), cv = sl_csv_column(&t, "value"), cl = sl_csv_column(&t, "ci_low"),
        ch = sl_csv_column(&t, "ci_high");
    s[0] = 0;
    for (size_t i = 0; i < t.n_rows; i++)
        if (!strcmp(sl_csv_cell(&t, i, (size_t)cp), name))
            snprintf(s, len, "%s %.3g [%.3g, %.3g]", name, strtod(sl_csv_cell(&t, i, (size_t)cv), NULL),
                     strtod(sl_csv_cell(&t, i, (size_t)cl), NULL), strtod(sl_csv_cell(&t, i, (size_t)ch), NULL));
    sl_csv_free(&t);
    cr_assert_neq(s[0], 0, "fit %s reports no %s", law, name);
}

Test(figures, law_bcrit_plots_the_noise_scale_of_a_two_thread_store_on_a_loss_axis)
{
    char dir[600], figs[700];
    train_store(dir, sizeof dir, "bsz", "\"kind\": \"batch\", \"n\": [3000], \"batches\": [4, 16]",
                "\"steps\": 40, \"eval_every\": 5, \"threads\": 2");
    export_figures(dir, "bsz", figs, sizeof figs, 3);
    assert_png(figs, "law-bcrit");
    char *svg = read_svg(figs, "law-bcrit");
    cr_assert_not_null(strstr(svg, ">test loss L (nats per token)</text>"));
    cr_assert_not_null(strstr(svg, ">noise scale B_simple (tokens)</text>"));
    cr_assert_not_null(strstr(svg, ">r000-L1-d16-B4-s1</text>"), "no legend entry per run");
    cr_assert_not_null(strstr(svg, ">r001-L1-d16-B16-s1</text>"));
    char want[128];
    cli_param(want, sizeof want, dir, "bcrit", "alpha_B", NULL, NULL, NULL, NULL);
    char entry[160];
    snprintf(entry, sizeof entry, ">bcrit: %s</text>", want);
    cr_assert_not_null(strstr(svg, entry), "the legend does not carry fit's %s", want);
    /* the loss axis keeps to the losses (no decade below them) and is labelled
     * between its ticks: numbers under the x axis, no x decade label */
    int labels = 0;
    for (const char *s = svg; (s = strstr(s, "y=\"494.0\" font-size=\"10.0\"")); s++)
        labels++;
    cr_assert_geq(labels, 3, "%d tick labels on the loss axis", labels);
    cr_assert_null(strstr(svg, "y=\"496.0\" font-size=\"12\">10<tspan"), "the loss axis was widened to a decade");
    free(svg);
    cr_assert(!has_figure(figs, "law-shape") && !has_figure(figs, "overfit") && !has_figure(figs, "context"));

    /* one thread per run: no noise scale, no law-bcrit */
    char three[600];
    three_runs(three, sizeof three);
    export_figures(three, "three", figs, sizeof figs, 7);
    cr_assert(!has_figure(figs, "law-bcrit"), "law-bcrit drawn without a noise scale");
}

Test(figures, law_shape_plots_loss_against_aspect_ratio)
{
    char dir[600], figs[700];
    train_store(dir, sizeof dir, "shp", "\"kind\": \"shape\", \"n\": [12000], \"aspects\": [4, 16, 64]",
                "\"steps\": 30, \"eval_every\": 10, \"threads\": 1");
    /* the shapes have several depths: Figure 6's two panels as well */
    export_figures(dir, "shp", figs, sizeof figs, 5);
    assert_png(figs, "law-shape");
    assert_png(figs, "law-n-depth");
    assert_png(figs, "law-ntotal-depth");
    char *svg = read_svg(figs, "law-shape");
    cr_assert_not_null(strstr(svg, ">aspect ratio d_model / n_layer</text>"));
    cr_assert_not_null(strstr(svg, ">test loss (nats per token)</text>"));
    cr_assert_not_null(strstr(svg, ">N = 1.2e+04</text>"), "no legend entry for the N target");
    cr_assert_null(strstr(svg, "alpha"), "a law drawn on the shape figure");
    free(svg);
    cr_assert(!has_figure(figs, "law-bcrit"));
}

Test(figures, overfit_collapses_an_nd_grid_and_needs_several_n)
{
    char dir[600], figs[700];
    train_store(dir, sizeof dir, "grid", "\"kind\": \"nd\", \"n\": [3000, 12000], \"d\": [2000, 8000, 30000]",
                "\"steps\": 60, \"eval_every\": 10, \"threads\": 1");
    export_figures(dir, "grid", figs, sizeof figs, 4);
    assert_png(figs, "law-nd");
    assert_png(figs, "overfit");
    char *svg = read_svg(figs, "overfit");
    cr_assert_not_null(strstr(svg, ">N^(α_N/α_D) / D,  α_N/α_D = "), "no x label with the fitted ratio");
    cr_assert_not_null(strstr(svg, ">L / L(N, ∞) − 1</text>"), "no y label");
    cr_assert_not_null(strstr(svg, ">N = 3.1e+03</text>"), "no legend entry per N");
    cr_assert_not_null(strstr(svg, ">N = 1.2e+04</text>"));
    char want[128];
    cli_param(want, sizeof want, dir, "kaplan-nd", "alpha_N", NULL, NULL, NULL, NULL);
    cr_assert_not_null(strstr(svg, want), "the legend does not carry fit's %s", want);
    free(svg);
    cr_assert(!has_figure(figs, "law-bcrit"), "one thread: no noise scale, no law-bcrit");

    /* one N: L(D) and no overfitting figure */
    train_store(dir, sizeof dir, "oned", "\"kind\": \"nd\", \"n\": [3000], \"d\": [2000, 8000, 30000]",
                "\"steps\": 40, \"eval_every\": 10, \"threads\": 1");
    export_figures(dir, "oned", figs, sizeof figs, 3);
    assert_png(figs, "law-d");
    cr_assert(!has_figure(figs, "overfit"), "overfit drawn for a one-N sweep");
}

Test(figures, context_plots_per_position_loss_with_each_runs_exponent)
{
    char dir[600], figs[700];
    train_store(dir, sizeof dir, "ctx", "\"n\": [3000, 12000]",
                "\"steps\": 30, \"eval_every\": 10, \"threads\": 1, \"context_losses\": true");
    export_figures(dir, "ctx", figs, sizeof figs, 6);
    assert_png(figs, "context");
    char *svg = read_svg(figs, "context");
    cr_assert_not_null(strstr(svg, ">position T in the context (tokens)</text>"));
    cr_assert_not_null(strstr(svg, ">r000-L1-d16-s1  N 3.1e+03</text>"), "no legend entry per run");
    const char *ids[] = {"r000-L1-d16-s1", "r001-L1-d32-s1"};
    for (int i = 0; i < 2; i++) {
        char csv[800], want[128], entry[200];
        snprintf(csv, sizeof csv, "%s/%s/context.csv", dir, ids[i]);
        cli_param(want, sizeof want, csv, "offset-n", "alpha", "--n", "position", "--loss", "test_loss");
        snprintf(entry, sizeof entry, ">  offset-n: alpha (c) %s</text>", want + strlen("alpha "));
        cr_assert_not_null(strstr(svg, entry), "%s: the legend does not carry fit's %s", ids[i], want);
    }
    free(svg);

    char three[600];
    three_runs(three, sizeof three);
    export_figures(three, "three", figs, sizeof figs, 7);
    cr_assert(!has_figure(figs, "context") && !has_figure(figs, "context-by-n"),
              "context drawn without context.csv");
}

/* ---- the same runs sliced as the paper's other figures --------------------------------- */

static void assert_has_text(const char *figs, const char *name, const char *text)
{
    char *svg = read_svg(figs, name);
    cr_assert_not_null(strstr(svg, text), "%s lacks %s", name, text);
    free(svg);
}

/* Figure 6 (L against N and N_total by depth), Figure 11 (L(N) at fixed steps
 * and compute) and Figure 21 (loss at a context position against N). */
Test(figures, depth_fixed_steps_compute_and_context_position_slices)
{
    char dir[600], figs[700];
    train_store(dir, sizeof dir, "slices", "\"n\": [3000, 12000, 25000, 60000]",
                "\"steps\": 20, \"eval_every\": 5, \"threads\": 1, \"context_losses\": true");
    export_figures(dir, "slices", figs, sizeof figs, 10);
    const char *names[] = {"law-n-depth", "law-ntotal-depth", "law-n-at-c", "law-n-at-s", "context-by-n"};
    for (int i = 0; i < 5; i++)
        assert_png(figs, names[i]);
    assert_has_text(figs, "law-n-depth", ">1 layer</text>");
    assert_has_text(figs, "law-n-depth", ">2 layers</text>");
    assert_has_text(figs, "law-n-depth", ">non-embedding parameters N</text>");
    assert_has_text(figs, "law-ntotal-depth", ">all parameters N_total</text>");
    assert_has_text(figs, "law-n-at-s", " steps</text>");
    assert_has_text(figs, "law-n-at-c", " FLOP</text>");
    assert_has_text(figs, "law-n-at-c", ">compute C (FLOP, kaplan: 6N per token)</text>");
    assert_has_text(figs, "context-by-n", ">position T = 1</text>");
    assert_has_text(figs, "context-by-n", ">position T = 16</text>");
}

/* Figure 12 (left): each IsoFLOP profile over its own parabola's optimum. */
Test(figures, isoflop_penalty_divides_each_profile_by_its_optimum)
{
    char dir[600], figs[700];
    train_store(dir, sizeof dir, "isop",
                "\"kind\": \"isoflop\", \"budgets\": [3e9, 1e10], \"n\": [3100, 6000, 12000, 25000, 50000]",
                "\"eval_every\": 10, \"threads\": 1");
    export_figures(dir, "isop", figs, sizeof figs, 4);
    assert_png(figs, "isoflop-penalty");
    assert_has_text(figs, "isoflop-penalty", ">C = 10G FLOP, N_opt ");
    assert_has_text(figs, "isoflop-penalty", ">L / L_opt (test loss over the parabola's minimum)</text>");
}

/* Figure 18: steps and examples each batch size needed to reach a loss, with
 * the hyperbola of the bcrit-scan law per target loss. */
Test(figures, bcrit_scan_draws_steps_and_examples_per_target_loss)
{
    char dir[600], figs[700];
    train_store(dir, sizeof dir, "scan", "\"kind\": \"batch\", \"n\": [3000], \"batches\": [2, 4, 8, 16]",
                "\"steps\": 60, \"eval_every\": 2, \"threads\": 1");
    export_figures(dir, "scan", figs, sizeof figs, 3);
    assert_png(figs, "bcrit-scan");
    assert_has_text(figs, "bcrit-scan", ">examples E = B S (tokens)</text>");
    assert_has_text(figs, "bcrit-scan", ": B_crit ");
}

/* Figure 23: L(N) with the power law and its logarithmic rival, each legend
 * entry carrying the values `scalelab fit` reports. */
Test(figures, law_n_log_draws_the_power_law_beside_the_logarithmic_fit)
{
    char dir[600], figs[700];
    three_runs(dir, sizeof dir);
    export_figures(dir, "three", figs, sizeof figs, 7);
    assert_png(figs, "law-n-log");
    char want[128], entry[200];
    cli_param(want, sizeof want, dir, "log-n", "b", NULL, NULL, NULL, NULL);
    double b = strtod(want + 2, NULL);
    snprintf(entry, sizeof entry, " - %.3g ln N, RMS of ln L ", b);
    assert_has_text(figs, "law-n-log", entry);
    assert_has_text(figs, "law-n-log", ">power-n: alpha ");
}

/* ---- the compute-efficient frontier with a B_crit(L) (Kaplan Figs. 3, 13, 14, 15, Table 6) ---- */

/* Twelve runs, one point each, exactly on a frontier built from known laws:
 * L = (C_c/C_min)^0.05, B_crit = B_star/L^(1/0.25) (so B_crit grows as
 * C_min^0.2), S_min = 10 C_min^0.1, E_min = B_crit S_min and N = C_min/(6
 * E_min) (so N grows as C_min^0.7 and E_min as C_min^0.3). Each run trained at
 * B = B_crit, so S = 2 S_min, C = 2 C_min and D = 2 E_min. noise (0: none)
 * scales S and D by a factor within [1 - noise, 1 + noise]. */
static size_t known_frontier(sl_fit_point *p, double noise)
{
    sl_rng rng;
    sl_rng_seed(&rng, 7);
    size_t n = 0;
    for (int k = 0; k < 12; k++) {
        double f = 1 + noise * (2 * sl_rng_uniform(&rng) - 1);
        double cmin = 1e10 * pow(10, k / 4.0), loss = pow(1e20 / cmin, 0.05);
        double bcrit = 1e4 / pow(loss, 1 / 0.25), smin = 10 * pow(cmin, 0.1) * f;
        double emin = bcrit * smin, nn = cmin / (6 * emin);
        p[n++] = (sl_fit_point){.n = nn, .d = 2 * emin, .c = 2 * cmin, .s = 2 * smin, .b = bcrit,
                                .loss = loss, .run = k};
    }
    return n;
}

static sl_fit_options known_bcrit(int boot)
{
    sl_fit_options o;
    sl_fit_options_default(&o);
    o.bcrit_star = 1e4;
    o.bcrit_alpha = 0.25;
    o.bootstrap = boot;
    o.seed = 1;
    return o;
}

Test(figures, allocation_recovers_the_exponents_of_a_known_frontier)
{
    sl_fit_point p[16];
    size_t n = known_frontier(p, 0);
    sl_fit_options o = known_bcrit(0);
    sl_fit_allocation a;
    sl_error e;
    cr_assert_eq(sl_fit_allocation_of(p, n, &o, &a, &e), SL_OK, "%s", e.msg);
    cr_assert_eq(a.n_points, 12, "every run is on the frontier: %zu", a.n_points);
    const double want[SL_ALLOC_COUNT] = {0.7, 0.2, 0.1, 0.3};
    for (int w = 0; w < SL_ALLOC_COUNT; w++)
        cr_assert_float_eq(a.p[w], want[w], 1e-9, "p_%s %.12g (expected %g)", sl_fit_allocation_name(w),
                           a.p[w], want[w]);
    cr_assert_float_eq(a.scale[SL_ALLOC_S], 10, 1e-6, "S_e %g", a.scale[SL_ALLOC_S]);
    /* the frontier's own points: C_min = C/2, S_min = S/2, E_min = B_crit S_min */
    sl_fit_point f[16];
    size_t m;
    cr_assert_eq(sl_fit_frontier(p, n, &o, f, &m, &e), SL_OK, "%s", e.msg);
    cr_assert_eq(m, 12);
    for (size_t i = 0; i < m; i++) {
        cr_assert_float_eq(f[i].c, p[i].c / 2, 1e-6 * p[i].c);
        cr_assert_float_eq(f[i].s, p[i].s / 2, 1e-9 * p[i].s);
        cr_assert_float_eq(f[i].d, f[i].bcrit * f[i].s, 1e-9 * f[i].d);
    }
}

Test(figures, allocation_of_noisy_points_holds_the_truth_in_its_interval_and_keeps_the_identities)
{
    sl_fit_point p[16];
    size_t n = known_frontier(p, 0.1);
    sl_fit_options o = known_bcrit(200);
    sl_fit_allocation a;
    sl_error e;
    cr_assert_eq(sl_fit_allocation_of(p, n, &o, &a, &e), SL_OK, "%s", e.msg);
    cr_assert_gt(a.n_boot_ok, 150, "%d of 200 resamples", a.n_boot_ok);
    const double want[SL_ALLOC_COUNT] = {0.7, 0.2, 0.1, 0.3};
    for (int w = 0; w < SL_ALLOC_COUNT; w++) {
        cr_assert(fabs(a.p[w] - want[w]) < 0.03, "p_%s %g (expected %g +- 0.03)", sl_fit_allocation_name(w),
                  a.p[w], want[w]);
        cr_assert(a.lo[w] <= want[w] && want[w] <= a.hi[w], "p_%s interval [%g, %g] misses %g",
                  sl_fit_allocation_name(w), a.lo[w], a.hi[w], want[w]);
    }
    /* E_min = B_crit S_min and C_min = 6 N E_min hold point by point */
    cr_assert_float_eq(a.p[SL_ALLOC_B] + a.p[SL_ALLOC_S], a.p[SL_ALLOC_D], 1e-9);
    cr_assert_float_eq(a.p[SL_ALLOC_N] + a.p[SL_ALLOC_D], 1, 1e-9);
    /* no B_crit: no allocation */
    sl_fit_options none;
    sl_fit_options_default(&none);
    cr_assert_eq(sl_fit_allocation_of(p, n, &none, &a, &e), SL_EINPUT);
    cr_assert_not_null(strstr(e.msg, "no B_crit"), "%s", e.msg);
}

Test(figures, data_wall_is_where_l_of_cmin_meets_l_of_the_data_it_uses)
{
    sl_fit_result cmin = {.law = SL_LAW_CMIN, .converged = 1, .n_params = 2};
    cmin.value[0] = 0.05, cmin.value[1] = 1e20;
    sl_fit_result ld = {.law = SL_LAW_POWER_D, .converged = 1, .n_params = 2};
    ld.value[0] = 0.1, ld.value[1] = 1e13;
    double cs, ls;
    sl_error e;
    cr_assert_eq(sl_fit_data_wall(&cmin, &ld, 1e3, 0.3, &cs, &ls, NULL, NULL, &e), SL_OK, "%s", e.msg);
    /* alpha_C ln(C_c/C) = alpha_D ln(D_c/(D_e C^p_D)) */
    double want = exp((0.1 * log(1e13 / 1e3) - 0.05 * log(1e20)) / (0.1 * 0.3 - 0.05));
    cr_assert_float_eq(log(cs), log(want), 1e-9, "C* %g (expected %g)", cs, want);
    cr_assert_float_eq(ls, pow(1e20 / cs, 0.05), 1e-12);
    cr_assert_float_eq(ls, sl_fit_loss_of_data(&ld, 1e3 * pow(cs, 0.3)), 1e-9 * ls);
    /* kaplan-nd at N -> infinity: (D_c/D)^alpha_D, the same crossing */
    sl_fit_result nd = {.law = SL_LAW_KAPLAN_ND, .converged = 1, .n_params = 4};
    nd.value[0] = 0.076, nd.value[1] = 0.1, nd.value[2] = 6e13, nd.value[3] = 1e13;
    double cs2, ls2;
    cr_assert_eq(sl_fit_data_wall(&cmin, &nd, 1e3, 0.3, &cs2, &ls2, NULL, NULL, &e), SL_OK, "%s", e.msg);
    cr_assert_float_eq(log(cs2), log(cs), 1e-9);
    /* paired draws on either side of the fits give an interval around C* */
    double bc[4] = {0.045, 1e20, 0.055, 1e20}, bd[4] = {0.1, 1e13, 0.1, 1e13}, lo, hi;
    cmin.boot = bc, cmin.n_boot_ok = 2, cmin.level = 0.95;
    ld.boot = bd, ld.n_boot_ok = 2;
    cr_assert_eq(sl_fit_data_wall(&cmin, &ld, 1e3, 0.3, &cs, &ls, &lo, &hi, &e), SL_OK, "%s", e.msg);
    cr_assert(lo < cs && cs < hi, "C* %g outside [%g, %g]", cs, lo, hi);
    cmin.boot = ld.boot = NULL;
    cmin.n_boot_ok = ld.n_boot_ok = 0;
    /* parallel lines never meet; other laws are not an L(D) */
    cr_assert_eq(sl_fit_data_wall(&cmin, &ld, 1e3, 0.5, &cs, &ls, NULL, NULL, &e), SL_EINPUT);
    cr_assert_not_null(strstr(e.msg, "parallel"), "%s", e.msg);
    ld.law = SL_LAW_POWER_N;
    cr_assert_eq(sl_fit_data_wall(&cmin, &ld, 1e3, 0.3, &cs, &ls, NULL, NULL, &e), SL_EINPUT);
}

/* A batch scan (the B_crit(L) of bcrit-scan) and an N sweep's learning curves. */
static void scan_and_curves(char *scan, char *curves, size_t len)
{
    train_store(scan, len, "bscan", "\"kind\": \"batch\", \"n\": [3000], \"batches\": [2, 4, 8, 16]",
                "\"steps\": 60, \"eval_every\": 2, \"threads\": 1");
    train_store(curves, len, "ncurves", "\"n\": [3000, 12000, 25000, 60000]",
                "\"steps\": 40, \"eval_every\": 2, \"threads\": 1");
}

/* One cell of a CSV file by row index and column name, as a number. */
static double csv_number(const char *path, size_t row, const char *col)
{
    sl_csv t;
    sl_error e;
    cr_assert_eq(sl_csv_read(path, &t, &e), SL_OK, "%s", e.msg);
    int c = sl_csv_column(&t, col);
    cr_assert_geq(c, 0, "%s has no column %s", path, col);
    cr_assert_lt(row, t.n_rows);
    double v = strtod(sl_csv_cell(&t, row, (size_t)c), NULL);
    sl_csv_free(&t);
    return v;
}

Test(figures, bcrit_from_draws_the_frontier_figures_and_table_6_with_fits_numbers)
{
    char scan[600], curves[600], figs[700];
    scan_and_curves(scan, curves, sizeof scan);
    snprintf(figs, sizeof figs, "%s/figs-frontier", tu_dir);
    const char *ex[] = {"export", curves, "--plots", figs, "--bcrit-from", scan, NULL};
    char out[4096], errb[4096];
    cr_assert_eq(tu_run(out, sizeof out, errb, sizeof errb, 0, ex), 0, "%s", errb);
    cr_assert_not_null(strstr(errb, "wrote 11 figures"), "%s", errb);
    cr_assert_not_null(strstr(errb, "table6.csv and "), "%s", errb);
    const char *names[] = {"frontier-cmin", "smin-cmin", "allocation"};
    for (int i = 0; i < 3; i++)
        assert_png(figs, names[i]);
    cr_assert(!has_figure(figs, "data-wall"), "data-wall drawn without --nd-from");
    /* the legend carries what `scalelab fit DIR --law cmin --bcrit-from SCAN` reports */
    char want[128], entry[200];
    cli_param(want, sizeof want, curves, "cmin", "alpha_C", "--bcrit-from", scan, NULL, NULL);
    snprintf(entry, sizeof entry, ">cmin: %s (published 0.050)</text>", want);
    assert_has_text(figs, "frontier-cmin", entry);
    cli_param(want, sizeof want, curves, "cfixed", "alpha_C", NULL, NULL, NULL, NULL);
    snprintf(entry, sizeof entry, ">cfixed: %s (published 0.057)</text>", want);
    assert_has_text(figs, "frontier-cmin", entry);
    assert_has_text(figs, "frontier-cmin", ">compute C and C_min (FLOP, kaplan: 6N per token)</text>");
    assert_has_text(figs, "smin-cmin", ">S_min = S/(1 + B_crit/B) (steps)</text>");
    assert_has_text(figs, "allocation", "B_crit(L) bcrit-scan of ");
    /* Table 6: p_N + p_D = 1 (Kaplan's C = 6 N E_min) and p_D = p_B + p_S */
    char t6[800];
    snprintf(t6, sizeof t6, "%s/table6.csv", figs);
    cr_assert_eq(su_count_lines(t6), 5);
    double pn = csv_number(t6, 0, "value"), pb = csv_number(t6, 1, "value"), ps = csv_number(t6, 2, "value"),
           pd = csv_number(t6, 3, "value");
    cr_assert_float_eq(pn + pd, 1, 1e-9, "p_N %g + p_D %g", pn, pd);
    cr_assert_float_eq(pb + ps, pd, 1e-9, "p_B %g + p_S %g against p_D %g", pb, ps, pd);
    cr_assert_float_eq(csv_number(t6, 0, "published"), 0.73, 1e-12);
    /* smin-cmin and allocation draw Table 6's lines */
    snprintf(entry, sizeof entry, ">S_min ∝ C_min^p_S: %.3g [%.3g, %.3g] (published 0.03)</text>", ps,
             csv_number(t6, 2, "ci_low"), csv_number(t6, 2, "ci_high"));
    assert_has_text(figs, "smin-cmin", entry);
    snprintf(entry, sizeof entry, ">N (non-embedding parameters) ∝ C_min^p_N: %.3g [", pn);
    assert_has_text(figs, "allocation", entry);
    snprintf(t6, sizeof t6, "%s/table6.md", figs);
    char *md = su_read(t6);
    cr_assert_not_null(md);
    cr_assert_not_null(strstr(md, "| p_N | N_opt, non-embedding parameters | "), "%s", md);
    cr_assert_not_null(strstr(md, "kaplan accounting"), "%s", md);
    free(md);

    /* --accounting attn: the compute axes and the fits use C with attention's term */
    snprintf(figs, sizeof figs, "%s/figs-frontier-attn", tu_dir);
    const char *ex2[] = {"export", curves, "--plots", figs, "--bcrit-from", scan, "--accounting", "attn", NULL};
    cr_assert_eq(tu_run(out, sizeof out, errb, sizeof errb, 0, ex2), 0, "%s", errb);
    assert_has_text(figs, "curves-compute", ">compute C (FLOP, attn: 6N + 6 n_layer n_ctx d_model per token)</text>");
    cli_param(want, sizeof want, curves, "cmin", "alpha_C", "--bcrit-from", scan, "--accounting", "attn");
    snprintf(entry, sizeof entry, ">cmin: %s (published 0.050)</text>", want);
    assert_has_text(figs, "frontier-cmin", entry);
}

Test(figures, frontier_options_reject_bad_input_in_one_line)
{
    char scan[600], curves[600];
    scan_and_curves(scan, curves, sizeof scan);
    char figs[700];
    snprintf(figs, sizeof figs, "%s/figs-bad", tu_dir);
    const char *a1[] = {"export", curves, "--plots", figs, "--accounting", "flops", NULL};
    tu_assert_bad_input("--accounting: 'flops' is not an accounting (expected kaplan, attn, head or total)", a1);
    const char *a2[] = {"export", curves, "--bcrit-from", scan, NULL};
    tu_assert_bad_input("--bcrit-from: without --plots (expected --plots FIGDIR", a2);
    const char *a3[] = {"export", curves, "--plots", figs, "--nd-from", curves, NULL};
    tu_assert_bad_input("--nd-from: without --bcrit-from (expected both", a3);
    /* an N sweep is not a batch scan: its B is one value */
    const char *a4[] = {"export", curves, "--plots", figs, "--bcrit-from", curves, NULL};
    tu_assert_bad_input("--bcrit-from: ", a4);
    char missing[700];
    snprintf(missing, sizeof missing, "%s/no-such-scan.csv", tu_dir);
    const char *a5[] = {"export", curves, "--plots", figs, "--bcrit-from", missing, NULL};
    tu_assert_bad_input("no-such-scan.csv", a5);
    const char *a6[] = {"export", curves, "--plots", figs, "--bcrit-from", scan, "--bcrit-law", "power-n", NULL};
    tu_assert_bad_input("--bcrit-law: 'power-n' (expected bcrit-scan or bcrit)", a6);
    /* an N sweep has no spread of D: neither kaplan-nd nor power-d, both said */
    const char *a7[] = {"export", curves, "--plots", figs, "--bcrit-from", scan, "--nd-from", curves, NULL};
    tu_assert_bad_input("--nd-from: ", a7);
    tu_assert_bad_input("kaplan-nd: all 4 points have the same D", a7);
    tu_assert_bad_input("power-d: all 4 points have the same D", a7);
}

/* Figure 15 on our own fits: L(D) from an nd grid (--nd-from) and the
 * crossing the fit module computes from the store's cmin and allocation. */
Test(figures, data_wall_draws_the_crossing_of_our_own_fits)
{
    char scan[600], curves[600], grid[600], figs[700];
    scan_and_curves(scan, curves, sizeof scan);
    train_store(grid, sizeof grid, "ndgrid", "\"kind\": \"nd\", \"n\": [3000, 12000], \"d\": [500, 1000, 2000]",
                "\"steps\": 200, \"eval_every\": 5, \"threads\": 1, "
                "\"early_stopping\": {\"patience\": 2, \"min_delta\": 0.03}");
    snprintf(figs, sizeof figs, "%s/figs-wall", tu_dir);
    const char *ex[] = {"export", curves, "--plots", figs, "--bcrit-from", scan, "--nd-from", grid, NULL};
    char out[4096], errb[4096];
    cr_assert_eq(tu_run(out, sizeof out, errb, sizeof errb, 0, ex), 0, "%s", errb);
    assert_png(figs, "data-wall");
    char *svg = read_svg(figs, "data-wall");
    cr_assert_not_null(strstr(svg, ">L(D(C_min)): kaplan-nd of "), "no L(D(C_min)) legend entry");
    cr_assert(strstr(svg, "C* = ") != NULL || strstr(svg, "no crossing") != NULL, "no crossing stated");
    free(svg);
}

/* Figure 16: the S_stop bound of each early-stopped run against its best
 * step, the runs `scalelab fit DIR --law kaplan-nd --ns-from` lists. */
Test(figures, stop_bound_places_each_early_stopped_run_against_its_bound)
{
    char scan[600], curves[600], grid[600], figs[700];
    scan_and_curves(scan, curves, sizeof scan);
    train_store(grid, sizeof grid, "ndstop", "\"kind\": \"nd\", \"n\": [3000, 12000], \"d\": [500, 1000, 2000]",
                "\"steps\": 200, \"eval_every\": 5, \"threads\": 1, "
                "\"early_stopping\": {\"patience\": 2, \"min_delta\": 0.03}");
    const char *fit[] = {"fit", grid, "--law", "kaplan-nd", "--ns-from", curves, "--bcrit-from", scan, NULL};
    char out[16384], errb[4096];
    cr_assert_eq(tu_run(out, sizeof out, errb, sizeof errb, 0, fit), 0, "%s", errb);
    const char *stop = strstr(out, "stop      S_stop");
    cr_assert_not_null(stop, "fit lists no early-stopped run: %s", out);
    int listed = 0;
    for (const char *s = stop; (s = strstr(s, "\n          r0")); s++)
        listed++;
    cr_assert_gt(listed, 0);
    snprintf(figs, sizeof figs, "%s/figs-stop", tu_dir);
    const char *ex[] = {"export", grid, "--plots", figs, "--ns-from", curves, "--bcrit-from", scan, NULL};
    cr_assert_eq(tu_run(out, sizeof out, errb, sizeof errb, 0, ex), 0, "%s", errb);
    assert_png(figs, "stop-bound");
    char want[96];
    snprintf(want, sizeof want, " runs at or above it");
    char *svg = read_svg(figs, "stop-bound");
    const char *t = strstr(svg, want);
    cr_assert_not_null(t, "no count in the title");
    const char *of = t;
    while (of > svg && strncmp(of, " of ", 4))
        of--;
    cr_assert_eq(atoi(of + 4), listed, "the figure has %d runs, fit lists %d", atoi(of + 4), listed);
    cr_assert_not_null(strstr(svg, "kaplan-ns of "), "the subtitle does not name the L(N, S) used");
    free(svg);
    cr_assert(!has_figure(figs, "frontier-cmin"), "an nd grid has no frontier figures");
    char t6[800];
    snprintf(t6, sizeof t6, "%s/table6.csv", figs);
    cr_assert_neq(access(t6, F_OK), 0, "Table 6 written for an nd grid");
}

/* Figure 22: a learning-rate scan of one model: its schedules, and its best
 * loss against the learning rate summed over the steps trained, the
 * schedule the trainer followed (each metric row's lr). */
Test(figures, lr_scan_follows_the_schedule_each_run_trained_with)
{
    char dir[600], figs[700];
    train_store(dir, sizeof dir, "lrscan", "\"n\": [12000], \"lr_factors\": [0.25, 1, 4]",
                "\"steps\": 30, \"eval_every\": 5, \"threads\": 1");
    export_figures(dir, "lrscan", figs, sizeof figs, 8);
    assert_png(figs, "lr-scan");
    assert_png(figs, "lr-schedules");
    assert_has_text(figs, "lr-scan", ">r000-L1-d32-lr0.25-s1: peak lr ");
    assert_has_text(figs, "lr-schedules", ">r002-L1-d32-lr4-s1: peak ");
    sl_run *runs;
    int n;
    sl_error e;
    cr_assert_eq(sl_runs_load(dir, &runs, &n, &e), SL_OK, "%s", e.msg);
    for (int i = 0; i < n; i++) {
        sl_optim_opts o;
        sl_train_optim_opts(&runs[i].spec.train, &o);
        for (size_t j = 0; j < runs[i].n_rows; j++)
            if (runs[i].rows[j].step > 0)
                /* metrics.csv keeps 7 significant digits of lr */
                cr_assert_float_eq(sl_lr_at(&o, runs[i].rows[j].step - 1), runs[i].rows[j].lr,
                                   1e-6 * runs[i].rows[j].lr, "%s step %ld: %g against %g", runs[i].spec.id,
                                   runs[i].rows[j].step, sl_lr_at(&o, runs[i].rows[j].step - 1),
                                   runs[i].rows[j].lr);
    }
    sl_runs_free(runs, n);
    /* several models: no scan */
    char three[600];
    three_runs(three, sizeof three);
    export_figures(three, "three", figs, sizeof figs, 7);
    cr_assert(!has_figure(figs, "lr-scan") && !has_figure(figs, "lr-schedules"));
}

/* fits.csv says what its numbers count: which C, which N, which loss. */
static void fits_counts(const char *csv, const char *law, const char *acct, const char *n, const char *loss)
{
    sl_csv t;
    sl_error e;
    cr_assert_eq(sl_csv_read(csv, &t, &e), SL_OK, "%s", e.msg);
    int cl = sl_csv_column(&t, "law"), ca = sl_csv_column(&t, "accounting"), cn = sl_csv_column(&t, "n_counts"),
        cu = sl_csv_column(&t, "loss_unit");
    cr_assert(cl >= 0 && ca >= 0 && cn >= 0 && cu >= 0, "fits.csv lacks the counting columns");
    int seen = 0;
    for (size_t i = 0; i < t.n_rows; i++) {
        if (strcmp(sl_csv_cell(&t, i, (size_t)cl), law))
            continue;
        seen++;
        cr_assert_str_eq(sl_csv_cell(&t, i, (size_t)ca), acct, "%s accounting", law);
        cr_assert_str_eq(sl_csv_cell(&t, i, (size_t)cn), n, "%s n_counts", law);
        cr_assert_str_eq(sl_csv_cell(&t, i, (size_t)cu), loss, "%s loss_unit", law);
    }
    sl_csv_free(&t);
    cr_assert_gt(seen, 0, "no %s rows", law);
}

Test(figures, fits_csv_labels_which_c_n_and_loss_each_law_counts)
{
    char dir[600], csv[600];
    three_runs(dir, sizeof dir);
    tu_path(csv, sizeof csv, "counts.csv");
    const char *a1[] = {"fit", dir, "--law", "cmin,power-n", "--accounting", "attn", "--csv", csv, NULL};
    char out[8192], errb[4096];
    cr_assert_eq(tu_run(out, sizeof out, errb, sizeof errb, 0, a1), 0, "%s", errb);
    fits_counts(csv, "cmin", "attn", "", "nats/token");
    fits_counts(csv, "power-n", "", "N", "nats/token");
    const char *a2[] = {"fit", dir, "--law", "power-n", "--n", "n_total", "--loss", "bpb", "--csv", csv, NULL};
    cr_assert_eq(tu_run(out, sizeof out, errb, sizeof errb, 0, a2), 0, "%s", errb);
    fits_counts(csv, "power-n", "", "N_total", "bits/byte");
    const char *a3[] = {"fit", dir, "--law", "approach1", "--csv", csv, NULL};
    cr_assert_eq(tu_run(out, sizeof out, errb, sizeof errb, 0, a3), 0, "%s", errb);
    fits_counts(csv, "approach1", "kaplan", "N", "nats/token");
}
