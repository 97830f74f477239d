/* The command-line conventions, for every sub-command: --help, help COMMAND,
 * --opt=VALUE as --opt VALUE, unknown options, `--`, --version; the options
 * --help lists against the man page and the README; and the one search path
 * of presets and themes, from another working directory. */
#include <ctype.h>

#include "scalelab/preset.h"
#include "testutil.h"

#include "../src/tui/theme.h"

/* Every sub-command, as its help names it, and the argv words that start it. */
static const struct {
    const char *name;  /* in the man page and README: "data" for data prepare */
    const char *argv0; /* the command words */
    const char *argv1;
} commands[] = {
    {"lab", "lab", NULL},       {"watch", "watch", NULL},   {"train", "train", NULL},
    {"run", "run", NULL},       {"resume", "resume", NULL}, {"status", "status", NULL},
    {"export", "export", NULL}, {"sample", "sample", NULL}, {"data", "data", "prepare"},
    {"fit", "fit", NULL},       {"plan", "plan", NULL},     {"bench", "bench", NULL},
    {"list", "list", NULL},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

typedef struct {
    int rc;
    char out[65536], err[8192];
} result;

static result R; /* one at a time: the tests of a file run in one process each */

static int run_args(result *r, const char *const *args)
{
    r->rc = tu_run(r->out, sizeof r->out, r->err, sizeof r->err, 0, args);
    return r->rc;
}

/* args = the command's words followed by extra (NULL-terminated) */
static int run_cmd(result *r, size_t c, const char *const *extra)
{
    const char *args[40];
    int n = 0;
    args[n++] = commands[c].argv0;
    if (commands[c].argv1)
        args[n++] = commands[c].argv1;
    for (int i = 0; extra[i] && n < 39; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    return run_args(r, args);
}

static void one_error_line(const result *r, const char *want, const char *what)
{
    cr_assert_eq(r->rc, 2, "%s: exit status %d, stderr: %s", what, r->rc, r->err);
    cr_assert(!strncmp(r->err, "scalelab: ", 10), "%s: stderr: %s", what, r->err);
    const char *nl = strchr(r->err, '\n');
    cr_assert(nl && nl[1] == 0, "%s: not exactly one line: %s", what, r->err);
    if (want)
        cr_assert_not_null(strstr(r->err, want), "%s: '%s' not in: %s", what, want, r->err);
}

TestSuite(cli, .init = tu_make_dir, .fini = tu_remove_dir);

Test(cli, every_command_has_help_and_help_command_prints_the_same)
{
    for (size_t c = 0; c < N_COMMANDS; c++) {
        static char help[65536];
        cr_assert_eq(run_cmd(&R, c, (const char *const[]){"--help", NULL}), 0, "%s --help: %s",
                     commands[c].name, R.err);
        cr_assert(!strncmp(R.out, "usage: scalelab ", 16), "%s --help: %s", commands[c].name, R.out);
        cr_assert_not_null(strstr(R.out, "  -h, --help"), "%s --help lists no --help", commands[c].name);
        snprintf(help, sizeof help, "%s", R.out);
        cr_assert_eq(run_cmd(&R, c, (const char *const[]){"-h", NULL}), 0);
        cr_assert_str_eq(R.out, help, "%s -h differs from --help", commands[c].name);
        cr_assert_eq(run_args(&R, (const char *const[]){"help", commands[c].argv0, NULL}), 0);
        cr_assert_str_eq(R.out, help, "help %s differs from %s --help", commands[c].argv0,
                         commands[c].name);
        /* --help wins wherever it stands before --, even after a bad option */
        cr_assert_eq(run_cmd(&R, c, (const char *const[]){"--no-such-option", "--help", NULL}), 0);
        cr_assert_str_eq(R.out, help);
    }
}

Test(cli, help_of_no_command_and_of_an_unknown_one)
{
    cr_assert_eq(run_args(&R, (const char *const[]){"help", NULL}), 0);
    cr_assert_not_null(strstr(R.out, "commands:"));
    static char usage[65536];
    snprintf(usage, sizeof usage, "%s", R.out);
    cr_assert_eq(run_args(&R, (const char *const[]){"--help", NULL}), 0);
    cr_assert_str_eq(R.out, usage);
    run_args(&R, (const char *const[]){"help", "nosuch", NULL});
    one_error_line(&R, "nosuch: unknown command", "help nosuch");
    run_args(&R, (const char *const[]){"nosuch", NULL});
    one_error_line(&R, "nosuch: unknown command", "nosuch");
}

Test(cli, version)
{
    cr_assert_eq(run_args(&R, (const char *const[]){"--version", NULL}), 0);
    cr_assert(!strncmp(R.out, "scalelab ", 9) && isdigit((unsigned char)R.out[9]), "%s", R.out);
    cr_assert_eq(strchr(R.out, '\n')[1], 0, "more than one line: %s", R.out);
}

Test(cli, an_unknown_option_is_one_line_naming_it_exit_2)
{
    for (size_t c = 0; c < N_COMMANDS; c++) {
        run_cmd(&R, c, (const char *const[]){"--no-such-option", NULL});
        one_error_line(&R, "--no-such-option: unknown option", commands[c].name);
        run_cmd(&R, c, (const char *const[]){"--no-such-option=3", NULL});
        one_error_line(&R, "--no-such-option: unknown option", commands[c].name);
        run_cmd(&R, c, (const char *const[]){"-Z", NULL});
        one_error_line(&R, "-Z: unknown option", commands[c].name);
    }
    /* an abbreviation is no option; a flag takes no value; a value is needed */
    run_args(&R, (const char *const[]){"train", "--lay", "2", NULL});
    one_error_line(&R, "--lay: unknown option", "train --lay");
    run_args(&R, (const char *const[]){"fit", "--hel", NULL});
    one_error_line(&R, "--hel: unknown option", "fit --hel");
    run_args(&R, (const char *const[]){"train", "--quiet=yes", NULL});
    one_error_line(&R, "--quiet: takes no value", "train --quiet=yes");
    run_args(&R, (const char *const[]){"train", "--out", NULL});
    one_error_line(&R, "--out: missing value", "train --out");
    run_args(&R, (const char *const[]){"fit", "x.csv", "--law", NULL});
    one_error_line(&R, "--law: missing value", "fit --law");
}

/* For each command, an option whose bad value is refused before any work: the
 * two spellings must give the same status and the same output. */
Test(cli, opt_equals_value_is_opt_value)
{
    static const struct {
        const char *cmd[6], *name, *value, *want;
    } cases[] = {
        {{"lab", NULL}, "--exit-after", "-1", NULL},
        {{"watch", "nosuch-dir", NULL}, "--exit-after", "-1", NULL},
        {{"train", NULL}, "--layers", "0", NULL},
        {{"train", NULL}, "--lr", "11", NULL},
        {{"run", "tiny", NULL}, "--jobs", "0", NULL},
        {{"resume", "nosuch-dir", NULL}, "--cores", "0", NULL},
        {{"export", "nosuch-dir", NULL}, "--plots", "fig", "nosuch-dir"},
        {{"sample", "nosuch.bin", NULL}, "--tokens", "0", NULL},
        {{"data", "prepare", NULL}, "--test-frac", "2", NULL},
        {{"fit", "nosuch.csv", "--law", "power-n", NULL}, "--bootstrap", "-1", NULL},
        {{"fit", "nosuch.csv", NULL}, "--law", "nosuch-law", NULL},
        {{"plan", NULL}, "--compute", "-1", NULL},
        {{"plan", "--compute", "1e20", NULL}, "--params", "1,2", NULL},
        {{"bench", NULL}, "--steps", "0", NULL},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const char *a[12], *b[12];
        int n = 0;
        for (; cases[k].cmd[n]; n++)
            a[n] = b[n] = cases[k].cmd[n];
        char eq[128];
        snprintf(eq, sizeof eq, "%s=%s", cases[k].name, cases[k].value);
        a[n] = eq;
        a[n + 1] = NULL;
        b[n] = cases[k].name;
        b[n + 1] = cases[k].value;
        b[n + 2] = NULL;
        static result ra, rb;
        run_args(&ra, a);
        run_args(&rb, b);
        cr_assert_eq(ra.rc, 2, "%s %s: status %d, %s", cases[k].cmd[0], eq, ra.rc, ra.err);
        cr_assert_eq(ra.rc, rb.rc, "%s %s", cases[k].cmd[0], eq);
        cr_assert_str_eq(ra.err, rb.err, "%s %s", cases[k].cmd[0], eq);
        cr_assert_str_eq(ra.out, rb.out, "%s %s", cases[k].cmd[0], eq);
        one_error_line(&ra, cases[k].want ? cases[k].want : cases[k].name, eq);
    }
}

/* After --, a word that looks like an option is an argument: never "unknown
 * option", and named as a file, a directory or an unexpected argument. */
Test(cli, double_dash_ends_the_options)
{
    for (size_t c = 0; c < N_COMMANDS; c++) {
        const char *extra[6] = {"--", "--zzz", NULL};
        if (!strcmp(commands[c].name, "fit"))
            extra[0] = "--law", extra[1] = "power-n", extra[2] = "--", extra[3] = "--zzz";
        run_cmd(&R, c, extra);
        cr_assert_eq(R.rc, 2, "%s -- --zzz: status %d, %s", commands[c].name, R.rc, R.err);
        cr_assert_null(strstr(R.err, "unknown option"), "%s -- --zzz: %s", commands[c].name, R.err);
        if (strcmp(commands[c].name, "watch")) /* watch: "needs a terminal" first */
            cr_assert_not_null(strstr(R.err, "--zzz"), "%s -- --zzz: %s", commands[c].name, R.err);
    }
    /* options before -- still count */
    run_args(&R, (const char *const[]){"train", "--layers", "0", "--", NULL});
    one_error_line(&R, "--layers: 0 is out of range", "train --layers 0 --");
}

/* ---- --help, the man page and the README list the same options ---------- */

#define MAX_OPTS 64

typedef struct {
    char name[32];
    char opt[MAX_OPTS][32];
    int n;
} option_set;

static void add_opt(option_set *s, const char *o, size_t len)
{
    if (len == 0 || len >= 32 || s->n == MAX_OPTS)
        return;
    char buf[32];
    memcpy(buf, o, len);
    buf[len] = 0;
    if (!strcmp(buf, "--help"))
        return;
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->opt[i], buf))
            return;
    snprintf(s->opt[s->n++], 32, "%s", buf);
}

