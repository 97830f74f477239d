/* machine: see machine.h. Everything is read from /proc and /sys at each call:
 * the scheduler asks again before each admission, and limits may change.
 * Both cgroup versions are read (v1 still runs on many clusters). */
#define _GNU_SOURCE
#include "scalelab/machine.h"

#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The first line of a small file, NUL-terminated; 0 on success. */
static int read_line(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int ok = fgets(buf, (int)len, f) != NULL;
    fclose(f);
    if (!ok)
        return -1;
    buf[strcspn(buf, "\n")] = 0;
    return 0;
}

/* A number file's first value; 0 on success. "max" (no limit) and limits
 * near 2^63 (cgroup v1's way of saying none) read as INFINITY. */
static int read_value(const char *dir, const char *name, double *v)
{
    char file[8400], line[256];
    snprintf(file, sizeof file, "%s/%s", dir, name);
    if (read_line(file, line, sizeof line))
        return -1;
    if (!strncmp(line, "max", 3)) {
        *v = INFINITY;
        return 0;
    }
    if (sscanf(line, "%lf", v) != 1)
        return -1;
    if (*v >= 4.0e18)
        *v = INFINITY;
    return 0;
}

/* Applies the limits found in dir (one cgroup's directory) to cpus, mem_free. */
static void limits_in(const char *dir, int v2, double *cpus, double *mem_free)
{
    double quota, period, max, cur;
    if (v2) {
        char file[8400], line[256];
        snprintf(file, sizeof file, "%s/cpu.max", dir);
        if (!read_line(file, line, sizeof line) && sscanf(line, "%lf %lf", &quota, &period) == 2 &&
            quota > 0 && period > 0 && quota / period < *cpus)
            *cpus = quota / period;
        if (!read_value(dir, "memory.max", &max) && isfinite(max)) {
            if (read_value(dir, "memory.current", &cur))
                cur = 0;
            if ((max > cur ? max - cur : 0) < *mem_free)
                *mem_free = max > cur ? max - cur : 0;
        }
        return;
    }
    if (!read_value(dir, "cpu.cfs_quota_us", &quota) && quota > 0 &&
        !read_value(dir, "cpu.cfs_period_us", &period) && period > 0 && quota / period < *cpus)
        *cpus = quota / period;
    if (!read_value(dir, "memory.limit_in_bytes", &max) && isfinite(max)) {
        if (read_value(dir, "memory.usage_in_bytes", &cur))
            cur = 0;
        if ((max > cur ? max - cur : 0) < *mem_free)
            *mem_free = max > cur ? max - cur : 0;
    }
}

/* Is tok one of the comma-separated names in list ("cpu,cpuacct")? */
static int has_token(const char *list, const char *tok)
{
    size_t n = strlen(tok);
    for (const char *p = list; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        if (!strncmp(p, tok, n) && (p[n] == ',' || p[n] == 0))
            return 1;
    return 0;
}

/* The cgroup at base + path and each of its parents up to base. */
static void walk_up(const char *base, const char *cg, int v2, double *cpus, double *mem_free)
{
    char path[4096], dir[8192];
    snprintf(path, sizeof path, "%s", cg);
    for (;;) {
        snprintf(dir, sizeof dir, "%s%s", base, strcmp(path, "/") ? path : "");
        limits_in(dir, v2, cpus, mem_free);
        char *slash = strrchr(path, '/');
        if (!slash || !strcmp(path, "/"))
            break;
        if (slash == path)
            path[1] = 0;
        else
            *slash = 0;
    }
}

void sl_cgroup_limits(const char *root, const char *cgroup_file, double *cpus, double *mem_free)
{
    *cpus = *mem_free = INFINITY;
    FILE *f = fopen(cgroup_file, "r");
    if (!f)
        return;
    /* "0::PATH" is the v2 hierarchy (mounted at root, or root/unified beside
     * v1); "N:CONTROLLERS:PATH" lines are v1 hierarchies at root/CONTROLLERS. */
    char line[4096], base[4200];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c1 || !c2 || c2[1] != '/')
            continue;
        *c1 = *c2 = 0;
        const char *ctrl = c1 + 1, *cg = c2 + 1;
        if (!strcmp(line, "0") && !*ctrl) {
            snprintf(base, sizeof base, "%s/unified", root);
            char probe[4300];
            snprintf(probe, sizeof probe, "%s/cgroup.controllers", base);
            if (access(probe, F_OK) != 0)
                snprintf(base, sizeof base, "%s", root);
            walk_up(base, cg, 1, cpus, mem_free);
        } else if (has_token(ctrl, "cpu") || has_token(ctrl, "memory")) {
            snprintf(base, sizeof base, "%s/%s", root, ctrl);
            walk_up(base, cg, 0, cpus, mem_free);
        }
    }
    fclose(f);
}

int sl_cpus_available(void)
{
    int n = 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        n = CPU_COUNT(&set);
    if (n < 1) {
        long np = sysconf(_SC_NPROCESSORS_ONLN);
        n = np > 0 ? (int)np : 1;
    }
    double cpus, mem;
    sl_cgroup_limits("/sys/fs/cgroup", "/proc/self/cgroup", &cpus, &mem);
    if (isfinite(cpus) && ceil(cpus) < n)
        n = (int)ceil(cpus);
    return n > 0 ? n : 1;
}

double sl_mem_resident(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    double size, resident;
    int ok = fscanf(f, "%lf %lf", &size, &resident) == 2;
    fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    return ok && page > 0 ? resident * (double)page : 0;
}

double sl_mem_available(void)
{
    double avail = INFINITY;
    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        char line[256];
        double kb;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %lf kB", &kb) == 1) {
                avail = kb * 1024;
                break;
            }
        fclose(f);
    }
    double cpus, mem;
    sl_cgroup_limits("/sys/fs/cgroup", "/proc/self/cgroup", &cpus, &mem);
    return mem < avail ? mem : avail;
}
