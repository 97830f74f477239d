/* engine: a sweep of training runs in background threads. It plans the runs of
 * a preset into the run store (or reopens a store), schedules them over the cores,
 * and publishes their state and metrics as snapshots. Called by the CLI and the TUI.
 *
 * Threads. The engine owns a scheduler thread and one worker thread per running
 * run (each run may use several threads of its own, see sl_trainer). Every
 * function below is safe to call from any one thread at a time that is not an
 * engine thread (the UI thread, or main); none blocks on training except
 * sl_engine_wait and sl_engine_stop. Engine threads block every signal: the
 * caller handles SIGINT/SIGTERM/SIGWINCH and calls sl_engine_stop.
 *
 * Run states: see run.h (sl_run_state); `scalelab resume` continues stopped
 * runs, but not cancelled ones.
 */
#ifndef SCALELAB_ENGINE_H
#define SCALELAB_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "scalelab/model.h"
#include "scalelab/preset.h"
#include "scalelab/run.h"
#include "scalelab/train.h"
#include "scalelab/util.h"

typedef struct sl_engine sl_engine;

typedef struct {
    const char *runs_dir;  /* parent of the sweep directories; NULL = "runs" */
    const char *data_dir;  /* prepared corpora (sl_corpus_opts.data_dir); NULL = default */
    int cores;             /* cores to keep busy; 0 = the CPUs this process may use
                              (sl_cpus_available: affinity mask, cgroup quota) */
    int jobs;              /* most runs training at once; 0 = as many as cores */
    /* Which planned runs this process trains: a run of index i is trained when
     * only < 0 (all) or i == only, and i % shard_count == shard_index (MPI
     * ranks; shard_count 0 or 1 = no sharding). Other runs are shown in the
     * snapshot with the state their status.json has and are never touched. */
    int only;
    int shard_index, shard_count;
    /* Called each time the generation moves, with no engine lock held, from
     * an engine thread or from the thread that called a control function
     * below; keep it short and thread-safe (e.g. write to a pipe).
     * May be NULL: the wake-up descriptor below works regardless. */
    void (*on_change)(void *user);
    void *user;
    /* 1: sl_engine_wait returns only after sl_engine_stop (a live lab that can
     * receive new runs); 0: it returns once no run can make progress
     * (every selected run done, failed, paused, or stopped). */
    int keep_alive;
    /* Bytes the runs training at once may take together; 0 = what this
     * process can take (sl_mem_available: MemAvailable under the cgroup
     * limit). A run is budgeted at sl_train_memory of its options; the
     * scheduler starts it only while the budgets of the running runs and its
     * own fit, and leaves it queued ("waiting for memory") otherwise. A run
     * alone always starts: the trainer refuses one that cannot fit with a
     * message. */
    double memory;
    /* 1: a run whose checkpoint was made on another thread count than its
     * config.json names resumes anyway (no longer bitwise); 0 refuses it */
    int any_threads;
} sl_engine_opts;

/* only = SL_ONLY_NONE: no planned run is trained unless handed to this process
 * with sl_engine_take (the MPI work queue). */
#define SL_ONLY_NONE (-2)

/* Zeroes o, then only = -1. */
void sl_engine_opts_default(sl_engine_opts *o);

/* Opens the sweep of a preset (sl_preset_load'ed, not yet planned): loads the
 * corpus (and the eval corpus), plans the runs, and creates RUNS/<name>/ with
 * sweep.json, and per run config.json and status.json (queued). If that store
 * already exists and its sweep.json equals this preset's resolved JSON, it is
 * reopened as by sl_engine_open_store; if it differs, SL_EINPUT naming the
 * directory. Bad presets fail here with nothing written under runs_dir.
 * Nothing trains before sl_engine_start. *out is NULL on failure. */
int sl_engine_new(sl_engine **out, const sl_preset *p, const sl_engine_opts *o, sl_error *err);

/* Reopens an existing store (DIR = RUNS/<sweep>): reads sweep.json (refusing a
 * newer format_version, SL_EINPUT, without writing), every <run>/config.json and
 * status.json, and their metric rows. Runs that were running, paused or
 * stopped become queued; done, failed and cancelled runs stay as they are. */
int sl_engine_open_store(sl_engine **out, const char *dir, const sl_engine_opts *o, sl_error *err);

/* Starts the scheduler. Returns at once. */
int sl_engine_start(sl_engine *e, sl_error *err);

/* Asks every running run to checkpoint and stop (state stopped, reason
 * "stopped"), queued runs stay queued, and waits until the workers have exited.
 * Safe to call more than once, and before start. Async-signal-unsafe: call it
 * from the thread that noticed the signal, not from a handler. */
void sl_engine_stop(sl_engine *e);

/* Blocks until the sweep cannot make progress (see keep_alive) or until stop.
 * Returns SL_OK when every selected run is done; SL_EINPUT when a run stopped
 * on bad input (a damaged or foreign checkpoint or metrics.csv), else
 * SL_ERUNTIME when a run failed (diverged) or stopped on an I/O error (a full
 * disk; err names the first; such a run is resumable), 1 if it was stopped or runs are paused, cancelled,
 * or left to another process that holds them (reason "trained by another
 * process": a run is trained by one process at a time, see <run>/.lock). */
int sl_engine_wait(sl_engine *e, sl_error *err);

/* Stops (if needed) and frees everything. The store stays on disk. */
void sl_engine_free(sl_engine *e);

