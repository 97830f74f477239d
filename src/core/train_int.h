/* train_int: the trainer's state, shared by train.c (creation, steps,
 * evaluation) and checkpoint.c (save, load) and no one else; callers see the
 * opaque sl_trainer of train.h.
 * A checkpoint holds the fields marked "saved" (and compares o's model, batch,
 * precision and data limit with the run's): together they are what a resumed
 * run needs to go on bitwise. A new field of that kind must go into the
 * checkpoint header too, with a new format version (docs/FORMATS.md). */
#ifndef SCALELAB_TRAIN_INT_H
#define SCALELAB_TRAIN_INT_H

#include "scalelab/pool.h"
#include "scalelab/train.h"

struct sl_trainer {
    sl_train_opts o;
    sl_optim_opts oo;
    const sl_corpus *c;
    sl_model m;              /* saved: m.params */
    float *adam_m, *adam_v;  /* saved */
    sl_pool *pool;
    int nthr, shard_cap;     /* saved: nthr, the threads the run steps on */
    sl_acts **acts;
    float **gbuf;
    double *shard_loss, *shard_sq, *range_sq;
    int32_t *inp, *tgt;
    sl_sampler sampler;      /* saved: its RNG state and limit */
    size_t eval_seqs;
    /* saved: the step and running statistics, all but last_loss */
    long step;
    double wall_s;
    double loss_accum;
    long loss_count;
    double last_loss, last_grad_norm;
    double ema_g2, ema_tr; /* noise-scale statistics */
    int grads_dirty;       /* a step stopped before its update cleared the gradients */
    double last_lr;
    int diverged; /* a step or an evaluation gave a non-finite number */
};

#endif
