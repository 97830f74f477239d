/* fitter: the lab's background refits. The UI thread hands it the points of a
 * snapshot (debounced); its thread refits every law with warm starts, then
 * bootstraps the intervals, and publishes each result set with a generation. */
#ifndef SL_TUI_FITTER_H
#define SL_TUI_FITTER_H

#include <stdint.h>

#include "scalelab/engine.h"
#include "scalelab/fit.h"

typedef struct {
    int n;
    sl_fit_law law[SL_LAW_COUNT];
    int ok[SL_LAW_COUNT];           /* result holds a fit */
    sl_fit_result res[SL_LAW_COUNT]; /* boot draws owned by the set */
    char why[SL_LAW_COUNT][160];    /* when not ok: why not (too few points ...) */
    int boot_done[SL_LAW_COUNT];    /* intervals from a bootstrap on these points */
    double seconds;                 /* of the last refit of all laws */
} FitSet;

typedef struct Fitter Fitter;

/* laws: the preset's law names (n 0: the lab's default set). Starts the thread;
 * call with SIGINT/SIGTERM/SIGWINCH blocked (it inherits the mask). */
Fitter *Fitter_new(const char (*laws)[32], int n);
/* Builds points from the snapshot and wakes the thread (latest wins). */
void Fitter_submit(Fitter *f, const sl_snapshot *s);
/* Copies the newest published set into out when its generation differs from
 * *gen; returns 1 then. */
int Fitter_take(Fitter *f, FitSet *out, uint64_t *gen);
void Fitter_free(Fitter *f);

void FitSet_free(FitSet *s);
void FitSet_copy(FitSet *dst, const FitSet *src);
/* The set's result for law, or NULL when absent or not fitted. */
const sl_fit_result *FitSet_get(const FitSet *s, sl_fit_law law);

/* The points the lab fits, one set per point rule (sl_fit_point_rule: per done
 * run at its best test loss, per curve row, per row that measured the gradient
 * noise scale), taken from the snapshot's runs by run.h as `scalelab fit DIR`
 * and the figures take them from the store. */
enum { FIT_POINTS_RUNS = SL_POINTS_BEST, FIT_POINTS_ROWS = SL_POINTS_CURVES,
       FIT_POINTS_NOISE = SL_POINTS_NOISE, FIT_POINT_SETS };
int Fitter_points(const sl_snapshot *s, int which, sl_fit_point **pts, size_t *n);
/* The options the lab fits law with: the law's report options (those of
 * `scalelab fit` and the figures), without the bootstrap unless boot. */
void Fitter_options(sl_fit_law law, int boot, sl_fit_options *o);

#endif
