/* The whole model: counts, shape selection, fast against reference kernels,
 * gradients against finite differences, initial loss, memorising a batch. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scalelab/model.h"
#include "scalelab/optim.h"

static const sl_config tiny = {2, 8, 2, 32, 5, 11};

static void random_tokens(int32_t *v, int n, int vocab, uint64_t seed)
{
    sl_rng r;
    sl_rng_seed(&r, seed);
    for (int i = 0; i < n; i++)
        v[i] = (int32_t)sl_rng_below(&r, (uint64_t)vocab);
}

Test(model, counts_follow_kaplan)
{
    sl_config c = {4, 128, 4, 512, 128, 256};
    sl_counts k = sl_model_counts(&c);
    cr_expect_eq(k.n_kaplan, 12.0 * 4 * 128 * 128);
    /* biases and norms: per layer 3d+d+d_ff+d + 4d, plus the final norm */
    cr_expect_eq(k.n_exact, k.n_kaplan + 4 * (3 * 128 + 128 + 512 + 128 + 4 * 128) + 2 * 128);
    cr_expect_eq(k.n_total, k.n_exact + 2 * 256 * 128 + 128 * 128);
    cr_expect_eq(k.flops_per_token, 6 * k.n_kaplan + 6.0 * 4 * 128 * 128);
    cr_expect_eq(k.flops_embed_per_token, 6.0 * 128 * 256);
    sl_model m;
    sl_error err;
    cr_assert_eq(sl_model_init(&m, &c, &err), SL_OK);
    size_t total = 0;
    for (int i = 0; i < SL_NUM_PARAM_TENSORS; i++)
        total += m.info[i].size;
    cr_expect_eq((double)total, k.n_total, "layout holds every counted parameter");
    sl_model_free(&m);
}

Test(model, accountings_add_the_context_and_head_terms_to_kaplans_6n)
{
    sl_config c = {4, 128, 4, 512, 64, 256};
    sl_counts k = sl_model_counts(&c);
    double six_n = 6 * k.n_kaplan, attn = 6.0 * 4 * 64 * 128, head = 6.0 * 128 * 256;
    cr_expect_eq(sl_model_flops_per_token(&c, SL_ACCT_KAPLAN), six_n);
    cr_expect_eq(sl_model_flops_per_token(&c, SL_ACCT_ATTN), six_n + attn);
    cr_expect_eq(sl_model_flops_per_token(&c, SL_ACCT_HEAD), six_n + head);
    cr_expect_eq(sl_model_flops_per_token(&c, SL_ACCT_TOTAL), six_n + attn + head);
    /* the trainer's flops (metrics.csv) are the attn accounting; the head apart */
    cr_expect_eq(k.flops_per_token, sl_model_flops_per_token(&c, SL_ACCT_ATTN));
    cr_expect_eq(k.flops_embed_per_token, head);
    for (int a = 0; a < SL_ACCT_COUNT; a++)
        cr_expect_eq(sl_accounting_from_name(sl_accounting_name((sl_accounting)a)), a);
    cr_expect_eq(sl_accounting_from_name("6nbs"), -1);
    cr_expect(strstr(sl_accounting_formula(SL_ACCT_KAPLAN), "6NBS"));
}

Test(model, model_for_n_hits_target_size_and_aspect)
{
    sl_config c;
    sl_error err;
    double targets[] = {1e4, 1e5, 1e6, 1e7};
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(sl_model_for_n(targets[i], 32, 0, 16, 4, 128, 256, &c, &err), SL_OK, "%s",
                     err.msg);
        double n = sl_model_counts(&c).n_kaplan;
        cr_expect_leq(fabs(log(n / targets[i])), log(1.3), "N=%g for target %g", n, targets[i]);
        cr_expect_eq(c.d_model % 16, 0);
        cr_expect_eq(c.d_model / c.n_head, 16);
    }
    cr_expect_eq(sl_model_for_n(10, 32, 0, 16, 4, 128, 256, &c, &err), SL_EINPUT);
    cr_expect(strstr(err.msg, "smallest model") != NULL, "%s", err.msg);
}

