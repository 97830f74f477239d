/* watch: see watch.h. Files are re-read only when their size or mtime moved,
 * so watching a large store costs a few stat calls a second. */
#include "watch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scalelab/run.h"
#include "scalelab/store.h"

/* A run of the store (run.h's record) and when its files last moved. */
typedef struct {
    char id[SL_RUN_ID_MAX];
    sl_run rec;
    struct timespec m_metrics, m_status;
    off_t s_metrics;
    double last_tokens, last_wall;
} WatchRun;

struct Watch {
    char dir[1024];
    sl_preset preset;
    WatchRun *runs;
    int n_runs;
    double last;
    uint64_t gen;
    double t0;
};

static int changed(const char *path, struct timespec *m, off_t *size)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    int moved = st.st_mtim.tv_sec != m->tv_sec || st.st_mtim.tv_nsec != m->tv_nsec ||
                (size && st.st_size != *size);
    *m = st.st_mtim;
    if (size)
        *size = st.st_size;
    return moved;
}

int Watch_open(Watch **out, const char *dir, sl_error *err)
{
    *out = NULL;
    char *json = NULL;
    int rc = sl_sweep_read(dir, &json, err);
    if (rc != SL_OK)
        return rc;
    Watch *w = sl_xcalloc(1, sizeof *w);
    char path[1100];
    sl_run_path(path, sizeof path, dir, SL_SWEEP_FILE);
    rc = sl_preset_parse(&w->preset, json, path, err);
    free(json);
    if (rc != SL_OK) {
        free(w);
        return rc;
    }
    snprintf(w->dir, sizeof w->dir, "%s", dir);
    w->last = -1e9;
    w->t0 = sl_now();
    *out = w;
    return SL_OK;
}

const sl_preset *Watch_preset(const Watch *w) { return &w->preset; }

static WatchRun *find_or_add(Watch *w, const char *id, int *added)
{
    for (int i = 0; i < w->n_runs; i++)
        if (!strcmp(w->runs[i].id, id))
            return &w->runs[i];
    WatchRun *nr = realloc(w->runs, (size_t)(w->n_runs + 1) * sizeof *nr);
    if (!nr)
        abort();
    w->runs = nr;
    WatchRun *r = &w->runs[w->n_runs++];
    memset(r, 0, sizeof *r);
    snprintf(r->id, sizeof r->id, "%s", id);
    *added = 1;
    return r;
}

/* Reads what moved; returns 1 if anything did. */
static int refresh(Watch *w)
{
    char **ids = NULL;
    int n = 0, any = 0;
    sl_error err;
    if (sl_store_list_runs(w->dir, &ids, &n, &err) != SL_OK)
        return 0;
    for (int i = 0; i < n; i++) {
        int added = 0;
        WatchRun *r = find_or_add(w, ids[i], &added);
        char rd[1200], path[1300];
        snprintf(rd, sizeof rd, "%s/%s", w->dir, ids[i]);
        if (added) {
            if (sl_run_load_spec(&r->rec, rd, &err) != SL_OK) {
                w->n_runs--; /* half-written: try again next time */
                continue;
            }
            any = 1;
        }
        sl_run_path(path, sizeof path, rd, SL_RUN_STATUS_FILE);
        if (changed(path, &r->m_status, NULL) || added) {
            if (sl_status_read(rd, &r->rec.status, &err) == SL_OK)
                any = 1;
        }
        sl_run_path(path, sizeof path, rd, SL_RUN_METRICS_FILE);
        if (changed(path, &r->m_metrics, &r->s_metrics) && sl_run_load_rows(&r->rec, rd, &err) == SL_OK)
            any = 1;
    }
    sl_store_free_list(ids, n);
    return any;
}

int Watch_snapshot(Watch *w, sl_snapshot *s, double every)
{
    double now = sl_now();
    if (now - w->last < every && s->generation != 0)
        return 0;
    w->last = now;
    if (!refresh(w) && s->generation != 0)
        return 0;
    sl_snapshot_free(s);
    s->generation = ++w->gen;
    snprintf(s->dir, sizeof s->dir, "%s", w->dir);
    snprintf(s->name, sizeof s->name, "%s", w->preset.name);
    s->n_runs = w->n_runs;
    s->runs = sl_xcalloc((size_t)(w->n_runs ? w->n_runs : 1), sizeof *s->runs);
    for (int i = 0; i < w->n_runs; i++) {
        WatchRun *r = &w->runs[i];
        const sl_run *rec = &r->rec;
        sl_run_view *v = &s->runs[i];
        v->spec = rec->spec;
        v->n_rows = rec->n_rows;
        if (rec->n_rows) {
            v->rows = sl_xmalloc(rec->n_rows * sizeof *v->rows);
            memcpy(v->rows, rec->rows, rec->n_rows * sizeof *v->rows);
            if (rec->transfer) {
                v->transfer = sl_xmalloc(rec->n_rows * sizeof *v->transfer);
                memcpy(v->transfer, rec->transfer, rec->n_rows * sizeof *v->transfer);
            }
        }
        /* as the engine's snapshot: the view follows from the record */
        sl_run_view_derive(v, -1);
        v->epochs = rec->status.epochs;
        v->state = sl_run_state_of(rec);
        v->cancelled = v->state == SL_RUN_STOPPED && !strcmp(rec->status.reason, "cancelled");
        v->early_stopped = sl_run_early_stopped(rec);
        snprintf(v->reason, sizeof v->reason, "%s", rec->status.reason);
        if (rec->status.threads > 0)
            v->threads = rec->status.threads;
        /* throughput from the wall clock of the last two rows */
        v->tokens_per_s = 0;
        v->eta_s = NAN;
        if (v->state == SL_RUN_RUNNING && rec->n_rows >= 2) {
            const sl_metric_row *a = &rec->rows[rec->n_rows - 2], *b = &rec->rows[rec->n_rows - 1];
            if (b->wall_s > a->wall_s)
                v->tokens_per_s = (b->tokens - a->tokens) / (b->wall_s - a->wall_s);
            if (v->tokens_per_s > 0)
                v->eta_s = (v->planned_tokens - v->done_tokens) / v->tokens_per_s;
        }
        sl_snapshot_count(s, v);
    }
    s->elapsed_s = now - w->t0;
    return 1;
}

void Watch_free(Watch *w)
{
    if (!w)
        return;
    for (int i = 0; i < w->n_runs; i++)
        sl_run_free(&w->runs[i].rec);
    free(w->runs);
    sl_preset_free(&w->preset);
    free(w);
}
