/* fitter: see fitter.h. Refits are cheap (a few ms warm) and bootstraps are
 * not. A law's first bootstrap runs at once; while its points keep moving the
 * next waits BOOT_EVERY seconds or BOOT_SHARE times the last one's length,
 * whichever is longer, so that the fit thread takes a sliver of a core from
 * training; once they have stopped moving for BOOT_EVERY seconds (a run ended,
 * the sweep is done) it runs then. Two entries of a law on the same points
 * (the live and the finished-run fit once every run is done) share one fit. */
#include "fitter.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "scalelab/run.h"

#define MIN_GAP 2.0     /* seconds between refits */
#define BOOT_EVERY 10.0 /* seconds between bootstraps of a law, at least */
#define BOOT_SHARE 30.0 /* and this many times its last bootstrap's length */

typedef struct {
    sl_fit_point *pts;
    size_t n;
} PointSet;

struct Fitter {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int quit;
    atomic_int cancel; /* set with quit: a fit under way stops early */
    /* pending input: one point set per entry */
    PointSet in[FIT_ENTRIES];
    int pending;
    /* published output */
    FitSet out;
    uint64_t gen;
    /* the thread's own */
    FitSet cur;
    PointSet have[FIT_ENTRIES];  /* the points of cur */
    uint64_t hash[FIT_ENTRIES], boot_hash[FIT_ENTRIES];
    double changed_at[FIT_ENTRIES], booted_at[FIT_ENTRIES], boot_took[FIT_ENTRIES];
    int n;
    sl_fit_law law[FIT_ENTRIES];
    int live[FIT_ENTRIES];
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

void Fitter_law_points(const sl_snapshot *s, sl_fit_law law, unsigned flags, sl_fit_point **pts,
                       size_t *n)
{
    sl_run *runs = sl_xcalloc(s->n_runs > 0 ? (size_t)s->n_runs : 1, sizeof *runs);
    for (int i = 0; i < s->n_runs; i++)
        runs[i] = sl_run_view_record(&s->runs[i]);
    sl_runs_law_points(runs, s->n_runs, law, flags, pts, n);
    free(runs);
}

/* An entry's points: a finished-run entry those of the runs done, a live one
 * every row of every curve so far */
static void entry_points(const sl_snapshot *s, sl_fit_law law, int live, PointSet *ps)
{
    if (!live) {
        Fitter_law_points(s, law, SL_LAW_POINTS_DONE_ONLY, &ps->pts, &ps->n);
        return;
    }
    if (sl_fit_law_points(law) == SL_POINTS_CURVES) {
        Fitter_law_points(s, law, 0, &ps->pts, &ps->n);
        return;
    }
    /* L(N, D) along the curves: D the tokens seen (capped at the data limit) */
    sl_run *runs = sl_xcalloc(s->n_runs > 0 ? (size_t)s->n_runs : 1, sizeof *runs);
    for (int i = 0; i < s->n_runs; i++)
        runs[i] = sl_run_view_record(&s->runs[i]);
    sl_runs_points(runs, s->n_runs, SL_POINTS_CURVES, 0, &ps->pts, &ps->n);
    free(runs);
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
        if (s->law[i] == law && !s->live[i] && s->ok[i])
            return &s->res[i];
    return NULL;
}

const sl_fit_result *FitSet_law(const FitSet *s, sl_fit_law law, int live)
{
    for (int i = 0; i < s->n; i++)
        if (s->law[i] == law && s->live[i] == live && s->ok[i])
            return s->verdict[i] == SL_FIT_OK ? &s->res[i] : NULL;
    return NULL;
}

static void publish(Fitter *f)
{
    for (int i = 0; i < f->cur.n; i++)
        if (f->cur.ok[i])
            f->cur.verdict[i] = sl_fit_verdict_of(&f->cur.res[i], f->cur.verdict_why[i],
                                                  sizeof f->cur.verdict_why[i]);
    pthread_mutex_lock(&f->mu);
    FitSet_copy(&f->out, &f->cur);
    f->gen++;
    pthread_mutex_unlock(&f->mu);
}

/* boot: the report fit, cold with its bootstrap (that of `scalelab fit`);
 * else a warm refit that keeps the last intervals on screen */
static void fit_one(Fitter *f, int i, int boot)
{
    sl_fit_law law = f->law[i];
    const PointSet *ps = &f->have[i];
    sl_fit_options o;
    Fitter_options(law, boot, &o);
    o.cancel = &f->cancel;
    sl_fit_result prev = f->cur.res[i];
    int had = f->cur.ok[i];
    o.warm = had && !boot ? &prev : NULL;
    sl_fit_result r;
    sl_error err;
    int rc = sl_fit(law, ps->pts, ps->n, &o, &r, &err);
    if (atomic_load(&f->cancel)) {
        if (rc == SL_OK)
            sl_fit_result_free(&r); /* cut short: not a fit */
        return;
    }
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

/* Entry i takes the fit of an earlier entry of its law on the same points
 * (boot: one bootstrapped on them); 1 if it did. */
static int share(Fitter *f, int i, int boot)
{
    for (int j = 0; j < i; j++) {
        if (f->law[j] != f->law[i] || f->hash[j] != f->hash[i] || !f->have[j].pts)
            continue;
        if (boot && f->boot_hash[j] != f->hash[j])
            continue;
        FitSet one = {0}, two = {0};
        one.n = 1;
        one.res[0] = f->cur.res[j];
        FitSet_copy(&two, &one); /* a deep copy of j's draws */
        sl_fit_result_free(&f->cur.res[i]);
        f->cur.res[i] = two.res[0];
        f->cur.ok[i] = f->cur.ok[j];
        f->cur.boot_done[i] = f->cur.boot_done[j];
        memcpy(f->cur.why[i], f->cur.why[j], sizeof f->cur.why[i]);
        return 1;
    }
    return 0;
}

static uint64_t points_hash(const PointSet *ps)
{
    return sl_fnv1a(SL_FNV_INIT ^ ps->n, ps->pts, ps->n * sizeof *ps->pts);
}

/* When entry i may be bootstrapped next: +inf when its intervals are those of
 * its points already */
static double boot_due(const Fitter *f, int i)
{
    if (f->boot_hash[i] == f->hash[i] || !f->have[i].pts)
        return INFINITY;
    double moving = f->booted_at[i] + fmax(BOOT_EVERY, BOOT_SHARE * f->boot_took[i]);
    double settled = f->changed_at[i] + BOOT_EVERY;
    return moving < settled ? moving : settled;
}

static double next_boot(const Fitter *f)
{
    double t = INFINITY;
    for (int i = 0; i < f->n; i++) {
        double d = boot_due(f, i);
        if (d < t)
            t = d;
    }
    return t;
}

static struct timespec abs_time_in(double seconds)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    if (seconds < 0)
        seconds = 0;
    if (seconds > 3600)
        seconds = 3600;
    until.tv_sec += (time_t)seconds;
    until.tv_nsec += (long)((seconds - floor(seconds)) * 1e9);
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    return until;
}

static void *fitter_main(void *arg)
{
    Fitter *f = arg;
    /* a name for top -H and bench/bench_lab.sh, which reports this thread's CPU */
    prctl(PR_SET_NAME, "sl-fitter", 0, 0, 0);
    for (;;) {
        pthread_mutex_lock(&f->mu);
        /* sleep until new points come or a bootstrap falls due */
        while (!f->quit && !f->pending) {
            double due = next_boot(f), now = sl_now();
            if (due <= now)
                break;
            if (isinf(due)) {
                pthread_cond_wait(&f->cv, &f->mu);
            } else {
                struct timespec until = abs_time_in(due - now);
                pthread_cond_timedwait(&f->cv, &f->mu, &until);
            }
        }
        if (f->quit) {
            pthread_mutex_unlock(&f->mu);
            break;
        }
        int fresh = f->pending;
        PointSet in[FIT_ENTRIES];
        for (int i = 0; i < f->n; i++) {
            in[i] = f->in[i];
            f->in[i].pts = NULL;
        }
        f->pending = 0;
        pthread_mutex_unlock(&f->mu);

        if (fresh) {
            double t0 = sl_now();
            for (int i = 0; i < f->n; i++) {
                uint64_t h = points_hash(&in[i]);
                if (f->have[i].pts && h == f->hash[i]) {
                    free(in[i].pts);
                    continue;
                }
                free(f->have[i].pts);
                f->have[i] = in[i];
                f->hash[i] = h;
                f->changed_at[i] = sl_now();
                if (quitting(f))
                    continue;
                if (!share(f, i, 0))
                    fit_one(f, i, 0);
            }
            f->cur.seconds = sl_now() - t0;
            publish(f);
        }
        double now = sl_now();
        for (int i = 0; i < f->n && !quitting(f); i++)
            if (boot_due(f, i) <= now) {
                double t1 = sl_now();
                if (!share(f, i, 1) && f->have[i].n > 0)
                    fit_one(f, i, 1);
                if (quitting(f))
                    break;
                f->boot_hash[i] = f->hash[i];
                f->booted_at[i] = sl_now();
                f->boot_took[i] = f->booted_at[i] - t1;
                publish(f);
            }
        /* debounce: points arriving meanwhile are merged into the next refit */
        pthread_mutex_lock(&f->mu);
        struct timespec until = abs_time_in(MIN_GAP);
        while (!f->quit && pthread_cond_timedwait(&f->cv, &f->mu, &until) == 0)
            ;
        pthread_mutex_unlock(&f->mu);
    }
    return NULL;
}

static void add_entry(Fitter *f, sl_fit_law law, int live)
{
    for (int i = 0; i < f->n; i++)
        if (f->law[i] == law && f->live[i] == live)
            return;
    if (f->n < FIT_ENTRIES) {
        f->law[f->n] = law;
        f->live[f->n++] = live;
    }
}

Fitter *Fitter_new(const char (*laws)[32], int n, int nd_sweep)
{
    Fitter *f = sl_xcalloc(1, sizeof *f);
    for (int i = 0; i < n && f->n < SL_LAW_COUNT; i++) {
        int l = sl_fit_law_from_name(laws[i]);
        if (l >= 0)
            add_entry(f, (sl_fit_law)l, 0);
    }
    if (f->n == 0)
        for (size_t i = 0; i < sizeof default_laws / sizeof default_laws[0]; i++)
            add_entry(f, default_laws[i], 0);
    /* the live laws: Kaplan's L(N, S) from the first evaluations on, and
     * L(N, D) along the curves of an nd sweep */
    add_entry(f, SL_LAW_KAPLAN_NS, 1);
    if (nd_sweep)
        add_entry(f, SL_LAW_KAPLAN_ND, 1);
    f->cur.n = f->n;
    memcpy(f->cur.law, f->law, sizeof f->law);
    memcpy(f->cur.live, f->live, sizeof f->live);
    for (int i = 0; i < f->n; i++)
        snprintf(f->cur.why[i], sizeof f->cur.why[i], "waiting for points");
    f->out = f->cur;
    for (int i = 0; i < FIT_ENTRIES; i++)
        f->booted_at[i] = -1e9;
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
    /* f->n, f->law and f->live are fixed from Fitter_new on */
    PointSet in[FIT_ENTRIES];
    for (int i = 0; i < f->n; i++)
        entry_points(s, f->law[i], f->live[i], &in[i]);
    pthread_mutex_lock(&f->mu);
    for (int i = 0; i < f->n; i++) {
        free(f->in[i].pts);
        f->in[i] = in[i];
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
    atomic_store(&f->cancel, 1);
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->th, NULL);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    FitSet_free(&f->cur);
    FitSet_free(&f->out);
    for (int i = 0; i < FIT_ENTRIES; i++) {
        free(f->in[i].pts);
        free(f->have[i].pts);
    }
    free(f);
}