Test(model, model_for_n_can_fix_the_depth)
{
    sl_config c;
    sl_error err;
    double targets[] = {6e3, 1.4e4, 3e4, 1e5, 2.2e5};
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(sl_model_for_n(targets[i], 16, 2, 8, 4, 64, 256, &c, &err), SL_OK, "%s",
                     err.msg);
        cr_expect_eq(c.n_layer, 2, "target %g", targets[i]);
        double n = sl_model_counts(&c).n_kaplan;
        /* d_model in steps of 8 at two layers: N steps by at most (40/32)^2 from
         * d_model 32 up, so within a factor 1.25 of any target here */
        cr_expect_leq(fabs(log(n / targets[i])), log(1.25), "N=%g for target %g", n, targets[i]);
    }
    /* the free planner takes one layer at N = 1.2e4 and aspect 16 */
    cr_assert_eq(sl_model_for_n(1.2e4, 16, 0, 16, 4, 64, 256, &c, &err), SL_OK, "%s", err.msg);
    cr_expect_eq(c.n_layer, 1);
    cr_assert_eq(sl_model_for_n(1.2e4, 16, 4, 16, 4, 64, 256, &c, &err), SL_OK, "%s", err.msg);
    cr_expect_eq(c.n_layer, 4);
    cr_expect_eq(sl_model_for_n(1e4, 16, 129, 16, 4, 64, 256, &c, &err), SL_EINPUT);
    cr_expect(strstr(err.msg, "layers: 129") != NULL, "%s", err.msg);
    /* too small for the depth: 4 layers of d_model 16 are N = 12288 */
    cr_expect_eq(sl_model_for_n(5e3, 16, 4, 16, 4, 64, 256, &c, &err), SL_EINPUT);
    cr_expect(strstr(err.msg, "smallest model") != NULL, "%s", err.msg);
}

Test(model, config_validation_names_the_flag)
{
    sl_error err;
    sl_config c = {2, 30, 4, 120, 16, 256};
    cr_expect_eq(sl_config_validate(&c, &err), SL_EINPUT);
    cr_expect(strstr(err.msg, "--heads") && strstr(err.msg, "divisible"), "%s", err.msg);
    c = (sl_config){0, 32, 4, 128, 16, 256};
    cr_expect_eq(sl_config_validate(&c, &err), SL_EINPUT);
    cr_expect(strstr(err.msg, "--layers") != NULL, "%s", err.msg);
    c = (sl_config){2, 32, 4, 128, 16, 70000};
    cr_expect_eq(sl_config_validate(&c, &err), SL_EINPUT);
    cr_expect(strstr(err.msg, "2..65536") != NULL, "%s", err.msg);
}

Test(model, fast_forward_and_backward_match_reference)
{
    sl_config c = {2, 24, 3, 96, 40, 37};
    sl_model m;
    sl_error err;
    cr_assert_eq(sl_model_init(&m, &c, &err), SL_OK);
    sl_model_init_weights(&m, 3);
    for (size_t i = 0; i < m.n_params; i++) /* larger weights: non-trivial activations */
        m.params[i] *= 3.0f;
    int B = 3, T = 40;
    int32_t inp[120], tgt[120];
    random_tokens(inp, B * T, c.vocab, 1);
    random_tokens(tgt, B * T, c.vocab, 2);
    sl_acts *a = sl_acts_new(&c, B), *r = sl_acts_new(&c, B);
    float *g1 = sl_alloc_floats(m.n_params), *g2 = sl_alloc_floats(m.n_params);
    double l1 = sl_model_forward(&m, a, inp, tgt, B, T, 0);
    double l2 = sl_model_forward(&m, r, inp, tgt, B, T, 1);
    cr_expect_leq(fabs(l1 - l2) / l2, 1e-5, "loss %g vs %g", l1, l2);
    sl_model_backward(&m, a, g1, inp, tgt, B, T, 1.0f / (B * T), 0);
    sl_model_backward(&m, r, g2, inp, tgt, B, T, 1.0f / (B * T), 1);
    for (int k = 0; k < SL_NUM_PARAM_TENSORS; k++) {
        const sl_tensor_info *ti = &m.info[k];
        double num = 0, den = 1e-30;
        for (size_t i = ti->offset; i < ti->offset + ti->size; i++) {
            num = fmax(num, fabs((double)g1[i] - g2[i]));
            den = fmax(den, fabs(g2[i]));
        }
        cr_expect_leq(num / den, 1e-5, "tensor %s: relative error %g", ti->name, num / den);
    }
    /* the training step's fused forward and backward: the same loss and gradients */
    float *g3 = sl_alloc_floats(m.n_params);
    double l3 = sl_model_forward_backward(&m, a, g3, inp, tgt, B, T, 1.0f / (B * T));
    cr_expect_leq(fabs(l3 - l2) / l2, 1e-5, "loss %g vs %g", l3, l2);
    for (int k = 0; k < SL_NUM_PARAM_TENSORS; k++) {
        const sl_tensor_info *ti = &m.info[k];
        double num = 0, den = 1e-30;
        for (size_t i = ti->offset; i < ti->offset + ti->size; i++) {
            num = fmax(num, fabs((double)g3[i] - g2[i]));
            den = fmax(den, fabs(g2[i]));
        }
        cr_expect_leq(num / den, 1e-5, "fused step, tensor %s: relative error %g", ti->name,
                      num / den);
    }
    free(g1), free(g2), free(g3);
    sl_acts_free(a), sl_acts_free(r);
    sl_model_free(&m);
}

