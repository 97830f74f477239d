/* figures: the paper's figures redrawn from a run store as SVG and PNG (cairo):
 * learning curves against tokens and compute, and the law plot with the fitted
 * law and its bootstrap band. Called by `scalelab export DIR --plots OUT`. */
#ifndef SCALELAB_FIGURES_H
#define SCALELAB_FIGURES_H

#include "scalelab/fit.h"
#include "scalelab/model.h"
#include "scalelab/util.h"

/* Size of every figure, in SVG points and PNG pixels. */
#define SL_FIG_WIDTH 900
#define SL_FIG_HEIGHT 540

/* What the figures take besides the store: the compute accounting of every C
 * they plot and fits made on other stores (`scalelab export --bcrit-from`,
 * --ns-from, --nd-from), each NULL when not given, with the path it came
 * from for the legends. Zeroed: Kaplan's C and no other store. */
typedef struct {
    sl_accounting accounting;
    const sl_fit_result *bcrit; /* B_crit(L): bcrit-scan or bcrit, for S_min and C_min */
    const sl_fit_result *ns;    /* L(N, S_min): kaplan-ns, for the early-stopping bound */
    const sl_fit_result *nd;    /* L(D): kaplan-nd or power-d, for the data wall */
    const char *bcrit_src, *ns_src, *nd_src;
} sl_figures_options;

/* Writes OUT/<name>.svg and OUT/<name>.png for each figure of the store in
 * sweep_dir (creating OUT), each file replaced atomically:
 *   curves-tokens   test loss against tokens, one colour per run
 *   curves-compute  test loss against compute, with the L(C_min) frontier fit
 *   law-n | law-d | law-nd | law-isoflop | law-shape   the law the sweep kind implies
 *   law-bcrit       any store with a measured noise scale: B_crit against loss
 *   overfit         nd with several N: L/L(N, inf) - 1 against N^(alpha_N/alpha_D)/D
 *   context         runs with context.csv: loss against the position in the context
 *   law-n-depth, law-ntotal-depth   n/shape with several depths: L against N and N_total
 *   law-n-at-c, law-n-at-s          n: L(N) at fixed compute and at fixed steps
 *   isoflop-penalty                 isoflop: L/L_opt against N/N_opt per budget
 *   bcrit-scan                      batch: steps and examples to each target loss
 *   context-by-n                    context.csv of 2+ runs: loss at positions T against N
 *   law-n-log                       n: L(N) with power-n and the logarithmic log-n beside it
 * and, with a B_crit(L) (o->bcrit), on an n sweep's learning curves:
 *   frontier-cmin   the frontier on C and on C_min with cfixed and cmin (Kaplan Fig. 13)
 *   smin-cmin       S_min of the frontier against C_min (Kaplan Fig. 14, right)
 *   allocation      the growth of N, B_crit and S_min with C_min (Kaplan Fig. 3)
 *   data-wall       with o->nd too: L(C_min) against L(D(C_min)) and where they meet (Fig. 15)
 * and from the runs themselves:
 *   stop-bound      nd: the S_stop bound against each early-stopped run's best step (Fig. 16)
 *   lr-scan, lr-schedules   runs of one model at several learning rates (Fig. 22)
 * A figure without points (no data for it) is not written.
 * *n_figures is set to the number of figures written. An OUT that cannot be
 * created is SL_EINPUT; a store that cannot be read is whatever the store says. */
int sl_figures_write(const char *sweep_dir, const char *out_dir, const sl_figures_options *o,
                     int *n_figures, sl_error *err);

/* Kaplan's Table 6 for an n sweep's learning curves with o's B_crit(L):
 * OUT/table6.csv and OUT/table6.md, each replaced atomically, the exponents
 * p_N, p_B, p_S, p_D of sl_fit_allocation_of with their intervals beside the
 * published ones; *written 1. A store of another kind: SL_OK, *written 0.
 * SL_EINPUT without o->bcrit or when the frontier cannot give them (the
 * message names the store and says why). */
int sl_figures_table6(const char *sweep_dir, const char *out_dir, const sl_figures_options *o,
                      int *written, sl_error *err);

#endif
