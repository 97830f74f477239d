/* plot: see plot.h. Dots are kept as braille bits in every mode and turned
 * into block or ASCII glyphs when drawn, so that all modes share one path. */
#include "plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "scalelab/numfmt.h"

void Plot_free(Plot *p)
{
    free(p->dots);
    free(p->color);
    free(p->grid);
    free(p->mark);
    free(p->mark_ascii);
    free(p->mark_color);
    memset(p, 0, sizeof *p);
}

void Plot_resize(Plot *p, int w, int h, PlotMode mode)
{
    if (w < 1)
        w = 1;
    if (h < 1)
        h = 1;
    if (p->w != w || p->h != h) {
        Plot_free(p);
        size_t n = (size_t)w * (size_t)h;
        p->dots = sl_xcalloc(n, 1);
        p->color = sl_xcalloc(n, 1);
        p->grid = sl_xcalloc(n, 1);
        p->mark = sl_xcalloc(n, sizeof *p->mark);
        p->mark_ascii = sl_xcalloc(n, 1);
        p->mark_color = sl_xcalloc(n, 1);
        p->w = w;
        p->h = h;
    }
    p->mode = mode;
}

static double tx(const Plot *p, double x) { return p->logx ? (x > 0 ? log10(x) : -INFINITY) : x; }
static double ty(const Plot *p, double y) { return p->logy ? (y > 0 ? log10(y) : -INFINITY) : y; }

void Plot_begin(Plot *p, double xmin, double xmax, double ymin, double ymax, int logx, int logy)
{
    size_t n = (size_t)p->w * (size_t)p->h;
    memset(p->dots, 0, n);
    memset(p->grid, 0, n);
    memset(p->mark, 0, n * sizeof *p->mark);
    memset(p->mark_ascii, 0, n);
    p->logx = logx;
    p->logy = logy;
    p->x0 = tx(p, xmin);
    p->x1 = tx(p, xmax);
    p->y0 = ty(p, ymin);
    p->y1 = ty(p, ymax);
    if (!(p->x1 > p->x0)) {
        p->x0 -= 0.5;
        p->x1 = p->x0 + 1;
    }
    if (!(p->y1 > p->y0)) {
        p->y0 -= 0.5;
        p->y1 = p->y0 + 1;
    }
}

/* Data to dot coordinates; 0 when outside the canvas. */
static int to_dot(const Plot *p, double x, double y, int *dx, int *dy)
{
    double fx = (tx(p, x) - p->x0) / (p->x1 - p->x0), fy = (ty(p, y) - p->y0) / (p->y1 - p->y0);
    if (!(fx >= -1e-9 && fx <= 1 + 1e-9 && fy >= -1e-9 && fy <= 1 + 1e-9))
        return 0;
    *dx = (int)lround(fx * (p->w * 2 - 1));
    *dy = (int)lround((1 - fy) * (p->h * 4 - 1));
    return 1;
}

static void set_dot(Plot *p, int dx, int dy, ColorId c)
{
    static const uint8_t bit[4][2] = {{0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20}, {0x40, 0x80}};
    if (dx < 0 || dy < 0 || dx >= p->w * 2 || dy >= p->h * 4)
        return;
    size_t i = (size_t)(dy / 4) * (size_t)p->w + (size_t)(dx / 2);
    p->dots[i] |= bit[dy % 4][dx % 2];
    p->color[i] = (uint8_t)c;
}

void Plot_dot(Plot *p, double x, double y, ColorId c)
{
    int dx, dy;
    if (to_dot(p, x, y, &dx, &dy))
        set_dot(p, dx, dy, c);
}

