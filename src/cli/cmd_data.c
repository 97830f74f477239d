/* cmd_data: `scalelab data prepare`: prepares a corpus, tokenizes it, and
 * prints its size, its split and the held-out byte n-gram losses that any
 * model trained on it must beat. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "scalelab/data.h"

#define NGRAM_ORDERS 5

enum { O_DATA = 1, O_TEXT, O_TOKENIZER, O_FORMAT, O_TEST_FRAC, O_DATA_DIR };

static const cli_opt data_opts[] = {
    CLI_HEADING("options:\n"),
    CLI_OPT("--data", "PATH", O_DATA,
            "the corpus: a UTF-8 text file, a folder of .txt files\n"
            "(concatenated in name order), an llm.c .bin token shard,\n"
            "a folder of .bin shards (files named *val* are the test\n"
            "part; llm.c shards or nanoGPT's headerless uint16\n"
            "train.bin/val.bin), debian (the default), debian:SRC,...\n"
            "(some of its sources: gcide, wordnet, perl, python,\n"
            "fortunes, bible), or kjv (the King James text as one book)"),
    CLI_OPT("--text", "FILE", O_TEXT, "the same as --data"),
    CLI_OPT("--tokenizer", "T", O_TOKENIZER,
            "byte (the default; vocab 256) or bpe:VOCAB, a byte-level\n"
            "BPE with VOCAB 257..65535 trained on the train part and\n"
            "cached in DIR"),
    CLI_OPT("--format", "F", O_FORMAT,
            "how .bin files are read: auto (the default: llm.c shards\n"
            "by their magic, anything else raw uint16) or raw-u16"),
    CLI_OPT("--test-frac", "F", O_TEST_FRAC,
            "the fraction held out as the test part, 0 < F < 1\n"
            "(default 0.05): the last F of a text, F of each\n"
            "source's bytes in whole documents for debian"),
    CLI_OPT("--data-dir", "DIR", O_DATA_DIR,
            "where prepared corpora and tokenizer caches live\n"
            "(default $SCALELAB_DATA, else data/ of the checkout the\n"
            "binary is in, else ~/.cache/scalelab)"),
    CLI_END,
};

const cli_command cli_data_cmd = {
    "data prepare",
    "usage: scalelab data prepare [options]\n"
    "\n"
    "Prepares a corpus, tokenizes it, and prints its size, its train/test split\n"
    "and the held-out loss of byte n-gram models (n = 1..5, add-k smoothing with\n"
    "k tuned on the train part): floors any model must beat. The default corpus,\n"
    "debian, is read from six Debian packages (dict-gcide, wordnet-base,\n"
    "perl-doc, python3-doc, fortunes, bible-kjv), its markup stripped, cut into\n"
    "documents, shuffled with a fixed seed and split per source; it is written\n"
    "to DIR/debian/ with a manifest.json, and each source's size, documents,\n"
    "test bytes and n-gram floors are printed (docs/CORPUS.md).\n"
    "\n",
    NULL,
    (const cli_opt *const[]){data_opts, NULL},
    "\n"
    "Exit status: 0 ok, 1 runtime failure, 2 bad input.\n",
};

static int check_tokenizer(const char *s, sl_error *err)
{
    int vocab;
    sl_error e;
    return sl_tokenizer_parse(s, &vocab, &e) ? sl_fail(err, SL_EINPUT, "--tokenizer: %s", e.msg) : SL_OK;
}

static void print_report(const sl_corpus *c)
{
    size_t n_test = c->n_tokens - c->n_train;
    printf("source      %s\n", c->source);
    if (c->n_bytes > 0)
        printf("size        %zu bytes, %zu tokens (%.3f bytes per token)\n", c->n_bytes, c->n_tokens,
               (double)c->n_bytes / (double)c->n_tokens);
    else
        printf("size        %zu tokens\n", c->n_tokens);
    printf("split       train %zu tokens, test %zu tokens (%.2f%% held out %s)\n", c->n_train, n_test,
           100.0 * (double)n_test / (double)c->n_tokens,
           c->n_sources > 0 ? "in whole documents of every source" : "at the end");
    if (c->format[0] && strcmp(c->format, "text"))
        printf("format      %s\n", c->format);
    printf("tokenizer   %s (vocab %d)\n", c->tokenizer, c->vocab);
    if (c->cache_state != SL_CACHE_NONE) {
        const char *what = c->cache_state == SL_CACHE_LOADED     ? "loaded from"
                           : c->cache_state == SL_CACHE_TRAINED  ? "trained, saved to"
                           : c->cache_state == SL_CACHE_REPAIRED ? "cache was corrupt; retrained, saved to"
                                                                 : "trained, not saved to";
        printf("bpe         %s %s in %.2f s; encoded in %.2f s\n", what, c->cache_path, c->bpe_seconds,
               c->encode_seconds);
        if (c->cache_note[0])
            printf("bpe note    %s\n", c->cache_note);
    }
}

static void print_sources(const sl_corpus *c)
{
    const sl_manifest *m = &c->manifest;
    printf("manifest    %s/manifest.json (hash %s, seed %llu)\n", m->dir, m->hash,
           (unsigned long long)m->seed);
    printf("\n  source    kind        package       version            raw MB  clean MB     docs  test docs  test bytes\n");
    size_t raw = 0, clean = 0, docs = 0, tdocs = 0, tbytes = 0;
    for (int i = 0; i < m->n_sources; i++) {
        const sl_source_info *s = &m->src[i];
        printf("  %-9s %-11s %-13s %-17s %7.1f %9.1f %8zu %10zu %11zu\n", s->name, s->kind, s->package,
               s->version[0] ? s->version : "-", s->raw_bytes / 1e6,
               (s->train_bytes + s->test_bytes) / 1e6, s->docs, s->test_docs, s->test_bytes);
        raw += s->raw_bytes;
        clean += s->train_bytes + s->test_bytes;
        docs += s->docs;
        tdocs += s->test_docs;
        tbytes += s->test_bytes;
    }
    printf("  %-9s %-11s %-13s %-17s %7.1f %9.1f %8zu %10zu %11zu\n\n", "total", "", "", "", raw / 1e6,
           clean / 1e6, docs, tdocs, tbytes);
}

static int prepare(const sl_corpus_opts *o)
{
    sl_error err;
    int rc;
    const char *path = o->path;
    double t_prep = 0;
    if (!path || !strcmp(path, "kjv")) {
        char out[4096];
        if (path) {
            rc = sl_data_prepare_default(o->data_dir, out, sizeof out, &err);
            if (rc)
                return cli_report(rc, &err);
        }
    }
    if (!path || (strcmp(path, "kjv") && sl_corpus_is_named(path))) {
        /* always prepared afresh: the packages may have changed */
        sl_prepare_opts po = {.data_dir = o->data_dir, .test_frac = o->test_frac};
        sl_manifest m;
        if (isatty(STDERR_FILENO))
            fprintf(stderr, "scalelab: reading the Debian text packages...\r");
        double t0 = sl_now();
        rc = sl_corpus_prepare(path ? path : SL_CORPUS_DEFAULT, &po, &m, &err);
        t_prep = sl_now() - t0;
        if (isatty(STDERR_FILENO))
            fprintf(stderr, "%50s\r", "");
        if (rc)
            return cli_report(rc, &err);
    }
    sl_corpus c;
    rc = sl_corpus_load(&c, o, &err);
    if (rc)
        return cli_report(rc, &err);
    print_report(&c);
    if (c.has_manifest) {
        printf("prepared    in %.1f s (read, strip, cut, shuffle, split, write)\n", t_prep);
        print_sources(&c);
    }
    if (!c.bytes) {
        printf("\nbyte n-gram baselines: not available for token shards (no text)\n");
        sl_corpus_free(&c);
        return 0;
    }
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "scalelab: counting byte n-grams...\r");
    int np = c.n_sources > 1 ? c.n_sources : 0;
    double loss[NGRAM_ORDERS * (SL_MAX_SOURCES + 1)], k[NGRAM_ORDERS];
    size_t ps[SL_MAX_SOURCES], pl[SL_MAX_SOURCES];
    for (int i = 0; i < np; i++) {
        ps[i] = c.src[i].btest_start;
        pl[i] = c.src[i].btest_len;
    }
    double t0 = sl_now();
    rc = sl_ngram_heldout_parts(c.bytes, c.n_train_bytes, c.n_bytes, NGRAM_ORDERS, ps, pl, np, loss, k,
                                &err);
    double dt = sl_now() - t0;
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "%40s\r", "");
    if (rc) {
        /* Too short to score n-grams is too short to train on, too. */
        sl_error e2;
        sl_fail(&e2, rc, "%s: %s", c.source, err.msg);
        sl_corpus_free(&c);
        return cli_report(rc, &e2);
    }
    int per_token = c.cache_state != SL_CACHE_NONE;
    /* Test bytes per test token: converts nats per byte to nats per token. */
    double bpt = (double)(c.n_bytes - c.n_train_bytes) / (double)(c.n_tokens - c.n_train);
    printf("\nheld-out loss of byte n-gram models on the test part (add-k, k tuned on the\n"
           "train part; %.1f s), floors any model must beat:\n",
           dt);
    printf("  n  k          nats/byte  bits/byte%s\n", per_token ? "  nats/token" : "");
    for (int n = 1; n <= NGRAM_ORDERS; n++) {
        double l = loss[(n - 1) * (np + 1)];
        printf("  %d  %-9.3g  %9.4f  %9.4f", n, k[n - 1], l, l / 0.6931471805599453);
        if (per_token)
            printf("  %10.4f", l * bpt);
        printf("\n");
    }
    if (np > 0) {
        printf("\nper source (the same models, each source's test documents), bits/byte:\n  n ");
        for (int i = 0; i < np; i++)
            printf(" %9s", c.src[i].name);
        printf("\n");
        for (int n = 1; n <= NGRAM_ORDERS; n++) {
            printf("  %d ", n);
            for (int i = 0; i < np; i++)
                printf(" %9.4f", loss[(n - 1) * (np + 1) + 1 + i] / 0.6931471805599453);
            printf("\n");
        }
    }
    sl_corpus_free(&c);
    return 0;
}

