/* Fuzzes the theme reader: any file either loads into colours that are -1 or
 * 0xRRGGBB, or fails with one line naming the file. */
#include "fuzz.h"
#include "../src/tui/theme.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[512];
    fz_path(path, sizeof path, "fuzz.json");
    fz_write(path, data, size);
    Theme t;
    sl_error err = {{0}};
    int rc = Theme_load(&t, path, &err);
    fz_check_message(rc, &err);
    if (rc == SL_OK)
        for (int i = 0; i < COL_COUNT; i++)
            FZ_CHECK(t.rgb[i] >= -1 && t.rgb[i] <= 0xffffff, "%s: %d", Theme_colorName(i), t.rgb[i]);
    return 0;
}
