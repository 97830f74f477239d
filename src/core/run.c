/* run: see include/scalelab/run.h.
 *
 * The rules that used to be spelled out by every reader of a store (which row
 * is the best, which rows a law takes, what D a curve point has, how a run is
 * resampled by the bootstrap, what a run is called) are each written once
 * here. The file formats themselves (metrics.csv, status.json) are store.c's. */
#include "scalelab/run.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scalelab/optim.h"

void sl_run_path(char *out, size_t len, const char *dir, const char *name)
{
    snprintf(out, len, "%s/%s", dir, name);
}

/* ---- states ----------------------------------------------------------------- */

static const char *const state_names[] = {"queued", "running", "paused",
                                          "done",   "failed",  "stopped"};

const char *sl_run_state_name(sl_run_state s)
{
    return (unsigned)s < 6 ? state_names[s] : "?";
}

int sl_run_state_parse(const char *s)
{
    for (int i = 0; i < 6; i++)
        if (!strcmp(s, state_names[i]))
            return i;
    return -1;
}

/* ---- the id -------------------------------------------------------------------- */

void sl_run_id(const sl_run_spec *s, sl_sweep_kind kind, double lr_factor,
               char id[SL_RUN_ID_MAX])
{
    /* the re-run of an early-stopped run (train.early_stopping.anneal) */
    if (s->annealed_from[0]) {
        snprintf(id, SL_RUN_ID_MAX, "%.*s-anneal", SL_RUN_ID_MAX - 8, s->annealed_from);
        return;
    }
    char extra[48] = "";
    if (kind == SL_SWEEP_ND)
        snprintf(extra, sizeof extra, "-D%.0f", (double)s->train.data_limit);
    else if (kind == SL_SWEEP_ISOFLOP)
        snprintf(extra, sizeof extra, "-C%.0e", s->budget);
    else if (kind == SL_SWEEP_BATCH)
        snprintf(extra, sizeof extra, "-B%d", s->train.batch);
    if (lr_factor > 0) {
        size_t used = strlen(extra);
        snprintf(extra + used, sizeof extra - used, "-lr%g", lr_factor);
    }
    snprintf(id, SL_RUN_ID_MAX, "r%03d-L%d-d%d%s-s%llu", s->index, s->train.model.n_layer,
             s->train.model.d_model, extra, (unsigned long long)s->train.seed);
}

long sl_run_key(const char *id)
{
    return (long)(sl_fnv1a(SL_FNV_INIT, id, strlen(id)) & (uint64_t)LONG_MAX);
}

/* ---- the record ------------------------------------------------------------------ */

int sl_run_load_spec(sl_run *r, const char *run_dir, sl_error *err)
{
    char path[1300], *text;
    size_t len;
    sl_run_path(path, sizeof path, run_dir, SL_RUN_CONFIG_FILE);
    int rc = sl_read_file(path, &text, &len, err);
    if (rc)
        return rc;
    rc = sl_run_spec_from_json(&r->spec, text, path, err);
    free(text);
    return rc;
}

int sl_run_save_spec(const sl_run_spec *s, const char *run_dir, sl_error *err)
{
    char path[1300];
    sl_run_path(path, sizeof path, run_dir, SL_RUN_CONFIG_FILE);
    char *j = sl_run_spec_to_json(s);
    int rc = sl_write_atomic(path, j, strlen(j), err);
    free(j);
    return rc;
}

int sl_run_load_rows(sl_run *r, const char *run_dir, sl_error *err)
{
    char path[1300];
    sl_run_path(path, sizeof path, run_dir, SL_RUN_METRICS_FILE);
    sl_metric_row *rows = NULL;
    double *transfer = NULL;
    size_t n = 0;
    if (access(path, F_OK) == 0) {
        int rc = sl_metrics_read(path, &rows, &n, &transfer, err);
        if (rc)
            return rc;
    }
    free(r->rows);
    free(r->transfer);
    r->rows = rows;
    r->transfer = transfer;
    r->n_rows = n;
    return SL_OK;
}

int sl_run_load(sl_run *r, const char *run_dir, sl_error *err)
{
    memset(r, 0, sizeof *r);
    int rc = sl_run_load_spec(r, run_dir, err);
    if (rc == SL_OK)
        rc = sl_status_read(run_dir, &r->status, err);
    if (rc == SL_OK)
        rc = sl_run_load_rows(r, run_dir, err);
    if (rc)
        sl_run_free(r);
    return rc;
}

void sl_run_free(sl_run *r)
{
    free(r->rows);
    free(r->transfer);
    r->rows = NULL;
    r->transfer = NULL;
    r->n_rows = 0;
}

