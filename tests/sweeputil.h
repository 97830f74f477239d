/* Shared by the sweep tests (preset, store, engine): a small text corpus, a
 * preset around it, spawning the binary without waiting, and reading the run
 * store back. Header-only, like testutil.h. */
#ifndef SCALELAB_SWEEPUTIL_H
#define SCALELAB_SWEEPUTIL_H

#include <signal.h>
#include <time.h>

#include <math.h>

#include "scalelab/run.h"
#include "testutil.h"

/* tu_dir/text.txt: ~90 kB of repetitive English, and its path in buf. */
static inline const char *su_corpus(char *buf, size_t len)
{
    tu_path(buf, len, "text.txt");
    FILE *f = fopen(buf, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < 1500; i++)
        fprintf(f, "And God said, Let there be light: and there was light. %d\n", i);
    fclose(f);
    return buf;
}

/* Writes tu_dir/NAME.json: a preset over su_corpus with `sweep` and `train`
 * given as JSON member lists (without braces). */
static inline const char *su_preset(char *buf, size_t len, const char *name, const char *sweep,
                                    const char *train)
{
    char corpus[512];
    su_corpus(corpus, sizeof corpus);
    char file[64];
    snprintf(file, sizeof file, "%s.json", name);
    tu_path(buf, len, file);
    FILE *f = fopen(buf, "w");
    cr_assert_not_null(f);
    fprintf(f,
            "{\"name\": \"%s\", \"description\": \"test\",\n"
            " \"data\": {\"corpus\": \"%s\"},\n"
            " \"model\": {\"n_ctx\": 32, \"head_size\": 16, \"aspect\": 16},\n"
            " \"sweep\": {%s},\n"
            " \"train\": {%s}}\n",
            name, corpus, sweep, train);
    fclose(f);
    return buf;
}

/* Starts scalelab with args (NULL-terminated), output to tu_dir/.out-PID. */
static inline pid_t su_spawn(const char *const *args)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        char p[512];
        snprintf(p, sizeof p, "%s/.spawn-%d", tu_dir, (int)getpid());
        if (!freopen(p, "w", stdout) || !freopen(p, "a", stderr))
            _exit(127);
        setenv("SCALELAB_DATA", tu_dir, 1);
        const char *argv[40] = {SL_TEST_BIN};
        int n = 1;
        for (int i = 0; args[i] && n < 39; i++)
            argv[n++] = args[i];
        argv[n] = NULL;
        execv(SL_TEST_BIN, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static inline int su_wait(pid_t pid)
{
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

static inline void su_sleep(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* Contents of a file (malloc'd), or NULL when absent. */
static inline char *su_read(const char *path)
{
    char *d;
    size_t len;
    sl_error e;
    if (access(path, F_OK) != 0 || sl_read_file(path, &d, &len, &e) != SL_OK)
        return NULL;
    return d;
}

static inline int su_count_lines(const char *path)
{
    char *d = su_read(path);
    if (!d)
        return 0;
    int n = 0;
    for (char *p = d; *p; p++)
        n += *p == '\n';
    free(d);
    return n;
}

/* Every run of store a is done and equals b's: the same metric rows (every
 * column but wall_s) and the same final test loss, bit for bit. */
static inline void su_assert_same_sweep(const char *a, const char *b)
{
    sl_run *ra, *rb;
    int na, nb;
    sl_error err;
    cr_assert_eq(sl_runs_load(a, &ra, &na, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_runs_load(b, &rb, &nb, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(na, nb);
    for (int i = 0; i < na; i++) {
        cr_assert_str_eq(ra[i].spec.id, rb[i].spec.id);
        cr_assert_str_eq(ra[i].status.state, "done", "%s is %s", ra[i].spec.id, ra[i].status.state);
        cr_assert_eq(ra[i].status.final_test_loss, rb[i].status.final_test_loss,
                     "%s: final loss %.17g vs %.17g", ra[i].spec.id, ra[i].status.final_test_loss,
                     rb[i].status.final_test_loss);
        cr_assert_eq(ra[i].n_rows, rb[i].n_rows, "%s: %zu rows vs %zu", ra[i].spec.id,
                     ra[i].n_rows, rb[i].n_rows);
        for (size_t j = 0; j < ra[i].n_rows; j++) {
            const sl_metric_row *x = &ra[i].rows[j], *y = &rb[i].rows[j];
            cr_assert_eq(x->step, y->step, "%s row %zu: step %ld vs %ld (duplicated or lost)",
                         ra[i].spec.id, j, x->step, y->step);
            cr_assert(x->test_loss == y->test_loss && x->tokens == y->tokens &&
                          x->lr == y->lr && (x->train_loss == y->train_loss ||
                                             (isnan(x->train_loss) && isnan(y->train_loss))),
                      "%s step %ld differs", ra[i].spec.id, x->step);
        }
    }
    sl_runs_free(ra, na);
    sl_runs_free(rb, nb);
}

#endif
