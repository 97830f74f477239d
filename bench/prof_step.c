/* prof_step: runs training steps of a reference configuration on synthetic
 * tokens, for a profiler (bench/profile.sh runs it under callgrind). Not a
 * test. It prints the process CPU time per step (less sensitive than wall time
 * to other work on the machine, with OPENBLAS_NUM_THREADS=1 and one thread).
 *   cc -O3 -march=native -Iinclude -D_POSIX_C_SOURCE=200809L bench/prof_step.c \
 *      build/libscalelab.a -lopenblas -lm -lpthread -o build/prof_step
 *   build/prof_step d64|d128|d256|L:D:H:T:B [STEPS [THREADS [fp32|bf16]]] */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scalelab/throughput.h"
#include "scalelab/train.h"

int main(int argc, char **argv)
{
    const sl_ref_config *rc = sl_ref_config_find(argc > 1 ? argv[1] : "d64");
    sl_ref_config custom = {"custom", {0, 0, 0, 0, 0, 256}, 0};
    /* or a shape of one's own: L:d_model:heads:n_ctx:batch */
    if (!rc && argc > 1 &&
        sscanf(argv[1], "%d:%d:%d:%d:%d", &custom.model.n_layer, &custom.model.d_model,
               &custom.model.n_head, &custom.model.n_ctx, &custom.batch) == 5) {
        custom.model.d_ff = 4 * custom.model.d_model;
        rc = &custom;
    }
    if (!rc) {
        fprintf(stderr, "prof_step: %s is not a reference configuration\n", argv[1]);
        return 2;
    }
    long steps = argc > 2 ? atol(argv[2]) : 2;
    int threads = argc > 3 ? atoi(argv[3]) : 1;
    openblas_set_num_threads(1);
    sl_corpus c;
    memset(&c, 0, sizeof c);
    c.n_tokens = 1 << 18;
    c.n_train = c.n_tokens - (1 << 14);
    c.vocab = 256;
    snprintf(c.source, sizeof c.source, "synthetic");
    snprintf(c.tokenizer, sizeof c.tokenizer, "byte");
    c.tokens = malloc(c.n_tokens * sizeof(uint16_t));
    sl_rng rng;
    sl_rng_seed(&rng, 7);
    for (size_t i = 0; i < c.n_tokens; i++)
        c.tokens[i] = (uint16_t)sl_rng_below(&rng, 256);
    sl_train_opts o;
    sl_train_defaults(&o);
    o.model = rc->model;
    o.batch = rc->batch;
    o.steps = steps;
    o.eval_every = 0;
    o.eval_tokens = (size_t)rc->model.n_ctx;
    o.threads = threads;
    if (argc > 4 && (o.precision = sl_precision_from_name(argv[4])) == (sl_precision)-1) {
        fprintf(stderr, "prof_step: precision %s is neither fp32 nor bf16\n", argv[4]);
        return 2;
    }
    sl_error err = {{0}};
    sl_trainer *t;
    if (sl_trainer_new(&t, &o, &c, &err)) {
        fprintf(stderr, "prof_step: %s\n", err.msg);
        return 1;
    }
    sl_metric_row row;
    struct timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    for (long s = 0; s < steps; s++)
        if (sl_trainer_step(t, &row, &err) < 0) {
            fprintf(stderr, "prof_step: %s\n", err.msg);
            return 1;
        }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    double cpu = (double)(c1.tv_sec - c0.tv_sec) + 1e-9 * (double)(c1.tv_nsec - c0.tv_nsec);
    double tok = (double)steps * rc->batch * rc->model.n_ctx;
    printf("%s: %ld steps, last loss %.6f, %.2f CPU ms per step, %.0f tokens per CPU second\n",
           rc->name, steps, sl_trainer_last_loss(t), 1e3 * cpu / (double)steps, tok / cpu);
    sl_trainer_free(t);
    free(c.tokens);
    return 0;
}
