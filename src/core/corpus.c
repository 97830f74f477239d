/* corpus: see include/scalelab/corpus.h. Why these sources: docs/CORPUS.md. */
#define _DEFAULT_SOURCE
#include "scalelab/corpus.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scalelab/data.h"

/* ---- growing buffers ------------------------------------------------------ */

typedef struct {
    char *p;
    size_t n, cap;
} buf;

static void buf_reserve(char **p, size_t *n, size_t *cap, size_t more)
{
    if (*n + more + 1 <= *cap)
        return;
    size_t c = *cap ? *cap : 4096;
    while (c < *n + more + 1)
        c *= 2;
    char *q = realloc(*p, c);
    if (!q)
        abort();
    *p = q;
    *cap = c;
}

static void put(char **p, size_t *n, size_t *cap, const char *s, size_t len)
{
    if (len == 0)
        return;
    buf_reserve(p, n, cap, len);
    memcpy(*p + *n, s, len);
    *n += len;
    (*p)[*n] = 0;
}

static void putch(char **p, size_t *n, size_t *cap, char ch) { put(p, n, cap, &ch, 1); }

static void bput(buf *b, const char *s, size_t len) { put(&b->p, &b->n, &b->cap, s, len); }

/* The documents of one source: their text back to back, ends[i] is the end of
 * document i. */
typedef struct {
    buf text;
    size_t *ends;
    size_t n, cap;
    size_t raw;
} docs;

static void docs_free(docs *d)
{
    free(d->text.p);
    free(d->ends);
    memset(d, 0, sizeof *d);
}

static void put_utf8(char **p, size_t *n, size_t *cap, unsigned cp)
{
    char b[4];
    size_t k;
    if (cp < 0x80) {
        b[0] = (char)cp;
        k = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xc0 | cp >> 6);
        b[1] = (char)(0x80 | (cp & 0x3f));
        k = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | cp >> 12);
        b[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        k = 3;
    } else {
        b[0] = (char)(0xf0 | cp >> 18);
        b[1] = (char)(0x80 | (cp >> 12 & 0x3f));
        b[2] = (char)(0x80 | (cp >> 6 & 0x3f));
        b[3] = (char)(0x80 | (cp & 0x3f));
        k = 4;
    }
    put(p, n, cap, b, k);
}

/* Length of a valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80)
        return 1;
    size_t k = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
    if (k == 0 || k > n)
        return 0;
    for (size_t i = 1; i < k; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    unsigned cp = k == 2 ? (s[0] & 0x1fu) << 6 | (s[1] & 0x3fu)
                  : k == 3 ? (s[0] & 0x0fu) << 12 | (s[1] & 0x3fu) << 6 | (s[2] & 0x3fu)
                           : (s[0] & 0x07u) << 18 | (s[1] & 0x3fu) << 12 | (s[2] & 0x3fu) << 6 |
                                 (s[3] & 0x3fu);
    if ((k == 3 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000))) || (k == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return k;
}

/* Ends one document: the text appended since `start` becomes valid UTF-8
 * (bytes that are not UTF-8 are read as Latin-1), loses control characters
 * (a backspace erases the character before it, as overstrike does), trailing
 * blanks on lines and runs of blank lines, and ends with one newline followed
 * by the blank line that separates documents. Empty documents are dropped. */
static void docs_end(docs *d, size_t start)
{
    size_t n = d->text.n - start;
    if (n == 0)
        return;
    char *raw = sl_xmalloc(n + 1);
    memcpy(raw, d->text.p + start, n);
    d->text.n = start;
    char *o = NULL;
    size_t on = 0, ocap = 0;
    const unsigned char *s = (const unsigned char *)raw;
    for (size_t i = 0; i < n;) {
        unsigned char ch = s[i];
        if (ch == '\b') {
            while (on > 0 && ((unsigned char)o[on - 1] & 0xc0) == 0x80)
                on--;
            if (on > 0 && o[on - 1] != '\n')
                on--;
            i++;
            continue;
        }
        if (ch == '\t') {
            putch(&o, &on, &ocap, ' ');
            i++;
            continue;
        }
        if (ch == '\n') {
            while (on > 0 && o[on - 1] == ' ')
                on--;
            /* at most one blank line, none at the start */
            if (on > 0 && !(on >= 2 && o[on - 1] == '\n' && o[on - 2] == '\n'))
                putch(&o, &on, &ocap, '\n');
            i++;
            continue;
        }
        if (ch < 0x20 || ch == 0x7f) {
            i++;
            continue;
        }
        size_t k = utf8_len(s + i, n - i);
        if (k == 0) {
            put_utf8(&o, &on, &ocap, ch);
            i++;
            continue;
        }
        /* C1 controls and the byte-order mark carry no text */
        if (k == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0) {
            i += 2;
            continue;
        }
        if (k == 3 && s[i] == 0xef && s[i + 1] == 0xbb && s[i + 2] == 0xbf) {
            i += 3;
            continue;
        }
        put(&o, &on, &ocap, (const char *)s + i, k);
        i += k;
    }
    while (on > 0 && (o[on - 1] == '\n' || o[on - 1] == ' '))
        on--;
    free(raw);
    if (on == 0) {
        free(o);
        return;
    }
    bput(&d->text, o, on);
    bput(&d->text, "\n\n", 2);
    free(o);
    if (d->n == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 1024;
        size_t *e = realloc(d->ends, d->cap * sizeof *e);
        if (!e)
            abort();
        d->ends = e;
    }
    d->ends[d->n++] = d->text.n;
}

/* ---- reading package files ------------------------------------------------ */

static const char *source_root(const sl_prepare_opts *o)
{
    if (o && o->root && *o->root)
        return o->root;
    const char *e = getenv("SCALELAB_SOURCE_ROOT");
    return e && *e ? e : "/";
}

static void rooted(char *out, size_t len, const char *root, const char *path)
{
    size_t rl = strlen(root);
    while (rl > 0 && root[rl - 1] == '/')
        rl--;
    snprintf(out, len, "%.*s%s", (int)rl, root, path);
}

