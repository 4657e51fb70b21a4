/* sentry/signal.c: signal generation, queueing and delivery: default actions, handler frames on the
 * application stack (x86-64 rt_sigframe layout), sigreturn, alternate stacks and syscall restart. */
#include "sentry/internal.h"

#include <errno.h>
#include <sys/syscall.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#define SIGNAL_BIT(signal) (1ULL << ((signal) - 1))
#define UNBLOCKABLE (SIGNAL_BIT(SIGKILL) | SIGNAL_BIT(SIGSTOP))
#define SA_RESTORER_FLAG 0x04000000ULL
#define FXSAVE_SIZE 512
#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif
#define UC_SIGCONTEXT_SS 0x2
#define UC_STRICT_RESTORE_SS 0x4

/* The kernel's ucontext on x86-64 (its sigset_t is 8 bytes, unlike glibc's). */
struct kernel_ucontext {
    uint64_t flags;
    uint64_t link;
    stack_t stack;
    struct sigcontext machine;
    uint64_t signal_mask;
};
struct signal_frame {
    uint64_t return_address;  /* sa_restorer: the handler's "ret" lands there */
    struct kernel_ucontext context;
    siginfo_t info;
};

void signal_queue_init(struct signal_queue *queue)
{
    queue->pending = 0;
    list_init(&queue->queue);
}

void signal_queue_clear(struct signal_queue *queue)
{
    LIST_FOR_EACH_SAFE(node, next, &queue->queue) {
        list_remove(node);
        free(CONTAINER_OF(node, struct pending_signal, node));
    }
    queue->pending = 0;
}

struct signal_handlers *signal_handlers_new(void)
{
    struct signal_handlers *handlers = xcalloc(1, sizeof(*handlers));
    handlers->references = 1;
    return handlers;
}

struct signal_handlers *signal_handlers_clone(struct signal_handlers *handlers)
{
    struct signal_handlers *copy = signal_handlers_new();
    memcpy(copy->actions, handlers->actions, sizeof(copy->actions));
    return copy;
}

void signal_handlers_put(struct signal_handlers *handlers)
{
    if (--handlers->references == 0)
        free(handlers);
}

void signal_handlers_reset_on_exec(struct signal_handlers *handlers)
{
    /* Handlers point into the old image; ignored stays ignored (execve(2)). */
    for (int i = 0; i < 64; i++) {
        if (handlers->actions[i].handler > (uint64_t)SIG_IGN)
            memset(&handlers->actions[i], 0, sizeof(handlers->actions[i]));
        handlers->actions[i].flags = 0;
    }
}

enum default_action { ACTION_TERMINATE, ACTION_CORE, ACTION_IGNORE, ACTION_STOP, ACTION_CONTINUE };

static enum default_action default_action_of(int signal)
{
    switch (signal) {
    case SIGCHLD: case SIGURG: case SIGWINCH:
        return ACTION_IGNORE;
    case SIGCONT:
        return ACTION_CONTINUE;
    case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
        return ACTION_STOP;
    case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS: case SIGFPE: case SIGSEGV:
    case SIGXCPU: case SIGXFSZ: case SIGSYS:
        return ACTION_CORE;
    default:
        return ACTION_TERMINATE;
    }
}

bool signal_is_ignored(struct thread_group *group, int signal)
{
    const struct kernel_sigaction *action = &group->handlers->actions[signal - 1];
    if (action->handler == (uint64_t)SIG_IGN)
        return true;
    if (action->handler == (uint64_t)SIG_DFL) {
        enum default_action fallback = default_action_of(signal);
        return fallback == ACTION_IGNORE || fallback == ACTION_CONTINUE;
    }
    return false;
}

static void queue_signal(struct signal_queue *queue, const siginfo_t *info)
{
    int signal = info->si_signo;
    /* Standard signals coalesce; real-time signals queue every instance. */
    if (signal < SIGRTMIN && (queue->pending & SIGNAL_BIT(signal)))
        return;
    struct pending_signal *pending = xcalloc(1, sizeof(*pending));
    pending->info = *info;
    list_insert_tail(&queue->queue, &pending->node);
    queue->pending |= SIGNAL_BIT(signal);
    vfs_signalfd_notify(signal);
}