/* every --word in text[0..len) (man: \-\- spelled out) */
static void scan_opts(option_set *s, const char *text, size_t len, int man)
{
    const char *dd = man ? "\\-\\-" : "--";
    size_t ddl = strlen(dd);
    for (size_t i = 0; i + ddl < len; i++) {
        if (strncmp(text + i, dd, ddl) || !islower((unsigned char)text[i + ddl]))
            continue;
        char buf[32] = "--";
        size_t n = 2, j = i + ddl;
        while (j < len && n < 31) {
            if (man && !strncmp(text + j, "\\-", 2) && islower((unsigned char)text[j + 2])) {
                buf[n++] = '-';
                j += 2;
            } else if (islower((unsigned char)text[j]) || isdigit((unsigned char)text[j]) ||
                       (!man && text[j] == '-' && islower((unsigned char)text[j + 1]))) {
                buf[n++] = text[j++];
            } else
                break;
        }
        add_opt(s, buf, n);
        i = j - 1;
    }
}

static int has(const option_set *s, const char *o)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->opt[i], o))
            return 1;
    return 0;
}

static char *read_source(const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", SL_SOURCE_DIR, rel);
    char *d;
    size_t len;
    sl_error e;
    cr_assert_eq(sl_read_file(path, &d, &len, &e), SL_OK, "%s", e.msg);
    return d;
}

