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

static const char *help_text =
    "usage: scalelab train [options]\n"
    "\n"
    "Trains one decoder-only Transformer and reports the held-out loss.\n"
    "\n"
    "model:\n"
    "  --layers L        blocks (default 4)\n"
    "  --d-model D       width (default 128)\n"
    "  --heads H         attention heads; must divide D (default 4)\n"
    "  --d-ff F          MLP width (default 4*D)\n"
    "  --ctx T           context length (default 128)\n"
    "data:\n"
    "  --data PATH       text file, folder of .txt, .bin file(s) (llm.c shards or\n"
    "                    nanoGPT's raw uint16), debian (the default), debian:SRC,...\n"
    "                    or kjv\n"
    "  --format F        .bin files: auto (default; llm.c by its magic, else raw\n"
    "                    uint16) or raw-u16\n"
    "  --tokenizer K     byte (default) or bpe:VOCAB (257..65535)\n"
    "  --test-frac F     fraction held out (default 0.05): the end of a text, whole\n"
    "                    documents of each source for debian\n"
    "  --data-tokens D   train on a D-token subset of the train part only (at most\n"
    "                    its size; for debian: random documents of every source,\n"
    "                    nested in D)\n"
    "  --data-dir DIR    prepared corpora and tokenizer caches (default\n"
    "                    $SCALELAB_DATA, else data/ of the checkout, else\n"
    "                    ~/.cache/scalelab)\n"
    "training:\n"
    "  --batch B         sequences per step (default 16)\n"
    "  --steps S         optimizer steps (default 6000)\n"
    "  --tokens N        train for N tokens instead (steps = N / (B*T))\n"
    "  --lr X|auto       peak learning rate; auto = 0.003239 - 0.0001395 ln N (default)\n"
    "  --warmup S        warmup steps (default: 10%% of steps, at most 3000)\n"
    "  --schedule K      cosine (default), constant or linear\n"
    "  --weight-decay X  AdamW decay on weight matrices (default 0.1)\n"
    "  --clip X          global gradient-norm clip, 0 for none (default 1.0)\n"
    "  --eval-every S    steps between evaluations (default 100)\n"
    "  --eval-tokens N   held-out tokens per evaluation (default 32768)\n"
    "  --seed S          initialisation and sampling seed (default 1)\n"
    "  --threads K       threads for this run (default: the CPUs this process may\n"
    "                    use; when resuming, the threads of the checkpoint)\n"
    "  --any-threads     resume on --threads K though the checkpoint was made on\n"
    "                    another count (refused without it: the numbers are then no\n"
    "                    longer bitwise those of an uninterrupted run)\n"
    "output:\n"
    "  --out DIR         write DIR/metrics.csv and DIR/checkpoint.bin; resume from it\n"
    "  --quiet           no progress, only the final line\n"
    "\n"
    "Progress goes to stderr (a bar on a terminal, a line per evaluation otherwise);\n"
    "the final result goes to stdout. Ctrl-C stops after the current step and, with\n"
    "--out, saves a checkpoint that the same command resumes.\n";


static int parse_args(int argc, char **argv, sl_train_opts *o, sl_corpus_opts *co,
                      const char **out_dir, int *quiet, sl_error *err)
{
    long v;
    double x;
    long tokens = 0;
    int rc;
    int heads_set = 0, dff_set = 0, steps_set = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--quiet")) {
            *quiet = 1;
            continue;
        }
        if (!strcmp(a, "--any-threads")) {
            o->any_threads = 1;
            continue;
        }
        if (strncmp(a, "--", 2) != 0)
            return sl_fail(err, SL_EINPUT, "%s: unexpected argument (see scalelab train --help)", a);
        if (i + 1 >= argc)
            return sl_fail(err, SL_EINPUT, "%s: missing value (see scalelab train --help)", a);
        const char *s = argv[++i];
#define INT_FLAG(name, lo, hi, dst)                                                                \
    if (!strcmp(a, name)) {                                                                        \
        if ((rc = cli_parse_int(name, s, lo, hi, &v, err)))                                        \
            return rc;                                                                             \
        dst = v;                                                                                   \
        continue;                                                                                  \
    }
        INT_FLAG("--layers", 1, 1024, o->model.n_layer)
        INT_FLAG("--d-model", 1, 65536, o->model.d_model)
        INT_FLAG("--ctx", 1, 65536, o->model.n_ctx)
        INT_FLAG("--batch", 1, 65536, o->batch)
        if (!strcmp(a, "--steps"))
            steps_set = 1;
        INT_FLAG("--steps", 1, 1000000000L, o->steps)
        INT_FLAG("--warmup", 0, 1000000000L, o->warmup)
        INT_FLAG("--eval-every", 0, 1000000000L, o->eval_every)
        INT_FLAG("--eval-tokens", 1, 1000000000L, o->eval_tokens)
        INT_FLAG("--seed", 0, 0x7fffffffffffffffL, o->seed)
        INT_FLAG("--threads", 1, 256, o->threads)
        INT_FLAG("--data-tokens", 1, 0x7fffffffffffffffL, o->data_limit)
        INT_FLAG("--tokens", 1, 0x7fffffffffffffffL, tokens)
