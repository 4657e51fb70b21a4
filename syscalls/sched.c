/* syscalls/sched.c: scheduling attributes kept per task, never applied to the host: nice values
 * (getpriority/setpriority), policies and priorities (sched_*), CPU affinity, I/O priorities (ioprio_*). */
#include "syscalls/syscalls.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "sentry/internal.h"
#include "syscalls/families_extra.h"
#include "syscalls/internal.h"

#define ARG(i) (args->arg[i])

/* Linux's struct sched_attr (its header clashes with glibc's <sched.h>). */
struct sched_attr {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime, sched_deadline, sched_period;
    uint32_t sched_util_min, sched_util_max;
};
#define NICE_MINIMUM (-20)
#define NICE_MAXIMUM 19
#define REALTIME_PRIORITY_MAXIMUM 99
#define ROUND_ROBIN_SLICE_NS 100000000L /* RR_TIMESLICE: 100 ms */
#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE 6
#endif
#define SCHED_FLAG_RESET_ON_FORK_VALUE 0x01
/* sched_setattr's known flags (SCHED_FLAG_ALL of Linux 5.15: reset-on-fork, reclaim, dl-overrun, keep-policy,
 * keep-params, util-clamp min/max). */
#define SCHED_FLAGS_KNOWN 0x7f
#define SCHED_FLAG_KEEP_POLICY_VALUE 0x08
#define SCHED_FLAG_KEEP_PARAMS_VALUE 0x10
#define SCHED_FLAG_UTIL_CLAMP_VALUE 0x60
#define SCHED_ATTR_SIZE_VER0 48

#define IOPRIO_CLASS_SHIFT 13
#define IOPRIO_CLASS_NONE 0
#define IOPRIO_CLASS_RT 1
#define IOPRIO_CLASS_BE 2
#define IOPRIO_CLASS_IDLE 3
#define IOPRIO_LEVELS 8
#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_WHO_PGRP 2
#define IOPRIO_WHO_USER 3

/* The sandbox's capability model (see capget): effective uid 0 holds every capability, others none. */
static bool capable(const struct task *task) { return task->credentials.euid == 0; }

static struct task *task_or_self(struct task *task, int32_t tid)
{
    return tid == 0 ? task : task_by_tid(tid);
}

/* can_nice(): lowering nice to nice needs RLIMIT_NICE >= 20 - nice, or CAP_SYS_NICE. */
static bool may_nice(const struct task *caller, const struct task *target, int nice)
{
    uint64_t limit = target->group->limits[RLIMIT_NICE].rlim_cur;
    return (uint64_t)(20 - nice) <= limit || capable(caller);
}

/* check_same_owner(): the caller's effective uid is the target's real or effective uid. */
static bool same_owner(const struct task *caller, const struct task *target)
{
    uint32_t euid = caller->credentials.euid;
    return euid == target->credentials.euid || euid == target->credentials.uid;
}

/* ---- getpriority / setpriority ---- */

/* Every live task `which`/`who` selects, as Linux's: PRIO_PROCESS a thread id, PRIO_PGRP every thread of the
 * group's processes, PRIO_USER every thread whose real uid is who (0: the caller's). */
static size_t select_tasks(struct task *task, int which, int32_t who, struct task **selected, size_t max)
{
    size_t count = 0;
    if (which == PRIO_PROCESS) {
        struct task *target = task_or_self(task, who);
        if (target && max > 0)
            selected[count++] = target;
        return count;
    }
    int32_t process_group = who ? who : task->group->process_group;
    uint32_t uid = who ? (uint32_t)who : task->credentials.uid;
    LIST_FOR_EACH(node, task_all_list()) {
        struct task *other = CONTAINER_OF(node, struct task, all_node);
        if (other->state == TASK_STATE_DEAD || count == max)
            continue;
        if ((which == PRIO_PGRP && other->group->process_group == process_group) ||
            (which == PRIO_USER && other->credentials.uid == uid))
            selected[count++] = other;
    }
    return count;
}

