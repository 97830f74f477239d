/* bpe: a deterministic byte-level BPE tokenizer: training on a text, encoding,
 * decoding, and the cache file (docs/FORMATS.md, "BPE tokenizer cache").
 * Called by data (which trains and caches one per corpus) and by tests. Never prints. */
#ifndef SCALELAB_BPE_H
#define SCALELAB_BPE_H

#include <stddef.h>
#include <stdint.h>

#include "scalelab/util.h"

/* Token t < 256 is the byte t; token 256+i is merge i, the concatenation of
 * merges[i][0] and merges[i][1]. */
typedef struct sl_bpe sl_bpe;

/* Trains up to vocab-256 merges on text (any bytes). Text is first cut into
 * chunks (an optional leading space plus a run of letters, digits or other
 * punctuation; or a run of white space), merges never cross a chunk. Each step
 * merges the most frequent adjacent pair; ties go to the smallest (left, right)
 * token pair, so the same input always gives the same merges. Training stops
 * early when no pair occurs twice; the vocabulary size stays `vocab`. */
int sl_bpe_train(const uint8_t *text, size_t n, int vocab, sl_bpe **out, sl_error *err);

/* The cache file. `key` identifies what was trained on (data uses a hash of the
 * training text and the vocabulary size); load rejects a file whose magic,
 * version, key, vocab, merges or checksum is wrong with SL_EINPUT. */
int sl_bpe_save(const sl_bpe *b, const char *path, uint64_t key, sl_error *err);
int sl_bpe_load(const char *path, int vocab, uint64_t key, sl_bpe **out, sl_error *err);
/* The same for a cache file whose corpus is known to be the right one (the
 * cache_path a corpus load just used): vocab and key are the file's own. */
int sl_bpe_load_file(const char *path, sl_bpe **out, sl_error *err);

/* Encodes n bytes into out, which must hold n tokens (never more are needed);
 * sets *n_out. Chunk encodings are cached inside b, so b is not const and one
 * sl_bpe must not encode from two threads at once. */
int sl_bpe_encode(sl_bpe *b, const uint8_t *text, size_t n, uint16_t *out, size_t *n_out,
                  sl_error *err);

/* Decodes into out (capacity cap bytes); returns the decoded length, which may
 * exceed cap (then only cap bytes were written). Tokens >= vocab are skipped. */
size_t sl_bpe_decode(const sl_bpe *b, const uint16_t *tokens, size_t n, uint8_t *out, size_t cap);

int sl_bpe_vocab(const sl_bpe *b);
/* Number of merges and a pointer to them (n x {left, right}). */
int sl_bpe_merges(const sl_bpe *b, const uint16_t (**merges)[2]);
void sl_bpe_free(sl_bpe *b);

#endif
