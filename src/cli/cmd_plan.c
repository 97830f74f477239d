/* cmd_plan: `scalelab plan` prints the compute-optimal N, D, B and S for a
 * budget from Kaplan's and Chinchilla's laws, published or fitted to a points
 * table or a run store (read as scalelab fit reads it, fit_points.c). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fit_cli.h"
#include "scalelab/fit.h"
#include "scalelab/store.h"

enum { O_COMPUTE = FIT_OPT_OWN, O_LAW, O_PARAMS, O_POINTS, O_FROM };

static const cli_opt plan_opts[] = {
    CLI_HEADING("options:\n"),
    CLI_OPT("--compute", "FLOPS", O_COMPUTE, "the budget C in FLOP (required; 1 PF-day = 8.64e19)"),
    CLI_OPT("--law", "L", O_LAW, "kaplan, chinchilla or both (default both)"),
    CLI_OPT("--params", "E,A,B,alpha,beta", O_PARAMS, "Chinchilla's parameters"),
    CLI_OPT("--points", "CSV", O_POINTS,
            "fit the laws to this points table first (intervals from\n"
            "the bootstrap), read as scalelab fit reads it (below)"),
    CLI_OPT("--from", "DIR", O_FROM, "a run store: fit the laws to its runs first, as --points"),
    CLI_HEADING("\n"
                "columns of --points and --from (as scalelab fit; by default the column with\n"
                "the field's own name):\n"),
    CLI_END,
};

static const cli_opt plan_solver_heading[] = {
    CLI_HEADING("\nfitting (as scalelab fit):\n"),
    CLI_END,
};

const cli_command cli_plan_cmd = {
    "plan",
    "usage: scalelab plan --compute FLOPS [options]\n"
    "\n"
    "Prints the compute-optimal allocation of a training budget C (FLOP): model\n"
    "size N_opt, tokens D_opt, batch size B (tokens), steps S, and the loss to\n"
    "expect, side by side from Kaplan et al.'s laws and from Chinchilla's\n"
    "L = E + A/N^alpha + B/D^beta (N_opt = G (C/6)^(beta/(alpha+beta)), D = C/(6N)).\n"
    "Chinchilla has no batch law: its B is Kaplan's B_crit(L) = 2e8/L^(1/0.21)\n"
    "tokens at the predicted loss, and S = D/B.\n"
    "\n"
    "columns:\n"
    "  kaplan (published)        section 6: N = 1.3e9 C^0.73, D = 2e10 C^0.27,\n"
    "                            B = 2e6 C^0.24, S_min = 5.4e3 C^0.03, C = C_min in\n"
    "                            PF-days; L(C_min) = (3.1e8/C)^0.050\n"
    "  kaplan (fitted frontier)  with --points holding learning curves: N_opt, D_opt\n"
    "                            from approach1 (on C_min when B_crit is known), the\n"
    "                            loss from cmin, B from bcrit (else the published\n"
    "                            B_crit(L)), S = D/B\n"
    "  chinchilla                from --params, a fit of --points, or Hoffmann et\n"
    "                            al.'s published 1.69,406.4,410.7,0.34,0.28\n"
    "\n",
    NULL,
    (const cli_opt *const[]){plan_opts, cli_fit_column_opts, plan_solver_heading,
                             cli_fit_solver_opts, NULL},
    "\n"
    "With --points or --from, the plan says how far it reaches past the data: the\n"
    "points' largest compute, N and D and their tokens per parameter, the budget\n"
    "as a multiple of that compute, and N_opt, D_opt and D/N of each fitted\n"
    "column; a budget past the points' compute is also a warning on stderr.\n"
    "\n"
    "Exit status: 0 ok, 1 a fit failed or did not converge, 2 bad input.\n",
};

static int parse_params(const char *s, double *v, sl_error *err)
{
    const char *q = s;
    for (int j = 0; j < 5; j++) {
        char *end = NULL;
        errno = 0;
        v[j] = strtod(q, &end);
        if (end == q || errno || !isfinite(v[j]) || (j < 4 ? *end != ',' : *end != 0))
            return sl_fail(err, SL_EINPUT,
                           "--params: '%s' (expected five numbers E,A,B,alpha,beta)", s);
        q = end + 1;
    }
    return SL_OK;
}

typedef struct {
    char title[48];
    sl_fit_plan plan;
} plan_column;

static void plan_row(const char *name, const plan_column *col, int n_col, int which)
{
    printf("%-10s", name);
    for (int k = 0; k < n_col; k++) {
        const sl_fit_plan *p = &col[k].plan;
        const double *v = which == 0   ? p->n_opt
                          : which == 1 ? p->d_opt
                          : which == 2 ? p->b
                          : which == 3 ? p->s
                                       : p->loss;
        char cell[80];
        if (isnan(v[0]))
            snprintf(cell, sizeof cell, "-");
        else if (isnan(v[1]))
            snprintf(cell, sizeof cell, "%.4g", v[0]);
        else
            snprintf(cell, sizeof cell, "%.4g [%.4g, %.4g]", v[0], v[1], v[2]);
        printf(k + 1 < n_col ? " %-32s" : " %s", cell);
    }
    printf("\n");
}

/* The largest compute, model and data of the points the plan's laws were
 * fitted to, and their tokens per parameter: how far a plan extrapolates. */
