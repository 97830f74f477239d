/* Memory short: a run the memory limit cannot hold is an error line and exit
 * status 1 (never abort()'s 134), and a sweep's store stays readable. */
#include <sys/resource.h>

#include "scalelab/engine.h"
#include "scalelab/run.h"
#include "scalelab/train.h"
#include "sweeputil.h"

TestSuite(memory, .init = tu_make_dir, .fini = tu_remove_dir);

Test(memory, the_estimate_covers_the_activations_of_every_thread)
{
    sl_train_opts o;
    sl_train_defaults(&o);
    o.model = (sl_config){2, 32, 2, 128, 32, 256};
    o.batch = 2048;
    for (int th = 1; th <= 4; th *= 2) {
        o.threads = th;
        int cap = (o.batch + th - 1) / th;
        double acts = 4.0 * (double)sl_acts_floats(&o.model, cap) * th;
        cr_assert_gt(sl_train_memory(&o), acts, "threads %d", th);
    }
    o.threads = 0; /* not chosen yet: budgeted as one */
    cr_assert_gt(sl_train_memory(&o), 0);
}

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
/* (under ASan and TSan the shadow memory alone exceeds any such limit) */

/* Runs `ulimit -v KB; scalelab ARGS...`; exit status, output in tu_dir/log. */
static int run_limited(long kb, const char *const *args, char **log)
{
    char p[512], cmd[64];
    tu_path(p, sizeof p, "log");
    snprintf(cmd, sizeof cmd, "ulimit -v %ld; exec \"$0\" \"$@\"", kb);
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen(p, "w", stdout) || !freopen(p, "a", stderr))
            _exit(127);
        setenv("SCALELAB_DATA", tu_dir, 1);
        const char *argv[40] = {"/bin/sh", "-c", cmd, SL_TEST_BIN};
        int n = 4;
        for (int i = 0; args[i] && n < 39; i++)
            argv[n++] = args[i];
        argv[n] = NULL;
        execv("/bin/sh", (char *const *)argv);
        _exit(127);
    }
    int rc = su_wait(pid);
    *log = su_read(p);
    return rc;
}

Test(memory, train_under_a_memory_limit_fails_with_a_message_not_an_abort)
{
    char corpus[512];
    su_corpus(corpus, sizeof corpus);
    /* about 3 GiB of activations under a 1 GiB address-space limit */
    const char *args[] = {"train", "--data", corpus, "--layers", "2", "--d-model", "32",
                          "--heads", "2", "--ctx", "32", "--batch", "10000", "--steps", "2",
                          "--threads", "1", "--quiet", NULL};
    char *log;
    int rc = run_limited(1L << 20, args, &log);
    cr_assert_eq(rc, 1, "exit %d: %s", rc, log);
    cr_assert(!strncmp(log, "scalelab: ", 10) && strstr(log, "out of memory"), "%s", log);
    cr_assert_eq(strchr(log, '\n') - log + 1, (long)strlen(log), "not one line: %s", log);
    free(log);
}

Test(memory, a_sweep_run_under_a_memory_limit_fails_cleanly_and_the_store_reads_back)
{
    char preset[512], runs[512];
    su_preset(preset, sizeof preset, "oom", "\"n\": [3000]",
              "\"steps\": 4, \"eval_every\": 2, \"threads\": 1, \"batch\": 10000");
    tu_path(runs, sizeof runs, "runs");
    const char *args[] = {"run", preset, "--runs", runs, "--quiet", NULL};
    char *log;
    int rc = run_limited(1L << 20, args, &log);
    cr_assert_eq(rc, 1, "exit %d: %s", rc, log);
    cr_assert_not_null(strstr(log, "out of memory"), "%s", log);
    free(log);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/oom", runs);
    sl_run *r;
    int n;
    sl_error err;
    cr_assert_eq(sl_runs_load(dir, &r, &n, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(n, 1);
    cr_assert_neq(sl_run_state_of(&r[0]), SL_RUN_DONE);
    sl_runs_free(r, n);
}
#endif

/* Two runs whose budgets do not fit together: the second waits, queued with a
 * reason, until the first ends; never both at once, and both finish. */
Test(memory, runs_that_do_not_fit_together_are_queued_not_started)
{
    char preset[512], runs[512];
    su_preset(preset, sizeof preset, "mem", "\"n\": [3000, 12000]",
              "\"batch\": 8, \"steps\": 40, \"eval_every\": 10, \"eval_tokens\": 512, "
              "\"threads\": 1");
    tu_path(runs, sizeof runs, "runs");
    setenv("SCALELAB_DATA", tu_dir, 1);
    sl_preset p;
    sl_error err;
    cr_assert_eq(sl_preset_load(&p, preset, &err), SL_OK, "%s", err.msg);
    sl_engine_opts o;
    sl_engine_opts_default(&o);
    o.runs_dir = runs;
    o.cores = 2;
    o.jobs = 2;
    /* less than any one run's budget: one run at a time (a run alone starts) */
    o.memory = 1e6;
    sl_engine *e;
    cr_assert_eq(sl_engine_new(&e, &p, &o, &err), SL_OK, "%s", err.msg);
    sl_preset_free(&p);
    cr_assert_eq(sl_engine_start(e, &err), SL_OK);
    sl_snapshot s;
    memset(&s, 0, sizeof s);
    int max_running = 0, saw_wait = 0;
    for (int i = 0; i < 60000 && !s.finished; i++) {
        sl_engine_snapshot(e, &s);
        if (s.n_running > max_running)
            max_running = s.n_running;
        for (int k = 0; k < s.n_runs; k++)
            saw_wait |= s.runs[k].state == SL_RUN_QUEUED &&
                        strstr(s.runs[k].reason, "waiting for memory") != NULL;
        su_sleep(0.002);
    }
    cr_assert_eq(sl_engine_wait(e, &err), SL_OK, "%s", err.msg);
    sl_engine_snapshot(e, &s);
    cr_assert_eq(s.n_done, 2);
    cr_assert_eq(max_running, 1, "%d runs trained at once", max_running);
    cr_assert(saw_wait, "no queued run said it waits for memory");
    sl_snapshot_free(&s);
    sl_engine_free(e);
}
