/* crt: terminal set-up and tear-down, colour pairs for the theme's semantic ids,
 * and glyphs with ASCII fallbacks. The only file that starts or ends curses;
 * called from the UI thread alone. */
#ifndef SL_TUI_CRT_H
#define SL_TUI_CRT_H

#define NCURSES_WIDECHAR 1
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <ncursesw/curses.h>
#include <stdio.h>
#include <wchar.h>

#include "theme.h"

/* 1 when the locale is UTF-8 (braille, box drawing), 0 for ASCII. */
extern int CRT_utf8;

/* Starts curses on the terminal, or (out != NULL) on that stream with the size
 * from $LINES/$COLUMNS (the frame benchmark). ascii forces ASCII drawing. */
int CRT_init(FILE *out, int ascii);
/* Maps the theme's colours to pairs (hex to 256, 16 or 8 colours; NO_COLOR and
 * monochrome themes use attributes only). Callable again to switch themes. */
void CRT_setTheme(const Theme *t);
/* Ends curses and restores the terminal; safe to call twice. */
void CRT_done(void);
int CRT_active(void);

/* Sets w's drawing colour to id. */
void CRT_color(WINDOW *w, ColorId id);
/* The background of a whole window (theme background, text colour). */
void CRT_background(WINDOW *w);
/* One glyph: wc on UTF-8 terminals, ascii otherwise. */
void CRT_glyph(WINDOW *w, int y, int x, wchar_t wc, char ascii);
/* A horizontal line of a glyph. */
void CRT_hline(WINDOW *w, int y, int x, int n, wchar_t wc, char ascii);
/* A box around w in the given colour with a title at the top left. */
void CRT_box(WINDOW *w, ColorId id, const char *title);
/* Text clipped to n columns (no wrapping). */
void CRT_text(WINDOW *w, int y, int x, int n, const char *s);

#endif
