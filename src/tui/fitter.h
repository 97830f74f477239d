/* fitter: the lab's background refits. The UI thread hands it the points of a
 * snapshot (debounced); its thread refits every law whose points changed with
 * warm starts, publishes, and schedules a bootstrap of each law whose points
 * changed since its last one (on open of a finished store too): a cold fit
 * with the report options, the very fit `scalelab fit DIR` makes. */
#ifndef SL_TUI_FITTER_H
#define SL_TUI_FITTER_H

#include <stdint.h>

#include "scalelab/engine.h"
#include "scalelab/fit.h"

/* Entries: the preset's laws fitted to the finished runs (their learning
 * curves for the laws read off curves), then the live laws, fitted to every
 * learning curve's points so far, running runs included: L(N, S) always and
 * L(N, D) for nd sweeps. */
#define FIT_ENTRIES (SL_LAW_COUNT + 2)
typedef struct {
    int n;
    sl_fit_law law[FIT_ENTRIES];
    int live[FIT_ENTRIES];          /* fitted to the curves so far (not only finished runs) */
    int ok[FIT_ENTRIES];            /* result holds a fit */
    sl_fit_result res[FIT_ENTRIES]; /* boot draws owned by the set */
    char why[FIT_ENTRIES][160];     /* when not ok: why not (too few points ...) */
    int boot_done[FIT_ENTRIES];     /* intervals from a bootstrap on these very points */
    sl_fit_verdict verdict[FIT_ENTRIES]; /* when ok: sl_fit_verdict_of the result */
    char verdict_why[FIT_ENTRIES][200];
    double seconds;                 /* of the last refit of all laws */
} FitSet;
typedef struct Fitter Fitter;

/* laws: the preset's law names (n 0: the lab's default set). Starts the thread;
 * call with SIGINT/SIGTERM/SIGWINCH blocked (it inherits the mask). */
Fitter *Fitter_new(const char (*laws)[32], int n, int nd_sweep);
/* Builds points from the snapshot and wakes the thread (latest wins). */
void Fitter_submit(Fitter *f, const sl_snapshot *s);
/* Copies the newest published set into out when its generation differs from
 * *gen; returns 1 then. */
int Fitter_take(Fitter *f, FitSet *out, uint64_t *gen);
void Fitter_free(Fitter *f);

void FitSet_free(FitSet *s);
void FitSet_copy(FitSet *dst, const FitSet *src);
/* The set's finished-run result for law, or NULL when absent or not fitted. */
const sl_fit_result *FitSet_get(const FitSet *s, sl_fit_law law);
/* The result to use as a law (drawn, fed to the gauge, forecast from): the
 * finished-run fit (live: the live one) of law when its verdict is ok, else NULL. */
const sl_fit_result *FitSet_law(const FitSet *s, sl_fit_law law, int live);

/* The points the lab fits, one set per point rule (sl_fit_point_rule: per done
 * run at its best test loss, per curve row, per row that measured the gradient
 * noise scale), taken from the snapshot's runs by run.h as `scalelab fit DIR`
 * and the figures take them from the store. */
enum { FIT_POINTS_RUNS = SL_POINTS_BEST, FIT_POINTS_ROWS = SL_POINTS_CURVES,
       FIT_POINTS_NOISE = SL_POINTS_NOISE, FIT_POINT_SETS };
int Fitter_points(const sl_snapshot *s, int which, sl_fit_point **pts, size_t *n);
/* The points of law from the snapshot's runs, as sl_runs_law_points takes them
 * from a store (flags: SL_LAW_POINTS_*), which is what `scalelab fit DIR` fits. */
void Fitter_law_points(const sl_snapshot *s, sl_fit_law law, unsigned flags, sl_fit_point **pts,
                       size_t *n);
/* The options the lab fits law with: the law's report options (those of
 * `scalelab fit` and the figures), without the bootstrap unless boot. */
void Fitter_options(sl_fit_law law, int boot, sl_fit_options *o);

#endif
