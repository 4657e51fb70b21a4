/* syscalls/timer.c: timers that send signals: alarm, setitimer/getitimer (ITIMER_REAL) and POSIX timers
 * (timer_create/settime/gettime/getoverrun/delete); each fires from the Sentry loop's timer list. */
#include "syscalls/syscalls.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#include "sentry/internal.h"

#define ARG(i) (args->arg[i])
#define NANOSECONDS_PER_SECOND 1000000000ULL
#ifndef SIGEV_THREAD_ID
#define SIGEV_THREAD_ID 4
#endif

struct process_timer {
    struct wait_queue queue;   /* the loop notifies it at the deadline */
    struct waiter waiter;      /* our own, on that queue */
    struct thread_group *group;
    clockid_t clock;
    int id;                    /* -1 for the alarm/ITIMER_REAL timer */
    int signal;                /* 0: SIGEV_NONE */
    int32_t thread_id;         /* SIGEV_THREAD_ID target, or 0 for the group */
    union sigval value;
    uint64_t deadline;         /* CLOCK_MONOTONIC ns, 0 = disarmed */
    uint64_t interval;
    int overrun, last_overrun;
};

static void timer_fire(struct waiter *waiter, uint32_t events)
{
    (void)events;
    struct process_timer *timer = waiter->owner;
    if (!timer->deadline)
        return;
    uint64_t now = monotonic_nanoseconds();
    int missed = 0;
    if (timer->interval) {
        while (timer->deadline <= now) {
            timer->deadline += timer->interval;
            missed++;
        }
        loop_arm_timer(&timer->queue, timer->deadline);
    } else {
        timer->deadline = 0;
    }
    timer->last_overrun = missed > 0 ? missed - 1 : 0;
    if (!timer->signal)
        return;
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    info.si_signo = timer->signal;
    if (timer->id < 0) {
        info.si_code = SI_KERNEL;  /* alarm and setitimer signals come "from the kernel" */
    } else {
        info.si_code = SI_TIMER;
        info.si_timerid = timer->id;
        info.si_overrun = timer->last_overrun;
        info.si_value = timer->value;
    }
    struct task *target = timer->thread_id ? task_by_tid(timer->thread_id) : NULL;
    if (target && target->group == timer->group)
        signal_send_to_task(target, &info);
    else
        signal_send_to_group(timer->group, &info);
}

static struct process_timer *timer_new(struct thread_group *group, clockid_t clock, int id)
{
    struct process_timer *timer = xcalloc(1, sizeof(*timer));
    wait_queue_init(&timer->queue);
    list_init(&timer->waiter.node);
    timer->waiter.events = POLLIN;
    timer->waiter.wake = timer_fire;
    timer->waiter.owner = timer;
    wait_queue_add(&timer->queue, &timer->waiter);
    timer->group = group;
    timer->clock = clock;
    timer->id = id;
    return timer;
}

static void timer_free(struct process_timer *timer)
{
    if (!timer)
        return;
    loop_arm_timer(&timer->queue, 0);
    waiter_remove(&timer->waiter);
    free(timer);
}

void process_timers_release(struct thread_group *group, bool keep_real_timer)
{
    for (int i = 0; i < PROCESS_POSIX_TIMERS; i++) {
        timer_free(group->posix_timers[i]);
        group->posix_timers[i] = NULL;
    }
    if (!keep_real_timer) {
        timer_free(group->real_timer);
        group->real_timer = NULL;
    }
}

static uint64_t remaining_of(const struct process_timer *timer)
{
    if (!timer || !timer->deadline)
        return 0;
    uint64_t now = monotonic_nanoseconds();
    return timer->deadline > now ? timer->deadline - now : 1;  /* due but not yet delivered: "almost 0" */
}

/* Arm (value 0 disarms) a timer; value is relative unless absolute on timer->clock. */
static void timer_arm(struct process_timer *timer, uint64_t value, uint64_t interval, bool absolute)
{
    timer->interval = interval;
    if (value == 0) {
        timer->deadline = 0;
        loop_arm_timer(&timer->queue, 0);
        return;
    }
    if (absolute) {
        struct timespec now;
        clock_gettime(timer->clock, &now);
        uint64_t now_ns = (uint64_t)now.tv_sec * NANOSECONDS_PER_SECOND + (uint64_t)now.tv_nsec;
        value = value > now_ns ? value - now_ns : 1;
    }
    timer->deadline = monotonic_nanoseconds() + value;
    loop_arm_timer(&timer->queue, timer->deadline);
}