/* Everything a command prints (stdin closed, stderr discarded). */
static int read_command(const char *cmd, const char *what, char **out, size_t *len, sl_error *err)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return sl_fail(err, SL_ERUNTIME, "%s: cannot run: %s", what, strerror(errno));
    char *b = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        buf_reserve(&b, &n, &cap, 1 << 16);
        size_t r = fread(b + n, 1, cap - n - 1, p);
        if (r == 0)
            break;
        n += r;
    }
    int st = pclose(p);
    if (st != 0) {
        free(b);
        return sl_fail(err, SL_ERUNTIME, "%s: exited with status %d", what,
                       WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
    if (!b)
        b = sl_xcalloc(1, 1);
    else
        b[n] = 0;
    *out = b;
    *len = n;
    return SL_OK;
}

static int cmp_cstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted paths matching a glob under the root; 0 matches is an error naming the package. */
static int glob_files(const char *root, const char *pattern, const char *package, glob_t *g,
                      sl_error *err)
{
    char pat[2048];
    rooted(pat, sizeof pat, root, pattern);
    memset(g, 0, sizeof *g);
    int r = glob(pat, 0, NULL, g);
    if (r != 0 || g->gl_pathc == 0) {
        globfree(g);
        return sl_fail(err, SL_ERUNTIME, "%s: no such files (expected the %s package: run "
                                         "scripts/install-deps.sh or apt-get install %s)",
                       pat, package, package);
    }
    qsort(g->gl_pathv, g->gl_pathc, sizeof *g->gl_pathv, cmp_cstr);
    return SL_OK;
}

static int read_pkg_file(const char *path, const char *package, char **d, size_t *n, sl_error *err)
{
    sl_error e;
    if (sl_read_file(path, d, n, &e) != SL_OK)
        return sl_fail(err, SL_ERUNTIME, "%s: cannot read (expected the %s package: run "
                                         "scripts/install-deps.sh or apt-get install %s)",
                       path, package, package);
    return SL_OK;
}

/* ---- GCIDE (dict-gcide) --------------------------------------------------- */

static int b64(int ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    return ch == '+' ? 62 : ch == '/' ? 63 : -1;
}

static int parse_b64(const char *s, const char *end, size_t *v)
{
    size_t x = 0;
    if (s >= end)
        return 0;
    for (; s < end; s++) {
        int d = b64((unsigned char)*s);
        if (d < 0)
            return 0;
        x = x * 64 + (size_t)d;
    }
    *v = x;
    return 1;
}

typedef struct {
    size_t off, len;
} span;

static int cmp_span(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return (x->off > y->off) - (x->off < y->off);
}

/* [a^], [=e], [.a], [ae], [oe]: GCIDE's ASCII spellings of accented letters. */
static size_t gcide_code(const char *s, size_t n, char **o, size_t *on, size_t *ocap)
{
    size_t j = 1;
    while (j < n && j <= 7 && s[j] != ']')
        j++;
    if (j >= n || s[j] != ']' || j < 2)
        return 0;
    const char *c = s + 1;
    size_t cl = j - 1;
    if (cl == 2 && (!memcmp(c, "ae", 2) || !memcmp(c, "AE", 2) || !memcmp(c, "oe", 2) ||
                    !memcmp(c, "OE", 2))) {
        unsigned cp = c[0] == 'a' ? 0xe6 : c[0] == 'A' ? 0xc6 : c[0] == 'o' ? 0x153 : 0x152;
        put_utf8(o, on, ocap, cp);
        return j + 1;
    }
    static const struct {
        const char *code;
        unsigned cp;
    } named[] = {{"amac", 0x101}, {"emac", 0x113}, {"imac", 0x12b}, {"omac", 0x14d}, {"umac", 0x16b},
                 {"aum", 0xe4},   {"eum", 0xeb},   {"ium", 0xef},   {"oum", 0xf6},   {"uum", 0xfc},
                 {"eth", 0xf0},   {"thorn", 0xfe}, {"deg", 0xb0},   {"sect", 0xa7},  {"root", 0x221a},
                 {"ndash", 0x2013}, {"mdash", 0x2014}, {"frac12", 0xbd}, {"frac14", 0xbc}, {NULL, 0}};
    for (int k = 0; named[k].code; k++)
        if (strlen(named[k].code) == cl && !memcmp(named[k].code, c, cl)) {
            put_utf8(o, on, ocap, named[k].cp);
            return j + 1;
        }
    int letters = 0, marks = 0;
    for (size_t k = 0; k < cl; k++) {
        if (isalpha((unsigned char)c[k]))
            letters++;
        else if (strchr("^=.-~\"'`,:|/", c[k]))
            marks++;
        else
            return 0;
    }
    if (letters < 1 || letters > 2 || marks < 1)
        return 0;
    for (size_t k = 0; k < cl; k++)
        if (isalpha((unsigned char)c[k]))
            putch(o, on, ocap, c[k]);
    return j + 1;
}

static int gcide_tag_line(const char *l, size_t n)
{
    while (n > 0 && (*l == ' '))
        l++, n--;
    while (n > 0 && l[n - 1] == ' ')
        n--;
    if (n < 3 || l[0] != '[' || l[n - 1] != ']')
        return 0;
    static const char *const tags[] = {"Webster", "PJC", "WordNet", "Suppl", "Century", "RDH",
                                       "Dict.", "CIDE", "MW", NULL};
    for (int i = 0; tags[i]; i++)
        for (size_t k = 0; k + strlen(tags[i]) <= n; k++)
            if (!memcmp(l + k, tags[i], strlen(tags[i])))
                return 1;
    return 0;
}

void sl_clean_gcide(const char *s, size_t n, char **out, size_t *len, size_t *cap)
{
    char *t = NULL;
    size_t tn = 0, tcap = 0;
    for (size_t i = 0; i < n;) {
        char ch = s[i];
        if (ch == '\\') {
            const char *e = memchr(s + i + 1, '\\', n - i - 1);
            if (!e) {
                i++;
                continue;
            }
            i = (size_t)(e - s) + 1;
            /* the pronunciation in parentheses that follows the headword */
            size_t j = i;
            while (j < n && s[j] == ' ')
                j++;
            if (j < n && s[j] == '(') {
                const char *c = memchr(s + j, ')', n - j);
                if (c) {
                    size_t k = (size_t)(c - s);
                    int marked = 0;
                    for (size_t q = j; q < k; q++)
                        if (strchr("[\"*`'", s[q]))
                            marked = 1;
                    if (marked)
                        i = k + 1;
                }
            }
            continue;
        }
        if (ch == '{' || ch == '}') {
            i++;
            continue;
        }
        if (ch == '[') {
            size_t k = gcide_code(s + i, n - i, &t, &tn, &tcap);
            if (k) {
                i += k;
                continue;
            }
            const char *e = memchr(s + i, ']', n - i < 48 ? n - i : 48);
            if (e && gcide_tag_line(s + i, (size_t)(e - s) + 1 - i)) {
                while (tn > 0 && t[tn - 1] == ' ')
                    tn--;
                i = (size_t)(e - s) + 1;
                continue;
            }
        }
        if (ch == ',' && tn > 0 && t[tn - 1] == ' ')
            tn--;
        putch(&t, &tn, &tcap, ch);
        i++;
    }
    /* line by line: drop the source tags, the indentation */
    for (size_t i = 0; i < tn;) {
        const char *nl = memchr(t + i, '\n', tn - i);
        size_t e = nl ? (size_t)(nl - t) : tn;
        size_t b = i;
        while (b < e && t[b] == ' ')
            b++;
        if (!gcide_tag_line(t + b, e - b)) {
            put(out, len, cap, t + b, e - b);
            putch(out, len, cap, '\n');
        }
        i = e + 1;
    }
    free(t);
}

static int src_gcide(const char *root, docs *d, sl_error *err)
{
    char ipath[2048], dpath[2048];
    rooted(ipath, sizeof ipath, root, "/usr/share/dictd/gcide.index");
    rooted(dpath, sizeof dpath, root, "/usr/share/dictd/gcide.dict.dz");
    char *idx;
    size_t ilen;
    int rc = read_pkg_file(ipath, "dict-gcide", &idx, &ilen, err);
    if (rc)
        return rc;
    if (access(dpath, R_OK) != 0 || strchr(dpath, '\'')) {
        free(idx);
        return sl_fail(err, SL_ERUNTIME, "%s: cannot read (expected the dict-gcide package: run "
                                         "scripts/install-deps.sh or apt-get install dict-gcide)",
                       dpath);
    }
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "gzip -dc <'%s' 2>/dev/null", dpath);
    char *text;
    size_t tlen;
    if ((rc = read_command(cmd, dpath, &text, &tlen, err))) {
        free(idx);
        return rc;
    }
    d->raw = tlen;
    span *sp = NULL;
    size_t ns = 0, cap = 0;
    for (char *l = idx; l < idx + ilen;) {
        char *nl = memchr(l, '\n', (size_t)(idx + ilen - l));
        char *e = nl ? nl : idx + ilen;
        char *t1 = memchr(l, '\t', (size_t)(e - l));
        char *t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(e - t1 - 1)) : NULL;
        span s;
        if (t2 && strncmp(l, "00-database", 11) && strncmp(l, "00database", 10) &&
            parse_b64(t1 + 1, t2, &s.off) && parse_b64(t2 + 1, e, &s.len) && s.off + s.len <= tlen) {
            if (ns == cap) {
                cap = cap ? 2 * cap : 1 << 16;
                span *q = realloc(sp, cap * sizeof *q);
                if (!q)
                    abort();
                sp = q;
            }
            sp[ns++] = s;
        }
        l = e + 1;
    }
    free(idx);
    if (ns)
        qsort(sp, ns, sizeof *sp, cmp_span);
    size_t last_end = 0;
    for (size_t i = 0; i < ns; i++) {
        if (i > 0 && sp[i].off < last_end)
            continue; /* the same entry under another headword */
        size_t start = d->text.n;
        sl_clean_gcide(text + sp[i].off, sp[i].len, &d->text.p, &d->text.n, &d->text.cap);
        docs_end(d, start);
        last_end = sp[i].off + sp[i].len;
    }
    free(sp);
    free(text);
    if (d->n == 0)
        return sl_fail(err, SL_ERUNTIME, "%s: no entries (expected the dict-gcide package's index)", ipath);
    return SL_OK;
}

