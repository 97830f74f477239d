/* panel_runs: one line per run (id, shape, N, D, tokens done/planned, loss,
 * tokens/s, ETA, state) and the keys that control the selected run. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lab.h"

static ColorId state_color(sl_run_state s)
{
    switch (s) {
    case SL_RUN_RUNNING: return COL_WARN;
    case SL_RUN_DONE: return COL_GOOD;
    case SL_RUN_FAILED: return COL_BAD;
    case SL_RUN_QUEUED: return COL_TEXT;
    default: return COL_DIM;
    }
}

/* Columns in the order they are dropped last to first when the panel is narrow. */
enum { C_ID, C_STATE, C_LOSS, C_N, C_TOKENS, C_TPS, C_ETA, C_SHAPE, C_D, C_COUNT };
static const struct {
    const char *head;
    int width, right;
} cols[C_COUNT] = {
    {"id", 14, 0}, {"state", 9, 0}, {"loss", 6, 1}, {"N", 6, 1}, {"tokens", 13, 1},
    {"tok/s", 6, 1}, {"ETA", 6, 1}, {"shape", 8, 0}, {"D", 6, 1},
};
/* Display order of the columns. */
static const int order[C_COUNT] = {C_ID, C_SHAPE, C_N, C_D, C_TOKENS, C_LOSS, C_TPS, C_ETA, C_STATE};

static void cell(const sl_run_view *v, int c, char *b, size_t n)
{
    char x[16], y[16];
    switch (c) {
    case C_ID: snprintf(b, n, "%s", v->id); break;
    case C_SHAPE: snprintf(b, n, "L%d d%d", v->shape.n_layer, v->shape.d_model); break;
    case C_N: Lab_num(b, n, v->n); break;
    case C_D:
        if (v->d > 0)
            Lab_num(b, n, v->d);
        else
            snprintf(b, n, "all");
        break;
    case C_TOKENS:
        Lab_num(x, sizeof x, v->done_tokens);
        Lab_num(y, sizeof y, v->planned_tokens);
        snprintf(b, n, "%s/%s", x, y);
        break;
    case C_LOSS:
        if (isfinite(v->best_test_loss))
            snprintf(b, n, "%.3f", v->best_test_loss);
        else
            snprintf(b, n, "-");
        break;
    case C_TPS:
        if (v->tokens_per_s > 0)
            Lab_num(b, n, v->tokens_per_s);
        else
            snprintf(b, n, "-");
        break;
    case C_ETA:
        if (isfinite(v->eta_s))
            sl_fmt_duration(b, n, v->eta_s, "-");
        else
            snprintf(b, n, "-");
        break;
    default: snprintf(b, n, "%s", v->cancelled ? "cancelled" : sl_run_state_name(v->state)); break;
    }
}

static void draw(Panel *p, Lab *lab)
{
    Panel_frame(p, lab->opts->watch ? "Runs (watching, read-only)" : "Runs: P pause R resume X cancel D dup +- prio");
    int iw = p->w - 2, ih = p->h - 3;
    /* the columns that fit, by priority */
    int shown[C_COUNT] = {0}, used = 0;
    for (int c = 0; c < C_COUNT; c++)
        if (used + cols[c].width + 1 <= iw) {
            shown[c] = 1;
            used += cols[c].width + 1;
        }
    int xs[C_COUNT], x = 1;
    for (int k = 0; k < C_COUNT; k++) {
        int c = order[k];
        xs[c] = x;
        if (shown[c])
            x += cols[c].width + 1;
    }
    char buf[64];
    CRT_color(p->win, COL_HEADER);
    for (int c = 0; c < C_COUNT; c++)
        if (shown[c])
            mvwprintw(p->win, 1, xs[c], cols[c].right ? "%*s" : "%-*s", cols[c].width, cols[c].head);
    int n = lab->snap.n_runs;
    if (lab->sel_run >= n)
        lab->sel_run = n - 1;
    if (lab->sel_run < 0)
        lab->sel_run = 0;
    if (lab->sel_run < p->scroll)
        p->scroll = lab->sel_run;
    if (ih > 0 && lab->sel_run >= p->scroll + ih)
        p->scroll = lab->sel_run - ih + 1;
    for (int row = 0; row < ih && p->scroll + row < n; row++) {
        const sl_run_view *v = &lab->snap.runs[p->scroll + row];
        int sel = p->scroll + row == lab->sel_run && p->focused;
        CRT_color(p->win, sel ? COL_SELECTION : COL_TEXT);
        if (sel)
            mvwhline(p->win, 2 + row, 1, ' ', iw);
        for (int c = 0; c < C_COUNT; c++) {
            if (!shown[c])
                continue;
            cell(v, c, buf, sizeof buf);
            if (c == C_STATE && !sel)
                CRT_color(p->win, state_color(v->state));
            mvwprintw(p->win, 2 + row, xs[c], cols[c].right ? "%*.*s" : "%-*.*s", cols[c].width,
                      cols[c].width, buf);
            if (c == C_STATE && !sel)
                CRT_color(p->win, COL_TEXT);
        }
        if (!sel) {
            CRT_color(p->win, Lab_series(v->index));
            CRT_glyph(p->win, 2 + row, 0, L'▌', '|');
        }
    }
    if (n == 0) {
        CRT_color(p->win, COL_DIM);
        CRT_text(p->win, 2, 2, iw - 2, "no runs");
    }
}

