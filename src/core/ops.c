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

void sl_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w,
                          const float *b, int N, int C)
{
    const float eps = 1e-5f;
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        float *o = out + (size_t)n * C;
        float s = 0.0f;
        for (int i = 0; i < C; i++)
            s += x[i];
        float m = s / C;
        float v = 0.0f;
        for (int i = 0; i < C; i++) {
            float d = x[i] - m;
            v += d * d;
        }
        float r = 1.0f / sqrtf(v / C + eps);
        for (int i = 0; i < C; i++)
            o[i] = (x[i] - m) * r * w[i] + b[i];
        mean[n] = m;
        rstd[n] = r;
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
        float dnorm_mean = 0.0f, dnorm_norm_mean = 0.0f;
        for (int i = 0; i < C; i++) {
            float norm = (x[i] - m) * r;
            float dnorm = w[i] * d[i];
            dnorm_mean += dnorm;
            dnorm_norm_mean += dnorm * norm;
        }
        dnorm_mean /= C;
        dnorm_norm_mean /= C;
        for (int i = 0; i < C; i++) {
            float norm = (x[i] - m) * r;
            float dnorm = w[i] * d[i];
            db[i] += d[i];
            dw[i] += norm * d[i];
            dx[i] += (dnorm - dnorm_mean - norm * dnorm_norm_mean) * r;
        }
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
                float mx = -INFINITY;
                for (int j = 0; j <= t; j++)
                    mx = row[j] > mx ? row[j] : mx;
                for (int j = 0; j <= t; j++)
                    row[j] = fast_expf(row[j] - mx);
                float s = 0.0f;
                for (int j = 0; j <= t; j++)
                    s += row[j];
                float inv = 1.0f / s;
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
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
            const float *q = inp + (size_t)b * T * C3 + h * hs;
            const float *k = q + C, *v = q + 2 * C;
            float *dq = dinp + (size_t)b * T * C3 + h * hs;
            float *dk = dq + C, *dv = dq + 2 * C;
            const float *p = att + ((size_t)b * NH + h) * T * T;
            const float *dy = dout + (size_t)b * T * C + h * hs;
            float *ds = scratch;
            /* dP = dY · V^T (lower triangle is all that is used) */
            for (int t0 = 0; t0 < T; t0 += ATT_BLOCK) {
                int tn = T - t0 < ATT_BLOCK ? T - t0 : ATT_BLOCK;
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, tn, t0 + tn, hs, 1.0f,
                            dy + (size_t)t0 * C, C, v, C3, 0.0f, ds + (size_t)t0 * T, T);
            }
            /* dV += P^T · dY: row block t0 reaches the keys 0..t0+tn */
            for (int t0 = 0; t0 < T; t0 += ATT_BLOCK) {
                int tn = T - t0 < ATT_BLOCK ? T - t0 : ATT_BLOCK;
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, t0 + tn, hs, tn, 1.0f,
                            p + (size_t)t0 * T, T, dy + (size_t)t0 * C, C, 1.0f, dv, C3);
            }
            /* softmax backward, then the 1/sqrt(hs) scale */
            for (int t = 0; t < T; t++) {
                float *drow = ds + (size_t)t * T;
                const float *prow = p + (size_t)t * T;
                float dot = 0.0f;
                for (int j = 0; j <= t; j++)
                    dot += prow[j] * drow[j];
                for (int j = 0; j <= t; j++)
                    drow[j] = prow[j] * (drow[j] - dot) * scale;
                for (int j = t + 1; j < T; j++)
                    drow[j] = 0.0f;
            }
            /* dQ += dS · K;  dK += dS^T · Q, block by block as above */
            for (int t0 = 0; t0 < T; t0 += ATT_BLOCK) {
                int tn = T - t0 < ATT_BLOCK ? T - t0 : ATT_BLOCK;
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, tn, hs, t0 + tn, 1.0f,
                            ds + (size_t)t0 * T, T, k, C3, 1.0f, dq + (size_t)t0 * C3, C3);
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, t0 + tn, hs, tn, 1.0f,
                            ds + (size_t)t0 * T, T, q + (size_t)t0 * C3, C3, 1.0f, dk, C3);
            }
        }
}

#define GELU_K 0.7978845608028654f /* sqrt(2/pi) */

/* tanh(u) = 1 - 2/(1 + e^{2u}), with u clamped where tanh is ±1 in float. */
static inline float fast_tanhf(float u)
{
    u = u > -9.0f ? (u < 9.0f ? u : 9.0f) : (u == u ? -9.0f : u);
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
        float mx = -INFINITY;
        for (int i = 0; i < V; i++)
            mx = l[i] > mx ? l[i] : mx;
        for (int i = 0; i < V; i++)
            p[i] = fast_expf(l[i] - mx);
        float s = 0.0f;
        for (int i = 0; i < V; i++)
            s += p[i];
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
