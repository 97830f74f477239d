/* screen_keys: the key table (Screen_keys, which the `?` help and docs/LAB.md
 * are held to) and its actions, and the dispatch of a key or a mouse event:
 * an open overlay first, then the focused panel's keys, then the keys that
 * work anywhere. See screen_int.h for the state they share. */
#include "screen_int.h"

#include <stdio.h>
#include <string.h>

/* ---- whole-lab actions ------------------------------------------------------------ */

static void pause_all(Lab *lab)
{
    if (!lab->engine) {
        Lab_message(lab, "watching a store: nothing to pause here");
        return;
    }
    int n = 0;
    sl_error err;
    lab->n_resume = 0;
    for (int i = 0; i < lab->snap.n_runs; i++) {
        const sl_run_view *v = &lab->snap.runs[i];
        if (!lab->all_paused && (v->state == SL_RUN_RUNNING || v->state == SL_RUN_QUEUED)) {
            n += sl_engine_pause(lab->engine, v->id, &err) == SL_OK;
        } else if (lab->all_paused && v->state == SL_RUN_PAUSED) {
            n += sl_engine_resume_run(lab->engine, v->id, &err) == SL_OK;
        } else if (lab->all_paused && v->state == SL_RUN_RUNNING && lab->n_resume < 64) {
            /* still checkpointing for its pause: resumed when the pause lands */
            snprintf(lab->resume_ids[lab->n_resume++], SL_RUN_ID_MAX, "%s", v->id);
            n++;
        }
    }
    Lab_message(lab, lab->all_paused ? "resumed %d runs" : "paused %d runs (space resumes)", n);
    lab->all_paused = !lab->all_paused;
}

void Screen_resumePending(Screen *s)
{
    Lab *lab = &s->lab;
    int k = 0;
    for (int j = 0; j < lab->n_resume; j++) {
        const sl_run_view *v = NULL;
        for (int i = 0; i < lab->snap.n_runs; i++)
            if (!strcmp(lab->snap.runs[i].id, lab->resume_ids[j]))
                v = &lab->snap.runs[i];
        sl_error err;
        if (v && v->state == SL_RUN_PAUSED)
            sl_engine_resume_run(lab->engine, v->id, &err);
        else if (v && v->state == SL_RUN_RUNNING)
            memmove(lab->resume_ids[k++], lab->resume_ids[j], SL_RUN_ID_MAX);
    }
    lab->n_resume = k;
}

static void focus(Screen *s, int i)
{
    s->panels[s->focus].focused = 0;
    s->panels[s->focus].dirty = 1;
    s->focus = (i + P_COUNT) % P_COUNT;
    s->panels[s->focus].focused = 1;
    s->panels[s->focus].dirty = 1;
}

static void ask_quit(Screen *s)
{
    if (s->lab.engine && s->lab.snap.n_running > 0)
        s->ov = OV_QUIT;
    else
        s->quit = 1;
}

static void next_theme(Screen *s)
{
    Lab *lab = &s->lab;
    s->n_themes = Theme_list(s->themes, 32);
    if (s->n_themes == 0) {
        Lab_message(lab, "no themes found in themes/");
        return;
    }
    int cur = -1;
    for (int i = 0; i < s->n_themes; i++)
        if (!strcmp(s->themes[i], lab->theme.name))
            cur = i;
    for (int k = 1; k <= s->n_themes; k++) {
        const char *name = s->themes[(cur + k) % s->n_themes];
        char path[1024];
        sl_error err;
        Theme t;
        if (Theme_find(name, path, sizeof path, &err) == SL_OK && Theme_load(&t, path, &err) == SL_OK) {
            lab->theme = t;
            CRT_setTheme(&lab->theme);
            Screen_layout(s);
            Lab_message(lab, "theme %s", t.name);
            return;
        }
        Lab_message(lab, "%s", err.msg);
    }
}