static struct process_timer *real_timer_of(struct task *task)
{
    if (!task->group->real_timer) {
        task->group->real_timer = timer_new(task->group, CLOCK_MONOTONIC, -1);
        task->group->real_timer->signal = SIGALRM;
    }
    return task->group->real_timer;
}

static SYSCALL_HANDLER(alarm)
{
    struct process_timer *timer = real_timer_of(task);
    uint64_t left = remaining_of(timer);
    timer_arm(timer, (uint64_t)(unsigned int)ARG(0) * NANOSECONDS_PER_SECOND, 0, false);
    /* Whole seconds left, rounded to nearest, and at least 1 if any time was left (alarm(2)). */
    long seconds = (long)((left + NANOSECONDS_PER_SECOND / 2) / NANOSECONDS_PER_SECOND);
    return left && seconds == 0 ? 1 : seconds;
}

static uint64_t timeval_ns(const struct timeval *value)
{
    return (uint64_t)value->tv_sec * NANOSECONDS_PER_SECOND + (uint64_t)value->tv_usec * 1000;
}

static struct timeval ns_timeval(uint64_t ns)
{
    return (struct timeval){(time_t)(ns / NANOSECONDS_PER_SECOND), (suseconds_t)(ns % NANOSECONDS_PER_SECOND / 1000)};
}

static SYSCALL_HANDLER(getitimer)
{
    int which = (int)ARG(0);
    if (which != ITIMER_REAL)
        return which == ITIMER_VIRTUAL || which == ITIMER_PROF ? -EINVAL : -EINVAL;
    struct process_timer *timer = task->group->real_timer;
    struct itimerval current = {ns_timeval(timer ? timer->interval : 0), ns_timeval(remaining_of(timer))};
    return task_copy_out(task, ARG(1), &current, sizeof(current));
}

static SYSCALL_HANDLER(setitimer)
{
    int which = (int)ARG(0);
    /* CPU-time itimers need per-task CPU accounting, which the Sentry does not keep yet. */
    if (which != ITIMER_REAL)
        return -EINVAL;
    struct itimerval requested = {0};
    if (ARG(1) && task_copy_in(task, &requested, ARG(1), sizeof(requested)) < 0)
        return -EFAULT;
    if (requested.it_value.tv_usec < 0 || requested.it_value.tv_usec >= 1000000 || requested.it_value.tv_sec < 0 ||
        requested.it_interval.tv_usec < 0 || requested.it_interval.tv_usec >= 1000000 ||
        requested.it_interval.tv_sec < 0)
        return -EINVAL;
    struct process_timer *timer = real_timer_of(task);
    if (ARG(2)) {
        struct itimerval old = {ns_timeval(timer->interval), ns_timeval(remaining_of(timer))};
        if (task_copy_out(task, ARG(2), &old, sizeof(old)) < 0)
            return -EFAULT;
    }
    timer_arm(timer, timeval_ns(&requested.it_value), timeval_ns(&requested.it_interval), false);
    return 0;
}

static bool timer_clock_supported(clockid_t clock)
{
    return clock == CLOCK_REALTIME || clock == CLOCK_MONOTONIC || clock == CLOCK_BOOTTIME;
}

