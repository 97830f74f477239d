/* Kernels: each fast kernel against its plain-C reference (1e-5 relative), and
 * each backward pass against central finite differences of the forward pass
 * (objective accumulated in double; 1e-3 relative, norm-wise). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scalelab/ops.h"
#include "scalelab/util.h"

static sl_rng rng;

static float *randv(size_t n, float scale)
{
    float *v = sl_alloc_floats(n);
    for (size_t i = 0; i < n; i++)
        v[i] = scale * sl_rng_normal(&rng);
    return v;
}

/* max |a-b| / max(max|b|, tiny): relative to the tensor's scale */
static double rel_err(const float *a, const float *b, size_t n)
{
    double num = 0, den = 1e-30;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        num = d > num ? d : num;
        den = fabs(b[i]) > den ? fabs(b[i]) : den;
    }
    return num / den;
}

static double dot(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

static double norm_rel(const double *num, const float *ana, size_t n)
{
    double d = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        d += (num[i] - ana[i]) * (num[i] - ana[i]);
        s += num[i] * num[i];
    }
    return sqrt(d) / (sqrt(s) + 1e-30);
}

static void setup(void) { sl_rng_seed(&rng, 42); }

TestSuite(ops, .init = setup);

Test(ops, matmul_fast_matches_reference)
{
    int N = 37, C = 24, OC = 40;
    float *x = randv((size_t)N * C, 1), *w = randv((size_t)OC * C, 1), *b = randv(OC, 1);
    float *o1 = sl_alloc_floats((size_t)N * OC), *o2 = sl_alloc_floats((size_t)N * OC);
    sl_matmul_forward(o1, x, w, b, N, C, OC);
    sl_ref_matmul_forward(o2, x, w, b, N, C, OC);
    cr_expect_leq(rel_err(o1, o2, (size_t)N * OC), 1e-5);
    float *d = randv((size_t)N * OC, 1);
    float *dx1 = sl_alloc_floats((size_t)N * C), *dx2 = sl_alloc_floats((size_t)N * C);
    float *dw1 = sl_alloc_floats((size_t)OC * C), *dw2 = sl_alloc_floats((size_t)OC * C);
    float *db1 = sl_alloc_floats(OC), *db2 = sl_alloc_floats(OC);
    sl_matmul_backward(dx1, dw1, db1, d, x, w, N, C, OC);
    sl_ref_matmul_backward(dx2, dw2, db2, d, x, w, N, C, OC);
    cr_expect_leq(rel_err(dx1, dx2, (size_t)N * C), 1e-5);
    cr_expect_leq(rel_err(dw1, dw2, (size_t)OC * C), 1e-5);
    cr_expect_leq(rel_err(db1, db2, OC), 1e-5);
    free(x), free(w), free(b), free(o1), free(o2), free(d), free(dx1), free(dx2), free(dw1),
        free(dw2), free(db1), free(db2);
}

Test(ops, attention_fast_matches_reference)
{
    int B = 2, T = 45, C = 24, NH = 3; /* T > 32 exercises the causal row blocks */
    size_t nin = (size_t)B * T * 3 * C, nout = (size_t)B * T * C, natt = (size_t)B * NH * T * T;
    float *x = randv(nin, 1);
    float *o1 = sl_alloc_floats(nout), *o2 = sl_alloc_floats(nout);
    float *a1 = sl_alloc_floats(natt), *a2 = sl_alloc_floats(natt);
    sl_attention_forward(o1, a1, x, B, T, C, NH);
    sl_ref_attention_forward(o2, a2, x, B, T, C, NH);
    cr_expect_leq(rel_err(o1, o2, nout), 1e-5);
    cr_expect_leq(rel_err(a1, a2, natt), 1e-5);
    float *d = randv(nout, 1), *scratch = sl_alloc_floats((size_t)T * T);
    float *g1 = sl_alloc_floats(nin), *g2 = sl_alloc_floats(nin);
    sl_attention_backward(g1, scratch, d, x, a1, B, T, C, NH);
    sl_ref_attention_backward(g2, d, x, a2, B, T, C, NH);
    cr_expect_leq(rel_err(g1, g2, nin), 1e-5);
    free(x), free(o1), free(o2), free(a1), free(a2), free(d), free(scratch), free(g1), free(g2);
}