sl_run_state sl_run_state_of(const sl_run *r)
{
    int s = sl_run_state_parse(r->status.state);
    return s < 0 ? SL_RUN_QUEUED : (sl_run_state)s;
}

int sl_run_early_stopped(const sl_run *r)
{
    /* the worker's reason: "early stopping at step S (patience P)" */
    return sl_run_state_of(r) == SL_RUN_DONE && strstr(r->status.reason, "early") != NULL;
}

static int cmp_run_index(const void *a, const void *b)
{
    const sl_run *x = a, *y = b;
    return (x->spec.index > y->spec.index) - (x->spec.index < y->spec.index);
}

int sl_runs_load(const char *sweep_dir, sl_run **runs, int *n, sl_error *err)
{
    *runs = NULL;
    *n = 0;
    char *json, **ids;
    int nid;
    int rc = sl_sweep_read(sweep_dir, &json, err);
    if (rc)
        return rc;
    free(json);
    if ((rc = sl_store_list_runs(sweep_dir, &ids, &nid, err)))
        return rc;
    sl_run *v = sl_xcalloc((size_t)(nid ? nid : 1), sizeof *v);
    int k = 0;
    for (int i = 0; i < nid && rc == SL_OK; i++) {
        char dir[1200];
        sl_run_path(dir, sizeof dir, sweep_dir, ids[i]);
        if ((rc = sl_run_load(&v[k], dir, err)) == SL_OK)
            k++;
    }
    sl_store_free_list(ids, nid);
    if (rc) {
        sl_runs_free(v, k);
        return rc;
    }
    qsort(v, (size_t)k, sizeof *v, cmp_run_index);
    *runs = v;
    *n = k;
    return SL_OK;
}

void sl_runs_free(sl_run *runs, int n)
{
    for (int i = 0; i < n; i++)
        sl_run_free(&runs[i]);
    free(runs);
}

/* ---- the best row ------------------------------------------------------------------ */

static int positive(double v) { return isfinite(v) && v > 0; }

long sl_run_best_row(const sl_metric_row *rows, size_t n)
{
    long best = -1;
    for (size_t j = 0; j < n; j++)
        if (rows[j].step > 0 && positive(rows[j].test_loss) &&
            (best < 0 || rows[j].test_loss < rows[best].test_loss))
            best = (long)j;
    return best;
}

double sl_run_best_loss(const sl_metric_row *rows, size_t n)
{
    long b = sl_run_best_row(rows, n);
    return b < 0 ? NAN : rows[b].test_loss;
}

double sl_run_best_bpb(const sl_metric_row *rows, size_t n)
{
    long b = sl_run_best_row(rows, n);
    return b < 0 ? NAN : rows[b].test_bpb;
}

double sl_run_epochs(double tokens, size_t data_limit, size_t train_tokens)
{
    if (train_tokens == 0)
        return NAN;
    size_t from = data_limit > 0 && data_limit < train_tokens ? data_limit : train_tokens;
    return tokens / (double)from;
}

/* ---- the points a law takes ---------------------------------------------------------- */

static const char *const loss_names[] = {"test", "transfer", "bpb"};

const char *sl_loss_kind_name(sl_loss_kind k)
{
    return (unsigned)k < 3 ? loss_names[k] : "?";
}

int sl_loss_kind_parse(const char *s)
{
    for (int k = 0; k < 3; k++)
        if (!strcmp(s, loss_names[k]))
            return k;
    return -1;
}

static double loss_of(const sl_run *r, size_t j, int loss)
{
    if (loss == SL_LOSS_BPB)
        return r->rows[j].test_bpb;
    if (loss == SL_LOSS_TRANSFER)
        return r->transfer ? r->transfer[j] : NAN;
    return r->rows[j].test_loss;
}

size_t sl_run_point_rows(const sl_run *r, sl_fit_point_rule rule, int loss, size_t *rows_out)
{
    size_t m = 0;
    if (rule == SL_POINTS_BEST) {
        /* one point per run is its converged loss: a run still training only
         * bounds it from above */
        if (sl_run_state_of(r) != SL_RUN_DONE)
            return 0;
        long b = sl_run_best_row(r->rows, r->n_rows);
        if (b >= 0 && positive(loss_of(r, (size_t)b, loss)))
            rows_out[m++] = (size_t)b;
        return m;
    }
    for (size_t j = 0; j < r->n_rows; j++) {
        const sl_metric_row *row = &r->rows[j];
        if (row->step <= 0 || !positive(row->test_loss) || !positive(loss_of(r, j, loss)))
            continue;
        if (rule == SL_POINTS_NOISE && !positive(row->noise_scale))
            continue;
        rows_out[m++] = j;
    }
    return m;
}

