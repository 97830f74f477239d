/* settings: the lab's choices that outlive a session (theme, plot dots, the
 * curves' x axis, metric and smoothing, the law plot's axis, the runs table's
 * order, the focused panel) in $XDG_CONFIG_HOME/scalelab/lab.json (else
 * ~/.config/scalelab/lab.json; docs/FORMATS.md), with a format version,
 * replaced atomically. UI thread only. */
#ifndef SL_TUI_SETTINGS_H
#define SL_TUI_SETTINGS_H

#include <stddef.h>

#include "lab.h"

#define SETTINGS_VERSION 1

typedef struct {
    char path[1024];
    char theme[64];  /* "" = not set */
    int focus;       /* a panel, -1 = not set */
    int writable;    /* 0: the file could not be read as ours; it is left alone */
    char *written;   /* the text last read or written (saves only on change) */
} Settings;

/* The settings file's path (empty when neither variable is set). */
void Settings_path(char *out, size_t n);

/* Reads the file into lab (what it sets) and s. A missing file is no error; a
 * bad one is reported in *note (one line, FILE:KEY: ...) and then neither
 * applied in part nor overwritten. */
void Settings_load(Settings *s, Lab *lab, char *note, size_t n);

/* Writes the current choices if they changed since the last read or write.
 * Returns 0, or -1 with err set (a failed write leaves the old file). */
int Settings_save(Settings *s, const Lab *lab, int focus, sl_error *err);

void Settings_free(Settings *s);

#endif