static int panel_at(Screen *s, int y, int x)
{
    for (int i = 0; i < P_COUNT; i++) {
        Panel *p = &s->panels[i];
        if (p->win && y >= p->y && y < p->y + p->h && x >= p->x && x < p->x + p->w)
            return i;
    }
    return -1;
}

static void handle_flags(Screen *s, Panel *p, int f)
{
    if (f & H_REDRAW)
        p->dirty = 1;
    if (f & H_REDRAW_ALL)
        s->all_dirty = 1;
    if (f & H_QUIT)
        s->quit = 1;
}

/* ---- the actions of the key table ------------------------------------------------ */

/* The focused panel's own handler (for keys scoped to it). */
static void act_panel(Screen *s, int ch)
{
    Panel *p = &s->panels[s->focus];
    if (p->cls->key)
        handle_flags(s, p, p->cls->key(p, &s->lab, ch));
}

/* A panel's handler whatever has the focus (P R D act on the selected run). */
static void act_on(Screen *s, int panel, int ch)
{
    Panel *p = &s->panels[panel];
    if (p->cls->key)
        handle_flags(s, p, p->cls->key(p, &s->lab, ch));
}
static void act_runs(Screen *s, int ch) { act_on(s, P_RUNS, ch); }
static void act_curves(Screen *s, int ch) { act_on(s, P_CURVES, ch); }

static void act_help(Screen *s, int ch)
{
    (void)ch;
    s->help_scroll = 0;
    s->ov = OV_HELP;
}

static void act_verify(Screen *s, int ch)
{
    (void)ch;
    LawPanel_verify(&s->lab);
    s->all_dirty = 1;
}

static void act_quit(Screen *s, int ch)
{
    (void)ch;
    ask_quit(s);
}

static void act_focus(Screen *s, int ch) { focus(s, s->focus + (ch == KEY_BTAB ? -1 : 1)); }

static void act_pause_all(Screen *s, int ch)
{
    (void)ch;
    pause_all(&s->lab);
}

static void act_cancel(Screen *s, int ch)
{
    (void)ch;
    Lab *lab = &s->lab;
    const sl_run_view *v = RunsPanel_selected(lab);
    if (!v)
        return;
    if (!lab->engine) {
        Lab_message(lab, "watching a store: runs are controlled by the process that trains them");
        return;
    }
    snprintf(s->cancel_id, sizeof s->cancel_id, "%s", v->id);
    s->ov = OV_CANCEL;
}

static void act_sample(Screen *s, int ch)
{
    (void)ch;
    Lab *lab = &s->lab;
    const sl_run_view *v = RunsPanel_selected(lab);
    if (!v)
        return;
    if (s->sample && !SampleJob_done(s->sample)) {
        Lab_message(lab, "a sample of %s is still being written", SampleJob_id(s->sample));
        return;
    }
    SampleJob_free(s->sample);
    char dir[1200];
    snprintf(dir, sizeof dir, "%.1000s/%s", lab->snap.dir, v->id);
    s->sample = SampleJob_start(dir, v->id, lab->opts->data_dir);
    if (!s->sample) {
        Lab_message(lab, "cannot start a thread to sample %s", v->id);
        return;
    }
    s->sample_drawn = 0;
    s->ov = OV_SAMPLE;
}

static void act_editor(Screen *s, int ch)
{
    (void)ch;
    sl_error err;
    Editor_free(s->editor);
    s->editor = Editor_open(s->lab.preset, s->lab.snap.dir, &err);
    if (!s->editor) {
        Lab_message(&s->lab, "%s", err.msg);
        return;
    }
    s->ov = OV_EDITOR;
}

static void act_axis(Screen *s, int ch)
{
    (void)ch;
    s->lab.axis = (Axis)((s->lab.axis + 1) % AXIS_COUNT);
    s->all_dirty = 1;
}

