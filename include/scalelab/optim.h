/* optim: AdamW with decoupled weight decay on matrices only (no decay on biases,
 * norms or embeddings), global-norm gradient clipping, and the learning-rate
 * schedules. Called by train; the schedule also by the CLI to show the plan. */
#ifndef SCALELAB_OPTIM_H
#define SCALELAB_OPTIM_H

#include <stddef.h>

#include "scalelab/model.h"

typedef enum { SL_SCHED_COSINE, SL_SCHED_CONSTANT, SL_SCHED_LINEAR } sl_schedule;

typedef struct {
    double lr;           /* peak learning rate */
    double beta1, beta2, eps, weight_decay, clip; /* clip <= 0: no clipping */
    sl_schedule schedule;
    long warmup, total;  /* steps */
} sl_optim_opts;

/* Kaplan et al. eq. D.1: LR(N) = 0.003239 - 0.0001395 ln N. */
double sl_lr_auto(double n_kaplan);

/* Learning rate at step (0-based): linear warmup over `warmup` steps, then
 * cosine to zero, constant, or linear to zero at `total`. */
double sl_lr_at(const sl_optim_opts *o, long step);

/* "cosine" | "constant" | "linear" */
int sl_schedule_parse(const char *s, sl_schedule *out, sl_error *err);
const char *sl_schedule_name(sl_schedule s);

/* Global L2 norm of n floats, in double. */
double sl_grad_norm(const float *g, size_t n);

/* One AdamW update of the parameter range [lo, hi) (floats; so threads can
 * split the work) at 1-based step t with learning rate lr; grads are first
 * multiplied by gscale (clipping), and left zero in the range (the pass that
 * reads them clears them for the next step). m and v are laid out like params. */
void sl_adamw_update(const sl_model *mdl, float *m, float *v, size_t lo, size_t hi, long t, double lr,
                     float gscale, const sl_optim_opts *o);

#endif
