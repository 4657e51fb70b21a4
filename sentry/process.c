/* sentry/process.c: the life of processes: clone (fork, vfork), execve with #! scripts, exit and exit_group,
 * zombies, reparenting, and wait4/waitid. */
#include "sentry/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "syscalls/syscalls.h"

#define SCRIPT_NESTING_MAXIMUM 4

/* POSIX record locks belong to the process: they go when it exits, or when it closes any fd of the file
 * (close-on-exec fds at execve included). */
static void release_posix_locks(struct vfs_fd_table *table, int32_t owner, bool only_close_on_exec)
{
    for (int fd = vfs_fd_next_open(table, 0); fd >= 0; fd = vfs_fd_next_open(table, fd + 1)) {
        if (only_close_on_exec && vfs_fd_get_close_on_exec(table, fd) != 1)
            continue;
        struct vfs_file *file = vfs_fd_get(table, fd);
        if (file) {
            vfs_posix_locks_release(file, owner);
            vfs_file_put(file);
        }
    }
}

static void task_release_resources(struct task *task)
{
    if (task->state == TASK_STATE_DEAD)
        return;
    if (task->state == TASK_STATE_RUNNABLE)
        list_remove(&task->run_node);
    task_cancel_waits(task);
    futex_release_robust_list(task);
    if (task->fds) {
        if (task->group->live_threads <= 1)
            release_posix_locks(task->fds, task->group->tgid, false);
        vfs_fd_table_put(task->fds);
        task->fds = NULL;
    }
    if (task->fs) {
        fs_state_put(task->fs);
        task->fs = NULL;
    }
    signal_queue_clear(&task->signals);
    task->state = TASK_STATE_DEAD;
    task->group->live_threads--;
}

void task_finish_vfork(struct thread_group *group)
{
    struct task *parent = group->vfork_parent;
    if (!parent)
        return;
    group->vfork_parent = NULL;
    /* A CLONE_VM child borrowed the parent's stub thread: hand it back, with the parent's registers. */
    if (parent->state != TASK_STATE_DEAD) {
        sentry_platform->context_set_user(parent->context, parent);
        parent->registers_dirty = true;
    }
    wait_queue_notify(&group->vfork_done, POLLIN);
}

static int wait_status_signal(int status) { return status & 0x7f; }

void thread_group_exit(struct thread_group *group, int status)
{
    if (group->exiting)
        return;
    group->exiting = true;
    group->wait_status = status;
    LIST_FOR_EACH(node, &group->threads)
        task_release_resources(CONTAINER_OF(node, struct task, group_node));
    task_finish_vfork(group);
    if (group->mm) {
        process_cpu_time_settle(group);
        mm_put(group->mm);
        group->mm = NULL;
    }
    signal_queue_clear(&group->signals);
    process_timers_release(group, false);
    ipc_process_exit(group);
    group->zombie = true;
    if (group->pidfd)
        vfs_pidfd_process_exited(group->pidfd);  /* its pidfds poll readable from now on */

    /* Children are reparented to pid 1; zombies among them are its to reap now. */
    struct thread_group *init = thread_group_by_tgid(1);
    LIST_FOR_EACH_SAFE(node, next, &group->children) {
        struct thread_group *child = CONTAINER_OF(node, struct thread_group, sibling_node);
        list_remove(&child->sibling_node);
        child->parent = init != group ? init : NULL;
        if (child->parent) {
            list_insert_tail(&init->children, &child->sibling_node);
            if (child->zombie)
                wait_queue_notify(&init->child_exit, POLLIN);
        } else if (child->zombie) {
            loop_defer_release(child);
        }
    }

    if (group->exit_observer)
        group->exit_observer(group);
    struct thread_group *parent = group->parent;
    if (!parent || parent->zombie)
        return;
    const struct kernel_sigaction *action = &parent->handlers->actions[SIGCHLD - 1];
    bool auto_reap = group->exit_signal == SIGCHLD &&
                     (action->handler == (uint64_t)SIG_IGN || (action->flags & SA_NOCLDWAIT));
    if (group->exit_signal > 0) {
        siginfo_t info = {.si_signo = group->exit_signal};
        info.si_pid = group->tgid;
        info.si_uid = 0;
        if (wait_status_signal(status)) {
            info.si_code = (status & 0x80) ? CLD_DUMPED : CLD_KILLED;
            info.si_status = wait_status_signal(status);
        } else {
            info.si_code = CLD_EXITED;
            info.si_status = (status >> 8) & 0xff;
        }
        signal_send_to_group(parent, &info);
    }
    wait_queue_notify(&parent->child_exit, POLLIN);
    if (auto_reap) {
        list_remove(&group->sibling_node);
        loop_defer_release(group);
    }
}

