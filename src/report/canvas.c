/* canvas: see canvas.h. */
#include "canvas.h"

#include <cairo-svg.h>
#include <cairo.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scalelab/figures.h"
#include "scalelab/numfmt.h"

#define SL_PI 3.14159265358979323846 /* M_PI is not C11 */

/* plot area and legend column, in figure coordinates */
enum { PX0 = 78, PX1 = 590, PY0 = 58, PY1 = 478, LX = 606 };

/* ---- growable byte buffer (cairo streams, SVG text layer) ------------------------- */

typedef struct {
    char *p;
    size_t len, cap;
} buf;

static void buf_put(buf *b, const void *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            abort();
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        buf_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void buf_xml(buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '<')
            buf_put(b, "&lt;", 4);
        else if (*s == '>')
            buf_put(b, "&gt;", 4);
        else if (*s == '&')
            buf_put(b, "&amp;", 5);
        else
            buf_put(b, s, 1);
    }
}

static cairo_status_t buf_write(void *closure, const unsigned char *data, unsigned int n)
{
    buf_put(closure, data, n);
    return CAIRO_STATUS_SUCCESS;
}

/* ---- series --------------------------------------------------------------------------- */

Series *Figure_addSeries(Figure *f, size_t cap, SeriesStyle st, const double rgb[3], const char *label)
{
    if (f->ns >= FIGURE_MAX_SERIES)
        return NULL;
    Series *s = &f->s[f->ns++];
    memset(s, 0, sizeof *s);
    s->x = sl_xcalloc(cap ? cap : 1, sizeof *s->x);
    s->y = sl_xcalloc(cap ? cap : 1, sizeof *s->y);
    if (st == SERIES_FIT) {
        s->lo = sl_xcalloc(cap ? cap : 1, sizeof *s->lo);
        s->hi = sl_xcalloc(cap ? cap : 1, sizeof *s->hi);
    }
    memcpy(s->rgb, rgb, sizeof s->rgb);
    s->st = st;
    snprintf(s->label, sizeof s->label, "%s", label ? label : "");
    return s;
}

void Figure_clear(Figure *f)
{
    for (int i = 0; i < f->ns; i++) {
        free(f->s[i].x);
        free(f->s[i].y);
        free(f->s[i].lo);
        free(f->s[i].hi);
    }
    f->ns = 0;
}

/* viridis, by anchors: runs ordered by size read from dark to light */
static void ramp_at(double t, double rgb[3])
{
    static const double a[5][3] = {{0.267, 0.005, 0.329}, {0.231, 0.322, 0.545},
                                   {0.129, 0.569, 0.549}, {0.369, 0.788, 0.384},
                                   {0.867, 0.812, 0.106}};
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double u = t * 4;
    int i = u >= 4 ? 3 : (int)u;
    double w = u - i;
    for (int k = 0; k < 3; k++)
        rgb[k] = a[i][k] * (1 - w) + a[i + 1][k] * w;
}

void Canvas_ramp(int i, int n, double rgb[3]) { ramp_at(n > 1 ? (double)i / (n - 1) * 0.92 : 0.3, rgb); }

const double CANVAS_BLACK[3] = {0.1, 0.1, 0.1}, CANVAS_RED[3] = {0.80, 0.15, 0.15},
                    CANVAS_BLUE[3] = {0.12, 0.35, 0.70}, CANVAS_ORANGE[3] = {0.90, 0.50, 0.05};

/* ---- axes ----------------------------------------------------------------------------- */

typedef struct {
    double lo, hi; /* log10 range */
} axis;

static int positive(double v) { return isfinite(v) && v > 0; }

