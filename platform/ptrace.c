/* platform/ptrace.c: the ptrace platform: every stub thread runs under PTRACE_SYSEMU, so each application
 * syscall stops it and the Sentry answers by setting registers; mapping changes are injected at the trampoline. */
#include "platform/internal.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PTRACE_SYSEMU
#define PTRACE_SYSEMU 31
#endif

struct platform_context {
    pid_t tid;
    void *user;
    struct platform_address_space *space;
    struct platform_context *next;  /* in the tid list */
};

struct platform_address_space {
    pid_t pid;
    struct platform_context *thread;  /* the first thread */
    pid_t injection_tid;              /* a stopped thread that mapping changes go through */
};

static int host_memory_fd = -1;
static pid_t template_pid = -1;
static int child_signal_fd = -1;
static struct platform_context *contexts;  /* every live stub thread, to map a waitpid tid back */

static struct platform_context *context_by_tid(pid_t tid)
{
    for (struct platform_context *context = contexts; context; context = context->next)
        if (context->tid == tid)
            return context;
    return NULL;
}

static void context_forget(struct platform_context *gone)
{
    for (struct platform_context **link = &contexts; *link; link = &(*link)->next) {
        if (*link == gone) {
            *link = gone->next;
            return;
        }
    }
}

/* The template keeps only the memory file, at its fixed fd. */
static int template_prepare(void *argument)
{
    (void)argument;
    if (host_memory_fd != STUB_MEMORY_FD && dup2(host_memory_fd, STUB_MEMORY_FD) < 0)
        return -1;
    syscall(SYS_close_range, STUB_MEMORY_FD + 1, ~0U, 0);
    if (STUB_MEMORY_FD > 2)
        syscall(SYS_close_range, 0, STUB_MEMORY_FD - 1, 0);
    return 0;
}

/* The first stub, under the stub seccomp filter; new stubs are forks of it, so they start clean. */
static int template_create(void)
{
    return stub_template_create("ptrace", template_prepare, NULL, STUB_CODE_ADDRESS + STUB_FILTER_HEADER_OFFSET,
                                &template_pid);
}

static int ptrace_initialize(int memory_fd)
{
    host_memory_fd = memory_fd;
    int error = stub_page_install();
    if (error < 0) {
        log_error("ptrace: cannot map the trampoline at %#llx: %s", STUB_CODE_ADDRESS, strerror(-error));
        return error;
    }
    sigset_t child_signals;
    sigemptyset(&child_signals);
    sigaddset(&child_signals, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &child_signals, NULL) < 0)
        return -errno;
    child_signal_fd = signalfd(-1, &child_signals, SFD_CLOEXEC | SFD_NONBLOCK);
    if (child_signal_fd < 0)
        return -errno;
    return template_create();
}

static int ptrace_address_space_new(struct platform_address_space **out, struct platform_context **first_thread)
{
    pid_t child = -1;
    int error = stub_spawn_stopped(template_pid, SYS_fork, 0, 0, &child);
    if (error < 0)
        return error;
    struct platform_address_space *space = xcalloc(1, sizeof(*space));
    struct platform_context *context = xcalloc(1, sizeof(*context));
    space->pid = child;
    space->thread = context;
    space->injection_tid = child;
    context->tid = child;
    context->space = space;
    context->next = contexts;
    contexts = context;
    *out = space;
    *first_thread = context;
    return 0;
}

static void reap_thread(pid_t tid)
{
    int status;
    while (waitpid(tid, &status, __WALL) < 0 && errno == EINTR)
        ;
}

static void ptrace_address_space_destroy(struct platform_address_space *space)
{
    if (!space)
        return;
    if (space->pid > 0)
        kill(space->pid, SIGKILL);
    /* A traced group leader is reported only after its other threads: reap those first. */
    for (struct platform_context **link = &contexts; *link;) {
        struct platform_context *context = *link;
        if (context->space == space && context != space->thread) {
            if (space->pid > 0)
                reap_thread(context->tid);
            *link = context->next;
            free(context);
        } else {
            link = &context->next;
        }
    }
    if (space->pid > 0)
        reap_thread(space->pid);
    if (space->thread) {
        context_forget(space->thread);
        free(space->thread);
    }
    free(space);
}

static int ptrace_thread_new(struct platform_context *creator, struct platform_context **out)
{
    const uint64_t flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
    pid_t tid = -1;
    int error = stub_spawn_stopped(creator->tid, SYS_clone, flags, 0, &tid);
    if (error < 0)
        return error;
    struct platform_context *context = xcalloc(1, sizeof(*context));
    context->tid = tid;
    context->space = creator->space;
    context->next = contexts;
    contexts = context;
    *out = context;
    return 0;
}

static void ptrace_thread_exit(struct platform_context *context)
{
    struct platform_address_space *space = context->space;
    if (space->injection_tid == context->tid)
        space->injection_tid = space->pid;
    struct user_regs_struct registers;
    if (ptrace(PTRACE_GETREGS, context->tid, 0, &registers) == 0) {
        registers.rip = STUB_SYSCALL_ADDRESS;
        registers.rax = SYS_exit;
        registers.orig_rax = (uint64_t)-1;
        registers.rdi = 0;
        if (ptrace(PTRACE_SETREGS, context->tid, 0, &registers) == 0 && ptrace(PTRACE_CONT, context->tid, 0, 0) == 0)
            reap_thread(context->tid);
    }
    context_forget(context);
    if (context == space->thread)
        space->thread = NULL;  /* the leader's host thread is gone; the process lives on in the others */
    free(context);
}

