/* data: see include/scalelab/data.h. File formats: docs/FORMATS.md.
 * Loading: the data directory, the King James text, folders, token shards,
 * text with its tokenizer, named corpora of sources, and the split. What is
 * drawn from a loaded corpus (the D-token subsets, the training sampler, the
 * evaluation windows, bits per byte and epochs) is data_windows.c. The loaders
 * stay together: shards and text share the folder lister and the split rule,
 * and a named corpus is text loaded source by source. */
#include "scalelab/data.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scalelab/bpe.h"

#define SHARD_MAGIC 20240520
#define SHARD_VERSION 1
#define SHARD_HEADER_BYTES (256 * 4)

/* `bible` prints the whole King James text for this range. */
#define KJV_RANGE "Genesis1:1-Revelation22:21"
#define KJV_FILE "kjv.txt"
/* Any real printing of the range is about 4.3 MB; much less means a broken
 * or partial install, which we would rather report than train on. */
#define KJV_MIN_BYTES 1000000

/* Mixed into the BPE cache key so that a change to the chunking or training
 * rules invalidates old caches instead of silently reusing them. */
#define BPE_ALGO_TAG "scalelab-bpe-chunks-v1"

static char default_data_dir[1100];
static pthread_once_t data_dir_once = PTHREAD_ONCE_INIT;

static void find_data_dir(void)
{
    char exe[1024];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        for (int up = 0; slash && up < 2; up++) {
            *slash = 0;
            char probe[1100];
            snprintf(probe, sizeof probe, "%s/data/README.md", exe);
            if (access(probe, F_OK) == 0) {
                snprintf(default_data_dir, sizeof default_data_dir, "%s/data", exe);
                return;
            }
            slash = strrchr(exe, '/');
        }
    }
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && xdg[0] == '/')
        snprintf(default_data_dir, sizeof default_data_dir, "%s/scalelab", xdg);
    else if (home && home[0] == '/')
        snprintf(default_data_dir, sizeof default_data_dir, "%s/.cache/scalelab", home);
    else
        snprintf(default_data_dir, sizeof default_data_dir, "/tmp/scalelab-data");
}

const char *sl_data_dir(const char *data_dir)
{
    if (data_dir && *data_dir)
        return data_dir;
    const char *env = getenv("SCALELAB_DATA");
    if (env && *env)
        return env;
    pthread_once(&data_dir_once, find_data_dir);
    return default_data_dir;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

static int is_kjv(const char *path) { return path && !strcmp(path, "kjv"); }

/* ---- the default corpus ------------------------------------------------- */

static int have_program(const char *name)
{
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    char buf[4096];
    while (*path) {
        size_t n = strcspn(path, ":");
        if (n > 0 && n + strlen(name) + 2 < sizeof buf) {
            memcpy(buf, path, n);
            buf[n] = '/';
            strcpy(buf + n + 1, name);
            if (access(buf, X_OK) == 0)
                return 1;
        }
        path += n;
        if (*path == ':')
            path++;
    }
    return 0;
}

int sl_data_prepare_default(const char *data_dir, char *out_path, size_t out_len, sl_error *err)
{
    data_dir = sl_data_dir(data_dir);
    if (!have_program("bible"))
        return sl_fail(err, SL_ERUNTIME,
                       "bible: command not found (expected the bible-kjv package, which prints the "
                       "default corpus: run scripts/install-deps.sh or apt-get install bible-kjv)");
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", data_dir, KJV_FILE) >= (int)sizeof path)
        return sl_fail(err, SL_EINPUT, "%s: data directory path too long", data_dir);
    int rc = sl_mkdirs(data_dir, err);
    if (rc)
        return rc;

    FILE *p = popen("bible " KJV_RANGE " </dev/null 2>/dev/null", "r");
    if (!p)
        return sl_fail(err, SL_ERUNTIME, "bible: cannot run: %s", strerror(errno));
    size_t cap = 5u << 20, len = 0;
    char *buf = sl_xmalloc(cap);
    for (;;) {
        if (len == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                pclose(p);
                return sl_fail(err, SL_ERUNTIME, "bible: out of memory reading its output");
            }
            buf = nb;
        }
        size_t r = fread(buf + len, 1, cap - len, p);
        if (r == 0)
            break;
        len += r;
    }
    int status = pclose(p);
    if (status != 0 || len < KJV_MIN_BYTES) {
        free(buf);
        return sl_fail(err, SL_ERUNTIME,
                       "bible: printed %zu bytes and exited with status %d (expected about 4.3 MB of "
                       "the King James text; reinstall bible-kjv)",
                       len, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    rc = sl_write_atomic(path, buf, len, err);
    free(buf);
    if (rc)
        return rc;
    if (out_path && out_len > 0)
        snprintf(out_path, out_len, "%s", path);
    return SL_OK;
}

/* ---- folders ------------------------------------------------------------ */

typedef struct {
    char **paths;
    size_t n, cap;
} pathlist;

static void pathlist_free(pathlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->paths[i]);
    free(l->paths);
    memset(l, 0, sizeof *l);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Regular files in dir whose names end with ext, sorted by name. */
static int list_dir(const char *dir, const char *ext, pathlist *out, sl_error *err)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d)
        return sl_fail(err, SL_EINPUT, "%s: cannot open folder: %s", dir, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !ends_with(e->d_name, ext))
            continue;
        size_t n = strlen(dir) + strlen(e->d_name) + 2;
        char *p = sl_xmalloc(n);
        snprintf(p, n, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(p);
            continue;
        }
        if (out->n == out->cap) {
            out->cap = out->cap ? out->cap * 2 : 16;
            char **np = realloc(out->paths, out->cap * sizeof *np);
            if (!np) {
                free(p);
                closedir(d);
                pathlist_free(out);
                return sl_fail(err, SL_ERUNTIME, "%s: out of memory listing the folder", dir);
            }
            out->paths = np;
        }
        out->paths[out->n++] = p;
    }
    closedir(d);
    if (out->n > 1)
        qsort(out->paths, out->n, sizeof *out->paths, cmp_str);
    return SL_OK;
}

