/* machine: what this process may use of the machine it runs on: the CPUs of its
 * affinity mask under its cgroup's CPU quota, and the memory it can still take
 * under its cgroup's limit and the kernel's MemAvailable. Called by the engine's
 * scheduler and the CLI for default thread counts and memory admission. */
#ifndef SCALELAB_MACHINE_H
#define SCALELAB_MACHINE_H

#include <stddef.h>

/* CPUs this process may run on: the count of its affinity mask
 * (sched_getaffinity: taskset, cpusets, Slurm's binding), capped by the cgroup
 * v2 CPU quota (cpu.max, quota/period rounded up) of its cgroup and each parent;
 * at least 1. Not the online count, which ignores all of these. */
int sl_cpus_available(void);

/* Bytes this process can still allocate without being OOM-killed: the kernel's
 * MemAvailable, capped by memory.max - memory.current of its cgroup and each
 * parent (cgroup v2). INFINITY when neither is known. */
double sl_mem_available(void);

/* Bytes resident in memory for this process now (/proc/self/statm); 0 when
 * unknown. */
double sl_mem_resident(void);

/* The cgroup v2 limits behind the two calls above, for a cgroup tree at root
 * (normally /sys/fs/cgroup) and the cgroup named by the "0::PATH" line of
 * cgroup_file (normally /proc/self/cgroup); the tightest over the cgroup and its
 * parents. cpus: quota/period of cpu.max; mem_free: memory.max minus
 * memory.current. INFINITY where there is no limit or no cgroup v2. */
void sl_cgroup_limits(const char *root, const char *cgroup_file, double *cpus, double *mem_free);

#endif
