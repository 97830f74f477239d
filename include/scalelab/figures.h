/* figures: the paper's figures redrawn from a run store as SVG and PNG (cairo):
 * learning curves against tokens and compute, and the law plot with the fitted
 * law and its bootstrap band. Called by `scalelab export DIR --plots OUT`. */
#ifndef SCALELAB_FIGURES_H
#define SCALELAB_FIGURES_H

#include "scalelab/util.h"

/* Size of every figure, in SVG points and PNG pixels. */
#define SL_FIG_WIDTH 900
#define SL_FIG_HEIGHT 540

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
 * A figure without points (no data for it) is not written.
 * *n_figures is set to the number of figures written. An OUT that cannot be
 * created is SL_EINPUT; a store that cannot be read is whatever the store says. */
int sl_figures_write(const char *sweep_dir, const char *out_dir, int *n_figures, sl_error *err);

#endif