void task_exit(struct task *task, int code)
{
    /* The last thread's exit is its group's. */
    if (task->group->live_threads <= 1) {
        thread_group_exit(task->group, (code & 0xff) << 8);
        return;
    }
    /* CLONE_CHILD_CLEARTID: pthread_join waits on this word. */
    if (task->clear_child_tid && task->group->mm) {
        int32_t zero = 0;
        if (task_copy_out(task, task->clear_child_tid, &zero, sizeof(zero)) == 0)
            futex_wake_address(task, task->clear_child_tid, 1);
    }
    struct platform_context *context = task->context;
    task_release_resources(task);
    task->context = NULL;
    if (context && sentry_platform->thread_exit)
        sentry_platform->thread_exit(context);
}

/* ---- clone ---- */

static struct task *new_child_task(struct task *parent, struct thread_group *group, struct platform_context *context,
                                   uint64_t flags)
{
    struct task *child = task_new(group, context);
    child->tid = group->tgid;
    task_load_floating_point(parent);  /* the child starts with the parent's FPU state too */
    child->registers = parent->registers;
    child->registers_dirty = true;
    child->signal_mask = parent->signal_mask;
    child->alternate_stack = parent->alternate_stack;
    child->credentials = parent->credentials;
    task_scheduling_inherit(&child->scheduling, &parent->scheduling);
    memcpy(child->name, parent->name, sizeof(child->name));
    if (flags & CLONE_FILES) {
        vfs_fd_table_get(parent->fds);
        child->fds = parent->fds;
    } else {
        child->fds = vfs_fd_table_clone(parent->fds);
    }
    if (flags & CLONE_FS) {
        parent->fs->references++;
        child->fs = parent->fs;
    } else {
        child->fs = fs_state_clone(parent->fs);
    }
    return child;
}

/* A new thread in the caller's group: its own host thread in the same stub, sharing the address space. */
static long clone_thread(struct task *task, uint64_t flags, uint64_t stack, uint64_t parent_tid_address,
                         uint64_t child_tid_address, uint64_t tls)
{
    if (!(flags & CLONE_VM))
        return -EINVAL;
    if (!sentry_platform->thread_new)
        return -EINVAL;
    int32_t tid = pid_allocate();
    if (tid < 0)
        return tid;
    struct platform_context *context;
    int error = sentry_platform->thread_new(task->context, &context);
    if (error < 0) {
        log_error("cannot create a host thread for a new application thread: %s", strerror(-error));
        return -EAGAIN;
    }
    struct task *child = new_child_task(task, task->group, context, flags);
    task->group->ever_multithreaded = true;  /* its CPU time is no longer one thread's */
    child->tid = tid;
    struct user_regs_struct *registers = &child->registers.general;
    registers->rax = 0;
    if (stack)
        registers->rsp = stack;
    if (flags & CLONE_SETTLS)
        registers->fs_base = tls;
    if (flags & CLONE_PARENT_SETTID)
        task_copy_out(task, parent_tid_address, &tid, sizeof(tid));
    if (flags & CLONE_CHILD_SETTID)
        task_copy_out(task, child_tid_address, &tid, sizeof(tid));
    if (flags & CLONE_CHILD_CLEARTID)
        child->clear_child_tid = child_tid_address;
    loop_make_runnable(child);
    return tid;
}

