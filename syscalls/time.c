/* syscalls/time.c: clocks and sleeps: clock_gettime/getres, gettimeofday, time, nanosleep and
 * clock_nanosleep; sleeping tasks park on a deadline in the Sentry's loop, never in a host sleep. */
#include "syscalls/syscalls.h"

#include <errno.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#include "sentry/internal.h"

#define ARG(i) (args->arg[i])
#define NANOSECONDS_PER_SECOND 1000000000ULL

static bool supported_clock(clockid_t clock)
{
    switch (clock) {
    case CLOCK_REALTIME: case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW: case CLOCK_REALTIME_COARSE:
    case CLOCK_MONOTONIC_COARSE: case CLOCK_BOOTTIME:
        return true;
    default:
        return false;  /* CPU-time clocks need per-task accounting the Sentry does not keep yet */
    }
}

static SYSCALL_HANDLER(clock_gettime)
{
    clockid_t clock = (clockid_t)ARG(0);
    if (!supported_clock(clock))
        return -EINVAL;
    struct timespec now;
    if (clock_gettime(clock, &now) < 0)
        return -errno;
    return task_copy_out(task, ARG(1), &now, sizeof(now));
}

static SYSCALL_HANDLER(clock_getres)
{
    clockid_t clock = (clockid_t)ARG(0);
    if (!supported_clock(clock))
        return -EINVAL;
    struct timespec resolution;
    if (clock_getres(clock, &resolution) < 0)
        return -errno;
    if (ARG(1) && task_copy_out(task, ARG(1), &resolution, sizeof(resolution)) < 0)
        return -EFAULT;
    return 0;
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
    uint64_t now = monotonic_nanoseconds();
    if (now >= state[0])
        return 0;
    if (remaining_address && !absolute) {
        /* Written now so that an interrupted sleep reports what was left, as Linux does. */
        uint64_t left = state[0] - now;
        struct timespec remaining = {(time_t)(left / NANOSECONDS_PER_SECOND), (long)(left % NANOSECONDS_PER_SECOND)};
        if (task_copy_out(task, remaining_address, &remaining, sizeof(remaining)) < 0)
            return -EFAULT;
    }
    task->interrupted_result = -SENTRY_ERESTARTNOHAND;
    return task_wait_deadline(task, state[0]);
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
