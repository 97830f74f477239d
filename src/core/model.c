/* model: see include/scalelab/model.h */
#include "scalelab/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scalelab/bf16.h"
#include "scalelab/data.h"
#include "scalelab/ops.h"

int sl_config_validate(const sl_config *c, sl_error *err)
{
    if (c->n_layer < 1 || c->n_layer > 1024)
        return sl_fail(err, SL_EINPUT, "--layers: %d is out of range (expected 1..1024)", c->n_layer);
    if (c->d_model < 1 || c->d_model > 65536)
        return sl_fail(err, SL_EINPUT, "--d-model: %d is out of range (expected 1..65536)",
                       c->d_model);
    if (c->n_head < 1 || c->n_head > c->d_model)
        return sl_fail(err, SL_EINPUT, "--heads: %d is out of range (expected 1..d_model=%d)",
                       c->n_head, c->d_model);
    if (c->d_model % c->n_head != 0)
        return sl_fail(err, SL_EINPUT,
                       "--heads: d_model %d is not divisible by %d heads (expected a divisor of "
                       "d_model)",
                       c->d_model, c->n_head);
    if (c->d_ff < 1 || c->d_ff > 1 << 20)
        return sl_fail(err, SL_EINPUT, "--d-ff: %d is out of range (expected 1..1048576)", c->d_ff);
    if (c->n_ctx < 1 || c->n_ctx > 65536)
        return sl_fail(err, SL_EINPUT, "--ctx: %d is out of range (expected 1..65536)", c->n_ctx);
    if (c->vocab < 2 || c->vocab > SL_MAX_VOCAB)
        return sl_fail(err, SL_EINPUT, "vocab: %d is out of range (expected 2..%d)", c->vocab,
                       SL_MAX_VOCAB);
    return SL_OK;
}

size_t sl_param_layout(const sl_config *c, sl_tensor_info info[SL_NUM_PARAM_TENSORS])
{
    size_t L = (size_t)c->n_layer, C = (size_t)c->d_model, F = (size_t)c->d_ff;
    size_t V = (size_t)c->vocab, T = (size_t)c->n_ctx;
    const struct {
        const char *name;
        size_t size;
        int decay, embedding;
    } t[SL_NUM_PARAM_TENSORS] = {
        [SL_WTE] = {"wte", V * C, 0, 1},
        [SL_WPE] = {"wpe", T * C, 0, 1},
        [SL_LN1W] = {"ln1.w", L * C, 0, 0},
        [SL_LN1B] = {"ln1.b", L * C, 0, 0},
        [SL_QKVW] = {"attn.qkv.w", L * 3 * C * C, 1, 0},
        [SL_QKVB] = {"attn.qkv.b", L * 3 * C, 0, 0},
        [SL_ATTPROJW] = {"attn.proj.w", L * C * C, 1, 0},
        [SL_ATTPROJB] = {"attn.proj.b", L * C, 0, 0},
        [SL_LN2W] = {"ln2.w", L * C, 0, 0},
        [SL_LN2B] = {"ln2.b", L * C, 0, 0},
        [SL_FCW] = {"mlp.fc.w", L * F * C, 1, 0},
        [SL_FCB] = {"mlp.fc.b", L * F, 0, 0},
        [SL_FCPROJW] = {"mlp.proj.w", L * C * F, 1, 0},
        [SL_FCPROJB] = {"mlp.proj.b", L * C, 0, 0},
        [SL_LNFW] = {"lnf.w", C, 0, 0},
        [SL_LNFB] = {"lnf.b", C, 0, 0},
        [SL_HEAD] = {"head.w", V * C, 1, 1},
    };
    size_t off = 0;
    for (int k = 0; k < SL_NUM_PARAM_TENSORS; k++) {
        info[k].name = t[k].name;
        info[k].offset = off;
        info[k].size = t[k].size;
        info[k].decay = t[k].decay;
        info[k].embedding = t[k].embedding;
        /* keep every tensor 64-byte aligned */
        off += (t[k].size + 15) & ~(size_t)15;
    }
    return off;
}

sl_counts sl_model_counts(const sl_config *c)
{
    double L = c->n_layer, d = c->d_model, F = c->d_ff, V = c->vocab, T = c->n_ctx;
    sl_counts k;
    k.n_kaplan = 2.0 * d * L * (2.0 * d + F);
    k.n_exact = k.n_kaplan + L * (2 * d + 3 * d + d + 2 * d + F + d) + 2 * d;
    k.n_total = k.n_exact + V * d + T * d + V * d;
    k.flops_per_token = 6.0 * k.n_kaplan + 6.0 * L * T * d;
    k.flops_embed_per_token = 6.0 * d * V;
    return k;
}

