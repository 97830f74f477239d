/* sched: the engine's scheduler thread (engine_int.h). It decides which queued
 * run starts next and with how many threads, so that every core stays busy
 * whether the sweep has one run or fifty, and it joins the workers that exit. */
#include "engine_int.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "scalelab/machine.h"
#include "scalelab/throughput.h"

/* Memory. A run is budgeted at its trainer's allocation (sl_train_memory) with
 * a margin for what the estimate leaves out (allocator overhead, evaluation
 * buffers). What the running runs may take together is what this process can
 * still allocate plus what they have already allocated of their budgets (the
 * growth of the resident size since the scheduler started, at most their
 * budgets), capped by sl_engine_opts.memory. */
static double mem_budget(const sl_train_opts *o) { return 1.1 * sl_train_memory(o) + 16e6; }

static double mem_running(const sl_engine *e)
{
    double sum = 0;
    for (int i = 0; i < e->n_runs; i++)
        if (e->runs[i]->state == SL_RUN_RUNNING)
            sum += e->runs[i]->mem_budget;
    return sum;
}

static double mem_limit(const sl_engine *e, double running)
{
    double grown = sl_mem_resident() - e->rss_start;
    if (!(grown > 0))
        grown = 0;
    double limit = sl_mem_available() + (grown < running ? grown : running);
    if (e->o.memory > 0 && e->o.memory < limit)
        limit = e->o.memory;
    return limit;
}

static int threads_busy(const sl_engine *e, int *workers)
{
    int busy = 0, w = 0;
    for (int i = 0; i < e->n_runs; i++)
        if (e->runs[i]->state == SL_RUN_RUNNING) {
            busy += e->runs[i]->rec.spec.train.threads;
            w++;
        }
    if (workers)
        *workers = w;
    return busy;
}

/* Training cost of what is left of a run, in FLOPs (logits included, as they
 * dominate the time of small models). */
double sl_sched_cost(const sl_train_opts *t, long done_steps)
{
    double left = (double)(t->steps - done_steps);
    return left * t->batch * t->model.n_ctx * sl_step_flops_per_token(&t->model);
}

static double cost(const run *r) { return sl_sched_cost(&r->rec.spec.train, r->done_steps); }

/* The next run to start: lowest priority first; among equals the costliest
 * first (longest-processing-time order keeps every core busy to the end of a
 * sweep, as the short runs fill the gaps), then the planned index. Except the
 * SCOUTS runs that start after the first (with one worker: the first SCOUTS)
 * in a sweep with more queued than that: the cheapest first. Their curves
 * reach the lab's live L(N, S) fit within seconds and give it model sizes to
 * fit an exponent to long before a large run ends, while the costliest run,
 * which sets the sweep's length, still starts at once (bench/RESULTS.md).
 * SCALELAB_SCHED=lpt turns them off. */
#define SCOUTS 2

static run *next_queued(const sl_engine *e, int *n_queued)
{
    run *best = NULL;
    double best_cost = 0;
    int n = 0, startable = 0;
    for (int i = 0; i < e->n_runs; i++)
        startable += e->runs[i]->state == SL_RUN_QUEUED && e->runs[i]->selected &&
                     !e->runs[i]->has_thread && e->runs[i]->done_steps == 0;
    int first = e->jobs > 1; /* runs started before the scouts */
    int cheap = !e->lpt_only && e->scouts >= first && e->scouts < first + SCOUTS &&
                startable > SCOUTS;
    for (int i = 0; i < e->n_runs; i++) {
        run *r = e->runs[i];
        if (r->state != SL_RUN_QUEUED || !r->selected)
            continue;
        n++;
        /* resumed while the worker that paused it is still exiting: start it
         * once that thread is joined, or its exit would mark the new one */
        if (r->has_thread)
            continue;
        double c = cost(r);
        int better = cheap ? c < best_cost : c > best_cost;
        if (!best || r->rec.spec.priority < best->rec.spec.priority ||
            (r->rec.spec.priority == best->rec.spec.priority &&
             (better || (c == best_cost && r->rec.spec.index < best->rec.spec.index)))) {
            best = r;
            best_cost = c;
        }
    }
    *n_queued = n;
    return best;
}

/* Starts what fits in the free cores and the free memory; called with the
 * lock held. */
