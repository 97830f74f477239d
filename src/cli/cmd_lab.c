/* scalelab lab | watch (and bare scalelab): the ncurses lab on a live sweep, or
 * a read-only view of a store that other processes write. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "scalelab/fit.h"
#include "scalelab/tui.h"

static const char *lab_help =
    "usage: scalelab [lab] [--preset FILE|NAME] [--theme NAME|FILE] [--runs DIR] [--exit-after S]\n"
    "       scalelab watch DIR [--theme NAME|FILE] [--exit-after S]\n"
    "\n"
    "The lab: a sweep of a preset trains in the background while its learning\n"
    "curves, the fitted laws with their intervals, the runs, the N/D/C selectors\n"
    "and the overfitting gauge update live. `?` in the lab lists every key.\n"
    "\n"
    "  --preset P        a preset file or a name in presets/ (default quickstart)\n"
    "  --theme T         dark (default), light, high-contrast, monochrome, or a file\n"
    "                    (docs/THEMES.md); NO_COLOR is honoured\n"
    "  --runs DIR        the runs folder (default runs), or a sweep store to continue\n"
    "  --data DIR        prepared corpora (default $SCALELAB_DATA, else data/ of the\n"
    "                    checkout, else ~/.cache/scalelab)\n"
    "  --exit-after S    quit cleanly after S seconds (runs checkpoint)\n"
    "\n"
    "watch DIR shows the store DIR that a headless or MPI sweep is writing, re-read\n"
    "every second; it controls nothing. A non-UTF-8 locale draws ASCII.\n";

static int lab_main(int argc, char **argv, int first, const char *watch)
{
    sl_tui_opts o;
    memset(&o, 0, sizeof o);
    o.watch = watch;
    sl_error err = {{0}};
    for (int i = first; i < argc; i++) {
        int missing = 0;
        const char *v;
        long frames;
        if ((v = cli_flag_value(argc, argv, &i, "--preset", &missing)) && !watch)
            o.preset = v;
        else if ((v = cli_flag_value(argc, argv, &i, "--theme", &missing)))
            o.theme = v;
        else if ((v = cli_flag_value(argc, argv, &i, "--runs", &missing)) && !watch)
            o.runs = v;
        else if ((v = cli_flag_value(argc, argv, &i, "--data", &missing)))
            o.data_dir = v;
        else if ((v = cli_flag_value(argc, argv, &i, "--exit-after", &missing))) {
            if (cli_parse_double("--exit-after", v, &o.exit_after, &err) != SL_OK || o.exit_after < 0)
                return cli_report(sl_fail(&err, SL_EINPUT, "--exit-after: '%s' (expected seconds >= 0)", v),
                                  &err);
        } else if ((v = cli_flag_value(argc, argv, &i, "--bench-frames", &missing))) {
            /* hidden: the frame-cost benchmark (bench/RESULTS.md) */
            if (cli_parse_int("--bench-frames", v, 1, 1000000, &frames, &err) != SL_OK)
                return cli_report(SL_EINPUT, &err);
            o.bench_frames = (int)frames;
        } else if (missing) {
            return cli_report(sl_fail(&err, SL_EINPUT, "%s: missing value (see scalelab lab --help)", argv[i]),
                              &err);
        } else {
            return cli_report(sl_fail(&err, SL_EINPUT, "%s: unknown option (see scalelab %s --help)",
                                      argv[i], watch ? "watch" : "lab"),
                              &err);
        }
    }
    return cli_report(sl_tui_run(&o, &err), &err);
}

int cmd_lab(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(lab_help, stdout);
        return 0;
    }
    return lab_main(argc, argv, 1, NULL);
}

int cmd_watch(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(lab_help, stdout);
        return 0;
    }
    sl_error err;
    if (argc < 2 || argv[1][0] == '-')
        return cli_report(sl_fail(&err, SL_EINPUT, "DIR: missing (usage: scalelab watch DIR)"), &err);
    return lab_main(argc, argv, 2, argv[1]);
}
