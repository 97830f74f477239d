/* fit_side: the analyses `scalelab fit` prints beside a law (fit_cli.h): the
 * scan behind bcrit-scan with the noise-scale estimate, the compute
 * accounting, the side fits of --bcrit-from and --ns-from, the fixed-batch fit
 * beside L(C_min), and Kaplan's consistency check and early-stopping bound. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "fit_cli.h"
#include "scalelab/csv.h"
#include "scalelab/export.h"
#include "scalelab/run.h"
#include "scalelab/store.h"

void cli_fit_print_value(double v, double lo, double hi)
{
    if (isnan(lo))
        printf("%-12.6g", v);
    else
        printf("%-12.6g [%.6g, %.6g]", v, lo, hi);
}

/* The scan behind a bcrit-scan fit: one hyperbola per target loss, and on a run
 * store the gradient-noise-scale estimate of the same law beside it. */
void cli_fit_print_bcrit_scan(const points_spec *ps, const sl_fit_point *p, size_t n,
                             const sl_fit_options *o, const sl_fit_result *r)
{
    int k = o->bcrit_targets > 0 ? o->bcrit_targets : SL_BCRIT_TARGETS, nt = 0;
    sl_bcrit_target *t = sl_xmalloc((size_t)k * sizeof *t);
    sl_error e;
    if (sl_fit_bcrit_targets(p, n, k, t, &nt, &e) == SL_OK) {
        printf("targets   %-10s %5s %12s %12s %12s %9s\n", "loss", "runs", "S_min", "E_min",
               "B_crit", "rms_log");
        for (int j = 0; j < nt; j++) {
            if (t[j].converged)
                printf("          %-10.5g %5d %12.5g %12.5g %12.5g %9.3g\n", t[j].loss,
                       t[j].n_runs, t[j].s_min, t[j].e_min, t[j].bcrit, t[j].rms_log);
            else
                printf("          %-10.5g %5d  not measured: %s\n", t[j].loss, t[j].n_runs,
                       t[j].reason);
        }
    }
    free(t);
    struct stat st;
    if (stat(ps->path, &st) != 0 || !S_ISDIR(st.st_mode))
        return;
    sl_fit_point *q = NULL;
    size_t m = 0;
    sl_fit_result nr;
    sl_fit_options no = *o;
    no.warm = NULL;
    if (cli_fit_load_points(ps, SL_LAW_BCRIT, &no, &q, &m, &e) != SL_OK) {
        printf("noise     no gradient-noise-scale estimate: %s\n", e.msg);
        return;
    }
    if (sl_fit(SL_LAW_BCRIT, q, m, &no, &nr, &e) == SL_OK && nr.converged) {
        printf("noise     B_crit(L) from the gradient noise scale (law bcrit, %zu rows):\n", m);
        for (int j = 0; j < nr.n_params; j++) {
            printf("  %-8s ", nr.names[j]);
            cli_fit_print_value(nr.value[j], nr.ci_low[j], nr.ci_high[j]);
            if (r)
                printf("   (scan: %.6g)", r->value[j]);
            printf("\n");
        }
    } else {
        printf("noise     no gradient-noise-scale estimate: the bcrit fit failed\n");
    }
    sl_fit_result_free(&nr);
    free(q);
}

/* The compute accounting of a law's C, for laws that read C. */
void cli_fit_print_accounting(const points_spec *ps, sl_fit_law law)
{
    if (!(sl_fit_law_needs(law) & SL_FIT_F_C))
        return;
    if (ps->col[COL_C])
        printf("compute   C from column '%s', in the accounting the table holds\n", ps->col[COL_C]);
    else if (cli_fit_is_dir(ps->path) || ps->accounting >= 0) {
        sl_accounting a = ps->accounting >= 0 ? (sl_accounting)ps->accounting : SL_ACCT_KAPLAN;
        printf("compute   C in the %s accounting: %s\n", sl_accounting_name(a),
               sl_accounting_formula(a));
    } else
        printf("compute   C from column 'c', in the accounting the table holds\n");
}


