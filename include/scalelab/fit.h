/* fit: the scaling laws of Kaplan et al. 2020 and Hoffmann et al. 2022, fitted to
 * points in memory, with bootstrap intervals, predictions and compute-optimal plans.
 * Called by `scalelab fit` / `scalelab plan` and by the lab's fitter thread. */
#ifndef SCALELAB_FIT_H
#define SCALELAB_FIT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "scalelab/util.h"

#define SL_PF_DAY 8.64e19 /* FLOP in a PF-day, the unit of Kaplan's compute */

/* One measurement. Fields a law does not use may be 0. When d is 0, D = S*B if
 * s, b are known, else C/(6N) if n, c are; when c is 0 and n, d are known, C = 6ND. */
typedef struct {
    double n;     /* parameters N */
    double d;     /* training tokens D */
    double c;     /* training compute C, FLOP */
    double s;     /* optimizer steps S */
    double b;     /* batch size B, tokens */
    double bcrit; /* critical batch size B_crit, tokens (measured noise scale) */
    double loss;  /* L, test loss in nats per token */
    long run;     /* points with the same run id are resampled together; < 0: alone */
} sl_fit_point;

/* Fills the derivable fields of p as described above (zero means unknown). */
void sl_fit_point_complete(sl_fit_point *p);

typedef enum {
    SL_LAW_POWER_N, /* L = (N_c/N)^alpha */
    SL_LAW_POWER_D,
    SL_LAW_POWER_C,
    SL_LAW_POWER_S,
    SL_LAW_OFFSET_N, /* L = E + (N_c/N)^alpha */
    SL_LAW_OFFSET_D,
    SL_LAW_OFFSET_C,
    SL_LAW_OFFSET_S,
    SL_LAW_KAPLAN_ND,      /* K eq 1.5 */
    SL_LAW_KAPLAN_NS,      /* K eq 1.6, S_min = S/(1 + B_crit/B) */
    SL_LAW_CHINCHILLA,     /* H approach 3: Huber on log loss, 4500-start grid */
    SL_LAW_CHINCHILLA_ML,  /* same model, Gaussian likelihood on log residuals */
    SL_LAW_APPROACH1,      /* H approach 1: envelope -> N_opt(C), D_opt(C) */
    SL_LAW_APPROACH2,      /* H approach 2: IsoFLOP parabolas -> N_opt(C), D_opt(C) */
    SL_LAW_CMIN,           /* L(C_min) = (C_c/C_min)^alpha_C on the frontier */
    SL_LAW_BCRIT,          /* B_crit(L) = B_star / L^(1/alpha_B), from the noise scale */
    SL_LAW_BCRIT_SCAN,     /* the same, B_crit measured from a batch scan (K eq 5.1) */
    SL_LAW_CFIXED,         /* L(C) = (C_c/C)^alpha_C on the frontier at the batch trained */
    SL_LAW_LOG_N,          /* L = a - b ln N: the logarithmic rival of L(N) (K Fig. 23) */
    SL_LAW_COUNT
} sl_fit_law;

#define SL_FIT_MAX_PARAMS 6

/* Name on the command line and in CSV ("kaplan-nd"), and back; -1 if unknown. */
const char *sl_fit_law_name(sl_fit_law law);
int sl_fit_law_from_name(const char *name);
/* One line on what the law is and which point fields it needs. */
const char *sl_fit_law_help(sl_fit_law law);
/* Point fields a law needs (SL_FIT_F_* bits; D and C may be derived from the
 * other two of N, D, C). B is needed as well when a B_crit correction applies. */
enum {
    SL_FIT_F_N = 1,
    SL_FIT_F_D = 2,
    SL_FIT_F_C = 4,
    SL_FIT_F_S = 8,
    SL_FIT_F_B = 16,
    SL_FIT_F_BCRIT = 32,
    SL_FIT_F_LOSS = 64
};
unsigned sl_fit_law_needs(sl_fit_law law);
/* Number and names of the reported parameters, in order. */
int sl_fit_law_params(sl_fit_law law, const char *const **names);

/* Which points of a run store a law is fitted to (run.h says how each is
 * taken from a run): one per finished run at its best test loss, every
 * metric row of the learning curves, or every row that measured the gradient
 * noise scale. */