static void axis_fit(const Figure *f, int want_y, axis *a)
{
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < f->ns; i++)
        for (size_t j = 0; j < f->s[i].n; j++) {
            double v = want_y ? f->s[i].y[j] : f->s[i].x[j];
            if (positive(v)) {
                lo = fmin(lo, log10(v));
                hi = fmax(hi, log10(v));
            }
        }
    if (!isfinite(lo)) {
        lo = 0;
        hi = 1;
    }
    if (hi - lo < 0.02) {
        lo -= 0.05;
        hi += 0.05;
    }
    double pad = 0.04 * (hi - lo);
    lo -= pad;
    hi += pad;
    /* the x axis shows a decade, so the figure can be read without the minor
     * labels; loss axes rarely span one and get labelled minor ticks */
    if (!want_y && !f->x_narrow && floor(hi) < ceil(lo))
        lo = floor(lo);
    a->lo = lo;
    a->hi = hi;
}

static double map_x(const axis *a, double v)
{
    return PX0 + (log10(v) - a->lo) / (a->hi - a->lo) * (PX1 - PX0);
}

static double map_y(const axis *a, double v)
{
    return PY1 - (log10(v) - a->lo) / (a->hi - a->lo) * (PY1 - PY0);
}

/* ---- text: drawn with cairo, and mirrored into an invisible SVG text layer so
 * that the labels of an SVG stay searchable and selectable (cairo draws glyphs) */

typedef struct {
    cairo_t *cr;
    buf *layer; /* NULL for PNG */
} canvas;

static void text_at(canvas *cv, double x, double y, double size, double anchor, int vertical,
                    const char *s)
{
    cairo_t *cr = cv->cr;
    cairo_set_font_size(cr, size);
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    cairo_save(cr);
    cairo_translate(cr, x, y);
    if (vertical)
        cairo_rotate(cr, -SL_PI / 2);
    cairo_move_to(cr, -anchor * e.x_advance, 0);
    cairo_show_text(cr, s);
    cairo_restore(cr);
    if (cv->layer) {
        const char *an = anchor < 0.25 ? "start" : anchor > 0.75 ? "end" : "middle";
        buf_printf(cv->layer, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%.1f\" text-anchor=\"%s\"", x, y,
                   size, an);
        if (vertical)
            buf_printf(cv->layer, " transform=\"rotate(-90 %.1f %.1f)\"", x, y);
        buf_put(cv->layer, ">", 1);
        buf_xml(cv->layer, s);
        buf_put(cv->layer, "</text>\n", 8);
    }
}

/* 10 with a raised exponent, centred (x axis) or right-aligned (y axis) at x */
static void decade_label(canvas *cv, double x, double y, int k, double anchor)
{
    cairo_t *cr = cv->cr;
    char ex[16];
    snprintf(ex, sizeof ex, "%d", k);
    cairo_text_extents_t e10, eex;
    cairo_set_font_size(cr, 12);
    cairo_text_extents(cr, "10", &e10);
    cairo_set_font_size(cr, 8.5);
    cairo_text_extents(cr, ex, &eex);
    double w = e10.x_advance + eex.x_advance, x0 = x - anchor * w;
    cairo_set_font_size(cr, 12);
    cairo_move_to(cr, x0, y);
    cairo_show_text(cr, "10");
    cairo_set_font_size(cr, 8.5);
    cairo_move_to(cr, x0 + e10.x_advance, y - 5);
    cairo_show_text(cr, ex);
    if (cv->layer)
        buf_printf(cv->layer,
                   "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">10<tspan baseline-shift=\"super\" "
                   "font-size=\"8.5\">%d</tspan></text>\n",
                   x0, y, k);
}

