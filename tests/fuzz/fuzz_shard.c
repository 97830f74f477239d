/* Fuzzes the token-shard reader (llm.c .bin): load as a corpus, then check the
 * context, sample a training batch and an evaluation batch from it. */
#include <stdlib.h>

#include "fuzz.h"
#include "scalelab/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[512];
    fz_path(path, sizeof path, "fuzz.bin");
    fz_write(path, data, size);
    sl_corpus_opts o = {.path = path, .data_dir = fz_tmp()};
    sl_corpus c;
    sl_error err = {{0}};
    int rc = sl_corpus_load(&c, &o, &err);
    fz_check_message(rc, &err);
    if (rc)
        return 0;
    FZ_CHECK(c.n_train <= c.n_tokens, "n_train %zu > n_tokens %zu", c.n_train, c.n_tokens);
    FZ_CHECK(c.vocab >= 1 && c.vocab <= 65536, "vocab %d", c.vocab);
    for (size_t i = 0; i < c.n_tokens; i++)
        FZ_CHECK(c.tokens[i] < c.vocab, "token %zu is %u, vocab %d", i, c.tokens[i], c.vocab);
    const int T = 4, B = 2;
    if (sl_corpus_check_ctx(&c, T, &err) == SL_OK) {
        int32_t in[B * T], tg[B * T];
        sl_sampler s;
        sl_sampler_init(&s, 1, &c, 0);
        sl_sampler_next(&s, &c, B, T, in, tg);
        size_t n = sl_eval_sequences(&c, T, 0);
        FZ_CHECK(n >= 1, "no evaluation sequence");
        sl_eval_batch(&c, T, n - 1, B, in, tg);
        for (int i = 0; i < B * T; i++)
            FZ_CHECK(in[i] >= 0 && in[i] < c.vocab && tg[i] >= 0 && tg[i] < c.vocab, "batch token");
    }
    sl_corpus_free(&c);
    return 0;
}
