/* scalelab run | resume: sweeps without the TUI. They drive the engine and
 * show progress on stderr (live lines on a terminal, plain lines otherwise);
 * status and export, which read the store only, are cmd_status.c's.
 * Under MPI (make MPI=1, --mpi) rank 0 hands the runs out to the ranks from a
 * queue, costliest first. */
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef SL_WITH_MPI
#include <mpi.h>
#endif

#include "cli.h"
#include "scalelab/engine.h"
#include "scalelab/machine.h"
#include "scalelab/preset.h"
#include "scalelab/run.h"
#include "scalelab/sigpipe.h"

enum { O_RUNS = 1, O_JOBS, O_CORES, O_ONLY, O_MPI, O_QUIET, O_ANY_THREADS, O_HEADLESS };

static const cli_opt run_opts[] = {
    CLI_OPT("--runs", "DIR", O_RUNS, "parent directory of run stores (default runs)"),
    CLI_OPT("--jobs", "K", O_JOBS, "at most K runs train at once (default: one per core)"),
    CLI_OPT("--cores", "C", O_CORES,
            "cores to keep busy (default: the CPUs this process may use,\n"
            "from its affinity mask and cgroup CPU quota)"),
    CLI_OPT("--only", "I", O_ONLY,
            "train only run I (0-based planned index; e.g. a Slurm array\n"
            "task: --only $SLURM_ARRAY_TASK_ID)"),
    CLI_FLAG("--mpi", O_MPI,
             "hand the runs out to MPI ranks from a queue, costliest first,\n"
             "as they become free (mpirun -np K scalelab run P --mpi; needs\n"
             "a build with make MPI=1); ranks on one node share its cores"),
    CLI_FLAG("--quiet", O_QUIET, "no progress"),
    CLI_FLAG("--any-threads", O_ANY_THREADS,
             "resume runs whose config.json asks for another thread count\n"
             "than their checkpoint was made on (refused without it: their\n"
             "numbers are then no longer bitwise those of an uninterrupted run)"),
    CLI_FLAG("--headless", O_HEADLESS, "accepted for symmetry with the lab; run never opens it"),
    CLI_END,
};

const cli_command cli_run_cmd = {
    "run",
    "usage: scalelab run PRESET [options]\n"
    "\n"
    "Trains the sweep of a preset (a name in presets/, e.g. quickstart, a preset\n"
    "saved by the lab, or a .json file) into the run store DIR/<name> (default\n"
    "runs/<name>). Running it again continues the same sweep.\n"
    "\n",
    NULL,
    (const cli_opt *const[]){run_opts, NULL},
    "\n"
    "Progress goes to stderr. Ctrl-C or SIGTERM stops cleanly: running runs\n"
    "checkpoint and `scalelab resume DIR/<name>` continues. Exit status 0 when every\n"
    "run is done, 1 if a run failed, 2 for bad input, 130 when stopped.\n",
};

static const cli_opt resume_opts[] = {
    CLI_OPT("--jobs", "K", O_JOBS, "at most K runs train at once (default: one per core)"),
    CLI_OPT("--cores", "C", O_CORES,
            "cores to keep busy (default: the CPUs this process may use,\n"
            "from its affinity mask and cgroup CPU quota)"),
    CLI_OPT("--only", "I", O_ONLY, "resume only run I (0-based planned index)"),
    CLI_FLAG("--any-threads", O_ANY_THREADS,
             "resume on the thread count config.json names, not the\n"
             "checkpoint's (the numbers are then no longer bitwise those of\n"
             "an uninterrupted run)"),
    CLI_FLAG("--quiet", O_QUIET, "no progress"),
    CLI_END,
};

const cli_command cli_resume_cmd = {
    "resume",
    "usage: scalelab resume DIR [options]\n"
    "\n"
    "Continues the sweep in run store DIR (runs/<name>) from each run's last\n"
    "checkpoint: running, paused and stopped runs go on (also those a full disk or\n"
    "an I/O error stopped), done and failed (diverged) runs stay. A resumed run\n"
    "trains bit for bit as if it had never stopped, on the thread count of its\n"
    "checkpoint; --any-threads takes the one its config.json names instead. Stale\n"
    "temporary files of killed processes are removed.\n"
    "\n",
    NULL,
    (const cli_opt *const[]){resume_opts, NULL},
    NULL,
};


