/* cmd_fit: `scalelab fit` fits scaling laws to a table of points or a run
 * store and prints each law's parameters with bootstrap intervals. How the
 * points are read is fit_points.c, the analyses printed beside a law
 * fit_side.c; `scalelab plan` is cmd_plan.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fit_cli.h"
#include "scalelab/csv.h"
#include "scalelab/export.h"
#include "scalelab/fit.h"

enum {
    O_LAW = FIT_OPT_OWN, O_BCRIT_FROM, O_BCRIT_LAW, O_NS_FROM, O_CSV, O_PREDICTIONS, O_AT, O_TIME
};

static void print_laws(FILE *f)
{
    for (int l = 0; l < SL_LAW_COUNT; l++)
        fprintf(f, "  %-14s %s\n", sl_fit_law_name((sl_fit_law)l), sl_fit_law_help((sl_fit_law)l));
}

static const cli_opt fit_columns_heading[] = {
    CLI_HEADING("\n"
                "columns (each flag names the CSV column holding that field; by default the\n"
                "column with the field's own name is used when the table has one):\n"),
    CLI_END,
};

static const cli_opt fit_law_opts[] = {
    CLI_HEADING("\n"
                "A run store DIR is read as a table with the columns n, d, c, s, b, loss, run,\n"
                "n_total (every parameter), data_limit, c_total, noise_scale, c_attn, c_head,\n"
                "warmup and bpb. c is Kaplan's C, 6N per token (C = 6NBS); c_attn adds attention's\n"
                "6 n_layer n_ctx d_model, c_head the output head's 6 d_model vocab, c_total\n"
                "both (--accounting, below). --n n_total counts every parameter in N. bcrit is\n"
                "fitted to the noise scale of every evaluation that measured one. loss is the\n"
                "test loss in nats per token; --loss bpb fits it in bits per byte instead\n"
                "(the same rows, those that have it), so byte and BPE sweeps compare.\n"
                "\n"
                "options:\n"),
    CLI_OPT("--law", "NAME", O_LAW,
            "the law to fit (required; see above), several separated by\n"
            "commas, or all: every law the table's columns allow (laws\n"
            "these points cannot serve are listed as skipped)"),
    CLI_END,
};

static const cli_opt fit_own_opts[] = {
    CLI_OPT("--bcrit-from", "SRC", O_BCRIT_FROM,
            "fit B_crit(L) to SRC (a batch scan's store or points) with\n"
            "--bcrit-law and use it for S_min and C_min (kaplan-ns,\n"
            "cmin, approach1); cmin and approach1 then also print the\n"
            "fixed-batch fit beside"),
    CLI_OPT("--bcrit-law", "L", O_BCRIT_LAW,
            "bcrit-scan (default: the hyperbola of each target loss)\n"
            "or bcrit (the gradient noise scale)"),
    CLI_OPT("--ns-from", "SRC", O_NS_FROM,
            "fit kaplan-ns to SRC (an N sweep's learning curves): with\n"
            "cmin and a B_crit(L), print alpha_C^min predicted by\n"
            "1/(1/alpha_S + 1/alpha_B + 1/alpha_N) beside the measured;\n"
            "with kaplan-nd on a store, the early-stopping bound S_stop\n"
            "against each early-stopped run's best step"),
    CLI_OPT("--csv", "OUT", O_CSV, "write the fits CSV (docs/FORMATS.md), atomically"),
    CLI_OPT("--predictions", "OUT", O_PREDICTIONS,
            "write the predictions CSV, one row per point, atomically"),
    CLI_OPT("--at", "POINT", O_AT,
            "also predict at POINT, e.g. n=7e10,d=1.4e12 (fields n, d,\n"
            "c, s, b, loss as in the columns; D and C derived as for\n"
            "the table); repeatable, up to 16; rows with point 0 in\n"
            "the predictions CSV"),
    CLI_FLAG("--time", O_TIME, "print the wall time of the fit"),
    CLI_END,
};

const cli_command cli_fit_cmd = {
    "fit",
    "usage: scalelab fit POINTS.csv|DIR --law NAME [options]\n"
    "\n"
    "Fits a scaling law to a table of points (one row per run or per evaluation)\n"
    "and prints each parameter with its bootstrap percentile interval, R^2 and the\n"
    "RMS of the log residuals, and why the solver stopped. A fit that does not\n"
    "converge prints no parameters and exits 1.\n"
    "\n"
    "laws (--law):\n",
    print_laws,
    (const cli_opt *const[]){fit_columns_heading, cli_fit_column_opts, fit_law_opts,
                             cli_fit_solver_opts, fit_own_opts, NULL},
    "\n"
    "DIR, a run store (scalelab run), gives one point per finished run (N, D =\n"
    "the data limit or the tokens seen, C, S, B, its best test loss); approach1,\n"
    "cmin, kaplan-ns, bcrit-scan, power-s and offset-s take every metric row\n"
    "instead, and bcrit every metric row that measured the gradient noise scale.\n"
    "bcrit-scan prints, for each target loss, the steps S_min, examples E_min (in\n"
    "tokens) and B_crit = E_min/S_min of its hyperbola; on a run store it also\n"
    "prints the noise-scale estimate of B_crit(L) (law bcrit) beside it.\n"
    "Exit status: 0 ok, 1 the fit failed or did not converge, 2 bad input.\n",
};

static void print_fit(const sl_fit_result *r, size_t n, long dropped, const sl_fit_options *o,
                      int show_time)
{
    sl_fit_law law = r->law;
    printf("law       %s: %s\n", sl_fit_law_name(law), sl_fit_law_help(law));
    printf("points    %zu", n);
    if (dropped > 0)
        printf(" (%ld highest-loss dropped)", dropped);
    printf("\nstatus    converged: %s\n", r->reason);
    char why[200];
    sl_fit_verdict v = sl_fit_verdict_of(r, why, sizeof why);
    if (v == SL_FIT_OK)
        printf("verdict   ok\n");
    else
        printf("verdict   %s: %s (not a law to use)\n", sl_fit_verdict_name(v), why);
    if (o->bootstrap > 0)
        printf("intervals %.0f%% bootstrap percentile, %d of %d resamples converged (seed %llu)\n",
               100 * r->level, r->n_boot_ok, r->n_boot, (unsigned long long)o->seed);
    for (int j = 0; j < r->n_params; j++) {
        printf("  %-8s ", r->names[j]);
        cli_fit_print_value(r->value[j], r->ci_low[j], r->ci_high[j]);
        printf("\n");
    }
    printf("fit       R^2 %.4f, RMS log residual %.4g, objective %.6g\n", r->r2, r->rms_log,
           r->objective);
    if (law == SL_LAW_KAPLAN_ND) {
        double lo, hi;
        sl_fit_overfit_exponent_ci(r, &lo, &hi);
        printf("overfit   dL depends on N^%.3f/D", sl_fit_overfit_exponent(r));
        if (isfinite(lo))
            printf(" (alpha_N/alpha_D in [%.3g, %.3g])", lo, hi);
        printf("; dL <= 0.02 needs D >= %.3g N^%.3f\n", sl_fit_overfit_d_needed(r, 1, 0.02),
               sl_fit_overfit_exponent(r));
    }
    if (show_time)
        printf("time      %.3f s\n", r->seconds);
}

static int unknown_law(const char *name, sl_error *err)
{
    char list[512] = "";
    for (int l = 0; l < SL_LAW_COUNT; l++) {
        strncat(list, sl_fit_law_name((sl_fit_law)l), sizeof list - strlen(list) - 1);
        if (l + 1 < SL_LAW_COUNT)
            strncat(list, ", ", sizeof list - strlen(list) - 1);
    }
    return sl_fail(err, SL_EINPUT, "--law: '%s' is not a law (expected one of %s)", name, list);
}

/* `--at n=7e10,d=1.4e12`: a point to predict at. */
static int parse_at(const char *spec, sl_fit_point *x, sl_error *err)
{
    memset(x, 0, sizeof *x);
    x->run = -1;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        double v = 0;
        if (eq) {
            *eq = 0;
            char *end = NULL;
            v = strtod(eq + 1, &end);
            if (end == eq + 1 || *end != 0 || !isfinite(v) || !(v > 0))
                eq = NULL;
        }
        double *dst = !eq                    ? NULL
                      : !strcmp(tok, "n")    ? &x->n
                      : !strcmp(tok, "d")    ? &x->d
                      : !strcmp(tok, "c")    ? &x->c
                      : !strcmp(tok, "s")    ? &x->s
                      : !strcmp(tok, "b")    ? &x->b
                      : !strcmp(tok, "loss") ? &x->loss
                                             : NULL;
        if (!dst)
            return sl_fail(err, SL_EINPUT,
                           "--at: '%s' (expected FIELD=VALUE pairs separated by commas, FIELD "
                           "one of n, d, c, s, b, loss and VALUE a positive number)",
                           spec);
        *dst = v;
    }
    return SL_OK;
}

