/* control: what the user does to single runs of a live engine (pause, resume,
 * cancel, reprioritise, duplicate, add, drop; engine_int.h). Each takes the
 * lock, changes the table, and writes the run's files outside the lock. */
#include "engine_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int control(sl_engine *e, const char *id, int action, int arg, sl_error *err)
{
    pthread_mutex_lock(&e->mu);
    run *r = engine_find(e, id);
    int rc = SL_OK;
    if (!r) {
        rc = sl_fail(err, SL_EINPUT, "%s: no such run in %s", id, e->dir);
    } else if (!r->selected) {
        rc = sl_fail(err, SL_EINPUT, "%s: another process trains this run", id);
    } else if (action == 0) { /* pause */
        if (r->state == SL_RUN_RUNNING)
            r->want_pause = 1;
        else if (r->state == SL_RUN_QUEUED) {
            r->state = SL_RUN_PAUSED;
            snprintf(r->reason, sizeof r->reason, "paused");
        } else
            rc = sl_fail(err, SL_EINPUT, "%s: is %s (expected a running or queued run)", id,
                         sl_run_state_name(r->state));
    } else if (action == 1) { /* resume */
        if (r->state == SL_RUN_PAUSED || r->state == SL_RUN_STOPPED || r->state == SL_RUN_FAILED) {
            r->state = SL_RUN_QUEUED;
            r->cancelled = 0;
            r->reason[0] = 0;
            e->finished = 0;
        } else
            rc = sl_fail(err, SL_EINPUT, "%s: is %s (expected a paused, stopped or failed run)", id,
                         sl_run_state_name(r->state));
    } else if (action == 2) { /* cancel */
        if (r->state == SL_RUN_RUNNING)
            r->want_cancel = 1;
        else if (r->state == SL_RUN_QUEUED || r->state == SL_RUN_PAUSED) {
            r->state = SL_RUN_STOPPED;
            r->cancelled = 1;
            snprintf(r->reason, sizeof r->reason, "cancelled");
        } else
            rc = sl_fail(err, SL_EINPUT, "%s: is %s (expected a queued, running or paused run)", id,
                         sl_run_state_name(r->state));
    } else if (action == 3) { /* priority */
        r->rec.spec.priority = arg;
        r->config_dirty = r->state != SL_RUN_RUNNING;
    }
    run copy;
    int write = rc == SL_OK && r && r->state != SL_RUN_RUNNING;
    if (write)
        copy = *r;
    if (rc == SL_OK) {
        engine_bump(e);
        pthread_cond_broadcast(&e->cv);
    }
    pthread_mutex_unlock(&e->mu);
    if (write) {
        sl_error e2;
        if (action == 3)
            engine_write_config(&copy, &e2);
        else
            engine_write_status(&copy, &e2);
    }
    if (rc == SL_OK)
        engine_notify(e);
    return rc;
}

int sl_engine_pause(sl_engine *e, const char *id, sl_error *err) { return control(e, id, 0, 0, err); }
int sl_engine_resume_run(sl_engine *e, const char *id, sl_error *err)
{
    return control(e, id, 1, 0, err);
}
int sl_engine_cancel(sl_engine *e, const char *id, sl_error *err) { return control(e, id, 2, 0, err); }
int sl_engine_set_priority(sl_engine *e, const char *id, int priority, sl_error *err)
{
    return control(e, id, 3, priority, err);
}

int sl_engine_add_run(sl_engine *e, const sl_run_spec *spec, char *new_id, sl_error *err)
{
    run *r = sl_xcalloc(1, sizeof *r);
    r->rec.spec = *spec;
    if (r->rec.spec.train.model.vocab == 0)
        r->rec.spec.train.model.vocab = e->corpus.vocab;
    int rc = sl_config_validate(&r->rec.spec.train.model, err);
    if (rc == SL_OK && r->rec.spec.train.model.vocab != e->corpus.vocab)
        rc = sl_fail(err, SL_EINPUT, "vocab: %d does not match the corpus (expected %d)",
                     r->rec.spec.train.model.vocab, e->corpus.vocab);
    if (rc == SL_OK && sl_corpus_check_ctx(&e->corpus, r->rec.spec.train.model.n_ctx, err))
        rc = SL_EINPUT;
    if (rc) {
        free(r);
        return rc;
    }
    pthread_mutex_lock(&e->mu);
    r->rec.spec.index = e->next_index;
    if (!r->rec.spec.id[0] || engine_find(e, r->rec.spec.id))
        sl_run_id(&r->rec.spec, e->p.kind, 0, r->rec.spec.id);
    e->next_index++;
    pthread_mutex_unlock(&e->mu);
    snprintf(r->dir, sizeof r->dir, "%s/%s", e->dir, r->rec.spec.id);
    r->state = SL_RUN_QUEUED;
    r->eta = NAN;
    r->selected = 1;
    if ((rc = sl_mkdirs(r->dir, err)) || (rc = engine_write_status(r, err)) || (rc = engine_write_config(r, err))) {
        free(r);
        return rc;
    }
    if (new_id)
        snprintf(new_id, SL_RUN_ID_MAX, "%s", r->rec.spec.id);
    pthread_mutex_lock(&e->mu);
    engine_add_to_table(e, r);
    e->finished = 0;
    engine_bump(e);
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
    engine_notify(e);
    return SL_OK;
}

int sl_engine_duplicate(sl_engine *e, const char *id, uint64_t seed, char *new_id, sl_error *err)
{
    pthread_mutex_lock(&e->mu);
    run *r = engine_find(e, id);
    sl_run_spec s;
    if (r)
        s = r->rec.spec;
    pthread_mutex_unlock(&e->mu);
    if (!r)
        return sl_fail(err, SL_EINPUT, "%s: no such run in %s", id, e->dir);
    s.id[0] = 0;
    s.train.seed = seed;
    s.train.threads = e->p.train.threads;
    s.priority = 0;
    return sl_engine_add_run(e, &s, new_id, err);
}

int sl_engine_drop(sl_engine *e, const char *id, sl_error *err)
{
    pthread_mutex_lock(&e->mu);
    int i = 0;
    while (i < e->n_runs && strcmp(e->runs[i]->rec.spec.id, id))
        i++;
    if (i == e->n_runs) {
        pthread_mutex_unlock(&e->mu);
        return sl_fail(err, SL_EINPUT, "%s: no such run in %s", id, e->dir);
    }
    run *r = e->runs[i];
    if (r->state == SL_RUN_RUNNING || r->has_thread || !r->selected) {
        pthread_mutex_unlock(&e->mu);
        return sl_fail(err, SL_EINPUT, "%s: is running (expected a run that is not; cancel it first)",
                       id);
    }
    memmove(e->runs + i, e->runs + i + 1, (size_t)(e->n_runs - i - 1) * sizeof *e->runs);
    e->n_runs--;
    engine_bump(e);
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
    int rc = sl_store_remove_run(r->dir, err);
    free(r->rec.rows);
    free(r->rec.transfer);
    free(r);
    engine_notify(e);
    return rc;
}
