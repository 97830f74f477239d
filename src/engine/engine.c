/* engine: see include/scalelab/engine.h and engine_int.h. This file holds the
 * sweep itself: planning or reopening its store, its corpora, the run table,
 * and the engine's lifetime. Scheduling is sched.c, training workers.c,
 * control of single runs control.c, snapshots snapshot.c.
 *
 * Threads per run: a run that has none recorded gets free cores / queued runs
 * (at least 1) when it first starts, and keeps that count for its whole life
 * (config.json records it) because the sum of the per-thread gradients, and so
 * a bitwise resume, depends on it. A sweep of one run gets every core; a sweep
 * of fifty runs one per core. */
#define _DEFAULT_SOURCE
#include "engine_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scalelab/machine.h"

void sl_engine_opts_default(sl_engine_opts *o)
{
    memset(o, 0, sizeof *o);
    o->only = -1;
}

void engine_bump(sl_engine *e)
{
    e->gen++;
    if (!e->wake_pending) {
        e->wake_pending = 1;
        char b = 1;
        ssize_t w = write(e->wake[1], &b, 1);
        (void)w; /* a full pipe already wakes the reader */
    }
}

void engine_notify(sl_engine *e)
{
    if (e->o.on_change)
        e->o.on_change(e->o.user);
}

/* ---- the store ------------------------------------------------------------ */

int engine_write_config(const run *r, sl_error *err)
{
    return sl_run_save_spec(&r->rec.spec, r->dir, err);
}

double engine_run_epochs(const run *r)
{
    const sl_train_opts *t = &r->rec.spec.train;
    double tokens = (double)r->done_steps * t->batch * t->model.n_ctx;
    return sl_run_epochs(tokens, t->data_limit, r->e ? r->e->corpus.n_train : 0);
}

int engine_write_status(const run *r, sl_error *err)
{
    sl_run_status s;
    memset(&s, 0, sizeof s);
    snprintf(s.state, sizeof s.state, "%s", sl_run_state_name(r->state));
    snprintf(s.reason, sizeof s.reason, "%s", r->reason);
    s.step = r->done_steps;
    s.best_test_loss = sl_run_best_loss(r->rec.rows, r->rec.n_rows);
    s.final_test_loss = r->rec.n_rows ? r->rec.rows[r->rec.n_rows - 1].test_loss : NAN;
    s.best_test_bpb = sl_run_best_bpb(r->rec.rows, r->rec.n_rows);
    s.epochs = engine_run_epochs(r);
    s.threads = r->rec.spec.train.threads;
    return sl_status_write(r->dir, &s, err);
}

static int load_corpora(sl_engine *e, sl_error *err)
{
    sl_corpus_opts co;
    sl_preset_corpus_opts(&e->p, e->o.data_dir, &co);
    /* a store is self-contained: a corpus file named relative to the directory
     * the sweep started in is found where the store recorded it */
    char recorded[4096];
    if (e->dir[0] && co.path && access(co.path, F_OK) != 0 && sl_corpus_record_path(e->dir, recorded, sizeof recorded))
        co.path = recorded;
    int rc = sl_corpus_load(&e->corpus, &co, err);
    if (rc)
        return rc;
    e->has_corpus = 1;
    if (e->p.eval_corpus[0] || e->p.holdout[0]) {
        char path[1200];
        co.exclude = NULL;
        if (e->p.holdout[0]) {
            /* the held-out sources, which training never sees, are the transfer set */
            snprintf(path, sizeof path, "%s:%s", SL_CORPUS_DEFAULT, e->p.holdout);
            co.path = path;
        } else if (!strcmp(e->p.eval_corpus, "fortunes")) {
            if ((rc = sl_corpus_prepare_fortunes(e->o.data_dir, path, sizeof path, err)))
                return rc;
            co.path = path;
        } else
            co.path = e->p.eval_corpus;
        co.tokenizer = "byte";
        if ((rc = sl_corpus_load(&e->eval_corpus, &co, err)))
            return rc;
        e->has_eval = 1;
        if ((rc = sl_corpus_check_ctx(&e->eval_corpus, e->p.n_ctx, err)))
            return rc;
        /* a token the model cannot embed would read past its embedding table */
        if ((rc = sl_corpus_check_vocab(&e->eval_corpus, e->corpus.vocab, err)))
            return rc;
    }
    return SL_OK;
}

