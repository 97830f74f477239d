/* fit: the law table, validation of points, the driver with its bootstrap,
 * predictions and the verdict on a fit. See include/scalelab/fit.h; the solvers
 * for each family of laws are in fit_power.c, fit_lsq.c, fit_chinchilla.c and
 * fit_frontier.c, what follows from fitted laws (overfitting, early stopping,
 * compute-optimal plans) in fit_plan.c. */
#include <gsl/gsl_errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fit_internal.h"

enum {
    F_N = SL_FIT_F_N,
    F_D = SL_FIT_F_D,
    F_C = SL_FIT_F_C,
    F_S = SL_FIT_F_S,
    F_B = SL_FIT_F_B,
    F_BCRIT = SL_FIT_F_BCRIT,
    F_L = SL_FIT_F_LOSS
};

static const char *const names_pow_n[] = {"alpha", "N_c"};
static const char *const names_pow_d[] = {"alpha", "D_c"};
static const char *const names_pow_c[] = {"alpha", "C_c"};
static const char *const names_pow_s[] = {"alpha", "S_c"};
static const char *const names_off_n[] = {"E", "alpha", "N_c"};
static const char *const names_off_d[] = {"E", "alpha", "D_c"};
static const char *const names_off_c[] = {"E", "alpha", "C_c"};
static const char *const names_off_s[] = {"E", "alpha", "S_c"};
static const char *const names_nd[] = {"alpha_N", "alpha_D", "N_c", "D_c"};
static const char *const names_ns[] = {"alpha_N", "N_c", "alpha_S", "S_c"};
static const char *const names_chin[] = {"E", "A", "B", "alpha", "beta"};
static const char *const names_chin_ml[] = {"E", "A", "B", "alpha", "beta", "sigma"};
static const char *const names_opt[] = {"a", "N_0", "b", "D_0"};
static const char *const names_cmin[] = {"alpha_C", "C_c"};
static const char *const names_bcrit[] = {"B_star", "alpha_B"};
static const char *const names_log_n[] = {"a", "b"};