static const struct {
    const char *name, *formula;
} accountings[SL_ACCT_COUNT] = {
    [SL_ACCT_KAPLAN] = {"kaplan", "6N per token (C = 6NBS, Kaplan et al.)"},
    [SL_ACCT_ATTN] = {"attn", "6N + 6 n_layer n_ctx d_model per token (with attention's context)"},
    [SL_ACCT_HEAD] = {"head", "6N + 6 d_model vocab per token (with the output head)"},
    [SL_ACCT_TOTAL] = {"total", "6N + 6 n_layer n_ctx d_model + 6 d_model vocab per token"},
};

double sl_model_flops_per_token(const sl_config *c, sl_accounting a)
{
    double L = c->n_layer, d = c->d_model, V = c->vocab, T = c->n_ctx;
    double six_n = 6.0 * sl_model_counts(c).n_kaplan;
    double attn = 6.0 * L * T * d, head = 6.0 * d * V;
    switch (a) {
    case SL_ACCT_KAPLAN: return six_n;
    case SL_ACCT_ATTN: return six_n + attn;
    case SL_ACCT_HEAD: return six_n + head;
    case SL_ACCT_TOTAL: return six_n + attn + head;
    default: return NAN;
    }
}

const char *sl_accounting_name(sl_accounting a)
{
    return (unsigned)a < SL_ACCT_COUNT ? accountings[a].name : "?";
}

int sl_accounting_from_name(const char *name)
{
    for (int a = 0; a < SL_ACCT_COUNT; a++)
        if (!strcmp(name, accountings[a].name))
            return a;
    return -1;
}

const char *sl_accounting_formula(sl_accounting a)
{
    return (unsigned)a < SL_ACCT_COUNT ? accountings[a].formula : "?";
}

int sl_model_for_n(double target_n, double aspect, int layers, int head_size, int ff_mult, int n_ctx,
                   int vocab, sl_config *out, sl_error *err)
{
    if (!(target_n > 0) || !isfinite(target_n))
        return sl_fail(err, SL_EINPUT, "N: %g is not a positive size", target_n);
    if (!(aspect > 0) || !isfinite(aspect))
        return sl_fail(err, SL_EINPUT, "aspect: %g is not positive (expected d_model/n_layer > 0)",
                       aspect);
    if (head_size < 1 || ff_mult < 1)
        return sl_fail(err, SL_EINPUT, "head_size/ff_mult: expected positive integers");
    if (layers < 0 || layers > 128)
        return sl_fail(err, SL_EINPUT, "layers: %d is out of range (expected 0..128, 0 = any)", layers);
    int lo = layers ? layers : 1, hi = layers ? layers : 128;
    double best = INFINITY;
    sl_config cfg = {0};
    for (int L = lo; L <= hi; L++)
        for (int d = head_size; d <= 8192; d += head_size) {
            double n = 2.0 * d * L * (2.0 * d + (double)ff_mult * d);
            double e_n = log(n / target_n), e_a = log((double)d / L / aspect);
            /* size first; aspect ratio barely matters (Kaplan) but keeps shapes sane */
            double score = e_n * e_n + 0.05 * e_a * e_a;
            if (score < best) {
                best = score;
                cfg = (sl_config){L, d, d / head_size, ff_mult * d, n_ctx, vocab};
            }
        }
    double n = sl_model_counts(&cfg).n_kaplan;
    if (n > 1.5 * target_n)
        return sl_fail(err, SL_EINPUT,
                       "N: %g is below the smallest model with head size %d (expected N >= %g)",
                       target_n, head_size, n / 1.5);
    if (n < target_n / 1.5)
        return sl_fail(err, SL_EINPUT,
                       "N: %g is above the largest model this picks (expected N <= %g)", target_n,
                       n * 1.5);
    *out = cfg;
    return sl_config_validate(out, err);
}

int sl_model_init(sl_model *m, const sl_config *c, sl_error *err)
{
    memset(m, 0, sizeof *m);
    int rc = sl_config_validate(c, err);
    if (rc)
        return rc;
    m->cfg = *c;
    m->n_params = sl_param_layout(c, m->info);
    m->params = sl_try_alloc_floats(m->n_params);
    m->grads = sl_try_alloc_floats(m->n_params);
    if (!m->params || !m->grads) {
        size_t n = m->n_params;
        sl_model_free(m);
        return sl_fail(err, SL_ERUNTIME,
                       "out of memory: the model's %zu parameters and gradients need %.2f GiB",
                       n, 8.0 * (double)n / 1073741824.0);
    }
    return SL_OK;
}

