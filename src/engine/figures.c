/* figures: a run store drawn as the paper's figures, SVG and PNG through cairo.
 * Learning curves against tokens and compute, the law plot the sweep kind implies,
 * each fitted law with its bootstrap band. Reads the store, fits in-process. */
#include <cairo-svg.h>
#include <cairo.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scalelab/csv.h"
#include "scalelab/figures.h"
#include "scalelab/fit.h"
#include "scalelab/model.h"
#include "scalelab/preset.h"
#include "scalelab/store.h"

#define SL_PI 3.14159265358979323846 /* M_PI is not C11 */
#define MAX_SERIES 64
#define FIT_GRID 80
#define BOOTSTRAP 200

/* plot area and legend column, in figure coordinates */
enum { PX0 = 78, PX1 = 590, PY0 = 58, PY1 = 478, LX = 606 };

typedef enum { ST_LINE, ST_MARK, ST_FIT } style;

typedef struct {
    double *x, *y, *lo, *hi; /* owned; lo/hi only for fits with a band */
    size_t n;
    double rgb[3];
    style st;
    double mark;    /* ST_MARK radius; 0: 4 */
    char label[96]; /* legend entry; empty: none */
} series;

typedef struct {
    char name[32], title[256], subtitle[256], xlabel[96], ylabel[96];
    int x_narrow; /* the x axis keeps to the data (a loss axis), without a whole decade */
    series s[MAX_SERIES];
    int ns;
} figure;

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

static series *add_series(figure *f, size_t cap, style st, const double rgb[3], const char *label)
{
    if (f->ns >= MAX_SERIES)
        return NULL;
    series *s = &f->s[f->ns++];
    memset(s, 0, sizeof *s);
    s->x = sl_xcalloc(cap ? cap : 1, sizeof *s->x);
    s->y = sl_xcalloc(cap ? cap : 1, sizeof *s->y);
    if (st == ST_FIT) {
        s->lo = sl_xcalloc(cap ? cap : 1, sizeof *s->lo);
        s->hi = sl_xcalloc(cap ? cap : 1, sizeof *s->hi);
    }
    memcpy(s->rgb, rgb, sizeof s->rgb);
    s->st = st;
    snprintf(s->label, sizeof s->label, "%s", label ? label : "");
    return s;
}

static void figure_free(figure *f)
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
static void ramp(double t, double rgb[3])
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

static void ramp_of(int i, int n, double rgb[3]) { ramp(n > 1 ? (double)i / (n - 1) * 0.92 : 0.3, rgb); }

static const double BLACK[3] = {0.1, 0.1, 0.1}, RED[3] = {0.80, 0.15, 0.15},
                    BLUE[3] = {0.12, 0.35, 0.70}, ORANGE[3] = {0.90, 0.50, 0.05};

/* ---- axes ----------------------------------------------------------------------------- */

typedef struct {
    double lo, hi; /* log10 range */
} axis;

static int positive(double v) { return isfinite(v) && v > 0; }

static void axis_fit(const figure *f, int want_y, axis *a)
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