static const struct {
    const char *name, *help;
    int n_params;
    const char *const *names;
    unsigned need; /* point fields that must be positive and finite */
    unsigned vary; /* fields that must take at least two values */
    fit_fn fn;
    /* which points of a run store it is fitted to (run.h) */
    sl_fit_point_rule points;
    /* the values Kaplan et al. 2020 and Hoffmann et al. 2022 published for its
     * parameters, in order (SCALING_FACTS.md; C in FLOP, 1 PF-day = 8.64e19
     * FLOP); 0: none published */
    double published[SL_FIT_MAX_PARAMS];
    /* resamples of the bootstrap in reports (scalelab fit, the figures, the
     * lab), seeded with SL_FIT_REPORT_SEED */
    int report_boot;
} laws[SL_LAW_COUNT] = {
    [SL_LAW_POWER_N] = {"power-n", "L = (N_c/N)^alpha; needs n, loss", 2, names_pow_n, F_N | F_L,
                        F_N, fit_power,
        .points = SL_POINTS_BEST,
        .published = {0.076, 8.8e13},
        .report_boot = SL_FIT_REPORT_BOOT},
    [SL_LAW_POWER_D] = {"power-d", "L = (D_c/D)^alpha; needs d (or n and c), loss", 2,
                        names_pow_d, F_D | F_L, F_D, fit_power,
        .points = SL_POINTS_BEST,
        .published = {0.095, 5.4e13},
        .report_boot = SL_FIT_REPORT_BOOT},
    [SL_LAW_POWER_C] = {"power-c", "L = (C_c/C)^alpha; needs c (or n and d), loss", 2,
                        names_pow_c, F_C | F_L, F_C, fit_power,
        .points = SL_POINTS_BEST,
        .published = {0.057, 1.6e7 * SL_PF_DAY},
        .report_boot = SL_FIT_REPORT_BOOT},
    [SL_LAW_POWER_S] = {"power-s", "L = (S_c/S)^alpha; needs s, loss", 2, names_pow_s, F_S | F_L,
                        F_S, fit_power,
        .points = SL_POINTS_CURVES,
        .report_boot = SL_FIT_REPORT_BOOT},
    [SL_LAW_OFFSET_N] = {"offset-n", "L = E + (N_c/N)^alpha; needs n, loss", 3, names_off_n,
                         F_N | F_L, F_N, fit_lsq,
        .points = SL_POINTS_BEST,
        .published = {0, 0.076},
        .report_boot = SL_FIT_REPORT_BOOT},
    [SL_LAW_OFFSET_D] = {"offset-d", "L = E + (D_c/D)^alpha; needs d (or n and c), loss", 3,
                         names_off_d, F_D | F_L, F_D, fit_lsq,
        .points = SL_POINTS_BEST,
        .published = {0, 0.095},
        .report_boot = SL_FIT_REPORT_BOOT},
    [SL_LAW_OFFSET_C] = {"offset-c", "L = E + (C_c/C)^alpha; needs c (or n and d), loss", 3,
                         names_off_c, F_C | F_L, F_C, fit_lsq,
        .points = SL_POINTS_BEST,
        .published = {0, 0.057},
        .report_boot = SL_FIT_REPORT_BOOT},
    [SL_LAW_OFFSET_S] = {"offset-s", "L = E + (S_c/S)^alpha; needs s, loss", 3, names_off_s,
                         F_S | F_L, F_S, fit_lsq,
        .points = SL_POINTS_CURVES,
        .report_boot = SL_FIT_REPORT_BOOT},
    [SL_LAW_KAPLAN_ND] = {"kaplan-nd",
                          "L = ((N_c/N)^(alpha_N/alpha_D) + D_c/D)^alpha_D (Kaplan eq 1.5); "
                          "needs n, d (or c), loss",
                          4, names_nd, F_N | F_D | F_L, F_N | F_D, fit_lsq,
        .points = SL_POINTS_BEST,
        .published = {0.076, 0.103, 6.4e13, 1.8e13},
        .report_boot = SL_FIT_REPORT_BOOT},
    [SL_LAW_KAPLAN_NS] = {"kaplan-ns",
                          "L = (N_c/N)^alpha_N + (S_c/S_min)^alpha_S (Kaplan eq 1.6), "
                          "S_min = S/(1+B_crit/B); needs n, s, loss (b with B_crit)",
                          4, names_ns, F_N | F_S | F_L, F_N | F_S, fit_lsq,
        .points = SL_POINTS_CURVES,
        .published = {0.077, 6.5e13, 0.76, 2.1e3},
        .report_boot = SL_FIT_REPORT_BOOT},
    [SL_LAW_CHINCHILLA] = {"chinchilla",
                           "L = E + A/N^alpha + B/D^beta, Hoffmann approach 3 (Huber on log "
                           "loss, 4500 starts); needs n, d (or c), loss",
                           5, names_chin, F_N | F_D | F_L, F_N | F_D, fit_chinchilla,
        .points = SL_POINTS_BEST,
        .published = {1.69, 406.4, 410.7, 0.34, 0.28},
        .report_boot = SL_FIT_REPORT_BOOT},
    [SL_LAW_CHINCHILLA_ML] = {"chinchilla-ml",
                              "approach 3 by maximum likelihood: Gaussian log residuals, sigma "
                              "fitted; needs n, d (or c), loss",
                              6, names_chin_ml, F_N | F_D | F_L, F_N | F_D, fit_chinchilla,
        .points = SL_POINTS_BEST,
        .published = {1.69, 406.4, 410.7, 0.34, 0.28},
        .report_boot = SL_FIT_REPORT_BOOT},
    [SL_LAW_APPROACH1] = {"approach1",
                          "N_opt = N_0 C^a, D_opt = D_0 C^b from the envelope of learning "
                          "curves (Hoffmann approach 1; on C_min when B_crit is known); needs "
                          "n, c, loss, and run to resample whole curves",
                          4, names_opt, F_N | F_C | F_D | F_L, F_C, fit_frontier,
        .points = SL_POINTS_CURVES,
        .published = {0.50, 0, 0.50},
        .report_boot = SL_FIT_REPORT_BOOT},
    [SL_LAW_APPROACH2] = {"approach2",
                          "N_opt = N_0 C^a, D_opt = D_0 C^b from IsoFLOP parabolas of L in "
                          "ln N (Hoffmann approach 2); needs n, c, loss",
                          4, names_opt, F_N | F_C | F_D | F_L, F_C | F_N, fit_frontier,
        .points = SL_POINTS_BEST,
        .published = {0.49, 0, 0.51},
        .report_boot = SL_FIT_REPORT_BOOT},
    [SL_LAW_CMIN] = {"cmin",
                     "L = (C_c/C_min)^alpha_C on the compute frontier, C_min = C/(1+B/B_crit); "
                     "needs c, loss (b with B_crit)",
                     2, names_cmin, F_C | F_L, F_C, fit_frontier,
        .points = SL_POINTS_CURVES,
        .published = {0.050, 3.1e8 * SL_PF_DAY},
        .report_boot = SL_FIT_REPORT_BOOT},
    [SL_LAW_BCRIT] = {"bcrit", "B_crit = B_star/L^(1/alpha_B); needs bcrit, loss", 2,
                      names_bcrit, F_BCRIT | F_L, F_L, fit_power,
        .points = SL_POINTS_NOISE,
        .published = {2e8, 0.21},
        .report_boot = SL_FIT_REPORT_BOOT},
    [SL_LAW_BCRIT_SCAN] = {"bcrit-scan",
                           "B_crit = B_star/L^(1/alpha_B), B_crit measured from a batch scan: "
                           "(S/S_min-1)(E/E_min-1)=1 per target loss (Kaplan eq 5.1); needs "
                           "learning curves with run, s, b, loss",
                           2, names_bcrit, F_S | F_B | F_L, F_B, fit_bcrit_scan,
        .points = SL_POINTS_CURVES,
        .published = {2e8, 0.21},
        .report_boot = SL_FIT_REPORT_BOOT},
    [SL_LAW_CFIXED] = {"cfixed",
                       "L = (C_c/C)^alpha_C on the compute frontier at the batch size trained "
                       "(fixed batch, no C_min correction; Kaplan's L(C), alpha_C 0.057); needs "
                       "c, loss",
                       2, names_cmin, F_C | F_L, F_C, fit_frontier,
        .points = SL_POINTS_CURVES,
        .published = {0.057, 1.6e7 * SL_PF_DAY},
        .report_boot = SL_FIT_REPORT_BOOT},
    [SL_LAW_LOG_N] = {"log-n",
                      "L = a - b ln N, the logarithmic alternative to L(N) that Kaplan's Fig. 23 "
                      "compares with the power law (least squares on L); needs n, loss",
                      2, names_log_n, F_N | F_L, F_N, fit_power,
        .points = SL_POINTS_BEST,
        .report_boot = SL_FIT_REPORT_BOOT},
};