Test(ops, attention_softmax_is_stable_for_large_scores)
{
    int B = 1, T = 8, C = 4, NH = 1;
    size_t nin = (size_t)B * T * 3 * C;
    float *x = randv(nin, 300); /* scores in the tens of thousands */
    float *o = sl_alloc_floats((size_t)T * C), *a = sl_alloc_floats((size_t)T * T);
    sl_attention_forward(o, a, x, B, T, C, NH);
    for (int t = 0; t < T; t++) {
        double s = 0;
        for (int j = 0; j < T; j++) {
            cr_assert(isfinite(a[t * T + j]));
            if (j > t)
                cr_expect_eq(a[t * T + j], 0.0f, "causal mask leaks at (%d,%d)", t, j);
            s += a[t * T + j];
        }
        cr_expect_float_eq(s, 1.0, 1e-5);
    }
    free(x), free(o), free(a);
}

Test(ops, layernorm_gelu_crossentropy_encoder_fast_match_reference)
{
    int N = 33, C = 40, V = 50, B = 3, T = 11;
    float *x = randv((size_t)N * C, 2), *w = randv(C, 1), *b = randv(C, 1);
    float *o1 = sl_alloc_floats((size_t)N * C), *o2 = sl_alloc_floats((size_t)N * C);
    float m1[64], r1[64], m2[64], r2[64];
    sl_layernorm_forward(o1, m1, r1, x, w, b, N, C);
    sl_ref_layernorm_forward(o2, m2, r2, x, w, b, N, C);
    cr_expect_leq(rel_err(o1, o2, (size_t)N * C), 1e-5);
    float *d = randv((size_t)N * C, 1);
    float *dx1 = sl_alloc_floats((size_t)N * C), *dx2 = sl_alloc_floats((size_t)N * C);
    float *dw1 = sl_alloc_floats(C), *dw2 = sl_alloc_floats(C), *db1 = sl_alloc_floats(C),
          *db2 = sl_alloc_floats(C);
    sl_layernorm_backward(dx1, dw1, db1, d, x, w, m1, r1, N, C);
    sl_ref_layernorm_backward(dx2, dw2, db2, d, x, w, m2, r2, N, C);
    cr_expect_leq(rel_err(dx1, dx2, (size_t)N * C), 1e-5);
    cr_expect_leq(rel_err(dw1, dw2, C), 1e-5);
    cr_expect_leq(rel_err(db1, db2, C), 1e-5);

    sl_gelu_forward(o1, x, (size_t)N * C);
    sl_ref_gelu_forward(o2, x, (size_t)N * C);
    cr_expect_leq(rel_err(o1, o2, (size_t)N * C), 1e-5);
    memset(dx1, 0, sizeof(float) * N * C);
    memset(dx2, 0, sizeof(float) * N * C);
    sl_gelu_backward(dx1, x, d, (size_t)N * C);
    sl_ref_gelu_backward(dx2, x, d, (size_t)N * C);
    cr_expect_leq(rel_err(dx1, dx2, (size_t)N * C), 1e-5);

    float *lg = randv((size_t)N * V, 3), *p1 = sl_alloc_floats((size_t)N * V),
          *p2 = sl_alloc_floats((size_t)N * V), l1[64], l2[64];
    int32_t tg[64];
    for (int i = 0; i < N; i++)
        tg[i] = (int32_t)sl_rng_below(&rng, V);
    double s1 = sl_crossentropy_forward(p1, l1, lg, tg, N, V);
    double s2 = sl_ref_crossentropy_forward(p2, l2, lg, tg, N, V);
    cr_expect_leq(fabs(s1 - s2) / fabs(s2), 1e-5);
    cr_expect_leq(rel_err(p1, p2, (size_t)N * V), 1e-5);
    sl_crossentropy_backward(p1, p1, tg, 0.5f, N, V);
    sl_ref_crossentropy_backward(p2, p2, tg, 0.5f, N, V);
    cr_expect_leq(rel_err(p1, p2, (size_t)N * V), 1e-5);
    /* the fused pass, in place over a copy of the logits as the model calls it */
    float *d3 = sl_alloc_floats((size_t)N * V), l3[64];
    memcpy(d3, lg, (size_t)N * V * sizeof *lg);
    double s3 = sl_crossentropy_forward_backward(d3, l3, d3, tg, 0.5f, N, V);
    cr_expect_leq(fabs(s3 - s2) / fabs(s2), 1e-5);
    cr_expect_leq(rel_err(l3, l2, (size_t)N), 1e-5);
    cr_expect_leq(rel_err(d3, p2, (size_t)N * V), 1e-5);
    double s4 = sl_ref_crossentropy_forward_backward(p1, l1, lg, tg, 0.5f, N, V);
    cr_expect_leq(fabs(s4 - s2) / fabs(s2), 1e-12);
    cr_expect_leq(rel_err(p1, p2, (size_t)N * V), 1e-6);
    free(d3);

    int32_t inp[64];
    for (int i = 0; i < B * T; i++)
        inp[i] = (int32_t)sl_rng_below(&rng, V);
    float *wte = randv((size_t)V * C, 1), *wpe = randv((size_t)T * C, 1);
    sl_encoder_forward(o1, inp, wte, wpe, B, T, C);
    sl_ref_encoder_forward(o2, inp, wte, wpe, B, T, C);
    cr_expect_leq(rel_err(o1, o2, (size_t)B * T * C), 1e-5);
    float *e1 = sl_alloc_floats((size_t)V * C), *e2 = sl_alloc_floats((size_t)V * C);
    float *q1 = sl_alloc_floats((size_t)T * C), *q2 = sl_alloc_floats((size_t)T * C);
    sl_encoder_backward(e1, q1, d, inp, B, T, C);
    sl_ref_encoder_backward(e2, q2, d, inp, B, T, C);
    cr_expect_leq(rel_err(e1, e2, (size_t)V * C), 1e-5);
    cr_expect_leq(rel_err(q1, q2, (size_t)T * C), 1e-5);
    free(x), free(w), free(b), free(o1), free(o2), free(d), free(dx1), free(dx2), free(dw1),
        free(dw2), free(db1), free(db2), free(lg), free(p1), free(p2), free(wte), free(wpe),
        free(e1), free(e2), free(q1), free(q2);
}

