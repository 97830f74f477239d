/* cmd_fit: `scalelab fit` fits one scaling law to a table of points and prints
 * its parameters with bootstrap intervals; `scalelab plan` prints the compute-
 * optimal N, D, B and S for a budget from Kaplan's and Chinchilla's laws. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "scalelab/csv.h"
#include "scalelab/export.h"
#include "scalelab/fit.h"
#include "scalelab/run.h"
#include "scalelab/store.h"

static const char *fit_help_head =
    "usage: scalelab fit POINTS.csv --law NAME [options]\n"
    "\n"
    "Fits a scaling law to a table of points (one row per run or per evaluation)\n"
    "and prints each parameter with its bootstrap percentile interval, R^2 and the\n"
    "RMS of the log residuals, and why the solver stopped. A fit that does not\n"
    "converge prints no parameters and exits 1.\n"
    "\n"
    "laws (--law):\n";

static const char *fit_help_tail =
    "\n"
    "columns (each flag names the CSV column holding that field; by default the\n"
    "column with the field's own name is used when the table has one):\n"
    "  --n COL           parameters N (default column n)\n"
    "  --d COL           training tokens D (d); derived as S*B, else C/(6N), when absent\n"
    "  --c COL           training compute C in FLOP (c); derived as 6ND when absent\n"
    "  --s COL           optimizer steps S (s)\n"
    "  --b COL           batch size B in tokens (b)\n"
    "  --bcrit COL       critical batch size B_crit in tokens (bcrit)\n"
    "  --loss COL        test loss L in nats per token (loss)\n"
    "  --run COL         run id (run): the bootstrap resamples whole runs, so the\n"
    "                    points of one learning curve stay together\n"
    "\n"
    "A run store DIR is read as a table with the columns n, d, c, s, b, loss, run,\n"
    "n_total (every parameter), data_limit, c_total, noise_scale, c_attn, c_head\n"
    "and warmup. c is Kaplan's C, 6N per token (C = 6NBS); c_attn adds attention's\n"
    "6 n_layer n_ctx d_model, c_head the output head's 6 d_model vocab, c_total\n"
    "both (--accounting, below). --n n_total counts every parameter in N. bcrit is\n"
    "fitted to the noise scale of every evaluation that measured one.\n"
    "\n"
    "options:\n";

static const char *fit_help_options =
    "  --law NAME        the law to fit (required; see above), several separated by\n"
    "                    commas, or all: every law the table's columns allow (laws\n"
    "                    these points cannot serve are listed as skipped)\n"
    "  --drop-highest K  drop the K points of highest loss before fitting (Epoch\n"
    "                    dropped 5 of the 245 Chinchilla points); default 0\n"
    "  --bootstrap K     resamples for the intervals, 0..100000 (default 200; 0: none)\n"
    "  --seed S          seeds the resampling (default 1)\n"
    "  --level P         interval level, 0 < P < 1 (default 0.95)\n"
    "  --delta X         Huber delta of chinchilla (default 1e-3)\n"
    "  --starts K        cold starts of the multi-start solvers, 1..4500, taken at\n"
    "                    even strides through chinchilla's 4500-point grid (and at\n"
    "                    most K of the least-squares laws' 4 or 9); default all\n"
    "  --max-iter K      iteration limit of the solvers (default 500 for least\n"
    "                    squares; 400 per start and 5000 to polish for chinchilla)\n"
    "  --bcrit-const T   B_crit in tokens for every point without one (kaplan-ns,\n"
    "                    cmin and approach1 then use S_min and C_min)\n"
    "  --bcrit-star T    B_crit = T / L^(1/alpha_B) for points without one\n"
    "  --bcrit-alpha A   alpha_B of that law (default 0.21)\n"
    "  --targets K       bcrit-scan: target losses, 1..1000 (default 8)\n"
    "  --accounting A    the compute C of a run store: kaplan (6N per token, the\n"
    "                    default), attn, head or total; on a CSV, the column c_A\n"
    "  --with-warmup     kaplan-ns on a run store: keep the rows of the warmup\n"
    "                    (left out by default, as Kaplan et al. fit L(N, S))\n"
    "  --bcrit-from SRC  fit B_crit(L) to SRC (a batch scan's store or points) with\n"
    "                    --bcrit-law and use it for S_min and C_min (kaplan-ns,\n"
    "                    cmin, approach1); cmin and approach1 then also print the\n"
    "                    fixed-batch fit beside\n"
    "  --bcrit-law L     bcrit-scan (default: the hyperbola of each target loss)\n"
    "                    or bcrit (the gradient noise scale)\n"
    "  --ns-from SRC     fit kaplan-ns to SRC (an N sweep's learning curves): with\n"
    "                    cmin and a B_crit(L), print alpha_C^min predicted by\n"
    "                    1/(1/alpha_S + 1/alpha_B + 1/alpha_N) beside the measured;\n"
    "                    with kaplan-nd on a store, the early-stopping bound S_stop\n"
    "                    against each early-stopped run's best step\n"
    "  --bins-per-decade X  envelope bins for approach1 and cmin (default 8)\n"
    "  --trim-envelope   approach1 and cmin: only the compute that two or more model\n"
    "                    sizes reached (the smallest alone before the others start\n"
    "                    and the largest alone after they end are left out)\n"
    "  --iso-tolerance X    approach2 groups budgets within this factor (default 1.25)\n"
    "  --csv OUT         write the fits CSV (docs/FORMATS.md), atomically\n"
    "  --predictions OUT write the predictions CSV, one row per point, atomically\n"
    "  --at POINT        also predict at POINT, e.g. n=7e10,d=1.4e12 (fields n, d,\n"
    "                    c, s, b, loss as in the columns; D and C derived as for\n"
    "                    the table); repeatable, up to 16; rows with point 0 in\n"
    "                    the predictions CSV\n"
    "  --time            print the wall time of the fit\n"
    "  -h, --help        this help\n"
    "\n"
    "DIR, a run store (scalelab run), gives one point per finished run (N, D =\n"
    "the data limit or the tokens seen, C, S, B, its best test loss); approach1,\n"
    "cmin, kaplan-ns, bcrit-scan, power-s and offset-s take every metric row\n"
    "instead, and bcrit every metric row that measured the gradient noise scale.\n"
    "bcrit-scan prints, for each target loss, the steps S_min, examples E_min (in\n"
    "tokens) and B_crit = E_min/S_min of its hyperbola; on a run store it also\n"
    "prints the noise-scale estimate of B_crit(L) (law bcrit) beside it.\n"
    "Exit status: 0 ok, 1 the fit failed or did not converge, 2 bad input.\n";

static const char *plan_help =
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
    "\n"
    "options:\n"
    "  --compute FLOPS   the budget C in FLOP (required; 1 PF-day = 8.64e19)\n"
    "  --law L           kaplan, chinchilla or both (default both)\n"
    "  --params E,A,B,alpha,beta   Chinchilla's parameters\n"
    "  --points CSV      fit the laws to this points table first (intervals from\n"
    "                    the bootstrap); takes the column flags (--n, --d, --c, --s,\n"
    "                    --b, --bcrit, --loss, --run) and --drop-highest,\n"
    "                    --bootstrap (default 200), --seed, --level, --delta,\n"
    "                    --bcrit-const, --bcrit-star, --bcrit-alpha,\n"
    "                    --bins-per-decade, --trim-envelope, --starts, --max-iter of\n"
    "                    scalelab fit\n"
    "  --from DIR        a run store: fit the laws to its runs first, as --points\n"
    "  -h, --help        this help\n"
    "\n"
    "With --points or --from, the plan says how far it reaches past the data: the\n"
    "points' largest compute, N and D and their tokens per parameter, the budget\n"
    "as a multiple of that compute, and N_opt, D_opt and D/N of each fitted\n"
    "column; a budget past the points' compute is also a warning on stderr.\n"
    "\n"
    "Exit status: 0 ok, 1 a fit failed or did not converge, 2 bad input.\n";

/* Everything that says how to read a points table. */
typedef struct {
    const char *path;
    const char *col[8]; /* n, d, c, s, b, bcrit, loss, run: NULL = default name */
    long drop_highest;
    int accounting;   /* --accounting: which C column of a store (-1: not given) */
    int with_warmup;  /* --with-warmup: kaplan-ns keeps the rows of the warmup */
} points_spec;

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static const char *const field_flag[8] = {"--n",  "--d",     "--c",    "--s",
                                          "--b",  "--bcrit", "--loss", "--run"};