/* ---- token shards ------------------------------------------------------- */

static int32_t le_i32(const uint8_t *p)
{
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24);
}

static int grow_tokens(uint16_t **tok, size_t *n, size_t *cap, size_t count, const char *path,
                       sl_error *err)
{
    if (*n + count > *cap) {
        size_t nc = *cap ? *cap : 1 << 16;
        while (nc < *n + count)
            nc *= 2;
        uint16_t *nt = realloc(*tok, nc * sizeof *nt);
        if (!nt)
            return sl_fail(err, SL_ERUNTIME, "%s: out of memory for %zu tokens", path, count);
        *tok = nt;
        *cap = nc;
    }
    return SL_OK;
}

/* Appends the tokens of one shard to *tok (capacity *cap, length *n): an
 * llm.c shard when it starts with llm.c's magic (20240520, whose low 16 bits,
 * 55432, are no GPT-2 token, so no nanoGPT file starts with it) unless the
 * format says raw; else nanoGPT's headerless uint16 tokens. *kind gets the
 * format read. */
static int read_shard(const char *path, int format, uint16_t **tok, size_t *n, size_t *cap,
                      int *kind, sl_error *err)
{
    char *data;
    size_t len;
    int rc = sl_read_file(path, &data, &len, err);
    if (rc)
        return rc;
    const uint8_t *p = (const uint8_t *)data;
    int llmc = format == SL_FORMAT_LLMC ||
               (format == SL_FORMAT_AUTO && len >= 4 && le_i32(p) == SHARD_MAGIC);
    if (!llmc) {
        *kind = SL_FORMAT_RAW_U16;
        if (len % 2) {
            free(data);
            return sl_fail(err, SL_EINPUT,
                           "%s: size: %zu bytes is odd (expected raw uint16 tokens, 2 bytes each, or an "
                           "llm.c shard starting with magic %d)",
                           path, len, SHARD_MAGIC);
        }
        size_t count = len / 2;
        if ((rc = grow_tokens(tok, n, cap, count, path, err)) == SL_OK) {
            for (size_t i = 0; i < count; i++)
                (*tok)[*n + i] = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
            *n += count;
        }
        free(data);
        return rc;
    }
    *kind = SL_FORMAT_LLMC;
    rc = SL_EINPUT;
    if (len < SHARD_HEADER_BYTES) {
        sl_fail(err, rc, "%s: header: file is %zu bytes (expected a %d-byte header of 256 int32)",
                path, len, SHARD_HEADER_BYTES);
        goto done;
    }
    int32_t magic = le_i32(p), version = le_i32(p + 4), count = le_i32(p + 8);
    if (magic != SHARD_MAGIC) {
        sl_fail(err, rc, "%s: header: magic %ld (expected %d)", path, (long)magic, SHARD_MAGIC);
        goto done;
    }
    if (version != SHARD_VERSION) {
        sl_fail(err, rc, "%s: header: version %ld (expected %d)", path, (long)version, SHARD_VERSION);
        goto done;
    }
    if (count < 0 || (size_t)SHARD_HEADER_BYTES + 2 * (size_t)count != len) {
        sl_fail(err, rc,
                "%s: header: token count %ld does not match the file size %zu (expected %zu tokens "
                "for a %zu-byte file)",
                path, (long)count, len, (len - SHARD_HEADER_BYTES) / 2, len);
        goto done;
    }
    if (grow_tokens(tok, n, cap, (size_t)count, path, err) != SL_OK) {
        rc = SL_ERUNTIME;
        goto done;
    }
    const uint8_t *q = p + SHARD_HEADER_BYTES;
    for (size_t i = 0; i < (size_t)count; i++)
        (*tok)[*n + i] = (uint16_t)(q[2 * i] | q[2 * i + 1] << 8);
    *n += (size_t)count;
    rc = SL_OK;
done:
    free(data);
    return rc;
}