/* ---- WordNet (wordnet-base) ------------------------------------------------- */

static int src_wordnet(const char *root, docs *d, sl_error *err)
{
    static const char *const files[] = {"noun", "verb", "adj", "adv"};
    static const char *const pos[] = {"noun", "verb", "adjective", "adverb"};
    for (int f = 0; f < 4; f++) {
        char path[2048], rel[64];
        snprintf(rel, sizeof rel, "/usr/share/wordnet/data.%s", files[f]);
        rooted(path, sizeof path, root, rel);
        char *t;
        size_t n;
        int rc = read_pkg_file(path, "wordnet-base", &t, &n, err);
        if (rc)
            return rc;
        d->raw += n;
        for (char *l = t; l < t + n;) {
            char *nl = memchr(l, '\n', (size_t)(t + n - l));
            char *e = nl ? nl : t + n;
            char *bar = memchr(l, '|', (size_t)(e - l));
            if (l[0] != ' ' && bar) {
                /* offset lex_filenum ss_type w_cnt(hex) word lex_id ... */
                *e = 0;
                char *save, *tok = strtok_r(l, " ", &save);
                tok = tok ? strtok_r(NULL, " ", &save) : NULL;
                tok = tok ? strtok_r(NULL, " ", &save) : NULL;
                tok = tok ? strtok_r(NULL, " ", &save) : NULL;
                long wc = tok ? strtol(tok, NULL, 16) : 0;
                size_t start = d->text.n;
                for (long w = 0; w < wc; w++) {
                    char *word = strtok_r(NULL, " ", &save);
                    char *lex = word ? strtok_r(NULL, " ", &save) : NULL;
                    if (!lex || word >= bar)
                        break;
                    char *paren = strchr(word, '(');
                    if (paren)
                        *paren = 0; /* adjective markers such as (p) */
                    for (char *c = word; *c; c++)
                        if (*c == '_')
                            *c = ' ';
                    if (w > 0)
                        bput(&d->text, ", ", 2);
                    bput(&d->text, word, strlen(word));
                }
                char head[64];
                int hl = snprintf(head, sizeof head, " (%s): ", pos[f]);
                bput(&d->text, head, (size_t)hl);
                char *g = bar + 1;
                while (*g == ' ')
                    g++;
                bput(&d->text, g, strlen(g));
                bput(&d->text, "\n", 1);
                docs_end(d, start);
            }
            l = e + 1;
        }
        free(t);
    }
    return SL_OK;
}

/* ---- POD (perl-doc) ----------------------------------------------------------- */

static void pod_entity(const char *s, size_t n, char **o, size_t *on, size_t *cap)
{
    static const struct {
        const char *name;
        unsigned cp;
    } ent[] = {{"lt", '<'},      {"gt", '>'},      {"verbar", '|'},  {"sol", '/'},     {"amp", '&'},
               {"quot", '"'},    {"apos", '\''},   {"nbsp", ' '},    {"copy", 0xa9},   {"eacute", 0xe9},
               {"egrave", 0xe8}, {"aacute", 0xe1}, {"agrave", 0xe0}, {"auml", 0xe4},   {"ouml", 0xf6},
               {"uuml", 0xfc},   {"ntilde", 0xf1}, {"ccedil", 0xe7}, {"szlig", 0xdf},  {"iacute", 0xed},
               {"oacute", 0xf3}, {"uacute", 0xfa}, {"Auml", 0xc4},   {"Ouml", 0xd6},   {"Uuml", 0xdc},
               {"laquo", 0xab},  {"raquo", 0xbb},  {"mdash", 0x2014}, {"ndash", 0x2013}, {NULL, 0}};
    char name[32];
    if (n == 0 || n >= sizeof name)
        return;
    memcpy(name, s, n);
    name[n] = 0;
    if (isdigit((unsigned char)name[0])) {
        unsigned long v = strtoul(name, NULL, 0);
        if (v > 0 && v < 0x110000 && !(v >= 0xd800 && v < 0xe000))
            put_utf8(o, on, cap, (unsigned)v);
        return;
    }
    for (int i = 0; ent[i].name; i++)
        if (!strcmp(ent[i].name, name)) {
            put_utf8(o, on, cap, ent[i].cp);
            return;
        }
}

/* POD formatting codes B<> I<> C<> F<> S<> L<> E<> X<> Z<>, nested, and the
 * C<< ... >> form. */
static void pod_inline(const char *s, size_t n, char **o, size_t *on, size_t *cap)
{
    for (size_t i = 0; i < n;) {
        if (i + 1 < n && strchr("BICFSLEXZ", s[i]) && s[i] && s[i + 1] == '<') {
            char code = s[i];
            size_t k = 0;
            while (i + 1 + k < n && s[i + 1 + k] == '<')
                k++;
            size_t cs = 0, ce = 0, after = 0;
            int found = 0;
            if (k >= 2 && i + 1 + k < n && isspace((unsigned char)s[i + 1 + k])) {
                cs = i + 1 + k;
                for (size_t j = cs; j + k <= n; j++) {
                    size_t q = 0;
                    while (q < k && s[j + q] == '>')
                        q++;
                    if (q == k && isspace((unsigned char)s[j - 1])) {
                        ce = j;
                        after = j + k;
                        found = 1;
                        break;
                    }
                }
                while (cs < ce && isspace((unsigned char)s[cs]))
                    cs++;
                while (ce > cs && isspace((unsigned char)s[ce - 1]))
                    ce--;
            } else {
                cs = i + 2;
                int depth = 1;
                for (size_t j = cs; j < n; j++) {
                    if (j + 1 < n && isupper((unsigned char)s[j]) && s[j + 1] == '<') {
                        depth++;
                        j++;
                    } else if (s[j] == '>' && --depth == 0) {
                        ce = j;
                        after = j + 1;
                        found = 1;
                        break;
                    }
                }
            }
            if (found) {
                if (code == 'E')
                    pod_entity(s + cs, ce - cs, o, on, cap);
                else if (code == 'L') {
                    const char *bar = memchr(s + cs, '|', ce - cs);
                    size_t a = cs, b = bar ? (size_t)(bar - s) : ce;
                    if (!bar)
                        for (size_t j = cs; j < ce; j++)
                            if (s[j] == '"') {
                                /* L<name/"section">: the section */
                                a = j + 1;
                                const char *q = memchr(s + a, '"', ce - a);
                                b = q ? (size_t)(q - s) : ce;
                                break;
                            }
                    pod_inline(s + a, b - a, o, on, cap);
                } else if (code != 'X' && code != 'Z')
                    pod_inline(s + cs, ce - cs, o, on, cap);
                i = after;
                continue;
            }
        }
        putch(o, on, cap, s[i]);
        i++;
    }
}

