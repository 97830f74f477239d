/* panel_editor: see panel_editor.h. The preset is held as the JSON tree of
 * its resolved text (every default written out), so an edit is a change of
 * one node and its check is sl_preset_parse of the whole tree printed. */
#include "panel_editor.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LEAVES 128

typedef enum { ED_BROWSE, ED_VALUE, ED_NAME } EdMode;

struct Editor {
    cJSON *root;
    char path[1024]; /* the preset's file, for messages as loading gives them */
    char name[64];
    int n;
    char key[MAX_LEAVES][96];
    cJSON *node[MAX_LEAVES];
    int changed[MAX_LEAVES];
    int sel, scroll;
    EdMode mode;
    char buf[512];
    char msg[2600];
    int msg_bad;
};

void Editor_presetsDir(char *out, size_t n)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    if (xdg && xdg[0] == '/')
        snprintf(out, n, "%.900s/scalelab/presets", xdg);
    else if (home && home[0])
        snprintf(out, n, "%.900s/.config/scalelab/presets", home);
    else if (n)
        out[0] = 0;
}

/* Every leaf (arrays are leaves) as a dotted path, in the file's order. */
static void collect(Editor *e, cJSON *o, const char *prefix)
{
    for (cJSON *it = o->child; it && e->n < MAX_LEAVES; it = it->next) {
        char k[96];
        snprintf(k, sizeof k, "%s%s%s", prefix, prefix[0] ? "." : "", it->string);
        if (cJSON_IsObject(it)) {
            collect(e, it, k);
            continue;
        }
        snprintf(e->key[e->n], sizeof e->key[e->n], "%s", k);
        e->node[e->n++] = it;
    }
}

Editor *Editor_open(const sl_preset *p, sl_error *err)
{
    if (!p)
        return sl_fail(err, SL_EINPUT, "no preset in force"), NULL;
    char *text = sl_preset_resolved_json(p);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!root)
        return sl_fail(err, SL_ERUNTIME, "%s: cannot read the resolved preset", p->path), NULL;
    Editor *e = sl_xcalloc(1, sizeof *e);
    e->root = root;
    snprintf(e->path, sizeof e->path, "%s", p->path);
    snprintf(e->name, sizeof e->name, "%s", p->name);
    collect(e, root, "");
    snprintf(e->msg, sizeof e->msg, "Enter edits a value, s saves as a new preset, Esc closes");
    return e;
}

void Editor_free(Editor *e)
{
    if (!e)
        return;
    cJSON_Delete(e->root);
    free(e);
}

/* The documentation of a key, or of the object it belongs to. */
static const sl_preset_doc *doc_of(const char *key)
{
    char k[96];
    snprintf(k, sizeof k, "%s", key);
    for (;;) {
        const sl_preset_doc *d = sl_preset_doc_find(k);
        if (d)
            return d;
        char *dot = strrchr(k, '.');
        if (!dot)
            return NULL;
        *dot = 0;
    }
}

static void value_text(const cJSON *v, char *out, size_t n)
{
    char *t = cJSON_PrintUnformatted(v);
    snprintf(out, n, "%s", t ? t : "?");
    free(t);
}

/* Checks the tree as loading a preset file does; 0 when it passes. */
static int check(Editor *e, sl_error *err)
{
    char *text = cJSON_Print(e->root);
    sl_preset p;
    memset(&p, 0, sizeof p);
    int rc = sl_preset_parse(&p, text, e->path, err);
    sl_preset_free(&p);
    free(text);
    return rc;
}

static void set_msg(Editor *e, int bad, const char *fmt, const char *a, const char *b)
{
    snprintf(e->msg, sizeof e->msg, fmt, a, b ? b : "");
    e->msg_bad = bad;
}

