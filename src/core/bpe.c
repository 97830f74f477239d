/* bpe: see include/scalelab/bpe.h. Training counts each distinct chunk once
 * (weighted by its frequency) and keeps pair counts up to date incrementally,
 * touching only the chunks that contain the merged pair; a max-heap with lazy
 * deletion picks the next pair. Encoding caches the tokens of every distinct
 * chunk, since natural text repeats a few tens of thousands of words. */
#include "scalelab/bpe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Caps a chunk so that long runs without white space (binary data, tables)
 * cost O(64^2) per distinct chunk when encoding rather than O(n^2). */
#define MAX_CHUNK 64

#define BPE_MAGIC 0x50424C53u /* "SLBP" in file byte order */
#define BPE_VERSION 1u
#define BPE_HEADER 24

/* ---- chunking ---------------------------------------------------------- */

enum { C_SPACE, C_LETTER, C_DIGIT, C_OTHER };

static int byte_class(uint8_t c)
{
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f')
        return C_SPACE;
    /* Bytes >= 0x80 count as letters so that UTF-8 sequences stay inside words. */
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80)
        return C_LETTER;
    if (c >= '0' && c <= '9')
        return C_DIGIT;
    return C_OTHER;
}

/* End of the chunk that starts at i: an optional single space followed by a run
 * of one class, or a run of white space that leaves its last space to the next
 * word (as GPT-2's " ?\p{L}+|\s+(?!\S)" does). */
static size_t chunk_end(const uint8_t *t, size_t n, size_t i)
{
    size_t lim = n - i > MAX_CHUNK ? i + MAX_CHUNK : n;
    size_t j = i;
    if (t[j] == ' ' && j + 1 < lim && byte_class(t[j + 1]) != C_SPACE)
        j++;
    int k = byte_class(t[j]);
    j++;
    if (k == C_SPACE) {
        while (j < lim && byte_class(t[j]) == C_SPACE) {
            if (t[j] == ' ' && j + 1 < n && byte_class(t[j + 1]) != C_SPACE)
                break;
            j++;
        }
        return j;
    }
    while (j < lim && byte_class(t[j]) == k)
        j++;
    return j;
}

/* ---- hash maps ---------------------------------------------------------- */

/* realloc that aborts as sl_xmalloc does: these sizes grow with the text,
 * which is already in memory, so failing here means the machine is out. */
static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "scalelab: %s: out of memory growing a buffer to %zu bytes\n", __FILE__, n);
        abort();
    }
    return q;
}

/* uint64 key -> uint32 value, open addressing; slot value 0 means empty, so
 * values are stored +1. */
typedef struct {
    uint64_t *keys;
    uint32_t *vals;
    size_t cap, count;
} u64map;

static void u64map_init(u64map *m, size_t cap)
{
    m->cap = 16;
    while (m->cap < cap * 2)
        m->cap *= 2;
    m->keys = sl_xcalloc(m->cap, sizeof *m->keys);
    m->vals = sl_xcalloc(m->cap, sizeof *m->vals);
    m->count = 0;
}

