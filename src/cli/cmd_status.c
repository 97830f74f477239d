/* scalelab status | export: a run store read, never written (status prints its
 * runs as a table; export writes them as CSV files and figures). Training a
 * sweep (run, resume) is cmd_sweep.c's. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fit_cli.h"
#include "scalelab/export.h"
#include "scalelab/figures.h"
#include "scalelab/run.h"

enum { O_CSV = 1, O_PLOTS, O_ACCOUNTING, O_BCRIT_FROM, O_BCRIT_LAW, O_NS_FROM, O_ND_FROM };

static const cli_opt no_opts[] = {CLI_END};

const cli_command cli_status_cmd = {
    "status",
    "usage: scalelab status DIR\n"
    "\n"
    "Prints a table of the runs in run store DIR: state, steps, N, D, best and\n"
    "final test loss (nats per token), the best in bits per byte, epochs of its\n"
    "train data seen, threads and why a run stopped or failed; then each\n"
    "finished run's held-out loss per source of the corpus (sources.csv).\n"
    "\n",
    NULL,
    (const cli_opt *const[]){no_opts, NULL},
    NULL,
};

static const cli_opt export_opts[] = {
    CLI_OPT("--csv", "OUTDIR", O_CSV, "write OUTDIR/runs.csv and OUTDIR/curves.csv"),
    CLI_OPT("--plots", "FIGDIR", O_PLOTS, "write the figures, FIGDIR/<figure>.svg and .png"),
    CLI_OPT("--accounting", "A", O_ACCOUNTING,
            "the compute C the figures plot: kaplan (6N per token,\n"
            "the default), attn, head or total"),
    CLI_OPT("--bcrit-from", "SRC", O_BCRIT_FROM,
            "with --plots: fit B_crit(L) to SRC (a batch scan's store\n"
            "or points) with --bcrit-law for C_min and S_min; an n\n"
            "sweep then also gets frontier-cmin, smin-cmin, allocation\n"
            "and Kaplan's Table 6 as FIGDIR/table6.csv and table6.md"),
    CLI_OPT("--bcrit-law", "L", O_BCRIT_LAW, "bcrit-scan (default) or bcrit (the gradient noise scale)"),
    CLI_OPT("--ns-from", "SRC", O_NS_FROM,
            "with --plots: fit kaplan-ns to SRC (an N sweep) for the\n"
            "S_stop bound of stop-bound (default: Kaplan's published\n"
            "L(N, S))"),
    CLI_OPT("--nd-from", "SRC", O_ND_FROM,
            "with --plots and --bcrit-from: fit L(D) to SRC, kaplan-nd\n"
            "(or power-d when SRC has one N), for data-wall"),
    CLI_END,
};

const cli_command cli_export_cmd = {
    "export",
    "usage: scalelab export DIR [--csv OUTDIR] [--plots FIGDIR [--accounting A]\n"
    "                           [--bcrit-from SRC] [--ns-from SRC] [--nd-from SRC]]\n"
    "\n"
    "Writes OUTDIR/runs.csv (one row per run), OUTDIR/curves.csv (every\n"
    "metric row with its run id) and OUTDIR/sources.csv (each run's held-out\n"
    "loss per source); without --csv or --plots prints runs.csv to\n"
    "stdout. --plots writes FIGDIR/<figure>.svg and .png: learning curves against\n"
    "tokens and compute, the sweep's law with its fit and 95% band (loss against\n"
    "N, D or N at fixed C; loss against the aspect ratio, unfitted, for shape\n"
    "sweeps), and where the store has their data the overfitting collapse (nd),\n"
    "B_crit against loss (runs on 2+ threads) and loss against context position\n"
    "(context.csv), the slices of Kaplan's other figures, the S_stop bound of an nd\n"
    "grid's early-stopped runs and a learning-rate scan of one model. With\n"
    "--bcrit-from an n sweep also gets its compute-efficient frontier on C_min\n"
    "(frontier-cmin, smin-cmin, allocation, with --nd-from data-wall) and\n"
    "FIGDIR/table6.csv and table6.md (Kaplan's Table 6).\n"
    "Schemas: docs/FORMATS.md.\n"
    "\n",
    NULL,
    (const cli_opt *const[]){export_opts, NULL},
    NULL,
};

/* The one DIR of status and export; 1 when the command is to return *status. */
static int one_dir_arg(const cli_command *cmd, const cli_args *args, const char **dir, int *status)
{
    sl_error err;
    *dir = NULL;
    if (args->n_pos > 1)
        sl_fail(&err, SL_EINPUT, "%s: unexpected argument (see scalelab %s --help)", args->pos[1],
                cmd->name);
    else if (args->n_pos == 0)
        sl_fail(&err, SL_EINPUT, "DIR: missing (see scalelab %s --help)", cmd->name);
    else {
        *dir = args->pos[0];
        return 0;
    }
    *status = cli_report(SL_EINPUT, &err);
    return 1;
}

