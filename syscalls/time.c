/* syscalls/time.c: clocks and sleeps: clock_gettime/getres (with processes' CPU-time clocks, read from their
 * stubs' host clocks), gettimeofday, time, nanosleep and clock_nanosleep; sleeping tasks park on a deadline in
 * the Sentry's loop, never in a host sleep. */
#include "syscalls/syscalls.h"

#include <errno.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#include "sentry/internal.h"
#include "syscalls/families_extra.h"

#define ARG(i) (args->arg[i])
#define NANOSECONDS_PER_SECOND 1000000000ULL

static bool supported_clock(clockid_t clock)
{
    switch (clock) {
    case CLOCK_REALTIME: case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW: case CLOCK_REALTIME_COARSE:
    case CLOCK_MONOTONIC_COARSE: case CLOCK_BOOTTIME:
        return true;
    default:
        return false;
    }
}

/* ---- CPU time: a process's stub is a host process of the Sentry's pid namespace, so its host CPU-time
 * clock (which Linux lets any process read for a thread-group leader) measures the application's threads.
 * Linux does not let the Sentry read the host clock of one thread of another process, so a thread's CPU
 * clock is known only while its process has had no other thread (it is then the process's): otherwise
 * EINVAL, as for a clock the kernel does not offer. ---- */

/* The kernel's CPU clock ids: ~pid << 3 | which, bit 2 for a thread; which: PROF, VIRT or SCHED. */
#define CPUCLOCK_PROF 0
#define CPUCLOCK_VIRT 1
#define CPUCLOCK_SCHED 2
#define CPUCLOCK_WHICH_MASK 3
#define CPUCLOCK_PERTHREAD 4
static clockid_t host_process_clock(pid_t pid, int which) { return (clockid_t)((~(unsigned)pid << 3) | (unsigned)which); }

struct cpu_times {
    uint64_t user, system, runtime;  /* ns: VIRT, PROF - VIRT, SCHED */
};

static uint64_t read_host_clock(clockid_t clock)
{
    struct timespec value;
    if (clock_gettime(clock, &value) < 0)
        return 0;  /* the stub is already gone: nothing more to add */
    return (uint64_t)value.tv_sec * NANOSECONDS_PER_SECOND + (uint64_t)value.tv_nsec;
}

/* What the group's current stub has used, when the stub is the group's own (a vfork child borrowing its
 * parent's stub, or a CLONE_VM sibling, cannot tell whose time is whose: it is left to the stub's owner). */
static struct cpu_times stub_times(struct thread_group *group)
{
    struct cpu_times times = {0, 0, 0};
    struct mm *mm = group->mm;
    if (!mm || mm->references > 1 || !mm->space || !sentry_platform->host_process)
        return times;
    pid_t pid = sentry_platform->host_process(mm->space);
    uint64_t total = read_host_clock(host_process_clock(pid, CPUCLOCK_PROF));
    times.user = read_host_clock(host_process_clock(pid, CPUCLOCK_VIRT));
    times.system = total > times.user ? total - times.user : 0;
    times.runtime = read_host_clock(host_process_clock(pid, CPUCLOCK_SCHED));
    return times;
}

static struct cpu_times group_times(struct thread_group *group)
{
    struct cpu_times times = stub_times(group);
    times.user += group->user_time_ns;
    times.system += group->system_time_ns;
    times.runtime += group->runtime_ns;
    return times;
}

void process_cpu_time_settle(struct thread_group *group)
{
    struct cpu_times times = stub_times(group);
    group->user_time_ns += times.user;
    group->system_time_ns += times.system;
    group->runtime_ns += times.runtime;
}

void process_cpu_time_total(struct thread_group *group, uint64_t *user_ns, uint64_t *system_ns)
{
    struct cpu_times times = group_times(group);
    *user_ns = times.user + group->children_user_time_ns;
    *system_ns = times.system + group->children_system_time_ns;
}

void process_cpu_time_reaped(struct thread_group *parent, struct thread_group *child)
{
    uint64_t user, system;
    process_cpu_time_total(child, &user, &system);
    parent->children_user_time_ns += user;
    parent->children_system_time_ns += system;
}