void sl_model_free(sl_model *m)
{
    free(m->params);
    free(m->grads);
    memset(m, 0, sizeof *m);
}

float *sl_tensor(const sl_model *m, float *base, int k, int l)
{
    const sl_tensor_info *t = &m->info[k];
    size_t per = t->size;
    int layered = k >= SL_LN1W && k <= SL_FCPROJB;
    if (layered)
        per /= (size_t)m->cfg.n_layer;
    return base + t->offset + (layered ? (size_t)l * per : 0);
}

void sl_model_init_weights(sl_model *m, uint64_t seed)
{
    sl_rng rng;
    sl_rng_seed(&rng, seed);
    memset(m->params, 0, m->n_params * sizeof(float));
    float resid_std = 0.02f / sqrtf(2.0f * (float)m->cfg.n_layer);
    for (int k = 0; k < SL_NUM_PARAM_TENSORS; k++) {
        float *p = m->params + m->info[k].offset;
        size_t n = m->info[k].size;
        float stdv = 0.0f, fill = 0.0f;
        switch (k) {
        case SL_WTE: case SL_WPE: case SL_QKVW: case SL_FCW: case SL_HEAD:
            stdv = 0.02f;
            break;
        case SL_ATTPROJW: case SL_FCPROJW:
            stdv = resid_std;
            break;
        case SL_LN1W: case SL_LN2W: case SL_LNFW:
            fill = 1.0f;
            break;
        default:
            break;
        }
        for (size_t i = 0; i < n; i++)
            p[i] = stdv > 0.0f ? stdv * sl_rng_normal(&rng) : fill;
    }
}

/* Activations: forward values for every layer (the backward pass needs them)
 * and a few gradient buffers reused layer by layer. */
struct sl_acts {
    int Bs, T, L, C, F, V, NH;
    float *mem;
    float *encoded;                    /* BTC */
    float *ln1, *ln1_mean, *ln1_rstd;  /* per layer */
    float *qkv, *atty, *att, *attproj, *res2;
    float *ln2, *ln2_mean, *ln2_rstd;
    float *fch, *fch_gelu, *fcproj, *res3;
    float *lnf, *lnf_mean, *lnf_rstd, *logits, *probs, *losses;
    /* gradients */
    float *dres, *dbtc, *dbtc2, *dqkv, *dbtf, *dbtf2, *dscratch;
    sl_bf16 *bf16; /* set: a training step's weight products in bf16 */
};

static size_t acts_layout(const sl_config *c, int Bs, sl_acts *a, float *base)
{
    size_t BT = (size_t)Bs * c->n_ctx, C = c->d_model, F = c->d_ff, V = c->vocab;
    size_t L = c->n_layer, NH = c->n_head, T = c->n_ctx;
    size_t off = 0;
#define CARVE(field, n)                                                                            \
    do {                                                                                           \
        if (a)                                                                                     \
            a->field = base + off;                                                                 \
        off += ((n) + 15) & ~(size_t)15;                                                           \
    } while (0)
    CARVE(encoded, BT * C);
    CARVE(ln1, L * BT * C);
    CARVE(ln1_mean, L * BT);
    CARVE(ln1_rstd, L * BT);
    CARVE(qkv, L * BT * 3 * C);
    CARVE(atty, L * BT * C);
    CARVE(att, L * (size_t)Bs * NH * T * T);
    CARVE(attproj, L * BT * C);
    CARVE(res2, L * BT * C);
    CARVE(ln2, L * BT * C);
    CARVE(ln2_mean, L * BT);
    CARVE(ln2_rstd, L * BT);
    CARVE(fch, L * BT * F);
    CARVE(fch_gelu, L * BT * F);
    CARVE(fcproj, L * BT * C);
    CARVE(res3, L * BT * C);
    CARVE(lnf, BT * C);
    CARVE(lnf_mean, BT);
    CARVE(lnf_rstd, BT);
    CARVE(logits, BT * V);
    CARVE(probs, BT * V);
    CARVE(losses, BT);
    CARVE(dres, BT * C);
    CARVE(dbtc, BT * C);
    CARVE(dbtc2, BT * C);
    CARVE(dqkv, BT * 3 * C);
    CARVE(dbtf, BT * F);
    CARVE(dbtf2, BT * F);
    CARVE(dscratch, T * T);
#undef CARVE
    return off;
}