int cmd_status(int argc, char **argv)
{
    cli_args args;
    const char *dir;
    int rc;
    if (cli_parse(&cli_status_cmd, argc, argv, &args, &rc))
        return rc;
    int stop = one_dir_arg(&cli_status_cmd, &args, &dir, &rc);
    cli_args_free(&args);
    if (stop)
        return rc;
    sl_error err = {{0}};
    sl_run *runs;
    int n;
    if ((rc = sl_runs_load(dir, &runs, &n, &err)))
        return cli_report(rc, &err);
    printf("%-28s %-8s %13s %10s %10s %8s %8s %8s %7s %3s  %s\n", "run", "state", "steps", "N", "D",
           "best", "final", "bpb", "epochs", "thr", "reason");
    int counts[6] = {0};
    for (int i = 0; i < n; i++) {
        const sl_run *r = &runs[i];
        sl_counts k = sl_model_counts(&r->spec.train.model);
        char steps[32];
        snprintf(steps, sizeof steps, "%ld/%ld", r->status.step, r->spec.train.steps);
        char d[32] = "all";
        if (r->spec.train.data_limit)
            snprintf(d, sizeof d, "%.3g", (double)r->spec.train.data_limit);
        /* bits per byte of the best row (older stores: from its rows, else nan) */
        double bpb = isfinite(r->status.best_test_bpb) ? r->status.best_test_bpb
                                                       : sl_run_best_bpb(r->rows, r->n_rows);
        printf("%-28s %-8s %13s %10.3g %10s %8.4f %8.4f %8.4f %7.3g %3d  %s\n", r->spec.id,
               r->status.state, steps, k.n_kaplan, d, r->status.best_test_loss,
               r->status.final_test_loss, bpb, r->status.epochs, r->spec.train.threads,
               r->status.reason);
        int s = sl_run_state_parse(r->status.state);
        if (s >= 0)
            counts[s]++;
    }
    /* the final model's held-out loss per source (sources.csv) */
    int head = 0;
    for (int i = 0; i < n; i++) {
        char rd[1200];
        sl_run_path(rd, sizeof rd, dir, runs[i].spec.id);
        sl_source_loss *src;
        int ns;
        if ((rc = sl_sources_read(rd, &src, &ns, &err))) {
            sl_runs_free(runs, n);
            return cli_report(rc, &err);
        }
        if (ns && !head++)
            printf("held-out loss per source at the end (bits per byte; nats per token in brackets):\n");
        if (ns)
            printf("%-28s", runs[i].spec.id);
        for (int k = 0; k < ns; k++)
            printf(" %s %.3f (%.3f)", src[k].name, src[k].test_bpb, src[k].test_loss);
        if (ns)
            printf("\n");
        free(src);
    }
    printf("%d runs: %d done, %d running, %d queued, %d paused, %d stopped, %d failed\n", n,
           counts[SL_RUN_DONE], counts[SL_RUN_RUNNING], counts[SL_RUN_QUEUED], counts[SL_RUN_PAUSED],
           counts[SL_RUN_STOPPED], counts[SL_RUN_FAILED]);
    /* a sweep edited while it trained (the lab's preset editor) says so */
    char *sweep = NULL, change[512];
    if (sl_sweep_read(dir, &sweep, &err) == SL_OK) {
        int rev = sl_sweep_revision(sweep, change, sizeof change);
        if (rev > 1)
            printf("sweep.json revision %d, edited while it trained; last edit: %s\n", rev, change);
        free(sweep);
    }
    sl_runs_free(runs, n);
    return 0;
}

/* The fits export --plots takes from other stores (--bcrit-from, --ns-from,
 * --nd-from), fitted as `scalelab fit` fits them; 0 or exit status 2/1. */
typedef struct {
    sl_figures_options fo;
    sl_fit_result bcrit, ns, nd;
    const char *bcrit_from, *ns_from, *nd_from;
    sl_fit_law bcrit_law;
} export_fits;

static void export_fits_free(export_fits *x)
{
    if (x->fo.bcrit)
        sl_fit_result_free(&x->bcrit);
    if (x->fo.ns)
        sl_fit_result_free(&x->ns);
    if (x->fo.nd)
        sl_fit_result_free(&x->nd);
}