void cli_fit_counts(const points_spec *ps, fit_counts *b)
{
    int store = cli_fit_is_dir(ps->path);
    const char *cn = ps->col[COL_C], *nn = ps->col[COL_N], *ln = ps->col[COL_LOSS];
    /* C as cli_fit_print_accounting says it */
    if (cn)
        snprintf(b->c, sizeof b->c, "column %s", cn);
    else if (store || ps->accounting >= 0)
        snprintf(b->c, sizeof b->c, "%s",
                 sl_accounting_name(ps->accounting >= 0 ? (sl_accounting)ps->accounting : SL_ACCT_KAPLAN));
    else
        snprintf(b->c, sizeof b->c, "column c");
    if (store && (!nn || !strcmp(nn, "n") || !strcmp(nn, "n_total")))
        snprintf(b->n, sizeof b->n, "%s", nn && !strcmp(nn, "n_total") ? "N_total" : "N");
    else
        snprintf(b->n, sizeof b->n, "column %s", nn ? nn : "n");
    if (store && (!ln || !strcmp(ln, "loss") || !strcmp(ln, "bpb")))
        snprintf(b->loss, sizeof b->loss, "%s", ln && !strcmp(ln, "bpb") ? "bits/byte" : "nats/token");
    else
        snprintf(b->loss, sizeof b->loss, "column %s", ln ? ln : "loss");
    b->k.c = b->c;
    b->k.n = b->n;
    b->k.loss = b->loss;
}

/* Fits law to the table or store at path with the default columns; a fit that
 * does not converge is a runtime failure. */
static int side_fit_in(const char *path, sl_fit_law law, const sl_fit_options *o,
                       sl_fit_result *r, sl_error *err);
int cli_fit_side(const char *flag, const char *path, sl_fit_law law, const sl_fit_options *o,
                    sl_fit_result *r, sl_error *err)
{
    sl_error e;
    int rc = side_fit_in(path, law, o, r, &e);
    if (rc != SL_OK)
        sl_fail(err, rc, "%s: %s", flag, e.msg);
    return rc;
}

static int side_fit_in(const char *path, sl_fit_law law, const sl_fit_options *o,
                       sl_fit_result *r, sl_error *err)
{
    points_spec sp = {0};
    sp.path = path;
    sp.accounting = -1;
    sl_fit_point *p;
    size_t n;
    sl_fit_options lo;
    int rc = cli_fit_law_on(&sp, law, o, &lo, &p, &n, r, err);
    if (rc != SL_OK)
        return rc;
    free(p);
    if (!r->converged) {
        rc = sl_fail(err, SL_ERUNTIME, "%s: %s did not converge: %s", path, sl_fit_law_name(law),
                     r->reason);
        sl_fit_result_free(r);
    }
    return rc;
}

void cli_fit_print_side(const char *what, const char *path, const sl_fit_result *r,
                       const char *use)
{
    printf("%-9s %s of %s: ", what, sl_fit_law_name(r->law), path);
    for (int j = 0; j < r->n_params; j++) {
        printf("%s%s = %.4g", j ? ", " : "", r->names[j], r->value[j]);
        if (!isnan(r->ci_low[j]))
            printf(" [%.4g, %.4g]", r->ci_low[j], r->ci_high[j]);
    }
    printf("; %s\n", use);
}

/* Beside L(C_min) or N_opt(C_min): the same law on the compute spent at the
 * batch size trained (no C_min correction), Kaplan's fixed-batch L(C). */
void cli_fit_print_fixed_batch(const points_spec *ps, sl_fit_law law, const sl_fit_options *o)
{
    sl_fit_options f = *o;
    f.bcrit_const = f.bcrit_star = 0;
    f.bootstrap = 0;
    f.warm = NULL;
    sl_fit_law fl = law == SL_LAW_CMIN ? SL_LAW_CFIXED : law;
    sl_fit_point *p = NULL;
    size_t n = 0;
    sl_fit_result r;
    sl_error e;
    if (cli_fit_load_points(ps, fl, &f, &p, &n, &e) != SL_OK)
        return;
    for (size_t i = 0; i < n; i++)
        p[i].bcrit = 0;
    if (sl_fit(fl, p, n, &f, &r, &e) == SL_OK && r.converged) {
        if (law == SL_LAW_CMIN)
            printf("fixed B   L(C) at the batch trained (cfixed): alpha_C = %.4g, C_c = %.4g "
                   "(published 0.057 beside L(C_min)'s 0.050)\n",
                   r.value[0], r.value[1]);
        else
            printf("fixed B   on C, not C_min: a = %.4g, N_0 = %.4g, b = %.4g, D_0 = %.4g\n",
                   r.value[0], r.value[1], r.value[2], r.value[3]);
    }
    sl_fit_result_free(&r);
    free(p);
}

