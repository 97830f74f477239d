/* Error messages stay one line whatever the input quotes into them: inputs the
 * fuzzers of tests/fuzz found (a key holding a line break) and the binary's
 * exit status for them. */
#include "scalelab/preset.h"
#include "sweeputil.h"
#include "../src/tui/theme.h"

TestSuite(messages, .init = tu_make_dir, .fini = tu_remove_dir);

Test(messages, a_preset_key_with_a_line_break_gives_one_line)
{
    char p[512];
    tu_path(p, sizeof p, "bad.json");
    const char text[] = "{\"name\": \"x\", \"fit\n\x1b[31m\": []}";
    tu_write(p, text, strlen(text));
    char runs[512];
    tu_path(runs, sizeof runs, "runs");
    const char *args[] = {"run", p, "--runs", runs, NULL};
    tu_assert_bad_input(":fit??[31m: unknown key", args);
}

Test(messages, a_theme_key_with_a_line_break_gives_one_line)
{
    char p[512];
    tu_path(p, sizeof p, "bad.json");
    const char text[] = "{\"nam\xff\n\": \"x\", \"colors\": {}}";
    tu_write(p, text, strlen(text));
    Theme t;
    sl_error err = {{0}};
    cr_assert_eq(Theme_load(&t, p, &err), SL_EINPUT);
    cr_assert_null(strchr(err.msg, '\n'), "not one line: %s", err.msg);
    cr_assert_not_null(strstr(err.msg, "unknown key"), "%s", err.msg);
}
