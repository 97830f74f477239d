/* settings: see settings.h. Each key is documented in docs/FORMATS.md
 * ("Lab settings"); a value this build does not know makes the file not ours
 * to rewrite, so a newer scalelab's settings survive an older one. */
#include "settings.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "screen.h"

static const char *const plot_names[] = {"braille", "blocks", "ascii"};
static const char *const x_names[CURVES_COUNT] = {"tokens", "compute", "steps"};
static const char *const metric_names[MET_COUNT] = {"test-loss", "train-loss", "lr", "grad-norm",
                                                    "noise-scale", "bpb"};
static const char *const axis_names[AXIS_COUNT] = {"N", "D", "C"};

void Settings_path(char *out, size_t n) { sl_user_dir(out, n, "lab.json"); }

static int index_of(const char *const *names, int count, const char *s)
{
    for (int i = 0; i < count; i++)
        if (!strcmp(names[i], s))
            return i;
    return -1;
}

/* A string key that must be one of names: its index, -1 absent, -2 bad. */
static int pick(const cJSON *root, const char *key, const char *const *names, int count,
                const char *path, char *note, size_t n)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!it)
        return -1;
    int i = cJSON_IsString(it) ? index_of(names, count, it->valuestring) : -1;
    if (i < 0) {
        char list[256] = "";
        for (int k = 0; k < count; k++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", k ? ", " : "", names[k]);
        snprintf(note, n, "%s:%s: %s (expected one of %s)", path, key,
                 cJSON_IsString(it) ? it->valuestring : "not a string", list);
        return -2;
    }
    return i;
}

void Settings_load(Settings *s, Lab *lab, char *note, size_t n)
{
    memset(s, 0, sizeof *s);
    s->focus = -1;
    note[0] = 0;
    Settings_path(s->path, sizeof s->path);
    s->writable = s->path[0] != 0;
    char *text = NULL;
    size_t len;
    if (!s->path[0] || sl_read_file(s->path, &text, &len, NULL) != SL_OK)
        return; /* none yet: the first change writes it */
    s->writable = 0;
    cJSON *root = cJSON_Parse(text);
    if (!root || !cJSON_IsObject(root)) {
        snprintf(note, n, "%s: not a JSON object (expected lab settings; left as it is)", s->path);
        cJSON_Delete(root);
        free(text);
        return;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 1 ||
        v->valuedouble > SETTINGS_VERSION) {
        snprintf(note, n, "%s:version: %s (expected 1..%d; a newer scalelab's file is left as it is)",
                 s->path, cJSON_IsNumber(v) ? "unsupported" : "missing", SETTINGS_VERSION);
        cJSON_Delete(root);
        free(text);
        return;
    }
    static const char *const known[] = {"version", "theme", "plot", "curves_x", "metric", "smoothing",
                                        "law_axis", "sort", "sort_descending", "focus"};
    for (const cJSON *it = root->child; it; it = it->next)
        if (index_of(known, (int)(sizeof known / sizeof known[0]), it->string) < 0) {
            snprintf(note, n, "%s:%s: unknown key (left as it is)", s->path, it->string);
            cJSON_Delete(root);
            free(text);
            return;
        }
    const char *sort_names[32];
    int n_cols = RunsPanel_columns();
    for (int c = 0; c < n_cols && c < 32; c++)
        sort_names[c] = RunsPanel_columnName(c);
    const char *focus_names[P_COUNT];
    for (int i = 0; i < P_COUNT; i++)
        focus_names[i] = Screen_classes[i]->name;
    int plot = pick(root, "plot", plot_names, 3, s->path, note, n);
    int cx = pick(root, "curves_x", x_names, CURVES_COUNT, s->path, note, n);
    int met = pick(root, "metric", metric_names, MET_COUNT, s->path, note, n);
    int ax = pick(root, "law_axis", axis_names, AXIS_COUNT, s->path, note, n);
    int sort = pick(root, "sort", sort_names, n_cols, s->path, note, n);
    int foc = pick(root, "focus", focus_names, P_COUNT, s->path, note, n);
    const cJSON *th = cJSON_GetObjectItemCaseSensitive(root, "theme");
    const cJSON *sm = cJSON_GetObjectItemCaseSensitive(root, "smoothing");
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(root, "sort_descending");
    int smooth = -1;
    if (sm) {
        for (int k = 0; k < CURVES_SMOOTHINGS; k++)
            if (cJSON_IsNumber(sm) && fabs(sm->valuedouble - Curves_smoothing[k]) < 1e-9)
                smooth = k;
        if (smooth < 0)
            snprintf(note, n, "%s:smoothing: not one of the weights (expected 0, 0.6, 0.8, 0.9, 0.95 or 0.99)",
                     s->path);
    }
    if (th && (!cJSON_IsString(th) || strlen(th->valuestring) >= sizeof s->theme))
        snprintf(note, n, "%s:theme: expected a theme name", s->path);
    if (desc && !cJSON_IsBool(desc))
        snprintf(note, n, "%s:sort_descending: expected true or false", s->path);
    if (!note[0]) {
        /* all good: apply, and this file is ours to rewrite */
        if (plot >= 0)
            lab->plot_mode = (PlotMode)plot;
        if (cx >= 0)
            lab->curves_x = (CurvesX)cx;
        if (met >= 0)
            lab->metric = (Metric)met;
        if (ax >= 0)
            lab->axis = (Axis)ax;
        if (sort >= 0)
            lab->sort_col = sort;
        if (desc)
            lab->sort_desc = cJSON_IsTrue(desc);
        if (smooth >= 0)
            lab->smooth = smooth;
        if (th)
            snprintf(s->theme, sizeof s->theme, "%s", th->valuestring);
        s->focus = foc >= 0 ? foc : -1;
        s->writable = 1;
        s->written = text;
        text = NULL;
    }
    cJSON_Delete(root);
    free(text);
}