sl_fit_point sl_run_point(const sl_run *r, size_t row, sl_fit_point_rule rule, int loss)
{
    const sl_metric_row *m = &r->rows[row];
    const sl_train_opts *t = &r->spec.train;
    double dl = (double)t->data_limit;
    sl_fit_point p = {0};
    p.n = sl_model_counts(&t->model).n_kaplan;
    /* D: the data limit of a data-limited run (Kaplan's L(N, D)) for its best
     * loss; along a curve the tokens seen, which stop counting new data at
     * the limit */
    if (rule == SL_POINTS_BEST)
        p.d = dl > 0 ? dl : m->tokens;
    else
        p.d = dl > 0 && dl < m->tokens ? dl : m->tokens;
    /* Kaplan's C, 6N per token (C = 6NBS); the other accountings are in the
     * points table of a store (export.h) */
    p.c = m->tokens * sl_model_flops_per_token(&t->model, SL_ACCT_KAPLAN);
    p.s = (double)m->step;
    p.b = (double)t->batch * t->model.n_ctx;
    if (rule == SL_POINTS_NOISE)
        p.bcrit = m->noise_scale;
    p.loss = loss_of(r, row, loss);
    p.run = sl_run_key(r->spec.id);
    return p;
}

static void runs_points(const sl_run *runs, int n_runs, sl_fit_point_rule rule, int loss,
                        long warmup_law, unsigned flags, sl_fit_point **pts, size_t *n)
{
    size_t cap = 0, m = 0, rows_cap = 1;
    for (int i = 0; i < n_runs; i++) {
        cap += runs[i].n_rows;
        if (runs[i].n_rows > rows_cap)
            rows_cap = runs[i].n_rows;
    }
    sl_fit_point *p = sl_xcalloc(cap ? cap : 1, sizeof *p);
    size_t *rows = sl_xmalloc(rows_cap * sizeof *rows);
    for (int i = 0; i < n_runs; i++) {
        /* a run stopped early and re-run to its best step with the schedule
         * ending there (train.early_stopping.anneal) gives its best loss
         * through the re-run, once that is done */
        int superseded = 0;
        for (int j = 0; j < n_runs && rule == SL_POINTS_BEST && !superseded; j++)
            superseded = !strcmp(runs[j].spec.annealed_from, runs[i].spec.id) &&
                         sl_run_state_of(&runs[j]) == SL_RUN_DONE;
        if (superseded)
            continue;
        if ((flags & SL_LAW_POINTS_DONE_ONLY) && sl_run_state_of(&runs[i]) != SL_RUN_DONE)
            continue;
        long wu = warmup_law ? sl_train_warmup(&runs[i].spec.train) : -1;
        size_t k = sl_run_point_rows(&runs[i], rule, loss, rows);
        for (size_t j = 0; j < k; j++)
            if (runs[i].rows[rows[j]].step > wu)
                p[m++] = sl_run_point(&runs[i], rows[j], rule, loss);
    }
    free(rows);
    *pts = p;
    *n = m;
}

void sl_runs_points(const sl_run *runs, int n_runs, sl_fit_point_rule rule, int loss,
                    sl_fit_point **pts, size_t *n)
{
    runs_points(runs, n_runs, rule, loss, 0, 0, pts, n);
}

void sl_runs_law_points(const sl_run *runs, int n_runs, sl_fit_law law, unsigned flags,
                        sl_fit_point **pts, size_t *n)
{
    /* L(N, S) is fitted after the warmup (Kaplan et al. fit their learning
     * curves past it) */
    long wu = law == SL_LAW_KAPLAN_NS && !(flags & SL_LAW_POINTS_WITH_WARMUP);
    int loss = (flags & SL_LAW_POINTS_BPB) && law != SL_LAW_BCRIT ? SL_LOSS_BPB : SL_LOSS_TEST;
    runs_points(runs, n_runs, sl_fit_law_points(law), loss, wu, flags, pts, n);
}

/* ---- the view ------------------------------------------------------------------------- */

