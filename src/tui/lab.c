/* lab: the helpers every panel shares, the status bar, exports and the sgemm
 * ceiling measured once at start. */
#include "lab.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scalelab/export.h"
#include "scalelab/throughput.h"
#include "scalelab/numfmt.h"

void Lab_message(Lab *lab, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lab->msg, sizeof lab->msg, fmt, ap);
    va_end(ap);
    lab->msg_until = sl_now() + 4;
}

void Lab_adoptPreset(Lab *lab, sl_preset *p)
{
    Lab_dropPreset(lab);
    lab->applied = *p;
    memset(p, 0, sizeof *p);
    lab->has_applied = 1;
    lab->preset = &lab->applied;
    lab->range_init = 0;
}

void Lab_dropPreset(Lab *lab)
{
    if (!lab->has_applied)
        return;
    if (lab->preset == &lab->applied)
        lab->preset = NULL;
    sl_preset_free(&lab->applied);
    memset(&lab->applied, 0, sizeof lab->applied);
    lab->has_applied = 0;
}

ColorId Lab_series(int index) { return (ColorId)(COL_SERIES1 + (index < 0 ? 0 : index) % THEME_SERIES); }

void Panel_frame(Panel *p, const char *title)
{
    werase(p->win);
    CRT_box(p->win, p->focused ? COL_FOCUS : COL_BORDER, title);
}

int Lab_visible(const Lab *lab, const sl_run_view *v)
{
    if (lab->solo[0])
        return !strcmp(lab->solo, v->id);
    for (int i = 0; i < lab->n_hidden; i++)
        if (!strcmp(lab->hidden[i], v->id))
            return 0;
    return 1;
}

void Lab_scrollCue(WINDOW *w, int first, int shown, int total)
{
    if (shown < 1 || (first <= 0 && first + shown >= total))
        return;
    int h = getmaxy(w), wd = getmaxx(w);
    CRT_color(w, COL_FOCUS);
    if (first > 0)
        CRT_glyph(w, 1, wd - 1, L'▲', '^');
    if (first + shown < total)
        CRT_glyph(w, h - 2, wd - 1, L'▼', 'v');
    char buf[48];
    int last = first + shown < total ? first + shown : total;
    snprintf(buf, sizeof buf, " %d-%d of %d ", first + 1, last, total);
    CRT_text(w, h - 1, 2, wd - 4, buf);
}

double Lab_sweepEta(const Lab *lab)
{
    const sl_snapshot *s = &lab->snap;
    double left = 0;
    int open = 0;
    for (int i = 0; i < s->n_runs; i++) {
        const sl_run_view *v = &s->runs[i];
        if (v->state != SL_RUN_QUEUED && v->state != SL_RUN_RUNNING)
            continue;
        double t = v->planned_tokens - v->done_tokens;
        if (t > 0) {
            left += t * v->flops_per_token;
            open = 1;
        }
    }
    if (!open)
        return s->n_runs > 0 && s->n_running + s->n_queued == 0 ? 0 : NAN;
    /* at the rate the sweep trains now (paused or not started: unknown) */
    return s->gflops > 0 ? left / (s->gflops * 1e9) : NAN;
}

/* The status bar is segments of text, each with a rank; when the line is too
 * narrow the lowest ranks go first, so the run counts and the ETA stay. */
typedef struct {
    char text[160];
    int rank;
} Segment;

/* The sweep's largest model (the one that dominates its time); NULL if none. */
static const sl_run_spec *largest_run(const sl_preset *p)
{
    const sl_run_spec *big = NULL;
    for (int i = 0; p && i < p->n_runs; i++)
        if (!big || sl_model_counts(&p->runs[i].train.model).n_kaplan >
                        sl_model_counts(&big->train.model).n_kaplan)
            big = &p->runs[i];
    return big;
}

