/* worker: the thread that trains one run of the engine (engine_int.h). It
 * holds the run's .lock, opens its run directory (run.h: the checkpoint, the
 * trimmed metrics, the append), trains through sl_run_dir_train, and takes the
 * engine's lock only to publish a row, its speed, and to read its control
 * flags between steps. */
#define _DEFAULT_SOURCE
#include "engine_int.h"

#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* Early stopping over the rows so far: 1 when the last `patience` evaluations
 * brought no improvement larger than min_delta over the best before them. */
static int patience_spent(const sl_run_spec *s, const sl_metric_row *rows, size_t n)
{
    double b = INFINITY;
    int since = 0;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].test_loss < b - s->min_delta) {
            b = rows[i].test_loss;
            since = 0;
        } else
            since++;
    }
    return s->patience > 0 && since >= s->patience;
}

static void publish_row(sl_engine *e, run *r, const sl_metric_row *row, double transfer)
{
    pthread_mutex_lock(&e->mu);
    if (r->rec.n_rows == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        sl_metric_row *v = realloc(r->rec.rows, r->cap * sizeof *v);
        double *x = realloc(r->rec.transfer, r->cap * sizeof *x);
        if (!v || !x)
            abort();
        r->rec.rows = v;
        r->rec.transfer = x;
    }
    r->rec.rows[r->rec.n_rows] = *row;
    r->rec.transfer[r->rec.n_rows] = transfer;
    r->rec.n_rows++;
    r->done_steps = row->step;
    engine_bump(e);
    pthread_mutex_unlock(&e->mu);
    engine_notify(e);
}

enum { END_DONE, END_EARLY, END_FAILED, END_DIVERGED, END_STOPPED, END_PAUSED, END_CANCELLED, END_BUSY };

/* Holds <run>/.lock for the life of a training: two processes that were
 * handed the same run (two resumes of one store, overlapping MPI or Slurm
 * runs) would otherwise append the same rows twice. The kernel drops the lock
 * when a process dies, so a crash never leaves a run locked. */