static size_t test_count(size_t n, double test_frac)
{
    size_t t = (size_t)(test_frac * (double)n + 0.5);
    /* Both parts keep at least one token, so that short corpora fail with the
     * clearer "too short for the context" error rather than an empty part. */
    if (n >= 2 && t < 1)
        t = 1;
    if (n >= 2 && t > n - 1)
        t = n - 1;
    return t;
}

/* llm.c names validation shards like fineweb_val_000000.bin: "val" as a word
 * of the name, not inside one (interval.bin, eval.bin are training shards). */
static int is_val_shard(const char *base)
{
    for (const char *p = strstr(base, "val"); p; p = strstr(p + 1, "val")) {
        int left = p == base || p[-1] == '_' || p[-1] == '-' || p[-1] == '.';
        int right = p[3] == '_' || p[3] == '-' || p[3] == '.';
        if (left && right)
            return 1;
    }
    return 0;
}

static int load_shards(sl_corpus *c, const char *path, int is_dir, double test_frac, int format,
                       sl_error *err)
{
    uint16_t *tok = NULL;
    size_t n = 0, cap = 0, n_train = 0;
    int rc = SL_OK, kind = SL_FORMAT_LLMC;
    if (!is_dir) {
        rc = read_shard(path, format, &tok, &n, &cap, &kind, err);
        n_train = n - test_count(n, test_frac);
    } else {
        pathlist l;
        rc = list_dir(path, ".bin", &l, err);
        if (rc)
            return rc;
        /* Training shards first, then the validation shards (llm.c names them
         * *_val_*.bin) as the test part. */
        size_t n_val = 0;
        for (size_t i = 0; i < l.n && !rc; i++) {
            const char *base = strrchr(l.paths[i], '/') + 1;
            if (is_val_shard(base))
                n_val++;
            else
                rc = read_shard(l.paths[i], format, &tok, &n, &cap, &kind, err);
        }
        if (!rc && n_val > 0 && n_val == l.n)
            rc = sl_fail(err, SL_EINPUT, "%s: only validation shards (expected training .bin files "
                                         "whose names do not contain \"val\" as well)", path);
        n_train = n;
        for (size_t i = 0; i < l.n && !rc && n_val > 0; i++) {
            const char *base = strrchr(l.paths[i], '/') + 1;
            if (is_val_shard(base))
                rc = read_shard(l.paths[i], format, &tok, &n, &cap, &kind, err);
        }
        if (!rc && n_val == 0)
            n_train = n - test_count(n, test_frac);
        pathlist_free(&l);
    }
    if (!rc && n == 0)
        rc = sl_fail(err, SL_EINPUT, "%s: empty corpus: 0 tokens (expected a non-empty shard)", path);
    if (rc) {
        free(tok);
        return rc;
    }
    int max = 0;
    for (size_t i = 0; i < n; i++)
        if (tok[i] > max)
            max = tok[i];
    if (max == 0) {
        free(tok);
        return sl_fail(err, SL_EINPUT, "%s: tokens: every token is 0 (expected at least two token ids: "
                                       "a model needs a vocabulary of 2 or more)", path);
    }
    c->tokens = tok;
    c->n_tokens = n;
    c->n_train = n_train;
    c->vocab = max + 1;
    snprintf(c->tokenizer, sizeof c->tokenizer, "shard");
    snprintf(c->format, sizeof c->format, "%s", kind == SL_FORMAT_RAW_U16 ? "raw-u16" : "llm.c");
    return SL_OK;
}

