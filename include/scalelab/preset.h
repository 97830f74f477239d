/* preset: experiment presets (JSON) parsed, validated and planned into the list
 * of runs of a sweep. Every key is documented in docs/PRESETS.md and in
 * src/core/preset.c where it is parsed. Called by the engine and the CLI; never prints. */
#ifndef SCALELAB_PRESET_H
#define SCALELAB_PRESET_H

#include <stddef.h>
#include <stdint.h>

#include "scalelab/data.h"
#include "scalelab/fit.h"
#include "scalelab/train.h"

/* A preset lists each law at most once, so every law fits. */
#define SL_PRESET_MAX_LAWS SL_LAW_COUNT
#define SL_RUN_ID_MAX 64

typedef enum {
    SL_SWEEP_N,       /* "n": one run per N (shape from sl_model_for_n) */
    SL_SWEEP_ND,      /* "nd": every N x every D (data-limited runs) */
    SL_SWEEP_ISOFLOP, /* "isoflop": every compute budget x every N; tokens = C / flops per token */
    SL_SWEEP_SHAPE,   /* "shape": fixed N, one run per aspect ratio (or model.shapes) */
    SL_SWEEP_BATCH,   /* "batch": every N x every batch size */
} sl_sweep_kind;

/* One planned run: everything needed to train it (with the sweep's corpus).
 * It is also what <run>/config.json holds (sl_run_spec_to_json/from_json). */
typedef struct {
    char id[SL_RUN_ID_MAX]; /* directory name, unique in the sweep: "r003-L2-d64-s1" */
    int index;              /* position in the planned sweep (0-based); --only uses it */
    double n_target;        /* the N asked for (0 for explicit shapes) */
    double budget;          /* isoflop: the compute budget C in FLOPs (0 otherwise) */
    sl_train_opts train;    /* model shape, batch, steps, lr, seed, data_limit (D), ...;
                               train.threads 0 = chosen by the scheduler at first start */
    int patience;           /* early stopping: evaluations without a new best; 0 = off */
    double min_delta;       /* early stopping: an improvement smaller than this is none */
    int priority;           /* lower runs first; ties by index */
    /* early stopping that lets the learning rate anneal: a run that stops early
     * is trained again, as a new run, to its best step with the schedule ending
     * there (same warmup and seed, no early stopping) */
    int anneal;
    char annealed_from[SL_RUN_ID_MAX]; /* that re-run: the id of the stopped run; "" */
} sl_run_spec;

typedef struct {
    char path[1024];        /* the file it came from, for messages */
    char name[64];          /* sweep name: the store directory is RUNS/<name> */
    char description[256];  /* one line */
    char figure[256];       /* the paper figure it mirrors */
    /* data */
    char corpus[1024];      /* "debian" (default), "debian:SRC,...", "kjv", a text file,
                               folder or .bin shard(s) */
    char holdout[256];      /* sources held out as the transfer set, comma-separated; "" none */
    char tokenizer[32];     /* "byte" (default) or "bpe:VOCAB" */
    double test_frac;       /* default 0.05 */
    char eval_corpus[1024]; /* second evaluation corpus (transfer); "" = none */
    /* model */
    int n_ctx, head_size, ff_mult;
    double aspect;          /* d_model / n_layer */
    int layers;             /* every size this deep; 0 = chosen with the aspect */
    /* sweep */
    sl_sweep_kind kind;
    int revision;             /* sweep.json's revision: 1 + the edits applied to the live sweep */
    sl_accounting accounting; /* sweep.accounting: FLOPs per token an isoflop budget is divided by */
    /* train (copied into every run; per-kind values override) */
    sl_train_opts train;
    double tokens;          /* > 0: train this many tokens (steps = tokens / (batch*n_ctx)) */
    int patience;
    double min_delta;
    int anneal;             /* train.early_stopping.anneal */
    int warmup_n_tokens;    /* train.warmup "n-tokens": each run warms up over N tokens */
    int context_losses;     /* write per-position test loss at the end of each run */
    /* laws to fit (names as scalelab fit --law) */
    int n_laws;
    char laws[SL_PRESET_MAX_LAWS][32];
    /* the planned runs (after sl_preset_plan) */
    sl_run_spec *runs;
    int n_runs;
    /* after sl_preset_plan: the most epochs of the whole train part any run
     * without a data limit trains, and that run's index (-1 none). More than 1
     * is worth a warning (sl_preset_epoch_warning); data-limited runs see their
     * D subset many times by design and are not counted. */
    double max_epochs;
    int max_epochs_run;
    /* internal: the parsed JSON, kept for planning and for sl_preset_resolved_json */
    void *json;
} sl_preset;

