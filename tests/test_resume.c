/* Resuming under real conditions: a full disk mid-sweep, a damaged checkpoint,
 * a store whose creation was cut short, the same preset written another way,
 * another thread count, rows lost to a power cut, the temporaries killed
 * processes leave, an EIO on rename, and `train --out` killed at random. Each ends bit for bit where an uninterrupted run ends, or
 * is refused with one line naming the file and the field. */
#include <dirent.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>

#include "scalelab/run.h"
#include "sweeputil.h"

TestSuite(resume, .init = tu_make_dir, .fini = tu_remove_dir);

static const char *small_sweep = "\"n\": [3000, 12000]";
static const char *small_train =
    "\"batch\": 8, \"steps\": 60, \"eval_every\": 10, \"eval_tokens\": 1024, \"threads\": 1";

static int run_cmd(const char *const *args) { return su_wait(su_spawn(args)); }

/* Runs args, expects exit `want` and returns stderr then stdout (free it). */
static char *expect_exit(int want, const char *const *args)
{
    static char out[16384], err[16384];
    int rc = tu_run(out, sizeof out, err, sizeof err, 0, args);
    cr_assert_eq(rc, want, "%s %s exited %d (expected %d): %s%s", args[0], args[1], rc, want, err, out);
    size_t n = strlen(out) + strlen(err) + 1;
    char *both = sl_xmalloc(n);
    snprintf(both, n, "%s%s", err, out);
    return both;
}

static void state_of(const char *dir, const char *id, char *state, size_t n)
{
    char rd[1200];
    snprintf(rd, sizeof rd, "%s/%s", dir, id);
    sl_run_status st;
    sl_error err;
    cr_assert_eq(sl_status_read(rd, &st, &err), SL_OK, "%s", err.msg);
    snprintf(state, n, "%s", st.state);
}

/* ---- item: a full disk ---------------------------------------------------- */

/* A tmpfs of `kb` KiB at path (as root); 0 when it cannot be mounted. */
static int mount_small_disk(const char *path, int kb)
{
    mkdir(path, 0755);
    char opts[64];
    snprintf(opts, sizeof opts, "size=%dk", kb);
    return mount("tmpfs", path, "tmpfs", 0, opts) == 0;
}

/* Fills the disk at dir until `leave` bytes are free; the filler's path in filler. */
static void fill_disk(const char *dir, long leave, char *filler, size_t n)
{
    snprintf(filler, n, "%s/filler", dir);
    FILE *f = fopen(filler, "w");
    cr_assert_not_null(f);
    static char block[4096];
    for (;;) {
        struct statvfs v;
        cr_assert_eq(statvfs(dir, &v), 0);
        long avail = (long)(v.f_bavail * v.f_frsize);
        if (avail <= leave)
            break;
        size_t chunk = avail - leave < (long)sizeof block ? (size_t)(avail - leave) : sizeof block;
        if (fwrite(block, 1, chunk, f) != chunk || fflush(f) != 0)
            break;
    }
    fclose(f);
}

/* The KiB a tmpfs gives the regular files under dir: each file's pages. */
static long store_kb(const char *dir)
{
    long page = sysconf(_SC_PAGESIZE), kb = 0;
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "cannot list %s", dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[1536];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        cr_assert_eq(lstat(p, &st), 0, "%s", p);
        if (S_ISDIR(st.st_mode))
            kb += store_kb(p);
        else if (S_ISREG(st.st_mode))
            kb += (st.st_size + page - 1) / page * page / 1024;
    }
    closedir(d);
    return kb;
}

/* The first temporary ("NAME.tmp.PID.N") under dir, in found; 0 when none. */
static int find_temp(const char *dir, char *found, size_t n)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    int hit = 0;
    while (!hit && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[1536];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            hit = find_temp(p, found, n);
        else if (strstr(e->d_name, ".tmp.")) {
            snprintf(found, n, "%s", p);
            hit = 1;
        }
    }
    closedir(d);
    return hit;
}

/* the small disk goes even when an assertion failed half way */
static void unmount_and_remove(void)
{
    char disk[512];
    tu_path(disk, sizeof disk, "disk");
    umount(disk);
    tu_remove_dir();
}

/* A sweep whose disk fills while it checkpoints stops with an error, its runs
 * resumable (not failed); once space is freed, resume finishes them, bit for
 * bit as an uninterrupted sweep. */
