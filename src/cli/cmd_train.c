/* scalelab train: one run of one model, with a progress bar on a terminal and
 * plain lines otherwise. With --out DIR it appends metric rows to
 * DIR/metrics.csv, checkpoints to DIR/checkpoint.bin at every evaluation, and
 * resumes from that checkpoint when it is run again. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "scalelab/data.h"
#include "scalelab/machine.h"
#include "scalelab/run.h"
#include "scalelab/sigpipe.h"
#include "scalelab/train.h"

enum {
    O_LAYERS = 1, O_D_MODEL, O_HEADS, O_D_FF, O_CTX, O_DATA, O_FORMAT, O_TOKENIZER, O_TEST_FRAC,
    O_DATA_TOKENS, O_DATA_DIR, O_BATCH, O_STEPS, O_TOKENS, O_LR, O_WARMUP, O_SCHEDULE,
    O_WEIGHT_DECAY, O_CLIP, O_EVAL_EVERY, O_EVAL_TOKENS, O_SEED, O_THREADS, O_ANY_THREADS, O_OUT,
    O_QUIET, O_PRECISION
};

static const cli_opt train_opts[] = {
    CLI_HEADING("model:\n"),
    CLI_OPT("--layers", "L", O_LAYERS, "blocks (default 4)"),
    CLI_OPT("--d-model", "D", O_D_MODEL, "width (default 128)"),
    CLI_OPT("--heads", "H", O_HEADS, "attention heads; must divide D (default 4)"),
    CLI_OPT("--d-ff", "F", O_D_FF, "MLP width (default 4*D)"),
    CLI_OPT("--ctx", "T", O_CTX, "context length (default 128)"),
    CLI_HEADING("data:\n"),
    CLI_OPT("--data", "PATH", O_DATA,
            "text file, folder of .txt, .bin file(s) (llm.c shards or\n"
            "nanoGPT's raw uint16), debian (the default), debian:SRC,...\n"
            "or kjv"),
    CLI_OPT("--format", "F", O_FORMAT,
            ".bin files: auto (default; llm.c by its magic, else raw\n"
            "uint16) or raw-u16"),
    CLI_OPT("--tokenizer", "K", O_TOKENIZER, "byte (default) or bpe:VOCAB (257..65535)"),
    CLI_OPT("--test-frac", "F", O_TEST_FRAC,
            "fraction held out (default 0.05): the end of a text, whole\n"
            "documents of each source for debian"),
    CLI_OPT("--data-tokens", "D", O_DATA_TOKENS,
            "train on a D-token subset of the train part only (at most\n"
            "its size; for debian: random documents of every source,\n"
            "nested in D)"),
    CLI_OPT("--data-dir", "DIR", O_DATA_DIR,
            "prepared corpora and tokenizer caches (default\n"
            "$SCALELAB_DATA, else data/ of the checkout, else\n"
            "~/.cache/scalelab)"),
    CLI_HEADING("training:\n"),
    CLI_OPT("--batch", "B", O_BATCH, "sequences per step (default 16)"),
    CLI_OPT("--steps", "S", O_STEPS, "optimizer steps (default 6000)"),
    CLI_OPT("--tokens", "N", O_TOKENS, "train for N tokens instead (steps = N / (B*T))"),
    CLI_OPT("--lr", "X|auto", O_LR, "peak learning rate; auto = 0.003239 - 0.0001395 ln N (default)"),
    CLI_OPT("--warmup", "S", O_WARMUP, "warmup steps (default: 10% of steps, at most 3000)"),
    CLI_OPT("--schedule", "K", O_SCHEDULE, "cosine (default), constant or linear"),
    CLI_OPT("--weight-decay", "X", O_WEIGHT_DECAY, "AdamW decay on weight matrices (default 0.1)"),
    CLI_OPT("--clip", "X", O_CLIP, "global gradient-norm clip, 0 for none (default 1.0)"),
    CLI_OPT("--precision", "P", O_PRECISION,
            "fp32 (default) or bf16: the weight products' precision (bf16:\n"
            "operands rounded, fp32 accumulation, on CPUs with AVX512_BF16\n"
            "or AMX); a resume keeps the checkpoint's"),
    CLI_OPT("--eval-every", "S", O_EVAL_EVERY, "steps between evaluations (default 100)"),
    CLI_OPT("--eval-tokens", "N", O_EVAL_TOKENS, "held-out tokens per evaluation (default 32768)"),
    CLI_OPT("--seed", "S", O_SEED, "initialisation and sampling seed (default 1)"),
    CLI_OPT("--threads", "K", O_THREADS,
            "threads for this run (default: the CPUs this process may\n"
            "use; when resuming, the threads of the checkpoint)"),
    CLI_FLAG("--any-threads", O_ANY_THREADS,
             "resume on --threads K though the checkpoint was made on\n"
             "another count (refused without it: the numbers are then no\n"
             "longer bitwise those of an uninterrupted run)"),
    CLI_HEADING("output:\n"),
    CLI_OPT("--out", "DIR", O_OUT, "write DIR/metrics.csv and DIR/checkpoint.bin; resume from it"),
    CLI_FLAG("--quiet", O_QUIET, "no progress, only the final line"),
    CLI_END,
};

const cli_command cli_train_cmd = {
    "train",
    "usage: scalelab train [options]\n"
    "\n"
    "Trains one decoder-only Transformer and reports the held-out loss.\n"
    "\n",
    NULL,
    (const cli_opt *const[]){train_opts, NULL},
    "\n"
    "Progress goes to stderr (a bar on a terminal, a line per evaluation otherwise);\n"
    "the final result goes to stdout. Ctrl-C stops after the current step and, with\n"
    "--out, saves a checkpoint that the same command resumes.\n",
};

static int parse_args(const cli_args *args, sl_train_opts *o, sl_corpus_opts *co,
                      const char **out_dir, int *quiet, sl_error *err)
{
    long v = 0;
    double x;
    long tokens = 0;
    int rc;
    int heads_set = 0, dff_set = 0, steps_set = 0;
    if (args->n_pos > 0)
        return sl_fail(err, SL_EINPUT, "%s: unexpected argument (see scalelab train --help)",
                       args->pos[0]);
    for (int k = 0; k < args->n_items; k++) {
        const char *a = args->items[k].name, *s = args->items[k].arg;
        int id = args->items[k].id;
        /* the integer options and their ranges */
        static const struct {
            int id;
            long lo, hi;
        } ints[] = {
            {O_LAYERS, 1, 1024},           {O_D_MODEL, 1, 65536},
            {O_CTX, 1, 65536},             {O_BATCH, 1, 65536},
            {O_STEPS, 1, 1000000000L},     {O_WARMUP, 0, 1000000000L},
            {O_EVAL_EVERY, 0, 1000000000L}, {O_EVAL_TOKENS, 1, 1000000000L},
            {O_SEED, 0, 0x7fffffffffffffffL}, {O_THREADS, 1, 256},
            {O_DATA_TOKENS, 1, 0x7fffffffffffffffL}, {O_TOKENS, 1, 0x7fffffffffffffffL},
            {O_HEADS, 1, 65536},           {O_D_FF, 1, 1 << 20},
        };
        for (size_t j = 0; j < sizeof ints / sizeof ints[0]; j++)
            if (ints[j].id == id && (rc = cli_parse_int(a, s, ints[j].lo, ints[j].hi, &v, err)))
                return rc;
        switch (id) {
        case O_LAYERS: o->model.n_layer = (int)v; break;
        case O_D_MODEL: o->model.d_model = (int)v; break;
        case O_CTX: o->model.n_ctx = (int)v; break;
        case O_BATCH: o->batch = (int)v; break;
        case O_STEPS: o->steps = v; steps_set = 1; break;
        case O_WARMUP: o->warmup = v; break;
        case O_EVAL_EVERY: o->eval_every = v; break;
        case O_EVAL_TOKENS: o->eval_tokens = (size_t)v; break;
        case O_SEED: o->seed = (uint64_t)v; break;
        case O_THREADS: o->threads = (int)v; break;
        case O_DATA_TOKENS: o->data_limit = v; break;
        case O_TOKENS: tokens = v; break;
        case O_HEADS: o->model.n_head = (int)v; heads_set = 1; break;
        case O_D_FF: o->model.d_ff = (int)v; dff_set = 1; break;
        case O_QUIET: *quiet = 1; break;
        case O_ANY_THREADS: o->any_threads = 1; break;
        case O_LR:
            if (!strcmp(s, "auto"))
                o->lr = 0;
            else if ((rc = cli_parse_double(a, s, &x, err)))
                return rc;
            else if (!(x > 0 && x <= 10))
                return sl_fail(err, SL_EINPUT, "--lr: %g is out of range (expected 0 < lr <= 10 or auto)", x);
            else
                o->lr = x;
            break;
        case O_WEIGHT_DECAY:
        case O_CLIP:
            if ((rc = cli_parse_double(a, s, &x, err)))
                return rc;
            if (x < 0)
                return sl_fail(err, SL_EINPUT, "%s: %g is negative (expected >= 0)", a, x);
            *(id == O_WEIGHT_DECAY ? &o->weight_decay : &o->clip) = x;
            break;
        case O_TEST_FRAC:
            if ((rc = cli_parse_double(a, s, &x, err)))
                return rc;
            if (!(x > 0 && x < 1))
                return sl_fail(err, SL_EINPUT, "--test-frac: %g is out of range (expected 0 < F < 1)", x);
            co->test_frac = x;
            break;
        case O_SCHEDULE:
            if ((rc = sl_schedule_parse(s, &o->schedule, err)))
                return rc;
            break;
        case O_PRECISION: {
            int p = sl_precision_from_name(s);
            if (p < 0)
                return sl_fail(err, SL_EINPUT, "--precision: '%s' is not a precision (expected fp32 or bf16)", s);
            o->precision = (sl_precision)p;
            break;
        }
        case O_DATA: co->path = s; break;
        case O_FORMAT:
            if (!strcmp(s, "raw-u16"))
                co->format = SL_FORMAT_RAW_U16;
            else if (strcmp(s, "auto"))
                return sl_fail(err, SL_EINPUT, "--format: '%s' (expected auto or raw-u16)", s);
            break;
        case O_TOKENIZER: {
            int vocab;
            sl_error e;
            if (sl_tokenizer_parse(s, &vocab, &e))
                return sl_fail(err, SL_EINPUT, "--tokenizer: %s", e.msg);
            co->tokenizer = s;
            break;
        }
        case O_DATA_DIR: co->data_dir = s; break;
        case O_OUT: *out_dir = s; break;
        }
    }
    if (!heads_set && o->model.d_model % o->model.n_head != 0)
        o->model.n_head = 1;
    if (!dff_set)
        o->model.d_ff = 4 * o->model.d_model;
    if (tokens > 0) {
        if (steps_set)
            return sl_fail(err, SL_EINPUT, "--tokens: given with --steps (expected one of them)");
        long per = (long)o->batch * o->model.n_ctx;
        long steps = tokens / per + (tokens % per != 0);
        if (steps > 1000000000L)
            return sl_fail(err, SL_EINPUT,
                           "--tokens: %ld tokens is %ld steps of %ld (expected at most 1e9 steps)",
                           tokens, steps, per);
        o->steps = steps;
    }
    return SL_OK;
}