static void ticks(canvas *cv, const axis *a, int is_y)
{
    cairo_t *cr = cv->cr;
    int k0 = (int)floor(a->lo), k1 = (int)ceil(a->hi);
    int decades = 0;
    for (int k = k0; k <= k1; k++)
        decades += k >= a->lo && k <= a->hi;
    double span = a->hi - a->lo;
    for (int k = k0; k <= k1; k++)
        for (int m = 1; m <= 9; m++) {
            double lv = k + log10(m);
            if (lv < a->lo || lv > a->hi)
                continue;
            double v = pow(10, lv);
            double p = is_y ? map_y(a, v) : map_x(a, v);
            double len = m == 1 ? 7 : 4;
            cairo_set_source_rgb(cr, 0.92, 0.92, 0.92);
            cairo_set_line_width(cr, m == 1 ? 1.0 : 0.6);
            if (is_y) {
                cairo_move_to(cr, PX0, p);
                cairo_line_to(cr, PX1, p);
            } else {
                cairo_move_to(cr, p, PY0);
                cairo_line_to(cr, p, PY1);
            }
            cairo_stroke(cr);
            cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
            cairo_set_line_width(cr, m == 1 ? 1.2 : 0.8);
            if (is_y) {
                cairo_move_to(cr, PX0, p);
                cairo_line_to(cr, PX0 + len, p);
            } else {
                cairo_move_to(cr, p, PY1);
                cairo_line_to(cr, p, PY1 - len);
            }
            cairo_stroke(cr);
            if (m == 1) {
                if (is_y)
                    decade_label(cv, PX0 - 6, p + 4, k, 1);
                else
                    decade_label(cv, p, PY1 + 18, k, 0.5);
            } else if (decades < 2 && span >= 0.5 && (span < 0.8 || m == 2 || m == 3 || m == 5)) {
                /* under two decades the minor ticks carry the numbers */
                char s[32];
                sl_num_format(s, sizeof s, v, SL_NUM_SI);
                if (is_y)
                    text_at(cv, PX0 - 6, p + 4, 10, 1, 0, s);
                else
                    text_at(cv, p, PY1 + 16, 10, 0.5, 0, s);
            }
        }
    if (span >= 0.5)
        return;
    /* a narrow axis (loss often spans a factor of two) gets evenly spaced
     * labels between the minor ticks, at a 1-2-5 step */
    double v0 = pow(10, a->lo), v1 = pow(10, a->hi);
    double raw = (v1 - v0) / 5, mag = pow(10, floor(log10(raw)));
    double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
    for (double v = ceil(v0 / step) * step; v <= v1; v += step) {
        double lv = log10(v);
        if (fabs(lv - round(lv)) < 1e-9)
            continue; /* a decade: labelled above */
        double p = is_y ? map_y(a, v) : map_x(a, v);
        char s[32];
        sl_num_format(s, sizeof s, v, SL_NUM_SI);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        cairo_set_line_width(cr, 0.8);
        if (is_y) {
            cairo_move_to(cr, PX0, p);
            cairo_line_to(cr, PX0 + 4, p);
            cairo_stroke(cr);
            text_at(cv, PX0 - 6, p + 4, 10, 1, 0, s);
        } else {
            cairo_move_to(cr, p, PY1);
            cairo_line_to(cr, p, PY1 - 4);
            cairo_stroke(cr);
            text_at(cv, p, PY1 + 16, 10, 0.5, 0, s);
        }
    }
}

/* ---- drawing ----------------------------------------------------------------------------- */

static void draw_series(cairo_t *cr, const axis *ax, const axis *ay, const Series *s)
{
    if (s->st == SERIES_FIT && s->lo) {
        int open = 0;
        size_t first = 0;
        /* a draw-free x (NaN interval) is left out of both edges alike */
        for (size_t j = 0; j < s->n; j++)
            if (positive(s->hi[j]) && positive(s->lo[j])) {
                if (!open)
                    cairo_move_to(cr, map_x(ax, s->x[j]), map_y(ay, s->hi[j]));
                else
                    cairo_line_to(cr, map_x(ax, s->x[j]), map_y(ay, s->hi[j]));
                if (!open)
                    first = j;
                open = 1;
            }
        if (open) {
            for (size_t j = s->n; j-- > first;)
                if (positive(s->hi[j]) && positive(s->lo[j]))
                    cairo_line_to(cr, map_x(ax, s->x[j]), map_y(ay, s->lo[j]));
            cairo_close_path(cr);
            cairo_set_source_rgba(cr, s->rgb[0], s->rgb[1], s->rgb[2], 0.18);
            cairo_fill(cr);
        }
    }
    cairo_set_source_rgb(cr, s->rgb[0], s->rgb[1], s->rgb[2]);
    if (s->st == SERIES_MARK) {
        for (size_t j = 0; j < s->n; j++)
            if (positive(s->x[j]) && positive(s->y[j])) {
                cairo_new_sub_path(cr);
                cairo_arc(cr, map_x(ax, s->x[j]), map_y(ay, s->y[j]), s->mark > 0 ? s->mark : 4, 0,
                          2 * SL_PI);
            }
        cairo_fill(cr);
        return;
    }
    int pen = 0;
    for (size_t j = 0; j < s->n; j++) {
        if (!positive(s->x[j]) || !positive(s->y[j])) {
            pen = 0;
            continue;
        }
        if (pen)
            cairo_line_to(cr, map_x(ax, s->x[j]), map_y(ay, s->y[j]));
        else
            cairo_move_to(cr, map_x(ax, s->x[j]), map_y(ay, s->y[j]));
        pen = 1;
    }
    double dash[] = {7, 4};
    cairo_set_dash(cr, dash, s->st == SERIES_FIT ? 2 : 0, 0);
    cairo_set_line_width(cr, s->st == SERIES_FIT ? 2.0 : 1.4);
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
}

