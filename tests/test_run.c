/* One home for a run: one store, asked by every reader, gives one answer.
 * A synthetic store (written with the store's own writers, so that the rows
 * are known exactly) is read by the lab (its watch and its fitter's points and
 * options), by `scalelab fit`, by `scalelab export` (tables and figures) and by
 * the engine; each test asserts that they agree: the points a law takes, D of
 * a curve point, the bootstrap intervals, the best and the transfer loss of a
 * run, the planner's steps, the run ids, the published constants, and the
 * resumable run directory that `train --out` and the engine share. */
#include <math.h>

#include "../src/tui/fitter.h"
#include "../src/tui/watch.h"
#include "scalelab/csv.h"
#include "scalelab/engine.h"
#include "scalelab/fit.h"
#include "scalelab/run.h"
#include "scalelab/store.h"
#include "sweeputil.h"

TestSuite(run, .init = tu_make_dir, .fini = tu_remove_dir, .timeout = 120);

#define N_RUNS 6
#define LIMITED 4   /* this run is data-limited below the tokens it trains */
#define D_LIMIT 50000
#define RUNNING 5   /* this run is still running: no best point */
#define BATCH 8
#define CTX 32

static double wiggle(int k, long s) { return 1 + 0.01 * sin(13.0 * k + 0.7 * (double)s); }

/* The store tu_dir/runs/synth: a sweep of N_RUNS models of growing width, rows
 * every 25 steps to 400, with a transfer_loss column and a noise scale on the
 * rows after step 0. Its sweep.json is a resolved preset over su_corpus (with
 * the same file as eval corpus), so that the engine can reopen it. */
static void make_store(char *dir, size_t len)
{
    char corpus[512], pfile[512];
    su_corpus(corpus, sizeof corpus);
    tu_path(pfile, sizeof pfile, "synth.json");
    FILE *f = fopen(pfile, "w");
    cr_assert_not_null(f);
    fprintf(f,
            "{\"name\": \"synth\", \"description\": \"test\",\n"
            " \"data\": {\"corpus\": \"%s\", \"eval_corpus\": \"%s\"},\n"
            " \"model\": {\"n_ctx\": %d, \"head_size\": 16, \"aspect\": 16},\n"
            " \"sweep\": {\"n\": [3000, 6000, 12000]},\n"
            " \"train\": {\"steps\": 400, \"batch\": %d, \"eval_every\": 25, \"threads\": 1}}\n",
            corpus, corpus, CTX, BATCH);
    fclose(f);
    sl_preset p;
    sl_error err;
    cr_assert_eq(sl_preset_load(&p, pfile, &err), SL_OK, "%s", err.msg);
    snprintf(dir, len, "%s/runs/synth", tu_dir);
    cr_assert_eq(sl_mkdirs(dir, &err), SL_OK, "%s", err.msg);
    for (int k = 0; k < N_RUNS; k++) {
        sl_run_spec s;
        memset(&s, 0, sizeof s);
        s.train = p.train;
        s.train.model = (sl_config){2, 16 * (k + 1), k + 1, 64 * (k + 1), CTX, 256};
        s.train.batch = BATCH;
        s.train.steps = 400;
        s.train.eval_every = 25;
        s.train.threads = 1;
        s.train.seed = 1;
        s.train.data_limit = k == LIMITED ? D_LIMIT : 0;
        s.index = k;
        sl_run_id(&s, p.kind, 0, s.id);
        char rd[700], path[800];
        snprintf(rd, sizeof rd, "%s/%s", dir, s.id);
        cr_assert_eq(sl_mkdirs(rd, &err), SL_OK, "%s", err.msg);
        char *j = sl_run_spec_to_json(&s);
        snprintf(path, sizeof path, "%s/config.json", rd);
        cr_assert_eq(sl_write_atomic(path, j, strlen(j), &err), SL_OK, "%s", err.msg);
        free(j);
        double n = sl_model_counts(&s.train.model).n_kaplan;
        snprintf(path, sizeof path, "%s/metrics.csv", rd);
        FILE *m = fopen(path, "w");
        cr_assert_not_null(m);
        sl_metrics_header(m, SL_RUN_TRANSFER_COLUMN);
        double last = NAN;
        long last_step = k == RUNNING ? 200 : 400;
        for (long st = 0; st <= last_step; st += 25) {
            sl_metric_row r = {0};
            r.step = st;
            r.tokens = (double)st * BATCH * CTX;
            r.flops = r.tokens * sl_model_counts(&s.train.model).flops_per_token;
            double d = k == LIMITED && r.tokens > D_LIMIT ? D_LIMIT : r.tokens;
            r.test_loss = st == 0 ? 5.5
                                  : (2 * pow(3e4 / n, 0.1) + pow(1e5 / d, 0.3)) * wiggle(k, st);
            r.train_loss = r.test_loss * 1.01;
            r.lr = 1e-3;
            r.grad_norm = 1;
            r.noise_scale = st == 0 ? NAN : 2e3 / pow(r.test_loss, 1 / 0.2) * wiggle(k + 3, st);
            r.wall_s = (double)st / 10;
            cr_assert_eq(sl_metrics_write_row(m, &r, 1, r.test_loss * 1.2), 0);
            last = r.test_loss;
        }
        fclose(m);
        sl_run_status stt;
        memset(&stt, 0, sizeof stt);
        snprintf(stt.state, sizeof stt.state, "%s", k == RUNNING ? "running" : "done");
        stt.step = last_step;
        stt.best_test_loss = stt.final_test_loss = last;
        stt.threads = 1;
        cr_assert_eq(sl_status_write(rd, &stt, &err), SL_OK, "%s", err.msg);
    }
    char *json = sl_preset_resolved_json(&p);
    char path[800];
    snprintf(path, sizeof path, "%s/sweep.json", dir);
    cr_assert_eq(sl_write_atomic(path, json, strlen(json), &err), SL_OK, "%s", err.msg);
    free(json);
    sl_preset_free(&p);
}