const char *sl_fit_law_name(sl_fit_law law)
{
    return (unsigned)law < SL_LAW_COUNT ? laws[law].name : "?";
}

int sl_fit_law_from_name(const char *name)
{
    for (int i = 0; i < SL_LAW_COUNT; i++)
        if (!strcmp(name, laws[i].name))
            return i;
    return -1;
}

const char *sl_fit_law_help(sl_fit_law law) { return laws[law].help; }

int sl_fit_law_params(sl_fit_law law, const char *const **names)
{
    if (names)
        *names = laws[law].names;
    return laws[law].n_params;
}

unsigned sl_fit_law_needs(sl_fit_law law) { return laws[law].need; }

sl_fit_point_rule sl_fit_law_points(sl_fit_law law) { return laws[law].points; }

const double *fit_law_published(sl_fit_law law) { return laws[law].published; }

double sl_fit_law_published(sl_fit_law law, int param)
{
    if ((unsigned)law >= SL_LAW_COUNT || param < 0 || param >= laws[law].n_params)
        return NAN;
    double v = laws[law].published[param];
    return v != 0 ? v : NAN;
}

void sl_fit_options_report(sl_fit_law law, sl_fit_options *o)
{
    sl_fit_options_default(o);
    o->bootstrap = laws[law].report_boot;
    o->seed = SL_FIT_REPORT_SEED;
}

sl_fit_quantity sl_fit_law_quantity(sl_fit_law law)
{
    if (law == SL_LAW_APPROACH1 || law == SL_LAW_APPROACH2)
        return SL_FIT_Q_NOPT;
    if (law == SL_LAW_BCRIT || law == SL_LAW_BCRIT_SCAN)
        return SL_FIT_Q_BCRIT;
    return SL_FIT_Q_LOSS;
}