long process_clone(struct task *task, uint64_t flags, uint64_t stack, uint64_t parent_tid_address,
                   uint64_t child_tid_address, uint64_t tls)
{
    /* Re-run after a vfork wait: report the child once it has exec'd or exited. */
    if (task_syscall_is_restarted(task) && task_syscall_restart_state(task)[0]) {
        int32_t child_pid = (int32_t)task_syscall_restart_state(task)[0];
        struct thread_group *child = thread_group_by_tgid(child_pid);
        if (child && child->vfork_parent == task)
            return task_wait_queue(task, &child->vfork_done, POLLIN);
        return child_pid;
    }
    const uint64_t supported = CSIGNAL | CLONE_VM | CLONE_VFORK | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
                               CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | CLONE_SETTLS |
                               CLONE_DETACHED | CLONE_THREAD | CLONE_SYSVSEM;
    if (flags & ~supported)
        return -EINVAL;  /* threads and namespaces are not supported yet */
    if ((flags & CLONE_SIGHAND) && !(flags & CLONE_VM))
        return -EINVAL;
    if ((flags & CLONE_THREAD) && !(flags & CLONE_SIGHAND))
        return -EINVAL;
    if (flags & CLONE_THREAD)
        return clone_thread(task, flags, stack, parent_tid_address, child_tid_address, tls);
    if ((flags & CLONE_VM) && !(flags & CLONE_VFORK))
        return -EINVAL;  /* sharing memory with a running process needs several stubs per address space */
    int exit_signal = (int)(flags & CSIGNAL);
    if (exit_signal > 64)
        return -EINVAL;
    int32_t pid = pid_allocate();
    if (pid < 0)
        return pid;

    struct thread_group *parent_group = task->group;
    struct mm *mm;
    struct platform_context *context;
    if (flags & CLONE_VM) {
        /* vfork: run the child on the parent's own stub thread; the parent waits until it execs or exits. */
        mm = parent_group->mm;
        mm_get(mm);
        context = task->context;
    } else {
        mm = mm_fork(parent_group->mm);
        if (!mm)
            return -ENOMEM;
        context = mm->stub_thread;
    }
    struct thread_group *group = thread_group_new(parent_group, mm);
    group->tgid = pid;
    group->exit_signal = exit_signal;
    group->handlers = (flags & CLONE_SIGHAND) ? parent_group->handlers : signal_handlers_clone(parent_group->handlers);
    if (flags & CLONE_SIGHAND)
        group->handlers->references++;
    struct task *child = new_child_task(task, group, context, flags);

    struct user_regs_struct *registers = &child->registers.general;
    registers->rax = 0;
    if (stack)
        registers->rsp = stack;
    if (flags & CLONE_SETTLS)
        registers->fs_base = tls;
    if (flags & CLONE_PARENT_SETTID) {
        int32_t tid = pid;
        if (task_copy_out(task, parent_tid_address, &tid, sizeof(tid)) < 0) {
            /* Linux has already created the child; it still gets the fault as EFAULT here. */
        }
    }
    if (flags & CLONE_CHILD_SETTID) {
        int32_t tid = pid;
        mm_copy_out(mm, child_tid_address, &tid, sizeof(tid), false);
    }
    if (flags & CLONE_CHILD_CLEARTID)
        child->clear_child_tid = child_tid_address;

    if (flags & CLONE_VFORK) {
        group->vfork_parent = task;
        if (flags & CLONE_VM) {
            sentry_platform->context_set_user(context, child);
            /* The child's floating-point state is the parent's; loaded when it first runs. */
        }
        loop_make_runnable(child);
        task_syscall_restart_state(task)[0] = (uint64_t)pid;
        return task_wait_queue(task, &group->vfork_done, POLLIN);
    }
    loop_make_runnable(child);
    return pid;
}