/* Puts the edited value in place; keeps it only if the preset still loads. */
static void commit_value(Editor *e)
{
    int i = e->sel;
    cJSON *v = cJSON_Parse(e->buf);
    if (!v && e->buf[0] && cJSON_IsString(e->node[i]))
        v = cJSON_CreateString(e->buf); /* a bare word for a string key */
    if (!v) {
        set_msg(e, 1, "%s: '%s' is not a JSON value (expected a number, \"text\", true/false or [list])",
                e->key[i], e->buf);
        return;
    }
    cJSON *parent = e->root;
    /* the parent object of the leaf, and the leaf's own name */
    char k[96];
    snprintf(k, sizeof k, "%s", e->key[i]);
    char *leaf = k;
    for (char *dot; (dot = strchr(leaf, '.'));) {
        *dot = 0;
        parent = cJSON_GetObjectItemCaseSensitive(parent, leaf);
        leaf = dot + 1;
    }
    cJSON *keep = cJSON_Duplicate(e->node[i], 1);
    cJSON_ReplaceItemInObjectCaseSensitive(parent, leaf, v);
    e->node[i] = v;
    sl_error err;
    if (check(e, &err) != SL_OK) {
        cJSON_ReplaceItemInObjectCaseSensitive(parent, leaf, keep);
        e->node[i] = keep;
        set_msg(e, 1, "%s%s", err.msg, " (not applied)");
        return;
    }
    cJSON_Delete(keep);
    e->changed[i] = 1;
    set_msg(e, 0, "%s: valid, as loading the preset checks it%s", e->key[i],
            "; s saves the edited preset as a new one");
}

