/* engine: see include/scalelab/engine.h.
 *
 * One mutex guards the run table and everything a snapshot copies. The
 * scheduler thread sleeps on a condition variable and wakes when a worker
 * exits or the user changes something; it starts runs while cores are free.
 * A worker trains one run outside the lock, taking it only to publish a metric
 * row, its speed, and to read its control flags between steps.
 *
 * Threads per run: a run that has none recorded gets free cores / queued runs
 * (at least 1) when it first starts, and keeps that count for its whole life
 * (config.json records it) because the sum of the per-thread gradients, and so
 * a bitwise resume, depends on it. A sweep of one run gets every core; a sweep
 * of fifty runs one per core. */
#define _DEFAULT_SOURCE
#include "scalelab/engine.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scalelab/machine.h"
#include "scalelab/store.h"
#include "scalelab/throughput.h"

typedef struct run {
    struct sl_engine *e;
    sl_run_spec spec;
    char dir[1200];
    sl_run_state state;
    int cancelled, early_stopped, selected;
    char reason[256];
    int want_pause, want_cancel;
    int has_thread, exited;
    pthread_t thread;
    sl_metric_row *rows;
    double *transfer;
    size_t n_rows, cap;
    long done_steps;
    double tps, eta, step_time;
    double best;
    double last_pub;
    int config_dirty;
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
    double t_start;
    char error[1024];
};

static const char *state_names[] = {"queued", "running", "paused", "done", "failed", "stopped"};

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

void sl_engine_opts_default(sl_engine_opts *o)
{
    memset(o, 0, sizeof *o);
    o->only = -1;
}

/* Called with the lock held: the state a snapshot sees has changed. */
static void bump(sl_engine *e)
{
    e->gen++;
    if (!e->wake_pending) {
        e->wake_pending = 1;
        char b = 1;
        ssize_t w = write(e->wake[1], &b, 1);
        (void)w; /* a full pipe already wakes the reader */
    }
}

static void notify(sl_engine *e)
{
    if (e->o.on_change)
        e->o.on_change(e->o.user);
}

/* ---- the store ------------------------------------------------------------ */

