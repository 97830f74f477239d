/* data_windows: what is drawn from a loaded corpus (data.h): the nested
 * D-token subsets that keep the mix of sources, the seeded training sampler,
 * the held-out evaluation windows (overall and per source), bits per byte,
 * epochs, and the vocabulary check. Loading is data.c. */
#include "scalelab/data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- sampling ----------------------------------------------------------- */

int sl_corpus_subset(const sl_corpus *c, size_t limit, size_t *start, size_t *len, size_t *total)
{
    int whole = limit == 0 || limit >= c->n_train;
    size_t sum = 0;
    int n = 0;
    if (c->n_sources <= 1) {
        start[0] = 0;
        len[0] = whole ? c->n_train : limit;
        sum = len[0];
        n = 1;
    } else {
        for (int i = 0; i < c->n_sources; i++) {
            size_t l = c->src[i].train_len;
            if (!whole) {
                /* the source's share of the train part, rounded */
                long double share = (long double)limit * (long double)l / (long double)c->n_train;
                size_t want = (size_t)(share + 0.5L);
                l = want < l ? want : l;
            }
            start[n] = c->src[i].train_start;
            len[n] = l;
            sum += l;
            n++;
        }
    }
    if (total)
        *total = sum;
    return n;
}

double sl_corpus_bpb(const sl_corpus *c, double nats_per_token)
{
    size_t test_bytes = c->n_bytes - c->n_train_bytes, test_tokens = c->n_tokens - c->n_train;
    if (!c->bytes || c->n_bytes == 0 || test_bytes == 0 || test_tokens == 0)
        return NAN;
    return nats_per_token * ((double)test_tokens / (double)test_bytes) / log(2.0);
}

double sl_corpus_epochs(const sl_corpus *c, size_t limit, double tokens)
{
    size_t st[SL_MAX_SOURCES], ln[SL_MAX_SOURCES], total;
    sl_corpus_subset(c, limit, st, ln, &total);
    return total ? tokens / (double)total : INFINITY;
}

void sl_sampler_init(sl_sampler *s, uint64_t seed, const sl_corpus *c, size_t limit)
{
    sl_rng_seed(&s->rng, seed);
    s->limit = limit == 0 || limit > c->n_train ? c->n_train : limit;
}

void sl_sampler_next(sl_sampler *s, const sl_corpus *c, int B, int T, int32_t *inputs,
                     int32_t *targets)
{
    size_t w = (size_t)T + 1;
    size_t lim = s->limit;
    if (c->n_sources > 1) {
        /* a window inside one source's range of the subset; every start
         * position of every range equally likely, so sources are drawn by
         * their share. A range shorter than a window grows to one window. */
        size_t st[SL_MAX_SOURCES], ln[SL_MAX_SOURCES], pos[SL_MAX_SOURCES], all = 0;
        int n = sl_corpus_subset(c, lim, st, ln, NULL);
        for (int i = 0; i < n; i++) {
            size_t l = ln[i] < w && c->src[i].train_len >= w ? w : ln[i];
            pos[i] = l >= w ? l - w + 1 : 0;
            all += pos[i];
        }
        if (all > 0) {
            for (int b = 0; b < B; b++) {
                size_t u = (size_t)sl_rng_below(&s->rng, all);
                int i = 0;
                while (u >= pos[i])
                    u -= pos[i++];
                const uint16_t *t = c->tokens + st[i] + u;
                int32_t *in = inputs + (size_t)b * T, *tg = targets + (size_t)b * T;
                for (int k = 0; k < T; k++) {
                    in[k] = t[k];
                    tg[k] = t[k + 1];
                }
            }
            return;
        }
        /* every source shorter than a window: read the train part as one text */
    }
    /* A D-token subset shorter than one window grows to one window (still
     * inside the train part); a train part shorter than that is read
     * cyclically so that nothing is read out of bounds, though callers are
     * expected to have called sl_corpus_check_ctx. */
    if (lim < w)
        lim = w <= c->n_train ? w : c->n_train;
    for (int b = 0; b < B; b++) {
        int32_t *in = inputs + (size_t)b * T, *tg = targets + (size_t)b * T;
        if (lim >= w) {
            size_t start = (size_t)sl_rng_below(&s->rng, lim - w + 1);
            const uint16_t *t = c->tokens + start;
            for (int i = 0; i < T; i++) {
                in[i] = t[i];
                tg[i] = t[i + 1];
            }
        } else {
            size_t start = lim ? (size_t)sl_rng_below(&s->rng, lim) : 0;
            for (int i = 0; i < T; i++) {
                in[i] = lim ? c->tokens[(start + (size_t)i) % lim] : 0;
                tg[i] = lim ? c->tokens[(start + (size_t)i + 1) % lim] : 0;
            }
        }
    }
}

/* Windows of T+1 tokens at stride T in each source's test part. */
static size_t source_windows(const sl_corpus *c, int T, int i)
{
    size_t l = c->src[i].test_len;
    return l >= (size_t)T + 1 ? (l - 1) / (size_t)T : 0;
}