typedef enum {
    SL_POINTS_BEST = 0,
    SL_POINTS_CURVES,
    SL_POINTS_NOISE
} sl_fit_point_rule;
sl_fit_point_rule sl_fit_law_points(sl_fit_law law);
/* The value of parameter param (sl_fit_law_params order) that Kaplan et al.
 * 2020 or Hoffmann et al. 2022 published, NaN when none was. */
double sl_fit_law_published(sl_fit_law law, int param);

typedef struct {
    int bootstrap;      /* K resamples for the intervals; 0: none */
    uint64_t seed;      /* seeds the resampling */
    double huber_delta; /* chinchilla; 0 means 1e-3 */
    double level;       /* interval level; 0 means 0.95 */
    /* B_crit for C_min and S_min when a point has none: a constant (tokens) if
     * bcrit_const > 0, else B_star / L^(1/alpha_B) if bcrit_star > 0, else the
     * correction is left out (C_min = C, S_min = S). */
    double bcrit_const, bcrit_star, bcrit_alpha;
    double bins_per_decade; /* approach 1 and cmin envelopes; 0 means 8 */
    int bcrit_targets;      /* bcrit-scan: target losses; 0 means SL_BCRIT_TARGETS */
    /* approach 1 and cmin: take the envelope only over the compute that at least
     * two model sizes reached (from the second-earliest start of a curve to the
     * second-latest end), where one size alone cannot own the frontier */
    int trim_envelope;
    double iso_tolerance;   /* approach 2: budgets within this factor group; 0 means 1.25 */
    int max_iter;           /* iteration limit of the iterative solvers; 0: their default */
    /* A previous fit of the same law: start there instead of the cold multi-start
     * grid. The lab passes its last result when a new point arrives. */
    const struct sl_fit_result *warm;
    /* Cold starts of the multi-start solvers: at most this many, spread evenly
     * over their grid (chinchilla's 4500 points, the least-squares laws' 4 or
     * 9); 0: all of them. */
    int starts;
    /* Called as work is done on long fits, from the fitting thread: stage is
     * "starts" (the cold starts of the multi-start solvers) or "bootstrap"
     * (resamples); done counts up to total, and each stage ends with
     * done == total. NULL: no calls. */
    void (*progress)(void *user, const char *stage, size_t done, size_t total);
    void *progress_user;
    /* Non-zero (read atomically, from the fitting thread) cuts a long fit
     * short: the cold starts and resamples left are skipped and the result is
     * not to be used. The lab sets it when it quits. NULL: never. */
    const atomic_int *cancel;
} sl_fit_options;

typedef struct sl_fit_result {
    sl_fit_law law;
    int n_params;
    const char *const *names;
    double value[SL_FIT_MAX_PARAMS];
    double ci_low[SL_FIT_MAX_PARAMS], ci_high[SL_FIT_MAX_PARAMS]; /* NaN without bootstrap */
    size_t n_points;   /* points the law was fitted to (after envelopes: envelope points) */
    double r2;         /* of log loss (approach 1/2: of log N_opt) */
    double rms_log;    /* RMS of the log residuals */
    double objective;  /* the minimised objective (chinchilla: summed Huber) */
    int converged;     /* 1 if the solver met its tolerance */
    char reason[200];  /* why it stopped, in words */
    int n_boot, n_boot_ok; /* resamples asked and resamples that converged */
    double *boot;          /* n_boot_ok x n_params parameter draws (owned) */
    double theta[SL_FIT_MAX_PARAMS]; /* solver parameterisation, for warm starts */
    double seconds;                  /* wall time of the fit, bootstrap included */
    double level;                    /* of the intervals, 0.95 unless asked */
    size_t n_starts;                 /* starting points tried */
} sl_fit_result;

void sl_fit_options_default(sl_fit_options *o);
/* The options every report fits a law with (scalelab fit and plan without
 * --bootstrap/--seed, the figures, the lab): the defaults and the law's report
 * bootstrap, SL_FIT_REPORT_BOOT resamples seeded with SL_FIT_REPORT_SEED, so
 * that they print the same intervals for the same points. */
#define SL_FIT_REPORT_BOOT 200
#define SL_FIT_REPORT_SEED 1
void sl_fit_options_report(sl_fit_law law, sl_fit_options *o);