static bool dequeue_signal(struct signal_queue *queue, int signal, siginfo_t *info)
{
    bool found = false, more = false;
    LIST_FOR_EACH_SAFE(node, next, &queue->queue) {
        struct pending_signal *pending = CONTAINER_OF(node, struct pending_signal, node);
        if (pending->info.si_signo != signal)
            continue;
        if (found) {
            more = true;
            break;
        }
        *info = pending->info;
        list_remove(node);
        free(pending);
        found = true;
    }
    if (!more)
        queue->pending &= ~SIGNAL_BIT(signal);
    return found;
}

static bool task_can_take(struct task *task, int signal)
{
    return task->state != TASK_STATE_DEAD && !(task->signal_mask & SIGNAL_BIT(signal));
}

/* Like any pid namespace's init, pid 1 never gets a signal it has no handler for, not even SIGKILL, when
 * it comes from inside the sandbox (the kernel's SIGNAL_UNKILLABLE); faults are forced separately. A blocked
 * signal is queued all the same (Linux never ignores a blocked signal: sigwait may take it), and dropped
 * at delivery if it is still without a handler. */
static bool init_protected(struct thread_group *group, int signal)
{
    return group->tgid == 1 && group->handlers->actions[signal - 1].handler == (uint64_t)SIG_DFL;
}

static bool init_protected_now(struct thread_group *group, int signal, const struct task *target)
{
    /* A signal awaited by rt_sigtimedwait counts as blocked (Linux's real_blocked). */
    return init_protected(group, signal) &&
           !(target && ((target->signal_mask | target->awaited_signals) & SIGNAL_BIT(signal)));
}

/* ---- job control ---- */

#define STOP_SIGNALS (SIGNAL_BIT(SIGSTOP) | SIGNAL_BIT(SIGTSTP) | SIGNAL_BIT(SIGTTIN) | SIGNAL_BIT(SIGTTOU))

static void discard_pending(struct signal_queue *queue, uint64_t set)
{
    for (int signal = 1; signal <= 64; signal++) {
        siginfo_t discarded;
        if (set & queue->pending & SIGNAL_BIT(signal))
            while (dequeue_signal(queue, signal, &discarded))
                ;
    }
}

static void discard_pending_in_group(struct thread_group *group, uint64_t set)
{
    discard_pending(&group->signals, set);
    LIST_FOR_EACH(node, &group->threads)
        discard_pending(&CONTAINER_OF(node, struct task, group_node)->signals, set);
}

/* The parent learns of a stop or a continue by SIGCHLD (unless it asked not to, SA_NOCLDSTOP) and wait. */
static void notify_parent_of_job_change(struct thread_group *group, int code, int status)
{
    struct thread_group *parent = group->parent;
    if (!parent || parent->zombie)
        return;
    if (!(parent->handlers->actions[SIGCHLD - 1].flags & SA_NOCLDSTOP)) {
        siginfo_t info = {.si_signo = SIGCHLD, .si_code = code};
        info.si_pid = group->tgid;
        info.si_uid = 0;
        info.si_status = status;
        signal_send_to_group(parent, &info);
    }
    wait_queue_notify(&parent->child_exit, POLLIN);
}

static void group_continue(struct thread_group *group)
{
    group->stopped = false;
    group->stop_unreported = false;
    group->continue_unreported = true;
    LIST_FOR_EACH(node, &group->threads) {
        struct task *task = CONTAINER_OF(node, struct task, group_node);
        if (task->parked) {
            task->parked = false;
            loop_make_runnable(task);
        }
    }
    group->continue_to_notify = true;
    if (group->parent)
        wait_queue_notify(&group->parent->child_exit, POLLIN); /* wait(WCONTINUED) can report it now */
}