static void u64map_free(u64map *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* Returns the slot of key (found or the empty slot where it goes). */
static size_t u64map_slot(const u64map *m, uint64_t key)
{
    size_t i = (size_t)sl_mix64(key) & (m->cap - 1);
    while (m->vals[i] && m->keys[i] != key)
        i = (i + 1) & (m->cap - 1);
    return i;
}

static int64_t u64map_get(const u64map *m, uint64_t key)
{
    size_t i = u64map_slot(m, key);
    return m->vals[i] ? (int64_t)m->vals[i] - 1 : -1;
}

static void u64map_put(u64map *m, uint64_t key, uint32_t val)
{
    if ((m->count + 1) * 2 > m->cap) {
        u64map old = *m;
        u64map_init(m, old.cap);
        for (size_t i = 0; i < old.cap; i++)
            if (old.vals[i]) {
                size_t s = u64map_slot(m, old.keys[i]);
                m->keys[s] = old.keys[i];
                m->vals[s] = old.vals[i];
                m->count++;
            }
        u64map_free(&old);
    }
    size_t i = u64map_slot(m, key);
    if (!m->vals[i])
        m->count++;
    m->keys[i] = key;
    m->vals[i] = val + 1;
}

/* byte string -> dense id 0, 1, 2, ... in insertion order; the strings are
 * copied into an arena. */
typedef struct {
    uint32_t *slots; /* id + 1, 0 = empty */
    size_t cap;
    size_t count;
    uint64_t *hash;  /* per id */
    size_t *off;     /* per id, into arena */
    uint32_t *len;   /* per id */
    size_t ids_cap;
    uint8_t *arena;
    size_t arena_len, arena_cap;
} strmap;

static uint64_t str_hash(const uint8_t *s, size_t n) { return sl_mix64(sl_fnv1a(SL_FNV_INIT, s, n)); }

static void strmap_init(strmap *m)
{
    memset(m, 0, sizeof *m);
    m->cap = 1024;
    m->slots = sl_xcalloc(m->cap, sizeof *m->slots);
}

static void strmap_free(strmap *m)
{
    free(m->slots);
    free(m->hash);
    free(m->off);
    free(m->len);
    free(m->arena);
    memset(m, 0, sizeof *m);
}

static const uint8_t *strmap_str(const strmap *m, size_t id) { return m->arena + m->off[id]; }

/* Id of s, inserting it if new (*is_new says which). */
static size_t strmap_intern(strmap *m, const uint8_t *s, size_t n, int *is_new)
{
    uint64_t h = str_hash(s, n);
    size_t i = (size_t)h & (m->cap - 1);
    while (m->slots[i]) {
        size_t id = m->slots[i] - 1;
        if (m->hash[id] == h && m->len[id] == n && !memcmp(strmap_str(m, id), s, n)) {
            *is_new = 0;
            return id;
        }
        i = (i + 1) & (m->cap - 1);
    }
    *is_new = 1;
    if (m->count == m->ids_cap) {
        m->ids_cap = m->ids_cap ? m->ids_cap * 2 : 1024;
        m->hash = xrealloc(m->hash, m->ids_cap * sizeof *m->hash);
        m->off = xrealloc(m->off, m->ids_cap * sizeof *m->off);
        m->len = xrealloc(m->len, m->ids_cap * sizeof *m->len);
    }
    if (m->arena_len + n > m->arena_cap) {
        while (m->arena_len + n > m->arena_cap)
            m->arena_cap = m->arena_cap ? m->arena_cap * 2 : 65536;
        m->arena = xrealloc(m->arena, m->arena_cap);
    }
    size_t id = m->count++;
    memcpy(m->arena + m->arena_len, s, n);
    m->hash[id] = h;
    m->off[id] = m->arena_len;
    m->len[id] = (uint32_t)n;
    m->arena_len += n;
    m->slots[i] = (uint32_t)id + 1;
    if (m->count * 2 > m->cap) {
        free(m->slots);
        m->cap *= 2;
        m->slots = sl_xcalloc(m->cap, sizeof *m->slots);
        for (size_t k = 0; k < m->count; k++) {
            size_t j = (size_t)m->hash[k] & (m->cap - 1);
            while (m->slots[j])
                j = (j + 1) & (m->cap - 1);
            m->slots[j] = (uint32_t)k + 1;
        }
    }
    return id;
}

/* ---- the tokenizer ------------------------------------------------------ */

struct sl_bpe {
    int vocab;
    int n_merges;
    uint16_t (*merges)[2];
    u64map ranks;        /* (left << 16 | right) -> merge index */
    size_t *dec_off;     /* per token, into dec_bytes */
    uint32_t *dec_len;
    uint8_t *dec_bytes;
    strmap cache;        /* chunk -> its tokens in ctok */
    size_t *cache_off;
    uint32_t *cache_len;
    size_t cache_cap;
    uint16_t *ctok;
    size_t ctok_len, ctok_cap;
};

static uint64_t pair_key(uint32_t a, uint32_t b) { return (uint64_t)a << 16 | b; }

/* Builds the rank map and the decode table from the merges. */
static void bpe_finish(sl_bpe *b)
{
    u64map_init(&b->ranks, (size_t)b->n_merges + 1);
    for (int i = 0; i < b->n_merges; i++)
        u64map_put(&b->ranks, pair_key(b->merges[i][0], b->merges[i][1]), (uint32_t)i);
    int n_tok = 256 + b->n_merges;
    b->dec_off = sl_xmalloc((size_t)n_tok * sizeof *b->dec_off);
    b->dec_len = sl_xmalloc((size_t)n_tok * sizeof *b->dec_len);
    size_t total = 256;
    for (int t = 0; t < n_tok; t++) {
        b->dec_len[t] = t < 256 ? 1 : b->dec_len[b->merges[t - 256][0]] + b->dec_len[b->merges[t - 256][1]];
        if (t >= 256)
            total += b->dec_len[t];
    }
    b->dec_bytes = sl_xmalloc(total);
    size_t at = 0;
    for (int t = 0; t < n_tok; t++) {
        b->dec_off[t] = at;
        if (t < 256) {
            b->dec_bytes[at] = (uint8_t)t;
        } else {
            int l = b->merges[t - 256][0], r = b->merges[t - 256][1];
            memcpy(b->dec_bytes + at, b->dec_bytes + b->dec_off[l], b->dec_len[l]);
            memcpy(b->dec_bytes + at + b->dec_len[l], b->dec_bytes + b->dec_off[r], b->dec_len[r]);
        }
        at += b->dec_len[t];
    }
    strmap_init(&b->cache);
}

void sl_bpe_free(sl_bpe *b)
{
    if (!b)
        return;
    free(b->merges);
    u64map_free(&b->ranks);
    free(b->dec_off);
    free(b->dec_len);
    free(b->dec_bytes);
    strmap_free(&b->cache);
    free(b->cache_off);
    free(b->cache_len);
    free(b->ctok);
    free(b);
}

int sl_bpe_vocab(const sl_bpe *b) { return b->vocab; }

int sl_bpe_merges(const sl_bpe *b, const uint16_t (**merges)[2])
{
    *merges = (const uint16_t(*)[2])b->merges;
    return b->n_merges;
}

/* ---- training ----------------------------------------------------------- */

typedef struct {
    int64_t count;
    uint32_t a, b;
    int32_t *where; /* words that contained the pair (may be stale or repeated) */
    uint32_t n_where, cap_where;
    int32_t last_word; /* the last word appended to where, to skip repeats */
    int32_t stamp;     /* merge step that last touched this pair */
    int64_t old;       /* count before that step */
} pair_t;

typedef struct {
    int64_t count;
    uint32_t a, b;
} heap_t;

typedef struct {
    u64map map; /* pair key -> index into pairs */
    pair_t *pairs;
    size_t n_pairs, cap_pairs;
    heap_t *heap;
    size_t n_heap, cap_heap;
    int32_t *touched;
    size_t n_touched, cap_touched;
} trainer;

/* Heap order: higher count first; ties by the smaller left then right token. */
static int heap_before(const heap_t *x, const heap_t *y)
{
    if (x->count != y->count)
        return x->count > y->count;
    if (x->a != y->a)
        return x->a < y->a;
    return x->b < y->b;
}

static void heap_push(trainer *t, int64_t count, uint32_t a, uint32_t b)
{
    if (t->n_heap == t->cap_heap) {
        t->cap_heap = t->cap_heap ? t->cap_heap * 2 : 4096;
        t->heap = xrealloc(t->heap, t->cap_heap * sizeof *t->heap);
    }
    size_t i = t->n_heap++;
    heap_t e = {count, a, b};
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!heap_before(&e, &t->heap[p]))
            break;
        t->heap[i] = t->heap[p];
        i = p;
    }
    t->heap[i] = e;
}

