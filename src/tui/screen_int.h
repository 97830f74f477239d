/* screen_int: the screen manager's own state, shared by its three files and
 * no one else: screen.c (layout, the sources, frames, the event loop),
 * screen_keys.c (the key table and its actions) and screen_overlay.c (the
 * overlays: help, preset picker, export, questions, sample, editor). */
#ifndef SL_TUI_SCREEN_INT_H
#define SL_TUI_SCREEN_INT_H

#include "panel_editor.h"
#include "sampletext.h"
#include "screen.h"
#include "settings.h"

/* The overlay on top of the panels; OV_NONE when the keys go to the panels. */
typedef enum { OV_NONE, OV_HELP, OV_PICKER, OV_EXPORT, OV_QUIT, OV_CANCEL, OV_SAMPLE, OV_EDITOR } Overlay;

#define MAX_PRESETS 64

/* The screen: one per lab, owned and touched by the UI thread only.
 * - panels[] are laid out by Screen_layout; a panel's win is NULL while the
 *   terminal is too small (too_small) or between a resize's two halves.
 * - focus is a P_* index, always valid; the focused panel has .focused set.
 * - ov names the overlay drawn on top; ovwin is its window (NULL when none).
 *   An overlay takes every key until it closes (Screen_closeOverlay), which
 *   also marks the whole screen for redrawing.
 * - all_dirty redraws every panel at the next frame; a panel's own dirty
 *   redraws just it.
 * - quit ends the event loop at its next turn; fail (with fail_err) makes
 *   the lab return that error once curses is down (a preset switch failed). */
struct Screen {
    Lab lab;
    Panel panels[P_COUNT];
    WINDOW *status;
    int focus;
    int too_small;
    Overlay ov;
    WINDOW *ovwin;
    int all_dirty;
    /* preset picker */
    char pr_path[MAX_PRESETS][1024];
    char pr_name[MAX_PRESETS][64];
    char pr_desc[MAX_PRESETS][256];
    int n_presets, pick;
    /* export prompt */
    char export_dir[512];
    /* themes */
    char themes[32][64];
    int n_themes;
    int quit;
    int fail;          /* a preset switch failed: fail_err says why */
    sl_error fail_err;
    double t_start, last_frame, last_submit, last_tick, last_plots;
    int plots_stale;
    uint64_t submitted_gen;
    int help_scroll;
    Settings settings;
    SampleJob *sample;   /* the latest text sample (w), running or done */
    int sample_drawn;    /* the overlay shows the finished sample */
    Editor *editor;      /* the preset editor (E), while open */
    char cancel_id[SL_RUN_ID_MAX]; /* the run the cancel question is about */
};

/* screen.c: places every panel for the terminal's size (LINES x COLS) and
 * marks them all dirty. */
void Screen_layout(Screen *s);
/* screen.c: stops the sweep (its runs checkpoint) and opens the preset at
 * path. A failure sets s->fail and ends the lab: the old sweep is gone. */
int Screen_switchPreset(Screen *s, const char *path);

/* screen_keys.c: one key (or mouse event, or KEY_RESIZE) from curses. */
void Screen_key(Screen *s, int ch);
/* screen_keys.c: resumes the runs whose pause landed after space asked to
 * resume them (call when a snapshot arrives). */
void Screen_resumePending(Screen *s);

/* screen_overlay.c: draws the open overlay (nothing when ov is OV_NONE). */
void Screen_drawOverlay(Screen *s);
/* screen_overlay.c: a key while an overlay is open. */
void Screen_overlayKey(Screen *s, int ch);
void Screen_closeOverlay(Screen *s);
/* screen_overlay.c: fills the picker's list from the presets' search path. */
void Screen_scanPresets(Screen *s);

#endif
