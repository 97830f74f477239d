/* The bf16 path: rounding to nearest even; each bf16 product against a
 * double-precision reference on the same rounded operands (1e-5 relative:
 * the products accumulate in fp32, so only the summation order differs);
 * the model's bf16 gradient against its fp32 gradient (the rounding's own
 * error, 3e-2 norm-wise); bitwise repeatability on a fixed thread count; the
 * precision kept through config.json, presets, checkpoints and the CLI. On a
 * CPU without bf16 matrix instructions the numeric tests are skipped, and
 * asking for bf16 is one line on stderr with exit status 2. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scalelab/bf16.h"
#include "scalelab/model.h"
#include "scalelab/train.h"
#include "scalelab/util.h"
#include "testutil.h"

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static sl_rng rng;

static void setup(void) { sl_rng_seed(&rng, 17); }

static void need_bf16(void)
{
    char why[160];
    if (!sl_bf16_available(why, sizeof why))
        cr_skip_test("%s", why);
}

static float *randv(size_t n, float scale)
{
    float *v = sl_alloc_floats(n);
    for (size_t i = 0; i < n; i++)
        v[i] = scale * sl_rng_normal(&rng);
    return v;
}

static float rounded(float x)
{
    unsigned short h;
    sl_bf16_round(&h, &x, 1);
    return sl_bf16_to_float(h);
}

TestSuite(bf16, .init = setup);

Test(bf16, rounds_to_nearest_even_and_keeps_nan_and_infinity)
{
    /* bf16 keeps 8 significant bits: 1 + 2^-7 is the next value after 1 */
    cr_expect_eq(rounded(1.0f), 1.0f);
    cr_expect_eq(rounded(1.0f + 0x1p-8f), 1.0f, "a tie goes to the even neighbour");
    cr_expect_eq(rounded(1.0f + 3 * 0x1p-8f), 1.0f + 0x1p-6f, "a tie goes to the even neighbour");
    cr_expect_eq(rounded(1.0f + 0x1p-8f + 0x1p-20f), 1.0f + 0x1p-7f, "above the tie rounds up");
    cr_expect_eq(rounded(-2.5f), -2.5f);
    cr_expect_eq(rounded(INFINITY), INFINITY);
    cr_expect_eq(rounded(-INFINITY), -INFINITY);
    cr_expect(isnan(rounded(NAN)));
    /* a NaN whose payload lies only in the dropped bits stays a NaN */
    uint32_t u = 0x7f800001u;
    float f;
    memcpy(&f, &u, sizeof f);
    cr_expect(isnan(rounded(f)));
    /* relative error at most half a unit in the 8th bit, 2^-8, over many magnitudes */
    for (int i = 0; i < 1000; i++) {
        float x = sl_rng_normal(&rng) * powf(10.0f, (float)(i % 20 - 10));
        cr_assert_leq(fabsf(rounded(x) - x), fabsf(x) * 0x1p-8f, "%g -> %g", x, rounded(x));
    }
}

/* max |a - ref| over max |ref| */
static double rel_err(const float *a, const double *ref, size_t n)
{
    double num = 0, den = 1e-30;
    for (size_t i = 0; i < n; i++) {
        num = fmax(num, fabs(a[i] - ref[i]));
        den = fmax(den, fabs(ref[i]));
    }
    return num / den;
}

