/* syscalls/signal.c: signal syscalls: sigaction, masks, sigreturn, sigaltstack, kill/tgkill/tkill,
 * sigsuspend/pause and sigpending; thin handlers over sentry/signal.c. */
#include "syscalls/syscalls.h"

#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>

#include "sentry/internal.h"

#define ARG(i) (args->arg[i])
#define SIGNAL_BIT(signal) (1ULL << ((signal) - 1))
#define UNBLOCKABLE (SIGNAL_BIT(SIGKILL) | SIGNAL_BIT(SIGSTOP))
#define KERNEL_SIGSET_SIZE 8
#define MINIMUM_SIGNAL_STACK 2048
#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

static bool valid_signal(long signal) { return signal >= 1 && signal <= 64; }

static SYSCALL_HANDLER(rt_sigaction)
{
    long signal = (long)ARG(0);
    if (ARG(3) != KERNEL_SIGSET_SIZE || !valid_signal(signal))
        return -EINVAL;
    struct kernel_sigaction replacement;
    if (ARG(1)) {
        if (signal == SIGKILL || signal == SIGSTOP)
            return -EINVAL;
        if (task_copy_in(task, &replacement, ARG(1), sizeof(replacement)) < 0)
            return -EFAULT;
    }
    struct kernel_sigaction *action = &task->group->handlers->actions[signal - 1];
    if (ARG(2) && task_copy_out(task, ARG(2), action, sizeof(*action)) < 0)
        return -EFAULT;
    if (ARG(1)) {
        replacement.mask &= ~UNBLOCKABLE;
        *action = replacement;
        /* Setting a pending signal to ignored discards it (POSIX, and Linux). */
        if (signal_is_ignored(task->group, (int)signal)) {
            task->group->signals.pending &= ~SIGNAL_BIT(signal);
            LIST_FOR_EACH(node, &task->group->threads) {
                struct task *thread = CONTAINER_OF(node, struct task, group_node);
                thread->signals.pending &= ~SIGNAL_BIT(signal);
            }
        }
    }
    return 0;
}

static SYSCALL_HANDLER(rt_sigprocmask)
{
    int how = (int)ARG(0);
    if (ARG(3) != KERNEL_SIGSET_SIZE)
        return -EINVAL;
    uint64_t set = 0;
    if (ARG(1)) {
        if (how != SIG_BLOCK && how != SIG_UNBLOCK && how != SIG_SETMASK)
            return -EINVAL;
        if (task_copy_in(task, &set, ARG(1), sizeof(set)) < 0)
            return -EFAULT;
    }
    if (ARG(2) && task_copy_out(task, ARG(2), &task->signal_mask, sizeof(uint64_t)) < 0)
        return -EFAULT;
    if (ARG(1)) {
        switch (how) {
        case SIG_BLOCK: task->signal_mask |= set; break;
        case SIG_UNBLOCK: task->signal_mask &= ~set; break;
        default: task->signal_mask = set; break;
        }
        task->signal_mask &= ~UNBLOCKABLE;
    }
    return 0;
}

static SYSCALL_HANDLER(rt_sigreturn)
{
    (void)args;
    return signal_return(task);
}

static SYSCALL_HANDLER(rt_sigpending)
{
    if (ARG(1) > KERNEL_SIGSET_SIZE)
        return -EINVAL;
    uint64_t pending = (task->signals.pending | task->group->signals.pending) & task->signal_mask;
    return task_copy_out(task, ARG(0), &pending, ARG(1));
}

/* Wait for any signal with a temporary mask; the old mask comes back after the handler runs. */
static long suspend_with_mask(struct task *task, uint64_t mask)
{
    if (!task_syscall_is_restarted(task)) {
        task->saved_signal_mask = task->signal_mask;
        task->restore_saved_mask = true;
        task->signal_mask = mask & ~UNBLOCKABLE;
    }
    task->interrupted_result = -SENTRY_ERESTARTNOHAND;
    return task_wait_deadline(task, 0);
}

static SYSCALL_HANDLER(rt_sigsuspend)
{
    if (ARG(1) != KERNEL_SIGSET_SIZE)
        return -EINVAL;
    uint64_t mask;
    if (!task_syscall_is_restarted(task) && task_copy_in(task, &mask, ARG(0), sizeof(mask)) < 0)
        return -EFAULT;
    return suspend_with_mask(task, task_syscall_is_restarted(task) ? task->signal_mask : mask);
}

static SYSCALL_HANDLER(pause)
{
    (void)args;
    task->interrupted_result = -SENTRY_ERESTARTNOHAND;
    return task_wait_deadline(task, 0);
}