/* The man page: each `.TP` entry of COMMANDS whose `.B`/`.BI` line starts with
 * the command's name. */
static void man_options(const char *man, const char *cmd, option_set *s)
{
    const char *sec = strstr(man, "\n.SH COMMANDS\n");
    cr_assert_not_null(sec, "docs/scalelab.1 has no COMMANDS section");
    const char *end = strstr(sec + 1, "\n.SH ");
    for (const char *p = strstr(sec, "\n.TP\n"); p && p < end; p = strstr(p + 1, "\n.TP\n")) {
        const char *head = p + 5;
        const char *word = !strncmp(head, ".BI ", 4) ? head + 4 : !strncmp(head, ".B ", 3) ? head + 3 : NULL;
        if (!word)
            continue;
        size_t wl = strcspn(word, " \n");
        if (wl != strlen(cmd) || strncmp(word, cmd, wl))
            continue;
        const char *next = strstr(head, "\n.TP\n");
        if (!next || next > end)
            next = end;
        scan_opts(s, head, (size_t)(next - head), 1);
        return;
    }
    cr_assert_fail("docs/scalelab.1 has no entry for %s", cmd);
}

/* The README: the line `- \`scalelab CMD...\`: ...` of its options section. */
static void readme_options(const char *readme, const char *cmd, option_set *s)
{
    const char *sec = strstr(readme, "\n## Options of each command\n");
    cr_assert_not_null(sec, "README.md has no \"## Options of each command\" section");
    const char *end = strstr(sec + 1, "\n## ");
    char want[64], want2[64];
    snprintf(want, sizeof want, "\n- `scalelab %s", cmd);
    snprintf(want2, sizeof want2, "\n- `scalelab [%s]", cmd);
    for (const char *p = strstr(sec, "\n- `scalelab"); p && p < end; p = strstr(p + 1, "\n- `scalelab")) {
        size_t wl = !strncmp(p, want, strlen(want))     ? strlen(want)
                    : !strncmp(p, want2, strlen(want2)) ? strlen(want2)
                                                        : 0;
        if (wl == 0 || (p[wl] != '`' && p[wl] != ' ' && p[wl] != ']'))
            continue;
        const char *colon = strstr(p, "`:");
        const char *nl = strchr(p + 1, '\n');
        cr_assert(colon && nl && colon < nl, "README.md: %.60s", p);
        scan_opts(s, colon, (size_t)(nl - colon), 0);
        return;
    }
    cr_assert_fail("README.md's options section has no line for scalelab %s", cmd);
}