static void print_at(const sl_fit_result *r, const sl_fit_point *at, int n_at)
{
    static const char *qname[] = {"L", "N_opt", "D_opt", "B_crit"};
    for (int k = 0; k < n_at; k++) {
        sl_fit_point x = at[k];
        sl_fit_point_complete(&x);
        sl_fit_quantity q0 = sl_fit_law_quantity(r->law);
        for (int j = 0; j <= (q0 == SL_FIT_Q_NOPT); j++) {
            sl_fit_quantity q = j ? SL_FIT_Q_DOPT : q0;
            double v, lo, hi;
            sl_fit_predict(r, q, &x, &v, &lo, &hi);
            printf("predict   n=%g d=%g c=%g s=%g loss=%g: %s = ", x.n, x.d, x.c, x.s, x.loss,
                   qname[q]);
            if (!isfinite(v))
                printf("- (this law needs other fields)\n");
            else if (isnan(lo))
                printf("%.6g\n", v);
            else
                printf("%.6g [%.6g, %.6g]\n", v, lo, hi);
        }
    }
}
int cmd_fit(int argc, char **argv)
{
    sl_error err = {{0}};
    points_spec ps;
    sl_fit_options o;
    const char *law_name = NULL, *csv_out = NULL, *pred_out = NULL;
    const char *bcrit_from = NULL, *ns_from = NULL;
    sl_fit_law bcrit_law = SL_LAW_BCRIT_SCAN;
    int show_time = 0, rc = SL_OK, n_at = 0;
    sl_fit_point at[16];
    cli_args args;
    if (cli_fit_parse(&cli_fit_cmd, argc, argv, &args, &ps, &o, &rc))
        return rc;
    rc = SL_OK;
    for (int k = 0; k < args.n_items && rc == SL_OK; k++) {
        const cli_item *it = &args.items[k];
        const char *v = it->arg;
        switch (it->id) {
        case O_LAW: law_name = v; break;
        case O_CSV: csv_out = v; break;
        case O_PREDICTIONS: pred_out = v; break;
        case O_AT:
            if (n_at == 16)
                rc = sl_fail(&err, SL_EINPUT, "--at: more than 16 points");
            else
                rc = parse_at(v, &at[n_at++], &err);
            break;
        case O_BCRIT_FROM: bcrit_from = v; break;
        case O_BCRIT_LAW: {
            int l = sl_fit_law_from_name(v);
            if (l != SL_LAW_BCRIT && l != SL_LAW_BCRIT_SCAN)
                rc = sl_fail(&err, SL_EINPUT, "--bcrit-law: '%s' (expected bcrit-scan or bcrit)", v);
            else
                bcrit_law = (sl_fit_law)l;
            break;
        }
        case O_NS_FROM: ns_from = v; break;
        case O_TIME: show_time = 1; break;
        }
    }
    if (rc == SL_OK && args.n_pos > 1)
        rc = sl_fail(&err, SL_EINPUT, "%s: a second points table (expected one)", args.pos[1]);
    else if (args.n_pos == 1)
        ps.path = args.pos[0];
    cli_args_free(&args);
    if (rc != SL_OK)
        return cli_report(rc, &err);
    if (!ps.path)
        return cli_report(sl_fail(&err, SL_EINPUT,
                                  "fit: no points table (expected scalelab fit POINTS.csv "
                                  "--law NAME)"),
                          &err);
    if (!law_name)
        return cli_report(sl_fail(&err, SL_EINPUT, "--law: missing (expected a law; see "
                                                   "scalelab fit --help)"),
                          &err);
    /* The laws: one name, a comma-separated list, or all. */
    sl_fit_law list[SL_LAW_COUNT];
    int n_laws = 0, all = !strcmp(law_name, "all");
    if (all) {
        for (int l = 0; l < SL_LAW_COUNT; l++)
            list[n_laws++] = (sl_fit_law)l;
    } else {
        /* the whole list, however long (a law named twice is fitted once) */
        char *names = sl_xmalloc(strlen(law_name) + 1);
        memcpy(names, law_name, strlen(law_name) + 1);
        for (char *save = NULL, *tok = strtok_r(names, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save)) {
            int law = sl_fit_law_from_name(tok);
            if (law < 0) {
                rc = unknown_law(tok, &err);
                free(names);
                return cli_report(rc, &err);
            }
            int dup = 0;
            for (int k = 0; k < n_laws; k++)
                dup |= list[k] == (sl_fit_law)law;
            if (!dup)
                list[n_laws++] = (sl_fit_law)law;
        }
        free(names);
        if (n_laws == 0)
            return cli_report(unknown_law(law_name, &err), &err);
    }

    /* Side fits: B_crit(L) from a batch scan (for S_min and C_min), L(N, S) from
     * an N sweep (for the consistency check and the early-stopping bound). */
    side_fits side;
    memset(&side, 0, sizeof side);
    if (bcrit_from) {
        sl_fit_options o_bc = cli_fit_law_options(&o, bcrit_law);
        if ((rc = cli_fit_side("--bcrit-from", bcrit_from, bcrit_law, &o_bc, &side.bcrit, &err)) != SL_OK)
            return cli_report(rc, &err);
        side.have_bcrit = 1;
        o.bcrit_star = side.bcrit.value[0];
        o.bcrit_alpha = side.bcrit.value[1];
        o.bcrit_const = 0;
        cli_fit_print_side("bcrit", bcrit_from, &side.bcrit,
                   "S_min = S/(1+B_crit/B) and C_min = C/(1+B/B_crit) use it");
    }
    if (ns_from) {
        sl_fit_options o_ns = cli_fit_law_options(&o, SL_LAW_KAPLAN_NS);
        if ((rc = cli_fit_side("--ns-from", ns_from, SL_LAW_KAPLAN_NS, &o_ns, &side.ns, &err)) != SL_OK) {
            if (side.have_bcrit)
                sl_fit_result_free(&side.bcrit);
            return cli_report(rc, &err);
        }
        side.have_ns = 1;
        cli_fit_print_side("ns", ns_from, &side.ns, "for the alpha_C^min check and S_stop");
    }
    sl_fit_result kept[SL_LAW_COUNT];
    int have_kept[SL_LAW_COUNT] = {0};

    sl_csv_writer fits, preds;
    sl_csv_writer_init(&fits);
    sl_csv_writer_init(&preds);
    sl_export_fits_header(&fits);
    sl_export_predictions_header(&preds);
    int fitted = 0, failed = 0;
    for (int k = 0; k < n_laws && rc == SL_OK; k++) {
        sl_fit_law law = list[k];
        sl_fit_point *p = NULL;
        size_t n = 0;
        sl_fit_result r;
        sl_fit_options lo;
        rc = cli_fit_law_on(&ps, law, &o, &lo, &p, &n, &r, &err);
        if (rc != SL_OK) {
            /* With --law all, a law these points cannot serve is skipped. */
            if (all && rc == SL_EINPUT) {
                printf("skipped   %s: %s\n\n", sl_fit_law_name(law), err.msg);
                rc = SL_OK;
            }
            continue;
        }
        if (!r.converged) {
            fprintf(stderr, "scalelab: %s: %s did not converge: %s (no parameters reported)\n",
                    ps.path, sl_fit_law_name(law), r.reason);
            if (law == SL_LAW_BCRIT_SCAN) /* what was measured, to see why */
                cli_fit_print_bcrit_scan(&ps, p, n, &lo, NULL);
            failed = 1;
        } else {
            print_fit(&r, n, ps.drop_highest, &lo, show_time);
            cli_fit_print_accounting(&ps, law);
            if (law == SL_LAW_BCRIT_SCAN)
                cli_fit_print_bcrit_scan(&ps, p, n, &lo, &r);
            if ((law == SL_LAW_CMIN || law == SL_LAW_APPROACH1) &&
                (lo.bcrit_star > 0 || lo.bcrit_const > 0))
                cli_fit_print_fixed_batch(&ps, law, &lo);
            print_at(&r, at, n_at);
            if (n_laws > 1)
                printf("\n");
            fit_counts fc;
            cli_fit_counts(&ps, &fc);
            sl_export_fits_rows(&fits, &r, &fc.k);
            sl_export_predictions_rows(&preds, &r, p, n, 1);
            sl_export_predictions_rows(&preds, &r, at, (size_t)n_at, 0);
            fitted++;
        }
        if (r.converged && !have_kept[law]) {
            kept[law] = r; /* for the checks below; freed there */
            have_kept[law] = 1;
        } else {
            sl_fit_result_free(&r);
        }
        free(p);
    }
    if (rc == SL_OK)
        cli_fit_print_checks(&ps, &side, kept, have_kept, &fits);
    for (int l = 0; l < SL_LAW_COUNT; l++)
        if (have_kept[l])
            sl_fit_result_free(&kept[l]);
    if (side.have_bcrit)
        sl_fit_result_free(&side.bcrit);
    if (side.have_ns)
        sl_fit_result_free(&side.ns);
    if (rc == SL_OK && fitted == 0 && !failed)
        rc = sl_fail(&err, SL_EINPUT, "%s: no law could be fitted to these points (expected the "
                                      "columns of at least one law; see scalelab fit --help)",
                     ps.path);
    if (rc == SL_OK && fitted > 0 && csv_out && (rc = sl_csv_save(&fits, csv_out, &err)) == SL_OK)
        printf("wrote     %s\n", csv_out);
    if (rc == SL_OK && fitted > 0 && pred_out &&
        (rc = sl_csv_save(&preds, pred_out, &err)) == SL_OK)
        printf("wrote     %s\n", pred_out);
    sl_csv_writer_free(&fits);
    sl_csv_writer_free(&preds);
    if (rc == SL_OK && failed)
        return 1;
    return cli_report(rc, &err);
}
