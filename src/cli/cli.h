/* cli: the sub-commands of the scalelab binary. Each takes argc/argv starting
 * at its own name and returns the process exit status (0, 1 or 2). */
#ifndef SCALELAB_CLI_H
#define SCALELAB_CLI_H

#include "scalelab/util.h"

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

/* Prints `scalelab: MSG` on stderr and returns the exit status for rc. */
int cli_report(int rc, const sl_error *err);

/* Strict number parsing for flags: "--flag: expected ..." on failure. */
int cli_parse_int(const char *flag, const char *s, long lo, long hi, long *out, sl_error *err);
int cli_parse_double(const char *flag, const char *s, double *out, sl_error *err);

/* The value of `--flag VALUE` or `--flag=VALUE` at argv[*i] (advancing *i past
 * a separate value), or NULL if argv[*i] is not this flag; sets *missing when
 * the value is absent. */
const char *cli_flag_value(int argc, char **argv, int *i, const char *flag, int *missing);

/* Does argv hold --help or -h? */
int cli_wants_help(int argc, char **argv);

#endif
