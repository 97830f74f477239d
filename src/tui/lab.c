/* lab: the helpers every panel shares, the status bar, exports and the sgemm
 * ceiling measured once at start. */
#include "lab.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scalelab/throughput.h"

void Lab_message(Lab *lab, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lab->msg, sizeof lab->msg, fmt, ap);
    va_end(ap);
    lab->msg_until = sl_now() + 4;
}

ColorId Lab_series(int index) { return (ColorId)(COL_SERIES1 + (index < 0 ? 0 : index) % THEME_SERIES); }

void Lab_num(char *buf, size_t n, double v)
{
    if (!isfinite(v))
        snprintf(buf, n, "-");
    else if (fabs(v) < 1000)
        snprintf(buf, n, "%.3g", v);
    else
        snprintf(buf, n, "%.2g", v);
    /* 1.2e+05 -> 1.2e5: columns are narrow */
    char *e = strchr(buf, 'e');
    if (e) {
        /* 1.2e+05 -> 1.2e5, 6.2e-09 -> 6.2e-9 */
        char *sign = e + 1, *d = e + 2;
        while (*d == '0' && d[1])
            d++;
        if (*sign == '+')
            memmove(e + 1, d, strlen(d) + 1);
        else
            memmove(sign + 1, d, strlen(d) + 1);
    }
}

void Panel_frame(Panel *p, const char *title)
{
    werase(p->win);
    CRT_box(p->win, p->focused ? COL_FOCUS : COL_BORDER, title);
}

void StatusBar_draw(WINDOW *w, Lab *lab)
{
    int wd = getmaxx(w);
    werase(w);
    CRT_color(w, COL_SELECTION);
    mvwhline(w, 0, 0, ' ', wd);
    char buf[512], tps[16], el[16];
    if (lab->msg[0] && lab->now < lab->msg_until) {
        CRT_text(w, 0, 1, wd - 2, lab->msg);
        return;
    }
    const sl_snapshot *s = &lab->snap;
    Lab_num(tps, sizeof tps, s->tokens_per_s);
    sl_fmt_duration(el, sizeof el, s->elapsed_s, "-");
    double pct = lab->ceiling_gflops > 0 ? 100 * s->gflops / lab->ceiling_gflops : NAN;
    char extra[48] = "";
    if (s->n_failed)
        snprintf(extra, sizeof extra, " %d FAILED (runs table)", s->n_failed);
    else if (s->n_paused)
        snprintf(extra, sizeof extra, " %d paused", s->n_paused);
    char cores[16] = "";
    if (s->cores > 0)
        snprintf(cores, sizeof cores, "/%d", s->cores);
    snprintf(buf, sizeof buf,
             " %s | %s | %s%d%s workers | %s tok/s | %.2f GFLOP/s, %.0f%% of %.0f sgemm | %s | "
             "%d done %d running %d queued%s",
             lab->preset_name, lab->corpus, lab->engine ? "" : "watching | ", s->workers, cores,
             tps, s->gflops, pct, lab->ceiling_gflops, el, s->n_done, s->n_running, s->n_queued,
             extra);
    static const char hint[] = " ? help  q quit ";
    int hl = (int)sizeof hint - 1;
    CRT_text(w, 0, 0, wd - hl, buf);
    CRT_color(w, COL_TITLE);
    CRT_text(w, 0, wd - hl, hl, hint);
}

int Export_write(Lab *lab, const char *dir, sl_error *err)
{
    if (!lab->opts->export_csv)
        return sl_fail(err, SL_ERUNTIME, "this build cannot export");
    sl_fit_result res[SL_LAW_COUNT];
    int n = 0;
    for (int i = 0; i < lab->fits.n; i++)
        if (lab->fits.ok[i])
            res[n++] = lab->fits.res[i];
    return lab->opts->export_csv(lab->snap.dir, dir, res, n, err);
}

/* The ceiling of the sweep's largest model (the one that dominates its time),
 * on every core at once, each on one run's batch (the scheduler's usual choice:
 * one thread per run); at most 512 rows, so that the lab starts at once. */
double Ceiling_measure(const sl_preset *p, int cores)
{
    const sl_run_spec *big = NULL;
    for (int i = 0; p && i < p->n_runs; i++)
        if (!big || sl_model_counts(&p->runs[i].train.model).n_kaplan >
                        sl_model_counts(&big->train.model).n_kaplan)
            big = &p->runs[i];
    const sl_ref_config *ref = sl_ref_config_find("d128");
    sl_config c = big ? big->train.model : ref->model;
    if (c.vocab < 2)
        c.vocab = 256;
    int rows = big ? big->train.batch * c.n_ctx : ref->batch * c.n_ctx;
    return sl_ceiling_measure(&c, rows < 512 ? rows : 512, cores > 0 ? cores : 1, 1);
}
