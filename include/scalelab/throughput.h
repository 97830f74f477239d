/* throughput: what the training rate is measured against, defined once. The
 * GFLOP/s of a training step and the sgemm ceiling it is compared with are
 * computed here for `scalelab bench`, the lab's status bar and the headless
 * sweep's progress line alike; the reference shapes of the benchmark live here. */
#ifndef SCALELAB_THROUGHPUT_H
#define SCALELAB_THROUGHPUT_H

#include "scalelab/model.h"
#include "scalelab/train.h"

/* A benchmark shape: a model and its batch (sequences per step). */
typedef struct {
    const char *name;
    sl_config model;
    int batch;
} sl_ref_config;

/* d64 (L2, ctx 64, batch 32, 2 heads), d128 (L4, ctx 128, batch 16, 4 heads),
 * d256 (L4, ctx 128, batch 16, 4 heads); vocab 256, d_ff = 4 d. */
extern const sl_ref_config sl_ref_configs[];
extern const int sl_ref_config_count;
/* NULL when no reference configuration has that name. */
const sl_ref_config *sl_ref_config_find(const char *name);

/* FLOPs a training step performs per token, as counted for its GFLOP/s: every
 * weight matrix forward and backward (6N, Kaplan's non-embedding N), the
 * attention scores and mixing (6·L·n_ctx·d), and the output head (6·d·vocab).
 * That is the "total" accounting of model.h, whatever accounting a sweep's
 * compute C uses. */
double sl_step_flops_per_token(const sl_config *c);
/* Achieved GFLOP/s of a run training tokens_per_s tokens a second. */
double sl_step_gflops(const sl_config *c, double tokens_per_s);

/* The ceiling workload: for every weight matrix of the model and the output
 * head, the three products of its training step (forward, input gradient,
 * weight gradient) on `rows` rows, as cblas_sgemm calls. Its FLOPs are the
 * matrix part of sl_step_flops_per_token times rows. */
double sl_ceiling_flops(const sl_config *c, int rows);
/* The machine's sgemm rate in GFLOP/s on that workload: `threads` threads at
 * once, each on its own rows and buffers (set up outside the timing), the best
 * of `reps` timed passes after one warm-up pass. rows is what one thread trains
 * on in a step (its share of the batch times n_ctx). With prec bf16 the
 * products are those of the bf16 path (scalelab/bf16.h), operands rounded
 * on every call as a step rounds them: the bf16 ceiling; 0 if the engine
 * cannot be made. */
double sl_ceiling_measure(const sl_config *c, int rows, int threads, int reps, sl_precision prec);

#endif