/* A row of fits.csv for a number derived from fits (no solver of its own). */
static void check_row(sl_csv_writer *w, const char *law, const char *param, double v, double lo,
                      double hi, size_t n, const sl_fit_counts *k)
{
    sl_csv_field(w, law);
    sl_csv_field(w, param);
    sl_csv_field_double(w, v);
    sl_csv_field_double(w, lo);
    sl_csv_field_double(w, hi);
    sl_csv_field_long(w, (long)n);
    sl_csv_field_double(w, NAN);
    sl_csv_field_double(w, NAN);
    sl_csv_field(w, "derived");
    for (int j = 0; j < 4; j++) /* verdict, objective, boot_converged, boot_requested */
        sl_csv_field(w, "");
    sl_csv_field(w, k->c);
    sl_csv_field(w, k->n);
    sl_csv_field(w, k->loss);
    sl_csv_end_row(w);
}

/* After the laws: Kaplan's consistency check (eq 1.8) when L(N,S), B_crit(L)
 * and L(C_min) are all at hand, and the early-stopping bound (eq 5.7) against
 * the early-stopped runs of a store fitted with kaplan-nd. */
void cli_fit_print_checks(const points_spec *ps, const side_fits *side, const sl_fit_result *kept,
                         const int *have, sl_csv_writer *fits)
{
    const sl_fit_result *ns = side->have_ns            ? &side->ns
                              : have[SL_LAW_KAPLAN_NS] ? &kept[SL_LAW_KAPLAN_NS]
                                                       : NULL;
    const sl_fit_result *bc = side->have_bcrit            ? &side->bcrit
                              : have[SL_LAW_BCRIT_SCAN] ? &kept[SL_LAW_BCRIT_SCAN]
                              : have[SL_LAW_BCRIT]      ? &kept[SL_LAW_BCRIT]
                                                        : NULL;
    sl_error e;
    double v, lo, hi;
    if (ns && bc && have[SL_LAW_CMIN] &&
        sl_fit_alpha_cmin_predicted(ns, bc, &v, &lo, &hi, &e) == SL_OK) {
        const sl_fit_result *cm = &kept[SL_LAW_CMIN];
        printf("check     alpha_C^min = 1/(1/alpha_S + 1/alpha_B + 1/alpha_N) (Kaplan eq 1.8): "
               "predicted %.4g",
               v);
        if (!isnan(lo))
            printf(" [%.4g, %.4g]", lo, hi);
        printf(" from kaplan-ns and %s; measured (cmin) %.4g", sl_fit_law_name(bc->law),
               cm->value[0]);
        if (!isnan(cm->ci_low[0]))
            printf(" [%.4g, %.4g]", cm->ci_low[0], cm->ci_high[0]);
        printf("\n");
        fit_counts fc;
        cli_fit_counts(ps, &fc);
        fc.k.n = ""; /* cmin reads no N */
        check_row(fits, "cmin", "alpha_C_predicted", v, lo, hi, cm->n_points, &fc.k);
    }
    if (!have[SL_LAW_KAPLAN_ND] || !cli_fit_is_dir(ps->path))
        return;
    sl_run *runs;
    int n;
    if (sl_runs_load(ps->path, &runs, &n, &e) != SL_OK)
        return;
    int header = 0;
    for (int i = 0; i < n; i++) {
        const sl_run *r = &runs[i];
        long bi = sl_run_best_row(r->rows, r->n_rows);
        if (!sl_run_early_stopped(r) || r->spec.train.data_limit == 0 || bi < 0)
            continue;
        size_t best = (size_t)bi;
        double N = sl_model_counts(&r->spec.train.model).n_kaplan;
        double D = (double)r->spec.train.data_limit;
        double B = (double)r->spec.train.batch * r->spec.train.model.n_ctx;
        if (sl_fit_stop_bound(&kept[SL_LAW_KAPLAN_ND], ns, bc, N, D, B, &v, &lo, &hi, &e) != SL_OK)
            continue;
        if (!header++)
            printf("stop      S_stop (Kaplan eq 5.7, from kaplan-nd, %s%s%s) against the best step "
                   "of each early-stopped run:\n          %-28s %10s %12s %12s %s\n",
                   ns ? "kaplan-ns" : "published L(N,S)", bc ? " and " : "",
                   bc ? sl_fit_law_name(bc->law) : "", "run", "N", "D", "best step",
                   "S_stop bound");
        printf("          %-28s %10.4g %12.4g %12ld %.4g", r->spec.id, N, D, r->rows[best].step, v);
        if (!isnan(lo))
            printf(" [%.4g, %.4g]", lo, hi);
        printf("%s\n", isfinite(v) && v <= (double)r->rows[best].step ? "" : "  (above)");
    }
    sl_runs_free(runs, n);
}