static void ptrace_address_space_use_thread(struct platform_address_space *space, struct platform_context *stopped)
{
    if (stopped && stopped->space == space)
        space->injection_tid = stopped->tid;
}

static int ptrace_map(struct platform_address_space *space, uint64_t address, uint64_t length, int protection,
                      uint64_t file_offset)
{
    long result = stub_inject_syscall(space->injection_tid, SYS_mmap, address, length, (uint64_t)protection,
                                 MAP_SHARED | MAP_FIXED, STUB_MEMORY_FD, file_offset, NULL);
    if (result < 0 && result > -4096)
        return (int)result;
    return 0;
}

static int ptrace_unmap(struct platform_address_space *space, uint64_t address, uint64_t length)
{
    long result = stub_inject_syscall(space->injection_tid, SYS_munmap, address, length, 0, 0, 0, 0, NULL);
    return result < 0 ? (int)result : 0;
}

static int ptrace_protect(struct platform_address_space *space, uint64_t address, uint64_t length, int protection)
{
    long result = stub_inject_syscall(space->injection_tid, SYS_mprotect, address, length, (uint64_t)protection, 0, 0, 0, NULL);
    return result < 0 ? (int)result : 0;
}

static int ptrace_get_registers(struct platform_context *context, struct platform_registers *registers)
{
    if (ptrace(PTRACE_GETREGS, context->tid, 0, &registers->general) < 0)
        return -errno;
    if (ptrace(PTRACE_GETFPREGS, context->tid, 0, &registers->floating_point) < 0)
        return -errno;
    registers->floating_point_valid = true;
    return 0;
}

static int ptrace_set_registers(struct platform_context *context, const struct platform_registers *registers)
{
    if (ptrace(PTRACE_SETREGS, context->tid, 0, &registers->general) < 0)
        return -errno;
    if (registers->floating_point_valid &&
        ptrace(PTRACE_SETFPREGS, context->tid, 0, &registers->floating_point) < 0)
        return -errno;
    return 0;
}

static int ptrace_resume(struct platform_context *context)
{
    if (ptrace(PTRACE_SYSEMU, context->tid, 0, 0) < 0)
        return -errno;
    return 0;
}

static int ptrace_interrupt(struct platform_context *context)
{
    if (syscall(SYS_tgkill, context->space->pid, context->tid, SIGSTOP) < 0)
        return -errno;
    return 0;
}

static void ptrace_context_destroy(struct platform_context *context) { (void)context; }
static void *ptrace_context_user(struct platform_context *context) { return context->user; }
static void ptrace_context_set_user(struct platform_context *context, void *user) { context->user = user; }
static int ptrace_event_fd(void) { return child_signal_fd; }

static int ptrace_collect_stop(struct platform_context **context_out, struct platform_stop *stop)
{
    struct signalfd_siginfo drained;
    while (read(child_signal_fd, &drained, sizeof(drained)) == sizeof(drained))
        ;
    for (;;) {
        int status;
        pid_t tid = waitpid(-1, &status, __WALL | WNOHANG);
        if (tid == 0)
            return 0;
        if (tid < 0)
            return errno == ECHILD ? 0 : -errno;
        struct platform_context *context = context_by_tid(tid);
        if (!context)
            continue;  /* a stub already destroyed, or the template */
        memset(stop, 0, sizeof(*stop));
        *context_out = context;
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
            stop->kind = PLATFORM_STOP_EXITED;
            context_forget(context);
            context->space->pid = -1;
            return 1;
        }
        if (!WIFSTOPPED(status))
            continue;
        int signal = WSTOPSIG(status);
        if (signal == (SIGTRAP | 0x80)) {
            stop->kind = PLATFORM_STOP_SYSCALL;
            return 1;
        }
        if (status >> 16) {
            /* A ptrace event we did not ask this stub for: let it go on. */
            ptrace(PTRACE_SYSEMU, tid, 0, 0);
            continue;
        }
        siginfo_t info;
        if (ptrace(PTRACE_GETSIGINFO, tid, 0, &info) == 0 && info.si_code > 0 &&
            (signal == SIGSEGV || signal == SIGBUS || signal == SIGFPE || signal == SIGILL || signal == SIGTRAP)) {
            stop->kind = PLATFORM_STOP_FAULT;
            stop->fault = info;
            return 1;
        }
        stop->kind = PLATFORM_STOP_INTERRUPT;
        return 1;
    }
}

static pid_t ptrace_host_process(struct platform_address_space *space) { return space->pid; }

const struct platform_ops platform_ptrace_ops = {
    .name = "ptrace",
    .initialize = ptrace_initialize,
    .address_space_new = ptrace_address_space_new,
    .address_space_destroy = ptrace_address_space_destroy,
    .map = ptrace_map,
    .unmap = ptrace_unmap,
    .protect = ptrace_protect,
    .get_registers = ptrace_get_registers,
    .set_registers = ptrace_set_registers,
    .resume = ptrace_resume,
    .interrupt = ptrace_interrupt,
    .context_destroy = ptrace_context_destroy,
    .thread_new = ptrace_thread_new,
    .thread_exit = ptrace_thread_exit,
    .address_space_use_thread = ptrace_address_space_use_thread,
    .context_user = ptrace_context_user,
    .context_set_user = ptrace_context_set_user,
    .event_fd = ptrace_event_fd,
    .collect_stop = ptrace_collect_stop,
    .host_process = ptrace_host_process,
};

const struct platform_ops *platform_by_name(const char *name)
{
    if (strcmp(name, "ptrace") == 0)
        return &platform_ptrace_ops;
    if (strcmp(name, "seccomp-trap") == 0 || strcmp(name, "systrap") == 0)
        return &platform_seccomp_trap_ops;
    return NULL;
}