#define SELECTION_MAXIMUM 4096

static SYSCALL_HANDLER(getpriority)
{
    int which = syscall_argument_int(args, 0);
    int32_t who = syscall_argument_int(args, 1);
    if (which != PRIO_PROCESS && which != PRIO_PGRP && which != PRIO_USER)
        return -EINVAL;
    static struct task *selected[SELECTION_MAXIMUM];
    size_t count = select_tasks(task, which, who, selected, SELECTION_MAXIMUM);
    if (count == 0)
        return -ESRCH;
    long best = 0;
    for (size_t i = 0; i < count; i++)
        best = MAX(best, 20L - selected[i]->scheduling.nice);
    return best;  /* 20 - nice: the kernel's convention, so that it is never negative */
}

static SYSCALL_HANDLER(setpriority)
{
    int which = syscall_argument_int(args, 0);
    int32_t who = syscall_argument_int(args, 1);
    int nice = syscall_argument_int(args, 2);
    if (which != PRIO_PROCESS && which != PRIO_PGRP && which != PRIO_USER)
        return -EINVAL;
    nice = MAX(NICE_MINIMUM, MIN(NICE_MAXIMUM, nice));
    static struct task *selected[SELECTION_MAXIMUM];
    size_t count = select_tasks(task, which, who, selected, SELECTION_MAXIMUM);
    long error = -ESRCH;
    for (size_t i = 0; i < count; i++) {
        struct task *target = selected[i];
        const struct credentials *own = &task->credentials;
        if (target->credentials.uid != own->euid && target->credentials.euid != own->euid && !capable(task)) {
            error = -EPERM;
            continue;
        }
        if (nice < target->scheduling.nice && !may_nice(task, target, nice)) {
            error = -EACCES;
            continue;
        }
        if (error == -ESRCH)
            error = 0;
        target->scheduling.nice = nice;
    }
    return error;
}

/* ---- policies ---- */

static bool realtime_policy(int policy) { return policy == SCHED_FIFO || policy == SCHED_RR; }
static bool valid_policy(int policy)
{
    return policy == SCHED_OTHER || policy == SCHED_BATCH || policy == SCHED_IDLE || realtime_policy(policy) ||
           policy == SCHED_DEADLINE;
}

/* __sched_setscheduler's checks and, when they pass, the change; policy -1 keeps the current one. */
static long set_scheduler(struct task *task, struct task *target, int policy, uint32_t priority, int nice,
                          bool change_nice, bool reset_on_fork, uint64_t flags)
{
    struct task_scheduling *scheduling = &target->scheduling;
    if (policy < 0) {
        policy = scheduling->policy;
    } else if (!valid_policy(policy)) {
        return -EINVAL;
    }
    if (flags & ~(uint64_t)SCHED_FLAGS_KNOWN)
        return -EINVAL;
    if (priority > REALTIME_PRIORITY_MAXIMUM)
        return -EINVAL;
    /* SCHED_DEADLINE needs runtime/deadline/period parameters the legacy calls cannot carry; with them, it
     * also needs bandwidth admission the Sentry does not do. */
    if (policy == SCHED_DEADLINE || realtime_policy(policy) != (priority != 0))
        return -EINVAL;
    if (flags & SCHED_FLAG_UTIL_CLAMP_VALUE)
        return -EOPNOTSUPP; /* no utilization clamping (CONFIG_UCLAMP_TASK off) */
    if (!capable(task)) {
        if (!realtime_policy(policy) && change_nice && nice < scheduling->nice && !may_nice(task, target, nice))
            return -EPERM;
        if (realtime_policy(policy)) {
            uint64_t limit = target->group->limits[RLIMIT_RTPRIO].rlim_cur;
            if (policy != scheduling->policy && limit == 0)
                return -EPERM;
            if (priority > (uint32_t)scheduling->priority && priority > limit)
                return -EPERM;
        }
        if (scheduling->policy == SCHED_IDLE && policy != SCHED_IDLE && !may_nice(task, target, scheduling->nice))
            return -EPERM;
        if (!same_owner(task, target))
            return -EPERM;
        if (scheduling->reset_on_fork && !reset_on_fork)
            return -EPERM;
    }
    scheduling->policy = policy;
    scheduling->priority = (int)priority;
    scheduling->reset_on_fork = reset_on_fork;
    if (change_nice && !realtime_policy(policy))
        scheduling->nice = nice;
    return 0;
}

