/* bf16: the training step's weight products in bfloat16 with fp32
 * accumulation, through oneDNN's matmul primitive (Debian's libdnnl 2.6: its
 * C API has no bf16 GEMM call, and OpenBLAS 0.3.21 exports no sbgemm).
 *
 * The master weights, the gradients, AdamW and every element-wise kernel stay
 * in fp32; only the operands of the weight and head products are rounded to
 * bf16 (round to nearest even) just before each product, and the products
 * accumulate in fp32. Attention's own products and evaluation stay fp32.
 *
 * One sl_bf16 belongs to one thread (it holds that thread's bf16 copies of
 * the weights and operands and its primitives, each with its own scratchpad),
 * so threads never share state; a product with the same shapes on the same
 * thread count is bitwise reproducible. oneDNN runs single-threaded inside
 * each of our threads (OpenMP held at one thread per calling thread). */
#ifndef SCALELAB_BF16_H
#define SCALELAB_BF16_H

#include <stddef.h>

typedef struct sl_bf16 sl_bf16;

/* 1 when the CPU has bf16 matrix instructions that oneDNN uses
 * (AVX512_BF16 or AMX); otherwise 0 and `why` says what is missing. */
int sl_bf16_available(char *why, size_t n);

/* A thread's engine for a model of n_params floats whose products have at
 * most max_rows rows and max_cols columns on either side (N and
 * max(C, 3C, d_ff, vocab)). NULL when memory or oneDNN fails. */
sl_bf16 *sl_bf16_new(size_t n_params, int max_rows, int max_cols);
void sl_bf16_free(sl_bf16 *b);

/* Rounds the weights (n floats from params) to this thread's bf16 copy; call
 * once per step, before the forward pass. */
void sl_bf16_load_weights(sl_bf16 *b, const float *params, size_t n);

/* out[N,OC] = inp[N,C] · w[OC,C]^T + bias[OC] (bias may be NULL); w is the
 * weight tensor at float offset w_off of the parameters last loaded. */
void sl_bf16_matmul_forward(sl_bf16 *b, float *out, const float *inp, size_t w_off,
                            const float *bias, int N, int C, int OC);
/* dinp[N,C] = dout · w (written); dw[OC,C] += dout^T · inp; dbias[OC] +=
 * column sums of dout in fp32 (dbias may be NULL). */
void sl_bf16_matmul_backward_write(sl_bf16 *b, float *dinp, float *dw, float *dbias,
                                   const float *dout, const float *inp, size_t w_off, int N, int C,
                                   int OC);

/* bf16 round to nearest even and back, for tests and the ceiling. */
void sl_bf16_round(unsigned short *dst, const float *src, size_t n);
float sl_bf16_to_float(unsigned short h);

#endif
