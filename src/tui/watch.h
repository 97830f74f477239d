/* watch: a read-only view of a run store that other processes write (a headless
 * or MPI sweep). Re-reads the changed files with the store's readers and fills
 * the same snapshot the engine publishes. UI thread only; never writes. */
#ifndef SL_TUI_WATCH_H
#define SL_TUI_WATCH_H

#include "scalelab/engine.h"
#include "scalelab/preset.h"

typedef struct Watch Watch;

int Watch_open(Watch **out, const char *dir, sl_error *err);
/* Re-reads what changed (at most every `every` seconds); returns 1 when s changed. */
int Watch_snapshot(Watch *w, sl_snapshot *s, double every);
const sl_preset *Watch_preset(const Watch *w);
void Watch_free(Watch *w);

#endif
