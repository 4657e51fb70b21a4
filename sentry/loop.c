/* sentry/loop.c: the scheduler: one event loop runs every task: it collects stub stops from the platform,
 * dispatches syscalls, parks tasks that must wait, wakes them on events, timers and signals, and resumes them. */
#include "sentry/internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "syscalls/syscalls.h"

bool sentry_strace;
static struct list_node run_queue = {&run_queue, &run_queue};
static struct task *running_task;
static int forwarded_signal_fd = -1;

struct task *task_current(void) { return running_task; }

void loop_make_runnable(struct task *task)
{
    if (task->state == TASK_STATE_DEAD || task->state == TASK_STATE_RUNNABLE)
        return;
    task->state = TASK_STATE_RUNNABLE;
    list_insert_tail(&run_queue, &task->run_node);
}

void task_cancel_waits(struct task *task)
{
    for (int i = 0; i < task->waiter_count; i++) {
        waiter_remove(&task->waits[i].waiter);
        if (task->waits[i].file)
            vfs_file_put(task->waits[i].file);
        task->waits[i].file = NULL;
    }
    task->waiter_count = 0;
    task->wait_deadline = 0;
}

int task_reserve_waits(struct task *task, int count)
{
    if (count <= task->waiter_capacity)
        return 0;
    if (task->waiter_count > 0)
        return -EINVAL;  /* queued waiters cannot move */
    struct task_wait *grown = realloc(task->waits, (size_t)count * sizeof(*grown));
    if (!grown)
        return -ENOMEM;
    task->waits = grown;
    task->waiter_capacity = count;
    return 0;
}

/* Called from inside wait_queue_notify: the waits are cancelled when the task runs again, never here, since
 * dropping a file reference now could free the very queue being notified. */
void task_wake(struct task *task)
{
    task->woken = true;
    if (task->state == TASK_STATE_BLOCKED)
        loop_make_runnable(task);
}

static void waiter_wakes_task(struct waiter *waiter, uint32_t events)
{
    (void)events;
    task_wake(waiter->owner);
}

static struct waiter *task_next_waiter(struct task *task)
{
    if (task->waiter_count >= task->waiter_capacity &&
        (task->waiter_count > 0 || task_reserve_waits(task, 4) < 0))
        return NULL;
    struct task_wait *wait = &task->waits[task->waiter_count];
    memset(wait, 0, sizeof(*wait));
    list_init(&wait->waiter.node);
    wait->waiter.wake = waiter_wakes_task;
    wait->waiter.owner = task;
    return &wait->waiter;
}

long task_wait_file(struct task *task, struct vfs_file *file, uint32_t events)
{
    struct waiter *waiter = task_next_waiter(task);
    if (!waiter)
        return -EINVAL;
    waiter->events = events | POLLHUP | POLLERR;
    uint32_t ready = vfs_poll(file, waiter);
    vfs_file_get(file);
    task->waits[task->waiter_count++].file = file;
    task->blocking = true;
    if (ready & waiter->events)
        task->woken = true;  /* ready meanwhile: run again at once */
    return -SENTRY_ERESTARTSYS;
}

long task_wait_queue(struct task *task, struct wait_queue *queue, uint32_t events)
{
    struct waiter *waiter = task_next_waiter(task);
    if (!waiter)
        return -EINVAL;
    waiter->events = events;
    wait_queue_add(queue, waiter);
    task->waiter_count++;
    task->blocking = true;
    return -SENTRY_ERESTARTSYS;
}

long task_wait_deadline(struct task *task, uint64_t deadline_ns)
{
    task->wait_deadline = deadline_ns;
    task->blocking = true;
    return -SENTRY_ERESTARTSYS;
}

uint64_t *task_syscall_restart_state(struct task *task) { return task->restart_state; }
bool task_syscall_is_restarted(const struct task *task) { return task->syscall_restarted; }

void task_interrupt(struct task *task)
{
    if (task->state == TASK_STATE_BLOCKED) {
        loop_make_runnable(task);
    } else if (task->state == TASK_STATE_RUNNING) {
        sentry_platform->interrupt(task->context);
    }
}

