/* theme: see theme.h; every key is documented in docs/THEMES.md. */
#include "theme.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scalelab/preset.h"
#include "scalelab/tui.h"


static const char *const color_names[COL_COUNT] = {
    "background", "text",    "dim",     "title",   "border",  "focus",  "axis",
    "grid",       "series1", "series2", "series3", "series4", "series5", "series6",
    "series7",    "series8", "fit",     "band",    "good",    "warn",   "bad",
    "selection",  "header",
};

const char *Theme_colorName(ColorId id) { return (unsigned)id < COL_COUNT ? color_names[id] : "?"; }

/* Colours a theme leaves out: the terminal's own for text-like ids, the classic
 * eight for series, so that a two-key theme is still readable. */
static const int fallback_rgb[COL_COUNT] = {
    -1,       -1,       0x808080, -1,       0x808080, 0x00afff, 0x808080, 0x4e4e4e,
    0x5fafff, 0xffaf00, 0x5fd75f, 0xff5f87, 0xaf87ff, 0x00d7d7, 0xd7d75f, 0xd78700,
    0xffffff, 0x585858, 0x5fd75f, 0xffaf00, 0xff5f5f, 0x005f87, -1,
};

void Theme_builtin(Theme *t)
{
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "builtin");
    snprintf(t->description, sizeof t->description, "terminal colours (no theme file found)");
    memcpy(t->rgb, fallback_rgb, sizeof t->rgb);
}

