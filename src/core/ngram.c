/* ngram: byte n-gram baselines for data.h's sl_ngram_heldout.
 *
 * P(b | ctx) = (count(ctx b) + k) / (count(ctx) + 256 k), one model per order
 * n, no back-off. k is chosen per order on the train part alone: the counts of
 * its first 90% score its last 10% while a golden-section search over log10 k
 * in [-5, 1] finds the best k; the rest of the train part is then counted and
 * the test part scored with that k. Contexts reach back across the split, as a
 * model reading the text in order would see them. An n-gram of up to 7 bytes
 * packs exactly into a 64-bit key, so the hash tables never confuse two contexts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scalelab/data.h"

#define NGRAM_MAX 7

/* Counts keyed by up to 7 packed bytes; orders with at most 2 bytes use a
 * plain array. Keys are stored +1 so that 0 marks an empty slot. */
typedef struct {
    uint64_t *keys;
    uint32_t *vals;
    size_t cap, count;
    uint32_t *direct; /* 65536 entries when the key has at most 2 bytes */
} counts;

static void counts_init(counts *t, int key_bytes)
{
    memset(t, 0, sizeof *t);
    if (key_bytes <= 2) {
        t->direct = sl_xcalloc(65536, sizeof *t->direct);
        return;
    }
    t->cap = 1 << 16;
    t->keys = sl_xcalloc(t->cap, sizeof *t->keys);
    t->vals = sl_xcalloc(t->cap, sizeof *t->vals);
}

static void counts_free(counts *t)
{
    free(t->keys);
    free(t->vals);
    free(t->direct);
}

static size_t slot(const counts *t, uint64_t k1)
{
    size_t i = (size_t)sl_mix64(k1) & (t->cap - 1);
    while (t->keys[i] && t->keys[i] != k1)
        i = (i + 1) & (t->cap - 1);
    return i;
}

static void counts_add(counts *t, uint64_t key)
{
    if (t->direct) {
        t->direct[key]++;
        return;
    }
    if ((t->count + 1) * 2 > t->cap) {
        counts old = *t;
        t->cap *= 2;
        t->keys = sl_xcalloc(t->cap, sizeof *t->keys);
        t->vals = sl_xcalloc(t->cap, sizeof *t->vals);
        for (size_t i = 0; i < old.cap; i++)
            if (old.keys[i]) {
                size_t s = slot(t, old.keys[i]);
                t->keys[s] = old.keys[i];
                t->vals[s] = old.vals[i];
            }
        free(old.keys);
        free(old.vals);
    }
    size_t s = slot(t, key + 1);
    if (!t->keys[s]) {
        t->keys[s] = key + 1;
        t->count++;
    }
    t->vals[s]++;
}

static uint32_t counts_get(const counts *t, uint64_t key)
{
    if (t->direct)
        return t->direct[key];
    size_t s = slot(t, key + 1);
    return t->keys[s] ? t->vals[s] : 0;
}

/* The n bytes ending at position i (inclusive), packed; n may be 0. */
static uint64_t pack(const uint8_t *b, size_t i, int n)
{
    uint64_t k = 0;
    for (int j = n - 1; j >= 0; j--)
        k = k << 8 | b[i - (size_t)j];
    return k;
}

typedef struct {
    counts full, ctx; /* counts of n-grams and of their (n-1)-byte contexts */
    int n;
} model;

/* Counts the n-grams ending at positions [from, to). */
static void model_count(model *m, const uint8_t *b, size_t from, size_t to)
{
    if (from < (size_t)m->n - 1)
        from = (size_t)m->n - 1;
    for (size_t i = from; i < to; i++) {
        uint64_t g = pack(b, i, m->n);
        counts_add(&m->full, g);
        counts_add(&m->ctx, g >> 8);
    }
}

/* (count of the n-gram, count of its context) at each position of [from, to). */
static void model_lookup(const model *m, const uint8_t *b, size_t from, size_t to, uint32_t *mc)
{
    for (size_t i = from; i < to; i++) {
        uint64_t g = pack(b, i, m->n);
        mc[2 * (i - from)] = counts_get(&m->full, g);
        mc[2 * (i - from) + 1] = counts_get(&m->ctx, g >> 8);
    }
}

