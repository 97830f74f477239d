/* panel_fits: every law's parameters with their intervals, R² and point count,
 * beside the values Kaplan et al. 2020 and Hoffmann et al. 2022 published; a
 * mark on values that moved in the last refits. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lab.h"
#include "scalelab/numfmt.h"

#define MOVED_SHOW 2.0 /* seconds a moved value keeps its mark */

/* The published value of a law's parameter (the law table's, fit.c). */
static double published_value(sl_fit_law law, const char *param)
{
    const char *const *names;
    int n = sl_fit_law_params(law, &names);
    for (int j = 0; j < n; j++)
        if (!strcmp(names[j], param))
            return sl_fit_law_published(law, j);
    return NAN;
}

/* Notes which values moved since the previous set (called when fits arrive). */

void FitsPanel_track(Lab *lab)
{
    for (int i = 0; i < lab->fits.n; i++) {
        const sl_fit_result *r = lab->fits.ok[i] ? &lab->fits.res[i] : NULL;
        for (int j = 0; j < SL_FIT_MAX_PARAMS; j++) {
            double v = r && j < r->n_params ? r->value[j] : NAN;
            double old = lab->fit_prev[i][j];
            if (isfinite(v) && (!isfinite(old) || fabs(v - old) > 1e-6 * fabs(old)))
                lab->fit_moved[i][j] = lab->now;
            lab->fit_prev[i][j] = v;
        }
    }
}

/* The line under a law's name: what it was fitted to and what it is worth */
static void law_status(const Lab *lab, int i, char *buf, size_t n, int *warn)
{
    const sl_fit_result *r = lab->fits.ok[i] ? &lab->fits.res[i] : NULL;
    *warn = 1;
    if (!r) {
        snprintf(buf, n, "%s", lab->fits.why[i]);
        return;
    }
    if (lab->fits.verdict[i] != SL_FIT_OK) {
        snprintf(buf, n, "NOT A LAW: %s (%s)", sl_fit_verdict_name(lab->fits.verdict[i]),
                 lab->fits.verdict_why[i]);
        return;
    }
    *warn = 0;
    char boot[48];
    if (!r->boot)
        snprintf(boot, sizeof boot, "intervals pending");
    else
        snprintf(boot, sizeof boot, "%d of %d resamples%s", r->n_boot_ok, r->n_boot,
                 lab->fits.boot_done[i] ? "" : ", updating");
    snprintf(buf, n, "R2 %.3f, %zu points, %s", r->r2, r->n_points, boot);
}

static void draw(Panel *p, Lab *lab)
{
    Panel_frame(p, "Fits (vs published): N_c params, D_c B tokens, S_c steps, C_c FLOP, E nats/token");
    int iw = p->w - 2, ih = p->h - 2;
    /* lines: one per law and one per parameter */
    int line = 0, y = 1;
    CRT_color(p->win, COL_HEADER);
    char buf[256];
    if (iw >= 52)
        snprintf(buf, sizeof buf, " %-8s %-9s %-21s %s", "param", "value", "95% interval", "published");
    else
        snprintf(buf, sizeof buf, " %-8s %-9s %-8s %s", "param", "value", "publ.", "95% interval");
    CRT_text(p->win, y++, 1, iw, buf);
    for (int i = 0; i < lab->fits.n; i++) {
        sl_fit_law law = lab->fits.law[i];
        const sl_fit_result *r = lab->fits.ok[i] ? &lab->fits.res[i] : NULL;
        int usable = r && lab->fits.verdict[i] == SL_FIT_OK;
        if (line >= p->scroll && y < 1 + ih) {
            CRT_color(p->win, COL_TITLE);
            /* a live law is fitted to the curves so far, the others to finished runs */
            char name[48];
            snprintf(name, sizeof name, "%s%s", sl_fit_law_name(law),
                     lab->fits.live[i] ? " live" : "");
            CRT_text(p->win, y, 1, iw, name);
            int warn;
            law_status(lab, i, buf, sizeof buf, &warn);
            CRT_color(p->win, warn ? COL_WARN : COL_DIM);
            int nx = 2 + (int)strlen(name);
            CRT_text(p->win, y, nx, iw + 1 - nx, buf);
            y++;
        }
        line++;
        if (!r)
            continue;
        for (int j = 0; j < r->n_params; j++, line++) {
            if (line < p->scroll || y >= 1 + ih)
                continue;
            char v[16], lo[16], hi[16], pub[16], ci[40];
            sl_num_format(v, sizeof v, r->value[j], SL_NUM_PARAM);
            sl_num_format(lo, sizeof lo, r->ci_low[j], SL_NUM_PARAM);
            sl_num_format(hi, sizeof hi, r->ci_high[j], SL_NUM_PARAM);
            sl_num_format(pub, sizeof pub, published_value(law, r->names[j]), SL_NUM_PARAM);
            if (isfinite(r->ci_low[j]))
                snprintf(ci, sizeof ci, "[%s, %s]", lo, hi);
            else
                snprintf(ci, sizeof ci, "[pending]");
            int moved = lab->now - lab->fit_moved[i][j] < MOVED_SHOW;
            CRT_color(p->win, usable ? COL_TEXT : COL_DIM);
            snprintf(buf, sizeof buf, "%-8s %-9s", r->names[j], v);
            CRT_text(p->win, y, 2, iw - 1, buf);
            if (moved && usable) {
                CRT_color(p->win, COL_WARN);
                CRT_glyph(p->win, y, 1, L'▲', '*');
            }
            /* narrow: the published value before the interval, which is cut */
            int wide = iw >= 52, ci_x = wide ? 21 : 30, pub_x = wide ? 43 : 21;
            CRT_color(p->win, COL_DIM);
            CRT_text(p->win, y, ci_x, iw + 1 - ci_x, ci);
            CRT_color(p->win, COL_FIT);
            CRT_text(p->win, y, pub_x, wide ? iw + 1 - pub_x : 8, pub);
            y++;
        }
    }
    if (p->scroll > line - 1)
        p->scroll = line > 0 ? line - 1 : 0;
    Lab_scrollCue(p->win, p->scroll, ih - 1, line);
    if (lab->fits.seconds > 0 && p->h > 4) {
        CRT_color(p->win, COL_DIM);
        snprintf(buf, sizeof buf, " refit %.1f ms ", lab->fits.seconds * 1e3);
        CRT_text(p->win, p->h - 1, p->w - 2 - (int)strlen(buf), (int)strlen(buf), buf);
    }
}

static int key(Panel *p, Lab *lab, int ch)
{
    (void)lab;
    if (ch == KEY_DOWN || ch == 'j') {
        p->scroll++;
        return H_REDRAW;
    }
    if ((ch == KEY_UP || ch == 'k') && p->scroll > 0) {
        p->scroll--;
        return H_REDRAW;
    }
    return H_IGNORED;
}

const PanelClass FitsPanel_class = {"fits", draw, key, NULL};
