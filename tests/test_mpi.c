/* The MPI work queue: rank 0 hands the runs out costliest first as ranks
 * become free. Its balance on the shipped isoflop preset is planned here
 * against the best possible from the runs' FLOPs; the queue runs on 2-4 ranks
 * (mpirun --oversubscribe) with every run trained once, and a rank killed in
 * the middle of a run leaves it for the next job, which resumes it. */
#include <dirent.h>
#include <math.h>
#include <signal.h>

#include "scalelab/engine.h"
#include "scalelab/run.h"
#include "sweeputil.h"

TestSuite(mpi, .init = tu_make_dir, .fini = tu_remove_dir);

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* max(sum/k, largest): no assignment of these runs to k ranks ends earlier */
static double lower_bound(const double *c, int n, int k)
{
    double sum = 0, big = 0;
    for (int i = 0; i < n; i++) {
        sum += c[i];
        big = c[i] > big ? c[i] : big;
    }
    return sum / k > big ? sum / k : big;
}

Test(mpi, the_queue_balances_isoflop_within_1_2x_of_the_best_possible)
{
    sl_preset p;
    sl_error err;
    char path[1024];
    snprintf(path, sizeof path, "%s/presets/isoflop.json", SL_SOURCE_DIR);
    cr_assert_eq(sl_preset_load(&p, path, &err), SL_OK, "%s", err.msg);
    sl_corpus c = {0};
    c.n_tokens = 1u << 22;
    c.n_train = c.n_tokens - c.n_tokens / 20;
    c.tokens = calloc(c.n_tokens, sizeof *c.tokens);
    c.vocab = 256;
    cr_assert_eq(sl_preset_plan(&p, &c, &err), SL_OK, "%s", err.msg);
    int n = p.n_runs;
    double *cost = calloc((size_t)n, sizeof *cost), *rr = calloc((size_t)n, sizeof *rr);
    for (int i = 0; i < n; i++)
        cost[i] = sl_sched_cost(&p.runs[i].train, 0);
    for (int k = 2; k <= 4; k++) {
        /* the old assignment: run i to rank i mod k */
        double *load = calloc((size_t)k, sizeof *load), old = 0;
        for (int i = 0; i < n; i++)
            load[p.runs[i].index % k] += cost[i];
        for (int r = 0; r < k; r++)
            old = load[r] > old ? load[r] : old;
        free(load);
        memcpy(rr, cost, (size_t)n * sizeof *rr);
        qsort(rr, (size_t)n, sizeof *rr, cmp_desc);
        double best = lower_bound(cost, n, k), queue = sl_sched_makespan(rr, n, k, NULL);
        cr_log_info("isoflop on %d ranks: queue %.3fx, i mod k %.3fx of the best possible", k,
                    queue / best, old / best);
        cr_assert_leq(queue / best, 1.2, "%d ranks: %.3fx", k, queue / best);
        /* (on 3 ranks an earlier isoflop preset gave i mod k 2.1x) */
        if (k == 2)
            cr_assert_gt(old / best, 1.2, "the old assignment was already balanced");
    }
    free(cost);
    free(rr);
    free(c.tokens);
    sl_preset_free(&p);
}

Test(mpi, list_scheduling_gives_each_job_to_the_first_free_worker)
{
    const double c[] = {5, 4, 3, 3, 2, 1};
    int w[6];
    cr_assert_float_eq(sl_sched_makespan(c, 6, 2, w), 9, 1e-12);
    const int want[6] = {0, 1, 1, 0, 1, 0};
    for (int i = 0; i < 6; i++)
        cr_assert_eq(w[i], want[i], "job %d on %d", i, w[i]);
    cr_assert_float_eq(sl_sched_makespan(c, 6, 1, NULL), 18, 1e-12);
}

/* Builds build-mpi/scalelab once at a time (tests run in parallel). */
static void build_mpi(void)
{
    if (system("command -v mpicc >/dev/null 2>&1 && command -v mpirun >/dev/null 2>&1") != 0)
        cr_skip_test("mpicc or mpirun missing (install openmpi-bin libopenmpi-dev)");
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL flock build-mpi.lock make -s MPI=1 "
             "build-mpi/scalelab >'%s/mpi-build.log' 2>&1",
             SL_SOURCE_DIR, tu_dir);
    cr_assert_eq(system(cmd), 0, "make MPI=1 failed (see the build log)");
}

static const char *mpi_preset(char *buf, size_t len, long steps)
{
    char train[256];
    snprintf(train, sizeof train,
             "\"batch\": 8, \"steps\": %ld, \"eval_every\": 10, \"eval_tokens\": 512, "
             "\"seeds\": [1, 2], \"threads\": 1",
             steps);
    return su_preset(buf, len, "q", "\"n\": [3000, 12000, 25000]", train);
}

