/* lab: the state the lab's panels draw from (snapshot, fits, theme, selections)
 * and the Panel object they are made of (a window and a class of draw, key and
 * click handlers). Everything here belongs to the UI thread. */
#ifndef SL_TUI_LAB_H
#define SL_TUI_LAB_H

#include "crt.h"
#include "fitter.h"
#include "plot.h"
#include "scalelab/engine.h"
#include "scalelab/export.h"
#include "scalelab/tui.h"
#include "theme.h"
#include "watch.h"

/* What a handler did: the screen manager acts on these. */
enum { H_IGNORED = 0, H_HANDLED = 1, H_REDRAW = 2, H_REDRAW_ALL = 4, H_QUIT = 8 };

typedef enum { AXIS_N, AXIS_D, AXIS_C, AXIS_COUNT } Axis;
typedef enum { CURVES_TOKENS, CURVES_COMPUTE, CURVES_STEPS, CURVES_COUNT } CurvesX;

/* What the learning curves show (the `m` key). */
typedef enum { MET_TEST, MET_TRAIN, MET_LR, MET_GRAD, MET_NOISE, MET_BPB, MET_COUNT } Metric;

#define LAB_HIDDEN_MAX 64

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
    const sl_preset *preset; /* the preset in force: the engine's or watch's, or applied */
    /* the edited preset once the editor applied it to the live sweep (planned,
     * owned here; preset then points to it, so that the selectors and `v`
     * plan new runs from the revision sweep.json records, not the one opened) */
    sl_preset applied;
    int has_applied;
    char preset_name[64];
    char corpus[64];
    sl_snapshot snap;
    Fitter *fitter;
    FitSet fits;
    uint64_t fits_gen;
    double fit_prev[FIT_ENTRIES][SL_FIT_MAX_PARAMS]; /* by entry of fits */
    double fit_moved[FIT_ENTRIES][SL_FIT_MAX_PARAMS]; /* when the value last moved */
    Theme theme;
    PlotMode plot_mode;
    CurvesX curves_x;
    Metric metric;    /* the curves' metric */
    int smooth;       /* index in Curves_smoothing */
    int cursor;       /* the curves' cursor: a canvas column, -1 when off */
    Axis axis;        /* the N/D/C selector; also the law plot's x */
    int law_reach;    /* decades past the largest run the law plot forecasts to (0: none) */
    sl_store_prediction verify; /* the last verification run queued (run "" : none) */
    int sel_run;      /* runs table selection (index in snap.runs) */
    int sort_col, sort_desc; /* runs table order: a column, and descending */
    /* runs whose curves are hidden, and the one shown alone ("" none), by id */
    char hidden[LAB_HIDDEN_MAX][SL_RUN_ID_MAX];
    int n_hidden;
    char solo[SL_RUN_ID_MAX];
    int sel_field;    /* selector field: 0 min, 1 max, 2 per decade */
    Range range[AXIS_COUNT];
    Range range0[AXIS_COUNT]; /* as the sweep was when the selectors were set */
    int range_init;
    double ceiling_gflops;
    double gflops_seen;  /* the sweep's last GFLOP/s above 0 (time estimates) */
    int all_paused;   /* space paused every run; space again resumes them */
    /* runs to resume once their pause lands (a pause is asynchronous) */
    char resume_ids[64][SL_RUN_ID_MAX];
    int n_resume;
    char msg[256];
    double msg_until;
    double now;
} Lab;

void Lab_message(Lab *lab, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Makes p (planned) the preset in force, taking it over (*p is left empty);
 * the selectors start again from it. Lab_dropPreset frees it (when the
 * source goes) and leaves preset NULL if it pointed to it. */
void Lab_adoptPreset(Lab *lab, sl_preset *p);
void Lab_dropPreset(Lab *lab);
/* The colour of run i's series. */
ColorId Lab_series(int index);

/* Is run v drawn in the plots (not hidden, and the solo run if there is one)? */
int Lab_visible(const Lab *lab, const sl_run_view *v);
/* Scroll cues of a window that shows lines first .. first+shown-1 of total:
 * arrows on the right border and "a-b of n" in the bottom border. */
void Lab_scrollCue(WINDOW *w, int first, int shown, int total);

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
    int hscroll; /* columns scrolled sideways (runs table) */
    Plot plot;
};

/* Clears the window, draws the border in the focus colour and the title. */
void Panel_frame(Panel *p, const char *title);

/* The curves' metric names and EMA smoothing weights (the m and s keys). */
#define CURVES_SMOOTHINGS 6
extern const double Curves_smoothing[CURVES_SMOOTHINGS];
const char *Curves_metricName(Metric m);

extern const PanelClass CurvesPanel_class, LawPanel_class, FitsPanel_class, RunsPanel_class,
    SelectPanel_class, GaugePanel_class;

/* The runs table: the selected run (NULL if none); an action (P R X D + -)
 * on a run; the display order (indices into snap.runs, by the sort column). */
const sl_run_view *RunsPanel_selected(const Lab *lab);
int RunsPanel_act(Lab *lab, const char *run_id, int ch);
int RunsPanel_order(const Lab *lab, int *order);
int RunsPanel_columns(void);
const char *RunsPanel_columnName(int c);

/* Marks the fitted values that moved (call when a new fit set arrives). */
void FitsPanel_track(Lab *lab);
/* Queues a verification run at the law plot's forecast point (N; D for an nd
 * sweep; C for an isoflop sweep), its prediction written to the store's
 * predictions.csv before it trains. */
void LawPanel_verify(Lab *lab);

/* Seconds until every queued and running run is trained, at the sweep's
 * current GFLOP/s; 0 when nothing is left, NaN when unknown (nothing trains). */
double Lab_sweepEta(const Lab *lab);

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

/* Exports fits.csv, runs.csv and curves.csv into dir (sl_export_lab). */
int Export_write(Lab *lab, const char *dir, sl_error *err);

/* The sgemm ceiling (sl_ceiling_measure) of the sweep's largest model in
 * GFLOP/s, on all cores at once (well under a second to measure). */
double Ceiling_measure(const sl_preset *p, int cores);

#endif