size_t sl_acts_floats(const sl_config *c, int Bs) { return acts_layout(c, Bs, NULL, NULL); }

sl_acts *sl_acts_new(const sl_config *c, int Bs)
{
    sl_acts *a = sl_xcalloc(1, sizeof *a);
    a->Bs = Bs;
    a->T = c->n_ctx;
    a->L = c->n_layer;
    a->C = c->d_model;
    a->F = c->d_ff;
    a->V = c->vocab;
    a->NH = c->n_head;
    a->mem = sl_try_alloc_floats(acts_layout(c, Bs, NULL, NULL));
    if (!a->mem) {
        free(a);
        return NULL;
    }
    acts_layout(c, Bs, a, a->mem);
    return a;
}

int sl_acts_use_bf16(sl_acts *a, const sl_model *m)
{
    int cols = a->C;
    const int w[] = {3 * a->C, a->F, a->V};
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
        cols = w[i] > cols ? w[i] : cols;
    sl_bf16_free(a->bf16);
    a->bf16 = sl_bf16_new(m->n_params, a->Bs * a->T, cols);
    return a->bf16 ? 0 : -1;
}

void sl_acts_free(sl_acts *a)
{
    if (!a)
        return;
    sl_bf16_free(a->bf16);
    free(a->mem);
    free(a);
}

const float *sl_acts_losses(const sl_acts *a) { return a->losses; }
const float *sl_acts_logits(const sl_acts *a) { return a->logits; }

/* The kernel set: fast or reference. Residual add has one form. */
typedef struct {
    void (*enc_f)(float *, const int32_t *, const float *, const float *, int, int, int);
    void (*enc_b)(float *, float *, const float *, const int32_t *, int, int, int);
    void (*ln_f)(float *, float *, float *, const float *, const float *, const float *, int, int);
    void (*ln_b)(float *, float *, float *, const float *, const float *, const float *,
                 const float *, const float *, int, int);
    void (*mm_f)(float *, const float *, const float *, const float *, int, int, int);
    void (*mm_b)(float *, float *, float *, const float *, const float *, const float *, int, int,
                 int);
    void (*gelu_f)(float *, const float *, size_t);
    void (*gelu_b)(float *, const float *, const float *, size_t);
    double (*ce_f)(float *, float *, const float *, const int32_t *, int, int);
    void (*ce_b)(float *, const float *, const int32_t *, float, int, int);
} kernels;

static const kernels fast_k = {sl_encoder_forward,   sl_encoder_backward, sl_layernorm_forward,
                               sl_layernorm_backward, sl_matmul_forward,   sl_matmul_backward,
                               sl_gelu_forward,       sl_gelu_backward,    sl_crossentropy_forward,
                               sl_crossentropy_backward};
static const kernels ref_k = {sl_ref_encoder_forward,   sl_ref_encoder_backward,
                              sl_ref_layernorm_forward,  sl_ref_layernorm_backward,
                              sl_ref_matmul_forward,     sl_ref_matmul_backward,
                              sl_ref_gelu_forward,       sl_ref_gelu_backward,
                              sl_ref_crossentropy_forward, sl_ref_crossentropy_backward};

static void attn_backward(int ref, float *dinp, float *scratch, const float *dout, const float *inp,
                          const float *att, int B, int T, int C, int NH)
{
    if (ref)
        sl_ref_attention_backward(dinp, dout, inp, att, B, T, C, NH);
    else
        sl_attention_backward(dinp, scratch, dout, inp, att, B, T, C, NH);
}

/* The fused path's weight products: fp32 (cblas_sgemm), or bf16 when the
 * shard's activations carry an engine and this is a training step. */
static void mm_forward(sl_bf16 *bf, const sl_model *m, float *out, const float *inp, const float *w,
                       const float *bias, int N, int C, int OC)
{
    if (bf)
        sl_bf16_matmul_forward(bf, out, inp, (size_t)(w - m->params), bias, N, C, OC);
    else
        sl_matmul_forward(out, inp, w, bias, N, C, OC);
}

static void mm_backward(sl_bf16 *bf, const sl_model *m, float *dinp, float *dw, float *dbias,
                        const float *dout, const float *inp, const float *w, int N, int C, int OC)
{
    if (bf)
        sl_bf16_matmul_backward_write(bf, dinp, dw, dbias, dout, inp, (size_t)(w - m->params), N, C,
                                      OC);
    else
        sl_matmul_backward_write(dinp, dw, dbias, dout, inp, w, N, C, OC);
}

