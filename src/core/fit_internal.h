/* fit_internal: what the law fitters in src/core/fit_*.c share with the driver
 * in fit.c. Not a public header: only the fit module includes it. Points given
 * to a fitter are validated and prepared (D, C, S_min, C_min derived). */
#ifndef SCALELAB_FIT_INTERNAL_H
#define SCALELAB_FIT_INTERNAL_H

#include "scalelab/fit.h"

typedef struct {
    double theta[SL_FIT_MAX_PARAMS]; /* solver parameterisation */
    double value[SL_FIT_MAX_PARAMS]; /* reported parameters */
    double objective, r2, rms_log;
    int converged;
    char reason[200];
    size_t n_starts;
} fit_est;

/* start: NULL for a cold fit (closed form or multi-start), else theta to start at.
 * Returns SL_EINPUT when these points cannot determine the law (the bootstrap
 * counts such a resample as failed). */
typedef int (*fit_fn)(sl_fit_law law, const sl_fit_point *p, size_t n, const sl_fit_options *o,
                      const double *start, fit_est *e, sl_error *err);

int fit_power(sl_fit_law, const sl_fit_point *, size_t, const sl_fit_options *, const double *,
              fit_est *, sl_error *);
int fit_lsq(sl_fit_law, const sl_fit_point *, size_t, const sl_fit_options *, const double *,
            fit_est *, sl_error *);
int fit_chinchilla(sl_fit_law, const sl_fit_point *, size_t, const sl_fit_options *,
                   const double *, fit_est *, sl_error *);
int fit_frontier(sl_fit_law, const sl_fit_point *, size_t, const sl_fit_options *, const double *,
                 fit_est *, sl_error *);

int fit_bcrit_scan(sl_fit_law, const sl_fit_point *, size_t, const sl_fit_options *,
                   const double *, fit_est *, sl_error *);

/* The x variable of a single-variable law (N, D, C or S of the point). */
double fit_x_of(sl_fit_law law, const sl_fit_point *p);
/* A law's prediction from its reported parameters (see sl_fit_predict). */
double fit_eval(sl_fit_law law, const double *v, sl_fit_quantity q, const sl_fit_point *x);
/* R^2 and RMS of residuals r_i = pred_i - obs_i given sum of squares etc. */
void fit_r2_rms(const double *pred, const double *obs, size_t n, double *r2, double *rms);
/* The law table's published values of a law, in parameter order (fit.c). */
const double *fit_law_published(sl_fit_law law);
/* qsort's comparison of doubles, and the q-quantile of n sorted values. */
int fit_cmp_double(const void *a, const void *b);
double fit_percentile(const double *v, size_t n, double q);
/* Ordinary least squares y = k + m x; returns 0 or -1 when x has no spread. */
int fit_ols(const double *x, const double *y, size_t n, double *k, double *m);

/* Runs as the bootstrap resamples them: groups of points with one run id (a
 * negative id is its own group). fit_groups_draw puts one resample, as many
 * groups drawn with replacement as there are, into buf (room for
 * n_groups * max_group points) and returns its number of points. */
typedef struct {
    sl_fit_point *sorted;
    size_t *start, n_groups, max_group;
} fit_groups;
void fit_groups_init(fit_groups *g, const sl_fit_point *p, size_t n);
size_t fit_groups_draw(const fit_groups *g, sl_rng *rng, sl_fit_point *buf);
void fit_groups_free(fit_groups *g);

/* The indices (into p) of the points on the compute frontier that cmin,
 * cfixed and approach1 are fitted to: o's trim_envelope, then the lowest loss
 * per bin of ln C (o->bins_per_decade), falling as C grows; in order of C. */
size_t fit_frontier_envelope(const sl_fit_point *p, size_t n, const sl_fit_options *o, size_t *idx);

/* sl_fit_options.cancel was set */
static inline int fit_cancelled(const sl_fit_options *o)
{
    return o->cancel && atomic_load(o->cancel);
}

#endif