Test(resume, a_full_disk_stops_runs_resumably_and_resume_ends_bitwise, .timeout = 120,
     .fini = unmount_and_remove)
{
    char preset[512], ref[512], disk[512], runs[600], dir[700], refdir[600], filler[700];
    su_preset(preset, sizeof preset, "full", small_sweep, small_train);
    tu_path(ref, sizeof ref, "ref");
    const char *ra[] = {"run", preset, "--runs", ref, "--quiet", NULL};
    cr_assert_eq(run_cmd(ra), 0);
    snprintf(refdir, sizeof refdir, "%s/full", ref);

    /* Once the filler goes, the resume must fit: its two runs train at once
     * and write their checkpoints atomically, so both checkpoints and both
     * temporaries may be on the disk together (with the small files, over
     * 1 MiB for this sweep: a 1 MiB disk failed the resume whenever the two
     * writes overlapped). Room for every file of the finished store twice
     * over is room for any overlap of their replacements. */
    long kb = 2 * store_kb(refdir) + 256;
    tu_path(disk, sizeof disk, "disk");
    int mounted = mount_small_disk(disk, (int)kb);
    cr_assert(mounted, "cannot mount a tmpfs at %s (the test runs as root)", disk);
    snprintf(runs, sizeof runs, "%s/runs", disk);
    snprintf(dir, sizeof dir, "%s/full", runs);
    /* the store and its first rows fit; the first checkpoint (144 kB) does not */
    fill_disk(disk, 48 * 1024, filler, sizeof filler);
    /* one run at a time: the first checkpoint is the first write that fails */
    const char *rb[] = {"run", preset, "--runs", runs, "--jobs", "1", "--quiet", NULL};
    char *out = expect_exit(1, rb);
    cr_assert_not_null(strstr(out, "No space left on device"), "%s", out);
    free(out);
    char st[32];
    state_of(dir, "r000-L1-d16-s1", st, sizeof st);
    cr_assert_str_eq(st, "stopped", "a run stopped by a full disk is %s", st);
    /* the failed write gave its space back */
    char temp[1536];
    cr_assert(!find_temp(runs, temp, sizeof temp), "a full disk left %s", temp);

    /* space freed: resume takes every run up again */
    unlink(filler);
    const char *rr[] = {"resume", dir, "--quiet", NULL};
    out = expect_exit(0, rr);
    free(out);
    su_assert_same_sweep(dir, refdir);
}

/* A damaged checkpoint is bad input naming the file and the field; the run is
 * not failed: without the checkpoint it starts over and ends as it should. */
Test(resume, a_damaged_checkpoint_in_a_sweep_is_bad_input_and_the_run_stays_resumable)
{
    char preset[512], ref[512], runs[512], dir[600], refdir[600], ck[800];
    su_preset(preset, sizeof preset, "dmg", small_sweep, small_train);
    tu_path(ref, sizeof ref, "ref");
    tu_path(runs, sizeof runs, "runs");
    const char *ra[] = {"run", preset, "--runs", ref, "--quiet", NULL};
    cr_assert_eq(run_cmd(ra), 0);
    const char *rb[] = {"run", preset, "--runs", runs, "--quiet", NULL};
    cr_assert_eq(run_cmd(rb), 0);
    snprintf(refdir, sizeof refdir, "%s/dmg", ref);
    snprintf(dir, sizeof dir, "%s/dmg", runs);
    /* mark the first run unfinished and flip a byte of its checkpoint */
    char rd[700];
    snprintf(rd, sizeof rd, "%s/r000-L1-d16-s1", dir);
    sl_run_status s;
    sl_error err;
    cr_assert_eq(sl_status_read(rd, &s, &err), SL_OK);
    snprintf(s.state, sizeof s.state, "stopped");
    snprintf(s.reason, sizeof s.reason, "stopped");
    cr_assert_eq(sl_status_write(rd, &s, &err), SL_OK);
    snprintf(ck, sizeof ck, "%s/checkpoint.bin", rd);
    char *d;
    size_t len;
    cr_assert_eq(sl_read_file(ck, &d, &len, &err), SL_OK);
    d[len / 2] ^= 1;
    tu_write(ck, d, len);
    free(d);
    const char *rr[] = {"resume", dir, "--quiet", NULL};
    char *out = expect_exit(2, rr);
    cr_assert_not_null(strstr(out, "checkpoint.bin: checksum: mismatch"), "%s", out);
    free(out);
    char st[32];
    state_of(dir, "r000-L1-d16-s1", st, sizeof st);
    cr_assert_str_eq(st, "stopped", "the run is %s", st);
    /* the user removes the damaged file: the run trains again from step 0 */
    unlink(ck);
    out = expect_exit(0, rr);
    free(out);
    su_assert_same_sweep(dir, refdir);
}

/* ---- item: half-created stores and the same preset written another way ---- */