/* Fits law to the points. Returns SL_EINPUT for unusable points (non-positive
 * or non-finite values, too few points, no spread) and SL_OK otherwise; a fit
 * that ran but did not converge returns SL_OK with converged = 0 and a reason. */
int sl_fit(sl_fit_law law, const sl_fit_point *pts, size_t n, const sl_fit_options *o,
           sl_fit_result *res, sl_error *err);
void sl_fit_result_free(sl_fit_result *res);

/* What a fit is worth, judged once here for every front end (the lab's panel,
 * `scalelab fit`, fits.csv): a fit whose verdict is not SL_FIT_OK is shown
 * with its label and never used as a law (plots, the overfitting gauge,
 * forecasts). Checked in this order:
 *   too-few-points       no more points than parameters (R^2 is then 1 by
 *                        construction and the resamples say nothing)
 *   not-converged        the solver did not meet its tolerance
 *   negative-exponent    an exponent that must be positive (alpha..., beta,
 *                        approach 1/2's a and b) is not; alpha_B may be either
 *   boundary             an offset E (or chinchilla's E) pinned at 0
 *   zero-width-interval  a parameter's bootstrap interval has no width
 *   few-resamples        under half of the requested resamples converged
 * Without bootstrap draws the last two are not judged. */
typedef enum {
    SL_FIT_OK = 0,
    SL_FIT_TOO_FEW_POINTS,
    SL_FIT_NOT_CONVERGED,
    SL_FIT_NEGATIVE_EXPONENT,
    SL_FIT_BOUNDARY,
    SL_FIT_ZERO_WIDTH,
    SL_FIT_FEW_RESAMPLES,
    SL_FIT_VERDICT_COUNT
} sl_fit_verdict;
/* The verdict of r; when why is given, one line of words on it (the
 * parameter and value concerned) into why[len]. */
sl_fit_verdict sl_fit_verdict_of(const sl_fit_result *r, char *why, size_t len);
/* Its name in CSV and on screen: "ok", "too-few-points", ... */
const char *sl_fit_verdict_name(sl_fit_verdict v);

/* The law's quantity at x with its bootstrap interval (NaN without draws):
 * loss laws give L at (n, d, c, s, b); approach 1/2 give N_opt at x->c (and
 * D_opt through predict_d); bcrit gives B_crit at x->loss. */
typedef enum { SL_FIT_Q_LOSS, SL_FIT_Q_NOPT, SL_FIT_Q_DOPT, SL_FIT_Q_BCRIT } sl_fit_quantity;
int sl_fit_predict(const sl_fit_result *res, sl_fit_quantity q, const sl_fit_point *x,
                   double *value, double *lo, double *hi);
/* The quantity law predicts by default (loss for loss laws). */
sl_fit_quantity sl_fit_law_quantity(sl_fit_law law);

/* Kaplan eq 1.5 overfitting from an L(N,D) fit (params alpha_N, alpha_D, N_c, D_c):
 * dL = L(N,D)/L(N,inf) - 1, the variable N^(alpha_N/alpha_D)/D, and the smallest D
 * that keeps dL <= tol. With res NULL the published fit is used. */
double sl_fit_overfit_dl(const sl_fit_result *res, double n, double d);
double sl_fit_overfit_exponent(const sl_fit_result *res); /* alpha_N/alpha_D, 0.74 published */
/* Its percentile interval over a kaplan-nd fit's bootstrap draws (NaN without). */
void sl_fit_overfit_exponent_ci(const sl_fit_result *res, double *lo, double *hi);
double sl_fit_overfit_d_needed(const sl_fit_result *res, double n, double tol);
/* Early-stopping bound S_stop >= S_c / (L(N,D) - L(N,inf))^(1/alpha_S), from an
 * L(N,D) fit and an L(N,S_min) fit (NULL: published). */
double sl_fit_stop_steps(const sl_fit_result *nd, const sl_fit_result *ns, double n, double d);
/* The same bound (Kaplan eq 5.7, Fig. 16) in steps of a run of batch size b
 * tokens, to hold against the step at which it stopped: S_stop in S_min units
 * times 1 + B_crit/b with B_crit at L(N, D) from a bcrit or bcrit-scan fit
 * (bcrit NULL: S_min itself). NULL nd, ns: published. lo, hi pair the k-th
 * bootstrap draws of the fits given (NaN without). */