/* The lab's view of the store: its watch's snapshot. */
static void lab_snapshot(const char *dir, Watch **w, sl_snapshot *s)
{
    sl_error err;
    cr_assert_eq(Watch_open(w, dir, &err), SL_OK, "%s", err.msg);
    memset(s, 0, sizeof *s);
    cr_assert_eq(Watch_snapshot(*w, s, 0), 1);
    cr_assert_eq(s->n_runs, N_RUNS);
}

static void run_cli(const char *const *args)
{
    static char out[1 << 16], errb[1 << 14];
    int rc = tu_run(out, sizeof out, errb, sizeof errb, 0, args);
    cr_assert_eq(rc, 0, "scalelab %s %s: exit %d: %s", args[0], args[1], rc, errb);
}

static double cell(const sl_csv *t, size_t row, const char *col)
{
    int c = sl_csv_column(t, col);
    cr_assert_geq(c, 0, "no column %s", col);
    return strtod(sl_csv_cell(t, row, (size_t)c), NULL);
}

Test(run, fit_points_agree_between_the_lab_and_scalelab_fit)
{
    char dir[600];
    make_store(dir, sizeof dir);
    Watch *w;
    sl_snapshot s;
    lab_snapshot(dir, &w, &s);
    /* a law of each rule: power-c (one point per run in both, which the lab
     * once took from every row), approach1 (curve rows, with D capped at the
     * data limit), bcrit (rows with a noise scale), kaplan-nd (D = the limit) */
    const sl_fit_law laws[] = {SL_LAW_POWER_N, SL_LAW_POWER_C, SL_LAW_KAPLAN_ND, SL_LAW_APPROACH1,
                               SL_LAW_CMIN, SL_LAW_BCRIT};
    for (size_t li = 0; li < sizeof laws / sizeof laws[0]; li++) {
        sl_fit_law law = laws[li];
        sl_fit_point *p;
        size_t n;
        Fitter_points(&s, sl_fit_law_points(law), &p, &n);
        char pred[700];
        snprintf(pred, sizeof pred, "%s/pred-%s.csv", tu_dir, sl_fit_law_name(law));
        const char *args[] = {"fit", dir, "--law", sl_fit_law_name(law), "--bootstrap", "0",
                              "--predictions", pred, NULL};
        run_cli(args);
        sl_csv t;
        sl_error err;
        cr_assert_eq(sl_csv_read(pred, &t, &err), SL_OK, "%s", err.msg);
        /* approach1 predicts N_opt and D_opt: two rows per point */
        size_t per = sl_fit_law_quantity(law) == SL_FIT_Q_NOPT ? 2 : 1;
        cr_assert_eq(t.n_rows, n * per, "%s: the lab has %zu points, scalelab fit %zu",
                     sl_fit_law_name(law), n, t.n_rows / per);
        unsigned need = sl_fit_law_needs(law);
        for (size_t i = 0; i < n; i++) {
            size_t row = i * per;
            cr_assert_eq(cell(&t, row, "loss"), p[i].loss, "%s point %zu: loss",
                         sl_fit_law_name(law), i);
            if (need & SL_FIT_F_N)
                cr_assert_eq(cell(&t, row, "n"), p[i].n, "%s point %zu: N", sl_fit_law_name(law), i);
            if (need & SL_FIT_F_D)
                cr_assert_eq(cell(&t, row, "d"), p[i].d, "%s point %zu: D %.17g vs %.17g",
                             sl_fit_law_name(law), i, cell(&t, row, "d"), p[i].d);
            if (need & SL_FIT_F_C)
                cr_assert_eq(cell(&t, row, "c"), p[i].c, "%s point %zu: C", sl_fit_law_name(law), i);
        }
        sl_csv_free(&t);
        if (sl_fit_law_points(law) == SL_POINTS_BEST)
            cr_assert_eq(n, N_RUNS - 1, "%s: one point per finished run", sl_fit_law_name(law));
        if (sl_fit_law_points(law) == SL_POINTS_CURVES) {
            /* D of a curve point stops at the data limit */
            int capped = 0;
            for (size_t i = 0; i < n; i++) {
                cr_assert(p[i].d <= p[i].s * BATCH * CTX);
                if (p[i].s * BATCH * CTX > D_LIMIT && p[i].d == D_LIMIT)
                    capped++;
            }
            cr_assert_gt(capped, 0, "no curve point of the data-limited run was capped");
        }
        free(p);
    }
    sl_snapshot_free(&s);
    Watch_free(w);
}

