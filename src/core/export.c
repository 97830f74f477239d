/* export: see include/scalelab/export.h. The tables are built in memory
 * (open_memstream) and written with sl_write_atomic, so a reader sees the old
 * table or the new one. */
#include "scalelab/export.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scalelab/model.h"

/* ---- runs.csv and curves.csv ---------------------------------------------------- */

void sl_export_runs(FILE *f, const sl_run *runs, int n)
{
    fprintf(f, "id,index,layers,d_model,heads,d_ff,n_ctx,vocab,N,N_total,D,batch,seed,threads,lr,"
               "steps,tokens,flops,best_test_loss,final_test_loss,best_test_bpb,final_test_bpb,epochs,"
               "status,reason\n");
    for (int i = 0; i < n; i++) {
        const sl_run *r = &runs[i];
        const sl_config *c = &r->spec.train.model;
        sl_counts k = sl_model_counts(c);
        const sl_metric_row *last = r->n_rows ? &r->rows[r->n_rows - 1] : NULL;
        double best = sl_run_best_loss(r->rows, r->n_rows);
        /* the reason may hold commas and quotes: RFC 4180 quoting */
        char reason[600];
        size_t o = 0;
        reason[o++] = '"';
        for (const char *p = r->status.reason; *p && o < sizeof reason - 3; p++) {
            if (*p == '"')
                reason[o++] = '"';
            reason[o++] = *p;
        }
        reason[o++] = '"';
        reason[o] = 0;
        fprintf(f, "%s,%d,%d,%d,%d,%d,%d,%d,%.0f,%.0f,%zu,%d,%llu,%d,%.6g,%ld,%.0f,%.6e,%.6f,%.6f,%.6f,"
                   "%.6f,%.4g,%s,%s\n",
                r->spec.id, r->spec.index, c->n_layer, c->d_model, c->n_head, c->d_ff, c->n_ctx,
                c->vocab, k.n_kaplan, k.n_total, r->spec.train.data_limit, r->spec.train.batch,
                (unsigned long long)r->spec.train.seed, r->spec.train.threads, r->spec.train.lr,
                last ? last->step : 0, last ? last->tokens : 0, last ? last->flops : 0, best,
                last ? last->test_loss : NAN, sl_run_best_bpb(r->rows, r->n_rows),
                last ? last->test_bpb : NAN, r->status.epochs, r->status.state, reason);
    }
}

void sl_export_curves(FILE *f, const sl_run *runs, int n)
{
    int extra = 0;
    for (int i = 0; i < n; i++)
        extra |= runs[i].transfer != NULL;
    fprintf(f, "run,step,tokens,flops,train_loss,test_loss,lr,grad_norm,noise_scale,wall_s,test_bpb%s\n",
            extra ? "," SL_RUN_TRANSFER_COLUMN : "");
    for (int i = 0; i < n; i++)
        for (size_t j = 0; j < runs[i].n_rows; j++) {
            fprintf(f, "%s,", runs[i].spec.id);
            sl_metrics_write_row(f, &runs[i].rows[j], extra ? SL_METRICS_TRANSFER : 0,
                                 runs[i].transfer ? runs[i].transfer[j] : NAN);
        }
}

int sl_export_sources(FILE *f, const char *sweep_dir, const sl_run *runs, int n, sl_error *err)
{
    fprintf(f, "run,source,test_tokens,test_bytes,test_loss,test_bpb\n");
    for (int i = 0; i < n; i++) {
        char dir[1200];
        sl_run_path(dir, sizeof dir, sweep_dir, runs[i].spec.id);
        sl_source_loss *s;
        int ns;
        int rc = sl_sources_read(dir, &s, &ns, err);
        if (rc)
            return rc;
        for (int k = 0; k < ns; k++)
            fprintf(f, "%s,%s,%.0f,%.0f,%.17g,%.17g\n", runs[i].spec.id, s[k].name, s[k].test_tokens,
                    s[k].test_bytes, s[k].test_loss, s[k].test_bpb);
        free(s);
    }
    return SL_OK;
}

