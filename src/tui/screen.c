/* screen: see screen.h. One UI thread owns curses: it polls stdin, a self-pipe
 * that the SIGINT, SIGTERM, SIGHUP and SIGWINCH handlers write to, and the
 * engine's wake-up pipe, takes a snapshot at most every FRAME seconds, and
 * redraws only the panels whose data moved, with one doupdate per frame. */
#include "screen.h"
#include "panel_editor.h"
#include "sampletext.h"
#include "settings.h"

#include "scalelab/machine.h"
#include "scalelab/sigpipe.h"
#include "scalelab/store.h"

#include <dirent.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>


#define FRAME 0.05      /* seconds: at most 20 frames a second */
#define SUBMIT_GAP 1.0  /* seconds between hand-overs to the fitter */
#define PLOT_FRAME 0.2  /* seconds between redraws of the plots for new rows */
#define MIN_W 80
#define MIN_H 24

typedef enum { OV_NONE, OV_HELP, OV_PICKER, OV_EXPORT, OV_QUIT, OV_CANCEL, OV_SAMPLE, OV_EDITOR } Overlay;

#define MAX_PRESETS 64

struct Screen {
    Lab lab;
    Panel panels[P_COUNT];
    WINDOW *status;
    int focus;
    int too_small;
    Overlay ov;
    WINDOW *ovwin;
    int all_dirty;
    /* preset picker */
    char pr_path[MAX_PRESETS][1024];
    char pr_name[MAX_PRESETS][64];
    char pr_desc[MAX_PRESETS][256];
    int n_presets, pick;
    /* export prompt */
    char export_dir[512];
    /* themes */
    char themes[32][64];
    int n_themes;
    int quit;
    int fail;          /* a preset switch failed: fail_err says why */
    sl_error fail_err;
    double t_start, last_frame, last_submit, last_tick, last_plots;
    int plots_stale;
    uint64_t submitted_gen;
    int help_scroll;
    Settings settings;
    SampleJob *sample;   /* the latest text sample (w), running or done */
    int sample_drawn;    /* the overlay shows the finished sample */
    Editor *editor;      /* the preset editor (E), while open */
    char cancel_id[SL_RUN_ID_MAX]; /* the run the cancel question is about */
};

const PanelClass *const Screen_classes[P_COUNT] = {&CurvesPanel_class, &LawPanel_class,
                                                   &FitsPanel_class,   &RunsPanel_class,
                                                   &SelectPanel_class, &GaugePanel_class};

/* ---- signals ------------------------------------------------------------------
 * The self-pipe of sigpipe.h (shared with the headless commands): the UI thread
 * acts on each signal's byte. Installing handlers also keeps curses from
 * installing its own (it only replaces default dispositions), which would exit
 * from a foreign thread. */

static const int caught[] = {SIGINT, SIGTERM, SIGHUP, SIGWINCH};
#define N_CAUGHT (int)(sizeof caught / sizeof caught[0])

/* -1 when no pipe could be made (nothing is left installed then). */
static int signals_install(void)
{
    if (sl_sigpipe_open(caught, N_CAUGHT) >= 0)
        return 0;
    sl_sigpipe_close();
    return -1;
}
static void signals_restore(void) { sl_sigpipe_close(); }

/* ---- layout ------------------------------------------------------------------ */

static void place(Panel *p, int y, int x, int h, int w)
{
    if (p->win)
        delwin(p->win);
    p->y = y;
    p->x = x;
    p->h = h;
    p->w = w;
    p->win = newwin(h, w, y, x);
    CRT_background(p->win);
    p->dirty = 1;
}

static void layout(Screen *s)
{
    int H = LINES, W = COLS;
    s->too_small = W < MIN_W || H < MIN_H;
    if (s->status)
        delwin(s->status);
    s->status = newwin(1, W, H - 1, 0);
    CRT_background(s->status);
    werase(stdscr);
    wnoutrefresh(stdscr);
    if (s->too_small) {
        for (int i = 0; i < P_COUNT; i++)
            if (s->panels[i].win) {
                delwin(s->panels[i].win);
                s->panels[i].win = NULL;
            }
        return;
    }
    int main_h = H - 1, lw = W * 56 / 100, rw = W - lw;
    int ch = main_h * 55 / 100;
    place(&s->panels[P_CURVES], 0, 0, ch, lw);
    place(&s->panels[P_LAW], ch, 0, main_h - ch, lw);
    int sel_h = 7, fits_h = (main_h - sel_h) * 45 / 100;
    int runs_h = (main_h - sel_h - fits_h) * 55 / 100;
    if (runs_h < 5)
        runs_h = 5;
    int gauge_h = main_h - sel_h - fits_h - runs_h;
    place(&s->panels[P_FITS], 0, lw, fits_h, rw);
    place(&s->panels[P_RUNS], fits_h, lw, runs_h, rw);
    place(&s->panels[P_SELECT], fits_h + runs_h, lw, sel_h, rw);
    place(&s->panels[P_GAUGE], fits_h + runs_h + sel_h, lw, gauge_h, rw);
    for (int i = 0; i < P_COUNT; i++)
        s->panels[i].focused = i == s->focus;
    s->all_dirty = 1;
}