typedef struct {
    int tty, quiet;
    long total_steps;
    double tokens_per_step;
    double t_start;
    long step_start;
    double last_test;
    long row_step;      /* the step of the latest row */
    int has_row;
    sl_metric_row row;  /* the latest row: the final line reports it */
} progress;

static void draw_bar(progress *p, long step, double loss)
{
    double el = sl_now() - p->t_start;
    double tps = el > 0 ? (step - p->step_start) * p->tokens_per_step / el : 0;
    double eta = step > p->step_start ? el / (step - p->step_start) * (p->total_steps - step) : NAN;
    char etab[32];
    sl_fmt_duration(etab, sizeof etab, eta, "--");
    int width = 30, fill = (int)(width * (double)step / p->total_steps);
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '-';
    bar[width] = 0;
    fprintf(stderr, "\r[%s] %3.0f%% step %ld/%ld  %.1fk tok/s  loss %.3f  test %.3f  ETA %s  ", bar,
            100.0 * step / p->total_steps, step, p->total_steps, tps / 1e3, loss, p->last_test,
            etab);
    fflush(stderr);
}

/* Ctrl-C or SIGTERM (the self-pipe of sigpipe.h) stops after the current step */
static int should_stop(void *user)
{
    (void)user;
    return sl_sigpipe_last() != 0;
}