static void help_options(size_t c, option_set *s)
{
    cr_assert_eq(run_cmd(&R, c, (const char *const[]){"--help", NULL}), 0);
    for (const char *line = R.out; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        const char *o = !strncmp(line, "  --", 4) ? line + 2 : NULL;
        if (!o)
            continue;
        add_opt(s, o, strcspn(o, " \n"));
    }
}

static void same_sets(const char *cmd, const option_set *a, const char *an, const option_set *b,
                      const char *bn)
{
    for (int i = 0; i < a->n; i++)
        cr_expect(has(b, a->opt[i]), "scalelab %s: %s is in %s but not in %s", cmd, a->opt[i], an,
                  bn);
    for (int i = 0; i < b->n; i++)
        cr_expect(has(a, b->opt[i]), "scalelab %s: %s is in %s but not in %s", cmd, b->opt[i], bn,
                  an);
}

Test(cli, help_man_page_and_readme_list_the_same_options)
{
    char *man = read_source("docs/scalelab.1");
    char *readme = read_source("README.md");
    for (size_t c = 0; c < N_COMMANDS; c++) {
        static option_set h, m, r;
        memset(&h, 0, sizeof h);
        memset(&m, 0, sizeof m);
        memset(&r, 0, sizeof r);
        help_options(c, &h);
        man_options(man, commands[c].name, &m);
        readme_options(readme, commands[c].name, &r);
        same_sets(commands[c].name, &h, "--help", &m, "docs/scalelab.1");
        same_sets(commands[c].name, &h, "--help", &r, "README.md");
    }
    free(man);
    free(readme);
}

/* ---- one search path for presets and themes ------------------------------ */

typedef struct {
    char names[256][64];
    char paths[256][1400];
    int n;
} listing;

static int collect(void *user, const char *path, const char *name)
{
    listing *l = user;
    snprintf(l->names[l->n], 64, "%s", name);
    snprintf(l->paths[l->n], 1400, "%s", path);
    return ++l->n == 256;
}

