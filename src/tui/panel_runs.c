/* panel_runs: one line per run (its whole id, state, loss, N, D, C, seed,
 * priority, tokens done/planned, tokens/s, ETA, shape), sortable by any column;
 * columns past the panel's width scroll sideways while the id stays, and the
 * keys that control the selected run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab.h"
#include "scalelab/numfmt.h"

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

/* The columns in display order; the id is always first and never cut. */
enum { C_ID, C_STATE, C_LOSS, C_N, C_D, C_C, C_SEED, C_PRIO, C_TOKENS, C_EPOCHS, C_TPS, C_ETA, C_SHAPE, C_COUNT };
static const struct {
    const char *head; /* with its unit */
    int width, right;
} cols[C_COUNT] = {
    {"id", 0, 0},        {"state", 9, 0},  {"loss nat", 8, 1}, {"N", 6, 1},
    {"D tok", 6, 1},     {"C FLOP", 7, 1}, {"seed", 5, 1},     {"prio", 4, 1},
    {"tokens", 13, 1},   {"epochs", 6, 1}, {"tok/s", 6, 1},    {"ETA", 6, 1},
    {"shape", 9, 0},
};

int RunsPanel_columns(void) { return C_COUNT; }
const char *RunsPanel_columnName(int c) { return c >= 0 && c < C_COUNT ? cols[c].head : ""; }

static double planned_compute(const sl_run_view *v) { return v->flops_per_token * v->planned_tokens; }