/* "power-n: alpha 0.0981 [0.09, 0.1]" in an SVG's text layer: the values after
 * "LAW: PARAM ". */
static int figure_label(const char *svg, const char *law, const char *param, double v[3])
{
    char key[96];
    snprintf(key, sizeof key, "%s: %s ", law, param);
    const char *at = strstr(svg, key);
    if (!at)
        return 0;
    return sscanf(at + strlen(key), "%lf [%lf, %lf]", &v[0], &v[1], &v[2]) == 3;
}

Test(run, intervals_agree_between_the_lab_scalelab_fit_and_the_figures)
{
    char dir[600], figs[700];
    make_store(dir, sizeof dir);
    Watch *w;
    sl_snapshot s;
    lab_snapshot(dir, &w, &s);
    snprintf(figs, sizeof figs, "%s/figs", tu_dir);
    const char *ex[] = {"export", dir, "--plots", figs, NULL};
    run_cli(ex);
    const struct {
        sl_fit_law law;
        int param;
        const char *figure;
    } cases[] = {{SL_LAW_POWER_N, 0, "law-n"},
                 {SL_LAW_CMIN, 0, "curves-compute"},
                 {SL_LAW_BCRIT, 1, "law-bcrit"}};
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        sl_fit_law law = cases[ci].law;
        const char *name = sl_fit_law_name(law);
        /* the lab: its points and options (a cold fit; the live lab starts
         * from its previous fit) */
        sl_fit_point *p;
        size_t n;
        Fitter_points(&s, sl_fit_law_points(law), &p, &n);
        sl_fit_options o;
        Fitter_options(law, 1, &o);
        sl_fit_result r;
        sl_error err;
        cr_assert_eq(sl_fit(law, p, n, &o, &r, &err), SL_OK, "%s: %s", name, err.msg);
        cr_assert(r.converged, "%s: %s", name, r.reason);
        cr_assert_gt(r.n_boot_ok, 0, "%s: no bootstrap", name);
        free(p);
        /* scalelab fit with its defaults */
        char csv[700];
        snprintf(csv, sizeof csv, "%s/fits-%s.csv", tu_dir, name);
        const char *args[] = {"fit", dir, "--law", name, "--csv", csv, NULL};
        run_cli(args);
        sl_csv t;
        cr_assert_eq(sl_csv_read(csv, &t, &err), SL_OK, "%s", err.msg);
        for (int j = 0; j < r.n_params; j++) {
            double v = cell(&t, (size_t)j, "value"), lo = cell(&t, (size_t)j, "ci_low"),
                   hi = cell(&t, (size_t)j, "ci_high");
            char a[96], b[96];
            snprintf(a, sizeof a, "%.6g [%.6g, %.6g]", r.value[j], r.ci_low[j], r.ci_high[j]);
            snprintf(b, sizeof b, "%.6g [%.6g, %.6g]", v, lo, hi);
            cr_assert_str_eq(a, b, "%s %s: the lab fits %s, scalelab fit %s", name, r.names[j], a, b);
        }
        sl_csv_free(&t);
        /* the figure's legend, to its printed digits */
        char path[800];
        snprintf(path, sizeof path, "%s/%s.svg", figs, cases[ci].figure);
        char *svg = su_read(path);
        cr_assert_not_null(svg, "%s missing", path);
        double fv[3];
        int k = cases[ci].param;
        cr_assert(figure_label(svg, name, r.names[k], fv), "%s: no %s label in %s", name,
                  r.names[k], path);
        char a[96], b[96];
        snprintf(a, sizeof a, "%.3g [%.3g, %.3g]", r.value[k], r.ci_low[k], r.ci_high[k]);
        snprintf(b, sizeof b, "%.3g [%.3g, %.3g]", fv[0], fv[1], fv[2]);
        cr_assert_str_eq(a, b, "%s %s: the lab fits %s, the figure shows %s", name, r.names[k], a,
                         b);
        free(svg);
        sl_fit_result_free(&r);
    }
    sl_snapshot_free(&s);
    Watch_free(w);
}

