/* sample: see sample.h. One full forward pass over the window per generated
 * token (the models are small and the window at most n_ctx); the next token
 * is drawn from the last position's logits. */
#include "scalelab/sample.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scalelab/data.h"
#include "scalelab/preset.h"
#include "scalelab/run.h"
#include "scalelab/store.h"
#include "scalelab/train.h"

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The folder a checkpoint sits in. */
static void dir_of(const char *file, char *out, size_t n)
{
    snprintf(out, n, "%s", file);
    char *slash = strrchr(out, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(out, n, ".");
}

/* The sweep's preset when run_dir is a run of a store (its parent holds
 * sweep.json); 0 when it is not, negative on a bad sweep.json. */
static int sweep_preset(const char *run_dir, sl_preset *p, sl_error *err)
{
    char sweep[1100];
    snprintf(sweep, sizeof sweep, "%s/..", run_dir);
    if (!sl_store_is_sweep(sweep))
        return 0;
    char *json = NULL;
    int rc = sl_sweep_read(sweep, &json, err);
    if (rc != SL_OK)
        return rc;
    char path[1200];
    sl_run_path(path, sizeof path, sweep, SL_SWEEP_FILE);
    rc = sl_preset_parse(p, json, path, err);
    free(json);
    return rc == SL_OK ? 1 : rc;
}

int sl_textgen_open(sl_textgen *g, const char *path, const sl_textgen_source *src, sl_error *err)
{
    memset(g, 0, sizeof *g);
    sl_textgen_source none = {0};
    if (!src)
        src = &none;
    char run_dir[1024];
    if (is_dir(path)) {
        snprintf(run_dir, sizeof run_dir, "%.1000s", path);
        snprintf(g->checkpoint, sizeof g->checkpoint, "%.1000s/" SL_RUN_CHECKPOINT_FILE, path);
        struct stat st;
        if (stat(g->checkpoint, &st) != 0)
            return sl_fail(err, SL_EINPUT, "%s: no checkpoint.bin (expected a run that has trained, or a checkpoint file)",
                           path);
    } else {
        snprintf(g->checkpoint, sizeof g->checkpoint, "%.1000s", path);
        dir_of(path, run_dir, sizeof run_dir);
    }
    int rc = sl_checkpoint_model(g->checkpoint, &g->model, &g->step, err);
    if (rc != SL_OK)
        return rc;
    sl_preset p;
    memset(&p, 0, sizeof p);
    int in_sweep = sweep_preset(run_dir, &p, err);
    if (in_sweep < 0) {
        sl_textgen_free(g);
        return in_sweep;
    }
    const char *tok = src->tokenizer ? src->tokenizer : in_sweep ? p.tokenizer : "byte";
    const char *corpus = src->corpus ? src->corpus : in_sweep ? p.corpus : NULL;
    snprintf(g->tokenizer, sizeof g->tokenizer, "%s", tok);
    int vocab = g->model.cfg.vocab;
    if (!strcmp(tok, "byte")) {
        if (vocab != 256)
            rc = sl_fail(err, SL_EINPUT,
                         "%s: vocab: the model has %d tokens, bytes are 256 (expected --tokenizer bpe:%d and its --corpus)",
                         g->checkpoint, vocab, vocab);
    } else if (!corpus) {
        rc = sl_fail(err, SL_EINPUT, "%s: --corpus: a %s model needs the corpus its BPE was trained on", g->checkpoint, tok);
    } else {
        /* the corpus load finds (or builds) the BPE cache of this corpus */
        sl_corpus c;
        sl_corpus_opts co = {0};
        if (in_sweep && !src->corpus)
            sl_preset_corpus_opts(&p, src->data_dir, &co); /* as the engine loaded it */
        co.path = corpus;
        co.tokenizer = tok;
        co.data_dir = src->data_dir;
        rc = sl_corpus_load(&c, &co, err);
        if (rc == SL_OK && c.vocab != vocab)
            rc = sl_fail(err, SL_EINPUT, "%s: vocab: the model has %d tokens, %s gives %d", g->checkpoint, vocab, tok,
                         c.vocab);
        if (rc == SL_OK && !c.cache_path[0])
            rc = sl_fail(err, SL_EINPUT, "%s: tokenizer: %s of %s has no BPE to decode with", g->checkpoint, tok,
                         c.source);
        if (rc == SL_OK)
            rc = sl_bpe_load_file(c.cache_path, &g->bpe, err);
        sl_corpus_free(&c);
    }
    if (in_sweep)
        sl_preset_free(&p);
    if (rc != SL_OK)
        sl_textgen_free(g);
    return rc;
}

void sl_textgen_free(sl_textgen *g)
{
    sl_model_free(&g->model);
    sl_bpe_free(g->bpe);
    memset(g, 0, sizeof *g);
}

/* The next token from one row of logits. */
static int32_t pick(const float *logits, int V, double temperature, sl_rng *rng)
{
    int best = 0;
    for (int i = 1; i < V; i++)
        if (logits[i] > logits[best])
            best = i;
    if (!(temperature > 0))
        return best;
    double total = 0, mx = logits[best];
    for (int i = 0; i < V; i++)
        total += exp((logits[i] - mx) / temperature);
    double u = sl_rng_uniform(rng) * total, acc = 0;
    for (int i = 0; i < V; i++) {
        acc += exp((logits[i] - mx) / temperature);
        if (u < acc)
            return i;
    }
    return best;
}

int sl_textgen_sample(sl_textgen *g, const sl_sample_opts *o, char **text, size_t *len, sl_error *err)
{
    *text = NULL;
    *len = 0;
    if (o->tokens < 1)
        return sl_fail(err, SL_EINPUT, "--tokens: %d (expected at least 1)", o->tokens);
    if (!(o->temperature >= 0) || !isfinite(o->temperature))
        return sl_fail(err, SL_EINPUT, "--temperature: %g (expected a number >= 0)", o->temperature);
    const char *prompt = o->prompt && o->prompt[0] ? o->prompt : "\n";
    size_t plen = strlen(prompt), cap = plen + (size_t)o->tokens + 1;
    int32_t *toks = sl_xmalloc(cap * sizeof *toks);
    size_t n = 0;
    if (g->bpe) {
        uint16_t *enc = sl_xmalloc((plen + 1) * sizeof *enc);
        int rc = sl_bpe_encode(g->bpe, (const uint8_t *)prompt, plen, enc, &n, err);
        for (size_t i = 0; rc == SL_OK && i < n; i++)
            toks[i] = enc[i];
        free(enc);
        if (rc != SL_OK) {
            free(toks);
            return rc;
        }
    } else {
        for (size_t i = 0; i < plen; i++)
            toks[n++] = (unsigned char)prompt[i];
    }
    const sl_config *c = &g->model.cfg;
    sl_acts *a = sl_acts_new(c, 1);
    sl_rng rng;
    sl_rng_seed(&rng, o->seed);
    size_t first = n;
    for (int k = 0; k < o->tokens; k++) {
        size_t w = n < (size_t)c->n_ctx ? n : (size_t)c->n_ctx;
        sl_model_forward(&g->model, a, toks + (n - w), NULL, 1, (int)w, 0);
        const float *row = sl_acts_logits(a) + (w - 1) * (size_t)c->vocab;
        toks[n++] = pick(row, c->vocab, o->temperature, &rng);
    }
    sl_acts_free(a);
    size_t gen = n - first;
    char *out;
    if (g->bpe) {
        uint16_t *t16 = sl_xmalloc(gen * sizeof *t16 + 1);
        for (size_t i = 0; i < gen; i++)
            t16[i] = (uint16_t)toks[first + i];
        size_t need = sl_bpe_decode(g->bpe, t16, gen, NULL, 0);
        out = sl_xmalloc(need + 1);
        *len = sl_bpe_decode(g->bpe, t16, gen, (uint8_t *)out, need);
        free(t16);
    } else {
        out = sl_xmalloc(gen + 1);
        for (size_t i = 0; i < gen; i++)
            out[i] = (char)toks[first + i];
        *len = gen;
    }
    out[*len] = 0;
    free(toks);
    *text = out;
    return SL_OK;
}