static void legend(canvas *cv, const Figure *f)
{
    cairo_t *cr = cv->cr;
    int n = 0;
    for (int i = 0; i < f->ns; i++)
        n += f->s[i].label[0] != 0;
    double step = n > 26 ? (double)(PY1 - PY0) / n : 16;
    double size = step < 12 ? step - 1 : 11;
    double y = PY0 + 8;
    for (int i = 0; i < f->ns; i++) {
        const Series *s = &f->s[i];
        if (!s->label[0])
            continue;
        cairo_set_source_rgb(cr, s->rgb[0], s->rgb[1], s->rgb[2]);
        if (s->st == SERIES_MARK) {
            cairo_arc(cr, LX + 10, y - 4, 3.5, 0, 2 * SL_PI);
            cairo_fill(cr);
        } else {
            double dash[] = {5, 3};
            cairo_set_dash(cr, dash, s->st == SERIES_FIT ? 2 : 0, 0);
            cairo_set_line_width(cr, 2);
            cairo_move_to(cr, LX, y - 4);
            cairo_line_to(cr, LX + 20, y - 4);
            cairo_stroke(cr);
            cairo_set_dash(cr, NULL, 0, 0);
        }
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        /* a long fit label wraps once at a space, then shrinks to the legend
         * column rather than leave the Figure */
        double room = SL_FIG_WIDTH - (LX + 26) - 6;
        char line[sizeof s->label];
        const char *rest = s->label;
        /* the SVG's searchable text keeps the whole label, at its first line */
        buf *layer = cv->layer;
        double y0 = y, fs0 = size;
        cv->layer = NULL;
        for (int wrapped = 0; *rest; wrapped++) {
            snprintf(line, sizeof line, "%s", rest);
            cairo_text_extents_t e;
            cairo_set_font_size(cr, size);
            cairo_text_extents(cr, line, &e);
            size_t cut = strlen(line);
            while (!wrapped && e.x_advance > room && cut > 0) {
                char *sp = NULL;
                for (size_t k = 1; k < cut; k++)
                    if (line[k] == ' ' && line[k + 1] != '[' && line[k - 1] != ',')
                        sp = &line[k];
                if (!sp)
                    break;
                cut = (size_t)(sp - line);
                *sp = 0;
                cairo_text_extents(cr, line, &e);
            }
            double fs = e.x_advance > room ? fmax(6.5, size * room / e.x_advance) : size;
            text_at(cv, LX + 26 + (wrapped ? 10 : 0), y, fs, 0, 0, line);
            if (!wrapped)
                fs0 = fs;
            rest += cut;
            while (*rest == ' ')
                rest++;
            y += step;
        }
        cv->layer = layer;
        if (layer) {
            buf_printf(layer, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%.1f\" text-anchor=\"start\">",
                       (double)(LX + 26), y0, fs0);
            buf_xml(layer, s->label);
            buf_put(layer, "</text>\n", 8);
        }
    }
}

