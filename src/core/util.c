/* util: see include/scalelab/util.h */
#define _POSIX_C_SOURCE 200809L
#include "scalelab/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

int sl_fail(sl_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        /* A message quotes what it found in the input (a key, a cell), and
         * stays one line whatever bytes that holds. */
        for (char *c = err->msg; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                *c = '?';
    }
    return code;
}

int sl_exit_code(int rc)
{
    if (rc == SL_OK)
        return 0;
    return rc == SL_EINPUT ? 2 : 1;
}

void *sl_xmalloc_(size_t n, const char *file, int line)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "scalelab: %s:%d: out of memory allocating %zu bytes\n", file, line, n);
        abort();
    }
    return p;
}

void *sl_xcalloc_(size_t n, size_t size, const char *file, int line)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        fprintf(stderr, "scalelab: %s:%d: out of memory allocating %zu x %zu bytes\n", file, line, n,
                size);
        abort();
    }
    return p;
}

float *sl_try_alloc_floats(size_t n)
{
    if (n > (SIZE_MAX - 63) / sizeof(float))
        return NULL;
    size_t bytes = (n * sizeof(float) + 63) & ~(size_t)63;
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes ? bytes : 64) != 0)
        return NULL;
    memset(p, 0, bytes);
    return p;
}

float *sl_alloc_floats(size_t n)
{
    float *p = sl_try_alloc_floats(n);
    if (!p) {
        fprintf(stderr, "scalelab: out of memory allocating %zu floats\n", n);
        abort();
    }
    return p;
}

static int fsync_dir_of(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        strcpy(dir, ".");
    else if (slash == path)
        strcpy(dir, "/");
    else {
        size_t n = (size_t)(slash - path);
        if (n >= sizeof dir)
            return -1;
        memcpy(dir, path, n);
        dir[n] = 0;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int sl_write_atomic(const char *path, const void *data, size_t len, sl_error *err)
{
    /* unique per process and per call, so that threads replacing the same file
     * never share a temporary */
    static _Atomic unsigned long counter;
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%lu", path, (long)getpid(), ++counter) >=
        (int)sizeof tmp)
        return sl_fail(err, SL_EINPUT, "%s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return sl_fail(err, SL_ERUNTIME, "%s: cannot create temporary file: %s", tmp, strerror(errno));
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : ENOSPC;
            close(fd);
            unlink(tmp);
            return sl_fail(err, SL_ERUNTIME, "%s: write failed: %s (the previous file is intact)", path,
                           strerror(e));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return sl_fail(err, SL_ERUNTIME, "%s: fsync failed: %s (the previous file is intact)", path,
                       strerror(e));
    }
    if (close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return sl_fail(err, SL_ERUNTIME, "%s: close failed: %s (the previous file is intact)", path,
                       strerror(e));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return sl_fail(err, SL_ERUNTIME, "%s: rename failed: %s (the previous file is intact)", path,
                       strerror(e));
    }
    fsync_dir_of(path);
    return SL_OK;
}

/* The PID of a temporary's name "NAME.tmp.PID.N", or -1 when it is not one. */
static long temp_pid(const char *name)
{
    const char *end = name + strlen(name), *p = end;
    while (p > name && p[-1] >= '0' && p[-1] <= '9')
        p--;
    if (p == end || p == name || p[-1] != '.')
        return -1;
    const char *n = --p;
    while (p > name && p[-1] >= '0' && p[-1] <= '9')
        p--;
    if (p == n || n - p > 9 || p - name < 5 || strncmp(p - 5, ".tmp.", 5) != 0)
        return -1;
    return strtol(p, NULL, 10);
}

int sl_remove_stale_temps(const char *dir, int locked)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int removed = 0;
    long self = (long)getpid();
    struct dirent *e;
    while ((e = readdir(d))) {
        long pid = temp_pid(e->d_name);
        if (pid <= 0 || pid == self)
            continue;
        if (!locked && !(kill((pid_t)pid, 0) != 0 && errno == ESRCH))
            continue; /* its process may still be writing it */
        char path[4200];
        struct stat st;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path ||
            lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        /* a PID is only known dead on this machine: on a shared file system
         * a process elsewhere may be writing it, never for long */
        if (!locked && st.st_mtime > time(NULL) - SL_STALE_TEMP_SECONDS)
            continue;
        if (unlink(path) == 0)
            removed++;
    }
    closedir(d);
    return removed;
}

int sl_read_file(const char *path, char **data, size_t *len, sl_error *err)
{
    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sl_fail(err, SL_EINPUT, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return sl_fail(err, SL_EINPUT, "%s: not a regular file", path);
    }
    size_t n = (size_t)st.st_size;
    char *buf = malloc(n + 1);
    if (!buf) {
        close(fd);
        return sl_fail(err, SL_ERUNTIME, "%s: out of memory reading %zu bytes", path, n);
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got != n) {
        free(buf);
        return sl_fail(err, SL_ERUNTIME, "%s: short read (%zu of %zu bytes)", path, got, n);
    }
    buf[n] = 0;
    *data = buf;
    *len = n;
    return SL_OK;
}