/* The fast path: bias, residual and norm fused into the passes that produce
 * their inputs (sl_residual_layernorm_forward, sl_bias_gelu_forward), products
 * without bias written with beta 0. The reference path below keeps one kernel
 * per operation; the model test holds the two together. */
static double forward_fused(const sl_model *m, sl_acts *a, const int32_t *inp, const int32_t *tgt,
                            int Bs, int T, float train_scale)
{
    /* evaluation (train_scale 0) is fp32 on the master weights */
    sl_bf16 *bf = train_scale != 0.0f ? a->bf16 : NULL;
    if (bf)
        sl_bf16_load_weights(bf, m->params, m->n_params);
    const int C = m->cfg.d_model, F = m->cfg.d_ff, V = m->cfg.vocab, NH = m->cfg.n_head;
    const int L = m->cfg.n_layer, N = Bs * T;
    const size_t BTC = (size_t)a->Bs * a->T * C, BT = (size_t)a->Bs * a->T;
    const size_t BTF = BT * F, ATT = (size_t)a->Bs * NH * a->T * a->T;
    float *P = m->params;
    const float *lnfw = P + m->info[SL_LNFW].offset, *lnfb = P + m->info[SL_LNFB].offset;

    sl_encoder_forward(a->encoded, inp, P + m->info[SL_WTE].offset, P + m->info[SL_WPE].offset, Bs,
                       T, C);
    if (L == 0)
        sl_layernorm_forward(a->lnf, a->lnf_mean, a->lnf_rstd, a->encoded, lnfw, lnfb, N, C);
    else
        sl_layernorm_forward(a->ln1, a->ln1_mean, a->ln1_rstd, a->encoded,
                             sl_tensor(m, P, SL_LN1W, 0), sl_tensor(m, P, SL_LN1B, 0), N, C);
    const float *x = a->encoded;
    for (int l = 0; l < L; l++) {
        float *ln1 = a->ln1 + l * BTC, *qkv = a->qkv + l * BTC * 3, *atty = a->atty + l * BTC;
        float *att = a->att + l * ATT, *attproj = a->attproj + l * BTC, *res2 = a->res2 + l * BTC;
        float *ln2 = a->ln2 + l * BTC, *fch = a->fch + l * BTF, *fchg = a->fch_gelu + l * BTF;
        float *fcproj = a->fcproj + l * BTC, *res3 = a->res3 + l * BTC;
        mm_forward(bf, m, qkv, ln1, sl_tensor(m, P, SL_QKVW, l), sl_tensor(m, P, SL_QKVB, l), N, C,
                   3 * C);
        sl_attention_forward(atty, att, qkv, Bs, T, C, NH);
        mm_forward(bf, m, attproj, atty, sl_tensor(m, P, SL_ATTPROJW, l), NULL, N, C, C);
        sl_residual_layernorm_forward(res2, ln2, a->ln2_mean + l * BT, a->ln2_rstd + l * BT, x,
                                      attproj, sl_tensor(m, P, SL_ATTPROJB, l),
                                      sl_tensor(m, P, SL_LN2W, l), sl_tensor(m, P, SL_LN2B, l), N, C);
        mm_forward(bf, m, fch, ln2, sl_tensor(m, P, SL_FCW, l), NULL, N, C, F);
        sl_bias_gelu_forward(fch, fchg, sl_tensor(m, P, SL_FCB, l), N, F);
        mm_forward(bf, m, fcproj, fchg, sl_tensor(m, P, SL_FCPROJW, l), NULL, N, F, C);
        /* the next norm: the next layer's ln1, or the final one */
        int last = l + 1 == L;
        sl_residual_layernorm_forward(
            res3, last ? a->lnf : a->ln1 + (l + 1) * BTC,
            last ? a->lnf_mean : a->ln1_mean + (l + 1) * BT,
            last ? a->lnf_rstd : a->ln1_rstd + (l + 1) * BT, res2, fcproj,
            sl_tensor(m, P, SL_FCPROJB, l), last ? lnfw : sl_tensor(m, P, SL_LN1W, l + 1),
            last ? lnfb : sl_tensor(m, P, SL_LN1B, l + 1), N, C);
        x = res3;
    }
    mm_forward(bf, m, a->logits, a->lnf, P + m->info[SL_HEAD].offset, NULL, N, C, V);
    if (!tgt)
        return 0.0;
    /* training: the loss and its gradient in one pass (dlogits in probs) */
    if (train_scale != 0.0f)
        return sl_crossentropy_forward_backward(a->probs, a->losses, a->logits, tgt, train_scale, N,
                                                V);
    return sl_crossentropy_forward(a->probs, a->losses, a->logits, tgt, N, V);
}

