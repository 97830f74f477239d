/* One training run: reproducibility (bitwise for a fixed thread count, 1e-4
 * between 1 and 2 threads), checkpoints (round trip, wrong config, damage, a
 * full disk), divergence, and `scalelab train` on bad input. The threads_*
 * suites also run under ThreadSanitizer. */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scalelab/run.h"
#include "scalelab/train.h"
#include "testutil.h"

/* A corpus with structure to learn: a noisy repeating pattern over 64 tokens. */
static sl_corpus make_corpus(size_t n)
{
    sl_corpus c;
    memset(&c, 0, sizeof c);
    c.tokens = sl_xmalloc(n * sizeof(uint16_t));
    sl_rng r;
    sl_rng_seed(&r, 99);
    for (size_t i = 0; i < n; i++)
        c.tokens[i] = (uint16_t)((i * 7 + (sl_rng_below(&r, 8) == 0 ? sl_rng_below(&r, 64) : 0)) % 64);
    c.n_tokens = n;
    c.n_train = n - n / 10;
    c.vocab = 64;
    snprintf(c.source, sizeof c.source, "pattern");
    snprintf(c.tokenizer, sizeof c.tokenizer, "byte");
    return c;
}

static sl_train_opts tiny_opts(int threads)
{
    sl_train_opts o;
    sl_train_defaults(&o);
    o.model = (sl_config){2, 32, 2, 128, 16, 64};
    o.batch = 8;
    o.steps = 50;
    o.lr = 3e-3;
    o.eval_every = 25;
    o.eval_tokens = 1024;
    o.threads = threads;
    o.seed = 7;
    return o;
}

/* Train `steps` steps; returns the last step's training loss. */
static double run_steps(sl_trainer *t, long steps)
{
    sl_metric_row row;
    sl_error err;
    for (long s = 0; s < steps; s++)
        cr_assert_geq(sl_trainer_step(t, &row, &err), 0, "%s", err.msg);
    return sl_trainer_last_loss(t);
}

static double loss_after(const sl_corpus *c, int threads, long steps)
{
    sl_train_opts o = tiny_opts(threads);
    sl_trainer *t;
    sl_error err;
    cr_assert_eq(sl_trainer_new(&t, &o, c, &err), SL_OK, "%s", err.msg);
    double l = run_steps(t, steps);
    sl_trainer_free(t);
    return l;
}

TestSuite(threads_train);

Test(threads_train, same_seed_and_threads_give_bitwise_identical_loss)
{
    sl_corpus c = make_corpus(20000);
    double a = loss_after(&c, 2, 50), b = loss_after(&c, 2, 50);
    cr_expect(memcmp(&a, &b, sizeof a) == 0, "%.17g vs %.17g", a, b);
    double c1 = loss_after(&c, 1, 50), c2 = loss_after(&c, 1, 50);
    cr_expect(memcmp(&c1, &c2, sizeof c1) == 0, "%.17g vs %.17g", c1, c2);
    free(c.tokens);
}

Test(threads_train, one_and_two_threads_agree)
{
    sl_corpus c = make_corpus(20000);
    double a = loss_after(&c, 1, 50), b = loss_after(&c, 2, 50);
    cr_expect_leq(fabs(a - b) / fabs(a), 1e-4, "1 thread %.9g, 2 threads %.9g", a, b);
    free(c.tokens);
}

Test(threads_train, loss_falls_and_noise_scale_is_measured)
{
    sl_corpus c = make_corpus(20000);
    sl_train_opts o = tiny_opts(2);
    o.steps = 100;
    sl_trainer *t;
    sl_error err;
    cr_assert_eq(sl_trainer_new(&t, &o, &c, &err), SL_OK, "%s", err.msg);
    sl_metric_row first, row;
    sl_trainer_row(t, &first);
    cr_expect_leq(fabs(first.test_loss - log(64.0)), 0.1, "initial test loss %g", first.test_loss);
    int stopped;
    cr_assert_eq(sl_run_dir_train(NULL, t, NULL, &stopped, &err), SL_OK, "%s", err.msg);
    sl_trainer_row(t, &row);
    cr_expect_lt(row.test_loss, first.test_loss - 1.0, "test loss %g -> %g", first.test_loss,
                 row.test_loss);
    cr_expect(isfinite(row.noise_scale) && row.noise_scale > 0, "noise scale %g", row.noise_scale);
    cr_expect_eq(row.step, 100);
    cr_expect_eq(row.tokens, 100.0 * 8 * 16);
    sl_trainer_free(t);
    free(c.tokens);
}

