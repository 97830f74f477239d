/* corpus: the named corpora assembled from Debian text packages. Each source
 * (a dictionary, WordNet's glosses, Perl's and Python's manuals, fortunes, the
 * King James Bible) is read from its installed package, its markup stripped,
 * cut into documents, shuffled with a fixed seed and split into train and test
 * documents; the parts are written to DATA/<name>/ with a manifest (sources,
 * package versions, document counts, bytes per split, a content hash).
 * data.c loads what this writes. Never prints. Format: docs/FORMATS.md. */
#ifndef SCALELAB_CORPUS_H
#define SCALELAB_CORPUS_H

#include <stddef.h>
#include <stdint.h>

#include "scalelab/util.h"

#define SL_CORPUS_DEFAULT "debian"
#define SL_MAX_SOURCES 16
#define SL_MANIFEST_VERSION 1
/* The seed of the document shuffle; part of the manifest. */
#define SL_CORPUS_SEED 20240601ULL

typedef struct {
    char name[32];      /* "gcide" */
    char kind[32];      /* "reference", "technical", "humour", "literature" */
    char package[64];   /* the Debian package it comes from */
    char version[64];   /* that package's installed version ("" if unknown) */
    char licence[64];
    size_t raw_bytes;   /* bytes read from the package, before markup was stripped */
    size_t docs, train_docs, test_docs;
    size_t train_bytes, test_bytes;
} sl_source_info;

typedef struct {
    int format_version;
    char name[32];      /* "debian" */
    char dir[1024];     /* absolute path of the prepared corpus */
    double test_frac;
    uint64_t seed;
    int n_sources;
    sl_source_info src[SL_MAX_SOURCES];
    char hash[17];      /* FNV-1a 64 of every part, hex */
} sl_manifest;

typedef struct {
    const char *data_dir; /* NULL: sl_data_dir's default */
    const char *root;     /* where package files are read; NULL: $SCALELAB_SOURCE_ROOT or "/" */
    const char *sources;  /* comma-separated subset of the sources; NULL: all */
    double test_frac;     /* 0: 0.05 */
} sl_prepare_opts;

/* Every source this build knows, in manifest order: name, kind, package, licence. */
int sl_corpus_n_known(void);
const sl_source_info *sl_corpus_known(int i);

/* Is `name` a named corpus ("debian", "debian:SRC,SRC", "kjv")? */
int sl_corpus_is_named(const char *name);

/* The prepared corpus's directory for a named corpus spec and test fraction. */
int sl_corpus_dir(const char *spec, double test_frac, const char *data_dir, char *out, size_t len,
                  sl_error *err);

/* Prepares the named corpus spec ("debian" or "debian:SRC,...") into its
 * directory (atomically, every part then the manifest) and fills m. A missing
 * package is SL_ERUNTIME naming the file and the package. */
int sl_corpus_prepare(const char *spec, const sl_prepare_opts *o, sl_manifest *m, sl_error *err);

/* The manifest as JSON (malloc'd) and back; parse errors name path and field. */
char *sl_manifest_to_json(const sl_manifest *m);
int sl_manifest_parse(const char *json, const char *path, sl_manifest *m, sl_error *err);
int sl_manifest_read(const char *dir, sl_manifest *m, sl_error *err);

/* The hash of a prepared corpus's parts as stored on disk (recomputed). */
int sl_manifest_hash_files(const sl_manifest *m, char out[17], sl_error *err);

/* Source text cleaners (exposed for tests): each takes one document's raw
 * text and appends clean UTF-8 to *out (len *n, capacity *cap). */
void sl_clean_gcide(const char *s, size_t n, char **out, size_t *len, size_t *cap);
void sl_clean_pod(const char *s, size_t n, char **out, size_t *len, size_t *cap);
void sl_clean_rst(const char *s, size_t n, char **out, size_t *len, size_t *cap);

#endif