static void draw(canvas *cv, const Figure *f)
{
    cairo_t *cr = cv->cr;
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    axis ax, ay;
    axis_fit(f, 0, &ax);
    axis_fit(f, 1, &ay);
    ticks(cv, &ax, 0);
    ticks(cv, &ay, 1);
    cairo_save(cr);
    cairo_rectangle(cr, PX0, PY0, PX1 - PX0, PY1 - PY0);
    cairo_clip(cr);
    /* fits under the points they describe */
    for (int pass = 0; pass < 3; pass++)
        for (int i = 0; i < f->ns; i++)
            if ((pass == 0 && f->s[i].st == SERIES_LINE) || (pass == 1 && f->s[i].st == SERIES_FIT) ||
                (pass == 2 && f->s[i].st == SERIES_MARK))
                draw_series(cr, &ax, &ay, &f->s[i]);
    cairo_restore(cr);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_set_line_width(cr, 1.2);
    cairo_rectangle(cr, PX0, PY0, PX1 - PX0, PY1 - PY0);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    text_at(cv, PX0, 24, 15, 0, 0, f->title);
    cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
    text_at(cv, PX0, 44, 10.5, 0, 0, f->subtitle);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    text_at(cv, (PX0 + PX1) / 2.0, PY1 + 44, 13, 0.5, 0, f->xlabel);
    text_at(cv, 24, (PY0 + PY1) / 2.0, 13, 0.5, 1, f->ylabel);
    legend(cv, f);
}

/* ---- output ------------------------------------------------------------------------------ */

int Figure_save(const Figure *f, const char *out, sl_error *err)
{
    char path[1200];
    buf svg = {0}, layer = {0}, png = {0};
    cairo_surface_t *s = cairo_svg_surface_create_for_stream(buf_write, &svg, SL_FIG_WIDTH, SL_FIG_HEIGHT);
    cairo_t *cr = cairo_create(s);
    canvas cv = {cr, &layer};
    draw(&cv, f);
    cairo_destroy(cr);
    cairo_surface_finish(s);
    int bad = cairo_surface_status(s) != CAIRO_STATUS_SUCCESS;
    cairo_surface_destroy(s);
    int rc = SL_OK;
    char *end = svg.p ? strstr(svg.p, "</svg>") : NULL;
    if (bad || !end) {
        rc = sl_fail(err, SL_ERUNTIME, "%s/%s.svg: cairo could not draw the figure", out, f->name);
        goto done;
    }
    /* the text layer goes last, above the glyphs, fully transparent */
    buf whole = {0};
    buf_put(&whole, svg.p, (size_t)(end - svg.p));
    buf_printf(&whole, "<g id=\"labels\" fill-opacity=\"0\" font-family=\"DejaVu Sans, sans-serif\">\n");
    if (layer.p)
        buf_put(&whole, layer.p, layer.len);
    buf_printf(&whole, "</g>\n%s", end);
    snprintf(path, sizeof path, "%s/%s.svg", out, f->name);
    rc = sl_write_atomic(path, whole.p, whole.len, err);
    free(whole.p);
    if (rc)
        goto done;

    s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, SL_FIG_WIDTH, SL_FIG_HEIGHT);
    cr = cairo_create(s);
    cv = (canvas){cr, NULL};
    draw(&cv, f);
    cairo_destroy(cr);
    bad = cairo_surface_write_to_png_stream(s, buf_write, &png) != CAIRO_STATUS_SUCCESS;
    cairo_surface_destroy(s);
    snprintf(path, sizeof path, "%s/%s.png", out, f->name);
    if (bad || !png.p)
        rc = sl_fail(err, SL_ERUNTIME, "%s: cairo could not encode the PNG", path);
    else
        rc = sl_write_atomic(path, png.p, png.len, err);
done:
    free(svg.p);
    free(layer.p);
    free(png.p);
    return rc;
}

void Series_dropBand(Series *s)
{
    free(s->lo);
    free(s->hi);
    s->lo = s->hi = NULL;
}

void Canvas_release(void)
{
    /* cairo keeps its font faces (and fontconfig patterns) cached until exit;
     * nothing else in scalelab draws with cairo, so they can go now, and a
     * leak checker then sees a clean exit */
    cairo_debug_reset_static_data();
}