static SYSCALL_HANDLER(sigaltstack)
{
    uint64_t stack_pointer = task_registers(task)->general.rsp;
    stack_t *current = &task->alternate_stack;
    bool on_stack = !(current->ss_flags & SS_DISABLE) && current->ss_size &&
                    stack_pointer - (uint64_t)current->ss_sp < current->ss_size;
    stack_t replacement;
    if (ARG(0) && task_copy_in(task, &replacement, ARG(0), sizeof(replacement)) < 0)
        return -EFAULT;
    if (ARG(1)) {
        stack_t old = *current;
        if (current->ss_size == 0 && !(current->ss_flags & SS_ONSTACK))
            old.ss_flags = SS_DISABLE;
        if (on_stack)
            old.ss_flags = SS_ONSTACK;
        if (task_copy_out(task, ARG(1), &old, sizeof(old)) < 0)
            return -EFAULT;
    }
    if (ARG(0)) {
        if (on_stack)
            return -EPERM;
        int mode = replacement.ss_flags & ~(int)SS_AUTODISARM;
        if (mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0)
            return -EINVAL;
        if (mode == SS_DISABLE) {
            replacement.ss_sp = NULL;
            replacement.ss_size = 0;
        } else {
            if (replacement.ss_size < MINIMUM_SIGNAL_STACK)
                return -ENOMEM;
            replacement.ss_flags = replacement.ss_flags & (int)SS_AUTODISARM;
        }
        *current = replacement;
    }
    return 0;
}

static long kill_group(struct task *task, struct thread_group *group, int signal)
{
    if (!group)
        return -ESRCH;
    if (signal == 0 || group->zombie)
        return 0; /* a zombie exists until it is reaped: Linux accepts the signal and drops it */
    siginfo_t info = {.si_signo = signal, .si_code = SI_USER};
    info.si_pid = task->group->tgid;
    info.si_uid = task->credentials.uid;
    return signal_send_to_group(group, &info);
}

static SYSCALL_HANDLER(kill)
{
    int32_t pid = (int32_t)ARG(0);
    long signal = (long)ARG(1);
    if (signal != 0 && !valid_signal(signal))
        return -EINVAL;
    if (pid > 0)
        return kill_group(task, thread_group_by_tgid(pid), (int)signal);
    if (pid == INT32_MIN)
        return -ESRCH;
    int32_t process_group = pid == 0 ? task->group->process_group : -pid;
    int32_t pids[4096];
    size_t count = task_list_groups(pids, ARRAY_SIZE(pids));
    bool any = false;
    for (size_t i = 0; i < count; i++) {
        struct thread_group *group = thread_group_by_tgid(pids[i]);
        if (!group)
            continue;
        if (pid == -1) {
            /* Everyone but init and the caller itself. */
            if (group->tgid == 1 || group == task->group)
                continue;
        } else if (group->process_group != process_group) {
            continue;
        }
        any = true;
        kill_group(task, group, (int)signal);
    }
    return any ? 0 : -ESRCH;
}

static long kill_thread(struct task *task, int32_t tgid, int32_t tid, long signal)
{
    if (tid <= 0 || (tgid != -1 && tgid <= 0))
        return -EINVAL;
    if (signal != 0 && !valid_signal(signal))
        return -EINVAL;
    struct task *target = task_by_tid(tid);
    if (!target || (tgid != -1 && target->group->tgid != tgid))
        return -ESRCH;
    if (signal == 0)
        return 0;
    siginfo_t info = {.si_signo = (int)signal, .si_code = SI_TKILL};
    info.si_pid = task->group->tgid;
    info.si_uid = task->credentials.uid;
    return signal_send_to_task(target, &info);
}

static SYSCALL_HANDLER(tgkill) { return kill_thread(task, (int32_t)ARG(0), (int32_t)ARG(1), (long)ARG(2)); }
static SYSCALL_HANDLER(tkill) { return kill_thread(task, -1, (int32_t)ARG(0), (long)ARG(1)); }

/* restart_state of rt_sigtimedwait */
enum { WAIT_STATE_STARTED, WAIT_STATE_DEADLINE, WAIT_STATE_MASK };

