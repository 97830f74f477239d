/* ops: fast kernels. Matrix products are cblas_sgemm; the element-wise loops
 * are written so that the compiler vectorises them (no libm calls inside: exp
 * is a branch-free polynomial accurate to about 2 ulp). */
#include "scalelab/ops.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* exp(x) for x in [-87, 88]: x = n·ln2 + r, e^r by a degree-6 polynomial on
 * |r| <= ln2/2, 2^n through the exponent bits. Inputs are clamped, so the
 * loop bodies that call it stay branch-free and vectorise. */
static inline float fast_expf(float x0)
{
    /* NaN fails both comparisons and becomes -87 here; it comes back below */
    float x = x0 > -87.0f ? x0 : -87.0f;
    x = x < 88.0f ? x : 88.0f;
    /* round to nearest by the 1.5·2^23 trick: no call, so the loop vectorises */
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693145751953125f;
    r = r - n * 1.428606765330187045e-06f;
    float p = 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    uint32_t bits = (uint32_t)((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    /* x0 - x0 is 0, or NaN when x0 is NaN or infinite: a diverged run stays visible */
    return p * scale + (x0 - x0);
}

/* Reductions in LANES partial results combined in a fixed order: the compiler
 * vectorises these (one running sum would need reassociation, which C forbids),
 * and the result depends only on n, never on alignment or the thread. */
#define LANES 16

static inline float lanes_sum(const float *acc)
{
    float s = 0.0f;
    for (int k = 0; k < LANES; k++)
        s += acc[k];
    return s;
}

static inline float vsum(const float *x, int n)
{
    float acc[LANES] = {0};
    int i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int k = 0; k < LANES; k++)
            acc[k] += x[i + k];
    for (int k = 0; i < n; i++, k++)
        acc[k] += x[i];
    return lanes_sum(acc);
}

static inline float vmax(const float *x, int n)
{
    float acc[LANES];
    for (int k = 0; k < LANES; k++)
        acc[k] = -INFINITY;
    int i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int k = 0; k < LANES; k++)
            acc[k] = x[i + k] > acc[k] ? x[i + k] : acc[k];
    for (int k = 0; i < n; i++, k++)
        acc[k] = x[i] > acc[k] ? x[i] : acc[k];
    float m = acc[0];
    for (int k = 1; k < LANES; k++)
        m = acc[k] > m ? acc[k] : m;
    return m;
}

static inline float vdot(const float *a, const float *b, int n)
{
    float acc[LANES] = {0};
    int i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int k = 0; k < LANES; k++)
            acc[k] += a[i + k] * b[i + k];
    for (int k = 0; i < n; i++, k++)
        acc[k] += a[i] * b[i];
    return lanes_sum(acc);
}

/* dst[i] = exp(src[i] - mx) (dst may be src); returns the sum */
static inline float vexp_sum(float *dst, const float *src, int n, float mx)
{
    float acc[LANES] = {0};
    int i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int k = 0; k < LANES; k++) {
            float e = fast_expf(src[i + k] - mx);
            dst[i + k] = e;
            acc[k] += e;
        }
    for (int k = 0; i < n; i++, k++) {
        float e = fast_expf(src[i] - mx);
        dst[i] = e;
        acc[k] += e;
    }
    return lanes_sum(acc);
}

void sl_encoder_forward(float *out, const int32_t *inp, const float *wte, const float *wpe, int B,
                        int T, int C)
{
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            float *o = out + ((size_t)b * T + t) * C;
            const float *e = wte + (size_t)inp[b * T + t] * C;
            const float *p = wpe + (size_t)t * C;
            for (int i = 0; i < C; i++)
                o[i] = e[i] + p[i];
        }
}

void sl_encoder_backward(float *dwte, float *dwpe, const float *dout, const int32_t *inp, int B,
                         int T, int C)
{
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            const float *d = dout + ((size_t)b * T + t) * C;
            float *e = dwte + (size_t)inp[b * T + t] * C;
            float *p = dwpe + (size_t)t * C;
            for (int i = 0; i < C; i++) {
                e[i] += d[i];
                p[i] += d[i];
            }
        }
}

static inline void layernorm_row(float *o, float *mean, float *rstd, const float *x,
                                 const float *w, const float *b, int C)
{
    const float eps = 1e-5f;
    float m = vsum(x, C) / C;
    float acc[LANES] = {0};
    int i = 0;
    for (; i + LANES <= C; i += LANES)
        for (int k = 0; k < LANES; k++) {
            float d = x[i + k] - m;
            acc[k] += d * d;
        }
    for (int k = 0; i < C; i++, k++) {
        float d = x[i] - m;
        acc[k] += d * d;
    }
    float r = 1.0f / sqrtf(lanes_sum(acc) / C + eps);
    for (i = 0; i < C; i++)
        o[i] = (x[i] - m) * r * w[i] + b[i];
    *mean = m;
    *rstd = r;
}

