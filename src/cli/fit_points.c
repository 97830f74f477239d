/* fit_points: how `scalelab fit` and `scalelab plan` read a points table or a
 * run store, the options both take for it, and a fit with its progress line
 * (fit_cli.h). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "fit_cli.h"
#include "scalelab/csv.h"
#include "scalelab/export.h"
#include "scalelab/run.h"
#include "scalelab/store.h"


const cli_opt cli_fit_column_opts[] = {
    CLI_OPT("--n", "COL", FIT_OPT_COL + COL_N, "parameters N (default column n)"),
    CLI_OPT("--d", "COL", FIT_OPT_COL + COL_D,
            "training tokens D (d); derived as S*B, else C/(6N), when absent"),
    CLI_OPT("--c", "COL", FIT_OPT_COL + COL_C,
            "training compute C in FLOP (c); derived as 6ND when absent"),
    CLI_OPT("--s", "COL", FIT_OPT_COL + COL_S, "optimizer steps S (s)"),
    CLI_OPT("--b", "COL", FIT_OPT_COL + COL_B, "batch size B in tokens (b)"),
    CLI_OPT("--bcrit", "COL", FIT_OPT_COL + COL_BCRIT, "critical batch size B_crit in tokens (bcrit)"),
    CLI_OPT("--loss", "COL", FIT_OPT_COL + COL_LOSS,
            "test loss L in nats per token (loss); on a run store,\n"
            "bpb fits bits per byte (byte and BPE sweeps compare)"),
    CLI_OPT("--run", "COL", FIT_OPT_COL + COL_RUN,
            "run id (run): the bootstrap resamples whole runs, so the\n"
            "points of one learning curve stay together"),
    CLI_END,
};

const cli_opt cli_fit_solver_opts[] = {
    CLI_OPT("--drop-highest", "K", FIT_OPT_DROP_HIGHEST,
            "drop the K points of highest loss before fitting (Epoch\n"
            "dropped 5 of the 245 Chinchilla points); default 0"),
    CLI_OPT("--bootstrap", "K", FIT_OPT_BOOTSTRAP,
            "resamples for the intervals, 0..100000 (default 200; 0: none)"),
    CLI_OPT("--seed", "S", FIT_OPT_SEED, "seeds the resampling (default 1)"),
    CLI_OPT("--level", "P", FIT_OPT_LEVEL, "interval level, 0 < P < 1 (default 0.95)"),
    CLI_OPT("--delta", "X", FIT_OPT_DELTA, "Huber delta of chinchilla (default 1e-3)"),
    CLI_OPT("--starts", "K", FIT_OPT_STARTS,
            "cold starts of the multi-start solvers, 1..4500, taken at\n"
            "even strides through chinchilla's 4500-point grid (and at\n"
            "most K of the least-squares laws' 4 or 9); default all"),
    CLI_OPT("--max-iter", "K", FIT_OPT_MAX_ITER,
            "iteration limit of the solvers (default 500 for least\n"
            "squares; 400 per start and 5000 to polish for chinchilla)"),
    CLI_OPT("--bcrit-const", "T", FIT_OPT_BCRIT_CONST,
            "B_crit in tokens for every point without one (kaplan-ns,\n"
            "cmin and approach1 then use S_min and C_min)"),
    CLI_OPT("--bcrit-star", "T", FIT_OPT_BCRIT_STAR, "B_crit = T / L^(1/alpha_B) for points without one"),
    CLI_OPT("--bcrit-alpha", "A", FIT_OPT_BCRIT_ALPHA, "alpha_B of that law (default 0.21)"),
    CLI_OPT("--targets", "K", FIT_OPT_TARGETS, "bcrit-scan: target losses, 1..1000 (default 8)"),
    CLI_OPT("--accounting", "A", FIT_OPT_ACCOUNTING,
            "the compute C of a run store: kaplan (6N per token, the\n"
            "default), attn, head or total; on a CSV, the column c_A"),
    CLI_FLAG("--with-warmup", FIT_OPT_WITH_WARMUP,
             "kaplan-ns on a run store: keep the rows of the warmup\n"
             "(left out by default, as Kaplan et al. fit L(N, S))"),
    CLI_OPT("--bins-per-decade", "X", FIT_OPT_BINS_PER_DECADE,
            "envelope bins for approach1 and cmin (default 8)"),
    CLI_FLAG("--trim-envelope", FIT_OPT_TRIM_ENVELOPE,
             "approach1 and cmin: only the compute that two or more model\n"
             "sizes reached (the smallest alone before the others start\n"
             "and the largest alone after they end are left out)"),
    CLI_OPT("--iso-tolerance", "X", FIT_OPT_ISO_TOLERANCE,
            "approach2 groups budgets within this factor (default 1.25)"),
    CLI_END,
};

/* Applies a shared option to ps and o; returns SL_OK (also for an option that
 * is not one of them, with *handled 0) or SL_EINPUT. */