static void schedule(sl_engine *e)
{
    for (;;) {
        int workers, nq;
        int busy = threads_busy(e, &workers);
        run *r = next_queued(e, &nq);
        if (!r || workers >= e->jobs)
            return;
        int free_cores = e->cores - busy;
        int want = r->rec.spec.train.threads;
        if (want == 0) {
            if (free_cores < 1)
                return;
            int slots = e->jobs - workers;
            int share = nq < slots ? nq : slots;
            want = free_cores / (share > 0 ? share : 1);
            if (want < 1)
                want = 1;
        } else if (want > free_cores && workers > 0)
            return; /* wait for cores; alone it may oversubscribe */
        sl_train_opts to = r->rec.spec.train;
        to.threads = want;
        double need = mem_budget(&to), running = mem_running(e);
        if (workers > 0) {
            double limit = mem_limit(e, running);
            if (running + need > limit) {
                /* queued, not OOM-killed: a run that ends frees its budget
                 * and wakes this thread */
                char why[sizeof r->reason];
                snprintf(why, sizeof why,
                         "waiting for memory (needs %.0f MiB, %.0f MiB free for runs)",
                         need / 1048576, (limit > running ? limit - running : 0) / 1048576);
                if (strcmp(why, r->reason)) {
                    snprintf(r->reason, sizeof r->reason, "%s", why);
                    engine_bump(e);
                }
                return;
            }
        }
        if (r->rec.spec.train.threads == 0) {
            r->rec.spec.train.threads = want;
            r->config_dirty = 1;
        }
        r->mem_budget = need;
        r->state = SL_RUN_RUNNING;
        r->reason[0] = 0;
        r->exited = 0;
        r->step_time = 0;
        r->eta = NAN;
        if (pthread_create(&r->thread, NULL, worker_main, r) != 0) {
            r->state = SL_RUN_FAILED;
            snprintf(r->reason, sizeof r->reason, "cannot start a thread");
            continue;
        }
        r->has_thread = 1;
        if (!e->lpt_only && e->scouts < SCOUTS + 1)
            e->scouts++;
        engine_bump(e);
    }
}

static void join_exited(sl_engine *e)
{
    for (int i = 0; i < e->n_runs; i++) {
        run *r = e->runs[i];
        if (r->has_thread && r->exited) {
            pthread_join(r->thread, NULL);
            r->has_thread = 0;
        }
    }
}

static int any_thread(const sl_engine *e)
{
    for (int i = 0; i < e->n_runs; i++)
        if (e->runs[i]->has_thread)
            return 1;
    return 0;
}

static void *sched_main(void *arg)
{
    sl_engine *e = arg;
    pthread_mutex_lock(&e->mu);
    for (;;) {
        join_exited(e);
        if (e->stopping) {
            if (!any_thread(e))
                break;
        } else {
            schedule(e);
            int nq, workers;
            next_queued(e, &nq);
            threads_busy(e, &workers);
            if (nq == 0 && workers == 0 && !any_thread(e) && !e->finished) {
                e->finished = 1;
                engine_bump(e);
                pthread_cond_broadcast(&e->cv);
                if (!e->o.keep_alive)
                    break;
            } else if (nq > 0 || workers > 0)
                e->finished = 0;
        }
        pthread_cond_wait(&e->cv, &e->mu);
    }
    e->sched_done = 1;
    e->finished = 1;
    engine_bump(e);
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
    engine_notify(e);
    return NULL;
}

int sl_engine_start(sl_engine *e, sl_error *err)
{
    pthread_mutex_lock(&e->mu);
    if (e->sched_started) {
        pthread_mutex_unlock(&e->mu);
        return sl_fail(err, SL_EINPUT, "%s: the sweep is already started", e->dir);
    }
    e->t_start = sl_now();
    e->rss_start = sl_mem_resident();
    /* every engine thread inherits a mask that blocks all signals */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&e->sched, NULL, sched_main, e);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc == 0)
        e->sched_started = 1;
    pthread_mutex_unlock(&e->mu);
    if (rc)
        return sl_fail(err, SL_ERUNTIME, "%s: cannot start the scheduler thread", e->dir);
    return SL_OK;
}

