/* Fuzzes the preset reader: parse, plan against a corpus, and the round trips
 * the run store relies on (the resolved preset reads back and resolves to the
 * same text, each run's config.json reads back to the same run). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "scalelab/preset.h"

static sl_corpus corpus;

static void corpus_init(void)
{
    if (corpus.tokens)
        return;
    corpus.n_tokens = 1u << 20;
    corpus.n_train = corpus.n_tokens - corpus.n_tokens / 20;
    corpus.tokens = calloc(corpus.n_tokens, sizeof *corpus.tokens);
    if (!corpus.tokens)
        abort();
    for (size_t i = 0; i < corpus.n_tokens; i++)
        corpus.tokens[i] = (uint16_t)(i * 7 % 256);
    corpus.vocab = 256;
    snprintf(corpus.source, sizeof corpus.source, "fuzz-corpus");
    snprintf(corpus.tokenizer, sizeof corpus.tokenizer, "byte");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    corpus_init();
    char *text = fz_text(data, size);
    sl_preset p;
    sl_error err = {{0}};
    int rc = sl_preset_parse(&p, text, "fuzz.json", &err);
    fz_check_message(rc, &err);
    free(text);
    if (rc)
        return 0;
    char *resolved = sl_preset_resolved_json(&p);
    FZ_CHECK(resolved != NULL, "no resolved preset");
    sl_preset q;
    rc = sl_preset_parse(&q, resolved, "sweep.json", &err);
    FZ_CHECK(rc == SL_OK, "the resolved preset does not read back: %s\n%s", err.msg, resolved);
    char *again = sl_preset_resolved_json(&q);
    FZ_CHECK(again && !strcmp(again, resolved), "resolving twice gives another text:\n%s\n%s",
             resolved, again ? again : "(null)");
    free(again);
    sl_preset_free(&q);
    free(resolved);

    rc = sl_preset_plan(&p, &corpus, &err);
    fz_check_message(rc, &err);
    if (rc == SL_OK) {
        FZ_CHECK(p.n_runs > 0, "a plan without runs");
        for (int i = 0; i < p.n_runs; i++) {
            char *json = sl_run_spec_to_json(&p.runs[i]);
            FZ_CHECK(json != NULL, "run %d: no config.json", i);
            sl_run_spec r;
            rc = sl_run_spec_from_json(&r, json, "config.json", &err);
            FZ_CHECK(rc == SL_OK, "run %d: config.json does not read back: %s\n%s", i, err.msg, json);
            char *json2 = sl_run_spec_to_json(&r);
            FZ_CHECK(json2 && !strcmp(json, json2), "run %d: config.json changes on a round trip", i);
            free(json2);
            free(json);
        }
    }
    sl_preset_free(&p);
    return 0;
}
