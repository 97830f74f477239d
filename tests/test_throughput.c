/* throughput: the GFLOP/s and the sgemm ceiling that `scalelab bench`, the lab
 * and the sweep's progress line report are one definition. Values are compared
 * with each other, never with a time. */
#include <math.h>

#include "scalelab/engine.h"
#include "scalelab/throughput.h"
#include "testutil.h"

Test(throughput, step_flops_are_6n_attention_and_head)
{
    for (int i = 0; i < sl_ref_config_count; i++) {
        const sl_config *c = &sl_ref_configs[i].model;
        sl_counts k = sl_model_counts(c);
        double want = 6.0 * k.n_kaplan + 6.0 * c->n_layer * c->n_ctx * c->d_model +
                      6.0 * c->d_model * c->vocab;
        cr_expect_float_eq(sl_step_flops_per_token(c), want, 1e-12 * want, "%s",
                           sl_ref_configs[i].name);
    }
}

Test(throughput, ceiling_workload_is_the_steps_matrix_products)
{
    for (int i = 0; i < sl_ref_config_count; i++) {
        const sl_config *c = &sl_ref_configs[i].model;
        int rows = sl_ref_configs[i].batch * c->n_ctx;
        double attention = 6.0 * c->n_layer * c->n_ctx * c->d_model;
        double want = rows * (sl_step_flops_per_token(c) - attention);
        cr_expect_float_eq(sl_ceiling_flops(c, rows), want, 1e-12 * want, "%s",
                           sl_ref_configs[i].name);
    }
}

Test(throughput, snapshot_gflops_is_the_bench_definition)
{
    sl_snapshot s;
    memset(&s, 0, sizeof s);
    sl_run_view a = {0}, b = {0};
    a.state = b.state = SL_RUN_RUNNING;
    a.shape = sl_ref_configs[0].model;
    b.shape = sl_ref_configs[2].model;
    a.tokens_per_s = 150000.0;
    b.tokens_per_s = 7000.0;
    sl_snapshot_count(&s, &a);
    sl_snapshot_count(&s, &b);
    double want = sl_step_gflops(&a.shape, a.tokens_per_s) + sl_step_gflops(&b.shape, b.tokens_per_s);
    cr_expect_float_eq(s.gflops, want, 1e-12 * want);
}

static double json_num(const char *s, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = strstr(s, k);
    cr_assert_not_null(p, "%s not in %s", key, s);
    return strtod(p + strlen(k), NULL);
}

Test(throughput, bench_reports_gflops_and_ratio_by_the_core_definition, .init = tu_make_dir,
     .fini = tu_remove_dir, .timeout = 120)
{
    char out[8192], err[8192];
    const char *args[] = {"bench", "--only", "d64", "--steps", "1", "--threads", "1", "--json", NULL};
    int rc = tu_run(out, sizeof out, err, sizeof err, 0, args);
    cr_assert_eq(rc, 0, "stderr: %s", err);
    const sl_config *c = &sl_ref_config_find("d64")->model;
    double tps = json_num(out, "tokens_per_s"), gf = json_num(out, "gflops");
    double ceil = json_num(out, "ceiling_gflops"), ratio = json_num(out, "ratio");
    cr_assert(tps > 0 && ceil > 0, "%s", out);
    /* to the printed digits: tokens/s has one decimal, GFLOP/s two, the ratio three */
    cr_expect(fabs(gf - sl_step_gflops(c, tps)) <= 0.006 + 1e-6 * gf, "%s", out);
    cr_expect(fabs(ratio - gf / ceil) <= 0.0006 + 1e-3 * ratio, "%s", out);
}