static char *settings_text(const Lab *lab, int focus)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "version", SETTINGS_VERSION);
    cJSON_AddStringToObject(o, "theme", lab->theme.name);
    cJSON_AddStringToObject(o, "plot", plot_names[lab->plot_mode]);
    cJSON_AddStringToObject(o, "curves_x", x_names[lab->curves_x]);
    cJSON_AddStringToObject(o, "metric", metric_names[lab->metric]);
    cJSON_AddNumberToObject(o, "smoothing", Curves_smoothing[lab->smooth]);
    cJSON_AddStringToObject(o, "law_axis", axis_names[lab->axis]);
    cJSON_AddStringToObject(o, "sort", RunsPanel_columnName(lab->sort_col));
    cJSON_AddBoolToObject(o, "sort_descending", lab->sort_desc);
    cJSON_AddStringToObject(o, "focus", Screen_classes[focus]->name);
    char *t = cJSON_Print(o);
    cJSON_Delete(o);
    size_t n = strlen(t);
    char *out = sl_xmalloc(n + 2);
    memcpy(out, t, n);
    out[n] = '\n';
    out[n + 1] = 0;
    free(t);
    return out;
}

int Settings_save(Settings *s, const Lab *lab, int focus, sl_error *err)
{
    if (!s->writable || !s->path[0])
        return 0;
    char *t = settings_text(lab, focus);
    if (s->written && !strcmp(t, s->written)) {
        free(t);
        return 0;
    }
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", s->path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    int rc = sl_mkdirs(dir, err);
    if (rc == SL_OK)
        rc = sl_write_atomic(s->path, t, strlen(t), err);
    if (rc != SL_OK) {
        free(t);
        s->writable = 0; /* say it once, not on every key */
        return -1;
    }
    free(s->written);
    s->written = t;
    return 0;
}

void Settings_free(Settings *s)
{
    free(s->written);
    s->written = NULL;
}
