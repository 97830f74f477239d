/* BPE: encode then decode gives the text back byte for byte (real text and
 * arbitrary bytes); training is deterministic and agrees with a naive
 * reference that recounts every pair at every step; the cache file round-trips
 * and every kind of damage to it is detected, and sl_corpus_load retrains over
 * a damaged cache instead of trusting it. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scalelab/bpe.h"
#include "scalelab/data.h"
#include "scalelab/util.h"
#include "testutil.h"

/* ---- fixtures ----------------------------------------------------------- */


/* A few hundred KB of the King James text when bible-kjv is installed,
 * otherwise text generated from a fixed word list with a fixed seed. */
static uint8_t *real_text(size_t *n)
{
    FILE *p = popen("bible Genesis1:1-Exodus40:38 2>/dev/null </dev/null", "r");
    size_t cap = 1 << 20, len = 0;
    uint8_t *buf = sl_xmalloc(cap);
    if (p) {
        size_t r;
        while (len < cap && (r = fread(buf + len, 1, cap - len, p)) > 0)
            len += r;
        pclose(p);
    }
    if (len < 100000) {
        static const char *words[] = {"the", "and", "of", "to", "in", "that", "he", "shall",
                                      "unto", "for", "his", "a", "lord", "they", "be", "is",
                                      "him", "not", "them", "it", "with", "all", "thou", "thy"};
        sl_rng r;
        sl_rng_seed(&r, 7);
        len = 0;
        while (len + 16 < 300000) {
            const char *w = words[sl_rng_below(&r, sizeof words / sizeof *words)];
            len += (size_t)sprintf((char *)buf + len, "%s%s", w,
                                   sl_rng_below(&r, 12) == 0 ? ".\n" : " ");
        }
    }
    *n = len;
    return buf;
}

static void assert_roundtrip(sl_bpe *b, const uint8_t *text, size_t n)
{
    uint16_t *tok = sl_xmalloc(n * sizeof *tok);
    size_t nt;
    sl_error err;
    cr_assert_eq(sl_bpe_encode(b, text, n, tok, &nt, &err), SL_OK);
    cr_assert_leq(nt, n);
    uint8_t *back = sl_xmalloc(n + 1);
    size_t m = sl_bpe_decode(b, tok, nt, back, n + 1);
    cr_assert_eq(m, n, "decoded %zu bytes of %zu", m, n);
    cr_assert(memcmp(back, text, n) == 0, "decoded text differs");
    free(tok);
    free(back);
}

/* ---- round trips -------------------------------------------------------- */

Test(bpe, encode_decode_is_byte_exact_on_real_text)
{
    size_t n;
    uint8_t *text = real_text(&n);
    sl_bpe *b;
    sl_error err;
    cr_assert_eq(sl_bpe_train(text, n, 2048, &b, &err), SL_OK);
    const uint16_t(*m)[2];
    cr_assert_gt(sl_bpe_merges(b, &m), 500, "too few merges learned");
    assert_roundtrip(b, text, n);
    /* Text it never saw, including bytes outside every merge. */
    const char *other = "Zebras quickly jumped over 12345 \t\t lazy dogs!!\r\n\xc3\xa9t\xc3\xa9";
    assert_roundtrip(b, (const uint8_t *)other, strlen(other));
    sl_bpe_free(b);
    free(text);
}

Test(bpe, roundtrips_bytes_that_are_not_utf8)
{
    size_t n = 50000;
    uint8_t *text = sl_xmalloc(n);
    sl_rng r;
    sl_rng_seed(&r, 3);
    /* Half random bytes (with NUL, 0xff, lone continuation bytes), half a
     * repeated pattern so that merges involve high bytes too. */
    for (size_t i = 0; i < n; i++)
        text[i] = (i / 1000) % 2 ? (uint8_t)sl_rng_next(&r) : (uint8_t)"\xff\xfe\x00\x80 ab"[i % 7];
    sl_bpe *b;
    sl_error err;
    cr_assert_eq(sl_bpe_train(text, n, 600, &b, &err), SL_OK);
    assert_roundtrip(b, text, n);
    sl_bpe_free(b);
    free(text);
}

