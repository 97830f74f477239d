/* The engine: a sweep trains every run once; SIGKILL at random moments and
 * resume lose nothing beyond the last checkpoint and end bit for bit where an
 * uninterrupted sweep ends; SIGINT and SIGTERM stop cleanly; run control and
 * snapshots in process; MPI ranks share a sweep. */
#include <math.h>

#include "scalelab/engine.h"
#include "scalelab/store.h"
#include "sweeputil.h"

TestSuite(engine, .init = tu_make_dir, .fini = tu_remove_dir);

/* Four runs of a few hundred steps, checkpointed every 10 steps. */
static const char *crash_sweep = "\"n\": [3000, 12000], \"kind\": \"n\"";
static const char *crash_train =
    "\"batch\": 8, \"steps\": 150, \"eval_every\": 10, \"eval_tokens\": 1024, \"seeds\": [1, 2], "
    "\"threads\": 1";

static void run_to_end(const char *preset, const char *runs)
{
    const char *args[] = {"run", preset, "--runs", runs, "--quiet", NULL};
    int rc = su_wait(su_spawn(args));
    cr_assert_eq(rc, 0, "uninterrupted sweep exited %d", rc);
}

Test(engine, sigkill_at_random_moments_then_resume_ends_bitwise_where_an_uninterrupted_sweep_ends)
{
    char preset[512], ref[512], runs[512], dir[600], refdir[600];
    su_preset(preset, sizeof preset, "crash", crash_sweep, crash_train);
    tu_path(ref, sizeof ref, "ref");
    tu_path(runs, sizeof runs, "runs");
    double t0 = sl_now();
    run_to_end(preset, ref);
    double full = sl_now() - t0;
    snprintf(refdir, sizeof refdir, "%s/crash", ref);
    snprintf(dir, sizeof dir, "%s/crash", runs);

    unsigned seed = (unsigned)time(NULL);
    srand(seed);
    int kills = 0;
    for (int round = 0; round < 6; round++) {
        const char *run_args[] = {"run", preset, "--runs", runs, "--quiet", NULL};
        const char *resume_args[] = {"resume", dir, "--quiet", NULL};
        /* killed before sweep.json (written last) exists, the sweep is
         * continued by running the preset again */
        char sweep[700];
        snprintf(sweep, sizeof sweep, "%s/sweep.json", dir);
        pid_t pid = su_spawn(access(sweep, F_OK) != 0 ? run_args : resume_args);
        /* short enough that several kills land before the sweep is done */
        su_sleep(full * (0.02 + 0.2 * rand() / (double)RAND_MAX));
        kill(pid, SIGKILL);
        int rc = su_wait(pid);
        kills += rc == 128 + SIGKILL;
        cr_assert(rc == 128 + SIGKILL || rc == 0, "round %d exited %d (seed %u)", round, rc, seed);
    }
    cr_log_info("seed %u: %d of 6 processes killed (sweep %.2fs)", seed, kills, full);
    cr_assert_geq(kills, 3, "only %d of 6 processes were still running when killed (seed %u)", kills,
                  seed);
    const char *resume_args[] = {"resume", dir, "--quiet", NULL};
    int rc = su_wait(su_spawn(resume_args));
    cr_assert_eq(rc, 0, "final resume exited %d (seed %u)", rc, seed);
    su_assert_same_sweep(dir, refdir);
}