static long set_scheduler_legacy(struct task *task, int32_t pid, int policy, uint64_t parameter_address)
{
    if (!parameter_address || pid < 0)
        return -EINVAL;
    struct sched_param parameter;
    if (task_copy_in(task, &parameter, parameter_address, sizeof(parameter)) < 0)
        return -EFAULT;
    struct task *target = task_or_self(task, pid);
    if (!target)
        return -ESRCH;
    bool reset_on_fork = target->scheduling.reset_on_fork;
    if (policy >= 0) {
        reset_on_fork = (policy & SCHED_RESET_ON_FORK) != 0;
        policy &= ~SCHED_RESET_ON_FORK;
    }
    return set_scheduler(task, target, policy, (uint32_t)parameter.sched_priority, target->scheduling.nice, false,
                         reset_on_fork, 0);
}

static SYSCALL_HANDLER(sched_setscheduler)
{
    int policy = syscall_argument_int(args, 1);
    if (policy < 0)
        return -EINVAL;
    return set_scheduler_legacy(task, syscall_argument_int(args, 0), policy, ARG(2));
}

static SYSCALL_HANDLER(sched_setparam)
{
    return set_scheduler_legacy(task, syscall_argument_int(args, 0), -1, ARG(1));
}

static SYSCALL_HANDLER(sched_getscheduler)
{
    int32_t pid = syscall_argument_int(args, 0);
    if (pid < 0)
        return -EINVAL;
    struct task *target = task_or_self(task, pid);
    if (!target)
        return -ESRCH;
    return target->scheduling.policy | (target->scheduling.reset_on_fork ? SCHED_RESET_ON_FORK : 0);
}

static SYSCALL_HANDLER(sched_getparam)
{
    int32_t pid = syscall_argument_int(args, 0);
    if (!ARG(1) || pid < 0)
        return -EINVAL;
    struct task *target = task_or_self(task, pid);
    if (!target)
        return -ESRCH;
    struct sched_param parameter = {.sched_priority = target->scheduling.priority};
    return task_copy_out(task, ARG(1), &parameter, sizeof(parameter));
}

static SYSCALL_HANDLER(sched_get_priority_max)
{
    (void)task;
    int policy = syscall_argument_int(args, 0);
    if (realtime_policy(policy))
        return REALTIME_PRIORITY_MAXIMUM;
    return valid_policy(policy) ? 0 : -EINVAL;
}

static SYSCALL_HANDLER(sched_get_priority_min)
{
    (void)task;
    int policy = syscall_argument_int(args, 0);
    if (realtime_policy(policy))
        return 1;
    return valid_policy(policy) ? 0 : -EINVAL;
}

static SYSCALL_HANDLER(sched_rr_get_interval)
{
    int32_t pid = syscall_argument_int(args, 0);
    if (pid < 0)
        return -EINVAL;
    struct task *target = task_or_self(task, pid);
    if (!target)
        return -ESRCH;
    /* SCHED_RR's slice is RR_TIMESLICE; FIFO has none. For the fair classes Linux reports the task's current
     * slice, which the Sentry (not the host's scheduler) cannot know: it reports none, as for an idle queue. */
    long slice = target->scheduling.policy == SCHED_RR ? ROUND_ROBIN_SLICE_NS : 0;
    struct timespec interval = {.tv_sec = slice / 1000000000L, .tv_nsec = slice % 1000000000L};
    return task_copy_out(task, ARG(1), &interval, sizeof(interval));
}