/* The process a CPU clock id names (0 or the caller's own pid: the caller's): -EINVAL for a thread clock,
 * an unknown pid or one that is not a process's, or a bad clock type, as posix_cpu_clock_get answers. */
static long cpu_clock_process(struct task *task, clockid_t clock, struct thread_group **group_out, int *which)
{
    if (clock == CLOCK_PROCESS_CPUTIME_ID || clock == CLOCK_THREAD_CPUTIME_ID) {
        *group_out = task->group;
        *which = CPUCLOCK_SCHED;
        /* A thread's own time is its process's while the process has only ever had this one thread. */
        return clock == CLOCK_THREAD_CPUTIME_ID && task->group->ever_multithreaded ? -EINVAL : 0;
    }
    if (clock >= 0)
        return -EINVAL;
    *which = clock & CPUCLOCK_WHICH_MASK;
    if (*which > CPUCLOCK_SCHED)
        return -EINVAL;
    int32_t pid = (int32_t)~(clock >> 3);  /* CPUCLOCK_PID: an arithmetic shift of the negative id */
    if (clock & CPUCLOCK_PERTHREAD) {
        /* Thread clocks: only of the caller's own thread group (Linux), and only while it is one thread. */
        struct task *target = pid == 0 ? task : task_by_tid(pid);
        if (!target || target->group != task->group || task->group->ever_multithreaded)
            return -EINVAL;
        *group_out = task->group;
        return 0;
    }
    struct thread_group *group = pid == 0 ? task->group : thread_group_by_tgid(pid);
    if (!group || (group->zombie && group != task->group))
        return -EINVAL;
    *group_out = group;
    return 0;
}

static uint64_t cpu_clock_value(struct thread_group *group, int which)
{
    struct cpu_times times = group_times(group);
    switch (which) {
    case CPUCLOCK_PROF: return times.user + times.system;
    case CPUCLOCK_VIRT: return times.user;
    default: return times.runtime;
    }
}

static SYSCALL_HANDLER(clock_gettime)
{
    clockid_t clock = (clockid_t)ARG(0);
    struct timespec now;
    if (supported_clock(clock)) {
        if (clock_gettime(clock, &now) < 0)
            return -errno;
    } else {
        struct thread_group *group;
        int which;
        long error = cpu_clock_process(task, clock, &group, &which);
        if (error < 0)
            return error;
        uint64_t value = cpu_clock_value(group, which);
        now = (struct timespec){(time_t)(value / NANOSECONDS_PER_SECOND), (long)(value % NANOSECONDS_PER_SECOND)};
    }
    return task_copy_out(task, ARG(1), &now, sizeof(now));
}

static SYSCALL_HANDLER(clock_getres)
{
    clockid_t clock = (clockid_t)ARG(0);
    struct timespec resolution;
    if (supported_clock(clock)) {
        if (clock_getres(clock, &resolution) < 0)
            return -errno;
    } else {
        struct thread_group *group;
        int which;
        long error = cpu_clock_process(task, clock, &group, &which);
        if (error < 0)
            return error;
        /* The host's answer for the same kind of clock on the Sentry itself (1 ns for SCHED, a tick else). */
        if (clock_getres(host_process_clock(0, which), &resolution) < 0)
            return -errno;
    }
    if (ARG(1) && task_copy_out(task, ARG(1), &resolution, sizeof(resolution)) < 0)
        return -EFAULT;
    return 0;
}

void syscall_process_cpu_times(struct task *task, int who, uint64_t *user_ns, uint64_t *system_ns)
{
    if (who == RUSAGE_CHILDREN) {
        *user_ns = task->group->children_user_time_ns;
        *system_ns = task->group->children_system_time_ns;
        return;
    }
    struct cpu_times times = group_times(task->group);
    *user_ns = times.user;
    *system_ns = times.system;
}

static SYSCALL_HANDLER(gettimeofday)
{
    struct timeval now;
    gettimeofday(&now, NULL);
    if (ARG(0) && task_copy_out(task, ARG(0), &now, sizeof(now)) < 0)
        return -EFAULT;
    if (ARG(1)) {
        struct timezone zone = {0, 0};
        if (task_copy_out(task, ARG(1), &zone, sizeof(zone)) < 0)
            return -EFAULT;
    }
    return 0;
}

