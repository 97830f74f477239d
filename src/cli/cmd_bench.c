/* scalelab bench: training-step throughput against the machine's sgemm rate on
 * the model's own matrix shapes, for three reference shapes. Synthetic tokens:
 * the step costs the same whatever the text. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "scalelab/pool.h"
#include "scalelab/train.h"

static const char *help_text =
    "usage: scalelab bench [--json] [--threads K] [--blas-threads K] [--steps S] [--only NAME]\n"
    "\n"
    "Measures, in this process, for each reference configuration:\n"
    "  ceiling  the sgemm rate (GFLOP/s) of the model's own matrix products, run\n"
    "           on K threads at once, each on its share of the batch\n"
    "  step     the full training step (forward, backward, AdamW): tokens/s, the\n"
    "           GFLOP/s it achieves (every FLOP: 6N + attention + logits) and its\n"
    "           ratio to the ceiling, peak resident memory (each configuration runs\n"
    "           in a process of its own) and the memory budget: parameters,\n"
    "           gradients (one buffer per thread), Adam moments, activations\n"
    "configurations (vocab 256): d64 (L2, ctx 64, batch 32, 2 heads), d128 (L4,\n"
    "ctx 128, batch 16, 4 heads), d256 (L4, ctx 128, batch 16, 4 heads).\n"
    "\n"
    "  --json       print {\"configs\":[{name, n_layer, d_model, n_ctx, batch, vocab,\n"
    "               threads, tokens_per_s, gflops, ceiling_gflops, ratio,\n"
    "               peak_rss_mb, budget_mb}]}\n"
    "  --threads K  threads (default: all cores)\n"
    "  --blas-threads K  OpenBLAS threads inside each of ours (default 1; to compare\n"
    "               with BLAS-level parallelism use --threads 1 --blas-threads 2)\n"
    "  --steps S    timed steps per configuration (default 20; the median is used)\n"
    "  --only NAME  one configuration (d64, d128 or d256)\n";

typedef struct {
    const char *name;
    sl_config c;
    int batch;
} bench_cfg;

static const bench_cfg configs[] = {
    {"d64", {2, 64, 2, 256, 64, 256}, 32},
    {"d128", {4, 128, 4, 512, 128, 256}, 16},
    {"d256", {4, 256, 4, 1024, 128, 256}, 16},
};

/* The sgemm shapes of one layer and the head for a shard of n rows:
 * forward out[n,oc] = in[n,k]·w^T, backward dinp[n,k] and dw[oc,k]. */
typedef struct {
    const sl_config *c;
    int rows, reps;
    int phase; /* 0: allocate the thread's buffers, 1: multiply, 2: free them */
    float *buf[256][3];
    double flops[256];
} ceil_job;

static void ceil_worker(void *arg, int tid, int n)
{
    (void)n;
    ceil_job *j = arg;
    const sl_config *c = j->c;
    int C = c->d_model, F = c->d_ff, V = c->vocab, N = j->rows;
    float **b = j->buf[tid];
    if (j->phase == 0) {
        /* the widest operand: 3C (qkv), F (mlp) or V (head) */
        size_t maxk = (size_t)(3 * C > F ? 3 * C : F);
        maxk = maxk > (size_t)V ? maxk : (size_t)V;
        b[0] = sl_alloc_floats((size_t)N * maxk);
        b[1] = sl_alloc_floats(maxk * maxk);
        b[2] = sl_alloc_floats((size_t)N * maxk);
        for (size_t i = 0; i < (size_t)N * maxk; i++)
            b[0][i] = 0.001f * (float)(i % 97);
        return;
    }
    if (j->phase == 2) {
        free(b[0]), free(b[1]), free(b[2]);
        return;
    }
    float *a = b[0], *w = b[1], *o = b[2];
    int shapes[4][2] = {{C, 3 * C}, {C, C}, {C, F}, {F, C}};
    double fl = 0;
    for (int r = 0; r < j->reps; r++)
        for (int s = 0; s < 5; s++) {
            int K = s < 4 ? shapes[s][0] : C, OC = s < 4 ? shapes[s][1] : V;
            int mult = s < 4 ? c->n_layer : 1;
            for (int m = 0; m < mult; m++) {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, K, 1.0f, a, K, w, K, 0.0f,
                            o, OC);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, K, OC, 1.0f, o, OC, w, K,
                            0.0f, a, K);
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, K, N, 1.0f, o, OC, a, K, 0.0f,
                            w, K);
                fl += 3.0 * 2.0 * N * (double)K * OC;
            }
        }
    j->flops[tid] = fl;
}

