/* corpus_dict: the dictionary sources of the named corpus, GCIDE (dict-gcide)
 * and WordNet (wordnet-base): their entries and synsets as documents, markup
 * stripped (corpus_int.h). */
#define _DEFAULT_SOURCE
#include "corpus_int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
        corpus_put_utf8(o, on, ocap, cp);
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
            corpus_put_utf8(o, on, ocap, named[k].cp);
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
            corpus_putch(o, on, ocap, c[k]);
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
        corpus_putch(&t, &tn, &tcap, ch);
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
            corpus_put(out, len, cap, t + b, e - b);
            corpus_putch(out, len, cap, '\n');
        }
        i = e + 1;
    }
    free(t);
}

int corpus_src_gcide(const char *root, docs *d, sl_error *err)
{
    char ipath[2048], dpath[2048];
    corpus_rooted(ipath, sizeof ipath, root, "/usr/share/dictd/gcide.index");
    corpus_rooted(dpath, sizeof dpath, root, "/usr/share/dictd/gcide.dict.dz");
    char *idx;
    size_t ilen;
    int rc = corpus_read_pkg_file(ipath, "dict-gcide", &idx, &ilen, err);
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
    if ((rc = corpus_read_command(cmd, dpath, &text, &tlen, err))) {
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
        corpus_docs_end(d, start);
        last_end = sp[i].off + sp[i].len;
    }
    free(sp);
    free(text);
    if (d->n == 0)
        return sl_fail(err, SL_ERUNTIME, "%s: no entries (expected the dict-gcide package's index)", ipath);
    return SL_OK;
}

/* ---- WordNet (wordnet-base) ------------------------------------------------- */

int corpus_src_wordnet(const char *root, docs *d, sl_error *err)
{
    static const char *const files[] = {"noun", "verb", "adj", "adv"};
    static const char *const pos[] = {"noun", "verb", "adjective", "adverb"};
    for (int f = 0; f < 4; f++) {
        char path[2048], rel[64];
        snprintf(rel, sizeof rel, "/usr/share/wordnet/data.%s", files[f]);
        corpus_rooted(path, sizeof path, root, rel);
        char *t;
        size_t n;
        int rc = corpus_read_pkg_file(path, "wordnet-base", &t, &n, err);
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
                        corpus_bput(&d->text, ", ", 2);
                    corpus_bput(&d->text, word, strlen(word));
                }
                char head[64];
                int hl = snprintf(head, sizeof head, " (%s): ", pos[f]);
                corpus_bput(&d->text, head, (size_t)hl);
                char *g = bar + 1;
                while (*g == ' ')
                    g++;
                corpus_bput(&d->text, g, strlen(g));
                corpus_bput(&d->text, "\n", 1);
                corpus_docs_end(d, start);
            }
            l = e + 1;
        }
        free(t);
    }
    return SL_OK;
}