void sl_fit_options_default(sl_fit_options *o)
{
    memset(o, 0, sizeof *o);
    o->huber_delta = 1e-3;
    o->level = 0.95;
    o->bins_per_decade = 8;
    o->iso_tolerance = 1.25;
    o->bcrit_alpha = laws[SL_LAW_BCRIT].published[1];
}

double fit_x_of(sl_fit_law law, const sl_fit_point *p)
{
    switch (law) {
    case SL_LAW_POWER_N:
    case SL_LAW_OFFSET_N:
    case SL_LAW_LOG_N:
        return p->n;
    case SL_LAW_POWER_D:
    case SL_LAW_OFFSET_D:
        return p->d;
    case SL_LAW_POWER_C:
    case SL_LAW_OFFSET_C:
    case SL_LAW_CMIN:
    case SL_LAW_CFIXED:
        return p->c;
    case SL_LAW_POWER_S:
    case SL_LAW_OFFSET_S:
        return p->s;
    case SL_LAW_BCRIT:
        return p->loss;
    default:
        return NAN;
    }
}

void fit_r2_rms(const double *pred, const double *obs, size_t n, double *r2, double *rms)
{
    double mean = 0, ss_tot = 0, ss_res = 0;
    for (size_t i = 0; i < n; i++)
        mean += obs[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) {
        ss_tot += (obs[i] - mean) * (obs[i] - mean);
        ss_res += (pred[i] - obs[i]) * (pred[i] - obs[i]);
    }
    *r2 = ss_tot > 0 ? 1 - ss_res / ss_tot : NAN;
    *rms = sqrt(ss_res / (double)n);
}