static heap_t heap_pop(trainer *t)
{
    heap_t top = t->heap[0];
    heap_t last = t->heap[--t->n_heap];
    size_t i = 0, n = t->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && heap_before(&t->heap[c + 1], &t->heap[c]))
            c++;
        if (!heap_before(&t->heap[c], &last))
            break;
        t->heap[i] = t->heap[c];
        i = (size_t)c;
    }
    if (n > 0)
        t->heap[i] = last;
    return top;
}

static size_t pair_index(trainer *t, uint32_t a, uint32_t b)
{
    uint64_t k = pair_key(a, b);
    int64_t v = u64map_get(&t->map, k);
    if (v >= 0)
        return (size_t)v;
    if (t->n_pairs == t->cap_pairs) {
        t->cap_pairs = t->cap_pairs ? t->cap_pairs * 2 : 4096;
        t->pairs = xrealloc(t->pairs, t->cap_pairs * sizeof *t->pairs);
    }
    size_t i = t->n_pairs++;
    t->pairs[i] = (pair_t){.a = a, .b = b, .last_word = -1, .stamp = -1};
    u64map_put(&t->map, k, (uint32_t)i);
    return i;
}

/* Adds delta occurrences of (a, b) found in word w at merge step `step`. */
static void pair_add(trainer *t, uint32_t a, uint32_t b, int64_t delta, int32_t w, int step)
{
    size_t i = pair_index(t, a, b);
    pair_t *p = &t->pairs[i];
    if (p->stamp != step) {
        p->stamp = step;
        p->old = p->count;
        if (t->n_touched == t->cap_touched) {
            t->cap_touched = t->cap_touched ? t->cap_touched * 2 : 1024;
            t->touched = xrealloc(t->touched, t->cap_touched * sizeof *t->touched);
        }
        t->touched[t->n_touched++] = (int32_t)i;
    }
    p->count += delta;
    if (delta > 0 && p->last_word != w) {
        p->last_word = w;
        if (p->n_where == p->cap_where) {
            p->cap_where = p->cap_where ? p->cap_where * 2 : 4;
            p->where = xrealloc(p->where, p->cap_where * sizeof *p->where);
        }
        p->where[p->n_where++] = w;
    }
}

