/* fitter: see fitter.h. Refits are cheap (a few ms warm) and bootstraps are
 * not, so bootstraps run at most every BOOT_EVERY seconds and a fit thread
 * never takes more than a sliver of a core from training. */
#include "fitter.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#define MIN_GAP 2.0     /* seconds between refits */
#define BOOT_EVERY 10.0 /* seconds between bootstraps */
/* seconds: slower refits are not bootstrapped (a bootstrap costs its
 * SL_FIT_REPORT_BOOT resamples, each about a refit) */
#define BOOT_MAX_FIT 0.025

struct Fitter {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int quit;
    /* pending input */
    sl_fit_point *pts[FIT_POINT_SETS]; /* submitted, not yet taken (Fitter_points kinds) */
    size_t n_pts[FIT_POINT_SETS];
    int pending;
    /* published output */
    FitSet out;
    uint64_t gen;
    /* the thread's own */
    FitSet cur;
    int n;
    sl_fit_law law[SL_LAW_COUNT];
};

static const sl_fit_law default_laws[] = {SL_LAW_POWER_N, SL_LAW_KAPLAN_ND, SL_LAW_KAPLAN_NS,
                                          SL_LAW_CMIN, SL_LAW_CHINCHILLA};

int Fitter_points(const sl_snapshot *s, int which, sl_fit_point **pts, size_t *n)
{
    /* the points `scalelab fit DIR` and the figures take from the same runs
     * (run.h), from the runs of the snapshot */
    size_t cap = 0, rows_cap = 1, m = 0;
    for (int i = 0; i < s->n_runs; i++) {
        cap += s->runs[i].n_rows;
        if (s->runs[i].n_rows > rows_cap)
            rows_cap = s->runs[i].n_rows;
    }
    sl_fit_point *p = sl_xcalloc(cap ? cap : 1, sizeof *p);
    size_t *rows = sl_xmalloc(rows_cap * sizeof *rows);
    for (int i = 0; i < s->n_runs; i++) {
        sl_run r = sl_run_view_record(&s->runs[i]);
        size_t k = sl_run_point_rows(&r, (sl_fit_point_rule)which, 0, rows);
        for (size_t j = 0; j < k; j++)
            p[m++] = sl_run_point(&r, rows[j], (sl_fit_point_rule)which, 0);
    }
    free(rows);
    *pts = p;
    *n = m;
    return 0;
}

void Fitter_options(sl_fit_law law, int boot, sl_fit_options *o)
{
    sl_fit_options_report(law, o);
    if (!boot)
        o->bootstrap = 0;
}

void FitSet_free(FitSet *s)
{
    for (int i = 0; i < s->n; i++)
        sl_fit_result_free(&s->res[i]);
    memset(s, 0, sizeof *s);
}

void FitSet_copy(FitSet *dst, const FitSet *src)
{
    FitSet_free(dst);
    *dst = *src;
    for (int i = 0; i < src->n; i++) {
        const sl_fit_result *r = &src->res[i];
        if (r->boot && r->n_boot_ok > 0) {
            size_t sz = (size_t)r->n_boot_ok * (size_t)r->n_params * sizeof(double);
            dst->res[i].boot = sl_xmalloc(sz);
            memcpy(dst->res[i].boot, r->boot, sz);
        } else {
            dst->res[i].boot = NULL;
            dst->res[i].n_boot_ok = 0;
        }
    }
}

const sl_fit_result *FitSet_get(const FitSet *s, sl_fit_law law)
{
    for (int i = 0; i < s->n; i++)
        if (s->law[i] == law && s->ok[i])
            return &s->res[i];
    return NULL;
}

static void publish(Fitter *f)
{
    pthread_mutex_lock(&f->mu);
    FitSet_copy(&f->out, &f->cur);
    f->gen++;
    pthread_mutex_unlock(&f->mu);
}

static void fit_one(Fitter *f, int i, sl_fit_point *const *pts, const size_t *n_pts, int boot)
{
    sl_fit_law law = f->law[i];
    const sl_fit_point *p = pts[sl_fit_law_points(law)];
    size_t n = n_pts[sl_fit_law_points(law)];
    sl_fit_options o;
    Fitter_options(law, boot, &o);
    sl_fit_result prev = f->cur.res[i];
    int had = f->cur.ok[i];
    o.warm = had ? &prev : NULL;
    sl_fit_result r;
    sl_error err;
    int rc = sl_fit(law, p, n, &o, &r, &err);
    if (rc != SL_OK) {
        sl_fit_result_free(&f->cur.res[i]);
        f->cur.ok[i] = 0;
        f->cur.boot_done[i] = 0;
        const char *m = strchr(err.msg, ':');
        snprintf(f->cur.why[i], sizeof f->cur.why[i], "%.150s", m && m[1] ? m + 2 : err.msg);
        return;
    }
    if (!boot && had && prev.boot) {
        /* keep the last intervals on screen until the next bootstrap */
        memcpy(r.ci_low, prev.ci_low, sizeof r.ci_low);
        memcpy(r.ci_high, prev.ci_high, sizeof r.ci_high);
        r.boot = prev.boot;
        r.n_boot_ok = prev.n_boot_ok;
        r.n_boot = prev.n_boot;
        prev.boot = NULL;
    }
    sl_fit_result_free(&prev);
    f->cur.res[i] = r;
    f->cur.ok[i] = 1;
    f->cur.boot_done[i] = boot;
    f->cur.why[i][0] = 0;
}