Test(resume, a_half_created_store_is_refused_to_another_preset_of_its_name)
{
    char a[512], b[600], runs[512], dir[600], sweep[700];
    su_preset(a, sizeof a, "half", small_sweep, small_train);
    tu_path(runs, sizeof runs, "runs");
    const char *ra[] = {"run", a, "--runs", runs, "--quiet", NULL};
    cr_assert_eq(run_cmd(ra), 0);
    snprintf(dir, sizeof dir, "%s/half", runs);
    snprintf(sweep, sizeof sweep, "%s/sweep.json", dir);
    /* what a kill between the runs' files and sweep.json leaves */
    cr_assert_eq(unlink(sweep), 0);
    /* another preset of the same name (sizes 25000 only) */
    char bdir[512];
    tu_path(bdir, sizeof bdir, "other");
    mkdir(bdir, 0755);
    snprintf(b, sizeof b, "%s/half.json", bdir);
    char corpus[512], text[2048];
    tu_path(corpus, sizeof corpus, "text.txt");
    snprintf(text, sizeof text,
             "{\"name\": \"half\", \"data\": {\"corpus\": \"%s\"},\n"
             " \"model\": {\"n_ctx\": 32, \"head_size\": 16, \"aspect\": 16},\n"
             " \"sweep\": {\"n\": [25000]}, \"train\": {%s}}\n",
             corpus, small_train);
    tu_write(b, text, strlen(text));
    const char *rb[] = {"run", b, "--runs", runs, "--quiet", NULL};
    tu_assert_bad_input("half: a half-created store of another sweep (r000-L1-d16-s1 is not a run of this preset", rb);
    cr_assert_neq(access(sweep, F_OK), 0, "sweep.json was written");
    char **ids;
    int n;
    sl_error err;
    cr_assert_eq(sl_store_list_runs(dir, &ids, &n, &err), SL_OK);
    cr_assert_eq(n, 2, "runs were added: %d", n);
    sl_store_free_list(ids, n);
    /* its own preset completes it */
    cr_assert_eq(run_cmd(ra), 0);
    cr_assert_eq(access(sweep, F_OK), 0);
}

Test(resume, the_same_preset_with_keys_reordered_and_defaults_written_is_the_same_sweep)
{
    char a[512], runs[512], corpus[512], b[600], text[2048];
    su_preset(a, sizeof a, "same", small_sweep, small_train);
    tu_path(runs, sizeof runs, "runs");
    const char *ra[] = {"run", a, "--runs", runs, "--quiet", NULL};
    cr_assert_eq(run_cmd(ra), 0);
    tu_path(corpus, sizeof corpus, "text.txt");
    snprintf(b, sizeof b, "%s/other-same.json", tu_dir);
    snprintf(text, sizeof text,
             "{\"train\": {\"threads\": 1, \"eval_tokens\": 1024, \"eval_every\": 10, \"steps\": 60,"
             " \"batch\": 8, \"lr\": \"auto\", \"schedule\": \"cosine\", \"seeds\": [1]},\n"
             " \"sweep\": {\"kind\": \"n\", \"n\": [3000, 12000]},\n"
             " \"model\": {\"aspect\": 16, \"head_size\": 16, \"n_ctx\": 32, \"ff_mult\": 4},\n"
             " \"data\": {\"test_fraction\": 0.05, \"corpus\": \"%s\"},\n"
             " \"description\": \"test\", \"name\": \"same\"}\n",
             corpus);
    tu_write(b, text, strlen(text));
    const char *rb[] = {"run", b, "--runs", runs, "--quiet", NULL};
    char *out = expect_exit(0, rb);
    free(out);
}

/* ---- item: the thread count ------------------------------------------------- */

#define TINY "--layers", "1", "--d-model", "16", "--heads", "2", "--ctx", "16", "--batch", "4"

static void text_file(char *p, size_t n)
{
    su_corpus(p, n);
}