static SYSCALL_HANDLER(timer_create)
{
    clockid_t clock = (clockid_t)ARG(0);
    if (!timer_clock_supported(clock))
        return clock == CLOCK_PROCESS_CPUTIME_ID || clock == CLOCK_THREAD_CPUTIME_ID ? -EINVAL : -EINVAL;
    struct sigevent event = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGALRM};
    if (ARG(1) && task_copy_in(task, &event, ARG(1), sizeof(event)) < 0)
        return -EFAULT;
    int32_t thread_id = 0;
    switch (event.sigev_notify) {
    case SIGEV_NONE:
        break;
    case SIGEV_SIGNAL:
        if (event.sigev_signo < 1 || event.sigev_signo > 64)
            return -EINVAL;
        break;
    case SIGEV_THREAD_ID: {
        if (event.sigev_signo < 1 || event.sigev_signo > 64)
            return -EINVAL;
        thread_id = event._sigev_un._tid;
        struct task *target = task_by_tid(thread_id);
        if (!target || target->group != task->group)
            return -EINVAL;
        break;
    }
    default:
        return -EINVAL;
    }
    int id = 0;
    while (id < PROCESS_POSIX_TIMERS && task->group->posix_timers[id])
        id++;
    if (id == PROCESS_POSIX_TIMERS)
        return -EAGAIN;
    struct process_timer *timer = timer_new(task->group, clock, id);
    timer->signal = event.sigev_notify == SIGEV_NONE ? 0 : event.sigev_signo;
    timer->thread_id = thread_id;
    timer->value = ARG(1) ? event.sigev_value : (union sigval){.sival_int = id};
    if (task_copy_out(task, ARG(2), &id, sizeof(id)) < 0) {
        timer_free(timer);
        return -EFAULT;
    }
    task->group->posix_timers[id] = timer;
    return 0;
}

static struct process_timer *posix_timer(struct task *task, uint64_t id)
{
    return id < PROCESS_POSIX_TIMERS ? task->group->posix_timers[id] : NULL;
}

static uint64_t timespec_ns(const struct timespec *value)
{
    return (uint64_t)value->tv_sec * NANOSECONDS_PER_SECOND + (uint64_t)value->tv_nsec;
}

static struct timespec ns_timespec(uint64_t ns)
{
    return (struct timespec){(time_t)(ns / NANOSECONDS_PER_SECOND), (long)(ns % NANOSECONDS_PER_SECOND)};
}

static SYSCALL_HANDLER(timer_settime)
{
    struct process_timer *timer = posix_timer(task, ARG(0));
    int flags = (int)ARG(1);
    if (!timer)
        return -EINVAL;
    if (flags & ~TIMER_ABSTIME)
        return -EINVAL;
    struct itimerspec requested;
    if (task_copy_in(task, &requested, ARG(2), sizeof(requested)) < 0)
        return -EFAULT;
    if (requested.it_value.tv_nsec < 0 || requested.it_value.tv_nsec >= (long)NANOSECONDS_PER_SECOND ||
        requested.it_value.tv_sec < 0 || requested.it_interval.tv_nsec < 0 ||
        requested.it_interval.tv_nsec >= (long)NANOSECONDS_PER_SECOND || requested.it_interval.tv_sec < 0)
        return -EINVAL;
    if (ARG(3)) {
        struct itimerspec old = {ns_timespec(timer->interval), ns_timespec(remaining_of(timer))};
        if (task_copy_out(task, ARG(3), &old, sizeof(old)) < 0)
            return -EFAULT;
    }
    timer->overrun = timer->last_overrun = 0;
    timer_arm(timer, timespec_ns(&requested.it_value), timespec_ns(&requested.it_interval), flags & TIMER_ABSTIME);
    return 0;
}

static SYSCALL_HANDLER(timer_gettime)
{
    struct process_timer *timer = posix_timer(task, ARG(0));
    if (!timer)
        return -EINVAL;
    struct itimerspec current = {ns_timespec(timer->interval), ns_timespec(remaining_of(timer))};
    return task_copy_out(task, ARG(1), &current, sizeof(current));
}

static SYSCALL_HANDLER(timer_getoverrun)
{
    struct process_timer *timer = posix_timer(task, ARG(0));
    return timer ? timer->last_overrun : -EINVAL;
}

static SYSCALL_HANDLER(timer_delete)
{
    struct process_timer *timer = posix_timer(task, ARG(0));
    if (!timer)
        return -EINVAL;
    task->group->posix_timers[ARG(0)] = NULL;
    timer_free(timer);
    return 0;
}

const struct syscall_binding syscall_bindings_timer[] = {
    {__NR_alarm, sys_alarm}, {__NR_getitimer, sys_getitimer}, {__NR_setitimer, sys_setitimer},
    {__NR_timer_create, sys_timer_create}, {__NR_timer_settime, sys_timer_settime},
    {__NR_timer_gettime, sys_timer_gettime}, {__NR_timer_getoverrun, sys_timer_getoverrun},
    {__NR_timer_delete, sys_timer_delete}, {-1, NULL},
};