void sl_run_view_derive(sl_run_view *v, long done_steps)
{
    const sl_run_spec *s = &v->spec;
    snprintf(v->id, sizeof v->id, "%s", s->id);
    v->index = s->index;
    v->shape = s->train.model;
    sl_counts k = sl_model_counts(&s->train.model);
    v->n = k.n_kaplan;
    v->n_total = k.n_total;
    v->flops_per_token = k.flops_per_token;
    v->d = (double)s->train.data_limit;
    v->planned_steps = s->train.steps;
    v->has_last = v->n_rows > 0;
    if (v->has_last)
        v->last = v->rows[v->n_rows - 1];
    v->done_steps = done_steps >= 0 ? done_steps : v->has_last ? v->last.step : 0;
    double tps = (double)s->train.batch * s->train.model.n_ctx;
    v->planned_tokens = tps * (double)v->planned_steps;
    v->done_tokens = tps * (double)v->done_steps;
    v->threads = s->train.threads;
    v->seed = s->train.seed;
    v->priority = s->priority;
    v->batch = s->train.batch;
    v->lr = s->train.lr > 0 ? s->train.lr : sl_lr_auto(k.n_kaplan);
    v->best_test_loss = sl_run_best_loss(v->rows, v->n_rows);
    v->best_test_bpb = sl_run_best_bpb(v->rows, v->n_rows);
    v->epochs = NAN;
    v->transfer_loss = v->n_rows && v->transfer ? v->transfer[v->n_rows - 1] : NAN;
}

sl_run sl_run_view_record(const sl_run_view *v)
{
    sl_run r;
    memset(&r, 0, sizeof r);
    r.spec = v->spec;
    snprintf(r.status.state, sizeof r.status.state, "%s", sl_run_state_name(v->state));
    snprintf(r.status.reason, sizeof r.status.reason, "%s", v->reason);
    r.status.step = v->done_steps;
    r.status.best_test_loss = v->best_test_loss;
    r.status.best_test_bpb = v->best_test_bpb;
    r.status.epochs = v->epochs;
    r.status.final_test_loss = v->has_last ? v->last.test_loss : NAN;
    r.status.threads = v->threads;
    r.rows = v->rows;
    r.transfer = v->transfer;
    r.n_rows = v->n_rows;
    return r;
}

/* ---- the resumable run directory ---------------------------------------------------------- */

/* metrics.csv must hold the rows the checkpoint accounts for: one at every
 * evaluation up to its step (the row at an evaluation is written, and now
 * fsynced, before that evaluation's checkpoint). When a power cut lost some,
 * the checkpoint cannot be resumed without a gap: it is removed and the run
 * starts over, writing every row again. */
static int check_rows_kept(sl_run_dir *d, const sl_trainer *t, sl_error *err)
{
    sl_checkpoint_info ci;
    int rc = sl_checkpoint_peek(d->checkpoint, &ci, err);
    if (rc)
        return rc;
    const sl_train_opts *o = sl_trainer_opts(t);
    long need = ci.step >= o->steps ? o->steps : o->eval_every > 0 ? ci.step / o->eval_every * o->eval_every : 0;
    long have = -1;
    if (access(d->metrics, F_OK) == 0) {
        sl_metric_row *rows;
        size_t n;
        if ((rc = sl_metrics_read(d->metrics, &rows, &n, NULL, err)))
            return rc;
        for (size_t i = 0; i < n; i++)
            if (rows[i].step <= ci.step && rows[i].step > have)
                have = rows[i].step;
        free(rows);
    }
    if (have >= need)
        return SL_OK;
    if (unlink(d->checkpoint) != 0)
        return sl_fail(err, SL_ERUNTIME, "%s: cannot remove: %s", d->checkpoint, strerror(errno));
    if (have < 0)
        snprintf(d->note, sizeof d->note,
                 "%.600s: step %ld, but metrics.csv has no row (lost before they reached the disk): "
                 "the checkpoint is removed and the run starts over",
                 d->checkpoint, ci.step);
    else
        snprintf(d->note, sizeof d->note,
                 "%.600s: step %ld, but metrics.csv ends at step %ld (rows lost before they reached "
                 "the disk): the checkpoint is removed and the run starts over",
                 d->checkpoint, ci.step, have);
    return SL_OK;
}

