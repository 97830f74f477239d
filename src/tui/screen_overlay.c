/* screen_overlay: the lab's overlays, drawn over the panels and taking every
 * key while open: the help (drawn from the key table), the preset picker, the
 * export prompt, the quit and cancel questions, a run's text sample and the
 * preset editor's window. See screen_int.h for the state they share. */
#include "screen_int.h"

#include "scalelab/util.h"

#include <stdio.h>
#include <string.h>

static WINDOW *overlay_win(Screen *s, int h, int w)
{
    if (h > LINES - 2)
        h = LINES - 2;
    if (w > COLS - 2)
        w = COLS - 2;
    if (s->ovwin)
        delwin(s->ovwin);
    s->ovwin = newwin(h, w, (LINES - h) / 2, (COLS - w) / 2);
    CRT_background(s->ovwin);
    werase(s->ovwin);
    return s->ovwin;
}

/* The help: the key table by scope, a heading before each scope's keys. */
static int help_lines(int *scope_of, int *entry_of, int max)
{
    int n = 0;
    static const int scopes[] = {KEYS_ANYWHERE, P_CURVES, P_LAW, P_FITS, P_RUNS, P_SELECT, P_GAUGE, KEYS_EDITOR};
    for (size_t k = 0; k < sizeof scopes / sizeof scopes[0]; k++) {
        int first = 1;
        for (int i = 0; Screen_keys[i].label && n + 2 < max; i++) {
            if (Screen_keys[i].scope != scopes[k])
                continue;
            if (first) {
                scope_of[n] = scopes[k];
                entry_of[n++] = -1;
                first = 0;
            }
            scope_of[n] = scopes[k];
            entry_of[n++] = i;
        }
    }
    return n;
}

static void draw_help(Screen *s)
{
    int scope_of[128], entry_of[128];
    int n = help_lines(scope_of, entry_of, 128);
    WINDOW *w = overlay_win(s, n + 4, 100);
    CRT_box(w, COL_FOCUS, "Keys (Up/Down scroll, any other key closes)");
    int rows = getmaxy(w) - 3, iw = getmaxx(w) - 4;
    if (s->help_scroll > n - rows)
        s->help_scroll = n - rows;
    if (s->help_scroll < 0)
        s->help_scroll = 0;
    for (int r = 0; r < rows && s->help_scroll + r < n; r++) {
        int i = s->help_scroll + r, y = 2 + r;
        if (entry_of[i] < 0) {
            CRT_color(w, COL_HEADER);
            CRT_text(w, y, 2, iw, Screen_scopeName(scope_of[i]));
            continue;
        }
        const KeyAction *k = &Screen_keys[entry_of[i]];
        CRT_color(w, COL_TITLE);
        CRT_text(w, y, 3, 18, k->label);
        CRT_color(w, COL_TEXT);
        CRT_text(w, y, 22, iw - 20, k->what);
    }
    Lab_scrollCue(w, s->help_scroll, rows, n);
}

/* One preset file of the search path (sl_search_list): listed under its name. */
static int add_preset(void *user, const char *path, const char *file)
{
    (void)file;
    Screen *s = user;
    int i = s->n_presets;
    if (snprintf(s->pr_path[i], sizeof s->pr_path[i], "%s", path) >= (int)sizeof s->pr_path[i])
        return 0;
    sl_preset p;
    sl_error err;
    memset(&p, 0, sizeof p);
    if (sl_preset_load(&p, s->pr_path[i], &err) != SL_OK)
        return 0;
    int dup = 0;
    for (int k = 0; k < i; k++)
        dup |= !strcmp(s->pr_name[k], p.name);
    if (!dup) {
        snprintf(s->pr_name[i], sizeof s->pr_name[i], "%s", p.name);
        snprintf(s->pr_desc[i], sizeof s->pr_desc[i], "%s", p.description);
        s->n_presets++;
    }
    sl_preset_free(&p);
    return s->n_presets >= MAX_PRESETS;
}

/* The presets of the one search path that --preset uses (util.h). */
void Screen_scanPresets(Screen *s)
{
    s->n_presets = 0;
    sl_search_list("presets", add_preset, s);
    /* sorted by name */
    for (int i = 1; i < s->n_presets; i++)
        for (int k = i; k > 0 && strcmp(s->pr_name[k - 1], s->pr_name[k]) > 0; k--) {
            char t[1024];
            memcpy(t, s->pr_path[k], sizeof t);
            memcpy(s->pr_path[k], s->pr_path[k - 1], sizeof t);
            memcpy(s->pr_path[k - 1], t, sizeof t);
            char n[64];
            memcpy(n, s->pr_name[k], sizeof n);
            memcpy(s->pr_name[k], s->pr_name[k - 1], sizeof n);
            memcpy(s->pr_name[k - 1], n, sizeof n);
            char d[256];
            memcpy(d, s->pr_desc[k], sizeof d);
            memcpy(s->pr_desc[k], s->pr_desc[k - 1], sizeof d);
            memcpy(s->pr_desc[k - 1], d, sizeof d);
        }
}