static void strace_line(struct task *task, long result, bool entering)
{
    struct text_buffer line = {0};
    text_buffer_append(&line, "[%4d] ", task->tid);
    if (entering)
        syscall_trace_enter(task, &task->syscall, &line);
    else
        syscall_trace_exit(task, &task->syscall, result, &line);
    log_message(LOG_LEVEL_ERROR, "%s", line.data);
    text_buffer_free(&line);
}

void task_load_floating_point(struct task *task)
{
    if (task->registers.floating_point_valid || !sentry_platform->get_floating_point)
        return;
    if (sentry_platform->get_floating_point(task->context, &task->registers.floating_point) == 0)
        task->registers.floating_point_valid = true;
}

void task_finish_syscall(struct task *task, long result)
{
    task->in_syscall = false;
    task->syscall_restarted = false;
    if (result != -SENTRY_EJUSTRETURN) {
        task->registers.general.rax = (uint64_t)result;
        task->registers_dirty = true;
    }
    if (sentry_strace && result != -SENTRY_EJUSTRETURN)
        strace_line(task, result, false);
    loop_make_runnable(task);
}

static void execute_syscall(struct task *task)
{
    task_cancel_waits(task);  /* a re-run after a wake-up starts from no waits at all */
    long interrupted = task->interrupted_result ? task->interrupted_result : -SENTRY_ERESTARTSYS;
    if (task->syscall_restarted && signal_pending_for(task) && !signal_awaited(task)) {
        /* Interrupted while waiting: the signal's delivery decides between -EINTR and a restart. */
        task_finish_syscall(task, interrupted);
        return;
    }
    running_task = task;
    /* Mapping changes this syscall makes go through the caller's own host thread: it is stopped. */
    if (sentry_platform->address_space_use_thread && task->group->mm)
        sentry_platform->address_space_use_thread(task->group->mm->space, task->context);
    task->woken = false;
    task->blocking = false;
    long result = syscall_dispatch(task, &task->syscall);
    running_task = NULL;
    if (task->state == TASK_STATE_DEAD || task->group->exiting)
        return;
    if (result == -SENTRY_ERESTARTSYS && task->blocking) {
        task->blocking = false;
        if (signal_pending_for(task) && !signal_awaited(task)) {
            task_cancel_waits(task);
            task_finish_syscall(task, task->interrupted_result ? task->interrupted_result : -SENTRY_ERESTARTSYS);
        } else if (task->woken) {
            task_cancel_waits(task);
            task->syscall_restarted = true;
            loop_make_runnable(task);
        } else {
            task->syscall_restarted = true;
            task->state = TASK_STATE_BLOCKED;
        }
        return;
    }
    task_finish_syscall(task, result);
}

static void handle_syscall_stop(struct task *task)
{
    struct user_regs_struct *registers = &task->registers.general;
    task->syscall.number = registers->orig_rax;
    task->syscall.arg[0] = registers->rdi;
    task->syscall.arg[1] = registers->rsi;
    task->syscall.arg[2] = registers->rdx;
    task->syscall.arg[3] = registers->r10;
    task->syscall.arg[4] = registers->r8;
    task->syscall.arg[5] = registers->r9;
    task->in_syscall = true;
    task->syscall_restarted = false;
    task->interrupted_result = 0;
    task->awaited_signals = 0;
    memset(task->restart_state, 0, sizeof(task->restart_state));
    if (sentry_strace)
        strace_line(task, 0, true);
    execute_syscall(task);
}

