/* screen: the lab's screen manager: the layout of the panels, the event loop
 * (keys, mouse, signals, the engine's wake-up descriptor, the frame clock),
 * the overlays (help, preset picker, export, questions) and the key table.
 * Written as screen.c (layout, frames, the loop), screen_keys.c (the key
 * table and its actions) and screen_overlay.c, sharing screen_int.h. */
#ifndef SL_TUI_SCREEN_H
#define SL_TUI_SCREEN_H

#include "lab.h"

/* The panels, in the order Tab visits them. */
enum { P_CURVES, P_LAW, P_FITS, P_RUNS, P_SELECT, P_GAUGE, P_COUNT };

typedef struct Screen Screen;

/* The class of each panel, by P_*. */
extern const PanelClass *const Screen_classes[P_COUNT];

/* The key table: every key the lab answers, where it acts and what it does.
 * The event loop dispatches through it and the `?` overlay (and the tests that
 * hold docs/LAB.md to it) read it, so the keys and their help cannot disagree.
 * scope is KEYS_ANYWHERE or the panel (P_*) that must have the focus; a key of
 * the focused panel wins over the same key anywhere. */
#define KEYS_ANYWHERE (-1)
#define KEYS_EDITOR P_COUNT /* keys of the preset editor overlay (help only) */
typedef struct {
    int scope;
    const char *label; /* the keys as help and docs write them: "P R" */
    const char *what;
    int codes[12];     /* the curses key codes it answers, 0-terminated; none: help only */
    void (*act)(Screen *s, int ch);
} KeyAction;
extern const KeyAction Screen_keys[]; /* ends with a NULL label */

/* The heading of a scope in the help ("anywhere", "runs panel", ...). */
const char *Screen_scopeName(int scope);

#endif