/* Finite differences: objective f(x) = sum(out(x) * R), derivative along each
 * coordinate by (f(x+h) - f(x-h)) / 2h. */
typedef void (*fwd_fn)(float *out, float *x, void *ctx);

static void fd_grad(fwd_fn f, void *ctx, float *x, size_t nx, const float *R, size_t nout,
                    double h, double *g)
{
    float *out = sl_alloc_floats(nout);
    for (size_t i = 0; i < nx; i++) {
        float x0 = x[i];
        x[i] = (float)(x0 + h);
        double hp = (double)x[i] - x0;
        f(out, x, ctx);
        double fp = dot(out, R, nout);
        x[i] = (float)(x0 - h);
        double hm = x0 - (double)x[i];
        f(out, x, ctx);
        double fm = dot(out, R, nout);
        x[i] = x0;
        g[i] = (fp - fm) / (hp + hm);
    }
    free(out);
}

typedef struct {
    int N, C, OC, B, T, NH;
    float *w, *b, *x, *att, *mean, *rstd;
} kctx;

static void f_matmul_x(float *out, float *x, void *vp)
{
    kctx *k = vp;
    sl_ref_matmul_forward(out, x, k->w, k->b, k->N, k->C, k->OC);
}
static void f_matmul_w(float *out, float *w, void *vp)
{
    kctx *k = vp;
    sl_ref_matmul_forward(out, k->x, w, k->b, k->N, k->C, k->OC);
}
static void f_layernorm_x(float *out, float *x, void *vp)
{
    kctx *k = vp;
    sl_ref_layernorm_forward(out, k->mean, k->rstd, x, k->w, k->b, k->N, k->C);
}
static void f_attention(float *out, float *x, void *vp)
{
    kctx *k = vp;
    sl_ref_attention_forward(out, k->att, x, k->B, k->T, k->C, k->NH);
}
static void f_gelu(float *out, float *x, void *vp)
{
    kctx *k = vp;
    sl_ref_gelu_forward(out, x, (size_t)k->N);
}

