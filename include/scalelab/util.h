/* util: errors, atomic file writes, the seeded RNG, clocks, checked allocation.
 * Used by every module of core and above; depends on nothing but libc.
 * Errors never print: they fill an sl_error that the caller reports. */
#ifndef SCALELAB_UTIL_H
#define SCALELAB_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Return codes: 0 is success; negative values say what kind of failure. */
enum {
    SL_OK = 0,
    SL_ERUNTIME = -1, /* I/O failure, out of memory, diverged: exit code 1 */
    SL_EINPUT = -2,   /* bad input from the user (file, flag, field): exit code 2 */
};

/* One line, `FILE:FIELD: what is wrong (expected ...)`, without the program name. */
typedef struct {
    char msg[1024];
} sl_error;

/* Formats the message into err (if non-NULL) and returns code. Control
 * characters (line breaks, tabs, escapes quoted from the input) become '?', so
 * the message is always one line. */
int sl_fail(sl_error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Exit status for a return code: 0, 1 or 2. */
int sl_exit_code(int rc);

/* Allocation that aborts with file and line on failure (only for sizes the
 * program itself chose; sizes from input are checked before they get here). */
void *sl_xmalloc_(size_t n, const char *file, int line);
void *sl_xcalloc_(size_t n, size_t size, const char *file, int line);
#define sl_xmalloc(n) sl_xmalloc_((n), __FILE__, __LINE__)
#define sl_xcalloc(n, s) sl_xcalloc_((n), (s), __FILE__, __LINE__)
/* 64-byte aligned, zeroed, for tensors; free with free(). sl_alloc_floats
 * aborts when memory is short; sl_try_alloc_floats returns NULL, for the
 * tensors whose size the user chose (a model, its activations). */
float *sl_alloc_floats(size_t n);
float *sl_try_alloc_floats(size_t n);

/* Atomic replace: writes len bytes to path.tmp.PID.N (N counts calls), fsyncs it, renames it over
 * path and fsyncs the directory. On any failure the old file is untouched and the
 * temporary file is removed. */
int sl_write_atomic(const char *path, const void *data, size_t len, sl_error *err);

/* Whole file into a malloc'd buffer with a terminating NUL (not counted in *len). */
int sl_read_file(const char *path, char **data, size_t *len, sl_error *err);

/* Removes the temporaries sl_write_atomic leaves in dir when its process is
 * killed mid-write ("NAME.tmp.PID.N"): those of processes that no longer run
 * on this machine and untouched for SL_STALE_TEMP_SECONDS (a process on
 * another machine sharing the directory may be writing a younger one), or,
 * when the caller holds the directory's lock (no other process writes there),
 * those of every process but this one. Returns how many it removed. */
#define SL_STALE_TEMP_SECONDS 60
int sl_remove_stale_temps(const char *dir, int locked);

/* mkdir -p */
int sl_mkdirs(const char *path, sl_error *err);

/* Seeded RNG (splitmix64 to seed, xoshiro256** to draw). The state is four
 * words so that a checkpoint can store it and a resumed run draws the same. */
typedef struct {
    uint64_t s[4];
} sl_rng;
void sl_rng_seed(sl_rng *r, uint64_t seed);
uint64_t sl_rng_next(sl_rng *r);
double sl_rng_uniform(sl_rng *r);          /* [0, 1) */
uint64_t sl_rng_below(sl_rng *r, uint64_t n); /* [0, n), unbiased */
float sl_rng_normal(sl_rng *r);            /* standard normal */

/* The finaliser of MurmurHash3: spreads a 64-bit key over every bit, for hash
 * tables keyed by integers or by a string's FNV hash. */
static inline uint64_t sl_mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

/* A duration for progress lines and tables: 42s, 3m07s, 2h05m, 4d; `unknown`
 * when s is negative or not finite. */
void sl_fmt_duration(char *buf, size_t n, double s, const char *unknown);

/* Monotonic seconds. */
double sl_now(void);

/* FNV-1a 64 over a buffer, chainable via h (start with SL_FNV_INIT). */
#define SL_FNV_INIT 0xcbf29ce484222325ULL
uint64_t sl_fnv1a(uint64_t h, const void *data, size_t len);

/* Peak resident set size of this process in MiB. */
double sl_peak_rss_mb(void);

/* ---- where presets and themes are found ----------------------------------
 * One search path, used by --preset, --theme, scalelab run, the lab's preset
 * and theme pickers and the preset editor alike. For kind "presets" (or
 * "themes") the folders are, in order:
 *   ./presets                        the working directory
 *   $SCALELAB_PRESETS                ($SCALELAB_THEMES)
 *   $XDG_CONFIG_HOME/scalelab/presets (else ~/.config/scalelab/presets): the
 *                                    user's, where the lab's editor saves
 *   EXE/presets, UP/presets          beside the binary: a checkout's
 *   UP/share/scalelab/presets        an installed binary's (make install)
 *   /usr/share/scalelab/presets
 * where EXE is the folder of the running binary (/proc/self/exe) and UP the
 * folder above it (PREFIX for PREFIX/bin/scalelab); no path is compiled in. */
#define SL_SEARCH_MAX 8
#define SL_SEARCH_PATH 1100

/* $XDG_CONFIG_HOME/scalelab/SUB (else $HOME/.config/scalelab/SUB; SUB may be
 * "" for the folder itself), or "" when neither variable is set. */
void sl_user_dir(char *out, size_t len, const char *sub);

/* The search folders of kind, in order; returns how many (<= SL_SEARCH_MAX). */
int sl_search_dirs(const char *kind, char dirs[][SL_SEARCH_PATH]);

/* name as a file: itself when it is an existing file, else, for a name
 * without a slash, DIR/name.json in the first search folder that has it.
 * Returns 1 with the path in out, 0 when there is none. */
int sl_search_find(const char *kind, const char *name, char *out, size_t len);

/* Calls fn for each DIR/NAME.json of the search folders, in their order, each
 * NAME once (the first folder's); stops when fn returns nonzero. Returns how
 * many calls were made. */
int sl_search_list(const char *kind, int (*fn)(void *user, const char *path, const char *name),
                   void *user);

#endif