/* mpirun -np K in the background; its pid. */
static pid_t mpirun(int k, const char *preset, const char *runs)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "exec mpirun -np %d --oversubscribe --allow-run-as-root '%s/build-mpi/scalelab' run "
             "'%s' --runs '%s' --mpi >>'%s/mpi.log' 2>&1",
             k, SL_SOURCE_DIR, preset, runs, tu_dir);
    pid_t pid = fork();
    if (pid == 0) {
        setenv("SCALELAB_DATA", tu_dir, 1);
        setenv("OMPI_MCA_rmaps_base_oversubscribe", "1", 1);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Every run done, trained once: its rows are the evaluations 0, 10, ... in
 * order, none twice. */
static void assert_each_run_once(const char *runs, long steps)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/q", runs);
    sl_run *r;
    int n;
    sl_error err;
    cr_assert_eq(sl_runs_load(dir, &r, &n, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(n, 6);
    for (int i = 0; i < n; i++) {
        cr_assert_eq(sl_run_state_of(&r[i]), SL_RUN_DONE, "%s: %s", r[i].spec.id,
                     r[i].status.state);
        cr_assert_eq(r[i].n_rows, (size_t)(steps / 10 + 1), "%s has %zu rows", r[i].spec.id,
                     r[i].n_rows);
        for (size_t j = 0; j < r[i].n_rows; j++)
            cr_assert_eq(r[i].rows[j].step, (long)(10 * j), "%s row %zu", r[i].spec.id, j);
    }
    sl_runs_free(r, n);
}

static char *mpi_log(void)
{
    char p[600];
    snprintf(p, sizeof p, "%s/mpi.log", tu_dir);
    char *s = su_read(p);
    return s ? s : strdup("");
}

Test(mpi, the_queue_trains_every_run_once_on_2_3_and_4_ranks, .timeout = 600)
{
    build_mpi();
    for (int k = 2; k <= 4; k++) {
        char preset[512], runs[512], name[32];
        mpi_preset(preset, sizeof preset, 20);
        snprintf(name, sizeof name, "runs%d", k);
        tu_path(runs, sizeof runs, name);
        int rc = su_wait(mpirun(k, preset, runs));
        char *log = mpi_log();
        cr_assert_eq(rc, 0, "%d ranks: mpirun exited %d: %s", k, rc, log);
        cr_assert_not_null(strstr(log, "6 runs to train, handed out costliest first"), "%s", log);
        free(log);
        assert_each_run_once(runs, 20);
    }
}

/* A rank process holding a run's .lock (training it), or 0. */
static pid_t rank_in_a_run(const char *runs)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    pid_t found = 0;
    while (d && !found && (de = readdir(d))) {
        char fdd[300], link[1200], target[1200];
        snprintf(fdd, sizeof fdd, "/proc/%s/fd", de->d_name);
        DIR *f = opendir(fdd);
        struct dirent *fe;
        while (f && !found && (fe = readdir(f))) {
            snprintf(link, sizeof link, "%s/%s", fdd, fe->d_name);
            ssize_t m = readlink(link, target, sizeof target - 1);
            if (m <= 0)
                continue;
            target[m] = 0;
            if (!strncmp(target, runs, strlen(runs)) && strstr(target, "/.lock"))
                found = (pid_t)atoi(de->d_name);
        }
        if (f)
            closedir(f);
    }
    if (d)
        closedir(d);
    return found;
}

Test(mpi, a_rank_killed_in_a_run_leaves_it_to_the_next_job, .timeout = 600)
{
    build_mpi();
    char preset[512], runs[512];
    mpi_preset(preset, sizeof preset, 400);
    tu_path(runs, sizeof runs, "runs");
    pid_t job = mpirun(2, preset, runs);
    /* wait for a rank to be inside a run past its first checkpoint */
    pid_t victim = 0;
    for (int i = 0; i < 6000 && !victim; i++) {
        su_sleep(0.01);
        pid_t p = rank_in_a_run(runs);
        char dir[600];
        snprintf(dir, sizeof dir, "%s/q", runs);
        sl_run *r;
        int n;
        sl_error err;
        if (p && sl_runs_load(dir, &r, &n, &err) == SL_OK) {
            for (int k = 0; k < n; k++)
                if (sl_run_state_of(&r[k]) == SL_RUN_RUNNING && r[k].n_rows >= 3)
                    victim = p;
            sl_runs_free(r, n);
        }
    }
    cr_assert_neq(victim, 0, "no rank got into a run");
    kill(victim, SIGKILL);
    int rc = su_wait(job);
    char *log = mpi_log();
    cr_assert_neq(rc, 0, "mpirun exited 0 with a rank killed: %s", log);
    free(log);
    /* the next job trains what is left, the killed run from its checkpoint */
    rc = su_wait(mpirun(2, preset, runs));
    log = mpi_log();
    cr_assert_eq(rc, 0, "the next job exited %d: %s", rc, log);
    free(log);
    assert_each_run_once(runs, 400);
}