/* ---- text --------------------------------------------------------------- */

static int read_text(const char *path, int is_dir, uint8_t **bytes, size_t *n, sl_error *err)
{
    if (!is_dir)
        return sl_read_file(path, (char **)bytes, n, err);
    pathlist l;
    int rc = list_dir(path, ".txt", &l, err);
    if (rc)
        return rc;
    if (l.n == 0) {
        pathlist_free(&l);
        return sl_fail(err, SL_EINPUT, "%s: empty folder (expected .txt files or .bin token shards)",
                       path);
    }
    uint8_t *all = NULL;
    size_t len = 0;
    for (size_t i = 0; i < l.n && !rc; i++) {
        char *d;
        size_t m;
        rc = sl_read_file(l.paths[i], &d, &m, err);
        if (rc)
            break;
        uint8_t *na = realloc(all, len + m + 1);
        if (!na) {
            free(d);
            rc = sl_fail(err, SL_ERUNTIME, "%s: out of memory reading the corpus", l.paths[i]);
            break;
        }
        all = na;
        memcpy(all + len, d, m);
        len += m;
        all[len] = 0;
        free(d);
    }
    pathlist_free(&l);
    if (rc) {
        free(all);
        return rc;
    }
    *bytes = all;
    *n = len;
    return SL_OK;
}

int sl_tokenizer_parse(const char *s, int *vocab, sl_error *err)
{
    *vocab = 0;
    if (!s || !*s || !strcmp(s, "byte") || !strcmp(s, "bytes"))
        return SL_OK;
    if (!strncmp(s, "bpe:", 4)) {
        char *end;
        errno = 0;
        long v = strtol(s + 4, &end, 10);
        if (s[4] && !*end && errno == 0 && v >= 257 && v <= SL_MAX_BPE_VOCAB) {
            *vocab = (int)v;
            return SL_OK;
        }
    }
    return sl_fail(err, SL_EINPUT, "'%s' is not a tokenizer (expected byte or bpe:VOCAB with VOCAB 257..%d)",
                   s, SL_MAX_BPE_VOCAB);
}

/* The BPE for this corpus's train part: from the cache if it is intact, else
 * trained and cached. A cache that cannot be written is not an error (the
 * tokenizer is still correct, only slower next time); cache_state says so. */
static int get_bpe(sl_corpus *c, const char *data_dir, const uint8_t *train, size_t n, int vocab,
                   sl_bpe **out, sl_error *err)
{
    uint8_t v[4] = {(uint8_t)vocab, (uint8_t)(vocab >> 8), (uint8_t)(vocab >> 16), 0};
    uint64_t key = sl_fnv1a(SL_FNV_INIT, BPE_ALGO_TAG, strlen(BPE_ALGO_TAG));
    key = sl_fnv1a(key, v, sizeof v);
    key = sl_fnv1a(key, train, n);
    if (snprintf(c->cache_path, sizeof c->cache_path, "%s/bpe-%d-%016llx.tok", data_dir, vocab,
                 (unsigned long long)key) >= (int)sizeof c->cache_path)
        return sl_fail(err, SL_EINPUT, "%s: --data-dir: path too long (expected under %zu bytes)",
                       data_dir, sizeof c->cache_path - 40);
    c->cache_note[0] = 0;

    struct stat st;
    int had_file = stat(c->cache_path, &st) == 0;
    if (had_file) {
        sl_error e;
        if (sl_bpe_load(c->cache_path, vocab, key, out, &e) == SL_OK) {
            c->cache_state = SL_CACHE_LOADED;
            return SL_OK;
        }
        snprintf(c->cache_note, sizeof c->cache_note, "%s", e.msg);
    }
    int rc = sl_bpe_train(train, n, vocab, out, err);
    if (rc)
        return rc;
    c->cache_state = had_file ? SL_CACHE_REPAIRED : SL_CACHE_TRAINED;
    sl_error e;
    if (sl_mkdirs(data_dir, &e) != SL_OK || sl_bpe_save(*out, c->cache_path, key, &e) != SL_OK) {
        c->cache_state = SL_CACHE_UNSAVED;
        snprintf(c->cache_note, sizeof c->cache_note, "%s", e.msg);
    }
    return SL_OK;
}