void sl_clean_pod(const char *s, size_t n, char **out, size_t *len, size_t *cap)
{
    int skip_to_end = 0, in_pod = 1;
    char end_tag[64] = "";
    for (size_t i = 0; i < n;) {
        /* one paragraph: up to a blank line */
        size_t e = i;
        for (;;) {
            const char *nl = memchr(s + e, '\n', n - e);
            if (!nl) {
                e = n;
                break;
            }
            e = (size_t)(nl - s) + 1;
            size_t j = e;
            while (j < n && (s[j] == ' ' || s[j] == '\t'))
                j++;
            if (j >= n || s[j] == '\n')
                break;
        }
        const char *p = s + i;
        size_t pl = e - i;
        i = e;
        while (i < n && (s[i] == '\n' || s[i] == ' ' || s[i] == '\t'))
            i++;
        while (pl > 0 && (p[pl - 1] == '\n' || p[pl - 1] == ' '))
            pl--;
        if (pl == 0)
            continue;
        if (p[0] == '=') {
            size_t cl = 1;
            while (cl < pl && isalnum((unsigned char)p[cl]))
                cl++;
            const char *arg = p + cl;
            size_t al = pl - cl;
            while (al > 0 && isspace((unsigned char)*arg))
                arg++, al--;
#define CMD(x) (cl == strlen(x) && !memcmp(p, x, cl))
            if (skip_to_end) {
                if (CMD("=end") && al >= strlen(end_tag) && !memcmp(arg, end_tag, strlen(end_tag)))
                    skip_to_end = 0;
                continue;
            }
            if (CMD("=cut")) {
                in_pod = 0;
                continue;
            }
            in_pod = 1;
            if (CMD("=begin")) {
                size_t tl = 0;
                while (tl < al && !isspace((unsigned char)arg[tl]) && tl < sizeof end_tag - 1)
                    tl++;
                memcpy(end_tag, arg, tl);
                end_tag[tl] = 0;
                skip_to_end = 1;
                continue;
            }
            if (CMD("=head1") || CMD("=head2") || CMD("=head3") || CMD("=head4") || CMD("=item")) {
                if (CMD("=item") && al == 1 && (arg[0] == '*' || arg[0] == 'o'))
                    continue;
                pod_inline(arg, al, out, len, cap);
                put(out, len, cap, "\n\n", 2);
            }
            continue; /* =over =back =pod =for =encoding and the rest */
#undef CMD
        }
        if (skip_to_end || !in_pod)
            continue;
        if (p[0] == ' ' || p[0] == '\t')
            put(out, len, cap, p, pl); /* verbatim */
        else
            pod_inline(p, pl, out, len, cap);
        put(out, len, cap, "\n\n", 2);
    }
}

/* Cuts a page into documents at its =head1 and =head2 headings. */
static void pod_docs(const char *t, size_t n, docs *d)
{
    size_t from = 0;
    for (size_t i = 0; i <= n; i++) {
        int cut = i == n || ((i == 0 || t[i - 1] == '\n') && i + 6 <= n &&
                             (!memcmp(t + i, "=head1", 6) || !memcmp(t + i, "=head2", 6)));
        if (cut && i > from) {
            size_t start = d->text.n;
            sl_clean_pod(t + from, i - from, &d->text.p, &d->text.n, &d->text.cap);
            docs_end(d, start);
            from = i;
        }
    }
}

static int src_perl(const char *root, docs *d, sl_error *err)
{
    glob_t g;
    int rc = glob_files(root, "/usr/share/perl/*/pod/*.pod", "perl-doc", &g, err);
    if (rc)
        return rc;
    char **seen = sl_xcalloc(g.gl_pathc + 1, sizeof *seen);
    size_t n_seen = 0;
    for (size_t f = 0; f < g.gl_pathc && !rc; f++) {
        char *t;
        size_t n;
        /* perl/5.36 is a link to perl/5.36.0; perltoc is a list of every heading */
        char *real = realpath(g.gl_pathv[f], NULL);
        int dup = !real || strstr(real, "/perltoc.pod") != NULL;
        for (size_t k = 0; real && k < n_seen && !dup; k++)
            dup = !strcmp(seen[k], real);
        if (dup) {
            free(real);
            continue;
        }
        seen[n_seen++] = real;
        if ((rc = read_pkg_file(g.gl_pathv[f], "perl-doc", &t, &n, err)))
            break;
        d->raw += n;
        pod_docs(t, n, d);
        free(t);
    }
    for (size_t k = 0; k < n_seen; k++)
        free(seen[k]);
    free(seen);
    globfree(&g);
    return rc;
}

/* ---- reStructuredText (python3-doc) ----------------------------------------- */

static int is_rule(const char *l, size_t n, char *ch)
{
    if (n < 2 || !strchr("=-~^\"*#+'`:._", l[0]))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (l[i] != l[0])
            return 0;
    *ch = l[0];
    return 1;
}

static int is_table_border(const char *l, size_t n)
{
    int marks = 0;
    for (size_t i = 0; i < n; i++) {
        if (!strchr("=+-| ", l[i]))
            return 0;
        if (l[i] != ' ')
            marks++;
    }
    return marks >= 3;
}

static size_t indent_of(const char *l, size_t n)
{
    size_t k = 0;
    while (k < n && l[k] == ' ')
        k++;
    return k;
}

/* Inline markup: roles, ``literals``, `references <target>`_, |substitutions|, **strong**. */
static void rst_inline(const char *s, size_t n, char **o, size_t *on, size_t *cap)
{
    for (size_t i = 0; i < n;) {
        /* a role :name: or :dom:name: directly before a backquote */
        if (s[i] == ':' && (i == 0 || !isalnum((unsigned char)s[i - 1]))) {
            size_t j = i + 1;
            while (j < n && (isalnum((unsigned char)s[j]) || s[j] == ':' || s[j] == '-' || s[j] == '+'))
                j++;
            if (j < n && j > i + 2 && s[j] == '`' && s[j - 1] == ':') {
                i = j;
                continue;
            }
        }
        if (i + 1 < n && s[i] == '`' && s[i + 1] == '`') {
            const char *e = NULL;
            for (size_t j = i + 2; j + 1 < n; j++)
                if (s[j] == '`' && s[j + 1] == '`') {
                    e = s + j;
                    break;
                }
            if (e) {
                put(o, on, cap, s + i + 2, (size_t)(e - s) - i - 2);
                i = (size_t)(e - s) + 2;
                continue;
            }
        }
        if (s[i] == '`') {
            const char *e = memchr(s + i + 1, '`', n - i - 1 < 300 ? n - i - 1 : 300);
            if (e) {
                size_t a = i + 1, b = (size_t)(e - s);
                const char *lt = NULL;
                for (size_t j = a; j < b; j++)
                    if (s[j] == '<')
                        lt = s + j;
                if (lt && s[b - 1] == '>' && (size_t)(lt - s) > a)
                    b = (size_t)(lt - s);
                while (b > a && s[b - 1] == ' ')
                    b--;
                if (a < b && (s[a] == '~' || s[a] == '!')) {
                    int tilde = s[a] == '~';
                    a++;
                    if (tilde)
                        for (size_t j = b; j > a; j--)
                            if (s[j - 1] == '.') {
                                a = j;
                                break;
                            }
                }
                put(o, on, cap, s + a, b - a);
                i = (size_t)(e - s) + 1;
                while (i < n && s[i] == '_')
                    i++;
                continue;
            }
        }
        if (s[i] == '|' && i + 1 < n && isalpha((unsigned char)s[i + 1])) {
            const char *e = memchr(s + i + 1, '|', n - i - 1);
            if (e && (size_t)(e - s) - i < 40 && !memchr(s + i, ' ', (size_t)(e - s) - i)) {
                put(o, on, cap, s + i + 1, (size_t)(e - s) - i - 1);
                i = (size_t)(e - s) + 1;
                continue;
            }
        }
        if (s[i] == '\\' && i + 1 < n && !isalnum((unsigned char)s[i + 1])) {
            i += s[i + 1] == ' ' ? 2 : 1;
            if (i < n && s[i - 1] != ' ')
                putch(o, on, cap, s[i++]);
            continue;
        }
        if (i + 1 < n && s[i] == '*' && s[i + 1] == '*') {
            i += 2;
            continue;
        }
        if (s[i] == '[' && i + 2 < n) {
            const char *e = memchr(s + i, ']', n - i);
            if (e && (size_t)(e - s) + 1 < n && e[1] == '_' && (size_t)(e - s) - i < 12) {
                i = (size_t)(e - s) + 2;
                continue;
            }
        }
        putch(o, on, cap, s[i]);
        i++;
    }
}

