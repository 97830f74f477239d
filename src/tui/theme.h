/* theme: colour themes (themes/NAME.json) parsed and validated into semantic colours.
 * Drawing code names colours by these ids only; crt maps them to curses pairs.
 * Called by the lab before curses starts (errors name the file and key) and on `t`. */
#ifndef SL_TUI_THEME_H
#define SL_TUI_THEME_H

#include "scalelab/util.h"

typedef enum {
    COL_BACKGROUND, COL_TEXT, COL_DIM, COL_TITLE, COL_BORDER, COL_FOCUS, COL_AXIS, COL_GRID,
    COL_SERIES1, COL_SERIES2, COL_SERIES3, COL_SERIES4,
    COL_SERIES5, COL_SERIES6, COL_SERIES7, COL_SERIES8,
    COL_FIT, COL_BAND, COL_GOOD, COL_WARN, COL_BAD, COL_SELECTION, COL_HEADER,
    COL_COUNT
} ColorId;

#define THEME_SERIES 8

typedef struct {
    char name[64];
    char description[160];
    char path[1024];
    int rgb[COL_COUNT]; /* 0xRRGGBB, or -1 for the terminal's default colour */
    int monochrome;     /* attributes only (bold, reverse, underline) */
} Theme;

/* The key of a colour in a theme file ("series3"). */
const char *Theme_colorName(ColorId id);

/* Parses a theme file. Errors: `FILE:colors.KEY: what is wrong (expected ...)`. */
int Theme_load(Theme *t, const char *path, sl_error *err);

/* NAME or a path: a file if it names one, else NAME.json in the first folder
 * of the one search path of presets and themes (util.h, sl_search_dirs). */
int Theme_find(const char *name, char *out, size_t len, sl_error *err);

/* The theme names of that search path (sorted, no duplicates); returns the count. */
int Theme_list(char names[][64], int max);

/* A built-in theme for when no theme file can be found (default colours). */
void Theme_builtin(Theme *t);

#endif