int sl_bpe_train(const uint8_t *text, size_t n, int vocab, sl_bpe **out, sl_error *err)
{
    *out = NULL;
    if (vocab < 257 || vocab > 65535)
        return sl_fail(err, SL_EINPUT, "bpe: vocab: %d (expected 257..65535)", vocab);

    /* Distinct chunks and their frequencies. */
    strmap words;
    strmap_init(&words);
    int64_t *freq = NULL;
    size_t cap_freq = 0;
    for (size_t i = 0; i < n;) {
        size_t e = chunk_end(text, n, i);
        int is_new;
        size_t id = strmap_intern(&words, text + i, e - i, &is_new);
        if (id >= cap_freq) {
            cap_freq = cap_freq ? cap_freq * 2 : 1024;
            freq = xrealloc(freq, cap_freq * sizeof *freq);
        }
        if (is_new)
            freq[id] = 0;
        freq[id]++;
        i = e;
    }
    size_t n_words = words.count;

    /* Each word as a symbol sequence, shrinking in place as merges apply. */
    uint16_t *sym = sl_xmalloc((words.arena_len ? words.arena_len : 1) * sizeof *sym);
    uint32_t *wlen = sl_xmalloc((n_words ? n_words : 1) * sizeof *wlen);
    int32_t *wstamp = sl_xmalloc((n_words ? n_words : 1) * sizeof *wstamp);
    for (size_t w = 0; w < n_words; w++) {
        const uint8_t *s = strmap_str(&words, w);
        for (uint32_t k = 0; k < words.len[w]; k++)
            sym[words.off[w] + k] = s[k];
        wlen[w] = words.len[w];
        wstamp[w] = -1;
    }

    trainer t;
    memset(&t, 0, sizeof t);
    u64map_init(&t.map, 1 << 14);
    for (size_t w = 0; w < n_words; w++) {
        uint16_t *s = sym + words.off[w];
        for (uint32_t k = 0; k + 1 < wlen[w]; k++)
            pair_add(&t, s[k], s[k + 1], freq[w], (int32_t)w, -1);
    }
    for (size_t i = 0; i < t.n_pairs; i++)
        heap_push(&t, t.pairs[i].count, t.pairs[i].a, t.pairs[i].b);

    sl_bpe *b = sl_xcalloc(1, sizeof *b);
    b->vocab = vocab;
    b->merges = sl_xmalloc((size_t)(vocab - 256) * sizeof *b->merges);
    for (int step = 0; step < vocab - 256; step++) {
        /* The best pair whose heap entry is current. */
        size_t best = (size_t)-1;
        while (t.n_heap > 0) {
            heap_t top = heap_pop(&t);
            size_t i = (size_t)u64map_get(&t.map, pair_key(top.a, top.b));
            if (t.pairs[i].count == top.count) {
                best = i;
                break;
            }
        }
        if (best == (size_t)-1 || t.pairs[best].count < 2)
            break;
        uint16_t a = (uint16_t)t.pairs[best].a, c = (uint16_t)t.pairs[best].b;
        uint16_t z = (uint16_t)(256 + step);
        b->merges[step][0] = a;
        b->merges[step][1] = c;
        b->n_merges = step + 1;

        /* Detach the word list: pair_add may grow t.pairs and move it. */
        int32_t *where = t.pairs[best].where;
        uint32_t n_where = t.pairs[best].n_where;
        t.pairs[best].where = NULL;
        t.pairs[best].n_where = t.pairs[best].cap_where = 0;
        t.n_touched = 0;
        for (uint32_t k = 0; k < n_where; k++) {
            int32_t w = where[k];
            if (wstamp[w] == step)
                continue;
            wstamp[w] = step;
            uint16_t *s = sym + words.off[w];
            uint32_t len = wlen[w], j = 0;
            int found = 0;
            for (uint32_t q = 0; q + 1 < len; q++)
                if (s[q] == a && s[q + 1] == c) {
                    found = 1;
                    break;
                }
            if (!found)
                continue;
            for (uint32_t q = 0; q + 1 < len; q++)
                pair_add(&t, s[q], s[q + 1], -freq[w], w, step);
            for (uint32_t q = 0; q < len;) {
                if (q + 1 < len && s[q] == a && s[q + 1] == c) {
                    s[j++] = z;
                    q += 2;
                } else {
                    s[j++] = s[q++];
                }
            }
            wlen[w] = j;
            for (uint32_t q = 0; q + 1 < j; q++)
                pair_add(&t, s[q], s[q + 1], freq[w], w, step);
        }
        free(where);
        for (size_t k = 0; k < t.n_touched; k++) {
            pair_t *p = &t.pairs[t.touched[k]];
            if (p->count != p->old && p->count > 0)
                heap_push(&t, p->count, p->a, p->b);
        }
    }

    for (size_t i = 0; i < t.n_pairs; i++)
        free(t.pairs[i].where);
    free(t.pairs);
    free(t.heap);
    free(t.touched);
    u64map_free(&t.map);
    free(sym);
    free(wlen);
    free(wstamp);
    free(freq);
    strmap_free(&words);

    bpe_finish(b);
    *out = b;
    return SL_OK;
}