int sl_run_dir_open(sl_run_dir *d, const char *dir, sl_trainer *t, const char *extra_col,
                    sl_error *err)
{
    memset(d, 0, sizeof *d);
    int rc = sl_mkdirs(dir, err);
    if (rc)
        return rc;
    sl_run_path(d->checkpoint, sizeof d->checkpoint, dir, SL_RUN_CHECKPOINT_FILE);
    sl_run_path(d->metrics, sizeof d->metrics, dir, SL_RUN_METRICS_FILE);
    sl_remove_stale_temps(dir, 0);
    if (access(d->checkpoint, F_OK) == 0 && (rc = check_rows_kept(d, t, err)))
        return rc;
    if (access(d->checkpoint, F_OK) == 0) {
        if ((rc = sl_trainer_load(t, d->checkpoint, err)))
            return rc;
        d->resumed = 1;
    }
    /* without a checkpoint the run starts over and writes step 0 again */
    if ((rc = sl_metrics_trim(d->metrics, d->resumed ? sl_trainer_steps_done(t) : -1, err)))
        return rc;
    if (access(d->metrics, F_OK) == 0 &&
        (rc = sl_metrics_read(d->metrics, &d->rows, &d->n_rows, &d->transfer, err)))
        return rc;
    d->f = fopen(d->metrics, "a");
    if (!d->f) {
        rc = sl_fail(err, SL_ERUNTIME, "%s: cannot open: %s", d->metrics, strerror(errno));
        sl_run_dir_close(d, NULL);
        return rc;
    }
    /* empty also when a crash tore the header before it was flushed */
    if (ftell(d->f) == 0) {
        sl_metrics_header(d->f, extra_col);
        d->has_extra = extra_col != NULL;
        d->layout = d->has_extra ? SL_METRICS_TRANSFER : 0;
    } else {
        /* a file from before test_bpb goes on in its own layout */
        d->layout = sl_metrics_layout(d->metrics);
        d->has_extra = (d->layout & SL_METRICS_TRANSFER) != 0;
    }
    return SL_OK;
}

int sl_run_dir_append(sl_run_dir *d, const sl_metric_row *row, double extra, sl_error *err)
{
    if (sl_metrics_write_row(d->f, row, d->layout, extra) != 0)
        return sl_fail(err, SL_ERUNTIME, "%s: write failed: %s", d->metrics, strerror(errno));
    return SL_OK;
}

int sl_run_dir_checkpoint(sl_run_dir *d, const sl_trainer *t, sl_error *err)
{
    /* the rows first: the checkpoint accounts for them */
    if (fflush(d->f) != 0 || fsync(fileno(d->f)) != 0)
        return sl_fail(err, SL_ERUNTIME, "%s: cannot write to disk: %s (the checkpoint is not replaced)",
                       d->metrics, strerror(errno));
    return sl_trainer_save(t, d->checkpoint, err);
}

int sl_run_dir_close(sl_run_dir *d, sl_error *err)
{
    int rc = SL_OK;
    if (d->f && fclose(d->f) != 0 && err)
        rc = sl_fail(err, SL_ERUNTIME, "%s: write failed: %s", d->metrics, strerror(errno));
    d->f = NULL;
    free(d->rows);
    free(d->transfer);
    d->rows = NULL;
    d->transfer = NULL;
    d->n_rows = 0;
    return rc;
}

/* A row: to the directory (before its checkpoint), then to the caller. */
static int emit_row(sl_run_dir *d, sl_trainer *t, const sl_run_hooks *h, const sl_metric_row *row,
                    int checkpoint, int *done, sl_error *err)
{
    double x = h && h->extra ? h->extra(h->user, t) : NAN;
    int rc;
    if (d && (rc = sl_run_dir_append(d, row, x, err)))
        return rc;
    if (d && checkpoint && (rc = sl_run_dir_checkpoint(d, t, err)))
        return rc;
    int r = h && h->on_row ? h->on_row(h->user, row, x, err) : 0;
    if (r < 0)
        return r;
    if (r > 0)
        *done = 1;
    return SL_OK;
}

int sl_run_dir_train(sl_run_dir *d, sl_trainer *t, const sl_run_hooks *h, int *stopped,
                     sl_error *err)
{
    *stopped = 0;
    int done = 0, rc;
    sl_metric_row row;
    /* a run stopped before its first evaluation has its step-0 row already
     * (its checkpoint at step 0 follows that row) */
    if (sl_trainer_steps_done(t) == 0 && (d ? d->n_rows == 0 : 1)) {
        sl_trainer_row(t, &row);
        if ((rc = emit_row(d, t, h, &row, 0, &done, err)))
            return rc;
    }
    while (!done && !sl_trainer_finished(t)) {
        if (h && h->should_stop && h->should_stop(h->user)) {
            *stopped = 1;
            return d ? sl_run_dir_checkpoint(d, t, err) : SL_OK;
        }
        double t0 = sl_now();
        int got = sl_trainer_step(t, &row, err);
        if (got < 0)
            return got;
        double dt = sl_now() - t0;
        if (got == 1 && (rc = emit_row(d, t, h, &row, 1, &done, err)))
            return rc;
        if (h && h->on_step)
            h->on_step(h->user, t, dt);
    }
    return SL_OK;
}