static void draw_picker(Screen *s)
{
    WINDOW *w = overlay_win(s, s->n_presets + 5, COLS - 8);
    CRT_box(w, COL_FOCUS, "Presets: Enter opens one (the current sweep checkpoints), Esc closes");
    int iw = getmaxx(w) - 4;
    if (s->n_presets == 0) {
        CRT_color(w, COL_WARN);
        CRT_text(w, 2, 2, iw, "no presets found in presets/ or $SCALELAB_PRESETS");
    }
    /* the list scrolls to keep the pick in view */
    int rows = getmaxy(w) - 3, first = s->pick - rows + 1 > 0 ? s->pick - rows + 1 : 0;
    for (int i = first; i < s->n_presets && i - first < rows; i++) {
        int on = i == s->pick, y = 2 + i - first;
        CRT_color(w, on ? COL_SELECTION : COL_TITLE);
        if (on)
            mvwhline(w, y, 1, ' ', getmaxx(w) - 2);
        CRT_text(w, y, 2, 14, s->pr_name[i]);
        if (!on)
            CRT_color(w, COL_TEXT);
        CRT_text(w, y, 17, iw - 15, s->pr_desc[i]);
    }
    Lab_scrollCue(w, first, rows, s->n_presets);
}

static void draw_export(Screen *s)
{
    WINDOW *w = overlay_win(s, 7, 70);
    CRT_box(w, COL_FOCUS, "Export fits.csv, runs.csv, curves.csv");
    CRT_color(w, COL_TEXT);
    CRT_text(w, 2, 2, 66, "Into folder (Enter writes, Esc cancels):");
    CRT_color(w, COL_SELECTION);
    mvwhline(w, 3, 2, ' ', getmaxx(w) - 4);
    CRT_text(w, 3, 2, getmaxx(w) - 4, s->export_dir);
}

static void draw_quit(Screen *s)
{
    WINDOW *w = overlay_win(s, 7, 66);
    CRT_box(w, COL_WARN, "Quit?");
    CRT_color(w, COL_TEXT);
    CRT_text(w, 2, 2, 62, "Runs are training. They checkpoint and stop;");
    char buf[160];
    snprintf(buf, sizeof buf, "`scalelab resume %.100s` continues them.", s->lab.snap.dir);
    CRT_text(w, 3, 2, 62, buf);
    CRT_color(w, COL_TITLE);
    CRT_text(w, 5, 2, 62, "Quit now? [y/n]");
}

static void draw_cancel(Screen *s)
{
    WINDOW *w = overlay_win(s, 7, 70);
    CRT_box(w, COL_WARN, "Cancel?");
    CRT_color(w, COL_TEXT);
    char buf[160];
    snprintf(buf, sizeof buf, "Cancel run %s?", s->cancel_id);
    CRT_text(w, 2, 2, 66, buf);
    CRT_text(w, 3, 2, 66, "It checkpoints and stops; R queues it again.");
    CRT_color(w, COL_TITLE);
    CRT_text(w, 5, 2, 66, "Cancel it? [y/n]");
}

/* A sample's text for the screen: control bytes as spaces, and on an ASCII
 * terminal (or in a broken UTF-8 sequence) other bytes as '?'. */
static void clean_text(const char *in, char *out, size_t n)
{
    size_t k = 0;
    for (const unsigned char *c = (const unsigned char *)in; *c && k + 5 < n; c++) {
        if (*c == '\n' || (*c >= 32 && *c < 127)) {
            out[k++] = (char)*c;
        } else if (*c < 32 || *c == 127) {
            out[k++] = ' ';
        } else if (CRT_utf8) {
            int len = (*c & 0xE0) == 0xC0 ? 2 : (*c & 0xF0) == 0xE0 ? 3 : (*c & 0xF8) == 0xF0 ? 4 : 0, ok = len > 0;
            for (int i = 1; ok && i < len; i++)
                ok = (c[i] & 0xC0) == 0x80;
            if (ok) {
                memcpy(out + k, c, (size_t)len);
                k += (size_t)len;
                c += len - 1;
            } else
                out[k++] = '?';
        } else {
            out[k++] = '?';
        }
    }
    out[k] = 0;
}

