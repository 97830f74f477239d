/* opt: sub-command option tables to getopt_long and to --help (opt.h). */
#define _GNU_SOURCE /* getopt_long */
#include "opt.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum { ID_HELP = -1000 };

#define HELP_COLUMN 20

static int count_options(const cli_command *c)
{
    int n = 0;
    for (int g = 0; c->groups && c->groups[g]; g++)
        for (const cli_opt *o = c->groups[g]; o->name || o->help; o++)
            n += o->name != NULL;
    return n;
}

/* The table entry of long option k (in struct option order). */
static const cli_opt *nth_option(const cli_command *c, int k)
{
    for (int g = 0; c->groups && c->groups[g]; g++)
        for (const cli_opt *o = c->groups[g]; o->name || o->help; o++)
            if (o->name && k-- == 0)
                return o;
    return NULL;
}

static void print_option(FILE *f, const char *names, const char *value, const char *help)
{
    char head[128];
    snprintf(head, sizeof head, "  %s%s%s", names, value ? " " : "", value ? value : "");
    fputs(head, f);
    int len = (int)strlen(head);
    int pad = len <= HELP_COLUMN - 2 ? HELP_COLUMN - len : 2;
    fprintf(f, "%*s", pad, "");
    for (const char *s = help; *s;) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        fwrite(s, 1, n, f);
        fputc('\n', f);
        if (!nl || !nl[1])
            break;
        s = nl + 1;
        fprintf(f, "%*s", HELP_COLUMN, "");
    }
}

void cli_help(const cli_command *c, FILE *f)
{
    fputs(c->usage, f);
    if (c->before_options)
        c->before_options(f);
    for (int g = 0; c->groups && c->groups[g]; g++)
        for (const cli_opt *o = c->groups[g]; o->name || o->help; o++) {
            if (!o->name)
                fputs(o->help, f);
            else if (o->help) {
                print_option(f, o->name, o->has_arg ? o->value : NULL, o->help);
            }
        }
    print_option(f, "-h, --help", NULL, "this help");
    if (c->epilogue)
        fputs(c->epilogue, f);
}

/* "--name" of a token "--name=value" (in buf). */
static const char *token_name(const char *tok, char *buf, size_t len)
{
    size_t n = strcspn(tok, "=");
    if (n >= len)
        n = len - 1;
    memcpy(buf, tok, n);
    buf[n] = 0;
    return buf;
}

static int fail(const cli_command *c, sl_error *err, const char *what, const char *tok)
{
    char buf[128];
    return sl_fail(err, SL_EINPUT, "%s: %s (see scalelab %s --help)", token_name(tok, buf, sizeof buf),
                   what, c->name);
}

int cli_parse(const cli_command *c, int argc, char **argv, cli_args *a, int *status)
{
    memset(a, 0, sizeof *a);
    int n_opt = count_options(c);
    struct option *lo = sl_xcalloc((size_t)n_opt + 2, sizeof *lo);
    for (int k = 0; k < n_opt; k++) {
        const cli_opt *o = nth_option(c, k);
        lo[k] = (struct option){o->name + 2, o->has_arg ? required_argument : no_argument, NULL, 256 + k};
    }
    lo[n_opt] = (struct option){"help", no_argument, NULL, ID_HELP};
    a->items = sl_xcalloc((size_t)argc + 1, sizeof *a->items);
    a->pos = sl_xcalloc((size_t)argc + 1, sizeof *a->pos);
    sl_error err = {{0}};
    int bad = 0, help = 0;
    /* "-": non-options come back in order as 1; ":": a missing value is ':' */
    optind = 0;
    opterr = 0;
    for (;;) {
        int at = optind > 0 ? optind : 1, li = -1;
        int r = getopt_long(argc, argv, "-:h", lo, &li);
        if (r == -1)
            break;
        const char *tok = at < argc ? argv[at] : "";
        if (r == 1) {
            a->pos[a->n_pos++] = optarg;
            continue;
        }
        if (r == 'h' || (r == ID_HELP && !strcmp(tok, "--help"))) {
            help = 1;
            continue;
        }
        if (bad)
            continue; /* the first error is the one reported, unless --help follows */
        if (r == ID_HELP) { /* an abbreviation of --help */
            bad = fail(c, &err, "unknown option", tok);
            continue;
        }
        if (r == '?' || r == ':') {
            /* optopt: the short option, the val of a long one given a value
             * it takes none or lacking the one it needs, 0 if unknown */
            int is_short = optopt > 0 && optopt < 256;
            char shortopt[3] = {'-', (char)(is_short ? optopt : 0), 0};
            const char *name = is_short ? shortopt : tok;
            bad = r == ':'                                 ? fail(c, &err, "missing value", name)
                  : optopt >= 256 || optopt == ID_HELP ? fail(c, &err, "takes no value", name)
                                                         : fail(c, &err, "unknown option", name);
            continue;
        }
        /* an abbreviation (getopt_long takes unique prefixes) is no option here */
        const cli_opt *o = nth_option(c, r - 256);
        size_t n = strlen(o->name);
        if (strncmp(tok, o->name, n) || (tok[n] && tok[n] != '=')) {
            bad = fail(c, &err, "unknown option", tok);
            continue;
        }
        a->items[a->n_items++] = (cli_item){o->id, o->name, optarg};
    }
    for (int i = optind; i < argc; i++)
        a->pos[a->n_pos++] = argv[i];
    free(lo);
    if (help) {
        cli_help(c, stdout);
        *status = 0;
    } else if (bad) {
        fprintf(stderr, "scalelab: %s\n", err.msg);
        *status = 2;
    } else
        return 0;
    cli_args_free(a);
    return 1;
}

void cli_args_free(cli_args *a)
{
    free(a->items);
    free(a->pos);
    memset(a, 0, sizeof *a);
}

int cli_given(const cli_args *a, int id)
{
    for (int k = 0; k < a->n_items; k++)
        if (a->items[k].id == id)
            return 1;
    return 0;
}