/* ---- determinism and the reference ------------------------------------- */

Test(bpe, training_twice_gives_identical_merges)
{
    size_t n;
    uint8_t *text = real_text(&n);
    sl_bpe *a, *b;
    sl_error err;
    cr_assert_eq(sl_bpe_train(text, n, 4096, &a, &err), SL_OK);
    cr_assert_eq(sl_bpe_train(text, n, 4096, &b, &err), SL_OK);
    const uint16_t(*ma)[2], (*mb)[2];
    int na = sl_bpe_merges(a, &ma), nb = sl_bpe_merges(b, &mb);
    cr_assert_eq(na, nb);
    cr_assert(memcmp(ma, mb, (size_t)na * sizeof *ma) == 0, "merges differ");
    sl_bpe_free(a);
    sl_bpe_free(b);
    free(text);
}

/* The documented chunk rule, written again independently of bpe.c. */
static int is_space(int c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }
static int cls(int c)
{
    if (is_space(c))
        return 0;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80)
        return 1;
    if (c >= '0' && c <= '9')
        return 2;
    return 3;
}

/* Naive BPE: recount every pair of every chunk occurrence at every step; pick
 * the highest count, ties to the smallest (left, right). */
static int naive_bpe(const uint8_t *t, size_t n, int vocab, uint16_t (*merges)[2])
{
    uint16_t *sym = sl_xmalloc(n * sizeof *sym);
    size_t *start = sl_xmalloc((n + 1) * sizeof *start), *len = sl_xmalloc(n * sizeof *len);
    size_t nw = 0;
    for (size_t i = 0; i < n;) {
        size_t lim = n - i > 64 ? i + 64 : n, j = i;
        if (t[j] == ' ' && j + 1 < lim && !is_space(t[j + 1]))
            j++;
        int k = cls(t[j++]);
        if (k == 0) {
            while (j < lim && is_space(t[j]) && !(t[j] == ' ' && j + 1 < n && !is_space(t[j + 1])))
                j++;
        } else {
            while (j < lim && cls(t[j]) == k)
                j++;
        }
        start[nw] = i;
        len[nw++] = j - i;
        i = j;
    }
    for (size_t i = 0; i < n; i++)
        sym[i] = t[i];
    int nm = 0;
    long *count = sl_xmalloc((size_t)vocab * vocab * sizeof *count);
    for (int step = 0; step < vocab - 256; step++) {
        memset(count, 0, (size_t)vocab * vocab * sizeof *count);
        for (size_t w = 0; w < nw; w++)
            for (size_t q = 0; q + 1 < len[w]; q++)
                count[sym[start[w] + q] * vocab + sym[start[w] + q + 1]]++;
        long best = 1;
        int ba = -1, bb = -1;
        for (int a = 0; a < vocab; a++)
            for (int b = 0; b < vocab; b++)
                if (count[a * vocab + b] > best) {
                    best = count[a * vocab + b];
                    ba = a;
                    bb = b;
                }
        if (ba < 0)
            break;
        merges[nm][0] = (uint16_t)ba;
        merges[nm][1] = (uint16_t)bb;
        nm++;
        for (size_t w = 0; w < nw; w++) {
            uint16_t *s = sym + start[w];
            size_t j = 0;
            for (size_t q = 0; q < len[w];) {
                if (q + 1 < len[w] && s[q] == ba && s[q + 1] == bb) {
                    s[j++] = (uint16_t)(256 + step);
                    q += 2;
                } else {
                    s[j++] = s[q++];
                }
            }
            len[w] = j;
        }
    }
    free(count);
    free(sym);
    free(start);
    free(len);
    return nm;
}

