/* throughput: see include/scalelab/throughput.h */
#include "scalelab/throughput.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "scalelab/bf16.h"
#include "scalelab/pool.h"
#include "scalelab/util.h"

const sl_ref_config sl_ref_configs[] = {
    {"d64", {2, 64, 2, 256, 64, 256}, 32},
    {"d128", {4, 128, 4, 512, 128, 256}, 16},
    {"d256", {4, 256, 4, 1024, 128, 256}, 16},
};
const int sl_ref_config_count = (int)(sizeof sl_ref_configs / sizeof sl_ref_configs[0]);

const sl_ref_config *sl_ref_config_find(const char *name)
{
    for (int i = 0; i < sl_ref_config_count; i++)
        if (!strcmp(sl_ref_configs[i].name, name))
            return &sl_ref_configs[i];
    return NULL;
}

double sl_step_flops_per_token(const sl_config *c)
{
    return sl_model_flops_per_token(c, SL_ACCT_TOTAL);
}

double sl_step_gflops(const sl_config *c, double tokens_per_s)
{
    return tokens_per_s * sl_step_flops_per_token(c) / 1e9;
}

/* The products of one step: in[rows,K] · w[OC,K]ᵀ, for each (K, OC). */
static int ceiling_shapes(const sl_config *c, int shapes[][3])
{
    const int C = c->d_model, F = c->d_ff;
    int n = 0;
    const int layer[4][2] = {{C, 3 * C}, {C, C}, {C, F}, {F, C}};
    for (int s = 0; s < 4; s++) {
        shapes[n][0] = layer[s][0];
        shapes[n][1] = layer[s][1];
        shapes[n][2] = c->n_layer;
        n++;
    }
    shapes[n][0] = C;
    shapes[n][1] = c->vocab;
    shapes[n][2] = 1;
    return n + 1;
}

double sl_ceiling_flops(const sl_config *c, int rows)
{
    int shapes[5][3], n = ceiling_shapes(c, shapes);
    double fl = 0;
    for (int s = 0; s < n; s++)
        fl += shapes[s][2] * 3.0 * 2.0 * rows * (double)shapes[s][0] * shapes[s][1];
    return fl;
}

typedef struct {
    const sl_config *c;
    int rows, phase; /* 0: allocate the thread's buffers, 1: multiply, 2: free them */
    sl_precision prec;
    float *buf[256][3];
    sl_bf16 *bf[256];
} ceil_job;

static void ceil_worker(void *arg, int tid, int nthreads)
{
    (void)nthreads;
    ceil_job *j = arg;
    const sl_config *c = j->c;
    int N = j->rows;
    float **b = j->buf[tid];
    int shapes[5][3], ns = ceiling_shapes(c, shapes);
    if (j->phase == 0) {
        size_t maxk = 1;
        for (int s = 0; s < ns; s++)
            for (int q = 0; q < 2; q++)
                maxk = (size_t)shapes[s][q] > maxk ? (size_t)shapes[s][q] : maxk;
        b[0] = sl_alloc_floats((size_t)N * maxk);
        b[1] = sl_alloc_floats(maxk * maxk);
        b[2] = sl_alloc_floats((size_t)N * maxk);
        for (size_t i = 0; i < (size_t)N * maxk; i++)
            b[0][i] = 0.001f * (float)(i % 97);
        if (j->prec == SL_PREC_BF16) { /* the weight rounded once, as a step does */
            j->bf[tid] = sl_bf16_new(maxk * maxk, N, (int)maxk);
            if (j->bf[tid])
                sl_bf16_load_weights(j->bf[tid], b[1], maxk * maxk);
        }
        return;
    }
    if (j->phase == 2) {
        free(b[0]), free(b[1]), free(b[2]);
        sl_bf16_free(j->bf[tid]);
        return;
    }
    float *a = b[0], *w = b[1], *o = b[2];
    for (int s = 0; s < ns; s++) {
        int K = shapes[s][0], OC = shapes[s][1];
        for (int m = 0; m < shapes[s][2]; m++) {
            if (j->bf[tid]) { /* the step's three products, operands rounded as it does */
                sl_bf16_matmul_forward(j->bf[tid], o, a, 0, NULL, N, K, OC);
                sl_bf16_matmul_backward_write(j->bf[tid], a, w, NULL, o, a, 0, N, K, OC);
                continue;
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, K, 1.0f, a, K, w, K, 0.0f, o,
                        OC);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, K, OC, 1.0f, o, OC, w, K, 0.0f,
                        a, K);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, K, N, 1.0f, o, OC, a, K, 0.0f, w,
                        K);
        }
    }
}

double sl_ceiling_measure(const sl_config *c, int rows, int threads, int reps, sl_precision prec)
{
    if (threads > 256)
        threads = 256;
    sl_pool *p = sl_pool_new(threads);
    threads = sl_pool_size(p);
    ceil_job *j = sl_xcalloc(1, sizeof *j);
    j->c = c;
    j->rows = rows > 0 ? rows : 1;
    j->prec = prec;
    sl_pool_run(p, ceil_worker, j); /* buffers, outside the timing */
    int failed = 0;
    for (int t = 0; t < threads && prec == SL_PREC_BF16; t++)
        failed |= !j->bf[t];
    if (failed) {
        j->phase = 2;
        sl_pool_run(p, ceil_worker, j);
        free(j);
        sl_pool_free(p);
        return 0.0;
    }
    j->phase = 1;
    sl_pool_run(p, ceil_worker, j); /* warm-up */
    double best = 0, fl = sl_ceiling_flops(c, j->rows) * threads;
    for (int r = 0; r < (reps > 0 ? reps : 1); r++) {
        double t0 = sl_now();
        sl_pool_run(p, ceil_worker, j);
        double dt = sl_now() - t0;
        if (dt > 0 && fl / dt > best)
            best = fl / dt;
    }
    j->phase = 2;
    sl_pool_run(p, ceil_worker, j);
    free(j);
    sl_pool_free(p);
    return best / 1e9;
}