static SYSCALL_HANDLER(rt_sigtimedwait)
{
    uint64_t *state = task_syscall_restart_state(task);
    if (ARG(3) != KERNEL_SIGSET_SIZE)
        return -EINVAL;
    uint64_t set;
    if (task_copy_in(task, &set, ARG(0), sizeof(set)) < 0)
        return -EFAULT;
    set &= ~UNBLOCKABLE;
    if (!state[WAIT_STATE_STARTED]) {
        state[WAIT_STATE_DEADLINE] = 0;
        if (ARG(2)) {
            struct timespec timeout;
            if (task_copy_in(task, &timeout, ARG(2), sizeof(timeout)) < 0)
                return -EFAULT;
            if (timeout.tv_sec < 0 || timeout.tv_nsec < 0 || timeout.tv_nsec >= 1000000000L)
                return -EINVAL;
            state[WAIT_STATE_DEADLINE] = monotonic_nanoseconds() + (uint64_t)timeout.tv_sec * 1000000000ULL +
                                         (uint64_t)timeout.tv_nsec;
        }
    }
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    int signal = signal_dequeue_from(task, set, &info);
    if (signal) {
        if (state[WAIT_STATE_STARTED]) {
            task->signal_mask = state[WAIT_STATE_MASK];
            task->restore_saved_mask = false;
        }
        if (ARG(1) && task_copy_out(task, ARG(1), &info, sizeof(info)) < 0)
            return -EFAULT;
        return signal;
    }
    if (state[WAIT_STATE_STARTED] && state[WAIT_STATE_DEADLINE] && monotonic_nanoseconds() >= state[WAIT_STATE_DEADLINE]) {
        task->signal_mask = state[WAIT_STATE_MASK];
        task->restore_saved_mask = false;
        return -EAGAIN;
    }
    if (ARG(2) && state[WAIT_STATE_DEADLINE] && !state[WAIT_STATE_STARTED] &&
        monotonic_nanoseconds() >= state[WAIT_STATE_DEADLINE])
        return -EAGAIN;  /* a zero timeout polls */
    if (!state[WAIT_STATE_STARTED]) {
        /* While waiting, the awaited signals are unblocked so that they reach us (Linux does the same). */
        state[WAIT_STATE_STARTED] = 1;
        state[WAIT_STATE_MASK] = task->signal_mask;
        task->saved_signal_mask = task->signal_mask;
        task->restore_saved_mask = true;
        task->signal_mask &= ~set;
    }
    task->awaited_signals = set;
    task->interrupted_result = -EINTR;
    return task_wait_deadline(task, state[WAIT_STATE_DEADLINE]);
}

static long queue_signal_info(struct task *task, int32_t tgid, int32_t tid, int signal, uint64_t info_address)
{
    if (!valid_signal(signal))
        return -EINVAL;
    siginfo_t info;
    if (task_copy_in(task, &info, info_address, sizeof(info)) < 0)
        return -EFAULT;
    /* Only the kernel may claim kernel codes or SI_TKILL, unless sending to oneself (Linux's rule). */
    bool self = tgid == task->group->tgid;
    if ((info.si_code >= 0 || info.si_code == SI_TKILL) && !self)
        return -EPERM;
    info.si_signo = signal;
    if (tid == 0) {
        struct thread_group *group = thread_group_by_tgid(tgid);
        if (!group || group->zombie)
            return -ESRCH;
        return signal_send_to_group(group, &info);
    }
    struct task *target = task_by_tid(tid);
    if (!target || target->group->tgid != tgid)
        return -ESRCH;
    return signal_send_to_task(target, &info);
}

static SYSCALL_HANDLER(rt_sigqueueinfo)
{
    return queue_signal_info(task, (int32_t)ARG(0), 0, (int)ARG(1), ARG(2));
}

static SYSCALL_HANDLER(rt_tgsigqueueinfo)
{
    if ((int32_t)ARG(0) <= 0 || (int32_t)ARG(1) <= 0)
        return -EINVAL;
    return queue_signal_info(task, (int32_t)ARG(0), (int32_t)ARG(1), (int)ARG(2), ARG(3));
}

const struct syscall_binding syscall_bindings_signal[] = {
    {__NR_rt_sigtimedwait, sys_rt_sigtimedwait}, {__NR_rt_sigqueueinfo, sys_rt_sigqueueinfo},
    {__NR_rt_tgsigqueueinfo, sys_rt_tgsigqueueinfo},
    {__NR_rt_sigaction, sys_rt_sigaction}, {__NR_rt_sigprocmask, sys_rt_sigprocmask},
    {__NR_rt_sigreturn, sys_rt_sigreturn}, {__NR_rt_sigpending, sys_rt_sigpending},
    {__NR_rt_sigsuspend, sys_rt_sigsuspend}, {__NR_pause, sys_pause}, {__NR_sigaltstack, sys_sigaltstack},
    {__NR_kill, sys_kill}, {__NR_tgkill, sys_tgkill}, {__NR_tkill, sys_tkill}, {-1, NULL},
};