static SYSCALL_HANDLER(time)
{
    time_t now = time(NULL);
    if (ARG(0) && task_copy_out(task, ARG(0), &now, sizeof(now)) < 0)
        return -EFAULT;
    return now;
}

static uint64_t clock_now(clockid_t clock)
{
    struct timespec now;
    clock_gettime(clock, &now);
    return (uint64_t)now.tv_sec * NANOSECONDS_PER_SECOND + (uint64_t)now.tv_nsec;
}

/* First entry computes the monotonic deadline; re-runs (after a wake-up) only check it. */
/* Wait until deadline (CLOCK_MONOTONIC ns); an interrupted relative sleep reports the time left and, if no
 * handler runs, resumes through restart_syscall. */
long syscall_sleep_to_deadline(struct task *task, uint64_t deadline, uint64_t remaining_address, bool absolute)
{
    uint64_t now = monotonic_nanoseconds();
    if (now >= deadline) {
        task->sleep_restart_armed = false; /* armed only for a sleep that was cut short */
        return 0;
    }
    if (absolute) {
        task->interrupted_result = -SENTRY_ERESTARTNOHAND; /* re-running it waits for the same time */
        return task_wait_deadline(task, deadline);
    }
    if (remaining_address) {
        /* Written now so that an interrupted sleep reports what was left, as Linux does. */
        uint64_t left = deadline - now;
        struct timespec remaining = {(time_t)(left / NANOSECONDS_PER_SECOND), (long)(left % NANOSECONDS_PER_SECOND)};
        if (task_copy_out(task, remaining_address, &remaining, sizeof(remaining)) < 0)
            return -EFAULT;
    }
    task->interrupted_result = -SENTRY_ERESTART_RESTARTBLOCK;
    task->sleep_restart_armed = true;
    task->sleep_restart_deadline = deadline;
    task->sleep_restart_remaining_address = remaining_address;
    return task_wait_deadline(task, deadline);
}

static long sleep_until(struct task *task, clockid_t clock, uint64_t request_address, bool absolute,
                        uint64_t remaining_address)
{
    uint64_t *state = task_syscall_restart_state(task);
    if (!task_syscall_is_restarted(task) || state[0] == 0) {
        struct timespec request;
        if (task_copy_in(task, &request, request_address, sizeof(request)) < 0)
            return -EFAULT;
        if (request.tv_sec < 0 || request.tv_nsec < 0 || request.tv_nsec >= (long)NANOSECONDS_PER_SECOND)
            return -EINVAL;
        uint64_t duration = (uint64_t)request.tv_sec * NANOSECONDS_PER_SECOND + (uint64_t)request.tv_nsec;
        if (absolute) {
            uint64_t now = clock_now(clock);
            duration = duration > now ? duration - now : 0;
        }
        uint64_t start = monotonic_nanoseconds();
        state[0] = duration > UINT64_MAX - start ? UINT64_MAX : start + duration;
        if (state[0] == 0)
            state[0] = 1;
    }
    return syscall_sleep_to_deadline(task, state[0], remaining_address, absolute);
}

static SYSCALL_HANDLER(nanosleep) { return sleep_until(task, CLOCK_MONOTONIC, ARG(0), false, ARG(1)); }

static SYSCALL_HANDLER(clock_nanosleep)
{
    clockid_t clock = (clockid_t)ARG(0);
    int flags = (int)ARG(1);
    if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC && clock != CLOCK_BOOTTIME)
        return clock == CLOCK_THREAD_CPUTIME_ID ? -EINVAL : (supported_clock(clock) ? -ENOTSUP : -EINVAL);
    if (flags & ~TIMER_ABSTIME)
        return -EINVAL;
    return sleep_until(task, clock, ARG(2), flags & TIMER_ABSTIME, ARG(3));
}

const struct syscall_binding syscall_bindings_time[] = {
    {__NR_clock_gettime, sys_clock_gettime}, {__NR_clock_getres, sys_clock_getres},
    {__NR_gettimeofday, sys_gettimeofday}, {__NR_time, sys_time}, {__NR_nanosleep, sys_nanosleep},
    {__NR_clock_nanosleep, sys_clock_nanosleep}, {-1, NULL},
};