typedef struct {
    double c, n, d, dn_lo, dn_hi;
} data_reach;

static void reach_add(data_reach *x, const sl_fit_point *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sl_fit_point q = p[i];
        sl_fit_point_complete(&q);
        if (q.c > x->c)
            x->c = q.c;
        if (q.n > x->n)
            x->n = q.n;
        if (q.d > x->d)
            x->d = q.d;
        if (q.n > 0 && q.d > 0) {
            double dn = q.d / q.n;
            if (!(x->dn_lo > 0) || dn < x->dn_lo)
                x->dn_lo = dn;
            if (dn > x->dn_hi)
                x->dn_hi = dn;
        }
    }
}

/* Fits law to the --points table for the plan; 1 if it converged, 0 if the table
 * cannot serve it (and optional), or a negative code after reporting in err.
 * The points it used widen *reach. */
static int plan_fit(const points_spec *ps, sl_fit_law law, const sl_fit_options *o,
                    sl_fit_result *r, int optional, data_reach *reach, sl_error *err)
{
    sl_fit_point *p;
    size_t n;
    sl_fit_options lo;
    int rc = cli_fit_law_on(ps, law, o, &lo, &p, &n, r, err);
    if (rc != SL_OK)
        return optional && rc == SL_EINPUT ? 0 : rc;
    reach_add(reach, p, n);
    free(p);
    if (!r->converged) {
        rc = sl_fail(err, SL_ERUNTIME, "%s: %s did not converge: %s (no plan)", ps->path,
                     sl_fit_law_name(law), r->reason);
        sl_fit_result_free(r);
        return optional ? 0 : rc;
    }
    return 1;
}

/* How far the fitted columns extrapolate: the budget against the largest
 * compute of the points, N_opt against their largest N, and the plan's tokens
 * per parameter against theirs; past the data, a warning on stderr as well. */
static void print_reach(const data_reach *x, double compute, const char *path,
                        const plan_column *col, const int *fitted, int n_col)
{
    printf("data      the points reach C %.4g FLOP, N %.4g, D %.4g; D/N %.3g..%.3g tokens per "
           "parameter\n",
           x->c, x->n, x->d, x->dn_lo, x->dn_hi);
    double over = compute / x->c;
    if (over <= 1) {
        printf("reach     C is within the points' compute (%.3gx their largest)\n", over);
        return;
    }
    printf("reach     C is %.3gx the points' largest compute: %.2f decades of extrapolation\n",
           over, log10(over));
    for (int k = 0; k < n_col; k++) {
        const sl_fit_plan *p = &col[k].plan;
        if (!fitted[k] || !(p->n_opt[0] > 0) || !(p->d_opt[0] > 0))
            continue;
        printf("          %s: N_opt %.3gx their largest N, D_opt %.3gx their largest D, "
               "D/N %.3g\n",
               col[k].title, p->n_opt[0] / x->n, p->d_opt[0] / x->d, p->d_opt[0] / p->n_opt[0]);
    }
    fprintf(stderr,
            "scalelab: %s: --compute %.4g is %.3gx the largest compute of the points (%.4g FLOP): "
            "the plan extrapolates %.2f decades past the data\n",
            path, compute, over, x->c, log10(over));
}