static void group_stop(struct thread_group *group, struct task *stopping, int signal)
{
    group->stopped = true;
    group->continue_to_notify = false;
    group->stop_signal = signal;
    group->stop_unreported = true;
    group->continue_unreported = false;
    /* The others come back to the Sentry, find the group stopped, and park too. */
    LIST_FOR_EACH(node, &group->threads) {
        struct task *task = CONTAINER_OF(node, struct task, group_node);
        if (task != stopping)
            task_interrupt(task);
    }
    notify_parent_of_job_change(group, CLD_STOPPED, signal);
}

/* Linux's prepare_signal: sending SIGCONT continues a stopped group and discards pending stop signals, and
 * sending a stop signal discards a pending SIGCONT, whether or not the signal itself is then blocked,
 * handled or ignored. */
static void job_control_on_send(struct thread_group *group, int signal)
{
    if (signal == SIGCONT) {
        discard_pending_in_group(group, STOP_SIGNALS);
        if (group->stopped)
            group_continue(group);
    } else if (STOP_SIGNALS & SIGNAL_BIT(signal)) {
        discard_pending_in_group(group, SIGNAL_BIT(SIGCONT));
    }
}

/* A process group is orphaned when no member has a parent in another group of the same session: the
 * terminal's stop signals (SIGTSTP, SIGTTIN, SIGTTOU) would stop it for good, so they are discarded. */
static bool process_group_orphaned(int32_t process_group)
{
    int32_t pids[4096];
    size_t count = task_list_groups(pids, ARRAY_SIZE(pids));
    for (size_t i = 0; i < count; i++) {
        struct thread_group *member = thread_group_by_tgid(pids[i]);
        if (!member || member->zombie || member->process_group != process_group)
            continue;
        struct thread_group *parent = member->parent;
        if (parent && parent->process_group != process_group && parent->session == member->session)
            return false;
    }
    return true;
}

int signal_send_to_task(struct task *task, const siginfo_t *info)
{
    int signal = info->si_signo;
    if (signal < 1 || signal > 64)
        return -EINVAL;
    struct thread_group *group = task->group;
    if (group->exiting || group->zombie || init_protected_now(group, signal, task))
        return 0;
    job_control_on_send(group, signal);
    if (signal == SIGKILL) {
        thread_group_exit(group, SIGKILL);
        return 0;
    }
    if (signal_is_ignored(group, signal) && !(task->signal_mask & SIGNAL_BIT(signal)))
        return 0;
    queue_signal(&task->signals, info);
    if (task_can_take(task, signal))
        task_interrupt(task);
    return 0;
}

int signal_send_to_group(struct thread_group *group, const siginfo_t *info)
{
    int signal = info->si_signo;
    if (signal < 1 || signal > 64)
        return -EINVAL;
    if (group->exiting || group->zombie || init_protected_now(group, signal, thread_group_leader(group)))
        return 0;
    job_control_on_send(group, signal);
    if (signal == SIGKILL) {
        thread_group_exit(group, SIGKILL);
        return 0;
    }
    if (signal_is_ignored(group, signal)) {
        bool blocked_everywhere = true;
        LIST_FOR_EACH(node, &group->threads) {
            struct task *task = CONTAINER_OF(node, struct task, group_node);
            if (!(task->signal_mask & SIGNAL_BIT(signal)))
                blocked_everywhere = false;
        }
        if (!blocked_everywhere)
            return 0;
    }
    queue_signal(&group->signals, info);
    LIST_FOR_EACH(node, &group->threads) {
        struct task *task = CONTAINER_OF(node, struct task, group_node);
        if (task_can_take(task, signal)) {
            task_interrupt(task);
            break;
        }
    }
    return 0;
}

void task_send_signal(struct task *task, int signal)
{
    siginfo_t info = {.si_signo = signal, .si_code = SI_KERNEL};
    signal_send_to_task(task, &info);
}

static int next_deliverable(struct task *task, uint64_t *from_group)
{
    uint64_t mask = ~task->signal_mask | UNBLOCKABLE;
    uint64_t own = task->signals.pending & mask, shared = task->group->signals.pending & mask;
    /* Synchronous faults (queued on the thread) go first, then the lowest number. */
    uint64_t candidates = own ? own : shared;
    if (!candidates)
        return 0;
    *from_group = own ? 0 : 1;
    return __builtin_ctzll(candidates) + 1;
}