static void act_dots(Screen *s, int ch)
{
    (void)ch;
    Lab *lab = &s->lab;
    lab->plot_mode = CRT_utf8 ? (PlotMode)((lab->plot_mode + 1) % 3) : PLOT_ASCII;
    s->all_dirty = 1;
}

static void act_picker(Screen *s, int ch)
{
    (void)ch;
    Lab *lab = &s->lab;
    if (!lab->engine) {
        Lab_message(lab, "watching a store: no presets to pick");
        return;
    }
    Screen_scanPresets(s);
    s->pick = 0;
    for (int i = 0; i < s->n_presets; i++)
        if (!strcmp(s->pr_name[i], lab->preset_name))
            s->pick = i;
    s->ov = OV_PICKER;
}

static void act_export(Screen *s, int ch)
{
    (void)ch;
    Lab *lab = &s->lab;
    if (!s->export_dir[0])
        snprintf(s->export_dir, sizeof s->export_dir, "export/%s", lab->snap.name[0] ? lab->snap.name : "sweep");
    s->ov = OV_EXPORT;
}

static void act_theme(Screen *s, int ch)
{
    (void)ch;
    next_theme(s);
}

static void act_metric(Screen *s, int ch)
{
    Lab *lab = &s->lab;
    lab->metric = (Metric)((lab->metric + (ch == 'M' ? MET_COUNT - 1 : 1)) % MET_COUNT);
    Lab_message(lab, "curves: %s", Curves_metricName(lab->metric));
    s->panels[P_CURVES].dirty = 1;
}

static void act_smooth(Screen *s, int ch)
{
    (void)ch;
    Lab *lab = &s->lab;
    lab->smooth = (lab->smooth + 1) % CURVES_SMOOTHINGS;
    if (lab->smooth)
        Lab_message(lab, "curves smoothed: EMA weight %.2f (s changes it)", Curves_smoothing[lab->smooth]);
    else
        Lab_message(lab, "curves not smoothed");
    s->panels[P_CURVES].dirty = 1;
}

static void act_hide(Screen *s, int ch)
{
    Lab *lab = &s->lab;
    const sl_run_view *v = RunsPanel_selected(lab);
    if (!v)
        return;
    if (ch == 'S') {
        if (!strcmp(lab->solo, v->id)) {
            lab->solo[0] = 0;
            Lab_message(lab, "every run shown again");
        } else {
            snprintf(lab->solo, sizeof lab->solo, "%s", v->id);
            Lab_message(lab, "%s alone (S again shows all)", v->id);
        }
    } else {
        int k = -1;
        for (int i = 0; i < lab->n_hidden; i++)
            if (!strcmp(lab->hidden[i], v->id))
                k = i;
        if (k >= 0) {
            memmove(lab->hidden[k], lab->hidden[k + 1], (size_t)(lab->n_hidden - k - 1) * SL_RUN_ID_MAX);
            lab->n_hidden--;
            Lab_message(lab, "%s shown", v->id);
        } else if (lab->n_hidden < LAB_HIDDEN_MAX) {
            snprintf(lab->hidden[lab->n_hidden++], SL_RUN_ID_MAX, "%s", v->id);
            Lab_message(lab, "%s hidden (H again shows it)", v->id);
        }
    }
    s->all_dirty = 1;
}

static void act_sort(Screen *s, int ch)
{
    Lab *lab = &s->lab;
    if (ch == 'O')
        lab->sort_desc = !lab->sort_desc;
    else
        lab->sort_col = (lab->sort_col + 1) % RunsPanel_columns();
    Lab_message(lab, "runs sorted by %s, %s", RunsPanel_columnName(lab->sort_col),
                lab->sort_desc ? "descending" : "ascending");
    s->panels[P_RUNS].dirty = 1;
}

static void act_redraw(Screen *s, int ch)
{
    (void)ch;
    clearok(curscr, TRUE);
    s->all_dirty = 1;
}

#define ARROWS_UD KEY_UP, KEY_DOWN, 'k', 'j'
#define ARROWS_LR KEY_LEFT, KEY_RIGHT, 'h', 'l'