void sl_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w,
                          const float *b, int N, int C)
{
    for (int n = 0; n < N; n++)
        layernorm_row(out + (size_t)n * C, mean + n, rstd + n, inp + (size_t)n * C, w, b, C);
}

void sl_residual_layernorm_forward(float *res, float *out, float *mean, float *rstd, const float *x,
                                   const float *y, const float *ybias, const float *w,
                                   const float *b, int N, int C)
{
    for (int n = 0; n < N; n++) {
        const float *xr = x + (size_t)n * C, *yr = y + (size_t)n * C;
        float *r = res + (size_t)n * C;
        for (int i = 0; i < C; i++)
            r[i] = xr[i] + (yr[i] + ybias[i]);
        layernorm_row(out + (size_t)n * C, mean + n, rstd + n, r, w, b, C);
    }
}

/* restrict: the three gradients are distinct arrays, so the loop vectorises */
static void layernorm_backward_row(float *restrict dx, float *restrict dw, float *restrict db,
                                   const float *restrict d, const float *restrict x,
                                   const float *restrict w, float m, float r, float dnorm_mean,
                                   float dnorm_norm_mean, int C)
{
    for (int i = 0; i < C; i++) {
        float norm = (x[i] - m) * r;
        float dnorm = w[i] * d[i];
        db[i] += d[i];
        dw[i] += norm * d[i];
        dx[i] += (dnorm - dnorm_mean - norm * dnorm_norm_mean) * r;
    }
}

void sl_layernorm_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                           const float *w, const float *mean, const float *rstd, int N, int C)
{
    for (int n = 0; n < N; n++) {
        const float *d = dout + (size_t)n * C;
        const float *x = inp + (size_t)n * C;
        float *dx = dinp + (size_t)n * C;
        float m = mean[n], r = rstd[n];
        float a1[LANES] = {0}, a2[LANES] = {0};
        int i = 0;
        for (; i + LANES <= C; i += LANES)
            for (int k = 0; k < LANES; k++) {
                float norm = (x[i + k] - m) * r;
                float dnorm = w[i + k] * d[i + k];
                a1[k] += dnorm;
                a2[k] += dnorm * norm;
            }
        for (int k = 0; i < C; i++, k++) {
            float norm = (x[i] - m) * r;
            float dnorm = w[i] * d[i];
            a1[k] += dnorm;
            a2[k] += dnorm * norm;
        }
        layernorm_backward_row(dx, dw, db, d, x, w, m, r, lanes_sum(a1) / C, lanes_sum(a2) / C, C);
    }
}

void sl_matmul_forward(float *out, const float *inp, const float *w, const float *bias, int N, int C,
                       int OC)
{
    float beta = 0.0f;
    if (bias) {
        for (int n = 0; n < N; n++)
            memcpy(out + (size_t)n * OC, bias, (size_t)OC * sizeof(float));
        beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, C, 1.0f, inp, C, w, C, beta, out, OC);
}

void sl_matmul_backward(float *dinp, float *dw, float *dbias, const float *dout, const float *inp,
                        const float *w, int N, int C, int OC)
{
    /* dinp[N,C] += dout[N,OC] · w[OC,C];  dw[OC,C] += dout^T · inp */
    if (dinp)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, C, OC, 1.0f, dout, OC, w, C, 1.0f,
                    dinp, C);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, N, 1.0f, dout, OC, inp, C, 1.0f, dw,
                C);
    if (dbias)
        for (int n = 0; n < N; n++) {
            const float *d = dout + (size_t)n * OC;
            for (int o = 0; o < OC; o++)
                dbias[o] += d[o];
        }
}

void sl_matmul_backward_write(float *dinp, float *dw, float *dbias, const float *dout,
                              const float *inp, const float *w, int N, int C, int OC)
{
    /* beta = 0: nothing to clear beforehand */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, C, OC, 1.0f, dout, OC, w, C, 0.0f,
                dinp, C);
    sl_matmul_backward(NULL, dw, dbias, dout, inp, w, N, C, OC);
}

/* Rows of the causal products are issued in blocks of this many queries, each
 * over only the keys 0..end of its block: about half the FLOPs of T×T. */
#define ATT_BLOCK 32