Test(ops, matmul_backward_matches_finite_differences)
{
    kctx k = {.N = 6, .C = 5, .OC = 7};
    k.x = randv(30, 1), k.w = randv(35, 1), k.b = randv(7, 1);
    float *R = randv(42, 1), *dx = sl_alloc_floats(30), *dw = sl_alloc_floats(35),
          *db = sl_alloc_floats(7);
    sl_matmul_backward(dx, dw, db, R, k.x, k.w, k.N, k.C, k.OC);
    double gx[30], gw[35];
    fd_grad(f_matmul_x, &k, k.x, 30, R, 42, 1e-2, gx);
    fd_grad(f_matmul_w, &k, k.w, 35, R, 42, 1e-2, gw);
    cr_expect_leq(norm_rel(gx, dx, 30), 1e-3);
    cr_expect_leq(norm_rel(gw, dw, 35), 1e-3);
    free(k.x), free(k.w), free(k.b), free(R), free(dx), free(dw), free(db);
}

Test(ops, layernorm_backward_matches_finite_differences)
{
    kctx k = {.N = 4, .C = 9};
    float mean[4], rstd[4];
    k.mean = mean, k.rstd = rstd;
    k.x = randv(36, 1), k.w = randv(9, 1), k.b = randv(9, 1);
    float *R = randv(36, 1), *out = sl_alloc_floats(36), *dx = sl_alloc_floats(36),
          *dw = sl_alloc_floats(9), *db = sl_alloc_floats(9);
    sl_layernorm_forward(out, mean, rstd, k.x, k.w, k.b, k.N, k.C);
    sl_layernorm_backward(dx, dw, db, R, k.x, k.w, mean, rstd, k.N, k.C);
    double gx[36];
    fd_grad(f_layernorm_x, &k, k.x, 36, R, 36, 1e-2, gx);
    cr_expect_leq(norm_rel(gx, dx, 36), 1e-3);
    free(k.x), free(k.w), free(k.b), free(R), free(out), free(dx), free(dw), free(db);
}

Test(ops, attention_backward_matches_finite_differences)
{
    kctx k = {.B = 2, .T = 5, .C = 6, .NH = 2};
    size_t nin = 2 * 5 * 18, nout = 2 * 5 * 6;
    k.att = sl_alloc_floats(2 * 2 * 25);
    float *x = randv(nin, 1), *R = randv(nout, 1), *out = sl_alloc_floats(nout),
          *dx = sl_alloc_floats(nin), *scratch = sl_alloc_floats(25);
    sl_attention_forward(out, k.att, x, k.B, k.T, k.C, k.NH);
    sl_attention_backward(dx, scratch, R, x, k.att, k.B, k.T, k.C, k.NH);
    double *g = calloc(nin, sizeof(double));
    fd_grad(f_attention, &k, x, nin, R, nout, 1e-2, g);
    cr_expect_leq(norm_rel(g, dx, nin), 1e-3);
    free(k.att), free(x), free(R), free(out), free(dx), free(scratch), free(g);
}

