/* Shared by the libFuzzer harnesses of tests/fuzz: a private temporary
 * directory per process (the readers under test take paths), removed at exit,
 * and a check that fails loudly (libFuzzer records the input). Header-only:
 * each harness is one translation unit. */
#ifndef SCALELAB_FUZZ_H
#define SCALELAB_FUZZ_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scalelab/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fz_dir[256];

static inline void fz_remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char p[1024];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            fz_remove_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static inline void fz_cleanup(void) { fz_remove_tree(fz_dir); }

/* The process's temporary directory, created on first use. */
static inline const char *fz_tmp(void)
{
    if (!fz_dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(fz_dir, sizeof fz_dir, "%s/scalelab-fuzz-XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(fz_dir)) {
            perror("scalelab-fuzz: mkdtemp");
            abort();
        }
        atexit(fz_cleanup);
    }
    return fz_dir;
}

/* fz_tmp()/name into out. */
static inline const char *fz_path(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", fz_tmp(), name);
    return out;
}

static inline void fz_write(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) {
        perror(path);
        abort();
    }
}

/* The input as a NUL-terminated string (malloc'd). */
static inline char *fz_text(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = 0;
    return s;
}

/* A property the reader promises was broken: report and crash, so that
 * libFuzzer keeps the input. */
#define FZ_CHECK(cond, ...)                                                          \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "scalelab-fuzz: %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                            \
            fputc('\n', stderr);                                                     \
            abort();                                                                 \
        }                                                                            \
    } while (0)

/* Error messages are one line naming what is wrong. */
static inline void fz_check_message(int rc, const sl_error *err)
{
    if (rc == SL_OK)
        return;
    FZ_CHECK(rc == SL_EINPUT || rc == SL_ERUNTIME, "return code %d", rc);
    FZ_CHECK(err->msg[0] != 0, "an error without a message");
    FZ_CHECK(strchr(err->msg, '\n') == NULL, "a message of more than one line: %s", err->msg);
}

#endif