const KeyAction Screen_keys[] = {
    {KEYS_ANYWHERE, "? F1", "this help (Up/Down scroll it, any other key closes it)", {'?', KEY_F(1)}, act_help},
    {KEYS_ANYWHERE, "q", "quit (asks while runs train; they checkpoint)", {'q', 'Q'}, act_quit},
    {KEYS_ANYWHERE, "Tab S-Tab", "next / previous panel (or click a panel)", {'\t', KEY_BTAB}, act_focus},
    {KEYS_ANYWHERE, "mouse", "click focuses a panel and selects in it; the wheel scrolls", {0}, NULL},
    {KEYS_ANYWHERE, "space", "pause every run / resume them", {' '}, act_pause_all},
    {KEYS_ANYWHERE, "P R", "pause, resume the selected run", {'P', 'R'}, act_runs},
    {KEYS_ANYWHERE, "X", "cancel the selected run (asks first)", {'X'}, act_cancel},
    {KEYS_ANYWHERE, "D", "duplicate the selected run with another seed", {'D'}, act_runs},
    {KEYS_ANYWHERE, "v", "queue a verification run at the law plot's forecast N, D or C (prediction saved first)",
     {'v'}, act_verify},
    {KEYS_ANYWHERE, "w", "a short text sample of the selected run (from its last checkpoint)", {'w'}, act_sample},
    {KEYS_ANYWHERE, "E", "the preset editor: every key of the preset in force", {'E'}, act_editor},
    {KEYS_ANYWHERE, "a", "law plot axis: N, D, C", {'a'}, act_axis},
    {KEYS_ANYWHERE, "c", "learning curves against tokens, compute, steps", {'c'}, act_curves},
    {KEYS_ANYWHERE, "m M", "curves: next / previous metric (test loss, train loss, learning rate, "
                           "gradient norm, noise scale)", {'m', 'M'}, act_metric},
    {KEYS_ANYWHERE, "s", "curves: smoothing (EMA weight 0, 0.6, 0.8, 0.9, 0.95, 0.99)", {'s'}, act_smooth},
    {KEYS_ANYWHERE, "x", "curves: cursor on / off (it reads out the runs' values)", {'x'}, act_curves},
    {KEYS_ANYWHERE, "H", "hide / show the selected run's curve", {'H'}, act_hide},
    {KEYS_ANYWHERE, "S", "show the selected run alone / every run", {'S'}, act_hide},
    {KEYS_ANYWHERE, "o O", "runs: sort by the next column / reverse the order", {'o', 'O'}, act_sort},
    {KEYS_ANYWHERE, "p", "preset picker", {'p'}, act_picker},
    {KEYS_ANYWHERE, "e", "export fits.csv, runs.csv, curves.csv", {'e'}, act_export},
    {KEYS_ANYWHERE, "t", "next theme", {'t'}, act_theme},
    {KEYS_ANYWHERE, "b", "plot dots: braille, blocks, ASCII", {'b'}, act_dots},
    {KEYS_ANYWHERE, "Ctrl-L", "redraw the screen", {12}, act_redraw},
    {P_CURVES, "Left Right h l", "move the cursor (turns it on; click the plot to place it)", {ARROWS_LR}, act_panel},
    {P_LAW, "Left Right h l", "law plot axis: N, D, C", {ARROWS_LR}, act_panel},
    {P_LAW, "+ -", "forecast one decade further / nearer past the largest run, with its band",
     {'+', '-', '=', '_'}, act_panel},
    {P_FITS, "Up Down j k", "scroll the laws", {ARROWS_UD}, act_panel},
    {P_RUNS, "Up Down j k", "select a run", {ARROWS_UD}, act_panel},
    {P_RUNS, "PgUp PgDn g G", "a page up / down, first / last run",
     {KEY_PPAGE, KEY_NPAGE, KEY_HOME, KEY_END, 'g', 'G'}, act_panel},
    {P_RUNS, "Left Right h l", "scroll the columns sideways (the id stays)", {ARROWS_LR}, act_panel},
    {P_RUNS, "+ -", "raise / lower the selected run's priority (lower starts first)", {'+', '-', '='}, act_panel},
    {P_SELECT, "Up Down j k", "the axis: N, D, C (also the law plot's)", {ARROWS_UD}, act_panel},
    {P_SELECT, "Left Right h l", "the field: min, max, points per decade", {ARROWS_LR}, act_panel},
    {P_SELECT, "+ -", "change the field (the preview shows the runs added or dropped)",
     {'+', '-', '=', '_'}, act_panel},
    {P_SELECT, "Enter", "apply the previewed sweep", {'\n', '\r', KEY_ENTER}, act_panel},
    {P_GAUGE, "Up Down j k", "scroll the runs", {ARROWS_UD}, act_panel},
    {KEYS_EDITOR, "Up Down PgUp PgDn", "select a key", {0}, NULL},
    {KEYS_EDITOR, "Enter", "edit its value (Enter checks it as loading a preset does, Esc cancels)", {0}, NULL},
    {KEYS_EDITOR, "A", "apply the previewed runs to the live sweep (queued runs only)", {0}, NULL},
    {KEYS_EDITOR, "s", "save the edited preset as a new one in the user's presets folder", {0}, NULL},
    {KEYS_EDITOR, "Esc q E", "close the editor", {0}, NULL},
    {0, NULL, NULL, {0}, NULL},
};

