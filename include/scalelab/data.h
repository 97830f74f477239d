/* data: corpora and tokenizers. Loads the named corpora (the default "debian",
 * several Debian text packages cut into documents and split per source by
 * corpus.c, prepared into the data directory on first use; "kjv", the King
 * James text as one book), any UTF-8 text file or folder of .txt, llm.c
 * uint16 .bin shards or nanoGPT's headerless train.bin/val.bin; tokenizes with
 * bytes or a cached byte-level BPE; splits train/test deterministically;
 * samples seeded training batches, from nested D-token subsets that keep the
 * mix of sources. Called by train, engine and cli. Never prints. */
#ifndef SCALELAB_DATA_H
#define SCALELAB_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "scalelab/corpus.h"
#include "scalelab/util.h"

/* Token ids are uint16: a corpus of shards may use every id, 0..65535. */
#define SL_MAX_VOCAB 65536
/* A trained BPE: 256 bytes and up to 65279 merges (docs/FORMATS.md). */
#define SL_MAX_BPE_VOCAB 65535

/* How .bin files are read: llm.c shards (a 256-int32 header) are detected by
 * their magic; anything else is nanoGPT's raw uint16 (SL_FORMAT_AUTO), or
 * every .bin is raw (SL_FORMAT_RAW_U16, `--format raw-u16`). */
enum { SL_FORMAT_AUTO = 0, SL_FORMAT_LLMC, SL_FORMAT_RAW_U16 };

/* Options for loading a corpus. Zeroed fields take the defaults. */
typedef struct {
    const char *path;      /* text file, folder of .txt, .bin shard, folder of
                              .bin shards, a named corpus ("debian" or
                              "debian:SRC,...", "kjv"), or NULL for "debian" */
    const char *exclude;   /* named corpora: comma-separated sources left out
                              (held out for transfer); NULL none */
    int format;            /* SL_FORMAT_* for .bin files */
    const char *tokenizer; /* "byte" (default) or "bpe:VOCAB" (257..65535) */
    double test_frac;      /* fraction held out at the end; default 0.05 */
    const char *data_dir;  /* where prepared corpora and tokenizer caches live;
                              default "data" (or $SCALELAB_DATA) */
} sl_corpus_opts;

/* What happened to the BPE cache while loading (bpe tokenizer only). */
enum {
    SL_CACHE_NONE = 0,  /* no BPE */
    SL_CACHE_LOADED,    /* read from cache_path */
    SL_CACHE_TRAINED,   /* no cache yet: trained and saved to cache_path */
    SL_CACHE_REPAIRED,  /* the cache was corrupt (cache_note says why): retrained, saved */
    SL_CACHE_UNSAVED,   /* trained, but the cache could not be written (cache_note) */
};

/* One source of a named corpus: its token and byte ranges in each part. */
typedef struct {
    char name[32];
    size_t train_start, train_len, test_start, test_len; /* tokens */
    size_t btrain_start, btrain_len, btest_start, btest_len; /* bytes */
} sl_corpus_source;

/* A tokenized corpus: tokens [0, n_train) train, [n_train, n_tokens) test.
 * A named corpus of several sources holds every source's train documents,
 * source after source, then every source's test documents in the same order
 * (src[] says where); the bytes are laid out the same way.
 * The test part is the last test_frac of the corpus: of the bytes for text
 * (each part tokenized on its own, so the test tokens decode to exactly the
 * held-out bytes), of the tokens for shards (or the *val* shards of a folder). */