Test(bf16, products_match_a_double_reference_on_the_rounded_operands)
{
    need_bf16();
    const int N = 67, C = 48, OC = 80; /* odd row count: no block size divides it */
    float *x = randv((size_t)N * C, 1), *w = randv((size_t)OC * C, 0.5f), *bias = randv(OC, 1);
    float *dy = randv((size_t)N * OC, 1), *dw0 = randv((size_t)OC * C, 1);
    float *out = sl_alloc_floats((size_t)N * OC), *dx = sl_alloc_floats((size_t)N * C);
    float *dw = sl_alloc_floats((size_t)OC * C), *db = sl_alloc_floats(OC);
    memcpy(dw, dw0, sizeof(float) * (size_t)OC * C);
    /* the weights sit at an offset inside a larger parameter block */
    size_t off = 24;
    float *params = sl_alloc_floats(off + (size_t)OC * C);
    memcpy(params + off, w, sizeof(float) * (size_t)OC * C);
    sl_bf16 *b = sl_bf16_new(off + (size_t)OC * C, N, OC);
    cr_assert_not_null(b);
    sl_bf16_load_weights(b, params, off + (size_t)OC * C);
    sl_bf16_matmul_forward(b, out, x, off, bias, N, C, OC);
    sl_bf16_matmul_backward_write(b, dx, dw, db, dy, x, off, N, C, OC);

    double *ro = calloc((size_t)N * OC, sizeof(double)), *rx = calloc((size_t)N * C, sizeof(double));
    double *rw = calloc((size_t)OC * C, sizeof(double));
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) {
            double s = bias[o];
            for (int c = 0; c < C; c++)
                s += (double)rounded(x[n * C + c]) * rounded(w[o * C + c]);
            ro[n * OC + o] = s;
        }
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            double s = 0;
            for (int o = 0; o < OC; o++)
                s += (double)rounded(dy[n * OC + o]) * rounded(w[o * C + c]);
            rx[n * C + c] = s;
        }
    for (int o = 0; o < OC; o++)
        for (int c = 0; c < C; c++) {
            double s = dw0[o * C + c];
            for (int n = 0; n < N; n++)
                s += (double)rounded(dy[n * OC + o]) * rounded(x[n * C + c]);
            rw[o * C + c] = s;
        }
    cr_expect_lt(rel_err(out, ro, (size_t)N * OC), 1e-5, "forward");
    cr_expect_lt(rel_err(dx, rx, (size_t)N * C), 1e-5, "input gradient (written)");
    cr_expect_lt(rel_err(dw, rw, (size_t)OC * C), 1e-5, "weight gradient (accumulated)");
    for (int o = 0; o < OC; o++) { /* the bias gradient is fp32, unrounded */
        double s = 0;
        for (int n = 0; n < N; n++)
            s += dy[n * OC + o];
        cr_expect_lt(fabs(db[o] - s), 1e-4 * (1 + fabs(s)), "dbias[%d]", o);
    }
    sl_bf16_free(b);
    free(ro), free(rx), free(rw);
    free(x), free(w), free(bias), free(dy), free(dw0), free(out), free(dx), free(dw), free(db);
    free(params);
}

static sl_corpus synthetic(void)
{
    sl_corpus c;
    memset(&c, 0, sizeof c);
    c.n_tokens = 1 << 15;
    c.n_train = c.n_tokens - (1 << 12);
    c.vocab = 256;
    snprintf(c.source, sizeof c.source, "synthetic");
    snprintf(c.tokenizer, sizeof c.tokenizer, "byte");
    c.tokens = malloc(c.n_tokens * sizeof(uint16_t));
    for (size_t i = 0; i < c.n_tokens; i++) /* a learnable text: a repeated pattern with noise */
        c.tokens[i] = (uint16_t)((i * 7 + (i / 13) % 5) % 64 + 32);
    return c;
}

static sl_train_opts small_opts(sl_precision p, int threads)
{
    sl_train_opts o;
    sl_train_defaults(&o);
    o.model = (sl_config){2, 64, 2, 256, 32, 256};
    o.batch = 8;
    o.steps = 40;
    o.eval_every = 0;
    o.eval_tokens = 256;
    o.threads = threads;
    o.precision = p;
    return o;
}