Test(engine, two_processes_on_one_store_train_each_run_once)
{
    char preset[512], ref[512], runs[512], dir[600], refdir[600], sweep[700];
    su_preset(preset, sizeof preset, "twice", crash_sweep, crash_train);
    tu_path(ref, sizeof ref, "ref");
    tu_path(runs, sizeof runs, "runs");
    run_to_end(preset, ref);
    snprintf(refdir, sizeof refdir, "%s/twice", ref);
    snprintf(dir, sizeof dir, "%s/twice", runs);
    snprintf(sweep, sizeof sweep, "%s/sweep.json", dir);
    const char *run_args[] = {"run", preset, "--runs", runs, "--quiet", NULL};
    const char *resume_args[] = {"resume", dir, "--quiet", NULL};
    pid_t a = su_spawn(run_args);
    for (int i = 0; i < 4000 && access(sweep, F_OK) != 0; i++)
        su_sleep(0.001);
    pid_t b = su_spawn(resume_args);
    int ra = su_wait(a), rb = su_wait(b);
    /* a run the other process held is left to it (exit 1 says so) */
    cr_assert(ra == 0 || ra == 1, "run exited %d", ra);
    cr_assert(rb == 0 || rb == 1, "resume exited %d", rb);
    const char *again[] = {"resume", dir, "--quiet", NULL};
    cr_assert_eq(su_wait(su_spawn(again)), 0);
    su_assert_same_sweep(dir, refdir);
}

static void stop_with(int sig)
{
    char preset[512], ref[512], runs[512], dir[600], refdir[600], m[700];
    su_preset(preset, sizeof preset, "stop", crash_sweep, crash_train);
    tu_path(ref, sizeof ref, "ref");
    tu_path(runs, sizeof runs, "runs");
    run_to_end(preset, ref);
    snprintf(refdir, sizeof refdir, "%s/stop", ref);
    snprintf(dir, sizeof dir, "%s/stop", runs);
    const char *args[] = {"run", preset, "--runs", runs, "--quiet", NULL};
    pid_t pid = su_spawn(args);
    snprintf(m, sizeof m, "%s/r000-L1-d16-s1/metrics.csv", dir);
    for (int i = 0; i < 2000 && su_count_lines(m) < 4; i++)
        su_sleep(0.005);
    kill(pid, sig);
    int rc = su_wait(pid);
    cr_assert_eq(rc, 130, "exit %d after signal %d", rc, sig);
    sl_run *r;
    int n;
    sl_error err;
    cr_assert_eq(sl_runs_load(dir, &r, &n, &err), SL_OK, "%s", err.msg);
    int stopped = 0;
    for (int i = 0; i < n; i++) {
        cr_assert_str_neq(r[i].status.state, "running", "%s still says running", r[i].spec.id);
        if (!strcmp(r[i].status.state, "stopped")) {
            stopped++;
            char ck[800];
            snprintf(ck, sizeof ck, "%s/%s/checkpoint.bin", dir, r[i].spec.id);
            cr_assert_eq(access(ck, F_OK), 0, "%s stopped without a checkpoint", r[i].spec.id);
        }
    }
    sl_runs_free(r, n);
    cr_assert_geq(stopped, 1, "no run says stopped");
    const char *resume_args[] = {"resume", dir, "--quiet", NULL};
    rc = su_wait(su_spawn(resume_args));
    cr_assert_eq(rc, 0, "resume exited %d", rc);
    su_assert_same_sweep(dir, refdir);
}

Test(engine, sigint_stops_cleanly_and_resume_continues) { stop_with(SIGINT); }
Test(engine, sigterm_stops_cleanly_and_resume_continues) { stop_with(SIGTERM); }

/* ---- in process ------------------------------------------------------------ */

static sl_engine *open_engine(const char *sweep, const char *train, int cores, int jobs)
{
    char preset[512], runs[512];
    su_preset(preset, sizeof preset, "live", sweep, train);
    tu_path(runs, sizeof runs, "runs");
    setenv("SCALELAB_DATA", tu_dir, 1);
    sl_preset p;
    sl_error err;
    cr_assert_eq(sl_preset_load(&p, preset, &err), SL_OK, "%s", err.msg);
    sl_engine_opts o;
    sl_engine_opts_default(&o);
    o.runs_dir = runs;
    o.cores = cores;
    o.jobs = jobs;
    sl_engine *e;
    cr_assert_eq(sl_engine_new(&e, &p, &o, &err), SL_OK, "%s", err.msg);
    sl_preset_free(&p);
    return e;
}