static void handle_stop(struct task *task, const struct platform_stop *stop)
{
    if (stop->kind == PLATFORM_STOP_EXITED) {
        /* Killed from outside the Sentry: the whole process goes, as with SIGKILL. */
        if (task->state != TASK_STATE_DEAD)
            thread_group_exit(task->group, SIGKILL);
        return;
    }
    task->state = TASK_STATE_STOPPED;
    int error = sentry_platform->get_registers(task->context, &task->registers);
    if (error < 0) {
        log_error("cannot read registers of task %d: %s", task->tid, strerror(-error));
        thread_group_exit(task->group, SIGKILL);
        return;
    }
    task->registers_dirty = false;
    struct mm *mm = task->group->mm;
    struct user_regs_struct *registers = &task->registers.general;
    switch (stop->kind) {
    case PLATFORM_STOP_SYSCALL:
        if (stop->patchable && sentry_platform->fast_syscalls && mm)
            syscall_patch_count_hit(mm, registers);
        handle_syscall_stop(task);
        break;
    case PLATFORM_STOP_FAULT:
        enum syscall_patch_fault patch_fault = stop->fault.si_signo == SIGILL && mm
                                                   ? syscall_patch_classify_fault(mm, registers->rip)
                                                   : SYSCALL_PATCH_FAULT_NONE;
        if (patch_fault == SYSCALL_PATCH_FAULT_RETRY) {
            loop_make_runnable(task);
            break;
        }
        if (patch_fault == SYSCALL_PATCH_FAULT_SYSCALL) {
            /* As if the syscall instruction that was there had run: it leaves rcx and r11 as it does. */
            registers->orig_rax = registers->rax;
            registers->rax = (uint64_t)-ENOSYS;
            registers->rip += 2;
            registers->rcx = registers->rip;
            registers->r11 = registers->eflags;
            task->registers_dirty = true;
            handle_syscall_stop(task);
            break;
        }
        signal_fault(task, &stop->fault);
        loop_make_runnable(task);
        break;
    default:
        loop_make_runnable(task);
        break;
    }
}

/* Return to application code: deliver a signal first if one is due. */
static void resume_task(struct task *task)
{
    if (task->in_syscall) {
        execute_syscall(task);
        return;
    }
    signal_deliver_pending(task);
    if (task->state == TASK_STATE_DEAD || task->group->exiting)
        return;
    if (task->group->stopped) {
        /* Job control: held here, off the run queue, until SIGCONT (or SIGKILL) */
        task->parked = true;
        task->state = TASK_STATE_STOPPED;
        return;
    }
    if (task->registers_dirty) {
        int error = sentry_platform->set_registers(task->context, &task->registers);
        if (error < 0) {
            log_error("cannot set registers of task %d: %s", task->tid, strerror(-error));
            thread_group_exit(task->group, SIGKILL);
            return;
        }
        task->registers_dirty = false;
    }
    task->state = TASK_STATE_RUNNING;
    int error = sentry_platform->resume(task->context);
    if (error < 0) {
        log_error("cannot resume task %d: %s", task->tid, strerror(-error));
        thread_group_exit(task->group, SIGKILL);
    }
}

static uint64_t earliest_deadline(void);
static void expire_deadlines(uint64_t now);

void loop_set_forwarded_signal_fd(int fd) { forwarded_signal_fd = fd; }

/* Host fds (the sandbox's stdio) that a waiting task needs: polled with the platform's fd, one-shot. */
#define HOST_WATCH_MAXIMUM 64
struct host_watch {
    int fd;
    uint32_t events;
    struct wait_queue *queue;
};
static struct host_watch host_watches[HOST_WATCH_MAXIMUM];
static size_t host_watch_count;

static void watch_host_fd(int fd, uint32_t events, struct wait_queue *queue)
{
    if (events == 0) {
        /* The file is going away with its queue: forget every watch of it. */
        size_t kept = 0;
        for (size_t i = 0; i < host_watch_count; i++)
            if (!(host_watches[i].fd == fd && host_watches[i].queue == queue))
                host_watches[kept++] = host_watches[i];
        host_watch_count = kept;
        return;
    }
    for (size_t i = 0; i < host_watch_count; i++) {
        if (host_watches[i].fd == fd && host_watches[i].queue == queue) {
            host_watches[i].events |= events;
            return;
        }
    }
    if (host_watch_count == HOST_WATCH_MAXIMUM) {
        log_warning("too many host fds watched at once; fd %d is polled late", fd);
        return;
    }
    host_watches[host_watch_count++] = (struct host_watch){fd, events, queue};
}

/* Timers of file objects (timerfd): at its deadline a queue is notified with POLLIN. One per queue. */
struct file_timer {
    struct wait_queue *queue;
    uint64_t deadline;
};
static struct file_timer *file_timers;
static size_t file_timer_count, file_timer_capacity;

