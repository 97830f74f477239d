/* plot: a dot canvas for log-log plots: braille cells (2x4 dots), block
 * quadrants (2x2) or ASCII, with one colour per cell, point markers, a grid
 * and decade axes. Pure drawing into a curses window; the UI thread's only. */
#ifndef SL_TUI_PLOT_H
#define SL_TUI_PLOT_H

#include <stdint.h>

#include "crt.h"

typedef enum { PLOT_BRAILLE, PLOT_BLOCK, PLOT_ASCII } PlotMode;

typedef struct {
    int w, h; /* cells */
    PlotMode mode;
    uint8_t *dots, *color, *grid, *mark_color;
    wchar_t *mark;
    char *mark_ascii;
    double x0, x1, y0, y1; /* log10 of the range when the axis is logarithmic */
    int logx, logy;
    char xname[32]; /* the x axis's name and unit, drawn at the right of its labels */
} Plot;

void Plot_resize(Plot *p, int w, int h, PlotMode mode);
void Plot_free(Plot *p);
/* Clears the dots and sets the data range (values, not logs). */
void Plot_begin(Plot *p, double xmin, double xmax, double ymin, double ymax, int logx, int logy);
void Plot_dot(Plot *p, double x, double y, ColorId c);
void Plot_line(Plot *p, double xa, double ya, double xb, double yb, ColorId c);
/* A sparse vertical fill from ylo to yhi at x (interval bands). */
void Plot_span(Plot *p, double x, double ylo, double yhi, ColorId c);
/* A glyph at a data point (wins over dots in its cell). */
void Plot_mark(Plot *p, double x, double y, wchar_t wc, char ascii, ColorId c);
/* The canvas at (top, left) of w; y tick labels in the `left` columns before
 * it, the x axis and its labels in the two rows under it. Ticks are sorted and
 * every decade is labelled before any other tick. */
void Plot_draw(Plot *p, WINDOW *w, int top, int left);

#endif