static int drop_directive(const char *name, size_t n)
{
    static const char *const drop[] = {"toctree", "index", "highlight", "testsetup", "testcleanup",
                                       "sectionauthor", "moduleauthor", "raw", "image", "figure",
                                       "include", "literalinclude", "only", "tabularcolumns",
                                       "currentmodule", "module", "program", "option-list",
                                       "audit-event", "audit-event-table", "impl-detail",
                                       "productionlist", "csv-table", "availability", "role",
                                       "default-role", "contents", "cssclass", "rst-class",
                                       "doctest", "testcode", "testoutput", NULL};
    for (int i = 0; drop[i]; i++)
        if (strlen(drop[i]) == n && !memcmp(drop[i], name, n))
            return 1;
    return 0;
}

static void rst_blocks(const char *s, size_t n, char **out, size_t *len, size_t *cap);

/* Block markup line by line, then inline markup paragraph by paragraph (a
 * role's text may run over a line break). */
void sl_clean_rst(const char *s, size_t n, char **out, size_t *len, size_t *cap)
{
    char *b = NULL;
    size_t bn = 0, bcap = 0;
    rst_blocks(s, n, &b, &bn, &bcap);
    for (size_t i = 0; i < bn;) {
        size_t e = i;
        while (e < bn && !(b[e] == '\n' && e + 1 < bn && b[e + 1] == '\n'))
            e++;
        if (e < bn)
            e += 2;
        rst_inline(b + i, e - i, out, len, cap);
        i = e;
    }
    free(b);
}

static void rst_blocks(const char *s, size_t n, char **out, size_t *len, size_t *cap)
{
    size_t skip_indent = (size_t)-1; /* skipping a block indented deeper than this */
    int skip_options = 0;
    size_t opt_indent = 0;
    for (size_t i = 0; i < n;) {
        const char *nl = memchr(s + i, '\n', n - i);
        size_t e = nl ? (size_t)(nl - s) : n;
        const char *l = s + i;
        size_t ll = e - i;
        size_t next = e + 1;
        while (ll > 0 && (l[ll - 1] == ' ' || l[ll - 1] == '\r'))
            ll--;
        size_t ind = indent_of(l, ll);
        i = next;
        if (skip_indent != (size_t)-1) {
            if (ll == 0 || ind > skip_indent)
                continue;
            skip_indent = (size_t)-1;
        }
        if (skip_options) {
            if (ll > ind && ind > opt_indent && l[ind] == ':') 
                continue;
            skip_options = 0;
        }
        if (ll == 0) {
            putch(out, len, cap, '\n');
            continue;
        }
        char rule;
        if (ind == 0 && is_rule(l, ll, &rule))
            continue; /* a title's over- or underline */
        if (is_table_border(l + ind, ll - ind))
            continue;
        if (ll - ind >= 2 && l[ind] == '.' && l[ind + 1] == '.' && (ll - ind == 2 || l[ind + 2] == ' ')) {
            const char *d = l + ind + 3;
            size_t dl = ll > ind + 3 ? ll - ind - 3 : 0;
            const char *dc = NULL;
            for (size_t k = 0; k + 1 < dl; k++)
                if (d[k] == ':' && d[k + 1] == ':') {
                    dc = d + k;
                    break;
                }
            size_t nl2 = dc ? (size_t)(dc - d) : 0;
            int name_ok = dc != NULL && nl2 > 0 && d[0] != '|' && d[0] != '_';
            for (size_t k = 0; name_ok && k < nl2; k++)
                if (!(isalnum((unsigned char)d[k]) || d[k] == '-' || d[k] == ':' || d[k] == '_'))
                    name_ok = 0;
            if (!name_ok || drop_directive(d, nl2)) {
                skip_indent = ind; /* a comment, a target, a substitution, or dropped */
                continue;
            }
            const char *arg = dc + 2;
            size_t al = (size_t)(l + ll - arg);
            while (al > 0 && *arg == ' ')
                arg++, al--;
            if (al > 0) {
                put(out, len, cap, arg, al);
                put(out, len, cap, "\n\n", 2);
            }
            skip_options = 1;
            opt_indent = ind;
            continue;
        }
        if (ll - ind == 2 && l[ind] == ':' && l[ind + 1] == ':')
            continue;
        size_t keep = ll;
        int colon = 0;
        if (ll >= 2 && l[ll - 2] == ':' && l[ll - 1] == ':') {
            keep = ll - 2;
            if (keep > 0 && l[keep - 1] != ' ')
                colon = 1;
            while (keep > ind && l[keep - 1] == ' ')
                keep--;
        }
        put(out, len, cap, l, keep);
        if (colon)
            putch(out, len, cap, ':');
        putch(out, len, cap, '\n');
    }
}

/* Cuts a page into documents at its titles (a line over a rule of * = # -). */
static void rst_docs(const char *t, size_t n, docs *d)
{
    size_t from = 0, prev = 0;
    for (size_t i = 0; i <= n;) {
        const char *nl = i < n ? memchr(t + i, '\n', n - i) : NULL;
        size_t e = nl ? (size_t)(nl - t) : n;
        char rule;
        int cut = 0;
        if (i < n && is_rule(t + i, e - i, &rule) && strchr("*=#-", rule) && prev < i) {
            size_t tl = i - 1 - prev;
            if (tl > 0 && t[prev] != ' ' && !is_rule(t + prev, tl, &rule) && e - i >= tl)
                cut = 1;
        }
        if ((cut && prev > from) || i >= n) {
            size_t to = i >= n ? n : prev;
            /* an overline above the title belongs to the new document */
            if (i < n && to >= 2) {
                size_t q = to - 1, ps = q;
                while (ps > 0 && t[ps - 1] != '\n')
                    ps--;
                if (ps < q && is_rule(t + ps, q - ps, &rule))
                    to = ps;
            }
            if (to > from) {
                size_t start = d->text.n;
                sl_clean_rst(t + from, to - from, &d->text.p, &d->text.n, &d->text.cap);
                docs_end(d, start);
                from = to;
            }
        }
        if (i >= n)
            break;
        prev = i;
        i = e + 1;
    }
}

