/* corpus: the named corpus of Debian text packages, on a small fixture tree
 * that stands for the installed packages (SCALELAB_SOURCE_ROOT): markup
 * stripped, documents split per source with a fixed seed, the manifest and its
 * hash, D-token subsets nested, random and mix-preserving, evaluation windows
 * spread over the sources; nanoGPT raw .bin files beside llm.c shards; an eval
 * corpus outside the vocabulary refused with exit 2; and every shipped preset
 * at most one epoch of the recorded manifest. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scalelab/corpus.h"
#include "scalelab/data.h"
#include "scalelab/preset.h"
#include "scalelab/store.h"
#include "testutil.h"

/* ---- the fixture tree ----------------------------------------------------- */

static void mkdirs(const char *rel)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/root%s", tu_dir, rel);
    sl_error e;
    cr_assert_eq(sl_mkdirs(p, &e), SL_OK, "%s", e.msg);
}

static void put_file(const char *rel, const char *text)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/root%s", tu_dir, rel);
    tu_write(p, text, strlen(text));
}

static char *grow(char *s, size_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static char *grow(char *s, size_t *n, const char *fmt, ...)
{
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    s = realloc(s, *n + (size_t)k + 1);
    memcpy(s + *n, line, (size_t)k + 1);
    *n += (size_t)k;
    return s;
}

static const char *b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void enc64(size_t v, char *out)
{
    char t[16];
    int n = 0;
    do {
        t[n++] = b64[v % 64];
        v /= 64;
    } while (v);
    for (int i = 0; i < n; i++)
        out[i] = t[n - 1 - i];
    out[n] = 0;
}

/* Documents numbered so that a test can tell which ones a part holds: fortune
 * k says "fortune #k", and so on. */
#define N_FORTUNES 400
#define N_SYNSETS 300
#define N_ENTRIES 300

static void make_fixture(void)
{
    mkdirs("/usr/share/dictd");
    mkdirs("/usr/share/wordnet");
    mkdirs("/usr/share/perl/5.36.0/pod");
    mkdirs("/usr/share/doc/python3-doc/html/_sources/library");
    mkdirs("/usr/share/games/fortunes");
    mkdirs("/usr/share/scalelab-fixture");
    /* GCIDE: entries with a spelling in backslashes, a pronunciation, braces,
     * accent codes and source tags */
    char *dict = NULL, *idx = NULL;
    size_t nd = 0, ni = 0;
    for (int i = 0; i < N_ENTRIES; i++) {
        size_t off = nd;
        dict = grow(dict, &nd,
                    "Word%d \\Wo\"rd*%d\\ (w[^u]rd), n. [AS. word.]\n   Entry number %d of the "
                    "dictionary: a {unit} of language, as in caf[`e].\n   [1913 Webster]\n\n",
                    i, i, i);
        char o[16], l[16];
        enc64(off, o);
        enc64(nd - off, l);
        idx = grow(idx, &ni, "word%d\t%s\t%s\n", i, o, l);
    }
    char p[1024], cmd[2200];
    snprintf(p, sizeof p, "%s/gcide.dict", tu_dir);
    tu_write(p, dict, nd);
    snprintf(cmd, sizeof cmd, "gzip -c '%s' > '%s/root/usr/share/dictd/gcide.dict.dz'", p, tu_dir);
    cr_assert_eq(system(cmd), 0);
    put_file("/usr/share/dictd/gcide.index", idx);
    free(dict);
    free(idx);
    /* WordNet: a licence header line, then synsets */
    static const char *const pos[] = {"noun", "verb", "adj", "adv"};
    for (int f = 0; f < 4; f++) {
        char *t = grow(NULL, &(size_t){0}, "  1 This software and database is being provided\n");
        size_t n = strlen(t);
        for (int i = f; i < N_SYNSETS; i += 4)
            t = grow(t, &n, "%08d 03 n 02 synset_%d 0 other_name 0 000 | gloss of synset %d; \"an example\"\n",
                     i, i, i);
        char rel[128];
        snprintf(rel, sizeof rel, "/usr/share/wordnet/data.%s", pos[f]);
        put_file(rel, t);
        free(t);
    }
    /* POD: two pages of sections with formatting codes */
    for (int pg = 0; pg < 2; pg++) {
        char *t = NULL;
        size_t n = 0;
        t = grow(t, &n, "=pod\n\n=head1 NAME\n\nperlpage%d - a page\n\n", pg);
        for (int s = 0; s < 30; s++)
            t = grow(t, &n,
                     "=head2 Section %d.%d\n\nUse B<bold> and C<< $x->{y} >> and E<gt> and "
                     "L<the text|perlfunc/open> and I<this X<index>>.\n\n    verbatim code %d\n\n"
                     "=begin html\n\n<p>dropped</p>\n\n=end html\n\n",
                     pg, s, s);
        t = grow(t, &n, "=cut\n\nsub code_after_cut { }\n");
        char rel[128];
        snprintf(rel, sizeof rel, "/usr/share/perl/5.36.0/pod/perlpage%d.pod", pg);
        put_file(rel, t);
        free(t);
    }
    /* reST: titled sections with roles, literals, directives */
    char *r = NULL;
    size_t nr = 0;
    r = grow(r, &nr, ".. _top:\n\n**********\nThe module\n**********\n\n.. toctree::\n   :maxdepth: 2\n\n   a.rst\n\n");
    for (int s = 0; s < 40; s++)
        r = grow(r, &nr,
                 "Section %d\n==========\n\nCall :func:`open` or :meth:`~io.Base.read`, see `the docs "
                 "<https://x>`_ and ``literal %d``::\n\n   code()\n\n.. note::\n\n   A note.\n\n",
                 s, s);
    put_file("/usr/share/doc/python3-doc/html/_sources/library/mod.rst.txt", r);
    free(r);
    /* fortunes: one file, plus .dat and .u8 that are skipped */
    char *t = NULL;
    size_t n = 0;
    for (int i = 0; i < N_FORTUNES; i++)
        t = grow(t, &n, "fortune #%d: a short saying, told %d times.\n%%\n", i, i % 7 + 1);
    put_file("/usr/share/games/fortunes/sayings", t);
    put_file("/usr/share/games/fortunes/sayings.dat", "binary index");
    free(t);
    /* the Bible: chapters as `bible` prints them */
    t = NULL;
    n = 0;
    for (int ch = 1; ch <= 40; ch++) {
        t = grow(t, &n, "\nGenesis %d\n\n", ch);
        for (int v = 1; v <= 8; v++)
            t = grow(t, &n, "  %d And verse %d of chapter %d was\nwritten on two lines.\n", v, v, ch);
    }
    put_file("/usr/share/scalelab-fixture/bible.txt", t);
    free(t);
}

static void fixture_env(void)
{
    tu_make_dir();
    make_fixture();
    char root[600];
    snprintf(root, sizeof root, "%s/root", tu_dir);
    setenv("SCALELAB_SOURCE_ROOT", root, 1);
    setenv("SCALELAB_DATA", tu_dir, 1);
}

static void fixture_done(void)
{
    unsetenv("SCALELAB_SOURCE_ROOT");
    unsetenv("SCALELAB_DATA");
    tu_remove_dir();
}

static void load_debian(sl_corpus *c, const char *exclude)
{
    sl_corpus_opts o = {.path = "debian", .data_dir = tu_dir, .exclude = exclude};
    sl_error err;
    cr_assert_eq(sl_corpus_load(c, &o, &err), SL_OK, "%s", err.msg);
}

/* ---- cleaners ----------------------------------------------------------------- */

/* A cleaner's output with runs of line breaks made one (a document's blank
 * lines are made uniform when it ends, docs_end). */
static char *clean(void (*f)(const char *, size_t, char **, size_t *, size_t *), const char *s)
{
    char *o = NULL;
    size_t n = 0, cap = 0;
    f(s, strlen(s), &o, &n, &cap);
    if (!o)
        return strdup("");
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (!(o[i] == '\n' && w > 0 && o[w - 1] == '\n'))
            o[w++] = o[i];
    o[w] = 0;
    return o;
}

TestSuite(corpus_clean);

Test(corpus_clean, pod_codes_become_plain_text)
{
    char *o = clean(sl_clean_pod, "=head1 NAME\n\nB<bold> C<< $a->b >> E<gt> E<eacute> L<text|perlfunc> "
                                  "L<perlfunc/\"open\"> I<it>X<ix>Z<>\n\n=begin html\n\n<b>x</b>\n\n=end html\n");
    cr_assert_str_eq(o, "NAME\nbold $a->b > \xc3\xa9 text open it\n");
    free(o);
}

Test(corpus_clean, rst_roles_literals_and_directives_are_stripped)
{
    char *o = clean(sl_clean_rst, "Title\n=====\n\nSee :func:`open`, :meth:`~io.Base.read`, ``x = 1`` and\n"
                                  "`a link <https://x>`_::\n\n.. toctree::\n   :maxdepth: 1\n\n   hidden\n\n"
                                  ".. function:: f(x)\n   :noindex:\n\n   Body.\n");
    cr_assert_str_eq(o, "Title\nSee open, read, x = 1 and\na link:\nf(x)\n   Body.\n");
    free(o);
}

Test(corpus_clean, gcide_spelling_pronunciation_tags_and_accents_go)
{
    char *o = clean(sl_clean_gcide, "Abaca \\Ab\"a*ca\\ ([a^]b\"[.a]*k[.a]), n. [The native name.]\n"
                                    "   The {Manila} hemp; caf[`e] and [ae]on.\n   [1913 Webster]\n");
    cr_assert_str_eq(o, "Abaca, n. [The native name.]\nThe Manila hemp; cafe and \xc3\xa6on.\n");
    free(o);
}

/* ---- prepare and the manifest ------------------------------------------------------- */

TestSuite(corpus_prepare, .init = fixture_env, .fini = fixture_done);

Test(corpus_prepare, writes_every_part_and_a_manifest_whose_hash_matches)
{
    sl_manifest m;
    sl_error err;
    sl_prepare_opts o = {.data_dir = tu_dir};
    cr_assert_eq(sl_corpus_prepare("debian", &o, &m, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(m.n_sources, 6);
    static const char *const names[] = {"gcide", "wordnet", "perl", "python", "fortunes", "bible"};
    size_t want_docs[] = {N_ENTRIES, N_SYNSETS, 2 * 31, 41, N_FORTUNES, 40};
    for (int i = 0; i < 6; i++) {
        cr_assert_str_eq(m.src[i].name, names[i]);
        cr_assert_eq(m.src[i].docs, want_docs[i], "%s: %zu documents", names[i], m.src[i].docs);
        cr_assert_eq(m.src[i].train_docs + m.src[i].test_docs, m.src[i].docs);
        cr_assert_gt(m.src[i].test_docs, 0, "%s has no test documents", names[i]);
        cr_assert_gt(m.src[i].licence[0], 0);
        char p[1200];
        snprintf(p, sizeof p, "%s/%s.train.txt", m.dir, names[i]);
        struct stat st;
        cr_assert_eq(stat(p, &st), 0);
        cr_assert_eq((size_t)st.st_size, m.src[i].train_bytes);
    }
    char h[17];
    cr_assert_eq(sl_manifest_hash_files(&m, h, &err), SL_OK, "%s", err.msg);
    cr_assert_str_eq(h, m.hash);
    /* the manifest on disk reads back the same */
    sl_manifest back;
    cr_assert_eq(sl_manifest_read(m.dir, &back, &err), SL_OK, "%s", err.msg);
    cr_assert_str_eq(back.hash, m.hash);
    cr_assert_eq(back.src[4].test_bytes, m.src[4].test_bytes);
    /* the markup is gone from the parts */
    char *d;
    size_t n;
    char p[1200];
    snprintf(p, sizeof p, "%s/gcide.train.txt", m.dir);
    cr_assert_eq(sl_read_file(p, &d, &n, &err), SL_OK);
    cr_assert_null(strstr(d, "Webster"));
    cr_assert_null(strchr(d, '{'));
    cr_assert_null(strchr(d, '\\'));
    free(d);
    snprintf(p, sizeof p, "%s/bible.train.txt", m.dir);
    cr_assert_eq(sl_read_file(p, &d, &n, &err), SL_OK);
    cr_assert_null(strstr(d, "  1 And"), "verse numbers stay");
    cr_assert_not_null(strstr(d, "\nAnd verse 1 of chapter"));
    free(d);
}

Test(corpus_prepare, a_missing_package_names_the_file_and_the_package)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/root/usr/share/wordnet/data.noun", tu_dir);
    unlink(p);
    sl_manifest m;
    sl_error err;
    sl_prepare_opts o = {.data_dir = tu_dir};
    cr_assert_eq(sl_corpus_prepare("debian", &o, &m, &err), SL_ERUNTIME);
    cr_assert_not_null(strstr(err.msg, p), "%s", err.msg);
    cr_assert_not_null(strstr(err.msg, "wordnet-base"), "%s", err.msg);
}

/* Which fortune numbers a text holds. */
static void fortunes_in(const char *text, size_t n, int *has)
{
    memset(has, 0, N_FORTUNES * sizeof *has);
    for (const char *s = text; (s = strstr(s, "fortune #")) && s < text + n; s++)
        has[atoi(s + 9)] = 1;
}

Test(corpus_prepare, split_is_per_source_seeded_and_not_the_end_of_the_text)
{
    sl_corpus c;
    load_debian(&c, NULL);
    cr_assert_eq(c.n_sources, 6);
    for (int i = 0; i < c.n_sources; i++) {
        double share = (double)c.src[i].btest_len / (double)(c.src[i].btest_len + c.src[i].btrain_len);
        cr_assert(share > 0.03 && share < 0.12, "%s: test share %.3f", c.src[i].name, share);
    }
    /* the fortunes of the test part: spread over the file, not its last ones */
    int has[N_FORTUNES];
    const sl_corpus_source *f = &c.src[4];
    cr_assert_str_eq(f->name, "fortunes");
    fortunes_in((const char *)c.bytes + f->btest_start, f->btest_len, has);
    int n_test = 0, late = 0;
    for (int i = 0; i < N_FORTUNES; i++) {
        n_test += has[i];
        late += has[i] && i >= N_FORTUNES - 40;
    }
    cr_assert(n_test >= 15 && n_test <= 30, "%d test fortunes", n_test);
    cr_assert_lt(late, n_test, "every test fortune is from the end");
    char hash[17];
    snprintf(hash, sizeof hash, "%s", c.hash);
    sl_corpus_free(&c);
    /* prepared again: the same documents in the same parts */
    sl_manifest m;
    sl_error err;
    sl_prepare_opts o = {.data_dir = tu_dir};
    cr_assert_eq(sl_corpus_prepare("debian", &o, &m, &err), SL_OK, "%s", err.msg);
    cr_assert_str_eq(m.hash, hash);
    /* a source alone has the same split as inside the mix */
    sl_corpus one;
    sl_corpus_opts co = {.path = "debian:fortunes", .data_dir = tu_dir};
    cr_assert_eq(sl_corpus_load(&one, &co, &err), SL_OK, "%s", err.msg);
    int has2[N_FORTUNES];
    fortunes_in((const char *)one.bytes + one.src[0].btest_start, one.src[0].btest_len, has2);
    cr_assert_arr_eq(has, has2, sizeof has);
    sl_corpus_free(&one);
}

Test(corpus_prepare, changed_parts_are_refused_naming_both_hashes)
{
    sl_corpus c;
    load_debian(&c, NULL);
    char dir[1100], p[1300], hash[17];
    snprintf(dir, sizeof dir, "%s", c.source);
    snprintf(hash, sizeof hash, "%s", c.hash);
    sl_corpus_free(&c);
    snprintf(p, sizeof p, "%s/fortunes.test.txt", dir);
    char *d;
    size_t n;
    sl_error err;
    cr_assert_eq(sl_read_file(p, &d, &n, &err), SL_OK);
    d[0] ^= 1; /* same size, other content */
    tu_write(p, d, n);
    free(d);
    sl_corpus_opts o = {.path = "debian", .data_dir = tu_dir};
    cr_assert_eq(sl_corpus_load(&c, &o, &err), SL_EINPUT);
    cr_assert_not_null(strstr(err.msg, hash), "%s", err.msg);
    cr_assert_not_null(strstr(err.msg, "hash"), "%s", err.msg);
}

/* ---- subsets, sampler, evaluation --------------------------------------------------------- */

Test(corpus_prepare, d_subsets_are_nested_random_and_keep_the_mix)
{
    sl_corpus c;
    load_debian(&c, NULL);
    size_t s1[SL_MAX_SOURCES], l1[SL_MAX_SOURCES], s2[SL_MAX_SOURCES], l2[SL_MAX_SOURCES], t1, t2;
    size_t d1 = c.n_train / 10, d2 = c.n_train / 3;
    int n1 = sl_corpus_subset(&c, d1, s1, l1, &t1), n2 = sl_corpus_subset(&c, d2, s2, l2, &t2);
    cr_assert_eq(n1, 6);
    cr_assert_eq(n2, 6);
    cr_assert(labs((long)t1 - (long)d1) <= 6 && labs((long)t2 - (long)d2) <= 6, "%zu %zu", t1, t2);
    for (int i = 0; i < 6; i++) {
        /* nested: the smaller subset is the start of the larger one */
        cr_assert_eq(s1[i], s2[i]);
        cr_assert_leq(l1[i], l2[i]);
        cr_assert_leq(s2[i] + l2[i], c.src[i].train_start + c.src[i].train_len);
        /* the mix: each source's share of the subset is its share of the train part */
        double want = (double)c.src[i].train_len / (double)c.n_train;
        cr_assert(fabs((double)l1[i] / (double)t1 - want) < 0.002, "%s: %.4f vs %.4f", c.src[i].name,
                  (double)l1[i] / (double)t1, want);
    }
    /* random: the fortunes of the small subset are not the file's first ones */
    int has[N_FORTUNES];
    fortunes_in((const char *)c.bytes + s1[4], l1[4], has);
    int n = 0, first = 0;
    for (int i = 0; i < N_FORTUNES; i++) {
        n += has[i];
        first += has[i] && i < 60;
    }
    cr_assert_gt(n, 10);
    cr_assert_lt(first, n * 2 / 3, "%d of %d subset fortunes are among the first 60", first, n);
    /* epochs count against the subset */
    cr_assert_float_eq(sl_corpus_epochs(&c, d1, (double)t1 * 2), 2.0, 1e-9);
    cr_assert_float_eq(sl_corpus_epochs(&c, 0, (double)c.n_train), 1.0, 1e-9);
    sl_corpus_free(&c);
}

Test(corpus_prepare, sampler_windows_lie_inside_one_source_of_the_subset)
{
    sl_corpus c;
    load_debian(&c, NULL);
    size_t st[SL_MAX_SOURCES], ln[SL_MAX_SOURCES];
    size_t d = c.n_train / 4;
    int ns = sl_corpus_subset(&c, d, st, ln, NULL);
    sl_sampler s;
    sl_sampler_init(&s, 7, &c, d);
    const int B = 16, T = 32;
    int32_t in[16 * 32], tg[16 * 32];
    int seen[SL_MAX_SOURCES] = {0};
    for (int it = 0; it < 200; it++) {
        sl_sampler_next(&s, &c, B, T, in, tg);
        for (int b = 0; b < B; b++) {
            /* find the window: the tokens are bytes, so search the subset's text */
            int found = -1;
            for (int i = 0; i < ns && found < 0; i++)
                for (size_t k = st[i]; k + T + 1 <= st[i] + ln[i]; k++) {
                    int ok = 1;
                    for (int j = 0; j < T && ok; j++)
                        ok = c.tokens[k + j] == in[b * T + j] && c.tokens[k + j + 1] == tg[b * T + j];
                    if (ok) {
                        found = i;
                        break;
                    }
                }
            cr_assert_geq(found, 0, "a window outside the subset");
            seen[found]++;
        }
        if (it == 20)
            break; /* enough windows to see every source; the search is slow */
    }
    for (int i = 0; i < ns; i++)
        cr_assert_gt(seen[i], 0, "no window from %s", c.src[i].name);
    sl_corpus_free(&c);
}

Test(corpus_prepare, eval_windows_spread_over_every_source_by_size)
{
    sl_corpus c;
    load_debian(&c, NULL);
    const int T = 16;
    size_t n = sl_eval_sequences(&c, T, 0);
    cr_assert_gt(n, 50);
    size_t k = n / 3;
    int count[SL_MAX_SOURCES] = {0};
    for (size_t i = 0; i < k; i++) {
        int s;
        size_t at = sl_eval_window(&c, T, i, &s);
        cr_assert_geq(at, c.src[s].test_start);
        cr_assert_leq(at + T + 1, c.src[s].test_start + c.src[s].test_len);
        count[s]++;
    }
    for (int s = 0; s < c.n_sources; s++) {
        double want = (double)c.src[s].test_len / (double)(c.n_tokens - c.n_train);
        cr_assert(fabs((double)count[s] / (double)k - want) < 0.05, "%s: %.3f of the first windows, %.3f of the test part",
                  c.src[s].name, (double)count[s] / (double)k, want);
    }
    /* every window once over the whole order */
    char *hit = calloc(c.n_tokens, 1);
    for (size_t i = 0; i < n; i++) {
        size_t at = sl_eval_window(&c, T, i, NULL);
        cr_assert_eq(hit[at], 0, "window at %zu visited twice", at);
        hit[at] = 1;
    }
    free(hit);
    /* one source alone */
    size_t nf = sl_eval_sequences_source(&c, T, 4, 0);
    cr_assert_eq(nf, (c.src[4].test_len - 1) / T);
    sl_corpus_free(&c);
}

Test(corpus_prepare, held_out_sources_are_left_out_of_training)
{
    sl_corpus c;
    load_debian(&c, "fortunes");
    cr_assert_eq(c.n_sources, 5);
    for (int i = 0; i < c.n_sources; i++)
        cr_assert_str_neq(c.src[i].name, "fortunes");
    cr_assert_null(memmem(c.bytes, c.n_bytes, "fortune #", 9), "a held-out fortune in the corpus");
    sl_corpus_free(&c);
    sl_corpus_opts o = {.path = "debian", .data_dir = tu_dir, .exclude = "nosuch"};
    sl_error err;
    cr_assert_eq(sl_corpus_load(&c, &o, &err), SL_EINPUT);
    cr_assert_not_null(strstr(err.msg, "nosuch"), "%s", err.msg);
}

Test(corpus_prepare, data_prepare_prints_every_source_and_its_floors)
{
    char out[16384], err[8192];
    const char *args[] = {"data", "prepare", NULL};
    int rc = tu_run(out, sizeof out, err, sizeof err, 0, args);
    cr_assert_eq(rc, 0, "%s", err);
    static const char *const names[] = {"gcide", "wordnet", "perl", "python", "fortunes", "bible", "total"};
    for (int i = 0; i < 7; i++)
        cr_assert_not_null(strstr(out, names[i]), "%s missing:\n%s", names[i], out);
    cr_assert_not_null(strstr(out, "test bytes"), "%s", out);
    cr_assert_not_null(strstr(out, "per source"), "%s", out);
    cr_assert_not_null(strstr(out, "manifest.json"), "%s", out);
}

/* ---- raw uint16 and llm.c shards, and the vocabulary ---------------------------------------- */

TestSuite(corpus_bin, .init = tu_make_dir, .fini = tu_remove_dir);

static void write_raw(const char *path, size_t n, unsigned mod)
{
    uint8_t *b = malloc(2 * n);
    for (size_t i = 0; i < n; i++) {
        unsigned t = (unsigned)((i * 7 + i / 3) % mod);
        b[2 * i] = (uint8_t)t;
        b[2 * i + 1] = (uint8_t)(t >> 8);
    }
    tu_write(path, b, 2 * n);
    free(b);
}

static void write_llmc(const char *path, size_t n, unsigned mod)
{
    uint8_t *b = calloc(1, 1024 + 2 * n);
    int32_t h[3] = {20240520, 1, (int32_t)n};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < 4; i++)
            b[4 * k + i] = (uint8_t)((uint32_t)h[k] >> (8 * i));
    for (size_t i = 0; i < n; i++) {
        unsigned t = (unsigned)((i * 5 + i / 2) % mod);
        b[1024 + 2 * i] = (uint8_t)t;
        b[1024 + 2 * i + 1] = (uint8_t)(t >> 8);
    }
    tu_write(path, b, 1024 + 2 * n);
    free(b);
}

static void assert_trains(const char *dir, const char *extra)
{
    char out[8192], err[8192];
    const char *args[] = {"train", "--data", dir, "--layers", "1", "--d-model", "16", "--heads", "1",
                          "--ctx", "16", "--batch", "2", "--steps", "3", "--eval-every", "3",
                          "--eval-tokens", "64", "--quiet", extra, extra ? "raw-u16" : NULL, NULL};
    int rc = tu_run(out, sizeof out, err, sizeof err, 0, args);
    cr_assert_eq(rc, 0, "%s: %s", dir, err);
}

Test(corpus_bin, nanogpt_raw_files_and_llmc_shards_both_train)
{
    char raw[512], llmc[512], p[600];
    cr_assert_eq(mkdir(tu_path(raw, sizeof raw, "nanogpt"), 0755), 0);
    snprintf(p, sizeof p, "%s/train.bin", raw);
    write_raw(p, 4000, 300);
    snprintf(p, sizeof p, "%s/val.bin", raw);
    write_raw(p, 600, 300);
    cr_assert_eq(mkdir(tu_path(llmc, sizeof llmc, "llmc"), 0755), 0);
    snprintf(p, sizeof p, "%s/x_train_000001.bin", llmc);
    write_llmc(p, 4000, 300);
    snprintf(p, sizeof p, "%s/x_val_000000.bin", llmc);
    write_llmc(p, 600, 300);
    sl_corpus c;
    sl_error err;
    sl_corpus_opts o = {.path = raw, .data_dir = tu_dir};
    cr_assert_eq(sl_corpus_load(&c, &o, &err), SL_OK, "%s", err.msg);
    cr_assert_str_eq(c.format, "raw-u16");
    cr_assert_eq(c.n_train, 4000, "train.bin is the train part");
    cr_assert_eq(c.n_tokens, 4600);
    sl_corpus_free(&c);
    o.path = llmc;
    cr_assert_eq(sl_corpus_load(&c, &o, &err), SL_OK, "%s", err.msg);
    cr_assert_str_eq(c.format, "llm.c");
    cr_assert_eq(c.n_train, 4000);
    sl_corpus_free(&c);
    assert_trains(raw, NULL);
    assert_trains(raw, "--format");
    assert_trains(llmc, NULL);
    /* --format raw-u16 reads an llm.c shard's header as tokens too */
    o.path = llmc;
    o.format = SL_FORMAT_RAW_U16;
    cr_assert_eq(sl_corpus_load(&c, &o, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(c.n_train, 4000 + 512);
    sl_corpus_free(&c);
}

Test(corpus_bin, eval_corpus_outside_the_vocabulary_exits_2_naming_it)
{
    char dir[512], p[600], text[600], preset[600], runs[600];
    cr_assert_eq(mkdir(tu_path(dir, sizeof dir, "small"), 0755), 0);
    snprintf(p, sizeof p, "%s/train.bin", dir);
    write_raw(p, 20000, 100); /* tokens 0..99: vocab 100 */
    snprintf(p, sizeof p, "%s/val.bin", dir);
    write_raw(p, 2000, 100);
    /* a byte text has tokens up to 255 */
    tu_path(text, sizeof text, "other.txt");
    char *t = NULL;
    size_t n = 0;
    for (int i = 0; i < 400; i++)
        t = grow(t, &n, "line %d with bytes \xc3\xa9\xff\n", i);
    tu_write(text, t, n);
    free(t);
    tu_path(preset, sizeof preset, "v.json");
    char body[2048];
    snprintf(body, sizeof body,
             "{\"name\": \"v\", \"data\": {\"corpus\": \"%s\", \"eval_corpus\": \"%s\"},\n"
             " \"model\": {\"n_ctx\": 16, \"head_size\": 8, \"aspect\": 8},\n"
             " \"sweep\": {\"kind\": \"n\", \"n\": [2000]},\n"
             " \"train\": {\"batch\": 2, \"steps\": 2, \"eval_every\": 1, \"eval_tokens\": 64}}\n",
             dir, text);
    tu_write(preset, body, strlen(body));
    tu_path(runs, sizeof runs, "runs");
    tu_assert_bad_input(text, (const char *const[]){"run", preset, "--runs", runs, "--quiet", NULL});
    char store[700];
    snprintf(store, sizeof store, "%s/v", runs);
    struct stat st;
    cr_assert_neq(stat(store, &st), 0, "the store was created");
}

/* ---- the shipped presets against the recorded manifest --------------------------------------- */

TestSuite(corpus_presets);

/* A corpus of the recorded manifest's sizes (bytes as tokens), without text:
 * what planning needs. */
static void corpus_of_manifest(sl_corpus *c, const sl_manifest *m, const char *exclude)
{
    memset(c, 0, sizeof *c);
    size_t at = 0;
    int k = 0;
    for (int p = 0; p < 2; p++) {
        k = 0;
        for (int i = 0; i < m->n_sources; i++) {
            if (exclude && strstr(exclude, m->src[i].name))
                continue;
            sl_corpus_source *s = &c->src[k++];
            snprintf(s->name, sizeof s->name, "%s", m->src[i].name);
            size_t l = p ? m->src[i].test_bytes : m->src[i].train_bytes;
            if (p) {
                s->test_start = at;
                s->test_len = l;
            } else {
                s->train_start = at;
                s->train_len = l;
            }
            at += l;
        }
        if (p == 0)
            c->n_train = at;
    }
    c->n_sources = k;
    c->n_tokens = at;
    c->vocab = 256;
    snprintf(c->name, sizeof c->name, "debian");
}

Test(corpus_presets, every_shipped_preset_trains_at_most_one_epoch)
{
    sl_manifest m;
    sl_error err;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/docs/corpus", SL_SOURCE_DIR);
    cr_assert_eq(sl_manifest_read(dir, &m, &err), SL_OK, "%s", err.msg);
    size_t total = 0;
    for (int i = 0; i < m.n_sources; i++)
        total += m.src[i].train_bytes + m.src[i].test_bytes;
    cr_assert_geq(total, 50000000, "the recorded corpus is %zu bytes", total);
    char pdir[1024];
    snprintf(pdir, sizeof pdir, "%s/presets", SL_SOURCE_DIR);
    DIR *d = opendir(pdir);
    cr_assert_not_null(d);
    struct dirent *e;
    int checked = 0;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".json"))
            continue;
        char path[2100];
        snprintf(path, sizeof path, "%s/%s", pdir, e->d_name);
        sl_preset p;
        cr_assert_eq(sl_preset_load(&p, path, &err), SL_OK, "%s", err.msg);
        cr_assert_str_eq(p.corpus, "debian", "%s trains on %s", e->d_name, p.corpus);
        sl_corpus c;
        corpus_of_manifest(&c, &m, p.holdout[0] ? p.holdout : NULL);
        cr_assert_eq(sl_preset_plan(&p, &c, &err), SL_OK, "%s", err.msg);
        cr_assert_leq(p.max_epochs, 1.0, "%s: a run trains %.2f epochs", e->d_name, p.max_epochs);
        char w[1024];
        sl_preset_epoch_warning(&p, &c, w, sizeof w);
        cr_assert_str_eq(w, "");
        for (int r = 0; r < p.n_runs; r++)
            cr_assert_leq(p.runs[r].train.data_limit, c.n_train);
        sl_preset_free(&p);
        checked++;
    }
    closedir(d);
    cr_assert_geq(checked, 14);
}