Test(threads_train, checkpoint_round_trip_gives_identical_next_step_loss, .init = tu_make_dir,
     .fini = tu_remove_dir)
{
    sl_corpus c = make_corpus(20000);
    sl_train_opts o = tiny_opts(2);
    sl_trainer *a, *b;
    sl_error err;
    char path[512];
    tu_path(path, sizeof path, "checkpoint.bin");
    cr_assert_eq(sl_trainer_new(&a, &o, &c, &err), SL_OK);
    run_steps(a, 20);
    cr_assert_eq(sl_trainer_save(a, path, &err), SL_OK, "%s", err.msg);
    double la = run_steps(a, 1);
    cr_assert_eq(sl_trainer_new(&b, &o, &c, &err), SL_OK);
    cr_assert_eq(sl_trainer_load(b, path, &err), SL_OK, "%s", err.msg);
    cr_expect_eq(sl_trainer_steps_done(b), 20);
    double lb = run_steps(b, 1);
    cr_expect(memcmp(&la, &lb, sizeof la) == 0, "%.17g vs %.17g", la, lb);
    /* and they stay together */
    la = run_steps(a, 10);
    lb = run_steps(b, 10);
    cr_expect(memcmp(&la, &lb, sizeof la) == 0, "%.17g vs %.17g", la, lb);
    sl_trainer_free(a);
    sl_trainer_free(b);
    free(c.tokens);
}

TestSuite(train, .init = tu_make_dir, .fini = tu_remove_dir);

Test(train, checkpoint_of_another_config_or_damaged_is_refused)
{
    sl_corpus c = make_corpus(20000);
    sl_train_opts o = tiny_opts(1);
    sl_trainer *a, *b;
    sl_error err;
    char path[512];
    tu_path(path, sizeof path, "checkpoint.bin");
    cr_assert_eq(sl_trainer_new(&a, &o, &c, &err), SL_OK);
    run_steps(a, 3);
    cr_assert_eq(sl_trainer_save(a, path, &err), SL_OK);

    o.model.d_model = 64;
    o.model.d_ff = 256;
    cr_assert_eq(sl_trainer_new(&b, &o, &c, &err), SL_OK);
    cr_expect_eq(sl_trainer_load(b, path, &err), SL_EINPUT);
    cr_expect(strstr(err.msg, "config") && strstr(err.msg, path), "%s", err.msg);
    cr_expect_eq(sl_trainer_steps_done(b), 0, "a refused checkpoint leaves the trainer alone");
    sl_trainer_free(b);

    /* flip one byte in the parameters */
    char *data;
    size_t len;
    cr_assert_eq(sl_read_file(path, &data, &len, &err), SL_OK);
    data[len / 2] ^= 0x40;
    tu_write(path, data, len);
    free(data);
    o = tiny_opts(1);
    cr_assert_eq(sl_trainer_new(&b, &o, &c, &err), SL_OK);
    cr_expect_eq(sl_trainer_load(b, path, &err), SL_EINPUT);
    cr_expect(strstr(err.msg, "checksum") != NULL, "%s", err.msg);
    /* truncated */
    tu_write(path, "SLCKPT", 6);
    cr_expect_eq(sl_trainer_load(b, path, &err), SL_EINPUT);
    cr_expect_eq(sl_trainer_steps_done(b), 0);
    sl_trainer_free(a);
    sl_trainer_free(b);
    free(c.tokens);
}