/* ---- signals -------------------------------------------------------------- */

/* SIGINT and SIGTERM reach drive() through the self-pipe (sigpipe.h). */
static void install_signals(void)
{
    static const int sigs[] = {SIGINT, SIGTERM};
    sl_sigpipe_open(sigs, 2);
}

/* ---- progress ------------------------------------------------------------------ */

typedef struct {
    int tty, quiet;
    int lines;          /* live lines drawn last time */
    sl_run_state *seen; /* last state printed per run (plain mode) */
    double *seen_t;
    int n_seen;
} progress;

static void track(progress *pg, const sl_snapshot *s)
{
    if (pg->n_seen == s->n_runs)
        return;
    free(pg->seen);
    free(pg->seen_t);
    pg->seen = calloc((size_t)s->n_runs + 1, sizeof *pg->seen);
    pg->seen_t = calloc((size_t)s->n_runs + 1, sizeof *pg->seen_t);
    for (int i = 0; i < s->n_runs; i++)
        pg->seen[i] = (sl_run_state)-1;
    pg->n_seen = s->n_runs;
}

static void draw_live(progress *pg, const sl_snapshot *s)
{
    if (pg->lines > 0)
        fprintf(stderr, "\033[%dA", pg->lines);
    /* a run that ends gets a line of its own above the live block */
    track(pg, s);
    for (int i = 0; i < s->n_runs; i++) {
        const sl_run_view *v = &s->runs[i];
        int ended = v->state == SL_RUN_DONE || v->state == SL_RUN_FAILED || v->state == SL_RUN_STOPPED;
        if (ended && pg->seen[i] != (sl_run_state)-1 && pg->seen[i] != v->state)
            fprintf(stderr, "\033[K%s: %s at step %ld, best test %.4f%s%s\n", v->id,
                    sl_run_state_name(v->state), v->done_steps, v->best_test_loss,
                    v->reason[0] ? "; " : "", v->reason);
        pg->seen[i] = v->state;
    }
    int lines = 0;
    for (int i = 0; i < s->n_runs; i++) {
        const sl_run_view *v = &s->runs[i];
        if (v->state != SL_RUN_RUNNING)
            continue;
        double frac = v->planned_steps > 0 ? (double)v->done_steps / v->planned_steps : 0;
        int width = 20, fill = (int)(width * frac);
        char bar[32], eta[32];
        for (int k = 0; k < width; k++)
            bar[k] = k < fill ? '#' : '-';
        bar[width] = 0;
        sl_fmt_duration(eta, sizeof eta, v->eta_s, "--");
        fprintf(stderr, "\033[K%-24s [%s] %3.0f%% loss %.3f test %.3f %6.1fk tok/s ETA %s\n", v->id,
                bar, 100 * frac, v->has_last ? v->last.train_loss : NAN,
                v->has_last ? v->last.test_loss : NAN, v->tokens_per_s / 1e3, eta);
        lines++;
    }
    char el[32];
    sl_fmt_duration(el, sizeof el, s->elapsed_s, "--");
    fprintf(stderr, "\033[K%s: %d/%d done, %d running, %d queued, %d failed; %.1fk tok/s, %.2f GFLOP/s, %s\n",
            s->name, s->n_done, s->n_runs, s->n_running, s->n_queued, s->n_failed,
            s->tokens_per_s / 1e3, s->gflops, el);
    lines++;
    for (int k = lines; k < pg->lines; k++)
        fprintf(stderr, "\033[K\n");
    if (pg->lines > lines)
        fprintf(stderr, "\033[%dA", pg->lines - lines);
    pg->lines = lines;
    fflush(stderr);
}