void loop_arm_timer(struct wait_queue *queue, uint64_t deadline_ns)
{
    for (size_t i = 0; i < file_timer_count; i++) {
        if (file_timers[i].queue == queue) {
            if (deadline_ns)
                file_timers[i].deadline = deadline_ns;
            else
                file_timers[i] = file_timers[--file_timer_count];
            return;
        }
    }
    if (!deadline_ns)
        return;
    if (file_timer_count == file_timer_capacity) {
        file_timer_capacity = file_timer_capacity ? file_timer_capacity * 2 : 8;
        struct file_timer *grown = realloc(file_timers, file_timer_capacity * sizeof(*grown));
        if (!grown)
            abort();
        file_timers = grown;
    }
    file_timers[file_timer_count++] = (struct file_timer){queue, deadline_ns};
}

static uint64_t earliest_file_timer(void)
{
    uint64_t earliest = 0;
    for (size_t i = 0; i < file_timer_count; i++)
        if (earliest == 0 || file_timers[i].deadline < earliest)
            earliest = file_timers[i].deadline;
    return earliest;
}

static void expire_file_timers(uint64_t now)
{
    /* Disarm first: the notified file re-arms itself for its next expiry (interval timers). */
    for (size_t i = 0; i < file_timer_count;) {
        if (file_timers[i].deadline <= now) {
            struct wait_queue *queue = file_timers[i].queue;
            file_timers[i] = file_timers[--file_timer_count];
            wait_queue_notify(queue, POLLIN);
            i = 0;
            continue;
        }
        i++;
    }
}

void loop_initialize(void)
{
    vfs_set_host_fd_watcher(watch_host_fd);
    vfs_set_timer_hook(loop_arm_timer);
}

/* Rounds the loop may skip poll while the platform keeps finding stops by spinning. */
#define POLLS_SKIPPED_MAXIMUM 128

/* Reaped groups are freed between steps, never under a handler that may still hold one of their tasks. */
static struct thread_group **released_groups;
static size_t released_count, released_capacity;

void loop_defer_release(struct thread_group *group)
{
    if (released_count == released_capacity) {
        released_capacity = released_capacity ? released_capacity * 2 : 16;
        struct thread_group **grown = realloc(released_groups, released_capacity * sizeof(*grown));
        if (!grown)
            abort();
        released_groups = grown;
    }
    released_groups[released_count++] = group;
}

static void release_deferred_groups(void)
{
    for (size_t i = 0; i < released_count; i++)
        thread_group_release(released_groups[i]);
    released_count = 0;
}

static void forward_host_signals(void)
{
    struct signalfd_siginfo info;
    while (read(forwarded_signal_fd, &info, sizeof(info)) == sizeof(info)) {
        struct thread_group *init = thread_group_by_tgid(1);
        if (!init || init->zombie)
            continue;
        siginfo_t forwarded = {.si_signo = (int)info.ssi_signo, .si_code = SI_USER};
        signal_send_to_group(init, &forwarded);
    }
}

/* Sleep in poll until a stub stops, a host fd a task waits on is ready, a host signal arrives, or timeout
 * (ms; 0: just look); then act on the fds. Negative: poll failed. */
