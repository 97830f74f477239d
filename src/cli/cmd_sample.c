/* scalelab sample RUN|CHECKPOINT: text from a trained model, continuing a
 * prompt, seeded and reproducible (src/core/sample.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "scalelab/sample.h"

static const char *help_text =
    "usage: scalelab sample RUN|CHECKPOINT [--prompt TEXT] [--tokens K] [--temperature T] [--seed S]\n"
    "\n"
    "Prints text a trained model writes after a prompt: RUN is a run directory of a\n"
    "store (runs/SWEEP/RUN, its checkpoint.bin), CHECKPOINT a checkpoint file (one\n"
    "that scalelab train --out wrote). The tokenizer is the one the run trained\n"
    "with (byte or BPE, from the sweep's sweep.json); a checkpoint outside a store\n"
    "is read as bytes unless --tokenizer and --corpus say otherwise.\n"
    "\n"
    "  --prompt TEXT     text to continue (default: a newline)\n"
    "  --tokens K        tokens to generate (default 200, 1..100000)\n"
    "  --temperature T   0 takes the likeliest token, 1 samples the model as it is,\n"
    "                    higher is more random (default 0.8)\n"
    "  --seed S          the sampling seed; the same seed gives the same text (default 1)\n"
    "  --tokenizer K     byte or bpe:VOCAB (default: the run's)\n"
    "  --corpus PATH     the corpus the BPE was trained on (default: the run's)\n"
    "  --data-dir DIR    prepared corpora and BPE caches (default data/)\n"
    "  --quiet           only the text (no line naming the checkpoint on stderr)\n"
    "\n"
    "The prompt is not repeated: stdout holds the continuation alone.\n";

int cmd_sample(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(help_text, stdout);
        return 0;
    }
    sl_error err;
    sl_sample_opts o = {.prompt = NULL, .tokens = 200, .temperature = 0.8, .seed = 1};
    sl_textgen_source src = {0};
    const char *path = NULL;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        int missing = 0;
        const char *v;
        long l;
        if ((v = cli_flag_value(argc, argv, &i, "--prompt", &missing)))
            o.prompt = v;
        else if ((v = cli_flag_value(argc, argv, &i, "--tokens", &missing))) {
            if (cli_parse_int("--tokens", v, 1, 100000, &l, &err) != SL_OK)
                return cli_report(SL_EINPUT, &err);
            o.tokens = (int)l;
        } else if ((v = cli_flag_value(argc, argv, &i, "--temperature", &missing))) {
            if (cli_parse_double("--temperature", v, &o.temperature, &err) != SL_OK)
                return cli_report(SL_EINPUT, &err);
            if (o.temperature < 0 || o.temperature > 100)
                return cli_report(sl_fail(&err, SL_EINPUT, "--temperature: %s is out of range (expected 0..100)", v),
                                  &err);
        } else if ((v = cli_flag_value(argc, argv, &i, "--seed", &missing))) {
            if (cli_parse_int("--seed", v, 0, 2147483647L, &l, &err) != SL_OK)
                return cli_report(SL_EINPUT, &err);
            o.seed = (uint64_t)l;
        } else if ((v = cli_flag_value(argc, argv, &i, "--tokenizer", &missing)))
            src.tokenizer = v;
        else if ((v = cli_flag_value(argc, argv, &i, "--corpus", &missing)))
            src.corpus = v;
        else if ((v = cli_flag_value(argc, argv, &i, "--data-dir", &missing)))
            src.data_dir = v;
        else if (!strcmp(argv[i], "--quiet"))
            quiet = 1;
        else if (missing)
            return cli_report(sl_fail(&err, SL_EINPUT, "%s: missing value (see scalelab sample --help)", argv[i]), &err);
        else if (argv[i][0] == '-' && argv[i][1])
            return cli_report(sl_fail(&err, SL_EINPUT, "%s: unknown option (see scalelab sample --help)", argv[i]), &err);
        else if (!path)
            path = argv[i];
        else
            return cli_report(sl_fail(&err, SL_EINPUT, "%s: one RUN or CHECKPOINT only (expected scalelab sample RUN)",
                                      argv[i]),
                              &err);
    }
    if (!path)
        return cli_report(sl_fail(&err, SL_EINPUT, "RUN: missing (usage: scalelab sample RUN|CHECKPOINT)"), &err);
    sl_textgen g;
    int rc = sl_textgen_open(&g, path, &src, &err);
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
