/* crt: see crt.h. */
#include "crt.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>

int CRT_utf8 = 0;
static int active = 0;
static SCREEN *screen = NULL;
static int use_color = 0;
static attr_t attrs[COL_COUNT];
static short pairs[COL_COUNT];

int CRT_init(FILE *out, int ascii)
{
    CRT_utf8 = !ascii;
    if (out) {
        screen = newterm(NULL, out, stdin);
        if (!screen)
            return -1;
        set_term(screen);
    } else if (!initscr()) {
        return -1;
    }
    active = 1;
    set_escdelay(25);
    cbreak();
    noecho();
    nonl();
    intrflush(stdscr, FALSE);
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    curs_set(0);
    mouseinterval(0);
    mousemask(BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
    if (has_colors()) {
        start_color();
        use_default_colors();
    }
    return 0;
}

void CRT_done(void)
{
    if (!active)
        return;
    active = 0;
    endwin();
    if (screen) {
        delscreen(screen);
        screen = NULL;
    }
}

int CRT_active(void) { return active; }

/* xterm's 256 palette: the 6x6x6 cube from 16, greys from 232 when r≈g≈b. */
static int to_256(int rgb)
{
    int r = (rgb >> 16) & 255, g = (rgb >> 8) & 255, b = rgb & 255;
    int mx = r > g ? (r > b ? r : b) : (g > b ? g : b);
    int mn = r < g ? (r < b ? r : b) : (g < b ? g : b);
    if (mx - mn < 12) {
        int avg = (r + g + b) / 3;
        if (avg < 8)
            return 16;
        if (avg > 238)
            return 231;
        return 232 + (avg - 8) / 10;
    }
    static const int steps[6] = {0, 95, 135, 175, 215, 255};
    int idx[3], c[3] = {r, g, b};
    for (int k = 0; k < 3; k++) {
        int best = 0;
        for (int s = 1; s < 6; s++)
            if (abs(steps[s] - c[k]) < abs(steps[best] - c[k]))
                best = s;
        idx[k] = best;
    }
    return 16 + 36 * idx[0] + 6 * idx[1] + idx[2];
}

/* The nearest of the 8 (or 16) ANSI colours. */
static int to_basic(int rgb, int n)
{
    static const int ansi[16] = {0x000000, 0xcd0000, 0x00cd00, 0xcdcd00, 0x0000ee, 0xcd00cd,
                                 0x00cdcd, 0xe5e5e5, 0x7f7f7f, 0xff0000, 0x00ff00, 0xffff00,
                                 0x5c5cff, 0xff00ff, 0x00ffff, 0xffffff};
    int r = (rgb >> 16) & 255, g = (rgb >> 8) & 255, b = rgb & 255;
    long best = -1;
    int bi = 0;
    for (int i = 0; i < n; i++) {
        int dr = r - ((ansi[i] >> 16) & 255), dg = g - ((ansi[i] >> 8) & 255), db = b - (ansi[i] & 255);
        long d = 3L * dr * dr + 4L * dg * dg + 2L * db * db;
        if (best < 0 || d < best) {
            best = d;
            bi = i;
        }
    }
    return bi;
}

static short map_color(int rgb)
{
    if (rgb < 0)
        return -1;
    if (COLORS >= 256)
        return (short)to_256(rgb);
    return (short)to_basic(rgb, COLORS >= 16 ? 16 : 8);
}

static attr_t mono_attr(ColorId id)
{
    switch (id) {
    case COL_TITLE: case COL_HEADER: case COL_FIT: case COL_BAD: case COL_FOCUS:
        return A_BOLD;
    case COL_DIM: case COL_GRID: case COL_BAND: case COL_BORDER:
        return A_DIM;
    case COL_SELECTION:
        return A_REVERSE;
    case COL_WARN:
        return A_UNDERLINE;
    default:
        if (id >= COL_SERIES1 && id <= COL_SERIES8)
            return (id - COL_SERIES1) % 2 ? A_BOLD : A_NORMAL;
        return A_NORMAL;
    }
}

void CRT_setTheme(const Theme *t)
{
    const char *nc = getenv("NO_COLOR");
    use_color = has_colors() && !t->monochrome && !(nc && *nc) && COLOR_PAIRS > COL_COUNT + 1;
    for (int i = 0; i < COL_COUNT; i++) {
        attrs[i] = use_color ? A_NORMAL : mono_attr((ColorId)i);
        pairs[i] = 0;
    }
    if (!use_color)
        return;
    short bg = map_color(t->rgb[COL_BACKGROUND]);
    for (int i = 0; i < COL_COUNT; i++) {
        short fg = map_color(t->rgb[i]), b = bg;
        if (i == COL_SELECTION) {
            fg = map_color(t->rgb[COL_TEXT]);
            b = map_color(t->rgb[COL_SELECTION]);
            if (b < 0)
                attrs[i] = A_REVERSE;
        } else if (i == COL_BACKGROUND) {
            fg = map_color(t->rgb[COL_TEXT]);
        }
        init_pair((short)(i + 1), fg, b);
        pairs[i] = (short)(i + 1);
        if (i == COL_TITLE || i == COL_HEADER || i == COL_FOCUS)
            attrs[i] |= A_BOLD;
    }
}

void CRT_color(WINDOW *w, ColorId id) { wattr_set(w, attrs[id], pairs[id], NULL); }

void CRT_background(WINDOW *w)
{
    wbkgdset(w, (chtype)(use_color ? COLOR_PAIR(pairs[COL_BACKGROUND]) : 0) | ' ');
}

void CRT_glyph(WINDOW *w, int y, int x, wchar_t wc, char ascii)
{
    if (CRT_utf8 && wc) {
        wchar_t s[2] = {wc, 0};
        cchar_t cc;
        attr_t a;
        short p;
        wattr_get(w, &a, &p, NULL);
        setcchar(&cc, s, a, p, NULL);
        mvwadd_wch(w, y, x, &cc);
    } else {
        mvwaddch(w, y, x, (chtype)(unsigned char)ascii);
    }
}

void CRT_hline(WINDOW *w, int y, int x, int n, wchar_t wc, char ascii)
{
    for (int i = 0; i < n; i++)
        CRT_glyph(w, y, x + i, wc, ascii);
}

void CRT_box(WINDOW *w, ColorId id, const char *title)
{
    int h, wd;
    getmaxyx(w, h, wd);
    CRT_color(w, id);
    if (CRT_utf8) {
        CRT_hline(w, 0, 1, wd - 2, L'─', '-');
        CRT_hline(w, h - 1, 1, wd - 2, L'─', '-');
        for (int y = 1; y < h - 1; y++) {
            CRT_glyph(w, y, 0, L'│', '|');
            CRT_glyph(w, y, wd - 1, L'│', '|');
        }
        CRT_glyph(w, 0, 0, L'╭', '+');
        CRT_glyph(w, 0, wd - 1, L'╮', '+');
        CRT_glyph(w, h - 1, 0, L'╰', '+');
        CRT_glyph(w, h - 1, wd - 1, L'╯', '+');
    } else {
        CRT_hline(w, 0, 0, wd, 0, '-');
        CRT_hline(w, h - 1, 0, wd, 0, '-');
        for (int y = 0; y < h; y++) {
            mvwaddch(w, y, 0, y == 0 || y == h - 1 ? '+' : '|');
            mvwaddch(w, y, wd - 1, y == 0 || y == h - 1 ? '+' : '|');
        }
    }
    if (title) {
        CRT_color(w, id == COL_FOCUS ? COL_FOCUS : COL_TITLE);
        mvwprintw(w, 0, 2, " %.*s ", wd > 6 ? wd - 6 : 0, title);
    }
}

void CRT_text(WINDOW *w, int y, int x, int n, const char *s)
{
    if (n <= 0)
        return;
    mvwaddnstr(w, y, x, s, n);
}