static const char *const field_default[8] = {"n", "d", "c", "s", "b", "bcrit", "loss", "run"};
enum { COL_N, COL_D, COL_C, COL_S, COL_B, COL_BCRIT, COL_LOSS, COL_RUN };

/* Tries the column flags at argv[*i]; 1 if one matched, -1 on a missing value. */
static int parse_column_flag(int argc, char **argv, int *i, points_spec *ps, sl_error *err)
{
    for (int f = 0; f < 8; f++) {
        int missing = 0;
        const char *v = cli_flag_value(argc, argv, i, field_flag[f], &missing);
        if (missing) {
            sl_fail(err, SL_EINPUT, "%s: missing value (expected a column name)", field_flag[f]);
            return -1;
        }
        if (v) {
            ps->col[f] = v;
            return 1;
        }
    }
    return 0;
}

static int cmp_loss_desc(const void *a, const void *b)
{
    const sl_fit_point *x = a, *y = b;
    return (x->loss < y->loss) - (x->loss > y->loss);
}

/* One cell as a positive finite number. */
static int parse_cell(const sl_csv *t, size_t row, int col, const char *path, double *out,
                      sl_error *err)
{
    const char *s = sl_csv_cell(t, row, (size_t)col);
    const char *name = t->header[col];
    size_t line = t->line[row];
    if (*s == 0)
        return sl_fail(err, SL_EINPUT, "%s:line %zu: %s: empty (expected a positive number)",
                       path, line, name);
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    while (*end == ' ')
        end++;
    if (end == s || *end != 0)
        return sl_fail(err, SL_EINPUT, "%s:line %zu: %s: '%s' is not a number (expected a "
                                       "positive number)",
                       path, line, name, s);
    if (!isfinite(v))
        return sl_fail(err, SL_EINPUT,
                       "%s:line %zu: %s: %s is not finite (expected a positive finite number)",
                       path, line, name, s);
    if (!(v > 0))
        return sl_fail(err, SL_EINPUT,
                       "%s:line %zu: %s: %s is not positive (expected a positive finite number)",
                       path, line, name, s);
    *out = v;
    return SL_OK;
}

