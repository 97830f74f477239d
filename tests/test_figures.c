/* Figures: `scalelab export DIR --plots OUT` on a small sweep writes an SVG and a
 * PNG per figure; the PNG decodes at the figure's size, the SVG carries its
 * decade labels and legend entries; a bad --plots path is one line, exit 2. */
#include <cairo.h>

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
    cr_assert_not_null(strstr(errb, "wrote 3 figures"), "%s", errb);
    cr_assert_eq(out[0], 0, "export --plots alone prints no runs.csv: %s", out);
    const char *names[] = {"curves-tokens", "curves-compute", "law-n"};
    for (int i = 0; i < 3; i++)
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