void sl_attention_forward(float *out, float *att, const float *inp, int B, int T, int C, int NH)
{
    const int hs = C / NH, C3 = 3 * C;
    const float scale = 1.0f / sqrtf((float)hs);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
            const float *q = inp + (size_t)b * T * C3 + h * hs;
            const float *k = q + C, *v = q + 2 * C;
            float *a = att + ((size_t)b * NH + h) * T * T;
            /* Lower triangle only: row t sees keys 0..t. Computed in row blocks so
             * that each block's product covers just the keys it can see. */
            for (int t0 = 0; t0 < T; t0 += ATT_BLOCK) {
                int tn = T - t0 < ATT_BLOCK ? T - t0 : ATT_BLOCK;
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, tn, t0 + tn, hs, scale,
                            q + (size_t)t0 * C3, C3, k, C3, 0.0f, a + (size_t)t0 * T, T);
            }
            for (int t = 0; t < T; t++) {
                float *row = a + (size_t)t * T;
                float inv = 1.0f / vexp_sum(row, row, t + 1, vmax(row, t + 1));
                for (int j = 0; j <= t; j++)
                    row[j] *= inv;
                for (int j = t + 1; j < T; j++)
                    row[j] = 0.0f;
            }
            /* Y = P·V, again only over the keys each row block sees */
            float *y = out + (size_t)b * T * C + h * hs;
            for (int t0 = 0; t0 < T; t0 += ATT_BLOCK) {
                int tn = T - t0 < ATT_BLOCK ? T - t0 : ATT_BLOCK;
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, tn, hs, t0 + tn, 1.0f,
                            a + (size_t)t0 * T, T, v, C3, 0.0f, y + (size_t)t0 * C, C);
            }
        }
}

void sl_attention_backward(float *dinp, float *scratch, const float *dout, const float *inp,
                           const float *att, int B, int T, int C, int NH)
{
    const int hs = C / NH, C3 = 3 * C;
    const float scale = 1.0f / sqrtf((float)hs);
    /* the last row block sees every key: it writes dK and dV (beta 0), the
     * earlier blocks add to the keys they see, so nothing is cleared first */
    const int last = (T - 1) / ATT_BLOCK * ATT_BLOCK;
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
            const float *q = inp + (size_t)b * T * C3 + h * hs;
            const float *k = q + C, *v = q + 2 * C;
            float *dq = dinp + (size_t)b * T * C3 + h * hs;
            float *dk = dq + C, *dv = dq + 2 * C;
            const float *p = att + ((size_t)b * NH + h) * T * T;
            const float *dy = dout + (size_t)b * T * C + h * hs;
            float *ds = scratch;
            for (int t0 = last; t0 >= 0; t0 -= ATT_BLOCK) {
                int tn = T - t0 < ATT_BLOCK ? T - t0 : ATT_BLOCK, keys = t0 + tn;
                float beta = t0 == last ? 0.0f : 1.0f;
                /* dP = dY · V^T over the keys the block sees */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, tn, keys, hs, 1.0f,
                            dy + (size_t)t0 * C, C, v, C3, 0.0f, ds + (size_t)t0 * T, T);
                /* dV (+)= P^T · dY */
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, keys, hs, tn, 1.0f,
                            p + (size_t)t0 * T, T, dy + (size_t)t0 * C, C, beta, dv, C3);
                /* softmax backward, then the 1/sqrt(hs) scale; zeros past the
                 * diagonal up to the block's last key */
                for (int t = t0; t < keys; t++) {
                    float *drow = ds + (size_t)t * T;
                    const float *prow = p + (size_t)t * T;
                    float dot = vdot(prow, drow, t + 1);
                    for (int j = 0; j <= t; j++)
                        drow[j] = prow[j] * (drow[j] - dot) * scale;
                    for (int j = t + 1; j < keys; j++)
                        drow[j] = 0.0f;
                }
                /* dQ = dS · K (each block its own rows);  dK (+)= dS^T · Q */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, tn, hs, keys, 1.0f,
                            ds + (size_t)t0 * T, T, k, C3, 0.0f, dq + (size_t)t0 * C3, C3);
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, keys, hs, tn, 1.0f,
                            ds + (size_t)t0 * T, T, q + (size_t)t0 * C3, C3, beta, dk, C3);
            }
        }
}

#define GELU_K 0.7978845608028654f /* sqrt(2/pi) */

