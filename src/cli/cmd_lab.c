/* scalelab lab | watch (and bare scalelab): the ncurses lab on a live sweep, or
 * a read-only view of a store that other processes write. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "scalelab/fit.h"
#include "scalelab/tui.h"

enum { O_PRESET = 1, O_THEME, O_RUNS, O_DATA, O_EXIT_AFTER, O_BENCH_FRAMES };

#define THEME_OPT                                                                                  \
    CLI_OPT("--theme", "T", O_THEME,                                                               \
            "dark (default), light, high-contrast, monochrome, or a file\n"                        \
            "(docs/THEMES.md); NO_COLOR is honoured")
#define DATA_OPT                                                                                   \
    CLI_OPT("--data", "DIR", O_DATA,                                                               \
            "prepared corpora (default $SCALELAB_DATA, else data/ of the\n"                        \
            "checkout, else ~/.cache/scalelab)")
#define EXIT_AFTER_OPT                                                                             \
    CLI_OPT("--exit-after", "S", O_EXIT_AFTER, "quit cleanly after S seconds (runs checkpoint)")
/* hidden: the frame-cost benchmark (bench/RESULTS.md) */
#define BENCH_FRAMES_OPT {"--bench-frames", 1, "N", NULL, O_BENCH_FRAMES}

static const cli_opt lab_opts[] = {
    CLI_OPT("--preset", "P", O_PRESET,
            "a preset file or a name in presets/ or among the presets saved\n"
            "by the lab (default quickstart)"),
    THEME_OPT,
    CLI_OPT("--runs", "DIR", O_RUNS, "the runs folder (default runs), or a sweep store to continue"),
    DATA_OPT,
    EXIT_AFTER_OPT,
    BENCH_FRAMES_OPT,
    CLI_END,
};

const cli_command cli_lab_cmd = {
    "lab",
    "usage: scalelab [lab] [options]\n"
    "\n"
    "The lab: a sweep of a preset trains in the background while its learning\n"
    "curves, the fitted laws with their intervals, the runs, the N/D/C selectors\n"
    "and the overfitting gauge update live. `?` in the lab lists every key.\n"
    "\n",
    NULL,
    (const cli_opt *const[]){lab_opts, NULL},
    "\n"
    "scalelab watch DIR shows a store another process writes. A non-UTF-8 locale\n"
    "draws ASCII.\n",
};

static const cli_opt watch_opts[] = {
    THEME_OPT, DATA_OPT, EXIT_AFTER_OPT, BENCH_FRAMES_OPT, CLI_END,
};

const cli_command cli_watch_cmd = {
    "watch",
    "usage: scalelab watch DIR [options]\n"
    "\n"
    "The lab, read-only, on the store DIR that a headless or MPI sweep is writing,\n"
    "re-read every second; it controls nothing. A non-UTF-8 locale draws ASCII.\n"
    "\n",
    NULL,
    (const cli_opt *const[]){watch_opts, NULL},
    NULL,
};

static int lab_main(const cli_command *cmd, int argc, char **argv)
{
    sl_tui_opts o;
    memset(&o, 0, sizeof o);
    cli_args args;
    int status;
    if (cli_parse(cmd, argc, argv, &args, &status))
        return status;
    sl_error err = {{0}};
    int rc = SL_OK;
    for (int k = 0; k < args.n_items && rc == SL_OK; k++) {
        const char *v = args.items[k].arg;
        long frames;
        switch (args.items[k].id) {
        case O_PRESET: o.preset = v; break;
        case O_THEME: o.theme = v; break;
        case O_RUNS: o.runs = v; break;
        case O_DATA: o.data_dir = v; break;
        case O_EXIT_AFTER:
            if (cli_parse_double("--exit-after", v, &o.exit_after, &err) != SL_OK || o.exit_after < 0)
                rc = sl_fail(&err, SL_EINPUT, "--exit-after: '%s' (expected seconds >= 0)", v);
            break;
        case O_BENCH_FRAMES:
            if ((rc = cli_parse_int("--bench-frames", v, 1, 1000000, &frames, &err)) == SL_OK)
                o.bench_frames = (int)frames;
            break;
        }
    }
    if (rc == SL_OK && cmd == &cli_watch_cmd) {
        if (args.n_pos == 0)
            rc = sl_fail(&err, SL_EINPUT, "DIR: missing (usage: scalelab watch DIR)");
        else
            o.watch = args.pos[0];
    }
    int extra = cmd == &cli_watch_cmd ? 1 : 0;
    if (rc == SL_OK && args.n_pos > extra)
        rc = sl_fail(&err, SL_EINPUT, "%s: unexpected argument (see scalelab %s --help)",
                     args.pos[extra], cmd->name);
    cli_args_free(&args);
    if (rc != SL_OK)
        return cli_report(rc, &err);
    return cli_report(sl_tui_run(&o, &err), &err);
}

int cmd_lab(int argc, char **argv) { return lab_main(&cli_lab_cmd, argc, argv); }

int cmd_watch(int argc, char **argv) { return lab_main(&cli_watch_cmd, argc, argv); }
