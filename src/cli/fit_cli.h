/* fit_cli: what `scalelab fit` and `scalelab plan` share: how a points table
 * or a run store is read (points_spec, the column and solver options of both
 * commands' tables, parsed by cli_fit_parse), a law fitted to it
 * (cli_fit_law_on, with its progress line), and fit's side analyses
 * (the B_crit scan, fixed-batch fits, Kaplan's consistency checks). */
#ifndef SCALELAB_CLI_FIT_H
#define SCALELAB_CLI_FIT_H

#include <stdint.h>

#include "opt.h"
#include "scalelab/csv.h"
#include "scalelab/export.h"
#include "scalelab/fit.h"

/* Everything that says how to read a points table. */
typedef struct {
    const char *path;
    const char *col[8]; /* n, d, c, s, b, bcrit, loss, run: NULL = default name */
    long drop_highest;
    int accounting;   /* --accounting: which C column of a store (-1: not given) */
    int with_warmup;  /* --with-warmup: kaplan-ns keeps the rows of the warmup */
} points_spec;

enum { COL_N, COL_D, COL_C, COL_S, COL_B, COL_BCRIT, COL_LOSS, COL_RUN };

/* The option ids of the shared tables; the commands' own start at FIT_OPT_OWN. */
enum {
    FIT_OPT_COL = 1, /* FIT_OPT_COL + COL_N .. COL_RUN: the column options */
    FIT_OPT_DROP_HIGHEST = FIT_OPT_COL + 8,
    FIT_OPT_BOOTSTRAP,
    FIT_OPT_SEED,
    FIT_OPT_LEVEL,
    FIT_OPT_DELTA,
    FIT_OPT_STARTS,
    FIT_OPT_MAX_ITER,
    FIT_OPT_BCRIT_CONST,
    FIT_OPT_BCRIT_STAR,
    FIT_OPT_BCRIT_ALPHA,
    FIT_OPT_TARGETS,
    FIT_OPT_ACCOUNTING,
    FIT_OPT_WITH_WARMUP,
    FIT_OPT_BINS_PER_DECADE,
    FIT_OPT_TRIM_ENVELOPE,
    FIT_OPT_ISO_TOLERANCE,
    FIT_OPT_OWN = 100
};

/* The column options (--n ... --run) and the solver options both commands take. */
extern const cli_opt cli_fit_column_opts[], cli_fit_solver_opts[];

/* --bootstrap and --seed not given: the law's report settings (law_options). */
#define UNSET_BOOT (-1)
#define UNSET_SEED UINT64_MAX

/* cli_parse for fit and plan with the options both take applied: *ps and *o
 * start from their defaults (no column named, no --accounting, --bootstrap
 * and --seed not given) and take the column and solver options. Returns 1
 * when the command is to return *status at once (cli_parse's help or error
 * line, or a shared option's error, reported); else 0 with *a filled, whose
 * items with ids from FIT_OPT_OWN on are the command's own to apply. */
int cli_fit_parse(const cli_command *c, int argc, char **argv, cli_args *a, points_spec *ps,
                  sl_fit_options *o, int *status);

/* The options a law is fitted with: the user's, with the law's report
 * bootstrap and seed (the law table's, as the figures and the lab use) where
 * --bootstrap and --seed were not given. */
sl_fit_options cli_fit_law_options(const sl_fit_options *o, sl_fit_law law);

int cli_fit_is_dir(const char *path);

/* The points law takes from the table or store ps names (sorted, trimmed,
 * with D and C derived); *out is the caller's to free. */
int cli_fit_load_points(const points_spec *ps, sl_fit_law law, const sl_fit_options *o,
                        sl_fit_point **out, size_t *n_out, sl_error *err);

/* A law fitted to the table or store ps names, as fit and plan (and fit's
 * side fits) fit one: with the law's options (cli_fit_law_options of o, left
 * in *lo), on the points cli_fit_load_points takes, with a progress line on
 * stderr when it is a terminal; a solver's error names ps->path. On SL_OK
 * the points (*p, *n) and *r are the caller's to free (r may not have
 * converged); otherwise there is nothing to free. */
int cli_fit_law_on(const points_spec *ps, sl_fit_law law, const sl_fit_options *o,
                   sl_fit_options *lo, sl_fit_point **p, size_t *n, sl_fit_result *r,
                   sl_error *err);

/* ---- fit's side analyses (fit_side.c) ---- */

void cli_fit_print_value(double v, double lo, double hi);

typedef struct {
    sl_fit_result bcrit, ns;
    int have_bcrit, have_ns;
} side_fits;

/* The scan behind a bcrit-scan fit (r NULL when it did not converge). */
void cli_fit_print_bcrit_scan(const points_spec *ps, const sl_fit_point *p, size_t n,
                              const sl_fit_options *o, const sl_fit_result *r);
/* The compute accounting of a law's C, for laws that read C. */
void cli_fit_print_accounting(const points_spec *ps, sl_fit_law law);
/* What the points ps names count (C's accounting, which N, the loss's unit),
 * for fits.csv's labelling columns; the strings live in b. */
typedef struct {
    char c[96], n[96], loss[96];
    sl_fit_counts k;
} fit_counts;
void cli_fit_counts(const points_spec *ps, fit_counts *b);
/* Fits law to the table or store at path (the default columns); a fit that
 * does not converge is a runtime failure; errors are prefixed with flag. */
int cli_fit_side(const char *flag, const char *path, sl_fit_law law, const sl_fit_options *o,
                 sl_fit_result *r, sl_error *err);
void cli_fit_print_side(const char *what, const char *path, const sl_fit_result *r,
                        const char *use);
/* Beside L(C_min) or N_opt(C_min): the fit on the compute spent at the batch
 * trained. */
void cli_fit_print_fixed_batch(const points_spec *ps, sl_fit_law law, const sl_fit_options *o);
/* Kaplan's consistency check (eq 1.8) and the early-stopping bound (eq 5.7). */
void cli_fit_print_checks(const points_spec *ps, const side_fits *side, const sl_fit_result *kept,
                          const int *have, sl_csv_writer *fits);

#endif
