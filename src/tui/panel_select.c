/* panel_select: the N / D / C selectors. Each is a range (min, max, points per
 * decade) over one axis of the sweep; changing one previews the runs that
 * would be added or dropped and what they cost, and Enter applies it to the
 * live sweep. The selected axis is also the law plot's x. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab.h"
#include "scalelab/model.h"
#include "scalelab/numfmt.h"

static const char *const axis_short[AXIS_COUNT] = {"N", "D", "C"};
static const char *const field_names[3] = {"min", "max", "/decade"};

/* A run's coordinate on an axis (C: its planned compute). */
static double run_coord(const sl_run_view *v, Axis a)
{
    switch (a) {
    case AXIS_N: return v->n;
    case AXIS_D: return v->d;
    default: return v->flops_per_token * v->planned_tokens;
    }
}

static int axis_swept(const sl_preset *p, Axis a)
{
    if (!p)
        return 0;
    switch (a) {
    case AXIS_N: return p->kind == SL_SWEEP_N || p->kind == SL_SWEEP_ND || p->kind == SL_SWEEP_ISOFLOP;
    case AXIS_D: return p->kind == SL_SWEEP_ND;
    default: return p->kind == SL_SWEEP_ISOFLOP;
    }
}

void Select_init(Lab *lab)
{
    for (int a = 0; a < AXIS_COUNT; a++) {
        Range *r = &lab->range[a];
        double mn = INFINITY, mx = -INFINITY, vals[256];
        int nv = 0;
        for (int i = 0; i < lab->snap.n_runs; i++) {
            double c = run_coord(&lab->snap.runs[i], (Axis)a);
            if (!(c > 0))
                continue;
            mn = fmin(mn, c);
            mx = fmax(mx, c);
            int dup = 0;
            for (int k = 0; k < nv; k++)
                dup |= fabs(log10(vals[k] / c)) < 0.02;
            if (!dup && nv < 256)
                vals[nv++] = c;
        }
        r->editable = axis_swept(lab->preset, (Axis)a) && lab->engine && nv > 0;
        r->min = nv ? mn : NAN;
        r->max = nv ? mx : NAN;
        double dec = nv > 1 ? log10(mx / mn) : 0;
        r->per_decade = dec > 0 ? (int)lround((nv - 1) / dec) : 2;
        if (r->per_decade < 1)
            r->per_decade = 1;
        if (r->per_decade > 8)
            r->per_decade = 8;
        lab->range0[a] = *r;
    }
    lab->range_init = 1;
}

/* The values an axis should hold. Moving min or max keeps the runs inside the
 * new range and extends it by grid steps of 1/per_decade decades from the
 * sweep's own ends; changing per_decade asks for an even grid from min to max. */
static int axis_values(const Lab *lab, Axis a, double *out, int max)
{
    const Range *r = &lab->range[a], *r0 = &lab->range0[a];
    int n = 0;
    if (!(r->min > 0) || !(r->max >= r->min))
        return 0;
    double step = pow(10, 1.0 / r->per_decade);
    if (r->per_decade != r0->per_decade) {
        int k = (int)lround(log10(r->max / r->min) * r->per_decade);
        if (k < 1 || r->max <= r->min * 1.0001)
            k = 0;
        for (int i = 0; i <= k && n < max; i++)
            out[n++] = k ? r->min * pow(r->max / r->min, (double)i / k) : r->min;
        return n;
    }
    for (int i = 0; i < lab->snap.n_runs && n < max; i++) {
        const sl_run_view *v = &lab->snap.runs[i];
        double c = run_coord(v, a);
        if (v->cancelled || !(c >= r->min / 1.0001 && c <= r->max * 1.0001))
            continue;
        int dup = 0;
        for (int k = 0; k < n; k++)
            dup |= fabs(log10(out[k] / c)) < 1e-6;
        if (!dup)
            out[n++] = c;
    }
    for (double v = r0->min / step; v >= r->min / 1.0001 && n < max; v /= step)
        out[n++] = v;
    for (double v = r0->max * step; v <= r->max * 1.0001 && n < max; v *= step)
        out[n++] = v;
    return n;
}

