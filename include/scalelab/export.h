/* export: the CSV tables scalelab writes (docs/FORMATS.md) — runs.csv and
 * curves.csv of a store, fits.csv of fit results, predictions.csv of a fit at
 * points, and the points table of a store that `scalelab fit DIR` reads.
 * Called by `scalelab export`, `scalelab fit` and the lab's export key; never
 * prints. Every table is written atomically. */
#ifndef SCALELAB_EXPORT_H
#define SCALELAB_EXPORT_H

#include <stdio.h>

#include "scalelab/csv.h"
#include "scalelab/fit.h"
#include "scalelab/run.h"
#include "scalelab/util.h"

/* runs.csv: one line per run (config, counts, last row, best test loss,
 * status) to f. */
void sl_export_runs(FILE *f, const sl_run *runs, int n);
/* curves.csv: every metric row of every run, with the run id first (and the
 * transfer_loss column when any run has one). */
void sl_export_curves(FILE *f, const sl_run *runs, int n);
/* sources.csv: run, source, test_tokens, test_bytes, test_loss, test_bpb: the
 * sources.csv of every run of the store that has one (its final held-out loss
 * per source of a named corpus). */
int sl_export_sources(FILE *f, const char *sweep_dir, const sl_run *runs, int n, sl_error *err);
/* OUT/runs.csv, OUT/curves.csv and OUT/sources.csv of the store at sweep_dir
 * (OUT created); *n_runs gets the number of runs. */
int sl_export_store(const char *sweep_dir, const char *out, int *n_runs, sl_error *err);

/* What the points of a fit count, for the columns of fits.csv that say so
 * (docs/FORMATS.md): C's accounting ("kaplan", "attn", "head", "total", or
 * "column NAME" of a points table), which N ("N", non-embedding; "N_total";
 * or "column NAME") and the loss ("nats/token", "bits/byte", or "column
 * NAME"). A law that does not read C (or N) leaves that cell empty. */
typedef struct {
    const char *c, *n, *loss;
} sl_fit_counts;
/* A store's points as the lab and `scalelab fit DIR` take them: kaplan, N,
 * nats/token. */
extern const sl_fit_counts SL_FIT_COUNTS_STORE;

/* fits.csv: the header, the rows of one result (a kaplan-nd fit adds the
 * overfitting exponent alpha_N/alpha_D), and a whole file of n results. */
void sl_export_fits_header(sl_csv_writer *w);
void sl_export_fits_rows(sl_csv_writer *w, const sl_fit_result *r, const sl_fit_counts *k);
int sl_export_fits_save(const sl_fit_result *res, int n, const sl_fit_counts *k, const char *path,
                        sl_error *err);

/* predictions.csv: the header, and a result's prediction (with interval) at
 * each of n points; first is the number of the first point (1 for a table, 0
 * for extra points, which all carry 0). */
void sl_export_predictions_header(sl_csv_writer *w);
void sl_export_predictions_rows(sl_csv_writer *w, const sl_fit_result *r, const sl_fit_point *p,
                                size_t n, int first);

/* A store's verification runs (SL_PREDICTIONS_FILE, docs/FORMATS.md): what a
 * law predicted for a run, written before the run trains. */
#define SL_PREDICTIONS_FILE "predictions.csv"
typedef struct {
    char run[SL_RUN_ID_MAX]; /* the verification run's id */
    char law[32];            /* the law that predicted */
    double n, d, c;          /* where (0: not given) */
    double value, lo, hi;    /* the predicted best test loss (nats/token) and its interval */
} sl_store_prediction;
/* Appends p to the store's predictions (rewritten atomically). */
int sl_export_prediction_add(const char *sweep_dir, const sl_store_prediction *p, sl_error *err);
/* The store's predictions (malloc'd; none without the file). */
int sl_export_predictions_load(const char *sweep_dir, sl_store_prediction **p, int *n,
                               sl_error *err);
/* "inside" or "outside" the interval, "pending" while observed is NaN,
 * "no-interval" without one. */
const char *sl_export_prediction_outcome(const sl_store_prediction *p, double observed);

/* The lab's export: OUT/fits.csv of these fits, OUT/runs.csv and OUT/curves.csv
 * of the store. */
int sl_export_lab(const char *sweep_dir, const char *out, const sl_fit_result *fits, int n_fits,
                  sl_error *err);

/* The points table of a store as malloc'd CSV text, columns n, d, c, s, b,
 * loss, run, n_total, data_limit, c_total, noise_scale, c_attn, c_head,
 * warmup, bpb: the points the rule takes from each run (run.h) for the loss
 * kind (sl_loss_kind: `loss` holds that loss), with the run's id in `run` and
 * the row's bits per byte in `bpb`. */
int sl_export_points_csv(const char *sweep_dir, sl_fit_point_rule rule, int loss, char **text,
                         sl_error *err);

#endif