static double mean_loss(const uint32_t *mc, size_t n, double k)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s -= log(((double)mc[2 * i] + k) / ((double)mc[2 * i + 1] + 256.0 * k));
    return n ? s / (double)n : 0;
}

/* Golden-section search over log10 k; the loss is unimodal in k in practice. */
static double tune_k(const uint32_t *mc, size_t n)
{
    const double g = 0.6180339887498949;
    double lo = -5, hi = 1;
    double x1 = hi - g * (hi - lo), x2 = lo + g * (hi - lo);
    double f1 = mean_loss(mc, n, pow(10, x1)), f2 = mean_loss(mc, n, pow(10, x2));
    for (int it = 0; it < 24; it++) {
        if (f1 <= f2) {
            hi = x2;
            x2 = x1;
            f2 = f1;
            x1 = hi - g * (hi - lo);
            f1 = mean_loss(mc, n, pow(10, x1));
        } else {
            lo = x1;
            x1 = x2;
            f1 = f2;
            x2 = lo + g * (hi - lo);
            f2 = mean_loss(mc, n, pow(10, x2));
        }
    }
    return pow(10, 0.5 * (lo + hi));
}

int sl_ngram_heldout_k(const uint8_t *bytes, size_t n_train, size_t n_total, int max_n,
                       double *loss_out, double *k_out, sl_error *err)
{
    return sl_ngram_heldout_parts(bytes, n_train, n_total, max_n, NULL, NULL, 0, loss_out, k_out, err);
}

int sl_ngram_heldout_parts(const uint8_t *bytes, size_t n_train, size_t n_total, int max_n,
                           const size_t *part_start, const size_t *part_len, int n_parts,
                           double *loss_out, double *k_out, sl_error *err)
{
    if (max_n < 1 || max_n > NGRAM_MAX)
        return sl_fail(err, SL_EINPUT, "ngram: order: %d (expected 1..%d)", max_n, NGRAM_MAX);
    if (n_train < (size_t)max_n || n_total <= n_train)
        return sl_fail(err, SL_EINPUT,
                       "ngram: split: %zu train and %zu test bytes (expected at least %d train "
                       "bytes and 1 test byte)",
                       n_train, n_total - n_train, max_n);
    /* The tuning slice: the last tenth of the train part, scored by the rest. */
    size_t n_val = n_train / 10;
    size_t t1 = n_train - n_val;
    size_t n_test = n_total - n_train;
    size_t most = n_val > n_test ? n_val : n_test;
    uint32_t *mc = sl_xmalloc(2 * (most ? most : 1) * sizeof *mc);
    for (int n = 1; n <= max_n; n++) {
        model m = {.n = n};
        counts_init(&m.full, n);
        counts_init(&m.ctx, n - 1);
        model_count(&m, bytes, 0, t1);
        /* Too little text to hold any out: Laplace's k = 1. */
        double k = 1;
        size_t v_from = t1 > (size_t)n - 1 ? t1 : (size_t)n - 1;
        if (n_train > v_from && t1 >= (size_t)n) {
            model_lookup(&m, bytes, v_from, n_train, mc);
            k = tune_k(mc, n_train - v_from);
        }
        model_count(&m, bytes, t1, n_train);
        model_lookup(&m, bytes, n_train, n_total, mc);
        loss_out[(size_t)(n - 1) * (size_t)(n_parts + 1)] = mean_loss(mc, n_test, k);
        for (int q = 0; q < n_parts; q++) {
            size_t a = part_start[q] < n_train ? 0 : part_start[q] - n_train;
            size_t l = a + part_len[q] <= n_test ? part_len[q] : (a < n_test ? n_test - a : 0);
            loss_out[(size_t)(n - 1) * (size_t)(n_parts + 1) + 1 + (size_t)q] =
                l ? mean_loss(mc + 2 * a, l, k) : NAN;
        }
        if (k_out)
            k_out[n - 1] = k;
        counts_free(&m.full);
        counts_free(&m.ctx);
    }
    free(mc);
    return SL_OK;
}

int sl_ngram_heldout(const uint8_t *bytes, size_t n_train, size_t n_total, int max_n,
                     double *loss_out, sl_error *err)
{
    return sl_ngram_heldout_k(bytes, n_train, n_total, max_n, loss_out, NULL, err);
}