static int load_text(sl_corpus *c, const char *path, int is_dir, int vocab, double test_frac,
                     const char *data_dir, sl_error *err)
{
    uint8_t *bytes;
    size_t n;
    int rc = read_text(path, is_dir, &bytes, &n, err);
    if (rc)
        return rc;
    if (n == 0) {
        free(bytes);
        return sl_fail(err, SL_EINPUT, "%s: empty corpus: 0 bytes (expected some text)", path);
    }
    size_t nb_train = n - test_count(n, test_frac);
    c->bytes = bytes;
    c->n_bytes = n;
    c->n_train_bytes = nb_train;
    c->tokens = sl_xmalloc(n * sizeof *c->tokens);
    if (vocab == 0) {
        for (size_t i = 0; i < n; i++)
            c->tokens[i] = bytes[i];
        c->n_tokens = n;
        c->n_train = nb_train;
        c->vocab = 256;
        snprintf(c->tokenizer, sizeof c->tokenizer, "byte");
        return SL_OK;
    }
    sl_bpe *b;
    double t0 = sl_now();
    rc = get_bpe(c, data_dir, bytes, nb_train, vocab, &b, err);
    if (rc)
        return rc;
    c->bpe_seconds = sl_now() - t0;
    /* The parts are encoded separately so that the test tokens decode to
     * exactly the held-out bytes the n-gram baselines are scored on. */
    size_t n1, n2;
    t0 = sl_now();
    rc = sl_bpe_encode(b, bytes, nb_train, c->tokens, &n1, err);
    if (!rc)
        rc = sl_bpe_encode(b, bytes + nb_train, n - nb_train, c->tokens + n1, &n2, err);
    c->encode_seconds = sl_now() - t0;
    sl_bpe_free(b);
    if (rc)
        return rc;
    c->n_tokens = n1 + n2;
    c->n_train = n1;
    c->vocab = vocab;
    snprintf(c->tokenizer, sizeof c->tokenizer, "bpe:%d", vocab);
    return SL_OK;
}

/* ---- named corpora of sources ------------------------------------------- */

static int in_list(const char *list, const char *name)
{
    if (!list)
        return 0;
    size_t nl = strlen(name);
    for (const char *s = list; *s;) {
        size_t l = strcspn(s, ",");
        if (l == nl && !strncmp(s, name, l))
            return 1;
        s += l;
        if (*s == ',')
            s++;
    }
    return 0;
}

