/* engine_int: what the engine's files share (engine.c: the sweep, its store and
 * its run table; sched.c: the scheduler thread; worker.c: one thread per
 * running run; control.c: control of single runs; snapshot.c: snapshots).
 * Private to src/engine.
 *
 * One mutex (sl_engine.mu) guards the run table and everything a snapshot
 * copies. The scheduler thread sleeps on a condition variable and wakes when a
 * worker exits or the user changes something; it starts runs while cores are
 * free. A worker trains one run outside the lock, taking it only to publish a
 * metric row, its speed, and to read its control flags between steps. */
#ifndef SL_ENGINE_INT_H
#define SL_ENGINE_INT_H

#include <pthread.h>

#include "scalelab/engine.h"
#include "scalelab/run.h"
#include "scalelab/store.h"

/* A run of the table: its record (run.h: spec, rows, transfer; the status is
 * kept live below and written from it) and what the engine does with it. */
typedef struct run {
    struct sl_engine *e;
    sl_run rec;
    char dir[1200];
    sl_run_state state;
    int cancelled, early_stopped, selected;
    char reason[256];
    int want_pause, want_cancel;
    int has_thread, exited;
    pthread_t thread;
    size_t cap;             /* room in rec.rows and rec.transfer */
    long done_steps;
    double tps, eta, step_time;
    double last_pub;
    int config_dirty;
    double mem_budget; /* bytes the scheduler admitted it with (while running) */
    /* stopped by an error that leaves the run intact (a full disk, an I/O
     * error, a damaged or foreign checkpoint): SL_ERUNTIME or SL_EINPUT, 0
     * otherwise. Such a run is resumable; it is not failed. */
    int error_rc;
} run;

struct sl_engine {
    sl_engine_opts o;
    char runs_dir[1024], dir[1024];
    sl_preset p;
    sl_corpus corpus, eval_corpus;
    int has_corpus, has_eval;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    run **runs;
    int n_runs, cap, next_index;
    uint64_t gen;
    int wake[2];
    int wake_pending;
    pthread_t sched;
    int sched_started, sched_done, stopping, finished;
    int cores, jobs;
    int scouts;       /* runs started cheapest-first (sched.c) */
    int lpt_only;     /* SCALELAB_SCHED=lpt: costliest first from the first run on */
    double t_start;
    double rss_start; /* resident bytes when the scheduler started */
    char error[1024];
};

/* engine.c */
/* Called with the lock held: the state a snapshot sees has changed. */
void engine_bump(sl_engine *e);
/* Calls the on_change hook (without the lock). */
void engine_notify(sl_engine *e);
/* config.json and status.json of a run, from its table entry. */
int engine_write_config(const run *r, sl_error *err);
/* Epochs of its train data the run has seen (its done steps). */
double engine_run_epochs(const run *r);
int engine_write_status(const run *r, sl_error *err);
/* The run of that id, or NULL (lock held). */
run *engine_find(sl_engine *e, const char *id);
/* Appends r to the table (lock held). */
void engine_add_to_table(sl_engine *e, run *r);

/* worker.c: the thread of one run (arg: the run). */
void *worker_main(void *arg);

#endif