void sl_engine_stop(sl_engine *e)
{
    pthread_mutex_lock(&e->mu);
    e->stopping = 1;
    engine_bump(e);
    pthread_cond_broadcast(&e->cv);
    int started = e->sched_started;
    e->sched_started = 0;
    pthread_mutex_unlock(&e->mu);
    if (started)
        pthread_join(e->sched, NULL);
}

int sl_engine_wait(sl_engine *e, sl_error *err)
{
    pthread_mutex_lock(&e->mu);
    while (e->sched_started && !e->sched_done && !(e->finished && !e->o.keep_alive))
        pthread_cond_wait(&e->cv, &e->mu);
    int failed = 0, open = 0;
    for (int i = 0; i < e->n_runs; i++) {
        const run *r = e->runs[i];
        if (!r->selected)
            continue;
        /* the first failure names the sweep's error; bad input (exit 2)
         * before a runtime error (exit 1) */
        int rc = r->state == SL_RUN_FAILED ? SL_ERUNTIME : r->error_rc;
        if (rc && (!failed || (rc == SL_EINPUT && failed != SL_EINPUT))) {
            failed = rc;
            if (r->state == SL_RUN_FAILED)
                sl_fail(err, rc, "%s: %s", r->rec.spec.id, r->reason);
            else
                sl_fail(err, rc, "%s", r->reason); /* already names the file */
        } else if (r->state != SL_RUN_DONE)
            open = 1;
    }
    int stopping = e->stopping;
    pthread_mutex_unlock(&e->mu);
    if (failed)
        return failed;
    return open || stopping ? 1 : SL_OK;
}

/* ---- the work queue over processes (engine.h) ---------------------------- */

typedef struct {
    int index;
    double cost;
} queued;

static int cmp_queued(const void *a, const void *b)
{
    const queued *x = a, *y = b;
    if (x->cost != y->cost)
        return x->cost < y->cost ? 1 : -1;
    return (x->index > y->index) - (x->index < y->index);
}

int sl_engine_queue(sl_engine *e, int *order, double *cost_out, int cap)
{
    pthread_mutex_lock(&e->mu);
    queued *q = sl_xcalloc((size_t)(e->n_runs ? e->n_runs : 1), sizeof *q);
    int n = 0;
    for (int i = 0; i < e->n_runs; i++)
        if (e->runs[i]->state == SL_RUN_QUEUED) {
            q[n].index = e->runs[i]->rec.spec.index;
            q[n++].cost = cost(e->runs[i]);
        }
    pthread_mutex_unlock(&e->mu);
    qsort(q, (size_t)n, sizeof *q, cmp_queued);
    if (n > cap)
        n = cap;
    for (int i = 0; i < n; i++) {
        order[i] = q[i].index;
        if (cost_out)
            cost_out[i] = q[i].cost;
    }
    free(q);
    return n;
}

int sl_engine_take(sl_engine *e, int index, sl_error *err)
{
    pthread_mutex_lock(&e->mu);
    run *r = NULL;
    for (int i = 0; i < e->n_runs && !r; i++)
        if (e->runs[i]->rec.spec.index == index)
            r = e->runs[i];
    if (r) {
        r->selected = 1;
        engine_bump(e);
        pthread_cond_broadcast(&e->cv);
    }
    pthread_mutex_unlock(&e->mu);
    if (!r)
        return sl_fail(err, SL_EINPUT, "%s: no run of index %d", e->dir, index);
    engine_notify(e);
    return SL_OK;
}

int sl_engine_pending(sl_engine *e)
{
    pthread_mutex_lock(&e->mu);
    int n = 0;
    for (int i = 0; i < e->n_runs; i++) {
        const run *r = e->runs[i];
        n += r->selected && (r->state == SL_RUN_QUEUED || r->state == SL_RUN_RUNNING ||
                             r->has_thread);
    }
    pthread_mutex_unlock(&e->mu);
    return n;
}

double sl_sched_makespan(const double *cost, int n, int k, int *worker_of)
{
    if (k < 1)
        k = 1;
    double *end = sl_xcalloc((size_t)k, sizeof *end), last = 0;
    for (int i = 0; i < n; i++) {
        int w = 0;
        for (int j = 1; j < k; j++)
            if (end[j] < end[w])
                w = j;
        end[w] += cost[i];
        if (worker_of)
            worker_of[i] = w;
        if (end[w] > last)
            last = end[w];
    }
    free(end);
    return last;
}
