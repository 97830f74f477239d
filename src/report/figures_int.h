/* figures_int: what the figure builders in src/report/figures*.c share — the
 * points a rule takes from the runs, the fit drawn with its label, a fitted
 * curve with its band. Not a public header: only the report module includes it. */
#ifndef SL_REPORT_FIGURES_INT_H
#define SL_REPORT_FIGURES_INT_H

#include "canvas.h"
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
/* A new figure named `name`, titled "<preset>: what", x axis xl, y the test loss. */
void Fig_begin(Figure *f, const sl_preset *p, const char *name, const char *what, const char *xl);
/* RUN/context.csv of run r: its (position, test loss) rows as points (n =
 * position), malloc'd into *p; returns their number (0 without the file). */
size_t Fig_contextPoints(const char *sweep_dir, const sl_run *r, sl_fit_point **p);

/* figures_slices.c: the same runs sliced as other figures of the paper */
void Fig_lawDepth(Figure *f, const sl_run *runs, int n, int total);
void Fig_lawNAt(Figure *f, const sl_run *runs, int n, int steps);
void Fig_isoflopPenalty(Figure *f, const sl_run *runs, int n);
void Fig_bcritScan(Figure *f, const sl_run *runs, int n);
void Fig_contextByN(Figure *f, const char *sweep_dir, const sl_run *runs, int n);
void Fig_lawNLog(Figure *f, const sl_run *runs, int n);

#endif
