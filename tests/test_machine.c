#define _GNU_SOURCE
/* What the process may use of the machine: CPUs from the affinity mask and the
 * cgroup CPU quota (not the online count), memory from the cgroup limit and
 * MemAvailable; cgroup v2 and v1 trees read from fixtures. */
#include <math.h>
#include <sched.h>

#include "scalelab/machine.h"
#include "scalelab/run.h"
#include "scalelab/store.h"
#include "sweeputil.h"

TestSuite(machine, .init = tu_make_dir, .fini = tu_remove_dir);

static void put(const char *rel, const char *text)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", tu_dir, rel);
    char *slash = strrchr(p, '/');
    *slash = 0;
    sl_error err;
    cr_assert_eq(sl_mkdirs(p, &err), SL_OK, "%s", err.msg);
    *slash = '/';
    tu_write(p, text, strlen(text));
}

Test(machine, cgroup_v2_limits_are_the_tightest_of_the_cgroup_and_its_parents)
{
    put("self-cgroup", "0::/job/step\n");
    put("root/job/cpu.max", "max 100000\n");
    put("root/job/memory.max", "1000000\n");
    put("root/job/memory.current", "300000\n");
    put("root/job/step/cpu.max", "150000 100000\n");
    put("root/job/step/memory.max", "max\n");
    put("root/job/step/memory.current", "200000\n");
    char root[512], file[512];
    double cpus, mem;
    sl_cgroup_limits(tu_path(root, sizeof root, "root"), tu_path(file, sizeof file, "self-cgroup"),
                     &cpus, &mem);
    cr_assert_float_eq(cpus, 1.5, 1e-12);
    cr_assert_float_eq(mem, 700000, 1e-6);
}

Test(machine, cgroup_v1_quota_and_limit_are_read_too)
{
    put("self-cgroup", "4:memory:/x\n1:cpu,cpuacct:/x\n3:cpuset:/\n0::/\n");
    put("root/memory/memory.limit_in_bytes", "9223372036854771712\n");
    put("root/memory/x/memory.limit_in_bytes", "2000000\n");
    put("root/memory/x/memory.usage_in_bytes", "500000\n");
    put("root/cpu,cpuacct/x/cpu.cfs_quota_us", "100000\n");
    put("root/cpu,cpuacct/x/cpu.cfs_period_us", "100000\n");
    put("root/cpu,cpuacct/cpu.cfs_quota_us", "-1\n");
    put("root/cpu,cpuacct/cpu.cfs_period_us", "100000\n");
    char root[512], file[512];
    double cpus, mem;
    sl_cgroup_limits(tu_path(root, sizeof root, "root"), tu_path(file, sizeof file, "self-cgroup"),
                     &cpus, &mem);
    cr_assert_float_eq(cpus, 1, 1e-12);
    cr_assert_float_eq(mem, 1500000, 1e-6);
}

Test(machine, no_cgroup_means_no_limit)
{
    char root[512], file[512];
    double cpus, mem;
    sl_cgroup_limits(tu_path(root, sizeof root, "none"), tu_path(file, sizeof file, "missing"),
                     &cpus, &mem);
    cr_assert(isinf(cpus) && isinf(mem));
    cr_assert_gt(sl_mem_available(), 0);
}

Test(machine, the_affinity_mask_bounds_the_cpu_count)
{
    cpu_set_t all, one;
    cr_assert_eq(sched_getaffinity(0, sizeof all, &all), 0);
    cr_assert_leq(sl_cpus_available(), CPU_COUNT(&all));
    int first = 0;
    while (!CPU_ISSET(first, &all))
        first++;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    cr_assert_eq(sched_setaffinity(0, sizeof one, &one), 0);
    int n = sl_cpus_available();
    sched_setaffinity(0, sizeof all, &all);
    cr_assert_eq(n, 1);
}

/* taskset -c 0 scalelab train: one thread, where the default was the online count */
Test(machine, taskset_one_cpu_gives_train_one_thread)
{
    char corpus[512];
    su_corpus(corpus, sizeof corpus);
    const char *args[] = {"/usr/bin/taskset", "-c", "0", SL_TEST_BIN, "train", "--data", corpus,
                          "--layers", "1", "--d-model", "16", "--heads", "1", "--ctx", "16",
                          "--batch", "4", "--steps", "2", NULL};
    char po[512], pe[512];
    tu_path(po, sizeof po, "out");
    tu_path(pe, sizeof pe, "err");
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen(po, "w", stdout) || !freopen(pe, "w", stderr))
            _exit(127);
        setenv("SCALELAB_DATA", tu_dir, 1);
        execv(args[0], (char *const *)args);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    char *out = su_read(po), *err = su_read(pe);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d: %s %s", status, out, err);
    cr_assert_not_null(strstr(out, "; 1 threads") ? out : strstr(err, "; 1 threads"), "%s%s", out,
                       err);
    free(out);
    free(err);
}

/* taskset -c 0 scalelab run: a run whose threads the scheduler chooses gets one,
 * and that is what its config.json records */
Test(machine, taskset_one_cpu_gives_a_sweep_run_one_thread)
{
    char preset[512], runs[512];
    su_preset(preset, sizeof preset, "cpus", "\"n\": [3000]",
              "\"steps\": 4, \"eval_every\": 2, \"threads\": 0, \"batch\": 4");
    tu_path(runs, sizeof runs, "runs");
    pid_t pid = fork();
    if (pid == 0) {
        char p[512];
        tu_path(p, sizeof p, "log");
        if (!freopen(p, "w", stdout) || !freopen(p, "a", stderr))
            _exit(127);
        setenv("SCALELAB_DATA", tu_dir, 1);
        const char *args[] = {"/usr/bin/taskset", "-c", "0", SL_TEST_BIN, "run", preset,
                              "--runs", runs, "--quiet", NULL};
        execv(args[0], (char *const *)args);
        _exit(127);
    }
    char log[512];
    tu_path(log, sizeof log, "log");
    int rc = su_wait(pid);
    char *text = su_read(log);
    cr_assert_eq(rc, 0, "%s", text ? text : "");
    free(text);
    sl_run *r;
    int n;
    sl_error err;
    char dir[600];
    snprintf(dir, sizeof dir, "%s/cpus", runs);
    cr_assert_eq(sl_runs_load(dir, &r, &n, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(n, 1);
    cr_assert_eq(r[0].spec.train.threads, 1);
    cr_assert_eq(r[0].status.threads, 1);
    sl_runs_free(r, n);
}
