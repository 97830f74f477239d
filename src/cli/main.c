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
    "  list           the presets or themes found by name, and where\n"
    "\n"
    "\n"
    "Every command takes --help (or scalelab help COMMAND); options are given as\n"
    "--opt VALUE or --opt=VALUE, and -- ends them. scalelab --version prints the\n"
    "version. Exit status: 0 ok, 1 runtime failure, 2 bad input.\n";

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const cli_command *spec;
} commands[] = {
    {"lab", cmd_lab, &cli_lab_cmd},          {"watch", cmd_watch, &cli_watch_cmd},
    {"train", cmd_train, &cli_train_cmd},    {"run", cmd_run, &cli_run_cmd},
    {"resume", cmd_resume, &cli_resume_cmd}, {"status", cmd_status, &cli_status_cmd},
    {"export", cmd_export, &cli_export_cmd}, {"sample", cmd_sample, &cli_sample_cmd},
    {"data", cmd_data, &cli_data_cmd},       {"fit", cmd_fit, &cli_fit_cmd},
    {"plan", cmd_plan, &cli_plan_cmd},       {"bench", cmd_bench, &cli_bench_cmd},
    {"list", cmd_list, &cli_list_cmd},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static int unknown_command(const char *name)
{
    fprintf(stderr, "scalelab: %s: unknown command (expected one of lab, watch, train, run, resume, "
                    "status, export, sample, data, fit, plan, bench, list; see scalelab --help)\n",
            name);
    return 2;
}

/* scalelab help [COMMAND] */
static int help_command(int argc, char **argv)
{
    if (argc < 3) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (argc > 3) {
        fprintf(stderr, "scalelab: %s: unexpected argument (expected scalelab help COMMAND)\n", argv[3]);
        return 2;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[2], commands[i].name)) {
            cli_help(commands[i].spec, stdout);
            return 0;
        }
    return unknown_command(argv[2]);
}

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

int main(int argc, char **argv)
{
    /* Our own threads parallelise; BLAS runs single-threaded inside each. */
    openblas_set_num_threads(1);
    /* A file-size limit or a full disk must surface as a write error (and a
     * clean message), not kill the process. */
    signal(SIGXFSZ, SIG_IGN);
    if (argc >= 2 && !strcmp(argv[1], "--version")) {
        if (argc > 2) {
            fprintf(stderr, "scalelab: %s: unexpected argument (expected scalelab --version)\n", argv[2]);
            return 2;
        }
        printf("scalelab %s\n", SCALELAB_VERSION);
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "help"))
        return help_command(argc, argv);
    if (argc < 2 || (argv[1][0] == '-' && strcmp(argv[1], "--help") && strcmp(argv[1], "-h")))
        return cmd_lab(argc, argv); /* bare `scalelab [--flags]`: the lab */
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage_text, stdout);
        return 0;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    return unknown_command(argv[1]);
}
