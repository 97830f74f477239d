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
#define BOOT_K 100      /* resamples per law */
#define BOOT_MAX_FIT 0.05 /* seconds: slower refits are not bootstrapped */

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

/* Laws fitted to whole learning curves rather than one point per run. */
static int uses_curves(sl_fit_law l)
{
    return l == SL_LAW_KAPLAN_NS || l == SL_LAW_CMIN || l == SL_LAW_APPROACH1 || l == SL_LAW_BCRIT_SCAN ||
           l == SL_LAW_CFIXED ||
           l == SL_LAW_POWER_C || l == SL_LAW_OFFSET_C || l == SL_LAW_POWER_S ||
           l == SL_LAW_OFFSET_S;
}

/* Which points a law takes. */
static int point_set(sl_fit_law l)
{
    return l == SL_LAW_BCRIT ? FIT_POINTS_NOISE : uses_curves(l) ? FIT_POINTS_ROWS : FIT_POINTS_RUNS;
}

int Fitter_points(const sl_snapshot *s, int which, sl_fit_point **pts, size_t *n)
{
    int curves = which != FIT_POINTS_RUNS;
    size_t cap = 0, m = 0;
    for (int i = 0; i < s->n_runs; i++)
        cap += curves ? s->runs[i].n_rows : 1;
    sl_fit_point *p = sl_xcalloc(cap ? cap : 1, sizeof *p);
    for (int i = 0; i < s->n_runs; i++) {
        const sl_run_view *v = &s->runs[i];
        /* one point per run is its converged loss: a run still training only
         * bounds it from above, and fitting those makes early exponents
         * nonsense (bigger models, less trained, look worse) */
        if (!curves && v->state != SL_RUN_DONE)
            continue;
        double b = (double)v->batch * v->shape.n_ctx;
        const sl_metric_row *best = NULL;
        for (size_t k = 0; k < v->n_rows; k++) {
            const sl_metric_row *r = &v->rows[k];
            if (r->step <= 0 || !isfinite(r->test_loss) || r->test_loss <= 0)
                continue;
            if (which == FIT_POINTS_NOISE) {
                /* B_simple (tokens), McCandlish et al.'s B_crit, where measured */
                if (isfinite(r->noise_scale) && r->noise_scale > 0)
                    p[m++] = (sl_fit_point){.bcrit = r->noise_scale, .loss = r->test_loss,
                                            .run = v->index};
            } else if (curves) {
                p[m++] = (sl_fit_point){.n = v->n, .d = r->tokens, .c = r->flops, .s = (double)r->step,
                                        .b = b, .loss = r->test_loss, .run = v->index};
            } else if (!best || r->test_loss < best->test_loss) {
                best = r;
            }
        }
        if (!curves && best)
            p[m++] = (sl_fit_point){.n = v->n, .d = v->d > 0 ? v->d : best->tokens, .c = best->flops,
                                    .s = (double)best->step, .b = b, .loss = best->test_loss,
                                    .run = v->index};
    }
    *pts = p;
    *n = m;
    return 0;
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
    const sl_fit_point *p = pts[point_set(law)];
    size_t n = n_pts[point_set(law)];
    sl_fit_options o;
    sl_fit_options_default(&o);
    o.bootstrap = boot ? BOOT_K : 0;
    o.seed = 1;
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
            /* a law whose plain refit is slow would take BOOT_K times that to
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