const char *Screen_scopeName(int scope)
{
    if (scope == KEYS_ANYWHERE)
        return "anywhere";
    if (scope == KEYS_EDITOR)
        return "preset editor";
    static const char *const names[P_COUNT] = {"learning curves", "law plot", "fits", "runs",
                                                "selectors", "overfitting gauge"};
    return scope >= 0 && scope < P_COUNT ? names[scope] : "?";
}

static const KeyAction *lookup(int scope, int ch)
{
    for (int i = 0; Screen_keys[i].label; i++) {
        if (Screen_keys[i].scope != scope || !Screen_keys[i].act)
            continue;
        for (int k = 0; k < 12 && Screen_keys[i].codes[k]; k++)
            if (Screen_keys[i].codes[k] == ch)
                return &Screen_keys[i];
    }
    return NULL;
}

void Screen_key(Screen *s, int ch)
{
    Lab *lab = &s->lab;
    if (ch == KEY_RESIZE) {
        /* our SIGWINCH handler resized already */
        s->all_dirty = 1;
        return;
    }
    if (s->ov != OV_NONE) {
        Screen_overlayKey(s, ch);
        s->all_dirty = 1;
        return;
    }
    if (ch == KEY_MOUSE) {
        MEVENT ev;
        if (getmouse(&ev) != OK)
            return;
        int i = panel_at(s, ev.y, ev.x);
        if (i < 0)
            return;
        if (ev.bstate & (BUTTON4_PRESSED | BUTTON5_PRESSED)) {
            Panel *p = &s->panels[i];
            if (p->cls->key)
                handle_flags(s, p, p->cls->key(p, lab, ev.bstate & BUTTON4_PRESSED ? KEY_UP : KEY_DOWN));
            return;
        }
        focus(s, i);
        Panel *p = &s->panels[i];
        if (p->cls->click)
            handle_flags(s, p, p->cls->click(p, lab, ev.y - p->y, ev.x - p->x));
        return;
    }
    if (s->too_small) {
        if (ch == 'q' || ch == 'Q')
            ask_quit(s);
        return;
    }
    const KeyAction *a = lookup(s->focus, ch);
    if (!a)
        a = lookup(KEYS_ANYWHERE, ch);
    if (!a)
        return;
    a->act(s, ch);
    s->all_dirty |= s->ov != OV_NONE;
}