/* sched_setattr(pid, attr, flags) and sched_getattr(pid, attr, size, flags): the extensible struct sched_attr. */
static SYSCALL_HANDLER(sched_setattr)
{
    int32_t pid = syscall_argument_int(args, 0);
    unsigned int flags = (unsigned int)ARG(2);
    if (!ARG(1) || pid < 0 || flags)
        return -EINVAL;
    uint32_t size;
    if (task_copy_in(task, &size, ARG(1), sizeof(size)) < 0)
        return -EFAULT;
    if (size == 0)
        size = SCHED_ATTR_SIZE_VER0;
    if (size < SCHED_ATTR_SIZE_VER0 || size > PAGE_SIZE) {
        /* sched_copy_attr writes the size the kernel knows back, then fails. */
        uint32_t known = sizeof(struct sched_attr);
        if (task_copy_out(task, ARG(1), &known, sizeof(known)) < 0)
            return -EFAULT;
        return -E2BIG;
    }
    struct sched_attr attributes;
    memset(&attributes, 0, sizeof(attributes));
    if (task_copy_in(task, &attributes, ARG(1), MIN(size, sizeof(attributes))) < 0)
        return -EFAULT;
    for (uint32_t offset = sizeof(attributes); offset < size; offset++) {
        uint8_t byte;
        if (task_copy_in(task, &byte, ARG(1) + offset, 1) < 0)
            return -EFAULT;
        if (byte) {
            uint32_t known = sizeof(struct sched_attr);
            task_copy_out(task, ARG(1), &known, sizeof(known));
            return -E2BIG;
        }
    }
    if (size < sizeof(attributes))
        attributes.sched_util_min = attributes.sched_util_max = 0;
    /* sched_copy_attr clamps nice rather than failing. */
    int nice = MAX(NICE_MINIMUM, MIN(NICE_MAXIMUM, attributes.sched_nice));
    if ((int)attributes.sched_policy < 0)
        return -EINVAL;
    struct task *target = task_or_self(task, pid);
    if (!target)
        return -ESRCH;
    int policy = (int)attributes.sched_policy;
    uint32_t priority = attributes.sched_priority;
    bool change_nice = true;
    if (attributes.sched_flags & SCHED_FLAG_KEEP_POLICY_VALUE)
        policy = -1;
    if (attributes.sched_flags & SCHED_FLAG_KEEP_PARAMS_VALUE) {
        priority = (uint32_t)target->scheduling.priority;
        change_nice = false;
    }
    uint64_t remaining_flags = attributes.sched_flags & ~(uint64_t)(SCHED_FLAG_KEEP_POLICY_VALUE |
                                                                     SCHED_FLAG_KEEP_PARAMS_VALUE);
    return set_scheduler(task, target, policy, priority, nice, change_nice,
                         (attributes.sched_flags & SCHED_FLAG_RESET_ON_FORK_VALUE) != 0, remaining_flags);
}

static SYSCALL_HANDLER(sched_getattr)
{
    int32_t pid = syscall_argument_int(args, 0);
    uint32_t size = (uint32_t)ARG(2);
    unsigned int flags = (unsigned int)ARG(3);
    if (!ARG(1) || pid < 0 || size > PAGE_SIZE || size < SCHED_ATTR_SIZE_VER0 || flags)
        return -EINVAL;
    struct task *target = task_or_self(task, pid);
    if (!target)
        return -ESRCH;
    struct sched_attr attributes;
    memset(&attributes, 0, sizeof(attributes));
    attributes.size = MIN(size, (uint32_t)sizeof(attributes));
    attributes.sched_policy = (uint32_t)target->scheduling.policy;
    if (target->scheduling.reset_on_fork)
        attributes.sched_flags |= SCHED_FLAG_RESET_ON_FORK_VALUE;
    if (realtime_policy(target->scheduling.policy))
        attributes.sched_priority = (uint32_t)target->scheduling.priority;
    else
        attributes.sched_nice = target->scheduling.nice;
    attributes.sched_util_max = 1024; /* SCHED_CAPACITY_SCALE: no clamp */
    return task_copy_out(task, ARG(1), &attributes, attributes.size);
}