run *engine_find(sl_engine *e, const char *id)
{
    for (int i = 0; i < e->n_runs; i++)
        if (!strcmp(e->runs[i]->rec.spec.id, id))
            return e->runs[i];
    return NULL;
}

static int selected(const sl_engine *e, int index)
{
    if (e->o.only == SL_ONLY_NONE)
        return 0;
    if (e->o.only >= 0 && index != e->o.only)
        return 0;
    if (e->o.shard_count > 1 && index % e->o.shard_count != e->o.shard_index)
        return 0;
    return 1;
}

void engine_add_to_table(sl_engine *e, run *r)
{
    if (e->n_runs == e->cap) {
        e->cap = e->cap ? 2 * e->cap : 16;
        run **v = realloc(e->runs, (size_t)e->cap * sizeof *v);
        if (!v)
            abort();
        e->runs = v;
    }
    r->e = e;
    e->runs[e->n_runs++] = r;
    if (r->rec.spec.index >= e->next_index)
        e->next_index = r->rec.spec.index + 1;
}

static int cmp_index(const void *a, const void *b)
{
    const run *x = *(run *const *)a, *y = *(run *const *)b;
    return (x->rec.spec.index > y->rec.spec.index) - (x->rec.spec.index < y->rec.spec.index);
}

/* Reads every run of the store into the table. */
static int load_runs(sl_engine *e, sl_error *err)
{
    char **ids;
    int n;
    /* the temporaries killed processes left (docs/FORMATS.md) */
    sl_remove_stale_temps(e->dir, 0);
    int rc = sl_store_list_runs(e->dir, &ids, &n, err);
    if (rc)
        return rc;
    for (int i = 0; i < n && rc == SL_OK; i++) {
        run *r = sl_xcalloc(1, sizeof *r);
        snprintf(r->dir, sizeof r->dir, "%s/%s", e->dir, ids[i]);
        sl_remove_stale_temps(r->dir, 0);
        rc = sl_run_load_spec(&r->rec, r->dir, err);
        if (rc == SL_OK && r->rec.spec.train.model.vocab != e->corpus.vocab)
            rc = sl_fail(err, SL_EINPUT, "%s/%s:vocab: %d does not match the corpus (expected %d)",
                         r->dir, SL_RUN_CONFIG_FILE, r->rec.spec.train.model.vocab,
                         e->corpus.vocab);
        sl_run_status st;
        if (rc == SL_OK)
            rc = sl_status_read(r->dir, &st, err);
        if (rc) {
            free(r);
            break;
        }
        int s = sl_run_state_parse(st.state);
        r->state = s < 0 ? SL_RUN_QUEUED : (sl_run_state)s;
        snprintf(r->reason, sizeof r->reason, "%s", st.reason);
        r->cancelled = r->state == SL_RUN_STOPPED && !strcmp(st.reason, "cancelled");
        r->early_stopped = r->state == SL_RUN_DONE && strstr(st.reason, "early") != NULL;
        if (r->state == SL_RUN_RUNNING || r->state == SL_RUN_PAUSED ||
            (r->state == SL_RUN_STOPPED && !r->cancelled)) {
            r->state = SL_RUN_QUEUED;
            r->reason[0] = 0;
        }
        r->done_steps = st.step;
        r->eta = NAN;
        r->selected = selected(e, r->rec.spec.index);
        r->rec.status = st;
        /* unreadable rows are the worker's to trim or fail on, when it trains */
        sl_error e2;
        if (sl_run_load_rows(&r->rec, r->dir, &e2) == SL_OK)
            r->cap = r->rec.n_rows;
        engine_add_to_table(e, r);
    }
    sl_store_free_list(ids, n);
    qsort(e->runs, (size_t)e->n_runs, sizeof *e->runs, cmp_index);
    return rc;
}

