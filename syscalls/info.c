/* syscalls/info.c: what the system says about itself: uname (the Sentry's own release), hostname,
 * getrandom, sysinfo, getrusage and times (CPU time from syscalls/time.c), sched_getaffinity and getcpu. */
#include "syscalls/syscalls.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "sentry/internal.h"
#include "syscalls/families_extra.h"

#define ARG(i) (args->arg[i])

const char *sentry_hostname = "usandbox";
static char hostname_storage[65];

static SYSCALL_HANDLER(uname)
{
    struct utsname name;
    memset(&name, 0, sizeof(name));
    snprintf(name.sysname, sizeof(name.sysname), "Linux");
    snprintf(name.nodename, sizeof(name.nodename), "%s", sentry_hostname);
    snprintf(name.release, sizeof(name.release), "%s", SENTRY_KERNEL_RELEASE);
    snprintf(name.version, sizeof(name.version), "%s", SENTRY_KERNEL_VERSION);
    snprintf(name.machine, sizeof(name.machine), "x86_64");
    snprintf(name.domainname, sizeof(name.domainname), "(none)");
    return task_copy_out(task, ARG(0), &name, sizeof(name));
}

static SYSCALL_HANDLER(sethostname)
{
    if (task->credentials.euid != 0)
        return -EPERM;
    if (ARG(1) > 64)
        return -EINVAL;
    char name[65] = {0};
    if (task_copy_in(task, name, ARG(0), ARG(1)) < 0)
        return -EFAULT;
    memcpy(hostname_storage, name, sizeof(name));
    sentry_hostname = hostname_storage;
    return 0;
}

static SYSCALL_HANDLER(getrandom)
{
    unsigned int flags = (unsigned int)ARG(2);
    if (flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE))
        return -EINVAL;
    if ((flags & GRND_INSECURE) && (flags & GRND_RANDOM))
        return -EINVAL;
    size_t length = MIN(ARG(1), (size_t)33554431);  /* Linux caps one call at 32 MiB - 1 */
    uint8_t buffer[4096];
    size_t done = 0;
    while (done < length) {
        size_t chunk = MIN(length - done, sizeof(buffer));
        ssize_t got = getrandom(buffer, chunk, 0);
        if (got < 0)
            return done ? (long)done : -errno;
        if (task_copy_out(task, ARG(0) + done, buffer, (size_t)got) < 0)
            return done ? (long)done : -EFAULT;
        done += (size_t)got;
    }
    return (long)done;
}

static SYSCALL_HANDLER(sysinfo)
{
    struct sysinfo information;
    if (sysinfo(&information) < 0)
        return -errno;
    int32_t pids[4096];
    information.procs = (unsigned short)task_list_groups(pids, ARRAY_SIZE(pids));
    return task_copy_out(task, ARG(0), &information, sizeof(information));
}

static struct timeval to_timeval(uint64_t nanoseconds)
{
    return (struct timeval){(time_t)(nanoseconds / 1000000000ULL), (suseconds_t)(nanoseconds % 1000000000ULL / 1000)};
}

static SYSCALL_HANDLER(getrusage)
{
    int who = (int)ARG(0);
    if (who != RUSAGE_SELF && who != RUSAGE_CHILDREN && who != RUSAGE_THREAD)
        return -EINVAL;
    struct rusage usage;
    memset(&usage, 0, sizeof(usage));
    uint64_t user, system;
    /* RUSAGE_THREAD: the process's time, exact while it has had one thread, an upper bound after (the
     * Sentry cannot read one host thread's time of another process). */
    syscall_process_cpu_times(task, who, &user, &system);
    usage.ru_utime = to_timeval(user);
    usage.ru_stime = to_timeval(system);
    return task_copy_out(task, ARG(1), &usage, sizeof(usage));
}

static SYSCALL_HANDLER(times)
{
    long ticks_per_second = sysconf(_SC_CLK_TCK);
    if (ARG(0)) {
        uint64_t user, system, children_user, children_system;
        syscall_process_cpu_times(task, RUSAGE_SELF, &user, &system);
        syscall_process_cpu_times(task, RUSAGE_CHILDREN, &children_user, &children_system);
        uint64_t per_tick = 1000000000ULL / (uint64_t)ticks_per_second;
        struct tms usage = {
            .tms_utime = (clock_t)(user / per_tick), .tms_stime = (clock_t)(system / per_tick),
            .tms_cutime = (clock_t)(children_user / per_tick), .tms_cstime = (clock_t)(children_system / per_tick),
        };
        if (task_copy_out(task, ARG(0), &usage, sizeof(usage)) < 0)
            return -EFAULT;
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(now.tv_sec * ticks_per_second + now.tv_nsec / (1000000000L / ticks_per_second));
}

static SYSCALL_HANDLER(sched_getaffinity)
{
    int32_t pid = (int32_t)ARG(0);
    struct task *target = pid == 0 ? task : task_by_tid(pid);
    if (!target)
        return -ESRCH;
    long cpus = MIN(host_cpu_count(), 1024L);
    size_t mask_size = sizeof(uint64_t) * (size_t)((cpus + 63) / 64);
    uint32_t length = (uint32_t)ARG(1);
    if ((uint64_t)length * 8 < (uint64_t)cpus || (length & (sizeof(uint64_t) - 1)))
        return -EINVAL;
    uint64_t mask[16];
    syscall_task_affinity(target, mask);
    if (task_copy_out(task, ARG(2), mask, mask_size) < 0)
        return -EFAULT;
    return (long)mask_size;
}

static SYSCALL_HANDLER(getcpu)
{
    unsigned int zero = 0;
    if (ARG(0) && task_copy_out(task, ARG(0), &zero, sizeof(zero)) < 0)
        return -EFAULT;
    if (ARG(1) && task_copy_out(task, ARG(1), &zero, sizeof(zero)) < 0)
        return -EFAULT;
    return 0;
}

const struct syscall_binding syscall_bindings_info[] = {
    {__NR_uname, sys_uname}, {__NR_sethostname, sys_sethostname}, {__NR_getrandom, sys_getrandom},
    {__NR_sysinfo, sys_sysinfo}, {__NR_getrusage, sys_getrusage}, {__NR_times, sys_times},
    {__NR_sched_getaffinity, sys_sched_getaffinity}, {__NR_getcpu, sys_getcpu}, {-1, NULL},
};
