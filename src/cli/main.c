/* scalelab: entry point and sub-command dispatch. */
#include <cblas.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *usage_text =
    "usage: scalelab [lab options] | scalelab <command> [options]\n"
    "\n"
    "Train small decoder-only Transformers on the CPU and fit the scaling laws of\n"
    "Kaplan et al. 2020 and Hoffmann et al. 2022 to them.\n"
    "\n"
    "commands:\n"
    "  lab            the lab: a live sweep with its laws on screen (also bare scalelab)\n"
    "  watch          the lab, read-only, on a store other processes write\n"
    "  train          train one model (scalelab train --help)\n"
    "  run            train the sweep of a preset into a run store\n"
    "  resume         continue a sweep from its run store\n"
    "  status         a table of the runs in a run store\n"
    "  export         runs.csv and curves.csv from a run store\n"
    "  sample         text from a trained model (a run or a checkpoint)\n"
    "  data prepare   prepare a corpus and print its n-gram baselines\n"
    "  fit            fit a scaling law to a table of points or a run store\n"
    "  plan           compute-optimal model size and data for a compute budget\n"
    "  bench          training-step throughput against the machine's sgemm rate\n"
    "\n"
    "Every command takes --help. Exit status: 0 ok, 1 runtime failure, 2 bad input.\n";

static const struct {
    const char *name;
    int (*fn)(int, char **);
} commands[] = {
    {"train", cmd_train}, {"data", cmd_data}, {"bench", cmd_bench},
    {"fit", cmd_fit},     {"plan", cmd_plan},     {"run", cmd_run},
    {"resume", cmd_resume}, {"status", cmd_status}, {"export", cmd_export},
    {"lab", cmd_lab},     {"watch", cmd_watch}, {"sample", cmd_sample},
};

int cli_report(int rc, const sl_error *err)
{
    if (rc != SL_OK)
        fprintf(stderr, "scalelab: %s\n", err->msg);
    return sl_exit_code(rc);
}

int cli_parse_int(const char *flag, const char *s, long lo, long hi, long *out, sl_error *err)
{
    char *end = NULL;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || *s == 0 || *end != 0 || errno != 0)
        return sl_fail(err, SL_EINPUT, "%s: '%s' is not an integer (expected %ld..%ld)", flag,
                       s ? s : "", lo, hi);
    if (v < lo || v > hi)
        return sl_fail(err, SL_EINPUT, "%s: %ld is out of range (expected %ld..%ld)", flag, v, lo,
                       hi);
    *out = v;
    return SL_OK;
}

int cli_parse_double(const char *flag, const char *s, double *out, sl_error *err)
{
    char *end = NULL;
    errno = 0;
    double v = s ? strtod(s, &end) : 0;
    if (!s || *s == 0 || *end != 0 || errno != 0 || !isfinite(v))
        return sl_fail(err, SL_EINPUT, "%s: '%s' is not a finite number", flag, s ? s : "");
    *out = v;
    return SL_OK;
}

const char *cli_flag_value(int argc, char **argv, int *i, const char *flag, int *missing)
{
    size_t n = strlen(flag);
    if (strncmp(argv[*i], flag, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != 0)
        return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

int cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    /* Our own threads parallelise; BLAS runs single-threaded inside each. */
    openblas_set_num_threads(1);
    /* A file-size limit or a full disk must surface as a write error (and a
     * clean message), not kill the process. */
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2 || (argv[1][0] == '-' && strcmp(argv[1], "--help") && strcmp(argv[1], "-h")))
        return cmd_lab(argc, argv); /* bare `scalelab [--flags]`: the lab */
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        fputs(usage_text, stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "scalelab: %s: unknown command (expected one of lab, watch, train, run, resume, status, export, sample, data, fit, plan, bench; see scalelab --help)\n", argv[1]);
    return 2;
}