/* Clips a segment to the canvas in transformed space, then walks its dots. */
void Plot_line(Plot *p, double xa, double ya, double xb, double yb, ColorId c)
{
    double ax = (tx(p, xa) - p->x0) / (p->x1 - p->x0), ay = (ty(p, ya) - p->y0) / (p->y1 - p->y0);
    double bx = (tx(p, xb) - p->x0) / (p->x1 - p->x0), by = (ty(p, yb) - p->y0) / (p->y1 - p->y0);
    if (!isfinite(ax) || !isfinite(ay) || !isfinite(bx) || !isfinite(by))
        return;
    /* Liang-Barsky against the unit square */
    double t0 = 0, t1 = 1, dx = bx - ax, dy = by - ay;
    double pp[4] = {-dx, dx, -dy, dy}, qq[4] = {ax, 1 - ax, ay, 1 - ay};
    for (int k = 0; k < 4; k++) {
        if (pp[k] == 0) {
            if (qq[k] < 0)
                return;
            continue;
        }
        double r = qq[k] / pp[k];
        if (pp[k] < 0) {
            if (r > t1)
                return;
            if (r > t0)
                t0 = r;
        } else {
            if (r < t0)
                return;
            if (r < t1)
                t1 = r;
        }
    }
    double W = p->w * 2 - 1, H = p->h * 4 - 1;
    double x0 = (ax + t0 * dx) * W, y0 = (1 - (ay + t0 * dy)) * H;
    double x1 = (ax + t1 * dx) * W, y1 = (1 - (ay + t1 * dy)) * H;
    int steps = (int)ceil(fmax(fabs(x1 - x0), fabs(y1 - y0)));
    if (steps < 1)
        steps = 1;
    for (int s = 0; s <= steps; s++) {
        double f = (double)s / steps;
        set_dot(p, (int)lround(x0 + f * (x1 - x0)), (int)lround(y0 + f * (y1 - y0)), c);
    }
}

void Plot_span(Plot *p, double x, double ylo, double yhi, ColorId c)
{
    int dx, dya, dyb;
    double lo = ty(p, ylo), hi = ty(p, yhi);
    if (!isfinite(lo) || !isfinite(hi))
        return;
    double fx = (tx(p, x) - p->x0) / (p->x1 - p->x0);
    if (!(fx >= 0 && fx <= 1))
        return;
    dx = (int)lround(fx * (p->w * 2 - 1));
    double H = p->h * 4 - 1;
    dya = (int)lround((1 - (hi - p->y0) / (p->y1 - p->y0)) * H);
    dyb = (int)lround((1 - (lo - p->y0) / (p->y1 - p->y0)) * H);
    if (dya < 0)
        dya = 0;
    if (dyb > (int)H)
        dyb = (int)H;
    for (int y = dya; y <= dyb; y++)
        if ((y + dx) % 2 == 0)
            set_dot(p, dx, y, c);
}