/* ---- encoding and decoding ---------------------------------------------- */

/* Applies the merges to one chunk in rank order, which reproduces what
 * training did to it. Returns the number of tokens written to s. */
static size_t encode_chunk(const sl_bpe *b, const uint8_t *c, size_t n, uint16_t *s)
{
    for (size_t i = 0; i < n; i++)
        s[i] = c[i];
    size_t len = n;
    while (len > 1) {
        int64_t best = -1;
        for (size_t i = 0; i + 1 < len; i++) {
            int64_t r = u64map_get(&b->ranks, pair_key(s[i], s[i + 1]));
            if (r >= 0 && (best < 0 || r < best))
                best = r;
        }
        if (best < 0)
            break;
        uint16_t l = b->merges[best][0], r = b->merges[best][1], z = (uint16_t)(256 + best);
        size_t j = 0;
        for (size_t i = 0; i < len;) {
            if (i + 1 < len && s[i] == l && s[i + 1] == r) {
                s[j++] = z;
                i += 2;
            } else {
                s[j++] = s[i++];
            }
        }
        len = j;
    }
    return len;
}

int sl_bpe_encode(sl_bpe *b, const uint8_t *text, size_t n, uint16_t *out, size_t *n_out,
                  sl_error *err)
{
    (void)err;
    size_t at = 0;
    uint16_t tmp[MAX_CHUNK];
    for (size_t i = 0; i < n;) {
        size_t e = chunk_end(text, n, i);
        int is_new;
        size_t id = strmap_intern(&b->cache, text + i, e - i, &is_new);
        if (is_new) {
            size_t k = encode_chunk(b, text + i, e - i, tmp);
            if (id >= b->cache_cap) {
                b->cache_cap = b->cache_cap ? b->cache_cap * 2 : 4096;
                b->cache_off = xrealloc(b->cache_off, b->cache_cap * sizeof *b->cache_off);
                b->cache_len = xrealloc(b->cache_len, b->cache_cap * sizeof *b->cache_len);
            }
            if (b->ctok_len + k > b->ctok_cap) {
                while (b->ctok_len + k > b->ctok_cap)
                    b->ctok_cap = b->ctok_cap ? b->ctok_cap * 2 : 65536;
                b->ctok = xrealloc(b->ctok, b->ctok_cap * sizeof *b->ctok);
            }
            memcpy(b->ctok + b->ctok_len, tmp, k * sizeof *tmp);
            b->cache_off[id] = b->ctok_len;
            b->cache_len[id] = (uint32_t)k;
            b->ctok_len += k;
        }
        memcpy(out + at, b->ctok + b->cache_off[id], b->cache_len[id] * sizeof *out);
        at += b->cache_len[id];
        i = e;
    }
    *n_out = at;
    return SL_OK;
}