/* Reads the points a law needs from a CSV, checking every cell it uses. */
static int load_points(const points_spec *ps, sl_fit_law law, const sl_fit_options *o,
                       sl_fit_point **out, size_t *n_out, sl_error *err)
{
    struct stat st;
    sl_csv t;
    int rc;
    const char *bcrit_name = field_default[COL_BCRIT];
    if (stat(ps->path, &st) == 0 && S_ISDIR(st.st_mode)) {
        if (!sl_store_is_sweep(ps->path))
            return sl_fail(err, SL_EINPUT,
                           "%s: is a directory without sweep.json (expected a run store or a "
                           "points CSV)",
                           ps->path);
        /* A run store gives one point per finished run, or every metric row
         * for the laws read off learning curves, or for bcrit every row that
         * measured the gradient noise scale B_simple, McCandlish et al.'s
         * estimate of B_crit (docs/FORMATS.md). */
        sl_fit_point_rule which = sl_fit_law_points(law);
        if (law == SL_LAW_BCRIT)
            bcrit_name = "noise_scale";
        char *text;
        if ((rc = sl_export_points_csv(ps->path, which, &text, err)) != SL_OK)
            return rc;
        rc = sl_csv_parse(text, strlen(text), ps->path, &t, err);
        free(text);
        if (rc == SL_OK && which == SL_POINTS_NOISE && t.n_rows == 0) {
            sl_csv_free(&t);
            return sl_fail(err, SL_EINPUT,
                           "%s: noise_scale: no metric row measured the gradient noise scale "
                           "(expected runs trained with train.threads >= 2)",
                           ps->path);
        }
    } else
        rc = sl_csv_read(ps->path, &t, err);
    if (rc != SL_OK)
        return rc;
    /* --accounting picks the compute column: c is Kaplan's 6N per token, c_attn,
     * c_head and c_total the alternatives (docs/FORMATS.md) */
    char acct_col[16];
    const char *c_name = ps->col[COL_C];
    if (!c_name && ps->accounting > 0) {
        snprintf(acct_col, sizeof acct_col, "c_%s", sl_accounting_name((sl_accounting)ps->accounting));
        c_name = acct_col;
    }
    int col[8];
    for (int f = 0; f < 8; f++) {
        if (f == COL_C && c_name) {
            if ((col[f] = sl_csv_column(&t, c_name)) < 0) {
                rc = sl_fail(err, SL_EINPUT,
                             "%s: %s: no column named '%s' (expected one of the header's %zu "
                             "columns)",
                             ps->path, ps->col[COL_C] ? "--c" : "--accounting", c_name, t.n_cols);
                goto done;
            }
            continue;
        }
        col[f] = sl_csv_column(&t, ps->col[f]         ? ps->col[f]
                                   : f == COL_BCRIT ? bcrit_name
                                                    : field_default[f]);
        if (ps->col[f] && col[f] < 0) {
            rc = sl_fail(err, SL_EINPUT, "%s: %s: no column named '%s' (expected one of the header's %zu columns)",
                         ps->path, field_flag[f], ps->col[f], t.n_cols);
            goto done;
        }
    }
    unsigned need = sl_fit_law_needs(law);
    static const unsigned bit[7] = {SL_FIT_F_N, SL_FIT_F_D,     SL_FIT_F_C,   SL_FIT_F_S,
                                    SL_FIT_F_B, SL_FIT_F_BCRIT, SL_FIT_F_LOSS};
    int use[8] = {0};
    for (int f = 0; f < 7; f++)
        use[f] = (need & bit[f]) != 0;
    /* D and C come from the other two of N, D, C when their column is absent,
     * and D = S*B from steps and batch size before that. */
    int d_from_sb = col[COL_D] < 0 && col[COL_S] >= 0 && col[COL_B] >= 0;
    if ((use[COL_D] || use[COL_C]) && d_from_sb)
        use[COL_S] = use[COL_B] = 1;
    if (use[COL_D] && col[COL_D] < 0 && d_from_sb)
        use[COL_D] = 0;
    if (use[COL_D] && col[COL_D] < 0 && col[COL_N] >= 0 && col[COL_C] >= 0)
        use[COL_D] = 0, use[COL_N] = use[COL_C] = 1;
    if (use[COL_C] && col[COL_C] < 0 && col[COL_N] >= 0 && (col[COL_D] >= 0 || d_from_sb))
        use[COL_C] = 0, use[COL_N] = 1, use[COL_D] = col[COL_D] >= 0;
    /* the batch scan reads whole learning curves */
    if (law == SL_LAW_BCRIT_SCAN && col[COL_RUN] < 0) {
        rc = sl_fail(err, SL_EINPUT,
                     "%s: no column for run (law bcrit-scan needs learning curves; name the "
                     "column with --run COL)",
                     ps->path);
        goto done;
    }
    /* the trimmed envelope tells model sizes apart by N */
    if (o->trim_envelope && (law == SL_LAW_CMIN || law == SL_LAW_CFIXED || law == SL_LAW_APPROACH1))
        use[COL_N] = 1;
    /* B is read when a B_crit correction applies. */
    if ((law == SL_LAW_KAPLAN_NS || law == SL_LAW_CMIN || law == SL_LAW_APPROACH1) &&
        (col[COL_BCRIT] >= 0 || o->bcrit_const > 0 || o->bcrit_star > 0))
        use[COL_B] = 1, use[COL_BCRIT] = col[COL_BCRIT] >= 0;
    for (int f = 0; f < 7; f++)
        if (use[f] && col[f] < 0) {
            rc = sl_fail(err, SL_EINPUT,
                         "%s: no column for %s (law %s needs it; name the column with %s COL%s)",
                         ps->path, field_default[f], sl_fit_law_name(law), field_flag[f],
                         f == COL_D   ? ", or give --n and --c, or --s and --b"
                         : f == COL_C ? ", or give --n and --d (or --s and --b)"
                                      : "");
            goto done;
        }
    /* L(N, S) is fitted after the warmup (Kaplan et al. fit their learning
     * curves past it): a store's rows at or before a run's warmup step are
     * left out of kaplan-ns */
    int col_wu = law == SL_LAW_KAPLAN_NS && !ps->with_warmup ? sl_csv_column(&t, "warmup") : -1;
    size_t n_kept = 0;
    sl_fit_point *p = sl_xcalloc(t.n_rows ? t.n_rows : 1, sizeof *p);
    for (size_t row = 0; row < t.n_rows; row++) {
        size_t i = n_kept;
        if (col_wu >= 0 && col[COL_S] >= 0 &&
            strtod(sl_csv_cell(&t, row, (size_t)col[COL_S]), NULL) <=
                strtod(sl_csv_cell(&t, row, (size_t)col_wu), NULL))
            continue;
        n_kept++;
        double *dst[7] = {&p[i].n, &p[i].d, &p[i].c, &p[i].s, &p[i].b, &p[i].bcrit, &p[i].loss};
        for (int f = 0; f < 7; f++)
            if (use[f] && (rc = parse_cell(&t, row, col[f], ps->path, dst[f], err)) != SL_OK) {
                free(p);
                goto done;
            }
        p[i].run = -1;
        if (col[COL_RUN] >= 0) {
            const char *r = sl_csv_cell(&t, row, (size_t)col[COL_RUN]);
            p[i].run = (long)(sl_fnv1a(SL_FNV_INIT, r, strlen(r)) & (uint64_t)LONG_MAX);
        }
    }
    size_t n = n_kept;
    if (ps->drop_highest > 0) {
        if ((size_t)ps->drop_highest >= n) {
            free(p);
            rc = sl_fail(err, SL_EINPUT,
                         "--drop-highest: %ld of %zu points (expected fewer than the points)",
                         ps->drop_highest, n);
            goto done;
        }
        qsort(p, n, sizeof *p, cmp_loss_desc);
        memmove(p, p + ps->drop_highest, (n - (size_t)ps->drop_highest) * sizeof *p);
        n -= (size_t)ps->drop_highest;
    }
    *out = p;
    *n_out = n;
done:
    sl_csv_free(&t);
    return rc;
}