/* ---- execve ---- */

/* "#!interpreter [argument]" on the first line: rewrite argv as Linux's binfmt_script does. */
static int parse_script(struct vfs_file *file, char **interpreter, char **argument)
{
    char line[256];
    ssize_t got = vfs_pread(file, line, sizeof(line) - 1, 0);
    if (got < 2 || line[0] != '#' || line[1] != '!')
        return 0;
    line[got] = '\0';
    char *end = strchr(line, '\n');
    if (!end) {
        if (got == (ssize_t)sizeof(line) - 1)
            return -ENOEXEC;  /* the interpreter line does not fit */
        end = line + got;
    }
    *end = '\0';
    char *cursor = line + 2;
    while (*cursor == ' ' || *cursor == '\t')
        cursor++;
    if (*cursor == '\0')
        return -ENOEXEC;
    char *name_end = cursor + strcspn(cursor, " \t");
    char *rest = name_end;
    if (*rest) {
        *rest++ = '\0';
        while (*rest == ' ' || *rest == '\t')
            rest++;
        size_t length = strlen(rest);
        while (length > 0 && (rest[length - 1] == ' ' || rest[length - 1] == '\t'))
            rest[--length] = '\0';
    }
    *interpreter = xstrdup(cursor);
    *argument = *rest ? xstrdup(rest) : NULL;
    return 1;
}

static char **prepend_arguments(char **argv, const char *interpreter, const char *argument, const char *path)
{
    size_t count = 0;
    while (argv[count])
        count++;
    char **result = xcalloc(count + 4, sizeof(char *));
    size_t at = 0;
    result[at++] = xstrdup(interpreter);
    if (argument)
        result[at++] = xstrdup(argument);
    result[at++] = xstrdup(path);
    for (size_t i = 1; i < count; i++)
        result[at++] = xstrdup(argv[i]);
    result[at] = NULL;
    return result;
}

static size_t array_length(char **array)
{
    size_t count = 0;
    while (array[count])
        count++;
    return count;
}

long process_execve(struct task *task, const char *path, char **argv, char **envp)
{
    return process_execve_at(task, NULL, path, path, 0, false, argv, envp);
}