static double measure_ceiling(const sl_config *c, int batch, int threads)
{
    sl_pool *p = sl_pool_new(threads);
    threads = sl_pool_size(p);
    static ceil_job j;
    memset(&j, 0, sizeof j);
    j.c = c;
    j.rows = (batch + threads - 1) / threads * c->n_ctx;
    j.reps = 1;
    j.phase = 0;
    sl_pool_run(p, ceil_worker, &j); /* buffers, outside the timing */
    j.phase = 1;
    sl_pool_run(p, ceil_worker, &j); /* warm up */
    j.reps = 3;
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = sl_now();
        sl_pool_run(p, ceil_worker, &j);
        double dt = sl_now() - t0, fl = 0;
        for (int i = 0; i < threads; i++)
            fl += j.flops[i];
        if (fl / dt > best)
            best = fl / dt;
    }
    j.phase = 2;
    sl_pool_run(p, ceil_worker, &j);
    sl_pool_free(p);
    return best / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int bench_one(const bench_cfg *bc, const sl_corpus *corpus, int threads, int blas, long steps,
                     int json)
{
    sl_error err = {{0}};
    openblas_set_num_threads(blas);
    sl_train_opts o;
    sl_train_defaults(&o);
    o.model = bc->c;
    o.batch = bc->batch;
    o.steps = steps + 3;
    o.eval_every = 0;
    o.eval_tokens = (size_t)bc->c.n_ctx;
    o.threads = threads;
    sl_trainer *t;
    int rc = sl_trainer_new(&t, &o, corpus, &err);
    if (rc)
        return cli_report(rc, &err);
    double *dt = sl_xcalloc((size_t)steps, sizeof(double));
    sl_metric_row row;
    for (long s = 0; s < steps + 3; s++) {
        double t0 = sl_now();
        if (sl_trainer_step(t, &row, &err) < 0)
            return cli_report(SL_ERUNTIME, &err);
        if (s >= 3)
            dt[s - 3] = sl_now() - t0;
    }
    qsort(dt, (size_t)steps, sizeof(double), cmp_double);
    double med = dt[steps / 2];
    free(dt);
    sl_trainer_free(t);
    double rss = sl_peak_rss_mb();
    sl_counts k = sl_model_counts(&bc->c);
    sl_tensor_info info[SL_NUM_PARAM_TENSORS];
    double P = (double)sl_param_layout(&bc->c, info);
    int nthr = threads < bc->batch ? threads : bc->batch;
    int cap = (bc->batch + nthr - 1) / nthr;
    double budget = 4.0 * (P * (3 + nthr) + nthr * (double)sl_acts_floats(&bc->c, cap)) / 1048576.0;
    double tok = (double)bc->batch * bc->c.n_ctx;
    double tps = tok / med;
    double gflops = tps * (k.flops_per_token + k.flops_embed_per_token) / 1e9;
    double ceil = measure_ceiling(&bc->c, bc->batch, nthr);
    if (json)
        printf("{\"name\":\"%s\",\"n_layer\":%d,\"d_model\":%d,\"n_ctx\":%d,\"batch\":%d,"
               "\"vocab\":%d,\"threads\":%d,\"tokens_per_s\":%.1f,\"gflops\":%.2f,"
               "\"ceiling_gflops\":%.2f,\"ratio\":%.3f,\"peak_rss_mb\":%.1f,\"budget_mb\":%.1f}",
               bc->name, bc->c.n_layer, bc->c.d_model, bc->c.n_ctx, bc->batch, bc->c.vocab, threads,
               tps, gflops, ceil, gflops / ceil, rss, budget);
    else
        printf("%-5s %7d %8.0f %11.0f %9.1f %9.1f %6.2f %8.1f %9.1f\n", bc->name, threads, tok, tps,
               gflops, ceil, gflops / ceil, rss, budget);
    fflush(stdout);
    return 0;
}

int cmd_bench(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(help_text, stdout);
        return 0;
    }
    sl_error err = {{0}};
    int json = 0, rc;
    long threads = sysconf(_SC_NPROCESSORS_ONLN), steps = 20, blas = 1;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            if ((rc = cli_parse_int("--threads", argv[++i], 1, 256, &threads, &err)))
                return cli_report(rc, &err);
        } else if (!strcmp(argv[i], "--blas-threads") && i + 1 < argc) {
            if ((rc = cli_parse_int("--blas-threads", argv[++i], 1, 256, &blas, &err)))
                return cli_report(rc, &err);
        } else if (!strcmp(argv[i], "--steps") && i + 1 < argc) {
            if ((rc = cli_parse_int("--steps", argv[++i], 1, 100000, &steps, &err)))
                return cli_report(rc, &err);
        } else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else
            return cli_report(sl_fail(&err, SL_EINPUT, "%s: unknown option (see scalelab bench --help)", argv[i]), &err);
    }
    if (only && strcmp(only, "d64") && strcmp(only, "d128") && strcmp(only, "d256"))
        return cli_report(sl_fail(&err, SL_EINPUT, "--only: '%s' is not a configuration (expected d64, d128 or d256)", only), &err);

    /* Synthetic corpus: uniform random bytes, enough for every shape. */
    sl_corpus corpus;
    memset(&corpus, 0, sizeof corpus);
    corpus.n_tokens = 1 << 20;
    corpus.n_train = corpus.n_tokens - (1 << 16);
    corpus.vocab = 256;
    snprintf(corpus.source, sizeof corpus.source, "synthetic");
    snprintf(corpus.tokenizer, sizeof corpus.tokenizer, "byte");
    corpus.tokens = sl_xmalloc(corpus.n_tokens * sizeof(uint16_t));
    sl_rng rng;
    sl_rng_seed(&rng, 7);
    for (size_t i = 0; i < corpus.n_tokens; i++)
        corpus.tokens[i] = (uint16_t)sl_rng_below(&rng, 256);

    if (json)
        printf("{\"configs\":[");
    else
        printf("%-5s %7s %8s %11s %9s %9s %6s %8s %9s\n", "name", "threads", "tokens", "tokens/s",
               "GFLOP/s", "ceiling", "ratio", "RSS MB", "budget MB");
    int first = 1;
    for (size_t ci = 0; ci < sizeof configs / sizeof configs[0]; ci++) {
        const bench_cfg *bc = &configs[ci];
        if (only && strcmp(only, bc->name))
            continue;
        if (json && !first)
            printf(",");
        fflush(stdout);
        first = 0;
        /* a process per configuration, so that peak RSS is this one's own */
        pid_t pid = fork();
        if (pid == 0)
            _exit(bench_one(bc, &corpus, (int)threads, (int)blas, steps, json));
        int status = 0;
        if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
            free(corpus.tokens);
            return cli_report(sl_fail(&err, SL_ERUNTIME, "bench: configuration %s failed", bc->name), &err);
        }
    }
    if (json)
        printf("]}\n");
    free(corpus.tokens);
    return 0;
}