Test(bpe, training_matches_a_naive_reference)
{
    size_t n;
    uint8_t *text = real_text(&n);
    n = 30000;
    /* Some high and odd bytes so that those paths are covered too. */
    memcpy(text + 1000, "  \xe2\x80\x94 aaaa  bbbb\t\t\n\n 123 45!! \xff\xff\xff", 31);
    int vocab = 400;
    uint16_t(*ref)[2] = sl_xmalloc((size_t)(vocab - 256) * sizeof *ref);
    int nref = naive_bpe(text, n, vocab, ref);
    sl_bpe *b;
    sl_error err;
    cr_assert_eq(sl_bpe_train(text, n, vocab, &b, &err), SL_OK);
    const uint16_t(*m)[2];
    int nm = sl_bpe_merges(b, &m);
    cr_assert_eq(nm, nref);
    for (int i = 0; i < nm; i++)
        cr_assert(m[i][0] == ref[i][0] && m[i][1] == ref[i][1],
                  "merge %d: (%d, %d), reference (%d, %d)", i, m[i][0], m[i][1], ref[i][0], ref[i][1]);
    sl_bpe_free(b);
    free(ref);
    free(text);
}

Test(bpe, rejects_vocab_out_of_range)
{
    sl_bpe *b;
    sl_error err;
    cr_assert_eq(sl_bpe_train((const uint8_t *)"ab", 2, 256, &b, &err), SL_EINPUT);
    cr_assert_eq(sl_bpe_train((const uint8_t *)"ab", 2, 65536, &b, &err), SL_EINPUT);
    cr_assert_not_null(strstr(err.msg, "vocab"));
}

/* ---- the cache file ----------------------------------------------------- */

static sl_bpe *small_bpe(void)
{
    size_t n;
    uint8_t *text = real_text(&n);
    sl_bpe *b;
    sl_error err;
    cr_assert_eq(sl_bpe_train(text, 100000, 512, &b, &err), SL_OK);
    free(text);
    return b;
}

static void rewrite_byte(const char *path, long off, int value)
{
    FILE *f = fopen(path, "r+b");
    cr_assert_not_null(f);
    if (off < 0)
        fseek(f, off, SEEK_END);
    else
        fseek(f, off, SEEK_SET);
    fputc(value, f);
    fclose(f);
}

Test(bpe, cache_round_trip_gives_identical_merges, .init = tu_make_dir, .fini = tu_remove_dir)
{
    sl_bpe *b = small_bpe(), *c;
    char path[512];
    snprintf(path, sizeof path, "%s/bpe.tok", tu_dir);
    sl_error err;
    cr_assert_eq(sl_bpe_save(b, path, 42, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_bpe_load(path, 512, 42, &c, &err), SL_OK, "%s", err.msg);
    const uint16_t(*mb)[2], (*mc)[2];
    int nb = sl_bpe_merges(b, &mb), nc = sl_bpe_merges(c, &mc);
    cr_assert_eq(nb, nc);
    cr_assert(memcmp(mb, mc, (size_t)nb * sizeof *mb) == 0);
    cr_assert_eq(sl_bpe_vocab(c), 512);
    sl_bpe_free(b);
    sl_bpe_free(c);
}

Test(bpe, damaged_cache_files_are_rejected, .init = tu_make_dir, .fini = tu_remove_dir)
{
    sl_bpe *b = small_bpe(), *c = NULL;
    char path[512];
    snprintf(path, sizeof path, "%s/bpe.tok", tu_dir);
    sl_error err;
    struct {
        long off;
        int value;
        const char *field;
    } cases[] = {
        {0, 'X', "magic"}, {4, 9, "version"}, {40, 0x7f, "checksum"}, {-1, 0x00, "checksum"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cr_assert_eq(sl_bpe_save(b, path, 42, &err), SL_OK);
        rewrite_byte(path, cases[i].off, cases[i].value);
        cr_assert_eq(sl_bpe_load(path, 512, 42, &c, &err), SL_EINPUT, "case %zu loaded", i);
        cr_assert_null(c);
        cr_assert_not_null(strstr(err.msg, cases[i].field), "case %zu: %s", i, err.msg);
        cr_assert_not_null(strstr(err.msg, path), "%s", err.msg);
    }
    cr_assert_eq(sl_bpe_save(b, path, 42, &err), SL_OK);
    cr_assert_eq(sl_bpe_load(path, 512, 43, &c, &err), SL_EINPUT, "another corpus's key loaded");
    cr_assert_eq(sl_bpe_load(path, 1024, 42, &c, &err), SL_EINPUT, "another vocab loaded");
    cr_assert_eq(truncate(path, 100), 0);
    cr_assert_eq(sl_bpe_load(path, 512, 42, &c, &err), SL_EINPUT, "truncated file loaded");
    sl_bpe_free(b);
}

/* The cache path sl_corpus_load used (the only bpe-*.tok in tu_dir). */
static void cache_file(char *out, size_t len)
{
    DIR *d = opendir(tu_dir);
    struct dirent *e;
    out[0] = 0;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, "bpe-", 4))
            snprintf(out, len, "%s/%s", tu_dir, e->d_name);
    closedir(d);
}