static int save_table(const char *dir, const char *name, void (*fn)(FILE *, const sl_run *, int),
                      const sl_run *runs, int n, sl_error *err)
{
    char path[1200];
    sl_run_path(path, sizeof path, dir, name);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return sl_fail(err, SL_ERUNTIME, "%s: out of memory", path);
    fn(f, runs, n);
    fclose(f);
    int rc = sl_write_atomic(path, buf, len, err);
    free(buf);
    return rc;
}

/* ---- a store's verification runs ---------------------------------------------- */

static const char *const pred_head[] = {"run", "law", "n", "d", "c", "predicted", "ci_low", "ci_high"};
#define PRED_COLS 8

int sl_export_prediction_add(const char *sweep_dir, const sl_store_prediction *p, sl_error *err)
{
    char path[1200];
    sl_run_path(path, sizeof path, sweep_dir, SL_PREDICTIONS_FILE);
    sl_csv_writer w;
    sl_csv_writer_init(&w);
    for (int k = 0; k < PRED_COLS; k++)
        sl_csv_field(&w, pred_head[k]);
    sl_csv_end_row(&w);
    sl_csv t;
    if (access(path, F_OK) == 0) {
        int rc = sl_csv_read(path, &t, err);
        if (rc != SL_OK) {
            sl_csv_writer_free(&w);
            return rc;
        }
        for (size_t r = 0; r < t.n_rows; r++) {
            for (size_t k = 0; k < t.n_cols && k < PRED_COLS; k++)
                sl_csv_field(&w, sl_csv_cell(&t, r, k));
            sl_csv_end_row(&w);
        }
        sl_csv_free(&t);
    }
    sl_csv_field(&w, p->run);
    sl_csv_field(&w, p->law);
    sl_csv_field_double(&w, p->n);
    sl_csv_field_double(&w, p->d);
    sl_csv_field_double(&w, p->c);
    sl_csv_field_double(&w, p->value);
    sl_csv_field_double(&w, p->lo);
    sl_csv_field_double(&w, p->hi);
    sl_csv_end_row(&w);
    int rc = sl_csv_save(&w, path, err);
    sl_csv_writer_free(&w);
    return rc;
}

int sl_export_predictions_load(const char *sweep_dir, sl_store_prediction **out, int *n,
                               sl_error *err)
{
    char path[1200];
    sl_run_path(path, sizeof path, sweep_dir, SL_PREDICTIONS_FILE);
    *out = NULL;
    *n = 0;
    if (access(path, F_OK) != 0)
        return SL_OK;
    sl_csv t;
    int rc = sl_csv_read(path, &t, err);
    if (rc != SL_OK)
        return rc;
    int col[PRED_COLS];
    for (int k = 0; k < PRED_COLS; k++)
        if ((col[k] = sl_csv_column(&t, pred_head[k])) < 0) {
            sl_csv_free(&t);
            return sl_fail(err, SL_EINPUT, "%s: no column %s (docs/FORMATS.md)", path, pred_head[k]);
        }
    sl_store_prediction *p = sl_xcalloc(t.n_rows ? t.n_rows : 1, sizeof *p);
    for (size_t r = 0; r < t.n_rows; r++) {
        snprintf(p[r].run, sizeof p[r].run, "%s", sl_csv_cell(&t, r, (size_t)col[0]));
        snprintf(p[r].law, sizeof p[r].law, "%s", sl_csv_cell(&t, r, (size_t)col[1]));
        double *v[6] = {&p[r].n, &p[r].d, &p[r].c, &p[r].value, &p[r].lo, &p[r].hi};
        for (int k = 0; k < 6; k++)
            *v[k] = strtod(sl_csv_cell(&t, r, (size_t)col[2 + k]), NULL);
    }
    *out = p;
    *n = (int)t.n_rows;
    sl_csv_free(&t);
    return SL_OK;
}