/* Windows go before the terminal is resized (curses would otherwise clip and
 * move them) and come back laid out for the new size. */
static void drop_windows(Screen *s)
{
    for (int i = 0; i < P_COUNT; i++)
        if (s->panels[i].win) {
            delwin(s->panels[i].win);
            s->panels[i].win = NULL;
        }
    if (s->status) {
        delwin(s->status);
        s->status = NULL;
    }
    if (s->ovwin) {
        delwin(s->ovwin);
        s->ovwin = NULL;
    }
}

static void resize(Screen *s)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0 || ws.ws_col == 0)
        return;
    drop_windows(s);
    resize_term(ws.ws_row, ws.ws_col);
    clearok(curscr, TRUE);
    layout(s);
}

/* ---- overlays ---------------------------------------------------------------- */

static WINDOW *overlay_win(Screen *s, int h, int w)
{
    if (h > LINES - 2)
        h = LINES - 2;
    if (w > COLS - 2)
        w = COLS - 2;
    if (s->ovwin)
        delwin(s->ovwin);
    s->ovwin = newwin(h, w, (LINES - h) / 2, (COLS - w) / 2);
    CRT_background(s->ovwin);
    werase(s->ovwin);
    return s->ovwin;
}

/* The help: the key table by scope, a heading before each scope's keys. */
static int help_lines(int *scope_of, int *entry_of, int max)
{
    int n = 0;
    static const int scopes[] = {KEYS_ANYWHERE, P_CURVES, P_LAW, P_FITS, P_RUNS, P_SELECT, P_GAUGE, KEYS_EDITOR};
    for (size_t k = 0; k < sizeof scopes / sizeof scopes[0]; k++) {
        int first = 1;
        for (int i = 0; Screen_keys[i].label && n + 2 < max; i++) {
            if (Screen_keys[i].scope != scopes[k])
                continue;
            if (first) {
                scope_of[n] = scopes[k];
                entry_of[n++] = -1;
                first = 0;
            }
            scope_of[n] = scopes[k];
            entry_of[n++] = i;
        }
    }
    return n;
}

static void draw_help(Screen *s)
{
    int scope_of[128], entry_of[128];
    int n = help_lines(scope_of, entry_of, 128);
    WINDOW *w = overlay_win(s, n + 4, 100);
    CRT_box(w, COL_FOCUS, "Keys (Up/Down scroll, any other key closes)");
    int rows = getmaxy(w) - 3, iw = getmaxx(w) - 4;
    if (s->help_scroll > n - rows)
        s->help_scroll = n - rows;
    if (s->help_scroll < 0)
        s->help_scroll = 0;
    for (int r = 0; r < rows && s->help_scroll + r < n; r++) {
        int i = s->help_scroll + r, y = 2 + r;
        if (entry_of[i] < 0) {
            CRT_color(w, COL_HEADER);
            CRT_text(w, y, 2, iw, Screen_scopeName(scope_of[i]));
            continue;
        }
        const KeyAction *k = &Screen_keys[entry_of[i]];
        CRT_color(w, COL_TITLE);
        CRT_text(w, y, 3, 18, k->label);
        CRT_color(w, COL_TEXT);
        CRT_text(w, y, 22, iw - 20, k->what);
    }
    Lab_scrollCue(w, s->help_scroll, rows, n);
}

/* One preset file of the search path (sl_search_list): listed under its name. */
static int add_preset(void *user, const char *path, const char *file)
{
    (void)file;
    Screen *s = user;
    int i = s->n_presets;
    if (snprintf(s->pr_path[i], sizeof s->pr_path[i], "%s", path) >= (int)sizeof s->pr_path[i])
        return 0;
    sl_preset p;
    sl_error err;
    memset(&p, 0, sizeof p);
    if (sl_preset_load(&p, s->pr_path[i], &err) != SL_OK)
        return 0;
    int dup = 0;
    for (int k = 0; k < i; k++)
        dup |= !strcmp(s->pr_name[k], p.name);
    if (!dup) {
        snprintf(s->pr_name[i], sizeof s->pr_name[i], "%s", p.name);
        snprintf(s->pr_desc[i], sizeof s->pr_desc[i], "%s", p.description);
        s->n_presets++;
    }
    sl_preset_free(&p);
    return s->n_presets >= MAX_PRESETS;
}

/* The presets of the one search path that --preset uses (util.h). */
static void scan_presets(Screen *s)
{
    s->n_presets = 0;
    sl_search_list("presets", add_preset, s);
    /* sorted by name */
    for (int i = 1; i < s->n_presets; i++)
        for (int k = i; k > 0 && strcmp(s->pr_name[k - 1], s->pr_name[k]) > 0; k--) {
            char t[1024];
            memcpy(t, s->pr_path[k], sizeof t);
            memcpy(s->pr_path[k], s->pr_path[k - 1], sizeof t);
            memcpy(s->pr_path[k - 1], t, sizeof t);
            char n[64];
            memcpy(n, s->pr_name[k], sizeof n);
            memcpy(s->pr_name[k], s->pr_name[k - 1], sizeof n);
            memcpy(s->pr_name[k - 1], n, sizeof n);
            char d[256];
            memcpy(d, s->pr_desc[k], sizeof d);
            memcpy(s->pr_desc[k], s->pr_desc[k - 1], sizeof d);
            memcpy(s->pr_desc[k - 1], d, sizeof d);
        }
}