typedef struct {
    uint16_t *tokens;
    size_t n_tokens;
    size_t n_train;
    int vocab;            /* 256 for bytes, the BPE's size, or the largest token
                             + 1 (at most 65536) for shards */
    size_t n_bytes;       /* size of the source text (0 for .bin shards) */
    char source[1024];    /* the path read, for messages */
    char tokenizer[32];   /* "byte", "bpe:4096", "shard" */
    uint8_t *bytes;       /* the source text (NULL for shards), freed with the corpus */
    size_t n_train_bytes; /* bytes [0, n_train_bytes) are the train part */
    int cache_state;      /* SL_CACHE_* */
    char cache_path[1024];
    char cache_note[1024];
    double bpe_seconds;    /* loading or training the BPE */
    double encode_seconds; /* encoding the text with it */
    int n_sources;         /* > 0 for a named corpus of documents (below) */
    sl_corpus_source src[SL_MAX_SOURCES];
    char name[600];        /* the corpus spec ("debian", "kjv", or the path) */
    char hash[17];         /* a named corpus: the manifest's content hash */
    char format[16];       /* "text", "llm.c", "raw-u16" */
    int has_manifest;
    sl_manifest manifest;  /* a named corpus's manifest (has_manifest) */
} sl_corpus;

/* A tokenizer name: "byte" (*vocab = 0) or "bpe:VOCAB", VOCAB 257..SL_MAX_BPE_VOCAB
 * (*vocab = VOCAB). The message on error names no field ("'X' is not a
 * tokenizer (expected ...)"): the caller puts the file and field before it. */
int sl_tokenizer_parse(const char *spec, int *vocab, sl_error *err);

/* The data directory: data_dir if set, else $SCALELAB_DATA, else data/ of the
 * checkout the binary was built in (a data/README.md beside it or one folder
 * up), else $XDG_CACHE_HOME/scalelab or ~/.cache/scalelab: never the current
 * directory by accident. */
const char *sl_data_dir(const char *data_dir);

/* Loads and tokenizes a corpus (preparing the default one on first use).
 * Errors name the file and field: missing path, empty file or folder, a shard
 * header that is wrong, a bad tokenizer (SL_EINPUT); no `bible` (SL_ERUNTIME).
 * Threads may load corpora at once; if two train the same BPE together, their
 * cache writes can race, which at worst leaves a cache that the next load
 * finds corrupt and retrains (the tokens in memory are always right). */
int sl_corpus_load(sl_corpus *c, const sl_corpus_opts *o, sl_error *err);
void sl_corpus_free(sl_corpus *c);

/* Checks that the corpus has room for n_ctx+1 tokens in both parts. */
int sl_corpus_check_ctx(const sl_corpus *c, int n_ctx, sl_error *err);

/* The D-token subset of the train part for a data limit (0 or >= n_train: the
 * whole train part): for a corpus of sources, the first D * (share of the
 * source in the train part) tokens of each source's train documents, which
 * corpus.c stored in a seeded random order; so subsets are random sets of
 * documents, nested (a smaller D's lies inside a larger D's) and keep the
 * train part's mix. A single text is its first D tokens. Fills start/len (at
 * most SL_MAX_SOURCES ranges), returns how many; *total gets their sum. */
int sl_corpus_subset(const sl_corpus *c, size_t limit, size_t *start, size_t *len, size_t *total);

/* The held-out loss of a model on one source (train.h's sl_eval_sources,
 * store.h's sources.csv). */
typedef struct {
    char name[32];
    double test_tokens, test_bytes; /* of the windows evaluated */
    double test_loss, test_bpb;     /* NaN when the source has no window */
} sl_source_loss;

/* A held-out loss of nats_per_token in bits per byte: nats / ln 2 for byte
 * tokens; for BPE, the total nats over the test part's bytes / ln 2 (the
 * loss times the test part's tokens per byte). NaN for token files, which
 * have no bytes. */
double sl_corpus_bpb(const sl_corpus *c, double nats_per_token);

/* Epochs that `tokens` training tokens make of the subset for `limit`. */
double sl_corpus_epochs(const sl_corpus *c, size_t limit, double tokens);

/* Seeded training-batch sampler over the D-token subset (sl_corpus_subset;
 * limit 0 or > n_train means the whole train part). Each sequence is a random
 * window of n_ctx+1 tokens inside one range, ranges drawn by their size. Its state is the RNG alone, so
 * a checkpoint that stores it resumes the same stream. A limit shorter than one
 * window is widened to one window (never past the train part). */