/* Backward of forward_fused: every input gradient of a product is written
 * (beta 0), so no activation gradient is cleared first; dres alone collects
 * the residual stream's sum. */
static void backward_fused(const sl_model *m, sl_acts *a, float *grads, const int32_t *inp,
                           const int32_t *tgt, int Bs, int T, float loss_scale, int have_dlogits)
{
    /* bf16 only after a training forward (which loaded the rounded weights) */
    sl_bf16 *bf = have_dlogits ? a->bf16 : NULL;
    const int C = m->cfg.d_model, F = m->cfg.d_ff, V = m->cfg.vocab, NH = m->cfg.n_head;
    const int L = m->cfg.n_layer, N = Bs * T;
    const size_t BTC = (size_t)a->Bs * a->T * C, BT = (size_t)a->Bs * a->T;
    const size_t BTF = BT * F, ATT = (size_t)a->Bs * NH * a->T * a->T;
    float *P = m->params, *G = grads;

    if (!have_dlogits)
        sl_crossentropy_backward(a->probs, a->probs, tgt, loss_scale, N, V);
    const float *xlast = L > 0 ? a->res3 + (L - 1) * BTC : a->encoded;
    mm_backward(bf, m, a->dbtc, G + m->info[SL_HEAD].offset, NULL, a->probs, a->lnf,
                P + m->info[SL_HEAD].offset, N, C, V);
    memset(a->dres, 0, (size_t)N * C * sizeof(float));
    sl_layernorm_backward(a->dres, G + m->info[SL_LNFW].offset, G + m->info[SL_LNFB].offset, a->dbtc,
                          xlast, P + m->info[SL_LNFW].offset, a->lnf_mean, a->lnf_rstd, N, C);
    for (int l = L - 1; l >= 0; l--) {
        const float *x = l > 0 ? a->res3 + (l - 1) * BTC : a->encoded;
        float *ln1 = a->ln1 + l * BTC, *qkv = a->qkv + l * BTC * 3, *atty = a->atty + l * BTC;
        float *att = a->att + l * ATT, *res2 = a->res2 + l * BTC;
        float *ln2 = a->ln2 + l * BTC, *fch = a->fch + l * BTF, *fchg = a->fch_gelu + l * BTF;
        mm_backward(bf, m, a->dbtf, sl_tensor(m, G, SL_FCPROJW, l),
                    sl_tensor(m, G, SL_FCPROJB, l), a->dres, fchg,
                    sl_tensor(m, P, SL_FCPROJW, l), N, F, C);
        sl_gelu_bias_backward(a->dbtf, sl_tensor(m, G, SL_FCB, l), fch, a->dbtf, N, F);
        mm_backward(bf, m, a->dbtc, sl_tensor(m, G, SL_FCW, l), NULL, a->dbtf, ln2,
                    sl_tensor(m, P, SL_FCW, l), N, C, F);
        sl_layernorm_backward(a->dres, sl_tensor(m, G, SL_LN2W, l), sl_tensor(m, G, SL_LN2B, l),
                              a->dbtc, res2, sl_tensor(m, P, SL_LN2W, l), a->ln2_mean + l * BT,
                              a->ln2_rstd + l * BT, N, C);
        mm_backward(bf, m, a->dbtc, sl_tensor(m, G, SL_ATTPROJW, l),
                    sl_tensor(m, G, SL_ATTPROJB, l), a->dres, atty,
                    sl_tensor(m, P, SL_ATTPROJW, l), N, C, C);
        sl_attention_backward(a->dqkv, a->dscratch, a->dbtc, qkv, att, Bs, T, C, NH);
        mm_backward(bf, m, a->dbtc2, sl_tensor(m, G, SL_QKVW, l), sl_tensor(m, G, SL_QKVB, l),
                    a->dqkv, ln1, sl_tensor(m, P, SL_QKVW, l), N, C, 3 * C);
        sl_layernorm_backward(a->dres, sl_tensor(m, G, SL_LN1W, l), sl_tensor(m, G, SL_LN1B, l),
                              a->dbtc2, x, sl_tensor(m, P, SL_LN1W, l), a->ln1_mean + l * BT,
                              a->ln1_rstd + l * BT, N, C);
    }
    sl_encoder_backward(G + m->info[SL_WTE].offset, G + m->info[SL_WPE].offset, a->dres, inp, Bs, T,
                        C);
}