static sl_engine *engine_alloc(const sl_engine_opts *o)
{
    sl_engine *e = sl_xcalloc(1, sizeof *e);
    if (o)
        e->o = *o;
    else
        sl_engine_opts_default(&e->o);
    snprintf(e->runs_dir, sizeof e->runs_dir, "%s", e->o.runs_dir ? e->o.runs_dir : "runs");
    e->o.runs_dir = NULL;
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->cv, NULL);
    e->wake[0] = e->wake[1] = -1;
    if (pipe(e->wake) == 0) {
        fcntl(e->wake[0], F_SETFL, O_NONBLOCK);
        fcntl(e->wake[1], F_SETFL, O_NONBLOCK);
        fcntl(e->wake[0], F_SETFD, FD_CLOEXEC);
        fcntl(e->wake[1], F_SETFD, FD_CLOEXEC);
    }
    e->cores = e->o.cores > 0 ? e->o.cores : sl_cpus_available();
    e->jobs = e->o.jobs > 0 ? e->o.jobs : e->cores;
    /* the scheduler's order before scouts, for measuring both (bench/RESULTS.md) */
    const char *order = getenv("SCALELAB_SCHED");
    e->lpt_only = order && !strcmp(order, "lpt");
    return e;
}

/* Every run directory already in e->dir (a store whose creation was cut short)
 * must be a run this preset plans, with the same config. */
static int check_half_created(sl_engine *e, sl_error *err)
{
    if (access(e->dir, F_OK) != 0)
        return SL_OK;
    char **ids;
    int n, rc = sl_store_list_runs(e->dir, &ids, &n, err);
    for (int i = 0; i < n && rc == SL_OK; i++) {
        const sl_run_spec *want = NULL;
        for (int k = 0; k < e->p.n_runs && !want; k++)
            if (!strcmp(e->p.runs[k].id, ids[i]))
                want = &e->p.runs[k];
        char dir[1200];
        snprintf(dir, sizeof dir, "%s/%s", e->dir, ids[i]);
        sl_run have;
        memset(&have, 0, sizeof have);
        if (want)
            rc = sl_run_load_spec(&have, dir, err);
        if (rc == SL_OK && (!want || !sl_run_spec_same(&have.spec, want)))
            rc = sl_fail(err, SL_EINPUT,
                         "%s: a half-created store of another sweep (%s %s; expected the runs of "
                         "this preset: run its own preset again, or remove %s)",
                         e->dir, ids[i], want ? "has another config" : "is not a run of this preset",
                         e->dir);
    }
    sl_store_free_list(ids, n);
    return rc;
}