static int fit_option(const cli_item *it, points_spec *ps, sl_fit_options *o, int *handled,
                      sl_error *err)
{
    const char *v = it->arg;
    long l;
    double x;
    int rc = SL_OK;
    *handled = 1;
    if (it->id >= FIT_OPT_COL && it->id < FIT_OPT_COL + 8) {
        ps->col[it->id - FIT_OPT_COL] = v;
        return SL_OK;
    }
    struct {
        int id;
        double *dst, lo, hi;
    } dbl[] = {
        {FIT_OPT_LEVEL, &o->level, 0, 1},
        {FIT_OPT_DELTA, &o->huber_delta, 0, INFINITY},
        {FIT_OPT_BCRIT_CONST, &o->bcrit_const, 0, INFINITY},
        {FIT_OPT_BCRIT_STAR, &o->bcrit_star, 0, INFINITY},
        {FIT_OPT_BCRIT_ALPHA, &o->bcrit_alpha, 0, INFINITY},
        {FIT_OPT_BINS_PER_DECADE, &o->bins_per_decade, 0, INFINITY},
        {FIT_OPT_ISO_TOLERANCE, &o->iso_tolerance, 1, INFINITY},
    };
    for (size_t k = 0; k < sizeof dbl / sizeof dbl[0]; k++) {
        if (dbl[k].id != it->id)
            continue;
        rc = cli_parse_double(it->name, v, &x, err);
        if (rc == SL_OK && !(x > dbl[k].lo && x < dbl[k].hi))
            rc = sl_fail(err, SL_EINPUT, "%s: %s is out of range (expected %g < X%s)", it->name, v,
                         dbl[k].lo, dbl[k].hi < INFINITY ? " < 1" : "");
        *dbl[k].dst = x;
        return rc;
    }
    switch (it->id) {
    case FIT_OPT_TRIM_ENVELOPE: o->trim_envelope = 1; break;
    case FIT_OPT_WITH_WARMUP: ps->with_warmup = 1; break;
    case FIT_OPT_ACCOUNTING:
        ps->accounting = sl_accounting_from_name(v);
        if (ps->accounting < 0)
            rc = sl_fail(err, SL_EINPUT,
                         "--accounting: '%s' is not an accounting (expected kaplan, attn, head or "
                         "total)",
                         v);
        break;
    case FIT_OPT_DROP_HIGHEST:
        rc = cli_parse_int(it->name, v, 0, 1000000000, &ps->drop_highest, err);
        break;
    case FIT_OPT_STARTS:
        if ((rc = cli_parse_int(it->name, v, 1, 4500, &l, err)) == SL_OK)
            o->starts = (int)l;
        break;
    case FIT_OPT_BOOTSTRAP:
        if ((rc = cli_parse_int(it->name, v, 0, 100000, &l, err)) == SL_OK)
            o->bootstrap = (int)l;
        break;
    case FIT_OPT_TARGETS:
        if ((rc = cli_parse_int(it->name, v, 1, 1000, &l, err)) == SL_OK)
            o->bcrit_targets = (int)l;
        break;
    case FIT_OPT_MAX_ITER:
        if ((rc = cli_parse_int(it->name, v, 1, 1000000, &l, err)) == SL_OK)
            o->max_iter = (int)l;
        break;
    case FIT_OPT_SEED:
        if ((rc = cli_parse_int(it->name, v, 0, LONG_MAX, &l, err)) == SL_OK)
            o->seed = (uint64_t)l;
        break;
    default: *handled = 0;
    }
    return rc;
}

int cli_fit_parse(const cli_command *c, int argc, char **argv, cli_args *a, points_spec *ps,
                  sl_fit_options *o, int *status)
{
    memset(ps, 0, sizeof *ps);
    ps->accounting = -1;
    sl_fit_options_default(o);
    o->bootstrap = UNSET_BOOT;
    o->seed = UNSET_SEED;
    if (cli_parse(c, argc, argv, a, status))
        return 1;
    sl_error err = {{0}};
    int rc = SL_OK, handled;
    for (int k = 0; k < a->n_items && rc == SL_OK; k++)
        rc = fit_option(&a->items[k], ps, o, &handled, &err);
    if (rc == SL_OK)
        return 0;
    cli_args_free(a);
    *status = cli_report(rc, &err);
    return 1;
}

int cli_fit_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static const char *const field_flag[8] = {"--n", "--d", "--c", "--s", "--b", "--bcrit", "--loss", "--run"};
static const char *const field_default[8] = {"n", "d", "c", "s", "b", "bcrit", "loss", "run"};

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