Test(bf16, the_model_gradient_is_the_fp32_one_up_to_bf16_rounding)
{
    need_bf16();
    sl_config c = {2, 64, 2, 256, 32, 256};
    sl_model m;
    sl_error err;
    cr_assert_eq(sl_model_init(&m, &c, &err), SL_OK);
    sl_model_init_weights(&m, 3);
    int Bs = 3, T = 32;
    int32_t *inp = malloc(sizeof(int32_t) * Bs * T), *tgt = malloc(sizeof(int32_t) * Bs * T);
    for (int i = 0; i < Bs * T; i++)
        inp[i] = (int32_t)sl_rng_below(&rng, 256), tgt[i] = (int32_t)sl_rng_below(&rng, 256);
    sl_acts *a32 = sl_acts_new(&c, Bs), *a16 = sl_acts_new(&c, Bs);
    cr_assert_eq(sl_acts_use_bf16(a16, &m), 0);
    float *g32 = sl_alloc_floats(m.n_params), *g16 = sl_alloc_floats(m.n_params);
    float scale = 1.0f / (float)(Bs * T);
    double l32 = sl_model_forward_backward(&m, a32, g32, inp, tgt, Bs, T, scale);
    double l16 = sl_model_forward_backward(&m, a16, g16, inp, tgt, Bs, T, scale);
    cr_expect_lt(fabs(l16 - l32), 1e-2 * fabs(l32), "loss %g (bf16) against %g (fp32)", l16, l32);
    double d = 0, s = 0;
    for (size_t i = 0; i < m.n_params; i++)
        d += ((double)g16[i] - g32[i]) * ((double)g16[i] - g32[i]), s += (double)g32[i] * g32[i];
    cr_expect_lt(sqrt(d / s), 3e-2, "gradient: norm-wise relative difference %g", sqrt(d / s));
    cr_expect_gt(sqrt(d / s), 0.0, "the bf16 path rounded nothing");
    /* evaluation stays fp32 on the same shard: bitwise the fp32 forward */
    double e16 = sl_model_forward(&m, a16, inp, tgt, Bs, T, 0);
    double e32 = sl_model_forward(&m, a32, inp, tgt, Bs, T, 0);
    cr_expect_eq(e16, e32, "evaluation %.17g against %.17g", e16, e32);
    sl_acts_free(a32), sl_acts_free(a16);
    free(g32), free(g16), free(inp), free(tgt);
    sl_model_free(&m);
}

static double train_loss(sl_precision p, int threads, float *params_out, size_t n)
{
    sl_corpus c = synthetic();
    sl_train_opts o = small_opts(p, threads);
    sl_trainer *t;
    sl_error err = {{0}};
    cr_assert_eq(sl_trainer_new(&t, &o, &c, &err), SL_OK, "%s", err.msg);
    sl_metric_row row;
    while (!sl_trainer_finished(t))
        cr_assert_geq(sl_trainer_step(t, &row, &err), 0, "%s", err.msg);
    double loss = sl_trainer_evaluate(t);
    if (params_out)
        memcpy(params_out, sl_trainer_model(t)->params, n * sizeof(float));
    sl_trainer_free(t);
    free(c.tokens);
    return loss;
}

Test(bf16, training_learns_like_fp32_and_repeats_bitwise_on_two_threads)
{
    need_bf16();
    sl_config c = {2, 64, 2, 256, 32, 256};
    sl_tensor_info info[SL_NUM_PARAM_TENSORS];
    size_t n = sl_param_layout(&c, info);
    float *p1 = malloc(n * sizeof(float)), *p2 = malloc(n * sizeof(float));
    double l32 = train_loss(SL_PREC_FP32, 2, NULL, 0);
    double a = train_loss(SL_PREC_BF16, 2, p1, n), b = train_loss(SL_PREC_BF16, 2, p2, n);
    cr_expect_eq(a, b, "two bf16 runs: %.17g and %.17g", a, b);
    cr_expect_eq(memcmp(p1, p2, n * sizeof(float)), 0, "two bf16 runs end on other weights");
    /* 40 steps from ln 256 = 5.55: both learn, to within a few percent */
    cr_expect_lt(l32, 5.0, "fp32 did not learn: %g", l32);
    cr_expect_lt(fabs(a - l32), 0.05 * l32, "bf16 test loss %g against fp32's %g", a, l32);
    free(p1), free(p2);
}

#define TINY "--layers", "1", "--d-model", "16", "--heads", "2", "--ctx", "16", "--batch", "4"

TestSuite(bf16_cli, .init = tu_make_dir, .fini = tu_remove_dir);

