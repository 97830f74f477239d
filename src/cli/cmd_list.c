/* scalelab list presets|themes: the presets and themes that --preset, --theme
 * and the lab's pickers find, from the one search path (util.h), each loaded
 * and checked as they would load it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "scalelab/preset.h"
#include "scalelab/tui.h"

static const cli_opt list_opts[] = {
    CLI_FLAG("--dirs", 1, "print the folders searched, in order, instead"),
    CLI_END,
};

const cli_command cli_list_cmd = {
    "list",
    "usage: scalelab list presets|themes [--dirs]\n"
    "\n"
    "Prints each preset (or theme) that scalelab run PRESET, --preset, --theme and\n"
    "the lab's pickers find by name: its name, its file and its description; a\n"
    "name in an earlier folder hides the same name in a later one. The folders,\n"
    "in order: presets/ (themes/) of the working directory, $SCALELAB_PRESETS\n"
    "($SCALELAB_THEMES), $XDG_CONFIG_HOME/scalelab/presets (else\n"
    "~/.config/scalelab/presets; the lab's editor saves there), presets/ beside the\n"
    "binary and one folder up (a checkout), ../share/scalelab/presets beside the\n"
    "binary (make install), /usr/share/scalelab/presets. A file that does not load\n"
    "is listed with its error, and the exit status is then 2.\n"
    "\n",
    NULL,
    (const cli_opt *const[]){list_opts, NULL},
    NULL,
};

typedef struct {
    char name[256], path[SL_SEARCH_PATH + 256];
} entry;

typedef struct {
    entry *e;
    int n, cap;
} entries;

static int add(void *user, const char *path, const char *name)
{
    entries *l = user;
    if (l->n == l->cap)
        return 1;
    snprintf(l->e[l->n].name, sizeof l->e[l->n].name, "%s", name);
    snprintf(l->e[l->n].path, sizeof l->e[l->n].path, "%s", path);
    l->n++;
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

/* Loads the file as --preset or --theme would; 0 if it loads. */
static int print_one(const entry *e, int themes)
{
    sl_error err;
    char desc[256] = "";
    int rc;
    if (themes)
        rc = sl_tui_theme_describe(e->path, desc, sizeof desc, &err);
    else {
        sl_preset p;
        memset(&p, 0, sizeof p);
        if ((rc = sl_preset_load(&p, e->path, &err)) == SL_OK) {
            snprintf(desc, sizeof desc, "%s", p.description);
            sl_preset_free(&p);
        }
    }
    if (rc == SL_OK) {
        printf("%-24s %s  %s\n", e->name, e->path, desc);
        return 0;
    }
    printf("%-24s %s  (does not load)\n", e->name, e->path);
    fprintf(stderr, "scalelab: %s\n", err.msg);
    return 1;
}

int cmd_list(int argc, char **argv)
{
    cli_args args;
    int status;
    if (cli_parse(&cli_list_cmd, argc, argv, &args, &status))
        return status;
    int dirs = cli_given(&args, 1);
    const char *what = args.n_pos == 1 ? args.pos[0] : NULL;
    int n_pos = args.n_pos;
    cli_args_free(&args);
    sl_error err;
    if (n_pos != 1 || (strcmp(what, "presets") && strcmp(what, "themes")))
        return cli_report(sl_fail(&err, SL_EINPUT, "%s: expected presets or themes (usage: scalelab "
                                                   "list presets|themes)",
                                  n_pos == 0 ? "list" : n_pos > 1 ? "list: more than one" : what),
                          &err);
    if (dirs) {
        char d[SL_SEARCH_MAX][SL_SEARCH_PATH];
        int n = sl_search_dirs(what, d);
        for (int i = 0; i < n; i++)
            printf("%s\n", d[i]);
        return 0;
    }
    entries l = {sl_xcalloc(1024, sizeof(entry)), 0, 1024};
    sl_search_list(what, add, &l);
    qsort(l.e, (size_t)l.n, sizeof *l.e, by_name);
    int bad = 0;
    for (int i = 0; i < l.n; i++)
        bad |= print_one(&l.e[i], !strcmp(what, "themes"));
    free(l.e);
    return bad ? 2 : 0;
}