static void draw_plain(progress *pg, const sl_snapshot *s)
{
    track(pg, s);
    double now = sl_now();
    for (int i = 0; i < s->n_runs; i++) {
        const sl_run_view *v = &s->runs[i];
        int changed = pg->seen[i] != v->state;
        int periodic = v->state == SL_RUN_RUNNING && now - pg->seen_t[i] >= 10;
        if (!changed && !periodic)
            continue;
        if (changed && pg->seen[i] == (sl_run_state)-1 && v->state == SL_RUN_QUEUED) {
            pg->seen[i] = v->state;
            continue;
        }
        pg->seen[i] = v->state;
        pg->seen_t[i] = now;
        char eta[32];
        sl_fmt_duration(eta, sizeof eta, v->eta_s, "--");
        if (v->state == SL_RUN_RUNNING && v->done_steps == 0)
            fprintf(stderr, "%s: started (N=%.3g, %ld steps, %d threads)\n", v->id, v->n,
                    v->planned_steps, v->threads);
        else if (v->state == SL_RUN_RUNNING)
            fprintf(stderr, "%s: running step %ld/%ld test %.4f %.0f tok/s ETA %s (%d threads)\n",
                    v->id, v->done_steps, v->planned_steps, v->has_last ? v->last.test_loss : NAN,
                    v->tokens_per_s, eta, v->threads);
        else
            fprintf(stderr, "%s: %s at step %ld best test %.4f%s%s\n", v->id,
                    sl_run_state_name(v->state), v->done_steps, v->best_test_loss,
                    v->reason[0] ? "; " : "", v->reason);
    }
}

/* Drives an engine to the end or to a signal; returns the exit status.
 * report: 0 silent (MPI ranks but 0), 1 progress and a summary, 2 progress
 * only (MPI rank 0, which sums up the whole store afterwards). */
static int drive(sl_engine *e, int quiet, int report)
{
    sl_error err = {{0}};
    progress pg = {0};
    pg.quiet = quiet || !report;
    pg.tty = isatty(2) && !pg.quiet;
    sl_snapshot snap;
    memset(&snap, 0, sizeof snap);
    int rc = sl_engine_start(e, &err);
    if (rc)
        return cli_report(rc, &err);
    double last_draw = 0;
    for (;;) {
        struct pollfd fds[2] = {{sl_engine_wake_fd(e), POLLIN, 0}, {sl_sigpipe_fd(), POLLIN, 0}};
        poll(fds, sl_sigpipe_fd() >= 0 ? 2 : 1, pg.tty ? 250 : 1000);
        char buf[64];
        while (read(fds[0].fd, buf, sizeof buf) > 0) {
        }
        if (sl_sigpipe_last())
            break;
        int changed = sl_engine_snapshot(e, &snap);
        if (!pg.quiet && (changed || sl_now() - last_draw > 1)) {
            if (pg.tty)
                draw_live(&pg, &snap);
            else
                draw_plain(&pg, &snap);
            last_draw = sl_now();
        }
        if (snap.finished)
            break;
    }
    int sig = sl_sigpipe_last();
    if (sig) {
        if (!pg.quiet)
            fprintf(stderr, "\nscalelab: %s: stopping; running runs checkpoint\n",
                    sig == SIGTERM ? "SIGTERM" : "interrupted");
        sl_engine_stop(e);
    }
    rc = sl_engine_wait(e, &err);
    sl_engine_snapshot(e, &snap);
    if (!pg.quiet) {
        if (pg.tty)
            draw_live(&pg, &snap);
        else
            draw_plain(&pg, &snap);
    }
    if (report == 1 && !quiet) {
        if (sig)
            fprintf(stderr, "scalelab: stopped; continue with: scalelab resume %s\n", snap.dir);
        else
            fprintf(stderr, "scalelab: %s: %d done, %d failed, %d other; store %s\n", snap.name,
                    snap.n_done, snap.n_failed, snap.n_runs - snap.n_done - snap.n_failed, snap.dir);
    }
    sl_snapshot_free(&snap);
    free(pg.seen);
    free(pg.seen_t);
    if (sig)
        return 130;
    if (rc == SL_ERUNTIME || rc == SL_EINPUT)
        return cli_report(rc, &err);
    return rc == SL_OK ? 0 : 1;
}

/* ---- run / resume ----------------------------------------------------------------- */

typedef struct {
    const char *target, *runs_dir;
    long jobs, cores, only;
    int mpi, quiet, any_threads;
} sweep_args;