static size_t all_windows(const sl_corpus *c, int T)
{
    if (c->n_sources <= 1) {
        size_t n_test = c->n_tokens - c->n_train;
        return T >= 1 && n_test >= (size_t)T + 1 ? (n_test - 1) / (size_t)T : 0;
    }
    size_t n = 0;
    for (int i = 0; i < c->n_sources; i++)
        n += source_windows(c, T, i);
    return n;
}

static size_t gcd(size_t a, size_t b)
{
    while (b) {
        size_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* The stride of the evaluation order: near total/phi and coprime to total,
 * so i -> i*stride mod total visits every window once and its first windows
 * spread evenly over the test part (and so over the sources by size). */
static size_t eval_stride(size_t total)
{
    if (total <= 2 || total >= (1ULL << 32)) /* i*stride must not overflow 64 bits */
        return 1;
    size_t p = (size_t)((double)total * 0.6180339887498949);
    if (p < 1)
        p = 1;
    while (gcd(p, total) != 1)
        p++;
    return p;
}

size_t sl_eval_window(const sl_corpus *c, int T, size_t seq, int *source)
{
    size_t total = all_windows(c, T);
    if (source)
        *source = 0;
    if (total == 0)
        return c->n_train;
    if (c->n_sources <= 1)
        return c->n_train + (seq % total) * (size_t)T;
    size_t g = (size_t)((uint64_t)(seq % total) * eval_stride(total) % total);
    for (int i = 0; i < c->n_sources; i++) {
        size_t w = source_windows(c, T, i);
        if (g < w) {
            if (source)
                *source = i;
            return c->src[i].test_start + g * (size_t)T;
        }
        g -= w;
    }
    return c->n_train;
}

size_t sl_eval_sequences(const sl_corpus *c, int T, size_t max_tokens)
{
    size_t n_test = c->n_tokens - c->n_train;
    size_t m = max_tokens == 0 || max_tokens > n_test ? n_test : max_tokens;
    if (T < 1 || m < (size_t)T + 1)
        return 0;
    size_t k = (m - 1) / (size_t)T, total = all_windows(c, T);
    return k < total ? k : total;
}

void sl_eval_batch(const sl_corpus *c, int T, size_t first, int B, int32_t *inputs,
                   int32_t *targets)
{
    size_t total = all_windows(c, T);
    for (int b = 0; b < B; b++) {
        int32_t *in = inputs + (size_t)b * T, *tg = targets + (size_t)b * T;
        if (total == 0) {
            memset(in, 0, (size_t)T * sizeof *in);
            memset(tg, 0, (size_t)T * sizeof *tg);
            continue;
        }
        /* Past the last window we wrap, so a final partial batch is defined. */
        const uint16_t *t = c->tokens + sl_eval_window(c, T, first + (size_t)b, NULL);
        for (int i = 0; i < T; i++) {
            in[i] = t[i];
            tg[i] = t[i + 1];
        }
    }
}

size_t sl_eval_sequences_source(const sl_corpus *c, int T, int src, size_t max_tokens)
{
    if (c->n_sources <= 1)
        return sl_eval_sequences(c, T, max_tokens);
    if (src < 0 || src >= c->n_sources || T < 1)
        return 0;
    size_t w = source_windows(c, T, src);
    size_t k = max_tokens == 0 ? w : (max_tokens > 0 ? (max_tokens - 1) / (size_t)T : 0);
    return k < w ? k : w;
}

void sl_eval_batch_source(const sl_corpus *c, int T, int src, size_t first, int B, int32_t *inputs,
                          int32_t *targets)
{
    if (c->n_sources <= 1) {
        sl_eval_batch(c, T, first, B, inputs, targets);
        return;
    }
    size_t w = src >= 0 && src < c->n_sources ? source_windows(c, T, src) : 0;
    for (int b = 0; b < B; b++) {
        int32_t *in = inputs + (size_t)b * T, *tg = targets + (size_t)b * T;
        if (w == 0) {
            memset(in, 0, (size_t)T * sizeof *in);
            memset(tg, 0, (size_t)T * sizeof *tg);
            continue;
        }
        /* the source's windows spread out in the same strided way */
        size_t g = (size_t)((uint64_t)((first + (size_t)b) % w) * eval_stride(w) % w);
        const uint16_t *t = c->tokens + c->src[src].test_start + g * (size_t)T;
        for (int i = 0; i < T; i++) {
            in[i] = t[i];
            tg[i] = t[i + 1];
        }
    }
}

int sl_corpus_check_vocab(const sl_corpus *c, int vocab, sl_error *err)
{
    int max = -1;
    size_t at = 0;
    for (size_t i = 0; i < c->n_tokens; i++)
        if (c->tokens[i] > max) {
            max = c->tokens[i];
            at = i;
        }
    if (max >= vocab)
        return sl_fail(err, SL_EINPUT,
                       "%s: token %d at position %zu is outside the model's vocabulary (expected tokens "
                       "below %d, the training corpus's vocabulary)",
                       c->source, max, at, vocab);
    return SL_OK;
}