#undef INT_FLAG
        if (!strcmp(a, "--heads")) {
            if ((rc = cli_parse_int(a, s, 1, 65536, &v, err)))
                return rc;
            o->model.n_head = (int)v;
            heads_set = 1;
        } else if (!strcmp(a, "--d-ff")) {
            if ((rc = cli_parse_int(a, s, 1, 1 << 20, &v, err)))
                return rc;
            o->model.d_ff = (int)v;
            dff_set = 1;
        } else if (!strcmp(a, "--lr")) {
            if (!strcmp(s, "auto"))
                o->lr = 0;
            else if ((rc = cli_parse_double(a, s, &x, err)))
                return rc;
            else if (!(x > 0 && x <= 10))
                return sl_fail(err, SL_EINPUT, "--lr: %g is out of range (expected 0 < lr <= 10 or auto)", x);
            else
                o->lr = x;
        } else if (!strcmp(a, "--weight-decay") || !strcmp(a, "--clip")) {
            if ((rc = cli_parse_double(a, s, &x, err)))
                return rc;
            if (x < 0)
                return sl_fail(err, SL_EINPUT, "%s: %g is negative (expected >= 0)", a, x);
            *(a[2] == 'w' ? &o->weight_decay : &o->clip) = x;
        } else if (!strcmp(a, "--test-frac")) {
            if ((rc = cli_parse_double(a, s, &x, err)))
                return rc;
            if (!(x > 0 && x < 1))
                return sl_fail(err, SL_EINPUT, "--test-frac: %g is out of range (expected 0 < F < 1)", x);
            co->test_frac = x;
        } else if (!strcmp(a, "--schedule")) {
            if ((rc = sl_schedule_parse(s, &o->schedule, err)))
                return rc;
        } else if (!strcmp(a, "--data"))
            co->path = s;
        else if (!strcmp(a, "--format")) {
            if (!strcmp(s, "raw-u16"))
                co->format = SL_FORMAT_RAW_U16;
            else if (strcmp(s, "auto"))
                return sl_fail(err, SL_EINPUT, "--format: '%s' (expected auto or raw-u16)", s);
        } else if (!strcmp(a, "--tokenizer")) {
            int vocab;
            sl_error e;
            if (sl_tokenizer_parse(s, &vocab, &e))
                return sl_fail(err, SL_EINPUT, "--tokenizer: %s", e.msg);
            co->tokenizer = s;
        } else if (!strcmp(a, "--data-dir"))
            co->data_dir = s;
        else if (!strcmp(a, "--out"))
            *out_dir = s;
        else
            return sl_fail(err, SL_EINPUT, "%s: unknown option (see scalelab train --help)", a);
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
    if (cli_wants_help(argc, argv)) {
        fputs(help_text, stdout);
        return 0;
    }
    sl_error err = {{0}};
    sl_train_opts o;
    sl_train_defaults(&o);
    o.model = (sl_config){4, 128, 4, 512, 128, 256};
    o.steps = 6000;
    o.threads = sl_cpus_available();
    sl_corpus_opts co = {0};
    const char *out_dir = NULL;
    int quiet = 0;
    int rc = parse_args(argc, argv, &o, &co, &out_dir, &quiet, &err);
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
    int threads_set = 0;
    for (int i = 1; i < argc; i++)
        threads_set |= !strcmp(argv[i], "--threads");
    if (out_dir) {
        sl_run_path(ck, sizeof ck, out_dir, SL_RUN_CHECKPOINT_FILE);
        if (access(ck, F_OK) == 0 && sl_checkpoint_peek(ck, &ci, &err) == SL_OK && !threads_set &&
            ci.threads >= 1 && ci.threads <= 256)
            o.threads = ci.threads;
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
        if ((rc = sl_run_dir_open(&dir, out_dir, t, NULL, &err)))
            goto done;
        d = &dir;
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
                "batch=%d; N=%.0f (total %.0f); %ld steps; %d threads\n",
                corpus.source, corpus.tokenizer, corpus.n_train, corpus.n_tokens - corpus.n_train,
                o.model.n_layer, o.model.d_model, o.model.n_head, o.model.n_ctx, o.batch,
                k.n_kaplan, k.n_total, o.steps, o.threads < o.batch ? o.threads : o.batch);

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
        printf("final: step %ld test_loss %.4f nats/token (%.4f bits) train_loss %.4f tokens %.0f "
               "flops %.3e wall %.1fs tok/s %.0f\n",
               row->step, row->test_loss, row->test_loss / log(2.0), row->train_loss, row->tokens,
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