static int quitting(Fitter *f)
{
    pthread_mutex_lock(&f->mu);
    int q = f->quit;
    pthread_mutex_unlock(&f->mu);
    return q;
}

static void *fitter_main(void *arg)
{
    Fitter *f = arg;
    double last_boot = -1e9;
    /* a name for top -H and bench/bench_lab.sh, which reports this thread's CPU */
    prctl(PR_SET_NAME, "sl-fitter", 0, 0, 0);
    for (;;) {
        pthread_mutex_lock(&f->mu);
        while (!f->quit && !f->pending)
            pthread_cond_wait(&f->cv, &f->mu);
        if (f->quit) {
            pthread_mutex_unlock(&f->mu);
            break;
        }
        sl_fit_point *pts[FIT_POINT_SETS];
        size_t n_pts[FIT_POINT_SETS];
        for (int k = 0; k < FIT_POINT_SETS; k++) {
            pts[k] = f->pts[k];
            n_pts[k] = f->n_pts[k];
            f->pts[k] = NULL;
        }
        f->pending = 0;
        pthread_mutex_unlock(&f->mu);

        double t0 = sl_now(), took[SL_LAW_COUNT] = {0};
        for (int i = 0; i < f->n && !quitting(f); i++) {
            double t1 = sl_now();
            fit_one(f, i, pts, n_pts, 0);
            took[i] = sl_now() - t1;
        }
        f->cur.seconds = sl_now() - t0;
        publish(f);
        if (sl_now() - last_boot >= BOOT_EVERY) {
            /* a law whose plain refit is slow would take its resamples times that to
             * bootstrap: it keeps its old intervals (quitting waits on a fit) */
            for (int i = 0; i < f->n && !quitting(f); i++)
                if (f->cur.ok[i] && took[i] < BOOT_MAX_FIT)
                    fit_one(f, i, pts, n_pts, 1);
            last_boot = sl_now();
            publish(f);
        }
        for (int k = 0; k < FIT_POINT_SETS; k++)
            free(pts[k]);
        /* debounce: points arriving meanwhile are merged into the next refit */
        struct timespec ts = {0, (long)(MIN_GAP * 1e9) % 1000000000L};
        ts.tv_sec = (time_t)MIN_GAP;
        pthread_mutex_lock(&f->mu);
        if (!f->quit) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += ts.tv_sec;
            until.tv_nsec += ts.tv_nsec;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            while (!f->quit && pthread_cond_timedwait(&f->cv, &f->mu, &until) == 0)
                ;
        }
        pthread_mutex_unlock(&f->mu);
    }
    return NULL;
}

Fitter *Fitter_new(const char (*laws)[32], int n)
{
    Fitter *f = sl_xcalloc(1, sizeof *f);
    for (int i = 0; i < n && f->n < SL_LAW_COUNT; i++) {
        int l = sl_fit_law_from_name(laws[i]);
        if (l >= 0)
            f->law[f->n++] = (sl_fit_law)l;
    }
    if (f->n == 0)
        for (size_t i = 0; i < sizeof default_laws / sizeof default_laws[0]; i++)
            f->law[f->n++] = default_laws[i];
    f->cur.n = f->n;
    memcpy(f->cur.law, f->law, sizeof f->law);
    for (int i = 0; i < f->n; i++)
        snprintf(f->cur.why[i], sizeof f->cur.why[i], "waiting for points");
    f->out = f->cur;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    /* the fitter takes no signals (the UI thread reads them from a signalfd) */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    if (pthread_create(&f->th, NULL, fitter_main, f) != 0)
        abort();
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return f;
}

void Fitter_submit(Fitter *f, const sl_snapshot *s)
{
    sl_fit_point *pts[FIT_POINT_SETS];
    size_t n_pts[FIT_POINT_SETS];
    for (int k = 0; k < FIT_POINT_SETS; k++)
        Fitter_points(s, k, &pts[k], &n_pts[k]);
    pthread_mutex_lock(&f->mu);
    for (int k = 0; k < FIT_POINT_SETS; k++) {
        free(f->pts[k]);
        f->pts[k] = pts[k];
        f->n_pts[k] = n_pts[k];
    }
    f->pending = 1;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

int Fitter_take(Fitter *f, FitSet *out, uint64_t *gen)
{
    pthread_mutex_lock(&f->mu);
    int moved = f->gen != *gen;
    if (moved) {
        FitSet_copy(out, &f->out);
        *gen = f->gen;
    }
    pthread_mutex_unlock(&f->mu);
    return moved;
}

void Fitter_free(Fitter *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->mu);
    f->quit = 1;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->th, NULL);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    FitSet_free(&f->cur);
    FitSet_free(&f->out);
    for (int k = 0; k < FIT_POINT_SETS; k++)
        free(f->pts[k]);
    free(f);
}
