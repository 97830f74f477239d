/* Shared by the test files: a fresh temporary directory per test, and running
 * the scalelab binary (SL_TEST_BIN) with its output captured. Header-only so
 * that every tests/test_*.c stays one translation unit. */
#ifndef SCALELAB_TESTUTIL_H
#define SCALELAB_TESTUTIL_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scalelab/util.h"

static char tu_dir[256];

static inline void tu_make_dir(void)
{
    snprintf(tu_dir, sizeof tu_dir, "/tmp/scalelab-test-XXXXXX");
    cr_assert_not_null(mkdtemp(tu_dir));
}

static inline void tu_remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char p[1536];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p)
            continue;
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            tu_remove_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static inline void tu_remove_dir(void) { tu_remove_tree(tu_dir); }

/* tu_dir/name, in a static buffer per call site's choice */
static inline const char *tu_path(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", tu_dir, name);
    return buf;
}

static inline void tu_write(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot write %s", path);
    cr_assert_eq(fwrite(data, 1, n, f), n);
    fclose(f);
}

/* tu_dir/name (its path into path): `bytes` bytes of a repeated verse, a
 * small text corpus for the CLI tests. */
static inline void tu_write_text(const char *name, size_t bytes, char *path, size_t len)
{
    tu_path(path, len, name);
    char *buf = sl_xmalloc(bytes);
    const char *s = "In the beginning God created the heaven and the earth. ";
    for (size_t i = 0; i < bytes; i++)
        buf[i] = s[i % strlen(s)];
    tu_write(path, buf, bytes);
    free(buf);
}

/* Runs scalelab with args (NULL-terminated), SCALELAB_DATA pointing to the
 * temporary directory and, if limit_kb > 0, a file-size limit (a full disk);
 * returns the exit status with stdout and stderr in out and err. */
static inline int tu_run(char *out, size_t out_len, char *err, size_t err_len, long limit_kb,
                         const char *const *args)
{
    char po[512], pe[512];
    tu_path(po, sizeof po, ".stdout");
    tu_path(pe, sizeof pe, ".stderr");
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        if (!freopen(po, "w", stdout) || !freopen(pe, "w", stderr))
            _exit(127);
        setenv("SCALELAB_DATA", tu_dir, 1);
        if (limit_kb > 0) {
            char cmd[64];
            snprintf(cmd, sizeof cmd, "ulimit -f %ld; exec \"$0\" \"$@\"", limit_kb);
            const char *argv[40] = {"/bin/sh", "-c", cmd, SL_TEST_BIN};
            int n = 4;
            for (int i = 0; args[i] && n < 39; i++)
                argv[n++] = args[i];
            argv[n] = NULL;
            execv("/bin/sh", (char *const *)argv);
            _exit(127);
        }
        const char *argv[40] = {SL_TEST_BIN};
        int n = 1;
        for (int i = 0; args[i] && n < 39; i++)
            argv[n++] = args[i];
        argv[n] = NULL;
        execv(SL_TEST_BIN, (char *const *)argv);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    char *d;
    size_t len;
    sl_error e;
    cr_assert_eq(sl_read_file(po, &d, &len, &e), SL_OK);
    snprintf(out, out_len, "%s", d);
    free(d);
    cr_assert_eq(sl_read_file(pe, &d, &len, &e), SL_OK);
    snprintf(err, err_len, "%s", d);
    free(d);
    cr_assert(WIFEXITED(status), "scalelab did not exit normally (status %d)", status);
    return WEXITSTATUS(status);
}

/* Exit status 2 and exactly one stderr line `scalelab: ...` containing want. */
static inline void tu_assert_bad_input(const char *want, const char *const *args)
{
    char out[8192], err[8192];
    int rc = tu_run(out, sizeof out, err, sizeof err, 0, args);
    cr_assert_eq(rc, 2, "exit status %d, stderr: %s", rc, err);
    cr_assert(!strncmp(err, "scalelab: ", 10), "stderr: %s", err);
    char *nl = strchr(err, '\n');
    cr_assert(nl && nl[1] == 0, "not exactly one line: %s", err);
    cr_assert_not_null(strstr(err, want), "'%s' not in: %s", want, err);
}

#endif
