/* run: one run of a sweep, in one place. Its spec (config.json), status
 * (status.json), metric rows (metrics.csv, with the transfer loss), its view in
 * a snapshot, its best row, the points each law takes from it, its directory's
 * file names and its id; and the resumable run directory that training writes
 * (load the checkpoint, trim the metrics to it, append, checkpoint).
 * The engine, the store readers, the lab (watch, fitter), the figures, export
 * and `scalelab fit` all ask this module, so one store gives one answer
 * whoever asks. Core: never prints, no threads of its own. */
#ifndef SCALELAB_RUN_H
#define SCALELAB_RUN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "scalelab/fit.h"
#include "scalelab/model.h"
#include "scalelab/preset.h"
#include "scalelab/store.h"
#include "scalelab/train.h"
#include "scalelab/util.h"

/* ---- file names (docs/FORMATS.md) ------------------------------------------ */

#define SL_SWEEP_FILE "sweep.json"         /* in the sweep directory */
#define SL_CORPUS_RECORD_FILE "corpus.json" /* in the sweep (or train --out) directory */
#define SL_RUN_CONFIG_FILE "config.json"   /* in each run directory */
#define SL_RUN_STATUS_FILE "status.json"
#define SL_RUN_METRICS_FILE "metrics.csv"
#define SL_RUN_CHECKPOINT_FILE "checkpoint.bin"
#define SL_RUN_CONTEXT_FILE "context.csv"
#define SL_RUN_LOCK_FILE ".lock"
/* The extra metrics.csv column of a sweep with a second evaluation corpus. */
#define SL_RUN_TRANSFER_COLUMN "transfer_loss"

/* DIR/NAME into out (len bytes; truncated paths are cut at len). */
void sl_run_path(char *out, size_t len, const char *dir, const char *name);

/* ---- states ------------------------------------------------------------------
 * Also the `state` of status.json:
 *   queued   waiting for cores (never started, or resumable and not running)
 *   running  a worker trains it now
 *   paused   the user paused it: checkpointed, holds no cores, waits for resume
 *   done     trained to the end, or early-stopped (reason says which)
 *   failed   diverged or an I/O error (reason says which); not retried by resume
 *   stopped  the sweep was stopped or the user cancelled the run (reason
 *            "cancelled"); checkpointed. */
typedef enum {
    SL_RUN_QUEUED,
    SL_RUN_RUNNING,
    SL_RUN_PAUSED,
    SL_RUN_DONE,
    SL_RUN_FAILED,
    SL_RUN_STOPPED,
} sl_run_state;

/* "queued", "running", ... as in status.json; and back (-1 if unknown). */
const char *sl_run_state_name(sl_run_state s);
int sl_run_state_parse(const char *s);

/* ---- the id ------------------------------------------------------------------ */

/* The id (directory name) of a run, unique in its sweep:
 * "r<index>-L<layers>-d<d_model><extra>-s<seed>", where extra names what the
 * sweep kind varies besides N: "-D<tokens>" (nd), "-C<budget>" (isoflop),
 * "-B<batch>" (batch), nothing otherwise; then "-lr<factor>" for a run of a
 * learning-rate scan (sweep.lr_factors; 0: none). Planned and lab-added runs
 * alike. The re-run of an early-stopped run (spec.annealed_from set) is
 * "<annealed_from>-anneal". */
void sl_run_id(const sl_run_spec *s, sl_sweep_kind kind, double lr_factor,
               char id[SL_RUN_ID_MAX]);
/* The bootstrap's resampling unit of a run: a hash of its id, so that every
 * reader of a store (the lab, fit, the figures) resamples the same way. */
long sl_run_key(const char *id);

/* ---- the record ---------------------------------------------------------------- */

typedef struct {
    sl_run_spec spec;       /* config.json */
    sl_run_status status;   /* status.json */
    sl_metric_row *rows;    /* metrics.csv, in step order (owned) */
    double *transfer;       /* the transfer_loss column, n_rows values, or NULL */
    size_t n_rows;
} sl_run;

/* Reads DIR/config.json, status.json and metrics.csv (when present) of a run:
 * the only reader of a run directory (the engine, the store's readers and the
 * lab's watch use it, the watch part by part as files change). */
int sl_run_load(sl_run *r, const char *run_dir, sl_error *err);
/* Its parts: config.json into r->spec; metrics.csv (no rows when absent) into
 * r->rows and r->transfer, replacing what r held (kept on failure). The
 * status is sl_status_read (store.h). */
int sl_run_load_spec(sl_run *r, const char *run_dir, sl_error *err);
int sl_run_load_rows(sl_run *r, const char *run_dir, sl_error *err);
/* Writes DIR/config.json of spec s, atomically. */
int sl_run_save_spec(const sl_run_spec *s, const char *run_dir, sl_error *err);
void sl_run_free(sl_run *r);
/* The state of status.json (queued when unknown). */
sl_run_state sl_run_state_of(const sl_run *r);
/* Done because its test loss stopped improving (status.json's reason says
 * early stopping), not at the end of its steps. */
int sl_run_early_stopped(const sl_run *r);

