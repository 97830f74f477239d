/* tui: the lab, the ncurses front end of a live sweep (or a read-only view of a
 * store that other processes write). Called by the CLI (`scalelab`, `scalelab
 * lab`, `scalelab watch`); it owns the terminal until it returns. */
#ifndef SCALELAB_TUI_H
#define SCALELAB_TUI_H

#include "scalelab/fit.h"
#include "scalelab/util.h"

typedef struct {
    const char *preset;   /* a file or a name in presets/; NULL = "quickstart" */
    const char *theme;    /* a file or a name in themes/; NULL = "dark" */
    const char *runs;     /* the runs folder, or a sweep store to continue; NULL = "runs" */
    const char *watch;    /* non-NULL: watch this store read-only (no engine) */
    const char *data_dir; /* prepared corpora; NULL = default */
    double exit_after;    /* > 0: quit cleanly after this many seconds */
    int bench_frames;     /* > 0: draw this many frames of a synthetic 20-run sweep
                             at $COLUMNS x $LINES and print the CPU cost per frame */
} sl_tui_opts;

/* Runs the lab until the user quits, a signal (SIGINT, SIGTERM, SIGHUP) arrives
 * or exit_after passes; restores the terminal and stops the engine (runs
 * checkpoint) on every path. Bad presets and themes fail before the terminal
 * is touched (SL_EINPUT naming the file and key). */
int sl_tui_run(const sl_tui_opts *o, sl_error *err);

/* Loads the theme file at path as the lab would (errors name the file and
 * key) and copies its description; for `scalelab list themes`. */
int sl_tui_theme_describe(const char *path, char *desc, size_t len, sl_error *err);

#endif