Test(ops, gelu_backward_matches_finite_differences)
{
    kctx k = {.N = 64};
    float *x = randv(64, 2), *R = randv(64, 1), *dx = sl_alloc_floats(64);
    sl_gelu_backward(dx, x, R, 64);
    double g[64];
    fd_grad(f_gelu, &k, x, 64, R, 64, 1e-2, g);
    cr_expect_leq(norm_rel(g, dx, 64), 1e-3);
    free(x), free(R), free(dx);
}

Test(ops, crossentropy_backward_matches_finite_differences)
{
    int N = 3, V = 7;
    float *lg = randv(21, 1), p[21], l[3], dl[21];
    int32_t tg[3] = {1, 6, 0};
    sl_crossentropy_forward(p, l, lg, tg, N, V);
    sl_crossentropy_backward(dl, p, tg, 1.0f, N, V);
    for (int i = 0; i < N * V; i++) {
        float x0 = lg[i];
        lg[i] = x0 + 1e-2f;
        double fp = sl_ref_crossentropy_forward(p, l, lg, tg, N, V);
        lg[i] = x0 - 1e-2f;
        double fm = sl_ref_crossentropy_forward(p, l, lg, tg, N, V);
        lg[i] = x0;
        cr_expect_float_eq(dl[i], (fp - fm) / 2e-2, 1e-3, "dlogit %d", i);
    }
    free(lg);
}

/* The fused kernels of the fast model path, each against its reference. Their
 * outputs that are written (not accumulated) start from garbage, so a kernel
 * that only added would fail. */
static float *garbage(size_t n)
{
    float *v = sl_alloc_floats(n);
    for (size_t i = 0; i < n; i++)
        v[i] = 1e3f * (float)((i * 7919) % 13) - 6e3f;
    return v;
}

Test(ops, residual_layernorm_fused_matches_reference)
{
    int N = 19, C = 53; /* C not a multiple of the 16 lanes */
    size_t n = (size_t)N * C;
    float *x = randv(n, 1), *y = randv(n, 2), *yb = randv(C, 1), *w = randv(C, 1),
          *b = randv(C, 1);
    float *r1 = garbage(n), *r2 = garbage(n), *o1 = garbage(n), *o2 = garbage(n);
    float m1[32], s1[32], m2[32], s2[32];
    sl_residual_layernorm_forward(r1, o1, m1, s1, x, y, yb, w, b, N, C);
    sl_ref_residual_layernorm_forward(r2, o2, m2, s2, x, y, yb, w, b, N, C);
    cr_expect_leq(rel_err(r1, r2, n), 1e-6);
    cr_expect_leq(rel_err(o1, o2, n), 1e-5);
    cr_expect_leq(rel_err(m1, m2, (size_t)N), 1e-5);
    cr_expect_leq(rel_err(s1, s2, (size_t)N), 1e-5);
    free(x), free(y), free(yb), free(w), free(b), free(r1), free(r2), free(o1), free(o2);
}