/* A descriptor (non-blocking pipe, read end) that becomes readable when the
 * generation moves; drain it with read() before taking a snapshot. Owned by
 * the engine: do not close it. Bytes are coalesced (at most one pending). */
int sl_engine_wake_fd(const sl_engine *e);

/* The sweep directory (RUNS/<name>), the preset as resolved. Valid until free. */
const char *sl_engine_dir(const sl_engine *e);
const sl_preset *sl_engine_preset(const sl_engine *e);
/* The corpus the sweep trains on (loaded by sl_engine_new / sl_engine_open_store). */
const sl_corpus *sl_engine_corpus(const sl_engine *e);

/* ---- a work queue over processes (MPI) -------------------------------------
 * One process hands the runs out, costliest first, each to the next process
 * that is free (list scheduling, within 4/3 of the best possible); each run is
 * trained by one process, under its <run>/.lock, and a process that dies
 * leaves its run with its checkpoint, queued for the next job to resume. */

/* The training cost of what is left of a run, in FLOPs (logits included, as
 * they dominate the time of small models): what the scheduler orders by. */
double sl_sched_cost(const sl_train_opts *t, long done_steps);
/* The runs left to train here (queued in the store), costliest first (ties by
 * planned index): at most cap planned indexes into order, their costs into cost
 * (may be NULL); returns how many. */
int sl_engine_queue(sl_engine *e, int *order, double *cost, int cap);
/* Trains the run of planned index `index` in this process (with only =
 * SL_ONLY_NONE, the runs it is handed). SL_EINPUT when there is no such run. */
int sl_engine_take(sl_engine *e, int index, sl_error *err);
/* Runs this process was given that are not finished (queued or running). */
int sl_engine_pending(sl_engine *e);
/* List scheduling: k workers take the n jobs in this order, each the next one
 * as it becomes free; returns when the last ends (in the costs' unit), and the
 * worker of each job in worker_of (may be NULL). */
double sl_sched_makespan(const double *cost, int n, int k, int *worker_of);

/* ---- control of single runs ----------------------------------------------
 * `id` is the run's id (its directory name). Each returns SL_OK, or SL_EINPUT
 * with err naming the id when there is no such run or the action does not
 * apply to its state. The effect is asynchronous: a running run reacts
 * after its current step (a pause or cancel checkpoints first); watch the
 * snapshot for the new state. */

/* running|queued -> paused (releases its cores). */
int sl_engine_pause(sl_engine *e, const char *id, sl_error *err);
/* paused|stopped (also cancelled)|failed -> queued; a failed run restarts from
 * its last checkpoint. */
int sl_engine_resume_run(sl_engine *e, const char *id, sl_error *err);
/* queued|running|paused -> stopped with reason "cancelled". */
int sl_engine_cancel(sl_engine *e, const char *id, sl_error *err);
/* Lower priorities start first (default 0; ties by planned index). Applies to
 * the next scheduling decision; a running run keeps running. */
int sl_engine_set_priority(sl_engine *e, const char *id, int priority, sl_error *err);
/* A copy of run id with another seed, queued; its new id goes to new_id
 * (SL_RUN_ID_MAX bytes, may be NULL). */
int sl_engine_duplicate(sl_engine *e, const char *id, uint64_t seed, char *new_id,
                        sl_error *err);
/* Adds a run to the live sweep (writes its config.json, queued). spec->id may
 * be empty (one is made up); spec->index is assigned. Its shape must match the
 * corpus vocabulary (spec->train.model.vocab 0 = the corpus's). */
int sl_engine_add_run(sl_engine *e, const sl_run_spec *spec, char *new_id, sl_error *err);
/* Removes a run that is not running from the sweep and deletes its directory. */
int sl_engine_drop(sl_engine *e, const char *id, sl_error *err);

/* ---- snapshots -------------------------------------------------------------
 * A copy of the whole engine state taken under the engine's lock. Workers hold
 * that lock only to publish (a few microseconds per evaluation), so a front end
 * can take snapshots at frame rate. */

/* Each run of a snapshot is an sl_run_view (run.h). */
typedef struct {
    uint64_t generation;      /* moves on every change; 0 = never filled */
    char dir[1024];           /* the sweep directory */
    char name[64];
    int n_runs;
    sl_run_view *runs;        /* in planned-index order */
    int n_queued, n_running, n_paused, n_done, n_failed, n_stopped;
    int workers;              /* runs training now */
    int threads_busy;         /* sum of their threads */
    int cores;                /* what the scheduler keeps busy */
    double tokens_per_s;      /* all running runs together */
    double gflops;            /* achieved training GFLOP/s (sl_step_gflops) */
    double elapsed_s;         /* since sl_engine_start */
    int finished;             /* the sweep cannot make progress any more */
    int stopping;             /* sl_engine_stop was called */
    char error[1024];         /* the latest run failure, "" if none */
} sl_snapshot;

/* Brings *s up to date. s must be zeroed before its first use. Returns 0 and
 * touches nothing when s->generation already equals the engine's (cheap: one
 * lock and a compare); returns 1 after copying. Only rows that are new since
 * the previous call are copied when the run list is unchanged. */
int sl_engine_snapshot(sl_engine *e, sl_snapshot *s);
void sl_snapshot_free(sl_snapshot *s);
/* Adds run view v to s's totals (the n_* counts, workers, threads_busy,
 * tokens_per_s, gflops); for readers that build a snapshot themselves, such as
 * the lab's watch mode. */
void sl_snapshot_count(sl_snapshot *s, const sl_run_view *v);

#endif