static int export_side_fits(export_fits *x, sl_error *err)
{
    sl_fit_options o;
    int rc = SL_OK;
    if (x->bcrit_from) {
        sl_fit_options_report(x->bcrit_law, &o);
        if ((rc = cli_fit_side("--bcrit-from", x->bcrit_from, x->bcrit_law, &o, &x->bcrit, err)) != SL_OK)
            return rc;
        x->fo.bcrit = &x->bcrit;
        x->fo.bcrit_src = x->bcrit_from;
    }
    if (x->ns_from) {
        sl_fit_options_report(SL_LAW_KAPLAN_NS, &o);
        if (x->fo.bcrit) { /* S_min with the B_crit(L) given, as fit --bcrit-from --ns-from */
            o.bcrit_star = x->bcrit.value[0];
            o.bcrit_alpha = x->bcrit.value[1];
        }
        if ((rc = cli_fit_side("--ns-from", x->ns_from, SL_LAW_KAPLAN_NS, &o, &x->ns, err)) != SL_OK)
            return rc;
        x->fo.ns = &x->ns;
        x->fo.ns_src = x->ns_from;
    }
    if (x->nd_from) {
        /* L(D): kaplan-nd at N -> infinity, or power-d of a store with one N */
        sl_error e1;
        sl_fit_options_report(SL_LAW_KAPLAN_ND, &o);
        rc = cli_fit_side("--nd-from", x->nd_from, SL_LAW_KAPLAN_ND, &o, &x->nd, &e1);
        if (rc != SL_OK) {
            sl_fit_options_report(SL_LAW_POWER_D, &o);
            sl_error e2;
            if ((rc = cli_fit_side("--nd-from", x->nd_from, SL_LAW_POWER_D, &o, &x->nd, &e2)) != SL_OK)
                return sl_fail(err, rc, "%s (and %s)", e1.msg, e2.msg + strlen("--nd-from: "));
        }
        x->fo.nd = &x->nd;
        x->fo.nd_src = x->nd_from;
    }
    return rc;
}

int cmd_export(int argc, char **argv)
{
    cli_args args;
    const char *dir, *out = NULL, *plots = NULL;
    int rc;
    if (cli_parse(&cli_export_cmd, argc, argv, &args, &rc))
        return rc;
    sl_error err = {{0}};
    export_fits x;
    memset(&x, 0, sizeof x);
    x.bcrit_law = SL_LAW_BCRIT_SCAN;
    const char *needs_plots = NULL;
    rc = SL_OK;
    for (int k = 0; k < args.n_items && rc == SL_OK; k++) {
        const cli_item *it = &args.items[k];
        switch (it->id) {
        case O_CSV: out = it->arg; break;
        case O_PLOTS: plots = it->arg; break;
        case O_ACCOUNTING: {
            int a = sl_accounting_from_name(it->arg);
            if (a < 0)
                rc = sl_fail(&err, SL_EINPUT,
                             "--accounting: '%s' is not an accounting (expected kaplan, attn, head or total)",
                             it->arg);
            x.fo.accounting = (sl_accounting)(a < 0 ? 0 : a);
            needs_plots = it->name;
            break;
        }
        case O_BCRIT_LAW: {
            int l = sl_fit_law_from_name(it->arg);
            if (l != SL_LAW_BCRIT && l != SL_LAW_BCRIT_SCAN)
                rc = sl_fail(&err, SL_EINPUT, "--bcrit-law: '%s' (expected bcrit-scan or bcrit)", it->arg);
            else
                x.bcrit_law = (sl_fit_law)l;
            needs_plots = it->name;
            break;
        }
        case O_BCRIT_FROM: x.bcrit_from = it->arg, needs_plots = it->name; break;
        case O_NS_FROM: x.ns_from = it->arg, needs_plots = it->name; break;
        case O_ND_FROM: x.nd_from = it->arg, needs_plots = it->name; break;
        }
    }
    if (rc != SL_OK) {
        cli_args_free(&args);
        return cli_report(rc, &err);
    }
    int stop = one_dir_arg(&cli_export_cmd, &args, &dir, &rc);
    cli_args_free(&args);
    if (stop)
        return rc;
    if (needs_plots && !plots)
        return cli_report(sl_fail(&err, SL_EINPUT, "%s: without --plots (expected --plots FIGDIR: it "
                                                   "changes only the figures)",
                                  needs_plots),
                          &err);
    if (x.nd_from && !x.bcrit_from)
        return cli_report(sl_fail(&err, SL_EINPUT, "--nd-from: without --bcrit-from (expected both: the "
                                                   "data wall is drawn on C_min)"),
                          &err);
    if (plots) {
        int nf = 0;
        if ((rc = export_side_fits(&x, &err)) == SL_OK && (rc = sl_figures_write(dir, plots, &x.fo, &nf, &err)) == SL_OK)
            fprintf(stderr, "scalelab: wrote %d figures (SVG and PNG) to %s\n", nf, plots);
        int t6 = 0;
        if (rc == SL_OK && x.fo.bcrit && (rc = sl_figures_table6(dir, plots, &x.fo, &t6, &err)) == SL_OK && t6)
            fprintf(stderr, "scalelab: wrote %s/table6.csv and %s/table6.md (Kaplan's Table 6)\n", plots, plots);
        export_fits_free(&x);
        if (rc != SL_OK)
            return cli_report(rc, &err);
        if (!out)
            return 0;
    }
    if (out) {
        int n = 0;
        rc = sl_export_store(dir, out, &n, &err);
        if (rc == SL_OK)
            fprintf(stderr, "scalelab: wrote %s/runs.csv (%d runs), %s/curves.csv and %s/sources.csv\n",
                    out, n, out, out);
        return cli_report(rc, &err);
    }
    sl_run *runs;
    int n;
    if ((rc = sl_runs_load(dir, &runs, &n, &err)))
        return cli_report(rc, &err);
    sl_export_runs(stdout, runs, n);
    sl_runs_free(runs, n);
    return 0;
}