const char *sl_export_prediction_outcome(const sl_store_prediction *p, double observed)
{
    if (!isfinite(observed))
        return "pending";
    if (!isfinite(p->lo) || !isfinite(p->hi))
        return "no-interval";
    return observed >= p->lo && observed <= p->hi ? "inside" : "outside";
}

/* OUT/predictions.csv: each prediction beside its run's observed best test
 * loss (once done) and whether the interval held it; nothing without any */
static int store_predictions(const char *sweep_dir, const char *out, const sl_run *runs, int n,
                             sl_error *err)
{
    sl_store_prediction *p;
    int np;
    int rc = sl_export_predictions_load(sweep_dir, &p, &np, err);
    if (rc != SL_OK || np == 0) {
        free(p);
        return rc;
    }
    sl_csv_writer w;
    sl_csv_writer_init(&w);
    for (int k = 0; k < PRED_COLS; k++)
        sl_csv_field(&w, pred_head[k]);
    sl_csv_field(&w, "observed");
    sl_csv_field(&w, "outcome");
    sl_csv_end_row(&w);
    for (int i = 0; i < np; i++) {
        double obs = NAN;
        for (int j = 0; j < n; j++)
            if (!strcmp(runs[j].spec.id, p[i].run) && sl_run_state_of(&runs[j]) == SL_RUN_DONE)
                obs = sl_run_best_loss(runs[j].rows, runs[j].n_rows);
        sl_csv_field(&w, p[i].run);
        sl_csv_field(&w, p[i].law);
        sl_csv_field_double(&w, p[i].n);
        sl_csv_field_double(&w, p[i].d);
        sl_csv_field_double(&w, p[i].c);
        sl_csv_field_double(&w, p[i].value);
        sl_csv_field_double(&w, p[i].lo);
        sl_csv_field_double(&w, p[i].hi);
        sl_csv_field_double(&w, obs);
        sl_csv_field(&w, sl_export_prediction_outcome(&p[i], obs));
        sl_csv_end_row(&w);
    }
    char path[1200];
    sl_run_path(path, sizeof path, out, "predictions.csv");
    rc = sl_csv_save(&w, path, err);
    sl_csv_writer_free(&w);
    free(p);
    return rc;
}

int sl_export_store(const char *sweep_dir, const char *out, int *n_runs, sl_error *err)
{
    sl_run *runs;
    int n;
    *n_runs = 0;
    int rc = sl_runs_load(sweep_dir, &runs, &n, err);
    if (rc)
        return rc;
    /* every run's sources.csv is read before anything is written: a damaged
     * one leaves OUT as it was */
    char *src = NULL;
    size_t src_len = 0;
    FILE *f = open_memstream(&src, &src_len);
    if (!f)
        rc = sl_fail(err, SL_ERUNTIME, "%s: out of memory", sweep_dir);
    else {
        rc = sl_export_sources(f, sweep_dir, runs, n, err);
        fclose(f);
    }
    char path[1200];
    sl_run_path(path, sizeof path, out, "sources.csv");
    if (rc == SL_OK && (rc = sl_mkdirs(out, err)) == SL_OK &&
        (rc = save_table(out, "runs.csv", sl_export_runs, runs, n, err)) == SL_OK &&
        (rc = save_table(out, "curves.csv", sl_export_curves, runs, n, err)) == SL_OK)
        rc = sl_write_atomic(path, src, src_len, err);
    if (rc == SL_OK)
        rc = store_predictions(sweep_dir, out, runs, n, err);
    free(src);
    sl_runs_free(runs, n);
    *n_runs = n;
    return rc;
}

/* ---- fits.csv and predictions.csv ---------------------------------------------- */

const sl_fit_counts SL_FIT_COUNTS_STORE = {"kaplan", "N", "nats/token"};