int sl_fit_stop_bound(const sl_fit_result *nd, const sl_fit_result *ns,
                      const sl_fit_result *bcrit, double n, double d, double b, double *value,
                      double *lo, double *hi, sl_error *err);

/* The critical batch size measured directly (Kaplan eq 5.1, Fig. 18). */
#define SL_BCRIT_TARGETS 8
typedef struct {
    double loss;      /* the target loss */
    int n_runs;       /* batch sizes that reached it */
    double s_min;     /* steps S_min, E_min = B_crit S_min tokens, B_crit tokens; NaN unless */
    double e_min;     /* converged */
    double bcrit;
    double rms_log;   /* RMS of the ln S residuals (equal to those of ln E = ln BS) */
    int converged;
    char reason[160];
} sl_bcrit_target;
/* Steps a learning curve (s ascending) needed to reach loss `target`: the first
 * evaluation whose running minimum is at or below it, interpolated in ln S
 * linearly in the loss from the evaluation before; NaN if never reached. */
double sl_fit_steps_to_loss(const double *s, const double *loss, size_t n, double target);
/* Fits (S/S_min - 1)(E/E_min - 1) = 1 with E = B S, i.e. S = S_min (1 + B_crit/B),
 * to n (B, S) pairs by least squares on ln S. Needs 3 pairs (else SL_EINPUT);
 * converged = 0 when B_crit lies beyond 30x the batch sizes (or B has no spread). */
int sl_fit_bcrit_hyperbola(const double *b, const double *s, size_t n, sl_bcrit_target *t,
                           sl_error *err);
/* The scan: points are evaluations (run, b, s, loss) of learning curves, one
 * batch size per run. n_targets losses (0: SL_BCRIT_TARGETS), geometric from
 * the lowest first-evaluation loss down to the best loss that half of the
 * curves (at least 3) reach, inset half a step; one hyperbola each, through
 * the fewest steps any run of a batch size needed (several learning rates per
 * batch size: the best-tuned). out holds n_targets entries. */
int sl_fit_bcrit_targets(const sl_fit_point *p, size_t n, int n_targets, sl_bcrit_target *out,
                         int *n_out, sl_error *err);

/* One IsoFLOP profile (Hoffmann's approach 2): the least-squares parabola of
 * the loss against ln N through k >= 3 models of one budget, and its minimum
 * N_opt, L_opt; -1 (both NaN) when the parabola opens downward, the sizes have
 * no spread, or the minimum lies outside the sizes. The approach2 law and the
 * IsoFLOP penalty figure both take their optima from it. */
int sl_fit_isoflop_minimum(const double *n, const double *loss, size_t k, double *n_opt, double *l_opt);

/* Kaplan eq 1.8 / 6.4, the paper's internal consistency check: the exponent of
 * L(C_min) predicted from the steps side, alpha_C^min = 1/(1/alpha_S + 1/alpha_B
 * + 1/alpha_N), alpha_N and alpha_S from a kaplan-ns fit and alpha_B from a
 * bcrit or bcrit-scan fit (NULL: the published 0.076, 0.76, 0.21 -> 0.052).
 * lo, hi pair the k-th bootstrap draws of the two fits (NaN without draws).
 * SL_EINPUT for a fit of another law or one that did not converge. */
int sl_fit_alpha_cmin_predicted(const sl_fit_result *ns, const sl_fit_result *bcrit,
                                double *value, double *lo, double *hi, sl_error *err);

/* The compute-efficient frontier (Kaplan Figs. 13, 14), the points cmin and
 * approach1 are fitted to: learning-curve points p (the curves rule, with S
 * and B) whose C becomes C_min = C/(1 + B/B_crit) under o's B_crit (as cmin
 * takes it; none: C_min = C), then the lowest loss per bin of ln C_min, falling
 * as compute grows (o's bins_per_decade and trim_envelope), in order of
 * C_min. Each out point is its input point with c = C_min, bcrit = the B_crit
 * used (0: none), s = S_min = S/(1 + B_crit/B) and d = E_min = B_crit S_min,
 * the tokens at B << B_crit (without a B_crit: S and S B). out has room for
 * n points; SL_EINPUT for points cmin cannot take. */
int sl_fit_frontier(const sl_fit_point *p, size_t n, const sl_fit_options *o, sl_fit_point *out,
                    size_t *m, sl_error *err);