static void draw_sample(Screen *s)
{
    WINDOW *w = overlay_win(s, LINES - 4, COLS - 8 < 100 ? COLS - 8 : 100);
    const SampleJob *j = s->sample;
    char title[160];
    int done = SampleJob_done(j);
    if (done && SampleJob_text(j))
        snprintf(title, sizeof title, "Sample of %s: step %ld, %s, temperature %.1f, seed %d (any key closes)",
                 SampleJob_id(j), SampleJob_step(j), SampleJob_tokenizer(j), SAMPLE_TEMPERATURE, SAMPLE_SEED);
    else
        snprintf(title, sizeof title, "Sample of %s", SampleJob_id(j));
    CRT_box(w, COL_FOCUS, title);
    int iw = getmaxx(w) - 4, ih = getmaxy(w) - 3;
    if (!done) {
        CRT_color(w, COL_DIM);
        CRT_text(w, 2, 2, iw, "sampling (loading the model and its tokenizer) ...");
        return;
    }
    if (!SampleJob_text(j)) {
        CRT_color(w, COL_BAD);
        CRT_text(w, 2, 2, iw, SampleJob_error(j));
        return;
    }
    static char clean[4 * SAMPLE_TOKENS * 8 + 16];
    clean_text(SampleJob_text(j), clean, sizeof clean);
    CRT_color(w, COL_TEXT);
    /* wrapped at the overlay's width, counted in characters */
    int y = 2;
    const char *c = clean;
    while (*c && y < 2 + ih) {
        const char *start = c;
        int cols = 0;
        while (*c && *c != '\n' && cols < iw) {
            c++;
            while ((*c & 0xC0) == 0x80)
                c++;
            cols++;
        }
        mvwaddnstr(w, y++, 2, start, (int)(c - start));
        if (*c == '\n')
            c++;
    }
}

void Screen_drawOverlay(Screen *s)
{
    switch (s->ov) {
    case OV_HELP: draw_help(s); break;
    case OV_PICKER: draw_picker(s); break;
    case OV_EXPORT: draw_export(s); break;
    case OV_QUIT: draw_quit(s); break;
    case OV_CANCEL: draw_cancel(s); break;
    case OV_SAMPLE: draw_sample(s); break;
    case OV_EDITOR: Editor_draw(s->editor, overlay_win(s, LINES - 2, COLS - 2)); break;
    default: return;
    }
    wnoutrefresh(s->ovwin);
}

void Screen_closeOverlay(Screen *s)
{
    s->ov = OV_NONE;
    if (s->ovwin) {
        delwin(s->ovwin);
        s->ovwin = NULL;
    }
    s->all_dirty = 1;
}

void Screen_overlayKey(Screen *s, int ch)
{
    Lab *lab = &s->lab;
    switch (s->ov) {
    case OV_HELP:
        if (ch == KEY_UP || ch == 'k')
            s->help_scroll--;
        else if (ch == KEY_DOWN || ch == 'j')
            s->help_scroll++;
        else if (ch == KEY_PPAGE)
            s->help_scroll -= 10;
        else if (ch == KEY_NPAGE)
            s->help_scroll += 10;
        else
            Screen_closeOverlay(s);
        break;
    case OV_QUIT:
        if (ch == 'y' || ch == 'Y' || ch == 'q')
            s->quit = 1;
        Screen_closeOverlay(s);
        break;
    case OV_SAMPLE:
        Screen_closeOverlay(s);
        break;
    case OV_EDITOR:
        if (Editor_key(s->editor, lab, ch)) {
            Editor_free(s->editor);
            s->editor = NULL;
            Screen_closeOverlay(s);
        }
        break;
    case OV_CANCEL:
        if (ch == 'y' || ch == 'Y')
            RunsPanel_act(lab, s->cancel_id, 'X');
        else
            Lab_message(lab, "%s: not cancelled", s->cancel_id);
        Screen_closeOverlay(s);
        break;
    case OV_PICKER:
        if (ch == KEY_UP || ch == 'k')
            s->pick = s->pick > 0 ? s->pick - 1 : 0;
        else if (ch == KEY_DOWN || ch == 'j')
            s->pick = s->pick + 1 < s->n_presets ? s->pick + 1 : s->pick;
        else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
            Screen_closeOverlay(s);
            if (s->n_presets > 0 && Screen_switchPreset(s, s->pr_path[s->pick]) != SL_OK)
                s->quit = 1;
        } else if (ch == 27 || ch == 'q' || ch == 'p')
            Screen_closeOverlay(s);
        break;
    case OV_EXPORT: {
        size_t l = strlen(s->export_dir);
        if (ch == 27) {
            Screen_closeOverlay(s);
        } else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
            sl_error err;
            Screen_closeOverlay(s);
            if (Export_write(lab, s->export_dir, &err) == SL_OK)
                Lab_message(lab, "exported fits.csv, runs.csv, curves.csv to %s", s->export_dir);
            else
                Lab_message(lab, "export failed: %s", err.msg);
        } else if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && l > 0) {
            s->export_dir[l - 1] = 0;
        } else if (ch >= 32 && ch < 127 && l + 1 < sizeof s->export_dir) {
            s->export_dir[l] = (char)ch;
            s->export_dir[l + 1] = 0;
        }
        break;
    }
    default: break;
    }
}