int sl_mkdirs(const char *path, sl_error *err)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return sl_fail(err, SL_EINPUT, "%s: bad directory path", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == 0) {
            char c = buf[i];
            buf[i] = 0;
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return sl_fail(err, SL_ERUNTIME, "%s: cannot create directory: %s", buf,
                               strerror(errno));
            buf[i] = c;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return sl_fail(err, SL_EINPUT, "%s: exists and is not a directory", path);
    return SL_OK;
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void sl_rng_seed(sl_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t sl_rng_next(sl_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double sl_rng_uniform(sl_rng *r) { return (double)(sl_rng_next(r) >> 11) * 0x1.0p-53; }

uint64_t sl_rng_below(sl_rng *r, uint64_t n)
{
    if (n <= 1)
        return 0;
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = sl_rng_next(r);
    while (x >= limit);
    return x % n;
}

float sl_rng_normal(sl_rng *r)
{
    /* Box-Muller; one value per call keeps the state a plain function of draws. */
    double u1 = sl_rng_uniform(r), u2 = sl_rng_uniform(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}

void sl_fmt_duration(char *buf, size_t n, double s, const char *unknown)
{
    if (!isfinite(s) || s < 0)
        snprintf(buf, n, "%s", unknown);
    else if (s < 60)
        snprintf(buf, n, "%.0fs", s);
    else if (s < 3600)
        snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else if (s < 86400 * 3)
        snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
    else
        snprintf(buf, n, "%.0fd", s / 86400);
}

double sl_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

uint64_t sl_fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

double sl_peak_rss_mb(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0.0;
    return (double)ru.ru_maxrss / 1024.0;
}

/* ---- where presets and themes are found ---------------------------------- */

void sl_user_dir(char *out, size_t len, const char *sub)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    const char *sep = sub && sub[0] ? "/" : "";
    if (!sub)
        sub = "";
    if (xdg && xdg[0] == '/')
        snprintf(out, len, "%.900s/scalelab%s%s", xdg, sep, sub);
    else if (home && home[0])
        snprintf(out, len, "%.900s/.config/scalelab%s%s", home, sep, sub);
    else if (len)
        out[0] = 0;
}

int sl_search_dirs(const char *kind, char dirs[][SL_SEARCH_PATH])
{
    int n = 0;
    snprintf(dirs[n++], SL_SEARCH_PATH, "%s", kind);
    const char *env = getenv(!strcmp(kind, "themes") ? "SCALELAB_THEMES" : "SCALELAB_PRESETS");
    if (env && env[0])
        snprintf(dirs[n++], SL_SEARCH_PATH, "%.1000s", env);
    sl_user_dir(dirs[n], SL_SEARCH_PATH, kind);
    n += dirs[n][0] != 0;
    char exe[1024];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *slash = len > 0 ? (exe[len] = 0, strrchr(exe, '/')) : NULL;
    if (slash) {
        *slash = 0; /* the binary's folder, then its parent (PREFIX of PREFIX/bin) */
        snprintf(dirs[n++], SL_SEARCH_PATH, "%.1000s/%s", exe, kind);
        char *up = strrchr(exe, '/');
        if (up)
            *up = 0;
        snprintf(dirs[n++], SL_SEARCH_PATH, "%.1000s/%s", exe, kind);
        snprintf(dirs[n++], SL_SEARCH_PATH, "%.1000s/share/scalelab/%s", exe, kind);
    }
    snprintf(dirs[n++], SL_SEARCH_PATH, "/usr/share/scalelab/%s", kind);
    return n;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int sl_search_find(const char *kind, const char *name, char *out, size_t len)
{
    if (is_file(name)) {
        snprintf(out, len, "%s", name);
        return 1;
    }
    if (strchr(name, '/') || !name[0])
        return 0;
    char dirs[SL_SEARCH_MAX][SL_SEARCH_PATH];
    int nd = sl_search_dirs(kind, dirs);
    for (int i = 0; i < nd; i++) {
        if (snprintf(out, len, "%s/%s.json", dirs[i], name) < (int)len && is_file(out))
            return 1;
    }
    if (len)
        out[0] = 0;
    return 0;
}

int sl_search_list(const char *kind, int (*fn)(void *user, const char *path, const char *name),
                   void *user)
{
    char dirs[SL_SEARCH_MAX][SL_SEARCH_PATH];
    enum { MAX_NAMES = 1024 };
    int nd = sl_search_dirs(kind, dirs), calls = 0, n_seen = 0;
    char (*seen)[256] = sl_xcalloc(MAX_NAMES, sizeof *seen);
    for (int i = 0; i < nd; i++) {
        DIR *d = opendir(dirs[i]);
        if (!d)
            continue;
        struct dirent *de;
        int stop = 0;
        while (!stop && (de = readdir(d))) {
            size_t l = strlen(de->d_name);
            if (l < 6 || strcmp(de->d_name + l - 5, ".json"))
                continue;
            char name[256], path[SL_SEARCH_PATH + 256];
            snprintf(name, sizeof name, "%.*s", (int)(l - 5), de->d_name);
            snprintf(path, sizeof path, "%.1000s/%.250s", dirs[i], de->d_name);
            int dup = 0;
            for (int k = 0; k < n_seen && !dup; k++)
                dup = !strcmp(seen[k], name);
            if (dup || !is_file(path) || n_seen == MAX_NAMES)
                continue;
            memcpy(seen[n_seen++], name, sizeof name);
            calls++;
            stop = fn(user, path, name);
        }
        closedir(d);
        if (stop)
            break;
    }
    free(seen);
    return calls;
}