Test(train, full_disk_while_saving_keeps_previous_checkpoint)
{
    sl_corpus c = make_corpus(20000);
    sl_train_opts o = tiny_opts(1);
    sl_trainer *a;
    sl_error err;
    char path[512];
    tu_path(path, sizeof path, "checkpoint.bin");
    cr_assert_eq(sl_trainer_new(&a, &o, &c, &err), SL_OK);
    run_steps(a, 2);
    cr_assert_eq(sl_trainer_save(a, path, &err), SL_OK);
    run_steps(a, 2);
    pid_t pid = fork();
    if (pid == 0) {
        /* the file-size limit makes write() fail with EFBIG, as a full disk would */
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {4096, 4096};
        setrlimit(RLIMIT_FSIZE, &rl);
        int rc = sl_trainer_save(a, path, &err);
        _exit(rc == SL_ERUNTIME && strstr(err.msg, "previous file is intact") ? 0 : 1);
    }
    int status;
    waitpid(pid, &status, 0);
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "save under a full disk must fail cleanly");
    sl_trainer *b;
    cr_assert_eq(sl_trainer_new(&b, &o, &c, &err), SL_OK);
    cr_expect_eq(sl_trainer_load(b, path, &err), SL_OK, "%s", err.msg);
    cr_expect_eq(sl_trainer_steps_done(b), 2, "the previous checkpoint is intact");
    DIR *d = opendir(tu_dir);
    struct dirent *e;
    while ((e = readdir(d)))
        cr_expect_null(strstr(e->d_name, ".tmp."), "temporary file left behind: %s", e->d_name);
    closedir(d);
    sl_trainer_free(a);
    sl_trainer_free(b);
    free(c.tokens);
}

Test(train, nan_loss_marks_the_run_failed_at_that_step)
{
    sl_corpus c = make_corpus(20000);
    sl_train_opts o = tiny_opts(1);
    sl_trainer *t;
    sl_error err;
    cr_assert_eq(sl_trainer_new(&t, &o, &c, &err), SL_OK);
    run_steps(t, 3);
    const sl_model *m = sl_trainer_model(t);
    m->params[m->info[SL_LNFW].offset] = NAN;
    sl_metric_row row;
    cr_expect_eq(sl_trainer_step(t, &row, &err), SL_ERUNTIME);
    cr_expect(strstr(err.msg, "step 4") && strstr(err.msg, "diverged"), "%s", err.msg);
    sl_trainer_free(t);
    free(c.tokens);
}

Test(train, corpus_shorter_than_context_is_refused)
{
    sl_corpus c = make_corpus(40);
    sl_train_opts o = tiny_opts(1);
    o.model.n_ctx = 64;
    sl_trainer *t;
    sl_error err;
    cr_expect_eq(sl_trainer_new(&t, &o, &c, &err), SL_EINPUT);
    cr_expect(strstr(err.msg, "pattern") != NULL, "%s", err.msg);
    free(c.tokens);
}

/* ---- scalelab train --------------------------------------------------------- */

TestSuite(train_cli, .init = tu_make_dir, .fini = tu_remove_dir);

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define TINY "--layers", "1", "--d-model", "16", "--heads", "2", "--ctx", "16", "--batch", "4"

Test(train_cli, impossible_flags_exit_2)
{
    char p[512];
    tu_write_text("t.txt", 5000, p, sizeof p);
    tu_assert_bad_input("--heads", ARGS("train", "--data", p, "--d-model", "30", "--heads", "4"));
    tu_assert_bad_input("--layers", ARGS("train", "--data", p, "--layers", "0"));
    tu_assert_bad_input("--batch", ARGS("train", "--data", p, "--batch", "-3"));
    tu_assert_bad_input("--d-model", ARGS("train", "--data", p, "--d-model", "abc"));
    tu_assert_bad_input("--steps", ARGS("train", "--data", p, "--steps", "0"));
    tu_assert_bad_input("--lr", ARGS("train", "--data", p, "--lr", "-1"));
    tu_assert_bad_input("--schedule", ARGS("train", "--data", p, "--schedule", "step"));
    tu_assert_bad_input("--bogus", ARGS("train", "--bogus", "1"));
    tu_assert_bad_input("--tokenizer: 'bpe:70000' is not a tokenizer (expected byte or bpe:VOCAB with VOCAB 257..65535)",
                        ARGS("train", "--data", p, "--tokenizer", "bpe:70000"));
    /* D beyond the train part is refused, not clamped to it */
    tu_assert_bad_input("--data-tokens: 99999999 is beyond the train part of",
                        ARGS("train", "--data", p, "--data-tokens", "99999999"));
    tu_assert_bad_input("GiB", ARGS("train", "--data", p, "--ctx", "32", "--layers", "64", "--d-model", "8192", "--heads", "64"));
    tu_assert_bad_input("--tokens", ARGS("train", "--data", p, "--tokens", "1000", "--steps", "5"));
    tu_assert_bad_input("--tokens", ARGS("train", "--data", p, "--tokens", "9223372036854775807"));
}