/* Progress of a long fit on stderr when it is a terminal: one line rewritten
 * in place (at most 5 times a second, and at the end of each stage), erased
 * when the fit returns. */
typedef struct {
    const char *what; /* "fit chinchilla" */
    double last;
    int shown;
} fit_progress;

static void show_progress(void *user, const char *stage, size_t done, size_t total)
{
    fit_progress *fp = user;
    double now = sl_now();
    if (done < total && now - fp->last < 0.2)
        return;
    fp->last = now;
    fp->shown = 1;
    fprintf(stderr, "\rscalelab: %s: %s %zu/%zu\033[K", fp->what, stage, done, total);
    fflush(stderr);
}

/* sl_fit with that progress (o is copied). */
static int fit_with_progress(sl_fit_law law, const sl_fit_point *p, size_t n,
                             const sl_fit_options *o, sl_fit_result *r, sl_error *err)
{
    sl_fit_options oo = *o;
    char what[64];
    fit_progress fp = {what, 0, 0};
    snprintf(what, sizeof what, "fit %s", sl_fit_law_name(law));
    if (isatty(STDERR_FILENO)) {
        oo.progress = show_progress;
        oo.progress_user = &fp;
    }
    int rc = sl_fit(law, p, n, &oo, r, err);
    if (fp.shown)
        fputs("\r\033[K", stderr);
    return rc;
}

