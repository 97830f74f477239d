/* Fuzzes the points-table reader as `scalelab fit` meets it: the first input
 * byte chooses a law, the rest is the CSV (chinchilla from 4 starts); the
 * command must end with exit status 0, 1 or 2 (a message, never a crash). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

int sl_cli_main(int argc, char **argv);

static const char *const laws[] = {"power-n",   "offset-n",  "power-c", "kaplan-nd",
                                   "kaplan-ns", "approach1", "approach2", "cmin",
                                   "bcrit",     "offset-d",  "chinchilla", "chinchilla-ml"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char path[512];
    fz_path(path, sizeof path, "points.csv");
    fz_write(path, data + 1, size - 1);
    const char *law = laws[data[0] % (sizeof laws / sizeof laws[0])];
    char *argv[] = {"scalelab", "fit", path, "--law", (char *)law, "--bootstrap", "2",
                    "--starts", "4", NULL};
    optind = 0;
    int status = sl_cli_main(9, argv);
    FZ_CHECK(status >= 0 && status <= 2, "exit status %d", status);
    return 0;
}
