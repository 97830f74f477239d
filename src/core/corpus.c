/* corpus: see include/scalelab/corpus.h. Why these sources: docs/CORPUS.md.
 * This file holds what every source shares (growing buffers, how a document
 * ends, reading package files), the table of sources, `data prepare` (split,
 * write, hash) and the manifest; the per-source extractors and their markup
 * cleaners are corpus_dict.c (GCIDE, WordNet) and corpus_doc.c (POD, reST,
 * fortunes, the Bible), through corpus_int.h. */
#define _DEFAULT_SOURCE
#include "scalelab/corpus.h"
#include "corpus_int.h"

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

void corpus_buf_reserve(char **p, size_t *n, size_t *cap, size_t more)
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

void corpus_put(char **p, size_t *n, size_t *cap, const char *s, size_t len)
{
    if (len == 0)
        return;
    corpus_buf_reserve(p, n, cap, len);
    memcpy(*p + *n, s, len);
    *n += len;
    (*p)[*n] = 0;
}

void corpus_putch(char **p, size_t *n, size_t *cap, char ch) { corpus_put(p, n, cap, &ch, 1); }

void corpus_bput(buf *b, const char *s, size_t len) { corpus_put(&b->p, &b->n, &b->cap, s, len); }

void corpus_docs_free(docs *d)
{
    free(d->text.p);
    free(d->ends);
    memset(d, 0, sizeof *d);
}

void corpus_put_utf8(char **p, size_t *n, size_t *cap, unsigned cp)
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
    corpus_put(p, n, cap, b, k);
}

/* Length of a valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
size_t corpus_utf8_len(const unsigned char *s, size_t n)
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
void corpus_docs_end(docs *d, size_t start)
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
            corpus_putch(&o, &on, &ocap, ' ');
            i++;
            continue;
        }
        if (ch == '\n') {
            while (on > 0 && o[on - 1] == ' ')
                on--;
            /* at most one blank line, none at the start */
            if (on > 0 && !(on >= 2 && o[on - 1] == '\n' && o[on - 2] == '\n'))
                corpus_putch(&o, &on, &ocap, '\n');
            i++;
            continue;
        }
        if (ch < 0x20 || ch == 0x7f) {
            i++;
            continue;
        }
        size_t k = corpus_utf8_len(s + i, n - i);
        if (k == 0) {
            corpus_put_utf8(&o, &on, &ocap, ch);
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
        corpus_put(&o, &on, &ocap, (const char *)s + i, k);
        i += k;
    }
    while (on > 0 && (o[on - 1] == '\n' || o[on - 1] == ' '))
        on--;
    free(raw);
    if (on == 0) {
        free(o);
        return;
    }
    corpus_bput(&d->text, o, on);
    corpus_bput(&d->text, "\n\n", 2);
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

const char *corpus_source_root(const sl_prepare_opts *o)
{
    if (o && o->root && *o->root)
        return o->root;
    const char *e = getenv("SCALELAB_SOURCE_ROOT");
    return e && *e ? e : "/";
}

void corpus_rooted(char *out, size_t len, const char *root, const char *path)
{
    size_t rl = strlen(root);
    while (rl > 0 && root[rl - 1] == '/')
        rl--;
    snprintf(out, len, "%.*s%s", (int)rl, root, path);
}

/* Everything a command prints (stdin closed, stderr discarded). */
int corpus_read_command(const char *cmd, const char *what, char **out, size_t *len, sl_error *err)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return sl_fail(err, SL_ERUNTIME, "%s: cannot run: %s", what, strerror(errno));
    char *b = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        corpus_buf_reserve(&b, &n, &cap, 1 << 16);
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

int corpus_cmp_cstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted paths matching a glob under the root; 0 matches is an error naming the package. */
int corpus_glob_files(const char *root, const char *pattern, const char *package, glob_t *g,
                      sl_error *err)
{
    char pat[2048];
    corpus_rooted(pat, sizeof pat, root, pattern);
    memset(g, 0, sizeof *g);
    int r = glob(pat, 0, NULL, g);
    if (r != 0 || g->gl_pathc == 0) {
        globfree(g);
        return sl_fail(err, SL_ERUNTIME, "%s: no such files (expected the %s package: run "
                                         "scripts/install-deps.sh or apt-get install %s)",
                       pat, package, package);
    }
    qsort(g->gl_pathv, g->gl_pathc, sizeof *g->gl_pathv, corpus_cmp_cstr);
    return SL_OK;
}

int corpus_read_pkg_file(const char *path, const char *package, char **d, size_t *n, sl_error *err)
{
    sl_error e;
    if (sl_read_file(path, d, n, &e) != SL_OK)
        return sl_fail(err, SL_ERUNTIME, "%s: cannot read (expected the %s package: run "
                                         "scripts/install-deps.sh or apt-get install %s)",
                       path, package, package);
    return SL_OK;
}

/* ---- the sources ---------------------------------------------------------------- */

typedef struct {
    sl_source_info info;
    int (*read)(const char *root, docs *d, sl_error *err);
} source_def;

static const source_def sources[] = {
    {{"gcide", "reference", "dict-gcide", "", "GPL-2.0-or-later", 0, 0, 0, 0, 0, 0}, corpus_src_gcide},
    {{"wordnet", "reference", "wordnet-base", "", "WordNet-3.0", 0, 0, 0, 0, 0, 0}, corpus_src_wordnet},
    {{"perl", "technical", "perl-doc", "", "GPL-1.0-or-later OR Artistic-1.0-Perl", 0, 0, 0, 0, 0, 0}, corpus_src_perl},
    {{"python", "technical", "python3-doc", "", "PSF-2.0", 0, 0, 0, 0, 0, 0}, corpus_src_python},
    {{"fortunes", "humour", "fortunes", "", "BSD-4-Clause (fortune-mod)", 0, 0, 0, 0, 0, 0}, corpus_src_fortunes},
    {{"bible", "literature", "bible-kjv", "", "public domain (text); bible-kjv's own licence", 0, 0, 0, 0, 0, 0}, corpus_src_bible},
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
    if (corpus_read_command(cmd, "dpkg-query", &t, &n, &e) == SL_OK) {
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
    const char *root = corpus_source_root(o);
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
            corpus_docs_free(&d);
            break;
        }
        sl_source_info *si = &m->src[m->n_sources++];
        *si = sources[i].info;
        if (!strcmp(root, "/"))
            package_version(si->package, si->version, sizeof si->version);
        si->raw_bytes = d.raw;
        si->docs = d.n;
        if (d.n < 2) {
            corpus_docs_free(&d);
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
            corpus_bput(&test, d.text.p + a, b - a);
            got += b - a;
        }
        si->test_docs = k;
        for (; k < d.n; k++) {
            size_t a = perm[k] ? d.ends[perm[k] - 1] : 0, b = d.ends[perm[k]];
            corpus_bput(&train, d.text.p + a, b - a);
        }
        si->train_docs = d.n - si->test_docs;
        si->train_bytes = train.n;
        si->test_bytes = test.n;
        free(perm);
        corpus_docs_free(&d);
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