static void cell(const sl_run_view *v, int c, char *b, size_t n)
{
    char x[16], y[16];
    switch (c) {
    case C_ID: snprintf(b, n, "%s", v->id); break;
    case C_SHAPE: snprintf(b, n, "L%d d%d", v->shape.n_layer, v->shape.d_model); break;
    case C_N: sl_num_format(b, n, v->n, SL_NUM_SHORT); break;
    case C_D:
        if (v->d > 0)
            sl_num_format(b, n, v->d, SL_NUM_SHORT);
        else
            snprintf(b, n, "all");
        break;
    case C_C: sl_num_format(b, n, planned_compute(v), SL_NUM_SHORT); break;
    case C_SEED: snprintf(b, n, "%llu", (unsigned long long)v->seed); break;
    case C_PRIO: snprintf(b, n, "%d", v->priority); break;
    case C_TOKENS:
        sl_num_format(x, sizeof x, v->done_tokens, SL_NUM_SHORT);
        sl_num_format(y, sizeof y, v->planned_tokens, SL_NUM_SHORT);
        snprintf(b, n, "%s/%s", x, y);
        break;
    case C_LOSS:
        if (isfinite(v->best_test_loss))
            snprintf(b, n, "%.3f", v->best_test_loss);
        else
            snprintf(b, n, "-");
        break;
    case C_EPOCHS:
        /* epochs of its train data seen: past 1 the run repeats data */
        if (isfinite(v->epochs))
            snprintf(b, n, "%.3g", v->epochs);
        else
            snprintf(b, n, "-");
        break;
    case C_TPS:
        if (v->tokens_per_s > 0)
            sl_num_format(b, n, v->tokens_per_s, SL_NUM_SHORT);
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

/* A column's value for sorting (NaN sorts last). */
static double sort_key(const sl_run_view *v, int c)
{
    switch (c) {
    case C_STATE: return v->state;
    case C_LOSS: return v->best_test_loss;
    case C_N: return v->n;
    case C_D: return v->d > 0 ? v->d : INFINITY;
    case C_C: return planned_compute(v);
    case C_SEED: return (double)v->seed;
    case C_PRIO: return v->priority;
    case C_TOKENS: return v->done_tokens;
    case C_EPOCHS: return v->epochs;
    case C_TPS: return v->tokens_per_s;
    case C_ETA: return v->eta_s;
    case C_SHAPE: return v->shape.n_layer * 1e6 + v->shape.d_model;
    default: return v->index;
    }
}

static const Lab *sort_lab;
static int cmp_runs(const void *a, const void *b)
{
    const sl_run_view *p = &sort_lab->snap.runs[*(const int *)a], *q = &sort_lab->snap.runs[*(const int *)b];
    double x = sort_key(p, sort_lab->sort_col), y = sort_key(q, sort_lab->sort_col);
    int nx = isnan(x), ny = isnan(y);
    if (nx != ny)
        return nx - ny; /* unknown values last, either direction */
    int c = nx ? 0 : (x > y) - (x < y);
    if (sort_lab->sort_desc)
        c = -c;
    return c ? c : (p->index > q->index) - (p->index < q->index);
}

int RunsPanel_order(const Lab *lab, int *order)
{
    int n = lab->snap.n_runs;
    for (int i = 0; i < n; i++)
        order[i] = i;
    sort_lab = lab;
    qsort(order, (size_t)n, sizeof *order, cmp_runs);
    return n;
}

/* The selected run's place in the display order. */
static int position(const Lab *lab, const int *order, int n)
{
    for (int k = 0; k < n; k++)
        if (order[k] == lab->sel_run)
            return k;
    return 0;
}

static void draw(Panel *p, Lab *lab)
{
    Panel_frame(p, lab->opts->watch ? "Runs (watching, read-only)" : "Runs [o sort, w sample, X cancel]");
    int iw = p->w - 2, ih = p->h - 3;
    int n = lab->snap.n_runs;
    int *order = sl_xmalloc(((size_t)n + 1) * sizeof *order);
    RunsPanel_order(lab, order);
    if (lab->sel_run >= n)
        lab->sel_run = n - 1;
    if (lab->sel_run < 0)
        lab->sel_run = 0;
    int pos = position(lab, order, n);
    if (pos < p->scroll)
        p->scroll = pos;
    if (ih > 0 && pos >= p->scroll + ih)
        p->scroll = pos - ih + 1;
    if (p->scroll > 0 && p->scroll > n - ih)
        p->scroll = n - ih > 0 ? n - ih : 0;
    /* the id column is as wide as the longest id; when even that does not fit,
     * the id itself scrolls sideways */
    int id_w = 2;
    for (int i = 0; i < n; i++) {
        int l = (int)strlen(lab->snap.runs[i].id);
        if (l > id_w)
            id_w = l;
    }
    int id_shift = 0, first = 1 + p->hscroll, more_right = 0;
    if (id_w + 1 > iw - 1) {
        int room = iw - 2;
        id_shift = p->hscroll * 4;
        if (id_shift > id_w - room)
            id_shift = id_w - room;
        more_right = id_shift < id_w - room;
        id_w = room;
        first = C_COUNT;
    }
    int xs[C_COUNT] = {0}, shown[C_COUNT] = {0}, x = 2 + id_w + 1;
    shown[C_ID] = 1;
    xs[C_ID] = 2;
    for (int c = first; c < C_COUNT; c++) {
        if (x + cols[c].width > iw + 1) {
            more_right = 1;
            break;
        }
        shown[c] = 1;
        xs[c] = x;
        x += cols[c].width + 1;
    }
    char buf[96];
    CRT_color(p->win, COL_HEADER);
    for (int c = 0; c < C_COUNT; c++) {
        if (!shown[c])
            continue;
        int w = c == C_ID ? id_w : cols[c].width;
        mvwprintw(p->win, 1, xs[c], cols[c].right ? "%*.*s" : "%-*.*s", w, w, cols[c].head);
        if (c == lab->sort_col) {
            int mx = cols[c].right ? xs[c] + w - (int)strlen(cols[c].head) - 1 : xs[c] + (int)strlen(cols[c].head);
            if (c == C_ID)
                mx = xs[c] + 2;
            CRT_glyph(p->win, 1, mx, lab->sort_desc ? L'▼' : L'▲', lab->sort_desc ? 'v' : '^');
        }
    }
    for (int row = 0; row < ih && p->scroll + row < n; row++) {
        int i = order[p->scroll + row];
        const sl_run_view *v = &lab->snap.runs[i];
        int sel = i == lab->sel_run && p->focused, vis = Lab_visible(lab, v);
        ColorId base = vis ? COL_TEXT : COL_DIM;
        CRT_color(p->win, sel ? COL_SELECTION : base);
        if (sel)
            mvwhline(p->win, 2 + row, 1, ' ', iw);
        for (int c = 0; c < C_COUNT; c++) {
            if (!shown[c])
                continue;
            cell(v, c, buf, sizeof buf);
            if (c == C_STATE && !sel && vis)
                CRT_color(p->win, state_color(v->state));
            int w = c == C_ID ? id_w : cols[c].width;
            const char *t = buf;
            if (c == C_ID)
                t = (int)strlen(buf) > id_shift ? buf + id_shift : "";
            mvwprintw(p->win, 2 + row, xs[c], cols[c].right ? "%*.*s" : "%-*.*s", w, w, t);
            if (c == C_STATE && !sel && vis)
                CRT_color(p->win, base);
        }
        if (!sel) {
            CRT_color(p->win, vis ? Lab_series(v->index) : COL_DIM);
            if (vis)
                CRT_glyph(p->win, 2 + row, 1, L'▌', '|');
            else
                CRT_glyph(p->win, 2 + row, 1, L'·', '.');
        }
    }
    if (n == 0) {
        CRT_color(p->win, COL_DIM);
        CRT_text(p->win, 2, 2, iw - 2, "no runs");
    }
    Lab_scrollCue(p->win, p->scroll, ih, n);
    CRT_color(p->win, COL_FOCUS);
    if (p->hscroll > 0)
        CRT_glyph(p->win, 1, 0, L'◀', '<');
    if (more_right)
        CRT_glyph(p->win, 1, p->w - 1, L'▶', '>');
    free(order);
}

const sl_run_view *RunsPanel_selected(const Lab *lab)
{
    if (lab->sel_run < 0 || lab->sel_run >= lab->snap.n_runs)
        return NULL;
    return &lab->snap.runs[lab->sel_run];
}

static const sl_run_view *find(const Lab *lab, const char *id)
{
    for (int i = 0; i < lab->snap.n_runs; i++)
        if (!strcmp(lab->snap.runs[i].id, id))
            return &lab->snap.runs[i];
    return NULL;
}

int RunsPanel_act(Lab *lab, const char *run_id, int ch)
{
    const sl_run_view *v = find(lab, run_id);
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
    int n = lab->snap.n_runs;
    if (n == 0)
        return H_HANDLED;
    int *order = sl_xmalloc((size_t)n * sizeof *order);
    RunsPanel_order(lab, order);
    int pos = position(lab, order, n), page = p->h - 3 > 1 ? p->h - 3 : 1, f = H_REDRAW;
    switch (ch) {
    case KEY_DOWN: case 'j': pos++; break;
    case KEY_UP: case 'k': pos--; break;
    case KEY_NPAGE: pos += page; break;
    case KEY_PPAGE: pos -= page; break;
    case KEY_HOME: case 'g': pos = 0; break;
    case KEY_END: case 'G': pos = n - 1; break;
    case KEY_LEFT: case 'h':
        if (p->hscroll > 0)
            p->hscroll--;
        break;
    case KEY_RIGHT: case 'l':
        if (p->hscroll < C_COUNT - 2)
            p->hscroll++;
        break;
    case 'P': case 'R': case 'D': case '+': case '-': case '=': {
        char id[SL_RUN_ID_MAX];
        snprintf(id, sizeof id, "%s", lab->snap.runs[lab->sel_run >= 0 && lab->sel_run < n ? lab->sel_run : 0].id);
        f = RunsPanel_act(lab, id, ch == '=' ? '+' : ch);
        break;
    }
    default: f = H_IGNORED; break;
    }
    if (pos < 0)
        pos = 0;
    if (pos >= n)
        pos = n - 1;
    lab->sel_run = order[pos];
    free(order);
    return f;
}

static int click(Panel *p, Lab *lab, int y, int x)
{
    (void)x;
    int n = lab->snap.n_runs, row = y - 2 + p->scroll;
    if (y >= 2 && row < n) {
        int *order = sl_xmalloc((size_t)n * sizeof *order);
        RunsPanel_order(lab, order);
        lab->sel_run = order[row];
        free(order);
        return H_REDRAW;
    }
    return H_HANDLED;
}

const PanelClass RunsPanel_class = {"runs", draw, key, click};