/* How compute-efficient training spends compute (Kaplan Table 6, Fig. 3):
 * X = X_e C_min^p_X on the frontier (sl_fit_frontier) for X = N (the model),
 * B_crit (at the point's loss), S_min and E_min = D (tokens), each fitted by
 * least squares in ln X against ln C_min. N E_min = C_min/6 for Kaplan's C,
 * so p_N + p_D = 1 there, and E_min = B_crit S_min, so p_D = p_B + p_S, always.
 * Intervals: o->bootstrap resamples of whole runs (seed, level as o's; NaN
 * without). Needs a B_crit (o's, or the points'): SL_EINPUT otherwise, or with
 * fewer than 3 frontier points or one C_min. */
enum { SL_ALLOC_N, SL_ALLOC_B, SL_ALLOC_S, SL_ALLOC_D, SL_ALLOC_COUNT };
typedef struct {
    double p[SL_ALLOC_COUNT], scale[SL_ALLOC_COUNT]; /* X = scale C_min^p, C_min in FLOP */
    double lo[SL_ALLOC_COUNT], hi[SL_ALLOC_COUNT];   /* of p; NaN without resamples */
    double r2[SL_ALLOC_COUNT];                       /* of ln X */
    size_t n_points;                                 /* frontier points */
    int n_boot, n_boot_ok;
    double level;
} sl_fit_allocation;
/* "N", "B_crit", "S_min", "D" and the paper's p_N 0.73, p_B 0.24, p_S 0.03, p_D 0.27. */
const char *sl_fit_allocation_name(int which);
double sl_fit_allocation_published(int which);
int sl_fit_allocation_of(const sl_fit_point *p, size_t n, const sl_fit_options *o,
                         sl_fit_allocation *a, sl_error *err);

/* The data wall (Kaplan section 6.3, Fig. 15): L(C_min) = (C_c/C_min)^alpha_C
 * from a cmin fit against L(D(C_min)), the loss of the data compute-efficient
 * training uses, D = D_e C_min^p_D (an allocation's), on the L(D) of an
 * L(D) fit: kaplan-nd at N -> infinity, (D_c/D)^alpha_D, or power-d. The
 * compute C* (FLOP) where the two meet and the loss L* there; c_lo, c_hi (may
 * be NULL) the interval of C* over the k-th bootstrap draws of the two fits
 * paired, at cmin's level, D_e and p_D held (NaN without draws). SL_EINPUT
 * for fits of other laws, unconverged fits or parallel lines. */
int sl_fit_data_wall(const sl_fit_result *cmin, const sl_fit_result *ld, double d_e, double p_d,
                     double *c_star, double *l_star, double *c_lo, double *c_hi, sl_error *err);
/* L(D) of such a fit at D tokens (NaN for another law). */
double sl_fit_loss_of_data(const sl_fit_result *ld, double d);

/* Compute-optimal allocation for a budget C (FLOP). */
typedef struct {
    double c;
    double n_opt[3], d_opt[3], b[3], s[3], loss[3]; /* value, low, high (NaN if unknown) */
} sl_fit_plan;
/* Kaplan §6 (published): N, D, B, S_min from C_min in PF-days. */
void sl_fit_plan_kaplan(double c, sl_fit_plan *p);
/* From a chinchilla fit (intervals from its bootstrap draws) or, with res NULL,
 * from params {E, A, B, alpha, beta}. B is Kaplan's B_crit at the predicted
 * loss and S = D/B. */
int sl_fit_plan_chinchilla(double c, const sl_fit_result *res, const double *params,
                           sl_fit_plan *p, sl_error *err);
/* From fitted frontier laws, Kaplan's way: N_opt and D_opt from an approach1 (or
 * approach2) fit, the loss from a cmin fit, B = B_crit at that loss from a bcrit
 * fit (NULL: Kaplan's published B_crit(L)), S = D/B. cmin may be NULL (then the
 * loss, B and S are NaN). With B_crit known when fitting, C here is C_min.
 * Intervals pair the k-th bootstrap draws of the fits. */
int sl_fit_plan_fitted(double c, const sl_fit_result *opt, const sl_fit_result *cmin,
                       const sl_fit_result *bcrit, sl_fit_plan *p, sl_error *err);

#endif
