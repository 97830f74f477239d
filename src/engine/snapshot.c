/* snapshot: copies of the engine's state for a front end (engine.h). Only the
 * rows that are new since the previous snapshot are copied; each run's view is
 * derived by run.h, as the lab's watch of a store derives it. */
#include "engine_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scalelab/throughput.h"

void sl_snapshot_free(sl_snapshot *s)
{
    for (int i = 0; i < s->n_runs; i++) {
        free(s->runs[i].rows);
        free(s->runs[i].transfer);
    }
    free(s->runs);
    memset(s, 0, sizeof *s);
}

void sl_snapshot_count(sl_snapshot *s, const sl_run_view *v)
{
    switch (v->state) {
    case SL_RUN_QUEUED: s->n_queued++; break;
    case SL_RUN_RUNNING:
        s->n_running++;
        s->workers++;
        s->threads_busy += v->threads;
        s->tokens_per_s += v->tokens_per_s;
        s->gflops += sl_step_gflops(&v->shape, v->tokens_per_s);
        break;
    case SL_RUN_PAUSED: s->n_paused++; break;
    case SL_RUN_DONE: s->n_done++; break;
    case SL_RUN_FAILED: s->n_failed++; break;
    case SL_RUN_STOPPED: s->n_stopped++; break;
    }
}

int sl_engine_snapshot(sl_engine *e, sl_snapshot *s)
{
    pthread_mutex_lock(&e->mu);
    if (s->generation == e->gen && s->generation != 0) {
        pthread_mutex_unlock(&e->mu);
        return 0;
    }
    e->wake_pending = 0;
    if (s->n_runs != e->n_runs) {
        for (int i = 0; i < s->n_runs; i++) {
            free(s->runs[i].rows);
            free(s->runs[i].transfer);
        }
        free(s->runs);
        s->runs = sl_xcalloc((size_t)(e->n_runs ? e->n_runs : 1), sizeof *s->runs);
        s->n_runs = e->n_runs;
    }
    s->generation = e->gen;
    snprintf(s->dir, sizeof s->dir, "%s", e->dir);
    snprintf(s->name, sizeof s->name, "%s", e->p.name);
    s->n_queued = s->n_running = s->n_paused = s->n_done = s->n_failed = s->n_stopped = 0;
    s->workers = 0;
    s->threads_busy = 0;
    s->tokens_per_s = 0;
    s->gflops = 0;
    for (int i = 0; i < e->n_runs; i++) {
        const run *r = e->runs[i];
        sl_run_view *v = &s->runs[i];
        /* keep the copied rows when the same run's rows only grew (a resumed
         * run writes the rows past its checkpoint again, with the same steps) */
        int same = v->rows && !strcmp(v->id, r->rec.spec.id) && v->n_rows <= r->rec.n_rows &&
                   (v->n_rows == 0 || v->rows[v->n_rows - 1].step == r->rec.rows[v->n_rows - 1].step);
        size_t from = same ? v->n_rows : 0;
        if (!same) {
            free(v->rows);
            free(v->transfer);
            v->rows = NULL;
            v->transfer = NULL;
        }
        if (r->rec.n_rows > from || !v->rows) {
            size_t n = r->rec.n_rows ? r->rec.n_rows : 1;
            sl_metric_row *nr = realloc(v->rows, n * sizeof *nr);
            double *nt = realloc(v->transfer, n * sizeof *nt);
            if (!nr || !nt)
                abort();
            v->rows = nr;
            v->transfer = nt;
            if (r->rec.n_rows > from) {
                memcpy(v->rows + from, r->rec.rows + from, (r->rec.n_rows - from) * sizeof *nr);
                if (r->rec.transfer)
                    memcpy(v->transfer + from, r->rec.transfer + from, (r->rec.n_rows - from) * sizeof *nt);
                else
                    for (size_t k = from; k < r->rec.n_rows; k++)
                        v->transfer[k] = NAN;
            }
        }
        v->n_rows = r->rec.n_rows;
        v->spec = r->rec.spec;
        sl_run_view_derive(v, r->done_steps);
        v->epochs = engine_run_epochs(r);
        v->state = r->state;
        v->cancelled = r->cancelled;
        v->early_stopped = r->early_stopped;
        snprintf(v->reason, sizeof v->reason, "%s", r->reason);
        v->tokens_per_s = r->state == SL_RUN_RUNNING ? r->tps : 0;
        v->eta_s = r->state == SL_RUN_RUNNING ? r->eta : NAN;
        sl_snapshot_count(s, v);
    }
    s->cores = e->cores;
    s->elapsed_s = e->t_start > 0 ? sl_now() - e->t_start : 0;
    s->finished = e->finished;
    s->stopping = e->stopping;
    snprintf(s->error, sizeof s->error, "%s", e->error);
    pthread_mutex_unlock(&e->mu);
    return 1;
}