static int load_named(sl_corpus *c, const char *spec, const char *exclude, int vocab, double test_frac,
                      const char *data_dir, sl_error *err)
{
    char dir[1100];
    int rc = sl_corpus_dir(spec, test_frac, data_dir, dir, sizeof dir, err);
    if (rc)
        return rc;
    sl_manifest *m = &c->manifest;
    char mpath[1200];
    snprintf(mpath, sizeof mpath, "%s/manifest.json", dir);
    if (access(mpath, F_OK) != 0) {
        sl_prepare_opts po = {.data_dir = data_dir, .test_frac = test_frac};
        if ((rc = sl_corpus_prepare(spec, &po, m, err)))
            return rc;
    }
    if ((rc = sl_manifest_read(dir, m, err)))
        return rc;
    c->has_manifest = 1;
    snprintf(c->hash, sizeof c->hash, "%s", m->hash);
    snprintf(c->source, sizeof c->source, "%.1000s", dir);
    snprintf(c->format, sizeof c->format, "text");
    if (exclude)
        for (const char *s = exclude; *s;) {
            size_t l = strcspn(s, ",");
            int found = 0;
            for (int i = 0; i < m->n_sources; i++)
                found |= strlen(m->src[i].name) == l && !strncmp(m->src[i].name, s, l);
            if (!found)
                return sl_fail(err, SL_EINPUT, "%s: holdout: no source '%.*s' in the corpus (expected one of "
                                               "its manifest's sources)", spec, (int)l, s);
            s += l;
            if (*s == ',')
                s++;
        }
    /* read every part, check it against the manifest's hash */
    char *parts[2 * SL_MAX_SOURCES] = {0};
    size_t plen[2 * SL_MAX_SOURCES] = {0};
    uint64_t h = SL_FNV_INIT;
    for (int i = 0; i < m->n_sources && !rc; i++)
        for (int p = 0; p < 2 && !rc; p++) {
            const char *part = p ? "test" : "train";
            char path[1300];
            snprintf(path, sizeof path, "%s/%s.%s.txt", dir, m->src[i].name, part);
            if ((rc = sl_read_file(path, &parts[2 * i + p], &plen[2 * i + p], err)))
                break;
            size_t want = p ? m->src[i].test_bytes : m->src[i].train_bytes;
            if (plen[2 * i + p] != want)
                rc = sl_fail(err, SL_EINPUT, "%s: %zu bytes (expected %zu as manifest.json says: run scalelab "
                                             "data prepare again)", path, plen[2 * i + p], want);
            const char *nm = m->src[i].name;
            h = sl_fnv1a(h, nm, strlen(nm) + 1);
            h = sl_fnv1a(h, part, strlen(part) + 1);
            uint64_t len = plen[2 * i + p];
            h = sl_fnv1a(h, &len, sizeof len);
            h = sl_fnv1a(h, parts[2 * i + p], plen[2 * i + p]);
        }
    char got[17];
    snprintf(got, sizeof got, "%016llx", (unsigned long long)h);
    if (!rc && strcmp(got, m->hash))
        rc = sl_fail(err, SL_EINPUT, "%s: content hash %s (expected %s as manifest.json says: the files "
                                     "changed; run scalelab data prepare again)", dir, got, m->hash);
    size_t total = 0;
    for (int i = 0; i < 2 * m->n_sources; i++)
        total += plen[i];
    uint8_t *bytes = rc ? NULL : sl_xmalloc(total + 1);
    size_t at = 0;
    int inc[SL_MAX_SOURCES], ns = 0;
    for (int i = 0; i < m->n_sources; i++)
        if (!in_list(exclude, m->src[i].name))
            inc[ns++] = i;
    for (int p = 0; p < 2 && !rc; p++)
        for (int k = 0; k < ns; k++) {
            int i = inc[k];
            sl_corpus_source *cs = &c->src[k];
            snprintf(cs->name, sizeof cs->name, "%s", m->src[i].name);
            memcpy(bytes + at, parts[2 * i + p], plen[2 * i + p]);
            if (p) {
                cs->btest_start = at;
                cs->btest_len = plen[2 * i + p];
            } else {
                cs->btrain_start = at;
                cs->btrain_len = plen[2 * i + p];
            }
            at += plen[2 * i + p];
        }
    for (int i = 0; i < 2 * SL_MAX_SOURCES; i++)
        free(parts[i]);
    if (rc)
        return rc;
    if (ns == 0) {
        free(bytes);
        return sl_fail(err, SL_EINPUT, "%s: holdout: every source is held out (expected at least one to "
                                       "train on)", spec);
    }
    c->n_sources = ns;
    c->bytes = bytes;
    c->n_bytes = at;
    c->n_train_bytes = c->src[0].btest_start;
    c->tokens = sl_xmalloc((at ? at : 1) * sizeof *c->tokens);
    sl_bpe *b = NULL;
    if (vocab) {
        double t0 = sl_now();
        if ((rc = get_bpe(c, data_dir, bytes, c->n_train_bytes, vocab, &b, err)))
            return rc;
        c->bpe_seconds = sl_now() - t0;
    }
    double t0 = sl_now();
    size_t nt = 0;
    for (int p = 0; p < 2 && !rc; p++)
        for (int i = 0; i < ns && !rc; i++) {
            sl_corpus_source *cs = &c->src[i];
            size_t bs = p ? cs->btest_start : cs->btrain_start, bl = p ? cs->btest_len : cs->btrain_len;
            size_t k = 0;
            if (b)
                rc = sl_bpe_encode(b, bytes + bs, bl, c->tokens + nt, &k, err);
            else {
                for (size_t j = 0; j < bl; j++)
                    c->tokens[nt + j] = bytes[bs + j];
                k = bl;
            }
            if (p) {
                cs->test_start = nt;
                cs->test_len = k;
            } else {
                cs->train_start = nt;
                cs->train_len = k;
            }
            nt += k;
        }
    c->encode_seconds = b ? sl_now() - t0 : 0;
    sl_bpe_free(b);
    if (rc)
        return rc;
    c->n_tokens = nt;
    c->n_train = c->src[0].test_start;
    c->vocab = vocab ? vocab : 256;
    snprintf(c->tokenizer, sizeof c->tokenizer, vocab ? "bpe:%d" : "byte", vocab);
    return SL_OK;
}