static int good_name(const char *s)
{
    if (!s[0] || strlen(s) > 60 || s[0] == '.')
        return 0;
    for (const char *c = s; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
            return 0;
    return 1;
}

static void save_as(Editor *e, Lab *lab)
{
    char dir[1024], path[1200];
    Editor_presetsDir(dir, sizeof dir);
    if (!good_name(e->buf)) {
        set_msg(e, 1, "%s: not a preset name (expected letters, digits, '-', '_' or '.')%s", e->buf, NULL);
        return;
    }
    if (!dir[0]) {
        set_msg(e, 1, "no presets folder (neither XDG_CONFIG_HOME nor HOME is set)%s%s", "", NULL);
        return;
    }
    cJSON *name = cJSON_GetObjectItemCaseSensitive(e->root, "name");
    char old[64];
    snprintf(old, sizeof old, "%s", cJSON_IsString(name) ? name->valuestring : e->name);
    cJSON_ReplaceItemInObjectCaseSensitive(e->root, "name", cJSON_CreateString(e->buf));
    sl_error err;
    snprintf(path, sizeof path, "%s/%s.json", dir, e->buf);
    char *text = NULL;
    int rc = check(e, &err);
    if (rc == SL_OK)
        rc = sl_mkdirs(dir, &err);
    if (rc == SL_OK) {
        text = cJSON_Print(e->root);
        size_t n = strlen(text);
        char *t = sl_xmalloc(n + 2);
        memcpy(t, text, n);
        t[n] = '\n';
        rc = sl_write_atomic(path, t, n + 1, &err);
        free(t);
        free(text);
    }
    if (rc != SL_OK) {
        cJSON_ReplaceItemInObjectCaseSensitive(e->root, "name", cJSON_CreateString(old));
        set_msg(e, 1, "%s%s", err.msg, " (not saved)");
        return;
    }
    set_msg(e, 0, "saved %s (p opens it; scalelab --preset %s)", path, path);
    Lab_message(lab, "preset saved as %s", path);
}

void Editor_draw(Editor *e, WINDOW *w)
{
    char title[160];
    snprintf(title, sizeof title, "Preset %s: Enter edits, s saves as, Esc closes", e->name);
    CRT_box(w, COL_FOCUS, title);
    int iw = getmaxx(w) - 4, rows = getmaxy(w) - 7;
    if (rows < 1)
        return;
    if (e->sel < e->scroll)
        e->scroll = e->sel;
    if (e->sel >= e->scroll + rows)
        e->scroll = e->sel - rows + 1;
    CRT_color(w, COL_HEADER);
    char line[600];
    snprintf(line, sizeof line, "  %-30s %-18s %s", "key", "value", "type, default: meaning (range)");
    CRT_text(w, 1, 2, iw, line);
    for (int r = 0; r < rows && e->scroll + r < e->n; r++) {
        int i = e->scroll + r, on = i == e->sel;
        char v[256];
        value_text(e->node[i], v, sizeof v);
        const sl_preset_doc *d = doc_of(e->key[i]);
        CRT_color(w, on ? COL_SELECTION : e->changed[i] ? COL_WARN : COL_TEXT);
        if (on)
            mvwhline(w, 2 + r, 1, ' ', getmaxx(w) - 2);
        snprintf(line, sizeof line, "%s %-30.30s %-18.18s", on ? ">" : e->changed[i] ? "*" : " ", e->key[i], v);
        CRT_text(w, 2 + r, 2, iw, line);
        if (d) {
            if (!on)
                CRT_color(w, COL_DIM);
            snprintf(line, sizeof line, "%s, %s: %s", d->type, d->def, d->meaning);
            CRT_text(w, 2 + r, 54, iw - 52, line);
        }
    }
    Lab_scrollCue(w, e->scroll, rows, e->n);
    int y = getmaxy(w) - 4;
    const sl_preset_doc *d = e->n ? doc_of(e->key[e->sel]) : NULL;
    CRT_color(w, COL_TEXT);
    if (d) {
        snprintf(line, sizeof line, "%s (%s, default %s): %s", e->key[e->sel], d->type, d->def, d->meaning);
        CRT_text(w, y, 2, iw, line);
    }
    if (e->mode != ED_BROWSE) {
        CRT_color(w, COL_SELECTION);
        mvwhline(w, y + 1, 2, ' ', iw);
        snprintf(line, sizeof line, "%s = %s", e->mode == ED_NAME ? "save as (name)" : e->key[e->sel], e->buf);
        CRT_text(w, y + 1, 2, iw, line);
    }
    CRT_color(w, e->msg_bad ? COL_BAD : COL_DIM);
    CRT_text(w, y + 2, 2, iw, e->msg);
}

int Editor_key(Editor *e, Lab *lab, int ch)
{
    if (e->mode != ED_BROWSE) {
        size_t l = strlen(e->buf);
        if (ch == 27) {
            e->mode = ED_BROWSE;
            set_msg(e, 0, "%s%s", "edit cancelled", NULL);
        } else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
            if (e->mode == ED_VALUE)
                commit_value(e);
            else
                save_as(e, lab);
            e->mode = ED_BROWSE;
        } else if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && l > 0) {
            e->buf[l - 1] = 0;
        } else if (ch >= 32 && ch < 127 && l + 1 < sizeof e->buf) {
            e->buf[l] = (char)ch;
            e->buf[l + 1] = 0;
        }
        return 0;
    }
    switch (ch) {
    case KEY_UP: case 'k': if (e->sel > 0) e->sel--; break;
    case KEY_DOWN: case 'j': if (e->sel + 1 < e->n) e->sel++; break;
    case KEY_PPAGE: e->sel = e->sel > 10 ? e->sel - 10 : 0; break;
    case KEY_NPAGE: e->sel = e->sel + 10 < e->n ? e->sel + 10 : e->n - 1; break;
    case '\n': case '\r': case KEY_ENTER:
        if (e->n) {
            value_text(e->node[e->sel], e->buf, sizeof e->buf);
            /* a string edits as its bare text */
            if (cJSON_IsString(e->node[e->sel]))
                snprintf(e->buf, sizeof e->buf, "%s", e->node[e->sel]->valuestring);
            e->mode = ED_VALUE;
        }
        break;
    case 's':
        snprintf(e->buf, sizeof e->buf, "%s-edited", e->name);
        e->mode = ED_NAME;
        break;
    case 27: case 'q': case 'E':
        return 1;
    }
    return 0;
}