double sl_model_forward_backward(const sl_model *m, sl_acts *a, float *grads, const int32_t *inp,
                                 const int32_t *tgt, int Bs, int T, float loss_scale)
{
    double loss = forward_fused(m, a, inp, tgt, Bs, T, loss_scale);
    if (isfinite(loss))
        backward_fused(m, a, grads, inp, tgt, Bs, T, loss_scale, 1);
    return loss;
}

double sl_model_forward(const sl_model *m, sl_acts *a, const int32_t *inp, const int32_t *tgt,
                        int Bs, int T, int ref)
{
    const kernels *k = ref ? &ref_k : &fast_k;
    const int C = m->cfg.d_model, F = m->cfg.d_ff, V = m->cfg.vocab, NH = m->cfg.n_head;
    const int L = m->cfg.n_layer, N = Bs * T;
    const size_t BTC = (size_t)a->Bs * a->T * C, BT = (size_t)a->Bs * a->T;
    const size_t BTF = BT * F, ATT = (size_t)a->Bs * NH * a->T * a->T;
    float *P = m->params;

    if (!ref)
        return forward_fused(m, a, inp, tgt, Bs, T, 0.0f);
    k->enc_f(a->encoded, inp, P + m->info[SL_WTE].offset, P + m->info[SL_WPE].offset, Bs, T, C);
    const float *x = a->encoded;
    for (int l = 0; l < L; l++) {
        float *ln1 = a->ln1 + l * BTC, *qkv = a->qkv + l * BTC * 3, *atty = a->atty + l * BTC;
        float *att = a->att + l * ATT, *attproj = a->attproj + l * BTC, *res2 = a->res2 + l * BTC;
        float *ln2 = a->ln2 + l * BTC, *fch = a->fch + l * BTF, *fchg = a->fch_gelu + l * BTF;
        float *fcproj = a->fcproj + l * BTC, *res3 = a->res3 + l * BTC;
        k->ln_f(ln1, a->ln1_mean + l * BT, a->ln1_rstd + l * BT, x, sl_tensor(m, P, SL_LN1W, l),
                sl_tensor(m, P, SL_LN1B, l), N, C);
        k->mm_f(qkv, ln1, sl_tensor(m, P, SL_QKVW, l), sl_tensor(m, P, SL_QKVB, l), N, C, 3 * C);
        if (ref)
            sl_ref_attention_forward(atty, att, qkv, Bs, T, C, NH);
        else
            sl_attention_forward(atty, att, qkv, Bs, T, C, NH);
        k->mm_f(attproj, atty, sl_tensor(m, P, SL_ATTPROJW, l), sl_tensor(m, P, SL_ATTPROJB, l), N, C,
                C);
        sl_residual_forward(res2, x, attproj, (size_t)N * C);
        k->ln_f(ln2, a->ln2_mean + l * BT, a->ln2_rstd + l * BT, res2, sl_tensor(m, P, SL_LN2W, l),
                sl_tensor(m, P, SL_LN2B, l), N, C);
        k->mm_f(fch, ln2, sl_tensor(m, P, SL_FCW, l), sl_tensor(m, P, SL_FCB, l), N, C, F);
        k->gelu_f(fchg, fch, (size_t)N * F);
        k->mm_f(fcproj, fchg, sl_tensor(m, P, SL_FCPROJW, l), sl_tensor(m, P, SL_FCPROJB, l), N, F,
                C);
        sl_residual_forward(res3, res2, fcproj, (size_t)N * C);
        x = res3;
    }
    k->ln_f(a->lnf, a->lnf_mean, a->lnf_rstd, x, P + m->info[SL_LNFW].offset,
            P + m->info[SL_LNFB].offset, N, C);
    k->mm_f(a->logits, a->lnf, P + m->info[SL_HEAD].offset, NULL, N, C, V);
    if (!tgt)
        return 0.0;
    return k->ce_f(a->probs, a->losses, a->logits, tgt, N, V);
}