/* Every run of a store, in planned-index order (checks sweep.json's version). */
int sl_runs_load(const char *sweep_dir, sl_run **runs, int *n, sl_error *err);
void sl_runs_free(sl_run *runs, int n);

/* ---- the best row ---------------------------------------------------------------- */

/* The row of lowest test loss among the rows after step 0 with a finite,
 * positive test loss (the first of equals); -1 when there is none. */
long sl_run_best_row(const sl_metric_row *rows, size_t n);
/* Its test loss, NaN when there is none. */
double sl_run_best_loss(const sl_metric_row *rows, size_t n);
/* Its test loss in bits per byte (the same row: bits per byte are the loss
 * times a constant of the corpus), NaN when there is none or the row has none. */
double sl_run_best_bpb(const sl_metric_row *rows, size_t n);

/* Epochs of its train data a run has seen: tokens over the train tokens it
 * draws from (its data limit D when set and smaller, else the train part,
 * train_tokens); NaN when train_tokens is 0 (unknown). */
double sl_run_epochs(double tokens, size_t data_limit, size_t train_tokens);

/* ---- the points a law takes --------------------------------------------------------
 * Which rows: the rule of the law (sl_fit_law_points):
 *   SL_POINTS_BEST    a finished (done) run's best row, D = its data limit
 *                     (else the tokens seen)
 *   SL_POINTS_CURVES  every row after step 0, D = the tokens seen, capped at the
 *                     data limit (a data-limited run has seen D distinct tokens)
 *   SL_POINTS_NOISE   every row after step 0 that measured the gradient noise
 *                     scale (B_simple, McCandlish et al.'s B_crit)
 * Each point is N (Kaplan's), D, C, S, B (tokens per step), the loss of the
 * kind asked for (below; rows without one are skipped) and the run key.
 *
 * Which loss: the `loss` argument of the functions below. */
typedef enum {
    SL_LOSS_TEST = 0,     /* test_loss, nats per token */
    SL_LOSS_TRANSFER = 1, /* transfer_loss (data.eval_corpus), nats per token */
    SL_LOSS_BPB = 2,      /* test_bpb, bits per byte (byte and BPE sweeps compare) */
} sl_loss_kind;
/* "test", "transfer", "bpb"; and back (-1 if unknown). */
const char *sl_loss_kind_name(sl_loss_kind k);
int sl_loss_kind_parse(const char *s);

/* Indices of the rows a rule takes from r, into rows_out (room for r->n_rows);
 * returns their number. */
size_t sl_run_point_rows(const sl_run *r, sl_fit_point_rule rule, int loss, size_t *rows_out);
/* The point of row `row` of r under rule. */
sl_fit_point sl_run_point(const sl_run *r, size_t row, sl_fit_point_rule rule, int loss);
/* The points of every run: malloc'd (free), *n their number. Under
 * SL_POINTS_BEST a run re-run by early-stopping anneal (spec.annealed_from)
 * gives its point through the re-run once that is done. */
void sl_runs_points(const sl_run *runs, int n_runs, sl_fit_point_rule rule, int loss,
                    sl_fit_point **pts, size_t *n);
/* The points law is fitted to, the one home of `scalelab fit DIR`, the lab and
 * the figures: the law's rule (sl_fit_law_points) as sl_runs_points takes it,
 * and for kaplan-ns only the rows after each run's warmup (Kaplan et al. fit
 * their learning curves past it) unless SL_LAW_POINTS_WITH_WARMUP;
 * SL_LAW_POINTS_DONE_ONLY leaves out the runs not done (the finished-run fit
 * beside the lab's live one); SL_LAW_POINTS_BPB takes the test loss in bits
 * per byte (SL_LOSS_BPB) for the test loss in nats per token. */
enum { SL_LAW_POINTS_WITH_WARMUP = 1, SL_LAW_POINTS_DONE_ONLY = 2, SL_LAW_POINTS_BPB = 4 };
void sl_runs_law_points(const sl_run *runs, int n_runs, sl_fit_law law, unsigned flags,
                        sl_fit_point **pts, size_t *n);

/* ---- the view -------------------------------------------------------------------------
 * A run as a front end sees it (a snapshot of the engine, or the lab's watch of
 * a store): the record's spec and rows and what follows from them. */