/* Parses the options shared by fit and plan; 1 if argv[*i] was one of them. */
static int parse_fit_option(int argc, char **argv, int *i, points_spec *ps, sl_fit_options *o,
                            sl_error *err, int *rc)
{
    int missing = 0, m;
    const char *v;
    long l;
    double x;
    if ((m = parse_column_flag(argc, argv, i, ps, err)) != 0) {
        *rc = m < 0 ? SL_EINPUT : SL_OK;
        return 1;
    }
#define FLAG(name) ((v = cli_flag_value(argc, argv, i, name, &missing)) != NULL || missing)
#define NEED_VALUE(name)                                                                        \
    if (missing) {                                                                              \
        *rc = sl_fail(err, SL_EINPUT, "%s: missing value", name);                               \
        return 1;                                                                               \
    }
    if (!strcmp(argv[*i], "--trim-envelope")) {
        o->trim_envelope = 1;
        return 1;
    }
    if (!strcmp(argv[*i], "--with-warmup")) {
        ps->with_warmup = 1;
        return 1;
    }
    if (FLAG("--accounting")) {
        NEED_VALUE("--accounting");
        int a = sl_accounting_from_name(v);
        if (a < 0)
            *rc = sl_fail(err, SL_EINPUT,
                          "--accounting: '%s' is not an accounting (expected kaplan, attn, head or "
                          "total)",
                          v);
        ps->accounting = a;
        return 1;
    }
    if (FLAG("--drop-highest")) {
        NEED_VALUE("--drop-highest");
        *rc = cli_parse_int("--drop-highest", v, 0, 1000000000, &ps->drop_highest, err);
        return 1;
    }
    if (FLAG("--starts")) {
        NEED_VALUE("--starts");
        *rc = cli_parse_int("--starts", v, 1, 4500, &l, err);
        o->starts = (int)l;
        return 1;
    }
    if (FLAG("--bootstrap")) {
        NEED_VALUE("--bootstrap");
        *rc = cli_parse_int("--bootstrap", v, 0, 100000, &l, err);
        o->bootstrap = (int)l;
        return 1;
    }
    if (FLAG("--targets")) {
        NEED_VALUE("--targets");
        *rc = cli_parse_int("--targets", v, 1, 1000, &l, err);
        o->bcrit_targets = (int)l;
        return 1;
    }
    if (FLAG("--max-iter")) {
        NEED_VALUE("--max-iter");
        *rc = cli_parse_int("--max-iter", v, 1, 1000000, &l, err);
        o->max_iter = (int)l;
        return 1;
    }
    if (FLAG("--seed")) {
        NEED_VALUE("--seed");
        *rc = cli_parse_int("--seed", v, 0, LONG_MAX, &l, err);
        o->seed = (uint64_t)l;
        return 1;
    }
    struct {
        const char *name;
        double *dst, lo, hi;
    } dbl[] = {
        {"--level", &o->level, 0, 1},
        {"--delta", &o->huber_delta, 0, INFINITY},
        {"--bcrit-const", &o->bcrit_const, 0, INFINITY},
        {"--bcrit-star", &o->bcrit_star, 0, INFINITY},
        {"--bcrit-alpha", &o->bcrit_alpha, 0, INFINITY},
        {"--bins-per-decade", &o->bins_per_decade, 0, INFINITY},
        {"--iso-tolerance", &o->iso_tolerance, 1, INFINITY},
    };
    for (size_t k = 0; k < sizeof dbl / sizeof dbl[0]; k++) {
        if (FLAG(dbl[k].name)) {
            NEED_VALUE(dbl[k].name);
            *rc = cli_parse_double(dbl[k].name, v, &x, err);
            if (*rc == SL_OK && !(x > dbl[k].lo && x < dbl[k].hi))
                *rc = sl_fail(err, SL_EINPUT, "%s: %s is out of range (expected %g < X%s)",
                              dbl[k].name, v, dbl[k].lo, dbl[k].hi < INFINITY ? " < 1" : "");
            *dbl[k].dst = x;
            return 1;
        }
    }
#undef FLAG
#undef NEED_VALUE
    return 0;
}

/* The options a law is fitted with: the user's, with the law's report
 * bootstrap and seed (the law table's, as the figures and the lab use) where
 * --bootstrap and --seed were not given. */
#define UNSET_BOOT (-1)
#define UNSET_SEED UINT64_MAX
static sl_fit_options law_options(const sl_fit_options *o, sl_fit_law law)
{
    sl_fit_options rep, x = *o;
    sl_fit_options_report(law, &rep);
    if (x.bootstrap == UNSET_BOOT)
        x.bootstrap = rep.bootstrap;
    if (x.seed == UNSET_SEED)
        x.seed = rep.seed;
    return x;
}

static void print_value(double v, double lo, double hi)
{
    if (isnan(lo))
        printf("%-12.6g", v);
    else
        printf("%-12.6g [%.6g, %.6g]", v, lo, hi);
}