/* A quarter grid step in decades: a run that close to a value is that value
 * (the shape a target N gets is only near it). */
static double tolerance(const Range *r) { return 0.25 / r->per_decade; }

typedef struct {
    double n, d, c;
} Point;

/* The sweep the selectors describe, as points (n, d, c) of the preset's kind. */
static int desired(const Lab *lab, Point *pts, int max)
{
    double gn[128], gd[128], gc[128];
    int nn = axis_values(lab, AXIS_N, gn, 128), nd = axis_values(lab, AXIS_D, gd, 128),
        nc = axis_values(lab, AXIS_C, gc, 128), m = 0;
    switch (lab->preset->kind) {
    case SL_SWEEP_N:
        for (int i = 0; i < nn && m < max; i++)
            pts[m++] = (Point){gn[i], 0, 0};
        break;
    case SL_SWEEP_ND:
        for (int i = 0; i < nn; i++)
            for (int j = 0; j < nd && m < max; j++)
                pts[m++] = (Point){gn[i], gd[j], 0};
        break;
    case SL_SWEEP_ISOFLOP:
        for (int i = 0; i < nn; i++)
            for (int j = 0; j < nc && m < max; j++)
                pts[m++] = (Point){gn[i], 0, gc[j]};
        break;
    default: break;
    }
    return m;
}

static int near(double a, double b, double tol)
{
    if (!(a > 0) || !(b > 0))
        return a == b || (!(a > 0) && !(b > 0));
    return fabs(log10(a / b)) < tol;
}

static int matches(const Lab *lab, const sl_run_view *v, const Point *p)
{
    if (!near(v->n, p->n, tolerance(&lab->range[AXIS_N])))
        return 0;
    if (lab->preset->kind == SL_SWEEP_ND && !near(v->d, p->d, tolerance(&lab->range[AXIS_D])))
        return 0;
    if (lab->preset->kind == SL_SWEEP_ISOFLOP &&
        !near(run_coord(v, AXIS_C), p->c, tolerance(&lab->range[AXIS_C])))
        return 0;
    return 1;
}

/* The spec of a new run at p, from the sweep's first run, through the
 * planner (sl_preset_run_at) that planned the others. */
static int spec_for(const Lab *lab, const Point *p, sl_run_spec *s, sl_error *err)
{
    const sl_preset *pr = lab->preset;
    if (pr->n_runs > 0)
        *s = pr->runs[0];
    else if (lab->snap.n_runs > 0)
        *s = lab->snap.runs[0].spec; /* a reopened store is not planned again */
    else
        return sl_fail(err, SL_EINPUT, "the sweep has no run to copy");
    s->id[0] = 0;
    return sl_preset_run_at(pr, p->n, p->d, p->c, s, err);
}

void Select_preview(Lab *lab, SelectPreview *pv)
{
    memset(pv, 0, sizeof *pv);
    if (!lab->preset || !lab->range_init ||
        !memcmp(lab->range, lab->range0, sizeof lab->range))
        return;
    Point pts[512];
    int m = desired(lab, pts, 512);
    if (m == 0)
        return;
    for (int k = 0; k < m; k++) {
        int found = 0;
        for (int i = 0; i < lab->snap.n_runs && !found; i++)
            found = !lab->snap.runs[i].cancelled && matches(lab, &lab->snap.runs[i], &pts[k]);
        if (found)
            continue;
        sl_run_spec s;
        sl_error err;
        if (spec_for(lab, &pts[k], &s, &err) != SL_OK)
            continue;
        sl_counts c = sl_model_counts(&s.train.model);
        pv->add++;
        pv->flops += c.flops_per_token * (double)s.train.batch * s.train.model.n_ctx * (double)s.train.steps;
    }
    for (int i = 0; i < lab->snap.n_runs; i++) {
        const sl_run_view *v = &lab->snap.runs[i];
        int found = 0;
        for (int k = 0; k < m && !found; k++)
            found = matches(lab, v, &pts[k]);
        if (found || v->cancelled)
            continue;
        if (v->state == SL_RUN_QUEUED && v->done_steps == 0)
            pv->drop++;
        else
            pv->keep_trained++;
    }
    double rate = lab->snap.gflops > 0 ? lab->snap.gflops : lab->ceiling_gflops * 0.3;
    pv->seconds = rate > 0 ? pv->flops / (rate * 1e9) : NAN;
}