static int write_text(const char *dir, const char *name, const char *text, sl_error *err)
{
    char path[1300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return sl_write_atomic(path, text, strlen(text), err);
}

static int write_config(const run *r, sl_error *err)
{
    char *j = sl_run_spec_to_json(&r->spec);
    int rc = write_text(r->dir, "config.json", j, err);
    free(j);
    return rc;
}

static int write_status(const run *r, sl_error *err)
{
    sl_run_status s;
    memset(&s, 0, sizeof s);
    snprintf(s.state, sizeof s.state, "%s", sl_run_state_name(r->state));
    snprintf(s.reason, sizeof s.reason, "%s", r->reason);
    s.step = r->done_steps;
    s.best_test_loss = r->best;
    s.final_test_loss = r->n_rows ? r->rows[r->n_rows - 1].test_loss : NAN;
    s.threads = r->spec.train.threads;
    return sl_status_write(r->dir, &s, err);
}

/* Debian's fortunes as one text file in the data directory (the files without
 * .dat/.u8, in name order), written once. */
static int prepare_fortunes(const char *data_dir, char *out, size_t len, sl_error *err)
{
    const char *src = "/usr/share/games/fortunes";
    snprintf(out, len, "%s/fortunes.txt", sl_data_dir(data_dir));
    if (access(out, F_OK) == 0)
        return SL_OK;
    struct dirent **list;
    int n = scandir(src, &list, NULL, alphasort);
    if (n < 0)
        return sl_fail(err, SL_ERUNTIME, "%s: cannot read: %s (install the fortunes package)", src,
                       strerror(errno));
    size_t cap = 1 << 20, used = 0;
    char *buf = sl_xmalloc(cap);
    for (int i = 0; i < n; i++) {
        const char *name = list[i]->d_name;
        size_t l = strlen(name);
        int skip = name[0] == '.' || (l > 4 && !strcmp(name + l - 4, ".dat")) ||
                   (l > 3 && !strcmp(name + l - 3, ".u8"));
        char path[1300];
        snprintf(path, sizeof path, "%s/%s", src, name);
        struct stat st;
        if (!skip && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            char *d;
            size_t dl;
            sl_error e2;
            if (sl_read_file(path, &d, &dl, &e2) == SL_OK) {
                while (used + dl + 1 > cap)
                    cap *= 2;
                char *nb = realloc(buf, cap);
                if (!nb)
                    abort();
                buf = nb;
                memcpy(buf + used, d, dl);
                used += dl;
                free(d);
            }
        }
        free(list[i]);
    }
    free(list);
    int rc = used == 0 ? sl_fail(err, SL_ERUNTIME, "%s: no fortune files (install the fortunes package)", src)
                       : sl_mkdirs(sl_data_dir(data_dir), err);
    if (rc == SL_OK)
        rc = sl_write_atomic(out, buf, used, err);
    free(buf);
    return rc;
}

static int load_corpora(sl_engine *e, sl_error *err)
{
    sl_corpus_opts co = {0};
    co.path = e->p.corpus;
    co.exclude = e->p.holdout[0] ? e->p.holdout : NULL;
    co.tokenizer = e->p.tokenizer;
    co.test_frac = e->p.test_frac;
    co.data_dir = e->o.data_dir;
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
            if ((rc = prepare_fortunes(e->o.data_dir, path, sizeof path, err)))
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

static run *find(sl_engine *e, const char *id)
{
    for (int i = 0; i < e->n_runs; i++)
        if (!strcmp(e->runs[i]->spec.id, id))
            return e->runs[i];
    return NULL;
}

static int selected(const sl_engine *e, int index)
{
    if (e->o.only >= 0 && index != e->o.only)
        return 0;
    if (e->o.shard_count > 1 && index % e->o.shard_count != e->o.shard_index)
        return 0;
    return 1;
}

static void add_to_table(sl_engine *e, run *r)
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
    if (r->spec.index >= e->next_index)
        e->next_index = r->spec.index + 1;
}

static int cmp_index(const void *a, const void *b)
{
    const run *x = *(run *const *)a, *y = *(run *const *)b;
    return (x->spec.index > y->spec.index) - (x->spec.index < y->spec.index);
}

/* Reads every run of the store into the table. */
static int load_runs(sl_engine *e, sl_error *err)
{
    char **ids;
    int n;
    int rc = sl_store_list_runs(e->dir, &ids, &n, err);
    if (rc)
        return rc;
    for (int i = 0; i < n && rc == SL_OK; i++) {
        run *r = sl_xcalloc(1, sizeof *r);
        snprintf(r->dir, sizeof r->dir, "%s/%s", e->dir, ids[i]);
        char path[1300], *text;
        size_t len;
        snprintf(path, sizeof path, "%s/config.json", r->dir);
        if ((rc = sl_read_file(path, &text, &len, err)) == SL_OK) {
            rc = sl_run_spec_from_json(&r->spec, text, path, err);
            free(text);
        }
        if (rc == SL_OK && r->spec.train.model.vocab != e->corpus.vocab)
            rc = sl_fail(err, SL_EINPUT, "%s:vocab: %d does not match the corpus (expected %d)", path,
                         r->spec.train.model.vocab, e->corpus.vocab);
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
        r->best = st.best_test_loss;
        r->eta = NAN;
        r->selected = selected(e, r->spec.index);
        snprintf(path, sizeof path, "%s/metrics.csv", r->dir);
        sl_error e2;
        if (access(path, F_OK) == 0 &&
            sl_metrics_read(path, &r->rows, &r->n_rows, &r->transfer, &e2) == SL_OK)
            r->cap = r->n_rows;
        add_to_table(e, r);
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
    return e;
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
        int same = !strcmp(old, json);
        free(old);
        if (!same) {
            rc = sl_fail(err, SL_EINPUT,
                         "%s: holds another sweep (expected the same preset; use scalelab resume %s "
                         "or --runs DIR)",
                         e->dir, e->dir);
            goto fail;
        }
    } else {
        /* The runs first, sweep.json last: its presence marks a complete store. */
        for (int i = 0; i < e->p.n_runs && rc == SL_OK; i++) {
            run r;
            memset(&r, 0, sizeof r);
            r.spec = e->p.runs[i];
            r.best = NAN;
            snprintf(r.dir, sizeof r.dir, "%s/%s", e->dir, r.spec.id);
            /* another process creating the same sweep (Slurm array tasks
             * starting together) may already train this run: leave it be */
            char cfg[1300];
            snprintf(cfg, sizeof cfg, "%s/config.json", r.dir);
            if (access(cfg, F_OK) == 0)
                continue;
            if ((rc = sl_mkdirs(r.dir, err)) == SL_OK && (rc = write_config(&r, err)) == SL_OK)
                rc = write_status(&r, err);
        }
        if (rc == SL_OK)
            rc = write_text(e->dir, "sweep.json", json, err);
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
    snprintf(path, sizeof path, "%s/sweep.json", e->dir);
    int rc = sl_sweep_read(e->dir, &json, err);
    if (rc == SL_OK)
        rc = sl_preset_parse(&e->p, json, path, err);
    free(json);
    if (rc == SL_OK)
        rc = load_corpora(e, err);
    if (rc == SL_OK)
        rc = load_runs(e, err);
    if (rc) {
        sl_engine_free(e);
        return rc;
    }
    *out = e;
    return SL_OK;
}

/* ---- a worker: one run ------------------------------------------------------ */

/* Loss on the eval corpus (transfer) over its first max_tokens tokens. */
static double eval_corpus(const sl_model *m, const sl_corpus *c, size_t max_tokens)
{
    const int T = m->cfg.n_ctx, B = 8;
    size_t nseq = sl_eval_sequences(c, T, max_tokens);
    sl_acts *a = sl_acts_new(&m->cfg, B);
    int32_t *inp = sl_xmalloc((size_t)B * T * sizeof(int32_t));
    int32_t *tgt = sl_xmalloc((size_t)B * T * sizeof(int32_t));
    double sum = 0;
    for (size_t s = 0; s < nseq; s += B) {
        int bs = (int)(nseq - s < (size_t)B ? nseq - s : (size_t)B);
        sl_eval_batch(c, T, s, bs, inp, tgt);
        sum += sl_model_forward(m, a, inp, tgt, bs, T, 0);
    }
    free(inp);
    free(tgt);
    sl_acts_free(a);
    return sum / ((double)nseq * T);
}

/* Early stopping over the rows so far: 1 when the last `patience` evaluations
 * brought no improvement larger than min_delta over the best before them. */
static int patience_spent(const sl_run_spec *s, const sl_metric_row *rows, size_t n, double *best)
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
    if (best)
        *best = n ? b : NAN;
    return s->patience > 0 && since >= s->patience;
}

static void publish_row(sl_engine *e, run *r, const sl_metric_row *row, double transfer)
{
    pthread_mutex_lock(&e->mu);
    if (r->n_rows == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        sl_metric_row *v = realloc(r->rows, r->cap * sizeof *v);
        double *x = realloc(r->transfer, r->cap * sizeof *x);
        if (!v || !x)
            abort();
        r->rows = v;
        r->transfer = x;
    }
    r->rows[r->n_rows] = *row;
    r->transfer[r->n_rows] = transfer;
    r->n_rows++;
    if (!(r->best <= row->test_loss))
        r->best = row->test_loss;
    r->done_steps = row->step;
    bump(e);
    pthread_mutex_unlock(&e->mu);
    notify(e);
}

enum { END_DONE, END_EARLY, END_FAILED, END_STOPPED, END_PAUSED, END_CANCELLED, END_BUSY };

/* Mean test loss at each position of up to CONTEXT_WINDOWS windows of n_ctx
 * tokens, their starts evenly spaced over the whole test split (they overlap
 * when the split is short): each position averages thousands of targets, where
 * the evaluation's non-overlapping windows give a few hundred. Returns the
 * number of windows (0 if the split is shorter than one window). */
#define CONTEXT_WINDOWS 16384
static size_t eval_positions(const sl_model *m, const sl_corpus *c, double *pos)
{
    const int T = m->cfg.n_ctx, B = 8;
    size_t n_test = c->n_tokens - c->n_train;
    if (n_test < (size_t)T + 1)
        return 0;
    size_t span = n_test - (size_t)T - 1; /* the last start */
    size_t stride = span / CONTEXT_WINDOWS + 1, nwin = span / stride + 1;
    const uint16_t *test = c->tokens + c->n_train;
    sl_acts *a = sl_acts_new(&m->cfg, B);
    int32_t *inp = sl_xmalloc((size_t)B * T * sizeof(int32_t));
    int32_t *tgt = sl_xmalloc((size_t)B * T * sizeof(int32_t));
    for (size_t w = 0; w < nwin; w += B) {
        int bs = (int)(nwin - w < (size_t)B ? nwin - w : (size_t)B);
        for (int b = 0; b < bs; b++) {
            const uint16_t *x = test + (w + (size_t)b) * stride;
            for (int i = 0; i < T; i++) {
                inp[(size_t)b * T + i] = x[i];
                tgt[(size_t)b * T + i] = x[i + 1];
            }
        }
        sl_model_forward(m, a, inp, tgt, bs, T, 0);
        const float *l = sl_acts_losses(a);
        for (int b = 0; b < bs; b++)
            for (int t = 0; t < T; t++)
                pos[t] += l[(size_t)b * T + t];
    }
    for (int t = 0; t < T; t++)
        pos[t] /= (double)nwin;
    free(inp);
    free(tgt);
    sl_acts_free(a);
    return nwin;
}

static int write_context(const sl_engine *e, const run *r, const sl_trainer *t, sl_error *err)
{
    const sl_model *m = sl_trainer_model(t);
    int T = m->cfg.n_ctx;
    double *pos = sl_xcalloc((size_t)T, sizeof(double));
    eval_positions(m, &e->corpus, pos);
    size_t cap = (size_t)T * 40 + 64, used = 0;
    char *buf = sl_xmalloc(cap);
    used += (size_t)snprintf(buf, cap, "position,test_loss\n");
    for (int i = 0; i < T; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%d,%.6f\n", i + 1, pos[i]);
    free(pos);
    char path[1300];
    snprintf(path, sizeof path, "%s/context.csv", r->dir);
    int rc = sl_write_atomic(path, buf, used, err);
    free(buf);
    return rc;
}

/* Holds <run>/.lock for the life of a training: two processes that were
 * handed the same run (two resumes of one store, overlapping MPI or Slurm
 * runs) would otherwise append the same rows twice. The kernel drops the lock
 * when a process dies, so a crash never leaves a run locked. */
static int lock_run(const run *r)
{
    char path[1300];
    snprintf(path, sizeof path, "%s/.lock", r->dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -2;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int train_locked(sl_engine *e, run *r, int *end, sl_error *err);

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

static int train_locked(sl_engine *e, run *r, int *end, sl_error *err)
{
    pthread_mutex_lock(&e->mu);
    sl_run_spec spec = r->spec;
    int dirty = r->config_dirty;
    r->config_dirty = 0;
    pthread_mutex_unlock(&e->mu);
    int rc;
    if (dirty) {
        /* from the copy: the user may reprioritise the run meanwhile */
        run *tmp = sl_xcalloc(1, sizeof *tmp);
        tmp->spec = spec;
        memcpy(tmp->dir, r->dir, sizeof tmp->dir);
        rc = write_config(tmp, err);
        free(tmp);
        if (rc)
            return rc;
    }
    sl_trainer *t;
    if ((rc = sl_trainer_new(&t, &spec.train, &e->corpus, err)))
        return rc;
    char ckpt[1300], mpath[1300];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.bin", r->dir);
    snprintf(mpath, sizeof mpath, "%s/metrics.csv", r->dir);
    FILE *f = NULL;
    sl_metric_row *rows = NULL;
    double *tr = NULL;
    size_t n = 0;
    int has_ckpt = access(ckpt, F_OK) == 0;
    if (has_ckpt && (rc = sl_trainer_load(t, ckpt, err)))
        goto out;
    /* Rows past the checkpoint are written again by the resumed run. */
    if ((rc = sl_metrics_trim(mpath, has_ckpt ? sl_trainer_steps_done(t) : -1, err)))
        goto out;
    if (access(mpath, F_OK) == 0 && (rc = sl_metrics_read(mpath, &rows, &n, &tr, err)))
        goto out;
    f = fopen(mpath, "a");
    if (!f) {
        rc = sl_fail(err, SL_ERUNTIME, "%s: cannot open: %s", mpath, strerror(errno));
        goto out;
    }
    if (ftell(f) == 0)
        sl_metrics_header(f, e->has_eval ? "transfer_loss" : NULL);
    double best;
    int spent = patience_spent(&spec, rows, n, &best);
    pthread_mutex_lock(&e->mu);
    free(r->rows);
    free(r->transfer);
    r->rows = rows;
    r->transfer = tr ? tr : sl_xcalloc(n ? n : 1, sizeof(double));
    if (!tr)
        for (size_t i = 0; i < n; i++)
            r->transfer[i] = NAN;
    r->n_rows = r->cap = n;
    r->best = best;
    r->done_steps = sl_trainer_steps_done(t);
    bump(e);
    pthread_mutex_unlock(&e->mu);
    rows = NULL;
    tr = NULL;
    /* a run stopped before its first evaluation has its step-0 row already */
    int have_row0 = n > 0;
    if ((rc = write_status(r, err)))
        goto out;

    const sl_model *m = sl_trainer_model(t);
    sl_metric_row row;
    if (sl_trainer_steps_done(t) == 0 && !spent && !have_row0) {
        sl_trainer_row(t, &row);
        double x = e->has_eval ? eval_corpus(m, &e->eval_corpus, spec.train.eval_tokens) : NAN;
        if (sl_metrics_write_row(f, &row, e->has_eval, x)) {
            rc = sl_fail(err, SL_ERUNTIME, "%s: write failed", mpath);
            goto out;
        }
        publish_row(e, r, &row, x);
    }
    double tok_per_step = (double)spec.train.batch * spec.train.model.n_ctx;
    *end = END_DONE;
    if (spent)
        *end = END_EARLY;
    while (!spent && !sl_trainer_finished(t)) {
        pthread_mutex_lock(&e->mu);
        int stop = e->stopping, pause = r->want_pause, cancel = r->want_cancel;
        pthread_mutex_unlock(&e->mu);
        if (stop || pause || cancel) {
            *end = cancel ? END_CANCELLED : pause ? END_PAUSED : END_STOPPED;
            rc = sl_trainer_save(t, ckpt, err);
            goto out;
        }
        double t0 = sl_now();
        int got = sl_trainer_step(t, &row, err);
        if (got < 0) {
            rc = got;
            goto out;
        }
        double dt = sl_now() - t0;
        if (got == 1) {
            double x = e->has_eval ? eval_corpus(m, &e->eval_corpus, spec.train.eval_tokens) : NAN;
            /* the row first, then the checkpoint that accounts for it */
            if (sl_metrics_write_row(f, &row, e->has_eval, x)) {
                rc = sl_fail(err, SL_ERUNTIME, "%s: write failed", mpath);
                goto out;
            }
            if ((rc = sl_trainer_save(t, ckpt, err)))
                goto out;
            publish_row(e, r, &row, x);
            pthread_mutex_lock(&e->mu);
            spent = patience_spent(&spec, r->rows, r->n_rows, NULL);
            pthread_mutex_unlock(&e->mu);
            if ((rc = write_status(r, err)))
                goto out;
            if (spent)
                *end = END_EARLY;
        }
        pthread_mutex_lock(&e->mu);
        r->step_time = r->step_time > 0 ? 0.9 * r->step_time + 0.1 * dt : dt;
        r->tps = tok_per_step / r->step_time;
        r->done_steps = sl_trainer_steps_done(t);
        r->eta = (double)(spec.train.steps - r->done_steps) * r->step_time;
        double now = sl_now();
        int pub = now - r->last_pub > 0.2;
        if (pub) {
            r->last_pub = now;
            bump(e);
        }
        pthread_mutex_unlock(&e->mu);
        if (pub)
            notify(e);
    }
    if (e->p.context_losses)
        rc = write_context(e, r, t, err);
out:
    if (f && fclose(f) != 0 && rc == SL_OK)
        rc = sl_fail(err, SL_ERUNTIME, "%s: write failed", mpath);
    free(rows);
    free(tr);
    sl_trainer_free(t);
    return rc;
}

static void *worker_main(void *arg)
{
    run *r = arg;
    sl_engine *e = r->e;
    sl_error err = {{0}};
    int end = END_FAILED;
    int rc = train_run(e, r, &end, &err);
    pthread_mutex_lock(&e->mu);
    r->tps = 0;
    r->eta = NAN;
    if (rc) {
        r->state = SL_RUN_FAILED;
        snprintf(r->reason, sizeof r->reason, "%.250s", err.msg);
        snprintf(e->error, sizeof e->error, "%.63s: %.900s", r->spec.id, err.msg);
    } else if (end == END_DONE || end == END_EARLY) {
        r->state = SL_RUN_DONE;
        r->early_stopped = end == END_EARLY;
        if (end == END_EARLY)
            snprintf(r->reason, sizeof r->reason, "early stopping at step %ld (patience %d)",
                     r->done_steps, r->spec.patience);
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
        write_status(&copy, &e2);
    pthread_mutex_lock(&e->mu);
    r->exited = 1;
    bump(e);
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
    notify(e);
    return NULL;
}

/* ---- the scheduler ------------------------------------------------------------ */

static int threads_busy(const sl_engine *e, int *workers)
{
    int busy = 0, w = 0;
    for (int i = 0; i < e->n_runs; i++)
        if (e->runs[i]->state == SL_RUN_RUNNING) {
            busy += e->runs[i]->spec.train.threads;
            w++;
        }
    if (workers)
        *workers = w;
    return busy;
}

/* Training cost of what is left of a run, in FLOPs (logits included, as they
 * dominate the time of small models). */
static double cost(const run *r)
{
    double left = (double)(r->spec.train.steps - r->done_steps);
    return left * r->spec.train.batch * r->spec.train.model.n_ctx *
           sl_step_flops_per_token(&r->spec.train.model);
}

/* The next run to start: lowest priority first; among equals the costliest
 * first (longest-processing-time order keeps every core busy to the end of a
 * sweep, as the short runs fill the gaps), then the planned index. */
static run *next_queued(const sl_engine *e, int *n_queued)
{
    run *best = NULL;
    double best_cost = 0;
    int n = 0;
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
        if (!best || r->spec.priority < best->spec.priority ||
            (r->spec.priority == best->spec.priority &&
             (c > best_cost || (c == best_cost && r->spec.index < best->spec.index)))) {
            best = r;
            best_cost = c;
        }
    }
    *n_queued = n;
    return best;
}

/* Starts what fits; called with the lock held. */
static void schedule(sl_engine *e)
{
    for (;;) {
        int workers, nq;
        int busy = threads_busy(e, &workers);
        run *r = next_queued(e, &nq);
        if (!r || workers >= e->jobs)
            return;
        int free_cores = e->cores - busy;
        int want = r->spec.train.threads;
        if (want == 0) {
            if (free_cores < 1)
                return;
            int slots = e->jobs - workers;
            int share = nq < slots ? nq : slots;
            want = free_cores / (share > 0 ? share : 1);
            if (want < 1)
                want = 1;
            r->spec.train.threads = want;
            r->config_dirty = 1;
        } else if (want > free_cores && workers > 0)
            return; /* wait for cores; alone it may oversubscribe */
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
        bump(e);
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
                bump(e);
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
    bump(e);
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
    notify(e);
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
    bump(e);
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
        if (r->state == SL_RUN_FAILED && !failed) {
            failed = 1;
            sl_fail(err, SL_ERUNTIME, "%s: %s", r->spec.id, r->reason);
        } else if (r->state != SL_RUN_DONE)
            open = 1;
    }
    int stopping = e->stopping;
    pthread_mutex_unlock(&e->mu);
    if (failed)
        return SL_ERUNTIME;
    return open || stopping ? 1 : SL_OK;
}

void sl_engine_free(sl_engine *e)
{
    if (!e)
        return;
    sl_engine_stop(e);
    for (int i = 0; i < e->n_runs; i++) {
        free(e->runs[i]->rows);
        free(e->runs[i]->transfer);
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

/* ---- control ------------------------------------------------------------------ */

static int control(sl_engine *e, const char *id, int action, int arg, sl_error *err)
{
    pthread_mutex_lock(&e->mu);
    run *r = find(e, id);
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
        r->spec.priority = arg;
        r->config_dirty = r->state != SL_RUN_RUNNING;
    }
    run copy;
    int write = rc == SL_OK && r && r->state != SL_RUN_RUNNING;
    if (write)
        copy = *r;
    if (rc == SL_OK) {
        bump(e);
        pthread_cond_broadcast(&e->cv);
    }
    pthread_mutex_unlock(&e->mu);
    if (write) {
        sl_error e2;
        if (action == 3)
            write_config(&copy, &e2);
        else
            write_status(&copy, &e2);
    }
    if (rc == SL_OK)
        notify(e);
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
    r->spec = *spec;
    if (r->spec.train.model.vocab == 0)
        r->spec.train.model.vocab = e->corpus.vocab;
    int rc = sl_config_validate(&r->spec.train.model, err);
    if (rc == SL_OK && r->spec.train.model.vocab != e->corpus.vocab)
        rc = sl_fail(err, SL_EINPUT, "vocab: %d does not match the corpus (expected %d)",
                     r->spec.train.model.vocab, e->corpus.vocab);
    if (rc == SL_OK && sl_corpus_check_ctx(&e->corpus, r->spec.train.model.n_ctx, err))
        rc = SL_EINPUT;
    if (rc) {
        free(r);
        return rc;
    }
    pthread_mutex_lock(&e->mu);
    r->spec.index = e->next_index;
    if (!r->spec.id[0] || find(e, r->spec.id))
        snprintf(r->spec.id, sizeof r->spec.id, "r%03d-L%d-d%d-s%llu", r->spec.index,
                 r->spec.train.model.n_layer, r->spec.train.model.d_model,
                 (unsigned long long)r->spec.train.seed);
    e->next_index++;
    pthread_mutex_unlock(&e->mu);
    snprintf(r->dir, sizeof r->dir, "%s/%s", e->dir, r->spec.id);
    r->state = SL_RUN_QUEUED;
    r->best = NAN;
    r->eta = NAN;
    r->selected = 1;
    if ((rc = sl_mkdirs(r->dir, err)) || (rc = write_status(r, err)) || (rc = write_config(r, err))) {
        free(r);
        return rc;
    }
    if (new_id)
        snprintf(new_id, SL_RUN_ID_MAX, "%s", r->spec.id);
    pthread_mutex_lock(&e->mu);
    add_to_table(e, r);
    e->finished = 0;
    bump(e);
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
    notify(e);
    return SL_OK;
}

int sl_engine_duplicate(sl_engine *e, const char *id, uint64_t seed, char *new_id, sl_error *err)
{
    pthread_mutex_lock(&e->mu);
    run *r = find(e, id);
    sl_run_spec s;
    if (r)
        s = r->spec;
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
    while (i < e->n_runs && strcmp(e->runs[i]->spec.id, id))
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
    bump(e);
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
    int rc = sl_store_remove_run(r->dir, err);
    free(r->rows);
    free(r->transfer);
    free(r);
    notify(e);
    return rc;
}

/* ---- snapshots ------------------------------------------------------------------ */

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
        int same = v->rows && !strcmp(v->id, r->spec.id) && v->n_rows <= r->n_rows &&
                   (v->n_rows == 0 || v->rows[v->n_rows - 1].step == r->rows[v->n_rows - 1].step);
        size_t from = same ? v->n_rows : 0;
        if (!same) {
            free(v->rows);
            free(v->transfer);
            v->rows = NULL;
            v->transfer = NULL;
        }
        if (r->n_rows > from || !v->rows) {
            size_t n = r->n_rows ? r->n_rows : 1;
            sl_metric_row *nr = realloc(v->rows, n * sizeof *nr);
            double *nt = realloc(v->transfer, n * sizeof *nt);
            if (!nr || !nt)
                abort();
            v->rows = nr;
            v->transfer = nt;
            if (r->n_rows > from) {
                memcpy(v->rows + from, r->rows + from, (r->n_rows - from) * sizeof *nr);
                if (r->transfer)
                    memcpy(v->transfer + from, r->transfer + from, (r->n_rows - from) * sizeof *nt);
                else
                    for (size_t k = from; k < r->n_rows; k++)
                        v->transfer[k] = NAN;
            }
        }
        v->n_rows = r->n_rows;
        snprintf(v->id, sizeof v->id, "%s", r->spec.id);
        v->index = r->spec.index;
        v->shape = r->spec.train.model;
        sl_counts k = sl_model_counts(&r->spec.train.model);
        v->n = k.n_kaplan;
        v->n_total = k.n_total;
        v->flops_per_token = k.flops_per_token;
        v->d = (double)r->spec.train.data_limit;
        v->planned_steps = r->spec.train.steps;
        v->done_steps = r->done_steps;
        double tps = (double)r->spec.train.batch * r->spec.train.model.n_ctx;
        v->planned_tokens = tps * (double)v->planned_steps;
        v->done_tokens = tps * (double)v->done_steps;
        v->state = r->state;
        v->cancelled = r->cancelled;
        v->early_stopped = r->early_stopped;
        snprintf(v->reason, sizeof v->reason, "%s", r->reason);
        v->tokens_per_s = r->state == SL_RUN_RUNNING ? r->tps : 0;
        v->eta_s = r->state == SL_RUN_RUNNING ? r->eta : NAN;
        v->threads = r->spec.train.threads;
        v->seed = r->spec.train.seed;
        v->priority = r->spec.priority;
        v->batch = r->spec.train.batch;
        v->lr = r->spec.train.lr > 0 ? r->spec.train.lr : sl_lr_auto(k.n_kaplan);
        v->best_test_loss = r->best;
        v->has_last = r->n_rows > 0;
        if (v->has_last)
            v->last = r->rows[r->n_rows - 1];
        v->transfer_loss = r->n_rows && r->transfer ? r->transfer[r->n_rows - 1] : NAN;
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