int cmd_data(int argc, char **argv)
{
    sl_error err;
    if (argc < 2)
        return cli_report(sl_fail(&err, SL_EINPUT,
                                  "data: missing sub-command (expected prepare; see scalelab data --help)"),
                          &err);
    if (strcmp(argv[1], "prepare") != 0 && argv[1][0] != '-')
        return cli_report(sl_fail(&err, SL_EINPUT,
                                  "data: %s: unknown sub-command (expected prepare; see scalelab data --help)",
                                  argv[1]),
                          &err);
    /* `data --help` is the help of `data prepare`, its only sub-command */
    int prep = argv[1][0] != '-';
    cli_args args;
    int status;
    if (cli_parse(&cli_data_cmd, argc - prep, argv + prep, &args, &status))
        return status;
    if (!prep) {
        cli_args_free(&args);
        return cli_report(sl_fail(&err, SL_EINPUT,
                                  "data: missing sub-command (expected prepare; see scalelab data --help)"),
                          &err);
    }
    sl_corpus_opts o = {0};
    int rc = SL_OK;
    for (int k = 0; k < args.n_items && rc == SL_OK; k++) {
        const char *v = args.items[k].arg;
        switch (args.items[k].id) {
        case O_DATA:
        case O_TEXT:
            if (!*v)
                rc = sl_fail(&err, SL_EINPUT, "--data: empty path (expected a corpus path, debian or kjv)");
            o.path = v;
            break;
        case O_TOKENIZER:
            rc = check_tokenizer(v, &err);
            o.tokenizer = v;
            break;
        case O_FORMAT:
            if (!strcmp(v, "raw-u16"))
                o.format = SL_FORMAT_RAW_U16;
            else if (strcmp(v, "auto"))
                rc = sl_fail(&err, SL_EINPUT, "--format: '%s' (expected auto or raw-u16)", v);
            break;
        case O_TEST_FRAC: {
            double f;
            if ((rc = cli_parse_double("--test-frac", v, &f, &err)) == SL_OK && !(f > 0 && f < 1))
                rc = sl_fail(&err, SL_EINPUT, "--test-frac: %s is out of range (expected 0 < F < 1)", v);
            o.test_frac = f;
            break;
        }
        case O_DATA_DIR:
            if (!*v)
                rc = sl_fail(&err, SL_EINPUT, "--data-dir: empty path (expected a directory)");
            o.data_dir = v;
            break;
        }
    }
    if (rc == SL_OK && args.n_pos > 0)
        rc = sl_fail(&err, SL_EINPUT, "%s: unexpected argument (see scalelab data prepare --help)",
                     args.pos[0]);
    cli_args_free(&args);
    if (rc != SL_OK)
        return cli_report(rc, &err);
    return prepare(&o);
}