/* a minor tick's number: 500k, 2M, 200G read better than 5e+05 */
static void tick_number(char *s, size_t len, double v)
{
    static const char si[] = "kMGTPE";
    int k = 0;
    double x = v;
    while (x >= 999.5 && k < 6) {
        x /= 1000;
        k++;
    }
    if (k)
        snprintf(s, len, "%.3g%c", x, si[k - 1]);
    else
        snprintf(s, len, "%.3g", v);
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
                tick_number(s, sizeof s, v);
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
        tick_number(s, sizeof s, v);
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

static void draw_series(cairo_t *cr, const axis *ax, const axis *ay, const series *s)
{
    if (s->st == ST_FIT && s->lo) {
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
    if (s->st == ST_MARK) {
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
    cairo_set_dash(cr, dash, s->st == ST_FIT ? 2 : 0, 0);
    cairo_set_line_width(cr, s->st == ST_FIT ? 2.0 : 1.4);
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
}

static void legend(canvas *cv, const figure *f)
{
    cairo_t *cr = cv->cr;
    int n = 0;
    for (int i = 0; i < f->ns; i++)
        n += f->s[i].label[0] != 0;
    double step = n > 26 ? (double)(PY1 - PY0) / n : 16;
    double size = step < 12 ? step - 1 : 11;
    double y = PY0 + 8;
    for (int i = 0; i < f->ns; i++) {
        const series *s = &f->s[i];
        if (!s->label[0])
            continue;
        cairo_set_source_rgb(cr, s->rgb[0], s->rgb[1], s->rgb[2]);
        if (s->st == ST_MARK) {
            cairo_arc(cr, LX + 10, y - 4, 3.5, 0, 2 * SL_PI);
            cairo_fill(cr);
        } else {
            double dash[] = {5, 3};
            cairo_set_dash(cr, dash, s->st == ST_FIT ? 2 : 0, 0);
            cairo_set_line_width(cr, 2);
            cairo_move_to(cr, LX, y - 4);
            cairo_line_to(cr, LX + 20, y - 4);
            cairo_stroke(cr);
            cairo_set_dash(cr, NULL, 0, 0);
        }
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        /* a long fit label wraps once at a space, then shrinks to the legend
         * column rather than leave the figure */
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

static void draw(canvas *cv, const figure *f)
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
            if ((pass == 0 && f->s[i].st == ST_LINE) || (pass == 1 && f->s[i].st == ST_FIT) ||
                (pass == 2 && f->s[i].st == ST_MARK))
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

static int save_figure(const figure *f, const char *out, sl_error *err)
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

/* ---- fits ----------------------------------------------------------------------------------- */

static size_t best_row(const sl_store_run *r)
{
    size_t best = 0;
    for (size_t j = 1; j < r->n_rows; j++)
        if (r->rows[j].test_loss < r->rows[best].test_loss)
            best = j;
    return best;
}

/* The bootstrap resamples by run id; hashed as `scalelab fit` does, so that a
 * figure's intervals are the CLI's for the same seed. */
static long run_id(const sl_store_run *r)
{
    return (long)(sl_fnv1a(SL_FNV_INIT, r->spec.id, strlen(r->spec.id)) & (uint64_t)LONG_MAX);
}

/* One point per finished run at its best test loss, as `scalelab fit DIR` takes
 * them (store.c); transfer: the second corpus's loss at that row instead.
 * idx (may be NULL) gets each point's run index. */
static size_t run_points(const sl_store_run *runs, int n, int transfer, sl_fit_point *p, int *idx)
{
    size_t m = 0;
    for (int i = 0; i < n; i++) {
        const sl_store_run *r = &runs[i];
        if (strcmp(r->status.state, "done") || !r->n_rows || (transfer && !r->extra))
            continue;
        size_t b = best_row(r);
        const sl_metric_row *row = &r->rows[b];
        double loss = transfer ? r->extra[b] : row->test_loss;
        if (row->step <= 0 || !positive(loss))
            continue;
        double dl = (double)r->spec.train.data_limit;
        p[m++] = (sl_fit_point){.n = sl_model_counts(&r->spec.train.model).n_kaplan,
                                .d = dl > 0 ? dl : row->tokens,
                                .c = row->flops,
                                .s = (double)row->step,
                                .b = (double)r->spec.train.batch * r->spec.train.model.n_ctx,
                                .loss = loss,
                                .run = run_id(r)};
        if (idx)
            idx[m - 1] = i;
    }
    return m;
}

static int fit(sl_fit_law law, const sl_fit_point *p, size_t n, sl_fit_result *r)
{
    sl_fit_options o;
    sl_fit_options_default(&o);
    o.bootstrap = BOOTSTRAP;
    o.seed = 1;
    sl_error e;
    memset(r, 0, sizeof *r);
    if (sl_fit(law, p, n, &o, r, &e) != SL_OK)
        return 0;
    if (!r->converged) {
        sl_fit_result_free(r);
        return 0;
    }
    return 1;
}

/* "power-n: alpha = 0.081 [0.070, 0.093]": the exponents, which transfer
 * between setups (the scales do not) */
static void fit_label(const sl_fit_result *r, char *s, size_t len)
{
    int o = snprintf(s, len, "%s:", sl_fit_law_name(r->law));
    int shown = 0;
    for (int k = 0; k < r->n_params && o < (int)len; k++) {
        const char *nm = r->names[k];
        if (strncmp(nm, "alpha", 5) && strncmp(nm, "beta", 4) && strcmp(nm, "a") && strcmp(nm, "E"))
            continue;
        if (shown++ == 2)
            break;
        if (isfinite(r->ci_low[k]))
            o += snprintf(s + o, len - o, " %s %.3g [%.3g, %.3g]", nm, r->value[k], r->ci_low[k],
                          r->ci_high[k]);
        else
            o += snprintf(s + o, len - o, " %s %.3g", nm, r->value[k]);
    }
}

/* The fitted curve over [x0, x1] (log-spaced), the point at each x from base
 * with the field `axis` ('n', 'd', 'c', or 'l' for the loss) set; iso > 0:
 * d = iso/(6N). The curve is the law's own quantity (B_crit for bcrit). */
static void fit_curve(figure *f, const sl_fit_result *r, const sl_fit_point *base, char axis_name,
                      double x0, double x1, double iso, const double rgb[3], const char *label)
{
    series *s = add_series(f, FIT_GRID, ST_FIT, rgb, label);
    if (!s)
        return;
    for (int i = 0; i < FIT_GRID; i++) {
        double x = x0 * pow(x1 / x0, (double)i / (FIT_GRID - 1));
        sl_fit_point q = *base;
        if (axis_name == 'n')
            q.n = x;
        else if (axis_name == 'd')
            q.d = x;
        else if (axis_name == 'l')
            q.loss = x;
        else
            q.c = x;
        if (iso > 0)
            q.d = iso / (6 * q.n);
        if (q.n > 0 && q.d > 0)
            q.c = 6 * q.n * q.d;
        double v, lo, hi;
        if (sl_fit_predict(r, sl_fit_law_quantity(r->law), &q, &v, &lo, &hi) != SL_OK)
            v = lo = hi = NAN;
        s->x[s->n] = x;
        s->y[s->n] = v;
        s->lo[s->n] = lo;
        s->hi[s->n] = hi;
        s->n++;
    }
}

static void range_of(const sl_fit_point *p, size_t n, char axis_name, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double v = axis_name == 'n' ? p[i].n : axis_name == 'd' ? p[i].d : p[i].c;
        *lo = fmin(*lo, v);
        *hi = fmax(*hi, v);
    }
    *lo /= 1.5;
    *hi *= 1.5;
}

/* The law the preset asks for among the candidates, else the first candidate. */
static sl_fit_law pick_law(const sl_preset *p, const char *const *cands)
{
    for (int i = 0; i < p->n_laws; i++)
        for (int k = 0; cands[k]; k++)
            if (!strcmp(p->laws[i], cands[k]))
                return (sl_fit_law)sl_fit_law_from_name(cands[k]);
    return (sl_fit_law)sl_fit_law_from_name(cands[0]);
}

/* ---- the figures -------------------------------------------------------------------------- */

static void begin(figure *f, const sl_preset *p, const char *name, const char *what, const char *xl)
{
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    snprintf(f->title, sizeof f->title, "%s: %s", p->name, what);
    snprintf(f->subtitle, sizeof f->subtitle, "%s", p->figure);
    snprintf(f->xlabel, sizeof f->xlabel, "%s", xl);
    snprintf(f->ylabel, sizeof f->ylabel, "test loss (nats per token)");
}

static void curves(figure *f, const sl_store_run *runs, int n, int compute)
{
    for (int i = 0; i < n; i++) {
        const sl_store_run *r = &runs[i];
        double rgb[3];
        ramp_of(i, n, rgb);
        char label[96];
        snprintf(label, sizeof label, "%s  N %.2g", r->spec.id, sl_model_counts(&r->spec.train.model).n_kaplan);
        series *s = add_series(f, r->n_rows, ST_LINE, rgb, n <= 40 ? label : "");
        if (!s)
            return;
        for (size_t j = 0; j < r->n_rows; j++) {
            if (r->rows[j].step <= 0)
                continue;
            s->x[s->n] = compute ? r->rows[j].flops : r->rows[j].tokens;
            s->y[s->n++] = r->rows[j].test_loss;
        }
    }
}

/* L(C_min): the frontier of every learning curve, as Kaplan's Figure 1 (left) */
static void frontier(figure *f, const sl_store_run *runs, int n)
{
    size_t cap = 0;
    for (int i = 0; i < n; i++)
        cap += runs[i].n_rows;
    sl_fit_point *p = sl_xcalloc(cap ? cap : 1, sizeof *p);
    size_t m = 0;
    for (int i = 0; i < n; i++)
        for (size_t j = 0; j < runs[i].n_rows; j++) {
            const sl_metric_row *row = &runs[i].rows[j];
            if (row->step > 0 && positive(row->test_loss) && positive(row->flops))
                p[m++] = (sl_fit_point){.n = sl_model_counts(&runs[i].spec.train.model).n_kaplan,
                                        .d = row->tokens,
                                        .c = row->flops,
                                        .s = (double)row->step,
                                        .b = (double)runs[i].spec.train.batch * runs[i].spec.train.model.n_ctx,
                                        .loss = row->test_loss,
                                        .run = run_id(&runs[i])};
        }
    sl_fit_result r;
    if (m >= 3 && fit(SL_LAW_CMIN, p, m, &r)) {
        char label[96];
        fit_label(&r, label, sizeof label);
        double lo, hi;
        range_of(p, m, 'c', &lo, &hi);
        sl_fit_point base = {0};
        fit_curve(f, &r, &base, 'c', lo * 1.5, hi / 1.5, 0, BLACK, label);
        sl_fit_result_free(&r);
    }
    free(p);
}

static void law_points(figure *f, const sl_fit_point *p, size_t m, char axis_name, const double rgb[3],
                       const char *label)
{
    series *s = add_series(f, m, ST_MARK, rgb, label);
    for (size_t i = 0; s && i < m; i++) {
        s->x[s->n] = axis_name == 'n' ? p[i].n : axis_name == 'd' ? p[i].d : p[i].c;
        s->y[s->n++] = p[i].loss;
    }
}

/* L(N) (and, with a second corpus, the transfer loss beside it) */
static void law_n(figure *f, const sl_preset *pr, const sl_store_run *runs, int n)
{
    static const char *const cands[] = {"power-n", "offset-n", NULL};
    sl_fit_law law = pick_law(pr, cands);
    sl_fit_point *p = sl_xcalloc((size_t)n + 1, sizeof *p);
    for (int transfer = 0; transfer < 2; transfer++) {
        size_t m = run_points(runs, n, transfer, p, NULL);
        if (!m)
            continue;
        const double *rgb = transfer ? ORANGE : BLUE;
        law_points(f, p, m, 'n', rgb, transfer ? "second corpus (transfer_loss)" : "runs, best test loss");
        sl_fit_result r;
        if (m >= 3 && fit(law, p, m, &r)) {
            char label[96];
            fit_label(&r, label, sizeof label);
            double lo, hi;
            range_of(p, m, 'n', &lo, &hi);
            fit_curve(f, &r, &p[0], 'n', lo, hi, 0, transfer ? ORANGE : RED, label);
            sl_fit_result_free(&r);
        }
    }
    free(p);
}

static int same_n(double a, double b) { return fabs(a - b) < 1e-9 * b; }

/* The distinct N of the points, in order of appearance, at most MAX_SERIES/2. */
static int distinct_n(const sl_fit_point *p, size_t m, double ns[MAX_SERIES / 2])
{
    int k = 0;
    for (size_t i = 0; i < m; i++) {
        int seen = 0;
        for (int j = 0; j < k; j++)
            seen |= same_n(ns[j], p[i].n);
        if (!seen && k < MAX_SERIES / 2)
            ns[k++] = p[i].n;
    }
    return k;
}

/* L(D) for one model size; L(N, D) (Kaplan eq 1.5) for several */
static void law_nd(figure *f, const sl_preset *pr, const sl_store_run *runs, int n, int one_n)
{
    sl_fit_point *p = sl_xcalloc((size_t)n + 1, sizeof *p);
    size_t m = run_points(runs, n, 0, p, NULL);
    if (one_n) {
        static const char *const cands[] = {"power-d", "offset-d", NULL};
        law_points(f, p, m, 'd', BLUE, "runs, early-stopped best test loss");
        sl_fit_result r;
        if (m >= 3 && fit(pick_law(pr, cands), p, m, &r)) {
            char label[96];
            fit_label(&r, label, sizeof label);
            double lo, hi;
            range_of(p, m, 'd', &lo, &hi);
            fit_curve(f, &r, &p[0], 'd', lo, hi, 0, RED, label);
            sl_fit_result_free(&r);
        }
        free(p);
        return;
    }
    /* one colour per N */
    double ns[MAX_SERIES / 2];
    int k = distinct_n(p, m, ns);
    sl_fit_result r;
    int ok = m >= 5 && fit(SL_LAW_KAPLAN_ND, p, m, &r);
    sl_fit_point *q = sl_xcalloc(m + 1, sizeof *q);
    for (int j = 0; j < k; j++) {
        size_t mq = 0;
        for (size_t i = 0; i < m; i++)
            if (same_n(ns[j], p[i].n))
                q[mq++] = p[i];
        double rgb[3];
        ramp_of(j, k, rgb);
        char label[96];
        snprintf(label, sizeof label, "N = %.2g", ns[j]);
        law_points(f, q, mq, 'd', rgb, label);
        if (ok) {
            double lo, hi;
            range_of(p, m, 'd', &lo, &hi);
            char fl[96] = "";
            if (j == 0)
                fit_label(&r, fl, sizeof fl);
            fit_curve(f, &r, &q[0], 'd', lo, hi, 0, rgb, fl);
        }
    }
    if (ok)
        sl_fit_result_free(&r);
    free(q);
    free(p);
}

/* IsoFLOP profiles: loss against N at each budget, with the approach-3 law through them */
static void law_isoflop(figure *f, const sl_store_run *runs, int n)
{
    sl_fit_point *p = sl_xcalloc((size_t)n + 1, sizeof *p);
    int *idx = sl_xcalloc((size_t)n + 1, sizeof *idx);
    size_t m = run_points(runs, n, 0, p, idx);
    sl_fit_result r;
    int ok = m >= 6 && fit(SL_LAW_CHINCHILLA, p, m, &r);
    double budgets[MAX_SERIES];
    int k = 0;
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int j = 0; j < k; j++)
            seen |= budgets[j] == runs[i].spec.budget;
        if (!seen && k < MAX_SERIES / 2 && runs[i].spec.budget > 0)
            budgets[k++] = runs[i].spec.budget;
    }
    sl_fit_point *q = sl_xcalloc(m + 1, sizeof *q);
    for (int j = 0; j < k; j++) {
        size_t mq = 0;
        for (size_t i = 0; i < m; i++)
            if (runs[idx[i]].spec.budget == budgets[j])
                q[mq++] = p[i];
        if (!mq)
            continue;
        double rgb[3];
        ramp_of(j, k, rgb);
        char label[96];
        snprintf(label, sizeof label, "C = %.2g FLOP", budgets[j]);
        law_points(f, q, mq, 'n', rgb, label);
        if (ok) {
            double lo, hi;
            range_of(q, mq, 'n', &lo, &hi);
            char fl[96] = "";
            if (j == 0)
                fit_label(&r, fl, sizeof fl);
            fit_curve(f, &r, &q[0], 'n', lo, hi, budgets[j], rgb, fl);
        }
    }
    if (ok)
        sl_fit_result_free(&r);
    free(q);
    free(idx);
    free(p);
}

/* B_crit(L) (Kaplan Figure 10, section 5.1): every metric row that measured the
 * gradient noise scale B_simple, against its test loss, one colour per run, as
 * `scalelab fit DIR --law bcrit` takes them (store.c), with the bcrit law. */
static void law_bcrit(figure *f, const sl_store_run *runs, int n)
{
    size_t cap = 0;
    int with = 0;
    for (int i = 0; i < n; i++) {
        int has = 0;
        for (size_t j = 0; j < runs[i].n_rows; j++) {
            const sl_metric_row *row = &runs[i].rows[j];
            has |= row->step > 0 && positive(row->test_loss) && positive(row->noise_scale);
        }
        with += has;
        cap += runs[i].n_rows;
    }
    sl_fit_point *p = sl_xcalloc(cap ? cap : 1, sizeof *p);
    size_t m = 0;
    int c = 0;
    for (int i = 0; i < n; i++) {
        size_t first = m;
        for (size_t j = 0; j < runs[i].n_rows; j++) {
            const sl_metric_row *row = &runs[i].rows[j];
            if (row->step > 0 && positive(row->test_loss) && positive(row->noise_scale))
                p[m++] = (sl_fit_point){.bcrit = row->noise_scale, .loss = row->test_loss,
                                        .run = run_id(&runs[i])};
        }
        if (m == first)
            continue;
        double rgb[3];
        ramp_of(c++, with, rgb);
        series *s = add_series(f, m - first, ST_MARK, rgb, with <= 40 ? runs[i].spec.id : "");
        for (size_t j = first; s && j < m; j++) {
            s->x[s->n] = p[j].loss;
            s->y[s->n++] = p[j].bcrit;
        }
        if (s && m - first > 20)
            s->mark = 2.5;
    }
    sl_fit_result r;
    if (m >= 3 && fit(SL_LAW_BCRIT, p, m, &r)) {
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < m; i++) {
            lo = fmin(lo, p[i].loss);
            hi = fmax(hi, p[i].loss);
        }
        char label[96];
        fit_label(&r, label, sizeof label);
        sl_fit_point base = {0};
        fit_curve(f, &r, &base, 'l', lo / 1.02, hi * 1.02, 0, RED, label);
        sl_fit_result_free(&r);
    }
    free(p);
}

/* Loss against the aspect ratio d_model/n_layer at fixed N (Kaplan Figure 5):
 * each done run's best test loss, joined per N target (one colour each); no
 * law, as the shape barely matters. */
static void law_shape(figure *f, const sl_store_run *runs, int n)
{
    sl_fit_point *p = sl_xcalloc((size_t)n + 1, sizeof *p);
    int *idx = sl_xcalloc((size_t)n + 1, sizeof *idx);
    size_t m = run_points(runs, n, 0, p, idx);
    double targets[MAX_SERIES / 2];
    int k = 0;
    for (size_t i = 0; i < m; i++) {
        double t = runs[idx[i]].spec.n_target;
        int seen = 0;
        for (int j = 0; j < k; j++)
            seen |= targets[j] == t;
        if (!seen && k < MAX_SERIES / 2)
            targets[k++] = t;
    }
    for (int j = 0; j < k; j++) {
        double rgb[3];
        ramp_of(j, k, rgb);
        char label[96];
        if (targets[j] > 0)
            snprintf(label, sizeof label, "N = %.2g", targets[j]);
        else
            snprintf(label, sizeof label, "explicit shapes");
        series *line = add_series(f, m, ST_LINE, rgb, "");
        series *mark = add_series(f, m, ST_MARK, rgb, label);
        if (!line || !mark)
            break;
        for (size_t i = 0; i < m; i++) {
            if (runs[idx[i]].spec.n_target != targets[j])
                continue;
            const sl_config *c = &runs[idx[i]].spec.train.model;
            double a = (double)c->d_model / c->n_layer;
            /* in order of aspect, so the line runs left to right */
            size_t at = line->n;
            while (at > 0 && line->x[at - 1] > a) {
                line->x[at] = line->x[at - 1];
                line->y[at] = line->y[at - 1];
                at--;
            }
            line->x[at] = a;
            line->y[at] = p[i].loss;
            line->n++;
            mark->x[mark->n] = a;
            mark->y[mark->n++] = p[i].loss;
        }
    }
    free(idx);
    free(p);
}

/* A fitted line drawn without its band. */
static void drop_band(series *s)
{
    free(s->lo);
    free(s->hi);
    s->lo = s->hi = NULL;
}

/* Overfitting (Kaplan Figure 9, right): each run's dL = L/L(N, inf) - 1 against
 * N^(alpha_N/alpha_D)/D, with L(N, inf) = (N_c/N)^alpha_N from the kaplan-nd
 * fit of law-nd, one colour per N; the law's dL(x) is one curve for every N.
 * It is drawn without a band: every bootstrap draw has its own
 * alpha_N/alpha_D and so its own x, so the draws give no interval for a curve
 * in this fit's x. A run at or below L(N, inf) has no place on a log axis and
 * is counted in the title. */
static void overfit(figure *f, const sl_store_run *runs, int n)
{
    sl_fit_point *p = sl_xcalloc((size_t)n + 1, sizeof *p);
    size_t m = run_points(runs, n, 0, p, NULL);
    sl_fit_result r;
    if (m < 5 || !fit(SL_LAW_KAPLAN_ND, p, m, &r)) {
        free(p);
        return;
    }
    const double *v = r.value; /* alpha_N, alpha_D, N_c, D_c */
    double ratio = v[0] / v[1], ns[MAX_SERIES / 2], x0 = INFINITY, x1 = -INFINITY;
    int k = distinct_n(p, m, ns);
    size_t shown = 0;
    for (int j = 0; j < k; j++) {
        double rgb[3];
        ramp_of(j, k, rgb);
        char label[96];
        snprintf(label, sizeof label, "N = %.2g", ns[j]);
        series *s = add_series(f, m, ST_MARK, rgb, label);
        for (size_t i = 0; s && i < m; i++) {
            if (!same_n(ns[j], p[i].n))
                continue;
            double x = exp(ratio * log(p[i].n) - log(p[i].d));
            double dl = p[i].loss / pow(v[2] / p[i].n, v[0]) - 1;
            if (!positive(x) || !positive(dl))
                continue;
            s->x[s->n] = x;
            s->y[s->n++] = dl;
            x0 = fmin(x0, x);
            x1 = fmax(x1, x);
            shown++;
        }
    }
    snprintf(f->xlabel, sizeof f->xlabel, "N^(α_N/α_D) / D,  α_N/α_D = %.3g", ratio);
    if (shown < m) {
        size_t len = strlen(f->title);
        snprintf(f->title + len, sizeof f->title - len, " (%zu of %zu runs at L ≤ L(N, ∞) not shown)",
                 m - shown, m);
    }
    char label[96];
    fit_label(&r, label, sizeof label);
    series *s = shown ? add_series(f, FIT_GRID, ST_FIT, RED, label) : NULL;
    if (s)
        drop_band(s);
    for (int i = 0; s && i < FIT_GRID; i++) {
        double x = x0 / 1.5 * pow(x1 / x0 * 2.25, (double)i / (FIT_GRID - 1));
        s->x[s->n] = x;
        s->y[s->n++] = sl_fit_overfit_dl(&r, 1, 1 / x); /* N = 1, D = 1/x */
    }
    sl_fit_result_free(&r);
    free(p);
}

/* Per-position test loss (Kaplan Figure 20): RUN/context.csv of each run that
 * wrote one, against the position T, with the offset-n law L = E + (T_c/T)^c
 * fitted to that run's positions as `scalelab fit RUN/context.csv --law
 * offset-n --n position --loss test_loss` fits it. */
static void context(figure *f, const char *sweep_dir, const sl_store_run *runs, int n)
{
    int with = 0;
    char path[1400];
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s/context.csv", sweep_dir, runs[i].spec.id);
        with += access(path, R_OK) == 0;
    }
    for (int i = 0, c = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s/context.csv", sweep_dir, runs[i].spec.id);
        sl_csv t;
        sl_error e;
        if (access(path, R_OK) != 0 || sl_csv_read(path, &t, &e) != SL_OK)
            continue;
        int cp = sl_csv_column(&t, "position"), cl = sl_csv_column(&t, "test_loss");
        sl_fit_point *p = sl_xcalloc(t.n_rows + 1, sizeof *p);
        size_t m = 0;
        for (size_t j = 0; cp >= 0 && cl >= 0 && j < t.n_rows; j++) {
            char *e1, *e2;
            const char *sp = sl_csv_cell(&t, j, (size_t)cp), *sv = sl_csv_cell(&t, j, (size_t)cl);
            double pos = strtod(sp, &e1), loss = strtod(sv, &e2);
            if (e1 != sp && e2 != sv && positive(pos) && positive(loss))
                p[m++] = (sl_fit_point){.n = pos, .loss = loss, .run = -1};
        }
        sl_csv_free(&t);
        double rgb[3];
        ramp_of(c++, with, rgb);
        char label[96];
        snprintf(label, sizeof label, "%s  N %.2g", runs[i].spec.id,
                 sl_model_counts(&runs[i].spec.train.model).n_kaplan);
        series *s = m ? add_series(f, m, ST_LINE, rgb, label) : NULL;
        for (size_t j = 0; s && j < m; j++) {
            s->x[s->n] = p[j].n;
            s->y[s->n++] = p[j].loss;
        }
        double t0 = INFINITY, t1 = -INFINITY;
        for (size_t j = 0; j < m; j++) {
            t0 = fmin(t0, p[j].n);
            t1 = fmax(t1, p[j].n);
        }
        sl_fit_result r;
        if (s && m >= 4 && t1 > t0 && fit(SL_LAW_OFFSET_N, p, m, &r)) {
            /* offset-n's parameters: E, alpha, N_c; alpha is Kaplan's c */
            if (isfinite(r.ci_low[1]))
                snprintf(label, sizeof label, "  offset-n: alpha (c) %.3g [%.3g, %.3g]", r.value[1],
                         r.ci_low[1], r.ci_high[1]);
            else
                snprintf(label, sizeof label, "  offset-n: alpha (c) %.3g", r.value[1]);
            int before = f->ns;
            fit_curve(f, &r, &p[0], 'n', t0, t1, 0, rgb, label);
            if (f->ns > before) /* one band per run covers the others: the legend has the intervals */
                drop_band(&f->s[f->ns - 1]);
            sl_fit_result_free(&r);
        }
        free(p);
    }
}