/* tanh(u) = 1 - 2/(1 + e^{2u}), with u clamped where tanh is ±1 in float. */
static inline float fast_tanhf(float u)
{
    /* two selects that keep a NaN (both comparisons fail): branch-free even
     * where the vector unit has no masks (AVX2) */
    u = u < -9.0f ? -9.0f : u;
    u = u > 9.0f ? 9.0f : u;
    return 1.0f - 2.0f / (1.0f + fast_expf(2.0f * u));
}

void sl_gelu_forward(float *out, const float *inp, size_t N)
{
    for (size_t i = 0; i < N; i++) {
        float x = inp[i];
        float u = GELU_K * (x + 0.044715f * x * x * x);
        out[i] = 0.5f * x * (1.0f + fast_tanhf(u));
    }
}

void sl_gelu_backward(float *dinp, const float *inp, const float *dout, size_t N)
{
    for (size_t i = 0; i < N; i++) {
        float x = inp[i];
        float u = GELU_K * (x + 0.044715f * x * x * x);
        float th = fast_tanhf(u);
        float sech2 = 1.0f - th * th;
        float g = 0.5f * (1.0f + th) + 0.5f * x * sech2 * GELU_K * (1.0f + 3.0f * 0.044715f * x * x);
        dinp[i] += g * dout[i];
    }
}

void sl_bias_gelu_forward(float *pre, float *out, const float *bias, int N, int F)
{
    for (int n = 0; n < N; n++) {
        float *pr = pre + (size_t)n * F, *o = out + (size_t)n * F;
        for (int i = 0; i < F; i++) {
            float x = pr[i] + bias[i];
            float u = GELU_K * (x + 0.044715f * x * x * x);
            pr[i] = x;
            o[i] = 0.5f * x * (1.0f + fast_tanhf(u));
        }
    }
}

void sl_gelu_bias_backward(float *dpre, float *dbias, const float *pre, const float *dout, int N,
                           int F)
{
    for (int n = 0; n < N; n++) {
        const float *x0 = pre + (size_t)n * F, *d = dout + (size_t)n * F;
        float *dp = dpre + (size_t)n * F;
        for (int i = 0; i < F; i++) {
            float x = x0[i];
            float u = GELU_K * (x + 0.044715f * x * x * x);
            float th = fast_tanhf(u);
            float sech2 = 1.0f - th * th;
            float g = 0.5f * (1.0f + th) +
                      0.5f * x * sech2 * GELU_K * (1.0f + 3.0f * 0.044715f * x * x);
            float gd = g * d[i];
            dp[i] = gd;
            dbias[i] += gd;
        }
    }
}

void sl_residual_forward(float *out, const float *a, const float *b, size_t N)
{
    for (size_t i = 0; i < N; i++)
        out[i] = a[i] + b[i];
}

void sl_residual_backward(float *da, float *db, const float *dout, size_t N)
{
    for (size_t i = 0; i < N; i++) {
        da[i] += dout[i];
        db[i] += dout[i];
    }
}

double sl_crossentropy_forward(float *probs, float *losses, const float *logits,
                               const int32_t *targets, int N, int V)
{
    double total = 0.0;
    for (int n = 0; n < N; n++) {
        const float *l = logits + (size_t)n * V;
        float *p = probs + (size_t)n * V;
        float mx = vmax(l, V);
        float s = vexp_sum(p, l, V, mx);
        float inv = 1.0f / s;
        for (int i = 0; i < V; i++)
            p[i] *= inv;
        /* log-softmax directly, so a tiny probability does not lose precision */
        float loss = logf(s) - (l[targets[n]] - mx);
        losses[n] = loss;
        total += loss;
    }
    return total;
}

double sl_crossentropy_forward_backward(float *dlogits, float *losses, const float *logits,
                                        const int32_t *targets, float scale, int N, int V)
{
    double total = 0.0;
    for (int n = 0; n < N; n++) {
        const float *l = logits + (size_t)n * V;
        float *d = dlogits + (size_t)n * V;
        float mx = vmax(l, V), lt = l[targets[n]]; /* read before d (maybe l) is written */
        float s = vexp_sum(d, l, V, mx);
        float k = scale / s;
        for (int i = 0; i < V; i++)
            d[i] *= k;
        d[targets[n]] -= scale;
        float loss = logf(s) - (lt - mx);
        losses[n] = loss;
        total += loss;
    }
    return total;
}

void sl_crossentropy_backward(float *dlogits, const float *probs, const int32_t *targets,
                              float scale, int N, int V)
{
    for (int n = 0; n < N; n++) {
        const float *p = probs + (size_t)n * V;
        float *d = dlogits + (size_t)n * V;
        for (int i = 0; i < V; i++)
            d[i] = scale * p[i];
        d[targets[n]] -= scale;
    }
}