static void draw_picker(Screen *s)
{
    WINDOW *w = overlay_win(s, s->n_presets + 5, COLS - 8);
    CRT_box(w, COL_FOCUS, "Presets: Enter opens one (the current sweep checkpoints), Esc closes");
    int iw = getmaxx(w) - 4;
    if (s->n_presets == 0) {
        CRT_color(w, COL_WARN);
        CRT_text(w, 2, 2, iw, "no presets found in presets/ or $SCALELAB_PRESETS");
    }
    /* the list scrolls to keep the pick in view */
    int rows = getmaxy(w) - 3, first = s->pick - rows + 1 > 0 ? s->pick - rows + 1 : 0;
    for (int i = first; i < s->n_presets && i - first < rows; i++) {
        int on = i == s->pick, y = 2 + i - first;
        CRT_color(w, on ? COL_SELECTION : COL_TITLE);
        if (on)
            mvwhline(w, y, 1, ' ', getmaxx(w) - 2);
        CRT_text(w, y, 2, 14, s->pr_name[i]);
        if (!on)
            CRT_color(w, COL_TEXT);
        CRT_text(w, y, 17, iw - 15, s->pr_desc[i]);
    }
    Lab_scrollCue(w, first, rows, s->n_presets);
}

static void draw_export(Screen *s)
{
    WINDOW *w = overlay_win(s, 7, 70);
    CRT_box(w, COL_FOCUS, "Export fits.csv, runs.csv, curves.csv");
    CRT_color(w, COL_TEXT);
    CRT_text(w, 2, 2, 66, "Into folder (Enter writes, Esc cancels):");
    CRT_color(w, COL_SELECTION);
    mvwhline(w, 3, 2, ' ', getmaxx(w) - 4);
    CRT_text(w, 3, 2, getmaxx(w) - 4, s->export_dir);
}

static void draw_quit(Screen *s)
{
    WINDOW *w = overlay_win(s, 7, 66);
    CRT_box(w, COL_WARN, "Quit?");
    CRT_color(w, COL_TEXT);
    CRT_text(w, 2, 2, 62, "Runs are training. They checkpoint and stop;");
    char buf[160];
    snprintf(buf, sizeof buf, "`scalelab resume %.100s` continues them.", s->lab.snap.dir);
    CRT_text(w, 3, 2, 62, buf);
    CRT_color(w, COL_TITLE);
    CRT_text(w, 5, 2, 62, "Quit now? [y/n]");
}

static void draw_cancel(Screen *s)
{
    WINDOW *w = overlay_win(s, 7, 70);
    CRT_box(w, COL_WARN, "Cancel?");
    CRT_color(w, COL_TEXT);
    char buf[160];
    snprintf(buf, sizeof buf, "Cancel run %s?", s->cancel_id);
    CRT_text(w, 2, 2, 66, buf);
    CRT_text(w, 3, 2, 66, "It checkpoints and stops; R queues it again.");
    CRT_color(w, COL_TITLE);
    CRT_text(w, 5, 2, 66, "Cancel it? [y/n]");
}

/* A sample's text for the screen: control bytes as spaces, and on an ASCII
 * terminal (or in a broken UTF-8 sequence) other bytes as '?'. */
static void clean_text(const char *in, char *out, size_t n)
{
    size_t k = 0;
    for (const unsigned char *c = (const unsigned char *)in; *c && k + 5 < n; c++) {
        if (*c == '\n' || (*c >= 32 && *c < 127)) {
            out[k++] = (char)*c;
        } else if (*c < 32 || *c == 127) {
            out[k++] = ' ';
        } else if (CRT_utf8) {
            int len = (*c & 0xE0) == 0xC0 ? 2 : (*c & 0xF0) == 0xE0 ? 3 : (*c & 0xF8) == 0xF0 ? 4 : 0, ok = len > 0;
            for (int i = 1; ok && i < len; i++)
                ok = (c[i] & 0xC0) == 0x80;
            if (ok) {
                memcpy(out + k, c, (size_t)len);
                k += (size_t)len;
                c += len - 1;
            } else
                out[k++] = '?';
        } else {
            out[k++] = '?';
        }
    }
    out[k] = 0;
}

