/* scalelab sample and the core sampler: a model trained on a cycle of letters
 * continues it, the likeliest token is the reference kernels' argmax, seeds
 * reproduce, the window slides past n_ctx, and bad input is one line, exit 2. */
#include <math.h>

#include "scalelab/sample.h"
#include "scalelab/train.h"
#include "testutil.h"

#define CYCLE "abcdefgh"

/* Bytes of CYCLE repeated (vocab 256, as the byte tokenizer gives). */
static sl_corpus cycle_corpus(size_t n)
{
    sl_corpus c;
    memset(&c, 0, sizeof c);
    c.tokens = sl_xmalloc(n * sizeof(uint16_t));
    for (size_t i = 0; i < n; i++)
        c.tokens[i] = (uint16_t)CYCLE[i % 8];
    c.n_tokens = n;
    c.n_train = n - n / 10;
    c.vocab = 256;
    snprintf(c.source, sizeof c.source, "cycle");
    snprintf(c.tokenizer, sizeof c.tokenizer, "byte");
    return c;
}

/* A checkpoint of a small model after `steps` steps on the corpus. */
static void checkpoint(const char *name, long steps, int vocab, char *path, size_t len)
{
    sl_corpus c = cycle_corpus(8000);
    c.vocab = vocab;
    sl_train_opts o;
    sl_train_defaults(&o);
    o.model = (sl_config){1, 32, 2, 128, 16, vocab};
    o.batch = 8;
    o.steps = steps > 0 ? steps : 1;
    o.lr = 1e-2;
    o.warmup = 0;
    o.eval_every = 1000;
    o.eval_tokens = 256;
    o.threads = 1;
    sl_trainer *t;
    sl_error err;
    cr_assert_eq(sl_trainer_new(&t, &o, &c, &err), SL_OK, "%s", err.msg);
    sl_metric_row row;
    for (long s = 0; s < steps; s++)
        cr_assert_geq(sl_trainer_step(t, &row, &err), 0, "%s", err.msg);
    tu_path(path, len, name);
    cr_assert_eq(sl_trainer_save(t, path, &err), SL_OK, "%s", err.msg);
    sl_trainer_free(t);
    sl_corpus_free(&c);
}

static char *sample(sl_textgen *g, const char *prompt, int tokens, double temperature, uint64_t seed)
{
    sl_sample_opts o = {.prompt = prompt, .tokens = tokens, .temperature = temperature, .seed = seed};
    char *text;
    size_t len;
    sl_error err;
    cr_assert_eq(sl_textgen_sample(g, &o, &text, &len, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(strlen(text), len);
    return text;
}

TestSuite(sample, .init = tu_make_dir, .fini = tu_remove_dir, .timeout = 120);

Test(sample, a_trained_model_continues_its_cycle_and_greedy_is_the_reference_argmax)
{
    char path[512];
    checkpoint("cycle.bin", 300, 256, path, sizeof path);
    sl_textgen g;
    sl_error err;
    cr_assert_eq(sl_textgen_open(&g, path, NULL, &err), SL_OK, "%s", err.msg);
    cr_expect_eq(g.step, 300);
    cr_expect_str_eq(g.tokenizer, "byte");
    char *text = sample(&g, "abc", 16, 0, 1);
    cr_expect_str_eq(text, "defghabcdefghabc");
    free(text);
    /* a prompt longer than the context: the window slides */
    text = sample(&g, "abcdefghabcdefghabcdefghab", 6, 0, 1);
    cr_expect_str_eq(text, "cdefgh");
    free(text);

    /* the first greedy token is the argmax of the reference kernels' logits */
    const char *prompt = "efgha";
    int32_t inp[5];
    for (int i = 0; i < 5; i++)
        inp[i] = (unsigned char)prompt[i];
    sl_acts *a = sl_acts_new(&g.model.cfg, 1);
    sl_model_forward(&g.model, a, inp, NULL, 1, 5, 1);
    const float *row = sl_acts_logits(a) + 4 * 256;
    int best = 0;
    for (int i = 1; i < 256; i++)
        if (row[i] > row[best])
            best = i;
    sl_acts_free(a);
    text = sample(&g, prompt, 1, 0, 1);
    cr_expect_eq((unsigned char)text[0], best, "greedy %d, reference argmax %d", text[0], best);
    free(text);
    sl_textgen_free(&g);
}

Test(sample, the_same_seed_gives_the_same_text_and_another_seed_other_text)
{
    char path[512];
    checkpoint("fresh.bin", 0, 256, path, sizeof path);
    sl_textgen g;
    sl_error err;
    cr_assert_eq(sl_textgen_open(&g, path, NULL, &err), SL_OK, "%s", err.msg);
    char *a = sample(&g, "ab", 40, 1.0, 7), *b = sample(&g, "ab", 40, 1.0, 7), *c = sample(&g, "ab", 40, 1.0, 8);
    cr_expect_str_eq(a, b);
    cr_expect_str_neq(a, c);
    free(a);
    free(b);
    free(c);
    sl_textgen_free(&g);
}

Test(sample, command_prints_the_continuation_and_rejects_bad_input)
{
    char path[512], vpath[512], out[8192], errt[4096];
    checkpoint("cycle.bin", 300, 256, path, sizeof path);
    const char *ok[] = {"sample", path, "--prompt", "ab", "--tokens", "6", "--temperature", "0", NULL};
    int code = tu_run(out, sizeof out, errt, sizeof errt, 0, ok);
    cr_assert_eq(code, 0, "exit %d: %s", code, errt);
    cr_expect_str_eq(out, "cdefgh\n");
    cr_expect_not_null(strstr(errt, "step 300, byte, temperature 0, seed 1"), "%s", errt);

    const char *a1[] = {"sample", NULL};
    tu_assert_bad_input("RUN: missing", a1);
    const char *a2[] = {"sample", path, "--tokens", "0", NULL};
    tu_assert_bad_input("--tokens: 0 is out of range", a2);
    const char *a3[] = {"sample", path, "--temperature", "-1", NULL};
    tu_assert_bad_input("--temperature: -1 is out of range", a3);
    const char *a4[] = {"sample", tu_dir, NULL};
    tu_assert_bad_input("no checkpoint.bin", a4);
    checkpoint("v64.bin", 0, 64, vpath, sizeof vpath);
    const char *a5[] = {"sample", vpath, NULL};
    tu_assert_bad_input("vocab: the model has 64 tokens, bytes are 256", a5);
    const char *bad = "not a checkpoint";
    tu_write(path, bad, strlen(bad));
    const char *a6[] = {"sample", path, NULL};
    tu_assert_bad_input("cycle.bin: header", a6);
}
