/* figures_int: what the figure builders in src/report/figures*.c share — the
 * points a rule takes from the runs, the fit drawn with its label, a fitted
 * curve with its band. Not a public header: only the report module includes it. */
#ifndef SL_REPORT_FIGURES_INT_H
#define SL_REPORT_FIGURES_INT_H

#include "canvas.h"
#include "scalelab/figures.h"
#include "scalelab/fit.h"
#include "scalelab/preset.h"
#include "scalelab/run.h"

#define FIT_GRID 80

int Fig_positive(double v);
/* The points a rule takes from each run, as `scalelab fit DIR` and the lab take
 * them (run.h); transfer: the second corpus's loss. p has room for every row
 * of every run (Fig_pointsBuffer); idx (may be NULL) gets each point's run index. */
size_t Fig_rulePoints(const sl_run *runs, int n, sl_fit_point_rule rule, int transfer, sl_fit_point *p,
                      int *idx);
/* One point per finished run at its best test loss. */
size_t Fig_runPoints(const sl_run *runs, int n, int transfer, sl_fit_point *p, int *idx);
sl_fit_point *Fig_pointsBuffer(const sl_run *runs, int n);
/* The law fitted with the intervals `scalelab fit` prints; 0 unless converged. */
int Fig_fit(sl_fit_law law, const sl_fit_point *p, size_t n, sl_fit_result *r);
/* The same with options o (Fig_options). */
int Fig_fitWith(sl_fit_law law, const sl_fit_point *p, size_t n, const sl_fit_options *o,
                sl_fit_result *r);
/* The report options of law (sl_fit_options_report) with fo's B_crit(L) for
 * S_min and C_min, as `scalelab fit --bcrit-from` sets them. */
void Fig_options(sl_fit_law law, const sl_figures_options *fo, sl_fit_options *o);
/* The points `scalelab fit DIR --law law` takes (run.h's sl_runs_law_points)
 * with their C in accounting a; malloc'd, *m their number. */
sl_fit_point *Fig_lawPointsOf(const sl_run *runs, int n, sl_fit_law law, sl_accounting a, size_t *m);
/* C of each point (Kaplan's, as run.h gives it) in accounting a instead. */
void Fig_account(const sl_run *runs, int n, sl_fit_point *p, size_t m, sl_accounting a);
/* "WHAT (FLOP, kaplan: 6N per token)": an axis label that says which C. */
void Fig_computeLabel(char *s, size_t len, const char *what, sl_accounting a);
/* "power-n: alpha 0.081 [0.070, 0.093]" */
void Fig_fitLabel(const sl_fit_result *r, char *s, size_t len);
/* The fitted curve over [x0, x1] with its band (see figures.c). */
void Fig_fitCurve(Figure *f, const sl_fit_result *r, const sl_fit_point *base, char axis_name, double x0,
                  double x1, double iso, const double rgb[3], const char *label);
void Fig_rangeOf(const sl_fit_point *p, size_t n, char axis_name, double *lo, double *hi);
void Fig_lawPoints(Figure *f, const sl_fit_point *p, size_t m, char axis_name, const double rgb[3],
                   const char *label);
int Fig_sameN(double a, double b);
int Fig_distinctN(const sl_fit_point *p, size_t m, double ns[FIGURE_MAX_SERIES / 2]);
/* sweep.json's preset and every run of the store; 0 or the store's error. */
int Fig_loadStore(const char *sweep_dir, sl_preset *pr, sl_run **runs, int *n, sl_error *err);
/* A new figure named `name`, titled "<preset>: what", x axis xl, y the test loss. */
void Fig_begin(Figure *f, const sl_preset *p, const char *name, const char *what, const char *xl);
/* RUN/context.csv of run r: its (position, test loss) rows as points (n =
 * position), malloc'd into *p; returns their number (0 without the file). */
size_t Fig_contextPoints(const char *sweep_dir, const sl_run *r, sl_fit_point **p);

/* figures_slices.c: the same runs sliced as other figures of the paper */
void Fig_lawDepth(Figure *f, const sl_run *runs, int n, int total);
void Fig_lawNAt(Figure *f, const sl_run *runs, int n, int steps, sl_accounting a);
void Fig_isoflopPenalty(Figure *f, const sl_run *runs, int n);
void Fig_bcritScan(Figure *f, const sl_run *runs, int n);
void Fig_contextByN(Figure *f, const char *sweep_dir, const sl_run *runs, int n);
void Fig_lawNLog(Figure *f, const sl_run *runs, int n);

/* figures_compute.c: the compute-efficient frontier with a B_crit(L) (fo->bcrit) */
void Fig_frontierCmin(Figure *f, const sl_run *runs, int n, const sl_figures_options *fo);
void Fig_sminCmin(Figure *f, const sl_run *runs, int n, const sl_figures_options *fo);
void Fig_allocation(Figure *f, const sl_run *runs, int n, const sl_figures_options *fo);
void Fig_dataWall(Figure *f, const sl_run *runs, int n, const sl_figures_options *fo);
/* The allocation of the store's frontier (sl_fit_allocation_of, report
 * bootstrap); SL_EINPUT without fo->bcrit or a frontier. */
int Fig_allocationOf(const sl_run *runs, int n, const sl_figures_options *fo, sl_fit_allocation *a,
                     sl_error *err);

/* figures_train.c: what the runs' training says besides their laws */
void Fig_stopBound(Figure *f, const sl_run *runs, int n, const sl_figures_options *fo);
void Fig_lrScan(Figure *f, const sl_run *runs, int n, int schedules);

#endif