long process_execve_at(struct task *task, struct vfs_file *dir, const char *path, const char *name, int at_flags,
                       bool path_inaccessible, char **argv, char **envp)
{
    struct vfs_context ctx;
    task_vfs_context(task, &ctx);
    char **owned_argv = NULL;
    char *current_path = xstrdup(name);
    struct vfs_file *file = NULL;
    long error = 0;
    for (int nesting = 0;; nesting++) {
        /* The first program is found from dir with execveat's flags; interpreters by plain path. */
        if (nesting == 0)
            error = vfs_open_for_exec_at(&ctx, dir, path, at_flags, &file);
        else
            error = vfs_open_for_exec(&ctx, current_path, &file);
        if (error < 0)
            break;
        char *interpreter = NULL, *argument = NULL;
        int script = parse_script(file, &interpreter, &argument);
        if (script <= 0) {
            error = script;
            break;
        }
        vfs_file_put(file);
        file = NULL;
        if (nesting == 0 && path_inaccessible) {
            /* The interpreter would be given /dev/fd/N of a close-on-exec fd it cannot open (binfmt_script). */
            free(interpreter);
            free(argument);
            error = -ENOENT;
            break;
        }
        if (nesting >= SCRIPT_NESTING_MAXIMUM) {
            free(interpreter);
            free(argument);
            error = -ELOOP;
            break;
        }
        char **rewritten = prepend_arguments(owned_argv ? owned_argv : argv, interpreter, argument, current_path);
        string_array_free(owned_argv);
        owned_argv = rewritten;
        free(current_path);
        current_path = interpreter;
        free(argument);
    }
    if (error < 0) {
        if (file)
            vfs_file_put(file);
        string_array_free(owned_argv);
        free(current_path);
        return error;
    }
    char **final_argv = owned_argv ? owned_argv : argv;

    struct mm *mm = mm_new();
    if (!mm) {
        vfs_file_put(file);
        string_array_free(owned_argv);
        free(current_path);
        return -ENOMEM;
    }
    struct exec_image image;
    /* AT_EXECFN and /proc/PID/exe name the path the caller gave, as Linux does. */
    error = elf_load(task, file, name, final_argv, array_length(final_argv), envp, array_length(envp), mm, &image);
    vfs_file_put(file);
    free(current_path);
    if (error < 0) {
        string_array_free(owned_argv);
        mm_put(mm);
        return error;
    }

    /* Point of no return: the new image replaces the old, and every other thread of the group is gone
     * (their host threads die with the old stub); the execing thread takes the group's id. */
    struct thread_group *group = task->group;
    LIST_FOR_EACH(node, &group->threads) {
        struct task *other = CONTAINER_OF(node, struct task, group_node);
        if (other != task)
            task_release_resources(other);
    }
    futex_release_robust_list(task); /* its list lives in the image that goes */
    task->tid = group->tgid;
    struct mm *old = group->mm;
    process_cpu_time_settle(group);  /* the old stub's CPU time stays the process's */
    group->mm = mm;
    task->context = mm->stub_thread;
    sentry_platform->context_set_user(task->context, task);
    task_finish_vfork(group);
    mm_put(old);

    release_posix_locks(task->fds, group->tgid, true);
    vfs_fd_table_close_on_exec(task->fds);
    process_timers_release(group, true);
    if (group->handlers->references > 1) {
        struct signal_handlers *own = signal_handlers_clone(group->handlers);
        signal_handlers_put(group->handlers);
        group->handlers = own;
    }
    signal_handlers_reset_on_exec(group->handlers);
    memset(&task->alternate_stack, 0, sizeof(task->alternate_stack));
    task->alternate_stack.ss_flags = SS_DISABLE;
    const char *base = strrchr(name, '/');
    snprintf(task->name, sizeof(task->name), "%s", base ? base + 1 : name);
    string_array_free(owned_argv);

    /* Fresh registers: the new stub's clean state, then the entry point and stack. */
    int failed = sentry_platform->get_registers(task->context, &task->registers);
    if (failed < 0) {
        thread_group_exit(group, SIGKILL);
        return -SENTRY_EJUSTRETURN;
    }
    struct user_regs_struct *registers = &task->registers.general;
    unsigned long long cs = registers->cs, ss = registers->ss, ds = registers->ds, es = registers->es;
    memset(registers, 0, sizeof(*registers));
    registers->cs = cs;
    registers->ss = ss;
    registers->ds = ds;
    registers->es = es;
    registers->rip = image.entry;
    registers->rsp = image.stack_pointer;
    registers->eflags = 0x202;
    registers->orig_rax = (uint64_t)-1;
    task->registers_dirty = true;
    return -SENTRY_EJUSTRETURN;
}

/* ---- wait ---- */

static bool child_matches(const struct thread_group *caller, const struct thread_group *child, int32_t pid,
                          int options)
{
    if (pid > 0 && child->tgid != pid)
        return false;
    if (pid == 0 && child->process_group != caller->process_group)
        return false;
    if (pid < -1 && child->process_group != -pid)
        return false;
    /* __WCLONE selects children whose exit signal is not SIGCHLD; __WALL takes both. */
    bool clone_child = child->exit_signal != SIGCHLD;
    if (!(options & __WALL) && clone_child != !!(options & __WCLONE))
        return false;
    return true;
}

/* wait's WUNTRACED/WSTOPPED and WCONTINUED: a live child's stop or continue, reported once (unless WNOWAIT).
 * Its pid, 0 when there is nothing to report, or -EFAULT. */