size_t sl_bpe_decode(const sl_bpe *b, const uint16_t *tokens, size_t n, uint8_t *out, size_t cap)
{
    size_t at = 0;
    int n_tok = 256 + b->n_merges;
    for (size_t i = 0; i < n; i++) {
        int t = tokens[i];
        if (t >= n_tok)
            continue;
        uint32_t l = b->dec_len[t];
        if (at < cap)
            memcpy(out + at, b->dec_bytes + b->dec_off[t], at + l <= cap ? l : cap - at);
        at += l;
    }
    return at;
}

/* ---- the cache file ----------------------------------------------------- */

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}
static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

int sl_bpe_save(const sl_bpe *b, const char *path, uint64_t key, sl_error *err)
{
    size_t n = BPE_HEADER + 4 * (size_t)b->n_merges + 8;
    uint8_t *buf = sl_xmalloc(n);
    put32(buf, BPE_MAGIC);
    put32(buf + 4, BPE_VERSION);
    put32(buf + 8, (uint32_t)b->vocab);
    put32(buf + 12, (uint32_t)b->n_merges);
    put64(buf + 16, key);
    for (int i = 0; i < b->n_merges; i++) {
        uint8_t *p = buf + BPE_HEADER + 4 * (size_t)i;
        p[0] = (uint8_t)b->merges[i][0];
        p[1] = (uint8_t)(b->merges[i][0] >> 8);
        p[2] = (uint8_t)b->merges[i][1];
        p[3] = (uint8_t)(b->merges[i][1] >> 8);
    }
    put64(buf + n - 8, sl_fnv1a(SL_FNV_INIT, buf, n - 8));
    int rc = sl_write_atomic(path, buf, n, err);
    free(buf);
    return rc;
}