int cmd_plan(int argc, char **argv)
{
    sl_error err = {{0}};
    points_spec ps;
    sl_fit_options o;
    double compute = NAN, params[5];
    for (int j = 0; j < 5; j++) /* Hoffmann et al.'s, from the law table */
        params[j] = sl_fit_law_published(SL_LAW_CHINCHILLA, j);
    const char *law = "both", *params_src = "Hoffmann et al. published";
    int rc = SL_OK, params_given = 0;
    cli_args args;
    if (cli_fit_parse(&cli_plan_cmd, argc, argv, &args, &ps, &o, &rc))
        return rc;
    rc = SL_OK;
    for (int k = 0; k < args.n_items && rc == SL_OK; k++) {
        const cli_item *it = &args.items[k];
        const char *v = it->arg;
        switch (it->id) {
        case O_COMPUTE:
            if ((rc = cli_parse_double("--compute", v, &compute, &err)) == SL_OK && !(compute > 0))
                rc = sl_fail(&err, SL_EINPUT, "--compute: %s (expected a positive number of FLOP)", v);
            break;
        case O_LAW:
            if (strcmp(v, "kaplan") && strcmp(v, "chinchilla") && strcmp(v, "both"))
                rc = sl_fail(&err, SL_EINPUT, "--law: '%s' (expected kaplan, chinchilla or both)", v);
            law = v;
            break;
        case O_PARAMS:
            rc = parse_params(v, params, &err);
            params_src = "--params";
            params_given = 1;
            break;
        case O_POINTS: ps.path = v; break;
        case O_FROM:
            if (!sl_store_is_sweep(v))
                rc = sl_fail(&err, SL_EINPUT,
                             "--from: %s is not a run store (expected a directory with sweep.json)", v);
            ps.path = v; /* a store reads as a points table (scalelab fit DIR) */
            break;
        }
    }
    if (rc == SL_OK && args.n_pos > 0)
        rc = sl_fail(&err, SL_EINPUT,
                     "%s: unexpected argument (see scalelab plan --help)",
                     args.pos[0]);
    cli_args_free(&args);
    if (rc != SL_OK)
        return cli_report(rc, &err);
    if (isnan(compute))
        return cli_report(sl_fail(&err, SL_EINPUT, "--compute: missing (expected a budget in FLOP)"),
                          &err);
    int want_k = strcmp(law, "chinchilla") != 0, want_c = strcmp(law, "kaplan") != 0;
    plan_column col[3];
    int n_col = 0;
    if (want_k) {
        snprintf(col[n_col].title, sizeof col[n_col].title, "kaplan (published)");
        sl_fit_plan_kaplan(compute, &col[n_col++].plan);
    }
    /* From a points table: Kaplan's frontier laws where the table serves them
     * (approach1 needs learning curves), and Chinchilla's approach 3. */
    sl_fit_result fr[4];
    int have[4] = {0}, fitted_col[3] = {0};
    data_reach reach = {0};
    char skipped[4][sizeof err.msg];
    const sl_fit_law fit_laws[4] = {SL_LAW_APPROACH1, SL_LAW_CMIN, SL_LAW_BCRIT,
                                    SL_LAW_CHINCHILLA};
    if (ps.path) {
        for (int k = 0; k < 4; k++) {
            if ((k < 3 && !want_k) || (k == 3 && !want_c))
                continue;
            skipped[k][0] = 0;
            int got = plan_fit(&ps, fit_laws[k], &o, &fr[k], k < 3, &reach, &err);
            if (got == 0)
                snprintf(skipped[k], sizeof skipped[k], "%s", err.msg);
            if (got < 0) {
                for (int j = 0; j < k; j++)
                    if (have[j])
                        sl_fit_result_free(&fr[j]);
                return cli_report(got, &err);
            }
            have[k] = got;
        }
        if (have[0]) {
            fitted_col[n_col] = 1;
            snprintf(col[n_col].title, sizeof col[n_col].title, "kaplan (fitted frontier)");
            rc = sl_fit_plan_fitted(compute, &fr[0], have[1] ? &fr[1] : NULL,
                                    have[2] ? &fr[2] : NULL, &col[n_col++].plan, &err);
        }
    }
    if (rc == SL_OK && want_c) {
        fitted_col[n_col] = have[3];
        snprintf(col[n_col].title, sizeof col[n_col].title, "chinchilla (%s)",
                 have[3] ? "fitted" : params_given ? "--params" : "published");
        rc = sl_fit_plan_chinchilla(compute, have[3] ? &fr[3] : NULL, params,
                                    &col[n_col++].plan, &err);
    }
    if (rc == SL_OK) {
        printf("compute   %.4g FLOP (%.4g PF-days)\n", compute, compute / SL_PF_DAY);
        if (want_k)
            printf("kaplan    published: section 6 fits, C taken as C_min, no intervals\n");
        for (int k = 0; k < 3 && ps.path && want_k; k++)
            if (!have[k])
                printf("kaplan    no %s fit: %s\n", sl_fit_law_name(fit_laws[k]), skipped[k]);
        if (have[0])
            printf("kaplan    fitted: %s on %s%s%s\n", sl_fit_law_name(fit_laws[0]), ps.path,
                   have[1] ? ", loss from cmin" : ", no cmin fit (no loss, B, S)",
                   have[1] ? (have[2] ? ", B from bcrit" : ", B from published B_crit(L)") : "");
        if (want_c) {
            const double *v = have[3] ? fr[3].value : params;
            printf("chinchilla E=%.4g A=%.4g B=%.4g alpha=%.4g beta=%.4g (%s)\n", v[0], v[1],
                   v[2], v[3], v[4], have[3] ? ps.path : params_src);
            printf("          B is Kaplan's B_crit(L) at the predicted loss, S = D/B\n");
        }
        sl_fit_options lo = cli_fit_law_options(&o, SL_LAW_CHINCHILLA);
        if (ps.path && lo.bootstrap > 0)
            printf("intervals %.0f%% bootstrap percentile over %d resamples (seed %llu)\n",
                   100 * lo.level, lo.bootstrap, (unsigned long long)lo.seed);
        printf("%-10s", "");
        for (int k = 0; k < n_col; k++)
            printf(k + 1 < n_col ? " %-32s" : " %s", col[k].title);
        printf("\n");
        const char *rows[5] = {"N_opt", "D_opt", "B tokens", "S steps", "loss"};
        for (int j = 0; j < 5; j++)
            plan_row(rows[j], col, n_col, j);
        if (reach.c > 0)
            print_reach(&reach, compute, ps.path, col, fitted_col, n_col);
    }
    for (int k = 0; k < 4; k++)
        if (have[k])
            sl_fit_result_free(&fr[k]);
    return cli_report(rc, &err);
}