int Select_apply(Lab *lab)
{
    if (!lab->engine || !lab->preset)
        return 0;
    if (!memcmp(lab->range, lab->range0, sizeof lab->range)) {
        Lab_message(lab, "the sweep matches the selectors: change a range first (+ and -)");
        return 0;
    }
    Point pts[512];
    int m = desired(lab, pts, 512), added = 0, dropped = 0;
    sl_error err;
    for (int k = 0; k < m; k++) {
        int found = 0;
        for (int i = 0; i < lab->snap.n_runs && !found; i++)
            found = !lab->snap.runs[i].cancelled && matches(lab, &lab->snap.runs[i], &pts[k]);
        if (found)
            continue;
        sl_run_spec s;
        char id[SL_RUN_ID_MAX];
        if (spec_for(lab, &pts[k], &s, &err) != SL_OK || sl_engine_add_run(lab->engine, &s, id, &err) != SL_OK) {
            Lab_message(lab, "%s", err.msg);
            return -1;
        }
        added++;
    }
    for (int i = 0; i < lab->snap.n_runs; i++) {
        const sl_run_view *v = &lab->snap.runs[i];
        int found = 0;
        for (int k = 0; k < m && !found; k++)
            found = matches(lab, v, &pts[k]);
        if (found || v->cancelled || v->state != SL_RUN_QUEUED || v->done_steps != 0)
            continue;
        if (sl_engine_drop(lab->engine, v->id, &err) == SL_OK)
            dropped++;
    }
    Lab_message(lab, "sweep changed: %d runs added, %d dropped", added, dropped);
    /* the next snapshot holds the new runs: ranges start again from them */
    lab->range_init = 0;
    return 0;
}