/* 1 when the command is to return *status at once (help, bad input). */
static int parse_sweep_args(int argc, char **argv, const cli_command *cmd, sweep_args *a,
                            int *status)
{
    memset(a, 0, sizeof *a);
    a->only = -1;
    cli_args args;
    if (cli_parse(cmd, argc, argv, &args, status))
        return 1;
    sl_error err = {{0}};
    int rc = SL_OK;
    for (int k = 0; k < args.n_items && rc == SL_OK; k++) {
        const cli_item *it = &args.items[k];
        switch (it->id) {
        case O_MPI: a->mpi = 1; break;
        case O_HEADLESS: break; /* run never opens the lab; accepted as DESIGN.md spells it */
        case O_QUIET: a->quiet = 1; break;
        case O_ANY_THREADS: a->any_threads = 1; break;
        case O_RUNS: a->runs_dir = it->arg; break;
        case O_JOBS: rc = cli_parse_int(it->name, it->arg, 1, 4096, &a->jobs, &err); break;
        case O_CORES: rc = cli_parse_int(it->name, it->arg, 1, 4096, &a->cores, &err); break;
        case O_ONLY: rc = cli_parse_int(it->name, it->arg, 0, 1000000, &a->only, &err); break;
        }
    }
    const char *what = cmd == &cli_run_cmd ? "PRESET" : "DIR";
    if (rc == SL_OK && args.n_pos > 1)
        rc = sl_fail(&err, SL_EINPUT, "%s: unexpected argument (see scalelab %s --help)", args.pos[1],
                     cmd->name);
    else if (rc == SL_OK && args.n_pos == 0)
        rc = sl_fail(&err, SL_EINPUT, "%s: missing (see scalelab %s --help)", what, cmd->name);
    else if (rc == SL_OK)
        a->target = args.pos[0];
    cli_args_free(&args);
    if (rc == SL_OK)
        return 0;
    *status = cli_report(rc, &err);
    return 1;
}

static void engine_opts_from(const sweep_args *a, sl_engine_opts *o)
{
    sl_engine_opts_default(o);
    o->runs_dir = a->runs_dir;
    o->jobs = (int)a->jobs;
    o->any_threads = a->any_threads;
    if (a->any_threads)
        fprintf(stderr, "scalelab: --any-threads: a run resumed on another thread count than its "
                        "checkpoint's is no longer bitwise that of an uninterrupted sweep\n");
    o->cores = (int)a->cores;
    o->only = (int)a->only;
}

static int check_only(const sl_engine *e, long only, sl_error *err)
{
    if (only < 0)
        return SL_OK;
    sl_snapshot s;
    memset(&s, 0, sizeof s);
    sl_engine_snapshot((sl_engine *)e, &s);
    int found = 0;
    for (int i = 0; i < s.n_runs; i++)
        found |= s.runs[i].index == only;
    int n = s.n_runs;
    sl_snapshot_free(&s);
    if (!found)
        return sl_fail(err, SL_EINPUT, "--only: %ld is not a run of the sweep (expected 0..%d)", only,
                       n - 1);
    return SL_OK;
}

#ifdef SL_WITH_MPI
enum { TAG_ASK = 1, TAG_RUN = 2 };

/* The work queue (engine.h): rank 0 hands out the planned runs left to train,
 * costliest first, one at a time to each rank that asks (itself included)
 * when it has nothing left; -1 means the queue is empty. Every run goes to
 * one rank once; a rank that dies leaves its run queued in the store with its
 * checkpoint, and the next job (mpirun again, or scalelab resume) resumes it.
 * Returns this rank's status: 0 when all it was given is done, 1 otherwise,
 * 130 on a signal. */