typedef struct {
    char id[SL_RUN_ID_MAX];
    sl_run_spec spec;          /* config.json as the run holds it now */
    int index;                 /* planned index (--only); added runs continue the count */
    sl_config shape;           /* layers, d_model, heads, d_ff, n_ctx, vocab */
    double n, n_total;         /* Kaplan's N (non-embedding) and all parameters */
    double d;                  /* data limit D in tokens; 0 = the whole train split */
    double flops_per_token;    /* 6N + attention (Kaplan's C per token) */
    long planned_steps, done_steps;
    double planned_tokens, done_tokens;
    sl_run_state state;
    int cancelled;             /* stopped by the user (state stopped) */
    int early_stopped;         /* done because the test loss stopped improving */
    char reason[256];          /* why it is failed/stopped/done early; "" otherwise */
    double tokens_per_s;       /* recent training throughput; 0 when not running */
    double eta_s;              /* seconds to the planned end; NaN when unknown */
    int threads;               /* fixed for the run's life; 0 = not yet started */
    uint64_t seed;
    int priority;
    int batch;
    double lr;                 /* peak learning rate (auto resolved) */
    double best_test_loss;     /* sl_run_best_loss of the rows; NaN until one */
    double best_test_bpb;      /* the same row's bits per byte; NaN if none */
    double epochs;             /* epochs of its train data seen (the caller's:
                                  the engine's corpus, or status.json); NaN unknown */
    double transfer_loss;      /* latest loss on the eval corpus; NaN if none */
    int has_last;              /* last holds a row */
    sl_metric_row last;        /* the latest metric row */
    /* Every metric row so far, in step order (rows after the last checkpoint
     * are dropped when a run resumes, so n_rows can shrink by a few). Owned by
     * the snapshot. */
    sl_metric_row *rows;
    size_t n_rows;
    double *transfer;          /* n_rows losses on the eval corpus, or NULL */
} sl_run_view;

/* Fills the fields of v that follow from the spec and the rows (id, index,
 * shape, counts, steps and tokens, seed, priority, batch, lr, threads, best,
 * last row, transfer loss); v->spec, v->rows, v->transfer and v->n_rows must be
 * set. done_steps < 0: the last row's step. The state, reason and speed are
 * the caller's. */
void sl_run_view_derive(sl_run_view *v, long done_steps);
/* A record that borrows the view's spec and rows (do not free it), for
 * sl_run_point_rows and sl_run_point. */
sl_run sl_run_view_record(const sl_run_view *v);

/* ---- the resumable run directory ------------------------------------------------------
 * DIR/checkpoint.bin and DIR/metrics.csv of one training, written the same way
 * by `scalelab train --out DIR` and the engine: a row is appended (and
 * flushed) before the checkpoint that accounts for it, so after a crash the
 * rows past the checkpoint (and a torn last line) are dropped, and the resumed
 * run writes them again, bit for bit the same. */
typedef struct {
    char checkpoint[1300], metrics[1300];
    FILE *f;
    int has_extra;          /* metrics.csv carries the transfer_loss column */
    int layout;             /* its row layout (SL_METRICS_*, store.h) */
    int resumed;            /* a checkpoint was loaded */
    /* what opening did besides the usual, for the caller to show ("" when
     * nothing): a checkpoint set aside because metrics.csv lacks rows it
     * accounts for (lost in a power cut), the run then starts over */
    char note[1600];
    /* the rows the directory held after the trim (owned; take them by setting
     * the pointers to NULL) */
    sl_metric_row *rows;
    double *transfer;
    size_t n_rows;
} sl_run_dir;

/* Opens DIR (created when missing): removes the temporaries of dead processes
 * (sl_remove_stale_temps), loads its checkpoint into t when there is one,
 * trims metrics.csv to the rows that checkpoint accounts for (all of them
 * without a checkpoint), reads those rows back, and opens the file for
 * appending (writing the header, with extra_col when given, if it is empty).
 * A checkpoint past the last row metrics.csv holds (rows lost to a power cut
 * before they reached the disk) is removed and the run starts over from step
 * 0, which writes the same rows again; d->note says so. */
int sl_run_dir_open(sl_run_dir *d, const char *dir, sl_trainer *t, const char *extra_col,
                    sl_error *err);
/* Appends one row (extra: the transfer loss when has_extra). */
int sl_run_dir_append(sl_run_dir *d, const sl_metric_row *row, double extra, sl_error *err);
/* Saves t's checkpoint (atomically), after metrics.csv is on disk (fsync):
 * a power cut never leaves a checkpoint whose rows are lost. */
int sl_run_dir_checkpoint(sl_run_dir *d, const sl_trainer *t, sl_error *err);
/* Closes metrics.csv (a failed close is a write error) and frees the rows. */
int sl_run_dir_close(sl_run_dir *d, sl_error *err);

/* How a caller follows and steers sl_run_dir_train; every hook may be NULL. */
typedef struct {
    /* Before each step: nonzero stops the run there (after a checkpoint). */
    int (*should_stop)(void *user);
    /* The transfer loss of a new row (NaN for none). */
    double (*extra)(void *user, const sl_trainer *t);
    /* After a row is appended (and, past step 0, checkpointed): 1 ends the
     * run as done (early stopping), negative fails it (err set), 0 goes on. */
    int (*on_row)(void *user, const sl_metric_row *row, double extra, sl_error *err);
    /* After every step, with its wall time in seconds. */
    void (*on_step)(void *user, const sl_trainer *t, double seconds);
    void *user;
} sl_run_hooks;

/* Trains t to its end in the opened directory: the step-0 row when the
 * directory has no rows yet, then steps, each evaluation's row appended and
 * checkpointed. Returns SL_OK with *stopped 1 when should_stop ended it (a
 * checkpoint saved), 0 when it finished or on_row ended it; negative on
 * failure (a diverged loss, a write error). */
int sl_run_dir_train(sl_run_dir *d, sl_trainer *t, const sl_run_hooks *h, int *stopped,
                     sl_error *err);

#endif