int sl_engine_new(sl_engine **out, const sl_preset *p, const sl_engine_opts *o, sl_error *err)
{
    *out = NULL;
    sl_engine *e = engine_alloc(o);
    char *json = sl_preset_resolved_json(p);
    int rc = json ? sl_preset_parse(&e->p, json, p->path, err)
                  : sl_fail(err, SL_EINPUT, "%s: not a loaded preset", p->path);
    if (rc == SL_OK)
        rc = load_corpora(e, err);
    if (rc == SL_OK)
        rc = sl_preset_plan(&e->p, &e->corpus, err);
    if (rc)
        goto fail;
    snprintf(e->dir, sizeof e->dir, "%.900s/%.63s", e->runs_dir, e->p.name);
    if (e->o.only >= e->p.n_runs && !sl_store_is_sweep(e->dir)) {
        rc = sl_fail(err, SL_EINPUT, "--only: %d is not a run of the sweep (expected 0..%d)",
                     e->o.only, e->p.n_runs - 1);
        goto fail;
    }
    if (sl_store_is_sweep(e->dir)) {
        char *old;
        if ((rc = sl_sweep_read(e->dir, &old, err)))
            goto fail;
        int same = sl_preset_same_sweep(old, json);
        free(old);
        if (!same) {
            rc = sl_fail(err, SL_EINPUT,
                         "%s: holds another sweep (expected the same preset; use scalelab resume %s "
                         "or --runs DIR)",
                         e->dir, e->dir);
            goto fail;
        }
        if ((rc = sl_corpus_record_check(e->dir, &e->corpus, err)))
            goto fail;
    } else {
        /* Killed before sweep.json was written, a store holds some runs and
         * no sweep.json: continued only by the preset that planned them */
        if ((rc = check_half_created(e, err)))
            goto fail;
        /* The runs first, sweep.json last: its presence marks a complete store. */
        for (int i = 0; i < e->p.n_runs && rc == SL_OK; i++) {
            run r;
            memset(&r, 0, sizeof r);
            r.rec.spec = e->p.runs[i];
            snprintf(r.dir, sizeof r.dir, "%s/%s", e->dir, r.rec.spec.id);
            /* another process creating the same sweep (Slurm array tasks
             * starting together) may already train this run: leave it be */
            char cfg[1300];
            sl_run_path(cfg, sizeof cfg, r.dir, SL_RUN_CONFIG_FILE);
            if (access(cfg, F_OK) == 0)
                continue;
            if ((rc = sl_mkdirs(r.dir, err)) == SL_OK && (rc = engine_write_config(&r, err)) == SL_OK)
                rc = engine_write_status(&r, err);
        }
        if (rc == SL_OK)
            rc = sl_corpus_record_check(e->dir, &e->corpus, err);
        if (rc == SL_OK)
            rc = sl_sweep_write(e->dir, json, err);
        if (rc)
            goto fail;
    }
    free(json);
    json = NULL;
    if ((rc = load_runs(e, err)))
        goto fail;
    *out = e;
    return SL_OK;
fail:
    free(json);
    sl_engine_free(e);
    return rc;
}

int sl_engine_open_store(sl_engine **out, const char *dir, const sl_engine_opts *o, sl_error *err)
{
    *out = NULL;
    sl_engine *e = engine_alloc(o);
    snprintf(e->dir, sizeof e->dir, "%s", dir);
    size_t l = strlen(e->dir);
    while (l > 1 && e->dir[l - 1] == '/')
        e->dir[--l] = 0;
    char *json = NULL, path[1200];
    sl_run_path(path, sizeof path, e->dir, SL_SWEEP_FILE);
    int rc = sl_sweep_read(e->dir, &json, err);
    if (rc == SL_OK)
        rc = sl_preset_parse(&e->p, json, path, err);
    free(json);
    if (rc == SL_OK)
        rc = load_corpora(e, err);
    if (rc == SL_OK)
        rc = sl_corpus_record_check(e->dir, &e->corpus, err);
    if (rc == SL_OK)
        rc = load_runs(e, err);
    if (rc) {
        sl_engine_free(e);
        return rc;
    }
    *out = e;
    return SL_OK;
}

void sl_engine_free(sl_engine *e)
{
    if (!e)
        return;
    sl_engine_stop(e);
    for (int i = 0; i < e->n_runs; i++) {
        free(e->runs[i]->rec.rows);
        free(e->runs[i]->rec.transfer);
        free(e->runs[i]);
    }
    free(e->runs);
    if (e->has_corpus)
        sl_corpus_free(&e->corpus);
    if (e->has_eval)
        sl_corpus_free(&e->eval_corpus);
    sl_preset_free(&e->p);
    if (e->wake[0] >= 0) {
        close(e->wake[0]);
        close(e->wake[1]);
    }
    pthread_mutex_destroy(&e->mu);
    pthread_cond_destroy(&e->cv);
    free(e);
}

int sl_engine_wake_fd(const sl_engine *e) { return e->wake[0]; }
const char *sl_engine_dir(const sl_engine *e) { return e->dir; }
const sl_corpus *sl_engine_corpus(const sl_engine *e) { return &e->corpus; }
const sl_preset *sl_engine_preset(const sl_engine *e) { return &e->p; }