static const sl_run_view *view(const sl_snapshot *s, const char *id)
{
    for (int i = 0; i < s->n_runs; i++)
        if (!strcmp(s->runs[i].id, id))
            return &s->runs[i];
    return NULL;
}

/* Waits (at most ~20 s) until run id is in state st. */
static void await_state(sl_engine *e, sl_snapshot *s, const char *id, sl_run_state st)
{
    for (int i = 0; i < 4000; i++) {
        sl_engine_snapshot(e, s);
        const sl_run_view *v = view(s, id);
        if (v && v->state == st)
            return;
        su_sleep(0.005);
    }
    const sl_run_view *v = view(s, id);
    cr_assert_fail("%s is %s (expected %s)", id, v ? sl_run_state_name(v->state) : "gone",
                   sl_run_state_name(st));
}

Test(engine, a_sweep_trains_every_run_once_with_its_rows_in_the_snapshot)
{
    sl_engine *e = open_engine("\"n\": [3000, 12000]",
                               "\"batch\": 8, \"steps\": 30, \"eval_every\": 10, \"eval_tokens\": 1024, "
                               "\"seeds\": [1, 2]",
                               2, 0);
    sl_error err;
    cr_assert_eq(sl_engine_start(e, &err), SL_OK);
    cr_assert_eq(sl_engine_wait(e, &err), SL_OK, "%s", err.msg);
    sl_snapshot s;
    memset(&s, 0, sizeof s);
    cr_assert_eq(sl_engine_snapshot(e, &s), 1);
    cr_assert_eq(sl_engine_snapshot(e, &s), 0, "nothing changed, yet the snapshot copied");
    cr_assert_eq(s.n_runs, 4);
    cr_assert_eq(s.n_done, 4);
    cr_assert(s.finished);
    int wide = 0;
    for (int i = 0; i < s.n_runs; i++) {
        const sl_run_view *v = &s.runs[i];
        cr_assert_eq(v->n_rows, 4u, "%s has %zu rows", v->id, v->n_rows);
        cr_assert_eq(v->rows[3].step, 30);
        cr_assert_eq(v->done_steps, 30);
        /* one thread each while others wait; the last to start may get both cores */
        cr_assert(v->threads == 1 || v->threads == 2, "%s: %d threads", v->id, v->threads);
        wide += v->threads == 2;
        cr_assert(v->has_last && v->last.test_loss == v->rows[3].test_loss);
        cr_assert(v->n > 0 && v->n_total > v->n);
    }
    cr_assert_leq(wide, 1, "%d runs got two threads", wide);
    sl_snapshot_free(&s);
    sl_engine_free(e);
}

Test(engine, a_single_run_gets_every_core)
{
    sl_engine *e = open_engine("\"n\": [3000]",
                               "\"batch\": 8, \"steps\": 10, \"eval_every\": 5, \"eval_tokens\": 1024",
                               2, 0);
    sl_error err;
    cr_assert_eq(sl_engine_start(e, &err), SL_OK);
    cr_assert_eq(sl_engine_wait(e, &err), SL_OK, "%s", err.msg);
    sl_snapshot s;
    memset(&s, 0, sizeof s);
    sl_engine_snapshot(e, &s);
    cr_assert_eq(s.runs[0].threads, 2);
    sl_snapshot_free(&s);
    sl_engine_free(e);
}

/* The first two runs of a sweep start cheapest first (their curves feed the
 * lab's live fit within seconds), then the costliest first. */