static void drop_highest(sl_fit_point *p, size_t *n, long k)
{
    qsort(p, *n, sizeof *p, cmp_loss_desc);
    memmove(p, p + k, (*n - (size_t)k) * sizeof *p);
    *n -= (size_t)k;
}

/* The points of a run store without columns named (but --loss bpb): those
 * the lab fits, from run.h (sl_runs_law_points). */
static int store_points(const points_spec *ps, sl_fit_law law, sl_fit_point **out, size_t *n_out,
                        sl_error *err)
{
    sl_run *runs;
    int n_runs;
    int rc = sl_runs_load(ps->path, &runs, &n_runs, err);
    if (rc != SL_OK)
        return rc;
    sl_fit_point *p;
    size_t n;
    int bpb = ps->col[COL_LOSS] && !strcmp(ps->col[COL_LOSS], "bpb");
    sl_runs_law_points(runs, n_runs, law,
                       (ps->with_warmup ? SL_LAW_POINTS_WITH_WARMUP : 0) | (bpb ? SL_LAW_POINTS_BPB : 0),
                       &p, &n);
    sl_runs_free(runs, n_runs);
    if (bpb && n == 0) {
        free(p);
        return sl_fail(err, SL_EINPUT,
                       "%s: bpb: no run has a test loss in bits per byte (expected runs of a text "
                       "corpus whose metrics.csv has test_bpb; token files and older stores have "
                       "none)",
                       ps->path);
    }
    if (sl_fit_law_points(law) == SL_POINTS_NOISE && n == 0) {
        free(p);
        return sl_fail(err, SL_EINPUT,
                       "%s: noise_scale: no metric row measured the gradient noise scale "
                       "(expected runs trained with train.threads >= 2)",
                       ps->path);
    }
    if (ps->drop_highest > 0 && (size_t)ps->drop_highest >= n) {
        free(p);
        return sl_fail(err, SL_EINPUT,
                       "--drop-highest: %ld of %zu points (expected fewer than the points)",
                       ps->drop_highest, n);
    }
    if (ps->drop_highest > 0)
        drop_highest(p, &n, ps->drop_highest);
    *out = p;
    *n_out = n;
    return SL_OK;
}

/* Reads the points a law needs from a CSV, checking every cell it uses. */
int cli_fit_load_points(const points_spec *ps, sl_fit_law law, const sl_fit_options *o,
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
        int by_name = ps->accounting > 0;
        for (int f = 0; f < 8; f++)
            by_name |= ps->col[f] != NULL && !(f == COL_LOSS && !strcmp(ps->col[f], "bpb"));
        if (!by_name)
            return store_points(ps, law, out, n_out, err);
        if (law == SL_LAW_BCRIT)
            bcrit_name = "noise_scale";
        /* --loss bpb on a store: the points of the rows with bits per byte
         * (run.c's rule), their loss in the column of that name */
        int kind = ps->col[COL_LOSS] && !strcmp(ps->col[COL_LOSS], "bpb") ? SL_LOSS_BPB : SL_LOSS_TEST;
        char *text;
        if ((rc = sl_export_points_csv(ps->path, which, kind, &text, err)) != SL_OK)
            return rc;
        rc = sl_csv_parse(text, strlen(text), ps->path, &t, err);
        free(text);
        if (rc == SL_OK && kind == SL_LOSS_BPB && t.n_rows == 0) {
            sl_csv_free(&t);
            return sl_fail(err, SL_EINPUT,
                           "%s: bpb: no run has a test loss in bits per byte (expected runs of a text "
                           "corpus whose metrics.csv has test_bpb; token files and older stores "
                           "have none)",
                           ps->path);
        }
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
        drop_highest(p, &n, ps->drop_highest);
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

int cli_fit_law_on(const points_spec *ps, sl_fit_law law, const sl_fit_options *o,
                   sl_fit_options *lo, sl_fit_point **p, size_t *n, sl_fit_result *r,
                   sl_error *err)
{
    *p = NULL;
    *n = 0;
    *lo = cli_fit_law_options(o, law);
    int rc = cli_fit_load_points(ps, law, lo, p, n, err);
    if (rc != SL_OK)
        return rc;
    sl_error core;
    rc = fit_with_progress(law, *p, *n, lo, r, &core);
    if (rc != SL_OK) {
        /* the core's messages name only the point */
        sl_fail(err, rc, "%s: %s", ps->path, core.msg);
        free(*p);
        *p = NULL;
        *n = 0;
    }
    return rc;
}

sl_fit_options cli_fit_law_options(const sl_fit_options *o, sl_fit_law law)
{
    sl_fit_options rep, x = *o;
    sl_fit_options_report(law, &rep);
    if (x.bootstrap == UNSET_BOOT)
        x.bootstrap = rep.bootstrap;
    if (x.seed == UNSET_SEED)
        x.seed = rep.seed;
    return x;
}