static int mpi_queue(sl_engine *e, int rank, int size, int quiet)
{
    sl_error err = {{0}};
    int rc = sl_engine_start(e, &err);
    if (rc)
        return cli_report(rc, &err);
    int n_runs = sl_engine_preset(e)->n_runs, n_q = 0, next = 0, asked = 0, empty = 0;
    int *order = sl_xcalloc((size_t)(n_runs > 0 ? n_runs : 1) + 1, sizeof *order);
    if (rank == 0) {
        n_q = sl_engine_queue(e, order, NULL, n_runs);
        if (!quiet)
            fprintf(stderr, "scalelab: %d ranks; %d runs to train, handed out costliest first\n",
                    size, n_q);
    }
    int open_ranks = size - 1; /* ranks that have not yet been told "empty" */
    sl_snapshot snap;
    memset(&snap, 0, sizeof snap);
    double last_draw = 0;
    progress pg = {0};
    pg.quiet = quiet || rank != 0;
    for (;;) {
        struct pollfd fds[2] = {{sl_engine_wake_fd(e), POLLIN, 0}, {sl_sigpipe_fd(), POLLIN, 0}};
        poll(fds, sl_sigpipe_fd() >= 0 ? 2 : 1, 50);
        char buf[64];
        while (read(fds[0].fd, buf, sizeof buf) > 0) {
        }
        if (sl_sigpipe_last())
            break;
        int pending = sl_engine_pending(e);
        if (rank == 0) {
            int flag = 1;
            while (flag) {
                MPI_Status st;
                MPI_Iprobe(MPI_ANY_SOURCE, TAG_ASK, MPI_COMM_WORLD, &flag, &st);
                if (!flag)
                    break;
                int dummy, give = next < n_q ? order[next++] : -1;
                MPI_Recv(&dummy, 1, MPI_INT, st.MPI_SOURCE, TAG_ASK, MPI_COMM_WORLD,
                         MPI_STATUS_IGNORE);
                MPI_Send(&give, 1, MPI_INT, st.MPI_SOURCE, TAG_RUN, MPI_COMM_WORLD);
                if (give < 0)
                    open_ranks--;
            }
            if (pending == 0 && next < n_q)
                sl_engine_take(e, order[next++], &err);
            else if (pending == 0 && open_ranks == 0)
                break;
        } else if (pending == 0) {
            if (empty)
                break;
            int give;
            MPI_Send(&asked, 1, MPI_INT, 0, TAG_ASK, MPI_COMM_WORLD);
            MPI_Recv(&give, 1, MPI_INT, 0, TAG_RUN, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            asked++;
            if (give < 0)
                empty = 1;
            else
                sl_engine_take(e, give, &err);
        }
        int changed = sl_engine_snapshot(e, &snap);
        if (!pg.quiet && (changed || sl_now() - last_draw > 1)) {
            draw_plain(&pg, &snap);
            last_draw = sl_now();
        }
    }
    int sig = sl_sigpipe_last();
    if (sig && !quiet)
        fprintf(stderr, "scalelab: rank %d: %s: stopping; running runs checkpoint\n", rank,
                sig == SIGTERM ? "SIGTERM" : "interrupted");
    sl_engine_stop(e);
    sl_engine_snapshot(e, &snap);
    int status = 0;
    for (int i = 0; i < snap.n_runs; i++)
        if (snap.runs[i].state == SL_RUN_FAILED)
            status = 1;
    sl_snapshot_free(&snap);
    free(pg.seen);
    free(pg.seen_t);
    free(order);
    return sig ? 130 : status;
}

static int run_mpi(const sl_preset *p, sweep_args *a)
{
    int provided, rank, size;
    MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    sl_engine_opts o;
    engine_opts_from(a, &o);
    /* runs come from rank 0's queue, not from a fixed share */
    o.only = SL_ONLY_NONE;
    o.keep_alive = 1;
    /* ranks that share a node share its cores */
    MPI_Comm node;
    int local = 1;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node) ==
        MPI_SUCCESS) {
        MPI_Comm_size(node, &local);
        MPI_Comm_free(&node);
    }
    /* mpirun may bind each rank to its own cores (then the affinity mask is
     * already this rank's share) or not (then the ranks split what they see) */
    long np = sl_cpus_available(), online = sysconf(_SC_NPROCESSORS_ONLN);
    if (a->cores == 0 && local > 1 && np >= online)
        o.cores = np / local > 0 ? (int)(np / local) : 1;
    o.jobs = 1; /* one run at a time per rank: the queue balances them */
    sl_error err = {{0}};
    sl_engine *e = NULL;
    /* rank 0 creates the store; the others open it once it is complete */
    int rc = SL_OK;
    if (rank == 0)
        rc = sl_engine_new(&e, p, &o, &err);
    int ok = rc == SL_OK;
    MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (!ok) {
        if (rank == 0)
            cli_report(rc, &err);
        MPI_Finalize();
        return sl_exit_code(rc ? rc : SL_ERUNTIME);
    }
    if (rank != 0 && (rc = sl_engine_new(&e, p, &o, &err))) {
        cli_report(rc, &err);
        MPI_Abort(MPI_COMM_WORLD, sl_exit_code(rc));
    }
    int status = mpi_queue(e, rank, size, a->quiet);
    int worst = status;
    MPI_Reduce(&status, &worst, 1, MPI_INT, MPI_MAX, 0, MPI_COMM_WORLD);
    if (rank == 0 && !a->quiet) {
        /* every rank is past its runs (the reduction waited for them): the
         * store holds the whole result */
        sl_run *runs;
        int n, done = 0;
        if (sl_runs_load(sl_engine_dir(e), &runs, &n, &err) == SL_OK) {
            for (int i = 0; i < n; i++)
                done += sl_run_state_of(&runs[i]) == SL_RUN_DONE;
            sl_runs_free(runs, n);
            fprintf(stderr, "scalelab: %d ranks finished; %d of %d runs done in %s\n", size, done,
                    n, sl_engine_dir(e));
        }
    }
    sl_engine_free(e);
    MPI_Finalize();
    return rank == 0 ? worst : status;
}
#endif