/* Parses and validates a preset file (or the text of one: `path` is then only
 * used in messages). Errors are one line, `PATH:FIELD: what is wrong (expected
 * ...)`: invalid JSON with line and column, unknown keys (with the closest
 * known key when it is a likely misspelling), wrong types, values out of range,
 * an empty sweep. All SL_EINPUT. Nothing is written anywhere. */
int sl_preset_load(sl_preset *p, const char *path, sl_error *err);
int sl_preset_parse(sl_preset *p, const char *text, const char *path, sl_error *err);

/* Finds a preset by name: PATH if it names a file, else NAME.json in presets/
 * of the working directory, $SCALELAB_PRESETS, presets/ or ../presets/ beside
 * the binary, the installed share/scalelab/presets. Fills out (size len);
 * SL_EINPUT if none exists. */
int sl_preset_find(const char *name, char *out, size_t len, sl_error *err);

/* Plans the runs against the loaded corpus: shapes for each N (an N below the
 * smallest model is an error naming sweep.n[i]), D within the train split,
 * steps from tokens or budgets, vocab from the corpus. Fills p->runs. */
int sl_preset_plan(sl_preset *p, const sl_corpus *c, sl_error *err);

/* What a run's spec takes from its own model and steps once they are set
 * (called by sl_preset_plan, and by whatever builds a run outside it, such as
 * the lab's selectors): eval_every capped at the steps, and the warmup of
 * train.warmup "n-tokens", ceil(N / (batch * n_ctx)) steps capped at the steps. */
void sl_preset_settle_run(const sl_preset *p, sl_run_spec *r);

/* The one planner of a run at (N, D, C) of the preset's kind, for
 * sl_preset_plan and the lab's selectors alike: with n > 0 the shape for N
 * (sl_model_for_n with the preset's aspect, layers, head size and ff multiple;
 * n_target = n; n <= 0 keeps r's shape), for nd the data limit d, for isoflop
 * the budget c and its steps (c over the FLOPs of a step, rounded up), then
 * sl_preset_settle_run. r holds the rest (train options, seed; its model's
 * n_ctx and vocab). SL_EINPUT when no shape has that N. */
int sl_preset_run_at(const sl_preset *p, double n, double d, double c, sl_run_spec *r,
                     sl_error *err);

/* The resolved preset (every default filled in, with "format_version") as a
 * malloc'd JSON text: what sweep.json holds; sl_preset_parse reads it back. */
char *sl_preset_resolved_json(const sl_preset *p);

void sl_preset_free(sl_preset *p);

/* The options that load a preset's corpus (its corpus, holdout, tokenizer,
 * test fraction) from data_dir (NULL: the default): the engine, the sampler
 * and the lab's preset editor load the same corpus from the same preset.
 * The strings point into p. */
void sl_preset_corpus_opts(const sl_preset *p, const char *data_dir, sl_corpus_opts *o);

/* After sl_preset_plan: one line (no newline) warning that a run trains more
 * than one epoch of the train part, or "" when none does. */
void sl_preset_epoch_warning(const sl_preset *p, const sl_corpus *c, char *out, size_t len);

/* Do two resolved presets (sweep.json texts) describe the same sweep? Each is
 * parsed again (so defaults added since either was written are filled in) and
 * the trees are compared as JSON values: the order of keys and whether a
 * default was written out do not matter. 0 also when either does not parse. */
int sl_preset_same_sweep(const char *a, const char *b);

/* Is the run spec `have` (read from a config.json) the planned run `want`?
 * Everything but what changes after creation (the threads fixed at first
 * start when the plan leaves them 0, and the priority) must agree. */
int sl_run_spec_same(const sl_run_spec *have, const sl_run_spec *want);

/* config.json of a run: malloc'd JSON text, and back (names the file and field
 * on error). */
char *sl_run_spec_to_json(const sl_run_spec *r);
int sl_run_spec_from_json(sl_run_spec *r, const char *text, const char *path, sl_error *err);

const char *sl_sweep_kind_name(sl_sweep_kind k);

/* The documentation of every preset key (docs/PRESETS.md's tables): the key
 * as a path ("train.batch", "train.early_stopping"), its type, default and
 * meaning with its valid range. The table ends with a NULL key. */
typedef struct {
    const char *key, *type, *def, *meaning;
} sl_preset_doc;
extern const sl_preset_doc sl_preset_docs[];
const sl_preset_doc *sl_preset_doc_find(const char *key);

/* Levenshtein distance (for "did you mean" suggestions; also used by themes). */
int sl_edit_distance(const char *a, const char *b);

#endif