/* ---- CPU affinity ---- */

/* The CPUs the sandbox offers: those sched_getaffinity reports, 0..count-1. */
static size_t affinity_mask_bytes(void)
{
    long cpus = MIN(host_cpu_count(), (long)TASK_AFFINITY_WORDS * 64);
    return sizeof(uint64_t) * (size_t)((cpus + 63) / 64);
}

static void sandbox_cpus(uint64_t mask[TASK_AFFINITY_WORDS])
{
    long cpus = MIN(host_cpu_count(), (long)TASK_AFFINITY_WORDS * 64);
    memset(mask, 0, sizeof(uint64_t) * TASK_AFFINITY_WORDS);
    for (long cpu = 0; cpu < cpus; cpu++)
        mask[cpu / 64] |= 1ULL << (cpu % 64);
}

void syscall_task_affinity(const struct task *task, uint64_t mask[TASK_AFFINITY_WORDS])
{
    sandbox_cpus(mask);
    if (task->scheduling.affinity_set)
        for (size_t i = 0; i < TASK_AFFINITY_WORDS; i++)
            mask[i] &= task->scheduling.affinity[i];
}

static SYSCALL_HANDLER(sched_setaffinity)
{
    int32_t pid = syscall_argument_int(args, 0);
    uint32_t length = (uint32_t)ARG(1);
    uint64_t requested[TASK_AFFINITY_WORDS] = {0};
    size_t mask_bytes = affinity_mask_bytes();
    /* Linux copies at most cpumask_size() bytes; a shorter mask is zero-extended. */
    if (task_copy_in(task, requested, ARG(2), MIN(length, mask_bytes)) < 0)
        return -EFAULT;
    struct task *target = task_or_self(task, pid);
    if (!target)
        return -ESRCH;
    if (!same_owner(task, target) && !capable(task))
        return -EPERM;
    uint64_t allowed[TASK_AFFINITY_WORDS];
    sandbox_cpus(allowed);
    bool any = false;
    for (size_t i = 0; i < TASK_AFFINITY_WORDS; i++) {
        requested[i] &= allowed[i];
        any |= requested[i] != 0;
    }
    if (!any)
        return -EINVAL;
    memcpy(target->scheduling.affinity, requested, sizeof(requested));
    target->scheduling.affinity_set = true;
    return 0;
}

/* ---- I/O priorities ---- */

static int ioprio_class(int value) { return (value >> IOPRIO_CLASS_SHIFT) & 0x7; }

/* ioprio_check_cap() */
static long check_io_priority(struct task *task, int value)
{
    int data = value & ((1 << IOPRIO_CLASS_SHIFT) - 1);
    switch (ioprio_class(value)) {
    case IOPRIO_CLASS_RT:
        if (!capable(task))
            return -EPERM;
        __attribute__((fallthrough)); /* RT has levels too */
    case IOPRIO_CLASS_BE:
        if ((data & 0x7) >= IOPRIO_LEVELS || (data & ~0x7))
            return -EINVAL;
        return 0;
    case IOPRIO_CLASS_IDLE:
        return 0;
    case IOPRIO_CLASS_NONE:
        return data ? -EINVAL : 0;
    default:
        return -EINVAL;
    }
}

/* IOPRIO_DEFAULT: what a task that never set one (and inherited none) reports: best-effort, level 4. */
#define IOPRIO_DEFAULT_VALUE ((IOPRIO_CLASS_BE << IOPRIO_CLASS_SHIFT) | 4)

