/* corpus_doc: the prose sources of the named corpus, Perl's POD (perl-doc),
 * Python's reStructuredText (python3-doc), fortunes and the King James Bible
 * (bible-kjv): pages, sections, fortunes and chapters as documents, markup
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
            corpus_put_utf8(o, on, cap, (unsigned)v);
        return;
    }
    for (int i = 0; ent[i].name; i++)
        if (!strcmp(ent[i].name, name)) {
            corpus_put_utf8(o, on, cap, ent[i].cp);
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
        corpus_putch(o, on, cap, s[i]);
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
                corpus_put(out, len, cap, "\n\n", 2);
            }
            continue; /* =over =back =pod =for =encoding and the rest */
#undef CMD
        }
        if (skip_to_end || !in_pod)
            continue;
        if (p[0] == ' ' || p[0] == '\t')
            corpus_put(out, len, cap, p, pl); /* verbatim */
        else
            pod_inline(p, pl, out, len, cap);
        corpus_put(out, len, cap, "\n\n", 2);
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
            corpus_docs_end(d, start);
            from = i;
        }
    }
}

int corpus_src_perl(const char *root, docs *d, sl_error *err)
{
    glob_t g;
    int rc = corpus_glob_files(root, "/usr/share/perl/*/pod/*.pod", "perl-doc", &g, err);
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
        if ((rc = corpus_read_pkg_file(g.gl_pathv[f], "perl-doc", &t, &n, err)))
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
                corpus_put(o, on, cap, s + i + 2, (size_t)(e - s) - i - 2);
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
                corpus_put(o, on, cap, s + a, b - a);
                i = (size_t)(e - s) + 1;
                while (i < n && s[i] == '_')
                    i++;
                continue;
            }
        }
        if (s[i] == '|' && i + 1 < n && isalpha((unsigned char)s[i + 1])) {
            const char *e = memchr(s + i + 1, '|', n - i - 1);
            if (e && (size_t)(e - s) - i < 40 && !memchr(s + i, ' ', (size_t)(e - s) - i)) {
                corpus_put(o, on, cap, s + i + 1, (size_t)(e - s) - i - 1);
                i = (size_t)(e - s) + 1;
                continue;
            }
        }
        if (s[i] == '\\' && i + 1 < n && !isalnum((unsigned char)s[i + 1])) {
            i += s[i + 1] == ' ' ? 2 : 1;
            if (i < n && s[i - 1] != ' ')
                corpus_putch(o, on, cap, s[i++]);
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
        corpus_putch(o, on, cap, s[i]);
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
            corpus_putch(out, len, cap, '\n');
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
                corpus_put(out, len, cap, arg, al);
                corpus_put(out, len, cap, "\n\n", 2);
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
        corpus_put(out, len, cap, l, keep);
        if (colon)
            corpus_putch(out, len, cap, ':');
        corpus_putch(out, len, cap, '\n');
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
                corpus_docs_end(d, start);
                from = to;
            }
        }
        if (i >= n)
            break;
        prev = i;
        i = e + 1;
    }
}

int corpus_src_python(const char *root, docs *d, sl_error *err)
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
        corpus_rooted(pat, sizeof pat, root, pats[p]);
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
        corpus_rooted(pat, sizeof pat, root, pats[0]);
        free(all);
        return sl_fail(err, SL_ERUNTIME, "%s: no such files (expected the python3-doc package: run "
                                         "scripts/install-deps.sh or apt-get install python3-doc)",
                       pat);
    }
    qsort(all, na, sizeof *all, corpus_cmp_cstr);
    for (size_t f = 0; f < na; f++) {
        char *t;
        size_t n;
        if (!rc && (rc = corpus_read_pkg_file(all[f], "python3-doc", &t, &n, err)) == SL_OK) {
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

int corpus_src_fortunes(const char *root, docs *d, sl_error *err)
{
    char dir[2048];
    corpus_rooted(dir, sizeof dir, root, "/usr/share/games/fortunes");
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
            (rc = corpus_read_pkg_file(path, "fortunes", &t, &tn, err)) == SL_OK) {
            d->raw += tn;
            size_t from = 0;
            for (size_t k = 0; k <= tn;) {
                const char *nl = k < tn ? memchr(t + k, '\n', tn - k) : NULL;
                size_t e = nl ? (size_t)(nl - t) : tn;
                if (k >= tn || (e - k == 1 && t[k] == '%')) {
                    size_t start = d->text.n;
                    corpus_bput(&d->text, t + from, (k >= tn ? tn : k) - from);
                    corpus_docs_end(d, start);
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

int corpus_src_bible(const char *root, docs *d, sl_error *err)
{
    char *t;
    size_t n;
    int rc;
    char fixture[2048];
    corpus_rooted(fixture, sizeof fixture, root, "/usr/share/scalelab-fixture/bible.txt");
    if (strcmp(root, "/") != 0) {
        /* tests: a file in the root stands for bible's output */
        if ((rc = corpus_read_pkg_file(fixture, "bible-kjv", &t, &n, err)))
            return rc;
    } else {
        if ((rc = corpus_read_command("bible Genesis1:1-Revelation22:21 </dev/null 2>/dev/null",
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
                corpus_docs_end(d, start);
            start = d->text.n;
            open = 1;
            corpus_bput(&d->text, l, ll);
            corpus_bput(&d->text, "\n\n", 2);
        } else if (ll > 0) {
            size_t k = indent_of(l, ll);
            if (k > 0) {
                size_t q = k;
                while (q < ll && isdigit((unsigned char)l[q]))
                    q++;
                if (q > k && q < ll && l[q] == ' ')
                    k = q + 1;
            }
            corpus_bput(&d->text, l + k, ll - k);
            corpus_bput(&d->text, "\n", 1);
        }
        i = e + 1;
    }
    if (open)
        corpus_docs_end(d, start);
    free(t);
    return SL_OK;
}