static void draw_sample(Screen *s)
{
    WINDOW *w = overlay_win(s, LINES - 4, COLS - 8 < 100 ? COLS - 8 : 100);
    const SampleJob *j = s->sample;
    char title[160];
    int done = SampleJob_done(j);
    if (done && SampleJob_text(j))
        snprintf(title, sizeof title, "Sample of %s: step %ld, %s, temperature %.1f, seed %d (any key closes)",
                 SampleJob_id(j), SampleJob_step(j), SampleJob_tokenizer(j), SAMPLE_TEMPERATURE, SAMPLE_SEED);
    else
        snprintf(title, sizeof title, "Sample of %s", SampleJob_id(j));
    CRT_box(w, COL_FOCUS, title);
    int iw = getmaxx(w) - 4, ih = getmaxy(w) - 3;
    if (!done) {
        CRT_color(w, COL_DIM);
        CRT_text(w, 2, 2, iw, "sampling (loading the model and its tokenizer) ...");
        return;
    }
    if (!SampleJob_text(j)) {
        CRT_color(w, COL_BAD);
        CRT_text(w, 2, 2, iw, SampleJob_error(j));
        return;
    }
    static char clean[4 * SAMPLE_TOKENS * 8 + 16];
    clean_text(SampleJob_text(j), clean, sizeof clean);
    CRT_color(w, COL_TEXT);
    /* wrapped at the overlay's width, counted in characters */
    int y = 2;
    const char *c = clean;
    while (*c && y < 2 + ih) {
        const char *start = c;
        int cols = 0;
        while (*c && *c != '\n' && cols < iw) {
            c++;
            while ((*c & 0xC0) == 0x80)
                c++;
            cols++;
        }
        mvwaddnstr(w, y++, 2, start, (int)(c - start));
        if (*c == '\n')
            c++;
    }
}

static void draw_overlay(Screen *s)
{
    switch (s->ov) {
    case OV_HELP: draw_help(s); break;
    case OV_PICKER: draw_picker(s); break;
    case OV_EXPORT: draw_export(s); break;
    case OV_QUIT: draw_quit(s); break;
    case OV_CANCEL: draw_cancel(s); break;
    case OV_SAMPLE: draw_sample(s); break;
    case OV_EDITOR: Editor_draw(s->editor, overlay_win(s, LINES - 2, COLS - 2)); break;
    default: return;
    }
    wnoutrefresh(s->ovwin);
}

static void close_overlay(Screen *s)
{
    s->ov = OV_NONE;
    if (s->ovwin) {
        delwin(s->ovwin);
        s->ovwin = NULL;
    }
    s->all_dirty = 1;
}

/* ---- the sources: engine or store ---------------------------------------------- */

static void corpus_label(Lab *lab)
{
    const char *c = lab->preset ? lab->preset->corpus : "";
    const char *b = strrchr(c, '/');
    snprintf(lab->corpus, sizeof lab->corpus, "%.63s", b && b[1] ? b + 1 : c[0] ? c : "kjv");
}

static void begin_fits(Screen *s)
{
    Lab *lab = &s->lab;
    const sl_preset *p = lab->preset;
    lab->fitter = Fitter_new(p ? (const char (*)[32])p->laws : NULL, p ? p->n_laws : 0,
                             p && p->kind == SL_SWEEP_ND);
    lab->fits_gen = 0;
    FitSet_free(&lab->fits);
    for (int l = 0; l < FIT_ENTRIES; l++)
        for (int j = 0; j < SL_FIT_MAX_PARAMS; j++) {
            lab->fit_prev[l][j] = NAN;
            lab->fit_moved[l][j] = -1e9;
        }
    s->submitted_gen = 0;
    lab->range_init = 0;
}

static void end_source(Screen *s)
{
    Lab *lab = &s->lab;
    Fitter_free(lab->fitter);
    lab->fitter = NULL;
    if (lab->engine) {
        sl_engine_stop(lab->engine);
        sl_engine_free(lab->engine);
        lab->engine = NULL;
    }
    Watch_free(lab->watch);
    lab->watch = NULL;
    sl_snapshot_free(&lab->snap);
    FitSet_free(&lab->fits);
}

/* Opens the engine on a preset file, or on a store to continue. */
static int open_engine(Screen *s, const char *preset_path, const sl_preset *loaded,
                       const char *store, sl_error *err)
{
    Lab *lab = &s->lab;
    sl_engine_opts eo;
    sl_engine_opts_default(&eo);
    eo.runs_dir = lab->opts->runs;
    eo.data_dir = lab->opts->data_dir;
    eo.keep_alive = 1;
    int rc;
    if (store) {
        eo.runs_dir = NULL;
        rc = sl_engine_open_store(&lab->engine, store, &eo, err);
    } else if (loaded) {
        rc = sl_engine_new(&lab->engine, loaded, &eo, err);
    } else {
        sl_preset p;
        memset(&p, 0, sizeof p);
        rc = sl_preset_load(&p, preset_path, err);
        if (rc == SL_OK)
            rc = sl_engine_new(&lab->engine, &p, &eo, err);
        sl_preset_free(&p);
    }
    if (rc != SL_OK)
        return rc;
    lab->preset = sl_engine_preset(lab->engine);
    snprintf(lab->preset_name, sizeof lab->preset_name, "%s", lab->preset->name);
    corpus_label(lab);
    return SL_OK;
}

static int start_engine(Screen *s, sl_error *err)
{
    begin_fits(s);
    return sl_engine_start(s->lab.engine, err);
}

/* Stops the sweep (its runs checkpoint) and opens another preset's. A failure
 * ends the lab: the old sweep is stopped already. */
