/* model: a GPT-2-style decoder-only Transformer (pre-LayerNorm blocks, learned
 * position embedding, tanh-GELU MLP, untied output head). Owns the shape, the
 * parameter layout and the counts (N, N_total, FLOPs); forward and backward over
 * a shard of the batch. Called by train and bench; tests use its pieces. */
#ifndef SCALELAB_MODEL_H
#define SCALELAB_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "scalelab/util.h"

typedef struct {
    int n_layer, d_model, n_head, d_ff, n_ctx, vocab;
} sl_config;

/* The parameter tensors, in layout order. Per-layer tensors are stacked. */
enum {
    SL_WTE, SL_WPE, SL_LN1W, SL_LN1B, SL_QKVW, SL_QKVB, SL_ATTPROJW, SL_ATTPROJB, SL_LN2W, SL_LN2B,
    SL_FCW, SL_FCB, SL_FCPROJW, SL_FCPROJB, SL_LNFW, SL_LNFB, SL_HEAD, SL_NUM_PARAM_TENSORS
};

typedef struct {
    const char *name;
    size_t offset, size; /* in floats */
    int decay;           /* weight decay applies (matrices only) */
    int embedding;       /* token/position embedding or output head: not in Kaplan's N */
} sl_tensor_info;

/* Checks every field; names the offending one (`--d-model: ...`) on failure. */
int sl_config_validate(const sl_config *c, sl_error *err);

/* Fills the table of offsets; returns the total number of parameters. */
size_t sl_param_layout(const sl_config *c, sl_tensor_info info[SL_NUM_PARAM_TENSORS]);

/* Counts. Kaplan's N: non-embedding weight matrices, 2·d·L·(2·d_attn + d_ff)
 * (= 12·L·d² when d_ff = 4d). Exact: every non-embedding parameter, with
 * biases and norms. Total: everything, embeddings and head included. */
typedef struct {
    double n_kaplan, n_exact, n_total;
    double flops_per_token;     /* 6N + 6·L·n_ctx·d: the `attn` accounting (training, per
                                   token; metrics.csv's flops); Kaplan's C is 6N alone */
    double flops_embed_per_token; /* the output head (logits): 6·d·vocab, reported apart */
} sl_counts;
sl_counts sl_model_counts(const sl_config *c);

/* Compute accountings: which training FLOPs (forward and backward, per token) a
 * compute C counts. Kaplan et al.'s C is 6·N·B·S, 6N per token: the context
 * term of attention and the output head are left out of every fit of the
 * paper. The others add them, as named alternatives (Porian et al. 2024 show
 * that counting the head moves the compute-optimal exponent). */
typedef enum {
    SL_ACCT_KAPLAN, /* 6N                                (C = 6NBS, Kaplan et al.) */
    SL_ACCT_ATTN,   /* 6N + 6·n_layer·n_ctx·d_model      (with attention's context term) */
    SL_ACCT_HEAD,   /* 6N + 6·d_model·vocab              (with the output head) */
    SL_ACCT_TOTAL,  /* 6N + both                         (every matrix product) */
    SL_ACCT_COUNT
} sl_accounting;
/* Training FLOPs per token of a model under an accounting. */
double sl_model_flops_per_token(const sl_config *c, sl_accounting a);
/* "kaplan", "attn", "head", "total"; and back (-1 if unknown). */
const char *sl_accounting_name(sl_accounting a);
int sl_accounting_from_name(const char *name);
/* The per-token formula in words, e.g. "6N per token (C = 6NBS)". */
const char *sl_accounting_formula(sl_accounting a);

/* Picks a shape with Kaplan's N near target_n for d_model/n_layer near
 * `aspect`, d_model a multiple of head_size, d_ff = ff_mult·d_model; with
 * layers > 0, of exactly that many layers (the aspect then only breaks ties). */
int sl_model_for_n(double target_n, double aspect, int layers, int head_size, int ff_mult, int n_ctx,
                   int vocab, sl_config *out, sl_error *err);

/* Parameters and gradients: one allocation each, carved by the layout. */
typedef struct {
    sl_config cfg;
    sl_tensor_info info[SL_NUM_PARAM_TENSORS];
    size_t n_params;
    float *params;
    float *grads;
} sl_model;

int sl_model_init(sl_model *m, const sl_config *c, sl_error *err);
void sl_model_free(sl_model *m);
/* GPT-2 initialisation: N(0, 0.02) matrices and embeddings, residual
 * projections scaled by 1/sqrt(2·n_layer), zero biases, unit norms. */
void sl_model_init_weights(sl_model *m, uint64_t seed);
/* Pointer to tensor k of layer l (l ignored for non-layer tensors). */
float *sl_tensor(const sl_model *m, float *base, int k, int l);

/* Activations of one shard of Bs sequences (forward values and their
 * gradients), sized for Bs x n_ctx. Each worker thread owns one. */
typedef struct sl_acts sl_acts;
/* NULL when memory is short. */
sl_acts *sl_acts_new(const sl_config *c, int Bs);
void sl_acts_free(sl_acts *a);
/* From now on the training steps of this shard (sl_model_forward_backward)
 * run the weight and head products in bf16 with fp32 accumulation
 * (scalelab/bf16.h); evaluation stays fp32. -1 when memory or oneDNN fails. */
int sl_acts_use_bf16(sl_acts *a, const sl_model *m);
size_t sl_acts_floats(const sl_config *c, int Bs);

/* Forward over Bs sequences of T <= n_ctx tokens; returns the summed loss
 * (nats) over Bs*T targets, or NaN/inf if it diverged. With targets NULL only
 * logits are computed (returns 0). Uses reference kernels when ref != 0. */
double sl_model_forward(const sl_model *m, sl_acts *a, const int32_t *inp, const int32_t *tgt,
                        int Bs, int T, int ref);
/* Backward: accumulates into grads (a buffer laid out like m->params).
 * loss_scale is d(loss)/d(summed token loss), e.g. 1/(B_total*T). */
void sl_model_backward(const sl_model *m, sl_acts *a, float *grads, const int32_t *inp,
                       const int32_t *tgt, int Bs, int T, float loss_scale, int ref);
/* A training step's forward and backward with the fast kernels, the loss and
 * its gradient in one pass: the same as sl_model_forward then
 * sl_model_backward (ref 0), one pass over the logits fewer. Returns the
 * summed loss; a NaN or infinite loss skips the backward pass. */
double sl_model_forward_backward(const sl_model *m, sl_acts *a, float *grads, const int32_t *inp,
                                 const int32_t *tgt, int Bs, int T, float loss_scale);
/* Per-token losses of the last forward (Bs*T floats). */
const float *sl_acts_losses(const sl_acts *a);
/* Logits of the last forward (Bs*T rows of vocab floats). */
const float *sl_acts_logits(const sl_acts *a);

#endif