int sl_bpe_load_file(const char *path, sl_bpe **out, sl_error *err)
{
    char *data;
    size_t n;
    int rc = sl_read_file(path, &data, &n, err);
    if (rc)
        return rc;
    const uint8_t *p = (const uint8_t *)data;
    int vocab = n >= BPE_HEADER + 8 ? (int)get32(p + 8) : 0;
    uint64_t key = n >= BPE_HEADER + 8 ? get64(p + 16) : 0;
    free(data);
    /* load repeats every check but the key's, which is the file's own */
    return sl_bpe_load(path, vocab, key, out, err);
}

int sl_bpe_load(const char *path, int vocab, uint64_t key, sl_bpe **out, sl_error *err)
{
    *out = NULL;
    char *data;
    size_t n;
    int rc = sl_read_file(path, &data, &n, err);
    if (rc)
        return rc;
    const uint8_t *p = (const uint8_t *)data;
    rc = SL_EINPUT;
    if (n < BPE_HEADER + 8) {
        sl_fail(err, rc, "%s: header: file is %zu bytes (expected at least %d)", path, n, BPE_HEADER + 8);
        goto done;
    }
    if (get32(p) != BPE_MAGIC) {
        sl_fail(err, rc, "%s: header: magic 0x%08x (expected 0x%08x)", path, get32(p), BPE_MAGIC);
        goto done;
    }
    if (get32(p + 4) != BPE_VERSION) {
        sl_fail(err, rc, "%s: header: version %u (expected %u)", path, get32(p + 4), BPE_VERSION);
        goto done;
    }
    uint32_t v = get32(p + 8), nm = get32(p + 12);
    if (v != (uint32_t)vocab) {
        sl_fail(err, rc, "%s: header: vocab %u (expected %d)", path, v, vocab);
        goto done;
    }
    if (nm > v - 256 || n != BPE_HEADER + 4 * (size_t)nm + 8) {
        sl_fail(err, rc, "%s: merges: %u merges in a %zu-byte file (expected at most %u merges and %zu bytes)",
                path, nm, n, v - 256, (size_t)BPE_HEADER + 4 * (size_t)(nm <= v - 256 ? nm : 0) + 8);
        goto done;
    }
    uint64_t sum = sl_fnv1a(SL_FNV_INIT, p, n - 8);
    if (get64(p + n - 8) != sum) {
        sl_fail(err, rc, "%s: checksum: 0x%016llx (expected 0x%016llx)", path,
                (unsigned long long)get64(p + n - 8), (unsigned long long)sum);
        goto done;
    }
    if (get64(p + 16) != key) {
        sl_fail(err, rc, "%s: header: key 0x%016llx (expected 0x%016llx, another corpus)", path,
                (unsigned long long)get64(p + 16), (unsigned long long)key);
        goto done;
    }
    sl_bpe *b = sl_xcalloc(1, sizeof *b);
    b->vocab = vocab;
    b->n_merges = (int)nm;
    b->merges = sl_xmalloc((nm ? nm : 1) * sizeof *b->merges);
    for (uint32_t i = 0; i < nm; i++) {
        const uint8_t *m = p + BPE_HEADER + 4 * (size_t)i;
        uint32_t l = m[0] | (uint32_t)m[1] << 8, r = m[2] | (uint32_t)m[3] << 8;
        if (l >= 256 + i || r >= 256 + i) {
            sl_fail(err, rc, "%s: merges: merge %u uses token %u (expected tokens below %u)", path, i,
                    l > r ? l : r, 256 + i);
            free(b->merges);
            free(b);
            goto done;
        }
        b->merges[i][0] = (uint16_t)l;
        b->merges[i][1] = (uint16_t)r;
    }
    bpe_finish(b);
    *out = b;
    rc = SL_OK;
done:
    free(data);
    return rc;
}