static void write_user_preset(char *dir, size_t len)
{
    char p[1024];
    snprintf(dir, len, "%s/config", tu_dir);
    snprintf(p, sizeof p, "%s/scalelab/presets", dir);
    sl_error e;
    cr_assert_eq(sl_mkdirs(p, &e), SL_OK);
    snprintf(p, sizeof p, "%s/scalelab/presets/mine.json", dir);
    /* the tiny preset, renamed, on a small text of its own */
    char text[600];
    snprintf(text, sizeof text, "%s/words.txt", tu_dir);
    static char words[200000];
    sl_rng rng;
    sl_rng_seed(&rng, 3);
    for (size_t i = 0; i < sizeof words; i++)
        words[i] = sl_rng_below(&rng, 6) == 0 ? ' ' : (char)('a' + sl_rng_below(&rng, 26));
    tu_write(text, words, sizeof words);
    char *tiny = read_source("presets/tiny.json");
    char *at = strstr(tiny, "\"tiny\"");
    char *corpus = strstr(tiny, "\"debian\"");
    cr_assert(at && corpus);
    memcpy(at, "\"mine\"", 6);
    *corpus = 0;
    static char json[8192];
    snprintf(json, sizeof json, "%s\"%s\"%s", tiny, text, corpus + 8);
    tu_write(p, json, strlen(json));
    free(tiny);
}

/* From a directory with no presets/ or themes/: the lab's pickers (the lists),
 * --preset and --theme (the finds) agree on every name, the user's saved
 * preset included. */
Test(cli, presets_and_themes_are_found_where_they_are_listed)
{
    char cfg[512], cwd[1024];
    write_user_preset(cfg, sizeof cfg);
    setenv("XDG_CONFIG_HOME", cfg, 1);
    unsetenv("SCALELAB_PRESETS");
    unsetenv("SCALELAB_THEMES");
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    cr_assert_eq(chdir(tu_dir), 0);
    static listing l;
    l.n = 0;
    sl_search_list("presets", collect, &l);
    int mine = 0, quick = 0;
    for (int i = 0; i < l.n; i++) {
        char found[2048];
        sl_error e;
        cr_assert_eq(sl_preset_find(l.names[i], found, sizeof found, &e), SL_OK, "%s", e.msg);
        cr_assert_str_eq(found, l.paths[i], "--preset %s finds another file than the picker lists",
                         l.names[i]);
        mine |= !strcmp(l.names[i], "mine");
        quick |= !strcmp(l.names[i], "quickstart");
    }
    cr_assert(mine, "the user's saved preset is not listed");
    cr_assert(quick, "the shipped presets are not listed from another directory");
    char names[32][64];
    int nt = Theme_list(names, 32);
    cr_assert_geq(nt, 4, "the shipped themes are not listed from another directory");
    for (int i = 0; i < nt; i++) {
        char found[2048];
        sl_error e;
        cr_assert_eq(Theme_find(names[i], found, sizeof found, &e), SL_OK, "%s", e.msg);
    }
    cr_assert_eq(chdir(cwd), 0);
}

/* The binary, run from another directory: list shows the saved preset, and
 * run finds it by name (the sweep is refused only for its --only). */
Test(cli, a_saved_preset_is_found_by_name_from_another_directory, .timeout = 120)
{
    char cfg[512];
    write_user_preset(cfg, sizeof cfg);
    char runs[600];
    snprintf(runs, sizeof runs, "%s/runs", tu_dir);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        char po[700], pe[700];
        snprintf(po, sizeof po, "%s/.list", tu_dir);
        snprintf(pe, sizeof pe, "%s/.list.err", tu_dir);
        if (chdir(tu_dir) || !freopen(po, "w", stdout) || !freopen(pe, "w", stderr))
            _exit(127);
        setenv("XDG_CONFIG_HOME", cfg, 1);
        execl(SL_TEST_BIN, SL_TEST_BIN, "list", "presets", (char *)NULL);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    char p[700], *d;
    size_t len;
    sl_error e;
    snprintf(p, sizeof p, "%s/.list", tu_dir);
    cr_assert_eq(sl_read_file(p, &d, &len, &e), SL_OK);
    cr_assert_not_null(strstr(d, "\nmine "), "list presets: %s", d);
    free(d);
    setenv("XDG_CONFIG_HOME", cfg, 1);
    run_args(&R, (const char *const[]){"run", "mine", "--only", "999", "--runs", runs, NULL});
    one_error_line(&R, "--only: 999 is not a run of the sweep", "run mine");
}