void Plot_mark(Plot *p, double x, double y, wchar_t wc, char ascii, ColorId c)
{
    int dx, dy;
    if (!to_dot(p, x, y, &dx, &dy))
        return;
    size_t i = (size_t)(dy / 4) * (size_t)p->w + (size_t)(dx / 2);
    p->mark[i] = wc;
    p->mark_ascii[i] = ascii;
    p->mark_color[i] = (uint8_t)c;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Ticks of an axis over [lo, hi] (logs when log): majors at decades, or at
 * 1..9 x 10^k when the range spans less than about a decade; minors at the
 * 2..9 multiples. Returns majors in maj (values), minors in mnr. */
static void ticks(double lo, double hi, int log, double *maj, int *nmaj, double *mnr, int *nmnr, int max)
{
    *nmaj = *nmnr = 0;
    if (!log) {
        double span = hi - lo, step = pow(10, floor(log10(span / 4)));
        for (double v = ceil(lo / step) * step; v <= hi + 1e-12 && *nmaj < max; v += step)
            maj[(*nmaj)++] = v;
        return;
    }
    int k0 = (int)floor(lo), k1 = (int)ceil(hi);
    for (int k = k0; k <= k1; k++) {
        double d = pow(10, k);
        if (k >= lo - 1e-9 && k <= hi + 1e-9 && *nmaj < max)
            maj[(*nmaj)++] = d;
        for (int m = 2; m <= 9; m++) {
            double v = m * d, l = log10(v);
            if (l >= lo && l <= hi && *nmnr < max)
                mnr[(*nmnr)++] = v;
        }
    }
    if (*nmaj < 2) {
        /* less than a decade: label the multiples instead */
        int n = 0;
        for (int i = 0; i < *nmaj; i++)
            maj[n++] = maj[i];
        for (int i = 0; i < *nmnr && n < max; i++)
            maj[n++] = mnr[i];
        *nmaj = n;
        *nmnr = 0;
        qsort(maj, (size_t)n, sizeof *maj, cmp_double);
    }
    if (*nmaj < 2) {
        /* a narrow range (the first evaluations all near ln V): round values */
        double vlo = pow(10, lo), vhi = pow(10, hi), raw = (vhi - vlo) / 4;
        double step = pow(10, floor(log10(raw)));
        step *= raw / step >= 5 ? 5 : raw / step >= 2 ? 2 : 1;
        *nmaj = 0;
        for (double v = ceil(vlo / step) * step; v <= vhi && *nmaj < max; v += step)
            maj[(*nmaj)++] = v;
    }
}

static int is_decade(double v)
{
    double e = log10(v);
    return fabs(e - round(e)) < 1e-9;
}

static wchar_t cell_glyph(PlotMode mode, uint8_t b, char *ascii)
{
    int tl = (b & 0x03) != 0, tr = (b & 0x18) != 0;
    int bl = (b & 0x44) != 0, br = (b & 0xA0) != 0;
    int top = tl || tr, bottom = bl || br;
    *ascii = top && bottom ? ':' : top ? '\'' : '.';
    if (mode == PLOT_BRAILLE)
        return (wchar_t)(0x2800 + b);
    static const wchar_t quad[16] = {L' ', L'▘', L'▝', L'▀', L'▖', L'▌', L'▞', L'▛',
                                     L'▗', L'▚', L'▐', L'▜', L'▄', L'▙', L'▟', L'█'};
    if (mode == PLOT_BLOCK)
        return quad[tl | tr << 1 | bl << 2 | br << 3];
    return 0;
}

/* Which labels an axis gets: every decade first, then the other majors where
 * they overlap no label placed already (in cells along the axis; each label
 * needs len cells and one of space). Labels are kept in value order. */
typedef struct {
    int pos, len, on;
} Label;

static void place_labels(Label *lab, const double *maj, int n, int lo, int hi, int logv, int pass)
{
    for (int i = 0; i < n; i++) {
        int dec = logv && is_decade(maj[i]);
        if (pass == 0 ? !dec && logv : dec || !logv)
            continue;
        if (lab[i].pos < lo || lab[i].pos + lab[i].len > hi)
            continue;
        int clash = 0;
        for (int k = 0; k < n && !clash; k++)
            clash = lab[k].on && lab[i].pos < lab[k].pos + lab[k].len + 1 &&
                    lab[k].pos < lab[i].pos + lab[i].len + 1;
        lab[i].on = !clash;
    }
}

void Plot_draw(Plot *p, WINDOW *w, int top, int left)
{
    double maj[64], mnr[128];
    int nmaj, nmnr;
    char text[64][16];
    Label lab[64];
    /* x axis */
    ticks(p->x0, p->x1, p->logx, maj, &nmaj, mnr, &nmnr, 64);
    CRT_color(w, COL_AXIS);
    CRT_hline(w, top + p->h, left, p->w, L'─', '-');
    for (int i = 0; i < nmnr; i++) {
        int cx = (int)lround((log10(mnr[i]) - p->x0) / (p->x1 - p->x0) * (p->w - 1));
        CRT_glyph(w, top + p->h, left + cx, L'┬', '-');
    }
    /* the axis name (with its unit) at the right end of the label row */
    int name_len = (int)strlen(p->xname), room = p->w - (name_len ? name_len + 1 : 0);
    for (int i = 0; i < nmaj; i++) {
        double l = p->logx ? log10(maj[i]) : maj[i];
        int cx = (int)lround((l - p->x0) / (p->x1 - p->x0) * (p->w - 1));
        CRT_glyph(w, top + p->h, left + cx, L'┼', '+');
        if (!p->logx || is_decade(maj[i]))
            for (int y = 0; y < p->h; y++)
                p->grid[(size_t)y * (size_t)p->w + (size_t)cx] = 1;
        sl_num_format(text[i], sizeof text[i], maj[i], SL_NUM_TICK);
        int len = (int)strlen(text[i]), lx = cx - len / 2;
        if (lx < 0)
            lx = 0;
        if (lx + len > p->w)
            lx = p->w - len;
        lab[i] = (Label){lx, len, 0};
    }
    /* decades first, over the whole row; the axis name where no decade is;
     * the other ticks in what is left */
    place_labels(lab, maj, nmaj, 0, p->w, p->logx, 0);
    int name_x = p->w - name_len, name_ok = name_len && name_len < p->w;
    for (int i = 0; i < nmaj && name_ok; i++)
        name_ok = !(lab[i].on && lab[i].pos + lab[i].len + 1 > name_x);
    room = name_ok ? name_x - 1 : p->w;
    place_labels(lab, maj, nmaj, 0, room, p->logx, 1);
    for (int i = 0; i < nmaj; i++)
        if (lab[i].on)
            CRT_text(w, top + p->h + 1, left + lab[i].pos, lab[i].len, text[i]);
    if (name_ok) {
        CRT_color(w, COL_DIM);
        CRT_text(w, top + p->h + 1, left + p->w - name_len, name_len, p->xname);
        CRT_color(w, COL_AXIS);
    }
    /* y axis */
    ticks(p->y0, p->y1, p->logy, maj, &nmaj, mnr, &nmnr, 64);
    for (int y = 0; y < p->h; y++)
        CRT_glyph(w, top + y, left - 1, L'│', '|');
    for (int i = 0; i < nmnr; i++) {
        int cy = (int)lround((1 - (log10(mnr[i]) - p->y0) / (p->y1 - p->y0)) * (p->h - 1));
        CRT_glyph(w, top + cy, left - 1, L'┤', '|');
    }
    for (int i = 0; i < nmaj; i++) {
        double l = p->logy ? log10(maj[i]) : maj[i];
        int cy = (int)lround((1 - (l - p->y0) / (p->y1 - p->y0)) * (p->h - 1));
        CRT_glyph(w, top + cy, left - 1, L'┼', '+');
        if (!p->logy || is_decade(maj[i]))
            for (int x = 0; x < p->w; x++)
                p->grid[(size_t)cy * (size_t)p->w + (size_t)x] = 1;
        sl_num_format(text[i], sizeof text[i], maj[i], SL_NUM_TICK);
        lab[i] = (Label){cy, 1, 0}; /* one row each; a clash is the same or next row */
    }
    for (int i = 0; i < nmaj; i++)
        lab[i].len = 0; /* rows: labels may touch, not share one */
    place_labels(lab, maj, nmaj, 0, p->h, p->logy, 0);
    place_labels(lab, maj, nmaj, 0, p->h, p->logy, 1);
    for (int i = 0; i < nmaj; i++)
        if (lab[i].on) {
            int len = (int)strlen(text[i]), lx = left - 1 - len;
            mvwprintw(w, top + lab[i].pos, lx > 0 ? lx : 0, "%s", text[i]);
        }
    CRT_glyph(w, top + p->h, left - 1, L'└', '+');
    /* the canvas */
    for (int y = 0; y < p->h; y++)
        for (int x = 0; x < p->w; x++) {
            size_t i = (size_t)y * (size_t)p->w + (size_t)x;
            if (p->mark[i] || p->mark_ascii[i]) {
                CRT_color(w, (ColorId)p->mark_color[i]);
                CRT_glyph(w, top + y, left + x, p->mark[i], p->mark_ascii[i]);
            } else if (p->dots[i]) {
                char a;
                wchar_t g = cell_glyph(p->mode, p->dots[i], &a);
                CRT_color(w, (ColorId)p->color[i]);
                CRT_glyph(w, top + y, left + x, g, a);
            } else if (p->grid[i] && CRT_utf8) {
                CRT_color(w, COL_GRID);
                CRT_glyph(w, top + y, left + x, L'·', ' ');
            }
        }
}
