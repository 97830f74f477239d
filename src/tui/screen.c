/* screen: see screen.h. One UI thread owns curses: it polls stdin, a self-pipe
 * that the SIGINT, SIGTERM, SIGHUP and SIGWINCH handlers write to, and the
 * engine's wake-up pipe, takes a snapshot at most every FRAME seconds, and
 * redraws only the panels whose data moved, with one doupdate per frame. The
 * layout, the sources (engine or store) and the frames are here; the keys are
 * in screen_keys.c, the overlays in screen_overlay.c. */
#include "screen_int.h"

#include "scalelab/machine.h"
#include "scalelab/sigpipe.h"
#include "scalelab/store.h"

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
#include <time.h>
#include <unistd.h>

#define FRAME 0.05      /* seconds: at most 20 frames a second */
#define SUBMIT_GAP 1.0  /* seconds between hand-overs to the fitter */
#define PLOT_FRAME 0.2  /* seconds between redraws of the plots for new rows */
#define MIN_W 80
#define MIN_H 24

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

void Screen_layout(Screen *s)
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
    Screen_layout(s);
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
    Lab_dropPreset(lab);
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

/* A failure ends the lab: the old sweep is stopped already. */
int Screen_switchPreset(Screen *s, const char *path)
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
            Screen_resumePending(s);
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
            Screen_drawOverlay(s);
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
        Screen_layout(s);
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
    Screen_layout(s);
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
                Screen_key(s, ch);
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
