/* store: the run store on disk (docs/FORMATS.md): sweep.json with a format
 * version, per run config.json, status.json and an append-only metrics.csv.
 * The file formats only: a run as a whole (read back, its points, its
 * directory protocol) is run.h. Never prints. */
#ifndef SCALELAB_STORE_H
#define SCALELAB_STORE_H

#include <stddef.h>
#include <stdio.h>

#include "scalelab/data.h"
#include "scalelab/preset.h"
#include "scalelab/train.h"
#include "scalelab/util.h"

/* The store format this build writes; a sweep.json with a larger
 * format_version is refused. */
#define SL_STORE_VERSION 1

/* metrics.csv: the header line (with its newline) and one row. extra_col is
 * an additional column name (e.g. "transfer_loss") or NULL. The header names
 * test_bpb after wall_s (store format 2); a file from before has none. */
void sl_metrics_header(FILE *f, const char *extra_col);
/* The layout of a row: SL_METRICS_TRANSFER, the extra column follows;
 * SL_METRICS_NO_BPB, a file from before test_bpb (written on in its layout). */
#define SL_METRICS_TRANSFER 1
#define SL_METRICS_NO_BPB 2
/* Writes the row in that layout (extra: pass NAN for none) and flushes; -1
 * on a write error. */
int sl_metrics_write_row(FILE *f, const sl_metric_row *r, int layout, double extra);
/* The layout of an existing file's header (0, today's, when the file is
 * missing, empty or not a metrics file). */
int sl_metrics_layout(const char *path);

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
    double best_test_bpb; /* the best row's bits per byte; NaN when none (or older files) */
    double epochs;        /* epochs of its train data seen at `step`; NaN when unknown */
    int threads;
} sl_run_status;
int sl_status_write(const char *run_dir, const sl_run_status *s, sl_error *err);
/* A missing file reads as queued. */
int sl_status_read(const char *run_dir, sl_run_status *s, sl_error *err);

/* sweep.json: read its text and check its format_version (SL_EINPUT when
 * newer than SL_STORE_VERSION, or not a store). */
int sl_sweep_read(const char *sweep_dir, char **json, sl_error *err);
/* Writes sweep.json (the resolved preset's text), atomically: the last file of
 * a new store, whose presence marks it complete. */
int sl_sweep_write(const char *sweep_dir, const char *json, sl_error *err);
/* Records an edit of a live sweep (the lab's preset editor, applied): sweep.json
 * becomes `resolved_json` (the edited preset, resolved) with "revision" one
 * more than the store's (a store without one is revision 1) and "edits", the
 * store's list with {"revision", "time" (UTC, ISO 8601), "change"} appended,
 * written atomically. resume and status then read the edited sweep. The
 * revision is returned in *revision (may be NULL). */
int sl_sweep_revise(const char *sweep_dir, const char *resolved_json, const char *change, int *revision,
                    sl_error *err);
/* The revision of a store's sweep.json text (1 when it has none) and its last
 * edit's change ("" when none) into change (n bytes, may be NULL). */
int sl_sweep_revision(const char *json, char *change, size_t n);
/* corpus.json: which corpus a store trains on — its name and absolute path,
 * tokenizer, format, vocabulary, token and byte counts per split and a content
 * hash (a named corpus's manifest hash; for a text or shard corpus, FNV-1a 64
 * of its tokens), with the manifest of a named corpus. sl_corpus_record_check
 * writes it when the store has none yet (a new store, or one from before the
 * file existed) and otherwise compares: another hash, tokenizer or split is
 * SL_EINPUT naming both hashes, nothing written. */
void sl_corpus_identity(const sl_corpus *c, char hash[17]);
int sl_corpus_record_check(const char *dir, const sl_corpus *c, sl_error *err);
/* The absolute corpus path a store recorded ("" when none, or a named corpus). */
int sl_corpus_record_path(const char *dir, char *path, size_t n);
/* Is DIR a run store (has sweep.json)? */
int sl_store_is_sweep(const char *dir);

/* The run directories of a sweep (those holding config.json), sorted by
 * name; free with sl_store_free_list. */
int sl_store_list_runs(const char *sweep_dir, char ***ids, int *n, sl_error *err);
void sl_store_free_list(char **ids, int n);

/* context.csv: the mean test loss at each position 1..n_ctx (columns position,
 * test_loss), replaced atomically. */
int sl_context_write(const char *run_dir, const double *pos, int n_ctx, sl_error *err);

/* sources.csv: the held-out loss of a run's final model on each source of a
 * named corpus (columns source, test_tokens, test_bytes, test_loss in nats
 * per token, test_bpb in bits per byte), written atomically when the run ends. */
#define SL_RUN_SOURCES_FILE "sources.csv"
/* (sl_source_loss is in data.h) */
int sl_sources_write(const char *run_dir, const sl_source_loss *s, int n, sl_error *err);
/* Reads it back (malloc'd, *n rows; *n = 0 and *s = NULL when the run has
 * none): a damaged file is SL_EINPUT naming the file, the line and the column. */
int sl_sources_read(const char *run_dir, sl_source_loss **s, int *n, sl_error *err);

/* Removes a run directory and what it holds (files only, one level). */
int sl_store_remove_run(const char *run_dir, sl_error *err);

#endif