void sl_export_fits_header(sl_csv_writer *w)
{
    const char *head[] = {"law", "param", "value", "ci_low", "ci_high",
                          "n_points", "r2", "rms_log", "status", "verdict",
                          "objective", "boot_converged", "boot_requested",
                          "accounting", "n_counts", "loss_unit"};
    for (size_t k = 0; k < sizeof head / sizeof head[0]; k++)
        sl_csv_field(w, head[k]);
    sl_csv_end_row(w);
}

static void fit_row(sl_csv_writer *w, const sl_fit_result *r, const sl_fit_counts *k,
                    const char *param, double v, double lo, double hi)
{
    unsigned need = sl_fit_law_needs(r->law);
    sl_csv_field(w, sl_fit_law_name(r->law));
    sl_csv_field(w, param);
    sl_csv_field_double(w, v);
    sl_csv_field_double(w, lo);
    sl_csv_field_double(w, hi);
    sl_csv_field_long(w, (long)r->n_points);
    sl_csv_field_double(w, r->r2);
    sl_csv_field_double(w, r->rms_log);
    sl_csv_field(w, r->converged ? "converged" : "not_converged");
    sl_csv_field(w, sl_fit_verdict_name(sl_fit_verdict_of(r, NULL, 0)));
    sl_csv_field_double(w, r->objective);
    sl_csv_field_long(w, r->n_boot_ok);
    sl_csv_field_long(w, r->n_boot);
    sl_csv_field(w, k && (need & SL_FIT_F_C) && k->c ? k->c : "");
    sl_csv_field(w, k && (need & SL_FIT_F_N) && k->n ? k->n : "");
    sl_csv_field(w, k && k->loss ? k->loss : "");
    sl_csv_end_row(w);
}

void sl_export_fits_rows(sl_csv_writer *w, const sl_fit_result *r, const sl_fit_counts *k)
{
    for (int j = 0; j < r->n_params; j++)
        fit_row(w, r, k, r->names[j], r->value[j], r->ci_low[j], r->ci_high[j]);
    if (r->law == SL_LAW_KAPLAN_ND) {
        /* the exponent the overfitting penalty depends on, N^(alpha_N/alpha_D)/D */
        double lo, hi;
        sl_fit_overfit_exponent_ci(r, &lo, &hi);
        fit_row(w, r, k, "alpha_N/alpha_D", sl_fit_overfit_exponent(r), lo, hi);
    }
}

int sl_export_fits_save(const sl_fit_result *res, int n, const sl_fit_counts *k, const char *path,
                        sl_error *err)
{
    sl_csv_writer w;
    sl_csv_writer_init(&w);
    sl_export_fits_header(&w);
    for (int i = 0; i < n; i++)
        sl_export_fits_rows(&w, &res[i], k);
    int rc = sl_csv_save(&w, path, err);
    sl_csv_writer_free(&w);
    return rc;
}

void sl_export_predictions_header(sl_csv_writer *w)
{
    const char *head[] = {"law", "point", "n",  "d",     "c",         "s",
                          "loss", "quantity", "value", "ci_low", "ci_high"};
    for (size_t k = 0; k < sizeof head / sizeof head[0]; k++)
        sl_csv_field(w, head[k]);
    sl_csv_end_row(w);
}

void sl_export_predictions_rows(sl_csv_writer *w, const sl_fit_result *r, const sl_fit_point *p,
                                size_t n, int first)
{
    sl_fit_quantity q0 = sl_fit_law_quantity(r->law);
    int two = q0 == SL_FIT_Q_NOPT;
    static const char *qname[] = {"loss", "n_opt", "d_opt", "bcrit"};
    for (size_t i = 0; i < n; i++) {
        sl_fit_point x = p[i];
        sl_fit_point_complete(&x);
        for (int k = 0; k <= two; k++) {
            sl_fit_quantity q = k ? SL_FIT_Q_DOPT : q0;
            double v, lo, hi;
            sl_fit_predict(r, q, &x, &v, &lo, &hi);
            sl_csv_field(w, sl_fit_law_name(r->law));
            sl_csv_field_long(w, first ? (long)i + 1 : 0);
            sl_csv_field_double(w, x.n);
            sl_csv_field_double(w, x.d);
            sl_csv_field_double(w, x.c);
            sl_csv_field_double(w, x.s);
            sl_csv_field_double(w, x.loss);
            sl_csv_field(w, qname[q]);
            sl_csv_field_double(w, v);
            sl_csv_field_double(w, lo);
            sl_csv_field_double(w, hi);
            sl_csv_end_row(w);
        }
    }
}

