/* panel_editor: the preset editor overlay (E). Every key of the preset in
 * force, with its value, type, default and documented meaning (range), from
 * sl_preset_docs; an edit is checked by parsing the edited preset as loading
 * a preset file does (the same messages) and previewed: the edited preset is
 * planned against its corpus on a thread and compared with the store's runs
 * (added, dropped, kept, their FLOPs and time); A applies the preview to the
 * live sweep (queued runs only) and makes the edited preset, planned, the
 * lab's preset in force (Lab_adoptPreset); "save as" writes the edited preset
 * atomically into the user's presets folder. Curses from the UI thread only. */
#ifndef SL_TUI_PANEL_EDITOR_H
#define SL_TUI_PANEL_EDITOR_H

#include "lab.h"

typedef struct Editor Editor;

/* NULL with err set when the preset cannot be shown. store: the sweep's
 * directory, whose runs an edit's preview is compared with ("" none). */
Editor *Editor_open(const sl_preset *p, const char *store, sl_error *err);
/* 1 when the preview finished since the last call (the overlay should be
 * drawn again); starts a pending plan. */
int Editor_poll(Editor *e, Lab *lab);
void Editor_free(Editor *e);
void Editor_draw(Editor *e, WINDOW *w);
/* Returns 1 when the editor wants to close. */
int Editor_key(Editor *e, Lab *lab, int ch);

/* The user's presets folder: $XDG_CONFIG_HOME/scalelab/presets, else
 * ~/.config/scalelab/presets ("" when neither is set). */
void Editor_presetsDir(char *out, size_t n);

#endif
