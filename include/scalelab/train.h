/* train: one training run of one model on one corpus: optimizer steps sharded
 * over threads, evaluation on fixed held-out tokens, the gradient noise scale,
 * checkpoints. Returns metric rows to its caller and never prints. Called
 * by the CLI (`scalelab train`, `bench`) and the sweep engine. */
#ifndef SCALELAB_TRAIN_H
#define SCALELAB_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "scalelab/data.h"
#include "scalelab/model.h"
#include "scalelab/optim.h"

/* The most optimizer steps a run may have (a preset's train.tokens or budgets
 * and a run's config.json are checked against it). */
#define SL_MAX_STEPS 1e15

/* The precision of a training step's weight and head products. fp32 is the
 * default and the reproducible reference; bf16 rounds their operands to
 * bfloat16 and accumulates in fp32 (scalelab/bf16.h), where the CPU has
 * bf16 matrix instructions. Everything else is fp32 either way. */
typedef enum { SL_PREC_FP32 = 0, SL_PREC_BF16 = 1 } sl_precision;
/* "fp32", "bf16"; and back (-1 if unknown). */
const char *sl_precision_name(sl_precision p);
int sl_precision_from_name(const char *name);

typedef struct {
    sl_config model;
    int batch;              /* sequences per step */
    long steps;             /* optimizer steps in the run */
    double lr;              /* peak learning rate; <= 0 means Kaplan's LR(N) */
    long warmup;            /* steps; < 0 means min(steps/10, 3000) */
    sl_schedule schedule;
    double weight_decay, beta1, beta2, eps, clip;
    int eval_every;         /* steps between evaluations (and metric rows) */
    size_t eval_tokens;     /* held-out tokens per evaluation */
    uint64_t seed;
    int threads;            /* worker threads for this run */
    size_t data_limit;      /* D: train on the first D tokens only (0 = all) */
    int any_threads;        /* sl_trainer_load takes a checkpoint made on another
                               thread count (the numbers then differ from an
                               uninterrupted run); 0 refuses it */
    sl_precision precision; /* the weight products: fp32 (default) or bf16 */
} sl_train_opts;

/* Defaults: batch 16, 1000 steps, auto LR, cosine, warmup 10%, AdamW (0.9,
 * 0.95, 1e-8, wd 0.1), clip 1.0, eval every 100 steps on 32768 tokens, seed 1,
 * 1 thread. The model config is left zero. */
void sl_train_defaults(sl_train_opts *o);
/* The warmup in steps a run uses: o->warmup, or min(steps/10, 3000) when < 0. */
long sl_train_warmup(const sl_train_opts *o);
/* The optimizer's options a run of o trains with (the peak learning rate
 * resolved, Kaplan's LR(N) for "auto"; the schedule, warmup and total steps),
 * so that a reader of a store can follow its learning rate with sl_lr_at. */
void sl_train_optim_opts(const sl_train_opts *o, sl_optim_opts *oo);

typedef struct {
    long step;          /* optimizer steps completed */
    double tokens;      /* training tokens seen */
    double flops;       /* tokens · (6N + attention), Kaplan's C */
    double train_loss;  /* mean training loss since the previous row */
    double test_loss;   /* held-out loss, nats per token */
    double lr;
    double grad_norm;   /* before clipping */
    double noise_scale; /* B_simple in tokens (EMA); NaN with one thread */
    double wall_s;      /* training wall time so far (survives resume) */
    double test_bpb;    /* held-out loss in bits per byte (sl_corpus_bpb); NaN
                           for token files, and in rows of older stores */
} sl_metric_row;

typedef struct sl_trainer sl_trainer;

/* Bytes a trainer with these options allocates: parameters, gradients and Adam
 * moments, a gradient buffer and activations per thread. What the engine's
 * scheduler budgets a run at (it admits runs while their sum fits). */
double sl_train_memory(const sl_train_opts *o);

/* Validates the options against the corpus (names the offending flag or file).
 * Memory short at allocation is SL_ERUNTIME with a message (never an abort). */
int sl_trainer_new(sl_trainer **out, const sl_train_opts *o, const sl_corpus *c, sl_error *err);
void sl_trainer_free(sl_trainer *t);

/* One optimizer step. Returns 1 when it produced a metric row (an evaluation
 * step or the last step), 0 otherwise, negative on failure: a NaN or infinite
 * loss marks the run failed at that step (err says which step). */
int sl_trainer_step(sl_trainer *t, sl_metric_row *row, sl_error *err);
/* The metric row for the current state (evaluates now); used for step 0. */
void sl_trainer_row(sl_trainer *t, sl_metric_row *row);
double sl_trainer_evaluate(sl_trainer *t);
long sl_trainer_steps_done(const sl_trainer *t);
int sl_trainer_finished(const sl_trainer *t);
/* Did a step or an evaluation fail because the run diverged (a non-finite
 * loss or gradient norm)? Such a run fails for good; any other error (a full
 * disk, an I/O error) leaves it resumable. */
int sl_trainer_diverged(const sl_trainer *t);
const sl_model *sl_trainer_model(const sl_trainer *t);
const sl_train_opts *sl_trainer_opts(const sl_trainer *t);
/* Mean loss of the most recent step's batch (nats per token). */
double sl_trainer_last_loss(const sl_trainer *t);

/* Checkpoints (docs/FORMATS.md): parameters, Adam moments, step, sampler RNG,
 * running statistics; magic, version, config and checksum. Saving is atomic;
 * loading refuses another config or a bad checksum and leaves t untouched. */
int sl_trainer_save(const sl_trainer *t, const char *path, sl_error *err);
/* Also refuses a checkpoint made on another thread count (the sum of the
 * per-thread gradients depends on it) unless the run's any_threads is set. */
int sl_trainer_load(sl_trainer *t, const char *path, sl_error *err);
/* The model alone of a checkpoint (for sampling): m initialised to the shape
 * in its header and given its parameters; the optimizer state is not read.
 * *step (may be NULL) gets the steps it had trained. Same checks as load. */
int sl_checkpoint_model(const char *path, sl_model *m, long *step, sl_error *err);

/* What a checkpoint's header says, read without the rest of the file (the
 * magic, version and header size are checked; SL_EINPUT otherwise): callers
 * resume with its thread count, or compare its step with their metric rows. */
typedef struct {
    sl_config model;
    int batch;
    int threads; /* the threads the run trained on */
    sl_precision precision;
    long step;
} sl_checkpoint_info;
int sl_checkpoint_peek(const char *path, sl_checkpoint_info *info, sl_error *err);

/* A whole run (with its run directory, resumable) is sl_run_dir_train in run.h. */

/* The mean loss of model m on corpus c (its held-out evaluation windows, up to
 * max_tokens tokens): the engine's transfer loss on a second corpus. */
double sl_eval_loss(const sl_model *m, const sl_corpus *c, size_t max_tokens);
/* The held-out loss of m on each source of a named corpus (up to max_tokens
 * tokens of each source's test windows) into out (c->n_sources rows; a single
 * text gives one row named "all"); returns the rows written. */
int sl_eval_sources(const sl_model *m, const sl_corpus *c, size_t max_tokens, sl_source_loss *out);
/* The mean test loss of m at each position 1..n_ctx of the context into pos
 * (n_ctx values, zeroed by the caller), over up to 16384 windows evenly spaced
 * over c's test split; returns the number of windows (0 if the split is
 * shorter than one window). */
size_t sl_eval_positions(const sl_model *m, const sl_corpus *c, double *pos);

#endif
