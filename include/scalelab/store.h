/* store: the run store on disk (docs/FORMATS.md): sweep.json with a format
 * version, per run config.json, status.json and an append-only metrics.csv.
 * Called by the engine and the CLI (train, status, export, fit); never prints. */
#ifndef SCALELAB_STORE_H
#define SCALELAB_STORE_H

#include <stddef.h>
#include <stdio.h>

#include "scalelab/preset.h"
#include "scalelab/train.h"
#include "scalelab/util.h"

/* The store format this build writes; a sweep.json with a larger
 * format_version is refused. */
#define SL_STORE_VERSION 1

/* metrics.csv: the header line (with its newline) and one row. extra_col is
 * an additional column name (e.g. "transfer_loss") or NULL. */
void sl_metrics_header(FILE *f, const char *extra_col);
/* Writes the row (and extra when extra_col was given: pass NAN for none) and
 * flushes; -1 on a write error. */
int sl_metrics_write_row(FILE *f, const sl_metric_row *r, int has_extra, double extra);

/* Keeps the header and the rows with step <= step (the rows a checkpoint at
 * `step` accounts for) and drops a torn last line; rewrites the file
 * atomically. A missing file is fine. */
int sl_metrics_trim(const char *path, long step, sl_error *err);

/* Reads metrics.csv (a torn last line is ignored): malloc'd rows, and the
 * extra column (malloc'd, or NULL when the file has none). */
int sl_metrics_read(const char *path, sl_metric_row **rows, size_t *n, double **extra,
                    sl_error *err);

/* status.json */
typedef struct {
    char state[16];       /* queued|running|paused|done|failed|stopped */
    char reason[256];
    long step;            /* steps done at the last write */
    double best_test_loss, final_test_loss; /* NaN when none yet */
    int threads;
} sl_run_status;
int sl_status_write(const char *run_dir, const sl_run_status *s, sl_error *err);
/* A missing file reads as queued. */
int sl_status_read(const char *run_dir, sl_run_status *s, sl_error *err);

/* sweep.json: read its text and check its format_version (SL_EINPUT when
 * newer than SL_STORE_VERSION, or not a store). */
int sl_sweep_read(const char *sweep_dir, char **json, sl_error *err);
/* Is DIR a run store (has sweep.json)? */
int sl_store_is_sweep(const char *dir);

/* The run directories of a sweep (those holding config.json), sorted by
 * name; free with sl_store_free_list. */
int sl_store_list_runs(const char *sweep_dir, char ***ids, int *n, sl_error *err);
void sl_store_free_list(char **ids, int n);

/* A whole store read back (status, export, fit): every run's config, status
 * and metric rows, in planned-index order. Checks sweep.json's version. */
typedef struct {
    sl_run_spec spec;
    sl_run_status status;
    sl_metric_row *rows;
    size_t n_rows;
    double *extra; /* the extra metrics column (transfer_loss), or NULL */
} sl_store_run;
int sl_store_load(const char *sweep_dir, sl_store_run **runs, int *n, sl_error *err);
void sl_store_free_runs(sl_store_run *runs, int n);

/* A points table (docs/FORMATS.md) of a store as malloc'd CSV text, columns
 * n,d,c,s,b,loss,run,n_total,data_limit,c_total,noise_scale. */
enum {
    SL_POINTS_BEST = 0,  /* one point per finished run, at its best test loss */
    SL_POINTS_CURVES,    /* one point per metric row after step 0 (envelope laws) */
    SL_POINTS_NOISE      /* the metric rows that measured a gradient noise scale (bcrit) */
};
int sl_store_points_csv(const char *sweep_dir, int which, char **text, sl_error *err);

/* Removes a run directory and what it holds (files only, one level). */
int sl_store_remove_run(const char *run_dir, sl_error *err);

#endif