/* What ioprio_get reports for one task: what ioprio_set stored (class NONE included), else the default. */
static int task_io_priority(const struct task *task)
{
    return task->scheduling.io_priority_set ? task->scheduling.io_priority : IOPRIO_DEFAULT_VALUE;
}

static size_t select_io_tasks(struct task *task, int which, int32_t who, struct task **selected, size_t max)
{
    int map[] = {[IOPRIO_WHO_PROCESS] = PRIO_PROCESS, [IOPRIO_WHO_PGRP] = PRIO_PGRP, [IOPRIO_WHO_USER] = PRIO_USER};
    return select_tasks(task, map[which], who, selected, max);
}

static SYSCALL_HANDLER(ioprio_set)
{
    int which = syscall_argument_int(args, 0);
    int32_t who = syscall_argument_int(args, 1);
    int value = syscall_argument_int(args, 2);
    long error = check_io_priority(task, value);
    if (error < 0)
        return error;
    if (which != IOPRIO_WHO_PROCESS && which != IOPRIO_WHO_PGRP && which != IOPRIO_WHO_USER)
        return -EINVAL;
    static struct task *selected[SELECTION_MAXIMUM];
    size_t count = select_io_tasks(task, which, who, selected, SELECTION_MAXIMUM);
    error = -ESRCH;
    for (size_t i = 0; i < count; i++) {
        struct task *target = selected[i];
        const struct credentials *own = &task->credentials;
        if (target->credentials.uid != own->euid && target->credentials.uid != own->uid && !capable(task)) {
            error = -EPERM;
            break;
        }
        target->scheduling.io_priority = (uint16_t)value;
        target->scheduling.io_priority_set = true;
        error = 0;
    }
    return error;
}

static SYSCALL_HANDLER(ioprio_get)
{
    int which = syscall_argument_int(args, 0);
    int32_t who = syscall_argument_int(args, 1);
    if (which != IOPRIO_WHO_PROCESS && which != IOPRIO_WHO_PGRP && which != IOPRIO_WHO_USER)
        return -EINVAL;
    static struct task *selected[SELECTION_MAXIMUM];
    size_t count = select_io_tasks(task, which, who, selected, SELECTION_MAXIMUM);
    long best = -ESRCH;
    for (size_t i = 0; i < count; i++) {
        int value = task_io_priority(selected[i]);
        if (best == -ESRCH) {
            best = value;
            continue;
        }
        /* ioprio_best(): class NONE counts as the default, best-effort level 4. */
        const long default_priority = IOPRIO_DEFAULT_VALUE;
        best = MIN(ioprio_class((int)best) == IOPRIO_CLASS_NONE ? default_priority : best,
                   ioprio_class(value) == IOPRIO_CLASS_NONE ? default_priority : (long)value);
    }
    return best;
}

const struct syscall_binding syscall_bindings_sched[] = {
    {__NR_getpriority, sys_getpriority}, {__NR_setpriority, sys_setpriority},
    {__NR_sched_setscheduler, sys_sched_setscheduler}, {__NR_sched_setparam, sys_sched_setparam},
    {__NR_sched_getscheduler, sys_sched_getscheduler}, {__NR_sched_getparam, sys_sched_getparam},
    {__NR_sched_get_priority_max, sys_sched_get_priority_max},
    {__NR_sched_get_priority_min, sys_sched_get_priority_min},
    {__NR_sched_rr_get_interval, sys_sched_rr_get_interval}, {__NR_sched_setattr, sys_sched_setattr},
    {__NR_sched_getattr, sys_sched_getattr}, {__NR_sched_setaffinity, sys_sched_setaffinity},
    {__NR_ioprio_set, sys_ioprio_set}, {__NR_ioprio_get, sys_ioprio_get}, {-1, NULL},
};