static int poll_events(int timeout)
{
    struct pollfd fds[2 + HOST_WATCH_MAXIMUM + CONTROL_POLL_MAXIMUM] = {
        {.fd = sentry_platform->event_fd(), .events = POLLIN}, {.fd = forwarded_signal_fd, .events = POLLIN}};
    size_t watched = host_watch_count;
    for (size_t i = 0; i < watched; i++)
        fds[2 + i] = (struct pollfd){.fd = host_watches[i].fd, .events = (short)host_watches[i].events};
    size_t controls = control_poll_fds(&fds[2 + watched], CONTROL_POLL_MAXIMUM);
    int ready = poll(fds, 2 + watched + controls, timeout);
    if (ready < 0 && errno != EINTR) {
        log_error("event loop: poll failed: %s", strerror(errno));
        return -errno;
    }
    if (forwarded_signal_fd >= 0 && (fds[1].revents & POLLIN))
        forward_host_signals();
    if (ready > 0 && watched) {
        /* Fire and forget: a task that still has to wait registers again. */
        struct host_watch fired[HOST_WATCH_MAXIMUM];
        size_t fired_count = 0, kept = 0;
        for (size_t i = 0; i < watched; i++) {
            if (fds[2 + i].revents)
                fired[fired_count++] = (struct host_watch){host_watches[i].fd, (uint32_t)fds[2 + i].revents,
                                                           host_watches[i].queue};
            else
                host_watches[kept++] = host_watches[i];
        }
        for (size_t i = watched; i < host_watch_count; i++)
            host_watches[kept++] = host_watches[i];
        host_watch_count = kept;
        for (size_t i = 0; i < fired_count; i++)
            wait_queue_notify(fired[i].queue, fired[i].events);
    }
    if (ready > 0 && controls)
        control_handle_events(&fds[2 + watched], controls);
    return 0;
}

int loop_run(struct task *first)
{
    unsigned polls_skipped = 0;
    struct thread_group *init = first->group;
    loop_make_runnable(first);
    for (;;) {
        while (!list_empty(&run_queue)) {
            struct task *task = CONTAINER_OF(run_queue.next, struct task, run_node);
            list_remove(&task->run_node);
            if (task->state != TASK_STATE_RUNNABLE)
                continue;
            task->state = TASK_STATE_STOPPED;  /* off the queue: its step may queue it again */
            resume_task(task);
            release_deferred_groups();
        }
        if (init->zombie)
            return init->wait_status;
        uint64_t deadline = earliest_deadline(), timer = earliest_file_timer();
        if (timer && (!deadline || timer < deadline))
            deadline = timer;
        int timeout = -1;
        if (deadline) {
            uint64_t now = monotonic_nanoseconds();
            timeout = deadline <= now ? 0 : (int)MIN((deadline - now + 999999) / 1000000, 60000ULL);
        }
        /* A fast platform's stubs answer within microseconds: it spins (bounded) before we pay for a sleep and
         * a wake-up in poll; poll, without sleeping, every few rounds anyway for host fds and signals. */
        bool stop_ready = timeout != 0 && sentry_platform->spin_for_stop && sentry_platform->spin_for_stop() > 0;
        if (!stop_ready || ++polls_skipped >= POLLS_SKIPPED_MAXIMUM) {
            polls_skipped = 0;
            int error = poll_events(stop_ready ? 0 : timeout);
            if (error < 0)
                return error;
        }
        for (;;) {
            struct platform_context *context;
            struct platform_stop stop;
            int got = sentry_platform->collect_stop(&context, &stop);
            if (got <= 0) {
                if (got < 0)
                    log_error("event loop: collecting stops failed: %s", strerror(-got));
                break;
            }
            struct task *task = sentry_platform->context_user(context);
            if (task && task->state != TASK_STATE_DEAD)
                handle_stop(task, &stop);
        }
        uint64_t now = monotonic_nanoseconds();
        expire_file_timers(now);
        expire_deadlines(now);
    }
}

/* Deadlines: few tasks sleep at once in a sandbox, so a scan of the blocked ones is cheap enough. */
static struct list_node *task_list(void);
static uint64_t earliest_deadline(void)
{
    uint64_t earliest = 0;
    LIST_FOR_EACH(node, task_list()) {
        struct task *task = CONTAINER_OF(node, struct task, all_node);
        if (task->state == TASK_STATE_BLOCKED && task->wait_deadline &&
            (earliest == 0 || task->wait_deadline < earliest))
            earliest = task->wait_deadline;
    }
    return earliest;
}

static void expire_deadlines(uint64_t now)
{
    LIST_FOR_EACH(node, task_list()) {
        struct task *task = CONTAINER_OF(node, struct task, all_node);
        if (task->state == TASK_STATE_BLOCKED && task->wait_deadline && task->wait_deadline <= now)
            task_wake(task);
    }
}

static struct list_node *task_list(void) { return task_all_list(); }