int fit_ols(const double *x, const double *y, size_t n, double *k, double *m)
{
    double mx = 0, my = 0, sxx = 0, sxy = 0;
    for (size_t i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= (double)n;
    my /= (double)n;
    for (size_t i = 0; i < n; i++) {
        sxx += (x[i] - mx) * (x[i] - mx);
        sxy += (x[i] - mx) * (y[i] - my);
    }
    if (!(sxx > 1e-300))
        return -1;
    *m = sxy / sxx;
    *k = my - *m * mx;
    return 0;
}

static double law_bcrit(const sl_fit_options *o, const sl_fit_point *p)
{
    if (p->bcrit > 0)
        return p->bcrit;
    if (o->bcrit_const > 0)
        return o->bcrit_const;
    /* alpha_B < 0 (a fitted B_crit that shrinks as the loss falls) is a law too */
    if (o->bcrit_star > 0 && o->bcrit_alpha != 0 && isfinite(o->bcrit_alpha) && p->loss > 0)
        return o->bcrit_star / pow(p->loss, 1 / o->bcrit_alpha);
    return 0;
}

static const char *field_name(unsigned f)
{
    switch (f) {
    case F_N: return "n";
    case F_D: return "d";
    case F_C: return "c";
    case F_S: return "s";
    case F_B: return "b";
    case F_BCRIT: return "bcrit";
    default: return "loss";
    }
}

static double field_of(const sl_fit_point *p, unsigned f)
{
    switch (f) {
    case F_N: return p->n;
    case F_D: return p->d;
    case F_C: return p->c;
    case F_S: return p->s;
    case F_B: return p->b;
    case F_BCRIT: return p->bcrit;
    default: return p->loss;
    }
}

static const char *field_label(unsigned f)
{
    switch (f) {
    case F_N: return "N";
    case F_D: return "D";
    case F_C: return "C";
    case F_S: return "S";
    case F_B: return "B";
    case F_BCRIT: return "B_crit";
    default: return "loss";
    }
}

void sl_fit_point_complete(sl_fit_point *q)
{
    if (q->d == 0 && q->s > 0 && q->b > 0 && isfinite(q->s) && isfinite(q->b))
        q->d = q->s * q->b;
    if (q->d == 0 && q->n > 0 && q->c > 0 && isfinite(q->n) && isfinite(q->c))
        q->d = q->c / (6 * q->n);
    if (q->c == 0 && q->n > 0 && q->d > 0 && isfinite(q->n) && isfinite(q->d))
        q->c = 6 * q->n * q->d;
}

/* Copies the points, derives D, C, S_min and C_min, and checks what the law
 * needs. The message names the point and the field. */
static int prepare(sl_fit_law law, const sl_fit_point *in, size_t n, const sl_fit_options *o,
                   sl_fit_point **out, sl_error *err)
{
    const char *lname = laws[law].name;
    int np = laws[law].n_params;
    if (n < (size_t)np)
        return sl_fail(err, SL_EINPUT,
                       "%s: %zu points for %d parameters (expected at least %d points)", lname,
                       n, np, np);
    sl_fit_point *p = sl_xmalloc(n * sizeof *p);
    memcpy(p, in, n * sizeof *p);
    unsigned need = laws[law].need;
    int uses_bcrit = law == SL_LAW_KAPLAN_NS || law == SL_LAW_CMIN || law == SL_LAW_APPROACH1;
    for (size_t i = 0; i < n; i++) {
        sl_fit_point *q = &p[i];
        /* Zero is "unknown" for derivable fields; anything else must be valid. */
        sl_fit_point_complete(q);
        unsigned want = need;
        double bc = uses_bcrit ? law_bcrit(o, q) : 0;
        if (bc > 0)
            want |= F_B;
        for (unsigned f = 1; f <= F_L; f <<= 1) {
            if (!(want & f))
                continue;
            double v = field_of(q, f);
            if (!(v > 0) || !isfinite(v)) {
                free(p);
                if (v == 0 && (f == F_D || f == F_C))
                    return sl_fail(err, SL_EINPUT,
                                   "point %zu: %s: missing (expected a positive value, or n and %s "
                                   "to derive it)",
                                   i + 1, field_name(f), f == F_D ? "c" : "d");
                return sl_fail(err, SL_EINPUT,
                               "point %zu: %s: %g is not a positive finite number (expected > 0)",
                               i + 1, field_name(f), v);
            }
        }
        if (bc > 0) {
            if (law == SL_LAW_KAPLAN_NS)
                q->s = q->s / (1 + bc / q->b);
            else
                q->c = q->c / (1 + q->b / bc);
        }
    }
    for (unsigned f = 1; f <= F_L; f <<= 1) {
        if (!(laws[law].vary & f))
            continue;
        double v0 = field_of(&p[0], f);
        size_t i = 1;
        while (i < n && field_of(&p[i], f) == v0)
            i++;
        if (i == n) {
            free(p);
            return sl_fail(err, SL_EINPUT,
                           "%s: all %zu points have the same %s = %g (expected at least 2 "
                           "distinct values)",
                           lname, n, field_label(f), v0);
        }
    }
    *out = p;
    return SL_OK;
}

int fit_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Percentile with linear interpolation between order statistics; v is sorted. */
double fit_percentile(const double *v, size_t n, double q)
{
    if (n == 0)
        return NAN;
    double h = q * (double)(n - 1);
    size_t lo = (size_t)floor(h);
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    return v[lo] + (h - (double)lo) * (v[hi] - v[lo]);
}

static int cmp_run(const void *a, const void *b)
{
    const sl_fit_point *x = a, *y = b;
    return (x->run > y->run) - (x->run < y->run);
}

void fit_groups_init(fit_groups *g, const sl_fit_point *p, size_t n)
{
    g->sorted = sl_xmalloc((n ? n : 1) * sizeof *g->sorted);
    memcpy(g->sorted, p, n * sizeof *g->sorted);
    qsort(g->sorted, n, sizeof *g->sorted, cmp_run);
    g->start = sl_xmalloc((n + 1) * sizeof *g->start);
    g->n_groups = 0;
    g->max_group = 1;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || g->sorted[i].run < 0 || g->sorted[i].run != g->sorted[i - 1].run)
            g->start[g->n_groups++] = i;
    g->start[g->n_groups] = n;
    for (size_t k = 0; k < g->n_groups; k++)
        if (g->start[k + 1] - g->start[k] > g->max_group)
            g->max_group = g->start[k + 1] - g->start[k];
}

size_t fit_groups_draw(const fit_groups *g, sl_rng *rng, sl_fit_point *buf)
{
    size_t m = 0;
    for (size_t k = 0; k < g->n_groups; k++) {
        size_t pick = (size_t)sl_rng_below(rng, g->n_groups);
        for (size_t i = g->start[pick]; i < g->start[pick + 1]; i++)
            buf[m++] = g->sorted[i];
    }
    return m;
}

