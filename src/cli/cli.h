/* cli: the sub-commands of the scalelab binary. Each takes argc/argv starting
 * at its own name and returns the process exit status (0, 1 or 2). */
#ifndef SCALELAB_CLI_H
#define SCALELAB_CLI_H

#include "opt.h"
#include "scalelab/util.h"

#define SCALELAB_VERSION "0.1.0"

/* The option tables (opt.h) of the sub-commands: their parsing and --help. */
extern const cli_command cli_lab_cmd, cli_watch_cmd, cli_train_cmd, cli_run_cmd, cli_resume_cmd,
    cli_status_cmd, cli_export_cmd, cli_sample_cmd, cli_data_cmd, cli_fit_cmd, cli_plan_cmd,
    cli_bench_cmd, cli_list_cmd;

int cmd_train(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_fit(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_lab(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_list(int argc, char **argv);

/* Prints `scalelab: MSG` on stderr and returns the exit status for rc. */
int cli_report(int rc, const sl_error *err);

/* Strict number parsing for flags: "--flag: expected ..." on failure. */
int cli_parse_int(const char *flag, const char *s, long lo, long hi, long *out, sl_error *err);
int cli_parse_double(const char *flag, const char *s, double *out, sl_error *err);

#endif