bool signal_awaited(struct task *task)
{
    return ((task->signals.pending | task->group->signals.pending) & task->awaited_signals) != 0;
}

int signal_dequeue_from(struct task *task, uint64_t set, siginfo_t *info)
{
    uint64_t own = task->signals.pending & set, shared = task->group->signals.pending & set;
    if (!own && !shared)
        return 0;
    int signal = __builtin_ctzll(own ? own : shared) + 1;
    return dequeue_signal(own ? &task->signals : &task->group->signals, signal, info) ? signal : 0;
}

/* signalfd reads and polls: the thread running the syscall, as Linux's current. */
static bool signalfd_dequeue(uint64_t mask, void *siginfo)
{
    struct task *task = task_current();
    return task && signal_dequeue_from(task, mask, siginfo) != 0;
}

static bool signalfd_pending(uint64_t mask)
{
    struct task *task = task_current();
    return task && ((task->signals.pending | task->group->signals.pending) & mask) != 0;
}

const struct vfs_signalfd_source signal_signalfd_source = {.dequeue = signalfd_dequeue, .pending = signalfd_pending};

bool signal_pending_for(struct task *task)
{
    uint64_t from_group;
    return next_deliverable(task, &from_group) != 0;
}

/* An interrupted syscall either restarts (the app re-executes the syscall instruction) or fails with EINTR. */
static void settle_interrupted_syscall(struct task *task, const struct kernel_sigaction *action, bool handler_runs)
{
    struct user_regs_struct *registers = &task->registers.general;
    long result = (long)registers->rax;
    bool restart;
    switch (result) {
    case -SENTRY_ERESTARTNOHAND:
    case -SENTRY_ERESTART_RESTARTBLOCK:
        restart = !handler_runs;
        break;
    case -SENTRY_ERESTARTSYS:
        restart = !handler_runs || (action && (action->flags & SA_RESTART));
        break;
    case -SENTRY_ERESTARTNOINTR:
        restart = true;
        break;
    default:
        return;
    }
    if (restart) {
        registers->rax = result == -SENTRY_ERESTART_RESTARTBLOCK ? (uint64_t)__NR_restart_syscall : registers->orig_rax;
        registers->rip -= 2;
    } else {
        registers->rax = (uint64_t)-EINTR;
    }
    task->registers_dirty = true;
}

static bool on_alternate_stack(const struct task *task, uint64_t stack_pointer)
{
    const stack_t *alternate = &task->alternate_stack;
    return !(alternate->ss_flags & SS_DISABLE) && alternate->ss_size &&
           stack_pointer - (uint64_t)alternate->ss_sp < alternate->ss_size;
}

