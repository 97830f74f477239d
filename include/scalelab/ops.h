/* ops: the layer kernels of the Transformer, forward and backward, with the
 * shapes in the signature (B batch, T time, C channels). Every matrix product
 * goes through cblas_sgemm. Backward kernels ACCUMULATE (+=) into gradients.
 * The sl_ref_* kernels are plain C, kept beside the fast ones for the tests. */
#ifndef SCALELAB_OPS_H
#define SCALELAB_OPS_H

#include <stddef.h>
#include <stdint.h>

/* out[B,T,C] = wte[inp[b,t]] + wpe[t] */
void sl_encoder_forward(float *out, const int32_t *inp, const float *wte, const float *wpe, int B,
                        int T, int C);
void sl_encoder_backward(float *dwte, float *dwpe, const float *dout, const int32_t *inp, int B,
                         int T, int C);

/* Over rows of C: out = (x - mean) * rstd * w + b; mean and rstd saved per row. */
void sl_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w,
                          const float *b, int N, int C);
/* Fused residual and layernorm: res = x + (y + ybias[C]), out = layernorm(res)
 * (a residual branch's output y before its bias, then the next block's norm). */
void sl_residual_layernorm_forward(float *res, float *out, float *mean, float *rstd, const float *x,
                                   const float *y, const float *ybias, const float *w,
                                   const float *b, int N, int C);
void sl_layernorm_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                           const float *w, const float *mean, const float *rstd, int N, int C);

/* out[N,OC] = inp[N,C] · w[OC,C]^T + bias[OC] (bias may be NULL). */
void sl_matmul_forward(float *out, const float *inp, const float *w, const float *bias, int N, int C,
                       int OC);
void sl_matmul_backward(float *dinp, float *dw, float *dbias, const float *dout, const float *inp,
                        const float *w, int N, int C, int OC);
/* The same, except that dinp is written (=), not accumulated: no clearing first. */
void sl_matmul_backward_write(float *dinp, float *dw, float *dbias, const float *dout,
                              const float *inp, const float *w, int N, int C, int OC);

/* Causal multi-head self-attention. inp[B,T,3C] holds q, k, v; att[B,NH,T,T]
 * keeps the softmax probabilities for the backward pass; out[B,T,C]. scratch
 * holds T*T floats for the backward pass, which WRITES dinp (=, not +=). */
void sl_attention_forward(float *out, float *att, const float *inp, int B, int T, int C, int NH);
void sl_attention_backward(float *dinp, float *scratch, const float *dout, const float *inp,
                           const float *att, int B, int T, int C, int NH);

/* GELU, tanh form. */
void sl_gelu_forward(float *out, const float *inp, size_t N);
void sl_gelu_backward(float *dinp, const float *inp, const float *dout, size_t N);
/* Fused bias and GELU over N rows of F: pre += bias (kept for the backward
 * pass), out = gelu(pre). Backward WRITES dpre = gelu'(pre)·dout and adds its
 * column sums to dbias; dpre may be dout. */
void sl_bias_gelu_forward(float *pre, float *out, const float *bias, int N, int F);
void sl_gelu_bias_backward(float *dpre, float *dbias, const float *pre, const float *dout, int N,
                           int F);

/* out = a + b */
void sl_residual_forward(float *out, const float *a, const float *b, size_t N);
void sl_residual_backward(float *da, float *db, const float *dout, size_t N);

/* Fused softmax cross-entropy over N rows of V logits: probs[N,V], losses[N]
 * (nats). Returns the summed loss in double. Backward writes (not adds)
 * dlogits = scale * (probs - onehot(target)); dlogits may alias probs. */
double sl_crossentropy_forward(float *probs, float *losses, const float *logits,
                               const int32_t *targets, int N, int V);
void sl_crossentropy_backward(float *dlogits, const float *probs, const int32_t *targets,
                              float scale, int N, int V);
/* Both in one pass per row, for a training step: the losses and dlogits =
 * scale * (softmax - onehot) (dlogits may alias logits); returns the summed loss. */
double sl_crossentropy_forward_backward(float *dlogits, float *losses, const float *logits,
                                        const int32_t *targets, float scale, int N, int V);

/* Reference kernels: same contracts, plain loops, double accumulators. */
void sl_ref_encoder_forward(float *out, const int32_t *inp, const float *wte, const float *wpe, int B,
                            int T, int C);
void sl_ref_encoder_backward(float *dwte, float *dwpe, const float *dout, const int32_t *inp, int B,
                             int T, int C);
void sl_ref_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                              const float *w, const float *b, int N, int C);
void sl_ref_layernorm_backward(float *dinp, float *dw, float *db, const float *dout,
                               const float *inp, const float *w, const float *mean,
                               const float *rstd, int N, int C);
void sl_ref_matmul_forward(float *out, const float *inp, const float *w, const float *bias, int N,
                           int C, int OC);
void sl_ref_matmul_backward(float *dinp, float *dw, float *dbias, const float *dout,
                            const float *inp, const float *w, int N, int C, int OC);
void sl_ref_attention_forward(float *out, float *att, const float *inp, int B, int T, int C, int NH);
void sl_ref_attention_backward(float *dinp, const float *dout, const float *inp, const float *att,
                               int B, int T, int C, int NH);
void sl_ref_gelu_forward(float *out, const float *inp, size_t N);
void sl_ref_gelu_backward(float *dinp, const float *inp, const float *dout, size_t N);
void sl_ref_residual_layernorm_forward(float *res, float *out, float *mean, float *rstd,
                                       const float *x, const float *y, const float *ybias,
                                       const float *w, const float *b, int N, int C);
void sl_ref_bias_gelu_forward(float *pre, float *out, const float *bias, int N, int F);
void sl_ref_gelu_bias_backward(float *dpre, float *dbias, const float *pre, const float *dout,
                               int N, int F);
double sl_ref_crossentropy_forward(float *probs, float *losses, const float *logits,
                                   const int32_t *targets, int N, int V);
void sl_ref_crossentropy_backward(float *dlogits, const float *probs, const int32_t *targets,
                                  float scale, int N, int V);
double sl_ref_crossentropy_forward_backward(float *dlogits, float *losses, const float *logits,
                                            const int32_t *targets, float scale, int N, int V);

#endif