static int src_python(const char *root, docs *d, sl_error *err)
{
    glob_t g;
    int rc = SL_OK;
    /* the .rst.txt pages of _sources, and up to three folder levels below */
    static const char *const pats[] = {"/usr/share/doc/python3-doc/html/_sources/*.rst.txt",
                                       "/usr/share/doc/python3-doc/html/_sources/*/*.rst.txt",
                                       "/usr/share/doc/python3-doc/html/_sources/*/*/*.rst.txt",
                                       "/usr/share/doc/python3-doc/html/_sources/*/*/*/*.rst.txt"};
    char **all = NULL;
    size_t na = 0, cap = 0;
    for (int p = 0; p < 4; p++) {
        char pat[2048];
        rooted(pat, sizeof pat, root, pats[p]);
        memset(&g, 0, sizeof g);
        if (glob(pat, 0, NULL, &g) == 0)
            for (size_t k = 0; k < g.gl_pathc; k++) {
                if (na == cap) {
                    cap = cap ? 2 * cap : 512;
                    char **q = realloc(all, cap * sizeof *q);
                    if (!q)
                        abort();
                    all = q;
                }
                all[na++] = strdup(g.gl_pathv[k]);
            }
        globfree(&g);
    }
    if (na == 0) {
        char pat[2048];
        rooted(pat, sizeof pat, root, pats[0]);
        free(all);
        return sl_fail(err, SL_ERUNTIME, "%s: no such files (expected the python3-doc package: run "
                                         "scripts/install-deps.sh or apt-get install python3-doc)",
                       pat);
    }
    qsort(all, na, sizeof *all, cmp_cstr);
    for (size_t f = 0; f < na; f++) {
        char *t;
        size_t n;
        if (!rc && (rc = read_pkg_file(all[f], "python3-doc", &t, &n, err)) == SL_OK) {
            d->raw += n;
            rst_docs(t, n, d);
            free(t);
        }
        free(all[f]);
    }
    free(all);
    return rc;
}

/* ---- fortunes --------------------------------------------------------------- */

static int src_fortunes(const char *root, docs *d, sl_error *err)
{
    char dir[2048];
    rooted(dir, sizeof dir, root, "/usr/share/games/fortunes");
    struct dirent **list;
    int n = scandir(dir, &list, NULL, alphasort);
    if (n < 0)
        return sl_fail(err, SL_ERUNTIME, "%s: cannot read: %s (expected the fortunes package: run "
                                         "scripts/install-deps.sh or apt-get install fortunes)",
                       dir, strerror(errno));
    int rc = SL_OK;
    for (int i = 0; i < n; i++) {
        const char *name = list[i]->d_name;
        size_t l = strlen(name);
        int skip = name[0] == '.' || (l > 4 && !strcmp(name + l - 4, ".dat")) ||
                   (l > 3 && !strcmp(name + l - 3, ".u8"));
        char path[2400];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        struct stat st;
        char *t;
        size_t tn;
        if (!rc && !skip && lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
            (rc = read_pkg_file(path, "fortunes", &t, &tn, err)) == SL_OK) {
            d->raw += tn;
            size_t from = 0;
            for (size_t k = 0; k <= tn;) {
                const char *nl = k < tn ? memchr(t + k, '\n', tn - k) : NULL;
                size_t e = nl ? (size_t)(nl - t) : tn;
                if (k >= tn || (e - k == 1 && t[k] == '%')) {
                    size_t start = d->text.n;
                    bput(&d->text, t + from, (k >= tn ? tn : k) - from);
                    docs_end(d, start);
                    from = e + 1;
                }
                if (k >= tn)
                    break;
                k = e + 1;
            }
            free(t);
        }
        free(list[i]);
    }
    free(list);
    if (!rc && d->n == 0)
        rc = sl_fail(err, SL_ERUNTIME, "%s: no fortune files (expected the fortunes package)", dir);
    return rc;
}

/* ---- the King James Bible (bible-kjv) ----------------------------------------- */

static int src_bible(const char *root, docs *d, sl_error *err)
{
    char *t;
    size_t n;
    int rc;
    char fixture[2048];
    rooted(fixture, sizeof fixture, root, "/usr/share/scalelab-fixture/bible.txt");
    if (strcmp(root, "/") != 0) {
        /* tests: a file in the root stands for bible's output */
        if ((rc = read_pkg_file(fixture, "bible-kjv", &t, &n, err)))
            return rc;
    } else {
        if ((rc = read_command("bible Genesis1:1-Revelation22:21 </dev/null 2>/dev/null",
                               "bible (expected the bible-kjv package: run scripts/install-deps.sh "
                               "or apt-get install bible-kjv)",
                               &t, &n, err)))
            return rc;
        if (n < 1000000) {
            free(t);
            return sl_fail(err, SL_ERUNTIME, "bible: printed %zu bytes (expected about 4.3 MB of the "
                                             "King James text; reinstall bible-kjv)",
                           n);
        }
    }
    d->raw = n;
    /* A chapter heading is a line alone between blank lines; verses start
     * with their number, which is dropped. */
    size_t start = d->text.n;
    int open = 0;
    for (size_t i = 0; i < n;) {
        const char *nl = memchr(t + i, '\n', n - i);
        size_t e = nl ? (size_t)(nl - t) : n;
        int blank_before = i == 0 || (t[i - 1] == '\n' && (i < 2 || t[i - 2] == '\n'));
        int blank_after = e + 1 >= n || t[e + 1] == '\n';
        const char *l = t + i;
        size_t ll = e - i;
        if (ll > 0 && l[0] != ' ' && blank_before && blank_after) {
            if (open)
                docs_end(d, start);
            start = d->text.n;
            open = 1;
            bput(&d->text, l, ll);
            bput(&d->text, "\n\n", 2);
        } else if (ll > 0) {
            size_t k = indent_of(l, ll);
            if (k > 0) {
                size_t q = k;
                while (q < ll && isdigit((unsigned char)l[q]))
                    q++;
                if (q > k && q < ll && l[q] == ' ')
                    k = q + 1;
            }
            bput(&d->text, l + k, ll - k);
            bput(&d->text, "\n", 1);
        }
        i = e + 1;
    }
    if (open)
        docs_end(d, start);
    free(t);
    return SL_OK;
}

/* ---- the sources ---------------------------------------------------------------- */

typedef struct {
    sl_source_info info;
    int (*read)(const char *root, docs *d, sl_error *err);
} source_def;

static const source_def sources[] = {
    {{"gcide", "reference", "dict-gcide", "", "GPL-2.0-or-later", 0, 0, 0, 0, 0, 0}, src_gcide},
    {{"wordnet", "reference", "wordnet-base", "", "WordNet-3.0", 0, 0, 0, 0, 0, 0}, src_wordnet},
    {{"perl", "technical", "perl-doc", "", "GPL-1.0-or-later OR Artistic-1.0-Perl", 0, 0, 0, 0, 0, 0}, src_perl},
    {{"python", "technical", "python3-doc", "", "PSF-2.0", 0, 0, 0, 0, 0, 0}, src_python},
    {{"fortunes", "humour", "fortunes", "", "BSD-4-Clause (fortune-mod)", 0, 0, 0, 0, 0, 0}, src_fortunes},
    {{"bible", "literature", "bible-kjv", "", "public domain (text); bible-kjv's own licence", 0, 0, 0, 0, 0, 0}, src_bible},
};
#define N_SOURCES ((int)(sizeof sources / sizeof sources[0]))

int sl_corpus_n_known(void) { return N_SOURCES; }
const sl_source_info *sl_corpus_known(int i) { return i >= 0 && i < N_SOURCES ? &sources[i].info : NULL; }

int sl_corpus_is_named(const char *name)
{
    if (!name || !*name || !strcmp(name, "kjv") || !strcmp(name, SL_CORPUS_DEFAULT))
        return 1;
    return !strncmp(name, SL_CORPUS_DEFAULT ":", strlen(SL_CORPUS_DEFAULT) + 1);
}