Test(corpus_presets, a_run_past_one_epoch_is_warned_about)
{
    sl_manifest m;
    sl_error err;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/docs/corpus", SL_SOURCE_DIR);
    cr_assert_eq(sl_manifest_read(dir, &m, &err), SL_OK, "%s", err.msg);
    sl_corpus c;
    corpus_of_manifest(&c, &m, NULL);
    sl_preset p;
    const char *text = "{\"name\": \"long\", \"model\": {\"n_ctx\": 64},\n"
                       " \"sweep\": {\"kind\": \"n\", \"n\": [5000, 20000]},\n"
                       " \"train\": {\"batch\": 32, \"tokens\": 2e8}}";
    cr_assert_eq(sl_preset_parse(&p, text, "long.json", &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_preset_plan(&p, &c, &err), SL_OK, "%s", err.msg);
    cr_assert_gt(p.max_epochs, 3.0);
    char w[1024];
    sl_preset_epoch_warning(&p, &c, w, sizeof w);
    cr_assert_not_null(strstr(w, "long.json: warning: run r000"), "%s", w);
    cr_assert_not_null(strstr(w, "epochs"), "%s", w);
    cr_assert_null(strchr(w, '\n'));
    sl_preset_free(&p);
}

/* ---- what a sweep on the named corpus records ----------------------------------------------- */

static char *su_read_or_die(const char *path)
{
    char *d;
    size_t n;
    sl_error err;
    cr_assert_eq(sl_read_file(path, &d, &n, &err), SL_OK, "%s", err.msg);
    return d;
}

/* The value of `param` in a fits.csv written by `fit --csv`. */
static double fits_value(const char *path, const char *param)
{
    char *d;
    size_t n;
    sl_error err;
    cr_assert_eq(sl_read_file(path, &d, &n, &err), SL_OK, "%s", err.msg);
    char key[64];
    snprintf(key, sizeof key, ",%s,", param);
    char *at = strstr(d, key);
    cr_assert_not_null(at, "%s not in %s", param, d);
    double v = strtod(at + strlen(key), NULL);
    free(d);
    return v;
}

/* A sweep on the Debian corpus records bits per byte beside nats per token
 * (metrics.csv, status.json, status, the exports), the epochs each run saw,
 * and each source's held-out loss at the end (sources.csv); `fit --loss bpb`
 * fits the same points in bits per byte. */
Test(corpus_prepare, a_sweep_records_bits_per_byte_epochs_and_each_source, .timeout = 300)
{
    char preset[600], runs[600], dir[700], path[900];
    snprintf(preset, sizeof preset, "%s/bpb.json", tu_dir);
    const char *text = "{\"name\": \"bpb\", \"data\": {\"corpus\": \"debian\"},\n"
                       " \"model\": {\"n_ctx\": 32, \"head_size\": 16, \"aspect\": 16},\n"
                       " \"sweep\": {\"n\": [3000, 6000, 12000]},\n"
                       " \"train\": {\"batch\": 8, \"steps\": 30, \"eval_every\": 10, \"eval_tokens\": 1024,"
                       " \"threads\": 1}}\n";
    tu_write(preset, text, strlen(text));
    snprintf(runs, sizeof runs, "%s/runs", tu_dir);
    snprintf(dir, sizeof dir, "%s/bpb", runs);
    char out[16384], err[8192];
    const char *ra[] = {"run", preset, "--runs", runs, "--quiet", NULL};
    cr_assert_eq(tu_run(out, sizeof out, err, sizeof err, 0, ra), 0, "%s", err);
    /* metrics.csv: byte tokens, so bits per byte are nats per token / ln 2 */
    snprintf(path, sizeof path, "%s/r000-L1-d16-s1/metrics.csv", dir);
    sl_metric_row *rows;
    size_t nr;
    sl_error e;
    cr_assert_eq(sl_metrics_read(path, &rows, &nr, NULL, &e), SL_OK, "%s", e.msg);
    cr_assert_eq(nr, 4u);
    for (size_t i = 0; i < nr; i++)
        cr_assert_float_eq(rows[i].test_bpb, rows[i].test_loss / log(2.0), 1e-12, "row %zu", i);
    free(rows);
    /* status.json: the best in bits per byte and the epochs seen (30 steps of
     * 8 x 32 tokens over the train part) */
    snprintf(path, sizeof path, "%s/r000-L1-d16-s1", dir);
    sl_run_status st;
    cr_assert_eq(sl_status_read(path, &st, &e), SL_OK, "%s", e.msg);
    cr_assert_float_eq(st.best_test_bpb, st.best_test_loss / log(2.0), 1e-12);
    sl_corpus c;
    load_debian(&c, NULL);
    cr_assert_float_eq(st.epochs, 30.0 * 8 * 32 / (double)c.n_train, 1e-12, "epochs %g", st.epochs);
    /* sources.csv: every source of the corpus, in manifest order */
    sl_source_loss *src;
    int ns;
    cr_assert_eq(sl_sources_read(path, &src, &ns, &e), SL_OK, "%s", e.msg);
    cr_assert_eq(ns, c.n_sources);
    for (int k = 0; k < ns; k++) {
        cr_assert_str_eq(src[k].name, c.src[k].name);
        cr_assert(isfinite(src[k].test_loss) && src[k].test_loss > 0, "%s: %g", src[k].name, src[k].test_loss);
        cr_assert_float_eq(src[k].test_bpb, src[k].test_loss / log(2.0), 1e-12, "%s", src[k].name);
    }
    free(src);
    sl_corpus_free(&c);
    /* status prints them; export writes them */
    const char *sa[] = {"status", dir, NULL};
    cr_assert_eq(tu_run(out, sizeof out, err, sizeof err, 0, sa), 0, "%s", err);
    cr_assert_not_null(strstr(out, "epochs"), "%s", out);
    cr_assert_not_null(strstr(out, "bpb"), "%s", out);
    cr_assert_not_null(strstr(out, "held-out loss per source"), "%s", out);
    cr_assert_not_null(strstr(out, " fortunes "), "%s", out);
    char csv[700];
    snprintf(csv, sizeof csv, "%s/csv", tu_dir);
    const char *ea[] = {"export", dir, "--csv", csv, NULL};
    cr_assert_eq(tu_run(out, sizeof out, err, sizeof err, 0, ea), 0, "%s", err);
    char *d;
    size_t n;
    snprintf(path, sizeof path, "%s/runs.csv", csv);
    cr_assert_eq(sl_read_file(path, &d, &n, &e), SL_OK, "%s", e.msg);
    cr_assert_not_null(strstr(d, ",best_test_loss,final_test_loss,best_test_bpb,final_test_bpb,epochs,"), "%s", d);
    free(d);
    snprintf(path, sizeof path, "%s/curves.csv", csv);
    cr_assert_eq(sl_read_file(path, &d, &n, &e), SL_OK, "%s", e.msg);
    cr_assert_not_null(strstr(d, ",wall_s,test_bpb\n"), "%.200s", d);
    free(d);
    snprintf(path, sizeof path, "%s/sources.csv", csv);
    cr_assert_eq(sl_read_file(path, &d, &n, &e), SL_OK, "%s", e.msg);
    cr_assert(!strncmp(d, "run,source,test_tokens,test_bytes,test_loss,test_bpb\n", 53), "%.200s", d);
    cr_assert_not_null(strstr(d, "\nr002-L1-d32-s1,bible,"), "%s", d);
    free(d);
    /* fit --loss bpb: L/ln 2 is the same power of N, so alpha_N is the same */
    char fa_csv[800], fb_csv[800];
    snprintf(fa_csv, sizeof fa_csv, "%s/nats.csv", tu_dir);
    snprintf(fb_csv, sizeof fb_csv, "%s/bpb.csv", tu_dir);
    const char *fa[] = {"fit", dir, "--law", "power-n", "--bootstrap", "0", "--csv", fa_csv, NULL};
    const char *fb[] = {"fit", dir, "--law", "power-n", "--bootstrap", "0", "--loss", "bpb", "--csv", fb_csv, NULL};
    cr_assert_eq(tu_run(out, sizeof out, err, sizeof err, 0, fa), 0, "%s", err);
    cr_assert_eq(tu_run(out, sizeof out, err, sizeof err, 0, fb), 0, "%s", err);
    double a_nats = fits_value(fa_csv, "alpha"), a_bpb = fits_value(fb_csv, "alpha");
    cr_assert_float_eq(a_bpb, a_nats, 1e-6 * fabs(a_nats) + 1e-9, "alpha_N %g (bpb) vs %g (nats)", a_bpb, a_nats);
    /* a store whose rows have no bits per byte (as before test_bpb): fit
     * --loss bpb is refused with one line, exit 2 */
    static const char *const ids[] = {"r000-L1-d16-s1", "r001-L2-d16-s1", "r002-L1-d32-s1"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s/metrics.csv", dir, ids[i]);
        cr_assert_eq(sl_metrics_read(path, &rows, &nr, NULL, &e), SL_OK, "%s", e.msg);
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f);
        fprintf(f, "step,tokens,flops,train_loss,test_loss,lr,grad_norm,noise_scale,wall_s\n");
        for (size_t k = 0; k < nr; k++)
            cr_assert_eq(sl_metrics_write_row(f, &rows[k], SL_METRICS_NO_BPB, NAN), 0);
        fclose(f);
        free(rows);
    }
    tu_assert_bad_input("bpb: no run has a test loss in bits per byte", fb);
    /* a damaged sources.csv: status and export name the file, line and column */
    snprintf(path, sizeof path, "%s/r001-L2-d16-s1/sources.csv", dir);
    const char *bad = "source,test_tokens,test_bytes,test_loss,test_bpb\ngcide,1,1,oops,1\n";
    tu_write(path, bad, strlen(bad));
    tu_assert_bad_input("r001-L2-d16-s1/sources.csv:line 2: test_loss: 'oops'", sa);
    char before[900];
    snprintf(before, sizeof before, "%s/runs.csv", csv);
    char *kept = su_read_or_die(before);
    snprintf(path, sizeof path, "%s/r001-L2-d16-s1/status.json", dir);
    unlink(path); /* would change runs.csv, were it written */
    tu_assert_bad_input("r001-L2-d16-s1/sources.csv:line 2: test_loss: 'oops'", ea);
    char *now = su_read_or_die(before);
    cr_assert_str_eq(now, kept, "the export was left as it was");
    free(kept);
    free(now);
}

/* For BPE, bits per byte are the total nats over the test bytes / ln 2: the
 * loss times the test part's tokens per byte; for bytes, nats / ln 2; token
 * files have none. */
Test(corpus_prepare, bits_per_byte_of_bytes_and_of_bpe)
{
    sl_corpus c;
    load_debian(&c, NULL);
    cr_assert_float_eq(sl_corpus_bpb(&c, 1.5), 1.5 / log(2.0), 1e-15);
    sl_corpus_free(&c);
    sl_corpus_opts o = {.path = "debian", .data_dir = tu_dir, .tokenizer = "bpe:300"};
    sl_error err;
    cr_assert_eq(sl_corpus_load(&c, &o, &err), SL_OK, "%s", err.msg);
    double tokens = (double)(c.n_tokens - c.n_train), bytes = (double)(c.n_bytes - c.n_train_bytes);
    cr_assert_lt(tokens, bytes, "BPE merges bytes");
    cr_assert_float_eq(sl_corpus_bpb(&c, 2.0), 2.0 * tokens / bytes / log(2.0), 1e-12);
    sl_corpus_free(&c);
}