static int on_row(void *user, const sl_metric_row *row, double extra, sl_error *err)
{
    (void)extra;
    (void)err;
    progress *p = user;
    p->last_test = row->test_loss;
    p->row = *row;
    p->has_row = 1;
    p->row_step = row->step;
    if (row->step == 0) {
        p->t_start = sl_now(); /* the speed counts training steps only */
        return 0;
    }
    if (!p->tty && !p->quiet) {
        double el = sl_now() - p->t_start;
        fprintf(stderr,
                "step %ld/%ld tokens %.0f train %.4f test %.4f lr %.3g grad_norm %.3f "
                "tok/s %.0f\n",
                row->step, p->total_steps, row->tokens, row->train_loss, row->test_loss, row->lr,
                row->grad_norm,
                el > 0 ? (row->step - p->step_start) * p->tokens_per_step / el : 0);
    }
    return 0;
}

static void on_step(void *user, const sl_trainer *t, double seconds)
{
    (void)seconds;
    progress *p = user;
    long step = sl_trainer_steps_done(t);
    if (p->tty && (p->row_step == step || step % 5 == 0))
        draw_bar(p, step, sl_trainer_last_loss(t));
}

int cmd_train(int argc, char **argv)
{
    cli_args args;
    int status;
    if (cli_parse(&cli_train_cmd, argc, argv, &args, &status))
        return status;
    sl_error err = {{0}};
    sl_train_opts o;
    sl_train_defaults(&o);
    o.model = (sl_config){4, 128, 4, 512, 128, 256};
    o.steps = 6000;
    o.threads = sl_cpus_available();
    sl_corpus_opts co = {0};
    const char *out_dir = NULL;
    int quiet = 0;
    int rc = parse_args(&args, &o, &co, &out_dir, &quiet, &err);
    int threads_set = cli_given(&args, O_THREADS), precision_set = cli_given(&args, O_PRECISION);
    cli_args_free(&args);
    if (rc)
        return cli_report(rc, &err);
    if ((rc = sl_config_validate(&(sl_config){o.model.n_layer, o.model.d_model, o.model.n_head,
                                              o.model.d_ff, o.model.n_ctx, 256},
                                 &err)))
        return cli_report(rc, &err);

    /* a resume trains on the checkpoint's threads unless --threads says
     * otherwise; another count needs --any-threads (sl_trainer_load) */
    sl_checkpoint_info ci = {0};
    char ck[1300] = "";
    if (out_dir) {
        sl_run_path(ck, sizeof ck, out_dir, SL_RUN_CHECKPOINT_FILE);
        int have = access(ck, F_OK) == 0 && sl_checkpoint_peek(ck, &ci, &err) == SL_OK;
        if (have && !threads_set && ci.threads >= 1 && ci.threads <= 256)
            o.threads = ci.threads;
        if (have && !precision_set)
            o.precision = ci.precision;
    }

    sl_corpus corpus;
    if ((rc = sl_corpus_load(&corpus, &co, &err)))
        return cli_report(rc, &err);
    o.model.vocab = corpus.vocab;
    sl_trainer *t;
    if ((rc = sl_trainer_new(&t, &o, &corpus, &err))) {
        sl_corpus_free(&corpus);
        return cli_report(rc, &err);
    }

    progress pr = {0};
    pr.quiet = quiet;
    pr.tty = isatty(2) && !quiet;
    pr.total_steps = o.steps;
    pr.tokens_per_step = (double)o.batch * o.model.n_ctx;
    pr.last_test = NAN;
    sl_run_dir dir, *d = NULL;
    int stopped = 0;
    if (out_dir) {
        /* the corpus a resumed run continues on is the one it started on:
         * checked before the directory is touched, recorded once it exists */
        if (access(out_dir, F_OK) == 0 && (rc = sl_corpus_record_check(out_dir, &corpus, &err)))
            goto done;
        if ((rc = sl_run_dir_open(&dir, out_dir, t, NULL, &err)))
            goto done;
        d = &dir;
        if ((rc = sl_corpus_record_check(out_dir, &corpus, &err)))
            goto done;
        if (dir.note[0])
            fprintf(stderr, "scalelab: %s\n", dir.note);
        int nthr = o.threads < o.batch ? o.threads : o.batch;
        if (dir.resumed && ci.threads != nthr)
            fprintf(stderr,
                    "scalelab: %s: threads: resumed on %d threads, trained on %d: the numbers are no "
                    "longer bitwise those of an uninterrupted run\n",
                    dir.checkpoint, nthr, ci.threads);
        if (dir.resumed && !quiet)
            fprintf(stderr, "scalelab: resuming %s at step %ld\n", dir.checkpoint,
                    sl_trainer_steps_done(t));
    }

    sl_counts k = sl_model_counts(&o.model);
    if (!quiet)
        fprintf(stderr,
                "scalelab: %s (%s, %zu train / %zu test tokens); L=%d d=%d heads=%d ctx=%d "
                "batch=%d; N=%.0f (total %.0f); %ld steps; %d threads; %s\n",
                corpus.source, corpus.tokenizer, corpus.n_train, corpus.n_tokens - corpus.n_train,
                o.model.n_layer, o.model.d_model, o.model.n_head, o.model.n_ctx, o.batch,
                k.n_kaplan, k.n_total, o.steps, o.threads < o.batch ? o.threads : o.batch,
                sl_precision_name(o.precision));

    static const int sigs[] = {SIGINT, SIGTERM};
    sl_sigpipe_open(sigs, 2);

    pr.t_start = sl_now();
    pr.step_start = sl_trainer_steps_done(t);
    sl_run_hooks h = {should_stop, NULL, on_row, on_step, &pr};
    rc = sl_run_dir_train(d, t, &h, &stopped, &err);
    if (rc == SL_OK && !pr.has_row)
        sl_trainer_row(t, &pr.row); /* resumed a finished run: report it */
    if (pr.tty)
        fputc('\n', stderr);
    if (rc == SL_OK && stopped) {
        if (d)
            fprintf(stderr, "scalelab: stopped at step %ld; checkpoint %s (run the same command to resume)\n",
                    sl_trainer_steps_done(t), dir.checkpoint);
        else
            fprintf(stderr, "scalelab: stopped at step %ld\n", sl_trainer_steps_done(t));
    }
    if (rc == SL_OK && !stopped) {
        const sl_metric_row *row = &pr.row;
        double el = sl_now() - pr.t_start;
        printf("final: step %ld test_loss %.4f nats/token (%.4f bits/token, %.4f bits/byte) train_loss "
               "%.4f tokens %.0f flops %.3e wall %.1fs tok/s %.0f\n",
               row->step, row->test_loss, row->test_loss / log(2.0), row->test_bpb, row->train_loss, row->tokens,
               row->flops, row->wall_s,
               el > 0 ? (sl_trainer_steps_done(t) - pr.step_start) * pr.tokens_per_step / el : 0);
    }
done:
    if (d) {
        sl_error e2;
        int crc = sl_run_dir_close(d, rc == SL_OK ? &err : &e2);
        if (rc == SL_OK)
            rc = crc;
    }
    sl_trainer_free(t);
    sl_corpus_free(&corpus);
    if (rc == SL_OK && stopped)
        return 130;
    return cli_report(rc, &err);
}
