/* A fault for the tests, loaded with LD_PRELOAD into the scalelab binary:
 * rename() fails with EIO while the file named by SL_FAULT_RENAME_WHILE exists
 * and the target's name ends with SL_FAULT_RENAME_SUFFIX (every target when it
 * is unset) — a transient I/O error whose cause the test then removes. Built
 * without sanitizers, as a plain shared object. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int rename(const char *from, const char *to)
{
    int (*real)(const char *, const char *) = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    const char *flag = getenv("SL_FAULT_RENAME_WHILE");
    const char *suffix = getenv("SL_FAULT_RENAME_SUFFIX");
    if (flag && access(flag, F_OK) == 0 && (!suffix || ends_with(to, suffix))) {
        errno = EIO;
        return -1;
    }
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    return real(from, to);
}
