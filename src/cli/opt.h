/* opt: the option table of a sub-command, from which both its parsing (the C
 * library's getopt_long) and its --help text are made, so that the two cannot
 * disagree. Every sub-command takes --opt VALUE and --opt=VALUE, -h and --help,
 * and `--` ends its options; an unknown option, an abbreviated one, a missing
 * value or a value given to a flag is one line on stderr and exit status 2. */
#ifndef SCALELAB_CLI_OPT_H
#define SCALELAB_CLI_OPT_H

#include <stdio.h>

#include "scalelab/util.h"

/* One option: --name [VALUE], or (name NULL) a heading printed as it is. */
typedef struct {
    const char *name;  /* "--name"; NULL: a heading, or the end of the group */
    int has_arg;       /* 1: takes a value */
    const char *value; /* the value's name in the help ("K", "DIR") */
    const char *help;  /* lines after the first are indented under it; NULL: not listed */
    int id;            /* what cli_parse reports for it (> 0) */
} cli_opt;

#define CLI_OPT(name, value, id, help) {name, 1, value, help, id}
#define CLI_FLAG(name, id, help) {name, 0, NULL, help, id}
#define CLI_HEADING(text) {NULL, 0, NULL, text, 0}
#define CLI_END {NULL, 0, NULL, NULL, 0}

typedef struct {
    const char *name;              /* "train", "data prepare" */
    const char *usage;             /* the text before the options */
    void (*before_options)(FILE *); /* optional: printed after usage */
    const cli_opt *const *groups;  /* NULL-terminated; each group ends with CLI_END */
    const char *epilogue;          /* the text after the options, or NULL */
} cli_command;

/* An option as given: its id, its "--name" and its value (NULL for a flag). */
typedef struct {
    int id;
    const char *name;
    const char *arg;
} cli_item;

typedef struct {
    cli_item *items; /* in command-line order */
    int n_items;
    char **pos;      /* the positional arguments, in order */
    int n_pos;
} cli_args;

/* Parses argv (argv[0] is the command's name) against c's table. Returns 1
 * when the command is to return *status at once: after printing its help
 * (--help or -h anywhere before `--`: status 0) or an error line (status 2).
 * Returns 0 with *a filled otherwise (free it with cli_args_free). */
int cli_parse(const cli_command *c, int argc, char **argv, cli_args *a, int *status);
void cli_args_free(cli_args *a);

/* Was the option id given? */
int cli_given(const cli_args *a, int id);

/* The --help text of c. */
void cli_help(const cli_command *c, FILE *f);

#endif
