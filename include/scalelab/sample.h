/* sample: text from a trained model. Opens a run directory (or a checkpoint
 * file) with the tokenizer it was trained with, and continues a prompt token
 * by token with the model's forward pass, at a temperature, from a seed, so
 * the same call gives the same text. Called by `scalelab sample` and by the
 * lab (from a thread of its own; a generator is used by one thread at a time).
 * Never prints. */
#ifndef SCALELAB_SAMPLE_H
#define SCALELAB_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "scalelab/bpe.h"
#include "scalelab/model.h"
#include "scalelab/util.h"

/* Where the tokenizer comes from. With a run directory (or a checkpoint in
 * one) its sweep's sweep.json names the corpus and tokenizer; these override
 * that, or supply it for a checkpoint that stands alone. */
typedef struct {
    const char *corpus;    /* NULL: the sweep's */
    const char *tokenizer; /* "byte" or "bpe:VOCAB"; NULL: the sweep's, or byte */
    const char *data_dir;  /* prepared corpora and BPE caches; NULL: the default */
} sl_textgen_source;

typedef struct {
    sl_model model;
    sl_bpe *bpe;           /* NULL: bytes */
    long step;             /* steps the checkpoint had trained */
    char checkpoint[1024];
    char tokenizer[32];
} sl_textgen;

/* path: a run directory (its checkpoint.bin) or a checkpoint file. A BPE
 * model needs its corpus (loaded to find its BPE cache, which it builds when
 * missing). SL_EINPUT naming the file: no checkpoint, a damaged one, a
 * tokenizer that does not match the model's vocabulary. */
int sl_textgen_open(sl_textgen *g, const char *path, const sl_textgen_source *src, sl_error *err);
void sl_textgen_free(sl_textgen *g);

typedef struct {
    const char *prompt;  /* text to continue; NULL or "": a newline */
    int tokens;          /* tokens to generate (>= 1) */
    double temperature;  /* > 0: softmax(logits / T) draws; 0: the likeliest token */
    uint64_t seed;
} sl_sample_opts;

/* The generated continuation (without the prompt) as malloc'd bytes with a
 * terminating NUL (*len excludes it). A model sees at most n_ctx tokens: a
 * longer text slides the window. */
int sl_textgen_sample(sl_textgen *g, const sl_sample_opts *o, char **text, size_t *len, sl_error *err);

#endif