static void print_fit(const sl_fit_result *r, size_t n, long dropped, const sl_fit_options *o,
                      int show_time)
{
    sl_fit_law law = r->law;
    printf("law       %s: %s\n", sl_fit_law_name(law), sl_fit_law_help(law));
    printf("points    %zu", n);
    if (dropped > 0)
        printf(" (%ld highest-loss dropped)", dropped);
    printf("\nstatus    converged: %s\n", r->reason);
    if (o->bootstrap > 0)
        printf("intervals %.0f%% bootstrap percentile, %d of %d resamples converged (seed %llu)\n",
               100 * r->level, r->n_boot_ok, r->n_boot, (unsigned long long)o->seed);
    for (int j = 0; j < r->n_params; j++) {
        printf("  %-8s ", r->names[j]);
        print_value(r->value[j], r->ci_low[j], r->ci_high[j]);
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

/* The scan behind a bcrit-scan fit: one hyperbola per target loss, and on a run
 * store the gradient-noise-scale estimate of the same law beside it. */
static int load_points(const points_spec *ps, sl_fit_law law, const sl_fit_options *o,
                       sl_fit_point **out, size_t *n_out, sl_error *err);
static void print_bcrit_scan(const points_spec *ps, const sl_fit_point *p, size_t n,
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
    if (load_points(ps, SL_LAW_BCRIT, &no, &q, &m, &e) != SL_OK) {
        printf("noise     no gradient-noise-scale estimate: %s\n", e.msg);
        return;
    }
    if (sl_fit(SL_LAW_BCRIT, q, m, &no, &nr, &e) == SL_OK && nr.converged) {
        printf("noise     B_crit(L) from the gradient noise scale (law bcrit, %zu rows):\n", m);
        for (int j = 0; j < nr.n_params; j++) {
            printf("  %-8s ", nr.names[j]);
            print_value(nr.value[j], nr.ci_low[j], nr.ci_high[j]);
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
static void print_accounting(const points_spec *ps, sl_fit_law law)
{
    int uses_c = law == SL_LAW_POWER_C || law == SL_LAW_OFFSET_C || law == SL_LAW_APPROACH1 ||
                 law == SL_LAW_APPROACH2 || law == SL_LAW_CMIN || law == SL_LAW_CFIXED;
    if (!uses_c)
        return;
    if (ps->col[COL_C])
        printf("compute   C from column '%s', in the accounting the table holds\n", ps->col[COL_C]);
    else if (is_dir(ps->path) || ps->accounting >= 0) {
        sl_accounting a = ps->accounting >= 0 ? (sl_accounting)ps->accounting : SL_ACCT_KAPLAN;
        printf("compute   C in the %s accounting: %s\n", sl_accounting_name(a),
               sl_accounting_formula(a));
    } else
        printf("compute   C from column 'c', in the accounting the table holds\n");
}

typedef struct {
    sl_fit_result bcrit, ns;
    int have_bcrit, have_ns;
} side_fits;

/* Fits law to the table or store at path with the default columns; a fit that
 * does not converge is a runtime failure. */
static int side_fit_in(const char *path, sl_fit_law law, const sl_fit_options *o,
                       sl_fit_result *r, sl_error *err);
static int side_fit(const char *flag, const char *path, sl_fit_law law, const sl_fit_options *o,
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
    sl_fit_point *p = NULL;
    size_t n = 0;
    int rc = load_points(&sp, law, o, &p, &n, err);
    if (rc != SL_OK)
        return rc;
    sl_error core;
    rc = sl_fit(law, p, n, o, r, &core);
    free(p);
    if (rc != SL_OK)
        return sl_fail(err, rc, "%s: %s", path, core.msg);
    if (!r->converged) {
        rc = sl_fail(err, SL_ERUNTIME, "%s: %s did not converge: %s", path, sl_fit_law_name(law),
                     r->reason);
        sl_fit_result_free(r);
    }
    return rc;
}

static void print_side(const char *what, const char *path, const sl_fit_result *r,
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
static void print_fixed_batch(const points_spec *ps, sl_fit_law law, const sl_fit_options *o)
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
    if (load_points(ps, fl, &f, &p, &n, &e) != SL_OK)
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

static void check_row(sl_csv_writer *w, const char *law, const char *param, double v, double lo,
                      double hi, size_t n)
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
    sl_csv_end_row(w);
}

/* After the laws: Kaplan's consistency check (eq 1.8) when L(N,S), B_crit(L)
 * and L(C_min) are all at hand, and the early-stopping bound (eq 5.7) against
 * the early-stopped runs of a store fitted with kaplan-nd. */
static void print_checks(const points_spec *ps, const side_fits *side, const sl_fit_result *kept,
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
        check_row(fits, "cmin", "alpha_C_predicted", v, lo, hi, cm->n_points);
    }
    if (!have[SL_LAW_KAPLAN_ND] || !is_dir(ps->path))
        return;
    sl_run *runs;
    int n;
    if (sl_runs_load(ps->path, &runs, &n, &e) != SL_OK)
        return;
    int header = 0;
    for (int i = 0; i < n; i++) {
        const sl_run *r = &runs[i];
        long bi = sl_run_best_row(r->rows, r->n_rows);
        if (sl_run_state_of(r) != SL_RUN_DONE || !strstr(r->status.reason, "early") ||
            r->spec.train.data_limit == 0 || bi < 0)
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

static void print_fit_help(void)
{
    fputs(fit_help_head, stdout);
    for (int l = 0; l < SL_LAW_COUNT; l++)
        printf("  %-14s %s\n", sl_fit_law_name((sl_fit_law)l), sl_fit_law_help((sl_fit_law)l));
    fputs(fit_help_tail, stdout);
    fputs(fit_help_options, stdout);
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
    if (cli_wants_help(argc, argv)) {
        print_fit_help();
        return 0;
    }
    points_spec ps = {0};
    ps.accounting = -1;
    sl_fit_options o;
    sl_fit_options_default(&o);
    o.bootstrap = UNSET_BOOT;
    o.seed = UNSET_SEED;
    const char *law_name = NULL, *csv_out = NULL, *pred_out = NULL;
    const char *bcrit_from = NULL, *ns_from = NULL;
    sl_fit_law bcrit_law = SL_LAW_BCRIT_SCAN;
    int show_time = 0, rc = SL_OK, n_at = 0;
    sl_fit_point at[16];
    for (int i = 1; i < argc; i++) {
        int missing = 0;
        const char *v;
        if (parse_fit_option(argc, argv, &i, &ps, &o, &err, &rc)) {
            if (rc != SL_OK)
                return cli_report(rc, &err);
        } else if ((v = cli_flag_value(argc, argv, &i, "--law", &missing)) || missing) {
            if (missing)
                return cli_report(sl_fail(&err, SL_EINPUT, "--law: missing value"), &err);
            law_name = v;
        } else if ((v = cli_flag_value(argc, argv, &i, "--csv", &missing)) || missing) {
            if (missing)
                return cli_report(sl_fail(&err, SL_EINPUT, "--csv: missing value"), &err);
            csv_out = v;
        } else if ((v = cli_flag_value(argc, argv, &i, "--predictions", &missing)) || missing) {
            if (missing)
                return cli_report(sl_fail(&err, SL_EINPUT, "--predictions: missing value"),
                                  &err);
            pred_out = v;
        } else if ((v = cli_flag_value(argc, argv, &i, "--at", &missing)) || missing) {
            if (missing)
                return cli_report(sl_fail(&err, SL_EINPUT, "--at: missing value"), &err);
            if (n_at == 16)
                return cli_report(sl_fail(&err, SL_EINPUT, "--at: more than 16 points"), &err);
            if ((rc = parse_at(v, &at[n_at++], &err)) != SL_OK)
                return cli_report(rc, &err);
        } else if ((v = cli_flag_value(argc, argv, &i, "--bcrit-from", &missing)) || missing) {
            if (missing)
                return cli_report(sl_fail(&err, SL_EINPUT, "--bcrit-from: missing value"), &err);
            bcrit_from = v;
        } else if ((v = cli_flag_value(argc, argv, &i, "--bcrit-law", &missing)) || missing) {
            int l = missing ? -1 : sl_fit_law_from_name(v);
            if (l != SL_LAW_BCRIT && l != SL_LAW_BCRIT_SCAN)
                return cli_report(sl_fail(&err, SL_EINPUT,
                                          "--bcrit-law: '%s' (expected bcrit-scan or bcrit)",
                                          missing ? "" : v),
                                  &err);
            bcrit_law = (sl_fit_law)l;
        } else if ((v = cli_flag_value(argc, argv, &i, "--ns-from", &missing)) || missing) {
            if (missing)
                return cli_report(sl_fail(&err, SL_EINPUT, "--ns-from: missing value"), &err);
            ns_from = v;
        } else if (!strcmp(argv[i], "--time")) {
            show_time = 1;
        } else if (argv[i][0] == '-' && argv[i][1] != 0) {
            return cli_report(sl_fail(&err, SL_EINPUT,
                                      "%s: unknown option (expected one listed by scalelab fit "
                                      "--help)",
                                      argv[i]),
                              &err);
        } else if (!ps.path) {
            ps.path = argv[i];
        } else {
            return cli_report(sl_fail(&err, SL_EINPUT,
                                      "%s: a second points table (expected one)", argv[i]),
                              &err);
        }
    }
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
        sl_fit_options o_bc = law_options(&o, bcrit_law);
        if ((rc = side_fit("--bcrit-from", bcrit_from, bcrit_law, &o_bc, &side.bcrit, &err)) != SL_OK)
            return cli_report(rc, &err);
        side.have_bcrit = 1;
        o.bcrit_star = side.bcrit.value[0];
        o.bcrit_alpha = side.bcrit.value[1];
        o.bcrit_const = 0;
        print_side("bcrit", bcrit_from, &side.bcrit,
                   "S_min = S/(1+B_crit/B) and C_min = C/(1+B/B_crit) use it");
    }
    if (ns_from) {
        sl_fit_options o_ns = law_options(&o, SL_LAW_KAPLAN_NS);
        if ((rc = side_fit("--ns-from", ns_from, SL_LAW_KAPLAN_NS, &o_ns, &side.ns, &err)) != SL_OK) {
            if (side.have_bcrit)
                sl_fit_result_free(&side.bcrit);
            return cli_report(rc, &err);
        }
        side.have_ns = 1;
        print_side("ns", ns_from, &side.ns, "for the alpha_C^min check and S_stop");
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
        sl_fit_options lo = law_options(&o, law);
        rc = load_points(&ps, law, &lo, &p, &n, &err);
        if (rc == SL_OK) {
            sl_error core;
            rc = fit_with_progress(law, p, n, &lo, &r, &core);
            /* Name the file: the core's messages name only the point. */
            if (rc != SL_OK)
                sl_fail(&err, rc, "%s: %s", ps.path, core.msg);
        }
        if (rc != SL_OK) {
            free(p);
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
                print_bcrit_scan(&ps, p, n, &lo, NULL);
            failed = 1;
        } else {
            print_fit(&r, n, ps.drop_highest, &lo, show_time);
            print_accounting(&ps, law);
            if (law == SL_LAW_BCRIT_SCAN)
                print_bcrit_scan(&ps, p, n, &lo, &r);
            if ((law == SL_LAW_CMIN || law == SL_LAW_APPROACH1) &&
                (lo.bcrit_star > 0 || lo.bcrit_const > 0))
                print_fixed_batch(&ps, law, &lo);
            print_at(&r, at, n_at);
            if (n_laws > 1)
                printf("\n");
            sl_export_fits_rows(&fits, &r);
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
        print_checks(&ps, &side, kept, have_kept, &fits);
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
    sl_fit_point *p = NULL;
    size_t n = 0;
    sl_error e;
    sl_fit_options lo = law_options(o, law);
    int rc = load_points(ps, law, &lo, &p, &n, &e);
    if (rc == SL_OK) {
        sl_error core;
        reach_add(reach, p, n);
        rc = fit_with_progress(law, p, n, &lo, r, &core);
        if (rc != SL_OK)
            sl_fail(&e, rc, "%s: %s", ps->path, core.msg);
        free(p);
    }
    if (rc != SL_OK) {
        sl_fail(err, rc, "%s", e.msg);
        return optional && rc == SL_EINPUT ? 0 : rc;
    }
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
    if (cli_wants_help(argc, argv)) {
        fputs(plan_help, stdout);
        return 0;
    }
    points_spec ps = {0};
    ps.accounting = -1;
    sl_fit_options o;
    sl_fit_options_default(&o);
    o.bootstrap = UNSET_BOOT;
    o.seed = UNSET_SEED;
    double compute = NAN, params[5];
    for (int j = 0; j < 5; j++) /* Hoffmann et al.'s, from the law table */
        params[j] = sl_fit_law_published(SL_LAW_CHINCHILLA, j);
    const char *law = "both", *params_src = "Hoffmann et al. published";
    int rc = SL_OK, params_given = 0;
    for (int i = 1; i < argc; i++) {
        int missing = 0;
        const char *v;
        if (parse_fit_option(argc, argv, &i, &ps, &o, &err, &rc)) {
            if (rc != SL_OK)
                return cli_report(rc, &err);
        } else if ((v = cli_flag_value(argc, argv, &i, "--compute", &missing)) || missing) {
            if (missing || (rc = cli_parse_double("--compute", v, &compute, &err)) != SL_OK)
                return cli_report(missing ? sl_fail(&err, SL_EINPUT, "--compute: missing value")
                                          : rc,
                                  &err);
            if (!(compute > 0))
                return cli_report(sl_fail(&err, SL_EINPUT,
                                          "--compute: %s (expected a positive number of FLOP)",
                                          v),
                                  &err);
        } else if ((v = cli_flag_value(argc, argv, &i, "--law", &missing)) || missing) {
            if (missing)
                return cli_report(sl_fail(&err, SL_EINPUT, "--law: missing value"), &err);
            if (strcmp(v, "kaplan") && strcmp(v, "chinchilla") && strcmp(v, "both"))
                return cli_report(sl_fail(&err, SL_EINPUT,
                                          "--law: '%s' (expected kaplan, chinchilla or both)", v),
                                  &err);
            law = v;
        } else if ((v = cli_flag_value(argc, argv, &i, "--params", &missing)) || missing) {
            if (missing || (rc = parse_params(v, params, &err)) != SL_OK)
                return cli_report(missing ? sl_fail(&err, SL_EINPUT, "--params: missing value")
                                          : rc,
                                  &err);
            params_src = "--params";
            params_given = 1;
        } else if ((v = cli_flag_value(argc, argv, &i, "--points", &missing)) || missing) {
            if (missing)
                return cli_report(sl_fail(&err, SL_EINPUT, "--points: missing value"), &err);
            ps.path = v;
        } else if ((v = cli_flag_value(argc, argv, &i, "--from", &missing)) || missing) {
            if (missing)
                return cli_report(sl_fail(&err, SL_EINPUT, "--from: missing value"), &err);
            if (!sl_store_is_sweep(v))
                return cli_report(sl_fail(&err, SL_EINPUT,
                                          "--from: %s is not a run store (expected a directory "
                                          "with sweep.json)",
                                          v),
                                  &err);
            ps.path = v; /* a store reads as a points table (scalelab fit DIR) */
        } else {
            return cli_report(sl_fail(&err, SL_EINPUT,
                                      "%s: unknown argument (expected an option listed by "
                                      "scalelab plan --help)",
                                      argv[i]),
                              &err);
        }
    }
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
        printf("compute   %.4g FLOP (%.4g PF-days)\n", compute, compute / 8.64e19);
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
        sl_fit_options lo = law_options(&o, SL_LAW_CHINCHILLA);
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