Test(resume, train_out_resumes_with_the_checkpoints_threads_and_refuses_another_count)
{
    char p[512], out[512], ref[512];
    text_file(p, sizeof p);
    tu_path(out, sizeof out, "run");
    tu_path(ref, sizeof ref, "ref");
    /* the reference: 20 steps on one thread, resumed to 40 on one thread */
    const char *r1[] = {"train", "--data", p, TINY, "--steps", "20", "--eval-every", "10",
                        "--threads", "1", "--quiet", "--out", ref, NULL};
    const char *r2[] = {"train", "--data", p, TINY, "--steps", "40", "--eval-every", "10",
                        "--threads", "1", "--quiet", "--out", ref, NULL};
    free(expect_exit(0, r1));
    free(expect_exit(0, r2));
    const char *first[] = {"train", "--data", p, TINY, "--steps", "20", "--eval-every", "10",
                           "--threads", "1", "--quiet", "--out", out, NULL};
    free(expect_exit(0, first));
    /* another count is refused, naming the file and the field */
    const char *other[] = {"train", "--data", p, TINY, "--steps", "40", "--eval-every", "10",
                           "--threads", "2", "--out", out, NULL};
    tu_assert_bad_input("checkpoint.bin: threads: checkpoint trained on 1 threads, this run has 2", other);
    /* without --threads (the default is every core) the resume takes the checkpoint's one */
    const char *again[] = {"train", "--data", p, TINY, "--steps", "40", "--eval-every", "10",
                           "--quiet", "--out", out, NULL};
    free(expect_exit(0, again));
    char a[700], b[700];
    snprintf(a, sizeof a, "%s/metrics.csv", out);
    snprintf(b, sizeof b, "%s/metrics.csv", ref);
    sl_metric_row *x, *y;
    size_t nx, ny;
    sl_error err;
    cr_assert_eq(sl_metrics_read(a, &x, &nx, NULL, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_metrics_read(b, &y, &ny, NULL, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(nx, ny);
    for (size_t i = 0; i < nx; i++)
        cr_assert(x[i].step == y[i].step && x[i].test_loss == y[i].test_loss,
                  "row %zu: step %ld test %.17g vs %.17g", i, x[i].step, x[i].test_loss, y[i].test_loss);
    free(x);
    free(y);
    /* asked for explicitly, another count is taken, and the message says what is lost */
    const char *more[] = {"train", "--data", p, TINY, "--steps", "50", "--eval-every", "10",
                          "--threads", "2", "--any-threads", "--out", out, NULL};
    char *o = expect_exit(0, more);
    cr_assert_not_null(strstr(o, "threads: resumed on 2 threads, trained on 1: the numbers are no longer bitwise"),
                       "%s", o);
    free(o);
}

/* A sweep run's config.json and checkpoint disagree on the threads (a
 * config.json edited by hand): resume refuses it rather than train on. */
Test(resume, a_sweep_run_whose_checkpoint_has_other_threads_is_refused)
{
    char preset[512], runs[512], dir[600], rd[700], cfg[800];
    su_preset(preset, sizeof preset, "thr", "\"n\": [3000]",
              "\"batch\": 8, \"steps\": 30, \"eval_every\": 10, \"eval_tokens\": 1024, \"threads\": 2");
    tu_path(runs, sizeof runs, "runs");
    const char *ra[] = {"run", preset, "--runs", runs, "--quiet", NULL};
    cr_assert_eq(run_cmd(ra), 0);
    snprintf(dir, sizeof dir, "%s/thr", runs);
    snprintf(rd, sizeof rd, "%s/r000-L1-d16-s1", dir);
    snprintf(cfg, sizeof cfg, "%s/config.json", rd);
    char *text = su_read(cfg);
    cr_assert_not_null(text);
    char *at = strstr(text, "\"threads\":\t2");
    cr_assert_not_null(at, "%s", text);
    at[11] = '1';
    tu_write(cfg, text, strlen(text));
    free(text);
    sl_run_status s;
    sl_error err;
    cr_assert_eq(sl_status_read(rd, &s, &err), SL_OK);
    snprintf(s.state, sizeof s.state, "stopped");
    cr_assert_eq(sl_status_write(rd, &s, &err), SL_OK);
    const char *rr[] = {"resume", dir, "--quiet", NULL};
    char *out = expect_exit(2, rr);
    cr_assert_not_null(strstr(out, "checkpoint.bin: threads: checkpoint trained on 2 threads, this run has 1"), "%s",
                       out);
    free(out);
    /* asked for, it resumes on one thread and says what is lost */
    const char *any[] = {"resume", dir, "--quiet", "--any-threads", NULL};
    out = expect_exit(0, any);
    cr_assert_not_null(strstr(out, "no longer bitwise"), "%s", out);
    free(out);
}

/* ---- item: rows lost in a power cut --------------------------------------------- */

/* metrics.csv lost its last rows (written, not yet on disk) while the
 * checkpoint survived: the resume notices, starts over and writes every row
 * again, as an uninterrupted run does. */
Test(resume, a_checkpoint_past_the_last_metrics_row_is_detected_and_the_run_starts_over)
{
    char p[512], out[512], ref[512];
    text_file(p, sizeof p);
    tu_path(out, sizeof out, "run");
    tu_path(ref, sizeof ref, "ref");
    const char *full[] = {"train", "--data", p, TINY, "--steps", "40", "--eval-every", "10",
                          "--threads", "1", "--quiet", "--out", ref, NULL};
    char *o = expect_exit(0, full);
    free(o);
    const char *part[] = {"train", "--data", p, TINY, "--steps", "40", "--eval-every", "10",
                          "--threads", "1", "--quiet", "--out", out, NULL};
    o = expect_exit(0, part);
    free(o);
    /* keep the header and the rows of steps 0 and 10 only: the checkpoint is at 40 */
    char m[700];
    snprintf(m, sizeof m, "%s/metrics.csv", out);
    char *text = su_read(m);
    cr_assert_not_null(text);
    char *cut = text;
    for (int i = 0; i < 3; i++)
        cut = strchr(cut, '\n') + 1;
    tu_write(m, text, (size_t)(cut - text));
    free(text);
    o = expect_exit(0, part);
    cr_assert_not_null(strstr(o, "checkpoint.bin: step 40, but metrics.csv ends at step 10"), "%s", o);
    free(o);
    char b[700];
    snprintf(b, sizeof b, "%s/metrics.csv", ref);
    sl_metric_row *x, *y;
    size_t nx, ny;
    sl_error err;
    cr_assert_eq(sl_metrics_read(m, &x, &nx, NULL, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_metrics_read(b, &y, &ny, NULL, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(nx, ny, "%zu rows vs %zu", nx, ny);
    for (size_t i = 0; i < nx; i++)
        cr_assert(x[i].step == y[i].step && x[i].test_loss == y[i].test_loss, "row %zu differs", i);
    free(x);
    free(y);
}

/* ---- item: leftovers ----------------------------------------------------------- */

/* the PID of a process that has exited */
static long dead_pid(void)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(0);
    int st;
    waitpid(pid, &st, 0);
    return (long)pid;
}

static void old_file(const char *path)
{
    tu_write(path, "partial", 7);
    struct timeval tv[2];
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= 600;
    tv[1] = tv[0];
    cr_assert_eq(utimes(path, tv), 0);
}

Test(resume, temporaries_of_dead_processes_are_removed_when_a_store_or_run_opens)
{
    char preset[512], runs[512], dir[600], p[512];
    su_preset(preset, sizeof preset, "tmp", "\"n\": [3000]", small_train);
    tu_path(runs, sizeof runs, "runs");
    const char *ra[] = {"run", preset, "--runs", runs, "--quiet", NULL};
    cr_assert_eq(run_cmd(ra), 0);
    snprintf(dir, sizeof dir, "%s/tmp", runs);
    long dead = dead_pid();
    char stale1[900], stale2[900], live[900], young[900];
    snprintf(stale1, sizeof stale1, "%s/r000-L1-d16-s1/checkpoint.bin.tmp.%ld.7", dir, dead);
    snprintf(stale2, sizeof stale2, "%s/sweep.json.tmp.%ld.1", dir, dead);
    snprintf(live, sizeof live, "%s/r000-L1-d16-s1/status.json.tmp.%ld.3", dir, (long)getpid());
    snprintf(young, sizeof young, "%s/r000-L1-d16-s1/status.json.tmp.%ld.9", dir, dead);
    old_file(stale1);
    old_file(stale2);
    old_file(live);
    tu_write(young, "x", 1); /* just written: maybe by a process on another machine */
    const char *rr[] = {"resume", dir, "--quiet", NULL};
    cr_assert_eq(run_cmd(rr), 0);
    cr_assert_neq(access(stale1, F_OK), 0, "%s is left", stale1);
    cr_assert_neq(access(stale2, F_OK), 0, "%s is left", stale2);
    cr_assert_eq(access(live, F_OK), 0, "a running process's temporary was removed");
    cr_assert_eq(access(young, F_OK), 0, "a temporary younger than a minute was removed");

    /* train --out DIR too */
    text_file(p, sizeof p);
    char out[512], t1[700];
    tu_path(out, sizeof out, "one");
    const char *tr[] = {"train", "--data", p, TINY, "--steps", "10", "--quiet", "--out", out, NULL};
    char *o = expect_exit(0, tr);
    free(o);
    snprintf(t1, sizeof t1, "%s/checkpoint.bin.tmp.%ld.2", out, dead);
    old_file(t1);
    o = expect_exit(0, tr);
    free(o);
    cr_assert_neq(access(t1, F_OK), 0, "%s is left", t1);
}

/* ---- item: a transient I/O error on rename ------------------------------------- */

/* Every checkpoint's rename fails with EIO (tests/fault_rename.c, preloaded)
 * while `flag` exists; nothing else is touched. */
static void preload_rename_fault(const char *flag)
{
    setenv("LD_PRELOAD", SL_FAULT_LIB, 1);
    setenv("SL_FAULT_RENAME_WHILE", flag, 1);
    setenv("SL_FAULT_RENAME_SUFFIX", "/" SL_RUN_CHECKPOINT_FILE, 1);
    /* under AddressSanitizer the shim loads before the sanitizer's runtime */
    const char *asan = getenv("ASAN_OPTIONS");
    char opts[1024];
    snprintf(opts, sizeof opts, "%s%sverify_asan_link_order=0", asan ? asan : "", asan && *asan ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);
}

static void no_fault(void)
{
    unsetenv("LD_PRELOAD");
    unsetenv("SL_FAULT_RENAME_WHILE");
    unsetenv("SL_FAULT_RENAME_SUFFIX");
}

/* EIO on the checkpoint's rename stops the sweep with an error line naming the
 * file; the run is stopped, not failed, its previous checkpoint intact; once
 * the cause is gone, resume finishes it bit for bit as an uninterrupted sweep. */
Test(resume, an_eio_on_rename_stops_runs_resumably_and_resume_ends_bitwise, .timeout = 120)
{
    char preset[512], ref[512], runs[512], dir[600], refdir[600], flag[512];
    cr_assert_eq(access(SL_FAULT_LIB, R_OK), 0, "%s is not built (make check builds it)", SL_FAULT_LIB);
    su_preset(preset, sizeof preset, "eio", small_sweep, small_train);
    tu_path(ref, sizeof ref, "ref");
    tu_path(runs, sizeof runs, "runs");
    tu_path(flag, sizeof flag, "disk-fails");
    const char *ra[] = {"run", preset, "--runs", ref, "--quiet", NULL};
    cr_assert_eq(run_cmd(ra), 0);
    snprintf(refdir, sizeof refdir, "%s/eio", ref);
    snprintf(dir, sizeof dir, "%s/eio", runs);

    tu_write(flag, "", 0);
    preload_rename_fault(flag);
    const char *rb[] = {"run", preset, "--runs", runs, "--jobs", "1", "--quiet", NULL};
    char *out = expect_exit(1, rb);
    cr_assert_not_null(strstr(out, "Input/output error"), "%s", out);
    cr_assert_not_null(strstr(out, SL_RUN_CHECKPOINT_FILE), "the message names the file: %s", out);
    free(out);
    char st[32];
    state_of(dir, "r000-L1-d16-s1", st, sizeof st);
    cr_assert_str_eq(st, "stopped", "a run stopped by EIO on rename is %s", st);
    /* still failing: resume stops again, and the run is still not failed */
    const char *rr[] = {"resume", dir, "--quiet", NULL};
    out = expect_exit(1, rr);
    free(out);
    state_of(dir, "r000-L1-d16-s1", st, sizeof st);
    cr_assert_str_eq(st, "stopped", "after a second EIO the run is %s", st);

    /* the cause gone (the shim still loaded): resume takes every run up again */
    unlink(flag);
    out = expect_exit(0, rr);
    free(out);
    no_fault();
    su_assert_same_sweep(dir, refdir);
}

/* ---- the kill loop, for train --out ----------------------------------------------- */

/* Two checkpoints hold the same weights and AdamW moments, bit for bit: the
 * bytes after the header (whose length the header states at offset 12, after
 * the magic and the version; the header holds the wall clock) up to the
 * trailing checksum. */
static void assert_same_state(const char *a, const char *b)
{
    char *x, *y;
    size_t nx, ny;
    sl_error err;
    cr_assert_eq(sl_read_file(a, &x, &nx, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_read_file(b, &y, &ny, &err), SL_OK, "%s", err.msg);
    uint32_t hx, hy;
    cr_assert(nx > 16 && ny > 16);
    memcpy(&hx, x + 12, 4);
    memcpy(&hy, y + 12, 4);
    cr_assert(hx == hy && nx == ny && hx + 8 < nx, "%s and %s: headers of %u and %u bytes, files of %zu and %zu",
              a, b, hx, hy, nx, ny);
    cr_assert(memcmp(x + hx, y + hy, nx - hx - 8) == 0, "%s: weights or moments differ from %s", a, b);
    free(x);
    free(y);
}

/* `train --out` SIGKILLed at random moments and started again with the same
 * arguments ends with the checkpoint and the metric rows (every column but the
 * wall clock) of a training never interrupted. */
Test(resume, train_out_killed_at_random_moments_ends_bitwise_where_an_uninterrupted_run_ends,
     .timeout = 240)
{
    char p[512], out[512], ref[512];
    text_file(p, sizeof p);
    tu_path(out, sizeof out, "run");
    tu_path(ref, sizeof ref, "ref");
    const char *r[] = {"train", "--data", p, TINY, "--steps", "600", "--eval-every", "5",
                       "--threads", "1", "--quiet", "--out", ref, NULL};
    double t0 = sl_now();
    free(expect_exit(0, r));
    double full = sl_now() - t0;
    const char *a[] = {"train", "--data", p, TINY, "--steps", "600", "--eval-every", "5",
                       "--threads", "1", "--quiet", "--out", out, NULL};
    char m[700];
    snprintf(m, sizeof m, "%s/metrics.csv", out);
    unsigned seed = (unsigned)time(NULL);
    srand(seed);
    int kills = 0, mid = 0;
    for (int round = 0; round < 8; round++) {
        int before = su_count_lines(m);
        pid_t pid = su_spawn(a);
        /* once it trains (a row of its own is written: start-up, which a
         * loaded machine stretches, is over), at a random moment after */
        for (double waited = 0; waited < 4 * full + 2 && su_count_lines(m) <= before; waited += 0.002)
            su_sleep(0.002);
        su_sleep(full * 0.15 * rand() / (double)RAND_MAX);
        kill(pid, SIGKILL);
        int rc = su_wait(pid);
        kills += rc == 128 + SIGKILL;
        mid += rc == 128 + SIGKILL && su_count_lines(m) > before;
        cr_assert(rc == 128 + SIGKILL || rc == 0, "round %d exited %d (seed %u)", round, rc, seed);
    }
    cr_log_info("seed %u: %d of 8 trainings killed, %d while training (run %.2fs)", seed, kills, mid, full);
    cr_assert_geq(mid, 3, "only %d of 8 trainings were killed while training (seed %u)", mid, seed);
    free(expect_exit(0, a));
    char x[700], y[700];
    snprintf(x, sizeof x, "%s/" SL_RUN_CHECKPOINT_FILE, out);
    snprintf(y, sizeof y, "%s/" SL_RUN_CHECKPOINT_FILE, ref);
    assert_same_state(x, y);
    snprintf(x, sizeof x, "%s/metrics.csv", out);
    snprintf(y, sizeof y, "%s/metrics.csv", ref);
    sl_metric_row *mx, *my;
    size_t nx, ny;
    sl_error err;
    cr_assert_eq(sl_metrics_read(x, &mx, &nx, NULL, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_metrics_read(y, &my, &ny, NULL, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(nx, ny, "%zu rows vs %zu (seed %u)", nx, ny, seed);
    for (size_t i = 0; i < nx; i++) {
        double wx = mx[i].wall_s, wy = my[i].wall_s;
        mx[i].wall_s = my[i].wall_s = 0;
        cr_assert(memcmp(&mx[i], &my[i], sizeof mx[i]) == 0,
                  "row %zu (step %ld) differs (seed %u; wall %.3g vs %.3g)", i, mx[i].step, seed, wx, wy);
    }
    free(mx);
    free(my);
}

/* ---- the corpus a store trains on ------------------------------------------------ */

/* A store records its corpus (corpus.json); resumed on another corpus it is
 * refused with one line naming both hashes, and nothing in it changes. The
 * same holds for train --out. */
Test(resume, a_store_of_another_corpus_is_refused_naming_both_hashes)
{
    char preset[512], runs[512], dir[600], text[512], rec[700];
    su_preset(preset, sizeof preset, "corp", small_sweep, small_train);
    tu_path(runs, sizeof runs, "runs");
    const char *ra[] = {"run", preset, "--runs", runs, "--quiet", NULL};
    cr_assert_eq(run_cmd(ra), 0);
    snprintf(dir, sizeof dir, "%s/corp", runs);
    snprintf(rec, sizeof rec, "%s/corpus.json", dir);
    char *before = su_read(rec);
    cr_assert_not_null(before, "no corpus.json in the store");
    cr_assert_not_null(strstr(before, "\"hash\":"), "%s", before);
    /* the corpus changes under the store */
    tu_path(text, sizeof text, "text.txt");
    FILE *f = fopen(text, "a");
    cr_assert_not_null(f);
    fputs("A line the store never saw.\n", f);
    fclose(f);
    const char *rr[] = {"resume", dir, NULL};
    char *out = expect_exit(2, rr);
    cr_assert_not_null(strstr(out, "corpus.json: hash: the store was trained on "), "%s", out);
    const char *h = strstr(before, "\"hash\":");
    char was[17] = "";
    cr_assert_eq(sscanf(h, "\"hash\":\t\"%16[0-9a-f]\"", was), 1, "%s", before);
    cr_assert_not_null(strstr(out, was), "the message lacks the store's hash %s: %s", was, out);
    cr_assert_eq(strchr(out, '\n'), out + strlen(out) - 1, "more than one line: %s", out);
    free(out);
    char *after = su_read(rec);
    cr_assert_str_eq(after, before, "corpus.json changed");
    free(after);
    free(before);

    /* train --out: the same refusal */
    char o[512];
    tu_path(o, sizeof o, "one");
    const char *t1[] = {"train", "--data", text, TINY, "--steps", "10", "--eval-every", "5", "--threads", "1",
                        "--quiet", "--out", o, NULL};
    free(expect_exit(0, t1));
    f = fopen(text, "a");
    fputs("Another line.\n", f);
    fclose(f);
    const char *t2[] = {"train", "--data", text, TINY, "--steps", "20", "--eval-every", "5", "--threads", "1",
                        "--quiet", "--out", o, NULL};
    out = expect_exit(2, t2);
    cr_assert_not_null(strstr(out, "corpus.json: hash: the store was trained on "), "%s", out);
    free(out);
}

/* A store whose preset named its corpus relative to the directory it was
 * started in resumes, is watched and fitted from any directory: the store
 * recorded where the corpus is. */
Test(resume, a_store_with_a_relative_corpus_resumes_from_another_directory)
{
    char text[512], preset[600], runs[600], dir[700];
    su_corpus(text, sizeof text);
    snprintf(preset, sizeof preset, "%s/rel.json", tu_dir);
    FILE *f = fopen(preset, "w");
    cr_assert_not_null(f);
    fprintf(f, "{\"name\": \"rel\", \"data\": {\"corpus\": \"text.txt\"},\n"
               " \"model\": {\"n_ctx\": 32, \"head_size\": 16, \"aspect\": 16},\n"
               " \"sweep\": {%s}, \"train\": {%s}}\n",
            small_sweep, small_train);
    fclose(f);
    snprintf(runs, sizeof runs, "%s/runs", tu_dir);
    snprintf(dir, sizeof dir, "%s/rel", runs);
    cr_assert_eq(chdir(tu_dir), 0);
    const char *ra[] = {"run", "rel.json", "--runs", runs, "--only", "0", "--quiet", NULL};
    cr_assert_eq(run_cmd(ra), 0);
    cr_assert_eq(chdir("/"), 0);
    const char *rr[] = {"resume", dir, "--quiet", NULL};
    free(expect_exit(0, rr));
    const char *st[] = {"status", dir, NULL};
    char *out = expect_exit(0, st);
    cr_assert_not_null(strstr(out, "2 runs: 2 done"), "%s", out);
    free(out);
    const char *fit[] = {"fit", dir, "--law", "power-n", "--bootstrap", "0", NULL};
    free(expect_exit(0, fit));
}

/* Nothing a store's commands do writes into the current directory: a BPE
 * sweep run, resumed, watched by status, exported and fitted from an empty
 * directory leaves it empty (the tokenizer cache goes to the data directory,
 * the store and the exports where they are named). */
Test(resume, nothing_is_written_into_the_current_directory)
{
    char text[512], preset[600], runs[600], dir[700], cwd[600], data[600], csv[600];
    su_corpus(text, sizeof text);
    snprintf(preset, sizeof preset, "%s/bpe.json", tu_dir);
    FILE *f = fopen(preset, "w");
    cr_assert_not_null(f);
    fprintf(f, "{\"name\": \"bpe\", \"data\": {\"corpus\": \"%s\", \"tokenizer\": \"bpe:300\"},\n"
               " \"model\": {\"n_ctx\": 32, \"head_size\": 16, \"aspect\": 16},\n"
               " \"sweep\": {%s}, \"train\": {%s}}\n",
            text, small_sweep, small_train);
    fclose(f);
    snprintf(runs, sizeof runs, "%s/runs", tu_dir);
    snprintf(dir, sizeof dir, "%s/bpe", runs);
    snprintf(cwd, sizeof cwd, "%s/cwd", tu_dir);
    snprintf(data, sizeof data, "%s", tu_dir); /* the spawned commands' SCALELAB_DATA */
    snprintf(csv, sizeof csv, "%s/csv", tu_dir);
    cr_assert_eq(mkdir(cwd, 0755), 0);
    cr_assert_eq(chdir(cwd), 0);
    const char *ra[] = {"run", preset, "--runs", runs, "--only", "0", "--quiet", NULL};
    cr_assert_eq(run_cmd(ra), 0);
    const char *rr[] = {"resume", dir, "--quiet", NULL};
    free(expect_exit(0, rr));
    const char *st[] = {"status", dir, NULL};
    free(expect_exit(0, st));
    const char *ex[] = {"export", dir, "--csv", csv, NULL};
    free(expect_exit(0, ex));
    const char *fit[] = {"fit", dir, "--law", "power-n", "--bootstrap", "0", "--loss", "bpb", NULL};
    free(expect_exit(0, fit));
    cr_assert_eq(chdir("/"), 0);
    DIR *d = opendir(cwd);
    cr_assert_not_null(d);
    struct dirent *e;
    while ((e = readdir(d)))
        cr_assert(!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."), "%s written into the current directory",
                  e->d_name);
    closedir(d);
    /* the BPE cache is in the data directory */
    char cmd[800];
    snprintf(cmd, sizeof cmd, "ls '%s'/bpe-300-*.tok >/dev/null 2>&1", data);
    cr_assert_eq(system(cmd), 0, "no tokenizer cache in %s", data);
}