/* The sources a spec selects, as a mask over `sources`. */
static int spec_mask(const char *spec, unsigned *mask, sl_error *err)
{
    *mask = 0;
    if (!spec || !*spec || !strcmp(spec, SL_CORPUS_DEFAULT)) {
        *mask = (1u << N_SOURCES) - 1;
        return SL_OK;
    }
    size_t pl = strlen(SL_CORPUS_DEFAULT) + 1;
    if (strncmp(spec, SL_CORPUS_DEFAULT ":", pl))
        return sl_fail(err, SL_EINPUT, "%s: not a named corpus (expected %s or %s:SOURCE,...)", spec,
                       SL_CORPUS_DEFAULT, SL_CORPUS_DEFAULT);
    const char *s = spec + pl;
    while (*s) {
        size_t l = strcspn(s, ",");
        int found = -1;
        for (int i = 0; i < N_SOURCES; i++)
            if (strlen(sources[i].info.name) == l && !strncmp(s, sources[i].info.name, l))
                found = i;
        if (found < 0) {
            char names[256] = "";
            for (int i = 0; i < N_SOURCES; i++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%.31s", i ? ", " : "",
                         sources[i].info.name);
            return sl_fail(err, SL_EINPUT, "%s: unknown source '%.*s' (expected some of %s)", spec,
                           (int)l, s, names);
        }
        *mask |= 1u << found;
        s += l;
        if (*s == ',')
            s++;
    }
    if (!*mask)
        return sl_fail(err, SL_EINPUT, "%s: no sources (expected some of the sources after ':')", spec);
    return SL_OK;
}

int sl_corpus_dir(const char *spec, double test_frac, const char *data_dir, char *out, size_t len,
                  sl_error *err)
{
    unsigned mask;
    int rc = spec_mask(spec, &mask, err);
    if (rc)
        return rc;
    char name[512];
    snprintf(name, sizeof name, "%s", SL_CORPUS_DEFAULT);
    if (mask != (1u << N_SOURCES) - 1)
        for (int i = 0; i < N_SOURCES; i++)
            if (mask & 1u << i)
                snprintf(name + strlen(name), sizeof name - strlen(name), "-%.31s", sources[i].info.name);
    if (test_frac != 0 && test_frac != 0.05)
        snprintf(name + strlen(name), sizeof name - strlen(name), "-test%g", test_frac);
    const char *dd = sl_data_dir(data_dir);
    char abs[1024];
    if (dd[0] != '/' && getcwd(abs, sizeof abs - 2)) {
        size_t al = strlen(abs);
        snprintf(abs + al, sizeof abs - al, "/%s", dd);
        dd = abs;
    }
    if (snprintf(out, len, "%s/%s", dd, name) >= (int)len)
        return sl_fail(err, SL_EINPUT, "%s: data directory path too long", dd);
    return SL_OK;
}

static void package_version(const char *package, char *out, size_t len)
{
    out[0] = 0;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "dpkg-query -W -f='${Version}' %s 2>/dev/null", package);
    char *t;
    size_t n;
    sl_error e;
    if (read_command(cmd, "dpkg-query", &t, &n, &e) == SL_OK) {
        snprintf(out, len, "%.*s", (int)strcspn(t, "\n"), t);
        free(t);
    }
}

static void part_path(const sl_manifest *m, int s, const char *part, char *out, size_t len)
{
    snprintf(out, len, "%s/%s.%s.txt", m->dir, m->src[s].name, part);
}

static uint64_t hash_part(uint64_t h, const char *name, const char *part, const void *data, size_t n)
{
    h = sl_fnv1a(h, name, strlen(name) + 1);
    h = sl_fnv1a(h, part, strlen(part) + 1);
    uint64_t len = n;
    h = sl_fnv1a(h, &len, sizeof len);
    return sl_fnv1a(h, data, n);
}

int sl_manifest_hash_files(const sl_manifest *m, char out[17], sl_error *err)
{
    uint64_t h = SL_FNV_INIT;
    for (int s = 0; s < m->n_sources; s++)
        for (int p = 0; p < 2; p++) {
            const char *part = p ? "test" : "train";
            char path[1200];
            part_path(m, s, part, path, sizeof path);
            char *d;
            size_t n;
            int rc = sl_read_file(path, &d, &n, err);
            if (rc)
                return rc;
            h = hash_part(h, m->src[s].name, part, d, n);
            free(d);
        }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
    return SL_OK;
}

int sl_corpus_prepare(const char *spec, const sl_prepare_opts *o, sl_manifest *m, sl_error *err)
{
    memset(m, 0, sizeof *m);
    unsigned mask;
    int rc = spec_mask(spec, &mask, err);
    if (rc)
        return rc;
    if (o && o->sources && *o->sources) {
        char s2[600];
        snprintf(s2, sizeof s2, "%s:%s", SL_CORPUS_DEFAULT, o->sources);
        if ((rc = spec_mask(s2, &mask, err)))
            return rc;
    }
    double tf = o && o->test_frac > 0 ? o->test_frac : 0.05;
    if (!(tf > 0 && tf < 1))
        return sl_fail(err, SL_EINPUT, "test_frac: %g (expected a fraction between 0 and 1)", tf);
    const char *root = source_root(o);
    char spec2[600];
    snprintf(spec2, sizeof spec2, "%s:", SL_CORPUS_DEFAULT);
    for (int i = 0; i < N_SOURCES; i++)
        if (mask & 1u << i)
            snprintf(spec2 + strlen(spec2), sizeof spec2 - strlen(spec2), "%s%.31s",
                     spec2[strlen(spec2) - 1] == ':' ? "" : ",", sources[i].info.name);
    if ((rc = sl_corpus_dir(spec2, tf, o ? o->data_dir : NULL, m->dir, sizeof m->dir, err)))
        return rc;
    if ((rc = sl_mkdirs(m->dir, err)))
        return rc;
    m->format_version = SL_MANIFEST_VERSION;
    snprintf(m->name, sizeof m->name, "%s", SL_CORPUS_DEFAULT);
    m->test_frac = tf;
    m->seed = SL_CORPUS_SEED;
    uint64_t h = SL_FNV_INIT;
    for (int i = 0; i < N_SOURCES && rc == SL_OK; i++) {
        if (!(mask & 1u << i))
            continue;
        docs d;
        memset(&d, 0, sizeof d);
        if ((rc = sources[i].read(root, &d, err))) {
            docs_free(&d);
            break;
        }
        sl_source_info *si = &m->src[m->n_sources++];
        *si = sources[i].info;
        if (!strcmp(root, "/"))
            package_version(si->package, si->version, sizeof si->version);
        si->raw_bytes = d.raw;
        si->docs = d.n;
        if (d.n < 2) {
            docs_free(&d);
            rc = sl_fail(err, SL_ERUNTIME, "%s: %zu documents (expected at least 2 to split)",
                         si->name, si->docs);
            break;
        }
        /* shuffle the documents: a seed of its own per source */
        size_t *perm = sl_xmalloc(d.n * sizeof *perm);
        for (size_t k = 0; k < d.n; k++)
            perm[k] = k;
        sl_rng r;
        sl_rng_seed(&r, SL_CORPUS_SEED ^ sl_fnv1a(SL_FNV_INIT, si->name, strlen(si->name)));
        for (size_t k = d.n - 1; k > 0; k--) {
            size_t j = (size_t)sl_rng_below(&r, k + 1), t = perm[k];
            perm[k] = perm[j];
            perm[j] = t;
        }
        /* the first documents of the shuffled order, up to test_frac of the
         * bytes, are the test part; the rest, in the same order, the train part */
        size_t total = d.text.n, want = (size_t)(tf * (double)total + 0.5), got = 0, k = 0;
        buf test = {0}, train = {0};
        for (; k < d.n - 1 && (got < want || k == 0); k++) {
            size_t a = perm[k] ? d.ends[perm[k] - 1] : 0, b = d.ends[perm[k]];
            bput(&test, d.text.p + a, b - a);
            got += b - a;
        }
        si->test_docs = k;
        for (; k < d.n; k++) {
            size_t a = perm[k] ? d.ends[perm[k] - 1] : 0, b = d.ends[perm[k]];
            bput(&train, d.text.p + a, b - a);
        }
        si->train_docs = d.n - si->test_docs;
        si->train_bytes = train.n;
        si->test_bytes = test.n;
        free(perm);
        docs_free(&d);
        char path[1200];
        int s = m->n_sources - 1;
        part_path(m, s, "train", path, sizeof path);
        rc = sl_write_atomic(path, train.p ? train.p : "", train.n, err);
        part_path(m, s, "test", path, sizeof path);
        if (!rc)
            rc = sl_write_atomic(path, test.p ? test.p : "", test.n, err);
        h = hash_part(h, si->name, "train", train.p ? train.p : "", train.n);
        h = hash_part(h, si->name, "test", test.p ? test.p : "", test.n);
        free(train.p);
        free(test.p);
    }
    if (rc)
        return rc;
    snprintf(m->hash, sizeof m->hash, "%016llx", (unsigned long long)h);
    char *json = sl_manifest_to_json(m);
    char path[1200];
    snprintf(path, sizeof path, "%s/manifest.json", m->dir);
    rc = sl_write_atomic(path, json, strlen(json), err);
    free(json);
    return rc;
}