static long report_job_change(struct task *task, struct thread_group *child, uint64_t status_address, int options,
                              siginfo_t *waitid_info, bool is_waitid)
{
    bool stop = (options & WUNTRACED) && child->stopped && child->stop_unreported; /* WUNTRACED == WSTOPPED */
    bool continued = !stop && (options & WCONTINUED) && child->continue_unreported;
    if (!stop && !continued)
        return 0;
    int status = stop ? (child->stop_signal << 8) | 0x7f : 0xffff;
    if (is_waitid) {
        memset(waitid_info, 0, sizeof(*waitid_info));
        waitid_info->si_signo = SIGCHLD;
        waitid_info->si_pid = child->tgid;
        waitid_info->si_uid = 0;
        waitid_info->si_code = stop ? CLD_STOPPED : CLD_CONTINUED;
        waitid_info->si_status = stop ? child->stop_signal : SIGCONT;
    } else if (status_address && task_copy_out(task, status_address, &status, sizeof(status)) < 0) {
        return -EFAULT;
    }
    if (!(is_waitid && (options & WNOWAIT))) {
        if (stop)
            child->stop_unreported = false;
        else
            child->continue_unreported = false;
    }
    return child->tgid;
}

long process_wait(struct task *task, int32_t pid, uint64_t status_address, int options, uint64_t rusage_address,
                  siginfo_t *waitid_info, bool is_waitid)
{
    if (pid == INT32_MIN)
        return -ESRCH;
    struct thread_group *caller = task->group;
    bool any = false;
    LIST_FOR_EACH(node, &caller->children) {
        struct thread_group *child = CONTAINER_OF(node, struct thread_group, sibling_node);
        if (!child_matches(caller, child, pid, options))
            continue;
        any = true;
        if (!child->zombie) {
            long reported = report_job_change(task, child, status_address, options, waitid_info, is_waitid);
            if (reported != 0)
                return reported;
            continue;
        }
        if (is_waitid && !(options & WEXITED))
            continue;
        int32_t child_pid = child->tgid;
        int status = child->wait_status;
        if (is_waitid) {
            memset(waitid_info, 0, sizeof(*waitid_info));
            waitid_info->si_signo = SIGCHLD;
            waitid_info->si_pid = child_pid;
            waitid_info->si_uid = 0;
            if (status & 0x7f) {
                waitid_info->si_code = (status & 0x80) ? CLD_DUMPED : CLD_KILLED;
                waitid_info->si_status = status & 0x7f;
            } else {
                waitid_info->si_code = CLD_EXITED;
                waitid_info->si_status = (status >> 8) & 0xff;
            }
        } else if (status_address && task_copy_out(task, status_address, &status, sizeof(status)) < 0) {
            return -EFAULT;
        }
        if (rusage_address) {
            struct rusage usage;
            memset(&usage, 0, sizeof(usage));
            uint64_t user, system;
            process_cpu_time_total(child, &user, &system);
            usage.ru_utime = (struct timeval){(time_t)(user / 1000000000ULL), (suseconds_t)(user % 1000000000ULL / 1000)};
            usage.ru_stime = (struct timeval){(time_t)(system / 1000000000ULL), (suseconds_t)(system % 1000000000ULL / 1000)};
            if (task_copy_out(task, rusage_address, &usage, sizeof(usage)) < 0)
                return -EFAULT;
        }
        if (!(is_waitid && (options & WNOWAIT))) {
            process_cpu_time_reaped(caller, child);
            list_remove(&child->sibling_node);
            loop_defer_release(child);
        }
        return child_pid;
    }
    if (!any)
        return -ECHILD;
    if (options & WNOHANG) {
        if (is_waitid)
            memset(waitid_info, 0, sizeof(*waitid_info));
        return 0;
    }
    return task_wait_queue(task, &caller->child_exit, POLLIN);
}
