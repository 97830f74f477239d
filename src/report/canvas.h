/* canvas: how a figure is drawn (cairo, SVG and PNG): log-log axes and their
 * ticks, series of lines, marks and fitted curves with a band, the legend, and
 * an invisible text layer that keeps an SVG's labels searchable. It knows
 * nothing of runs or laws: figures.c fills a Figure and the canvas saves it. */
#ifndef SL_REPORT_CANVAS_H
#define SL_REPORT_CANVAS_H

#include <stddef.h>

#include "scalelab/util.h"

#define FIGURE_MAX_SERIES 64

typedef enum { SERIES_LINE, SERIES_MARK, SERIES_FIT } SeriesStyle;

typedef struct {
    double *x, *y, *lo, *hi; /* owned; lo/hi only for fits with a band */
    size_t n;
    double rgb[3];
    SeriesStyle st;
    double mark;    /* SERIES_MARK radius; 0: 4 */
    char label[96]; /* legend entry; empty: none */
} Series;

typedef struct {
    char name[32], title[256], subtitle[256], xlabel[96], ylabel[96];
    int x_narrow; /* the x axis keeps to the data (a loss axis), without a whole decade */
    Series s[FIGURE_MAX_SERIES];
    int ns;
} Figure;

/* A new series with room for cap values (NULL when the figure is full). */
Series *Figure_addSeries(Figure *f, size_t cap, SeriesStyle st, const double rgb[3],
                         const char *label);
/* A fitted line drawn without its band. */
void Series_dropBand(Series *s);
/* Frees every series (the figure can be filled again). */
void Figure_clear(Figure *f);
/* Writes OUT/<name>.svg and OUT/<name>.png, each replaced atomically. */
int Figure_save(const Figure *f, const char *out, sl_error *err);

/* The i-th of n colours of a ramp (viridis): runs ordered by size read from
 * dark to light. */
void Canvas_ramp(int i, int n, double rgb[3]);
/* Drops cairo's caches once the last figure is saved. */
void Canvas_release(void);

extern const double CANVAS_BLACK[3], CANVAS_RED[3], CANVAS_BLUE[3], CANVAS_ORANGE[3];

#endif
