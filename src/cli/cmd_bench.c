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
#include "scalelab/bf16.h"
#include "scalelab/machine.h"
#include "scalelab/throughput.h"
#include "scalelab/train.h"

enum { O_JSON = 1, O_THREADS, O_BLAS_THREADS, O_STEPS, O_ONLY, O_PRECISION };

static const cli_opt bench_opts[] = {
    CLI_FLAG("--json", O_JSON,
             "print {\"configs\":[{name, n_layer, d_model, n_ctx, batch, vocab,\n"
             "threads, precision, tokens_per_s, gflops, ceiling_gflops,\n"
             "ratio, peak_rss_mb, budget_mb}]}"),
    CLI_OPT("--threads", "K", O_THREADS, "threads (default: the CPUs this process may use)"),
    CLI_OPT("--blas-threads", "K", O_BLAS_THREADS,
            "OpenBLAS threads inside each of ours (default 1; to compare\n"
            "with BLAS-level parallelism use --threads 1 --blas-threads 2)"),
    CLI_OPT("--steps", "S", O_STEPS, "timed steps per configuration (default 20; the median is used)"),
    CLI_OPT("--only", "NAME", O_ONLY, "one configuration (d64, d128 or d256)"),
    CLI_OPT("--precision", "P", O_PRECISION,
            "fp32 (default) or bf16: the weight products of the step, and\n"
            "the ceiling they are measured against (bf16: the same products\n"
            "through oneDNN, operands rounded as the step rounds them)"),
    CLI_END,
};

const cli_command cli_bench_cmd = {
    "bench",
    "usage: scalelab bench [options]\n"
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
    "\n",
    NULL,
    (const cli_opt *const[]){bench_opts, NULL},
    NULL,
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int bench_one(const sl_ref_config *bc, const sl_corpus *corpus, int threads, int blas, long steps,
                     int json, sl_precision prec)
{
    sl_error err = {{0}};
    openblas_set_num_threads(blas);
    sl_train_opts o;
    sl_train_defaults(&o);
    o.model = bc->model;
    o.batch = bc->batch;
    o.steps = steps + 3;
    o.eval_every = 0;
    o.eval_tokens = (size_t)bc->model.n_ctx;
    o.threads = threads;
    o.precision = prec;
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
    int nthr = threads < bc->batch ? threads : bc->batch;
    int cap = (bc->batch + nthr - 1) / nthr;
    double budget = sl_train_memory(&o) / 1048576.0;
    double tok = (double)bc->batch * bc->model.n_ctx;
    double tps = tok / med;
    double gflops = sl_step_gflops(&bc->model, tps);
    double ceil = sl_ceiling_measure(&bc->model, cap * bc->model.n_ctx, nthr, 9, prec);
    if (json)
        printf("{\"name\":\"%s\",\"n_layer\":%d,\"d_model\":%d,\"n_ctx\":%d,\"batch\":%d,"
               "\"vocab\":%d,\"threads\":%d,\"precision\":\"%s\",\"tokens_per_s\":%.1f,"
               "\"gflops\":%.2f,\"ceiling_gflops\":%.2f,\"ratio\":%.3f,\"peak_rss_mb\":%.1f,"
               "\"budget_mb\":%.1f}",
               bc->name, bc->model.n_layer, bc->model.d_model, bc->model.n_ctx, bc->batch, bc->model.vocab, threads,
               sl_precision_name(prec), tps, gflops, ceil, gflops / ceil, rss, budget);
    else
        printf("%-5s %7d %4s %8.0f %11.0f %9.1f %9.1f %6.2f %8.1f %9.1f\n", bc->name, threads,
               sl_precision_name(prec), tok, tps, gflops, ceil, gflops / ceil, rss, budget);
    fflush(stdout);
    return 0;
}

int cmd_bench(int argc, char **argv)
{
    cli_args args;
    int code;
    if (cli_parse(&cli_bench_cmd, argc, argv, &args, &code))
        return code;
    sl_error err = {{0}};
    int json = 0, rc = SL_OK;
    long threads = sl_cpus_available(), steps = 20, blas = 1;
    const char *only = NULL;
    int prec = SL_PREC_FP32;
    for (int k = 0; k < args.n_items && rc == SL_OK; k++) {
        const cli_item *it = &args.items[k];
        switch (it->id) {
        case O_JSON: json = 1; break;
        case O_THREADS: rc = cli_parse_int(it->name, it->arg, 1, 256, &threads, &err); break;
        case O_BLAS_THREADS: rc = cli_parse_int(it->name, it->arg, 1, 256, &blas, &err); break;
        case O_STEPS: rc = cli_parse_int(it->name, it->arg, 1, 100000, &steps, &err); break;
        case O_ONLY: only = it->arg; break;
        case O_PRECISION:
            if ((prec = sl_precision_from_name(it->arg)) < 0)
                rc = sl_fail(&err, SL_EINPUT, "--precision: '%s' is not a precision (expected fp32 or bf16)",
                             it->arg);
            break;
        }
    }
    if (rc == SL_OK && args.n_pos > 0)
        rc = sl_fail(&err, SL_EINPUT, "%s: unexpected argument (see scalelab bench --help)", args.pos[0]);
    cli_args_free(&args);
    if (rc != SL_OK)
        return cli_report(rc, &err);
    char why[160];
    if (prec == SL_PREC_BF16 && !sl_bf16_available(why, sizeof why))
        return cli_report(sl_fail(&err, SL_EINPUT, "--precision bf16: %s", why), &err);
    if (only && !sl_ref_config_find(only))
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
        printf("%-5s %7s %4s %8s %11s %9s %9s %6s %8s %9s\n", "name", "threads", "prec", "tokens",
               "tokens/s", "GFLOP/s", "ceiling", "ratio", "RSS MB", "budget MB");
    int first = 1;
    for (int ci = 0; ci < sl_ref_config_count; ci++) {
        const sl_ref_config *bc = &sl_ref_configs[ci];
        if (only && strcmp(only, bc->name))
            continue;
        if (json && !first)
            printf(",");
        fflush(stdout);
        first = 0;
        /* a process per configuration, so that peak RSS is this one's own */
        pid_t pid = fork();
        if (pid == 0)
            _exit(bench_one(bc, &corpus, (int)threads, (int)blas, steps, json, (sl_precision)prec));
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