/* ---- the corpus --------------------------------------------------------- */

int sl_corpus_load(sl_corpus *c, const sl_corpus_opts *o, sl_error *err)
{
    memset(c, 0, sizeof *c);
    sl_corpus_opts def = {0};
    if (!o)
        o = &def;
    const char *data_dir = sl_data_dir(o->data_dir);
    double test_frac = o->test_frac == 0 ? 0.05 : o->test_frac;
    if (!(test_frac > 0 && test_frac < 1))
        return sl_fail(err, SL_EINPUT, "test_frac: %g (expected a fraction between 0 and 1)",
                       test_frac);
    int vocab;
    sl_error e2;
    int rc = sl_tokenizer_parse(o->tokenizer, &vocab, &e2);
    if (rc)
        return sl_fail(err, rc, "tokenizer: %s", e2.msg);

    char path[1024];
    struct stat st;
    if (!is_kjv(o->path) && sl_corpus_is_named(o->path ? o->path : "")) {
        const char *spec = o->path && *o->path ? o->path : SL_CORPUS_DEFAULT;
        snprintf(c->name, sizeof c->name, "%s", spec);
        rc = load_named(c, spec, o->exclude, vocab, test_frac, data_dir, err);
        if (rc) {
            char keep[sizeof c->source];
            memcpy(keep, c->source, sizeof keep);
            sl_corpus_free(c);
            memcpy(c->source, keep, sizeof keep);
        }
        return rc;
    }
    if (o->exclude && *o->exclude)
        return sl_fail(err, SL_EINPUT, "holdout: %s is not a named corpus of sources (expected data.corpus "
                                       "\"%s\" to hold sources out)", o->path ? o->path : "", SL_CORPUS_DEFAULT);
    snprintf(c->name, sizeof c->name, "%s", o->path);
    if (is_kjv(o->path)) {
        if (snprintf(path, sizeof path, "%s/%s", data_dir, KJV_FILE) >= (int)sizeof path)
            return sl_fail(err, SL_EINPUT, "%s: data directory path too long", data_dir);
        if (stat(path, &st) != 0 || st.st_size == 0) {
            rc = sl_data_prepare_default(data_dir, path, sizeof path, err);
            if (rc)
                return rc;
        }
    } else {
        if (strlen(o->path) >= sizeof path)
            return sl_fail(err, SL_EINPUT, "%.100s...: path too long (expected under %zu bytes)",
                           o->path, sizeof path);
        snprintf(path, sizeof path, "%s", o->path);
    }
    snprintf(c->source, sizeof c->source, "%s", path);
    if (stat(path, &st) != 0)
        return sl_fail(err, SL_EINPUT,
                       "%s: cannot open: %s (expected a text file, a folder of .txt or .bin files, "
                       "or kjv)",
                       path, strerror(errno));
    int is_dir = S_ISDIR(st.st_mode);
    int shards = 0;
    if (is_dir) {
        pathlist l;
        rc = list_dir(path, ".bin", &l, err);
        if (rc)
            return rc;
        shards = l.n > 0;
        pathlist_free(&l);
    } else {
        shards = ends_with(path, ".bin") || o->format == SL_FORMAT_RAW_U16;
    }
    if (shards) {
        if (vocab != 0)
            return sl_fail(err, SL_EINPUT,
                           "tokenizer: '%s' does not apply to %s (expected byte or no tokenizer: "
                           ".bin shards are already tokens)",
                           o->tokenizer, path);
        rc = load_shards(c, path, is_dir, test_frac, o->format, err);
    } else if (o->format == SL_FORMAT_RAW_U16) {
        rc = sl_fail(err, SL_EINPUT, "%s: --format raw-u16 applies to .bin files (expected a .bin file or a "
                                     "folder of them)", path);
    } else {
        rc = load_text(c, path, is_dir, vocab, test_frac, data_dir, err);
        snprintf(c->format, sizeof c->format, "text");
    }
    if (rc) {
        char keep[sizeof c->source];
        memcpy(keep, c->source, sizeof keep);
        sl_corpus_free(c);
        memcpy(c->source, keep, sizeof keep);
    }
    return rc;
}