/* ---- the manifest ------------------------------------------------------------------- */

char *sl_manifest_to_json(const sl_manifest *m)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "format_version", m->format_version);
    cJSON_AddStringToObject(o, "name", m->name);
    cJSON_AddStringToObject(o, "dir", m->dir);
    cJSON_AddStringToObject(o, "hash", m->hash);
    cJSON_AddNumberToObject(o, "seed", (double)m->seed);
    cJSON_AddNumberToObject(o, "test_fraction", m->test_frac);
    size_t ndocs = 0, trb = 0, teb = 0;
    cJSON *a = cJSON_AddArrayToObject(o, "sources");
    for (int i = 0; i < m->n_sources; i++) {
        const sl_source_info *s = &m->src[i];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "name", s->name);
        cJSON_AddStringToObject(x, "kind", s->kind);
        cJSON_AddStringToObject(x, "package", s->package);
        cJSON_AddStringToObject(x, "version", s->version);
        cJSON_AddStringToObject(x, "licence", s->licence);
        cJSON_AddNumberToObject(x, "raw_bytes", (double)s->raw_bytes);
        cJSON_AddNumberToObject(x, "docs", (double)s->docs);
        cJSON_AddNumberToObject(x, "train_docs", (double)s->train_docs);
        cJSON_AddNumberToObject(x, "test_docs", (double)s->test_docs);
        cJSON_AddNumberToObject(x, "train_bytes", (double)s->train_bytes);
        cJSON_AddNumberToObject(x, "test_bytes", (double)s->test_bytes);
        cJSON_AddItemToArray(a, x);
        ndocs += s->docs;
        trb += s->train_bytes;
        teb += s->test_bytes;
    }
    cJSON_AddNumberToObject(o, "docs", (double)ndocs);
    cJSON_AddNumberToObject(o, "train_bytes", (double)trb);
    cJSON_AddNumberToObject(o, "test_bytes", (double)teb);
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    size_t n = strlen(s);
    char *r = sl_xmalloc(n + 2);
    memcpy(r, s, n);
    r[n] = '\n';
    r[n + 1] = 0;
    cJSON_free(s);
    return r;
}

static int jstr(const cJSON *o, const char *key, char *out, size_t len, const char *path,
                const char *field, sl_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= len)
        return sl_fail(err, SL_EINPUT, "%s:%s: missing or not a string (expected a string under %zu bytes)",
                       path, field, len);
    snprintf(out, len, "%s", v->valuestring);
    return SL_OK;
}

static int jnum(const cJSON *o, const char *key, double *out, const char *path, const char *field,
                sl_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0))
        return sl_fail(err, SL_EINPUT, "%s:%s: missing or not a number (expected a number >= 0)", path,
                       field);
    *out = v->valuedouble;
    return SL_OK;
}

int sl_manifest_parse(const char *json, const char *path, sl_manifest *m, sl_error *err)
{
    memset(m, 0, sizeof *m);
    cJSON *o = cJSON_Parse(json);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return sl_fail(err, SL_EINPUT, "%s: invalid JSON (expected a corpus manifest object)", path);
    }
    double x = 0;
    int rc = jnum(o, "format_version", &x, path, "format_version", err);
    if (!rc && (x < 1 || x > SL_MANIFEST_VERSION))
        rc = sl_fail(err, SL_EINPUT, "%s:format_version: %g (expected 1..%d)", path, x,
                     SL_MANIFEST_VERSION);
    m->format_version = (int)x;
    if (!rc)
        rc = jstr(o, "name", m->name, sizeof m->name, path, "name", err);
    if (!rc)
        rc = jstr(o, "dir", m->dir, sizeof m->dir, path, "dir", err);
    if (!rc)
        rc = jstr(o, "hash", m->hash, sizeof m->hash, path, "hash", err);
    if (!rc && (rc = jnum(o, "seed", &x, path, "seed", err)) == SL_OK)
        m->seed = (uint64_t)x;
    if (!rc && (rc = jnum(o, "test_fraction", &m->test_frac, path, "test_fraction", err)) == SL_OK &&
        !(m->test_frac > 0 && m->test_frac < 1))
        rc = sl_fail(err, SL_EINPUT, "%s:test_fraction: %g (expected 0 < F < 1)", path, m->test_frac);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "sources");
    if (!rc && (!cJSON_IsArray(a) || cJSON_GetArraySize(a) < 1 || cJSON_GetArraySize(a) > SL_MAX_SOURCES))
        rc = sl_fail(err, SL_EINPUT, "%s:sources: missing or empty (expected 1..%d sources)", path,
                     SL_MAX_SOURCES);
    for (int i = 0; !rc && i < cJSON_GetArraySize(a); i++) {
        const cJSON *x2 = cJSON_GetArrayItem(a, i);
        sl_source_info *s = &m->src[i];
        char f[64];
        double v[6];
        static const char *const nk[] = {"raw_bytes", "docs", "train_docs", "test_docs", "train_bytes",
                                         "test_bytes"};
#define F(k) (snprintf(f, sizeof f, "sources[%d].%s", i, k), f)
        if ((rc = jstr(x2, "name", s->name, sizeof s->name, path, F("name"), err)) ||
            (rc = jstr(x2, "kind", s->kind, sizeof s->kind, path, F("kind"), err)) ||
            (rc = jstr(x2, "package", s->package, sizeof s->package, path, F("package"), err)) ||
            (rc = jstr(x2, "version", s->version, sizeof s->version, path, F("version"), err)) ||
            (rc = jstr(x2, "licence", s->licence, sizeof s->licence, path, F("licence"), err)))
            break;
        for (int k = 0; k < 6 && !rc; k++)
            rc = jnum(x2, nk[k], &v[k], path, F(nk[k]), err);
#undef F
        if (rc)
            break;
        s->raw_bytes = (size_t)v[0];
        s->docs = (size_t)v[1];
        s->train_docs = (size_t)v[2];
        s->test_docs = (size_t)v[3];
        s->train_bytes = (size_t)v[4];
        s->test_bytes = (size_t)v[5];
        if (strchr(s->name, '/') || !s->name[0])
            rc = sl_fail(err, SL_EINPUT, "%s:sources[%d].name: '%s' (expected a plain source name)", path,
                         i, s->name);
        m->n_sources = i + 1;
    }
    cJSON_Delete(o);
    return rc;
}

int sl_manifest_read(const char *dir, sl_manifest *m, sl_error *err)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    char *t;
    size_t n;
    int rc = sl_read_file(path, &t, &n, err);
    if (rc)
        return rc;
    rc = sl_manifest_parse(t, path, m, err);
    free(t);
    if (!rc)
        snprintf(m->dir, sizeof m->dir, "%s", dir);
    return rc;
}
