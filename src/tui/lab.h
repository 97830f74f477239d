/* lab: the state the lab's panels draw from (snapshot, fits, theme, selections)
 * and the Panel object they are made of (a window and a class of draw, key and
 * click handlers). Everything here belongs to the UI thread. */
#ifndef SL_TUI_LAB_H
#define SL_TUI_LAB_H

#include "crt.h"
#include "fitter.h"
#include "plot.h"
#include "scalelab/engine.h"
#include "scalelab/tui.h"
#include "theme.h"
#include "watch.h"

/* What a handler did: the screen manager acts on these. */
enum { H_IGNORED = 0, H_HANDLED = 1, H_REDRAW = 2, H_REDRAW_ALL = 4, H_QUIT = 8 };

typedef enum { AXIS_N, AXIS_D, AXIS_C, AXIS_COUNT } Axis;
typedef enum { CURVES_TOKENS, CURVES_COMPUTE, CURVES_STEPS, CURVES_COUNT } CurvesX;

/* A selector's range: min, max and points per decade of a sweep axis. */
typedef struct {
    double min, max;
    int per_decade;
    int editable; /* the preset's kind sweeps this axis */
} Range;

typedef struct Lab {
    const sl_tui_opts *opts;
    sl_engine *engine;  /* NULL when watching */
    Watch *watch;
    const sl_preset *preset;
    char preset_name[64];
    char corpus[64];
    sl_snapshot snap;
    Fitter *fitter;
    FitSet fits;
    uint64_t fits_gen;
    double fit_prev[SL_LAW_COUNT][SL_FIT_MAX_PARAMS];
    double fit_moved[SL_LAW_COUNT][SL_FIT_MAX_PARAMS]; /* when the value last moved */
    Theme theme;
    PlotMode plot_mode;
    CurvesX curves_x;
    Axis axis;        /* the N/D/C selector; also the law plot's x */
    int sel_run;      /* runs table selection (index in snap.runs) */
    int sel_field;    /* selector field: 0 min, 1 max, 2 per decade */
    Range range[AXIS_COUNT];
    Range range0[AXIS_COUNT]; /* as the sweep was when the selectors were set */
    int range_init;
    double ceiling_gflops;
    int all_paused;   /* space paused every run; space again resumes them */
    /* runs to resume once their pause lands (a pause is asynchronous) */
    char resume_ids[64][SL_RUN_ID_MAX];
    int n_resume;
    char msg[256];
    double msg_until;
    double now;
} Lab;

void Lab_message(Lab *lab, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The colour of run i's series. */
ColorId Lab_series(int index);
/* Short number: 1.2e5, 3.4k ... */
void Lab_num(char *buf, size_t n, double v);

typedef struct Panel Panel;
typedef struct {
    const char *name;
    void (*draw)(Panel *p, Lab *lab);
    int (*key)(Panel *p, Lab *lab, int ch);
    int (*click)(Panel *p, Lab *lab, int y, int x);
} PanelClass;

struct Panel {
    const PanelClass *cls;
    WINDOW *win;
    int y, x, h, w;
    int focused;
    int dirty;
    int scroll;
    Plot plot;
};

/* Clears the window, draws the border in the focus colour and the title. */
void Panel_frame(Panel *p, const char *title);

extern const PanelClass CurvesPanel_class, LawPanel_class, FitsPanel_class, RunsPanel_class,
    SelectPanel_class, GaugePanel_class;

/* Marks the fitted values that moved (call when a new fit set arrives). */
void FitsPanel_track(Lab *lab);

/* The status bar (a one-line window). */
void StatusBar_draw(WINDOW *w, Lab *lab);

/* Selectors: the current ranges from the sweep, the preview and applying it. */
void Select_init(Lab *lab);
typedef struct {
    int add, drop, keep_trained;
    double flops, seconds;
} SelectPreview;
void Select_preview(Lab *lab, SelectPreview *pv);
int Select_apply(Lab *lab);

/* Exports fits.csv, runs.csv and curves.csv into dir (through opts->export_csv). */
int Export_write(Lab *lab, const char *dir, sl_error *err);

/* The sgemm ceiling (sl_ceiling_measure) of the sweep's largest model in
 * GFLOP/s, on all cores at once (well under a second to measure). */
double Ceiling_measure(const sl_preset *p, int cores);

#endif