typedef struct {
    sl_rng rng;
    size_t limit;
} sl_sampler;
void sl_sampler_init(sl_sampler *s, uint64_t seed, const sl_corpus *c, size_t limit);
/* inputs and targets are B*T int32 each: targets[i] = the token after inputs[i]. */
void sl_sampler_next(sl_sampler *s, const sl_corpus *c, int B, int T, int32_t *inputs,
                     int32_t *targets);

/* The held-out evaluation windows: the first `max_tokens` of the test part
 * (0: all of it) cut into non-overlapping windows of T+1; returns how many
 * sequences fit (>= 1 after sl_corpus_check_ctx). Sequence i starts at test
 * token i*T. sl_eval_batch fills sequences first..first+B-1, wrapping past the
 * last window of the whole test part, so a final partial batch is defined.
 * A corpus of sources cuts each source's test part into windows and visits
 * them in a strided order (sl_eval_window) that spreads the first windows over
 * every source by its share, so `max_tokens` of them have the test mix. */
size_t sl_eval_sequences(const sl_corpus *c, int T, size_t max_tokens);
void sl_eval_batch(const sl_corpus *c, int T, size_t first, int B, int32_t *inputs,
                   int32_t *targets);

/* Where sequence `seq` of the evaluation windows starts (a test token index)
 * and which source it lies in (0 for a single text). */
size_t sl_eval_window(const sl_corpus *c, int T, size_t seq, int *source);

/* The evaluation windows of one source alone (src < n_sources): how many, and
 * a batch of them from `first` on (wrapping), for per-source held-out losses. */
size_t sl_eval_sequences_source(const sl_corpus *c, int T, int src, size_t max_tokens);
void sl_eval_batch_source(const sl_corpus *c, int T, int src, size_t first, int B, int32_t *inputs,
                          int32_t *targets);

/* Checks that every token of c is below vocab: an eval or transfer corpus
 * with tokens a model of that vocabulary cannot embed is SL_EINPUT naming the
 * file, the largest token and the vocabulary. */
int sl_corpus_check_vocab(const sl_corpus *c, int vocab, sl_error *err);

/* Prepares the King James text (the named corpus "kjv") into data_dir (NULL: sl_data_dir's default):
 * writes kjv.txt from `bible` atomically and puts its path in out_path. */
int sl_data_prepare_default(const char *data_dir, char *out_path, size_t out_len, sl_error *err);

/* Byte n-gram baselines (n = 1..max_n, add-k smoothing with k tuned on nothing
 * but the train part) on the same split: held-out loss in nats per byte.
 * loss_out[n-1] gets order n; k_out (may be NULL) the k chosen for each. */
int sl_ngram_heldout(const uint8_t *bytes, size_t n_train, size_t n_total, int max_n,
                     double *loss_out, sl_error *err);
int sl_ngram_heldout_k(const uint8_t *bytes, size_t n_train, size_t n_total, int max_n,
                       double *loss_out, double *k_out, sl_error *err);
/* The same, also scored on parts of the test part (byte ranges [start, start+len)
 * of `bytes` inside it, e.g. one per source): loss_out[(n-1)*(n_parts+1)] is the
 * whole test part's loss of order n, loss_out[(n-1)*(n_parts+1) + 1 + q] part q's. */
int sl_ngram_heldout_parts(const uint8_t *bytes, size_t n_train, size_t n_total, int max_n,
                           const size_t *part_start, const size_t *part_len, int n_parts,
                           double *loss_out, double *k_out, sl_error *err);

/* Debian's fortunes (/usr/share/games/fortunes) as one text file,
 * DATA_DIR/fortunes.txt (written once, atomically); its path goes to out. */
int sl_corpus_prepare_fortunes(const char *data_dir, char *out, size_t len, sl_error *err);

#endif