static int out_dir_ok(const char *out, sl_error *err)
{
    sl_error e;
    struct stat st;
    if (sl_mkdirs(out, &e) != SL_OK || stat(out, &st) != 0 || !S_ISDIR(st.st_mode))
        return sl_fail(err, SL_EINPUT, "%s:--plots: cannot create the directory (expected a writable directory)",
                       out);
    return SL_OK;
}

int sl_figures_write(const char *sweep_dir, const char *out_dir, int *n_figures, sl_error *err)
{
    *n_figures = 0;
    char *json = NULL;
    int rc = sl_sweep_read(sweep_dir, &json, err);
    if (rc)
        return rc;
    sl_preset pr;
    memset(&pr, 0, sizeof pr);
    char path[1200];
    snprintf(path, sizeof path, "%s/sweep.json", sweep_dir);
    rc = sl_preset_parse(&pr, json, path, err);
    free(json);
    if (rc)
        return rc;
    sl_store_run *runs = NULL;
    int n = 0;
    if ((rc = sl_store_load(sweep_dir, &runs, &n, err))) {
        sl_preset_free(&pr);
        return rc;
    }
    if ((rc = out_dir_ok(out_dir, err))) {
        sl_store_free_runs(runs, n);
        sl_preset_free(&pr);
        return rc;
    }
    int one_n = 1;
    for (int i = 1; i < n; i++)
        one_n &= runs[i].spec.n_target == runs[0].spec.n_target;
    figure *f = sl_xcalloc(1, sizeof *f); /* ~20 kB: not on the stack */
    for (int which = 0; which < 6 && rc == SL_OK; which++) {
        if (which == 0) {
            begin(f, &pr, "curves-tokens", "learning curves against tokens", "tokens D");
            curves(f, runs, n, 0);
        } else if (which == 1) {
            begin(f, &pr, "curves-compute", "learning curves against compute, with the L(C_min) frontier",
                  "compute C (FLOP, 6N + attention per token)");
            curves(f, runs, n, 1);
            frontier(f, runs, n);
        } else if (which == 2 && pr.kind == SL_SWEEP_N) {
            begin(f, &pr, "law-n", "L(N), loss against model size", "non-embedding parameters N");
            law_n(f, &pr, runs, n);
        } else if (which == 2 && pr.kind == SL_SWEEP_ND) {
            begin(f, &pr, one_n ? "law-d" : "law-nd",
                  one_n ? "L(D), loss against data" : "L(N, D), loss against data per model size",
                  "training tokens D (data limit)");
            law_nd(f, &pr, runs, n, one_n);
        } else if (which == 2 && pr.kind == SL_SWEEP_ISOFLOP) {
            begin(f, &pr, "law-isoflop", "IsoFLOP profiles, loss against N at fixed compute",
                  "non-embedding parameters N");
            law_isoflop(f, runs, n);
        } else if (which == 2 && pr.kind == SL_SWEEP_SHAPE) {
            begin(f, &pr, "law-shape", "loss against the aspect ratio at fixed N (no law fitted)",
                  "aspect ratio d_model / n_layer");
            law_shape(f, runs, n);
        } else if (which == 3) {
            /* any sweep kind: runs on two or more threads measure the noise scale */
            begin(f, &pr, "law-bcrit", "B_crit(L), gradient noise scale against loss",
                  "test loss L (nats per token)");
            snprintf(f->ylabel, sizeof f->ylabel, "noise scale B_simple (tokens)");
            f->x_narrow = 1;
            law_bcrit(f, runs, n);
        } else if (which == 4 && pr.kind == SL_SWEEP_ND && !one_n) {
            begin(f, &pr, "overfit", "the overfitting penalty against N^(α_N/α_D) / D", "");
            snprintf(f->ylabel, sizeof f->ylabel, "L / L(N, ∞) − 1");
            overfit(f, runs, n);
        } else if (which == 5) {
            begin(f, &pr, "context", "per-token test loss against the position in the context",
                  "position T in the context (tokens)");
            context(f, sweep_dir, runs, n);
        } else
            continue; /* no such figure for this sweep kind (batch: no law of its own) */
        int has_points = 0;
        for (int i = 0; i < f->ns; i++)
            has_points |= f->s[i].n > 0;
        if (has_points) {
            rc = save_figure(f, out_dir, err);
            *n_figures += rc == SL_OK;
        }
        figure_free(f);
    }
    free(f);
    sl_store_free_runs(runs, n);
    sl_preset_free(&pr);
    /* cairo keeps its font faces (and fontconfig patterns) cached until exit;
     * nothing else in scalelab draws with cairo, so they can go now, and a
     * leak checker then sees a clean exit */
    cairo_debug_reset_static_data();
    return rc;
}