Test(engine, two_cheap_runs_scout_then_the_costliest_first)
{
    sl_engine *e = open_engine("\"n\": [3000, 12000, 25000, 50000]",
                               "\"batch\": 8, \"steps\": 100000, \"eval_every\": 20, \"eval_tokens\": 512",
                               1, 1);
    sl_error err;
    sl_snapshot s;
    memset(&s, 0, sizeof s);
    sl_engine_snapshot(e, &s);
    cr_assert_eq(s.n_runs, 4);
    char id[4][SL_RUN_ID_MAX];
    for (int i = 0; i < 4; i++)
        snprintf(id[i], sizeof id[i], "%s", s.runs[i].id); /* planned order: N ascending */
    cr_assert_eq(sl_engine_start(e, &err), SL_OK);
    await_state(e, &s, id[0], SL_RUN_RUNNING);
    cr_assert_eq(sl_engine_cancel(e, id[0], &err), SL_OK, "%s", err.msg);
    await_state(e, &s, id[1], SL_RUN_RUNNING);
    cr_assert_eq(view(&s, id[3])->state, SL_RUN_QUEUED);
    cr_assert_eq(sl_engine_cancel(e, id[1], &err), SL_OK, "%s", err.msg);
    await_state(e, &s, id[3], SL_RUN_RUNNING);
    cr_assert_eq(view(&s, id[2])->state, SL_RUN_QUEUED);
    sl_engine_stop(e);
    sl_snapshot_free(&s);
    sl_engine_free(e);
}

Test(engine, pause_resume_cancel_duplicate_priority_and_drop)
{
    /* one core, one job: runs go one at a time, so the queue can be steered */
    sl_engine *e = open_engine("\"n\": [3000, 12000, 25000]",
                               "\"batch\": 8, \"steps\": 100000, \"eval_every\": 20, \"eval_tokens\": 512",
                               1, 1);
    sl_error err;
    sl_snapshot s;
    memset(&s, 0, sizeof s);
    sl_engine_snapshot(e, &s);
    /* b is the smallest run: among equal priorities the costliest starts first */
    const char *a = "r001-L1-d32-s1", *b = "r000-L1-d16-s1", *c = "r002-L2-d32-s1";
    cr_assert_not_null(view(&s, c), "planned ids changed");
    cr_assert_eq(sl_engine_set_priority(e, c, -1, &err), SL_OK);
    cr_assert_eq(sl_engine_start(e, &err), SL_OK);
    await_state(e, &s, c, SL_RUN_RUNNING);
    cr_assert_eq(view(&s, a)->state, SL_RUN_QUEUED);
    cr_assert_eq(sl_engine_pause(e, c, &err), SL_OK, "%s", err.msg);
    await_state(e, &s, c, SL_RUN_PAUSED);
    await_state(e, &s, a, SL_RUN_RUNNING);
    cr_assert_eq(sl_engine_cancel(e, b, &err), SL_OK, "%s", err.msg);
    await_state(e, &s, b, SL_RUN_STOPPED);
    cr_assert(view(&s, b)->cancelled);
    char dup[SL_RUN_ID_MAX];
    cr_assert_eq(sl_engine_duplicate(e, a, 7, dup, &err), SL_OK, "%s", err.msg);
    sl_engine_snapshot(e, &s);
    cr_assert_eq(s.n_runs, 4);
    cr_assert_eq(view(&s, dup)->seed, 7u);
    cr_assert_eq(view(&s, dup)->state, SL_RUN_QUEUED);
    cr_assert_eq(sl_engine_drop(e, a, &err), SL_EINPUT, "dropped a running run");
    cr_assert_eq(sl_engine_drop(e, dup, &err), SL_OK, "%s", err.msg);
    sl_engine_snapshot(e, &s);
    cr_assert_eq(s.n_runs, 3);
    char path[800];
    snprintf(path, sizeof path, "%s/%s", sl_engine_dir(e), dup);
    cr_assert_neq(access(path, F_OK), 0, "%s still exists", path);
    cr_assert_eq(sl_engine_pause(e, "nope", &err), SL_EINPUT);
    cr_assert_not_null(strstr(err.msg, "nope: no such run"));
    cr_assert_eq(sl_engine_resume_run(e, c, &err), SL_OK, "%s", err.msg);
    sl_engine_stop(e);
    sl_engine_snapshot(e, &s);
    cr_assert_eq(view(&s, a)->state, SL_RUN_STOPPED);
    cr_assert_eq(view(&s, c)->state, SL_RUN_QUEUED);
    /* no run holds a step twice, however early it was paused or stopped */
    for (int i = 0; i < s.n_runs; i++)
        for (size_t j = 1; j < s.runs[i].n_rows; j++)
            cr_assert_gt(s.runs[i].rows[j].step, s.runs[i].rows[j - 1].step, "%s: step %ld twice",
                         s.runs[i].id, s.runs[i].rows[j].step);
    sl_run_status st;
    snprintf(path, sizeof path, "%s/%s", sl_engine_dir(e), a);
    cr_assert_eq(sl_status_read(path, &st, &err), SL_OK);
    cr_assert_str_eq(st.state, "stopped");
    sl_snapshot_free(&s);
    sl_engine_free(e);
}