Test(train_cli, missing_empty_and_short_corpora_exit_2)
{
    char p[512], q[512], r[512];
    tu_path(p, sizeof p, "nope.txt");
    tu_assert_bad_input(p, ARGS("train", "--data", p));
    tu_write(tu_path(q, sizeof q, "empty.txt"), "", 0);
    tu_assert_bad_input(q, ARGS("train", "--data", q));
    tu_write_text("short.txt", 100, r, sizeof r);
    tu_assert_bad_input(r, ARGS("train", "--data", r, "--ctx", "128"));
}

Test(train_cli, trains_resumes_and_refuses_foreign_or_damaged_checkpoints)
{
    char p[512], out[512], ck[600], o[8192], e[8192];
    tu_write_text("t.txt", 20000, p, sizeof p);
    tu_path(out, sizeof out, "run");
    int rc = tu_run(o, sizeof o, e, sizeof e, 0,
                    ARGS("train", "--data", p, TINY, "--steps", "20", "--eval-every", "10",
                         "--out", out, "--threads", "1"));
    cr_assert_eq(rc, 0, "%s", e);
    cr_expect(strstr(o, "final: step 20") != NULL, "%s", o);
    /* the same command with more steps resumes from the checkpoint */
    rc = tu_run(o, sizeof o, e, sizeof e, 0,
                ARGS("train", "--data", p, TINY, "--steps", "20", "--eval-every", "10", "--out",
                     out, "--threads", "1"));
    cr_expect_eq(rc, 0, "%s", e);
    cr_expect(strstr(e, "resuming") != NULL, "%s", e);
    cr_expect(strstr(o, "final: step 20 test_loss") && !strstr(o, "test_loss 0.0000"),
              "a resumed finished run reports its real state: %s", o);
    /* another shape against that checkpoint */
    tu_assert_bad_input("config", ARGS("train", "--data", p, "--layers", "2", "--d-model", "16",
                                       "--heads", "2", "--ctx", "16", "--batch", "4", "--out", out));
    /* a damaged checkpoint */
    snprintf(ck, sizeof ck, "%s/checkpoint.bin", out);
    char *d;
    size_t len;
    sl_error err;
    cr_assert_eq(sl_read_file(ck, &d, &len, &err), SL_OK);
    d[len - 100] ^= 1;
    tu_write(ck, d, len);
    tu_assert_bad_input("checksum", ARGS("train", "--data", p, TINY, "--steps", "20", "--out", out));
    free(d);
}

Test(train_cli, full_disk_while_checkpointing_fails_and_keeps_previous)
{
    char p[512], out[512], ck[600], o[8192], e[8192];
    tu_write_text("t.txt", 20000, p, sizeof p);
    tu_path(out, sizeof out, "run");
    int rc = tu_run(o, sizeof o, e, sizeof e, 0,
                    ARGS("train", "--data", p, TINY, "--steps", "10", "--eval-every", "10", "--out",
                         out, "--threads", "1"));
    cr_assert_eq(rc, 0, "%s", e);
    snprintf(ck, sizeof ck, "%s/checkpoint.bin", out);
    char *before, *after;
    size_t lb, la;
    sl_error err;
    cr_assert_eq(sl_read_file(ck, &before, &lb, &err), SL_OK);
    /* continue for 10 more steps with a 16 KiB file-size limit: the next
     * checkpoint cannot be written */
    rc = tu_run(o, sizeof o, e, sizeof e, 16,
                ARGS("train", "--data", p, TINY, "--steps", "20", "--eval-every", "10", "--out", out,
                     "--threads", "1"));
    cr_expect_eq(rc, 1, "exit status %d: %s", rc, e);
    cr_expect(strstr(e, "checkpoint.bin") && strstr(e, "intact"), "%s", e);
    cr_assert_eq(sl_read_file(ck, &after, &la, &err), SL_OK);
    cr_expect(lb == la && memcmp(before, after, lb) == 0, "the previous checkpoint is unchanged");
    free(before);
    free(after);
}