Test(model, gradients_match_finite_differences)
{
    sl_model m;
    sl_error err;
    cr_assert_eq(sl_model_init(&m, &tiny, &err), SL_OK);
    sl_model_init_weights(&m, 5);
    for (size_t i = 0; i < m.n_params; i++)
        m.params[i] *= 4.0f;
    int B = 2, T = 5, N = B * T;
    int32_t inp[10], tgt[10];
    random_tokens(inp, N, tiny.vocab, 8);
    random_tokens(tgt, N, tiny.vocab, 9);
    sl_acts *a = sl_acts_new(&tiny, B);
    sl_model_forward(&m, a, inp, tgt, B, T, 0);
    sl_model_backward(&m, a, m.grads, inp, tgt, B, T, 1.0f, 0);
    /* every tensor, a few coordinates each; objective = summed loss (double) */
    for (int k = 0; k < SL_NUM_PARAM_TENSORS; k++) {
        const sl_tensor_info *ti = &m.info[k];
        double d2 = 0, s2 = 0;
        size_t step = ti->size / 7 + 1;
        for (size_t i = ti->offset; i < ti->offset + ti->size; i += step) {
            /* central differences at h and h/2, Richardson-combined so the
             * O(h^2) truncation error cancels and float rounding stays small */
            float x0 = m.params[i];
            double d[2];
            for (int r = 0; r < 2; r++) {
                float h = r == 0 ? 2e-2f : 1e-2f;
                m.params[i] = x0 + h;
                double fp = sl_model_forward(&m, a, inp, tgt, B, T, 1);
                double hp = (double)m.params[i] - x0;
                m.params[i] = x0 - h;
                double fm = sl_model_forward(&m, a, inp, tgt, B, T, 1);
                double hm = x0 - (double)m.params[i];
                m.params[i] = x0;
                d[r] = (fp - fm) / (hp + hm);
            }
            double num = (4 * d[1] - d[0]) / 3;
            d2 += (num - m.grads[i]) * (num - m.grads[i]);
            s2 += num * num;
        }
        if (s2 > 1e-12)
            cr_expect_leq(sqrt(d2 / s2), 1e-3, "tensor %s: relative error %g", ti->name,
                          sqrt(d2 / s2));
    }
    sl_acts_free(a);
    sl_model_free(&m);
}

Test(model, initial_loss_is_near_log_vocab)
{
    sl_config c = {2, 64, 4, 256, 32, 256};
    sl_model m;
    sl_error err;
    cr_assert_eq(sl_model_init(&m, &c, &err), SL_OK);
    sl_model_init_weights(&m, 1);
    int B = 4, T = 32;
    int32_t inp[128], tgt[128];
    random_tokens(inp, B * T, c.vocab, 4);
    random_tokens(tgt, B * T, c.vocab, 5);
    sl_acts *a = sl_acts_new(&c, B);
    double loss = sl_model_forward(&m, a, inp, tgt, B, T, 0) / (B * T);
    cr_expect_leq(fabs(loss - log(256.0)), 0.1, "initial loss %g vs ln 256 = %g", loss, log(256.0));
    sl_acts_free(a);
    sl_model_free(&m);
}