static int setup_frame(struct task *task, int signal, const siginfo_t *info, const struct kernel_sigaction *action)
{
    struct user_regs_struct *registers = &task->registers.general;
    uint64_t stack_pointer = registers->rsp;
    if ((action->flags & SA_ONSTACK) && !(task->alternate_stack.ss_flags & SS_DISABLE) &&
        task->alternate_stack.ss_size && !on_alternate_stack(task, stack_pointer))
        stack_pointer = (uint64_t)task->alternate_stack.ss_sp + task->alternate_stack.ss_size;
    else
        stack_pointer -= 128;  /* the red zone belongs to the interrupted code */
    uint64_t floating_point_address = (stack_pointer - FXSAVE_SIZE) & ~63ULL;
    uint64_t frame_address = ((floating_point_address - sizeof(struct signal_frame)) & ~15ULL) - 8;

    if (!(action->flags & SA_RESTORER_FLAG))
        return -EFAULT;
    struct signal_frame frame;
    memset(&frame, 0, sizeof(frame));
    frame.return_address = action->restorer;
    frame.context.flags = UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
    frame.context.stack.ss_sp = task->alternate_stack.ss_sp;
    frame.context.stack.ss_size = task->alternate_stack.ss_size;
    frame.context.stack.ss_flags = on_alternate_stack(task, registers->rsp) ? SS_ONSTACK
                                                                             : task->alternate_stack.ss_flags;
    struct sigcontext *machine = &frame.context.machine;
    machine->r8 = registers->r8;
    machine->r9 = registers->r9;
    machine->r10 = registers->r10;
    machine->r11 = registers->r11;
    machine->r12 = registers->r12;
    machine->r13 = registers->r13;
    machine->r14 = registers->r14;
    machine->r15 = registers->r15;
    machine->rdi = registers->rdi;
    machine->rsi = registers->rsi;
    machine->rbp = registers->rbp;
    machine->rbx = registers->rbx;
    machine->rdx = registers->rdx;
    machine->rax = registers->rax;
    machine->rcx = registers->rcx;
    machine->rsp = registers->rsp;
    machine->rip = registers->rip;
    machine->eflags = registers->eflags;
    machine->cs = (unsigned short)registers->cs;
    machine->__pad0 = (unsigned short)registers->ss;
    machine->trapno = info->si_signo == SIGSEGV ? 14 : 0;
    machine->oldmask = task->signal_mask;
    machine->fpstate = (struct _fpstate *)floating_point_address;
    frame.context.signal_mask = task->restore_saved_mask ? task->saved_signal_mask : task->signal_mask;
    frame.info = *info;
    task_load_floating_point(task);
    if (task->registers.floating_point_valid &&
        task_copy_out(task, floating_point_address, &task->registers.floating_point, FXSAVE_SIZE) < 0)
        return -EFAULT;
    if (!task->registers.floating_point_valid)
        machine->fpstate = NULL;
    if (task_copy_out(task, frame_address, &frame, sizeof(frame)) < 0)
        return -EFAULT;

    registers->rsp = frame_address;
    registers->rip = action->handler;
    registers->rdi = (uint64_t)signal;
    registers->rsi = frame_address + offsetof(struct signal_frame, info);
    registers->rdx = frame_address + offsetof(struct signal_frame, context);
    registers->rax = 0;
    registers->eflags &= ~(0x400ULL | 0x100ULL);  /* DF and TF clear on entry, as the ABI requires */
    task->registers_dirty = true;
    task->restore_saved_mask = false;
    task->signal_mask |= action->mask;
    if (!(action->flags & SA_NODEFER))
        task->signal_mask |= SIGNAL_BIT(signal);
    task->signal_mask &= ~UNBLOCKABLE;
    if (action->flags & SA_RESETHAND) {
        struct kernel_sigaction *reset = &task->group->handlers->actions[signal - 1];
        memset(reset, 0, sizeof(*reset));
    }
    return 0;
}

void signal_deliver_pending(struct task *task)
{
    if (task->group->continue_to_notify) {
        task->group->continue_to_notify = false;
        notify_parent_of_job_change(task->group, CLD_CONTINUED, SIGCONT);
    }
    for (;;) {
        uint64_t from_group;
        int signal = next_deliverable(task, &from_group);
        if (signal == 0)
            break;
        siginfo_t info;
        if (!dequeue_signal(from_group ? &task->group->signals : &task->signals, signal, &info))
            break;
        struct kernel_sigaction action = task->group->handlers->actions[signal - 1];
        if (action.handler == (uint64_t)SIG_IGN)
            continue;
        if (action.handler == (uint64_t)SIG_DFL) {
            bool forced = task->forced_signals & SIGNAL_BIT(signal);
            task->forced_signals &= ~SIGNAL_BIT(signal);
            if (init_protected(task->group, signal) && signal != SIGKILL && !forced)
                continue;  /* queued while blocked, but init takes no default action unless forced (a fault) */
            switch (default_action_of(signal)) {
            case ACTION_IGNORE:
            case ACTION_CONTINUE:
                continue;
            case ACTION_STOP:
                if (signal != SIGSTOP && process_group_orphaned(task->group->process_group))
                    continue;
                group_stop(task->group, task, signal);
                return;
            case ACTION_CORE:
                thread_group_exit(task->group, signal | 0x80);
                return;
            case ACTION_TERMINATE:
                thread_group_exit(task->group, signal);
                return;
            }
        }
        settle_interrupted_syscall(task, &action, true);
        if (setup_frame(task, signal, &info, &action) < 0) {
            /* No room for the frame: Linux forces SIGSEGV, fatal. */
            thread_group_exit(task->group, SIGSEGV | 0x80);
        }
        return;
    }
    settle_interrupted_syscall(task, NULL, false);
    if (task->restore_saved_mask) {
        task->signal_mask = task->saved_signal_mask;
        task->restore_saved_mask = false;
    }
}