static int lock_run(const run *r)
{
    char path[1300];
    sl_run_path(path, sizeof path, r->dir, SL_RUN_LOCK_FILE);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -2;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* What the hooks of one training share. */
typedef struct {
    sl_engine *e;
    run *r;
    sl_run_spec spec;
    double tok_per_step;
    int end;
} work;

static int w_should_stop(void *user)
{
    work *w = user;
    pthread_mutex_lock(&w->e->mu);
    int stop = w->e->stopping, pause = w->r->want_pause, cancel = w->r->want_cancel;
    pthread_mutex_unlock(&w->e->mu);
    if (stop || pause || cancel)
        w->end = cancel ? END_CANCELLED : pause ? END_PAUSED : END_STOPPED;
    return stop || pause || cancel;
}

/* the loss on the eval corpus (transfer) of the row's model */
static double w_extra(void *user, const sl_trainer *t)
{
    work *w = user;
    if (!w->e->has_eval)
        return NAN;
    return sl_eval_loss(sl_trainer_model(t), &w->e->eval_corpus, w->spec.train.eval_tokens);
}

static int w_on_row(void *user, const sl_metric_row *row, double extra, sl_error *err)
{
    work *w = user;
    publish_row(w->e, w->r, row, extra);
    if (row->step == 0)
        return 0;
    pthread_mutex_lock(&w->e->mu);
    int spent = patience_spent(&w->spec, w->r->rec.rows, w->r->rec.n_rows);
    pthread_mutex_unlock(&w->e->mu);
    int rc = engine_write_status(w->r, err);
    if (rc)
        return rc;
    if (spent)
        w->end = END_EARLY;
    return spent;
}

static void w_on_step(void *user, const sl_trainer *t, double dt)
{
    work *w = user;
    sl_engine *e = w->e;
    run *r = w->r;
    pthread_mutex_lock(&e->mu);
    r->step_time = r->step_time > 0 ? 0.9 * r->step_time + 0.1 * dt : dt;
    r->tps = w->tok_per_step / r->step_time;
    r->done_steps = sl_trainer_steps_done(t);
    r->eta = (double)(w->spec.train.steps - r->done_steps) * r->step_time;
    double now = sl_now();
    int pub = now - r->last_pub > 0.2;
    if (pub) {
        r->last_pub = now;
        engine_bump(e);
    }
    pthread_mutex_unlock(&e->mu);
    if (pub)
        engine_notify(e);
}

static int write_context(const sl_engine *e, const run *r, const sl_trainer *t, sl_error *err)
{
    const sl_model *m = sl_trainer_model(t);
    double *pos = sl_xcalloc((size_t)m->cfg.n_ctx, sizeof(double));
    sl_eval_positions(m, &e->corpus, pos);
    int rc = sl_context_write(r->dir, pos, m->cfg.n_ctx, err);
    free(pos);
    return rc;
}

/* sources.csv: the final model's held-out loss on each source of a named corpus */
static int write_sources(const sl_engine *e, const run *r, const sl_trainer *t, sl_error *err)
{
    if (e->corpus.n_sources < 1)
        return SL_OK;
    sl_source_loss s[SL_MAX_SOURCES];
    int n = sl_eval_sources(sl_trainer_model(t), &e->corpus, r->rec.spec.train.eval_tokens, s);
    return sl_sources_write(r->dir, s, n, err);
}

static int train_locked(sl_engine *e, run *r, int *end, sl_error *err)
{
    work w = {.e = e, .r = r, .end = END_DONE};
    pthread_mutex_lock(&e->mu);
    w.spec = r->rec.spec;
    int dirty = r->config_dirty;
    r->config_dirty = 0;
    pthread_mutex_unlock(&e->mu);
    int rc;
    if (dirty) {
        /* from the copy: the user may reprioritise the run meanwhile */
        run *tmp = sl_xcalloc(1, sizeof *tmp);
        tmp->rec.spec = w.spec;
        memcpy(tmp->dir, r->dir, sizeof tmp->dir);
        rc = engine_write_config(tmp, err);
        free(tmp);
        if (rc)
            return rc;
    }
    sl_trainer *t;
    w.spec.train.any_threads = e->o.any_threads;
    if ((rc = sl_trainer_new(&t, &w.spec.train, &e->corpus, err)))
        return rc;
    sl_run_dir d;
    if ((rc = sl_run_dir_open(&d, r->dir, t, e->has_eval ? SL_RUN_TRANSFER_COLUMN : NULL, err))) {
        sl_trainer_free(t);
        return rc;
    }
    int spent = patience_spent(&w.spec, d.rows, d.n_rows);
    pthread_mutex_lock(&e->mu);
    free(r->rec.rows);
    free(r->rec.transfer);
    r->rec.rows = d.rows;
    r->rec.transfer = d.transfer ? d.transfer : sl_xcalloc(d.n_rows ? d.n_rows : 1, sizeof(double));
    if (!d.transfer)
        for (size_t i = 0; i < d.n_rows; i++)
            r->rec.transfer[i] = NAN;
    r->rec.n_rows = r->cap = d.n_rows;
    r->done_steps = sl_trainer_steps_done(t);
    engine_bump(e);
    pthread_mutex_unlock(&e->mu);
    d.rows = NULL; /* the table owns them now */
    d.transfer = NULL;
    rc = engine_write_status(r, err);
    w.tok_per_step = (double)w.spec.train.batch * w.spec.train.model.n_ctx;
    int stopped = 0;
    if (rc == SL_OK && spent)
        w.end = END_EARLY;
    else if (rc == SL_OK) {
        sl_run_hooks h = {w_should_stop, w_extra, w_on_row, w_on_step, &w};
        rc = sl_run_dir_train(&d, t, &h, &stopped, err);
    }
    *end = w.end;
    if (rc == SL_OK && !stopped && e->p.context_losses)
        rc = write_context(e, r, t, err);
    if (rc == SL_OK && !stopped)
        rc = write_sources(e, r, t, err);
    sl_error e2;
    int crc = sl_run_dir_close(&d, rc == SL_OK ? err : &e2);
    if (rc == SL_OK)
        rc = crc;
    if (rc && sl_trainer_diverged(t))
        *end = END_DIVERGED;
    sl_trainer_free(t);
    return rc;
}

/* Trains r under its .lock; a run another process holds ends END_BUSY. */
static int train_run(sl_engine *e, run *r, int *end, sl_error *err)
{
    int fd = lock_run(r);
    if (fd == -1) {
        *end = END_BUSY;
        return SL_OK;
    }
    int rc = train_locked(e, r, end, err);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* Early stopping that lets the learning rate anneal (train.early_stopping.
 * anneal): the run that stopped early is trained again, as a new run
 * "<id>-anneal", to the step of its best test loss with the schedule ending
 * there: the same seed, data and warmup, no early stopping. Called outside the
 * lock; a re-run that exists already (a resumed sweep) is not added twice. */
static void queue_anneal(sl_engine *e, const sl_run_spec *spec, const sl_metric_row *rows,
                         size_t n_rows)
{
    long b = sl_run_best_row(rows, n_rows);
    if (b < 0 || rows[b].step <= 0 || rows[b].step >= spec->train.steps)
        return;
    sl_run_spec s = *spec;
    snprintf(s.annealed_from, sizeof s.annealed_from, "%s", spec->id);
    if (strlen(spec->id) + strlen("-anneal") >= sizeof s.id)
        return;
    sl_run_id(&s, SL_SWEEP_N, 0, s.id);
    pthread_mutex_lock(&e->mu);
    int exists = engine_find(e, s.id) != NULL;
    pthread_mutex_unlock(&e->mu);
    if (exists)
        return;
    s.train.warmup = sl_train_warmup(&spec->train);
    s.train.steps = rows[b].step;
    if (s.train.warmup > s.train.steps)
        s.train.warmup = s.train.steps;
    if (s.train.eval_every > s.train.steps)
        s.train.eval_every = (int)s.train.steps;
    s.patience = 0;
    s.anneal = 0;
    sl_error err;
    if (sl_engine_add_run(e, &s, NULL, &err) != SL_OK) {
        pthread_mutex_lock(&e->mu);
        snprintf(e->error, sizeof e->error, "%.63s: anneal: %.900s", spec->id, err.msg);
        pthread_mutex_unlock(&e->mu);
    }
}

void *worker_main(void *arg)
{
    run *r = arg;
    sl_engine *e = r->e;
    sl_error err = {{0}};
    int end = END_FAILED;
    int rc = train_run(e, r, &end, &err);
    pthread_mutex_lock(&e->mu);
    r->tps = 0;
    r->eta = NAN;
    r->error_rc = 0;
    if (rc && end == END_DIVERGED) {
        /* the numbers went bad: training it again gives the same */
        r->state = SL_RUN_FAILED;
        snprintf(r->reason, sizeof r->reason, "%.250s", err.msg);
        snprintf(e->error, sizeof e->error, "%.63s: %.900s", r->rec.spec.id, err.msg);
    } else if (rc) {
        /* a full disk, an I/O error, a damaged checkpoint: the run's data
         * are intact up to its checkpoint, and resume takes it up again */
        r->state = SL_RUN_STOPPED;
        r->error_rc = rc;
        snprintf(r->reason, sizeof r->reason, "%.250s", err.msg);
        snprintf(e->error, sizeof e->error, "%.63s: %.900s", r->rec.spec.id, err.msg);
    } else if (end == END_DONE || end == END_EARLY) {
        r->state = SL_RUN_DONE;
        r->early_stopped = end == END_EARLY;
        if (end == END_EARLY)
            snprintf(r->reason, sizeof r->reason, "early stopping at step %ld (patience %d)",
                     r->done_steps, r->rec.spec.patience);
        else
            r->reason[0] = 0;
    } else if (end == END_BUSY) {
        /* left to the process that trains it; resume takes it up later */
        r->state = SL_RUN_STOPPED;
        snprintf(r->reason, sizeof r->reason, "trained by another process");
    } else if (end == END_PAUSED) {
        r->state = SL_RUN_PAUSED;
        snprintf(r->reason, sizeof r->reason, "paused");
    } else {
        r->state = SL_RUN_STOPPED;
        r->cancelled = end == END_CANCELLED;
        snprintf(r->reason, sizeof r->reason, "%s", r->cancelled ? "cancelled" : "stopped");
    }
    r->want_pause = r->want_cancel = 0;
    run copy = *r;
    pthread_mutex_unlock(&e->mu);
    /* status.json outside the lock; a failure here leaves the previous status,
     * which resume treats as unfinished. A busy run's status belongs to the
     * process that trains it. */
    sl_error e2;
    if (end != END_BUSY || rc)
        engine_write_status(&copy, &e2);
    if (!rc && end == END_EARLY && copy.rec.spec.anneal)
        queue_anneal(e, &copy.rec.spec, copy.rec.rows, copy.rec.n_rows);
    pthread_mutex_lock(&e->mu);
    r->exited = 1;
    engine_bump(e);
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
    engine_notify(e);
    return NULL;
}