void fit_groups_free(fit_groups *g)
{
    free(g->sorted);
    free(g->start);
}

/* Resamples runs (fit_groups), refits each resample from the full fit and
 * keeps the converged draws. */
static void bootstrap(sl_fit_law law, const sl_fit_point *p, size_t n, const sl_fit_options *o,
                      const fit_est *full, sl_fit_result *r)
{
    int np = laws[law].n_params;
    fit_groups g;
    fit_groups_init(&g, p, n);
    sl_fit_point *buf = sl_xmalloc(g.n_groups * g.max_group * sizeof *buf);
    r->boot = sl_xmalloc((size_t)o->bootstrap * (size_t)np * sizeof *r->boot);
    sl_rng rng;
    sl_rng_seed(&rng, o->seed);
    sl_error ignore;
    for (int k = 0; k < o->bootstrap && !fit_cancelled(o); k++) {
        if (o->progress && k > 0)
            o->progress(o->progress_user, "bootstrap", (size_t)k, (size_t)o->bootstrap);
        size_t m = fit_groups_draw(&g, &rng, buf);
        fit_est e;
        memset(&e, 0, sizeof e);
        if (laws[law].fn(law, buf, m, o, full->theta, &e, &ignore) != SL_OK || !e.converged)
            continue;
        int finite = 1;
        for (int j = 0; j < np; j++)
            finite &= isfinite(e.value[j]);
        if (!finite)
            continue;
        memcpy(r->boot + (size_t)r->n_boot_ok * np, e.value, (size_t)np * sizeof(double));
        r->n_boot_ok++;
    }
    if (o->progress && o->bootstrap > 0)
        o->progress(o->progress_user, "bootstrap", (size_t)o->bootstrap, (size_t)o->bootstrap);
    double *col = sl_xmalloc(((size_t)r->n_boot_ok + 1) * sizeof *col);
    double tail = (1 - o->level) / 2;
    for (int j = 0; j < np; j++) {
        for (int k = 0; k < r->n_boot_ok; k++)
            col[k] = r->boot[(size_t)k * np + j];
        qsort(col, (size_t)r->n_boot_ok, sizeof *col, fit_cmp_double);
        r->ci_low[j] = fit_percentile(col, (size_t)r->n_boot_ok, tail);
        r->ci_high[j] = fit_percentile(col, (size_t)r->n_boot_ok, 1 - tail);
    }
    free(col);
    free(buf);
    fit_groups_free(&g);
}

static void quiet_gsl(void) { gsl_set_error_handler_off(); }

int sl_fit(sl_fit_law law, const sl_fit_point *pts, size_t n, const sl_fit_options *opt,
           sl_fit_result *r, sl_error *err)
{
    double t0 = sl_now();
    memset(r, 0, sizeof *r);
    r->law = law;
    if ((unsigned)law >= SL_LAW_COUNT)
        return sl_fail(err, SL_EINPUT, "law: %d is not a law (expected 0..%d)", (int)law,
                       SL_LAW_COUNT - 1);
    /* GSL's default handler aborts the process; we check every status instead.
     * Once, because the handler is process-wide and the lab fits from threads. */
    static pthread_once_t gsl_quiet = PTHREAD_ONCE_INIT;
    pthread_once(&gsl_quiet, quiet_gsl);
    sl_fit_options o;
    if (opt)
        o = *opt;
    else
        sl_fit_options_default(&o);
    if (o.huber_delta <= 0)
        o.huber_delta = 1e-3;
    if (!(o.level > 0 && o.level < 1))
        o.level = 0.95;
    if (o.bins_per_decade <= 0)
        o.bins_per_decade = 8;
    if (o.iso_tolerance <= 1)
        o.iso_tolerance = 1.25;
    if (o.starts < 0)
        return sl_fail(err, SL_EINPUT, "starts: %d (expected 0 for all, or more)", o.starts);
    if (o.bootstrap < 0)
        return sl_fail(err, SL_EINPUT, "bootstrap: %d resamples (expected 0 or more)",
                       o.bootstrap);
    int np = laws[law].n_params;
    r->n_params = np;
    r->names = laws[law].names;
    r->n_points = n;
    for (int j = 0; j < np; j++)
        r->value[j] = r->ci_low[j] = r->ci_high[j] = NAN;
    r->r2 = r->rms_log = r->objective = NAN;

    sl_fit_point *p = NULL;
    int rc = prepare(law, pts, n, &o, &p, err);
    if (rc != SL_OK)
        return rc;
    const double *warm = NULL;
    if (o.warm && o.warm->law == law && o.warm->converged)
        warm = o.warm->theta;
    fit_est e;
    memset(&e, 0, sizeof e);
    rc = laws[law].fn(law, p, n, &o, warm, &e, err);
    if (rc != SL_OK) {
        free(p);
        return rc;
    }
    memcpy(r->value, e.value, sizeof e.value);
    memcpy(r->theta, e.theta, sizeof e.theta);
    r->objective = e.objective;
    r->r2 = e.r2;
    r->rms_log = e.rms_log;
    r->converged = e.converged;
    r->n_starts = e.n_starts;
    snprintf(r->reason, sizeof r->reason, "%s", e.reason);
    r->n_boot = o.bootstrap;
    r->level = o.level;
    if (r->converged && o.bootstrap > 0)
        bootstrap(law, p, n, &o, &e, r);
    free(p);
    r->seconds = sl_now() - t0;
    return SL_OK;
}

