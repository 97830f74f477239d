/* fit_epoch: approach 3 on Epoch AI's 245 points read off Hoffmann et al.'s
 * Figure 4 must land on the published optimum and intervals (SCALING_FACTS.md).
 * The file is read where it lives, ../shared/reference, never copied. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scalelab/csv.h"
#include "scalelab/fit.h"

#define EPOCH_CSV SL_SOURCE_DIR "/../shared/reference/chinchilla_epoch_245.csv"

/* Sanitizer builds run several times slower: fewer resamples keep the suite
 * short, and the point estimate is checked at full strength either way. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define EPOCH_RESAMPLES 40
#else
#define EPOCH_RESAMPLES 200
#endif

static int cmp_loss(const void *a, const void *b)
{
    const sl_fit_point *x = a, *y = b;
    return (x->loss > y->loss) - (x->loss < y->loss);
}

/* The 240 points Epoch fitted: all 245 but the 5 of highest loss. */
static size_t load_epoch(sl_fit_point **out)
{
    sl_csv t;
    sl_error err = {{0}};
    if (sl_csv_read(EPOCH_CSV, &t, &err) != SL_OK)
        return 0;
    int cn = sl_csv_column(&t, "Model Size"), cc = sl_csv_column(&t, "Training FLOP");
    int cl = sl_csv_column(&t, "loss");
    cr_assert(cn >= 0 && cc >= 0 && cl >= 0, "%s lacks its columns", EPOCH_CSV);
    cr_assert_eq(t.n_rows, 245);
    sl_fit_point *p = calloc(t.n_rows, sizeof *p);
    for (size_t i = 0; i < t.n_rows; i++) {
        p[i].n = strtod(sl_csv_cell(&t, i, (size_t)cn), NULL);
        p[i].c = strtod(sl_csv_cell(&t, i, (size_t)cc), NULL);
        p[i].d = p[i].c / (6 * p[i].n);
        p[i].loss = strtod(sl_csv_cell(&t, i, (size_t)cl), NULL);
        p[i].run = -1;
    }
    qsort(p, t.n_rows, sizeof *p, cmp_loss);
    sl_csv_free(&t);
    *out = p;
    return 240;
}

Test(fit_epoch, fit_chinchilla_reaches_the_published_optimum_on_epochs_points, .timeout = 120)
{
    sl_fit_point *p = NULL;
    size_t n = load_epoch(&p);
    if (n == 0) {
        cr_skip_test("skipped: %s is absent (the reference data lives in ../shared)", EPOCH_CSV);
        return;
    }
    sl_fit_options o;
    sl_fit_options_default(&o);
    o.bootstrap = EPOCH_RESAMPLES;
    o.seed = 2024;
    sl_fit_result r;
    sl_error err = {{0}};
    cr_assert_eq(sl_fit(SL_LAW_CHINCHILLA, p, n, &o, &r, &err), SL_OK, "%s", err.msg);
    cr_assert(r.converged, "%s", r.reason);
    cr_assert_eq(r.n_starts, 4500);
    cr_assert(fabs(r.value[0] - 1.8172) <= 0.001, "E = %.5f", r.value[0]);
    cr_assert(fabs(r.value[3] - 0.3473) <= 0.001, "alpha = %.5f", r.value[3]);
    cr_assert(fabs(r.value[4] - 0.3672) <= 0.002, "beta = %.5f", r.value[4]);
    cr_assert(fabs(r.objective / 1.0183e-3 - 1) <= 0.01, "summed Huber = %.6g", r.objective);
    /* Epoch's 95% intervals from 4000 resamples: ours must overlap them. */
    const int idx[3] = {0, 3, 4};
    const double lo[3] = {1.769, 0.317, 0.331}, hi[3] = {1.871, 0.373, 0.415};
    cr_assert_geq(r.n_boot_ok, EPOCH_RESAMPLES * 9 / 10);
    for (int k = 0; k < 3; k++) {
        int j = idx[k];
        cr_assert(r.ci_low[j] <= hi[k] && r.ci_high[j] >= lo[k],
                  "%s interval [%g, %g] misses Epoch's [%g, %g]", r.names[j], r.ci_low[j],
                  r.ci_high[j], lo[k], hi[k]);
        cr_assert(r.ci_low[j] < r.value[j] && r.value[j] < r.ci_high[j]);
    }
    sl_fit_result_free(&r);
    free(p);
}

Test(fit_epoch, fit_chinchilla_ml_variant_lands_near_the_huber_fit, .timeout = 120)
{
    sl_fit_point *p = NULL;
    size_t n = load_epoch(&p);
    if (n == 0) {
        cr_skip_test("skipped: %s is absent (the reference data lives in ../shared)", EPOCH_CSV);
        return;
    }
    sl_fit_result r;
    sl_error err = {{0}};
    cr_assert_eq(sl_fit(SL_LAW_CHINCHILLA_ML, p, n, NULL, &r, &err), SL_OK, "%s", err.msg);
    cr_assert(r.converged, "%s", r.reason);
    /* Squared loss weighs the outliers the Huber loss discounts, so it moves,
     * but stays within Epoch's intervals. */
    cr_assert(r.value[0] > 1.769 && r.value[0] < 1.92, "E = %g", r.value[0]);
    cr_assert(r.value[3] > 0.317 && r.value[3] < 0.40, "alpha = %g", r.value[3]);
    cr_assert(r.value[5] > 0 && fabs(r.value[5] - r.rms_log) < 1e-12, "sigma %g", r.value[5]);
    sl_fit_result_free(&r);
    free(p);
}