static int parse_hex(const char *s, int *out)
{
    if (!strcmp(s, "default")) {
        *out = -1;
        return 0;
    }
    if (s[0] != '#' || strlen(s) != 7)
        return -1;
    int v = 0;
    for (int i = 1; i < 7; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    *out = v;
    return 0;
}

/* "did you mean" among a list of keys, as presets do. */
static const char *nearest(const char *key, const char *const *keys, int n)
{
    int best = 99;
    const char *near = NULL;
    for (int i = 0; i < n; i++) {
        int d = sl_edit_distance(key, keys[i]);
        if (d < best) {
            best = d;
            near = keys[i];
        }
    }
    return best <= ((int)strlen(key) < 5 ? 1 : 2) ? near : NULL;
}

static int parse_colors(Theme *t, const cJSON *colors, const char *path, sl_error *err)
{
    for (const cJSON *it = colors->child; it; it = it->next) {
        int id = -1;
        for (int i = 0; i < COL_COUNT; i++)
            if (!strcmp(it->string, color_names[i]))
                id = i;
        if (id < 0) {
            const char *near = nearest(it->string, color_names, COL_COUNT);
            if (near)
                return sl_fail(err, SL_EINPUT,
                               "%s:colors.%s: unknown colour name (did you mean '%s'? see docs/THEMES.md)",
                               path, it->string, near);
            return sl_fail(err, SL_EINPUT,
                           "%s:colors.%s: unknown colour name (expected background, text, dim, title, "
                           "border, focus, axis, grid, series1..series8, fit, band, good, warn, bad, "
                           "selection, header)",
                           path, it->string);
        }
        if (!cJSON_IsString(it) || parse_hex(it->valuestring, &t->rgb[id]) != 0)
            return sl_fail(err, SL_EINPUT,
                           "%s:colors.%s: '%s' is not a colour (expected \"#rrggbb\" or \"default\")",
                           path, it->string, cJSON_IsString(it) ? it->valuestring : "(not a string)");
    }
    return SL_OK;
}

int Theme_load(Theme *t, const char *path, sl_error *err)
{
    Theme_builtin(t);
    snprintf(t->path, sizeof t->path, "%s", path);
    char *text = NULL;
    size_t len = 0;
    int rc = sl_read_file(path, &text, &len, err);
    if (rc != SL_OK)
        return sl_fail(err, SL_EINPUT, "%s: cannot read the theme (expected a JSON file, see docs/THEMES.md)", path);
    const char *where = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &where, 0);
    if (!root || !cJSON_IsObject(root)) {
        size_t off = where && root == NULL ? (size_t)(where - text) : 0;
        int line = 1;
        for (size_t i = 0; i < off && i < len; i++)
            line += text[i] == '\n';
        free(text);
        cJSON_Delete(root);
        return sl_fail(err, SL_EINPUT, "%s:%d: invalid JSON (expected an object with \"name\" and \"colors\")",
                       path, line);
    }
    free(text);
    static const char *const top[] = {"name", "description", "monochrome", "colors"};
    rc = SL_OK;
    for (const cJSON *it = root->child; it && rc == SL_OK; it = it->next) {
        int known = 0;
        for (int i = 0; i < 4; i++)
            known |= !strcmp(it->string, top[i]);
        if (!known) {
            const char *near = nearest(it->string, top, 4);
            rc = sl_fail(err, SL_EINPUT, "%s:%s: unknown key (%s%s%sexpected name, description, monochrome, colors)",
                         path, it->string, near ? "did you mean '" : "", near ? near : "", near ? "'? " : "");
        }
    }
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(root, "name");
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(root, "description");
    const cJSON *mono = cJSON_GetObjectItemCaseSensitive(root, "monochrome");
    const cJSON *colors = cJSON_GetObjectItemCaseSensitive(root, "colors");
    if (rc == SL_OK && name && !cJSON_IsString(name))
        rc = sl_fail(err, SL_EINPUT, "%s:name: not a string (expected the theme's name)", path);
    if (rc == SL_OK && desc && !cJSON_IsString(desc))
        rc = sl_fail(err, SL_EINPUT, "%s:description: not a string (expected one line)", path);
    if (rc == SL_OK && mono && !cJSON_IsBool(mono))
        rc = sl_fail(err, SL_EINPUT, "%s:monochrome: not a boolean (expected true or false)", path);
    if (rc == SL_OK && (!colors || !cJSON_IsObject(colors)))
        rc = sl_fail(err, SL_EINPUT, "%s:colors: %s (expected an object of colour names)", path,
                     colors ? "not an object" : "missing");
    if (rc == SL_OK)
        rc = parse_colors(t, colors, path, err);
    if (rc == SL_OK) {
        if (name)
            snprintf(t->name, sizeof t->name, "%s", name->valuestring);
        else {
            const char *base = strrchr(path, '/');
            snprintf(t->name, sizeof t->name, "%s", base ? base + 1 : path);
            char *dot = strrchr(t->name, '.');
            if (dot)
                *dot = 0;
        }
        snprintf(t->description, sizeof t->description, "%s", desc ? desc->valuestring : "");
        t->monochrome = mono && cJSON_IsTrue(mono);
    }
    cJSON_Delete(root);
    return rc;
}

int Theme_find(const char *name, char *out, size_t len, sl_error *err)
{
    if (sl_search_find("themes", name, out, len))
        return SL_OK;
    return sl_fail(err, SL_EINPUT,
                   "--theme: %s: no such theme (expected a file or a name in themes/: dark, light, "
                   "high-contrast, monochrome)",
                   name);
}

static int cmp_name(const void *a, const void *b) { return strcmp(a, b); }

typedef struct {
    char (*names)[64];
    int n, max;
} theme_names;

static int add_name(void *user, const char *path, const char *name)
{
    (void)path;
    theme_names *t = user;
    if (strlen(name) < 64)
        snprintf(t->names[t->n++], 64, "%s", name);
    return t->n >= t->max;
}

int Theme_list(char names[][64], int max)
{
    theme_names t = {names, 0, max};
    if (max > 0)
        sl_search_list("themes", add_name, &t);
    qsort(names, (size_t)t.n, 64, cmp_name);
    return t.n;
}

int sl_tui_theme_describe(const char *path, char *desc, size_t len, sl_error *err)
{
    Theme t;
    int rc = Theme_load(&t, path, err);
    if (rc == SL_OK && len)
        snprintf(desc, len, "%s", t.description);
    return rc;
}