Test(engine, wake_fd_becomes_readable_when_something_changes)
{
    sl_engine *e = open_engine("\"n\": [3000]",
                               "\"batch\": 8, \"steps\": 10, \"eval_every\": 5, \"eval_tokens\": 512",
                               1, 1);
    sl_error err;
    int fd = sl_engine_wake_fd(e);
    cr_assert_geq(fd, 0);
    cr_assert_eq(sl_engine_start(e, &err), SL_OK);
    cr_assert_eq(sl_engine_wait(e, &err), SL_OK, "%s", err.msg);
    char b;
    cr_assert_eq(read(fd, &b, 1), 1);
    sl_engine_free(e);
}

Test(engine, early_stopping_ends_a_run_that_stops_improving)
{
    /* a tiny data limit overfits at once; patience 2 stops it early */
    char preset[512], runs[512], dir[700];
    su_preset(preset, sizeof preset, "early", "\"kind\": \"nd\", \"n\": [12000], \"d\": [100]",
              "\"batch\": 8, \"steps\": 3000, \"eval_every\": 20, \"eval_tokens\": 1024, \"lr\": 0.01, "
              "\"early_stopping\": {\"patience\": 2}, \"threads\": 1");
    tu_path(runs, sizeof runs, "runs");
    const char *args[] = {"run", preset, "--runs", runs, "--quiet", NULL};
    cr_assert_eq(su_wait(su_spawn(args)), 0);
    snprintf(dir, sizeof dir, "%s/early/r000-L1-d32-D100-s1", runs);
    sl_run_status st;
    sl_error err;
    cr_assert_eq(sl_status_read(dir, &st, &err), SL_OK);
    cr_assert_str_eq(st.state, "done");
    cr_assert_not_null(strstr(st.reason, "early stopping"), "%s", st.reason);
    cr_assert_lt(st.step, 3000);
}