static const sl_run_view *selected(Lab *lab)
{
    if (lab->sel_run < 0 || lab->sel_run >= lab->snap.n_runs)
        return NULL;
    return &lab->snap.runs[lab->sel_run];
}

static int act(Lab *lab, int ch)
{
    const sl_run_view *v = selected(lab);
    if (!v)
        return H_HANDLED;
    if (!lab->engine) {
        Lab_message(lab, "watching a store: runs are controlled by the process that trains them");
        return H_REDRAW_ALL;
    }
    sl_error err;
    int rc = SL_OK;
    char id[SL_RUN_ID_MAX], new_id[SL_RUN_ID_MAX] = "";
    snprintf(id, sizeof id, "%s", v->id);
    switch (ch) {
    case 'P': rc = sl_engine_pause(lab->engine, id, &err); break;
    case 'R': rc = sl_engine_resume_run(lab->engine, id, &err); break;
    case 'X': rc = sl_engine_cancel(lab->engine, id, &err); break;
    case 'D': rc = sl_engine_duplicate(lab->engine, id, v->seed + 1000 + (uint64_t)lab->snap.n_runs, new_id, &err); break;
    case '+': rc = sl_engine_set_priority(lab->engine, id, v->priority - 1, &err); break;
    case '-': rc = sl_engine_set_priority(lab->engine, id, v->priority + 1, &err); break;
    }
    if (rc != SL_OK)
        Lab_message(lab, "%s", err.msg);
    else if (ch == 'D')
        Lab_message(lab, "%s: duplicated as %s with another seed", id, new_id);
    else if (ch == '+' || ch == '-')
        Lab_message(lab, "%s: priority %d (lower starts first)", id, v->priority + (ch == '+' ? -1 : 1));
    else
        Lab_message(lab, "%s: %s", id, ch == 'P' ? "pausing (checkpoints first)" : ch == 'R' ? "queued again" : "cancelling");
    return H_REDRAW_ALL;
}

static int key(Panel *p, Lab *lab, int ch)
{
    (void)p;
    switch (ch) {
    case KEY_DOWN: case 'j':
        if (lab->sel_run + 1 < lab->snap.n_runs)
            lab->sel_run++;
        return H_REDRAW;
    case KEY_UP: case 'k':
        if (lab->sel_run > 0)
            lab->sel_run--;
        return H_REDRAW;
    case KEY_NPAGE: lab->sel_run += p->h - 3; return H_REDRAW;
    case KEY_PPAGE: lab->sel_run -= p->h - 3; return H_REDRAW;
    case KEY_HOME: case 'g': lab->sel_run = 0; return H_REDRAW;
    case KEY_END: case 'G': lab->sel_run = lab->snap.n_runs - 1; return H_REDRAW;
    case 'P': case 'R': case 'X': case 'D': case '+': case '-':
        return act(lab, ch);
    }
    return H_IGNORED;
}

static int click(Panel *p, Lab *lab, int y, int x)
{
    (void)x;
    int row = y - 2 + p->scroll;
    if (y >= 2 && row < lab->snap.n_runs) {
        lab->sel_run = row;
        return H_REDRAW;
    }
    return H_HANDLED;
}

const PanelClass RunsPanel_class = {"runs", draw, key, click};
