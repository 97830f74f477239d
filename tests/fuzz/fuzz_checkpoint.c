/* Fuzzes the checkpoint reader against a small trainer, twice per input: as it
 * is, and with its trailing checksum made right so that the checks behind it
 * are reached. A refused checkpoint leaves the trainer as it was; an accepted
 * one must train on (a step fails cleanly or succeeds).
 * SCALELAB_FUZZ_WRITE_SEED=FILE writes a valid checkpoint of this trainer (the
 * seed in corpus/checkpoint) and exits. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "scalelab/train.h"

static sl_corpus corpus;
static sl_train_opts opts;

static void setup(void)
{
    corpus.n_tokens = 4096;
    corpus.n_train = 3900;
    corpus.tokens = calloc(corpus.n_tokens, sizeof *corpus.tokens);
    if (!corpus.tokens)
        abort();
    for (size_t i = 0; i < corpus.n_tokens; i++)
        corpus.tokens[i] = (uint16_t)((i * 5 + i / 7) % 16);
    corpus.vocab = 16;
    snprintf(corpus.source, sizeof corpus.source, "fuzz-corpus");
    snprintf(corpus.tokenizer, sizeof corpus.tokenizer, "shard");
    sl_train_defaults(&opts);
    opts.model = (sl_config){1, 8, 2, 16, 8, 16};
    opts.batch = 2;
    opts.steps = 6;
    opts.eval_every = 3;
    opts.eval_tokens = 64;
    opts.threads = 1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    setup();
    const char *seed = getenv("SCALELAB_FUZZ_WRITE_SEED");
    if (seed && *seed) {
        sl_trainer *t;
        sl_error err = {{0}};
        sl_metric_row row;
        if (sl_trainer_new(&t, &opts, &corpus, &err) || sl_trainer_step(t, &row, &err) < 0 ||
            sl_trainer_step(t, &row, &err) < 0 || sl_trainer_save(t, seed, &err)) {
            fprintf(stderr, "scalelab-fuzz: %s\n", err.msg);
            exit(1);
        }
        sl_trainer_free(t);
        exit(0);
    }
    return 0;
}

static void load(const uint8_t *data, size_t size)
{
    char path[512];
    fz_path(path, sizeof path, "checkpoint.bin");
    fz_write(path, data, size);
    sl_trainer *t;
    sl_error err = {{0}};
    FZ_CHECK(sl_trainer_new(&t, &opts, &corpus, &err) == SL_OK, "%s", err.msg);
    long before = sl_trainer_steps_done(t);
    int rc = sl_trainer_load(t, path, &err);
    fz_check_message(rc, &err);
    if (rc)
        FZ_CHECK(sl_trainer_steps_done(t) == before, "a refused checkpoint moved the step");
    else {
        FZ_CHECK(sl_trainer_steps_done(t) >= 0 && sl_trainer_steps_done(t) <= opts.steps,
                 "step %ld", sl_trainer_steps_done(t));
        sl_metric_row row;
        if (!sl_trainer_finished(t)) {
            rc = sl_trainer_step(t, &row, &err);
            fz_check_message(rc < 0 ? rc : 0, &err);
        }
    }
    sl_trainer_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    load(data, size);
    if (size >= 8) {
        uint8_t *fixed = malloc(size);
        memcpy(fixed, data, size);
        uint64_t sum = sl_fnv1a(SL_FNV_INIT, fixed, size - 8);
        memcpy(fixed + size - 8, &sum, sizeof sum);
        load(fixed, size);
        free(fixed);
    }
    return 0;
}
