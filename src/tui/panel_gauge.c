/* panel_gauge: overfitting. Each run's N^(α_N/α_D)/D (0.74, Kaplan's, until
 * L(N,D) is fitted) on a log bar against the ratio where the predicted
 * δL = L(N,D)/L(N,∞) − 1 reaches 0.02, with that predicted δL. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lab.h"
#include "scalelab/numfmt.h"

#define DL_LINE 0.02

static void draw(Panel *p, Lab *lab)
{
    const sl_fit_result *nd = FitSet_law(&lab->fits, SL_LAW_KAPLAN_ND, 0);
    double e = sl_fit_overfit_exponent(nd);
    char title[96];
    snprintf(title, sizeof title, "Overfitting N^%.2f/D (%s) | line dL=%.2f", e,
             nd ? "fit" : "Kaplan", DL_LINE);
    Panel_frame(p, title);
    int iw = p->w - 2, ih = p->h - 2;
    int wide = iw >= 60, label = wide ? 16 : 8, tail = 12, bw = iw - label - tail - 1;
    if (bw < 6)
        return;
    /* the bar spans 3 decades, the line at two thirds */
    double span = 3, at = 2;
    int line_x = 1 + label + (int)lround(at / span * (bw - 1));
    for (int row = 0; row < ih && p->scroll + row < lab->snap.n_runs; row++) {
        const sl_run_view *v = &lab->snap.runs[p->scroll + row];
        double d = v->d > 0 ? v->d : v->planned_tokens;
        if (!(d > 0) || !(v->n > 0))
            continue;
        double ratio = pow(v->n, e) / d;
        double dneed = sl_fit_overfit_d_needed(nd, v->n, DL_LINE);
        double ratio_line = pow(v->n, e) / dneed;
        double dl = sl_fit_overfit_dl(nd, v->n, d);
        double pos = at + log10(ratio / ratio_line);
        int fill = (int)lround(fmax(0, fmin(span, pos)) / span * (bw - 1));
        ColorId c = dl < DL_LINE / 2 ? COL_GOOD : dl < DL_LINE ? COL_WARN : COL_BAD;
        char n[16], dd[16], buf[48];
        sl_num_format(n, sizeof n, v->n, SL_NUM_SHORT);
        sl_num_format(dd, sizeof dd, d, SL_NUM_SHORT);
        CRT_color(p->win, Lab_series(v->index));
        if (wide)
            mvwprintw(p->win, 1 + row, 1, "N=%-6s D=%-6s", n, dd);
        else
            mvwprintw(p->win, 1 + row, 1, "N=%-6s", n);
        CRT_color(p->win, c);
        for (int x = 0; x < bw; x++)
            CRT_glyph(p->win, 1 + row, 1 + label + x, x <= fill ? L'█' : L'·', x <= fill ? '#' : '.');
        CRT_color(p->win, COL_FIT);
        CRT_glyph(p->win, 1 + row, line_x, L'│', '|');
        CRT_color(p->win, c);
        snprintf(buf, sizeof buf, " dL %.3f", dl);
        CRT_text(p->win, 1 + row, 1 + label + bw, tail, buf);
    }
    Lab_scrollCue(p->win, p->scroll, ih, lab->snap.n_runs);
}

static int key(Panel *p, Lab *lab, int ch)
{
    if ((ch == KEY_DOWN || ch == 'j') && p->scroll + 1 < lab->snap.n_runs) {
        p->scroll++;
        return H_REDRAW;
    }
    if ((ch == KEY_UP || ch == 'k') && p->scroll > 0) {
        p->scroll--;
        return H_REDRAW;
    }
    return H_IGNORED;
}

const PanelClass GaugePanel_class = {"gauge", draw, key, NULL};