Test(bpe, corpus_load_retrains_over_a_corrupt_cache, .init = tu_make_dir, .fini = tu_remove_dir)
{
    size_t n;
    uint8_t *text = real_text(&n);
    char txt[512], tok[512];
    snprintf(txt, sizeof txt, "%s/corpus.txt", tu_dir);
    sl_error err;
    cr_assert_eq(sl_write_atomic(txt, text, 120000, &err), SL_OK);
    free(text);
    sl_corpus_opts o = {.path = txt, .tokenizer = "bpe:700", .data_dir = tu_dir};
    sl_corpus a, b, c;
    cr_assert_eq(sl_corpus_load(&a, &o, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(a.cache_state, SL_CACHE_TRAINED);
    cache_file(tok, sizeof tok);
    cr_assert_str_eq(tok, a.cache_path);
    cr_assert_eq(sl_corpus_load(&b, &o, &err), SL_OK);
    cr_assert_eq(b.cache_state, SL_CACHE_LOADED);
    rewrite_byte(tok, 30, 0xee);
    cr_assert_eq(sl_corpus_load(&c, &o, &err), SL_OK);
    cr_assert_eq(c.cache_state, SL_CACHE_REPAIRED);
    cr_assert_not_null(strstr(c.cache_note, "checksum"), "%s", c.cache_note);
    cr_assert_eq(a.n_tokens, c.n_tokens);
    cr_assert(memcmp(a.tokens, c.tokens, a.n_tokens * sizeof *a.tokens) == 0);
    cr_assert_eq(a.n_tokens, b.n_tokens);
    /* The test tokens decode to exactly the held-out bytes; the key sits at
     * offset 16 of the cache file. */
    cr_assert_lt(a.n_tokens, a.n_bytes);
    cr_assert_eq(a.n_train_bytes, a.n_bytes - (size_t)(0.05 * (double)a.n_bytes + 0.5));
    char *file;
    size_t flen;
    cr_assert_eq(sl_read_file(tok, &file, &flen, &err), SL_OK);
    uint64_t key = 0;
    for (int i = 7; i >= 0; i--)
        key = key << 8 | (uint8_t)file[16 + i];
    free(file);
    sl_bpe *bp;
    cr_assert_eq(sl_bpe_load(tok, 700, key, &bp, &err), SL_OK, "%s", err.msg);
    size_t n_test = a.n_bytes - a.n_train_bytes;
    uint8_t *back = sl_xmalloc(n_test + 1);
    size_t m = sl_bpe_decode(bp, a.tokens + a.n_train, a.n_tokens - a.n_train, back, n_test + 1);
    cr_assert_eq(m, n_test);
    cr_assert(memcmp(back, a.bytes + a.n_train_bytes, n_test) == 0);
    free(back);
    sl_bpe_free(bp);
    sl_corpus_free(&a);
    sl_corpus_free(&b);
    sl_corpus_free(&c);
}
