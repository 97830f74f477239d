/* Figures: `scalelab export DIR --plots OUT` on a small sweep writes an SVG and a
 * PNG per figure; the PNG decodes at the figure's size, the SVG carries its
 * decade labels and legend entries; a bad --plots path is one line, exit 2.
 * overfit, law-bcrit, law-shape and context are written when the store has
 * their data and not otherwise, with the exponents `scalelab fit` reports; the
 * slices of Kaplan's Figures 6, 11, 12, 18 and 21 are drawn from the stores
 * that hold their data. */
#include <cairo.h>

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
    assert_has_text(figs, "law-n-at-c", ">compute C = 6N per token (kaplan accounting)</text>");
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