void sl_corpus_free(sl_corpus *c)
{
    if (!c)
        return;
    free(c->tokens);
    free(c->bytes);
    memset(c, 0, sizeof *c);
}

int sl_corpus_check_ctx(const sl_corpus *c, int n_ctx, sl_error *err)
{
    if (n_ctx < 1)
        return sl_fail(err, SL_EINPUT, "n_ctx: %d (expected at least 1)", n_ctx);
    size_t need = (size_t)n_ctx + 1, n_test = c->n_tokens - c->n_train;
    if (c->n_train < need)
        return sl_fail(err, SL_EINPUT,
                       "%s: train part: %zu tokens (expected at least n_ctx+1 = %zu: use a longer "
                       "corpus or a shorter context)",
                       c->source, c->n_train, need);
    if (n_test < need)
        return sl_fail(err, SL_EINPUT,
                       "%s: test part: %zu tokens (expected at least n_ctx+1 = %zu: use a longer "
                       "corpus, a larger test fraction or a shorter context)",
                       c->source, n_test, need);
    return SL_OK;
}

/* ---- prepared corpora of Debian packages ------------------------------------
 * (moved here from the engine, which only loads corpora) */

/* Debian's fortunes as one text file in the data directory (the files without
 * .dat/.u8, in name order), written once. */
int sl_corpus_prepare_fortunes(const char *data_dir, char *out, size_t len, sl_error *err)
{
    const char *src = "/usr/share/games/fortunes";
    snprintf(out, len, "%s/fortunes.txt", sl_data_dir(data_dir));
    if (access(out, F_OK) == 0)
        return SL_OK;
    struct dirent **list;
    int n = scandir(src, &list, NULL, alphasort);
    if (n < 0)
        return sl_fail(err, SL_ERUNTIME, "%s: cannot read: %s (install the fortunes package)", src,
                       strerror(errno));
    size_t cap = 1 << 20, used = 0;
    char *buf = sl_xmalloc(cap);
    for (int i = 0; i < n; i++) {
        const char *name = list[i]->d_name;
        size_t l = strlen(name);
        int skip = name[0] == '.' || (l > 4 && !strcmp(name + l - 4, ".dat")) ||
                   (l > 3 && !strcmp(name + l - 3, ".u8"));
        char path[1300];
        snprintf(path, sizeof path, "%s/%s", src, name);
        struct stat st;
        if (!skip && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            char *d;
            size_t dl;
            sl_error e2;
            if (sl_read_file(path, &d, &dl, &e2) == SL_OK) {
                while (used + dl + 1 > cap)
                    cap *= 2;
                char *nb = realloc(buf, cap);
                if (!nb)
                    abort();
                buf = nb;
                memcpy(buf + used, d, dl);
                used += dl;
                free(d);
            }
        }
        free(list[i]);
    }
    free(list);
    int rc = used == 0 ? sl_fail(err, SL_ERUNTIME, "%s: no fortune files (install the fortunes package)", src)
                       : sl_mkdirs(sl_data_dir(data_dir), err);
    if (rc == SL_OK)
        rc = sl_write_atomic(out, buf, used, err);
    free(buf);
    return rc;
}