int sl_export_lab(const char *sweep_dir, const char *out, const sl_fit_result *fits, int n_fits,
                  sl_error *err)
{
    int n = 0;
    int rc = sl_export_store(sweep_dir, out, &n, err);
    if (rc != SL_OK)
        return rc;
    char path[1200];
    sl_run_path(path, sizeof path, out, "fits.csv");
    /* the lab fits a store's points: Kaplan's C and N, nats per token */
    return sl_export_fits_save(fits, n_fits, &SL_FIT_COUNTS_STORE, path, err);
}

/* ---- the points table of a store ------------------------------------------------- */

/* a noise scale as a CSV cell: empty when the row has none (one thread) */
static const char *noise_cell(char *buf, size_t len, double b_simple)
{
    if (isfinite(b_simple) && b_simple > 0)
        snprintf(buf, len, "%.17g", b_simple);
    else
        buf[0] = 0;
    return buf;
}

int sl_export_points_csv(const char *sweep_dir, sl_fit_point_rule rule, int loss, char **text,
                         sl_error *err)
{
    sl_run *runs;
    int n;
    *text = NULL;
    int rc = sl_runs_load(sweep_dir, &runs, &n, err);
    if (rc)
        return rc;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        sl_runs_free(runs, n);
        return sl_fail(err, SL_ERUNTIME, "%s: out of memory", sweep_dir);
    }
    fprintf(f, "n,d,c,s,b,loss,run,n_total,data_limit,c_total,noise_scale,c_attn,c_head,warmup,bpb\n");
    char ns[32];
    for (int i = 0; i < n; i++) {
        const sl_run *r = &runs[i];
        sl_counts k = sl_model_counts(&r->spec.train.model);
        /* c is Kaplan's C, 6N per token (sl_run_point); c_attn, c_head and
         * c_total add attention's context term, the output head, or both */
        const sl_config *cf = &r->spec.train.model;
        double a_tok = sl_model_flops_per_token(cf, SL_ACCT_ATTN);
        double h_tok = sl_model_flops_per_token(cf, SL_ACCT_HEAD);
        double t_tok = sl_model_flops_per_token(cf, SL_ACCT_TOTAL);
        long wu = sl_train_warmup(&r->spec.train);
        size_t *rows = sl_xmalloc((r->n_rows ? r->n_rows : 1) * sizeof *rows);
        size_t m = sl_run_point_rows(r, rule, loss, rows);
        for (size_t j = 0; j < m; j++) {
            const sl_metric_row *row = &r->rows[rows[j]];
            sl_fit_point p = sl_run_point(r, rows[j], rule, loss);
            fprintf(f, "%.17g,%.17g,%.17g,%ld,%.17g,%.17g,%s,%.17g,%.17g,%.17g,%s,%.17g,%.17g,%ld,%.17g\n",
                    p.n, p.d, p.c, row->step, p.b, p.loss, r->spec.id, k.n_total,
                    (double)r->spec.train.data_limit, row->tokens * t_tok,
                    noise_cell(ns, sizeof ns, row->noise_scale), row->tokens * a_tok,
                    row->tokens * h_tok, wu, row->test_bpb);
        }
        free(rows);
    }
    fclose(f);
    sl_runs_free(runs, n);
    *text = buf;
    return SL_OK;
}
