/* bench_fit: times the fits that bench/RESULTS.md records. Not a test: it
 * prints wall times on this machine, one core, and checks nothing.
 *   cc -O3 -march=native -Iinclude -D_POSIX_C_SOURCE=200809L bench/bench_fit.c \
 *      build/libscalelab.a -lgsl -lopenblas -lm -o build/bench_fit
 *   build/bench_fit [../shared/reference/chinchilla_epoch_245.csv] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scalelab/csv.h"
#include "scalelab/fit.h"

static int cmp_loss(const void *a, const void *b)
{
    const sl_fit_point *x = a, *y = b;
    return (x->loss > y->loss) - (x->loss < y->loss);
}

static double best_of(int reps, sl_fit_law law, const sl_fit_point *p, size_t n,
                      const sl_fit_options *o, sl_fit_result *keep)
{
    double best = INFINITY;
    for (int k = 0; k < reps; k++) {
        sl_fit_result r;
        sl_error err;
        double t0 = sl_now();
        if (sl_fit(law, p, n, o, &r, &err) != SL_OK) {
            fprintf(stderr, "bench_fit: %s\n", err.msg);
            exit(1);
        }
        double t = sl_now() - t0;
        best = t < best ? t : best;
        if (keep && k == reps - 1)
            *keep = r;
        else
            sl_fit_result_free(&r);
    }
    return best;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "../shared/reference/chinchilla_epoch_245.csv";
    sl_csv t;
    sl_error err;
    sl_fit_options o;
    if (sl_csv_read(path, &t, &err) == SL_OK) {
        int cn = sl_csv_column(&t, "Model Size"), cc = sl_csv_column(&t, "Training FLOP");
        int cl = sl_csv_column(&t, "loss");
        sl_fit_point *p = calloc(t.n_rows, sizeof *p);
        for (size_t i = 0; i < t.n_rows; i++) {
            p[i].n = strtod(sl_csv_cell(&t, i, (size_t)cn), NULL);
            p[i].c = strtod(sl_csv_cell(&t, i, (size_t)cc), NULL);
            p[i].loss = strtod(sl_csv_cell(&t, i, (size_t)cl), NULL);
            p[i].run = -1;
        }
        qsort(p, t.n_rows, sizeof *p, cmp_loss);
        sl_fit_options_default(&o);
        sl_fit_result r;
        double s = best_of(3, SL_LAW_CHINCHILLA, p, t.n_rows - 5, &o, &r);
        printf("approach 3, 4500 starts, %zu points: %.3f s (best of 3)  E=%.4f alpha=%.4f "
               "beta=%.4f huber=%.5g\n",
               t.n_rows - 5, s, r.value[0], r.value[3], r.value[4], r.objective);
        sl_fit_result_free(&r);
        free(p);
        sl_csv_free(&t);
    } else {
        printf("approach 3: skipped (%s)\n", err.msg);
    }

    /* L(N,D) on 30 points (6 sizes x 5 data sizes), 1000 resamples. */
    sl_fit_point nd[30];
    sl_rng rng;
    sl_rng_seed(&rng, 1);
    for (int i = 0; i < 30; i++) {
        double n = 1e5 * pow(10, (i / 5) * 0.8), d = 1e7 * pow(10, (i % 5));
        nd[i] = (sl_fit_point){.n = n, .d = d, .run = -1};
        nd[i].loss = pow(pow(6.4e13 / n, 0.738) + 1.8e13 / d, 0.103) * exp(0.01 * sl_rng_normal(&rng));
    }
    sl_fit_options_default(&o);
    o.bootstrap = 1000;
    sl_fit_result r;
    double s = best_of(3, SL_LAW_KAPLAN_ND, nd, 30, &o, &r);
    printf("kaplan-nd, 30 points, 1000 resamples: %.3f s (best of 3), %d converged\n", s,
           r.n_boot_ok);
    sl_fit_result_free(&r);

    /* A sweep: 10 model sizes, 30 evaluations each, every field filled. Refit
     * every law after one more point arrives, warm-started from the last fits. */
    size_t n = 0, cap = 400;
    sl_fit_point *sw = calloc(cap, sizeof *sw);
    for (int i = 0; i < 10; i++) {
        double N = 1e5 * pow(10, i * 0.4);
        for (int j = 0; j < 30; j++) {
            double S = 100 * pow(10, j * 0.1), B = 2e4, D = S * B, L;
            L = 1.8 + 480 / pow(N, 0.35) + 2100 / pow(D, 0.37);
            sw[n++] = (sl_fit_point){.n = N, .d = D, .c = 6 * N * D, .s = S, .b = B,
                                     .bcrit = 2e8 / pow(L, 1 / 0.21), .loss = L, .run = i};
        }
    }
    sl_fit_options_default(&o);
    o.bcrit_const = 0;
    sl_fit_result last[SL_LAW_COUNT];
    int ok[SL_LAW_COUNT];
    for (int l = 0; l < SL_LAW_COUNT; l++)
        ok[l] = sl_fit((sl_fit_law)l, sw, n, &o, &last[l], &err) == SL_OK;
    sw[n] = sw[n - 1];
    sw[n].s *= 1.1, sw[n].d *= 1.1, sw[n].c *= 1.1, sw[n].loss *= 0.999;
    n++;
    double t0 = sl_now();
    int fitted = 0;
    for (int l = 0; l < SL_LAW_COUNT; l++) {
        sl_fit_options w = o;
        w.warm = ok[l] ? &last[l] : NULL;
        sl_fit_result rr;
        if (sl_fit((sl_fit_law)l, sw, n, &w, &rr, &err) == SL_OK) {
            fitted++;
            sl_fit_result_free(&rr);
        }
    }
    double dt = sl_now() - t0;
    printf("refit of all %d laws after a new point (%zu points, warm, no bootstrap): %.1f ms, "
           "%d fitted\n",
           SL_LAW_COUNT, n, 1e3 * dt, fitted);
    for (int l = 0; l < SL_LAW_COUNT; l++)
        if (ok[l])
            sl_fit_result_free(&last[l]);
    free(sw);
    return 0;
}