int sl_fit_frontier(const sl_fit_point *in, size_t n, const sl_fit_options *opt, sl_fit_point *out,
                    size_t *m, sl_error *err)
{
    sl_fit_options o;
    if (opt)
        o = *opt;
    else
        sl_fit_options_default(&o);
    if (o.bins_per_decade <= 0)
        o.bins_per_decade = 8;
    *m = 0;
    sl_fit_point *p = NULL;
    int rc = prepare(SL_LAW_CMIN, in, n, &o, &p, err); /* C -> C_min, as cmin takes it */
    if (rc != SL_OK)
        return rc;
    size_t *idx = sl_xmalloc(n * sizeof *idx);
    size_t k = fit_frontier_envelope(p, n, &o, idx);
    for (size_t j = 0; j < k; j++) {
        sl_fit_point q = in[idx[j]];
        sl_fit_point_complete(&q);
        double bc = law_bcrit(&o, &q);
        out[j] = p[idx[j]];
        out[j].bcrit = bc > 0 ? bc : 0;
        out[j].s = bc > 0 && q.b > 0 ? q.s / (1 + bc / q.b) : q.s;
        out[j].d = bc > 0 ? bc * out[j].s : q.s * q.b;
    }
    *m = k;
    free(idx);
    free(p);
    return SL_OK;
}

void sl_fit_result_free(sl_fit_result *r)
{
    free(r->boot);
    r->boot = NULL;
    r->n_boot_ok = 0;
}

static double lse2(double a, double b)
{
    double m = a > b ? a : b;
    return m + log(exp(a - m) + exp(b - m));
}

double fit_eval(sl_fit_law law, const double *v, sl_fit_quantity q, const sl_fit_point *x)
{
    switch (law) {
    case SL_LAW_POWER_N:
    case SL_LAW_POWER_D:
    case SL_LAW_POWER_C:
    case SL_LAW_POWER_S:
    case SL_LAW_CMIN:
    case SL_LAW_CFIXED:
        return pow(v[1] / fit_x_of(law, x), v[0]);
    case SL_LAW_OFFSET_N:
    case SL_LAW_OFFSET_D:
    case SL_LAW_OFFSET_C:
    case SL_LAW_OFFSET_S:
        return v[0] + pow(v[2] / fit_x_of(law, x), v[1]);
    case SL_LAW_KAPLAN_ND:
        return exp(v[1] * lse2(v[0] / v[1] * log(v[2] / x->n), log(v[3] / x->d)));
    case SL_LAW_KAPLAN_NS:
        return pow(v[1] / x->n, v[0]) + pow(v[3] / x->s, v[2]);
    case SL_LAW_CHINCHILLA:
    case SL_LAW_CHINCHILLA_ML:
        return v[0] + v[1] / pow(x->n, v[3]) + v[2] / pow(x->d, v[4]);
    case SL_LAW_APPROACH1:
    case SL_LAW_APPROACH2:
        return q == SL_FIT_Q_DOPT ? v[3] * pow(x->c, v[2]) : v[1] * pow(x->c, v[0]);
    case SL_LAW_BCRIT:
    case SL_LAW_BCRIT_SCAN:
        return v[0] / pow(x->loss, 1 / v[1]);
    case SL_LAW_LOG_N:
        return v[0] - v[1] * log(x->n);
    default:
        return NAN;
    }
}