void sl_model_backward(const sl_model *m, sl_acts *a, float *grads, const int32_t *inp,
                       const int32_t *tgt, int Bs, int T, float loss_scale, int ref)
{
    const kernels *k = ref ? &ref_k : &fast_k;
    const int C = m->cfg.d_model, F = m->cfg.d_ff, V = m->cfg.vocab, NH = m->cfg.n_head;
    const int L = m->cfg.n_layer, N = Bs * T;
    const size_t BTC = (size_t)a->Bs * a->T * C, BT = (size_t)a->Bs * a->T;
    const size_t BTF = BT * F, ATT = (size_t)a->Bs * NH * a->T * a->T;
    const size_t nC = (size_t)N * C, nF = (size_t)N * F;
    float *P = m->params, *G = grads;

    if (!ref) {
        backward_fused(m, a, grads, inp, tgt, Bs, T, loss_scale, 0);
        return;
    }
    /* dlogits overwrite probs (fused softmax cross-entropy) */
    k->ce_b(a->probs, a->probs, tgt, loss_scale, N, V);
    const float *xlast = L > 0 ? a->res3 + (L - 1) * BTC : a->encoded;
    memset(a->dbtc, 0, nC * sizeof(float));
    k->mm_b(a->dbtc, G + m->info[SL_HEAD].offset, NULL, a->probs, a->lnf,
            P + m->info[SL_HEAD].offset, N, C, V);
    memset(a->dres, 0, nC * sizeof(float));
    k->ln_b(a->dres, G + m->info[SL_LNFW].offset, G + m->info[SL_LNFB].offset, a->dbtc, xlast,
            P + m->info[SL_LNFW].offset, a->lnf_mean, a->lnf_rstd, N, C);

    for (int l = L - 1; l >= 0; l--) {
        const float *x = l > 0 ? a->res3 + (l - 1) * BTC : a->encoded;
        float *ln1 = a->ln1 + l * BTC, *qkv = a->qkv + l * BTC * 3, *atty = a->atty + l * BTC;
        float *att = a->att + l * ATT, *res2 = a->res2 + l * BTC;
        float *ln2 = a->ln2 + l * BTC, *fch = a->fch + l * BTF, *fchg = a->fch_gelu + l * BTF;
        /* res3 = res2 + fcproj: both receive dres; dres keeps serving as d(res2). */
        memset(a->dbtf, 0, nF * sizeof(float));
        k->mm_b(a->dbtf, sl_tensor(m, G, SL_FCPROJW, l), sl_tensor(m, G, SL_FCPROJB, l), a->dres,
                fchg, sl_tensor(m, P, SL_FCPROJW, l), N, F, C);
        memset(a->dbtf2, 0, nF * sizeof(float));
        k->gelu_b(a->dbtf2, fch, a->dbtf, nF);
        memset(a->dbtc, 0, nC * sizeof(float));
        k->mm_b(a->dbtc, sl_tensor(m, G, SL_FCW, l), sl_tensor(m, G, SL_FCB, l), a->dbtf2, ln2,
                sl_tensor(m, P, SL_FCW, l), N, C, F);
        k->ln_b(a->dres, sl_tensor(m, G, SL_LN2W, l), sl_tensor(m, G, SL_LN2B, l), a->dbtc, res2,
                sl_tensor(m, P, SL_LN2W, l), a->ln2_mean + l * BT, a->ln2_rstd + l * BT, N, C);
        /* res2 = x + attproj */
        memset(a->dbtc, 0, nC * sizeof(float));
        k->mm_b(a->dbtc, sl_tensor(m, G, SL_ATTPROJW, l), sl_tensor(m, G, SL_ATTPROJB, l), a->dres,
                atty, sl_tensor(m, P, SL_ATTPROJW, l), N, C, C);
        memset(a->dqkv, 0, 3 * nC * sizeof(float));
        attn_backward(ref, a->dqkv, a->dscratch, a->dbtc, qkv, att, Bs, T, C, NH);
        memset(a->dbtc2, 0, nC * sizeof(float));
        k->mm_b(a->dbtc2, sl_tensor(m, G, SL_QKVW, l), sl_tensor(m, G, SL_QKVB, l), a->dqkv, ln1,
                sl_tensor(m, P, SL_QKVW, l), N, C, 3 * C);
        k->ln_b(a->dres, sl_tensor(m, G, SL_LN1W, l), sl_tensor(m, G, SL_LN1B, l), a->dbtc2, x,
                sl_tensor(m, P, SL_LN1W, l), a->ln1_mean + l * BT, a->ln1_rstd + l * BT, N, C);
    }
    k->enc_b(G + m->info[SL_WTE].offset, G + m->info[SL_WPE].offset, a->dres, inp, Bs, T, C);
}
