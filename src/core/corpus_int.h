/* corpus_int: what corpus.c shares with the per-source extractors
 * (corpus_dict.c: GCIDE and WordNet; corpus_doc.c: POD, reST, fortunes and
 * the Bible): growing buffers, one source's documents and how a document
 * ends, and reading package files under the source root. Internal to
 * src/core; never prints. */
#ifndef SCALELAB_CORPUS_INT_H
#define SCALELAB_CORPUS_INT_H

#include <glob.h>
#include <stddef.h>

#include "scalelab/corpus.h"
#include "scalelab/util.h"

/* ---- growing buffers (NUL-terminated; abort when memory runs out) ---------- */

typedef struct {
    char *p;
    size_t n, cap;
} buf;

void corpus_buf_reserve(char **p, size_t *n, size_t *cap, size_t more);
void corpus_put(char **p, size_t *n, size_t *cap, const char *s, size_t len);
void corpus_putch(char **p, size_t *n, size_t *cap, char ch);
void corpus_bput(buf *b, const char *s, size_t len);
/* Code point cp as UTF-8. */
void corpus_put_utf8(char **p, size_t *n, size_t *cap, unsigned cp);
/* Length of a valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
size_t corpus_utf8_len(const unsigned char *s, size_t n);

/* ---- a source's documents --------------------------------------------------- */

/* The documents of one source: their text back to back, ends[i] is the end of
 * document i. */
typedef struct {
    buf text;
    size_t *ends;
    size_t n, cap;
    size_t raw;
} docs;

void corpus_docs_free(docs *d);
/* Ends the document begun at text offset `start` (valid UTF-8, no control
 * characters, one blank line after it; an empty one is dropped). */
void corpus_docs_end(docs *d, size_t start);

/* ---- package files ------------------------------------------------------------ */

/* The root the package paths are read under (o->root, $SCALELAB_SOURCE_ROOT, "/"). */
const char *corpus_source_root(const sl_prepare_opts *o);
void corpus_rooted(char *out, size_t len, const char *root, const char *path);
/* Everything a command prints (stdin closed, stderr discarded). */
int corpus_read_command(const char *cmd, const char *what, char **out, size_t *len, sl_error *err);
/* qsort comparison of two C strings (char *). */
int corpus_cmp_cstr(const void *a, const void *b);
/* Sorted paths matching a glob under the root; none is an error naming the package. */
int corpus_glob_files(const char *root, const char *pattern, const char *package, glob_t *g,
                      sl_error *err);
int corpus_read_pkg_file(const char *path, const char *package, char **d, size_t *n, sl_error *err);

/* ---- the extractors: each source's documents, markup stripped ------------------ */

int corpus_src_gcide(const char *root, docs *d, sl_error *err);
int corpus_src_wordnet(const char *root, docs *d, sl_error *err);
int corpus_src_perl(const char *root, docs *d, sl_error *err);
int corpus_src_python(const char *root, docs *d, sl_error *err);
int corpus_src_fortunes(const char *root, docs *d, sl_error *err);
int corpus_src_bible(const char *root, docs *d, sl_error *err);

#endif