Test(bf16_cli, a_bf16_checkpoint_resumes_bitwise_and_keeps_its_precision)
{
    char why[160], p[512], ck[512], o[8192], e[8192];
    tu_write_text("t.txt", 20000, p, sizeof p);
    if (!sl_bf16_available(why, sizeof why)) {
        tu_assert_bad_input("bf16", ARGS("train", "--data", p, TINY, "--precision", "bf16"));
        cr_skip_test("%s", why);
    }
    /* in the library: saved at step 20, loaded, on to 40: bitwise an
     * uninterrupted run; an fp32 trainer refuses the checkpoint */
    sl_corpus c = synthetic();
    sl_train_opts opt = small_opts(SL_PREC_BF16, 2);
    sl_trainer *a, *b, *f;
    sl_error err = {{0}};
    sl_metric_row row;
    tu_path(ck, sizeof ck, "checkpoint.bin");
    cr_assert_eq(sl_trainer_new(&a, &opt, &c, &err), SL_OK, "%s", err.msg);
    for (int s = 0; s < 20; s++)
        cr_assert_geq(sl_trainer_step(a, &row, &err), 0);
    cr_assert_eq(sl_trainer_save(a, ck, &err), SL_OK, "%s", err.msg);
    sl_checkpoint_info ci;
    cr_assert_eq(sl_checkpoint_peek(ck, &ci, &err), SL_OK, "%s", err.msg);
    cr_expect_eq(ci.precision, SL_PREC_BF16);
    while (!sl_trainer_finished(a))
        cr_assert_geq(sl_trainer_step(a, &row, &err), 0);
    cr_assert_eq(sl_trainer_new(&b, &opt, &c, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_trainer_load(b, ck, &err), SL_OK, "%s", err.msg);
    while (!sl_trainer_finished(b))
        cr_assert_geq(sl_trainer_step(b, &row, &err), 0);
    size_t n = sl_trainer_model(a)->n_params;
    cr_expect_eq(memcmp(sl_trainer_model(a)->params, sl_trainer_model(b)->params, n * sizeof(float)),
                 0, "a resumed bf16 run ends on other weights");
    sl_train_opts o32 = small_opts(SL_PREC_FP32, 2);
    cr_assert_eq(sl_trainer_new(&f, &o32, &c, &err), SL_OK, "%s", err.msg);
    cr_expect_eq(sl_trainer_load(f, ck, &err), SL_EINPUT);
    cr_expect_not_null(strstr(err.msg, "precision: checkpoint trained in bf16"), "%s", err.msg);
    /* a precision field that is neither 0 nor 1 (offset 160, docs/FORMATS.md) */
    char *raw;
    size_t len;
    cr_assert_eq(sl_read_file(ck, &raw, &len, &err), SL_OK);
    int32_t bad = 7;
    memcpy(raw + 160, &bad, sizeof bad);
    tu_write(ck, raw, len);
    free(raw);
    cr_expect_eq(sl_checkpoint_peek(ck, &ci, &err), SL_EINPUT);
    cr_expect_not_null(strstr(err.msg, "precision: 7 is not a precision"), "%s", err.msg);
    sl_trainer_free(a), sl_trainer_free(b), sl_trainer_free(f);
    free(c.tokens);

    /* the CLI: a resume without --precision takes the checkpoint's; asking
     * for fp32 against it is refused */
    char out[512];
    tu_path(out, sizeof out, "run");
    int rc = tu_run(o, sizeof o, e, sizeof e, 0,
                    ARGS("train", "--data", p, TINY, "--steps", "20", "--eval-every", "10", "--out",
                         out, "--threads", "2", "--precision", "bf16"));
    cr_assert_eq(rc, 0, "%s", e);
    cr_expect_not_null(strstr(e, "; bf16"), "the run does not say its precision: %s", e);
    rc = tu_run(o, sizeof o, e, sizeof e, 0,
                ARGS("train", "--data", p, TINY, "--steps", "20", "--eval-every", "10", "--out",
                     out));
    cr_assert_eq(rc, 0, "%s", e);
    cr_expect(strstr(e, "resuming") && strstr(e, "; bf16"), "%s", e);
    tu_assert_bad_input("precision: checkpoint trained in bf16",
                        ARGS("train", "--data", p, TINY, "--steps", "20", "--out", out,
                             "--precision", "fp32"));
}

Test(bf16_cli, bad_precisions_are_refused_naming_the_field)
{
    char p[512];
    tu_write_text("t.txt", 20000, p, sizeof p);
    tu_assert_bad_input("--precision", ARGS("train", "--data", p, TINY, "--precision", "fp16"));
    tu_assert_bad_input("--precision", ARGS("bench", "--precision", "half"));
    char pre[512];
    tu_path(pre, sizeof pre, "p.json");
    const char *js = "{\"name\": \"x\", \"sweep\": {\"kind\": \"n\", \"n\": [20000]},"
                     " \"train\": {\"steps\": 10, \"precision\": \"fp8\"}}";
    tu_write(pre, js, strlen(js));
    char runs[512];
    tu_path(runs, sizeof runs, "runs");
    tu_assert_bad_input("train.precision: 'fp8' is not a precision",
                        ARGS("run", pre, "--runs", runs));
}