Test(model, tiny_model_memorises_one_batch)
{
    sl_config c = {2, 32, 2, 128, 16, 64};
    sl_model m;
    sl_error err;
    cr_assert_eq(sl_model_init(&m, &c, &err), SL_OK);
    sl_model_init_weights(&m, 11);
    int B = 4, T = 16;
    int32_t inp[64], tgt[64];
    random_tokens(inp, B * T, c.vocab, 12);
    random_tokens(tgt, B * T, c.vocab, 13);
    sl_acts *a = sl_acts_new(&c, B);
    float *mo = sl_alloc_floats(m.n_params), *vo = sl_alloc_floats(m.n_params);
    sl_optim_opts o = {.lr = 3e-3, .beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8, .weight_decay = 0,
                       .clip = 1.0, .schedule = SL_SCHED_CONSTANT, .warmup = 0, .total = 300};
    double loss = INFINITY;
    int step;
    for (step = 1; step <= 300; step++) {
        memset(m.grads, 0, m.n_params * sizeof(float));
        loss = sl_model_forward(&m, a, inp, tgt, B, T, 0) / (B * T);
        if (loss < 0.05)
            break;
        sl_model_backward(&m, a, m.grads, inp, tgt, B, T, 1.0f / (B * T), 0);
        double norm = sl_grad_norm(m.grads, m.n_params);
        float gs = norm > 1.0 ? (float)(1.0 / norm) : 1.0f;
        sl_adamw_update(&m, mo, vo, 0, m.n_params, step, o.lr, gs, &o);
    }
    cr_expect_lt(loss, 0.05, "loss %g after %d steps", loss, step);
    free(mo), free(vo);
    sl_acts_free(a);
    sl_model_free(&m);
}

Test(optim, schedules_warm_up_and_decay_to_zero)
{
    sl_optim_opts o = {.lr = 1e-3, .warmup = 10, .total = 110, .schedule = SL_SCHED_COSINE};
    cr_expect_float_eq(sl_lr_at(&o, 0), 1e-4, 1e-12);
    cr_expect_float_eq(sl_lr_at(&o, 9), 1e-3, 1e-12);
    cr_expect_float_eq(sl_lr_at(&o, 60), 5e-4, 1e-9);
    cr_expect_leq(sl_lr_at(&o, 110), 1e-12);
    o.schedule = SL_SCHED_LINEAR;
    cr_expect_float_eq(sl_lr_at(&o, 60), 5e-4, 1e-9);
    o.schedule = SL_SCHED_CONSTANT;
    cr_expect_float_eq(sl_lr_at(&o, 100), 1e-3, 1e-12);
    cr_expect_float_eq(sl_lr_auto(1e6), 0.003239 - 0.0001395 * log(1e6), 1e-12);
}

Test(optim, adamw_consumes_the_gradient_of_its_range)
{
    sl_config c = {1, 8, 1, 32, 4, 16};
    sl_model m;
    sl_error err;
    cr_assert_eq(sl_model_init(&m, &c, &err), SL_OK);
    for (size_t i = 0; i < m.n_params; i++)
        m.grads[i] = 0.25f;
    float *mo = sl_alloc_floats(m.n_params), *vo = sl_alloc_floats(m.n_params);
    sl_optim_opts o = {.lr = 0.1, .beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8};
    size_t lo = m.info[SL_QKVW].offset, hi = m.info[SL_LN2W].offset;
    sl_adamw_update(&m, mo, vo, lo, hi, 1, 0.1, 1.0f, &o);
    for (int k = 0; k < SL_NUM_PARAM_TENSORS; k++)
        for (size_t i = m.info[k].offset; i < m.info[k].offset + m.info[k].size; i++) {
            if (i >= lo && i < hi)
                cr_assert_eq(m.grads[i], 0.0f, "%s: gradient left after the update", m.info[k].name);
            else
                cr_assert_eq(m.grads[i], 0.25f, "%s: gradient outside the range touched",
                             m.info[k].name);
        }
    free(mo), free(vo);
    sl_model_free(&m);
}

Test(optim, adamw_decays_matrices_only)
{
    sl_config c = {1, 8, 1, 32, 4, 16};
    sl_model m;
    sl_error err;
    cr_assert_eq(sl_model_init(&m, &c, &err), SL_OK);
    for (size_t i = 0; i < m.n_params; i++)
        m.params[i] = 1.0f; /* zero gradients: only decay can move a parameter */
    float *mo = sl_alloc_floats(m.n_params), *vo = sl_alloc_floats(m.n_params);
    sl_optim_opts o = {.lr = 0.1, .beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8, .weight_decay = 0.5};
    for (size_t i = 0; i < m.n_params; i++)
        m.grads[i] = 0.0f;
    sl_adamw_update(&m, mo, vo, 0, m.n_params, 1, 0.1, 1.0f, &o);
    for (int k = 0; k < SL_NUM_PARAM_TENSORS; k++) {
        float v = m.params[m.info[k].offset];
        if (m.info[k].decay)
            cr_expect_float_eq(v, 0.95f, 1e-6, "%s decays", m.info[k].name);
        else
            cr_expect_eq(v, 1.0f, "%s must not decay", m.info[k].name);
    }
    free(mo), free(vo);
    sl_model_free(&m);
}