Test(ops, bias_gelu_fused_matches_reference_and_finite_differences)
{
    int N = 7, F = 37;
    size_t n = (size_t)N * F;
    float *x = randv(n, 2), *bias = randv(F, 1), *d = randv(n, 1);
    float *p1 = sl_alloc_floats(n), *p2 = sl_alloc_floats(n), *o1 = garbage(n), *o2 = garbage(n);
    memcpy(p1, x, n * sizeof *x);
    memcpy(p2, x, n * sizeof *x);
    sl_bias_gelu_forward(p1, o1, bias, N, F);
    sl_ref_bias_gelu_forward(p2, o2, bias, N, F);
    cr_expect_leq(rel_err(p1, p2, n), 1e-6);
    cr_expect_leq(rel_err(o1, o2, n), 1e-5);
    float *g1 = garbage(n), *g2 = garbage(n), *db1 = randv(F, 1), *db2 = sl_alloc_floats(F);
    memcpy(db2, db1, F * sizeof *db1);
    sl_gelu_bias_backward(g1, db1, p1, d, N, F);
    sl_ref_gelu_bias_backward(g2, db2, p2, d, N, F);
    cr_expect_leq(rel_err(g1, g2, n), 1e-5);
    cr_expect_leq(rel_err(db1, db2, F), 1e-5);
    /* in place (dpre = dout), as the model calls it */
    float *dd = sl_alloc_floats(n), *db3 = sl_alloc_floats(F);
    memcpy(dd, d, n * sizeof *d);
    sl_gelu_bias_backward(dd, db3, p1, dd, N, F);
    cr_expect_leq(rel_err(dd, g2, n), 1e-5);
    /* the input gradient against finite differences of gelu(x) */
    kctx k = {.N = (int)n};
    double *fd = calloc(n, sizeof(double));
    fd_grad(f_gelu, &k, p2, n, d, n, 1e-2, fd);
    cr_expect_leq(norm_rel(fd, g1, n), 1e-3);
    /* and the bias gradient: the column sums of it */
    double col[64] = {0};
    for (int r = 0; r < N; r++)
        for (int i = 0; i < F; i++)
            col[i] += fd[(size_t)r * F + i];
    float dbz[64] = {0};
    sl_gelu_bias_backward(g1, dbz, p1, d, N, F);
    cr_expect_leq(norm_rel(col, dbz, F), 1e-3);
    free(x), free(bias), free(d), free(p1), free(p2), free(o1), free(o2), free(g1), free(g2),
        free(db1), free(db2), free(dd), free(db3), free(fd);
}

Test(ops, matmul_and_attention_backward_write_their_input_gradient)
{
    int N = 21, C = 24, OC = 40;
    float *x = randv((size_t)N * C, 1), *w = randv((size_t)OC * C, 1), *d = randv((size_t)N * OC, 1);
    float *dx1 = garbage((size_t)N * C), *dx2 = sl_alloc_floats((size_t)N * C);
    float *dw1 = sl_alloc_floats((size_t)OC * C), *dw2 = sl_alloc_floats((size_t)OC * C);
    float *db1 = sl_alloc_floats(OC), *db2 = sl_alloc_floats(OC);
    sl_matmul_backward_write(dx1, dw1, db1, d, x, w, N, C, OC);
    sl_ref_matmul_backward(dx2, dw2, db2, d, x, w, N, C, OC);
    cr_expect_leq(rel_err(dx1, dx2, (size_t)N * C), 1e-5);
    cr_expect_leq(rel_err(dw1, dw2, (size_t)OC * C), 1e-5);
    cr_expect_leq(rel_err(db1, db2, OC), 1e-5);

    int B = 2, T = 70, NH = 2; /* three row blocks, the last one partial */
    size_t nin = (size_t)B * T * 3 * C, nout = (size_t)B * T * C, natt = (size_t)B * NH * T * T;
    float *q = randv(nin, 1), *o = sl_alloc_floats(nout), *a = sl_alloc_floats(natt);
    float *dy = randv(nout, 1), *scratch = garbage((size_t)T * T);
    float *g1 = garbage(nin), *g2 = garbage(nin);
    sl_attention_forward(o, a, q, B, T, C, NH);
    sl_attention_backward(g1, scratch, dy, q, a, B, T, C, NH);
    sl_ref_attention_backward(g2, dy, q, a, B, T, C, NH);
    cr_expect_leq(rel_err(g1, g2, nin), 1e-5);
    free(x), free(w), free(d), free(dx1), free(dx2), free(dw1), free(dw2), free(db1), free(db2),
        free(q), free(o), free(a), free(dy), free(scratch), free(g1), free(g2);
}