int cmd_run(int argc, char **argv)
{
    sweep_args a;
    int rc;
    if (parse_sweep_args(argc, argv, &cli_run_cmd, &a, &rc))
        return rc;
    sl_error err = {{0}};
#ifndef SL_WITH_MPI
    if (a.mpi)
        return cli_report(sl_fail(&err, SL_EINPUT, "--mpi: this scalelab was built without MPI "
                                                   "(expected a build with make MPI=1)"),
                          &err);
#endif
    char path[1024];
    sl_preset p;
    if ((rc = sl_preset_find(a.target, path, sizeof path, &err)) ||
        (rc = sl_preset_load(&p, path, &err)))
        return cli_report(rc, &err);
#ifdef SL_WITH_MPI
    if (a.mpi) {
        install_signals();
        rc = run_mpi(&p, &a);
        sl_preset_free(&p);
        return rc;
    }
#endif
    sl_engine_opts o;
    engine_opts_from(&a, &o);
    sl_engine *e;
    rc = sl_engine_new(&e, &p, &o, &err);
    sl_preset_free(&p);
    if (rc == SL_OK)
        rc = check_only(e, a.only, &err);
    if (rc) {
        sl_engine_free(e);
        return cli_report(rc, &err);
    }
    install_signals();
    char warn[1024];
    sl_preset_epoch_warning(sl_engine_preset(e), sl_engine_corpus(e), warn, sizeof warn);
    if (warn[0])
        fprintf(stderr, "scalelab: %s\n", warn);
    if (!a.quiet)
        fprintf(stderr, "scalelab: sweep %s (%s), store %s\n", sl_engine_preset(e)->name,
                sl_engine_preset(e)->description, sl_engine_dir(e));
    int status = drive(e, a.quiet, 1);
    sl_engine_free(e);
    return status;
}

int cmd_resume(int argc, char **argv)
{
    sweep_args a;
    int rc;
    if (parse_sweep_args(argc, argv, &cli_resume_cmd, &a, &rc))
        return rc;
    sl_error err = {{0}};
    sl_engine_opts o;
    engine_opts_from(&a, &o);
    sl_engine *e;
    if ((rc = sl_engine_open_store(&e, a.target, &o, &err)) == SL_OK)
        rc = check_only(e, a.only, &err);
    if (rc) {
        sl_engine_free(e);
        return cli_report(rc, &err);
    }
    install_signals();
    if (!a.quiet)
        fprintf(stderr, "scalelab: resuming %s\n", sl_engine_dir(e));
    int status = drive(e, a.quiet, 1);
    sl_engine_free(e);
    return status;
}
