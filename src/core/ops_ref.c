/* ops_ref: plain-C reference kernels, the definition the fast kernels are
 * tested against. Straight loops, double accumulators, libm functions. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scalelab/ops.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

void sl_ref_encoder_forward(float *out, const int32_t *inp, const float *wte, const float *wpe, int B,
                            int T, int C)
{
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int i = 0; i < C; i++)
                out[((size_t)b * T + t) * C + i] =
                    wte[(size_t)inp[b * T + t] * C + i] + wpe[(size_t)t * C + i];
}

void sl_ref_encoder_backward(float *dwte, float *dwpe, const float *dout, const int32_t *inp, int B,
                             int T, int C)
{
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int i = 0; i < C; i++) {
                float d = dout[((size_t)b * T + t) * C + i];
                dwte[(size_t)inp[b * T + t] * C + i] += d;
                dwpe[(size_t)t * C + i] += d;
            }
}

void sl_ref_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                              const float *w, const float *b, int N, int C)
{
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        double m = 0, v = 0;
        for (int i = 0; i < C; i++)
            m += x[i];
        m /= C;
        for (int i = 0; i < C; i++)
            v += (x[i] - m) * (x[i] - m);
        v /= C;
        double r = 1.0 / sqrt(v + 1e-5);
        for (int i = 0; i < C; i++)
            out[(size_t)n * C + i] = (float)((x[i] - m) * r * w[i] + b[i]);
        mean[n] = (float)m;
        rstd[n] = (float)r;
    }
}

void sl_ref_layernorm_backward(float *dinp, float *dw, float *db, const float *dout,
                               const float *inp, const float *w, const float *mean,
                               const float *rstd, int N, int C)
{
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C, *d = dout + (size_t)n * C;
        double a = 0, bsum = 0;
        for (int i = 0; i < C; i++) {
            double xh = (x[i] - mean[n]) * (double)rstd[n];
            a += w[i] * d[i];
            bsum += w[i] * d[i] * xh;
        }
        a /= C;
        bsum /= C;
        for (int i = 0; i < C; i++) {
            double xh = (x[i] - mean[n]) * (double)rstd[n];
            db[i] += d[i];
            dw[i] += (float)(xh * d[i]);
            dinp[(size_t)n * C + i] += (float)((w[i] * d[i] - a - xh * bsum) * rstd[n]);
        }
    }
}

void sl_ref_matmul_forward(float *out, const float *inp, const float *w, const float *bias, int N,
                           int C, int OC)
{
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) {
            double s = bias ? bias[o] : 0.0;
            for (int i = 0; i < C; i++)
                s += (double)inp[(size_t)n * C + i] * w[(size_t)o * C + i];
            out[(size_t)n * OC + o] = (float)s;
        }
}

void sl_ref_matmul_backward(float *dinp, float *dw, float *dbias, const float *dout,
                            const float *inp, const float *w, int N, int C, int OC)
{
    if (dinp)
        for (int n = 0; n < N; n++)
            for (int i = 0; i < C; i++) {
                double s = 0;
                for (int o = 0; o < OC; o++)
                    s += (double)dout[(size_t)n * OC + o] * w[(size_t)o * C + i];
                dinp[(size_t)n * C + i] += (float)s;
            }
    for (int o = 0; o < OC; o++)
        for (int i = 0; i < C; i++) {
            double s = 0;
            for (int n = 0; n < N; n++)
                s += (double)dout[(size_t)n * OC + o] * inp[(size_t)n * C + i];
            dw[(size_t)o * C + i] += (float)s;
        }
    if (dbias)
        for (int o = 0; o < OC; o++) {
            double s = 0;
            for (int n = 0; n < N; n++)
                s += dout[(size_t)n * OC + o];
            dbias[o] += (float)s;
        }
}

void sl_ref_attention_forward(float *out, float *att, const float *inp, int B, int T, int C, int NH)
{
    int hs = C / NH, C3 = 3 * C;
    double scale = 1.0 / sqrt((double)hs);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            for (int t = 0; t < T; t++) {
                const float *q = inp + ((size_t)b * T + t) * C3 + h * hs;
                float *a = att + (((size_t)b * NH + h) * T + t) * T;
                double mx = -INFINITY;
                double *s = malloc(sizeof(double) * (size_t)(t + 1));
                for (int j = 0; j <= t; j++) {
                    const float *k = inp + ((size_t)b * T + j) * C3 + C + h * hs;
                    double dot = 0;
                    for (int i = 0; i < hs; i++)
                        dot += (double)q[i] * k[i];
                    s[j] = dot * scale;
                    if (s[j] > mx)
                        mx = s[j];
                }
                double sum = 0;
                for (int j = 0; j <= t; j++) {
                    s[j] = exp(s[j] - mx);
                    sum += s[j];
                }
                for (int j = 0; j < T; j++)
                    a[j] = j <= t ? (float)(s[j] / sum) : 0.0f;
                free(s);
                float *o = out + ((size_t)b * T + t) * C + h * hs;
                for (int i = 0; i < hs; i++) {
                    double acc = 0;
                    for (int j = 0; j <= t; j++)
                        acc += (double)a[j] * inp[((size_t)b * T + j) * C3 + 2 * C + h * hs + i];
                    o[i] = (float)acc;
                }
            }
}

void sl_ref_attention_backward(float *dinp, const float *dout, const float *inp, const float *att,
                               int B, int T, int C, int NH)
{
    int hs = C / NH, C3 = 3 * C;
    double scale = 1.0 / sqrt((double)hs);
    double *dp = malloc(sizeof(double) * (size_t)T);
    memset(dinp, 0, (size_t)B * T * C3 * sizeof(float)); /* it writes dinp, as the fast one */
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            for (int t = 0; t < T; t++) {
                const float *a = att + (((size_t)b * NH + h) * T + t) * T;
                const float *dy = dout + ((size_t)b * T + t) * C + h * hs;
                const float *q = inp + ((size_t)b * T + t) * C3 + h * hs;
                float *dq = dinp + ((size_t)b * T + t) * C3 + h * hs;
                double dot = 0;
                for (int j = 0; j <= t; j++) {
                    const float *v = inp + ((size_t)b * T + j) * C3 + 2 * C + h * hs;
                    float *dv = dinp + ((size_t)b * T + j) * C3 + 2 * C + h * hs;
                    double s = 0;
                    for (int i = 0; i < hs; i++) {
                        s += (double)dy[i] * v[i];
                        dv[i] += a[j] * dy[i];
                    }
                    dp[j] = s;
                    dot += s * a[j];
                }
                for (int j = 0; j <= t; j++) {
                    double ds = a[j] * (dp[j] - dot) * scale;
                    const float *k = inp + ((size_t)b * T + j) * C3 + C + h * hs;
                    float *dk = dinp + ((size_t)b * T + j) * C3 + C + h * hs;
                    for (int i = 0; i < hs; i++) {
                        dq[i] += (float)(ds * k[i]);
                        dk[i] += (float)(ds * q[i]);
                    }
                }
            }
    free(dp);
}