void signal_fault(struct task *task, const siginfo_t *fault)
{
    int signal = fault->si_signo;
    struct kernel_sigaction *action = &task->group->handlers->actions[signal - 1];
    /* A fault cannot be blocked or ignored: Linux resets it to the default (force_sig_info). */
    if ((task->signal_mask & SIGNAL_BIT(signal)) || action->handler == (uint64_t)SIG_IGN) {
        memset(action, 0, sizeof(*action));
        task->signal_mask &= ~SIGNAL_BIT(signal);
    }
    task->forced_signals |= SIGNAL_BIT(signal);
    queue_signal(&task->signals, fault);
}

long signal_return(struct task *task)
{
    struct user_regs_struct *registers = &task->registers.general;
    task->sleep_restart_armed = false; /* Linux: restart_block.fn = do_no_restart_syscall */
    uint64_t frame_address = registers->rsp - 8;
    struct signal_frame frame;
    if (task_copy_in(task, &frame, frame_address, sizeof(frame)) < 0) {
        thread_group_exit(task->group, SIGSEGV | 0x80);
        return -SENTRY_EJUSTRETURN;
    }
    const struct sigcontext *machine = &frame.context.machine;
    registers->r8 = machine->r8;
    registers->r9 = machine->r9;
    registers->r10 = machine->r10;
    registers->r11 = machine->r11;
    registers->r12 = machine->r12;
    registers->r13 = machine->r13;
    registers->r14 = machine->r14;
    registers->r15 = machine->r15;
    registers->rdi = machine->rdi;
    registers->rsi = machine->rsi;
    registers->rbp = machine->rbp;
    registers->rbx = machine->rbx;
    registers->rdx = machine->rdx;
    registers->rax = machine->rax;
    registers->rcx = machine->rcx;
    registers->rsp = machine->rsp;
    registers->rip = machine->rip;
    /* Only the flags an application may change (AC, OF, DF, TF, SF, ZF, AF, PF, CF, RF, NT). */
    const uint64_t user_flags = 0x40000 | 0x800 | 0x400 | 0x100 | 0x80 | 0x40 | 0x10 | 0x4 | 0x1 | 0x10000 | 0x4000;
    registers->eflags = (registers->eflags & ~user_flags) | (machine->eflags & user_flags);
    registers->orig_rax = (uint64_t)-1;  /* no syscall to restart any more */
    if (machine->fpstate) {
        if (task_copy_in(task, &task->registers.floating_point, (uint64_t)machine->fpstate, FXSAVE_SIZE) < 0) {
            thread_group_exit(task->group, SIGSEGV | 0x80);
            return -SENTRY_EJUSTRETURN;
        }
        task->registers.floating_point.mxcsr &= 0xffff;  /* reserved MXCSR bits would fault the restore */
        task->registers.floating_point_valid = true;
    }
    task->signal_mask = frame.context.signal_mask & ~UNBLOCKABLE;
    if (!(frame.context.stack.ss_flags & SS_ONSTACK)) {
        /* sigaltstack settings restored as sigreturn does (errors ignored, as Linux). */
        if (!(frame.context.stack.ss_flags & ~(SS_DISABLE | SS_AUTODISARM)))
            task->alternate_stack = frame.context.stack;
    }
    task->registers_dirty = true;
    return -SENTRY_EJUSTRETURN;
}