static int switch_preset(Screen *s, const char *path)
{
    Lab_message(&s->lab, "stopping the sweep (runs checkpoint) ...");
    StatusBar_draw(s->status, &s->lab);
    wnoutrefresh(s->status);
    doupdate();
    end_source(s);
    int rc = open_engine(s, path, NULL, NULL, &s->fail_err);
    if (rc == SL_OK)
        rc = start_engine(s, &s->fail_err);
    if (rc != SL_OK) {
        s->fail = rc;
        return rc;
    }
    Lab_message(&s->lab, "preset %s: %d runs in %s", s->lab.preset_name, s->lab.preset->n_runs,
                sl_engine_dir(s->lab.engine));
    s->all_dirty = 1;
    return SL_OK;
}

/* ---- keys ---------------------------------------------------------------------- */

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

/* Resumes the runs whose pause landed after space asked to resume them. */
static void resume_pending(Lab *lab)
{
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
            layout(s);
            Lab_message(lab, "theme %s", t.name);
            return;
        }
        Lab_message(lab, "%s", err.msg);
    }
}

static void overlay_key(Screen *s, int ch)
{
    Lab *lab = &s->lab;
    switch (s->ov) {
    case OV_HELP:
        if (ch == KEY_UP || ch == 'k')
            s->help_scroll--;
        else if (ch == KEY_DOWN || ch == 'j')
            s->help_scroll++;
        else if (ch == KEY_PPAGE)
            s->help_scroll -= 10;
        else if (ch == KEY_NPAGE)
            s->help_scroll += 10;
        else
            close_overlay(s);
        break;
    case OV_QUIT:
        if (ch == 'y' || ch == 'Y' || ch == 'q')
            s->quit = 1;
        close_overlay(s);
        break;
    case OV_SAMPLE:
        close_overlay(s);
        break;
    case OV_EDITOR:
        if (Editor_key(s->editor, lab, ch)) {
            Editor_free(s->editor);
            s->editor = NULL;
            close_overlay(s);
        }
        break;
    case OV_CANCEL:
        if (ch == 'y' || ch == 'Y')
            RunsPanel_act(lab, s->cancel_id, 'X');
        else
            Lab_message(lab, "%s: not cancelled", s->cancel_id);
        close_overlay(s);
        break;
    case OV_PICKER:
        if (ch == KEY_UP || ch == 'k')
            s->pick = s->pick > 0 ? s->pick - 1 : 0;
        else if (ch == KEY_DOWN || ch == 'j')
            s->pick = s->pick + 1 < s->n_presets ? s->pick + 1 : s->pick;
        else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
            close_overlay(s);
            if (s->n_presets > 0 && switch_preset(s, s->pr_path[s->pick]) != SL_OK)
                s->quit = 1;
        } else if (ch == 27 || ch == 'q' || ch == 'p')
            close_overlay(s);
        break;
    case OV_EXPORT: {
        size_t l = strlen(s->export_dir);
        if (ch == 27) {
            close_overlay(s);
        } else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
            sl_error err;
            close_overlay(s);
            if (Export_write(lab, s->export_dir, &err) == SL_OK)
                Lab_message(lab, "exported fits.csv, runs.csv, curves.csv to %s", s->export_dir);
            else
                Lab_message(lab, "export failed: %s", err.msg);
        } else if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && l > 0) {
            s->export_dir[l - 1] = 0;
        } else if (ch >= 32 && ch < 127 && l + 1 < sizeof s->export_dir) {
            s->export_dir[l] = (char)ch;
            s->export_dir[l + 1] = 0;
        }
        break;
    }
    default: break;
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
    scan_presets(s);
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
    {KEYS_ANYWHERE, "v", "queue a verification run at the law plot's forecast N (prediction saved first)",
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

static void key(Screen *s, int ch)
{
    Lab *lab = &s->lab;
    if (ch == KEY_RESIZE) {
        /* our SIGWINCH handler resized already */
        s->all_dirty = 1;
        return;
    }
    if (s->ov != OV_NONE) {
        overlay_key(s, ch);
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

/* ---- frames -------------------------------------------------------------------- */

static void draw_small(void)
{
    werase(stdscr);
    CRT_color(stdscr, COL_WARN);
    char buf[160];
    snprintf(buf, sizeof buf, "scalelab needs at least %dx%d (now %dx%d): enlarge the window", MIN_W,
             MIN_H, COLS, LINES);
    int y = LINES / 2, x = (COLS - (int)strlen(buf)) / 2;
    mvwaddnstr(stdscr, y > 0 ? y : 0, x > 0 ? x : 0, buf, COLS);
    CRT_color(stdscr, COL_DIM);
    mvwaddnstr(stdscr, y + 1 < LINES ? y + 1 : 0, x > 0 ? x : 0, "q quits", COLS);
    wnoutrefresh(stdscr);
}

static void frame(Screen *s, int force)
{
    Lab *lab = &s->lab;
    lab->now = sl_now();
    /* neither: the frame benchmark, which fills the snapshot itself */
    int snap_moved = lab->engine  ? sl_engine_snapshot(lab->engine, &lab->snap)
                     : lab->watch ? Watch_snapshot(lab->watch, &lab->snap, 1.0)
                                  : 0;
    if (snap_moved) {
        if (!lab->range_init && lab->snap.n_runs)
            Select_init(lab);
        if (lab->n_resume && lab->engine)
            resume_pending(lab);
        s->panels[P_RUNS].dirty = s->panels[P_SELECT].dirty = 1;
        s->plots_stale = 1;
    }
    /* The plots follow new rows at PLOT_FRAME: every frame of them costs the
     * terminal as much as it costs us, and the eye gains nothing at 20 Hz. */
    if (s->plots_stale && lab->now - s->last_plots >= PLOT_FRAME) {
        s->panels[P_CURVES].dirty = s->panels[P_LAW].dirty = s->panels[P_GAUGE].dirty = 1;
        s->plots_stale = 0;
        s->last_plots = lab->now;
        snap_moved = 1;
    }
    if (lab->fitter && lab->snap.generation != s->submitted_gen && lab->now - s->last_submit >= SUBMIT_GAP) {
        Fitter_submit(lab->fitter, &lab->snap);
        s->submitted_gen = lab->snap.generation;
        s->last_submit = lab->now;
    }
    if (lab->fitter && Fitter_take(lab->fitter, &lab->fits, &lab->fits_gen)) {
        FitsPanel_track(lab);
        s->panels[P_FITS].dirty = s->panels[P_CURVES].dirty = s->panels[P_LAW].dirty =
            s->panels[P_GAUGE].dirty = 1;
    }
    if (lab->snap.gflops > 0)
        lab->gflops_seen = lab->snap.gflops;
    if (s->ov == OV_EDITOR && Editor_poll(s->editor, lab))
        s->all_dirty = 1;
    if (s->ov == OV_SAMPLE && !s->sample_drawn && SampleJob_done(s->sample)) {
        s->sample_drawn = 1;
        s->all_dirty = 1;
    }
    int tick = lab->now - s->last_tick >= 1.0;
    if (tick) {
        s->last_tick = lab->now;
        s->panels[P_FITS].dirty = 1; /* the moved marks fade */
    }
    int any = force || s->all_dirty || snap_moved || tick;
    if (s->too_small) {
        if (any)
            draw_small();
    } else {
        for (int i = 0; i < P_COUNT; i++) {
            Panel *p = &s->panels[i];
            if (!(p->dirty || s->all_dirty || force))
                continue;
            p->cls->draw(p, lab);
            wnoutrefresh(p->win);
            p->dirty = 0;
            any = 1;
        }
    }
    if (any) {
        StatusBar_draw(s->status, lab);
        wnoutrefresh(s->status);
        if (s->ov != OV_NONE)
            draw_overlay(s);
        doupdate();
    }
    s->all_dirty = 0;
    s->last_frame = lab->now;
}

/* ---- the frame benchmark ----------------------------------------------------------- */

/* A sweep of 20 runs with 200 rows each, and fits of it, drawn `frames` times
 * with every panel redrawn: the worst case of a frame. */
static int bench_frames(Screen *s, int frames)
{
    Lab *lab = &s->lab;
    sl_snapshot *sn = &lab->snap;
    sn->n_runs = 20;
    sn->runs = sl_xcalloc(20, sizeof *sn->runs);
    snprintf(sn->name, sizeof sn->name, "bench");
    snprintf(lab->preset_name, sizeof lab->preset_name, "bench");
    snprintf(lab->corpus, sizeof lab->corpus, "synthetic");
    for (int i = 0; i < 20; i++) {
        sl_run_view *v = &sn->runs[i];
        snprintf(v->id, sizeof v->id, "r%03d-bench", i);
        v->index = i;
        v->n = 3e3 * pow(10, i / 6.0);
        v->shape = (sl_config){2 + i / 4, 32 + 8 * i, 4, 128 + 32 * i, 64, 256};
        v->batch = 32;
        v->flops_per_token = 6 * v->n;
        v->planned_steps = 2000;
        v->planned_tokens = 2000.0 * 32 * 64;
        v->state = i < 14 ? SL_RUN_DONE : i < 16 ? SL_RUN_RUNNING : SL_RUN_QUEUED;
        v->n_rows = 200;
        v->rows = sl_xcalloc(200, sizeof *v->rows);
        for (int k = 0; k < 200; k++) {
            sl_metric_row *r = &v->rows[k];
            r->step = 10 * (k + 1);
            r->tokens = r->step * 32.0 * 64;
            r->flops = r->tokens * v->flops_per_token;
            r->test_loss = pow(8e13 / v->n, 0.076) + pow(2e3 / r->step, 0.76) + 0.01 * sin(k + i);
        }
        v->done_steps = 2000;
        v->done_tokens = v->planned_tokens;
        v->best_test_loss = v->rows[199].test_loss;
        v->tokens_per_s = v->state == SL_RUN_RUNNING ? 2e4 : 0;
        v->eta_s = v->state == SL_RUN_RUNNING ? 120 : NAN;
    }
    sn->generation = 1;
    sn->n_done = 14;
    sn->n_running = 2;
    sn->n_queued = 4;
    sn->workers = 2;
    sn->cores = 2;
    /* fits as the fitter would publish them (with intervals) */
    static const sl_fit_law laws[] = {SL_LAW_POWER_N, SL_LAW_KAPLAN_ND, SL_LAW_KAPLAN_NS, SL_LAW_CMIN};
    lab->fits.n = 4;
    for (int i = 0; i < 4; i++) {
        sl_fit_point *pts;
        size_t n;
        int curves = laws[i] == SL_LAW_KAPLAN_NS || laws[i] == SL_LAW_CMIN;
        Fitter_points(sn, curves ? FIT_POINTS_ROWS : FIT_POINTS_RUNS, &pts, &n);
        sl_fit_options o;
        sl_fit_options_default(&o);
        o.bootstrap = 50;
        sl_error err;
        lab->fits.law[i] = laws[i];
        lab->fits.ok[i] = sl_fit(laws[i], pts, n, &o, &lab->fits.res[i], &err) == SL_OK;
        free(pts);
    }
    FitsPanel_track(lab);
    lab->range_init = 0;
    Select_init(lab);
    struct timespec a, b;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    for (int f = 0; f < frames; f++) {
        /* a new evaluation every frame, so that curses has output to compute */
        sl_run_view *v = &sn->runs[14 + f % 2];
        v->rows[199].test_loss *= f % 2 ? 1.001 : 0.999;
        sn->elapsed_s = f * FRAME;
        /* new fits once a second at 20 frames a second, as the fitter gives them */
        if (f % 20 == 0) {
            lab->fits_gen++;
            FitsPanel_track(lab);
        }
        s->all_dirty = 1;
        frame(s, 1);
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    double ms = ((double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6) / frames;
    int cols = COLS, lines = LINES;
    CRT_done();
    printf("frames: %d at %dx%d, 20 runs x 200 rows, every panel redrawn, new fits every 20th: "
           "%.3f ms CPU per frame\n",
           frames, cols, lines, ms);
    return SL_OK;
}

/* ---- the lab --------------------------------------------------------------------- */

static int load_theme(Theme *t, const char *name, sl_error *err)
{
    char path[1024];
    if (!name) {
        /* the default theme may be missing (an uninstalled binary elsewhere) */
        if (Theme_find("dark", path, sizeof path, err) != SL_OK) {
            Theme_builtin(t);
            return SL_OK;
        }
        return Theme_load(t, path, err);
    }
    int rc = Theme_find(name, path, sizeof path, err);
    return rc == SL_OK ? Theme_load(t, path, err) : rc;
}

static void free_screen(Screen *s)
{
    for (int i = 0; i < P_COUNT; i++) {
        if (s->panels[i].win)
            delwin(s->panels[i].win);
        Plot_free(&s->panels[i].plot);
    }
    if (s->status)
        delwin(s->status);
    if (s->ovwin)
        delwin(s->ovwin);
}

int sl_tui_run(const sl_tui_opts *o, sl_error *err)
{
    /* Only the character set follows the user (UTF-8 boxes and braille for
     * curses); LC_NUMERIC and the rest stay "C" for the whole process, so the
     * numbers the engine's threads write and read (metrics.csv, status.json,
     * exports) are the same under any locale. A process-wide setting, not
     * uselocale() around each write: every thread and library (cJSON's strtod,
     * the CSV reader) would need it, and one forgotten call mixes formats. */
    setlocale(LC_CTYPE, "");
    int utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
    Screen *s = sl_xcalloc(1, sizeof *s);
    Lab *lab = &s->lab;
    lab->opts = o;
    lab->plot_mode = utf8 ? PLOT_BRAILLE : PLOT_ASCII;
    lab->sel_run = 0;
    lab->cursor = -1;
    for (int i = 0; i < P_COUNT; i++)
        s->panels[i].cls = Screen_classes[i];
    s->focus = P_RUNS;
    char note[1200] = "";
    if (o->bench_frames <= 0) {
        Settings_load(&s->settings, lab, note, sizeof note);
        if (s->settings.focus >= 0)
            s->focus = s->settings.focus;
        if (!utf8)
            lab->plot_mode = PLOT_ASCII;
    }
    int rc = load_theme(&lab->theme, o->theme, err);
    if (rc == SL_OK && !o->theme && s->settings.theme[0]) {
        /* the saved theme, if it is still there */
        char path[1024];
        sl_error e;
        Theme t;
        if (Theme_find(s->settings.theme, path, sizeof path, &e) == SL_OK && Theme_load(&t, path, &e) == SL_OK)
            lab->theme = t;
        else if (!note[0])
            snprintf(note, sizeof note, "settings: %s (the default theme is used)", e.msg);
    }
    if (rc != SL_OK) {
        Settings_free(&s->settings);
        free(s);
        return rc;
    }
    if (o->bench_frames > 0) {
        setenv("COLUMNS", "200", 0);
        setenv("LINES", "60", 0);
        FILE *null = fopen("/dev/null", "w");
        if (!null || CRT_init(null, !utf8) != 0) {
            if (null)
                fclose(null);
            Settings_free(&s->settings);
            free(s);
            return sl_fail(err, SL_ERUNTIME, "cannot start curses for the frame benchmark (is TERM set?)");
        }
        CRT_setTheme(&lab->theme);
        layout(s);
        rc = bench_frames(s, o->bench_frames);
        free_screen(s);
        sl_snapshot_free(&lab->snap);
        FitSet_free(&lab->fits);
        fclose(null);
        Settings_free(&s->settings);
        free(s);
        return rc;
    }
    /* A bad preset is bad input whether or not there is a terminal. It is
     * parsed once: the engine opens on this copy. */
    sl_preset first;
    memset(&first, 0, sizeof first);
    if (!o->watch && !(o->runs && sl_store_is_sweep(o->runs))) {
        char path[1024];
        rc = sl_preset_find(o->preset ? o->preset : "quickstart", path, sizeof path, err);
        if (rc == SL_OK)
            rc = sl_preset_load(&first, path, err);
        if (rc != SL_OK) {
            sl_preset_free(&first);
            Settings_free(&s->settings);
            free(s);
            return rc;
        }
    }
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        sl_preset_free(&first);
        Settings_free(&s->settings);
        free(s);
        return sl_fail(err, SL_EINPUT, "the lab needs a terminal (for a sweep without one: scalelab run PRESET)");
    }

    /* Engine and fitter threads block every signal; the handlers only write
     * to a pipe that the event loop reads (see signals_install). */
    if (signals_install() != 0) {
        sl_preset_free(&first);
        Settings_free(&s->settings);
        free(s);
        return sl_fail(err, SL_ERUNTIME, "pipe: %s", strerror(errno));
    }
    int sfd = sl_sigpipe_fd();

    if (o->watch) {
        rc = Watch_open(&lab->watch, o->watch, err);
        if (rc == SL_OK) {
            lab->preset = Watch_preset(lab->watch);
            snprintf(lab->preset_name, sizeof lab->preset_name, "%s", lab->preset->name);
            corpus_label(lab);
        }
    } else if (o->runs && sl_store_is_sweep(o->runs)) {
        rc = open_engine(s, NULL, NULL, o->runs, err);
    } else {
        rc = open_engine(s, NULL, &first, NULL, err);
    }
    sl_preset_free(&first);
    if (rc != SL_OK) {
        end_source(s);
        signals_restore();
        Settings_free(&s->settings);
        free(s);
        return rc;
    }
    lab->ceiling_gflops = Ceiling_measure(lab->preset, sl_cpus_available());

    if (CRT_init(NULL, !utf8) != 0) {
        end_source(s);
        signals_restore();
        Settings_free(&s->settings);
        free(s);
        return sl_fail(err, SL_ERUNTIME, "cannot start curses (is TERM set?)");
    }
    CRT_setTheme(&lab->theme);
    layout(s);
    if (lab->engine)
        rc = start_engine(s, err);
    else
        begin_fits(s);
    s->t_start = sl_now();
    if (note[0])
        Lab_message(lab, "%s", note);
    prctl(PR_SET_NAME, "sl-ui", 0, 0, 0);
    while (rc == SL_OK && !s->quit) {
        struct pollfd fds[3] = {{STDIN_FILENO, POLLIN, 0}, {sfd, POLLIN, 0},
                                {lab->engine ? sl_engine_wake_fd(lab->engine) : -1, POLLIN, 0}};
        double wait = FRAME - (sl_now() - s->last_frame);
        int n = poll(fds, 3, wait > 0 ? (int)(wait * 1000) + 1 : 0);
        int input = 0;
        if (n > 0 && (fds[1].revents & POLLIN)) {
            unsigned char sig;
            while (read(sfd, &sig, 1) == 1) {
                if (sig == SIGWINCH)
                    resize(s);
                else
                    s->quit = 1;
                input = 1;
            }
        }
        if (n > 0 && (fds[2].revents & POLLIN)) {
            char buf[64];
            while (read(fds[2].fd, buf, sizeof buf) > 0)
                ;
        }
        if (n > 0 && (fds[0].revents & (POLLIN | POLLHUP))) {
            if (fds[0].revents & POLLHUP && !(fds[0].revents & POLLIN))
                s->quit = 1;
            int ch;
            while ((ch = wgetch(stdscr)) != ERR) {
                key(s, ch);
                input = 1;
            }
            sl_error serr;
            if (Settings_save(&s->settings, lab, s->focus, &serr) != 0)
                Lab_message(lab, "settings not saved: %s", serr.msg);
        }
        if (o->exit_after > 0 && sl_now() - s->t_start >= o->exit_after)
            s->quit = 1;
        if (s->quit)
            break;
        if (input || sl_now() - s->last_frame >= FRAME * 0.9)
            frame(s, 0);
    }
    if (lab->engine && CRT_active()) {
        Lab_message(lab, "stopping: runs checkpoint ...");
        StatusBar_draw(s->status, lab);
        wnoutrefresh(s->status);
        doupdate();
    }
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", lab->engine ? sl_engine_dir(lab->engine) : "");
    int unfinished = lab->engine && lab->snap.n_done + lab->snap.n_failed < lab->snap.n_runs;
    end_source(s);
    free_screen(s);
    CRT_done();
    signals_restore();
    if (rc == SL_OK && s->fail) {
        rc = s->fail;
        *err = s->fail_err;
    }
    Settings_free(&s->settings);
    SampleJob_free(s->sample);
    Editor_free(s->editor);
    s->editor = NULL;
    if (rc == SL_OK && unfinished)
        fprintf(stderr, "scalelab: the sweep is in %s (scalelab resume %s continues it)\n", dir, dir);
    Settings_free(&s->settings);
    free(s);
    return rc;
}