void sl_ref_gelu_forward(float *out, const float *inp, size_t N)
{
    const double k = sqrt(2.0 / M_PI);
    for (size_t i = 0; i < N; i++) {
        double x = inp[i];
        out[i] = (float)(0.5 * x * (1.0 + tanh(k * (x + 0.044715 * x * x * x))));
    }
}

void sl_ref_gelu_backward(float *dinp, const float *inp, const float *dout, size_t N)
{
    const double k = sqrt(2.0 / M_PI);
    for (size_t i = 0; i < N; i++) {
        double x = inp[i];
        double th = tanh(k * (x + 0.044715 * x * x * x));
        double g = 0.5 * (1.0 + th) + 0.5 * x * (1.0 - th * th) * k * (1.0 + 3.0 * 0.044715 * x * x);
        dinp[i] += (float)(g * dout[i]);
    }
}

void sl_ref_residual_layernorm_forward(float *res, float *out, float *mean, float *rstd,
                                       const float *x, const float *y, const float *ybias,
                                       const float *w, const float *b, int N, int C)
{
    for (int n = 0; n < N; n++)
        for (int i = 0; i < C; i++)
            res[(size_t)n * C + i] = x[(size_t)n * C + i] + (y[(size_t)n * C + i] + ybias[i]);
    sl_ref_layernorm_forward(out, mean, rstd, res, w, b, N, C);
}

void sl_ref_bias_gelu_forward(float *pre, float *out, const float *bias, int N, int F)
{
    for (int n = 0; n < N; n++)
        for (int i = 0; i < F; i++)
            pre[(size_t)n * F + i] += bias[i];
    sl_ref_gelu_forward(out, pre, (size_t)N * F);
}

void sl_ref_gelu_bias_backward(float *dpre, float *dbias, const float *pre, const float *dout,
                               int N, int F)
{
    memset(dpre, 0, (size_t)N * F * sizeof(float));
    sl_ref_gelu_backward(dpre, pre, dout, (size_t)N * F);
    for (int i = 0; i < F; i++) {
        double s = 0;
        for (int n = 0; n < N; n++)
            s += dpre[(size_t)n * F + i];
        dbias[i] += (float)s;
    }
}

double sl_ref_crossentropy_forward(float *probs, float *losses, const float *logits,
                                   const int32_t *targets, int N, int V)
{
    double total = 0;
    for (int n = 0; n < N; n++) {
        const float *l = logits + (size_t)n * V;
        double mx = -INFINITY, s = 0;
        for (int i = 0; i < V; i++)
            if (l[i] > mx)
                mx = l[i];
        for (int i = 0; i < V; i++)
            s += exp(l[i] - mx);
        for (int i = 0; i < V; i++)
            probs[(size_t)n * V + i] = (float)(exp(l[i] - mx) / s);
        double loss = log(s) - (l[targets[n]] - mx);
        losses[n] = (float)loss;
        total += loss;
    }
    return total;
}

void sl_ref_crossentropy_backward(float *dlogits, const float *probs, const int32_t *targets,
                                  float scale, int N, int V)
{
    for (int n = 0; n < N; n++)
        for (int i = 0; i < V; i++)
            dlogits[(size_t)n * V + i] =
                scale * (probs[(size_t)n * V + i] - (i == targets[n] ? 1.0f : 0.0f));
}

double sl_ref_crossentropy_forward_backward(float *dlogits, float *losses, const float *logits,
                                            const int32_t *targets, float scale, int N, int V)
{
    double total = sl_ref_crossentropy_forward(dlogits, losses, logits, targets, N, V);
    sl_ref_crossentropy_backward(dlogits, dlogits, targets, scale, N, V);
    return total;
}