Test(engine, transfer_and_context_losses_are_written)
{
    char preset[512], runs[512], path[800], corpus[512];
    su_corpus(corpus, sizeof corpus);
    /* the eval corpus: the same text, another file */
    char other[512];
    tu_path(other, sizeof other, "other.txt");
    char *d = su_read(corpus);
    tu_write(other, d, strlen(d));
    free(d);
    su_preset(preset, sizeof preset, "ctx", "\"n\": [3000]",
              "\"batch\": 8, \"steps\": 20, \"eval_every\": 10, \"eval_tokens\": 1024, "
              "\"context_losses\": true, \"threads\": 1");
    /* add data.eval_corpus to the preset */
    d = su_read(preset);
    char text[4096];
    char *at = strstr(d, "\"data\": {");
    cr_assert_not_null(at);
    at += strlen("\"data\": {");
    snprintf(text, sizeof text, "%.*s\"eval_corpus\": \"%s\", %s", (int)(at - d), d, other, at);
    free(d);
    tu_write(preset, text, strlen(text));
    tu_path(runs, sizeof runs, "runs");
    const char *args[] = {"run", preset, "--runs", runs, "--quiet", NULL};
    cr_assert_eq(su_wait(su_spawn(args)), 0);
    snprintf(path, sizeof path, "%s/ctx/r000-L1-d16-s1/context.csv", runs);
    cr_assert_eq(su_count_lines(path), 33, "header + 32 positions");
    /* per-position means over windows spread across the whole test split: their
     * average is the test loss at the run's end (the last evaluation, over its
     * first 1024 tokens, within 0.15 nats), and a later position, with more
     * context, is predicted better than the first */
    char *ctx = su_read(path);
    double first = 0, last = 0, mean = 0;
    int k = 0;
    for (char *line = strchr(ctx, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
        int at_pos;
        double loss;
        cr_assert_eq(sscanf(line, "%d,%lf", &at_pos, &loss), 2, "%.40s", line);
        cr_assert_eq(at_pos, ++k);
        first = k == 1 ? loss : first;
        last = loss;
        mean += loss / 32;
    }
    free(ctx);
    cr_assert_gt(first, last, "position 1 %g, position 32 %g", first, last);
    snprintf(path, sizeof path, "%s/ctx/r000-L1-d16-s1/metrics.csv", runs);
    sl_metric_row *rows;
    double *x;
    size_t n;
    sl_error err;
    cr_assert_eq(sl_metrics_read(path, &rows, &n, &x, &err), SL_OK);
    cr_assert_not_null(x, "no transfer_loss column");
    /* the same text: the transfer loss equals the test loss (same windows) */
    cr_assert_float_eq(x[n - 1], rows[n - 1].test_loss, 1e-5);
    cr_assert_float_eq(mean, rows[n - 1].test_loss, 0.15, "positions' mean %g", mean);
    free(rows);
    free(x);
}

Test(engine, mpi_ranks_train_each_run_exactly_once)
{
    if (system("command -v mpicc >/dev/null 2>&1 && command -v mpirun >/dev/null 2>&1") != 0) {
        cr_log_warn("skipped: mpicc or mpirun missing (install openmpi-bin libopenmpi-dev)");
        cr_skip_test("mpicc or mpirun missing");
    }
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL flock build-mpi.lock make -s MPI=1 build-mpi/scalelab >'%s/mpi-build.log' 2>&1", SL_SOURCE_DIR,
             tu_dir);
    cr_assert_eq(system(cmd), 0, "make MPI=1 failed (see the build log)");
    char preset[512], runs[512], dir[600];
    su_preset(preset, sizeof preset, "tiny", "\"n\": [3000, 12000]",
              "\"batch\": 8, \"steps\": 20, \"eval_every\": 10, \"eval_tokens\": 512, \"seeds\": [1, 2], "
              "\"threads\": 1");
    tu_path(runs, sizeof runs, "runs");
    snprintf(cmd, sizeof cmd,
             "cd '%s' && SCALELAB_DATA='%s' OMPI_MCA_rmaps_base_oversubscribe=1 mpirun -np 2 "
             "--oversubscribe --allow-run-as-root '%s/build-mpi/scalelab' run '%s' --runs '%s' --mpi "
             ">'%s/mpi.log' 2>&1",
             tu_dir, tu_dir, SL_SOURCE_DIR, preset, runs, tu_dir);
    int rc = system(cmd);
    char logp[600];
    snprintf(logp, sizeof logp, "%s/mpi.log", tu_dir);
    char *log = su_read(logp);
    cr_assert_eq(rc, 0, "mpirun failed: %s", log ? log : "");
    free(log);
    snprintf(dir, sizeof dir, "%s/tiny", runs);
    sl_run *r;
    int n;
    sl_error err;
    cr_assert_eq(sl_runs_load(dir, &r, &n, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(n, 4);
    for (int i = 0; i < n; i++) {
        cr_assert_str_eq(r[i].status.state, "done", "%s: %s", r[i].spec.id, r[i].status.state);
        /* trained once: one row per evaluation, steps 0, 10, 20 */
        cr_assert_eq(r[i].n_rows, 3u, "%s has %zu rows", r[i].spec.id, r[i].n_rows);
        for (size_t j = 0; j < r[i].n_rows; j++)
            cr_assert_eq(r[i].rows[j].step, (long)(10 * j));
    }
    sl_runs_free(r, n);
}