Test(run, watch_the_engine_and_export_show_the_same_row)
{
    char dir[600];
    make_store(dir, sizeof dir);
    Watch *w;
    sl_snapshot ws;
    lab_snapshot(dir, &w, &ws);
    sl_engine_opts eo;
    sl_engine_opts_default(&eo);
    eo.data_dir = tu_dir;
    sl_engine *e;
    sl_error err;
    cr_assert_eq(sl_engine_open_store(&e, dir, &eo, &err), SL_OK, "%s", err.msg);
    sl_snapshot es;
    memset(&es, 0, sizeof es);
    cr_assert_eq(sl_engine_snapshot(e, &es), 1);
    cr_assert_eq(es.n_runs, N_RUNS);
    char out[700];
    snprintf(out, sizeof out, "%s/tables", tu_dir);
    const char *ex[] = {"export", dir, "--csv", out, NULL};
    run_cli(ex);
    char path[800];
    snprintf(path, sizeof path, "%s/runs.csv", out);
    sl_csv t;
    cr_assert_eq(sl_csv_read(path, &t, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(t.n_rows, (size_t)N_RUNS);
    for (int i = 0; i < N_RUNS; i++) {
        const sl_run_view *a = &ws.runs[i], *b = &es.runs[i];
        cr_assert_str_eq(a->id, b->id);
        cr_assert_eq(a->n_rows, b->n_rows, "%s: rows", a->id);
        cr_assert(a->has_last && b->has_last);
        cr_assert_eq(a->last.step, b->last.step, "%s: last row", a->id);
        cr_assert_eq(a->last.test_loss, b->last.test_loss, "%s: last row", a->id);
        /* the transfer loss: the watch once dropped it */
        cr_assert(isfinite(a->transfer_loss), "%s: watch shows no transfer loss", a->id);
        cr_assert_eq(a->transfer_loss, b->transfer_loss, "%s: transfer %.17g vs %.17g", a->id,
                     a->transfer_loss, b->transfer_loss);
        cr_assert_eq(a->best_test_loss, b->best_test_loss, "%s: best %.17g vs %.17g", a->id,
                     a->best_test_loss, b->best_test_loss);
        cr_assert_eq(a->done_steps, b->done_steps, "%s: steps", a->id);
        /* runs.csv prints the best to 6 decimals */
        char x[32], y[32];
        snprintf(x, sizeof x, "%.6f", a->best_test_loss);
        snprintf(y, sizeof y, "%s", sl_csv_cell(&t, (size_t)i, (size_t)sl_csv_column(&t, "best_test_loss")));
        cr_assert_str_eq(x, y, "%s: best in runs.csv", a->id);
    }
    sl_csv_free(&t);
    sl_snapshot_free(&es);
    sl_engine_free(e);
    sl_snapshot_free(&ws);
    Watch_free(w);
}

/* an isoflop preset over su_corpus, planned */
static void plan_isoflop(sl_preset *p, sl_corpus *c)
{
    char pfile[512];
    su_preset(pfile, sizeof pfile, "iso", "\"kind\": \"isoflop\", \"n\": [3000, 12000], \"budgets\": [3e9, 1e10]",
              "\"batch\": 4, \"eval_every\": 10");
    sl_error err;
    cr_assert_eq(sl_preset_load(p, pfile, &err), SL_OK, "%s", err.msg);
    sl_corpus_opts co = {0};
    co.path = p->corpus;
    co.data_dir = tu_dir;
    cr_assert_eq(sl_corpus_load(c, &co, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_preset_plan(p, c, &err), SL_OK, "%s", err.msg);
}

Test(run, isoflop_steps_and_shapes_come_from_one_planner)
{
    sl_preset p;
    sl_corpus c;
    plan_isoflop(&p, &c);
    cr_assert_eq(p.n_runs, 4);
    for (int i = 0; i < p.n_runs; i++) {
        const sl_run_spec *r = &p.runs[i];
        /* what the lab's selectors ask the planner for a run at (N, C) */
        sl_run_spec s = p.runs[0];
        sl_error err;
        cr_assert_eq(sl_preset_run_at(&p, r->n_target, 0, r->budget, &s, &err), SL_OK, "%s", err.msg);
        cr_assert_eq(memcmp(&s.train.model, &r->train.model, sizeof s.train.model), 0, "%s: shape",
                     r->id);
        cr_assert_eq(s.train.steps, r->train.steps, "%s: %ld steps vs the plan's %ld", r->id,
                     s.train.steps, r->train.steps);
        cr_assert_eq(s.train.warmup, r->train.warmup);
        cr_assert_eq(s.train.eval_every, r->train.eval_every);
        /* rounded up: the run spends at least its budget, in the sweep's accounting */
        double per_step = sl_model_flops_per_token(&s.train.model, p.accounting) * s.train.batch *
                          s.train.model.n_ctx;
        cr_assert_geq(per_step * (double)s.train.steps, r->budget);
        cr_assert_lt(per_step * (double)(s.train.steps - 1), r->budget);
    }
    sl_corpus_free(&c);
    sl_preset_free(&p);
}

Test(run, lab_added_runs_are_named_as_planned_runs)
{
    char pfile[512], runs[512];
    su_preset(pfile, sizeof pfile, "named", "\"kind\": \"nd\", \"n\": [3000], \"d\": [20000, 40000]",
              "\"steps\": 10, \"eval_every\": 5, \"threads\": 1");
    sl_preset p;
    sl_error err;
    cr_assert_eq(sl_preset_load(&p, pfile, &err), SL_OK, "%s", err.msg);
    sl_engine_opts eo;
    sl_engine_opts_default(&eo);
    tu_path(runs, sizeof runs, "runs");
    eo.runs_dir = runs;
    eo.data_dir = tu_dir;
    sl_engine *e;
    cr_assert_eq(sl_engine_new(&e, &p, &eo, &err), SL_OK, "%s", err.msg);
    const sl_preset *planned = sl_engine_preset(e);
    for (int i = 0; i < planned->n_runs; i++) {
        char id[SL_RUN_ID_MAX];
        sl_run_id(&planned->runs[i], planned->kind, 0, id);
        cr_assert_str_eq(planned->runs[i].id, id);
        cr_assert_not_null(strstr(id, "-D"), "%s names no D", id);
    }
    sl_run_spec s = planned->runs[1];
    s.id[0] = 0;
    char got[SL_RUN_ID_MAX];
    cr_assert_eq(sl_engine_add_run(e, &s, got, &err), SL_OK, "%s", err.msg);
    s.index = planned->n_runs;
    char want[SL_RUN_ID_MAX];
    sl_run_id(&s, planned->kind, 0, want);
    cr_assert_str_eq(got, want, "an added run is %s, a planned one would be %s", got, want);
    cr_assert_not_null(strstr(got, "-D40000"), "%s", got);
    sl_engine_free(e);
    sl_preset_free(&p);
}

Test(run, published_values_come_from_the_law_table)
{
    const char *args[] = {"plan", "--compute", "1e21", "--law", "chinchilla", NULL};
    char out[8192], errb[4096];
    cr_assert_eq(tu_run(out, sizeof out, errb, sizeof errb, 0, args), 0, "%s", errb);
    char want[256];
    double v[5];
    for (int j = 0; j < 5; j++)
        v[j] = sl_fit_law_published(SL_LAW_CHINCHILLA, j);
    snprintf(want, sizeof want, "chinchilla E=%.4g A=%.4g B=%.4g alpha=%.4g beta=%.4g", v[0], v[1],
             v[2], v[3], v[4]);
    cr_assert_not_null(strstr(out, want), "plan prints\n%s\nnot %s", out, want);
    /* the overfitting exponent without a fit is Kaplan's published 0.076/0.103 */
    cr_assert_eq(sl_fit_overfit_exponent(NULL), sl_fit_law_published(SL_LAW_KAPLAN_ND, 0) /
                                                     sl_fit_law_published(SL_LAW_KAPLAN_ND, 1));
    cr_assert(fabs(sl_fit_overfit_exponent(NULL) - 0.74) < 0.005);
    /* every law with published values has them only for its own parameters */
    for (int l = 0; l < SL_LAW_COUNT; l++)
        cr_assert(isnan(sl_fit_law_published((sl_fit_law)l, sl_fit_law_params((sl_fit_law)l, NULL))));
}

/* ---- the resumable run directory ---------------------------------------------------- */

static sl_train_opts tiny_opts(void)
{
    sl_train_opts o;
    sl_train_defaults(&o);
    o.model = (sl_config){1, 16, 1, 64, CTX, 256};
    o.batch = 4;
    o.steps = 20;
    o.eval_every = 5;
    o.eval_tokens = 512;
    o.threads = 1;
    return o;
}

static sl_trainer *trainer(const sl_corpus *c)
{
    sl_train_opts o = tiny_opts();
    sl_trainer *t;
    sl_error err;
    cr_assert_eq(sl_trainer_new(&t, &o, c, &err), SL_OK, "%s", err.msg);
    return t;
}

/* should_stop: at g_stop steps (user: the trainer) */
static long g_stop;
static int stop_at_step(void *user)
{
    return sl_trainer_steps_done((const sl_trainer *)user) >= g_stop;
}

Test(run, a_run_directory_resumes_bitwise_past_a_torn_line)
{
    char text[512];
    su_corpus(text, sizeof text);
    sl_corpus c;
    sl_corpus_opts co = {0};
    co.path = text;
    co.data_dir = tu_dir;
    sl_error err;
    cr_assert_eq(sl_corpus_load(&c, &co, &err), SL_OK, "%s", err.msg);
    char a[600], b[600];
    snprintf(a, sizeof a, "%s/a", tu_dir);
    snprintf(b, sizeof b, "%s/b", tu_dir);
    /* a: stopped at step 10 (a checkpoint), then a crash leaves a row past the
     * checkpoint and a torn line */
    sl_trainer *t = trainer(&c);
    sl_run_dir d;
    int stopped;
    cr_assert_eq(sl_run_dir_open(&d, a, t, NULL, &err), SL_OK, "%s", err.msg);
    g_stop = 10;
    sl_run_hooks h = {stop_at_step, NULL, NULL, NULL, t};
    cr_assert_eq(sl_run_dir_train(&d, t, &h, &stopped, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(stopped, 1);
    cr_assert_eq(sl_run_dir_close(&d, &err), SL_OK, "%s", err.msg);
    sl_trainer_free(t);
    char m[700];
    snprintf(m, sizeof m, "%s/metrics.csv", a);
    FILE *f = fopen(m, "a");
    cr_assert_not_null(f);
    fputs("15,240,1e6,3,3,0.001,1,nan,1.5,4.3\n20,3", f);
    fclose(f);
    /* resumed: the rows the checkpoint accounts for, then on to the end */
    t = trainer(&c);
    cr_assert_eq(sl_run_dir_open(&d, a, t, NULL, &err), SL_OK, "%s", err.msg);
    cr_assert(d.resumed);
    cr_assert_eq(d.n_rows, 3, "rows 0, 5, 10 survive the trim, not %zu", d.n_rows);
    cr_assert_eq(d.rows[2].step, 10);
    cr_assert_eq(sl_run_dir_train(&d, t, NULL, &stopped, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(stopped, 0);
    cr_assert_eq(sl_run_dir_close(&d, &err), SL_OK, "%s", err.msg);
    sl_trainer_free(t);
    /* b: the same run without a stop */
    t = trainer(&c);
    cr_assert_eq(sl_run_dir_open(&d, b, t, NULL, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_run_dir_train(&d, t, NULL, &stopped, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_run_dir_close(&d, &err), SL_OK, "%s", err.msg);
    sl_trainer_free(t);
    char rda[700];
    snprintf(rda, sizeof rda, "%s/metrics.csv", b);
    sl_metric_row *xa, *xb;
    size_t na, nb;
    cr_assert_eq(sl_metrics_read(m, &xa, &na, NULL, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_metrics_read(rda, &xb, &nb, NULL, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(na, 5);
    cr_assert_eq(nb, 5);
    for (size_t i = 0; i < na; i++) {
        cr_assert_eq(xa[i].step, xb[i].step);
        cr_assert_eq(xa[i].test_loss, xb[i].test_loss, "row %zu: %.17g vs %.17g", i,
                     xa[i].test_loss, xb[i].test_loss);
        cr_assert(xa[i].train_loss == xb[i].train_loss ||
                      (isnan(xa[i].train_loss) && isnan(xb[i].train_loss)),
                  "row %zu: train %.17g vs %.17g", i, xa[i].train_loss, xb[i].train_loss);
    }
    free(xa);
    free(xb);
    sl_corpus_free(&c);
}

/* A run directory from before test_bpb (metrics.csv without the column)
 * resumes in its own layout: every row keeps 9 fields, reads with test_bpb
 * NaN, and the losses are those of an uninterrupted run of today's layout,
 * whose rows carry bits per byte (byte tokens: nats / ln 2). */
Test(run, a_run_directory_of_an_older_store_resumes_in_its_own_layout)
{
    char text[512];
    su_corpus(text, sizeof text);
    sl_corpus c;
    sl_corpus_opts co = {0};
    co.path = text;
    co.data_dir = tu_dir;
    sl_error err;
    cr_assert_eq(sl_corpus_load(&c, &co, &err), SL_OK, "%s", err.msg);
    char a[600], b[600], m[700], mb[700];
    snprintf(a, sizeof a, "%s/old", tu_dir);
    snprintf(b, sizeof b, "%s/new", tu_dir);
    snprintf(m, sizeof m, "%s/metrics.csv", a);
    snprintf(mb, sizeof mb, "%s/metrics.csv", b);
    sl_trainer *t = trainer(&c);
    sl_run_dir d;
    int stopped;
    cr_assert_eq(sl_run_dir_open(&d, a, t, NULL, &err), SL_OK, "%s", err.msg);
    g_stop = 10;
    sl_run_hooks h = {stop_at_step, NULL, NULL, NULL, t};
    cr_assert_eq(sl_run_dir_train(&d, t, &h, &stopped, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_run_dir_close(&d, &err), SL_OK, "%s", err.msg);
    sl_trainer_free(t);
    /* as an older scalelab wrote it: the last column cut from every line */
    char *old = su_read(m);
    size_t w = 0;
    for (char *p = old, *line = old; *p; p++)
        if (*p == '\n') {
            char *comma = line;
            for (char *q = line; q < p; q++)
                if (*q == ',')
                    comma = q;
            memmove(old + w, line, (size_t)(comma - line));
            w += (size_t)(comma - line);
            old[w++] = '\n';
            line = p + 1;
        }
    tu_write(m, old, w);
    free(old);
    cr_assert_eq(sl_metrics_layout(m), SL_METRICS_NO_BPB);
    t = trainer(&c);
    cr_assert_eq(sl_run_dir_open(&d, a, t, NULL, &err), SL_OK, "%s", err.msg);
    cr_assert(d.resumed);
    cr_assert_eq(sl_run_dir_train(&d, t, NULL, &stopped, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_run_dir_close(&d, &err), SL_OK, "%s", err.msg);
    sl_trainer_free(t);
    cr_assert_eq(sl_metrics_layout(m), SL_METRICS_NO_BPB, "the layout is kept");
    t = trainer(&c);
    cr_assert_eq(sl_run_dir_open(&d, b, t, NULL, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_run_dir_train(&d, t, NULL, &stopped, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_run_dir_close(&d, &err), SL_OK, "%s", err.msg);
    sl_trainer_free(t);
    sl_metric_row *xa, *xb;
    size_t na, nb;
    cr_assert_eq(sl_metrics_read(m, &xa, &na, NULL, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_metrics_read(mb, &xb, &nb, NULL, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(na, 5);
    cr_assert_eq(nb, 5);
    for (size_t i = 0; i < na; i++) {
        cr_assert_eq(xa[i].test_loss, xb[i].test_loss, "row %zu", i);
        cr_assert(isnan(xa[i].test_bpb), "row %zu: %g", i, xa[i].test_bpb);
        cr_assert_float_eq(xb[i].test_bpb, xb[i].test_loss / log(2.0), 1e-12, "row %zu", i);
    }
    free(xa);
    free(xb);
    sl_corpus_free(&c);
}
