/* scalelab sample RUN|CHECKPOINT: text from a trained model, continuing a
 * prompt, seeded and reproducible (src/core/sample.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "scalelab/sample.h"

enum { O_PROMPT = 1, O_TOKENS, O_TEMPERATURE, O_SEED, O_TOKENIZER, O_CORPUS, O_DATA_DIR, O_QUIET };

static const cli_opt sample_opts[] = {
    CLI_OPT("--prompt", "TEXT", O_PROMPT, "text to continue (default: a newline)"),
    CLI_OPT("--tokens", "K", O_TOKENS, "tokens to generate (default 200, 1..100000)"),
    CLI_OPT("--temperature", "T", O_TEMPERATURE,
            "0 takes the likeliest token, 1 samples the model as it is,\n"
            "higher is more random (default 0.8)"),
    CLI_OPT("--seed", "S", O_SEED,
            "the sampling seed; the same seed gives the same text (default 1)"),
    CLI_OPT("--tokenizer", "K", O_TOKENIZER, "byte or bpe:VOCAB (default: the run's)"),
    CLI_OPT("--corpus", "PATH", O_CORPUS, "the corpus the BPE was trained on (default: the run's)"),
    CLI_OPT("--data-dir", "DIR", O_DATA_DIR, "prepared corpora and BPE caches (default data/)"),
    CLI_FLAG("--quiet", O_QUIET, "only the text (no line naming the checkpoint on stderr)"),
    CLI_END,
};

const cli_command cli_sample_cmd = {
    "sample",
    "usage: scalelab sample RUN|CHECKPOINT [options]\n"
    "\n"
    "Prints text a trained model writes after a prompt: RUN is a run directory of a\n"
    "store (runs/SWEEP/RUN, its checkpoint.bin), CHECKPOINT a checkpoint file (one\n"
    "that scalelab train --out wrote). The tokenizer is the one the run trained\n"
    "with (byte or BPE, from the sweep's sweep.json); a checkpoint outside a store\n"
    "is read as bytes unless --tokenizer and --corpus say otherwise.\n"
    "\n",
    NULL,
    (const cli_opt *const[]){sample_opts, NULL},
    "\n"
    "The prompt is not repeated: stdout holds the continuation alone.\n",
};

int cmd_sample(int argc, char **argv)
{
    cli_args args;
    int status;
    if (cli_parse(&cli_sample_cmd, argc, argv, &args, &status))
        return status;
    sl_error err;
    sl_sample_opts o = {.prompt = NULL, .tokens = 200, .temperature = 0.8, .seed = 1};
    sl_textgen_source src = {0};
    const char *path = NULL;
    int quiet = 0, rc = SL_OK;
    for (int k = 0; k < args.n_items && rc == SL_OK; k++) {
        const char *v = args.items[k].arg;
        long l;
        switch (args.items[k].id) {
        case O_PROMPT: o.prompt = v; break;
        case O_TOKENS:
            if ((rc = cli_parse_int("--tokens", v, 1, 100000, &l, &err)) == SL_OK)
                o.tokens = (int)l;
            break;
        case O_TEMPERATURE:
            if ((rc = cli_parse_double("--temperature", v, &o.temperature, &err)) == SL_OK &&
                (o.temperature < 0 || o.temperature > 100))
                rc = sl_fail(&err, SL_EINPUT, "--temperature: %s is out of range (expected 0..100)", v);
            break;
        case O_SEED:
            if ((rc = cli_parse_int("--seed", v, 0, 2147483647L, &l, &err)) == SL_OK)
                o.seed = (uint64_t)l;
            break;
        case O_TOKENIZER: src.tokenizer = v; break;
        case O_CORPUS: src.corpus = v; break;
        case O_DATA_DIR: src.data_dir = v; break;
        case O_QUIET: quiet = 1; break;
        }
    }
    if (rc == SL_OK && args.n_pos > 1)
        rc = sl_fail(&err, SL_EINPUT, "%s: one RUN or CHECKPOINT only (expected scalelab sample RUN)",
                     args.pos[1]);
    else if (rc == SL_OK && args.n_pos == 0)
        rc = sl_fail(&err, SL_EINPUT, "RUN: missing (usage: scalelab sample RUN|CHECKPOINT)");
    else if (rc == SL_OK)
        path = args.pos[0];
    cli_args_free(&args);
    if (rc != SL_OK)
        return cli_report(rc, &err);
    sl_textgen g;
    rc = sl_textgen_open(&g, path, &src, &err);
    if (rc != SL_OK)
        return cli_report(rc, &err);
    char *text;
    size_t len;
    rc = sl_textgen_sample(&g, &o, &text, &len, &err);
    if (rc == SL_OK) {
        if (!quiet)
            fprintf(stderr, "scalelab: %s, step %ld, %s, temperature %g, seed %llu\n", g.checkpoint, g.step,
                    g.tokenizer, o.temperature, (unsigned long long)o.seed);
        fwrite(text, 1, len, stdout);
        if (len == 0 || text[len - 1] != '\n')
            fputc('\n', stdout);
        free(text);
        if (fflush(stdout) != 0)
            rc = sl_fail(&err, SL_ERUNTIME, "stdout: write failed");
    }
    sl_textgen_free(&g);
    return cli_report(rc, &err);
}