int sl_fit_predict(const sl_fit_result *r, sl_fit_quantity q, const sl_fit_point *x,
                   double *value, double *lo, double *hi)
{
    *value = fit_eval(r->law, r->value, q, x);
    *lo = *hi = NAN;
    if (!r->boot || r->n_boot_ok < 2)
        return SL_OK;
    double *draw = sl_xmalloc((size_t)r->n_boot_ok * sizeof *draw);
    size_t m = 0;
    for (int k = 0; k < r->n_boot_ok; k++) {
        double v = fit_eval(r->law, r->boot + (size_t)k * r->n_params, q, x);
        if (isfinite(v))
            draw[m++] = v;
    }
    qsort(draw, m, sizeof *draw, fit_cmp_double);
    double tail = (1 - (r->level > 0 ? r->level : 0.95)) / 2;
    *lo = fit_percentile(draw, m, tail);
    *hi = fit_percentile(draw, m, 1 - tail);
    free(draw);
    return SL_OK;
}

/* ---- what a fit is worth -------------------------------------------------------- */

static const char *const verdict_names[SL_FIT_VERDICT_COUNT] = {
    "ok", "too-few-points", "not-converged", "negative-exponent",
    "boundary", "zero-width-interval", "few-resamples"};

const char *sl_fit_verdict_name(sl_fit_verdict v)
{
    return (unsigned)v < SL_FIT_VERDICT_COUNT ? verdict_names[v] : "?";
}

/* parameters that must come out positive for the law to mean what it says */
static int must_be_positive(sl_fit_law law, const char *name)
{
    if (law == SL_LAW_BCRIT || law == SL_LAW_BCRIT_SCAN || law == SL_LAW_LOG_N)
        return 0;
    if (law == SL_LAW_APPROACH1 || law == SL_LAW_APPROACH2)
        return !strcmp(name, "a") || !strcmp(name, "b");
    return !strncmp(name, "alpha", 5) || !strcmp(name, "beta");
}

/* below this an offset E in nats per token is at its bound 0 */
#define E_AT_ZERO 1e-6

sl_fit_verdict sl_fit_verdict_of(const sl_fit_result *r, char *why, size_t len)
{
    char dummy[8];
    if (!why)
        why = dummy, len = sizeof dummy;
    why[0] = 0;
    if (r->n_points <= (size_t)r->n_params) {
        snprintf(why, len, "%zu points for %d parameters", r->n_points, r->n_params);
        return SL_FIT_TOO_FEW_POINTS;
    }
    if (!r->converged) {
        snprintf(why, len, "%s", r->reason);
        return SL_FIT_NOT_CONVERGED;
    }
    for (int j = 0; j < r->n_params; j++)
        if (must_be_positive(r->law, r->names[j]) && !(r->value[j] > 0)) {
            snprintf(why, len, "%s = %.3g", r->names[j], r->value[j]);
            return SL_FIT_NEGATIVE_EXPONENT;
        }
    for (int j = 0; j < r->n_params; j++)
        if (!strcmp(r->names[j], "E") && !(r->value[j] > E_AT_ZERO)) {
            snprintf(why, len, "E = %.3g nats/token, at its bound 0", r->value[j]);
            return SL_FIT_BOUNDARY;
        }
    if (!r->boot || r->n_boot_ok < 1)
        return SL_FIT_OK;
    for (int j = 0; j < r->n_params; j++) {
        double lo = r->ci_low[j], hi = r->ci_high[j];
        if (isfinite(lo) && isfinite(hi) && !(hi - lo > 1e-9 * fmax(fabs(lo), fabs(hi)))) {
            snprintf(why, len, "%s in [%.3g, %.3g]", r->names[j], lo, hi);
            return SL_FIT_ZERO_WIDTH;
        }
    }
    if (2 * r->n_boot_ok < r->n_boot) {
        snprintf(why, len, "%d of %d resamples converged", r->n_boot_ok, r->n_boot);
        return SL_FIT_FEW_RESAMPLES;
    }
    return SL_FIT_OK;
}