static void draw(Panel *p, Lab *lab)
{
    Panel_frame(p, "Sweep N / D / C [arrows, +/-, Enter]");
    int iw = p->w - 2;
    if (!lab->range_init && lab->snap.n_runs)
        Select_init(lab);
    char buf[256], a[16], b[16];
    for (int ax = 0; ax < AXIS_COUNT && ax + 1 < p->h - 1; ax++) {
        const Range *r = &lab->range[ax];
        int y = 1 + ax, on = ax == (int)lab->axis;
        CRT_color(p->win, on ? COL_FOCUS : COL_TEXT);
        CRT_glyph(p->win, y, 1, on ? L'▶' : L' ', on ? '>' : ' ');
        mvwprintw(p->win, y, 3, "%s", axis_short[ax]);
        if (!r->editable) {
            CRT_color(p->win, COL_DIM);
            if (r->min > 0) {
                sl_num_format(a, sizeof a, r->min, SL_NUM_SHORT);
                sl_num_format(b, sizeof b, r->max, SL_NUM_SHORT);
                snprintf(buf, sizeof buf, "%s..%s (fixed by this %s sweep)", a, b,
                         lab->preset ? sl_sweep_kind_name(lab->preset->kind) : "");
            } else {
                snprintf(buf, sizeof buf, "not swept (%s sweep)",
                         lab->preset ? sl_sweep_kind_name(lab->preset->kind) : "");
            }
            CRT_text(p->win, y, 5, iw - 4, buf);
            continue;
        }
        int x = 5;
        for (int f = 0; f < 3; f++) {
            if (f == 2)
                snprintf(buf, sizeof buf, "%d%s", r->per_decade, field_names[f]);
            else {
                sl_num_format(a, sizeof a, f ? r->max : r->min, SL_NUM_SHORT);
                snprintf(buf, sizeof buf, "%s %s", field_names[f], a);
            }
            CRT_color(p->win, on && f == lab->sel_field && p->focused ? COL_SELECTION : COL_TEXT);
            CRT_text(p->win, y, x, iw - x, buf);
            x += (int)strlen(buf) + 2;
        }
    }
    if (p->h < 7)
        return;
    SelectPreview pv;
    Select_preview(lab, &pv);
    CRT_color(p->win, pv.add || pv.drop ? COL_WARN : COL_DIM);
    if (pv.add || pv.drop) {
        char fl[16], dur[16];
        sl_num_format(fl, sizeof fl, pv.flops, SL_NUM_SHORT);
        sl_fmt_duration(dur, sizeof dur, pv.seconds, "-");
        snprintf(buf, sizeof buf, "preview: +%d -%d runs%s; Enter applies", pv.add, pv.drop,
                 pv.keep_trained ? " (trained runs kept)" : "");
        CRT_text(p->win, p->h - 3, 1, iw, buf);
        char pf[16];
        sl_num_format(pf, sizeof pf, pv.flops / SL_PF_DAY, SL_NUM_SHORT);
        snprintf(buf, sizeof buf, "%s FLOP = %s PF-days, ~%s on this machine", fl, pf, dur);
        CRT_text(p->win, p->h - 2, 1, iw, buf);
    } else {
        CRT_text(p->win, p->h - 3, 1, iw, "preview: the sweep matches these ranges");
    }
}

static int key(Panel *p, Lab *lab, int ch)
{
    (void)p;
    Range *r = &lab->range[lab->axis];
    switch (ch) {
    case KEY_UP: case 'k':
        lab->axis = (Axis)((lab->axis + AXIS_COUNT - 1) % AXIS_COUNT);
        return H_REDRAW_ALL;
    case KEY_DOWN: case 'j':
        lab->axis = (Axis)((lab->axis + 1) % AXIS_COUNT);
        return H_REDRAW_ALL;
    case KEY_LEFT: case 'h':
        lab->sel_field = (lab->sel_field + 2) % 3;
        return H_REDRAW;
    case KEY_RIGHT: case 'l':
        lab->sel_field = (lab->sel_field + 1) % 3;
        return H_REDRAW;
    case '+': case '=': case '-': case '_': {
        if (!r->editable) {
            Lab_message(lab, "%s is not an axis of this sweep%s", axis_short[lab->axis],
                        lab->engine ? "" : " (watching: read-only)");
            return H_REDRAW_ALL;
        }
        int up = ch == '+' || ch == '=';
        double step = pow(10, 1.0 / r->per_decade);
        if (lab->sel_field == 0)
            r->min = up ? fmin(r->min * step, r->max) : r->min / step;
        else if (lab->sel_field == 1)
            r->max = up ? r->max * step : fmax(r->max / step, r->min);
        else
            r->per_decade = up ? (r->per_decade < 8 ? r->per_decade + 1 : 8)
                               : (r->per_decade > 1 ? r->per_decade - 1 : 1);
        return H_REDRAW;
    }
    case '\n': case '\r': case KEY_ENTER:
        Select_apply(lab);
        return H_REDRAW_ALL;
    }
    return H_IGNORED;
}

static int click(Panel *p, Lab *lab, int y, int x)
{
    (void)p;
    (void)x;
    if (y >= 1 && y <= AXIS_COUNT) {
        lab->axis = (Axis)(y - 1);
        return H_REDRAW_ALL;
    }
    return H_HANDLED;
}

const PanelClass SelectPanel_class = {"select", draw, key, click};