void StatusBar_draw(WINDOW *w, Lab *lab)
{
    int wd = getmaxx(w);
    werase(w);
    CRT_color(w, COL_SELECTION);
    mvwhline(w, 0, 0, ' ', wd);
    if (lab->msg[0] && lab->now < lab->msg_until) {
        CRT_text(w, 0, 1, wd - 2, lab->msg);
        return;
    }
    const sl_snapshot *s = &lab->snap;
    char tps[16], el[16], eta[16];
    sl_num_format(tps, sizeof tps, s->tokens_per_s, SL_NUM_SHORT);
    sl_fmt_duration(el, sizeof el, s->elapsed_s, "-");
    double e = Lab_sweepEta(lab);
    sl_fmt_duration(eta, sizeof eta, e, "?");
    double pct = lab->ceiling_gflops > 0 ? 100 * s->gflops / lab->ceiling_gflops : NAN;
    Segment seg[12];
    int n = 0;
#define SEG(rank_, ...)                                                                            \
    do {                                                                                           \
        snprintf(seg[n].text, sizeof seg[n].text, __VA_ARGS__);                                   \
        seg[n++].rank = rank_;                                                                     \
    } while (0)
    SEG(3, "%s", lab->preset_name);
    SEG(1, "%s", lab->corpus);
    if (!lab->engine)
        SEG(6, "watching");
    if (s->cores > 0)
        SEG(2, "%d/%d workers", s->workers, s->cores);
    else
        SEG(2, "%d workers", s->workers);
    SEG(4, "%s tok/s", tps);
    const sl_run_spec *big = largest_run(lab->preset);
    SEG(2, "%.2f GFLOP/s, %.0f%% of %.0f GFLOP/s %s", s->gflops, pct, lab->ceiling_gflops,
        big && big->train.precision == SL_PREC_BF16 ? "bf16 matmul" : "sgemm");
    SEG(5, "%s elapsed", el);
    SEG(8, "%d done %d run %d queued", s->n_done, s->n_running, s->n_queued);
    if (s->n_failed)
        SEG(9, "%d FAILED (runs table)", s->n_failed);
    else if (s->n_paused)
        SEG(7, "%d paused", s->n_paused);
    if (isfinite(e) && e > 0)
        SEG(7, "sweep ETA %s", eta);
    else if (s->n_running + s->n_queued > 0)
        SEG(7, "sweep ETA ?");
#undef SEG
    static const char hint[] = " ? help  q quit ";
    int hl = (int)sizeof hint - 1, room = wd - hl - 1;
    /* drop the lowest-ranked segment until the rest fit */
    int keep[12];
    for (int i = 0; i < n; i++)
        keep[i] = 1;
    for (;;) {
        int len = 0, low = -1;
        for (int i = 0; i < n; i++)
            if (keep[i]) {
                len += (int)strlen(seg[i].text) + 3;
                if (low < 0 || seg[i].rank < seg[low].rank)
                    low = i;
            }
        if (len - 2 <= room || low < 0)
            break;
        keep[low] = 0;
    }
    char buf[512] = " ";
    size_t at = 1;
    for (int i = 0; i < n; i++)
        if (keep[i]) {
            size_t l = strlen(seg[i].text);
            if (at + l + 4 >= sizeof buf)
                break;
            if (at > 1) {
                memcpy(buf + at, " | ", 3);
                at += 3;
            }
            memcpy(buf + at, seg[i].text, l + 1);
            at += l;
        }
    CRT_text(w, 0, 0, wd - hl, buf);
    CRT_color(w, COL_TITLE);
    CRT_text(w, 0, wd - hl, hl, hint);
}

int Export_write(Lab *lab, const char *dir, sl_error *err)
{
    sl_fit_result res[SL_LAW_COUNT];
    int n = 0;
    for (int i = 0; i < lab->fits.n; i++)
        if (lab->fits.ok[i] && !lab->fits.live[i])
            res[n++] = lab->fits.res[i];
    return sl_export_lab(lab->snap.dir, dir, res, n, err);
}

/* The ceiling of the sweep's largest model, on every core at once, each on
 * one run's batch (the scheduler's usual choice: one thread per run); at most
 * 512 rows, so that the lab starts at once. A bf16 sweep is measured against
 * the bf16 products' own ceiling. */
double Ceiling_measure(const sl_preset *p, int cores)
{
    const sl_run_spec *big = largest_run(p);
    const sl_ref_config *ref = sl_ref_config_find("d128");
    sl_config c = big ? big->train.model : ref->model;
    if (c.vocab < 2)
        c.vocab = 256;
    int rows = big ? big->train.batch * c.n_ctx : ref->batch * c.n_ctx;
    sl_precision prec = big ? big->train.precision : SL_PREC_FP32;
    return sl_ceiling_measure(&c, rows < 512 ? rows : 512, cores > 0 ? cores : 1, 1, prec);
}
